//! `mailroom`: the server and its command-line tools.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use mailroom_app::import::ImportKind;
use mailroom_app::{App, AppError};
use std::io::IsTerminal;
use std::process::ExitCode;

const DEFAULT_DB: &str = "sqlite://mailroom.db";

#[derive(Parser)]
#[command(name = "mailroom", version, about = "Mailroom management: inbound mail, custody and directory")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DbArg {
    /// Database URL: sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    /// Without it: the contents of the file named by MAILROOM_DB_FILE, else sqlite://mailroom.db.
    #[arg(long, env = "MAILROOM_DB")]
    db: Option<String>,
}

impl DbArg {
    fn url(&self) -> Result<String> {
        if let Some(u) = &self.db {
            return Ok(u.clone());
        }
        match std::env::var("MAILROOM_DB_FILE") {
            Ok(path) => Ok(std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read MAILROOM_DB_FILE {path}"))?
                .trim()
                .to_string()),
            Err(_) => Ok(DEFAULT_DB.to_string()),
        }
    }
}

/// Shows a database URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (API, console, health and metrics). Migrations run on start.
    Serve {
        #[command(flatten)]
        db: DbArg,
        /// Address to listen on.
        #[arg(long, env = "MAILROOM_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Seed the demo organisations (idempotent) and print their logins.
        #[arg(long)]
        demo: bool,
        /// Mark cookies Secure and send Strict-Transport-Security (set when served over HTTPS).
        #[arg(long, env = "MAILROOM_SECURE_COOKIES")]
        secure_cookies: bool,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// Create or upgrade the database schema.
    Migrate {
        #[command(flatten)]
        db: DbArg,
    },
    /// Import a CSV file into a tenant's directory: all rows or none.
    Import {
        kind: ImportWhat,
        file: std::path::PathBuf,
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// Client organisations.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Users of an organisation.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Check every tenant's custody log; exit 0 when intact, 1 naming the first broken link.
    Verify {
        #[command(flatten)]
        db: DbArg,
    },
    /// Verify a handover receipt offline: the event, its inclusion proof and the signed checkpoint.
    /// Exit 0 when valid, 1 when not.
    VerifyReceipt {
        file: std::path::PathBuf,
        /// The installation's public key (64 hex digits), obtained separately from the receipt.
        #[arg(long, conflicts_with = "public_key_file")]
        public_key: Option<String>,
        /// A file holding the public key.
        #[arg(long)]
        public_key_file: Option<std::path::PathBuf>,
    },
    /// Custody log: signing key and checkpoints.
    Custody {
        #[command(subcommand)]
        command: CustodyCommand,
    },
    /// Load N synthetic items into the demo organisation (for benchmarks).
    Seed {
        #[arg(long)]
        items: u64,
        #[arg(long, default_value = "demo")]
        tenant: String,
        #[command(flatten)]
        db: DbArg,
    },
}

/// Login throttling, sessions, proxies and outbound targets.
#[derive(clap::Args, Clone)]
struct SecurityArgs {
    /// Failed logins an account may have before it is locked (0: never lock).
    #[arg(long, env = "MAILROOM_LOGIN_MAX_FAILURES", default_value_t = 5)]
    login_max_failures: u32,
    /// First account lockout in seconds; each further failure doubles it.
    #[arg(long, env = "MAILROOM_LOGIN_LOCKOUT_SECS", default_value_t = 60)]
    login_lockout_secs: i64,
    /// Longest account lockout in seconds.
    #[arg(long, env = "MAILROOM_LOGIN_MAX_LOCKOUT_SECS", default_value_t = 3600)]
    login_max_lockout_secs: i64,
    /// Failed logins from one address before it is blocked for the window (0: never).
    #[arg(long, env = "MAILROOM_LOGIN_ADDRESS_MAX_FAILURES", default_value_t = 20)]
    login_address_max_failures: u32,
    /// Failures further apart than this many seconds start the count afresh; also how long an
    /// address stays blocked.
    #[arg(long, env = "MAILROOM_LOGIN_WINDOW_SECS", default_value_t = 900)]
    login_window_secs: i64,
    /// Console sessions end after this many minutes without a request.
    #[arg(long, env = "MAILROOM_SESSION_IDLE_MINUTES", default_value_t = 60)]
    session_idle_minutes: i64,
    /// Reverse proxies (addresses or ranges, comma-separated) whose X-Forwarded-For is trusted.
    #[arg(long, env = "MAILROOM_TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: String,
    /// Private hosts and ranges (comma-separated) that webhooks may call besides public addresses.
    #[arg(long, env = "MAILROOM_OUTBOUND_ALLOW", default_value = "")]
    outbound_allow: String,
}

impl SecurityArgs {
    fn policy(&self) -> Result<mailroom_app::security::SecurityPolicy> {
        use mailroom_domain::throttle::ThrottleRule;
        let window = self.login_window_secs.max(1);
        Ok(mailroom_app::security::SecurityPolicy {
            account: ThrottleRule {
                max_failures: self.login_max_failures,
                window_secs: window,
                lockout_secs: self.login_lockout_secs.max(1),
                max_lockout_secs: self.login_max_lockout_secs.max(self.login_lockout_secs.max(1)),
            },
            address: ThrottleRule {
                max_failures: self.login_address_max_failures,
                window_secs: window,
                lockout_secs: window,
                max_lockout_secs: window,
            },
            session_idle_secs: self.session_idle_minutes.max(1) * 60,
            session_hours: mailroom_app::auth::SESSION_HOURS,
            outbound: mailroom_app::outbound::OutboundPolicy::parse(&self.outbound_allow)
                .context("MAILROOM_OUTBOUND_ALLOW")?,
        })
    }

    fn trusted_proxies(&self) -> Result<Vec<mailroom_app::outbound::IpRange>> {
        self.trusted_proxies
            .split([',', ' '])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                mailroom_app::outbound::IpRange::parse(p)
                    .with_context(|| format!("MAILROOM_TRUSTED_PROXIES: {p:?} is not an address or range"))
            })
            .collect()
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum ImportWhat {
    People,
    Departments,
}

#[derive(Subcommand)]
enum CustodyCommand {
    /// Print the installation's public key (64 hex digits) that receipts verify against.
    PublicKey {
        #[command(flatten)]
        db: DbArg,
    },
    /// Sign a checkpoint for every organisation whose log grew since its last one.
    Checkpoint {
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create an organisation.
    Create {
        /// Short identifier used at login and in the CLI, e.g. `acme`.
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// List organisations.
    List {
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Lift a user's login lockout after repeated failed logins (recorded in the audit log).
    Unlock {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// Create a user. The password is read from MAILROOM_PASSWORD or, if unset, from the first line of stdin.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
        /// admin, staff or employee
        #[arg(long)]
        role: String,
        /// Display name (defaults to the login).
        #[arg(long)]
        name: Option<String>,
        /// Employee number of the user's directory entry (for "my mail").
        #[arg(long)]
        employee_no: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it (it is stored hashed and shown only once).
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        user: String,
        /// What the token is for, e.g. "scanner 2F".
        #[arg(long)]
        name: Option<String>,
        /// full (default), scanner (register and look up items) or read_only.
        #[arg(long)]
        scope: Option<String>,
        /// A narrower role than the user's: staff or employee.
        #[arg(long)]
        role: Option<String>,
        /// Lifetime such as 90d, 12h or 30m; without it the token lasts until revoked.
        #[arg(long)]
        expires_in: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// List API tokens (never their secrets).
    List {
        /// Only this organisation's.
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// Revoke an API token by id; requests made with it then answer 401.
    Revoke {
        id: String,
        #[command(flatten)]
        db: DbArg,
    },
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("MAILROOM_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("MAILROOM_LOG_FORMAT").map(|v| v == "json").unwrap_or(false);
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        b.json().init();
    } else {
        b.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

fn describe(e: &AppError) -> String {
    match e {
        AppError::Rows(rows) => {
            let mut s = format!("{} invalid rows; nothing was imported:", rows.len());
            for r in rows {
                s.push_str(&format!("\n  line {}: {}", r.line, r.reason));
            }
            s
        }
        other => other.to_string(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve { .. }) {
        init_logging();
    }
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn open(db: &DbArg) -> Result<App> {
    let url = db.url()?;
    App::open(&url)
        .await
        .map_err(|e| anyhow::anyhow!(describe(&e)))
        .with_context(|| format!("cannot open {}", redact(&url)))
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve { db, addr, demo, secure_cookies, security } => {
            serve(db, addr, demo, secure_cookies, security).await
        }
        Command::Migrate { db } => {
            open(&db).await?;
            println!("database is up to date ({})", redact(&db.url()?));
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { kind, file, tenant, db } => import(kind, file, tenant, db).await,
        Command::Tenant { command: TenantCommand::Create { slug, name, db } } => {
            let app = open(&db).await?;
            let t = app.create_tenant(&slug, &name).await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("created organisation {} ({})", t.slug, t.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Tenant { command: TenantCommand::List { db } } => {
            let app = open(&db).await?;
            for t in app.store.list_tenants().await.map_err(|e| anyhow::anyhow!(e.to_string()))? {
                println!("{}\t{}\t{}", t.slug, t.id, t.name);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command: UserCommand::Create { tenant, login, role, name, employee_no, db } } => {
            let role =
                mailroom_domain::auth::Role::parse_field("role", &role).map_err(|e| anyhow::anyhow!(e.message))?;
            let password = match std::env::var("MAILROOM_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line).context("cannot read the password from stdin")?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let app = open(&db).await?;
            let t = app
                .store
                .tenant_by_slug(&tenant)
                .await
                .map_err(|e| anyhow::anyhow!(e.to_string()))?
                .with_context(|| format!("no organisation with slug {tenant:?}"))?;
            let person_id = match employee_no {
                None => None,
                Some(no) => Some(
                    app.store
                        .person_by_employee_no(t.id, &no)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.to_string()))?
                        .with_context(|| format!("no person with employee number {no:?} in {tenant}"))?
                        .id,
                ),
            };
            let display = name.unwrap_or_else(|| login.clone());
            let u = app
                .create_user_checked(t.id, &login, &display, &password, role, person_id)
                .await
                .map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("created user {} ({}) in {}", u.login, u.role, tenant);
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command: UserCommand::Unlock { tenant, login, db } } => {
            let app = open(&db).await?;
            app.unlock_login(&tenant, &login).await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("unlocked {login} in {tenant}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { command: TokenCommand::Create { tenant, user, name, scope, role, expires_in, db } } => {
            let input = mailroom_app::tokens::TokenInput { name, user_id: None, role, scope, expires_in };
            let spec = mailroom_app::tokens::TokenSpec::from_input(&input).map_err(|e| anyhow::anyhow!(e.message))?;
            let app = open(&db).await?;
            let created =
                app.create_token_with(&tenant, &user, &spec).await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
            let t = &created.token;
            eprintln!(
                "created token {} for {user} in {tenant}: scope {}, role {}, {}",
                t.id,
                t.scope,
                t.role.map_or("as the user".to_string(), |r| r.to_string()),
                t.expires_at.map_or("no expiry".to_string(), |e| format!("expires {}", e.to_rfc3339()))
            );
            println!("{}", created.secret.unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { command: TokenCommand::List { tenant, db } } => {
            let app = open(&db).await?;
            let err = |e: AppError| anyhow::anyhow!(describe(&e));
            let tenants = app.store.list_tenants().await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
            let only = match &tenant {
                Some(slug) => Some(
                    tenants
                        .iter()
                        .find(|t| &t.slug == slug)
                        .with_context(|| format!("no organisation with slug {slug:?}"))?
                        .id,
                ),
                None => None,
            };
            println!("id\torganisation\tuser\tname\tscope\trole\tcreated\texpires\tlast_used\tstatus");
            let now = app.clock.now();
            for tok in app.tokens_of(only).await.map_err(err)? {
                let slug = tenants.iter().find(|t| t.id == tok.tenant_id).map_or("?", |t| t.slug.as_str());
                let login = app
                    .store
                    .user(tok.tenant_id, tok.user_id)
                    .await
                    .map_err(|e| anyhow::anyhow!(e.to_string()))?
                    .map_or_else(|| tok.user_id.to_string(), |u| u.login);
                let status = if tok.revoked_at.is_some() {
                    "revoked"
                } else if tok.expires_at.is_some_and(|e| e <= now) {
                    "expired"
                } else {
                    "active"
                };
                let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or("-".to_string(), |t| t.to_rfc3339());
                println!(
                    "{}\t{slug}\t{login}\t{}\t{}\t{}\t{}\t{}\t{}\t{status}",
                    tok.id,
                    if tok.name.is_empty() { "-" } else { &tok.name },
                    tok.scope,
                    tok.role.map_or("-".to_string(), |r| r.to_string()),
                    tok.created_at.to_rfc3339(),
                    time(tok.expires_at),
                    time(tok.last_used_at),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { command: TokenCommand::Revoke { id, db } } => {
            let id: mailroom_domain::ids::TokenId =
                id.trim().parse().map_err(|_| anyhow::anyhow!("{id:?} is not a token id"))?;
            let app = open(&db).await?;
            let tok = app.revoke_token_by_id(id).await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("revoked token {}", tok.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { db } => {
            let app = open(&db).await?;
            let verdicts = app.verify_custody().await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
            let mut ok = true;
            for v in &verdicts {
                match &v.broken {
                    None => println!(
                        "ok      {}: {} custody events, chain intact, {} signed checkpoints",
                        v.tenant, v.events, v.checkpoints
                    ),
                    Some(b) => println!("BROKEN  {}: {b}", v.tenant),
                }
                for bad in &v.bad_checkpoints {
                    println!("BROKEN  {}: {bad}", v.tenant);
                }
                ok &= v.ok();
            }
            if ok {
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("custody log verification failed");
                Ok(ExitCode::from(1))
            }
        }
        Command::VerifyReceipt { file, public_key, public_key_file } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let key_text = match (public_key, public_key_file) {
                (Some(k), _) => Some(k),
                (None, Some(f)) => {
                    Some(std::fs::read_to_string(&f).with_context(|| format!("cannot read {}", f.display()))?)
                }
                (None, None) => None,
            };
            let trusted = match &key_text {
                Some(k) => Some(
                    mailroom_domain::receipt::parse_public_key(k)
                        .context("the public key must be 64 lowercase hex digits")?,
                ),
                None => None,
            };
            match mailroom_domain::receipt::verify_receipt(&bytes, trusted.as_ref()) {
                Ok(r) => {
                    println!(
                        "valid: event #{} ({}) of {} at {}, by {}, in a log of {} events signed by key {}",
                        r.event.seq,
                        r.event.kind,
                        r.event.tenant_id,
                        r.event.at,
                        r.event.actor_name,
                        r.checkpoint.tree_size,
                        r.checkpoint.key_id
                    );
                    if trusted.is_none() {
                        println!("note: no --public-key given; checked against the key named in the receipt itself");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("INVALID: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Custody { command: CustodyCommand::PublicKey { db } } => {
            let app = open(&db).await?;
            println!("{}", app.public_key_hex().await.map_err(|e| anyhow::anyhow!(describe(&e)))?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Custody { command: CustodyCommand::Checkpoint { db } } => {
            let app = open(&db).await?;
            let n = app.checkpoint_all().await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("signed {n} new checkpoints");
            Ok(ExitCode::SUCCESS)
        }
        Command::Seed { items, tenant, db } => {
            let app = open(&db).await?;
            let start = std::time::Instant::now();
            let n = app.seed_bulk(&tenant, items).await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("loaded {n} items into {tenant} in {:.1}s", start.elapsed().as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn import(kind: ImportWhat, file: std::path::PathBuf, tenant: String, db: DbArg) -> Result<ExitCode> {
    let data = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let app = open(&db).await?;
    let t = app
        .store
        .tenant_by_slug(&tenant)
        .await
        .map_err(|e| anyhow::anyhow!(e.to_string()))?
        .with_context(|| format!("no organisation with slug {tenant:?}"))?;
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} rows") {
            b.set_style(style.progress_chars("=> "));
        }
        b.set_message("checking");
        Some(b)
    } else {
        None
    };
    let progress = |done: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
        }
    };
    let kind = match kind {
        ImportWhat::People => ImportKind::People,
        ImportWhat::Departments => ImportKind::Departments,
    };
    let result = app.import_csv(t.id, &mailroom_app::operator(), kind, &data, &progress).await;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match result {
        Ok(r) => {
            println!("imported {}: {} created, {} updated", file.display(), r.created, r.updated);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => bail!("{}: {}", file.display(), describe(&e)),
    }
}

async fn serve(db: DbArg, addr: String, demo: bool, secure_cookies: bool, security: SecurityArgs) -> Result<ExitCode> {
    let policy = security.policy()?;
    let trusted_proxies = security.trusted_proxies()?;
    let app = open(&db).await?.with_security(policy);
    if demo {
        let created = app.seed_demo().await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
        tracing::info!(created, "demo data ready");
    }
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    println!("mailroom listening on http://{local}/ (database: {})", redact(&db.url()?));
    if demo {
        println!("demo logins (password {}):", mailroom_app::demo::DEMO_PASSWORD);
        for (tenant, login, role) in mailroom_app::demo::DEMO_LOGINS {
            println!("  organisation {tenant:<14} login {login:<9} ({role})");
        }
    }
    let interval = std::env::var("MAILROOM_CHECKPOINT_SECS").ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(600);
    let checkpointer = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(interval.max(1)));
        tick.tick().await;
        loop {
            tick.tick().await;
            match checkpointer.checkpoint_all().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(checkpoints = n, "signed custody checkpoints"),
                Err(e) => tracing::error!(error = %e, "custody checkpointing failed"),
            }
        }
    });
    let mut state = mailroom_web::AppState::new(app);
    state.secure_cookies = secure_cookies;
    state.trusted_proxies = trusted_proxies;
    mailroom_web::serve(state, listener, shutdown_signal()).await?;
    tracing::info!("shut down cleanly");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
