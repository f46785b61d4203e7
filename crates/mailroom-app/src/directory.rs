//! The directory: tenants, sites, storage locations, departments and teams, people.

use crate::{App, AppError, AppResult, Principal, RequestCtx, audit};
use chrono::Utc;
use mailroom_domain::auth::{Permission, require};
use mailroom_domain::ids::*;
use mailroom_domain::{DomainError, text};
use mailroom_store::{AdminChange, Department, Location, Person, Site, StoreError, Tenant};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// A department or team, as submitted.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DepartmentInput {
    /// Short unique code within the tenant, e.g. `FIN`.
    pub code: String,
    /// Name in its native script, e.g. `财务部`.
    pub name: String,
    pub name_en: Option<String>,
    /// `department` (default) or `team`.
    pub kind: Option<String>,
    /// The department a team belongs to.
    pub parent_id: Option<DepartmentId>,
    /// The person who is notified for the department.
    pub key_contact_id: Option<PersonId>,
    pub email: Option<String>,
}

/// A person in the directory, as submitted.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PersonInput {
    /// Name in its native script, e.g. `张伟杰`.
    pub name: String,
    /// Latin or pinyin rendering, e.g. `Zhang Weijie`.
    pub name_latin: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub employee_no: Option<String>,
    pub department_id: Option<DepartmentId>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// False for people who left; defaults to true.
    pub active: Option<bool>,
    /// Where mail for someone who left should go.
    pub forwarding: Option<String>,
}

/// A storage location, as submitted.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct LocationInput {
    pub site_id: SiteId,
    pub code: String,
    pub name: String,
    /// shelf, locker, secure_room, cage, cold_storage, …
    pub kind: Option<String>,
    /// 0 open, 1 internal, 2 confidential, 3 strictly confidential.
    pub security_level: Option<i64>,
}

pub(crate) fn validate_department(
    t: TenantId,
    id: DepartmentId,
    d: &DepartmentInput,
) -> Result<Department, DomainError> {
    let kind = match d.kind.as_deref().map(str::trim) {
        None | Some("") | Some("department") => "department",
        Some("team") => "team",
        Some(_) => return Err(DomainError::invalid("kind", "kind must be department or team")),
    };
    let code = text::required("code", &d.code, 32)?.to_uppercase();
    if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(DomainError::invalid("code", "code may contain only letters, digits, '-' and '_'"));
    }
    Ok(Department {
        id,
        tenant_id: t,
        parent_id: d.parent_id,
        code,
        name: text::required("name", &d.name, 200)?,
        name_en: text::optional("name_en", d.name_en.as_deref(), 200)?,
        kind: kind.to_string(),
        key_contact_id: d.key_contact_id,
        email: text::email("email", d.email.as_deref())?,
    })
}

pub(crate) fn validate_person(t: TenantId, id: PersonId, p: &PersonInput) -> Result<Person, DomainError> {
    let mut aliases = Vec::new();
    for a in &p.aliases {
        if let Some(a) = text::optional("aliases", Some(a), 200)? {
            aliases.push(a);
        }
    }
    if aliases.len() > 20 {
        return Err(DomainError::invalid("aliases", "at most 20 aliases"));
    }
    Ok(Person {
        id,
        tenant_id: t,
        name: text::required("name", &p.name, 200)?,
        name_latin: text::optional("name_latin", p.name_latin.as_deref(), 200)?,
        aliases,
        employee_no: text::optional("employee_no", p.employee_no.as_deref(), 64)?,
        department_id: p.department_id,
        email: text::email("email", p.email.as_deref())?,
        phone: text::optional("phone", p.phone.as_deref(), 40)?,
        active: p.active.unwrap_or(true),
        forwarding: text::optional("forwarding", p.forwarding.as_deref(), 500)?,
    })
}

impl App {
    /// Creates a tenant (operator level: CLI and demo seeding).
    pub async fn create_tenant(&self, slug: &str, name: &str) -> AppResult<Tenant> {
        let t = Tenant {
            id: TenantId::new(),
            slug: text::slug("slug", slug)?,
            name: text::required("name", name, 200)?,
            created_at: mailroom_domain::custody::storage_time(Utc::now()),
        };
        self.store.create_tenant(&t).await?;
        Ok(t)
    }

