//! The server-rendered console under `/ui`: login, intake at scanner speed, the item list, an item
//! with its timeline and actions, handover with a signature, "my mail", and the directory.
//! Every string comes from the message catalogue ([`crate::i18n`]); pages run no inline script
//! or style, so the strict content security policy holds.

mod assets;
mod directory;
mod items;
mod session;
pub(crate) mod view;

use crate::AppState;
use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(session::root))
        .route("/ui", get(session::home))
        .route("/ui/", get(session::home))
        .route("/ui/login", get(session::login_page).post(session::login_submit))
        .route("/ui/logout", post(session::logout))
        .route("/ui/lang", get(session::switch_lang))
        .route("/ui/intake", get(items::intake))
        .route("/ui/items", get(items::list))
        .route("/ui/items/{id}", get(items::detail))
        .route("/ui/items/{id}/actions", post(items::act))
        .route("/ui/items/{id}/handover", get(items::handover))
        .route("/ui/my", get(items::my_mail))
        .route("/ui/people", get(directory::people))
        .route("/ui/people/new", get(directory::new_person).post(directory::create_person))
        .route("/ui/people/{id}", get(directory::person).post(directory::update_person))
        .route("/ui/departments", get(directory::departments))
        .route("/ui/departments/new", get(directory::new_department).post(directory::create_department))
        .route("/ui/departments/{id}", get(directory::department).post(directory::update_department))
        .route("/ui/departments/{id}/delete", post(directory::delete_department))
        .route("/ui/sites", get(directory::sites))
        .route("/static/{file}", get(assets::serve))
}

/// The translated 403 page for a console request refused by a middleware.
pub fn forbidden_page(req: &Request, message: &str) -> Response {
    view::forbidden(req.headers(), req.uri(), req.method(), message)
}

/// The translated 404 page for paths outside the API.
pub fn not_found_page(req: &Request) -> Response {
    view::not_found(req.headers(), req.uri())
}
