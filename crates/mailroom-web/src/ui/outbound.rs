//! Outbound mail in the console: the list of sends (everyone's for mailroom staff, one's own for
//! employees) with a CSV mailing upload, the request form, a send with its customs verdict,
//! custody timeline and the next steps, and dispatch batches with a scan box for the barcode
//! scanner and the hand-over to the carrier.

use super::items::{EventView, Field, carrier_label, event_view, push};
use super::session::UiUser;
use super::view::{FormData, Opt, Params, UiError, enc, error_line, filled, html, local_time, see_other};
use crate::AppState;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use mailroom_app::AppError;
use mailroom_app::sending::{
    AcceptInput, BatchInput, DecisionInput, HandOverInput, MailingParams, OutboundChoices, OutboundQuery,
    OutboundRequest, OutboundView, ReceiptInput, ScanInput, TrackingInput,
};
use mailroom_app::store::OutboundRecord;
use mailroom_domain::address::{AddressFields, CheckRequest};
use mailroom_domain::auth::Permission;
use mailroom_domain::custody::CustodyEvent;
use mailroom_domain::customs::{ContentsCategory, Declaration, DeclarationLine};
use mailroom_domain::ids::ItemId;
use mailroom_domain::item::{ItemKind, Status};
use mailroom_domain::outbound::OutboundAction;
use mailroom_domain::postage::{Method, Money};
use mailroom_domain::{DomainError, ErrorCode};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

/// Customs lines the request form offers.
const CUSTOMS_LINES: usize = 5;
/// Statuses an outbound item can have, for the filter.
const STATUSES: &[Status] = &[
    Status::AwaitingApproval,
    Status::Requested,
    Status::Accepted,
    Status::Dispatched,
    Status::Delivered,
    Status::ReturnedToSender,
    Status::Cancelled,
];
/// Kinds a send may be.
const KINDS: &[ItemKind] = &[ItemKind::Letter, ItemKind::Document, ItemKind::Parcel, ItemKind::Package];
const CUSTOMS_CATEGORIES: &[&str] =
    &["gift", "documents", "commercial_sample", "returned_goods", "sale_of_goods", "other"];

fn may_see(u: &UiUser) -> Result<(), UiError> {
    if u.may(Permission::RequestOutbound) || u.may(Permission::ReadAllOutbound) {
        Ok(())
    } else {
        Err(u.fail(AppError::forbidden()))
    }
}

fn money(v: Option<i64>) -> String {
    v.map(|x| Money(x).to_string()).unwrap_or_default()
}

/// A carrier as the rate table names it (`sf_express`), shown by its name where the catalogue
/// has one.
fn carrier_name(t: Tr, code: &str) -> String {
    carrier_label(t, &code.replace('_', "-"))
}

fn method_label(t: Tr, m: &str) -> String {
    let key = format!("outbound.method.{m}");
    if t.has(&key) { t.get(&key).to_string() } else { m.to_string() }
}

fn status_of(t: Tr, s: Status) -> (String, String) {
    (s.as_str().to_string(), t.status(s))
}

/// A `datetime-local` value in the sites' time zone (Asia/Shanghai) as UTC.
fn site_time(field: &str, v: &str) -> Result<DateTime<Utc>, AppError> {
    let bad = || AppError::from(DomainError::invalid(field, "give a date and time such as 2026-12-01T10:00"));
    let naive = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| bad())?;
    let tz = FixedOffset::east_opt(8 * 3600).ok_or_else(bad)?;
    tz.from_local_datetime(&naive).single().map(|d| d.with_timezone(&Utc)).ok_or_else(bad)
}

fn parse_u32(field: &str, v: Option<&str>) -> Result<Option<u32>, AppError> {
    match v {
        None => Ok(None),
        Some(s) => s
            .replace([',', ' '], "")
            .parse::<u32>()
            .map(Some)
            .map_err(|_| DomainError::invalid(field, format!("{field} must be a whole number, not {s:?}")).into()),
    }
}

fn parse_uuid(field: &str, v: Option<&str>) -> Result<Uuid, AppError> {
    v.and_then(|s| s.parse().ok()).ok_or_else(|| DomainError::invalid(field, "choose one").into())
}

fn item_id(u: &UiUser, raw: &str) -> Result<ItemId, UiError> {
    raw.parse::<Uuid>().map(ItemId).map_err(|_| u.fail(AppError::not_found("outbound item")))
}

fn batch_id(u: &UiUser, raw: &str) -> Result<Uuid, UiError> {
    raw.parse::<Uuid>().map_err(|_| u.fail(AppError::not_found("batch")))
}

/// Errors shown on the page beside the form; the others get an error page.
fn shown_on_page(e: &AppError) -> bool {
    !matches!(e, AppError::Internal(_)) && !matches!(e.code(), ErrorCode::NotFound | ErrorCode::Forbidden)
}

fn cost_centre_opts(c: &OutboundChoices, chosen: &str) -> Vec<Opt> {
    c.cost_centres
        .iter()
        .map(|cc| {
            let id = cc.id.to_string();
            let selected = id == chosen;
            Opt::new(id, format!("{} · {}", cc.code, cc.name), selected)
        })
        .collect()
}

fn carrier_opts(t: Tr, c: &OutboundChoices, chosen: &str) -> Vec<Opt> {
    let mut v = vec![Opt::new("", t.get("outbound.carrier_other"), chosen.is_empty())];
    v.extend(c.carriers.iter().map(|x| Opt::new(x.clone(), carrier_name(t, x), x == chosen)));
    v
}

fn method_opts(t: Tr, chosen: &str) -> Vec<Opt> {
    Method::ALL.iter().map(|m| Opt::new(m.as_str(), method_label(t, m.as_str()), m.as_str() == chosen)).collect()
}

