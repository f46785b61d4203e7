//! Records as the store keeps them.

use chrono::{DateTime, Utc};
use mailroom_domain::auth::Role;
use mailroom_domain::exception::{ExceptionReason, ExceptionStatus, Resolution};
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

/// A department's code and names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentNames {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
}

/// A bearer token resolved with what a request needs about its user.
#[derive(Debug, Clone)]
pub struct TokenPrincipal {
    pub token: ApiToken,
    /// The token's user; `password_hash` is not loaded (always `None`).
    pub user: User,
    /// The department of the user's directory entry.
    pub department_id: Option<DepartmentId>,
    /// The user's clearance for confidential items.
    pub clearance: i64,
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

/// A photo, signature or scan. Stored encrypted: `data` is the ciphertext when `sealed` is set
/// (rows written before encryption at rest have no `sealed` until the server encrypts them).
#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: AttachmentId,
    pub tenant_id: TenantId,
    /// SHA-256 of the plain content, lowercase hex (the content address the custody log records).
    pub sha256: String,
    pub media_type: String,
    /// Size of the plain content in bytes.
    pub size: i64,
    pub data: Vec<u8>,
    pub sealed: Option<Sealed>,
    pub created_at: DateTime<Utc>,
}

/// How an attachment is encrypted: under which data key, with which nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub data_key_id: DataKeyId,
    pub nonce: Vec<u8>,
}

/// A data key: random, wrapped by a master key, for one organisation, retention category and
/// period. `wrapped` and `master_key_id` are erased when it is shredded.
#[derive(Debug, Clone)]
pub struct DataKey {
    pub id: DataKeyId,
    pub tenant_id: TenantId,
    pub category: Category,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub master_key_id: Option<String>,
    pub wrapped: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
    /// No longer used for new material (rotated); still decrypts what it encrypted.
    pub retired_at: Option<DateTime<Utc>>,
    pub shredded_at: Option<DateTime<Utc>>,
}

/// Attachments of items in `category` are destroyed once `days` have passed after the end of
/// the period they were stored in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionPolicy {
    pub category: Category,
    pub days: i64,
    pub updated_at: DateTime<Utc>,
}

/// One saved version of an organisation's classification and routing rules (TOML source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredRuleSet {
    /// 1, 2, …: the latest version is in force.
    pub version: i64,
    pub source: String,
    /// Who saved it (the actor's name).
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// An installation-wide key (the custody signing key). `secret` is 64 hex digits, or, when
/// `master_key_id` is set, the base64 of the secret wrapped by that master key.
#[derive(Clone)]
pub struct InstallationKey {
    pub name: String,
    pub secret: String,
    pub public_key: String,
    pub master_key_id: Option<String>,
}

impl std::fmt::Debug for InstallationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallationKey")
            .field("name", &self.name)
            .field("secret", &"***")
            .field("public_key", &self.public_key)
            .field("master_key_id", &self.master_key_id)
            .finish()
    }
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
    /// Where the classification rules routed the item at intake, e.g. `department:FIN`,
    /// `person:E1001`, `team:RND`, `secure_room:SR-1`, `recipient` (see docs/RULES.md).
    pub route: Option<String>,
    /// When the item is due (set by a rule's `then.due` at intake).
    pub due_by: Option<DateTime<Utc>>,
    /// Registered from a scan alone ("received, details pending"): kind, category, sender and
    /// the like are still to be filled in.
    #[serde(default)]
    pub details_pending: bool,
    /// True when sender and contents were withheld from this caller (confidential item, no need to know).
    #[serde(default)]
    pub redacted: bool,
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
    /// Items of these categories as well (finance, customer service): with `mine`, either
    /// condition lets an item through; without `mine`, only these categories. Empty: no effect.
    pub categories: Vec<Category>,
    /// Ids strictly below this one (cursor pagination, newest first).
    pub before: Option<ItemId>,
    /// Free text also matches the sender and notes of items up to this security level.
    pub clearance: i64,
    pub limit: i64,
}

