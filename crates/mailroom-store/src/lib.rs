//! Persistence for the mailroom: one [`Store`] trait and two implementations,
//! SQLite (default, embedded, with group commit) and PostgreSQL (scale-out).
//! Backend differences stay inside this crate.

pub mod models;
mod postgres;
mod rows;
mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mailroom_domain::DomainError;
use mailroom_domain::custody::{Actor, CustodyEvent, EventDraft};
use mailroom_domain::ids::*;
use mailroom_domain::item::Category;
use mailroom_domain::notify::{Lang as NoticeLang, NoticeKind};
use mailroom_domain::receipt::Checkpoint;
use mailroom_domain::throttle::ThrottleRule;
pub use models::*;
use std::sync::Arc;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A rule was broken (e.g. idempotency key reused for another request).
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("not found")]
    NotFound,
    /// The row changed since it was read (optimistic concurrency).
    #[error("the record was changed by someone else; reload and try again")]
    Stale,
    /// A unique constraint was hit; carries the constraint or column hint.
    #[error("duplicate value: {0}")]
    Duplicate(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the write queue is closed")]
    WriterGone,
    #[error("invalid database URL: {0}")]
    BadUrl(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Whether the database could not be reached or answered "not now" (connection refused or
    /// cut, the server shutting down or out of connections, the pool exhausted, SQLite busy),
    /// rather than that the request or the data was wrong: worth retrying in a moment.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::WriterGone => true,
            StoreError::Db(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                // PostgreSQL classes 08 (connection exception), 53 (insufficient resources, such
                // as too many connections) and 57P (the server ended the session or is starting
                // or stopping); SQLite's BUSY (5) and LOCKED (6), extended codes included.
                sqlx::Error::Database(d) => {
                    let code = d.code().unwrap_or_default();
                    if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                        code.parse::<i32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
                    } else {
                        code.starts_with("08") || code.starts_with("53") || code.starts_with("57P")
                    }
                }
                _ => false,
            },
            _ => false,
        }
    }
}

/// Directory import: everything or nothing.
#[derive(Debug, Clone, Default)]
pub struct DirectoryImport {
    pub departments: Vec<Department>,
    pub people: Vec<Person>,
}

/// A tenant's directory versions (see [`Store::directory_version`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectoryVersion {
    /// Every change to people, departments and teams.
    pub version: i64,
    /// Changes to departments and teams.
    pub departments: i64,
}

/// An administrative change, written together with its audit event (see [`Store::admin_write`]).
#[derive(Debug, Clone)]
pub enum AdminChange {
    CreateSite(Site),
    CreateLocation(Location),
    UpsertDepartment(Department),
    DeleteDepartment(DepartmentId),
    UpsertPerson(Person),
    ImportDirectory(DirectoryImport),
    CreateUser(User),
    CreateToken(ApiToken),
    /// Fails with [`StoreError::NotFound`] unless the token exists and is not yet revoked.
    RevokeToken {
        id: TokenId,
        at: DateTime<Utc>,
    },
    ClearLoginThrottle(ThrottleKey),
    /// Creates or changes a cost centre (by id).
    UpsertCostCentre(CostCentre),
    /// Creates a postage account with a zero balance.
    CreatePostageAccount(PostageAccount),
    /// Deletes a cost centre that no ledger entry names (a `conflict` domain error when one
    /// does); `NotFound` without it.
    DeleteCostCentre(uuid::Uuid),
    /// Renames a postage account or moves it to another site (not its balance).
    UpdatePostageAccount(PostageAccount),
    /// Deletes a postage account with no ledger entries (a `conflict` domain error otherwise).
    DeletePostageAccount(uuid::Uuid),
    /// Replaces the whole rate table.
    ReplacePostageRates(Vec<mailroom_domain::postage::RateRow>),
}

