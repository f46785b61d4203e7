//! Script detection and Latin rendering of non-Latin address text: Han through pinyin (or
//! the Japanese readings of place names), kana to Hepburn, hangul to Revised Romanization,
//! and transliteration tables for Cyrillic, Greek, Arabic and Thai.

use pinyin::ToPinyin;
use serde::Serialize;

/// A writing system found in address text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Script {
    Latin,
    Han,
    Kana,
    Hangul,
    Cyrillic,
    Greek,
    Arabic,
    Thai,
    Other,
}

/// The script of one character; `None` for digits, spaces, punctuation and symbols.
pub fn script_of(c: char) -> Option<Script> {
    let u = c as u32;
    Some(match u {
        0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF | 0xFF21..=0xFF3A | 0xFF41..=0xFF5A
            if c.is_alphabetic() =>
        {
            Script::Latin
        }
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x323AF | 0x3005 => Script::Han,
        0x3041..=0x309F | 0x30A0..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9D => Script::Kana,
        0xAC00..=0xD7A3 | 0x1100..=0x11FF | 0x3130..=0x318F => Script::Hangul,
        0x400..=0x52F => Script::Cyrillic,
        0x370..=0x3FF | 0x1F00..=0x1FFF => Script::Greek,
        0x600..=0x6FF | 0x750..=0x77F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF if c.is_alphabetic() => Script::Arabic,
        0xE00..=0xE7F if !c.is_ascii_digit() && !(0xE50..=0xE59).contains(&u) => Script::Thai,
        _ if c.is_alphabetic() => Script::Other,
        _ => return None,
    })
}

