// Shared SQL for both backends. Included into `sqlite` and `postgres`, each of which defines
// `Db`, `Conn`, `FOR_UPDATE` before the `include!`. Placeholders are always `$1, $2, …` in
// ascending order of appearance, which both backends bind identically.

use crate::models::*;
use crate::rows::*;
use crate::{AdminChange, DirectoryImport, Result, StoreError};
use chrono::Utc;
use mailroom_domain::custody::{self, Actor, CustodyEvent, EventDraft};
use mailroom_domain::ids::*;
use mailroom_domain::receipt::Checkpoint;
use mailroom_domain::throttle::ThrottleRule;
use sqlx::Row;

pub(crate) async fn create_tenant(c: &mut Conn, t: &Tenant) -> Result<()> {
    sqlx::query("INSERT INTO tenant (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(t.id.0)
        .bind(&t.slug)
        .bind(&t.name)
        .bind(t.created_at)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    sqlx::query("INSERT INTO custody_head (tenant_id, seq, hash) VALUES ($1, 0, $2)")
        .bind(t.id.0)
        .bind(custody::GENESIS)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn tenant(c: &mut Conn, id: TenantId) -> Result<Option<Tenant>> {
    let r: Option<TenantRow> = sqlx::query_as("SELECT id, slug, name, created_at FROM tenant WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?;
    Ok(r.map(Into::into))
}

pub(crate) async fn tenant_by_slug(c: &mut Conn, slug: &str) -> Result<Option<Tenant>> {
    let r: Option<TenantRow> = sqlx::query_as("SELECT id, slug, name, created_at FROM tenant WHERE slug = $1")
        .bind(slug)
        .fetch_optional(&mut *c)
        .await?;
    Ok(r.map(Into::into))
}

pub(crate) async fn list_tenants(c: &mut Conn) -> Result<Vec<Tenant>> {
    let r: Vec<TenantRow> =
        sqlx::query_as("SELECT id, slug, name, created_at FROM tenant ORDER BY slug").fetch_all(&mut *c).await?;
    Ok(r.into_iter().map(Into::into).collect())
}

pub(crate) async fn create_site(c: &mut Conn, s: &Site) -> Result<()> {
    sqlx::query("INSERT INTO site (id, tenant_id, name, address, timezone) VALUES ($1, $2, $3, $4, $5)")
        .bind(s.id.0)
        .bind(s.tenant_id.0)
        .bind(&s.name)
        .bind(&s.address)
        .bind(&s.timezone)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn list_sites(c: &mut Conn, t: TenantId) -> Result<Vec<Site>> {
    let r: Vec<SiteRow> =
        sqlx::query_as("SELECT id, tenant_id, name, address, timezone FROM site WHERE tenant_id = $1 ORDER BY name")
            .bind(t.0)
            .fetch_all(&mut *c)
            .await?;
    Ok(r.into_iter().map(Into::into).collect())
}

pub(crate) async fn create_location(c: &mut Conn, l: &Location) -> Result<()> {
    sqlx::query(
        "INSERT INTO location (id, tenant_id, site_id, code, name, kind, security_level) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(l.id.0)
    .bind(l.tenant_id.0)
    .bind(l.site_id.0)
    .bind(&l.code)
    .bind(&l.name)
    .bind(&l.kind)
    .bind(l.security_level)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

const LOCATION_COLUMNS: &str = "id, tenant_id, site_id, code, name, kind, security_level";

pub(crate) async fn location(c: &mut Conn, t: TenantId, id: LocationId) -> Result<Option<Location>> {
    let r: Option<LocationRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {LOCATION_COLUMNS} FROM location WHERE tenant_id = $1 AND id = $2")))
            .bind(t.0)
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?;
    Ok(r.map(Into::into))
}

pub(crate) async fn list_locations(c: &mut Conn, t: TenantId) -> Result<Vec<Location>> {
    let r: Vec<LocationRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {LOCATION_COLUMNS} FROM location WHERE tenant_id = $1 ORDER BY code")))
            .bind(t.0)
            .fetch_all(&mut *c)
            .await?;
    Ok(r.into_iter().map(Into::into).collect())
}

const DEPARTMENT_COLUMNS: &str = "id, tenant_id, parent_id, code, name, name_en, kind, key_contact_id, email";

pub(crate) async fn upsert_department(c: &mut Conn, d: &Department) -> Result<()> {
    sqlx::query(
        "INSERT INTO department (id, tenant_id, parent_id, code, name, name_en, kind, key_contact_id, email) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id, code = excluded.code, name = excluded.name, \
         name_en = excluded.name_en, kind = excluded.kind, key_contact_id = excluded.key_contact_id, email = excluded.email",
    )
    .bind(d.id.0)
    .bind(d.tenant_id.0)
    .bind(d.parent_id.map(|i| i.0))
    .bind(&d.code)
    .bind(&d.name)
    .bind(&d.name_en)
    .bind(&d.kind)
    .bind(d.key_contact_id.map(|i| i.0))
    .bind(&d.email)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn department(c: &mut Conn, t: TenantId, id: DepartmentId) -> Result<Option<Department>> {
    let r: Option<DepartmentRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {DEPARTMENT_COLUMNS} FROM department WHERE tenant_id = $1 AND id = $2")))
            .bind(t.0)
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?;
    Ok(r.map(Into::into))
}

pub(crate) async fn department_by_code(c: &mut Conn, t: TenantId, code: &str) -> Result<Option<Department>> {
    let r: Option<DepartmentRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {DEPARTMENT_COLUMNS} FROM department WHERE tenant_id = $1 AND code = $2")))
            .bind(t.0)
            .bind(code)
            .fetch_optional(&mut *c)
            .await?;
    Ok(r.map(Into::into))
}

pub(crate) async fn list_departments(c: &mut Conn, t: TenantId) -> Result<Vec<Department>> {
    let r: Vec<DepartmentRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {DEPARTMENT_COLUMNS} FROM department WHERE tenant_id = $1 ORDER BY code")))
            .bind(t.0)
            .fetch_all(&mut *c)
            .await?;
    Ok(r.into_iter().map(Into::into).collect())
}

pub(crate) async fn delete_department(c: &mut Conn, t: TenantId, id: DepartmentId) -> Result<()> {
    let used: i64 = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM person WHERE tenant_id = $1 AND department_id = $2) + \
         (SELECT COUNT(*) FROM item WHERE tenant_id = $3 AND recipient_department_id = $4) + \
         (SELECT COUNT(*) FROM department WHERE tenant_id = $5 AND parent_id = $6)",
    )
    .bind(t.0)
    .bind(id.0)
    .bind(t.0)
    .bind(id.0)
    .bind(t.0)
    .bind(id.0)
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;
    if used > 0 {
        return Err(StoreError::Duplicate("department is still in use by people, teams or items".into()));
    }
    let done = sqlx::query("DELETE FROM department WHERE tenant_id = $1 AND id = $2")
        .bind(t.0)
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

const PERSON_COLUMNS: &str =
    "id, tenant_id, name, name_latin, aliases, employee_no, department_id, email, phone, active, forwarding";

pub(crate) async fn upsert_person(c: &mut Conn, p: &Person) -> Result<()> {
    let aliases = serde_json::to_string(&p.aliases).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO person (id, tenant_id, name, name_latin, aliases, employee_no, department_id, email, phone, active, \
         forwarding, search_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_latin = excluded.name_latin, aliases = excluded.aliases, \
         employee_no = excluded.employee_no, department_id = excluded.department_id, email = excluded.email, \
         phone = excluded.phone, active = excluded.active, forwarding = excluded.forwarding, search_key = excluded.search_key",
    )
    .bind(p.id.0)
    .bind(p.tenant_id.0)
    .bind(&p.name)
    .bind(&p.name_latin)
    .bind(aliases)
    .bind(&p.employee_no)
    .bind(p.department_id.map(|i| i.0))
    .bind(&p.email)
    .bind(&p.phone)
    .bind(p.active)
    .bind(&p.forwarding)
    .bind(person_search_key(p))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn person(c: &mut Conn, t: TenantId, id: PersonId) -> Result<Option<Person>> {
    let r: Option<PersonRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {PERSON_COLUMNS} FROM person WHERE tenant_id = $1 AND id = $2")))
            .bind(t.0)
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?;
    r.map(TryInto::try_into).transpose()
}

pub(crate) async fn person_by_employee_no(c: &mut Conn, t: TenantId, no: &str) -> Result<Option<Person>> {
    let r: Option<PersonRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {PERSON_COLUMNS} FROM person WHERE tenant_id = $1 AND employee_no = $2")))
            .bind(t.0)
            .bind(no)
            .fetch_optional(&mut *c)
            .await?;
    r.map(TryInto::try_into).transpose()
}

pub(crate) async fn search_people(
    c: &mut Conn,
    t: TenantId,
    q: &str,
    after: Option<PersonId>,
    limit: i64,
) -> Result<Vec<Person>> {
    let after = after.map(|a| a.0).unwrap_or(uuid::Uuid::nil());
    let r: Vec<PersonRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PERSON_COLUMNS} FROM person WHERE tenant_id = $1 AND search_key LIKE $2 ESCAPE '\\' AND id > $3 \
         ORDER BY id LIMIT $4"
    )))
    .bind(t.0)
    .bind(like_pattern(q))
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    r.into_iter().map(TryInto::try_into).collect()
}

pub(crate) async fn count_people(c: &mut Conn, t: TenantId) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM person WHERE tenant_id = $1").bind(t.0).fetch_one(&mut *c).await?.try_get(0)?)
}

pub(crate) async fn import_directory(c: &mut Conn, _t: TenantId, import: &DirectoryImport) -> Result<()> {
    for d in &import.departments {
        upsert_department(c, d).await?;
    }
    for p in &import.people {
        upsert_person(c, p).await?;
    }
    Ok(())
}

const USER_COLUMNS: &str = "id, tenant_id, login, display_name, password_hash, role, person_id, active, created_at";

pub(crate) async fn create_user(c: &mut Conn, u: &User) -> Result<()> {
    sqlx::query(
        "INSERT INTO app_user (id, tenant_id, login, display_name, password_hash, role, person_id, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(u.id.0)
    .bind(u.tenant_id.0)
    .bind(&u.login)
    .bind(&u.display_name)
    .bind(&u.password_hash)
    .bind(u.role.as_str())
    .bind(u.person_id.map(|i| i.0))
    .bind(u.active)
    .bind(u.created_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn user(c: &mut Conn, t: TenantId, id: UserId) -> Result<Option<User>> {
    let r: Option<UserRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM app_user WHERE tenant_id = $1 AND id = $2")))
            .bind(t.0)
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?;
    r.map(TryInto::try_into).transpose()
}

pub(crate) async fn user_by_login(c: &mut Conn, t: TenantId, login: &str) -> Result<Option<User>> {
    let r: Option<UserRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM app_user WHERE tenant_id = $1 AND login = $2")))
            .bind(t.0)
            .bind(login)
            .fetch_optional(&mut *c)
            .await?;
    r.map(TryInto::try_into).transpose()
}

pub(crate) async fn list_users(c: &mut Conn, t: TenantId) -> Result<Vec<User>> {
    let r: Vec<UserRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM app_user WHERE tenant_id = $1 ORDER BY login")))
            .bind(t.0)
            .fetch_all(&mut *c)
            .await?;
    r.into_iter().map(TryInto::try_into).collect()
}

pub(crate) async fn create_token(c: &mut Conn, tok: &ApiToken) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_token (id, tenant_id, user_id, token_hash, name, role, scope, created_at, expires_at, \
         last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(tok.id.0)
    .bind(tok.tenant_id.0)
    .bind(tok.user_id.0)
    .bind(&tok.token_hash)
    .bind(&tok.name)
    .bind(tok.role.map(|r| r.as_str()))
    .bind(tok.scope.as_str())
    .bind(tok.created_at)
    .bind(tok.expires_at)
    .bind(tok.last_used_at)
    .bind(tok.revoked_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn token_by_hash(c: &mut Conn, hash: &str) -> Result<Option<ApiToken>> {
    let r: Option<TokenRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} FROM api_token WHERE token_hash = $1")))
            .bind(hash)
            .fetch_optional(&mut *c)
            .await?;
    r.map(TryInto::try_into).transpose()
}

pub(crate) async fn token(c: &mut Conn, t: TenantId, id: TokenId) -> Result<Option<ApiToken>> {
    let r: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TOKEN_COLUMNS} FROM api_token WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(t.0)
    .bind(id.0)
    .fetch_optional(&mut *c)
    .await?;
    r.map(TryInto::try_into).transpose()
}

pub(crate) async fn list_tokens(c: &mut Conn, t: TenantId, user: Option<UserId>) -> Result<Vec<ApiToken>> {
    let r: Vec<TokenRow> = match user {
        Some(u) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {TOKEN_COLUMNS} FROM api_token WHERE tenant_id = $1 AND user_id = $2 ORDER BY id DESC"
            )))
            .bind(t.0)
            .bind(u.0)
            .fetch_all(&mut *c)
            .await?
        }
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {TOKEN_COLUMNS} FROM api_token WHERE tenant_id = $1 ORDER BY id DESC"
            )))
            .bind(t.0)
            .fetch_all(&mut *c)
            .await?
        }
    };
    r.into_iter().map(TryInto::try_into).collect()
}

