//! Notices end to end: through a real SMTP server process and a real HTTP receiver, with the
//! dispatcher and a job runner running in the server; crash safety with the real binary; two
//! server processes sharing one queue.

use crate::support::{Backend, Receiver, ServerOptions, SmtpSink, TestServer, mail_part};
use mailroom_app::notify::NotifyConfig;
use serde_json::json;
use std::time::Duration;

const FROM: &str = "收发室 Mailroom <mailroom@example.cn>";

fn config(smtp_url: &str) -> NotifyConfig {
    NotifyConfig {
        smtp: Some(mailroom_notify::SmtpConfig::parse(smtp_url, FROM).unwrap()),
        public_url: Some("https://mail.example.cn".into()),
        arrival_burst: 40,
        arrival_per_minute: 600,
    }
}

fn loopback_allowed() -> mailroom_app::security::SecurityPolicy {
    mailroom_app::security::SecurityPolicy {
        outbound: mailroom_app::outbound::OutboundPolicy::parse("127.0.0.1").unwrap(),
        ..Default::default()
    }
}

/// An arrival notice reaches the recipient's mailbox within seconds of intake, in Chinese by
/// default, naming the reference code and a pickup code, with the QR code inline; the item's
/// notification log shows it.
async fn arrival_notice_by_email(b: Backend) {
    let Some(sink) = SmtpSink::start() else { return };
    let opts = ServerOptions { notify: Some(config(&sink.url())), ..Default::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let clerk = srv.client(&srv.token("clerk").await);
    let r = clerk
        .post(
            "/api/v1/items",
            &json!({
                "tracking_number": "SF1234567890123",
                "recipient": {"person_id": srv.fx.person.id},
                "sender": {"name": "王芳", "organisation": "上海申通律师事务所"},
                "category": "contract",
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let reference = r.body["reference"].as_str().unwrap().to_string();
    let item_id: mailroom_domain::ids::ItemId = r.body["id"].as_str().unwrap().parse().unwrap();
    let mails = sink.wait_for(1, 30).await;
    assert_eq!(mails.len(), 1, "exactly one notice");
    let m = &mails[0];
    assert_eq!(m["rcpt_tos"], json!(["wj@example.cn"]));
    let subject = m["subject"].as_str().unwrap();
    assert!(subject.contains(&reference), "{subject}");
    assert_eq!(m["content_language"], "zh-CN");
    let text = mail_part(m, "text/plain");
    let code = srv.app.store.existing_pickup_code(srv.fx.tenant.id, item_id).await.unwrap().expect("pickup code");
    assert_eq!(code.len(), 6);
    assert!(text.contains(&reference) && text.contains(&code), "{text}");
    assert!(text.contains("张伟杰"), "addressed by name: {text}");
    assert!(text.contains("顺丰速运"), "the carrier by its Chinese name, recognised from the number: {text}");
    let html = mail_part(m, "text/html");
    assert!(html.contains("cid:"), "the QR code is shown inline: {html}");
    let png = m["parts"].as_array().unwrap().iter().find(|p| p["content_type"] == "image/png").expect("QR code");
    assert!(png["size"].as_u64().unwrap() > 100);
    // The Message-ID is the notice's idempotency key, hashed: a resend after a crash repeats it.
    let key = format!("arrival:{}:{}:email", item_id.0, srv.fx.person.id.0);
    let cfg = mailroom_notify::SmtpConfig::parse(&sink.url(), FROM).unwrap();
    assert_eq!(m["message_id"].as_str().unwrap(), cfg.message_id(&key));
    // The log, on the item.
    let log = clerk.get(&format!("/api/v1/items/{item_id}/notifications")).await;
    assert_eq!(log.status, 200, "{}", log.text);
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", log.text);
    assert_eq!(items[0]["kind"], "arrival");
    assert_eq!(items[0]["channel"], "email");
    assert_eq!(items[0]["status"], "sent");
    assert_eq!(items[0]["target"], "wj***@example.cn");
    // At the counter, the notice's QR code finds the item, if its pickup code is right.
    let qr = mailroom_app::notify::pickup_qr_text(&reference, &code);
    let found = clerk.get(&format!("/api/v1/items?tracking={}", crate::support::enc(&qr))).await;
    assert_eq!(found.status, 200, "{}", found.text);
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1, "{}", found.text);
    let wrong = mailroom_app::notify::pickup_qr_text(&reference, if code == "000000" { "111111" } else { "000000" });
    let none = clerk.get(&format!("/api/v1/items?tracking={}", crate::support::enc(&wrong))).await;
    assert_eq!(none.body["items"].as_array().unwrap().len(), 0, "{}", none.text);
    let ui = srv.browser(&srv.fx.tenant.slug, "clerk").await;
    let page = ui.get(&format!("/ui/items?q={}", crate::support::enc(&qr))).await;
    assert_eq!(page.status, 303, "{}", page.text);
    assert!(page.location.ends_with(&item_id.to_string()), "{}", page.location);
    // The recipient sees the same code, with its QR code, on the item's page; staff do not.
    let me = srv.browser(&srv.fx.tenant.slug, "employee").await;
    let mine = me.get(&format!("/ui/items/{item_id}")).await;
    assert_eq!(mine.status, 200);
    assert!(mine.text.contains(&format!("data-testid=\"pickup-code\">{code}<")), "{}", mine.text);
    assert!(mine.text.contains("data:image/png;base64,"));
    assert!(!ui.get(&format!("/ui/items/{item_id}")).await.text.contains("data-testid=\"pickup\""));
    // Handing the item over sends a receipt, and nothing else arrives twice.
    for action in ["store", "ready_for_pickup"] {
        let body = if action == "store" {
            json!({"action": action, "location_id": srv.fx.shelf.id})
        } else {
            json!({"action": action})
        };
        let r = clerk.post(&format!("/api/v1/items/{item_id}/transitions"), &body).await;
        assert_eq!(r.status, 200, "{action}: {}", r.text);
    }
    let r = clerk
        .post(
            &format!("/api/v1/items/{item_id}/transitions"),
            &json!({"action": "pick_up", "handover": {"taken_by": "张伟杰", "taken_by_person_id": srv.fx.person.id},
                    "signature": {"data": crate::support::png_signature()}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mails = sink.wait_for(2, 30).await;
    assert_eq!(mails.len(), 2);
    assert!(mails[1]["subject"].as_str().unwrap().contains(&reference));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages().len(), 2, "no notice is sent twice");
    srv.stop().await;
}

/// A person who chose English gets English; a confidential item's notice names no sender and
/// no contents, in e-mail and in the webhook; webhooks are signed per Standard Webhooks.
async fn english_confidential_and_signed_webhook(b: Backend) {
    let Some(sink) = SmtpSink::start() else { return };
    let hooks = Receiver::start().await;
    let opts =
        ServerOptions { notify: Some(config(&sink.url())), policy: Some(loopback_allowed()), ..Default::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let employee = srv.client(&srv.token("employee").await);
    let r = employee
        .put(
            "/api/v1/me/notification-preferences",
            &json!({"lang": "en", "email": true, "sms": false, "robot": true, "digest": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The department's WeCom group robot.
    let r = admin
        .post(
            "/api/v1/notification-endpoints",
            &json!({"kind": "wecom", "name": "Finance group", "department_id": srv.fx.dept.id,
                    "url": format!("{}/robot/wecom?key=abc", hooks.base)}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = admin
        .post(
            "/api/v1/notification-endpoints",
            &json!({"kind": "webhook", "name": "ERP", "url": format!("{}/hooks/mail", hooks.base)}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let secret = r.body["generated_secret"].as_str().expect("generated secret").to_string();
    let clerk = srv.client(&srv.token("clerk").await);
    // The receiver is busy at first: the webhook is retried after a back-off.
    hooks.fail.store(1, std::sync::atomic::Ordering::SeqCst);
    let r = clerk
        .post(
            "/api/v1/items",
            &json!({
                "tracking_number": "EMS9876543210CN",
                "recipient": {"person_id": srv.fx.person.id},
                "confidentiality": "confidential",
                "seal_number": "SEAL-0042",
                "sender": {"name": "Top Secret Holdings", "organisation": "Hidden Bank"},
                "category": "bank_statement",
                "notes": "quarterly statement",
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let reference = r.body["reference"].as_str().unwrap().to_string();
    let mails = sink.wait_for(1, 30).await;
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m["content_language"], "en");
    let raw = std::fs::read_to_string(format!("{}", m["subject"])).unwrap_or_default();
    let whole = format!("{} {} {} {raw}", m["subject"], mail_part(m, "text/plain"), mail_part(m, "text/html"));
    assert!(whole.contains(&reference), "{whole}");
    for secret_word in ["Top Secret", "Hidden Bank", "EMS9876543210CN", "bank statement", "bank_statement", "quarterly"]
    {
        assert!(!whole.contains(secret_word), "a confidential notice names {secret_word:?}: {whole}");
    }
    assert!(whole.is_ascii() || whole.contains("Zhang"), "English text: {whole}");
    // The webhook: refused once (503), sent again after the back-off, signed, and as redacted.
    for _ in 0..300 {
        if hooks.fail.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(hooks.fail.load(std::sync::atomic::Ordering::SeqCst), 0, "the webhook was attempted");
    srv.app.clock.advance(chrono::Duration::minutes(2));
    let got = hooks.wait_for(2, 30).await;
    assert_eq!(got.len(), 2, "the webhook and the group robot");
    let robot = got.iter().find(|h| h.path.starts_with("/robot/wecom")).expect("robot message");
    assert_eq!(robot.path, "/robot/wecom?key=abc");
    let rb = robot.json();
    assert_eq!(rb["msgtype"], "markdown", "{rb}");
    let robot_text = rb.to_string();
    assert!(robot_text.contains(&reference), "{robot_text}");
    for secret_word in ["Top Secret", "Hidden Bank", "EMS9876543210CN"] {
        assert!(!robot_text.contains(secret_word), "the robot names {secret_word:?}: {robot_text}");
    }
    let h = got.iter().find(|h| h.path == "/hooks/mail").expect("webhook");
    let id = h.header("webhook-id");
    let ts: i64 = h.header("webhook-timestamp").parse().unwrap();
    let sig = h.header("webhook-signature");
    assert!(!id.is_empty() && sig.starts_with("v1,"), "{:?}", h.headers);
    assert!(mailroom_notify::verify_webhook(
        &secret,
        id,
        &ts.to_string(),
        sig,
        &h.body,
        chrono::Utc::now().timestamp(),
        300
    ));
    assert!(!mailroom_notify::verify_webhook(
        &secret,
        id,
        &ts.to_string(),
        sig,
        b"{}",
        chrono::Utc::now().timestamp(),
        300
    ));
    let body = h.json();
    assert_eq!(body["type"], "item.confidential_arrival");
    assert_eq!(body["data"]["reference"], reference.as_str());
    let text = String::from_utf8_lossy(&h.body).to_string();
    for secret_word in ["Top Secret", "Hidden Bank", "EMS9876543210CN", "bank_statement"] {
        assert!(!text.contains(secret_word), "the webhook names {secret_word:?}: {text}");
    }
    srv.stop().await;
}

/// With the SMTP server down, the notice waits in the queue (retried with back-off) and is
/// delivered once the server is back, exactly once.
async fn smtp_outage_is_retried(b: Backend) {
    let Some(sink) = SmtpSink::start() else { return };
    let (port, dir) = sink.stop();
    let opts =
        ServerOptions { notify: Some(config(&format!("smtp://127.0.0.1:{port}?tls=none"))), ..Default::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let clerk = srv.client(&srv.token("clerk").await);
    let r = clerk
        .post(
            "/api/v1/items",
            &json!({"tracking_number": "YT1234567890", "recipient": {"person_id": srv.fx.person.id}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let reference = r.body["reference"].as_str().unwrap().to_string();
    // The first attempt fails and is scheduled again.
    let admin = srv.client(&srv.token("admin").await);
    let mut failed = false;
    for _ in 0..100 {
        let jobs = admin.get("/api/v1/jobs?status=pending").await;
        if jobs.body["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|j| j["kind"] == "notify" && j["attempts"].as_i64().unwrap_or(0) >= 1))
        {
            failed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(failed, "the notice was not retried after the SMTP server refused");
    let sink = SmtpSink::start_on(port, dir).expect("sink again");
    // Time passes beyond the back-off.
    srv.app.clock.advance(chrono::Duration::minutes(2));
    let mails = sink.wait_for(1, 30).await;
    assert_eq!(mails.len(), 1, "delivered once the server is back");
    assert!(mails[0]["subject"].as_str().unwrap().contains(&reference));
    srv.app.clock.advance(chrono::Duration::hours(1));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages().len(), 1, "and only once");
    srv.stop().await;
}

/// An item that arrives damaged opens a "contact the sender" task, whether or not anyone can be
/// notified; closing it takes a note and appends a custody event.
async fn damaged_item_opens_a_sender_task(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let clerk = srv.client(&srv.token("clerk").await);
    let r = clerk
        .post(
            "/api/v1/items",
            &json!({
                "tracking_number": "DMG0000001",
                "recipient": {"person_id": srv.fx.person.id},
                "condition": "damaged",
                "damage_description": "corner crushed, contents loose",
                "sender": {"name": "李娜", "organisation": "华东设备有限公司", "address": "上海市浦东新区张江路 88 号"},
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let item_id = r.body["id"].as_str().unwrap().to_string();
    // Intact items open none.
    let r = clerk
        .post("/api/v1/items", &json!({"tracking_number": "OK00000001", "recipient": {"person_id": srv.fx.person.id}}))
        .await;
    assert_eq!(r.status, 201);
    mailroom_app::notify::dispatch(&srv.app, chrono::Utc::now()).await.unwrap();
    // Reading the same events again opens nothing more.
    mailroom_app::notify::dispatch(&srv.app, chrono::Utc::now()).await.unwrap();
    let r = clerk.get("/api/v1/tasks").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let tasks = r.body["items"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{}", r.text);
    assert_eq!(tasks[0]["kind"], "contact_sender");
    assert_eq!(tasks[0]["item_id"], item_id.as_str());
    assert_eq!(tasks[0]["sender_org"], "华东设备有限公司");
    assert_eq!(tasks[0]["damage_description"], "corner crushed, contents loose");
    let task_id = tasks[0]["id"].as_str().unwrap().to_string();
    // The console lists it with the exception queue, with the sender to call.
    let ui = srv.browser(&srv.fx.tenant.slug, "clerk").await;
    let page = ui.get("/ui/exceptions").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("data-testid=\"task\"") && page.text.contains("华东设备有限公司"), "{}", page.text);
    assert!(page.text.contains(&format!("/ui/tasks/{task_id}/done")));
    // A note is required; employees may not close tasks.
    clerk
        .post(&format!("/api/v1/tasks/{task_id}/done"), &json!({"note": ""}))
        .await
        .assert_problem(422, "validation_failed");
    let employee = srv.client(&srv.token("employee").await);
    employee.get("/api/v1/tasks").await.assert_problem(403, "forbidden");
    let r = clerk
        .post(&format!("/api/v1/tasks/{task_id}/done"), &json!({"note": "Called Ms Li; replacement shipped"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "done");
    clerk
        .post(&format!("/api/v1/tasks/{task_id}/done"), &json!({"note": "again"}))
        .await
        .assert_problem(409, "conflict");
    assert_eq!(clerk.get("/api/v1/tasks").await.body["items"].as_array().unwrap().len(), 0);
    assert!(!ui.get("/ui/exceptions").await.text.contains("data-testid=\"task\""));
    let ev = clerk.get(&format!("/api/v1/items/{item_id}/events")).await;
    let kinds: Vec<&str> = ev.body["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"sender_contacted"), "{kinds:?}");
    srv.stop().await;
}
crate::both_backends!(
    arrival_notice_by_email,
    english_confidential_and_signed_webhook,
    smtp_outage_is_retried,
    damaged_item_opens_a_sender_task
);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_ready(base: &str) {
    let http = reqwest::Client::new();
    for _ in 0..400 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} did not become ready");
}

/// `mailroom serve` as a process, with these settings on top of the test master key.
fn serve(db_url: &str, env: &[(&str, String)]) -> (std::process::Child, String) {
    let port = free_port();
    let mut cmd = std::process::Command::new(crate::support::bin());
    cmd.args(["serve", "--db", db_url, "--addr", &format!("127.0.0.1:{port}")])
        .env("MAILROOM_LOG", "warn")
        .env("MAILROOM_MASTER_KEY", crate::support::TEST_MASTER_KEY)
        .env_remove("MAILROOM_MASTER_KEY_FILE")
        .env_remove("MAILROOM_SMTP_URL")
        .env_remove("MAILROOM_SMTP_FROM")
        .stdout(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    (cmd.spawn().unwrap(), format!("http://127.0.0.1:{port}"))
}

/// kill -9 of the server while arrival notices are pending (spread out over several seconds):
/// after a restart every acknowledged intake has had its notice, and no notice arrived twice.
async fn kill_nine_with_pending_notices(b: Backend) {
    let Some(sink) = SmtpSink::start() else { return };
    let Some(db) = crate::support::TestDb::new(b).await else { return };
    let (person, token) = {
        let app = crate::support::open_app(&db.url).await;
        let fx = crate::support::Fixture::new(app.clone(), "acme").await;
        (fx.person.id, app.create_token("acme", "clerk").await.unwrap())
    };
    let env = vec![
        ("MAILROOM_SMTP_URL", sink.url()),
        ("MAILROOM_SMTP_FROM", FROM.to_string()),
        // Five at once, then five a second: most notices are still waiting at the kill.
        ("MAILROOM_ARRIVAL_BURST", "5".to_string()),
        ("MAILROOM_ARRIVAL_PER_MINUTE", "300".to_string()),
        ("MAILROOM_JOB_LEASE_SECS", "30".to_string()),
    ];
    let (mut child, base) = serve(&db.url, &env);
    wait_ready(&base).await;
    let http = reqwest::Client::new();
    let mut references = Vec::new();
    for i in 0..40 {
        let r = http
            .post(format!("{base}/api/v1/items"))
            .bearer_auth(&token)
            .json(&json!({"tracking_number": format!("KN{i:010}"), "recipient": {"person_id": person}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let v: serde_json::Value = r.json().await.unwrap();
        references.push(v["reference"].as_str().unwrap().to_string());
    }
    sink.wait_for(3, 30).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = sink.messages().len();
    assert!(before < references.len(), "notices were still pending at the kill ({before} sent)");
    let (mut child, base) = serve(&db.url, &env);
    wait_ready(&base).await;
    let mails = sink.wait_for(references.len(), 120).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mails = if sink.messages().len() > mails.len() { sink.messages() } else { mails };
    child.kill().unwrap();
    child.wait().unwrap();
    let mut per_reference = std::collections::BTreeMap::<String, usize>::new();
    for m in &mails {
        let subject = m["subject"].as_str().unwrap();
        let r = references.iter().find(|r| subject.contains(r.as_str())).unwrap_or_else(|| panic!("{subject}"));
        *per_reference.entry(r.clone()).or_default() += 1;
    }
    for r in &references {
        assert_eq!(per_reference.get(r), Some(&1), "{r}: {per_reference:?} ({before} sent before the kill)");
    }
    let ids: std::collections::BTreeSet<&str> = mails.iter().map(|m| m["message_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), mails.len());
    db.cleanup().await;
}

crate::both_backends!(kill_nine_with_pending_notices);

/// Two `mailroom serve` processes on one PostgreSQL database work through one queue of 10,000
/// notices (a webhook per arrival): every notice is delivered once, and both did some of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_share_ten_thousand_jobs() {
    let Some(db) = crate::support::TestDb::new(Backend::Postgres).await else { return };
    let hooks = Receiver::start().await;
    {
        let app = crate::support::open_app(&db.url).await.with_security(loopback_allowed());
        let fx = crate::support::Fixture::new(app.clone(), "acme").await;
        let input = mailroom_app::notify_settings::EndpointInput {
            kind: Some("webhook".into()),
            name: Some("Counter".into()),
            url: Some(format!("{}/count", hooks.base)),
            events: Some(vec!["arrival".into()]),
            ..Default::default()
        };
        app.create_notification_endpoint(&fx.admin, &crate::support::ctx(), &input).await.unwrap();
        assert_eq!(app.seed_bulk("acme", 10_000).await.unwrap(), 10_000);
    }
    let env = vec![("MAILROOM_OUTBOUND_ALLOW", "127.0.0.1".to_string()), ("MAILROOM_JOB_WORKERS", "16".to_string())];
    let (mut a, base_a) = serve(&db.url, &env);
    let (mut b, base_b) = serve(&db.url, &env);
    wait_ready(&base_a).await;
    wait_ready(&base_b).await;
    let got = hooks.wait_for(10_000, 600).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = hooks.received().len().max(got.len());
    a.kill().unwrap();
    b.kill().unwrap();
    a.wait().unwrap();
    b.wait().unwrap();
    let received = hooks.received();
    assert_eq!(got, received.len());
    let ids: std::collections::BTreeSet<String> = received.iter().map(|r| r.header("webhook-id").to_string()).collect();
    assert_eq!(ids.len(), 10_000, "every notice delivered");
    assert_eq!(received.len(), 10_000, "none delivered twice");
    let nodes = db.scalar("SELECT count(DISTINCT locked_by) FROM job WHERE kind = 'notify' AND status = 'done'").await;
    assert_eq!(nodes, 2, "both servers took part");
    let done = db.scalar("SELECT count(*) FROM job WHERE kind = 'notify' AND status = 'done'").await;
    assert_eq!(done, 10_000);
    db.cleanup().await;
}

/// Local (Beijing) time `minutes` from the app's now, as "HH:MM".
fn local_hhmm(srv: &TestServer, minutes: i64) -> String {
    let t = srv.app.clock.now() + chrono::Duration::minutes(minutes) + chrono::Duration::hours(8);
    t.format("%H:%M").to_string()
}

/// Quiet hours hold a notice until they end; a daily digest replaces single arrival notices
/// with one message at the chosen time, listing every item still waiting.
async fn quiet_hours_and_daily_digest(b: Backend) {
    let Some(sink) = SmtpSink::start() else { return };
    let opts = ServerOptions { notify: Some(config(&sink.url())), ..Default::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let employee = srv.client(&srv.token("employee").await);
    let clerk = srv.client(&srv.token("clerk").await);
    // Quiet from an hour ago until an hour from now.
    let r = employee
        .put(
            "/api/v1/me/notification-preferences",
            &json!({"lang": "zh-CN", "email": true, "sms": false, "robot": false, "digest": false,
                    "quiet_start": local_hhmm(&srv, -60), "quiet_end": local_hhmm(&srv, 60)}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = clerk
        .post("/api/v1/items", &json!({"tracking_number": "QT00000001", "recipient": {"person_id": srv.fx.person.id}}))
        .await;
    assert_eq!(r.status, 201);
    let quiet_ref = r.body["reference"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.messages().len(), 0, "nothing during quiet hours");
    srv.app.clock.advance(chrono::Duration::minutes(61));
    let mails = sink.wait_for(1, 30).await;
    assert_eq!(mails.len(), 1, "sent when the quiet hours end");
    assert!(mails[0]["subject"].as_str().unwrap().contains(&quiet_ref));
    // A digest at a time two hours from now: two arrivals, no single notices, then one digest.
    let r = employee
        .put(
            "/api/v1/me/notification-preferences",
            &json!({"lang": "en", "email": true, "sms": false, "robot": false, "digest": true,
                    "digest_at": local_hhmm(&srv, 120)}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut refs = Vec::new();
    for t in ["DG00000001", "DG00000002"] {
        let r = clerk
            .post("/api/v1/items", &json!({"tracking_number": t, "recipient": {"person_id": srv.fx.person.id}}))
            .await;
        assert_eq!(r.status, 201);
        refs.push(r.body["reference"].as_str().unwrap().to_string());
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.messages().len(), 1, "no single arrival notices for a digest reader");
    srv.app.clock.advance(chrono::Duration::minutes(125));
    let mails = sink.wait_for(2, 30).await;
    assert_eq!(mails.len(), 2, "one digest");
    let digest = &mails[1];
    assert_eq!(digest["content_language"], "en");
    let text = mail_part(digest, "text/plain");
    for r in refs.iter().chain([&quiet_ref]) {
        assert!(text.contains(r.as_str()), "the digest lists {r}: {text}");
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages().len(), 2);
    srv.stop().await;
}

/// An unclaimed item: the sweeper's reminder and escalation reach the recipient and the
/// department's key contact by e-mail.
async fn unclaimed_reminder_and_escalation_are_sent(b: Backend) {
    let Some(sink) = SmtpSink::start() else { return };
    let opts = ServerOptions { notify: Some(config(&sink.url())), ..Default::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    let r = admin
        .put(
            "/api/v1/unclaimed-policies",
            &json!({"policies": [{"category": "general", "remind_after_days": 2, "remind_every_days": 0,
                                  "escalate_after_days": 4, "final_after_days": 30, "final_action": "return_to_sender"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = clerk
        .post("/api/v1/items", &json!({"tracking_number": "UC00000001", "recipient": {"person_id": srv.fx.person.id}}))
        .await;
    assert_eq!(r.status, 201);
    let id = r.body["id"].as_str().unwrap().to_string();
    let reference = r.body["reference"].as_str().unwrap().to_string();
    let r = clerk
        .post(&format!("/api/v1/items/{id}/transitions"), &json!({"action": "store", "location_id": srv.fx.shelf.id}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(sink.wait_for(1, 30).await.len(), 1, "the arrival notice");
    srv.app.clock.advance(chrono::Duration::days(3));
    mailroom_app::followup::sweep(&srv.app, srv.app.clock.now()).await.unwrap();
    let mails = sink.wait_for(2, 30).await;
    assert_eq!(mails.len(), 2, "a reminder");
    assert!(mails[1]["subject"].as_str().unwrap().contains(&reference));
    assert_eq!(mails[1]["rcpt_tos"], json!(["wj@example.cn"]));
    srv.app.clock.advance(chrono::Duration::days(2));
    mailroom_app::followup::sweep(&srv.app, srv.app.clock.now()).await.unwrap();
    let events = clerk.get(&format!("/api/v1/items/{id}/events")).await;
    let escalated = events.body["items"].as_array().unwrap().iter().find(|e| e["kind"] == "escalated").cloned();
    let escalated = escalated.expect("escalated");
    let details: serde_json::Value = serde_json::from_str(escalated["details"].as_str().unwrap()).unwrap();
    if details["to_person_id"].is_string() {
        let mails = sink.wait_for(3, 30).await;
        assert_eq!(mails.len(), 3, "the escalation");
        assert!(mails[2]["subject"].as_str().unwrap().contains(&reference));
    }
    let log = clerk.get(&format!("/api/v1/items/{id}/notifications")).await;
    let kinds: Vec<&str> = log.body["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert!(kinds.starts_with(&["arrival", "reminder"]), "{kinds:?}");
    srv.stop().await;
}

crate::both_backends!(quiet_hours_and_daily_digest, unclaimed_reminder_and_escalation_are_sent);

/// A person who chose SMS gets the arrival notice through the organisation's SMS provider
/// adapter, with the carrier's signature, and not by e-mail.
async fn sms_through_the_provider_adapter(b: Backend) {
    let Some(sink) = SmtpSink::start() else { return };
    let gateway = Receiver::start().await;
    let opts =
        ServerOptions { notify: Some(config(&sink.url())), policy: Some(loopback_allowed()), ..Default::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let mut person = srv.fx.person.clone();
    person.phone = Some("+86 138-0013-8000".into());
    srv.app.store.upsert_person(&person).await.unwrap();
    let admin = srv.client(&srv.token("admin").await);
    let url = format!("{}/sms/send", gateway.base);
    let r = admin
        .post(
            "/api/v1/notification-endpoints",
            &json!({"kind": "sms", "name": "SMS gateway", "url": url, "config": {
                "method": "POST", "url": url, "format": "json",
                "body": "{\"mobile\":\"{{phone}}\",\"content\":\"{{sign}}{{text}}\"}",
                "sign": "【收发室】", "success": {"json_field": "code", "equals": "0"}}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let employee = srv.client(&srv.token("employee").await);
    let r = employee
        .put(
            "/api/v1/me/notification-preferences",
            &json!({"lang": "zh-CN", "email": false, "sms": true, "robot": false, "digest": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let clerk = srv.client(&srv.token("clerk").await);
    let r = clerk
        .post("/api/v1/items", &json!({"tracking_number": "SMS0000001", "recipient": {"person_id": srv.fx.person.id}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let reference = r.body["reference"].as_str().unwrap().to_string();
    let got = gateway.wait_for(1, 30).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/sms/send");
    let body = got[0].json();
    assert_eq!(body["mobile"], "+8613800138000", "{body}");
    let content = body["content"].as_str().unwrap();
    assert!(content.starts_with("【收发室】") && content.contains(&reference), "{content}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages().len(), 0, "no e-mail for someone who chose SMS only");
    let id = r.body["id"].as_str().unwrap();
    let log = clerk.get(&format!("/api/v1/items/{id}/notifications")).await;
    assert_eq!(log.body["items"][0]["channel"], "sms", "{}", log.text);
    assert_eq!(log.body["items"][0]["target"], "***8000", "{}", log.text);
    srv.stop().await;
}

crate::both_backends!(sms_through_the_provider_adapter);

/// The employee who asked for a send hears when it is approved and when it is handed to the
/// carrier (with the carrier's tracking number), by e-mail in their language, with a link to the
/// send's page; steps that change nothing for them (acceptance, batching) send nothing.
async fn outbound_updates_reach_the_requester(b: Backend) {
    let Some(sink) = SmtpSink::start() else { return };
    let opts = ServerOptions { notify: Some(config(&sink.url())), ..Default::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    let emp = srv.client(&srv.token("employee").await);
    let rates = "carrier,method,zone,max_weight_g,price,step_price\nems,express,world,5000,260.00,40.00\n";
    assert_eq!(admin.post_raw("/api/v1/postage/rates/import", "text/csv", rates.as_bytes().to_vec()).await.status, 200);
    let cc = admin
        .post("/api/v1/postage/cost-centres", &json!({"code": "CC-OUT", "name": "Out", "approval_limit": 10_000}))
        .await;
    let cc = cc.body["id"].as_str().unwrap().to_string();
    let acct = admin.post("/api/v1/postage/accounts", &json!({"name": "Main"})).await;
    let acct = acct.body["id"].as_str().unwrap().to_string();
    admin.post(&format!("/api/v1/postage/accounts/{acct}/top-ups"), &json!({"amount": 500_000})).await;
    let r = emp
        .post(
            "/api/v1/outbound",
            &json!({"recipient": {"country": "DE", "text": "Dr. Anna Schmidt\nCharité\nCharitéplatz 1\n10117 Berlin"},
                    "kind": "document", "contents": "Study report", "method": "express", "carrier": "ems",
                    "weight_g": 400, "cost_centre_id": cc,
                    "customs": {"category": "documents", "lines": [{"description": "printed study report",
                        "quantity": 1, "net_weight_g": 380, "value": "0.00", "currency": "CNY"}]}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["item"]["status"], "awaiting_approval", "{}", r.text);
    let id = r.body["item"]["id"].as_str().unwrap().to_string();
    let reference = r.body["item"]["reference"].as_str().unwrap().to_string();
    let r = admin.post(&format!("/api/v1/outbound/{id}/approve"), &json!({"note": "研究经费"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mails = sink.wait_for(1, 30).await;
    assert_eq!(mails.len(), 1, "one notice for the approval");
    assert_eq!(mails[0]["rcpt_tos"], json!(["wj@example.cn"]));
    let subject = mails[0]["subject"].as_str().unwrap();
    assert!(subject.contains(&reference) && subject.contains("已批准"), "{subject}");
    let text = mail_part(&mails[0], "text/plain");
    assert!(text.contains("研究经费") && text.contains("Dr. Anna Schmidt"), "{text}");
    assert!(text.contains(&format!("https://mail.example.cn/ui/outbound/{id}")), "{text}");
    let r = clerk.post(&format!("/api/v1/outbound/{id}/accept"), &json!({"weight_g": 420})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = clerk.post(&format!("/api/v1/outbound/{id}/tracking"), &json!({"tracking_number": "EE123456789CN"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let at = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let batch = clerk.post("/api/v1/outbound/batches", &json!({"carrier": "ems", "collection_at": at})).await;
    let batch = batch.body["batch"]["id"].as_str().unwrap().to_string();
    clerk.post(&format!("/api/v1/outbound/batches/{batch}/scan"), &json!({"code": reference})).await;
    let r = clerk
        .post(&format!("/api/v1/outbound/batches/{batch}/hand-over"), &json!({"courier_name": "EMS 王师傅"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mails = sink.wait_for(2, 30).await;
    assert_eq!(mails.len(), 2, "then one for the hand-over");
    let subject = mails[1]["subject"].as_str().unwrap();
    assert!(subject.contains("已交寄承运商"), "{subject}");
    assert!(mail_part(&mails[1], "text/plain").contains("EE123456789CN"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.messages().len(), 2, "acceptance and batching send nothing, nothing is sent twice");
    srv.stop().await;
}

crate::both_backends!(outbound_updates_reach_the_requester);
