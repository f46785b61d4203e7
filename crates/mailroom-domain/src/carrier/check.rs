//! Check-digit algorithms used in tracking numbers. Each one is written from the published
//! description named in its doc comment. Every function takes the payload (the characters the
//! check is computed over) and returns the expected check character, or `None` when the payload
//! holds a character the algorithm does not define.

fn digit(b: u8) -> Option<u32> {
    b.is_ascii_digit().then(|| u32::from(b - b'0'))
}

fn to_char(v: u32) -> char {
    char::from_digit(v, 36).map(|c| c.to_ascii_uppercase()).unwrap_or('?')
}

/// Compares the last character of `code` with the check character `f` computes over the rest.
pub fn verify(code: &str, f: impl Fn(&str) -> Option<char>) -> bool {
    match code.char_indices().last() {
        Some((i, c)) if i > 0 => f(&code[..i]) == Some(c),
        _ => false,
    }
}

/// GS1 modulo 10 (GS1 General Specifications, "check digit calculation"): weights 3 and 1
/// alternate from the rightmost payload digit; the check digit brings the sum to a multiple of 10.
/// Used by GTIN (EAN/UPC), SSCC, USPS IMpb, FedEx Ground, Canada Post, DPD and Hermes parcel numbers.
pub fn gs1(payload: &str) -> Option<char> {
    let mut sum = 0;
    for (i, b) in payload.bytes().rev().enumerate() {
        let d = digit(b)?;
        sum += if i % 2 == 0 { d * 3 } else { d };
    }
    Some(to_char((10 - sum % 10) % 10))
}

/// UPU S10 (UPU standard S10, "Identification of postal items"): the 8 serial digits are weighted
/// 8, 6, 4, 2, 3, 5, 9, 7; C = 11 − (sum mod 11), with 10 → 0 and 11 → 5.
pub fn s10(serial: &str) -> Option<char> {
    const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
    if serial.len() != 8 {
        return None;
    }
    let mut sum = 0;
    for (b, w) in serial.bytes().zip(WEIGHTS) {
        sum += digit(b)? * w;
    }
    Some(to_char(match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    }))
}

/// The letter-to-digit mapping of UPS and OnTrac numbers: A→2, B→3 … H→9, I→0, J→1 …
/// i.e. (ASCII code − 63) mod 10.
fn ups_value(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => digit(b),
        b'A'..=b'Z' => Some((u32::from(b) - 63) % 10),
        _ => None,
    }
}

/// UPS "1Z" tracking numbers (UPS tracking number and label specification): over the 15
/// characters after `1Z`, letters map to digits, characters in even positions (2nd, 4th, …) count
/// twice, and the check digit brings the sum to a multiple of 10. OnTrac's `C`/`D` numbers use the
/// same rule over all 14 characters before the check digit.
pub fn ups(payload: &str) -> Option<char> {
    let mut sum = 0;
    for (i, b) in payload.bytes().enumerate() {
        let v = ups_value(b)?;
        sum += if i % 2 == 1 { v * 2 } else { v };
    }
    Some(to_char((10 - sum % 10) % 10))
}

/// FedEx Express (FedEx label specification, 12-digit tracking number and the serial of the
/// 34-digit barcode): weights 1, 3, 7 repeat from the rightmost payload digit; the check digit is
/// (sum mod 11) mod 10.
pub fn fedex(payload: &str) -> Option<char> {
    const WEIGHTS: [u32; 3] = [1, 3, 7];
    let mut sum = 0;
    for (i, b) in payload.bytes().rev().enumerate() {
        sum += digit(b)? * WEIGHTS[i % 3];
    }
    Some(to_char(sum % 11 % 10))
}

