// Postage accounts, cost centres, the ledger and the rate table, shared by both backends
// (included after `common.rs`).

use mailroom_domain::postage::{BudgetVerdict, Method, Money, RateRow, Zone, check_budget};

const COST_CENTRE_COLUMNS: &str = "id, code, name, department_id, soft_limit, hard_limit, approval_limit, created_at, updated_at";
const ACCOUNT_COLUMNS: &str = "id, site_id, name, balance, created_at";
const LEDGER_COLUMNS: &str = "id, account_id, seq, kind, amount, balance_after, cost_centre_id, carrier, method, zone, \
    weight_g, reference, note, actor, at";

pub(crate) async fn upsert_cost_centre(c: &mut Conn, t: TenantId, cc: &CostCentre) -> Result<()> {
    sqlx::query(
        "INSERT INTO cost_centre (tenant_id, id, code, name, department_id, soft_limit, hard_limit, created_at, updated_at, \
         approval_limit) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (tenant_id, id) DO UPDATE SET code = excluded.code, name = excluded.name, \
         department_id = excluded.department_id, soft_limit = excluded.soft_limit, hard_limit = excluded.hard_limit, \
         updated_at = excluded.updated_at, approval_limit = excluded.approval_limit",
    )
    .bind(t.0)
    .bind(cc.id)
    .bind(&cc.code)
    .bind(&cc.name)
    .bind(cc.department_id)
    .bind(cc.soft_limit)
    .bind(cc.hard_limit)
    .bind(cc.created_at)
    .bind(cc.updated_at)
    .bind(cc.approval_limit)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn cost_centres(c: &mut Conn, t: TenantId) -> Result<Vec<CostCentre>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COST_CENTRE_COLUMNS} FROM cost_centre WHERE tenant_id = $1 ORDER BY code"
    )))
    .bind(t.0)
    .fetch_all(&mut *c)
    .await?)
}

pub(crate) async fn cost_centre(c: &mut Conn, t: TenantId, id: uuid::Uuid, lock: bool) -> Result<Option<CostCentre>> {
    let lock = if lock { FOR_UPDATE } else { "" };
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COST_CENTRE_COLUMNS} FROM cost_centre WHERE tenant_id = $1 AND id = $2{lock}"
    )))
    .bind(t.0)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?)
}

pub(crate) async fn create_postage_account(c: &mut Conn, t: TenantId, a: &PostageAccount) -> Result<()> {
    sqlx::query(
        "INSERT INTO postage_account (tenant_id, id, site_id, name, balance, created_at) VALUES ($1, $2, $3, $4, 0, $5)",
    )
    .bind(t.0)
    .bind(a.id)
    .bind(a.site_id)
    .bind(&a.name)
    .bind(a.created_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn postage_accounts(c: &mut Conn, t: TenantId) -> Result<Vec<PostageAccount>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM postage_account WHERE tenant_id = $1 ORDER BY name"
    )))
    .bind(t.0)
    .fetch_all(&mut *c)
    .await?)
}

pub(crate) async fn postage_account(
    c: &mut Conn,
    t: TenantId,
    id: uuid::Uuid,
    lock: bool,
) -> Result<Option<PostageAccount>> {
    let lock = if lock { FOR_UPDATE } else { "" };
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM postage_account WHERE tenant_id = $1 AND id = $2{lock}"
    )))
    .bind(t.0)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?)
}

pub(crate) async fn postage_ledger(
    c: &mut Conn,
    t: TenantId,
    account: Option<uuid::Uuid>,
    limit: i64,
) -> Result<Vec<LedgerEntry>> {
    let r = match account {
        Some(a) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {LEDGER_COLUMNS} FROM postage_ledger WHERE tenant_id = $1 AND account_id = $2 \
                 ORDER BY seq DESC LIMIT $3"
            )))
            .bind(t.0)
            .bind(a)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
        }
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {LEDGER_COLUMNS} FROM postage_ledger WHERE tenant_id = $1 ORDER BY at DESC, id DESC LIMIT $2"
            )))
            .bind(t.0)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
        }
    };
    Ok(r)
}

/// Net spend (charges less refunds) of one cost centre in `[from, to)`.
async fn cost_centre_spend(c: &mut Conn, t: TenantId, cc: uuid::Uuid, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<i64> {
    let (spend,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(-SUM(amount), 0) AS BIGINT) FROM postage_ledger \
         WHERE tenant_id = $1 AND cost_centre_id = $2 AND at >= $3 AND at < $4 AND kind IN ('charge', 'refund')",
    )
    .bind(t.0)
    .bind(cc)
    .bind(from)
    .bind(to)
    .fetch_one(&mut *c)
    .await?;
    Ok(spend)
}

/// Every cost centre's net spend and number of charges in `[from, to)`.
pub(crate) async fn postage_spend(
    c: &mut Conn,
    t: TenantId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<CostCentreSpend>> {
    Ok(sqlx::query_as(
        "SELECT cost_centre_id, CAST(SUM(CASE WHEN kind = 'charge' THEN 1 ELSE 0 END) AS BIGINT) AS charges, \
         CAST(COALESCE(-SUM(amount), 0) AS BIGINT) AS spend FROM postage_ledger \
         WHERE tenant_id = $1 AND at >= $2 AND at < $3 AND kind IN ('charge', 'refund') AND cost_centre_id IS NOT NULL \
         GROUP BY cost_centre_id",
    )
    .bind(t.0)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *c)
    .await?)
}

fn refused(code: mailroom_domain::ErrorCode, message: String) -> StoreError {
    StoreError::Domain(mailroom_domain::DomainError::new(code, message))
}

