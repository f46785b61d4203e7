//! The JSON API of outbound mail: requests (one, or a CSV mailing), approval, acceptance at the
//! counter, cancellation, carrier tracking numbers and receipts, dispatch batches with scan-out
//! and hand-over, and the documents an outbound item needs (label, customs form, manifest).
//! Permissions are checked before a body is read.

use crate::AppState;
use crate::api_pdf::{file_name, pdf_response, render};
use crate::context::Caller;
use crate::extract::{CsvBody, Q};
use crate::problem::{ApiError, Problem};
use crate::{Route, route};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use mailroom_app::AppError;
use mailroom_app::sending::{
    AcceptInput, BatchInput, BatchView, DecisionInput, HandOverInput, HandOverResult, MailingParams, MailingResult,
    OutboundQuery, OutboundRequest, OutboundView, ReceiptInput, ScanInput, TrackingInput,
};
use mailroom_app::store::{DispatchBatch, OutboundRecord};
use mailroom_domain::address::{AddressFields, CheckRequest};
use mailroom_domain::auth::{Permission, allowed as may};
use mailroom_domain::customs::Declaration;
use mailroom_domain::ids::ItemId;
use mailroom_domain::postage::Money;
use mailroom_domain::{DomainError, ErrorCode};
use mailroom_pdf::{CustomsInput, FormChoice, LabelInput, ManifestInput, ManifestLine, NonDelivery};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        route(M::GET, "/api/v1/outbound", list),
        route(M::POST, "/api/v1/outbound", create),
        route(M::POST, "/api/v1/outbound/mailings", mailing),
        route(M::GET, "/api/v1/outbound/batches", list_batches),
        route(M::POST, "/api/v1/outbound/batches", create_batch),
        route(M::GET, "/api/v1/outbound/batches/{id}", get_batch),
        route(M::POST, "/api/v1/outbound/batches/{id}/scan", scan),
        route(M::POST, "/api/v1/outbound/batches/{id}/hand-over", hand_over),
        route(M::GET, "/api/v1/outbound/batches/{id}/manifest.pdf", manifest_pdf),
        route(M::GET, "/api/v1/outbound/{id}", get),
        route(M::POST, "/api/v1/outbound/{id}/approve", approve),
        route(M::POST, "/api/v1/outbound/{id}/reject", reject),
        route(M::POST, "/api/v1/outbound/{id}/accept", accept),
        route(M::POST, "/api/v1/outbound/{id}/cancel", cancel),
        route(M::POST, "/api/v1/outbound/{id}/tracking", tracking),
        route(M::POST, "/api/v1/outbound/{id}/receipt", receipt),
        route(M::POST, "/api/v1/outbound/{id}/return", return_item),
        route(M::POST, "/api/v1/outbound/{id}/send-electronic", send_electronic),
        route(M::GET, "/api/v1/outbound/{id}/label.pdf", label_pdf),
        route(M::GET, "/api/v1/outbound/{id}/customs.pdf", customs_pdf),
    ]
}

use crate::extract::{json_from as body, require_permission as allowed};

/// Either permission will do.
fn allowed_any(c: &Caller, a: Permission, b: Permission) -> ApiResult<()> {
    if may(c.principal.role, a) || may(c.principal.role, b) { Ok(()) } else { allowed(c, a) }
}

/// The permission check, the item id and the body of a step on one outbound item.
fn step<T: DeserializeOwned>(c: &Caller, p: Permission, raw_id: &str, raw: &Bytes) -> ApiResult<(ItemId, T)> {
    allowed(c, p)?;
    let rid = &c.ctx.request_id;
    Ok((item_id(raw_id, rid)?, body(raw, rid)?))
}

/// The answer of a step.
fn answer<T>(c: &Caller, r: Result<T, AppError>) -> ApiResult<Json<T>> {
    r.map(Json).map_err(|e| ApiError::new(e, &c.ctx.request_id))
}

fn item_id(raw: &str, rid: &str) -> ApiResult<ItemId> {
    raw.parse::<Uuid>().map(ItemId).map_err(|_| ApiError::new(AppError::not_found("outbound item"), rid))
}

fn batch_id(raw: &str, rid: &str) -> ApiResult<Uuid> {
    raw.parse().map_err(|_| ApiError::new(AppError::not_found("batch"), rid))
}

