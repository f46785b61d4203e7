//! Item pages: intake, the list, an item with its timeline and actions, the handover, my mail.

use super::session::UiUser;
use super::view::{Chrome, FormData, Opt, Params, UiError, enc, error_line, filled, html, local_time, see_other};
use crate::AppState;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailroom_app::exceptions::ItemDetailsInput;
use mailroom_app::items::{ListQuery, SenderInput, TransitionInput, available_actions};
use mailroom_app::store::{HandoverRecord, Item, Location, Site};
use mailroom_app::{AppError, Principal};
use mailroom_domain::auth::Permission;
use mailroom_domain::custody::CustodyEvent;
use mailroom_domain::ids::{ItemId, LocationId};
use mailroom_domain::item::{
    Action, Category, Condition, Confidentiality, IdType, ItemKind, Priority, Status, allowed_actions,
};
use serde::Deserialize;
use serde_json::Value;

/// Items per page in the console's lists.
const PAGE_SIZE: i64 = 50;

/// Common carriers offered while typing (free text is accepted too).
const CARRIERS: &[&str] =
    &["sf-express", "ems", "jd", "zto", "yto", "sto", "yunda", "china-post", "dhl", "ups", "fedex"];

fn parse_item_id(u: &UiUser, raw: &str) -> Result<ItemId, UiError> {
    raw.parse().map_err(|_| u.fail(AppError::not_found("item")))
}

/// One row of an item table.
pub(crate) struct ItemRow {
    pub id: String,
    pub reference: String,
    pub tracking: String,
    pub recipient: String,
    pub sender: String,
    pub kind: String,
    pub status: &'static str,
    pub status_label: String,
    pub priority: &'static str,
    pub priority_label: String,
    pub created: String,
    pub place: String,
    /// Registered from a scan alone; details still to be filled in.
    pub pending: bool,
}

fn sender_of(i: &Item) -> String {
    match (&i.sender_name, &i.sender_org) {
        (Some(n), Some(o)) => format!("{n} · {o}"),
        (Some(n), None) => n.clone(),
        (None, Some(o)) => o.clone(),
        (None, None) => String::new(),
    }
}

fn location_label(l: &Location) -> String {
    if l.name == l.code { l.code.clone() } else { format!("{} {}", l.code, l.name) }
}

fn row(t: Tr, i: &Item, place: String) -> ItemRow {
    ItemRow {
        id: i.id.to_string(),
        reference: i.reference.clone(),
        tracking: i.tracking_number.clone().unwrap_or_default(),
        recipient: i.recipient_name.clone(),
        sender: sender_of(i),
        kind: t.kind(i.kind),
        status: i.status.as_str(),
        status_label: t.status(i.status),
        priority: i.priority.as_str(),
        priority_label: t.priority(i.priority),
        created: local_time(i.created_at),
        place,
        pending: i.details_pending,
    }
}

fn options<T: Copy + PartialEq>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: impl Fn(T) -> String,
    selected: Option<T>,
) -> Vec<Opt> {
    all.iter().map(|v| Opt::new(code(*v), label(*v), Some(*v) == selected)).collect()
}

// ---------------------------------------------------------------- intake

#[derive(Template)]
#[template(path = "intake.html")]
struct IntakePage {
    t: Tr,
    c: Chrome,
    kinds: Vec<Opt>,
    categories: Vec<Opt>,
    priorities: Vec<Opt>,
    confidentialities: Vec<Opt>,
    conditions: Vec<Opt>,
    carriers: Vec<Opt>,
}

pub(crate) async fn intake(u: UiUser) -> Result<Response, UiError> {
    u.require(Permission::RegisterItems)?;
    let t = u.t;
    let page = IntakePage {
        t,
        c: u.chrome("intake").with_scripts(t, &["label-photo.js", "intake.js"]),
        kinds: options(ItemKind::ALL, ItemKind::as_str, |v| t.kind(v), Some(ItemKind::Parcel)),
        // Left on "automatic", the classification rules decide these when the item is saved.
        categories: options(Category::ALL, Category::as_str, |v| t.category(v), None),
        priorities: options(Priority::ALL, Priority::as_str, |v| t.priority(v), None),
        confidentialities: options(Confidentiality::ALL, Confidentiality::as_str, |v| t.confidentiality(v), None),
        conditions: options(Condition::ALL, Condition::as_str, |v| t.condition(v), Some(Condition::Intact)),
        carriers: CARRIERS.iter().map(|c| Opt::new(*c, t.get(&format!("carrier.{c}")).to_string(), false)).collect(),
    };
    Ok(html(StatusCode::OK, &page))
}