/// Remainder by 7 of the payload read as a decimal number. DHL Express 10-digit waybills (DHL
/// Express waybill specification) and 12-digit Japanese domestic numbers of Japan Post, Yamato
/// Transport and Sagawa Express (each carrier's published "7DR" rule) use it.
pub fn mod7(payload: &str) -> Option<char> {
    if payload.is_empty() || payload.len() > 18 {
        return None;
    }
    let mut n: u64 = 0;
    for b in payload.bytes() {
        n = n * 10 + u64::from(digit(b)?);
    }
    Some(to_char((n % 7) as u32))
}

/// Deutsche Post DHL Identcode (12 digits, Deutsche Post "Identcode/Leitcode" barcode
/// specification): the 11 payload digits are weighted 4 and 9 alternately from the left; the check
/// digit brings the sum to a multiple of 10.
pub fn dhl_identcode(payload: &str) -> Option<char> {
    let mut sum = 0;
    for (i, b) in payload.bytes().enumerate() {
        sum += digit(b)? * if i % 2 == 0 { 4 } else { 9 };
    }
    Some(to_char((10 - sum % 10) % 10))
}

/// GLS parcel numbers (GLS "Uni-Box" technical documentation, parcel number check digit): the
/// 11 digits are weighted 3 and 1 alternately from the left, 1 is added to the sum, and the check
/// digit brings that to a multiple of 10.
pub fn gls(payload: &str) -> Option<char> {
    let mut sum = 1;
    for (i, b) in payload.bytes().enumerate() {
        sum += digit(b)? * if i % 2 == 0 { 3 } else { 1 };
    }
    Some(to_char((10 - sum % 10) % 10))
}

/// Luhn (ISO/IEC 7812-1, annex B), used by Purolator's 12-digit numbers: from the rightmost payload
/// digit every other digit is doubled (digits of the product summed); the check digit brings the
/// total to a multiple of 10.
pub fn luhn(payload: &str) -> Option<char> {
    let mut sum = 0;
    for (i, b) in payload.bytes().rev().enumerate() {
        let d = digit(b)?;
        sum += if i % 2 == 0 {
            let x = d * 2;
            if x > 9 { x - 9 } else { x }
        } else {
            d
        };
    }
    Some(to_char((10 - sum % 10) % 10))
}

