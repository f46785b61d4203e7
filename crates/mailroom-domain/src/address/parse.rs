//! Free-text addresses split into fields. Chinese, Taiwanese, Hong Kong, Japanese and Korean
//! addresses written in their own scripts are read largest unit first by their unit words
//! (省/市/区, 縣/市/區, 都道府県/市区町村, 시/군/구); addresses in Latin letters are read line
//! by line (or comma by comma) from the end: country, postal code, region, city, then the
//! street lines, organisation and recipient.

use super::AddressFields;
use super::country;
use super::rules::{self, PostalRules};
use super::script::{self, Script, fullwidth};

/// The fields found in a text and the parts that could not be placed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub fields: AddressFields,
    pub unparsed: Vec<String>,
}

/// Parses `text` as an address in the country `alpha2` (with its `rules`). Never fails: what
/// cannot be placed is returned in `unparsed`.
pub fn parse(alpha2: &str, rules: &PostalRules, text: &str) -> Parsed {
    let text: String = text
        .chars()
        .map(fullwidth)
        .map(|c| if c == '\u{3000}' { ' ' } else { c })
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    let cjk = script::detect(&text).iter().any(|s| matches!(s, Script::Han | Script::Kana | Script::Hangul));
    match alpha2 {
        "CN" if cjk => parse_cn(rules, &text),
        "TW" if cjk => parse_tw(rules, &text),
        "HK" | "MO" if cjk => parse_hk(rules, &text),
        "JP" if cjk => parse_jp(rules, &text),
        "KR" if cjk => parse_kr(rules, &text),
        "HK" => parse_hk_latin(rules, &text),
        _ => parse_latin(rules, &text),
    }
}

// ---------------------------------------------------------------- helpers

fn is_digit_char(c: char) -> bool {
    c.is_ascii_digit()
}

/// Removes the first standalone run of exactly `len` digits (not part of a longer number),
/// preferring one after a marker such as `邮编`, `〒` or `(우)`. Returns it.
fn take_digits(s: &mut String, lens: &[usize], markers: &[&str]) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if is_digit_char(chars[i]) {
            let start = i;
            // allow one hyphen inside (100-8994)
            let mut j = i;
            let mut hyphen = false;
            while j < chars.len()
                && (is_digit_char(chars[j])
                    || (chars[j] == '-' && !hyphen && j + 1 < chars.len() && is_digit_char(chars[j + 1]) && j > start))
            {
                if chars[j] == '-' {
                    hyphen = true;
                }
                j += 1;
            }
            runs.push((start, j));
            i = j;
        } else {
            i += 1;
        }
    }
    let text_of = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    let digits_len = |a: usize, b: usize| chars[a..b].iter().filter(|c| c.is_ascii_digit()).count();
    let before = |a: usize| chars[..a].iter().collect::<String>();
    let candidate = |(a, b): (usize, usize)| lens.contains(&digits_len(a, b));
    let marked = runs.iter().copied().find(|&(a, b)| {
        candidate((a, b)) && {
            let pre = before(a);
            let pre = pre.trim_end_matches([' ', ':', '：', '(', ')']);
            markers.iter().any(|m| pre.ends_with(m))
        }
    });
    let chosen = marked.or_else(|| {
        // a run standing alone: at the start, at the end or between spaces/commas
        runs.iter().copied().find(|&(a, b)| {
            let free_before = a == 0 || matches!(chars[a - 1], ' ' | ',' | '\n' | ':' | '〒' | ')' | '，');
            let free_after = b == chars.len() || matches!(chars[b], ' ' | ',' | '\n' | '，');
            candidate((a, b)) && free_before && free_after && !text_of(a, b).starts_with('-')
        })
    })?;
    let (a, b) = chosen;
    let found = text_of(a, b);
    let mut rest = before(a);
    for m in markers {
        let t = rest.trim_end_matches([' ', ':', '：', ')']);
        if let Some(p) = t.strip_suffix(m).or_else(|| t.strip_suffix(m.trim_end_matches(')'))) {
            rest = p.trim_end_matches(['(', ' ']).to_string();
            break;
        }
    }
    rest.push(' ');
    rest.extend(&chars[b..]);
    *s = rest;
    Some(found)
}

