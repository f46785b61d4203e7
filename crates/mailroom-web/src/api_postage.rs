//! The JSON API of postage accounts and cost control: cost centres with monthly limits, postage
//! accounts and their ledger, the rate table (JSON or CSV), quotes, charges and the monthly
//! chargeback report (JSON, CSV and PDF). The permission is checked before the body is read, so a role without it
//! learns nothing from its answers.

use crate::AppState;
use crate::context::Caller;
use crate::extract::{CsvBody, Q};
use crate::problem::{ApiError, Problem};
use crate::{Route, route};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mailroom_app::AppError;
use mailroom_app::postage::{
    AccountInput, AdjustmentInput, ChargeInput, ChargeResult, Chargeback, CostCentreInput, CostCentreView, Quote,
    QuoteInput, Rates, TopUpInput,
};
use mailroom_app::store::{CostCentre, LedgerEntry, PostageAccount};
use mailroom_domain::auth::Permission;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        route(M::GET, "/api/v1/postage/cost-centres", list_cost_centres),
        route(M::POST, "/api/v1/postage/cost-centres", create_cost_centre),
        route(M::PUT, "/api/v1/postage/cost-centres/{id}", update_cost_centre),
        route(M::DELETE, "/api/v1/postage/cost-centres/{id}", delete_cost_centre),
        route(M::GET, "/api/v1/postage/accounts", list_accounts),
        route(M::POST, "/api/v1/postage/accounts", create_account),
        route(M::PUT, "/api/v1/postage/accounts/{id}", update_account),
        route(M::DELETE, "/api/v1/postage/accounts/{id}", delete_account),
        route(M::POST, "/api/v1/postage/accounts/{id}/top-ups", top_up),
        route(M::POST, "/api/v1/postage/accounts/{id}/adjustments", adjust),
        route(M::GET, "/api/v1/postage/ledger", ledger),
        route(M::GET, "/api/v1/postage/rates", get_rates),
        route(M::PUT, "/api/v1/postage/rates", put_rates),
        route(M::POST, "/api/v1/postage/rates/import", import_rates),
        route(M::POST, "/api/v1/postage/quote", quote),
        route(M::POST, "/api/v1/postage/charges", charge),
        route(M::GET, "/api/v1/reports/chargeback", chargeback),
        route(M::GET, "/api/v1/reports/chargeback.csv", chargeback_csv),
        route(M::GET, "/api/v1/reports/chargeback.pdf", chargeback_pdf),
    ]
}

use crate::extract::{json_from as body, require_permission as allowed};

fn id(raw: &str, what: &str, rid: &str) -> ApiResult<Uuid> {
    raw.parse().map_err(|_| ApiError::new(AppError::not_found(what), rid))
}

#[derive(Serialize, ToSchema)]
pub struct CostCentreList {
    pub items: Vec<CostCentreView>,
}

