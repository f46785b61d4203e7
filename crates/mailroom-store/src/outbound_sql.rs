// Outbound items and dispatch batches, shared by both backends (included after `common.rs` and
// `postage_sql.rs`).

const OUTBOUND_COLUMNS: &str = "item_id, requester_person_id, requester_user_id, method, country, zone, address, \
    recipient_email, recipient_phone, contents, weight_g, cost_centre_id, estimate, not_before, customs, customs_form, \
    mailing_id, decided_by, decided_at, decision_note, postage, account_id, ledger_entry_id, batch_id, scanned_out_at, \
    dispatched_at, receipt_signed_by, receipt_number, receipt_at, created_at";
const BATCH_COLUMNS: &str = "id, reference, site_id, carrier, collection_at, status, created_by, created_at, \
    handed_over_at, handed_over_by, courier_name";

#[derive(sqlx::FromRow)]
struct OutboundDbRow {
    item_id: uuid::Uuid,
    requester_person_id: Option<uuid::Uuid>,
    requester_user_id: Option<uuid::Uuid>,
    method: String,
    country: String,
    zone: String,
    address: String,
    recipient_email: Option<String>,
    recipient_phone: Option<String>,
    contents: String,
    weight_g: Option<i64>,
    cost_centre_id: uuid::Uuid,
    estimate: Option<i64>,
    not_before: Option<DateTime<Utc>>,
    customs: Option<String>,
    customs_form: Option<String>,
    mailing_id: Option<uuid::Uuid>,
    decided_by: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    decision_note: Option<String>,
    postage: Option<i64>,
    account_id: Option<uuid::Uuid>,
    ledger_entry_id: Option<uuid::Uuid>,
    batch_id: Option<uuid::Uuid>,
    scanned_out_at: Option<DateTime<Utc>>,
    dispatched_at: Option<DateTime<Utc>>,
    receipt_signed_by: Option<String>,
    receipt_number: Option<String>,
    receipt_at: Option<DateTime<Utc>>,
    // Read beside the item's own `created_at`.
    #[sqlx(rename = "send_created_at")]
    created_at: DateTime<Utc>,
}

/// The item's and the send's columns for one joined read (`i` the item, `o` the send).
fn outbound_select() -> String {
    let item = ITEM_COLUMNS.split(", ").map(|c| format!("i.{}", c.trim())).collect::<Vec<_>>().join(", ");
    let send = OUTBOUND_COLUMNS
        .split(", ")
        .map(|c| match c.trim() {
            "created_at" => "o.created_at AS send_created_at".to_string(),
            c => format!("o.{c}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!("SELECT {item}, {send} FROM outbound o JOIN item i ON i.tenant_id = o.tenant_id AND i.id = o.item_id")
}

/// An item and its send from one row of [`outbound_select`].
fn outbound_from_row<R: sqlx::Row>(row: &R) -> Result<OutboundRecord>
where
    ItemRow: for<'r> sqlx::FromRow<'r, R>,
    OutboundDbRow: for<'r> sqlx::FromRow<'r, R>,
{
    let item: Item = <ItemRow as sqlx::FromRow<R>>::from_row(row)?.try_into()?;
    let send: OutboundRow = <OutboundDbRow as sqlx::FromRow<R>>::from_row(row)?.try_into()?;
    Ok(OutboundRecord { item, send })
}

fn json_column(name: &str, s: &str) -> Result<serde_json::Value> {
    serde_json::from_str(s).map_err(|e| StoreError::Db(sqlx::Error::Decode(format!("outbound.{name}: {e}").into())))
}

impl TryFrom<OutboundDbRow> for OutboundRow {
    type Error = StoreError;
    fn try_from(r: OutboundDbRow) -> Result<Self> {
        Ok(OutboundRow {
            item_id: r.item_id.into(),
            requester_person_id: r.requester_person_id.map(Into::into),
            requester_user_id: r.requester_user_id.map(Into::into),
            method: r.method,
            country: r.country,
            zone: r.zone,
            address: json_column("address", &r.address)?,
            recipient_email: r.recipient_email,
            recipient_phone: r.recipient_phone,
            contents: r.contents,
            weight_g: r.weight_g,
            cost_centre_id: r.cost_centre_id,
            estimate: r.estimate,
            not_before: r.not_before,
            customs: r.customs.as_deref().map(|s| json_column("customs", s)).transpose()?,
            customs_form: r.customs_form,
            mailing_id: r.mailing_id,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            decision_note: r.decision_note,
            postage: r.postage,
            account_id: r.account_id,
            ledger_entry_id: r.ledger_entry_id,
            batch_id: r.batch_id,
            scanned_out_at: r.scanned_out_at,
            dispatched_at: r.dispatched_at,
            receipt_signed_by: r.receipt_signed_by,
            receipt_number: r.receipt_number,
            receipt_at: r.receipt_at,
            created_at: r.created_at,
        })
    }
}

async fn insert_outbound_row(c: &mut Conn, t: TenantId, o: &OutboundRow) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO outbound (tenant_id, {OUTBOUND_COLUMNS}) VALUES {}",
        values_placeholders(1, 31)
    )))
    .bind(t.0)
    .bind(o.item_id.0)
    .bind(o.requester_person_id.map(|p| p.0))
    .bind(o.requester_user_id.map(|u| u.0))
    .bind(&o.method)
    .bind(&o.country)
    .bind(&o.zone)
    .bind(o.address.to_string())
    .bind(&o.recipient_email)
    .bind(&o.recipient_phone)
    .bind(&o.contents)
    .bind(o.weight_g)
    .bind(o.cost_centre_id)
    .bind(o.estimate)
    .bind(o.not_before)
    .bind(o.customs.as_ref().map(|v| v.to_string()))
    .bind(&o.customs_form)
    .bind(o.mailing_id)
    .bind(&o.decided_by)
    .bind(o.decided_at)
    .bind(&o.decision_note)
    .bind(o.postage)
    .bind(o.account_id)
    .bind(o.ledger_entry_id)
    .bind(o.batch_id)
    .bind(o.scanned_out_at)
    .bind(o.dispatched_at)
    .bind(&o.receipt_signed_by)
    .bind(&o.receipt_number)
    .bind(o.receipt_at)
    .bind(o.created_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Inserts outbound items (item, send and `requested` custody event each), all or nothing.
pub(crate) async fn create_outbound(
    c: &mut Conn,
    t: TenantId,
    records: &[(OutboundRecord, EventDraft)],
    actor: &Actor,
) -> Result<()> {
    for (r, draft) in records {
        let (seq, prev) = chain_head(c, t).await?;
        let ev = custody::seal(t, seq + 1, &prev, actor, draft, Utc::now());
        if !insert_item_with_event(c, &r.item, &ev).await? {
            return Err(StoreError::Domain(mailroom_domain::DomainError::new(
                mailroom_domain::ErrorCode::Conflict,
                "an item with this tracking number is already registered",
            )));
        }
        chain_advanced(c, &ev).await?;
        insert_outbound_row(c, t, &r.send).await?;
    }
    Ok(())
}

pub(crate) async fn outbound_record(c: &mut Conn, t: TenantId, id: ItemId) -> Result<Option<OutboundRecord>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{} WHERE o.tenant_id = $1 AND o.item_id = $2", outbound_select())))
        .bind(t.0)
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(outbound_from_row).transpose()
}

