//! Classification and routing rules through the real server, on both backends: the default pack
//! routes every case of the corporate and hospital packs at intake, the explanation endpoint,
//! versioned saves with line-and-column errors, dry runs, the console page, and the CLI.

use crate::both_backends;
use crate::support::{Backend, Client, TestServer, cli};
use mailroom_domain::rules::DEFAULT_PACK;
use serde_json::{Value, json};

/// Registers an item for `recipient` (`{"person_id": …}` or `{"department_id": …}`).
async fn register(c: &Client, recipient: Value, extra: Value) -> Value {
    let mut body = json!({"recipient": recipient});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = c.post("/api/v1/items", &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

async fn explanation(c: &Client, item: &Value) -> Value {
    let r = c.get(&format!("/api/v1/items/{}/explanation", item["id"].as_str().unwrap())).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn fired(x: &Value) -> Vec<String> {
    x["decision"]["fired"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect()
}

async fn department(admin: &Client, code: &str, name: &str, en: &str, kind: &str) -> String {
    let r = admin.post("/api/v1/departments", &json!({"code": code, "name": name, "name_en": en, "kind": kind})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

async fn default_pack_routes_at_intake(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    department(&admin, "CS", "客户服务部", "Customer Service", "department").await;
    department(&admin, "RND", "科研处", "Research Office", "team").await;
    let card = department(&admin, "CARD", "心内科", "Cardiology", "department").await;
    let doctor =
        admin.post("/api/v1/people", &json!({"name": "王医生", "employee_no": "H7", "department_id": card})).await;
    assert_eq!(doctor.status, 201, "{}", doctor.text);
    let doctor = doctor.body["id"].as_str().unwrap().to_string();
    let person = json!({"person_id": srv.fx.person.id});
    let before = chrono::Utc::now();

    // No rules saved: the default pack is in force.
    let rules = admin.get("/api/v1/rules").await;
    assert_eq!((rules.body["default_pack"].as_bool(), rules.body["version"].is_null()), (Some(true), true));
    assert_eq!(rules.body["source"], DEFAULT_PACK);

    // Invoices: Finance lane, confidential, so the seal number is asked for.
    let no_seal = clerk.post("/api/v1/items", &json!({"recipient": person, "notes": "增值税发票 No. 77"})).await;
    no_seal.assert_problem(422, "validation_failed");
    assert!(no_seal.text.contains("invoices") && no_seal.body["field"] == "seal_number", "{}", no_seal.text);
    let invoice = register(
        &clerk,
        person.clone(),
        json!({"tracking_number": "SF7700000001", "notes": "增值税发票 No. 77", "seal_number": "S-1"}),
    )
    .await;
    // Scanning it again, without the seal number, answers with the registered item.
    let again = clerk
        .post("/api/v1/items", &json!({"tracking_number": "SF7700000001", "recipient": person, "notes": "增值税发票"}))
        .await;
    assert_eq!((again.status, &again.body["id"]), (200, &invoice["id"]), "{}", again.text);
    assert_eq!(
        (&invoice["category"], &invoice["confidentiality"], &invoice["route"]),
        (&json!("invoice"), &json!("confidential"), &json!("department:FIN"))
    );
    // Due in 2 working days on the site's calendar (Monday to Friday 09:00-18:00, Beijing time).
    let due: chrono::DateTime<chrono::Utc> = invoice["due_by"].as_str().unwrap().parse().unwrap();
    let cal = mailroom_domain::calendar::WorkingCalendar::china_mainland();
    let (earliest, latest) =
        (cal.due_by(before, 2 * 24 * 60).unwrap(), cal.due_by(chrono::Utc::now(), 2 * 24 * 60).unwrap());
    assert!(earliest <= due && due <= latest, "due {due}, expected between {earliest} and {latest}");
    assert!(due - before >= chrono::Duration::hours(48), "two working days are at least two days: {due}");
    // Finance reads invoices, but without clearance not the contents of a confidential one: the
    // explanation (which quotes notes and sender) is withheld, and so is it in the timeline.
    let finance = srv.client(&srv.user_with_role("fin", mailroom_domain::auth::Role::Finance, None).await);
    let inv_id = invoice["id"].as_str().unwrap();
    assert_eq!(finance.get(&format!("/api/v1/items/{inv_id}")).await.body["redacted"], true);
    finance.get(&format!("/api/v1/items/{inv_id}/explanation")).await.assert_problem(403, "forbidden");
    let seen = finance.get(&format!("/api/v1/items/{inv_id}/events")).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert!(!seen.text.contains("发票") && !seen.text.contains("\\\"rules\\\""), "{}", seen.text);
    let statement = register(
        &clerk,
        person.clone(),
        json!({"sender": {"organisation": "中国工商银行"}, "notes": "Bank statement 10/2026", "seal_number": "S-2"}),
    )
    .await;
    assert_eq!((&statement["category"], &statement["route"]), (&json!("bank_statement"), &json!("department:FIN")));

    // Complaints and enquiries: Customer Service; urgent complaints are flagged.
    let complaint = register(&clerk, person.clone(), json!({"notes": "客户投诉：包装破损"})).await;
    assert_eq!((&complaint["category"], &complaint["priority"]), (&json!("complaint"), &json!("normal")));
    assert_eq!(complaint["route"], "department:CS");
    let urgent = register(&clerk, person.clone(), json!({"notes": "紧急投诉 urgent complaint"})).await;
    assert_eq!((&urgent["category"], &urgent["priority"]), (&json!("complaint"), &json!("urgent")));
    let x = explanation(&clerk, &urgent).await;
    assert_eq!(x["decision"]["flags"], json!(["urgent_complaint"]));
    assert_eq!(fired(&x), ["complaints", "urgent-complaints", "complaints-due"]);
    assert_eq!(x["decision"]["due_in"], "2h");
    let enquiry = register(&clerk, person.clone(), json!({"notes": "Product enquiry"})).await;
    assert_eq!((&enquiry["category"], &enquiry["route"]), (&json!("customer_correspondence"), &json!("department:CS")));

    // Hospital: a patient report goes to the attending physician in person, strictly confidential, urgent.
    let report = register(
        &clerk,
        json!({"person_id": doctor}),
        json!({"kind": "document", "notes": "病理报告 患者李某", "seal_number": "PR-1"}),
    )
    .await;
    assert_eq!(
        (&report["category"], &report["confidentiality"], &report["priority"], &report["route"]),
        (&json!("patient_report"), &json!("strictly_confidential"), &json!("urgent"), &json!("recipient"))
    );
    let x = explanation(&clerk, &report).await;
    assert_eq!(x["route"]["name"], "王医生");
    assert_eq!(fired(&x), ["patient-reports"]);
    // Drug samples and new-drug literature: to the department they are addressed to.
    let sample = register(&clerk, json!({"department_id": card}), json!({"notes": "药品样品 2 boxes"})).await;
    assert_eq!((&sample["category"], &sample["route"]), (&json!("drug_sample"), &json!("department:CARD")));
    let lit = register(&clerk, json!({"person_id": doctor}), json!({"notes": "New drug literature"})).await;
    assert_eq!((&lit["category"], &lit["route"]), (&json!("literature"), &json!("department:CARD")));
    // Research and conference invitations: the research team.
    let conf =
        register(&clerk, person.clone(), json!({"sender": {"organisation": "中华医学会"}, "notes": "学术会议邀请函"}))
            .await;
    assert_eq!((&conf["category"], &conf["route"]), (&json!("conference"), &json!("team:RND")));
    // Nothing matches: nothing is set.
    let plain = register(&clerk, person.clone(), json!({"notes": "office supplies"})).await;
    assert_eq!(
        (&plain["category"], &plain["route"], &plain["due_by"]),
        (&json!("general"), &Value::Null, &Value::Null)
    );
    assert_eq!(explanation(&clerk, &plain).await["decision"]["fired"], json!([]));

    // Key partners: the organisation saves its own version with its partner list.
    let source = DEFAULT_PACK.replace(
        "key_partners = []",
        "key_partners = [{ org = \"Acme Components Ltd\", aliases = [\"艾克美\"], responsible = \"E2\" }]",
    );
    let put = admin.put("/api/v1/rules", &json!({"source": source})).await;
    assert_eq!((put.status, &put.body["version"]), (200, &json!(1)), "{}", put.text);
    let contract = register(
        &clerk,
        person.clone(),
        json!({"sender": {"organisation": "艾克美（上海）有限公司"}, "notes": "采购合同 2026-014"}),
    )
    .await;
    assert_eq!(
        (&contract["category"], &contract["priority"], &contract["route"]),
        (&json!("contract"), &json!("high"), &json!("person:E2"))
    );
    let xc = explanation(&clerk, &contract).await;
    let x = xc.clone();
    assert_eq!(x["rules_version"], 1);
    assert_eq!(x["route"]["name"], "Emily Carter");
    let reasons = x["decision"]["fired"][0]["reasons"].to_string();
    assert!(reasons.contains("notes contains") && reasons.contains("is in key_partners"), "{reasons}");
    // A value given at intake wins, and the explanation says so.
    let explicit = register(
        &clerk,
        person.clone(),
        json!({"sender": {"organisation": "Acme Components Ltd"}, "notes": "contract", "priority": "normal"}),
    )
    .await;
    assert_eq!(explicit["priority"], "normal");
    let x = explanation(&clerk, &explicit).await;
    assert_eq!(x["decision"]["set_by"]["priority"], "caller");
    assert!(x["decision"]["fired"][0]["skipped"].to_string().contains("explicitly at intake"), "{x}");
    // The explanation is in the registered custody event (covered by the hash chain).
    let events = clerk.get(&format!("/api/v1/items/{}/events", contract["id"].as_str().unwrap())).await;
    let first = &events.body["items"][0];
    assert_eq!(first["kind"], "registered");
    let details: Value = serde_json::from_str(first["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["rules"]["decision"]["fired"][0]["rule"], "partner-contracts");
    assert_eq!(first["seq"], xc["event_seq"]);
    assert_eq!(first["hash"], xc["event_hash"]);
    srv.stop().await;
}

async fn versions_errors_and_dry_runs(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    // Invalid rules: 422 invalid_rules with the line, column and rule; nothing saved.
    let bad = "[[rule]]\nname = \"ok\"\nwhen.always = true\nthen.priority = \"high\"\n\n[[rule]]\nname = \"broken\"\nwhen.keywords = [\"x\"]\nthen.priority = \"asap\"\n";
    let r = admin.put("/api/v1/rules", &json!({"source": bad})).await;
    r.assert_problem(422, "invalid_rules");
    assert_eq!((&r.body["line"], &r.body["rule"]), (&json!(9), &json!("broken")), "{}", r.text);
    assert!(r.body["column"].as_u64().is_some() && r.body["detail"].as_str().unwrap().contains("asap"), "{}", r.text);
    let r = admin.put("/api/v1/rules", &json!({"source": "[[rule]]\nname = \"x\"\nwhen.due = \"4h\"\n"})).await;
    r.assert_problem(422, "invalid_rules");
    assert_eq!(r.body["line"], 3, "{}", r.text);
    assert_eq!(admin.get("/api/v1/rules/versions").await.body["items"], json!([]));
    // Two versions; the latest is in force; the change is in the custody log.
    let v1 = "[[rule]]\nname = \"all-high\"\nwhen.always = true\nthen.priority = \"high\"\n";
    let v2 = "[[rule]]\nname = \"all-urgent\"\nwhen.always = true\nthen.priority = \"urgent\"\n";
    for (src, n) in [(v1, 1), (v2, 2)] {
        let r = admin.put("/api/v1/rules", &json!({"source": src})).await;
        assert_eq!((r.status, &r.body["version"]), (200, &json!(n)), "{}", r.text);
    }
    let active = admin.get("/api/v1/rules").await;
    assert_eq!((&active.body["version"], &active.body["source"]), (&json!(2), &json!(v2)));
    assert_eq!(active.body["created_by"], "admin");
    let versions = admin.get("/api/v1/rules/versions").await;
    let listed: Vec<i64> =
        versions.body["items"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(listed, [2, 1]);
    assert_eq!(versions.body["items"][1]["source"], v1);
    let audit = admin.get("/api/v1/audit").await;
    assert_eq!(audit.text.matches("rules.changed").count(), 2, "{}", audit.text);
    // Dry runs: the rules in force, or (administrators) unsaved rules; nothing is written.
    let count = srv.app.store.count_items(srv.fx.tenant.id).await.unwrap();
    let r = clerk.post("/api/v1/rules/evaluate", &json!({"item": {"notes": "anything", "kind": "letter"}})).await;
    assert_eq!(
        (r.status, &r.body["rules_version"], &r.body["decision"]["priority"]),
        (200, &json!(2), &json!("urgent"))
    );
    let r = clerk.post("/api/v1/rules/evaluate", &json!({"item": {"notes": "x", "priority": "normal"}})).await;
    assert_eq!(
        (&r.body["decision"]["priority"], &r.body["decision"]["set_by"]["priority"]),
        (&json!("normal"), &json!("caller"))
    );
    let r = admin.post("/api/v1/rules/evaluate", &json!({"item": {"notes": "发票"}, "source": DEFAULT_PACK})).await;
    assert_eq!(
        (&r.body["rules_version"], &r.body["decision"]["category"]),
        (&Value::Null, &json!("invoice")),
        "{}",
        r.text
    );
    clerk.post("/api/v1/rules/evaluate", &json!({"item": {}, "source": v1})).await.assert_problem(403, "forbidden");
    admin
        .post("/api/v1/rules/evaluate", &json!({"item": {}, "source": "[[rule]]\nname = 1\n"}))
        .await
        .assert_problem(422, "invalid_rules");
    clerk
        .post("/api/v1/rules/evaluate", &json!({"item": {"subject": "x"}}))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(srv.app.store.count_items(srv.fx.tenant.id).await.unwrap(), count);
    // Only administrators read and change the rules.
    clerk.get("/api/v1/rules").await.assert_problem(403, "forbidden");
    clerk.put("/api/v1/rules", &json!({"source": v1})).await.assert_problem(403, "forbidden");
    // Registration applies the version in force.
    let person = srv.fx.person.id;
    let item = register(&clerk, json!({"person_id": person}), json!({})).await;
    assert_eq!(item["priority"], "urgent");

    // Secure rooms by location code; a target missing from the directory is explained, not routed.
    let v3 = "[[rule]]\nname = \"media\"\nwhen.kind = [\"storage_media\"]\nthen.route = { secure_room = \"SEC\" }\n\
              [[rule]]\nname = \"ghost\"\nwhen.keywords = [\"ghost\"]\nthen.route = { team = \"NOPE\" }\n";
    let r = admin.put("/api/v1/rules", &json!({"source": v3})).await;
    assert_eq!((r.status, &r.body["version"]), (200, &json!(3)), "{}", r.text);
    let media = register(&clerk, json!({"person_id": person}), json!({"kind": "storage_media"})).await;
    assert_eq!(media["route"], "secure_room:SEC");
    assert_eq!(explanation(&clerk, &media).await["route"]["name"], "Secure");
    let ghost = register(&clerk, json!({"person_id": person}), json!({"notes": "ghost"})).await;
    assert!(ghost["route"].is_null(), "{ghost}");
    let x = explanation(&clerk, &ghost).await;
    assert_eq!(x["route"]["target"], "team:NOPE");
    assert!(x["route"]["note"].as_str().unwrap().contains("no department or team with code NOPE"), "{x}");

    // Another organisation: its own rules (the default pack), versions and decisions.
    crate::support::Fixture::new(srv.app.clone(), "bravo").await;
    let bravo = srv.client(&srv.app.create_token("bravo", "admin").await.unwrap());
    let theirs = bravo.get("/api/v1/rules").await;
    assert_eq!((&theirs.body["default_pack"], &theirs.body["version"]), (&json!(true), &Value::Null));
    assert_eq!(bravo.get("/api/v1/rules/versions").await.body["items"], json!([]));
    let eval = bravo.post("/api/v1/rules/evaluate", &json!({"item": {"notes": "x"}})).await;
    assert!(eval.body["decision"]["priority"].is_null(), "{}", eval.text);
    let r = bravo.put("/api/v1/rules", &json!({"source": v1})).await;
    assert_eq!(r.body["version"], 1);
    assert_eq!(admin.get("/api/v1/rules").await.body["version"], 3);
    srv.stop().await;
}

async fn console_rules_page_and_why(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let ui = srv.browser("acme", "admin").await;
    let page = ui.get("/ui/rules").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("data-testid=\"rules-source\"") && page.text.contains("patient-reports"),
        "{}",
        page.text
    );
    let bad = ui
        .post(
            "/ui/rules",
            &[("source", "[[rule]]\r\nname = \"r\"\r\nwhen.keywords = [\"a\"]\r\nthen.category = \"cheese\"\r\n")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.text.contains("data-testid=\"rules-error\"")
            && (bad.text.contains("Line 4") || bad.text.contains("第 4 行")),
        "{}",
        bad.text
    );
    let good = ui
        .post("/ui/rules", &[("source", "[[rule]]\r\nname = \"complaints-first\"\r\nwhen.keywords = [\"投诉\"]\r\nthen.category = \"complaint\"\r\n")])
        .await;
    assert_eq!((good.status, good.location.as_str()), (303, "/ui/rules?saved=1"));
    let page = ui.get("/ui/rules?saved=1").await;
    assert!(page.text.contains("data-testid=\"rules-versions\"") && page.text.contains("complaints-first"));
    // Item detail: why.
    let clerk = srv.client(&srv.token("clerk").await);
    let item = register(&clerk, json!({"person_id": srv.fx.person.id}), json!({"notes": "投诉信"})).await;
    let detail = ui.get(&format!("/ui/items/{}", item["id"].as_str().unwrap())).await;
    assert!(detail.text.contains("data-testid=\"why\"") && detail.text.contains("complaints-first"), "{}", detail.text);
    assert!(detail.text.contains("notes contains"), "{}", detail.text);
    // The employee has no rules page.
    let emp = srv.browser("acme", "employee").await;
    assert_eq!(emp.get("/ui/rules").await.status, 403);
    srv.stop().await;
}

both_backends!(default_pack_routes_at_intake, versions_errors_and_dry_runs, console_rules_page_and_why);

/// `mailroom rules test` runs the shipped fixtures against the default pack; a broken pack fails
/// with the difference; `mailroom rules check` names the line of a problem.
#[test]
fn cli_runs_fixtures_and_checks() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../mailroom-domain/rules/default-fixtures.toml");
    let (code, out, err) = cli(&["rules", "test", fixtures]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("PASS  patient report") && out.contains("0 failed"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, DEFAULT_PACK.replace("then.route = { department = \"FIN\" }", "")).unwrap();
    let (code, out, _) = cli(&["rules", "test", fixtures, "--rules", broken.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  invoice") && out.contains("route: expected department:FIN, got none"), "{out}");

    let (code, out, _) = cli(&["rules", "check", broken.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("valid, 14 rules"), "{out}");
    let invalid = dir.path().join("invalid.toml");
    std::fs::write(&invalid, "[[rule]]\nname = \"r\"\nwhen.keywords = [\"a\"]\nthen.due = \"soon\"\n").unwrap();
    let (code, _, err) = cli(&["rules", "check", invalid.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("line 4, column") && err.contains("rule \"r\"") && err.contains("then.due"), "{err}");
    let (code, _, err) = cli(&["rules", "test", invalid.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
}
