//! Retention: per-organisation, per-category policies ("patient reports: 30 days"), and the job
//! that destroys the data keys of expired material (crypto-shredding), recording every destroyed
//! key in the organisation's custody log.

use crate::{App, AppResult, Principal, RequestCtx};
use chrono::{DateTime, Utc};
use mailroom_domain::DomainError;
use mailroom_domain::auth::{Permission, require};
use mailroom_domain::custody::{Actor, EventDraft, storage_time};
use mailroom_domain::ids::{DataKeyId, TenantId};
use mailroom_domain::item::Category;
use mailroom_domain::vault::{MAX_RETENTION_DAYS, Period};
use mailroom_store::RetentionPolicy;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The complete set of an organisation's retention policies; categories not listed are kept
/// indefinitely.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionInput {
    pub policies: Vec<PolicyInput>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// An item category, e.g. `patient_report`.
    pub category: String,
    /// Attachments (signatures, photos, scans) of items in this category are destroyed this many
    /// days after the end of the day (policies up to 93 days) or month they were stored in.
    /// 1–36500.
    pub days: i64,
}

/// One data key destroyed (or, in a dry run, due to be).
#[derive(Debug, Clone)]
pub struct Shredded {
    pub tenant: String,
    pub category: Category,
    /// `2026-05` or `2026-05-14`.
    pub period: String,
    pub data_key_id: DataKeyId,
    pub attachments: i64,
    pub days: u32,
}

fn check_days(field: &str, days: i64) -> Result<u32, DomainError> {
    match u32::try_from(days) {
        Ok(d) if (1..=MAX_RETENTION_DAYS).contains(&d) => Ok(d),
        _ => Err(DomainError::invalid(field, format!("days must be between 1 and {MAX_RETENTION_DAYS}"))),
    }
}

fn as_map(policies: &[RetentionPolicy]) -> BTreeMap<&'static str, i64> {
    policies.iter().map(|p| (p.category.as_str(), p.days)).collect()
}

impl App {
    /// The organisation's retention policies (admins).
    pub async fn retention_policies(&self, p: &Principal) -> AppResult<Vec<RetentionPolicy>> {
        require(p.role, Permission::ManageRetention)?;
        Ok(self.store.retention_policies(p.tenant_id).await?)
    }

    /// Replaces the organisation's retention policies (admins). Recorded in the custody log.
    pub async fn set_retention_policies(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        input: &RetentionInput,
    ) -> AppResult<Vec<RetentionPolicy>> {
        require(p.role, Permission::ManageRetention)?;
        let mut wanted: Vec<(Category, u32)> = Vec::with_capacity(input.policies.len());
        for (i, pol) in input.policies.iter().enumerate() {
            let field = format!("policies[{i}]");
            let category = Category::parse_field(&format!("{field}.category"), pol.category.trim())?;
            let days = check_days(&format!("{field}.days"), pol.days)?;
            if wanted.iter().any(|(c, _)| *c == category) {
                return Err(DomainError::invalid(
                    &format!("{field}.category"),
                    format!("{category} is listed more than once"),
                )
                .into());
            }
            wanted.push((category, days));
        }
        self.replace_retention(p.tenant_id, &p.actor(ctx), wanted).await
    }

    /// Sets (`Some`) or removes (`None`) one category's policy, leaving the others (the CLI).
    pub async fn set_retention_policy(
        &self,
        t: TenantId,
        actor: &Actor,
        category: Category,
        days: Option<i64>,
    ) -> AppResult<Vec<RetentionPolicy>> {
        let mut wanted: Vec<(Category, u32)> = self
            .store
            .retention_policies(t)
            .await?
            .into_iter()
            .filter(|p| p.category != category)
            .filter_map(|p| u32::try_from(p.days).ok().map(|d| (p.category, d)))
            .collect();
        if let Some(days) = days {
            wanted.push((category, check_days("days", days)?));
        }
        self.replace_retention(t, actor, wanted).await
    }

    async fn replace_retention(
        &self,
        t: TenantId,
        actor: &Actor,
        mut wanted: Vec<(Category, u32)>,
    ) -> AppResult<Vec<RetentionPolicy>> {
        wanted.sort_by_key(|(c, _)| c.as_str());
        let previous = self.store.retention_policies(t).await?;
        let now = storage_time(Utc::now());
        let policies: Vec<RetentionPolicy> = wanted
            .into_iter()
            .map(|(category, days)| {
                let days = i64::from(days);
                let updated_at = previous
                    .iter()
                    .find(|p| p.category == category && p.days == days)
                    .map(|p| p.updated_at)
                    .unwrap_or(now);
                RetentionPolicy { category, days, updated_at }
            })
            .collect();
        if as_map(&policies) == as_map(&previous) {
            return Ok(previous);
        }
        let draft = EventDraft {
            item_id: None,
            kind: "retention.policy".into(),
            location_id: None,
            details: json!({ "policies": as_map(&policies), "previous": as_map(&previous) }),
        };
        self.store.set_retention_policies(t, policies.clone(), actor, draft).await?;
        Ok(policies)
    }

    /// Destroys the data key of every period whose material is past its category's retention at
    /// `now`: the wrapped key is erased and so are the ciphertexts it protected; one
    /// `retention.shredded` custody event per key. Several nodes may run this at once: each key
    /// is shredded, and recorded, exactly once. A dry run only reports.
    pub async fn run_retention(&self, now: DateTime<Utc>, dry_run: bool, actor: &Actor) -> AppResult<Vec<Shredded>> {
        let mut out = Vec::new();
        for t in self.store.list_tenants().await? {
            let policies = self.store.retention_policies(t.id).await?;
            if policies.is_empty() {
                continue;
            }
            let counts = if dry_run { self.store.attachment_counts(t.id).await? } else { Vec::new() };
            for k in self.store.data_keys(t.id).await? {
                if k.shredded_at.is_some() {
                    continue;
                }
                let Some(days) =
                    policies.iter().find(|p| p.category == k.category).and_then(|p| u32::try_from(p.days).ok())
                else {
                    continue;
                };
                let period = Period { start: k.period_start, end: k.period_end };
                if !period.expired(days, now) {
                    continue;
                }
                let mut s = Shredded {
                    tenant: t.slug.clone(),
                    category: k.category,
                    period: period.label(),
                    data_key_id: k.id,
                    attachments: 0,
                    days,
                };
                if dry_run {
                    s.attachments = counts.iter().find(|(d, _)| *d == Some(k.id)).map(|(_, n)| *n).unwrap_or(0);
                    out.push(s);
                    continue;
                }
                let draft = EventDraft {
                    item_id: None,
                    kind: "retention.shredded".into(),
                    location_id: None,
                    details: json!({
                        "category": k.category,
                        "period": s.period,
                        "period_start": k.period_start.to_rfc3339(),
                        "period_end": k.period_end.to_rfc3339(),
                        "retention_days": days,
                        "data_key_id": k.id,
                    }),
                };
                if let Some((_, n)) = self.store.shred_data_key(t.id, k.id, actor, draft).await? {
                    s.attachments = n;
                    tracing::info!(
                        tenant = %s.tenant, category = %s.category, period = %s.period, attachments = n,
                        "retention: data key shredded"
                    );
                    out.push(s);
                }
            }
        }
        Ok(out)
    }
}
