//! Recipient matching: finds people, departments and teams from what a clerk types or what
//! was read off a label — Chinese characters, full pinyin with or without tones and spaces,
//! pinyin initials, Latin names in either order, typos, aliases, employee numbers, e-mail
//! addresses and department names in both languages. Pure and in memory; see docs/MATCHING.md.
//!
//! The index has three parts:
//! - a sorted table of distinct folded keys, each with its postings (entry and field): exact
//!   matches by binary search, prefix matches as the range of keys that start with the query;
//! - for typos, a trigram index over the Latin-script name keys, numbered by first letter and
//!   length so a query only looks at keys that start alike and are of similar length; candidates sharing enough trigrams are checked with a
//!   bounded Damerau–Levenshtein distance;
//! - the entries themselves (what a result shows), with their texts in one arena.

mod distance;
pub mod keys;

use keys::{fold, fold_words, han_name_keys, has_han, strip_tone_digits, text_pinyin, to_pinyin};
use std::cell::RefCell;
use std::collections::HashMap;
use uuid::Uuid;

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Person,
    Department,
    Team,
}

/// Which key of an entry matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The name in its own script (either order for Chinese names).
    Name,
    /// Full pinyin of a Chinese name (either order).
    Pinyin,
    /// Pinyin initials (`zwj`).
    Initials,
    /// The Latin rendering of a person's name, either order.
    Latin,
    Alias,
    EmployeeNo,
    Email,
    /// A department's code.
    Code,
    /// A department's English name (or any word of it onwards).
    NameEn,
}

const FIELDS: [Field; 9] = [
    Field::Name,
    Field::Pinyin,
    Field::Initials,
    Field::Latin,
    Field::Alias,
    Field::EmployeeNo,
    Field::Email,
    Field::Code,
    Field::NameEn,
];

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Pinyin => "pinyin",
            Field::Initials => "initials",
            Field::Latin => "latin",
            Field::Alias => "alias",
            Field::EmployeeNo => "employee_no",
            Field::Email => "email",
            Field::Code => "code",
            Field::NameEn => "name_en",
        }
    }

    /// Small preference between fields of the same match quality.
    fn weight(self) -> u32 {
        match self {
            Field::Name | Field::EmployeeNo => 30,
            Field::Pinyin | Field::Latin | Field::Code | Field::NameEn => 25,
            Field::Email => 20,
            Field::Alias => 15,
            Field::Initials => 5,
        }
    }

    /// Keys of these fields take part in typo matching.
    fn fuzzy(self) -> bool {
        matches!(self, Field::Name | Field::Pinyin | Field::Latin | Field::Alias | Field::NameEn)
    }
}

/// How a key matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum How {
    Exact,
    Prefix,
    /// Within a small edit distance (typing errors).
    Fuzzy,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Exact => "exact",
            How::Prefix => "prefix",
            How::Fuzzy => "fuzzy",
        }
    }
}

/// Why an entry was found: `pinyin:exact`, `email:prefix`, `latin:fuzzy`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matched {
    pub field: Field,
    pub how: How,
}

impl std::fmt::Display for Matched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.field.as_str(), self.how.as_str())
    }
}

/// A person to index.
#[derive(Debug, Clone, Copy)]
pub struct PersonRecord<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub name_latin: Option<&'a str>,
    pub aliases: &'a [String],
    pub employee_no: Option<&'a str>,
    pub email: Option<&'a str>,
    pub department_id: Option<Uuid>,
    pub active: bool,
    pub forwarding: Option<&'a str>,
}

/// A department or team to index.
#[derive(Debug, Clone, Copy)]
pub struct DepartmentRecord<'a> {
    pub id: Uuid,
    /// [`EntryKind::Department`] or [`EntryKind::Team`].
    pub kind: EntryKind,
    /// The department a team belongs to.
    pub parent_id: Option<Uuid>,
    pub code: &'a str,
    pub name: &'a str,
    pub name_en: Option<&'a str>,
}

/// One result, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match<'a> {
    pub kind: EntryKind,
    pub id: Uuid,
    pub name: &'a str,
    /// A person's Latin name; a department's English name.
    pub name_latin: Option<&'a str>,
    /// A person's department; a team's department.
    pub department_id: Option<Uuid>,
    pub department_name: Option<&'a str>,
    pub active: bool,
    /// Where mail for someone who left goes.
    pub forwarding: Option<&'a str>,
    pub score: u32,
    pub matched: Matched,
}

