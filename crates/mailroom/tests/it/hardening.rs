//! Web and API hardening through a real server, on both backends: login throttling and lockout,
//! scoped, expiring and revocable API tokens, the audit log, CSRF and cross-site refusal,
//! cookies, sessions, security headers and upload checks.

use crate::both_backends;
use crate::support::{Backend, PASSWORD, Resp, ServerOptions, TestServer, cli};
use chrono::Duration;
use mailroom_app::outbound::IpRange;
use mailroom_app::security::SecurityPolicy;
use mailroom_domain::ErrorCode;
use mailroom_domain::throttle::ThrottleRule;
use serde_json::{Value, json};

fn policy(account_max: u32, address_max: u32) -> SecurityPolicy {
    SecurityPolicy {
        account: ThrottleRule { max_failures: account_max, window_secs: 900, lockout_secs: 60, max_lockout_secs: 3600 },
        address: ThrottleRule { max_failures: address_max, window_secs: 900, lockout_secs: 900, max_lockout_secs: 900 },
        ..SecurityPolicy::default()
    }
}

fn form(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect::<Vec<_>>().join("&")
}

fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The value a response sets for a cookie, and the whole `Set-Cookie` line.
fn set_cookie(headers: &reqwest::header::HeaderMap, name: &str) -> Option<(String, String)> {
    headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
        let (kv, _) = line.split_once(';').unwrap_or((line, ""));
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| (v.to_string(), line.to_string()))
    })
}

