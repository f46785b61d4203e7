//! SQLite backend: one file, WAL, `synchronous=FULL`. Reads use a pool of read-only connections;
//! all writes go through one writer task that groups concurrent writes into shared transactions
//! (group commit), each write isolated by a savepoint, so one durable fsync acknowledges many.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::{mpsc, oneshot};

type Conn = sqlx::SqliteConnection;
const FOR_UPDATE: &str = "";
const BACKEND_NAME: &str = "sqlite";
type Backend = SqliteStore;

include!("common.rs");
include!("backend_impl.rs");

/// Largest number of writes that share one commit.
const MAX_BATCH: usize = 512;

type BoxFut<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;
type Finish = Box<dyn FnOnce(Option<String>) + Send>;
type Job = Box<dyn for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, (bool, Finish)> + Send>;

/// The SQLite store. Cheap to share behind an `Arc`.
pub struct SqliteStore {
    reads: SqlitePool,
    jobs: mpsc::Sender<Job>,
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
        let mut writer = base.clone().create_if_missing(true).connect().await?;
        sqlx::migrate!("./migrations/sqlite").run(&mut writer).await?;
        let reads = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(base.read_only(true).pragma("query_only", "1"))
            .await?;
        let (tx, rx) = mpsc::channel::<Job>(4096);
        tokio::spawn(writer_loop(writer, rx));
        Ok(SqliteStore { reads, jobs: tx })
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, Result<T>>,
    {
        let mut c = self.reads.acquire().await?;
        f(&mut c).await
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFut<'c, Result<T>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |c| {
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
        self.jobs.send(job).await.map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }
}

async fn exec(c: &mut Conn, sql: &'static str) -> std::result::Result<(), sqlx::Error> {
    sqlx::raw_sql(sql).execute(&mut *c).await.map(|_| ())
}

async fn writer_loop(mut conn: Conn, mut rx: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        if let Err(e) = exec(&mut conn, "BEGIN IMMEDIATE").await {
            tracing::error!(error = %e, jobs = batch.len(), "could not start a write transaction");
            // Dropping the jobs answers their callers with `WriterGone`.
            batch.clear();
            if conn.ping().await.is_err() {
                tracing::error!("the SQLite writer connection is gone; writes will fail");
                return;
            }
            continue;
        }
        let mut finishers = Vec::with_capacity(batch.len());
        for job in batch.drain(..) {
            if exec(&mut conn, "SAVEPOINT w").await.is_err() {
                continue;
            }
            let (ok, finish) = job(&mut conn).await;
            let end = if ok { "RELEASE w" } else { "ROLLBACK TO w; RELEASE w" };
            if let Err(e) = exec(&mut conn, end).await {
                tracing::error!(error = %e, "savepoint end failed");
            }
            finishers.push(finish);
        }
        match exec(&mut conn, "COMMIT").await {
            Ok(()) => finishers.into_iter().for_each(|f| f(None)),
            Err(e) => {
                tracing::error!(error = %e, "group commit failed");
                let _ = exec(&mut conn, "ROLLBACK").await;
                let msg = e.to_string();
                finishers.into_iter().for_each(|f| f(Some(msg.clone())));
            }
        }
    }
}
