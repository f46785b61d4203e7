//! The JSON API, `/api/v1`. Every handler is described for OpenAPI with `#[utoipa::path]`.

use crate::AppState;
use crate::context::{Caller, Ctx};
use crate::extract::{CsvBody, JsonBody, Q};
use crate::problem::{ApiError, Problem};
use crate::{Route, route};
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mailroom_app::AppError;
use mailroom_app::auth::UserInput;
use mailroom_app::delegation::DelegationInput;
use mailroom_app::directory::{DepartmentInput, LocationInput, PersonInput};
use mailroom_app::exceptions::{ItemDetailsInput, ResolveInput, Resolved};
use mailroom_app::import::{ImportKind, ImportReport};
use mailroom_app::items::{ListQuery, RegisterItemInput, TransitionInput};
use mailroom_app::jobs::JobCounts;
use mailroom_app::notify_settings::{
    EndpointInput, EndpointView, PreferencesInput, TemplateInput, TemplatePreview, TemplateView, parse_kind, parse_lang,
};
use mailroom_app::reports::ItemReport;
use mailroom_app::retention::RetentionInput;
use mailroom_app::rules::{ActiveRules, EvaluateInput, Evaluation, ItemExplanation, RulesInput};
use mailroom_app::security::Lockout;
use mailroom_app::store::{
    ApiToken, Delegation, Department, HandoverRecord, Item, ItemException, Job, Location, NotifyPreference, Person,
    RetentionPolicy, Site, StoredRuleSet, Tenant, User,
};
use mailroom_app::tenancy::{AssignedUser, AssignmentInput, TenantInput};
use mailroom_app::tokens::{CreatedToken, PasswordTokenInput, TokenInput};
use mailroom_domain::custody::CustodyEvent;
use mailroom_domain::ids::{
    DelegationId, DepartmentId, EndpointId, ExceptionId, ItemId, JobId, PersonId, SiteId, TokenId, UserId,
};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use utoipa::{IntoParams, OpenApi, ToSchema};

type ApiResult<T> = Result<T, ApiError>;

fn parse_id<T: FromStr>(raw: &str, what: &str, rid: &str) -> ApiResult<T> {
    raw.parse().map_err(|_| ApiError::new(AppError::not_found(what), rid))
}