#[derive(Serialize, ToSchema)]
pub struct AccountList {
    pub items: Vec<PostageAccount>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerList {
    pub items: Vec<LedgerEntry>,
}

/// Cost centres with their spend this month (China Standard Time) and where it stands against
/// their limits.
#[utoipa::path(get, path = "/api/v1/postage/cost-centres", tag = "postage",
    responses((status = 200, body = CostCentreList), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn list_cost_centres(State(s): State<AppState>, c: Caller) -> ApiResult<Json<CostCentreList>> {
    let rid = &c.ctx.request_id;
    s.app
        .cost_centres(&c.principal)
        .await
        .map(|items| Json(CostCentreList { items }))
        .map_err(|e| ApiError::new(e, rid))
}

/// Create a cost centre (administrators): a code, a name, the department it bills and optional
/// monthly soft (warn) and hard (block) limits in fen. Recorded in the audit log.
#[utoipa::path(post, path = "/api/v1/postage/cost-centres", tag = "postage", request_body = CostCentreInput,
    responses((status = 201, body = CostCentre), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn create_cost_centre(State(s): State<AppState>, c: Caller, raw: Bytes) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ManagePostage)?;
    let input: CostCentreInput = body(&raw, rid)?;
    let cc = s.app.create_cost_centre(&c.principal, &c.ctx, &input).await.map_err(|e| ApiError::new(e, rid))?;
    Ok((StatusCode::CREATED, Json(cc)).into_response())
}

/// Change a cost centre (administrators): all fields, as when creating. Recorded in the audit log.
#[utoipa::path(put, path = "/api/v1/postage/cost-centres/{id}", tag = "postage", params(("id" = String, Path)),
    request_body = CostCentreInput,
    responses((status = 200, body = CostCentre), (status = 404, body = Problem), (status = 422, body = Problem),
        (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn update_cost_centre(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
    raw: Bytes,
) -> ApiResult<Json<CostCentre>> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ManagePostage)?;
    let id = id(&raw_id, "cost centre", rid)?;
    let input: CostCentreInput = body(&raw, rid)?;
    s.app.update_cost_centre(&c.principal, &c.ctx, id, &input).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Delete a cost centre (administrators) that no ledger entry names; one that does is kept for
/// the record (409 `conflict`). Recorded in the audit log.
#[utoipa::path(delete, path = "/api/v1/postage/cost-centres/{id}", tag = "postage", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn delete_cost_centre(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<StatusCode> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ManagePostage)?;
    let id = id(&raw_id, "cost centre", rid)?;
    s.app.delete_cost_centre(&c.principal, &c.ctx, id).await.map_err(|e| ApiError::new(e, rid))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rename an account or move it to another site (administrators); its balance changes only
/// through the ledger. Recorded in the audit log.
#[utoipa::path(put, path = "/api/v1/postage/accounts/{id}", tag = "postage", params(("id" = String, Path)),
    request_body = AccountInput,
    responses((status = 200, body = PostageAccount), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn update_account(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
    raw: Bytes,
) -> ApiResult<Json<PostageAccount>> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ManagePostage)?;
    let id = id(&raw_id, "postage account", rid)?;
    let input: AccountInput = body(&raw, rid)?;
    s.app.update_postage_account(&c.principal, &c.ctx, id, &input).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Delete an account with no ledger entries (administrators); one with entries is kept for the
/// record (409 `conflict`). Recorded in the audit log.
#[utoipa::path(delete, path = "/api/v1/postage/accounts/{id}", tag = "postage", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn delete_account(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
) -> ApiResult<StatusCode> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ManagePostage)?;
    let id = id(&raw_id, "postage account", rid)?;
    s.app.delete_postage_account(&c.principal, &c.ctx, id).await.map_err(|e| ApiError::new(e, rid))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organisation's postage accounts and their balances (fen).
#[utoipa::path(get, path = "/api/v1/postage/accounts", tag = "postage",
    responses((status = 200, body = AccountList), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn list_accounts(State(s): State<AppState>, c: Caller) -> ApiResult<Json<AccountList>> {
    let rid = &c.ctx.request_id;
    s.app
        .postage_accounts(&c.principal)
        .await
        .map(|items| Json(AccountList { items }))
        .map_err(|e| ApiError::new(e, rid))
}

/// Create a postage account (administrators) for the organisation or one site; its balance
/// starts at zero. Recorded in the audit log.
#[utoipa::path(post, path = "/api/v1/postage/accounts", tag = "postage", request_body = AccountInput,
    responses((status = 201, body = PostageAccount), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn create_account(State(s): State<AppState>, c: Caller, raw: Bytes) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ManagePostage)?;
    let input: AccountInput = body(&raw, rid)?;
    let a = s.app.create_postage_account(&c.principal, &c.ctx, &input).await.map_err(|e| ApiError::new(e, rid))?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

/// Top up an account (administrators): a ledger entry `top_up` and the new balance, with an
/// audit event, in one transaction.
#[utoipa::path(post, path = "/api/v1/postage/accounts/{id}/top-ups", tag = "postage", params(("id" = String, Path)),
    request_body = TopUpInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = ChargeResult), (status = 404, body = Problem), (status = 422, body = Problem),
        (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn top_up(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Path(raw_id): Path<String>,
    raw: Bytes,
) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ManagePostage)?;
    let id = id(&raw_id, "postage account", rid)?;
    let input: TopUpInput = body(&raw, rid)?;
    let route = format!("postage/accounts/{id}/top-ups");
    crate::api::create_once(&s, &c, &headers, &route, &raw, s.app.top_up(&c.principal, &c.ctx, id, &input)).await
}

