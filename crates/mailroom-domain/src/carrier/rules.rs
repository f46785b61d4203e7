//! The table of carrier formats. Simple formats are rows of [`PREFIXED`] and [`NUMERIC`];
//! formats with structure (UPU S10, UPS, USPS IMpb with its routing prefix, FedEx barcodes, DPD,
//! SSCC, …) are small matchers in [`MATCHERS`]. Each names the published source of its rule.
//!
//! A rule's `base` is how much the shape alone says about the carrier: high for letter prefixes
//! and fixed wrappers, low for a bare run of digits that several carriers print.

use super::CheckDigit;
use super::check;
use super::scan::Scan;

/// One reading of the input by one rule.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub carrier: String,
    pub service: String,
    pub tracking: String,
    pub check: CheckDigit,
    pub base: f64,
    /// How much a verified check digit adds: 0.5 for mod 10 and mod 11 checks, less for mod 7,
    /// which a random number passes one time in seven.
    pub strength: f64,
    /// The shape alone (letters, a fixed wrapper) points at this carrier.
    pub distinctive: bool,
    /// Matched a numeric prefix of two or more digits that the carrier prints.
    pub long_prefix: bool,
}

impl Hit {
    fn new(carrier: &str, service: &str, tracking: &str, base: f64) -> Hit {
        Hit {
            carrier: carrier.to_string(),
            service: service.to_string(),
            tracking: tracking.to_string(),
            check: CheckDigit::NoCheckDigit,
            base,
            strength: 0.5,
            distinctive: true,
            long_prefix: false,
        }
    }

    fn checked(mut self, ok: bool) -> Hit {
        self.check = if ok { CheckDigit::Verified } else { CheckDigit::Mismatch };
        self
    }