/// Most entries one index holds (postings keep whether the entry is active and the field in the
/// low 5 bits).
pub const MAX_ENTRIES: usize = 1 << 27;
const NO_PARENT: u32 = u32::MAX;
/// Posting bit: the entry is active.
const ACTIVE: u32 = 1 << 4;
/// Postings of one exact key looked at.
const EXACT_CAP: usize = 2_000;
/// Keys of a prefix range looked at.
const PREFIX_KEYS: usize = 200;
/// Postings looked at per query variant and kind of match.
const POST_CAP: usize = 4_000;
/// Typo candidates checked with the edit distance.
const FUZZY_VERIFY: usize = 1_000;
/// Longest query that is matched; longer text is cut.
pub const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Clone)]
struct Entry {
    id: Uuid,
    parent: u32,
    text: u32,
    name_len: u16,
    latin_len: u16,
    forwarding_len: u16,
    kind: EntryKind,
    active: bool,
}

/// Collects entries, then [`IndexBuilder::build`]s the index.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    entries: Vec<Entry>,
    parents: Vec<Option<Uuid>>,
    texts: String,
    interner: HashMap<Box<str>, u32>,
    fuzzy: Vec<bool>,
    postings: Vec<(u32, u32)>,
    scratch: Vec<(String, Field)>,
}

/// Appends `s` to the arena, cut to 65,535 bytes at a character boundary; returns its length.
fn push_text(arena: &mut String, s: &str) -> u16 {
    let mut end = s.len().min(u16::MAX as usize);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    arena.push_str(&s[..end]);
    end as u16
}

/// Keys of a multi-word name in either order: all words, the last word first, the first last.
fn word_orders(words: &[String], field: Field, out: &mut Vec<(String, Field)>) {
    match words {
        [] => {}
        [one] => out.push((one.clone(), field)),
        [first, rest @ ..] => {
            out.push((words.concat(), field));
            if let Some((last, init)) = words.split_last() {
                out.push((format!("{last}{}", init.concat()), field));
            }
            out.push((format!("{}{first}", rest.concat()), field));
        }
    }
}

/// Keys of a name in any script: Chinese names give both orders in characters and pinyin and
/// the initials; other names give their words in either order.
fn name_keys(raw: &str, field: Field, pinyin_field: Field, out: &mut Vec<(String, Field)>) {
    let folded = fold(raw);
    if folded.is_empty() {
        return;
    }
    out.push((folded.clone(), field));
    if let Some(h) = han_name_keys(&folded) {
        out.push((h.given_first, field));
        out.push((h.pinyin, pinyin_field));
        out.push((h.pinyin_given_first, pinyin_field));
        out.push((h.initials, if field == Field::Name { Field::Initials } else { field }));
    } else if has_han(&folded) {
        out.push((to_pinyin(&folded), pinyin_field));
    } else {
        word_orders(&fold_words(raw), field, out);
    }
}

impl IndexBuilder {
    pub fn new() -> IndexBuilder {
        IndexBuilder::default()
    }

    /// Adds a person. Returns false (and adds nothing) once the index holds [`MAX_ENTRIES`].
    pub fn add_person(&mut self, p: &PersonRecord<'_>) -> bool {
        let mut keys = std::mem::take(&mut self.scratch);
        keys.clear();
        name_keys(p.name, Field::Name, Field::Pinyin, &mut keys);
        if let Some(latin) = p.name_latin {
            word_orders(&fold_words(latin), Field::Latin, &mut keys);
        }
        for a in p.aliases {
            name_keys(a, Field::Alias, Field::Alias, &mut keys);
        }
        if let Some(no) = p.employee_no {
            keys.push((fold(no), Field::EmployeeNo));
        }
        if let Some(email) = p.email {
            // The local part is a prefix of this key: no key of its own.
            keys.push((fold(email), Field::Email));
        }
        let entry = |texts: &mut String| {
            let text = texts.len() as u32;
            let name_len = push_text(texts, p.name);
            let latin_len = push_text(texts, p.name_latin.unwrap_or(""));
            let forwarding_len = push_text(texts, p.forwarding.unwrap_or(""));
            Entry {
                id: p.id,
                parent: NO_PARENT,
                text,
                name_len,
                latin_len,
                forwarding_len,
                kind: EntryKind::Person,
                active: p.active,
            }
        };
        let added = self.add(entry, p.department_id, &mut keys);
        self.scratch = keys;
        added
    }

