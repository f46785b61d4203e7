//! Customs declarations for international mail under the UPU rules: CN22 for items up to
//! 300 SDR, CN23 above (or when a line needs a certificate or licence), contents categories,
//! per-line validation (specific description, quantity, net weight, value and ISO 4217
//! currency, 6-digit HS code, origin country), and detection of restricted and quarantine
//! goods with the certificates they need. Pure: the SDR rates are configuration passed in.

use serde::{Deserialize, Serialize};

use crate::address::country;

/// The SDR threshold between a CN22 and a CN23 (UPU Convention Regulations, art. 20-001).
pub const CN22_LIMIT_SDR: u64 = 300;
/// A CN22 has room for this many content lines; more go on a CN23.
pub const CN22_MAX_LINES: usize = 4;
/// Most lines one declaration may hold.
pub const MAX_LINES: usize = 100;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 200;

const MICRO: u128 = 1_000_000;

/// The contents category ticked on the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContentsCategory {
    Gift,
    Documents,
    CommercialSample,
    ReturnedGoods,
    SaleOfGoods,
    Other,
}

impl ContentsCategory {
    /// Commercial items must give the HS code and the origin country of every line.
    pub fn is_commercial(self) -> bool {
        matches!(
            self,
            ContentsCategory::CommercialSample | ContentsCategory::ReturnedGoods | ContentsCategory::SaleOfGoods
        )
    }
}

/// Which form the item carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CustomsForm))]
#[serde(rename_all = "snake_case")]
pub enum Form {
    Cn22,
    Cn23,
}

/// A certificate, licence or declaration that goes with the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CustomsCertificate))]
#[serde(rename_all = "snake_case")]
pub enum Certificate {
    /// Plants, plant products, seeds (IPPC phytosanitary certificate).
    Phytosanitary,
    /// Animals and products of animal origin.
    VeterinaryHealth,
    /// Seeds and other goods the destination admits only with a permit.
    ImportPermit,
    /// Medicines: a prescription for personal use, or an import licence.
    PrescriptionOrImportLicence,
    /// Lithium batteries in or with equipment: UN3481 (ion) PI 966/967, UN3091 (metal) PI 969/970.
    BatteryDeclaration,
    /// Safety data sheet (liquids, batteries).
    Msds,
}

/// One line of the declaration as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CustomsDeclarationLine))]
pub struct DeclarationLine {
    /// Detailed description (`men's cotton T-shirts`, not `clothes`).
    pub description: String,
    pub quantity: u32,
    /// Net weight of the line in grams.
    pub net_weight_g: u32,
    /// Value as a decimal in `currency` (`25.00`).
    pub value: String,
    /// ISO 4217 code (`USD`, `CNY`).
    pub currency: String,
    /// Harmonized System code, 6 digits (`851712`, `8517.12`).
    #[serde(default)]
    pub hs_code: Option<String>,
    /// Country of origin: ISO code or name.
    #[serde(default)]
    pub origin_country: Option<String>,
}

/// A customs declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CustomsDeclaration))]
pub struct Declaration {
    pub category: ContentsCategory,
    /// Required when the category is `other`.
    #[serde(default)]
    pub explanation: Option<String>,
    pub lines: Vec<DeclarationLine>,
    /// Certificates and declarations enclosed with the item.
    #[serde(default)]
    pub certificates: Vec<Certificate>,
}

/// A kind of restricted or quarantine goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CustomsRestrictionKind))]
#[serde(rename_all = "snake_case")]
pub enum RestrictionKind {
    AnimalProduct,
    PlantProduct,
    Food,
    Seeds,
    Soil,
    Medicine,
    LithiumBattery,
    Liquid,
    Cash,
}

/// A restriction found on one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CustomsRestriction))]
pub struct Restriction {
    /// Index of the line (0-based).
    pub line: usize,
    pub kind: RestrictionKind,
    /// What matched: `hs:0602`, `keyword:seeds`, `keyword:香水`.
    pub matched: String,
    /// Not accepted in the mail at all.
    pub prohibited: bool,
    pub certificates: Vec<Certificate>,
    pub note: String,
}

/// Severity of a customs problem: errors block acceptance, warnings do not.
pub use crate::address::Severity;

/// Stable codes of customs problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CustomsCode {
    NoLines,
    TooManyLines,
    MissingExplanation,
    EmptyDescription,
    VagueDescription,
    DescriptionTooLong,
    InvalidQuantity,
    InvalidWeight,
    InvalidValue,
    InvalidCurrency,
    MixedCurrencies,
    NoRate,
    InvalidHsCode,
    MissingHsCode,
    UnknownOriginCountry,
    MissingOriginCountry,
    Prohibited,
    MissingCertificate,
    Notice,
}