/// A new item ready to be written, with what makes its creation idempotent.
#[derive(Debug, Clone)]
pub struct ItemInsert {
    pub item: Item,
    pub idempotency: Option<(String, String)>,
    /// The exception the item opens (its recipient is missing, ambiguous or unreadable): written
    /// in the same transaction, only when the item is created.
    pub exception: Option<ItemException>,
}

/// A person a label's recipient text could mean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecipientCandidate {
    pub person_id: PersonId,
    pub name: String,
    pub name_latin: Option<String>,
    pub department_id: Option<DepartmentId>,
}

/// An item waiting in the exception queue for someone to decide who it is for.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemException {
    pub id: ExceptionId,
    pub tenant_id: TenantId,
    pub item_id: ItemId,
    pub reason: ExceptionReason,
    /// The recipient as written on the label, as typed at intake.
    pub label_text: Option<String>,
    /// For an ambiguous recipient: the people the label could mean.
    pub candidates: Vec<RecipientCandidate>,
    pub status: ExceptionStatus,
    pub opened_at: DateTime<Utc>,
    pub opened_by: Option<UserId>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<UserId>,
    pub resolution: Option<Resolution>,
    pub resolution_note: Option<String>,
    /// The item's reference code (read with the exception).
    pub item_reference: String,
    pub tracking_number: Option<String>,
    pub carrier: Option<String>,
    /// The item's version, for `expected_version` when resolving.
    pub item_version: i64,
}

/// Closing an exception together with an item change.
#[derive(Debug, Clone)]
pub struct ExceptionClose {
    /// This exception, which must still be open ([`crate::StoreError::Stale`] otherwise); `None`:
    /// whichever exception of the item is open, if any.
    pub exception_id: Option<ExceptionId>,
    pub resolution: Resolution,
    pub note: Option<String>,
    pub by: Option<UserId>,
    pub at: DateTime<Utc>,
}

/// New values for an item's details (and possibly its status), applied if the version still
/// matches, with an exception closed in the same transaction.
#[derive(Debug, Clone)]
pub struct ItemAmend {
    /// The item as it is to be: kind, category, priority, carrier, sender, recipient, notes,
    /// status, location and `details_pending` are written.
    pub item: Item,
    pub expected_version: i64,
    pub close: Option<ExceptionClose>,
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
    /// `Some(x)` sets the item's seal number to `x` (`None` inside: opened, no seal).
    pub seal_number: Option<Option<String>>,
}

/// What a delegation covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delegation {
    pub id: DelegationId,
    pub tenant_id: TenantId,
    /// The recipient who lets someone else collect their mail.
    pub grantor_id: PersonId,
    /// The colleague who may collect it.
    pub delegate_id: PersonId,
    /// `all`, `category` or `items`.
    pub scope: String,
    pub category: Option<Category>,
    pub item_ids: Vec<ItemId>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
}

impl Delegation {
    /// Whether the delegation is in force at `now` and covers `item`.
    pub fn covers(&self, item: &Item, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none()
            && self.valid_from <= now
            && now < self.valid_until
            && item.recipient_person_id == Some(self.grantor_id)
            && match self.scope.as_str() {
                "all" => true,
                "category" => self.category == Some(item.category),
                "items" => self.item_ids.contains(&item.id),
                _ => false,
            }
    }
}

/// Where a user acts outside their own organisation: the role they have there and, when set,
/// the one site they are limited to.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignment {
    /// The organisation the user is assigned to.
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// The user's own organisation.
    pub home_tenant_id: TenantId,
    pub role: Role,
    /// The only site the user may act at; every site when absent.
    pub site_id: Option<SiteId>,
    pub created_at: DateTime<Utc>,
}

/// The number of a tenant's items with one status and category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemCount {
    pub status: Status,
    pub category: Category,
    pub count: i64,
}

