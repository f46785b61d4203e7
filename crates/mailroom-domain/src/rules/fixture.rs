//! Rule fixtures: items in, expected decisions out (`mailroom rules test`).
//!
//! ```toml
//! # Optional: lists that replace the rule set's lists of the same name for this test run.
//! [lists]
//! key_partners = [{ org = "Acme Components", responsible = "E0001" }]
//!
//! [[case]]
//! name = "contract from a key partner"
//! item = { sender_org = "Acme Components Ltd", notes = "采购合同 contract 2026-14" }
//! expect = { category = "contract", priority = "high", route = "person:E0001", fired = ["partner-contracts"] }
//! ```
//! Only the fields listed under `expect` are compared; `route = "none"` and `due = "none"` expect
//! no route and no due-by; `fired` is the exact list of rule names, in order.

use super::{Decision, Facts, RawEntry, Route, RuleError, RuleSet, compile_lists, parse_duration};
use crate::item::{Category, Confidentiality, Priority};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixtures {
    #[serde(default)]
    lists: BTreeMap<String, Vec<RawEntry>>,
    #[serde(default)]
    case: Vec<Spanned<RawCase>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    item: Facts,
    expect: Expect,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Expect {
    category: Option<Spanned<String>>,
    priority: Option<Spanned<String>>,
    confidentiality: Option<Spanned<String>>,
    route: Option<Spanned<String>>,
    due: Option<Spanned<String>>,
    flags: Option<Vec<String>>,
    fired: Option<Vec<String>>,
}

/// One field that came out differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub field: String,
    pub expected: String,
    pub actual: String,
}

/// The outcome of one fixture case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseResult {
    pub name: String,
    /// 1-based line of the case in the fixture file.
    pub line: usize,
    pub mismatches: Vec<Mismatch>,
    pub decision: Decision,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

fn shown<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "none".to_string(), |v| v.to_string())
}

/// An expected enum value (or `none`), checked.
fn enum_or_none<T: ToString>(
    src: &str,
    case: &str,
    field: &str,
    v: Spanned<String>,
    parse: fn(&str) -> Option<T>,
) -> Result<String, RuleError> {
    let at = Some(v.span().start);
    let v = v.into_inner();
    if v.trim() == "none" {
        return Ok("none".into());
    }
    parse(&v).map(|x| x.to_string()).ok_or_else(|| {
        RuleError::at(src, at, Some(case), format!("expect.{field}: \"{v}\" is not a {field} (or none)"))
    })
}

/// Runs the fixture file `src` against `rules`. Invalid fixtures are an error (naming the line);
/// failing cases are results with mismatches.
pub fn run_fixtures(rules: &RuleSet, src: &str) -> Result<Vec<CaseResult>, RuleError> {
    let raw: RawFixtures = toml::from_str(src).map_err(|e| RuleError::from_toml(src, &e, "case"))?;
    let rules = rules.clone().with_lists(compile_lists(src, raw.lists)?);
    if raw.case.is_empty() {
        return Err(RuleError::at(src, None, None, "the fixture file has no [[case]]"));
    }
    let mut out = Vec::with_capacity(raw.case.len());
    for c in raw.case {
        let line = super::line_col(src, c.span().start).0;
        let c = c.into_inner();
        let d = rules.evaluate(&c.item);
        let mut mismatches = Vec::new();
        let mut check = |field: &str, expected: String, actual: String| {
            if expected != actual {
                mismatches.push(Mismatch { field: field.into(), expected, actual });
            }
        };
        let e = c.expect;
        if let Some(v) = e.category {
            let expected = enum_or_none(src, &c.name, "category", v, Category::parse)?;
            check("category", expected, shown(d.category));
        }
        if let Some(v) = e.priority {
            let expected = enum_or_none(src, &c.name, "priority", v, Priority::parse)?;
            check("priority", expected, shown(d.priority));
        }
        if let Some(v) = e.confidentiality {
            let expected = enum_or_none(src, &c.name, "confidentiality", v, Confidentiality::parse)?;
            check("confidentiality", expected, shown(d.confidentiality));
        }
        if let Some(v) = e.route {
            let at = Some(v.span().start);
            let v = v.into_inner();
            let expected = if v.trim() == "none" {
                "none".to_string()
            } else {
                Route::parse(&v).map(|r| r.as_text()).ok_or_else(|| {
                    RuleError::at(
                        src,
                        at,
                        Some(&c.name),
                        format!(
                            "expect.route \"{v}\" is not a route (e.g. person:E1001, department:FIN, recipient, none)"
                        ),
                    )
                })?
            };
            check("route", expected, shown(d.route.as_ref().map(Route::as_text)));
        }
        if let Some(v) = e.due {
            let at = Some(v.span().start);
            let v = v.into_inner();
            let expected = match v.trim() {
                "none" => None,
                s => Some(
                    parse_duration(s).map_err(|m| RuleError::at(src, at, Some(&c.name), format!("expect.due: {m}")))?,
                ),
            };
            if expected != d.due_in_minutes {
                check("due", v.trim().to_string(), shown(d.due_in.clone()));
            }
        }
        if let Some(v) = e.flags {
            check("flags", format!("{v:?}"), format!("{:?}", d.flags));
        }
        if let Some(v) = e.fired {
            let actual: Vec<&str> = d.fired.iter().map(|f| f.rule.as_str()).collect();
            check("fired", format!("{v:?}"), format!("{actual:?}"));
        }
        out.push(CaseResult { name: c.name, line, mismatches, decision: d });
    }
    Ok(out)
}
