//! The HTTP API through a real server, on both backends.

use crate::both_backends;
use crate::support::{Backend, TestServer, png_signature};
use serde_json::{Value, json};

fn intake(person: &str, tracking: &str) -> Value {
    json!({"tracking_number": tracking, "recipient": {"person_id": person}, "kind": "parcel"})
}

async fn auth_and_operations(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let anon = srv.anonymous();
    assert_eq!(anon.get("/healthz").await.status, 200);
    assert_eq!(anon.get("/readyz").await.status, 200);
    let m = anon.get("/metrics").await;
    assert_eq!(m.status, 200);
    assert!(m.text.contains("mailroom_http_requests_total"), "{}", m.text);
    anon.get("/api/v1/items").await.assert_problem(401, "unauthorized");
    srv.client("mr_bogus").get("/api/v1/items").await.assert_problem(401, "unauthorized");
    anon.get("/api/v1/nope").await.assert_problem(404, "not_found");
    let me = srv.client(&srv.token("clerk").await).get("/api/v1/me").await;
    assert_eq!(me.body["role"], "staff");
    // Every response carries a request id; a client's own id is echoed.
    let r = srv.http.get(format!("{}/healthz", srv.base)).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    assert!(r.headers().get("content-security-policy").is_some());
    srv.stop().await;
}

async fn intake_contract(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let c = srv.client(&srv.token("clerk").await);
    let person = srv.fx.person.id.to_string();
    let r = c.post("/api/v1/items", &intake(&person, "SF1234567890")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let reference = r.body["reference"].as_str().unwrap().to_string();
    assert_eq!(r.body["status"], "received");
    assert_eq!(reference.len(), 9);
    // Scanning the same tracking number again answers 200 with the same item.
    let again = c.post("/api/v1/items", &intake(&person, "sf1234567890")).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["id"], id);
    // Lookups.
    assert_eq!(c.get(&format!("/api/v1/items/{id}")).await.body["reference"], reference);
    let by_tn = c.get("/api/v1/items?tracking=SF1234567890").await;
    assert_eq!(by_tn.body["items"][0]["id"], id);
    assert!(by_tn.body.get("next_cursor").is_some());
    let by_ref = c.get(&format!("/api/v1/items?tracking={reference}")).await;
    assert_eq!(by_ref.body["items"][0]["id"], id);
    let none = c.get("/api/v1/items?tracking=NOPE00000000").await;
    assert_eq!(none.body["items"].as_array().unwrap().len(), 0);
    // Department recipient and full optional fields.
    let full = json!({
        "tracking_number": "1Z999AA10123456784",
        "recipient": {"department_id": srv.fx.dept.id},
        "kind": "document", "category": "invoice", "priority": "urgent", "confidentiality": "confidential",
        "carrier": "UPS", "sender": {"name": "Müller GmbH", "organisation": "Müller GmbH", "address": "Berlin", "country": "de"},
        "condition": "damaged", "damage_description": "wet", "notes": "发票 invoice", "seal_number": "B-1"
    });
    let r = c.post("/api/v1/items", &full).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["sender_country"], "DE");
    assert_eq!(r.body["carrier"], "ups");
    assert_eq!(r.body["recipient_name"], "财务部 (Finance)");
    // Idempotency-Key: a retried POST gets the same answer; a different body with the key is refused.
    let body = intake(&person, "EA000000001CN");
    let k = [("Idempotency-Key", "retry-1")];
    let a = c.post_with("/api/v1/items", &body, &k).await;
    let b2 = c.post_with("/api/v1/items", &body, &k).await;
    assert_eq!((a.status, b2.status), (201, 201));
    assert_eq!(a.body["id"], b2.body["id"]);
    c.post_with("/api/v1/items", &intake(&person, "EA000000002CN"), &k)
        .await
        .assert_problem(422, "idempotency_key_reused");
    // Search.
    let s = c.get("/api/v1/items?q=invoice").await;
    assert_eq!(s.body["items"].as_array().unwrap().len(), 1);
    let s = c.get("/api/v1/items?q=m%C3%BCller").await;
    assert_eq!(s.body["items"].as_array().unwrap().len(), 1);
    srv.stop().await;
}

