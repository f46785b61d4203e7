//! SQLite backend: one file, WAL, `synchronous=FULL`. Reads use a fixed set of read-only
//! connections; all writes go through one writer task that groups concurrent writes into shared
//! transactions (group commit), each write isolated by a savepoint (or all or nothing by itself),
//! so one durable fsync acknowledges many.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use tokio::sync::{Semaphore, mpsc, oneshot};

type Db = sqlx::Sqlite;
type Conn = sqlx::SqliteConnection;
const FOR_UPDATE: &str = "";
/// Claiming jobs needs no row locks: the claim is one statement of the single writer.
const CLAIM_LOCK: &str = "";
/// Rows per INSERT in bulk loads. One: a multi-row INSERT needs a statement journal, which
/// inside a long transaction costs far more than the round trips it saves (measured: 30,000
/// items in 2 s one row a statement, 10 s ten rows a statement).
const BULK_ROWS: usize = 1;
const BACKEND_NAME: &str = "sqlite";
type Backend = SqliteStore;

include!("common.rs");
include!("notify_sql.rs");
include!("postage_sql.rs");
include!("outbound_sql.rs");
include!("backend_impl.rs");

/// Largest number of writes that share one commit.
const MAX_BATCH: usize = 512;
/// Read-only connections.
const READ_CONNECTIONS: usize = 8;
/// Pause between two checkpoints while writes keep coming.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(100);

type BoxFut<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;
type Finish = Box<dyn FnOnce(Option<String>) + Send>;
type WriteJob = Box<dyn for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, (bool, Finish)> + Send>;

#[path = "sqlite_direct.rs"]
mod direct;
use direct::{Direct, Intake, Written};

/// A queued write.
enum Queued {
    /// Runs on the driver's connection. An `atomic` one leaves nothing behind when it fails, so
    /// it runs without a savepoint of its own.
    Job { job: WriteJob, atomic: bool },
    /// An intake (with or without an idempotency key), run directly on the connection's handle (see `direct`).
    Intake(Box<Intake>),
}

/// The SQLite store. Cheap to share behind an `Arc`.
pub struct SqliteStore {
    reads: ReadPool,
    direct_reads: direct::DirectReads,
    jobs: mpsc::Sender<Queued>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `sqlite://PATH` and runs migrations.
    pub async fn open(url: &str) -> Result<SqliteStore> {
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(format!("{url}: {e}")))?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory")
            // Overwrite deleted content (e.g. shredded data keys) instead of leaving it in free space.
            .pragma("secure_delete", "on");
        // The writer leaves checkpoints to the checkpointer (see `checkpointer`); its own
        // automatic checkpoint only kicks in if the WAL grows far beyond the usual 1000 pages.
        // Its page cache is small as well: at every COMMIT SQLite walked the writer's whole page-cache
        // hash table (`pcache1TruncateUnsafe`, about a tenth of the writer's time with a 64 MiB
        // cache), and pages it does not hold come from the operating system's file cache.
        let mut writer = base
            .clone()
            .create_if_missing(true)
            .pragma("wal_autocheckpoint", "16384")
            .pragma("cache_size", "-2048")
            .connect()
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&mut writer).await?;
        let checkpoints = base.clone().connect().await?;
        // A reader discards its whole page cache whenever it sees that the file changed, which
        // under a stream of writes is at nearly every read, and the discarding takes longer the
        // bigger the cache: readers keep a small cache. They do not read through a memory map:
        // SQLite unmaps a reader's whole map at the same moment, and unmapping the pages of a
        // large database stalls the thread for tens of milliseconds (see docs/PERFORMANCE.md).
        let read_options = base.read_only(true).pragma("query_only", "1").pragma("cache_size", "-2048");
        let mut idle = Vec::with_capacity(READ_CONNECTIONS);
        for _ in 0..READ_CONNECTIONS {
            idle.push(read_options.connect().await?);
        }
        let reads = ReadPool { idle: Mutex::new(idle), available: Semaphore::new(READ_CONNECTIONS) };
        let (tx, rx) = mpsc::channel::<Queued>(4096);
        let (committed, commits) = mpsc::channel(1);
        tokio::spawn(checkpointer(checkpoints, commits));
        // The writer gets a thread of its own: every statement is a round trip to the
        // connection's worker thread, and on the shared runtime each of those would wait behind
        // the request handlers for a turn, stretching every batch (measured: about 15 % more
        // intakes per second on its own thread).
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || runtime.block_on(writer_loop(writer, rx, committed)))
            .map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
        let direct_reads = direct::DirectReads::open(read_options.get_filename())?;
        Ok(SqliteStore { reads, direct_reads, jobs: tx })
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, Result<T>>,
    {
        let _permit = self.reads.available.acquire().await.map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?;
        let mut c = ReadConn { conn: self.reads.take(), pool: &self.reads };
        match c.conn.as_mut() {
            Some(conn) => f(conn).await,
            None => Err(StoreError::Db(sqlx::Error::PoolClosed)),
        }
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, Result<T>> + Send + 'static,
    {
        self.queue(false, f).await
    }

    /// A write that changes nothing when it fails (one all-or-nothing statement, say): it
    /// shares the batch's transaction without a savepoint round trip of its own.
    async fn write_atomic<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, Result<T>> + Send + 'static,
    {
        self.queue(true, f).await
    }

    async fn queue<T, F>(&self, atomic: bool, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, Result<T>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let job: WriteJob = Box::new(move |c| {
            Box::pin(async move {
                let r = f(c).await;
                let ok = r.is_ok();
                let finish: Finish = Box::new(move |commit_error| {
                    let out = match (r, commit_error) {
                        (Ok(_), Some(e)) => Err(StoreError::Db(sqlx::Error::Protocol(format!("commit failed: {e}")))),
                        (r, _) => r,
                    };
                    let _ = tx.send(out);
                });
                (ok, finish)
            })
        });
        self.jobs.send(Queued::Job { job, atomic }).await.map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// The caller of an API request: directly when a direct read connection is idle.
    async fn read_token_principal(&self, hash: &str) -> Result<Option<TokenPrincipal>> {
        if let Some(found) = self.direct_reads.run(|db| direct::token_principal(db, hash)) {
            return Ok(found);
        }
        let hash = hash.to_owned();
        self.read(move |c| Box::pin(async move { token_principal(c, &hash).await })).await
    }

    /// An intake's recipient: directly when a direct read connection is idle.
    async fn read_person_with_department(
        &self,
        t: TenantId,
        id: PersonId,
    ) -> Result<Option<(Person, Option<DepartmentNames>)>> {
        if let Some(found) = self.direct_reads.run(|db| direct::person_with_department(db, t, id)) {
            return Ok(found);
        }
        self.read(move |c| Box::pin(person_with_department(c, t, id))).await
    }

    /// A tracking or reference lookup, or one person's mail: directly when a direct read
    /// connection is idle (see [`direct::list_is_direct`]).
    async fn read_items(&self, t: TenantId, f: &ItemFilter) -> Result<Vec<Item>> {
        if direct::list_is_direct(f)
            && let Some(found) = self.direct_reads.run(|db| direct::list_items(db, t, f))
        {
            return Ok(found);
        }
        let f = f.clone();
        self.read(move |c| Box::pin(async move { list_items(c, t, &f).await })).await
    }

    /// Registers an item whose only writes are the item with its first custody event and, with an
    /// idempotency key, the key's record (no exception, no follow-up task): the writer runs it
    /// directly on the connection's handle, in the batch's shared transaction.
    async fn register_plain(&self, ins: ItemInsert, actor: Actor, draft: EventDraft) -> Result<Registered> {
        let t = ins.item.tenant_id;
        let (reply, rx) = oneshot::channel();
        let job = Intake { ins, actor, draft, reply };
        self.jobs.send(Queued::Intake(Box::new(job))).await.map_err(|_| StoreError::WriterGone)?;
        // Items other than a created one are committed by now (before, or in this batch).
        let found = match rx.await.map_err(|_| StoreError::WriterGone)?? {
            (Written::Created, item) => return Ok(Registered { item, created: true }),
            (Written::Tracked, item) => {
                let tn = item.tracking_number.unwrap_or_default();
                let found = self.read(move |c| Box::pin(async move { item_by_tracking(c, t, &tn).await })).await?;
                (found, false)
            }
            (Written::Replayed { item: id, created }, _) => {
                (self.read(move |c| Box::pin(async move { item(c, t, id).await })).await?, created)
            }
        };
        Ok(Registered { item: found.0.ok_or(StoreError::NotFound)?, created: found.1 })
    }
}

/// A fixed set of read-only connections to the local file. Unlike sqlx's pool it does not ping
/// a connection when lending it out and again when it comes back (each ping is a round trip to
/// the connection's worker thread, which would triple the cost of a read); a connection to a
/// local file does not go stale.
struct ReadPool {
    idle: Mutex<Vec<Conn>>,
    /// One permit per idle connection.
    available: Semaphore,
}

impl ReadPool {
    fn take(&self) -> Option<Conn> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop()
    }
}

