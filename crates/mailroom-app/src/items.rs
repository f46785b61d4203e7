//! Inbound items: registration, lifecycle transitions with handovers, tracking and search.

use crate::rules::Explanation;
use crate::{App, AppError, AppResult, Principal, RequestCtx, random_bytes};
use base64::Engine;
use chrono::Utc;
use mailroom_domain::auth::{ItemFacts, Permission, Role, allowed, may_read_item, readable_categories, require};
use mailroom_domain::custody::{CustodyEvent, EventDraft, storage_time};
use mailroom_domain::exception::{ExceptionReason, ExceptionStatus, RecipientMatch, match_recipient};
use mailroom_domain::ids::*;
use mailroom_domain::item::*;
use mailroom_domain::rules::Facts;
use mailroom_domain::{DomainError, ErrorCode, reference};
use mailroom_store::{
    Attachment, Department, HandoverRecord, Item, ItemChange, ItemException, ItemFilter, ItemInsert, Person,
    RecipientCandidate, Registered, StoreError,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// Largest accepted signature image.
pub const MAX_SIGNATURE_BYTES: usize = 512 * 1024;

/// Who the item is for: one of `person_id` and `department_id`, or, when nobody looked the
/// recipient up yet, `text` (the name as written on the label), or nothing at all (scan only).
/// Without an id the item is registered as "details pending"; unless the text fits exactly one
/// person, it opens an exception (see `/api/v1/exceptions`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientInput {
    pub person_id: Option<PersonId>,
    pub department_id: Option<DepartmentId>,
    /// The recipient as written on the label (matched against the directory).
    pub text: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SenderInput {
    pub name: Option<String>,
    pub organisation: Option<String>,
    pub address: Option<String>,
    /// ISO 3166-1 alpha-2 code, e.g. `CN`.
    pub country: Option<String>,
}

/// A new inbound item: a recipient, or at least a tracking number (two-stage intake); the rest default sensibly
/// (kind `parcel`, category `general`, priority `normal`, confidentiality `internal`, condition `intact`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterItemInput {
    pub tracking_number: Option<String>,
    #[serde(default)]
    pub recipient: RecipientInput,
    /// Whether kind, category, sender and the like are still to be filled in. Defaults to true
    /// when no recipient id is given (scan-only intake), false otherwise.
    pub details_pending: Option<bool>,
    /// letter, document, parcel, package, periodical, pallet, storage_media
    pub kind: Option<String>,
    pub category: Option<String>,
    /// normal, high, urgent
    pub priority: Option<String>,
    /// internal, confidential, strictly_confidential
    pub confidentiality: Option<String>,
    pub carrier: Option<String>,
    pub sender: Option<SenderInput>,
    /// intact or damaged
    pub condition: Option<String>,
    pub damage_description: Option<String>,
    pub notes: Option<String>,
    pub seal_number: Option<String>,
    pub site_id: Option<SiteId>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverInput {
    /// Name of the person who physically took the item.
    pub taken_by: String,
    pub taken_by_person_id: Option<PersonId>,
    pub place: Option<String>,
    /// staff_card, national_id, passport, other
    pub id_type: Option<String>,
    pub id_last_digits: Option<String>,
}

/// A signature image: PNG or SVG, base64 (a `data:` URL from a signature pad is accepted too).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureInput {
    pub data: String,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// store, notify, out_for_delivery, deliver, ready_for_pickup, pick_up, hold, release,
    /// return_to_sender, forward, move, open, reseal
    pub action: String,
    pub location_id: Option<LocationId>,
    pub note: Option<String>,
    pub handover: Option<HandoverInput>,
    pub signature: Option<SignatureInput>,
    /// If given, the change is refused when the item changed since this version was read.
    pub expected_version: Option<i64>,
    /// The seal or bag number read off a sealed confidential item: checked on every action.
    pub seal_number: Option<String>,
    /// `reseal`: the number of the new seal or bag.
    pub new_seal_number: Option<String>,
    /// `reseal`: the classification marking written on the new bag, e.g. `机密 CONFIDENTIAL`.
    pub marking: Option<String>,
}

/// What an item listing asks for.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub q: Option<String>,
    pub tracking: Option<String>,
    pub status: Option<String>,
    pub mine: bool,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// A page of items and the cursor of the next page.
#[derive(Debug, Clone)]
pub struct ItemPage {
    pub items: Vec<Item>,
    pub next_cursor: Option<String>,
}

/// Checks magic bytes: only PNG and script-free SVG are accepted as signatures.
pub fn sniff_signature(bytes: &[u8]) -> Result<&'static str, DomainError> {
    if bytes.len() > MAX_SIGNATURE_BYTES {
        return Err(DomainError::new(ErrorCode::PayloadTooLarge, "the signature image is larger than 512 KiB"));
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok("image/png");
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let lower = text.trim_start().to_lowercase();
        let is_svg = lower.starts_with("<svg") || (lower.starts_with("<?xml") && lower.contains("<svg"));
        if is_svg {
            if ACTIVE_SVG.iter().any(|m| lower.contains(m)) || has_event_handler(&lower) {
                return Err(DomainError::new(
                    ErrorCode::UnsupportedMediaType,
                    "SVG signatures must not contain scripts",
                ));
            }
            return Ok("image/svg+xml");
        }
    }
    Err(DomainError::new(ErrorCode::UnsupportedMediaType, "a signature must be a PNG or SVG image"))
}

