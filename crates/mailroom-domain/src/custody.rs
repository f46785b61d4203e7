//! The custody log: an append-only, per-tenant hash chain of everything that happens to items.
//!
//! Each event's hash is SHA-256 over a length-prefixed encoding of its fields and the previous
//! event's hash, so editing, deleting, inserting or reordering any event breaks the chain.

use crate::ids::{EventId, ItemId, LocationId, TenantId, UserId};
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash that precedes a tenant's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did something, from where, in which request. Every operation carries one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: Option<UserId>,
    /// Human-readable: the login, `token:<name>`, or `system`/`cli`.
    pub name: String,
    /// IP address or device the request came from.
    pub source: String,
    pub request_id: String,
}

impl Actor {
    pub fn system(name: &str, request_id: impl Into<String>) -> Actor {
        Actor { user_id: None, name: name.to_string(), source: "local".to_string(), request_id: request_id.into() }
    }
}

/// An event before it is placed in the chain.
#[derive(Debug, Clone)]
pub struct EventDraft {
    pub item_id: Option<ItemId>,
    pub kind: String,
    pub location_id: Option<LocationId>,
    pub details: serde_json::Value,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustodyEvent {
    pub id: EventId,
    pub tenant_id: TenantId,
    pub seq: i64,
    pub item_id: Option<ItemId>,
    pub kind: String,
    pub actor_id: Option<UserId>,
    pub actor_name: String,
    pub source: String,
    pub request_id: String,
    pub location_id: Option<LocationId>,
    pub at: DateTime<Utc>,
    /// Canonical JSON text (sorted keys), hashed exactly as stored.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Truncates a timestamp to the precision both databases keep (microseconds).
pub fn storage_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// Places a draft after `prev_hash` as event number `seq`.
pub fn seal(
    tenant_id: TenantId,
    seq: i64,
    prev_hash: &str,
    actor: &Actor,
    draft: &EventDraft,
    at: DateTime<Utc>,
) -> CustodyEvent {
    let mut ev = CustodyEvent {
        id: EventId::new(),
        tenant_id,
        seq,
        item_id: draft.item_id,
        kind: draft.kind.clone(),
        actor_id: actor.user_id,
        actor_name: actor.name.clone(),
        source: actor.source.clone(),
        request_id: actor.request_id.clone(),
        location_id: draft.location_id,
        at: storage_time(at),
        details: draft.details.to_string(),
        prev_hash: prev_hash.to_string(),
        hash: String::new(),
    };
    ev.hash = compute_hash(&ev);
    ev
}

/// The hash an event must carry, from its fields and its `prev_hash`.
pub fn compute_hash(ev: &CustodyEvent) -> String {
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        h.update((b.len() as u64).to_be_bytes());
        h.update(b);
    };
    field(b"mailroom-custody-v1");
    field(ev.id.0.as_bytes());
    field(ev.tenant_id.0.as_bytes());
    field(&ev.seq.to_be_bytes());
    field(ev.item_id.map(|i| i.0.to_string()).unwrap_or_default().as_bytes());
    field(ev.kind.as_bytes());
    field(ev.actor_id.map(|i| i.0.to_string()).unwrap_or_default().as_bytes());
    field(ev.actor_name.as_bytes());
    field(ev.source.as_bytes());
    field(ev.request_id.as_bytes());
    field(ev.location_id.map(|i| i.0.to_string()).unwrap_or_default().as_bytes());
    field(&ev.at.timestamp_micros().to_be_bytes());
    field(ev.details.as_bytes());
    field(ev.prev_hash.as_bytes());
    hex(&h.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Why a chain failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The event's stored hash does not match its contents.
    Altered { seq: i64, id: EventId },
    /// The event does not follow the previous one (deleted, inserted or reordered rows).
    Broken { seq: i64, id: EventId, expected_prev: String },
    /// Sequence numbers skip or repeat.
    Gap { expected_seq: i64, found_seq: i64 },
    /// The chain head recorded for the tenant disagrees with the last event.
    HeadMismatch { head_seq: i64, last_seq: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Altered { seq, id } => {
                write!(f, "event #{seq} ({id}) was altered: its hash does not match its contents")
            }
            ChainBreak::Broken { seq, id, expected_prev } => {
                write!(
                    f,
                    "event #{seq} ({id}) does not link to the previous event (expected prev_hash {expected_prev})"
                )
            }
            ChainBreak::Gap { expected_seq, found_seq } => {
                write!(
                    f,
                    "expected event #{expected_seq} but found #{found_seq}: events were deleted, inserted or reordered"
                )
            }
            ChainBreak::HeadMismatch { head_seq, last_seq } => {
                write!(
                    f,
                    "the chain head says {head_seq} events but the log ends at #{last_seq}: events were deleted or added"
                )
            }
        }
    }
}

/// Incremental verifier: feed events in `seq` order.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier { expected_seq: 1, prev_hash: GENESIS.to_string() }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, ev: &CustodyEvent) -> Result<(), ChainBreak> {
        if ev.seq != self.expected_seq {
            return Err(ChainBreak::Gap { expected_seq: self.expected_seq, found_seq: ev.seq });
        }
        if compute_hash(ev) != ev.hash {
            return Err(ChainBreak::Altered { seq: ev.seq, id: ev.id });
        }
        if ev.prev_hash != self.prev_hash {
            return Err(ChainBreak::Broken { seq: ev.seq, id: ev.id, expected_prev: self.prev_hash.clone() });
        }
        self.expected_seq += 1;
        self.prev_hash = ev.hash.clone();
        Ok(())
    }

    /// Checks the end of the chain against the tenant's recorded head (count and last hash).
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        let last = self.expected_seq - 1;
        if head_seq != last || head_hash != self.prev_hash {
            return Err(ChainBreak::HeadMismatch { head_seq, last_seq: last });
        }
        Ok(last)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<CustodyEvent> {
        let t = TenantId::new();
        let actor = Actor::system("test", "r1");
        let mut prev = GENESIS.to_string();
        let mut out = Vec::new();
        for i in 0..n {
            let d = EventDraft {
                item_id: Some(ItemId::new()),
                kind: "registered".into(),
                location_id: None,
                details: serde_json::json!({"n": i, "a": "张"}),
            };
            let ev = seal(t, i as i64 + 1, &prev, &actor, &d, Utc::now());
            prev = ev.hash.clone();
            out.push(ev);
        }
        out
    }

    fn verify(evs: &[CustodyEvent]) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in evs {
            v.push(e)?;
        }
        let last = evs.last().map(|e| (e.seq, e.hash.clone())).unwrap_or((0, GENESIS.into()));
        v.finish(last.0, &last.1)
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn every_single_field_edit_is_detected() {
        let base = chain(3);
        type Edit = Box<dyn Fn(&mut CustodyEvent)>;
        let edits: Vec<Edit> = vec![
            Box::new(|e| e.kind.push('x')),
            Box::new(|e| e.actor_name.push('x')),
            Box::new(|e| e.source.push('x')),
            Box::new(|e| e.request_id.push('x')),
            Box::new(|e| e.details.push(' ')),
            Box::new(|e| e.at += chrono::Duration::microseconds(1)),
            Box::new(|e| e.item_id = None),
            Box::new(|e| e.location_id = Some(LocationId::new())),
            Box::new(|e| e.actor_id = Some(UserId::new())),
        ];
        for edit in edits {
            let mut c = base.clone();
            edit(&mut c[1]);
            assert!(matches!(verify(&c), Err(ChainBreak::Altered { seq: 2, .. })));
        }
    }

    #[test]
    fn deletion_insertion_reordering_detected() {
        let base = chain(4);
        let mut del = base.clone();
        del.remove(1);
        assert!(verify(&del).is_err());
        let mut reord = base.clone();
        reord.swap(1, 2);
        assert!(verify(&reord).is_err());
        // Deleting the last event is caught by the head.
        let mut v = ChainVerifier::default();
        for e in &base[..3] {
            assert!(v.push(e).is_ok());
        }
        assert!(v.finish(4, &base[3].hash).is_err());
        // A re-sealed inserted event cannot link without rewriting everything after it.
        let mut ins = base.clone();
        let mut fake = base[1].clone();
        fake.id = EventId::new();
        fake.hash = compute_hash(&fake);
        ins.insert(2, fake);
        assert!(verify(&ins).is_err());
    }
}
