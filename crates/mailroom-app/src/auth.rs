//! Passwords (argon2id), API tokens (random, stored as SHA-256) and console sessions.

use crate::{App, AppError, AppResult, Principal, RequestCtx, audit, random_bytes, sha256_hex};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use chrono::{Duration, Utc};
use mailroom_domain::ErrorCode;
use mailroom_domain::auth::Role;
use mailroom_domain::custody::{Actor, hex};
use mailroom_domain::ids::{TenantId, UserId};
use mailroom_store::{AdminChange, ApiToken, TokenPrincipal, User, WebSession};
use serde_json::json;

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
        // The user, their department and their clearance in one query: this runs for every request.
        let (u, department_id, clearance) = self.store.user_principal(tenant, user).await?.ok_or_else(invalid_login)?;
        if !u.active {
            return Err(invalid_login());
        }
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

    /// Creates a user with a password (operator: command line, demo seeding).
    pub async fn create_user(
        &self,
        tenant: TenantId,
        login: &str,
        display_name: &str,
        password: &str,
        role: Role,
        person_id: Option<mailroom_domain::ids::PersonId>,
    ) -> AppResult<User> {
        self.create_user_as(&crate::operator(), tenant, login, display_name, password, role, person_id).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn create_user_as(
        &self,
        actor: &Actor,
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
        let draft = audit::draft(
            audit::USER_CREATE,
            json!({"id": u.id, "login": u.login, "role": u.role, "person_id": u.person_id}),
        );
        self.store.admin_write(tenant, AdminChange::CreateUser(u.clone()), actor, draft).await?;
        Ok(u)
    }

    /// Users of the caller's organisation (administrators and auditors).
    pub async fn list_users(&self, p: &Principal) -> AppResult<Vec<User>> {
        mailroom_domain::auth::require(p.role, mailroom_domain::auth::Permission::ReadUsers)?;
        Ok(self.store.list_users(p.tenant_id).await?)
    }

    /// Creates a user in the caller's organisation (admins only).
    pub async fn add_user(&self, p: &Principal, ctx: &RequestCtx, input: &UserInput) -> AppResult<User> {
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
        self.check_login_free(p.tenant_id, &input.login).await?;
        self.create_user_as(
            &p.actor(ctx),
            p.tenant_id,
            &input.login,
            &input.display_name,
            &input.password,
            role,
            input.person_id,
        )
        .await
    }

    async fn check_login_free(&self, tenant: TenantId, login: &str) -> AppResult<()> {
        if self.store.user_by_login(tenant, &login.trim().to_lowercase()).await?.is_some() {
            return Err(AppError::new(ErrorCode::Conflict, format!("login {} is taken", login.trim())));
        }
        Ok(())
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
        self.check_login_free(tenant, login).await?;
        self.create_user(tenant, login, display_name, password, role, person_id).await
    }

    /// Resolves a bearer token to its principal.
    pub async fn authenticate_token(&self, secret: &str) -> AppResult<Principal> {
        self.authenticate_api_token(secret).await.map(|(p, _)| p)
    }

    /// Resolves a bearer token to its principal, acting with the token's role (a token whose
    /// role now exceeds its user's is refused), and the token itself (for its scope).
    pub async fn authenticate_api_token(&self, secret: &str) -> AppResult<(Principal, ApiToken)> {
        // Token, user, department and clearance in one query: this runs for every API request.
        let found = self.store.token_principal(&crate::tokens::token_hash(secret)).await?;
        let TokenPrincipal { token: tok, user: u, department_id, clearance } =
            found.ok_or_else(crate::tokens::bad_token)?;
        self.check_token_usable(&tok).await?;
        if !u.active {
            return Err(crate::tokens::bad_token());
        }
        let role = mailroom_domain::token::effective_role(u.role, tok.role).ok_or_else(crate::tokens::bad_token)?;
        let p = Principal {
            clearance,
            tenant_id: u.tenant_id,
            home_tenant_id: u.tenant_id,
            user_id: u.id,
            login: u.login,
            display_name: u.display_name,
            role,
            person_id: u.person_id,
            department_id,
            site_id: None,
        };
        Ok((p, tok))
    }

    /// Password login without a known source address (only the account is throttled).
    pub async fn login(
        &self,
        tenant_slug: &str,
        login: &str,
        password: &str,
        lang: &str,
    ) -> AppResult<(String, WebSession)> {
        self.login_from(&RequestCtx::default(), tenant_slug, login, password, lang).await
    }

    /// Password login; returns the session secret for the cookie and the session.
    pub async fn login_from(
        &self,
        ctx: &RequestCtx,
        tenant_slug: &str,
        login: &str,
        password: &str,
        lang: &str,
    ) -> AppResult<(String, WebSession)> {
        let u = self.check_password(ctx, tenant_slug, login, password).await?;
        let now = self.clock.now();
        let secret = hex(&random_bytes::<32>()?);
        let s = WebSession {
            id_hash: sha256_hex(secret.as_bytes()),
            tenant_id: u.tenant_id,
            user_id: u.id,
            csrf_token: hex(&random_bytes::<16>()?),
            lang: if lang == "en" { "en".into() } else { "zh-CN".into() },
            expires_at: now + Duration::hours(self.security.session_hours),
            last_seen_at: Some(now),
        };
        self.store.create_session(&s).await?;
        Ok((secret, s))
    }

    /// Checks a login and password. Failed attempts count against the account and the source
    /// address; while either is locked every attempt, even with the right password, answers
    /// `too_many_attempts`.
    pub(crate) async fn check_password(
        &self,
        ctx: &RequestCtx,
        tenant_slug: &str,
        login: &str,
        password: &str,
    ) -> AppResult<User> {
        let keys = self.login_keys(ctx, tenant_slug, login);
        self.check_login_allowed(&keys).await?;
        let t = self.store.tenant_by_slug(tenant_slug.trim()).await?;
        let u = match &t {
            Some(t) => self.store.user_by_login(t.id, &login.trim().to_lowercase()).await?,
            None => None,
        };
        // Verify against a dummy hash for unknown users so timing does not reveal logins.
        const DUMMY: &str =
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1nqEGrUh4IMvh2Wx2gS+5Vy6vnsJqTxVdjqVe8xYzHQ";
        let hash = u.as_ref().and_then(|u| u.password_hash.clone()).unwrap_or_else(|| DUMMY.to_string());
        let ok = verify_password(&hash, password).await;
        match u {
            Some(u) if ok && u.active => {
                self.login_succeeded(tenant_slug, login).await?;
                Ok(u)
            }
            _ => {
                self.login_failed(&keys).await?;
                Err(invalid_login())
            }
        }
    }

    /// Resolves a session cookie to its principal and session. A session ends at its absolute
    /// expiry and after [`crate::security::SecurityPolicy::session_idle_secs`] without use.
    pub async fn authenticate_session(&self, secret: &str) -> AppResult<(Principal, WebSession)> {
        let expired = || AppError::new(ErrorCode::Unauthorized, "your session has ended; please log in again");
        let s = self.store.session(&sha256_hex(secret.as_bytes())).await?.ok_or_else(expired)?;
        let now = self.clock.now();
        let last_seen = s.last_seen_at.unwrap_or(s.expires_at - Duration::hours(self.security.session_hours));
        if s.expires_at < now || now - last_seen > Duration::seconds(self.security.session_idle_secs) {
            self.store.delete_session(&s.id_hash).await?;
            return Err(expired());
        }
        let p = self.principal_for(s.tenant_id, s.user_id).await.map_err(|_| expired())?;
        if crate::security::stale(s.last_seen_at, now) {
            self.store.touch_session(&s.id_hash, now).await?;
        }
        Ok((p, s))
    }

    pub async fn logout(&self, secret: &str) -> AppResult<()> {
        self.store.delete_session(&sha256_hex(secret.as_bytes())).await?;
        Ok(())
    }
}
