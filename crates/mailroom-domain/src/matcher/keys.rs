//! Search keys: folding of text (case, width, accents and tone marks, separators) and the
//! Han → pinyin readings that let a clerk type `zhangweijie` or `zwj` for 张伟杰.

use pinyin::ToPinyin;

/// Two-character surnames: the given name starts after them (pinyin order, initials).
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐",
    "端木", "独孤", "南宫", "西门", "轩辕", "呼延", "申屠", "万俟", "闻人", "澹台", "公冶", "太史", "钟离", "赫连",
];

/// Characters read differently as a surname than in running text.
const SURNAME_READINGS: &[(char, &str)] = &[
    ('曾', "zeng"),
    ('单', "shan"),
    ('解', "xie"),
    ('仇', "qiu"),
    ('区', "ou"),
    ('朴', "piao"),
    ('查', "zha"),
    ('覃', "qin"),
    ('翟', "zhai"),
    ('乐', "yue"),
    ('盖', "ge"),
    ('缪', "miao"),
    ('召', "shao"),
    ('种', "chong"),
    ('秘', "bi"),
    ('员', "yun"),
    ('繁', "po"),
    ('隗', "wei"),
    ('沈', "shen"),
    ('重', "chong"),
    ('柏', "bai"),
    ('薄', "bo"),
    ('宿', "su"),
    ('任', "ren"),
    ('华', "hua"),
    ('纪', "ji"),
];

/// Is `c` a Han (Chinese) character?
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x323AF)
}

/// Maps a Latin letter with an accent or a pinyin tone mark to its base letter (`ü` → `v`, as
/// pinyin keyboards type it). Returns `None` for any other character.
fn strip_accent(c: char) -> Option<char> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ǎ' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ě' | 'ę' | 'ė' | 'ế' | 'ề' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ǐ' | 'ı' => 'i',
        'ł' | 'ľ' => 'l',
        'ñ' | 'ń' | 'ň' | 'ǹ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ǒ' | 'ő' => 'o',
        'ù' | 'ú' | 'û' | 'ū' | 'ǔ' | 'ů' | 'ű' => 'u',
        'ü' | 'ǖ' | 'ǘ' | 'ǚ' | 'ǜ' => 'v',
        'ý' | 'ÿ' => 'y',
        'ś' | 'š' | 'ş' => 's',
        'ź' | 'ż' | 'ž' => 'z',
        'ř' => 'r',
        'ť' => 't',
        'ḿ' => 'm',
        'ß' => 's',
        _ => return None,
    })
}

/// Folds one character: full-width forms to ASCII, lowercase, accents and tone marks removed.
/// Returns the folded characters through `push`; separators and punctuation give nothing.
fn fold_char(c: char, push: &mut impl FnMut(char)) {
    let c = match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    if matches!(c as u32, 0x0300..=0x036F) {
        return; // combining accents and tone marks
    }
    for l in c.to_lowercase() {
        if let Some(b) = strip_accent(l) {
            push(b);
        } else if l.is_alphanumeric() || l == '@' {
            push(l);
        }
    }
}

/// The folded form of `s`: lowercase, full-width folded, accents and tone marks removed, spaces
/// and punctuation dropped (`@` is kept). `"Zhāng Wěi-jié"` → `"zhangweijie"`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        fold_char(c, &mut |f| out.push(f));
    }
    out
}

/// The words of `s`, each folded, empty ones dropped (split on spaces, dots, commas, hyphens...).
pub fn fold_words(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || matches!(c, '.' | ',' | '-' | '_' | '·' | '・' | '/' | '\u{3000}'))
        .map(fold)
        .filter(|w| !w.is_empty())
        .collect()
}

/// The toneless pinyin of a Han character, folded (`吕` → `lv`).
fn han_reading(c: char, surname: bool) -> Option<String> {
    if surname && let Some((_, r)) = SURNAME_READINGS.iter().find(|(s, _)| *s == c) {
        return Some((*r).to_string());
    }
    c.to_pinyin().map(|p| fold(p.plain()))
}

/// The pinyin readings of a folded text: every Han character replaced by its toneless
/// pinyin, everything else kept. The first character is read as a surname.
pub fn to_pinyin(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len() * 2);
    for (i, c) in folded.chars().enumerate() {
        match is_han(c).then(|| han_reading(c, i == 0)).flatten() {
            Some(r) => out.push_str(&r),
            None => out.push(c),
        }
    }
    out
}

/// Does the folded text contain a Han character?
pub fn has_han(folded: &str) -> bool {
    folded.chars().any(is_han)
}

/// Keys of a Chinese name (a folded string of Han characters).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HanKeys {
    /// Given name then surname, in characters (`伟杰张`).
    pub given_first: String,
    /// Full pinyin, surname first (`zhangweijie`).
    pub pinyin: String,
    /// Full pinyin, given name first (`weijiezhang`).
    pub pinyin_given_first: String,
    /// Initials of the pinyin syllables (`zwj`).
    pub initials: String,
}

