//! Carrier recognition: from any scanned barcode or typed tracking number, which carrier and
//! service it belongs to, and whether its check digit (where the format has one) is right.
//!
//! The work is split in three: [`scan`] strips scanner noise (symbology identifiers, GS1
//! application identifiers, FNC1, spaces, dashes, case); `rules` holds the table of carrier
//! formats, each a small hand-written matcher naming its published source; this module ranks what
//! the rules found, refuses what is not a tracking barcode, and shapes the answer.
//! docs/CARRIERS.md lists every format.

pub mod check;
mod rules;
mod scan;
#[cfg(test)]
mod tests;

use serde::Serialize;

/// Longest input accepted, in characters; longer inputs are refused.
pub const MAX_INPUT_CHARS: usize = 256;

/// Shortest and longest cleaned string that may be a tracking number.
const MIN_TRACKING_LEN: usize = 9;
const MAX_TRACKING_LEN: usize = 40;

/// A carrier's name in English and Chinese under a stable lowercase id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CarrierInfo {
    pub id: &'static str,
    pub name: &'static str,
    pub name_zh: &'static str,
}

const fn c(id: &'static str, name: &'static str, name_zh: &'static str) -> CarrierInfo {
    CarrierInfo { id, name, name_zh }
}

/// Every carrier the recogniser can name, besides the postal operators of [`S10_OPERATORS`].
pub const CARRIERS: &[CarrierInfo] = &[
    c("sf-express", "SF Express", "顺丰速运"),
    c("jd", "JD Logistics", "京东物流"),
    c("zto", "ZTO Express", "中通快递"),
    c("yto", "YTO Express", "圆通速递"),
    c("sto", "STO Express", "申通快递"),
    c("yunda", "Yunda Express", "韵达速递"),
    c("jt-express", "J&T Express", "极兔速递"),
    c("deppon", "Deppon Express", "德邦快递"),
    c("cainiao", "Cainiao", "菜鸟"),
    c("ems", "China EMS", "中国邮政速递物流 EMS"),
    c("china-post", "China Post", "中国邮政"),
    c("yunexpress", "YunExpress", "云途物流"),
    c("ups", "UPS", "UPS 联合包裹"),
    c("fedex", "FedEx", "联邦快递"),
    c("usps", "USPS", "美国邮政"),
    c("dhl", "DHL", "DHL 敦豪"),
    c("tnt", "TNT", "TNT 快递"),
    c("aramex", "Aramex", "Aramex 安迈世"),
    c("royal-mail", "Royal Mail", "英国皇家邮政"),
    c("parcelforce", "Parcelforce Worldwide", "Parcelforce 英国包裹速递"),
    c("dpd", "DPD", "DPD 快递"),
    c("gls", "GLS", "GLS 快递"),
    c("hermes", "Hermes / Evri", "Hermes 快递"),
    c("canada-post", "Canada Post", "加拿大邮政"),
    c("purolator", "Purolator", "Purolator 快递"),
    c("japan-post", "Japan Post", "日本邮便"),
    c("yamato", "Yamato Transport", "大和运输（黑猫宅急便）"),
    c("sagawa", "Sagawa Express", "佐川急便"),
    c("australia-post", "Australia Post", "澳大利亚邮政"),
    c("amazon", "Amazon Logistics", "亚马逊物流"),
    c("ontrac", "OnTrac", "OnTrac 快递"),
    c("lasership", "LaserShip", "LaserShip 快递"),
    c("yodel", "Yodel", "Yodel 快递"),
    c("postnl", "PostNL", "荷兰邮政"),
    c("la-poste", "La Poste / Colissimo", "法国邮政"),
    c("deutsche-post", "Deutsche Post", "德国邮政"),
    c("hongkong-post", "Hongkong Post", "香港邮政"),
    c("macau-post", "Macau Post", "澳门邮政"),
    c("chunghwa-post", "Chunghwa Post", "中华邮政"),
    c("korea-post", "Korea Post", "韩国邮政"),
    c("singpost", "Singapore Post", "新加坡邮政"),
    c("bpost", "bpost", "比利时邮政"),
    c("swiss-post", "Swiss Post", "瑞士邮政"),
    c("poste-italiane", "Poste Italiane", "意大利邮政"),
    c("correos", "Correos", "西班牙邮政"),
    c("russian-post", "Russian Post", "俄罗斯邮政"),
    c("india-post", "India Post", "印度邮政"),
    c("nz-post", "New Zealand Post", "新西兰邮政"),
    c("postnord", "PostNord", "北欧邮政"),
    c("posten-norge", "Posten Norge", "挪威邮政"),
    c("posti", "Posti", "芬兰邮政"),
    c("austrian-post", "Austrian Post", "奥地利邮政"),
    c("poczta-polska", "Poczta Polska", "波兰邮政"),
    c("an-post", "An Post", "爱尔兰邮政"),
    c("correios", "Correios", "巴西邮政"),
    c("correos-mexico", "Correos de México", "墨西哥邮政"),
    c("thailand-post", "Thailand Post", "泰国邮政"),
    c("pos-malaysia", "Pos Malaysia", "马来西亚邮政"),
    c("vietnam-post", "Vietnam Post", "越南邮政"),
    c("pos-indonesia", "Pos Indonesia", "印度尼西亚邮政"),
    c("phlpost", "PHLPost", "菲律宾邮政"),
    c("ptt", "PTT", "土耳其邮政"),
    c("israel-post", "Israel Post", "以色列邮政"),
    c("ukrposhta", "Ukrposhta", "乌克兰邮政"),
    c("sapo", "South African Post Office", "南非邮政"),
    c("emirates-post", "Emirates Post", "阿联酋邮政"),
    c("saudi-post", "Saudi Post (SPL)", "沙特邮政"),
    c("ctt", "CTT Correios de Portugal", "葡萄牙邮政"),
];