async fn bad_input_writes_nothing(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let c = srv.client(&srv.token("clerk").await);
    let head = srv.app.store.custody_head(srv.fx.tenant.id).await.unwrap();
    let person = srv.fx.person.id.to_string();
    let count = || async { srv.app.store.count_items(srv.fx.tenant.id).await.unwrap() };
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"tracking_number": "SF1"}), 422, "validation_failed"),
        (json!({"recipient": {}}), 422, "validation_failed"),
        (json!({"recipient": {"person_id": "not-a-uuid"}}), 422, "validation_failed"),
        (json!({"recipient": {"person_id": uuid::Uuid::now_v7()}}), 422, "unknown_recipient"),
        (json!({"recipient": {"person_id": person, "department_id": srv.fx.dept.id}}), 422, "validation_failed"),
        (json!({"recipient": {"person_id": person}, "kind": "elephant"}), 422, "validation_failed"),
        (json!({"recipient": {"person_id": person}, "priority": 3}), 422, "validation_failed"),
        (json!({"recipient": {"person_id": person}, "tracking_number": "AB*CD"}), 422, "validation_failed"),
        (json!({"recipient": {"person_id": person}, "condition": "damaged"}), 422, "validation_failed"),
        (json!({"recipient": {"person_id": person}, "surprise": 1}), 422, "validation_failed"),
        (json!({"recipient": {"person_id": person}, "notes": "x".repeat(5000)}), 422, "validation_failed"),
        (json!({"recipient": {"person_id": person}, "sender": {"country": "China"}}), 422, "validation_failed"),
    ];
    for (body, status, code) in cases {
        let r = c.post("/api/v1/items", &body).await;
        r.assert_problem(status, code);
        assert!(!r.body["detail"].as_str().unwrap().is_empty());
    }
    c.post_raw("/api/v1/items", "application/json", b"{not json".to_vec())
        .await
        .assert_problem(422, "validation_failed");
    c.post_raw("/api/v1/items", "application/json", vec![0xff, 0xfe, 0x00])
        .await
        .assert_problem(422, "validation_failed");
    c.post_raw("/api/v1/items", "text/plain", b"{}".to_vec()).await.assert_problem(415, "unsupported_media_type");
    c.post_raw("/api/v1/items", "application/json", vec![b' '; 2 * 1024 * 1024])
        .await
        .assert_problem(413, "payload_too_large");
    c.get("/api/v1/items?limit=abc").await.assert_problem(422, "validation_failed");
    c.get("/api/v1/items?status=lost").await.assert_problem(422, "validation_failed");
    c.get("/api/v1/items?cursor=zzz").await.assert_problem(422, "validation_failed");
    c.get("/api/v1/items/not-an-id").await.assert_problem(404, "not_found");
    c.get(&format!("/api/v1/items/{}", uuid::Uuid::now_v7())).await.assert_problem(404, "not_found");
    assert_eq!(count().await, 0);
    assert_eq!(srv.app.store.custody_head(srv.fx.tenant.id).await.unwrap(), head);
    srv.stop().await;
}

