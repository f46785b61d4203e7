//! Encryption at rest and retention, on both backends: no plaintext in the database, master keys
//! checked at start, rotation without downtime, crypto-shredding recorded in the custody log.

use crate::both_backends;
use crate::support::{
    Backend, Client, Fixture, PASSWORD, TEST_MASTER_KEY, TestDb, TestServer, cli, cli_env, ctx, open_app,
};
use base64::Engine;
use chrono::{Duration, Utc};
use mailroom_app::App;
use mailroom_app::items::{HandoverInput, RecipientInput, RegisterItemInput, SignatureInput, TransitionInput};
use mailroom_app::vault::{KeySource, MasterKeys};
use mailroom_domain::custody::Actor;
use mailroom_domain::ids::ItemId;
use mailroom_domain::vault::{Keyring, SecretKey, format_key};
use serde_json::json;

/// A PNG signature carrying a unique marker that must never reach the database in clear.
fn canary_png() -> (Vec<u8>, Vec<u8>) {
    let marker = format!("MAILROOM-CANARY-{}", uuid::Uuid::now_v7().simple()).into_bytes();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&marker);
    png.extend_from_slice(&[0u8; 64]);
    (png, marker)
}

fn data_url(png: &[u8]) -> String {
    format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn key(id: &str, byte: u8) -> String {
    format_key(id, &SecretKey::from_bytes([byte; 32]))
}

fn keys(text: &str) -> MasterKeys {
    MasterKeys::given(Keyring::parse(text).unwrap())
}

/// Whether the database holds `needle`: the raw files on SQLite (database and WAL), every row of
/// the tables that could hold it on PostgreSQL (as text, bytea in hex).
async fn db_contains(db: &TestDb, needle: &[u8]) -> bool {
    match db.backend {
        Backend::Sqlite => {
            let path = db.url.trim_start_matches("sqlite://").to_string();
            [path.clone(), format!("{path}-wal")].iter().any(|p| {
                std::fs::read(p).map(|bytes| bytes.windows(needle.len()).any(|w| w == needle)).unwrap_or(false)
            })
        }
        Backend::Postgres => {
            use sqlx::{Connection, Row};
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            let (as_hex, as_text) = (hex(needle), String::from_utf8_lossy(needle).into_owned());
            for table in
                ["attachment", "installation_key", "data_key", "custody_event", "handover", "item", "master_key"]
            {
                let text: String = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT COALESCE(string_agg(t::text, ''), '') FROM {table} t"
                )))
                .fetch_one(&mut c)
                .await
                .unwrap()
                .get(0);
                if text.contains(&as_hex) || text.contains(&as_text) {
                    return true;
                }
            }
            false
        }
    }
}

async fn handed_over(app: &App, fx: &Fixture, category: &str, tracking: &str, png: &[u8]) -> ItemId {
    let input = RegisterItemInput {
        tracking_number: Some(tracking.into()),
        recipient: RecipientInput { person_id: Some(fx.person.id), department_id: None, text: None },
        category: Some(category.into()),
        ..Default::default()
    };
    let item = app.register_item(&fx.staff, &ctx(), &input, None).await.unwrap().item;
    let step = |action: &str| TransitionInput { action: action.into(), ..Default::default() };
    let mut store = step("store");
    store.location_id = Some(fx.shelf.id);
    app.transition(&fx.staff, &ctx(), item.id, &store).await.unwrap();
    app.transition(&fx.staff, &ctx(), item.id, &step("ready_for_pickup")).await.unwrap();
    let mut pick = step("pick_up");
    pick.handover = Some(HandoverInput {
        taken_by: "张伟杰".into(),
        taken_by_person_id: Some(fx.person.id),
        place: None,
        id_type: None,
        id_last_digits: None,
    });
    pick.signature = Some(SignatureInput { data: data_url(png) });
    app.transition(&fx.staff, &ctx(), item.id, &pick).await.unwrap();
    item.id
}

