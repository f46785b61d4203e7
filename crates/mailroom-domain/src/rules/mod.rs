//! Classification and routing rules: a small declarative TOML format that sets an item's
//! category, priority, confidentiality, routing target and due-by from what is known at intake,
//! and explains which rules fired and why. See docs/RULES.md for the format reference.
//!
//! Semantics: rules are tried top to bottom against the item's facts. Every rule whose `when`
//! conditions all hold fires. Each action sets its field only if nothing set it before — the
//! caller (a value given explicitly at intake) or an earlier rule — so more specific rules go
//! first; an action that loses is recorded in the explanation. `flags` accumulate. A rule with
//! `stop = true` ends the evaluation when it fires. Conditions on `category`, `priority` and
//! `confidentiality` see the values decided so far.

mod fixture;

pub use fixture::{CaseResult, Mismatch, run_fixtures};

use crate::item::{Category, Confidentiality, ItemKind, Priority};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::Spanned;

/// The default rule pack for corporate and hospital mailrooms, used by an organisation that has
/// not saved rules of its own.
pub const DEFAULT_PACK: &str = include_str!("../../rules/default.toml");
/// Fixtures for the default pack (`mailroom rules test`).
pub const DEFAULT_FIXTURES: &str = include_str!("../../rules/default-fixtures.toml");

/// Largest rule source accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 256 * 1024;
/// Most rules in one set.
pub const MAX_RULES: usize = 500;
/// Longest due-within duration, in minutes (one year).
const MAX_DUE_MINUTES: i64 = 366 * 24 * 60;

