//! Directory pages: people and departments (list, search, create, edit), sites and locations.

use super::session::UiUser;
use super::view::{Chrome, FormData, Opt, Params, UiError, enc, error_line, filled, html, see_other};
use crate::AppState;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailroom_app::AppError;
use mailroom_app::directory::{DepartmentInput, PersonInput};
use mailroom_app::store::{Department, Person};
use mailroom_domain::DomainError;
use mailroom_domain::auth::Permission;
use mailroom_domain::ids::{DepartmentId, PersonId};
use serde::Deserialize;

const PAGE_SIZE: i64 = 50;

fn can_manage(u: &UiUser) -> bool {
    u.may(Permission::ManageDirectory)
}

fn department_label(d: &Department) -> String {
    match &d.name_en {
        Some(en) if en != &d.name => format!("{} {} ({})", d.code, d.name, en),
        _ => format!("{} {}", d.code, d.name),
    }
}

fn department_options(
    t: Tr,
    all: &[Department],
    selected: Option<DepartmentId>,
    exclude: Option<DepartmentId>,
) -> Vec<Opt> {
    let mut v = vec![Opt::new("", t.get("common.none"), selected.is_none())];
    v.extend(
        all.iter()
            .filter(|d| Some(d.id) != exclude)
            .map(|d| Opt::new(d.id.to_string(), department_label(d), Some(d.id) == selected)),
    );
    v
}

// ---------------------------------------------------------------- people

struct PersonRow {
    id: String,
    name: String,
    name_latin: String,
    employee_no: String,
    department: String,
    email: String,
    phone: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    t: Tr,
    c: Chrome,
    q: String,
    rows: Vec<PersonRow>,
    next: Option<String>,
    paged: bool,
    manage: bool,
}

#[derive(Deserialize)]
pub(crate) struct SearchParams {
    q: Option<String>,
    cursor: Option<String>,
}

pub(crate) async fn people(
    State(s): State<AppState>,
    u: UiUser,
    Params(p): Params<SearchParams>,
) -> Result<Response, UiError> {
    u.require(Permission::ReadDirectory)?;
    let q = filled(&p.q).unwrap_or("").to_string();
    let after = match filled(&p.cursor) {
        Some(c) => {
            Some(c.parse::<PersonId>().map_err(|_| u.fail(DomainError::invalid("cursor", "cursor is not valid")))?)
        }
        None => None,
    };
    let mut found = s.app.search_people(&u.principal, &q, after, PAGE_SIZE + 1).await.map_err(|e| u.fail(e))?;
    let next = if found.len() as i64 > PAGE_SIZE {
        found.truncate(PAGE_SIZE as usize);
        found.last().map(|p| format!("/ui/people?q={}&cursor={}", enc(&q), p.id))
    } else {
        None
    };
    let departments = s.app.list_departments(&u.principal).await.map_err(|e| u.fail(e))?;
    let rows = found
        .into_iter()
        .map(|p| PersonRow {
            id: p.id.to_string(),
            department: p
                .department_id
                .and_then(|d| departments.iter().find(|x| x.id == d))
                .map(department_label)
                .unwrap_or_default(),
            name: p.name,
            name_latin: p.name_latin.unwrap_or_default(),
            employee_no: p.employee_no.unwrap_or_default(),
            email: p.email.unwrap_or_default(),
            phone: p.phone.unwrap_or_default(),
            active: p.active,
        })
        .collect();
    let page =
        PeoplePage { t: u.t, c: u.chrome("people"), q, rows, next, paged: after.is_some(), manage: can_manage(&u) };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Deserialize, Default)]
pub(crate) struct PersonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    name_latin: Option<String>,
    aliases: Option<String>,
    employee_no: Option<String>,
    department_id: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    active: Option<String>,
    forwarding: Option<String>,
}

impl PersonForm {
    fn from_person(p: &Person) -> PersonForm {
        PersonForm {
            csrf: String::new(),
            name: p.name.clone(),
            name_latin: p.name_latin.clone(),
            aliases: Some(p.aliases.join("\n")),
            employee_no: p.employee_no.clone(),
            department_id: p.department_id.map(|d| d.to_string()),
            email: p.email.clone(),
            phone: p.phone.clone(),
            active: p.active.then(|| "on".to_string()),
            forwarding: p.forwarding.clone(),
        }
    }