// ---------------------------------------------------------------- list

#[derive(Deserialize)]
pub(crate) struct ListParams {
    q: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "items.html")]
struct ItemsPage {
    t: Tr,
    c: Chrome,
    q: String,
    statuses: Vec<Opt>,
    rows: Vec<ItemRow>,
    next: Option<String>,
    first: Option<String>,
    filtered: bool,
}

pub(crate) async fn list(
    State(s): State<AppState>,
    u: UiUser,
    Params(p): Params<ListParams>,
) -> Result<Response, UiError> {
    u.require(Permission::SearchItems)?;
    let t = u.t;
    let q = filled(&p.q).map(str::to_string);
    // The QR code of an arrival notice, scanned into the search box at the counter.
    let pickup_scan = q.as_deref().and_then(mailroom_app::notify::parse_pickup_qr).is_some();
    let status = filled(&p.status).and_then(Status::parse);
    let query = ListQuery {
        q: if pickup_scan { None } else { q.clone() },
        tracking: if pickup_scan { q.clone() } else { None },
        status: status.map(|s| s.as_str().to_string()),
        mine: false,
        cursor: filled(&p.cursor).map(str::to_string),
        limit: Some(PAGE_SIZE),
    };
    let page = s.app.list_items(&u.principal, &query).await.map_err(|e| u.fail(e))?;
    if pickup_scan && let [only] = page.items.as_slice() {
        return Ok(super::view::see_other(&format!("/ui/items/{}", only.id)));
    }
    let (_, locations) = s.app.places(&u.principal).await.map_err(|e| u.fail(e))?;
    let rows = page
        .items
        .iter()
        .map(|i| {
            let place = i
                .location_id
                .and_then(|l| locations.iter().find(|x| x.id == l))
                .map(location_label)
                .unwrap_or_default();
            row(t, i, place)
        })
        .collect();
    let mut base = String::from("/ui/items?");
    if let Some(q) = &q {
        base.push_str(&format!("q={}&", enc(q)));
    }
    if let Some(st) = status {
        base.push_str(&format!("status={}&", st.as_str()));
    }
    let next = page.next_cursor.map(|c| format!("{base}cursor={}", enc(&c)));
    let mut statuses = vec![Opt::new("", t.get("items.all_statuses"), status.is_none())];
    statuses.extend(options(Status::ALL, Status::as_str, |v| t.status(v), status));
    let view = ItemsPage {
        t,
        c: u.chrome("items"),
        q: q.clone().unwrap_or_default(),
        statuses,
        rows,
        next,
        first: filled(&p.cursor).map(|_| base.trim_end_matches(['&', '?']).to_string()),
        filtered: q.is_some() || status.is_some(),
    };
    Ok(html(StatusCode::OK, &view))
}

// ---------------------------------------------------------------- detail

/// A label and a value, for definition lists.
pub(crate) struct Field {
    pub label: String,
    pub value: String,
}

pub(super) struct EventView {
    pub at: String,
    pub kind: String,
    pub code: String,
    pub actor: String,
    pub source: String,
    pub lines: Vec<Field>,
}

struct ActionView {
    code: &'static str,
    label: String,
    /// `simple`, `location`, `note` or `handover`.
    form: &'static str,
}

struct HandoverView {
    action: String,
    taken_by: String,
    place: String,
    id: String,
    at: String,
    /// None when the signature was destroyed under a retention policy.
    signature: Option<String>,
    receipt: String,
}

/// A photo kept with the item.
struct PhotoView {
    src: String,
    alt: String,
}

/// A notice sent about the item.
struct NoticeView {
    at: String,
    kind: String,
    channel: String,
    target: String,
    subject: String,
    sent: bool,
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    t: Tr,
    c: Chrome,
    id: String,
    reference: String,
    status: &'static str,
    status_label: String,
    version: i64,
    fields: Vec<Field>,
    events: Vec<EventView>,
    handover: Option<HandoverView>,
    actions: Vec<ActionView>,
    locations: Vec<Opt>,
    flash: Option<String>,
    error: Option<String>,
    staff: bool,
    /// A sealed confidential item: every action asks for the seal number.
    sealed: bool,
    redacted: bool,
    photos: Vec<PhotoView>,
    /// How many photos are withheld from a caller without need to know.
    photos_withheld: usize,
    /// Why the rules classified and routed the item as they did.
    why: Option<WhyView>,
    /// Registered from a scan alone; details still to be filled in.
    details_pending: bool,
    /// The reason of the item's open exception, translated.
    exception: Option<String>,
    /// The details form (staff who may see and change everything about the item).
    edit: Option<EditView>,
    /// The notices sent about the item (staff; a recipient sees those sent to them).
    notices: Vec<NoticeView>,
    /// For the recipient while the item waits: the pickup code and its QR code (a data: URI).
    pickup: Option<(String, String)>,
}