    /// Adds a department or team. Returns false once the index holds [`MAX_ENTRIES`].
    pub fn add_department(&mut self, d: &DepartmentRecord<'_>) -> bool {
        let mut keys = std::mem::take(&mut self.scratch);
        keys.clear();
        let folded = fold(d.name);
        if !folded.is_empty() {
            keys.push((folded.clone(), Field::Name));
            if has_han(&folded) {
                let (full, initials) = text_pinyin(&folded);
                keys.push((full, Field::Pinyin));
                keys.push((initials, Field::Initials));
            } else {
                let words = fold_words(d.name);
                for i in 1..words.len() {
                    keys.push((words[i..].concat(), Field::Name));
                }
            }
        }
        if let Some(en) = d.name_en {
            let words = fold_words(en);
            for i in 0..words.len() {
                keys.push((words[i..].concat(), Field::NameEn));
            }
            if words.len() > 1 {
                keys.push((words.iter().filter_map(|w| w.chars().next()).collect(), Field::NameEn));
            }
        }
        keys.push((fold(d.code), Field::Code));
        let kind = if d.kind == EntryKind::Team { EntryKind::Team } else { EntryKind::Department };
        let entry = |texts: &mut String| {
            let text = texts.len() as u32;
            let name_len = push_text(texts, d.name);
            let latin_len = push_text(texts, d.name_en.unwrap_or(""));
            Entry { id: d.id, parent: NO_PARENT, text, name_len, latin_len, forwarding_len: 0, kind, active: true }
        };
        let added = self.add(entry, d.parent_id, &mut keys);
        self.scratch = keys;
        added
    }

    fn add(
        &mut self,
        entry: impl FnOnce(&mut String) -> Entry,
        parent: Option<Uuid>,
        keys: &mut [(String, Field)],
    ) -> bool {
        let idx = self.entries.len();
        if idx >= MAX_ENTRIES || self.texts.len() > (u32::MAX as usize) - 3 * (u16::MAX as usize) {
            return false;
        }
        self.entries.push(entry(&mut self.texts));
        self.parents.push(parent);
        keys.sort_unstable();
        let mut last: Option<(&str, Field)> = None;
        for (key, field) in keys.iter() {
            if key.is_empty() || last == Some((key.as_str(), *field)) {
                continue;
            }
            last = Some((key.as_str(), *field));
            let id = match self.interner.get(key.as_str()) {
                Some(id) => *id,
                None => {
                    let id = self.fuzzy.len() as u32;
                    self.interner.insert(key.as_str().into(), id);
                    self.fuzzy.push(false);
                    id
                }
            };
            if field.fuzzy() && key.is_ascii() && (4..=distance::MAX_LEN).contains(&key.len()) {
                self.fuzzy[id as usize] = true;
            }
            let active = if self.entries.last().is_some_and(|e| e.active) { ACTIVE } else { 0 };
            self.postings.push((id, ((idx as u32) << 5) | active | *field as u32));
        }
        true
    }

    /// Builds the index (sorting and packing everything collected).
    pub fn build(self) -> RecipientIndex {
        let IndexBuilder { mut entries, parents, texts, interner, fuzzy, mut postings, .. } = self;
        let mut by_id: HashMap<Uuid, u32> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if e.kind != EntryKind::Person {
                by_id.insert(e.id, i as u32);
            }
        }
        for (e, parent) in entries.iter_mut().zip(&parents) {
            e.parent = parent.and_then(|p| by_id.get(&p).copied()).unwrap_or(NO_PARENT);
        }
        drop(by_id);

        // Keys in sorted order, in one arena.
        let mut keys: Vec<(Box<str>, u32)> = interner.into_iter().collect();
        keys.sort_unstable();
        let mut remap = vec![0u32; keys.len()];
        let mut key_arena = String::with_capacity(keys.iter().map(|(k, _)| k.len()).sum());
        let mut key_off = Vec::with_capacity(keys.len() + 1);
        let mut key_fuzzy = Vec::with_capacity(keys.len());
        for (new, (k, old)) in keys.iter().enumerate() {
            remap[*old as usize] = new as u32;
            key_off.push(key_arena.len() as u32);
            key_arena.push_str(k);
            key_fuzzy.push(fuzzy[*old as usize]);
        }
        key_off.push(key_arena.len() as u32);
        drop(keys);
        drop(fuzzy);

