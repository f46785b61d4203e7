//! The specification of who may call what: every route the server answers, with the
//! permission it needs. The role-matrix test checks the server against it for every role, the
//! cross-tenant suite probes every route that touches tenant data, and docs/SECURITY.md shows it.
//! A route missing from this table fails both suites.

use mailroom_domain::auth::Permission;
use std::collections::BTreeSet;

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not: holds no tenant data.
    Public,
    /// Any signed-in user; the answer covers only what the caller may see.
    Signed,
    /// A role with this permission; others get 403.
    Perm(Permission),
    /// An item the caller may read (`auth::may_read_item`); others get 404, so that the
    /// existence of the item does not leak.
    Item,
}

pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

const fn r(method: &'static str, path: &'static str, access: Access) -> RouteSpec {
    RouteSpec { method, path, access }
}

use Access::{Item, Perm, Public, Signed};
use Permission as P;

pub const ROUTES: &[RouteSpec] = &[
    // Service routes.
    r("GET", "/healthz", Public),
    r("GET", "/readyz", Public),
    r("GET", "/metrics", Public),
    r("GET", "/api/v1/openapi.json", Public),
    // API: the caller, organisations, users.
    r("GET", "/api/v1/me", Signed),
    r("GET", "/api/v1/tenants", Signed),
    r("POST", "/api/v1/tenants", Perm(P::ManageTenants)),
    r("GET", "/api/v1/assignments", Perm(P::ReadUsers)),
    r("POST", "/api/v1/assignments", Perm(P::ManageTenants)),
    r("DELETE", "/api/v1/assignments/{user_id}", Perm(P::ManageTenants)),
    r("GET", "/api/v1/users", Perm(P::ReadUsers)),
    r("POST", "/api/v1/users", Perm(P::ManageUsers)),
    r("PUT", "/api/v1/users/{id}/clearance", Perm(P::ManageUsers)),
    r("POST", "/api/v1/users/{id}/unlock", Perm(P::ManageUsers)),
    r("GET", "/api/v1/lockouts", Perm(P::ManageUsers)),
    // API: tokens (one's own; administrators also others') and the audit log.
    r("GET", "/api/v1/tokens", Signed),
    r("POST", "/api/v1/tokens", Signed),
    r("DELETE", "/api/v1/tokens/{id}", Signed),
    r("POST", "/api/v1/auth/token", Public),
    r("GET", "/api/v1/audit", Perm(P::ReadAuditLog)),
    // API: delegation (any signed-in user, for their own mail; administrators for others).
    r("GET", "/api/v1/delegations", Signed),
    r("POST", "/api/v1/delegations", Signed),
    r("DELETE", "/api/v1/delegations/{id}", Signed),
    r("GET", "/api/v1/me/delegated-items", Signed),
    // API: carrier recognition (no tenant data).
    r("GET", "/api/v1/carriers/detect", Signed),
    // API: label photos (reads no tenant data; stores nothing).
    r("POST", "/api/v1/scans", Perm(P::RegisterItems)),
    // API: outbound address and customs checks (no tenant data).
    r("POST", "/api/v1/addresses/check", Signed),
    r("POST", "/api/v1/customs/check", Signed),
    // API: printable label and customs form (no tenant data: made from the request alone).
    r("POST", "/api/v1/pdf/label", Signed),
    r("POST", "/api/v1/pdf/customs", Signed),
    // API: retention.
    r("GET", "/api/v1/retention", Perm(P::ManageRetention)),
    r("PUT", "/api/v1/retention", Perm(P::ManageRetention)),
    // API: classification and routing rules (evaluating is for whoever registers items).
    r("GET", "/api/v1/rules", Perm(P::ManageRules)),
    r("PUT", "/api/v1/rules", Perm(P::ManageRules)),
    r("GET", "/api/v1/rules/versions", Perm(P::ManageRules)),
    r("POST", "/api/v1/rules/evaluate", Perm(P::RegisterItems)),
    // API: the background job queue.
    r("GET", "/api/v1/jobs", Perm(P::ManageJobs)),
    r("GET", "/api/v1/jobs/{id}", Perm(P::ManageJobs)),
    r("POST", "/api/v1/jobs/{id}/retry", Perm(P::ManageJobs)),
    // API: notification settings (templates and endpoints for administrators; preferences one's
    // own, anyone's for administrators).
    r("GET", "/api/v1/notification-templates", Perm(P::ManageNotifications)),
    r("GET", "/api/v1/notification-templates/{kind}/{lang}", Perm(P::ManageNotifications)),
    r("PUT", "/api/v1/notification-templates/{kind}/{lang}", Perm(P::ManageNotifications)),
    r("DELETE", "/api/v1/notification-templates/{kind}/{lang}", Perm(P::ManageNotifications)),
    r("POST", "/api/v1/notification-templates/{kind}/{lang}/preview", Perm(P::ManageNotifications)),
    r("GET", "/api/v1/me/notification-preferences", Signed),
    r("PUT", "/api/v1/me/notification-preferences", Signed),
    r("GET", "/api/v1/people/{id}/notification-preferences", Perm(P::ManageNotifications)),
    r("PUT", "/api/v1/people/{id}/notification-preferences", Perm(P::ManageNotifications)),
    r("GET", "/api/v1/notification-endpoints", Perm(P::ManageNotifications)),
    r("POST", "/api/v1/notification-endpoints", Perm(P::ManageNotifications)),
    r("GET", "/api/v1/notification-endpoints/{id}", Perm(P::ManageNotifications)),
    r("PUT", "/api/v1/notification-endpoints/{id}", Perm(P::ManageNotifications)),
    r("DELETE", "/api/v1/notification-endpoints/{id}", Perm(P::ManageNotifications)),
    // API: service levels and unclaimed items.
    r("GET", "/api/v1/service-levels", Perm(P::SuperviseServiceLevels)),
    r("GET", "/api/v1/unclaimed-policies", Perm(P::SuperviseServiceLevels)),
    r("PUT", "/api/v1/unclaimed-policies", Perm(P::ManageServiceLevels)),
    r("GET", "/api/v1/sites/{id}/calendar", Perm(P::SuperviseServiceLevels)),
    r("PUT", "/api/v1/sites/{id}/calendar", Perm(P::ManageServiceLevels)),
    r("POST", "/api/v1/items/{id}/disposal/approve", Perm(P::SuperviseServiceLevels)),
    r("POST", "/api/v1/items/{id}/disposal/reject", Perm(P::SuperviseServiceLevels)),
    // API: postage accounts and cost control.
    r("GET", "/api/v1/postage/cost-centres", Perm(P::ReadPostage)),
    r("POST", "/api/v1/postage/cost-centres", Perm(P::ManagePostage)),
    r("PUT", "/api/v1/postage/cost-centres/{id}", Perm(P::ManagePostage)),
    r("DELETE", "/api/v1/postage/cost-centres/{id}", Perm(P::ManagePostage)),
    r("GET", "/api/v1/postage/accounts", Perm(P::ReadPostage)),
    r("POST", "/api/v1/postage/accounts", Perm(P::ManagePostage)),
    r("PUT", "/api/v1/postage/accounts/{id}", Perm(P::ManagePostage)),
    r("DELETE", "/api/v1/postage/accounts/{id}", Perm(P::ManagePostage)),
    r("POST", "/api/v1/postage/accounts/{id}/top-ups", Perm(P::ManagePostage)),
    r("POST", "/api/v1/postage/accounts/{id}/adjustments", Perm(P::ManagePostage)),
    r("GET", "/api/v1/postage/ledger", Perm(P::ReadPostage)),
    r("GET", "/api/v1/postage/rates", Perm(P::ReadPostage)),
    r("PUT", "/api/v1/postage/rates", Perm(P::ManagePostage)),
    r("POST", "/api/v1/postage/rates/import", Perm(P::ManagePostage)),
    r("POST", "/api/v1/postage/quote", Perm(P::ReadPostage)),
    r("POST", "/api/v1/postage/charges", Perm(P::ChargePostage)),
    // API: outbound mail. Lists and items answer with what the caller may see (their own
    // requests, or every one with read_all_outbound).
    r("GET", "/api/v1/outbound", Signed),
    r("POST", "/api/v1/outbound", Perm(P::RequestOutbound)),
    r("POST", "/api/v1/outbound/mailings", Perm(P::RequestOutbound)),
    r("GET", "/api/v1/outbound/{id}", Signed),
    r("GET", "/api/v1/outbound/{id}/label.pdf", Signed),
    r("GET", "/api/v1/outbound/{id}/customs.pdf", Signed),
    r("POST", "/api/v1/outbound/{id}/approve", Perm(P::ApproveOutbound)),
    r("POST", "/api/v1/outbound/{id}/reject", Perm(P::ApproveOutbound)),
    r("POST", "/api/v1/outbound/{id}/accept", Perm(P::HandleOutbound)),
    r("POST", "/api/v1/outbound/{id}/cancel", Perm(P::RequestOutbound)),
    r("POST", "/api/v1/outbound/{id}/tracking", Perm(P::HandleOutbound)),
    r("POST", "/api/v1/outbound/{id}/receipt", Perm(P::HandleOutbound)),
    r("POST", "/api/v1/outbound/{id}/return", Perm(P::HandleOutbound)),
    r("POST", "/api/v1/outbound/{id}/send-electronic", Perm(P::HandleOutbound)),
    r("GET", "/api/v1/outbound/batches", Perm(P::ReadAllOutbound)),
    r("POST", "/api/v1/outbound/batches", Perm(P::HandleOutbound)),
    r("GET", "/api/v1/outbound/batches/{id}", Perm(P::ReadAllOutbound)),
    r("POST", "/api/v1/outbound/batches/{id}/scan", Perm(P::HandleOutbound)),
    r("POST", "/api/v1/outbound/batches/{id}/hand-over", Perm(P::HandleOutbound)),
    r("GET", "/api/v1/outbound/batches/{id}/manifest.pdf", Perm(P::ReadAllOutbound)),
    r("GET", "/api/v1/reports/chargeback", Perm(P::ReadChargeback)),
    r("GET", "/api/v1/reports/chargeback.csv", Perm(P::ReadChargeback)),
    r("GET", "/api/v1/reports/chargeback.pdf", Perm(P::ReadChargeback)),
    // API: items and custody.
    r("POST", "/api/v1/items", Perm(P::RegisterItems)),
    r("GET", "/api/v1/items", Perm(P::ReadOwnItems)),
    r("GET", "/api/v1/me/items", Perm(P::ReadOwnItems)),
    r("GET", "/api/v1/items/{id}", Item),
    r("POST", "/api/v1/items/{id}/transitions", Perm(P::HandleItems)),
    r("PATCH", "/api/v1/items/{id}", Perm(P::HandleItems)),
    r("GET", "/api/v1/exceptions", Perm(P::RegisterItems)),
    r("GET", "/api/v1/exceptions/{id}", Perm(P::RegisterItems)),
    r("POST", "/api/v1/exceptions/{id}/resolve", Perm(P::HandleItems)),
    r("GET", "/api/v1/items/{id}/events", Item),
    r("GET", "/api/v1/items/{id}/handover", Item),
    r("GET", "/api/v1/items/{id}/signature", Item),
    r("GET", "/api/v1/items/{id}/receipt", Item),
    r("GET", "/api/v1/items/{id}/explanation", Item),
    r("GET", "/api/v1/items/{id}/notifications", Item),
    r("GET", "/api/v1/tasks", Perm(P::HandleItems)),
    r("POST", "/api/v1/tasks/{id}/done", Perm(P::HandleItems)),
    r("POST", "/api/v1/items/{id}/photos", Perm(P::HandleItems)),
    r("GET", "/api/v1/items/{id}/photos", Item),
    r("GET", "/api/v1/items/{id}/photos/{photo_id}", Item),
    r("GET", "/api/v1/custody/public-key", Signed),
    r("GET", "/api/v1/custody/verify", Perm(P::VerifyCustody)),
    r("GET", "/api/v1/reports/summary", Perm(P::ViewReports)),
    r("GET", "/api/v1/reports/summary.csv", Perm(P::ViewReports)),
    // API: the directory.
    r("GET", "/api/v1/people", Perm(P::ReadDirectory)),
    r("POST", "/api/v1/people", Perm(P::ManageDirectory)),
    r("POST", "/api/v1/people/import", Perm(P::ImportDirectory)),
    r("GET", "/api/v1/people/{id}", Perm(P::ReadDirectory)),
    r("PUT", "/api/v1/people/{id}", Perm(P::ManageDirectory)),
    r("GET", "/api/v1/recipients", Perm(P::ReadDirectory)),
    r("GET", "/api/v1/departments", Perm(P::ReadDirectory)),
    r("POST", "/api/v1/departments", Perm(P::ManageDirectory)),
    r("POST", "/api/v1/departments/import", Perm(P::ImportDirectory)),
    r("GET", "/api/v1/departments/{id}", Perm(P::ReadDirectory)),
    r("PUT", "/api/v1/departments/{id}", Perm(P::ManageDirectory)),
    r("DELETE", "/api/v1/departments/{id}", Perm(P::ManageDirectory)),
    r("GET", "/api/v1/sites", Perm(P::ReadDirectory)),
    r("POST", "/api/v1/sites", Perm(P::ManageSites)),
    r("GET", "/api/v1/locations", Perm(P::ReadDirectory)),
    r("POST", "/api/v1/locations", Perm(P::ManageSites)),
    r("GET", "/api/v1/locations/suggestion", Perm(P::RegisterItems)),
    // Console.
    r("GET", "/", Public),
    r("GET", "/ui", Signed),
    r("GET", "/ui/", Signed),
    r("GET", "/ui/login", Public),
    r("POST", "/ui/login", Public),
    r("POST", "/ui/logout", Signed),
    r("GET", "/ui/lang", Public),
    r("POST", "/ui/tenant", Signed),
    r("GET", "/ui/intake", Perm(P::RegisterItems)),
    r("GET", "/ui/items", Perm(P::SearchItems)),
    r("GET", "/ui/items/{id}", Item),
    r("POST", "/ui/items/{id}/actions", Perm(P::HandleItems)),
    r("GET", "/ui/items/{id}/handover", Perm(P::HandleItems)),
    r("POST", "/ui/items/{id}/details", Perm(P::HandleItems)),
    r("GET", "/ui/exceptions", Perm(P::RegisterItems)),
    r("POST", "/ui/exceptions/{id}/resolve", Perm(P::HandleItems)),
    r("POST", "/ui/tasks/{id}/done", Perm(P::HandleItems)),
    r("GET", "/ui/my", Perm(P::ReadOwnItems)),
    r("GET", "/ui/people", Perm(P::ReadDirectory)),
    r("GET", "/ui/people/new", Perm(P::ManageDirectory)),
    r("POST", "/ui/people/new", Perm(P::ManageDirectory)),
    r("GET", "/ui/people/{id}", Perm(P::ReadDirectory)),
    r("POST", "/ui/people/{id}", Perm(P::ManageDirectory)),
    r("GET", "/ui/departments", Perm(P::ReadDirectory)),
    r("GET", "/ui/departments/new", Perm(P::ManageDirectory)),
    r("POST", "/ui/departments/new", Perm(P::ManageDirectory)),
    r("GET", "/ui/departments/{id}", Perm(P::ReadDirectory)),
    r("POST", "/ui/departments/{id}", Perm(P::ManageDirectory)),
    r("POST", "/ui/departments/{id}/delete", Perm(P::ManageDirectory)),
    r("GET", "/ui/sites", Perm(P::ReadDirectory)),
    r("GET", "/ui/reports", Perm(P::ViewReports)),
    r("GET", "/ui/service-levels", Perm(P::SuperviseServiceLevels)),
    r("GET", "/ui/postage", Perm(P::ReadPostage)),
    r("POST", "/ui/postage/accounts/{id}/top-up", Perm(P::ManagePostage)),
    // Console: outbound mail (the list and a send: requesters see their own, readers of all
    // outbound mail every one; every role has one of the two).
    r("GET", "/ui/outbound", Signed),
    r("POST", "/ui/outbound/mailing", Perm(P::HandleOutbound)),
    r("GET", "/ui/outbound/new", Perm(P::RequestOutbound)),
    r("POST", "/ui/outbound/new", Perm(P::RequestOutbound)),
    r("GET", "/ui/outbound/batches", Perm(P::ReadAllOutbound)),
    r("POST", "/ui/outbound/batches", Perm(P::HandleOutbound)),
    r("GET", "/ui/outbound/batches/{id}", Perm(P::ReadAllOutbound)),
    r("POST", "/ui/outbound/batches/{id}/scan", Perm(P::HandleOutbound)),
    r("POST", "/ui/outbound/batches/{id}/hand-over", Perm(P::HandleOutbound)),
    r("GET", "/ui/outbound/{id}", Signed),
    r("POST", "/ui/outbound/{id}/approve", Perm(P::ApproveOutbound)),
    r("POST", "/ui/outbound/{id}/reject", Perm(P::ApproveOutbound)),
    r("POST", "/ui/outbound/{id}/accept", Perm(P::HandleOutbound)),
    r("POST", "/ui/outbound/{id}/cancel", Perm(P::RequestOutbound)),
    r("POST", "/ui/outbound/{id}/tracking", Perm(P::HandleOutbound)),
    r("POST", "/ui/outbound/{id}/receipt", Perm(P::HandleOutbound)),
    r("POST", "/ui/outbound/{id}/return", Perm(P::HandleOutbound)),
    r("POST", "/ui/outbound/{id}/send-electronic", Perm(P::HandleOutbound)),
    r("POST", "/ui/service-levels/{id}/approve", Perm(P::SuperviseServiceLevels)),
    r("POST", "/ui/service-levels/{id}/reject", Perm(P::SuperviseServiceLevels)),
    r("GET", "/ui/rules", Perm(P::ManageRules)),
    r("POST", "/ui/rules", Perm(P::ManageRules)),
    r("GET", "/ui/jobs", Perm(P::ManageJobs)),
    r("POST", "/ui/jobs/{id}/retry", Perm(P::ManageJobs)),
    r("GET", "/ui/notifications/templates", Perm(P::ManageNotifications)),
    r("GET", "/ui/notifications/templates/{kind}/{lang}", Perm(P::ManageNotifications)),
    r("POST", "/ui/notifications/templates/{kind}/{lang}", Perm(P::ManageNotifications)),
    r("GET", "/ui/notifications/endpoints", Perm(P::ManageNotifications)),
    r("POST", "/ui/notifications/endpoints", Perm(P::ManageNotifications)),
    r("GET", "/ui/notifications/endpoints/{id}", Perm(P::ManageNotifications)),
    r("POST", "/ui/notifications/endpoints/{id}", Perm(P::ManageNotifications)),
    r("GET", "/ui/my/notifications", Perm(P::ReadOwnItems)),
    r("POST", "/ui/my/notifications", Perm(P::ReadOwnItems)),
    r("GET", "/ui/people/{id}/notifications", Perm(P::ManageNotifications)),
    r("POST", "/ui/people/{id}/notifications", Perm(P::ManageNotifications)),
    r("GET", "/static/{file}", Public),
];