struct FiredView {
    rule: String,
    reasons: Vec<String>,
    set: Vec<String>,
    skipped: Vec<String>,
}

struct WhyView {
    version: String,
    route: Option<String>,
    due: Option<String>,
    flags: String,
    fired: Vec<FiredView>,
}

fn why_view(t: Tr, x: &mailroom_app::rules::ItemExplanation) -> WhyView {
    let e = &x.explanation;
    let version = match e.rules_version {
        Some(v) => t.fmt("why.version", &[("version", &v.to_string())]),
        None => t.get("why.default_pack").to_string(),
    };
    let route = e.route.as_ref().map(|r| match (&r.name, &r.note) {
        (Some(name), _) => format!("{name} ({})", r.resolved.as_deref().unwrap_or(&r.target)),
        (None, Some(note)) => t.fmt("why.unresolved", &[("target", &r.target), ("note", note)]),
        (None, None) => r.target.clone(),
    });
    WhyView {
        version,
        route,
        due: e.due_by.map(local_time),
        flags: e.decision.flags.join(", "),
        fired: e
            .decision
            .fired
            .iter()
            .map(|f| FiredView {
                rule: f.rule.clone(),
                reasons: f.reasons.clone(),
                set: f.set.clone(),
                skipped: f.skipped.clone(),
            })
            .collect(),
    }
}

/// The details form of the item page.
struct EditView {
    kinds: Vec<Opt>,
    categories: Vec<Opt>,
    priorities: Vec<Opt>,
    carrier: String,
    sender_name: String,
    sender_org: String,
    notes: String,
}

pub(super) fn push(fields: &mut Vec<Field>, t: Tr, key: &str, value: Option<String>) {
    if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
        fields.push(Field { label: t.get(key).to_string(), value: v });
    }
}

fn item_fields(t: Tr, i: &Item, locations: &[Location], sites: &[Site]) -> Vec<Field> {
    let mut f = Vec::new();
    let loc = i.location_id.and_then(|l| locations.iter().find(|x| x.id == l));
    let site = i.site_id.or(loc.map(|l| l.site_id)).and_then(|s| sites.iter().find(|x| x.id == s));
    push(&mut f, t, "item.recipient", Some(i.recipient_name.clone()));
    push(&mut f, t, "item.tracking", i.tracking_number.clone());
    push(&mut f, t, "item.carrier", i.carrier.as_ref().map(|c| carrier_label(t, c)));
    push(&mut f, t, "item.kind", Some(t.kind(i.kind)));
    push(&mut f, t, "item.category", Some(t.category(i.category)));
    push(&mut f, t, "item.priority", Some(t.priority(i.priority)));
    push(&mut f, t, "item.confidentiality", Some(t.confidentiality(i.confidentiality)));
    push(&mut f, t, "item.condition", Some(t.condition(i.condition)));
    push(&mut f, t, "item.damage", i.damage_description.clone());
    push(&mut f, t, "item.sender_name", i.sender_name.clone());
    push(&mut f, t, "item.sender_org", i.sender_org.clone());
    push(&mut f, t, "item.sender_address", i.sender_address.clone());
    push(&mut f, t, "item.sender_country", i.sender_country.clone());
    // The seal number is not shown: whoever handles the item reads it off the bag, and every action checks it.
    push(&mut f, t, "item.location", loc.map(location_label));
    push(&mut f, t, "item.site", site.map(|s| s.name.clone()));
    push(&mut f, t, "item.notes", i.notes.clone());
    push(&mut f, t, "item.route", i.route.clone());
    push(&mut f, t, "item.due_by", i.due_by.map(local_time));
    push(&mut f, t, "item.created", Some(local_time(i.created_at)));
    push(&mut f, t, "item.updated", Some(local_time(i.updated_at)));
    f
}