/// Outbound items matching the filter, newest first.
pub(crate) async fn list_outbound(c: &mut Conn, t: TenantId, f: &OutboundFilter) -> Result<Vec<OutboundRecord>> {
    let mut sql = format!("{} WHERE o.tenant_id = $1", outbound_select());
    let mut n = 1;
    let mut next = || {
        n += 1;
        n
    };
    let statuses: Vec<&str> = f.statuses.iter().map(|s| s.as_str()).collect();
    if !statuses.is_empty() {
        let ps: Vec<String> = statuses.iter().map(|_| format!("${}", next())).collect();
        sql.push_str(&format!(" AND i.status IN ({})", ps.join(", ")));
    }
    let requester_at = f.requester.map(|_| next());
    if let Some(k) = requester_at {
        sql.push_str(&format!(" AND o.requester_person_id = ${k}"));
    }
    let batch_at = f.batch.map(|_| next());
    if let Some(k) = batch_at {
        sql.push_str(&format!(" AND o.batch_id = ${k}"));
    }
    let mailing_at = f.mailing.map(|_| next());
    if let Some(k) = mailing_at {
        sql.push_str(&format!(" AND o.mailing_id = ${k}"));
    }
    let carrier_at = f.carrier.as_ref().map(|_| next());
    if let Some(k) = carrier_at {
        sql.push_str(&format!(" AND i.carrier = ${k}"));
    }
    if f.unbatched {
        sql.push_str(" AND o.batch_id IS NULL");
    }
    let window_at = f.window_open_at.map(|_| next());
    if let Some(k) = window_at {
        sql.push_str(&format!(" AND (o.not_before IS NULL OR o.not_before <= ${k})"));
    }
    let before_at = f.before.map(|_| next());
    if let Some(k) = before_at {
        sql.push_str(&format!(" AND o.item_id < ${k}"));
    }
    let limit_at = next();
    sql.push_str(&format!(" ORDER BY o.item_id DESC LIMIT ${limit_at}"));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(t.0);
    for s in &statuses {
        q = q.bind(*s);
    }
    if let Some(p) = f.requester {
        q = q.bind(p.0);
    }
    if let Some(b) = f.batch {
        q = q.bind(b);
    }
    if let Some(m) = f.mailing {
        q = q.bind(m);
    }
    if let Some(cr) = &f.carrier {
        q = q.bind(cr.clone());
    }
    if let Some(w) = f.window_open_at {
        q = q.bind(w);
    }
    if let Some(b) = f.before {
        q = q.bind(b.0);
    }
    let rows = q.bind(f.limit.clamp(1, 10_000)).fetch_all(&mut *c).await?;
    rows.iter().map(outbound_from_row).collect()
}

