//! Test support: fresh databases on both backends, an in-process server on 127.0.0.1:0,
//! a typed HTTP client, and the real binary for CLI and crash tests.

use mailroom_app::vault::MasterKeys;
use mailroom_app::{App, Principal, RequestCtx};
use mailroom_domain::auth::Role;
use mailroom_domain::vault::Keyring;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs the test body once per backend.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::support::Backend::Postgres).await
            }
        }
    )*};
}

/// The master key every test database is encrypted with (`ID:BASE64`).
pub const TEST_MASTER_KEY: &str = "test-1:dGVzdCBtYXN0ZXIga2V5OiAzMiBieXRlcyBsb25nISE=";

pub fn test_keys() -> MasterKeys {
    MasterKeys::given(Keyring::parse(TEST_MASTER_KEY).expect("test key"))
}

/// The app on `url` with the test master key.
pub async fn open_app(url: &str) -> App {
    App::open_with(url, Some(test_keys())).await.expect("open app")
}

pub fn pg_admin_url() -> String {
    std::env::var("MAILROOM_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A fresh, empty database. SQLite files live in a temp dir; PostgreSQL databases are dropped
/// by [`TestDb::cleanup`].
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// `None` when PostgreSQL is not reachable and we are not in CI (where that is a failure).
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                Some(TestDb { url, backend, pg_name: None, _dir: Some(dir) })
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let admin = pg_admin_url();
                let mut conn = match sqlx::PgConnection::connect(&admin).await {
                    Ok(c) => c,
                    Err(e) => {
                        if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
                            panic!("PostgreSQL is required in CI but unreachable at {admin}: {e}");
                        }
                        eprintln!("SKIPPED: PostgreSQL unreachable at {admin}: {e}");
                        return None;
                    }
                };
                let name = format!("mr_it_{}", uuid::Uuid::now_v7().simple());
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
                Some(TestDb { url: format!("{base}/{name}"), backend, pg_name: Some(name), _dir: None })
            }
        }
    }

    pub async fn cleanup(self) {
        if let Some(name) = &self.pg_name {
            use sqlx::Connection;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut conn)
                    .await;
            }
        }
    }

    /// Runs raw SQL against the database, bypassing the application (tamper tests).
    pub async fn exec(&self, sql: &str) -> Result<(), String> {
        use sqlx::Connection;
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.map_err(|e| e.to_string())?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                    .execute(&mut c)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.map_err(|e| e.to_string())?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                    .execute(&mut c)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// The first column of the first row of a query, as i64.
    pub async fn scalar(&self, sql: &str) -> i64 {
        use sqlx::{Connection, Row};
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.expect("connect");
                sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_one(&mut c)
                    .await
                    .expect("query")
                    .get::<i64, _>(0)
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.expect("connect");
                sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_one(&mut c)
                    .await
                    .expect("query")
                    .get::<i64, _>(0)
            }
        }
    }
}

/// A tenant with a site, locations, a department, people and one user per role.
pub struct Fixture {
    pub app: App,
    pub tenant: mailroom_app::store::Tenant,
    pub admin: Principal,
    pub staff: Principal,
    pub employee: Principal,
    pub dept: mailroom_app::store::Department,
    pub person: mailroom_app::store::Person,
    pub other_person: mailroom_app::store::Person,
    pub shelf: mailroom_app::store::Location,
    pub secure: mailroom_app::store::Location,
}

pub const PASSWORD: &str = "correct horse battery";

pub fn ctx() -> RequestCtx {
    RequestCtx { source: "127.0.0.1".into(), request_id: "test".into() }
}