/// The scripts found in `text`, in order of first appearance.
pub fn detect(text: &str) -> Vec<Script> {
    let mut out = Vec::new();
    for s in text.chars().filter_map(script_of) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Does `text` contain letters of any script other than Latin?
pub fn needs_latin(text: &str) -> bool {
    detect(text).iter().any(|s| *s != Script::Latin)
}

/// The Latin rendering of `text` and whether every letter could be rendered. `japanese` reads
/// Han as Japanese (known place names and unit words only) instead of Mandarin pinyin.
pub fn to_latin(text: &str, japanese: bool) -> (String, bool) {
    let mut out = Out::default();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut complete = true;
    while i < chars.len() {
        let c = chars[i];
        match script_of(c) {
            Some(Script::Han) if japanese => {
                let (n, ok) = japanese_han(&chars[i..], &mut out);
                complete &= ok;
                i += n;
            }
            Some(Script::Han) => i += han_run(&chars[i..], &mut out),
            Some(Script::Kana) => {
                let end = run_end(&chars, i, |c| script_of(c) == Some(Script::Kana) || c == 'ー');
                out.word(&capitalise(&kana(&chars[i..end])));
                i = end;
            }
            Some(Script::Hangul) => {
                let end = run_end(&chars, i, |c| script_of(c) == Some(Script::Hangul));
                out.word(&hangul_word(&chars[i..end]));
                i = end;
            }
            Some(Script::Cyrillic) => {
                let end = run_end(&chars, i, |c| script_of(c) == Some(Script::Cyrillic));
                out.text(&cyrillic(&chars[i..end]));
                i = end;
            }
            Some(Script::Greek) => {
                let end = run_end(&chars, i, |c| script_of(c) == Some(Script::Greek));
                out.text(&greek(&chars[i..end]));
                i = end;
            }
            Some(Script::Arabic) => {
                let end = run_end(&chars, i, |c| script_of(c) == Some(Script::Arabic) || is_arabic_mark(c));
                out.text(&arabic(&chars[i..end]));
                i = end;
            }
            Some(Script::Thai) => {
                let end = run_end(&chars, i, |c| script_of(c) == Some(Script::Thai));
                out.text(&capitalise(&thai(&chars[i..end])));
                i = end;
            }
            Some(Script::Other) => {
                complete = false;
                out.other(c);
                i += 1;
            }
            _ => {
                out.other(c);
                i += 1;
            }
        }
    }
    let out = out.finish();
    // anything still not in Latin letters (rare Han, lone jamo, unmapped letters)
    complete &= detect(&out).iter().all(|s| *s == Script::Latin);
    (out, complete)
}

fn run_end(chars: &[char], start: usize, f: impl Fn(char) -> bool) -> usize {
    let mut j = start;
    while j < chars.len() && f(chars[j]) {
        j += 1;
    }
    j
}

/// Builds Latin text: romanised words are separated by spaces from neighbouring letters and
/// digits; full-width forms and CJK punctuation become ASCII.
#[derive(Default)]
struct Out {
    s: String,
    last_word: bool,
}

impl Out {
    fn space(&mut self) {
        if let Some(l) = self.s.chars().last()
            && !matches!(l, ' ' | '-' | '(' | '/' | '#')
        {
            self.s.push(' ');
        }
    }
    fn word(&mut self, w: &str) {
        if w.is_empty() {
            return;
        }
        self.space();
        self.s.push_str(w);
        self.last_word = true;
    }
    fn text(&mut self, t: &str) {
        if self.last_word {
            self.space();
        }
        self.s.push_str(t);
        self.last_word = false;
    }
    fn other(&mut self, c: char) {
        let c = fullwidth(c);
        let mapped: &str = match c {
            '，' | '、' => ", ",
            '。' => ". ",
            '（' | '【' | '「' | '『' => " (",
            '）' | '】' | '」' | '』' => ") ",
            '：' => ": ",
            '；' => "; ",
            '－' | '—' | '‐' | '−' | 'ー' => "-",
            '〒' => "",
            '\u{3000}' => " ",
            '·' | '・' => " ",
            _ => {
                if self.last_word && c.is_alphanumeric() {
                    self.space();
                }
                self.s.push(c);
                self.last_word = false;
                return;
            }
        };
        self.s.push_str(mapped);
        self.last_word = false;
    }
    fn finish(self) -> String {
        let mut out = String::with_capacity(self.s.len());
        for w in self.s.split_whitespace() {
            if !out.is_empty() && !w.starts_with([',', '.', ')', ';', ':']) {
                out.push(' ');
            }
            out.push_str(w);
        }
        out
    }
}

/// Full-width ASCII forms (`１２３`, `Ａ`) to ASCII.
pub fn fullwidth(c: char) -> char {
    let u = c as u32;
    if (0xFF01..=0xFF5E).contains(&u) { char::from_u32(u - 0xFEE0).unwrap_or(c) } else { c }
}

pub(crate) fn capitalise(s: &str) -> String {
    let mut cs = s.chars();
    match cs.next() {
        Some(f) => f.to_uppercase().chain(cs).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------- Han (Chinese)

/// Unit words of Chinese addresses, written as separate words in the Latin rendering.
const CN_UNITS: &[(&str, &str)] = &[
    ("特别行政区", "Tebie Xingzhengqu"),
    ("特別行政區", "Tebie Xingzhengqu"),
    ("自治区", "Zizhiqu"),
    ("自治州", "Zizhizhou"),
    ("自治县", "Zizhixian"),
    ("开发区", "Kaifaqu"),
    ("工业园", "Gongyeyuan"),
    ("大道", "Dadao"),
    ("大街", "Dajie"),
    ("街道", "Jiedao"),
    ("单元", "Danyuan"),
    ("胡同", "Hutong"),
    ("小区", "Xiaoqu"),
    ("大厦", "Dasha"),
    ("大廈", "Dasha"),
    ("省", "Sheng"),
    ("市", "Shi"),
    ("区", "Qu"),
    ("區", "Qu"),
    ("县", "Xian"),
    ("縣", "Xian"),
    ("镇", "Zhen"),
    ("鎮", "Zhen"),
    ("乡", "Xiang"),
    ("鄉", "Xiang"),
    ("村", "Cun"),
    ("路", "Lu"),
    ("街", "Jie"),
    ("巷", "Xiang"),
    ("弄", "Long"),
    ("号", "Hao"),
    ("號", "Hao"),
    ("楼", "Lou"),
    ("樓", "Lou"),
    ("室", "Shi"),
    ("栋", "Dong"),
    ("棟", "Dong"),
    ("座", "Zuo"),
    ("层", "Ceng"),
    ("層", "Ceng"),
    ("段", "Duan"),
    ("里", "Li"),
];

/// Place names whose pinyin is not the characters' first readings.
const CN_PHRASES: &[(&str, &str)] = &[
    ("重庆", "chongqing"),
    ("重慶", "chongqing"),
    ("厦门", "xiamen"),
    ("廈門", "xiamen"),
    ("六安", "lu'an"),
    ("蚌埠", "bengbu"),
    ("番禺", "panyu"),
    ("丽水", "lishui"),
    ("乐清", "yueqing"),
    ("铅山", "yanshan"),
    ("大厦", "dasha"),
    ("银行", "yinhang"),
];

/// Readings more likely in place names than the first dictionary reading.
const CN_PLACE_READINGS: &[(char, &str)] =
    &[('长', "chang"), ('長', "chang"), ('重', "chong"), ('行', "xing"), ('厦', "xia"), ('都', "du")];

/// Romanises a run of Han characters (stopping at the first non-Han one) as pinyin words,
/// splitting off unit words (`科技南路` → `Kejinan Lu`). Returns the characters consumed.
fn han_run(chars: &[char], out: &mut Out) -> usize {
    let end = run_end(chars, 0, |c| script_of(c) == Some(Script::Han));
    let run = &chars[..end];
    let mut word = String::new();
    let mut i = 0;
    while i < run.len() {
        let unit = CN_UNITS.iter().find(|(u, _)| {
            let uc: Vec<char> = u.chars().collect();
            run[i..].starts_with(&uc)
        });
        // a one-character unit starts a word only after a number or letter (`1号`, `A座`)
        let after_number = i == 0 && out.s.ends_with(|c: char| c.is_ascii_alphanumeric());
        if let Some((u, latin)) = unit
            && (!word.is_empty() || u.chars().count() > 1 || after_number)
        {
            out.word(&capitalise(&word));
            word.clear();
            out.word(latin);
            i += u.chars().count();
            continue;
        }
        let c = run[i];
        if let Some((p, latin)) = CN_PHRASES.iter().find(|(p, _)| {
            let pc: Vec<char> = p.chars().collect();
            run[i..].starts_with(&pc)
        }) {
            word.push_str(latin);
            i += p.chars().count();
            continue;
        }
        if let Some((_, r)) = CN_PLACE_READINGS.iter().find(|(h, _)| *h == c) {
            word.push_str(r);
            i += 1;
            continue;
        }
        match c.to_pinyin() {
            Some(p) => word.push_str(p.plain()),
            None => word.push(c),
        }
        i += 1;
    }
    out.word(&capitalise(&word));
    end
}

/// The toneless pinyin of a Chinese personal name, surname first: `张伟杰` → `Zhang Weijie`.
pub fn chinese_name(name: &str) -> Option<String> {
    let chars: Vec<char> = name.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.len() < 2 || chars.len() > 4 || !chars.iter().all(|c| script_of(*c) == Some(Script::Han)) {
        return None;
    }
    let read = |cs: &[char]| -> String {
        cs.iter().map(|c| c.to_pinyin().map(|p| p.plain().to_string()).unwrap_or_else(|| c.to_string())).collect()
    };
    let surname_len = if chars.len() == 4 { 2 } else { 1 };
    Some(format!("{} {}", capitalise(&read(&chars[..surname_len])), capitalise(&read(&chars[surname_len..]))))
}

/// A Korean personal name in Revised Romanization, surname first: `홍길동` → `Hong Gildong`.
pub fn korean_name(name: &str) -> Option<String> {
    let chars: Vec<char> = name.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.len() < 2 || chars.len() > 4 || !chars.iter().all(|c| (0xAC00..=0xD7A3).contains(&(*c as u32))) {
        return None;
    }
    Some(format!("{} {}", capitalise(&hangul(&chars[..1])), capitalise(&hangul(&chars[1..]))))
}

// ---------------------------------------------------------------- Han (Japanese)

/// Japanese prefectures and frequent place names with their Hepburn readings.
pub(crate) const JP_PLACES: &[(&str, &str)] = &[
    ("北海道", "Hokkaido"),
    ("青森県", "Aomori"),
    ("岩手県", "Iwate"),
    ("宮城県", "Miyagi"),
    ("秋田県", "Akita"),
    ("山形県", "Yamagata"),
    ("福島県", "Fukushima"),
    ("茨城県", "Ibaraki"),
    ("栃木県", "Tochigi"),
    ("群馬県", "Gunma"),
    ("埼玉県", "Saitama"),
    ("千葉県", "Chiba"),
    ("東京都", "Tokyo"),
    ("神奈川県", "Kanagawa"),
    ("新潟県", "Niigata"),
    ("富山県", "Toyama"),
    ("石川県", "Ishikawa"),
    ("福井県", "Fukui"),
    ("山梨県", "Yamanashi"),
    ("長野県", "Nagano"),
    ("岐阜県", "Gifu"),
    ("静岡県", "Shizuoka"),
    ("愛知県", "Aichi"),
    ("三重県", "Mie"),
    ("滋賀県", "Shiga"),
    ("京都府", "Kyoto"),
    ("大阪府", "Osaka"),
    ("兵庫県", "Hyogo"),
    ("奈良県", "Nara"),
    ("和歌山県", "Wakayama"),
    ("鳥取県", "Tottori"),
    ("島根県", "Shimane"),
    ("岡山県", "Okayama"),
    ("広島県", "Hiroshima"),
    ("山口県", "Yamaguchi"),
    ("徳島県", "Tokushima"),
    ("香川県", "Kagawa"),
    ("愛媛県", "Ehime"),
    ("高知県", "Kochi"),
    ("福岡県", "Fukuoka"),
    ("佐賀県", "Saga"),
    ("長崎県", "Nagasaki"),
    ("熊本県", "Kumamoto"),
    ("大分県", "Oita"),
    ("宮崎県", "Miyazaki"),
    ("鹿児島県", "Kagoshima"),
    ("沖縄県", "Okinawa"),
    // cities and wards
    ("札幌", "Sapporo"),
    ("仙台", "Sendai"),
    ("横浜", "Yokohama"),
    ("川崎", "Kawasaki"),
    ("名古屋", "Nagoya"),
    ("京都", "Kyoto"),
    ("大阪", "Osaka"),
    ("神戸", "Kobe"),
    ("広島", "Hiroshima"),
    ("福岡", "Fukuoka"),
    ("千代田", "Chiyoda"),
    ("中央", "Chuo"),
    ("港", "Minato"),
    ("新宿", "Shinjuku"),
    ("渋谷", "Shibuya"),
    ("品川", "Shinagawa"),
    ("目黒", "Meguro"),
    ("世田谷", "Setagaya"),
    ("豊島", "Toshima"),
    ("台東", "Taito"),
    ("文京", "Bunkyo"),
    ("江東", "Koto"),
    ("大田", "Ota"),
    ("丸の内", "Marunouchi"),
    ("霞が関", "Kasumigaseki"),
    ("銀座", "Ginza"),
    ("六本木", "Roppongi"),
    ("梅田", "Umeda"),
    ("北", "Kita"),
    ("西", "Nishi"),
    ("東", "Higashi"),
    ("南", "Minami"),
];

const JP_UNITS: &[(&str, &str)] = &[
    ("丁目", "-chome"),
    ("番地", "-banchi"),
    ("番", "-ban"),
    ("号", "-go"),
    ("都", ""),
    ("道", ""),
    ("府", ""),
    ("県", ""),
    ("市", "-shi"),
    ("区", "-ku"),
    ("郡", "-gun"),
    ("町", "-cho"),
    ("村", "-mura"),
];

/// Reads Japanese Han text by longest match against known place names and unit words.
/// Unknown characters are kept as they are and reported as not rendered.
fn japanese_han(chars: &[char], out: &mut Out) -> (usize, bool) {
    let starts = |s: &str| {
        let v: Vec<char> = s.chars().collect();
        chars.starts_with(&v).then_some(v.len())
    };
    let mut best: Option<(usize, &str, bool)> = None;
    for (k, v) in JP_PLACES {
        if let Some(n) = starts(k)
            && best.is_none_or(|b| n > b.0)
        {
            best = Some((n, v, false));
        }
    }
    for (k, v) in JP_UNITS {
        if let Some(n) = starts(k)
            && best.is_none_or(|b| n > b.0)
        {
            best = Some((n, v, true));
        }
    }
    match best {
        Some((n, v, true)) => {
            if v.is_empty() {
                // prefecture suffix after a known name: already read
            } else if out.s.ends_with(|c: char| c.is_alphanumeric()) {
                out.s.push_str(v);
                out.last_word = true;
            } else {
                out.word(v.trim_start_matches('-'));
            }
            (n, true)
        }
        Some((n, v, false)) => {
            out.word(v);
            (n, true)
        }
        None => {
            out.word(&chars[0].to_string());
            (1, false)
        }
    }
}

// ---------------------------------------------------------------- kana

const KANA: &[&str] = &[
    // ぁ..ゖ (U+3041..U+3096), hiragana order
    "a", "a", "i", "i", "u", "u", "e", "e", "o", "o", "ka", "ga", "ki", "gi", "ku", "gu", "ke", "ge", "ko", "go", "sa",
    "za", "shi", "ji", "su", "zu", "se", "ze", "so", "zo", "ta", "da", "chi", "ji", "tsu", "tsu", "zu", "te", "de",
    "to", "do", "na", "ni", "nu", "ne", "no", "ha", "ba", "pa", "hi", "bi", "pi", "fu", "bu", "pu", "he", "be", "pe",
    "ho", "bo", "po", "ma", "mi", "mu", "me", "mo", "ya", "ya", "yu", "yu", "yo", "yo", "ra", "ri", "ru", "re", "ro",
    "wa", "wa", "i", "e", "o", "n", "vu", "ka", "ke",
];

fn kana_index(c: char) -> Option<usize> {
    let mut u = c as u32;
    if (0x30A1..=0x30F6).contains(&u) {
        u -= 0x60;
    }
    (0x3041..=0x3096).contains(&u).then(|| (u - 0x3041) as usize)
}

/// Kana to modified Hepburn without macrons (long vowels are not marked, as on mail).
pub fn kana(chars: &[char]) -> String {
    let mut out = String::new();
    let mut double_next = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        let Some(ix) = kana_index(c) else {
            continue; // ー and marks: long vowels are not written
        };
        let small = matches!(
            c,
            'ゃ' | 'ゅ'
                | 'ょ'
                | 'ャ'
                | 'ュ'
                | 'ョ'
                | 'ぁ'
                | 'ぃ'
                | 'ぅ'
                | 'ぇ'
                | 'ぉ'
                | 'ァ'
                | 'ィ'
                | 'ゥ'
                | 'ェ'
                | 'ォ'
        );
        if matches!(c, 'っ' | 'ッ') {
            double_next = true;
            continue;
        }
        let mut syl = KANA[ix].to_string();
        // long vowels are not written on mail: おう, おお, うう → o, o, u
        if (syl == "u" && (out.ends_with('o') || out.ends_with('u'))) || (syl == "o" && out.ends_with('o')) {
            continue;
        }
        if small && !out.is_empty() {
            // yōon and foreign sounds: drop the vowel of the previous syllable
            let prev_i = out.ends_with("shi") || out.ends_with("chi") || (out.ends_with("ji"));
            out.pop();
            if prev_i && syl.starts_with('y') {
                syl.remove(0);
            }
            out.push_str(&syl);
            continue;
        }
        if double_next {
            double_next = false;
            if syl.starts_with("ch") {
                out.push('t');
            } else if let Some(f) = syl.chars().next()
                && !"aiueon".contains(f)
            {
                out.push(f);
            }
        }
        out.push_str(&syl);
    }
    out
}

// ---------------------------------------------------------------- hangul

const RR_INITIAL: [&str; 19] =
    ["g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h"];
const RR_VOWEL: [&str; 21] = [
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi", "yu", "eu",
    "ui", "i",
];
const RR_FINAL: [&str; 28] = [
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p", "t", "t", "ng", "t",
    "t", "k", "t", "p", "t",
];
/// A final consonant read before a vowel (the next syllable starts with silent ㅇ).
const RR_FINAL_LINKED: [&str; 28] = [
    "", "g", "kk", "ks", "n", "nj", "n", "d", "r", "lg", "lm", "lb", "ls", "lt", "lp", "r", "m", "b", "bs", "s", "ss",
    "ng", "j", "ch", "k", "t", "p", "",
];

/// Administrative units of Korean addresses, hyphenated in Revised Romanization.
const KR_UNITS: &[&str] = &["시", "군", "구", "읍", "면", "동", "리", "로", "길", "가", "도"];

/// Korean first-level divisions and their customary English names.
pub(crate) const KR_REGIONS: &[(&str, &str)] = &[
    ("서울특별시", "Seoul"),
    ("부산광역시", "Busan"),
    ("대구광역시", "Daegu"),
    ("인천광역시", "Incheon"),
    ("광주광역시", "Gwangju"),
    ("대전광역시", "Daejeon"),
    ("울산광역시", "Ulsan"),
    ("세종특별자치시", "Sejong"),
    ("경기도", "Gyeonggi-do"),
    ("강원특별자치도", "Gangwon-do"),
    ("강원도", "Gangwon-do"),
    ("충청북도", "Chungcheongbuk-do"),
    ("충청남도", "Chungcheongnam-do"),
    ("전북특별자치도", "Jeonbuk-do"),
    ("전라북도", "Jeollabuk-do"),
    ("전라남도", "Jeollanam-do"),
    ("경상북도", "Gyeongsangbuk-do"),
    ("경상남도", "Gyeongsangnam-do"),
    ("제주특별자치도", "Jeju-do"),
];

fn hangul_word(chars: &[char]) -> String {
    let word: String = chars.iter().collect();
    if let Some((_, en)) = KR_REGIONS.iter().find(|(k, _)| *k == word) {
        return (*en).to_string();
    }
    if chars.len() >= 2
        && let Some(last) = chars.last()
        && KR_UNITS.contains(&last.to_string().as_str())
    {
        return format!("{}-{}", capitalise(&hangul(&chars[..chars.len() - 1])), hangul(&chars[chars.len() - 1..]));
    }
    capitalise(&hangul(chars))
}

/// Hangul to Revised Romanization (syllable by syllable, with liaison of final consonants
/// before a vowel and `ll` for ㄹ+ㄹ).
pub fn hangul(chars: &[char]) -> String {
    let parts: Vec<Option<(usize, usize, usize)>> = chars
        .iter()
        .map(|c| {
            let u = *c as u32;
            (0xAC00..=0xD7A3).contains(&u).then(|| {
                let s = (u - 0xAC00) as usize;
                (s / 588, (s % 588) / 28, s % 28)
            })
        })
        .collect();
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        let Some((l, v, t)) = *p else {
            out.push(chars[i]);
            continue;
        };
        let prev_final = if i > 0 { parts[i - 1].map(|x| x.2).unwrap_or(0) } else { 0 };
        // ㄹ after ㄹ is l; after ㅇ, ㅁ, ㄱ, ㅂ it is read n (종로 Jongno)
        let initial = match (l, prev_final) {
            (5, 8 | 4) | (2, 8) => "l",
            (5, 21 | 16 | 1 | 17) => "n",
            _ => RR_INITIAL[l],
        };
        out.push_str(initial);
        out.push_str(RR_VOWEL[v]);
        let next_initial = parts.get(i + 1).copied().flatten().map(|n| n.0);
        let fin = match (t, next_initial) {
            (_, Some(11)) => RR_FINAL_LINKED[t],
            // ㄴ+ㄹ and ㄹ+ㄴ are read ll (신라 Silla)
            (4, Some(5)) => "l",
            // nasalisation before ㄴ and ㅁ (국민 gungmin, 합니다 hamnida, 믿는 minneun)
            (1 | 2 | 3 | 9 | 24, Some(2 | 6)) => "ng",
            (17 | 18 | 26 | 14, Some(2 | 6)) => "m",
            (7 | 19 | 20 | 22 | 23 | 25 | 27, Some(2 | 6)) => "n",
            _ => RR_FINAL[t],
        };
        out.push_str(fin);
    }
    out
}

// ---------------------------------------------------------------- Cyrillic

fn cyrillic_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'ґ' => "g",
        'д' => "d",
        'е' | 'ё' | 'э' => "e",
        'є' => "ie",
        'ж' => "zh",
        'з' => "z",
        'и' | 'й' | 'і' | 'ї' => "i",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ў' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' => "ie",
        'ы' => "y",
        'ь' => "",
        'ю' => "iu",
        'я' => "ia",
        _ => return None,
    })
}

