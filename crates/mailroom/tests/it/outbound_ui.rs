//! Outbound mail in the console, on both backends: a request by the form (refused with the form
//! filled again, then taken and waiting for approval), approval, acceptance, a batch scanned out
//! and handed over, and the send's page as its requester sees it.

use crate::both_backends;
use crate::support::{Backend, TestServer};
use mailroom_domain::auth::Role;
use serde_json::json;

both_backends!(console_request_to_hand_over);

const RATES: &str = "carrier,method,zone,max_weight_g,price,step_price\n\
    china_post,international,asia,2000,95.00,20.00\n";

async fn console_request_to_hand_over(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let r = admin.post_raw("/api/v1/postage/rates/import", "text/csv", RATES.as_bytes().to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cc = admin
        .post("/api/v1/postage/cost-centres", &json!({"code": "CC-OB", "name": "Sends", "approval_limit": 10_000}))
        .await;
    assert_eq!(cc.status, 201, "{}", cc.text);
    let cc = cc.body["id"].as_str().unwrap().to_string();
    let acct = admin.post("/api/v1/postage/accounts", &json!({"name": "Franking machine"})).await;
    let acct = acct.body["id"].as_str().unwrap().to_string();
    let r = admin.post(&format!("/api/v1/postage/accounts/{acct}/top-ups"), &json!({"amount": 100_000})).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // The employee's form: an impossible postal code comes back with the form filled.
    let emp = srv.browser("acme", "employee").await;
    let page = emp.get("/ui/outbound/new").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("CC-OB"), "the cost centre is offered");
    assert!(page.text.contains("value=\"china_post\""), "the rate table's carriers are offered");
    let mut form = vec![
        ("recipient_name", "山田太郎"),
        ("country", "日本"),
        ("address", "〒100-0005\n東京都千代田区丸の内1-9-1"),
        ("postal_code", "12"),
        ("kind", "parcel"),
        ("contents", "Conference gifts"),
        ("method", "international"),
        ("carrier", "china_post"),
        ("weight_g", "1500"),
        ("cost_centre_id", cc.as_str()),
        ("customs_category", "gift"),
        ("l1_description", "men's cotton T-shirts"),
        ("l1_quantity", "3"),
        ("l1_net_weight_g", "600"),
        ("l1_value", "45.00"),
        ("l1_currency", "USD"),
        ("l1_hs_code", "6109.10"),
        ("l1_origin_country", "CN"),
    ];
    let r = emp.post("/ui/outbound/new", &form).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("form-error") && r.text.contains("for Japan"), "{}", r.text);
    assert!(
        r.text.contains("value=\"men&#39;s cotton T-shirts\"") || r.text.contains("men&#x27;s cotton"),
        "{}",
        r.text
    );
    // Without customs lines abroad: refused as incomplete.
    let no_customs: Vec<(&str, &str)> =
        form.iter().filter(|(k, _)| !k.starts_with("l1_") && *k != "postal_code").copied().collect();
    let r = emp.post("/ui/outbound/new", &no_customs).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("customs"), "{}", r.text);
    // Put right: taken, and waiting for approval (¥135 over the ¥100 limit).
    form.retain(|(k, _)| *k != "postal_code");
    let r = emp.post("/ui/outbound/new", &form).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(r.location.starts_with("/ui/outbound/") && r.location.ends_with("?done=created"), "{}", r.location);
    let page_path = r.location.split('?').next().unwrap().to_string();
    let id = page_path.rsplit('/').next().unwrap().to_string();
    let page = emp.get(&r.location).await;
    assert_eq!(page.status, 200);
    for want in ["Awaiting approval", "awaiting-note", "¥135.00", "CN22", "TOKYO 100-0005", "東京都", "label.pdf"] {
        assert!(page.text.contains(want), "{want} missing: {}", page.text);
    }
    assert!(!page.text.contains("approve-form"), "employees do not approve");
    let list = emp.get("/ui/outbound").await;
    assert!(list.text.contains("My sends") && list.text.contains(&id), "{}", list.text);

    // Mailroom staff ask on an employee's behalf, by employee number or name.
    let clerk = srv.browser("acme", "clerk").await;
    let letter = [
        ("country", "中国"),
        ("address", "王芳\n上海市浦东新区世纪大道100号\n200120"),
        ("contents", "Signed contract"),
        ("method", "international"),
        ("carrier", "china_post"),
        ("weight_g", "40"),
        ("cost_centre_id", cc.as_str()),
    ];
    let r = clerk.post("/ui/outbound/new", &letter).await;
    assert_eq!(r.status, 422, "the clerk has no directory entry: {}", r.text);
    assert!(r.text.contains("directory entry") && r.text.contains("id=\"requester\""), "{}", r.text);
    let mut on_behalf = letter.to_vec();
    on_behalf.push(("requester", "Nobody Such"));
    let r = clerk.post("/ui/outbound/new", &on_behalf).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("Nobody Such"), "{}", r.text);

    // Finance approves; the mailroom accepts, batches, scans out and hands over.
    srv.user_with_role("finance", Role::Finance, None).await;
    let finance = srv.browser("acme", "finance").await;
    let r = finance.post(&format!("/ui/outbound/{id}/approve"), &[]).await;
    assert_eq!((r.status, r.location.as_str()), (303, format!("{page_path}?done=approve").as_str()), "{}", r.text);
    let clerk = srv.browser("acme", "clerk").await;
    let r =
        clerk.post(&format!("/ui/outbound/{id}/accept"), &[("weight_g", "1500"), ("account_id", acct.as_str())]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = clerk.get(&page_path).await;
    assert!(page.text.contains("Accepted for dispatch") && page.text.contains("Postage charged"), "{}", page.text);
    let at = (chrono::Utc::now() + chrono::Duration::hours(9)).format("%Y-%m-%dT%H:%M").to_string();
    let r = clerk.post("/ui/outbound/batches", &[("carrier", "china_post"), ("collection_at", at.as_str())]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let batch_path = r.location.split('?').next().unwrap().to_string();
    let reference =
        admin.get(&format!("/api/v1/outbound/{id}")).await.body["item"]["reference"].as_str().unwrap().to_string();
    let r = clerk.post(&format!("{batch_path}/scan"), &[("code", reference.as_str())]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = clerk.get(&r.location).await;
    assert!(
        page.text.contains("Scanned out") && page.text.contains("✓") && page.text.contains("autofocus"),
        "{}",
        page.text
    );
    let r = clerk.post(&format!("{batch_path}/scan"), &[("code", "NO-SUCH-CODE")]).await;
    assert!(r.status >= 400 && r.text.contains("batch-error"), "{}", r.text);
    let r = clerk.post(&format!("{batch_path}/hand-over"), &[("courier_name", "李师傅")]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = clerk.get(&r.location).await;
    assert!(page.text.contains("Handed over: 1 dispatched"), "{}", page.text);

    // The requester sees it dispatched, with its timeline.
    let page = emp.get(&page_path).await;
    for want in [
        "Dispatched",
        "outbound_requested",
        "outbound_approve",
        "outbound_accept",
        "outbound_scanned_out",
        "outbound_dispatch",
        "李师傅",
    ] {
        assert!(page.text.contains(want), "{want} missing: {}", page.text);
    }
    srv.stop().await;
}