impl Fixture {
    pub async fn new(app: App, slug: &str) -> Fixture {
        use mailroom_app::directory::{DepartmentInput, LocationInput, PersonInput};
        let tenant = app.create_tenant(slug, &format!("Tenant {slug}")).await.expect("tenant");
        let admin_user =
            app.create_user(tenant.id, "admin", "Admin", PASSWORD, Role::Admin, None).await.expect("admin");
        let admin = Principal {
            tenant_id: tenant.id,
            home_tenant_id: tenant.id,
            user_id: admin_user.id,
            login: "admin".into(),
            display_name: "Admin".into(),
            role: Role::Admin,
            person_id: None,
            department_id: None,
            clearance: 3,
            site_id: None,
        };
        app.store.set_user_clearance(tenant.id, admin_user.id, 3).await.expect("clearance");
        let site = app.create_site(&admin, &ctx(), "HQ", Some("上海")).await.expect("site");
        let shelf = app
            .create_location(
                &admin,
                &ctx(),
                &LocationInput {
                    site_id: site.id,
                    code: "S1".into(),
                    name: "Shelf".into(),
                    kind: None,
                    security_level: Some(0),
                },
            )
            .await
            .expect("shelf");
        let secure = app
            .create_location(
                &admin,
                &ctx(),
                &LocationInput {
                    site_id: site.id,
                    code: "SEC".into(),
                    name: "Secure".into(),
                    kind: Some("secure_room".into()),
                    security_level: Some(3),
                },
            )
            .await
            .expect("secure");
        let dept = app
            .create_department(
                &admin,
                &ctx(),
                &DepartmentInput {
                    code: "FIN".into(),
                    name: "财务部".into(),
                    name_en: Some("Finance".into()),
                    kind: None,
                    parent_id: None,
                    key_contact_id: None,
                    email: None,
                },
            )
            .await
            .expect("dept");
        let person = app
            .create_person(
                &admin,
                &ctx(),
                &PersonInput {
                    name: "张伟杰".into(),
                    name_latin: Some("Zhang Weijie".into()),
                    aliases: vec!["WJ".into()],
                    employee_no: Some("E1".into()),
                    department_id: Some(dept.id),
                    email: Some("wj@example.cn".into()),
                    phone: None,
                    active: None,
                    forwarding: None,
                },
            )
            .await
            .expect("person");
        let other_person = app
            .create_person(
                &admin,
                &ctx(),
                &PersonInput {
                    name: "Emily Carter".into(),
                    name_latin: None,
                    aliases: vec![],
                    employee_no: Some("E2".into()),
                    department_id: None,
                    email: None,
                    phone: None,
                    active: None,
                    forwarding: None,
                },
            )
            .await
            .expect("other person");
        let staff_user =
            app.create_user(tenant.id, "clerk", "Clerk", PASSWORD, Role::Staff, None).await.expect("clerk");
        let emp_user = app
            .create_user(tenant.id, "employee", "Emp", PASSWORD, Role::Employee, Some(person.id))
            .await
            .expect("employee");
        app.store.set_user_clearance(tenant.id, staff_user.id, 3).await.expect("clearance");
        let staff = Principal { user_id: staff_user.id, login: "clerk".into(), role: Role::Staff, ..admin.clone() };
        let employee = Principal {
            user_id: emp_user.id,
            login: "employee".into(),
            role: Role::Employee,
            person_id: Some(person.id),
            department_id: Some(dept.id),
            clearance: 0,
            ..admin.clone()
        };
        Fixture { app, tenant, admin, staff, employee, dept, person, other_person, shelf, secure }
    }
}

/// The app and HTTP server on a fresh database.
pub struct TestServer {
    pub db: TestDb,
    pub app: App,
    pub base: String,
    pub fx: Fixture,
    pub http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// How a test server is configured beyond the defaults.
#[derive(Default)]
pub struct ServerOptions {
    pub policy: Option<mailroom_app::security::SecurityPolicy>,
    pub secure_cookies: bool,
    pub trusted_proxies: Vec<mailroom_app::outbound::IpRange>,
    /// Send notices as this says, with the dispatcher and a job runner running in the server.
    pub notify: Option<mailroom_app::notify::NotifyConfig>,
    /// The font file for PDF documents (else `MAILROOM_PDF_FONT` or the system's).
    pub pdf_font: Option<std::path::PathBuf>,
}

impl TestServer {
    pub async fn start(backend: Backend) -> Option<TestServer> {
        Self::start_with(backend, ServerOptions::default()).await
    }

    pub async fn start_with(backend: Backend, opts: ServerOptions) -> Option<TestServer> {
        let db = TestDb::new(backend).await?;
        let mut app = open_app(&db.url).await;
        if let Some(policy) = opts.policy {
            app = app.with_security(policy);
        }
        let background = opts.notify.is_some();
        if let Some(n) = opts.notify {
            app = app.with_notifier(n).expect("notifier");
        }
        let fx = Fixture::new(app.clone(), "acme").await;
        if background {
            let runner = mailroom_app::jobs::runner(app.clone(), "test-node").spawn();
            let dispatcher = mailroom_app::notify::spawn_dispatcher(app.clone());
            // They end with the test's runtime.
            std::mem::forget(runner);
            drop(dispatcher);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let mut state = mailroom_web::AppState::new(app.clone());
        state.secure_cookies = opts.secure_cookies;
        state.trusted_proxies = opts.trusted_proxies;
        state.pdf_font = opts.pdf_font;
        tokio::spawn(async move {
            let _ = mailroom_web::serve(state, listener, async {
                let _ = rx.await;
            })
            .await;
        });
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Some(TestServer { db, app, base, fx, http, shutdown: Some(tx) })
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.db.cleanup().await;
    }

    pub async fn token(&self, login: &str) -> String {
        self.app.create_token(&self.fx.tenant.slug, login).await.expect("token")
    }

    pub fn client(&self, token: &str) -> Client {
        Client { http: self.http.clone(), base: self.base.clone(), token: Some(token.to_string()) }
    }

    pub fn anonymous(&self) -> Client {
        Client { http: self.http.clone(), base: self.base.clone(), token: None }
    }
}

/// A typed client for the JSON API.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub content_type: String,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "status; body: {}", self.text);
        assert!(self.content_type.starts_with("application/problem+json"), "content type {}", self.content_type);
        assert_eq!(self.code(), code, "code; body: {}", self.text);
        assert!(self.body["request_id"].is_string());
    }
}

