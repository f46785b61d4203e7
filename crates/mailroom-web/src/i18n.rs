//! The message catalogue: every string the console shows, in Simplified Chinese and English.
//!
//! The catalogues are flat JSON objects (`i18n/zh-CN.json`, `i18n/en.json`) embedded in the binary.
//! Templates look strings up with `t.get("key")`; parameterised strings use `{name}` placeholders
//! filled by [`Tr::fmt`]. Strings the console's scripts need are rendered into a JSON data block
//! (see [`Tr::script_json`]).

use mailroom_domain::ErrorCode;
use mailroom_domain::auth::Role;
use mailroom_domain::item::{Action, Category, Condition, Confidentiality, IdType, ItemKind, Priority, Status};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const ZH_CN: &str = include_str!("../i18n/zh-CN.json");
const EN: &str = include_str!("../i18n/en.json");

/// Key prefixes whose strings are handed to the console's scripts.
pub const SCRIPT_PREFIXES: &[&str] =
    &["js.", "status.", "error.", "kind.", "category.", "priority.", "confidentiality."];

/// A console language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    ZhCn,
    En,
}

impl Lang {
    pub const ALL: &'static [Lang] = &[Lang::ZhCn, Lang::En];

    /// The BCP 47 tag, as used in `<html lang>` and the language cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Accepts `zh-CN`, `zh`, `en`, `en-GB` … (case-insensitive); anything else is `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s == "zh" || s.starts_with("zh-") {
            Some(Lang::ZhCn)
        } else if s == "en" || s.starts_with("en-") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language the switch offers.
    pub fn other(self) -> Lang {
        match self {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::ZhCn => ZH_CN,
            Lang::En => EN,
        }
    }
}

type Catalogue = BTreeMap<String, String>;

fn parse_catalogue(lang: Lang) -> Catalogue {
    serde_json::from_str(lang.source()).unwrap_or_else(|e| {
        tracing::error!(lang = lang.code(), error = %e, "message catalogue is not valid JSON");
        Catalogue::new()
    })
}

fn catalogue(lang: Lang) -> &'static Catalogue {
    static ZH: OnceLock<Catalogue> = OnceLock::new();
    static EN: OnceLock<Catalogue> = OnceLock::new();
    match lang {
        Lang::ZhCn => ZH.get_or_init(|| parse_catalogue(Lang::ZhCn)),
        Lang::En => EN.get_or_init(|| parse_catalogue(Lang::En)),
    }
}

