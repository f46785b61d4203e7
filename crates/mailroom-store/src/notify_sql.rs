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

const TASK_COLUMNS: &str = "k.id, k.tenant_id, k.item_id, k.kind, k.status, k.opened_at, k.done_at, k.done_by, k.note, \
    i.reference AS item_reference, i.recipient_name, i.sender_name, i.sender_org, i.sender_address, \
    i.damage_description, i.carrier, i.tracking_number";

pub(crate) async fn open_task(c: &mut Conn, t: TenantId, item: ItemId, kind: &str, at: DateTime<Utc>) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO staff_task (tenant_id, id, item_id, kind, status, opened_at) VALUES ($1, $2, $3, $4, 'open', $5) \
         ON CONFLICT (tenant_id, item_id, kind) DO NOTHING",
    )
    .bind(t.0)
    .bind(uuid::Uuid::now_v7())
    .bind(item.0)
    .bind(kind)
    .bind(at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn list_tasks(c: &mut Conn, t: TenantId, status: Option<&str>, limit: i64) -> Result<Vec<StaffTask>> {
    let r: Vec<StaffTaskRow> = match status {
        Some(s) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {TASK_COLUMNS} FROM staff_task k JOIN item i ON i.tenant_id = k.tenant_id AND i.id = k.item_id \
                 WHERE k.tenant_id = $1 AND k.status = $2 ORDER BY k.opened_at LIMIT $3"
            )))
            .bind(t.0)
            .bind(s)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
        }
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {TASK_COLUMNS} FROM staff_task k JOIN item i ON i.tenant_id = k.tenant_id AND i.id = k.item_id \
                 WHERE k.tenant_id = $1 ORDER BY k.opened_at DESC LIMIT $2"
            )))
            .bind(t.0)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
        }
    };
    Ok(r.into_iter().map(Into::into).collect())
}

pub(crate) async fn task(c: &mut Conn, t: TenantId, id: uuid::Uuid) -> Result<Option<StaffTask>> {
    let r: Option<StaffTaskRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TASK_COLUMNS} FROM staff_task k JOIN item i ON i.tenant_id = k.tenant_id AND i.id = k.item_id \
         WHERE k.tenant_id = $1 AND k.id = $2"
    )))
    .bind(t.0)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?;
    Ok(r.map(Into::into))
}

/// Marks an open task done and appends its custody event; `Stale` when it is not open any more.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn complete_task(
    c: &mut Conn,
    t: TenantId,
    id: uuid::Uuid,
    by: Option<UserId>,
    note: Option<&str>,
    at: DateTime<Utc>,
    actor: &Actor,
    draft: &EventDraft,
) -> Result<CustodyEvent> {
    let r = sqlx::query(
        "UPDATE staff_task SET status = 'done', done_at = $1, done_by = $2, note = $3 \
         WHERE tenant_id = $4 AND id = $5 AND status = 'open'",
    )
    .bind(at)
    .bind(by.map(|u| u.0))
    .bind(note)
    .bind(t.0)
    .bind(id)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    if r.rows_affected() != 1 {
        return Err(StoreError::Stale);
    }
    append_event(c, t, actor, draft).await
}