/// Derives the pinyin keys of a Chinese name; `None` unless every character is Han and at
/// least one has a reading.
pub fn han_name_keys(folded: &str) -> Option<HanKeys> {
    let chars: Vec<char> = folded.chars().collect();
    if chars.is_empty() || !chars.iter().all(|c| is_han(*c)) {
        return None;
    }
    let surname_len = if chars.len() > 2 && COMPOUND_SURNAMES.iter().any(|s| folded.starts_with(s)) {
        2
    } else if chars.len() >= 2 {
        1
    } else {
        0
    };
    let mut syllables = Vec::with_capacity(chars.len());
    for (i, c) in chars.iter().enumerate() {
        syllables.push(han_reading(*c, i < surname_len)?);
    }
    let (sur, given) = syllables.split_at(surname_len);
    let (sur_c, given_c) = chars.split_at(surname_len);
    Some(HanKeys {
        given_first: given_c.iter().chain(sur_c).collect(),
        pinyin: syllables.concat(),
        pinyin_given_first: given.iter().chain(sur).map(String::as_str).collect(),
        initials: syllables.iter().filter_map(|s| s.chars().next()).collect(),
    })
}

/// Full pinyin and syllable initials of a folded text that is not a personal name (a
/// department): Han characters read with their common reading, other characters kept in both.
pub fn text_pinyin(folded: &str) -> (String, String) {
    let mut full = String::with_capacity(folded.len() * 2);
    let mut initials = String::new();
    for c in folded.chars() {
        match is_han(c).then(|| han_reading(c, false)).flatten() {
            Some(r) => {
                full.push_str(&r);
                initials.extend(r.chars().next());
            }
            None => {
                full.push(c);
                initials.push(c);
            }
        }
    }
    (full, initials)
}

/// Removes tone digits typed after pinyin syllables: `zhang1wei3` → `zhangwei`. A digit 0-5
/// counts as a tone when it follows a letter and is followed by a letter or the end.
pub fn strip_tone_digits(folded: &str) -> Option<String> {
    let chars: Vec<char> = folded.chars().collect();
    let mut out = String::with_capacity(folded.len());
    let mut changed = false;
    for (i, &c) in chars.iter().enumerate() {
        let prev_letter = i > 0 && chars[i - 1].is_ascii_lowercase();
        let next_ok = chars.get(i + 1).is_none_or(|n| n.is_ascii_lowercase());
        if ('0'..='5').contains(&c) && prev_letter && next_ok {
            changed = true;
        } else {
            out.push(c);
        }
    }
    (changed && !out.is_empty()).then_some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert_eq!(fold("Zhāng Wěi-jié"), "zhangweijie");
        assert_eq!(fold("ＺＨＡＮＧ　Ｗｅｉ"), "zhangwei");
        assert_eq!(fold("Lǚ Bù"), "lvbu");
        assert_eq!(fold("José O'Neil"), "joseoneil");
        assert_eq!(fold("Zhang.WJ@Corp.CN"), "zhangwj@corpcn");
        assert_eq!(fold("张 伟·杰"), "张伟杰");
        assert_eq!(fold("E-00123"), "e00123");
        assert_eq!(fold("Zha\u{0301}ng"), "zhang");
    }

    #[test]
    fn pinyin_of_names() {
        let k = han_name_keys("张伟杰").unwrap();
        assert_eq!(k.pinyin, "zhangweijie");
        assert_eq!(k.pinyin_given_first, "weijiezhang");
        assert_eq!(k.initials, "zwj");
        assert_eq!(k.given_first, "伟杰张");
        // Surname readings and compound surnames.
        assert_eq!(han_name_keys("曾小红").unwrap().pinyin, "zengxiaohong");
        assert_eq!(han_name_keys("单田芳").unwrap().pinyin, "shantianfang");
        let k = han_name_keys("欧阳娜娜").unwrap();
        assert_eq!(k.pinyin_given_first, "nanaouyang");
        assert_eq!(k.given_first, "娜娜欧阳");
        assert_eq!(han_name_keys("吕布").unwrap().pinyin, "lvbu");
        assert!(han_name_keys("John").is_none());
        assert!(han_name_keys("张A").is_none());
        assert_eq!(to_pinyin("财务部"), "caiwubu");
    }

    #[test]
    fn tone_digits() {
        assert_eq!(strip_tone_digits("zhang1wei3jie2").as_deref(), Some("zhangweijie"));
        assert_eq!(strip_tone_digits("e00123"), None);
        assert_eq!(strip_tone_digits("zhangwei"), None);
        assert_eq!(strip_tone_digits("a1"), Some("a".to_string()));
    }
}