/// Removes mobile and telephone numbers (11+ digits, or `电话:`/`Tel` marked) from CJK text.
fn drop_phone(s: &mut String) {
    let mut out = String::new();
    for tok in s.split_whitespace() {
        let digits = tok.chars().filter(char::is_ascii_digit).count();
        let only_phone = tok.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '(' | ')'));
        if (only_phone && digits >= 10)
            || tok.starts_with("电话")
            || tok.starts_with("電話")
            || tok.starts_with("TEL")
            || tok.starts_with("Tel")
        {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(tok);
    }
    *s = out;
}

fn strip_prefixes<'a>(s: &'a str, prefixes: &[&str]) -> &'a str {
    let mut t = s.trim_start_matches([' ', ',', '，']);
    loop {
        let before = t;
        for p in prefixes {
            if let Some(r) = t.strip_prefix(p) {
                t = r.trim_start_matches([' ', ',', '，']);
            }
        }
        if before == t {
            return t;
        }
    }
}

/// Takes the text up to and including the first of `units` within `max` characters.
fn take_unit<'a>(s: &'a str, units: &[char], max: usize) -> Option<(&'a str, &'a str)> {
    for (n, (i, c)) in s.char_indices().enumerate() {
        if n >= max {
            return None;
        }
        if !(script::script_of(c) == Some(Script::Han) || script::script_of(c) == Some(Script::Kana)) {
            return None;
        }
        if n > 0 && units.contains(&c) {
            let end = i + c.len_utf8();
            return Some((&s[..end], &s[end..]));
        }
    }
    None
}

/// Like [`take_unit`], trying the unit groups in order of preference (`区` before `镇` in
/// `前鎮區`, `市` before `州` in `杭州市`).
fn take_unit_pref<'a>(s: &'a str, groups: &[&[char]], max: usize) -> Option<(&'a str, &'a str)> {
    groups.iter().find_map(|g| take_unit(s, g, max))
}

/// Splits CJK text into the address part and the name/organisation tokens around it. The
/// address is the longest whitespace-separated token run that holds a unit word.
fn split_people(s: &str, address_marks: &[char]) -> (String, Vec<String>) {
    let toks: Vec<&str> = s.split([' ', ',', '，', '\n']).filter(|t| !t.is_empty()).collect();
    let mut address = String::new();
    let mut others = Vec::new();
    for t in toks {
        let is_org = ORG.iter().any(|w| t.contains(w));
        let is_address = !is_org
            && t.chars().any(|c| address_marks.contains(&c))
            && (address.is_empty() || t.chars().any(|c| c.is_ascii_digit()) || t.chars().count() > 4);
        if is_address || (!is_org && !address.is_empty() && t.chars().any(|c| c.is_ascii_digit()) && others.is_empty())
        {
            if !address.is_empty()
                && t.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && address.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
            {
                address.push(' ');
            }
            address.push_str(t);
        } else {
            others.push(t.to_string());
        }
    }
    (address, others)
}

fn strip_label(s: &str) -> String {
    let mut t = s;
    for p in ["收件人", "收貨人", "收件者", "联系人", "聯絡人", "姓名", "宛先", "받는 사람", "수신"]
    {
        if let Some(r) = t.strip_prefix(p) {
            t = r.trim_start_matches([':', '：', ' ']);
        }
    }
    t.to_string()
}

/// Words that make a token an organisation name.
const ORG: &[&str] = &[
    "公司",
    "株式会社",
    "有限会社",
    "会社",
    "集团",
    "集團",
    "大学",
    "大學",
    "医院",
    "醫院",
    "银行",
    "銀行",
    "研究所",
    "事務所",
    "学校",
    "학교",
    "회사",
    "㈜",
    "Inc",
    "Ltd",
    "GmbH",
];

/// Assigns the name tokens of a CJK address: organisation words make an organisation, the
/// rest a recipient; honorifics (様, 殿, 님, 先生, 女士, 收) are dropped.
fn people(others: Vec<String>, fields: &mut AddressFields, unparsed: &mut Vec<String>) {
    const HONORIFICS: &[&str] = &["様", "殿", "さま", "님", "귀하", "先生", "女士", "小姐", "(收)", "收", "御中"];
    for o in others {
        let o = strip_label(&o);
        let mut name = o.trim().to_string();
        for h in HONORIFICS {
            if let Some(n) = name.strip_suffix(h)
                && !n.is_empty()
            {
                name = n.trim().to_string();
            }
        }
        if name.is_empty() {
            continue;
        }
        if ORG.iter().any(|w| name.contains(w)) && fields.organisation.is_empty() {
            fields.organisation = name;
        } else if fields.recipient.is_empty() {
            fields.recipient = name;
        } else if fields.organisation.is_empty() {
            fields.organisation = name;
        } else {
            unparsed.push(name);
        }
    }
}

