//! Turns what a scanner or a person produced into the bare string the format rules look at:
//! symbology identifiers, GS1 application identifiers, FNC1 separators, spaces, dashes,
//! full-width characters and letter case are dealt with here.

/// The GS1 group separator that scanners emit for FNC1.
const GS: char = '\u{1d}';

/// What a scan contained, once the noise is gone.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    /// The candidate tracking string: only `0-9` and `A-Z`.
    pub body: String,
    /// A character that no tracking number contains was left after cleaning.
    pub foreign: bool,
    /// The symbology identifier said EAN/UPC (`]E0`, `]E3`, `]E4`): a product code.
    pub ean_symbology: bool,
    /// A GS1 trade-item number (AI 01 or 02): a product, not a shipment.
    pub gtin: bool,
    /// The body is the SSCC of AI 00.
    pub sscc: bool,
    /// A ship-to postal code (AI 420/421) came with the scan.
    pub postcode: Option<String>,
    /// The scan started with `%`, as DPD's parcel barcode does.
    pub percent: bool,
}

/// GS1 application identifiers that describe the shipment rather than identify it.
fn is_attribute_ai(ai: &str) -> bool {
    matches!(
        ai,
        "10" | "11"
            | "12"
            | "13"
            | "15"
            | "16"
            | "17"
            | "20"
            | "21"
            | "22"
            | "30"
            | "37"
            | "400"
            | "403"
            | "410"
            | "413"
            | "3300"
            | "3301"
            | "3302"
            | "3303"
            | "3400"
            | "3401"
    )
}

/// Maps full-width forms (as typed with a Chinese input method) to ASCII.
fn half_width(c: char) -> char {
    match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        '\u{3000}' => ' ',
        c => c,
    }
}

/// Keeps letters and digits (upper-cased); drops spaces and the punctuation people and labels
/// put between groups. Returns the cleaned text and whether anything else was found.
fn clean(s: &str) -> (String, bool) {
    let mut out = String::with_capacity(s.len());
    let mut foreign = false;
    for c in s.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => out.push(c.to_ascii_uppercase()),
            ' ' | '\t' | '\r' | '\n' | '\u{a0}' | '-' | '.' | '_' | '/' | '*' | '%' | '#' | GS => {}
            _ => foreign = true,
        }
    }
    (out, foreign)
}

