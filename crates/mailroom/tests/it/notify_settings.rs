//! Notification settings over HTTP on both backends: notice templates (built-in wording,
//! validation, preview without saving, saving and resetting), notification preferences (defaults,
//! one's own, an administrator's view, who may change whose), and notification endpoints (the
//! outbound guard at save time, secrets never shown back); and the console pages for all three.

use crate::both_backends;
use crate::support::{Backend, Browser, Client, PASSWORD, ServerOptions, TestServer};
use mailroom_domain::notify::{Lang, NoticeKind};
use serde_json::{Value, json};

async fn clients(srv: &TestServer) -> (Client, Client, Client) {
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    let employee = srv.client(&srv.token("employee").await);
    (admin, clerk, employee)
}

async fn templates_api(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let (admin, clerk, employee) = clients(&srv).await;

    // The built-in wording, with the kind's variables.
    let r = admin.get("/api/v1/notification-templates/arrival/zh-CN").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["is_default"], true);
    assert_eq!(r.body["lang"], "zh-CN");
    assert!(r.body["subject"].as_str().unwrap().contains("{{reference}}"));
    assert!(r.body["body"].as_str().unwrap().contains("{{pickup_code}}"));
    let vars: Vec<&str> = r.body["variables"].as_array().unwrap().iter().filter_map(|v| v["name"].as_str()).collect();
    assert!(vars.contains(&"pickup_code") && vars.contains(&"sender"));
    let conf = admin.get("/api/v1/notification-templates/confidential_arrival/en").await;
    let conf_vars = conf.body["variables"].to_string();
    assert!(!conf_vars.contains("\"sender\"") && !conf_vars.contains("\"carrier\""), "{conf_vars}");
    let list = admin.get("/api/v1/notification-templates").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), NoticeKind::ALL.len() * Lang::ALL.len());

    // Unknown kinds and languages do not exist; other roles may not look.
    admin.get("/api/v1/notification-templates/party/en").await.assert_problem(404, "not_found");
    admin.get("/api/v1/notification-templates/arrival/fr").await.assert_problem(404, "not_found");
    clerk.get("/api/v1/notification-templates/arrival/en").await.assert_problem(403, "forbidden");
    employee.get("/api/v1/notification-templates").await.assert_problem(403, "forbidden");

    // Preview: validated, filled with example values, escaped in HTML, nothing saved.
    let draft = json!({"subject": "Parcel {{reference}} for {{recipient_name}}",
                       "body": "<b>Hello</b> {{recipient_name}}\nCode: {{pickup_code}}\nCarrier: {{carrier}}"});
    let p = admin.post("/api/v1/notification-templates/arrival/en/preview", &draft).await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.body["subject"], "Parcel MR-7Q4K-2D for Li Na");
    assert!(p.body["text"].as_str().unwrap().contains("<b>Hello</b> Li Na"));
    assert!(p.body["html"].as_str().unwrap().contains("&lt;b&gt;Hello&lt;/b&gt; Li Na"));
    assert!(!p.body["html"].as_str().unwrap().contains("<b>"));
    let zh = admin.post("/api/v1/notification-templates/arrival/zh-CN/preview", &draft).await;
    assert_eq!(zh.body["subject"], "Parcel MR-7Q4K-2D for 李娜");
    assert_eq!(admin.get("/api/v1/notification-templates/arrival/en").await.body["is_default"], true);
    clerk.post("/api/v1/notification-templates/arrival/en/preview", &draft).await.assert_problem(403, "forbidden");

    // A confidential arrival may not name the sender; an unknown variable is named.
    let leak = json!({"subject": "From {{sender}}", "body": "x"});
    let e = admin.post("/api/v1/notification-templates/confidential_arrival/en/preview", &leak).await;
    e.assert_problem(422, "validation_failed");
    assert_eq!(e.body["field"], "subject");
    assert!(e.body["detail"].as_str().unwrap().contains("{{sender}}"), "{}", e.text);
    let e = admin.put("/api/v1/notification-templates/confidential_arrival/en", &leak).await;
    e.assert_problem(422, "validation_failed");
    let e = admin
        .put("/api/v1/notification-templates/arrival/en", &json!({"subject": "Hi", "body": "{{nonsense}} {{reference"}))
        .await;
    e.assert_problem(422, "validation_failed");
    assert_eq!(admin.get("/api/v1/notification-templates/confidential_arrival/en").await.body["is_default"], true);

    // Save, read back, in force for the sender; reset.
    let saved = admin.put("/api/v1/notification-templates/arrival/en", &draft).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(saved.body["is_default"], false);
    assert_eq!(saved.body["updated_by"], "admin");
    let got = admin.get("/api/v1/notification-templates/arrival/en").await;
    assert_eq!(got.body["subject"], "Parcel {{reference}} for {{recipient_name}}");
    let in_force = srv.app.template_in_force(srv.fx.tenant.id, NoticeKind::Arrival, Lang::En).await.unwrap();
    assert_eq!(in_force.subject, "Parcel {{reference}} for {{recipient_name}}");
    let zh_in_force = srv.app.template_in_force(srv.fx.tenant.id, NoticeKind::Arrival, Lang::ZhCn).await.unwrap();
    assert!(zh_in_force.subject.contains("收发室"), "the other language keeps its wording");
    let events = srv.app.store.audit_events(srv.fx.tenant.id, Some("notification."), None, 10).await.unwrap();
    assert_eq!(events[0].kind, "notification.template_saved");
    let reset = admin.delete("/api/v1/notification-templates/arrival/en").await;
    assert_eq!(reset.status, 200, "{}", reset.text);
    assert_eq!(reset.body["is_default"], true);
    assert_eq!(admin.get("/api/v1/notification-templates/arrival/en").await.body["is_default"], true);
    srv.stop().await;
}