/// Ukrainian letters that differ from the Russian reading (Ukrainian national system).
fn ukrainian_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'и' => "y",
        'г' => "h",
        'ґ' => "g",
        'й' => "i",
        _ => return None,
    })
}

/// Cyrillic to Latin after ICAO Doc 9303 (Russian); text with the Ukrainian letters і, ї, є
/// or ґ follows the Ukrainian national system (`Київ` → `Kyiv`).
pub fn cyrillic(chars: &[char]) -> String {
    let ukrainian = chars.iter().any(|c| matches!(c, 'і' | 'ї' | 'є' | 'ґ' | 'І' | 'Ї' | 'Є' | 'Ґ'));
    let mut out = String::new();
    for &c in chars {
        let lower = c.to_lowercase().next().unwrap_or(c);
        let letter =
            if ukrainian { ukrainian_letter(lower).or_else(|| cyrillic_letter(lower)) } else { cyrillic_letter(lower) };
        match letter {
            Some(l) if c != lower => out.push_str(&capitalise(l)),
            Some(l) => out.push_str(l),
            None => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------- Greek

fn greek_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'α' | 'ά' => "a",
        'β' => "v",
        'γ' => "g",
        'δ' => "d",
        'ε' | 'έ' => "e",
        'ζ' => "z",
        'η' | 'ή' => "i",
        'θ' => "th",
        'ι' | 'ί' | 'ϊ' | 'ΐ' => "i",
        'κ' => "k",
        'λ' => "l",
        'μ' => "m",
        'ν' => "n",
        'ξ' => "x",
        'ο' | 'ό' => "o",
        'π' => "p",
        'ρ' => "r",
        'σ' | 'ς' => "s",
        'τ' => "t",
        'υ' | 'ύ' | 'ϋ' | 'ΰ' => "y",
        'φ' => "f",
        'χ' => "ch",
        'ψ' => "ps",
        'ω' | 'ώ' => "o",
        _ => return None,
    })
}

