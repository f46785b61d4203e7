//! Use cases of the mailroom. Each use case validates with the domain, checks permissions,
//! and makes one store call that writes the change and its custody event in one transaction.

pub mod audit;
pub mod auth;
pub mod delegation;
pub mod demo;
pub mod directory;
mod error;
pub mod exceptions;
pub mod followup;
pub mod import;
pub mod items;
pub mod jobs;
pub mod notify;
pub mod notify_settings;
pub mod outbound;
pub mod placement;
pub mod postage;
pub mod recipients;
pub mod reports;
pub mod retention;
pub mod rules;
pub mod scan;
pub mod security;
pub mod sending;
pub mod tasks;
pub mod tenancy;
pub mod tokens;
pub mod vault;
pub mod verify;

pub use error::{AppError, AppResult, RowError};
pub use mailroom_store as store;

use mailroom_domain::auth::Role;
use mailroom_domain::custody::Actor;
use mailroom_domain::ids::{DepartmentId, PersonId, SiteId, TenantId, UserId};
use mailroom_store::Store;
use std::sync::Arc;

/// The application: every use case hangs off this.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    /// The installation's custody signing key, loaded once.
    signing_key: Arc<tokio::sync::OnceCell<mailroom_domain::receipt::SigningKey>>,
    /// The master keys (encryption at rest).
    vault: Arc<vault::Vault>,
    /// Login throttling, session lifetimes and outbound request rules.
    pub security: Arc<security::SecurityPolicy>,
    /// The time used for lockouts, session and token expiry.
    pub clock: security::Clock,
    /// Per-tenant recipient indexes (rebuilt when the directory changes).
    recipients: Arc<recipients::RecipientCache>,
    /// How notices are sent (SMTP, HTTP) and when the dispatcher should look again.
    pub notifier: Arc<notify::Notifier>,
    /// Wakes this node's job runner (see [`jobs::JobRunner`]) when a job is enqueued here.
    jobs_wake: Arc<tokio::sync::Notify>,
    /// Working-hours calendars per site, as intake last read them.
    calendars: Arc<followup::CalendarCache>,
}

impl App {
    /// The app without master keys: everything but encrypted attachments and a wrapped signing
    /// key works. See [`App::with_master_keys`].
    pub fn new(store: Arc<dyn Store>) -> App {
        App {
            store,
            signing_key: Arc::default(),
            vault: Arc::default(),
            security: Arc::new(security::SecurityPolicy::default()),
            clock: security::Clock::default(),
            recipients: Arc::default(),
            notifier: Arc::default(),
            jobs_wake: Arc::default(),
            calendars: Arc::default(),
        }
    }

    /// The same app sending notices as `config` says.
    pub fn with_notifier(mut self, config: notify::NotifyConfig) -> AppResult<App> {
        self.notifier = Arc::new(notify::Notifier::new(config)?);
        Ok(self)
    }

    /// The same app with another security policy.
    pub fn with_security(mut self, policy: security::SecurityPolicy) -> App {
        self.security = Arc::new(policy);
        self
    }

    /// Opens the store at `url` (running migrations) with the master keys the environment
    /// configures (see [`vault::MasterKeys::from_env`]), if any.
    pub async fn open(url: &str) -> AppResult<App> {
        let keys = vault::MasterKeys::from_env(url)?;
        if let Some(k) = &keys {
            for w in &k.warnings {
                tracing::warn!("{w}");
            }
        }
        App::open_with(url, keys).await
    }

    /// Opens the store at `url` (running migrations) with these master keys.
    pub async fn open_with(url: &str, keys: Option<vault::MasterKeys>) -> AppResult<App> {
        let store = mailroom_store::open(url).await?;
        match keys {
            Some(k) => App::with_master_keys(store, k).await,
            None => Ok(App::new(store)),
        }
    }
}

/// An authenticated caller acting in one tenant.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The tenant the caller acts in: their own, or one they are assigned to.
    pub tenant_id: TenantId,
    /// The caller's own tenant.
    pub home_tenant_id: TenantId,
    pub user_id: UserId,
    pub login: String,
    pub display_name: String,
    /// The caller's role in `tenant_id`.
    pub role: Role,
    /// The directory entry of the user, for "my mail" (only in their own tenant).
    pub person_id: Option<PersonId>,
    pub department_id: Option<DepartmentId>,
    /// Highest security level of confidential items this user may handle (0, 2 or 3).
    pub clearance: i64,
    /// When set, the only site of `tenant_id` the caller may act at.
    pub site_id: Option<SiteId>,
}

/// Where a request came from: feeds the custody log.
#[derive(Debug, Clone, Default)]
pub struct RequestCtx {
    pub source: String,
    pub request_id: String,
}

impl Principal {
    pub fn actor(&self, ctx: &RequestCtx) -> Actor {
        Actor {
            user_id: Some(self.user_id),
            name: self.login.clone(),
            source: ctx.source.clone(),
            request_id: ctx.request_id.clone(),
        }
    }
}

impl RequestCtx {
    /// The network address of the request, without the device name.
    pub fn address(&self) -> &str {
        self.source.split_whitespace().next().unwrap_or("")
    }
}

/// The actor for operator actions (command line, demo seeding): no user, a fresh request id.
pub fn operator() -> Actor {
    Actor::system("operator", uuid::Uuid::now_v7().to_string())
}

/// Random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> AppResult<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(b)
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    mailroom_domain::custody::hex(&sha2::Sha256::digest(data))
}