    pub async fn create_site(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        name: &str,
        address: Option<&str>,
    ) -> AppResult<Site> {
        require(p.role, Permission::ManageSites)?;
        self.require_site_scope(p, None)?;
        let s = Site {
            id: SiteId::new(),
            tenant_id: p.tenant_id,
            name: text::required("name", name, 200)?,
            address: text::optional("address", address, 500)?,
            timezone: "Asia/Shanghai".into(),
        };
        let draft = audit::draft(audit::SITE_CREATE, json!({"id": s.id, "name": s.name}));
        self.store.admin_write(p.tenant_id, AdminChange::CreateSite(s.clone()), &p.actor(ctx), draft).await?;
        Ok(s)
    }

    pub async fn list_sites(&self, p: &Principal) -> AppResult<Vec<Site>> {
        require(p.role, Permission::ReadDirectory)?;
        Ok(self.store.list_sites(p.tenant_id).await?)
    }

    pub async fn create_location(&self, p: &Principal, ctx: &RequestCtx, l: &LocationInput) -> AppResult<Location> {
        require(p.role, Permission::ManageSites)?;
        self.require_site_scope(p, Some(l.site_id))?;
        if !self.store.list_sites(p.tenant_id).await?.iter().any(|s| s.id == l.site_id) {
            return Err(DomainError::invalid("site_id", "no such site in this organisation").into());
        }
        let level = l.security_level.unwrap_or(0);
        if !(0..=3).contains(&level) {
            return Err(DomainError::invalid("security_level", "security_level must be 0, 1, 2 or 3").into());
        }
        let loc = Location {
            id: LocationId::new(),
            tenant_id: p.tenant_id,
            site_id: l.site_id,
            code: text::required("code", &l.code, 32)?.to_uppercase(),
            name: text::required("name", &l.name, 200)?,
            kind: text::optional("kind", l.kind.as_deref(), 32)?.unwrap_or_else(|| "shelf".into()),
            security_level: level,
        };
        let draft = audit::draft(
            audit::LOCATION_CREATE,
            json!({"id": loc.id, "site_id": loc.site_id, "code": loc.code, "security_level": loc.security_level}),
        );
        self.store.admin_write(p.tenant_id, AdminChange::CreateLocation(loc.clone()), &p.actor(ctx), draft).await?;
        Ok(loc)
    }

    pub async fn list_locations(&self, p: &Principal) -> AppResult<Vec<Location>> {
        require(p.role, Permission::ReadDirectory)?;
        Ok(self.store.list_locations(p.tenant_id).await?)
    }

    /// The sites and storage locations, to say where the caller's items are: open to every role
    /// that reads items, unlike the directory's own listings.
    pub async fn places(&self, p: &Principal) -> AppResult<(Vec<Site>, Vec<Location>)> {
        require(p.role, Permission::ReadOwnItems)?;
        Ok((self.store.list_sites(p.tenant_id).await?, self.store.list_locations(p.tenant_id).await?))
    }

    async fn check_department_refs(&self, t: TenantId, d: &Department) -> AppResult<()> {
        if let Some(parent) = d.parent_id {
            if parent == d.id {
                return Err(DomainError::invalid("parent_id", "a department cannot contain itself").into());
            }
            if self.store.department(t, parent).await?.is_none() {
                return Err(DomainError::invalid("parent_id", "no such department in this organisation").into());
            }
        }
        if let Some(kc) = d.key_contact_id
            && self.store.person(t, kc).await?.is_none()
        {
            return Err(DomainError::invalid("key_contact_id", "no such person in this organisation").into());
        }
        Ok(())
    }

    pub async fn create_department(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        input: &DepartmentInput,
    ) -> AppResult<Department> {
        require(p.role, Permission::ManageDirectory)?;
        let d = validate_department(p.tenant_id, DepartmentId::new(), input)?;
        self.check_department_refs(p.tenant_id, &d).await?;
        if self.store.department_by_code(p.tenant_id, &d.code).await?.is_some() {
            return Err(AppError::new(
                mailroom_domain::ErrorCode::Conflict,
                format!("department code {} is taken", d.code),
            ));
        }
        let draft = audit::draft(audit::DEPARTMENT_CREATE, json!({"id": d.id, "code": d.code, "name": d.name}));
        self.store.admin_write(p.tenant_id, AdminChange::UpsertDepartment(d.clone()), &p.actor(ctx), draft).await?;
        Ok(d)
    }

