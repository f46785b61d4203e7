//! Encryption at rest: the key hierarchy, the envelope formats and retention periods.
//!
//! ```text
//! master key (32 bytes, from the configuration, with an id; several during a rotation)
//!  ├─ wraps data keys (32 random bytes each: one per organisation, retention category and period)
//!  │    └─ encrypt attachments (signatures, photos, scans)
//!  └─ wraps the installation's custody signing key
//! ```
//!
//! Every ciphertext is XChaCha20-Poly1305 with a random 24-byte nonce. The associated data binds
//! it to where it belongs (organisation, record id, key ids, media type, content hash), so a
//! ciphertext moved to another row, another organisation or under another key does not decrypt.
//! Destroying a data key (crypto-shredding) makes everything it encrypted unreadable.
//!
//! This module is pure: callers pass the random nonces and keys in.

use crate::custody::hex;
use crate::ids::{AttachmentId, TenantId};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use sha2::{Digest, Sha256};
use std::fmt;
use uuid::Uuid;
use zeroize::{Zeroize, Zeroizing};

/// Bytes in a key (master or data key).
pub const KEY_LEN: usize = 32;
/// Bytes in a nonce.
pub const NONCE_LEN: usize = 24;
/// Bytes in an authentication tag.
pub const TAG_LEN: usize = 16;
/// A wrapped key: nonce, encrypted key, tag.
pub const WRAPPED_LEN: usize = NONCE_LEN + KEY_LEN + TAG_LEN;
/// Longest master key id.
pub const MAX_KEY_ID_LEN: usize = 40;
/// Retention policies at or below this many days get one data key per day; longer ones (and
/// categories without a policy) one per month. Material is destroyed between `days` and
/// `days` + one period after it was stored.
pub const DAILY_PERIOD_MAX_DAYS: u32 = 93;
/// Longest retention policy (100 years).
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// Why a key could not be parsed, or a ciphertext could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("{0}")]
    BadKeyText(String),
    /// Wrong key, or the ciphertext or what it is bound to was altered.
    #[error("decryption failed: wrong key, or the data was altered")]
    Unauthentic,
    #[error("malformed ciphertext")]
    Malformed,
}

/// 32 secret bytes. Zeroed when dropped; never printed.
#[derive(Clone)]
pub struct SecretKey([u8; KEY_LEN]);

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl PartialEq for SecretKey {
    /// Constant time.
    fn eq(&self, other: &SecretKey) -> bool {
        self.0.iter().zip(other.0.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}
impl Eq for SecretKey {}

impl SecretKey {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> SecretKey {
        SecretKey(bytes)
    }
    /// The raw bytes, for handing to a cipher or a signing key constructor.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// A master key and its id. The id is stored next to everything the key wraps.
#[derive(Clone)]
pub struct MasterKey {
    pub id: String,
    pub key: SecretKey,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({}, ***)", self.id)
    }
}

/// The configured master keys, newest first. The first one wraps new data keys; the others are
/// only used to unwrap what they wrapped before a rotation.
#[derive(Clone, Debug)]
pub struct Keyring {
    keys: Vec<MasterKey>,
}

impl Keyring {
    pub fn new(keys: Vec<MasterKey>) -> Result<Keyring, VaultError> {
        if keys.is_empty() {
            return Err(VaultError::BadKeyText("no master key given".into()));
        }
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|o| o.id == k.id) {
                return Err(VaultError::BadKeyText(format!("master key id {:?} is given twice", k.id)));
            }
            if keys[..i].iter().any(|o| o.key == k.key) {
                return Err(VaultError::BadKeyText(format!(
                    "master key {:?} is the same key as another one under a different id",
                    k.id
                )));
            }
        }
        Ok(Keyring { keys })
    }

    /// Parses keys, one per line (or separated by commas): `ID:KEY` or a bare `KEY`, where KEY is
    /// 32 bytes as 64 hex digits or base64. A bare key gets an id derived from the key itself.
    /// Blank lines and lines starting with `#` are ignored. The first key is the active one.
    pub fn parse(text: &str) -> Result<Keyring, VaultError> {
        let mut keys = Vec::new();
        let entries = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .flat_map(|l| l.split(','))
            .map(str::trim)
            .filter(|e| !e.is_empty());
        for (n, line) in entries.enumerate() {
            let (id, material) = match line.rsplit_once(':') {
                Some((id, m)) => (Some(id.trim()), m.trim()),
                None => (None, line),
            };
            let key = parse_key_material(material).ok_or_else(|| {
                VaultError::BadKeyText(format!("master key entry {} is not 32 bytes as 64 hex digits or base64", n + 1))
            })?;
            let id = match id {
                Some(id) if valid_key_id(id) => id.to_string(),
                Some(_) => {
                    return Err(VaultError::BadKeyText(format!(
                        "master key entry {}: the id must be 1-{MAX_KEY_ID_LEN} letters, digits, '.', '_' or '-'",
                        n + 1
                    )));
                }
                None => derived_key_id(&key),
            };
            keys.push(MasterKey { id, key });
        }
        Keyring::new(keys)
    }

    /// The key that wraps new data keys.
    pub fn active(&self) -> &MasterKey {
        // `new` refuses an empty list.
        &self.keys[0]
    }
    pub fn get(&self, id: &str) -> Option<&MasterKey> {
        self.keys.iter().find(|k| k.id == id)
    }
    pub fn keys(&self) -> &[MasterKey] {
        &self.keys
    }
}

