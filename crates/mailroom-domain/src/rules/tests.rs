#![allow(clippy::unwrap_used)]

use super::*;

fn facts(notes: &str) -> Facts {
    Facts { notes: Some(notes.into()), ..Default::default() }
}

fn err(src: &str) -> RuleError {
    match RuleSet::parse(src) {
        Ok(_) => RuleError { message: "parsed".into(), line: None, column: None, rule: None },
        Err(e) => e,
    }
}

#[test]
fn default_pack_parses_and_its_fixtures_pass() {
    let pack = RuleSet::default_pack().unwrap();
    assert!(pack.rule_names().contains(&"patient-reports"));
    let results = run_fixtures(&pack, DEFAULT_FIXTURES).unwrap();
    assert!(results.len() >= 10);
    for r in &results {
        assert!(r.passed(), "{} (line {}): {:?}", r.name, r.line, r.mismatches);
    }
}

#[test]
fn a_broken_rule_fails_its_fixture() {
    let broken = DEFAULT_PACK.replace(
        "then.category = \"complaint\"\nthen.route = { department = \"CS\" }\n",
        "then.category = \"complaint\"\n",
    );
    assert_ne!(broken, DEFAULT_PACK);
    let pack = RuleSet::parse(&broken).unwrap();
    let results = run_fixtures(&pack, DEFAULT_FIXTURES).unwrap();
    let failed: Vec<_> = results.iter().filter(|r| !r.passed()).collect();
    assert!(!failed.is_empty());
    let m = &failed[0].mismatches[0];
    assert_eq!(m.field, "route");
    assert_eq!(m.expected, "department:CS");
}

#[test]
fn folding_ignores_case_and_width() {
    assert_eq!(fold("  ＣＯＮＴＲＡＣＴ\u{3000}Ａ1 "), "contract a1");
    assert_eq!(fold("合同"), "合同");
    let src = "[[rule]]\nname = \"c\"\nwhen.keywords = [\"Contract\"]\nthen.category = \"contract\"\n";
    let rs = RuleSet::parse(src).unwrap();
    let d = rs.evaluate(&facts("ｃｏｎｔｒａｃｔ no. 5"));
    assert_eq!(d.category, Some(Category::Contract));
    assert_eq!(d.fired[0].reasons, vec!["notes contains \"Contract\"".to_string()]);
}

#[test]
fn first_setter_wins_and_the_caller_beats_rules() {
    let src = r#"
[[rule]]
name = "a"
when.keywords = ["x"]
then.priority = "high"
[[rule]]
name = "b"
when.keywords = ["x"]
then.priority = "urgent"
then.category = "legal"
"#;
    let rs = RuleSet::parse(src).unwrap();
    let d = rs.evaluate(&facts("x"));
    assert_eq!(d.priority, Some(Priority::High));
    assert_eq!(d.category, Some(Category::Legal));
    assert_eq!(d.set_by.get("priority").map(String::as_str), Some("a"));
    assert!(d.fired[1].skipped[0].contains("rule \"a\" set it first"), "{:?}", d.fired[1]);
    let d = rs.evaluate(&Facts { priority: Some(Priority::Normal), ..facts("x") });
    assert_eq!(d.priority, Some(Priority::Normal));
    assert_eq!(d.set_by.get("priority").map(String::as_str), Some(CALLER));
    assert!(d.fired[0].skipped[0].contains("explicitly at intake"));
}

#[test]
fn stop_ends_evaluation() {
    let src = r#"
[[rule]]
name = "a"
when.keywords = ["x"]
then.priority = "high"
stop = true
[[rule]]
name = "b"
when.always = true
then.category = "legal"
"#;
    let rs = RuleSet::parse(src).unwrap();
    let d = rs.evaluate(&facts("x"));
    assert_eq!(d.fired.len(), 1);
    assert!(d.fired[0].stopped);
    assert_eq!(d.category, None);
    assert_eq!(rs.evaluate(&facts("y")).category, Some(Category::Legal));
}