/// A borrowed read connection; goes back to the pool when dropped (before its permit).
struct ReadConn<'p> {
    conn: Option<Conn>,
    pool: &'p ReadPool,
}

impl Drop for ReadConn<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            self.pool.idle.lock().unwrap_or_else(PoisonError::into_inner).push(c);
        }
    }
}

async fn exec(c: &mut Conn, sql: &'static str) -> std::result::Result<(), sqlx::Error> {
    sqlx::raw_sql(sql).execute(&mut *c).await.map(|_| ())
}

/// Inserts a new item and its first custody event in one statement (the `item_intake` view's
/// trigger writes both, all or nothing), unless the tenant already has an item with that
/// tracking number: then nothing is inserted and the answer is false. A failure leaves nothing
/// behind, so an intake needs no savepoint from the writer.
async fn insert_item_with_event(c: &mut Conn, i: &Item, ev: &CustodyEvent) -> Result<bool> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "INSERT INTO item_intake ({ITEM_INSERT_COLUMNS}, event_id, event_tenant_id, event_seq, event_item_id, \
             event_kind, event_actor_id, event_actor_name, event_source, event_request_id, event_location_id, event_at, \
             event_details, event_prev_hash, event_hash) VALUES {}",
            values_placeholders(1, ITEM_INSERT_COUNT + 14)
        )
    });
    match bind_event(bind_item(sqlx::query(SQL.as_str()), i), ev).execute(&mut *c).await {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() && d.message().contains("item.tracking_number") => {
            Ok(false)
        }
        Err(e) => Err(db_err(e)),
    }
}

tokio::task_local! {
    /// Chain heads moved by the writer's current transaction and not yet written to
    /// `custody_head`: appends in one batch chain from here, and the rows are written once, with
    /// the COMMIT. Only the writer task has this in scope.
    static PENDING_HEADS: RefCell<HashMap<TenantId, (i64, String)>>;
}

/// The tenant's chain head: from this batch's appends, else from the database.
async fn chain_head(c: &mut Conn, t: TenantId) -> Result<(i64, String)> {
    match PENDING_HEADS.try_with(|p| p.borrow().get(&t).cloned()) {
        Ok(Some(head)) => Ok(head),
        _ => read_head(c, t).await,
    }
}

/// Moves the tenant's chain head to `ev` (in the writer: in memory until the batch commits).
async fn chain_advanced(c: &mut Conn, ev: &CustodyEvent) -> Result<()> {
    let deferred = PENDING_HEADS.try_with(|p| p.borrow_mut().insert(ev.tenant_id, (ev.seq, ev.hash.clone()))).is_ok();
    if deferred { Ok(()) } else { write_head(c, ev.tenant_id, ev.seq, &ev.hash).await }
}

