//! PostgreSQL backend: a connection pool; each write is its own transaction (the custody chain
//! head is locked with `FOR UPDATE`, so several server nodes can share one database).

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

type Db = sqlx::Postgres;
type Conn = sqlx::PgConnection;
const FOR_UPDATE: &str = " FOR UPDATE";
/// Claiming jobs locks the chosen rows and passes over rows other nodes are claiming.
const CLAIM_LOCK: &str = " FOR UPDATE SKIP LOCKED";
/// Rows per multi-row INSERT in bulk loads (2,900 item values, far below the limit of 65,535).
const BULK_ROWS: usize = 100;
const BACKEND_NAME: &str = "postgres";
type Backend = PgStore;

include!("common.rs");
include!("notify_sql.rs");
include!("postage_sql.rs");
include!("outbound_sql.rs");
include!("backend_impl.rs");

type BoxFut<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

/// The tenant's chain head, locked until the transaction ends (other nodes append too).
async fn chain_head(c: &mut Conn, t: TenantId) -> Result<(i64, String)> {
    read_head(c, t).await
}

/// Moves the tenant's chain head to `ev`.
async fn chain_advanced(c: &mut Conn, ev: &CustodyEvent) -> Result<()> {
    write_head(c, ev.tenant_id, ev.seq, &ev.hash).await
}

/// `INSERT INTO item` of `rows` rows (`$1`–`$ITEM_INSERT_COUNT` for the first) that skips a row
/// when the tenant already has an item with its tracking number, or an earlier row has it.
fn insert_items_unless_tracked_sql(rows: usize) -> String {
    format!(
        "INSERT INTO item ({ITEM_INSERT_COLUMNS}) VALUES {} \
         ON CONFLICT (tenant_id, tracking_number) WHERE tracking_number IS NOT NULL DO NOTHING",
        values_placeholders(rows, ITEM_INSERT_COUNT)
    )
}

/// Inserts a new item and its first custody event in one statement, unless the tenant already
/// has an item with that tracking number (then nothing is inserted and the answer is false).
async fn insert_item_with_event(c: &mut Conn, i: &Item, ev: &CustodyEvent) -> Result<bool> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let event_values: Vec<String> =
            (ITEM_INSERT_COUNT + 1..=ITEM_INSERT_COUNT + 14).map(|n| format!("${n}")).collect();
        format!(
            "WITH new_item AS ({} RETURNING id) INSERT INTO custody_event ({EVENT_COLUMNS}) \
             SELECT {} FROM new_item",
            insert_items_unless_tracked_sql(1),
            event_values.join(", ")
        )
    });
    let done = bind_event(bind_item(sqlx::query(SQL.as_str()), i), ev).execute(&mut *c).await.map_err(db_err)?;
    Ok(done.rows_affected() > 0)
}

pub struct PgStore {
    pool: PgPool,
    health: Arc<PoolHealth>,
    intakes: Arc<IntakeQueue>,
}

/// A pooled connection idle at least this long is checked (a round trip) before it is lent out;
/// one in steady use is not. sqlx's own check, before every loan, doubles the round trips of a
/// request's reads.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(1);
/// After a connection was found broken, every connection is checked before it is lent out for
/// this long: the server was restarted, or the connections were cut, and the others in the
/// pool are likely broken too.
const CHECK_ALL_AFTER_LOSS: Duration = Duration::from_secs(10);

/// When the pool last lost a connection.
struct PoolHealth {
    opened: Instant,
    /// Milliseconds from `opened` to the last loss, plus one (0: none yet).
    lost_at: AtomicU64,
}