/// One problem, tied to a line (when it is about one) and a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CustomsProblem))]
pub struct CustomsProblem {
    pub line: Option<usize>,
    pub field: String,
    pub code: CustomsCode,
    pub severity: Severity,
    pub message: String,
}

/// The outcome of [`check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomsVerdict {
    /// The item may be accepted for dispatch: no error, nothing prohibited, no certificate missing.
    pub accepted: bool,
    pub form: Form,
    /// Why the form was chosen.
    pub form_reason: String,
    /// Total declared value in the declaration's currency (`125.00`), when computable.
    pub total_value: Option<String>,
    pub currency: Option<String>,
    /// Total value in SDR with two decimals, when a rate is known.
    pub total_sdr: Option<String>,
    pub total_net_weight_g: u64,
    pub restrictions: Vec<Restriction>,
    /// Every certificate the declared lines need.
    pub required_certificates: Vec<Certificate>,
    pub problems: Vec<CustomsProblem>,
    /// The lines after normalisation (HS code digits only, origin as ISO alpha-2, currency upper case).
    pub lines: Vec<DeclarationLine>,
}

// ---------------------------------------------------------------- currencies and rates

/// ISO 4217 currencies with two decimals.
const CURRENCIES_2: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BMD", "BND",
    "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CNY", "COP", "CRC", "CUP", "CVE", "CZK",
    "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD",
    "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK",
    "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN",
    "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON",
    "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP",
    "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "UYU", "UZS", "VES", "WST", "XCD",
    "YER", "ZAR", "ZMW", "ZWG",
];
/// ISO 4217 currencies without decimals.
const CURRENCIES_0: &[&str] =
    &["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"];
/// ISO 4217 currencies with three decimals.
const CURRENCIES_3: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

/// The number of decimals of an ISO 4217 currency (`None` when not a currency code). `XDR`
/// (the SDR itself) has two here.
pub fn currency_exponent(code: &str) -> Option<u32> {
    if CURRENCIES_2.contains(&code) || code == "XDR" {
        Some(2)
    } else if CURRENCIES_0.contains(&code) {
        Some(0)
    } else if CURRENCIES_3.contains(&code) {
        Some(3)
    } else {
        None
    }
}

/// SDR per unit of a currency, in millionths: the conversion table. The defaults are
/// approximate rates (IMF SDR valuation, 2025) meant to be replaced by configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateTable {
    rates: Vec<(String, u64)>,
}

/// Default SDR rates in micro-SDR per currency unit.
pub const DEFAULT_RATES: &[(&str, u64)] = &[
    ("XDR", 1_000_000),
    ("USD", 740_000),
    ("EUR", 850_000),
    ("GBP", 990_000),
    ("CHF", 900_000),
    ("CNY", 103_000),
    ("HKD", 95_000),
    ("MOP", 92_000),
    ("TWD", 23_000),
    ("JPY", 4_900),
    ("KRW", 530),
    ("SGD", 560_000),
    ("MYR", 165_000),
    ("THB", 21_500),
    ("VND", 29),
    ("PHP", 13_000),
    ("IDR", 45),
    ("INR", 8_700),
    ("AUD", 480_000),
    ("NZD", 440_000),
    ("CAD", 540_000),
    ("MXN", 39_000),
    ("BRL", 133_000),
    ("SEK", 72_000),
    ("NOK", 69_000),
    ("DKK", 114_000),
    ("PLN", 198_000),
    ("CZK", 34_000),
    ("HUF", 2_100),
    ("RUB", 8_800),
    ("TRY", 18_500),
    ("AED", 201_000),
    ("SAR", 197_000),
    ("ILS", 200_000),
    ("ZAR", 41_000),
];

impl Default for RateTable {
    fn default() -> Self {
        RateTable { rates: DEFAULT_RATES.iter().map(|(c, r)| ((*c).to_string(), *r)).collect() }
    }
}

impl RateTable {
    /// An empty table (every conversion fails until rates are set).
    pub fn empty() -> Self {
        RateTable { rates: Vec::new() }
    }