fn kind_opts(t: Tr, chosen: &str) -> Vec<Opt> {
    KINDS.iter().map(|k| Opt::new(k.as_str(), t.kind(*k), k.as_str() == chosen)).collect()
}

// ---------------------------------------------------------------- the list and CSV mailings

struct Row {
    id: String,
    reference: String,
    recipient: String,
    country: String,
    method: String,
    carrier: String,
    status: String,
    status_label: String,
    amount: String,
    requested_at: String,
}

struct MailingDone {
    summary: String,
    warnings: Vec<String>,
    href: String,
}

#[derive(Template)]
#[template(path = "outbound.html")]
struct ListPage {
    t: Tr,
    c: super::view::Chrome,
    title: String,
    rows: Vec<Row>,
    statuses: Vec<Opt>,
    filtered: bool,
    may_request: bool,
    may_handle: bool,
    may_batches: bool,
    methods: Vec<Opt>,
    carriers: Vec<Opt>,
    cost_centres: Vec<Opt>,
    kinds: Vec<Opt>,
    m: MailingForm,
    mailing: Option<MailingDone>,
    bad_lines: Vec<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct ListParams {
    status: Option<String>,
    mailing: Option<String>,
    created: Option<String>,
    awaiting: Option<String>,
    estimate: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct MailingForm {
    #[serde(default)]
    csrf: String,
    csv: Option<String>,
    method: Option<String>,
    carrier: Option<String>,
    cost_centre_id: Option<String>,
    contents: Option<String>,
    weight_g: Option<String>,
    kind: Option<String>,
    not_before: Option<String>,
    /// The employee the mailing is for: employee number or name (default: the caller).
    requester: Option<String>,
}

fn mailing_summary(t: Tr, created: &str, awaiting: &str, estimate: &str) -> String {
    t.fmt("outbound.mailing.result", &[("created", created), ("awaiting", awaiting), ("estimate", estimate)])
}

fn row(t: Tr, r: &OutboundRecord) -> Row {
    let (status, status_label) = status_of(t, r.item.status);
    Row {
        id: r.item.id.0.to_string(),
        reference: r.item.reference.clone(),
        recipient: r.item.recipient_name.clone(),
        country: r.send.country.clone(),
        method: method_label(t, &r.send.method),
        carrier: r.item.carrier.as_deref().map(|c| carrier_name(t, c)).unwrap_or_default(),
        status,
        status_label,
        amount: money(r.send.postage.or(r.send.estimate)),
        requested_at: local_time(r.send.created_at),
    }
}

struct ListExtras {
    m: MailingForm,
    mailing: Option<MailingDone>,
    bad_lines: Vec<String>,
    error: Option<String>,
    status: StatusCode,
}

async fn list_page(s: &AppState, u: &UiUser, q: &ListParams, x: ListExtras) -> Result<Response, UiError> {
    let t = u.t;
    let status = filled(&q.status).and_then(Status::parse).filter(|s| STATUSES.contains(s));
    let query = OutboundQuery {
        status: status.map(|s| s.as_str().to_string()),
        mailing: filled(&q.mailing).and_then(|m| m.parse().ok()),
        limit: Some(200),
        ..Default::default()
    };
    let records = s.app.list_outbound(&u.principal, &query).await.map_err(|e| u.fail(e))?;
    let may_handle = u.may(Permission::HandleOutbound);
    let choices =
        if may_handle { Some(s.app.outbound_choices(&u.principal).await.map_err(|e| u.fail(e))?) } else { None };
    let all = u.may(Permission::ReadAllOutbound);
    let mut statuses = vec![Opt::new("", t.get("outbound.all_statuses"), status.is_none())];
    statuses.extend(STATUSES.iter().map(|st| Opt::new(st.as_str(), t.status(*st), Some(*st) == status)));
    let m = x.m;
    let (carriers, cost_centres) = match &choices {
        Some(c) => (
            carrier_opts(t, c, filled(&m.carrier).unwrap_or("")),
            cost_centre_opts(c, filled(&m.cost_centre_id).unwrap_or("")),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let mailing = x.mailing.or_else(|| {
        let id = filled(&q.mailing)?;
        Some(MailingDone {
            summary: mailing_summary(
                t,
                filled(&q.created).unwrap_or("0"),
                filled(&q.awaiting).unwrap_or("0"),
                filled(&q.estimate).unwrap_or(""),
            ),
            warnings: Vec::new(),
            href: format!("/ui/outbound?mailing={}", enc(id)),
        })
    });
    let page = ListPage {
        t,
        c: if may_handle { u.chrome("outbound").with_scripts(t, &["outbound.js"]) } else { u.chrome("outbound") },
        title: t.get(if all { "outbound.title" } else { "outbound.my_title" }).to_string(),
        rows: records.iter().map(|r| row(t, r)).collect(),
        filtered: status.is_some() || filled(&q.mailing).is_some(),
        statuses,
        may_request: u.may(Permission::RequestOutbound),
        may_handle,
        may_batches: all,
        methods: method_opts(t, filled(&m.method).unwrap_or("standard")),
        carriers,
        cost_centres,
        kinds: kind_opts(t, filled(&m.kind).unwrap_or("letter")),
        m,
        mailing,
        bad_lines: x.bad_lines,
        error: x.error,
    };
    Ok(html(x.status, &page))
}

pub(crate) async fn list(
    State(s): State<AppState>,
    u: UiUser,
    Params(q): Params<ListParams>,
) -> Result<Response, UiError> {
    may_see(&u)?;
    let x = ListExtras {
        m: MailingForm::default(),
        mailing: None,
        bad_lines: Vec::new(),
        error: None,
        status: StatusCode::OK,
    };
    list_page(&s, &u, &q, x).await
}

fn mailing_params(f: &MailingForm) -> Result<MailingParams, AppError> {
    let not_before = match filled(&f.not_before) {
        Some(v) => Some(site_time("not_before", v)?),
        None => None,
    };
    Ok(MailingParams {
        method: filled(&f.method).unwrap_or("").to_string(),
        carrier: filled(&f.carrier).map(str::to_string),
        cost_centre_id: parse_uuid("cost_centre_id", filled(&f.cost_centre_id))?,
        kind: filled(&f.kind).map(str::to_string),
        category: None,
        contents: f.contents.clone().unwrap_or_default(),
        weight_g: parse_u32("weight_g", filled(&f.weight_g))?,
        not_before,
        site_id: None,
        requester_person_id: None,
    })
}

/// The person a mailing is for, by employee number or exact name.
async fn requester_of(s: &AppState, u: &UiUser, who: &str) -> Result<mailroom_domain::ids::PersonId, AppError> {
    let found = s.app.search_people(&u.principal, who, None, 50).await?;
    found
        .iter()
        .find(|p| p.employee_no.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(who)))
        .or_else(|| found.iter().find(|p| p.name == who))
        .map(|p| p.id)
        .ok_or_else(|| {
            DomainError::invalid("requester", format!("no one in the directory has the number or name {who:?}")).into()
        })
}

pub(crate) async fn mailing(
    State(s): State<AppState>,
    u: UiUser,
    FormData(f): FormData<MailingForm>,
) -> Result<Response, UiError> {
    u.require(Permission::HandleOutbound)?;
    u.check_csrf(&f.csrf)?;
    let csv = f.csv.clone().unwrap_or_default();
    let params = match mailing_params(&f) {
        Ok(mut params) => match filled(&f.requester) {
            Some(who) => requester_of(&s, &u, who).await.map(|id| {
                params.requester_person_id = Some(id);
                params
            }),
            None => Ok(params),
        },
        Err(e) => Err(e),
    };
    let result = match params {
        Ok(params) => s.app.request_mailing(&u.principal, &u.ctx, &params, csv.as_bytes(), &s.sdr_rates).await,
        Err(e) => Err(e),
    };
    let q = ListParams::default();
    match result {
        Ok(r) => {
            let to = format!(
                "/ui/outbound?mailing={}&created={}&awaiting={}&estimate={}",
                r.mailing_id,
                r.created,
                r.awaiting_approval,
                enc(&Money(r.estimate_total).to_string())
            );
            if !r.soft_limit_passed {
                return Ok(see_other(&to));
            }
            let mailing = MailingDone {
                summary: mailing_summary(
                    u.t,
                    &r.created.to_string(),
                    &r.awaiting_approval.to_string(),
                    &Money(r.estimate_total).to_string(),
                ),
                warnings: vec![u.t.get("outbound.flash.soft_limit").to_string()],
                href: format!("/ui/outbound?mailing={}", r.mailing_id),
            };
            let x = ListExtras {
                m: MailingForm::default(),
                mailing: Some(mailing),
                bad_lines: Vec::new(),
                error: None,
                status: StatusCode::OK,
            };
            list_page(&s, &u, &q, x).await
        }
        Err(AppError::Rows(rows)) => {
            let bad_lines = rows
                .iter()
                .map(|r| u.t.fmt("outbound.mailing.bad_line", &[("line", &r.line.to_string()), ("reason", &r.reason)]))
                .collect();
            let error = Some(u.t.get("outbound.mailing.refused").to_string());
            let x = ListExtras { m: f, mailing: None, bad_lines, error, status: StatusCode::UNPROCESSABLE_ENTITY };
            list_page(&s, &u, &q, x).await
        }
        Err(e) if shown_on_page(&e) => {
            let status = crate::problem::status_for(e.code());
            let x = ListExtras { error: Some(error_line(u.t, &e)), m: f, mailing: None, bad_lines: Vec::new(), status };
            list_page(&s, &u, &q, x).await
        }
        Err(e) => Err(u.fail(e)),
    }
}

// ---------------------------------------------------------------- the request form

struct LineForm {
    n: usize,
    description: String,
    quantity: String,
    net_weight_g: String,
    value: String,
    currency: String,
    hs_code: String,
    origin_country: String,
}

#[derive(Template)]
#[template(path = "outbound_new.html")]
struct NewPage {
    t: Tr,
    c: super::view::Chrome,
    v: HashMap<String, String>,
    methods: Vec<Opt>,
    carriers: Vec<Opt>,
    cost_centres: Vec<Opt>,
    kinds: Vec<Opt>,
    categories: Vec<Opt>,
    lines: Vec<LineForm>,
    /// Mailroom staff may ask on an employee's behalf.
    may_handle: bool,
    error: Option<String>,
}

impl NewPage {
    fn val(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }
}

fn get<'a>(v: &'a HashMap<String, String>, k: &str) -> Option<&'a str> {
    v.get(k).map(|s| s.trim()).filter(|s| !s.is_empty())
}

async fn new_page(
    s: &AppState,
    u: &UiUser,
    v: HashMap<String, String>,
    error: Option<(String, StatusCode)>,
) -> Result<Response, UiError> {
    let t = u.t;
    let choices = s.app.outbound_choices(&u.principal).await.map_err(|e| u.fail(e))?;
    let g = |k: &str| get(&v, k).unwrap_or("").to_string();
    let lines = (1..=CUSTOMS_LINES)
        .map(|n| LineForm {
            n,
            description: g(&format!("l{n}_description")),
            quantity: g(&format!("l{n}_quantity")),
            net_weight_g: g(&format!("l{n}_net_weight_g")),
            value: g(&format!("l{n}_value")),
            currency: get(&v, &format!("l{n}_currency")).unwrap_or("CNY").to_string(),
            hs_code: g(&format!("l{n}_hs_code")),
            origin_country: get(&v, &format!("l{n}_origin_country")).unwrap_or("CN").to_string(),
        })
        .collect();
    let category = get(&v, "customs_category").unwrap_or("gift");
    let page = NewPage {
        t,
        c: u.chrome("outbound"),
        methods: method_opts(t, get(&v, "method").unwrap_or("standard")),
        carriers: carrier_opts(t, &choices, get(&v, "carrier").unwrap_or("")),
        cost_centres: cost_centre_opts(&choices, get(&v, "cost_centre_id").unwrap_or("")),
        kinds: kind_opts(t, get(&v, "kind").unwrap_or("letter")),
        categories: CUSTOMS_CATEGORIES
            .iter()
            .map(|c| Opt::new(*c, t.get(&format!("outbound.customs_category.{c}")), *c == category))
            .collect(),
        lines,
        may_handle: u.may(Permission::HandleOutbound),
        error: error.as_ref().map(|(e, _)| e.clone()),
        v,
    };
    Ok(html(error.map_or(StatusCode::OK, |(_, s)| s), &page))
}

pub(crate) async fn new_form(State(s): State<AppState>, u: UiUser) -> Result<Response, UiError> {
    u.require(Permission::RequestOutbound)?;
    new_page(&s, &u, HashMap::new(), None).await
}

fn customs_of(v: &HashMap<String, String>) -> Result<Option<Declaration>, AppError> {
    let mut lines = Vec::new();
    for n in 1..=CUSTOMS_LINES {
        let f = |k: &str| get(v, &format!("l{n}_{k}"));
        let Some(description) = f("description") else { continue };
        let field = |k: &str| format!("customs line {n} {k}");
        lines.push(DeclarationLine {
            description: description.to_string(),
            quantity: parse_u32(&field("quantity"), f("quantity"))?.unwrap_or(1),
            net_weight_g: parse_u32(&field("net_weight_g"), f("net_weight_g"))?.unwrap_or(0),
            value: f("value").unwrap_or("").to_string(),
            currency: f("currency").unwrap_or("CNY").to_ascii_uppercase(),
            hs_code: f("hs_code").map(str::to_string),
            origin_country: f("origin_country").map(str::to_string),
        });
    }
    if lines.is_empty() {
        return Ok(None);
    }
    let category: ContentsCategory =
        serde_json::from_value(Value::String(get(v, "customs_category").unwrap_or("gift").to_string()))
            .map_err(|_| AppError::from(DomainError::invalid("customs_category", "choose a category of contents")))?;
    Ok(Some(Declaration {
        category,
        explanation: get(v, "customs_explanation").map(str::to_string),
        lines,
        certificates: Vec::new(),
    }))
}

fn request_of(v: &HashMap<String, String>) -> Result<OutboundRequest, AppError> {
    let not_before = match get(v, "not_before") {
        Some(x) => Some(site_time("not_before", x)?),
        None => None,
    };
    let fields = AddressFields {
        recipient: get(v, "recipient_name").unwrap_or("").to_string(),
        organisation: get(v, "organisation").unwrap_or("").to_string(),
        postal_code: get(v, "postal_code").unwrap_or("").to_string(),
        ..Default::default()
    };
    let carrier = get(v, "carrier_other").or_else(|| get(v, "carrier")).map(str::to_string);
    Ok(OutboundRequest {
        recipient: CheckRequest {
            country: get(v, "country").unwrap_or("").to_string(),
            postal_code: None,
            text: get(v, "address").map(str::to_string),
            fields: (fields != AddressFields::default()).then_some(fields),
        },
        recipient_email: get(v, "recipient_email").map(str::to_string),
        recipient_phone: get(v, "recipient_phone").map(str::to_string),
        kind: get(v, "kind").map(str::to_string),
        contents: get(v, "contents").unwrap_or("").to_string(),
        method: get(v, "method").unwrap_or("").to_string(),
        carrier,
        weight_g: parse_u32("weight_g", get(v, "weight_g"))?,
        cost_centre_id: parse_uuid("cost_centre_id", get(v, "cost_centre_id"))?,
        not_before,
        customs: customs_of(v)?,
        notes: get(v, "notes").map(str::to_string),
        ..Default::default()
    })
}

pub(crate) async fn create(
    State(s): State<AppState>,
    u: UiUser,
    FormData(f): FormData<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    u.require(Permission::RequestOutbound)?;
    let v: HashMap<String, String> = f.into_iter().collect();
    u.check_csrf(v.get("csrf").map(String::as_str).unwrap_or(""))?;
    let request = match request_of(&v) {
        Ok(mut r) => match get(&v, "requester").filter(|_| u.may(Permission::HandleOutbound)) {
            Some(who) => requester_of(&s, &u, who).await.map(|id| {
                r.requester_person_id = Some(id);
                r
            }),
            None => Ok(r),
        },
        Err(e) => Err(e),
    };
    let result = match request {
        Ok(r) => s.app.request_outbound(&u.principal, &u.ctx, &r, &s.sdr_rates).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(view) => {
            let budget = view.soft_limit_passed;
            let to =
                format!("/ui/outbound/{}?done=created{}", view.record.item.id.0, if budget { "&budget=1" } else { "" });
            Ok(see_other(&to))
        }
        Err(e) if shown_on_page(&e) => {
            let status = crate::problem::status_for(e.code());
            let mut v = v;
            v.remove("csrf");
            new_page(&s, &u, v, Some((error_line(u.t, &e), status))).await
        }
        Err(e) => Err(u.fail(e)),
    }
}

// ---------------------------------------------------------------- one send

struct VerdictView {
    form: String,
    total: String,
    weight: String,
    restrictions: Vec<String>,
    certificates: Vec<String>,
    problems: Vec<String>,
    accepted: bool,
}

struct ActionForms {
    approve: bool,
    reject: bool,
    accept: bool,
    cancel: bool,
    receipt: bool,
    return_: bool,
    electronic: bool,
    tracking: bool,
    /// Physical and accepted: it leaves with a batch.
    batch_hint: bool,
}

#[derive(Template)]
#[template(path = "outbound_item.html")]
struct DetailPage {
    t: Tr,
    c: super::view::Chrome,
    id: String,
    reference: String,
    status: String,
    status_label: String,
    fields: Vec<Field>,
    address_lines: Vec<String>,
    latin_lines: Vec<String>,
    verdict: Option<VerdictView>,
    events: Vec<EventView>,
    a: ActionForms,
    accounts: Vec<Opt>,
    weight: String,
    physical: bool,
    has_customs: bool,
    flash: Vec<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct DetailParams {
    done: Option<String>,
    budget: Option<String>,
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn outbound_event(t: Tr, e: &CustodyEvent, staff: bool) -> EventView {
    let mut v = event_view(t, e, &[], staff);
    if !e.kind.starts_with("outbound_") && e.kind != "carrier_tracking_recorded" {
        return v;
    }
    let d: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
    let s = |k: &str| match d.get(k) {
        Some(Value::String(x)) if !x.is_empty() => Some(x.clone()),
        _ => None,
    };
    let n = |k: &str| d.get(k).and_then(Value::as_i64);
    let l = &mut v.lines;
    push(l, t, "outbound.batch", s("batch"));
    push(l, t, "outbound.courier", s("courier"));
    push(l, t, "outbound.tracking", s("tracking_number"));
    push(l, t, "outbound.weight", n("weight_g").map(|w| t.fmt("outbound.grams", &[("g", &w.to_string())])));
    push(l, t, "outbound.estimate", n("estimate").map(|x| Money(x).to_string()));
    push(l, t, "outbound.postage", n("postage").map(|x| Money(x).to_string()));
    push(l, t, "outbound.refund", n("refund").map(|x| Money(x).to_string()));
    push(l, t, "outbound.signed_by", s("signed_by"));
    push(l, t, "outbound.receipt_number", s("receipt_number"));
    push(l, t, "outbound.reason", s("reason"));
    v
}

fn verdict_view(t: Tr, view: &OutboundView) -> Option<VerdictView> {
    let v = view.customs_verdict.as_ref()?;
    let form = match v.form {
        mailroom_domain::customs::Form::Cn22 => "CN22",
        mailroom_domain::customs::Form::Cn23 => "CN23",
    };
    let total = match (&v.total_value, &v.currency) {
        (Some(x), Some(c)) => format!("{x} {c}"),
        (Some(x), None) => x.clone(),
        _ => String::new(),
    };
    Some(VerdictView {
        form: form.to_string(),
        total,
        weight: t.fmt("outbound.grams", &[("g", &v.total_net_weight_g.to_string())]),
        restrictions: v
            .restrictions
            .iter()
            .map(|r| {
                let kind = serde_json::to_value(r.kind).ok().and_then(|k| k.as_str().map(str::to_string));
                let kind = kind.unwrap_or_default();
                let key = format!("outbound.restriction.{kind}");
                let label = t.get(&key);
                t.fmt(
                    if r.prohibited { "outbound.restriction_prohibited" } else { "outbound.restriction_line" },
                    &[("line", &(r.line + 1).to_string()), ("kind", label), ("note", &r.note)],
                )
            })
            .collect(),
        certificates: v
            .required_certificates
            .iter()
            .map(|c| {
                let code = serde_json::to_value(c).ok().and_then(|k| k.as_str().map(str::to_string));
                t.get(&format!("outbound.certificate.{}", code.unwrap_or_default())).to_string()
            })
            .collect(),
        problems: v
            .problems
            .iter()
            .map(|p| match p.line {
                Some(l) => t.fmt("outbound.problem_line", &[("line", &(l + 1).to_string()), ("message", &p.message)]),
                None => p.message.clone(),
            })
            .collect(),
        accepted: v.accepted,
    })
}

async fn detail_page(
    s: &AppState,
    u: &UiUser,
    id: ItemId,
    flash: Vec<String>,
    error: Option<(String, StatusCode)>,
) -> Result<Response, UiError> {
    let t = u.t;
    let p = &u.principal;
    let view = s.app.outbound_item(p, id, &s.sdr_rates).await.map_err(|e| u.fail(e))?;
    let events = s.app.outbound_events(p, id).await.map_err(|e| u.fail(e))?;
    let r = &view.record;
    let choices = s.app.outbound_choices(p).await.map_err(|e| u.fail(e))?;
    let physical = r.send.method != Method::EncryptedElectronic.as_str();
    let may_handle = u.may(Permission::HandleOutbound);
    let has = |a: OutboundAction| view.actions.contains(&a);
    let a = ActionForms {
        approve: has(OutboundAction::Approve),
        reject: has(OutboundAction::Reject),
        accept: has(OutboundAction::Accept),
        cancel: has(OutboundAction::Cancel),
        receipt: has(OutboundAction::ConfirmDelivery),
        return_: has(OutboundAction::Return),
        electronic: has(OutboundAction::Dispatch) && !physical,
        tracking: may_handle && physical && matches!(r.item.status, Status::Accepted | Status::Dispatched),
        batch_hint: has(OutboundAction::Dispatch) && physical,
    };
    let accounts = if a.accept {
        let list = s.app.postage_accounts(p).await.map_err(|e| u.fail(e))?;
        let mut v = vec![Opt::new("", t.get("outbound.account_default"), true)];
        v.extend(
            list.into_iter().map(|x| Opt::new(x.id.to_string(), format!("{} · {}", x.name, Money(x.balance)), false)),
        );
        v
    } else {
        Vec::new()
    };
    let batch = match r.send.batch_id {
        Some(b) if u.may(Permission::ReadAllOutbound) => {
            s.app.dispatch_batch_view(p, b).await.ok().map(|v| (b, v.batch.reference))
        }
        _ => None,
    };
    let cc = choices.cost_centres.iter().find(|c| c.id == r.send.cost_centre_id).map(|c| c.code.clone());
    let grams = |w: i64| t.fmt("outbound.grams", &[("g", &w.to_string())]);
    let mut f = Vec::new();
    push(&mut f, t, "outbound.tracking", r.item.tracking_number.clone());
    push(&mut f, t, "outbound.requester", r.item.sender_name.clone());
    push(&mut f, t, "outbound.requester_department", r.item.sender_org.clone());
    push(&mut f, t, "outbound.recipient", Some(r.item.recipient_name.clone()));
    push(&mut f, t, "outbound.country", Some(r.send.country.clone()));
    push(&mut f, t, "outbound.email", r.send.recipient_email.clone());
    push(&mut f, t, "outbound.phone", r.send.recipient_phone.clone());
    push(&mut f, t, "outbound.kind", Some(t.kind(r.item.kind)));
    push(&mut f, t, "outbound.contents", Some(r.send.contents.clone()));
    push(&mut f, t, "outbound.method", Some(method_label(t, &r.send.method)));
    push(&mut f, t, "outbound.carrier", r.item.carrier.as_deref().map(|c| carrier_name(t, c)));
    push(&mut f, t, "outbound.weight", r.send.weight_g.map(grams));
    push(&mut f, t, "outbound.estimate", r.send.estimate.map(|x| Money(x).to_string()));
    push(&mut f, t, "outbound.postage", r.send.postage.map(|x| Money(x).to_string()));
    push(&mut f, t, "outbound.cost_centre", cc);
    push(&mut f, t, "outbound.window", r.send.not_before.map(local_time));
    push(&mut f, t, "outbound.batch", batch.map(|(_, b)| b));
    push(&mut f, t, "outbound.decided_by", r.send.decided_by.clone());
    push(&mut f, t, "outbound.decision_note", r.send.decision_note.clone());
    push(&mut f, t, "outbound.dispatched_at", r.send.dispatched_at.map(local_time));
    push(&mut f, t, "outbound.signed_by", r.send.receipt_signed_by.clone());
    push(&mut f, t, "outbound.receipt_number", r.send.receipt_number.clone());
    push(&mut f, t, "outbound.receipt_at", r.send.receipt_at.map(local_time));
    push(&mut f, t, "outbound.requested_at", Some(local_time(r.send.created_at)));
    push(&mut f, t, "outbound.notes", r.item.notes.clone());
    let (status, status_label) = status_of(t, r.item.status);
    let staff = u.may(Permission::ReadAllOutbound);
    let page = DetailPage {
        t,
        c: u.chrome("outbound"),
        id: r.item.id.0.to_string(),
        reference: r.item.reference.clone(),
        status,
        status_label,
        fields: f,
        address_lines: strings(&r.send.address, "lines"),
        latin_lines: strings(&r.send.address, "latin_lines"),
        verdict: verdict_view(t, &view),
        events: events.iter().map(|e| outbound_event(t, e, staff)).collect(),
        accounts,
        weight: r.send.weight_g.map(|w| w.to_string()).unwrap_or_default(),
        physical,
        has_customs: r.send.customs.is_some(),
        a,
        flash,
        error: error.as_ref().map(|(e, _)| e.clone()),
    };
    Ok(html(error.map_or(StatusCode::OK, |(_, s)| s), &page))
}

pub(crate) async fn detail(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    Params(q): Params<DetailParams>,
) -> Result<Response, UiError> {
    may_see(&u)?;
    let id = item_id(&u, &id)?;
    let mut flash = Vec::new();
    if let Some(done) = filled(&q.done) {
        let key = format!("outbound.done.{done}");
        if u.t.has(&key) {
            flash.push(u.t.get(&key).to_string());
        }
    }
    if filled(&q.budget).is_some() {
        flash.push(u.t.get("outbound.flash.soft_limit").to_string());
    }
    detail_page(&s, &u, id, flash, None).await
}

/// Every form of a send's page: one action's fields.
#[derive(Deserialize)]
pub(crate) struct ActionForm {
    csrf: String,
    note: Option<String>,
    weight_g: Option<String>,
    account_id: Option<String>,
    tracking_number: Option<String>,
    signed_by: Option<String>,
    receipt_number: Option<String>,
}

async fn act(s: &AppState, u: &UiUser, raw: &str, f: ActionForm, action: &str) -> Result<Response, UiError> {
    u.check_csrf(&f.csrf)?;
    let id = item_id(u, raw)?;
    let (p, ctx, sdr) = (&u.principal, &u.ctx, &s.sdr_rates);
    let note = DecisionInput { note: filled(&f.note).map(str::to_string) };
    let result: Result<OutboundView, AppError> = match action {
        "approve" => s.app.decide_outbound(p, ctx, id, true, &note, sdr).await,
        "reject" => s.app.decide_outbound(p, ctx, id, false, &note, sdr).await,
        "cancel" => s.app.cancel_outbound(p, ctx, id, &note, sdr).await,
        "return" => s.app.return_outbound(p, ctx, id, &note, sdr).await,
        "send_electronic" => s.app.send_electronic(p, ctx, id, &note, sdr).await,
        "accept" => {
            let input = (|| -> Result<AcceptInput, AppError> {
                let weight_g = parse_u32("weight_g", filled(&f.weight_g))?
                    .ok_or_else(|| AppError::from(DomainError::invalid("weight_g", "give the weight in grams")))?;
                let account_id = match filled(&f.account_id) {
                    Some(a) => Some(parse_uuid("account_id", Some(a))?),
                    None => None,
                };
                Ok(AcceptInput {
                    weight_g,
                    customs: None,
                    account_id,
                    tracking_number: filled(&f.tracking_number).map(str::to_string),
                })
            })();
            match input {
                Ok(i) => s.app.accept_outbound(p, ctx, id, &i, sdr).await,
                Err(e) => Err(e),
            }
        }
        "tracking" => {
            let input = TrackingInput { tracking_number: f.tracking_number.clone().unwrap_or_default() };
            s.app.record_outbound_tracking(p, ctx, id, &input, sdr).await
        }
        "receipt" => {
            let input = ReceiptInput {
                signed_by: f.signed_by.clone().unwrap_or_default(),
                receipt_number: filled(&f.receipt_number).map(str::to_string),
                delivered_at: None,
            };
            s.app.record_outbound_receipt(p, ctx, id, &input, sdr).await
        }
        _ => Err(AppError::not_found("action")),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/ui/outbound/{}?done={action}", id.0))),
        Err(e) if shown_on_page(&e) => {
            let status = crate::problem::status_for(e.code());
            detail_page(s, u, id, Vec::new(), Some((error_line(u.t, &e), status))).await
        }
        Err(e) => Err(u.fail(e)),
    }
}

macro_rules! action_handler {
    ($name:ident, $perm:expr, $action:literal) => {
        pub(crate) async fn $name(
            State(s): State<AppState>,
            u: UiUser,
            Path(id): Path<String>,
            FormData(f): FormData<ActionForm>,
        ) -> Result<Response, UiError> {
            u.require($perm)?;
            act(&s, &u, &id, f, $action).await
        }
    };
}

action_handler!(approve, Permission::ApproveOutbound, "approve");
action_handler!(reject, Permission::ApproveOutbound, "reject");
action_handler!(accept, Permission::HandleOutbound, "accept");
action_handler!(cancel, Permission::RequestOutbound, "cancel");
action_handler!(tracking, Permission::HandleOutbound, "tracking");
action_handler!(receipt, Permission::HandleOutbound, "receipt");
action_handler!(return_item, Permission::HandleOutbound, "return");
action_handler!(send_electronic, Permission::HandleOutbound, "send_electronic");

// ---------------------------------------------------------------- dispatch batches

struct BatchRow {
    id: String,
    reference: String,
    carrier: String,
    collection_at: String,
    items: usize,
    status: String,
    status_label: String,
    courier: String,
}

#[derive(Template)]
#[template(path = "outbound_batches.html")]
struct BatchesPage {
    t: Tr,
    c: super::view::Chrome,
    rows: Vec<BatchRow>,
    carriers: Vec<Opt>,
    may_handle: bool,
    carrier_other: String,
    collection_at: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct BatchForm {
    csrf: String,
    carrier: Option<String>,
    carrier_other: Option<String>,
    collection_at: Option<String>,
}

fn batch_status(t: Tr, s: &str) -> String {
    let key = format!("outbound.batch_status.{s}");
    if t.has(&key) { t.get(&key).to_string() } else { s.to_string() }
}

async fn batches_page(
    s: &AppState,
    u: &UiUser,
    form: Option<&BatchForm>,
    error: Option<(String, StatusCode)>,
) -> Result<Response, UiError> {
    let t = u.t;
    let p = &u.principal;
    let list = s.app.dispatch_batches(p, None).await.map_err(|e| u.fail(e))?;
    let mut rows = Vec::with_capacity(list.len());
    for b in list {
        let items = s.app.dispatch_batch_view(p, b.id).await.map(|v| v.items.len()).unwrap_or(0);
        rows.push(BatchRow {
            id: b.id.to_string(),
            reference: b.reference.clone(),
            carrier: carrier_name(t, &b.carrier),
            collection_at: local_time(b.collection_at),
            items,
            status_label: batch_status(t, &b.status),
            status: b.status,
            courier: b.courier_name.unwrap_or_default(),
        });
    }
    let choices = s.app.outbound_choices(p).await.map_err(|e| u.fail(e))?;
    let chosen = form.and_then(|f| filled(&f.carrier)).unwrap_or("");
    let page = BatchesPage {
        t,
        c: u.chrome("outbound"),
        rows,
        carriers: carrier_opts(t, &choices, chosen),
        may_handle: u.may(Permission::HandleOutbound),
        carrier_other: form.and_then(|f| filled(&f.carrier_other)).unwrap_or("").to_string(),
        collection_at: form.and_then(|f| filled(&f.collection_at)).unwrap_or("").to_string(),
        error: error.as_ref().map(|(e, _)| e.clone()),
    };
    Ok(html(error.map_or(StatusCode::OK, |(_, s)| s), &page))
}

pub(crate) async fn batches(State(s): State<AppState>, u: UiUser) -> Result<Response, UiError> {
    u.require(Permission::ReadAllOutbound)?;
    batches_page(&s, &u, None, None).await
}

pub(crate) async fn create_batch(
    State(s): State<AppState>,
    u: UiUser,
    FormData(f): FormData<BatchForm>,
) -> Result<Response, UiError> {
    u.require(Permission::HandleOutbound)?;
    u.check_csrf(&f.csrf)?;
    let input = (|| -> Result<BatchInput, AppError> {
        let carrier = filled(&f.carrier_other).or_else(|| filled(&f.carrier)).unwrap_or("").to_string();
        let at = filled(&f.collection_at).ok_or_else(|| {
            AppError::from(DomainError::invalid("collection_at", "give the collection date and time"))
        })?;
        Ok(BatchInput { carrier, collection_at: site_time("collection_at", at)?, site_id: None, items: None })
    })();
    let result = match input {
        Ok(i) => s.app.create_dispatch_batch(&u.principal, &u.ctx, &i).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => Ok(see_other(&format!("/ui/outbound/batches/{}?done=created", v.batch.id))),
        Err(e) if shown_on_page(&e) => {
            let status = crate::problem::status_for(e.code());
            batches_page(&s, &u, Some(&f), Some((error_line(u.t, &e), status))).await
        }
        Err(e) => Err(u.fail(e)),
    }
}

struct BatchItem {
    id: String,
    reference: String,
    tracking: String,
    recipient: String,
    country: String,
    scanned: bool,
    status_label: String,
}

#[derive(Template)]
#[template(path = "outbound_batch.html")]
struct BatchPage {
    t: Tr,
    c: super::view::Chrome,
    id: String,
    reference: String,
    carrier: String,
    collection_at: String,
    status_label: String,
    open: bool,
    may_handle: bool,
    courier: String,
    handed_over_at: String,
    items: Vec<BatchItem>,
    scanned: String,
    flash: Vec<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct BatchParams {
    done: Option<String>,
    code: Option<String>,
    dispatched: Option<String>,
    left: Option<String>,
}

async fn batch_page(
    s: &AppState,
    u: &UiUser,
    id: Uuid,
    flash: Vec<String>,
    error: Option<(String, StatusCode)>,
) -> Result<Response, UiError> {
    let t = u.t;
    let v = s.app.dispatch_batch_view(&u.principal, id).await.map_err(|e| u.fail(e))?;
    let b = &v.batch;
    let page = BatchPage {
        t,
        c: u.chrome("outbound"),
        id: b.id.to_string(),
        reference: b.reference.clone(),
        carrier: carrier_name(t, &b.carrier),
        collection_at: local_time(b.collection_at),
        status_label: batch_status(t, &b.status),
        open: b.status == "open",
        may_handle: u.may(Permission::HandleOutbound),
        courier: b.courier_name.clone().unwrap_or_default(),
        handed_over_at: b.handed_over_at.map(local_time).unwrap_or_default(),
        scanned: t
            .fmt("outbound.scanned_count", &[("n", &v.scanned.to_string()), ("total", &v.items.len().to_string())]),
        items: v
            .items
            .iter()
            .map(|r| BatchItem {
                id: r.item.id.0.to_string(),
                reference: r.item.reference.clone(),
                tracking: r.item.tracking_number.clone().unwrap_or_default(),
                recipient: r.item.recipient_name.clone(),
                country: r.send.country.clone(),
                scanned: r.send.scanned_out_at.is_some(),
                status_label: t.status(r.item.status),
            })
            .collect(),
        flash,
        error: error.as_ref().map(|(e, _)| e.clone()),
    };
    Ok(html(error.map_or(StatusCode::OK, |(_, s)| s), &page))
}

pub(crate) async fn batch(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    Params(q): Params<BatchParams>,
) -> Result<Response, UiError> {
    u.require(Permission::ReadAllOutbound)?;
    let id = batch_id(&u, &id)?;
    let t = u.t;
    let mut flash = Vec::new();
    match filled(&q.done) {
        Some("created") => flash.push(t.get("outbound.done.batch_created").to_string()),
        Some("scanned") => flash.push(t.fmt("outbound.done.scanned", &[("code", filled(&q.code).unwrap_or(""))])),
        Some("handed_over") => {
            flash.push(t.fmt("outbound.done.handed_over", &[("n", filled(&q.dispatched).unwrap_or("0"))]));
            if let Some(left) = filled(&q.left) {
                flash.push(t.fmt("outbound.done.left_behind", &[("refs", left)]));
            }
        }
        _ => {}
    }
    batch_page(&s, &u, id, flash, None).await
}

#[derive(Deserialize)]
pub(crate) struct ScanForm {
    csrf: String,
    code: Option<String>,
}

pub(crate) async fn scan(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(f): FormData<ScanForm>,
) -> Result<Response, UiError> {
    u.require(Permission::HandleOutbound)?;
    u.check_csrf(&f.csrf)?;
    let id = batch_id(&u, &id)?;
    let code = filled(&f.code).unwrap_or("").to_string();
    match s.app.scan_out(&u.principal, &u.ctx, id, &ScanInput { code: code.clone() }).await {
        Ok(_) => Ok(see_other(&format!("/ui/outbound/batches/{id}?done=scanned&code={}", enc(&code)))),
        Err(e) if shown_on_page(&e) => {
            let status = crate::problem::status_for(e.code());
            batch_page(&s, &u, id, Vec::new(), Some((error_line(u.t, &e), status))).await
        }
        Err(e) => Err(u.fail(e)),
    }
}

#[derive(Deserialize)]
pub(crate) struct HandOverForm {
    csrf: String,
    courier_name: Option<String>,
}

pub(crate) async fn hand_over(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(f): FormData<HandOverForm>,
) -> Result<Response, UiError> {
    u.require(Permission::HandleOutbound)?;
    u.check_csrf(&f.csrf)?;
    let id = batch_id(&u, &id)?;
    let input = HandOverInput { courier_name: f.courier_name.clone().unwrap_or_default() };
    match s.app.hand_over_batch(&u.principal, &u.ctx, id, &input).await {
        Ok(r) => {
            let mut to = format!("/ui/outbound/batches/{id}?done=handed_over&dispatched={}", r.dispatched);
            if !r.left_behind.is_empty() {
                to.push_str(&format!("&left={}", enc(&r.left_behind.join(", "))));
            }
            Ok(see_other(&to))
        }
        Err(e) if shown_on_page(&e) => {
            let status = crate::problem::status_for(e.code());
            batch_page(&s, &u, id, Vec::new(), Some((error_line(u.t, &e), status))).await
        }
        Err(e) => Err(u.fail(e)),
    }
}