/// A photo kept with an item (an encrypted attachment); its id is the attachment's.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemPhoto {
    pub id: AttachmentId,
    pub item_id: ItemId,
    /// `image/png` or `image/jpeg`.
    pub media_type: String,
    /// Size of the image in bytes.
    pub size: i64,
    /// SHA-256 of the image, lowercase hex: what the custody event `photo_added` records.
    pub sha256: String,
    pub added_at: DateTime<Utc>,
    pub added_by: Option<UserId>,
}

/// A notice sent to someone (or given up on), kept as proof and shown with the item.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationRecord {
    pub id: uuid::Uuid,
    pub tenant_id: TenantId,
    pub item_id: Option<ItemId>,
    pub person_id: Option<PersonId>,
    /// What the notice was about: arrival, reminder, receipt …
    pub kind: String,
    /// email, sms, webhook, wecom, dingtalk, feishu
    pub channel: String,
    /// Where it went, shortened for display (a masked address, an endpoint's name).
    pub target: String,
    /// zh-CN or en
    pub lang: String,
    pub subject: String,
    /// sent or failed
    pub status: String,
    /// Why it failed, or the receiving server's answer.
    pub detail: Option<String>,
    pub idempotency_key: String,
    pub created_at: DateTime<Utc>,
}

/// Work for the mailroom's staff, e.g. contacting the sender of an item that arrived damaged.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffTask {
    pub id: uuid::Uuid,
    pub tenant_id: TenantId,
    pub item_id: ItemId,
    /// contact_sender
    pub kind: String,
    /// open or done
    pub status: String,
    pub opened_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<UserId>,
    /// What was done (who was reached, what was agreed).
    pub note: Option<String>,
    pub item_reference: String,
    pub recipient_name: String,
    pub sender_name: Option<String>,
    pub sender_org: Option<String>,
    pub sender_address: Option<String>,
    pub damage_description: Option<String>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
}

/// A job of the durable queue as it is enqueued (see [`crate::Store::enqueue_jobs`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub tenant_id: TenantId,
    /// What to do: names the handler that runs it (e.g. `notify`).
    pub kind: String,
    /// The handler's input.
    pub payload: serde_json::Value,
    /// Unique per tenant: a job whose key is already known is not enqueued again, so whatever
    /// enqueues may safely do so twice (after a crash, on two nodes …).
    pub idempotency_key: String,
    /// Not before this time.
    pub run_at: DateTime<Utc>,
    /// After this many failed attempts the job is dead (in the dead-letter list).
    pub max_attempts: i32,
}

impl NewJob {
    /// A job due now with the default number of attempts ([`JOB_MAX_ATTEMPTS`]).
    pub fn new(
        tenant_id: TenantId,
        kind: impl Into<String>,
        payload: serde_json::Value,
        idempotency_key: impl Into<String>,
        now: DateTime<Utc>,
    ) -> NewJob {
        NewJob {
            tenant_id,
            kind: kind.into(),
            payload,
            idempotency_key: idempotency_key.into(),
            run_at: now,
            max_attempts: JOB_MAX_ATTEMPTS,
        }
    }
}

/// Attempts a job gets unless it says otherwise.
pub const JOB_MAX_ATTEMPTS: i32 = 8;

/// Status of a job waiting for its (next) attempt.
pub const JOB_PENDING: &str = "pending";
/// Status of a job a worker has claimed (until `locked_until`).
pub const JOB_RUNNING: &str = "running";
/// Status of a job that succeeded.
pub const JOB_DONE: &str = "done";
/// Status of a job that failed for good: the dead-letter list.
pub const JOB_DEAD: &str = "dead";
/// Every job status.
pub const JOB_STATUSES: [&str; 4] = [JOB_PENDING, JOB_RUNNING, JOB_DONE, JOB_DEAD];

/// A job of the durable queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Job {
    pub id: JobId,
    pub tenant_id: TenantId,
    pub kind: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
    pub idempotency_key: String,
    /// `pending`, `running`, `done` or `dead`.
    pub status: String,
    /// Attempts so far (a claim counts as one).
    pub attempts: i32,
    pub max_attempts: i32,
    /// When a pending job is due; for a running one, when its lease ends (the same as
    /// `locked_until`).
    pub run_at: DateTime<Utc>,
    /// The worker (server node) that holds the job, while it runs.
    pub locked_by: Option<String>,
    /// The end of that worker's lease: after it, another worker may claim the job again.
    pub locked_until: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it was done, or died.
    pub finished_at: Option<DateTime<Utc>>,
}

