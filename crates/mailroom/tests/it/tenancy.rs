//! Organisations and who acts in them: operator administrators, staff assigned to
//! organisations and sites, the organisation switcher, and the roles that read some categories.

use crate::both_backends;
use crate::support::{Backend, PASSWORD, TestServer, cli};
use mailroom_domain::auth::Role;
use serde_json::{Value, json};

fn slugs(r: &crate::support::Resp) -> Vec<String> {
    r.body["items"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap().to_string()).collect()
}

async fn operators_assignments_and_sites(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let ops = srv.app.create_tenant("ops", "Operator").await.unwrap();
    srv.app.create_user(ops.id, "root", "Root", PASSWORD, Role::OperatorAdmin, None).await.unwrap();
    srv.app.create_user(ops.id, "roamer", "Roamer", PASSWORD, Role::Staff, None).await.unwrap();
    let root = srv.client(&srv.app.create_token("ops", "root").await.unwrap());
    let roamer = srv.client(&srv.app.create_token("ops", "roamer").await.unwrap());
    let admin = srv.client(&srv.token("admin").await);
    let clerk = srv.client(&srv.token("clerk").await);
    let hq = srv.fx.shelf.site_id.to_string();

    // The operator creates organisations and sees them all; a tenant administrator cannot.
    let d = root.post("/api/v1/tenants", &json!({"slug": "delta", "name": "Delta Ltd"})).await;
    assert_eq!(d.status, 201, "{}", d.text);
    root.post("/api/v1/tenants", &json!({"slug": "delta", "name": "again"})).await.assert_problem(409, "conflict");
    root.post("/api/v1/tenants", &json!({"slug": "Bad Slug", "name": "x"}))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(slugs(&root.get("/api/v1/tenants").await), ["ops", "acme", "delta"]);
    admin.post("/api/v1/tenants", &json!({"slug": "x", "name": "x"})).await.assert_problem(403, "forbidden");
    assert_eq!(slugs(&admin.get("/api/v1/tenants").await), ["acme"]);

    // Acting in acme, the operator adds a second site and assigns its clerk to the first one.
    let op = root.acting_in("acme");
    assert_eq!(op.get("/api/v1/me").await.body["tenant"], "acme");
    let annex = op.post("/api/v1/sites", &json!({"name": "Annex"})).await;
    let annex_id = annex.body["id"].as_str().unwrap().to_string();
    let annex_shelf =
        op.post("/api/v1/locations", &json!({"site_id": annex_id, "code": "AX1", "name": "Annex shelf"})).await;
    assert_eq!(annex_shelf.status, 201, "{}", annex_shelf.text);
    let assign = async |body: Value| op.post("/api/v1/assignments", &body).await;
    assign(json!({"tenant": "ops", "login": "root", "role": "operator_admin"}))
        .await
        .assert_problem(422, "validation_failed");
    assign(json!({"tenant": "acme", "login": "clerk", "role": "staff"})).await.assert_problem(422, "validation_failed");
    assign(json!({"tenant": "ops", "login": "nobody", "role": "staff"})).await.assert_problem(422, "validation_failed");
    let a = assign(json!({"tenant": "ops", "login": "roamer", "role": "staff", "site_id": hq})).await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!((a.body["home_tenant"].as_str(), a.body["role"].as_str()), (Some("ops"), Some("staff")));
    let listed = admin.get("/api/v1/assignments").await;
    assert_eq!(listed.body["items"][0]["login"], "roamer", "{}", listed.text);
    clerk.get("/api/v1/assignments").await.assert_problem(403, "forbidden");
    admin
        .post("/api/v1/assignments", &json!({"tenant": "ops", "login": "roamer", "role": "admin"}))
        .await
        .assert_problem(403, "forbidden");

    // At home the clerk sees nothing of acme; in acme it acts as staff at HQ only.
    assert_eq!(roamer.get("/api/v1/items").await.body["items"].as_array().unwrap().len(), 0);
    assert_eq!(slugs(&roamer.get("/api/v1/tenants").await), ["ops", "acme"]);
    let ra = roamer.acting_in("acme");
    let me = ra.get("/api/v1/me").await;
    assert_eq!((me.body["tenant"].as_str(), me.body["role"].as_str()), (Some("acme"), Some("staff")));
    assert_eq!(me.body["site_id"].as_str(), Some(hq.as_str()));
    assert!(me.body["person_id"].is_null());
    roamer.acting_in("delta").get("/api/v1/items").await.assert_problem(403, "forbidden");
    let person = srv.fx.person.id.to_string();
    let reg =
        ra.post("/api/v1/items", &json!({"tracking_number": "ROAM00000001", "recipient": {"person_id": person}})).await;
    assert_eq!((reg.status, reg.body["site_id"].as_str()), (201, Some(hq.as_str())), "{}", reg.text);
    ra.post("/api/v1/items", &json!({"recipient": {"person_id": person}, "site_id": annex_id}))
        .await
        .assert_problem(403, "forbidden");
    let id = reg.body["id"].as_str().unwrap().to_string();
    let tr = format!("/api/v1/items/{id}/transitions");
    ra.post(&tr, &json!({"action": "store", "location_id": annex_shelf.body["id"]}))
        .await
        .assert_problem(403, "forbidden");
    let stored = ra.post(&tr, &json!({"action": "store", "location_id": srv.fx.shelf.id})).await;
    assert_eq!(stored.status, 200, "{}", stored.text);
    let at_annex = clerk
        .post(
            "/api/v1/items",
            &json!({"tracking_number": "ANNEX0000001", "recipient": {"person_id": person}, "site_id": annex_id}),
        )
        .await;
    let annex_tr = format!("/api/v1/items/{}/transitions", at_annex.body["id"].as_str().unwrap());
    ra.post(&annex_tr, &json!({"action": "store", "location_id": srv.fx.shelf.id}))
        .await
        .assert_problem(403, "forbidden");
    ra.post("/api/v1/locations", &json!({"site_id": annex_id, "code": "X", "name": "X"}))
        .await
        .assert_problem(403, "forbidden");
    // Reading is not limited to the site; the custody log names the operator's clerk.
    assert_eq!(ra.get(&format!("/api/v1/items/{}", at_annex.body["id"].as_str().unwrap())).await.status, 200);
    let ev = ra.get(&format!("/api/v1/items/{id}/events")).await;
    assert_eq!(ev.body["items"][1]["actor_name"], "roamer");

    // The console: the switcher offers both organisations and the choice is checked each time.
    let ui = srv.browser("ops", "roamer").await;
    let home = ui.get("/ui/intake").await;
    assert!(home.text.contains("data-testid=\"org-switch\"") && home.text.contains("value=\"acme\""));
    let switched = ui.post("/ui/tenant", &[("tenant", "acme")]).await;
    assert_eq!(switched.status, 303);
    let cookie = switched.set_cookie.iter().find(|c| c.starts_with("mr_tenant=acme")).expect("tenant cookie").clone();
    let in_acme = ui.with_cookie(cookie.split(';').next().unwrap());
    let list = in_acme.get("/ui/items").await;
    assert_eq!(list.status, 200);
    assert!(list.text.contains("ROAM00000001"), "the console acts in acme");
    // The console's own API calls act where the console does.
    let me = in_acme.get("/api/v1/me").await;
    assert!(me.text.contains("\"tenant\":\"acme\""), "{}", me.text);
    assert_eq!(ui.post("/ui/tenant", &[("tenant", "delta")]).await.status, 403);

    // The operator changes the assignment to auditor (every site): reads, never writes.
    let a = assign(json!({"tenant": "ops", "login": "roamer", "role": "auditor"})).await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert!(a.body["site_id"].is_null());
    assert_eq!(ra.get("/api/v1/me").await.body["role"], "auditor");
    ra.post(&tr, &json!({"action": "notify"})).await.assert_problem(403, "forbidden");
    assert_eq!(ra.get("/api/v1/custody/verify").await.body["intact"], true);
    // Ending the assignment closes acme to the clerk at once, in the API and the console.
    let roamer_id = srv.app.store.user_by_login(ops.id, "roamer").await.unwrap().unwrap().id;
    assert_eq!(op.request("DELETE", &format!("/api/v1/assignments/{roamer_id}"), None).await.status, 204);
    ra.get("/api/v1/items").await.assert_problem(403, "forbidden");
    let back = in_acme.get("/ui/items").await;
    assert_eq!((back.status, back.location.as_str()), (303, "/ui/"));

    // Only operator administrators make operator administrators.
    let user = |role: &str, login: &str| json!({"login": login, "display_name": "U", "password": "long enough pw", "role": role});
    admin.post("/api/v1/users", &user("operator_admin", "boss")).await.assert_problem(403, "forbidden");
    assert_eq!(admin.post("/api/v1/users", &user("supervisor", "sup")).await.status, 201);
    assert_eq!(op.post("/api/v1/users", &user("operator_admin", "boss")).await.status, 201);
    srv.stop().await;
}

