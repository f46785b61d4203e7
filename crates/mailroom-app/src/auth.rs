//! Passwords (argon2id), API tokens (random, stored as SHA-256) and console sessions.

use crate::{App, AppError, AppResult, Principal, random_bytes, sha256_hex};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use chrono::{Duration, Utc};
use mailroom_domain::ErrorCode;
use mailroom_domain::auth::Role;
use mailroom_domain::custody::hex;
use mailroom_domain::ids::{TenantId, TokenId, UserId};
use mailroom_store::{ApiToken, User, WebSession};

/// A new user, as submitted.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub login: String,
    pub display_name: String,
    /// At least 8 characters.
    pub password: String,
    /// operator_admin, admin, supervisor, staff, finance, customer_service, auditor or employee
    pub role: String,
    /// The directory entry of the user (for "my mail").
    pub person_id: Option<mailroom_domain::ids::PersonId>,
}

/// How long a console session lasts without a new login.
pub const SESSION_HOURS: i64 = 12;

pub async fn hash_password(pw: &str) -> AppResult<String> {
    let pw = pw.to_string();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(pw.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

async fn verify_password(hash: &str, pw: &str) -> bool {
    let (hash, pw) = (hash.to_string(), pw.to_string());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).map(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok()).unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

fn invalid_login() -> AppError {
    AppError::new(ErrorCode::Unauthorized, "unknown organisation, login or password")
}

impl App {
    async fn principal_for(&self, tenant: TenantId, user: UserId) -> AppResult<Principal> {
        let u = self.store.user(tenant, user).await?.ok_or_else(invalid_login)?;
        if !u.active {
            return Err(invalid_login());
        }
        let department_id = match u.person_id {
            Some(p) => self.store.person(tenant, p).await?.and_then(|p| p.department_id),
            None => None,
        };
        let clearance = self.store.user_clearance(tenant, u.id).await?;
        Ok(Principal {
            clearance,
            tenant_id: u.tenant_id,
            home_tenant_id: u.tenant_id,
            user_id: u.id,
            login: u.login,
            display_name: u.display_name,
            role: u.role,
            person_id: u.person_id,
            department_id,
            site_id: None,
        })
    }

    /// Creates a user with a password.
    pub async fn create_user(
        &self,
        tenant: TenantId,
        login: &str,
        display_name: &str,
        password: &str,
        role: Role,
        person_id: Option<mailroom_domain::ids::PersonId>,
    ) -> AppResult<User> {
        let login = mailroom_domain::text::required("login", login, 64)?.to_lowercase();
        if password.chars().count() < 8 {
            return Err(
                mailroom_domain::DomainError::invalid("password", "password must have at least 8 characters").into()
            );
        }
        let u = User {
            id: UserId::new(),
            tenant_id: tenant,
            login,
            display_name: mailroom_domain::text::required("display_name", display_name, 200)?,
            password_hash: Some(hash_password(password).await?),
            role,
            person_id,
            active: true,
            created_at: Utc::now(),
        };
        self.store.create_user(&u).await?;
        Ok(u)
    }

    /// Users of the caller's organisation (administrators and auditors).
    pub async fn list_users(&self, p: &Principal) -> AppResult<Vec<User>> {
        mailroom_domain::auth::require(p.role, mailroom_domain::auth::Permission::ReadUsers)?;
        Ok(self.store.list_users(p.tenant_id).await?)
    }

    /// Creates a user in the caller's organisation (admins only).
    pub async fn add_user(&self, p: &Principal, input: &UserInput) -> AppResult<User> {
        mailroom_domain::auth::require(p.role, mailroom_domain::auth::Permission::ManageUsers)?;
        let role = Role::parse_field("role", &input.role)?;
        if !mailroom_domain::auth::may_grant(p.role, role) {
            return Err(AppError::new(ErrorCode::Forbidden, format!("your role may not create {role} users")));
        }
        if let Some(pid) = input.person_id
            && self.store.person(p.tenant_id, pid).await?.is_none()
        {
            return Err(
                mailroom_domain::DomainError::invalid("person_id", "no such person in this organisation").into()
            );
        }
        self.create_user_checked(p.tenant_id, &input.login, &input.display_name, &input.password, role, input.person_id)
            .await
    }

    /// Sets a user's clearance for confidential items (0, 2 or 3); recorded in the custody log.
    pub async fn set_clearance(
        &self,
        p: &Principal,
        ctx: &crate::RequestCtx,
        user: UserId,
        level: i64,
    ) -> AppResult<i64> {
        mailroom_domain::auth::require(p.role, mailroom_domain::auth::Permission::ManageUsers)?;
        if !matches!(level, 0 | 2 | 3) {
            return Err(mailroom_domain::DomainError::invalid(
                "level",
                "level must be 0 (none), 2 (confidential) or 3 (strictly confidential)",
            )
            .into());
        }
        let u = self.store.user(p.tenant_id, user).await?.ok_or_else(|| AppError::not_found("user"))?;
        self.store.set_user_clearance(p.tenant_id, u.id, level).await?;
        let draft = mailroom_domain::custody::EventDraft {
            item_id: None,
            kind: "admin.clearance".into(),
            location_id: None,
            details: serde_json::json!({"user_id": u.id, "login": u.login, "level": level}),
        };
        self.store.append_event(p.tenant_id, &p.actor(ctx), draft).await?;
        Ok(level)
    }

    /// Creates a user unless the login is taken.
    pub async fn create_user_checked(
        &self,
        tenant: TenantId,
        login: &str,
        display_name: &str,
        password: &str,
        role: Role,
        person_id: Option<mailroom_domain::ids::PersonId>,
    ) -> AppResult<User> {
        if self.store.user_by_login(tenant, &login.trim().to_lowercase()).await?.is_some() {
            return Err(AppError::new(ErrorCode::Conflict, format!("login {} is taken", login.trim())));
        }
        self.create_user(tenant, login, display_name, password, role, person_id).await
    }

    /// Creates an API token for a user; returns the secret, shown once.
    pub async fn create_token(&self, tenant_slug: &str, login: &str) -> AppResult<String> {
        let t = self.store.tenant_by_slug(tenant_slug).await?.ok_or_else(|| AppError::not_found("tenant"))?;
        let u =
            self.store.user_by_login(t.id, &login.to_lowercase()).await?.ok_or_else(|| AppError::not_found("user"))?;
        let secret = format!("mr_{}", hex(&random_bytes::<32>()?));
        let tok = ApiToken {
            id: TokenId::new(),
            tenant_id: t.id,
            user_id: u.id,
            token_hash: sha256_hex(secret.as_bytes()),
            created_at: Utc::now(),
            revoked_at: None,
        };
        self.store.create_token(&tok).await?;
        Ok(secret)
    }

    /// Resolves a bearer token to its principal.
    pub async fn authenticate_token(&self, secret: &str) -> AppResult<Principal> {
        let bad = || AppError::new(ErrorCode::Unauthorized, "invalid or revoked API token");
        let tok = self.store.token_by_hash(&sha256_hex(secret.as_bytes())).await?.ok_or_else(bad)?;
        if tok.revoked_at.is_some() {
            return Err(bad());
        }
        self.principal_for(tok.tenant_id, tok.user_id).await.map_err(|_| bad())
    }

    /// Password login; returns the session secret for the cookie and the session.
    pub async fn login(
        &self,
        tenant_slug: &str,
        login: &str,
        password: &str,
        lang: &str,
    ) -> AppResult<(String, WebSession)> {
        let t = self.store.tenant_by_slug(tenant_slug.trim()).await?.ok_or_else(invalid_login)?;
        let u = self.store.user_by_login(t.id, &login.trim().to_lowercase()).await?;
        // Verify against a dummy hash for unknown users so timing does not reveal logins.
        const DUMMY: &str =
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1nqEGrUh4IMvh2Wx2gS+5Vy6vnsJqTxVdjqVe8xYzHQ";
        let hash = u.as_ref().and_then(|u| u.password_hash.clone()).unwrap_or_else(|| DUMMY.to_string());
        let ok = verify_password(&hash, password).await;
        let u = match u {
            Some(u) if ok && u.active => u,
            _ => return Err(invalid_login()),
        };
        let secret = hex(&random_bytes::<32>()?);
        let s = WebSession {
            id_hash: sha256_hex(secret.as_bytes()),
            tenant_id: t.id,
            user_id: u.id,
            csrf_token: hex(&random_bytes::<16>()?),
            lang: if lang == "en" { "en".into() } else { "zh-CN".into() },
            expires_at: Utc::now() + Duration::hours(SESSION_HOURS),
        };
        self.store.create_session(&s).await?;
        Ok((secret, s))
    }

    /// Resolves a session cookie to its principal and session.
    pub async fn authenticate_session(&self, secret: &str) -> AppResult<(Principal, WebSession)> {
        let expired = || AppError::new(ErrorCode::Unauthorized, "your session has ended; please log in again");
        let s = self.store.session(&sha256_hex(secret.as_bytes())).await?.ok_or_else(expired)?;
        if s.expires_at < Utc::now() {
            self.store.delete_session(&s.id_hash).await?;
            return Err(expired());
        }
        let p = self.principal_for(s.tenant_id, s.user_id).await.map_err(|_| expired())?;
        Ok((p, s))
    }

    pub async fn logout(&self, secret: &str) -> AppResult<()> {
        self.store.delete_session(&sha256_hex(secret.as_bytes())).await?;
        Ok(())
    }
}