/// Correct an account (administrators): a `refund` credits the account and the cost centre's
/// month, an `adjustment` changes the balance only. Never below zero (409
/// `insufficient_balance`). Recorded in the audit log.
#[utoipa::path(post, path = "/api/v1/postage/accounts/{id}/adjustments", tag = "postage",
    params(("id" = String, Path)), request_body = AdjustmentInput,
    responses((status = 201, body = ChargeResult), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn adjust(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
    raw: Bytes,
) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ManagePostage)?;
    let id = id(&raw_id, "postage account", rid)?;
    let input: AdjustmentInput = body(&raw, rid)?;
    let r = s.app.adjust(&c.principal, &c.ctx, id, &input).await.map_err(|e| ApiError::new(e, rid))?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[derive(Deserialize, IntoParams)]
pub struct LedgerQuery {
    /// Only this account's entries.
    pub account_id: Option<String>,
}

/// The ledger, newest first (at most 500 entries): every top-up, charge, refund and adjustment
/// with the balance it left.
#[utoipa::path(get, path = "/api/v1/postage/ledger", tag = "postage", params(LedgerQuery),
    responses((status = 200, body = LedgerList), (status = 404, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn ledger(State(s): State<AppState>, c: Caller, Q(q): Q<LedgerQuery>) -> ApiResult<Json<LedgerList>> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ReadPostage)?;
    let account = match q.account_id.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => Some(id(a, "postage account", rid)?),
        None => None,
    };
    s.app
        .postage_ledger(&c.principal, account)
        .await
        .map(|items| Json(LedgerList { items }))
        .map_err(|e| ApiError::new(e, rid))
}

/// The rate table: per carrier, method, zone and weight band, the price (fen) of the band's
/// first 500 g and of every further started 500 g.
#[utoipa::path(get, path = "/api/v1/postage/rates", tag = "postage",
    responses((status = 200, body = Rates), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn get_rates(State(s): State<AppState>, c: Caller) -> ApiResult<Json<Rates>> {
    let rid = &c.ctx.request_id;
    s.app.postage_rates(&c.principal).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Replace the rate table (administrators), checked as a whole. Recorded in the audit log.
#[utoipa::path(put, path = "/api/v1/postage/rates", tag = "postage", request_body = Rates,
    responses((status = 200, body = Rates), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn put_rates(State(s): State<AppState>, c: Caller, raw: Bytes) -> ApiResult<Json<Rates>> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ManagePostage)?;
    let input: Rates = body(&raw, rid)?;
    s.app.set_postage_rates(&c.principal, &c.ctx, input).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Replace the rate table from CSV (administrators): header
/// `carrier,method,zone,max_weight_g,price,step_price`, prices in yuan (`12.50`). Every line
/// good or nothing changes; the problem lists each bad line. Recorded in the audit log.
#[utoipa::path(post, path = "/api/v1/postage/rates/import", tag = "postage",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Rates), (status = 422, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn import_rates(
    State(s): State<AppState>,
    c: Caller,
    CsvBody(data): CsvBody,
) -> ApiResult<Json<Rates>> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ManagePostage)?;
    s.app.import_postage_rates(&c.principal, &c.ctx, &data).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Price a send from the rate table; the zone is given or derived from the destination country.
#[utoipa::path(post, path = "/api/v1/postage/quote", tag = "postage", request_body = QuoteInput,
    responses((status = 200, body = Quote), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn quote(State(s): State<AppState>, c: Caller, raw: Bytes) -> ApiResult<Json<Quote>> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ReadPostage)?;
    let input: QuoteInput = body(&raw, rid)?;
    s.app.quote(&c.principal, &input).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Charge a send: priced from the rate table, paid from the account, billed to the cost centre.
/// One transaction writes the ledger entry and the new balance after checking the cost centre's
/// monthly limits: `verdict` is `ok`, or `warn` past the soft limit (charged). Past the hard
/// limit: 409 `budget_exceeded`; not enough on the account: 409 `insufficient_balance`; in
/// both cases nothing is written. A retry with the same `Idempotency-Key` and body gets the
/// first answer again instead of a second charge.
#[utoipa::path(post, path = "/api/v1/postage/charges", tag = "postage", request_body = ChargeInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = ChargeResult), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn charge(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    raw: Bytes,
) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ChargePostage)?;
    let input: ChargeInput = body(&raw, rid)?;
    crate::api::create_once(&s, &c, &headers, "postage/charges", &raw, s.app.charge(&c.principal, &input)).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// `YYYY-MM` (China Standard Time); this month when not given.
    pub month: Option<String>,
}