    /// A verified check digit removes part of the remaining doubt. A failed one costs 30 %: the
    /// shape still says which carrier printed the number (bare-digit shapes with a failed check
    /// are dropped altogether by the caller).
    pub fn confidence(&self) -> f64 {
        match self.check {
            CheckDigit::Verified => self.base + (1.0 - self.base) * self.strength,
            CheckDigit::NoCheckDigit => self.base,
            CheckDigit::Mismatch => self.base * 0.7,
        }
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn all_letters(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// A letter prefix followed by a run of digits.
struct PrefixRule {
    carrier: &'static str,
    service: &'static str,
    prefix: &'static str,
    digits: (usize, usize),
    base: f64,
}

const fn p(
    carrier: &'static str,
    service: &'static str,
    prefix: &'static str,
    min: usize,
    max: usize,
    base: f64,
) -> PrefixRule {
    PrefixRule { carrier, service, prefix, digits: (min, max), base }
}

/// Prefix formats. None of these carriers publishes a check digit.
const PREFIXED: &[PrefixRule] = &[
    // SF Express e-waybills: "SF" + 12–13 digits (SF Express waybill numbering on its labels).
    p("sf-express", "Express", "SF", 12, 13, 0.95),
    // YTO Express: "YT" + 13 digits (YTO waybill numbering).
    p("yto", "Express", "YT", 13, 13, 0.9),
    // YunExpress: "YT" + 16 digits (YunExpress tracking numbers).
    p("yunexpress", "International", "YT", 16, 17, 0.9),
    // J&T Express China: "JT" + 13 digits.
    p("jt-express", "Express", "JT", 13, 13, 0.9),
    // Deppon Express: "DPK" + 12 digits.
    p("deppon", "Express", "DPK", 12, 12, 0.9),
    // Cainiao global logistics numbers: "LP" + 14–16 digits; domestic "CN" + digits.
    p("cainiao", "Global", "LP", 14, 16, 0.85),
    p("cainiao", "Domestic", "CN", 12, 20, 0.6),
    // JD Logistics: "JD" + 13–15 digits (JD waybill numbering; letter-suffixed forms are a matcher).
    p("jd", "Express", "JD", 13, 15, 0.9),
    // Yodel UK domestic numbers: "JD" or "JJD" + 16 digits (Yodel label guide).
    p("yodel", "Parcel", "JD", 16, 16, 0.7),
    p("yodel", "Parcel", "JJD", 16, 16, 0.6),
    // DHL Express piece identifiers: "JD" + 18 digits; DHL Paket/parcel "JJD" + digits
    // (DHL piece identifier, ISO 15459 licence plate issued under DHL's "J" issuing agency code).
    p("dhl", "Express piece ID", "JD", 18, 18, 0.8),
    p("dhl", "Parcel (JJD)", "JJD", 10, 21, 0.7),
    p("dhl", "Parcel Benelux", "JVGL", 10, 20, 0.8),
    // DHL eCommerce: "GM" + 16–22 digits (DHL eCommerce label specification).
    p("dhl", "eCommerce", "GM", 16, 22, 0.85),
    // Amazon Logistics: "TBA" + 12 digits.
    p("amazon", "Logistics", "TBA", 12, 12, 0.95),
    // LaserShip: "1LS" + 12–13 digits, "LX" + 8 digits (LaserShip label formats).
    p("lasership", "Parcel", "1LS", 12, 13, 0.8),
    p("lasership", "Parcel", "LX", 8, 8, 0.7),
];

/// Check algorithms of all-digit formats, applied to the whole number (last digit = check).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Algo {
    None,
    Gs1,
    FedEx,
    Mod7,
    Identcode,
    Gls,
    Luhn,
}

impl Algo {
    fn verify(self, code: &str) -> Option<bool> {
        let f: fn(&str) -> Option<char> = match self {
            Algo::None => return None,
            Algo::Gs1 => check::gs1,
            Algo::FedEx => check::fedex,
            Algo::Mod7 => check::mod7,
            Algo::Identcode => check::dhl_identcode,
            Algo::Gls => check::gls,
            Algo::Luhn => check::luhn,
        };
        Some(check::verify(code, f))
    }
}

/// An all-digit format: its lengths, the prefixes the carrier prints (empty = any) and
/// prefixes excluded, and its check digit.
struct NumericRule {
    carrier: &'static str,
    service: &'static str,
    lens: &'static [usize],
    prefixes: &'static [&'static str],
    exclude: &'static [&'static str],
    algo: Algo,
    base: f64,
}

const fn n(
    carrier: &'static str,
    service: &'static str,
    lens: &'static [usize],
    prefixes: &'static [&'static str],
    algo: Algo,
    base: f64,
) -> NumericRule {
    NumericRule { carrier, service, lens, prefixes, exclude: &[], algo, base }
}

