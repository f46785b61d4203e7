// Shared SQL for both backends. Included into `sqlite` and `postgres`, each of which defines
// `Db`, `Conn`, `FOR_UPDATE`, `BULK_ROWS`, `chain_head`, `chain_advanced` and
// `insert_item_with_event` around the `include!`. Placeholders are always `$1, $2, …` in
// ascending order of appearance, which both backends bind identically.

use crate::models::*;
use crate::rows::*;
use crate::{AdminChange, DirectoryImport, DirectoryVersion, Result, StoreError};
use chrono::{DateTime, Utc};
use mailroom_domain::item::Category;
use mailroom_domain::notify::{Lang as NoticeLang, NoticeKind};
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
    // Notices are prepared from the organisation's first custody event on.
    sqlx::query("INSERT INTO notify_cursor (tenant_id, seq, updated_at) VALUES ($1, 0, $2)")
        .bind(t.id.0)
        .bind(t.created_at)
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

/// Counts a change to a tenant's directory (people, departments, teams), in the transaction that
/// makes it, and returns the new version: caches of the directory (the recipient index) compare
/// versions to know they are current, on every server node. `departments` also counts it as a
/// change to departments and teams. Called before the rows are written, so concurrent directory
/// transactions of a tenant queue on this row (and commit in version order) and never wait on
/// each other's rows.
pub(crate) async fn bump_directory_version(c: &mut Conn, t: TenantId, departments: bool) -> Result<i64> {
    let d = i64::from(departments);
    Ok(sqlx::query_scalar(
        "INSERT INTO directory_version (tenant_id, version, departments_version) VALUES ($1, 1, $2) \
         ON CONFLICT (tenant_id) DO UPDATE SET version = directory_version.version + 1, \
         departments_version = directory_version.departments_version + $3 RETURNING version",
    )
    .bind(t.0)
    .bind(d)
    .bind(d)
    .fetch_one(&mut *c)
    .await?)
}

/// Records the directory version that last changed a person.
async fn mark_person(c: &mut Conn, t: TenantId, id: PersonId, version: i64) -> Result<()> {
    sqlx::query("UPDATE person SET directory_version = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(version)
        .bind(t.0)
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The tenant's directory versions (zero before the first change).
pub(crate) async fn directory_version(c: &mut Conn, t: TenantId) -> Result<DirectoryVersion> {
    let r: Option<(i64, i64)> =
        sqlx::query_as("SELECT version, departments_version FROM directory_version WHERE tenant_id = $1")
            .bind(t.0)
            .fetch_optional(&mut *c)
            .await?;
    let (version, departments) = r.unwrap_or((0, 0));
    Ok(DirectoryVersion { version, departments })
}

/// People changed after directory version `since`, at most `limit`, in id order.
pub(crate) async fn people_changed_since(c: &mut Conn, t: TenantId, since: i64, limit: i64) -> Result<Vec<Person>> {
    let r: Vec<PersonRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PERSON_COLUMNS} FROM person WHERE tenant_id = $1 AND directory_version > $2 ORDER BY id LIMIT $3"
    )))
    .bind(t.0)
    .bind(since)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    r.into_iter().map(TryInto::try_into).collect()
}

pub(crate) async fn upsert_department(c: &mut Conn, d: &Department) -> Result<()> {
    bump_directory_version(c, d.tenant_id, true).await?;
    upsert_department_row(c, d).await
}

