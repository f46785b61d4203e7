//! API tokens: created per user and organisation, optionally narrowed to a lower role and a
//! scope, optionally expiring, listed and revoked by their owner or an administrator. The secret
//! is 32 random bytes shown once; only its SHA-256 is stored. Creation and revocation are audited.

use crate::{App, AppError, AppResult, Principal, RequestCtx, audit, random_bytes, sha256_hex};
use chrono::{DateTime, Duration, Utc};
use mailroom_domain::auth::{Permission, Role, allowed};
use mailroom_domain::custody::{Actor, hex};
use mailroom_domain::ids::{TenantId, TokenId, UserId};
use mailroom_domain::token::{TokenScope, role_within};
use mailroom_domain::{DomainError, ErrorCode, text};
use mailroom_store::{AdminChange, ApiToken, StoreError, User};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// Longest lifetime a token may be given: ten years.
const MAX_LIFETIME_SECS: i64 = 10 * 366 * 24 * 3600;

/// Credentials exchanged for a token (a scanner station signing in).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordTokenInput {
    /// The organisation's slug, as at the console login.
    pub organisation: String,
    pub login: String,
    pub password: String,
    pub name: Option<String>,
    /// A narrower role than the user's.
    pub role: Option<String>,
    /// full (default), scanner or read_only.
    pub scope: Option<String>,
    /// Lifetime such as `90d` (the default), `12h` or `30m`.
    pub expires_in: Option<String>,
}

/// A new token, as requested.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// What the token is for, e.g. `scanner 2F reception`.
    pub name: Option<String>,
    /// The user the token acts as; defaults to the caller. Only admins may name another user.
    pub user_id: Option<UserId>,
    /// A narrower role than the user's (admin, staff, employee).
    pub role: Option<String>,
    /// full (default), scanner or read_only.
    pub scope: Option<String>,
    /// Lifetime such as `90d`, `12h`, `30m` or `3600s`; without it the token lasts until revoked.
    pub expires_in: Option<String>,
}

/// What a token is limited to, validated.
#[derive(Debug, Clone, Default)]
pub struct TokenSpec {
    pub name: String,
    pub role: Option<Role>,
    pub scope: Option<TokenScope>,
    pub expires_in: Option<Duration>,
}

/// A token just created: its record and the secret, shown only this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: ApiToken,
    /// The bearer secret (`mr_` and 64 hex digits). It cannot be shown again: an answer replayed
    /// for a repeated `Idempotency-Key` carries null.
    pub secret: Option<String>,
}

/// Parses a lifetime: a positive number followed by `s`, `m`, `h` or `d`.
pub fn parse_lifetime(field: &str, s: &str) -> Result<Duration, DomainError> {
    let s = s.trim();
    let bad = || DomainError::invalid(field, format!("{field} must look like 90d, 12h, 30m or 3600s"));
    let unit = s.chars().last().ok_or_else(bad)?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
    let secs_per = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    let secs = n.checked_mul(secs_per).filter(|s| *s > 0).ok_or_else(bad)?;
    if secs > MAX_LIFETIME_SECS {
        return Err(DomainError::invalid(field, format!("{field} must be at most ten years")));
    }
    Ok(Duration::seconds(secs))
}

impl TokenSpec {
    /// Validates a request's fields.
    pub fn from_input(input: &TokenInput) -> Result<TokenSpec, DomainError> {
        Ok(TokenSpec {
            name: text::optional("name", input.name.as_deref(), 100)?.unwrap_or_default(),
            role: input.role.as_deref().map(|r| Role::parse_field("role", r)).transpose()?,
            scope: input.scope.as_deref().map(|s| TokenScope::parse_field("scope", s)).transpose()?,
            expires_in: input.expires_in.as_deref().map(|e| parse_lifetime("expires_in", e)).transpose()?,
        })
    }
}

pub(crate) fn bad_token() -> AppError {
    AppError::new(ErrorCode::Unauthorized, "invalid, expired or revoked API token")
}

fn may_manage_tokens(p: &Principal) -> bool {
    allowed(p.role, Permission::ManageUsers)
}

/// How a token secret is stored and looked up: SHA-256, lowercase hex.
pub(crate) fn token_hash(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}