const NUMERIC: &[NumericRule] = &[
    // FedEx Express 12-digit tracking numbers, check weights 1,3,7 mod 11 (FedEx label spec).
    n("fedex", "Express", &[12], &[], Algo::FedEx, 0.45),
    // FedEx Ground 15-digit numbers, GS1 mod 10 (FedEx Ground label specification).
    n("fedex", "Ground", &[15], &[], Algo::Gs1, 0.45),
    // DHL Express 10-digit waybills (and 11-digit), check = serial mod 7 (DHL Express waybill spec).
    n("dhl", "Express", &[10, 11], &[], Algo::Mod7, 0.45),
    // Deutsche Post DHL Identcode, weights 4,9 (Deutsche Post Identcode specification).
    n("dhl", "Paket (Identcode)", &[12], &[], Algo::Identcode, 0.35),
    // GLS parcel numbers: 11 digits + check, weights 3,1 plus one (GLS Uni-Box documentation).
    n("gls", "Parcel", &[12], &[], Algo::Gls, 0.35),
    // Japanese domestic 12-digit numbers, check = first 11 digits mod 7 (Japan Post, Yamato and
    // Sagawa each publish the same "7DR" rule, so the number alone cannot tell them apart).
    n("japan-post", "Yu-Pack / domestic", &[12], &[], Algo::Mod7, 0.4),
    n("yamato", "TA-Q-BIN", &[12], &[], Algo::Mod7, 0.4),
    n("sagawa", "Hikyaku Express", &[12], &[], Algo::Mod7, 0.35),
    // Purolator 12-digit PINs starting 0–5, Luhn check (Purolator shipping label specification).
    n("purolator", "Express", &[12], &["0", "1", "2", "3", "4", "5"], Algo::Luhn, 0.3),
    // Canada Post 16-digit domestic PINs, GS1 mod 10 (Canada Post barcode specification).
    n("canada-post", "Domestic parcel", &[16], &[], Algo::Gs1, 0.45),
    // Hermes/Evri 14-digit parcel numbers, weights 3,1 (Hermes parcel label specification).
    n("hermes", "Parcel", &[14], &[], Algo::Gs1, 0.35),
    // DPD 14-digit parcel numbers carry no check digit of their own; the check character that
    // follows them is handled by the DPD matcher.
    n("dpd", "Parcel", &[14], &["0"], Algo::None, 0.3),
    // Chinese express networks print all-digit waybills without a public check digit; they are
    // told apart by length and the leading digits their waybill ranges use.
    NumericRule {
        carrier: "zto",
        service: "Express",
        lens: &[12, 13, 14],
        prefixes: &["7", "5", "3"],
        exclude: &["77"],
        algo: Algo::None,
        base: 0.45,
    },
    n("sto", "Express", &[12, 13], &["772", "773"], Algo::None, 0.6),
    n("yunda", "Express", &[13, 15], &["31", "43", "46"], Algo::None, 0.55),
    n("ems", "Domestic express", &[13], &["1"], Algo::None, 0.3),
    NumericRule {
        carrier: "china-post",
        service: "Domestic parcel",
        lens: &[13],
        prefixes: &["9"],
        exclude: &["977", "978", "979"],
        algo: Algo::None,
        base: 0.3,
    },
    // Aramex 11-digit waybills and TNT 9-digit consignment numbers publish no check digit.
    n("aramex", "Express", &[11], &[], Algo::None, 0.2),
    n("tnt", "Express", &[9], &[], Algo::None, 0.3),
];

type Matcher = fn(&Scan, &mut Vec<Hit>);

/// Formats with structure, each a small parser.
const MATCHERS: &[Matcher] = &[
    s10,
    ups,
    usps_and_smartpost,
    fedex_barcodes,
    sscc_dhl,
    dpd,
    ontrac,
    jd_lettered,
    parcelforce,
    australia_post,
    postnl,
    colissimo,
    purolator_alpha,
];

/// Every reading of the scan, in table order.
pub(crate) fn find(scan: &Scan) -> Vec<Hit> {
    let body = scan.body.as_str();
    let mut hits = Vec::new();
    for m in MATCHERS {
        m(scan, &mut hits);
    }
    for r in PREFIXED {
        if let Some(rest) = body.strip_prefix(r.prefix)
            && all_digits(rest)
            && (r.digits.0..=r.digits.1).contains(&rest.len())
        {
            hits.push(Hit::new(r.carrier, r.service, body, r.base));
        }
    }
    if all_digits(body) && !scan.sscc {
        for r in NUMERIC {
            if !r.lens.contains(&body.len()) || r.exclude.iter().any(|x| body.starts_with(x)) {
                continue;
            }
            let prefix = r.prefixes.iter().find(|x| body.starts_with(**x));
            if !r.prefixes.is_empty() && prefix.is_none() {
                continue;
            }
            let mut h = Hit::new(r.carrier, r.service, body, r.base);
            h.distinctive = false;
            h.long_prefix = prefix.is_some_and(|x| x.len() >= 2);
            if r.algo == Algo::Mod7 {
                h.strength = 0.3;
            }
            if let Some(ok) = r.algo.verify(body) {
                h = h.checked(ok);
            }
            hits.push(h);
        }
    }
    hits
}

