//! Encryption at rest: master keys from the configuration, per-organisation data keys, sealing
//! and opening attachments, master-key and data-key rotation, and encrypting what was stored
//! before encryption at rest existed.
//!
//! All cryptography happens here, outside any store transaction: the store only ever sees
//! ciphertexts and wrapped keys.

use crate::{App, AppError, AppResult, random_bytes, sha256_hex};
use chrono::{DateTime, Utc};
use mailroom_domain::ErrorCode;
use mailroom_domain::custody::storage_time;
use mailroom_domain::ids::{AttachmentId, DataKeyId, ItemId, TenantId};
use mailroom_domain::item::Category;
use mailroom_domain::vault::{self, Keyring, MasterKey, Period, SecretKey};
use mailroom_store::{Attachment, DataKey, Sealed};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// One or more master keys (`ID:KEY` or a bare KEY, separated by commas or newlines; newest first).
pub const MASTER_KEY_ENV: &str = "MAILROOM_MASTER_KEY";
/// A file holding the master keys, one per line, newest first.
pub const MASTER_KEY_FILE_ENV: &str = "MAILROOM_MASTER_KEY_FILE";

/// Where the master keys came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `MAILROOM_MASTER_KEY`.
    Env,
    /// `MAILROOM_MASTER_KEY_FILE`.
    File(PathBuf),
    /// The demo key file next to the SQLite database.
    Local(PathBuf),
    /// Handed in by the caller.
    Given,
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env => write!(f, "{MASTER_KEY_ENV}"),
            KeySource::File(p) => write!(f, "{MASTER_KEY_FILE_ENV} {}", p.display()),
            KeySource::Local(p) => write!(f, "the local key file {}", p.display()),
            KeySource::Given => f.write_str("the caller"),
        }
    }
}

/// The configured master keys and where they came from. Never printed in full.
#[derive(Debug, Clone)]
pub struct MasterKeys {
    pub ring: Keyring,
    pub source: KeySource,
    /// Things the operator should hear about (a demo key file in use, a readable key file).
    pub warnings: Vec<String>,
}

fn config_error(msg: impl Into<String>) -> AppError {
    AppError::Internal(msg.into())
}

fn parse_ring(text: &str, source: &KeySource) -> AppResult<Keyring> {
    Keyring::parse(text).map_err(|e| config_error(format!("{source}: {e}")))
}

/// The SQLite database file behind a `sqlite:` URL, if it is a file.
fn sqlite_path(db_url: &str) -> Option<PathBuf> {
    let rest = db_url.strip_prefix("sqlite://").or_else(|| db_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Where `serve --demo` keeps its generated master key: next to the SQLite database.
pub fn local_key_path(db_url: &str) -> Option<PathBuf> {
    sqlite_path(db_url).map(|p| {
        let mut s = p.into_os_string();
        s.push(".master-key");
        PathBuf::from(s)
    })
}

fn read_key_file(path: &Path, source: &KeySource) -> AppResult<(Keyring, Vec<String>)> {
    let text = std::fs::read_to_string(path).map_err(|e| config_error(format!("cannot read {source}: {e}")))?;
    let ring = parse_ring(&text, source)?;
    let mut warnings = Vec::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            warnings.push(format!(
                "{} can be read by other users of this machine; restrict it (chmod 600)",
                path.display()
            ));
        }
    }
    Ok((ring, warnings))
}

fn local_warning(path: &Path) -> String {
    format!(
        "the master key is in {}, next to the database: anyone with a copy of that directory can read \
         every attachment. This is for demonstrations only; in production keep the key elsewhere and set \
         {MASTER_KEY_FILE_ENV} (see docs/OPERATIONS.md)",
        path.display()
    )
}

impl MasterKeys {
    /// Keys handed in directly (tests, embedding).
    pub fn given(ring: Keyring) -> MasterKeys {
        MasterKeys { ring, source: KeySource::Given, warnings: Vec::new() }
    }

