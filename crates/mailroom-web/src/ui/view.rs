//! What every console page shares: the page chrome, error pages, extractors that answer with
//! pages, cookies, links and time formatting.

use super::assets;
use crate::context::{LANG_COOKIE, cookie, request_id};
use crate::i18n::{Lang, Tr};
use crate::problem::status_for;
use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, FixedOffset, Utc};
use mailroom_app::AppError;
use mailroom_domain::ErrorCode;
use serde::de::DeserializeOwned;

/// The user shown in the top bar.
pub(crate) struct UserBar {
    pub name: String,
    pub role: String,
    /// The pages the user's role may open.
    pub nav: Vec<NavLink>,
    /// The organisations the user may switch to (empty when there is only their own).
    pub orgs: Vec<Opt>,
}

/// One entry of the main navigation.
pub(crate) struct NavLink {
    pub href: &'static str,
    pub section: &'static str,
    pub label: String,
}

/// Everything the page layout needs besides the page's own content.
pub(crate) struct Chrome {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub user: Option<UserBar>,
    pub csrf: String,
    /// The active navigation entry.
    pub section: &'static str,
    pub lang_href: String,
    pub css: String,
    pub icon: String,
    pub scripts: Vec<String>,
    /// Strings for the scripts (JSON), on pages that run scripts.
    pub i18n: Option<String>,
}

impl Chrome {
    pub fn new(t: Tr, here: &str, section: &'static str) -> Chrome {
        let lang = t.lang();
        Chrome {
            lang: lang.code(),
            other_lang: lang.other().code(),
            user: None,
            csrf: String::new(),
            section,
            lang_href: format!("/ui/lang?set={}&next={}", lang.other().code(), enc(here)),
            css: assets::href("console.css"),
            icon: assets::href("icon.svg"),
            scripts: Vec::new(),
            i18n: None,
        }
    }

    /// Adds the console's scripts (the shared one first) and the strings they show.
    pub fn with_scripts(mut self, t: Tr, page_scripts: &[&str]) -> Chrome {
        self.scripts.push(assets::href("console.js"));
        self.scripts.extend(page_scripts.iter().map(|s| assets::href(s)));
        self.i18n = Some(t.script_json());
        self
    }
}

/// The language of a request without a session: the language cookie, else Chinese.
pub(crate) fn cookie_lang(headers: &HeaderMap) -> Option<Lang> {
    cookie(headers, LANG_COOKIE).and_then(Lang::parse)
}

/// Renders a template into an HTML response that is never cached (pages carry CSRF tokens).
pub(crate) fn html<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(body) => {
            let mut r = (status, Html(body)).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    t: Tr,
    c: &'a Chrome,
    status: u16,
    title: String,
    hint: String,
    detail: Option<String>,
    request_id: Option<String>,
}

/// A failed console request, shown as a translated error page.
pub(crate) struct UiError {
    pub error: AppError,
    pub request_id: String,
    pub t: Tr,
    pub chrome: Box<Chrome>,
}

impl UiError {
    pub fn new(error: impl Into<AppError>, request_id: &str, t: Tr, chrome: Chrome) -> UiError {
        UiError { error: error.into(), request_id: request_id.to_string(), t, chrome: Box::new(chrome) }
    }
}

/// Whether the error's own message helps the user (it explains what to change).
pub(crate) fn detail_is_useful(code: ErrorCode) -> bool {
    !matches!(code, ErrorCode::NotFound | ErrorCode::Forbidden | ErrorCode::Unauthorized | ErrorCode::Internal)
}

