//! Postage: money in fen, rate tables (carrier × method × zone × weight band), their CSV form,
//! zones, and the monthly budget check of a cost centre. Pure: the store keeps the accounts and
//! the ledger, the app decides with these functions. See docs/POSTAGE.md.

use crate::DomainError;
use crate::item::string_enum;
use std::collections::BTreeMap;
use std::fmt;

/// An amount of renminbi in fen (1 yuan = 100 fen). Integer only; arithmetic is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn fen(fen: i64) -> Money {
        Money(fen)
    }

    pub fn checked_add(self, o: Money) -> Option<Money> {
        self.0.checked_add(o.0).map(Money)
    }

    pub fn checked_sub(self, o: Money) -> Option<Money> {
        self.0.checked_sub(o.0).map(Money)
    }

    pub fn checked_mul(self, n: i64) -> Option<Money> {
        self.0.checked_mul(n).map(Money)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// `12.50` (no currency sign), as in CSV files.
    pub fn plain(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", a / 100, a % 100)
    }

    /// Parses a yuan amount with at most two decimals (`12`, `12.5`, `12.50`) exactly, without
    /// floating point. A leading `-` is accepted; `¥` and spaces are not.
    pub fn parse_yuan(field: &str, s: &str) -> Result<Money, DomainError> {
        let bad = || DomainError::invalid(field, format!("{field} must be an amount in yuan such as 12.50, not {s:?}"));
        let t = s.trim();
        let (neg, t) = match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t),
        };
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 15 {
            return Err(bad());
        }
        if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) || (t.contains('.') && frac.is_empty()) {
            return Err(bad());
        }
        let w: i64 = whole.parse().map_err(|_| bad())?;
        let f: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| bad())? };
        let v = w.checked_mul(100).and_then(|x| x.checked_add(f)).ok_or_else(bad)?;
        Ok(Money(if neg { -v } else { v }))
    }
}

impl fmt::Display for Money {
    /// `¥12.50`, `-¥3.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}¥{}.{:02}", a / 100, a % 100)
    }
}

string_enum!(
    /// How an outbound item is sent: standard post, registered with a return receipt, express
    /// courier, international, or encrypted electronic transfer instead of paper.
    Method {
        Standard = "standard",
        Registered = "registered",
        Express = "express",
        International = "international",
        EncryptedElectronic = "encrypted_electronic",
    }
);

string_enum!(
    /// Where an item goes, as priced by carriers: the sending site's city, elsewhere in mainland
    /// China, Hong Kong/Macao/Taiwan, the rest of Asia, everywhere else.
    Zone {
        Local = "local",
        Domestic = "domestic",
        HkMoTw = "hk_mo_tw",
        Asia = "asia",
        World = "world",
    }
);

/// Countries (ISO 3166-1 alpha-2) priced in the `asia` zone.
const ASIA: &[&str] = &[
    "AF", "AM", "AZ", "BD", "BH", "BN", "BT", "GE", "ID", "IL", "IN", "IQ", "IR", "JO", "JP", "KG", "KH", "KP", "KR",
    "KW", "KZ", "LA", "LB", "LK", "MM", "MN", "MV", "MY", "NP", "OM", "PH", "PK", "PS", "QA", "SA", "SG", "SY", "TH",
    "TJ", "TL", "TM", "TR", "AE", "UZ", "VN", "YE",
];

/// The zone of a destination country (ISO alpha-2, any case) seen from mainland China; `local`
/// is never derived from a country: the sender picks it for same-city items.
pub fn zone_for_country(country: &str) -> Result<Zone, DomainError> {
    let c = country.trim().to_ascii_uppercase();
    if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(DomainError::invalid("country", "country must be a two-letter ISO code such as CN"));
    }
    Ok(match c.as_str() {
        "CN" => Zone::Domestic,
        "HK" | "MO" | "TW" => Zone::HkMoTw,
        x if ASIA.contains(&x) => Zone::Asia,
        _ => Zone::World,
    })
}

/// Grams per weight step above a band's first 500 g.
pub const STEP_G: u32 = 500;
/// The heaviest item a rate table may price (1,000 kg).
pub const MAX_WEIGHT_G: u32 = 1_000_000;