fn prefs(lang: &str, email: bool, sms: bool) -> Value {
    json!({"lang": lang, "email": email, "sms": sms, "robot": false, "digest": false})
}

async fn preferences_api(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let (admin, clerk, employee) = clients(&srv).await;
    let (me, other) = (srv.fx.person.id, srv.fx.other_person.id);

    // Defaults: Chinese, e-mail when the person has an address, nothing else.
    let d = employee.get("/api/v1/me/notification-preferences").await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(
        (&d.body["lang"], &d.body["email"], &d.body["sms"], &d.body["robot"], &d.body["digest"]),
        (&json!("zh-CN"), &json!(true), &json!(false), &json!(false), &json!(false))
    );
    assert!(d.body["quiet"].is_null() && d.body["updated_at"].is_null());
    let o = admin.get(&format!("/api/v1/people/{other}/notification-preferences")).await;
    assert_eq!(o.status, 200, "{}", o.text);
    assert_eq!(o.body["email"], false, "no address, no e-mail");

    // One's own: quiet hours over midnight, a digest at the default time.
    let mine = json!({"lang": "en", "email": true, "sms": false, "robot": true, "quiet_start": "22:00",
                      "quiet_end": "07:00", "digest": true});
    let r = employee.put("/api/v1/me/notification-preferences", &mine).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["quiet"], json!({"start": "22:00:00", "end": "07:00:00"}));
    assert_eq!(r.body["digest_at"], "08:30:00");
    assert_eq!(r.body["lang"], "en");
    let back = admin.get(&format!("/api/v1/people/{me}/notification-preferences")).await;
    assert_eq!(back.body["quiet"], r.body["quiet"]);
    assert_eq!(back.body["robot"], true);
    let own = employee.get(&format!("/api/v1/people/{me}/notification-preferences")).await;
    assert_eq!(own.status, 200, "{}", own.text);

    // Bad input, and nothing changes.
    let e = employee.put("/api/v1/me/notification-preferences", &prefs("en", true, true)).await;
    e.assert_problem(422, "validation_failed");
    assert_eq!(e.body["field"], "sms");
    let e = employee
        .put(
            "/api/v1/me/notification-preferences",
            &json!({"lang": "en", "email": false, "sms": false,
              "robot": false, "digest": false, "quiet_start": "22:00"}),
        )
        .await;
    e.assert_problem(422, "validation_failed");
    assert_eq!(e.body["field"], "quiet_end");
    employee
        .put("/api/v1/me/notification-preferences", &prefs("fr", true, false))
        .await
        .assert_problem(422, "validation_failed");
    employee
        .put(
            "/api/v1/me/notification-preferences",
            &json!({"lang": "en", "email": false, "sms": false,
              "robot": false, "digest": true, "digest_at": "25:00"}),
        )
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(employee.get("/api/v1/me/notification-preferences").await.body["digest_at"], "08:30:00");

    // Not someone else's: an employee nor a clerk.
    employee.get(&format!("/api/v1/people/{other}/notification-preferences")).await.assert_problem(403, "forbidden");
    employee
        .put(&format!("/api/v1/people/{other}/notification-preferences"), &prefs("en", false, false))
        .await
        .assert_problem(403, "forbidden");
    clerk.get(&format!("/api/v1/people/{other}/notification-preferences")).await.assert_problem(403, "forbidden");
    // An administrator may change anyone's (within the rules); a user without a directory
    // entry has no preferences of their own.
    admin
        .put(&format!("/api/v1/people/{other}/notification-preferences"), &prefs("en", true, false))
        .await
        .assert_problem(422, "validation_failed");
    let r = admin.put(&format!("/api/v1/people/{other}/notification-preferences"), &prefs("en", false, false)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    admin.get("/api/v1/me/notification-preferences").await.assert_problem(404, "not_found");
    admin
        .get(&format!("/api/v1/people/{}/notification-preferences", uuid::Uuid::now_v7()))
        .await
        .assert_problem(404, "not_found");
    let both = srv.app.store.notify_preferences(srv.fx.tenant.id, &[me, other]).await.unwrap();
    assert_eq!(both.len(), 2);
    srv.stop().await;
}