impl PoolHealth {
    fn new() -> PoolHealth {
        PoolHealth { opened: Instant::now(), lost_at: AtomicU64::new(0) }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    /// Records the error if it says the connection is broken; true then.
    fn note(&self, e: &sqlx::Error) -> bool {
        let lost = connection_lost(e);
        if lost {
            self.lost_at.store(self.now_ms() + 1, Ordering::Relaxed);
        }
        lost
    }

    /// Whether a connection idle for `idle` is to be checked before it is lent out.
    fn check(&self, idle: Duration) -> bool {
        if idle >= CHECK_AFTER_IDLE {
            return true;
        }
        let lost = self.lost_at.load(Ordering::Relaxed);
        lost != 0 && (self.now_ms() + 1).saturating_sub(lost) < CHECK_ALL_AFTER_LOSS.as_millis() as u64
    }
}

/// Whether the error means the connection itself is gone (cut, or its server process ended),
/// rather than that a statement failed.
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        // Class 57P: the server shut the session down (terminated, restarting, crashed).
        sqlx::Error::Database(d) => d.code().is_some_and(|c| c.starts_with("57P")),
        _ => false,
    }
}

impl PgStore {
    pub async fn open(url: &str) -> Result<PgStore> {
        let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(format!("{url}: {e}")))?;
        let health = Arc::new(PoolHealth::new());
        let check = health.clone();
        let pool = PgPoolOptions::new()
            .max_connections(32)
            .acquire_timeout(Duration::from_secs(30))
            // Checked only when idle for a while or after a loss (see `CHECK_AFTER_IDLE`); a
            // connection that fails the check is closed and the pool lends another.
            .test_before_acquire(false)
            .before_acquire(move |c, meta| {
                let ping = check.check(meta.idle_for);
                Box::pin(async move {
                    if ping {
                        sqlx::Connection::ping(c).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore { pool, health, intakes: Arc::new(IntakeQueue::default()) })
    }

    /// Runs `f` on a pooled connection. A read that meets a cut connection (the server
    /// restarted, or ended the session) is tried once more: the loss is noted first, so the
    /// next connection lent is checked, and a read changes nothing when tried twice.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: for<'c> Fn(&'c mut Conn) -> BoxFut<'c, Result<T>>,
    {
        match self.read_once(&f).await {
            Err(StoreError::Db(e)) if connection_lost(&e) => self.read_once(&f).await,
            r => r,
        }
    }

    async fn read_once<T, F>(&self, f: &F) -> Result<T>
    where
        F: for<'c> Fn(&'c mut Conn) -> BoxFut<'c, Result<T>>,
    {
        let mut c = match self.pool.acquire().await {
            Ok(c) => c,
            Err(e) => {
                self.health.note(&e);
                return Err(e.into());
            }
        };
        let r = f(&mut c).await;
        if let Err(e) = &r
            && note_store(&self.health, e)
        {
            // Not back into the pool.
            c.close_on_drop();
        }
        r
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, Result<T>> + Send + 'static,
    {
        write_on(&self.pool, &self.health, f).await
    }

    async fn read_token_principal(&self, hash: &str) -> Result<Option<TokenPrincipal>> {
        let hash = hash.to_owned();
        self.read(move |c| {
            let hash = hash.clone();
            Box::pin(async move { token_principal(c, &hash).await })
        })
        .await
    }

    async fn read_person_with_department(
        &self,
        t: TenantId,
        id: PersonId,
    ) -> Result<Option<(Person, Option<DepartmentNames>)>> {
        self.read(move |c| Box::pin(person_with_department(c, t, id))).await
    }

    async fn read_items(&self, t: TenantId, f: &ItemFilter) -> Result<Vec<Item>> {
        let f = f.clone();
        self.read(move |c| {
            let f = f.clone();
            Box::pin(async move { list_items(c, t, &f).await })
        })
        .await
    }

    /// A registration whose only writes are the item with its first event and, with an
    /// idempotency key, the key's record: queued, and written with the other intakes that arrive
    /// meanwhile in one transaction (see [`IntakeQueue`]).
    async fn register_plain(&self, ins: ItemInsert, actor: Actor, draft: EventDraft) -> Result<Registered> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let start = {
            let mut q = self.intakes.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            q.waiting.push(QueuedIntake { ins, actor, draft, reply });
            !std::mem::replace(&mut q.draining, true)
        };
        if start {
            // A task of its own, so that a caller who goes away does not take the others' writes
            // with it.
            tokio::spawn(drain_intakes(self.pool.clone(), self.health.clone(), self.intakes.clone()));
        }
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Each write is its own transaction here, so nothing differs from `write`.
    async fn write_atomic<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, Result<T>> + Send + 'static,
    {
        self.write(f).await
    }
}

/// A transaction on a pooled connection. When the connection turns out to be broken at BEGIN,
/// nothing was sent yet, so it is tried once more (on a checked connection).
async fn begin_on(pool: &PgPool, health: &PoolHealth) -> Result<sqlx::Transaction<'static, Db>> {
    match pool.begin().await {
        Err(e) if health.note(&e) => Ok(pool.begin().await?),
        r => Ok(r?),
    }
}

/// Runs `f` in a transaction of its own and commits.
async fn write_on<T, F>(pool: &PgPool, health: &PoolHealth, f: F) -> Result<T>
where
    F: for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, Result<T>>,
{
    let mut tx = begin_on(pool, health).await?;
    let r = f(&mut tx).await.inspect_err(|e| {
        note_store(health, e);
    })?;
    if let Err(e) = tx.commit().await {
        health.note(&e);
        return Err(e.into());
    }
    Ok(r)
}

/// Most intakes one shared transaction takes.
const MAX_INTAKE_BATCH: usize = 64;

/// Group commit for intakes. Each intake holds its organisation's chain head, locked,
/// from its event's insert to its COMMIT, so one transaction per intake lets intakes of one
/// organisation through one at a time, each waiting for its own WAL flush. Instead, intakes
/// queue here; one task at a time takes everything waiting and writes it in one transaction
/// (each organisation's head locked and moved once), then takes what arrived meanwhile.
#[derive(Default)]
struct IntakeQueue {
    state: std::sync::Mutex<IntakeQueueState>,
}

#[derive(Default)]
struct IntakeQueueState {
    waiting: Vec<QueuedIntake>,
    /// Whether a task is writing the queue's intakes (it ends when it finds the queue empty).
    draining: bool,
}

struct QueuedIntake {
    ins: ItemInsert,
    actor: Actor,
    draft: EventDraft,
    reply: tokio::sync::oneshot::Sender<Result<Registered>>,
}

/// Writes the queued intakes, a batch at a time, until none are waiting.
async fn drain_intakes(pool: PgPool, health: Arc<PoolHealth>, queue: Arc<IntakeQueue>) {
    let mut guard = Draining { pool, health, queue, done: false };
    loop {
        let batch: Vec<QueuedIntake> = {
            let mut q = guard.queue.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if q.waiting.is_empty() {
                q.draining = false;
                guard.done = true;
                return;
            }
            let n = q.waiting.len().min(MAX_INTAKE_BATCH);
            q.waiting.drain(..n).collect()
        };
        write_intakes(&guard.pool, &guard.health, batch).await;
    }
}

/// The draining task's mark. Should the task end otherwise than by finding the queue empty (a
/// panic, or its runtime shutting down), the queue is handed to a new task if one can be
/// started, and otherwise left for the next intake to start one; the intakes of the batch in
/// hand are answered with `WriterGone` as their reply channels close.
struct Draining {
    pool: PgPool,
    health: Arc<PoolHealth>,
    queue: Arc<IntakeQueue>,
    done: bool,
}

impl Drop for Draining {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut q = self.queue.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let runtime = tokio::runtime::Handle::try_current();
        match runtime {
            Ok(rt) if !q.waiting.is_empty() => {
                rt.spawn(drain_intakes(self.pool.clone(), self.health.clone(), self.queue.clone()));
            }
            _ => q.draining = false,
        }
    }
}

/// Writes a batch of intakes in one transaction and answers each caller. When the batch fails
/// before its COMMIT (an intake broke a constraint, say), nothing of it was written: each half is
/// written again the same way, down to single intakes, so that each caller gets its own answer
/// and the others still share transactions. When the COMMIT itself fails, every caller of the
/// batch gets that error (as a lone intake's caller would).
fn write_intakes<'a>(
    pool: &'a PgPool,
    health: &'a PoolHealth,
    mut batch: Vec<QueuedIntake>,
) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        if batch.len() == 1 {
            let QueuedIntake { ins, actor, draft, reply } = batch.remove(0);
            let answer =
                write_on(pool, health, move |c| Box::pin(async move { register_item(c, &ins, &actor, &draft).await }))
                    .await;
            let _ = reply.send(answer);
            return;
        }
        match write_batch(pool, health, &batch).await {
            Err(e) => {
                tracing::debug!(error = %e, intakes = batch.len(), "a shared intake transaction failed; splitting it");
                let second = batch.split_off(batch.len() / 2);
                write_intakes(pool, health, batch).await;
                write_intakes(pool, health, second).await;
            }
            Ok((tx, outcomes)) => {
                let committed = tx.commit().await;
                if let Err(e) = &committed {
                    health.note(e);
                }
                for (job, outcome) in batch.into_iter().zip(outcomes) {
                    let answer = match (&committed, outcome) {
                        (Err(e), _) => Err(StoreError::Db(sqlx::Error::Protocol(format!("commit failed: {e}")))),
                        (Ok(()), Outcome::Created) => Ok(Registered { item: job.ins.item, created: true }),
                        // The tracking number was registered before (that item is committed by now).
                        (Ok(()), Outcome::Tracked) => existing_by_tracking(pool, &job.ins.item).await,
                        (Ok(()), Outcome::Replayed { item: id, created }) => {
                            replayed(pool, job.ins.item.tenant_id, id, created).await
                        }
                        (Ok(()), Outcome::Refused(e)) => Err(e),
                    };
                    let _ = job.reply.send(answer);
                }
            }
        }
    })
}