pub(super) fn carrier_label(t: Tr, code: &str) -> String {
    let key = format!("carrier.{code}");
    if t.has(&key) { t.get(&key).to_string() } else { code.to_string() }
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

pub(super) fn event_view(t: Tr, e: &CustodyEvent, locations: &[Location], staff: bool) -> EventView {
    let d: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
    let mut lines = Vec::new();
    let status = |k: &str| str_of(&d, k).map(|s| Status::parse(&s).map(|st| t.status(st)).unwrap_or(s));
    if e.kind == "registered" {
        push(&mut lines, t, "item.recipient", str_of(&d, "recipient"));
        push(&mut lines, t, "item.tracking", str_of(&d, "tracking_number"));
        push(
            &mut lines,
            t,
            "item.kind",
            str_of(&d, "kind").map(|k| ItemKind::parse(&k).map(|x| t.kind(x)).unwrap_or(k)),
        );
        push(
            &mut lines,
            t,
            "item.priority",
            str_of(&d, "priority").map(|k| Priority::parse(&k).map(|x| t.priority(x)).unwrap_or(k)),
        );
        push(
            &mut lines,
            t,
            "item.condition",
            str_of(&d, "condition").map(|k| Condition::parse(&k).map(|x| t.condition(x)).unwrap_or(k)),
        );
        push(&mut lines, t, "item.damage", str_of(&d, "damage_description"));
    } else {
        if let (Some(from), Some(to)) = (status("from"), status("to"))
            && from != to
        {
            push(&mut lines, t, "timeline.status", Some(t.fmt("timeline.from_to", &[("from", &from), ("to", &to)])));
        }
        let loc = e
            .location_id
            .and_then(|l| locations.iter().find(|x| x.id == l))
            .map(location_label)
            .or_else(|| str_of(&d, "location"));
        push(&mut lines, t, "item.location", loc);
        push(&mut lines, t, "timeline.note", str_of(&d, "note"));
        push(&mut lines, t, "timeline.photo_sha256", str_of(&d, "sha256"));
        push(&mut lines, t, "item.recipient", str_of(&d, "recipient"));
        if let Some(changed) = d.get("changed").and_then(Value::as_array).filter(|c| !c.is_empty()) {
            let names: Vec<String> =
                changed.iter().filter_map(Value::as_str).map(|f| t.get(changed_field_key(f)).to_string()).collect();
            push(&mut lines, t, "timeline.changed", Some(names.join(", ")));
        }
        if let Some(h) = d.get("handover").filter(|h| h.is_object()) {
            push(&mut lines, t, "handover.taken_by", str_of(h, "taken_by"));
            push(&mut lines, t, "handover.place", str_of(h, "place"));
            let id = str_of(h, "id_type").map(|k| IdType::parse(&k).map(|x| t.id_type(x)).unwrap_or(k));
            let id = match (id, str_of(h, "id_last_digits")) {
                (Some(k), Some(d)) => Some(t.fmt("handover.id_ending", &[("type", &k), ("digits", &d)])),
                (k, _) => k,
            };
            push(&mut lines, t, "handover.id", id);
        }
    }
    EventView {
        at: local_time(e.at),
        kind: t.event(&e.kind),
        code: e.kind.clone(),
        actor: e.actor_name.clone(),
        source: if staff { e.source.clone() } else { String::new() },
        lines,
    }
}

/// The label of a field named in a `details_updated` event.
fn changed_field_key(field: &str) -> &'static str {
    match field {
        "kind" => "item.kind",
        "category" => "item.category",
        "priority" => "item.priority",
        "carrier" => "item.carrier",
        "sender_name" => "item.sender_name",
        "sender_org" => "item.sender_org",
        "sender_address" => "item.sender_address",
        "sender_country" => "item.sender_country",
        "notes" => "item.notes",
        "recipient" => "item.recipient",
        _ => "detail.details_pending",
    }
}

fn handover_view(t: Tr, id: &str, h: &HandoverRecord, shredded: bool) -> HandoverView {
    let kind = h.handover.id_type.map(|k| t.id_type(k));
    let id_text = match (kind, &h.handover.id_last_digits) {
        (Some(k), Some(d)) => t.fmt("handover.id_ending", &[("type", &k), ("digits", d)]),
        (Some(k), None) => k,
        (None, Some(d)) => d.clone(),
        (None, None) => String::new(),
    };
    let action = Action::parse(&h.action).map(|a| t.event(a.as_str())).unwrap_or_else(|| h.action.clone());
    HandoverView {
        action,
        taken_by: h.handover.taken_by.clone(),
        place: h.handover.place.clone().unwrap_or_default(),
        id: id_text,
        at: local_time(h.at),
        signature: (!shredded).then(|| format!("/api/v1/items/{id}/signature")),
        receipt: format!("/api/v1/items/{id}/receipt"),
    }
}