async fn api_handover(srv: &TestServer, c: &Client, category: &str, tracking: &str, png: &[u8]) -> String {
    let person = srv.fx.person.id.to_string();
    let r = c
        .post(
            "/api/v1/items",
            &json!({"tracking_number": tracking, "recipient": {"person_id": person}, "category": category}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/items/{id}/transitions");
    c.post(&path, &json!({"action": "store", "location_id": srv.fx.shelf.id})).await;
    c.post(&path, &json!({"action": "ready_for_pickup"})).await;
    let r = c
        .post(
            &path,
            &json!({"action": "pick_up", "handover": {"taken_by": "张伟杰"}, "signature": {"data": data_url(png)}}),
        )
        .await;
    assert_eq!(r.body["status"], "picked_up", "{}", r.text);
    id
}

async fn signature_bytes(srv: &TestServer, token: &str, id: &str) -> (u16, Vec<u8>) {
    let r = srv.http.get(format!("{}/api/v1/items/{id}/signature", srv.base)).bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

async fn signatures_never_reach_the_database_in_clear(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let token = srv.token("clerk").await;
    let c = srv.client(&token);
    let (png, marker) = canary_png();
    let id = api_handover(&srv, &c, "general", "ENC000000001", &png).await;
    // The API gives the image back exactly.
    assert_eq!(signature_bytes(&srv, &token, &id).await, (200, png.clone()));
    // A second signature of the same category and period shares the period's data key.
    let (png2, _) = canary_png();
    let second = api_handover(&srv, &c, "general", "ENC000000002", &png2).await;
    assert_eq!(signature_bytes(&srv, &token, &second).await, (200, png2));
    assert_eq!(srv.db.scalar("SELECT COUNT(*) FROM data_key").await, 1);
    // The custody log records the SHA-256 of the plain image (the content address).
    let events = c.get(&format!("/api/v1/items/{id}/events")).await;
    let details = events.body["items"].as_array().unwrap().last().unwrap()["details"].as_str().unwrap().to_string();
    use sha2::Digest;
    assert!(details.contains(&hex(&sha2::Sha256::digest(&png))), "{details}");
    // The signing key exists and is wrapped too.
    srv.app.checkpoint_all().await.unwrap();
    let secret = srv.app.signing_key().await.unwrap().to_bytes();
    assert!(!db_contains(&srv.db, &marker).await, "the signature's plaintext is in the database");
    assert!(!db_contains(&srv.db, hex(&secret).as_bytes()).await, "the signing key is in the database in clear");
    assert!(!db_contains(&srv.db, &secret).await);
    assert_eq!(srv.db.scalar("SELECT COUNT(*) FROM attachment WHERE dek_id IS NULL OR nonce IS NULL").await, 0);
    assert_eq!(srv.db.scalar("SELECT COUNT(*) FROM installation_key WHERE master_key_id = 'test-1'").await, 1);
    // Tampering with the stored ciphertext is detected, never served.
    let flip = match b {
        Backend::Sqlite => "UPDATE attachment SET data = zeroblob(length(data))",
        Backend::Postgres => "UPDATE attachment SET data = decode(repeat('00', length(data)), 'hex')",
    };
    srv.db.exec(flip).await.unwrap();
    c.get(&format!("/api/v1/items/{id}/signature")).await.assert_problem(500, "internal_error");
    srv.stop().await;
}

async fn wrong_or_missing_master_keys_are_refused(b: Backend) {
    let Some(db) = TestDb::new(b).await else { return };
    let app = open_app(&db.url).await;
    let fx = Fixture::new(app.clone(), "acme").await;
    let (png, _) = canary_png();
    let id = handed_over(&app, &fx, "general", "KEY000000001", &png).await;
    app.checkpoint_all().await.unwrap();

    // The same id with another key.
    let err = App::open_with(&db.url, Some(keys(&key("test-1", 9)))).await.err().unwrap().to_string();
    assert!(err.contains("\"test-1\"") && err.contains("not the key this database knows"), "{err}");
    // Another key that does not include the one the data is wrapped by.
    let err = App::open_with(&db.url, Some(keys(&key("other", 9)))).await.err().unwrap().to_string();
    assert!(err.contains("\"test-1\"") && err.contains("missing"), "{err}");
    // No key at all: the database opens, but encrypted material cannot be read.
    let bare = App::open_with(&db.url, None).await.unwrap();
    let err = bare.item_signature(&fx.staff, id).await.err().unwrap().to_string();
    assert!(err.contains("no master key is configured"), "{err}");
    // Verification needs no secret.
    assert_eq!(bare.verify_custody().await.unwrap().iter().filter(|v| v.ok()).count(), 1);
    let (code, out, err) = cli_env(&["verify", "--db", &db.url], &[]);
    assert_eq!(code, 0, "{out}{err}");

    // The same through the CLI.
    let (code, _, err) = cli_env(&["keys", "status", "--db", &db.url], &[("MAILROOM_MASTER_KEY", &key("test-1", 9))]);
    assert_ne!(code, 0);
    assert!(err.contains("not the key this database knows"), "{err}");
    let (code, _, err) = cli_env(&["keys", "rotate-master", "--db", &db.url], &[]);
    assert_ne!(code, 0);
    assert!(err.contains("no master key is configured") && err.contains("MAILROOM_MASTER_KEY_FILE"), "{err}");
    let (code, _, err) = cli_env(
        &["keys", "status", "--db", &db.url],
        &[("MAILROOM_MASTER_KEY", TEST_MASTER_KEY), ("MAILROOM_MASTER_KEY_FILE", "/nonexistent")],
    );
    assert_ne!(code, 0);
    assert!(err.contains("only one of"), "{err}");
    let (code, _, err) = cli_env(&["keys", "status", "--db", &db.url], &[("MAILROOM_MASTER_KEY", "test-1:tooshort")]);
    assert_ne!(code, 0);
    assert!(err.contains("not 32 bytes") && !err.contains("tooshort"), "{err}");
    // The server refuses to start without a key (or with a wrong one) rather than serving 500s.
    let (code, _, err) = crate::support::run_with_timeout(&["serve", "--db", &db.url, "--addr", "127.0.0.1:0"], &[]);
    assert_ne!(code, 0);
    assert!(err.contains("no master key is configured") && err.contains("--demo"), "{err}");
    let (code, _, err) = crate::support::run_with_timeout(
        &["serve", "--db", &db.url, "--addr", "127.0.0.1:0"],
        &[("MAILROOM_MASTER_KEY", &key("test-1", 9))],
    );
    assert_ne!(code, 0);
    assert!(err.contains("not the key this database knows"), "{err}");
    let (code, out, err) = cli(&["keys", "status", "--db", &db.url]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("test-1") && out.contains("active") && out.contains("wrapped by master key test-1"), "{out}");
    assert!(
        out.contains("organisation acme: data keys 1 in use") && out.contains("1 encrypted, 0 plain text"),
        "{out}"
    );
    db.cleanup().await;
}

async fn master_key_rotation_rewraps_while_serving(b: Backend) {
    let Some(db) = TestDb::new(b).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("master.keys");
    std::fs::write(&file, format!("{TEST_MASTER_KEY}\n")).unwrap();
    let source = KeySource::File(file.clone());
    let server = App::open_with(
        &db.url,
        Some(MasterKeys { ring: Keyring::parse(TEST_MASTER_KEY).unwrap(), source, warnings: vec![] }),
    )
    .await
    .unwrap();
    let fx = Fixture::new(server.clone(), "acme").await;
    let (png1, _) = canary_png();
    let old = handed_over(&server, &fx, "contract", "ROT000000001", &png1).await;
    server.checkpoint_all().await.unwrap();

    // 1. The new key goes first in the file; the server reloads (SIGHUP) and keeps the old one.
    let new = key("k2", 2);
    std::fs::write(&file, format!("# newest first\n{new}\n{TEST_MASTER_KEY}\n")).unwrap();
    assert_eq!(server.reload_master_keys().await.unwrap(), ["k2", "test-1"]);
    let (png2, _) = canary_png();
    let fresh = handed_over(&server, &fx, "invoice", "ROT000000002", &png2).await;
    assert_eq!(db.scalar("SELECT COUNT(*) FROM data_key WHERE master_key_id = 'k2'").await, 1);

    // 2. The rotation re-wraps everything under k2 while the server keeps reading both.
    let env = [("MAILROOM_MASTER_KEY_FILE", file.to_str().unwrap())];
    let (code, out, err) = cli_env(&["keys", "rotate-master", "--db", &db.url], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("active master key: k2"), "{out}");
    assert!(out.contains("re-wrapped 1 data keys and the custody signing key"), "{out}");
    assert!(out.contains("master key test-1 wraps nothing any more"), "{out}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM data_key WHERE master_key_id = 'test-1'").await, 0);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM installation_key WHERE master_key_id = 'k2'").await, 1);
    assert_eq!(server.item_signature(&fx.staff, old).await.unwrap().data, png1);
    assert_eq!(server.item_signature(&fx.staff, fresh).await.unwrap().data, png2);
    let (code, out, _) = cli_env(&["keys", "status", "--db", &db.url], &env);
    assert_eq!(code, 0);
    assert!(out.contains("wraps nothing: can be removed"), "{out}");
    // Running it again changes nothing.
    let (_, out, _) = cli_env(&["keys", "rotate-master", "--db", &db.url], &env);
    assert!(out.contains("re-wrapped 0 data keys\n"), "{out}");

    // 3. The old key is retired: the file holds only k2. A bad edit is refused and the server
    // keeps its keys.
    std::fs::write(&file, format!("{}\n", key("k2", 3))).unwrap();
    assert!(server.reload_master_keys().await.is_err());
    assert_eq!(server.item_signature(&fx.staff, old).await.unwrap().data, png1);
    std::fs::write(&file, format!("{new}\n")).unwrap();
    assert_eq!(server.reload_master_keys().await.unwrap(), ["k2"]);
    assert_eq!(server.item_signature(&fx.staff, old).await.unwrap().data, png1);
    let only_new = App::open_with(&db.url, Some(keys(&new))).await.unwrap();
    assert_eq!(only_new.item_signature(&fx.staff, fresh).await.unwrap().data, png2);
    assert_eq!(
        only_new.signing_key().await.unwrap().to_bytes(),
        server.signing_key().await.unwrap().to_bytes(),
        "the signing key survived the rotation"
    );
    // The retired key alone no longer opens anything.
    let err = App::open_with(&db.url, Some(keys(TEST_MASTER_KEY))).await.err().unwrap().to_string();
    assert!(err.contains("\"k2\""), "{err}");
    // Data-key rotation: new material gets a new key, old material stays readable.
    let (code, out, _) = cli_env(&["keys", "rotate-data", "--tenant", "acme", "--db", &db.url], &env);
    assert_eq!((code, out.trim()), (0, "retired 2 data keys; new attachments get new keys"));
    let (png3, _) = canary_png();
    let third = handed_over(&only_new, &fx, "contract", "ROT000000003", &png3).await;
    assert_eq!(db.scalar("SELECT COUNT(*) FROM data_key WHERE category = 'contract'").await, 2);
    assert_eq!(only_new.item_signature(&fx.staff, old).await.unwrap().data, png1);
    assert_eq!(only_new.item_signature(&fx.staff, third).await.unwrap().data, png3);
    let (code, out, _) = cli_env(&["verify", "--db", &db.url], &env);
    assert_eq!(code, 0, "{out}");
    db.cleanup().await;
}

async fn retention_shreds_expired_material(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk_token = srv.token("clerk").await;
    let clerk = srv.client(&clerk_token);
    // Policies: admins only, validated.
    clerk.get("/api/v1/retention").await.assert_problem(403, "forbidden");
    clerk.put("/api/v1/retention", &json!({"policies": []})).await.assert_problem(403, "forbidden");
    let bad = admin.put("/api/v1/retention", &json!({"policies": [{"category": "x-rays", "days": 30}]})).await;
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.body["field"], "policies[0].category");
    admin
        .put("/api/v1/retention", &json!({"policies": [{"category": "patient_report", "days": 0}]}))
        .await
        .assert_problem(422, "validation_failed");
    admin
        .put(
            "/api/v1/retention",
            &json!({"policies": [{"category": "legal", "days": 9}, {"category": "legal", "days": 10}]}),
        )
        .await
        .assert_problem(422, "validation_failed");
    let set = admin.put("/api/v1/retention", &json!({"policies": [{"category": "patient_report", "days": 30}]})).await;
    assert_eq!(set.status, 200, "{}", set.text);
    let got = admin.get("/api/v1/retention").await;
    assert_eq!(got.body["policies"][0]["category"], "patient_report");
    assert_eq!(got.body["policies"][0]["days"], 30);

    let (report_png, _) = canary_png();
    let report = api_handover(&srv, &clerk, "patient_report", "RET000000001", &report_png).await;
    let (general_png, _) = canary_png();
    let general = api_handover(&srv, &clerk, "general", "RET000000002", &general_png).await;

    // Nothing has expired yet.
    let actor = Actor::system("test", "retention-test");
    assert!(srv.app.run_retention(Utc::now(), false, &actor).await.unwrap().is_empty());
    // 31 days after the day the report was signed for, a dry run reports it and changes nothing.
    let later = Utc::now() + Duration::days(32);
    let dry = srv.app.run_retention(later, true, &actor).await.unwrap();
    assert_eq!(dry.len(), 1);
    assert_eq!((dry[0].category.as_str(), dry[0].attachments), ("patient_report", 1));
    assert_eq!(signature_bytes(&srv, &clerk_token, &report).await, (200, report_png.clone()));
    // The real run shreds exactly that key, once.
    let done = srv.app.run_retention(later, false, &actor).await.unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].attachments, 1);
    assert!(srv.app.run_retention(later, false, &actor).await.unwrap().is_empty());

    // Reading it answers 410 with a stable code; the general item's signature is untouched.
    let gone = clerk.get(&format!("/api/v1/items/{report}/signature")).await;
    gone.assert_problem(410, "shredded");
    assert!(gone.body["detail"].as_str().unwrap().contains("retention policy"), "{}", gone.text);
    assert_eq!(signature_bytes(&srv, &clerk_token, &general).await, (200, general_png));
    // The handover record itself stays, and the console says what happened.
    assert_eq!(clerk.get(&format!("/api/v1/items/{report}/handover")).await.status, 200);
    let (session, _) = srv.app.login("acme", "clerk", PASSWORD, "en").await.unwrap();
    let page = srv
        .http
        .get(format!("{}/ui/items/{report}", srv.base))
        .header("cookie", format!("mr_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("signature-shredded") && page.contains("retention policy"), "{page}");
    // The key and the ciphertext are gone from the database.
    assert_eq!(
        srv.db.scalar("SELECT COUNT(*) FROM data_key WHERE shredded_at IS NOT NULL AND wrapped IS NULL").await,
        1
    );
    assert_eq!(srv.db.scalar("SELECT COUNT(*) FROM attachment WHERE length(data) = 0").await, 1);

    // The custody log records the policy and the shredding; the chain still verifies.
    let events = srv.app.store.custody_events(srv.fx.tenant.id, 0, 1000).await.unwrap();
    let policy = events.iter().find(|e| e.kind == "retention.policy").unwrap();
    assert!(policy.details.contains("\"patient_report\":30"), "{}", policy.details);
    assert_eq!(policy.actor_name, "admin");
    let shred = events.iter().find(|e| e.kind == "retention.shredded").unwrap();
    for part in ["\"attachments\":1", "\"category\":\"patient_report\"", "\"retention_days\":30", "\"period\":\""] {
        assert!(shred.details.contains(part), "{part} not in {}", shred.details);
    }
    assert_eq!(events.iter().filter(|e| e.kind == "retention.shredded").count(), 1);
    let (code, out, _) = cli(&["verify", "--db", &srv.db.url]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("chain intact"), "{out}");
    // New patient reports are still signed for and readable (under a new key).
    let (next_png, _) = canary_png();
    let next = api_handover(&srv, &clerk, "patient_report", "RET000000003", &next_png).await;
    assert_eq!(signature_bytes(&srv, &clerk_token, &next).await, (200, next_png));
    srv.stop().await;
}

async fn retention_from_the_cli(b: Backend) {
    let Some(db) = TestDb::new(b).await else { return };
    let app = open_app(&db.url).await;
    let fx = Fixture::new(app.clone(), "acme").await;
    let (png, _) = canary_png();
    let id = handed_over(&app, &fx, "complaint", "CLI000000001", &png).await;
    let (code, _, err) =
        cli(&["retention", "set", "--tenant", "acme", "--category", "complaints", "--days", "5", "--db", &db.url]);
    assert_ne!(code, 0);
    assert!(err.contains("category"), "{err}");
    let (code, _, err) =
        cli(&["retention", "set", "--tenant", "acme", "--category", "complaint", "--days", "0", "--db", &db.url]);
    assert_ne!(code, 0);
    assert!(err.contains("between 1 and"), "{err}");
    let (code, out, err) =
        cli(&["retention", "set", "--tenant", "acme", "--category", "complaint", "--days", "400", "--db", &db.url]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("complaint attachments are destroyed 400 days"), "{out}");
    let (_, out, _) = cli(&["retention", "list", "--db", &db.url]);
    assert_eq!(out.trim(), "acme\tcomplaint\t400 days");
    let (code, out, _) = cli(&["retention", "run", "--dry-run", "--db", &db.url]);
    assert_eq!((code, out.trim()), (0, "0 data keys would shred"));
    // The material is from long ago: its period ended in 2000.
    db.exec("UPDATE data_key SET period_start = '2000-01-01T00:00:00+00:00', period_end = '2000-02-01T00:00:00+00:00'")
        .await
        .unwrap();
    let (code, out, err) = cli(&["retention", "run", "--db", &db.url]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("shredded acme complaint 2000-01 (400 days): 1 attachments"), "{out}");
    assert_eq!(app.item_signature(&fx.staff, id).await.err().map(|e| e.code().as_str()), Some("shredded"));
    let events = app.store.custody_events(fx.tenant.id, 0, 1000).await.unwrap();
    let shred = events.iter().find(|e| e.kind == "retention.shredded").unwrap();
    assert_eq!(shred.actor_name, "cli");
    assert!(shred.details.contains("\"period\":\"2000-01\""), "{}", shred.details);
    let (code, out, _) = cli(&["retention", "unset", "--tenant", "acme", "--category", "complaint", "--db", &db.url]);
    assert_eq!(code, 0);
    assert!(out.contains("kept indefinitely"), "{out}");
    let (_, out, _) = cli(&["retention", "list", "--db", &db.url]);
    assert_eq!(out.trim(), "");
    let (code, out, _) = cli(&["verify", "--db", &db.url]);
    assert_eq!(code, 0, "{out}");
    db.cleanup().await;
}

/// A database from before encryption at rest: plain-text attachments and signing key are
/// encrypted by the server (or by `keys rotate-master`) and stay readable.
async fn plain_text_from_before_is_encrypted(b: Backend) {
    let Some(db) = TestDb::new(b).await else { return };
    let app = open_app(&db.url).await;
    let fx = Fixture::new(app.clone(), "acme").await;
    let (png, marker) = canary_png();
    let id = handed_over(&app, &fx, "legal", "OLD000000001", &png).await;
    app.checkpoint_all().await.unwrap();
    let secret = hex(&app.signing_key().await.unwrap().to_bytes());
    // Turn the rows back into what an older version wrote.
    let blob = match b {
        Backend::Sqlite => format!("X'{}'", hex(&png)),
        Backend::Postgres => format!("decode('{}', 'hex')", hex(&png)),
    };
    db.exec(&format!("UPDATE attachment SET data = {blob}, dek_id = NULL, nonce = NULL")).await.unwrap();
    db.exec(&format!("UPDATE installation_key SET secret = '{secret}', master_key_id = NULL")).await.unwrap();
    db.exec("DELETE FROM data_key").await.unwrap();
    let (_, out, _) = cli(&["keys", "status", "--db", &db.url]);
    assert!(out.contains("0 encrypted, 1 plain text") && out.contains("stored in plain text"), "{out}");
    // Plain rows are still served while they wait.
    let reopened = open_app(&db.url).await;
    assert_eq!(reopened.item_signature(&fx.staff, id).await.unwrap().data, png);
    let r = reopened.seal_legacy().await.unwrap();
    assert_eq!((r.attachments_sealed, r.signing_key_wrapped), (1, true));
    assert_eq!(reopened.seal_legacy().await.unwrap().attachments_sealed, 0);
    assert_eq!(reopened.item_signature(&fx.staff, id).await.unwrap().data, png);
    assert_eq!(hex(&reopened.signing_key().await.unwrap().to_bytes()), secret);
    let (_, out, _) = cli(&["keys", "status", "--db", &db.url]);
    assert!(out.contains("1 encrypted, 0 plain text") && out.contains("wrapped by master key test-1"), "{out}");
    if b == Backend::Sqlite {
        // Old page versions leave the WAL at a checkpoint; secure_delete zeroes freed space.
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
        assert!(!db_contains(&db, &marker).await, "plaintext left behind");
        assert!(!db_contains(&db, secret.as_bytes()).await, "plain signing key left behind");
    }
    db.cleanup().await;
}

both_backends!(
    signatures_never_reach_the_database_in_clear,
    wrong_or_missing_master_keys_are_refused,
    master_key_rotation_rewraps_while_serving,
    retention_shreds_expired_material,
    retention_from_the_cli,
    plain_text_from_before_is_encrypted,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_key_file_and_generated_keys() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let created = MasterKeys::create_local(&url).unwrap();
    let path = dir.path().join("demo.db.master-key");
    assert_eq!(created.source, KeySource::Local(path.clone()));
    assert!(created.warnings[0].contains("demonstrations only"), "{:?}", created.warnings);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // The second start uses the same key.
    let again = MasterKeys::create_local(&url).unwrap();
    assert_eq!(again.ring.active().key, created.ring.active().key);
    // CLI commands find it next to the database, and say so.
    let app = App::open_with(&url, Some(created)).await.unwrap();
    Fixture::new(app, "acme").await;
    let (code, out, err) = cli_env(&["keys", "status", "--db", &url], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("WARNING") && err.contains("demo.db.master-key"), "{err}");
    assert!(out.contains("local key file"), "{out}");
    // PostgreSQL has no "next to the database".
    assert!(MasterKeys::create_local("postgres://u@h/db").is_err());
    // Generated keys parse, carry an id, and differ.
    let (code, one, _) = cli_env(&["keys", "generate"], &[]);
    assert_eq!(code, 0);
    let (_, two, _) = cli_env(&["keys", "generate", "--id", "2027-a"], &[]);
    let ring = Keyring::parse(&format!("{two}{one}")).unwrap();
    assert_eq!(ring.active().id, "2027-a");
    assert!(ring.keys()[1].id.starts_with("mk-"));
    let (code, _, err) = cli_env(&["keys", "generate", "--id", "no spaces"], &[]);
    assert_ne!(code, 0);
    assert!(err.contains("key id"), "{err}");
}

/// `kill -HUP` makes a running server re-read its key file.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_key_file() {
    use std::io::BufRead;
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let token = {
        let app = open_app(&db.url).await;
        Fixture::new(app.clone(), "acme").await;
        app.create_token("acme", "clerk").await.unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("master.keys");
    std::fs::write(&file, format!("{TEST_MASTER_KEY}\n")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = std::process::Command::new(crate::support::bin())
        .args(["serve", "--db", &db.url, "--addr", &format!("127.0.0.1:{port}")])
        .env("MAILROOM_LOG", "info")
        .env("MAILROOM_MASTER_KEY_FILE", &file)
        .env_remove("MAILROOM_MASTER_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let http = reqwest::Client::new();
    for _ in 0..400 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    std::fs::write(&file, format!("{}\n{TEST_MASTER_KEY}\n", key("k2", 2))).unwrap();
    let hup = std::process::Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap();
    assert!(hup.success());
    let reloaded = (0..200).any(|_| {
        rx.recv_timeout(std::time::Duration::from_millis(50)).is_ok_and(|l| l.contains("master keys reloaded"))
    });
    let c = Client { http: reqwest::Client::new(), base: base.clone(), token: Some(token) };
    let srv_person: String = {
        let r = c.get("/api/v1/people?q=E1").await;
        r.body["items"][0]["id"].as_str().unwrap().to_string()
    };
    let r = c
        .post("/api/v1/items", &json!({"tracking_number": "HUP000000001", "recipient": {"person_id": srv_person}}))
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/items/{id}/transitions");
    let shelf = c.get("/api/v1/locations").await.body["items"][0]["id"].as_str().unwrap().to_string();
    c.post(&path, &json!({"action": "store", "location_id": shelf})).await;
    c.post(&path, &json!({"action": "ready_for_pickup"})).await;
    let (png, _) = canary_png();
    let done = c
        .post(
            &path,
            &json!({"action": "pick_up", "handover": {"taken_by": "x"}, "signature": {"data": data_url(&png)}}),
        )
        .await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(reloaded, "no reload logged");
    assert_eq!(done.body["status"], "picked_up", "{}", done.text);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM data_key WHERE master_key_id = 'k2'").await, 1);
    db.cleanup().await;
}