#[test]
fn conditions_combine() {
    let src = r#"
[lists]
key = [{ org = "ACME", responsible = "E9" }]
[[rule]]
name = "r"
when.keywords = ["合同"]
when.keywords_in = ["notes"]
when.sender_org_in = ["key"]
when.kind = ["document", "letter"]
when.carrier = ["EMS"]
when.recipient_department = ["fin"]
then.route = { responsible = true }
then.due = "1d12h"
"#;
    let rs = RuleSet::parse(src).unwrap();
    let mut f = Facts {
        kind: Some(ItemKind::Letter),
        carrier: Some("ems".into()),
        sender_org: Some("Acme Trading".into()),
        notes: Some("租赁合同".into()),
        recipient_department: Some("FIN".into()),
        ..Default::default()
    };
    let d = rs.evaluate(&f);
    assert_eq!(d.route, Some(Route::Person { code: "E9".into() }));
    assert_eq!(d.due_in_minutes, Some(36 * 60));
    assert_eq!(d.fired[0].reasons.len(), 5, "{:?}", d.fired[0].reasons);
    assert!(d.fired[0].reasons[1].contains("'Acme Trading' is in key (ACME)"));
    f.kind = Some(ItemKind::Parcel);
    assert!(rs.evaluate(&f).fired.is_empty());
    f.kind = Some(ItemKind::Letter);
    f.sender_org = Some("合同 Ltd".into());
    f.notes = Some("nothing".into());
    assert!(rs.evaluate(&f).fired.is_empty(), "keywords only in notes");
}

#[test]
fn durations() {
    assert_eq!(parse_duration("30m"), Ok(30));
    assert_eq!(parse_duration("4h"), Ok(240));
    assert_eq!(parse_duration("1w"), Ok(7 * 24 * 60));
    assert!(parse_duration("4").is_err());
    assert!(parse_duration("h").is_err());
    assert!(parse_duration("0h").is_err());
    assert!(parse_duration("400d").is_err());
    assert!(parse_duration("4 hours").is_err());
    assert!(parse_duration("99999999999999999999d").is_err());
}

#[test]
fn errors_name_line_column_and_rule() {
    let e = err(
        "[[rule]]\nname = \"first\"\nwhen.keywords = [\"a\"]\nthen.priority = \"high\"\n\n[[rule]]\nname = \"second\"\nwhen.keywords = [\"b\"]\nthen.priorty = \"high\"\n",
    );
    assert_eq!(e.line, Some(9), "{e}");
    assert_eq!(e.rule.as_deref(), Some("second"));
    assert!(e.message.contains("priorty"), "{e}");

    let e = err("[[rule]]\nname = \"r\"\nwhen.keywords = [\"a\"]\nthen.priority = \"asap\"\n");
    assert_eq!((e.line, e.rule.as_deref()), (Some(4), Some("r")), "{e}");
    assert!(e.message.contains("asap") && e.message.contains("urgent"), "{e}");

    let e = err("[[rule]]\nname = \"r\"\nwhen.keywords = [\"a\"]\nthen.category = \"cheese\"\n");
    assert!(e.message.contains("cheese") && e.message.contains("invoice"), "{e}");

    let e = err("[[rule]]\nname = \"r\"\nwhen.keywords = [\"a\"]\nthen.due = \"soon\"\n");
    assert_eq!((e.line, e.rule.as_deref()), (Some(4), Some("r")), "{e}");
    assert!(e.message.contains("then.due"), "{e}");

    let e = err("[[rule]]\nname = \"empty\"\n");
    assert_eq!(e.rule.as_deref(), Some("empty"));
    assert!(e.message.contains("no conditions"), "{e}");

    let e = err("[[rule]]\nname = \"idle\"\nwhen.keywords = [\"a\"]\n");
    assert!(e.message.contains("does nothing"), "{e}");

    let e = err("[[rule]]\nname = \"l\"\nwhen.sender_org_in = [\"vips\"]\nthen.priority = \"high\"\n");
    assert_eq!((e.line, e.rule.as_deref()), (Some(3), Some("l")), "{e}");
    assert!(e.message.contains("unknown list \"vips\""), "{e}");

    let e = err("[[rule]]\nname = \"two\"\nwhen.keywords = [\"a\"]\nthen.route = { person = \"E1\", team = \"T\" }\n");
    assert!(e.message.contains("exactly one"), "{e}");

    let e = err("[[rule]]\nname = \"resp\"\nwhen.keywords = [\"a\"]\nthen.route = { responsible = true }\n");
    assert!(e.message.contains("sender_org_in"), "{e}");

    let e = err(
        "[[rule]]\nname = \"a\"\nwhen.always = true\nthen.priority = \"high\"\n[[rule]]\nname = \"a\"\nwhen.always = true\nthen.priority = \"high\"\n",
    );
    assert_eq!(e.line, Some(6), "{e}");
    assert!(e.message.contains("same name"));

    let e = err("[[rule]\nname = 1");
    assert_eq!(e.line, Some(1), "{e}");

    let e = err("[[rule]]\nname = \"k\"\nwhen.keywords = []\nthen.priority = \"high\"\n");
    assert!(e.message.contains("empty"), "{e}");

    let e = err(
        "[[rule]]\nname = \"f\"\nwhen.keywords = [\"a\"]\nwhen.keywords_in = [\"subject\"]\nthen.priority = \"high\"\n",
    );
    assert!(e.message.contains("unknown field \"subject\""), "{e}");
    assert!(e.to_string().starts_with("line 4, column"), "{e}");
}

