//! Outbound mail through the real server, on both backends: requests with address and customs
//! checks, approval over a cost centre's limit, acceptance with postage charged in the same
//! transaction (budgets and balances refuse, writing nothing), cancellation with refund, CSV
//! mailings (all or nothing, 5,000 rows), dispatch windows, batches with scan-out and hand-over,
//! carrier tracking numbers found like any item's, receipts, the shared custody log, and who may
//! do what.

use crate::both_backends;
use crate::support::{Backend, Client, TestServer};
use serde_json::{Value, json};

both_backends!(request_to_delivery, budgets_block_and_cancel_refunds, mailings_and_windows, who_may_do_what);

const RATES: &str = "carrier,method,zone,max_weight_g,price,step_price\n\
    china_post,registered,domestic,500,8.00,\n\
    china_post,registered,domestic,2000,15.00,3.00\n\
    china_post,standard,domestic,500,1.20,\n\
    china_post,international,asia,2000,95.00,20.00\n\
    china_post,international,world,2000,140.00,30.00\n\
    ems,express,world,5000,260.00,40.00\n";

struct Setup {
    cc: String,
    account: String,
}

async fn setup(srv: &TestServer, admin: &Client, approval_limit: Option<i64>, hard_limit: Option<i64>) -> Setup {
    let r = admin.post_raw("/api/v1/postage/rates/import", "text/csv", RATES.as_bytes().to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cc = admin
        .post(
            "/api/v1/postage/cost-centres",
            &json!({"code": "CC-CARD", "name": "Cardiology post", "department_id": srv.fx.dept.id,
                    "hard_limit": hard_limit, "approval_limit": approval_limit}),
        )
        .await;
    assert_eq!(cc.status, 201, "{}", cc.text);
    assert_eq!(cc.body["approval_limit"], json!(approval_limit));
    let account = admin.post("/api/v1/postage/accounts", &json!({"name": "Franking machine"})).await;
    assert_eq!(account.status, 201, "{}", account.text);
    let account = account.body["id"].as_str().unwrap().to_string();
    let r = admin.post(&format!("/api/v1/postage/accounts/{account}/top-ups"), &json!({"amount": 100_000})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    Setup { cc: cc.body["id"].as_str().unwrap().to_string(), account }
}

fn domestic_letter(cc: &str) -> Value {
    json!({
        "recipient": {"country": "中国", "text": "王芳\n上海市浦东新区世纪大道100号\n200120"},
        "kind": "letter", "category": "contract", "contents": "Signed service contract",
        "method": "registered", "carrier": "china_post", "weight_g": 40, "cost_centre_id": cc,
    })
}

fn japan_parcel(cc: &str) -> Value {
    json!({
        "recipient": {"country": "JP", "text": "〒100-0005\n東京都千代田区丸の内1-9-1\n山田太郎 様"},
        "recipient_phone": "+81 3 1234 5678",
        "kind": "parcel", "contents": "Conference gifts", "method": "international", "carrier": "china_post",
        "weight_g": 1500, "cost_centre_id": cc,
        "customs": {"category": "gift", "lines": [
            {"description": "men's cotton T-shirts", "quantity": 3, "net_weight_g": 600, "value": "45.00",
             "currency": "USD", "hs_code": "6109.10", "origin_country": "CN"},
            {"description": "porcelain tea cups", "quantity": 2, "net_weight_g": 700, "value": "30.00",
             "currency": "USD", "hs_code": "691110", "origin_country": "China"}]},
    })
}

async fn events(c: &Client, item: &str) -> Vec<String> {
    let r = c.get(&format!("/api/v1/items/{item}/events")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let list = r.body.get("items").unwrap_or(&r.body).as_array().unwrap().clone();
    list.iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect()
}

async fn balance(c: &Client, account: &str) -> i64 {
    let r = c.get("/api/v1/postage/accounts").await;
    r.body["items"].as_array().unwrap().iter().find(|a| a["id"] == account).unwrap()["balance"].as_i64().unwrap()
}

async fn request_to_delivery(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    let emp = srv.client(&srv.token("employee").await);
    let s = setup(&srv, &admin, Some(10_000), None).await;

    // A registered contract letter within mainland China: requested at once, priced by the table.
    let r = emp.post("/api/v1/outbound", &domestic_letter(&s.cc)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["item"]["status"], "requested");
    assert_eq!(r.body["send"]["estimate"], 800);
    assert_eq!(r.body["send"]["country"], "CN");
    assert_eq!(r.body["send"]["requester_person_id"], json!(srv.fx.person.id));
    assert_eq!(r.body["send"]["address"]["fields"]["postal_code"], "200120");
    assert!(
        r.body["send"]["address"]["latin_lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| { l.as_str().unwrap().contains("Shanghai") })
    );
    assert_eq!(r.body["item"]["sender_name"], srv.fx.person.name);
    let letter = r.body["item"]["id"].as_str().unwrap().to_string();
    let letter_ref = r.body["item"]["reference"].as_str().unwrap().to_string();

    // Abroad: the customs declaration is checked at request, and the send waits for approval:
    // 1.5 kg to Asia is ¥95 for the first 500 g and two started steps of ¥20, past the ¥100 limit.
    let r = emp.post("/api/v1/outbound", &japan_parcel(&s.cc)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["send"]["estimate"], 13_500, "{}", r.text);
    assert_eq!(r.body["item"]["status"], "awaiting_approval");
    assert_eq!(r.body["send"]["customs_form"], "cn22");
    assert_eq!(r.body["customs_verdict"]["accepted"], true, "{}", r.text);
    assert!(r.body["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("approval")));
    assert_eq!(r.body["actions"], json!(["cancel"]), "the requester may only withdraw it");
    let parcel = r.body["item"]["id"].as_str().unwrap().to_string();

    // Bad addresses, methods and declarations are refused with what is wrong, writing nothing.
    let mut bad = japan_parcel(&s.cc);
    bad["recipient"] = json!({"country": "JP", "fields": {"recipient": "山田太郎", "street": ["丸の内1-9-1"],
        "city": "千代田区", "region": "東京都", "postal_code": "12"}});
    let r = emp.post("/api/v1/outbound", &bad).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["field"], "recipient", "{}", r.text);
    let mut bad = japan_parcel(&s.cc);
    bad["customs"] = Value::Null;
    emp.post("/api/v1/outbound", &bad).await.assert_problem(422, "customs_incomplete");
    let mut bad = japan_parcel(&s.cc);
    bad["customs"]["lines"][0]["description"] = json!("banknotes");
    let r = emp.post("/api/v1/outbound", &bad).await;
    r.assert_problem(422, "customs_incomplete");
    let mut bad = japan_parcel(&s.cc);
    bad["customs"]["lines"][0]["hs_code"] = json!("61");
    emp.post("/api/v1/outbound", &bad).await.assert_problem(422, "customs_incomplete");
    let mut bad = japan_parcel(&s.cc);
    bad["method"] = json!("registered");
    let r = emp.post("/api/v1/outbound", &bad).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["field"], "method");
    let mut bad = japan_parcel(&s.cc);
    bad["carrier"] = json!("pigeon_post");
    emp.post("/api/v1/outbound", &bad).await.assert_problem(422, "validation_failed");
    let list = emp.get("/api/v1/outbound").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2, "{}", list.text);

    // Seeds need certificates: taken at request (they are enclosed at the counter), refused at
    // acceptance until they are.
    let mut seeds = japan_parcel(&s.cc);
    seeds["recipient"] = json!({"country": "KR", "text": "04524\n서울특별시 중구 세종대로 110\n김민준"});
    seeds["customs"] = json!({"category": "commercial_sample", "lines": [{"description": "rice seeds for research",
        "quantity": 1, "net_weight_g": 200, "value": "10.00", "currency": "USD", "hs_code": "100610",
        "origin_country": "CN"}]});
    seeds["weight_g"] = json!(300);
    let r = clerk.post("/api/v1/outbound", &json!(seeds)).await;
    // The clerk has no directory entry: the send must name whom it is for.
    r.assert_problem(422, "validation_failed");
    seeds["requester_person_id"] = json!(srv.fx.other_person.id);
    let r = clerk.post("/api/v1/outbound", &seeds).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(!r.body["warnings"].as_array().unwrap().is_empty(), "{}", r.text);
    assert_eq!(r.body["item"]["status"], "requested", "¥95 is within the ¥100 approval limit");
    let seeds_id = r.body["item"]["id"].as_str().unwrap().to_string();
    // Someone else's send is not the employee's to see.
    emp.get(&format!("/api/v1/outbound/{seeds_id}")).await.assert_problem(404, "not_found");
    let r = clerk.post(&format!("/api/v1/outbound/{seeds_id}/accept"), &json!({"weight_g": 320})).await;
    r.assert_problem(422, "customs_incomplete");
    assert_eq!(balance(&admin, &s.account).await, 100_000, "nothing charged");
    let mut decl = seeds["customs"].clone();
    decl["certificates"] = json!(["phytosanitary", "import_permit"]);
    let r =
        clerk.post(&format!("/api/v1/outbound/{seeds_id}/accept"), &json!({"weight_g": 320, "customs": decl})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["item"]["status"], "accepted");
    assert_eq!(r.body["send"]["postage"], 9_500);
    assert_eq!(balance(&admin, &s.account).await, 90_500);

    // Approval: not the employee's to give; the admin approves, and only once.
    emp.post(&format!("/api/v1/outbound/{parcel}/approve"), &json!({})).await.assert_problem(403, "forbidden");
    let r = admin.post(&format!("/api/v1/outbound/{parcel}/approve"), &json!({"note": "conference budget"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["item"]["status"], "requested");
    assert_eq!(r.body["send"]["decided_by"], "admin");
    admin
        .post(&format!("/api/v1/outbound/{parcel}/approve"), &json!({}))
        .await
        .assert_problem(409, "invalid_transition");
    // Not dispatched before it is accepted.
    emp.post(&format!("/api/v1/outbound/{parcel}/accept"), &json!({"weight_g": 10}))
        .await
        .assert_problem(403, "forbidden");

    // Acceptance weighs it and charges the postage from the account to the cost centre.
    let r = clerk
        .post(&format!("/api/v1/outbound/{letter}/accept"), &json!({"weight_g": 620, "account_id": s.account}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["send"]["postage"], 1500, "501–2000 g band");
    let r = clerk.post(&format!("/api/v1/outbound/{parcel}/accept"), &json!({"weight_g": 1400})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["send"]["postage"], 13_500);
    assert_eq!(balance(&admin, &s.account).await, 90_500 - 1500 - 13_500);
    let ledger = admin.get(&format!("/api/v1/postage/ledger?account_id={}", s.account)).await;
    let refs: Vec<&str> =
        ledger.body["items"].as_array().unwrap().iter().filter_map(|e| e["reference"].as_str()).collect();
    assert!(refs.contains(&letter_ref.as_str()), "{}", ledger.text);

    // A batch for China Post's collection takes every accepted China Post item.
    let at = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let r = clerk.post("/api/v1/outbound/batches", &json!({"carrier": "china_post", "collection_at": at})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3, "{}", r.text);
    assert_eq!(r.body["scanned"], 0);
    let batch = r.body["batch"]["id"].as_str().unwrap().to_string();
    assert!(r.body["batch"]["reference"].as_str().unwrap().starts_with("DB-"));
    // Scan-out by reference; twice changes nothing; an unknown code is refused.
    let r = clerk.post(&format!("/api/v1/outbound/batches/{batch}/scan"), &json!({"code": letter_ref})).await;
    assert_eq!((r.status, r.body["scanned"].as_i64()), (200, Some(1)), "{}", r.text);
    let r = clerk
        .post(&format!("/api/v1/outbound/batches/{batch}/scan"), &json!({"code": letter_ref.to_lowercase()}))
        .await;
    assert_eq!((r.status, r.body["scanned"].as_i64()), (200, Some(1)), "{}", r.text);
    clerk
        .post(&format!("/api/v1/outbound/batches/{batch}/scan"), &json!({"code": "NOPE-0000"}))
        .await
        .assert_problem(422, "validation_failed");
    // The carrier's tracking number, recorded before the scan, finds the parcel at the scanner.
    let r = clerk
        .post(&format!("/api/v1/outbound/{parcel}/tracking"), &json!({"tracking_number": "rr 123 456 785 cn"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["item"]["tracking_number"], "RR123456785CN");
    let r = clerk.post(&format!("/api/v1/outbound/batches/{batch}/scan"), &json!({"code": "RR123456785CN"})).await;
    assert_eq!((r.status, r.body["scanned"].as_i64()), (200, Some(2)), "{}", r.text);
    // Handing over dispatches the two scanned items; the seeds stay accepted, out of the batch.
    clerk
        .post(&format!("/api/v1/outbound/batches/{batch}/hand-over"), &json!({"courier_name": " "}))
        .await
        .assert_problem(422, "validation_failed");
    let r =
        clerk.post(&format!("/api/v1/outbound/batches/{batch}/hand-over"), &json!({"courier_name": "刘师傅"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["dispatched"], 2);
    assert_eq!(r.body["left_behind"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["batch"]["status"], "handed_over");
    assert_eq!(r.body["batch"]["courier_name"], "刘师傅");
    clerk
        .post(&format!("/api/v1/outbound/batches/{batch}/scan"), &json!({"code": letter_ref}))
        .await
        .assert_problem(409, "invalid_transition");
    let seeds_now = clerk.get(&format!("/api/v1/outbound/{seeds_id}")).await;
    assert_eq!(seeds_now.body["item"]["status"], "accepted");
    assert_eq!(seeds_now.body["send"]["batch_id"], Value::Null);
    let emp_view = emp.get(&format!("/api/v1/outbound/{parcel}")).await;
    assert_eq!(emp_view.body["item"]["status"], "dispatched", "{}", emp_view.text);
    assert!(emp_view.body["send"]["dispatched_at"].is_string());
    // Outbound items are tracked like any other: by the carrier's number in the item register.
    let r = clerk.get("/api/v1/items?tracking=RR123456785CN").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let found = r.body["items"].as_array().unwrap();
    assert_eq!((found.len(), found[0]["id"].as_str()), (1, Some(parcel.as_str())), "{}", r.text);

    // The registered letter's receipt comes back: delivered.
    let r = clerk
        .post(&format!("/api/v1/outbound/{letter}/receipt"), &json!({"signed_by": "王芳", "receipt_number": "AR-778"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["item"]["status"], "delivered");
    assert_eq!(r.body["send"]["receipt_signed_by"], "王芳");
    assert_eq!(r.body["actions"], json!([]));

    // Every step is in the item's custody timeline, and the organisation's chain still verifies.
    let kinds = events(&admin, &letter).await;
    for k in [
        "outbound_requested",
        "outbound_accept",
        "outbound_batched",
        "outbound_scanned_out",
        "outbound_dispatch",
        "outbound_confirm_delivery",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing in {kinds:?}");
    }
    let kinds = events(&admin, &parcel).await;
    for k in ["outbound_approve", "carrier_tracking_recorded", "outbound_dispatch"] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing in {kinds:?}");
    }
    let v = admin.get("/api/v1/custody/verify").await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert_eq!(v.body["intact"], true, "{}", v.text);

    // Labels, customs forms and the batch's manifest come straight from the records.
    if crate::pdf::can_render() {
        let (status, ct, pdf) = get_bytes(&emp, &format!("/api/v1/outbound/{parcel}/label.pdf")).await;
        assert_eq!((status, ct.as_str()), (200, "application/pdf"));
        let text = crate::pdf::pdftotext(&pdf);
        assert!(text.contains("山田太郎") && text.contains("JAPAN"), "{text}");
        let (status, _, pdf) = get_bytes(&emp, &format!("/api/v1/outbound/{parcel}/customs.pdf")).await;
        assert_eq!(status, 200);
        let text = crate::pdf::pdftotext(&pdf);
        assert!(text.contains("CN22") && text.contains("T-shirts"), "{text}");
        emp.get(&format!("/api/v1/outbound/{letter}/customs.pdf")).await.assert_problem(409, "conflict");
        let (status, ct, pdf) = get_bytes(&clerk, &format!("/api/v1/outbound/batches/{batch}/manifest.pdf")).await;
        assert_eq!((status, ct.as_str()), (200, "application/pdf"));
        let text = crate::pdf::pdftotext(&pdf);
        for want in [letter_ref.as_str(), "RR123456785CN", "王芳", "山田太郎", "中国邮政"] {
            assert!(text.contains(want), "{want} missing from the manifest: {text}");
        }
        let (status, _, pdf) =
            get_bytes(&clerk, &format!("/api/v1/outbound/batches/{batch}/manifest.pdf?lang=en")).await;
        assert_eq!(status, 200);
        assert!(crate::pdf::pdftotext(&pdf).contains("ChinaPost"), "carrier in English");
        emp.get(&format!("/api/v1/outbound/batches/{batch}/manifest.pdf")).await.assert_problem(403, "forbidden");
    }
}

async fn get_bytes(c: &Client, path: &str) -> (u16, String, Vec<u8>) {
    let r = c.req(reqwest::Method::GET, path).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

async fn budgets_block_and_cancel_refunds(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    let emp = srv.client(&srv.token("employee").await);
    // ¥20 a month at most.
    let s = setup(&srv, &admin, None, Some(2000)).await;
    let mut heavy = domestic_letter(&s.cc);
    heavy["weight_g"] = json!(2000);
    let r = emp.post("/api/v1/outbound", &heavy).await;
    r.assert_problem(409, "budget_exceeded");
    assert!(emp.get("/api/v1/outbound").await.body["items"].as_array().unwrap().is_empty(), "nothing written");
    // Two ¥8 letters fit at request; weighed at 1.2 kg the second one would pass the limit.
    let a = emp.post("/api/v1/outbound", &domestic_letter(&s.cc)).await;
    let b2 = emp.post("/api/v1/outbound", &domestic_letter(&s.cc)).await;
    assert_eq!((a.status, b2.status), (201, 201), "{} {}", a.text, b2.text);
    let (a, b2) =
        (a.body["item"]["id"].as_str().unwrap().to_string(), b2.body["item"]["id"].as_str().unwrap().to_string());
    let r = clerk.post(&format!("/api/v1/outbound/{a}/accept"), &json!({"weight_g": 400})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = clerk.post(&format!("/api/v1/outbound/{b2}/accept"), &json!({"weight_g": 1200})).await;
    r.assert_problem(409, "budget_exceeded");
    let still = clerk.get(&format!("/api/v1/outbound/{b2}")).await;
    assert_eq!(still.body["item"]["status"], "requested", "the refused acceptance wrote nothing");
    assert_eq!(balance(&admin, &s.account).await, 100_000 - 800);
    let kinds = events(&admin, &b2).await;
    assert!(!kinds.iter().any(|k| k == "outbound_accept"), "{kinds:?}");

    // Past a soft limit the send is taken, with a warning and the flag the console shows.
    let soft = admin
        .post("/api/v1/postage/cost-centres", &json!({"code": "CC-SOFT", "name": "Soft", "soft_limit": 500}))
        .await;
    assert_eq!(soft.status, 201, "{}", soft.text);
    let r = emp.post("/api/v1/outbound", &domestic_letter(soft.body["id"].as_str().unwrap())).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["soft_limit_passed"], true, "{}", r.text);
    assert!(r.body["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("soft limit")));
    let r = emp.post("/api/v1/outbound", &domestic_letter(&s.cc)).await;
    assert_eq!(r.body["soft_limit_passed"], false, "{}", r.text);
    clerk.post(&format!("/api/v1/outbound/{}/cancel", r.body["item"]["id"].as_str().unwrap()), &json!({})).await;
    // Cancelling an accepted item refunds its postage in the same step.
    let r = clerk.post(&format!("/api/v1/outbound/{a}/cancel"), &json!({"note": "sender changed their mind"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["item"]["status"], "cancelled");
    assert_eq!(balance(&admin, &s.account).await, 100_000);
    let ledger = admin.get(&format!("/api/v1/postage/ledger?account_id={}", s.account)).await;
    assert_eq!(ledger.body["items"][0]["kind"], "refund", "{}", ledger.text);
    // The requester may withdraw a waiting request, not one the mailroom accepted.
    let r = emp.post(&format!("/api/v1/outbound/{b2}/cancel"), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    emp.post(&format!("/api/v1/outbound/{b2}/cancel"), &json!({})).await.assert_problem(409, "invalid_transition");
}

async fn mailings_and_windows(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    let emp = srv.client(&srv.token("employee").await);
    let s = setup(&srv, &admin, None, None).await;
    let next_week = chrono::Utc::now() + chrono::Duration::days(5);
    let window = next_week.to_rfc3339();
    let q = |extra: &str| {
        format!(
            "/api/v1/outbound/mailings?method=standard&carrier=china_post&cost_centre_id={}&contents=Satisfaction%20survey&weight_g=20&not_before={}{extra}",
            s.cc,
            urlencode(&window)
        )
    };
    // One bad row refuses the whole file, naming the line.
    let bad = "recipient,street,city,region,postal_code,country\n\
        李雷,南京路1号,上海市,上海市,200001,CN\n\
        韩梅梅,中山路2号,南京市,江苏省,21000,CN\n";
    let r = emp.post_raw(&q(""), "text/csv", bad.as_bytes().to_vec()).await;
    r.assert_problem(422, "validation_failed");
    let lines: Vec<i64> = r.body["errors"].as_array().unwrap().iter().map(|e| e["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, vec![3], "{}", r.text);
    assert!(emp.get("/api/v1/outbound").await.body["items"].as_array().unwrap().is_empty());

    // A mailing to 5,000 customers.
    let mut csv = String::from("recipient,street,city,region,postal_code,country,email\n");
    for i in 0..5000 {
        csv.push_str(&format!(
            "客户{i},南京西路{}号,上海市,上海市,2000{:02},CN,c{i}@example.cn\n",
            i % 900 + 1,
            i % 90 + 10
        ));
    }
    let started = std::time::Instant::now();
    let r = emp.post_raw(&q(""), "text/csv", csv.into_bytes()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    eprintln!("mailing of 5,000 on {b:?}: {:?}", started.elapsed());
    assert_eq!(r.body["created"], 5000);
    assert_eq!(r.body["estimate_total"], 5000 * 120);
    let mailing = r.body["mailing_id"].as_str().unwrap().to_string();
    // A retried upload with its Idempotency-Key creates nothing new; the key with other rows is refused.
    let small = "recipient,street,city,region,postal_code,country\n李雷,南京路1号,上海市,上海市,200001,CN\n";
    let upload = |rows: String| {
        let r = emp
            .req(reqwest::Method::POST, &q(""))
            .header("content-type", "text/csv")
            .header("idempotency-key", "mailing-0001")
            .body(rows.into_bytes());
        emp.send(r)
    };
    let first = upload(small.to_string()).await;
    let again = upload(small.to_string()).await;
    assert_eq!((first.status, again.status), (201, 201), "{} {}", first.text, again.text);
    assert_eq!(first.body["mailing_id"], again.body["mailing_id"]);
    let other = small.replace("李雷", "韩梅梅");
    upload(other).await.assert_problem(422, "idempotency_key_reused");
    let page = clerk.get(&format!("/api/v1/outbound?mailing={mailing}&limit=500")).await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 500);
    assert!(page.body["next_before"].is_string());
    let one = &page.body["items"][0];
    assert_eq!(one["item"]["status"], "requested");
    assert!(one["send"]["not_before"].is_string());
    let id = one["item"]["id"].as_str().unwrap().to_string();
    let r = clerk.post(&format!("/api/v1/outbound/{id}/accept"), &json!({"weight_g": 18})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A collection before the window does not take it; one after does.
    let early = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let r = clerk.post("/api/v1/outbound/batches", &json!({"carrier": "china_post", "collection_at": early})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.body["items"].as_array().unwrap().is_empty(), "{}", r.text);
    let early_batch = r.body["batch"]["id"].as_str().unwrap().to_string();
    let r = clerk
        .post(&format!("/api/v1/outbound/batches/{early_batch}/scan"), &json!({"code": one["item"]["reference"]}))
        .await;
    r.assert_problem(409, "invalid_transition");
    let late = (next_week + chrono::Duration::hours(1)).to_rfc3339();
    let r = clerk
        .post("/api/v1/outbound/batches", &json!({"carrier": "china_post", "collection_at": late, "items": [id]}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    // A window more than a year ahead is refused.
    let far = (chrono::Utc::now() + chrono::Duration::days(400)).to_rfc3339();
    let mut req = domestic_letter(&s.cc);
    req["not_before"] = json!(far);
    let r = emp.post("/api/v1/outbound", &req).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["field"], "not_before");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn who_may_do_what(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let emp = srv.client(&srv.token("employee").await);
    let clerk = srv.client(&srv.token("clerk").await);
    let s = setup(&srv, &admin, None, None).await;
    let r = emp.post("/api/v1/outbound", &domestic_letter(&s.cc)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["item"]["id"].as_str().unwrap().to_string();
    // Employees ask and follow; they do not run the counter or the batches.
    emp.post("/api/v1/outbound/batches", &json!({"carrier": "china_post", "collection_at": "2030-01-01T00:00:00Z"}))
        .await
        .assert_problem(403, "forbidden");
    emp.get("/api/v1/outbound/batches").await.assert_problem(403, "forbidden");
    emp.post(&format!("/api/v1/outbound/{id}/tracking"), &json!({"tracking_number": "RR1"}))
        .await
        .assert_problem(403, "forbidden");
    // Staff may not approve spend.
    clerk.post(&format!("/api/v1/outbound/{id}/approve"), &json!({})).await.assert_problem(403, "forbidden");
    // An employee may not file a send on someone else's behalf.
    let mut other = domestic_letter(&s.cc);
    other["requester_person_id"] = json!(srv.fx.other_person.id);
    emp.post("/api/v1/outbound", &other).await.assert_problem(422, "validation_failed");
    // Unknown ids are 404, not 500.
    emp.get("/api/v1/outbound/not-an-id").await.assert_problem(404, "not_found");
    clerk.get(&format!("/api/v1/outbound/batches/{}", uuid::Uuid::now_v7())).await.assert_problem(404, "not_found");
    // An inbound item is not an outbound one.
    let inbound = srv.fx.app.store.count_items(srv.fx.tenant.id).await.unwrap();
    assert!(inbound >= 1);
}
