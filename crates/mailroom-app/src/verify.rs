//! Custody verification: the per-organisation hash chain, signed Merkle checkpoints, and
//! handover receipts.

use crate::vault::MasterKeys;
use crate::{App, AppError, AppResult, Principal, random_bytes};
use base64::Engine;
use chrono::Utc;
use mailroom_domain::ErrorCode;
use mailroom_domain::custody::{ChainBreak, ChainVerifier, hex};
use mailroom_domain::ids::{ItemId, TenantId};
use mailroom_domain::merkle::{self, Hash};
use mailroom_domain::receipt::{
    self, Checkpoint, Receipt, SigningKey, VerifyingKey, sign_checkpoint, verify_checkpoint_signature,
};
use mailroom_domain::vault::{self, MasterKey, SecretKey};
use mailroom_store::InstallationKey;

/// The result of checking one tenant's custody log.
#[derive(Debug, Clone)]
pub struct TenantVerdict {
    pub tenant: String,
    pub events: i64,
    pub checkpoints: usize,
    pub broken: Option<ChainBreak>,
    /// Checkpoints that do not match the log or whose signature is bad.
    pub bad_checkpoints: Vec<String>,
}

impl TenantVerdict {
    pub fn ok(&self) -> bool {
        self.broken.is_none() && self.bad_checkpoints.is_empty()
    }
}

const PAGE: i64 = 5000;
pub(crate) const KEY_NAME: &str = "custody-signing";

/// Environment variable naming a file with the signing key (64 hex digits); without it the key
/// is generated once and kept in the database, shared by every node.
pub const SIGNING_KEY_FILE_ENV: &str = "MAILROOM_SIGNING_KEY_FILE";

fn parse_secret(s: &str) -> Option<[u8; 32]> {
    merkle::parse_hash(s.trim())
}

fn signing_key_from_file() -> AppResult<Option<SigningKey>> {
    let Ok(path) = std::env::var(SIGNING_KEY_FILE_ENV) else { return Ok(None) };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| AppError::Internal(format!("cannot read {SIGNING_KEY_FILE_ENV} {path}: {e}")))?;
    let secret = parse_secret(&text)
        .ok_or_else(|| AppError::Internal(format!("{path} must hold the key as 64 lowercase hex digits")))?;
    Ok(Some(receipt::signing_key(&secret)))
}

fn wrap_secret(mk: &MasterKey, secret: &SecretKey) -> AppResult<String> {
    let wrapped = vault::wrap_key(mk, &random_bytes::<24>()?, &vault::installation_key_aad(KEY_NAME, &mk.id), secret)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(wrapped))
}

fn to_hashes(hexes: &[String]) -> AppResult<Vec<Hash>> {
    hexes
        .iter()
        .map(|h| merkle::parse_hash(h).ok_or_else(|| AppError::Internal(format!("stored hash is not hex: {h}"))))
        .collect()
}

impl App {
    /// The custody signing key: from `MAILROOM_SIGNING_KEY_FILE`, else from the database
    /// (generated on first use; wrapped by the master key when one is configured).
    pub async fn signing_key(&self) -> AppResult<SigningKey> {
        self.signing_key
            .get_or_try_init(|| async {
                if let Some(key) = signing_key_from_file()? {
                    return Ok(key);
                }
                let stored = match self.store.installation_key(KEY_NAME).await? {
                    Some(k) => k,
                    None => {
                        let secret = SecretKey::from_bytes(random_bytes::<32>()?);
                        let key = receipt::signing_key(secret.expose());
                        let public_key = hex(&key.verifying_key().to_bytes());
                        let new = match self.master_keys().ok() {
                            Some(keys) => {
                                let mk = keys.ring.active();
                                InstallationKey {
                                    name: KEY_NAME.into(),
                                    secret: wrap_secret(mk, &secret)?,
                                    public_key,
                                    master_key_id: Some(mk.id.clone()),
                                }
                            }
                            None => InstallationKey {
                                name: KEY_NAME.into(),
                                secret: hex(secret.expose()),
                                public_key,
                                master_key_id: None,
                            },
                        };
                        self.store.put_installation_key(&new).await?
                    }
                };
                let secret = self.installation_secret(&stored)?;
                Ok(receipt::signing_key(secret.expose()))
            })
            .await
            .cloned()
    }