/// Why a rule source (or fixture file) was refused: a message naming the problem, where it is
/// (1-based line and column) and the rule it belongs to, when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleError {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The name of the rule the problem is in.
    pub rule: Option<String>,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, "line {l}, column {c}: ")?;
        }
        if let Some(r) = &self.rule {
            write!(f, "rule \"{r}\": ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleError {}

impl RuleError {
    fn at(src: &str, offset: Option<usize>, rule: Option<&str>, message: impl Into<String>) -> RuleError {
        let (line, column) = match offset {
            Some(o) => {
                let (l, c) = line_col(src, o);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        RuleError { message: message.into(), line, column, rule: rule.map(str::to_string) }
    }

    /// A TOML syntax or shape error (unknown field, wrong type, unknown enum value).
    fn from_toml(src: &str, e: &toml::de::Error, section: &str) -> RuleError {
        let offset = e.span().map(|s| s.start);
        let rule = offset.and_then(|o| section_name(src, o, section));
        let message = e.message().trim().replace('\n', " ");
        RuleError::at(src, offset, rule.as_deref(), message)
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(src.len());
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    let before = &src[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The `name = "…"` of the `[[section]]` table that contains `offset`, read from the text (used
/// when the document could not be parsed into rules at all).
fn section_name(src: &str, offset: usize, section: &str) -> Option<String> {
    let header = format!("[[{section}]]");
    let mut pos = 0;
    let mut current: Option<usize> = None;
    for line in src.split_inclusive('\n') {
        if pos > offset {
            break;
        }
        let t = line.trim();
        if t.starts_with("[[") || (t.starts_with('[') && !t.starts_with(&format!("[{section}."))) {
            current = (t == header).then_some(pos);
        }
        pos += line.len();
    }
    let start = current?;
    for line in src[start..].lines().skip(1) {
        let t = line.trim();
        if t.starts_with('[') && !t.starts_with(&format!("[{section}.")) {
            return None;
        }
        if let Some(rest) = t.strip_prefix("name")
            && let Some(v) = rest.trim_start().strip_prefix('=')
        {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.split('"').next())
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.split('\'').next()))?;
            return Some(v.to_string());
        }
    }
    None
}

/// Folds text for matching: full-width forms to their ASCII counterparts, the ideographic space
/// to a space, lower case, runs of white space to one space.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        };
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Where a rule sends an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Route {
    /// A person, by employee number.
    Person { code: String },
    /// A department, by code.
    Department { code: String },
    /// A team (a department of kind team, or any department), by code.
    Team { code: String },
    /// A secure room (a storage location), by code.
    SecureRoom { code: String },
    /// The addressee in person.
    Recipient,
    /// The department the item is addressed to (or the addressee's department).
    RecipientDepartment,
}

impl Route {
    /// `person:E1001`, `department:FIN`, `team:RND`, `secure_room:SR-1`, `recipient`,
    /// `recipient_department`.
    pub fn as_text(&self) -> String {
        match self {
            Route::Person { code } => format!("person:{code}"),
            Route::Department { code } => format!("department:{code}"),
            Route::Team { code } => format!("team:{code}"),
            Route::SecureRoom { code } => format!("secure_room:{code}"),
            Route::Recipient => "recipient".into(),
            Route::RecipientDepartment => "recipient_department".into(),
        }
    }

    /// The inverse of [`Route::as_text`].
    pub fn parse(s: &str) -> Option<Route> {
        let s = s.trim();
        match s {
            "recipient" => return Some(Route::Recipient),
            "recipient_department" => return Some(Route::RecipientDepartment),
            _ => {}
        }
        let (kind, code) = s.split_once(':')?;
        let code = code.trim().to_string();
        if code.is_empty() {
            return None;
        }
        Some(match kind.trim() {
            "person" => Route::Person { code },
            "department" => Route::Department { code },
            "team" => Route::Team { code },
            "secure_room" => Route::SecureRoom { code },
            _ => return None,
        })
    }
}

/// What is known about an item at intake: what rules match against. Values the caller set
/// explicitly (`category`, `priority`, `confidentiality`) win over rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facts {
    pub kind: Option<ItemKind>,
    pub carrier: Option<String>,
    pub sender_name: Option<String>,
    pub sender_org: Option<String>,
    pub sender_address: Option<String>,
    /// Free text: subject, description, what is written on the envelope.
    pub notes: Option<String>,
    /// The recipient's name.
    pub recipient: Option<String>,
    /// The code of the recipient department (or of the recipient's department).
    pub recipient_department: Option<String>,
    /// That department's name(s), e.g. `心内科 Cardiology`.
    pub recipient_department_name: Option<String>,
    /// Set explicitly by the caller: rules do not change it.
    pub category: Option<Category>,
    /// Set explicitly by the caller: rules do not change it.
    pub priority: Option<Priority>,
    /// Set explicitly by the caller: rules do not change it.
    pub confidentiality: Option<Confidentiality>,
}

/// A text field keywords are looked for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextField {
    SenderName,
    SenderOrg,
    SenderAddress,
    Notes,
    Recipient,
    RecipientDepartment,
    Carrier,
}

const TEXT_FIELDS: &[(&str, TextField)] = &[
    ("notes", TextField::Notes),
    ("sender_name", TextField::SenderName),
    ("sender_org", TextField::SenderOrg),
    ("sender_address", TextField::SenderAddress),
    ("recipient", TextField::Recipient),
    ("recipient_department", TextField::RecipientDepartment),
    ("carrier", TextField::Carrier),
];

/// Where keywords are looked for when a rule does not say.
const ALL_FIELDS: [TextField; 7] = [
    TextField::Notes,
    TextField::SenderName,
    TextField::SenderOrg,
    TextField::SenderAddress,
    TextField::Recipient,
    TextField::RecipientDepartment,
    TextField::Carrier,
];

impl TextField {
    fn name(self) -> &'static str {
        TEXT_FIELDS.iter().find(|(_, f)| *f == self).map_or("?", |(n, _)| n)
    }
    fn value(self, f: &Facts) -> Option<String> {
        match self {
            TextField::SenderName => f.sender_name.clone(),
            TextField::SenderOrg => f.sender_org.clone(),
            TextField::SenderAddress => f.sender_address.clone(),
            TextField::Notes => f.notes.clone(),
            TextField::Recipient => f.recipient.clone(),
            TextField::RecipientDepartment => {
                let parts: Vec<&str> = [f.recipient_department.as_deref(), f.recipient_department_name.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            }
            TextField::Carrier => f.carrier.clone(),
        }
    }
}

// ---- the source format, as parsed ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDoc {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    lists: BTreeMap<String, Vec<RawEntry>>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    org: Spanned<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    responsible: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Spanned<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    when: Option<RawWhen>,
    #[serde(default)]
    then: Option<RawThen>,
    #[serde(default)]
    stop: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    always: Option<bool>,
    keywords: Option<Spanned<Vec<String>>>,
    keywords_in: Option<Spanned<Vec<String>>>,
    sender_org_in: Option<Spanned<Vec<String>>>,
    kind: Option<Spanned<Vec<ItemKind>>>,
    carrier: Option<Spanned<Vec<String>>>,
    recipient_department: Option<Spanned<Vec<String>>>,
    category: Option<Spanned<Vec<Category>>>,
    priority: Option<Spanned<Vec<Priority>>>,
    confidentiality: Option<Spanned<Vec<Confidentiality>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawThen {
    category: Option<Category>,
    priority: Option<Priority>,
    confidentiality: Option<Confidentiality>,
    route: Option<Spanned<RawRoute>>,
    due: Option<Spanned<String>>,
    flags: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    person: Option<String>,
    department: Option<String>,
    team: Option<String>,
    secure_room: Option<String>,
    responsible: Option<bool>,
    recipient: Option<bool>,
    recipient_department: Option<bool>,
}

// ---- the compiled rule set ----

/// One organisation in a named list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    pub org: String,
    /// Folded org name and aliases: a sender organisation containing any of them is in the list.
    terms: Vec<String>,
    /// Employee number of the person responsible for this organisation's mail.
    pub responsible: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Fixed(Route),
    /// The responsible person of the list entry the sender organisation matched.
    Responsible,
}

#[derive(Debug, Clone, Default)]
struct When {
    always: bool,
    /// (as written, folded)
    keywords: Vec<(String, String)>,
    fields: Vec<TextField>,
    lists: Vec<String>,
    kind: Vec<ItemKind>,
    carrier: Vec<String>,
    departments: Vec<String>,
    category: Vec<Category>,
    priority: Vec<Priority>,
    confidentiality: Vec<Confidentiality>,
}

#[derive(Debug, Clone, Default)]
struct Then {
    category: Option<Category>,
    priority: Option<Priority>,
    confidentiality: Option<Confidentiality>,
    route: Option<Target>,
    due: Option<(String, i64)>,
    flags: Vec<String>,
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    when: When,
    then: Then,
    stop: bool,
}

/// A validated rule set, ready to evaluate.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub description: Option<String>,
    lists: BTreeMap<String, Vec<ListEntry>>,
    rules: Vec<Rule>,
}

/// Parses a due-within duration: a sequence of `<number><unit>` with units `m` (minutes), `h`,
/// `d` and `w`, e.g. `30m`, `4h`, `1d12h`. Returns minutes.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let bad = || format!("\"{s}\" is not a duration: write e.g. 30m, 4h, 2d, 1w or 1d12h");
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut num: Option<i64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            let n = num.unwrap_or(0).checked_mul(10).and_then(|n| n.checked_add(i64::from(d))).ok_or_else(bad)?;
            num = Some(n);
            continue;
        }
        let unit = match c {
            'm' => 1,
            'h' => 60,
            'd' => 24 * 60,
            'w' => 7 * 24 * 60,
            _ => return Err(bad()),
        };
        let n = num.take().ok_or_else(bad)?;
        total = n.checked_mul(unit).and_then(|m| total.checked_add(m)).ok_or_else(bad)?;
    }
    if num.is_some() {
        return Err(bad());
    }
    if total <= 0 {
        return Err(format!("\"{s}\" must be longer than zero"));
    }
    if total > MAX_DUE_MINUTES {
        return Err(format!("\"{s}\" is longer than a year"));
    }
    Ok(total)
}