async fn upsert_department_row(c: &mut Conn, d: &Department) -> Result<()> {
    let done = sqlx::query(
        "INSERT INTO department (id, tenant_id, parent_id, code, name, name_en, kind, key_contact_id, email) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id, code = excluded.code, name = excluded.name, \
         name_en = excluded.name_en, kind = excluded.kind, key_contact_id = excluded.key_contact_id, email = excluded.email \
         WHERE department.tenant_id = excluded.tenant_id",
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
    // An id of another tenant's department updates nothing.
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
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
    bump_directory_version(c, t, true).await?;
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
    let version = bump_directory_version(c, p.tenant_id, false).await?;
    upsert_person_row(c, p).await?;
    mark_person(c, p.tenant_id, p.id, version).await
}

async fn upsert_person_row(c: &mut Conn, p: &Person) -> Result<()> {
    let aliases = serde_json::to_string(&p.aliases).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let done = sqlx::query(
        "INSERT INTO person (id, tenant_id, name, name_latin, aliases, employee_no, department_id, email, phone, active, \
         forwarding, search_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_latin = excluded.name_latin, aliases = excluded.aliases, \
         employee_no = excluded.employee_no, department_id = excluded.department_id, email = excluded.email, \
         phone = excluded.phone, active = excluded.active, forwarding = excluded.forwarding, search_key = excluded.search_key \
         WHERE person.tenant_id = excluded.tenant_id",
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
    // An id of another tenant's person updates nothing.
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
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

/// A person with the code and names of their department (what intake needs), in one query.
/// A person with their department's names (the SQLite store also runs it directly).
const PERSON_WITH_DEPARTMENT_SQL: &str =
    "SELECT p.id, p.tenant_id, p.name, p.name_latin, p.aliases, p.employee_no, p.department_id, p.email, \
     p.phone, p.active, p.forwarding, d.code AS d_code, d.name AS d_name, d.name_en AS d_name_en \
     FROM person p LEFT JOIN department d ON d.tenant_id = p.tenant_id AND d.id = p.department_id \
     WHERE p.tenant_id = $1 AND p.id = $2";

pub(crate) async fn person_with_department(
    c: &mut Conn,
    t: TenantId,
    id: PersonId,
) -> Result<Option<(Person, Option<DepartmentNames>)>> {
    let row = sqlx::query(PERSON_WITH_DEPARTMENT_SQL)
    .bind(t.0)
    .bind(id.0)
    .fetch_optional(&mut *c)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let person: Person = <PersonRow as sqlx::FromRow<'_, _>>::from_row(&row)?.try_into()?;
    let code: Option<String> = row.try_get("d_code")?;
    let department = match code {
        Some(code) => Some(DepartmentNames { code, name: row.try_get("d_name")?, name_en: row.try_get("d_name_en")? }),
        None => None,
    };
    Ok(Some((person, department)))
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

pub(crate) async fn import_directory(c: &mut Conn, t: TenantId, import: &DirectoryImport) -> Result<()> {
    let version = bump_directory_version(c, t, !import.departments.is_empty()).await?;
    for d in &import.departments {
        upsert_department_row(c, d).await?;
    }
    for p in &import.people {
        upsert_person_row(c, p).await?;
        mark_person(c, p.tenant_id, p.id, version).await?;
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
        "SELECT id, tenant_id, sha256, media_type, size, data, dek_id, nonce, created_at FROM attachment \
         WHERE tenant_id = $1 AND id = $2",
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

/// Inserts an attachment. A sealed one needs its data key to exist and not to be shredded (the
/// key row is locked on PostgreSQL, so a concurrent shredding waits for this transaction).
async fn insert_attachment(c: &mut Conn, a: &Attachment) -> Result<()> {
    if let Some(s) = &a.sealed {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT shredded_at IS NULL FROM data_key WHERE tenant_id = $1 AND id = $2{FOR_UPDATE}"
        )))
        .bind(a.tenant_id.0)
        .bind(s.data_key_id.0)
        .fetch_optional(&mut *c)
        .await?;
        let usable: bool = match row {
            Some(r) => r.try_get(0)?,
            None => false,
        };
        if !usable {
            return Err(StoreError::Corrupt("the attachment's data key does not exist or was shredded".into()));
        }
    }
    sqlx::query(
        "INSERT INTO attachment (id, tenant_id, sha256, media_type, size, data, dek_id, nonce, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(a.id.0)
    .bind(a.tenant_id.0)
    .bind(&a.sha256)
    .bind(&a.media_type)
    .bind(a.size)
    .bind(&a.data)
    .bind(a.sealed.as_ref().map(|s| s.data_key_id.0))
    .bind(a.sealed.as_ref().map(|s| s.nonce.clone()))
    .bind(a.created_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Appends one custody event after the tenant's chain head (locking the head on PostgreSQL).
/// The backend's `chain_head` / `chain_advanced` read and move the head: PostgreSQL reads and
/// writes the row each time, SQLite's writer chains within a batch and writes the row once.
pub(crate) async fn append_event(c: &mut Conn, t: TenantId, actor: &Actor, draft: &EventDraft) -> Result<CustodyEvent> {
    let (seq, prev) = chain_head(c, t).await?;
    let ev = custody::seal(t, seq + 1, &prev, actor, draft, Utc::now());
    insert_event(c, &ev).await?;
    chain_advanced(c, &ev).await?;
    Ok(ev)
}

/// Reads the tenant's head row (locking it on PostgreSQL).
/// A tenant's custody chain head (the SQLite writer's direct path runs it too).
const READ_HEAD_SQL: &str = "SELECT seq, hash FROM custody_head WHERE tenant_id = $1";
/// Moves a tenant's chain head (the SQLite writer's direct path runs it too).
const WRITE_HEAD_SQL: &str = "UPDATE custody_head SET seq = $1, hash = $2 WHERE tenant_id = $3";

async fn read_head(c: &mut Conn, t: TenantId) -> Result<(i64, String)> {
    let head = sqlx::query(sqlx::AssertSqlSafe(format!("{READ_HEAD_SQL}{FOR_UPDATE}")))
        .bind(t.0)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok((head.try_get(0)?, head.try_get(1)?))
}

async fn write_head(c: &mut Conn, t: TenantId, seq: i64, hash: &str) -> Result<()> {
    sqlx::query(WRITE_HEAD_SQL)
        .bind(seq)
        .bind(hash)
        .bind(t.0)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// A query being built, to which the helpers below add their bound values.
type Bound<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

/// Binds an event's columns, in `EVENT_COLUMNS` order.
fn bind_event<'q>(q: Bound<'q>, ev: &CustodyEvent) -> Bound<'q> {
    q.bind(ev.id.0)
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
}

async fn insert_event(c: &mut Conn, ev: &CustodyEvent) -> Result<()> {
    let sql = format!("INSERT INTO custody_event ({EVENT_COLUMNS}) VALUES {}", values_placeholders(1, 14));
    bind_event(sqlx::query(sqlx::AssertSqlSafe(sql)), ev).execute(&mut *c).await.map_err(db_err)?;
    Ok(())
}

/// The columns an item is inserted with: `ITEM_COLUMNS` and the derived search columns. SQLite's
/// driver path registers items through the `item_intake` view (migration 0008), whose columns and
/// trigger must list the same ones; the tests notice at once when they do not. (The writer's direct
/// path inserts into `item` and `custody_event` itself, see `sqlite_direct::insert_intake`.)
const ITEM_INSERT_COLUMNS: &str = "id, tenant_id, site_id, reference, kind, category, priority, confidentiality, \
    carrier, tracking_number, sender_name, sender_org, sender_address, sender_country, recipient_person_id, \
    recipient_department_id, recipient_name, condition, damage_description, notes, seal_number, status, location_id, \
    created_at, updated_at, version, route, due_by, search_text, secret_text, secret_level, details_pending";

/// How many columns `ITEM_INSERT_COLUMNS` lists.
const ITEM_INSERT_COUNT: usize = 32;

/// Binds an item's values, in `ITEM_INSERT_COLUMNS` order (`ITEM_INSERT_COUNT` of them).
fn bind_item<'q>(q: Bound<'q>, i: &Item) -> Bound<'q> {
    q.bind(i.id.0)
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
        .bind(&i.route)
        .bind(i.due_by)
        .bind(item_search_text(i))
        .bind(item_secret_text(i))
        .bind(item_secret_level(i))
        .bind(i.details_pending)
}

/// `($1, …, $cols), ($cols+1, …), …` for `rows` rows.
fn values_placeholders(rows: usize, cols: usize) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            let _ = write!(s, "{}${}", if c == 0 { "" } else { ", " }, r * cols + c + 1);
        }
        s.push(')');
    }
    s
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

/// The answer to an idempotency key used before for a different request.
fn key_reused() -> StoreError {
    StoreError::Domain(mailroom_domain::DomainError::new(
        mailroom_domain::ErrorCode::IdempotencyMismatch,
        "this Idempotency-Key was already used for a different request",
    ))
}

/// Registers an item (see [`crate::Store::register_item`]). Runs inside the caller's transaction.
pub(crate) async fn register_item(c: &mut Conn, ins: &ItemInsert, actor: &Actor, draft: &EventDraft) -> Result<Registered> {
    let t = ins.item.tenant_id;
    // The chain head first: on PostgreSQL that locks it, and every registration does, so a
    // concurrent request with the same idempotency key has committed its record before this one
    // looks for it (looking first, both would find none and the second would fail on the key).
    let (seq, head_hash) = chain_head(c, t).await?;
    if let Some((key, hash)) = &ins.idempotency {
        let prev = sqlx::query("SELECT request_hash, item_id, created FROM idempotency_key WHERE tenant_id = $1 AND key = $2")
            .bind(t.0)
            .bind(key)
            .fetch_optional(&mut *c)
            .await?;
        if let Some(row) = prev {
            let prev_hash: String = row.try_get(0)?;
            if &prev_hash != hash {
                return Err(key_reused());
            }
            let id: uuid::Uuid = row.try_get(1)?;
            let created: bool = row.try_get(2)?;
            let item = item(c, t, id.into()).await?.ok_or(StoreError::NotFound)?;
            return Ok(Registered { item, created });
        }
    }
    // One round trip in the common case: the item with its event, unless the tracking number is
    // already registered. Without an idempotency key that is the only write, and it is all or
    // nothing (the SQLite writer relies on it).
    let ev = custody::seal(t, seq + 1, &head_hash, actor, draft, Utc::now());
    let reg = if insert_item_with_event(c, &ins.item, &ev).await? {
        chain_advanced(c, &ev).await?;
        // Only with an exception is this a second write: the store runs such registrations as
        // ordinary (savepoint-guarded) writes, so they too are all or nothing.
        if let Some(x) = &ins.exception {
            insert_exception(c, x).await?;
        }
        // An item that arrived damaged: staff contact its sender (a task, opened with the item).
        if ins.item.condition == mailroom_domain::item::Condition::Damaged {
            open_task(c, t, ins.item.id, "contact_sender", ins.item.created_at).await?;
        }
        Registered { item: ins.item.clone(), created: true }
    } else {
        let tn = ins.item.tracking_number.as_deref().unwrap_or_default();
        let item = item_by_tracking(c, t, tn).await?.ok_or(StoreError::NotFound)?;
        Registered { item, created: false }
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
    if change.status.is_terminal() {
        // An item that leaves for good takes its open exception with it.
        sqlx::query(
            "UPDATE item_exception SET status = 'resolved', resolved_at = $1, resolved_by = $2, resolution = 'item_left' \
             WHERE tenant_id = $3 AND item_id = $4 AND status = 'open'",
        )
        .bind(now)
        .bind(actor.user_id.map(|u| u.0))
        .bind(t.0)
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    }
    if let Some(seal) = &change.seal_number {
        sqlx::query("UPDATE item SET seal_number = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(seal)
            .bind(t.0)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
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

/// The item list query for a filter: SQL with numbered parameters and their values.
/// Built from fixed fragments only; every user value is a bound parameter (the limit, an integer,
/// is written into the text).
pub(crate) fn list_items_query(t: TenantId, f: &ItemFilter) -> (String, Vec<Bind>) {
    let mut args = vec![Bind::Uuid(t.0)];
    let mut arg = |a: Bind| {
        args.push(a);
        args.len()
    };
    let mut scope: Vec<String> = match &f.mine {
        Some((p, Some(d))) => {
            let (a, b) = (arg(Bind::Uuid(p.0)), arg(Bind::Uuid(d.0)));
            vec![format!("recipient_person_id = ${a}"), format!("recipient_department_id = ${b}")]
        }
        Some((p, None)) => vec![format!("recipient_person_id = ${}", arg(Bind::Uuid(p.0)))],
        None => Vec::new(),
    };
    if !f.categories.is_empty() {
        let params: Vec<String> =
            f.categories.iter().map(|cat| format!("${}", arg(Bind::Text(cat.as_str().to_string())))).collect();
        scope.push(format!("category IN ({})", params.join(", ")));
    }
    let mut filters = String::new();
    if let Some(s) = f.status {
        filters.push_str(&format!(" AND status = ${}", arg(Bind::Text(s.as_str().to_string()))));
    }
    if let Some(tn) = &f.tracking_number {
        filters.push_str(&format!(" AND tracking_number = ${}", arg(Bind::Text(tn.clone()))));
    }
    if let Some(r) = &f.reference {
        filters.push_str(&format!(" AND reference = ${}", arg(Bind::Text(r.clone()))));
    }
    if let Some(text) = &f.q {
        let (a, b, c) =
            (arg(Bind::Text(like_pattern(text))), arg(Bind::Int(f.clearance)), arg(Bind::Text(like_pattern(text))));
        filters.push_str(&format!(
            " AND (search_text LIKE ${a} ESCAPE '\\' OR (secret_level <= ${b} AND secret_text LIKE ${c} ESCAPE '\\'))"
        ));
    }
    if let Some(b) = f.before {
        filters.push_str(&format!(" AND id < ${}", arg(Bind::Uuid(b.0))));
    }
    // The limit is written into the SQL, not bound: PostgreSQL plans a statement with a bound
    // limit afresh on every execution (its generic plan, costed for an unknown limit, never looks
    // cheaper than a custom one), and planning this query costs as much as running it. With the
    // limit in the text, the prepared statement settles on its generic plan after five runs.
    // It is an integer, so nothing a caller sends reaches the SQL text.
    let limit = f.limit;
    let sql = match scope.as_slice() {
        [] => format!("SELECT {ITEM_COLUMNS} FROM item WHERE tenant_id = $1{filters} ORDER BY id DESC LIMIT {limit}"),
        [only] => format!(
            "SELECT {ITEM_COLUMNS} FROM item WHERE tenant_id = $1 AND {only}{filters} ORDER BY id DESC LIMIT {limit}"
        ),
        // Several ways to be in scope (own mail, the department's, readable categories): the newest
        // of each, walked along its own index, then merged. One `… OR …` condition would walk the
        // whole organisation's items newest first, checking each, which is slow for a person with
        // few items among a million.
        several => {
            let each: Vec<String> = several
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    format!(
                        "SELECT id FROM (SELECT id FROM item WHERE tenant_id = $1 AND {s}{filters} \
                         ORDER BY id DESC LIMIT {limit}) AS scope{k}"
                    )
                })
                .collect();
            format!(
                "SELECT {ITEM_COLUMNS} FROM item WHERE tenant_id = $1 AND id IN ({}) ORDER BY id DESC LIMIT {limit}",
                each.join(" UNION ALL ")
            )
        }
    };
    (sql, args)
}

pub(crate) async fn list_items(c: &mut Conn, t: TenantId, f: &ItemFilter) -> Result<Vec<Item>> {
    let (sql, binds) = list_items_query(t, f);
    fetch_items(c, sql, binds).await
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

/// Bulk load: inserts items and their `registered` events, `BULK_ROWS` rows a statement. Runs
/// inside the caller's transaction. The chain is extended in memory; the head moves once per run
/// of same-tenant items.
pub(crate) async fn bulk_register(c: &mut Conn, items: &[Item], actor: &Actor) -> Result<()> {
    let mut last: Option<CustodyEvent> = None;
    for chunk in items.chunks(BULK_ROWS) {
        let mut events = Vec::with_capacity(chunk.len());
        for i in chunk {
            let draft = EventDraft {
                item_id: Some(i.id),
                kind: "registered".into(),
                location_id: None,
                details: serde_json::json!({"reference": i.reference, "bulk": true}),
            };
            let (seq, prev) = match last.take() {
                Some(ev) if ev.tenant_id == i.tenant_id => (ev.seq, ev.hash),
                other => {
                    if let Some(ev) = other {
                        chain_advanced(c, &ev).await?;
                    }
                    chain_head(c, i.tenant_id).await?
                }
            };
            let ev = custody::seal(i.tenant_id, seq + 1, &prev, actor, &draft, Utc::now());
            last = Some(ev.clone());
            events.push(ev);
        }
        let sql = format!("INSERT INTO item ({ITEM_INSERT_COLUMNS}) VALUES {}", values_placeholders(chunk.len(), ITEM_INSERT_COUNT));
        let q = chunk.iter().fold(sqlx::query(sqlx::AssertSqlSafe(sql)), bind_item);
        q.execute(&mut *c).await.map_err(db_err)?;
        let sql = format!("INSERT INTO custody_event ({EVENT_COLUMNS}) VALUES {}", values_placeholders(events.len(), 14));
        let q = events.iter().fold(sqlx::query(sqlx::AssertSqlSafe(sql)), bind_event);
        q.execute(&mut *c).await.map_err(db_err)?;
    }
    if let Some(ev) = last {
        chain_advanced(c, &ev).await?;
    }
    Ok(())
}

pub(crate) async fn installation_key(c: &mut Conn, name: &str) -> Result<Option<InstallationKey>> {
    let r = sqlx::query("SELECT name, secret, public_key, master_key_id FROM installation_key WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *c)
        .await?;
    match r {
        Some(r) => Ok(Some(InstallationKey {
            name: r.try_get(0)?,
            secret: r.try_get(1)?,
            public_key: r.try_get(2)?,
            master_key_id: r.try_get(3)?,
        })),
        None => Ok(None),
    }
}

pub(crate) async fn put_installation_key(c: &mut Conn, k: &InstallationKey) -> Result<InstallationKey> {
    sqlx::query(
        "INSERT INTO installation_key (name, secret, public_key, master_key_id, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(&k.name)
    .bind(&k.secret)
    .bind(&k.public_key)
    .bind(&k.master_key_id)
    .bind(Utc::now())
    .execute(&mut *c)
    .await?;
    installation_key(c, &k.name).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn rewrap_installation_key(
    c: &mut Conn,
    name: &str,
    old_secret: &str,
    secret: &str,
    master_key_id: &str,
) -> Result<bool> {
    let done = sqlx::query("UPDATE installation_key SET secret = $1, master_key_id = $2 WHERE name = $3 AND secret = $4")
        .bind(secret)
        .bind(master_key_id)
        .bind(name)
        .bind(old_secret)
        .execute(&mut *c)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn master_key_checks(c: &mut Conn) -> Result<Vec<(String, Vec<u8>)>> {
    let rows = sqlx::query("SELECT id, check_value FROM master_key ORDER BY id").fetch_all(&mut *c).await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

pub(crate) async fn put_master_key_check(c: &mut Conn, id: &str, check: &[u8]) -> Result<Vec<u8>> {
    sqlx::query("INSERT INTO master_key (id, check_value, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
        .bind(id)
        .bind(check)
        .bind(Utc::now())
        .execute(&mut *c)
        .await?;
    Ok(sqlx::query("SELECT check_value FROM master_key WHERE id = $1").bind(id).fetch_one(&mut *c).await?.try_get(0)?)
}

pub(crate) async fn master_keys_in_use(c: &mut Conn) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT master_key_id, COUNT(*) FROM (SELECT master_key_id FROM data_key WHERE master_key_id IS NOT NULL \
         UNION ALL SELECT master_key_id FROM installation_key WHERE master_key_id IS NOT NULL) k \
         GROUP BY master_key_id ORDER BY master_key_id",
    )
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

pub(crate) async fn data_keys(c: &mut Conn, t: TenantId) -> Result<Vec<DataKey>> {
    let r: Vec<DataKeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DATA_KEY_COLUMNS} FROM data_key WHERE tenant_id = $1 ORDER BY category, period_start, created_at"
    )))
    .bind(t.0)
    .fetch_all(&mut *c)
    .await?;
    r.into_iter().map(TryInto::try_into).collect()
}

pub(crate) async fn data_key(c: &mut Conn, t: TenantId, id: DataKeyId) -> Result<Option<DataKey>> {
    let r: Option<DataKeyRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {DATA_KEY_COLUMNS} FROM data_key WHERE tenant_id = $1 AND id = $2")))
            .bind(t.0)
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?;
    r.map(TryInto::try_into).transpose()
}

pub(crate) async fn data_key_in_use(
    c: &mut Conn,
    t: TenantId,
    category: Category,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Option<DataKey>> {
    let r: Option<DataKeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DATA_KEY_COLUMNS} FROM data_key WHERE tenant_id = $1 AND category = $2 AND period_start = $3 \
         AND period_end = $4 AND retired_at IS NULL AND shredded_at IS NULL"
    )))
    .bind(t.0)
    .bind(category.as_str())
    .bind(start)
    .bind(end)
    .fetch_optional(&mut *c)
    .await?;
    r.map(TryInto::try_into).transpose()
}

pub(crate) async fn insert_data_key(c: &mut Conn, k: &DataKey) -> Result<DataKey> {
    sqlx::query(
        "INSERT INTO data_key (id, tenant_id, category, period_start, period_end, master_key_id, wrapped, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
    )
    .bind(k.id.0)
    .bind(k.tenant_id.0)
    .bind(k.category.as_str())
    .bind(k.period_start)
    .bind(k.period_end)
    .bind(&k.master_key_id)
    .bind(&k.wrapped)
    .bind(k.created_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    data_key_in_use(c, k.tenant_id, k.category, k.period_start, k.period_end).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn rewrap_data_key(
    c: &mut Conn,
    t: TenantId,
    id: DataKeyId,
    from: &str,
    to: &str,
    wrapped: &[u8],
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE data_key SET master_key_id = $1, wrapped = $2 \
         WHERE tenant_id = $3 AND id = $4 AND master_key_id = $5 AND shredded_at IS NULL",
    )
    .bind(to)
    .bind(wrapped)
    .bind(t.0)
    .bind(id.0)
    .bind(from)
    .execute(&mut *c)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn retire_data_keys(c: &mut Conn, t: TenantId) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE data_key SET retired_at = $1 WHERE tenant_id = $2 AND retired_at IS NULL AND shredded_at IS NULL",
    )
    .bind(Utc::now())
    .bind(t.0)
    .execute(&mut *c)
    .await?;
    Ok(done.rows_affected())
}

/// Destroys a data key and erases the ciphertexts under it, with the custody event (whose
/// details get `attachments`: how many were erased). `None` if it was shredded already.
pub(crate) async fn shred_data_key(
    c: &mut Conn,
    t: TenantId,
    id: DataKeyId,
    actor: &Actor,
    draft: &EventDraft,
) -> Result<Option<(CustodyEvent, i64)>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT shredded_at IS NULL FROM data_key WHERE tenant_id = $1 AND id = $2{FOR_UPDATE}"
    )))
    .bind(t.0)
    .bind(id.0)
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    let live: bool = row.try_get(0)?;
    if !live {
        return Ok(None);
    }
    let now = custody::storage_time(Utc::now());
    sqlx::query(
        "UPDATE data_key SET wrapped = NULL, master_key_id = NULL, shredded_at = $1, retired_at = COALESCE(retired_at, $2) \
         WHERE tenant_id = $3 AND id = $4",
    )
    .bind(now)
    .bind(now)
    .bind(t.0)
    .bind(id.0)
    .execute(&mut *c)
    .await?;
    let erased = sqlx::query("UPDATE attachment SET data = $1 WHERE tenant_id = $2 AND dek_id = $3")
        .bind(Vec::<u8>::new())
        .bind(t.0)
        .bind(id.0)
        .execute(&mut *c)
        .await?
        .rows_affected() as i64;
    let mut draft = draft.clone();
    if let Some(d) = draft.details.as_object_mut() {
        d.insert("attachments".into(), erased.into());
    }
    let ev = append_event(c, t, actor, &draft).await?;
    Ok(Some((ev, erased)))
}