    /// The keys the environment configures: `MAILROOM_MASTER_KEY` or `MAILROOM_MASTER_KEY_FILE`,
    /// else the demo key file next to a SQLite database if one exists, else none.
    pub fn from_env(db_url: &str) -> AppResult<Option<MasterKeys>> {
        let inline = std::env::var(MASTER_KEY_ENV).ok().filter(|v| !v.trim().is_empty());
        let file = std::env::var(MASTER_KEY_FILE_ENV).ok().filter(|v| !v.trim().is_empty());
        match (inline, file) {
            (Some(_), Some(_)) => {
                Err(config_error(format!("set only one of {MASTER_KEY_ENV} and {MASTER_KEY_FILE_ENV}")))
            }
            (Some(text), None) => {
                let ring = parse_ring(&text, &KeySource::Env)?;
                Ok(Some(MasterKeys { ring, source: KeySource::Env, warnings: Vec::new() }))
            }
            (None, Some(path)) => {
                let path = PathBuf::from(path);
                let source = KeySource::File(path.clone());
                let (ring, warnings) = read_key_file(&path, &source)?;
                Ok(Some(MasterKeys { ring, source, warnings }))
            }
            (None, None) => match local_key_path(db_url) {
                Some(path) if path.exists() => {
                    let source = KeySource::Local(path.clone());
                    let (ring, mut warnings) = read_key_file(&path, &source)?;
                    warnings.insert(0, local_warning(&path));
                    Ok(Some(MasterKeys { ring, source, warnings }))
                }
                _ => Ok(None),
            },
        }
    }

    /// For demonstrations: the key file next to the SQLite database, generated if missing
    /// (readable by the owner only).
    pub fn create_local(db_url: &str) -> AppResult<MasterKeys> {
        let path = local_key_path(db_url).ok_or_else(|| {
            config_error(format!(
                "no master key is configured, and a demo key file can only be kept next to a SQLite database \
                 file: set {MASTER_KEY_FILE_ENV}"
            ))
        })?;
        if !path.exists() {
            let key = SecretKey::from_bytes(random_bytes::<32>()?);
            let id = format!("demo-{}", Utc::now().format("%Y%m%d"));
            let text = format!(
                "# mailroom master key, generated for a demonstration. Keep a copy: without it the\n\
                 # attachments in the database next to this file cannot be read.\n{}\n",
                vault::format_key(&id, &key)
            );
            write_new_secret_file(&path, &text)?;
        }
        let source = KeySource::Local(path.clone());
        let (ring, mut warnings) = read_key_file(&path, &source)?;
        warnings.insert(0, local_warning(&path));
        Ok(MasterKeys { ring, source, warnings })
    }

    /// Reads the keys again from where they came from (a changed key file).
    pub fn reload(&self) -> AppResult<MasterKeys> {
        match &self.source {
            KeySource::File(p) => {
                let (ring, warnings) = read_key_file(p, &self.source)?;
                Ok(MasterKeys { ring, source: self.source.clone(), warnings })
            }
            KeySource::Local(p) => {
                let (ring, mut warnings) = read_key_file(p, &self.source)?;
                warnings.insert(0, local_warning(p));
                Ok(MasterKeys { ring, source: self.source.clone(), warnings })
            }
            KeySource::Env | KeySource::Given => Ok(self.clone()),
        }
    }
}

/// Creates a file that must not exist yet, readable by its owner only.
fn write_new_secret_file(path: &Path, text: &str) -> AppResult<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = match opts.open(path) {
        Ok(f) => f,
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(config_error(format!("cannot create {}: {e}", path.display()))),
    };
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| config_error(format!("cannot write {}: {e}", path.display())))
}

/// The master keys an [`App`] holds; replaced on reload.
#[derive(Default)]
pub(crate) struct Vault {
    keys: RwLock<Option<Arc<MasterKeys>>>,
}

impl Vault {
    fn get(&self) -> Option<Arc<MasterKeys>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
    fn set(&self, keys: MasterKeys) {
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(keys));
    }
}

/// A configured master key and what it wraps.
#[derive(Debug, Clone)]
pub struct MasterKeyStatus {
    pub id: String,
    pub active: bool,
    /// Data keys and installation keys it wraps.
    pub wraps: i64,
}

