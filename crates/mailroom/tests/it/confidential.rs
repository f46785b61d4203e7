//! Confidential handling end to end: clearance, redaction, seals, secure areas, release in
//! person, recorded views, storage media, and delegation.

use crate::both_backends;
use crate::support::{Backend, Client, PASSWORD, TestServer, png_signature};
use mailroom_domain::auth::Role;
use serde_json::{Value, json};

struct Setup {
    srv: TestServer,
    cleared: Client,
    uncleared: Client,
    employee: Client,
    admin: Client,
}

async fn setup(b: Backend) -> Option<Setup> {
    let srv = TestServer::start(b).await?;
    srv.app.create_user(srv.fx.tenant.id, "newbie", "New clerk", PASSWORD, Role::Staff, None).await.unwrap();
    Some(Setup {
        cleared: srv.client(&srv.token("clerk").await),
        uncleared: srv.client(&srv.token("newbie").await),
        employee: srv.client(&srv.token("employee").await),
        admin: srv.client(&srv.token("admin").await),
        srv,
    })
}

fn confidential(s: &Setup, tracking: &str, level: &str) -> Value {
    json!({
        "tracking_number": tracking, "recipient": {"person_id": s.srv.fx.person.id}, "kind": "document",
        "category": "contract", "confidentiality": level, "seal_number": "bag-0001",
        "sender": {"name": "Baker & Partners", "organisation": "Baker & Partners LLP"}, "notes": "merger draft"
    })
}

async fn act(c: &Client, id: &str, body: Value) -> crate::support::Resp {
    c.post(&format!("/api/v1/items/{id}/transitions"), &body).await
}