/// ISO 3166-1 alpha-2 country codes (the last two characters of an S10 identifier).
const ISO_COUNTRIES: &str = "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZ\
DEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJP\
KEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOM\
PAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZ\
UAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

fn is_country(cc: &str) -> bool {
    cc.len() == 2 && ISO_COUNTRIES.as_bytes().chunks(2).any(|c| c == cc.as_bytes())
}

/// The meaning of an S10 service indicator (UPU S10 standard, service indicator table).
fn s10_service(si: &str) -> Option<&'static str> {
    let b = si.as_bytes();
    Some(match (b[0], b[1]) {
        (b'E', _) => "EMS",
        (b'C', _) => "Parcel post",
        (b'R', _) => "Registered letter",
        (b'L', _) => "Letter post express (tracked)",
        (b'V', _) => "Insured letter",
        (b'U', _) => "Letter post (customs)",
        (b'H', _) => "E-commerce parcel",
        (b'M', _) => "M bag",
        (b'Q', b'A'..=b'M') => "International Business Reply",
        (b'A', b'V'..=b'Z') | (b'B' | b'D' | b'N' | b'P' | b'Z', _) | (b'G', b'A' | b'D') => "Domestic / bilateral",
        _ => return None,
    })
}

/// UPU S10 item identifiers: 2 letters, 8 serial digits, check digit, ISO country code
/// (UPU S10 standard). The country names the issuing postal operator. TNT's "GE…WW" consignment
/// numbers have the same structure and check digit with the pseudo-country "WW".
fn s10(scan: &Scan, hits: &mut Vec<Hit>) {
    let b = scan.body.as_str();
    if b.len() != 13 {
        return;
    }
    let (si, serial, cd, cc) = (&b[..2], &b[2..10], &b[10..11], &b[11..]);
    if !all_letters(si) || !all_digits(serial) || !all_digits(cd) || !all_letters(cc) {
        return;
    }
    let ok = check::s10(serial).map(String::from) == Some(cd.to_string());
    if si == "GE" && cc == "WW" {
        hits.push(Hit::new("tnt", "International express", b, 0.9).checked(ok));
        return;
    }
    if !is_country(cc) {
        return;
    }
    let (service, base) = match s10_service(si) {
        Some(s) => (s, 0.9),
        None => ("Unassigned S10 service indicator", 0.6),
    };
    let operator = S10_OPERATOR_IDS.iter().find(|(c, _)| *c == cc).map(|(_, id)| (*id).to_string());
    let carrier = match (cc, si.as_bytes()[0]) {
        ("CN", b'E') => "ems".to_string(),
        _ => operator.unwrap_or_else(|| format!("post-{}", cc.to_ascii_lowercase())),
    };
    hits.push(Hit::new(&carrier, service, b, base).checked(ok));
}

use super::S10_OPERATORS as S10_OPERATOR_IDS;

/// UPS service codes (characters 9–10 of a 1Z number), as listed in UPS's tracking number guide.
fn ups_service(code: &str) -> &'static str {
    match code {
        "01" => "Next Day Air",
        "02" => "2nd Day Air",
        "03" => "Ground",
        "12" => "3 Day Select",
        "13" => "Next Day Air Saver",
        "15" => "Next Day Air Early",
        "22" | "78" | "90" => "Ground (returns)",
        "42" => "Ground (signature required)",
        "44" => "Next Day Air (Saturday delivery)",
        "66" => "Worldwide Express",
        "72" => "Ground (collect on delivery)",
        _ => "Shipper-defined service",
    }
}