/// The translated one-line description of an error, with the app's detail where it helps.
pub(crate) fn error_line(t: Tr, e: &AppError) -> String {
    let code = e.code();
    let title = t.error(code);
    match e {
        AppError::Domain(d) if detail_is_useful(code) => match &d.field {
            Some(f) => t.fmt("errorpage.line_field", &[("title", &title), ("field", f), ("detail", &d.message)]),
            None => t.fmt("errorpage.line", &[("title", &title), ("detail", &d.message)]),
        },
        AppError::Rows(_) => t.fmt("errorpage.line", &[("title", &title), ("detail", &e.to_string())]),
        _ => title,
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let code = self.error.code();
        let status = status_for(code);
        let t = self.t;
        crate::problem::log_failure(&self.error, &self.request_id);
        let hint_key = match code {
            ErrorCode::NotFound => "errorpage.not_found_hint",
            ErrorCode::Forbidden => "errorpage.forbidden_hint",
            ErrorCode::Unauthorized => "errorpage.unauthorized_hint",
            ErrorCode::Internal => "errorpage.internal_hint",
            ErrorCode::StoreUnavailable => "errorpage.unavailable_hint",
            _ => "errorpage.input_hint",
        };
        let detail = match &self.error {
            AppError::Domain(d) if detail_is_useful(code) => Some(d.message.clone()),
            AppError::Rows(_) => Some(self.error.to_string()),
            _ => None,
        };
        let page = ErrorPage {
            t,
            c: &self.chrome,
            status: status.as_u16(),
            title: t.error(code),
            hint: t.get(hint_key).to_string(),
            detail,
            request_id: (code == ErrorCode::Internal).then(|| self.request_id.clone()),
        };
        let mut r = html(status, &page);
        if let Some(v) = crate::problem::retry_after(&self.error) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

/// The console's 404 page for unknown paths.
pub(crate) fn not_found(headers: &HeaderMap, uri: &Uri) -> Response {
    let t = Tr(cookie_lang(headers).unwrap_or(Lang::ZhCn));
    let here = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let chrome = Chrome::new(t, here, "none");
    UiError::new(AppError::not_found("page"), &request_id(headers), t, chrome).into_response()
}

/// The console's 403 page for a request refused before it reached a handler.
pub(crate) fn forbidden(headers: &HeaderMap, uri: &Uri, method: &Method, message: &str) -> Response {
    early_error(headers, &page_of(uri, method), AppError::new(ErrorCode::Forbidden, message))
}

/// An error page for a request that failed before the user was known.
fn early_error(headers: &HeaderMap, here: &str, e: AppError) -> Response {
    let t = Tr(cookie_lang(headers).unwrap_or(Lang::ZhCn));
    UiError::new(e, &request_id(headers), t, Chrome::new(t, here, "none")).into_response()
}

/// Query parameters; malformed ones get an error page.
pub(crate) struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri).map(|q| Params(q.0)).map_err(|e| {
            let err = mailroom_domain::DomainError::invalid("query", e.body_text());
            early_error(&parts.headers, &page_of(&parts.uri, &parts.method), err.into())
        })
    }
}

/// A submitted form; malformed ones get an error page.
pub(crate) struct FormData<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequest<S> for FormData<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let page = page_of(req.uri(), req.method());
        match axum::Form::<T>::from_request(req, state).await {
            Ok(f) => Ok(FormData(f.0)),
            Err(e) => {
                let err = mailroom_domain::DomainError::invalid("form", e.body_text());
                Err(early_error(&headers, &page, err.into()))
            }
        }
    }
}

/// A `Set-Cookie` value. `max_age` of 0 deletes the cookie.
pub(crate) fn set_cookie(name: &str, value: &str, max_age: i64, path: &str, secure: bool) -> Option<HeaderValue> {
    let mut c = format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).ok()
}

/// A 303 redirect (after a form post, and to the login page).
pub(crate) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Percent-encodes a query parameter value.
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A `next` target is only followed when it is a path on this site.
pub(crate) fn safe_next(next: Option<&str>) -> Option<String> {
    let n = next?.trim();
    let ok = n.starts_with('/')
        && !n.starts_with("//")
        && n.len() <= 1024
        && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    ok.then(|| n.to_string())
}

/// The path and query of a request, for `next` links.
pub(crate) fn here(uri: &Uri) -> String {
    uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/ui/".into())
}

/// The page a posted form belongs to (`/ui/items/{id}/actions` → `/ui/items/{id}`), so links
/// such as the language switch lead back to a page, not to a form target.
pub(crate) fn page_of(uri: &Uri, method: &Method) -> String {
    if method == Method::GET || method == Method::HEAD {
        return here(uri);
    }
    let path = uri.path();
    if path.starts_with("/ui/exceptions/") {
        return "/ui/exceptions".to_string();
    }
    if let Some(rest) = path.strip_prefix("/ui/outbound/") {
        return match rest {
            "new" | "batches" => path.to_string(),
            "mailing" => "/ui/outbound".to_string(),
            _ => path.rsplit_once('/').map_or(path, |(page, _)| page).to_string(),
        };
    }
    for suffix in ["/actions", "/delete", "/details"] {
        if let Some(page) = path.strip_suffix(suffix) {
            return page.to_string();
        }
    }
    path.to_string()
}

