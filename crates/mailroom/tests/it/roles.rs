//! The role matrix, generated: every route of the server (API and console) is tried with every
//! role, and the answer must agree with `auth::allowed` / `auth::may_read_item` for the
//! permission tests/it/routes.rs names. Runs on both backends.

use crate::both_backends;
use crate::routes::{Access, ROUTES, RouteSpec, assert_table_is_complete, is_api, key, markdown};
use crate::support::{Backend, Browser, Client, Resp, TestServer, png_signature};
use mailroom_domain::auth::{ItemFacts, Role, allowed, matrix_markdown, may_read_item, roles_markdown};
use mailroom_domain::item::Category;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Everything a request needs to name: the fixture's ids and one item per category.
struct World {
    base: String,
    http: reqwest::Client,
    /// Handed-over items addressed to someone none of the callers is: (id, category).
    items: Vec<(String, Category)>,
    /// A photo of each item: item id → photo id.
    photos: HashMap<String, String>,
    person: String,
    /// A person none of the callers is (for routes where one's own person is allowed).
    other_person: String,
    dept: String,
    site: String,
    tenant: String,
}

/// Registers an item for `person` and hands it over with a signature, so that its handover,
/// signature and receipt exist.
pub async fn handed_over(c: &Client, person: &str, shelf: &str, category: &str, tracking: &str) -> String {
    let r = c
        .post(
            "/api/v1/items",
            &json!({"tracking_number": tracking, "recipient": {"person_id": person}, "category": category,
                    "sender": {"name": "Sender of ".to_string() + tracking}, "notes": "note ".to_string() + tracking}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/items/{id}/transitions");
    for body in [
        json!({"action": "store", "location_id": shelf}),
        json!({"action": "ready_for_pickup"}),
        json!({"action": "pick_up", "handover": {"taken_by": "Receiver"}, "signature": {"data": png_signature()}}),
    ] {
        let r = c.post(&path, &body).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    id
}

/// The concrete path of a route for one request.
fn path_of(spec: &RouteSpec, w: &World, item: &str) -> String {
    let p = spec.path;
    let p = if p.contains("/items/{id}") { p.replace("{id}", item) } else { p.to_string() };
    let p = match w.photos.get(item) {
        Some(photo) => p.replace("{photo_id}", photo),
        None => p,
    };
    let p = if p.contains("/people/{id}/notification") { p.replace("{id}", &w.other_person) } else { p };
    let p = if p.contains("/people/{id}") { p.replace("{id}", &w.person) } else { p };
    let p = if p.contains("/notification-endpoints/{id}") || p.contains("/notifications/endpoints/{id}") {
        p.replace("{id}", &uuid::Uuid::now_v7().to_string())
    } else {
        p
    };
    let p = p.replace("{kind}/{lang}", "arrival/en");
    let p = if p.contains("/departments/{id}") { p.replace("{id}", &w.dept) } else { p };
    let p = if p.contains("/sites/{id}") { p.replace("{id}", &w.site) } else { p };
    let p = p.replace("{user_id}", &uuid::Uuid::now_v7().to_string()).replace("{file}", "icon.svg");
    match p.as_str() {
        "/ui/lang" => "/ui/lang?set=en&next=/ui/".to_string(),
        _ => p,
    }
}

/// A JSON body that the permission check lets through to validation (where it fails without
/// writing), so "allowed" shows as 4xx-but-not-403 and "denied" as 403.
fn api_body(spec: &RouteSpec, w: &World) -> Option<Value> {
    let v = match (spec.method, spec.path) {
        ("POST", "/api/v1/tenants") => json!({"slug": "", "name": ""}),
        ("POST", "/api/v1/assignments") => json!({"tenant": "no-such-org", "login": "x", "role": "staff"}),
        ("POST", "/api/v1/users") => json!({"login": "", "display_name": "x", "password": "x", "role": "staff"}),
        ("POST", "/api/v1/items") => json!({"recipient": {}}),
        ("POST", "/api/v1/items/{id}/transitions") => json!({"action": "notify"}),
        ("PATCH", "/api/v1/items/{id}") => json!({"expected_version": 1, "kind": "no-such-kind"}),
        ("POST", "/api/v1/exceptions/{id}/resolve") => json!({"resolution": "no-such-resolution"}),
        ("POST", "/api/v1/people") | ("PUT", "/api/v1/people/{id}") => json!({"name": ""}),
        ("POST", "/api/v1/departments") | ("PUT", "/api/v1/departments/{id}") => json!({"code": "", "name": ""}),
        ("POST", "/api/v1/sites") => json!({"name": ""}),
        ("POST", "/api/v1/locations") => json!({"site_id": w.site, "code": "", "name": ""}),
        ("PUT", "/api/v1/users/{id}/clearance") => json!({"level": 9}),
        ("PUT", "/api/v1/retention") => json!({"policies": [{"category": "no-such-category", "days": 1}]}),
        ("PUT", "/api/v1/unclaimed-policies") => json!({"policies": [{"category": "general", "remind_after_days": 0,
            "escalate_after_days": 1, "final_after_days": 2, "final_action": "dispose"}]}),
        ("PUT", "/api/v1/sites/{id}/calendar") => json!({"hours": {"mon": "not hours"}}),
        ("PUT", "/api/v1/rules") => json!({"source": "[[rule]]\nname = \"does-nothing\"\n"}),
        ("POST", "/api/v1/rules/evaluate") => json!({"item": {"notes": "invoice"}}),
        ("PUT", "/api/v1/notification-templates/{kind}/{lang}")
        | ("POST", "/api/v1/notification-templates/{kind}/{lang}/preview") => json!({"subject": "", "body": ""}),
        ("PUT", "/api/v1/me/notification-preferences") | ("PUT", "/api/v1/people/{id}/notification-preferences") => {
            json!({"lang": "xx", "email": false, "sms": false, "robot": false, "digest": false})
        }
        ("POST", "/api/v1/notification-endpoints") | ("PUT", "/api/v1/notification-endpoints/{id}") => {
            json!({"kind": "no-such-channel"})
        }
        ("POST", "/api/v1/tasks/{id}/done") => json!({"note": ""}),
        ("POST", "/api/v1/pdf/label") => {
            json!({"reference": "", "sender": {"country": ""}, "recipient": {"country": ""}})
        }
        ("POST", "/api/v1/pdf/customs") => json!({"category": "gift", "lines": []}),
        ("POST", "/api/v1/delegations") => {
            json!({"delegate_id": w.site, "scope": "all", "valid_until": "2020-01-01T00:00:00Z"})
        }
        _ => return None,
    };
    Some(v)
}

/// Form fields for console posts, in the same spirit as [`api_body`].
fn ui_form(spec: &RouteSpec, w: &World) -> Vec<(&'static str, String)> {
    match spec.path {
        "/ui/tenant" => vec![("tenant", w.tenant.clone())],
        "/ui/items/{id}/actions" => vec![("action", "notify".into())],
        "/ui/rules" => vec![("source", "[[rule]]\nname = \"does-nothing\"\n".into())],
        "/ui/people/new" | "/ui/people/{id}" => vec![("name", String::new())],
        "/ui/departments/new" | "/ui/departments/{id}" => vec![("code", String::new()), ("name", String::new())],
        _ => Vec::new(),
    }
}

async fn call_api(c: &Client, spec: &RouteSpec, w: &World, item: &str) -> Resp {
    let path = path_of(spec, w, item);
    if spec.path.ends_with("/import") {
        return c.post_raw(&path, "text/csv", b"name,code\n".to_vec()).await;
    }
    c.request(spec.method, &path, api_body(spec, w).as_ref(), &[]).await
}

async fn call_ui(b: &Browser, spec: &RouteSpec, w: &World, item: &str) -> (u16, String) {
    let path = path_of(spec, w, item);
    if spec.method == "POST" && spec.path == "/ui/login" {
        // The login form's own CSRF pair; empty fields are refused as input, not as forbidden.
        let token = "0123456789abcdef0123456789abcdef";
        let anon = Browser {
            http: w.http.clone(),
            base: w.base.clone(),
            cookies: vec![format!("mr_login={token}")],
            csrf: token.into(),
        };
        let p = anon.post(&path, &[]).await;
        return (p.status, p.location);
    }
    let form = ui_form(spec, w);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let p = b.send(spec.method, &path, &fields).await;
    (p.status, p.location)
}

/// Console routes (pages, forms and their static files), tried with a browser session.
fn is_console(path: &str) -> bool {
    path.starts_with("/ui") || path == "/" || path.starts_with("/static/")
}

/// The items a route is tried with: every item for item reads, one otherwise.
fn items_for<'a>(spec: &RouteSpec, w: &'a World) -> Vec<&'a (String, Category)> {
    match spec.access {
        Access::Item => w.items.iter().collect(),
        _ => w.items.iter().take(1).collect(),
    }
}

fn expected(role: Role, access: Access, category: Category) -> bool {
    match access {
        Access::Public | Access::Signed => true,
        Access::Perm(p) => allowed(role, p),
        Access::Item => may_read_item(role, ItemFacts { addressed_to_caller: false, category }),
    }
}

/// Compares one answer with the matrix; returns a description of the disagreement.
fn judge(role: &str, spec: &RouteSpec, category: Category, want: bool, status: u16) -> Option<String> {
    let denial = if spec.access == Access::Item { 404 } else { 403 };
    let ok = if want { status < 500 && status != 401 && status != 403 && status != denial } else { status == denial };
    (!ok).then(|| {
        format!(
            "{role} {} {} ({category}): got {status}, expected {}",
            spec.method,
            spec.path,
            if want { "allowed".to_string() } else { denial.to_string() }
        )
    })
}

async fn check_role(w: Arc<World>, role: Role, api: Client, ui: Browser) -> Vec<String> {
    let mut failures = Vec::new();
    // Logging out ends the session: that one goes last.
    let (last, first): (Vec<&RouteSpec>, Vec<&RouteSpec>) = ROUTES.iter().partition(|r| r.path == "/ui/logout");
    for spec in first.into_iter().chain(last) {
        for (item, category) in items_for(spec, &w) {
            let want = expected(role, spec.access, *category);
            let status = if is_console(spec.path) {
                call_ui(&ui, spec, &w, item).await.0
            } else {
                call_api(&api, spec, &w, item).await.status
            };
            failures.extend(judge(role.as_str(), spec, *category, want, status));
        }
    }
    failures
}

/// Without credentials: the API answers 401 and the console sends to the login page, except on
/// public routes.
async fn check_anonymous(w: &World) -> Vec<String> {
    let anon_api = Client { http: w.http.clone(), base: w.base.clone(), token: None };
    let anon_ui = Browser { http: w.http.clone(), base: w.base.clone(), cookies: vec![], csrf: String::new() };
    let mut failures = Vec::new();
    for spec in ROUTES {
        let item = &w.items[0].0;
        let (status, location) = if is_console(spec.path) {
            call_ui(&anon_ui, spec, w, item).await
        } else {
            (call_api(&anon_api, spec, w, item).await.status, String::new())
        };
        let ok = match (spec.access, spec.path.starts_with("/ui")) {
            (Access::Public, _) => status < 400 || status == 422,
            (_, true) => status == 303 && location.starts_with("/ui/login"),
            (_, false) => status == 401,
        };
        if !ok {
            failures.push(format!("anonymous {} {}: got {status} {location}", spec.method, spec.path));
        }
    }
    failures
}

/// The navigation shows exactly the pages the role may open.
async fn check_navigation(role: Role, ui: &Browser) -> Vec<String> {
    let page = ui.get("/ui/my").await;
    let nav = page.text.split("<nav class=\"mainnav\"").nth(1).and_then(|n| n.split("</nav>").next()).unwrap_or("");
    let shown: BTreeSet<&str> = nav.split("href=\"").skip(1).filter_map(|h| h.split('"').next()).collect();
    let mut failures = Vec::new();
    for spec in ROUTES.iter().filter(|r| r.method == "GET") {
        let Access::Perm(p) = spec.access else { continue };
        let in_nav = [
            "/ui/intake",
            "/ui/exceptions",
            "/ui/items",
            "/ui/my",
            "/ui/people",
            "/ui/departments",
            "/ui/sites",
            "/ui/reports",
            "/ui/jobs",
        ];
        if !in_nav.contains(&spec.path) {
            continue;
        }
        if shown.contains(spec.path) != allowed(role, p) {
            failures.push(format!(
                "{role}: navigation {} shown={} but {p} is {}",
                spec.path,
                shown.contains(spec.path),
                allowed(role, p)
            ));
        }
    }
    failures
}

async fn role_matrix(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let clerk = srv.client(&srv.token("clerk").await);
    let other = srv.fx.other_person.id.to_string();
    let shelf = srv.fx.shelf.id.to_string();
    let mut items = Vec::new();
    let mut photos = HashMap::new();
    for (cat, tn) in [("general", "ROLE00000001"), ("invoice", "ROLE00000002"), ("complaint", "ROLE00000003")] {
        let id = handed_over(&clerk, &other, &shelf, cat, tn).await;
        let png = mailroom_scan::synth::png(&image::GrayImage::from_pixel(32, 24, image::Luma([200])));
        let photo = clerk.post_raw(&format!("/api/v1/items/{id}/photos"), "image/png", png).await;
        assert_eq!(photo.status, 201, "{}", photo.text);
        photos.insert(id.clone(), photo.body["id"].as_str().unwrap().to_string());
        items.push((id, Category::parse(cat).unwrap()));
    }
    // One login per role: the fixture's admin, clerk and employee, and one for each other role.
    let mut logins: HashMap<Role, String> =
        [(Role::Admin, "admin"), (Role::Staff, "clerk"), (Role::Employee, "employee")]
            .into_iter()
            .map(|(r, l)| (r, l.to_string()))
            .collect();
    for role in Role::ALL {
        if !logins.contains_key(role) {
            let login = format!("r-{}", role.as_str().replace('_', "-"));
            srv.user_with_role(&login, *role, None).await;
            logins.insert(*role, login);
        }
    }
    let w = Arc::new(World {
        base: srv.base.clone(),
        http: srv.http.clone(),
        items,
        photos,
        person: srv.fx.person.id.to_string(),
        other_person: srv.fx.other_person.id.to_string(),
        dept: srv.fx.dept.id.to_string(),
        site: srv.fx.shelf.site_id.to_string(),
        tenant: srv.fx.tenant.slug.clone(),
    });
    let mut tasks = tokio::task::JoinSet::new();
    for (role, login) in &logins {
        let api = srv.client(&srv.token(login).await);
        let ui = srv.browser(&srv.fx.tenant.slug, login).await;
        let nav = check_navigation(*role, &ui).await;
        let (w, role) = (w.clone(), *role);
        tasks.spawn(async move {
            let mut f = check_role(w, role, api, ui).await;
            f.extend(nav);
            f
        });
    }
    let mut failures = check_anonymous(&w).await;
    while let Some(r) = tasks.join_next().await {
        failures.extend(r.unwrap());
    }
    assert!(failures.is_empty(), "{} disagreements with the matrix:\n{}", failures.len(), failures.join("\n"));
    // Every role really was tried on every route.
    assert_eq!(logins.len(), Role::ALL.len());
    srv.stop().await;
}

both_backends!(role_matrix);

/// The permission table covers exactly the server's routes, and the API part of it is exactly
/// what the OpenAPI document describes.
#[test]
fn route_table_matches_the_server_and_openapi() {
    assert_table_is_complete();
    let doc: Value = serde_json::from_str(&mailroom_web::api::openapi_json()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                documented.insert(key(&method.to_uppercase(), path));
            }
        }
    }
    let api: BTreeSet<String> = ROUTES.iter().filter(|r| is_api(r.path)).map(|r| key(r.method, r.path)).collect();
    assert_eq!(api, documented, "the API routes and the OpenAPI document disagree");
    let served: BTreeSet<String> =
        mailroom_web::api::endpoints().into_iter().map(|(m, p)| key(m.as_str(), p)).collect();
    assert_eq!(served, documented, "the API router and the OpenAPI document disagree");
}

/// docs/SECURITY.md shows the roles, the matrix and the route table as the code has them.
#[test]
fn security_doc_shows_the_matrix() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/SECURITY.md");
    let mut doc = std::fs::read_to_string(path).unwrap_or_default();
    let sections = [("roles", roles_markdown()), ("matrix", matrix_markdown()), ("routes", markdown())];
    for (name, content) in &sections {
        let (begin, end) = (format!("<!-- {name}:begin -->\n"), format!("<!-- {name}:end -->"));
        let (Some(b), Some(e)) = (doc.find(&begin), doc.find(&end)) else {
            panic!("docs/SECURITY.md lacks the markers {begin} … {end}");
        };
        let current = &doc[b + begin.len()..e];
        if current != content.as_str() {
            if std::env::var("MAILROOM_BLESS").is_ok() {
                doc = format!("{}{content}{}", &doc[..b + begin.len()], &doc[e..]);
            } else {
                panic!(
                    "docs/SECURITY.md: the {name} table is out of date; run `MAILROOM_BLESS=1 cargo test -p mailroom --test it security_doc` and commit it"
                );
            }
        }
    }
    if std::env::var("MAILROOM_BLESS").is_ok() {
        std::fs::write(path, doc).unwrap();
    }
}