pub(crate) async fn attachment_counts(c: &mut Conn, t: TenantId) -> Result<Vec<(Option<DataKeyId>, i64)>> {
    let rows = sqlx::query("SELECT dek_id, COUNT(*) FROM attachment WHERE tenant_id = $1 GROUP BY dek_id")
        .bind(t.0)
        .fetch_all(&mut *c)
        .await?;
    rows.iter()
        .map(|r| {
            let id: Option<uuid::Uuid> = r.try_get(0)?;
            Ok((id.map(DataKeyId), r.try_get(1)?))
        })
        .collect()
}

pub(crate) async fn plaintext_attachments(c: &mut Conn, t: TenantId, limit: i64) -> Result<Vec<(AttachmentId, Category)>> {
    let rows = sqlx::query(
        "SELECT a.id, COALESCE(i.category, 'general') FROM attachment a \
         LEFT JOIN handover h ON h.tenant_id = a.tenant_id AND h.signature_id = a.id \
         LEFT JOIN item i ON i.tenant_id = h.tenant_id AND i.id = h.item_id \
         WHERE a.tenant_id = $1 AND a.dek_id IS NULL ORDER BY a.id LIMIT $2",
    )
    .bind(t.0)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            let id: uuid::Uuid = r.try_get(0)?;
            let cat: String = r.try_get(1)?;
            let cat = Category::parse(&cat).ok_or_else(|| StoreError::Corrupt(format!("item category {cat:?}")))?;
            Ok((AttachmentId(id), cat))
        })
        .collect()
}

pub(crate) async fn seal_attachment(
    c: &mut Conn,
    t: TenantId,
    id: AttachmentId,
    sealed: &Sealed,
    data: &[u8],
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE attachment SET data = $1, dek_id = $2, nonce = $3 WHERE tenant_id = $4 AND id = $5 AND dek_id IS NULL \
         AND EXISTS (SELECT 1 FROM data_key WHERE tenant_id = $6 AND id = $7 AND shredded_at IS NULL)",
    )
    .bind(data)
    .bind(sealed.data_key_id.0)
    .bind(&sealed.nonce)
    .bind(t.0)
    .bind(id.0)
    .bind(t.0)
    .bind(sealed.data_key_id.0)
    .execute(&mut *c)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn retention_policies(c: &mut Conn, t: TenantId) -> Result<Vec<RetentionPolicy>> {
    let r: Vec<RetentionRow> =
        sqlx::query_as("SELECT category, days, updated_at FROM retention_policy WHERE tenant_id = $1 ORDER BY category")
            .bind(t.0)
            .fetch_all(&mut *c)
            .await?;
    r.into_iter().map(TryInto::try_into).collect()
}