    /// Sets the rate of a currency: SDR per unit as a decimal (`0.74`).
    pub fn set(&mut self, currency: &str, sdr_per_unit: &str) -> Result<(), String> {
        let code = currency.trim().to_ascii_uppercase();
        if currency_exponent(&code).is_none() {
            return Err(format!("'{}' is not an ISO 4217 currency", currency.trim()));
        }
        let micro = parse_decimal(sdr_per_unit.trim(), 6)
            .and_then(|v| u64::try_from(v).ok())
            .filter(|v| *v > 0)
            .ok_or_else(|| format!("'{}' is not a positive rate with at most 6 decimals", sdr_per_unit.trim()))?;
        self.rates.retain(|(c, _)| *c != code);
        self.rates.push((code, micro));
        Ok(())
    }

    /// Reads `USD=0.74,EUR=0.85` (commas, semicolons or new lines between pairs) on top of
    /// this table.
    pub fn apply(&mut self, spec: &str) -> Result<(), String> {
        for pair in spec.split([',', ';', '\n']).map(str::trim).filter(|p| !p.is_empty()) {
            let (c, r) = pair.split_once('=').ok_or_else(|| format!("'{pair}' is not CURRENCY=RATE"))?;
            self.set(c, r)?;
        }
        Ok(())
    }

    /// Micro-SDR per unit of `currency`.
    pub fn rate(&self, currency: &str) -> Option<u64> {
        self.rates.iter().find(|(c, _)| c == currency).map(|(_, r)| *r)
    }

    /// Converts an amount in minor units of `currency` to micro-SDR.
    pub fn to_micro_sdr(&self, currency: &str, minor: u128) -> Option<u128> {
        let rate = u128::from(self.rate(currency)?);
        let exp = currency_exponent(currency)?;
        minor.checked_mul(rate).map(|v| v / 10u128.pow(exp))
    }

    pub fn currencies(&self) -> impl Iterator<Item = (&str, u64)> {
        self.rates.iter().map(|(c, r)| (c.as_str(), *r))
    }
}

/// Parses a non-negative decimal with at most `decimals` places into an integer scaled by
/// 10^decimals (`12.5`, 2 → 1250).
pub fn parse_decimal(s: &str, decimals: u32) -> Option<u128> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > decimals as usize
        || int.len() > 18
    {
        return None;
    }
    let int: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut f: u128 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    f *= 10u128.pow(decimals - frac.len() as u32);
    int.checked_mul(10u128.pow(decimals))?.checked_add(f)
}

fn format_decimal(v: u128, decimals: u32) -> String {
    if decimals == 0 {
        return v.to_string();
    }
    let p = 10u128.pow(decimals);
    format!("{}.{:0width$}", v / p, v % p, width = decimals as usize)
}

// ---------------------------------------------------------------- HS codes

/// Validates and normalises a Harmonized System code: six digits (dots and spaces allowed
/// as typed: `8517.12`), chapter 01–97, never the reserved chapter 77. Longer national
/// tariff codes are cut to their six-digit HS part.
pub fn normalise_hs_code(code: &str) -> Result<String, String> {
    let digits: String = code.chars().filter(|c| !matches!(c, '.' | ' ' | '-')).collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("HS code '{}' must be digits", clip(code)));
    }
    if digits.len() < 6 || digits.len() > 10 {
        return Err(format!("HS code '{}' must have 6 digits", clip(code)));
    }
    let six = &digits[..6];
    let chapter: u32 = six[..2].parse().map_err(|_| format!("HS code '{}' has no chapter", clip(code)))?;
    if !(1..=97).contains(&chapter) || chapter == 77 {
        return Err(format!("HS code '{}': chapter {chapter:02} does not exist (01–97, except 77)", clip(code)));
    }
    Ok(six.to_string())
}

// ---------------------------------------------------------------- descriptions

/// Descriptions too general for customs when they are the whole description.
const VAGUE: &[&str] = &[
    "gift",
    "gifts",
    "present",
    "presents",
    "goods",
    "good",
    "item",
    "items",
    "merchandise",
    "stuff",
    "things",
    "thing",
    "sample",
    "samples",
    "parts",
    "spare parts",
    "accessories",
    "accessory",
    "products",
    "product",
    "misc",
    "miscellaneous",
    "various",
    "other",
    "others",
    "package",
    "parcel",
    "commodity",
    "commodities",
    "general goods",
    "personal items",
    "personal effects",
    "personal use",
    "clothes",
    "clothing",
    "food",
    "electronics",
    "household goods",
    "daily necessities",
    "n/a",
    "na",
    "none",
    "-",
    "礼物",
    "礼品",
    "禮物",
    "禮品",
    "物品",
    "货物",
    "貨物",
    "商品",
    "样品",
    "樣品",
    "配件",
    "零件",
    "东西",
    "東西",
    "杂物",
    "雜物",
    "日用品",
    "其他",
    "其它",
    "包裹",
    "食品",
    "衣服",
    "电子产品",
    "個人物品",
    "个人物品",
    "贈り物",
    "プレゼント",
    "商品です",
    "선물",
    "물품",
];