    fn input(&self) -> Result<PersonInput, DomainError> {
        let department_id = match filled(&self.department_id) {
            Some(d) => Some(
                d.parse()
                    .map_err(|_| DomainError::invalid("department_id", "no such department in this organisation"))?,
            ),
            None => None,
        };
        let aliases = self
            .aliases
            .as_deref()
            .unwrap_or("")
            .split(['\n', ';', '；'])
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        Ok(PersonInput {
            name: self.name.clone(),
            name_latin: self.name_latin.clone(),
            aliases,
            employee_no: self.employee_no.clone(),
            department_id,
            email: self.email.clone(),
            phone: self.phone.clone(),
            active: Some(self.active.is_some()),
            forwarding: self.forwarding.clone(),
        })
    }
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    t: Tr,
    c: Chrome,
    /// Empty for a new person.
    id: String,
    f: PersonForm,
    departments: Vec<Opt>,
    manage: bool,
    /// The user may see and change the person's notification preferences.
    notify: bool,
    saved: bool,
    error: Option<String>,
    mail_href: String,
}

async fn person_page(
    s: &AppState,
    u: &UiUser,
    id: Option<PersonId>,
    f: PersonForm,
    saved: bool,
    error: Option<(StatusCode, String)>,
) -> Result<Response, UiError> {
    let departments = s.app.list_departments(&u.principal).await.map_err(|e| u.fail(e))?;
    let selected = filled(&f.department_id).and_then(|d| d.parse().ok());
    let (status, error) = match error {
        Some((st, e)) => (st, Some(e)),
        None => (StatusCode::OK, None),
    };
    let name = f.name.clone();
    let page = PersonPage {
        t: u.t,
        c: u.chrome("people"),
        id: id.map(|i| i.to_string()).unwrap_or_default(),
        departments: department_options(u.t, &departments, selected, None),
        f,
        manage: can_manage(u),
        notify: u.may(Permission::ManageNotifications),
        saved,
        error,
        mail_href: format!("/ui/items?q={}", enc(&name)),
    };
    Ok(html(status, &page))
}

fn form_error(u: &UiUser, e: &AppError) -> Option<(StatusCode, String)> {
    match e {
        AppError::Internal(_) => None,
        _ => Some((crate::problem::status_for(e.code()), error_line(u.t, e))),
    }
}

pub(crate) async fn new_person(State(s): State<AppState>, u: UiUser) -> Result<Response, UiError> {
    u.require(Permission::ManageDirectory)?;
    let f = PersonForm { active: Some("on".into()), ..Default::default() };
    person_page(&s, &u, None, f, false, None).await
}

pub(crate) async fn create_person(
    State(s): State<AppState>,
    u: UiUser,
    FormData(f): FormData<PersonForm>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageDirectory)?;
    u.check_csrf(&f.csrf)?;
    let result = match f.input() {
        Ok(input) => s.app.create_person(&u.principal, &u.ctx, &input).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(p) => Ok(see_other(&format!("/ui/people/{}?saved=1", p.id))),
        Err(e) => match form_error(&u, &e) {
            Some(err) if e.code() != mailroom_domain::ErrorCode::Forbidden => {
                person_page(&s, &u, None, f, false, Some(err)).await
            }
            _ => Err(u.fail(e)),
        },
    }
}

#[derive(Deserialize)]
pub(crate) struct SavedParams {
    saved: Option<String>,
}

fn parse_person_id(u: &UiUser, raw: &str) -> Result<PersonId, UiError> {
    raw.parse().map_err(|_| u.fail(AppError::not_found("person")))
}

pub(crate) async fn person(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    Params(q): Params<SavedParams>,
) -> Result<Response, UiError> {
    u.require(Permission::ReadDirectory)?;
    let id = parse_person_id(&u, &id)?;
    let p = s.app.person(&u.principal, id).await.map_err(|e| u.fail(e))?;
    person_page(&s, &u, Some(id), PersonForm::from_person(&p), q.saved.is_some(), None).await
}