/// Accepts 64 hex digits or base64 (standard or URL-safe, padded or not) of exactly 32 bytes.
pub fn parse_key_material(s: &str) -> Option<SecretKey> {
    let s = s.trim();
    let mut out = [0u8; KEY_LEN];
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        return Some(SecretKey(out));
    }
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let decoded = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD].iter().find_map(|e| e.decode(s).ok())?;
    let decoded = Zeroizing::new(decoded);
    if decoded.len() != KEY_LEN {
        return None;
    }
    out.copy_from_slice(&decoded);
    Some(SecretKey(out))
}

/// Master key ids: 1–40 ASCII letters, digits, `.`, `_` or `-`.
pub fn valid_key_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_KEY_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The id of a key given without one: `fp-` and 8 hex digits of a hash of the key.
pub fn derived_key_id(key: &SecretKey) -> String {
    let mut h = Sha256::new();
    h.update(b"mailroom-master-key-id-v1\0");
    h.update(key.expose());
    format!("fp-{}", &hex(&h.finalize())[..8])
}

/// A key in the text form the configuration takes: `ID:BASE64`.
pub fn format_key(id: &str, key: &SecretKey) -> String {
    format!("{id}:{}", base64::engine::general_purpose::STANDARD.encode(key.expose()))
}

/// Length-prefixed associated data: a format label, then each part.
fn aad(label: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    for p in std::iter::once(label.as_bytes()).chain(parts.iter().copied()) {
        out.extend_from_slice(&(p.len() as u32).to_be_bytes());
        out.extend_from_slice(p);
    }
    out
}

/// Encrypts `plain` (ciphertext followed by the tag).
pub fn seal(key: &SecretKey, nonce: &[u8; NONCE_LEN], aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, VaultError> {
    key.cipher().encrypt(&XNonce::from(*nonce), Payload { msg: plain, aad }).map_err(|_| VaultError::Malformed)
}

/// Decrypts and authenticates what [`seal`] produced.
pub fn open(key: &SecretKey, nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| VaultError::Malformed)?;
    if sealed.len() < TAG_LEN {
        return Err(VaultError::Malformed);
    }
    key.cipher().decrypt(&XNonce::from(nonce), Payload { msg: sealed, aad }).map_err(|_| VaultError::Unauthentic)
}

/// What a data key's wrapping is bound to.
pub fn data_key_aad(tenant: TenantId, data_key_id: Uuid, master_key_id: &str) -> Vec<u8> {
    aad("mailroom-data-key-v1", &[tenant.0.as_bytes(), data_key_id.as_bytes(), master_key_id.as_bytes()])
}

/// What the installation signing key's wrapping is bound to.
pub fn installation_key_aad(name: &str, master_key_id: &str) -> Vec<u8> {
    aad("mailroom-installation-key-v1", &[name.as_bytes(), master_key_id.as_bytes()])
}

/// What an attachment's ciphertext is bound to.
pub fn attachment_aad(
    tenant: TenantId,
    attachment: AttachmentId,
    data_key_id: Uuid,
    media_type: &str,
    sha256: &str,
) -> Vec<u8> {
    aad(
        "mailroom-attachment-v1",
        &[
            tenant.0.as_bytes(),
            attachment.0.as_bytes(),
            data_key_id.as_bytes(),
            media_type.as_bytes(),
            sha256.as_bytes(),
        ],
    )
}

/// Wraps a key under a master key: nonce ‖ encrypted key ‖ tag ([`WRAPPED_LEN`] bytes).
pub fn wrap_key(
    master: &MasterKey,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    key: &SecretKey,
) -> Result<Vec<u8>, VaultError> {
    let mut out = nonce.to_vec();
    out.extend(seal(&master.key, nonce, aad, key.expose())?);
    Ok(out)
}

/// Opens what [`wrap_key`] produced.
pub fn unwrap_key(master: &MasterKey, aad: &[u8], wrapped: &[u8]) -> Result<SecretKey, VaultError> {
    if wrapped.len() != WRAPPED_LEN {
        return Err(VaultError::Malformed);
    }
    let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
    let plain = Zeroizing::new(open(&master.key, nonce, aad, sealed)?);
    let mut k = [0u8; KEY_LEN];
    k.copy_from_slice(&plain);
    Ok(SecretKey(k))
}

