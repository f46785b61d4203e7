//! SMS through an HTTP provider described by configuration: the method, a URL, headers and a
//! body template with `{{phone}}`, `{{text}}` and `{{sign}}` placeholders, and a rule telling
//! success from failure.

use crate::{ConfigError, SendError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use url::Url;

/// The HTTP method of the provider's send API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SmsMethod {
    #[default]
    Post,
    Put,
    Get,
}

/// How the body template is filled in and sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsBodyFormat {
    /// `application/json`; values are JSON-escaped, so write `"mobile": "{{phone}}"`.
    #[default]
    Json,
    /// `application/x-www-form-urlencoded`; values are form-encoded: `mobile={{phone}}&content={{text}}`.
    Form,
    /// No body (everything is in the URL's query).
    None,
}

/// When the provider accepted a message: an HTTP 2xx answer and, when `json_field` is set, that
/// field of the JSON answer (a dotted path such as `result.code` or `data.0.status`) equal to
/// `equals` (compared as text: `0`, `true` and `"OK"` are written `0`, `true` and `OK`), or, with no
/// `equals`, present and not `false`, `null`, `0` or empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SmsSuccess {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
}

/// An SMS provider's HTTP API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsProvider {
    #[serde(default)]
    pub method: SmsMethod,
    /// The API's URL; placeholders may appear in its path and query (URL-encoded when filled).
    pub url: String,
    /// Fixed request headers, such as an API key.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub format: SmsBodyFormat,
    /// The body template.
    #[serde(default)]
    pub body: String,
    /// The sender signature the provider requires, such as `【某某医院】`; `{{sign}}` in templates.
    #[serde(default)]
    pub sign: String,
    #[serde(default)]
    pub success: SmsSuccess,
}

const PLACEHOLDERS: [&str; 3] = ["phone", "text", "sign"];

/// A filled-in request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SmsRequest {
    pub url: Url,
    pub body: Option<(String, &'static str)>,
}

/// Normalises a phone number: spaces, dashes and brackets are dropped; what remains must be an
/// optional `+` and 5 to 20 digits.
pub(crate) fn normalise_phone(phone: &str) -> Option<String> {
    let p: String = phone.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '\u{a0}')).collect();
    let digits = p.strip_prefix('+').unwrap_or(&p);
    ((5..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())).then_some(p)
}

