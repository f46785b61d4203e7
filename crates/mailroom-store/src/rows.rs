//! Row shapes shared by both backends, and their conversion into models.

use crate::models::*;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use mailroom_domain::auth::Role;
use mailroom_domain::custody::CustodyEvent;
use mailroom_domain::item::{Category, Condition, Confidentiality, Handover, IdType, ItemKind, Priority, Status};
use mailroom_domain::throttle::ThrottleState;
use mailroom_domain::token::TokenScope;
use uuid::Uuid;

pub(crate) fn parse<T>(what: &str, v: &str, f: impl Fn(&str) -> Option<T>) -> Result<T> {
    f(v).ok_or_else(|| StoreError::Corrupt(format!("{what} {v:?}")))
}

#[derive(sqlx::FromRow)]
pub(crate) struct TenantRow {
    id: Uuid,
    slug: String,
    name: String,
    created_at: DateTime<Utc>,
}
impl From<TenantRow> for Tenant {
    fn from(r: TenantRow) -> Self {
        Tenant { id: r.id.into(), slug: r.slug, name: r.name, created_at: r.created_at }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SiteRow {
    id: Uuid,
    tenant_id: Uuid,
    name: String,
    address: Option<String>,
    timezone: String,
}
impl From<SiteRow> for Site {
    fn from(r: SiteRow) -> Self {
        Site { id: r.id.into(), tenant_id: r.tenant_id.into(), name: r.name, address: r.address, timezone: r.timezone }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct LocationRow {
    id: Uuid,
    tenant_id: Uuid,
    site_id: Uuid,
    code: String,
    name: String,
    kind: String,
    security_level: i64,
}
impl From<LocationRow> for Location {
    fn from(r: LocationRow) -> Self {
        Location {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            site_id: r.site_id.into(),
            code: r.code,
            name: r.name,
            kind: r.kind,
            security_level: r.security_level,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DepartmentRow {
    id: Uuid,
    tenant_id: Uuid,
    parent_id: Option<Uuid>,
    code: String,
    name: String,
    name_en: Option<String>,
    kind: String,
    key_contact_id: Option<Uuid>,
    email: Option<String>,
}
impl From<DepartmentRow> for Department {
    fn from(r: DepartmentRow) -> Self {
        Department {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            parent_id: r.parent_id.map(Into::into),
            code: r.code,
            name: r.name,
            name_en: r.name_en,
            kind: r.kind,
            key_contact_id: r.key_contact_id.map(Into::into),
            email: r.email,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PersonRow {
    id: Uuid,
    tenant_id: Uuid,
    name: String,
    name_latin: Option<String>,
    aliases: String,
    employee_no: Option<String>,
    department_id: Option<Uuid>,
    email: Option<String>,
    phone: Option<String>,
    active: bool,
    forwarding: Option<String>,
}
impl TryFrom<PersonRow> for Person {
    type Error = StoreError;
    fn try_from(r: PersonRow) -> Result<Self> {
        let aliases: Vec<String> =
            serde_json::from_str(&r.aliases).map_err(|e| StoreError::Corrupt(format!("person aliases: {e}")))?;
        Ok(Person {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            name: r.name,
            name_latin: r.name_latin,
            aliases,
            employee_no: r.employee_no,
            department_id: r.department_id.map(Into::into),
            email: r.email,
            phone: r.phone,
            active: r.active,
            forwarding: r.forwarding,
        })
    }
}

pub(crate) fn person_search_key(p: &Person) -> String {
    let mut parts: Vec<&str> = vec![&p.name];
    if let Some(l) = &p.name_latin {
        parts.push(l);
    }
    parts.extend(p.aliases.iter().map(String::as_str));
    if let Some(n) = &p.employee_no {
        parts.push(n);
    }
    if let Some(e) = &p.email {
        parts.push(e);
    }
    mailroom_domain::text::search_key(&parts)
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    tenant_id: Uuid,
    login: String,
    display_name: String,
    password_hash: Option<String>,
    role: String,
    person_id: Option<Uuid>,
    active: bool,
    created_at: DateTime<Utc>,
}
impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self> {
        Ok(User {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            login: r.login,
            display_name: r.display_name,
            password_hash: r.password_hash,
            role: parse("role", &r.role, Role::parse)?,
            person_id: r.person_id.map(Into::into),
            active: r.active,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AssignmentRow {
    tenant_id: Uuid,
    user_id: Uuid,
    home_tenant_id: Uuid,
    role: String,
    site_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}
impl TryFrom<AssignmentRow> for Assignment {
    type Error = StoreError;
    fn try_from(r: AssignmentRow) -> Result<Self> {
        Ok(Assignment {
            tenant_id: r.tenant_id.into(),
            user_id: r.user_id.into(),
            home_tenant_id: r.home_tenant_id.into(),
            role: parse("role", &r.role, Role::parse)?,
            site_id: r.site_id.map(Into::into),
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ItemCountRow {
    status: String,
    category: String,
    n: i64,
}
impl TryFrom<ItemCountRow> for ItemCount {
    type Error = StoreError;
    fn try_from(r: ItemCountRow) -> Result<Self> {
        Ok(ItemCount {
            status: parse("status", &r.status, Status::parse)?,
            category: parse("category", &r.category, Category::parse)?,
            count: r.n,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    id: Uuid,
    tenant_id: Uuid,
    user_id: Uuid,
    token_hash: String,
    name: String,
    role: Option<String>,
    scope: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}
impl TryFrom<TokenRow> for ApiToken {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<Self> {
        Ok(ApiToken {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            user_id: r.user_id.into(),
            token_hash: r.token_hash,
            name: r.name,
            role: r.role.as_deref().map(|v| parse("token role", v, Role::parse)).transpose()?,
            scope: parse("token scope", &r.scope, TokenScope::parse)?,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
    }
}

pub(crate) const TOKEN_COLUMNS: &str =
    "id, tenant_id, user_id, token_hash, name, role, scope, created_at, expires_at, last_used_at, revoked_at";

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    id_hash: String,
    tenant_id: Uuid,
    user_id: Uuid,
    csrf_token: String,
    lang: String,
    expires_at: DateTime<Utc>,
    last_seen_at: Option<DateTime<Utc>>,
}
impl From<SessionRow> for WebSession {
    fn from(r: SessionRow) -> Self {
        WebSession {
            id_hash: r.id_hash,
            tenant_id: r.tenant_id.into(),
            user_id: r.user_id.into(),
            csrf_token: r.csrf_token,
            lang: r.lang,
            expires_at: r.expires_at,
            last_seen_at: r.last_seen_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ThrottleRow {
    kind: String,
    tenant: String,
    subject: String,
    failures: i64,
    last_failure_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}
impl TryFrom<ThrottleRow> for ThrottleEntry {
    type Error = StoreError;
    fn try_from(r: ThrottleRow) -> Result<Self> {
        let kind = match r.kind.as_str() {
            "account" => ThrottleKind::Account,
            "address" => ThrottleKind::Address,
            other => return Err(StoreError::Corrupt(format!("throttle kind {other:?}"))),
        };
        Ok(ThrottleEntry {
            key: ThrottleKey { kind, tenant: r.tenant, subject: r.subject },
            state: ThrottleState {
                failures: r.failures,
                last_failure_at: r.last_failure_at,
                locked_until: r.locked_until,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AttachmentRow {
    id: Uuid,
    tenant_id: Uuid,
    sha256: String,
    media_type: String,
    size: i64,
    data: Vec<u8>,
    dek_id: Option<Uuid>,
    nonce: Option<Vec<u8>>,
    created_at: DateTime<Utc>,
}
impl From<AttachmentRow> for Attachment {
    fn from(r: AttachmentRow) -> Self {
        Attachment {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            sha256: r.sha256,
            media_type: r.media_type,
            size: r.size,
            data: r.data,
            sealed: r.dek_id.map(|d| Sealed { data_key_id: d.into(), nonce: r.nonce.unwrap_or_default() }),
            created_at: r.created_at,
        }
    }
}

pub(crate) const DATA_KEY_COLUMNS: &str = "id, tenant_id, category, period_start, period_end, master_key_id, wrapped, \
    created_at, retired_at, shredded_at";

#[derive(sqlx::FromRow)]
pub(crate) struct DataKeyRow {
    id: Uuid,
    tenant_id: Uuid,
    category: String,
    period_start: DateTime<Utc>,
    period_end: DateTime<Utc>,
    master_key_id: Option<String>,
    wrapped: Option<Vec<u8>>,
    created_at: DateTime<Utc>,
    retired_at: Option<DateTime<Utc>>,
    shredded_at: Option<DateTime<Utc>>,
}
impl TryFrom<DataKeyRow> for DataKey {
    type Error = StoreError;
    fn try_from(r: DataKeyRow) -> Result<Self> {
        Ok(DataKey {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            category: parse("data key category", &r.category, Category::parse)?,
            period_start: r.period_start,
            period_end: r.period_end,
            master_key_id: r.master_key_id,
            wrapped: r.wrapped,
            created_at: r.created_at,
            retired_at: r.retired_at,
            shredded_at: r.shredded_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RetentionRow {
    category: String,
    days: i64,
    updated_at: DateTime<Utc>,
}
impl TryFrom<RetentionRow> for RetentionPolicy {
    type Error = StoreError;
    fn try_from(r: RetentionRow) -> Result<Self> {
        Ok(RetentionPolicy {
            category: parse("retention category", &r.category, Category::parse)?,
            days: r.days,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RuleSetRow {
    version: i64,
    source: String,
    created_by: String,
    created_at: DateTime<Utc>,
}
impl From<RuleSetRow> for StoredRuleSet {
    fn from(r: RuleSetRow) -> Self {
        StoredRuleSet { version: r.version, source: r.source, created_by: r.created_by, created_at: r.created_at }
    }
}

pub(crate) const ITEM_COLUMNS: &str = "id, tenant_id, site_id, reference, kind, category, priority, confidentiality, carrier, \
    tracking_number, sender_name, sender_org, sender_address, sender_country, recipient_person_id, \
    recipient_department_id, recipient_name, condition, damage_description, notes, seal_number, status, location_id, \
    created_at, updated_at, version, route, due_by, details_pending";

#[derive(sqlx::FromRow)]
pub(crate) struct ItemRow {
    pub(crate) id: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) site_id: Option<Uuid>,
    pub(crate) reference: String,
    pub(crate) kind: String,
    pub(crate) category: String,
    pub(crate) priority: String,
    pub(crate) confidentiality: String,
    pub(crate) carrier: Option<String>,
    pub(crate) tracking_number: Option<String>,
    pub(crate) sender_name: Option<String>,
    pub(crate) sender_org: Option<String>,
    pub(crate) sender_address: Option<String>,
    pub(crate) sender_country: Option<String>,
    pub(crate) recipient_person_id: Option<Uuid>,
    pub(crate) recipient_department_id: Option<Uuid>,
    pub(crate) recipient_name: String,
    pub(crate) condition: String,
    pub(crate) damage_description: Option<String>,
    pub(crate) notes: Option<String>,
    pub(crate) seal_number: Option<String>,
    pub(crate) status: String,
    pub(crate) location_id: Option<Uuid>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) version: i64,
    pub(crate) route: Option<String>,
    pub(crate) due_by: Option<DateTime<Utc>>,
    pub(crate) details_pending: bool,
}
impl TryFrom<ItemRow> for Item {
    type Error = StoreError;
    fn try_from(r: ItemRow) -> Result<Self> {
        Ok(Item {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            site_id: r.site_id.map(Into::into),
            reference: r.reference,
            kind: parse("kind", &r.kind, ItemKind::parse)?,
            category: parse("category", &r.category, Category::parse)?,
            priority: parse("priority", &r.priority, Priority::parse)?,
            confidentiality: parse("confidentiality", &r.confidentiality, Confidentiality::parse)?,
            carrier: r.carrier,
            tracking_number: r.tracking_number,
            sender_name: r.sender_name,
            sender_org: r.sender_org,
            sender_address: r.sender_address,
            sender_country: r.sender_country,
            recipient_person_id: r.recipient_person_id.map(Into::into),
            recipient_department_id: r.recipient_department_id.map(Into::into),
            recipient_name: r.recipient_name,
            condition: parse("condition", &r.condition, Condition::parse)?,
            damage_description: r.damage_description,
            notes: r.notes,
            seal_number: r.seal_number,
            status: parse("status", &r.status, Status::parse)?,
            location_id: r.location_id.map(Into::into),
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
            route: r.route,
            due_by: r.due_by,
            details_pending: r.details_pending,
            redacted: false,
        })
    }
}

/// Search text anyone who may list the item can match: for confidential items only the outside
/// of the envelope (reference, tracking number, recipient, carrier).
pub(crate) fn item_search_text(i: &Item) -> String {
    let mut parts: Vec<&str> = [
        Some(i.reference.as_str()),
        i.tracking_number.as_deref(),
        Some(i.recipient_name.as_str()),
        i.carrier.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if item_secret_level(i) == 0 {
        parts.extend([i.sender_name.as_deref(), i.sender_org.as_deref(), i.notes.as_deref()].into_iter().flatten());
    }
    mailroom_domain::text::search_key(&parts)
}

/// Search text only the recipient and cleared staff may match.
pub(crate) fn item_secret_text(i: &Item) -> String {
    if item_secret_level(i) == 0 {
        return String::new();
    }
    let parts: Vec<&str> =
        [i.sender_name.as_deref(), i.sender_org.as_deref(), i.notes.as_deref()].into_iter().flatten().collect();
    mailroom_domain::text::search_key(&parts)
}

pub(crate) fn item_secret_level(i: &Item) -> i64 {
    mailroom_domain::item::security_level(i.kind, i.confidentiality)
}

#[derive(sqlx::FromRow)]
pub(crate) struct HandoverRow {
    item_id: Uuid,
    action: String,
    taken_by: String,
    taken_by_person_id: Option<Uuid>,
    place: Option<String>,
    id_type: Option<String>,
    id_last_digits: Option<String>,
    signature_id: Uuid,
    at: DateTime<Utc>,
    staff_user_id: Option<Uuid>,
}
impl TryFrom<HandoverRow> for HandoverRecord {
    type Error = StoreError;
    fn try_from(r: HandoverRow) -> Result<Self> {
        let id_type = match r.id_type {
            Some(t) => Some(parse("id_type", &t, IdType::parse)?),
            None => None,
        };
        Ok(HandoverRecord {
            item_id: r.item_id.into(),
            action: r.action,
            handover: Handover {
                taken_by: r.taken_by,
                taken_by_person: r.taken_by_person_id.map(Into::into),
                place: r.place,
                id_type,
                id_last_digits: r.id_last_digits,
            },
            signature_id: r.signature_id.into(),
            at: r.at,
            staff_user_id: r.staff_user_id.map(Into::into),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    id: Uuid,
    tenant_id: Uuid,
    seq: i64,
    item_id: Option<Uuid>,
    kind: String,
    actor_id: Option<Uuid>,
    actor_name: String,
    source: String,
    request_id: String,
    location_id: Option<Uuid>,
    at: DateTime<Utc>,
    details: String,
    prev_hash: String,
    hash: String,
}
impl From<EventRow> for CustodyEvent {
    fn from(r: EventRow) -> Self {
        CustodyEvent {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            seq: r.seq,
            item_id: r.item_id.map(Into::into),
            kind: r.kind,
            actor_id: r.actor_id.map(Into::into),
            actor_name: r.actor_name,
            source: r.source,
            request_id: r.request_id,
            location_id: r.location_id.map(Into::into),
            at: r.at,
            details: r.details,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// Maps sqlx errors: unique violations become [`StoreError::Duplicate`].
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e
        && d.is_unique_violation()
    {
        return StoreError::Duplicate(d.constraint().map(str::to_string).unwrap_or_else(|| d.message().to_string()));
    }
    if let sqlx::Error::Database(d) = &e
        && d.is_foreign_key_violation()
    {
        return StoreError::Domain(mailroom_domain::DomainError::invalid(
            "reference",
            "the record refers to something that does not exist in this organisation",
        ));
    }
    StoreError::Db(e)
}

/// Escapes LIKE wildcards in user text (escape character `\`).
/// A `LIKE` pattern matching values that start with `prefix` (as given, with `\\` as the escape).
pub(crate) fn like_escape(prefix: &str) -> String {
    let mut s = String::with_capacity(prefix.len());
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

pub(crate) fn like_pattern(q: &str) -> String {
    let mut s = String::from("%");
    for c in q.trim().chars().flat_map(char::to_lowercase) {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

#[derive(sqlx::FromRow)]
pub(crate) struct DelegationRow {
    id: Uuid,
    tenant_id: Uuid,
    grantor_id: Uuid,
    delegate_id: Uuid,
    scope: String,
    category: Option<String>,
    item_ids: String,
    valid_from: DateTime<Utc>,
    valid_until: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    created_by: Uuid,
    created_at: DateTime<Utc>,
}
impl TryFrom<DelegationRow> for Delegation {
    type Error = StoreError;
    fn try_from(r: DelegationRow) -> Result<Self> {
        let ids: Vec<Uuid> =
            serde_json::from_str(&r.item_ids).map_err(|e| StoreError::Corrupt(format!("delegation items: {e}")))?;
        let category = match r.category {
            Some(c) => Some(parse("category", &c, Category::parse)?),
            None => None,
        };
        Ok(Delegation {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            grantor_id: r.grantor_id.into(),
            delegate_id: r.delegate_id.into(),
            scope: r.scope,
            category,
            item_ids: ids.into_iter().map(Into::into).collect(),
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            revoked_at: r.revoked_at,
            created_by: r.created_by.into(),
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ItemPhotoRow {
    attachment_id: Uuid,
    item_id: Uuid,
    media_type: String,
    size: i64,
    sha256: String,
    added_at: DateTime<Utc>,
    added_by: Option<Uuid>,
}
impl From<ItemPhotoRow> for ItemPhoto {
    fn from(r: ItemPhotoRow) -> Self {
        ItemPhoto {
            id: r.attachment_id.into(),
            item_id: r.item_id.into(),
            media_type: r.media_type,
            size: r.size,
            sha256: r.sha256,
            added_at: r.added_at,
            added_by: r.added_by.map(Into::into),
        }
    }
}
/// The columns of an exception with those of its item it is shown with (`e` and `i`).
pub(crate) const EXCEPTION_COLUMNS: &str = "e.id, e.tenant_id, e.item_id, e.reason, e.label_text, e.candidates, \
    e.status, e.opened_at, e.opened_by, e.resolved_at, e.resolved_by, e.resolution, e.resolution_note, \
    i.reference AS item_reference, i.tracking_number, i.carrier, i.version AS item_version";

#[derive(sqlx::FromRow)]
pub(crate) struct ExceptionRow {
    id: Uuid,
    tenant_id: Uuid,
    item_id: Uuid,
    reason: String,
    label_text: Option<String>,
    candidates: String,
    status: String,
    opened_at: DateTime<Utc>,
    opened_by: Option<Uuid>,
    resolved_at: Option<DateTime<Utc>>,
    resolved_by: Option<Uuid>,
    resolution: Option<String>,
    resolution_note: Option<String>,
    item_reference: String,
    tracking_number: Option<String>,
    carrier: Option<String>,
    item_version: i64,
}
impl TryFrom<ExceptionRow> for ItemException {
    type Error = StoreError;
    fn try_from(r: ExceptionRow) -> Result<Self> {
        use mailroom_domain::exception::{ExceptionReason, ExceptionStatus, Resolution};
        let candidates: Vec<RecipientCandidate> = serde_json::from_str(&r.candidates)
            .map_err(|e| StoreError::Corrupt(format!("exception candidates: {e}")))?;
        let resolution = match r.resolution {
            Some(x) => Some(parse("resolution", &x, Resolution::parse)?),
            None => None,
        };
        Ok(ItemException {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            item_id: r.item_id.into(),
            reason: parse("reason", &r.reason, ExceptionReason::parse)?,
            label_text: r.label_text,
            candidates,
            status: parse("status", &r.status, ExceptionStatus::parse)?,
            opened_at: r.opened_at,
            opened_by: r.opened_by.map(Into::into),
            resolved_at: r.resolved_at,
            resolved_by: r.resolved_by.map(Into::into),
            resolution,
            resolution_note: r.resolution_note,
            item_reference: r.item_reference,
            tracking_number: r.tracking_number,
            carrier: r.carrier,
            item_version: r.item_version,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct NotificationRow {
    id: Uuid,
    tenant_id: Uuid,
    item_id: Option<Uuid>,
    person_id: Option<Uuid>,
    kind: String,
    channel: String,
    target: String,
    lang: String,
    subject: String,
    status: String,
    detail: Option<String>,
    idempotency_key: String,
    created_at: DateTime<Utc>,
}
impl From<NotificationRow> for NotificationRecord {
    fn from(r: NotificationRow) -> Self {
        NotificationRecord {
            id: r.id,
            tenant_id: r.tenant_id.into(),
            item_id: r.item_id.map(Into::into),
            person_id: r.person_id.map(Into::into),
            kind: r.kind,
            channel: r.channel,
            target: r.target,
            lang: r.lang,
            subject: r.subject,
            status: r.status,
            detail: r.detail,
            idempotency_key: r.idempotency_key,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct StaffTaskRow {
    id: Uuid,
    tenant_id: Uuid,
    item_id: Uuid,
    kind: String,
    status: String,
    opened_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
    done_by: Option<Uuid>,
    note: Option<String>,
    item_reference: String,
    recipient_name: String,
    sender_name: Option<String>,
    sender_org: Option<String>,
    sender_address: Option<String>,
    damage_description: Option<String>,
    carrier: Option<String>,
    tracking_number: Option<String>,
}
impl From<StaffTaskRow> for StaffTask {
    fn from(r: StaffTaskRow) -> Self {
        StaffTask {
            id: r.id,
            tenant_id: r.tenant_id.into(),
            item_id: r.item_id.into(),
            kind: r.kind,
            status: r.status,
            opened_at: r.opened_at,
            done_at: r.done_at,
            done_by: r.done_by.map(Into::into),
            note: r.note,
            item_reference: r.item_reference,
            recipient_name: r.recipient_name,
            sender_name: r.sender_name,
            sender_org: r.sender_org,
            sender_address: r.sender_address,
            damage_description: r.damage_description,
            carrier: r.carrier,
            tracking_number: r.tracking_number,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    id: Uuid,
    tenant_id: Uuid,
    kind: String,
    payload: String,
    idempotency_key: String,
    status: String,
    attempts: i32,
    max_attempts: i32,
    run_at: DateTime<Utc>,
    locked_by: Option<String>,
    locked_until: Option<DateTime<Utc>>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}
impl TryFrom<JobRow> for Job {
    type Error = StoreError;
    fn try_from(r: JobRow) -> Result<Self> {
        let payload = serde_json::from_str(&r.payload).map_err(|e| StoreError::Corrupt(format!("job payload: {e}")))?;
        Ok(Job {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            kind: r.kind,
            payload,
            idempotency_key: r.idempotency_key,
            status: r.status,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            run_at: r.run_at,
            locked_by: r.locked_by,
            locked_until: r.locked_until,
            last_error: r.last_error,
            created_at: r.created_at,
            finished_at: r.finished_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TemplateRow {
    kind: String,
    lang: String,
    subject: String,
    body: String,
    updated_at: DateTime<Utc>,
    updated_by: String,
}
impl TryFrom<TemplateRow> for NotificationTemplate {
    type Error = StoreError;
    fn try_from(r: TemplateRow) -> Result<Self> {
        use mailroom_domain::notify::{Lang, NoticeKind};
        Ok(NotificationTemplate {
            kind: parse("notice kind", &r.kind, NoticeKind::parse)?,
            lang: parse("notice language", &r.lang, Lang::parse)?,
            subject: r.subject,
            body: r.body,
            updated_at: r.updated_at,
            updated_by: r.updated_by,
        })
    }
}

fn parse_hhmm(what: &str, v: &str) -> Result<chrono::NaiveTime> {
    chrono::NaiveTime::parse_from_str(v, "%H:%M").map_err(|_| StoreError::Corrupt(format!("{what} {v:?}")))
}

/// A time of day as stored: "HH:MM".
pub(crate) fn hhmm(t: chrono::NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

#[derive(sqlx::FromRow)]
pub(crate) struct PreferenceRow {
    person_id: Uuid,
    lang: String,
    email: bool,
    sms: bool,
    robot: bool,
    quiet_start: Option<String>,
    quiet_end: Option<String>,
    digest: bool,
    digest_at: Option<String>,
    updated_at: DateTime<Utc>,
}
impl TryFrom<PreferenceRow> for NotifyPreference {
    type Error = StoreError;
    fn try_from(r: PreferenceRow) -> Result<Self> {
        use mailroom_domain::notify::{Lang, QuietHours};
        let quiet = match (r.quiet_start, r.quiet_end) {
            (Some(s), Some(e)) => {
                Some(QuietHours { start: parse_hhmm("quiet hours", &s)?, end: parse_hhmm("quiet hours", &e)? })
            }
            _ => None,
        };
        Ok(NotifyPreference {
            person_id: r.person_id.into(),
            lang: parse("notice language", &r.lang, Lang::parse)?,
            email: r.email,
            sms: r.sms,
            robot: r.robot,
            quiet,
            digest: r.digest,
            digest_at: r.digest_at.as_deref().map(|d| parse_hhmm("digest time", d)).transpose()?,
            updated_at: Some(r.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EndpointRow {
    tenant_id: Uuid,
    id: Uuid,
    kind: String,
    name: String,
    url: String,
    secret: Option<String>,
    config: String,
    department_id: Option<Uuid>,
    events: String,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}
impl TryFrom<EndpointRow> for ChannelEndpoint {
    type Error = StoreError;
    fn try_from(r: EndpointRow) -> Result<Self> {
        use mailroom_domain::notify::{EndpointKind, NoticeKind};
        let events = r
            .events
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| parse("notice kind", e, NoticeKind::parse))
            .collect::<Result<Vec<_>>>()?;
        Ok(ChannelEndpoint {
            id: r.id.into(),
            tenant_id: r.tenant_id.into(),
            kind: parse("endpoint kind", &r.kind, EndpointKind::parse)?,
            name: r.name,
            url: r.url,
            secret: r.secret,
            config: serde_json::from_str(&r.config)
                .map_err(|e| StoreError::Corrupt(format!("endpoint config: {e}")))?,
            department_id: r.department_id.map(Into::into),
            events,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// The notice kinds of an endpoint as stored: comma-separated, empty for every kind.
pub(crate) fn events_text(events: &[mailroom_domain::notify::NoticeKind]) -> String {
    events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(",")
}