/// Times are stored in UTC and shown in the sites' time zone, Asia/Shanghai (UTC+8, no daylight saving).
pub(crate) fn local_time(t: DateTime<Utc>) -> String {
    match FixedOffset::east_opt(8 * 3600) {
        Some(tz) => t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        None => t.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// A select option.
pub(crate) struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    pub fn new(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Opt {
        Opt { value: value.into(), label: label.into(), selected }
    }
}

/// Empty and whitespace-only form values count as absent.
pub(crate) fn filled(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_stay_on_site() {
        assert_eq!(safe_next(Some("/ui/items?q=a")).as_deref(), Some("/ui/items?q=a"));
        assert_eq!(safe_next(Some("//evil.example/")), None);
        assert_eq!(safe_next(Some("https://evil.example/")), None);
        assert_eq!(safe_next(Some("/\\evil.example")), None);
        assert_eq!(safe_next(Some("/ui/a b")), None);
        assert_eq!(safe_next(None), None);
    }

    #[test]
    fn posted_forms_belong_to_their_page() {
        let uri = Uri::from_static("/ui/items/abc/actions");
        assert_eq!(page_of(&uri, &Method::POST), "/ui/items/abc");
        assert_eq!(page_of(&Uri::from_static("/ui/people/new"), &Method::POST), "/ui/people/new");
        assert_eq!(page_of(&Uri::from_static("/ui/items?q=x"), &Method::GET), "/ui/items?q=x");
        assert_eq!(page_of(&Uri::from_static("/ui/outbound/abc/accept"), &Method::POST), "/ui/outbound/abc");
        assert_eq!(page_of(&Uri::from_static("/ui/outbound/batches/b/scan"), &Method::POST), "/ui/outbound/batches/b");
        assert_eq!(page_of(&Uri::from_static("/ui/outbound/batches"), &Method::POST), "/ui/outbound/batches");
        assert_eq!(page_of(&Uri::from_static("/ui/outbound/mailing"), &Method::POST), "/ui/outbound");
    }

    #[test]
    fn encoding_and_time() {
        assert_eq!(enc("/ui/items?q=张 3"), "%2Fui%2Fitems%3Fq%3D%E5%BC%A0%203");
        let t = DateTime::parse_from_rfc3339("2025-01-31T17:30:00Z").map(|d| d.with_timezone(&Utc));
        assert_eq!(t.map(local_time).ok().as_deref(), Some("2025-02-01 01:30"));
    }

    #[test]
    fn cookies() {
        let c = set_cookie("mr_session", "abc", 60, "/", true).map(|v| v.to_str().unwrap_or("").to_string());
        assert_eq!(c.as_deref(), Some("mr_session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"));
    }

    #[tokio::test]
    async fn internal_errors_show_only_the_request_id() {
        let t = Tr(Lang::En);
        let e =
            UiError::new(AppError::Internal("db password wrong".into()), "rid-123", t, Chrome::new(t, "/ui/", "none"));
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap_or_default();
        let html = String::from_utf8_lossy(&body);
        assert!(html.contains("rid-123"));
        assert!(html.contains("Internal error"));
        assert!(!html.contains("db password"));
    }

    #[tokio::test]
    async fn error_pages_use_the_one_status_mapping() {
        let t = Tr(Lang::ZhCn);
        for code in [ErrorCode::NotFound, ErrorCode::Forbidden, ErrorCode::InvalidTransition, ErrorCode::Validation] {
            let e = UiError::new(AppError::new(code, "because"), "rid", t, Chrome::new(t, "/ui/", "none"));
            let r = e.into_response();
            assert_eq!(r.status(), status_for(code));
            let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap_or_default();
            let html = String::from_utf8_lossy(&body);
            assert!(html.contains("<html lang=\"zh-CN\">"));
            assert!(html.contains(&t.error(code)));
            assert!(!html.contains("rid</code>"), "request ids only on 500 pages");
        }
    }

    /// The content security policy forbids inline scripts, styles and event handlers.
    #[test]
    fn templates_have_no_inline_script_style_or_handlers() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let entries = std::fs::read_dir(&dir);
        assert!(entries.is_ok());
        let mut seen = 0;
        for entry in entries.into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let name = entry.path().display().to_string();
            seen += 1;
            assert!(!text.contains(" style="), "{name}: inline style");
            assert!(!text.contains("<style"), "{name}: style element");
            assert!(!text.contains("javascript:"), "{name}: javascript: URL");
            for (i, _) in text.match_indices(" on") {
                let rest: String = text[i + 3..].chars().take_while(|c| c.is_ascii_alphabetic()).collect();
                let after = text[i + 3 + rest.len()..].chars().next();
                assert!(after != Some('=') || rest.is_empty(), "{name}: inline event handler on{rest}");
            }
            for (i, _) in text.match_indices("<script") {
                let tag: String = text[i..].chars().take_while(|c| *c != '>').collect();
                assert!(
                    tag.contains(" src=") || tag.contains("type=\"application/json\""),
                    "{name}: inline script {tag}"
                );
            }
        }
        assert!(seen >= 10);
    }
}
