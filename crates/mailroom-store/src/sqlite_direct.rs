//! The SQLite writer's direct path. The driver runs every statement on a worker thread of its
//! own, so a statement from the writer is a round trip between two threads: two wake-ups, each
//! of which costs far more on a virtual machine than the statement itself. The writer therefore
//! locks the connection's handle once per batch (one round trip) and runs the batch's plain
//! intakes, the chain-head updates and the COMMIT on its own thread, through the same SQLite
//! handle and inside the same transaction as the batch's other writes.
//!
//! Values are bound exactly as the driver binds them (UUIDs as 16-byte blobs, times as RFC 3339
//! text with the driver's precision, booleans as 0/1), so rows written here read back like any
//! other; `direct_rows_match_driver_rows` below compares the two byte for byte.

use std::sync::LazyLock;

use chrono::{DateTime, SecondsFormat, Utc};
use mailroom_domain::custody::{self, Actor, CustodyEvent, EventDraft};
use mailroom_domain::ids::{ItemId, TenantId};
use rusqlite::ffi;
use sqlx::sqlite::LockedSqliteHandle;

use crate::rows::parse;
use crate::{Item, ItemInsert, Result, StoreError};

/// The writer connection seen directly: a `rusqlite` view of the driver's handle. Used only while
/// the driver's lock on the handle is held, which every method asks for.
pub(super) struct Direct {
    db: rusqlite::Connection,
}

impl Direct {
    /// Attaches to the handle `lock` holds. The view never closes the handle (it does not own
    /// it); its prepared statements are finalised when it is dropped, which must happen while the
    /// lock is held too (see [`Direct::detach`]).
    pub(super) fn attach(lock: &mut LockedSqliteHandle<'_>) -> Result<Direct> {
        let raw = lock.as_raw_handle().as_ptr();
        // SAFETY: `raw` is the open handle of the writer connection, which outlives this view
        // (the writer drops the view before the connection), and the view is used only while
        // the driver's lock on that handle is held (`on` asks for the guard), so no other thread
        // uses the handle at the same time. `from_handle` does not take ownership.
        let db = unsafe { rusqlite::Connection::from_handle(raw) }.map_err(sqlite_err)?;
        Ok(Direct { db })
    }

    /// The connection, for as long as the handle stays locked.
    pub(super) fn on<'a>(&'a self, _lock: &'a LockedSqliteHandle<'_>) -> &'a rusqlite::Connection {
        &self.db
    }

    /// Finalises the view's prepared statements while the handle is locked.
    pub(super) fn detach(self, _lock: &LockedSqliteHandle<'_>) {
        drop(self.db);
    }
}

/// A registration the writer runs directly: the common intake (no exception, not damaged), with
/// or without an idempotency key.
pub(super) struct Intake {
    pub ins: ItemInsert,
    pub actor: Actor,
    pub draft: EventDraft,
    /// Once committed: what was written, and the intake's item handed back.
    pub reply: tokio::sync::oneshot::Sender<Result<(Written, Item)>>,
}

/// What a direct intake wrote.
pub(super) enum Written {
    /// The item, created.
    Created,
    /// Nothing new: the item's tracking number was registered before (to another item).
    Tracked,
    /// Nothing: the idempotency key was used before, for the same request, which then answered
    /// with this item (`created` as it was then).
    Replayed { item: ItemId, created: bool },
}

/// The request hash, item and `created` recorded for an idempotency key.
pub(super) fn read_key(db: &rusqlite::Connection, t: TenantId, key: &str) -> Result<Option<(String, ItemId, bool)>> {
    let mut st = db
        .prepare_cached("SELECT request_hash, item_id, created FROM idempotency_key WHERE tenant_id = ?1 AND key = ?2")
        .map_err(sqlite_err)?;
    let mut rows = st.query(rusqlite::params![t.0.as_bytes().as_slice(), key]).map_err(sqlite_err)?;
    match rows.next().map_err(sqlite_err)? {
        Some(row) => {
            let id: Vec<u8> = row.get(1).map_err(sqlite_err)?;
            let id =
                uuid::Uuid::from_slice(&id).map_err(|e| StoreError::Corrupt(format!("idempotency key item: {e}")))?;
            Ok(Some((row.get(0).map_err(sqlite_err)?, ItemId(id), row.get(2).map_err(sqlite_err)?)))
        }
        None => Ok(None),
    }
}