async fn category_roles_read_their_categories(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let clerk = srv.client(&srv.token("clerk").await);
    let other = srv.fx.other_person.id.to_string();
    let mut by_cat = std::collections::HashMap::new();
    for (i, cat) in ["general", "invoice", "bank_statement", "complaint", "customer_correspondence"].iter().enumerate()
    {
        let r = clerk
            .post(
                "/api/v1/items",
                &json!({"tracking_number": format!("CAT{i:09}"), "recipient": {"person_id": other}, "category": cat}),
            )
            .await;
        by_cat.insert(*cat, r.body["id"].as_str().unwrap().to_string());
    }
    // Finance is also a person with their own mail.
    let own = clerk
        .post(
            "/api/v1/items",
            &json!({"tracking_number": "CATOWN000001", "recipient": {"person_id": srv.fx.person.id}}),
        )
        .await;
    let own_id = own.body["id"].as_str().unwrap().to_string();
    let finance = srv.client(&srv.user_with_role("fin", Role::Finance, Some(srv.fx.person.id)).await);
    let service = srv.client(&srv.user_with_role("cs", Role::CustomerService, None).await);
    let auditor = srv.client(&srv.user_with_role("aud", Role::Auditor, None).await);
    let listed = |r: crate::support::Resp| {
        let mut v: Vec<String> =
            r.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect();
        v.sort();
        v
    };
    let expect = |ids: &[&String]| {
        let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(
        listed(finance.get("/api/v1/items").await),
        expect(&[&by_cat["invoice"], &by_cat["bank_statement"], &own_id])
    );
    assert_eq!(listed(finance.get("/api/v1/me/items").await), expect(&[&own_id]));
    assert_eq!(listed(finance.get("/api/v1/items?q=CAT000000003").await), Vec::<String>::new());
    assert_eq!(
        listed(service.get("/api/v1/items").await),
        expect(&[&by_cat["complaint"], &by_cat["customer_correspondence"]])
    );
    assert_eq!(listed(auditor.get("/api/v1/items?limit=200").await).len(), 6);
    finance.get(&format!("/api/v1/items/{}", by_cat["general"])).await.assert_problem(404, "not_found");
    finance.get(&format!("/api/v1/items/{}", by_cat["complaint"])).await.assert_problem(404, "not_found");
    assert_eq!(finance.get(&format!("/api/v1/items/{}/events", by_cat["invoice"])).await.status, 200);
    service.get(&format!("/api/v1/items/{}", by_cat["invoice"])).await.assert_problem(404, "not_found");
    // Reports: counts of the organisation for the roles that read reports.
    let rep = finance.get("/api/v1/reports/summary").await;
    assert_eq!((rep.body["total"].as_i64(), rep.body["by_category"]["invoice"].as_i64()), (Some(6), Some(1)));
    clerk.get("/api/v1/reports/summary").await.assert_problem(403, "forbidden");
    // The console: finance starts at the item list, which shows its categories only.
    let ui = srv.browser("acme", "fin").await;
    let start = ui.get("/ui/").await;
    assert_eq!(start.location, "/ui/items");
    let page = ui.get("/ui/items").await;
    assert!(page.text.contains("CAT000000001") && !page.text.contains("CAT000000000"));
    assert_eq!(ui.get("/ui/intake").await.status, 403);
    srv.stop().await;
}

/// The operator's command line assigns and unassigns users.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignments_from_the_cli() {
    let Some(srv) = TestServer::start(Backend::Sqlite).await else { return };
    let ops = srv.app.create_tenant("ops", "Operator").await.unwrap();
    srv.app.create_user(ops.id, "roamer", "Roamer", PASSWORD, Role::Staff, None).await.unwrap();
    let db = srv.db.url.clone();
    let (code, out, err) = cli(&[
        "user",
        "assign",
        "--tenant",
        "ops",
        "--login",
        "roamer",
        "--to",
        "acme",
        "--role",
        "supervisor",
        "--site",
        "HQ",
        "--db",
        &db,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("assigned roamer@ops to acme as supervisor"), "{out}");
    let a = srv.app.store.list_assignments(srv.fx.tenant.id).await.unwrap();
    assert_eq!((a.len(), a[0].role, a[0].site_id), (1, Role::Supervisor, Some(srv.fx.shelf.site_id)));
    let (code, _, err) = cli(&[
        "user",
        "assign",
        "--tenant",
        "ops",
        "--login",
        "roamer",
        "--to",
        "acme",
        "--role",
        "operator_admin",
        "--db",
        &db,
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("operator administrators"), "{err}");
    let (code, _, err) = cli(&[
        "user", "assign", "--tenant", "ops", "--login", "roamer", "--to", "acme", "--role", "staff", "--site",
        "Nowhere", "--db", &db,
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("Nowhere"), "{err}");
    let (code, out, err) =
        cli(&["user", "unassign", "--tenant", "ops", "--login", "roamer", "--to", "acme", "--db", &db]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) =
        cli(&["user", "unassign", "--tenant", "ops", "--login", "roamer", "--to", "acme", "--db", &db]);
    assert_ne!(code, 0);
    assert!(err.contains("not assigned"), "{err}");
    assert!(srv.app.store.list_assignments(srv.fx.tenant.id).await.unwrap().is_empty());
    srv.stop().await;
}

/// Every demo login works with the role it is listed with; the operator's clerk is assigned to
/// both demo organisations; seeding again adds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_logins_have_their_roles() {
    let Some(db) = crate::support::TestDb::new(Backend::Sqlite).await else { return };
    let app = crate::support::open_app(&db.url).await;
    assert!(app.seed_demo().await.unwrap());
    for (tenant, login, role) in mailroom_app::demo::DEMO_LOGINS {
        let (secret, _) = app.login(tenant, login, mailroom_app::demo::DEMO_PASSWORD, "en").await.unwrap();
        let (p, _) = app.authenticate_session(&secret).await.unwrap();
        assert_eq!(p.role.as_str(), *role, "{tenant}/{login}");
    }
    let token = app.create_token("operator", "clerk").await.unwrap();
    for slug in ["demo", "demo-hospital"] {
        let p = app.authenticate_token_in(&token, Some(slug)).await.unwrap();
        assert_eq!(p.role, Role::Staff);
        assert_eq!(p.site_id.is_some(), slug == "demo", "{slug}");
    }
    let fin = app.authenticate_token_in(&app.create_token("demo", "finance").await.unwrap(), None).await.unwrap();
    assert!(fin.department_id.is_some(), "the demo finance login is a person of the finance department");
    let before = demo_outbound(&app).await;
    assert!(!app.seed_demo().await.unwrap());
    assert_eq!(demo_outbound(&app).await, before, "seeding again adds no postage or outbound mail");
    let verdicts = app.verify_custody().await.unwrap();
    assert!(verdicts.iter().all(|v| v.broken.is_none() && v.bad_checkpoints.is_empty()), "{verdicts:?}");
    db.cleanup().await;
}

/// The demo's postage and outbound mail, checked: every outbound status, a handed-over batch with
/// carrier tracking numbers, the survey mailing with its dispatch window, an electronic transfer,
/// recipients abroad in their scripts, and a chargeback by department. Returns the counts of
/// outbound items, ledger entries, batches, accounts and cost centres per organisation.
async fn demo_outbound(app: &mailroom_app::App) -> Vec<(String, usize, usize, usize, usize, usize)> {
    use mailroom_app::sending::OutboundQuery;
    use mailroom_domain::item::Status;
    let mut counts = Vec::new();
    for slug in ["demo", "demo-hospital"] {
        let p = app.authenticate_token_in(&app.create_token(slug, "admin").await.unwrap(), None).await.unwrap();
        let q = OutboundQuery { limit: Some(500), ..Default::default() };
        let items = app.list_outbound(&p, &q).await.unwrap();
        let has = |s: Status| items.iter().any(|r| r.item.status == s);
        let batches = app.dispatch_batches(&p, None).await.unwrap();
        let handed: Vec<_> = batches.iter().filter(|b| b.status == "handed_over").collect();
        assert!(!handed.is_empty(), "{slug}: a batch handed to the carrier");
        for b in &handed {
            let view = app.dispatch_batch_view(&p, b.id).await.unwrap();
            assert!(!view.items.is_empty() && b.courier_name.is_some(), "{slug}: {b:?}");
            for r in &view.items {
                assert!(r.item.tracking_number.is_some() && r.send.dispatched_at.is_some(), "{slug}: {r:?}");
            }
        }
        assert!(has(Status::AwaitingApproval) && has(Status::Requested) && has(Status::Delivered), "{slug}");
        let delivered = items.iter().find(|r| r.item.status == Status::Delivered).unwrap();
        assert!(delivered.send.receipt_signed_by.is_some() && delivered.send.receipt_number.is_some());
        let accounts = app.postage_accounts(&p).await.unwrap();
        let sites = app.store.list_sites(p.tenant_id).await.unwrap();
        assert_eq!(accounts.len(), sites.len() + 1, "{slug}: one account per site and one for all");
        assert_eq!(accounts.iter().filter(|a| a.site_id.is_none()).count(), 1);
        assert!(accounts.iter().all(|a| a.balance > 0), "{slug}: {accounts:?}");
        let ccs = app.cost_centres(&p).await.unwrap();
        assert!(ccs.iter().all(|c| c.cost_centre.department_id.is_some() && c.cost_centre.approval_limit.is_some()));
        let month = (chrono::Utc::now() + chrono::Duration::hours(8)).format("%Y-%m").to_string();
        let cb = app.chargeback(&p, &month).await.unwrap();
        assert!(!cb.departments.is_empty() && cb.total > 0, "{slug}: {cb:?}");
        assert!(cb.departments.iter().all(|d| d.department_id.is_some() && !d.department_code.is_empty()));
        if slug == "demo" {
            for s in [Status::Accepted, Status::Dispatched, Status::Cancelled, Status::ReturnedToSender] {
                assert!(has(s), "demo: an outbound item {s}");
            }
            let mailing: Vec<_> = items.iter().filter(|r| r.send.mailing_id.is_some()).collect();
            assert_eq!(mailing.len(), 20, "the survey mailing");
            assert!(mailing.iter().all(|r| r.item.status == Status::Requested && r.send.not_before.is_some()));
            let window =
                mailing[0].send.not_before.unwrap().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
            assert_eq!(window.format("%a %H:%M").to_string(), "Tue 10:00");
            assert!(window > chrono::Utc::now());
            let ems = items.iter().find(|r| r.item.status == Status::AwaitingApproval).unwrap();
            assert_eq!((ems.send.country.as_str(), ems.item.carrier.as_deref()), ("DE", Some("ems")));
            assert!(ems.send.customs.is_some() && ems.send.estimate.unwrap() > 20_000);
            assert!(
                items.iter().any(|r| r.send.method == "encrypted_electronic" && r.item.status == Status::Dispatched)
            );
            for c in ["CN", "JP", "KR", "DE", "US", "HK"] {
                assert!(items.iter().any(|r| r.send.country == c), "demo: a send to {c}");
            }
            for name in ["佐藤花子", "박지훈", "陳大文"] {
                assert!(items.iter().any(|r| r.item.recipient_name == name), "demo: {name}");
            }
            let codes: Vec<&str> = cb.departments.iter().map(|d| d.department_code.as_str()).collect();
            assert!(codes.len() >= 3, "{codes:?}");
            let ledger = app.postage_ledger(&p, None).await.unwrap();
            assert!(ledger.iter().any(|e| e.kind == "refund"), "the cancelled send's postage came back");
        }
        let ledger = app.postage_ledger(&p, None).await.unwrap().len();
        counts.push((slug.to_string(), items.len(), ledger, batches.len(), accounts.len(), ccs.len()));
    }
    counts
}

/// The store itself refuses to let one organisation's write land on another's record, and keeps
/// assignments and counts per organisation (defence in depth below the application's checks).
async fn store_keeps_writes_in_their_tenant(b: Backend) {
    use mailroom_app::store::{Assignment, ItemFilter, StoreError};
    use mailroom_domain::item::Category;
    let Some(db) = crate::support::TestDb::new(b).await else { return };
    let app = mailroom_app::App::open(&db.url).await.unwrap();
    let a = crate::support::Fixture::new(app.clone(), "acme").await;
    let bravo = crate::support::Fixture::new(app.clone(), "bravo").await;
    let s = &app.store;
    // B's rows with A's ids: nothing is updated.
    let mut person = a.person.clone();
    person.tenant_id = bravo.tenant.id;
    person.name = "Hijacked".into();
    assert!(matches!(s.upsert_person(&person).await, Err(StoreError::NotFound)));
    assert_eq!(s.person(a.tenant.id, a.person.id).await.unwrap().unwrap().name, "张伟杰");
    let mut dept = a.dept.clone();
    dept.tenant_id = bravo.tenant.id;
    dept.name = "Hijacked".into();
    assert!(matches!(s.upsert_department(&dept).await, Err(StoreError::NotFound)));
    assert_eq!(s.department(a.tenant.id, a.dept.id).await.unwrap().unwrap().name, "财务部");
    let import = mailroom_app::store::DirectoryImport { departments: vec![], people: vec![person] };
    assert!(s.import_directory(bravo.tenant.id, import).await.is_err());
    // Assignments are per organisation.
    let asg = Assignment {
        tenant_id: a.tenant.id,
        user_id: bravo.staff.user_id,
        home_tenant_id: bravo.tenant.id,
        role: Role::Supervisor,
        site_id: Some(a.shelf.site_id),
        created_at: mailroom_domain::custody::storage_time(chrono::Utc::now()),
    };
    s.put_assignment(&asg).await.unwrap();
    s.put_assignment(&Assignment { role: Role::Auditor, site_id: None, ..asg.clone() }).await.unwrap();
    let got = s.assignment(a.tenant.id, bravo.staff.user_id).await.unwrap().unwrap();
    assert_eq!((got.role, got.site_id), (Role::Auditor, None));
    assert!(s.assignment(bravo.tenant.id, bravo.staff.user_id).await.unwrap().is_none());
    assert_eq!(s.list_assignments(a.tenant.id).await.unwrap().len(), 1);
    assert!(s.list_assignments(bravo.tenant.id).await.unwrap().is_empty());
    assert_eq!(s.user_assignments(bravo.staff.user_id).await.unwrap().len(), 1);
    assert!(matches!(s.delete_assignment(bravo.tenant.id, bravo.staff.user_id).await, Err(StoreError::NotFound)));
    s.delete_assignment(a.tenant.id, bravo.staff.user_id).await.unwrap();
    assert!(s.user_assignments(bravo.staff.user_id).await.unwrap().is_empty());
    // Counts and category listings stay in the organisation.
    for (i, cat) in ["invoice", "general"].iter().enumerate() {
        let input = mailroom_app::items::RegisterItemInput {
            tracking_number: Some(format!("CNT{i:09}")),
            recipient: mailroom_app::items::RecipientInput {
                person_id: Some(a.other_person.id),
                department_id: None,
                text: None,
            },
            category: Some(cat.to_string()),
            ..Default::default()
        };
        app.register_item(&a.staff, &crate::support::ctx(), &input, None).await.unwrap();
    }
    let counts = s.item_counts(a.tenant.id).await.unwrap();
    assert_eq!(counts.iter().map(|c| c.count).sum::<i64>(), 2);
    assert!(s.item_counts(bravo.tenant.id).await.unwrap().is_empty());
    let f = ItemFilter { categories: vec![Category::Invoice], limit: 10, ..Default::default() };
    assert_eq!(s.list_items(a.tenant.id, &f).await.unwrap().len(), 1);
    assert!(s.list_items(bravo.tenant.id, &f).await.unwrap().is_empty());
    let mine = ItemFilter { mine: Some((a.person.id, None)), ..f.clone() };
    assert_eq!(s.list_items(a.tenant.id, &mine).await.unwrap().len(), 1, "own mail or the category");
    db.cleanup().await;
}

both_backends!(
    operators_assignments_and_sites,
    category_roles_read_their_categories,
    store_keeps_writes_in_their_tenant
);