/// A value that proves, without revealing it, which key a master key id stood for: a database
/// remembers it for every id it has seen, so a different key under a known id is refused.
pub fn master_key_check(master: &MasterKey, nonce: &[u8; NONCE_LEN]) -> Result<Vec<u8>, VaultError> {
    let mut out = nonce.to_vec();
    out.extend(seal(&master.key, nonce, &aad("mailroom-master-key-check-v1", &[master.id.as_bytes()]), b"")?);
    Ok(out)
}

/// Whether `check` was made by [`master_key_check`] with this key and id.
pub fn verify_master_key_check(master: &MasterKey, check: &[u8]) -> bool {
    if check.len() != NONCE_LEN + TAG_LEN {
        return false;
    }
    let (nonce, sealed) = check.split_at(NONCE_LEN);
    open(&master.key, nonce, &aad("mailroom-master-key-check-v1", &[master.id.as_bytes()]), sealed).is_ok()
}

/// The span of time one data key covers: material stored in `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN))
}

impl Period {
    /// The period of material stored at `at` (UTC), given the category's retention policy:
    /// one day for policies up to [`DAILY_PERIOD_MAX_DAYS`], else one calendar month.
    pub fn containing(at: DateTime<Utc>, retention_days: Option<u32>) -> Period {
        let day = at.date_naive();
        match retention_days {
            Some(d) if d <= DAILY_PERIOD_MAX_DAYS => {
                let start = midnight(day);
                Period { start, end: start + Duration::days(1) }
            }
            _ => {
                let first = day.with_day(1).unwrap_or(day);
                let next = if first.month() == 12 {
                    NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
                }
                .unwrap_or(first + Duration::days(31));
                Period { start: midnight(first), end: midnight(next) }
            }
        }
    }

    /// `2026-05` for a month, `2026-05-14` for a day, else `start/end`.
    pub fn label(&self) -> String {
        let (s, e) = (self.start.date_naive(), self.end.date_naive());
        if e == s + Duration::days(1) {
            s.format("%Y-%m-%d").to_string()
        } else if s.day() == 1 && e.day() == 1 && e > s && (e - s).num_days() <= 31 {
            s.format("%Y-%m").to_string()
        } else {
            format!("{}/{}", self.start.to_rfc3339(), self.end.to_rfc3339())
        }
    }

    /// When everything in the period is older than `days`.
    pub fn expires_at(&self, days: u32) -> DateTime<Utc> {
        self.end + Duration::days(i64::from(days))
    }

