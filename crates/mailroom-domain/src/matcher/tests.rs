#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use proptest::prelude::*;

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

struct P {
    id: u128,
    name: &'static str,
    latin: Option<&'static str>,
    aliases: Vec<String>,
    no: Option<&'static str>,
    email: Option<&'static str>,
    dept: Option<u128>,
    active: bool,
    fwd: Option<&'static str>,
}

fn person(id: u128, name: &'static str, latin: Option<&'static str>) -> P {
    P { id, name, latin, aliases: vec![], no: None, email: None, dept: None, active: true, fwd: None }
}

fn index(people: &[P]) -> RecipientIndex {
    let mut b = IndexBuilder::new();
    b.add_department(&DepartmentRecord {
        id: uuid(900),
        kind: EntryKind::Department,
        parent_id: None,
        code: "FIN",
        name: "财务部",
        name_en: Some("Finance Department"),
    });
    b.add_department(&DepartmentRecord {
        id: uuid(901),
        kind: EntryKind::Team,
        parent_id: Some(uuid(900)),
        code: "AP",
        name: "应付账款组",
        name_en: Some("Accounts Payable"),
    });
    for p in people {
        assert!(b.add_person(&PersonRecord {
            id: uuid(p.id),
            name: p.name,
            name_latin: p.latin,
            aliases: &p.aliases,
            employee_no: p.no,
            email: p.email,
            department_id: p.dept.map(uuid),
            active: p.active,
            forwarding: p.fwd,
        }));
    }
    b.build()
}

fn directory() -> RecipientIndex {
    let mut zhang = person(1, "张伟杰", Some("Zhang Weijie"));
    zhang.no = Some("E10023");
    zhang.email = Some("weijie.zhang@example.cn");
    zhang.dept = Some(900);
    zhang.aliases = vec!["Jack".into()];
    let mut left = person(3, "李娜", Some("Li Na"));
    left.active = false;
    left.fwd = Some("转交王芳（财务部）");
    let mut smith = person(4, "John Smith", None);
    smith.email = Some("john.smith@example.com");
    index(&[
        zhang,
        person(2, "张伟", Some("Zhang Wei")),
        left,
        smith,
        person(5, "欧阳娜娜", None),
        person(6, "周文君", None),
        person(7, "李娜", None),
    ])
}

fn first(ix: &RecipientIndex, q: &str) -> (Uuid, String) {
    let hits = ix.search(q, 10);
    let h = hits.first().unwrap_or_else(|| panic!("nothing found for {q:?}"));
    (h.id, h.matched.to_string())
}

#[test]
fn finds_by_every_kind_of_key() {
    let ix = directory();
    assert_eq!(first(&ix, "张伟杰"), (uuid(1), "name:exact".into()));
    assert_eq!(first(&ix, "zhangweijie"), (uuid(1), "pinyin:exact".into()));
    assert_eq!(first(&ix, "zhang wei jie"), (uuid(1), "pinyin:exact".into()));
    assert_eq!(first(&ix, "Zhāng Wěijié"), (uuid(1), "pinyin:exact".into()));
    assert_eq!(first(&ix, "zhang1 wei3 jie2"), (uuid(1), "pinyin:exact".into()));
    assert_eq!(first(&ix, "ZWJ"), (uuid(1), "initials:exact".into()));
    assert_eq!(first(&ix, "Weijie Zhang"), (uuid(1), "pinyin:exact".into()));
    assert_eq!(first(&ix, "weijie"), (uuid(1), "pinyin:prefix".into()));
    assert_eq!(first(&ix, "e10023"), (uuid(1), "employee_no:exact".into()));
    assert_eq!(first(&ix, "ｅ１００２３"), (uuid(1), "employee_no:exact".into()));
    assert_eq!(first(&ix, "weijie.zhang@example.cn"), (uuid(1), "email:exact".into()));
    assert_eq!(first(&ix, "jack"), (uuid(1), "alias:exact".into()));
    assert_eq!(first(&ix, "Smith John"), (uuid(4), "name:exact".into()));
    assert_eq!(first(&ix, "smith"), (uuid(4), "name:prefix".into()));
    assert_eq!(first(&ix, "nanaouyang"), (uuid(5), "pinyin:exact".into()));
    assert_eq!(first(&ix, "娜娜"), (uuid(5), "name:prefix".into()));
    assert_eq!(first(&ix, "财务部"), (uuid(900), "name:exact".into()));
    assert_eq!(first(&ix, "caiwubu"), (uuid(900), "pinyin:exact".into()));
    assert_eq!(first(&ix, "finance"), (uuid(900), "name_en:prefix".into()));
    assert_eq!(first(&ix, "department"), (uuid(900), "name_en:exact".into()));
    assert_eq!(first(&ix, "fin"), (uuid(900), "code:exact".into()));
    assert_eq!(first(&ix, "accounts payable"), (uuid(901), "name_en:exact".into()));
}

#[test]
fn typos_are_forgiven() {
    let ix = directory();
    assert_eq!(first(&ix, "zhangweijei"), (uuid(1), "pinyin:fuzzy".into()));
    assert_eq!(first(&ix, "Zhnag Weijie"), (uuid(1), "pinyin:fuzzy".into()));
    assert_eq!(first(&ix, "jhon smith"), (uuid(4), "name:fuzzy".into()));
    assert_eq!(first(&ix, "Finance Departmnet"), (uuid(900), "name_en:fuzzy".into()));
    // A homophone typed in characters still finds the person through the pinyin.
    assert_eq!(first(&ix, "张伟洁"), (uuid(1), "pinyin:exact".into()));
    assert!(ix.search("qqqqqqqq", 10).is_empty());
}

