//! Merkle trees over custody events, as in RFC 9162 (Certificate Transparency v2): leaves are
//! `SHA-256(0x00 || event hash)`, inner nodes `SHA-256(0x01 || left || right)`, and the split is
//! at the largest power of two below the size. Inclusion proofs are the RFC's audit paths.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// The leaf hash of a custody event, from the event's own (chain) hash.
pub fn leaf_hash(event_hash: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(event_hash);
    h.finalize().into()
}

fn node(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

fn split(n: usize) -> usize {
    // Largest power of two strictly below n (n >= 2).
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The root over leaf hashes (already passed through [`leaf_hash`]).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The audit path proving that leaf `index` is in the tree over `leaves`.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    let mut out = Vec::new();
    path(leaves, index, &mut out);
    Some(out)
}

fn path(leaves: &[Hash], m: usize, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(&leaves[..k], m, out);
        out.push(root(&leaves[k..]));
    } else {
        path(&leaves[k..], m - k, out);
        out.push(root(&leaves[..k]));
    }
}

/// Checks an audit path (RFC 9162, section 2.1.3.2).
pub fn verify_inclusion(index: u64, tree_size: u64, leaf: &Hash, proof: &[Hash], expected_root: &Hash) -> bool {
    if index >= tree_size {
        return false;
    }
    let (mut fnode, mut snode) = (index, tree_size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && &r == expected_root
}

/// Decodes 64 lowercase hex digits. Upper-case is refused so that every hash has one spelling.
pub fn parse_hash(s: &str) -> Option<Hash> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.as_bytes().chunks(2).enumerate() {
        let hi = hex_val(pair[0])?;
        let lo = hex_val(pair[1])?;
        out[i] = hi << 4 | lo;
    }
    Some(out)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&Sha256::digest(i.to_be_bytes()).into())).collect()
    }

    #[test]
    fn small_trees_by_hand() {
        let l = leaves(3);
        assert_eq!(root(&l[..1]), l[0]);
        assert_eq!(root(&l[..2]), node(&l[0], &l[1]));
        assert_eq!(root(&l), node(&node(&l[0], &l[1]), &l[2]));
        assert_eq!(inclusion_proof(&l, 2).unwrap(), vec![node(&l[0], &l[1])]);
        assert_eq!(inclusion_proof(&l, 0).unwrap(), vec![l[1], l[2]]);
    }

    #[test]
    fn hex_is_strict() {
        let h = crate::custody::hex(&[0xab; 32]);
        assert_eq!(parse_hash(&h), Some([0xab; 32]));
        assert_eq!(parse_hash(&h.to_uppercase()), None);
        assert_eq!(parse_hash("ab"), None);
    }

    proptest! {
        #[test]
        fn every_leaf_proves_and_nothing_else_does(n in 1usize..70, pick in 0usize..70, flip in 0usize..32) {
            let l = leaves(n);
            let r = root(&l);
            let i = pick % n;
            let proof = inclusion_proof(&l, i).unwrap();
            prop_assert!(verify_inclusion(i as u64, n as u64, &l[i], &proof, &r));
            // Wrong index, an index past the end, a wrong leaf or a changed proof fail. (The tree size
            // itself is bound by the signed checkpoint, which signs size and root together.)
            if n > 1 {
                prop_assert!(!verify_inclusion(((i + 1) % n) as u64, n as u64, &l[i], &proof, &r));
            }
            prop_assert!(!verify_inclusion(n as u64, n as u64, &l[i], &proof, &r));
            let mut other = l[i];
            other[flip] ^= 1;
            prop_assert!(!verify_inclusion(i as u64, n as u64, &other, &proof, &r));
            if !proof.is_empty() {
                let mut bad = proof.clone();
                bad[0][flip] ^= 0x80;
                prop_assert!(!verify_inclusion(i as u64, n as u64, &l[i], &bad, &r));
            }
        }
    }
}