/// The designated postal operator behind the country code of UPU S10 identifiers. Countries not
/// listed get the id `post-xx` (their lowercase ISO code).
pub const S10_OPERATORS: &[(&str, &str)] = &[
    ("CN", "china-post"),
    ("US", "usps"),
    ("GB", "royal-mail"),
    ("JP", "japan-post"),
    ("AU", "australia-post"),
    ("CA", "canada-post"),
    ("DE", "deutsche-post"),
    ("FR", "la-poste"),
    ("HK", "hongkong-post"),
    ("MO", "macau-post"),
    ("TW", "chunghwa-post"),
    ("KR", "korea-post"),
    ("SG", "singpost"),
    ("NL", "postnl"),
    ("BE", "bpost"),
    ("CH", "swiss-post"),
    ("IT", "poste-italiane"),
    ("ES", "correos"),
    ("RU", "russian-post"),
    ("IN", "india-post"),
    ("NZ", "nz-post"),
    ("SE", "postnord"),
    ("DK", "postnord"),
    ("NO", "posten-norge"),
    ("FI", "posti"),
    ("AT", "austrian-post"),
    ("PL", "poczta-polska"),
    ("IE", "an-post"),
    ("BR", "correios"),
    ("MX", "correos-mexico"),
    ("TH", "thailand-post"),
    ("MY", "pos-malaysia"),
    ("VN", "vietnam-post"),
    ("ID", "pos-indonesia"),
    ("PH", "phlpost"),
    ("TR", "ptt"),
    ("IL", "israel-post"),
    ("UA", "ukrposhta"),
    ("ZA", "sapo"),
    ("AE", "emirates-post"),
    ("SA", "saudi-post"),
    ("PT", "ctt"),
];

/// The names of a carrier id: the table's, or a generic postal operator for `post-xx`. Ids are
/// matched without regard to case, and `_` stands for `-` (`china_post` as rate tables write it).
pub fn carrier_names(id: &str) -> Option<(String, String)> {
    let id = id.trim().to_ascii_lowercase().replace('_', "-");
    let id = id.as_str();
    if let Some(info) = CARRIERS.iter().find(|c| c.id == id) {
        return Some((info.name.to_string(), info.name_zh.to_string()));
    }
    let cc = id.strip_prefix("post-")?;
    (cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_lowercase())).then(|| {
        let up = cc.to_ascii_uppercase();
        (format!("Postal operator ({up})"), format!("{up} 邮政"))
    })
}

/// Whether the format's check digit was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CheckDigit {
    /// The format has a check digit and it is right.
    Verified,
    /// The format has a check digit and it is wrong (a mistyped or misread number).
    Mismatch,
    /// The format has no (public) check digit.
    #[serde(rename = "none")]
    NoCheckDigit,
}

/// One reading of the input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    /// Stable lowercase carrier id, e.g. `ups`, `sf-express`, `china-post`.
    pub carrier: String,
    pub carrier_name: String,
    pub carrier_name_zh: String,
    /// The carrier's service or product, e.g. `Ground`, `EMS`, `IMpb`.
    pub service: String,
    /// The tracking number as this carrier uses it (routing prefixes and wrappers removed).
    pub tracking_number: String,
    /// The number fits the format and its check digit, where it has one, is right.
    pub valid: bool,
    pub check_digit: CheckDigit,
    /// 0–1; candidates are sorted best first.
    pub confidence: f64,
}