/// Greek to Latin after ELOT 743 (the digraphs ου, αυ, ευ, word-initial μπ and ντ, γγ, γκ).
pub fn greek(chars: &[char]) -> String {
    let lower: Vec<char> = chars.iter().map(|c| c.to_lowercase().next().unwrap_or(*c)).collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lower.len() {
        let upper = chars[i] != lower[i];
        let next = lower.get(i + 1).copied();
        let word_start = i == 0 || !lower[i - 1].is_alphabetic();
        let (s, n): (String, usize) = match (lower[i], next) {
            ('ο', Some('υ' | 'ύ')) => ("ou".into(), 2),
            ('α', Some('υ' | 'ύ')) => ("av".into(), 2),
            ('ε', Some('υ' | 'ύ')) => ("ev".into(), 2),
            ('μ', Some('π')) if word_start => ("b".into(), 2),
            ('ν', Some('τ')) if word_start => ("d".into(), 2),
            ('γ', Some('γ')) => ("ng".into(), 2),
            ('γ', Some('κ')) => (if word_start { "g" } else { "ng" }.into(), 2),
            (c, _) => (greek_letter(c).map(str::to_string).unwrap_or_else(|| c.to_string()), 1),
        };
        out.push_str(&if upper { capitalise(&s) } else { s });
        i += n;
    }
    out
}

