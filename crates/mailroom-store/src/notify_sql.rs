// Notification bookkeeping, shared by both backends (included after `common.rs`): the
// dispatcher's cursor over the custody log, the log of notices sent, and pickup codes.

pub(crate) async fn notify_cursor(c: &mut Conn, t: TenantId) -> Result<Option<i64>> {
    let r: Option<(i64,)> = sqlx::query_as("SELECT seq FROM notify_cursor WHERE tenant_id = $1")
        .bind(t.0)
        .fetch_optional(&mut *c)
        .await?;
    Ok(r.map(|x| x.0))
}

pub(crate) async fn advance_notify_cursor(c: &mut Conn, t: TenantId, seq: i64, at: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "INSERT INTO notify_cursor (tenant_id, seq, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at \
         WHERE notify_cursor.seq < excluded.seq",
    )
    .bind(t.0)
    .bind(seq)
    .bind(at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

const NOTIFICATION_COLUMNS: &str = "id, tenant_id, item_id, person_id, kind, channel, target, lang, subject, status, \
    detail, idempotency_key, created_at";

pub(crate) async fn record_notification(c: &mut Conn, n: &NotificationRecord) -> Result<bool> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO notification ({NOTIFICATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING"
    )))
    .bind(n.id)
    .bind(n.tenant_id.0)
    .bind(n.item_id.map(|x| x.0))
    .bind(n.person_id.map(|x| x.0))
    .bind(&n.kind)
    .bind(&n.channel)
    .bind(&n.target)
    .bind(&n.lang)
    .bind(&n.subject)
    .bind(&n.status)
    .bind(&n.detail)
    .bind(&n.idempotency_key)
    .bind(n.created_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn notification_by_key(c: &mut Conn, t: TenantId, key: &str) -> Result<Option<NotificationRecord>> {
    let r: Option<NotificationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {NOTIFICATION_COLUMNS} FROM notification WHERE tenant_id = $1 AND idempotency_key = $2"
    )))
    .bind(t.0)
    .bind(key)
    .fetch_optional(&mut *c)
    .await?;
    Ok(r.map(Into::into))
}

pub(crate) async fn item_notifications(c: &mut Conn, t: TenantId, item: ItemId) -> Result<Vec<NotificationRecord>> {
    let r: Vec<NotificationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {NOTIFICATION_COLUMNS} FROM notification WHERE tenant_id = $1 AND item_id = $2 ORDER BY created_at, id"
    )))
    .bind(t.0)
    .bind(item.0)
    .fetch_all(&mut *c)
    .await?;
    Ok(r.into_iter().map(Into::into).collect())
}

pub(crate) async fn recent_notifications(c: &mut Conn, t: TenantId, limit: i64) -> Result<Vec<NotificationRecord>> {
    let r: Vec<NotificationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {NOTIFICATION_COLUMNS} FROM notification WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    )))
    .bind(t.0)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    Ok(r.into_iter().map(Into::into).collect())
}

pub(crate) async fn pickup_code(c: &mut Conn, t: TenantId, item: ItemId, candidate: &str, at: DateTime<Utc>) -> Result<String> {
    sqlx::query(
        "INSERT INTO pickup_code (tenant_id, item_id, code, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, item_id) DO NOTHING",
    )
    .bind(t.0)
    .bind(item.0)
    .bind(candidate)
    .bind(at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    let (code,): (String,) = sqlx::query_as("SELECT code FROM pickup_code WHERE tenant_id = $1 AND item_id = $2")
        .bind(t.0)
        .bind(item.0)
        .fetch_one(&mut *c)
        .await?;
    Ok(code)
}

pub(crate) async fn existing_pickup_code(c: &mut Conn, t: TenantId, item: ItemId) -> Result<Option<String>> {
    let r: Option<(String,)> = sqlx::query_as("SELECT code FROM pickup_code WHERE tenant_id = $1 AND item_id = $2")
        .bind(t.0)
        .bind(item.0)
        .fetch_optional(&mut *c)
        .await?;
    Ok(r.map(|x| x.0))
}
