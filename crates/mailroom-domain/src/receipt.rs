//! Signed checkpoints over the custody log and handover receipts that can be verified offline.
//!
//! A checkpoint states "the first `tree_size` events of this organisation have Merkle root `root`
//! and the chain head hash `head_hash`", signed with the installation's Ed25519 key. A receipt
//! carries one custody event, its inclusion proof and a checkpoint that covers it. Receipts are
//! exchanged as canonical JSON: verification refuses any other spelling of the same content, so
//! changing any byte of a receipt file makes it fail.

use crate::custody::{CustodyEvent, compute_hash, hex};
use crate::ids::TenantId;
use crate::merkle::{self, Hash};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, Verifier};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const RECEIPT_VERSION: u32 = 1;

/// A signed statement about the first `tree_size` events of one organisation's custody log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Checkpoint {
    pub tenant_id: TenantId,
    pub tree_size: u64,
    /// Merkle root (RFC 9162) over the leaf hashes of events 1..=tree_size, lowercase hex.
    pub root: String,
    /// Hash of event number `tree_size` (the chain head at that point).
    pub head_hash: String,
    pub at: DateTime<Utc>,
    /// First 16 hex digits of SHA-256 of the public key.
    pub key_id: String,
    /// Ed25519 signature over [`checkpoint_message`], lowercase hex.
    pub signature: String,
}

/// The exact bytes a checkpoint signature covers.
pub fn checkpoint_message(
    tenant_id: TenantId,
    tree_size: u64,
    root: &str,
    head_hash: &str,
    at: DateTime<Utc>,
) -> Vec<u8> {
    format!("mailroom-checkpoint-v1\n{tenant_id}\n{tree_size}\n{root}\n{head_hash}\n{}\n", at.timestamp_micros())
        .into_bytes()
}

pub fn key_id(public_key: &[u8; 32]) -> String {
    hex(&Sha256::digest(public_key))[..16].to_string()
}

/// Signs a checkpoint over `event_hashes` (the chain hashes of events 1..=n, in order).
pub fn sign_checkpoint(
    key: &SigningKey,
    tenant_id: TenantId,
    event_hashes: &[Hash],
    at: DateTime<Utc>,
) -> Option<Checkpoint> {
    let head = event_hashes.last()?;
    let leaves: Vec<Hash> = event_hashes.iter().map(merkle::leaf_hash).collect();
    let root = hex(&merkle::root(&leaves));
    let head_hash = hex(head);
    let at = crate::custody::storage_time(at);
    let tree_size = event_hashes.len() as u64;
    let sig = key.sign(&checkpoint_message(tenant_id, tree_size, &root, &head_hash, at));
    Some(Checkpoint {
        tenant_id,
        tree_size,
        root,
        head_hash,
        at,
        key_id: key_id(&key.verifying_key().to_bytes()),
        signature: hex(&sig.to_bytes()),
    })
}

/// Checks a checkpoint's signature with a public key.
pub fn verify_checkpoint_signature(cp: &Checkpoint, public_key: &VerifyingKey) -> bool {
    let Some(sig) = parse_signature(&cp.signature) else { return false };
    cp.key_id == key_id(&public_key.to_bytes())
        && public_key
            .verify(&checkpoint_message(cp.tenant_id, cp.tree_size, &cp.root, &cp.head_hash, cp.at), &sig)
            .is_ok()
}

fn parse_signature(s: &str) -> Option<Signature> {
    if s.len() != 128 {
        return None;
    }
    let a = merkle::parse_hash(&s[..64])?;
    let b = merkle::parse_hash(&s[64..])?;
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(&a);
    bytes[32..].copy_from_slice(&b);
    Some(Signature::from_bytes(&bytes))
}

/// Parses a public key written as 64 lowercase hex digits.
pub fn parse_public_key(s: &str) -> Option<VerifyingKey> {
    VerifyingKey::from_bytes(&merkle::parse_hash(s.trim())?).ok()
}

/// Proof that a custody event (usually a handover) is in the signed custody log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub version: u32,
    pub event: CustodyEvent,
    /// Zero-based position of the event's leaf (its `seq` − 1).
    pub leaf_index: u64,
    /// The audit path, lowercase hex.
    pub proof: Vec<String>,
    pub checkpoint: Checkpoint,
    /// The installation's public key, lowercase hex. Verify against a key you obtained separately.
    pub public_key: String,
}