impl App {
    /// Creates a token for `user`, audited as `actor`. `ceiling` is the most the token may allow
    /// (the creator's effective role when acting through the API).
    async fn issue_token(
        &self,
        actor: &Actor,
        user: &User,
        spec: &TokenSpec,
        ceiling: Role,
    ) -> AppResult<CreatedToken> {
        if !user.active {
            return Err(DomainError::invalid("user_id", "the user is deactivated").into());
        }
        let limit = if role_within(user.role, ceiling) { ceiling } else { user.role };
        let role = match spec.role {
            Some(r) if !role_within(limit, r) => {
                return Err(DomainError::invalid("role", format!("the token's role may not exceed {limit}")).into());
            }
            Some(r) => Some(r),
            // A token made by someone acting with less than the user's role stays that low.
            None if limit != user.role => Some(limit),
            None => None,
        };
        let now = mailroom_domain::custody::storage_time(self.clock.now());
        let secret = format!("mr_{}", hex(&random_bytes::<32>()?));
        let token = ApiToken {
            id: TokenId::new(),
            tenant_id: user.tenant_id,
            user_id: user.id,
            token_hash: token_hash(&secret),
            name: spec.name.clone(),
            role,
            scope: spec.scope.unwrap_or(TokenScope::Full),
            created_at: now,
            expires_at: spec.expires_in.map(|d| now + d),
            last_used_at: None,
            revoked_at: None,
        };
        let draft = audit::draft(
            audit::TOKEN_CREATE,
            json!({
                "token_id": token.id, "user_id": user.id, "login": user.login, "name": token.name,
                "role": token.role, "scope": token.scope, "expires_at": token.expires_at,
            }),
        );
        self.store.admin_write(user.tenant_id, AdminChange::CreateToken(token.clone()), actor, draft).await?;
        Ok(CreatedToken { token, secret: Some(secret) })
    }

    /// Creates a full token for a user from the command line; returns the secret, shown once.
    pub async fn create_token(&self, tenant_slug: &str, login: &str) -> AppResult<String> {
        Ok(self.create_token_with(tenant_slug, login, &TokenSpec::default()).await?.secret.unwrap_or_default())
    }

    /// Creates a token for a user from the command line (operator).
    pub async fn create_token_with(&self, tenant_slug: &str, login: &str, spec: &TokenSpec) -> AppResult<CreatedToken> {
        let t = self.store.tenant_by_slug(tenant_slug).await?.ok_or_else(|| AppError::not_found("tenant"))?;
        let u =
            self.store.user_by_login(t.id, &login.to_lowercase()).await?.ok_or_else(|| AppError::not_found("user"))?;
        self.issue_token(&crate::operator(), &u, spec, u.role).await
    }

    /// Creates a token through the API: for oneself, or (admins) for another user of the
    /// organisation. A token never allows more than its creator's current role.
    pub async fn add_token(&self, p: &Principal, ctx: &RequestCtx, input: &TokenInput) -> AppResult<CreatedToken> {
        let spec = TokenSpec::from_input(input)?;
        let user_id = input.user_id.unwrap_or(p.user_id);
        if user_id != p.user_id && !may_manage_tokens(p) {
            return Err(AppError::forbidden());
        }
        let user = self
            .store
            .user(p.tenant_id, user_id)
            .await?
            .ok_or_else(|| DomainError::invalid("user_id", "no such user in this organisation"))?;
        self.issue_token(&p.actor(ctx), &user, &spec, p.role).await
    }

    /// Exchanges a login and password for a token (throttled like the console login). Tokens
    /// made this way last 90 days unless `expires_in` says otherwise.
    pub async fn token_for_password(&self, ctx: &RequestCtx, input: &PasswordTokenInput) -> AppResult<CreatedToken> {
        let mut spec = TokenSpec::from_input(&TokenInput {
            name: input.name.clone(),
            user_id: None,
            role: input.role.clone(),
            scope: input.scope.clone(),
            expires_in: input.expires_in.clone(),
        })?;
        spec.expires_in = Some(spec.expires_in.unwrap_or_else(|| Duration::days(90)));
        let user = self.check_password(ctx, &input.organisation, &input.login, &input.password).await?;
        let actor = Actor {
            user_id: Some(user.id),
            name: user.login.clone(),
            source: ctx.source.clone(),
            request_id: ctx.request_id.clone(),
        };
        self.issue_token(&actor, &user, &spec, user.role).await
    }

