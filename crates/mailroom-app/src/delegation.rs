//! Delegation: a recipient lets a named colleague collect their mail for a limited time — all of
//! it, one category, or specific items. Strictly confidential items are never released to a delegate.

use crate::{App, AppError, AppResult, Principal, RequestCtx};
use chrono::{DateTime, Duration, Utc};
use mailroom_domain::auth::{Permission, allowed};
use mailroom_domain::custody::{EventDraft, storage_time};
use mailroom_domain::ids::{DelegationId, ItemId, PersonId};
use mailroom_domain::item::Category;
use mailroom_domain::{DomainError, ErrorCode};
use mailroom_store::{Delegation, Item, ItemFilter};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// Longest allowed delegation.
pub const MAX_DAYS: i64 = 180;

/// A new delegation, as submitted.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegationInput {
    /// The colleague who may collect the mail.
    pub delegate_id: PersonId,
    /// The recipient granting it; defaults to the caller. Only administrators grant for others.
    pub grantor_id: Option<PersonId>,
    /// `all`, `category` or `items`.
    pub scope: String,
    /// For scope `category`.
    pub category: Option<String>,
    /// For scope `items`: items addressed to the grantor.
    #[serde(default)]
    pub item_ids: Vec<ItemId>,
    /// Defaults to now.
    pub valid_from: Option<DateTime<Utc>>,
    /// At most 180 days after `valid_from`.
    pub valid_until: DateTime<Utc>,
}

impl App {
    fn may_manage_for(p: &Principal, grantor: PersonId) -> bool {
        p.person_id == Some(grantor) || allowed(p.role, Permission::ManageDirectory)
    }

    /// Grants a delegation (recorded in the custody log).
    pub async fn grant_delegation(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        input: &DelegationInput,
    ) -> AppResult<Delegation> {
        let grantor = match (input.grantor_id, p.person_id) {
            (Some(g), _) => g,
            (None, Some(me)) => me,
            (None, None) => {
                return Err(DomainError::invalid(
                    "grantor_id",
                    "your login is not linked to a person; give grantor_id",
                )
                .into());
            }
        };
        if !Self::may_manage_for(p, grantor) {
            return Err(AppError::forbidden());
        }
        if grantor == input.delegate_id {
            return Err(DomainError::invalid("delegate_id", "you cannot delegate to yourself").into());
        }
        let t = p.tenant_id;
        self.store
            .person(t, grantor)
            .await?
            .ok_or_else(|| DomainError::invalid("grantor_id", "no such person in this organisation"))?;
        let delegate = self
            .store
            .person(t, input.delegate_id)
            .await?
            .ok_or_else(|| DomainError::invalid("delegate_id", "no such person in this organisation"))?;
        if !delegate.active {
            return Err(DomainError::invalid("delegate_id", "the delegate has left the organisation").into());
        }
        let now = storage_time(Utc::now());
        let from = storage_time(input.valid_from.unwrap_or(now));
        let until = storage_time(input.valid_until);
        if until <= from || until <= now {
            return Err(
                DomainError::invalid("valid_until", "valid_until must be in the future and after valid_from").into()
            );
        }
        if until - from > Duration::days(MAX_DAYS) {
            return Err(
                DomainError::invalid("valid_until", format!("a delegation lasts at most {MAX_DAYS} days")).into()
            );
        }
        let (category, item_ids) = match input.scope.trim() {
            "all" => (None, vec![]),
            "category" => {
                let c = input
                    .category
                    .as_deref()
                    .ok_or_else(|| DomainError::invalid("category", "scope category needs a category"))?;
                (Some(Category::parse_field("category", c)?), vec![])
            }
            "items" => {
                if input.item_ids.is_empty() || input.item_ids.len() > 100 {
                    return Err(DomainError::invalid("item_ids", "scope items needs 1 to 100 item ids").into());
                }
                for id in &input.item_ids {
                    let ok = self.store.item(t, *id).await?.is_some_and(|i| i.recipient_person_id == Some(grantor));
                    if !ok {
                        return Err(DomainError::invalid(
                            "item_ids",
                            format!("item {id} is not addressed to the grantor"),
                        )
                        .into());
                    }
                }
                (None, input.item_ids.clone())
            }
            _ => return Err(DomainError::invalid("scope", "scope must be all, category or items").into()),
        };
        let d = Delegation {
            id: DelegationId::new(),
            tenant_id: t,
            grantor_id: grantor,
            delegate_id: input.delegate_id,
            scope: input.scope.trim().to_string(),
            category,
            item_ids,
            valid_from: from,
            valid_until: until,
            revoked_at: None,
            created_by: p.user_id,
            created_at: now,
        };
        let draft = EventDraft {
            item_id: None,
            kind: "delegation.granted".into(),
            location_id: None,
            details: json!({
                "delegation_id": d.id, "grantor_id": d.grantor_id, "delegate_id": d.delegate_id, "scope": d.scope,
                "category": d.category, "item_ids": d.item_ids, "valid_from": d.valid_from, "valid_until": d.valid_until,
            }),
        };
        self.store.create_delegation(&d, &p.actor(ctx), draft).await?;
        Ok(d)
    }