pub(crate) async fn touch_token(c: &mut Conn, id: TokenId, at: chrono::DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE api_token SET last_used_at = $1 WHERE id = $2").bind(at).bind(id.0).execute(&mut *c).await?;
    Ok(())
}

async fn revoke_token(c: &mut Conn, t: TenantId, id: TokenId, at: chrono::DateTime<Utc>) -> Result<()> {
    let done = sqlx::query("UPDATE api_token SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL")
        .bind(at)
        .bind(t.0)
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) async fn create_session(c: &mut Conn, s: &WebSession) -> Result<()> {
    sqlx::query(
        "INSERT INTO web_session (id_hash, tenant_id, user_id, csrf_token, lang, expires_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&s.id_hash)
    .bind(s.tenant_id.0)
    .bind(s.user_id.0)
    .bind(&s.csrf_token)
    .bind(&s.lang)
    .bind(s.expires_at)
    .bind(s.last_seen_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn session(c: &mut Conn, id_hash: &str) -> Result<Option<WebSession>> {
    let r: Option<SessionRow> = sqlx::query_as(
        "SELECT id_hash, tenant_id, user_id, csrf_token, lang, expires_at, last_seen_at FROM web_session WHERE id_hash = $1",
    )
    .bind(id_hash)
    .fetch_optional(&mut *c)
    .await?;
    Ok(r.map(Into::into))
}

pub(crate) async fn touch_session(c: &mut Conn, id_hash: &str, at: chrono::DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE web_session SET last_seen_at = $1 WHERE id_hash = $2").bind(at).bind(id_hash).execute(&mut *c).await?;
    Ok(())
}

const THROTTLE_COLUMNS: &str = "kind, tenant, subject, failures, last_failure_at, locked_until";

pub(crate) async fn login_throttle(
    c: &mut Conn,
    keys: &[ThrottleKey],
    now: chrono::DateTime<Utc>,
) -> Result<Vec<ThrottleEntry>> {
    let mut out = Vec::new();
    for k in keys {
        let r: Option<ThrottleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {THROTTLE_COLUMNS} FROM login_throttle WHERE kind = $1 AND tenant = $2 AND subject = $3 AND expires_at > $4"
        )))
        .bind(k.kind.as_str())
        .bind(&k.tenant)
        .bind(&k.subject)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?;
        if let Some(r) = r {
            out.push(r.try_into()?);
        }
    }
    Ok(out)
}