/// What a batch did for one intake; the answer is read after the COMMIT.
enum Outcome {
    /// Its item was created.
    Created,
    /// Its tracking number was registered before (or earlier in the batch): that item.
    Tracked,
    /// Its idempotency key was used before (or earlier in the batch) for the same request, which
    /// was answered with this item, created or not.
    Replayed { item: ItemId, created: bool },
    /// Its idempotency key was used before for another request.
    Refused(StoreError),
}

/// Inserts a batch's items with their events, organisation by organisation (in one order, so
/// that two nodes' batches cannot deadlock on the heads), and moves the heads; returns the open
/// transaction and what was done for each intake.
async fn write_batch(
    pool: &PgPool,
    health: &PoolHealth,
    batch: &[QueuedIntake],
) -> Result<(sqlx::Transaction<'static, Db>, Vec<Outcome>)> {
    let mut tx = begin_on(pool, health).await?;
    let mut order: Vec<usize> = (0..batch.len()).collect();
    order.sort_by_key(|&i| batch[i].ins.item.tenant_id.0);
    let mut outcomes: Vec<Outcome> = (0..batch.len()).map(|_| Outcome::Tracked).collect();
    for group in order.chunk_by(|&a, &b| batch[a].ins.item.tenant_id == batch[b].ins.item.tenant_id) {
        write_group(&mut tx, batch, group, &mut outcomes).await.inspect_err(|e| {
            note_store(health, e);
        })?;
    }
    Ok((tx, outcomes))
}