/// The id of the tenant's item with this tracking number.
pub(super) fn item_id_by_tracking(db: &rusqlite::Connection, t: TenantId, tracking: &str) -> Result<ItemId> {
    let mut st =
        db.prepare_cached("SELECT id FROM item WHERE tenant_id = ?1 AND tracking_number = ?2").map_err(sqlite_err)?;
    let mut rows = st.query(rusqlite::params![t.0.as_bytes().as_slice(), tracking]).map_err(sqlite_err)?;
    let row = rows.next().map_err(sqlite_err)?.ok_or(StoreError::NotFound)?;
    let id: Vec<u8> = row.get(0).map_err(sqlite_err)?;
    Ok(ItemId(uuid::Uuid::from_slice(&id).map_err(|e| StoreError::Corrupt(format!("item id: {e}")))?))
}

/// Records the answer given under an idempotency key, as the driver path does.
pub(super) fn insert_key(
    db: &rusqlite::Connection,
    t: TenantId,
    (key, hash): (&str, &str),
    item: ItemId,
    created: bool,
) -> Result<()> {
    let mut st = db
        .prepare_cached(
            "INSERT INTO idempotency_key (tenant_id, key, request_hash, item_id, created, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(sqlite_err)?;
    st.execute(rusqlite::params![
        t.0.as_bytes().as_slice(),
        key,
        hash,
        item.0.as_bytes().as_slice(),
        created,
        time_text(Utc::now())
    ])
    .map_err(sqlite_err)?;
    Ok(())
}

/// Runs `f` behind savepoint `k`: all of it or, when it fails, none of it.
pub(super) fn all_or_nothing<T>(db: &rusqlite::Connection, f: impl FnOnce() -> Result<T>) -> Result<T> {
    db.execute_batch("SAVEPOINT k").map_err(sqlite_err)?;
    match f() {
        Ok(v) => {
            db.execute_batch("RELEASE k").map_err(sqlite_err)?;
            Ok(v)
        }
        Err(e) => {
            if !db.is_autocommit()
                && let Err(u) = db.execute_batch("ROLLBACK TO k; RELEASE k")
            {
                tracing::error!(error = %u, "could not undo a failed intake");
                // Ends the transaction, so the writer answers the whole batch with the failure.
                let _ = db.execute_batch("ROLLBACK");
            }
            Err(e)
        }
    }
}

/// Starts the batch's transaction (when no driver statement has started it).
pub(super) fn begin(db: &rusqlite::Connection) -> Result<()> {
    db.execute_batch("BEGIN IMMEDIATE").map_err(sqlite_err)
}

/// The tenant's chain head as stored.
pub(super) fn read_head(db: &rusqlite::Connection, t: TenantId) -> Result<(i64, String)> {
    let mut st = db.prepare_cached(super::READ_HEAD_SQL).map_err(sqlite_err)?;
    let mut rows = st.query([t.0.as_bytes().as_slice()]).map_err(sqlite_err)?;
    match rows.next().map_err(sqlite_err)? {
        Some(row) => Ok((row.get(0).map_err(sqlite_err)?, row.get(1).map_err(sqlite_err)?)),
        None => Err(StoreError::NotFound),
    }
}

/// Inserts the item with its first custody event, chained after `head`, unless the tenant
/// already has an item with that tracking number (then nothing is written and the answer is
/// `None`). Returns the new event.
///
/// Two plain single-row INSERTs rather than one statement through the `item_intake` view (as the
/// driver path does): a statement that runs a trigger makes SQLite copy every page it changes
/// into a statement journal first, in case it has to undo half of it, which cost the writer
/// about a tenth of its time. A single-row INSERT checks its constraints before it changes
/// anything, so a failed one leaves nothing behind; if the event's INSERT fails, the item written
/// just before it is deleted again, and should that fail too the error ends the batch's
/// transaction (the writer then rolls it back).
pub(super) fn insert_intake(
    db: &rusqlite::Connection,
    job: &Intake,
    head: &(i64, String),
) -> Result<Option<CustodyEvent>> {
    static ITEM_SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "INSERT INTO item ({}) VALUES {}",
            super::ITEM_INSERT_COLUMNS,
            super::values_placeholders(1, super::ITEM_INSERT_COUNT)
        )
    });
    static EVENT_SQL: LazyLock<String> = LazyLock::new(|| {
        format!("INSERT INTO custody_event ({}) VALUES {}", super::EVENT_COLUMNS, super::values_placeholders(1, 14))
    });
    let i = &job.ins.item;
    let ev = custody::seal(i.tenant_id, head.0 + 1, &head.1, &job.actor, &job.draft, Utc::now());
    let mut st = db.prepare_cached(ITEM_SQL.as_str()).map_err(sqlite_err)?;
    bind_item(&mut Binder { st: &mut st, next: 1 }, i)?;
    match st.raw_execute() {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) && e.to_string().contains("item.tracking_number") => return Ok(None),
        Err(e) => return Err(sqlite_err(e)),
    }
    let mut st = db.prepare_cached(EVENT_SQL.as_str()).map_err(sqlite_err)?;
    bind_event(&mut Binder { st: &mut st, next: 1 }, &ev)?;
    match st.raw_execute() {
        Ok(_) => Ok(Some(ev)),
        Err(e) => {
            let mut undo = db.prepare_cached("DELETE FROM item WHERE id = ?1").map_err(sqlite_err)?;
            if let Err(u) = undo.execute([i.id.0.as_bytes().as_slice()]) {
                tracing::error!(error = %u, "could not remove an item whose custody event failed");
                // Ends the transaction, so the writer answers the whole batch with the failure.
                let _ = db.execute_batch("ROLLBACK");
            }
            Err(sqlite_err(e))
        }
    }
}

