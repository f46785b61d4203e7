//! Classification and routing rules per organisation: versioned rule sets (the latest is in
//! force; an organisation without one uses the default pack), dry runs, and the explanation of
//! what the rules decided for an item at intake.

use crate::{App, AppError, AppResult, Principal, RequestCtx};
use chrono::{DateTime, Utc};
use mailroom_domain::auth::{Permission, allowed, require};
use mailroom_domain::custody::{EventDraft, storage_time};
use mailroom_domain::ids::{DepartmentId, ItemId, TenantId};
use mailroom_domain::rules::{DEFAULT_PACK, Decision, Facts, Route, RuleSet};
use mailroom_domain::{DomainError, ErrorCode};
use mailroom_store::StoredRuleSet;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// Parsed rule sets by source text, so that intake does not parse the rules on every item.
static PARSED: LazyLock<Mutex<HashMap<String, Arc<RuleSet>>>> = LazyLock::new(Mutex::default);
/// Parsed rule sets kept at most.
const PARSED_MAX: usize = 64;

/// Parses a rule source, or takes it from the cache.
fn parsed(source: &str) -> AppResult<Arc<RuleSet>> {
    let mut cache = PARSED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(rs) = cache.get(source) {
        return Ok(rs.clone());
    }
    let rs = Arc::new(RuleSet::parse(source)?);
    if cache.len() >= PARSED_MAX {
        cache.clear();
    }
    cache.insert(source.to_string(), rs.clone());
    Ok(rs)
}

/// The rule set in force per organisation, as intake last read it: (when, version, rules).
/// Saving on this node replaces the entry at once; other server nodes read the new version
/// within [`IN_FORCE_TTL`].
#[allow(clippy::type_complexity)]
static IN_FORCE: LazyLock<Mutex<HashMap<TenantId, (Instant, Option<i64>, Arc<RuleSet>)>>> =
    LazyLock::new(Mutex::default);
/// Departments per organisation as intake last read them: (when, id → (code, display name)).
#[allow(clippy::type_complexity)]
static DEPARTMENTS: LazyLock<Mutex<HashMap<TenantId, (Instant, Arc<HashMap<DepartmentId, (String, String)>>)>>> =
    LazyLock::new(Mutex::default);

/// How long intake trusts the rule set (and the department names) it read.
const IN_FORCE_TTL: Duration = Duration::from_secs(1);

/// The rules in force for an organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActiveRules {
    /// The saved version in force; null when the organisation uses the default pack.
    pub version: Option<i64>,
    /// True when the organisation has saved no rules and the default pack applies.
    pub default_pack: bool,
    /// The TOML source.
    pub source: String,
    pub created_by: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// The rule names, in evaluation order.
    pub rules: Vec<String>,
}

/// A new version of the rules (TOML, see docs/RULES.md).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesInput {
    pub source: String,
}

/// A dry run: the facts of an item (as known at intake) and, optionally, rules to try instead of
/// those in force.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateInput {
    pub item: Facts,
    /// Unsaved rules to evaluate (e.g. from the editor); omitted: the rules in force.
    pub source: Option<String>,
}

/// What the rules would decide.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Evaluation {
    /// The saved version evaluated; null for the default pack or unsaved rules.
    pub rules_version: Option<i64>,
    pub decision: Decision,
}

/// A routing target as resolved against the directory at intake.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResolvedRoute {
    /// The target as the rule gave it, e.g. `department:FIN`, `recipient_department`.
    pub target: String,
    /// The concrete target, e.g. `department:CARD` for `recipient_department`; null when it could
    /// not be resolved.
    pub resolved: Option<String>,
    /// The person, department or room's name.
    pub name: Option<String>,
    /// Why the target could not be resolved.
    pub note: Option<String>,
}

/// Why an item was classified and routed as it was: recorded in its `registered` custody event
/// (and so covered by the custody hash chain).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Explanation {
    /// The rule set version in force at intake; null for the default pack.
    pub rules_version: Option<i64>,
    pub default_pack: bool,
    pub decision: Decision,
    pub route: Option<ResolvedRoute>,
    pub due_by: Option<DateTime<Utc>>,
}

/// An item's explanation with the custody event it is recorded in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemExplanation {
    pub item_id: ItemId,
    /// Sequence number of the `registered` custody event holding the explanation.
    pub event_seq: i64,
    pub event_hash: String,
    #[serde(flatten)]
    pub explanation: Explanation,
}

impl App {
    /// The rule set in force: the organisation's latest version, or the default pack.
    pub(crate) async fn rules_in_force(&self, t: TenantId) -> AppResult<(Option<StoredRuleSet>, Arc<RuleSet>)> {
        match self.store.rule_set(t, None).await? {
            Some(saved) => {
                let rs = parsed(&saved.source).map_err(|e| {
                    AppError::Internal(format!("stored rules version {} do not parse: {e}", saved.version))
                })?;
                Ok((Some(saved), rs))
            }
            None => Ok((None, parsed(DEFAULT_PACK)?)),
        }
    }