/// Copies committed pages from the WAL into the database file on its own connection, so the
/// writer's commits never wait for a checkpoint (a COMMIT that triggers SQLite's automatic
/// checkpoint takes several times as long as one that only syncs the WAL). Passive
/// checkpoints wait for nobody; durability is unaffected, as commits are durable in the WAL.
/// Ends when the writer does.
async fn checkpointer(mut conn: Conn, mut commits: mpsc::Receiver<()>) {
    while commits.recv().await.is_some() {
        if let Err(e) = exec(&mut conn, "PRAGMA wal_checkpoint(PASSIVE)").await {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
        tokio::time::sleep(CHECKPOINT_PAUSE).await;
    }
}

async fn writer_loop(mut conn: Conn, mut rx: mpsc::Receiver<Queued>, committed: mpsc::Sender<()>) {
    let mut batch: Vec<Queued> = Vec::with_capacity(MAX_BATCH);
    let mut direct: Option<Direct> = None;
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let alive =
            PENDING_HEADS.scope(RefCell::new(HashMap::new()), run_batch(&mut conn, &mut direct, &mut batch)).await;
        if !alive {
            tracing::error!("the SQLite writer connection is gone; writes will fail");
            break;
        }
        // Full means a checkpoint is already due.
        let _ = committed.try_send(());
    }
    // The direct view's statements are finalised under the lock, before the connection closes.
    if let Some(d) = direct.take() {
        match conn.lock_handle().await {
            Ok(lock) => d.detach(&lock),
            Err(_) => std::mem::forget(d),
        }
    }
}

/// Runs one batch in one transaction: the driver's jobs first (each behind savepoint `w` unless
/// atomic), then, with the connection's handle locked, the intakes, the chain heads and the
/// COMMIT; then answers every caller. False when the connection is gone.
async fn run_batch(conn: &mut Conn, direct: &mut Option<Direct>, batch: &mut Vec<Queued>) -> bool {
    let mut jobs = Vec::new();
    let mut intakes = Vec::new();
    for q in batch.drain(..) {
        match q {
            Queued::Job { job, atomic } => jobs.push((job, atomic)),
            Queued::Intake(i) => intakes.push(i),
        }
    }
    let mut finishers = Vec::with_capacity(jobs.len());
    // Whether savepoint `w` (of the last job that needed one, which succeeded) is still open: the
    // next such job or the commit releases it.
    let mut open = false;
    let mut failure = None;
    let begun = !jobs.is_empty();
    if begun {
        if let Err(e) = exec(&mut *conn, "BEGIN IMMEDIATE").await {
            tracing::error!(error = %e, jobs = jobs.len() + intakes.len(), "could not start a write transaction");
            // Dropping the jobs answers their callers with `WriterGone`.
            return conn.ping().await.is_ok();
        }
        for (job, atomic) in jobs {
            if !atomic {
                let start = if open { "RELEASE w; SAVEPOINT w" } else { "SAVEPOINT w" };
                if let Err(e) = exec(&mut *conn, start).await {
                    failure = Some(format!("could not open a savepoint: {e}"));
                    break;
                }
                open = true;
            }
            let heads_before = PENDING_HEADS.with(|p| p.borrow().clone());
            let (ok, finish) = job(&mut *conn).await;
            finishers.push(finish);
            if !ok {
                // The job's changes are undone (by its savepoint, or by itself): so are the heads it moved.
                PENDING_HEADS.with(|p| *p.borrow_mut() = heads_before);
                if !atomic {
                    if let Err(e) = exec(&mut *conn, "ROLLBACK TO w; RELEASE w").await {
                        failure = Some(format!("could not roll back a failed write: {e}"));
                        break;
                    }
                    open = false;
                }
            }
        }
        // Jobs not run (after a failure above) were dropped, which answers their callers with `WriterGone`.
    }
    let mut answers = Vec::with_capacity(intakes.len());
    // Whether the transaction was rolled back (or committed) on the handle below.
    let mut settled = false;
    let mut alive = true;
    match conn.lock_handle().await {
        Err(e) => {
            failure.get_or_insert_with(|| format!("could not lock the connection: {e}"));
            alive = false;
        }
        Ok(mut lock) => {
            if direct.is_none() {
                match Direct::attach(&mut lock) {
                    Ok(d) => *direct = Some(d),
                    Err(e) => {
                        failure.get_or_insert_with(|| format!("could not attach to the connection: {e}"));
                    }
                }
            }
            if let Some(d) = direct.as_ref() {
                let db = d.on(&lock);
                if failure.is_none()
                    && !begun
                    && let Err(e) = direct::begin(db)
                {
                    failure = Some(format!("could not start a write transaction: {e}"));
                }
                if failure.is_none() {
                    for job in intakes.drain(..) {
                        let r = run_intake(db, &job);
                        let lost = r.is_err() && direct::transaction_lost(db);
                        let Intake { ins, reply, .. } = *job;
                        answers.push((reply, r.map(|w| (w, ins.item))));
                        if lost {
                            failure = Some("SQLite ended the write transaction after an error".into());
                            break;
                        }
                    }
                }
                if failure.is_none() {
                    let heads: Vec<(TenantId, (i64, String))> =
                        PENDING_HEADS.with(|p| p.borrow_mut().drain().collect());
                    if let Err(e) = direct::commit(db, open, &heads) {
                        failure = Some(e.to_string());
                    }
                }
                if failure.is_some() {
                    direct::rollback(db);
                }
                settled = true;
            }
        }
    }
    if let Some(msg) = &failure {
        tracing::error!(error = %msg, "group commit failed");
        // A transaction begun by the driver and not reached by the direct path above.
        if begun && !settled && alive {
            let _ = exec(&mut *conn, "ROLLBACK").await;
        }
    }
    let commit_failed = |msg: &str| StoreError::Db(sqlx::Error::Protocol(format!("commit failed: {msg}")));
    for (reply, r) in answers {
        let _ = reply.send(match (r, &failure) {
            (Ok(_), Some(msg)) => Err(commit_failed(msg)),
            (r, _) => r,
        });
    }
    // Intakes not run (after a failure) are answered with the failure.
    for job in intakes {
        let _ = job.reply.send(Err(commit_failed(failure.as_deref().unwrap_or("the batch was not run"))));
    }
    finishers.into_iter().for_each(|f| f(failure.clone()));
    alive
}