pub(crate) async fn set_retention_policies(
    c: &mut Conn,
    t: TenantId,
    policies: &[RetentionPolicy],
    actor: &Actor,
    draft: &EventDraft,
) -> Result<CustodyEvent> {
    sqlx::query("DELETE FROM retention_policy WHERE tenant_id = $1").bind(t.0).execute(&mut *c).await?;
    for p in policies {
        sqlx::query("INSERT INTO retention_policy (tenant_id, category, days, updated_at) VALUES ($1, $2, $3, $4)")
            .bind(t.0)
            .bind(p.category.as_str())
            .bind(p.days)
            .bind(p.updated_at)
            .execute(&mut *c)
            .await
            .map_err(db_err)?;
    }
    append_event(c, t, actor, draft).await
}

const RULE_SET_COLUMNS: &str = "version, source, created_by, created_at";

pub(crate) async fn rule_set(c: &mut Conn, t: TenantId, version: Option<i64>) -> Result<Option<StoredRuleSet>> {
    let r: Option<RuleSetRow> = match version {
        Some(v) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {RULE_SET_COLUMNS} FROM rule_set WHERE tenant_id = $1 AND version = $2"
        )))
        .bind(t.0)
        .bind(v)
        .fetch_optional(&mut *c)
        .await?,
        None => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {RULE_SET_COLUMNS} FROM rule_set WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1"
        )))
        .bind(t.0)
        .fetch_optional(&mut *c)
        .await?,
    };
    Ok(r.map(Into::into))
}

pub(crate) async fn rule_set_versions(c: &mut Conn, t: TenantId) -> Result<Vec<StoredRuleSet>> {
    let r: Vec<RuleSetRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RULE_SET_COLUMNS} FROM rule_set WHERE tenant_id = $1 ORDER BY version DESC"
    )))
    .bind(t.0)
    .fetch_all(&mut *c)
    .await?;
    Ok(r.into_iter().map(Into::into).collect())
}

pub(crate) async fn save_rule_set(
    c: &mut Conn,
    t: TenantId,
    source: String,
    created_by: String,
    at: DateTime<Utc>,
    actor: &Actor,
    mut draft: EventDraft,
) -> Result<(StoredRuleSet, CustodyEvent)> {
    let row = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM rule_set WHERE tenant_id = $1")
        .bind(t.0)
        .fetch_one(&mut *c)
        .await?;
    let version: i64 = row.try_get(0)?;
    let saved = StoredRuleSet { version: version + 1, source, created_by, created_at: at };
    sqlx::query("INSERT INTO rule_set (tenant_id, version, source, created_by, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(t.0)
        .bind(saved.version)
        .bind(&saved.source)
        .bind(&saved.created_by)
        .bind(saved.created_at)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    if let Some(obj) = draft.details.as_object_mut() {
        obj.insert("version".into(), serde_json::json!(saved.version));
    }
    let ev = append_event(c, t, actor, &draft).await?;
    Ok((saved, ev))
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

pub(crate) async fn user_principal(
    c: &mut Conn,
    t: TenantId,
    id: UserId,
) -> Result<Option<(User, Option<DepartmentId>, i64)>> {
    let row = sqlx::query(
        "SELECT u.id, u.tenant_id, u.login, u.display_name, u.password_hash, u.role, u.person_id, u.active, \
         u.created_at, p.department_id AS person_department_id, COALESCE(k.level, 0) AS clearance_level \
         FROM app_user u \
         LEFT JOIN person p ON p.tenant_id = u.tenant_id AND p.id = u.person_id \
         LEFT JOIN user_clearance k ON k.tenant_id = u.tenant_id AND k.user_id = u.id \
         WHERE u.tenant_id = $1 AND u.id = $2",
    )
    .bind(t.0)
    .bind(id.0)
    .fetch_optional(&mut *c)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let user: User = <UserRow as sqlx::FromRow<'_, _>>::from_row(&row)?.try_into()?;
    let department: Option<uuid::Uuid> = row.try_get("person_department_id")?;
    Ok(Some((user, department.map(Into::into), row.try_get("clearance_level")?)))
}

/// The token with this hash, its user (password hash not loaded), the department of the user's
/// directory entry and their clearance: everything a bearer request needs, in one query.
/// A bearer token with its user, department and clearance (the SQLite store also runs it directly).
const TOKEN_PRINCIPAL_SQL: &str =
    "SELECT t.id, t.tenant_id, t.user_id, t.token_hash, t.name, t.role, t.scope, t.created_at, t.expires_at, \
     t.last_used_at, t.revoked_at, u.login AS u_login, u.display_name AS u_display_name, u.role AS u_role, \
     u.person_id AS u_person_id, u.active AS u_active, u.created_at AS u_created_at, \
     p.department_id AS person_department_id, COALESCE(k.level, 0) AS clearance_level \
     FROM api_token t \
     JOIN app_user u ON u.tenant_id = t.tenant_id AND u.id = t.user_id \
     LEFT JOIN person p ON p.tenant_id = u.tenant_id AND p.id = u.person_id \
     LEFT JOIN user_clearance k ON k.tenant_id = u.tenant_id AND k.user_id = u.id \
     WHERE t.token_hash = $1";

pub(crate) async fn token_principal(c: &mut Conn, hash: &str) -> Result<Option<TokenPrincipal>> {
    let row = sqlx::query(TOKEN_PRINCIPAL_SQL)
    .bind(hash)
    .fetch_optional(&mut *c)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let token: ApiToken = <TokenRow as sqlx::FromRow<'_, _>>::from_row(&row)?.try_into()?;
    let role: String = row.try_get("u_role")?;
    let person_id: Option<uuid::Uuid> = row.try_get("u_person_id")?;
    let user = User {
        id: token.user_id,
        tenant_id: token.tenant_id,
        login: row.try_get("u_login")?,
        display_name: row.try_get("u_display_name")?,
        password_hash: None,
        role: mailroom_domain::auth::Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?,
        person_id: person_id.map(Into::into),
        active: row.try_get("u_active")?,
        created_at: row.try_get("u_created_at")?,
    };
    let department: Option<uuid::Uuid> = row.try_get("person_department_id")?;
    Ok(Some(TokenPrincipal {
        token,
        user,
        department_id: department.map(Into::into),
        clearance: row.try_get("clearance_level")?,
    }))
}

pub(crate) async fn user_clearance(c: &mut Conn, t: TenantId, user: UserId) -> Result<i64> {
    let r = sqlx::query("SELECT level FROM user_clearance WHERE tenant_id = $1 AND user_id = $2")
        .bind(t.0)
        .bind(user.0)
        .fetch_optional(&mut *c)
        .await?;
    Ok(match r {
        Some(r) => r.try_get(0)?,
        None => 0,
    })
}

pub(crate) async fn set_user_clearance(c: &mut Conn, t: TenantId, user: UserId, level: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO user_clearance (tenant_id, user_id, level, granted_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET level = excluded.level, granted_at = excluded.granted_at",
    )
    .bind(t.0)
    .bind(user.0)
    .bind(level)
    .bind(Utc::now())
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

const DELEGATION_COLUMNS: &str =
    "id, tenant_id, grantor_id, delegate_id, scope, category, item_ids, valid_from, valid_until, revoked_at, created_by, created_at";

pub(crate) async fn create_delegation(c: &mut Conn, d: &Delegation, actor: &Actor, draft: &EventDraft) -> Result<()> {
    let ids: Vec<uuid::Uuid> = d.item_ids.iter().map(|i| i.0).collect();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO delegation ({DELEGATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )))
    .bind(d.id.0)
    .bind(d.tenant_id.0)
    .bind(d.grantor_id.0)
    .bind(d.delegate_id.0)
    .bind(&d.scope)
    .bind(d.category.map(|c| c.as_str()))
    .bind(serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))?)
    .bind(d.valid_from)
    .bind(d.valid_until)
    .bind(d.revoked_at)
    .bind(d.created_by.0)
    .bind(d.created_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    append_event(c, d.tenant_id, actor, draft).await?;
    Ok(())
}

pub(crate) async fn delegation(c: &mut Conn, t: TenantId, id: DelegationId) -> Result<Option<Delegation>> {
    let r: Option<DelegationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DELEGATION_COLUMNS} FROM delegation WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(t.0)
    .bind(id.0)
    .fetch_optional(&mut *c)
    .await?;
    r.map(TryInto::try_into).transpose()
}

pub(crate) async fn delegations_of(c: &mut Conn, t: TenantId, person: PersonId) -> Result<Vec<Delegation>> {
    let r: Vec<DelegationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DELEGATION_COLUMNS} FROM delegation WHERE tenant_id = $1 AND (grantor_id = $2 OR delegate_id = $3) \
         ORDER BY id DESC"
    )))
    .bind(t.0)
    .bind(person.0)
    .bind(person.0)
    .fetch_all(&mut *c)
    .await?;
    r.into_iter().map(TryInto::try_into).collect()
}

pub(crate) async fn revoke_delegation(
    c: &mut Conn,
    t: TenantId,
    id: DelegationId,
    at: chrono::DateTime<Utc>,
    actor: &Actor,
    draft: &EventDraft,
) -> Result<()> {
    let done = sqlx::query("UPDATE delegation SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL")
        .bind(at)
        .bind(t.0)
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    append_event(c, t, actor, draft).await?;
    Ok(())
}

const ASSIGNMENT_COLUMNS: &str = "tenant_id, user_id, home_tenant_id, role, site_id, created_at";

pub(crate) async fn put_assignment(c: &mut Conn, a: &Assignment) -> Result<()> {
    sqlx::query(
        "INSERT INTO user_assignment (tenant_id, user_id, home_tenant_id, role, site_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = excluded.role, site_id = excluded.site_id",
    )
    .bind(a.tenant_id.0)
    .bind(a.user_id.0)
    .bind(a.home_tenant_id.0)
    .bind(a.role.as_str())
    .bind(a.site_id.map(|s| s.0))
    .bind(a.created_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn assignment(c: &mut Conn, t: TenantId, user: UserId) -> Result<Option<Assignment>> {
    let r: Option<AssignmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM user_assignment WHERE tenant_id = $1 AND user_id = $2"
    )))
    .bind(t.0)
    .bind(user.0)
    .fetch_optional(&mut *c)
    .await?;
    r.map(TryInto::try_into).transpose()
}