    /// The secret of a stored installation key, unwrapped if it is wrapped.
    fn installation_secret(&self, k: &InstallationKey) -> AppResult<SecretKey> {
        match &k.master_key_id {
            None => parse_secret(&k.secret)
                .map(SecretKey::from_bytes)
                .ok_or_else(|| AppError::Internal("stored signing key is malformed".into())),
            Some(id) => {
                let keys = self.master_keys()?;
                let mk = keys.ring.get(id).ok_or_else(|| {
                    AppError::Internal(format!(
                        "the signing key is wrapped by master key {id:?}, which is not configured"
                    ))
                })?;
                let wrapped = base64::engine::general_purpose::STANDARD
                    .decode(&k.secret)
                    .map_err(|_| AppError::Internal("stored signing key is malformed".into()))?;
                vault::unwrap_key(mk, &vault::installation_key_aad(&k.name, id), &wrapped)
                    .map_err(|e| AppError::Internal(format!("the signing key could not be unwrapped: {e}")))
            }
        }
    }

    /// Wraps the stored signing key under the active master key unless it already is. Returns
    /// whether it changed.
    pub(crate) async fn wrap_signing_key(&self, keys: &MasterKeys) -> AppResult<bool> {
        let Some(k) = self.store.installation_key(KEY_NAME).await? else { return Ok(false) };
        let active = keys.ring.active();
        if k.master_key_id.as_deref() == Some(active.id.as_str()) {
            return Ok(false);
        }
        let secret = self.installation_secret(&k)?;
        let wrapped = wrap_secret(active, &secret)?;
        Ok(self.store.rewrap_installation_key(KEY_NAME, &k.secret, &wrapped, &active.id).await?)
    }

    /// The key receipts and checkpoints verify against. Needs no secret: verification works
    /// without the master key.
    pub async fn verifying_key(&self) -> AppResult<VerifyingKey> {
        if let Some(key) = signing_key_from_file()? {
            return Ok(key.verifying_key());
        }
        match self.store.installation_key(KEY_NAME).await? {
            Some(k) => receipt::parse_public_key(&k.public_key)
                .ok_or_else(|| AppError::Internal("stored public key is malformed".into())),
            None => Ok(self.signing_key().await?.verifying_key()),
        }
    }

    /// The public key receipts are verified with, as 64 hex digits.
    pub async fn public_key_hex(&self) -> AppResult<String> {
        Ok(hex(&self.verifying_key().await?.to_bytes()))
    }

    /// Signs a checkpoint over a tenant's whole log, unless the latest one already covers it.
    pub async fn checkpoint_tenant(&self, t: TenantId) -> AppResult<Option<Checkpoint>> {
        let (head, _) = self.store.custody_head(t).await?;
        if head == 0 {
            return Ok(None);
        }
        if let Some(last) = self.store.checkpoints(t).await?.last()
            && last.tree_size as i64 >= head
        {
            return Ok(Some(last.clone()));
        }
        let hashes = to_hashes(&self.store.custody_hashes(t, head).await?)?;
        let key = self.signing_key().await?;
        let cp = sign_checkpoint(&key, t, &hashes, Utc::now())
            .ok_or_else(|| AppError::Internal("empty custody log".into()))?;
        self.store.insert_checkpoint(&cp).await?;
        Ok(Some(cp))
    }