    /// The version in force (`None`: the default pack) and its rules, for intake and dry runs:
    /// read at most once a second per organisation.
    pub(crate) async fn rules_for_intake(&self, t: TenantId) -> AppResult<(Option<i64>, Arc<RuleSet>)> {
        let now = Instant::now();
        if let Some((at, version, rs)) = IN_FORCE.lock().unwrap_or_else(PoisonError::into_inner).get(&t)
            && now.duration_since(*at) < IN_FORCE_TTL
        {
            return Ok((*version, rs.clone()));
        }
        let (saved, rs) = self.rules_in_force(t).await?;
        let version = saved.map(|s| s.version);
        let mut cache = IN_FORCE.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() > 10_000 {
            cache.retain(|_, (at, _, _)| now.duration_since(*at) < IN_FORCE_TTL);
        }
        cache.insert(t, (now, version, rs.clone()));
        Ok((version, rs))
    }

    /// Code and display name of a department, for rules at intake: from the organisation's
    /// departments, read at most once a second (and again when the department is not among them).
    pub(crate) async fn department_for_intake(
        &self,
        t: TenantId,
        id: DepartmentId,
    ) -> AppResult<Option<(String, String)>> {
        let now = Instant::now();
        let cached = DEPARTMENTS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&t)
            .filter(|(at, _)| now.duration_since(*at) < IN_FORCE_TTL)
            .map(|(_, m)| m.clone());
        let map = match cached {
            Some(m) if m.contains_key(&id) => m,
            _ => {
                let m: HashMap<DepartmentId, (String, String)> = self
                    .store
                    .list_departments(t)
                    .await?
                    .into_iter()
                    .map(|d| (d.id, (d.code.clone(), dept_name(&d.name, d.name_en.as_deref()))))
                    .collect();
                let m = Arc::new(m);
                let mut cache = DEPARTMENTS.lock().unwrap_or_else(PoisonError::into_inner);
                if cache.len() > 10_000 {
                    cache.retain(|_, (at, _)| now.duration_since(*at) < IN_FORCE_TTL);
                }
                cache.insert(t, (now, m.clone()));
                m
            }
        };
        Ok(map.get(&id).cloned())
    }

    /// The rules in force (administrators).
    pub async fn active_rules(&self, p: &Principal) -> AppResult<ActiveRules> {
        require(p.role, Permission::ManageRules)?;
        let (saved, rs) = self.rules_in_force(p.tenant_id).await?;
        let rules = rs.rule_names().into_iter().map(str::to_string).collect();
        Ok(match saved {
            Some(s) => ActiveRules {
                version: Some(s.version),
                default_pack: false,
                source: s.source,
                created_by: Some(s.created_by),
                created_at: Some(s.created_at),
                rules,
            },
            None => ActiveRules {
                version: None,
                default_pack: true,
                source: DEFAULT_PACK.to_string(),
                created_by: None,
                created_at: None,
                rules,
            },
        })
    }

    /// Every saved version, newest first (administrators).
    pub async fn rule_versions(&self, p: &Principal) -> AppResult<Vec<StoredRuleSet>> {
        require(p.role, Permission::ManageRules)?;
        Ok(self.store.rule_set_versions(p.tenant_id).await?)
    }

    /// Validates and saves a new version of the rules, which is in force at once. Recorded in the
    /// custody log with the source's SHA-256.
    pub async fn save_rules(&self, p: &Principal, ctx: &RequestCtx, input: &RulesInput) -> AppResult<ActiveRules> {
        require(p.role, Permission::ManageRules)?;
        let rs = RuleSet::parse(&input.source)?;
        let names: Vec<String> = rs.rule_names().into_iter().map(str::to_string).collect();
        let sha = Sha256::digest(input.source.as_bytes());
        let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
        let draft = EventDraft {
            item_id: None,
            kind: "rules.changed".into(),
            location_id: None,
            details: json!({"source_sha256": hex, "bytes": input.source.len(), "rules": names}),
        };
        let actor = p.actor(ctx);
        let at = storage_time(Utc::now());
        let (saved, _) = match self
            .store
            .save_rule_set(p.tenant_id, input.source.clone(), actor.name.clone(), at, &actor, draft)
            .await
        {
            Ok(x) => x,
            Err(mailroom_store::StoreError::Duplicate(_)) => {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    "someone else saved the rules at the same moment; reload and try again",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        IN_FORCE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(p.tenant_id, (Instant::now(), Some(saved.version), Arc::new(rs)));
        Ok(ActiveRules {
            version: Some(saved.version),
            default_pack: false,
            source: saved.source,
            created_by: Some(saved.created_by),
            created_at: Some(saved.created_at),
            rules: names,
        })
    }

    /// A dry run of the rules (staff registering items and administrators).
    pub async fn evaluate_rules(&self, p: &Principal, input: &EvaluateInput) -> AppResult<Evaluation> {
        if !allowed(p.role, Permission::RegisterItems) && !allowed(p.role, Permission::ManageRules) {
            return Err(AppError::forbidden());
        }
        match &input.source {
            Some(src) => {
                if !allowed(p.role, Permission::ManageRules) {
                    return Err(AppError::forbidden());
                }
                let rs = RuleSet::parse(src)?;
                Ok(Evaluation { rules_version: None, decision: rs.evaluate(&input.item) })
            }
            None => {
                let (version, rs) = self.rules_for_intake(p.tenant_id).await?;
                Ok(Evaluation { rules_version: version, decision: rs.evaluate(&input.item) })
            }
        }
    }

    /// Why an item was classified and routed as it was. Withheld (403) from callers without need
    /// to know the contents of a confidential item, since the reasons quote sender and notes.
    pub async fn item_explanation(&self, p: &Principal, id: ItemId) -> AppResult<ItemExplanation> {
        let item = self.item(p, id).await?;
        if item.redacted {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "the explanation quotes the sender and contents of this confidential item, which you have no need to know",
            ));
        }
        let events = self.store.item_events(p.tenant_id, id).await?;
        let ev = events.iter().find(|e| e.kind == "registered").ok_or_else(|| AppError::not_found("explanation"))?;
        let details: serde_json::Value = serde_json::from_str(&ev.details)
            .map_err(|e| AppError::Internal(format!("event details of item {id} do not read: {e}")))?;
        let rules = details.get("rules").cloned().ok_or_else(|| AppError::not_found("explanation"))?;
        let explanation: Explanation = serde_json::from_value(rules)
            .map_err(|e| AppError::Internal(format!("explanation of item {id} does not read: {e}")))?;
        Ok(ItemExplanation { item_id: id, event_seq: ev.seq, event_hash: ev.hash.clone(), explanation })
    }

    /// Resolves a rule's routing target against the directory.
    pub(crate) async fn resolve_route(
        &self,
        t: TenantId,
        route: &Route,
        recipient: &RecipientFacts,
    ) -> AppResult<ResolvedRoute> {
        let target = route.as_text();
        let missing =
            |note: String| ResolvedRoute { target: target.clone(), resolved: None, name: None, note: Some(note) };
        let found = |resolved: String, name: String| ResolvedRoute {
            target: target.clone(),
            resolved: Some(resolved),
            name: Some(name),
            note: None,
        };
        Ok(match route {
            Route::Person { code } => match self.store.person_by_employee_no(t, code).await? {
                Some(person) => found(target.clone(), person.name),
                None => missing(format!("no person with employee number {code} in the directory")),
            },
            Route::Department { code } | Route::Team { code } => match self.store.department_by_code(t, code).await? {
                Some(d) => found(target.clone(), dept_name(&d.name, d.name_en.as_deref())),
                None => missing(format!("no department or team with code {code} in the directory")),
            },
            Route::SecureRoom { code } => {
                match self.store.list_locations(t).await?.into_iter().find(|l| &l.code == code) {
                    Some(l) if l.security_level >= 2 => found(target.clone(), l.name),
                    Some(_) => missing(format!("location {code} is not a secure room (security level below 2)")),
                    None => missing(format!("no storage location with code {code}")),
                }
            }
            Route::Recipient => found(target.clone(), recipient.name.clone()),
            Route::RecipientDepartment => match &recipient.department {
                Some((code, name)) => found(format!("department:{code}"), name.clone()),
                None => missing("the recipient has no department in the directory".into()),
            },
        })
    }
}

/// What intake knows about the recipient, for rules and routing.
#[derive(Debug, Clone, Default)]
pub(crate) struct RecipientFacts {
    pub name: String,
    /// (code, display name) of the recipient department, or the recipient's department.
    pub department: Option<(String, String)>,
}

pub(crate) fn dept_name(name: &str, en: Option<&str>) -> String {
    match en {
        Some(en) if en != name => format!("{name} {en}"),
        _ => name.to_string(),
    }
}

/// The seal requirement, when rules (not the caller) made an item confidential.
pub(crate) fn seal_needed(decision: &Decision) -> DomainError {
    let by = decision.set_by.get("confidentiality").map(String::as_str).unwrap_or("?");
    let level = decision.confidentiality.map(|c| c.as_str()).unwrap_or("confidential");
    DomainError::invalid(
        "seal_number",
        format!(
            "rule \"{by}\" classifies this item {level}: register it with the number of its seal or confidential bag"
        ),
    )
}