pub(crate) async fn list_assignments(c: &mut Conn, t: TenantId) -> Result<Vec<Assignment>> {
    let r: Vec<AssignmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM user_assignment WHERE tenant_id = $1 ORDER BY created_at, user_id"
    )))
    .bind(t.0)
    .fetch_all(&mut *c)
    .await?;
    r.into_iter().map(TryInto::try_into).collect()
}

pub(crate) async fn user_assignments(c: &mut Conn, user: UserId) -> Result<Vec<Assignment>> {
    let r: Vec<AssignmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM user_assignment WHERE user_id = $1 ORDER BY tenant_id"
    )))
    .bind(user.0)
    .fetch_all(&mut *c)
    .await?;
    r.into_iter().map(TryInto::try_into).collect()
}

pub(crate) async fn delete_assignment(c: &mut Conn, t: TenantId, user: UserId) -> Result<()> {
    let done = sqlx::query("DELETE FROM user_assignment WHERE tenant_id = $1 AND user_id = $2")
        .bind(t.0)
        .bind(user.0)
        .execute(&mut *c)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) async fn item_counts(c: &mut Conn, t: TenantId) -> Result<Vec<ItemCount>> {
    let r: Vec<ItemCountRow> = sqlx::query_as(
        "SELECT status, category, COUNT(*) AS n FROM item WHERE tenant_id = $1 GROUP BY status, category \
         ORDER BY status, category",
    )
    .bind(t.0)
    .fetch_all(&mut *c)
    .await?;
    r.into_iter().map(TryInto::try_into).collect()
}

/// Items kept at each location now (stored, notified, held or waiting for pickup), for locations
/// holding any.
pub(crate) async fn location_occupancy(c: &mut Conn, t: TenantId) -> Result<Vec<(LocationId, i64)>> {
    let rows = sqlx::query(
        "SELECT location_id, COUNT(*) AS n FROM item WHERE tenant_id = $1 AND location_id IS NOT NULL \
         AND status IN ('stored', 'notified', 'ready_for_pickup', 'held') GROUP BY location_id",
    )
    .bind(t.0)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            let id: uuid::Uuid = r.try_get("location_id")?;
            Ok((id.into(), r.try_get("n")?))
        })
        .collect()
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
        AdminChange::UpsertCostCentre(cc) => upsert_cost_centre(c, t, cc).await?,
        AdminChange::CreatePostageAccount(a) => create_postage_account(c, t, a).await?,
        AdminChange::ReplacePostageRates(rows) => replace_postage_rates(c, t, rows).await?,
        AdminChange::DeleteCostCentre(id) => delete_unused(c, t, "cost_centre", "cost_centre_id", *id).await?,
        AdminChange::UpdatePostageAccount(a) => update_postage_account(c, t, a).await?,
        AdminChange::DeletePostageAccount(id) => delete_unused(c, t, "postage_account", "account_id", *id).await?,
    }
    append_event(c, t, actor, draft).await
}

/// Keeps a photo with an item: the (sealed) attachment, its link to the item and the custody
/// event, in the caller's transaction. `NotFound` if the item does not exist.
pub(crate) async fn add_item_photo(
    c: &mut Conn,
    t: TenantId,
    item_id: ItemId,
    photo: &Attachment,
    added_by: Option<UserId>,
    actor: &Actor,
    draft: &EventDraft,
) -> Result<(ItemPhoto, CustodyEvent)> {
    if item(c, t, item_id).await?.is_none() {
        return Err(StoreError::NotFound);
    }
    insert_attachment(c, photo).await?;
    let at = custody::storage_time(Utc::now());
    sqlx::query(
        "INSERT INTO item_photo (tenant_id, item_id, attachment_id, added_by, added_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(t.0)
    .bind(item_id.0)
    .bind(photo.id.0)
    .bind(added_by.map(|u| u.0))
    .bind(at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    let ev = append_event(c, t, actor, draft).await?;
    let p = ItemPhoto {
        id: photo.id,
        item_id,
        media_type: photo.media_type.clone(),
        size: photo.size,
        sha256: photo.sha256.clone(),
        added_at: at,
        added_by,
    };
    Ok((p, ev))
}

const ITEM_PHOTO_SELECT: &str = "SELECT p.attachment_id, p.item_id, a.media_type, a.size, a.sha256, p.added_at, p.added_by \
     FROM item_photo p JOIN attachment a ON a.tenant_id = p.tenant_id AND a.id = p.attachment_id \
     WHERE p.tenant_id = $1 AND p.item_id = $2";

/// An item's photos, oldest first.
pub(crate) async fn item_photos(c: &mut Conn, t: TenantId, item_id: ItemId) -> Result<Vec<ItemPhoto>> {
    let r: Vec<ItemPhotoRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{ITEM_PHOTO_SELECT} ORDER BY p.added_at, p.attachment_id")))
            .bind(t.0)
            .bind(item_id.0)
            .fetch_all(&mut *c)
            .await?;
    Ok(r.into_iter().map(Into::into).collect())
}

/// One photo of an item.
pub(crate) async fn item_photo(c: &mut Conn, t: TenantId, item_id: ItemId, id: AttachmentId) -> Result<Option<ItemPhoto>> {
    let r: Option<ItemPhotoRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{ITEM_PHOTO_SELECT} AND p.attachment_id = $3")))
            .bind(t.0)
            .bind(item_id.0)
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?;
    Ok(r.map(Into::into))
}

async fn insert_exception(c: &mut Conn, x: &ItemException) -> Result<()> {
    let candidates = serde_json::to_string(&x.candidates).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO item_exception (id, tenant_id, item_id, reason, label_text, candidates, status, opened_at, \
         opened_by, resolved_at, resolved_by, resolution, resolution_note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(x.id.0)
    .bind(x.tenant_id.0)
    .bind(x.item_id.0)
    .bind(x.reason.as_str())
    .bind(&x.label_text)
    .bind(candidates)
    .bind(x.status.as_str())
    .bind(x.opened_at)
    .bind(x.opened_by.map(|u| u.0))
    .bind(x.resolved_at)
    .bind(x.resolved_by.map(|u| u.0))
    .bind(x.resolution.map(|r| r.as_str()))
    .bind(&x.resolution_note)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn exception(c: &mut Conn, t: TenantId, id: ExceptionId) -> Result<Option<ItemException>> {
    let r: Option<ExceptionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {EXCEPTION_COLUMNS} FROM item_exception e JOIN item i ON i.tenant_id = e.tenant_id AND i.id = e.item_id \
         WHERE e.tenant_id = $1 AND e.id = $2"
    )))
    .bind(t.0)
    .bind(id.0)
    .fetch_optional(&mut *c)
    .await?;
    r.map(TryInto::try_into).transpose()
}

/// The item's open exception, if it has one.
pub(crate) async fn open_exception_of_item(c: &mut Conn, t: TenantId, item: ItemId) -> Result<Option<ItemException>> {
    let r: Option<ExceptionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {EXCEPTION_COLUMNS} FROM item_exception e JOIN item i ON i.tenant_id = e.tenant_id AND i.id = e.item_id \
         WHERE e.tenant_id = $1 AND e.item_id = $2 AND e.status = 'open'"
    )))
    .bind(t.0)
    .bind(item.0)
    .fetch_optional(&mut *c)
    .await?;
    r.map(TryInto::try_into).transpose()
}

/// Exceptions with one status, oldest first (a queue), after the cursor.
pub(crate) async fn list_exceptions(
    c: &mut Conn,
    t: TenantId,
    status: mailroom_domain::exception::ExceptionStatus,
    after: Option<ExceptionId>,
    limit: i64,
) -> Result<Vec<ItemException>> {
    let after = after.map(|a| a.0).unwrap_or(uuid::Uuid::nil());
    let r: Vec<ExceptionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {EXCEPTION_COLUMNS} FROM item_exception e JOIN item i ON i.tenant_id = e.tenant_id AND i.id = e.item_id \
         WHERE e.tenant_id = $1 AND e.status = $2 AND e.id > $3 ORDER BY e.id LIMIT $4"
    )))
    .bind(t.0)
    .bind(status.as_str())
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    r.into_iter().map(TryInto::try_into).collect()
}

/// Writes an item's new details (see [`ItemAmend`]), closes an exception and appends the custody
/// event. Runs inside the caller's transaction.
pub(crate) async fn amend_item(c: &mut Conn, amend: &ItemAmend, actor: &Actor, draft: &EventDraft) -> Result<Item> {
    let i = &amend.item;
    let (t, id) = (i.tenant_id, i.id);
    let now = custody::storage_time(Utc::now());
    let done = sqlx::query(
        "UPDATE item SET kind = $1, category = $2, priority = $3, carrier = $4, sender_name = $5, sender_org = $6, \
         sender_address = $7, sender_country = $8, recipient_person_id = $9, recipient_department_id = $10, \
         recipient_name = $11, notes = $12, status = $13, location_id = $14, details_pending = $15, \
         search_text = $16, secret_text = $17, secret_level = $18, updated_at = $19, version = version + 1 \
         WHERE tenant_id = $20 AND id = $21 AND version = $22",
    )
    .bind(i.kind.as_str())
    .bind(i.category.as_str())
    .bind(i.priority.as_str())
    .bind(&i.carrier)
    .bind(&i.sender_name)
    .bind(&i.sender_org)
    .bind(&i.sender_address)
    .bind(&i.sender_country)
    .bind(i.recipient_person_id.map(|p| p.0))
    .bind(i.recipient_department_id.map(|d| d.0))
    .bind(&i.recipient_name)
    .bind(&i.notes)
    .bind(i.status.as_str())
    .bind(i.location_id.map(|l| l.0))
    .bind(i.details_pending)
    .bind(item_search_text(i))
    .bind(item_secret_text(i))
    .bind(item_secret_level(i))
    .bind(now)
    .bind(t.0)
    .bind(id.0)
    .bind(amend.expected_version)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(match item(c, t, id).await? {
            Some(_) => StoreError::Stale,
            None => StoreError::NotFound,
        });
    }
    if let Some(close) = &amend.close {
        let (filter, target) = match close.exception_id {
            Some(x) => ("id", x.0),
            None => ("item_id", id.0),
        };
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE item_exception SET status = 'resolved', resolved_at = $1, resolved_by = $2, resolution = $3, \
             resolution_note = $4 WHERE tenant_id = $5 AND item_id = $6 AND {filter} = $7 AND status = 'open'"
        )))
        .bind(close.at)
        .bind(close.by.map(|u| u.0))
        .bind(close.resolution.as_str())
        .bind(&close.note)
        .bind(t.0)
        .bind(id.0)
        .bind(target)
        .execute(&mut *c)
        .await?;
        // A named exception that is no longer open was resolved by someone else meanwhile.
        if close.exception_id.is_some() && done.rows_affected() == 0 {
            return Err(StoreError::Stale);
        }
    }
    append_event(c, t, actor, draft).await?;
    item(c, t, id).await?.ok_or(StoreError::NotFound)
}