#[derive(Serialize, ToSchema)]
pub struct OutboundList {
    pub items: Vec<OutboundRecord>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<ItemId>,
}

#[derive(Serialize, ToSchema)]
pub struct BatchList {
    pub items: Vec<DispatchBatch>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// zh-CN (default) or en: the language of the manifest's headings.
    pub lang: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchQuery {
    /// open or handed_over
    pub status: Option<String>,
}

/// Outbound items, newest first: every one for mailroom staff and readers of all outbound mail,
/// the caller's own requests for everyone else (and with `mine=true`).
#[utoipa::path(get, path = "/api/v1/outbound", tag = "outbound", params(OutboundQuery),
    responses((status = 200, body = OutboundList), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<OutboundQuery>,
) -> ApiResult<Json<OutboundList>> {
    let rid = &c.ctx.request_id;
    let limit = q.limit.unwrap_or(100).clamp(1, mailroom_app::sending::MAX_LIST);
    let items = s.app.list_outbound(&c.principal, &q).await.map_err(|e| ApiError::new(e, rid))?;
    let next_before = if items.len() as i64 == limit { items.last().map(|r| r.item.id) } else { None };
    Ok(Json(OutboundList { items, next_before }))
}

/// Ask for a send: the recipient's address (checked against the destination's rules), contents,
/// method, carrier, estimated weight, cost centre, an optional dispatch window and, for items
/// leaving mainland China, the customs declaration. The estimated postage comes from the rate
/// table; past the cost centre's approval limit the send waits for approval
/// (`awaiting_approval`); past its hard monthly limit it is refused (409 `budget_exceeded`).
#[utoipa::path(post, path = "/api/v1/outbound", tag = "outbound", request_body = OutboundRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = OutboundView), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn create(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    raw: Bytes,
) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::RequestOutbound)?;
    let input: OutboundRequest = body(&raw, rid)?;
    let sdr = s.sdr_rates.clone();
    crate::api::create_once(
        &s,
        &c,
        &headers,
        "outbound",
        &raw,
        s.app.request_outbound(&c.principal, &c.ctx, &input, &sdr),
    )
    .await
}

/// A mailing from a CSV file (`text/csv`), one send per row, all or nothing: a file with a bad
/// row is refused whole (422 with every bad line). Columns: `recipient`, `organisation`,
/// `street` (lines separated by `|`), `district`, `city`, `region`, `postal_code`, `country`,
/// `email`, `phone` — or `address` (free text) with `country`. What all rows share is given in
/// the query.
#[utoipa::path(post, path = "/api/v1/outbound/mailings", tag = "outbound",
    params(MailingParams, ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = MailingResult), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn mailing(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    CsvBody(data): CsvBody,
) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::RequestOutbound)?;
    let query = query.unwrap_or_default();
    let params: MailingParams = crate::extract::serde_urlencoded_from(&query)
        .map_err(|e| crate::problem::bad_input("query", format!("bad query parameters: {e}"), rid))?;
    // A retried upload with the same key is answered from the first; the same key with other
    // rows or parameters is refused.
    let mut hashed = query.into_bytes();
    hashed.push(b'\n');
    hashed.extend_from_slice(&data);
    let create = s.app.request_mailing(&c.principal, &c.ctx, &params, &data, &s.sdr_rates);
    crate::api::create_once(&s, &c, &headers, "outbound/mailings", &hashed, create).await
}