fn fold_description(s: &str) -> String {
    s.trim()
        .trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace() || "。，、！".contains(c))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Is the description only a vague word (`gift`, `goods`, `礼物`)?
pub fn is_vague(description: &str) -> bool {
    let f = fold_description(description);
    VAGUE.contains(&f.as_str())
}

// ---------------------------------------------------------------- restrictions

struct Rule {
    kind: RestrictionKind,
    /// HS code prefixes (2, 4 or 6 digits).
    hs: &'static [&'static str],
    /// Keywords: English words (whole words, plural `s` allowed) and CJK substrings.
    keywords: &'static [&'static str],
    prohibited: bool,
    certificates: &'static [Certificate],
    note: &'static str,
}

use Certificate as C;
use RestrictionKind as K;

/// The restriction rules, most severe first within a kind. A line can match several kinds.
const RULES: &[Rule] = &[
    Rule {
        kind: K::Cash,
        hs: &["4907", "7118"],
        keywords: &[
            "cash",
            "banknote",
            "bank note",
            "currency",
            "coins",
            "cheque",
            "traveller's cheque",
            "现金",
            "現金",
            "钞票",
            "鈔票",
            "纸币",
            "紙幣",
            "人民币",
            "人民幣",
            "美元现金",
            "現金書留",
        ],
        prohibited: true,
        certificates: &[],
        note: "coins, banknotes, currency notes and bearer instruments are prohibited in international mail (UPU Convention art. 19)",
    },
    Rule {
        kind: K::Soil,
        hs: &["2530", "2703"],
        keywords: &[
            "soil",
            "earth",
            "dirt",
            "peat",
            "compost",
            "potting mix",
            "土壤",
            "泥土",
            "泥炭",
            "培养土",
            "培養土",
        ],
        prohibited: true,
        certificates: &[],
        note: "soil and growing media carry pests and diseases: refused by quarantine services",
    },
    Rule {
        kind: K::LithiumBattery,
        hs: &[],
        keywords: &[
            "power bank",
            "powerbank",
            "spare battery",
            "spare batteries",
            "battery pack",
            "loose batteries",
            "lithium cells",
            "充电宝",
            "充電寶",
            "移动电源",
            "行動電源",
            "备用电池",
            "備用電池",
            "モバイルバッテリー",
            "보조배터리",
        ],
        prohibited: true,
        certificates: &[],
        note: "lithium cells and batteries on their own (PI 965/968) are not accepted in the post; only batteries installed in or packed with equipment",
    },
    Rule {
        kind: K::LithiumBattery,
        hs: &["850650", "850760", "8471", "851713", "851714", "851762", "8525", "8526", "9102", "9504", "8543"],
        keywords: &[
            "lithium",
            "li-ion",
            "li ion",
            "battery",
            "batteries",
            "laptop",
            "notebook computer",
            "mobile phone",
            "smartphone",
            "cell phone",
            "tablet computer",
            "smartwatch",
            "camera",
            "e-reader",
            "headphones",
            "earbuds",
            "锂电池",
            "鋰電池",
            "电池",
            "電池",
            "手机",
            "手機",
            "笔记本电脑",
            "筆記型電腦",
            "平板电脑",
            "相机",
            "相機",
            "耳机",
            "耳機",
            "電子書",
        ],
        prohibited: false,
        certificates: &[C::BatteryDeclaration, C::Msds],
        note: "lithium batteries in or with equipment: mark UN3481 (lithium ion, PI 966 packed with / PI 967 contained in equipment) or UN3091 (lithium metal, PI 969/970); at most 4 cells or 2 batteries, with the safety data sheet",
    },
    Rule {
        kind: K::Liquid,
        hs: &["3303", "3212", "2207", "2710", "3814", "3606"],
        keywords: &[
            "perfume",
            "cologne",
            "eau de toilette",
            "nail polish",
            "nail varnish",
            "lighter fluid",
            "gasoline",
            "petrol",
            "spirits",
            "ethanol",
            "flammable",
            "paint thinner",
            "aerosol",
            "spray can",
            "香水",
            "指甲油",
            "打火机油",
            "汽油",
            "酒精",
            "喷雾",
            "噴霧",
        ],
        prohibited: true,
        certificates: &[],
        note: "flammable liquids and aerosols (UN1266, UN1263, UN1950) are dangerous goods, prohibited in the post",
    },
    Rule {
        kind: K::Liquid,
        hs: &[
            "2201", "2202", "2203", "2204", "2205", "2206", "2208", "2209", "3304", "3305", "3307", "1509", "1515",
            "1517",
        ],
        keywords: &[
            "liquid",
            "liquids",
            "wine",
            "beer",
            "whisky",
            "whiskey",
            "liquor",
            "sake",
            "soy sauce",
            "oil",
            "olive oil",
            "shampoo",
            "lotion",
            "ink",
            "syrup",
            "juice",
            "液体",
            "液體",
            "酒",
            "白酒",
            "葡萄酒",
            "啤酒",
            "油",
            "酱油",
            "醬油",
            "洗发水",
            "洗髮精",
            "乳液",
            "墨水",
            "果汁",
        ],
        prohibited: false,
        certificates: &[C::Msds],
        note: "liquids: leak-proof primary container, absorbent material and a sealed outer packaging; safety data sheet for chemical products",
    },
    Rule {
        kind: K::Medicine,
        hs: &["3001", "3002", "3003", "3004", "3006"],
        keywords: &[
            "medicine",
            "medicines",
            "medication",
            "medications",
            "drug",
            "drugs",
            "pharmaceutical",
            "pill",
            "pills",
            "tablets",
            "capsules",
            "antibiotic",
            "antibiotics",
            "vaccine",
            "insulin",
            "prescription",
            "herbal medicine",
            "药",
            "藥",
            "药品",
            "藥品",
            "药物",
            "藥物",
            "中药",
            "中藥",
            "西药",
            "胶囊",
            "膠囊",
            "药片",
            "藥片",
            "医药",
            "醫藥",
            "薬",
            "의약품",
            "약",
        ],
        prohibited: false,
        certificates: &[C::PrescriptionOrImportLicence],
        note: "medicines: a prescription for personal quantities, or the destination's import licence; narcotics and psychotropic substances are prohibited",
    },
    Rule {
        kind: K::Seeds,
        hs: &["1201", "1202", "1204", "1205", "1206", "1207", "1209"],
        keywords: &[
            "seed", "seeds", "bulbs", "tubers", "cuttings", "种子", "種子", "种苗", "種苗", "球根", "씨앗", "종자",
        ],
        prohibited: false,
        certificates: &[C::Phytosanitary, C::ImportPermit],
        note: "seeds for sowing need a phytosanitary certificate and, in most countries, an import permit",
    },
    Rule {
        kind: K::PlantProduct,
        hs: &["06", "07", "08", "09", "10", "11", "12", "13", "14", "4401", "4402", "4403", "4404", "4406", "4501"],
        keywords: &[
            "plant",
            "plants",
            "flower",
            "flowers",
            "fruit",
            "fruits",
            "vegetable",
            "vegetables",
            "tea",
            "tea leaves",
            "coffee beans",
            "rice",
            "grain",
            "grains",
            "nuts",
            "herbs",
            "spices",
            "wood",
            "logs",
            "bark",
            "straw",
            "hay",
            "植物",
            "花卉",
            "鲜花",
            "鮮花",
            "水果",
            "蔬菜",
            "茶叶",
            "茶葉",
            "大米",
            "谷物",
            "穀物",
            "坚果",
            "堅果",
            "木材",
            "原木",
            "干花",
            "乾花",
            "香料",
            "草药",
            "草藥",
        ],
        prohibited: false,
        certificates: &[C::Phytosanitary],
        note: "plants and plant products need a phytosanitary certificate from the country of origin",
    },
    Rule {
        kind: K::AnimalProduct,
        hs: &[
            "01", "02", "03", "04", "05", "1601", "1602", "1603", "1604", "1605", "4101", "4102", "4103", "4301",
            "9705",
        ],
        keywords: &[
            "meat",
            "beef",
            "pork",
            "chicken",
            "sausage",
            "ham",
            "jerky",
            "fish",
            "seafood",
            "shrimp",
            "milk",
            "milk powder",
            "cheese",
            "butter",
            "egg",
            "eggs",
            "honey",
            "feathers",
            "fur",
            "raw hide",
            "bone",
            "bones",
            "ivory",
            "bird's nest",
            "肉",
            "牛肉",
            "猪肉",
            "豬肉",
            "鸡肉",
            "雞肉",
            "肉干",
            "肉乾",
            "香肠",
            "香腸",
            "腊肉",
            "臘肉",
            "鱼",
            "魚",
            "海鲜",
            "海鮮",
            "虾",
            "蝦",
            "奶粉",
            "牛奶",
            "奶酪",
            "蛋",
            "蜂蜜",
            "羽毛",
            "毛皮",
            "骨",
            "象牙",
            "燕窝",
            "燕窩",
            "鱼翅",
            "魚翅",
        ],
        prohibited: false,
        certificates: &[C::VeterinaryHealth],
        note: "animals and products of animal origin need a veterinary health certificate; many destinations refuse meat and dairy from abroad",
    },
    Rule {
        kind: K::Food,
        hs: &["15", "16", "17", "18", "19", "20", "21"],
        keywords: &[
            "snack",
            "snacks",
            "candy",
            "sweets",
            "chocolate",
            "cookies",
            "biscuits",
            "cake",
            "mooncake",
            "mooncakes",
            "noodles",
            "sauce",
            "seasoning",
            "canned food",
            "instant noodles",
            "零食",
            "糖果",
            "巧克力",
            "饼干",
            "餅乾",
            "月饼",
            "月餅",
            "面条",
            "麵條",
            "方便面",
            "泡麵",
            "调料",
            "調料",
            "罐头",
            "罐頭",
            "糕点",
            "糕點",
            "お菓子",
            "과자",
        ],
        prohibited: false,
        certificates: &[],
        note: "food: commercially packaged and sealed, with the ingredients and best-before date; products containing meat or dairy need a veterinary certificate",
    },
];

