//! Inbound items: registration, lifecycle transitions with handovers, tracking and search.

use crate::{App, AppError, AppResult, Principal, RequestCtx, random_bytes, sha256_hex};
use base64::Engine;
use chrono::Utc;
use mailroom_domain::auth::{Permission, Role, allowed, require};
use mailroom_domain::custody::{CustodyEvent, EventDraft, storage_time};
use mailroom_domain::ids::*;
use mailroom_domain::item::*;
use mailroom_domain::{DomainError, ErrorCode, reference};
use mailroom_store::{Attachment, HandoverRecord, Item, ItemChange, ItemFilter, ItemInsert, Registered, StoreError};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// Largest accepted signature image.
pub const MAX_SIGNATURE_BYTES: usize = 512 * 1024;

/// Exactly one of `person_id` and `department_id`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientInput {
    pub person_id: Option<PersonId>,
    pub department_id: Option<DepartmentId>,
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

/// A new inbound item. Only `recipient` is required; the rest default sensibly
/// (kind `parcel`, category `general`, priority `normal`, confidentiality `internal`, condition `intact`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterItemInput {
    pub tracking_number: Option<String>,
    pub recipient: RecipientInput,
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

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// store, notify, out_for_delivery, deliver, ready_for_pickup, pick_up, hold, release,
    /// return_to_sender, forward, move
    pub action: String,
    pub location_id: Option<LocationId>,
    pub note: Option<String>,
    pub handover: Option<HandoverInput>,
    pub signature: Option<SignatureInput>,
    /// If given, the change is refused when the item changed since this version was read.
    pub expected_version: Option<i64>,
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