pub fn key(method: &str, path: &str) -> String {
    format!("{method} {path}")
}

/// The routes the server really has, as "METHOD /path".
pub fn server_routes() -> BTreeSet<String> {
    mailroom_web::all_routes().into_iter().map(|(m, p)| key(m.as_str(), p)).collect()
}

/// The table and the server list the same routes, no more, no fewer.
pub fn assert_table_is_complete() {
    let table: BTreeSet<String> = ROUTES.iter().map(|r| key(r.method, r.path)).collect();
    assert_eq!(table.len(), ROUTES.len(), "a route is listed twice in tests/it/routes.rs");
    let server = server_routes();
    let missing: Vec<_> = server.difference(&table).collect();
    let stale: Vec<_> = table.difference(&server).collect();
    assert!(missing.is_empty(), "routes without a permission in tests/it/routes.rs: {missing:?}");
    assert!(stale.is_empty(), "routes in tests/it/routes.rs that the server does not have: {stale:?}");
}

/// Whether a route is part of the JSON API (and so must be in the OpenAPI document).
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/v1/") && path != "/api/v1/openapi.json"
}

/// The route table as Markdown, for docs/SECURITY.md.
pub fn markdown() -> String {
    let mut s = String::from("| method | route | needs |\n| --- | --- | --- |\n");
    for r in ROUTES {
        let needs = match r.access {
            Public => "nothing (no tenant data)".to_string(),
            Signed => "any signed-in user".to_string(),
            Perm(p) => format!("`{p}`"),
            Item => "an item the caller may read (404 otherwise)".to_string(),
        };
        s.push_str(&format!("| {} | `{}` | {needs} |\n", r.method, r.path));
    }
    s
}