impl Client {
    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        r
    }

    pub async fn send(&self, r: reqwest::RequestBuilder) -> Resp {
        let res = r.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, content_type, body, text }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.req(reqwest::Method::GET, path)).await
    }
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.req(reqwest::Method::POST, path).json(body)).await
    }
    pub async fn post_with(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Resp {
        let mut r = self.req(reqwest::Method::POST, path).json(body);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        self.send(r).await
    }
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
        self.send(self.req(reqwest::Method::POST, path).header("content-type", content_type).body(body)).await
    }
    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(self.req(reqwest::Method::PUT, path).json(body)).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.req(reqwest::Method::DELETE, path)).await
    }
}

/// The compiled `mailroom` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mailroom"))
}

/// Runs the CLI and returns (exit code, stdout, stderr).
pub fn cli(args: &[&str]) -> (i32, String, String) {
    cli_env(args, &[("MAILROOM_MASTER_KEY", TEST_MASTER_KEY)])
}

/// Runs the CLI with these environment variables (and no other database or key settings).
pub fn cli_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(bin());
    cmd.args(args).env_remove("MAILROOM_DB").env_remove("MAILROOM_MASTER_KEY").env_remove("MAILROOM_MASTER_KEY_FILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run mailroom");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the CLI (with only these key settings) for a command that must exit by itself, e.g. a
/// server that refuses to start; fails the test if it is still running after 60 s.
pub fn run_with_timeout(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    use std::io::Read;
    let mut cmd = std::process::Command::new(bin());
    cmd.args(args)
        .env_remove("MAILROOM_DB")
        .env_remove("MAILROOM_MASTER_KEY")
        .env_remove("MAILROOM_MASTER_KEY_FILE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run mailroom");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("mailroom {args:?} did not exit");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    (status.code().unwrap_or(-1), out, err)
}

/// A 1×1 PNG as a data URL (a valid signature).
pub fn png_signature() -> String {
    use base64::Engine;
    let png: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00,
        0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x60, 0x60, 0x60, 0x00, 0x00, 0x00, 0x05, 0x00, 0x01,
        0xa5, 0xf6, 0x45, 0x40, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];
    format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png))
}

impl TestServer {
    /// Creates a user with `role` in the fixture's organisation and returns an API token.
    pub async fn user_with_role(
        &self,
        login: &str,
        role: Role,
        person: Option<mailroom_domain::ids::PersonId>,
    ) -> String {
        self.app.create_user(self.fx.tenant.id, login, login, PASSWORD, role, person).await.expect("user");
        self.token(login).await
    }

    /// A console session of a user, as a browser would hold it.
    pub async fn browser(&self, tenant: &str, login: &str) -> Browser {
        let (secret, session) = self.app.login(tenant, login, PASSWORD, "en").await.expect("login");
        Browser {
            http: self.http.clone(),
            base: self.base.clone(),
            cookies: vec![format!("mr_session={secret}")],
            csrf: session.csrf_token,
        }
    }
}

/// A console session: the session cookie (and any other cookies) and its CSRF token.
#[derive(Clone)]
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: Vec<String>,
    pub csrf: String,
}

/// A console response.
pub struct Page {
    pub status: u16,
    pub location: String,
    pub set_cookie: Vec<String>,
    pub text: String,
}

impl Browser {
    pub fn with_cookie(&self, cookie: &str) -> Browser {
        let mut b = self.clone();
        b.cookies.push(cookie.to_string());
        b
    }

    pub async fn send(&self, method: &str, path: &str, form: &[(&str, &str)]) -> Page {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut r = self.http.request(method.clone(), format!("{}{}", self.base, path));
        if !self.cookies.is_empty() {
            r = r.header("cookie", self.cookies.join("; "));
        }
        if method == reqwest::Method::POST {
            let mut fields: Vec<(String, String)> = vec![("csrf".into(), self.csrf.clone())];
            fields.extend(form.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            let body = fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
            r = r.header("content-type", "application/x-www-form-urlencoded").body(body);
        }
        let res = r.send().await.expect("request");
        let status = res.status().as_u16();
        let location = res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let set_cookie =
            res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect();
        let text = res.text().await.expect("body");
        Page { status, location, set_cookie, text }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send("GET", path, &[]).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send("POST", path, form).await
    }
}

/// Percent-encodes a form or query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    /// The same client, acting in another organisation (the `X-Tenant` header).
    pub fn acting_in(&self, tenant: &str) -> TenantClient {
        TenantClient { inner: self.clone(), tenant: tenant.to_string() }
    }