/// Counts one failed login against each key (row-locked on PostgreSQL, so that concurrent
/// attempts on several nodes all count), and forgets counters that no longer matter.
pub(crate) async fn record_login_failure(
    c: &mut Conn,
    keys: &[(ThrottleKey, ThrottleRule)],
    now: chrono::DateTime<Utc>,
) -> Result<Vec<ThrottleEntry>> {
    sqlx::query("DELETE FROM login_throttle WHERE expires_at <= $1").bind(now).execute(&mut *c).await?;
    let mut out = Vec::new();
    for (k, rule) in keys {
        sqlx::query(
            "INSERT INTO login_throttle (kind, tenant, subject, failures, last_failure_at, locked_until, expires_at) \
             VALUES ($1, $2, $3, 0, $4, NULL, $5) ON CONFLICT (kind, tenant, subject) DO NOTHING",
        )
        .bind(k.kind.as_str())
        .bind(&k.tenant)
        .bind(&k.subject)
        .bind(now)
        .bind(now)
        .execute(&mut *c)
        .await?;
        let row: ThrottleRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {THROTTLE_COLUMNS} FROM login_throttle WHERE kind = $1 AND tenant = $2 AND subject = $3{FOR_UPDATE}"
        )))
        .bind(k.kind.as_str())
        .bind(&k.tenant)
        .bind(&k.subject)
        .fetch_one(&mut *c)
        .await?;
        let prev: ThrottleEntry = row.try_into()?;
        let prev = (prev.state.failures > 0).then_some(prev.state);
        let state = rule.after_failure(prev.as_ref(), now);
        let quiet = chrono::Duration::seconds(rule.window_secs.max(0));
        let expires_at = state.locked_until.map_or(now, |l| l.max(now)) + quiet;
        sqlx::query(
            "UPDATE login_throttle SET failures = $1, last_failure_at = $2, locked_until = $3, expires_at = $4 \
             WHERE kind = $5 AND tenant = $6 AND subject = $7",
        )
        .bind(state.failures)
        .bind(state.last_failure_at)
        .bind(state.locked_until)
        .bind(expires_at)
        .bind(k.kind.as_str())
        .bind(&k.tenant)
        .bind(&k.subject)
        .execute(&mut *c)
        .await?;
        out.push(ThrottleEntry { key: k.clone(), state });
    }
    Ok(out)
}