/// One row of a rate table: items of `carrier`, `method` and `zone` weighing more than the
/// previous band's upper bound and at most `max_weight_g` cost `price` for the first 500 g above
/// the lower bound, plus `step_price` for every started 500 g beyond that.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateRow {
    pub carrier: String,
    pub method: Method,
    pub zone: Zone,
    /// Upper bound of the band, inclusive, in grams.
    pub max_weight_g: u32,
    /// In fen.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub price: Money,
    /// In fen, per started 500 g beyond the band's first 500 g; none: the band has one price.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    #[serde(default)]
    pub step_price: Option<Money>,
}

/// A checked rate table: rows of one (carrier, method, zone) sorted by upper bound, no two with
/// the same bound, carriers lower-case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateTable {
    bands: BTreeMap<(String, &'static str, &'static str), Vec<RateRow>>,
}

fn carrier_key(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

impl RateTable {
    /// Checks every row; the first problem is reported (`rows[i]` named by its position).
    pub fn new(rows: Vec<RateRow>) -> Result<RateTable, DomainError> {
        let mut bands: BTreeMap<(String, &'static str, &'static str), Vec<RateRow>> = BTreeMap::new();
        for (i, mut r) in rows.into_iter().enumerate() {
            check_row(&r).map_err(|e| DomainError::invalid("rates", format!("row {}: {}", i + 1, e.message)))?;
            r.carrier = carrier_key(&r.carrier);
            let list = bands.entry((r.carrier.clone(), r.method.as_str(), r.zone.as_str())).or_default();
            if list.iter().any(|x| x.max_weight_g == r.max_weight_g) {
                return Err(DomainError::invalid(
                    "rates",
                    format!(
                        "row {}: {} {} {} already has a band up to {} g",
                        i + 1,
                        r.carrier,
                        r.method,
                        r.zone,
                        r.max_weight_g
                    ),
                ));
            }
            list.push(r);
        }
        for list in bands.values_mut() {
            list.sort_by_key(|r| r.max_weight_g);
        }
        Ok(RateTable { bands })
    }

    /// Every row, by carrier, method, zone and weight.
    pub fn rows(&self) -> Vec<RateRow> {
        self.bands.values().flatten().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.bands.is_empty()
    }

    /// The price of sending an item of `weight_g` grams.
    pub fn quote(&self, carrier: &str, method: Method, weight_g: u32, zone: Zone) -> Result<Money, DomainError> {
        if weight_g == 0 || weight_g > MAX_WEIGHT_G {
            return Err(DomainError::invalid("weight_g", format!("weight_g must be between 1 and {MAX_WEIGHT_G}")));
        }
        let Some(list) = self.bands.get(&(carrier_key(carrier), method.as_str(), zone.as_str())) else {
            return Err(DomainError::invalid(
                "carrier",
                format!("no rate for {} {method} to {zone}", carrier_key(carrier)),
            ));
        };
        let mut lower = 0u32;
        for r in list {
            if weight_g <= r.max_weight_g {
                let above = weight_g - lower;
                let steps = above.saturating_sub(STEP_G).div_ceil(STEP_G);
                let extra = match r.step_price {
                    Some(p) => p.checked_mul(i64::from(steps)),
                    None => Some(Money::ZERO),
                };
                return extra
                    .and_then(|e| r.price.checked_add(e))
                    .ok_or_else(|| DomainError::invalid("weight_g", "the price is too large"));
            }
            lower = r.max_weight_g;
        }
        Err(DomainError::invalid(
            "weight_g",
            format!("{} {method} to {zone} carries at most {lower} g", carrier_key(carrier)),
        ))
    }
}

fn check_row(r: &RateRow) -> Result<(), DomainError> {
    let c = carrier_key(&r.carrier);
    if c.is_empty() || c.len() > 40 || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(DomainError::invalid("carrier", "carrier must be 1–40 letters, digits, '-' or '_'"));
    }
    if r.max_weight_g == 0 || r.max_weight_g > MAX_WEIGHT_G {
        return Err(DomainError::invalid("max_weight_g", format!("max_weight_g must be between 1 and {MAX_WEIGHT_G}")));
    }
    if r.price.is_negative() || r.step_price.is_some_and(Money::is_negative) {
        return Err(DomainError::invalid("price", "prices must not be negative"));
    }
    Ok(())
}

/// A line of a rate CSV that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CsvLineError {
    /// 1-based, the header being line 1.
    pub line: usize,
    pub message: String,
}