// ---------------------------------------------------------------- Arabic

fn is_arabic_mark(c: char) -> bool {
    matches!(c as u32, 0x64B..=0x652 | 0x670)
}

fn arabic_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'ا' | 'أ' | 'آ' | 'ى' | 'ة' => "a",
        'إ' => "i",
        'ء' | 'ئ' | 'ؤ' | 'ع' => "'",
        'ب' => "b",
        'ت' => "t",
        'ث' => "th",
        'ج' => "j",
        'ح' | 'ه' => "h",
        'خ' => "kh",
        'د' | 'ض' => "d",
        'ذ' => "dh",
        'ر' => "r",
        'ز' | 'ظ' => "z",
        'س' | 'ص' => "s",
        'ش' => "sh",
        'ط' => "t",
        'غ' => "gh",
        'ف' => "f",
        'ق' => "q",
        'ك' | 'ک' => "k",
        'ل' => "l",
        'م' => "m",
        'ن' => "n",
        'و' => "w",
        'ي' | 'ی' => "y",
        'پ' => "p",
        'چ' => "ch",
        'ژ' => "zh",
        'گ' => "g",
        '\u{64E}' => "a",
        '\u{64F}' => "u",
        '\u{650}' => "i",
        '\u{64B}' => "an",
        '\u{64C}' => "un",
        '\u{64D}' => "in",
        '\u{651}' | '\u{652}' | '\u{670}' => "",
        _ => return None,
    })
}