// ---------------------------------------------------------------- China

const CN_SHORT_SUFFIXES: &[&str] = &["壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区", "省", "市"];

/// Matches the province at the start of a Chinese address: full name (`广东省`), short name
/// (`广东`) or a municipality (`北京`). Returns (province, rest).
fn cn_province(s: &str) -> Option<(&'static str, &str)> {
    for (_, native, _) in rules::CN_PROVINCES {
        if let Some(rest) = s.strip_prefix(native) {
            return Some((native, rest));
        }
    }
    for (_, native, _) in rules::CN_PROVINCES {
        let mut short = *native;
        for suf in CN_SHORT_SUFFIXES {
            if let Some(b) = native.strip_suffix(suf) {
                short = b;
                break;
            }
        }
        if let Some(rest) = s.strip_prefix(short) {
            // the short name of an autonomous region may be followed by a partial suffix
            let rest = CN_SHORT_SUFFIXES.iter().find_map(|suf| rest.strip_prefix(suf)).unwrap_or(rest);
            return Some((native, rest));
        }
    }
    None
}

const CN_MARKS: &[char] =
    &['省', '市', '区', '县', '镇', '乡', '路', '街', '道', '号', '巷', '弄', '村', '楼', '室', '州', '旗'];

fn parse_cn(_rules: &PostalRules, text: &str) -> Parsed {
    let mut s = text.to_string();
    let mut fields = AddressFields::default();
    let mut unparsed = Vec::new();
    if let Some(z) = take_digits(&mut s, &[6], &["邮编", "邮政编码", "郵編", "郵政編碼"]) {
        fields.postal_code = z;
    }
    drop_phone(&mut s);
    let s = strip_prefixes(&s, &["中华人民共和国", "中華人民共和國", "中国", "中國", "China", "CHINA", "PRC"]);
    let (address, others) = split_people(s, CN_MARKS);
    let mut rest: &str = &address;
    rest = strip_prefixes(rest, &["中华人民共和国", "中国"]);
    if let Some((prov, r)) = cn_province(rest) {
        fields.region = prov.to_string();
        rest = r;
        if prov.ends_with('市') {
            // municipality: the city is the province
            fields.city = prov.to_string();
            // 北京市北京市 or 北京市市辖区 written out
            rest = rest.strip_prefix(prov).unwrap_or(rest);
            rest = rest.strip_prefix("市辖区").unwrap_or(rest);
        }
    }
    if fields.city.is_empty()
        && let Some((city, r)) = rest
            .find("自治州")
            .filter(|p| *p <= 30)
            .map(|p| (&rest[..p + "自治州".len()], &rest[p + "自治州".len()..]))
            .or_else(|| take_unit_pref(rest, &[&['市'], &['州', '盟']], 10))
            .or_else(|| rest.find("地区").map(|p| (&rest[..p + "地区".len()], &rest[p + "地区".len()..])))
    {
        fields.city = city.to_string();
        rest = r;
    }
    if let Some((district, r)) = take_unit_pref(rest, &[&['区'], &['县'], &['旗'], &['市']], 8) {
        fields.district = district.to_string();
        rest = r;
    }
    let street = rest.trim();
    if !street.is_empty() {
        fields.street.push(street.to_string());
    }
    people(others, &mut fields, &mut unparsed);
    Parsed { fields, unparsed }
}

// ---------------------------------------------------------------- Taiwan

fn tw_fold(s: &str) -> String {
    s.replace('台', "臺")
}

const TW_MARKS: &[char] =
    &['縣', '市', '區', '鄉', '鎮', '路', '街', '段', '號', '巷', '弄', '樓', '县', '区', '号', '楼'];

fn parse_tw(_rules: &PostalRules, text: &str) -> Parsed {
    let mut s = tw_fold(text);
    let mut fields = AddressFields::default();
    let mut unparsed = Vec::new();
    if let Some(z) = take_digits(&mut s, &[3, 5, 6], &["郵遞區號", "郵編"]) {
        fields.postal_code = z;
    }
    drop_phone(&mut s);
    let s = strip_prefixes(&s, &["中華民國", "中國臺灣", "臺灣", "Taiwan"]);
    let (address, others) = split_people(s, TW_MARKS);
    let mut rest: &str = &address;
    rest = strip_prefixes(rest, &["臺灣", "臺灣省"]);
    if let Some((_, native, _)) = rules::TW_DIVISIONS.iter().find(|(_, n, _)| rest.starts_with(n)) {
        fields.region = native.to_string();
        rest = &rest[native.len()..];
    }
    if let Some((city, r)) = take_unit_pref(rest, &[&['區'], &['鄉', '鎮'], &['市']], 6) {
        fields.city = city.to_string();
        rest = r;
    }
    let street = rest.trim();
    if !street.is_empty() {
        fields.street.push(street.to_string());
    }
    people(others, &mut fields, &mut unparsed);
    Parsed { fields, unparsed }
}