    /// Checkpoints every organisation whose log grew since its last checkpoint.
    pub async fn checkpoint_all(&self) -> AppResult<usize> {
        let mut n = 0;
        for t in self.store.list_tenants().await? {
            let before = self.store.checkpoints(t.id).await?.last().map(|c| c.tree_size);
            if let Some(cp) = self.checkpoint_tenant(t.id).await?
                && Some(cp.tree_size) != before
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// A receipt for the item's handover (delivery or pickup), proving it is in the signed log.
    pub async fn item_receipt(&self, p: &Principal, id: ItemId) -> AppResult<Receipt> {
        let events = self.item_events(p, id).await?;
        let event = events
            .into_iter()
            .rev()
            .find(|e| e.kind == "deliver" || e.kind == "pick_up")
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, "the item has not been handed over yet"))?;
        let t = p.tenant_id;
        let cp = match self.store.checkpoints(t).await?.into_iter().find(|c| c.tree_size as i64 >= event.seq) {
            Some(cp) => cp,
            None => self
                .checkpoint_tenant(t)
                .await?
                .ok_or_else(|| AppError::Internal("no checkpoint could be made".into()))?,
        };
        let hashes = to_hashes(&self.store.custody_hashes(t, cp.tree_size as i64).await?)?;
        let key = self.signing_key().await?;
        receipt::build_receipt(event, &hashes, cp, &key.verifying_key())
            .ok_or_else(|| AppError::Internal("could not build the inclusion proof".into()))
    }

    /// Verifies every tenant's custody chain from its first event to its recorded head, and every
    /// checkpoint against the chain and the installation's public key.
    pub async fn verify_custody(&self) -> AppResult<Vec<TenantVerdict>> {
        let mut out = Vec::new();
        for t in self.store.list_tenants().await? {
            out.push(self.verify_tenant(&t).await?);
        }
        Ok(out)
    }

    /// Verifies the custody log of the organisation the caller acts in.
    pub async fn verify_custody_as(&self, p: &Principal) -> AppResult<TenantVerdict> {
        mailroom_domain::auth::require(p.role, mailroom_domain::auth::Permission::VerifyCustody)?;
        let t = self.current_tenant(p).await?;
        self.verify_tenant(&t).await
    }

    /// Verifies one tenant's chain and checkpoints.
    async fn verify_tenant(&self, t: &mailroom_store::Tenant) -> AppResult<TenantVerdict> {
        let public: VerifyingKey = self.verifying_key().await?;
        let (head_seq, head_hash) = self.store.custody_head(t.id).await?;
        let mut v = ChainVerifier::default();
        let mut after = 0;
        let mut broken = None;
        let mut hashes: Vec<Hash> = Vec::new();
        'walk: loop {
            let page = self.store.custody_events(t.id, after, PAGE).await?;
            if page.is_empty() {
                break;
            }
            for ev in &page {
                if let Err(b) = v.push(ev) {
                    broken = Some(b);
                    break 'walk;
                }
                after = ev.seq;
                hashes.push(merkle::parse_hash(&ev.hash).unwrap_or([0; 32]));
            }
        }
        let events = match (&broken, v.finish(head_seq, &head_hash)) {
            (Some(_), _) => after,
            (None, Ok(n)) => n,
            (None, Err(b)) => {
                broken = Some(b);
                after
            }
        };
        let checkpoints = self.store.checkpoints(t.id).await?;
        let mut bad = Vec::new();
        let leaves: Vec<Hash> = hashes.iter().map(merkle::leaf_hash).collect();
        for cp in &checkpoints {
            let size = cp.tree_size as usize;
            let why = if !verify_checkpoint_signature(cp, &public) {
                Some("its signature is not valid for this installation's key")
            } else if size == 0 || size > leaves.len() {
                Some("it covers events that are not in the log")
            } else if hex(&merkle::root(&leaves[..size])) != cp.root || hex(&hashes[size - 1]) != cp.head_hash {
                Some("the log no longer has the contents it signed")
            } else {
                None
            };
            if let Some(why) = why {
                bad.push(format!("checkpoint of {} events: {why}", cp.tree_size));
            }
        }
        Ok(TenantVerdict {
            tenant: t.slug.clone(),
            events,
            checkpoints: checkpoints.len(),
            broken,
            bad_checkpoints: bad,
        })
    }
}