/// One organisation's data keys and attachments.
#[derive(Debug, Clone, Default)]
pub struct TenantKeyStatus {
    pub tenant: String,
    pub keys_in_use: usize,
    pub keys_retired: usize,
    pub keys_shredded: usize,
    pub attachments_encrypted: i64,
    pub attachments_plain: i64,
    pub attachments_shredded: i64,
}

/// What `mailroom keys status` shows.
#[derive(Debug, Clone)]
pub struct KeyStatus {
    pub source: String,
    pub master_keys: Vec<MasterKeyStatus>,
    /// Master key ids that wrap something but are not configured.
    pub missing: Vec<(String, i64)>,
    /// `file`, `wrapped:<master key id>`, `plain` or `none`.
    pub signing_key: String,
    pub tenants: Vec<TenantKeyStatus>,
}

/// What a master-key rotation did.
#[derive(Debug, Clone, Default)]
pub struct RotationReport {
    pub active: String,
    pub data_keys_rewrapped: u64,
    pub signing_key_rewrapped: bool,
    pub legacy: LegacyReport,
    /// Configured keys that no longer wrap anything and can be removed from the configuration.
    pub removable: Vec<String>,
}

/// What encrypting material stored before encryption at rest did.
#[derive(Debug, Clone, Default)]
pub struct LegacyReport {
    pub attachments_sealed: u64,
    pub signing_key_wrapped: bool,
}

const LEGACY_BATCH: i64 = 100;

impl App {
    /// Builds the app with master keys, after checking them against the database: a key under a
    /// known id must be the key the database knows, and every master key that wraps something
    /// must be configured.
    pub async fn with_master_keys(store: Arc<dyn mailroom_store::Store>, keys: MasterKeys) -> AppResult<App> {
        let app = App::new(store);
        app.check_master_keys(&keys).await?;
        app.vault.set(keys);
        Ok(app)
    }

    /// Re-reads the master keys from their file and, if they pass the same checks as at start,
    /// uses them from now on. Returns the ids now configured, active first.
    pub async fn reload_master_keys(&self) -> AppResult<Vec<String>> {
        let current = self.vault.get().ok_or_else(|| config_error("no master key is configured"))?;
        let keys = current.reload()?;
        self.check_master_keys(&keys).await?;
        let ids = keys.ring.keys().iter().map(|k| k.id.clone()).collect();
        self.vault.set(keys);
        Ok(ids)
    }

    /// Warnings about the configured keys, for the operator.
    pub fn master_key_warnings(&self) -> Vec<String> {
        self.vault.get().map(|k| k.warnings.clone()).unwrap_or_default()
    }

    async fn check_master_keys(&self, keys: &MasterKeys) -> AppResult<()> {
        let known = self.store.master_key_checks().await?;
        for k in keys.ring.keys() {
            let check = match known.iter().find(|(id, _)| id == &k.id) {
                Some((_, c)) => c.clone(),
                None => {
                    let c = vault::master_key_check(k, &random_bytes::<24>()?)
                        .map_err(|e| AppError::Internal(e.to_string()))?;
                    self.store.put_master_key_check(&k.id, &c).await?
                }
            };
            if !vault::verify_master_key_check(k, &check) {
                return Err(config_error(format!(
                    "master key {:?} from {} is not the key this database knows under that id: \
                     it would not open what that key wrapped",
                    k.id, keys.source
                )));
            }
        }
        let missing: Vec<String> = self
            .store
            .master_keys_in_use()
            .await?
            .into_iter()
            .filter(|(id, _)| keys.ring.get(id).is_none())
            .map(|(id, n)| format!("{id:?} ({n} keys)"))
            .collect();
        if !missing.is_empty() {
            return Err(config_error(format!(
                "data in this database is wrapped by master key {} which {} is missing: add it after the \
                 newest key (see docs/OPERATIONS.md, key rotation)",
                missing.join(", "),
                keys.source
            )));
        }
        Ok(())
    }

    pub(crate) fn master_keys(&self) -> AppResult<Arc<MasterKeys>> {
        self.vault.get().ok_or_else(|| {
            config_error(format!(
                "no master key is configured: set {MASTER_KEY_FILE_ENV} (see docs/OPERATIONS.md), \
                 or start the server with --demo for a throwaway local key"
            ))
        })
    }