async fn lifecycle_over_http(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let c = srv.client(&srv.token("clerk").await);
    let person = srv.fx.person.id.to_string();
    let id = c.post("/api/v1/items", &intake(&person, "JT0001234567")).await.body["id"].as_str().unwrap().to_string();
    let tr = |body: Value| {
        let c = c.clone();
        let id = id.clone();
        async move { c.post(&format!("/api/v1/items/{id}/transitions"), &body).await }
    };
    tr(json!({"action": "deliver"})).await.assert_problem(409, "invalid_transition");
    tr(json!({"action": "fly"})).await.assert_problem(422, "validation_failed");
    tr(json!({"action": "store"})).await.assert_problem(422, "validation_failed");
    tr(json!({"action": "store", "location_id": uuid::Uuid::now_v7()})).await.assert_problem(422, "validation_failed");
    let r = tr(json!({"action": "store", "location_id": srv.fx.shelf.id})).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("stored")), "{}", r.text);
    assert_eq!(tr(json!({"action": "notify"})).await.body["status"], "notified");
    assert_eq!(tr(json!({"action": "out_for_delivery"})).await.body["status"], "out_for_delivery");
    // Handover needs a record and a valid signature image.
    tr(json!({"action": "deliver"})).await.assert_problem(422, "validation_failed");
    let handover =
        json!({"taken_by": "张伟杰", "place": "3F reception", "id_type": "staff_card", "id_last_digits": "0042"});
    tr(json!({"action": "deliver", "handover": handover})).await.assert_problem(422, "validation_failed");
    tr(json!({"action": "deliver", "handover": handover, "signature": {"data": "R0lGODlhAQABAAAAACw="}}))
        .await
        .assert_problem(415, "unsupported_media_type");
    let big = format!("data:image/png;base64,{}", "A".repeat(800 * 1024));
    tr(json!({"action": "deliver", "handover": handover, "signature": {"data": big}}))
        .await
        .assert_problem(413, "payload_too_large");
    let svg_script = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode("<svg><script>alert(1)</script></svg>")
    };
    tr(json!({"action": "deliver", "handover": handover, "signature": {"data": svg_script}}))
        .await
        .assert_problem(415, "unsupported_media_type");
    let r = tr(json!({"action": "deliver", "handover": handover, "signature": {"data": png_signature()}})).await;
    assert_eq!(r.body["status"], "delivered", "{}", r.text);
    tr(json!({"action": "store", "location_id": srv.fx.shelf.id})).await.assert_problem(409, "invalid_transition");
    let ev = c.get(&format!("/api/v1/items/{id}/events")).await;
    let kinds: Vec<&str> = ev.body["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["registered", "store", "notify", "out_for_delivery", "deliver"]);
    let h = c.get(&format!("/api/v1/items/{id}/handover")).await;
    assert_eq!(h.body["taken_by"], "张伟杰");
    let sig = srv
        .http
        .get(format!("{}/api/v1/items/{id}/signature", srv.base))
        .bearer_auth(c.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(sig.headers()["content-type"], "image/png");
    assert!(sig.bytes().await.unwrap().starts_with(b"\x89PNG"));
    srv.stop().await;
}

async fn employees_see_only_their_mail(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let staff = srv.client(&srv.token("clerk").await);
    let emp = srv.client(&srv.token("employee").await);
    let mine =
        staff.post("/api/v1/items", &intake(&srv.fx.person.id.to_string(), "MINE00000001")).await.body["id"].clone();
    let dept = staff
        .post(
            "/api/v1/items",
            &json!({"tracking_number": "DEPT00000001", "recipient": {"department_id": srv.fx.dept.id}}),
        )
        .await
        .body["id"]
        .clone();
    let other =
        staff.post("/api/v1/items", &intake(&srv.fx.other_person.id.to_string(), "OTHER0000001")).await.body["id"]
            .clone();
    let list = emp.get("/api/v1/me/items").await;
    let ids: Vec<&Value> = list.body["items"].as_array().unwrap().iter().map(|i| &i["id"]).collect();
    assert_eq!(ids, [&dept, &mine]);
    // The general listing is narrowed too; another person's item is "not found".
    assert_eq!(emp.get("/api/v1/items").await.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(emp.get("/api/v1/items?tracking=OTHER0000001").await.body["items"].as_array().unwrap().len(), 0);
    emp.get(&format!("/api/v1/items/{}", other.as_str().unwrap())).await.assert_problem(404, "not_found");
    emp.get(&format!("/api/v1/items/{}/events", other.as_str().unwrap())).await.assert_problem(404, "not_found");
    assert_eq!(emp.get(&format!("/api/v1/items/{}", mine.as_str().unwrap())).await.status, 200);
    emp.post("/api/v1/items", &intake(&srv.fx.person.id.to_string(), "EMP000000001"))
        .await
        .assert_problem(403, "forbidden");
    emp.post(&format!("/api/v1/items/{}/transitions", mine.as_str().unwrap()), &json!({"action": "notify"}))
        .await
        .assert_problem(403, "forbidden");
    emp.post("/api/v1/people", &json!({"name": "x"})).await.assert_problem(403, "forbidden");
    srv.stop().await;
}

async fn directory_crud_and_import(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let d = admin
        .post("/api/v1/departments", &json!({"code": "cs", "name": "客户服务部", "name_en": "Customer Service"}))
        .await;
    assert_eq!(d.status, 201, "{}", d.text);
    assert_eq!(d.body["code"], "CS");
    let did = d.body["id"].as_str().unwrap().to_string();
    admin.post("/api/v1/departments", &json!({"code": "CS", "name": "dup"})).await.assert_problem(409, "conflict");
    // Idempotency-Key on other creating POSTs: a retry replays the first answer.
    let k = [("Idempotency-Key", "dept-legal-1")];
    let legal = json!({"code": "LEGAL", "name": "法务部"});
    let l1 = admin.post_with("/api/v1/departments", &legal, &k).await;
    let l2 = admin.post_with("/api/v1/departments", &legal, &k).await;
    assert_eq!((l1.status, l2.status), (201, 201), "{}", l2.text);
    assert_eq!(l1.body["id"], l2.body["id"]);
    admin.post_with("/api/v1/people", &json!({"name": "x"}), &k).await.assert_problem(422, "idempotency_key_reused");
    let team = admin
        .post("/api/v1/departments", &json!({"code": "CS-VIP", "name": "VIP组", "kind": "team", "parent_id": did}))
        .await;
    assert_eq!(team.body["parent_id"], did.as_str());
    let p = admin
        .post("/api/v1/people", &json!({"name": "李娜", "name_latin": "Li Na", "aliases": ["Nana"], "employee_no": "E77", "department_id": did, "email": "Li.Na@Example.cn"}))
        .await;
    assert_eq!(p.status, 201, "{}", p.text);
    assert_eq!(p.body["email"], "li.na@example.cn");
    let pid = p.body["id"].as_str().unwrap().to_string();
    admin
        .post("/api/v1/people", &json!({"name": "李娜", "email": "nope"}))
        .await
        .assert_problem(422, "validation_failed");
    let u = admin
        .put(&format!("/api/v1/people/{pid}"), &json!({"name": "李娜", "name_latin": "Li Na", "department_id": did, "active": false, "forwarding": "→ CS"}))
        .await;
    assert_eq!(u.body["active"], false);
    let found = admin.get("/api/v1/people?q=li%20na").await;
    assert_eq!(found.body["items"][0]["id"], pid.as_str());
    admin.delete(&format!("/api/v1/departments/{did}")).await.assert_problem(409, "conflict");
    let tid = team.body["id"].as_str().unwrap();
    assert_eq!(admin.delete(&format!("/api/v1/departments/{tid}")).await.status, 204);
    assert_eq!(admin.get(&format!("/api/v1/departments/{tid}")).await.status, 404);
    // CSV import: all or nothing, with line numbers.
    let before = srv.app.store.count_people(srv.fx.tenant.id).await.unwrap();
    let bad = "name,name_latin,employee_no,department,email\n王芳,Wang Fang,E100,CS,wf@example.cn\n,Nobody,E101,CS,\n陈静,Chen Jing,E102,NOPE,\n";
    let r = admin.post_raw("/api/v1/people/import", "text/csv", bad.as_bytes().to_vec()).await;
    r.assert_problem(422, "validation_failed");
    let lines: Vec<u64> = r.body["errors"].as_array().unwrap().iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 4]);
    assert_eq!(srv.app.store.count_people(srv.fx.tenant.id).await.unwrap(), before);
    let latin1 = b"name,employee_no\nJos\xe9,E200\n".to_vec();
    let r = admin.post_raw("/api/v1/people/import", "text/csv", latin1).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["line"], 2);
    let good = "\u{feff}name,name_latin,aliases,employee_no,department,active\n王芳,Wang Fang,Fang;Fiona,E100,CS,yes\n陈静,Chen Jing,,E102,,离职\n";
    let r = admin.post_raw("/api/v1/people/import", "text/csv", good.as_bytes().to_vec()).await;
    assert_eq!((r.status, r.body["created"].as_u64()), (200, Some(2)), "{}", r.text);
    assert_eq!(srv.app.store.count_people(srv.fx.tenant.id).await.unwrap(), before + 2);
    // Re-import updates by employee number.
    let r = admin.post_raw("/api/v1/people/import", "text/csv", good.as_bytes().to_vec()).await;
    assert_eq!(r.body["updated"].as_u64(), Some(2));
    let depts = "code,name,name_en,kind,parent\nRND-A,A组,Team A,team,RND\nRND,研究部,Research,,\n";
    let r = admin.post_raw("/api/v1/departments/import", "text/csv", depts.as_bytes().to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Staff may not import or manage users.
    let staff = srv.client(&srv.token("clerk").await);
    staff.get("/api/v1/users").await.assert_problem(403, "forbidden");
    staff
        .post_raw("/api/v1/people/import", "text/csv", good.as_bytes().to_vec())
        .await
        .assert_problem(403, "forbidden");
    // Users (admin only).
    let u = admin
        .post(
            "/api/v1/users",
            &json!({"login": "desk2", "display_name": "Desk 2", "password": "long enough pw", "role": "staff"}),
        )
        .await;
    assert_eq!(u.status, 201, "{}", u.text);
    assert!(u.body.get("password_hash").is_none());
    admin
        .post(
            "/api/v1/users",
            &json!({"login": "desk2", "display_name": "Desk 2", "password": "long enough pw", "role": "staff"}),
        )
        .await
        .assert_problem(409, "conflict");
    assert_eq!(admin.get("/api/v1/users").await.body["items"].as_array().unwrap().len(), 4);
    // Sites and locations.
    let site = admin.post("/api/v1/sites", &json!({"name": "South", "address": "闵行"})).await;
    assert_eq!(site.status, 201);
    let loc = admin
        .post("/api/v1/locations", &json!({"site_id": site.body["id"], "code": "l9", "name": "Locker 9", "kind": "locker", "security_level": 1}))
        .await;
    assert_eq!(loc.body["code"], "L9");
    admin
        .post("/api/v1/locations", &json!({"site_id": site.body["id"], "code": "x", "name": "x", "security_level": 9}))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(staff.get("/api/v1/locations").await.body["items"].as_array().unwrap().len(), 3);
    srv.stop().await;
}

