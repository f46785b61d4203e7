//! Postage accounts and cost control, on both backends, through the real server: rate tables
//! (CSV all or nothing), quotes, charges with soft and hard monthly limits, insufficient balance,
//! top-ups and refunds, the ledger's running balance, the chargeback report per department (JSON,
//! CSV and PDF), the audit log, and who may do what.

use crate::both_backends;
use crate::support::{Backend, Client, TestServer};
use mailroom_domain::auth::Role;
use serde_json::{Value, json};

both_backends!(charges_budgets_and_chargeback, chargeback_pdf, who_may_do_what, console_page, concurrent_charges);

const RATES: &str = "carrier,method,zone,max_weight_g,price,step_price\n\
    ems,standard,domestic,500,8.00,\n\
    ems,standard,domestic,2000,12.00,2.00\n\
    sf,express,asia,1000,50,\n";

fn this_month() -> String {
    chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).format("%Y-%m").to_string()
}

fn charge_body(account: &str, cc: &str, weight: u32) -> Value {
    json!({"account_id": account, "cost_centre_id": cc, "carrier": "EMS", "method": "standard", "weight_g": weight,
           "country": "CN", "reference": "OUT-0001"})
}

async fn ledger(c: &Client, account: &str) -> Vec<Value> {
    let r = c.get(&format!("/api/v1/postage/ledger?account_id={account}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut items = r.body["items"].as_array().unwrap().clone();
    items.reverse();
    items
}

async fn balance(c: &Client, account: &str) -> i64 {
    let r = c.get("/api/v1/postage/accounts").await;
    r.body["items"].as_array().unwrap().iter().find(|a| a["id"] == account).unwrap()["balance"].as_i64().unwrap()
}

async fn charges_budgets_and_chargeback(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    let dept2 = admin.post("/api/v1/departments", &json!({"code": "LEGAL", "name": "Legal Affairs"})).await;
    assert_eq!(dept2.status, 201, "{}", dept2.text);
    let cc_a = admin
        .post(
            "/api/v1/postage/cost-centres",
            &json!({"code": "cc-a", "name": "Cardiology post", "department_id": srv.fx.dept.id,
                    "soft_limit": 1000, "hard_limit": 2000}),
        )
        .await;
    assert_eq!(cc_a.status, 201, "{}", cc_a.text);
    assert_eq!(cc_a.body["code"], "CC-A");
    let cc_a = cc_a.body["id"].as_str().unwrap().to_string();
    let cc_b = admin
        .post(
            "/api/v1/postage/cost-centres",
            &json!({"code": "CC-B", "name": "Legal post", "department_id": dept2.body["id"]}),
        )
        .await;
    assert_eq!(cc_b.status, 201, "{}", cc_b.text);
    let cc_b = cc_b.body["id"].as_str().unwrap().to_string();
    // Limits are checked; codes are unique.
    let r = admin
        .post("/api/v1/postage/cost-centres", &json!({"code": "CC-C", "name": "x", "soft_limit": 5, "hard_limit": 4}))
        .await;
    r.assert_problem(422, "validation_failed");
    let r = admin.post("/api/v1/postage/cost-centres", &json!({"code": "CC-A", "name": "again"})).await;
    r.assert_problem(409, "conflict");
    let acct = admin.post("/api/v1/postage/accounts", &json!({"name": "Franking machine"})).await;
    assert_eq!(acct.status, 201, "{}", acct.text);
    assert_eq!(acct.body["balance"], 0);
    let acct = acct.body["id"].as_str().unwrap().to_string();

    // A rate file with bad lines changes nothing, and says which lines.
    let bad = format!("{RATES}ems,teleport,domestic,500,1.00,\nems,standard,domestic,abc,1.00,\n");
    let r = admin.post_raw("/api/v1/postage/rates/import", "text/csv", bad.into_bytes()).await;
    r.assert_problem(422, "validation_failed");
    let lines: Vec<i64> = r.body["errors"].as_array().unwrap().iter().map(|x| x["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, vec![5, 6], "{}", r.text);
    assert_eq!(admin.get("/api/v1/postage/rates").await.body["rates"], json!([]));
    let r = clerk
        .post(
            "/api/v1/postage/quote",
            &json!({"carrier": "ems", "method": "standard", "weight_g": 300, "zone": "domestic"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let r = admin.post_raw("/api/v1/postage/rates/import", "text/csv", RATES.as_bytes().to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["rates"].as_array().unwrap().len(), 3);

    // Quotes: bands, steps, zones from countries.
    let quote = |carrier: &str, method: &str, weight: u32, dest: Value| {
        let mut body = json!({"carrier": carrier, "method": method, "weight_g": weight});
        for (k, v) in dest.as_object().unwrap() {
            body[k] = v.clone();
        }
        let clerk = &clerk;
        async move { clerk.post("/api/v1/postage/quote", &body).await }
    };
    let q = quote("ems", "standard", 1200, json!({"country": "CN"})).await;
    assert_eq!(
        (q.status, q.body["amount"].as_i64(), q.body["zone"].as_str()),
        (200, Some(1400), Some("domestic")),
        "{}",
        q.text
    );
    assert_eq!(q.body["display"], "¥14.00");
    let q = quote("sf", "express", 800, json!({"country": "jp"})).await;
    assert_eq!((q.body["amount"].as_i64(), q.body["zone"].as_str()), (Some(5000), Some("asia")), "{}", q.text);
    quote("sf", "express", 800, json!({"country": "DE"})).await.assert_problem(422, "validation_failed");
    quote("ems", "standard", 2001, json!({"zone": "domestic"})).await.assert_problem(422, "validation_failed");
    quote("ems", "pigeon", 10, json!({"zone": "domestic"})).await.assert_problem(422, "validation_failed");

    // No money, no charge.
    let r = clerk.post("/api/v1/postage/charges", &charge_body(&acct, &cc_a, 300)).await;
    r.assert_problem(409, "insufficient_balance");
    assert!(ledger(&admin, &acct).await.is_empty());
    let r = admin.post(&format!("/api/v1/postage/accounts/{acct}/top-ups"), &json!({"amount": 0})).await;
    r.assert_problem(422, "validation_failed");
    let r = admin
        .post(&format!("/api/v1/postage/accounts/{acct}/top-ups"), &json!({"amount": 3000, "note": "invoice 42"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["entry"]["balance_after"], 3000);

    // Within limits, then past the soft limit (charged, with a warning).
    let r = clerk.post("/api/v1/postage/charges", &charge_body(&acct, &cc_a, 300)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!((r.body["verdict"].as_str(), r.body["month_spend"].as_i64()), (Some("ok"), Some(800)));
    assert_eq!(
        (r.body["entry"]["amount"].as_i64(), r.body["entry"]["balance_after"].as_i64()),
        (Some(-800), Some(2200))
    );
    assert_eq!(r.body["entry"]["actor"], "clerk");
    let r = clerk.post("/api/v1/postage/charges", &charge_body(&acct, &cc_a, 300)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!((r.body["verdict"].as_str(), r.body["month_spend"].as_i64()), (Some("warn"), Some(1600)));
    // Past the hard limit: refused, and nothing is written.
    let before = ledger(&admin, &acct).await.len();
    let r = clerk.post("/api/v1/postage/charges", &charge_body(&acct, &cc_a, 300)).await;
    r.assert_problem(409, "budget_exceeded");
    assert_eq!(ledger(&admin, &acct).await.len(), before);
    assert_eq!(balance(&admin, &acct).await, 1400);
    // A retried charge with the same Idempotency-Key is charged once.
    let body = charge_body(&acct, &cc_b, 10);
    let first = clerk.post_with("/api/v1/postage/charges", &body, &[("Idempotency-Key", "send-77")]).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = clerk.post_with("/api/v1/postage/charges", &body, &[("Idempotency-Key", "send-77")]).await;
    assert_eq!((again.status, &again.body["entry"]["id"]), (201, &first.body["entry"]["id"]), "{}", again.text);
    let other = clerk
        .post_with("/api/v1/postage/charges", &charge_body(&acct, &cc_b, 11), &[("Idempotency-Key", "send-77")])
        .await;
    other.assert_problem(422, "idempotency_key_reused");
    assert_eq!(balance(&admin, &acct).await, 1400 - 800);
    let r = admin
        .post(
            &format!("/api/v1/postage/accounts/{acct}/adjustments"),
            &json!({"kind": "refund", "amount": 800, "cost_centre_id": cc_b}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Another cost centre, no limits; then the account runs dry.
    let r = clerk.post("/api/v1/postage/charges", &charge_body(&acct, &cc_b, 1200)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["entry"]["balance_after"], 0);
    let r = clerk.post("/api/v1/postage/charges", &charge_body(&acct, &cc_b, 10)).await;
    r.assert_problem(409, "insufficient_balance");
    assert_eq!(ledger(&admin, &acct).await.len(), before + 3);
    // An unknown cost centre is refused.
    let r = clerk.post("/api/v1/postage/charges", &charge_body(&acct, &uuid::Uuid::now_v7().to_string(), 10)).await;
    r.assert_problem(422, "validation_failed");
    // A refund credits the account and the cost centre's month; an adjustment never goes below zero.
    let r = admin
        .post(
            &format!("/api/v1/postage/accounts/{acct}/adjustments"),
            &json!({"kind": "refund", "amount": 800, "cost_centre_id": cc_a, "reference": "returned unsent"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["month_spend"], 800);
    let r = admin
        .post(&format!("/api/v1/postage/accounts/{acct}/adjustments"), &json!({"kind": "adjustment", "amount": -801}))
        .await;
    r.assert_problem(409, "insufficient_balance");
    // Now CC-A has room again.
    let r = clerk.post("/api/v1/postage/charges", &charge_body(&acct, &cc_a, 300)).await;
    assert_eq!((r.status, r.body["verdict"].as_str()), (201, Some("warn")), "{}", r.text);

    // The ledger's running balance adds up to the account's balance.
    let entries = ledger(&admin, &acct).await;
    let kinds: Vec<&str> = entries.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["top_up", "charge", "charge", "charge", "refund", "charge", "refund", "charge"]);
    let mut running = 0;
    for e in &entries {
        running += e["amount"].as_i64().unwrap();
        assert_eq!(e["balance_after"].as_i64().unwrap(), running, "{e}");
    }
    assert_eq!(balance(&admin, &acct).await, running);
    // 30.00 topped up; 8.00, 8.00, 8.00 charged, 8.00 refunded, 14.00 charged, 8.00 refunded, 8.00 charged.
    assert_eq!(running, 0);
    let cc = admin.get("/api/v1/postage/cost-centres").await;
    let a_row = cc.body["items"].as_array().unwrap().iter().find(|c| c["id"] == cc_a.as_str()).unwrap().clone();
    assert_eq!((a_row["month_spend"].as_i64(), a_row["status"].as_str()), (Some(1600), Some("warn")), "{}", cc.text);

    // The chargeback per department.
    let month = this_month();
    let r = admin.get(&format!("/api/v1/reports/chargeback?month={month}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total"], 1600 + 1400);
    let depts = r.body["departments"].as_array().unwrap();
    assert_eq!(depts.len(), 2, "{}", r.text);
    let by_code = |code: &str| depts.iter().find(|d| d["department_code"] == code).unwrap().clone();
    assert_eq!((by_code("LEGAL")["amount"].as_i64(), by_code("LEGAL")["charges"].as_i64()), (Some(1400), Some(2)));
    let own = by_code(&srv.fx.dept.code);
    assert_eq!((own["amount"].as_i64(), own["charges"].as_i64()), (Some(1600), Some(3)));
    let csv = admin.get(&format!("/api/v1/reports/chargeback.csv?month={month}")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.content_type.starts_with("text/csv"), "{}", csv.content_type);
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines[0], "month,department_code,department_name,cost_centres,charges,amount_cny");
    assert!(lines.contains(&format!("{month},LEGAL,Legal Affairs,CC-B,2,14.00").as_str()), "{}", csv.text);
    assert!(lines.contains(&format!("{month},TOTAL,,,5,30.00").as_str()), "{}", csv.text);
    assert_eq!(lines.len(), 4, "{}", csv.text);
    // Another month is empty; a bad month is refused.
    let r = admin.get("/api/v1/reports/chargeback?month=2020-01").await;
    assert_eq!((r.body["total"].as_i64(), r.body["departments"].clone()), (Some(0), json!([])));
    admin.get("/api/v1/reports/chargeback?month=2026-13").await.assert_problem(422, "validation_failed");

    // Raising the hard limit (an audited change) lets charges through again.
    let r = admin
        .put(
            &format!("/api/v1/postage/cost-centres/{cc_a}"),
            &json!({"code": "CC-A", "name": "Cardiology post",
              "department_id": srv.fx.dept.id, "soft_limit": 1000, "hard_limit": 100000}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let audit = admin.get("/api/v1/audit?kind=admin.postage").await;
    let kinds: Vec<&str> =
        audit.body["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for k in [
        "admin.postage.cost_centre.create",
        "admin.postage.cost_centre.update",
        "admin.postage.account.create",
        "admin.postage.top_up",
        "admin.postage.adjustment",
        "admin.postage.rates.replace",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    // What the ledger names stays; what it does not can go. Accounts can be renamed.
    admin
        .request("DELETE", &format!("/api/v1/postage/cost-centres/{cc_a}"), None, &[])
        .await
        .assert_problem(409, "conflict");
    admin
        .request("DELETE", &format!("/api/v1/postage/accounts/{acct}"), None, &[])
        .await
        .assert_problem(409, "conflict");
    let spare = admin.post("/api/v1/postage/cost-centres", &json!({"code": "SPARE", "name": "Unused"})).await;
    let spare = spare.body["id"].as_str().unwrap().to_string();
    assert_eq!(admin.request("DELETE", &format!("/api/v1/postage/cost-centres/{spare}"), None, &[]).await.status, 204);
    let r = admin.request("DELETE", &format!("/api/v1/postage/cost-centres/{spare}"), None, &[]).await;
    r.assert_problem(404, "not_found");
    let spare = admin.post("/api/v1/postage/accounts", &json!({"name": "Spare"})).await;
    let spare = spare.body["id"].as_str().unwrap().to_string();
    assert_eq!(admin.request("DELETE", &format!("/api/v1/postage/accounts/{spare}"), None, &[]).await.status, 204);
    let r = admin
        .put(
            &format!("/api/v1/postage/accounts/{acct}"),
            &json!({"name": "Franking machine 2", "site_id": srv.fx.shelf.site_id}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["name"].as_str(), r.body["balance"].as_i64()),
        (200, Some("Franking machine 2"), Some(running)),
        "{}",
        r.text
    );
    let kinds: Vec<String> = admin.get("/api/v1/audit?kind=admin.postage").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    for k in ["admin.postage.cost_centre.delete", "admin.postage.account.update", "admin.postage.account.delete"] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
    }
    // The rate table can be replaced as JSON too, and is checked as a whole.
    let r = admin
        .put(
            "/api/v1/postage/rates",
            &json!({"rates": [
            {"carrier": "ems", "method": "standard", "zone": "local", "max_weight_g": 500, "price": 500},
            {"carrier": "EMS", "method": "standard", "zone": "local", "max_weight_g": 500, "price": 600}]}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(admin.get("/api/v1/postage/rates").await.body["rates"].as_array().unwrap().len(), 3);
    srv.stop().await;
}

async fn who_may_do_what(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    let employee = srv.client(&srv.token("employee").await);
    let finance = srv.client(&srv.user_with_role("fin", Role::Finance, None).await);
    let cc = admin.post("/api/v1/postage/cost-centres", &json!({"code": "X", "name": "X"})).await;
    let cc = cc.body["id"].as_str().unwrap().to_string();
    let acct = admin.post("/api/v1/postage/accounts", &json!({"name": "Main"})).await;
    let acct = acct.body["id"].as_str().unwrap().to_string();
    admin.post(&format!("/api/v1/postage/accounts/{acct}/top-ups"), &json!({"amount": 10000})).await;
    admin.post_raw("/api/v1/postage/rates/import", "text/csv", RATES.as_bytes().to_vec()).await;
    // Staff charge sends but do not manage accounts, budgets or rates.
    let r = clerk.post("/api/v1/postage/charges", &charge_body(&acct, &cc, 100)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    clerk
        .post("/api/v1/postage/cost-centres", &json!({"code": "Y", "name": "Y"}))
        .await
        .assert_problem(403, "forbidden");
    clerk
        .post(&format!("/api/v1/postage/accounts/{acct}/top-ups"), &json!({"amount": 1}))
        .await
        .assert_problem(403, "forbidden");
    clerk
        .post_raw("/api/v1/postage/rates/import", "text/csv", RATES.as_bytes().to_vec())
        .await
        .assert_problem(403, "forbidden");
    clerk.get("/api/v1/reports/chargeback").await.assert_problem(403, "forbidden");
    // Finance reads the chargeback and the ledger, and charges nothing.
    let r = finance.get("/api/v1/reports/chargeback.csv").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains(",X,1,") || r.text.contains("TOTAL,,,1,0.80"), "{}", r.text);
    assert_eq!(finance.get("/api/v1/postage/ledger").await.status, 200);
    finance.post("/api/v1/postage/charges", &charge_body(&acct, &cc, 100)).await.assert_problem(403, "forbidden");
    // Employees see nothing of postage.
    employee.get("/api/v1/postage/accounts").await.assert_problem(403, "forbidden");
    employee.post("/api/v1/postage/quote", &json!({})).await.assert_problem(403, "forbidden");
    employee.get("/api/v1/reports/chargeback").await.assert_problem(403, "forbidden");
    // Nothing the refused callers tried was written.
    assert_eq!(ledger(&admin, &acct).await.len(), 2);
    assert_eq!(balance(&admin, &acct).await, 10000 - 800);
    srv.stop().await;
}

async fn get_bytes(c: &Client, path: &str) -> (u16, String, Vec<u8>) {
    let r = c.req(reqwest::Method::GET, path).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

/// The chargeback as PDF: departments in any script, subtotals and the total, in either language.
async fn chargeback_pdf(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    let mut ccs = Vec::new();
    for (dept, dept_name, cc, cc_name) in
        [("TREAS", "财务部", "CC-FIN", "财务共享中心"), ("LEGAL", "Legal Affairs", "CC-LEG", "Contracts post")]
    {
        let d = admin.post("/api/v1/departments", &json!({"code": dept, "name": dept_name})).await;
        assert_eq!(d.status, 201, "{}", d.text);
        let c = admin
            .post("/api/v1/postage/cost-centres", &json!({"code": cc, "name": cc_name, "department_id": d.body["id"]}))
            .await;
        assert_eq!(c.status, 201, "{}", c.text);
        ccs.push(c.body["id"].as_str().unwrap().to_string());
    }
    let acct = admin.post("/api/v1/postage/accounts", &json!({"name": "Franking machine"})).await;
    let acct = acct.body["id"].as_str().unwrap().to_string();
    admin.post(&format!("/api/v1/postage/accounts/{acct}/top-ups"), &json!({"amount": 100000})).await;
    let r = admin.post_raw("/api/v1/postage/rates/import", "text/csv", RATES.as_bytes().to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Finance: 8.00 + 14.00; legal: 8.00.
    for (cc, weight) in [(&ccs[0], 300), (&ccs[0], 1200), (&ccs[1], 300)] {
        let r = clerk.post("/api/v1/postage/charges", &charge_body(&acct, cc, weight)).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let month = this_month();
    // Refusals need no font.
    clerk.get(&format!("/api/v1/reports/chargeback.pdf?month={month}")).await.assert_problem(403, "forbidden");
    admin.get("/api/v1/reports/chargeback.pdf?month=2026-13").await.assert_problem(422, "validation_failed");
    if !crate::pdf::can_render() {
        srv.stop().await;
        return;
    }
    let r = admin.get(&format!("/api/v1/reports/chargeback.pdf?month={month}&lang=fr")).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["field"], "lang", "{}", r.text);
    let (status, ct, pdf) =
        get_bytes(&admin, &format!("/api/v1/reports/chargeback.pdf?month={month}&lang=zh-CN")).await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"), "{}", String::from_utf8_lossy(&pdf));
    let text = crate::pdf::pdftotext(&pdf);
    for want in [
        "邮资费用分摊报表",
        &month,
        "TREAS",
        "财务部",
        "CC-FIN",
        "财务共享中心",
        "22.00",
        "LEGAL",
        "LegalAffairs",
        "Contractspost",
        "8.00",
        "小计",
        "合计",
        "30.00",
        "1/1",
    ] {
        assert!(text.contains(want), "{want:?} not in the chargeback PDF: {text}");
    }
    // Page 1 renders as an image.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.pdf"), &pdf).unwrap();
    let out = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile"])
        .arg(dir.path().join("c.pdf"))
        .arg(dir.path().join("page"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let png = std::fs::read(dir.path().join("page.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 2000, "{} bytes", png.len());
    // In English; the month defaults to this one.
    let (status, _, pdf) = get_bytes(&admin, "/api/v1/reports/chargeback.pdf?lang=en").await;
    assert_eq!(status, 200);
    let text = crate::pdf::pdftotext(&pdf);
    for want in ["Postagechargebackreport", "Subtotal", "Total", "财务部", "30.00"] {
        assert!(text.contains(want), "{want:?} not in the English chargeback PDF: {text}");
    }
    srv.stop().await;
}

async fn console_page(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let acct = admin.post("/api/v1/postage/accounts", &json!({"name": "Franking machine"})).await;
    let acct = acct.body["id"].as_str().unwrap().to_string();
    admin.post(&format!("/api/v1/postage/accounts/{acct}/top-ups"), &json!({"amount": 3000})).await;
    admin
        .post("/api/v1/postage/cost-centres", &json!({"code": "CC-A", "name": "Cardiology post", "soft_limit": 1000}))
        .await;
    let ui = srv.browser("acme", "admin").await;
    let p = ui.get("/ui/postage").await;
    assert_eq!(p.status, 200);
    for want in [
        "Franking machine",
        "¥30.00",
        "CC-A",
        "¥10.00",
        "Within budget",
        "Top-up",
        "/api/v1/reports/chargeback.csv?month=",
        "/api/v1/reports/chargeback.pdf?month=",
    ] {
        assert!(p.text.contains(want), "{want} missing: {}", p.text);
    }
    // Top up by the form, in yuan.
    let r = ui.post(&format!("/ui/postage/accounts/{acct}/top-up"), &[("amount", "12.50"), ("note", "cash")]).await;
    assert_eq!((r.status, r.location.starts_with("/ui/postage?done=")), (303, true), "{}", r.text);
    assert_eq!(balance(&admin, &acct).await, 4250);
    let r = ui.post(&format!("/ui/postage/accounts/{acct}/top-up"), &[("amount", "12.345")]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("postage-error"), "{}", r.text);
    assert_eq!(balance(&admin, &acct).await, 4250);
    // In Chinese.
    let p = ui.with_cookie("mr_lang=zh-CN").get("/ui/postage").await;
    assert!(p.text.contains("邮资") && p.text.contains("¥42.50") && p.text.contains("充值"), "{}", p.text);
    // Staff see the page without the top-up form; employees do not see it.
    let staff = srv.browser("acme", "clerk").await;
    let p = staff.get("/ui/postage").await;
    assert_eq!(p.status, 200);
    assert!(!p.text.contains("/top-up"), "{}", p.text);
    assert_eq!(srv.browser("acme", "employee").await.get("/ui/postage").await.status, 403);
    srv.stop().await;
}

/// Charges racing for one account and one cost centre: the balance and the hard limit hold, and
/// the ledger's running balance stays consistent.
async fn concurrent_charges(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk = std::sync::Arc::new(srv.client(&srv.token("clerk").await));
    let cc =
        admin.post("/api/v1/postage/cost-centres", &json!({"code": "RACE", "name": "Race", "hard_limit": 4000})).await;
    let cc = cc.body["id"].as_str().unwrap().to_string();
    let cc_free = admin.post("/api/v1/postage/cost-centres", &json!({"code": "FREE", "name": "Free"})).await;
    let cc_free = cc_free.body["id"].as_str().unwrap().to_string();
    let acct = admin.post("/api/v1/postage/accounts", &json!({"name": "Shared"})).await;
    let acct = acct.body["id"].as_str().unwrap().to_string();
    admin.post(&format!("/api/v1/postage/accounts/{acct}/top-ups"), &json!({"amount": 6400})).await;
    admin.post_raw("/api/v1/postage/rates/import", "text/csv", RATES.as_bytes().to_vec()).await;
    // Twelve charges of 8.00: the cost centre allows five (40.00), the account then has 24.00,
    // which pays three of the six charges to the unlimited cost centre.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (clerk, body) = (clerk.clone(), charge_body(&acct, if i % 2 == 0 { &cc } else { &cc_free }, 300));
        tasks.push(tokio::spawn(async move { clerk.post("/api/v1/postage/charges", &body).await }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        codes.push(if r.status == 201 { "ok".to_string() } else { r.code().to_string() });
    }
    let ok = codes.iter().filter(|c| *c == "ok").count();
    assert_eq!(ok, 8, "{codes:?}");
    assert!(codes.iter().all(|c| c == "ok" || c == "budget_exceeded" || c == "insufficient_balance"), "{codes:?}");
    assert_eq!(balance(&admin, &acct).await, 0);
    let entries = ledger(&admin, &acct).await;
    assert_eq!(entries.len(), 9);
    let mut running = 0;
    for e in &entries {
        running += e["amount"].as_i64().unwrap();
        assert_eq!(e["balance_after"].as_i64().unwrap(), running, "{e}");
    }
    let spent: i64 =
        entries.iter().filter(|e| e["cost_centre_id"] == cc.as_str()).map(|e| -e["amount"].as_i64().unwrap()).sum();
    assert!(spent <= 4000, "hard limit overrun: {spent}");
    srv.stop().await;
}