// ---- The durable job queue ----

const JOB_COLUMNS: &str = "id, tenant_id, kind, payload, idempotency_key, status, attempts, max_attempts, run_at, \
     locked_by, locked_until, last_error, created_at, finished_at";

/// Inserts jobs, `BULK_ROWS` a statement; a job whose idempotency key the tenant already has is
/// skipped. Returns how many were inserted. Usable inside any write (e.g. together with the
/// change that causes the jobs).
pub(crate) async fn enqueue_jobs(c: &mut Conn, jobs: &[NewJob], now: DateTime<Utc>) -> Result<u64> {
    const COLS: usize = 9;
    let now = custody::storage_time(now);
    let mut inserted = 0;
    for chunk in jobs.chunks(BULK_ROWS) {
        let sql = format!(
            "INSERT INTO job (id, tenant_id, kind, payload, idempotency_key, status, max_attempts, run_at, created_at) \
             VALUES {} ON CONFLICT (tenant_id, idempotency_key) DO NOTHING",
            values_placeholders(chunk.len(), COLS)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for j in chunk {
            q = q
                .bind(JobId::new().0)
                .bind(j.tenant_id.0)
                .bind(&j.kind)
                .bind(j.payload.to_string())
                .bind(&j.idempotency_key)
                .bind(JOB_PENDING)
                .bind(j.max_attempts.max(1))
                .bind(custody::storage_time(j.run_at))
                .bind(now);
        }
        inserted += q.execute(&mut *c).await.map_err(db_err)?.rows_affected();
    }
    Ok(inserted)
}

/// Claims up to `limit` due jobs of every tenant for `node`, oldest due first, in one statement:
/// pending jobs whose time has come and running jobs whose lease expired (their worker
/// stopped, or is too slow). A claimed job's `run_at` is set to the end of its lease, so that
/// one range of the `job_due` index holds exactly the claimable jobs. On PostgreSQL the rows are
/// locked with `SKIP LOCKED`: workers of other nodes claiming at the same moment take other
/// jobs instead of waiting; on SQLite the statement is one write of the single writer.
pub(crate) async fn claim_jobs(
    c: &mut Conn,
    node: &str,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    limit: i64,
) -> Result<Vec<Job>> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "UPDATE job SET status = 'running', locked_by = $1, locked_until = $2, run_at = $3, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM job WHERE status IN ('pending', 'running') AND run_at <= $4 \
             AND (status = 'pending' OR locked_until < $5) ORDER BY run_at LIMIT $6{CLAIM_LOCK}) \
             RETURNING {JOB_COLUMNS}"
        )
    });
    let now = custody::storage_time(now);
    let until = custody::storage_time(now + lease);
    let rows: Vec<JobRow> = sqlx::query_as(sqlx::AssertSqlSafe(SQL.as_str()))
        .bind(node)
        .bind(until)
        .bind(until)
        .bind(now)
        .bind(now)
        .bind(limit.max(0))
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
    let mut jobs = rows.into_iter().map(Job::try_from).collect::<Result<Vec<_>>>()?;
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

/// Whether any job of any tenant is due at `now` (what [`claim_jobs`] would take), read without
/// writing: an idle worker asks this before it claims.
pub(crate) async fn jobs_due(c: &mut Conn, now: DateTime<Utc>) -> Result<bool> {
    let due: Option<uuid::Uuid> = sqlx::query_scalar(
        "SELECT id FROM job WHERE status IN ('pending', 'running') AND run_at <= $1 LIMIT 1",
    )
    .bind(custody::storage_time(now))
    .fetch_optional(&mut *c)
    .await?;
    Ok(due.is_some())
}

/// Marks a job done, if `node` still holds it.
pub(crate) async fn complete_job(c: &mut Conn, id: JobId, node: &str, now: DateTime<Utc>) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE job SET status = 'done', finished_at = $1, locked_until = NULL \
         WHERE id = $2 AND status = 'running' AND locked_by = $3",
    )
    .bind(custody::storage_time(now))
    .bind(id.0)
    .bind(node)
    .execute(&mut *c)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Records a failed attempt, if `node` still holds the job: pending again from `retry_at`, or
/// dead (`None`).
pub(crate) async fn fail_job(
    c: &mut Conn,
    id: JobId,
    node: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let q = match retry_at {
        Some(at) => sqlx::query(
            "UPDATE job SET status = 'pending', run_at = $1, locked_by = NULL, locked_until = NULL, last_error = $2 \
             WHERE id = $3 AND status = 'running' AND locked_by = $4",
        )
        .bind(custody::storage_time(at)),
        None => sqlx::query(
            "UPDATE job SET status = 'dead', finished_at = $1, locked_until = NULL, last_error = $2 \
             WHERE id = $3 AND status = 'running' AND locked_by = $4",
        )
        .bind(custody::storage_time(now)),
    };
    let done = q.bind(error).bind(id.0).bind(node).execute(&mut *c).await?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn job(c: &mut Conn, t: TenantId, id: JobId) -> Result<Option<Job>> {
    let r: Option<JobRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {JOB_COLUMNS} FROM job WHERE tenant_id = $1 AND id = $2")))
            .bind(t.0)
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?;
    r.map(Job::try_from).transpose()
}

/// A tenant's jobs (with this status), newest first.
pub(crate) async fn list_jobs(c: &mut Conn, t: TenantId, status: Option<&str>, limit: i64) -> Result<Vec<Job>> {
    let rows: Vec<JobRow> = match status {
        Some(s) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM job WHERE tenant_id = $1 AND status = $2 ORDER BY created_at DESC, id DESC LIMIT $3"
        )))
        .bind(t.0)
        .bind(s)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?,
        None => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM job WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        )))
        .bind(t.0)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?,
    };
    rows.into_iter().map(Job::try_from).collect()
}

/// Sends a dead job back to the queue, due at `now`, with its attempts counted from zero, and
/// appends `event` to the tenant's log; false (and nothing written) unless the job was dead.
pub(crate) async fn retry_job(
    c: &mut Conn,
    t: TenantId,
    id: JobId,
    now: DateTime<Utc>,
    actor: &Actor,
    event: &EventDraft,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE job SET status = 'pending', attempts = 0, run_at = $1, finished_at = NULL, locked_by = NULL, \
         locked_until = NULL WHERE tenant_id = $2 AND id = $3 AND status = 'dead'",
    )
    .bind(custody::storage_time(now))
    .bind(t.0)
    .bind(id.0)
    .execute(&mut *c)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    append_event(c, t, actor, event).await?;
    Ok(true)
}

/// How many jobs the tenant has in each status (statuses without jobs left out).
pub(crate) async fn job_counts(c: &mut Conn, t: TenantId) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as("SELECT status, COUNT(*) FROM job WHERE tenant_id = $1 GROUP BY status ORDER BY status")
        .bind(t.0)
        .fetch_all(&mut *c)
        .await?)
}

/// Deletes up to `limit` jobs (of every tenant) that were done before `before`.
pub(crate) async fn prune_jobs(c: &mut Conn, before: DateTime<Utc>, limit: i64) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM job WHERE id IN (SELECT id FROM job WHERE status = 'done' AND finished_at < $1 LIMIT $2)",
    )
    .bind(custody::storage_time(before))
    .bind(limit.max(0))
    .execute(&mut *c)
    .await?;
    Ok(done.rows_affected())
}

// Notification settings: templates, preferences, endpoints.

const TEMPLATE_COLUMNS: &str = "kind, lang, subject, body, updated_at, updated_by";

pub(crate) async fn notification_templates(c: &mut Conn, t: TenantId) -> Result<Vec<NotificationTemplate>> {
    let r: Vec<TemplateRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TEMPLATE_COLUMNS} FROM notification_template WHERE tenant_id = $1 ORDER BY kind, lang"
    )))
    .bind(t.0)
    .fetch_all(&mut *c)
    .await?;
    r.into_iter().map(TryInto::try_into).collect()
}

pub(crate) async fn notification_template(
    c: &mut Conn,
    t: TenantId,
    kind: NoticeKind,
    lang: NoticeLang,
) -> Result<Option<NotificationTemplate>> {
    let r: Option<TemplateRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TEMPLATE_COLUMNS} FROM notification_template WHERE tenant_id = $1 AND kind = $2 AND lang = $3"
    )))
    .bind(t.0)
    .bind(kind.as_str())
    .bind(lang.as_str())
    .fetch_optional(&mut *c)
    .await?;
    r.map(TryInto::try_into).transpose()
}