/// Moves the stored chain heads, releases the open savepoint (if any) and commits.
pub(super) fn commit(db: &rusqlite::Connection, release: bool, heads: &[(TenantId, (i64, String))]) -> Result<()> {
    if release {
        db.execute_batch("RELEASE w").map_err(sqlite_err)?;
    }
    for (t, (seq, hash)) in heads {
        let mut st = db.prepare_cached(super::WRITE_HEAD_SQL).map_err(sqlite_err)?;
        st.execute(rusqlite::params![seq, hash, t.0.as_bytes().as_slice()]).map_err(sqlite_err)?;
    }
    db.execute_batch("COMMIT").map_err(sqlite_err)
}

/// Undoes the open transaction, if SQLite has not already.
pub(super) fn rollback(db: &rusqlite::Connection) {
    if !db.is_autocommit()
        && let Err(e) = db.execute_batch("ROLLBACK")
    {
        tracing::error!(error = %e, "could not roll back the write transaction");
    }
}

/// Whether SQLite ended the transaction by itself (after an I/O error, say): then nothing more
/// may run in the batch, as it would run outside the transaction.
pub(super) fn transaction_lost(db: &rusqlite::Connection) -> bool {
    db.is_autocommit()
}

struct Binder<'a, 's> {
    st: &'a mut rusqlite::CachedStatement<'s>,
    next: usize,
}

impl Binder<'_, '_> {
    fn value<T: rusqlite::ToSql>(&mut self, v: T) -> Result<()> {
        self.st.raw_bind_parameter(self.next, v).map_err(sqlite_err)?;
        self.next += 1;
        Ok(())
    }
    fn uuid(&mut self, v: uuid::Uuid) -> Result<()> {
        self.value(v.as_bytes().as_slice())
    }
    fn opt_uuid(&mut self, v: Option<uuid::Uuid>) -> Result<()> {
        match v {
            Some(u) => self.uuid(u),
            None => self.value(rusqlite::types::Null),
        }
    }
    fn time(&mut self, v: DateTime<Utc>) -> Result<()> {
        self.value(time_text(v))
    }
}