fn hs_matches(hs: &str, prefixes: &[&str]) -> Option<String> {
    prefixes.iter().find(|p| hs.starts_with(*p)).map(|p| format!("hs:{p}"))
}

/// Finds a keyword in a description: English keywords as whole words (a trailing `s` or
/// `es` allowed), others (Chinese, Japanese, Korean) as substrings.
fn keyword_match(description: &str, keywords: &[&str]) -> Option<String> {
    let lower = description.to_lowercase();
    let words: Vec<&str> =
        lower.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-')).filter(|w| !w.is_empty()).collect();
    for kw in keywords {
        if kw.is_ascii() {
            let kw_words: Vec<&str> = kw.split(' ').collect();
            let n = kw_words.len();
            let hit = words.windows(n).any(|w| {
                w.iter().zip(&kw_words).enumerate().all(|(i, (a, b))| {
                    a == b || (i == n - 1 && (a.strip_suffix('s') == Some(b) || a.strip_suffix("es") == Some(b)))
                })
            });
            if hit {
                return Some(format!("keyword:{kw}"));
            }
        } else if lower.contains(kw) {
            return Some(format!("keyword:{kw}"));
        }
    }
    None
}

/// Words that make a keyword hit describe something else: a phone case is not a phone, a
/// toy fish is not fish, a book on tea is not tea.
const NOT_THE_GOODS: &[&str] = &[
    "case",
    "cover",
    "holder",
    "stand",
    "strap",
    "toy",
    "model",
    "replica",
    "poster",
    "book",
    "painting",
    "print",
    "sticker",
    "cup",
    "cups",
    "mug",
    "cooker",
    "kettle",
    "maker",
    "grinder",
    "machine",
    "dispenser",
    "opener",
    "rack",
    "charger",
    "lens",
    "tripod",
    "杯",
    "充电器",
    "充電器",
    "镜头",
    "鏡頭",
    "pattern",
    "costume",
    "mould",
    "mold",
    "cutter",
    "keychain",
    "charm",
    "壳",
    "殼",
    "套",
    "模型",
    "玩具",
    "书",
    "書",
    "海报",
    "海報",
    "贴纸",
    "貼紙",
    "钥匙扣",
];