        // Postings grouped by key.
        for p in postings.iter_mut() {
            p.0 = remap[p.0 as usize];
        }
        drop(remap);
        postings.sort_unstable();
        postings.dedup();
        let nkeys = key_off.len() - 1;
        let mut post_off = vec![0u32; nkeys + 1];
        for (k, _) in &postings {
            post_off[*k as usize + 1] += 1;
        }
        for i in 0..nkeys {
            post_off[i + 1] += post_off[i];
        }
        let post: Vec<u32> = postings.into_iter().map(|(_, p)| p).collect();

        // Typo index: eligible keys ordered by first letter and length, trigram lists of their
        // positions in that order.
        let key_at = |k: u32| &key_arena[key_off[k as usize] as usize..key_off[k as usize + 1] as usize];
        let mut fz: Vec<u32> = (0..nkeys as u32).filter(|k| key_fuzzy[*k as usize]).collect();
        fz.sort_by_key(|k| first_and_len(key_at(*k)));
        let mut gram_off = vec![0u32; GRAMS + 1];
        let mut grams = Vec::new();
        for k in &fz {
            trigrams(key_at(*k).as_bytes(), &mut grams);
            for g in &grams {
                gram_off[*g as usize + 1] += 1;
            }
        }
        for i in 0..GRAMS {
            gram_off[i + 1] += gram_off[i];
        }
        let mut fill = gram_off.clone();
        let mut gram_post = vec![0u32; gram_off[GRAMS] as usize];
        for (f, k) in fz.iter().enumerate() {
            trigrams(key_at(*k).as_bytes(), &mut grams);
            for g in &grams {
                let slot = &mut fill[*g as usize];
                gram_post[*slot as usize] = f as u32;
                *slot += 1;
            }
        }

        let mut people = 0;
        for e in &entries {
            if e.kind == EntryKind::Person {
                people += 1;
            }
        }
        entries.shrink_to_fit();
        let mut texts = texts;
        texts.shrink_to_fit();
        RecipientIndex {
            departments: entries.len() - people,
            people,
            entries,
            texts,
            key_arena,
            key_off,
            post_off,
            post,
            fz,
            gram_off,
            gram_post,
        }
    }
}

/// The order of the typo index.
fn first_and_len(key: &str) -> (u8, usize) {
    (key.as_bytes().first().copied().unwrap_or(0), key.len())
}

/// Trigram alphabet: start and end markers, a-z, 0-9, '@'.
const ALPHABET: usize = 39;
const GRAMS: usize = ALPHABET * ALPHABET * ALPHABET;

fn sym(b: u8) -> u32 {
    match b {
        b'a'..=b'z' => u32::from(b - b'a') + 2,
        b'0'..=b'9' => u32::from(b - b'0') + 28,
        _ => 38,
    }
}

/// The distinct trigrams of a folded ASCII key, padded with a start and an end marker.
fn trigrams(key: &[u8], out: &mut Vec<u32>) {
    out.clear();
    let n = key.len();
    let at = |i: usize| -> u32 {
        if i == 0 {
            0
        } else if i > n {
            1
        } else {
            sym(key[i - 1])
        }
    };
    for i in 0..n {
        let g = (at(i) * ALPHABET as u32 + at(i + 1)) * ALPHABET as u32 + at(i + 2);
        out.push(g);
    }
    out.sort_unstable();
    out.dedup();
}

