//! Two-stage intake, second stage: the exception queue (items whose recipient is missing,
//! ambiguous or unreadable) and enriching the details of items registered from a scan alone.
//! Every change writes the item, closes the exception and appends its custody event in one
//! transaction.

use crate::items::SenderInput;
use crate::{App, AppError, AppResult, Principal, RequestCtx};
use chrono::Utc;
use mailroom_domain::auth::{Permission, require};
use mailroom_domain::custody::{EventDraft, storage_time};
use mailroom_domain::exception::{ExceptionStatus, Resolution};
use mailroom_domain::ids::*;
use mailroom_domain::item::*;
use mailroom_domain::{DomainError, ErrorCode, text};
use mailroom_store::{ExceptionClose, Item, ItemAmend, ItemException, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// A recipient from the directory: exactly one of `person_id` and `department_id`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientRef {
    pub person_id: Option<PersonId>,
    pub department_id: Option<DepartmentId>,
}

/// How to resolve an exception.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    /// `assign_recipient` (give `recipient`) or `return_to_sender` (the item goes back; not for
    /// confidential items, which are returned with their seal checked through the item's
    /// `return_to_sender` action).
    pub resolution: String,
    pub recipient: Option<RecipientRef>,
    /// Why, or how the recipient was found (up to 500 characters).
    pub note: Option<String>,
    /// If given, the resolution is refused when the item changed since this version was read.
    pub expected_version: Option<i64>,
}

/// New details for an item; fields left out stay as they are, an empty string clears a text.
/// Saving clears "details pending" unless `details_pending` says otherwise.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemDetailsInput {
    /// The version the changes were made on (optimistic concurrency): 409 `conflict` when the
    /// item changed since.
    pub expected_version: i64,
    /// letter, document, parcel, package, periodical, pallet, storage_media
    pub kind: Option<String>,
    pub category: Option<String>,
    /// normal, high, urgent
    pub priority: Option<String>,
    pub carrier: Option<String>,
    pub sender: Option<SenderInput>,
    pub notes: Option<String>,
    /// Sets the recipient, which also resolves the item's open exception.
    pub recipient: Option<RecipientRef>,
    pub details_pending: Option<bool>,
}

/// An exception and the item as it is after resolving it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Resolved {
    pub exception: ItemException,
    pub item: Item,
}

/// A page of the exception queue.
#[derive(Debug, Clone)]
pub struct ExceptionPage {
    pub items: Vec<ItemException>,
    pub next_cursor: Option<String>,
}

fn stale() -> AppError {
    AppError::new(ErrorCode::Conflict, "the item was changed by someone else since you loaded it; reload and try again")
}

/// `Some(new)` replaces, `Some("")` clears, `None` keeps.
fn replace(field: &str, old: &Option<String>, new: Option<&str>, max: usize) -> Result<Option<String>, DomainError> {
    match new {
        None => Ok(old.clone()),
        Some(v) => text::optional(field, Some(v), max),
    }
}

