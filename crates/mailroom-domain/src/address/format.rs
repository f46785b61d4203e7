//! Label lines: the fields laid out in the country's order, capitals where the post office
//! wants them, and the destination country last, in English.

use super::AddressFields;
use super::country::Country;
use super::rules::{Field, PostalRules};
use super::script::{self, Script};

enum Seg<'a> {
    Lit(&'a str),
    Field(char),
}

fn segments(line: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(p) = rest.find('%') {
        if p > 0 {
            out.push(Seg::Lit(&rest[..p]));
        }
        let after = &rest[p + 1..];
        match after.chars().next() {
            Some(c) => {
                out.push(Seg::Field(c));
                rest = &after[c.len_utf8()..];
            }
            None => {
                rest = "";
            }
        }
    }
    if !rest.is_empty() {
        out.push(Seg::Lit(rest));
    }
    out
}

fn is_latin_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || script::script_of(c) == Some(Script::Latin)
}

/// Is every letter of the address Latin (so the Latin layout is the native one)?
fn all_latin(fields: &AddressFields) -> bool {
    let mut any = false;
    for f in [&fields.recipient, &fields.organisation, &fields.district, &fields.city, &fields.region]
        .into_iter()
        .chain(fields.street.iter())
    {
        for s in script::detect(f) {
            any = true;
            if s != Script::Latin {
                return false;
            }
        }
    }
    any
}

/// The label lines of an address. `latin` uses the country's Latin layout (smallest unit
/// first for the largest-first countries); an address written in Latin letters always does.
pub fn label(rules: &PostalRules, fields: &AddressFields, country: &Country, latin: bool) -> Vec<String> {
    let latin_layout = latin || all_latin(fields);
    let template = if latin_layout { rules.latin_format.unwrap_or(rules.format) } else { rules.format };
    let street_joiner = if latin_layout { ", " } else { "" };
    let mut lines = Vec::new();
    for tl in template.split("%n") {
        let segs = segments(tl);
        if let [Seg::Field('A')] = segs.as_slice() {
            for s in &fields.street {
                lines.push(cased(rules, 'A', s));
            }
            continue;
        }
        let mut line = String::new();
        let mut any_value = false;
        let mut has_field = false;
        for seg in &segs {
            match seg {
                Seg::Lit(t) => line.push_str(t),
                Seg::Field(c) => {
                    has_field = true;
                    let value = match c {
                        'A' => fields.street.join(street_joiner),
                        'C' if fields.city == fields.region && tl.contains("%S") => String::new(),
                        other => Field::from_letter(*other).map(|f| fields.get(f).to_string()).unwrap_or_default(),
                    };
                    if value.is_empty() {
                        continue;
                    }
                    any_value = true;
                    let value = cased(rules, *c, &value);
                    if let (Some(l), Some(f)) = (line.chars().last(), value.chars().next())
                        && is_latin_word_char(l)
                        && is_latin_word_char(f)
                    {
                        line.push(' ');
                    }
                    line.push_str(&value);
                }
            }
        }
        if has_field && !any_value {
            continue;
        }
        let tidy = tidy(&line);
        if !tidy.is_empty() {
            lines.push(tidy);
        }
    }
    lines.push(country.name_en.to_uppercase());
    lines
}

fn cased(rules: &PostalRules, letter: char, value: &str) -> String {
    if rules.upper.contains(letter) { value.to_uppercase() } else { value.to_string() }
}

/// Collapses spaces and removes separators left dangling by empty fields.
fn tidy(line: &str) -> String {
    let mut s = line.split_whitespace().collect::<Vec<_>>().join(" ");
    while s.contains(", ,") {
        s = s.replace(", ,", ",");
    }
    s = s.replace(" ,", ",");
    s.trim_matches(|c: char| c == ',' || c == ' ' || c == '/' || c == '-').to_string()
}

/// The Latin rendering of each field, and whether every letter could be rendered.
pub fn latin_fields(alpha2: &str, fields: &AddressFields, region_latin: Option<&str>) -> (AddressFields, bool) {
    let japanese = alpha2 == "JP";
    let cantonese = matches!(alpha2, "HK" | "MO");
    let mut complete = true;
    // a field that cannot be fully rendered keeps its own script (names stay readable)
    let mut tr = |s: &str| -> String {
        if cantonese && let Some((_, en)) = super::parse::HK_DISTRICTS.iter().find(|(n, _)| *n == s) {
            return (*en).to_string();
        }
        let (l, ok) = script::to_latin(s, japanese);
        if cantonese && script::detect(s).contains(&Script::Han) {
            // Hong Kong and Macao romanise in Cantonese: pinyin is only a reading aid
            complete = false;
        }
        if ok {
            l
        } else {
            complete = false;
            s.to_string()
        }
    };
    let chinese = matches!(alpha2, "CN" | "TW" | "SG" | "MY");
    let recipient = match (script::chinese_name(&fields.recipient), script::korean_name(&fields.recipient)) {
        (Some(n), _) if chinese => n,
        (_, Some(n)) if alpha2 == "KR" => n,
        _ => tr(&fields.recipient),
    };
    let region = match region_latin {
        Some(r) if !r.is_empty() => r.to_string(),
        _ => tr(&fields.region),
    };
    let out = AddressFields {
        recipient,
        organisation: tr(&fields.organisation),
        street: fields.street.iter().map(|s| tr(s)).collect(),
        district: tr(&fields.district),
        city: tr(&fields.city),
        region,
        postal_code: fields.postal_code.clone(),
    };
    (out, complete)
}