    pub async fn update_department(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: DepartmentId,
        input: &DepartmentInput,
    ) -> AppResult<Department> {
        require(p.role, Permission::ManageDirectory)?;
        let old = self.store.department(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("department"))?;
        let d = validate_department(p.tenant_id, id, input)?;
        self.check_department_refs(p.tenant_id, &d).await?;
        if let Some(other) = self.store.department_by_code(p.tenant_id, &d.code).await?
            && other.id != id
        {
            return Err(AppError::new(
                mailroom_domain::ErrorCode::Conflict,
                format!("department code {} is taken", d.code),
            ));
        }
        let draft = audit::draft(
            audit::DEPARTMENT_UPDATE,
            json!({"id": d.id, "code": d.code, "changed": audit::changed_fields(&old, &d)}),
        );
        self.store.admin_write(p.tenant_id, AdminChange::UpsertDepartment(d.clone()), &p.actor(ctx), draft).await?;
        Ok(d)
    }

    pub async fn delete_department(&self, p: &Principal, ctx: &RequestCtx, id: DepartmentId) -> AppResult<()> {
        require(p.role, Permission::ManageDirectory)?;
        let old = self.store.department(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("department"))?;
        let draft = audit::draft(audit::DEPARTMENT_DELETE, json!({"id": id, "code": old.code, "name": old.name}));
        match self.store.admin_write(p.tenant_id, AdminChange::DeleteDepartment(id), &p.actor(ctx), draft).await {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound) => Err(AppError::not_found("department")),
            Err(other) => Err(other.into()),
        }
    }

    pub async fn department(&self, p: &Principal, id: DepartmentId) -> AppResult<Department> {
        require(p.role, Permission::ReadDirectory)?;
        self.store.department(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("department"))
    }

    pub async fn list_departments(&self, p: &Principal) -> AppResult<Vec<Department>> {
        require(p.role, Permission::ReadDirectory)?;
        Ok(self.store.list_departments(p.tenant_id).await?)
    }

    async fn check_person_refs(&self, t: TenantId, person: &Person) -> AppResult<()> {
        if let Some(d) = person.department_id
            && self.store.department(t, d).await?.is_none()
        {
            return Err(DomainError::invalid("department_id", "no such department in this organisation").into());
        }
        if let Some(no) = &person.employee_no
            && let Some(other) = self.store.person_by_employee_no(t, no).await?
            && other.id != person.id
        {
            return Err(AppError::new(mailroom_domain::ErrorCode::Conflict, format!("employee number {no} is taken")));
        }
        Ok(())
    }

    pub async fn create_person(&self, p: &Principal, ctx: &RequestCtx, input: &PersonInput) -> AppResult<Person> {
        require(p.role, Permission::ManageDirectory)?;
        let person = validate_person(p.tenant_id, PersonId::new(), input)?;
        self.check_person_refs(p.tenant_id, &person).await?;
        let draft = audit::draft(audit::PERSON_CREATE, json!({"id": person.id, "employee_no": person.employee_no}));
        self.store.admin_write(p.tenant_id, AdminChange::UpsertPerson(person.clone()), &p.actor(ctx), draft).await?;
        Ok(person)
    }

    pub async fn update_person(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: PersonId,
        input: &PersonInput,
    ) -> AppResult<Person> {
        require(p.role, Permission::ManageDirectory)?;
        let old = self.store.person(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("person"))?;
        let person = validate_person(p.tenant_id, id, input)?;
        self.check_person_refs(p.tenant_id, &person).await?;
        let draft = audit::draft(
            audit::PERSON_UPDATE,
            json!({"id": id, "employee_no": person.employee_no, "changed": audit::changed_fields(&old, &person)}),
        );
        self.store.admin_write(p.tenant_id, AdminChange::UpsertPerson(person.clone()), &p.actor(ctx), draft).await?;
        Ok(person)
    }

    pub async fn person(&self, p: &Principal, id: PersonId) -> AppResult<Person> {
        require(p.role, Permission::ReadDirectory)?;
        self.store.person(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("person"))
    }

    /// Finds people by any part of their names, aliases, employee number or e-mail.
    pub async fn search_people(
        &self,
        p: &Principal,
        q: &str,
        after: Option<PersonId>,
        limit: i64,
    ) -> AppResult<Vec<Person>> {
        require(p.role, Permission::ReadDirectory)?;
        let q = text::optional("q", Some(q), 100)?.unwrap_or_default();
        Ok(self.store.search_people(p.tenant_id, &q, after, limit.clamp(1, 200)).await?)
    }
}