/// The records of these idempotency keys (`$2`) in the organisation (`$1`). One index probe per
/// key: `key = ANY($2)` may be planned as a walk over all of the organisation's keys when the
/// table has grown since it was last analysed.
const KEYS_SQL: &str = "SELECT k.key, x.request_hash, x.item_id, x.created FROM unnest($2::text[]) AS k(key), \
     LATERAL (SELECT request_hash, item_id, created FROM idempotency_key i \
     WHERE i.tenant_id = $1 AND i.key = k.key OFFSET 0) x";
/// The ids of the organisation's (`$1`) items with these tracking numbers (`$2`), as `KEYS_SQL`.
const TRACKED_SQL: &str = "SELECT k.tn, x.id FROM unnest($2::text[]) AS k(tn), \
     LATERAL (SELECT id FROM item i WHERE i.tenant_id = $1 AND i.tracking_number = k.tn OFFSET 0) x";

/// One organisation's part of [`write_batch`], the intakes `group` (indexes into `batch`), with
/// the head locked:
/// 1. the idempotency keys' records: a key used before answers as it did then (or refuses
///    another request), and so does a key used earlier in the batch;
/// 2. one multi-row `INSERT` of the other intakes' items, which skips tracking numbers registered
///    before (or earlier in the batch), and one of the new items' events, chained in batch order;
/// 3. the new keys' records, and the head moved.
async fn write_group(c: &mut Conn, batch: &[QueuedIntake], group: &[usize], outcomes: &mut [Outcome]) -> Result<()> {
    use std::collections::HashMap;
    let t = batch[group[0]].ins.item.tenant_id;
    let (mut seq, mut hash) = read_head(c, t).await?;
    let keys: Vec<&str> =
        group.iter().filter_map(|&i| batch[i].ins.idempotency.as_ref().map(|(k, _)| k.as_str())).collect();
    let mut known: HashMap<String, (String, ItemId, bool)> = HashMap::new();
    if !keys.is_empty() {
        for r in sqlx::query(KEYS_SQL).bind(t.0).bind(&keys).fetch_all(&mut *c).await? {
            let item: uuid::Uuid = r.try_get(2)?;
            known.insert(r.try_get(0)?, (r.try_get(1)?, ItemId(item), r.try_get(3)?));
        }
    }
    // The intakes that write, and those that answer as an earlier one of the batch (i, j).
    let mut writers = Vec::with_capacity(group.len());
    let mut first_with_key: HashMap<&str, usize> = HashMap::new();
    let mut repeats = Vec::new();
    for &i in group {
        let Some((key, req)) = &batch[i].ins.idempotency else {
            writers.push(i);
            continue;
        };
        if let Some((prev, item, created)) = known.get(key) {
            outcomes[i] = if prev == req {
                Outcome::Replayed { item: *item, created: *created }
            } else {
                Outcome::Refused(key_reused())
            };
        } else if let Some(&j) = first_with_key.get(key.as_str()) {
            match &batch[j].ins.idempotency {
                Some((_, first)) if first == req => repeats.push((i, j)),
                _ => outcomes[i] = Outcome::Refused(key_reused()),
            }
        } else {
            first_with_key.insert(key, i);
            writers.push(i);
        }
    }
    if writers.is_empty() {
        return Ok(());
    }
    // The statements' text depends on the number of rows: not kept as prepared statements, so
    // that up to `MAX_INTAKE_BATCH` variants do not push the others out of the connection's cache.
    let sql = format!("{} RETURNING id", insert_items_unless_tracked_sql(writers.len()));
    let q = writers.iter().fold(sqlx::query(sqlx::AssertSqlSafe(sql)), |q, &i| bind_item(q, &batch[i].ins.item));
    let inserted: std::collections::HashSet<uuid::Uuid> = q
        .persistent(false)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
    let mut events = Vec::with_capacity(inserted.len());
    for &i in &writers {
        let job = &batch[i];
        if inserted.contains(&job.ins.item.id.0) {
            let ev = custody::seal(t, seq + 1, &hash, &job.actor, &job.draft, Utc::now());
            (seq, hash) = (ev.seq, ev.hash.clone());
            outcomes[i] = Outcome::Created;
            events.push(ev);
        } else {
            outcomes[i] = Outcome::Tracked;
        }
    }
    if !events.is_empty() {
        let sql =
            format!("INSERT INTO custody_event ({EVENT_COLUMNS}) VALUES {}", values_placeholders(events.len(), 14));
        let q = events.iter().fold(sqlx::query(sqlx::AssertSqlSafe(sql)), bind_event);
        q.persistent(false).execute(&mut *c).await.map_err(db_err)?;
        write_head(c, t, seq, &hash).await?;
    }
    // The new keys' records, each with the item its intake is answered with: its own, or the
    // one holding its tracking number.
    let keyed: Vec<(usize, &str, &str)> = writers
        .iter()
        .filter_map(|&i| batch[i].ins.idempotency.as_ref().map(|(k, h)| (i, k.as_str(), h.as_str())))
        .collect();
    if keyed.is_empty() {
        return Ok(());
    }
    let tracked: Vec<&str> = keyed
        .iter()
        .filter(|(i, ..)| matches!(outcomes[*i], Outcome::Tracked))
        .filter_map(|(i, ..)| batch[*i].ins.item.tracking_number.as_deref())
        .collect();
    let mut by_tracking: HashMap<String, ItemId> = HashMap::new();
    if !tracked.is_empty() {
        for r in sqlx::query(TRACKED_SQL).bind(t.0).bind(&tracked).fetch_all(&mut *c).await? {
            let id: uuid::Uuid = r.try_get(1)?;
            by_tracking.insert(r.try_get(0)?, ItemId(id));
        }
    }
    let mut records: HashMap<usize, (&str, &str, ItemId, bool)> = HashMap::with_capacity(keyed.len());
    for (i, key, req) in keyed {
        let item = &batch[i].ins.item;
        let (id, created) = match outcomes[i] {
            Outcome::Created => (item.id, true),
            _ => {
                let tn = item.tracking_number.as_deref().unwrap_or_default();
                (*by_tracking.get(tn).ok_or(StoreError::NotFound)?, false)
            }
        };
        records.insert(i, (key, req, id, created));
    }
    let sql = format!(
        "INSERT INTO idempotency_key (tenant_id, key, request_hash, item_id, created, created_at) VALUES {}",
        values_placeholders(records.len(), 6)
    );
    let now = Utc::now();
    let q = records.values().fold(sqlx::query(sqlx::AssertSqlSafe(sql)), |q, &(key, req, id, created)| {
        q.bind(t.0).bind(key).bind(req).bind(id.0).bind(created).bind(now)
    });
    q.persistent(false).execute(&mut *c).await.map_err(db_err)?;
    for (i, j) in repeats {
        // `j` wrote with the same key, so it has a record.
        if let Some(&(_, _, item, created)) = records.get(&j) {
            outcomes[i] = Outcome::Replayed { item, created };
        }
    }
    Ok(())
}