/// A time as the driver stores it.
fn time_text(v: DateTime<Utc>) -> String {
    v.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Binds an item's values in `ITEM_INSERT_COLUMNS` order, as `bind_item` does for the driver.
fn bind_item(b: &mut Binder<'_, '_>, i: &Item) -> Result<()> {
    b.uuid(i.id.0)?;
    b.uuid(i.tenant_id.0)?;
    b.opt_uuid(i.site_id.map(|s| s.0))?;
    b.value(&i.reference)?;
    b.value(i.kind.as_str())?;
    b.value(i.category.as_str())?;
    b.value(i.priority.as_str())?;
    b.value(i.confidentiality.as_str())?;
    b.value(&i.carrier)?;
    b.value(&i.tracking_number)?;
    b.value(&i.sender_name)?;
    b.value(&i.sender_org)?;
    b.value(&i.sender_address)?;
    b.value(&i.sender_country)?;
    b.opt_uuid(i.recipient_person_id.map(|p| p.0))?;
    b.opt_uuid(i.recipient_department_id.map(|d| d.0))?;
    b.value(&i.recipient_name)?;
    b.value(i.condition.as_str())?;
    b.value(&i.damage_description)?;
    b.value(&i.notes)?;
    b.value(&i.seal_number)?;
    b.value(i.status.as_str())?;
    b.opt_uuid(i.location_id.map(|l| l.0))?;
    b.time(i.created_at)?;
    b.time(i.updated_at)?;
    b.value(i.version)?;
    b.value(&i.route)?;
    b.value(i.due_by.map(time_text))?;
    b.value(crate::rows::item_search_text(i))?;
    b.value(crate::rows::item_secret_text(i))?;
    b.value(crate::rows::item_secret_level(i))?;
    b.value(i.details_pending)
}

/// Binds an event's values in `EVENT_COLUMNS` order, as `bind_event` does for the driver.
fn bind_event(b: &mut Binder<'_, '_>, ev: &CustodyEvent) -> Result<()> {
    b.uuid(ev.id.0)?;
    b.uuid(ev.tenant_id.0)?;
    b.value(ev.seq)?;
    b.opt_uuid(ev.item_id.map(|i| i.0))?;
    b.value(&ev.kind)?;
    b.opt_uuid(ev.actor_id.map(|i| i.0))?;
    b.value(&ev.actor_name)?;
    b.value(&ev.source)?;
    b.value(&ev.request_id)?;
    b.opt_uuid(ev.location_id.map(|i| i.0))?;
    b.time(ev.at)?;
    b.value(&ev.details)?;
    b.value(&ev.prev_hash)?;
    b.value(&ev.hash)
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error(), Some(f) if f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
        || f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// Maps an error as `db_err` maps the driver's: unique violations to `Duplicate` (naming the
/// columns), foreign keys to a domain error, the rest to a database error.
pub(super) fn sqlite_err(e: rusqlite::Error) -> StoreError {
    if is_unique_violation(&e) {
        return StoreError::Duplicate(e.to_string());
    }
    if matches!(e.sqlite_error(), Some(f) if f.extended_code == ffi::SQLITE_CONSTRAINT_FOREIGNKEY) {
        return StoreError::Domain(mailroom_domain::DomainError::invalid(
            "reference",
            "the record refers to something that does not exist in this organisation",
        ));
    }
    StoreError::Db(sqlx::Error::Protocol(format!("sqlite: {e}")))
}

/// Read-only connections of our own, for the two reads every intake makes (the caller's bearer
/// token, the recipient): a statement of a few microseconds runs on the calling thread instead of
/// being handed to the driver's worker thread and back. When all are busy, or when a row holds
/// something these decoders do not expect, the caller uses the driver's connections instead.
pub(super) struct DirectReads {
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
}

/// Direct read connections; as many as the runtime has threads running such a read at once.
const DIRECT_READS: usize = 4;

impl DirectReads {
    pub(super) fn open(path: &std::path::Path) -> Result<DirectReads> {
        use rusqlite::OpenFlags;
        let mut idle = Vec::with_capacity(DIRECT_READS);
        for _ in 0..DIRECT_READS {
            let db = rusqlite::Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(sqlite_err)?;
            db.busy_timeout(std::time::Duration::from_secs(30)).map_err(sqlite_err)?;
            // As the driver's read connections: small cache, no memory map.
            db.execute_batch("PRAGMA query_only = 1; PRAGMA cache_size = -2048;").map_err(sqlite_err)?;
            idle.push(db);
        }
        Ok(DirectReads { idle: std::sync::Mutex::new(idle) })
    }

    /// Runs `f` on an idle connection; `None` when none is idle or `f` failed (the caller then
    /// reads through the driver, which reports any real error).
    pub(super) fn run<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> Result<T>) -> Option<T> {
        let db = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop()?;
        let r = f(&db);
        self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(db);
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::debug!(error = %e, "direct read failed; reading through the driver");
                None
            }
        }
    }
}