/// An organisation's own wording of one notice in one language (without one, the built-in
/// wording of `mailroom_domain::notify::default_template` applies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationTemplate {
    pub kind: mailroom_domain::notify::NoticeKind,
    pub lang: mailroom_domain::notify::Lang,
    pub subject: String,
    pub body: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// How a person wants to be notified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotifyPreference {
    pub person_id: PersonId,
    /// The language of the person's notices.
    pub lang: mailroom_domain::notify::Lang,
    /// Notices by e-mail (needs an e-mail address in the directory).
    pub email: bool,
    /// Notices by SMS (needs a phone number and the organisation's SMS provider).
    pub sms: bool,
    /// Notices through the group robot of the person's department (WeCom, DingTalk, Feishu).
    pub robot: bool,
    /// No notices during these hours (site time); they wait until the end.
    pub quiet: Option<mailroom_domain::notify::QuietHours>,
    /// Arrivals are collected into one daily digest instead of one notice each.
    pub digest: bool,
    /// When the digest goes out (site time), e.g. "08:30:00".
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "08:30:00"))]
    pub digest_at: Option<chrono::NaiveTime>,
    /// When the person's preferences were last saved; null for the defaults.
    pub updated_at: Option<DateTime<Utc>>,
}

impl NotifyPreference {
    /// The preferences of a person who has saved none: Chinese, e-mail when the person has an
    /// address, no SMS, no robot, no quiet hours, no digest.
    pub fn defaults(person: &Person) -> NotifyPreference {
        NotifyPreference {
            person_id: person.id,
            lang: mailroom_domain::notify::Lang::ZhCn,
            email: person.email.as_deref().is_some_and(|e| !e.trim().is_empty()),
            sms: false,
            robot: false,
            quiet: None,
            digest: false,
            digest_at: None,
            updated_at: None,
        }
    }
}

/// Somewhere notices go besides people's own inboxes: a signed webhook, a group robot (WeCom,
/// DingTalk, Feishu) or the organisation's SMS provider.
#[derive(Clone, PartialEq, Eq)]
pub struct ChannelEndpoint {
    pub id: EndpointId,
    pub tenant_id: TenantId,
    pub kind: mailroom_domain::notify::EndpointKind,
    pub name: String,
    pub url: String,
    /// Signing secret or provider key; never shown back.
    pub secret: Option<String>,
    /// Kind-specific settings (the SMS provider's request shape).
    pub config: serde_json::Value,
    /// A department's robot.
    pub department_id: Option<DepartmentId>,
    /// The notice kinds sent here; empty: every kind.
    pub events: Vec<mailroom_domain::notify::NoticeKind>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for ChannelEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelEndpoint")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("url", &self.url)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("config", &self.config)
            .field("department_id", &self.department_id)
            .field("events", &self.events)
            .field("active", &self.active)
            .finish()
    }
}

impl ChannelEndpoint {
    /// Whether notices of `kind` go to this endpoint.
    pub fn wants(&self, kind: mailroom_domain::notify::NoticeKind) -> bool {
        self.active && (self.events.is_empty() || self.events.contains(&kind))
    }
}

/// A site's working-hours calendar as configured.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteCalendar {
    pub tenant_id: TenantId,
    pub site_id: SiteId,
    pub config: mailroom_domain::calendar::CalendarConfig,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// An item with its follow-up record (breach, reminders, escalation, final step).
#[derive(Debug, Clone)]
pub struct FollowupItem {
    pub item: Item,
    pub state: mailroom_domain::followup::FollowupState,
}

