//! International postal addresses: the country table, per-country postal rules, free-text
//! parsing, script detection with a Latin rendering, and label formatting in each country's
//! line order. Pure: no I/O.
//!
//! [`check`] is the one entry point: it takes a country and either a postal code alone, a
//! free-text address or separate fields, and returns a [`Verdict`].

pub mod country;
pub mod format;
pub mod parse;
pub mod rules;
pub mod script;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use country::{COUNTRIES, Country, lookup as lookup_country};
pub use rules::{Field, PostalRules};
pub use script::Script;

/// Longest accepted free text, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Longest accepted field, in characters.
pub const MAX_FIELD_CHARS: usize = 200;
/// Most street lines kept.
pub const MAX_STREET_LINES: usize = 4;

/// The fields of an address. Empty strings are absent fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AddressFields))]
pub struct AddressFields {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recipient: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub organisation: String,
    /// Street, number, building, unit: one entry per line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub street: Vec<String>,
    /// District or dependent locality (区, 區, 구, suburb).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub district: String,
    /// City, town or post town (市, 市区町村).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub city: String,
    /// State, province, prefecture, emirate.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub postal_code: String,
}

impl AddressFields {
    pub fn get(&self, f: Field) -> &str {
        match f {
            Field::Recipient => &self.recipient,
            Field::Organisation => &self.organisation,
            Field::District => &self.district,
            Field::City => &self.city,
            Field::Region => &self.region,
            Field::PostalCode => &self.postal_code,
            Field::Street => self.street.first().map(String::as_str).unwrap_or(""),
            Field::Country => "",
        }
    }

    fn is_empty(&self) -> bool {
        self.recipient.is_empty()
            && self.organisation.is_empty()
            && self.street.is_empty()
            && self.district.is_empty()
            && self.city.is_empty()
            && self.region.is_empty()
            && self.postal_code.is_empty()
    }
}

/// What to check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AddressCheck))]
pub struct CheckRequest {
    /// ISO 3166-1 alpha-2 or alpha-3 code, or the country's English or Chinese name.
    pub country: String,
    /// A postal code to check (alone, or beside the text or fields).
    #[serde(default)]
    pub postal_code: Option<String>,
    /// A free-text address, one line or several.
    #[serde(default)]
    pub text: Option<String>,
    /// The address in separate fields (takes precedence over what the text gives).
    #[serde(default)]
    pub fields: Option<AddressFields>,
}

/// How serious a problem is: errors make the address invalid, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Severity))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// Stable codes of address problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AddressProblemCode))]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    /// The country is not an ISO 3166-1 country.
    UnknownCountry,
    /// A field the country requires is missing.
    Required,
    /// The postal code does not match the country's pattern.
    InvalidPostalCode,
    /// The country has no postal codes; the one given is not used.
    PostalCodeNotUsed,
    /// The postal code given separately differs from the one in the text.
    PostalCodeMismatch,
    /// The region is not one of the country's divisions.
    UnknownRegion,
    /// A field is longer than allowed.
    TooLong,
    /// A field holds control characters.
    ControlCharacters,
    /// Part of the free text could not be placed in a field.
    Unparsed,
    /// Some letters could not be rendered in Latin script.
    LatinIncomplete,
    /// The country has no rules of its own: only generic checks were made.
    GenericRules,
    /// Nothing to check: no postal code, text or fields.
    Empty,
}

/// One problem found, tied to a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AddressProblem))]
pub struct Problem {
    pub field: Field,
    pub code: ProblemCode,
    pub severity: Severity,
    pub message: String,
}

/// Which rules the verdict was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AddressRules))]
#[serde(rename_all = "snake_case")]
pub enum RulesLevel {
    /// The country's own rules (required fields, postal-code pattern, line order).
    Full,
    /// Generic rules: a street line; any postal code.
    Generic,
}

/// The outcome of [`check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AddressVerdict))]
pub struct Verdict {
    /// No problem of severity `error`.
    pub valid: bool,
    /// The country, when recognised.
    pub country: Option<Country>,
    pub rules: RulesLevel,
    /// Scripts found in the address, in order of appearance.
    pub scripts: Vec<Script>,
    pub problems: Vec<Problem>,
    /// The fields after parsing and normalisation.
    pub fields: AddressFields,
    /// Label lines in the country's order and script; the country line last, in English.
    pub lines: Vec<String>,
    /// The Latin rendering (empty when the address is already in Latin script).
    pub latin_lines: Vec<String>,
    /// The country's postal-code patterns as regular expressions.
    pub postal_code_patterns: Vec<String>,
}

fn problem(field: Field, code: ProblemCode, severity: Severity, message: impl Into<String>) -> Problem {
    Problem { field, code, severity, message: message.into() }
}