#[test]
fn fixtures_report_mismatches_and_bad_input() {
    let rs = RuleSet::parse("[[rule]]\nname = \"r\"\nwhen.keywords = [\"a\"]\nthen.priority = \"high\"\n").unwrap();
    let out = run_fixtures(
        &rs,
        "[[case]]\nname = \"c\"\nitem = { notes = \"a\" }\nexpect = { priority = \"urgent\", route = \"none\" }\n",
    )
    .unwrap();
    assert_eq!(
        out[0].mismatches,
        vec![Mismatch { field: "priority".into(), expected: "urgent".into(), actual: "high".into() }]
    );
    assert!(run_fixtures(&rs, "[[case]]\nname = \"c\"\nitem = { subject = \"a\" }\nexpect = {}\n").is_err());
    assert!(run_fixtures(&rs, "[[case]]\nname = \"c\"\nitem = {}\nexpect = { route = \"moon\" }\n").is_err());
    assert!(run_fixtures(&rs, "").is_err());
}

#[test]
fn routes_round_trip() {
    for r in [
        Route::Person { code: "E1".into() },
        Route::Department { code: "FIN".into() },
        Route::Team { code: "RND-X".into() },
        Route::SecureRoom { code: "SR:1".into() },
        Route::Recipient,
        Route::RecipientDepartment,
    ] {
        assert_eq!(Route::parse(&r.as_text()), Some(r));
    }
    assert_eq!(Route::parse("moon:1"), None);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsing_never_panics(src in "(\\[\\[rule\\]\\]|name = \"x\"|when\\.|then\\.|keywords|= \\[|\"|\\]|\n|[a-z_ ]|合同|ＡＢ){0,40}") {
            let _ = RuleSet::parse(&src);
            let _ = run_fixtures(&RuleSet::parse("").unwrap(), &src);
        }

        #[test]
        fn errors_point_inside_the_source(src in "\\PC{0,200}") {
            if let Err(e) = RuleSet::parse(&src) {
                let lines = src.split('\n').count();
                prop_assert!(e.line.is_none_or(|l| l >= 1 && l <= lines));
            }
        }

        #[test]
        fn folding_is_idempotent(s in "\\PC{0,60}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once);
        }
    }
}

#[test]
fn a_partner_without_responsible_person_is_explained() {
    let src = "[lists]\nkey = [{ org = \"Acme\" }]\n[[rule]]\nname = \"r\"\nwhen.sender_org_in = [\"key\"]\nthen.route = { responsible = true }\nthen.priority = \"high\"\n";
    let rs = RuleSet::parse(src).unwrap();
    let d = rs.evaluate(&Facts { sender_org: Some("ACME GmbH".into()), ..Default::default() });
    assert_eq!((d.route.clone(), d.priority), (None, Some(Priority::High)));
    assert!(d.fired[0].skipped[0].contains("'Acme' names no responsible person"), "{:?}", d.fired);
    assert!(rs.evaluate(&Facts { sender_org: Some("Other".into()), ..Default::default() }).fired.is_empty());
    assert!(rs.evaluate(&Facts::default()).fired.is_empty());
}