/// The answer for one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Detection {
    /// The input exactly as given.
    pub input: String,
    /// The normalised tracking number; null when the input is not a tracking barcode.
    pub tracking_number: Option<String>,
    /// The carrier id when one reading is clearly best; null when unknown or ambiguous.
    pub carrier: Option<String>,
    pub carrier_name: Option<String>,
    pub carrier_name_zh: Option<String>,
    pub service: Option<String>,
    /// True when the best reading fits its format and its check digit, where it has one, is right.
    pub valid: bool,
    pub check_digit: CheckDigit,
    /// Every plausible reading, best first.
    pub candidates: Vec<Candidate>,
    /// Why the input was refused, or why no carrier was chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Detection {
    fn refused(input: &str, reason: impl Into<String>) -> Detection {
        Detection {
            input: input.to_string(),
            tracking_number: None,
            carrier: None,
            carrier_name: None,
            carrier_name_zh: None,
            service: None,
            valid: false,
            check_digit: CheckDigit::NoCheckDigit,
            candidates: Vec::new(),
            reason: Some(reason.into()),
        }
    }
}

/// The lowest confidence at which the best reading is named as the carrier.
const MIN_CONFIDENCE: f64 = 0.4;
/// How far the best reading must lead the next one (of another carrier) to be named.
const MIN_LEAD: f64 = 0.15;

/// Identifies the carrier of one scanned or typed code.
pub fn detect(input: &str) -> Detection {
    if input.chars().count() > MAX_INPUT_CHARS {
        return Detection::refused(input, format!("longer than {MAX_INPUT_CHARS} characters"));
    }
    let s = scan::scan(input);
    let body = s.body.as_str();
    if let Some(reason) = refusal(input, &s) {
        return Detection::refused(input, reason);
    }
    let mut hits = rules::find(&s);
    if let Some(reason) = product_code(body, &s, &hits) {
        return Detection::refused(input, reason);
    }
    // A format with nothing distinctive about it (a bare run of digits) is no evidence at all
    // when its check digit fails.
    hits.retain(|h| h.distinctive || h.check != CheckDigit::Mismatch);
    let mut candidates: Vec<Candidate> = Vec::new();
    for h in hits {
        let confidence = h.confidence();
        let Some((carrier_name, carrier_name_zh)) = carrier_names(&h.carrier) else { continue };
        let cand = Candidate {
            carrier: h.carrier,
            carrier_name,
            carrier_name_zh,
            service: h.service,
            tracking_number: h.tracking,
            valid: h.check != CheckDigit::Mismatch,
            check_digit: h.check,
            confidence: (confidence * 100.0).round() / 100.0,
        };
        // One entry per carrier and service: the better reading wins.
        match candidates.iter_mut().find(|c| c.carrier == cand.carrier && c.service == cand.service) {
            Some(existing) if existing.confidence >= cand.confidence => {}
            Some(existing) => *existing = cand,
            None => candidates.push(cand),
        }
    }
    // Stable sort: equal confidence keeps the rule table's order.
    candidates.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let Some(best) = candidates.first().cloned() else {
        let mut d = Detection::refused(input, "no known carrier format matches");
        d.tracking_number = Some(body.to_string());
        if let Some(sscc) = rules::sscc_digits(&s) {
            d.tracking_number = Some(sscc.to_string());
            d.service = Some("SSCC-18".to_string());
            d.reason = Some("a GS1 SSCC-18 shipping container code: it names the shipper, not the carrier".into());
            d.valid = check::verify(sscc, check::gs1);
            d.check_digit = if d.valid { CheckDigit::Verified } else { CheckDigit::Mismatch };
        }
        return d;
    };
    let runner_up = candidates.iter().find(|c| c.carrier != best.carrier).map(|c| c.confidence);
    let clear = best.confidence >= MIN_CONFIDENCE && runner_up.is_none_or(|r| best.confidence - r >= MIN_LEAD);
    let reason = if clear {
        None
    } else if best.confidence < MIN_CONFIDENCE {
        Some("the format is too generic to name a carrier with confidence".to_string())
    } else {
        Some("several carriers use this format; see candidates".to_string())
    };
    Detection {
        input: input.to_string(),
        tracking_number: Some(best.tracking_number.clone()),
        carrier: clear.then(|| best.carrier.clone()),
        carrier_name: clear.then(|| best.carrier_name.clone()),
        carrier_name_zh: clear.then(|| best.carrier_name_zh.clone()),
        service: clear.then(|| best.service.clone()),
        valid: best.valid,
        check_digit: best.check_digit,
        candidates,
        reason,
    }
}