/// One follow-up step, guarded so that it happens at most once (see [`crate::Store::followup_step`]).
#[derive(Debug, Clone)]
pub enum FollowupStep {
    /// Marks the deadline missed, unless it was marked.
    Breach,
    /// Counts reminder `expected + 1`, if `expected` reminders were sent so far.
    Remind { expected: i64 },
    /// Marks the escalation (to this person), unless it was escalated.
    Escalate { to: Option<PersonId> },
    /// Records final-step request `expected + 1`, if `expected` requests were made so far.
    RequestDisposal { expected: i64, action: mailroom_domain::followup::FinalAction },
    /// Decides request number `requests`, if it is still undecided.
    Decide { requests: i64, approve: bool, by: Option<UserId> },
}

/// A guarded follow-up write: the step, the statuses the item must be in, the custody events to
/// append when the step takes, and (for an approval) the item's transition with its event.
#[derive(Debug, Clone)]
pub struct FollowupWrite {
    pub tenant_id: TenantId,
    pub item_id: ItemId,
    pub step: FollowupStep,
    pub at: DateTime<Utc>,
    pub statuses: Vec<Status>,
    pub events: Vec<mailroom_domain::custody::EventDraft>,
    pub change: Option<(ItemChange, mailroom_domain::custody::EventDraft)>,
}

/// A cost centre: what postage is charged to, with optional monthly limits (fen).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CostCentre {
    pub id: uuid::Uuid,
    pub code: String,
    pub name: String,
    /// The department the chargeback report bills.
    pub department_id: Option<uuid::Uuid>,
    /// Monthly spend past which a charge warns, in fen.
    pub soft_limit: Option<i64>,
    /// Monthly spend past which a charge is refused, in fen.
    pub hard_limit: Option<i64>,
    /// An outbound send estimated to cost more than this (fen) waits for an approver.
    #[serde(default)]
    pub approval_limit: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A postage account (a prepaid franking or carrier account) of the organisation or one site.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostageAccount {
    pub id: uuid::Uuid,
    pub site_id: Option<uuid::Uuid>,
    pub name: String,
    /// In fen.
    pub balance: i64,
    pub created_at: DateTime<Utc>,
}

/// One movement of a postage account; written once, never changed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerEntry {
    pub id: uuid::Uuid,
    pub account_id: uuid::Uuid,
    /// The entry's number within its account, in the order written (from 1).
    pub seq: i64,
    /// top_up, charge, refund or adjustment
    pub kind: String,
    /// The change to the balance in fen (charges are negative).
    pub amount: i64,
    /// The account's balance after this entry, in fen.
    pub balance_after: i64,
    pub cost_centre_id: Option<uuid::Uuid>,
    pub carrier: Option<String>,
    pub method: Option<String>,
    pub zone: Option<String>,
    pub weight_g: Option<i64>,
    /// The item or other reference the entry is for.
    pub reference: Option<String>,
    pub note: Option<String>,
    /// Who made the entry (login or token).
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A movement to write (see [`crate::Store::postage_post`]).
#[derive(Debug, Clone)]
pub struct PostageMove {
    pub entry: LedgerEntry,
    /// The month whose spend the cost centre's limits apply to: `[from, to)`.
    pub month: (DateTime<Utc>, DateTime<Utc>),
}

/// What a written movement did.
#[derive(Debug, Clone)]
pub struct PostageOutcome {
    pub entry: LedgerEntry,
    pub verdict: mailroom_domain::postage::BudgetVerdict,
    /// The cost centre's spend this month after the entry, in fen (0 without a cost centre).
    pub month_spend: i64,
}

/// A cost centre's net postage spend over a period.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CostCentreSpend {
    pub cost_centre_id: uuid::Uuid,
    /// Charges made.
    pub charges: i64,
    /// Charges less refunds, in fen.
    pub spend: i64,
}