thread_local! {
    /// Per-thread trigram counters for typo matching, zero between queries.
    static COUNTS: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The recipient index of one organisation.
#[derive(Debug, Default)]
pub struct RecipientIndex {
    entries: Vec<Entry>,
    texts: String,
    people: usize,
    departments: usize,
    /// Distinct folded keys, sorted, in one arena.
    key_arena: String,
    key_off: Vec<u32>,
    /// Postings of each key: entry << 5 | active << 4 | field.
    post_off: Vec<u32>,
    post: Vec<u32>,
    /// Typo-eligible keys by first letter and length.
    fz: Vec<u32>,
    /// Trigram → positions in `fz`, ascending.
    gram_off: Vec<u32>,
    gram_post: Vec<u32>,
}

#[derive(Debug, Clone, Copy)]
struct Cand {
    entry: u32,
    score: u32,
    field: Field,
    how: How,
}

impl RecipientIndex {
    /// People indexed.
    pub fn people(&self) -> usize {
        self.people
    }

    /// Departments and teams indexed.
    pub fn departments(&self) -> usize {
        self.departments
    }

    /// Distinct search keys.
    pub fn keys(&self) -> usize {
        self.key_off.len().saturating_sub(1)
    }

    /// Bytes the index holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.texts.capacity()
            + self.key_arena.capacity()
            + 4 * (self.key_off.capacity()
                + self.post_off.capacity()
                + self.post.capacity()
                + self.fz.capacity()
                + self.gram_off.capacity()
                + self.gram_post.capacity())
    }

    fn key(&self, k: usize) -> &str {
        self.key_arena.get(self.key_off[k] as usize..self.key_off[k + 1] as usize).unwrap_or("")
    }

    fn postings(&self, k: usize) -> &[u32] {
        &self.post[self.post_off[k] as usize..self.post_off[k + 1] as usize]
    }

    fn text(&self, e: &Entry, from: usize, len: u16) -> &str {
        let start = e.text as usize + from;
        self.texts.get(start..start + len as usize).unwrap_or("")
    }

    fn score(how: How, field: Field, distance: usize, via_pinyin: bool, active: bool) -> u32 {
        let base = match how {
            How::Exact => 1000,
            How::Prefix => 600 - 2 * distance.min(50) as u32,
            How::Fuzzy => 300 - 60 * distance.min(4) as u32,
        };
        base + field.weight() + if active { 5 } else { 0 } - if via_pinyin { 100 } else { 0 }
    }

    fn push_postings(&self, k: usize, how: How, distance: usize, via: bool, budget: &mut usize, out: &mut Vec<Cand>) {
        let list = self.postings(k);
        let take = list.len().min(*budget).min(EXACT_CAP);
        *budget -= take;
        for p in &list[..take] {
            let entry = p >> 5;
            let field = FIELDS.get((p & 15) as usize).copied().unwrap_or(Field::Name);
            let score = Self::score(how, field, distance, via, p & ACTIVE != 0);
            out.push(Cand { entry, score, field, how });
        }
    }

    /// Exact and prefix matches of one query variant.
    fn exact_and_prefix(&self, q: &str, via: bool, out: &mut Vec<Cand>) {
        let n = self.keys();
        let mut k = {
            let (mut lo, mut hi) = (0, n);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if self.key(mid) < q {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo
        };
        let mut budget = POST_CAP;
        if k < n && self.key(k) == q {
            self.push_postings(k, How::Exact, 0, via, &mut budget, out);
            k += 1;
        }
        let mut seen = 0;
        while k < n && seen < PREFIX_KEYS && budget > 0 {
            let key = self.key(k);
            if !key.starts_with(q) {
                break;
            }
            self.push_postings(k, How::Prefix, key.len() - q.len(), via, &mut budget, out);
            seen += 1;
            k += 1;
        }
    }

    /// Keys within a small edit distance of an ASCII query variant.
    fn fuzzy(&self, q: &str, via: bool, out: &mut Vec<Cand>) {
        let qb = q.as_bytes();
        let len = qb.len();
        if !q.is_ascii() || !(4..=distance::MAX_LEN).contains(&len) || self.fz.is_empty() {
            return;
        }
        let k = if len <= 7 { 1 } else { 2 };
        let mut grams = Vec::with_capacity(len);
        trigrams(qb, &mut grams);
        let need = grams.len().saturating_sub(4 * k).max(2) as u8;
        // Only keys with the same first letter and a length within `k`: one range of `fz`.
        let first = qb[0];
        let lo = self.fz.partition_point(|f| first_and_len(self.key(*f as usize)) < (first, len - k)) as u32;
        let hi = self.fz.partition_point(|f| first_and_len(self.key(*f as usize)) < (first, len + k + 1)) as u32;
        // Each trigram's keys in that range. A key within `k` edits shares at least `need` of
        // the query's trigrams, so it is in at least `need - s` of the lists left after dropping
        // the `s` longest ones (at the start of a name, nearly every key of the range shares
        // the first trigram): count only the shorter lists.
        let mut lists: Vec<&[u32]> = grams
            .iter()
            .map(|g| {
                let list =
                    &self.gram_post[self.gram_off[*g as usize] as usize..self.gram_off[*g as usize + 1] as usize];
                let from = list.partition_point(|f| *f < lo);
                let to = list.partition_point(|f| *f < hi);
                &list[from..to]
            })
            .collect();
        lists.sort_unstable_by_key(|l| l.len());
        let skip = usize::from(need - 1).min(lists.len().saturating_sub(1));
        lists.truncate(lists.len() - skip);
        let need = need - skip as u8;
        let mut cands: Vec<(u8, u32)> = COUNTS.with(|cell| {
            let Ok(mut counts) = cell.try_borrow_mut() else { return Vec::new() };
            if counts.len() < self.fz.len() {
                counts.resize(self.fz.len(), 0);
            }
            let mut touched = Vec::new();
            for list in &lists {
                for f in *list {
                    let c = &mut counts[*f as usize];
                    if *c == 0 {
                        touched.push(*f);
                    }
                    *c += 1;
                }
            }
            let mut cands = Vec::new();
            for f in touched {
                let c = std::mem::take(&mut counts[f as usize]);
                if c >= need {
                    cands.push((c, f));
                }
            }
            cands
        });
        if cands.len() > FUZZY_VERIFY {
            cands.select_nth_unstable_by(FUZZY_VERIFY, |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            cands.truncate(FUZZY_VERIFY);
        }
        let mut budget = POST_CAP;
        for (_, f) in cands {
            let key_id = self.fz[f as usize] as usize;
            if let Some(d) = distance::within(qb, self.key(key_id).as_bytes(), k)
                && d > 0
            {
                self.push_postings(key_id, How::Fuzzy, d, via, &mut budget, out);
            }
            if budget == 0 {
                break;
            }
        }
    }

    /// Keeps each entry's best candidate, best first.
    fn best(cands: &mut Vec<Cand>) {
        cands.sort_unstable_by(|a, b| {
            a.entry.cmp(&b.entry).then(b.score.cmp(&a.score)).then(a.how.cmp(&b.how)).then(a.field.cmp(&b.field))
        });
        cands.dedup_by_key(|c| c.entry);
        cands.sort_unstable_by(|a, b| b.score.cmp(&a.score).then(a.entry.cmp(&b.entry)));
    }

    /// Finds up to `limit` entries for `query`, best first: exact matches before prefix
    /// matches before typo matches; among equals, active people first. Typos are looked for only
    /// when nothing matched exactly and fewer than `limit` entries matched by prefix; the first
    /// letter must be right.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Match<'_>> {
        self.search_where(query, limit, |_| true)
    }

    /// [`RecipientIndex::search`] among the entries whose id `keep` accepts.
    pub fn search_where(&self, query: &str, limit: usize, keep: impl Fn(&Uuid) -> bool) -> Vec<Match<'_>> {
        let limit = limit.max(1);
        let cut: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let q = fold(&cut);
        if q.is_empty() {
            return Vec::new();
        }
        let mut variants: Vec<(String, bool)> = Vec::with_capacity(3);
        if has_han(&q) {
            let p = to_pinyin(&q);
            variants.push((q, false));
            variants.push((p, true));
        } else {
            if let Some(t) = strip_tone_digits(&q) {
                variants.push((t, false));
            }
            variants.push((q, false));
        }
        let mut cands = Vec::new();
        for (v, via) in &variants {
            self.exact_and_prefix(v, *via, &mut cands);
        }
        let kept = |c: &Cand| self.entries.get(c.entry as usize).is_some_and(|e| keep(&e.id));
        Self::best(&mut cands);
        cands.retain(kept);
        if cands.len() < limit && cands.first().is_none_or(|c| c.how != How::Exact) {
            for (v, via) in &variants {
                self.fuzzy(v, *via, &mut cands);
            }
            Self::best(&mut cands);
            cands.retain(kept);
        }
        cands.truncate(limit);
        cands.iter().filter_map(|c| self.view(c)).collect()
    }

    fn view(&self, c: &Cand) -> Option<Match<'_>> {
        let e = self.entries.get(c.entry as usize)?;
        let parent = self.entries.get(e.parent as usize);
        let non_empty = |s: &'_ str| -> Option<()> { (!s.is_empty()).then_some(()) };
        let name = self.text(e, 0, e.name_len);
        let latin = self.text(e, e.name_len as usize, e.latin_len);
        let forwarding = self.text(e, e.name_len as usize + e.latin_len as usize, e.forwarding_len);
        Some(Match {
            kind: e.kind,
            id: e.id,
            name,
            name_latin: non_empty(latin).map(|_| latin),
            department_id: parent.map(|p| p.id),
            department_name: parent.map(|p| self.text(p, 0, p.name_len)),
            active: e.active,
            forwarding: non_empty(forwarding).map(|_| forwarding),
            score: c.score,
            matched: Matched { field: c.field, how: c.how },
        })
    }
}

#[cfg(test)]
mod tests;