async fn endpoints_api(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let (admin, clerk, _) = clients(&srv).await;

    // The outbound guard refuses inside and malformed targets at save time.
    for url in [
        "http://127.0.0.1:9/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "ftp://93.184.215.14/hook",
        "https://user:pw@93.184.215.14/hook",
        "http://localhost/hook",
    ] {
        let r =
            admin.post("/api/v1/notification-endpoints", &json!({"kind": "webhook", "name": "x", "url": url})).await;
        r.assert_problem(422, "target_refused");
        assert_eq!(r.body["field"], "url", "{url}");
    }
    assert_eq!(admin.get("/api/v1/notification-endpoints").await.body["items"], json!([]));

    // A webhook without a secret gets one, shown once.
    let hook = admin
        .post(
            "/api/v1/notification-endpoints",
            &json!({"kind": "webhook", "name": "Intranet hook",
               "url": "https://93.184.215.14/hooks/mail", "events": ["arrival", "receipt"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.text);
    let generated = hook.body["generated_secret"].as_str().unwrap().to_string();
    assert!(generated.starts_with("whsec_"));
    assert_eq!(hook.body["secret_set"], true);
    assert!(hook.body.get("secret").is_none());
    assert_eq!(hook.body["events"], json!(["arrival", "receipt"]));
    let hook_id = hook.body["id"].as_str().unwrap().to_string();

    // Robots: the key in the URL and the signing secret are never shown back.
    let wecom = admin
        .post(
            "/api/v1/notification-endpoints",
            &json!({"kind": "wecom", "name": "Finance WeCom",
               "url": "https://101.32.0.1/cgi-bin/webhook/send?key=WECOMKEY123", "department_id": srv.fx.dept.id}),
        )
        .await;
    assert_eq!(wecom.status, 201, "{}", wecom.text);
    assert_eq!(wecom.body["url"], "https://101.32.0.1/cgi-bin/webhook/send?key=…");
    let ding = admin
        .post(
            "/api/v1/notification-endpoints",
            &json!({"kind": "dingtalk", "name": "Ding",
               "url": "https://8.8.4.4/robot/send?access_token=DINGTOKEN9", "secret": "SECdingsecret77"}),
        )
        .await;
    assert_eq!(ding.status, 201, "{}", ding.text);
    assert!(ding.body.get("generated_secret").is_none());
    let ding_id = ding.body["id"].as_str().unwrap().to_string();
    let list = admin.get("/api/v1/notification-endpoints").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 3);
    for secret in [generated.as_str(), "WECOMKEY123", "SECdingsecret77", "DINGTOKEN9"] {
        assert!(!list.text.contains(secret), "{secret} shown: {}", list.text);
        let one = admin.get(&format!("/api/v1/notification-endpoints/{ding_id}")).await;
        assert!(!one.text.contains(secret));
    }
    // The sender reads the secret as stored.
    let stored = srv.app.store.channel_endpoint(srv.fx.tenant.id, ding_id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.secret.as_deref(), Some("SECdingsecret77"));
    assert_eq!(stored.url, "https://8.8.4.4/robot/send?access_token=DINGTOKEN9");

    // What the sender picks: the webhook wants arrivals; the Finance robot serves Finance only.
    let t = srv.fx.tenant.id;
    let names = |v: Vec<mailroom_app::store::ChannelEndpoint>| v.into_iter().map(|e| e.name).collect::<Vec<_>>();
    let fin = names(srv.app.endpoints_for_notice(t, NoticeKind::Arrival, Some(srv.fx.dept.id)).await.unwrap());
    assert_eq!(fin, ["Ding", "Intranet hook", "Finance WeCom"]);
    let nobody = names(srv.app.endpoints_for_notice(t, NoticeKind::Arrival, None).await.unwrap());
    assert_eq!(nobody, ["Ding", "Intranet hook"]);
    let esc = names(srv.app.endpoints_for_notice(t, NoticeKind::Escalation, None).await.unwrap());
    assert_eq!(esc, ["Ding"]);
    assert!(srv.app.sms_provider(t).await.unwrap().is_none());

    // Bad input.
    admin
        .post(
            "/api/v1/notification-endpoints",
            &json!({"kind": "webhook", "name": "Intranet hook",
               "url": "https://93.184.215.14/other"}),
        )
        .await
        .assert_problem(409, "conflict");
    let e = admin
        .post(
            "/api/v1/notification-endpoints",
            &json!({"kind": "webhook", "name": "W2",
               "url": "https://93.184.215.14/other", "secret": "hunter2"}),
        )
        .await;
    e.assert_problem(422, "validation_failed");
    assert_eq!(e.body["field"], "secret");
    admin
        .post("/api/v1/notification-endpoints", &json!({"kind": "pager", "name": "P", "url": "https://93.184.215.14/"}))
        .await
        .assert_problem(422, "validation_failed");
    admin
        .post(
            "/api/v1/notification-endpoints",
            &json!({"kind": "sms", "name": "S", "url": "https://93.184.215.14/",
               "events": ["party"]}),
        )
        .await
        .assert_problem(422, "validation_failed");

    // Changes keep what is not named; a refused URL changes nothing.
    let path = format!("/api/v1/notification-endpoints/{ding_id}");
    let r = admin.put(&path, &json!({"active": false, "events": ["escalation"]})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (&r.body["active"], &r.body["secret_set"], &r.body["name"]),
        (&json!(false), &json!(true), &json!("Ding"))
    );
    admin.put(&path, &json!({"url": "http://192.168.1.10/robot"})).await.assert_problem(422, "target_refused");
    let kept = srv.app.store.channel_endpoint(srv.fx.tenant.id, ding_id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(kept.url, "https://8.8.4.4/robot/send?access_token=DINGTOKEN9");
    let r = admin.put(&path, &json!({"secret": ""})).await;
    assert_eq!(r.body["secret_set"], false);
    admin
        .put(&format!("/api/v1/notification-endpoints/{hook_id}"), &json!({"secret": ""}))
        .await
        .assert_problem(422, "validation_failed");

    // Only administrators.
    clerk.get("/api/v1/notification-endpoints").await.assert_problem(403, "forbidden");
    clerk
        .post(
            "/api/v1/notification-endpoints",
            &json!({"kind": "webhook", "name": "c", "url": "https://93.184.215.14/"}),
        )
        .await
        .assert_problem(403, "forbidden");
    clerk.delete(&path).await.assert_problem(403, "forbidden");

    // Delete.
    assert_eq!(admin.delete(&path).await.status, 204);
    admin.get(&path).await.assert_problem(404, "not_found");
    admin.delete(&path).await.assert_problem(404, "not_found");
    let events = srv.app.store.audit_events(srv.fx.tenant.id, Some("notification.endpoint"), None, 20).await.unwrap();
    assert_eq!(events[0].kind, "notification.endpoint_deleted");

    // The SMS provider: its request shape is a JSON object.
    let sms = json!({"kind": "sms", "name": "SMS", "url": "https://8.8.8.8/send", "secret": "k-123",
                     "config": {"method": "POST", "body": {"to": "{{phone}}", "text": "{{text}}"}}});
    let r = admin.post("/api/v1/notification-endpoints", &sms).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["config"]["method"], "POST");
    let provider = srv.app.sms_provider(t).await.unwrap().unwrap();
    assert_eq!((provider.name.as_str(), provider.secret.as_deref()), ("SMS", Some("k-123")));
    let e = admin
        .post(
            "/api/v1/notification-endpoints",
            &json!({"kind": "sms", "name": "SMS2", "url": "https://8.8.8.8/",
               "config": "POST"}),
        )
        .await;
    e.assert_problem(422, "validation_failed");
    assert_eq!(e.body["field"], "config");
    assert!(events.iter().all(|e| !e.details.to_string().contains("DINGTOKEN9")), "the audit log masks the URL");
    srv.stop().await;
}

/// An allow-listed private receiver is accepted.
async fn allowed_private_target(b: Backend) {
    let policy = mailroom_app::security::SecurityPolicy {
        outbound: mailroom_app::outbound::OutboundPolicy::parse("10.20.0.0/16").unwrap(),
        ..Default::default()
    };
    let Some(srv) = TestServer::start_with(b, ServerOptions { policy: Some(policy), ..Default::default() }).await
    else {
        return;
    };
    let admin = srv.client(&srv.token("admin").await);
    let ok = admin
        .post("/api/v1/notification-endpoints", &json!({"kind": "webhook", "name": "in", "url": "http://10.20.3.4/h"}))
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    admin
        .post("/api/v1/notification-endpoints", &json!({"kind": "webhook", "name": "out", "url": "http://10.21.3.4/h"}))
        .await
        .assert_problem(422, "target_refused");
    srv.stop().await;
}

/// A console session in Chinese.
async fn zh_browser(srv: &TestServer, login: &str) -> Browser {
    let (secret, session) = srv.app.login(&srv.fx.tenant.slug, login, PASSWORD, "zh-CN").await.unwrap();
    Browser {
        http: srv.http.clone(),
        base: srv.base.clone(),
        cookies: vec![format!("mr_session={secret}")],
        csrf: session.csrf_token,
    }
}

fn no_raw_keys(what: &str, text: &str) {
    for prefix in ["notif.", "pref."] {
        assert!(!text.contains(prefix), "{what}: untranslated key {prefix}…");
    }
}

async fn console_pages(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let (admin_api, _, _) = clients(&srv).await;
    let admin = srv.browser(&srv.fx.tenant.slug, "admin").await;
    let employee = srv.browser(&srv.fx.tenant.slug, "employee").await;

    // Templates: the list, the editor with its preview.
    let list = admin.get("/ui/notifications/templates").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.text.matches("data-testid=\"edit-template\"").count(), NoticeKind::ALL.len() * Lang::ALL.len());
    assert!(list.text.contains("Confidential arrival"));
    no_raw_keys("templates", &list.text);
    let zh = zh_browser(&srv, "admin").await.get("/ui/notifications/templates").await;
    assert!(zh.text.contains("机要邮件到件通知") && zh.text.contains("内置措辞"), "{}", zh.text);
    no_raw_keys("templates zh", &zh.text);
    let ed = admin.get("/ui/notifications/templates/arrival/en").await;
    assert_eq!(ed.status, 200);
    assert!(ed.text.contains("data-testid=\"is-default\""));
    assert!(ed.text.contains("MR-7Q4K-2D"), "the preview shows example values");
    assert!(ed.text.contains("{{pickup_code}}"));
    let script = ed.text.split("src=\"").find(|s| s.contains("notify-template")).and_then(|s| s.split('"').next());
    let script = script.expect("the live preview script");
    let js = srv.http.get(format!("{}{script}", srv.base)).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.text().await.unwrap().contains("op"));
    no_raw_keys("editor", &ed.text);
    let conf = admin.get("/ui/notifications/templates/confidential_arrival/zh-CN").await;
    assert!(conf.text.contains("data-testid=\"confidential-note\""));

    // Preview before saving: an invalid template is explained, a valid one previewed; nothing saved.
    let path = "/ui/notifications/templates/arrival/en";
    let bad = admin.post(path, &[("op", "preview"), ("subject", "Hi {{nope}}"), ("body", "x")]).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("data-testid=\"template-error\"") && bad.text.contains("{{nope}}"));
    let good = admin
        .post(path, &[("op", "preview"), ("subject", "Parcel {{reference}} waiting"), ("body", "Code {{pickup_code}}")])
        .await;
    assert_eq!(good.status, 200, "{}", good.text);
    assert!(good.text.contains("Parcel MR-7Q4K-2D waiting") && good.text.contains("Code 482913"));
    assert_eq!(admin_api.get("/api/v1/notification-templates/arrival/en").await.body["is_default"], true);
    let bad_save = admin.post(path, &[("op", "save"), ("subject", "Hi {{nope}}"), ("body", "x")]).await;
    assert_eq!(bad_save.status, 422);
    let saved = admin
        .post(path, &[("op", "save"), ("subject", "Parcel {{reference}} waiting"), ("body", "Code {{pickup_code}}")])
        .await;
    assert_eq!((saved.status, saved.location.as_str()), (303, "/ui/notifications/templates/arrival/en?saved=1"));
    let api_path = "/api/v1/notification-templates/arrival/en";
    assert_eq!(admin_api.get(api_path).await.body["subject"], "Parcel {{reference}} waiting");
    let after = admin.get("/ui/notifications/templates").await;
    assert!(after.text.contains("Customised by admin"));
    let reset = admin.post(path, &[("op", "reset")]).await;
    assert_eq!(reset.status, 303);
    assert_eq!(admin_api.get("/api/v1/notification-templates/arrival/en").await.body["is_default"], true);

    // Endpoints: refused target, created webhook with its secret shown once, edit, delete.
    let eps = admin.get("/ui/notifications/endpoints").await;
    assert_eq!(eps.status, 200);
    assert!(eps.text.contains("data-testid=\"no-endpoints\""));
    no_raw_keys("endpoints", &eps.text);
    let refused = admin
        .post(
            "/ui/notifications/endpoints",
            &[("kind", "webhook"), ("name", "Inside"), ("url", "http://127.0.0.1:8080/h"), ("active", "on")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("Target not allowed"), "{}", refused.text);
    let created = admin
        .post(
            "/ui/notifications/endpoints",
            &[
                ("kind", "webhook"),
                ("name", "Hook"),
                ("url", "https://93.184.215.14/h"),
                ("active", "on"),
                ("events", "arrival"),
                ("events", "damaged"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    // The secret as the page shows it (HTML-escaped, as every page would show it).
    let secret = created.text.split("<code>whsec_").nth(1).and_then(|s| s.split("</code>").next()).unwrap();
    assert!(secret.len() >= 32);
    assert!(created.text.contains("data-testid=\"generated-secret\""));
    let again = admin.get("/ui/notifications/endpoints").await;
    assert!(!again.text.contains(secret), "the secret is shown once only");
    assert!(again.text.contains(">set<"));
    assert!(again.text.contains("Arrival, Damaged on arrival"));
    let api_list = admin_api.get("/api/v1/notification-endpoints").await;
    let id = api_list.body["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(api_list.body["items"][0]["events"], json!(["arrival", "damaged"]));
    let edit = admin.get(&format!("/ui/notifications/endpoints/{id}")).await;
    assert_eq!(edit.status, 200);
    assert!(!edit.text.contains(secret));
    let changed = admin
        .post(&format!("/ui/notifications/endpoints/{id}"), &[("kind", "webhook"), ("name", "Hook 2"), ("url", "")])
        .await;
    assert_eq!(changed.status, 303, "{}", changed.text);
    let now = admin_api.get(&format!("/api/v1/notification-endpoints/{id}")).await;
    assert_eq!(
        (&now.body["name"], &now.body["active"], &now.body["secret_set"]),
        (&json!("Hook 2"), &json!(false), &json!(true))
    );
    assert_eq!(now.body["url"], "https://93.184.215.14/h", "an empty URL keeps the address");
    let deleted = admin.post(&format!("/ui/notifications/endpoints/{id}"), &[("op", "delete")]).await;
    assert_eq!(deleted.status, 303);
    admin_api.get(&format!("/api/v1/notification-endpoints/{id}")).await.assert_problem(404, "not_found");

    // My notifications (the employee) and an administrator's view of them.
    let my = employee.get("/ui/my/notifications").await;
    assert_eq!(my.status, 200, "{}", my.text);
    assert!(my.text.contains("data-testid=\"pref-defaults\"") && my.text.contains("wj@example.cn"));
    no_raw_keys("my notifications", &my.text);
    assert!(employee.get("/ui/my").await.text.contains("/ui/my/notifications"));
    let bad = employee.post("/ui/my/notifications", &[("lang", "en"), ("sms", "on")]).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("data-testid=\"pref-error\""));
    let ok = employee
        .post(
            "/ui/my/notifications",
            &[
                ("lang", "en"),
                ("email", "on"),
                ("quiet_start", "22:00"),
                ("quiet_end", "07:00"),
                ("digest", "on"),
                ("digest_at", "09:15"),
            ],
        )
        .await;
    assert_eq!((ok.status, ok.location.as_str()), (303, "/ui/my/notifications?saved=1"));
    let shown = employee.get("/ui/my/notifications?saved=1").await;
    assert!(shown.text.contains("value=\"22:00\"") && shown.text.contains("value=\"09:15\""));
    assert!(!shown.text.contains("data-testid=\"pref-defaults\""));
    let person = srv.fx.person.id;
    assert_eq!(employee.get(&format!("/ui/people/{person}/notifications")).await.status, 403);
    assert_eq!(employee.get("/ui/notifications/templates").await.status, 403);
    assert!(
        admin.get(&format!("/ui/people/{person}")).await.text.contains(&format!("/ui/people/{person}/notifications"))
    );
    let theirs = admin.get(&format!("/ui/people/{person}/notifications")).await;
    assert_eq!(theirs.status, 200);
    assert!(theirs.text.contains("value=\"22:00\"") && theirs.text.contains("张伟杰"));
    let other = srv.fx.other_person.id;
    let set = admin.post(&format!("/ui/people/{other}/notifications"), &[("lang", "zh-CN"), ("robot", "on")]).await;
    assert_eq!(set.status, 303, "{}", set.text);
    let p = admin_api.get(&format!("/api/v1/people/{other}/notification-preferences")).await;
    assert_eq!((&p.body["robot"], &p.body["email"]), (&json!(true), &json!(false)));
    // A user without a directory entry is told so.
    let none = admin.get("/ui/my/notifications").await;
    assert_eq!(none.status, 200);
    assert!(none.text.contains("data-testid=\"pref-missing\""));
    srv.stop().await;
}

/// The store methods directly: absent rows, replacing, uniqueness, deleting, tenants apart.
async fn store_contract(b: Backend) {
    use mailroom_app::store::{ChannelEndpoint, NotificationTemplate, NotifyPreference, StoreError};
    use mailroom_domain::custody::{Actor, EventDraft};
    use mailroom_domain::ids::EndpointId;
    use mailroom_domain::notify::{EndpointKind, QuietHours};
    let Some(db) = crate::support::TestDb::new(b).await else { return };
    let app = crate::support::open_app(&db.url).await;
    let fx = crate::support::Fixture::new(app, "acme").await;
    let (s, t) = (&fx.app.store, fx.tenant.id);
    let other = fx.app.create_tenant("other", "Other").await.unwrap();
    let actor = Actor::system("test", "r1");
    let ev = |k: &str| EventDraft { item_id: None, kind: k.into(), location_id: None, details: json!({}) };
    let now = mailroom_domain::custody::storage_time(chrono::Utc::now());

    // Templates.
    assert!(s.notification_template(t, NoticeKind::Reminder, Lang::En).await.unwrap().is_none());
    let tpl = NotificationTemplate {
        kind: NoticeKind::Reminder,
        lang: Lang::En,
        subject: "S {{reference}}".into(),
        body: "B".into(),
        updated_at: now,
        updated_by: "admin".into(),
    };
    s.put_notification_template(t, NoticeKind::Reminder, Lang::En, Some(tpl.clone()), &actor, ev("x")).await.unwrap();
    let again = NotificationTemplate { body: "B2".into(), ..tpl.clone() };
    s.put_notification_template(t, NoticeKind::Reminder, Lang::En, Some(again.clone()), &actor, ev("x")).await.unwrap();
    assert_eq!(s.notification_template(t, NoticeKind::Reminder, Lang::En).await.unwrap(), Some(again));
    assert_eq!(s.notification_templates(t).await.unwrap().len(), 1);
    assert!(s.notification_templates(other.id).await.unwrap().is_empty());
    assert!(s.notification_template(t, NoticeKind::Reminder, Lang::ZhCn).await.unwrap().is_none());
    s.put_notification_template(t, NoticeKind::Reminder, Lang::En, None, &actor, ev("x")).await.unwrap();
    assert!(s.notification_templates(t).await.unwrap().is_empty());

    // Preferences: saved ones read back exactly, per tenant.
    assert!(s.notify_preference(t, fx.person.id).await.unwrap().is_none());
    assert!(NotifyPreference::defaults(&fx.person).email);
    assert!(!NotifyPreference::defaults(&fx.other_person).email);
    let hm = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).unwrap();
    let pref = NotifyPreference {
        person_id: fx.person.id,
        lang: Lang::En,
        email: true,
        sms: false,
        robot: true,
        quiet: Some(QuietHours { start: hm(22, 30), end: hm(6, 45) }),
        digest: true,
        digest_at: Some(hm(8, 5)),
        updated_at: Some(now),
    };
    s.put_notify_preference(t, &pref, &actor, ev("x")).await.unwrap();
    s.put_notify_preference(t, &pref, &actor, ev("x")).await.unwrap();
    assert_eq!(s.notify_preference(t, fx.person.id).await.unwrap(), Some(pref.clone()));
    assert!(s.notify_preference(other.id, fx.person.id).await.unwrap().is_none());
    let plain = NotifyPreference { person_id: fx.other_person.id, quiet: None, digest_at: None, ..pref.clone() };
    s.put_notify_preference(t, &plain, &actor, ev("x")).await.unwrap();
    let many =
        s.notify_preferences(t, &[fx.person.id, fx.other_person.id, mailroom_domain::ids::PersonId::new()]).await;
    assert_eq!(many.unwrap().len(), 2);
    assert!(s.notify_preferences(t, &[]).await.unwrap().is_empty());

    // Endpoints: upsert by id, unique names, delete.
    let e = ChannelEndpoint {
        id: EndpointId::new(),
        tenant_id: t,
        kind: EndpointKind::Feishu,
        name: "Lark".into(),
        url: "https://8.8.8.8/open-apis/bot/v2/hook/abc".into(),
        secret: Some("feishu-secret".into()),
        config: json!({}),
        department_id: Some(fx.dept.id),
        events: vec![NoticeKind::Arrival, NoticeKind::Digest],
        active: true,
        created_at: now,
        updated_at: now,
    };
    assert!(!format!("{e:?}").contains("feishu-secret"), "Debug redacts the secret");
    s.put_channel_endpoint(&e, &actor, ev("x")).await.unwrap();
    let changed = ChannelEndpoint { active: false, events: vec![], ..e.clone() };
    s.put_channel_endpoint(&changed, &actor, ev("x")).await.unwrap();
    assert_eq!(s.channel_endpoint(t, e.id).await.unwrap(), Some(changed.clone()));
    assert!(!changed.wants(NoticeKind::Arrival), "inactive");
    let twin = ChannelEndpoint { id: EndpointId::new(), ..e.clone() };
    assert!(matches!(s.put_channel_endpoint(&twin, &actor, ev("x")).await, Err(StoreError::Duplicate(_))));
    let elsewhere = ChannelEndpoint { id: EndpointId::new(), tenant_id: other.id, department_id: None, ..e.clone() };
    s.put_channel_endpoint(&elsewhere, &actor, ev("x")).await.unwrap();
    assert_eq!(s.channel_endpoints(t).await.unwrap().len(), 1);
    assert!(s.channel_endpoint(other.id, e.id).await.unwrap().is_none());
    assert!(matches!(s.delete_channel_endpoint(other.id, e.id, &actor, ev("x")).await, Err(StoreError::NotFound)));
    s.delete_channel_endpoint(t, e.id, &actor, ev("x")).await.unwrap();
    assert!(s.channel_endpoints(t).await.unwrap().is_empty());
    assert_eq!(s.channel_endpoints(other.id).await.unwrap().len(), 1);
    db.cleanup().await;
}

both_backends!(store_contract);
both_backends!(templates_api, preferences_api, endpoints_api, allowed_private_target, console_pages);
