//! HTTP front end: the JSON API (`/api/v1`), the server-rendered console (`/ui`),
//! health, readiness and metrics.

pub mod api;
mod api_notify;
mod api_outbound;
mod api_pdf;
mod api_postage;
mod api_sla;
mod context;
mod extract;
pub mod i18n;
mod metrics;
pub mod problem;
mod ui;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use mailroom_app::App;
use mailroom_app::outbound::IpRange;
use mailroom_app::store::Attachment;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub use metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<Metrics>,
    /// Set the `Secure` flag on cookies and send `Strict-Transport-Security` (behind HTTPS).
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the real client address.
    pub trusted_proxies: Vec<IpRange>,
    /// SDR conversion rates for customs declarations (configuration: `MAILROOM_SDR_RATES`).
    pub sdr_rates: Arc<mailroom_domain::customs::RateTable>,
    /// The font PDF documents are set in: `None` reads `MAILROOM_PDF_FONT` or the usual system
    /// paths (see docs/PDF.md); `Some` names the file.
    pub pdf_font: Option<std::path::PathBuf>,
}

impl AppState {
    pub fn new(app: App) -> AppState {
        AppState {
            app,
            metrics: Arc::new(Metrics::default()),
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            sdr_rates: Arc::new(mailroom_domain::customs::RateTable::default()),
            pdf_font: None,
        }
    }
}

/// Constant-time comparison of CSRF tokens.
pub(crate) fn csrf_matches(sent: &str, expected: &str) -> bool {
    if sent.len() != expected.len() || expected.is_empty() {
        return false;
    }
    sent.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Serves a stored attachment safely (no sniffing; SVG sandboxed).
pub(crate) fn attachment_response(a: Attachment) -> Response {
    let mut r = (StatusCode::OK, a.data).into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&a.media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    r
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(s): State<AppState>) -> Response {
    match s.app.store.list_tenants().await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn metrics_text(State(s): State<AppState>) -> Response {
    let mut r = s.metrics.render().into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    r
}

async fn openapi() -> Response {
    let mut r = api::openapi_json().into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// Records metrics and a structured log line for every request.
async fn observe(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route =
        req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let rid = context::request_id(req.headers());
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let secs = start.elapsed().as_secs_f64();
    s.metrics.observe(&method, &route, status, secs);
    tracing::info!(target: "mailroom::http", request_id = %rid, %method, %route, status, ms = secs * 1000.0, "request");
    resp
}

async fn security_headers(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=(), payment=(), usb=()"),
    );
    h.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    h.insert(HeaderName::from_static("cross-origin-resource-policy"), HeaderValue::from_static("same-origin"));
    h.insert(HeaderName::from_static("x-permitted-cross-domain-policies"), HeaderValue::from_static("none"));
    if s.secure_cookies {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    if api {
        // API answers hold organisation data: no shared or browser caches.
        h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
    resp
}

/// Whether a browser says (or its `Origin` shows) that the request comes from another site.
fn cross_site(h: &axum::http::HeaderMap) -> bool {
    if let Some(site) = h.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    match (h.get(header::ORIGIN), h.get(header::HOST)) {
        (Some(origin), Some(host)) => {
            let origin = origin.to_str().unwrap_or("null");
            let authority = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
            authority.is_none_or(|a| !a.eq_ignore_ascii_case(host.to_str().unwrap_or("")))
        }
        _ => false,
    }
}

/// Refuses state-changing requests that a browser made on behalf of another site (a second line
/// of defence behind the CSRF tokens; requests without browser headers are not affected).
async fn refuse_cross_site(req: Request, next: Next) -> Response {
    if req.method().is_safe() || !cross_site(req.headers()) {
        return next.run(req).await;
    }
    let msg = "cross-site requests are not accepted";
    if req.uri().path().starts_with("/api/") {
        let rid = context::request_id(req.headers());
        problem::ApiError::new(mailroom_app::AppError::new(mailroom_domain::ErrorCode::Forbidden, msg), &rid)
            .into_response()
    } else {
        ui::forbidden_page(&req, msg)
    }
}

/// Records the client's address for the request: the peer's, or the one a trusted reverse
/// proxy put last into `X-Forwarded-For` (the nearest hop it did not add itself).
async fn client_address(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_canonical());
    if let Some(peer) = peer {
        let trusted = |ip: std::net::IpAddr| s.trusted_proxies.iter().any(|r| r.contains(ip));
        let mut client = peer;
        if trusted(peer) {
            let hops: Vec<std::net::IpAddr> = req
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
                .map(|a| a.to_canonical())
                .collect();
            for hop in hops.into_iter().rev() {
                client = hop;
                if !trusted(hop) {
                    break;
                }
            }
        }
        req.extensions_mut().insert(context::ClientAddr(client));
    }
    next.run(req).await
}

async fn not_found(req: Request) -> Response {
    let rid = context::request_id(req.headers());
    if req.uri().path().starts_with("/api/") {
        problem::ApiError::new(mailroom_app::AppError::not_found("route"), &rid).into_response()
    } else {
        ui::not_found_page(&req).into_response()
    }
}

/// One route: its method, its path template and its handler.
pub(crate) type Route = (Method, &'static str, MethodRouter<AppState>);

/// A route answering `method` at `path` with `handler`; the method is named once.
pub(crate) fn route<H, T>(method: Method, path: &'static str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let m = match method {
        Method::POST => post(handler),
        Method::PUT => put(handler),
        Method::DELETE => delete(handler),
        Method::PATCH => patch(handler),
        _ => get(handler),
    };
    (method, path, m)
}

/// Builds a router from a route table (several methods on one path merge).
pub(crate) fn build(table: Vec<Route>) -> Router<AppState> {
    table.into_iter().fold(Router::new(), |r, (_, path, m)| r.route(path, m))
}

/// Health, readiness, metrics and the OpenAPI document: no authentication, no tenant data.
fn service_routes() -> Vec<Route> {
    vec![
        route(Method::GET, "/healthz", healthz),
        route(Method::GET, "/readyz", readyz),
        route(Method::GET, "/metrics", metrics_text),
        route(Method::GET, "/api/v1/openapi.json", openapi),
    ]
}

/// Every route the server answers (method and path template): the service routes, the API and
/// the console. The router is built from the same tables, so this list is complete by
/// construction; the role-matrix test checks every entry against the permission matrix.
pub fn all_routes() -> Vec<(Method, &'static str)> {
    let mut out: Vec<(Method, &'static str)> = service_routes().into_iter().map(|(m, p, _)| (m, p)).collect();
    out.extend(api::endpoints());
    out.extend(ui::pages());
    out
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    build(service_routes())
        .merge(api::routes())
        .merge(ui::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), client_address))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn(refuse_cross_site))
        .layer(middleware::from_fn_with_state(state.clone(), security_headers))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
