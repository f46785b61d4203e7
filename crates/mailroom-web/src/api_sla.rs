//! The JSON API of service levels and unclaimed items: the supervisor dashboard, unclaimed-item
//! policies, site calendars and decisions on disposal (or return) requests.

use crate::AppState;
use crate::context::Caller;
use crate::extract::JsonBody;
use crate::problem::{ApiError, Problem};
use crate::{Route, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::Method;
use mailroom_app::AppError;
use mailroom_app::followup::{DisposalDecisionInput, ServiceLevels, SiteCalendarView, UnclaimedPolicies};
use mailroom_app::store::Item;
use mailroom_domain::calendar::CalendarConfig;
use mailroom_domain::ids::{ItemId, SiteId};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn table() -> Vec<Route> {
    use Method as M;
    vec![
        route(M::GET, "/api/v1/service-levels", get_service_levels),
        route(M::GET, "/api/v1/unclaimed-policies", get_unclaimed_policies),
        route(M::PUT, "/api/v1/unclaimed-policies", put_unclaimed_policies),
        route(M::GET, "/api/v1/sites/{id}/calendar", get_site_calendar),
        route(M::PUT, "/api/v1/sites/{id}/calendar", put_site_calendar),
        route(M::POST, "/api/v1/items/{id}/disposal/approve", approve_disposal),
        route(M::POST, "/api/v1/items/{id}/disposal/reject", reject_disposal),
    ]
}

/// The supervisor dashboard (supervisors and administrators): items past their due-by, items due
/// within the next 2 working hours (on their site's calendar), items waiting for their recipient
/// (oldest first) and final-step requests awaiting a decision. Callers limited to one site see
/// that site's items.
#[utoipa::path(get, path = "/api/v1/service-levels", tag = "service_levels",
    responses((status = 200, body = ServiceLevels), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn get_service_levels(State(s): State<AppState>, c: Caller) -> ApiResult<Json<ServiceLevels>> {
    let rid = &c.ctx.request_id;
    let now = s.app.clock.now();
    s.app.service_levels(&c.principal, now).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// The unclaimed-item policies per category (supervisors and administrators). Categories without
/// a policy are not followed up.
#[utoipa::path(get, path = "/api/v1/unclaimed-policies", tag = "service_levels",
    responses((status = 200, body = UnclaimedPolicies), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn get_unclaimed_policies(State(s): State<AppState>, c: Caller) -> ApiResult<Json<UnclaimedPolicies>> {
    let rid = &c.ctx.request_id;
    s.app.unclaimed_policies(&c.principal).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Replace the unclaimed-item policies (administrators): per category, the first reminder after
/// `remind_after_days` (then every `remind_every_days`, 0 for one only), escalation after
/// `escalate_after_days`, and after `final_after_days` a request to `return_to_sender` or
/// `dispose` that a supervisor approves or rejects. Recorded in the audit log.
#[utoipa::path(put, path = "/api/v1/unclaimed-policies", tag = "service_levels", request_body = UnclaimedPolicies,
    responses((status = 200, body = UnclaimedPolicies), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn put_unclaimed_policies(
    State(s): State<AppState>,
    c: Caller,
    body: JsonBody<UnclaimedPolicies>,
) -> ApiResult<Json<UnclaimedPolicies>> {
    let rid = &c.ctx.request_id;
    s.app.set_unclaimed_policies(&c.principal, &c.ctx, body.value).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

fn site_id(raw: &str, rid: &str) -> ApiResult<SiteId> {
    raw.parse().map_err(|_| ApiError::new(AppError::not_found("site"), rid))
}

fn item_id(raw: &str, rid: &str) -> ApiResult<ItemId> {
    raw.parse().map_err(|_| ApiError::new(AppError::not_found("item"), rid))
}

/// A site's working-hours calendar (supervisors and administrators); `default` is true when the
/// site has none of its own (Monday to Friday 09:00–18:00, mainland China's holidays).
#[utoipa::path(get, path = "/api/v1/sites/{id}/calendar", tag = "service_levels", params(("id" = String, Path)),
    responses((status = 200, body = SiteCalendarView), (status = 404, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get_site_calendar(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SiteCalendarView>> {
    let rid = &c.ctx.request_id;
    mailroom_domain::auth::require(c.principal.role, mailroom_domain::auth::Permission::SuperviseServiceLevels)
        .map_err(|e| ApiError::new(AppError::from(e), rid))?;
    let id = site_id(&id, rid)?;
    s.app.site_calendar(&c.principal, id).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Set a site's working-hours calendar (administrators): hours per weekday, a break, the public
/// holidays observed (`china_mainland` or `none`), extra holidays and working days, or
/// `always_open` for sites working around the clock. Due-by times of items registered from then
/// on are computed on it. Recorded in the audit log.
#[utoipa::path(put, path = "/api/v1/sites/{id}/calendar", tag = "service_levels", params(("id" = String, Path)),
    request_body = CalendarConfig,
    responses((status = 200, body = SiteCalendarView), (status = 404, body = Problem), (status = 422, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn put_site_calendar(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: JsonBody<CalendarConfig>,
) -> ApiResult<Json<SiteCalendarView>> {
    let rid = &c.ctx.request_id;
    mailroom_domain::auth::require(c.principal.role, mailroom_domain::auth::Permission::ManageServiceLevels)
        .map_err(|e| ApiError::new(AppError::from(e), rid))?;
    let id = site_id(&id, rid)?;
    s.app.set_site_calendar(&c.principal, &c.ctx, id, body.value).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Approve an item's pending disposal (or return) request (supervisors and administrators): the
/// item is disposed of (status `disposed`) or returned to sender. Custody events
/// `disposal_approved` and `dispose` / `return_to_sender`. 409 `conflict` when no request awaits
/// a decision.
#[utoipa::path(post, path = "/api/v1/items/{id}/disposal/approve", tag = "service_levels",
    params(("id" = String, Path)), request_body = DisposalDecisionInput,
    responses((status = 200, body = Item), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn approve_disposal(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Item>> {
    decide(s, c, id, true, body).await
}

/// Reject an item's pending disposal (or return) request (supervisors and administrators): the
/// item goes on waiting for its recipient. Custody event `disposal_rejected`.
#[utoipa::path(post, path = "/api/v1/items/{id}/disposal/reject", tag = "service_levels",
    params(("id" = String, Path)), request_body = DisposalDecisionInput,
    responses((status = 200, body = Item), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn reject_disposal(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Item>> {
    decide(s, c, id, false, body).await
}

async fn decide(s: AppState, c: Caller, id: String, approve: bool, body: axum::body::Bytes) -> ApiResult<Json<Item>> {
    let rid = &c.ctx.request_id;
    mailroom_domain::auth::require(c.principal.role, mailroom_domain::auth::Permission::SuperviseServiceLevels)
        .map_err(|e| ApiError::new(AppError::from(e), rid))?;
    let id = item_id(&id, rid)?;
    // The body is optional: `{"note": "…"}` or nothing.
    let input: DisposalDecisionInput = if body.iter().all(u8::is_ascii_whitespace) {
        DisposalDecisionInput::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                AppError::from(mailroom_domain::DomainError::invalid("body", format!("the body does not match: {e}"))),
                rid,
            )
        })?
    };
    s.app.decide_disposal(&c.principal, &c.ctx, id, approve, &input).await.map(Json).map_err(|e| ApiError::new(e, rid))
}
