//! Two-stage intake and the exception queue, through a real server on both backends: scan-only
//! intake, ambiguous and unreadable label text, resolving (item, exception and custody event in
//! one transaction; the chain still verifies), refused resolutions that write nothing, enriching
//! details with optimistic concurrency, permissions and clearance.

use crate::both_backends;
use crate::support::{Backend, Client, TestServer, cli};
use mailroom_domain::auth::Role;
use serde_json::{Value, json};

async fn patch(c: &Client, path: &str, body: &Value) -> crate::support::Resp {
    c.request("PATCH", path, Some(body), &[]).await
}

/// The open exceptions, as (exception id, item id, reason).
async fn open_queue(c: &Client) -> Vec<(String, String, String)> {
    let r = c.get("/api/v1/exceptions").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["id"].as_str().unwrap().to_string(),
                x["item_id"].as_str().unwrap().to_string(),
                x["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn events(c: &Client, item: &str) -> Vec<Value> {
    c.get(&format!("/api/v1/items/{item}/events")).await.body["items"].as_array().unwrap().clone()
}

/// Adds two people whose names share "Wang"; returns their ids.
async fn two_wangs(srv: &TestServer) -> (String, String) {
    let admin = srv.client(&srv.token("admin").await);
    let mut ids = Vec::new();
    for (name, latin, no) in [("王伟", "Wang Wei", "W1"), ("王芳", "Wang Fang", "W2")] {
        let r = admin.post("/api/v1/people", &json!({"name": name, "name_latin": latin, "employee_no": no})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    (ids[0].clone(), ids[1].clone())
}

async fn scan_only_intake(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let c = srv.client(&srv.token("clerk").await);
    // Just a tracking number: accepted, received with details pending, and queued.
    let r = c.post("/api/v1/items", &json!({"tracking_number": "SCAN00000001"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "received");
    assert_eq!(r.body["details_pending"], true);
    assert!(r.body["recipient_person_id"].is_null() && r.body["recipient_department_id"].is_null());
    let id = r.body["id"].as_str().unwrap().to_string();
    let queue = open_queue(&c).await;
    assert_eq!(queue.len(), 1);
    assert_eq!((queue[0].1.as_str(), queue[0].2.as_str()), (id.as_str(), "missing_recipient"));
    let x = c.get(&format!("/api/v1/exceptions/{}", queue[0].0)).await;
    assert_eq!(x.status, 200, "{}", x.text);
    assert_eq!(x.body["status"], "open");
    assert_eq!(x.body["tracking_number"], "SCAN00000001");
    assert_eq!(x.body["item_reference"], r.body["reference"]);
    let registered = &events(&c, &id).await[0];
    assert_eq!(registered["kind"], "registered");
    assert!(registered["details"].as_str().unwrap().contains("missing_recipient"));
    // Scanning it again answers the existing item and opens nothing new.
    let again = c.post("/api/v1/items", &json!({"tracking_number": "scan 0000 0001"})).await;
    assert_eq!((again.status, again.body["id"].as_str()), (200, Some(id.as_str())));
    assert_eq!(open_queue(&c).await.len(), 1);
    // Nothing at all to go on is still refused.
    c.post("/api/v1/items", &json!({})).await.assert_problem(422, "validation_failed");
    c.post("/api/v1/items", &json!({"recipient": {"text": "  "}})).await.assert_problem(422, "validation_failed");
    // The existing contract is unchanged: an id gives a complete item and no exception.
    let full =
        json!({"tracking_number": "FULL00000001", "recipient": {"person_id": srv.fx.person.id}, "kind": "parcel"});
    let r = c.post("/api/v1/items", &full).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["details_pending"], false);
    assert_eq!(r.body["recipient_person_id"], json!(srv.fx.person.id));
    assert_eq!(c.post("/api/v1/items", &full).await.status, 200);
    let both = json!({"recipient": {"person_id": srv.fx.person.id, "department_id": srv.fx.dept.id}});
    c.post("/api/v1/items", &both).await.assert_problem(422, "validation_failed");
    assert_eq!(open_queue(&c).await.len(), 1);
    // Many scan-only intakes at once: every one has its exception, and the chain verifies.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..24 {
        let c = c.clone();
        tasks.spawn(async move { c.post("/api/v1/items", &json!({"tracking_number": format!("BURST{i:08}")})).await });
    }
    while let Some(r) = tasks.join_next().await {
        let r = r.unwrap();
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let page = c.get("/api/v1/exceptions?limit=200").await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 25);
    let (code, out, _) = cli(&["verify", "--db", &srv.db.url]);
    assert_eq!(code, 0, "{out}");
    srv.stop().await;
}

async fn label_text(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let c = srv.client(&srv.token("clerk").await);
    let (wang_wei, wang_fang) = two_wangs(&srv).await;
    // Several people fit: ambiguous, with both as candidates.
    let r = c.post("/api/v1/items", &json!({"tracking_number": "AMBI00000001", "recipient": {"text": "Wang"}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["recipient_name"], "Wang");
    let queue = open_queue(&c).await;
    assert_eq!(queue[0].2, "ambiguous_recipient");
    let x = c.get(&format!("/api/v1/exceptions/{}", queue[0].0)).await;
    assert_eq!(x.body["label_text"], "Wang");
    let mut candidates: Vec<&str> =
        x.body["candidates"].as_array().unwrap().iter().map(|c| c["person_id"].as_str().unwrap()).collect();
    candidates.sort();
    let mut expected = vec![wang_wei.as_str(), wang_fang.as_str()];
    expected.sort();
    assert_eq!(candidates, expected);
    // Nobody fits: unreadable, no candidates.
    let r = c.post("/api/v1/items", &json!({"recipient": {"text": "Nobody Atall"}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let queue = open_queue(&c).await;
    assert_eq!(queue.len(), 2);
    assert_eq!(queue[1].2, "unreadable_recipient");
    let x = c.get(&format!("/api/v1/exceptions/{}", queue[1].0)).await;
    assert_eq!(x.body["candidates"], json!([]));
    // Exactly one fits (or one of several by its full name): the recipient, details still pending.
    for (text, person) in [("wang fang", &wang_fang), ("Zhang Weijie", &srv.fx.person.id.to_string())] {
        let r = c.post("/api/v1/items", &json!({"recipient": {"text": text}})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["recipient_person_id"].as_str(), Some(person.as_str()), "{text}");
        assert_eq!(r.body["details_pending"], true);
    }
    assert_eq!(open_queue(&c).await.len(), 2);
    srv.stop().await;
}

async fn resolving(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let c = srv.client(&srv.token("clerk").await);
    let (wang_wei, _) = two_wangs(&srv).await;
    let r = c.post("/api/v1/items", &json!({"tracking_number": "RES00000001", "recipient": {"text": "Wang"}})).await;
    let item = r.body["id"].as_str().unwrap().to_string();
    c.post("/api/v1/items", &json!({"tracking_number": "RES00000002"})).await;
    let queue = open_queue(&c).await;
    let (first, second) = (queue[0].0.clone(), queue[1].0.clone());
    let resolve = |x: &str| format!("/api/v1/exceptions/{x}/resolve");
    // Choosing a candidate: the item gets its recipient, the exception closes, the log says so.
    let r = c
        .post(
            &resolve(&first),
            &json!({"resolution": "assign_recipient", "recipient": {"person_id": wang_wei}, "note": "asked at reception"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["exception"]["status"], "resolved");
    assert_eq!(r.body["exception"]["resolution"], "assign_recipient");
    assert_eq!(r.body["exception"]["resolution_note"], "asked at reception");
    assert_eq!(r.body["item"]["recipient_person_id"].as_str(), Some(wang_wei.as_str()));
    assert_eq!(r.body["item"]["recipient_name"], "王伟 (Wang Wei)");
    assert_eq!(r.body["item"]["version"], 2);
    let got = c.get(&format!("/api/v1/items/{item}")).await;
    assert_eq!(got.body["recipient_person_id"].as_str(), Some(wang_wei.as_str()));
    let last = events(&c, &item).await.pop().unwrap();
    assert_eq!(last["kind"], "exception_resolved");
    let details: Value = serde_json::from_str(last["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["recipient"], "王伟 (Wang Wei)");
    assert_eq!(details["exception_id"].as_str(), Some(first.as_str()));
    assert_eq!(open_queue(&c).await.len(), 1);
    let resolved = c.get("/api/v1/exceptions?status=resolved").await;
    assert_eq!(resolved.body["items"][0]["id"].as_str(), Some(first.as_str()));
    // Resolving again is a conflict.
    c.post(&resolve(&first), &json!({"resolution": "return_to_sender"})).await.assert_problem(409, "conflict");
    // Return to sender.
    let r = c.post(&resolve(&second), &json!({"resolution": "return_to_sender", "note": "no such person"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["item"]["status"], "returned_to_sender");
    assert!(open_queue(&c).await.is_empty());
    // An item that leaves through its own action takes its exception with it.
    let r = c.post("/api/v1/items", &json!({"tracking_number": "RES00000003"})).await;
    let third = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(open_queue(&c).await.len(), 1);
    let tr = c
        .post(&format!("/api/v1/items/{third}/transitions"), &json!({"action": "forward", "note": "new address"}))
        .await;
    assert_eq!(tr.status, 200, "{}", tr.text);
    assert!(open_queue(&c).await.is_empty());
    let resolved = c.get("/api/v1/exceptions?status=resolved").await;
    let closed = resolved.body["items"].as_array().unwrap().iter().find(|x| x["item_id"] == json!(third)).cloned();
    assert_eq!(closed.unwrap()["resolution"], "item_left");
    c.post(&resolve(&second), &json!({"resolution": "item_left"})).await.assert_problem(422, "validation_failed");
    // The custody chain still verifies.
    let (code, out, _) = cli(&["verify", "--db", &srv.db.url]);
    assert_eq!(code, 0, "{out}");
    srv.stop().await;
}

async fn refused_resolutions_write_nothing(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let c = srv.client(&srv.token("clerk").await);
    c.post("/api/v1/items", &json!({"tracking_number": "BAD00000001"})).await;
    let (x, item, _) = open_queue(&c).await.remove(0);
    let path = format!("/api/v1/exceptions/{x}/resolve");
    let head = srv.app.store.custody_head(srv.fx.tenant.id).await.unwrap();
    let person = srv.fx.person.id;
    for (body, status, code) in [
        (json!({"resolution": "shred_it"}), 422, "validation_failed"),
        (json!({"resolution": "assign_recipient"}), 422, "validation_failed"),
        (json!({"resolution": "assign_recipient", "recipient": {}}), 422, "validation_failed"),
        (
            json!({"resolution": "assign_recipient", "recipient": {"person_id": person, "department_id": srv.fx.dept.id}}),
            422,
            "validation_failed",
        ),
        (
            json!({"resolution": "assign_recipient", "recipient": {"person_id": uuid::Uuid::now_v7()}}),
            422,
            "unknown_recipient",
        ),
        (json!({"resolution": "return_to_sender", "recipient": {"person_id": person}}), 422, "validation_failed"),
        (
            json!({"resolution": "assign_recipient", "recipient": {"person_id": person}, "expected_version": 7}),
            409,
            "conflict",
        ),
        (json!({"resolution": "assign_recipient", "bogus": 1}), 422, "validation_failed"),
        (json!({"resolution": "return_to_sender", "note": "x".repeat(501)}), 422, "validation_failed"),
    ] {
        c.post(&path, &body).await.assert_problem(status, code);
    }
    let random = format!("/api/v1/exceptions/{}/resolve", uuid::Uuid::now_v7());
    c.post(&random, &json!({"resolution": "return_to_sender"})).await.assert_problem(404, "not_found");
    c.post("/api/v1/exceptions/not-an-id/resolve", &json!({"resolution": "return_to_sender"}))
        .await
        .assert_problem(404, "not_found");
    c.get("/api/v1/exceptions?status=sideways").await.assert_problem(422, "validation_failed");
    c.get("/api/v1/exceptions?cursor=zz").await.assert_problem(422, "validation_failed");
    // Nothing was written: the chain, the item and the exception are as they were.
    assert_eq!(srv.app.store.custody_head(srv.fx.tenant.id).await.unwrap(), head);
    let got = c.get(&format!("/api/v1/items/{item}")).await;
    assert_eq!((got.body["version"].as_i64(), got.body["status"].as_str()), (Some(1), Some("received")));
    assert_eq!(c.get(&format!("/api/v1/exceptions/{x}")).await.body["status"], "open");
    // Roles without the permission are refused, and so is an uncleared clerk on a confidential item.
    let employee = srv.client(&srv.token("employee").await);
    employee.get("/api/v1/exceptions").await.assert_problem(403, "forbidden");
    employee.get(&format!("/api/v1/exceptions/{x}")).await.assert_problem(403, "forbidden");
    employee.post(&path, &json!({"resolution": "return_to_sender"})).await.assert_problem(403, "forbidden");
    let auditor = srv.client(&srv.user_with_role("auditor1", Role::Auditor, None).await);
    auditor.get("/api/v1/exceptions").await.assert_problem(403, "forbidden");
    let sealed = c
        .post(
            "/api/v1/items",
            &json!({"tracking_number": "CONF00000001", "confidentiality": "confidential", "seal_number": "BAG-1"}),
        )
        .await;
    assert_eq!(sealed.status, 201, "{}", sealed.text);
    let (cx, _, _) = open_queue(&c).await.pop().unwrap();
    let uncleared = srv.client(&srv.user_with_role("newclerk", Role::Staff, None).await);
    let assign = json!({"resolution": "assign_recipient", "recipient": {"person_id": person}});
    let head = srv.app.store.custody_head(srv.fx.tenant.id).await.unwrap();
    uncleared.post(&format!("/api/v1/exceptions/{cx}/resolve"), &assign).await.assert_problem(403, "forbidden");
    // A confidential item goes back only through its own action, with the seal checked.
    c.post(&format!("/api/v1/exceptions/{cx}/resolve"), &json!({"resolution": "return_to_sender"}))
        .await
        .assert_problem(409, "conflict");
    assert_eq!(srv.app.store.custody_head(srv.fx.tenant.id).await.unwrap(), head);
    // The cleared clerk may assign it.
    let r = c.post(&format!("/api/v1/exceptions/{cx}/resolve"), &assign).await;
    assert_eq!(r.status, 200, "{}", r.text);
    srv.stop().await;
}

async fn enriching_details(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let c = srv.client(&srv.token("clerk").await);
    let r = c.post("/api/v1/items", &json!({"tracking_number": "ENR00000001"})).await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/items/{id}");
    let body = json!({"expected_version": 1, "kind": "document", "category": "invoice", "priority": "high",
                      "sender": {"name": "Acme Ltd", "country": "de"}, "notes": "blue envelope"});
    let r = patch(&c, &path, &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (&r.body["kind"], &r.body["category"], &r.body["priority"], &r.body["sender_name"], &r.body["sender_country"]),
        (&json!("document"), &json!("invoice"), &json!("high"), &json!("Acme Ltd"), &json!("DE"))
    );
    assert_eq!((r.body["details_pending"].as_bool(), r.body["version"].as_i64()), (Some(false), Some(2)));
    let last = events(&c, &id).await.pop().unwrap();
    assert_eq!(last["kind"], "details_updated");
    let details: Value = serde_json::from_str(last["details"].as_str().unwrap()).unwrap();
    assert_eq!(
        details["changed"],
        json!(["kind", "category", "priority", "sender_name", "sender_country", "notes", "details_pending"])
    );
    // The sender's name itself stays out of the log.
    assert!(!last["details"].as_str().unwrap().contains("Acme"));
    // Free-text search finds the new details.
    assert_eq!(c.get("/api/v1/items?q=blue%20envelope").await.body["items"][0]["id"].as_str(), Some(id.as_str()));
    // Stale version: 409, nothing written. Bad values: 422.
    patch(&c, &path, &json!({"expected_version": 1, "notes": "late"})).await.assert_problem(409, "conflict");
    patch(&c, &path, &json!({"expected_version": 2, "kind": "crate"})).await.assert_problem(422, "validation_failed");
    patch(&c, &path, &json!({"notes": "no version"})).await.assert_problem(422, "validation_failed");
    patch(&c, &path, &json!({"expected_version": 2, "sender": {"country": "Germany"}}))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(c.get(&path).await.body["version"], 2);
    // Setting the recipient resolves the open exception in the same transaction.
    let r = patch(&c, &path, &json!({"expected_version": 2, "recipient": {"department_id": srv.fx.dept.id}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["recipient_name"], "财务部 (Finance)");
    assert!(open_queue(&c).await.is_empty());
    let resolved = c.get("/api/v1/exceptions?status=resolved").await;
    assert_eq!(resolved.body["items"][0]["resolution"], "assign_recipient");
    // An empty string clears a text.
    let r = patch(&c, &path, &json!({"expected_version": 3, "notes": ""})).await;
    assert!(r.body["notes"].is_null(), "{}", r.text);
    // Not for those who do not handle items; not for items of no one here.
    let employee = srv.client(&srv.token("employee").await);
    patch(&employee, &path, &json!({"expected_version": 4})).await.assert_problem(403, "forbidden");
    patch(&c, &format!("/api/v1/items/{}", uuid::Uuid::now_v7()), &json!({"expected_version": 1}))
        .await
        .assert_problem(404, "not_found");
    let (code, out, _) = cli(&["verify", "--db", &srv.db.url]);
    assert_eq!(code, 0, "{out}");
    srv.stop().await;
}

async fn queue_pages(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let c = srv.client(&srv.token("clerk").await);
    for i in 0..5 {
        assert_eq!(c.post("/api/v1/items", &json!({"tracking_number": format!("PAGE{i:08}")})).await.status, 201);
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = c.get(&format!("/api/v1/exceptions?limit=2&cursor={cursor}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        seen.extend(
            r.body["items"].as_array().unwrap().iter().map(|x| x["tracking_number"].as_str().unwrap().to_string()),
        );
        match r.body["next_cursor"].as_str() {
            Some(n) => cursor = n.to_string(),
            None => break,
        }
    }
    // Oldest first, each once.
    let expected: Vec<String> = (0..5).map(|i| format!("PAGE{i:08}")).collect();
    assert_eq!(seen, expected);
    srv.stop().await;
}

/// The console: the queue page lists an exception, a candidate button resolves it, the item page
/// shows "details pending" with its form, and the form saves.
async fn console_pages(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let c = srv.client(&srv.token("clerk").await);
    let (wang_wei, _) = two_wangs(&srv).await;
    let r = c.post("/api/v1/items", &json!({"tracking_number": "UI000000001", "recipient": {"text": "Wang"}})).await;
    let item = r.body["id"].as_str().unwrap().to_string();
    let (x, _, _) = open_queue(&c).await.remove(0);
    let ui = srv.browser("acme", "clerk").await;
    let page = ui.get("/ui/exceptions").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("UI000000001") && page.text.contains("Recipient ambiguous"), "{}", page.text);
    assert!(page.text.contains(&format!("value=\"{wang_wei}\"")));
    let detail = ui.get(&format!("/ui/items/{item}")).await;
    assert!(detail.text.contains("data-testid=\"details-pending\""));
    assert!(detail.text.contains("data-testid=\"open-exception\""));
    let done = ui
        .post(
            &format!("/ui/exceptions/{x}/resolve"),
            &[("resolution", "assign_recipient"), ("person_id", &wang_wei), ("version", "1")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.text);
    assert!(done.location.starts_with("/ui/exceptions?done="));
    assert_eq!(
        c.get(&format!("/api/v1/items/{item}")).await.body["recipient_person_id"].as_str(),
        Some(wang_wei.as_str())
    );
    // Resolving it again shows the conflict on the queue page.
    let again = ui.post(&format!("/ui/exceptions/{x}/resolve"), &[("resolution", "return_to_sender")]).await;
    assert_eq!(again.status, 409);
    let saved = ui
        .post(
            &format!("/ui/items/{item}/details"),
            &[("version", "2"), ("kind", "letter"), ("category", "general"), ("priority", "urgent"), ("notes", "x")],
        )
        .await;
    assert_eq!((saved.status, saved.location.as_str()), (303, format!("/ui/items/{item}?saved=1").as_str()));
    let got = c.get(&format!("/api/v1/items/{item}")).await;
    assert_eq!((got.body["kind"].as_str(), got.body["details_pending"].as_bool()), (Some("letter"), Some(false)));
    let stale = ui.post(&format!("/ui/items/{item}/details"), &[("version", "2"), ("kind", "parcel")]).await;
    assert_eq!(stale.status, 409);
    srv.stop().await;
}

/// A registration whose exception cannot be written leaves nothing behind — no item, no custody
/// event — even inside a batch of registrations that succeed (SQLite's group commit runs them in
/// one transaction, each behind its own savepoint).
async fn all_or_nothing(b: Backend) {
    use mailroom_app::store::ItemInsert;
    use mailroom_domain::custody::{Actor, EventDraft};
    use mailroom_domain::ids::{ExceptionId, ItemId};
    let Some(srv) = TestServer::start(b).await else { return };
    let c = srv.client(&srv.token("clerk").await);
    let t = srv.fx.tenant.id;
    let r = c.post("/api/v1/items", &json!({"tracking_number": "ATOM00000001"})).await;
    let first: ItemId = r.body["id"].as_str().unwrap().parse().unwrap();
    let template = srv.app.store.item(t, first).await.unwrap().unwrap();
    let open = srv.app.store.open_exception_of_item(t, first).await.unwrap().unwrap();
    let before = srv.app.store.custody_head(t).await.unwrap().0;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..12 {
        let c = c.clone();
        tasks.spawn(async move {
            c.post("/api/v1/items", &json!({"tracking_number": format!("ATOMOK{i:06}")})).await.status
        });
    }
    // A second open exception for the first item breaks a unique index: the new item must go too.
    let mut item = template.clone();
    item.id = ItemId::new();
    item.reference = "ATOM-FAIL".into();
    item.tracking_number = Some("ATOM00000002".into());
    let broken = mailroom_app::store::ItemException { id: ExceptionId::new(), ..open.clone() };
    let draft = EventDraft { item_id: Some(item.id), kind: "registered".into(), location_id: None, details: json!({}) };
    let failed_id = item.id;
    let ins = ItemInsert { item, idempotency: None, exception: Some(broken) };
    let store = srv.app.store.clone();
    let failing = tokio::spawn(async move { store.register_item(ins, &Actor::system("test", "atom"), draft).await });
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), 201);
    }
    assert!(failing.await.unwrap().is_err(), "the broken registration must fail");
    assert!(srv.app.store.item(t, failed_id).await.unwrap().is_none(), "no item without its exception");
    assert!(c.get("/api/v1/items?tracking=ATOM00000002").await.body["items"].as_array().unwrap().is_empty());
    // Exactly the twelve good registrations were logged, and the chain verifies.
    assert_eq!(srv.app.store.custody_head(t).await.unwrap().0, before + 12);
    assert_eq!(c.get("/api/v1/exceptions?limit=200").await.body["items"].as_array().unwrap().len(), 13);
    let (code, out, _) = cli(&["verify", "--db", &srv.db.url]);
    assert_eq!(code, 0, "{out}");
    srv.stop().await;
}

both_backends!(
    all_or_nothing,
    scan_only_intake,
    label_text,
    resolving,
    refused_resolutions_write_nothing,
    enriching_details,
    queue_pages,
    console_pages
);
