//! Verifiable custody: signed checkpoints, handover receipts verified offline, and tampering that
//! the chain alone would miss.

use crate::both_backends;
use crate::support::{Backend, TestServer, cli, png_signature};
use serde_json::json;

async fn handed_over_item(srv: &TestServer) -> (crate::support::Client, String) {
    let c = srv.client(&srv.token("clerk").await);
    let person = srv.fx.person.id.to_string();
    let item =
        c.post("/api/v1/items", &json!({"tracking_number": "RCPT00000001", "recipient": {"person_id": person}})).await;
    let id = item.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/items/{id}/transitions");
    c.post(&path, &json!({"action": "store", "location_id": srv.fx.shelf.id})).await;
    c.post(&path, &json!({"action": "ready_for_pickup"})).await;
    let r = c
        .post(
            &path,
            &json!({"action": "pick_up", "handover": {"taken_by": "张伟杰", "id_type": "staff_card", "id_last_digits": "77"},
                    "signature": {"data": png_signature()}}),
        )
        .await;
    assert_eq!(r.body["status"], "picked_up", "{}", r.text);
    (c, id)
}

async fn receipts_verify_offline_and_fail_when_edited(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let (c, id) = handed_over_item(&srv).await;
    // No receipt before a handover.
    let other = c
        .post(
            "/api/v1/items",
            &json!({"tracking_number": "RCPT00000002", "recipient": {"person_id": srv.fx.person.id}}),
        )
        .await;
    c.get(&format!("/api/v1/items/{}/receipt", other.body["id"].as_str().unwrap()))
        .await
        .assert_problem(404, "not_found");
    let r = c.get(&format!("/api/v1/items/{id}/receipt")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["event"]["kind"], "pick_up");
    // The recipient may fetch their own receipt too.
    let emp = srv.client(&srv.token("employee").await);
    assert_eq!(emp.get(&format!("/api/v1/items/{id}/receipt")).await.text, r.text);
    let key = c.get("/api/v1/custody/public-key").await.body["public_key"].as_str().unwrap().to_string();
    let (code, out, _) = cli(&["custody", "public-key", "--db", &srv.db.url]);
    assert_eq!((code, out.trim()), (0, key.as_str()));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("receipt.json");
    std::fs::write(&file, &r.text).unwrap();
    let (code, out, err) = cli(&["verify-receipt", file.to_str().unwrap(), "--public-key", &key]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("valid: event #"), "{out}");
    // Any change of content fails: the actor, the signature, a proof hash, whitespace.
    for (from, to) in [
        ("\"clerk\"", "\"admin\""),
        ("\"signature\":\"", "\"signature\":\"0"),
        ("\"proof\":[\"", "\"proof\":[\"f"),
        (",", ", "),
    ] {
        let edited = r.text.replacen(from, to, 1);
        assert_ne!(edited, r.text, "{from}");
        std::fs::write(&file, &edited).unwrap();
        let (code, out, _) = cli(&["verify-receipt", file.to_str().unwrap(), "--public-key", &key]);
        assert_eq!(code, 1, "edit {from} → {to} not detected: {out}");
        assert!(out.starts_with("INVALID"), "{out}");
    }
    // The right receipt against another key fails.
    std::fs::write(&file, &r.text).unwrap();
    let wrong = "11".repeat(32);
    let (code, _, _) = cli(&[
        "verify-receipt",
        file.to_str().unwrap(),
        "--public-key",
        "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29",
    ]);
    assert_eq!(code, 1);
    let (code, _, err) = cli(&["verify-receipt", file.to_str().unwrap(), "--public-key", &wrong[..10]]);
    assert_ne!(code, 0, "{err}");
    srv.stop().await;
}

async fn checkpoints_catch_a_rewritten_tail(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let (_c, _id) = handed_over_item(&srv).await;
    assert_eq!(srv.app.checkpoint_all().await.unwrap(), 1);
    assert_eq!(srv.app.checkpoint_all().await.unwrap(), 0, "no new events, no new checkpoint");
    let (code, out, _) = cli(&["verify", "--db", &srv.db.url]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 signed checkpoints"), "{out}");
    // Checkpoints are append-only in the database.
    assert!(srv.db.exec("UPDATE custody_checkpoint SET root = 'x'").await.is_err());
    // An attacker drops the last event and rewinds the chain head to match: the chain alone is
    // consistent again, but the signed checkpoint still covers the dropped event.
    let (disable, t) = match b {
        Backend::Sqlite => ("DROP TRIGGER custody_event_no_delete", format!("X'{}'", srv.fx.tenant.id.0.simple())),
        Backend::Postgres => ("ALTER TABLE custody_event DISABLE TRIGGER USER", format!("'{}'", srv.fx.tenant.id)),
    };
    let last = srv.app.store.custody_head(srv.fx.tenant.id).await.unwrap().0;
    srv.db.exec(disable).await.unwrap();
    srv.db.exec(&format!("DELETE FROM custody_event WHERE tenant_id = {t} AND seq = {last}")).await.unwrap();
    srv.db
        .exec(&format!(
            "UPDATE custody_head SET seq = {prev}, hash = (SELECT hash FROM custody_event WHERE tenant_id = {t} AND seq = {prev}) WHERE tenant_id = {t}",
            prev = last - 1
        ))
        .await
        .unwrap();
    let verdicts = srv.app.verify_custody().await.unwrap();
    let v = verdicts.iter().find(|v| v.tenant == "acme").unwrap();
    assert!(v.broken.is_none(), "the chain itself looks intact");
    assert_eq!(v.bad_checkpoints.len(), 1, "{v:?}");
    let (code, out, _) = cli(&["verify", "--db", &srv.db.url]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("checkpoint of {last} events")), "{out}");
    srv.stop().await;
}