fn get<T: rusqlite::types::FromSql>(row: &rusqlite::Row<'_>, i: usize) -> Result<T> {
    row.get(i).map_err(sqlite_err)
}

fn get_uuid(row: &rusqlite::Row<'_>, i: usize) -> Result<uuid::Uuid> {
    let b: Vec<u8> = get(row, i)?;
    uuid::Uuid::from_slice(&b).map_err(|e| StoreError::Corrupt(format!("uuid: {e}")))
}

fn get_opt_uuid(row: &rusqlite::Row<'_>, i: usize) -> Result<Option<uuid::Uuid>> {
    let b: Option<Vec<u8>> = get(row, i)?;
    b.map(|b| uuid::Uuid::from_slice(&b).map_err(|e| StoreError::Corrupt(format!("uuid: {e}")))).transpose()
}

/// A time as the driver writes it (RFC 3339); anything else is left to the driver's decoder.
fn get_opt_time(row: &rusqlite::Row<'_>, i: usize) -> Result<Option<DateTime<Utc>>> {
    let v: Option<String> = get(row, i)?;
    v.map(|s| {
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| StoreError::Corrupt(format!("time {s:?}: {e}")))
    })
    .transpose()
}

fn get_time(row: &rusqlite::Row<'_>, i: usize) -> Result<DateTime<Utc>> {
    get_opt_time(row, i)?.ok_or_else(|| StoreError::Corrupt("time is null".into()))
}

/// `token_principal` of the common code, read directly (same query, same result).
pub(super) fn token_principal(db: &rusqlite::Connection, hash: &str) -> Result<Option<crate::TokenPrincipal>> {
    use mailroom_domain::auth::Role;
    use mailroom_domain::token::TokenScope;
    let mut st = db.prepare_cached(super::TOKEN_PRINCIPAL_SQL).map_err(sqlite_err)?;
    let mut rows = st.query([hash]).map_err(sqlite_err)?;
    let Some(row) = rows.next().map_err(sqlite_err)? else { return Ok(None) };
    let role: Option<String> = get(row, 5)?;
    let scope: String = get(row, 6)?;
    let token = crate::ApiToken {
        id: get_uuid(row, 0)?.into(),
        tenant_id: get_uuid(row, 1)?.into(),
        user_id: get_uuid(row, 2)?.into(),
        token_hash: get(row, 3)?,
        name: get(row, 4)?,
        role: role.as_deref().map(|v| parse("token role", v, Role::parse)).transpose()?,
        scope: parse("token scope", &scope, TokenScope::parse)?,
        created_at: get_time(row, 7)?,
        expires_at: get_opt_time(row, 8)?,
        last_used_at: get_opt_time(row, 9)?,
        revoked_at: get_opt_time(row, 10)?,
    };
    let user_role: String = get(row, 13)?;
    let user = crate::User {
        id: token.user_id,
        tenant_id: token.tenant_id,
        login: get(row, 11)?,
        display_name: get(row, 12)?,
        password_hash: None,
        role: parse("role", &user_role, Role::parse)?,
        person_id: get_opt_uuid(row, 14)?.map(Into::into),
        active: get(row, 15)?,
        created_at: get_time(row, 16)?,
    };
    Ok(Some(crate::TokenPrincipal {
        token,
        user,
        department_id: get_opt_uuid(row, 17)?.map(Into::into),
        clearance: get(row, 18)?,
    }))
}

