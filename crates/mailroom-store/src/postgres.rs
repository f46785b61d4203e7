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

/// `INSERT INTO item` with `$1`–`$ITEM_INSERT_COUNT` that does nothing when the tenant already has
/// an item with that tracking number.
fn insert_item_unless_tracked_sql() -> String {
    format!(
        "INSERT INTO item ({ITEM_INSERT_COLUMNS}) VALUES {} \
         ON CONFLICT (tenant_id, tracking_number) WHERE tracking_number IS NOT NULL DO NOTHING",
        values_placeholders(1, ITEM_INSERT_COUNT)
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
            insert_item_unless_tracked_sql(),
            event_values.join(", ")
        )
    });
    let done = bind_event(bind_item(sqlx::query(SQL.as_str()), i), ev).execute(&mut *c).await.map_err(db_err)?;
    Ok(done.rows_affected() > 0)
}

pub struct PgStore {
    pool: PgPool,
    health: Arc<PoolHealth>,
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
        Ok(PgStore { pool, health })
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, Result<T>>,
    {
        let mut c = self.pool.acquire().await?;
        let r = f(&mut c).await;
        if let Err(StoreError::Db(e)) = &r
            && self.health.note(e)
        {
            // Not back into the pool.
            c.close_on_drop();
        }
        r
    }

    /// A transaction on a pooled connection. When the connection turns out to be broken at
    /// BEGIN, nothing was sent yet, so it is tried once more (on a checked connection).
    async fn begin(&self) -> Result<sqlx::Transaction<'static, Db>> {
        match self.pool.begin().await {
            Err(e) if self.health.note(&e) => Ok(self.pool.begin().await?),
            r => Ok(r?),
        }
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, Result<T>> + Send + 'static,
    {
        let mut tx = self.begin().await?;
        let r = match f(&mut tx).await {
            Ok(r) => r,
            Err(e) => {
                if let StoreError::Db(d) = &e {
                    self.health.note(d);
                }
                return Err(e);
            }
        };
        if let Err(e) = tx.commit().await {
            self.health.note(&e);
            return Err(e.into());
        }
        Ok(r)
    }

    async fn read_token_principal(&self, hash: &str) -> Result<Option<TokenPrincipal>> {
        let hash = hash.to_owned();
        self.read(move |c| Box::pin(async move { token_principal(c, &hash).await })).await
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
        self.read(move |c| Box::pin(async move { list_items(c, t, &f).await })).await
    }

    /// A registration whose only write is the item with its first event.
    async fn register_plain(&self, ins: ItemInsert, actor: Actor, draft: EventDraft) -> Result<Registered> {
        self.write_atomic(move |c| Box::pin(async move { register_item(c, &ins, &actor, &draft).await })).await
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

#[cfg(test)]
mod tests {
    use super::*;

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