/// The restrictions of one line, by HS code and by keywords in its description.
pub fn restrictions(line_index: usize, description: &str, hs_code: Option<&str>) -> Vec<Restriction> {
    let mut out: Vec<Restriction> = Vec::new();
    for rule in RULES {
        // one hit per kind: the first (most severe) rule of a kind wins
        if out.iter().any(|r| r.kind == rule.kind) {
            continue;
        }
        let by_keyword = || {
            keyword_match(description, rule.keywords).filter(|_| keyword_match(description, NOT_THE_GOODS).is_none())
        };
        let hit = hs_code.and_then(|h| hs_matches(h, rule.hs)).or_else(by_keyword);
        if let Some(matched) = hit {
            out.push(Restriction {
                line: line_index,
                kind: rule.kind,
                matched,
                prohibited: rule.prohibited,
                certificates: rule.certificates.to_vec(),
                note: rule.note.to_string(),
            });
        }
    }
    // seeds are plant products too; food of animal origin is an animal product
    if out.iter().any(|r| r.kind == K::Seeds) {
        out.retain(|r| r.kind != K::PlantProduct);
    }
    out
}

// ---------------------------------------------------------------- check

fn clip(s: &str) -> String {
    let t: String = s.chars().filter(|c| !c.is_control()).take(60).collect();
    if s.chars().count() > 60 { format!("{t}…") } else { t }
}