/// Every column of a custody row, edited on its own, directly in the database; and every column of
/// a signed checkpoint. Each edit must be reported by `verify`; after restoring, all is well again.
async fn every_single_column_edit_is_detected(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let (_c, _id) = handed_over_item(&srv).await;
    srv.app.checkpoint_all().await.unwrap();
    let other = srv.app.create_tenant("other", "Other").await.unwrap();
    let (t, other_t, uuid_expr, disable, enable) = match b {
        Backend::Sqlite => (
            format!("X'{}'", srv.fx.tenant.id.0.simple()),
            format!("X'{}'", other.id.0.simple()),
            "randomblob(16)",
            "DROP TRIGGER custody_event_no_update; DROP TRIGGER custody_event_no_delete; \
             DROP TRIGGER custody_checkpoint_no_update; DROP TRIGGER custody_checkpoint_no_delete;",
            "CREATE TRIGGER custody_event_no_update BEFORE UPDATE ON custody_event BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END; \
             CREATE TRIGGER custody_event_no_delete BEFORE DELETE ON custody_event BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END; \
             CREATE TRIGGER custody_checkpoint_no_update BEFORE UPDATE ON custody_checkpoint BEGIN SELECT RAISE(ABORT, 'custody checkpoints are append-only'); END; \
             CREATE TRIGGER custody_checkpoint_no_delete BEFORE DELETE ON custody_checkpoint BEGIN SELECT RAISE(ABORT, 'custody checkpoints are append-only'); END;",
        ),
        Backend::Postgres => (
            format!("'{}'", srv.fx.tenant.id),
            format!("'{}'", other.id),
            "gen_random_uuid()",
            "ALTER TABLE custody_event DISABLE TRIGGER USER; ALTER TABLE custody_checkpoint DISABLE TRIGGER USER;",
            "ALTER TABLE custody_event ENABLE TRIGGER USER; ALTER TABLE custody_checkpoint ENABLE TRIGGER USER;",
        ),
    };
    let at_edit = match b {
        Backend::Sqlite => "at = '2020-01-01T00:00:00.000001+00:00'",
        Backend::Postgres => "at = at + interval '1 microsecond'",
    };
    let event_edits = [
        format!("id = {uuid_expr}"),
        format!("tenant_id = {other_t}"),
        "seq = seq + 1000".to_string(),
        format!("item_id = {uuid_expr}"),
        "kind = kind || 'x'".to_string(),
        format!("actor_id = {uuid_expr}"),
        "actor_name = actor_name || 'x'".to_string(),
        "source = source || 'x'".to_string(),
        "request_id = request_id || 'x'".to_string(),
        format!("location_id = {uuid_expr}"),
        at_edit.to_string(),
        "details = details || ' '".to_string(),
        "prev_hash = hash".to_string(),
        "hash = prev_hash".to_string(),
    ];
    let checkpoint_edits = [
        "tree_size = tree_size - 1",
        "root = head_hash",
        "head_hash = root",
        "key_id = 'ffffffffffffffff'",
        "signature = substr(signature, 1, 127) || CASE WHEN substr(signature, 128, 1) = '0' THEN '1' ELSE '0' END",
    ];
    let ok = |srv: &TestServer| {
        let app = srv.app.clone();
        async move { app.verify_custody().await.unwrap().iter().all(|v| v.ok()) }
    };
    assert!(ok(&srv).await);
    srv.db.exec(disable).await.unwrap();
    for seq in [1, 3] {
        for edit in &event_edits {
            srv.db.exec("CREATE TABLE ev_backup AS SELECT * FROM custody_event").await.unwrap();
            srv.db
                .exec(&format!("UPDATE custody_event SET {edit} WHERE tenant_id = {t} AND seq = {seq}"))
                .await
                .unwrap();
            let verdicts = srv.app.verify_custody().await.unwrap();
            let acme = verdicts.iter().find(|v| v.tenant == "acme").unwrap();
            assert!(!acme.ok(), "edit of event #{seq} not detected: {edit}");
            srv.db.exec("DELETE FROM custody_event").await.unwrap();
            srv.db.exec("INSERT INTO custody_event SELECT * FROM ev_backup").await.unwrap();
            srv.db.exec("DROP TABLE ev_backup").await.unwrap();
            assert!(ok(&srv).await, "restore after {edit}");
        }
    }
    for edit in checkpoint_edits {
        srv.db.exec("CREATE TABLE cp_backup AS SELECT * FROM custody_checkpoint").await.unwrap();
        srv.db.exec(&format!("UPDATE custody_checkpoint SET {edit} WHERE tenant_id = {t}")).await.unwrap();
        let verdicts = srv.app.verify_custody().await.unwrap();
        assert!(!verdicts.iter().find(|v| v.tenant == "acme").unwrap().ok(), "checkpoint edit not detected: {edit}");
        srv.db.exec("DELETE FROM custody_checkpoint").await.unwrap();
        srv.db.exec("INSERT INTO custody_checkpoint SELECT * FROM cp_backup").await.unwrap();
        srv.db.exec("DROP TABLE cp_backup").await.unwrap();
        assert!(ok(&srv).await, "restore after {edit}");
    }
    srv.db.exec(enable).await.unwrap();
    assert!(srv.db.exec(&format!("UPDATE custody_event SET kind = 'x' WHERE tenant_id = {t}")).await.is_err());
    srv.stop().await;
}

both_backends!(
    receipts_verify_offline_and_fail_when_edited,
    checkpoints_catch_a_rewritten_tail,
    every_single_column_edit_is_detected
);