pub(crate) async fn put_notification_template(
    c: &mut Conn,
    t: TenantId,
    kind: NoticeKind,
    lang: NoticeLang,
    tpl: Option<&NotificationTemplate>,
    actor: &Actor,
    draft: &EventDraft,
) -> Result<CustodyEvent> {
    sqlx::query("DELETE FROM notification_template WHERE tenant_id = $1 AND kind = $2 AND lang = $3")
        .bind(t.0)
        .bind(kind.as_str())
        .bind(lang.as_str())
        .execute(&mut *c)
        .await?;
    if let Some(tpl) = tpl {
        sqlx::query(
            "INSERT INTO notification_template (tenant_id, kind, lang, subject, body, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(t.0)
        .bind(kind.as_str())
        .bind(lang.as_str())
        .bind(&tpl.subject)
        .bind(&tpl.body)
        .bind(tpl.updated_at)
        .bind(&tpl.updated_by)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    append_event(c, t, actor, draft).await
}

const PREFERENCE_COLUMNS: &str =
    "person_id, lang, email, sms, robot, quiet_start, quiet_end, digest, digest_at, updated_at";

pub(crate) async fn notify_preference(c: &mut Conn, t: TenantId, person: PersonId) -> Result<Option<NotifyPreference>> {
    let r: Option<PreferenceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PREFERENCE_COLUMNS} FROM notify_preference WHERE tenant_id = $1 AND person_id = $2"
    )))
    .bind(t.0)
    .bind(person.0)
    .fetch_optional(&mut *c)
    .await?;
    r.map(TryInto::try_into).transpose()
}

pub(crate) async fn notify_preferences(
    c: &mut Conn,
    t: TenantId,
    people: &[PersonId],
) -> Result<Vec<NotifyPreference>> {
    let mut out = Vec::new();
    for chunk in people.chunks(500) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT {PREFERENCE_COLUMNS} FROM notify_preference WHERE tenant_id = $1 AND person_id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, PreferenceRow>(sqlx::AssertSqlSafe(sql)).bind(t.0);
        for p in chunk {
            q = q.bind(p.0);
        }
        for r in q.fetch_all(&mut *c).await? {
            out.push(r.try_into()?);
        }
    }
    Ok(out)
}

pub(crate) async fn put_notify_preference(
    c: &mut Conn,
    t: TenantId,
    p: &NotifyPreference,
    actor: &Actor,
    draft: &EventDraft,
) -> Result<CustodyEvent> {
    let updated_at = p.updated_at.unwrap_or_else(|| custody::storage_time(Utc::now()));
    sqlx::query("DELETE FROM notify_preference WHERE tenant_id = $1 AND person_id = $2")
        .bind(t.0)
        .bind(p.person_id.0)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "INSERT INTO notify_preference (tenant_id, person_id, lang, email, sms, robot, quiet_start, quiet_end, \
         digest, digest_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(t.0)
    .bind(p.person_id.0)
    .bind(p.lang.as_str())
    .bind(p.email)
    .bind(p.sms)
    .bind(p.robot)
    .bind(p.quiet.map(|q| hhmm(q.start)))
    .bind(p.quiet.map(|q| hhmm(q.end)))
    .bind(p.digest)
    .bind(p.digest_at.map(hhmm))
    .bind(updated_at)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    append_event(c, t, actor, draft).await
}

const ENDPOINT_COLUMNS: &str =
    "tenant_id, id, kind, name, url, secret, config, department_id, events, active, created_at, updated_at";

pub(crate) async fn channel_endpoints(c: &mut Conn, t: TenantId) -> Result<Vec<ChannelEndpoint>> {
    let r: Vec<EndpointRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM channel_endpoint WHERE tenant_id = $1 ORDER BY kind, name"
    )))
    .bind(t.0)
    .fetch_all(&mut *c)
    .await?;
    r.into_iter().map(TryInto::try_into).collect()
}

pub(crate) async fn channel_endpoint(c: &mut Conn, t: TenantId, id: EndpointId) -> Result<Option<ChannelEndpoint>> {
    let r: Option<EndpointRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM channel_endpoint WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(t.0)
    .bind(id.0)
    .fetch_optional(&mut *c)
    .await?;
    r.map(TryInto::try_into).transpose()
}

pub(crate) async fn put_channel_endpoint(
    c: &mut Conn,
    e: &ChannelEndpoint,
    actor: &Actor,
    draft: &EventDraft,
) -> Result<CustodyEvent> {
    let config = serde_json::to_string(&e.config).map_err(|err| StoreError::Corrupt(err.to_string()))?;
    let done = sqlx::query(
        "UPDATE channel_endpoint SET kind = $1, name = $2, url = $3, secret = $4, config = $5, department_id = $6, \
         events = $7, active = $8, updated_at = $9 WHERE tenant_id = $10 AND id = $11",
    )
    .bind(e.kind.as_str())
    .bind(&e.name)
    .bind(&e.url)
    .bind(&e.secret)
    .bind(&config)
    .bind(e.department_id.map(|d| d.0))
    .bind(events_text(&e.events))
    .bind(e.active)
    .bind(e.updated_at)
    .bind(e.tenant_id.0)
    .bind(e.id.0)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    if done.rows_affected() == 0 {
        sqlx::query(
            "INSERT INTO channel_endpoint (tenant_id, id, kind, name, url, secret, config, department_id, events, \
             active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(e.tenant_id.0)
        .bind(e.id.0)
        .bind(e.kind.as_str())
        .bind(&e.name)
        .bind(&e.url)
        .bind(&e.secret)
        .bind(&config)
        .bind(e.department_id.map(|d| d.0))
        .bind(events_text(&e.events))
        .bind(e.active)
        .bind(e.created_at)
        .bind(e.updated_at)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    append_event(c, e.tenant_id, actor, draft).await
}

pub(crate) async fn delete_channel_endpoint(
    c: &mut Conn,
    t: TenantId,
    id: EndpointId,
    actor: &Actor,
    draft: &EventDraft,
) -> Result<CustodyEvent> {
    let done = sqlx::query("DELETE FROM channel_endpoint WHERE tenant_id = $1 AND id = $2")
        .bind(t.0)
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    append_event(c, t, actor, draft).await
}

// ---- service levels and unclaimed items ----

pub(crate) async fn site_calendar(c: &mut Conn, t: TenantId, site: SiteId) -> Result<Option<SiteCalendar>> {
    let row = sqlx::query("SELECT config, updated_at, updated_by FROM site_calendar WHERE tenant_id = $1 AND site_id = $2")
        .bind(t.0)
        .bind(site.0)
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let config: String = row.try_get(0)?;
    let config = serde_json::from_str(&config).map_err(|e| StoreError::Corrupt(format!("site calendar: {e}")))?;
    Ok(Some(SiteCalendar { tenant_id: t, site_id: site, config, updated_at: row.try_get(1)?, updated_by: row.try_get(2)? }))
}

pub(crate) async fn put_site_calendar(c: &mut Conn, cal: &SiteCalendar, actor: &Actor, draft: &EventDraft) -> Result<CustodyEvent> {
    let config = serde_json::to_string(&cal.config).map_err(|e| StoreError::Corrupt(format!("site calendar: {e}")))?;
    sqlx::query(
        "INSERT INTO site_calendar (tenant_id, site_id, config, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant_id, site_id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by",
    )
    .bind(cal.tenant_id.0)
    .bind(cal.site_id.0)
    .bind(config)
    .bind(cal.updated_at)
    .bind(&cal.updated_by)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    append_event(c, cal.tenant_id, actor, draft).await
}

pub(crate) async fn unclaimed_policies(c: &mut Conn, t: TenantId) -> Result<Vec<mailroom_domain::followup::UnclaimedPolicy>> {
    use mailroom_domain::followup::{FinalAction, UnclaimedPolicy};
    let rows = sqlx::query(
        "SELECT category, remind_after_days, remind_every_days, escalate_after_days, final_after_days, final_action \
         FROM unclaimed_policy WHERE tenant_id = $1 ORDER BY category",
    )
    .bind(t.0)
    .fetch_all(&mut *c)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let category: String = r.try_get(0)?;
        let action: String = r.try_get(5)?;
        out.push(UnclaimedPolicy {
            category: Category::parse(&category).ok_or_else(|| StoreError::Corrupt(format!("category {category}")))?,
            remind_after_days: r.try_get(1)?,
            remind_every_days: r.try_get(2)?,
            escalate_after_days: r.try_get(3)?,
            final_after_days: r.try_get(4)?,
            final_action: FinalAction::parse(&action).ok_or_else(|| StoreError::Corrupt(format!("final action {action}")))?,
        });
    }
    Ok(out)
}

pub(crate) async fn set_unclaimed_policies(
    c: &mut Conn,
    t: TenantId,
    policies: &[mailroom_domain::followup::UnclaimedPolicy],
    at: DateTime<Utc>,
    actor: &Actor,
    draft: &EventDraft,
) -> Result<CustodyEvent> {
    sqlx::query("DELETE FROM unclaimed_policy WHERE tenant_id = $1").bind(t.0).execute(&mut *c).await?;
    for p in policies {
        sqlx::query(
            "INSERT INTO unclaimed_policy (tenant_id, category, remind_after_days, remind_every_days, escalate_after_days, \
             final_after_days, final_action, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(t.0)
        .bind(p.category.as_str())
        .bind(p.remind_after_days)
        .bind(p.remind_every_days)
        .bind(p.escalate_after_days)
        .bind(p.final_after_days)
        .bind(p.final_action.as_str())
        .bind(at)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    append_event(c, t, actor, draft).await
}

const FOLLOWUP_COLUMNS: &str = "item_id, breached_at, reminders_sent, last_reminder_at, escalated_at, disposal_requests, \
    disposal_requested_at, disposal_action, disposal_decided_at, disposal_decision";

/// Statuses in which an item has left the mailroom for good (as SQL text).
const FINAL_STATUSES_SQL: &str = "('delivered', 'picked_up', 'returned_to_sender', 'forwarded', 'disposed', 'cancelled')";

/// The follow-up records of these items (items without one get the empty record).
async fn with_followup(c: &mut Conn, t: TenantId, items: Vec<Item>) -> Result<Vec<FollowupItem>> {
    use mailroom_domain::followup::{FinalAction, FollowupState};
    let mut states: std::collections::HashMap<ItemId, FollowupState> = std::collections::HashMap::new();
    for chunk in items.chunks(200) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT {FOLLOWUP_COLUMNS} FROM item_followup WHERE tenant_id = $1 AND item_id IN ({})",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(t.0);
        for i in chunk {
            q = q.bind(i.id.0);
        }
        for r in q.fetch_all(&mut *c).await? {
            let id: uuid::Uuid = r.try_get(0)?;
            let action: Option<String> = r.try_get(7)?;
            states.insert(
                id.into(),
                FollowupState {
                    breached_at: r.try_get(1)?,
                    reminders_sent: r.try_get(2)?,
                    last_reminder_at: r.try_get(3)?,
                    escalated_at: r.try_get(4)?,
                    disposal_requests: r.try_get(5)?,
                    disposal_requested_at: r.try_get(6)?,
                    disposal_action: action.as_deref().and_then(FinalAction::parse),
                    disposal_decided_at: r.try_get(8)?,
                    disposal_decision: r.try_get(9)?,
                },
            );
        }
    }
    Ok(items
        .into_iter()
        .map(|item| {
            let state = states.remove(&item.id).unwrap_or_default();
            FollowupItem { item, state }
        })
        .collect())
}

async fn fetch_items(c: &mut Conn, sql: String, binds: Vec<Bind>) -> Result<Vec<Item>> {
    let mut q = sqlx::query_as::<_, ItemRow>(sqlx::AssertSqlSafe(sql));
    for b in binds {
        q = match b {
            Bind::Uuid(u) => q.bind(u),
            Bind::Time(t) => q.bind(t),
            Bind::Int(i) => q.bind(i),
            Bind::Text(s) => q.bind(s),
        };
    }
    let rows = q.fetch_all(&mut *c).await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// A value bound to a built item query, in parameter order (`$1`, `$2`, …).
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Uuid(uuid::Uuid),
    Time(DateTime<Utc>),
    Int(i64),
    Text(String),
}

/// Items still in progress whose due-by is at or before `until`, earliest first, with their
/// follow-up records; with `unbreached_only`, only those not yet marked as breached.
pub(crate) async fn due_items(
    c: &mut Conn,
    t: TenantId,
    until: DateTime<Utc>,
    unbreached_only: bool,
    limit: i64,
) -> Result<Vec<FollowupItem>> {
    let unbreached = if unbreached_only {
        " AND NOT EXISTS (SELECT 1 FROM item_followup f WHERE f.tenant_id = $3 AND f.item_id = item.id \
         AND f.breached_at IS NOT NULL)"
    } else {
        ""
    };
    let limit_at = if unbreached_only { 4 } else { 3 };
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM item WHERE tenant_id = $1 AND due_by IS NOT NULL AND due_by <= $2 \
         AND status NOT IN {FINAL_STATUSES_SQL}{unbreached} ORDER BY due_by LIMIT ${limit_at}"
    );
    let mut binds = vec![Bind::Uuid(t.0), Bind::Time(until)];
    if unbreached_only {
        binds.push(Bind::Uuid(t.0));
    }
    binds.push(Bind::Int(limit));
    let items = fetch_items(c, sql, binds).await?;
    with_followup(c, t, items).await
}

/// Items waiting for their recipient (stored, notified, ready for pickup) that arrived at or
/// before `arrived_before`, in id order (ids are time-ordered: oldest first) after `after`, with
/// their follow-up records.
pub(crate) async fn waiting_items(
    c: &mut Conn,
    t: TenantId,
    arrived_before: DateTime<Utc>,
    after: Option<ItemId>,
    limit: i64,
) -> Result<Vec<FollowupItem>> {
    let mut binds = vec![Bind::Uuid(t.0), Bind::Time(arrived_before)];
    let cursor = match after {
        Some(a) => {
            binds.push(Bind::Uuid(a.0));
            " AND id > $3"
        }
        None => "",
    };
    binds.push(Bind::Int(limit));
    let items = fetch_items(c, waiting_items_query(cursor, binds.len()), binds).await?;
    with_followup(c, t, items).await
}

/// The statuses of an item waiting in the mailroom for its recipient.
const WAITING_STATUSES: [&str; 3] = ["stored", "notified", "ready_for_pickup"];

/// The waiting-items query: `$1` tenant, `$2` arrived at or before, `cursor` (empty, or
/// " AND id > $3"), `$limit_at` the limit. The oldest of each waiting status, walked along the
/// `(tenant_id, status, id)` index, then merged: one `status IN (…)` condition made SQLite walk the
/// organisation's whole item index in id order, checking each item (seconds with a million items).
pub(crate) fn waiting_items_query(cursor: &str, limit_at: usize) -> String {
    let each: Vec<String> = WAITING_STATUSES
        .iter()
        .map(|status| {
            format!(
                "SELECT id FROM (SELECT id FROM item WHERE tenant_id = $1 AND status = '{status}' \
                 AND created_at <= $2{cursor} ORDER BY id LIMIT ${limit_at}) AS {status}"
            )
        })
        .collect();
    format!(
        "SELECT {ITEM_COLUMNS} FROM item WHERE tenant_id = $1 AND id IN ({}) ORDER BY id LIMIT ${limit_at}",
        each.join(" UNION ALL ")
    )
}

/// Items still in the mailroom whose final-step request awaits a supervisor's decision (an item
/// collected meanwhile needs no decision any more), oldest first.
pub(crate) async fn pending_disposals(c: &mut Conn, t: TenantId, limit: i64) -> Result<Vec<FollowupItem>> {
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM item WHERE tenant_id = $1 AND status NOT IN {FINAL_STATUSES_SQL} \
         AND id IN (SELECT item_id FROM item_followup \
         WHERE tenant_id = $2 AND disposal_requested_at IS NOT NULL AND disposal_decided_at IS NULL) \
         ORDER BY created_at LIMIT $3"
    );
    let items = fetch_items(c, sql, vec![Bind::Uuid(t.0), Bind::Uuid(t.0), Bind::Int(limit)]).await?;
    with_followup(c, t, items).await
}