#[test]
fn ranks_exact_before_prefix_and_active_before_left() {
    let ix = directory();
    let hits = ix.search("zhangwei", 10);
    assert_eq!(hits[0].id, uuid(2), "exact 张伟 before prefix 张伟杰");
    assert_eq!(hits[1].id, uuid(1));
    assert!(hits[0].score > hits[1].score);
    let hits = ix.search("李娜", 10);
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].id, uuid(7), "the active 李娜 first");
    assert_eq!(hits[1].id, uuid(3));
    assert!(!hits[1].active);
    assert_eq!(hits[1].forwarding, Some("转交王芳（财务部）"));
}

#[test]
fn results_carry_department_and_names() {
    let ix = directory();
    let hits = ix.search("zwj", 1);
    let h = &hits[0];
    assert_eq!(h.kind, EntryKind::Person);
    assert_eq!(h.name, "张伟杰");
    assert_eq!(h.name_latin, Some("Zhang Weijie"));
    assert_eq!(h.department_id, Some(uuid(900)));
    assert_eq!(h.department_name, Some("财务部"));
    assert!(h.forwarding.is_none());
    let team = &ix.search("AP", 1)[0];
    assert_eq!(team.kind, EntryKind::Team);
    assert_eq!(team.department_name, Some("财务部"));
    assert_eq!(team.name_latin, Some("Accounts Payable"));
    assert_eq!(ix.people(), 7);
    assert_eq!(ix.departments(), 2);
    assert!(ix.heap_bytes() > 0);
}

#[test]
fn search_where_leaves_out_entries() {
    let ix = directory();
    let hits = ix.search_where("zhangwei", 10, |id| *id != uuid(2));
    assert_eq!(hits[0].id, uuid(1));
    assert!(hits.iter().all(|h| h.id != uuid(2)));
    assert!(ix.search_where("zhangwei", 10, |_| false).is_empty());
}

#[test]
fn limits_and_empty_queries() {
    let ix = directory();
    assert!(ix.search("", 10).is_empty());
    assert!(ix.search("  -- ", 10).is_empty());
    assert_eq!(ix.search("z", 2).len(), 2);
    let long = "z".repeat(5000);
    assert!(ix.search(&long, 10).is_empty());
    assert!(RecipientIndex::default().search("zhang", 10).is_empty());
}

const SURNAMES: &[&str] = &["张", "王", "李", "赵", "刘", "陈", "曾", "欧阳"];
const GIVEN: &[&str] = &["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "杰", "文"];

fn han_name() -> impl Strategy<Value = String> {
    (prop::sample::select(SURNAMES), prop::collection::vec(prop::sample::select(GIVEN), 1..=2))
        .prop_map(|(s, g)| format!("{s}{}", g.concat()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Everyone is found by their exact name, pinyin, employee number and e-mail, with a
    /// score no other entry beats.
    #[test]
    fn every_person_is_found_by_exact_keys(names in prop::collection::vec(han_name(), 1..40)) {
        let mut b = IndexBuilder::new();
        let nos: Vec<String> = (0..names.len()).map(|i| format!("E{i:05}")).collect();
        let emails: Vec<String> = (0..names.len()).map(|i| format!("p{i}@example.cn")).collect();
        for (i, n) in names.iter().enumerate() {
            b.add_person(&PersonRecord {
                id: uuid(i as u128 + 1),
                name: n,
                name_latin: None,
                aliases: &[],
                employee_no: Some(&nos[i]),
                email: Some(&emails[i]),
                department_id: None,
                active: true,
                forwarding: None,
            });
        }
        let ix = b.build();
        for (i, n) in names.iter().enumerate() {
            let id = uuid(i as u128 + 1);
            for q in [n.clone(), keys::han_name_keys(n).map(|k| k.pinyin).unwrap_or_default(), nos[i].clone(), emails[i].clone()] {
                let hits = ix.search(&q, 100);
                let top = hits.first().map(|h| h.score).unwrap_or(0);
                let me = hits.iter().find(|h| h.id == id);
                prop_assert!(me.is_some(), "{q} did not find {n}");
                prop_assert_eq!(me.map(|h| h.score), Some(top));
                prop_assert_eq!(me.map(|h| h.matched.how), Some(How::Exact));
            }
        }
    }

    /// A single typo (substitution or swap, after the first letter) in a pinyin name of six letters
    /// or more still finds the person.
    #[test]
    fn one_typo_in_pinyin_is_found(name in han_name(), pos in 0usize..100, swap in any::<bool>()) {
        let ix = index(&[person(1, Box::leak(name.clone().into_boxed_str()), None)]);
        let pinyin = keys::han_name_keys(&name).map(|k| k.pinyin).unwrap_or_default();
        prop_assume!(pinyin.len() >= 6);
        let mut b = pinyin.clone().into_bytes();
        let i = 1 + pos % (b.len() - 2);
        if swap { b.swap(i, i + 1) } else { b[i] = if b[i] == b'x' { b'q' } else { b'x' } }
        let typo = String::from_utf8(b).unwrap_or_default();
        let hits = ix.search(&typo, 5);
        prop_assert!(hits.iter().any(|h| h.id == uuid(1)), "{typo} did not find {name} ({pinyin})");
    }

    /// Any text is a valid query.
    #[test]
    fn any_query_is_answered(q in "\\PC{0,40}") {
        let ix = directory();
        let hits = ix.search(&q, 5);
        prop_assert!(hits.len() <= 5);
    }
}