/// Arabic (and the Persian letters) to Latin consonant by consonant; short vowels only where
/// they are written; the article ال becomes `al-`.
pub fn arabic(chars: &[char]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let word_start = i == 0 || !(script_of(chars[i - 1]) == Some(Script::Arabic) || is_arabic_mark(chars[i - 1]));
        if word_start && chars[i] == 'ا' && chars.get(i + 1) == Some(&'ل') && chars.len() > i + 3 {
            out.push_str("al-");
            i += 2;
            continue;
        }
        let c = chars[i];
        let d = c as u32;
        if (0x660..=0x669).contains(&d) || (0x6F0..=0x6F9).contains(&d) {
            out.push(char::from_u32(u32::from('0') + (d & 0xF)).unwrap_or(c));
        } else {
            match arabic_letter(c) {
                Some(l) => out.push_str(l),
                None => out.push(c),
            }
        }
        i += 1;
    }
    // capitalise each word, after the article
    out.split(' ')
        .map(|w| match w.strip_prefix("al-") {
            Some(rest) => format!("al-{}", capitalise(rest)),
            None => capitalise(w),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------- Thai

fn thai_initial(c: char) -> Option<&'static str> {
    Some(match c {
        'ก' => "k",
        'ข' | 'ฃ' | 'ค' | 'ฅ' | 'ฆ' => "kh",
        'ง' => "ng",
        'จ' | 'ฉ' | 'ช' | 'ฌ' => "ch",
        'ซ' | 'ศ' | 'ษ' | 'ส' => "s",
        'ญ' | 'ย' => "y",
        'ฎ' | 'ด' => "d",
        'ฏ' | 'ต' => "t",
        'ฐ' | 'ฑ' | 'ฒ' | 'ถ' | 'ท' | 'ธ' => "th",
        'ณ' | 'น' => "n",
        'บ' => "b",
        'ป' => "p",
        'ผ' | 'พ' | 'ภ' => "ph",
        'ฝ' | 'ฟ' => "f",
        'ม' => "m",
        'ร' => "r",
        'ล' | 'ฬ' => "l",
        'ว' => "w",
        'ห' | 'ฮ' => "h",
        'อ' => "",
        'ฤ' => "rue",
        'ฦ' => "lue",
        _ => return None,
    })
}

fn thai_final(c: char) -> &'static str {
    match c {
        'ก' | 'ข' | 'ค' | 'ฆ' => "k",
        'บ' | 'ป' | 'พ' | 'ฟ' | 'ภ' => "p",
        'ง' => "ng",
        'ญ' | 'ณ' | 'น' | 'ร' | 'ล' | 'ฬ' => "n",
        'ม' => "m",
        'ย' => "i",
        'ว' => "o",
        'อ' => "",
        _ => "t",
    }
}