/// The follow-up record of one item (the empty record when it has none).
pub(crate) async fn item_followup(c: &mut Conn, t: TenantId, id: ItemId) -> Result<Option<FollowupItem>> {
    let Some(i) = item(c, t, id).await? else { return Ok(None) };
    Ok(with_followup(c, t, vec![i]).await?.into_iter().next())
}

/// Applies one guarded follow-up step (see [`crate::Store::followup_step`]). The events returned
/// are those of `events` (an item transition's own event is not among them).
pub(crate) async fn followup_step(c: &mut Conn, w: &FollowupWrite, actor: &Actor) -> Result<Option<Vec<CustodyEvent>>> {
    use mailroom_domain::item::Status;
    let (t, id, at) = (w.tenant_id, w.item_id, w.at);
    // The item first (locked on PostgreSQL): a step for an item that moved on meanwhile is void.
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT status FROM item WHERE tenant_id = $1 AND id = $2{FOR_UPDATE}")))
        .bind(t.0)
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else { return Err(StoreError::NotFound) };
    let status: String = row.try_get(0)?;
    let status = Status::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?;
    if !w.statuses.contains(&status) {
        return Ok(None);
    }
    const UPSERT: &str = "INSERT INTO item_followup AS f ";
    let done = match &w.step {
        FollowupStep::Breach => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{UPSERT}(tenant_id, item_id, breached_at, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, item_id) DO UPDATE SET breached_at = excluded.breached_at, \
                 updated_at = excluded.updated_at WHERE f.breached_at IS NULL"
            )))
            .bind(t.0)
            .bind(id.0)
            .bind(at)
            .bind(at)
            .execute(&mut *c)
            .await?
        }
        FollowupStep::Remind { expected } => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{UPSERT}(tenant_id, item_id, reminders_sent, last_reminder_at, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, item_id) DO UPDATE SET reminders_sent = excluded.reminders_sent, \
                 last_reminder_at = excluded.last_reminder_at, updated_at = excluded.updated_at \
                 WHERE f.reminders_sent = $6"
            )))
            .bind(t.0)
            .bind(id.0)
            .bind(expected + 1)
            .bind(at)
            .bind(at)
            .bind(*expected)
            .execute(&mut *c)
            .await?
        }
        FollowupStep::Escalate { to } => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{UPSERT}(tenant_id, item_id, escalated_at, escalated_to, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, item_id) DO UPDATE SET escalated_at = excluded.escalated_at, \
                 escalated_to = excluded.escalated_to, updated_at = excluded.updated_at WHERE f.escalated_at IS NULL"
            )))
            .bind(t.0)
            .bind(id.0)
            .bind(at)
            .bind(to.map(|p| p.0))
            .bind(at)
            .execute(&mut *c)
            .await?
        }
        FollowupStep::RequestDisposal { expected, action } => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{UPSERT}(tenant_id, item_id, disposal_requests, disposal_requested_at, disposal_action, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, item_id) DO UPDATE SET \
                 disposal_requests = excluded.disposal_requests, disposal_requested_at = excluded.disposal_requested_at, \
                 disposal_action = excluded.disposal_action, disposal_decided_at = NULL, disposal_decision = NULL, \
                 disposal_decided_by = NULL, updated_at = excluded.updated_at WHERE f.disposal_requests = $7"
            )))
            .bind(t.0)
            .bind(id.0)
            .bind(expected + 1)
            .bind(at)
            .bind(action.as_str())
            .bind(at)
            .bind(*expected)
            .execute(&mut *c)
            .await?
        }
        FollowupStep::Decide { requests, approve, by } => {
            sqlx::query(
                "UPDATE item_followup SET disposal_decided_at = $1, disposal_decision = $2, disposal_decided_by = $3, \
                 updated_at = $4 WHERE tenant_id = $5 AND item_id = $6 AND disposal_requests = $7 \
                 AND disposal_requested_at IS NOT NULL AND disposal_decided_at IS NULL",
            )
            .bind(at)
            .bind(if *approve { "approved" } else { "rejected" })
            .bind(by.map(|u| u.0))
            .bind(at)
            .bind(t.0)
            .bind(id.0)
            .bind(*requests)
            .execute(&mut *c)
            .await?
        }
    };
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(w.events.len() + 1);
    for draft in &w.events {
        out.push(append_event(c, t, actor, draft).await?);
    }
    if let Some((change, draft)) = &w.change {
        change_item(c, t, id, change, actor, draft).await?;
    }
    Ok(Some(out))
}
