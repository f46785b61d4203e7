//! Small text helpers used for validation and search keys.

use crate::DomainError;

/// Trims a required text field and checks its length in characters.
pub fn required(field: &str, value: &str, max_chars: usize) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(field, format!("{field} is required")));
    }
    limit(field, v, max_chars)
}

/// Trims an optional text field; empty becomes `None`.
pub fn optional(field: &str, value: Option<&str>, max_chars: usize) -> Result<Option<String>, DomainError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => limit(field, v, max_chars).map(Some),
    }
}

fn limit(field: &str, v: &str, max_chars: usize) -> Result<String, DomainError> {
    if v.chars().count() > max_chars {
        return Err(DomainError::invalid(field, format!("{field} is longer than {max_chars} characters")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(DomainError::invalid(field, format!("{field} contains control characters")));
    }
    Ok(v.to_string())
}

/// A lowercase search key: used to match names case-insensitively in both backends.
pub fn search_key(parts: &[&str]) -> String {
    let mut out = String::new();
    for p in parts {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(p.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Validates a slug (tenant identifiers in URLs and CLI flags).
pub fn slug(field: &str, value: &str) -> Result<String, DomainError> {
    let v = value.trim();
    let ok = !v.is_empty()
        && v.len() <= 63
        && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.starts_with('-')
        && !v.ends_with('-');
    if ok {
        Ok(v.to_string())
    } else {
        Err(DomainError::invalid(field, format!("{field} must be 1-63 lowercase letters, digits or '-'")))
    }
}

/// Basic e-mail shape check (one '@', a dot in the domain, no spaces).
pub fn email(field: &str, value: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(v) = optional(field, value, 254)? else { return Ok(None) };
    let mut parts = v.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(DomainError::invalid(field, format!("{field} is not an e-mail address")));
    };
    if local.is_empty() || !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') || v.contains(' ')
    {
        return Err(DomainError::invalid(field, format!("{field} is not an e-mail address")));
    }
    Ok(Some(v.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_trims_and_rejects_empty() {
        assert_eq!(required("name", "  张伟 ", 10).ok(), Some("张伟".to_string()));
        assert!(required("name", "   ", 10).is_err());
        assert!(required("name", "abcdef", 3).is_err());
        assert!(required("name", "a\u{0}b", 10).is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(email("e", Some("A@B.cn")).ok().flatten(), Some("a@b.cn".into()));
        assert!(email("e", Some("nope")).is_err());
        assert!(email("e", Some("a@b@c.cn")).is_err());
        assert_eq!(email("e", Some("")).ok().flatten(), None);
    }

    #[test]
    fn slugs() {
        assert!(slug("s", "demo-hospital").is_ok());
        assert!(slug("s", "Demo").is_err());
        assert!(slug("s", "-x").is_err());
    }

    #[test]
    fn search_key_lowercases() {
        assert_eq!(search_key(&["Zhang Wei", "", "张伟"]), "zhang wei 张伟");
    }
}
