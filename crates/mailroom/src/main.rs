//! `mailroom`: the server and its command-line tools.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use mailroom_app::import::ImportKind;
use mailroom_app::vault::MasterKeys;
use mailroom_app::{App, AppError};
use mailroom_domain::custody::Actor;
use mailroom_domain::item::Category;
use std::io::IsTerminal;
use std::process::ExitCode;

mod config;
mod rules_cli;

const DEFAULT_DB: &str = "sqlite://mailroom.db";

#[derive(Parser)]
#[command(name = "mailroom", version, about = "Mailroom management: inbound mail, custody and directory")]
struct Cli {
    /// Configuration file (TOML; keys are MAILROOM_* settings without the prefix). The
    /// environment overrides it. See docs/OPERATIONS.md.
    #[arg(long, global = true, env = "MAILROOM_CONFIG", value_name = "FILE")]
    config: Option<String>,
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
        /// SDR rates for customs declarations over the defaults: `USD=0.74,EUR=0.85` (SDR per unit).
        #[arg(long, env = "MAILROOM_SDR_RATES", default_value = "")]
        sdr_rates: String,
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
    /// Encryption at rest: master keys and data keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Retention policies and crypto-shredding of expired attachments.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Classification and routing rules: validate a rule set, run rule fixtures.
    Rules {
        #[command(subcommand)]
        command: rules_cli::RulesCommand,
    },
    /// Identify the carrier and service of tracking numbers or scanned barcodes and verify their
    /// check digits. Prints one JSON object per input; without INPUT, reads one input per line
    /// from stdin. Unrecognised codes are answers too: the exit status is 0 unless I/O fails.
    Carrier {
        /// Codes as scanned or typed (quote those with spaces).
        inputs: Vec<String>,
    },
    /// Read every barcode in label photos (PNG or JPEG): prints one JSON object per file,
    /// `{"file", "barcodes": [{"symbology", "text", "carrier"}]}` with the carrier recognition of
    /// each text (as `mailroom carrier` prints it), or `{"file", "error"}` for a file that cannot
    /// be read; exits 1 if any could not. Needs no database.
    ScanImage {
        /// Image files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// International addresses: check an address or a postal code against the destination
    /// country's postal rules and print the label lines.
    Address {
        #[command(subcommand)]
        command: AddressCommand,
    },
    /// Customs declarations: the CN22/CN23 form, line checks, restricted goods.
    Customs {
        #[command(subcommand)]
        command: CustomsCommand,
    },
    /// Printable PDFs for outbound mail: the address label and the CN22/CN23 customs form.
    /// Needs no database; needs a CJK font (`MAILROOM_PDF_FONT`, see docs/PDF.md).
    Pdf {
        #[command(subcommand)]
        command: PdfCommand,
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

#[derive(Subcommand)]
enum AddressCommand {
    /// Print a JSON verdict: `valid`, `problems`, the normalised `fields`, the label `lines` and
    /// their `latin_lines`. Exit 0 when valid, 1 when not, 2 on usage errors. Needs no database.
    Check {
        /// Destination: ISO 3166-1 code (`CN`, `GBR`), English or Chinese name (`Japan`, `中国`).
        #[arg(long)]
        country: String,
        /// A postal code to check (alone or with --text).
        #[arg(long)]
        postal_code: Option<String>,
        /// The address as free text (lines separated by new lines or commas).
        #[arg(long)]
        text: Option<String>,
    },
}

#[derive(Subcommand)]
enum CustomsCommand {
    /// Check a declaration (JSON, as `POST /api/v1/customs/check` takes it) from FILE or stdin
    /// (`-`). Prints the JSON verdict; exit 0 when the item may be accepted for dispatch, 1
    /// when not, 2 on usage errors. Needs no database.
    Check {
        /// The declaration file; `-` or nothing reads stdin.
        file: Option<std::path::PathBuf>,
        /// SDR rates over the defaults: `USD=0.74,EUR=0.85` (SDR per unit).
        #[arg(long, env = "MAILROOM_SDR_RATES", default_value = "")]
        sdr_rates: String,
    },
}

#[derive(Subcommand)]
enum PdfCommand {
    /// The address label (100 × 150 mm) from JSON as `POST /api/v1/pdf/label` takes it:
    /// `{"reference", "sender", "recipient", "method", "weight_g"}`, the addresses as for
    /// `mailroom address check`. Exit 0 written, 1 refused (why on stderr), 2 usage error,
    /// 3 no font.
    Label {
        /// The JSON file; `-` reads stdin.
        #[arg(long)]
        json: std::path::PathBuf,
        /// Where to write the PDF (written whole or not at all).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// The customs form (CN22 or CN23, as the declaration needs, or `"form": "cn23"`) from JSON
    /// as `POST /api/v1/pdf/customs` takes it: the declaration of `mailroom customs check` plus
    /// the form's other boxes. Exit codes as for `label`.
    Customs {
        /// The JSON file; `-` reads stdin.
        #[arg(long)]
        json: std::path::PathBuf,
        /// Where to write the PDF (written whole or not at all).
        #[arg(long)]
        out: std::path::PathBuf,
        /// SDR rates over the defaults: `USD=0.74,EUR=0.85` (SDR per unit).
        #[arg(long, env = "MAILROOM_SDR_RATES", default_value = "")]
        sdr_rates: String,
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
enum KeysCommand {
    /// Print a new random master key as ID:BASE64, the form MAILROOM_MASTER_KEY_FILE takes.
    Generate {
        /// The key's id (default: mk-DATE-RANDOM).
        #[arg(long)]
        id: Option<String>,
    },
    /// Show the configured master keys and what each wraps, and every organisation's data keys.
    Status {
        #[command(flatten)]
        db: DbArg,
    },
    /// Re-wrap every data key and the signing key under the active (first) master key, and
    /// encrypt anything still stored in plain text. Runs while servers keep serving.
    RotateMaster {
        #[command(flatten)]
        db: DbArg,
    },
    /// Use new data keys for new attachments from now on (existing ones stay readable).
    RotateData {
        /// Only this organisation (default: all).
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// List retention policies.
    List {
        /// Only this organisation (default: all).
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// Destroy a category's attachments DAYS after the day (up to 93 days) or month they were stored.
    Set {
        #[arg(long)]
        tenant: String,
        /// An item category, e.g. patient_report.
        #[arg(long)]
        category: String,
        #[arg(long)]
        days: i64,
        #[command(flatten)]
        db: DbArg,
    },
    /// Remove a category's policy: its attachments are kept indefinitely.
    Unset {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        category: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// Shred the data keys of every expired period now (the server also does this periodically).
    Run {
        /// Only report what would be shredded.
        #[arg(long)]
        dry_run: bool,
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
        /// operator_admin, admin, supervisor, staff, finance, customer_service, auditor or employee
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
    /// Let a user act in another organisation, with a role there and optionally at one site only
    /// (running it again changes the role or site).
    Assign {
        /// The user's own organisation.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
        /// The organisation the user is assigned to.
        #[arg(long)]
        to: String,
        /// The role there: admin, supervisor, staff, finance, customer_service, auditor or employee.
        #[arg(long)]
        role: String,
        /// The name of the only site there the user may act at (default: every site).
        #[arg(long)]
        site: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// End a user's assignment to another organisation.
    Unassign {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        login: String,
        #[arg(long)]
        to: String,
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
        AppError::Internal(msg) => msg.clone(),
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

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The configuration file goes into the environment before any thread exists.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Err(e) = config::load(&args) {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve { .. }) {
        init_logging();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn app_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!(describe(&e))
}

/// Opens the database with the master keys the environment configures, if any.
async fn open(db: &DbArg) -> Result<App> {
    let url = db.url()?;
    let keys = MasterKeys::from_env(&url).map_err(app_err)?;
    open_with(&url, keys).await
}

async fn open_with(url: &str, keys: Option<MasterKeys>) -> Result<App> {
    if let Some(k) = &keys {
        for w in &k.warnings {
            eprintln!("WARNING: {w}");
        }
    }
    App::open_with(url, keys).await.map_err(app_err).with_context(|| format!("cannot open {}", redact(url)))
}

async fn tenant_id(app: &App, slug: &str) -> Result<mailroom_domain::ids::TenantId> {
    Ok(app
        .store
        .tenant_by_slug(slug)
        .await
        .map_err(|e| anyhow::anyhow!(e.to_string()))?
        .with_context(|| format!("no organisation with slug {slug:?}"))?
        .id)
}

fn cli_actor() -> Actor {
    Actor::system("cli", uuid::Uuid::now_v7().to_string())
}

fn parse_category(s: &str) -> Result<Category> {
    Category::parse_field("category", s.trim()).map_err(|e| anyhow::anyhow!(e.message))
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve { db, addr, demo, secure_cookies, sdr_rates, security } => {
            let mut rates = mailroom_domain::customs::RateTable::default();
            rates.apply(&sdr_rates).map_err(|e| anyhow::anyhow!("MAILROOM_SDR_RATES: {e}"))?;
            serve(db, addr, demo, secure_cookies, rates, security).await
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
        Command::User { command: UserCommand::Assign { tenant, login, to, role, site, db } } => {
            let app = open(&db).await?;
            let target = app
                .store
                .tenant_by_slug(&to)
                .await
                .map_err(|e| anyhow::anyhow!(e.to_string()))?
                .with_context(|| format!("no organisation with slug {to:?}"))?;
            let site_id = match site {
                None => None,
                Some(name) => Some(
                    app.store
                        .list_sites(target.id)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.to_string()))?
                        .into_iter()
                        .find(|s| s.name == name)
                        .with_context(|| format!("no site named {name:?} in {to}"))?
                        .id,
                ),
            };
            let input = mailroom_app::tenancy::AssignmentInput { tenant: tenant.clone(), login, role, site_id };
            let a = app.assign_in(target.id, &input).await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("assigned {}@{} to {to} as {}", a.login, a.home_tenant, a.assignment.role);
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command: UserCommand::Unassign { tenant, login, to, db } } => {
            let app = open(&db).await?;
            let find = |slug: String| {
                let app = app.clone();
                async move {
                    app.store
                        .tenant_by_slug(&slug)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.to_string()))?
                        .with_context(|| format!("no organisation with slug {slug:?}"))
                }
            };
            let home = find(tenant.clone()).await?;
            let target = find(to.clone()).await?;
            let user = app
                .store
                .user_by_login(home.id, &login.trim().to_lowercase())
                .await
                .map_err(|e| anyhow::anyhow!(e.to_string()))?
                .with_context(|| format!("no user {login:?} in {tenant}"))?;
            app.store
                .delete_assignment(target.id, user.id)
                .await
                .map_err(|_| anyhow::anyhow!("{login}@{tenant} is not assigned to {to}"))?;
            println!("unassigned {login}@{tenant} from {to}");
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
        Command::Keys { command } => keys(command).await,
        Command::Retention { command } => retention(command).await,
        Command::Rules { command } => rules_cli::run(command),
        Command::Carrier { inputs } => carrier(&inputs),
        Command::ScanImage { files } => scan_image(&files),
        Command::Address { command: AddressCommand::Check { country, postal_code, text } } => {
            address_check(country, postal_code, text)
        }
        Command::Customs { command: CustomsCommand::Check { file, sdr_rates } } => customs_check(file, &sdr_rates),
        Command::Pdf { command } => pdf(command),
        Command::Seed { items, tenant, db } => {
            let app = open(&db).await?;
            let start = std::time::Instant::now();
            let n = app.seed_bulk(&tenant, items).await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("loaded {n} items into {tenant} in {:.1}s", start.elapsed().as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A usage error: the message on stderr, exit 2.
fn usage(message: &str) -> Result<ExitCode> {
    eprintln!("error: {message}");
    Ok(ExitCode::from(2))
}

fn address_check(country: String, postal_code: Option<String>, text: Option<String>) -> Result<ExitCode> {
    use mailroom_domain::address::{CheckRequest, MAX_TEXT_CHARS, check};
    if country.trim().is_empty() {
        return usage("--country must not be empty");
    }
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|v| v.trim().is_empty());
    if blank(&postal_code) && blank(&text) {
        return usage("give --postal-code, --text or both");
    }
    if text.as_deref().is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS) {
        return usage(&format!("--text is longer than {MAX_TEXT_CHARS} characters"));
    }
    // `\n` typed in a shell argument separates lines, as a new line does
    let text = text.map(|t| t.replace("\\n", "\n"));
    let verdict = check(&CheckRequest { country, postal_code, text, fields: None });
    println!("{}", serde_json::to_string_pretty(&verdict)?);
    Ok(if verdict.valid { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn customs_check(file: Option<std::path::PathBuf>, sdr_rates: &str) -> Result<ExitCode> {
    use mailroom_domain::customs::{Declaration, MAX_LINES, RateTable, check};
    use std::io::Read;
    let mut rates = RateTable::default();
    if let Err(e) = rates.apply(sdr_rates) {
        return usage(&format!("--sdr-rates: {e}"));
    }
    let mut raw = String::new();
    match file.as_deref() {
        None => std::io::stdin().read_to_string(&mut raw).map(|_| ()),
        Some(p) if p.as_os_str() == "-" => std::io::stdin().read_to_string(&mut raw).map(|_| ()),
        Some(p) => std::fs::read_to_string(p).map(|t| raw = t),
    }
    .context("cannot read the declaration")?;
    let decl: Declaration = match serde_json::from_str(&raw) {
        Ok(d) => d,
        Err(e) => return usage(&format!("the declaration is not valid JSON of the expected shape: {e}")),
    };
    if decl.lines.len() > MAX_LINES {
        return usage(&format!("at most {MAX_LINES} lines"));
    }
    let verdict = check(&decl, &rates);
    println!("{}", serde_json::to_string_pretty(&verdict)?);
    Ok(if verdict.accepted { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn pdf(command: PdfCommand) -> Result<ExitCode> {
    use mailroom_pdf::{CustomsInput, Fonts, LabelInput, PdfError};
    use std::io::Read;
    let read = |p: &std::path::Path| -> std::io::Result<String> {
        let mut raw = String::new();
        if p.as_os_str() == "-" {
            std::io::stdin().read_to_string(&mut raw)?;
        } else {
            raw = std::fs::read_to_string(p)?;
        }
        Ok(raw)
    };
    let (json, out) = match &command {
        PdfCommand::Label { json, out } | PdfCommand::Customs { json, out, .. } => (json.clone(), out.clone()),
    };
    let raw = match read(&json) {
        Ok(r) => r,
        Err(e) => return usage(&format!("cannot read {}: {e}", json.display())),
    };
    let mut rates = mailroom_domain::customs::RateTable::default();
    if let PdfCommand::Customs { sdr_rates, .. } = &command
        && let Err(e) = rates.apply(sdr_rates)
    {
        return usage(&format!("--sdr-rates: {e}"));
    }
    let fonts = match Fonts::from_env() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(3));
        }
    };
    let made = match command {
        PdfCommand::Label { .. } => match serde_json::from_str::<LabelInput>(&raw) {
            Ok(input) => mailroom_pdf::address_label(&input, &fonts).map(|b| (b, "label")),
            Err(e) => return usage(&format!("the label is not valid JSON of the expected shape: {e}")),
        },
        PdfCommand::Customs { .. } => match serde_json::from_str::<CustomsInput>(&raw) {
            Ok(input) => mailroom_pdf::customs_form(&input, &rates, &fonts)
                .map(|(form, b)| (b, if form == mailroom_domain::customs::Form::Cn23 { "cn23" } else { "cn22" })),
            Err(e) => return usage(&format!("the declaration is not valid JSON of the expected shape: {e}")),
        },
    };
    let (bytes, kind) = match made {
        Ok(m) => m,
        Err(PdfError::Invalid { field, message }) => {
            eprintln!("error: {field}: {message}");
            return Ok(ExitCode::from(1));
        }
        Err(PdfError::FontMissing(m)) => {
            eprintln!("error: {m}");
            return Ok(ExitCode::from(3));
        }
        Err(e) => anyhow::bail!("{e}"),
    };
    // Written whole or not at all: a temporary file beside the target, then renamed.
    let mut tmp = out.clone().into_os_string();
    tmp.push(".part");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, &bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    if let Err(e) = std::fs::rename(&tmp, &out) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", out.display()));
    }
    println!("{}", serde_json::json!({"out": out.display().to_string(), "document": kind, "bytes": bytes.len()}));
    Ok(ExitCode::SUCCESS)
}

async fn keys(command: KeysCommand) -> Result<ExitCode> {
    match command {
        KeysCommand::Generate { id } => {
            println!("{}", mailroom_app::vault::generate_master_key(id.as_deref()).map_err(app_err)?);
        }
        KeysCommand::Status { db } => {
            let app = open(&db).await?;
            let st = app.key_status().await.map_err(app_err)?;
            println!("master keys from {}", st.source);
            for k in &st.master_keys {
                let role = if k.active { "active " } else { "old    " };
                let note = if !k.active && k.wraps == 0 { "  (wraps nothing: can be removed)" } else { "" };
                println!("  {:<24} {role} wraps {}{note}", k.id, k.wraps);
            }
            for (id, n) in &st.missing {
                println!("  {id:<24} MISSING wraps {n}: add it to the configuration");
            }
            let signing = match st.signing_key.split_once(':') {
                Some((_, id)) => format!("wrapped by master key {id}"),
                None => match st.signing_key.as_str() {
                    "file" => "from MAILROOM_SIGNING_KEY_FILE".to_string(),
                    "plain" => {
                        "stored in plain text (wrapped by `mailroom keys rotate-master` or the server)".to_string()
                    }
                    _ => "not created yet".to_string(),
                },
            };
            println!("custody signing key: {signing}");
            for t in &st.tenants {
                println!(
                    "organisation {}: data keys {} in use, {} retired, {} shredded; attachments {} encrypted, {} plain text, {} shredded",
                    t.tenant,
                    t.keys_in_use,
                    t.keys_retired,
                    t.keys_shredded,
                    t.attachments_encrypted,
                    t.attachments_plain,
                    t.attachments_shredded
                );
            }
            if !st.missing.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        KeysCommand::RotateMaster { db } => {
            let app = open(&db).await?;
            let r = app.rotate_master_key().await.map_err(app_err)?;
            println!("active master key: {}", r.active);
            println!(
                "re-wrapped {} data keys{}",
                r.data_keys_rewrapped,
                if r.signing_key_rewrapped || r.legacy.signing_key_wrapped {
                    " and the custody signing key"
                } else {
                    ""
                }
            );
            if r.legacy.attachments_sealed > 0 {
                println!("encrypted {} attachments stored before encryption at rest", r.legacy.attachments_sealed);
            }
            for id in &r.removable {
                println!("master key {id} wraps nothing any more: remove it from the configuration of every server");
            }
        }
        KeysCommand::RotateData { tenant, db } => {
            let app = open(&db).await?;
            let t = match &tenant {
                Some(slug) => Some(tenant_id(&app, slug).await?),
                None => None,
            };
            let n = app.rotate_data_keys(t).await.map_err(app_err)?;
            println!("retired {n} data keys; new attachments get new keys");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn retention(command: RetentionCommand) -> Result<ExitCode> {
    match command {
        RetentionCommand::List { tenant, db } => {
            let app = open(&db).await?;
            for t in app.store.list_tenants().await.map_err(|e| anyhow::anyhow!(e.to_string()))? {
                if tenant.as_ref().is_some_and(|s| s != &t.slug) {
                    continue;
                }
                for p in app.store.retention_policies(t.id).await.map_err(|e| anyhow::anyhow!(e.to_string()))? {
                    println!("{}\t{}\t{} days", t.slug, p.category, p.days);
                }
            }
        }
        RetentionCommand::Set { tenant, category, days, db } => {
            let category = parse_category(&category)?;
            let app = open(&db).await?;
            let t = tenant_id(&app, &tenant).await?;
            app.set_retention_policy(t, &cli_actor(), category, Some(days)).await.map_err(app_err)?;
            println!("{tenant}: {category} attachments are destroyed {days} days after their period");
        }
        RetentionCommand::Unset { tenant, category, db } => {
            let category = parse_category(&category)?;
            let app = open(&db).await?;
            let t = tenant_id(&app, &tenant).await?;
            app.set_retention_policy(t, &cli_actor(), category, None).await.map_err(app_err)?;
            println!("{tenant}: {category} attachments are kept indefinitely");
        }
        RetentionCommand::Run { dry_run, db } => {
            let app = open(&db).await?;
            let done = app.run_retention(chrono::Utc::now(), dry_run, &cli_actor()).await.map_err(app_err)?;
            let verb = if dry_run { "would shred" } else { "shredded" };
            for s in &done {
                println!(
                    "{verb} {} {} {} ({} days): {} attachments",
                    s.tenant, s.category, s.period, s.days, s.attachments
                );
            }
            println!("{} data keys {verb}", done.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `mailroom scan-image`: one JSON line per file.
fn scan_image(files: &[std::path::PathBuf]) -> Result<ExitCode> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for f in files {
        let name = f.display().to_string();
        let answer = match std::fs::metadata(f).and_then(|m| {
            if m.len() > mailroom_app::scan::MAX_PHOTO_BYTES as u64 {
                Err(std::io::Error::other(format!(
                    "the file is larger than {} bytes",
                    mailroom_app::scan::MAX_PHOTO_BYTES
                )))
            } else {
                std::fs::read(f)
            }
        }) {
            Err(e) => Err(e.to_string()),
            Ok(bytes) => mailroom_app::scan::scan_file_bytes(&bytes).map_err(|e| e.to_string()),
        };
        let line = match answer {
            Ok(barcodes) => serde_json::json!({"file": name, "barcodes": barcodes}),
            Err(e) => {
                failed = true;
                serde_json::json!({"file": name, "error": e})
            }
        };
        serde_json::to_writer(&mut out, &line).context("cannot write the answer")?;
        out.write_all(b"\n").and_then(|_| out.flush()).context("cannot write the answer")?;
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
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

async fn serve(
    db: DbArg,
    addr: String,
    demo: bool,
    secure_cookies: bool,
    sdr_rates: mailroom_domain::customs::RateTable,
    security: SecurityArgs,
) -> Result<ExitCode> {
    let policy = security.policy()?;
    let trusted_proxies = security.trusted_proxies()?;
    let url = db.url()?;
    let keys = match MasterKeys::from_env(&url).map_err(app_err)? {
        Some(k) => k,
        None if demo => MasterKeys::create_local(&url).map_err(app_err)?,
        None => bail!(
            "no master key is configured, and attachments are encrypted at rest with it.\n  \
             create one:  mailroom keys generate > /etc/mailroom/master.keys && chmod 600 /etc/mailroom/master.keys\n  \
             then set     MAILROOM_MASTER_KEY_FILE=/etc/mailroom/master.keys   (see docs/OPERATIONS.md)\n  \
             or run with --demo to keep a throwaway key next to the SQLite database"
        ),
    };
    for w in &keys.warnings {
        tracing::warn!("{w}");
    }
    let notify = mailroom_app::notify::NotifyConfig::from_env().map_err(app_err)?;
    if let Some(smtp) = &notify.smtp {
        tracing::info!(smtp = %smtp.redacted_url(), from = %smtp.from(), "e-mail notices are on");
    }
    let app = open_with(&url, Some(keys)).await?.with_security(policy).with_notifier(notify).map_err(app_err)?;
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
            println!("  organisation {tenant:<14} login {login:<10} ({role})");
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
    let retention_secs =
        std::env::var("MAILROOM_RETENTION_SECS").ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(3600);
    let keeper = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(retention_secs.max(1)));
        loop {
            tick.tick().await;
            maintain(&keeper).await;
        }
    });
    // Service levels: missed deadlines, unclaimed-item reminders, escalations and disposal
    // requests. Every node sweeps; each step happens once (see docs/SERVICE-LEVELS.md).
    let sweep_secs = std::env::var("MAILROOM_SWEEP_SECS").ok().and_then(|v| v.parse::<u64>().ok()).unwrap_or(30);
    let sweeper = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(sweep_secs.max(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match mailroom_app::followup::sweep(&sweeper, sweeper.clock.now()).await {
                Ok(r) if r.deadline_missed + r.reminders + r.escalations + r.disposal_requests > 0 => tracing::info!(
                    deadline_missed = r.deadline_missed,
                    reminders = r.reminders,
                    escalations = r.escalations,
                    disposal_requests = r.disposal_requests,
                    "service-level sweep"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %describe(&e), "service-level sweep failed"),
            }
        }
    });
    #[cfg(unix)]
    {
        let reloader = app.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut hup) = signal(SignalKind::hangup()) else { return };
            while hup.recv().await.is_some() {
                match reloader.reload_master_keys().await {
                    Ok(ids) => tracing::info!(keys = ?ids, "master keys reloaded"),
                    Err(e) => {
                        tracing::error!(error = %describe(&e), "master keys NOT reloaded; keeping the previous ones")
                    }
                }
            }
        });
    }
    // Background jobs: every node runs a runner; they share the queue in the database.
    let jobs = mailroom_app::jobs::runner(app.clone(), mailroom_app::jobs::node_id())
        .settings(mailroom_app::jobs::RunnerSettings::from_env().map_err(|e| anyhow::anyhow!(e))?)
        .spawn();
    // Notices: every node reads the custody log and enqueues what it calls for (see docs/NOTIFICATIONS.md).
    let dispatcher = mailroom_app::notify::spawn_dispatcher(app.clone());
    let mut state = mailroom_web::AppState::new(app);
    state.secure_cookies = secure_cookies;
    state.trusted_proxies = trusted_proxies;
    state.sdr_rates = std::sync::Arc::new(sdr_rates);
    mailroom_web::serve(state, listener, shutdown_signal()).await?;
    dispatcher.abort();
    jobs.shutdown().await;
    tracing::info!("shut down cleanly");
    Ok(ExitCode::SUCCESS)
}

/// Periodic upkeep: encrypt anything stored before encryption at rest, then shred expired periods.
async fn maintain(app: &App) {
    match app.seal_legacy().await {
        Ok(r) if r.attachments_sealed > 0 || r.signing_key_wrapped => tracing::info!(
            attachments = r.attachments_sealed,
            signing_key = r.signing_key_wrapped,
            "encrypted material stored before encryption at rest"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %describe(&e), "encrypting legacy material failed"),
    }
    let actor = Actor::system("system", uuid::Uuid::now_v7().to_string());
    match app.run_retention(chrono::Utc::now(), false, &actor).await {
        Ok(done) if !done.is_empty() => tracing::info!(keys = done.len(), "retention: shredded expired data keys"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %describe(&e), "retention run failed"),
    }
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