async fn clearance_redaction_and_search(b: Backend) {
    let Some(s) = setup(b).await else { return };
    // Registering a confidential item needs its seal number.
    let mut no_seal = confidential(&s, "CONF00000001", "confidential");
    no_seal.as_object_mut().unwrap().remove("seal_number");
    s.uncleared.post("/api/v1/items", &no_seal).await.assert_problem(422, "validation_failed");
    let r = s.uncleared.post("/api/v1/items", &confidential(&s, "CONF00000001", "confidential")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    // Uncleared staff see a redacted entry and cannot handle it.
    let seen = s.uncleared.get(&format!("/api/v1/items/{id}")).await;
    assert_eq!((seen.body["redacted"].as_bool(), seen.body["sender_name"].is_null()), (Some(true), true));
    assert!(seen.body["notes"].is_null() && seen.body["category"] == "general", "{}", seen.text);
    let listed = s.uncleared.get("/api/v1/items").await;
    assert_eq!(listed.body["items"][0]["redacted"], true);
    assert!(!listed.text.contains("Baker"), "{}", listed.text);
    // Search by sender finds it only for those who may read the sender.
    assert_eq!(s.uncleared.get("/api/v1/items?q=baker").await.body["items"].as_array().unwrap().len(), 0);
    assert_eq!(s.cleared.get("/api/v1/items?q=baker").await.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(s.employee.get("/api/v1/me/items?q=baker").await.body["items"].as_array().unwrap().len(), 1);
    // Tracking lookup still works for everyone (the outside of the envelope).
    assert_eq!(s.uncleared.get("/api/v1/items?tracking=CONF00000001").await.body["items"][0]["id"], id.as_str());
    act(&s.uncleared, &id, json!({"action": "store", "location_id": s.srv.fx.secure.id, "seal_number": "BAG-0001"}))
        .await
        .assert_problem(403, "forbidden");
    // The recipient and cleared staff see everything.
    let full = s.cleared.get(&format!("/api/v1/items/{id}")).await;
    assert_eq!(
        (full.body["redacted"].as_bool(), full.body["sender_name"].as_str()),
        (Some(false), Some("Baker & Partners"))
    );
    assert_eq!(s.employee.get(&format!("/api/v1/items/{id}")).await.body["notes"], "merger draft");
    // Granting clearance (admin only) changes that, and is audited.
    let users = s.admin.get("/api/v1/users").await;
    let newbie = users.body["items"].as_array().unwrap().iter().find(|u| u["login"] == "newbie").unwrap()["id"].clone();
    let path = format!("/api/v1/users/{}/clearance", newbie.as_str().unwrap());
    s.cleared.put(&path, &json!({"level": 2})).await.assert_problem(403, "forbidden");
    s.admin.put(&path, &json!({"level": 5})).await.assert_problem(422, "validation_failed");
    assert_eq!(s.admin.put(&path, &json!({"level": 2})).await.body["level"], 2);
    let now = s.uncleared.get(&format!("/api/v1/items/{id}")).await;
    assert_eq!(now.body["redacted"], false);
    s.srv.stop().await;
}

async fn seals_secure_areas_and_views(b: Backend) {
    let Some(s) = setup(b).await else { return };
    let id = s.cleared.post("/api/v1/items", &confidential(&s, "CONF00000002", "confidential")).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let shelf = s.srv.fx.shelf.id;
    let secure = s.srv.fx.secure.id;
    act(&s.cleared, &id, json!({"action": "store", "location_id": secure}))
        .await
        .assert_problem(422, "validation_failed");
    act(&s.cleared, &id, json!({"action": "store", "location_id": shelf, "seal_number": "bag-0001"}))
        .await
        .assert_problem(403, "forbidden");
    // A wrong seal is refused and the attempt recorded.
    act(&s.cleared, &id, json!({"action": "store", "location_id": secure, "seal_number": "BAG-9999"}))
        .await
        .assert_problem(409, "seal_mismatch");
    let r = act(&s.cleared, &id, json!({"action": "store", "location_id": secure, "seal_number": " bag-0001 "})).await;
    assert_eq!(r.body["status"], "stored", "{}", r.text);
    // Opening only in a secure area, with the seal checked; an open item cannot leave.
    act(&s.cleared, &id, json!({"action": "open", "location_id": shelf, "seal_number": "BAG-0001"}))
        .await
        .assert_problem(403, "forbidden");
    let r = act(&s.cleared, &id, json!({"action": "open", "location_id": secure, "seal_number": "BAG-0001"})).await;
    assert_eq!((r.status, r.body["seal_number"].is_null()), (200, true), "{}", r.text);
    act(&s.cleared, &id, json!({"action": "open", "location_id": secure})).await.assert_problem(409, "conflict");
    act(&s.cleared, &id, json!({"action": "ready_for_pickup"})).await;
    act(&s.cleared, &id, json!({"action": "forward", "note": "to branch"})).await.assert_problem(409, "conflict");
    act(&s.cleared, &id, json!({"action": "reseal", "location_id": secure, "new_seal_number": "BAG-0002"}))
        .await
        .assert_problem(422, "validation_failed");
    let r = act(
        &s.cleared,
        &id,
        json!({"action": "reseal", "location_id": secure, "new_seal_number": "bag-0002", "marking": "机密 CONFIDENTIAL"}),
    )
    .await;
    assert_eq!(r.body["seal_number"], "BAG-0002", "{}", r.text);
    // Release only to the recipient in person, with the ID checked and the new seal.
    let sig = png_signature();
    let pick = |person: &Value, id_check: bool, seal: &str| {
        let mut h = json!({"taken_by": "someone", "taken_by_person_id": person});
        if id_check {
            h["id_type"] = json!("staff_card");
            h["id_last_digits"] = json!("1234");
        }
        json!({"action": "pick_up", "handover": h, "signature": {"data": sig}, "seal_number": seal})
    };
    let recipient = json!(s.srv.fx.person.id);
    let other = json!(s.srv.fx.other_person.id);
    act(&s.cleared, &id, pick(&other, true, "BAG-0002")).await.assert_problem(403, "forbidden");
    act(&s.cleared, &id, pick(&recipient, false, "BAG-0002")).await.assert_problem(422, "validation_failed");
    act(&s.cleared, &id, pick(&recipient, true, "BAG-0001")).await.assert_problem(409, "seal_mismatch");
    let r = act(&s.cleared, &id, pick(&recipient, true, "BAG-0002")).await;
    assert_eq!(r.body["status"], "picked_up", "{}", r.text);
    // Every look at the details was recorded (API detail views), and the seal mismatches too.
    s.employee.get(&format!("/api/v1/items/{id}")).await;
    let events = s.cleared.get(&format!("/api/v1/items/{id}/events")).await;
    let kinds: Vec<&str> =
        events.body["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "seal_mismatch").count(), 2, "{kinds:?}");
    for k in ["registered", "store", "open", "reseal", "pick_up", "viewed"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let viewed: Vec<&Value> =
        events.body["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "viewed").collect();
    assert!(
        viewed
            .iter()
            .any(|e| e["actor_name"] == "employee" && e["source"].as_str().is_some_and(|s| s.starts_with("127.0.0.1"))),
        "{viewed:?}"
    );
    // Internal items are not opened under seal, and their views are not recorded.
    let plain = s
        .cleared
        .post(
            "/api/v1/items",
            &json!({"tracking_number": "PLAIN0000001", "recipient": {"person_id": s.srv.fx.person.id}}),
        )
        .await;
    let pid = plain.body["id"].as_str().unwrap();
    act(&s.cleared, pid, json!({"action": "open", "location_id": secure}))
        .await
        .assert_problem(422, "validation_failed");
    s.cleared.get(&format!("/api/v1/items/{pid}")).await;
    let ev = s.cleared.get(&format!("/api/v1/items/{pid}/events")).await;
    assert_eq!(ev.body["items"].as_array().unwrap().len(), 1);
    // Storage media must live in a restricted location.
    let media = s
        .cleared
        .post("/api/v1/items", &json!({"tracking_number": "DISK00000001", "kind": "storage_media", "recipient": {"person_id": s.srv.fx.person.id}}))
        .await;
    let mid = media.body["id"].as_str().unwrap();
    act(&s.cleared, mid, json!({"action": "store", "location_id": shelf})).await.assert_problem(403, "forbidden");
    assert_eq!(act(&s.cleared, mid, json!({"action": "store", "location_id": secure})).await.body["status"], "stored");
    let (code, out, _) = crate::support::cli(&["verify", "--db", &s.srv.db.url]);
    assert_eq!(code, 0, "{out}");
    s.srv.stop().await;
}

async fn delegation_end_to_end(b: Backend) {
    let Some(s) = setup(b).await else { return };
    let fx = &s.srv.fx;
    let colleague = json!(fx.other_person.id);
    let until = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    // Validation.
    s.employee
        .post("/api/v1/delegations", &json!({"delegate_id": fx.person.id, "scope": "all", "valid_until": until}))
        .await
        .assert_problem(422, "validation_failed");
    s.employee
        .post(
            "/api/v1/delegations",
            &json!({"delegate_id": colleague, "scope": "all", "valid_until": "2020-01-01T00:00:00Z"}),
        )
        .await
        .assert_problem(422, "validation_failed");
    let far = (chrono::Utc::now() + chrono::Duration::days(400)).to_rfc3339();
    s.employee
        .post("/api/v1/delegations", &json!({"delegate_id": colleague, "scope": "all", "valid_until": far}))
        .await
        .assert_problem(422, "validation_failed");
    s.employee
        .post("/api/v1/delegations", &json!({"delegate_id": colleague, "scope": "category", "valid_until": until}))
        .await
        .assert_problem(422, "validation_failed");
    // Only administrators grant on someone else's behalf.
    s.cleared
        .post(
            "/api/v1/delegations",
            &json!({"delegate_id": colleague, "grantor_id": fx.person.id, "scope": "all", "valid_until": until}),
        )
        .await
        .assert_problem(403, "forbidden");
    let d = s
        .employee
        .post("/api/v1/delegations", &json!({"delegate_id": colleague, "scope": "all", "valid_until": until}))
        .await;
    assert_eq!(d.status, 201, "{}", d.text);
    let did = d.body["id"].as_str().unwrap().to_string();
    assert_eq!(s.employee.get("/api/v1/delegations").await.body["items"].as_array().unwrap().len(), 1);
    // Items for the grantor: an internal, a confidential and a strictly confidential one.
    let mut ids = Vec::new();
    for (t, level) in
        [("DLG000000001", "internal"), ("DLG000000002", "confidential"), ("DLG000000003", "strictly_confidential")]
    {
        let mut body = confidential(&s, t, level);
        if level == "internal" {
            body.as_object_mut().unwrap().remove("seal_number");
        }
        let id = s.cleared.post("/api/v1/items", &body).await.body["id"].as_str().unwrap().to_string();
        act(&s.cleared, &id, json!({"action": "store", "location_id": fx.secure.id, "seal_number": "BAG-0001"})).await;
        act(&s.cleared, &id, json!({"action": "ready_for_pickup", "seal_number": "BAG-0001"})).await;
        ids.push(id);
    }
    // The delegate sees what they may collect (confidential contents shown, strictly confidential redacted).
    let emily = s
        .srv
        .app
        .create_user(fx.tenant.id, "emily", "Emily", PASSWORD, Role::Employee, Some(fx.other_person.id))
        .await
        .unwrap();
    let _ = emily;
    let delegate = s.srv.client(&s.srv.app.create_token("acme", "emily").await.unwrap());
    let waiting = delegate.get("/api/v1/me/delegated-items").await;
    let listed: Vec<&Value> = waiting.body["items"].as_array().unwrap().iter().collect();
    assert_eq!(listed.len(), 3, "{}", waiting.text);
    assert!(listed.iter().any(|i| i["confidentiality"] == "strictly_confidential" && i["redacted"] == true));
    assert!(listed.iter().any(|i| i["confidentiality"] == "confidential" && i["redacted"] == false));
    let sig = png_signature();
    let by_delegate = |id_check: bool| {
        let mut h = json!({"taken_by": "Emily Carter", "taken_by_person_id": colleague});
        if id_check {
            h["id_type"] = json!("national_id");
            h["id_last_digits"] = json!("0042");
        }
        json!({"action": "pick_up", "handover": h, "signature": {"data": sig}, "seal_number": "BAG-0001"})
    };
    // The delegate's identity is always checked.
    act(&s.cleared, &ids[0], by_delegate(false)).await.assert_problem(422, "validation_failed");
    assert_eq!(act(&s.cleared, &ids[0], by_delegate(true)).await.body["status"], "picked_up");
    assert_eq!(act(&s.cleared, &ids[1], by_delegate(true)).await.body["status"], "picked_up");
    act(&s.cleared, &ids[2], by_delegate(true)).await.assert_problem(403, "forbidden");
    // Both recipient and delegate get the receipt.
    let r1 = s.employee.get(&format!("/api/v1/items/{}/receipt", ids[1])).await;
    let r2 = delegate.get(&format!("/api/v1/items/{}/receipt", ids[1])).await;
    assert_eq!((r1.status, r2.status), (200, 200), "{}", r2.text);
    assert!(r2.body["event"]["details"].as_str().unwrap().contains(&did));
    // Revoked: no more pickups by the delegate; revoking twice conflicts; others cannot revoke.
    let stranger = s.srv.client(&s.srv.token("clerk").await);
    stranger.delete(&format!("/api/v1/delegations/{did}")).await.assert_problem(404, "not_found");
    assert!(s.employee.delete(&format!("/api/v1/delegations/{did}")).await.body["revoked_at"].is_string());
    s.employee.delete(&format!("/api/v1/delegations/{did}")).await.assert_problem(409, "conflict");
    let internal = s
        .cleared
        .post("/api/v1/items", &json!({"tracking_number": "DLG000000004", "recipient": {"person_id": fx.person.id}}))
        .await;
    let iid = internal.body["id"].as_str().unwrap().to_string();
    act(&s.cleared, &iid, json!({"action": "store", "location_id": fx.shelf.id})).await;
    act(&s.cleared, &iid, json!({"action": "ready_for_pickup"})).await;
    assert_eq!(delegate.get("/api/v1/me/delegated-items").await.body["items"].as_array().unwrap().len(), 0);
    let conf = s.cleared.post("/api/v1/items", &confidential(&s, "DLG000000005", "confidential")).await;
    let cid = conf.body["id"].as_str().unwrap().to_string();
    act(&s.cleared, &cid, json!({"action": "store", "location_id": fx.secure.id, "seal_number": "BAG-0001"})).await;
    act(&s.cleared, &cid, json!({"action": "ready_for_pickup", "seal_number": "BAG-0001"})).await;
    act(&s.cleared, &cid, by_delegate(true)).await.assert_problem(403, "forbidden");
    // Grants and revocations are in the custody log.
    let head = s.srv.app.store.custody_events(fx.tenant.id, 0, 1000).await.unwrap();
    assert!(head.iter().any(|e| e.kind == "delegation.granted"));
    assert!(head.iter().any(|e| e.kind == "delegation.revoked"));
    s.srv.stop().await;
}

both_backends!(clearance_redaction_and_search, seals_secure_areas_and_views, delegation_end_to_end);