/// UPS: "1Z" + 6-character shipper number + 2-character service + 7-character package number
/// + check digit (UPS tracking number specification).
fn ups(scan: &Scan, hits: &mut Vec<Hit>) {
    let b = scan.body.as_str();
    if b.len() != 18 || !b.starts_with("1Z") {
        return;
    }
    let ok = check::verify(&b[2..], check::ups);
    hits.push(Hit::new("ups", ups_service(&b[8..10]), b, 0.95).checked(ok));
}

/// IMpb tracking numbers start with a channel application identifier 91–95 and are 22, 26, 30
/// or 34 digits long (USPS Publication 199, Intelligent Mail package barcode).
fn impb_shape(s: &str) -> bool {
    matches!(s.len(), 22 | 26 | 30 | 34)
        && all_digits(s)
        && s.starts_with('9')
        && matches!(s.as_bytes()[1], b'1'..=b'5')
}

/// USPS IMpb, with or without the GS1 "420" + ZIP (5 or 9 digits) routing prefix, which is not
/// part of the tracking number; USPS 20-digit numbers (GS1 mod 10, USPS Publication 109 for the
/// legacy extra-services numbers, Publication 199 for IMpb printed without its "91");
/// FedEx SmartPost / Ground Economy numbers, which are IMpb numbers with FedEx's "612" prefix,
/// printed with or without the leading "92" (FedEx SmartPost label specification).
fn usps_and_smartpost(scan: &Scan, hits: &mut Vec<Hit>) {
    let b = scan.body.as_str();
    if !all_digits(b) || scan.sscc {
        return;
    }
    let mut numbers: Vec<(&str, bool)> = Vec::new();
    if let Some(rest) = b.strip_prefix("420") {
        for zip in [5usize, 9] {
            if rest.len() > zip && impb_shape(&rest[zip..]) {
                numbers.push((&rest[zip..], true));
            }
        }
    }
    if impb_shape(b) {
        numbers.push((b, scan.postcode.is_some()));
    }
    for (number, routed) in numbers {
        let ok = check::verify(number, check::gs1);
        if number.starts_with("92612") {
            hits.push(Hit::new("fedex", "SmartPost / Ground Economy", number, 0.8).checked(ok));
            hits.push(Hit::new("usps", "IMpb (FedEx SmartPost delivery)", number, 0.45).checked(ok));
        } else {
            let base = if routed { 0.95 } else { 0.9 };
            hits.push(Hit::new("usps", "IMpb", number, base).checked(ok));
        }
    }
    if b.len() == 20 {
        if b.starts_with("612") {
            let ok = check::verify(&format!("92{b}"), check::gs1);
            hits.push(Hit::new("fedex", "SmartPost / Ground Economy", b, 0.75).checked(ok));
        }
        if !b.starts_with("00") {
            let service = match &b[..2] {
                "71" => "Certified Mail",
                "73" => "Insured Mail",
                "77" => "Registered Mail",
                "81" => "Return Receipt for Merchandise",
                _ => "Legacy 20-digit",
            };
            // Some 20-digit labels are IMpb numbers printed without their "91" channel
            // identifier; the check digit then covers the "91" too.
            let ok = check::verify(b, check::gs1) || check::verify(&format!("91{b}"), check::gs1);
            let mut h = Hit::new("usps", service, b, 0.45).checked(ok);
            h.distinctive = false;
            hits.push(h);
        }
    }
}

/// FedEx barcodes that wrap a tracking number (FedEx Ground and Express label specifications):
/// the 22-digit "96" Ground barcode (the last 15 digits are the tracking number, GS1 mod 10) and
/// the 34-digit Express ("100…") and Ground GSN ("96…") barcodes (the last 14 digits hold the
/// tracking number and its check digit, weights 1,3,7 mod 11).
fn fedex_barcodes(scan: &Scan, hits: &mut Vec<Hit>) {
    let b = scan.body.as_str();
    if !all_digits(b) {
        return;
    }
    if b.len() == 22 && b.starts_with("96") {
        let tn = &b[7..];
        hits.push(Hit::new("fedex", "Ground", tn, 0.85).checked(check::verify(tn, check::gs1)));
    }
    if b.len() == 34 && (b.starts_with("100") || b.starts_with("96")) {
        let serial = &b[20..];
        let ok = check::verify(serial, check::fedex);
        let tn = serial.strip_prefix("00").unwrap_or(serial);
        let service = if b.starts_with("96") { "Ground" } else { "Express" };
        hits.push(Hit::new("fedex", service, tn, 0.8).checked(ok));
    }
}

