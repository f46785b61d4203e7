//! Short human reference codes printed on labels: 8 Crockford base-32 symbols shown as `XXXX-XXXX`.
//! No I, L, O or U, so codes survive being read aloud and hand-typed.

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Builds a reference code from 40 random bits.
pub fn from_bits(bits: u64) -> String {
    let mut out = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            out.push('-');
        }
        let shift = 35 - 5 * i;
        let idx = ((bits >> shift) & 31) as usize;
        out.push(ALPHABET[idx] as char);
    }
    out
}

/// Normalises a hand-typed or scanned code: upper-case, confusable letters mapped, dash optional.
/// Returns `None` when the input cannot be a reference code.
pub fn normalize(input: &str) -> Option<String> {
    let mut syms = String::with_capacity(8);
    for c in input.trim().chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !ALPHABET.contains(&(c as u8)) || !c.is_ascii() {
            return None;
        }
        syms.push(c);
    }
    if syms.len() != 8 {
        return None;
    }
    Some(format!("{}-{}", &syms[..4], &syms[4..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(from_bits(0), "0000-0000");
        assert_eq!(from_bits((1 << 40) - 1), "ZZZZ-ZZZZ");
    }

    #[test]
    fn normalizes_confusables() {
        assert_eq!(normalize("abcd efgh").as_deref(), Some("ABCD-EFGH"));
        assert_eq!(normalize("o1l0-iiii").as_deref(), Some("0110-1111"));
        assert_eq!(normalize("ABCD-EFG"), None);
        assert_eq!(normalize("ABCD-EFGU"), None);
    }

    proptest! {
        #[test]
        fn codes_roundtrip(bits in 0u64..(1 << 40)) {
            let code = from_bits(bits);
            prop_assert_eq!(code.len(), 9);
            prop_assert_eq!(normalize(&code.to_lowercase()), Some(code));
        }
    }
}