/// Inputs that are plainly not tracking numbers, whatever the rules might say.
fn refusal(input: &str, s: &scan::Scan) -> Option<String> {
    let body = s.body.as_str();
    let upper = input.trim().to_ascii_uppercase();
    if upper.starts_with("HTTP://") || upper.starts_with("HTTPS://") || upper.starts_with("WWW.") {
        return Some("a web address, not a tracking number".into());
    }
    const ASSET_WORDS: &[&str] = &["ASSET", "ASSETTAG", "INVENTORY", "INV", "TAG", "EQUIP", "EQUIPMENT", "PROPERTY"];
    let word: String = upper.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    let after = &upper[word.len()..];
    if ASSET_WORDS.contains(&word.as_str())
        && after.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | ' ' | ':' | '#' | '_'))
    {
        return Some("an internal asset or inventory tag, not a tracking number".into());
    }
    if s.foreign {
        return Some("contains characters that no tracking number uses".into());
    }
    if s.gtin {
        return Some("a GS1 trade item number (GTIN, AI 01/02): identifies a product, not a shipment".into());
    }
    if s.ean_symbology {
        return Some("an EAN/UPC product barcode, not a tracking number".into());
    }
    if body.is_empty() {
        return Some("empty: no letters or digits".into());
    }
    if body.len() > MAX_TRACKING_LEN {
        return Some(format!("longer than any tracking number ({MAX_TRACKING_LEN} characters)"));
    }
    if body.len() == 8 && body.bytes().all(|b| b.is_ascii_digit()) && (check::verify(body, check::gs1) || upc_e(body)) {
        return Some("an EAN-8 / UPC-E product code, not a tracking number".into());
    }
    if body.len() < MIN_TRACKING_LEN {
        return Some(format!(
            "too short for a tracking number ({} characters): an internal label, asset tag or reference code",
            body.len()
        ));
    }
    None
}

/// A UPC-E code (8 digits, number system 0 or 1) whose check digit matches its UPC-A expansion
/// (GS1 General Specifications, UPC-E zero suppression).
fn upc_e(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() != 8 || !(b[0] == b'0' || b[0] == b'1') {
        return false;
    }
    let (m, last) = (&b[1..6], b[6]);
    let mut e = Vec::with_capacity(11);
    e.push(b[0]);
    match last {
        b'0'..=b'2' => {
            e.extend_from_slice(&m[..2]);
            e.push(last);
            e.extend_from_slice(b"0000");
            e.extend_from_slice(&m[2..5]);
        }
        b'3' => {
            e.extend_from_slice(&m[..3]);
            e.extend_from_slice(b"00000");
            e.extend_from_slice(&m[3..5]);
        }
        b'4' => {
            e.extend_from_slice(&m[..4]);
            e.extend_from_slice(b"00000");
            e.push(m[4]);
        }
        _ => {
            e.extend_from_slice(&m[..5]);
            e.extend_from_slice(b"0000");
            e.push(last);
        }
    }
    let expanded = String::from_utf8(e).unwrap_or_default();
    check::gs1(&expanded) == Some(char::from(b[7]))
}

/// EAN-13 prefixes that only ever start product codes: GS1 China (690–699) and the
/// ISSN/ISBN ranges (977–979).
fn product_only_prefix(body: &str) -> bool {
    body.len() == 13
        && (body.starts_with("69") || body.starts_with("977") || body.starts_with("978") || body.starts_with("979"))
}

/// A 12- or 13-digit code with a valid GS1 check digit is a UPC-A or EAN-13 product code unless a
/// carrier prints that shape with a numeric prefix of two or more digits (or letters). A carrier
/// check digit that also happens to verify is no evidence here: with several 12-digit check
/// algorithms in use, a product code passes one of them by chance about a third of the time.
fn product_code(body: &str, s: &scan::Scan, hits: &[rules::Hit]) -> Option<String> {
    if s.sscc || !(body.len() == 12 || body.len() == 13) || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !check::verify(body, check::gs1) {
        return None;
    }
    let carrier_evidence = hits.iter().any(|h| h.long_prefix || h.distinctive);
    if carrier_evidence && !product_only_prefix(body) {
        return None;
    }
    let kind = if body.len() == 12 { "UPC-A" } else { "EAN-13" };
    Some(format!("a GS1 {kind} product code (valid GS1 check digit), not a tracking number"))
}