/// The header of a rate CSV. Prices are in yuan (`12.50`); `step_price` may be empty.
pub const RATE_CSV_HEADER: &str = "carrier,method,zone,max_weight_g,price,step_price";

/// Reads a rate CSV: all of it or nothing. Every bad line is reported with its number; the
/// table is checked as a whole (duplicate bands) only when every line reads.
pub fn parse_rates_csv(text: &str) -> Result<RateTable, Vec<CsvLineError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate();
    let header_ok = lines
        .next()
        .map(|(_, h)| h.split(',').map(str::trim).collect::<Vec<_>>().join(",") == RATE_CSV_HEADER)
        .unwrap_or(false);
    if !header_ok {
        return Err(vec![CsvLineError { line: 1, message: format!("the header must be: {RATE_CSV_HEADER}") }]);
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut row_lines = Vec::new();
    for (i, line) in lines {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        match parse_rate_line(line) {
            Ok(r) => {
                rows.push(r);
                row_lines.push(n);
            }
            Err(message) => errors.push(CsvLineError { line: n, message }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if rows.is_empty() {
        return Err(vec![CsvLineError { line: 2, message: "the file has no rates".into() }]);
    }
    RateTable::new(rows).map_err(|e| {
        // "row N: …" → the line of row N.
        let line = e
            .message
            .strip_prefix("row ")
            .and_then(|r| r.split(':').next())
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|k| row_lines.get(k - 1).copied())
            .unwrap_or(1);
        let message = e.message.split_once(": ").map(|(_, m)| m.to_string()).unwrap_or(e.message);
        vec![CsvLineError { line, message }]
    })
}

fn parse_rate_line(line: &str) -> Result<RateRow, String> {
    let f: Vec<&str> = line.split(',').map(str::trim).collect();
    if f.len() != 6 {
        return Err(format!("expected 6 fields, found {}", f.len()));
    }
    let method = Method::parse_field("method", f[1]).map_err(|e| e.message)?;
    let zone = Zone::parse_field("zone", f[2]).map_err(|e| e.message)?;
    let max_weight_g: u32 = f[3].parse().map_err(|_| format!("max_weight_g must be whole grams, not {:?}", f[3]))?;
    let price = Money::parse_yuan("price", f[4]).map_err(|e| e.message)?;
    let step_price =
        if f[5].is_empty() { None } else { Some(Money::parse_yuan("step_price", f[5]).map_err(|e| e.message)?) };
    let r = RateRow { carrier: f[0].to_string(), method, zone, max_weight_g, price, step_price };
    check_row(&r).map_err(|e| e.message)?;
    Ok(r)
}

/// Renders a table in the CSV form [`parse_rates_csv`] reads.
pub fn rates_csv(table: &RateTable) -> String {
    let mut s = String::from(RATE_CSV_HEADER);
    s.push('\n');
    for r in table.rows() {
        s.push_str(&format!(
            "{},{},{},{},{},{}\n",
            r.carrier,
            r.method,
            r.zone,
            r.max_weight_g,
            r.price.plain(),
            r.step_price.map(Money::plain).unwrap_or_default()
        ));
    }
    s
}

/// What a cost centre's monthly limits say about a charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BudgetVerdict {
    /// Within the limits.
    Ok,
    /// Past the soft limit: charged, with a warning.
    Warn,
    /// Past the hard limit: not charged.
    Block,
}

/// Decides a charge of `amount` for a cost centre that has `spent` this month. The spend after
/// the charge may reach a limit; going past the hard limit blocks, past the soft one warns.
/// An overflow counts as past every limit.
pub fn check_budget(spent: Money, amount: Money, soft: Option<Money>, hard: Option<Money>) -> BudgetVerdict {
    let Some(after) = spent.checked_add(amount) else {
        return if hard.is_some() { BudgetVerdict::Block } else { BudgetVerdict::Warn };
    };
    if hard.is_some_and(|h| after > h) {
        BudgetVerdict::Block
    } else if soft.is_some_and(|s| after > s) {
        BudgetVerdict::Warn
    } else {
        BudgetVerdict::Ok
    }
}

/// Checks a pair of monthly limits: none negative, the soft one not above the hard one.
pub fn check_limits(soft: Option<Money>, hard: Option<Money>) -> Result<(), DomainError> {
    if soft.is_some_and(Money::is_negative) || hard.is_some_and(Money::is_negative) {
        return Err(DomainError::invalid("limits", "limits must not be negative"));
    }
    if let (Some(s), Some(h)) = (soft, hard)
        && s > h
    {
        return Err(DomainError::invalid("soft_limit", "the soft limit must not be above the hard limit"));
    }
    Ok(())
}

/// Parses `YYYY-MM` into (year, month).
pub fn parse_month(s: &str) -> Result<(i32, u32), DomainError> {
    let bad = || DomainError::invalid("month", "month must be YYYY-MM");
    let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) || !(2000..=9999).contains(&y) {
        return Err(bad());
    }
    Ok((y, m))
}