fn thai_vowel(c: char) -> Option<&'static str> {
    Some(match c {
        'ะ' | 'ั' | 'า' => "a",
        'ำ' => "am",
        'ิ' | 'ี' => "i",
        'ึ' | 'ื' => "ue",
        'ุ' | 'ู' => "u",
        _ => return None,
    })
}

/// Thai to Latin after the Royal Thai General System, syllable by syllable: leading vowels
/// moved after their consonant, final consonants in their final value, tone marks dropped.
/// An approximation: Thai spelling does not mark syllable boundaries.
pub fn thai(chars: &[char]) -> String {
    let mut out = String::new();
    let mut lead: Option<char> = None;
    let mut has_initial = false;
    let mut has_vowel = false;
    let mut initial_char: Option<char> = None;
    let mut i = 0;
    let next_is_vowel = |j: usize| chars.get(j).is_some_and(|c| thai_vowel(*c).is_some() || *c == 'ั');
    while i < chars.len() {
        let c = chars[i];
        let d = c as u32;
        if (0xE50..=0xE59).contains(&d) {
            out.push(char::from_u32(u32::from('0') + (d - 0xE50)).unwrap_or(c));
            i += 1;
            continue;
        }
        if matches!(c, 'เ' | 'แ' | 'โ' | 'ใ' | 'ไ') {
            if has_initial && !has_vowel {
                out.push('o');
            }
            lead = Some(c);
            has_initial = false;
            has_vowel = false;
            i += 1;
            continue;
        }
        if let Some(init) = thai_initial(c) {
            if let Some(l) = lead.take() {
                out.push_str(init);
                initial_char = Some(c);
                // clusters after a leading vowel: เปลี่ยน, โคร
                if let Some(&n) = chars.get(i + 1)
                    && matches!(n, 'ร' | 'ล' | 'ว')
                    && matches!(c, 'ก' | 'ข' | 'ค' | 'ป' | 'พ' | 'ต' | 'บ')
                {
                    out.push_str(thai_initial(n).unwrap_or(""));
                    i += 1;
                }
                let rest: String = chars[i + 1..].iter().filter(|c| !matches!(c, '่' | '้' | '๊' | '๋')).take(2).collect();
                let (v, skip) = match (l, rest.as_str()) {
                    ('เ', r) if r.starts_with("ือ") => ("uea", 2),
                    ('เ', r) if r.starts_with("ีย") => ("ia", 2),
                    ('เ', r) if r.starts_with('า') => ("ao", 1),
                    ('เ', r) if r.starts_with('ะ') => ("e", 1),
                    ('เ', r) if r.starts_with('อ') => ("oe", 1),
                    ('แ', r) if r.starts_with('ะ') => ("ae", 1),
                    ('โ', r) if r.starts_with('ะ') => ("o", 1),
                    ('เ', _) => ("e", 0),
                    ('แ', _) => ("ae", 0),
                    ('โ', _) => ("o", 0),
                    _ => ("ai", 0),
                };
                out.push_str(v);
                // skip the vowel parts consumed (tone marks in between are dropped anyway)
                let mut skipped = 0;
                let mut j = i + 1;
                while skipped < skip && j < chars.len() {
                    if !matches!(chars[j], '่' | '้' | '๊' | '๋') {
                        skipped += 1;
                    }
                    j += 1;
                }
                i = j;
                has_initial = true;
                has_vowel = true;
                continue;
            }
            if !has_initial {
                out.push_str(init);
                has_initial = true;
                initial_char = Some(c);
            } else if !has_vowel {
                let next_vowel = next_is_vowel(i + 1);
                let cluster = matches!(c, 'ร' | 'ล' | 'ว')
                    && initial_char
                        .is_some_and(|p| matches!(p, 'ก' | 'ข' | 'ค' | 'ต' | 'ป' | 'ผ' | 'พ' | 'บ' | 'ฟ' | 'ด' | 'ท'));
                let c3_closes = chars.get(i + 1).is_some_and(|n| thai_initial(*n).is_some() && *n != 'อ')
                    && !next_is_vowel(i + 2)
                    && !matches!(chars.get(i + 2), Some('เ' | 'แ' | 'โ' | 'ใ' | 'ไ' | 'ั' | 'ะ' | 'อ' | 'ว'));
                if c == 'อ' {
                    // อ after a consonant is the vowel o (ขอ kho)
                    out.push('o');
                    has_vowel = true;
                } else if c == 'ว' && !next_vowel && i + 1 < chars.len() {
                    // ว between consonants is the vowel ua (สวน suan)
                    out.push_str("ua");
                    has_vowel = true;
                } else if next_vowel && cluster {
                    // a true cluster: กร, พล, คว
                    out.push_str(init);
                    initial_char = Some(c);
                } else if next_vowel {
                    // the first consonant is a syllable of its own, with a short a (ปทุม pa-thum)
                    out.push('a');
                    out.push_str(init);
                    initial_char = Some(c);
                } else if c3_closes {
                    // C1 C2 C3 without vowels: C1-a C2-o-C3 (ถนน tha-non)
                    out.push('a');
                    out.push_str(init);
                    out.push('o');
                    out.push_str(thai_final(chars[i + 1]));
                    has_initial = false;
                    i += 2;
                    continue;
                } else {
                    // C1 C2: C1-o-C2 (คน khon)
                    out.push('o');
                    out.push_str(thai_final(c));
                    has_initial = false;
                }
            } else if next_is_vowel(i + 1) {
                out.push_str(init);
                initial_char = Some(c);
                has_vowel = false;
            } else {
                out.push_str(thai_final(c));
                has_initial = false;
                has_vowel = false;
            }
            i += 1;
            continue;
        }
        if c == 'ั' && chars.get(i + 1) == Some(&'ว') {
            out.push_str("ua");
            has_vowel = true;
            i += 2;
            continue;
        }
        if let Some(v) = thai_vowel(c) {
            out.push_str(v);
            has_vowel = true;
            if c == 'ำ' || c == 'ะ' {
                has_initial = false;
                has_vowel = false;
            }
        } else if !matches!(c, '่' | '้' | '๊' | '๋' | '็' | '์' | 'ๆ' | 'ฯ') {
            out.push(c);
        }
        i += 1;
    }
    if has_initial && !has_vowel && !out.is_empty() {
        out.push('a');
    }
    out
}