fn check_text_list(
    src: &str,
    rule: &str,
    field: &str,
    v: Option<Spanned<Vec<String>>>,
) -> Result<(Vec<String>, Option<usize>), RuleError> {
    let Some(v) = v else { return Ok((Vec::new(), None)) };
    let at = Some(v.span().start);
    let items = v.into_inner();
    if items.is_empty() {
        return Err(RuleError::at(src, at, Some(rule), format!("when.{field} is empty: list at least one value")));
    }
    if let Some(bad) = items.iter().find(|s| fold(s).is_empty()) {
        return Err(RuleError::at(src, at, Some(rule), format!("when.{field} has an empty value \"{bad}\"")));
    }
    Ok((items, at))
}

fn check_enum_list<T>(src: &str, rule: &str, field: &str, v: Option<Spanned<Vec<T>>>) -> Result<Vec<T>, RuleError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let at = Some(v.span().start);
    let items = v.into_inner();
    if items.is_empty() {
        return Err(RuleError::at(src, at, Some(rule), format!("when.{field} is empty: list at least one value")));
    }
    Ok(items)
}

impl RuleSet {
    /// Parses and validates a rule source. Errors name the line, column and rule.
    pub fn parse(src: &str) -> Result<RuleSet, RuleError> {
        if src.len() > MAX_SOURCE_BYTES {
            return Err(RuleError::at(
                src,
                None,
                None,
                format!("the rules are larger than {} KiB", MAX_SOURCE_BYTES / 1024),
            ));
        }
        let doc: RawDoc = toml::from_str(src).map_err(|e| RuleError::from_toml(src, &e, "rule"))?;
        let lists = compile_lists(src, doc.lists)?;
        if doc.rule.len() > MAX_RULES {
            return Err(RuleError::at(src, None, None, format!("more than {MAX_RULES} rules")));
        }
        let mut rules: Vec<Rule> = Vec::with_capacity(doc.rule.len());
        for raw in doc.rule {
            let rule_at = raw.span().start;
            let raw = raw.into_inner();
            let name_at = Some(raw.name.span().start);
            let name = raw.name.into_inner().trim().to_string();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                return Err(RuleError::at(src, name_at, None, "a rule name is 1-100 characters"));
            }
            if rules.iter().any(|r| r.name == name) {
                return Err(RuleError::at(src, name_at, Some(&name), "another rule has the same name"));
            }
            let _ = raw.description;
            let rule = compile_rule(src, &name, rule_at, raw.when, raw.then, raw.stop, &lists)?;
            rules.push(rule);
        }
        Ok(RuleSet { description: doc.description, lists, rules })
    }

    /// The default pack (corporate and hospital mailrooms).
    pub fn default_pack() -> Result<RuleSet, RuleError> {
        RuleSet::parse(DEFAULT_PACK)
    }

    /// Names of the rules, in order.
    pub fn rule_names(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.name.as_str()).collect()
    }

    /// The named lists and their organisations.
    pub fn lists(&self) -> &BTreeMap<String, Vec<ListEntry>> {
        &self.lists
    }

    /// Replaces lists of the same name (fixture files test a pack with sample organisations).
    pub fn with_lists(mut self, lists: BTreeMap<String, Vec<ListEntry>>) -> RuleSet {
        self.lists.extend(lists);
        self
    }

    /// Decides what the rules say about an item, and why.
    pub fn evaluate(&self, f: &Facts) -> Decision {
        let mut d = Decision::default();
        if let Some(c) = f.category {
            d.category = Some(c);
            d.set_by.insert("category".into(), CALLER.into());
        }
        if let Some(p) = f.priority {
            d.priority = Some(p);
            d.set_by.insert("priority".into(), CALLER.into());
        }
        if let Some(c) = f.confidentiality {
            d.confidentiality = Some(c);
            d.set_by.insert("confidentiality".into(), CALLER.into());
        }
        // Each text field folded once, for every rule.
        let texts: Vec<(TextField, String)> =
            ALL_FIELDS.iter().filter_map(|tf| tf.value(f).map(|v| (*tf, fold(&v)))).collect();
        for rule in &self.rules {
            let Some((reasons, entry)) = self.matches(rule, f, &texts, &d) else { continue };
            let mut fired = Fired { rule: rule.name.clone(), reasons, ..Default::default() };
            let t = &rule.then;
            if let Some(v) = t.category {
                apply(&mut d.category, v, "category", &rule.name, &mut d.set_by, &mut fired);
            }
            if let Some(v) = t.priority {
                apply(&mut d.priority, v, "priority", &rule.name, &mut d.set_by, &mut fired);
            }
            if let Some(v) = t.confidentiality {
                apply(&mut d.confidentiality, v, "confidentiality", &rule.name, &mut d.set_by, &mut fired);
            }
            match &t.route {
                Some(Target::Fixed(r)) => {
                    apply(&mut d.route, r.clone(), "route", &rule.name, &mut d.set_by, &mut fired)
                }
                Some(Target::Responsible) => match entry.and_then(|e| e.responsible.clone()) {
                    Some(code) => {
                        apply(&mut d.route, Route::Person { code }, "route", &rule.name, &mut d.set_by, &mut fired)
                    }
                    None => fired.skipped.push(format!(
                        "route to the responsible person not applied: {} names no responsible person",
                        entry.map_or_else(|| "the list entry".to_string(), |e| format!("'{}'", e.org))
                    )),
                },
                None => {}
            }
            if let Some((text, minutes)) = &t.due {
                let mut due = d.due_in.take().map(|t| DueIn { text: t, minutes: d.due_in_minutes.unwrap_or(0) });
                apply(
                    &mut due,
                    DueIn { text: text.clone(), minutes: *minutes },
                    "due",
                    &rule.name,
                    &mut d.set_by,
                    &mut fired,
                );
                d.due_in_minutes = due.as_ref().map(|x| x.minutes);
                d.due_in = due.map(|x| x.text);
            }
            for flag in &t.flags {
                if !d.flags.contains(flag) {
                    d.flags.push(flag.clone());
                }
                fired.set.push(format!("flag {flag}"));
            }
            fired.stopped = rule.stop;
            d.fired.push(fired);
            if rule.stop {
                break;
            }
        }
        d
    }

    /// Whether a rule's conditions all hold; the reasons, and the list entry the sender matched.
    fn matches<'a>(
        &'a self,
        rule: &Rule,
        f: &Facts,
        texts: &[(TextField, String)],
        d: &Decision,
    ) -> Option<(Vec<String>, Option<&'a ListEntry>)> {
        let w = &rule.when;
        let mut reasons = Vec::new();
        let mut entry = None;
        if w.always {
            reasons.push("matches every item".to_string());
        }
        if !w.keywords.is_empty() {
            let fields: &[TextField] = if w.fields.is_empty() { &ALL_FIELDS } else { &w.fields };
            let mut hit = None;
            'outer: for field in fields {
                let Some((_, folded)) = texts.iter().find(|(tf, _)| tf == field) else { continue };
                for (kw, kf) in &w.keywords {
                    if folded.contains(kf.as_str()) {
                        hit = Some(format!("{} contains \"{kw}\"", field.name()));
                        break 'outer;
                    }
                }
            }
            reasons.push(hit?);
        }
        if !w.lists.is_empty() {
            let org =
                texts.iter().find(|(tf, _)| *tf == TextField::SenderOrg).map(|(_, o)| o).filter(|o| !o.is_empty())?;
            let found = w.lists.iter().find_map(|name| {
                self.lists
                    .get(name)?
                    .iter()
                    .find(|e| e.terms.iter().any(|t| org.contains(t.as_str())))
                    .map(|e| (name, e))
            });
            let (name, e) = found?;
            reasons.push(format!(
                "sender organisation '{}' is in {name} ({})",
                f.sender_org.as_deref().unwrap_or_default().trim(),
                e.org
            ));
            entry = Some(e);
        }
        if !w.kind.is_empty() {
            let k = f.kind.unwrap_or(ItemKind::Parcel);
            if !w.kind.contains(&k) {
                return None;
            }
            reasons.push(format!("kind is {k}"));
        }
        if !w.carrier.is_empty() {
            let c = f.carrier.as_deref().map(fold)?;
            if !w.carrier.contains(&c) {
                return None;
            }
            reasons.push(format!("carrier is {c}"));
        }
        if !w.departments.is_empty() {
            let code = f.recipient_department.as_deref().map(fold);
            let name = f.recipient_department_name.as_deref().map(fold);
            let hit = w.departments.iter().find(|want| {
                code.as_deref() == Some(want.as_str()) || name.as_deref().is_some_and(|n| n.contains(want.as_str()))
            })?;
            reasons.push(format!("recipient department is {hit}"));
        }
        if !w.category.is_empty() {
            let c = d.category.unwrap_or(Category::General);
            if !w.category.contains(&c) {
                return None;
            }
            reasons.push(format!("category is {c}{}", by(d, "category")));
        }
        if !w.priority.is_empty() {
            let p = d.priority.unwrap_or(Priority::Normal);
            if !w.priority.contains(&p) {
                return None;
            }
            reasons.push(format!("priority is {p}{}", by(d, "priority")));
        }
        if !w.confidentiality.is_empty() {
            let c = d.confidentiality.unwrap_or(Confidentiality::Internal);
            if !w.confidentiality.contains(&c) {
                return None;
            }
            reasons.push(format!("confidentiality is {c}{}", by(d, "confidentiality")));
        }
        Some((reasons, entry))
    }
}