/// Quotes a CSV field when it needs it (comma, quote, line break), and defuses formulas.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn row(max: u32, price: i64, step: Option<i64>) -> RateRow {
        RateRow {
            carrier: "EMS".into(),
            method: Method::Standard,
            zone: Zone::Domestic,
            max_weight_g: max,
            price: Money(price),
            step_price: step.map(Money),
        }
    }

    #[test]
    fn money_formats_and_parses() {
        assert_eq!(Money(1250).to_string(), "¥12.50");
        assert_eq!(Money(-300).to_string(), "-¥3.00");
        assert_eq!(Money(5).to_string(), "¥0.05");
        assert_eq!(Money::parse_yuan("p", "12.5").unwrap(), Money(1250));
        assert_eq!(Money::parse_yuan("p", "12").unwrap(), Money(1200));
        assert_eq!(Money::parse_yuan("p", "0.05").unwrap(), Money(5));
        assert_eq!(Money::parse_yuan("p", "-1.00").unwrap(), Money(-100));
        for bad in ["", "1.234", "1.", ".5", "¥1", "1,5", "abc", "1e3", "99999999999999999999"] {
            assert!(Money::parse_yuan("p", bad).is_err(), "{bad}");
        }
        assert_eq!(Money(i64::MAX).checked_add(Money(1)), None);
        assert_eq!(Money(i64::MIN).checked_sub(Money(1)), None);
    }

    #[test]
    fn quotes_by_band_and_step() {
        let t = RateTable::new(vec![row(2000, 1200, Some(200)), row(500, 800, None)]).unwrap();
        assert_eq!(t.quote("ems", Method::Standard, 1, Zone::Domestic).unwrap(), Money(800));
        assert_eq!(t.quote("EMS", Method::Standard, 500, Zone::Domestic).unwrap(), Money(800));
        // 501–1000 g: first 500 g above 500 → base price.
        assert_eq!(t.quote("ems", Method::Standard, 501, Zone::Domestic).unwrap(), Money(1200));
        assert_eq!(t.quote("ems", Method::Standard, 1000, Zone::Domestic).unwrap(), Money(1200));
        assert_eq!(t.quote("ems", Method::Standard, 1001, Zone::Domestic).unwrap(), Money(1400));
        assert_eq!(t.quote("ems", Method::Standard, 2000, Zone::Domestic).unwrap(), Money(1600));
        assert!(t.quote("ems", Method::Standard, 2001, Zone::Domestic).is_err());
        assert!(t.quote("ems", Method::Standard, 0, Zone::Domestic).is_err());
        assert!(t.quote("ems", Method::Express, 10, Zone::Domestic).is_err());
        assert!(t.quote("sf", Method::Standard, 10, Zone::Domestic).is_err());
    }

    #[test]
    fn table_refuses_bad_rows() {
        assert!(RateTable::new(vec![row(500, 1, None), row(500, 2, None)]).is_err());
        assert!(RateTable::new(vec![row(0, 1, None)]).is_err());
        assert!(RateTable::new(vec![row(10, -1, None)]).is_err());
        let mut r = row(10, 1, None);
        r.carrier = "bad carrier".into();
        assert!(RateTable::new(vec![r]).is_err());
    }

    #[test]
    fn zones_from_countries() {
        assert_eq!(zone_for_country("cn").unwrap(), Zone::Domestic);
        assert_eq!(zone_for_country("HK").unwrap(), Zone::HkMoTw);
        assert_eq!(zone_for_country("TW").unwrap(), Zone::HkMoTw);
        assert_eq!(zone_for_country("JP").unwrap(), Zone::Asia);
        assert_eq!(zone_for_country("DE").unwrap(), Zone::World);
        assert!(zone_for_country("CHN").is_err());
    }

    #[test]
    fn csv_all_or_nothing_with_line_numbers() {
        let good = format!("{RATE_CSV_HEADER}\nems,standard,domestic,500,8.00,\nems,standard,domestic,2000,12,2.00\n");
        let t = parse_rates_csv(&good).unwrap();
        assert_eq!(t.rows().len(), 2);
        assert_eq!(parse_rates_csv(&rates_csv(&t)).unwrap(), t);
        let bad = format!(
            "{RATE_CSV_HEADER}\nems,standard,domestic,500,8.00,\nems,teleport,domestic,2000,12,\n\nems,standard,moon,1,1,\n"
        );
        let e = parse_rates_csv(&bad).unwrap_err();
        assert_eq!(e.iter().map(|x| x.line).collect::<Vec<_>>(), vec![3, 5]);
        let dup = format!("{RATE_CSV_HEADER}\nems,standard,domestic,500,8.00,\nems,standard,domestic,500,9.00,\n");
        assert_eq!(parse_rates_csv(&dup).unwrap_err()[0].line, 3);
        assert_eq!(parse_rates_csv("name,code\n").unwrap_err()[0].line, 1);
        assert!(parse_rates_csv(&format!("{RATE_CSV_HEADER}\n")).is_err());
    }

    #[test]
    fn budgets() {
        let (s, h) = (Some(Money(1000)), Some(Money(2000)));
        assert_eq!(check_budget(Money(0), Money(1000), s, h), BudgetVerdict::Ok);
        assert_eq!(check_budget(Money(0), Money(1001), s, h), BudgetVerdict::Warn);
        assert_eq!(check_budget(Money(1500), Money(500), s, h), BudgetVerdict::Warn);
        assert_eq!(check_budget(Money(1500), Money(501), s, h), BudgetVerdict::Block);
        assert_eq!(check_budget(Money(10), Money(10), None, None), BudgetVerdict::Ok);
        assert_eq!(check_budget(Money(i64::MAX), Money(1), None, h), BudgetVerdict::Block);
        assert!(check_limits(Some(Money(5)), Some(Money(4))).is_err());
        assert!(check_limits(Some(Money(-1)), None).is_err());
        assert!(check_limits(Some(Money(4)), Some(Money(4))).is_ok());
    }

    #[test]
    fn months_and_csv_fields() {
        assert_eq!(parse_month("2026-11").unwrap(), (2026, 11));
        for bad in ["2026-13", "2026-1", "26-01", "2026/01", ""] {
            assert!(parse_month(bad).is_err(), "{bad}");
        }
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("plain"), "plain");
    }

    proptest! {
        #[test]
        fn parse_yuan_inverts_plain(v in -10_000_000_000i64..10_000_000_000) {
            prop_assert_eq!(Money::parse_yuan("p", &Money(v).plain()).unwrap(), Money(v));
        }

        #[test]
        fn verdict_is_monotone(spent in 0i64..1_000_000, a in 0i64..1_000_000, b in 0i64..1_000_000,
                               soft in 0i64..2_000_000, extra in 0i64..1_000_000) {
            let (lo, hi) = (a.min(b), a.max(b));
            let rank = |v: BudgetVerdict| match v { BudgetVerdict::Ok => 0, BudgetVerdict::Warn => 1, BudgetVerdict::Block => 2 };
            let lim = (Some(Money(soft)), Some(Money(soft + extra)));
            prop_assert!(rank(check_budget(Money(spent), Money(lo), lim.0, lim.1))
                <= rank(check_budget(Money(spent), Money(hi), lim.0, lim.1)));
            // A charge that is not blocked never takes the spend past the hard limit.
            if check_budget(Money(spent), Money(hi), lim.0, lim.1) != BudgetVerdict::Block {
                prop_assert!(spent + hi <= soft + extra);
            }
        }

        #[test]
        fn quote_never_decreases_with_weight(w1 in 1u32..5000, w2 in 1u32..5000) {
            let t = RateTable::new(vec![row(500, 800, None), row(5000, 1200, Some(150))]).unwrap();
            let (lo, hi) = (w1.min(w2), w1.max(w2));
            prop_assert!(t.quote("ems", Method::Standard, lo, Zone::Domestic).unwrap()
                <= t.quote("ems", Method::Standard, hi, Zone::Domestic).unwrap());
        }

        #[test]
        fn csv_parser_never_panics(s in ".{0,200}") {
            let _ = parse_rates_csv(&s);
        }
    }
}