pub(crate) async fn clear_login_throttle(c: &mut Conn, k: &ThrottleKey) -> Result<bool> {
    let done = sqlx::query("DELETE FROM login_throttle WHERE kind = $1 AND tenant = $2 AND subject = $3")
        .bind(k.kind.as_str())
        .bind(&k.tenant)
        .bind(&k.subject)
        .execute(&mut *c)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn login_lockouts(c: &mut Conn, tenant: &str, now: chrono::DateTime<Utc>) -> Result<Vec<ThrottleEntry>> {
    let r: Vec<ThrottleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {THROTTLE_COLUMNS} FROM login_throttle WHERE kind = 'account' AND tenant = $1 AND locked_until > $2 \
         ORDER BY subject"
    )))
    .bind(tenant)
    .bind(now)
    .fetch_all(&mut *c)
    .await?;
    r.into_iter().map(TryInto::try_into).collect()
}

pub(crate) async fn delete_session(c: &mut Conn, id_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM web_session WHERE id_hash = $1").bind(id_hash).execute(&mut *c).await?;
    Ok(())
}

pub(crate) async fn attachment(c: &mut Conn, t: TenantId, id: AttachmentId) -> Result<Option<Attachment>> {
    let r: Option<AttachmentRow> = sqlx::query_as(
        "SELECT id, tenant_id, sha256, media_type, data, created_at FROM attachment WHERE tenant_id = $1 AND id = $2",
    )
    .bind(t.0)
    .bind(id.0)
    .fetch_optional(&mut *c)
    .await?;
    Ok(r.map(Into::into))
}

