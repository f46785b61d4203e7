use crate::AppState;
use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::IntoResponse;

pub fn routes() -> Router<AppState> {
    Router::new()
}

pub fn not_found_page(_req: &Request) -> impl IntoResponse {
    (StatusCode::NOT_FOUND, "not found")
}