fn check_placeholders(what: &str, template: &str) -> Result<(), ConfigError> {
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(ConfigError::new(format!("the SMS {what} has an unclosed {{{{")));
        };
        let name = after[..end].trim();
        if !PLACEHOLDERS.contains(&name) {
            return Err(ConfigError::new(format!(
                "the SMS {what} uses {{{{{name}}}}}; only {{{{phone}}}}, {{{{text}}}} and {{{{sign}}}} exist"
            )));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push_str(&rest[..start]);
        let name = after[..end].trim();
        match values.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => out.push_str(v),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn url_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

fn json_escaped(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or("").to_string()
}

impl SmsProvider {
    /// Checks the configuration: a valid http(s) URL whose host holds no placeholder, only known
    /// placeholders, header names and values that are valid, and a JSON template that yields
    /// JSON.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_placeholders("URL", &self.url)?;
        check_placeholders("body", &self.body)?;
        for (name, value) in &self.headers {
            let valid_name =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !valid_name {
                return Err(ConfigError::new(format!("{name:?} is not a valid header name")));
            }
            if value.contains(['\r', '\n', '\0']) {
                return Err(ConfigError::new(format!("the value of header {name} contains a line break")));
            }
        }
        if self.method == SmsMethod::Get && self.format != SmsBodyFormat::None {
            return Err(ConfigError::new("a GET request has no body: use format \"none\""));
        }
        if self.sign.contains(['\r', '\n']) {
            return Err(ConfigError::new("the SMS sign contains a line break"));
        }
        let a = self.request("+8613800000000", "测试 \"text\" & more")?;
        let b = self.request("10086", "x")?;
        if a.url.host_str() != b.url.host_str() || a.url.port_or_known_default() != b.url.port_or_known_default() {
            return Err(ConfigError::new("the SMS URL's host must not contain a placeholder"));
        }
        if let Some(field) = &self.success.json_field
            && field.trim().is_empty()
        {
            return Err(ConfigError::new("the success field is empty"));
        }
        Ok(())
    }

    /// The provider's URL with the placeholders filled in with sample values: what to vet with
    /// the outbound policy (the host and port are the same for every message).
    pub fn target_url(&self) -> Result<Url, ConfigError> {
        self.validate()?;
        Ok(self.request("10086", "x")?.url)
    }

    /// Fills in the templates for one message.
    pub(crate) fn request(&self, phone: &str, text: &str) -> Result<SmsRequest, ConfigError> {
        let phone =
            normalise_phone(phone).ok_or_else(|| ConfigError::new(format!("{phone:?} is not a phone number")))?;
        let vals = |enc: fn(&str) -> String| [("phone", enc(&phone)), ("text", enc(text)), ("sign", enc(&self.sign))];
        let raw_url = fill(self.url.trim(), &vals(url_component));
        let url = Url::parse(&raw_url).map_err(|e| ConfigError::new(format!("the SMS URL is not valid: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConfigError::new("the SMS URL must be an http or https URL"));
        }
        let body = match self.format {
            SmsBodyFormat::None => None,
            SmsBodyFormat::Json => {
                let body = fill(&self.body, &vals(json_escaped));
                serde_json::from_str::<Value>(&body)
                    .map_err(|e| ConfigError::new(format!("the SMS body template does not yield JSON: {e}")))?;
                Some((body, "application/json"))
            }
            SmsBodyFormat::Form => {
                let body = fill(&self.body, &vals(|s| url::form_urlencoded::byte_serialize(s.as_bytes()).collect()));
                Some((body, "application/x-www-form-urlencoded"))
            }
        };
        Ok(SmsRequest { url, body })
    }

    /// Judges the answer to a 2xx response.
    pub(crate) fn accepted(&self, body: &[u8]) -> Result<(), SendError> {
        let Some(path) = self.success.json_field.as_deref().map(str::trim).filter(|p| !p.is_empty()) else {
            return Ok(());
        };
        let snippet = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        let v: Value = serde_json::from_slice(body)
            .map_err(|_| SendError::Permanent(format!("the SMS provider did not answer with JSON: {snippet}")))?;
        let mut cur = &v;
        for part in path.split('.') {
            let next = match cur {
                Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => cur.get(part),
            };
            match next {
                Some(n) => cur = n,
                None => {
                    return Err(SendError::Permanent(format!("the SMS provider's answer has no {path}: {snippet}")));
                }
            }
        }
        let text = match cur {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let ok = match self.success.equals.as_deref() {
            Some(expected) => text == expected.trim(),
            None => !matches!(cur, Value::Null | Value::Bool(false)) && text != "0" && !text.is_empty(),
        };
        if ok { Ok(()) } else { Err(SendError::Permanent(format!("the SMS provider refused the message: {snippet}"))) }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn provider() -> SmsProvider {
        serde_json::from_value(serde_json::json!({
            "url": "https://sms.example.com/api/send?token=abc",
            "headers": { "X-Api-Key": "k" },
            "body": "{\"mobile\":\"{{phone}}\",\"content\":\"{{sign}}{{ text }}\"}",
            "sign": "【某医院】",
            "success": { "json_field": "result.code", "equals": "0" }
        }))
        .unwrap()
    }

    #[test]
    fn json_body_is_escaped() {
        let p = provider();
        p.validate().unwrap();
        let r = p.request("+86 138-0013-8000", "您的邮件 \"A1\" 已到\n请取件").unwrap();
        let (body, ct) = r.body.unwrap();
        assert_eq!(ct, "application/json");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["mobile"], "+8613800138000");
        assert_eq!(v["content"], "【某医院】您的邮件 \"A1\" 已到\n请取件");
    }

    #[test]
    fn form_and_url_placeholders_are_encoded() {
        let mut p = provider();
        p.format = SmsBodyFormat::Form;
        p.body = "mobile={{phone}}&content={{text}}".into();
        let (body, _) = p.request("13800138000", "a&b=c 到").unwrap().body.unwrap();
        assert_eq!(body, "mobile=13800138000&content=a%26b%3Dc+%E5%88%B0");
        p.method = SmsMethod::Get;
        p.format = SmsBodyFormat::None;
        p.url = "https://sms.example.com/send?to={{phone}}&msg={{text}}".into();
        p.validate().unwrap();
        let r = p.request("13800138000", "a&b 到").unwrap();
        assert_eq!(r.url.query(), Some("to=13800138000&msg=a%26b%20%E5%88%B0"));
        assert!(r.body.is_none());
    }

    #[test]
    fn bad_configurations_are_refused() {
        let mut p = provider();
        p.body = "{\"m\":\"{{mobile}}\"}".into();
        assert!(p.validate().unwrap_err().0.contains("{{mobile}}"));
        let mut p = provider();
        p.body = "{\"m\":{{phone}}}".into();
        assert!(p.validate().is_err(), "an unquoted placeholder does not yield JSON for every value");
        let mut p = provider();
        p.url = "https://{{phone}}.example.com/".into();
        assert!(p.validate().is_err());
        let mut p = provider();
        p.headers.insert("X-Bad".into(), "a\r\nInjected: 1".into());
        assert!(p.validate().is_err());
        let mut p = provider();
        p.url = "ftp://x.example.com/".into();
        assert!(p.validate().is_err());
        assert!(provider().request("not a phone", "x").is_err());
        assert!(provider().request("123", "x").is_err());
    }

    #[test]
    fn success_rule() {
        let p = provider();
        assert!(p.accepted(br#"{"result":{"code":0}}"#).is_ok());
        assert!(p.accepted(br#"{"result":{"code":"0"}}"#).is_ok());
        assert!(matches!(p.accepted(br#"{"result":{"code":1001}}"#), Err(SendError::Permanent(_))));
        assert!(p.accepted(br#"{"other":1}"#).is_err());
        assert!(p.accepted(b"OK").is_err());
        let mut p = provider();
        p.success = SmsSuccess { json_field: Some("data.0.ok".into()), equals: None };
        assert!(p.accepted(br#"{"data":[{"ok":true}]}"#).is_ok());
        assert!(p.accepted(br#"{"data":[{"ok":false}]}"#).is_err());
        p.success = SmsSuccess::default();
        assert!(p.accepted(b"anything").is_ok());
    }
}