/// ISO/IEC 7064 MOD 37,36 (hybrid system with M = 36), used for the check character of DPD parcel
/// labels (DPD parcel label specification): digits count 0–9 and letters A–Z 10–35.
pub fn iso7064_mod37_36(payload: &str) -> Option<char> {
    const M: u32 = 36;
    let mut p = M;
    for b in payload.bytes() {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return None,
        };
        let mut s = (p + v) % M;
        if s == 0 {
            s = M;
        }
        p = (s * 2) % (M + 1);
    }
    Some(to_char((M + 1 - p) % M))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that `code` verifies and, for algorithms that detect every single-digit
    /// substitution (GS1 mod 10, Luhn, GLS), that every one-digit change is caught.
    fn ok(code: &str, f: fn(&str) -> Option<char>, catches_every_substitution: bool) {
        assert!(verify(code, f), "{code} should verify");
        if !catches_every_substitution {
            return;
        }
        for (i, b) in code.bytes().enumerate() {
            if !b.is_ascii_digit() {
                continue;
            }
            for d in (b'0'..=b'9').filter(|d| *d != b) {
                let mut v = code.as_bytes().to_vec();
                v[i] = d;
                let altered = String::from_utf8(v).unwrap_or_default();
                assert!(!verify(&altered, f), "{altered} (from {code}) should fail");
            }
        }
    }

    #[test]
    fn gs1_examples() {
        // GS1 General Specifications worked examples: GTIN-13 and the SSCC in the spec.
        ok("4006381333931", gs1, true);
        ok("036000291452", gs1, true);
        ok("9501101530003", gs1, true);
        ok("00340433836442636597", gs1, true);
        assert!(!verify("4006381333932", gs1));
        assert_eq!(gs1("12A"), None);
    }

    #[test]
    fn s10_examples() {
        // UPU S10 worked example: serial 47312482 → 9; serial 12345678 → 5.
        assert_eq!(s10("47312482"), Some('9'));
        assert_eq!(s10("12345678"), Some('5'));
        // Remainder 0 gives 11 → 5; remainder 1 gives 10 → 0.
        assert_eq!(s10("00000000"), Some('5'));
        assert_eq!(s10("10000000"), Some('3'));
        assert_eq!(s10("1234567"), None);
    }

    #[test]
    fn s10_special_remainders() {
        // Find serials whose weighted sum leaves remainders 0 and 1 and check the mapping.
        let weights = [8u32, 6, 4, 2, 3, 5, 9, 7];
        let mut seen = [false; 2];
        for n in 0..2000u32 {
            let serial = format!("{n:08}");
            let sum: u32 = serial.bytes().zip(weights).map(|(b, w)| u32::from(b - b'0') * w).sum();
            match sum % 11 {
                0 => {
                    assert_eq!(s10(&serial), Some('5'), "{serial}");
                    seen[0] = true;
                }
                1 => {
                    assert_eq!(s10(&serial), Some('0'), "{serial}");
                    seen[1] = true;
                }
                r => assert_eq!(s10(&serial), char::from_digit(11 - r, 10), "{serial}"),
            }
        }
        assert!(seen[0] && seen[1]);
    }

    #[test]
    fn ups_examples() {
        // UPS's published sample number and the letter mapping.
        ok("999AA10123456784", ups, false);
        ok("5R89390357567127", ups, false);
        assert_eq!(ups("5R8939035756712"), Some('7'));
        assert_eq!(ups_value(b'A'), Some(2));
        assert_eq!(ups_value(b'H'), Some(9));
        assert_eq!(ups_value(b'I'), Some(0));
        assert_eq!(ups_value(b'Z'), Some(7));
        // OnTrac: the leading letter takes part (C → 4).
        ok("C11031500001879", ups, false);
    }

    #[test]
    fn fedex_examples() {
        ok("986578788855", fedex, false);
        assert!(!verify("996578788855", fedex));
        // Serial of a 34-digit label barcode: 13 digits + check.
        assert!(verify("00779017972697", fedex));
    }

    #[test]
    fn mod7_examples() {
        // DHL Express waybill: 331881002 mod 7 = 5.
        assert!(verify("3318810025", mod7));
        assert!(!verify("3318810024", mod7));
        // Japan Post sample number from its 12-digit domestic format.
        assert!(verify("405548424886", mod7));
        assert_eq!(mod7(""), None);
    }

    #[test]
    fn identcode_gls_luhn_examples() {
        // Deutsche Post Identcode sample 20 129 845 227 7.
        ok("201298452277", dhl_identcode, false);
        // GLS: the sum gets one added before the modulus, so it never equals the GS1 digit.
        for payload in ["12345678901", "00000000000", "55443322110"] {
            assert_ne!(gls(payload), gs1(payload));
        }
        assert_eq!(gls("00000000000"), Some('9'));
        ok("320595463938", luhn, true);
        assert!(!verify("320595463939", luhn));
    }

    #[test]
    fn iso7064_examples() {
        // DPD parcel label: 27 digits + check character.
        assert_eq!(iso7064_mod37_36("008182709980000020033350276"), Some('C'));
        assert_eq!(iso7064_mod37_36("008182709980000020045327276"), Some('N'));
        // Every single-character substitution in the payload changes the check character.
        let base = "0101502600365";
        let c = iso7064_mod37_36(base);
        for i in 0..base.len() {
            for d in b'0'..=b'9' {
                let mut v = base.as_bytes().to_vec();
                if v[i] == d {
                    continue;
                }
                v[i] = d;
                assert_ne!(iso7064_mod37_36(&String::from_utf8(v).unwrap_or_default()), c);
            }
        }
        assert_eq!(iso7064_mod37_36("a"), None);
    }
}