/// Markers of SVG that could run script, load other documents or hide either behind entities.
const ACTIVE_SVG: &[&str] = &[
    "<script",
    "javascript:",
    "vbscript:",
    "data:text/html",
    "<foreignobject",
    "<iframe",
    "<embed",
    "<object",
    "<!entity",
    "<!doctype",
    "&#",
];

/// An attribute named `on…` (`onload=`, `/onclick =`), however it is separated from the tag.
fn has_event_handler(lower: &str) -> bool {
    let b = lower.as_bytes();
    lower.match_indices("on").any(|(i, _)| {
        let starts_name = i > 0 && b.get(i - 1).is_some_and(|c| c.is_ascii_whitespace() || b"/\"'".contains(c));
        let name_end = b[i + 2..].iter().position(|c| !c.is_ascii_alphanumeric()).map_or(b.len(), |p| i + 2 + p);
        let after = b[name_end..].iter().find(|c| !c.is_ascii_whitespace());
        starts_name && name_end > i + 2 && after == Some(&b'=')
    })
}

/// Decodes a submitted signature (base64 or a `data:` URL) and checks what it is.
pub fn decode_signature(s: &SignatureInput) -> Result<(Vec<u8>, &'static str), DomainError> {
    let data = s.data.trim();
    let b64 = match data.strip_prefix("data:") {
        Some(rest) => rest.split_once(";base64,").map(|(_, b)| b).unwrap_or(""),
        None => data,
    };
    if b64.len() > MAX_SIGNATURE_BYTES * 4 / 3 + 8 {
        return Err(DomainError::new(ErrorCode::PayloadTooLarge, "the signature image is larger than 512 KiB"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| DomainError::invalid("signature", "signature.data must be base64 or a base64 data: URL"))?;
    let mime = sniff_signature(&bytes)?;
    Ok((bytes, mime))
}

/// The actions that make sense for an item now: the state machine's, with opening offered only
/// for a sealed confidential item and resealing only for an opened one.
pub fn available_actions(item: &Item) -> Vec<Action> {
    let under_seal = item.confidentiality != Confidentiality::Internal;
    allowed_actions(item.status)
        .into_iter()
        .filter(|a| match a {
            // Disposal follows a supervisor's approval of a request, never a menu.
            a if a.needs_approval() => false,
            Action::Open => under_seal && item.seal_number.is_some(),
            Action::Reseal => under_seal && item.seal_number.is_none(),
            a if a.leaves_mailroom() => !under_seal || item.seal_number.is_some(),
            _ => true,
        })
        .collect()
}

/// How a person is shown as an item's recipient: native name, with the Latin one if different.
pub(crate) fn person_display_name(person: &Person) -> String {
    match &person.name_latin {
        Some(l) if l != &person.name => format!("{} ({l})", person.name),
        _ => person.name.clone(),
    }
}

/// How a department is shown as an item's recipient.
pub(crate) fn department_display_name(d: &Department) -> String {
    match &d.name_en {
        Some(en) if en != &d.name => format!("{} ({en})", d.name),
        _ => d.name.clone(),
    }
}

pub(crate) fn candidate_of(person: &Person) -> RecipientCandidate {
    RecipientCandidate {
        person_id: person.id,
        name: person.name.clone(),
        name_latin: person.name_latin.clone(),
        department_id: person.department_id,
    }
}

/// Most candidates an ambiguous label keeps.
pub const MAX_CANDIDATES: usize = 10;

fn encode_cursor(id: ItemId) -> String {
    id.0.simple().to_string()
}

fn decode_cursor(c: &str) -> Result<ItemId, DomainError> {
    uuid::Uuid::try_parse(c).map(ItemId).map_err(|_| DomainError::invalid("cursor", "cursor is not valid"))
}

impl App {
    /// The caller is the item's recipient: the person, or a member of the recipient department.
    fn is_recipient(p: &Principal, item: &Item) -> bool {
        let own = p.person_id.is_some() && item.recipient_person_id == p.person_id;
        let dept = p.department_id.is_some() && item.recipient_department_id == p.department_id;
        own || dept
    }

    /// The caller holds a delegation in force that covers the item.
    async fn is_delegate(&self, p: &Principal, item: &Item) -> AppResult<bool> {
        let (Some(me), Some(grantor)) = (p.person_id, item.recipient_person_id) else { return Ok(false) };
        let now = Utc::now();
        Ok(self
            .store
            .delegations_of(p.tenant_id, me)
            .await?
            .iter()
            .any(|d| d.grantor_id == grantor && d.delegate_id == me && d.covers(item, now)))
    }

    /// Who may see an item at all: everyone allowed to read all items, the recipient, a delegate,
    /// and whoever took it at the handover (for their receipt).
    async fn can_see(&self, p: &Principal, item: &Item) -> AppResult<bool> {
        let facts = ItemFacts { addressed_to_caller: Self::is_recipient(p, item), category: item.category };
        if may_read_item(p.role, facts) {
            return Ok(true);
        }
        let Some(me) = p.person_id else { return Ok(false) };
        if self.is_delegate(p, item).await? {
            return Ok(true);
        }
        Ok(self.store.handover(p.tenant_id, item.id).await?.is_some_and(|h| h.handover.taken_by_person == Some(me)))
    }

    /// Whether the caller may see the sender and contents of a confidential item: the recipient,
    /// a delegate (not for strictly confidential items) and staff cleared for its level.
    fn need_to_know(p: &Principal, item: &Item, delegate: bool) -> bool {
        let level = security_level(item.kind, item.confidentiality);
        level == 0
            || Self::is_recipient(p, item)
            || (delegate && item.confidentiality != Confidentiality::StrictlyConfidential)
            || (allowed(p.role, Permission::HandleItems) && p.clearance >= level)
    }

    /// The item as this caller may see it: sender and contents withheld without need to know.
    pub(crate) fn present(p: &Principal, item: Item, delegate: bool) -> Item {
        if Self::need_to_know(p, &item, delegate) {
            return item;
        }
        Item {
            sender_name: None,
            sender_org: None,
            sender_address: None,
            sender_country: None,
            notes: None,
            damage_description: None,
            category: Category::General,
            redacted: true,
            ..item
        }
    }

    /// Looks a label's recipient text up in the directory (active people first): the people
    /// found (at most [`MAX_CANDIDATES`]) and what the text comes to.
    pub(crate) async fn match_label(
        &self,
        t: TenantId,
        label: Option<&str>,
    ) -> AppResult<(Vec<Person>, RecipientMatch)> {
        let Some(label) = label else { return Ok((Vec::new(), RecipientMatch::Missing)) };
        let mut found = self.store.search_people(t, label, None, 50).await?;
        if found.iter().any(|x| x.active) {
            found.retain(|x| x.active);
        }
        found.truncate(MAX_CANDIDATES);
        let names: Vec<Vec<&str>> = found
            .iter()
            .map(|x| {
                let mut n = vec![x.name.as_str()];
                n.extend(x.name_latin.as_deref());
                n.extend(x.aliases.iter().map(String::as_str));
                n
            })
            .collect();
        let outcome = match_recipient(Some(label), &names);
        Ok((found, outcome))
    }

    /// The person or department a recipient reference names (exactly one of the two), its display
    /// name, and the code and names of the department the classification rules look at (the
    /// person's department, or the department itself).
    pub(crate) async fn directory_recipient(
        &self,
        p: &Principal,
        person_id: Option<PersonId>,
        department_id: Option<DepartmentId>,
    ) -> AppResult<(Recipient, String, Option<(String, String)>)> {
        let names = |code: String, name: &str, en: Option<&str>| Some((code, crate::rules::dept_name(name, en)));
        match (person_id, department_id) {
            (Some(pid), None) => {
                // The person and their department's names in one query.
                let (person, department) =
                    self.store.person_with_department(p.tenant_id, pid).await?.ok_or_else(|| {
                        AppError::new(
                            ErrorCode::UnknownRecipient,
                            "recipient.person_id is not a person in this organisation",
                        )
                    })?;
                let department = department.and_then(|d| names(d.code, &d.name, d.name_en.as_deref()));
                Ok((Recipient::Person(pid), person_display_name(&person), department))
            }
            (None, Some(did)) => {
                let d = self.store.department(p.tenant_id, did).await?.ok_or_else(|| {
                    AppError::new(
                        ErrorCode::UnknownRecipient,
                        "recipient.department_id is not a department in this organisation",
                    )
                })?;
                let department = names(d.code.clone(), &d.name, d.name_en.as_deref());
                Ok((Recipient::Department(did), department_display_name(&d), department))
            }
            _ => Err(DomainError::invalid(
                "recipient",
                "give exactly one of recipient.person_id and recipient.department_id",
            )
            .into()),
        }
    }

    /// Registers an inbound item, or returns the item already registered with that tracking
    /// number (or that idempotency key).
    pub async fn register_item(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        input: &RegisterItemInput,
        idempotency: Option<(String, String)>,
    ) -> AppResult<Registered> {
        require(p.role, Permission::RegisterItems)?;
        let label = mailroom_domain::text::optional("recipient.text", input.recipient.text.as_deref(), 200)?;
        let mut recipient_dept = None;
        let (recipient, recipient_name, exception) = match (input.recipient.person_id, input.recipient.department_id) {
            (person, department) if person.is_some() || department.is_some() => {
                let (recipient, name, department) = self.directory_recipient(p, person, department).await?;
                recipient_dept = department;
                (Some(recipient), name, None)
            }
            _ => {
                // Two-stage intake: the label's text, if any, is looked up in the directory; an
                // item nobody can place yet waits in the exception queue.
                if label.is_none() && input.tracking_number.as_deref().is_none_or(|t| t.trim().is_empty()) {
                    return Err(DomainError::invalid(
                        "recipient",
                        "give a recipient (recipient.person_id, recipient.department_id or the recipient.text \
                         on the label), or at least the tracking_number of a scanned item",
                    )
                    .into());
                }
                let (found, outcome) = self.match_label(p.tenant_id, label.as_deref()).await?;
                match outcome {
                    RecipientMatch::One(i) => {
                        let person = &found[i];
                        if let Some(did) = person.department_id {
                            recipient_dept = self.department_for_intake(p.tenant_id, did).await?;
                        }
                        (Some(Recipient::Person(person.id)), person_display_name(person), None)
                    }
                    other => {
                        let reason = other.reason().unwrap_or(ExceptionReason::MissingRecipient);
                        let candidates = if other == RecipientMatch::Ambiguous {
                            found.iter().map(candidate_of).collect()
                        } else {
                            Vec::new()
                        };
                        (None, label.clone().unwrap_or_default(), Some((reason, candidates)))
                    }
                }
            }
        };
        // Scan-only intake leaves the details for later, unless the caller says otherwise.
        let details_pending = input
            .details_pending
            .unwrap_or(input.recipient.person_id.is_none() && input.recipient.department_id.is_none());
        if let Some((key, _)) = &idempotency
            && (key.is_empty() || key.len() > 200)
        {
            return Err(DomainError::invalid("Idempotency-Key", "Idempotency-Key must be 1-200 characters").into());
        }
        let sender = input.sender.clone().unwrap_or_default();
        let raw = NewItemInput {
            kind: input.kind.as_deref(),
            category: input.category.as_deref(),
            priority: input.priority.as_deref(),
            confidentiality: input.confidentiality.as_deref(),
            carrier: input.carrier.as_deref(),
            tracking_number: input.tracking_number.as_deref(),
            sender_name: sender.name.as_deref(),
            sender_org: sender.organisation.as_deref(),
            sender_address: sender.address.as_deref(),
            sender_country: sender.country.as_deref(),
            condition: input.condition.as_deref(),
            damage_description: input.damage_description.as_deref(),
            notes: input.notes.as_deref(),
            seal_number: input.seal_number.as_deref(),
        };
        let mut new = NewItem::validate(&raw, recipient)?;
        let explicit = |v: Option<&String>| v.is_some_and(|s| !s.trim().is_empty());
        let facts = Facts {
            kind: Some(new.kind),
            carrier: new.carrier.clone(),
            sender_name: new.sender_name.clone(),
            sender_org: new.sender_org.clone(),
            sender_address: new.sender_address.clone(),
            notes: new.notes.clone(),
            recipient: Some(recipient_name.clone()),
            recipient_department: recipient_dept.as_ref().map(|(code, _)| code.clone()),
            recipient_department_name: recipient_dept.as_ref().map(|(_, name)| name.clone()),
            category: explicit(input.category.as_ref()).then_some(new.category),
            priority: explicit(input.priority.as_ref()).then_some(new.priority),
            confidentiality: explicit(input.confidentiality.as_ref()).then_some(new.confidentiality),
        };
        let (rules_version, rules) = self.rules_for_intake(p.tenant_id).await?;
        let decision = rules.evaluate(&facts);
        new.category = decision.category.unwrap_or(new.category);
        new.priority = decision.priority.unwrap_or(new.priority);
        new.confidentiality = decision.confidentiality.unwrap_or(new.confidentiality);
        if new.confidentiality != Confidentiality::Internal && new.seal_number.is_none() {
            // A second scan of a registered item still answers with that item.
            if let Some(tn) = &new.tracking_number {
                let f = ItemFilter { tracking_number: Some(tn.clone()), limit: 1, ..Default::default() };
                if let Some(item) = self.store.list_items(p.tenant_id, &f).await?.into_iter().next() {
                    return Ok(Registered { item, created: false });
                }
            }
            return Err(crate::rules::seal_needed(&decision).into());
        }
        let recipient_facts =
            crate::rules::RecipientFacts { name: recipient_name.clone(), department: recipient_dept.clone() };
        let route = match &decision.route {
            Some(r) => Some(self.resolve_route(p.tenant_id, r, &recipient_facts).await?),
            None => None,
        };
        let site_id = self.intake_site(p, input.site_id)?;
        if let Some(site) = site_id
            && !self.store.list_sites(p.tenant_id).await?.iter().any(|s| s.id == site)
        {
            return Err(DomainError::invalid("site_id", "no such site in this organisation").into());
        }
        let actor = p.actor(ctx);
        // Due-by times are working time on the site's calendar (cached, see `followup`).
        let calendar = match decision.due_in_minutes {
            Some(_) => Some(self.calendar_for(p.tenant_id, site_id).await?),
            None => None,
        };
        for _ in 0..4 {
            let now = storage_time(self.clock.now());
            let due_by = decision.due_in_minutes.map(|m| {
                let working = calendar.as_ref().and_then(|c| c.due_by(now, m));
                storage_time(working.unwrap_or(now + chrono::Duration::minutes(m)))
            });
            let explanation = Explanation {
                rules_version,
                default_pack: rules_version.is_none(),
                decision: decision.clone(),
                route: route.clone(),
                due_by,
            };
            let bits = u64::from_le_bytes(random_bytes::<8>()?) & ((1 << 40) - 1);
            let (rp, rd) = match new.recipient {
                Some(Recipient::Person(x)) => (Some(x), None),
                Some(Recipient::Department(x)) => (None, Some(x)),
                None => (None, None),
            };
            let item = Item {
                id: ItemId::new(),
                tenant_id: p.tenant_id,
                site_id,
                reference: reference::from_bits(bits),
                kind: new.kind,
                category: new.category,
                priority: new.priority,
                confidentiality: new.confidentiality,
                carrier: new.carrier.clone(),
                tracking_number: new.tracking_number.clone(),
                sender_name: new.sender_name.clone(),
                sender_org: new.sender_org.clone(),
                sender_address: new.sender_address.clone(),
                sender_country: new.sender_country.clone(),
                recipient_person_id: rp,
                recipient_department_id: rd,
                recipient_name: recipient_name.clone(),
                condition: new.condition,
                damage_description: new.damage_description.clone(),
                notes: new.notes.clone(),
                seal_number: new.seal_number.clone(),
                status: Status::Received,
                location_id: None,
                created_at: now,
                updated_at: now,
                version: 1,
                route: route.as_ref().and_then(|r| r.resolved.clone()),
                due_by,
                details_pending,
                redacted: false,
            };
            let draft = EventDraft {
                item_id: Some(item.id),
                kind: "registered".into(),
                location_id: None,
                details: json!({
                    "reference": item.reference,
                    "tracking_number": item.tracking_number,
                    "kind": item.kind,
                    "priority": item.priority,
                    "confidentiality": item.confidentiality,
                    "condition": item.condition,
                    "damage_description": item.damage_description,
                    "recipient": item.recipient_name,
                    "status": item.status,
                    "category": item.category,
                    "route": item.route,
                    "due_by": item.due_by,
                    "rules": explanation,
                    "details_pending": item.details_pending,
                    "exception": exception.as_ref().map(|(reason, _)| reason),
                }),
            };
            let exception = exception.as_ref().map(|(reason, candidates)| ItemException {
                id: ExceptionId::new(),
                tenant_id: p.tenant_id,
                item_id: item.id,
                reason: *reason,
                label_text: label.clone(),
                candidates: candidates.clone(),
                status: ExceptionStatus::Open,
                opened_at: now,
                opened_by: Some(p.user_id),
                resolved_at: None,
                resolved_by: None,
                resolution: None,
                resolution_note: None,
                item_reference: item.reference.clone(),
                tracking_number: item.tracking_number.clone(),
                carrier: item.carrier.clone(),
                item_version: item.version,
            });
            let ins = ItemInsert { item, idempotency: idempotency.clone(), exception };
            match self.store.register_item(ins, &actor, draft).await {
                Ok(r) => {
                    self.notifier.wake.notify_one();
                    return Ok(r);
                }
                // A reference collision (1 in 2^40 per pair): draw another code.
                Err(StoreError::Duplicate(what)) if what.contains("reference") => continue,
                // Two nodes registered the same tracking number at once: return the winner.
                Err(StoreError::Duplicate(_)) if new.tracking_number.is_some() => {
                    let f = ItemFilter { tracking_number: new.tracking_number.clone(), limit: 1, ..Default::default() };
                    if let Some(item) = self.store.list_items(p.tenant_id, &f).await?.into_iter().next() {
                        return Ok(Registered { item, created: false });
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Internal("could not allocate a unique reference code".into()))
    }

    /// Applies a lifecycle action to an item.
    pub async fn transition(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: ItemId,
        input: &TransitionInput,
    ) -> AppResult<Item> {
        require(p.role, Permission::HandleItems)?;
        let item = self.store.item(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("item"))?;
        let action = Action::parse_field("action", &input.action)?;
        if action.needs_approval() {
            return Err(DomainError::invalid(
                "action",
                "an item is disposed of only when a supervisor approves a disposal request \
                 (POST /api/v1/items/{id}/disposal/approve)",
            )
            .into());
        }
        let handover = match &input.handover {
            None => None,
            Some(h) => {
                let id_type = match h.id_type.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(s) => Some(IdType::parse_field("handover.id_type", s)?),
                };
                if let Some(pid) = h.taken_by_person_id
                    && self.store.person(p.tenant_id, pid).await?.is_none()
                {
                    return Err(DomainError::invalid(
                        "handover.taken_by_person_id",
                        "no such person in this organisation",
                    )
                    .into());
                }
                Some(Handover {
                    taken_by: h.taken_by.clone(),
                    taken_by_person: h.taken_by_person_id,
                    place: h.place.clone(),
                    id_type,
                    id_last_digits: h.id_last_digits.clone(),
                })
            }
        };
        // The state machine first: "not now" is more useful than "fill in these fields".
        let to = next_status(item.status, action)?;
        let t = Transition::validate(
            action,
            input.location_id,
            input.note.as_deref(),
            handover,
            input.signature.is_some(),
        )?;
        let level = security_level(item.kind, item.confidentiality);
        if p.clearance < level {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                format!("handling this item needs clearance for security level {level}; ask a supervisor"),
            ));
        }
        let location = match t.location {
            Some(lid) => {
                let loc = self
                    .store
                    .location(p.tenant_id, lid)
                    .await?
                    .ok_or_else(|| DomainError::invalid("location_id", "no such location in this organisation"))?;
                // Opening and resealing happen only in a secure area.
                let needed = if action.moves_item() { level } else { level.max(2) };
                if loc.security_level < needed {
                    let what = if action.moves_item() { "be stored in" } else { "be opened or resealed in" };
                    return Err(AppError::new(
                        ErrorCode::Forbidden,
                        format!("this item may only {what} a location of security level {needed} or higher"),
                    ));
                }
                Some(loc)
            }
            None => None,
        };
        self.require_site(p, &item, location.as_ref()).await?;
        let (seal_change, seal_details) = self.check_seal(p, ctx, &item, action, input, location.as_ref()).await?;
        let delegation = match &t.handover {
            Some(h) => self.check_release(p, &item, h).await?,
            None => None,
        };
        let location_id = match (action, &location) {
            (a, Some(l)) if a.moves_item() => Some(l.id),
            // Leaving the mailroom clears the shelf; everything else keeps it.
            (a, _) if a.leaves_mailroom() => None,
            _ => item.location_id,
        };
        let event_location = location.as_ref().map(|l| l.id).or(location_id);
        let now = storage_time(Utc::now());
        let handover = match (&t.handover, &input.signature) {
            (Some(h), Some(sig)) => {
                let (bytes, mime) = decode_signature(sig)?;
                // Encrypted here, before the store's transaction.
                let att = self.seal_new_attachment(p.tenant_id, item.category, mime, bytes, now).await?;
                let rec = HandoverRecord {
                    item_id: id,
                    action: action.as_str().to_string(),
                    handover: h.clone(),
                    signature_id: att.id,
                    at: now,
                    staff_user_id: Some(p.user_id),
                };
                Some((rec, att))
            }
            _ => None,
        };
        let details = json!({
            "action": action,
            "from": item.status,
            "to": to,
            "note": t.note,
            "location": location.as_ref().map(|l| &l.code),
            "seal": seal_details,
            "delegation_id": delegation,
            "handover": handover.as_ref().map(|(h, a)| json!({
                "taken_by": h.handover.taken_by,
                "taken_by_person_id": h.handover.taken_by_person,
                "place": h.handover.place,
                "id_type": h.handover.id_type,
                "id_last_digits": h.handover.id_last_digits,
                "signature_sha256": a.sha256,
            })),
        });
        let draft =
            EventDraft { item_id: Some(id), kind: action.as_str().to_string(), location_id: event_location, details };
        let change = ItemChange {
            expected_version: input.expected_version.unwrap_or(item.version),
            status: to,
            location_id,
            handover,
            seal_number: seal_change,
        };
        match self.store.change_item(p.tenant_id, id, change, &p.actor(ctx), draft).await {
            Ok(i) => {
                self.notifier.wake.notify_one();
                Ok(i)
            }
            Err(StoreError::Stale) => Err(AppError::new(
                ErrorCode::Conflict,
                "the item was changed by someone else since you loaded it; reload and try again",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks the seal of a confidential item on every hop, and works out what opening or
    /// resealing changes. A wrong seal number is itself recorded in the custody log.
    async fn check_seal(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        item: &Item,
        action: Action,
        input: &TransitionInput,
        place: Option<&mailroom_store::Location>,
    ) -> AppResult<(Option<Option<String>>, serde_json::Value)> {
        let under_seal = item.confidentiality != Confidentiality::Internal;
        if !under_seal {
            if matches!(action, Action::Open | Action::Reseal) {
                return Err(DomainError::invalid(
                    "action",
                    "only confidential items are opened and resealed under seal",
                )
                .into());
            }
            return Ok((None, serde_json::Value::Null));
        }
        let presented = input.seal_number.as_deref().map(normalize_seal).filter(|s| !s.is_empty());
        match (&item.seal_number, action) {
            (None, Action::Reseal) => {
                let new_seal = input.new_seal_number.as_deref().map(normalize_seal).filter(|s| !s.is_empty());
                let Some(new_seal) = new_seal else {
                    return Err(DomainError::invalid(
                        "new_seal_number",
                        "resealing needs the number of the new seal or bag",
                    )
                    .into());
                };
                if new_seal.chars().count() > 64 {
                    return Err(DomainError::invalid(
                        "new_seal_number",
                        "new_seal_number is longer than 64 characters",
                    )
                    .into());
                }
                let marking = mailroom_domain::text::required("marking", input.marking.as_deref().unwrap_or(""), 100)
                    .map_err(|_| {
                    DomainError::invalid("marking", "resealing needs the classification marking written on the bag")
                })?;
                Ok((Some(Some(new_seal.clone())), json!({"resealed_with": new_seal, "marking": marking})))
            }
            (Some(_), Action::Reseal) => {
                Err(AppError::new(ErrorCode::Conflict, "the item is sealed; open it before resealing"))
            }
            (None, Action::Open) => Err(AppError::new(ErrorCode::Conflict, "the item is already open")),
            (None, a) if a.leaves_mailroom() => Err(AppError::new(
                ErrorCode::Conflict,
                "this confidential item was opened; reseal it in a secure area before it leaves",
            )),
            (None, _) => Ok((None, json!({"state": "open"}))),
            (Some(current), _) => {
                let Some(presented) = presented else {
                    return Err(DomainError::invalid(
                        "seal_number",
                        "scan or type the seal number of this confidential item",
                    )
                    .into());
                };
                if presented != normalize_seal(current) {
                    let draft = EventDraft {
                        item_id: Some(item.id),
                        kind: "seal_mismatch".into(),
                        location_id: place.map(|l| l.id).or(item.location_id),
                        details: json!({"attempted": action, "presented": presented}),
                    };
                    self.store.append_event(p.tenant_id, &p.actor(ctx), draft).await?;
                    return Err(AppError::new(
                        ErrorCode::SealMismatch,
                        "the seal number does not match this item's seal; the attempt was recorded — check the bag and call a supervisor",
                    ));
                }
                let opened = action == Action::Open;
                Ok((opened.then_some(None), json!({"checked": presented, "opened": opened})))
            }
        }
    }

    /// Who may take an item: confidential items only to the recipient in person (or, unless
    /// strictly confidential, a delegate), with an ID check; delegates always show ID.
    /// Returns the delegation used, if any.
    async fn check_release(&self, p: &Principal, item: &Item, h: &Handover) -> AppResult<Option<DelegationId>> {
        let confidential = item.confidentiality != Confidentiality::Internal;
        let id_checked = h.id_type.is_some() && h.id_last_digits.is_some();
        let Some(taker) = h.taken_by_person else {
            if confidential {
                return Err(DomainError::invalid(
                    "handover.taken_by_person_id",
                    "a confidential item is released only to a person in the directory: give taken_by_person_id",
                )
                .into());
            }
            return Ok(None);
        };
        let is_recipient = item.recipient_person_id == Some(taker)
            || match item.recipient_department_id {
                Some(d) => self.store.person(p.tenant_id, taker).await?.and_then(|x| x.department_id) == Some(d),
                None => false,
            };
        let delegation = match (is_recipient, item.recipient_person_id) {
            (false, Some(grantor)) => self
                .store
                .delegations_of(p.tenant_id, grantor)
                .await?
                .into_iter()
                .find(|d| d.delegate_id == taker && d.covers(item, Utc::now())),
            _ => None,
        };
        if confidential && !is_recipient {
            if item.confidentiality == Confidentiality::StrictlyConfidential {
                return Err(AppError::new(
                    ErrorCode::Forbidden,
                    "a strictly confidential item is released only to the recipient in person, never to a delegate",
                ));
            }
            if delegation.is_none() {
                return Err(AppError::new(
                    ErrorCode::Forbidden,
                    "a confidential item is released only to the recipient or a delegate they named",
                ));
            }
        }
        if (confidential || delegation.is_some()) && !id_checked {
            return Err(DomainError::invalid(
                "handover.id_type",
                "check the ID of the person collecting: give handover.id_type and handover.id_last_digits",
            )
            .into());
        }
        Ok(delegation.map(|d| d.id))
    }

    /// One item, if the caller may see it (others get "not found", never "forbidden"), redacted
    /// when the caller has no need to know its sender and contents.
    pub async fn item(&self, p: &Principal, id: ItemId) -> AppResult<Item> {
        let item = self.store.item(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("item"))?;
        if !self.can_see(p, &item).await? {
            return Err(AppError::not_found("item"));
        }
        let delegate = !Self::is_recipient(p, &item) && self.is_delegate(p, &item).await?;
        Ok(Self::present(p, item, delegate))
    }

    /// Like [`App::item`], and a look at a confidential item's details is itself recorded in the
    /// custody log (who, when, from where, what was looked at).
    pub async fn view_item(&self, p: &Principal, ctx: &RequestCtx, id: ItemId, what: &str) -> AppResult<Item> {
        let item = self.item(p, id).await?;
        if security_level(item.kind, item.confidentiality) > 0 {
            let draft = EventDraft {
                item_id: Some(item.id),
                kind: "viewed".into(),
                location_id: None,
                details: json!({"view": what, "redacted": item.redacted}),
            };
            self.store.append_event(p.tenant_id, &p.actor(ctx), draft).await?;
        }
        Ok(item)
    }

    /// The item's custody timeline. A caller without need to know the contents of a
    /// confidential item does not see its category or the rules' explanation (which quotes sender
    /// and notes) in the details of the `registered` event.
    pub async fn item_events(&self, p: &Principal, id: ItemId) -> AppResult<Vec<CustodyEvent>> {
        let item = self.item(p, id).await?;
        let mut events = self.store.item_events(p.tenant_id, id).await?;
        if item.redacted {
            for e in events.iter_mut().filter(|e| e.kind == "registered") {
                if let Ok(serde_json::Value::Object(mut d)) = serde_json::from_str::<serde_json::Value>(&e.details) {
                    d.remove("rules");
                    d.remove("category");
                    e.details = serde_json::Value::Object(d).to_string();
                }
            }
        }
        Ok(events)
    }

    pub async fn item_handover(&self, p: &Principal, id: ItemId) -> AppResult<Option<HandoverRecord>> {
        self.item(p, id).await?;
        Ok(self.store.handover(p.tenant_id, id).await?)
    }

    /// The signature image of an item's handover, decrypted. A signature destroyed under a
    /// retention policy answers [`ErrorCode::Shredded`].
    pub async fn item_signature(&self, p: &Principal, id: ItemId) -> AppResult<Attachment> {
        let h = self.item_handover(p, id).await?.ok_or_else(|| AppError::not_found("signature"))?;
        let a = self
            .store
            .attachment(p.tenant_id, h.signature_id)
            .await?
            .ok_or_else(|| AppError::not_found("signature"))?;
        self.open_attachment(a).await
    }

    /// Lists items newest first, limited to what the caller may read: their own and their
    /// department's mail, plus the categories their role opens (finance, customer service), or
    /// everything for roles that read all items.
    pub async fn list_items(&self, p: &Principal, q: &ListQuery) -> AppResult<ItemPage> {
        let limit = q.limit.unwrap_or(50).clamp(1, 200);
        let all = allowed(p.role, Permission::ReadAllItems);
        if !all && !allowed(p.role, Permission::ReadOwnItems) {
            return Err(AppError::forbidden());
        }
        let categories = if all || q.mine { Vec::new() } else { readable_categories(p.role) };
        let mine = if q.mine || !all {
            match p.person_id {
                Some(pid) => Some((pid, p.department_id)),
                None if !categories.is_empty() => None,
                None => return Ok(ItemPage { items: vec![], next_cursor: None }),
            }
        } else {
            None
        };
        let status = match q.status.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(Status::parse_field("status", s)?),
        };
        let mut f = ItemFilter {
            status,
            q: mailroom_domain::text::optional("q", q.q.as_deref(), 200)?,
            mine,
            categories,
            before: q.cursor.as_deref().filter(|c| !c.is_empty()).map(decode_cursor).transpose()?,
            limit: limit + 1,
            // Free text matches sender and notes of confidential items only for those who may read them.
            clearance: if mine.is_some() {
                3
            } else if allowed(p.role, Permission::HandleItems) {
                p.clearance
            } else {
                0
            },
            ..Default::default()
        };
        let mut pickup = None;
        if let Some((r, code)) = q.tracking.as_deref().and_then(crate::notify::parse_pickup_qr) {
            // The QR code of an arrival notice, shown at the counter: the item, if the pickup
            // code is its own.
            f.reference = Some(reference::normalize(&r).ok_or_else(|| {
                DomainError::invalid("tracking", "tracking must be a tracking number or a reference code")
            })?);
            pickup = Some(code);
        } else if let Some(code) = q.tracking.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            // A scan may be a carrier tracking number or one of our own reference labels.
            match reference::normalize(code) {
                Some(r) if code.contains('-') || normalize_tracking(code).is_err() => f.reference = Some(r),
                _ => {
                    f.tracking_number = Some(normalize_tracking(code).map_err(|_| {
                        DomainError::invalid("tracking", "tracking must be a tracking number or a reference code")
                    })?)
                }
            }
        }
        let mut items = self.store.list_items(p.tenant_id, &f).await?;
        if let Some(code) = pickup {
            let mut kept = Vec::with_capacity(items.len());
            for i in items {
                if self.store.existing_pickup_code(p.tenant_id, i.id).await?.as_deref() == Some(code.as_str()) {
                    kept.push(i);
                }
            }
            items = kept;
        }
        if items.is_empty()
            && let (Some(tn), None) = (&f.tracking_number, &f.reference)
            && let Some(r) = reference::normalize(tn)
        {
            // An 8-symbol scan without its dash may still be a reference code.
            f.tracking_number = None;
            f.reference = Some(r);
            items = self.store.list_items(p.tenant_id, &f).await?;
        }
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|i| encode_cursor(i.id))
        } else {
            None
        };
        let items = items.into_iter().map(|i| Self::present(p, i, false)).collect();
        Ok(ItemPage { items, next_cursor })
    }

    /// Whether the caller may handle items (for showing actions in the console).
    pub fn may_handle(&self, p: &Principal) -> bool {
        allowed(p.role, Permission::HandleItems)
    }

    pub fn is_staff(role: Role) -> bool {
        allowed(role, Permission::RegisterItems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff_signature(b"\x89PNG\r\n\x1a\nxxxx").ok(), Some("image/png"));
        assert_eq!(
            sniff_signature(b"<svg xmlns='http://www.w3.org/2000/svg'><path d='M0 0'/></svg>").ok(),
            Some("image/svg+xml")
        );
        assert!(sniff_signature(b"<svg><script>alert(1)</script></svg>").is_err());
        assert!(sniff_signature(b"<svg onload=\"x()\"></svg>").is_err());
        assert!(sniff_signature(b"<svg/onload=alert(1)>").is_err());
        assert!(sniff_signature(b"<svg><g\nonclick = 'x()'/></svg>").is_err());
        assert!(sniff_signature(b"<svg><a href='java&#x73;cript:x()'/></svg>").is_err());
        assert!(sniff_signature(b"<svg><foreignObject><iframe/></foreignObject></svg>").is_err());
        assert!(sniff_signature(b"<!DOCTYPE svg [<!ENTITY x 'y'>]><svg/>").is_err());
        assert_eq!(
            sniff_signature(b"<svg><path d='M0 0' stroke-width='2' data-content='one'/></svg>").ok(),
            Some("image/svg+xml")
        );
        assert!(sniff_signature(b"GIF89a").is_err());
        assert!(sniff_signature(&vec![0u8; MAX_SIGNATURE_BYTES + 1]).is_err());
    }

    #[test]
    fn signature_data_urls() {
        let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\nabc");
        let s = SignatureInput { data: format!("data:image/png;base64,{png}") };
        assert_eq!(decode_signature(&s).ok().map(|x| x.1), Some("image/png"));
        assert!(decode_signature(&SignatureInput { data: "!!".into() }).is_err());
    }

    #[test]
    fn cursor_roundtrip() {
        let id = ItemId::new();
        assert_eq!(decode_cursor(&encode_cursor(id)).ok(), Some(id));
        assert!(decode_cursor("zz").is_err());
    }
}
