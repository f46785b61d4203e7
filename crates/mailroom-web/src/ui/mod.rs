//! The server-rendered console under `/ui`: login, intake at scanner speed, the item list, an item
//! with its timeline and actions, handover with a signature, "my mail", and the directory.
//! Every string comes from the message catalogue ([`crate::i18n`]); pages run no inline script
//! or style, so the strict content security policy holds.

mod assets;
mod directory;
mod exceptions;
mod items;
mod jobs;
mod notifications;
mod outbound;
mod postage;
mod reports;
mod rules;
mod service_levels;
mod session;
pub(crate) mod view;

use crate::{AppState, Route, route};
use axum::Router;
use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;

/// Every console route. The router is built from this table; the role-matrix test tries each
/// with every role.
fn table() -> Vec<Route> {
    use Method as M;
    vec![
        route(M::GET, "/", session::root),
        route(M::GET, "/ui", session::home),
        route(M::GET, "/ui/", session::home),
        route(M::GET, "/ui/login", session::login_page),
        route(M::POST, "/ui/login", session::login_submit),
        route(M::POST, "/ui/logout", session::logout),
        route(M::GET, "/ui/lang", session::switch_lang),
        route(M::POST, "/ui/tenant", session::switch_tenant),
        route(M::GET, "/ui/intake", items::intake),
        route(M::GET, "/ui/items", items::list),
        route(M::GET, "/ui/items/{id}", items::detail),
        route(M::POST, "/ui/items/{id}/actions", items::act),
        route(M::GET, "/ui/items/{id}/handover", items::handover),
        route(M::POST, "/ui/items/{id}/details", items::save_details),
        route(M::GET, "/ui/exceptions", exceptions::queue),
        route(M::POST, "/ui/exceptions/{id}/resolve", exceptions::resolve),
        route(M::POST, "/ui/tasks/{id}/done", exceptions::task_done),
        route(M::GET, "/ui/my", items::my_mail),
        route(M::GET, "/ui/people", directory::people),
        route(M::GET, "/ui/people/new", directory::new_person),
        route(M::POST, "/ui/people/new", directory::create_person),
        route(M::GET, "/ui/people/{id}", directory::person),
        route(M::POST, "/ui/people/{id}", directory::update_person),
        route(M::GET, "/ui/departments", directory::departments),
        route(M::GET, "/ui/departments/new", directory::new_department),
        route(M::POST, "/ui/departments/new", directory::create_department),
        route(M::GET, "/ui/departments/{id}", directory::department),
        route(M::POST, "/ui/departments/{id}", directory::update_department),
        route(M::POST, "/ui/departments/{id}/delete", directory::delete_department),
        route(M::GET, "/ui/sites", directory::sites),
        route(M::GET, "/ui/reports", reports::page),
        route(M::GET, "/ui/service-levels", service_levels::page),
        route(M::POST, "/ui/service-levels/{id}/approve", service_levels::approve),
        route(M::POST, "/ui/service-levels/{id}/reject", service_levels::reject),
        route(M::GET, "/ui/postage", postage::page),
        route(M::POST, "/ui/postage/accounts/{id}/top-up", postage::top_up),
        route(M::GET, "/ui/outbound", outbound::list),
        route(M::POST, "/ui/outbound/mailing", outbound::mailing),
        route(M::GET, "/ui/outbound/new", outbound::new_form),
        route(M::POST, "/ui/outbound/new", outbound::create),
        route(M::GET, "/ui/outbound/batches", outbound::batches),
        route(M::POST, "/ui/outbound/batches", outbound::create_batch),
        route(M::GET, "/ui/outbound/batches/{id}", outbound::batch),
        route(M::POST, "/ui/outbound/batches/{id}/scan", outbound::scan),
        route(M::POST, "/ui/outbound/batches/{id}/hand-over", outbound::hand_over),
        route(M::GET, "/ui/outbound/{id}", outbound::detail),
        route(M::POST, "/ui/outbound/{id}/approve", outbound::approve),
        route(M::POST, "/ui/outbound/{id}/reject", outbound::reject),
        route(M::POST, "/ui/outbound/{id}/accept", outbound::accept),
        route(M::POST, "/ui/outbound/{id}/cancel", outbound::cancel),
        route(M::POST, "/ui/outbound/{id}/tracking", outbound::tracking),
        route(M::POST, "/ui/outbound/{id}/receipt", outbound::receipt),
        route(M::POST, "/ui/outbound/{id}/return", outbound::return_item),
        route(M::POST, "/ui/outbound/{id}/send-electronic", outbound::send_electronic),
        route(M::GET, "/ui/rules", rules::page),
        route(M::POST, "/ui/rules", rules::save),
        route(M::GET, "/ui/jobs", jobs::page),
        route(M::POST, "/ui/jobs/{id}/retry", jobs::retry),
        route(M::GET, "/ui/notifications/templates", notifications::templates),
        route(M::GET, "/ui/notifications/templates/{kind}/{lang}", notifications::template),
        route(M::POST, "/ui/notifications/templates/{kind}/{lang}", notifications::save_template),
        route(M::GET, "/ui/notifications/endpoints", notifications::endpoints),
        route(M::POST, "/ui/notifications/endpoints", notifications::create_endpoint),
        route(M::GET, "/ui/notifications/endpoints/{id}", notifications::endpoint),
        route(M::POST, "/ui/notifications/endpoints/{id}", notifications::update_endpoint),
        route(M::GET, "/ui/my/notifications", notifications::my_preferences),
        route(M::POST, "/ui/my/notifications", notifications::save_my_preferences),
        route(M::GET, "/ui/people/{id}/notifications", notifications::person_preferences),
        route(M::POST, "/ui/people/{id}/notifications", notifications::save_person_preferences),
        route(M::GET, "/static/{file}", assets::serve),
    ]
}

pub fn routes() -> Router<AppState> {
    crate::build(table())
}

/// The console's routes (method and path template).
pub fn pages() -> Vec<(Method, &'static str)> {
    table().into_iter().map(|(m, p, _)| (m, p)).collect()
}

/// The translated 403 page for a console request refused by a middleware.
pub fn forbidden_page(req: &Request, message: &str) -> Response {
    view::forbidden(req.headers(), req.uri(), req.method(), message)
}

/// The translated 404 page for paths outside the API.
pub fn not_found_page(req: &Request) -> Response {
    view::not_found(req.headers(), req.uri())
}