pub(crate) async fn update_person(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(f): FormData<PersonForm>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageDirectory)?;
    u.check_csrf(&f.csrf)?;
    let id = parse_person_id(&u, &id)?;
    let result = match f.input() {
        Ok(input) => s.app.update_person(&u.principal, &u.ctx, id, &input).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(p) => Ok(see_other(&format!("/ui/people/{}?saved=1", p.id))),
        Err(e) => match form_error(&u, &e) {
            Some(err)
                if !matches!(
                    e.code(),
                    mailroom_domain::ErrorCode::Forbidden | mailroom_domain::ErrorCode::NotFound
                ) =>
            {
                person_page(&s, &u, Some(id), f, false, Some(err)).await
            }
            _ => Err(u.fail(e)),
        },
    }
}

// ---------------------------------------------------------------- departments

struct DepartmentRow {
    id: String,
    code: String,
    name: String,
    name_en: String,
    kind: String,
    parent: String,
    email: String,
}

#[derive(Template)]
#[template(path = "departments.html")]
struct DepartmentsPage {
    t: Tr,
    c: Chrome,
    q: String,
    rows: Vec<DepartmentRow>,
    manage: bool,
}

#[derive(Deserialize)]
pub(crate) struct FilterParams {
    q: Option<String>,
}

fn department_kind(t: Tr, kind: &str) -> String {
    match kind {
        "team" => t.get("departments.kind_team").to_string(),
        _ => t.get("departments.kind_department").to_string(),
    }
}

pub(crate) async fn departments(
    State(s): State<AppState>,
    u: UiUser,
    Params(p): Params<FilterParams>,
) -> Result<Response, UiError> {
    u.require(Permission::ReadDirectory)?;
    let t = u.t;
    let q = filled(&p.q).unwrap_or("").to_string();
    let needle = q.to_lowercase();
    let all = s.app.list_departments(&u.principal).await.map_err(|e| u.fail(e))?;
    let rows = all
        .iter()
        .filter(|d| {
            needle.is_empty()
                || [Some(&d.code), Some(&d.name), d.name_en.as_ref(), d.email.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|v| v.to_lowercase().contains(&needle))
        })
        .map(|d| DepartmentRow {
            id: d.id.to_string(),
            code: d.code.clone(),
            name: d.name.clone(),
            name_en: d.name_en.clone().unwrap_or_default(),
            kind: department_kind(t, &d.kind),
            parent: d.parent_id.and_then(|p| all.iter().find(|x| x.id == p)).map(department_label).unwrap_or_default(),
            email: d.email.clone().unwrap_or_default(),
        })
        .collect();
    let page = DepartmentsPage { t, c: u.chrome("departments"), q, rows, manage: can_manage(&u) };
    Ok(html(StatusCode::OK, &page))
}

#[derive(Deserialize, Default)]
pub(crate) struct DepartmentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    name_en: Option<String>,
    kind: Option<String>,
    parent_id: Option<String>,
    /// Employee number of the key contact.
    key_contact: Option<String>,
    email: Option<String>,
}

#[derive(Template)]
#[template(path = "department.html")]
struct DepartmentPage {
    t: Tr,
    c: Chrome,
    id: String,
    f: DepartmentForm,
    kinds: Vec<Opt>,
    parents: Vec<Opt>,
    key_contact_name: String,
    manage: bool,
    saved: bool,
    error: Option<String>,
}