struct Problems(Vec<CustomsProblem>);

impl Problems {
    fn push(&mut self, line: Option<usize>, field: &str, code: CustomsCode, message: String) {
        self.0.push(CustomsProblem { line, field: field.into(), code, severity: Severity::Error, message });
    }
    fn warn(&mut self, line: Option<usize>, field: &str, code: CustomsCode, message: String) {
        self.0.push(CustomsProblem { line, field: field.into(), code, severity: Severity::Warning, message });
    }
}

/// Checks a declaration: the form (CN22/CN23), every line, the restricted goods and the
/// certificates they need. `accepted` is false when anything blocks dispatch.
pub fn check(decl: &Declaration, rates: &RateTable) -> CustomsVerdict {
    let mut p = Problems(Vec::new());
    if decl.lines.is_empty() {
        p.push(None, "lines", CustomsCode::NoLines, "a declaration needs at least one line".into());
    }
    if decl.lines.len() > MAX_LINES {
        p.push(None, "lines", CustomsCode::TooManyLines, format!("at most {MAX_LINES} lines"));
    }
    if decl.category == ContentsCategory::Other && decl.explanation.as_deref().is_none_or(|e| e.trim().is_empty()) {
        p.push(None, "explanation", CustomsCode::MissingExplanation, "category 'other' needs an explanation".into());
    }

    let mut lines = Vec::new();
    let mut restrictions_found = Vec::new();
    let mut total_minor: u128 = 0;
    let mut total_ok = true;
    let mut currency: Option<String> = None;
    let mut total_weight: u64 = 0;
    for (i, line) in decl.lines.iter().take(MAX_LINES).enumerate() {
        let li = Some(i);
        let mut n = line.clone();
        n.description = line.description.split_whitespace().collect::<Vec<_>>().join(" ");
        if n.description.is_empty() {
            p.push(li, "description", CustomsCode::EmptyDescription, "describe the contents".into());
        } else if n.description.chars().count() > MAX_DESCRIPTION_CHARS {
            p.push(
                li,
                "description",
                CustomsCode::DescriptionTooLong,
                format!("description is longer than {MAX_DESCRIPTION_CHARS} characters"),
            );
        } else if is_vague(&n.description) {
            p.push(
                li,
                "description",
                CustomsCode::VagueDescription,
                format!("'{}' is too general: say what the contents are (material, kind, use)", clip(&n.description)),
            );
        }
        if n.quantity == 0 {
            p.push(li, "quantity", CustomsCode::InvalidQuantity, "quantity must be at least 1".into());
        }
        if n.net_weight_g == 0 {
            p.push(li, "net_weight_g", CustomsCode::InvalidWeight, "net weight must be at least 1 g".into());
        }
        total_weight += u64::from(n.net_weight_g);

        n.currency = line.currency.trim().to_ascii_uppercase();
        let exp = currency_exponent(&n.currency);
        if exp.is_none() {
            p.push(
                li,
                "currency",
                CustomsCode::InvalidCurrency,
                format!("'{}' is not an ISO 4217 currency", clip(&line.currency)),
            );
            total_ok = false;
        }
        match &currency {
            None if exp.is_some() => currency = Some(n.currency.clone()),
            Some(c) if exp.is_some() && *c != n.currency => {
                p.push(
                    li,
                    "currency",
                    CustomsCode::MixedCurrencies,
                    format!("all lines must be in one currency ({c})"),
                );
                total_ok = false;
            }
            _ => {}
        }
        n.value = line.value.trim().to_string();
        match exp.map(|e| (e, parse_decimal(&n.value, e))) {
            Some((e, Some(minor))) => {
                n.value = format_decimal(minor, e);
                total_minor = total_minor.saturating_add(minor);
            }
            Some((e, None)) => {
                p.push(
                    li,
                    "value",
                    CustomsCode::InvalidValue,
                    format!("value '{}' must be a number ≥ 0 with at most {e} decimals", clip(&line.value)),
                );
                total_ok = false;
            }
            None => {}
        }

        n.hs_code = None;
        match line.hs_code.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
            Some(h) => match normalise_hs_code(h) {
                Ok(six) => n.hs_code = Some(six),
                Err(m) => p.push(li, "hs_code", CustomsCode::InvalidHsCode, m),
            },
            None if decl.category.is_commercial() => p.push(
                li,
                "hs_code",
                CustomsCode::MissingHsCode,
                "commercial items need the 6-digit HS code of every line".into(),
            ),
            None => {}
        }
        n.origin_country = None;
        match line.origin_country.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
            Some(o) => match country::lookup(o) {
                Some(c) => n.origin_country = Some(c.alpha2.to_string()),
                None => p.push(
                    li,
                    "origin_country",
                    CustomsCode::UnknownOriginCountry,
                    format!("'{}' is not a known country", clip(o)),
                ),
            },
            None if decl.category.is_commercial() => p.push(
                li,
                "origin_country",
                CustomsCode::MissingOriginCountry,
                "commercial items need the country of origin of every line".into(),
            ),
            None => {}
        }
        restrictions_found.extend(restrictions(i, &n.description, n.hs_code.as_deref()));
        lines.push(n);
    }

    // restrictions: prohibited goods and missing certificates block acceptance
    let mut required: Vec<Certificate> = Vec::new();
    for r in &restrictions_found {
        if r.prohibited {
            p.push(
                Some(r.line),
                "description",
                CustomsCode::Prohibited,
                format!("{:?} ({}): {}", r.kind, r.matched, r.note),
            );
        } else if r.certificates.is_empty() {
            p.warn(Some(r.line), "description", CustomsCode::Notice, r.note.clone());
        }
        for c in &r.certificates {
            if !required.contains(c) {
                required.push(*c);
            }
        }
    }
    required.sort();
    for c in &required {
        if !decl.certificates.contains(c) {
            let lines_needing: Vec<String> = restrictions_found
                .iter()
                .filter(|r| r.certificates.contains(c))
                .map(|r| (r.line + 1).to_string())
                .collect();
            p.push(
                None,
                "certificates",
                CustomsCode::MissingCertificate,
                format!("{} needed for line {}", certificate_name(*c), lines_needing.join(", ")),
            );
        }
    }

    // totals and the form
    let exp = currency.as_deref().and_then(currency_exponent);
    let total_value = match (total_ok, exp) {
        (true, Some(e)) if !lines.is_empty() => Some(format_decimal(total_minor, e)),
        _ => None,
    };
    let total_micro_sdr = match (&total_value, &currency) {
        (Some(_), Some(c)) => {
            let v = rates.to_micro_sdr(c, total_minor);
            if v.is_none() {
                p.push(None, "currency", CustomsCode::NoRate, format!("no SDR rate configured for {c}"));
            }
            v
        }
        _ => None,
    };
    let over_limit = total_micro_sdr.is_none_or(|v| v > u128::from(CN22_LIMIT_SDR) * MICRO);
    let needs_certificates = !required.is_empty();
    let (form, form_reason) = if total_micro_sdr.is_none() {
        (Form::Cn23, "value in SDR unknown: CN23".to_string())
    } else if over_limit {
        (Form::Cn23, format!("value over {CN22_LIMIT_SDR} SDR"))
    } else if needs_certificates {
        (Form::Cn23, "a line needs a certificate or licence, recorded on the CN23".to_string())
    } else if decl.lines.len() > CN22_MAX_LINES {
        (Form::Cn23, format!("more than {CN22_MAX_LINES} lines"))
    } else {
        (Form::Cn22, format!("value up to {CN22_LIMIT_SDR} SDR"))
    };
    let accepted = !p.0.iter().any(|x| x.severity == Severity::Error);
    CustomsVerdict {
        accepted,
        form,
        form_reason,
        total_value,
        currency,
        total_sdr: total_micro_sdr.map(|v| format_decimal(v / 10_000, 2)),
        total_net_weight_g: total_weight,
        restrictions: restrictions_found,
        required_certificates: required,
        problems: p.0,
        lines,
    }
}

/// The English name of a certificate, for messages.
pub fn certificate_name(c: Certificate) -> &'static str {
    match c {
        Certificate::Phytosanitary => "phytosanitary certificate",
        Certificate::VeterinaryHealth => "veterinary health certificate",
        Certificate::ImportPermit => "import permit",
        Certificate::PrescriptionOrImportLicence => "prescription or import licence",
        Certificate::BatteryDeclaration => "lithium battery declaration (UN3481/UN3091, PI 966/967/969/970)",
        Certificate::Msds => "safety data sheet (MSDS)",
    }
}

#[cfg(test)]
mod tests;