// ---------------------------------------------------------------- Hong Kong, Macao

const HK_MARKS: &[char] =
    &['區', '区', '道', '街', '路', '號', '号', '樓', '楼', '室', '座', '里', '徑', '港', '龍', '界'];

fn parse_hk(_rules: &PostalRules, text: &str) -> Parsed {
    let mut s = text.to_string();
    drop_phone(&mut s);
    let mut fields = AddressFields::default();
    let mut unparsed = Vec::new();
    let s = strip_prefixes(
        &s,
        &[
            "中國香港",
            "中国香港",
            "香港特別行政區",
            "香港特别行政区",
            "中國澳門",
            "中国澳门",
            "澳門特別行政區",
            "澳门特别行政区",
        ],
    );
    let (address, others) = split_people(s, HK_MARKS);
    let mut rest: &str = &address;
    if !rest.starts_with("香港島") {
        rest = strip_prefixes(rest, &["香港", "澳門", "澳门"]);
    }
    // 香港島 / 九龍 / 新界
    for (area, native) in [
        ("香港島", "香港島"),
        ("香港岛", "香港島"),
        ("港島", "香港島"),
        ("九龍", "九龍"),
        ("九龙", "九龍"),
        ("新界", "新界"),
    ] {
        if let Some(r) = rest.strip_prefix(area) {
            fields.region = native.to_string();
            rest = r;
            break;
        }
    }
    if let Some((native, _)) = HK_DISTRICTS.iter().find(|(n, _)| rest.starts_with(n)) {
        fields.district = native.to_string();
        rest = &rest[native.len()..];
    } else if let Some((d, r)) = take_unit(rest, &['區', '区'], 5) {
        fields.district = d.to_string();
        rest = r;
    }
    let street = rest.trim();
    if !street.is_empty() {
        fields.street.push(street.to_string());
    }
    people(others, &mut fields, &mut unparsed);
    Parsed { fields, unparsed }
}

/// Hong Kong districts and well-known areas with their English names.
pub(crate) const HK_DISTRICTS: &[(&str, &str)] = &[
    ("中西區", "Central and Western"),
    ("灣仔", "Wan Chai"),
    ("東區", "Eastern"),
    ("南區", "Southern"),
    ("油尖旺", "Yau Tsim Mong"),
    ("深水埗", "Sham Shui Po"),
    ("九龍城", "Kowloon City"),
    ("黃大仙", "Wong Tai Sin"),
    ("觀塘", "Kwun Tong"),
    ("荃灣", "Tsuen Wan"),
    ("屯門", "Tuen Mun"),
    ("元朗", "Yuen Long"),
    ("北區", "North"),
    ("大埔", "Tai Po"),
    ("西貢", "Sai Kung"),
    ("沙田", "Sha Tin"),
    ("葵青", "Kwai Tsing"),
    ("離島", "Islands"),
    ("中環", "Central"),
    ("上環", "Sheung Wan"),
    ("金鐘", "Admiralty"),
    ("銅鑼灣", "Causeway Bay"),
    ("北角", "North Point"),
    ("鰂魚涌", "Quarry Bay"),
    ("尖沙咀", "Tsim Sha Tsui"),
    ("旺角", "Mong Kok"),
    ("油麻地", "Yau Ma Tei"),
    ("紅磡", "Hung Hom"),
    ("九龍塘", "Kowloon Tong"),
    ("將軍澳", "Tseung Kwan O"),
];

