//! PostgreSQL backend: a connection pool; each write is its own transaction (the custody chain
//! head is locked with `FOR UPDATE`, so several server nodes can share one database).

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;

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
}

impl PgStore {
    pub async fn open(url: &str) -> Result<PgStore> {
        let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(format!("{url}: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(32)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore { pool })
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, Result<T>>,
    {
        let mut c = self.pool.acquire().await?;
        f(&mut c).await
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, Result<T>> + Send + 'static,
    {
        let mut tx = self.pool.begin().await?;
        let r = f(&mut tx).await?;
        tx.commit().await?;
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