/// Translator for one language; cheap to copy into every template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn lang(&self) -> Lang {
        self.0
    }

    /// The string for `key`; a missing key shows the key itself (the catalogue tests prevent that).
    pub fn get<'a>(&self, key: &'a str) -> &'a str {
        match catalogue(self.0).get(key) {
            Some(v) => v.as_str(),
            None => key,
        }
    }

    /// Whether the catalogue has `key`.
    pub fn has(&self, key: &str) -> bool {
        catalogue(self.0).contains_key(key)
    }

    /// The string for `key` with `{name}` placeholders replaced.
    pub fn fmt(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.get(key).to_string();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    fn dynamic(&self, prefix: &str, code: &str) -> String {
        let key = format!("{prefix}.{code}");
        match catalogue(self.0).get(&key) {
            Some(v) => v.clone(),
            None => code.to_string(),
        }
    }

    pub fn status(&self, s: Status) -> String {
        self.dynamic("status", s.as_str())
    }
    pub fn action(&self, a: Action) -> String {
        self.dynamic("action", a.as_str())
    }
    pub fn kind(&self, k: ItemKind) -> String {
        self.dynamic("kind", k.as_str())
    }
    pub fn category(&self, c: Category) -> String {
        self.dynamic("category", c.as_str())
    }
    pub fn priority(&self, p: Priority) -> String {
        self.dynamic("priority", p.as_str())
    }
    pub fn confidentiality(&self, c: Confidentiality) -> String {
        self.dynamic("confidentiality", c.as_str())
    }
    pub fn condition(&self, c: Condition) -> String {
        self.dynamic("condition", c.as_str())
    }
    pub fn id_type(&self, i: IdType) -> String {
        self.dynamic("id_type", i.as_str())
    }
    pub fn role(&self, r: Role) -> String {
        self.dynamic("role", r.as_str())
    }
    /// The title of an error, by its stable code.
    pub fn error(&self, c: ErrorCode) -> String {
        self.dynamic("error", c.as_str())
    }
    /// A custody event kind (`registered` or an action name); unknown kinds show their code.
    pub fn event(&self, kind: &str) -> String {
        self.dynamic("event", kind)
    }
    /// A location kind (shelf, locker …); free-form kinds show as stored.
    pub fn location_kind(&self, kind: &str) -> String {
        self.dynamic("location_kind", kind)
    }

    /// The strings the scripts need, as JSON safe to place inside a `<script type="application/json">`.
    pub fn script_json(&self) -> String {
        let subset: BTreeMap<&str, &str> = catalogue(self.0)
            .iter()
            .filter(|(k, _)| SCRIPT_PREFIXES.iter().any(|p| k.starts_with(p)))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let json = serde_json::to_string(&subset).unwrap_or_else(|_| "{}".to_string());
        // `<` cannot close the element when escaped; `&` and `>` for good measure.
        json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    fn keys(lang: Lang) -> BTreeSet<String> {
        let parsed: Result<BTreeMap<String, serde_json::Value>, _> = serde_json::from_str(lang.source());
        assert!(parsed.is_ok(), "{} is not valid JSON: {:?}", lang.code(), parsed.err());
        let parsed = parsed.unwrap_or_default();
        for (k, v) in &parsed {
            assert!(v.is_string(), "{}: {k} is not a string", lang.code());
        }
        parsed.into_keys().collect()
    }

    #[test]
    fn catalogues_have_the_same_keys() {
        let zh = keys(Lang::ZhCn);
        let en = keys(Lang::En);
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(only_zh.is_empty(), "keys only in zh-CN: {only_zh:?}");
        assert!(only_en.is_empty(), "keys only in en: {only_en:?}");
        assert!(zh.len() > 100);
    }

    #[test]
    fn no_value_is_empty() {
        for lang in Lang::ALL {
            for (k, v) in catalogue(*lang) {
                assert!(!v.trim().is_empty(), "{}: {k} is empty", lang.code());
            }
        }
    }

    #[test]
    fn placeholders_match_between_languages() {
        fn names(s: &str) -> BTreeSet<String> {
            s.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string())).collect()
        }
        for (k, zh) in catalogue(Lang::ZhCn) {
            let en = catalogue(Lang::En).get(k).map(String::as_str).unwrap_or("");
            assert_eq!(names(zh), names(en), "placeholders differ for {k}");
        }
    }

    fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir);
        assert!(entries.is_ok(), "cannot read {}", dir.display());
        for e in entries.into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                files(&p, ext, out);
            } else if p.extension().and_then(|x| x.to_str()) == Some(ext) {
                out.push(p);
            }
        }
    }

    /// Keys used as `<call>"key"` where the call is not preceded by an identifier character.
    fn used_keys(text: &str, call: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(pos) = rest.find(call) {
            let abs = offset + pos;
            let before = text[..abs].chars().next_back();
            let after = &text[abs + call.len()..];
            let standalone = !before.is_some_and(|c| c.is_alphanumeric() || c == '_');
            if standalone && let Some(end) = after.find('"') {
                out.push(after[..end].to_string());
            }
            offset = abs + call.len();
            rest = &text[offset..];
        }
        out
    }

    fn crate_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let mut sources = Vec::new();
        files(&crate_dir().join("templates"), "html", &mut sources);
        let template_count = sources.len();
        files(&crate_dir().join("src").join("ui"), "rs", &mut sources);
        assert!(template_count >= 10, "templates not found");
        let mut used = 0;
        for f in &sources {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            for call in ["t.get(\"", "t.fmt(\"", "t.has(\""] {
                for key in used_keys(&text, call) {
                    used += 1;
                    for lang in Lang::ALL {
                        assert!(Tr(*lang).has(&key), "{}: key {key} used in {} is missing", lang.code(), f.display());
                    }
                }
            }
        }
        assert!(used > 150, "suspiciously few keys found: {used}");
    }

    /// Keys passed around as plain literals in the console code (`"item.recipient"`, `"sites.level_0"` …).
    #[test]
    fn every_key_literal_in_console_code_exists() {
        let prefixes: BTreeSet<&str> =
            catalogue(Lang::En).keys().filter_map(|k| k.split_once('.').map(|(p, _)| p)).collect();
        let mut sources = Vec::new();
        files(&crate_dir().join("src").join("ui"), "rs", &mut sources);
        let mut used = 0;
        for f in &sources {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            for (i, literal) in text.split('"').enumerate() {
                let looks_like_key = i % 2 == 1
                    && literal
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-'))
                    && literal
                        .split_once('.')
                        .is_some_and(|(p, rest)| prefixes.contains(p) && !rest.is_empty() && !rest.ends_with('.'))
                    && ![".js", ".css", ".svg", ".html"].iter().any(|ext| literal.ends_with(ext));
                if looks_like_key {
                    used += 1;
                    for lang in Lang::ALL {
                        assert!(
                            Tr(*lang).has(literal),
                            "{}: key {literal} used in {} is missing",
                            lang.code(),
                            f.display()
                        );
                    }
                }
            }
        }
        assert!(used > 30, "suspiciously few key literals found: {used}");
    }

    #[test]
    fn every_key_used_by_scripts_exists_and_is_exported() {
        let mut scripts = Vec::new();
        files(&crate_dir().join("static"), "js", &mut scripts);
        assert!(!scripts.is_empty(), "scripts not found");
        let mut used = 0;
        for f in &scripts {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            assert!(
                !text.contains("msg('") && !text.contains("msgf('"),
                "{}: quote keys with \" so they are checked",
                f.display()
            );
            for call in ["msg(\"", "msgf(\""] {
                for key in used_keys(&text, call) {
                    used += 1;
                    assert!(
                        SCRIPT_PREFIXES.iter().any(|p| key.starts_with(p)),
                        "{key} in {} is not exported to scripts",
                        f.display()
                    );
                    for lang in Lang::ALL {
                        assert!(Tr(*lang).has(&key), "{}: key {key} used in {} is missing", lang.code(), f.display());
                    }
                }
            }
        }
        assert!(used > 12, "suspiciously few script keys found: {used}");
    }

    #[test]
    fn every_domain_value_is_translated() {
        let mut wanted: Vec<String> = Vec::new();
        wanted.extend(Status::ALL.iter().map(|s| format!("status.{s}")));
        wanted.extend(Action::ALL.iter().map(|s| format!("action.{s}")));
        wanted.extend(Action::ALL.iter().map(|s| format!("event.{s}")));
        wanted.push("event.registered".into());
        wanted.extend(ItemKind::ALL.iter().map(|s| format!("kind.{s}")));
        wanted.extend(Category::ALL.iter().map(|s| format!("category.{s}")));
        wanted.extend(Priority::ALL.iter().map(|s| format!("priority.{s}")));
        wanted.extend(Confidentiality::ALL.iter().map(|s| format!("confidentiality.{s}")));
        wanted.extend(Condition::ALL.iter().map(|s| format!("condition.{s}")));
        wanted.extend(IdType::ALL.iter().map(|s| format!("id_type.{s}")));
        wanted.extend(Role::ALL.iter().map(|s| format!("role.{s}")));
        for code in [
            ErrorCode::Validation,
            ErrorCode::NotFound,
            ErrorCode::InvalidTransition,
            ErrorCode::Conflict,
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::UnknownRecipient,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::IdempotencyMismatch,
            ErrorCode::Shredded,
            ErrorCode::TooManyAttempts,
            ErrorCode::InvalidRules,
            ErrorCode::TargetRefused,
            ErrorCode::BudgetExceeded,
            ErrorCode::InsufficientBalance,
            ErrorCode::PdfFontMissing,
            ErrorCode::Internal,
        ] {
            wanted.push(format!("error.{code}"));
        }
        for lang in Lang::ALL {
            for k in &wanted {
                assert!(Tr(*lang).has(k), "{}: {k} missing", lang.code());
            }
        }
        assert_eq!(Tr(Lang::ZhCn).status(Status::Received), "已接收");
        assert_eq!(Tr(Lang::En).status(Status::Received), "Received");
    }

    #[test]
    fn languages_parse_and_format() {
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("EN-gb"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(Lang::ZhCn.other(), Lang::En);
        let t = Tr(Lang::En);
        assert!(t.fmt("my.waiting", &[("n", "3")]).contains('3'));
        assert_eq!(t.get("no.such.key"), "no.such.key");
        let json = t.script_json();
        assert!(!json.contains('<'));
        let parsed: BTreeMap<String, String> = serde_json::from_str(&json).unwrap_or_default();
        assert!(parsed.keys().all(|k| SCRIPT_PREFIXES.iter().any(|p| k.starts_with(p))));
        assert!(parsed.contains_key("status.picked_up"));
    }
}