    /// Tokens of the organisation (admins) or the caller's own, newest first.
    pub async fn list_tokens(&self, p: &Principal) -> AppResult<Vec<ApiToken>> {
        let only = if may_manage_tokens(p) { None } else { Some(p.user_id) };
        Ok(self.store.list_tokens(p.tenant_id, only).await?)
    }

    /// Revokes a token: one's own, or (admins) any of the organisation's.
    pub async fn revoke_token(&self, p: &Principal, ctx: &RequestCtx, id: TokenId) -> AppResult<ApiToken> {
        let tok = self.store.token(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("token"))?;
        if tok.user_id != p.user_id && !may_manage_tokens(p) {
            // Other users' tokens are not even acknowledged.
            return Err(AppError::not_found("token"));
        }
        self.revoke(&p.actor(ctx), tok).await
    }

    /// Revokes a token by id from the command line (operator), in whichever organisation it is.
    pub async fn revoke_token_by_id(&self, id: TokenId) -> AppResult<ApiToken> {
        for t in self.store.list_tenants().await? {
            if let Some(tok) = self.store.token(t.id, id).await? {
                return self.revoke(&crate::operator(), tok).await;
            }
        }
        Err(AppError::not_found("token"))
    }

    /// Tokens of one organisation (or all), for the command line.
    pub async fn tokens_of(&self, tenant: Option<TenantId>) -> AppResult<Vec<ApiToken>> {
        let tenants = match tenant {
            Some(t) => vec![t],
            None => self.store.list_tenants().await?.into_iter().map(|t| t.id).collect(),
        };
        let mut out = Vec::new();
        for t in tenants {
            out.extend(self.store.list_tokens(t, None).await?);
        }
        Ok(out)
    }

    async fn revoke(&self, actor: &Actor, tok: ApiToken) -> AppResult<ApiToken> {
        if tok.revoked_at.is_some() {
            return Ok(tok);
        }
        let at = mailroom_domain::custody::storage_time(self.clock.now());
        let draft =
            audit::draft(audit::TOKEN_REVOKE, json!({"token_id": tok.id, "user_id": tok.user_id, "name": tok.name}));
        match self.store.admin_write(tok.tenant_id, AdminChange::RevokeToken { id: tok.id, at }, actor, draft).await {
            Ok(_) => Ok(ApiToken { revoked_at: Some(at), ..tok }),
            // Revoked meanwhile by someone else: the outcome is the same.
            Err(StoreError::NotFound) => {
                self.store.token(tok.tenant_id, tok.id).await?.ok_or_else(|| AppError::not_found("token"))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Refuses a revoked or expired token; records its use (at most once per staleness window).
    pub(crate) async fn check_token_usable(&self, tok: &ApiToken) -> AppResult<()> {
        let now = self.clock.now();
        if tok.revoked_at.is_some() || tok.expires_at.is_some_and(|e| e <= now) {
            return Err(bad_token());
        }
        if crate::security::stale(tok.last_used_at, now) {
            let at: DateTime<Utc> = mailroom_domain::custody::storage_time(now);
            if let Err(e) = self.store.touch_token(tok.id, at).await {
                tracing::warn!(error = %e, token = %tok.id, "could not record the token's last use");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes() {
        assert_eq!(parse_lifetime("x", "90d").ok(), Some(Duration::days(90)));
        assert_eq!(parse_lifetime("x", " 12h ").ok(), Some(Duration::hours(12)));
        assert_eq!(parse_lifetime("x", "30m").ok(), Some(Duration::minutes(30)));
        assert_eq!(parse_lifetime("x", "3600s").ok(), Some(Duration::hours(1)));
        for bad in ["", "d", "0d", "-1d", "10w", "1.5h", "99999999999999999d", "4000d", "１d"] {
            assert!(parse_lifetime("x", bad).is_err(), "{bad}");
        }
    }
}