/// Applies one change to an outbound item with its custody event (and postage movement), all or
/// nothing; `Stale` when the item's version moved on.
pub(crate) async fn change_outbound(
    c: &mut Conn,
    t: TenantId,
    id: ItemId,
    ch: &OutboundChange,
    actor: &Actor,
    draft: &EventDraft,
) -> Result<OutboundRecord> {
    let now = custody::storage_time(Utc::now());
    let current = item(c, t, id).await?.ok_or(StoreError::NotFound)?;
    let status = ch.status.unwrap_or(current.status);
    let done = sqlx::query(
        "UPDATE item SET status = $1, tracking_number = COALESCE($2, tracking_number), carrier = COALESCE($3, carrier), \
         updated_at = $4, version = version + 1 WHERE tenant_id = $5 AND id = $6 AND version = $7",
    )
    .bind(status.as_str())
    .bind(&ch.tracking_number)
    .bind(&ch.carrier)
    .bind(now)
    .bind(t.0)
    .bind(id.0)
    .bind(ch.expected_version)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Stale);
    }
    let mut ledger_entry = None;
    if let Some(mv) = &ch.postage_move {
        let out = postage_post(c, t, mv).await?;
        ledger_entry = Some(out.entry.id);
    }
    sqlx::query(
        "UPDATE outbound SET weight_g = COALESCE($1, weight_g), customs = COALESCE($2, customs), \
         customs_form = COALESCE($3, customs_form), decided_by = COALESCE($4, decided_by), \
         decided_at = COALESCE($5, decided_at), decision_note = COALESCE($6, decision_note), \
         postage = COALESCE($7, postage), account_id = COALESCE($8, account_id), \
         ledger_entry_id = COALESCE($9, ledger_entry_id), \
         batch_id = CASE WHEN $10 THEN $11 ELSE batch_id END, \
         scanned_out_at = CASE WHEN $12 THEN $13 ELSE scanned_out_at END, \
         dispatched_at = COALESCE($14, dispatched_at), receipt_signed_by = COALESCE($15, receipt_signed_by), \
         receipt_number = COALESCE($16, receipt_number), receipt_at = COALESCE($17, receipt_at) \
         WHERE tenant_id = $18 AND item_id = $19",
    )
    .bind(ch.weight_g)
    .bind(ch.customs.as_ref().map(|v| v.to_string()))
    .bind(&ch.customs_form)
    .bind(&ch.decided_by)
    .bind(ch.decided_at)
    .bind(&ch.decision_note)
    .bind(ch.postage)
    .bind(ch.account_id)
    .bind(ledger_entry)
    .bind(ch.batch.is_some())
    .bind(ch.batch.flatten())
    .bind(ch.scanned_out_at.is_some())
    .bind(ch.scanned_out_at.flatten())
    .bind(ch.dispatched_at)
    .bind(&ch.receipt_signed_by)
    .bind(&ch.receipt_number)
    .bind(ch.receipt_at)
    .bind(t.0)
    .bind(id.0)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    append_event(c, t, actor, draft).await?;
    outbound_record(c, t, id).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn insert_batch(c: &mut Conn, t: TenantId, b: &DispatchBatch) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO dispatch_batch (tenant_id, {BATCH_COLUMNS}) VALUES {}",
        values_placeholders(1, 12)
    )))
    .bind(t.0)
    .bind(b.id)
    .bind(&b.reference)
    .bind(b.site_id)
    .bind(&b.carrier)
    .bind(b.collection_at)
    .bind(&b.status)
    .bind(&b.created_by)
    .bind(b.created_at)
    .bind(b.handed_over_at)
    .bind(&b.handed_over_by)
    .bind(&b.courier_name)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn batch(c: &mut Conn, t: TenantId, id: uuid::Uuid) -> Result<Option<DispatchBatch>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {BATCH_COLUMNS} FROM dispatch_batch WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(t.0)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?)
}

pub(crate) async fn batches(c: &mut Conn, t: TenantId, status: Option<&str>, limit: i64) -> Result<Vec<DispatchBatch>> {
    let q = match status {
        Some(_) => format!(
            "SELECT {BATCH_COLUMNS} FROM dispatch_batch WHERE tenant_id = $1 AND status = $2 \
             ORDER BY collection_at DESC, id DESC LIMIT $3"
        ),
        None => format!(
            "SELECT {BATCH_COLUMNS} FROM dispatch_batch WHERE tenant_id = $1 ORDER BY collection_at DESC, id DESC LIMIT $2"
        ),
    };
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(q)).bind(t.0);
    if let Some(s) = status {
        q = q.bind(s.to_string());
    }
    Ok(q.bind(limit.clamp(1, 1000)).fetch_all(&mut *c).await?)
}

/// Marks an open batch handed over; false when it was not open any more.
pub(crate) async fn close_batch(
    c: &mut Conn,
    t: TenantId,
    id: uuid::Uuid,
    at: DateTime<Utc>,
    by: &str,
    courier: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE dispatch_batch SET status = 'handed_over', handed_over_at = $1, handed_over_by = $2, courier_name = $3 \
         WHERE tenant_id = $4 AND id = $5 AND status = 'open'",
    )
    .bind(at)
    .bind(by)
    .bind(courier)
    .bind(t.0)
    .bind(id)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}