fn by(d: &Decision, field: &str) -> String {
    match d.set_by.get(field).map(String::as_str) {
        Some(CALLER) => " (set at intake)".into(),
        Some(rule) => format!(" (set by rule \"{rule}\")"),
        None => " (default)".into(),
    }
}

/// Who set a field the caller gave explicitly.
pub const CALLER: &str = "caller";

#[derive(Debug, Clone, PartialEq)]
struct DueIn {
    text: String,
    minutes: i64,
}

trait Shown {
    fn shown(&self) -> String;
}
impl Shown for Category {
    fn shown(&self) -> String {
        self.as_str().into()
    }
}
impl Shown for Priority {
    fn shown(&self) -> String {
        self.as_str().into()
    }
}
impl Shown for Confidentiality {
    fn shown(&self) -> String {
        self.as_str().into()
    }
}
impl Shown for Route {
    fn shown(&self) -> String {
        self.as_text()
    }
}
impl Shown for DueIn {
    fn shown(&self) -> String {
        self.text.clone()
    }
}

/// Sets a field unless something set it before; records either way.
fn apply<T: Shown + PartialEq>(
    slot: &mut Option<T>,
    v: T,
    field: &str,
    rule: &str,
    set_by: &mut BTreeMap<String, String>,
    fired: &mut Fired,
) {
    match slot {
        None => {
            fired.set.push(format!("{field} = {}", v.shown()));
            *slot = Some(v);
            set_by.insert(field.to_string(), rule.to_string());
        }
        Some(cur) => {
            let who = match set_by.get(field).map(String::as_str) {
                Some(CALLER) => "it was set explicitly at intake, which wins".to_string(),
                Some(r) => format!("rule \"{r}\" set it first"),
                None => "it was already set".to_string(),
            };
            let same = if *cur == v { " (same value)" } else { "" };
            fired.skipped.push(format!("{field} = {} not applied{same}: {who}", v.shown()));
        }
    }
}

