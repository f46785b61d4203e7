//! PostgreSQL backend: a connection pool; each write is its own transaction (the custody chain
//! head is locked with `FOR UPDATE`, so several server nodes can share one database).

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

type Conn = sqlx::PgConnection;
const FOR_UPDATE: &str = " FOR UPDATE";
const BACKEND_NAME: &str = "postgres";
type Backend = PgStore;

include!("common.rs");
include!("backend_impl.rs");

type BoxFut<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

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
}