pub(crate) async fn idempotent_response(c: &mut Conn, t: TenantId, key: &str) -> Result<Option<(String, i64, String)>> {
    let r = sqlx::query("SELECT request_hash, status, body FROM http_idempotency WHERE tenant_id = $1 AND key = $2")
        .bind(t.0)
        .bind(key)
        .fetch_optional(&mut *c)
        .await?;
    match r {
        Some(r) => Ok(Some((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))),
        None => Ok(None),
    }
}

pub(crate) async fn save_idempotent_response(
    c: &mut Conn,
    t: TenantId,
    key: &str,
    hash: &str,
    status: i64,
    body: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO http_idempotency (tenant_id, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, key) DO NOTHING",
    )
    .bind(t.0)
    .bind(key)
    .bind(hash)
    .bind(status)
    .bind(body)
    .bind(Utc::now())
    .execute(&mut *c)
    .await?;
    Ok(())
}

async fn insert_attachment(c: &mut Conn, a: &Attachment) -> Result<()> {
    sqlx::query(
        "INSERT INTO attachment (id, tenant_id, sha256, media_type, size, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(a.id.0)
    .bind(a.tenant_id.0)
    .bind(&a.sha256)
    .bind(&a.media_type)
    .bind(a.data.len() as i64)
    .bind(&a.data)
    .bind(a.created_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Appends one custody event after the tenant's chain head (locking the head on PostgreSQL).
pub(crate) async fn append_event(c: &mut Conn, t: TenantId, actor: &Actor, draft: &EventDraft) -> Result<CustodyEvent> {
    let head = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT seq, hash FROM custody_head WHERE tenant_id = $1{FOR_UPDATE}")))
        .bind(t.0)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    let seq: i64 = head.try_get(0)?;
    let prev: String = head.try_get(1)?;
    let ev = custody::seal(t, seq + 1, &prev, actor, draft, Utc::now());
    insert_event(c, &ev).await?;
    sqlx::query("UPDATE custody_head SET seq = $1, hash = $2 WHERE tenant_id = $3")
        .bind(ev.seq)
        .bind(&ev.hash)
        .bind(t.0)
        .execute(&mut *c)
        .await?;
    Ok(ev)
}

async fn insert_event(c: &mut Conn, ev: &CustodyEvent) -> Result<()> {
    sqlx::query(
        "INSERT INTO custody_event (id, tenant_id, seq, item_id, kind, actor_id, actor_name, source, request_id, \
         location_id, at, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(ev.id.0)
    .bind(ev.tenant_id.0)
    .bind(ev.seq)
    .bind(ev.item_id.map(|i| i.0))
    .bind(&ev.kind)
    .bind(ev.actor_id.map(|i| i.0))
    .bind(&ev.actor_name)
    .bind(&ev.source)
    .bind(&ev.request_id)
    .bind(ev.location_id.map(|i| i.0))
    .bind(ev.at)
    .bind(&ev.details)
    .bind(&ev.prev_hash)
    .bind(&ev.hash)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn insert_item(c: &mut Conn, i: &Item) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO item ({ITEM_COLUMNS}, search_text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
         $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)"
    )))
    .bind(i.id.0)
    .bind(i.tenant_id.0)
    .bind(i.site_id.map(|s| s.0))
    .bind(&i.reference)
    .bind(i.kind.as_str())
    .bind(i.category.as_str())
    .bind(i.priority.as_str())
    .bind(i.confidentiality.as_str())
    .bind(&i.carrier)
    .bind(&i.tracking_number)
    .bind(&i.sender_name)
    .bind(&i.sender_org)
    .bind(&i.sender_address)
    .bind(&i.sender_country)
    .bind(i.recipient_person_id.map(|p| p.0))
    .bind(i.recipient_department_id.map(|d| d.0))
    .bind(&i.recipient_name)
    .bind(i.condition.as_str())
    .bind(&i.damage_description)
    .bind(&i.notes)
    .bind(&i.seal_number)
    .bind(i.status.as_str())
    .bind(i.location_id.map(|l| l.0))
    .bind(i.created_at)
    .bind(i.updated_at)
    .bind(i.version)
    .bind(item_search_text(i))
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn item(c: &mut Conn, t: TenantId, id: ItemId) -> Result<Option<Item>> {
    let r: Option<ItemRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {ITEM_COLUMNS} FROM item WHERE tenant_id = $1 AND id = $2")))
        .bind(t.0)
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?;
    r.map(TryInto::try_into).transpose()
}

async fn item_by_tracking(c: &mut Conn, t: TenantId, tracking: &str) -> Result<Option<Item>> {
    let r: Option<ItemRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {ITEM_COLUMNS} FROM item WHERE tenant_id = $1 AND tracking_number = $2")))
            .bind(t.0)
            .bind(tracking)
            .fetch_optional(&mut *c)
            .await?;
    r.map(TryInto::try_into).transpose()
}

/// Registers an item (see [`crate::Store::register_item`]). Runs inside the caller's transaction.
pub(crate) async fn register_item(c: &mut Conn, ins: &ItemInsert, actor: &Actor, draft: &EventDraft) -> Result<Registered> {
    let t = ins.item.tenant_id;
    if let Some((key, hash)) = &ins.idempotency {
        let prev = sqlx::query("SELECT request_hash, item_id, created FROM idempotency_key WHERE tenant_id = $1 AND key = $2")
            .bind(t.0)
            .bind(key)
            .fetch_optional(&mut *c)
            .await?;
        if let Some(row) = prev {
            let prev_hash: String = row.try_get(0)?;
            if &prev_hash != hash {
                return Err(StoreError::Domain(mailroom_domain::DomainError::new(
                    mailroom_domain::ErrorCode::IdempotencyMismatch,
                    "this Idempotency-Key was already used for a different request",
                )));
            }
            let id: uuid::Uuid = row.try_get(1)?;
            let created: bool = row.try_get(2)?;
            let item = item(c, t, id.into()).await?.ok_or(StoreError::NotFound)?;
            return Ok(Registered { item, created });
        }
    }
    let existing = match &ins.item.tracking_number {
        Some(tn) => item_by_tracking(c, t, tn).await?,
        None => None,
    };
    let reg = match existing {
        Some(item) => Registered { item, created: false },
        None => {
            insert_item(c, &ins.item).await?;
            append_event(c, t, actor, draft).await?;
            Registered { item: ins.item.clone(), created: true }
        }
    };
    if let Some((key, hash)) = &ins.idempotency {
        sqlx::query(
            "INSERT INTO idempotency_key (tenant_id, key, request_hash, item_id, created, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(t.0)
        .bind(key)
        .bind(hash)
        .bind(reg.item.id.0)
        .bind(reg.created)
        .bind(Utc::now())
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    Ok(reg)
}

/// Applies a state change with its custody event. Runs inside the caller's transaction.
pub(crate) async fn change_item(
    c: &mut Conn,
    t: TenantId,
    id: ItemId,
    change: &ItemChange,
    actor: &Actor,
    draft: &EventDraft,
) -> Result<Item> {
    let now = custody::storage_time(Utc::now());
    let done = sqlx::query(
        "UPDATE item SET status = $1, location_id = $2, updated_at = $3, version = version + 1 \
         WHERE tenant_id = $4 AND id = $5 AND version = $6",
    )
    .bind(change.status.as_str())
    .bind(change.location_id.map(|l| l.0))
    .bind(now)
    .bind(t.0)
    .bind(id.0)
    .bind(change.expected_version)
    .execute(&mut *c)
    .await?;
    if done.rows_affected() == 0 {
        return Err(match item(c, t, id).await? {
            Some(_) => StoreError::Stale,
            None => StoreError::NotFound,
        });
    }
    if let Some((h, sig)) = &change.handover {
        insert_attachment(c, sig).await?;
        sqlx::query(
            "INSERT INTO handover (item_id, tenant_id, action, taken_by, taken_by_person_id, place, id_type, id_last_digits, \
             signature_id, at, staff_user_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id.0)
        .bind(t.0)
        .bind(&h.action)
        .bind(&h.handover.taken_by)
        .bind(h.handover.taken_by_person.map(|p| p.0))
        .bind(&h.handover.place)
        .bind(h.handover.id_type.map(|i| i.as_str()))
        .bind(&h.handover.id_last_digits)
        .bind(sig.id.0)
        .bind(h.at)
        .bind(h.staff_user_id.map(|u| u.0))
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    append_event(c, t, actor, draft).await?;
    item(c, t, id).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn list_items(c: &mut Conn, t: TenantId, f: &ItemFilter) -> Result<Vec<Item>> {
    // Built from fixed fragments only; every user value is a bound parameter.
    let mut sql = format!("SELECT {ITEM_COLUMNS} FROM item WHERE tenant_id = $1");
    let mut n = 1;
    let mut next = || {
        n += 1;
        n
    };
    let mine_sql = match &f.mine {
        Some((_, Some(_))) => {
            let (a, b) = (next(), next());
            format!(" AND (recipient_person_id = ${a} OR recipient_department_id = ${b})")
        }
        Some((_, None)) => format!(" AND recipient_person_id = ${}", next()),
        None => String::new(),
    };
    sql.push_str(&mine_sql);
    if f.status.is_some() {
        sql.push_str(&format!(" AND status = ${}", next()));
    }
    if f.tracking_number.is_some() {
        sql.push_str(&format!(" AND tracking_number = ${}", next()));
    }
    if f.reference.is_some() {
        sql.push_str(&format!(" AND reference = ${}", next()));
    }
    if f.q.is_some() {
        sql.push_str(&format!(" AND search_text LIKE ${} ESCAPE '\\'", next()));
    }
    if f.before.is_some() {
        sql.push_str(&format!(" AND id < ${}", next()));
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", next()));
    let mut q = sqlx::query_as::<_, ItemRow>(sqlx::AssertSqlSafe(sql)).bind(t.0);
    if let Some((p, d)) = &f.mine {
        q = q.bind(p.0);
        if let Some(d) = d {
            q = q.bind(d.0);
        }
    }
    if let Some(s) = f.status {
        q = q.bind(s.as_str());
    }
    if let Some(tn) = &f.tracking_number {
        q = q.bind(tn);
    }
    if let Some(r) = &f.reference {
        q = q.bind(r);
    }
    if let Some(text) = &f.q {
        q = q.bind(like_pattern(text));
    }
    if let Some(b) = f.before {
        q = q.bind(b.0);
    }
    q = q.bind(f.limit);
    let rows = q.fetch_all(&mut *c).await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

const EVENT_COLUMNS: &str =
    "id, tenant_id, seq, item_id, kind, actor_id, actor_name, source, request_id, location_id, at, details, prev_hash, hash";

pub(crate) async fn item_events(c: &mut Conn, t: TenantId, id: ItemId) -> Result<Vec<CustodyEvent>> {
    let r: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {EVENT_COLUMNS} FROM custody_event WHERE tenant_id = $1 AND item_id = $2 ORDER BY seq"
    )))
    .bind(t.0)
    .bind(id.0)
    .fetch_all(&mut *c)
    .await?;
    Ok(r.into_iter().map(Into::into).collect())
}

pub(crate) async fn handover(c: &mut Conn, t: TenantId, id: ItemId) -> Result<Option<HandoverRecord>> {
    let r: Option<HandoverRow> = sqlx::query_as(
        "SELECT item_id, action, taken_by, taken_by_person_id, place, id_type, id_last_digits, signature_id, at, \
         staff_user_id FROM handover WHERE tenant_id = $1 AND item_id = $2",
    )
    .bind(t.0)
    .bind(id.0)
    .fetch_optional(&mut *c)
    .await?;
    r.map(TryInto::try_into).transpose()
}

pub(crate) async fn count_items(c: &mut Conn, t: TenantId) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM item WHERE tenant_id = $1").bind(t.0).fetch_one(&mut *c).await?.try_get(0)?)
}

pub(crate) async fn custody_head(c: &mut Conn, t: TenantId) -> Result<(i64, String)> {
    let r = sqlx::query("SELECT seq, hash FROM custody_head WHERE tenant_id = $1")
        .bind(t.0)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok((r.try_get(0)?, r.try_get(1)?))
}

pub(crate) async fn custody_events(c: &mut Conn, t: TenantId, after_seq: i64, limit: i64) -> Result<Vec<CustodyEvent>> {
    let r: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {EVENT_COLUMNS} FROM custody_event WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
    )))
    .bind(t.0)
    .bind(after_seq)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    Ok(r.into_iter().map(Into::into).collect())
}

/// Bulk load: inserts items and their `registered` events. Runs inside the caller's transaction.
pub(crate) async fn bulk_register(c: &mut Conn, items: &[Item], actor: &Actor) -> Result<()> {
    for i in items {
        insert_item(c, i).await?;
        let draft = EventDraft {
            item_id: Some(i.id),
            kind: "registered".into(),
            location_id: None,
            details: serde_json::json!({"reference": i.reference, "bulk": true}),
        };
        append_event(c, i.tenant_id, actor, &draft).await?;
    }
    Ok(())
}

pub(crate) async fn installation_key(c: &mut Conn, name: &str) -> Result<Option<(String, String)>> {
    let r = sqlx::query("SELECT secret, public_key FROM installation_key WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *c)
        .await?;
    match r {
        Some(r) => Ok(Some((r.try_get(0)?, r.try_get(1)?))),
        None => Ok(None),
    }
}

pub(crate) async fn put_installation_key(c: &mut Conn, name: &str, secret: &str, public_key: &str) -> Result<(String, String)> {
    sqlx::query(
        "INSERT INTO installation_key (name, secret, public_key, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(secret)
    .bind(public_key)
    .bind(Utc::now())
    .execute(&mut *c)
    .await?;
    installation_key(c, name).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn custody_hashes(c: &mut Conn, t: TenantId, upto: i64) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT hash FROM custody_event WHERE tenant_id = $1 AND seq <= $2 ORDER BY seq")
        .bind(t.0)
        .bind(upto)
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(|r| r.try_get::<String, _>(0).map_err(StoreError::from)).collect()
}

pub(crate) async fn insert_checkpoint(c: &mut Conn, cp: &Checkpoint) -> Result<()> {
    sqlx::query(
        "INSERT INTO custody_checkpoint (tenant_id, tree_size, root, head_hash, at, key_id, signature) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, tree_size) DO NOTHING",
    )
    .bind(cp.tenant_id.0)
    .bind(cp.tree_size as i64)
    .bind(&cp.root)
    .bind(&cp.head_hash)
    .bind(cp.at)
    .bind(&cp.key_id)
    .bind(&cp.signature)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn checkpoints(c: &mut Conn, t: TenantId) -> Result<Vec<Checkpoint>> {
    let rows = sqlx::query(
        "SELECT tenant_id, tree_size, root, head_hash, at, key_id, signature FROM custody_checkpoint \
         WHERE tenant_id = $1 ORDER BY tree_size",
    )
    .bind(t.0)
    .fetch_all(&mut *c)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let tenant: uuid::Uuid = r.try_get(0)?;
        let size: i64 = r.try_get(1)?;
        out.push(Checkpoint {
            tenant_id: tenant.into(),
            tree_size: u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("checkpoint size {size}")))?,
            root: r.try_get(2)?,
            head_hash: r.try_get(3)?,
            at: r.try_get(4)?,
            key_id: r.try_get(5)?,
            signature: r.try_get(6)?,
        });
    }
    Ok(out)
}

/// The tenant's log newest first: events with `seq < before` whose kind starts with `kind_prefix`.
pub(crate) async fn audit_events(
    c: &mut Conn,
    t: TenantId,
    kind_prefix: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<CustodyEvent>> {
    let before = before.unwrap_or(i64::MAX);
    let r: Vec<EventRow> = match kind_prefix {
        Some(prefix) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {EVENT_COLUMNS} FROM custody_event WHERE tenant_id = $1 AND seq < $2 AND kind LIKE $3 ESCAPE '\\' \
                 ORDER BY seq DESC LIMIT $4"
            )))
            .bind(t.0)
            .bind(before)
            .bind(format!("{}%", like_escape(prefix)))
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
        }
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {EVENT_COLUMNS} FROM custody_event WHERE tenant_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
            )))
            .bind(t.0)
            .bind(before)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?
        }
    };
    Ok(r.into_iter().map(Into::into).collect())
}