fn parse_hk_latin(rules: &PostalRules, text: &str) -> Parsed {
    let mut parts = split_parts(text);
    drop_country(&mut parts);
    let mut fields = AddressFields::default();
    // "Hong Kong" as the last part is the territory, not a region
    if parts.last().is_some_and(|p| p.eq_ignore_ascii_case("hong kong") || p.eq_ignore_ascii_case("hk")) {
        parts.pop();
    }
    if let Some(last) = parts.last()
        && let Some((_, _, latin)) = rules::find_region(rules, last).or_else(|| {
            (last.eq_ignore_ascii_case("kowloon") || last.eq_ignore_ascii_case("kln")).then_some(&rules::HK_AREAS[1])
        })
    {
        fields.region = latin.to_string();
        parts.pop();
    }
    if parts.len() >= 2
        && let Some(last) = parts.last()
        && !last.chars().any(|c| c.is_ascii_digit())
    {
        fields.district = last.clone();
        parts.pop();
    }
    let mut unparsed = Vec::new();
    assign_leading(parts, &mut fields, &mut unparsed);
    Parsed { fields, unparsed }
}

// ---------------------------------------------------------------- Japan

const JP_MARKS: &[char] = &['都', '道', '府', '県', '市', '区', '町', '村', '郡', '丁', '番', '号'];

fn parse_jp(_rules: &PostalRules, text: &str) -> Parsed {
    let mut s = text.replace(['−', '‐', '－', 'ー'], "-").replace("〒 ", "〒");
    // ー inside katakana names is a long vowel, not a hyphen: restore it between kana
    s = restore_choonpu(&s);
    let mut fields = AddressFields::default();
    let mut unparsed = Vec::new();
    if let Some(z) = take_digits(&mut s, &[7], &["〒", "郵便番号"]) {
        fields.postal_code = z;
    }
    drop_phone(&mut s);
    let s = strip_prefixes(&s, &["日本国", "日本", "〒", "Japan"]);
    let (address, others) = split_people(s, JP_MARKS);
    let mut rest: &str = &address;
    let pref = rules::JP_PREFECTURES.iter().find(|(_, n, _)| rest.starts_with(n)).or_else(|| {
        rules::JP_PREFECTURES.iter().find(|(_, n, _)| {
            let short = n.trim_end_matches(['都', '府', '県']);
            *n != "北海道"
                && short.chars().count() >= 2
                && rest.starts_with(short)
                && !rest[short.len()..].starts_with('市')
        })
    });
    if let Some((_, native, _)) = pref {
        fields.region = native.to_string();
        let short = native.trim_end_matches(['都', '府', '県']);
        rest = rest.strip_prefix(native).or_else(|| rest.strip_prefix(short)).unwrap_or(rest);
    }
    // 郡 … 町/村, or … 市 (with a ward: 横浜市中区), or … 区 / 町 / 村
    if let Some((gun, r)) = take_unit(rest, &['郡'], 6)
        && let Some((town, r2)) = take_unit(r, &['町', '村'], 6)
    {
        fields.city = format!("{gun}{town}");
        rest = r2;
    } else if let Some((city, r)) = take_unit(rest, &['市', '区', '町', '村'], 7) {
        fields.city = city.to_string();
        rest = r;
        if city.ends_with('市')
            && let Some((ward, r2)) = take_unit(rest, &['区'], 4)
        {
            fields.city.push_str(ward);
            rest = r2;
        }
    }
    let street = rest.trim();
    if !street.is_empty() {
        fields.street.push(street.to_string());
    }
    people(others, &mut fields, &mut unparsed);
    Parsed { fields, unparsed }
}