fn err(field: Field, code: ProblemCode, message: impl Into<String>) -> Problem {
    problem(field, code, Severity::Error, message)
}

fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Trims and checks one field (length, control characters).
fn sanitise(field: Field, value: &mut String, problems: &mut Vec<Problem>) {
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        problems.push(err(
            field,
            ProblemCode::ControlCharacters,
            format!("{} contains control characters", field.as_str()),
        ));
        value.retain(|c| !c.is_control());
    }
    *value = clean(value);
    if value.chars().count() > MAX_FIELD_CHARS {
        problems.push(err(
            field,
            ProblemCode::TooLong,
            format!("{} is longer than {MAX_FIELD_CHARS} characters", field.as_str()),
        ));
        *value = value.chars().take(MAX_FIELD_CHARS).collect();
    }
}

/// Checks an address (or a postal code alone) against the destination country's rules.
pub fn check(req: &CheckRequest) -> Verdict {
    let mut problems = Vec::new();
    let Some(country) = country::lookup(&req.country) else {
        return Verdict {
            valid: false,
            country: None,
            rules: RulesLevel::Generic,
            scripts: Vec::new(),
            problems: vec![err(
                Field::Country,
                ProblemCode::UnknownCountry,
                format!("'{}' is not a known country (ISO 3166-1 code, English or Chinese name)", clip(&req.country)),
            )],
            fields: AddressFields::default(),
            lines: Vec::new(),
            latin_lines: Vec::new(),
            postal_code_patterns: Vec::new(),
        };
    };
    let (rules, level) = match rules::for_country(country.alpha2) {
        Some(r) => (r, RulesLevel::Full),
        None => (&rules::GENERIC, RulesLevel::Generic),
    };
    if level == RulesLevel::Generic {
        problems.push(problem(
            Field::Country,
            ProblemCode::GenericRules,
            Severity::Warning,
            format!("no postal rules for {}: only generic checks", country.name_en),
        ));
    }

    // 1. fields from the text, then the separate fields on top
    let mut fields = AddressFields::default();
    let mut address_given = false;
    if let Some(text) = req.text.as_deref().filter(|t| !t.trim().is_empty()) {
        address_given = true;
        let text: String = if text.chars().count() > MAX_TEXT_CHARS {
            problems.push(err(
                Field::Street,
                ProblemCode::TooLong,
                format!("text is longer than {MAX_TEXT_CHARS} characters"),
            ));
            text.chars().take(MAX_TEXT_CHARS).collect()
        } else {
            text.to_string()
        };
        let parsed = parse::parse(country.alpha2, rules, &text);
        fields = parsed.fields;
        for rest in parsed.unparsed {
            problems.push(problem(
                Field::Street,
                ProblemCode::Unparsed,
                Severity::Warning,
                format!("could not place '{}' in a field", clip(&rest)),
            ));
        }
    }
    if let Some(f) = &req.fields
        && !f.is_empty()
    {
        address_given = true;
        let over = |dst: &mut String, src: &str| {
            if !src.trim().is_empty() {
                *dst = src.to_string();
            }
        };
        over(&mut fields.recipient, &f.recipient);
        over(&mut fields.organisation, &f.organisation);
        over(&mut fields.district, &f.district);
        over(&mut fields.city, &f.city);
        over(&mut fields.region, &f.region);
        over(&mut fields.postal_code, &f.postal_code);
        if f.street.iter().any(|s| !s.trim().is_empty()) {
            fields.street = f.street.clone();
        }
    }
    if let Some(pc) = req.postal_code.as_deref().filter(|p| !p.trim().is_empty()) {
        if fields.postal_code.is_empty() {
            fields.postal_code = pc.to_string();
        } else {
            let a = rules::normalise_postal_code(rules, pc).unwrap_or_else(|| clean(pc));
            let b =
                rules::normalise_postal_code(rules, &fields.postal_code).unwrap_or_else(|| clean(&fields.postal_code));
            if a != b {
                problems.push(err(
                    Field::PostalCode,
                    ProblemCode::PostalCodeMismatch,
                    format!("postal code {} differs from {} in the address", clip(pc), clip(&fields.postal_code)),
                ));
            }
        }
    }
    if !address_given && fields.postal_code.is_empty() {
        problems.push(err(Field::PostalCode, ProblemCode::Empty, "give a postal code, an address text or fields"));
    }

    // 2. sanitise
    for f in [Field::Recipient, Field::Organisation, Field::District, Field::City, Field::Region, Field::PostalCode] {
        let v = match f {
            Field::Recipient => &mut fields.recipient,
            Field::Organisation => &mut fields.organisation,
            Field::District => &mut fields.district,
            Field::City => &mut fields.city,
            Field::Region => &mut fields.region,
            _ => &mut fields.postal_code,
        };
        sanitise(f, v, &mut problems);
    }
    let mut street = Vec::new();
    for mut s in std::mem::take(&mut fields.street) {
        sanitise(Field::Street, &mut s, &mut problems);
        if !s.is_empty() {
            street.push(s);
        }
    }
    if street.len() > MAX_STREET_LINES {
        problems.push(err(Field::Street, ProblemCode::TooLong, format!("more than {MAX_STREET_LINES} street lines")));
        street.truncate(MAX_STREET_LINES);
    }
    fields.street = street;

    // 3. postal code
    if !fields.postal_code.is_empty() {
        if level == RulesLevel::Generic {
            if !fields.postal_code.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-') {
                problems.push(err(
                    Field::PostalCode,
                    ProblemCode::InvalidPostalCode,
                    "postal code has characters other than letters, digits, space and hyphen",
                ));
            } else {
                fields.postal_code = fields.postal_code.to_ascii_uppercase();
            }
        } else if rules.postal.is_empty() {
            problems.push(problem(
                Field::PostalCode,
                ProblemCode::PostalCodeNotUsed,
                Severity::Warning,
                format!(
                    "{} has no postal codes; '{}' is left off the label",
                    country.name_en,
                    clip(&fields.postal_code)
                ),
            ));
            fields.postal_code.clear();
        } else {
            match rules::normalise_postal_code(rules, &fields.postal_code) {
                Some(n) => fields.postal_code = n,
                None => problems.push(err(
                    Field::PostalCode,
                    ProblemCode::InvalidPostalCode,
                    format!(
                        "'{}' is not a valid {} for {} (expected like {})",
                        clip(&fields.postal_code),
                        rules.postal_name,
                        country.name_en,
                        rules.example[4]
                    ),
                )),
            }
        }
    }

    // 4. region
    let mut region_latin = None;
    if !fields.region.is_empty() && !rules.regions.is_empty() {
        match rules::find_region(rules, &fields.region) {
            Some((code, native, latin)) => {
                region_latin = Some(*latin);
                fields.region = if rules.region_as_code {
                    (*code).to_string()
                } else if script::needs_latin(&fields.region) {
                    (*native).to_string()
                } else {
                    (*latin).to_string()
                };
            }
            None => problems.push(err(
                Field::Region,
                ProblemCode::UnknownRegion,
                format!("'{}' is not a region of {}", clip(&fields.region), country.name_en),
            )),
        }
    }

    // 5. required fields (only when an address was given)
    if address_given {
        for f in rules.required.chars().filter_map(Field::from_letter) {
            let missing = match f {
                Field::Street => fields.street.is_empty(),
                Field::PostalCode => fields.postal_code.is_empty() && !rules.postal.is_empty(),
                other => fields.get(other).is_empty(),
            };
            let missing_or_invalid = missing && !problems.iter().any(|p| p.field == f && p.severity == Severity::Error);
            if missing_or_invalid {
                problems.push(err(
                    f,
                    ProblemCode::Required,
                    format!("{} is required for {}", field_name(f, rules), country.name_en),
                ));
            }
        }
    }

    // 6. label lines
    let all_text = [
        fields.recipient.as_str(),
        fields.organisation.as_str(),
        fields.district.as_str(),
        fields.city.as_str(),
        fields.region.as_str(),
    ]
    .into_iter()
    .chain(fields.street.iter().map(String::as_str))
    .collect::<Vec<_>>()
    .join(" ");
    let scripts = script::detect(&all_text);
    let (lines, latin_lines) = if address_given {
        let lines = format::label(rules, &fields, country, false);
        let latin_lines = if script::needs_latin(&all_text) {
            let (latin, complete) = format::latin_fields(country.alpha2, &fields, region_latin);
            if !complete {
                problems.push(problem(
                    Field::Street,
                    ProblemCode::LatinIncomplete,
                    Severity::Warning,
                    "some characters could not be rendered in Latin script; write the Latin address by hand",
                ));
            }
            format::label(rules, &latin, country, true)
        } else {
            Vec::new()
        };
        (lines, latin_lines)
    } else {
        (Vec::new(), Vec::new())
    };

    Verdict {
        valid: !problems.iter().any(|p| p.severity == Severity::Error),
        country: Some(*country),
        rules: level,
        scripts,
        problems,
        fields,
        lines,
        latin_lines,
        postal_code_patterns: rules.postal.iter().map(|p| rules::pattern_regex(p)).collect(),
    }
}

fn field_name(f: Field, rules: &PostalRules) -> String {
    match f {
        Field::PostalCode => rules.postal_name.to_string(),
        other => other.as_str().replace('_', " "),
    }
}

/// At most 60 characters of user input, for messages.
fn clip(s: &str) -> String {
    let t: String = s.chars().filter(|c| !c.is_control()).take(60).collect();
    if s.chars().count() > 60 { format!("{t}…") } else { t }
}