    fn master_key<'a>(keys: &'a MasterKeys, id: &str) -> AppResult<&'a MasterKey> {
        keys.ring.get(id).ok_or_else(|| {
            config_error(format!("master key {id:?} is not configured ({}); add it after the newest key", keys.source))
        })
    }

    /// Opens a data key. A shredded key answers [`ErrorCode::Shredded`].
    fn unwrap_data_key(&self, keys: &MasterKeys, k: &DataKey) -> AppResult<SecretKey> {
        if let Some(at) = k.shredded_at {
            return Err(shredded_error(k.category, at));
        }
        let (Some(mk_id), Some(wrapped)) = (&k.master_key_id, &k.wrapped) else {
            return Err(AppError::Internal(format!("data key {} has no wrapped key", k.id)));
        };
        let mk = Self::master_key(keys, mk_id)?;
        vault::unwrap_key(mk, &vault::data_key_aad(k.tenant_id, k.id.0, mk_id), wrapped)
            .map_err(|e| AppError::Internal(format!("data key {} could not be unwrapped: {e}", k.id)))
    }

    /// The data key new material of `category` stored at `at` is encrypted with, created (and
    /// wrapped under the active master key) if the period has none yet.
    async fn data_key_for(
        &self,
        t: TenantId,
        category: Category,
        at: DateTime<Utc>,
    ) -> AppResult<(DataKeyId, SecretKey)> {
        let keys = self.master_keys()?;
        let days = self
            .store
            .retention_policies(t)
            .await?
            .into_iter()
            .find(|p| p.category == category)
            .and_then(|p| u32::try_from(p.days).ok());
        let period = Period::containing(at, days);
        if let Some(k) = self.store.data_key_in_use(t, category, period.start, period.end).await? {
            return Ok((k.id, self.unwrap_data_key(&keys, &k)?));
        }
        let active = keys.ring.active();
        let id = DataKeyId::new();
        let key = SecretKey::from_bytes(random_bytes::<32>()?);
        let wrapped = vault::wrap_key(active, &random_bytes::<24>()?, &vault::data_key_aad(t, id.0, &active.id), &key)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let stored = self
            .store
            .insert_data_key(&DataKey {
                id,
                tenant_id: t,
                category,
                period_start: period.start,
                period_end: period.end,
                master_key_id: Some(active.id.clone()),
                wrapped: Some(wrapped),
                created_at: storage_time(Utc::now()),
                retired_at: None,
                shredded_at: None,
            })
            .await?;
        if stored.id == id {
            Ok((id, key))
        } else {
            // Another writer created the period's key first: use that one.
            Ok((stored.id, self.unwrap_data_key(&keys, &stored)?))
        }
    }

    /// Encrypts new attachment content for an item of `category`, ready to be stored.
    pub(crate) async fn seal_new_attachment(
        &self,
        t: TenantId,
        category: Category,
        media_type: &str,
        content: Vec<u8>,
        created_at: DateTime<Utc>,
    ) -> AppResult<Attachment> {
        let id = AttachmentId::new();
        let sha256 = sha256_hex(&content);
        let (dek_id, dek) = self.data_key_for(t, category, created_at).await?;
        let nonce = random_bytes::<24>()?;
        let aad = vault::attachment_aad(t, id, dek_id.0, media_type, &sha256);
        let data = vault::seal(&dek, &nonce, &aad, &content).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(Attachment {
            id,
            tenant_id: t,
            sha256,
            media_type: media_type.to_string(),
            size: content.len() as i64,
            data,
            sealed: Some(Sealed { data_key_id: dek_id, nonce: nonce.to_vec() }),
            created_at,
        })
    }

    /// Decrypts a stored attachment (plain-text rows from before encryption at rest pass through).
    /// Material whose data key was shredded answers [`ErrorCode::Shredded`].
    pub(crate) async fn open_attachment(&self, mut a: Attachment) -> AppResult<Attachment> {
        let Some(sealed) = a.sealed.take() else { return Ok(a) };
        let k = self
            .store
            .data_key(a.tenant_id, sealed.data_key_id)
            .await?
            .ok_or_else(|| AppError::Internal(format!("attachment {} refers to a missing data key", a.id)))?;
        if let Some(at) = k.shredded_at {
            return Err(shredded_error(k.category, at));
        }
        let keys = self.master_keys()?;
        let dek = self.unwrap_data_key(&keys, &k)?;
        let aad = vault::attachment_aad(a.tenant_id, a.id, k.id.0, &a.media_type, &a.sha256);
        a.data = vault::open(&dek, &sealed.nonce, &aad, &a.data)
            .map_err(|e| AppError::Internal(format!("attachment {} could not be decrypted: {e}", a.id)))?;
        Ok(a)
    }

    /// Whether the item's handover signature was destroyed under a retention policy (without
    /// decrypting it).
    pub async fn item_signature_shredded(&self, p: &crate::Principal, id: ItemId) -> AppResult<bool> {
        let Some(h) = self.item_handover(p, id).await? else { return Ok(false) };
        let Some(a) = self.store.attachment(p.tenant_id, h.signature_id).await? else { return Ok(false) };
        let Some(sealed) = a.sealed else { return Ok(false) };
        Ok(self.store.data_key(p.tenant_id, sealed.data_key_id).await?.is_some_and(|k| k.shredded_at.is_some()))
    }

    /// Encrypts attachments stored before encryption at rest, and wraps a signing key stored in
    /// plain text. Safe to run on several nodes at once and to interrupt.
    pub async fn seal_legacy(&self) -> AppResult<LegacyReport> {
        let keys = self.master_keys()?;
        let mut report = LegacyReport::default();
        for t in self.store.list_tenants().await? {
            loop {
                let batch = self.store.plaintext_attachments(t.id, LEGACY_BATCH).await?;
                if batch.is_empty() {
                    break;
                }
                let mut progressed = false;
                for (id, category) in batch {
                    let Some(a) = self.store.attachment(t.id, id).await? else { continue };
                    if a.sealed.is_some() {
                        continue;
                    }
                    let (dek_id, dek) = self.data_key_for(t.id, category, a.created_at).await?;
                    let nonce = random_bytes::<24>()?;
                    let aad = vault::attachment_aad(t.id, a.id, dek_id.0, &a.media_type, &a.sha256);
                    let data =
                        vault::seal(&dek, &nonce, &aad, &a.data).map_err(|e| AppError::Internal(e.to_string()))?;
                    let sealed = Sealed { data_key_id: dek_id, nonce: nonce.to_vec() };
                    if self.store.seal_attachment(t.id, id, &sealed, &data).await? {
                        report.attachments_sealed += 1;
                    }
                    progressed = true;
                }
                if !progressed {
                    break;
                }
            }
        }
        report.signing_key_wrapped = self.wrap_signing_key(&keys).await?;
        Ok(report)
    }

    /// Re-wraps every data key and the signing key under the active master key (the first
    /// configured), then encrypts anything still in plain text. The server keeps serving: readers
    /// accept any configured key until this is done.
    pub async fn rotate_master_key(&self) -> AppResult<RotationReport> {
        let keys = self.master_keys()?;
        let active = keys.ring.active();
        let mut report = RotationReport { active: active.id.clone(), ..Default::default() };
        for t in self.store.list_tenants().await? {
            for k in self.store.data_keys(t.id).await? {
                let Some(from) = k.master_key_id.clone() else { continue };
                if k.shredded_at.is_some() || from == active.id {
                    continue;
                }
                let dek = self.unwrap_data_key(&keys, &k)?;
                let wrapped = vault::wrap_key(
                    active,
                    &random_bytes::<24>()?,
                    &vault::data_key_aad(t.id, k.id.0, &active.id),
                    &dek,
                )
                .map_err(|e| AppError::Internal(e.to_string()))?;
                if self.store.rewrap_data_key(t.id, k.id, &from, &active.id, &wrapped).await? {
                    report.data_keys_rewrapped += 1;
                }
            }
        }
        report.signing_key_rewrapped = self.wrap_signing_key(&keys).await?;
        report.legacy = self.seal_legacy().await?;
        let in_use = self.store.master_keys_in_use().await?;
        report.removable = keys
            .ring
            .keys()
            .iter()
            .skip(1)
            .filter(|k| !in_use.iter().any(|(id, n)| id == &k.id && *n > 0))
            .map(|k| k.id.clone())
            .collect();
        Ok(report)
    }

    /// New material of the organisation (or of every organisation) gets new data keys from now
    /// on; existing material stays readable under its old keys. Returns how many were retired.
    pub async fn rotate_data_keys(&self, tenant: Option<TenantId>) -> AppResult<u64> {
        let tenants = match tenant {
            Some(t) => vec![t],
            None => self.store.list_tenants().await?.into_iter().map(|t| t.id).collect(),
        };
        let mut n = 0;
        for t in tenants {
            n += self.store.retire_data_keys(t).await?;
        }
        Ok(n)
    }

    /// The state of the key hierarchy.
    pub async fn key_status(&self) -> AppResult<KeyStatus> {
        let keys = self.vault.get();
        let in_use = self.store.master_keys_in_use().await?;
        let master_keys = keys
            .as_ref()
            .map(|k| {
                k.ring
                    .keys()
                    .iter()
                    .enumerate()
                    .map(|(i, m)| MasterKeyStatus {
                        id: m.id.clone(),
                        active: i == 0,
                        wraps: in_use.iter().find(|(id, _)| id == &m.id).map(|(_, n)| *n).unwrap_or(0),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let missing =
            in_use.iter().filter(|(id, _)| keys.as_ref().and_then(|k| k.ring.get(id)).is_none()).cloned().collect();
        let signing_key = if std::env::var(crate::verify::SIGNING_KEY_FILE_ENV).is_ok() {
            "file".to_string()
        } else {
            match self.store.installation_key(crate::verify::KEY_NAME).await? {
                None => "none".to_string(),
                Some(k) => match k.master_key_id {
                    Some(id) => format!("wrapped:{id}"),
                    None => "plain".to_string(),
                },
            }
        };
        let mut tenants = Vec::new();
        for t in self.store.list_tenants().await? {
            let dks = self.store.data_keys(t.id).await?;
            let mut s = TenantKeyStatus { tenant: t.slug.clone(), ..Default::default() };
            for k in &dks {
                if k.shredded_at.is_some() {
                    s.keys_shredded += 1;
                } else if k.retired_at.is_some() {
                    s.keys_retired += 1;
                } else {
                    s.keys_in_use += 1;
                }
            }
            for (dek, n) in self.store.attachment_counts(t.id).await? {
                match dek.and_then(|d| dks.iter().find(|k| k.id == d)) {
                    None => s.attachments_plain += n,
                    Some(k) if k.shredded_at.is_some() => s.attachments_shredded += n,
                    Some(_) => s.attachments_encrypted += n,
                }
            }
            tenants.push(s);
        }
        Ok(KeyStatus {
            source: keys.map(|k| k.source.to_string()).unwrap_or_else(|| "none".into()),
            master_keys,
            missing,
            signing_key,
            tenants,
        })
    }
}

/// The error for material destroyed under a retention policy.
fn shredded_error(category: Category, at: DateTime<Utc>) -> AppError {
    AppError::new(
        ErrorCode::Shredded,
        format!(
            "this material was destroyed on {} under the organisation's retention policy for {category} items",
            at.format("%Y-%m-%d")
        ),
    )
}

/// A new random master key in the form the configuration takes: `ID:BASE64`. Without an id, one
/// from today's date and a random suffix.
pub fn generate_master_key(id: Option<&str>) -> AppResult<String> {
    let id = match id {
        Some(id) if vault::valid_key_id(id) => id.to_string(),
        Some(_) => {
            return Err(AppError::Domain(mailroom_domain::DomainError::invalid(
                "id",
                format!("a key id is 1-{} letters, digits, '.', '_' or '-'", vault::MAX_KEY_ID_LEN),
            )));
        }
        None => {
            let r = random_bytes::<2>()?;
            format!("mk-{}-{:02x}{:02x}", Utc::now().format("%Y%m%d"), r[0], r[1])
        }
    };
    Ok(vault::format_key(&id, &SecretKey::from_bytes(random_bytes::<32>()?)))
}