/// The 18 digits of an SSCC (GS1 AI 00), when the scan is one.
pub(crate) fn sscc_digits(scan: &Scan) -> Option<&str> {
    let b = scan.body.as_str();
    if scan.sscc && b.len() == 18 && all_digits(b) {
        return Some(b);
    }
    (b.len() == 20 && b.starts_with("00") && all_digits(b) && check::verify(&b[2..], check::gs1)).then(|| &b[2..])
}

/// SSCC-18 (GS1 AI 00, GS1 General Specifications). The SSCC names the company that built the
/// label, not always the carrier; DHL Paket's labels carry SSCCs under Deutsche Post DHL's GS1
/// company prefixes 40433/40434 (extension digit 3), printed as 20 digits with the "00".
fn sscc_dhl(scan: &Scan, hits: &mut Vec<Hit>) {
    let Some(sscc) = sscc_digits(scan) else { return };
    if sscc.starts_with("340433") || sscc.starts_with("340434") {
        let tn = format!("00{sscc}");
        hits.push(Hit::new("dhl", "Paket (SSCC)", &tn, 0.8).checked(check::verify(sscc, check::gs1)));
    }
}

/// DPD service codes (DPD parcel label specification, service code table), a selection.
fn dpd_service(code: &str) -> &'static str {
    match code {
        "101" | "136" => "Classic",
        "109" => "Classic COD",
        "155" => "Guarantee",
        "179" => "10:00",
        "225" => "12:00",
        "350" => "8:30",
        "327" => "Express",
        _ => "Parcel",
    }
}

/// DPD (DPD parcel label specification): the 28-character barcode text is 7-digit postcode,
/// 14-digit parcel number, 3-digit service, 3-digit country and an ISO/IEC 7064 MOD 37,36 check
/// character over the 27 digits (the barcode itself starts with "%" and omits the check
/// character); the human-readable parcel number is 14 digits followed by its own check character.
fn dpd(scan: &Scan, hits: &mut Vec<Hit>) {
    let b = scan.body.as_str();
    let mut push = |tn: &str, service: &str, check: Option<bool>, base: f64| {
        let mut h = Hit::new("dpd", service, tn, base);
        if let Some(ok) = check {
            h = h.checked(ok);
        }
        hits.push(h);
    };
    if b.len() == 28 && all_digits(&b[..27]) {
        let ok = check::verify(b, check::iso7064_mod37_36);
        push(&b[7..21], dpd_service(&b[21..24]), Some(ok), 0.85);
    } else if b.len() == 27 && scan.percent && all_digits(b) {
        push(&b[7..21], dpd_service(&b[21..24]), None, 0.85);
    } else if b.len() == 15 && all_digits(&b[..14]) && b.as_bytes()[14].is_ascii_uppercase() {
        let ok = check::verify(b, check::iso7064_mod37_36);
        push(&b[..14], "Parcel", Some(ok), 0.8);
    }
}

/// OnTrac: "C" or "D" + 13 digits + check digit, computed like UPS's over the letter and the
/// digits (OnTrac label specification).
fn ontrac(scan: &Scan, hits: &mut Vec<Hit>) {
    let b = scan.body.as_str();
    if b.len() == 15 && (b.starts_with('C') || b.starts_with('D')) && all_digits(&b[1..]) {
        hits.push(Hit::new("ontrac", "Ground", b, 0.75).checked(check::verify(b, check::ups)));
    }
}