async fn location_suggestion(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    let site = admin.post("/api/v1/sites", &json!({"name": "Annex"})).await.body["id"].as_str().unwrap().to_string();
    let mut ids = std::collections::HashMap::new();
    for (code, kind, level) in [("A1", "shelf", 0), ("A2", "shelf", 0), ("LK", "locker", 1), ("SEC", "secure_room", 3)]
    {
        let body = json!({"site_id": site, "code": code, "name": code, "kind": kind, "security_level": level});
        let r = admin.post("/api/v1/locations", &body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        ids.insert(code, r.body["id"].as_str().unwrap().to_string());
    }
    let suggest = |q: &str| {
        let clerk = clerk.clone();
        let url = format!("/api/v1/locations/suggestion?site_id={site}&{q}");
        async move { clerk.get(&url).await }
    };
    // Ties between the two shelves go to the lower code; an internal item never wastes the secure room.
    let r = suggest("kind=letter").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.body["location"]["code"].as_str(), r.body["reason"].as_str()), (Some("A1"), Some("suited_kind")));
    assert_eq!(r.body["required_level"], 0);
    // Confidential and strictly confidential items need the secure room; storage media suit it.
    for q in
        ["kind=document&confidentiality=confidential", "confidentiality=strictly_confidential&category=patient_report"]
    {
        let r = suggest(q).await;
        assert_eq!(r.body["location"]["code"], "SEC", "{q}: {}", r.text);
        assert_eq!(r.body["reason"], "secure_enough", "{q}");
    }
    let r = suggest("kind=storage_media").await;
    assert_eq!((r.body["location"]["code"].as_str(), r.body["reason"].as_str()), (Some("SEC"), Some("suited_kind")));
    // Once A1 keeps an item, the emptier A2 is suggested.
    let person = srv.fx.person.id.to_string();
    let item =
        clerk.post("/api/v1/items", &intake(&person, "JT0009876543")).await.body["id"].as_str().unwrap().to_string();
    let stored = clerk
        .post(&format!("/api/v1/items/{item}/transitions"), &json!({"action": "store", "location_id": ids["A1"]}))
        .await;
    assert_eq!(stored.status, 200, "{}", stored.text);
    let r = suggest("kind=letter").await;
    assert_eq!((r.body["location"]["code"].as_str(), r.body["occupancy"].as_i64()), (Some("A2"), Some(0)));
    // Bad input is refused; employees may not ask.
    suggest("kind=rocket").await.assert_problem(422, "validation_failed");
    suggest("confidentiality=secret").await.assert_problem(422, "validation_failed");
    srv.client(&srv.token("employee").await).get("/api/v1/locations/suggestion").await.assert_problem(403, "forbidden");
    srv.stop().await;
}

async fn pagination_over_http(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let c = srv.client(&srv.token("clerk").await);
    let person = srv.fx.person.id.to_string();
    for i in 0..5 {
        assert_eq!(c.post("/api/v1/items", &intake(&person, &format!("PAGE{i:08}"))).await.status, 201);
    }
    let mut all = Vec::new();
    let mut url = "/api/v1/items?limit=2".to_string();
    loop {
        let r = c.get(&url).await;
        all.extend(r.body["items"].as_array().unwrap().iter().map(|i| i["id"].clone()));
        match r.body["next_cursor"].as_str() {
            Some(cur) => url = format!("/api/v1/items?limit=2&cursor={cur}"),
            None => break,
        }
    }
    assert_eq!(all.len(), 5);
    srv.stop().await;
}

both_backends!(
    auth_and_operations,
    intake_contract,
    bad_input_writes_nothing,
    lifecycle_over_http,
    employees_see_only_their_mail,
    directory_crud_and_import,
    pagination_over_http,
    location_suggestion,
);