async fn department_page(
    s: &AppState,
    u: &UiUser,
    id: Option<DepartmentId>,
    f: DepartmentForm,
    saved: bool,
    error: Option<(StatusCode, String)>,
) -> Result<Response, UiError> {
    let t = u.t;
    let all = s.app.list_departments(&u.principal).await.map_err(|e| u.fail(e))?;
    let selected = filled(&f.parent_id).and_then(|d| d.parse().ok());
    let kind = filled(&f.kind).unwrap_or("department");
    let kinds = vec![
        Opt::new("department", t.get("departments.kind_department"), kind != "team"),
        Opt::new("team", t.get("departments.kind_team"), kind == "team"),
    ];
    let key_contact_name = match filled(&f.key_contact) {
        Some(no) => find_by_employee_no(s, u, no).await?.map(|p| p.name).unwrap_or_default(),
        None => String::new(),
    };
    let (status, error) = match error {
        Some((st, e)) => (st, Some(e)),
        None => (StatusCode::OK, None),
    };
    let page = DepartmentPage {
        t,
        c: u.chrome("departments"),
        id: id.map(|i| i.to_string()).unwrap_or_default(),
        parents: department_options(t, &all, selected, id),
        kinds,
        f,
        key_contact_name,
        manage: can_manage(u),
        saved,
        error,
    };
    Ok(html(status, &page))
}

async fn find_by_employee_no(s: &AppState, u: &UiUser, no: &str) -> Result<Option<Person>, UiError> {
    let found = s.app.search_people(&u.principal, no, None, 50).await.map_err(|e| u.fail(e))?;
    Ok(found.into_iter().find(|p| p.employee_no.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(no))))
}

impl DepartmentForm {
    async fn input(&self, s: &AppState, u: &UiUser) -> Result<DepartmentInput, AppError> {
        let parent_id = match filled(&self.parent_id) {
            Some(d) => Some(
                d.parse().map_err(|_| DomainError::invalid("parent_id", "no such department in this organisation"))?,
            ),
            None => None,
        };
        let key_contact_id = match filled(&self.key_contact) {
            Some(no) => match find_by_employee_no(s, u, no).await {
                Ok(Some(p)) => Some(p.id),
                Ok(None) => {
                    return Err(DomainError::invalid("key_contact", format!("nobody has employee number {no}")).into());
                }
                Err(e) => return Err(e.error),
            },
            None => None,
        };
        Ok(DepartmentInput {
            code: self.code.clone(),
            name: self.name.clone(),
            name_en: self.name_en.clone(),
            kind: self.kind.clone(),
            parent_id,
            key_contact_id,
            email: self.email.clone(),
        })
    }
}

pub(crate) async fn new_department(State(s): State<AppState>, u: UiUser) -> Result<Response, UiError> {
    u.require(Permission::ManageDirectory)?;
    department_page(&s, &u, None, DepartmentForm::default(), false, None).await
}

pub(crate) async fn create_department(
    State(s): State<AppState>,
    u: UiUser,
    FormData(f): FormData<DepartmentForm>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageDirectory)?;
    u.check_csrf(&f.csrf)?;
    let result = match f.input(&s, &u).await {
        Ok(input) => s.app.create_department(&u.principal, &u.ctx, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(d) => Ok(see_other(&format!("/ui/departments/{}?saved=1", d.id))),
        Err(e) => match form_error(&u, &e) {
            Some(err) if e.code() != mailroom_domain::ErrorCode::Forbidden => {
                department_page(&s, &u, None, f, false, Some(err)).await
            }
            _ => Err(u.fail(e)),
        },
    }
}

fn parse_department_id(u: &UiUser, raw: &str) -> Result<DepartmentId, UiError> {
    raw.parse().map_err(|_| u.fail(AppError::not_found("department")))
}

pub(crate) async fn department(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    Params(q): Params<SavedParams>,
) -> Result<Response, UiError> {
    u.require(Permission::ReadDirectory)?;
    let id = parse_department_id(&u, &id)?;
    let d = s.app.department(&u.principal, id).await.map_err(|e| u.fail(e))?;
    let key_contact = match d.key_contact_id {
        Some(pid) => s.app.person(&u.principal, pid).await.ok().and_then(|p| p.employee_no),
        None => None,
    };
    let f = DepartmentForm {
        csrf: String::new(),
        code: d.code.clone(),
        name: d.name.clone(),
        name_en: d.name_en.clone(),
        kind: Some(d.kind.clone()),
        parent_id: d.parent_id.map(|p| p.to_string()),
        key_contact,
        email: d.email.clone(),
    };
    department_page(&s, &u, Some(id), f, q.saved.is_some(), None).await
}