/// Records a store error that says the connection is broken (see [`PoolHealth::note`]).
fn note_store(health: &PoolHealth, e: &StoreError) -> bool {
    matches!(e, StoreError::Db(d) if health.note(d))
}

/// The item an idempotency key's first request was answered with.
async fn replayed(pool: &PgPool, t: TenantId, id: ItemId, created: bool) -> Result<Registered> {
    let mut c = pool.acquire().await?;
    let found = item(&mut c, t, id).await?.ok_or(StoreError::NotFound)?;
    Ok(Registered { item: found, created })
}

/// The committed item that holds `item`'s tracking number.
async fn existing_by_tracking(pool: &PgPool, item: &Item) -> Result<Registered> {
    let mut c = pool.acquire().await?;
    let tn = item.tracking_number.as_deref().unwrap_or_default();
    let found = item_by_tracking(&mut c, item.tenant_id, tn).await?.ok_or(StoreError::NotFound)?;
    Ok(Registered { item: found, created: false })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A draining task that ends abnormally with nothing waiting lets the next intake start a
    /// new one (else every later intake would wait for ever).
    #[tokio::test]
    async fn an_abandoned_drain_lets_the_next_intake_start_one() {
        let pool = PgPoolOptions::new().connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        let queue = Arc::new(IntakeQueue::default());
        queue.state.lock().unwrap().draining = true;
        drop(Draining { pool: pool.clone(), health: Arc::new(PoolHealth::new()), queue: queue.clone(), done: true });
        assert!(queue.state.lock().unwrap().draining, "a task that finished normally has reset it itself");
        drop(Draining { pool, health: Arc::new(PoolHealth::new()), queue: queue.clone(), done: false });
        assert!(!queue.state.lock().unwrap().draining);
    }

    #[test]
    fn connections_are_checked_when_idle_or_after_a_loss() {
        let h = PoolHealth::new();
        assert!(!h.check(Duration::from_millis(5)));
        assert!(h.check(CHECK_AFTER_IDLE));
        // A failed statement is no loss; a cut connection is.
        assert!(!h.note(&sqlx::Error::RowNotFound));
        assert!(!h.check(Duration::ZERO));
        assert!(h.note(&sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset))));
        assert!(h.check(Duration::ZERO));
        // The window closes again.
        h.lost_at.store(1, Ordering::Relaxed);
        let h =
            PoolHealth { opened: Instant::now() - CHECK_ALL_AFTER_LOSS - Duration::from_secs(1), lost_at: h.lost_at };
        assert!(!h.check(Duration::ZERO));
    }
}