fn month(s: &AppState, q: &MonthQuery) -> String {
    q.month.clone().unwrap_or_else(|| {
        s.app
            .clock
            .now()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap_or(chrono::Offset::fix(&chrono::Utc)))
            .format("%Y-%m")
            .to_string()
    })
}

/// The month's postage per department: charges less refunds of each cost centre, grouped by
/// the department it bills (finance, supervisors, administrators, auditors).
#[utoipa::path(get, path = "/api/v1/reports/chargeback", tag = "postage", params(MonthQuery),
    responses((status = 200, body = Chargeback), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn chargeback(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<MonthQuery>,
) -> ApiResult<Json<Chargeback>> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ReadChargeback)?;
    s.app.chargeback(&c.principal, &month(&s, &q)).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// The same report as CSV: `month,department_code,department_name,cost_centres,charges,amount_cny`,
/// one line per department and a `TOTAL` line; amounts in yuan.
#[utoipa::path(get, path = "/api/v1/reports/chargeback.csv", tag = "postage", params(MonthQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 422, body = Problem),
        (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn chargeback_csv(State(s): State<AppState>, c: Caller, Q(q): Q<MonthQuery>) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ReadChargeback)?;
    let m = month(&s, &q);
    let csv = s.app.chargeback_csv(&c.principal, &m).await.map_err(|e| ApiError::new(e, rid))?;
    let mut resp = csv.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    // `m` was checked as YYYY-MM by the report.
    let disposition = format!("attachment; filename=\"chargeback-{m}.csv\"");
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChargebackPdfQuery {
    /// `YYYY-MM` (China Standard Time); this month when not given.
    pub month: Option<String>,
    /// `zh-CN` (the default) or `en`: the language of the headings.
    pub lang: Option<String>,
}

/// The same report as a printable PDF (A4): per department its cost centres with the number of
/// charges and the amount, a subtotal per department and the grand total, amounts in yuan;
/// headings in `lang`, names as they are. 503 `pdf_font_missing` when the server has no CJK
/// font installed.
#[utoipa::path(get, path = "/api/v1/reports/chargeback.pdf", tag = "postage", params(ChargebackPdfQuery),
    responses((status = 200, content_type = "application/pdf", description = "The chargeback report"),
        (status = 422, body = Problem), (status = 403, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn chargeback_pdf(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<ChargebackPdfQuery>,
) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ReadChargeback)?;
    let lang = q.lang.clone().unwrap_or_else(|| "zh-CN".to_string());
    let m = month(&s, &MonthQuery { month: q.month.clone() });
    let r = s.app.chargeback(&c.principal, &m).await.map_err(|e| ApiError::new(e, rid))?;
    let org = s.app.current_tenant(&c.principal).await.map_err(|e| ApiError::new(e, rid))?;
    let cst = chrono::FixedOffset::east_opt(8 * 3600).unwrap_or(chrono::Offset::fix(&chrono::Utc));
    let input = mailroom_pdf::ChargebackInput {
        lang,
        organisation: org.name,
        month: r.month.clone(),
        printed_at: s.app.clock.now().with_timezone(&cst).format("%Y-%m-%d %H:%M").to_string(),
        departments: r
            .departments
            .into_iter()
            .map(|d| mailroom_pdf::ChargebackDepartment {
                code: d.department_code,
                name: d.department_name,
                charges: d.charges,
                amount: d.amount,
                cost_centres: d
                    .cost_centres
                    .into_iter()
                    .map(|l| mailroom_pdf::ChargebackLine {
                        code: l.code,
                        name: l.name,
                        charges: l.charges,
                        amount: l.amount,
                    })
                    .collect(),
            })
            .collect(),
        total: r.total,
    };
    let pdf = crate::api_pdf::render(&s, rid, move |f| mailroom_pdf::chargeback_report(&input, f)).await?;
    // `r.month` was checked as YYYY-MM by the report.
    Ok(crate::api_pdf::pdf_response(pdf, &format!("chargeback-{}.pdf", r.month)))
}