/// The persistence port. Every method that touches tenant data takes the tenant.
/// Methods that change items also append a custody event in the same transaction.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> &'static str;

    async fn create_tenant(&self, t: &Tenant) -> Result<()>;
    async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>>;
    async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>>;
    async fn list_tenants(&self) -> Result<Vec<Tenant>>;

    async fn create_site(&self, s: &Site) -> Result<()>;
    async fn list_sites(&self, t: TenantId) -> Result<Vec<Site>>;
    async fn create_location(&self, l: &Location) -> Result<()>;
    async fn location(&self, t: TenantId, id: LocationId) -> Result<Option<Location>>;
    async fn list_locations(&self, t: TenantId) -> Result<Vec<Location>>;

    async fn upsert_department(&self, d: &Department) -> Result<()>;
    async fn department(&self, t: TenantId, id: DepartmentId) -> Result<Option<Department>>;
    async fn department_by_code(&self, t: TenantId, code: &str) -> Result<Option<Department>>;
    async fn list_departments(&self, t: TenantId) -> Result<Vec<Department>>;
    async fn delete_department(&self, t: TenantId, id: DepartmentId) -> Result<()>;

    async fn upsert_person(&self, p: &Person) -> Result<()>;
    async fn person(&self, t: TenantId, id: PersonId) -> Result<Option<Person>>;
    async fn person_by_employee_no(&self, t: TenantId, no: &str) -> Result<Option<Person>>;
    /// People whose names, aliases, employee number or e-mail contain `q` (case-insensitive),
    /// ordered by id, after the cursor.
    async fn search_people(&self, t: TenantId, q: &str, after: Option<PersonId>, limit: i64) -> Result<Vec<Person>>;
    async fn count_people(&self, t: TenantId) -> Result<i64>;
    /// Imports departments and people in one transaction (upsert by code / employee number).
    async fn import_directory(&self, t: TenantId, import: DirectoryImport) -> Result<()>;
    /// How many times the tenant's directory (people, departments, teams) has changed, and its
    /// departments and teams: bumped in the same transaction as every directory write, so a cache
    /// built at version `v` is current while this still says `v`.
    async fn directory_version(&self, t: TenantId) -> Result<DirectoryVersion>;
    /// People written after directory version `since` (at most `limit`, in id order): what a
    /// cache built at `since` is missing when only people changed.
    async fn people_changed_since(&self, t: TenantId, since: i64, limit: i64) -> Result<Vec<Person>>;

    async fn create_user(&self, u: &User) -> Result<()>;
    async fn user(&self, t: TenantId, id: UserId) -> Result<Option<User>>;
    async fn user_by_login(&self, t: TenantId, login: &str) -> Result<Option<User>>;
    async fn list_users(&self, t: TenantId) -> Result<Vec<User>>;

    async fn create_token(&self, tok: &ApiToken) -> Result<()>;
    async fn token(&self, t: TenantId, id: TokenId) -> Result<Option<ApiToken>>;
    /// A tenant's tokens (or one user's), newest first.
    async fn list_tokens(&self, t: TenantId, user: Option<UserId>) -> Result<Vec<ApiToken>>;
    /// Records when a token was last used.
    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<()>;

    async fn create_session(&self, s: &WebSession) -> Result<()>;
    async fn session(&self, id_hash: &str) -> Result<Option<WebSession>>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    /// Records when a session was last used.
    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<()>;

    /// The live login counters among `keys`.
    async fn login_throttle(&self, keys: &[ThrottleKey], now: DateTime<Utc>) -> Result<Vec<ThrottleEntry>>;
    /// Counts a failed login against each key under its rule, atomically across server nodes;
    /// returns the new states.
    async fn record_login_failure(
        &self,
        keys: &[(ThrottleKey, ThrottleRule)],
        now: DateTime<Utc>,
    ) -> Result<Vec<ThrottleEntry>>;
    /// Forgets a counter (after a successful login); true when there was one.
    async fn clear_login_throttle(&self, key: &ThrottleKey) -> Result<bool>;
    /// Accounts of an organisation (by slug) that are locked at `now`.
    async fn login_lockouts(&self, tenant_slug: &str, now: DateTime<Utc>) -> Result<Vec<ThrottleEntry>>;

    /// Applies an administrative change and appends its audit event in one transaction.
    async fn admin_write(
        &self,
        t: TenantId,
        change: AdminChange,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<CustodyEvent>;
    /// The tenant's log newest first, optionally only kinds starting with `kind_prefix`, with
    /// sequence numbers below `before`.
    async fn audit_events(
        &self,
        t: TenantId,
        kind_prefix: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<CustodyEvent>>;

    async fn attachment(&self, t: TenantId, id: AttachmentId) -> Result<Option<Attachment>>;

    /// A stored answer to a creating request: (request hash, status, body).
    async fn idempotent_response(&self, t: TenantId, key: &str) -> Result<Option<(String, i64, String)>>;
    /// Stores the answer to a creating request; the first answer for a key wins.
    async fn save_idempotent_response(
        &self,
        t: TenantId,
        key: &str,
        request_hash: &str,
        status: i64,
        body: &str,
    ) -> Result<()>;

    /// Registers an item and its `registered` custody event, unless the tracking number or the
    /// idempotency key is already known, in which case the existing item is returned.
    async fn register_item(&self, ins: ItemInsert, actor: &Actor, event: EventDraft) -> Result<Registered>;
    /// Applies a state change (and handover) with its custody event, if the version still matches.
    async fn change_item(
        &self,
        t: TenantId,
        id: ItemId,
        change: ItemChange,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<Item>;
    /// Writes new details of an item (and possibly its status) with its custody event, if the
    /// version still matches, closing an exception in the same transaction.
    async fn amend_item(&self, amend: ItemAmend, actor: &Actor, event: EventDraft) -> Result<Item>;
    /// One exception of the queue, with its item's reference and version.
    async fn exception(&self, t: TenantId, id: ExceptionId) -> Result<Option<ItemException>>;
    /// The item's open exception, if any.
    async fn open_exception_of_item(&self, t: TenantId, item: ItemId) -> Result<Option<ItemException>>;
    /// Exceptions with this status, oldest first, with ids after `after`.
    async fn list_exceptions(
        &self,
        t: TenantId,
        status: mailroom_domain::exception::ExceptionStatus,
        after: Option<ExceptionId>,
        limit: i64,
    ) -> Result<Vec<ItemException>>;
    /// Appends a custody event that changes no item (e.g. an access record).
    async fn append_event(&self, t: TenantId, actor: &Actor, event: EventDraft) -> Result<CustodyEvent>;
    async fn item(&self, t: TenantId, id: ItemId) -> Result<Option<Item>>;
    /// Keeps a photo with an item: stores the (sealed) attachment, links it to the item and
    /// appends the custody event, in one transaction. `NotFound` if the item does not exist.
    async fn add_item_photo(
        &self,
        t: TenantId,
        item: ItemId,
        photo: Attachment,
        added_by: Option<UserId>,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<(ItemPhoto, CustodyEvent)>;
    /// An item's photos, oldest first.
    async fn item_photos(&self, t: TenantId, item: ItemId) -> Result<Vec<ItemPhoto>>;
    /// One photo of an item (by its attachment id).
    async fn item_photo(&self, t: TenantId, item: ItemId, id: AttachmentId) -> Result<Option<ItemPhoto>>;
    async fn list_items(&self, t: TenantId, f: &ItemFilter) -> Result<Vec<Item>>;
    async fn item_events(&self, t: TenantId, id: ItemId) -> Result<Vec<CustodyEvent>>;
    async fn handover(&self, t: TenantId, id: ItemId) -> Result<Option<HandoverRecord>>;
    async fn count_items(&self, t: TenantId) -> Result<i64>;

    /// The tenant's chain head: number of events and last hash.
    async fn custody_head(&self, t: TenantId) -> Result<(i64, String)>;
    /// Events with `seq > after_seq`, in order.
    async fn custody_events(&self, t: TenantId, after_seq: i64, limit: i64) -> Result<Vec<CustodyEvent>>;

    /// The installation key `name`.
    async fn installation_key(&self, name: &str) -> Result<Option<InstallationKey>>;
    /// Stores a key unless one with that name exists; returns the key that is stored.
    async fn put_installation_key(&self, key: &InstallationKey) -> Result<InstallationKey>;
    /// Replaces an installation key's secret (re-wrapped under `master_key_id`) if it is still
    /// `old_secret`; false if someone else changed it first.
    async fn rewrap_installation_key(
        &self,
        name: &str,
        old_secret: &str,
        secret: &str,
        master_key_id: &str,
    ) -> Result<bool>;
    /// Chain hashes of events 1..=upto, in order.
    async fn custody_hashes(&self, t: TenantId, upto: i64) -> Result<Vec<String>>;
    /// Stores a checkpoint (a second one for the same size is ignored).
    async fn insert_checkpoint(&self, cp: &Checkpoint) -> Result<()>;
    /// All checkpoints of a tenant, smallest first.
    async fn checkpoints(&self, t: TenantId) -> Result<Vec<Checkpoint>>;

    /// A user's clearance for confidential items (0 when none was granted).
    async fn user_clearance(&self, t: TenantId, user: UserId) -> Result<i64>;
    /// A user with the department of their directory entry and their clearance: what resolving a
    /// caller needs, in one query.
    /// A person with the code and names of their department, in one query.
    async fn person_with_department(
        &self,
        t: TenantId,
        id: PersonId,
    ) -> Result<Option<(Person, Option<DepartmentNames>)>>;
    /// The token with this hash with its user, department and clearance (one query).
    async fn token_principal(&self, hash: &str) -> Result<Option<TokenPrincipal>>;
    async fn user_principal(&self, t: TenantId, id: UserId) -> Result<Option<(User, Option<DepartmentId>, i64)>>;
    async fn set_user_clearance(&self, t: TenantId, user: UserId, level: i64) -> Result<()>;
    /// Stores a delegation and its custody event in one transaction.
    async fn create_delegation(&self, d: &Delegation, actor: &Actor, event: EventDraft) -> Result<()>;
    async fn delegation(&self, t: TenantId, id: DelegationId) -> Result<Option<Delegation>>;
    /// Delegations a person granted or received, newest first.
    async fn delegations_of(&self, t: TenantId, person: PersonId) -> Result<Vec<Delegation>>;
    /// Revokes an active delegation (with its custody event); `NotFound` if none is active.
    async fn revoke_delegation(
        &self,
        t: TenantId,
        id: DelegationId,
        at: chrono::DateTime<chrono::Utc>,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<()>;
    /// Check values of every master key id this database has seen: (id, check).
    async fn master_key_checks(&self) -> Result<Vec<(String, Vec<u8>)>>;
    /// Remembers a master key id's check value unless one is known; returns the known one.
    async fn put_master_key_check(&self, id: &str, check: &[u8]) -> Result<Vec<u8>>;
    /// Master key ids that wrap something (data keys of any tenant, installation keys), with
    /// how many things each wraps. Installation-wide, for rotation and start-up checks.
    async fn master_keys_in_use(&self) -> Result<Vec<(String, i64)>>;
    /// All data keys of a tenant, shredded ones included.
    async fn data_keys(&self, t: TenantId) -> Result<Vec<DataKey>>;
    async fn data_key(&self, t: TenantId, id: DataKeyId) -> Result<Option<DataKey>>;
    /// The data key that new material of this category and period is encrypted with, if any.
    async fn data_key_in_use(
        &self,
        t: TenantId,
        category: Category,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Option<DataKey>>;
    /// Stores a new data key unless one is already in use for its category and period; returns
    /// the one in use (this one, or the one another writer stored first).
    async fn insert_data_key(&self, key: &DataKey) -> Result<DataKey>;
    /// Replaces a data key's wrapping if it is still wrapped by master key `from`.
    async fn rewrap_data_key(&self, t: TenantId, id: DataKeyId, from: &str, to: &str, wrapped: &[u8]) -> Result<bool>;
    /// Stops using the tenant's current data keys for new material; returns how many were retired.
    async fn retire_data_keys(&self, t: TenantId) -> Result<u64>;
    /// Crypto-shredding: destroys a data key, erases the ciphertexts it protected and appends the
    /// custody event (its details gain `attachments`, the number erased), in one transaction.
    /// `None` if the key was shredded already.
    async fn shred_data_key(
        &self,
        t: TenantId,
        id: DataKeyId,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<Option<(CustodyEvent, i64)>>;
    /// Number of attachments per data key (`None`: not encrypted yet).
    async fn attachment_counts(&self, t: TenantId) -> Result<Vec<(Option<DataKeyId>, i64)>>;
    /// Attachments still stored in plain text, with the category of their item.
    async fn plaintext_attachments(&self, t: TenantId, limit: i64) -> Result<Vec<(AttachmentId, Category)>>;
    /// Replaces a plain-text attachment's data with its ciphertext; false if it is no longer plain.
    async fn seal_attachment(&self, t: TenantId, id: AttachmentId, sealed: &Sealed, data: &[u8]) -> Result<bool>;
    async fn retention_policies(&self, t: TenantId) -> Result<Vec<RetentionPolicy>>;
    /// Replaces a tenant's retention policies and appends the custody event, in one transaction.
    async fn set_retention_policies(
        &self,
        t: TenantId,
        policies: Vec<RetentionPolicy>,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<CustodyEvent>;

    /// Bulk-loads items with their custody events in large transactions (demo and benchmarks).
    async fn bulk_register(&self, items: Vec<Item>, actor: &Actor) -> Result<()>;

    /// Creates or replaces the assignment of a user to a tenant.
    async fn put_assignment(&self, a: &Assignment) -> Result<()>;
    async fn assignment(&self, t: TenantId, user: UserId) -> Result<Option<Assignment>>;
    /// The users of other tenants assigned to this one.
    async fn list_assignments(&self, t: TenantId) -> Result<Vec<Assignment>>;
    /// Every tenant a user is assigned to: what the user themself may switch to. The one
    /// lookup not keyed by tenant, since it is what decides the tenant.
    async fn user_assignments(&self, user: UserId) -> Result<Vec<Assignment>>;
    /// `NotFound` when the user is not assigned to the tenant.
    async fn delete_assignment(&self, t: TenantId, user: UserId) -> Result<()>;
    /// Item counts by status and category.
    /// How many items each location keeps now (stored, notified, held, waiting for pickup).
    async fn location_occupancy(&self, t: TenantId) -> Result<Vec<(LocationId, i64)>>;
    async fn item_counts(&self, t: TenantId) -> Result<Vec<ItemCount>>;

    /// A version of the organisation's rules (`None`: the latest, which is in force).
    async fn rule_set(&self, t: TenantId, version: Option<i64>) -> Result<Option<StoredRuleSet>>;
    /// Every saved version of the organisation's rules, newest first (sources included).
    async fn rule_set_versions(&self, t: TenantId) -> Result<Vec<StoredRuleSet>>;
    /// Saves the next version of the organisation's rules and appends its custody event, in one
    /// transaction. Two saves racing for the same version: the second fails with `Duplicate`.
    async fn save_rule_set(
        &self,
        t: TenantId,
        source: String,
        created_by: String,
        at: DateTime<Utc>,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<(StoredRuleSet, CustodyEvent)>;

    /// A site's configured working-hours calendar (`None`: the default calendar applies).
    async fn site_calendar(&self, t: TenantId, site: SiteId) -> Result<Option<SiteCalendar>>;
    /// Stores a site's calendar and appends its audit event, in one transaction.
    async fn put_site_calendar(&self, cal: &SiteCalendar, actor: &Actor, event: EventDraft) -> Result<CustodyEvent>;
    /// The organisation's unclaimed-item policies, by category.
    async fn unclaimed_policies(&self, t: TenantId) -> Result<Vec<mailroom_domain::followup::UnclaimedPolicy>>;
    /// Replaces the organisation's unclaimed-item policies and appends the audit event, in one
    /// transaction.
    async fn set_unclaimed_policies(
        &self,
        t: TenantId,
        policies: Vec<mailroom_domain::followup::UnclaimedPolicy>,
        at: DateTime<Utc>,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<CustodyEvent>;
    /// Items in progress due at or before `until`, earliest first (optionally only those not yet
    /// marked as breached), with their follow-up records.
    async fn due_items(
        &self,
        t: TenantId,
        until: DateTime<Utc>,
        unbreached_only: bool,
        limit: i64,
    ) -> Result<Vec<FollowupItem>>;
    /// Items waiting for their recipient that arrived at or before `arrived_before`, oldest first
    /// (in id order, after `after`).
    async fn waiting_items(
        &self,
        t: TenantId,
        arrived_before: DateTime<Utc>,
        after: Option<ItemId>,
        limit: i64,
    ) -> Result<Vec<FollowupItem>>;
    /// Items whose final-step request awaits a supervisor's decision.
    async fn pending_disposals(&self, t: TenantId, limit: i64) -> Result<Vec<FollowupItem>>;
    /// One item with its follow-up record.
    async fn item_followup(&self, t: TenantId, id: ItemId) -> Result<Option<FollowupItem>>;
    /// One follow-up step, at most once: locks the item, checks its status is among
    /// `w.statuses`, applies the step's conditional update of the follow-up record and, only if
    /// that took, appends `w.events` and applies `w.change` (with its event), all in one
    /// transaction. `None` when the item moved on or another node did the step first.
    async fn followup_step(&self, w: FollowupWrite, actor: &Actor) -> Result<Option<Vec<CustodyEvent>>>;

    /// The organisation's own notice templates (kinds and languages without one use the
    /// built-in wording).
    async fn notification_templates(&self, t: TenantId) -> Result<Vec<NotificationTemplate>>;
    async fn notification_template(
        &self,
        t: TenantId,
        kind: NoticeKind,
        lang: NoticeLang,
    ) -> Result<Option<NotificationTemplate>>;
    /// Saves the organisation's template for a kind and language (`None`: back to the built-in
    /// wording) and appends the audit event, in one transaction.
    async fn put_notification_template(
        &self,
        t: TenantId,
        kind: NoticeKind,
        lang: NoticeLang,
        template: Option<NotificationTemplate>,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<CustodyEvent>;
    /// A person's saved notification preferences (`None`: the defaults apply, see
    /// [`NotifyPreference::defaults`]).
    async fn notify_preference(&self, t: TenantId, person: PersonId) -> Result<Option<NotifyPreference>>;
    /// The saved preferences of several people (those without are left out).
    async fn notify_preferences(&self, t: TenantId, people: &[PersonId]) -> Result<Vec<NotifyPreference>>;
    /// Saves a person's preferences and appends the audit event, in one transaction.
    async fn put_notify_preference(
        &self,
        t: TenantId,
        pref: &NotifyPreference,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<CustodyEvent>;
    /// The organisation's notification endpoints, by kind and name.
    async fn channel_endpoints(&self, t: TenantId) -> Result<Vec<ChannelEndpoint>>;
    async fn channel_endpoint(&self, t: TenantId, id: EndpointId) -> Result<Option<ChannelEndpoint>>;
    /// Creates or replaces an endpoint (by id) and appends the audit event, in one transaction.
    /// Another endpoint with the same name: `Duplicate`.
    async fn put_channel_endpoint(&self, e: &ChannelEndpoint, actor: &Actor, event: EventDraft)
    -> Result<CustodyEvent>;
    /// Deletes an endpoint with its audit event; `NotFound` if there is none.
    async fn delete_channel_endpoint(
        &self,
        t: TenantId,
        id: EndpointId,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<CustodyEvent>;

    /// Inserts jobs into the durable queue; a job whose idempotency key the tenant already has
    /// is skipped. Returns how many were inserted.
    async fn enqueue_jobs(&self, jobs: &[NewJob]) -> Result<u64>;
    /// Claims up to `limit` due jobs of every tenant for `node` (pending with `run_at <= now`,
    /// or running with an expired lease): status `running`, `locked_by = node`,
    /// `locked_until = now + lease`, one more attempt. Two nodes never claim the same job while
    /// its lease lasts (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: one write of the writer).
    async fn claim_jobs(&self, node: &str, now: DateTime<Utc>, lease: chrono::Duration, limit: i64)
    -> Result<Vec<Job>>;
    /// Whether any job of any tenant is due at `now`, read without writing (idle workers ask
    /// this before they claim).
    async fn jobs_due(&self, now: DateTime<Utc>) -> Result<bool>;
    /// Marks a job done; false (and nothing changed) unless `node` still holds it.
    async fn complete_job(&self, id: JobId, node: &str, now: DateTime<Utc>) -> Result<bool>;
    /// Records a failed attempt: pending again from `retry_at`, or dead when `None`; false (and
    /// nothing changed) unless `node` still holds the job.
    async fn fail_job(
        &self,
        id: JobId,
        node: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    async fn job(&self, t: TenantId, id: JobId) -> Result<Option<Job>>;
    /// A tenant's jobs, optionally only those with one status, newest first.
    async fn list_jobs(&self, t: TenantId, status: Option<&str>, limit: i64) -> Result<Vec<Job>>;
    /// Sends a dead job back to the queue (due at `now`, attempts from zero) and appends its
    /// audit event, in one transaction; false (and nothing written) unless the job was dead.
    async fn retry_job(
        &self,
        t: TenantId,
        id: JobId,
        now: DateTime<Utc>,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<bool>;
    /// How many jobs the tenant has in each status (statuses without jobs left out).
    async fn job_counts(&self, t: TenantId) -> Result<Vec<(String, i64)>>;
    /// Deletes up to `limit` jobs of every tenant that were done before `before`; returns how many.
    async fn prune_jobs(&self, before: DateTime<Utc>, limit: i64) -> Result<u64>;

    /// How far the notification dispatcher has read the organisation's custody log.
    async fn notify_cursor(&self, t: TenantId) -> Result<Option<i64>>;
    /// Moves the dispatcher's cursor forward to `seq` (never back).
    async fn advance_notify_cursor(&self, t: TenantId, seq: i64, at: DateTime<Utc>) -> Result<()>;
    /// Records a notice; false when one with the same idempotency key is already recorded.
    async fn record_notification(&self, n: &NotificationRecord) -> Result<bool>;
    async fn notification_by_key(&self, t: TenantId, key: &str) -> Result<Option<NotificationRecord>>;
    async fn item_notifications(&self, t: TenantId, item: ItemId) -> Result<Vec<NotificationRecord>>;
    async fn recent_notifications(&self, t: TenantId, limit: i64) -> Result<Vec<NotificationRecord>>;
    /// The item's pickup code: `candidate` becomes it unless the item already has one.
    async fn pickup_code(&self, t: TenantId, item: ItemId, candidate: &str, at: DateTime<Utc>) -> Result<String>;
    async fn existing_pickup_code(&self, t: TenantId, item: ItemId) -> Result<Option<String>>;
    /// Opens a staff task of `kind` for the item unless it has one; true when opened.
    async fn open_task(&self, t: TenantId, item: ItemId, kind: &str, at: DateTime<Utc>) -> Result<bool>;
    /// Staff tasks with their items' sender details; all of them (newest first) or those with `status`.
    async fn list_tasks(&self, t: TenantId, status: Option<&str>, limit: i64) -> Result<Vec<StaffTask>>;
    async fn task(&self, t: TenantId, id: uuid::Uuid) -> Result<Option<StaffTask>>;

    /// Cost centres by code.
    async fn cost_centres(&self, t: TenantId) -> Result<Vec<CostCentre>>;
    async fn cost_centre(&self, t: TenantId, id: uuid::Uuid) -> Result<Option<CostCentre>>;
    /// Postage accounts by name.
    async fn postage_accounts(&self, t: TenantId) -> Result<Vec<PostageAccount>>;
    async fn postage_account(&self, t: TenantId, id: uuid::Uuid) -> Result<Option<PostageAccount>>;
    /// Ledger entries newest first, of one account or all.
    async fn postage_ledger(&self, t: TenantId, account: Option<uuid::Uuid>, limit: i64) -> Result<Vec<LedgerEntry>>;
    /// Net spend and number of charges per cost centre in `[from, to)`.
    async fn postage_spend(&self, t: TenantId, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<CostCentreSpend>>;
    async fn postage_rates(&self, t: TenantId) -> Result<Vec<mailroom_domain::postage::RateRow>>;
    /// Writes a ledger entry and the account's new balance in one transaction, with `audit`
    /// appended to the custody log when given. Refused, writing nothing, with a domain error:
    /// `budget_exceeded` past the cost centre's hard monthly limit, `insufficient_balance` when
    /// the balance would go below zero; `NotFound` without the account.
    async fn postage_post(
        &self,
        t: TenantId,
        mv: PostageMove,
        audit: Option<(Actor, EventDraft)>,
    ) -> Result<PostageOutcome>;
    /// Creates outbound items (item, send, `requested` custody event each) all or nothing.
    async fn create_outbound(
        &self,
        t: TenantId,
        records: Vec<(OutboundRecord, EventDraft)>,
        actor: &Actor,
    ) -> Result<()>;
    /// An outbound item with its send; `None` for an unknown or inbound item.
    async fn outbound(&self, t: TenantId, id: ItemId) -> Result<Option<OutboundRecord>>;
    /// Outbound items matching the filter, newest first.
    async fn list_outbound(&self, t: TenantId, f: &OutboundFilter) -> Result<Vec<OutboundRecord>>;
    /// Applies a change to an outbound item with its custody event (and postage movement) in one
    /// transaction; `Stale` when the version moved on, a domain error when the budget or balance
    /// refuses the charge (nothing written).
    async fn change_outbound(
        &self,
        t: TenantId,
        id: ItemId,
        change: OutboundChange,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<OutboundRecord>;
    /// Creates a dispatch batch and applies `changes` (the items put into it) in one transaction.
    async fn create_batch(
        &self,
        t: TenantId,
        batch: DispatchBatch,
        changes: Vec<(ItemId, OutboundChange, EventDraft)>,
        actor: &Actor,
    ) -> Result<()>;
    async fn dispatch_batch(&self, t: TenantId, id: uuid::Uuid) -> Result<Option<DispatchBatch>>;
    /// Batches, latest collection first; all or those with `status`.
    async fn dispatch_batches(&self, t: TenantId, status: Option<String>, limit: i64) -> Result<Vec<DispatchBatch>>;
    /// Marks an open batch handed over to the carrier and applies `changes` (its items dispatched
    /// or taken out), in one transaction; `Stale` when the batch was no longer open.
    #[allow(clippy::too_many_arguments)]
    async fn hand_over_batch(
        &self,
        t: TenantId,
        id: uuid::Uuid,
        at: DateTime<Utc>,
        by: String,
        courier: String,
        changes: Vec<(ItemId, OutboundChange, EventDraft)>,
        actor: &Actor,
    ) -> Result<()>;
    /// Closes an open task and appends `event`, in one transaction; `Stale` when it was not open.
    #[allow(clippy::too_many_arguments)]
    async fn complete_task(
        &self,
        t: TenantId,
        id: uuid::Uuid,
        by: Option<UserId>,
        note: Option<String>,
        at: DateTime<Utc>,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<CustodyEvent>;
}

/// Opens a store from a URL: `sqlite://PATH` (created if missing) or `postgres://…`.
/// Runs the migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url).await?))
    } else {
        Err(StoreError::BadUrl(format!("{url}: use sqlite://PATH or postgres://…")))
    }
}

#[cfg(test)]
mod tests {
    use super::StoreError;

    #[test]
    fn unreachable_databases_are_told_from_wrong_requests() {
        let io = |kind| StoreError::Db(sqlx::Error::Io(std::io::Error::from(kind)));
        for e in [
            io(std::io::ErrorKind::ConnectionRefused),
            io(std::io::ErrorKind::UnexpectedEof),
            io(std::io::ErrorKind::BrokenPipe),
            StoreError::Db(sqlx::Error::PoolTimedOut),
            StoreError::Db(sqlx::Error::PoolClosed),
            StoreError::WriterGone,
        ] {
            assert!(e.is_unavailable(), "{e}");
        }
        for e in [
            StoreError::Db(sqlx::Error::RowNotFound),
            StoreError::Db(sqlx::Error::Protocol("unexpected message".into())),
            StoreError::NotFound,
            StoreError::Stale,
            StoreError::Duplicate("item_tracking".into()),
            StoreError::Corrupt("bad row".into()),
            StoreError::BadUrl("x".into()),
        ] {
            assert!(!e.is_unavailable(), "{e}");
        }
    }

    /// SQLite's "database is locked" reaches the caller as a database error with code 5.
    #[tokio::test]
    async fn a_busy_sqlite_database_is_unavailable() {
        use sqlx::{ConnectOptions, Connection};
        let path = std::env::temp_dir().join(format!("mailroom-busy-{}.db", uuid::Uuid::now_v7().simple()));
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .busy_timeout(std::time::Duration::ZERO);
        let mut a = opts.connect().await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)").execute(&mut a).await.unwrap();
        sqlx::query("BEGIN EXCLUSIVE").execute(&mut a).await.unwrap();
        let mut b = opts.connect().await.unwrap();
        let e = sqlx::query("INSERT INTO t VALUES (1)").execute(&mut b).await.unwrap_err();
        let e = StoreError::Db(e);
        assert!(e.is_unavailable(), "{e:?}");
        b.close().await.unwrap();
        a.close().await.unwrap();
        let _ = std::fs::remove_file(&path);
    }
}