impl App {
    /// The exception queue: open (default) or resolved exceptions, oldest first.
    pub async fn list_exceptions(
        &self,
        p: &Principal,
        status: Option<&str>,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> AppResult<ExceptionPage> {
        require(p.role, Permission::RegisterItems)?;
        let status = match status.map(str::trim) {
            None | Some("") => ExceptionStatus::Open,
            Some(s) => ExceptionStatus::parse_field("status", s)?,
        };
        let limit = limit.unwrap_or(50).clamp(1, 200);
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                uuid::Uuid::try_parse(c)
                    .map(ExceptionId)
                    .map_err(|_| DomainError::invalid("cursor", "cursor is not valid"))?,
            ),
        };
        let mut items = self.store.list_exceptions(p.tenant_id, status, after, limit + 1).await?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|x| x.id.0.simple().to_string())
        } else {
            None
        };
        Ok(ExceptionPage { items, next_cursor })
    }

    /// One exception.
    pub async fn exception(&self, p: &Principal, id: ExceptionId) -> AppResult<ItemException> {
        require(p.role, Permission::RegisterItems)?;
        self.store.exception(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("exception"))
    }

    /// The item's open exception, for staff.
    pub async fn open_exception_of_item(&self, p: &Principal, item: ItemId) -> AppResult<Option<ItemException>> {
        require(p.role, Permission::RegisterItems)?;
        Ok(self.store.open_exception_of_item(p.tenant_id, item).await?)
    }

    /// An item to change: it exists, the caller is cleared for it and may act at its site.
    async fn item_to_change(&self, p: &Principal, id: ItemId) -> AppResult<Item> {
        require(p.role, Permission::HandleItems)?;
        let item = self.store.item(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("item"))?;
        let level = security_level(item.kind, item.confidentiality);
        if p.clearance < level {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                format!("changing this item needs clearance for security level {level}; ask a supervisor"),
            ));
        }
        self.require_site(p, &item, None).await?;
        Ok(item)
    }

    /// The recipient a reference names, with its display name.
    async fn recipient_of(&self, p: &Principal, r: &RecipientRef) -> AppResult<(Recipient, String)> {
        let (recipient, name, _) = self.directory_recipient(p, r.person_id, r.department_id).await?;
        Ok((recipient, name))
    }

    /// Resolves an open exception: sets the recipient, or sends the item back to the sender. The
    /// item change, the closing of the exception and the custody event are one transaction.
    pub async fn resolve_exception(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: ExceptionId,
        input: &ResolveInput,
    ) -> AppResult<Resolved> {
        require(p.role, Permission::HandleItems)?;
        let x = self.store.exception(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("exception"))?;
        let resolution = match Resolution::parse(&input.resolution) {
            Some(r @ (Resolution::AssignRecipient | Resolution::ReturnToSender)) => r,
            _ => {
                return Err(DomainError::invalid(
                    "resolution",
                    "resolution must be one of: assign_recipient, return_to_sender",
                )
                .into());
            }
        };
        let note = text::optional("note", input.note.as_deref(), 500)?;
        if x.status != ExceptionStatus::Open {
            return Err(AppError::new(ErrorCode::Conflict, "this exception was already resolved"));
        }
        let item = self.item_to_change(p, x.item_id).await?;
        let mut next = item.clone();
        let mut details = json!({
            "exception_id": x.id,
            "reason": x.reason,
            "resolution": resolution,
            "note": note,
        });
        match resolution {
            Resolution::AssignRecipient => {
                let Some(r) = &input.recipient else {
                    return Err(DomainError::invalid("recipient", "assign_recipient needs the recipient").into());
                };
                let (recipient, name) = self.recipient_of(p, r).await?;
                (next.recipient_person_id, next.recipient_department_id) = match recipient {
                    Recipient::Person(x) => (Some(x), None),
                    Recipient::Department(x) => (None, Some(x)),
                };
                next.recipient_name = name;
                details["recipient"] = json!(next.recipient_name);
                details["label_text"] = json!(x.label_text);
            }
            Resolution::ReturnToSender | Resolution::ItemLeft => {
                if input.recipient.is_some() {
                    return Err(DomainError::invalid("recipient", "return_to_sender takes no recipient").into());
                }
                if item.confidentiality != Confidentiality::Internal {
                    return Err(AppError::new(
                        ErrorCode::Conflict,
                        "a confidential item is returned through its return_to_sender action, with its seal checked",
                    ));
                }
                next.status = next_status(item.status, Action::ReturnToSender)?;
                next.location_id = None;
                details["from"] = json!(item.status);
                details["to"] = json!(next.status);
            }
        }
        let expected_version = input.expected_version.unwrap_or(x.item_version);
        let close = ExceptionClose {
            exception_id: Some(x.id),
            resolution,
            note,
            by: Some(p.user_id),
            at: storage_time(Utc::now()),
        };
        let draft = EventDraft {
            item_id: Some(item.id),
            kind: "exception_resolved".into(),
            location_id: item.location_id,
            details,
        };
        let amend = ItemAmend { item: next, expected_version, close: Some(close) };
        let item = match self.store.amend_item(amend, &p.actor(ctx), draft).await {
            Ok(i) => i,
            Err(StoreError::Stale) => return Err(stale()),
            Err(e) => return Err(e.into()),
        };
        let exception = self.store.exception(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("exception"))?;
        Ok(Resolved { exception, item: Self::present(p, item, false) })
    }

    /// Fills in or corrects an item's details (the second stage of two-stage intake), with a
    /// `details_updated` custody event. Setting the recipient resolves the item's open exception.
    pub async fn update_item_details(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: ItemId,
        input: &ItemDetailsInput,
    ) -> AppResult<Item> {
        let item = self.item_to_change(p, id).await?;
        let mut next = item.clone();
        let mut changed: Vec<&str> = Vec::new();
        if let Some(k) = input.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            next.kind = ItemKind::parse_field("kind", k)?;
        }
        if let Some(c) = input.category.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            next.category = Category::parse_field("category", c)?;
        }
        if let Some(pr) = input.priority.as_deref().map(str::trim).filter(|x| !x.is_empty()) {
            next.priority = Priority::parse_field("priority", pr)?;
        }
        next.carrier = replace("carrier", &item.carrier, input.carrier.as_deref(), 64)?.map(|c| c.to_lowercase());
        next.notes = replace("notes", &item.notes, input.notes.as_deref(), 2000)?;
        if let Some(s) = &input.sender {
            next.sender_name = replace("sender.name", &item.sender_name, s.name.as_deref(), 200)?;
            next.sender_org = replace("sender.organisation", &item.sender_org, s.organisation.as_deref(), 200)?;
            next.sender_address = replace("sender.address", &item.sender_address, s.address.as_deref(), 1000)?;
            next.sender_country = match replace("sender.country", &item.sender_country, s.country.as_deref(), 2)? {
                Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => Some(c.to_ascii_uppercase()),
                Some(_) => {
                    return Err(
                        DomainError::invalid("sender.country", "sender.country must be a two-letter ISO code").into()
                    );
                }
                None => None,
            };
        }
        if security_level(next.kind, next.confidentiality) > p.clearance {
            return Err(AppError::new(ErrorCode::Forbidden, "this kind of item needs a clearance you do not have"));
        }
        let mut details = json!({});
        if let Some(r) = &input.recipient {
            let (recipient, name) = self.recipient_of(p, r).await?;
            (next.recipient_person_id, next.recipient_department_id) = match recipient {
                Recipient::Person(x) => (Some(x), None),
                Recipient::Department(x) => (None, Some(x)),
            };
            next.recipient_name = name;
            details["recipient"] = json!(next.recipient_name);
        }
        next.details_pending = input.details_pending.unwrap_or(false);
        // What changed, by field name: the values of sender and notes stay out of the log.
        let checks: [(&str, bool); 11] = [
            ("kind", next.kind != item.kind),
            ("category", next.category != item.category),
            ("priority", next.priority != item.priority),
            ("carrier", next.carrier != item.carrier),
            ("sender_name", next.sender_name != item.sender_name),
            ("sender_org", next.sender_org != item.sender_org),
            ("sender_address", next.sender_address != item.sender_address),
            ("sender_country", next.sender_country != item.sender_country),
            ("notes", next.notes != item.notes),
            (
                "recipient",
                (next.recipient_person_id, next.recipient_department_id)
                    != (item.recipient_person_id, item.recipient_department_id),
            ),
            ("details_pending", next.details_pending != item.details_pending),
        ];
        changed.extend(checks.iter().filter(|(_, c)| *c).map(|(f, _)| *f));
        details["changed"] = json!(changed);
        details["kind"] = json!(next.kind);
        details["priority"] = json!(next.priority);
        details["details_pending"] = json!(next.details_pending);
        let has_recipient = next.recipient_person_id.is_some() || next.recipient_department_id.is_some();
        let close = (input.recipient.is_some() && has_recipient).then(|| ExceptionClose {
            exception_id: None,
            resolution: Resolution::AssignRecipient,
            note: None,
            by: Some(p.user_id),
            at: storage_time(Utc::now()),
        });
        let draft = EventDraft {
            item_id: Some(item.id),
            kind: "details_updated".into(),
            location_id: item.location_id,
            details,
        };
        let amend = ItemAmend { item: next, expected_version: input.expected_version, close };
        match self.store.amend_item(amend, &p.actor(ctx), draft).await {
            Ok(i) => Ok(Self::present(p, i, false)),
            Err(StoreError::Stale) => Err(stale()),
            Err(e) => Err(e.into()),
        }
    }
}
