//! Organisations and who acts in them: the tenant a request acts in, assignments of users to
//! other tenants (and to one site there), and the operator's management of organisations.
//!
//! A user belongs to one organisation (their home tenant) and acts there with their own role.
//! They act in another organisation only when an operator administrator assigned them to it,
//! with the role they have there; operator administrators act in every organisation. The
//! [`Principal`] always names the tenant being acted in, and every store call takes it.

use crate::{App, AppError, AppResult, Principal};
use chrono::Utc;
use mailroom_domain::auth::{Permission, Role, allowed, assignable, require, site_allowed};
use mailroom_domain::ids::{SiteId, TenantId, UserId};
use mailroom_domain::{DomainError, ErrorCode};
use mailroom_store::{Assignment, Item, Location, StoreError, Tenant, WebSession};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A new organisation, as submitted.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantInput {
    /// Short identifier typed at login, e.g. `acme`: 1-63 lowercase letters, digits or `-`.
    pub slug: String,
    pub name: String,
}

/// Assigns a user of another organisation to the caller's organisation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentInput {
    /// The slug of the user's own organisation, e.g. `operator`.
    pub tenant: String,
    /// The user's login there.
    pub login: String,
    /// The role the user gets in this organisation (any role but operator_admin).
    pub role: String,
    /// The only site of this organisation the user may act at; every site when absent.
    pub site_id: Option<SiteId>,
}

/// An assignment and the user it names.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignedUser {
    #[serde(flatten)]
    pub assignment: Assignment,
    pub login: String,
    pub display_name: String,
    /// The slug of the user's own organisation.
    pub home_tenant: String,
}

/// The same answer for an unknown organisation and one the caller may not act in, so that
/// the answer does not tell which organisations exist.
fn not_assigned() -> AppError {
    AppError::new(ErrorCode::Forbidden, "you are not assigned to act in this organisation")
}

fn not_at_site() -> AppError {
    AppError::new(ErrorCode::Forbidden, "you are not assigned to the site of this item or place")
}