pub(crate) async fn update_department(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(f): FormData<DepartmentForm>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageDirectory)?;
    u.check_csrf(&f.csrf)?;
    let id = parse_department_id(&u, &id)?;
    let current = s.app.department(&u.principal, id).await.map_err(|e| u.fail(e))?;
    let result = match f.input(&s, &u).await {
        Ok(mut input) => {
            // A key contact without an employee number cannot be typed; keep it unless the field was filled.
            if filled(&f.key_contact).is_none()
                && let Some(kc) = current.key_contact_id
                && s.app.person(&u.principal, kc).await.ok().and_then(|p| p.employee_no).is_none()
            {
                input.key_contact_id = Some(kc);
            }
            s.app.update_department(&u.principal, &u.ctx, id, &input).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(d) => Ok(see_other(&format!("/ui/departments/{}?saved=1", d.id))),
        Err(e) => match form_error(&u, &e) {
            Some(err)
                if !matches!(
                    e.code(),
                    mailroom_domain::ErrorCode::Forbidden | mailroom_domain::ErrorCode::NotFound
                ) =>
            {
                department_page(&s, &u, Some(id), f, false, Some(err)).await
            }
            _ => Err(u.fail(e)),
        },
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn delete_department(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(f): FormData<CsrfOnly>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageDirectory)?;
    u.check_csrf(&f.csrf)?;
    let id = parse_department_id(&u, &id)?;
    match s.app.delete_department(&u.principal, &u.ctx, id).await {
        Ok(()) => Ok(see_other("/ui/departments")),
        Err(e) if e.code() == mailroom_domain::ErrorCode::Conflict => {
            let d = s.app.department(&u.principal, id).await.map_err(|e| u.fail(e))?;
            let f = DepartmentForm {
                code: d.code.clone(),
                name: d.name.clone(),
                name_en: d.name_en.clone(),
                kind: Some(d.kind.clone()),
                parent_id: d.parent_id.map(|p| p.to_string()),
                email: d.email.clone(),
                ..Default::default()
            };
            let msg = u.t.get("departments.in_use").to_string();
            department_page(&s, &u, Some(id), f, false, Some((StatusCode::CONFLICT, msg))).await
        }
        Err(e) => Err(u.fail(e)),
    }
}

// ---------------------------------------------------------------- sites and locations

struct LocationRow {
    code: String,
    name: String,
    kind: String,
    level: String,
}

struct SiteView {
    name: String,
    address: String,
    timezone: String,
    locations: Vec<LocationRow>,
}

#[derive(Template)]
#[template(path = "sites.html")]
struct SitesPage {
    t: Tr,
    c: Chrome,
    sites: Vec<SiteView>,
}

fn security_level(t: Tr, level: i64) -> String {
    let key = match level {
        0 => "sites.level_0",
        1 => "sites.level_1",
        2 => "sites.level_2",
        _ => "sites.level_3",
    };
    t.get(key).to_string()
}

pub(crate) async fn sites(State(s): State<AppState>, u: UiUser) -> Result<Response, UiError> {
    u.require(Permission::ReadDirectory)?;
    let t = u.t;
    let sites = s.app.list_sites(&u.principal).await.map_err(|e| u.fail(e))?;
    let locations = s.app.list_locations(&u.principal).await.map_err(|e| u.fail(e))?;
    let views = sites
        .iter()
        .map(|site| SiteView {
            name: site.name.clone(),
            address: site.address.clone().unwrap_or_default(),
            timezone: site.timezone.clone(),
            locations: locations
                .iter()
                .filter(|l| l.site_id == site.id)
                .map(|l| LocationRow {
                    code: l.code.clone(),
                    name: l.name.clone(),
                    kind: t.location_kind(&l.kind),
                    level: security_level(t, l.security_level),
                })
                .collect(),
        })
        .collect();
    Ok(html(StatusCode::OK, &SitesPage { t, c: u.chrome("sites"), sites: views }))
}