fn compile_lists(
    src: &str,
    raw: BTreeMap<String, Vec<RawEntry>>,
) -> Result<BTreeMap<String, Vec<ListEntry>>, RuleError> {
    let mut lists = BTreeMap::new();
    for (name, entries) in raw {
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let at = Some(e.org.span().start);
            let org = e.org.into_inner().trim().to_string();
            let mut terms: Vec<String> =
                std::iter::once(org.as_str()).chain(e.aliases.iter().map(String::as_str)).map(fold).collect();
            if terms.iter().any(String::is_empty) {
                return Err(RuleError::at(
                    src,
                    at,
                    None,
                    format!("lists.{name}: an organisation name or alias is empty"),
                ));
            }
            terms.dedup();
            let responsible = match e.responsible.as_deref().map(str::trim) {
                None => None,
                Some("") => {
                    return Err(RuleError::at(
                        src,
                        at,
                        None,
                        format!("lists.{name}: '{org}' has an empty responsible"),
                    ));
                }
                Some(r) => Some(r.to_string()),
            };
            out.push(ListEntry { org, terms, responsible });
        }
        lists.insert(name, out);
    }
    Ok(lists)
}

fn compile_rule(
    src: &str,
    name: &str,
    rule_at: usize,
    when: Option<RawWhen>,
    then: Option<RawThen>,
    stop: bool,
    lists: &BTreeMap<String, Vec<ListEntry>>,
) -> Result<Rule, RuleError> {
    let err = |at: Option<usize>, msg: String| RuleError::at(src, at.or(Some(rule_at)), Some(name), msg);
    let w = when.unwrap_or_default();
    let (keywords, _) = check_text_list(src, name, "keywords", w.keywords)?;
    let (fields_raw, fields_at) = check_text_list(src, name, "keywords_in", w.keywords_in)?;
    let mut fields = Vec::new();
    for f in &fields_raw {
        match TEXT_FIELDS.iter().find(|(n, _)| n == f) {
            Some((_, tf)) => fields.push(*tf),
            None => {
                return Err(err(
                    fields_at,
                    format!(
                        "when.keywords_in: unknown field \"{f}\"; fields are {}",
                        TEXT_FIELDS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
    }
    if !fields.is_empty() && keywords.is_empty() {
        return Err(err(fields_at, "when.keywords_in needs when.keywords".into()));
    }
    let (list_names, lists_at) = check_text_list(src, name, "sender_org_in", w.sender_org_in)?;
    if let Some(unknown) = list_names.iter().find(|l| !lists.contains_key(l.as_str())) {
        let known = if lists.is_empty() {
            "none are defined".to_string()
        } else {
            lists.keys().cloned().collect::<Vec<_>>().join(", ")
        };
        return Err(err(lists_at, format!("when.sender_org_in: unknown list \"{unknown}\" (lists: {known})")));
    }
    let (carrier, _) = check_text_list(src, name, "carrier", w.carrier)?;
    let (departments, _) = check_text_list(src, name, "recipient_department", w.recipient_department)?;
    let when = When {
        always: w.always.unwrap_or(false),
        keywords: keywords.iter().map(|k| (k.trim().to_string(), fold(k))).collect(),
        fields,
        lists: list_names,
        kind: check_enum_list(src, name, "kind", w.kind)?,
        carrier: carrier.iter().map(|c| fold(c)).collect(),
        departments: departments.iter().map(|c| fold(c)).collect(),
        category: check_enum_list(src, name, "category", w.category)?,
        priority: check_enum_list(src, name, "priority", w.priority)?,
        confidentiality: check_enum_list(src, name, "confidentiality", w.confidentiality)?,
    };
    let has_condition = !(when.keywords.is_empty()
        && when.lists.is_empty()
        && when.kind.is_empty()
        && when.carrier.is_empty()
        && when.departments.is_empty()
        && when.category.is_empty()
        && when.priority.is_empty()
        && when.confidentiality.is_empty());
    if w.always == Some(false) || (when.always && has_condition) {
        return Err(err(None, "when.always = true is for a rule with no other condition; remove it".into()));
    }
    if !has_condition && !when.always {
        return Err(err(
            None,
            "the rule has no conditions: add when.… conditions (or when.always = true to match every item)".into(),
        ));
    }
    let t = then.unwrap_or_default();
    let route = match t.route {
        None => None,
        Some(r) => {
            let at = Some(r.span().start);
            let r = r.into_inner();
            let code = |field: &str, v: String| -> Result<String, RuleError> {
                let v = v.trim().to_string();
                if v.is_empty() || v.chars().count() > 64 {
                    return Err(err(at, format!("then.route.{field} must be a code of 1-64 characters")));
                }
                Ok(v)
            };
            let mut targets = Vec::new();
            if let Some(v) = r.person {
                targets.push(Target::Fixed(Route::Person { code: code("person", v)? }));
            }
            if let Some(v) = r.department {
                targets.push(Target::Fixed(Route::Department { code: code("department", v)? }));
            }
            if let Some(v) = r.team {
                targets.push(Target::Fixed(Route::Team { code: code("team", v)? }));
            }
            if let Some(v) = r.secure_room {
                targets.push(Target::Fixed(Route::SecureRoom { code: code("secure_room", v)? }));
            }
            for (flag, target, field) in [
                (r.responsible, Target::Responsible, "responsible"),
                (r.recipient, Target::Fixed(Route::Recipient), "recipient"),
                (r.recipient_department, Target::Fixed(Route::RecipientDepartment), "recipient_department"),
            ] {
                match flag {
                    Some(true) => targets.push(target),
                    Some(false) => return Err(err(at, format!("then.route.{field} can only be true; remove it"))),
                    None => {}
                }
            }
            if targets.len() != 1 {
                return Err(err(
                    at,
                    "then.route names exactly one target: person, department, team, secure_room, responsible, \
                     recipient or recipient_department"
                        .into(),
                ));
            }
            let target = targets.pop();
            if target == Some(Target::Responsible) && when.lists.is_empty() {
                return Err(err(
                    at,
                    "then.route.responsible needs when.sender_org_in (the list naming the responsible person)".into(),
                ));
            }
            target
        }
    };
    let due = match t.due {
        None => None,
        Some(d) => {
            let at = Some(d.span().start);
            let text = d.into_inner().trim().to_string();
            let minutes = parse_duration(&text).map_err(|m| err(at, format!("then.due: {m}")))?;
            Some((text, minutes))
        }
    };
    let flags = t.flags.unwrap_or_default();
    if let Some(bad) = flags.iter().find(|f| {
        f.is_empty() || f.len() > 64 || !f.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    }) {
        return Err(err(None, format!("then.flags: \"{bad}\" must be 1-64 lowercase letters, digits or _")));
    }
    let then =
        Then { category: t.category, priority: t.priority, confidentiality: t.confidentiality, route, due, flags };
    let acts = then.category.is_some()
        || then.priority.is_some()
        || then.confidentiality.is_some()
        || then.route.is_some()
        || then.due.is_some()
        || !then.flags.is_empty();
    if !acts && !stop {
        return Err(err(None, "the rule does nothing: give then.… actions (or stop = true)".into()));
    }
    Ok(Rule { name: name.to_string(), when, then, stop })
}

/// What the rules decided, and why. Fields the caller set explicitly are reported too, with
/// `set_by` = `caller`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    pub category: Option<Category>,
    pub priority: Option<Priority>,
    pub confidentiality: Option<Confidentiality>,
    pub route: Option<Route>,
    /// The due-within duration as written in the rule, e.g. `4h`.
    pub due_in: Option<String>,
    pub due_in_minutes: Option<i64>,
    /// Markers raised by rules, e.g. `urgent_complaint`.
    pub flags: Vec<String>,
    /// Who set each field: a rule's name, or `caller` for a value given at intake.
    pub set_by: BTreeMap<String, String>,
    /// The rules that fired, in order.
    pub fired: Vec<Fired>,
}

/// One rule that fired.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Fired {
    pub rule: String,
    /// Why it fired: one reason per condition, e.g. `notes contains "合同"`.
    pub reasons: Vec<String>,
    /// What it set, e.g. `priority = high`.
    pub set: Vec<String>,
    /// What it would have set but did not, and why.
    pub skipped: Vec<String>,
    /// It ended the evaluation (`stop = true`).
    pub stopped: bool,
}

#[cfg(test)]
mod tests;