/// A page of items.
#[derive(Serialize, ToSchema)]
pub struct ItemList {
    pub items: Vec<Item>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PersonList {
    pub items: Vec<Person>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DepartmentList {
    pub items: Vec<Department>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SiteList {
    pub items: Vec<Site>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LocationList {
    pub items: Vec<Location>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EventList {
    pub items: Vec<CustodyEvent>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct ItemQuery {
    /// Exact tracking number or reference code (scanner lookup).
    pub tracking: Option<String>,
    /// Free text over sender, recipient, tracking number, reference and notes.
    pub q: Option<String>,
    pub status: Option<String>,
    /// Only the caller's own and department's mail.
    pub mine: Option<bool>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
pub struct PeopleQuery {
    /// Part of a name (any script), pinyin, alias, employee number or e-mail.
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
pub struct SiteInput {
    pub name: String,
    pub address: Option<String>,
}

/// Who the caller is, and where they act.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// The organisation the request acts in.
    pub tenant_id: String,
    /// Its slug.
    pub tenant: String,
    /// The caller's own organisation.
    pub home_tenant_id: String,
    pub user_id: String,
    pub login: String,
    pub display_name: String,
    /// The caller's role in the organisation the request acts in.
    pub role: mailroom_domain::auth::Role,
    pub person_id: Option<PersonId>,
    pub department_id: Option<DepartmentId>,
    /// The only site the caller may act at, when limited to one.
    pub site_id: Option<SiteId>,
}

/// Every API route. The router is built from this table; a test checks that it and the OpenAPI
/// document list the same operations, and the role-matrix test tries each with every role.
fn table() -> Vec<Route> {
    use Method as M;
    let mut t = vec![
        route(M::GET, "/api/v1/me", me),
        route(M::GET, "/api/v1/tenants", list_tenants),
        route(M::POST, "/api/v1/tenants", create_tenant),
        route(M::GET, "/api/v1/assignments", list_assignments),
        route(M::POST, "/api/v1/assignments", create_assignment),
        route(M::DELETE, "/api/v1/assignments/{user_id}", delete_assignment),
        route(M::GET, "/api/v1/users", list_users),
        route(M::POST, "/api/v1/users", create_user),
        route(M::POST, "/api/v1/users/{id}/unlock", unlock_user),
        route(M::GET, "/api/v1/lockouts", list_lockouts),
        route(M::GET, "/api/v1/tokens", list_tokens),
        route(M::POST, "/api/v1/tokens", create_token),
        route(M::POST, "/api/v1/auth/token", password_token),
        route(M::DELETE, "/api/v1/tokens/{id}", revoke_token),
        route(M::GET, "/api/v1/audit", audit_log),
        route(M::POST, "/api/v1/items", create_item),
        route(M::GET, "/api/v1/items", list_items),
        route(M::GET, "/api/v1/me/items", my_items),
        route(M::GET, "/api/v1/me/delegated-items", delegated_items),
        route(M::GET, "/api/v1/delegations", list_delegations),
        route(M::POST, "/api/v1/delegations", create_delegation),
        route(M::DELETE, "/api/v1/delegations/{id}", revoke_delegation),
        route(M::PUT, "/api/v1/users/{id}/clearance", set_clearance),
        route(M::GET, "/api/v1/items/{id}", get_item),
        route(M::POST, "/api/v1/items/{id}/transitions", transition_item),
        route(M::GET, "/api/v1/items/{id}/events", item_events),
        route(M::GET, "/api/v1/items/{id}/handover", item_handover),
        route(M::GET, "/api/v1/items/{id}/signature", item_signature),
        route(M::GET, "/api/v1/items/{id}/receipt", item_receipt),
        route(M::POST, "/api/v1/items/{id}/photos", add_item_photo),
        route(M::GET, "/api/v1/items/{id}/photos", item_photos),
        route(M::GET, "/api/v1/items/{id}/photos/{photo_id}", item_photo),
        route(M::GET, "/api/v1/custody/public-key", custody_public_key),
        route(M::GET, "/api/v1/custody/verify", custody_verify),
        route(M::GET, "/api/v1/reports/summary", report_summary),
        route(M::GET, "/api/v1/reports/summary.csv", report_summary_csv),
        route(M::GET, "/api/v1/people", list_people),
        route(M::POST, "/api/v1/people", create_person),
        route(M::POST, "/api/v1/people/import", import_people),
        route(M::GET, "/api/v1/people/{id}", get_person),
        route(M::PUT, "/api/v1/people/{id}", update_person),
        route(M::GET, "/api/v1/recipients", find_recipients),
        route(M::GET, "/api/v1/departments", list_departments),
        route(M::POST, "/api/v1/departments", create_department),
        route(M::POST, "/api/v1/departments/import", import_departments),
        route(M::GET, "/api/v1/departments/{id}", get_department),
        route(M::PUT, "/api/v1/departments/{id}", update_department),
        route(M::DELETE, "/api/v1/departments/{id}", delete_department),
        route(M::GET, "/api/v1/sites", list_sites),
        route(M::POST, "/api/v1/sites", create_site),
        route(M::GET, "/api/v1/locations", list_locations),
        route(M::POST, "/api/v1/locations", create_location),
        route(M::GET, "/api/v1/locations/suggestion", suggest_location),
        route(M::GET, "/api/v1/carriers/detect", detect_carrier),
        route(M::POST, "/api/v1/scans", scan_label),
        route(M::POST, "/api/v1/addresses/check", check_address),
        route(M::POST, "/api/v1/customs/check", check_customs),
        route(M::PATCH, "/api/v1/items/{id}", update_item),
        route(M::GET, "/api/v1/exceptions", list_exceptions),
        route(M::GET, "/api/v1/exceptions/{id}", get_exception),
        route(M::POST, "/api/v1/exceptions/{id}/resolve", resolve_exception),
        route(M::GET, "/api/v1/retention", get_retention),
        route(M::PUT, "/api/v1/retention", put_retention),
        route(M::GET, "/api/v1/rules", get_rules),
        route(M::PUT, "/api/v1/rules", put_rules),
        route(M::GET, "/api/v1/rules/versions", rule_versions),
        route(M::POST, "/api/v1/rules/evaluate", evaluate_rules),
        route(M::GET, "/api/v1/items/{id}/explanation", item_explanation),
        route(M::GET, "/api/v1/jobs", list_jobs),
        route(M::GET, "/api/v1/jobs/{id}", get_job),
        route(M::POST, "/api/v1/jobs/{id}/retry", retry_job),
        route(M::GET, "/api/v1/notification-templates", list_notification_templates),
        route(M::GET, "/api/v1/notification-templates/{kind}/{lang}", get_notification_template),
        route(M::PUT, "/api/v1/notification-templates/{kind}/{lang}", put_notification_template),
        route(M::DELETE, "/api/v1/notification-templates/{kind}/{lang}", reset_notification_template),
        route(M::POST, "/api/v1/notification-templates/{kind}/{lang}/preview", preview_notification_template),
        route(M::GET, "/api/v1/me/notification-preferences", get_my_notification_preferences),
        route(M::PUT, "/api/v1/me/notification-preferences", put_my_notification_preferences),
        route(M::GET, "/api/v1/people/{id}/notification-preferences", get_notification_preferences),
        route(M::PUT, "/api/v1/people/{id}/notification-preferences", put_notification_preferences),
        route(M::GET, "/api/v1/notification-endpoints", list_notification_endpoints),
        route(M::POST, "/api/v1/notification-endpoints", create_notification_endpoint),
        route(M::GET, "/api/v1/notification-endpoints/{id}", get_notification_endpoint),
        route(M::PUT, "/api/v1/notification-endpoints/{id}", update_notification_endpoint),
        route(M::DELETE, "/api/v1/notification-endpoints/{id}", delete_notification_endpoint),
    ];
    t.extend(crate::api_notify::routes());
    t.extend(crate::api_sla::table());
    t.extend(crate::api_postage::routes());
    t.extend(crate::api_outbound::routes());
    t.extend(crate::api_pdf::routes());
    t
}

pub fn routes() -> Router<AppState> {
    crate::build(table())
}

/// The API's operations (method and path template).
pub fn endpoints() -> Vec<(Method, &'static str)> {
    table().into_iter().map(|(m, p, _)| (m, p)).collect()
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn me(State(s): State<AppState>, c: Caller) -> ApiResult<Json<Me>> {
    let tenant = s.app.current_tenant(&c.principal).await.map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    let p = c.principal;
    Ok(Json(Me {
        tenant_id: p.tenant_id.to_string(),
        tenant: tenant.slug,
        home_tenant_id: p.home_tenant_id.to_string(),
        user_id: p.user_id.to_string(),
        login: p.login,
        display_name: p.display_name,
        role: p.role,
        person_id: p.person_id,
        department_id: p.department_id,
        site_id: p.site_id,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct TenantList {
    pub items: Vec<Tenant>,
    pub next_cursor: Option<String>,
}

/// The organisations the caller may act in (with `X-Tenant`), their own first. Operator
/// administrators get every organisation.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenancy",
    responses((status = 200, body = TenantList), (status = 401, body = Problem)), security(("bearer" = [])))]
async fn list_tenants(State(s): State<AppState>, c: Caller) -> ApiResult<Json<TenantList>> {
    let items = s.app.my_tenants(&c.principal).await.map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    Ok(Json(TenantList { items, next_cursor: None }))
}

/// Create an organisation (operator administrators).
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenancy", request_body = TenantInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = Tenant), (status = 409, body = Problem), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn create_tenant(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: JsonBody<TenantInput>,
) -> ApiResult<Response> {
    create_once(&s, &c, &headers, "tenants", &body.raw, s.app.add_tenant(&c.principal, &body.value)).await
}

#[derive(Serialize, ToSchema)]
pub struct AssignmentList {
    pub items: Vec<AssignedUser>,
    pub next_cursor: Option<String>,
}

/// Users of other organisations (the operator's staff) assigned to this one, with their role and site.
#[utoipa::path(get, path = "/api/v1/assignments", tag = "tenancy",
    responses((status = 200, body = AssignmentList), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn list_assignments(State(s): State<AppState>, c: Caller) -> ApiResult<Json<AssignmentList>> {
    let items = s.app.list_assignments(&c.principal).await.map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    Ok(Json(AssignmentList { items, next_cursor: None }))
}

/// Assign a user of another organisation to this one (or change their role or site here).
/// Operator administrators only; send `X-Tenant` to choose the organisation.
#[utoipa::path(post, path = "/api/v1/assignments", tag = "tenancy", request_body = AssignmentInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = AssignedUser), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn create_assignment(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: JsonBody<AssignmentInput>,
) -> ApiResult<Response> {
    create_once(&s, &c, &headers, "assignments", &body.raw, s.app.assign(&c.principal, &body.value)).await
}

/// End a user's assignment to this organisation (operator administrators).
#[utoipa::path(delete, path = "/api/v1/assignments/{user_id}", tag = "tenancy", params(("user_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn delete_assignment(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let rid = &c.ctx.request_id;
    let id: UserId = parse_id(&id, "assignment", rid)?;
    s.app.unassign(&c.principal, id).await.map(|_| StatusCode::NO_CONTENT).map_err(|e| ApiError::new(e, rid))
}

/// Item counts of the organisation by status and category.
#[utoipa::path(get, path = "/api/v1/reports/summary", tag = "reports",
    responses((status = 200, body = ItemReport), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn report_summary(State(s): State<AppState>, c: Caller) -> ApiResult<Json<ItemReport>> {
    s.app.item_report(&c.principal).await.map(Json).map_err(|e| ApiError::new(e, &c.ctx.request_id))
}

/// The same counts as a CSV file (`status,category,count`).
#[utoipa::path(get, path = "/api/v1/reports/summary.csv", tag = "reports",
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn report_summary_csv(State(s): State<AppState>, c: Caller) -> ApiResult<Response> {
    let r = s.app.item_report(&c.principal).await.map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    let mut resp = r.to_csv().into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"items-summary.csv\""));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The verdict on the organisation's custody log.
#[derive(Serialize, ToSchema)]
pub struct CustodyVerdict {
    pub tenant: String,
    /// Events checked.
    pub events: i64,
    /// Signed checkpoints checked.
    pub checkpoints: usize,
    /// True when the chain and every checkpoint are intact.
    pub intact: bool,
    /// What is wrong, when something is.
    pub problems: Vec<String>,
}

/// Verify the organisation's custody hash chain and signed checkpoints, as `mailroom verify`
/// does for the whole installation.
#[utoipa::path(get, path = "/api/v1/custody/verify", tag = "custody",
    responses((status = 200, body = CustodyVerdict), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn custody_verify(State(s): State<AppState>, c: Caller) -> ApiResult<Json<CustodyVerdict>> {
    let v = s.app.verify_custody_as(&c.principal).await.map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    let mut problems: Vec<String> = v.broken.iter().map(|b| b.to_string()).collect();
    problems.extend(v.bad_checkpoints.iter().cloned());
    Ok(Json(CustodyVerdict {
        intact: v.ok(),
        tenant: v.tenant,
        events: v.events,
        checkpoints: v.checkpoints,
        problems,
    }))
}

/// Register an inbound item. Answers 201 with the new item, or 200 with the existing item when the
/// tracking number (or the `Idempotency-Key`) was already registered in this organisation.
#[utoipa::path(post, path = "/api/v1/items", tag = "items", request_body = RegisterItemInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = Item), (status = 200, body = Item), (status = 422, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn create_item(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: JsonBody<RegisterItemInput>,
) -> ApiResult<Response> {
    let key = headers.get("idempotency-key").map(|v| v.to_str().map(str::to_string));
    let idem = match key {
        None => None,
        Some(Ok(k)) => Some((k, mailroom_domain::custody::hex(&sha256(&body.raw)))),
        Some(Err(_)) => {
            return Err(crate::problem::bad_input(
                "Idempotency-Key",
                "Idempotency-Key must be ASCII",
                &c.ctx.request_id,
            ));
        }
    };
    let reg = s
        .app
        .register_item(&c.principal, &c.ctx, &body.value, idem)
        .await
        .map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    if reg.created {
        s.metrics.intake();
    }
    let status = if reg.created { StatusCode::CREATED } else { StatusCode::OK };
    let mut r = (status, Json(&reg.item)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/items/{}", reg.item.id)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// Runs a creating handler at most once per `Idempotency-Key`: a retry with the same key and body
/// gets the first answer again; the same key with a different request is refused.
pub(crate) async fn create_once<T: Serialize>(
    s: &AppState,
    c: &Caller,
    headers: &HeaderMap,
    route: &str,
    raw: &[u8],
    create: impl std::future::Future<Output = Result<T, AppError>>,
) -> ApiResult<Response> {
    create_once_keeping(s, c, headers, route, raw, create, |body| Ok(body.to_string())).await
}

/// [`create_once`], storing for replays what `keep` makes of the answer (secrets left out).
async fn create_once_keeping<T: Serialize>(
    s: &AppState,
    c: &Caller,
    headers: &HeaderMap,
    route: &str,
    raw: &[u8],
    create: impl std::future::Future<Output = Result<T, AppError>>,
    keep: impl Fn(&str) -> Result<String, AppError>,
) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    let json = |status: StatusCode, body: String| {
        let mut r = (status, body).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        r
    };
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(k) if !k.is_empty() && k.len() <= 200 => Some(k.to_string()),
            _ => {
                return Err(crate::problem::bad_input(
                    "Idempotency-Key",
                    "Idempotency-Key must be 1-200 ASCII characters",
                    rid,
                ));
            }
        },
    };
    let t = c.principal.tenant_id;
    let mut fingerprint = route.as_bytes().to_vec();
    fingerprint.push(0);
    fingerprint.extend_from_slice(raw);
    let hash = mailroom_domain::custody::hex(&sha256(&fingerprint));
    if let Some(key) = &key
        && let Some((prev_hash, status, body)) =
            s.app.store.idempotent_response(t, key).await.map_err(|e| ApiError::new(e, rid))?
    {
        if prev_hash != hash {
            return Err(ApiError::new(
                AppError::new(
                    mailroom_domain::ErrorCode::IdempotencyMismatch,
                    "this Idempotency-Key was already used for a different request",
                ),
                rid,
            ));
        }
        return Ok(json(StatusCode::from_u16(status as u16).unwrap_or(StatusCode::CREATED), body));
    }
    let value = create.await.map_err(|e| ApiError::new(e, rid))?;
    let body = serde_json::to_string(&value).map_err(|e| ApiError::new(AppError::Internal(e.to_string()), rid))?;
    if let Some(key) = &key {
        let kept = keep(&body).map_err(|e| ApiError::new(e, rid))?;
        s.app.store.save_idempotent_response(t, key, &hash, 201, &kept).await.map_err(|e| ApiError::new(e, rid))?;
    }
    Ok(json(StatusCode::CREATED, body))
}

fn sha256(b: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(b).to_vec()
}

/// List and search items, newest first. `tracking` looks up one tracking number or reference code.
/// Employees only see their own and their department's mail.
#[utoipa::path(get, path = "/api/v1/items", tag = "items", params(ItemQuery),
    responses((status = 200, body = ItemList), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn list_items(State(s): State<AppState>, c: Caller, Q(q): Q<ItemQuery>) -> ApiResult<Json<ItemList>> {
    let page = s
        .app
        .list_items(
            &c.principal,
            &ListQuery {
                q: q.q,
                tracking: q.tracking,
                status: q.status,
                mine: q.mine.unwrap_or(false),
                cursor: q.cursor,
                limit: q.limit,
            },
        )
        .await
        .map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    Ok(Json(ItemList { items: page.items, next_cursor: page.next_cursor }))
}

/// "My mail": the caller's own and department's items.
#[utoipa::path(get, path = "/api/v1/me/items", tag = "items", params(ItemQuery),
    responses((status = 200, body = ItemList)), security(("bearer" = [])))]
async fn my_items(State(s): State<AppState>, c: Caller, Q(q): Q<ItemQuery>) -> ApiResult<Json<ItemList>> {
    let page = s
        .app
        .list_items(
            &c.principal,
            &ListQuery { q: q.q, tracking: q.tracking, status: q.status, mine: true, cursor: q.cursor, limit: q.limit },
        )
        .await
        .map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    Ok(Json(ItemList { items: page.items, next_cursor: page.next_cursor }))
}

#[derive(Serialize, ToSchema)]
pub struct DelegationList {
    pub items: Vec<Delegation>,
    pub next_cursor: Option<String>,
}

/// Items waiting in the mailroom that the caller may collect for colleagues who delegated to them.
#[utoipa::path(get, path = "/api/v1/me/delegated-items", tag = "delegation",
    responses((status = 200, body = ItemList)), security(("bearer" = [])))]
async fn delegated_items(State(s): State<AppState>, c: Caller) -> ApiResult<Json<ItemList>> {
    let items = s.app.delegated_items(&c.principal).await.map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    Ok(Json(ItemList { items, next_cursor: None }))
}

/// Delegations the caller granted or received.
#[utoipa::path(get, path = "/api/v1/delegations", tag = "delegation",
    responses((status = 200, body = DelegationList)), security(("bearer" = [])))]
async fn list_delegations(State(s): State<AppState>, c: Caller) -> ApiResult<Json<DelegationList>> {
    let items = s.app.my_delegations(&c.principal).await.map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    Ok(Json(DelegationList { items, next_cursor: None }))
}

/// Let a named colleague collect your mail until `valid_until` (at most 180 days): all items, one
/// category, or listed items. Strictly confidential items are never released to a delegate.
#[utoipa::path(post, path = "/api/v1/delegations", tag = "delegation", request_body = DelegationInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = Delegation), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn create_delegation(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: JsonBody<DelegationInput>,
) -> ApiResult<Response> {
    create_once(&s, &c, &headers, "delegations", &body.raw, s.app.grant_delegation(&c.principal, &c.ctx, &body.value))
        .await
}

/// Revoke a delegation (grantor, delegate or administrator).
#[utoipa::path(delete, path = "/api/v1/delegations/{id}", tag = "delegation", params(("id" = String, Path)),
    responses((status = 200, body = Delegation), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn revoke_delegation(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Delegation>> {
    let rid = &c.ctx.request_id;
    let id: DelegationId = parse_id(&id, "delegation", rid)?;
    s.app.revoke_delegation(&c.principal, &c.ctx, id).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// A user's clearance for confidential items.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct Clearance {
    /// 0 none, 2 confidential, 3 strictly confidential.
    pub level: i64,
}

/// Grant or withdraw a user's clearance to handle confidential items (administrators).
#[utoipa::path(put, path = "/api/v1/users/{id}/clearance", tag = "auth", params(("id" = String, Path)), request_body = Clearance,
    responses((status = 200, body = Clearance), (status = 404, body = Problem), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn set_clearance(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: JsonBody<Clearance>,
) -> ApiResult<Json<Clearance>> {
    let rid = &c.ctx.request_id;
    mailroom_domain::auth::require(c.principal.role, mailroom_domain::auth::Permission::ManageUsers)
        .map_err(|e| ApiError::new(e, rid))?;
    let id: UserId = parse_id(&id, "user", rid)?;
    s.app
        .set_clearance(&c.principal, &c.ctx, id, body.value.level)
        .await
        .map(|level| Json(Clearance { level }))
        .map_err(|e| ApiError::new(e, rid))
}

#[utoipa::path(get, path = "/api/v1/items/{id}", tag = "items", params(("id" = String, Path)),
    responses((status = 200, body = Item), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_item(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Json<Item>> {
    let rid = &c.ctx.request_id;
    let id: ItemId = parse_id(&id, "item", rid)?;
    s.app.view_item(&c.principal, &c.ctx, id, "details").await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Apply a lifecycle action. Invalid transitions answer 409 `invalid_transition`.
/// `deliver` and `pick_up` need `handover` and `signature`.
#[utoipa::path(post, path = "/api/v1/items/{id}/transitions", tag = "items", params(("id" = String, Path)),
    request_body = TransitionInput,
    responses((status = 200, body = Item), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 404, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem)),
    security(("bearer" = [])))]
async fn transition_item(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: JsonBody<TransitionInput>,
) -> ApiResult<Json<Item>> {
    let rid = &c.ctx.request_id;
    let id: ItemId = parse_id(&id, "item", rid)?;
    s.app.transition(&c.principal, &c.ctx, id, &body.value).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Fill in or correct an item's details (the second stage of two-stage intake): kind, category,
/// priority, carrier, sender, notes, recipient. Fields left out stay as they are; an empty string
/// clears a text. `expected_version` is required: 409 `conflict` when the item changed since.
/// Saving clears "details pending" (unless `details_pending: true` is sent); setting the recipient
/// resolves the item's open exception. Writes a `details_updated` custody event.
#[utoipa::path(patch, path = "/api/v1/items/{id}", tag = "items", params(("id" = String, Path)),
    request_body = ItemDetailsInput,
    responses((status = 200, body = Item), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 404, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn update_item(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: JsonBody<ItemDetailsInput>,
) -> ApiResult<Json<Item>> {
    let rid = &c.ctx.request_id;
    mailroom_domain::auth::require(c.principal.role, mailroom_domain::auth::Permission::HandleItems)
        .map_err(|e| ApiError::new(e, rid))?;
    let id: ItemId = parse_id(&id, "item", rid)?;
    s.app.update_item_details(&c.principal, &c.ctx, id, &body.value).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// A page of the exception queue.
#[derive(Serialize, ToSchema)]
pub struct ExceptionList {
    pub items: Vec<ItemException>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct ExceptionQuery {
    /// `open` (default) or `resolved`.
    pub status: Option<String>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

/// The exception queue, oldest first: items whose recipient is missing (scanned only), ambiguous
/// (with the candidates) or unreadable.
#[utoipa::path(get, path = "/api/v1/exceptions", tag = "exceptions", params(ExceptionQuery),
    responses((status = 200, body = ExceptionList), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_exceptions(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<ExceptionQuery>,
) -> ApiResult<Json<ExceptionList>> {
    let rid = &c.ctx.request_id;
    let page = s
        .app
        .list_exceptions(&c.principal, q.status.as_deref(), q.cursor.as_deref(), q.limit)
        .await
        .map_err(|e| ApiError::new(e, rid))?;
    Ok(Json(ExceptionList { items: page.items, next_cursor: page.next_cursor }))
}

#[utoipa::path(get, path = "/api/v1/exceptions/{id}", tag = "exceptions", params(("id" = String, Path)),
    responses((status = 200, body = ItemException), (status = 404, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn get_exception(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Json<ItemException>> {
    let rid = &c.ctx.request_id;
    // The permission first: roles without it learn nothing, not even whether the id is valid.
    mailroom_domain::auth::require(c.principal.role, mailroom_domain::auth::Permission::RegisterItems)
        .map_err(|e| ApiError::new(e, rid))?;
    let id: ExceptionId = parse_id(&id, "exception", rid)?;
    s.app.exception(&c.principal, id).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Resolve an open exception: `assign_recipient` with `recipient` (a person or a department), or
/// `return_to_sender`. The item, the exception and a custody event `exception_resolved` are
/// written in one transaction. 409 `conflict` when it was resolved already or the item changed
/// since `expected_version`.
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/resolve", tag = "exceptions", params(("id" = String, Path)),
    request_body = ResolveInput,
    responses((status = 200, body = Resolved), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 404, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn resolve_exception(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: JsonBody<ResolveInput>,
) -> ApiResult<Json<Resolved>> {
    let rid = &c.ctx.request_id;
    mailroom_domain::auth::require(c.principal.role, mailroom_domain::auth::Permission::HandleItems)
        .map_err(|e| ApiError::new(e, rid))?;
    let id: ExceptionId = parse_id(&id, "exception", rid)?;
    s.app.resolve_exception(&c.principal, &c.ctx, id, &body.value).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// The item's custody timeline, oldest first.
#[utoipa::path(get, path = "/api/v1/items/{id}/events", tag = "items", params(("id" = String, Path)),
    responses((status = 200, body = EventList), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn item_events(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Json<EventList>> {
    let rid = &c.ctx.request_id;
    let id: ItemId = parse_id(&id, "item", rid)?;
    s.app.view_item(&c.principal, &c.ctx, id, "timeline").await.map_err(|e| ApiError::new(e, rid))?;
    let items = s.app.item_events(&c.principal, id).await.map_err(|e| ApiError::new(e, rid))?;
    Ok(Json(EventList { items, next_cursor: None }))
}

#[utoipa::path(get, path = "/api/v1/items/{id}/handover", tag = "items", params(("id" = String, Path)),
    responses((status = 200, body = HandoverRecord), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn item_handover(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HandoverRecord>> {
    let rid = &c.ctx.request_id;
    let id: ItemId = parse_id(&id, "item", rid)?;
    s.app
        .item_handover(&c.principal, id)
        .await
        .map_err(|e| ApiError::new(e, rid))?
        .map(Json)
        .ok_or_else(|| ApiError::new(AppError::not_found("handover"), rid))
}

/// The handover signature image (PNG or SVG), decrypted. 410 `shredded` once it was destroyed
/// under the organisation's retention policy.
#[utoipa::path(get, path = "/api/v1/items/{id}/signature", tag = "items", params(("id" = String, Path)),
    responses((status = 200, content_type = "image/png"), (status = 404, body = Problem), (status = 410, body = Problem)),
    security(("bearer" = [])))]
async fn item_signature(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    let id: ItemId = parse_id(&id, "item", rid)?;
    s.app.view_item(&c.principal, &c.ctx, id, "signature").await.map_err(|e| ApiError::new(e, rid))?;
    let a = s.app.item_signature(&c.principal, id).await.map_err(|e| ApiError::new(e, rid))?;
    Ok(crate::attachment_response(a))
}

/// The handover receipt: the custody event, its Merkle inclusion proof and a signed checkpoint,
/// as canonical JSON. Verify offline with `mailroom verify-receipt FILE --public-key KEY`.
#[utoipa::path(get, path = "/api/v1/items/{id}/receipt", tag = "custody", params(("id" = String, Path)),
    responses((status = 200, body = mailroom_domain::receipt::Receipt), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn item_receipt(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    let id: ItemId = parse_id(&id, "item", rid)?;
    let item = s.app.view_item(&c.principal, &c.ctx, id, "receipt").await.map_err(|e| ApiError::new(e, rid))?;
    let r = s.app.item_receipt(&c.principal, id).await.map_err(|e| ApiError::new(e, rid))?;
    let mut resp = r.to_canonical().into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"receipt-{}.json\"", item.reference)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// The installation's Ed25519 public key, which receipts and checkpoints verify against.
#[derive(Serialize, ToSchema)]
pub struct PublicKey {
    /// 64 lowercase hex digits.
    pub public_key: String,
    pub key_id: String,
}

#[utoipa::path(get, path = "/api/v1/custody/public-key", tag = "custody",
    responses((status = 200, body = PublicKey)), security(("bearer" = [])))]
async fn custody_public_key(State(s): State<AppState>, c: Caller) -> ApiResult<Json<PublicKey>> {
    let rid = &c.ctx.request_id;
    let public_key = s.app.public_key_hex().await.map_err(|e| ApiError::new(e, rid))?;
    let key_id = mailroom_domain::receipt::parse_public_key(&public_key)
        .map(|k| mailroom_domain::receipt::key_id(&k.to_bytes()))
        .unwrap_or_default();
    Ok(Json(PublicKey { public_key, key_id }))
}

#[utoipa::path(get, path = "/api/v1/people", tag = "directory", params(PeopleQuery),
    responses((status = 200, body = PersonList)), security(("bearer" = [])))]
async fn list_people(State(s): State<AppState>, c: Caller, Q(q): Q<PeopleQuery>) -> ApiResult<Json<PersonList>> {
    let rid = &c.ctx.request_id;
    let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(cur) => {
            Some(cur.parse::<PersonId>().map_err(|_| crate::problem::bad_input("cursor", "cursor is not valid", rid))?)
        }
        None => None,
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let mut items = s
        .app
        .search_people(&c.principal, q.q.as_deref().unwrap_or(""), after, limit + 1)
        .await
        .map_err(|e| ApiError::new(e, rid))?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|p| p.id.to_string())
    } else {
        None
    };
    Ok(Json(PersonList { items, next_cursor }))
}

#[utoipa::path(post, path = "/api/v1/people", tag = "directory", request_body = PersonInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = Person), (status = 422, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn create_person(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: JsonBody<PersonInput>,
) -> ApiResult<Response> {
    create_once(&s, &c, &headers, "people", &body.raw, s.app.create_person(&c.principal, &c.ctx, &body.value)).await
}

#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "directory", params(("id" = String, Path)),
    responses((status = 200, body = Person), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_person(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Json<Person>> {
    let rid = &c.ctx.request_id;
    let id: PersonId = parse_id(&id, "person", rid)?;
    s.app.person(&c.principal, id).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

#[utoipa::path(put, path = "/api/v1/people/{id}", tag = "directory", params(("id" = String, Path)), request_body = PersonInput,
    responses((status = 200, body = Person), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn update_person(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: JsonBody<PersonInput>,
) -> ApiResult<Json<Person>> {
    let rid = &c.ctx.request_id;
    let id: PersonId = parse_id(&id, "person", rid)?;
    s.app.update_person(&c.principal, &c.ctx, id, &body.value).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

async fn import(s: &AppState, c: &Caller, kind: ImportKind, data: &[u8]) -> ApiResult<Json<ImportReport>> {
    let rid = &c.ctx.request_id;
    s.app.import_as(&c.principal, &c.ctx, kind, data).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Bulk import people from CSV (UTF-8). Columns: name, name_latin, aliases (`;`-separated),
/// employee_no, department (code), email, phone, active, forwarding. All rows or none.
/// Spreadsheets, archives, images and UTF-16 files are refused with 415.
#[utoipa::path(post, path = "/api/v1/people/import", tag = "directory", request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 422, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem)), security(("bearer" = [])))]
async fn import_people(State(s): State<AppState>, c: Caller, CsvBody(data): CsvBody) -> ApiResult<Json<ImportReport>> {
    import(&s, &c, ImportKind::People, &data).await
}

/// Bulk import departments and teams from CSV. Columns: code, name, name_en, kind, parent, email.
#[utoipa::path(post, path = "/api/v1/departments/import", tag = "directory", request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 422, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem)), security(("bearer" = [])))]
async fn import_departments(
    State(s): State<AppState>,
    c: Caller,
    CsvBody(data): CsvBody,
) -> ApiResult<Json<ImportReport>> {
    import(&s, &c, ImportKind::Departments, &data).await
}

#[utoipa::path(get, path = "/api/v1/departments", tag = "directory",
    responses((status = 200, body = DepartmentList)), security(("bearer" = [])))]
async fn list_departments(State(s): State<AppState>, c: Caller) -> ApiResult<Json<DepartmentList>> {
    let items = s.app.list_departments(&c.principal).await.map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    Ok(Json(DepartmentList { items, next_cursor: None }))
}

#[utoipa::path(post, path = "/api/v1/departments", tag = "directory", request_body = DepartmentInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = Department), (status = 422, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn create_department(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: JsonBody<DepartmentInput>,
) -> ApiResult<Response> {
    let created = s.app.create_department(&c.principal, &c.ctx, &body.value);
    create_once(&s, &c, &headers, "departments", &body.raw, created).await
}

#[utoipa::path(get, path = "/api/v1/departments/{id}", tag = "directory", params(("id" = String, Path)),
    responses((status = 200, body = Department), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_department(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Json<Department>> {
    let rid = &c.ctx.request_id;
    let id: DepartmentId = parse_id(&id, "department", rid)?;
    s.app.department(&c.principal, id).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

#[utoipa::path(put, path = "/api/v1/departments/{id}", tag = "directory", params(("id" = String, Path)), request_body = DepartmentInput,
    responses((status = 200, body = Department), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn update_department(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: JsonBody<DepartmentInput>,
) -> ApiResult<Json<Department>> {
    let rid = &c.ctx.request_id;
    let id: DepartmentId = parse_id(&id, "department", rid)?;
    s.app.update_department(&c.principal, &c.ctx, id, &body.value).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Delete a department that no person, team or item refers to (409 otherwise).
#[utoipa::path(delete, path = "/api/v1/departments/{id}", tag = "directory", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn delete_department(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let rid = &c.ctx.request_id;
    let id: DepartmentId = parse_id(&id, "department", rid)?;
    s.app
        .delete_department(&c.principal, &c.ctx, id)
        .await
        .map(|_| StatusCode::NO_CONTENT)
        .map_err(|e| ApiError::new(e, rid))
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<User>,
    pub next_cursor: Option<String>,
}

/// Users of the caller's organisation (administrators and auditors).
#[utoipa::path(get, path = "/api/v1/users", tag = "auth",
    responses((status = 200, body = UserList), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn list_users(State(s): State<AppState>, c: Caller) -> ApiResult<Json<UserList>> {
    let items = s.app.list_users(&c.principal).await.map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    Ok(Json(UserList { items, next_cursor: None }))
}

/// Create a user with a password and a role (administrators; only operator administrators
/// create operator administrators).
#[utoipa::path(post, path = "/api/v1/users", tag = "auth", request_body = UserInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = User), (status = 409, body = Problem), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn create_user(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: JsonBody<UserInput>,
) -> ApiResult<Response> {
    create_once(&s, &c, &headers, "users", &body.raw, s.app.add_user(&c.principal, &c.ctx, &body.value)).await
}

#[utoipa::path(get, path = "/api/v1/sites", tag = "directory", responses((status = 200, body = SiteList)), security(("bearer" = [])))]
async fn list_sites(State(s): State<AppState>, c: Caller) -> ApiResult<Json<SiteList>> {
    let items = s.app.list_sites(&c.principal).await.map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    Ok(Json(SiteList { items, next_cursor: None }))
}

#[utoipa::path(post, path = "/api/v1/sites", tag = "directory", request_body = SiteInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = Site), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn create_site(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: JsonBody<SiteInput>,
) -> ApiResult<Response> {
    let created = s.app.create_site(&c.principal, &c.ctx, &body.value.name, body.value.address.as_deref());
    create_once(&s, &c, &headers, "sites", &body.raw, created).await
}

#[utoipa::path(get, path = "/api/v1/locations", tag = "directory", responses((status = 200, body = LocationList)), security(("bearer" = [])))]
async fn list_locations(State(s): State<AppState>, c: Caller) -> ApiResult<Json<LocationList>> {
    let items = s.app.list_locations(&c.principal).await.map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    Ok(Json(LocationList { items, next_cursor: None }))
}

#[utoipa::path(post, path = "/api/v1/locations", tag = "directory", request_body = LocationInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = Location), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn create_location(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: JsonBody<LocationInput>,
) -> ApiResult<Response> {
    let created = s.app.create_location(&c.principal, &c.ctx, &body.value);
    create_once(&s, &c, &headers, "locations", &body.raw, created).await
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<ApiToken>,
    pub next_cursor: Option<String>,
}

/// Tokens of the organisation (admins) or the caller's own (everyone else), newest first.
/// Secrets are never listed.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "auth",
    responses((status = 200, body = TokenList), (status = 401, body = Problem)), security(("bearer" = [])))]
async fn list_tokens(State(s): State<AppState>, c: Caller) -> ApiResult<Json<TokenList>> {
    let items = s.app.list_tokens(&c.principal).await.map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    Ok(Json(TokenList { items, next_cursor: None }))
}

/// Create an API token for oneself or (admins) for another user of the organisation, optionally
/// with a narrower role, a scope (`full`, `scanner`, `read_only`) and a lifetime (`expires_in`,
/// e.g. `90d`). The answer holds the secret, shown only this once; a request retried with the
/// same `Idempotency-Key` gets the same token without its secret.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = TokenInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = CreatedToken), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_token(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: JsonBody<TokenInput>,
) -> ApiResult<Response> {
    let created = s.app.add_token(&c.principal, &c.ctx, &body.value);
    let without_secret = |answer: &str| {
        let mut v: serde_json::Value =
            serde_json::from_str(answer).map_err(|e| AppError::Internal(format!("token answer: {e}")))?;
        if let Some(fields) = v.as_object_mut() {
            fields.insert("secret".into(), serde_json::Value::Null);
        }
        Ok(v.to_string())
    };
    create_once_keeping(&s, &c, &headers, "tokens", &body.raw, created, without_secret).await
}

/// Revoke a token: one's own, or (admins) any of the organisation's. Requests made with it then
/// answer 401. Revoking a revoked token changes nothing.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "auth", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn revoke_token(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let rid = &c.ctx.request_id;
    let id: TokenId = parse_id(&id, "token", rid)?;
    s.app
        .revoke_token(&c.principal, &c.ctx, id)
        .await
        .map(|_| StatusCode::NO_CONTENT)
        .map_err(|e| ApiError::new(e, rid))
}

/// Exchange an organisation, login and password for an API token (for example to set up a
/// scanner station), optionally narrowed (`role`, `scope`); it lasts 90 days unless `expires_in`
/// says otherwise. Failed attempts count towards the login lockout like console logins: a locked
/// account or address answers 429 `too_many_attempts` with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = PasswordTokenInput,
    responses((status = 201, body = CreatedToken), (status = 401, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem, headers(("Retry-After" = u64, description = "Seconds until the next attempt")))))]
async fn password_token(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    body: JsonBody<PasswordTokenInput>,
) -> ApiResult<Response> {
    let created = s.app.token_for_password(&ctx, &body.value).await.map_err(|e| ApiError::new(e, &ctx.request_id))?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct LockoutList {
    pub items: Vec<Lockout>,
    pub next_cursor: Option<String>,
}

/// Accounts of the organisation that are locked after repeated failed logins (admin only).
#[utoipa::path(get, path = "/api/v1/lockouts", tag = "auth",
    responses((status = 200, body = LockoutList), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn list_lockouts(State(s): State<AppState>, c: Caller) -> ApiResult<Json<LockoutList>> {
    let items = s.app.list_lockouts(&c.principal).await.map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    Ok(Json(LockoutList { items, next_cursor: None }))
}

/// Lift a user's login lockout (admin only; audited).
#[utoipa::path(post, path = "/api/v1/users/{id}/unlock", tag = "auth", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn unlock_user(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let rid = &c.ctx.request_id;
    mailroom_domain::auth::require(c.principal.role, mailroom_domain::auth::Permission::ManageUsers)
        .map_err(|e| ApiError::new(e, rid))?;
    let id: UserId = parse_id(&id, "user", rid)?;
    s.app.unlock_user(&c.principal, &c.ctx, id).await.map(|_| StatusCode::NO_CONTENT).map_err(|e| ApiError::new(e, rid))
}

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Only events whose kind starts with this, e.g. `admin.` or `admin.token.`.
    pub kind: Option<String>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

/// The organisation's audit log, newest first: administrative actions (`admin.*`: directory,
/// users, tokens, unlocks) and every custody event, each with who, when, from where (address,
/// device, token) and the request id. Admin only.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = EventList), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn audit_log(State(s): State<AppState>, c: Caller, Q(q): Q<AuditQuery>) -> ApiResult<Json<EventList>> {
    let page = s
        .app
        .audit_log(&c.principal, q.kind.as_deref(), q.cursor.as_deref(), q.limit)
        .await
        .map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    Ok(Json(EventList { items: page.items, next_cursor: page.next_cursor }))
}

/// An organisation's retention policies. Categories not listed are kept indefinitely.
#[derive(Serialize, ToSchema)]
pub struct RetentionPolicies {
    pub policies: Vec<RetentionPolicy>,
}

/// The organisation's retention policies (admins).
#[utoipa::path(get, path = "/api/v1/retention", tag = "retention",
    responses((status = 200, body = RetentionPolicies), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn get_retention(State(s): State<AppState>, c: Caller) -> ApiResult<Json<RetentionPolicies>> {
    let rid = &c.ctx.request_id;
    let policies = s.app.retention_policies(&c.principal).await.map_err(|e| ApiError::new(e, rid))?;
    Ok(Json(RetentionPolicies { policies }))
}

/// Replace the organisation's retention policies (admins). Attachments (signatures, photos, scans)
/// of items in a listed category are destroyed — their data key is shredded — once `days` have
/// passed after the day (policies up to 93 days) or month they were stored in. Every change and
/// every destroyed key is recorded in the custody log; reading destroyed material answers 410
/// `shredded`.
#[utoipa::path(put, path = "/api/v1/retention", tag = "retention", request_body = RetentionInput,
    responses((status = 200, body = RetentionPolicies), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn put_retention(
    State(s): State<AppState>,
    c: Caller,
    body: JsonBody<RetentionInput>,
) -> ApiResult<Json<RetentionPolicies>> {
    let rid = &c.ctx.request_id;
    let policies =
        s.app.set_retention_policies(&c.principal, &c.ctx, &body.value).await.map_err(|e| ApiError::new(e, rid))?;
    Ok(Json(RetentionPolicies { policies }))
}

/// The classification and routing rules in force (administrators): the organisation's latest saved
/// version, or the default pack when it has saved none.
#[utoipa::path(get, path = "/api/v1/rules", tag = "rules",
    responses((status = 200, body = ActiveRules), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn get_rules(State(s): State<AppState>, c: Caller) -> ApiResult<Json<ActiveRules>> {
    let rid = &c.ctx.request_id;
    s.app.active_rules(&c.principal).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Validate and save a new version of the rules (TOML, see docs/RULES.md), in force at once for
/// items registered from now on. Invalid rules answer 422 `invalid_rules` with the `line`,
/// `column` and `rule` of the problem. The change is recorded in the custody log.
#[utoipa::path(put, path = "/api/v1/rules", tag = "rules", request_body = RulesInput,
    responses((status = 200, body = ActiveRules), (status = 422, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn put_rules(State(s): State<AppState>, c: Caller, body: JsonBody<RulesInput>) -> ApiResult<Json<ActiveRules>> {
    let rid = &c.ctx.request_id;
    s.app.save_rules(&c.principal, &c.ctx, &body.value).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Every saved version of the rules, newest first.
#[derive(Serialize, ToSchema)]
pub struct RuleVersionList {
    pub items: Vec<StoredRuleSet>,
}

/// The saved versions of the rules, newest first (administrators).
#[utoipa::path(get, path = "/api/v1/rules/versions", tag = "rules",
    responses((status = 200, body = RuleVersionList), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn rule_versions(State(s): State<AppState>, c: Caller) -> ApiResult<Json<RuleVersionList>> {
    let rid = &c.ctx.request_id;
    let items = s.app.rule_versions(&c.principal).await.map_err(|e| ApiError::new(e, rid))?;
    Ok(Json(RuleVersionList { items }))
}

/// Dry run: what the rules in force (or, for administrators, the unsaved rules in `source`) decide
/// for an item with these facts, and why. Writes nothing. For staff registering items and
/// administrators; the intake screen uses it for suggestions.
#[utoipa::path(post, path = "/api/v1/rules/evaluate", tag = "rules", request_body = EvaluateInput,
    responses((status = 200, body = Evaluation), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn evaluate_rules(
    State(s): State<AppState>,
    c: Caller,
    body: JsonBody<EvaluateInput>,
) -> ApiResult<Json<Evaluation>> {
    let rid = &c.ctx.request_id;
    s.app.evaluate_rules(&c.principal, &body.value).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Why the item was classified and routed as it was: the rules version in force at intake, the
/// rules that fired with their reasons, what each set (and what it could not, e.g. values given
/// explicitly at intake), the routing target and due-by. Read from the item's `registered`
/// custody event. Confidential items: only for callers with need to know (403 otherwise).
#[utoipa::path(get, path = "/api/v1/items/{id}/explanation", tag = "items", params(("id" = String, Path)),
    responses((status = 200, body = ItemExplanation), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn item_explanation(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ItemExplanation>> {
    let rid = &c.ctx.request_id;
    let id: ItemId = parse_id(&id, "item", rid)?;
    s.app.view_item(&c.principal, &c.ctx, id, "explanation").await.map_err(|e| ApiError::new(e, rid))?;
    s.app.item_explanation(&c.principal, id).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Check an international address, or a postal code alone, against the destination country's
/// postal rules: required fields, postal-code pattern, region; parse a free-text address into
/// fields; lay out the label lines in the country's order with a Latin rendering beside text in
/// other scripts. An invalid address is an answer (200, `valid: false`, `problems`); a body
/// with nothing to check is 422. Any signed-in user may call it.
#[utoipa::path(post, path = "/api/v1/addresses/check", tag = "outbound",
    request_body = mailroom_domain::address::CheckRequest,
    responses((status = 200, body = mailroom_domain::address::Verdict), (status = 422, body = Problem),
        (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn check_address(
    c: Caller,
    body: JsonBody<mailroom_domain::address::CheckRequest>,
) -> ApiResult<Json<mailroom_domain::address::Verdict>> {
    use mailroom_domain::address::{MAX_TEXT_CHARS, check};
    let rid = &c.ctx.request_id;
    let req = body.value;
    if req.country.trim().is_empty() {
        return Err(crate::problem::bad_input("country", "country is required", rid));
    }
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|v| v.trim().is_empty());
    if blank(&req.postal_code) && blank(&req.text) && req.fields.is_none() {
        return Err(crate::problem::bad_input("text", "give a postal_code, a text or fields", rid));
    }
    if req.text.as_deref().is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS) {
        return Err(crate::problem::bad_input("text", format!("text is longer than {MAX_TEXT_CHARS} characters"), rid));
    }
    Ok(Json(check(&req)))
}

/// Check a customs declaration: the form (CN22 up to 300 SDR, CN23 above or when a line needs
/// a certificate), every line (specific description, quantity, net weight, value and ISO 4217
/// currency, 6-digit HS code, origin country) and the restricted and quarantine goods with the
/// certificates they need. `accepted: false` means the item must not be accepted for dispatch.
/// Any signed-in user may call it.
#[utoipa::path(post, path = "/api/v1/customs/check", tag = "outbound",
    request_body = mailroom_domain::customs::Declaration,
    responses((status = 200, body = mailroom_domain::customs::CustomsVerdict), (status = 422, body = Problem),
        (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn check_customs(
    State(s): State<AppState>,
    c: Caller,
    body: JsonBody<mailroom_domain::customs::Declaration>,
) -> ApiResult<Json<mailroom_domain::customs::CustomsVerdict>> {
    use mailroom_domain::customs::{MAX_LINES, check};
    let rid = &c.ctx.request_id;
    if body.value.lines.len() > MAX_LINES {
        return Err(crate::problem::bad_input("lines", format!("at most {MAX_LINES} lines"), rid));
    }
    Ok(Json(check(&body.value, &s.sdr_rates)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DetectQuery {
    /// The scanned or typed code, as read (1–256 characters; scanner noise is fine).
    #[param(required = true, value_type = String)]
    pub code: Option<String>,
}

/// Identify the carrier and service of a tracking number or scanned barcode and verify its check
/// digit. Product codes, asset tags and other non-tracking input answer 200 with `carrier: null`,
/// `valid: false` and a `reason`; ambiguous numbers list ranked `candidates`. Any role may call it.
#[utoipa::path(get, path = "/api/v1/carriers/detect", tag = "carriers", params(DetectQuery),
    responses((status = 200, body = mailroom_domain::carrier::Detection), (status = 422, body = Problem),
        (status = 401, body = Problem)),
    security(("bearer" = [])))]
async fn detect_carrier(c: Caller, Q(q): Q<DetectQuery>) -> ApiResult<Json<mailroom_domain::carrier::Detection>> {
    use mailroom_domain::carrier::{MAX_INPUT_CHARS, detect};
    let rid = &c.ctx.request_id;
    let code = q.code.unwrap_or_default();
    if code.trim().is_empty() {
        return Err(crate::problem::bad_input("code", "code is required", rid));
    }
    if code.chars().count() > MAX_INPUT_CHARS {
        return Err(crate::problem::bad_input(
            "code",
            format!("code is longer than {MAX_INPUT_CHARS} characters"),
            rid,
        ));
    }
    Ok(Json(detect(&code)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    /// Item kind (default `parcel`).
    pub kind: Option<String>,
    /// Category (default `general`).
    pub category: Option<String>,
    /// Confidentiality (default `internal`).
    pub confidentiality: Option<String>,
    /// The site to store at (default: the caller's site; otherwise every site of the organisation).
    #[param(value_type = Option<String>)]
    pub site_id: Option<SiteId>,
}

/// Where to store an item: the location secure enough for it that wastes the least security, of
/// a kind suited to the item (parcels to lockers or shelves, drug samples to cold storage, storage
/// media to the secure room), the emptiest first. `location` is null when no location at the
/// site is secure enough. Mailroom staff only.
#[utoipa::path(get, path = "/api/v1/locations/suggestion", tag = "directory", params(SuggestionQuery),
    responses((status = 200, body = mailroom_app::placement::PlacementSuggestion), (status = 422, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn suggest_location(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<SuggestionQuery>,
) -> ApiResult<Json<mailroom_app::placement::PlacementSuggestion>> {
    let query = mailroom_app::placement::PlacementQuery {
        kind: q.kind,
        category: q.category,
        confidentiality: q.confidentiality,
        site_id: q.site_id,
    };
    let out = s.app.suggest_location(&c.principal, &query).await.map_err(|e| ApiError::new(e, &c.ctx.request_id))?;
    Ok(Json(out))
}

/// The photos kept with an item, oldest first.
#[derive(Serialize, ToSchema)]
pub struct PhotoList {
    pub items: Vec<mailroom_app::store::ItemPhoto>,
}

/// Read every barcode in a label photo (raw body, `image/png` or `image/jpeg`, at most 15 MiB
/// and 40 megapixels): each with its symbology, text and carrier recognition, and the tracking
/// number the label most likely carries. For intake (`register_items`); stores nothing. 413 for
/// a larger image, 415 for another format, 422 for a file that cannot be decoded.
#[utoipa::path(post, path = "/api/v1/scans", tag = "carriers",
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "The photo (PNG or JPEG)"),
    responses((status = 200, body = mailroom_app::scan::ScanReport), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn scan_label(
    State(s): State<AppState>,
    c: Caller,
    req: axum::extract::Request,
) -> ApiResult<Json<mailroom_app::scan::ScanReport>> {
    let rid = &c.ctx.request_id;
    mailroom_domain::auth::require(c.principal.role, mailroom_domain::auth::Permission::RegisterItems)
        .map_err(|e| ApiError::new(e, rid))?;
    let bytes = crate::extract::image_body(req).await?;
    s.app.scan_label(&c.principal, bytes).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Keep a photo with the item (raw body, `image/png` or `image/jpeg`, at most 15 MiB): stored
/// encrypted, with a `photo_added` custody event holding its SHA-256. Needs `handle_items` and
/// clearance for confidential items. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/items/{id}/photos", tag = "items", params(("id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "The photo (PNG or JPEG)"),
    responses((status = 201, body = mailroom_app::store::ItemPhoto), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn add_item_photo(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    req: axum::extract::Request,
) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    mailroom_domain::auth::require(c.principal.role, mailroom_domain::auth::Permission::HandleItems)
        .map_err(|e| ApiError::new(e, rid))?;
    let id: ItemId = parse_id(&id, "item", rid)?;
    let bytes = crate::extract::image_body(req).await?;
    let route = format!("POST /api/v1/items/{id}/photos");
    let raw = bytes.clone();
    create_once(&s, &c, &headers, &route, &raw, s.app.add_item_photo(&c.principal, &c.ctx, id, bytes)).await
}

/// The photos kept with an item (metadata; the images at `/photos/{photo_id}`).
#[utoipa::path(get, path = "/api/v1/items/{id}/photos", tag = "items", params(("id" = String, Path)),
    responses((status = 200, body = PhotoList), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn item_photos(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Json<PhotoList>> {
    let rid = &c.ctx.request_id;
    let id: ItemId = parse_id(&id, "item", rid)?;
    let items = s.app.item_photos(&c.principal, id).await.map_err(|e| ApiError::new(e, rid))?;
    Ok(Json(PhotoList { items }))
}

/// One photo of the item, decrypted. For a confidential item only its recipient and staff
/// cleared for it may open it (403 otherwise), and each look is recorded in the custody log.
/// 410 `shredded` once destroyed under the organisation's retention policy.
#[utoipa::path(get, path = "/api/v1/items/{id}/photos/{photo_id}", tag = "items",
    params(("id" = String, Path), ("photo_id" = String, Path)),
    responses((status = 200, content_type = "image/jpeg"), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 410, body = Problem)),
    security(("bearer" = [])))]
async fn item_photo(
    State(s): State<AppState>,
    c: Caller,
    Path((id, photo_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    let id: ItemId = parse_id(&id, "item", rid)?;
    let photo: mailroom_domain::ids::AttachmentId = parse_id(&photo_id, "photo", rid)?;
    let (_, a) = s.app.item_photo(&c.principal, &c.ctx, id, photo).await.map_err(|e| ApiError::new(e, rid))?;
    Ok(crate::attachment_response(a))
}

#[derive(Deserialize, IntoParams)]
pub struct RecipientQuery {
    /// What the clerk typed or what was read off a label: Chinese characters, pinyin (with or
    /// without tones and spaces), initials such as `zwj`, a Latin name in either order, an alias,
    /// an employee number, an e-mail address or a department name. 1-100 characters.
    pub q: Option<String>,
    /// Most results, 1-50 (default 10).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct RecipientList {
    /// Best first.
    pub items: Vec<mailroom_app::recipients::Recipient>,
    /// Always null: the list is ranked, not paged; ask for a higher `limit` instead.
    pub next_cursor: Option<String>,
}

/// Find the recipient of an item among people, departments and teams, ranked best first, with
/// what matched. Typos are forgiven; people who left are listed with `active: false` and their
/// forwarding instruction. Needs the same role as reading the directory.
#[utoipa::path(get, path = "/api/v1/recipients", tag = "directory", params(RecipientQuery),
    responses((status = 200, body = RecipientList), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn find_recipients(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<RecipientQuery>,
) -> ApiResult<Json<RecipientList>> {
    let rid = &c.ctx.request_id;
    let items = s
        .app
        .find_recipients(&c.principal, q.q.as_deref().unwrap_or(""), q.limit)
        .await
        .map_err(|e| ApiError::new(e, rid))?;
    Ok(Json(RecipientList { items, next_cursor: None }))
}

/// A page of the organisation's background jobs, with how many are in each status.
#[derive(Serialize, ToSchema)]
pub struct JobList {
    pub items: Vec<Job>,
    pub counts: JobCounts,
}

#[derive(Deserialize, IntoParams)]
pub struct JobQuery {
    /// Only jobs with this status: `pending`, `running`, `done` or `dead` (the dead-letter list).
    pub status: Option<String>,
    /// 1–500, default 100.
    pub limit: Option<i64>,
}

/// The organisation's background jobs (sending notices …), newest first, and how many are in
/// each status (admins). `?status=dead` is the dead-letter list: jobs that failed on every
/// attempt, or could not succeed at all, with the last error.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobQuery),
    responses((status = 200, body = JobList), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn list_jobs(State(s): State<AppState>, c: Caller, Q(q): Q<JobQuery>) -> ApiResult<Json<JobList>> {
    let rid = &c.ctx.request_id;
    let items = s.app.list_jobs(&c.principal, q.status.as_deref(), q.limit).await.map_err(|e| ApiError::new(e, rid))?;
    let counts = s.app.job_counts(&c.principal).await.map_err(|e| ApiError::new(e, rid))?;
    Ok(Json(JobList { items, counts }))
}

/// One background job (admins).
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = Job), (status = 404, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn get_job(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Json<Job>> {
    let rid = &c.ctx.request_id;
    mailroom_domain::auth::require(c.principal.role, mailroom_domain::auth::Permission::ManageJobs)
        .map_err(|e| ApiError::new(e, rid))?;
    let id: JobId = parse_id(&id, "job", rid)?;
    s.app.job(&c.principal, id).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Send a dead job back to the queue (admins): it is due at once and gets all its attempts
/// again. Recorded in the audit log (`jobs.retried`). 409 `conflict` unless the job is dead.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = Job), (status = 409, body = Problem), (status = 404, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn retry_job(State(s): State<AppState>, c: Caller, Path(id): Path<String>) -> ApiResult<Json<Job>> {
    let rid = &c.ctx.request_id;
    mailroom_domain::auth::require(c.principal.role, mailroom_domain::auth::Permission::ManageJobs)
        .map_err(|e| ApiError::new(e, rid))?;
    let id: JobId = parse_id(&id, "job", rid)?;
    s.app.retry_job(&c.principal, &c.ctx, id).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Every notice template of the organisation.
#[derive(Serialize, ToSchema)]
pub struct TemplateList {
    pub items: Vec<TemplateView>,
}

/// Every kind of notice in every language (`zh-CN`, `en`) as in force: the organisation's own
/// wording, or the built-in one (`is_default`), with the variables each may use (administrators).
#[utoipa::path(get, path = "/api/v1/notification-templates", tag = "notifications",
    responses((status = 200, body = TemplateList), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn list_notification_templates(State(s): State<AppState>, c: Caller) -> ApiResult<Json<TemplateList>> {
    let rid = &c.ctx.request_id;
    let items = s.app.notification_templates(&c.principal).await.map_err(|e| ApiError::new(e, rid))?;
    Ok(Json(TemplateList { items }))
}

/// One notice template as in force (administrators). Kinds: `arrival`, `confidential_arrival`,
/// `reminder`, `escalation`, `out_for_delivery`, `receipt`, `damaged`, `deadline_missed`,
/// `digest`, `disposal_requested`; languages `zh-CN`, `en`.
#[utoipa::path(get, path = "/api/v1/notification-templates/{kind}/{lang}", tag = "notifications",
    params(("kind" = String, Path), ("lang" = String, Path)),
    responses((status = 200, body = TemplateView), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_notification_template(
    State(s): State<AppState>,
    c: Caller,
    Path((kind, lang)): Path<(String, String)>,
) -> ApiResult<Json<TemplateView>> {
    let rid = &c.ctx.request_id;
    let run = async {
        let (kind, lang) = (parse_kind(&kind)?, parse_lang(&lang)?);
        s.app.notification_template(&c.principal, kind, lang).await
    };
    run.await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Save the organisation's wording of a notice (administrators). `{{variable}}` placeholders
/// must be among the kind's variables; a confidential arrival may not name the sender, carrier,
/// tracking number, category or kind. Invalid templates answer 422 naming the field and variable.
#[utoipa::path(put, path = "/api/v1/notification-templates/{kind}/{lang}", tag = "notifications",
    params(("kind" = String, Path), ("lang" = String, Path)), request_body = TemplateInput,
    responses((status = 200, body = TemplateView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn put_notification_template(
    State(s): State<AppState>,
    c: Caller,
    Path((kind, lang)): Path<(String, String)>,
    body: JsonBody<TemplateInput>,
) -> ApiResult<Json<TemplateView>> {
    let rid = &c.ctx.request_id;
    let run = async {
        let (kind, lang) = (parse_kind(&kind)?, parse_lang(&lang)?);
        s.app.save_notification_template(&c.principal, &c.ctx, kind, lang, &body.value).await
    };
    run.await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Go back to the built-in wording of a notice (administrators); answers the template now in force.
#[utoipa::path(delete, path = "/api/v1/notification-templates/{kind}/{lang}", tag = "notifications",
    params(("kind" = String, Path), ("lang" = String, Path)),
    responses((status = 200, body = TemplateView), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn reset_notification_template(
    State(s): State<AppState>,
    c: Caller,
    Path((kind, lang)): Path<(String, String)>,
) -> ApiResult<Json<TemplateView>> {
    let rid = &c.ctx.request_id;
    let run = async {
        let (kind, lang) = (parse_kind(&kind)?, parse_lang(&lang)?);
        s.app.reset_notification_template(&c.principal, &c.ctx, kind, lang).await
    };
    run.await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Validate a template and fill it with example values, without saving it (administrators).
#[utoipa::path(post, path = "/api/v1/notification-templates/{kind}/{lang}/preview", tag = "notifications",
    params(("kind" = String, Path), ("lang" = String, Path)), request_body = TemplateInput,
    responses((status = 200, body = TemplatePreview), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn preview_notification_template(
    State(s): State<AppState>,
    c: Caller,
    Path((kind, lang)): Path<(String, String)>,
    body: JsonBody<TemplateInput>,
) -> ApiResult<Json<TemplatePreview>> {
    let rid = &c.ctx.request_id;
    let run = || {
        let (kind, lang) = (parse_kind(&kind)?, parse_lang(&lang)?);
        s.app.preview_notification_template(&c.principal, kind, lang, &body.value)
    };
    run().map(Json).map_err(|e| ApiError::new(e, rid))
}

/// The caller's own notification preferences (the defaults until they save some). 404 when the
/// caller's user has no directory entry in the organisation.
#[utoipa::path(get, path = "/api/v1/me/notification-preferences", tag = "notifications",
    responses((status = 200, body = NotifyPreference), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_my_notification_preferences(State(s): State<AppState>, c: Caller) -> ApiResult<Json<NotifyPreference>> {
    let rid = &c.ctx.request_id;
    s.app.my_notification_preferences(&c.principal).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Replace the caller's own notification preferences.
#[utoipa::path(put, path = "/api/v1/me/notification-preferences", tag = "notifications",
    request_body = PreferencesInput,
    responses((status = 200, body = NotifyPreference), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn put_my_notification_preferences(
    State(s): State<AppState>,
    c: Caller,
    body: JsonBody<PreferencesInput>,
) -> ApiResult<Json<NotifyPreference>> {
    let rid = &c.ctx.request_id;
    s.app
        .save_my_notification_preferences(&c.principal, &c.ctx, &body.value)
        .await
        .map(Json)
        .map_err(|e| ApiError::new(e, rid))
}

/// A person's notification preferences: one's own, or anyone's for administrators.
#[utoipa::path(get, path = "/api/v1/people/{id}/notification-preferences", tag = "notifications",
    params(("id" = String, Path)),
    responses((status = 200, body = NotifyPreference), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_notification_preferences(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<NotifyPreference>> {
    let rid = &c.ctx.request_id;
    let id: PersonId = parse_id(&id, "person", rid)?;
    s.app.notification_preferences(&c.principal, id).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Replace a person's notification preferences: one's own, or anyone's for administrators.
/// E-mail needs an address and SMS a phone number in the directory; quiet hours need a start and
/// an end (they may wrap midnight); the digest time defaults to 08:30.
#[utoipa::path(put, path = "/api/v1/people/{id}/notification-preferences", tag = "notifications",
    params(("id" = String, Path)), request_body = PreferencesInput,
    responses((status = 200, body = NotifyPreference), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn put_notification_preferences(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: JsonBody<PreferencesInput>,
) -> ApiResult<Json<NotifyPreference>> {
    let rid = &c.ctx.request_id;
    let id: PersonId = parse_id(&id, "person", rid)?;
    s.app
        .save_notification_preferences(&c.principal, &c.ctx, id, &body.value)
        .await
        .map(Json)
        .map_err(|e| ApiError::new(e, rid))
}

/// The organisation's notification endpoints.
#[derive(Serialize, ToSchema)]
pub struct EndpointList {
    pub items: Vec<EndpointView>,
}

/// Webhooks, group robots (WeCom, DingTalk, Feishu) and the SMS provider (administrators).
/// Secrets are never shown, only `secret_set`; URL query values are masked.
#[utoipa::path(get, path = "/api/v1/notification-endpoints", tag = "notifications",
    responses((status = 200, body = EndpointList), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn list_notification_endpoints(State(s): State<AppState>, c: Caller) -> ApiResult<Json<EndpointList>> {
    let rid = &c.ctx.request_id;
    let items = s.app.notification_endpoints(&c.principal).await.map_err(|e| ApiError::new(e, rid))?;
    Ok(Json(EndpointList { items }))
}

/// Add an endpoint (administrators). The URL must be http(s) and resolve to public addresses
/// only, unless the installation's outbound allow-list admits it: otherwise 422 `target_refused`.
/// A webhook created without a secret gets one generated, shown once as `generated_secret`.
#[utoipa::path(post, path = "/api/v1/notification-endpoints", tag = "notifications", request_body = EndpointInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = EndpointView), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_notification_endpoint(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: JsonBody<EndpointInput>,
) -> ApiResult<Response> {
    let created = s.app.create_notification_endpoint(&c.principal, &c.ctx, &body.value);
    let without_secret = |answer: &str| {
        let mut v: serde_json::Value =
            serde_json::from_str(answer).map_err(|e| AppError::Internal(format!("endpoint answer: {e}")))?;
        if let Some(fields) = v.as_object_mut() {
            fields.remove("generated_secret");
        }
        Ok(v.to_string())
    };
    create_once_keeping(&s, &c, &headers, "notification-endpoints", &body.raw, created, without_secret).await
}

/// One endpoint (administrators).
#[utoipa::path(get, path = "/api/v1/notification-endpoints/{id}", tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = EndpointView), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_notification_endpoint(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<EndpointView>> {
    let rid = &c.ctx.request_id;
    let id: EndpointId = parse_id(&id, "endpoint", rid)?;
    s.app.notification_endpoint(&c.principal, id).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Change an endpoint (administrators); omitted fields are kept, `"secret": ""` removes the
/// secret. A new URL is checked like at creation.
#[utoipa::path(put, path = "/api/v1/notification-endpoints/{id}", tag = "notifications", params(("id" = String, Path)),
    request_body = EndpointInput,
    responses((status = 200, body = EndpointView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn update_notification_endpoint(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: JsonBody<EndpointInput>,
) -> ApiResult<Json<EndpointView>> {
    let rid = &c.ctx.request_id;
    let id: EndpointId = parse_id(&id, "endpoint", rid)?;
    s.app
        .update_notification_endpoint(&c.principal, &c.ctx, id, &body.value)
        .await
        .map(Json)
        .map_err(|e| ApiError::new(e, rid))
}

/// Delete an endpoint (administrators).
#[utoipa::path(delete, path = "/api/v1/notification-endpoints/{id}", tag = "notifications",
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn delete_notification_endpoint(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let rid = &c.ctx.request_id;
    let id: EndpointId = parse_id(&id, "endpoint", rid)?;
    s.app
        .delete_notification_endpoint(&c.principal, &c.ctx, id)
        .await
        .map(|_| StatusCode::NO_CONTENT)
        .map_err(|e| ApiError::new(e, rid))
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // Every operation may act in another organisation the caller is assigned to.
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, Required, Type};
        let tenant = ParameterBuilder::new()
            .name("X-Tenant")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Act in this organisation (its slug) instead of one's own: operator administrators \
                 anywhere, other users where they are assigned (403 otherwise)",
            ))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build();
        for item in openapi.paths.paths.values_mut() {
            item.parameters.get_or_insert_with(Vec::new).push(tenant.clone().into());
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "mailroom API", description = "Inbound mail, directory and custody for on-site mailrooms. Errors are RFC 9457 problem+json with a stable `code`."),
    paths(me, list_tenants, create_tenant, list_assignments, create_assignment, delete_assignment,
        list_users, create_user, set_clearance, unlock_user, list_lockouts, list_tokens, create_token, revoke_token,
        password_token, audit_log, list_delegations, create_delegation, revoke_delegation, delegated_items,
        create_item, list_items, my_items, get_item, transition_item, item_events, item_handover, item_signature, item_receipt,
        custody_public_key, custody_verify, report_summary, report_summary_csv,
        list_people, create_person, get_person, update_person, import_people, find_recipients,
        list_departments, create_department, get_department, update_department, delete_department, import_departments,
        list_sites, create_site, list_locations, create_location, suggest_location, get_retention, put_retention, detect_carrier,
        get_rules, put_rules, rule_versions, evaluate_rules, item_explanation,
        scan_label, add_item_photo, item_photos, item_photo, check_address, check_customs,
        update_item, list_exceptions, get_exception, resolve_exception,
        crate::api_notify::item_notifications, crate::api_notify::list_tasks, crate::api_notify::complete_task, list_jobs, get_job, retry_job,
        list_notification_templates, get_notification_template, put_notification_template, reset_notification_template,
        preview_notification_template, get_my_notification_preferences, put_my_notification_preferences,
        get_notification_preferences, put_notification_preferences, list_notification_endpoints,
        create_notification_endpoint, get_notification_endpoint, update_notification_endpoint,
        delete_notification_endpoint,
        crate::api_sla::get_service_levels, crate::api_sla::get_unclaimed_policies, crate::api_sla::put_unclaimed_policies,
        crate::api_sla::get_site_calendar, crate::api_sla::put_site_calendar, crate::api_sla::approve_disposal,
        crate::api_sla::reject_disposal,
        crate::api_postage::list_cost_centres, crate::api_postage::create_cost_centre,
        crate::api_postage::update_cost_centre, crate::api_postage::delete_cost_centre, crate::api_postage::list_accounts,
        crate::api_postage::create_account, crate::api_postage::update_account, crate::api_postage::delete_account,
        crate::api_postage::top_up, crate::api_postage::adjust, crate::api_postage::ledger,
        crate::api_postage::get_rates, crate::api_postage::put_rates, crate::api_postage::import_rates,
        crate::api_postage::quote, crate::api_postage::charge, crate::api_postage::chargeback,
        crate::api_postage::chargeback_csv, crate::api_postage::chargeback_pdf, crate::api_pdf::pdf_label, crate::api_pdf::pdf_customs,
        crate::api_outbound::list, crate::api_outbound::create, crate::api_outbound::mailing, crate::api_outbound::get,
        crate::api_outbound::approve, crate::api_outbound::reject, crate::api_outbound::accept,
        crate::api_outbound::cancel, crate::api_outbound::tracking, crate::api_outbound::receipt,
        crate::api_outbound::return_item, crate::api_outbound::send_electronic, crate::api_outbound::list_batches,
        crate::api_outbound::create_batch, crate::api_outbound::get_batch, crate::api_outbound::scan,
        crate::api_outbound::hand_over, crate::api_outbound::manifest_pdf, crate::api_outbound::label_pdf, crate::api_outbound::customs_pdf),
    components(schemas(Problem, mailroom_app::RowError, mailroom_app::retention::PolicyInput)),
    modifiers(&BearerAuth),
    tags((name = "items", description = "Inbound items and their lifecycle"), (name = "directory", description = "Sites, locations, departments, people"), (name = "auth", description = "The caller, users, API tokens and login lockouts"), (name = "tenancy", description = "Organisations and the staff assigned to them"), (name = "custody", description = "Verifiable custody: receipts, verification and the signing key"), (name = "reports", description = "Item counts and exports"), (name = "delegation", description = "Letting a colleague collect your mail"), (name = "retention", description = "Retention policies and crypto-shredding of attachments"), (name = "carriers", description = "Carrier recognition from tracking numbers and scanned barcodes"), (name = "audit", description = "The audit log of administrative actions"), (name = "rules", description = "Classification and routing rules: versions, validation, dry runs"), (name = "exceptions", description = "Two-stage intake: items waiting for someone to decide who they are for"), (name = "notifications", description = "Notices: templates, preferences and endpoints; the notices sent and the staff tasks they leave behind"), (name = "jobs", description = "The background job queue and its dead-letter list"), (name = "service_levels", description = "Due-by times on site calendars, breaches, unclaimed-item policies and disposal approvals"), (name = "outbound", description = "Outbound mail: requests, CSV mailings, approval, acceptance with customs and postage, dispatch batches, scan-out, hand-over, tracking numbers and receipts; international addresses and customs declarations"), (name = "postage", description = "Postage accounts, cost centres and their budgets, rate tables, charges and the chargeback report"))
)]
pub struct ApiDoc;

/// The OpenAPI document as pretty JSON (what `/api/v1/openapi.json` serves and docs/openapi.json holds).
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}