fn action_view(t: Tr, a: Action) -> ActionView {
    let form = match a {
        Action::Store | Action::Move => "location",
        Action::Open => "secure",
        Action::Reseal => "reseal",
        Action::Hold | Action::ReturnToSender | Action::Forward | Action::Dispose => "note",
        Action::Deliver | Action::PickUp => "handover",
        _ => "simple",
    };
    ActionView { code: a.as_str(), label: t.action(a), form }
}

struct DetailExtras {
    flash: Option<String>,
    error: Option<String>,
    status: StatusCode,
}

async fn detail_page(s: &AppState, u: &UiUser, id: ItemId, extras: DetailExtras) -> Result<Response, UiError> {
    let t = u.t;
    let p: &Principal = &u.principal;
    let item = s.app.view_item(p, &u.ctx, id, "details").await.map_err(|e| u.fail(e))?;
    let events = s.app.item_events(p, id).await.map_err(|e| u.fail(e))?;
    let handover = s.app.item_handover(p, id).await.map_err(|e| u.fail(e))?;
    let shredded = handover.is_some() && s.app.item_signature_shredded(p, id).await.map_err(|e| u.fail(e))?;
    let (sites, locations) = s.app.places(p).await.map_err(|e| u.fail(e))?;
    let staff = s.app.may_handle(p);
    let actions =
        if staff { available_actions(&item).into_iter().map(|a| action_view(t, a)).collect() } else { Vec::new() };
    let needed = mailroom_domain::item::security_level(item.kind, item.confidentiality);
    let eligible = locations
        .iter()
        .filter(|l| l.security_level >= needed && Some(l.id) != item.location_id)
        .filter(|l| mailroom_domain::auth::site_allowed(p.site_id, Some(l.site_id)))
        .map(|l| {
            let site = sites.iter().find(|x| x.id == l.site_id).map(|x| x.name.as_str()).unwrap_or("");
            Opt::new(l.id.to_string(), format!("{} · {site}", location_label(l)), false)
        })
        .collect();
    let why = if item.redacted { None } else { s.app.item_explanation(p, id).await.ok().map(|x| why_view(t, &x)) };
    let id_s = item.id.to_string();
    let photos = s.app.item_photos(p, id).await.map_err(|e| u.fail(e))?;
    let photos_withheld = if item.redacted { photos.len() } else { 0 };
    let photos = if item.redacted {
        Vec::new()
    } else {
        photos
            .iter()
            .map(|ph| PhotoView {
                src: format!("/api/v1/items/{id_s}/photos/{}", ph.id),
                alt: t.fmt("detail.photo_alt", &[("at", &local_time(ph.added_at))]),
            })
            .collect()
    };
    let chrome = u.chrome(if u.may(Permission::SearchItems) { "items" } else { "my" });
    let exception = if u.may(Permission::RegisterItems) {
        s.app.open_exception_of_item(p, id).await.map_err(|e| u.fail(e))?
    } else {
        None
    };
    let edit = (staff && !item.redacted && p.clearance >= needed).then(|| EditView {
        kinds: options(ItemKind::ALL, ItemKind::as_str, |v| t.kind(v), Some(item.kind)),
        categories: options(Category::ALL, Category::as_str, |v| t.category(v), Some(item.category)),
        priorities: options(Priority::ALL, Priority::as_str, |v| t.priority(v), Some(item.priority)),
        carrier: item.carrier.clone().unwrap_or_default(),
        sender_name: item.sender_name.clone().unwrap_or_default(),
        sender_org: item.sender_org.clone().unwrap_or_default(),
        notes: item.notes.clone().unwrap_or_default(),
    });
    let notices = s
        .app
        .item_notifications(p, id)
        .await
        .map_err(|e| u.fail(e))?
        .into_iter()
        .filter(|n| staff || (n.person_id.is_some() && n.person_id == p.person_id))
        .map(|n| NoticeView {
            at: local_time(n.created_at),
            kind: t.get(&format!("notice.kind.{}", n.kind)).to_string(),
            channel: t.get(&format!("notice.channel.{}", n.channel)).to_string(),
            target: n.target,
            subject: if item.redacted { String::new() } else { n.subject },
            sent: n.status == "sent",
        })
        .collect();
    let pickup = s.app.my_pickup(p, &item).await.map_err(|e| u.fail(e))?.map(|(code, png)| {
        use base64::Engine;
        (code, format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png)))
    });
    let page = ItemPage {
        t,
        notices,
        pickup,
        c: if staff { chrome.with_scripts(t, &["label-photo.js"]) } else { chrome },
        reference: item.reference.clone(),
        status: item.status.as_str(),
        status_label: t.status(item.status),
        version: item.version,
        fields: item_fields(t, &item, &locations, &sites),
        // Where an event came from (address, device) is for the mailroom and for auditors.
        events: events.iter().map(|e| event_view(t, e, &locations, u.may(Permission::ReadAllItems))).collect(),
        handover: handover.as_ref().map(|h| handover_view(t, &id_s, h, shredded)),
        actions,
        locations: eligible,
        flash: extras.flash,
        error: extras.error,
        staff,
        sealed: item.seal_number.is_some() && item.confidentiality != Confidentiality::Internal,
        redacted: item.redacted,
        photos,
        photos_withheld,
        why,
        details_pending: item.details_pending,
        exception: exception.map(|x| t.get(&format!("exception_reason.{}", x.reason.as_str())).to_string()),
        edit,
        id: id_s,
    };
    Ok(html(extras.status, &page))
}