/// Applies an administrative change and appends its audit event, in the caller's transaction.
pub(crate) async fn admin_write(
    c: &mut Conn,
    t: TenantId,
    change: &AdminChange,
    actor: &Actor,
    draft: &EventDraft,
) -> Result<CustodyEvent> {
    let owned = |tenant: TenantId| {
        if tenant == t { Ok(()) } else { Err(StoreError::Corrupt("a change for another tenant".into())) }
    };
    match change {
        AdminChange::CreateSite(s) => {
            owned(s.tenant_id)?;
            create_site(c, s).await?
        }
        AdminChange::CreateLocation(l) => {
            owned(l.tenant_id)?;
            create_location(c, l).await?
        }
        AdminChange::UpsertDepartment(d) => {
            owned(d.tenant_id)?;
            upsert_department(c, d).await?
        }
        AdminChange::DeleteDepartment(id) => delete_department(c, t, *id).await?,
        AdminChange::UpsertPerson(p) => {
            owned(p.tenant_id)?;
            upsert_person(c, p).await?
        }
        AdminChange::ImportDirectory(import) => {
            for d in &import.departments {
                owned(d.tenant_id)?;
            }
            for p in &import.people {
                owned(p.tenant_id)?;
            }
            import_directory(c, t, import).await?
        }
        AdminChange::CreateUser(u) => {
            owned(u.tenant_id)?;
            create_user(c, u).await?
        }
        AdminChange::CreateToken(tok) => {
            owned(tok.tenant_id)?;
            create_token(c, tok).await?
        }
        AdminChange::RevokeToken { id, at } => revoke_token(c, t, *id, *at).await?,
        AdminChange::ClearLoginThrottle(key) => {
            clear_login_throttle(c, key).await?;
        }
    }
    append_event(c, t, actor, draft).await
}