/// `person_with_department` of the common code, read directly (same query, same result).
pub(super) fn person_with_department(
    db: &rusqlite::Connection,
    t: TenantId,
    id: mailroom_domain::ids::PersonId,
) -> Result<Option<(crate::Person, Option<crate::DepartmentNames>)>> {
    let mut st = db.prepare_cached(super::PERSON_WITH_DEPARTMENT_SQL).map_err(sqlite_err)?;
    let mut rows = st.query([t.0.as_bytes().as_slice(), id.0.as_bytes().as_slice()]).map_err(sqlite_err)?;
    let Some(row) = rows.next().map_err(sqlite_err)? else { return Ok(None) };
    let aliases: String = get(row, 4)?;
    let person = crate::Person {
        id: get_uuid(row, 0)?.into(),
        tenant_id: get_uuid(row, 1)?.into(),
        name: get(row, 2)?,
        name_latin: get(row, 3)?,
        aliases: serde_json::from_str(&aliases).map_err(|e| StoreError::Corrupt(format!("person aliases: {e}")))?,
        employee_no: get(row, 5)?,
        department_id: get_opt_uuid(row, 6)?.map(Into::into),
        email: get(row, 7)?,
        phone: get(row, 8)?,
        active: get(row, 9)?,
        forwarding: get(row, 10)?,
    };
    let code: Option<String> = get(row, 11)?;
    let department = match code {
        Some(code) => Some(crate::DepartmentNames { code, name: get(row, 12)?, name_en: get(row, 13)? }),
        None => None,
    };
    Ok(Some((person, department)))
}

/// Whether an item list is read directly: only lookups that an index bounds to a few rows (a
/// tracking number, a reference code, one person's or department's mail). Free-text search may
/// walk many rows and stays on the driver's threads, off the request threads.
pub(super) fn list_is_direct(f: &crate::ItemFilter) -> bool {
    f.q.is_none() && (f.tracking_number.is_some() || f.reference.is_some() || f.mine.is_some())
}

/// `list_items` of the common code, read directly: the same query (its `$n` parameters written
/// as SQLite's `?n`), the same values, the same row conversion.
pub(super) fn list_items(db: &rusqlite::Connection, t: TenantId, f: &crate::ItemFilter) -> Result<Vec<Item>> {
    let (sql, binds) = super::list_items_query(t, f);
    let mut st = db.prepare_cached(&sql.replace('$', "?")).map_err(sqlite_err)?;
    for (i, b) in binds.iter().enumerate() {
        let r = match b {
            super::Bind::Uuid(u) => st.raw_bind_parameter(i + 1, u.as_bytes().as_slice()),
            super::Bind::Time(v) => st.raw_bind_parameter(i + 1, time_text(*v)),
            super::Bind::Int(n) => st.raw_bind_parameter(i + 1, *n),
            super::Bind::Text(s) => st.raw_bind_parameter(i + 1, s.as_str()),
        };
        r.map_err(sqlite_err)?;
    }
    let mut rows = st.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite_err)? {
        out.push(item_row(row)?.try_into()?);
    }
    Ok(out)
}

/// A row of `ITEM_COLUMNS`, decoded as the driver decodes it.
fn item_row(row: &rusqlite::Row<'_>) -> Result<crate::rows::ItemRow> {
    Ok(crate::rows::ItemRow {
        id: get_uuid(row, 0)?,
        tenant_id: get_uuid(row, 1)?,
        site_id: get_opt_uuid(row, 2)?,
        reference: get(row, 3)?,
        kind: get(row, 4)?,
        category: get(row, 5)?,
        priority: get(row, 6)?,
        confidentiality: get(row, 7)?,
        carrier: get(row, 8)?,
        tracking_number: get(row, 9)?,
        sender_name: get(row, 10)?,
        sender_org: get(row, 11)?,
        sender_address: get(row, 12)?,
        sender_country: get(row, 13)?,
        recipient_person_id: get_opt_uuid(row, 14)?,
        recipient_department_id: get_opt_uuid(row, 15)?,
        recipient_name: get(row, 16)?,
        condition: get(row, 17)?,
        damage_description: get(row, 18)?,
        notes: get(row, 19)?,
        seal_number: get(row, 20)?,
        status: get(row, 21)?,
        location_id: get_opt_uuid(row, 22)?,
        created_at: get_time(row, 23)?,
        updated_at: get_time(row, 24)?,
        version: get(row, 25)?,
        route: get(row, 26)?,
        due_by: get_opt_time(row, 27)?,
        details_pending: get(row, 28)?,
    })
}
