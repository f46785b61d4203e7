//! Tenant isolation: a caller of organisation B, given everything that identifies organisation
//! A's data (ids, tracking numbers, reference codes, names, search terms, idempotency keys,
//! department codes), gets nothing: 404 rather than 403, empty lists, B's own counts, and
//! answers indistinguishable from those for ids that never existed. Every route that touches
//! tenant data is probed; the suite fails when a route is added without a probe.

use crate::both_backends;
use crate::roles::handed_over;
use crate::routes::{Access, ROUTES, key, server_routes};
use crate::support::{Backend, Browser, Client, Fixture, Page, Resp, TestServer, enc};
use mailroom_domain::auth::Role;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Mutex;

/// What organisation A has and B must never see.
struct Alpha {
    /// A delegation between two of A's people.
    delegation: String,
    item: String,
    invoice: String,
    reference: String,
    tracking: String,
    person: String,
    dept: String,
    dept_code: String,
    site: String,
    location: String,
    /// A photo kept with `item`.
    photo: String,
    /// An open exception of A's (a scan with an unreadable recipient).
    exception: String,
    /// Every string of A's that must not appear in an answer to B.
    secrets: Vec<String>,
}

/// The probes made, by route, so that the suite can tell which routes it missed.
struct Probes(Mutex<BTreeSet<String>>);

impl Probes {
    fn hit(&self, method: &str, path: &str) {
        self.0.lock().unwrap().insert(key(method, path));
    }
}

fn no_leak(what: &str, text: &str, a: &Alpha) {
    for s in &a.secrets {
        assert!(!text.contains(s.as_str()), "{what}: the answer shows A's {s:?}: {text}");
    }
}

/// An answer without its request id, to compare two answers.
fn shape(r: &Resp) -> (u16, String, Value) {
    let mut body = r.body.clone();
    if let Some(o) = body.as_object_mut() {
        o.remove("request_id");
    }
    (r.status, r.content_type.clone(), body)
}

/// A's id and a never-existing id get the same answer.
fn same(what: &str, with_a: &Resp, with_random: &Resp) {
    assert_eq!(shape(with_a), shape(with_random), "{what}: A's id is distinguishable from a random one");
}