/// JD Logistics numbers with letters after "JD" ("JDV…", "JDX…", "JDAZ…"): 1–2 letters and
/// 10–14 digits.
fn jd_lettered(scan: &Scan, hits: &mut Vec<Hit>) {
    let Some(rest) = scan.body.strip_prefix("JD") else { return };
    let letters = rest.bytes().take_while(u8::is_ascii_uppercase).count();
    if (1..=2).contains(&letters) && all_digits(&rest[letters..]) && (10..=14).contains(&(rest.len() - letters)) {
        hits.push(Hit::new("jd", "Express", &scan.body, 0.85));
    }
}

/// Parcelforce Worldwide UK numbers: 2 letters + 7 digits, or 4 letters + 10 digits
/// (Parcelforce "tracking number formats").
fn parcelforce(scan: &Scan, hits: &mut Vec<Hit>) {
    let b = scan.body.as_str();
    let fits = |letters: usize, len: usize| b.len() == len && all_letters(&b[..letters]) && all_digits(&b[letters..]);
    if fits(2, 9) || fits(4, 14) {
        hits.push(Hit::new("parcelforce", "UK parcel", b, 0.6));
    }
}

/// An Australia Post eParcel article id: 3-character merchant location id, 7-digit consignment,
/// 2-digit article, 2-digit service code, last-article indicator (1 or 2) and a check digit
/// (Australia Post eParcel barcode specification). Australia Post does not publish the check
/// algorithm, so the digit is not verified.
fn eparcel_article(a: &str) -> bool {
    a.len() == 16
        && a[..3].bytes().all(|c| c.is_ascii_alphanumeric())
        && a[..3].bytes().any(|c| c.is_ascii_uppercase())
        && all_digits(&a[3..])
        && matches!(a.as_bytes()[14], b'1' | b'2')
}

/// Australia Post eParcel: the bare article id, or the full barcode "997" + application id
/// ("001", or "016" for returns) + 2-digit product code + article id + postcode data.
fn australia_post(scan: &Scan, hits: &mut Vec<Hit>) {
    let b = scan.body.as_str();
    if eparcel_article(b) {
        hits.push(Hit::new("australia-post", "eParcel", b, 0.6));
    } else if b.len() >= 24
        && (b.starts_with("997001") || b.starts_with("997016"))
        && all_digits(&b[6..8])
        && eparcel_article(&b[8..24])
    {
        let service = if b.starts_with("997016") { "eParcel return" } else { "eParcel" };
        hits.push(Hit::new("australia-post", service, &b[8..24], 0.9));
    }
}

/// PostNL "3S" codes: "3S" + 4-letter customer code + 7–11 digits (PostNL barcode specification).
fn postnl(scan: &Scan, hits: &mut Vec<Hit>) {
    let b = scan.body.as_str();
    if b.len() >= 13 && b.starts_with("3S") && all_letters(&b[2..6]) && all_digits(&b[6..]) && b.len() <= 17 {
        hits.push(Hit::new("postnl", "Parcel", b, 0.85));
    }
}

/// La Poste Colissimo: a digit, a letter and 11 digits (La Poste Colissimo label format).
fn colissimo(scan: &Scan, hits: &mut Vec<Hit>) {
    let b = scan.body.as_bytes();
    if b.len() == 13 && b[0].is_ascii_digit() && b[1].is_ascii_uppercase() && all_digits(&scan.body[2..]) {
        hits.push(Hit::new("la-poste", "Colissimo", &scan.body, 0.65));
    }
}

/// Purolator's alphanumeric PINs: 3 letters + 9 digits (Purolator shipping label specification).
fn purolator_alpha(scan: &Scan, hits: &mut Vec<Hit>) {
    let b = scan.body.as_str();
    if b.len() == 12 && all_letters(&b[..3]) && all_digits(&b[3..]) {
        hits.push(Hit::new("purolator", "Express", b, 0.5));
    }
}