impl Receipt {
    /// The canonical file form: compact JSON and a final newline.
    pub fn to_canonical(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Builds a receipt for `event` from the event hashes 1..=n that a checkpoint covers.
pub fn build_receipt(
    event: CustodyEvent,
    event_hashes: &[Hash],
    checkpoint: Checkpoint,
    public_key: &VerifyingKey,
) -> Option<Receipt> {
    let index = usize::try_from(event.seq.checked_sub(1)?).ok()?;
    let leaves: Vec<Hash> = event_hashes.iter().map(merkle::leaf_hash).collect();
    let proof = merkle::inclusion_proof(&leaves, index)?;
    Some(Receipt {
        version: RECEIPT_VERSION,
        event,
        leaf_index: index as u64,
        proof: proof.iter().map(|h| hex(h)).collect(),
        checkpoint,
        public_key: hex(&public_key.to_bytes()),
    })
}

/// Why a receipt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("the file is not a receipt: {0}")]
    Malformed(String),
    #[error("the file is not in canonical form (it was edited)")]
    NotCanonical,
    #[error("unknown receipt version {0}")]
    Version(u32),
    #[error("the event's contents do not match its hash")]
    EventAltered,
    #[error("the event is not at the position the receipt claims")]
    WrongPosition,
    #[error("the inclusion proof does not lead to the checkpoint's root")]
    NotIncluded,
    #[error("the checkpoint is for another organisation")]
    WrongTenant,
    #[error("the receipt was signed with another key than the one you trust")]
    UntrustedKey,
    #[error("the checkpoint signature is not valid")]
    BadSignature,
}

/// Verifies a receipt file's bytes offline. With `trusted_key`, the receipt must be signed by
/// that key; without, by the key it names (which only proves internal consistency).
pub fn verify_receipt(bytes: &[u8], trusted_key: Option<&VerifyingKey>) -> Result<Receipt, ReceiptError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ReceiptError::Malformed("not UTF-8".into()))?;
    let r: Receipt = serde_json::from_str(text).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    let canonical = r.to_canonical();
    if text != canonical && text != canonical.trim_end_matches('\n') {
        return Err(ReceiptError::NotCanonical);
    }
    if r.version != RECEIPT_VERSION {
        return Err(ReceiptError::Version(r.version));
    }
    if compute_hash(&r.event) != r.event.hash {
        return Err(ReceiptError::EventAltered);
    }
    if r.event.seq < 1 || r.leaf_index != (r.event.seq - 1) as u64 || r.leaf_index >= r.checkpoint.tree_size {
        return Err(ReceiptError::WrongPosition);
    }
    if r.checkpoint.tenant_id != r.event.tenant_id {
        return Err(ReceiptError::WrongTenant);
    }
    let key = parse_public_key(&r.public_key).ok_or_else(|| ReceiptError::Malformed("bad public key".into()))?;
    if let Some(t) = trusted_key
        && t.to_bytes() != key.to_bytes()
    {
        return Err(ReceiptError::UntrustedKey);
    }
    if !verify_checkpoint_signature(&r.checkpoint, &key) {
        return Err(ReceiptError::BadSignature);
    }
    let event_hash = merkle::parse_hash(&r.event.hash).ok_or(ReceiptError::EventAltered)?;
    let root = merkle::parse_hash(&r.checkpoint.root).ok_or(ReceiptError::NotIncluded)?;
    let proof: Option<Vec<Hash>> = r.proof.iter().map(|p| merkle::parse_hash(p)).collect();
    let proof = proof.ok_or(ReceiptError::NotIncluded)?;
    if !merkle::verify_inclusion(r.leaf_index, r.checkpoint.tree_size, &merkle::leaf_hash(&event_hash), &proof, &root) {
        return Err(ReceiptError::NotIncluded);
    }
    // The last event of the checkpoint is the head it names.
    if r.leaf_index + 1 == r.checkpoint.tree_size && r.checkpoint.head_hash != r.event.hash {
        return Err(ReceiptError::NotIncluded);
    }
    Ok(r)
}

/// A signing key from 32 secret bytes.
pub fn signing_key(secret: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(secret)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::custody::{Actor, EventDraft, GENESIS, seal};
    use crate::ids::ItemId;

    fn log(n: usize) -> (TenantId, Vec<CustodyEvent>) {
        let t = TenantId::new();
        let mut prev = GENESIS.to_string();
        let mut out = Vec::new();
        for i in 0..n {
            let d = EventDraft {
                item_id: Some(ItemId::new()),
                kind: "pick_up".into(),
                location_id: None,
                details: serde_json::json!({"taken_by": "张伟杰", "i": i}),
            };
            let ev = seal(t, i as i64 + 1, &prev, &Actor::system("clerk", "r"), &d, Utc::now());
            prev = ev.hash.clone();
            out.push(ev);
        }
        (t, out)
    }

    fn setup(n: usize, pick: usize) -> (Vec<u8>, VerifyingKey) {
        let key = signing_key(&[7u8; 32]);
        let (t, events) = log(n);
        let hashes: Vec<Hash> = events.iter().map(|e| merkle::parse_hash(&e.hash).unwrap()).collect();
        let cp = sign_checkpoint(&key, t, &hashes, Utc::now()).unwrap();
        let r = build_receipt(events[pick].clone(), &hashes, cp, &key.verifying_key()).unwrap();
        (r.to_canonical().into_bytes(), key.verifying_key())
    }

    #[test]
    fn a_receipt_verifies_with_the_trusted_key_only() {
        let (bytes, pk) = setup(9, 4);
        assert!(verify_receipt(&bytes, Some(&pk)).is_ok());
        assert!(verify_receipt(&bytes, None).is_ok());
        let other = signing_key(&[8u8; 32]).verifying_key();
        assert_eq!(verify_receipt(&bytes, Some(&other)).err(), Some(ReceiptError::UntrustedKey));
    }

    #[test]
    fn changing_any_byte_breaks_the_receipt() {
        let (bytes, pk) = setup(5, 3);
        for i in 0..bytes.len() {
            for delta in [1u8, 0x20] {
                let mut b = bytes.clone();
                b[i] = b[i].wrapping_add(delta);
                assert!(verify_receipt(&b, Some(&pk)).is_err(), "byte {i} (+{delta}) changed and still verified");
            }
        }
        // Dropping the final newline is the one allowed variation.
        assert!(verify_receipt(&bytes[..bytes.len() - 1], Some(&pk)).is_ok());
    }

    #[test]
    fn the_last_event_and_a_single_event_tree_work() {
        for (n, pick) in [(1, 0), (2, 1), (8, 7), (13, 12)] {
            let (bytes, pk) = setup(n, pick);
            assert!(verify_receipt(&bytes, Some(&pk)).is_ok(), "n={n} pick={pick}");
        }
    }
}