impl App {
    /// Turns the principal of a user in their own organisation into the principal acting in the
    /// organisation `slug` (`None` or empty: stay in their own). Refused with `forbidden` unless
    /// the user is an operator administrator or is assigned to that organisation.
    pub async fn act_in(&self, home: Principal, slug: Option<&str>) -> AppResult<Principal> {
        let Some(slug) = slug.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(home) };
        if home.tenant_id != home.home_tenant_id {
            return Err(AppError::Internal("act_in needs the principal of the user's own organisation".into()));
        }
        let Some(t) = self.store.tenant_by_slug(slug).await? else { return Err(not_assigned()) };
        if t.id == home.home_tenant_id {
            return Ok(home);
        }
        let elsewhere = |role: Role, site_id: Option<SiteId>| Principal {
            tenant_id: t.id,
            role,
            person_id: None,
            department_id: None,
            site_id,
            ..home.clone()
        };
        if allowed(home.role, Permission::ActInAnyTenant) {
            return Ok(elsewhere(home.role, None));
        }
        match self.store.assignment(t.id, home.user_id).await? {
            Some(a) if assignable(a.role) => Ok(elsewhere(a.role, a.site_id)),
            _ => Err(not_assigned()),
        }
    }

    /// Resolves a bearer token to its principal, acting in the organisation `tenant` (a slug).
    pub async fn authenticate_token_in(&self, secret: &str, tenant: Option<&str>) -> AppResult<Principal> {
        let home = self.authenticate_token(secret).await?;
        self.act_in(home, tenant).await
    }

    /// Resolves a session cookie to its principal, acting in the organisation `tenant` (a slug).
    pub async fn authenticate_session_in(
        &self,
        secret: &str,
        tenant: Option<&str>,
    ) -> AppResult<(Principal, WebSession)> {
        let (home, session) = self.authenticate_session(secret).await?;
        Ok((self.act_in(home, tenant).await?, session))
    }

    /// The organisations the caller may act in, their own first.
    pub async fn my_tenants(&self, p: &Principal) -> AppResult<Vec<Tenant>> {
        let me = self.store.user(p.home_tenant_id, p.user_id).await?.ok_or_else(|| AppError::not_found("user"))?;
        let home = self.store.tenant(p.home_tenant_id).await?.ok_or_else(|| AppError::not_found("organisation"))?;
        let mut out = Vec::new();
        if allowed(me.role, Permission::ActInAnyTenant) {
            out.extend(self.store.list_tenants().await?.into_iter().filter(|t| t.id != home.id));
        } else {
            for a in self.store.user_assignments(me.id).await? {
                if assignable(a.role)
                    && let Some(t) = self.store.tenant(a.tenant_id).await?
                {
                    out.push(t);
                }
            }
            out.sort_by(|a, b| a.slug.cmp(&b.slug));
        }
        out.insert(0, home);
        Ok(out)
    }

    /// The organisation the caller acts in.
    pub async fn current_tenant(&self, p: &Principal) -> AppResult<Tenant> {
        self.store.tenant(p.tenant_id).await?.ok_or_else(|| AppError::not_found("organisation"))
    }

    /// Creates an organisation (operator administrators).
    pub async fn add_tenant(&self, p: &Principal, input: &TenantInput) -> AppResult<Tenant> {
        require(p.role, Permission::ManageTenants)?;
        let slug = mailroom_domain::text::slug("slug", &input.slug)?;
        if self.store.tenant_by_slug(&slug).await?.is_some() {
            return Err(AppError::new(ErrorCode::Conflict, format!("the organisation slug {slug} is taken")));
        }
        self.create_tenant(&slug, &input.name).await
    }

    /// Assigns a user of another organisation to the caller's organisation, or changes their
    /// role or site there (operator administrators).
    pub async fn assign(&self, p: &Principal, input: &AssignmentInput) -> AppResult<AssignedUser> {
        require(p.role, Permission::ManageTenants)?;
        self.assign_in(p.tenant_id, input).await
    }

    /// Assigns a user to the organisation `t` (the operator's CLI and [`App::assign`]).
    pub async fn assign_in(&self, t: TenantId, input: &AssignmentInput) -> AppResult<AssignedUser> {
        let role = Role::parse_field("role", &input.role)?;
        if !assignable(role) {
            return Err(DomainError::invalid(
                "role",
                "operator administrators act in every organisation and are not assigned",
            )
            .into());
        }
        let home = self
            .store
            .tenant_by_slug(input.tenant.trim())
            .await?
            .ok_or_else(|| DomainError::invalid("tenant", "no such organisation"))?;
        if home.id == t {
            return Err(DomainError::invalid(
                "tenant",
                "the user belongs to this organisation: their role here is their own role",
            )
            .into());
        }
        let user = self
            .store
            .user_by_login(home.id, &input.login.trim().to_lowercase())
            .await?
            .ok_or_else(|| DomainError::invalid("login", "no such user in that organisation"))?;
        if let Some(site) = input.site_id
            && !self.store.list_sites(t).await?.iter().any(|s| s.id == site)
        {
            return Err(DomainError::invalid("site_id", "no such site in this organisation").into());
        }
        let a = Assignment {
            tenant_id: t,
            user_id: user.id,
            home_tenant_id: home.id,
            role,
            site_id: input.site_id,
            created_at: mailroom_domain::custody::storage_time(Utc::now()),
        };
        self.store.put_assignment(&a).await?;
        Ok(AssignedUser { assignment: a, login: user.login, display_name: user.display_name, home_tenant: home.slug })
    }

    /// Ends a user's assignment to the caller's organisation (operator administrators).
    pub async fn unassign(&self, p: &Principal, user: UserId) -> AppResult<()> {
        require(p.role, Permission::ManageTenants)?;
        self.store.delete_assignment(p.tenant_id, user).await.map_err(|e| match e {
            StoreError::NotFound => AppError::not_found("assignment"),
            other => other.into(),
        })
    }

    /// The users of other organisations assigned to the caller's organisation.
    pub async fn list_assignments(&self, p: &Principal) -> AppResult<Vec<AssignedUser>> {
        require(p.role, Permission::ReadUsers)?;
        let mut out = Vec::new();
        for a in self.store.list_assignments(p.tenant_id).await? {
            let (Some(u), Some(home)) =
                (self.store.user(a.home_tenant_id, a.user_id).await?, self.store.tenant(a.home_tenant_id).await?)
            else {
                continue;
            };
            out.push(AssignedUser {
                assignment: a,
                login: u.login,
                display_name: u.display_name,
                home_tenant: home.slug,
            });
        }
        Ok(out)
    }

    /// Refuses when the caller is limited to one site and the item, where it lies, or the place
    /// it goes to belongs to another site.
    pub(crate) async fn require_site(&self, p: &Principal, item: &Item, to: Option<&Location>) -> AppResult<()> {
        if p.site_id.is_none() {
            return Ok(());
        }
        let lies_at = match item.location_id {
            Some(l) => self.store.location(p.tenant_id, l).await?.map(|l| l.site_id),
            None => None,
        };
        let ok = [item.site_id, lies_at, to.map(|l| l.site_id)].into_iter().all(|s| site_allowed(p.site_id, s));
        if ok { Ok(()) } else { Err(not_at_site()) }
    }

    /// The site an item is registered at: the one asked for, else the caller's own site.
    /// Refused when the caller is limited to another site.
    pub(crate) fn intake_site(&self, p: &Principal, asked: Option<SiteId>) -> AppResult<Option<SiteId>> {
        let site = asked.or(p.site_id);
        if site_allowed(p.site_id, site) { Ok(site) } else { Err(not_at_site()) }
    }

    /// Refuses callers limited to one site from changing another site (or adding sites).
    pub(crate) fn require_site_scope(&self, p: &Principal, site: Option<SiteId>) -> AppResult<()> {
        match (p.site_id, site) {
            (None, _) => Ok(()),
            (Some(_), None) => Err(not_at_site()),
            (Some(_), Some(_)) if site_allowed(p.site_id, site) => Ok(()),
            _ => Err(not_at_site()),
        }
    }
}