/// Posts the console login form (fetching its CSRF cookie first).
async fn console_login(srv: &TestServer, login: &str, password: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let page = srv.http.get(format!("{}/ui/login", srv.base)).send().await.unwrap();
    let (csrf, _) = set_cookie(page.headers(), "mr_login").unwrap();
    let body = form(&[("csrf", &csrf), ("org", "acme"), ("login", login), ("password", password), ("lang", "en")]);
    let mut r = srv
        .http
        .post(format!("{}/ui/login", srv.base))
        .header("cookie", format!("mr_login={csrf}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    for (k, v) in extra {
        r = r.header(*k, *v);
    }
    r.send().await.unwrap()
}

/// Logs in at the console; returns the session cookie and the session's CSRF token.
async fn session(srv: &TestServer, login: &str) -> (String, String) {
    let r = console_login(srv, login, PASSWORD, &[]).await;
    assert_eq!(r.status(), 303);
    let (cookie, _) = set_cookie(r.headers(), "mr_session").unwrap();
    let page = srv.http.get(format!("{}/ui/people", srv.base)).header("cookie", format!("mr_session={cookie}")).send();
    let html = page.await.unwrap().text().await.unwrap();
    let marker = "name=\"csrf-token\" content=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = html[start..].split('"').next().unwrap().to_string();
    (cookie, csrf)
}

fn password_token(login: &str, password: &str) -> Value {
    json!({"organisation": "acme", "login": login, "password": password, "scope": "scanner"})
}

async fn account_lockout_backs_off_and_admins_unlock(b: Backend) {
    let opts = ServerOptions { policy: Some(policy(3, 100)), ..Default::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    // Two failures are answered as failures; the third locks the account for a minute.
    for _ in 0..2 {
        assert_eq!(console_login(&srv, "clerk", "wrong password", &[]).await.status(), 401);
    }
    let r = console_login(&srv, "clerk", "wrong password", &[]).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "60");
    assert!(r.text().await.unwrap().contains("Too many failed logins"));
    // While locked, even the right password is refused, at the console and through the API.
    assert_eq!(console_login(&srv, "clerk", PASSWORD, &[]).await.status(), 429);
    let r = srv.anonymous().post("/api/v1/auth/token", &password_token("clerk", PASSWORD)).await;
    r.assert_problem(429, "too_many_attempts");
    assert!(r.header("retry-after").parse::<u64>().unwrap() > 0);
    // The counters live in the database: another server node on it sees the lockout.
    let other_node = mailroom_app::App::open(&srv.db.url).await.unwrap();
    let e = other_node.login("acme", "clerk", PASSWORD, "en").await.err().map(|e| e.code());
    assert_eq!(e, Some(ErrorCode::TooManyAttempts));
    // Unknown logins are throttled the same way, so a lockout reveals nothing.
    for _ in 0..3 {
        console_login(&srv, "nobody", "x", &[]).await;
    }
    assert_eq!(console_login(&srv, "nobody", "x", &[]).await.status(), 429);
    // Admins see the lockout.
    let l = admin.get("/api/v1/lockouts").await;
    let locked: Vec<&str> = l.body["items"].as_array().unwrap().iter().map(|i| i["login"].as_str().unwrap()).collect();
    assert!(locked.contains(&"clerk"), "{}", l.text);
    // After the lockout, one more failure locks for twice as long.
    srv.app.clock.advance(Duration::seconds(61));
    let r = console_login(&srv, "clerk", "wrong again", &[]).await;
    assert_eq!((r.status().as_u16(), r.headers()["retry-after"].to_str().unwrap()), (429, "120"));
    // An administrator lifts it.
    let clerk_id = srv.fx.staff.user_id;
    srv.client(&srv.token("clerk").await)
        .post(&format!("/api/v1/users/{clerk_id}/unlock"), &json!({}))
        .await
        .assert_problem(403, "forbidden");
    let r = admin.post(&format!("/api/v1/users/{clerk_id}/unlock"), &json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(console_login(&srv, "clerk", PASSWORD, &[]).await.status(), 303);
    // A successful login clears the count; expiry alone also unlocks.
    for _ in 0..3 {
        console_login(&srv, "clerk", "wrong", &[]).await;
    }
    assert_eq!(console_login(&srv, "clerk", PASSWORD, &[]).await.status(), 429);
    srv.app.clock.advance(Duration::seconds(61));
    assert_eq!(console_login(&srv, "clerk", PASSWORD, &[]).await.status(), 303);
    let audit = admin.get("/api/v1/audit?kind=admin.login.").await;
    assert_eq!(audit.body["items"][0]["kind"], "admin.login.unlock");
    assert_eq!(audit.body["items"][0]["details"], r#"{"login":"clerk"}"#);
    srv.stop().await;
}

async fn addresses_are_rate_limited(b: Backend) {
    let opts = ServerOptions {
        policy: Some(policy(100, 4)),
        trusted_proxies: vec![IpRange::parse("127.0.0.1").unwrap()],
        ..Default::default()
    };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    let anon = srv.anonymous();
    let from = |ip: &'static str| [("x-forwarded-for", ip)];
    // Four failures from one address, spread over accounts, block the address.
    for login in ["a", "b", "c"] {
        let r = anon.post_with("/api/v1/auth/token", &password_token(login, "guess"), &from("203.0.113.7")).await;
        r.assert_problem(401, "unauthorized");
    }
    let r = anon.post_with("/api/v1/auth/token", &password_token("d", "guess"), &from("203.0.113.7")).await;
    r.assert_problem(429, "too_many_attempts");
    assert_eq!(r.header("retry-after"), "900");
    let r = anon.post_with("/api/v1/auth/token", &password_token("clerk", PASSWORD), &from("203.0.113.7")).await;
    r.assert_problem(429, "too_many_attempts");
    // Other addresses are not affected.
    let r = anon.post_with("/api/v1/auth/token", &password_token("clerk", PASSWORD), &from("198.51.100.9")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["scope"], "scanner");
    assert!(r.body["secret"].as_str().unwrap().starts_with("mr_"));
    assert!(r.body["expires_at"].is_string(), "password tokens expire by default");
    // The console refuses the blocked address too, and lets it in once the window has passed.
    assert_eq!(console_login(&srv, "clerk", PASSWORD, &from("203.0.113.7")).await.status(), 429);
    srv.app.clock.advance(Duration::seconds(901));
    assert_eq!(console_login(&srv, "clerk", PASSWORD, &from("203.0.113.7")).await.status(), 303);
    srv.stop().await;
}

async fn api_tokens_are_scoped_expiring_and_revocable(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk_id = srv.fx.staff.user_id.to_string();
    let person = srv.fx.person.id.to_string();
    // An administrator makes a scanner token for the clerk.
    let r = admin.post("/api/v1/tokens", &json!({"name": "scanner 2F", "user_id": clerk_id, "scope": "scanner"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.body.get("token_hash").is_none());
    let scanner_id = r.body["id"].as_str().unwrap().to_string();
    let scanner = srv.client(r.body["secret"].as_str().unwrap());
    let item = scanner
        .post("/api/v1/items", &json!({"tracking_number": "SCAN00000001", "recipient": {"person_id": person}}))
        .await;
    assert_eq!(item.status, 201, "{}", item.text);
    let id = item.body["id"].as_str().unwrap();
    assert_eq!(scanner.get("/api/v1/items?tracking=SCAN00000001").await.status, 200);
    assert_eq!(scanner.get(&format!("/api/v1/items/{id}")).await.status, 200);
    assert_eq!(scanner.get("/api/v1/people?q=zhang").await.status, 200);
    // Outside its scope: 403.
    scanner
        .post(&format!("/api/v1/items/{id}/transitions"), &json!({"action": "notify"}))
        .await
        .assert_problem(403, "forbidden");
    scanner.get(&format!("/api/v1/items/{id}/events")).await.assert_problem(403, "forbidden");
    scanner.post("/api/v1/tokens", &json!({})).await.assert_problem(403, "forbidden");
    // The custody log names the token an item was registered with.
    let events = admin.get(&format!("/api/v1/items/{id}/events")).await;
    assert!(events.body["items"][0]["source"].as_str().unwrap().contains(&format!("token={scanner_id}")));
    // Read-only tokens read.
    let ro = admin.post("/api/v1/tokens", &json!({"scope": "read_only"})).await;
    let ro_id = ro.body["id"].as_str().unwrap().to_string();
    let ro = srv.client(ro.body["secret"].as_str().unwrap());
    assert_eq!(ro.get("/api/v1/users").await.status, 200);
    ro.post("/api/v1/sites", &json!({"name": "X"})).await.assert_problem(403, "forbidden");
    // A narrower role: an admin's staff token may not manage users; no token exceeds its user.
    let staffish = admin.post("/api/v1/tokens", &json!({"role": "staff"})).await;
    assert_eq!(staffish.body["role"], "staff");
    let staffish = srv.client(staffish.body["secret"].as_str().unwrap());
    assert_eq!(staffish.get("/api/v1/me").await.body["role"], "staff");
    staffish.get("/api/v1/users").await.assert_problem(403, "forbidden");
    // … and the tokens it makes stay at staff.
    let child = staffish.post("/api/v1/tokens", &json!({})).await;
    assert_eq!(child.body["role"], "staff", "{}", child.text);
    staffish.post("/api/v1/tokens", &json!({"role": "admin"})).await.assert_problem(422, "validation_failed");
    admin
        .post("/api/v1/tokens", &json!({"user_id": clerk_id, "role": "admin"}))
        .await
        .assert_problem(422, "validation_failed");
    admin.post("/api/v1/tokens", &json!({"scope": "root"})).await.assert_problem(422, "validation_failed");
    admin.post("/api/v1/tokens", &json!({"expires_in": "forever"})).await.assert_problem(422, "validation_failed");
    // Staff make tokens for themselves only, and see only their own.
    let clerk = srv.client(&srv.token("clerk").await);
    clerk.post("/api/v1/tokens", &json!({"user_id": srv.fx.admin.user_id})).await.assert_problem(403, "forbidden");
    let mine = clerk.get("/api/v1/tokens").await;
    assert!(mine.body["items"].as_array().unwrap().iter().all(|t| t["user_id"] == clerk_id.as_str()));
    assert!(!mine.text.contains("secret") && !mine.text.contains("token_hash"));
    // Last use is recorded.
    let all = admin.get("/api/v1/tokens").await;
    let listed = all.body["items"].as_array().unwrap().iter().find(|t| t["id"] == scanner_id.as_str()).unwrap();
    assert!(listed["last_used_at"].is_string(), "{listed}");
    // Expiry: a one-hour token stops working after an hour.
    let short = admin.post("/api/v1/tokens", &json!({"expires_in": "1h"})).await;
    let short = srv.client(short.body["secret"].as_str().unwrap());
    assert_eq!(short.get("/api/v1/me").await.status, 200);
    srv.app.clock.advance(Duration::seconds(3601));
    short.get("/api/v1/me").await.assert_problem(401, "unauthorized");
    // Revocation: someone else's token is not even found; one's own or (admins) any is revoked.
    clerk.delete(&format!("/api/v1/tokens/{ro_id}")).await.assert_problem(404, "not_found");
    assert_eq!(ro.get("/api/v1/me").await.status, 200);
    let r = admin.delete(&format!("/api/v1/tokens/{scanner_id}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    scanner.get("/api/v1/items").await.assert_problem(401, "unauthorized");
    assert_eq!(admin.delete(&format!("/api/v1/tokens/{scanner_id}")).await.status, 204);
    admin.delete("/api/v1/tokens/nope").await.assert_problem(404, "not_found");
    // Retrying a creation with the same Idempotency-Key returns the same token, without its
    // secret, and the secret is not kept anywhere.
    let k = [("Idempotency-Key", "tok-1")];
    let first = admin.post_with("/api/v1/tokens", &json!({"name": "retry"}), &k).await;
    let again = admin.post_with("/api/v1/tokens", &json!({"name": "retry"}), &k).await;
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.body["id"], again.body["id"]);
    assert!(again.body["secret"].is_null());
    let secret = first.body["secret"].as_str().unwrap();
    let kept = srv.db.scalar(&format!("SELECT COUNT(*) FROM http_idempotency WHERE body LIKE '%{secret}%'")).await;
    assert_eq!(kept, 0);
    srv.stop().await;
}

/// Pages through the audit log with a small page size.
async fn audit_pages(c: &crate::support::Client, kind: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut url = format!("/api/v1/audit?kind={kind}&limit=3");
    loop {
        let r = c.get(&url).await;
        assert_eq!(r.status, 200, "{}", r.text);
        out.extend(r.body["items"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(cur) => url = format!("/api/v1/audit?kind={kind}&limit=3&cursor={cur}"),
            None => break,
        }
    }
    out
}

async fn admin_actions_are_audited(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let token = srv.token("admin").await;
    let admin = srv.client(&token);
    let rid = |r: &'static str| [("x-request-id", r)];
    let d = admin.post_with("/api/v1/departments", &json!({"code": "AUD", "name": "审计部"}), &rid("req-dept")).await;
    let did = d.body["id"].as_str().unwrap().to_string();
    admin
        .put(&format!("/api/v1/departments/{did}"), &json!({"code": "AUD", "name": "审计部", "name_en": "Audit"}))
        .await;
    let p = admin.post("/api/v1/people", &json!({"name": "王五", "email": "w5@example.cn"})).await;
    let pid = p.body["id"].as_str().unwrap().to_string();
    let r = admin
        .put(&format!("/api/v1/people/{pid}"), &json!({"name": "王五", "email": "secret.address@example.cn"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(admin.delete(&format!("/api/v1/departments/{did}")).await.status, 204);
    let site = admin.post("/api/v1/sites", &json!({"name": "East"})).await;
    admin.post("/api/v1/locations", &json!({"site_id": site.body["id"], "code": "E1", "name": "Shelf"})).await;
    let csv = "name,employee_no\n赵六,E900\n".as_bytes().to_vec();
    assert_eq!(admin.post_raw("/api/v1/people/import", "text/csv", csv).await.status, 200);
    admin
        .post(
            "/api/v1/users",
            &json!({"login": "desk", "display_name": "Desk", "password": "long enough pw", "role": "staff"}),
        )
        .await;
    let tok = admin.post("/api/v1/tokens", &json!({"name": "ci"})).await;
    admin.delete(&format!("/api/v1/tokens/{}", tok.body["id"].as_str().unwrap())).await;
    // A refused change leaves no trace.
    admin
        .post("/api/v1/departments", &json!({"code": "AUD!", "name": "x"}))
        .await
        .assert_problem(422, "validation_failed");
    let events = audit_pages(&admin, "admin.").await;
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in [
        "admin.department.create",
        "admin.department.update",
        "admin.department.delete",
        "admin.person.create",
        "admin.person.update",
        "admin.site.create",
        "admin.location.create",
        "admin.directory.import",
        "admin.user.create",
        "admin.token.create",
        "admin.token.revoke",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert!(events.windows(2).all(|w| w[0]["seq"].as_i64() > w[1]["seq"].as_i64()), "newest first");
    assert!(events.iter().all(|e| e["item_id"].is_null()));
    let dept = events.iter().find(|e| e["kind"] == "admin.department.create").unwrap();
    assert_eq!(dept["actor_name"], "admin");
    assert_eq!(dept["actor_id"], srv.fx.admin.user_id.to_string().as_str());
    assert_eq!(dept["request_id"], "req-dept");
    assert!(dept["source"].as_str().unwrap().starts_with("127.0.0.1 token="), "{dept}");
    // Updates name the changed fields, never personal data.
    let upd = events.iter().find(|e| e["kind"] == "admin.person.update").unwrap();
    let details: Value = serde_json::from_str(upd["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["changed"], json!(["email"]));
    assert!(!events.iter().any(|e| e.to_string().contains("secret.address")));
    // Operator actions (the fixture's users) are attributed to the operator.
    assert!(events.iter().any(|e| e["kind"] == "admin.user.create" && e["actor_name"] == "operator"));
    // Only administrators read the log.
    srv.client(&srv.token("clerk").await).get("/api/v1/audit").await.assert_problem(403, "forbidden");
    srv.client(&srv.token("employee").await).get("/api/v1/audit").await.assert_problem(403, "forbidden");
    admin.get("/api/v1/audit?cursor=abc").await.assert_problem(422, "validation_failed");
    // The whole log, admin events included, still verifies.
    let (code, out, _) = cli(&["verify", "--db", &srv.db.url]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("chain intact"), "{out}");
    srv.stop().await;
}

async fn csrf_cookies_sessions_and_cross_site(b: Backend) {
    let opts = ServerOptions { secure_cookies: true, ..Default::default() };
    let Some(srv) = TestServer::start_with(b, opts).await else { return };
    // Cookie flags.
    let r = console_login(&srv, "admin", PASSWORD, &[]).await;
    let (_, line) = set_cookie(r.headers(), "mr_session").unwrap();
    for flag in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(line.contains(flag), "{flag} missing: {line}");
    }
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    let (cookie, csrf) = session(&srv, "admin").await;
    let cookie = format!("mr_session={cookie}");
    let post = |path: &str, body: String, headers: Vec<(&'static str, String)>| {
        let mut r = srv.http.post(format!("{}{path}", srv.base)).header("cookie", &cookie).body(body);
        for (k, v) in headers {
            r = r.header(k, v);
        }
        r.send()
    };
    let form_type = ("content-type", "application/x-www-form-urlencoded".to_string());
    // Console forms: missing or wrong token → 403; right token → done.
    let dept = |csrf: &str, code: &str| form(&[("csrf", csrf), ("code", code), ("name", "测试")]);
    assert_eq!(post("/ui/departments/new", dept("", "T1"), vec![form_type.clone()]).await.unwrap().status(), 403);
    assert_eq!(
        post("/ui/departments/new", dept(&"0".repeat(32), "T1"), vec![form_type.clone()]).await.unwrap().status(),
        403
    );
    assert_eq!(post("/ui/departments/new", dept(&csrf, "T1"), vec![form_type.clone()]).await.unwrap().status(), 303);
    // Session-authenticated API calls need X-CSRF-Token on unsafe methods.
    let json_type = ("content-type", "application/json".to_string());
    let n = std::sync::atomic::AtomicU32::new(0);
    let body = || json!({"name": format!("Site {}", n.fetch_add(1, std::sync::atomic::Ordering::Relaxed))}).to_string();
    let r = post("/api/v1/sites", body(), vec![json_type.clone()]).await.unwrap();
    assert_eq!(r.status(), 403);
    let r = post("/api/v1/sites", body(), vec![json_type.clone(), ("x-csrf-token", "f".repeat(32))]).await.unwrap();
    assert_eq!(r.status(), 403);
    let ok = vec![json_type.clone(), ("x-csrf-token", csrf.clone())];
    assert_eq!(post("/api/v1/sites", body(), ok.clone()).await.unwrap().status(), 201);
    // A browser request on behalf of another site is refused even with the right token.
    let mut cross = ok.clone();
    cross.push(("sec-fetch-site", "cross-site".into()));
    let r = post("/api/v1/sites", body(), cross).await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let mut foreign = ok.clone();
    foreign.push(("origin", "http://evil.example".into()));
    assert_eq!(post("/api/v1/sites", body(), foreign).await.unwrap().status(), 403);
    let mut same = ok.clone();
    same.push(("origin", srv.base.clone()));
    same.push(("sec-fetch-site", "same-origin".into()));
    assert_eq!(post("/api/v1/sites", body(), same).await.unwrap().status(), 201);
    let mut cross_form = vec![form_type.clone(), ("sec-fetch-site", "cross-site".into())];
    cross_form.push(("origin", "http://evil.example".into()));
    let r = post("/ui/departments/new", dept(&csrf, "T2"), cross_form).await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    // Sessions end after an hour without use, but not while in use.
    let get = |path: &str| srv.http.get(format!("{}{path}", srv.base)).header("cookie", &cookie).send();
    srv.app.clock.advance(Duration::minutes(50));
    assert_eq!(get("/ui/people").await.unwrap().status(), 200);
    srv.app.clock.advance(Duration::minutes(50));
    assert_eq!(get("/ui/people").await.unwrap().status(), 200);
    srv.app.clock.advance(Duration::minutes(61));
    let r = get("/ui/people").await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/ui/login"));
    // … and twelve hours after login however busy.
    let (cookie2, _) = session(&srv, "clerk").await;
    for _ in 0..13 {
        srv.app.clock.advance(Duration::minutes(59));
        srv.http
            .get(format!("{}/ui/items", srv.base))
            .header("cookie", format!("mr_session={cookie2}"))
            .send()
            .await
            .unwrap();
    }
    let r = srv.http.get(format!("{}/ui/items", srv.base)).header("cookie", format!("mr_session={cookie2}")).send();
    assert_eq!(r.await.unwrap().status(), 303);
    srv.stop().await;
}

fn assert_security_headers(r: &Resp, what: &str) {
    let csp = r.header("content-security-policy");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline") || csp.contains("sandbox"),
        "{what}: {csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'") || csp.contains("sandbox"), "{what}: {csp}");
    assert_eq!(r.header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(r.header("x-frame-options"), "DENY", "{what}");
    assert_eq!(r.header("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(r.header("cross-origin-opener-policy"), "same-origin", "{what}");
    assert!(r.header("permissions-policy").contains("camera=(self)"), "{what}");
    assert!(r.header("strict-transport-security").is_empty(), "{what}: HSTS only with --secure-cookies");
}

async fn security_headers_everywhere(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let anon = srv.anonymous();
    let api = srv.client(&srv.token("clerk").await);
    for (what, r) in [
        ("login page", anon.get("/ui/login").await),
        ("static file", anon.get("/static/console.css").await),
        ("health", anon.get("/healthz").await),
        ("api", api.get("/api/v1/me").await),
        ("api error", anon.get("/api/v1/items").await),
        ("api 404", anon.get("/api/v1/nope").await),
        ("page 404", anon.get("/ui/nope").await),
    ] {
        assert_security_headers(&r, what);
    }
    assert_eq!(api.get("/api/v1/me").await.header("cache-control"), "no-store");
    srv.stop().await;
}

async fn uploads_are_checked(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    let before = srv.app.store.count_people(srv.fx.tenant.id).await.unwrap();
    let head = srv.app.store.custody_head(srv.fx.tenant.id).await.unwrap();
    let csv = b"name,employee_no\nA,E1000\n".to_vec();
    admin
        .post_raw("/api/v1/people/import", "application/json", csv.clone())
        .await
        .assert_problem(415, "unsupported_media_type");
    admin.post_raw("/api/v1/people/import", "image/png", csv).await.assert_problem(415, "unsupported_media_type");
    let mut xlsx = b"PK\x03\x04\x14\x00\x06\x00".to_vec();
    xlsx.extend_from_slice(&[0u8; 64]);
    let r = admin.post_raw("/api/v1/people/import", "text/csv", xlsx).await;
    r.assert_problem(415, "unsupported_media_type");
    assert!(r.body["detail"].as_str().unwrap().contains("Excel"), "{}", r.text);
    let utf16: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain("name\n".encode_utf16().flat_map(|u| u.to_le_bytes())).collect();
    admin.post_raw("/api/v1/people/import", "text/csv", utf16).await.assert_problem(415, "unsupported_media_type");
    admin
        .post_raw("/api/v1/people/import", "text/csv", b"name\nA\x00B\n".to_vec())
        .await
        .assert_problem(415, "unsupported_media_type");
    let mut huge = b"name,employee_no\n".to_vec();
    huge.resize(32 * 1024 * 1024 + 1, b'a');
    admin.post_raw("/api/v1/people/import", "text/csv", huge).await.assert_problem(413, "payload_too_large");
    admin
        .post_raw("/api/v1/departments/import", "text/csv", b"%PDF-1.7\n".to_vec())
        .await
        .assert_problem(415, "unsupported_media_type");
    // Signature images: an SVG that would run script is refused, whatever its spelling.
    let item = clerk
        .post(
            "/api/v1/items",
            &json!({"tracking_number": "SIG000000001", "recipient": {"person_id": srv.fx.person.id}}),
        )
        .await;
    let id = item.body["id"].as_str().unwrap().to_string();
    for action in [json!({"action": "store", "location_id": srv.fx.shelf.id}), json!({"action": "ready_for_pickup"})] {
        assert_eq!(clerk.post(&format!("/api/v1/items/{id}/transitions"), &action).await.status, 200);
    }
    for svg in ["<svg/onload=alert(1)>", "<svg><a href='java&#x73;cript:x'/></svg>", "<svg><foreignObject/></svg>"] {
        use base64::Engine;
        let data = base64::engine::general_purpose::STANDARD.encode(svg);
        let r = clerk
            .post(
                &format!("/api/v1/items/{id}/transitions"),
                &json!({"action": "pick_up", "handover": {"taken_by": "x"}, "signature": {"data": data}}),
            )
            .await;
        r.assert_problem(415, "unsupported_media_type");
    }
    assert_eq!(srv.app.store.count_people(srv.fx.tenant.id).await.unwrap(), before);
    assert_eq!(srv.app.store.custody_head(srv.fx.tenant.id).await.unwrap().0, head.0 + 3, "intake and two moves only");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_unlocks_from_the_cli() {
    let Some(db) = crate::support::TestDb::new(Backend::Sqlite).await else { return };
    let app = mailroom_app::App::open(&db.url).await.unwrap();
    let fx = crate::support::Fixture::new(app.clone(), "acme").await;
    let (code, out, err) = cli(&[
        "token",
        "create",
        "--tenant",
        "acme",
        "--user",
        "clerk",
        "--name",
        "scanner 2F",
        "--scope",
        "scanner",
        "--expires-in",
        "30d",
        "--db",
        &db.url,
    ]);
    assert_eq!(code, 0, "{err}");
    let secret = out.trim().to_string();
    assert!(secret.starts_with("mr_") && secret.len() == 67, "{out}");
    assert!(err.contains("scope scanner"), "{err}");
    let (_, tok) = app.authenticate_api_token(&secret).await.unwrap();
    assert_eq!(tok.name, "scanner 2F");
    assert!(tok.expires_at.is_some());
    let (code, out, _) = cli(&["token", "list", "--tenant", "acme", "--db", &db.url]);
    assert_eq!(code, 0);
    assert!(out.contains(&tok.id.to_string()) && out.contains("scanner 2F") && out.contains("active"), "{out}");
    let (code, _, err) =
        cli(&["token", "create", "--tenant", "acme", "--user", "clerk", "--scope", "god", "--db", &db.url]);
    assert_ne!(code, 0);
    assert!(err.contains("scope"), "{err}");
    let (code, _, err) =
        cli(&["token", "create", "--tenant", "acme", "--user", "clerk", "--role", "admin", "--db", &db.url]);
    assert_ne!(code, 0);
    assert!(err.contains("role"), "{err}");
    let (code, out, _) = cli(&["token", "revoke", &tok.id.to_string(), "--db", &db.url]);
    assert_eq!(code, 0, "{out}");
    assert!(app.authenticate_api_token(&secret).await.is_err());
    let (code, out, _) = cli(&["token", "list", "--db", &db.url]);
    assert_eq!(code, 0);
    assert!(out.contains("revoked"), "{out}");
    let (code, _, err) = cli(&["token", "revoke", "not-an-id", "--db", &db.url]);
    assert_ne!(code, 0);
    assert!(err.contains("not a token id"), "{err}");
    // Unlock from the command line.
    for _ in 0..5 {
        let _ = app.login("acme", "clerk", "wrong", "en").await;
    }
    assert_eq!(
        app.login("acme", "clerk", PASSWORD, "en").await.err().map(|e| e.code()),
        Some(ErrorCode::TooManyAttempts)
    );
    let (code, out, err) = cli(&["user", "unlock", "--tenant", "acme", "--login", "clerk", "--db", &db.url]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("unlocked"), "{out}");
    assert!(app.login("acme", "clerk", PASSWORD, "en").await.is_ok());
    let (code, out, _) = cli(&["verify", "--db", &db.url]);
    assert_eq!(code, 0, "{out}");
    let kinds: Vec<String> = app
        .audit_log(&fx.admin, Some("admin."), None, Some(200))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&"admin.login.unlock".to_string()) && kinds.contains(&"admin.token.revoke".to_string()));
    db.cleanup().await;
}

both_backends!(
    account_lockout_backs_off_and_admins_unlock,
    addresses_are_rate_limited,
    api_tokens_are_scoped_expiring_and_revocable,
    admin_actions_are_audited,
    csrf_cookies_sessions_and_cross_site,
    security_headers_everywhere,
    uploads_are_checked,
);