#[derive(Deserialize)]
pub(crate) struct DetailParams {
    done: Option<String>,
    saved: Option<String>,
}

pub(crate) async fn detail(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    Params(q): Params<DetailParams>,
) -> Result<Response, UiError> {
    let id = parse_item_id(&u, &id)?;
    let flash = match filled(&q.saved) {
        Some(_) => Some(u.t.get("detail.details_saved").to_string()),
        None => filled(&q.done)
            .and_then(Action::parse)
            .map(|a| u.t.fmt("detail.done", &[("action", &u.t.event(a.as_str()))])),
    };
    detail_page(&s, &u, id, DetailExtras { flash, error: None, status: StatusCode::OK }).await
}

#[derive(Deserialize)]
pub(crate) struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    location_id: Option<String>,
    note: Option<String>,
    version: Option<String>,
    seal_number: Option<String>,
    new_seal_number: Option<String>,
    marking: Option<String>,
}

/// A lifecycle action posted from the item page.
pub(crate) async fn act(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(f): FormData<ActForm>,
) -> Result<Response, UiError> {
    u.require(Permission::HandleItems)?;
    u.check_csrf(&f.csrf)?;
    let id = parse_item_id(&u, &id)?;
    let action = Action::parse(&f.action);
    if let Some(a) = action.filter(|a| a.is_handover()) {
        return Ok(see_other(&format!("/ui/items/{id}/handover?action={}", a.as_str())));
    }
    let location_id = match filled(&f.location_id) {
        Some(l) => Some(
            l.parse::<LocationId>()
                .map_err(|_| u.fail(mailroom_domain::DomainError::invalid("location_id", "no such location")))?,
        ),
        None => None,
    };
    let input = TransitionInput {
        action: f.action.clone(),
        location_id,
        note: filled(&f.note).map(str::to_string),
        handover: None,
        signature: None,
        expected_version: filled(&f.version).and_then(|v| v.parse().ok()),
        seal_number: filled(&f.seal_number).map(str::to_string),
        new_seal_number: filled(&f.new_seal_number).map(str::to_string),
        marking: filled(&f.marking).map(str::to_string),
    };
    match s.app.transition(&u.principal, &u.ctx, id, &input).await {
        Ok(_) => Ok(see_other(&format!("/ui/items/{id}?done={}", enc(&f.action)))),
        Err(e @ (AppError::Internal(_) | AppError::Rows(_))) => Err(u.fail(e)),
        Err(e) if matches!(e.code(), mailroom_domain::ErrorCode::NotFound) => Err(u.fail(e)),
        Err(e) => {
            let status = crate::problem::status_for(e.code());
            let error = Some(error_line(u.t, &e));
            detail_page(&s, &u, id, DetailExtras { flash: None, error, status }).await
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct DetailsForm {
    #[serde(default)]
    csrf: String,
    version: Option<String>,
    kind: Option<String>,
    category: Option<String>,
    priority: Option<String>,
    carrier: Option<String>,
    sender_name: Option<String>,
    sender_org: Option<String>,
    notes: Option<String>,
}

/// `POST /ui/items/{id}/details`: the item page's details form (two-stage intake, second stage).
pub(crate) async fn save_details(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(f): FormData<DetailsForm>,
) -> Result<Response, UiError> {
    u.require(Permission::HandleItems)?;
    u.check_csrf(&f.csrf)?;
    let id = parse_item_id(&u, &id)?;
    // A form always sends every field: an emptied one clears the value.
    let text = |v: &Option<String>| Some(v.as_deref().unwrap_or("").trim().to_string());
    let version = filled(&f.version).and_then(|v| v.parse::<i64>().ok());
    let result = match version {
        None => Err(AppError::from(mailroom_domain::DomainError::invalid(
            "expected_version",
            "the form is incomplete; reload the page and try again",
        ))),
        Some(expected_version) => {
            let input = ItemDetailsInput {
                expected_version,
                kind: filled(&f.kind).map(str::to_string),
                category: filled(&f.category).map(str::to_string),
                priority: filled(&f.priority).map(str::to_string),
                carrier: text(&f.carrier),
                sender: Some(SenderInput {
                    name: text(&f.sender_name),
                    organisation: text(&f.sender_org),
                    ..Default::default()
                }),
                notes: text(&f.notes),
                recipient: None,
                details_pending: None,
            };
            s.app.update_item_details(&u.principal, &u.ctx, id, &input).await
        }
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/ui/items/{id}?saved=1"))),
        Err(e @ (AppError::Internal(_) | AppError::Rows(_))) => Err(u.fail(e)),
        Err(e) if matches!(e.code(), mailroom_domain::ErrorCode::NotFound) => Err(u.fail(e)),
        Err(e) => {
            let status = crate::problem::status_for(e.code());
            let error = Some(error_line(u.t, &e));
            detail_page(&s, &u, id, DetailExtras { flash: None, error, status }).await
        }
    }
}

// ---------------------------------------------------------------- handover

#[derive(Deserialize)]
pub(crate) struct HandoverParams {
    action: Option<String>,
}

#[derive(Template)]
#[template(path = "handover.html")]
struct HandoverPage {
    t: Tr,
    c: Chrome,
    id: String,
    reference: String,
    recipient: String,
    status_label: String,
    status: &'static str,
    action: &'static str,
    title: String,
    version: i64,
    taken_by: String,
    person_id: String,
    place: String,
    id_types: Vec<Opt>,
    sealed: bool,
}

pub(crate) async fn handover(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    Params(q): Params<HandoverParams>,
) -> Result<Response, UiError> {
    u.require(Permission::HandleItems)?;
    let t = u.t;
    let id = parse_item_id(&u, &id)?;
    let item = s.app.item(&u.principal, id).await.map_err(|e| u.fail(e))?;
    let wanted = filled(&q.action).and_then(Action::parse).filter(|a| a.is_handover());
    let allowed = allowed_actions(item.status);
    // Without an explicit choice, take the handover the item's status allows.
    let action = match wanted.or_else(|| allowed.iter().copied().find(|a| a.is_handover())) {
        Some(a) if allowed.contains(&a) => a,
        Some(a) => {
            return Err(u.fail(
                mailroom_domain::item::next_status(item.status, a)
                    .err()
                    .map(AppError::from)
                    .unwrap_or_else(AppError::forbidden),
            ));
        }
        None => {
            return Err(u.fail(
                mailroom_domain::item::next_status(item.status, Action::PickUp)
                    .err()
                    .map(AppError::from)
                    .unwrap_or_else(AppError::forbidden),
            ));
        }
    };
    let (taken_by, person_id) = match item.recipient_person_id {
        Some(pid) => {
            let name =
                s.app.person(&u.principal, pid).await.map(|p| p.name).unwrap_or_else(|_| item.recipient_name.clone());
            (name, pid.to_string())
        }
        None => (String::new(), String::new()),
    };
    let place = match action {
        Action::PickUp => {
            let locations = s.app.list_locations(&u.principal).await.map_err(|e| u.fail(e))?;
            let sites = s.app.list_sites(&u.principal).await.map_err(|e| u.fail(e))?;
            let loc = item.location_id.and_then(|l| locations.iter().find(|x| x.id == l));
            let site = item.site_id.or(loc.map(|l| l.site_id)).and_then(|sid| sites.iter().find(|x| x.id == sid));
            site.map(|s| s.name.clone()).unwrap_or_default()
        }
        _ => String::new(),
    };
    let mut id_types = vec![Opt::new("", t.get("handover.id_none"), true)];
    id_types.extend(options(IdType::ALL, IdType::as_str, |v| t.id_type(v), None));
    let page = HandoverPage {
        t,
        c: u.chrome("items").with_scripts(t, &["handover.js"]),
        id: item.id.to_string(),
        reference: item.reference.clone(),
        recipient: item.recipient_name.clone(),
        status_label: t.status(item.status),
        status: item.status.as_str(),
        action: action.as_str(),
        title: t.action(action),
        version: item.version,
        taken_by,
        person_id,
        place,
        id_types,
        sealed: item.seal_number.is_some() && item.confidentiality != Confidentiality::Internal,
    };
    Ok(html(StatusCode::OK, &page))
}

// ---------------------------------------------------------------- my mail

#[derive(Template)]
#[template(path = "my.html")]
struct MyPage {
    t: Tr,
    c: Chrome,
    linked: bool,
    waiting: Option<String>,
    rows: Vec<ItemRow>,
    next: Option<String>,
    paged: bool,
}

#[derive(Deserialize)]
pub(crate) struct MyParams {
    cursor: Option<String>,
}

/// Where the employee finds an item, by its status.
fn whereabouts(t: Tr, i: &Item, locations: &[Location], sites: &[Site]) -> String {
    let loc = i.location_id.and_then(|l| locations.iter().find(|x| x.id == l));
    let site = i.site_id.or(loc.map(|l| l.site_id)).and_then(|s| sites.iter().find(|x| x.id == s));
    let site_text = site.map(|s| match &s.address {
        Some(a) => format!("{} ({a})", s.name),
        None => s.name.clone(),
    });
    match i.status {
        Status::ReadyForPickup => {
            let at = [loc.map(location_label), site_text].into_iter().flatten().collect::<Vec<_>>().join(" · ");
            if at.is_empty() {
                t.get("my.collect_mailroom").to_string()
            } else {
                t.fmt("my.collect_at", &[("place", &at)])
            }
        }
        Status::Received | Status::Stored | Status::Notified => t.get("my.being_sorted").to_string(),
        Status::Held => t.get("my.held").to_string(),
        Status::OutForDelivery => t.get("my.on_the_way").to_string(),
        Status::Delivered | Status::PickedUp => t.get("my.handed_over").to_string(),
        Status::ReturnedToSender
        | Status::Forwarded
        | Status::Disposed
        | Status::Requested
        | Status::AwaitingApproval
        | Status::Accepted
        | Status::Dispatched
        | Status::Cancelled => t.status(i.status),
    }
}

pub(crate) async fn my_mail(
    State(s): State<AppState>,
    u: UiUser,
    Params(q): Params<MyParams>,
) -> Result<Response, UiError> {
    u.require(Permission::ReadOwnItems)?;
    let t = u.t;
    let p = &u.principal;
    let query = ListQuery {
        mine: true,
        cursor: filled(&q.cursor).map(str::to_string),
        limit: Some(PAGE_SIZE),
        ..Default::default()
    };
    let page = s.app.list_items(p, &query).await.map_err(|e| u.fail(e))?;
    let (sites, locations) = s.app.places(p).await.map_err(|e| u.fail(e))?;
    let rows: Vec<ItemRow> = page.items.iter().map(|i| row(t, i, whereabouts(t, i, &locations, &sites))).collect();
    let view = MyPage {
        t,
        c: u.chrome("my"),
        linked: p.person_id.is_some(),
        waiting: Some(page.items.iter().filter(|i| i.status == Status::ReadyForPickup).count())
            .filter(|n| *n > 0)
            .map(|n| t.fmt("my.waiting", &[("n", &n.to_string())])),
        rows,
        next: page.next_cursor.map(|c| format!("/ui/my?cursor={}", enc(&c))),
        paged: filled(&q.cursor).is_some(),
    };
    Ok(html(StatusCode::OK, &view))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn every_carrier_and_action_form_is_labelled() {
        for lang in Lang::ALL {
            let t = Tr(*lang);
            for c in CARRIERS {
                assert!(t.has(&format!("carrier.{c}")), "carrier.{c}");
            }
            for a in Action::ALL {
                assert!(!action_view(t, *a).label.is_empty());
            }
        }
    }

    #[test]
    fn handover_actions_go_to_the_handover_page() {
        let t = Tr(Lang::En);
        assert_eq!(action_view(t, Action::PickUp).form, "handover");
        assert_eq!(action_view(t, Action::Store).form, "location");
        assert_eq!(action_view(t, Action::Hold).form, "note");
        assert_eq!(action_view(t, Action::Notify).form, "simple");
    }
}
