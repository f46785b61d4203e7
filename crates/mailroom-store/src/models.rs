//! Records as the store keeps them.

use chrono::{DateTime, Utc};
use mailroom_domain::auth::Role;
use mailroom_domain::ids::*;
use mailroom_domain::item::{Category, Condition, Confidentiality, Handover, ItemKind, Priority, Status};
use mailroom_domain::throttle::ThrottleState;
use mailroom_domain::token::TokenScope;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Site {
    pub id: SiteId,
    pub tenant_id: TenantId,
    pub name: String,
    pub address: Option<String>,
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Location {
    pub id: LocationId,
    pub tenant_id: TenantId,
    pub site_id: SiteId,
    pub code: String,
    pub name: String,
    /// shelf, locker, secure_room, cage, cold_storage …
    pub kind: String,
    /// 0 open, 1 internal, 2 confidential, 3 strictly confidential.
    pub security_level: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Department {
    pub id: DepartmentId,
    pub tenant_id: TenantId,
    /// Set for a team inside a department.
    pub parent_id: Option<DepartmentId>,
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    /// department or team
    pub kind: String,
    pub key_contact_id: Option<PersonId>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    pub id: PersonId,
    pub tenant_id: TenantId,
    /// Name in its native script.
    pub name: String,
    /// Latin or pinyin rendering.
    pub name_latin: Option<String>,
    pub aliases: Vec<String>,
    pub employee_no: Option<String>,
    pub department_id: Option<DepartmentId>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub active: bool,
    /// Forwarding instruction for people who left.
    pub forwarding: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub login: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub role: Role,
    pub person_id: Option<PersonId>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// An API token. The secret itself is never stored, only its SHA-256.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: TokenId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    #[serde(skip)]
    pub token_hash: String,
    /// What the token is for, e.g. `scanner 2F`.
    pub name: String,
    /// A narrower role than the user's, if set.
    pub role: Option<Role>,
    pub scope: TokenScope,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct WebSession {
    pub id_hash: String,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub csrf_token: String,
    pub lang: String,
    pub expires_at: DateTime<Utc>,
    /// The last request made with the session (updated at most once a minute).
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// What failed logins are counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ThrottleKind {
    /// An organisation slug and login, as typed (whether or not they exist).
    Account,
    /// The address the attempts came from.
    Address,
}

impl ThrottleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ThrottleKind::Account => "account",
            ThrottleKind::Address => "address",
        }
    }
}

/// One login throttle counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThrottleKey {
    pub kind: ThrottleKind,
    /// The organisation slug for accounts; empty for addresses.
    pub tenant: String,
    /// The login, or the address.
    pub subject: String,
}

/// A counter and its state.
#[derive(Debug, Clone)]
pub struct ThrottleEntry {
    pub key: ThrottleKey,
    pub state: ThrottleState,
}

#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: AttachmentId,
    pub tenant_id: TenantId,
    pub sha256: String,
    pub media_type: String,
    pub data: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    pub id: ItemId,
    pub tenant_id: TenantId,
    pub site_id: Option<SiteId>,
    pub reference: String,
    pub kind: ItemKind,
    pub category: Category,
    pub priority: Priority,
    pub confidentiality: Confidentiality,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub sender_name: Option<String>,
    pub sender_org: Option<String>,
    pub sender_address: Option<String>,
    pub sender_country: Option<String>,
    pub recipient_person_id: Option<PersonId>,
    pub recipient_department_id: Option<DepartmentId>,
    /// The recipient's display name at registration.
    pub recipient_name: String,
    pub condition: Condition,
    pub damage_description: Option<String>,
    pub notes: Option<String>,
    pub seal_number: Option<String>,
    pub status: Status,
    pub location_id: Option<LocationId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped on every change; used for optimistic concurrency.
    pub version: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandoverRecord {
    pub item_id: ItemId,
    pub action: String,
    #[serde(flatten)]
    pub handover: Handover,
    pub signature_id: AttachmentId,
    pub at: DateTime<Utc>,
    pub staff_user_id: Option<UserId>,
}

/// Filter for item listings. All fields narrow the result.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub status: Option<Status>,
    /// Free text over sender, recipient, tracking number, reference and notes.
    pub q: Option<String>,
    pub tracking_number: Option<String>,
    pub reference: Option<String>,
    /// Items for this person or (when set) this department: an employee's "my mail".
    pub mine: Option<(PersonId, Option<DepartmentId>)>,
    /// Ids strictly below this one (cursor pagination, newest first).
    pub before: Option<ItemId>,
    pub limit: i64,
}

/// A new item ready to be written, with what makes its creation idempotent.
#[derive(Debug, Clone)]
pub struct ItemInsert {
    pub item: Item,
    pub idempotency: Option<(String, String)>,
}

/// The outcome of registering: the item, and whether this call created it.
#[derive(Debug, Clone)]
pub struct Registered {
    pub item: Item,
    pub created: bool,
}

/// A state change to apply to an item.
#[derive(Debug, Clone)]
pub struct ItemChange {
    pub expected_version: i64,
    pub status: Status,
    pub location_id: Option<LocationId>,
    pub handover: Option<(HandoverRecord, Attachment)>,
}