fn restore_choonpu(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        let kana = |j: Option<usize>| {
            j.and_then(|j| chars.get(j)).is_some_and(|c| script::script_of(*c) == Some(Script::Kana))
        };
        if c == '-' && kana(i.checked_sub(1)) {
            out.push('ー');
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------- Korea

fn parse_kr(rules: &PostalRules, text: &str) -> Parsed {
    let mut s = text.to_string();
    let mut fields = AddressFields::default();
    let mut unparsed = Vec::new();
    if let Some(z) = take_digits(&mut s, &[5], &["(우)", "우)", "우편번호", "우"]) {
        fields.postal_code = z;
    }
    drop_phone(&mut s);
    let s = strip_prefixes(&s, &["대한민국", "한국", "Korea"]);
    let mut toks: Vec<String> =
        s.split([' ', ',', '\n']).filter(|t| t.chars().any(char::is_alphanumeric)).map(str::to_string).collect();
    if let Some(first) = toks.first() {
        let region = rules::KR_PROVINCES
            .iter()
            .find(|(_, n, _)| first == n)
            .or_else(|| rules::find_region(rules, first))
            .or_else(|| {
                let short: String = first.chars().take(2).collect();
                rules::KR_PROVINCES.iter().find(|(_, n, _)| n.starts_with(&short) && first.chars().count() <= 4)
            });
        if let Some((_, native, _)) = region {
            fields.region = native.to_string();
            toks.remove(0);
        }
    }
    if let Some(t) = toks.first()
        && t.chars().count() >= 2
        && t.ends_with(['시', '군', '구'])
    {
        fields.city = toks.remove(0);
        if fields.city.ends_with('시')
            && let Some(t2) = toks.first()
            && t2.chars().count() >= 2
            && t2.ends_with('구')
        {
            fields.district = toks.remove(0);
        }
    }
    // street: road name and building number (and what follows up to a name)
    let mut street = Vec::new();
    let mut others = Vec::new();
    for t in toks {
        let address_like = t.chars().any(|c| c.is_ascii_digit())
            || t.ends_with(['로', '길', '동', '읍', '면', '리', '층', '호'])
            || t.starts_with('(')
            || t.contains("아파트")
            || t.contains("빌딩");
        if address_like && others.is_empty() {
            street.push(t);
        } else {
            others.push(t);
        }
    }
    if !street.is_empty() {
        fields.street.push(street.join(" "));
    }
    people(others, &mut fields, &mut unparsed);
    Parsed { fields, unparsed }
}

// ---------------------------------------------------------------- Latin-script addresses

fn split_parts(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let parts: Vec<String> = if lines.len() > 1 {
        lines.iter().map(|l| l.trim_end_matches([',', ';']).trim().to_string()).collect()
    } else {
        text.split([',', ';']).map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()
    };
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

fn drop_country(parts: &mut Vec<String>) {
    if parts.len() > 1
        && let Some(last) = parts.last()
        && country::lookup(last).is_some()
        && last.chars().count() > 2
    {
        parts.pop();
    }
    // largest-first Latin and Cyrillic addresses start with the country (`Россия, 101000, Москва, …`)
    if parts.len() > 1
        && let Some(first) = parts.first()
        && country::lookup(first).is_some()
        && first.chars().count() > 3
    {
        parts.remove(0);
    }
}

/// Finds the postal code in a part: one token, or two joined by a space (`SW1A 2AA`).
/// Returns (canonical code, text before, text after).
fn find_postal(rules: &PostalRules, part: &str) -> Option<(String, String, String)> {
    // where the country writes the code on its line: first (`11011 Berlin`), last
    // (`Washington, DC 20500`) or alone; a number elsewhere is a house number
    let line = rules.format.split("%n").find(|l| l.contains("%Z")).unwrap_or("%Z");
    let line = line.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '%');
    let zip_first =
        line.starts_with("%Z") || !line.contains('%') || line.find("%Z").is_some_and(|p| !line[..p].contains('%'));
    let zip_last = line.ends_with("%Z");
    let toks: Vec<&str> = part.split_whitespace().collect();
    for start in (0..toks.len()).rev() {
        for len in [2usize, 1] {
            if start + len > toks.len() {
                continue;
            }
            let cand = toks[start..start + len].join(" ");
            let cand = cand.trim_matches([',', '.']);
            if rules.postal.is_empty() {
                continue;
            }
            if let Some(code) = rules::normalise_postal_code(rules, cand) {
                let (before, after) = (toks[..start].join(" "), toks[start + len..].join(" "));
                if (zip_first && before.is_empty()) || (zip_last && after.is_empty()) {
                    return Some((code, before, after));
                }
            }
        }
    }
    None
}

/// Removes a region from the end of `text` (up to three words): returns it and the rest.
fn split_region(rules: &PostalRules, text: &str) -> Option<(String, String)> {
    if rules.regions.is_empty() {
        return None;
    }
    let toks: Vec<&str> = text.split_whitespace().collect();
    for n in (1..=3.min(toks.len())).rev() {
        let cand = toks[toks.len() - n..].join(" ");
        let cand = cand.trim_matches([',', '.']);
        if rules::find_region(rules, cand).is_some() {
            let rest = toks[..toks.len() - n].join(" ");
            return Some((cand.to_string(), rest.trim_end_matches(',').trim().to_string()));
        }
    }
    None
}

/// Assigns the leading parts (before the city): street lines last, organisation and
/// recipient first when they hold no digits.
fn assign_leading(parts: Vec<String>, fields: &mut AddressFields, unparsed: &mut Vec<String>) {
    let mut parts = merge_house_numbers(parts);
    // the street starts at the first part with a digit or a street word (or is the last part)
    let first_street = parts
        .iter()
        .position(|p| p.chars().any(|c| c.is_ascii_digit()) || is_street_like(p))
        .unwrap_or(parts.len().saturating_sub(1));
    let mut street = parts.split_off(first_street);
    for h in parts {
        if fields.organisation.is_empty() && is_organisation(&h) {
            fields.organisation = h;
        } else if fields.recipient.is_empty() {
            fields.recipient = h;
        } else if fields.organisation.is_empty() {
            fields.organisation = h;
        } else {
            unparsed.push(h);
        }
    }
    street.extend(std::mem::take(&mut fields.street));
    // more lines than a label takes: the first ones share a line
    while street.len() > super::MAX_STREET_LINES {
        let second = street.remove(1);
        street[0] = format!("{}, {second}", street[0]);
    }
    fields.street = street;
}

/// A house number alone is part of the street before it (`ул. Тверская, 13`).
fn merge_house_numbers(parts: Vec<String>) -> Vec<String> {
    let mut merged: Vec<String> = Vec::new();
    for p in parts {
        // `13`, `13А`, `5/2`, `д. 26`, `No. 5`: a house number on its own
        let number_only = p.chars().count() <= 8
            && p.chars().any(|c| c.is_ascii_digit())
            && p.split_whitespace().count() <= 2
            && (p.chars().next().is_some_and(|c| c.is_ascii_digit()) || p.split_whitespace().count() == 2);
        match merged.last_mut() {
            Some(prev) if number_only && is_street_like(prev) => {
                prev.push_str(", ");
                prev.push_str(&p);
            }
            _ => merged.push(p),
        }
    }
    merged
}

/// Words that make a Latin-script line an organisation.
const ORG_WORDS: &[&str] = &[
    "inc",
    "ltd",
    "llc",
    "llp",
    "plc",
    "corp",
    "corporation",
    "company",
    "co",
    "gmbh",
    "ag",
    "kg",
    "sa",
    "sarl",
    "sas",
    "srl",
    "spa",
    "bv",
    "nv",
    "ab",
    "as",
    "oy",
    "pty",
    "pte",
    "bhd",
    "kk",
    "university",
    "universität",
    "université",
    "hospital",
    "bank",
    "embassy",
    "ministry",
    "institute",
    "school",
    "college",
    "foundation",
    "association",
];

fn is_organisation(line: &str) -> bool {
    line.split(|c: char| !c.is_alphanumeric()).any(|w| ORG_WORDS.contains(&w.to_lowercase().as_str()))
}

/// Words that mark a street, in the languages of the countries with rules.
const STREET_WORDS: &[&str] = &[
    "street",
    "st",
    "road",
    "rd",
    "avenue",
    "ave",
    "av",
    "boulevard",
    "blvd",
    "lane",
    "ln",
    "drive",
    "dr",
    "way",
    "place",
    "pl",
    "court",
    "ct",
    "square",
    "sq",
    "terrace",
    "highway",
    "hwy",
    "po box",
    "p.o. box",
    "flat",
    "suite",
    "unit",
    "floor",
    "straße",
    "strasse",
    "str",
    "weg",
    "platz",
    "allee",
    "gasse",
    "rue",
    "boulevard",
    "chemin",
    "impasse",
    "quai",
    "via",
    "viale",
    "piazza",
    "calle",
    "avenida",
    "rua",
    "praça",
    "plaza",
    "jalan",
    "jl",
    "soi",
    "thanon",
    "ul",
    "ulitsa",
    "prospekt",
    "vul",
    "ул",
    "улица",
    "пр",
    "проспект",
    "пер",
    "вул",
    "οδός",
    "λεωφ",
    "шоссе",
    "gade",
    "gatan",
    "gata",
    "vej",
    "vägen",
    "katu",
    "tie",
    "straat",
    "laan",
    "plein",
    "dong",
    "ro",
    "gil",
    "daero",
];

/// Titles that open a person's name (`Dr. Anna Schmidt`): `Dr` there is not a street's
/// `Drive`.
const NAME_TITLES: &[&str] =
    &["dr", "prof", "mr", "mrs", "ms", "mx", "miss", "herr", "frau", "mme", "mlle", "sr", "sra", "dott", "ing"];

fn is_street_like(p: &str) -> bool {
    let words: Vec<&str> =
        p.split(|c: char| c.is_whitespace() || c == '.' || c == ',' || c == '-').filter(|w| !w.is_empty()).collect();
    let skip = usize::from(words.len() > 1 && NAME_TITLES.contains(&words[0].to_lowercase().as_str()));
    words[skip..].iter().any(|w| {
        let lw = w.to_lowercase();
        STREET_WORDS.iter().any(|s| lw == *s || (s.chars().count() >= 4 && lw.ends_with(s)))
    })
}

fn parse_latin(rules: &PostalRules, text: &str) -> Parsed {
    let mut parts = split_parts(text);
    drop_country(&mut parts);
    let mut fields = AddressFields::default();
    let mut unparsed = Vec::new();
    // the postal code, searched from the last part backwards
    let mut found = None;
    for idx in (0..parts.len()).rev() {
        if let Some(hit) = find_postal(rules, &parts[idx]) {
            found = Some((idx, hit));
            break;
        }
    }
    let city_idx;
    if let Some((idx, (code, before, after))) = found {
        fields.postal_code = code;
        let mut remainder = format!("{before} {after}").trim().trim_matches(',').trim().to_string();
        let trailing: Vec<String> = parts.drain(idx + 1..).collect();
        parts.truncate(idx);
        if let Some((region, rest)) = split_region(rules, &remainder) {
            fields.region = region;
            remainder = rest;
        } else if rules.country == "SG" && remainder.eq_ignore_ascii_case("singapore") {
            remainder.clear();
        } else if rules.regions.is_empty() && rules.format.contains("%C %S") {
            // a province code after the city (`00186 Roma RM`, `28014 Madrid M`)
            let toks: Vec<&str> = remainder.split_whitespace().collect();
            if let [city @ .., code] = toks.as_slice()
                && !city.is_empty()
                && (1..=2).contains(&code.len())
                && code.bytes().all(|b| b.is_ascii_uppercase())
            {
                fields.region = (*code).to_string();
                remainder = city.join(" ");
            }
        }
        if remainder.is_empty() && rules.country != "SG" {
            // the city is on the previous part (possibly followed by a region part)
            if let Some(prev) = parts.last().cloned()
                && fields.region.is_empty()
                && let Some((region, rest)) = split_region(rules, &prev)
                && parts.len() >= 2
            {
                fields.region = region;
                parts.pop();
                if !rest.is_empty() {
                    parts.push(rest);
                }
            }
            if parts.len() >= 2 || parts.last().is_some_and(|p| !p.chars().any(|c| c.is_ascii_digit())) {
                remainder = parts.pop().unwrap_or_default();
            }
        }
        if parts.is_empty() && rules.required.contains('A') {
            // one line only: the last word is the city, the words before the street
            let toks: Vec<&str> = remainder.split_whitespace().collect();
            if toks.len() >= 2 {
                parts.push(toks[..toks.len() - 1].join(" "));
                remainder = toks[toks.len() - 1].to_string();
            }
        }
        fields.city = remainder;
        // what follows the postal code: region, city, then (largest first) the street
        let mut trailing_street: Vec<String> = Vec::new();
        for t in trailing {
            let streetish = t.chars().any(|c| c.is_ascii_digit()) || is_street_like(&t);
            if fields.region.is_empty() && rules::find_region(rules, &t).is_some() {
                fields.region = t;
            } else if fields.city.is_empty() && !streetish {
                fields.city = t;
            } else if streetish || !trailing_street.is_empty() {
                trailing_street.push(t);
            } else if fields.region.is_empty() && rules.format.contains("%S") {
                fields.region = t;
            } else {
                unparsed.push(t);
            }
        }
        fields.street = merge_house_numbers(trailing_street);
        city_idx = None;
    } else {
        // no postal code: the last part is "City Region" or the city
        city_idx = (parts.len() >= 2).then(|| parts.len() - 1);
    }
    if let Some(ci) = city_idx {
        let last = parts.remove(ci);
        match split_region(rules, &last) {
            Some((region, rest)) if !rest.is_empty() => {
                fields.region = region;
                fields.city = rest;
            }
            Some((region, _)) => {
                fields.region = region;
                if parts.len() >= 2 {
                    fields.city = parts.pop().unwrap_or_default();
                }
            }
            None => fields.city = last,
        }
    }
    // a district line before the city (suburb, 区 in Latin): only for formats that use it
    if rules.format.contains("%D")
        && parts.len() >= 2
        && let Some(last) = parts.last()
        && !last.chars().any(|c| c.is_ascii_digit())
    {
        fields.district = parts.pop().unwrap_or_default();
    }
    assign_leading(parts, &mut fields, &mut unparsed);
    Parsed { fields, unparsed }
}