    /// Delegations the caller granted or received.
    pub async fn my_delegations(&self, p: &Principal) -> AppResult<Vec<Delegation>> {
        match p.person_id {
            Some(me) => Ok(self.store.delegations_of(p.tenant_id, me).await?),
            None => Ok(vec![]),
        }
    }

    /// Revokes a delegation: the grantor, the delegate (declining) or an administrator may.
    pub async fn revoke_delegation(&self, p: &Principal, ctx: &RequestCtx, id: DelegationId) -> AppResult<Delegation> {
        let d = self.store.delegation(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("delegation"))?;
        let involved = p.person_id == Some(d.grantor_id) || p.person_id == Some(d.delegate_id);
        if !involved && !allowed(p.role, Permission::ManageDirectory) {
            return Err(AppError::not_found("delegation"));
        }
        if d.revoked_at.is_some() {
            return Err(AppError::new(ErrorCode::Conflict, "the delegation was already revoked"));
        }
        let now = storage_time(Utc::now());
        let draft = EventDraft {
            item_id: None,
            kind: "delegation.revoked".into(),
            location_id: None,
            details: json!({"delegation_id": d.id, "grantor_id": d.grantor_id, "delegate_id": d.delegate_id}),
        };
        self.store.revoke_delegation(p.tenant_id, id, now, &p.actor(ctx), draft).await.map_err(|e| match e {
            mailroom_store::StoreError::NotFound => {
                AppError::new(ErrorCode::Conflict, "the delegation was already revoked")
            }
            other => other.into(),
        })?;
        Ok(Delegation { revoked_at: Some(now), ..d })
    }

    /// Items waiting in the mailroom that the caller may collect for others.
    pub async fn delegated_items(&self, p: &Principal) -> AppResult<Vec<Item>> {
        let Some(me) = p.person_id else { return Ok(vec![]) };
        let now = Utc::now();
        let active: Vec<Delegation> = self
            .store
            .delegations_of(p.tenant_id, me)
            .await?
            .into_iter()
            .filter(|d| d.delegate_id == me && d.revoked_at.is_none() && d.valid_from <= now && now < d.valid_until)
            .collect();
        let mut out: Vec<Item> = Vec::new();
        for d in &active {
            let f = ItemFilter { mine: Some((d.grantor_id, None)), limit: 200, clearance: 3, ..Default::default() };
            for item in self.store.list_items(p.tenant_id, &f).await? {
                if item.status.in_mailroom() && d.covers(&item, now) && !out.iter().any(|o| o.id == item.id) {
                    out.push(Self::present(p, item, true));
                }
            }
        }
        out.sort_by_key(|i| std::cmp::Reverse(i.id));
        Ok(out)
    }
}