    /// Sends any method with an optional JSON body and extra headers.
    pub async fn request(&self, method: &str, path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Resp {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut r = self.req(m, path);
        if let Some(b) = body {
            r = r.json(b);
        }
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        self.send(r).await
    }
}

/// A client that sends `X-Tenant` with every request.
pub struct TenantClient {
    pub inner: Client,
    pub tenant: String,
}

impl TenantClient {
    pub async fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        self.inner.request(method, path, body, &[("x-tenant", &self.tenant)]).await
    }
    pub async fn get(&self, path: &str) -> Resp {
        self.request("GET", path, None).await
    }
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.request("POST", path, Some(body)).await
    }
}

/// A real SMTP server process (`scripts/smtp-sink.py`, Python aiosmtpd) that writes every
/// message it accepts to a directory, parsed by Python's e-mail package into `N.json`.
pub struct SmtpSink {
    child: std::process::Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    /// `None` when python3 with aiosmtpd is missing and we are not in CI (where that fails).
    pub fn start() -> Option<SmtpSink> {
        Self::start_on(0, tempfile::tempdir().expect("tempdir"))
    }

    /// A sink on a given port (0: any), writing into `dir`.
    pub fn start_on(port: u16, dir: tempfile::TempDir) -> Option<SmtpSink> {
        use std::io::BufRead;
        let ok = std::process::Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("python3 with aiosmtpd is needed for the notification tests (python3 -m pip install aiosmtpd)");
            }
            eprintln!("SKIPPED: python3 with aiosmtpd is not installed");
            return None;
        }
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp-sink.py");
        let mut child = std::process::Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("start smtp-sink.py");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("sink output");
        let port =
            line.trim().rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("sink said {line:?}"));
        Some(SmtpSink { child, port, dir })
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// Stops the server, keeping what it received; [`SmtpSink::restart`] brings it back.
    pub fn stop(mut self) -> (u16, tempfile::TempDir) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
        (self.port, dir)
    }

    /// Every message received so far, in order (the parsed `N.json` files).
    pub fn messages(&self) -> Vec<Value> {
        let mut n = 1;
        let mut out = Vec::new();
        loop {
            let p = self.dir.path().join(format!("{n}.json"));
            let Ok(bytes) = std::fs::read(&p) else { break };
            out.push(serde_json::from_slice(&bytes).expect("sink json"));
            n += 1;
        }
        out
    }

    /// Waits until at least `n` messages arrived (up to `secs` seconds), then returns them all.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Value> {
        let start = std::time::Instant::now();
        loop {
            let m = self.messages();
            if m.len() >= n || start.elapsed() > std::time::Duration::from_secs(secs) {
                return m;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// The text of a sink message's part of `content_type` (`text/plain`, `text/html`).
pub fn mail_part(m: &Value, content_type: &str) -> String {
    m["parts"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["content_type"] == content_type))
        .and_then(|p| p["text"].as_str())
        .unwrap_or("")
        .to_string()
}

/// What an HTTP receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A real HTTP server on 127.0.0.1 that records every request; answers 200 `{"errcode":0,"code":0}`,
/// or 503 while `fail` is above zero (counting down).
pub struct Receiver {
    pub base: String,
    pub got: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    pub fail: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        use axum::extract::State as S;
        type Shared = (std::sync::Arc<std::sync::Mutex<Vec<Received>>>, std::sync::Arc<std::sync::atomic::AtomicUsize>);
        async fn record(
            S((got, fail)): S<Shared>,
            uri: axum::http::Uri,
            headers: axum::http::HeaderMap,
            body: axum::body::Bytes,
        ) -> (axum::http::StatusCode, &'static str) {
            use std::sync::atomic::Ordering;
            // One atomic step: two requests arriving together must not both take the last refusal.
            if fail.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
                return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy");
            }
            got.lock().expect("lock").push(Received {
                path: uri.to_string(),
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                    .collect(),
                body: body.to_vec(),
            });
            (axum::http::StatusCode::OK, "{\"errcode\":0,\"code\":0,\"StatusCode\":0}")
        }
        let got: std::sync::Arc<std::sync::Mutex<Vec<Received>>> = Default::default();
        let fail: std::sync::Arc<std::sync::atomic::AtomicUsize> = Default::default();
        let app = axum::Router::new().fallback(axum::routing::any(record)).with_state((got.clone(), fail.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { base, got, fail }
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().expect("lock").clone()
    }

    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let start = std::time::Instant::now();
        loop {
            let r = self.received();
            if r.len() >= n || start.elapsed() > std::time::Duration::from_secs(secs) {
                return r;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