/// Writes one ledger entry and the account's new balance, after checking the balance and (for
/// entries with a cost centre) the cost centre's monthly limits; a refused movement writes
/// nothing. `entry.balance_after` is computed here.
pub(crate) async fn postage_post(c: &mut Conn, t: TenantId, mv: &PostageMove) -> Result<PostageOutcome> {
    let mut e = mv.entry.clone();
    let account = postage_account(c, t, e.account_id, true).await?.ok_or(StoreError::NotFound)?;
    let mut verdict = BudgetVerdict::Ok;
    let mut month_spend = 0;
    if let Some(cc_id) = e.cost_centre_id {
        let cc = cost_centre(c, t, cc_id, true).await?.ok_or_else(|| {
            StoreError::Domain(mailroom_domain::DomainError::invalid("cost_centre_id", "no such cost centre"))
        })?;
        let spent = cost_centre_spend(c, t, cc_id, mv.month.0, mv.month.1).await?;
        verdict = check_budget(Money(spent), Money(-e.amount), cc.soft_limit.map(Money), cc.hard_limit.map(Money));
        if verdict == BudgetVerdict::Block {
            return Err(refused(
                mailroom_domain::ErrorCode::BudgetExceeded,
                format!(
                    "cost centre {} has spent {} of its {} limit this month; {} more is refused",
                    cc.code,
                    Money(spent),
                    Money(cc.hard_limit.unwrap_or_default()),
                    Money(-e.amount)
                ),
            ));
        }
        month_spend = spent - e.amount;
    }
    let balance = account.balance.checked_add(e.amount).ok_or_else(|| {
        StoreError::Domain(mailroom_domain::DomainError::invalid("amount", "the amount is too large"))
    })?;
    if balance < 0 {
        return Err(refused(
            mailroom_domain::ErrorCode::InsufficientBalance,
            format!("account {} holds {}; {} is needed", account.name, Money(account.balance), Money(-e.amount)),
        ));
    }
    e.balance_after = balance;
    let (last,): (i64,) =
        sqlx::query_as("SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM postage_ledger WHERE tenant_id = $1 AND account_id = $2")
            .bind(t.0)
            .bind(e.account_id)
            .fetch_one(&mut *c)
            .await?;
    e.seq = last + 1;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO postage_ledger (tenant_id, {LEDGER_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    )))
    .bind(t.0)
    .bind(e.id)
    .bind(e.account_id)
    .bind(e.seq)
    .bind(&e.kind)
    .bind(e.amount)
    .bind(e.balance_after)
    .bind(e.cost_centre_id)
    .bind(&e.carrier)
    .bind(&e.method)
    .bind(&e.zone)
    .bind(e.weight_g)
    .bind(&e.reference)
    .bind(&e.note)
    .bind(&e.actor)
    .bind(e.at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    sqlx::query("UPDATE postage_account SET balance = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(balance)
        .bind(t.0)
        .bind(e.account_id)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(PostageOutcome { entry: e, verdict, month_spend })
}

pub(crate) async fn postage_rates(c: &mut Conn, t: TenantId) -> Result<Vec<RateRow>> {
    let rows: Vec<(String, String, String, i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT carrier, method, zone, max_weight_g, price, step_price FROM postage_rate WHERE tenant_id = $1 \
         ORDER BY carrier, method, zone, max_weight_g",
    )
    .bind(t.0)
    .fetch_all(&mut *c)
    .await?;
    rows.into_iter()
        .map(|(carrier, method, zone, max, price, step)| {
            Ok(RateRow {
                carrier,
                method: Method::parse(&method).ok_or_else(|| StoreError::Corrupt(format!("method {method:?}")))?,
                zone: Zone::parse(&zone).ok_or_else(|| StoreError::Corrupt(format!("zone {zone:?}")))?,
                max_weight_g: u32::try_from(max).map_err(|_| StoreError::Corrupt(format!("weight {max}")))?,
                price: Money(price),
                step_price: step.map(Money),
            })
        })
        .collect()
}

pub(crate) async fn replace_postage_rates(c: &mut Conn, t: TenantId, rows: &[RateRow]) -> Result<()> {
    sqlx::query("DELETE FROM postage_rate WHERE tenant_id = $1").bind(t.0).execute(&mut *c).await.map_err(db_err)?;
    for r in rows {
        sqlx::query(
            "INSERT INTO postage_rate (tenant_id, carrier, method, zone, max_weight_g, price, step_price) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(t.0)
        .bind(&r.carrier)
        .bind(r.method.as_str())
        .bind(r.zone.as_str())
        .bind(i64::from(r.max_weight_g))
        .bind(r.price.0)
        .bind(r.step_price.map(|m| m.0))
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

pub(crate) async fn update_postage_account(c: &mut Conn, t: TenantId, a: &PostageAccount) -> Result<()> {
    let r = sqlx::query("UPDATE postage_account SET name = $1, site_id = $2 WHERE tenant_id = $3 AND id = $4")
        .bind(&a.name)
        .bind(a.site_id)
        .bind(t.0)
        .bind(a.id)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    if r.rows_affected() != 1 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes a cost centre or account (`table`) unless a ledger entry names it in `column`.
async fn delete_unused(c: &mut Conn, t: TenantId, table: &str, column: &str, id: uuid::Uuid) -> Result<()> {
    let (used,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM postage_ledger WHERE tenant_id = $1 AND {column} = $2"
    )))
    .bind(t.0)
    .bind(id)
    .fetch_one(&mut *c)
    .await?;
    if used > 0 {
        return Err(refused(
            mailroom_domain::ErrorCode::Conflict,
            format!("the ledger names it {used} times; it is kept for the record"),
        ));
    }
    let r = sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE tenant_id = $1 AND id = $2")))
        .bind(t.0)
        .bind(id)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    if r.rows_affected() != 1 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