/// The send of an outbound item (table `outbound`); the item itself is an ordinary [`Item`].
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboundRow {
    pub item_id: ItemId,
    /// The employee the send is for (who asked for it, or for whom staff asked).
    pub requester_person_id: Option<PersonId>,
    pub requester_user_id: Option<UserId>,
    /// standard, registered, express, international or encrypted_electronic
    pub method: String,
    /// Destination country, ISO 3166-1 alpha-2.
    pub country: String,
    /// Postage zone of the destination.
    pub zone: String,
    /// The address as checked: `{"fields": …, "lines": […], "latin_lines": […]}`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub address: serde_json::Value,
    pub recipient_email: Option<String>,
    pub recipient_phone: Option<String>,
    /// What is sent, in words.
    pub contents: String,
    /// Weight in grams: estimated at request, weighed at acceptance.
    pub weight_g: Option<i64>,
    pub cost_centre_id: uuid::Uuid,
    /// The postage the rate table gave at request, in fen.
    pub estimate: Option<i64>,
    /// The dispatch window: not before this time.
    pub not_before: Option<DateTime<Utc>>,
    /// The customs declaration (JSON), for destinations outside mainland China.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub customs: Option<serde_json::Value>,
    /// cn22 or cn23, decided when the item was accepted.
    pub customs_form: Option<String>,
    /// The bulk mailing (CSV) the request came with.
    pub mailing_id: Option<uuid::Uuid>,
    /// Who approved or rejected it, when, and why.
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    /// Postage charged at acceptance, in fen, from which account, by which ledger entry.
    pub postage: Option<i64>,
    pub account_id: Option<uuid::Uuid>,
    pub ledger_entry_id: Option<uuid::Uuid>,
    pub batch_id: Option<uuid::Uuid>,
    /// When it was scanned out of the mailroom into its batch.
    pub scanned_out_at: Option<DateTime<Utc>>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub receipt_signed_by: Option<String>,
    pub receipt_number: Option<String>,
    pub receipt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// An outbound item: the item and its send.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboundRecord {
    pub item: Item,
    pub send: OutboundRow,
}

/// Which outbound items to list (newest first).
#[derive(Debug, Clone, Default)]
pub struct OutboundFilter {
    pub statuses: Vec<mailroom_domain::item::Status>,
    pub requester: Option<PersonId>,
    pub batch: Option<uuid::Uuid>,
    pub mailing: Option<uuid::Uuid>,
    pub carrier: Option<String>,
    /// Only items not in any batch.
    pub unbatched: bool,
    /// Only items whose dispatch window has started by then.
    pub window_open_at: Option<DateTime<Utc>>,
    pub before: Option<ItemId>,
    pub limit: i64,
}

/// A carrier collection (table `dispatch_batch`).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DispatchBatch {
    pub id: uuid::Uuid,
    /// Printed on the manifest as a barcode.
    pub reference: String,
    pub site_id: Option<uuid::Uuid>,
    pub carrier: String,
    pub collection_at: DateTime<Utc>,
    /// open or handed_over
    pub status: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub handed_over_at: Option<DateTime<Utc>>,
    pub handed_over_by: Option<String>,
    /// The carrier's driver or courier who took the batch.
    pub courier_name: Option<String>,
}

/// One change of an outbound item, written with its custody event in one transaction: the
/// item's status (when the version still matches) and the send's columns that are `Some`.
#[derive(Debug, Clone, Default)]
pub struct OutboundChange {
    pub expected_version: i64,
    pub status: Option<mailroom_domain::item::Status>,
    pub tracking_number: Option<String>,
    pub carrier: Option<String>,
    pub weight_g: Option<i64>,
    pub customs: Option<serde_json::Value>,
    pub customs_form: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    pub postage: Option<i64>,
    pub account_id: Option<uuid::Uuid>,
    /// Set the batch (`Some(Some)`), or take the item out of its batch (`Some(None)`).
    pub batch: Option<Option<uuid::Uuid>>,
    pub scanned_out_at: Option<Option<DateTime<Utc>>>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub receipt_signed_by: Option<String>,
    pub receipt_number: Option<String>,
    pub receipt_at: Option<DateTime<Utc>>,
    /// A postage movement (the charge at acceptance, the refund at cancellation) written in the
    /// same transaction; its ledger entry id is kept with the send. A budget or balance refusal
    /// writes nothing at all.
    pub postage_move: Option<PostageMove>,
}