/// Minimum location security level for a confidentiality level.
pub fn required_security_level(c: Confidentiality) -> i64 {
    match c {
        Confidentiality::Internal => 0,
        Confidentiality::Confidential => 2,
        Confidentiality::StrictlyConfidential => 3,
    }
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

fn encode_cursor(id: ItemId) -> String {
    id.0.simple().to_string()
}

fn decode_cursor(c: &str) -> Result<ItemId, DomainError> {
    uuid::Uuid::try_parse(c).map(ItemId).map_err(|_| DomainError::invalid("cursor", "cursor is not valid"))
}

impl App {
    fn can_see(&self, p: &Principal, item: &Item) -> bool {
        if allowed(p.role, Permission::ReadAllItems) {
            return true;
        }
        let own = p.person_id.is_some() && item.recipient_person_id == p.person_id;
        let dept = p.department_id.is_some() && item.recipient_department_id == p.department_id;
        own || dept
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
        let (recipient, recipient_name) = match (input.recipient.person_id, input.recipient.department_id) {
            (Some(pid), None) => {
                let person = self.store.person(p.tenant_id, pid).await?.ok_or_else(|| {
                    AppError::new(
                        ErrorCode::UnknownRecipient,
                        "recipient.person_id is not a person in this organisation",
                    )
                })?;
                let name = match &person.name_latin {
                    Some(l) if l != &person.name => format!("{} ({l})", person.name),
                    _ => person.name.clone(),
                };
                (Recipient::Person(pid), name)
            }
            (None, Some(did)) => {
                let d = self.store.department(p.tenant_id, did).await?.ok_or_else(|| {
                    AppError::new(
                        ErrorCode::UnknownRecipient,
                        "recipient.department_id is not a department in this organisation",
                    )
                })?;
                let name = match &d.name_en {
                    Some(en) if en != &d.name => format!("{} ({en})", d.name),
                    _ => d.name.clone(),
                };
                (Recipient::Department(did), name)
            }
            _ => {
                return Err(DomainError::invalid(
                    "recipient",
                    "give exactly one of recipient.person_id and recipient.department_id",
                )
                .into());
            }
        };
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
        let new = NewItem::validate(&raw, recipient)?;
        if let Some(site) = input.site_id
            && !self.store.list_sites(p.tenant_id).await?.iter().any(|s| s.id == site)
        {
            return Err(DomainError::invalid("site_id", "no such site in this organisation").into());
        }
        let actor = p.actor(ctx);
        for _ in 0..4 {
            let now = storage_time(Utc::now());
            let bits = u64::from_le_bytes(random_bytes::<8>()?) & ((1 << 40) - 1);
            let (rp, rd) = match new.recipient {
                Recipient::Person(x) => (Some(x), None),
                Recipient::Department(x) => (None, Some(x)),
            };
            let item = Item {
                id: ItemId::new(),
                tenant_id: p.tenant_id,
                site_id: input.site_id,
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
                }),
            };
            let ins = ItemInsert { item, idempotency: idempotency.clone() };
            match self.store.register_item(ins, &actor, draft).await {
                Ok(r) => return Ok(r),
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
        let location = match t.location {
            Some(lid) => {
                let loc = self
                    .store
                    .location(p.tenant_id, lid)
                    .await?
                    .ok_or_else(|| DomainError::invalid("location_id", "no such location in this organisation"))?;
                let needed = required_security_level(item.confidentiality);
                if loc.security_level < needed {
                    return Err(AppError::new(
                        ErrorCode::Forbidden,
                        format!(
                            "a {} item needs a location of security level {needed} or higher",
                            item.confidentiality
                        ),
                    ));
                }
                Some(loc)
            }
            None => None,
        };
        let location_id = match (action, &location) {
            (_, Some(l)) => Some(l.id),
            // Leaving the mailroom clears the shelf; everything else keeps it.
            (
                Action::OutForDelivery | Action::Deliver | Action::PickUp | Action::ReturnToSender | Action::Forward,
                None,
            ) => None,
            (_, None) => item.location_id,
        };
        let now = storage_time(Utc::now());
        let handover = match (&t.handover, &input.signature) {
            (Some(h), Some(sig)) => {
                let (bytes, mime) = decode_signature(sig)?;
                let att = Attachment {
                    id: AttachmentId::new(),
                    tenant_id: p.tenant_id,
                    sha256: sha256_hex(&bytes),
                    media_type: mime.to_string(),
                    data: bytes,
                    created_at: now,
                };
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
            "handover": handover.as_ref().map(|(h, a)| json!({
                "taken_by": h.handover.taken_by,
                "taken_by_person_id": h.handover.taken_by_person,
                "place": h.handover.place,
                "id_type": h.handover.id_type,
                "id_last_digits": h.handover.id_last_digits,
                "signature_sha256": a.sha256,
            })),
        });
        let draft = EventDraft { item_id: Some(id), kind: action.as_str().to_string(), location_id, details };
        let change = ItemChange {
            expected_version: input.expected_version.unwrap_or(item.version),
            status: to,
            location_id,
            handover,
        };
        match self.store.change_item(p.tenant_id, id, change, &p.actor(ctx), draft).await {
            Ok(i) => Ok(i),
            Err(StoreError::Stale) => Err(AppError::new(
                ErrorCode::Conflict,
                "the item was changed by someone else since you loaded it; reload and try again",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// One item, if the caller may see it (others get "not found", never "forbidden").
    pub async fn item(&self, p: &Principal, id: ItemId) -> AppResult<Item> {
        let item = self.store.item(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("item"))?;
        if !self.can_see(p, &item) {
            return Err(AppError::not_found("item"));
        }
        Ok(item)
    }

    /// The item's custody timeline.
    pub async fn item_events(&self, p: &Principal, id: ItemId) -> AppResult<Vec<CustodyEvent>> {
        self.item(p, id).await?;
        Ok(self.store.item_events(p.tenant_id, id).await?)
    }

    pub async fn item_handover(&self, p: &Principal, id: ItemId) -> AppResult<Option<HandoverRecord>> {
        self.item(p, id).await?;
        Ok(self.store.handover(p.tenant_id, id).await?)
    }

    /// The signature image of an item's handover.
    pub async fn item_signature(&self, p: &Principal, id: ItemId) -> AppResult<Attachment> {
        let h = self.item_handover(p, id).await?.ok_or_else(|| AppError::not_found("signature"))?;
        self.store.attachment(p.tenant_id, h.signature_id).await?.ok_or_else(|| AppError::not_found("signature"))
    }

    /// Lists items newest first. Employees only ever see their own and their department's mail.
    pub async fn list_items(&self, p: &Principal, q: &ListQuery) -> AppResult<ItemPage> {
        let limit = q.limit.unwrap_or(50).clamp(1, 200);
        let all = allowed(p.role, Permission::ReadAllItems);
        if !all && !allowed(p.role, Permission::ReadOwnItems) {
            return Err(AppError::forbidden());
        }
        let mine = if q.mine || !all {
            match p.person_id {
                Some(pid) => Some((pid, p.department_id)),
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
            before: q.cursor.as_deref().filter(|c| !c.is_empty()).map(decode_cursor).transpose()?,
            limit: limit + 1,
            ..Default::default()
        };
        if let Some(code) = q.tracking.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
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