/// Splits `(ai)value(ai)value` human-readable GS1 text. `None` when the text is not in that form.
fn parenthesised(s: &str) -> Option<Vec<(String, String)>> {
    let s = s.trim();
    if !s.starts_with('(') {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(r) = rest.strip_prefix('(') {
        let close = r.find(')')?;
        let ai = &r[..close];
        if ai.is_empty() || ai.len() > 4 || !ai.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let after = &r[close + 1..];
        let end = after.find('(').unwrap_or(after.len());
        out.push((ai.to_string(), after[..end].to_string()));
        rest = &after[end..];
    }
    Some(out)
}

/// Splits raw GS1 element strings (as a GS1-128 or GS1 DataMatrix scanner delivers them,
/// FNC1 shown as the group separator) into (AI, value) pairs for the AIs that matter here.
fn element_strings(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for segment in s.split(GS) {
        let mut seg = segment;
        while !seg.is_empty() {
            let fixed = |ai: &str, len: usize| -> Option<(String, String, usize)> {
                let value = seg.strip_prefix(ai)?.get(..len)?;
                value.bytes().all(|b| b.is_ascii_digit()).then(|| (ai.to_string(), value.to_string(), ai.len() + len))
            };
            if let Some((ai, v, used)) = fixed("00", 18).or_else(|| fixed("01", 14)).or_else(|| fixed("02", 14)) {
                out.push((ai, v));
                seg = &seg[used..];
                continue;
            }
            let var = ["420", "421", "401", "402", "403"].into_iter().find(|ai| seg.starts_with(*ai) && seg.len() > 3);
            match var {
                // A routing postcode runs to the next separator. Without a separator the postcode
                // and the tracking number run together; the USPS rule takes that case apart.
                Some(ai) if segment.len() < s.len() || ai != "420" => {
                    out.push((ai.to_string(), seg[3..].to_string()));
                }
                _ => out.push((String::new(), seg.to_string())),
            }
            break;
        }
    }
    out
}

/// Reads one scanned or typed input.
pub(crate) fn scan(input: &str) -> Scan {
    let text: String = input.trim().chars().map(half_width).collect();
    let mut text = text.trim().replace("<GS>", "\u{1d}").replace("{FNC1}", "\u{1d}");
    let mut scan = Scan::default();
    // Symbology identifier (ISO/IEC 15424): `]` + symbology letter + modifier.
    let mut gs1_symbology = false;
    if let Some(rest) = text.strip_prefix(']') {
        let mut cs = rest.chars();
        if let (Some(sym), Some(modifier)) = (cs.next(), cs.next())
            && sym.is_ascii_alphabetic()
            && modifier.is_ascii_alphanumeric()
        {
            scan.ean_symbology = sym == 'E';
            gs1_symbology = matches!((sym, modifier), ('C', '1') | ('d', '2') | ('Q', '3') | ('e', '0'));
            text = cs.as_str().to_string();
        }
    }
    // A leading FNC1 (GS1-128 start) carries no data.
    let text = text.trim_start_matches(GS).to_string();
    scan.percent = text.starts_with('%');
    let pairs = match parenthesised(&text) {
        Some(p) => p,
        None if gs1_symbology || text.contains(GS) => element_strings(&text),
        None => vec![(String::new(), text.clone())],
    };
    let mut body = String::new();
    for (ai, value) in pairs {
        let (value, foreign) = clean(&value);
        scan.foreign |= foreign;
        match ai.as_str() {
            "00" => {
                if body.is_empty() {
                    body = value;
                    scan.sscc = true;
                }
            }
            "01" | "02" => scan.gtin = true,
            "420" | "421" => scan.postcode = Some(value),
            "401" | "402" | "" => {
                if body.is_empty() {
                    body = value;
                }
            }
            ai if is_attribute_ai(ai) => {}
            // Any other AI (USPS channel identifiers 91–95, FedEx 96 …) is part of the number.
            ai => {
                if body.is_empty() {
                    body = format!("{ai}{value}");
                }
            }
        }
    }
    scan.body = body;
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_spaces_dashes_case_and_full_width() {
        assert_eq!(scan(" 1z 999 aa1-01234 56784 ").body, "1Z999AA10123456784");
        assert_eq!(scan("ＳＦ１２３４５６７８９０１２").body, "SF123456789012");
        assert_eq!(scan("RR 473 124 829 GB").body, "RR473124829GB");
        let s = scan("SF1234567890 顺丰");
        assert!(s.foreign);
    }

    #[test]
    fn symbology_identifiers() {
        let s = scan("]C1420100239261290113185417468510");
        assert_eq!(s.body, "420100239261290113185417468510");
        assert!(!s.ean_symbology);
        let s = scan("]E04006381333931");
        assert!(s.ean_symbology);
        assert_eq!(s.body, "4006381333931");
        assert_eq!(scan("]Q3RR473124829GB").body, "RR473124829GB");
    }

    #[test]
    fn gs1_application_identifiers() {
        let s = scan("(00)340433836442636597");
        assert!(s.sscc);
        assert_eq!(s.body, "340433836442636597");
        let s = scan("(420)10023(92)00190132607600833457");
        assert_eq!(s.postcode.as_deref(), Some("10023"));
        assert_eq!(s.body, "9200190132607600833457");
        let s = scan("(01)09501101530003(17)250101");
        assert!(s.gtin);
        let s = scan("]C1420100233424\u{1d}9200190132607600833457");
        assert_eq!(s.postcode.as_deref(), Some("100233424"));
        assert_eq!(s.body, "9200190132607600833457");
        let s = scan("]C100340433836442636597");
        assert!(s.sscc);
        assert_eq!(s.body, "340433836442636597");
        let s = scan("<GS>42010023<GS>9200190132607600833457");
        assert_eq!(s.body, "9200190132607600833457");
    }

    #[test]
    fn dpd_percent_prefix() {
        let s = scan("%008182709980000020033350276");
        assert!(s.percent);
        assert_eq!(s.body, "008182709980000020033350276");
    }
}