    /// Whether all material of the period is past a `days` retention at `now`.
    pub fn expired(&self, days: u32, now: DateTime<Utc>) -> bool {
        self.expires_at(days) <= now
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mk(id: &str, b: u8) -> MasterKey {
        MasterKey { id: id.into(), key: SecretKey([b; 32]) }
    }

    #[test]
    fn key_text_forms() {
        let hexkey = "00".repeat(31) + "ff";
        let k = parse_key_material(&hexkey).unwrap();
        assert_eq!(k.expose()[31], 0xff);
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert_eq!(parse_key_material(&b64).unwrap().expose(), &[7u8; 32]);
        assert_eq!(parse_key_material(b64.trim_end_matches('=')).unwrap().expose(), &[7u8; 32]);
        assert!(parse_key_material("short").is_none());
        assert!(parse_key_material(&base64::engine::general_purpose::STANDARD.encode([1u8; 16])).is_none());
        assert!(parse_key_material(&"zz".repeat(32)).is_none());
        assert_eq!(format!("{k:?}"), "SecretKey(***)");
        assert!(!format!("{:?}", mk("a", 9)).contains('9'));
    }

    #[test]
    fn keyrings() {
        let a = format_key("2026-a", &SecretKey([1; 32]));
        let b = format_key("2025-b", &SecretKey([2; 32]));
        let ring = Keyring::parse(&format!("# rotated 2026, see the runbook\n{a}\n\n{b}\n")).unwrap();
        assert_eq!(ring.active().id, "2026-a");
        assert_eq!(ring.keys().len(), 2);
        assert!(ring.get("2025-b").is_some());
        assert_eq!(Keyring::parse(&format!("{a},{b}")).unwrap().keys().len(), 2);
        let bare = Keyring::parse(&"ab".repeat(32)).unwrap();
        assert!(bare.active().id.starts_with("fp-") && bare.active().id.len() == 11);
        assert_eq!(bare.active().id, Keyring::parse(&"AB".repeat(32)).unwrap().active().id);
        assert!(Keyring::parse("").is_err());
        assert!(Keyring::parse("# nothing\n").is_err());
        assert!(Keyring::parse(&format!("{a}\n{a}")).is_err(), "same id twice");
        assert!(Keyring::parse(&format!("{a}\n{}", format_key("other", &SecretKey([1; 32])))).is_err());
        assert!(Keyring::parse(&format!("bad id:{}", "ab".repeat(32))).is_err());
        let err = Keyring::parse("k1:notakey").unwrap_err().to_string();
        assert!(err.contains("entry 1") && !err.contains("notakey"), "{err}");
    }

    #[test]
    fn wrap_round_trip_and_binding() {
        let (m, other) = (mk("m1", 1), mk("m2", 2));
        let t = TenantId::new();
        let dek_id = Uuid::now_v7();
        let dek = SecretKey([42; 32]);
        let aad = data_key_aad(t, dek_id, &m.id);
        let w = wrap_key(&m, &[3; 24], &aad, &dek).unwrap();
        assert_eq!(w.len(), WRAPPED_LEN);
        assert_eq!(unwrap_key(&m, &aad, &w).unwrap(), dek);
        assert_eq!(unwrap_key(&other, &aad, &w).err(), Some(VaultError::Unauthentic));
        assert!(unwrap_key(&m, &data_key_aad(TenantId::new(), dek_id, &m.id), &w).is_err(), "other tenant");
        assert!(unwrap_key(&m, &data_key_aad(t, Uuid::now_v7(), &m.id), &w).is_err(), "other key row");
        assert!(unwrap_key(&m, &data_key_aad(t, dek_id, "m2"), &w).is_err(), "other master id");
        assert_eq!(unwrap_key(&m, &aad, &w[1..]).err(), Some(VaultError::Malformed));
    }

    #[test]
    fn master_key_checks() {
        let m = mk("m1", 1);
        let c = master_key_check(&m, &[5; 24]).unwrap();
        assert!(verify_master_key_check(&m, &c));
        assert!(!verify_master_key_check(&mk("m1", 2), &c), "same id, other key");
        assert!(!verify_master_key_check(&mk("m9", 1), &c), "same key, other id");
        assert!(!verify_master_key_check(&m, &c[1..]));
    }

    #[test]
    fn periods() {
        let at = Utc.with_ymd_and_hms(2026, 12, 14, 23, 59, 59).unwrap();
        let month = Period::containing(at, None);
        assert_eq!(month.start, Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap());
        assert_eq!(month.end, Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
        assert_eq!(month.label(), "2026-12");
        assert_eq!(Period::containing(at, Some(365)), month);
        let day = Period::containing(at, Some(30));
        assert_eq!(day.start, Utc.with_ymd_and_hms(2026, 12, 14, 0, 0, 0).unwrap());
        assert_eq!(day.label(), "2026-12-14");
        assert!(!day.expired(30, day.end + Duration::days(30) - Duration::seconds(1)));
        assert!(day.expired(30, day.end + Duration::days(30)));
        assert_eq!(Period::containing(Utc.with_ymd_and_hms(2028, 2, 29, 1, 0, 0).unwrap(), None).label(), "2028-02");
    }

    proptest! {
        /// Any change to the ciphertext, the nonce or anything the ciphertext is bound to fails.
        #[test]
        fn tampering_is_detected(
            plain in proptest::collection::vec(any::<u8>(), 0..600),
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
            which in 0u8..6,
        ) {
            let t = TenantId::new();
            let (att, dek_id) = (AttachmentId::new(), Uuid::now_v7());
            let dek = SecretKey([9; 32]);
            let nonce = [4u8; 24];
            let aad = attachment_aad(t, att, dek_id, "image/png", "abc");
            let sealed = seal(&dek, &nonce, &aad, &plain).unwrap();
            prop_assert_eq!(sealed.len(), plain.len() + TAG_LEN);
            prop_assert_eq!(&open(&dek, &nonce, &aad, &sealed).unwrap(), &plain);
            let result = match which {
                0 => {
                    let mut s = sealed.clone();
                    let i = flip.index(s.len());
                    s[i] ^= 1 << bit;
                    open(&dek, &nonce, &aad, &s)
                }
                1 => {
                    let mut n = nonce;
                    n[flip.index(24)] ^= 1 << bit;
                    open(&dek, &n, &aad, &sealed)
                }
                2 => open(&dek, &nonce, &attachment_aad(t, AttachmentId::new(), dek_id, "image/png", "abc"), &sealed),
                3 => open(&dek, &nonce, &attachment_aad(t, att, dek_id, "image/svg+xml", "abc"), &sealed),
                4 => open(&dek, &nonce, &attachment_aad(TenantId::new(), att, dek_id, "image/png", "abc"), &sealed),
                _ => open(&SecretKey([8; 32]), &nonce, &aad, &sealed),
            };
            prop_assert!(result.is_err());
        }
    }
}