/// One intake on the locked handle: chained after this batch's head for the tenant (or the
/// stored one), which moves only when the item is written. With an idempotency key, as the
/// driver path does: a key used before answers as it did then (or is refused, for another
/// request), and a new one is recorded with the answer, all behind a savepoint.
fn run_intake(db: &rusqlite::Connection, job: &Intake) -> Result<Written> {
    let t = job.ins.item.tenant_id;
    let head = match PENDING_HEADS.with(|p| p.borrow().get(&t).cloned()) {
        Some(h) => h,
        None => direct::read_head(db, t)?,
    };
    let Some((key, hash)) = &job.ins.idempotency else {
        return Ok(match direct::insert_intake(db, job, &head)? {
            Some(ev) => {
                PENDING_HEADS.with(|p| p.borrow_mut().insert(t, (ev.seq, ev.hash)));
                Written::Created
            }
            None => Written::Tracked,
        });
    };
    if let Some((prev_hash, item, created)) = direct::read_key(db, t, key)? {
        if &prev_hash != hash {
            return Err(key_reused());
        }
        return Ok(Written::Replayed { item, created });
    }
    let ev = direct::all_or_nothing(db, || {
        let ev = direct::insert_intake(db, job, &head)?;
        let item = match &ev {
            Some(_) => job.ins.item.id,
            None => direct::item_id_by_tracking(db, t, job.ins.item.tracking_number.as_deref().unwrap_or_default())?,
        };
        direct::insert_key(db, t, (key, hash), item, ev.is_some())?;
        Ok(ev)
    })?;
    Ok(match ev {
        Some(ev) => {
            PENDING_HEADS.with(|p| p.borrow_mut().insert(t, (ev.seq, ev.hash)));
            Written::Created
        }
        None => Written::Tracked,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::Store;
    use chrono::Timelike;
    use mailroom_domain::custody::ChainVerifier;
    use std::sync::Arc;

    fn temp_db() -> std::path::PathBuf {
        std::env::temp_dir().join(format!("mailroom-store-test-{}.db", uuid::Uuid::now_v7().simple()))
    }

    fn remove_db(path: &std::path::Path) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    /// An intake with every column the direct path binds filled in (and a few left empty).
    fn sample_item(t: TenantId, n: u32) -> Item {
        // Whole seconds here and whole milliseconds below: the driver writes those without the
        // zero digits, which the direct path must do too.
        let at = custody::storage_time(Utc::now()).with_nanosecond(0).unwrap();
        Item {
            id: ItemId::new(),
            tenant_id: t,
            site_id: None,
            reference: format!("R{n:05}"),
            kind: mailroom_domain::item::ItemKind::Parcel,
            category: Category::Invoice,
            priority: mailroom_domain::item::Priority::High,
            confidentiality: mailroom_domain::item::Confidentiality::Internal,
            carrier: Some("sf_express".into()),
            tracking_number: Some(format!("SF{n:010}")),
            sender_name: Some("张伟 Zhang Wei".into()),
            sender_org: None,
            sender_address: Some("上海市浦东新区 1 号".into()),
            sender_country: Some("CN".into()),
            recipient_person_id: None,
            recipient_department_id: None,
            recipient_name: "李娜".into(),
            condition: mailroom_domain::item::Condition::Intact,
            damage_description: None,
            notes: Some("n".into()),
            seal_number: None,
            status: mailroom_domain::item::Status::Received,
            location_id: None,
            created_at: at,
            updated_at: at,
            version: 1,
            route: Some("department:FIN".into()),
            due_by: Some(at + chrono::Duration::milliseconds(90 * 60_000 + 250)),
            details_pending: true,
            redacted: false,
        }
    }

    fn registered_draft(i: &Item) -> EventDraft {
        EventDraft {
            item_id: Some(i.id),
            kind: "registered".into(),
            location_id: None,
            details: serde_json::json!({ "reference": i.reference }),
        }
    }

    /// Every column of every row of `table`, as SQL literals, in rowid order.
    fn dump(path: &std::path::Path, table: &str) -> Vec<Vec<String>> {
        let db = rusqlite::Connection::open(path).unwrap();
        let st = db.prepare(&format!("SELECT * FROM {table} ORDER BY rowid")).unwrap();
        let n = st.column_count();
        let sql = format!(
            "SELECT {} FROM {table} ORDER BY rowid",
            st.column_names().iter().map(|c| format!("quote({c})")).collect::<Vec<_>>().join(", ")
        );
        drop(st);
        let mut st = db.prepare(&sql).unwrap();
        st.query_map([], |r| (0..n).map(|i| r.get::<_, String>(i)).collect::<rusqlite::Result<Vec<_>>>())
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    /// The same item registered through the driver and through the direct path, in two
    /// databases: the item rows are identical byte for byte, and the custody events differ only
    /// in what is new each time (event id, time, hashes) and keep the same types and formats.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn direct_rows_match_driver_rows() {
        let tenant = Tenant { id: TenantId::new(), slug: "t".into(), name: "T".into(), created_at: Utc::now() };
        let item = sample_item(tenant.id, 1);
        let actor = Actor { user_id: Some(UserId::new()), ..Actor::system("clerk", "req-1") };
        let (via_driver, via_direct) = (temp_db(), temp_db());
        for (path, direct) in [(&via_driver, false), (&via_direct, true)] {
            let store = SqliteStore::open(&format!("sqlite://{}", path.display())).await.unwrap();
            store.create_tenant(&tenant).await.unwrap();
            let ins = ItemInsert { item: item.clone(), idempotency: None, exception: None };
            let draft = registered_draft(&item);
            let reg = if direct {
                store.register_plain(ins, actor.clone(), draft).await.unwrap()
            } else {
                let a = actor.clone();
                store
                    .write_atomic(move |c| Box::pin(async move { register_item(c, &ins, &a, &draft).await }))
                    .await
                    .unwrap()
            };
            assert!(reg.created);
            // Read back through the driver: the same item.
            let back = store.item(tenant.id, item.id).await.unwrap().unwrap();
            assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(&item).unwrap());
            let events = store.custody_events(tenant.id, 0, 100).await.unwrap();
            let mut chain = ChainVerifier::default();
            for ev in &events {
                chain.push(ev).unwrap();
            }
            let (seq, hash) = store.custody_head(tenant.id).await.unwrap();
            chain.finish(seq, &hash).unwrap();
        }
        assert_eq!(dump(&via_driver, "item"), dump(&via_direct, "item"));
        let (a, b) = (dump(&via_driver, "custody_event"), dump(&via_direct, "custody_event"));
        assert_eq!(a.len(), b.len());
        let db = rusqlite::Connection::open(&via_direct).unwrap();
        let columns: Vec<String> =
            db.prepare("SELECT * FROM custody_event").unwrap().column_names().iter().map(|c| c.to_string()).collect();
        for (ra, rb) in a.iter().zip(&b) {
            for ((ca, cb), name) in ra.iter().zip(rb).zip(&columns) {
                match name.as_str() {
                    // New each time; the same shape.
                    "id" | "at" | "hash" | "prev_hash" => {
                        let shape = |v: &str| v.replace(|c: char| c.is_ascii_hexdigit(), "0");
                        assert_eq!(shape(ca), shape(cb), "{name}: {ca} / {cb}");
                    }
                    _ => assert_eq!(ca, cb, "{name}"),
                }
            }
        }
        remove_db(&via_driver);
        remove_db(&via_direct);
    }

    /// A tracking number registered twice, in one batch and across batches: one item, and the
    /// second registration answers with it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn direct_intake_finds_the_registered_tracking_number() {
        let path = temp_db();
        let store = Arc::new(SqliteStore::open(&format!("sqlite://{}", path.display())).await.unwrap());
        let tenant = Tenant { id: TenantId::new(), slug: "t".into(), name: "T".into(), created_at: Utc::now() };
        store.create_tenant(&tenant).await.unwrap();
        let mut writes = tokio::task::JoinSet::new();
        for n in 0..40u32 {
            let store = store.clone();
            writes.spawn(async move {
                let mut item = sample_item(tenant.id, n);
                item.tracking_number = Some(format!("SAME{}", n % 4));
                let draft = registered_draft(&item);
                let id = item.id;
                let reg = store
                    .register_plain(
                        ItemInsert { item, idempotency: None, exception: None },
                        Actor::system("t", "r"),
                        draft,
                    )
                    .await
                    .unwrap();
                assert_eq!(reg.created, reg.item.id == id);
                (reg.item.tracking_number.unwrap(), reg.item.id, reg.created)
            });
        }
        let mut winners: HashMap<String, ItemId> = HashMap::new();
        let mut answers = Vec::new();
        while let Some(j) = writes.join_next().await {
            let (tn, id, created) = j.unwrap();
            if created {
                assert!(winners.insert(tn.clone(), id).is_none(), "{tn} created twice");
            }
            answers.push((tn, id));
        }
        assert_eq!(winners.len(), 4);
        for (tn, id) in answers {
            assert_eq!(winners[&tn], id, "{tn} answered with another item");
        }
        assert_eq!(store.custody_events(tenant.id, 0, 1000).await.unwrap().len(), 4);
        drop(store);
        remove_db(&path);
    }

    /// A store in a new file with one organisation.
    async fn store_with_tenant() -> (std::path::PathBuf, SqliteStore, TenantId) {
        let path = temp_db();
        let store = SqliteStore::open(&format!("sqlite://{}", path.display())).await.unwrap();
        let tenant = Tenant { id: TenantId::new(), slug: "t".into(), name: "T".into(), created_at: Utc::now() };
        store.create_tenant(&tenant).await.unwrap();
        (path, store, tenant.id)
    }

    /// Registers `item` through the writer's intake path, as the system.
    async fn register_intake(store: &SqliteStore, item: Item) -> Result<Registered> {
        let draft = registered_draft(&item);
        store
            .register_plain(ItemInsert { item, idempotency: None, exception: None }, Actor::system("t", "r"), draft)
            .await
    }

    /// Intakes with an idempotency key take the writer's direct path and answer as the driver
    /// path does: a new key records the answer, a replay gets it again, the key with another
    /// request is refused, a key whose tracking number was registered before records that item;
    /// the records read the same in both databases (times in the same format). Five intakes
    /// with one key at once make one item, and all five get it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn keyed_intakes_answer_as_the_driver_path_does() {
        let tenant = Tenant { id: TenantId::new(), slug: "t".into(), name: "T".into(), created_at: Utc::now() };
        let a = sample_item(tenant.id, 1);
        let mut a_again = sample_item(tenant.id, 2);
        a_again.tracking_number = a.tracking_number.clone();
        let mut b = sample_item(tenant.id, 3);
        b.tracking_number = a.tracking_number.clone();
        let key = |k: &str, h: &str| Some((k.to_string(), h.to_string()));
        let steps = [
            (a.clone(), key("k1", "h1")),
            (a_again, key("k1", "h1")),
            (a.clone(), key("k1", "h2")),
            (b, key("k2", "h9")),
        ];
        let mut keys_of = Vec::new();
        for direct in [false, true] {
            let path = temp_db();
            let store = SqliteStore::open(&format!("sqlite://{}", path.display())).await.unwrap();
            store.create_tenant(&tenant).await.unwrap();
            let mut answers = Vec::new();
            for (item, idempotency) in steps.clone() {
                let draft = registered_draft(&item);
                let ins = ItemInsert { item, idempotency, exception: None };
                let actor = Actor::system("clerk", "req");
                answers.push(if direct {
                    store.register_plain(ins, actor, draft).await
                } else {
                    store.write(move |c| Box::pin(async move { register_item(c, &ins, &actor, &draft).await })).await
                });
            }
            let got: Vec<_> =
                answers.iter().map(|r| r.as_ref().map(|r| (r.item.id, r.created)).map_err(|e| e.to_string())).collect();
            assert_eq!(got[0], Ok((a.id, true)), "direct: {direct}");
            assert_eq!(got[1], Ok((a.id, true)), "a replay answers as the first time");
            assert!(got[2].as_ref().is_err_and(|e| e.contains("different request")), "{:?}", got[2]);
            assert_eq!(got[3], Ok((a.id, false)), "the tracking number was registered before");
            assert_eq!(store.count_items(tenant.id).await.unwrap(), 1);
            keys_of.push(dump(&path, "idempotency_key"));
            drop(store);
            remove_db(&path);
        }
        let (driver, direct) = (&keys_of[0], &keys_of[1]);
        assert_eq!(driver.len(), 2);
        assert_eq!(direct.len(), 2);
        for (d, r) in driver.iter().zip(direct) {
            // tenant, key, hash, item, created alike; the time differs, its form does not.
            assert_eq!(d[..5], r[..5]);
            // RFC 3339 with the UTC offset written out, as the driver writes a time.
            for v in [&d[5], &r[5]] {
                let v = v.trim_matches('\'');
                assert!(DateTime::parse_from_rfc3339(v).is_ok() && v.ends_with("+00:00"), "{v}");
            }
        }

        // Five at once with one key: one item, the same answer for all.
        let (path, store, t) = store_with_tenant().await;
        let store = Arc::new(store);
        let first = sample_item(t, 10);
        let mut tasks = Vec::new();
        for n in 0..5 {
            let store = store.clone();
            let mut item = sample_item(t, 20 + n);
            item.tracking_number = first.tracking_number.clone();
            tasks.push(tokio::spawn(async move {
                let draft = registered_draft(&item);
                let ins = ItemInsert { item, idempotency: Some(("same".into(), "h".into())), exception: None };
                store.register_plain(ins, Actor::system("clerk", "req"), draft).await.unwrap()
            }));
        }
        let mut ids = Vec::new();
        for task in tasks {
            let r = task.await.unwrap();
            assert!(r.created);
            ids.push(r.item.id);
        }
        assert!(ids.iter().all(|id| *id == ids[0]));
        assert_eq!(store.count_items(t).await.unwrap(), 1);
        drop(store);
        remove_db(&path);
    }

    /// An intake whose custody event cannot be written (here the stored chain head is moved back
    /// one step, so the event's sequence number is taken) is refused and leaves no item behind;
    /// the next intake, with the head put right, is written.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_intake_whose_event_fails_leaves_no_item() {
        let (path, store, tenant) = store_with_tenant().await;
        let register = |n: u32| {
            let item = sample_item(tenant, n);
            (item.id, register_intake(&store, item))
        };
        let (first, reg) = register(1);
        assert!(reg.await.unwrap().created);
        let (seq, _) = store.custody_head(tenant).await.unwrap();
        let head = |seq: i64| {
            let db = rusqlite::Connection::open(&path).unwrap();
            db.execute(
                "UPDATE custody_head SET seq = ?1 WHERE tenant_id = ?2",
                rusqlite::params![seq, tenant.0.as_bytes().as_slice()],
            )
            .unwrap();
        };
        head(seq - 1);
        let (refused, reg) = register(2);
        assert!(reg.await.is_err(), "an intake whose event clashes must fail");
        assert!(store.item(tenant, refused).await.unwrap().is_none(), "the refused item was kept");
        head(seq);
        let (third, reg) = register(3);
        assert!(reg.await.unwrap().created);
        for id in [first, third] {
            assert!(store.item(tenant, id).await.unwrap().is_some());
        }
        assert_eq!(store.count_items(tenant).await.unwrap(), 2);
        drop(store);
        remove_db(&path);
    }

    /// Waiting items: those of every waiting status that arrived by the cut-off, oldest id first,
    /// paged by id; and SQLite reads each status along the status index instead of walking the
    /// organisation's whole item index.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiting_items_are_read_per_status() {
        use mailroom_domain::item::Status;
        let (path, store, tenant) = store_with_tenant().await;
        let statuses = [Status::Received, Status::Stored, Status::Notified, Status::ReadyForPickup, Status::Delivered];
        let start = custody::storage_time(Utc::now()).with_nanosecond(0).unwrap() - chrono::Duration::hours(1);
        let cutoff = start + chrono::Duration::minutes(11);
        let mut expected = Vec::new();
        for n in 0..15u32 {
            let mut item = sample_item(tenant, n);
            item.status = statuses[n as usize % statuses.len()];
            item.created_at = start + chrono::Duration::minutes(i64::from(n));
            if item.status.awaits_recipient() && item.created_at <= cutoff {
                expected.push(item.id);
            }
            assert!(register_intake(&store, item).await.unwrap().created);
        }
        assert_eq!(expected.len(), 7);
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store.waiting_items(tenant, cutoff, after, 2).await.unwrap();
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            after = Some(last.item.id);
            seen.extend(page.iter().map(|f| f.item.id));
        }
        assert_eq!(seen, expected);

        let db = rusqlite::Connection::open(&path).unwrap();
        for cursor in ["", " AND id > $3"] {
            let sql = waiting_items_query(cursor, 4);
            let mut st = db.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let nulls = rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, st.parameter_count()));
            let plan: Vec<String> =
                st.query_map(nulls, |r| r.get::<_, String>(3)).unwrap().map(|r| r.unwrap()).collect();
            let per_status = plan.iter().filter(|d| d.contains("item_status (tenant_id=? AND status=?")).count();
            assert_eq!(per_status, 3, "{plan:#?}");
            assert!(!plan.iter().any(|d| d.contains("item_tenant (tenant_id=?)")), "{plan:#?}");
        }
        drop(store);
        remove_db(&path);
    }

    /// A store in a new file with one organisation and its finance department.
    async fn store_with_department(name_en: Option<&str>) -> (std::path::PathBuf, SqliteStore, TenantId, Department) {
        let (path, store, tenant) = store_with_tenant().await;
        let dept = Department {
            id: DepartmentId::new(),
            tenant_id: tenant,
            parent_id: None,
            code: "FIN".into(),
            name: "财务部".into(),
            name_en: name_en.map(Into::into),
            kind: "department".into(),
            key_contact_id: None,
            email: None,
        };
        store.upsert_department(&dept).await.unwrap();
        (path, store, tenant, dept)
    }

    /// The direct reads answer exactly as the driver's: a token with and without its optional
    /// parts, a person with and without a department, and nothing for unknown keys.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn direct_reads_match_driver_reads() {
        use mailroom_domain::auth::Role;
        use mailroom_domain::token::TokenScope;
        let (path, store, t, dept) = store_with_department(Some("Finance")).await;
        let person = |dept: Option<DepartmentId>, n: &str| Person {
            id: PersonId::new(),
            tenant_id: t,
            name: format!("王{n}"),
            name_latin: Some(format!("Wang {n}")),
            aliases: vec!["小王".into(), n.into()],
            employee_no: Some(format!("E{n}")),
            department_id: dept,
            email: Some(format!("{n}@example.com")),
            phone: None,
            active: dept.is_some(),
            forwarding: dept.is_none().then(|| "已离职 left".to_string()),
        };
        let (with_dept, without) = (person(Some(dept.id), "1"), person(None, "2"));
        store.upsert_person(&with_dept).await.unwrap();
        store.upsert_person(&without).await.unwrap();
        let at = custody::storage_time(Utc::now());
        let user = |person_id: Option<PersonId>, login: &str| User {
            id: UserId::new(),
            tenant_id: t,
            login: login.into(),
            display_name: format!("{login} 用户"),
            password_hash: None,
            role: Role::Staff,
            person_id,
            active: true,
            created_at: at,
        };
        let (u1, u2) = (user(Some(with_dept.id), "clerk"), user(None, "bot"));
        store.create_user(&u1).await.unwrap();
        store.create_user(&u2).await.unwrap();
        store.set_user_clearance(t, u1.id, 2).await.unwrap();
        let token = |u: &User, hash: &str, full: bool| ApiToken {
            id: TokenId::new(),
            tenant_id: t,
            user_id: u.id,
            token_hash: hash.into(),
            name: "scanner 2F".into(),
            role: full.then_some(Role::Staff),
            scope: if full { TokenScope::Scanner } else { TokenScope::Full },
            created_at: at,
            expires_at: full.then(|| at + chrono::Duration::days(90)),
            last_used_at: None,
            revoked_at: None,
        };
        store.create_token(&token(&u1, "h1", true)).await.unwrap();
        store.create_token(&token(&u2, "h2", false)).await.unwrap();
        store.touch_token(token(&u2, "h2", false).id, at).await.unwrap();
        for hash in ["h1", "h2", "nope"] {
            let direct = store.direct_reads.run(|db| direct::token_principal(db, hash)).unwrap();
            let h = hash.to_string();
            let driver = store.read(move |c| Box::pin(async move { token_principal(c, &h).await })).await.unwrap();
            assert_eq!(format!("{direct:?}"), format!("{driver:?}"), "{hash}");
            assert_eq!(direct.is_some(), hash != "nope");
        }
        for id in [with_dept.id, without.id, PersonId::new()] {
            let direct = store.direct_reads.run(|db| direct::person_with_department(db, t, id)).unwrap();
            let driver = store.read(move |c| Box::pin(person_with_department(c, t, id))).await.unwrap();
            assert_eq!(format!("{direct:?}"), format!("{driver:?}"));
        }
        // Through the store: the same answers.
        let p = store.person_with_department(t, with_dept.id).await.unwrap().unwrap();
        assert_eq!(p.1.unwrap().name_en.as_deref(), Some("Finance"));
        assert_eq!(store.token_principal("h1").await.unwrap().unwrap().clearance, 2);
        drop(store);
        remove_db(&path);
    }

    /// Item lists read directly answer exactly as the driver's, for every filter the direct path
    /// takes: one person's mail with and without a department, with a status, a cursor, readable
    /// categories and a small limit, and tracking and reference lookups (found and not).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn direct_item_lists_match_driver_lists() {
        use mailroom_domain::item::Status;
        let (path, store, t, dept) = store_with_department(None).await;
        let person = |n: &str, department_id: Option<DepartmentId>| Person {
            id: PersonId::new(),
            tenant_id: t,
            name: n.into(),
            name_latin: None,
            aliases: vec![],
            employee_no: None,
            department_id,
            email: None,
            phone: None,
            active: true,
            forwarding: None,
        };
        let (a, b) = (person("王芳", Some(dept.id)), person("Li Na", None));
        store.upsert_person(&a).await.unwrap();
        store.upsert_person(&b).await.unwrap();
        let mut items = Vec::new();
        for n in 0..40u32 {
            let mut item = sample_item(t, n);
            match n % 4 {
                0 => item.recipient_person_id = Some(a.id),
                1 => item.recipient_person_id = Some(b.id),
                2 => item.recipient_department_id = Some(dept.id),
                _ => {}
            }
            if n % 3 == 0 {
                item.status = Status::Stored;
                item.category = Category::General;
                item.due_by = None;
                item.route = None;
                item.details_pending = false;
                item.tracking_number = None;
                item.created_at = custody::storage_time(Utc::now());
                item.updated_at = item.created_at;
            }
            if n % 5 == 0 {
                item.condition = mailroom_domain::item::Condition::Damaged;
                item.damage_description = Some("角破损 corner torn".into());
            }
            let draft = registered_draft(&item);
            items.push(item.clone());
            store
                .register_plain(ItemInsert { item, idempotency: None, exception: None }, Actor::system("t", "r"), draft)
                .await
                .unwrap();
        }
        let base = ItemFilter { limit: 51, clearance: 3, ..Default::default() };
        let mine = |p: &Person| Some((p.id, p.department_id));
        let newest_of_a = items.iter().filter(|i| i.recipient_person_id == Some(a.id)).map(|i| i.id).max().unwrap();
        let cases: Vec<(ItemFilter, usize)> = vec![
            (ItemFilter { mine: mine(&a), ..base.clone() }, 20),
            (ItemFilter { mine: mine(&b), ..base.clone() }, 10),
            (ItemFilter { mine: mine(&a), limit: 3, ..base.clone() }, 3),
            (ItemFilter { mine: mine(&a), status: Some(Status::Stored), ..base.clone() }, 7),
            (ItemFilter { mine: mine(&a), before: Some(newest_of_a), ..base.clone() }, 18),
            (ItemFilter { mine: mine(&b), categories: vec![Category::Invoice], ..base.clone() }, 29),
            (ItemFilter { tracking_number: items[1].tracking_number.clone(), ..base.clone() }, 1),
            (ItemFilter { tracking_number: Some("SF-NONE".into()), ..base.clone() }, 0),
            (ItemFilter { reference: Some(items[3].reference.clone()), ..base.clone() }, 1),
            (ItemFilter { reference: Some(items[3].reference.clone()), mine: mine(&b), ..base.clone() }, 0),
        ];
        for (k, (f, expected)) in cases.into_iter().enumerate() {
            assert!(direct::list_is_direct(&f), "case {k}");
            let direct = store.direct_reads.run(|db| direct::list_items(db, t, &f)).unwrap();
            let g = f.clone();
            let driver = store.read(move |c| Box::pin(async move { list_items(c, t, &g).await })).await.unwrap();
            assert_eq!(format!("{direct:?}"), format!("{driver:?}"), "case {k}");
            assert_eq!(direct.len(), expected, "case {k}");
            // Through the store: the same answer.
            assert_eq!(store.list_items(t, &f).await.unwrap().len(), expected, "case {k}");
        }
        // Free text stays on the driver's threads.
        assert!(!direct::list_is_direct(&ItemFilter { q: Some("x".into()), mine: mine(&a), ..base.clone() }));
        assert!(!direct::list_is_direct(&base));
        drop(store);
        remove_db(&path);
    }

    /// Two appends, then a failure if asked: both appends must vanish.
    async fn two_appends(c: &mut Conn, t: TenantId, actor: &Actor, draft: &EventDraft, fail: bool) -> Result<()> {
        append_event(c, t, actor, draft).await?;
        append_event(c, t, actor, draft).await?;
        if fail { Err(StoreError::Stale) } else { Ok(()) }
    }

    /// Writes that fail after appending to the chain, mixed into the same batches as writes that
    /// succeed: the log must hold exactly the successful appends, in one unbroken chain whose head
    /// matches the head row.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failed_writes_leave_no_trace_in_the_chain() {
        let path = temp_db();
        let store = Arc::new(SqliteStore::open(&format!("sqlite://{}", path.display())).await.unwrap());
        let tenant = Tenant { id: TenantId::new(), slug: "t".into(), name: "T".into(), created_at: Utc::now() };
        store.create_tenant(&tenant).await.unwrap();
        let t = tenant.id;
        let mut writes = tokio::task::JoinSet::new();
        for i in 0..300u32 {
            let store = store.clone();
            writes.spawn(async move {
                let actor = Actor::system("test", format!("w{i}"));
                let draft = EventDraft {
                    item_id: None,
                    kind: "note".into(),
                    location_id: None,
                    details: serde_json::json!({ "i": i }),
                };
                let fail = i % 3 == 0;
                // Every fourth a plain intake on the direct path, failing (a recipient that does
                // not exist) when asked to.
                if i % 4 == 3 {
                    let mut item = sample_item(t, i);
                    if fail {
                        item.recipient_person_id = Some(PersonId::new());
                    }
                    let draft = registered_draft(&item);
                    let ins = ItemInsert { item, idempotency: None, exception: None };
                    return (i, store.register_plain(ins, actor, draft).await.is_ok(), 1);
                }
                // Half of them as all-or-nothing writes (which undo themselves), half with a savepoint.
                let result = if i % 2 == 0 {
                    store.write(move |c| Box::pin(async move { two_appends(c, t, &actor, &draft, fail).await })).await
                } else {
                    store
                        .write_atomic(move |c| {
                            Box::pin(async move {
                                exec(c, "SAVEPOINT own").await?;
                                let r = two_appends(c, t, &actor, &draft, fail).await;
                                exec(c, if r.is_ok() { "RELEASE own" } else { "ROLLBACK TO own; RELEASE own" }).await?;
                                r
                            })
                        })
                        .await
                };
                (i, result.is_ok(), 2)
            });
        }
        let mut ok = 0;
        let mut intakes = 0;
        while let Some(joined) = writes.join_next().await {
            let (i, succeeded, appends) = joined.unwrap();
            assert_eq!(succeeded, i % 3 != 0, "write {i}");
            ok += usize::from(succeeded) * appends;
            intakes += usize::from(succeeded && appends == 1);
        }
        assert_eq!(intakes, 50);
        let events = store.custody_events(t, 0, 10_000).await.unwrap();
        assert_eq!(events.len(), ok);
        let mut chain = ChainVerifier::default();
        for ev in &events {
            chain.push(ev).unwrap();
        }
        let (seq, hash) = store.custody_head(t).await.unwrap();
        assert_eq!(chain.finish(seq, &hash).unwrap(), ok as i64);
        let items = store.list_items(t, &ItemFilter { limit: 1000, ..Default::default() }).await.unwrap();
        assert_eq!(items.len(), intakes);
        drop(store);
        remove_db(&path);
    }
}