fn ids(r: &Resp) -> Vec<String> {
    r.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["id"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn random() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn seed_alpha(srv: &TestServer) -> Alpha {
    let clerk = srv.client(&srv.token("clerk").await);
    let admin = srv.client(&srv.token("admin").await);
    let dept =
        admin.post("/api/v1/departments", &json!({"code": "ALPHASECRET", "name": "Alpha Secret Department"})).await;
    assert_eq!(dept.status, 201, "{}", dept.text);
    let person = admin
        .post(
            "/api/v1/people",
            &json!({"name": "Alphonse Secretperson", "employee_no": "ALPHA-E9", "department_id": dept.body["id"],
                    "email": "alphonse@alpha.example"}),
        )
        .await;
    assert_eq!(person.status, 201, "{}", person.text);
    let site = admin.post("/api/v1/sites", &json!({"name": "Alpha Secret Site"})).await;
    let location = admin
        .post("/api/v1/locations", &json!({"site_id": site.body["id"], "code": "ALPHALOC", "name": "Alpha Locker"}))
        .await;
    assert_eq!(location.status, 201, "{}", location.text);
    let pid = person.body["id"].as_str().unwrap().to_string();
    let shelf = srv.fx.shelf.id.to_string();
    let item = handed_over(&clerk, &pid, &shelf, "general", "ALPHATRACK0001").await;
    let invoice = handed_over(&clerk, &srv.fx.other_person.id.to_string(), &shelf, "invoice", "ALPHATRACK0002").await;
    let keyed = clerk
        .post_with(
            "/api/v1/items",
            &json!({"tracking_number": "ALPHATRACK0003", "recipient": {"person_id": pid}}),
            &[("Idempotency-Key", "shared-key")],
        )
        .await;
    let got = clerk.get(&format!("/api/v1/items/{item}")).await;
    let reference = got.body["reference"].as_str().unwrap().to_string();
    let until = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let delegation = admin
        .post(
            "/api/v1/delegations",
            &json!({"grantor_id": pid, "delegate_id": srv.fx.other_person.id, "scope": "all", "valid_until": until}),
        )
        .await;
    assert_eq!(delegation.status, 201, "{}", delegation.text);
    let delegation = delegation.body["id"].as_str().unwrap().to_string();
    let retention =
        admin.put("/api/v1/retention", &json!({"policies": [{"category": "patient_report", "days": 31}]})).await;
    assert_eq!(retention.status, 200, "{}", retention.text);
    let rules = admin
        .put(
            "/api/v1/rules",
            &json!({"source": "[lists]\nkey_partners = [{ org = \"AlphaSecretPartner\", responsible = \"ALPHA-E9\" }]\n\
                     [[rule]]\nname = \"alpha-secret-rule\"\nwhen.sender_org_in = [\"key_partners\"]\nthen.priority = \"urgent\"\n"}),
        )
        .await;
    assert_eq!(rules.status, 200, "{}", rules.text);
    let scanned = clerk
        .post(
            "/api/v1/items",
            &json!({"tracking_number": "ALPHATRACK0004", "recipient": {"text": "Alphalabel Nobody"}}),
        )
        .await;
    assert_eq!(scanned.status, 201, "{}", scanned.text);
    let queue = clerk.get("/api/v1/exceptions").await;
    let exception = queue.body["items"][0]["id"].as_str().unwrap().to_string();
    let mut secrets: Vec<String> = vec![
        exception.clone(),
        "Alphalabel".into(),
        scanned.body["id"].as_str().unwrap().to_string(),
        delegation.clone(),
        item.clone(),
        invoice.clone(),
        keyed.body["id"].as_str().unwrap().to_string(),
        reference.clone(),
        "ALPHATRACK".into(),
        "Sender of ALPHA".into(),
        "note ALPHA".into(),
        pid.clone(),
        "Alphonse".into(),
        "alphonse@alpha.example".into(),
        "ALPHA-E9".into(),
        dept.body["id"].as_str().unwrap().to_string(),
        "ALPHASECRET".into(),
        "Alpha Secret Department".into(),
        site.body["id"].as_str().unwrap().to_string(),
        location.body["id"].as_str().unwrap().to_string(),
        "ALPHALOC".into(),
        "Alpha Locker".into(),
        "AlphaSecretPartner".into(),
        "alpha-secret-rule".into(),
        srv.fx.tenant.id.to_string(),
        srv.fx.person.id.to_string(),
        srv.fx.other_person.id.to_string(),
        srv.fx.dept.id.to_string(),
        srv.fx.shelf.id.to_string(),
        srv.fx.shelf.site_id.to_string(),
        srv.fx.admin.user_id.to_string(),
        srv.fx.staff.user_id.to_string(),
        srv.fx.employee.user_id.to_string(),
    ];
    let h = clerk.get(&format!("/api/v1/items/{item}/handover")).await;
    secrets.push(h.body["signature_id"].as_str().unwrap().to_string());
    let label = mailroom_scan::synth::label(&[(mailroom_scan::synth::Kind::Qr, "ALPHAPHOTO")], 4).unwrap();
    let photo =
        clerk.post_raw(&format!("/api/v1/items/{item}/photos"), "image/png", mailroom_scan::synth::png(&label)).await;
    assert_eq!(photo.status, 201, "{}", photo.text);
    let photo_id = photo.body["id"].as_str().unwrap().to_string();
    secrets.push(photo_id.clone());
    secrets.push(photo.body["sha256"].as_str().unwrap().to_string());
    for e in clerk.get(&format!("/api/v1/items/{item}/events")).await.body["items"].as_array().unwrap() {
        secrets.push(e["id"].as_str().unwrap().to_string());
        secrets.push(e["hash"].as_str().unwrap().to_string());
    }
    Alpha {
        delegation,
        item,
        invoice,
        reference,
        tracking: "ALPHATRACK0001".into(),
        person: pid,
        dept: dept.body["id"].as_str().unwrap().to_string(),
        dept_code: "ALPHASECRET".into(),
        site: site.body["id"].as_str().unwrap().to_string(),
        location: location.body["id"].as_str().unwrap().to_string(),
        photo: photo_id,
        exception,
        secrets,
    }
}

struct Bravo {
    admin: Client,
    clerk: Client,
    employee: Client,
    ui: Browser,
    /// The operator administrator, acting in B.
    operator: Client,
    /// The operator's clerk, assigned to A only.
    roamer: Client,
    roamer_id: String,
    item: String,
    tenant: mailroom_app::store::Tenant,
}

async fn seed_bravo(srv: &TestServer) -> Bravo {
    let fb = Fixture::new(srv.app.clone(), "bravo").await;
    let token = |login: &'static str| {
        let app = srv.app.clone();
        async move { app.create_token("bravo", login).await.unwrap() }
    };
    let admin = srv.client(&token("admin").await);
    let clerk = srv.client(&token("clerk").await);
    let employee = srv.client(&token("employee").await);
    let ui = srv.browser("bravo", "admin").await;
    let r = clerk
        .post("/api/v1/items", &json!({"tracking_number": "BRAVO0000001", "recipient": {"person_id": fb.person.id}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // The operator: an administrator acting everywhere and a clerk assigned to A's first site.
    let ops = srv.app.create_tenant("ops", "Operator").await.unwrap();
    let pw = crate::support::PASSWORD;
    srv.app.create_user(ops.id, "root", "Root", pw, Role::OperatorAdmin, None).await.unwrap();
    let roamer_user = srv.app.create_user(ops.id, "roamer", "Roamer", pw, Role::Staff, None).await.unwrap();
    let operator = srv.client(&srv.app.create_token("ops", "root").await.unwrap());
    let assigned = operator
        .request(
            "POST",
            "/api/v1/assignments",
            Some(&json!({"tenant": "ops", "login": "roamer", "role": "staff", "site_id": srv.fx.shelf.site_id})),
            &[("x-tenant", "acme")],
        )
        .await;
    assert_eq!(assigned.status, 201, "{}", assigned.text);
    let roamer = srv.client(&srv.app.create_token("ops", "roamer").await.unwrap());
    Bravo {
        admin,
        clerk,
        employee,
        ui,
        operator,
        roamer,
        roamer_id: roamer_user.id.to_string(),
        item: r.body["id"].as_str().unwrap().to_string(),
        tenant: fb.tenant,
    }
}

async fn cross_tenant(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let a = seed_alpha(&srv).await;
    let bv = seed_bravo(&srv).await;
    let probes = Probes(Mutex::new(BTreeSet::new()));
    api_probes(&srv, &a, &bv, &probes).await;
    ui_probes(&srv, &a, &bv, &probes).await;
    exception_probes(&a, &bv, &probes).await;
    job_probes(&srv, &a, &bv, &probes).await;
    task_probes(&srv, &a, &bv, &probes).await;
    notification_probes(&srv, &a, &bv, &probes).await;
    service_level_probes(&a, &bv, &probes).await;
    postage_probes(&srv, &a, &bv, &probes).await;
    outbound_probes(&srv, &a, &bv, &probes).await;
    outbound_ui_probes(&srv, &a, &bv, &probes).await;
    registration_probes(&a, &bv).await;
    // Nothing of A changed.
    let clerk = srv.client(&srv.token("clerk").await);
    let item = clerk.get(&format!("/api/v1/items/{}", a.item)).await;
    assert_eq!((item.body["status"].as_str(), item.body["version"].as_i64()), (Some("picked_up"), Some(4)));
    let person = clerk.get(&format!("/api/v1/people/{}", a.person)).await;
    assert_eq!(person.body["name"], "Alphonse Secretperson");
    assert_eq!(clerk.get(&format!("/api/v1/departments/{}", a.dept)).await.body["code"], "ALPHASECRET");
    let assignment = srv.app.store.assignment(srv.fx.tenant.id, bv.roamer_id.parse().unwrap()).await.unwrap();
    assert!(assignment.is_some(), "A's assignment survives B's delete");
    // Every route that touches tenant data was probed.
    let probed = probes.0.lock().unwrap().clone();
    let exempt: BTreeSet<String> =
        ROUTES.iter().filter(|r| r.access == Access::Public).map(|r| key(r.method, r.path)).collect();
    let missed: Vec<_> = server_routes().into_iter().filter(|r| !probed.contains(r) && !exempt.contains(r)).collect();
    assert!(missed.is_empty(), "routes without a cross-tenant probe: {missed:?}");
    srv.stop().await;
}

async fn api_probes(srv: &TestServer, a: &Alpha, bv: &Bravo, probes: &Probes) {
    let (admin, clerk) = (&bv.admin, &bv.clerk);
    let hit = |m: &str, p: &str| probes.hit(m, p);

    // Who am I, and where may I act.
    hit("GET", "/api/v1/me");
    let me = admin.get("/api/v1/me").await;
    assert_eq!(me.body["tenant"], "bravo");
    no_leak("me", &me.text, a);
    hit("GET", "/api/v1/tenants");
    let t = admin.get("/api/v1/tenants").await;
    let slugs: Vec<&str> = t.body["items"].as_array().unwrap().iter().filter_map(|t| t["slug"].as_str()).collect();
    assert_eq!(slugs, ["bravo"]);
    no_leak("tenants", &t.text, a);
    hit("POST", "/api/v1/tenants");
    let taken = admin.post("/api/v1/tenants", &json!({"slug": "acme", "name": "x"})).await;
    let free = admin.post("/api/v1/tenants", &json!({"slug": "never-was", "name": "x"})).await;
    taken.assert_problem(403, "forbidden");
    same("create tenant", &taken, &free);

    // Acting in A is refused, exactly as acting in an organisation that does not exist.
    for path in ["/api/v1/items", "/api/v1/me", "/api/v1/people"] {
        let into_a = admin.request("GET", path, None, &[("x-tenant", "acme")]).await;
        let nowhere = admin.request("GET", path, None, &[("x-tenant", "no-such-org")]).await;
        into_a.assert_problem(403, "forbidden");
        same("X-Tenant", &into_a, &nowhere);
        no_leak("X-Tenant", &into_a.text, a);
    }
    let roaming = bv.roamer.request("GET", "/api/v1/items", None, &[("x-tenant", "bravo")]).await;
    roaming.assert_problem(403, "forbidden");

    // Users and assignments.
    hit("GET", "/api/v1/users");
    let users = admin.get("/api/v1/users").await;
    assert_eq!(users.body["items"].as_array().unwrap().len(), 3);
    no_leak("users", &users.text, a);
    hit("POST", "/api/v1/users");
    let body = |pid: &str| json!({"login": "u1", "display_name": "U", "password": "long enough pw", "role": "staff", "person_id": pid});
    same(
        "user person",
        &admin.post("/api/v1/users", &body(&a.person)).await,
        &admin.post("/api/v1/users", &body(&random())).await,
    );
    hit("GET", "/api/v1/assignments");
    let asg = admin.get("/api/v1/assignments").await;
    assert_eq!(asg.body["items"].as_array().unwrap().len(), 0, "{}", asg.text);
    no_leak("assignments", &asg.text, a);
    let op_b = |m: &'static str, p: String, body: Option<Value>| {
        let c = bv.operator.clone();
        async move { c.request(m, &p, body.as_ref(), &[("x-tenant", "bravo")]).await }
    };
    hit("POST", "/api/v1/assignments");
    let asg_body = |site: &str| Some(json!({"tenant": "ops", "login": "roamer", "role": "staff", "site_id": site}));
    let with_a = op_b("POST", "/api/v1/assignments".into(), asg_body(&a.site)).await;
    let with_r = op_b("POST", "/api/v1/assignments".into(), asg_body(&random())).await;
    with_a.assert_problem(422, "validation_failed");
    same("assignment site", &with_a, &with_r);
    hit("DELETE", "/api/v1/assignments/{user_id}");
    let del_a = op_b("DELETE", format!("/api/v1/assignments/{}", bv.roamer_id), None).await;
    let del_r = op_b("DELETE", format!("/api/v1/assignments/{}", random()), None).await;
    del_a.assert_problem(404, "not_found");
    same("unassign", &del_a, &del_r);

    // Clearance for A's user: 404, as for a user that never existed.
    hit("PUT", "/api/v1/users/{id}/clearance");
    same(
        "clearance",
        &admin.put(&format!("/api/v1/users/{}/clearance", srv.fx.staff.user_id), &json!({"level": 3})).await,
        &admin.put(&format!("/api/v1/users/{}/clearance", random()), &json!({"level": 3})).await,
    );
    // Delegations: A's people cannot be named, A's delegations cannot be seen or revoked.
    hit("POST", "/api/v1/delegations");
    let until = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let deleg = |grantor: &str, delegate: &str| json!({"grantor_id": grantor, "delegate_id": delegate, "scope": "all", "valid_until": until});
    let with_a = admin.post("/api/v1/delegations", &deleg(&a.person, &srv.fx.other_person.id.to_string())).await;
    let with_r = admin.post("/api/v1/delegations", &deleg(&random(), &random())).await;
    with_a.assert_problem(422, "validation_failed");
    same("delegation people", &with_a, &with_r);
    hit("GET", "/api/v1/delegations");
    let mine = bv.employee.get("/api/v1/delegations").await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 0, "{}", mine.text);
    no_leak("delegations", &mine.text, a);
    hit("DELETE", "/api/v1/delegations/{id}");
    let del_a = admin.delete(&format!("/api/v1/delegations/{}", a.delegation)).await;
    let del_r = admin.delete(&format!("/api/v1/delegations/{}", random())).await;
    del_a.assert_problem(404, "not_found");
    same("revoke delegation", &del_a, &del_r);
    hit("GET", "/api/v1/me/delegated-items");
    let waiting = bv.employee.get("/api/v1/me/delegated-items").await;
    assert_eq!(waiting.body["items"].as_array().unwrap().len(), 0, "{}", waiting.text);
    no_leak("delegated items", &waiting.text, a);
    // Lockouts, unlocking, tokens and the audit log: B's own only; A's ids answer as random ones.
    hit("POST", "/api/v1/users/{id}/unlock");
    same(
        "unlock",
        &admin.post(&format!("/api/v1/users/{}/unlock", srv.fx.staff.user_id), &json!({})).await,
        &admin.post(&format!("/api/v1/users/{}/unlock", random()), &json!({})).await,
    );
    hit("GET", "/api/v1/lockouts");
    let locks = admin.get("/api/v1/lockouts").await;
    assert_eq!(locks.status, 200, "{}", locks.text);
    no_leak("lockouts", &locks.text, a);
    hit("POST", "/api/v1/tokens");
    let own = admin.post("/api/v1/tokens", &json!({"name": "b token"})).await;
    assert_eq!(own.status, 201, "{}", own.text);
    same(
        "token for A's user",
        &admin.post("/api/v1/tokens", &json!({"user_id": srv.fx.staff.user_id})).await,
        &admin.post("/api/v1/tokens", &json!({"user_id": random()})).await,
    );
    hit("GET", "/api/v1/tokens");
    let toks = admin.get("/api/v1/tokens").await;
    no_leak("tokens", &toks.text, a);
    let a_tokens = srv.app.tokens_of(Some(srv.fx.tenant.id)).await.unwrap();
    let a_token = a_tokens.first().map(|t| t.id.to_string()).unwrap();
    assert!(!toks.text.contains(&a_token), "B lists A's token");
    hit("DELETE", "/api/v1/tokens/{id}");
    let del_a = admin.delete(&format!("/api/v1/tokens/{a_token}")).await;
    let del_r = admin.delete(&format!("/api/v1/tokens/{}", random())).await;
    del_a.assert_problem(404, "not_found");
    same("revoke token", &del_a, &del_r);
    hit("POST", "/api/v1/auth/token");
    let anon = srv.anonymous();
    let pw = |org: &str| json!({"organisation": org, "login": "admin", "password": "not the password"});
    let wrong_a = anon.post("/api/v1/auth/token", &pw("acme")).await;
    let wrong_none = anon.post("/api/v1/auth/token", &pw("no-such-org")).await;
    wrong_a.assert_problem(401, "unauthorized");
    same("password token", &wrong_a, &wrong_none);
    hit("GET", "/api/v1/audit");
    let audit = admin.get("/api/v1/audit").await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    no_leak("audit", &audit.text, a);

    // Carrier recognition reads no tenant data at all.
    hit("GET", "/api/v1/carriers/detect");
    let det = clerk.get("/api/v1/carriers/detect?code=SF1234567890123").await;
    assert_eq!(det.status, 200, "{}", det.text);
    no_leak("carrier detection", &det.text, a);
    // Address and customs checks read no tenant data at all.
    hit("POST", "/api/v1/addresses/check");
    let addr = clerk
        .post("/api/v1/addresses/check", &json!({"country": "DE", "text": "Platz der Republik 1\n11011 Berlin"}))
        .await;
    assert_eq!(addr.status, 200, "{}", addr.text);
    no_leak("address check", &addr.text, a);
    hit("POST", "/api/v1/customs/check");
    let decl = json!({"category": "gift", "lines": [{"description": "Wool scarf", "quantity": 1, "net_weight_g": 100, "value": "10", "currency": "EUR"}]});
    let customs = clerk.post("/api/v1/customs/check", &decl).await;
    assert_eq!(customs.status, 200, "{}", customs.text);
    no_leak("customs check", &customs.text, a);
    // The printable label and customs form read no tenant data either: made from the request.
    hit("POST", "/api/v1/pdf/label");
    hit("POST", "/api/v1/pdf/customs");
    for (path, body) in [
        (
            "/api/v1/pdf/label",
            json!({"reference": "X1", "sender": {"country": "CN", "text": "北京市东城区东长安街1号 李四 100006"},
            "recipient": {"country": "DE", "text": "Platz der Republik 1\n11011 Berlin"}}),
        ),
        ("/api/v1/pdf/customs", decl.clone()),
    ] {
        let r = clerk.post(path, &body).await;
        // 200 with a PDF, or 503 where no CJK font is installed: never 403/404 and nothing of A.
        assert!(r.status == 200 || r.code() == "pdf_font_missing", "{path}: {} {}", r.status, r.text);
        no_leak(path, &r.text, a);
    }
    // Retention policies are per organisation: B sees and changes only its own.
    hit("GET", "/api/v1/retention");
    let ret = admin.get("/api/v1/retention").await;
    assert!(!ret.text.contains("patient_report"), "B sees A's retention policy: {}", ret.text);
    no_leak("retention", &ret.text, a);
    hit("PUT", "/api/v1/retention");
    let put = admin.put("/api/v1/retention", &json!({"policies": []})).await;
    assert_eq!(put.status, 200, "{}", put.text);
    no_leak("retention put", &put.text, a);
    // Rules are per organisation: B has the default pack and its own versions only.
    hit("GET", "/api/v1/rules");
    let rules = admin.get("/api/v1/rules").await;
    assert_eq!((rules.status, &rules.body["default_pack"]), (200, &json!(true)), "{}", rules.text);
    no_leak("rules", &rules.text, a);
    hit("GET", "/api/v1/rules/versions");
    let versions = admin.get("/api/v1/rules/versions").await;
    assert_eq!(versions.body["items"], json!([]), "B sees A's rule versions: {}", versions.text);
    hit("POST", "/api/v1/rules/evaluate");
    let facts = json!({"item": {"sender_org": "AlphaSecretPartner", "notes": "contract"}});
    let eval = clerk.post("/api/v1/rules/evaluate", &facts).await;
    assert_eq!(eval.status, 200, "{}", eval.text);
    assert!(eval.body["decision"]["priority"].is_null(), "A's rules decided for B: {}", eval.text);
    no_leak("rules evaluate", &eval.text.replace("AlphaSecretPartner", ""), a);
    hit("PUT", "/api/v1/rules");
    let put = admin
        .put(
            "/api/v1/rules",
            &json!({"source": "[[rule]]\nname = \"b\"\nwhen.always = true\nthen.priority = \"high\"\n"}),
        )
        .await;
    assert_eq!((put.status, &put.body["version"]), (200, &json!(1)), "{}", put.text);
    no_leak("rules put", &put.text, a);

    // Items by A's ids: 404, exactly as for ids that never existed.
    for (m, p) in [
        ("GET", "/api/v1/items/{id}"),
        ("GET", "/api/v1/items/{id}/events"),
        ("GET", "/api/v1/items/{id}/handover"),
        ("GET", "/api/v1/items/{id}/signature"),
        ("GET", "/api/v1/items/{id}/receipt"),
        ("GET", "/api/v1/items/{id}/explanation"),
        ("POST", "/api/v1/items/{id}/transitions"),
    ] {
        hit(m, p);
        for id in [&a.item, &a.invoice] {
            let body = (m == "POST").then(|| json!({"action": "notify"}));
            let r_a = admin.request(m, &p.replace("{id}", id), body.as_ref(), &[]).await;
            let r_r = admin.request(m, &p.replace("{id}", &random()), body.as_ref(), &[]).await;
            r_a.assert_problem(404, "not_found");
            same(p, &r_a, &r_r);
            no_leak(p, &r_a.text, a);
        }
    }
    // A's photos: by A's item and photo ids, and A's photo id under B's own item.
    hit("GET", "/api/v1/items/{id}/photos");
    hit("GET", "/api/v1/items/{id}/photos/{photo_id}");
    hit("POST", "/api/v1/items/{id}/photos");
    let png = mailroom_scan::synth::png(&image::GrayImage::from_pixel(40, 30, image::Luma([90])));
    for c in [admin, clerk] {
        let r_a = c.get(&format!("/api/v1/items/{}/photos", a.item)).await;
        let r_r = c.get(&format!("/api/v1/items/{}/photos", random())).await;
        r_a.assert_problem(404, "not_found");
        same("photo list", &r_a, &r_r);
        for item in [a.item.clone(), bv.item.clone()] {
            let r_a = c.get(&format!("/api/v1/items/{item}/photos/{}", a.photo)).await;
            let r_r = c.get(&format!("/api/v1/items/{item}/photos/{}", random())).await;
            r_a.assert_problem(404, "not_found");
            same("photo", &r_a, &r_r);
            no_leak("photo", &r_a.text, a);
        }
        let r_a = c.post_raw(&format!("/api/v1/items/{}/photos", a.item), "image/png", png.clone()).await;
        let r_r = c.post_raw(&format!("/api/v1/items/{}/photos", random()), "image/png", png.clone()).await;
        r_a.assert_problem(404, "not_found");
        same("photo upload", &r_a, &r_r);
    }
    // Reading a label reads no organisation data at all.
    hit("POST", "/api/v1/scans");
    let scan = clerk.post_raw("/api/v1/scans", "image/png", png.clone()).await;
    assert_eq!(scan.status, 200, "{}", scan.text);
    no_leak("scan", &scan.text, a);
    // Lookups, search and listings by A's tracking number, reference, names and notes.
    hit("GET", "/api/v1/items");
    hit("GET", "/api/v1/me/items");
    let mine = ids(&clerk.get("/api/v1/items").await);
    assert_eq!(mine, std::slice::from_ref(&bv.item));
    for q in [
        format!("tracking={}", a.tracking),
        format!("tracking={}", a.reference),
        format!("tracking={}", a.reference.replace('-', "")),
        "q=Sender%20of%20ALPHA".to_string(),
        "q=note%20ALPHA".to_string(),
        "q=Alphonse".to_string(),
        "q=ALPHATRACK".to_string(),
        format!("cursor={}", a.item),
        "limit=200".to_string(),
    ] {
        for c in [admin, clerk, &bv.employee] {
            for path in ["/api/v1/items", "/api/v1/me/items"] {
                let r = c.get(&format!("{path}?{q}")).await;
                assert!(r.status == 200, "{path}?{q}: {}", r.text);
                assert!(ids(&r).iter().all(|i| *i == bv.item), "{path}?{q}: {}", r.text);
                no_leak(&q, &r.text, a);
            }
        }
    }
    // Registering with A's people, departments, sites, tracking numbers and idempotency keys.
    hit("POST", "/api/v1/items");
    for field in ["person_id", "department_id"] {
        let id = if field == "person_id" { &a.person } else { &a.dept };
        let r_a = clerk.post("/api/v1/items", &json!({"recipient": {field: id}})).await;
        let r_r = clerk.post("/api/v1/items", &json!({"recipient": {field: random()}})).await;
        r_a.assert_problem(422, "unknown_recipient");
        same("intake recipient", &r_a, &r_r);
    }
    let me_person = bv.employee.get("/api/v1/me").await.body["person_id"].as_str().unwrap().to_string();
    let with_site = |site: String| json!({"recipient": {"person_id": me_person}, "site_id": site});
    same(
        "intake site",
        &clerk.post("/api/v1/items", &with_site(a.site.clone())).await,
        &clerk.post("/api/v1/items", &with_site(random())).await,
    );
    // Handling B's item with A's places and people.
    let tr = format!("/api/v1/items/{}/transitions", bv.item);
    same(
        "store at A's location",
        &clerk.post(&tr, &json!({"action": "store", "location_id": a.location})).await,
        &clerk.post(&tr, &json!({"action": "store", "location_id": random()})).await,
    );

    // Custody and reports count B only.
    hit("GET", "/api/v1/custody/public-key");
    no_leak("public key", &admin.get("/api/v1/custody/public-key").await.text, a);
    hit("GET", "/api/v1/custody/verify");
    let v = admin.get("/api/v1/custody/verify").await;
    let head = srv.app.store.custody_head(bv.tenant.id).await.unwrap().0;
    assert_eq!(
        (v.body["tenant"].as_str(), v.body["events"].as_i64(), v.body["intact"].as_bool()),
        (Some("bravo"), Some(head), Some(true))
    );
    no_leak("verify", &v.text, a);
    hit("GET", "/api/v1/reports/summary");
    let count = srv.app.store.count_items(bv.tenant.id).await.unwrap();
    let rep = admin.get("/api/v1/reports/summary").await;
    assert_eq!(rep.body["total"].as_i64(), Some(count), "{}", rep.text);
    hit("GET", "/api/v1/reports/summary.csv");
    let csv = admin.get("/api/v1/reports/summary.csv").await;
    let sum: i64 = csv.text.lines().skip(1).filter_map(|l| l.rsplit(',').next()?.parse::<i64>().ok()).sum();
    assert_eq!(sum, count, "{}", csv.text);

    // The directory.
    hit("GET", "/api/v1/people");
    for q in ["Alphonse", "ALPHA-E9", "alphonse@alpha.example", ""] {
        let r = admin.get(&format!("/api/v1/people?q={}&limit=200", enc(q))).await;
        assert_eq!(r.status, 200);
        no_leak("people search", &r.text, a);
    }
    no_leak("people cursor", &admin.get(&format!("/api/v1/people?cursor={}", a.person)).await.text, a);
    hit("GET", "/api/v1/recipients");
    for q in [
        "Alphonse Secretperson",
        "Secretperson Alphonse",
        "Alphonse Secretprson",
        "ALPHA-E9",
        "alphonse@alpha.example",
        "ALPHASECRET",
        "Alpha Secret Department",
    ] {
        let r = admin.get(&format!("/api/v1/recipients?q={}&limit=50", enc(q))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        no_leak("recipient search", &r.text, a);
    }
    hit("GET", "/api/v1/people/{id}");
    hit("PUT", "/api/v1/people/{id}");
    let r_a = admin.get(&format!("/api/v1/people/{}", a.person)).await;
    r_a.assert_problem(404, "not_found");
    same("person", &r_a, &admin.get(&format!("/api/v1/people/{}", random())).await);
    let pbody = json!({"name": "Overwritten"});
    same(
        "update person",
        &admin.put(&format!("/api/v1/people/{}", a.person), &pbody).await,
        &admin.put(&format!("/api/v1/people/{}", random()), &pbody).await,
    );
    hit("POST", "/api/v1/people");
    same(
        "person department",
        &admin.post("/api/v1/people", &json!({"name": "X", "department_id": a.dept})).await,
        &admin.post("/api/v1/people", &json!({"name": "X", "department_id": random()})).await,
    );
    hit("POST", "/api/v1/people/import");
    let import = |code: &str| format!("name,employee_no,department\nImported,IMP1,{code}\n").into_bytes();
    let imp_a = admin.post_raw("/api/v1/people/import", "text/csv", import(&a.dept_code)).await;
    let imp_r = admin.post_raw("/api/v1/people/import", "text/csv", import("NEVERWAS")).await;
    imp_a.assert_problem(422, "validation_failed");
    assert_eq!(
        imp_a.text.replace(&a.dept_code, "NEVERWAS").split("request_id").next(),
        imp_r.text.split("request_id").next()
    );
    hit("GET", "/api/v1/departments");
    no_leak("departments", &admin.get("/api/v1/departments").await.text, a);
    for (m, p) in [
        ("GET", "/api/v1/departments/{id}"),
        ("PUT", "/api/v1/departments/{id}"),
        ("DELETE", "/api/v1/departments/{id}"),
    ] {
        hit(m, p);
        let body = (m == "PUT").then(|| json!({"code": "HIJACK", "name": "Hijacked"}));
        let r_a = admin.request(m, &p.replace("{id}", &a.dept), body.as_ref(), &[]).await;
        r_a.assert_problem(404, "not_found");
        same(p, &r_a, &admin.request(m, &p.replace("{id}", &random()), body.as_ref(), &[]).await);
    }
    hit("POST", "/api/v1/departments");
    for field in ["parent_id", "key_contact_id"] {
        let id = if field == "parent_id" { &a.dept } else { &a.person };
        same(
            "department refs",
            &admin.post("/api/v1/departments", &json!({"code": "T1", "name": "T", field: id})).await,
            &admin.post("/api/v1/departments", &json!({"code": "T1", "name": "T", field: random()})).await,
        );
    }
    hit("POST", "/api/v1/departments/import");
    let dimport = |code: &str| format!("code,name,kind,parent\nSUB1,Sub,team,{code}\n").into_bytes();
    let d_a = admin.post_raw("/api/v1/departments/import", "text/csv", dimport(&a.dept_code)).await;
    let d_r = admin.post_raw("/api/v1/departments/import", "text/csv", dimport("NEVERWAS")).await;
    d_a.assert_problem(422, "validation_failed");
    assert_eq!(
        d_a.text.replace(&a.dept_code, "NEVERWAS").split("request_id").next(),
        d_r.text.split("request_id").next()
    );
    hit("GET", "/api/v1/sites");
    hit("GET", "/api/v1/locations");
    no_leak("sites", &admin.get("/api/v1/sites").await.text, a);
    no_leak("locations", &admin.get("/api/v1/locations").await.text, a);
    hit("POST", "/api/v1/sites");
    let s = admin.post("/api/v1/sites", &json!({"name": "Alpha Secret Site"})).await;
    assert_eq!(s.status, 201, "a site name of A is free in B: {}", s.text);
    hit("POST", "/api/v1/locations");
    let loc = |site: &str| json!({"site_id": site, "code": "L1", "name": "L"});
    same(
        "location site",
        &admin.post("/api/v1/locations", &loc(&a.site)).await,
        &admin.post("/api/v1/locations", &loc(&random())).await,
    );
    hit("GET", "/api/v1/locations/suggestion");
    let suggest = |site: &str| format!("/api/v1/locations/suggestion?kind=parcel&site_id={site}");
    let s_a = admin.get(&suggest(&a.site)).await;
    no_leak("location suggestion", &s_a.text, a);
    assert_eq!(s_a.status, 200, "{}", s_a.text);
    assert!(s_a.body["location"].is_null(), "A's site has no locations B may see: {}", s_a.text);
    no_leak(
        "location suggestion",
        &admin.get("/api/v1/locations/suggestion?confidentiality=strictly_confidential").await.text,
        a,
    );
}

async fn ui_probes(srv: &TestServer, a: &Alpha, bv: &Bravo, probes: &Probes) {
    let ui = &bv.ui;
    let hit = |m: &str, p: &str| probes.hit(m, p);
    // Pages repeat what the caller typed (search boxes, the language link's return path);
    // that is the caller's input, not A's data, so it is removed before looking for A's data.
    let check = |what: &str, page: &Page, typed: &[&str]| {
        assert!(page.status < 500, "{what}: {}", page.status);
        let (mut text, mut location) = (page.text.clone(), page.location.clone());
        for t in typed.iter().filter(|t| !t.is_empty()) {
            text = text.replace(t, "");
            location = location.replace(t, "");
        }
        no_leak(what, &text, a);
        no_leak(what, &location, a);
    };
    for (path, template) in [
        ("/ui", "/ui"),
        ("/ui/", "/ui/"),
        ("/ui/intake", "/ui/intake"),
        ("/ui/my", "/ui/my"),
        ("/ui/items", "/ui/items"),
        ("/ui/items?q=Alphonse", "/ui/items"),
        ("/ui/items?q=ALPHATRACK", "/ui/items"),
        ("/ui/people", "/ui/people"),
        ("/ui/people?q=Alphonse", "/ui/people"),
        ("/ui/people/new", "/ui/people/new"),
        ("/ui/departments", "/ui/departments"),
        ("/ui/departments?q=ALPHA", "/ui/departments"),
        ("/ui/departments/new", "/ui/departments/new"),
        ("/ui/sites", "/ui/sites"),
        ("/ui/reports", "/ui/reports"),
        ("/ui/rules", "/ui/rules"),
        ("/ui/service-levels", "/ui/service-levels"),
    ] {
        hit("GET", template);
        let p = ui.get(path).await;
        let typed = path.split_once("q=").map(|(_, q)| q).unwrap_or("");
        check(path, &p, &[typed]);
        assert!(p.status == 200 || p.status == 303, "{path}: {}", p.status);
    }
    let cursor = ui.get(&format!("/ui/items?cursor={}", a.item)).await;
    check("items cursor", &cursor, &[&a.item]);
    // A's records by id: 404, as for ids that never existed.
    for (m, p) in [
        ("GET", "/ui/items/{id}"),
        ("GET", "/ui/items/{id}/handover"),
        ("POST", "/ui/items/{id}/actions"),
        ("GET", "/ui/people/{id}"),
        ("POST", "/ui/people/{id}"),
        ("GET", "/ui/departments/{id}"),
        ("POST", "/ui/departments/{id}"),
        ("POST", "/ui/departments/{id}/delete"),
        ("POST", "/ui/service-levels/{id}/approve"),
        ("POST", "/ui/service-levels/{id}/reject"),
    ] {
        hit(m, p);
        let a_id = if p.starts_with("/ui/items") || p.starts_with("/ui/service-levels") {
            &a.item
        } else if p.starts_with("/ui/people") {
            &a.person
        } else {
            &a.dept
        };
        let form: &[(&str, &str)] = match p {
            "/ui/items/{id}/actions" => &[("action", "notify")],
            "/ui/people/{id}" => &[("name", "Overwritten")],
            "/ui/departments/{id}" => &[("code", "HIJACK"), ("name", "Hijacked")],
            _ => &[],
        };
        let r_id = random();
        let with_a = ui.send(m, &p.replace("{id}", a_id), form).await;
        let with_r = ui.send(m, &p.replace("{id}", &r_id), form).await;
        assert_eq!(with_a.status, 404, "{m} {p}: {}", with_a.text);
        assert_eq!(
            with_a.text.replace(a_id.as_str(), "ID"),
            with_r.text.replace(&r_id, "ID"),
            "{m} {p}: A's id is distinguishable from a random one"
        );
        check(p, &with_a, &[a_id]);
    }
    // Forms naming A's records.
    hit("POST", "/ui/people/new");
    let p = ui.post("/ui/people/new", &[("name", "X"), ("department_id", &a.dept)]).await;
    assert_eq!(p.status, 422);
    check("new person", &p, &[&a.dept]);
    hit("POST", "/ui/departments/new");
    let p = ui.post("/ui/departments/new", &[("code", "T2"), ("name", "T"), ("parent_id", &a.dept)]).await;
    assert_eq!(p.status, 422);
    check("new department", &p, &[&a.dept]);
    let with_a = ui.post("/ui/departments/new", &[("code", "T3"), ("name", "T"), ("key_contact", "ALPHA-E9")]).await;
    let with_r = ui.post("/ui/departments/new", &[("code", "T3"), ("name", "T"), ("key_contact", "NOPE-E9")]).await;
    assert_eq!(with_a.status, 422);
    assert_eq!(with_a.text.replace("ALPHA-E9", "X"), with_r.text.replace("NOPE-E9", "X"), "key contact oracle");
    check("new department key contact", &with_a, &["ALPHA-E9"]);
    hit("POST", "/ui/rules");
    let p =
        ui.post("/ui/rules", &[("source", "[[rule]]\nname = \"x\"\nwhen.sender_org_in = [\"key_partners\"]\n")]).await;
    assert_eq!(p.status, 422, "{}", p.text);
    check("rules form", &p, &[]);
    // Switching into A, by the form or by the cookie, is refused.
    hit("POST", "/ui/tenant");
    let p = ui.post("/ui/tenant", &[("tenant", "acme")]).await;
    assert_eq!(p.status, 403);
    check("switch", &p, &[]);
    let p = ui.with_cookie("mr_tenant=acme").get("/ui/items").await;
    assert_eq!((p.status, p.location.as_str()), (303, "/ui/"));
    assert!(p.set_cookie.iter().any(|c| c.starts_with("mr_tenant=;")), "{:?}", p.set_cookie);
    check("tenant cookie", &p, &[]);
    let p = ui.with_cookie("mr_tenant=acme").send("POST", "/ui/items/x/actions", &[]).await;
    assert_eq!(p.status, 303);
    hit("POST", "/ui/logout");
    let p = srv.browser("bravo", "clerk").await.post("/ui/logout", &[]).await;
    assert_eq!(p.status, 303);
    check("logout", &p, &[]);
}

/// Service levels: B's dashboard and policies show nothing of A's; A's sites and items answer
/// exactly as ids that never existed.
async fn service_level_probes(a: &Alpha, bv: &Bravo, probes: &Probes) {
    let admin = &bv.admin;
    let hit = |m: &str, p: &str| probes.hit(m, p);
    hit("GET", "/api/v1/service-levels");
    let r = admin.get("/api/v1/service-levels").await;
    assert_eq!(r.status, 200, "{}", r.text);
    no_leak("service levels", &r.text, a);
    hit("GET", "/api/v1/unclaimed-policies");
    let r = admin.get("/api/v1/unclaimed-policies").await;
    assert_eq!(r.body["policies"], json!([]), "{}", r.text);
    hit("PUT", "/api/v1/unclaimed-policies");
    let r = admin.put("/api/v1/unclaimed-policies", &json!({"policies": []})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cal = json!({"always_open": true});
    for (m, p) in [("GET", "/api/v1/sites/{id}/calendar"), ("PUT", "/api/v1/sites/{id}/calendar")] {
        hit(m, p);
        let body = (m == "PUT").then(|| cal.clone());
        let r_a = admin.request(m, &p.replace("{id}", &a.site), body.as_ref(), &[]).await;
        r_a.assert_problem(404, "not_found");
        same(p, &r_a, &admin.request(m, &p.replace("{id}", &random()), body.as_ref(), &[]).await);
    }
    for p in ["/api/v1/items/{id}/disposal/approve", "/api/v1/items/{id}/disposal/reject"] {
        hit("POST", p);
        let r_a = admin.post(&p.replace("{id}", &a.item), &json!({})).await;
        r_a.assert_problem(404, "not_found");
        same(p, &r_a, &admin.post(&p.replace("{id}", &random()), &json!({})).await);
    }
}

/// Postage: B sees only its own accounts, cost centres, ledger, rates and chargeback; A's
/// accounts, cost centres, departments and sites answer exactly as ids that never existed, and
/// nothing of A's changes.
async fn postage_probes(srv: &TestServer, a: &Alpha, bv: &Bravo, probes: &Probes) {
    let hit = |m: &str, p: &str| probes.hit(m, p);
    // A's postage.
    let a_admin = srv.client(&srv.token("admin").await);
    let a_clerk = srv.client(&srv.token("clerk").await);
    let cc = a_admin
        .post(
            "/api/v1/postage/cost-centres",
            &json!({"code": "ALPHACC", "name": "Alpha Cost Secret", "department_id": a.dept}),
        )
        .await;
    assert_eq!(cc.status, 201, "{}", cc.text);
    let cc = cc.body["id"].as_str().unwrap().to_string();
    let acct = a_admin.post("/api/v1/postage/accounts", &json!({"name": "Alpha Postage Secret"})).await;
    assert_eq!(acct.status, 201, "{}", acct.text);
    let acct = acct.body["id"].as_str().unwrap().to_string();
    let r = a_admin.post(&format!("/api/v1/postage/accounts/{acct}/top-ups"), &json!({"amount": 100000})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let csv = "carrier,method,zone,max_weight_g,price,step_price
alphapost,standard,domestic,1000,7.77,
";
    let r = a_admin.post_raw("/api/v1/postage/rates/import", "text/csv", csv.as_bytes().to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let charge = json!({"account_id": acct, "cost_centre_id": cc, "carrier": "alphapost", "method": "standard",
                        "weight_g": 100, "zone": "domestic", "reference": "ALPHATRACK0001"});
    let r = a_clerk.post("/api/v1/postage/charges", &charge).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut secrets = a.secrets.clone();
    secrets.extend([
        cc.clone(),
        acct.clone(),
        "ALPHACC".into(),
        "Alpha Cost Secret".into(),
        "Alpha Postage Secret".into(),
    ]);
    let a2 = Alpha { secrets, ..seed_clone(a) };
    let a = &a2;
    let (admin, clerk) = (&bv.admin, &bv.clerk);
    // Lists: B's own, which is nothing.
    for p in ["/api/v1/postage/cost-centres", "/api/v1/postage/accounts", "/api/v1/postage/ledger"] {
        hit("GET", p);
        let r = admin.get(p).await;
        assert_eq!(r.status, 200, "{p}: {}", r.text);
        assert_eq!(r.body["items"], json!([]), "{p}: {}", r.text);
        no_leak(p, &r.text, a);
    }
    hit("GET", "/api/v1/postage/rates");
    let r = admin.get("/api/v1/postage/rates").await;
    assert_eq!(r.body["rates"], json!([]), "{}", r.text);
    let r_a = admin.get(&format!("/api/v1/postage/ledger?account_id={acct}")).await;
    r_a.assert_problem(404, "not_found");
    same("ledger of A's account", &r_a, &admin.get(&format!("/api/v1/postage/ledger?account_id={}", random())).await);
    // A's records by id.
    let body = json!({"code": "HIJACK", "name": "Hijacked"});
    hit("PUT", "/api/v1/postage/cost-centres/{id}");
    let r_a = admin.put(&format!("/api/v1/postage/cost-centres/{cc}"), &body).await;
    r_a.assert_problem(404, "not_found");
    same("cost centre", &r_a, &admin.put(&format!("/api/v1/postage/cost-centres/{}", random()), &body).await);
    hit("PUT", "/api/v1/postage/accounts/{id}");
    let body = json!({"name": "Hijacked account"});
    let r_a = admin.put(&format!("/api/v1/postage/accounts/{acct}"), &body).await;
    r_a.assert_problem(404, "not_found");
    same("account", &r_a, &admin.put(&format!("/api/v1/postage/accounts/{}", random()), &body).await);
    for (p, a_id) in [("/api/v1/postage/cost-centres/{id}", &cc), ("/api/v1/postage/accounts/{id}", &acct)] {
        hit("DELETE", p);
        let r_a = admin.request("DELETE", &p.replace("{id}", a_id), None, &[]).await;
        r_a.assert_problem(404, "not_found");
        same(p, &r_a, &admin.request("DELETE", &p.replace("{id}", &random()), None, &[]).await);
    }
    for (p, body) in [
        ("/api/v1/postage/accounts/{id}/top-ups", json!({"amount": 5})),
        ("/api/v1/postage/accounts/{id}/adjustments", json!({"kind": "adjustment", "amount": -5})),
    ] {
        hit("POST", p);
        let r_a = admin.post(&p.replace("{id}", &acct), &body).await;
        r_a.assert_problem(404, "not_found");
        same(p, &r_a, &admin.post(&p.replace("{id}", &random()), &body).await);
    }
    // A's department and site in B's forms.
    hit("POST", "/api/v1/postage/cost-centres");
    let with = |d: &str| json!({"code": "BCC", "name": "B", "department_id": d});
    let r_a = admin.post("/api/v1/postage/cost-centres", &with(&a.dept)).await;
    r_a.assert_problem(422, "validation_failed");
    same("cost centre with A's department", &r_a, &admin.post("/api/v1/postage/cost-centres", &with(&random())).await);
    hit("POST", "/api/v1/postage/accounts");
    let with = |s: &str| json!({"name": "B account", "site_id": s});
    let r_a = admin.post("/api/v1/postage/accounts", &with(&a.site)).await;
    r_a.assert_problem(422, "validation_failed");
    same("account at A's site", &r_a, &admin.post("/api/v1/postage/accounts", &with(&random())).await);
    // B's own rate table; A's is untouched.
    hit("PUT", "/api/v1/postage/rates");
    let r = admin.put("/api/v1/postage/rates", &json!({"rates": []})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    hit("POST", "/api/v1/postage/rates/import");
    let r = admin.post_raw("/api/v1/postage/rates/import", "text/csv", csv.replace("7.77", "1.00").into_bytes()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    hit("POST", "/api/v1/postage/quote");
    let r = clerk
        .post(
            "/api/v1/postage/quote",
            &json!({"carrier": "alphapost", "method": "standard", "weight_g": 100, "zone": "domestic"}),
        )
        .await;
    assert_eq!(r.body["amount"], 100, "B's quote uses B's rates: {}", r.text);
    // Charging A's account or cost centre.
    hit("POST", "/api/v1/postage/charges");
    let mut body = charge.clone();
    let r_a = clerk.post("/api/v1/postage/charges", &body).await;
    body["account_id"] = json!(random());
    let r_r = clerk.post("/api/v1/postage/charges", &body).await;
    r_a.assert_problem(404, "not_found");
    same("charge A's account", &r_a, &r_r);
    // The chargeback shows B's nothing.
    let month =
        chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).format("%Y-%m").to_string();
    for p in ["/api/v1/reports/chargeback", "/api/v1/reports/chargeback.csv"] {
        hit("GET", p);
        let r = admin.get(&format!("{p}?month={month}")).await;
        assert_eq!(r.status, 200, "{p}: {}", r.text);
        no_leak(p, &r.text, a);
    }
    hit("GET", "/api/v1/reports/chargeback.pdf");
    if crate::pdf::can_render() {
        let r = admin.req(reqwest::Method::GET, &format!("/api/v1/reports/chargeback.pdf?month={month}")).send().await;
        let r = r.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let text = crate::pdf::pdftotext(&r.bytes().await.unwrap());
        no_leak("chargeback.pdf", &text, a);
    }
    // Nothing of A's changed.
    let accts = a_admin.get("/api/v1/postage/accounts").await;
    assert_eq!(accts.body["items"][0]["balance"], 100000 - 777, "{}", accts.text);
    assert_eq!(a_admin.get("/api/v1/postage/cost-centres").await.body["items"][0]["code"], "ALPHACC");
    assert_eq!(a_admin.get("/api/v1/postage/rates").await.body["rates"][0]["price"], 777);
    // The console page and its top-up form.
    hit("GET", "/ui/postage");
    let p = bv.ui.get("/ui/postage").await;
    assert_eq!(p.status, 200);
    no_leak("postage page", &p.text, a);
    hit("POST", "/ui/postage/accounts/{id}/top-up");
    let form = [("amount", "5.00")];
    let r_id = random();
    let with_a = bv.ui.post(&format!("/ui/postage/accounts/{acct}/top-up"), &form).await;
    let with_r = bv.ui.post(&format!("/ui/postage/accounts/{r_id}/top-up"), &form).await;
    assert_eq!(with_a.status, 404, "{}", with_a.text);
    assert_eq!(with_a.text.replace(&acct, "ID"), with_r.text.replace(&r_id, "ID"), "top-up: A's id is distinguishable");
    no_leak("top-up", &with_a.text.replace(&acct, ""), a);
    assert_eq!(a_admin.get("/api/v1/postage/accounts").await.body["items"][0]["balance"], 100000 - 777);
}

/// The console's outbound pages: B's administrator sees none of A's sends, cost centres or
/// batches, and A's ids answer exactly like ids that never existed.
async fn outbound_ui_probes(srv: &TestServer, a: &Alpha, bv: &Bravo, probes: &Probes) {
    let hit = |m: &str, p: &str| probes.hit(m, p);
    // A's send, accepted and in a batch.
    let a_admin = srv.client(&srv.token("admin").await);
    let a_clerk = srv.client(&srv.token("clerk").await);
    let cc =
        a_admin.post("/api/v1/postage/cost-centres", &json!({"code": "ALPHAOBCC", "name": "Alpha Send Secret"})).await;
    assert_eq!(cc.status, 201, "{}", cc.text);
    let cc = cc.body["id"].as_str().unwrap().to_string();
    let acct = a_admin.post("/api/v1/postage/accounts", &json!({"name": "Alpha Send Account"})).await;
    let acct = acct.body["id"].as_str().unwrap().to_string();
    let r = a_admin.post(&format!("/api/v1/postage/accounts/{acct}/top-ups"), &json!({"amount": 100000})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let csv = "carrier,method,zone,max_weight_g,price,step_price\nalphapost,standard,domestic,1000,7.77,\n";
    let r = a_admin.post_raw("/api/v1/postage/rates/import", "text/csv", csv.as_bytes().to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let send = a_clerk
        .post(
            "/api/v1/outbound",
            &json!({"requester_person_id": a.person, "cost_centre_id": cc, "method": "standard",
                    "carrier": "alphapost", "weight_g": 100, "contents": "Alpha contents secret",
                    "recipient": {"country": "CN", "text": "欧阳秘密\n上海市浦东新区世纪大道100号\n200120"}}),
        )
        .await;
    assert_eq!(send.status, 201, "{}", send.text);
    let item = send.body["item"]["id"].as_str().unwrap().to_string();
    let reference = send.body["item"]["reference"].as_str().unwrap().to_string();
    let r =
        a_clerk.post(&format!("/api/v1/outbound/{item}/accept"), &json!({"weight_g": 100, "account_id": acct})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let at = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let batch = a_clerk.post("/api/v1/outbound/batches", &json!({"carrier": "alphapost", "collection_at": at})).await;
    assert_eq!(batch.status, 201, "{}", batch.text);
    let batch_ref = batch.body["batch"]["reference"].as_str().unwrap().to_string();
    let batch = batch.body["batch"]["id"].as_str().unwrap().to_string();
    let mut secrets = a.secrets.clone();
    secrets.extend([
        cc.clone(),
        item.clone(),
        batch.clone(),
        reference.clone(),
        batch_ref,
        "ALPHAOBCC".into(),
        "Alpha Send Secret".into(),
        "Alpha Send Account".into(),
        "Alpha contents secret".into(),
        "欧阳秘密".into(),
    ]);
    let a2 = Alpha { secrets, ..seed_clone(a) };
    let a = &a2;
    let ui = &bv.ui;
    // B's pages show nothing of A's.
    for p in ["/ui/outbound", "/ui/outbound/new", "/ui/outbound/batches"] {
        hit("GET", p);
        let page = ui.get(p).await;
        assert_eq!(page.status, 200, "{p}: {}", page.text);
        no_leak(p, &page.text, a);
    }
    // A's ids answer like ids that never existed.
    let same_page = |what: &str, with_a: &crate::support::Page, id: &str, with_r: &crate::support::Page, r_id: &str| {
        assert_eq!(with_a.status, with_r.status, "{what}: {}", with_a.text);
        assert_eq!(with_a.text.replace(id, "ID"), with_r.text.replace(r_id, "ID"), "{what}: A's id is distinguishable");
        no_leak(what, &with_a.text.replace(id, ""), a);
    };
    let r_id = random();
    hit("GET", "/ui/outbound/{id}");
    let (with_a, with_r) =
        (ui.get(&format!("/ui/outbound/{item}")).await, ui.get(&format!("/ui/outbound/{r_id}")).await);
    assert_eq!(with_a.status, 404);
    same_page("send page", &with_a, &item, &with_r, &r_id);
    let forms: [(&str, Vec<(&str, &str)>); 8] = [
        ("approve", vec![]),
        ("reject", vec![("note", "no")]),
        ("accept", vec![("weight_g", "100"), ("account_id", acct.as_str())]),
        ("cancel", vec![("note", "no")]),
        ("tracking", vec![("tracking_number", "BRAVOTRACK")]),
        ("receipt", vec![("signed_by", "Someone")]),
        ("return", vec![("note", "moved")]),
        ("send-electronic", vec![]),
    ];
    for (action, form) in &forms {
        let path = format!("/ui/outbound/{{id}}/{action}");
        hit("POST", &path);
        let with_a = ui.post(&format!("/ui/outbound/{item}/{action}"), form).await;
        let with_r = ui.post(&format!("/ui/outbound/{r_id}/{action}"), form).await;
        assert_eq!(with_a.status, 404, "{action}: {}", with_a.text);
        same_page(action, &with_a, &item, &with_r, &r_id);
    }
    hit("GET", "/ui/outbound/batches/{id}");
    let (with_a, with_r) =
        (ui.get(&format!("/ui/outbound/batches/{batch}")).await, ui.get(&format!("/ui/outbound/batches/{r_id}")).await);
    assert_eq!(with_a.status, 404);
    same_page("batch page", &with_a, &batch, &with_r, &r_id);
    for (action, form) in
        [("scan", vec![("code", reference.as_str())]), ("hand-over", vec![("courier_name", "B courier")])]
    {
        hit("POST", &format!("/ui/outbound/batches/{{id}}/{action}"));
        let with_a = ui.post(&format!("/ui/outbound/batches/{batch}/{action}"), &form).await;
        let with_r = ui.post(&format!("/ui/outbound/batches/{r_id}/{action}"), &form).await;
        assert_eq!(with_a.status, 404, "{action}: {}", with_a.text);
        same_page(action, &with_a, &batch, &with_r, &r_id);
    }
    // Requests and mailings naming A's cost centre are refused like an unknown one.
    hit("POST", "/ui/outbound/new");
    let form = |cc: &str| {
        vec![
            ("recipient_name".to_string(), "王芳".to_string()),
            ("country".to_string(), "CN".to_string()),
            ("address".to_string(), "上海市浦东新区世纪大道100号\n200120".to_string()),
            ("contents".to_string(), "Letter".to_string()),
            ("method".to_string(), "standard".to_string()),
            ("carrier".to_string(), "alphapost".to_string()),
            ("weight_g".to_string(), "100".to_string()),
            ("cost_centre_id".to_string(), cc.to_string()),
        ]
    };
    let (fa, fr) = (form(&cc), form(&r_id));
    let fa: Vec<(&str, &str)> = fa.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let fr: Vec<(&str, &str)> = fr.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (with_a, with_r) = (ui.post("/ui/outbound/new", &fa).await, ui.post("/ui/outbound/new", &fr).await);
    assert_eq!(with_a.status, 422, "{}", with_a.text);
    same_page("request with A's cost centre", &with_a, &cc, &with_r, &r_id);
    hit("POST", "/ui/outbound/mailing");
    let csv = "recipient,address,country\n王芳,上海市浦东新区世纪大道100号 200120,CN\n";
    let mailing = |cc: &str| {
        vec![
            ("csv".to_string(), csv.to_string()),
            ("method".to_string(), "standard".to_string()),
            ("carrier".to_string(), "alphapost".to_string()),
            ("contents".to_string(), "Letter".to_string()),
            ("weight_g".to_string(), "100".to_string()),
            ("cost_centre_id".to_string(), cc.to_string()),
        ]
    };
    let (ma, mr) = (mailing(&cc), mailing(&r_id));
    let ma: Vec<(&str, &str)> = ma.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mr: Vec<(&str, &str)> = mr.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (with_a, with_r) = (ui.post("/ui/outbound/mailing", &ma).await, ui.post("/ui/outbound/mailing", &mr).await);
    assert_eq!(with_a.status, 422, "{}", with_a.text);
    same_page("mailing with A's cost centre", &with_a, &cc, &with_r, &r_id);
    // A batch of B's for A's carrier takes none of A's items.
    hit("POST", "/ui/outbound/batches");
    let at = (chrono::Utc::now() + chrono::Duration::hours(9)).format("%Y-%m-%dT%H:%M").to_string();
    let r = ui.post("/ui/outbound/batches", &[("carrier", "alphapost"), ("collection_at", at.as_str())]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = ui.get(&r.location).await;
    assert_eq!(page.status, 200);
    no_leak("B's batch", &page.text, a);
    assert!(page.text.contains("data-testid=\"batch-items\""));
    // A's send is as it was.
    let r = a_clerk.get(&format!("/api/v1/outbound/{item}")).await;
    assert_eq!(
        (r.body["item"]["status"].as_str(), r.body["send"]["batch_id"].as_str()),
        (Some("accepted"), Some(batch.as_str()))
    );
}

fn seed_clone(a: &Alpha) -> Alpha {
    Alpha {
        delegation: a.delegation.clone(),
        item: a.item.clone(),
        invoice: a.invoice.clone(),
        reference: a.reference.clone(),
        tracking: a.tracking.clone(),
        person: a.person.clone(),
        dept: a.dept.clone(),
        dept_code: a.dept_code.clone(),
        site: a.site.clone(),
        location: a.location.clone(),
        photo: a.photo.clone(),
        exception: a.exception.clone(),
        secrets: Vec::new(),
    }
}

/// The exception queue and enriching details: B sees and changes only its own, and A's ids and
/// recipients answer exactly as ids that never existed.
async fn exception_probes(a: &Alpha, bv: &Bravo, probes: &Probes) {
    let clerk = &bv.clerk;
    let hit = |m: &str, p: &str| probes.hit(m, p);
    hit("GET", "/api/v1/exceptions");
    for q in ["", "?status=resolved", &format!("?cursor={}", a.exception.replace('-', ""))] {
        let r = clerk.get(&format!("/api/v1/exceptions{q}")).await;
        assert_eq!(r.status, 200, "{q}: {}", r.text);
        assert!(ids(&r).is_empty(), "{q}: {}", r.text);
        no_leak("exceptions", &r.text, a);
    }
    for (m, p) in [("GET", "/api/v1/exceptions/{id}"), ("POST", "/api/v1/exceptions/{id}/resolve")] {
        hit(m, p);
        let body =
            (m == "POST").then(|| json!({"resolution": "assign_recipient", "recipient": {"person_id": a.person}}));
        let r_a = clerk.request(m, &p.replace("{id}", &a.exception), body.as_ref(), &[]).await;
        let r_r = clerk.request(m, &p.replace("{id}", &random()), body.as_ref(), &[]).await;
        r_a.assert_problem(404, "not_found");
        same(p, &r_a, &r_r);
    }
    hit("PATCH", "/api/v1/items/{id}");
    let body = json!({"expected_version": 1, "notes": "hijacked"});
    let r_a = clerk.request("PATCH", &format!("/api/v1/items/{}", a.item), Some(&body), &[]).await;
    let r_r = clerk.request("PATCH", &format!("/api/v1/items/{}", random()), Some(&body), &[]).await;
    r_a.assert_problem(404, "not_found");
    same("patch item", &r_a, &r_r);
    // B's own exception and item, given A's people and departments.
    let r = clerk
        .post("/api/v1/items", &json!({"tracking_number": "BRAVOSCAN0001", "recipient": {"text": "Alphonse"}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.body["recipient_person_id"].is_null(), "B's intake matched A's person: {}", r.text);
    let item = r.body["id"].as_str().unwrap().to_string();
    let queue = clerk.get("/api/v1/exceptions").await;
    let own = queue.body["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(queue.body["items"][0]["candidates"], json!([]));
    // What B's clerk typed comes back as B's label text; nothing else of A's does.
    no_leak("own exception", &queue.text.replace("\"Alphonse\"", "\"\""), a);
    for field in ["person_id", "department_id"] {
        let id = if field == "person_id" { &a.person } else { &a.dept };
        let path = format!("/api/v1/exceptions/{own}/resolve");
        let with = |v: String| json!({"resolution": "assign_recipient", "recipient": {field: v}});
        let r_a = clerk.post(&path, &with(id.clone())).await;
        r_a.assert_problem(422, "unknown_recipient");
        same("resolve with A's recipient", &r_a, &clerk.post(&path, &with(random())).await);
        let path = format!("/api/v1/items/{item}");
        let with = |v: String| json!({"expected_version": 1, "recipient": {field: v}});
        let r_a = clerk.request("PATCH", &path, Some(&with(id.clone())), &[]).await;
        r_a.assert_problem(422, "unknown_recipient");
        same("details with A's recipient", &r_a, &clerk.request("PATCH", &path, Some(&with(random())), &[]).await);
    }
    // The console.
    hit("GET", "/ui/exceptions");
    for path in ["/ui/exceptions", "/ui/exceptions?status=resolved"] {
        let p = bv.ui.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        no_leak(path, &p.text.replace("<q>Alphonse</q>", ""), a);
    }
    for (p, a_id) in [("/ui/exceptions/{id}/resolve", &a.exception), ("/ui/items/{id}/details", &a.item)] {
        hit("POST", p);
        let form = [("resolution", "return_to_sender"), ("version", "1"), ("notes", "hijacked")];
        let r_id = random();
        let with_a = bv.ui.post(&p.replace("{id}", a_id), &form).await;
        let with_r = bv.ui.post(&p.replace("{id}", &r_id), &form).await;
        assert_eq!(with_a.status, 404, "{p}: {}", with_a.text);
        assert_eq!(with_a.text.replace(a_id.as_str(), "ID"), with_r.text.replace(&r_id, "ID"), "{p}: A's id leaks");
        no_leak(p, &with_a.text.replace(a_id.as_str(), ""), a);
    }
}

/// The job queue: B's administrator sees none of A's jobs, not even their number, and A's dead
/// job answers as an id that never existed, by the API and in the console; it stays dead.
async fn job_probes(srv: &TestServer, a: &Alpha, bv: &Bravo, probes: &Probes) {
    use mailroom_app::store::NewJob;
    let hit = |m: &str, p: &str| probes.hit(m, p);
    let store = &srv.app.store;
    let now = chrono::Utc::now();
    let key = "alpha-secret-job-key";
    let job = NewJob::new(srv.fx.tenant.id, "alpha.secret.kind", json!({"to": "Alphonse"}), key, now);
    assert_eq!(store.enqueue_jobs(&[job]).await.unwrap(), 1);
    let claimed = store.claim_jobs("alpha-node", now, chrono::Duration::minutes(5), 10).await.unwrap();
    let job = claimed.iter().find(|j| j.idempotency_key == key).unwrap();
    assert!(store.fail_job(job.id, "alpha-node", "Alphonse unreachable", None, now).await.unwrap());
    let a_job = job.id.to_string();
    let secrets = |what: &str, text: &str| {
        no_leak(what, text, a);
        for s in [key, "alpha.secret.kind", a_job.as_str()] {
            assert!(!text.contains(s), "{what}: the answer shows A's job ({s}): {text}");
        }
    };
    hit("GET", "/api/v1/jobs");
    for q in ["", "?status=dead", "?status=pending"] {
        let r = bv.admin.get(&format!("/api/v1/jobs{q}")).await;
        assert_eq!(r.status, 200, "{q}: {}", r.text);
        assert!(ids(&r).is_empty(), "{q}: {}", r.text);
        assert_eq!(r.body["counts"]["dead"], 0, "{q}: {}", r.text);
        secrets("jobs", &r.text);
    }
    for (m, p) in [("GET", "/api/v1/jobs/{id}"), ("POST", "/api/v1/jobs/{id}/retry")] {
        hit(m, p);
        let r_a = bv.admin.request(m, &p.replace("{id}", &a_job), None, &[]).await;
        let r_r = bv.admin.request(m, &p.replace("{id}", &random()), None, &[]).await;
        r_a.assert_problem(404, "not_found");
        same(p, &r_a, &r_r);
    }
    hit("GET", "/ui/jobs");
    for path in ["/ui/jobs", "/ui/jobs?status=dead", "/ui/jobs?status=done"] {
        let p = bv.ui.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        secrets(path, &p.text);
    }
    hit("POST", "/ui/jobs/{id}/retry");
    let r_id = random();
    let with_a = bv.ui.post(&format!("/ui/jobs/{a_job}/retry"), &[]).await;
    let with_r = bv.ui.post(&format!("/ui/jobs/{r_id}/retry"), &[]).await;
    assert_eq!(with_a.status, 404, "{}", with_a.text);
    assert_eq!(with_a.text.replace(&a_job, "ID"), with_r.text.replace(&r_id, "ID"), "A's job id leaks");
    assert_eq!(store.job(srv.fx.tenant.id, job.id).await.unwrap().unwrap().status, "dead");
}

/// A's staff tasks and notification log stay A's.
async fn task_probes(srv: &TestServer, a: &Alpha, bv: &Bravo, probes: &Probes) {
    let hit = |m: &str, p: &str| probes.hit(m, p);
    let store = &srv.app.store;
    let item: mailroom_domain::ids::ItemId = a.item.parse().unwrap();
    assert!(store.open_task(srv.fx.tenant.id, item, "contact_sender", chrono::Utc::now()).await.unwrap());
    let task = store.list_tasks(srv.fx.tenant.id, Some("open"), 10).await.unwrap().remove(0);
    let a_task = task.id.to_string();
    hit("GET", "/api/v1/tasks");
    for q in ["", "?status=all"] {
        let r = bv.clerk.get(&format!("/api/v1/tasks{q}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.body["items"].as_array().unwrap().is_empty(), "{}", r.text);
        no_leak("tasks", &r.text, a);
        assert!(!r.text.contains(&a_task));
    }
    hit("POST", "/api/v1/tasks/{id}/done");
    let body = json!({"note": "B closes A's task"});
    let r_a = bv.clerk.request("POST", &format!("/api/v1/tasks/{a_task}/done"), Some(&body), &[]).await;
    let r_r = bv.clerk.request("POST", &format!("/api/v1/tasks/{}/done", random()), Some(&body), &[]).await;
    r_a.assert_problem(404, "not_found");
    same("/api/v1/tasks/{id}/done", &r_a, &r_r);
    hit("GET", "/api/v1/items/{id}/notifications");
    let r_a = bv.clerk.get(&format!("/api/v1/items/{}/notifications", a.item)).await;
    let r_r = bv.clerk.get(&format!("/api/v1/items/{}/notifications", random())).await;
    r_a.assert_problem(404, "not_found");
    same("/api/v1/items/{id}/notifications", &r_a, &r_r);
    hit("POST", "/ui/tasks/{id}/done");
    let r_id = random();
    let with_a = bv.ui.post(&format!("/ui/tasks/{a_task}/done"), &[("note", "B closes A's task")]).await;
    let with_r = bv.ui.post(&format!("/ui/tasks/{r_id}/done"), &[("note", "B closes A's task")]).await;
    assert_eq!(with_a.status, 404, "{}", with_a.text);
    assert_eq!(with_a.text.replace(&a_task, "ID"), with_r.text.replace(&r_id, "ID"), "A's task id leaks");
    assert_eq!(store.task(srv.fx.tenant.id, task.id).await.unwrap().unwrap().status, "open");
}

/// Last, since afterwards B has items with A's tracking numbers of its own: registering A's
/// tracking number or reusing A's idempotency key in B creates B's item, never returns A's.
async fn registration_probes(a: &Alpha, bv: &Bravo) {
    let me_person = bv.employee.get("/api/v1/me").await.body["person_id"].as_str().unwrap().to_string();
    let bravo_id = bv.admin.get("/api/v1/me").await.body["tenant_id"].as_str().unwrap().to_string();
    let dup = bv
        .clerk
        .post("/api/v1/items", &json!({"tracking_number": a.tracking, "recipient": {"person_id": me_person}}))
        .await;
    let keyed = bv
        .clerk
        .post_with(
            "/api/v1/items",
            &json!({"tracking_number": "ALPHATRACK0003", "recipient": {"person_id": me_person}}),
            &[("Idempotency-Key", "shared-key")],
        )
        .await;
    for r in [&dup, &keyed] {
        assert_eq!(r.status, 201, "new in B: {}", r.text);
        assert_eq!(r.body["tenant_id"].as_str(), Some(bravo_id.as_str()));
        assert_ne!(r.body["reference"].as_str(), Some(a.reference.as_str()));
        let text = r.text.replace(&a.tracking, "").replace("ALPHATRACK0003", "");
        no_leak("intake", &text, a);
    }
}

both_backends!(cross_tenant);

/// Notification settings: B sees none of A's templates, endpoints or preferences, cannot tell
/// A's ids from random ones, and changes only its own.
async fn notification_probes(srv: &TestServer, a: &Alpha, bv: &Bravo, probes: &Probes) {
    let hit = |m: &str, p: &str| probes.hit(m, p);
    let alpha = srv.client(&srv.token("admin").await);
    let secret_words = "AlphaNoticeWording";
    let tpl = json!({"subject": format!("{secret_words} {{{{reference}}}}"), "body": "b {{pickup_code}}"});
    assert_eq!(alpha.put("/api/v1/notification-templates/arrival/en", &tpl).await.status, 200);
    let ep = alpha
        .post(
            "/api/v1/notification-endpoints",
            &json!({"kind": "dingtalk", "name": "AlphaRobotName",
               "url": "https://8.8.4.4/robot/send?access_token=AlphaToken", "secret": "SECAlphaSecret"}),
        )
        .await;
    assert_eq!(ep.status, 201, "{}", ep.text);
    let ep_id = ep.body["id"].as_str().unwrap().to_string();
    let pref = json!({"lang": "en", "email": false, "sms": false, "robot": true, "digest": false,
                      "quiet_start": "21:13", "quiet_end": "06:47"});
    let r = alpha.put(&format!("/api/v1/people/{}/notification-preferences", a.person), &pref).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let leaks = [secret_words, "AlphaRobotName", "AlphaToken", "SECAlphaSecret", "21:13"];
    let clean = |what: &str, text: &str| {
        for l in leaks {
            assert!(!text.contains(l), "{what}: shows A's {l}: {text}");
        }
        no_leak(what, text, a);
    };
    let admin = &bv.admin;

    // Templates: B's own (built-in) wording; B's changes stay in B.
    hit("GET", "/api/v1/notification-templates");
    clean("templates", &admin.get("/api/v1/notification-templates").await.text);
    hit("GET", "/api/v1/notification-templates/{kind}/{lang}");
    let t = admin.get("/api/v1/notification-templates/arrival/en").await;
    assert_eq!(t.body["is_default"], true);
    clean("template", &t.text);
    hit("POST", "/api/v1/notification-templates/{kind}/{lang}/preview");
    clean(
        "preview",
        &admin
            .post(
                "/api/v1/notification-templates/arrival/en/preview",
                &json!({"subject": "s {{reference}}", "body": "b"}),
            )
            .await
            .text,
    );
    hit("PUT", "/api/v1/notification-templates/{kind}/{lang}");
    assert_eq!(
        admin.put("/api/v1/notification-templates/arrival/en", &json!({"subject": "B", "body": "b"})).await.status,
        200
    );
    hit("DELETE", "/api/v1/notification-templates/{kind}/{lang}");
    assert_eq!(admin.delete("/api/v1/notification-templates/arrival/en").await.status, 200);
    let still = alpha.get("/api/v1/notification-templates/arrival/en").await;
    assert!(still.body["subject"].as_str().unwrap().starts_with(secret_words), "B changed A's template");

    // Preferences: A's person is as unknown as a random id; B's own are B's.
    for m in ["GET", "PUT"] {
        hit(m, "/api/v1/people/{id}/notification-preferences");
        let body = (m == "PUT").then(|| pref.clone());
        let with_a = admin
            .request(m, &format!("/api/v1/people/{}/notification-preferences", a.person), body.as_ref(), &[])
            .await;
        let with_r = admin
            .request(m, &format!("/api/v1/people/{}/notification-preferences", random()), body.as_ref(), &[])
            .await;
        with_a.assert_problem(404, "not_found");
        same("person preferences", &with_a, &with_r);
    }
    hit("GET", "/api/v1/me/notification-preferences");
    let mine = bv.employee.get("/api/v1/me/notification-preferences").await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    clean("my preferences", &mine.text);
    hit("PUT", "/api/v1/me/notification-preferences");
    let r = bv
        .employee
        .put(
            "/api/v1/me/notification-preferences",
            &json!({"lang": "en", "email": true, "sms": false, "robot": false, "digest": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let a_pref = alpha.get(&format!("/api/v1/people/{}/notification-preferences", a.person)).await;
    assert_eq!(a_pref.body["quiet"]["start"], "21:13:00", "A's preferences are A's");

    // Endpoints: none of A's listed; A's id answers as a random one; A's department is unknown.
    hit("GET", "/api/v1/notification-endpoints");
    let list = admin.get("/api/v1/notification-endpoints").await;
    assert_eq!(list.body["items"], json!([]));
    for (m, body) in [("GET", None), ("PUT", Some(json!({"name": "Hijacked"}))), ("DELETE", None)] {
        hit(m, "/api/v1/notification-endpoints/{id}");
        let with_a = admin.request(m, &format!("/api/v1/notification-endpoints/{ep_id}"), body.as_ref(), &[]).await;
        let with_r =
            admin.request(m, &format!("/api/v1/notification-endpoints/{}", random()), body.as_ref(), &[]).await;
        with_a.assert_problem(404, "not_found");
        same("endpoint", &with_a, &with_r);
    }
    hit("POST", "/api/v1/notification-endpoints");
    let body = |d: &str| json!({"kind": "wecom", "name": "B robot", "url": "https://8.8.4.4/x", "department_id": d});
    let with_a = admin.post("/api/v1/notification-endpoints", &body(&a.dept)).await;
    with_a.assert_problem(422, "validation_failed");
    same("endpoint department", &with_a, &admin.post("/api/v1/notification-endpoints", &body(&random())).await);
    let a_ep = alpha.get(&format!("/api/v1/notification-endpoints/{ep_id}")).await;
    assert_eq!(a_ep.body["name"], "AlphaRobotName", "B changed A's endpoint");

    // The console.
    let ui = &bv.ui;
    for path in [
        "/ui/notifications/templates",
        "/ui/notifications/templates/arrival/en",
        "/ui/notifications/endpoints",
        "/ui/my/notifications",
    ] {
        let template = if path.contains("arrival") { "/ui/notifications/templates/{kind}/{lang}" } else { path };
        hit("GET", template);
        let p = ui.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        clean(path, &p.text);
    }
    hit("POST", "/ui/notifications/templates/{kind}/{lang}");
    let p =
        ui.post("/ui/notifications/templates/arrival/en", &[("op", "preview"), ("subject", "s"), ("body", "b")]).await;
    clean("template preview page", &p.text);
    hit("POST", "/ui/my/notifications");
    let p = ui.post("/ui/my/notifications", &[("lang", "en")]).await;
    assert!(p.status < 500);
    clean("my notifications post", &p.text);
    hit("POST", "/ui/notifications/endpoints");
    let form = |d: &str| {
        vec![
            ("kind", "wecom".to_string()),
            ("name", "B".to_string()),
            ("url", "https://8.8.4.4/x".to_string()),
            ("department_id", d.to_string()),
        ]
    };
    let fa = form(&a.dept);
    let fr = form(&random());
    let fa: Vec<(&str, &str)> = fa.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let fr: Vec<(&str, &str)> = fr.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let pa = ui.post("/ui/notifications/endpoints", &fa).await;
    let pr = ui.post("/ui/notifications/endpoints", &fr).await;
    assert_eq!((pa.status, pr.status), (422, 422));
    clean("endpoint form", &pa.text.replace(a.dept.as_str(), ""));
    for (m, p, a_id) in [
        ("GET", "/ui/notifications/endpoints/{id}", &ep_id),
        ("POST", "/ui/notifications/endpoints/{id}", &ep_id),
        ("GET", "/ui/people/{id}/notifications", &a.person),
        ("POST", "/ui/people/{id}/notifications", &a.person),
    ] {
        hit(m, p);
        let form: &[(&str, &str)] = if m == "POST" { &[("name", "Hijacked"), ("lang", "en")] } else { &[] };
        let r_id = random();
        let with_a = ui.send(m, &p.replace("{id}", a_id), form).await;
        let with_r = ui.send(m, &p.replace("{id}", &r_id), form).await;
        assert_eq!(with_a.status, 404, "{m} {p}: {}", with_a.text);
        assert_eq!(with_a.text.replace(a_id.as_str(), "ID"), with_r.text.replace(&r_id, "ID"), "{m} {p}");
        clean(p, &with_a.text.replace(a_id.as_str(), ""));
    }
}

/// Outbound mail: B sees none of A's sends or batches; A's items, batches, cost centres and people
/// answer exactly as ids that never existed, and nothing of A's changes.
async fn outbound_probes(srv: &TestServer, a: &Alpha, bv: &Bravo, probes: &Probes) {
    let hit = |m: &str, p: &str| probes.hit(m, p);
    let a_admin = srv.client(&srv.token("admin").await);
    let a_clerk = srv.client(&srv.token("clerk").await);
    let csv = "carrier,method,zone,max_weight_g,price,step_price\nalphapost,registered,domestic,1000,9.99,\n";
    let r = a_admin.post_raw("/api/v1/postage/rates/import", "text/csv", csv.as_bytes().to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cc = a_admin.post("/api/v1/postage/cost-centres", &json!({"code": "ALPHAOUT", "name": "Alpha Out"})).await;
    assert_eq!(cc.status, 201, "{}", cc.text);
    let cc = cc.body["id"].as_str().unwrap().to_string();
    let acct = a_admin.post("/api/v1/postage/accounts", &json!({"name": "Alpha Outbound Account"})).await;
    let acct = acct.body["id"].as_str().unwrap().to_string();
    a_admin.post(&format!("/api/v1/postage/accounts/{acct}/top-ups"), &json!({"amount": 100000})).await;
    let request = |cc: &str, person: &str| {
        json!({"requester_person_id": person, "cost_centre_id": cc,
               "recipient": {"country": "CN", "text": "Alpha Outbound Secretrecipient\n上海市黄浦区南京东路1号\n200001"},
               "contents": "Alpha outbound contents", "method": "registered", "carrier": "alphapost", "weight_g": 30})
    };
    let r = a_clerk.post("/api/v1/outbound", &request(&cc, &a.person)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let item = r.body["item"]["id"].as_str().unwrap().to_string();
    let reference = r.body["item"]["reference"].as_str().unwrap().to_string();
    let r =
        a_clerk.post(&format!("/api/v1/outbound/{item}/accept"), &json!({"weight_g": 25, "account_id": acct})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = a_clerk
        .post("/api/v1/outbound/batches", &json!({"carrier": "alphapost", "collection_at": "2030-01-01T02:00:00Z"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let batch = r.body["batch"]["id"].as_str().unwrap().to_string();
    let mut secrets = a.secrets.clone();
    secrets.extend([item.clone(), reference.clone(), batch.clone(), "Alpha Outbound Secretrecipient".into()]);
    let a2 = Alpha { secrets, ..seed_clone(a) };
    let a = &a2;
    let (admin, clerk) = (&bv.admin, &bv.clerk);

    // Lists: B's own, which is nothing.
    for p in ["/api/v1/outbound", "/api/v1/outbound/batches"] {
        hit("GET", p);
        let r = admin.get(p).await;
        assert_eq!(r.status, 200, "{p}: {}", r.text);
        assert_eq!(r.body["items"], json!([]), "{p}: {}", r.text);
        no_leak(p, &r.text, a);
    }
    // A's item and batch by id.
    for p in ["/api/v1/outbound/{id}", "/api/v1/outbound/{id}/label.pdf", "/api/v1/outbound/{id}/customs.pdf"] {
        hit("GET", p);
        let r_a = admin.get(&p.replace("{id}", &item)).await;
        r_a.assert_problem(404, "not_found");
        same(p, &r_a, &admin.get(&p.replace("{id}", &random())).await);
    }
    for (p, body) in [
        ("/api/v1/outbound/{id}/approve", json!({})),
        ("/api/v1/outbound/{id}/reject", json!({"note": "no"})),
        ("/api/v1/outbound/{id}/accept", json!({"weight_g": 10})),
        ("/api/v1/outbound/{id}/cancel", json!({})),
        ("/api/v1/outbound/{id}/tracking", json!({"tracking_number": "RR123456785CN"})),
        ("/api/v1/outbound/{id}/receipt", json!({"signed_by": "Mallory"})),
        ("/api/v1/outbound/{id}/return", json!({"note": "gone"})),
        ("/api/v1/outbound/{id}/send-electronic", json!({})),
    ] {
        hit("POST", p);
        let r_a = admin.post(&p.replace("{id}", &item), &body).await;
        r_a.assert_problem(404, "not_found");
        same(p, &r_a, &admin.post(&p.replace("{id}", &random()), &body).await);
    }
    for p in ["/api/v1/outbound/batches/{id}", "/api/v1/outbound/batches/{id}/manifest.pdf"] {
        hit("GET", p);
        let r_a = admin.get(&p.replace("{id}", &batch)).await;
        r_a.assert_problem(404, "not_found");
        same(p, &r_a, &admin.get(&p.replace("{id}", &random())).await);
    }
    for (p, body) in [
        ("/api/v1/outbound/batches/{id}/scan", json!({"code": reference})),
        ("/api/v1/outbound/batches/{id}/hand-over", json!({"courier_name": "Mallory"})),
    ] {
        hit("POST", p);
        let r_a = clerk.post(&p.replace("{id}", &batch), &body).await;
        r_a.assert_problem(404, "not_found");
        same(p, &r_a, &clerk.post(&p.replace("{id}", &random()), &body).await);
    }
    // A's cost centre and people in B's requests; A's items in B's batch and scanner.
    hit("POST", "/api/v1/outbound");
    let b_person = bv.admin.get("/api/v1/people?limit=1").await;
    let b_person = b_person.body["items"][0]["id"].as_str().map(str::to_string).unwrap_or_else(random);
    let r_a = clerk.post("/api/v1/outbound", &request(&cc, &b_person)).await;
    r_a.assert_problem(422, "validation_failed");
    same("request on A's cost centre", &r_a, &clerk.post("/api/v1/outbound", &request(&random(), &b_person)).await);
    let r_a = clerk.post("/api/v1/outbound", &request(&random(), &a.person)).await;
    r_a.assert_problem(422, "validation_failed");
    same("request for A's person", &r_a, &clerk.post("/api/v1/outbound", &request(&random(), &random())).await);
    hit("POST", "/api/v1/outbound/mailings");
    let q = |cc: &str| {
        format!(
            "/api/v1/outbound/mailings?method=registered&carrier=alphapost&contents=x&weight_g=10&cost_centre_id={cc}&requester_person_id={b_person}"
        )
    };
    let rows = "recipient,street,city,region,postal_code,country\n李雷,南京路1号,上海市,上海市,200001,CN\n";
    let r_a = clerk.post_raw(&q(&cc), "text/csv", rows.as_bytes().to_vec()).await;
    r_a.assert_problem(422, "validation_failed");
    same(
        "mailing on A's cost centre",
        &r_a,
        &clerk.post_raw(&q(&random()), "text/csv", rows.as_bytes().to_vec()).await,
    );
    hit("POST", "/api/v1/outbound/batches");
    let r_a = clerk
        .post(
            "/api/v1/outbound/batches",
            &json!({"carrier": "alphapost", "collection_at": "2030-01-01T02:00:00Z", "items": [item]}),
        )
        .await;
    let r_r = clerk
        .post(
            "/api/v1/outbound/batches",
            &json!({"carrier": "alphapost", "collection_at": "2030-01-01T02:00:00Z", "items": [random()]}),
        )
        .await;
    r_a.assert_problem(422, "validation_failed");
    r_r.assert_problem(422, "validation_failed");
    let own = clerk
        .post("/api/v1/outbound/batches", &json!({"carrier": "alphapost", "collection_at": "2030-01-01T02:00:00Z"}))
        .await;
    assert_eq!(own.status, 201, "{}", own.text);
    assert_eq!(own.body["items"], json!([]), "B's batch takes none of A's items: {}", own.text);
    let own = own.body["batch"]["id"].as_str().unwrap().to_string();
    let r = clerk.post(&format!("/api/v1/outbound/batches/{own}/scan"), &json!({"code": reference})).await;
    r.assert_problem(422, "validation_failed");
    no_leak("scan of A's reference", &r.text.replace(&reference, ""), a);
    // Nothing of A's changed.
    let mine = a_clerk.get(&format!("/api/v1/outbound/{item}")).await;
    assert_eq!(mine.body["item"]["status"], "accepted", "{}", mine.text);
    assert_eq!(mine.body["send"]["batch_id"], json!(batch));
    assert_eq!(mine.body["send"]["scanned_out_at"], Value::Null);
}
