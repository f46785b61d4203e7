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
        /// Mark cookies Secure (set when served over HTTPS).
        #[arg(long, env = "MAILROOM_SECURE_COOKIES")]
        secure_cookies: bool,
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
    /// Identify the carrier and service of tracking numbers or scanned barcodes and verify their
    /// check digits. Prints one JSON object per input; without INPUT, reads one input per line
    /// from stdin. Unrecognised codes are answers too: the exit status is 0 unless I/O fails.
    Carrier {
        /// Codes as scanned or typed (quote those with spaces).
        inputs: Vec<String>,
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
        Command::Serve { db, addr, demo, secure_cookies } => serve(db, addr, demo, secure_cookies).await,
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
        Command::Token { command: TokenCommand::Create { tenant, user, db } } => {
            let app = open(&db).await?;
            let token = app.create_token(&tenant, &user).await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("{token}");
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
        Command::Carrier { inputs } => carrier(&inputs),
        Command::Seed { items, tenant, db } => {
            let app = open(&db).await?;
            let start = std::time::Instant::now();
            let n = app.seed_bulk(&tenant, items).await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("loaded {n} items into {tenant} in {:.1}s", start.elapsed().as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `mailroom carrier`: one JSON line per input, from the arguments or from stdin.
fn carrier(inputs: &[String]) -> Result<ExitCode> {
    use std::io::{BufRead, Write};
    let interactive = std::io::stdin().is_terminal();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut emit = |input: &str| -> Result<()> {
        let detection = mailroom_domain::carrier::detect(input);
        serde_json::to_writer(&mut out, &detection).context("cannot write the answer")?;
        out.write_all(b"\n").context("cannot write the answer")?;
        if interactive {
            out.flush().context("cannot write the answer")?;
        }
        Ok(())
    };
    if inputs.is_empty() {
        let mut stdin = std::io::stdin().lock();
        let mut line = Vec::new();
        loop {
            line.clear();
            if stdin.read_until(b'\n', &mut line).context("cannot read stdin")? == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\r', '\n']);
            if !text.trim().is_empty() {
                emit(text)?;
            }
        }
    } else {
        for input in inputs {
            emit(input)?;
        }
    }
    out.flush().context("cannot write the answer")?;
    Ok(ExitCode::SUCCESS)
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
    let result = app.import_csv(t.id, kind, &data, &progress).await;
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

async fn serve(db: DbArg, addr: String, demo: bool, secure_cookies: bool) -> Result<ExitCode> {
    let app = open(&db).await?;
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
