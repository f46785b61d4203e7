//! Security policy: login throttling and lockout, session lifetimes, and the clock they run on.
//!
//! Failed logins count against two keys: the account (organisation slug and login, as typed,
//! whether or not they exist, so that lockouts reveal nothing) and the source address. The
//! counters live in the database, so every server node sharing it enforces the same limits.

use crate::{App, AppError, AppResult, Principal, RequestCtx, audit};
use chrono::{DateTime, Duration, Utc};
use mailroom_domain::auth::{Permission, require};
use mailroom_domain::ids::UserId;
use mailroom_domain::throttle::{ThrottleRule, retry_after};
use mailroom_store::{AdminChange, ThrottleEntry, ThrottleKey, ThrottleKind};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use utoipa::ToSchema;

/// The time as the app sees it: the system clock, plus an offset that tests move forward to
/// make lockouts and sessions expire without waiting.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

/// Limits that protect logins and sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityPolicy {
    /// Failed logins per account: by default 5, then 1 minute, doubling up to 1 hour.
    pub account: ThrottleRule,
    /// Failed logins per source address: by default 20 within 15 minutes, then 15 minutes.
    pub address: ThrottleRule,
    /// A console session ends after this many seconds without a request (default 1 hour).
    pub session_idle_secs: i64,
    /// A console session ends this many hours after login, however busy (default 12).
    pub session_hours: i64,
    /// Private targets that outbound requests (webhooks) may call besides public addresses.
    pub outbound: crate::outbound::OutboundPolicy,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
            account: ThrottleRule { max_failures: 5, window_secs: 900, lockout_secs: 60, max_lockout_secs: 3600 },
            address: ThrottleRule { max_failures: 20, window_secs: 900, lockout_secs: 900, max_lockout_secs: 900 },
            session_idle_secs: 3600,
            session_hours: crate::auth::SESSION_HOURS,
            outbound: crate::outbound::OutboundPolicy::default(),
        }
    }
}

/// How often "last used" times of tokens and sessions are written (at most).
pub(crate) const TOUCH_EVERY_SECS: i64 = 60;

/// A locked account, for administrators.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Lockout {
    pub login: String,
    pub failures: i64,
    pub locked_until: Option<DateTime<Utc>>,
    /// Seconds until the account may try again.
    pub retry_after: i64,
}

fn account_key(tenant_slug: &str, login: &str) -> ThrottleKey {
    ThrottleKey {
        kind: ThrottleKind::Account,
        tenant: tenant_slug.trim().to_lowercase(),
        subject: login.trim().to_lowercase().chars().take(128).collect(),
    }
}

fn address_key(address: &str) -> ThrottleKey {
    ThrottleKey { kind: ThrottleKind::Address, tenant: String::new(), subject: address.chars().take(64).collect() }
}

/// The answer to a locked key.
pub(crate) fn too_many(retry_after: i64) -> AppError {
    AppError::Throttled { retry_after: u64::try_from(retry_after.max(1)).unwrap_or(1) }
}

impl App {
    /// The counters a login attempt is judged by: the account, and the address when known.
    pub(crate) fn login_keys(
        &self,
        ctx: &RequestCtx,
        tenant_slug: &str,
        login: &str,
    ) -> Vec<(ThrottleKey, ThrottleRule)> {
        let mut keys = vec![(account_key(tenant_slug, login), self.security.account)];
        let addr = ctx.address();
        if !addr.is_empty() && addr != "unknown" {
            keys.push((address_key(addr), self.security.address));
        }
        keys
    }

    /// Refuses the attempt while any of its keys is locked.
    pub(crate) async fn check_login_allowed(&self, keys: &[(ThrottleKey, ThrottleRule)]) -> AppResult<()> {
        let now = self.clock.now();
        let only: Vec<ThrottleKey> = keys.iter().map(|(k, _)| k.clone()).collect();
        let wait = self.store.login_throttle(&only, now).await?.iter().filter_map(|e| retry_after(&e.state, now)).max();
        match wait {
            Some(secs) => Err(too_many(secs)),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt; answers `too_many_attempts` when it caused a lockout.
    pub(crate) async fn login_failed(&self, keys: &[(ThrottleKey, ThrottleRule)]) -> AppResult<()> {
        let now = self.clock.now();
        let states = self.store.record_login_failure(keys, now).await?;
        for e in &states {
            if e.state.locked_until.is_some() {
                tracing::warn!(
                    kind = e.key.kind.as_str(),
                    tenant = %e.key.tenant,
                    subject = %e.key.subject,
                    failures = e.state.failures,
                    locked_until = ?e.state.locked_until,
                    "login locked after repeated failures"
                );
            }
        }
        match states.iter().filter_map(|e| retry_after(&e.state, now)).max() {
            Some(secs) => Err(too_many(secs)),
            None => Ok(()),
        }
    }

    /// A successful login forgets the account's failures (not the address's).
    pub(crate) async fn login_succeeded(&self, tenant_slug: &str, login: &str) -> AppResult<()> {
        self.store.clear_login_throttle(&account_key(tenant_slug, login)).await?;
        Ok(())
    }

    /// Locked accounts of the caller's organisation (admins).
    pub async fn list_lockouts(&self, p: &Principal) -> AppResult<Vec<Lockout>> {
        require(p.role, Permission::ManageUsers)?;
        let t = self.store.tenant(p.tenant_id).await?.ok_or_else(|| AppError::not_found("tenant"))?;
        let now = self.clock.now();
        let entries = self.store.login_lockouts(&t.slug, now).await?;
        Ok(entries.iter().map(|e| lockout_view(e, now)).collect())
    }

    /// Lifts a user's login lockout (admins); audited.
    pub async fn unlock_user(&self, p: &Principal, ctx: &RequestCtx, user: UserId) -> AppResult<()> {
        require(p.role, Permission::ManageUsers)?;
        let u = self.store.user(p.tenant_id, user).await?.ok_or_else(|| AppError::not_found("user"))?;
        let t = self.store.tenant(p.tenant_id).await?.ok_or_else(|| AppError::not_found("tenant"))?;
        self.unlock(&p.actor(ctx), p.tenant_id, &t.slug, &u.login).await
    }

    /// Lifts a login lockout from the command line; audited.
    pub async fn unlock_login(&self, tenant_slug: &str, login: &str) -> AppResult<()> {
        let t = self.store.tenant_by_slug(tenant_slug).await?.ok_or_else(|| AppError::not_found("tenant"))?;
        let u = self
            .store
            .user_by_login(t.id, &login.trim().to_lowercase())
            .await?
            .ok_or_else(|| AppError::not_found("user"))?;
        self.unlock(&crate::operator(), t.id, &t.slug, &u.login).await
    }

    async fn unlock(
        &self,
        actor: &mailroom_domain::custody::Actor,
        tenant: mailroom_domain::ids::TenantId,
        slug: &str,
        login: &str,
    ) -> AppResult<()> {
        let draft = audit::draft(audit::LOGIN_UNLOCK, json!({"login": login}));
        self.store.admin_write(tenant, AdminChange::ClearLoginThrottle(account_key(slug, login)), actor, draft).await?;
        Ok(())
    }
}

fn lockout_view(e: &ThrottleEntry, now: DateTime<Utc>) -> Lockout {
    Lockout {
        login: e.key.subject.clone(),
        failures: e.state.failures,
        locked_until: e.state.locked_until,
        retry_after: retry_after(&e.state, now).unwrap_or(0),
    }
}

/// Whether a timestamp is old enough to be written again.
pub(crate) fn stale(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last.is_none_or(|t| now - t >= Duration::seconds(TOUCH_EVERY_SECS))
}