/// One outbound item with its send, the caller's next steps and the customs verdict. Its
/// custody timeline is at `GET /api/v1/items/{id}/events`, like every item's.
#[utoipa::path(get, path = "/api/v1/outbound/{id}", tag = "outbound", params(("id" = String, Path)),
    responses((status = 200, body = OutboundView), (status = 404, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(s): State<AppState>,
    c: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<OutboundView>> {
    let rid = &c.ctx.request_id;
    allowed_any(&c, Permission::RequestOutbound, Permission::ReadAllOutbound)?;
    let id = item_id(&raw, rid)?;
    s.app.outbound_item(&c.principal, id, &s.sdr_rates).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

async fn decide(s: AppState, c: Caller, raw_id: String, raw: Bytes, approve: bool) -> ApiResult<Json<OutboundView>> {
    let (id, input) = step::<DecisionInput>(&c, Permission::ApproveOutbound, &raw_id, &raw)?;
    answer(&c, s.app.decide_outbound(&c.principal, &c.ctx, id, approve, &input, &s.sdr_rates).await)
}

/// Approve a send waiting for approval (administrators, finance).
#[utoipa::path(post, path = "/api/v1/outbound/{id}/approve", tag = "outbound", params(("id" = String, Path)),
    request_body = DecisionInput,
    responses((status = 200, body = OutboundView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn approve(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
    raw: Bytes,
) -> ApiResult<Json<OutboundView>> {
    decide(s, c, raw_id, raw, true).await
}

/// Reject a send waiting for approval, saying why (`note`): it is cancelled.
#[utoipa::path(post, path = "/api/v1/outbound/{id}/reject", tag = "outbound", params(("id" = String, Path)),
    request_body = DecisionInput,
    responses((status = 200, body = OutboundView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn reject(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
    raw: Bytes,
) -> ApiResult<Json<OutboundView>> {
    decide(s, c, raw_id, raw, false).await
}

/// Accept a requested item at the counter: its weight, the declaration (checked: missing
/// certificates or prohibited goods refuse it, 422 `customs_incomplete`), and the postage
/// charged to its cost centre in the same transaction (409 `budget_exceeded` or
/// `insufficient_balance`: nothing written).
#[utoipa::path(post, path = "/api/v1/outbound/{id}/accept", tag = "outbound", params(("id" = String, Path)),
    request_body = AcceptInput,
    responses((status = 200, body = OutboundView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn accept(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
    raw: Bytes,
) -> ApiResult<Json<OutboundView>> {
    let (id, input) = step::<AcceptInput>(&c, Permission::HandleOutbound, &raw_id, &raw)?;
    answer(&c, s.app.accept_outbound(&c.principal, &c.ctx, id, &input, &s.sdr_rates).await)
}

/// Cancel a send before it leaves (the requester while it waits, staff until hand-over);
/// postage already charged is refunded.
#[utoipa::path(post, path = "/api/v1/outbound/{id}/cancel", tag = "outbound", params(("id" = String, Path)),
    request_body = DecisionInput,
    responses((status = 200, body = OutboundView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn cancel(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
    raw: Bytes,
) -> ApiResult<Json<OutboundView>> {
    // Everyone who may handle outbound items may also ask for them.
    let (id, input) = step::<DecisionInput>(&c, Permission::RequestOutbound, &raw_id, &raw)?;
    answer(&c, s.app.cancel_outbound(&c.principal, &c.ctx, id, &input, &s.sdr_rates).await)
}

/// Record the carrier's tracking number of an accepted or dispatched item; the item is then
/// found by it like any other (`GET /api/v1/items?tracking=…`).
#[utoipa::path(post, path = "/api/v1/outbound/{id}/tracking", tag = "outbound", params(("id" = String, Path)),
    request_body = TrackingInput,
    responses((status = 200, body = OutboundView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn tracking(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
    raw: Bytes,
) -> ApiResult<Json<OutboundView>> {
    let (id, input) = step::<TrackingInput>(&c, Permission::HandleOutbound, &raw_id, &raw)?;
    answer(&c, s.app.record_outbound_tracking(&c.principal, &c.ctx, id, &input, &s.sdr_rates).await)
}

/// Record the receipt of a dispatched item (registered mail's return receipt, a courier's proof
/// of delivery): who signed, its number, when. The item is delivered.
#[utoipa::path(post, path = "/api/v1/outbound/{id}/receipt", tag = "outbound", params(("id" = String, Path)),
    request_body = ReceiptInput,
    responses((status = 200, body = OutboundView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn receipt(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
    raw: Bytes,
) -> ApiResult<Json<OutboundView>> {
    let (id, input) = step::<ReceiptInput>(&c, Permission::HandleOutbound, &raw_id, &raw)?;
    answer(&c, s.app.record_outbound_receipt(&c.principal, &c.ctx, id, &input, &s.sdr_rates).await)
}

/// A dispatched item the carrier brought back (`note`: why).
#[utoipa::path(post, path = "/api/v1/outbound/{id}/return", tag = "outbound", params(("id" = String, Path)),
    request_body = DecisionInput,
    responses((status = 200, body = OutboundView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn return_item(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
    raw: Bytes,
) -> ApiResult<Json<OutboundView>> {
    let (id, input) = step::<DecisionInput>(&c, Permission::HandleOutbound, &raw_id, &raw)?;
    answer(&c, s.app.return_outbound(&c.principal, &c.ctx, id, &input, &s.sdr_rates).await)
}

/// Record that a document requested as encrypted electronic transfer was sent (no paper,
/// no batch); refused before its dispatch window.
#[utoipa::path(post, path = "/api/v1/outbound/{id}/send-electronic", tag = "outbound", params(("id" = String, Path)),
    request_body = DecisionInput,
    responses((status = 200, body = OutboundView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn send_electronic(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
    raw: Bytes,
) -> ApiResult<Json<OutboundView>> {
    let (id, input) = step::<DecisionInput>(&c, Permission::HandleOutbound, &raw_id, &raw)?;
    answer(&c, s.app.send_electronic(&c.principal, &c.ctx, id, &input, &s.sdr_rates).await)
}

/// Dispatch batches, latest collection first.
#[utoipa::path(get, path = "/api/v1/outbound/batches", tag = "outbound", params(BatchQuery),
    responses((status = 200, body = BatchList), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list_batches(
    State(s): State<AppState>,
    c: Caller,
    Q(q): Q<BatchQuery>,
) -> ApiResult<Json<BatchList>> {
    let rid = &c.ctx.request_id;
    s.app
        .dispatch_batches(&c.principal, q.status.as_deref())
        .await
        .map(|items| Json(BatchList { items }))
        .map_err(|e| ApiError::new(e, rid))
}

/// Prepare a carrier collection: the items named, or every accepted item of that carrier whose
/// dispatch window has started by the collection time and that is in no batch yet.
#[utoipa::path(post, path = "/api/v1/outbound/batches", tag = "outbound", request_body = BatchInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key for retries")),
    responses((status = 201, body = BatchView), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn create_batch(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    raw: Bytes,
) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::HandleOutbound)?;
    let input: BatchInput = body(&raw, rid)?;
    let create = s.app.create_dispatch_batch(&c.principal, &c.ctx, &input);
    crate::api::create_once(&s, &c, &headers, "outbound/batches", &raw, create).await
}

/// A batch with its items and how many are scanned out.
#[utoipa::path(get, path = "/api/v1/outbound/batches/{id}", tag = "outbound", params(("id" = String, Path)),
    responses((status = 200, body = BatchView), (status = 404, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get_batch(
    State(s): State<AppState>,
    c: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<BatchView>> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ReadAllOutbound)?;
    let id = batch_id(&raw, rid)?;
    s.app.dispatch_batch_view(&c.principal, id).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Scan an item out into an open batch, by its reference or the carrier's tracking number.
#[utoipa::path(post, path = "/api/v1/outbound/batches/{id}/scan", tag = "outbound", params(("id" = String, Path)),
    request_body = ScanInput,
    responses((status = 200, body = BatchView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn scan(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
    raw: Bytes,
) -> ApiResult<Json<BatchView>> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::HandleOutbound)?;
    let id = batch_id(&raw_id, rid)?;
    let input: ScanInput = body(&raw, rid)?;
    s.app.scan_out(&c.principal, &c.ctx, id, &input).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// Hand a batch to the carrier's courier: scanned items are dispatched, the rest stay accepted.
#[utoipa::path(post, path = "/api/v1/outbound/batches/{id}/hand-over", tag = "outbound",
    params(("id" = String, Path)), request_body = HandOverInput,
    responses((status = 200, body = HandOverResult), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 403, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn hand_over(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
    raw: Bytes,
) -> ApiResult<Json<HandOverResult>> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::HandleOutbound)?;
    let id = batch_id(&raw_id, rid)?;
    let input: HandOverInput = body(&raw, rid)?;
    s.app.hand_over_batch(&c.principal, &c.ctx, id, &input).await.map(Json).map_err(|e| ApiError::new(e, rid))
}

/// The batch's manifest as PDF: every item with its reference, tracking number, recipient,
/// destination, method, weight and postage, the totals, and the hand-over signature blocks
/// (headings in `lang`: zh-CN, the default, or en).
#[utoipa::path(get, path = "/api/v1/outbound/batches/{id}/manifest.pdf", tag = "outbound",
    params(("id" = String, Path), LangQuery),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn manifest_pdf(
    State(s): State<AppState>,
    c: Caller,
    Path(raw_id): Path<String>,
    Q(q): Q<LangQuery>,
) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    allowed(&c, Permission::ReadAllOutbound)?;
    let id = batch_id(&raw_id, rid)?;
    let input = manifest_input(&s, &c, id, q.lang.as_deref().unwrap_or("zh-CN")).await?;
    let name = file_name("manifest", Some(&input.batch_reference));
    let bytes = render(&s, rid, move |f| mailroom_pdf::manifest(&input, f)).await?;
    Ok(pdf_response(bytes, &name))
}

async fn manifest_input(s: &AppState, c: &Caller, id: Uuid, lang: &str) -> ApiResult<ManifestInput> {
    let rid = &c.ctx.request_id;
    let err = |e: AppError| ApiError::new(e, rid);
    let v = s.app.dispatch_batch_view(&c.principal, id).await.map_err(err)?;
    let t = c.principal.tenant_id;
    let tenant = s.app.store.tenant(t).await.map_err(|e| err(e.into()))?;
    let sites = s.app.store.list_sites(t).await.map_err(|e| err(e.into()))?;
    let site = sites.iter().find(|x| Some(x.id.0) == v.batch.site_id);
    let offset = site.and_then(|x| mailroom_domain::calendar::fixed_offset_minutes(&x.timezone)).unwrap_or(480);
    let tz = chrono::FixedOffset::east_opt(offset * 60).unwrap_or_else(|| chrono::Offset::fix(&chrono::Utc));
    let local = |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    let zh = lang == "zh-CN";
    let carrier = match mailroom_domain::carrier::carrier_names(&v.batch.carrier) {
        Some((en, cn)) => {
            if zh {
                cn
            } else {
                en
            }
        }
        None => v.batch.carrier.clone(),
    };
    let lines = v
        .items
        .iter()
        .map(|r| {
            let city = r.send.address.get("fields").and_then(|f| f.get("city")).and_then(|c| c.as_str()).unwrap_or("");
            ManifestLine {
                reference: r.item.reference.clone(),
                tracking_number: r.item.tracking_number.clone(),
                recipient: r.item.recipient_name.clone(),
                destination: if city.is_empty() {
                    r.send.country.clone()
                } else {
                    format!("{city}, {}", r.send.country)
                },
                method: r.send.method.replace('_', " "),
                weight_g: r.send.weight_g.and_then(|w| u32::try_from(w).ok()).unwrap_or(0),
                postage_fen: r.send.postage.unwrap_or(0),
                customs_form: r.send.customs_form.as_deref().map(str::to_uppercase),
            }
        })
        .collect();
    Ok(ManifestInput {
        lang: lang.to_string(),
        organisation: tenant.map(|x| x.name).unwrap_or_default(),
        site: site.map(|x| x.name.clone()).unwrap_or_default(),
        batch_reference: v.batch.reference.clone(),
        carrier,
        collection_at: local(v.batch.collection_at),
        printed_at: local(chrono::Utc::now()),
        lines,
    })
}

/// The item's address label as PDF (100 × 150 mm, reference as Code 128 and QR).
#[utoipa::path(get, path = "/api/v1/outbound/{id}/label.pdf", tag = "outbound", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem),
        (status = 403, body = Problem), (status = 503, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn label_pdf(State(s): State<AppState>, c: Caller, Path(raw): Path<String>) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    allowed_any(&c, Permission::RequestOutbound, Permission::ReadAllOutbound)?;
    let id = item_id(&raw, rid)?;
    let input = label_input(&s, &c, id).await?;
    let name = file_name("label", Some(&input.reference));
    let bytes = render(&s, rid, move |f| mailroom_pdf::address_label(&input, f)).await?;
    Ok(pdf_response(bytes, &name))
}

/// The item's customs form (CN22 or CN23, as its declaration decides) as PDF.
#[utoipa::path(get, path = "/api/v1/outbound/{id}/customs.pdf", tag = "outbound", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn customs_pdf(State(s): State<AppState>, c: Caller, Path(raw): Path<String>) -> ApiResult<Response> {
    let rid = &c.ctx.request_id;
    allowed_any(&c, Permission::RequestOutbound, Permission::ReadAllOutbound)?;
    let id = item_id(&raw, rid)?;
    let input = customs_input(&s, &c, id).await?;
    let name = file_name("customs", input.reference.as_deref());
    let rates = s.sdr_rates.clone();
    let bytes = render(&s, rid, move |f| mailroom_pdf::customs_form(&input, &rates, f).map(|(_, b)| b)).await?;
    Ok(pdf_response(bytes, &name))
}

/// The sending site's address as a check request (the return address on labels and forms).
async fn sender_address(s: &AppState, c: &Caller, r: &OutboundRecord) -> ApiResult<CheckRequest> {
    let rid = &c.ctx.request_id;
    let sites =
        s.app.store.list_sites(c.principal.tenant_id).await.map_err(|e| ApiError::new(AppError::from(e), rid))?;
    let site = r.item.site_id.and_then(|id| sites.into_iter().find(|x| x.id == id));
    let mut text = r.item.sender_org.clone().unwrap_or_default();
    if let Some(a) = site.and_then(|x| x.address) {
        text = if text.is_empty() { a } else { format!("{text}\n{a}") };
    }
    Ok(CheckRequest {
        country: "CN".into(),
        postal_code: None,
        text: (!text.is_empty()).then_some(text),
        fields: Some(AddressFields { recipient: r.item.sender_name.clone().unwrap_or_default(), ..Default::default() }),
    })
}

fn recipient_address(r: &OutboundRecord) -> CheckRequest {
    let fields: Option<AddressFields> =
        r.send.address.get("fields").and_then(|f| serde_json::from_value(f.clone()).ok());
    CheckRequest { country: r.send.country.clone(), postal_code: None, text: None, fields }
}

fn method_label(method: &str) -> String {
    match method {
        "standard" => "Standard / 平信",
        "registered" => "Registered / 挂号",
        "express" => "Express / 快递",
        "international" => "International / 国际",
        "encrypted_electronic" => "Encrypted transfer / 加密传输",
        other => other,
    }
    .to_string()
}

async fn label_input(s: &AppState, c: &Caller, id: ItemId) -> ApiResult<LabelInput> {
    let rid = &c.ctx.request_id;
    let v = s.app.outbound_item(&c.principal, id, &s.sdr_rates).await.map_err(|e| ApiError::new(e, rid))?;
    let r = v.record;
    Ok(LabelInput {
        reference: r.item.reference.clone(),
        sender: sender_address(s, c, &r).await?,
        recipient: recipient_address(&r),
        method: Some(method_label(&r.send.method)),
        weight_g: r.send.weight_g.and_then(|w| u32::try_from(w).ok()),
    })
}

async fn customs_input(s: &AppState, c: &Caller, id: ItemId) -> ApiResult<CustomsInput> {
    let rid = &c.ctx.request_id;
    let v = s.app.outbound_item(&c.principal, id, &s.sdr_rates).await.map_err(|e| ApiError::new(e, rid))?;
    let r = v.record;
    let Some(decl) = r.send.customs.as_ref().and_then(|j| serde_json::from_value::<Declaration>(j.clone()).ok()) else {
        return Err(ApiError::new(
            AppError::from(DomainError::new(ErrorCode::Conflict, "this item needs no customs declaration")),
            rid,
        ));
    };
    let form = match r.send.customs_form.as_deref() {
        Some("cn23") => FormChoice::Cn23,
        _ => FormChoice::Auto,
    };
    let date = r.send.dispatched_at.unwrap_or(r.send.created_at).format("%Y-%m-%d").to_string();
    Ok(CustomsInput {
        declaration: decl,
        form: Some(form),
        reference: Some(r.item.reference.clone()),
        sender: Some(sender_address(s, c, &r).await?),
        addressee: Some(recipient_address(&r)),
        gross_weight_g: r.send.weight_g.and_then(|w| u32::try_from(w).ok()),
        postal_charges: r.send.postage.map(|p| format!("{} CNY", Money(p).plain())),
        sender_customs_reference: None,
        importer_reference: None,
        importer_contact: r.send.recipient_phone.clone().or(r.send.recipient_email.clone()),
        licence_numbers: None,
        certificate_numbers: None,
        invoice_number: None,
        comments: None,
        office_of_origin: None,
        non_delivery: Some(NonDelivery::Return),
        redirect_to: None,
        date: Some(date),
        signatory: r.item.sender_name.clone(),
    })
}
