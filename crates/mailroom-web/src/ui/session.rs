//! Logging in and out, the signed-in console user, and the language switch.

use super::view::{
    Chrome, FormData, NavLink, Opt, Params, UiError, UserBar, cookie_lang, enc, html, safe_next, see_other, set_cookie,
};
use crate::AppState;
use crate::context::{Ctx, LANG_COOKIE, SESSION_COOKIE, TENANT_COOKIE, cookie};
use crate::i18n::{Lang, Tr};
use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use mailroom_app::store::{Tenant, WebSession};
use mailroom_app::{AppError, Principal, RequestCtx};
use mailroom_domain::ErrorCode;
use mailroom_domain::auth::{Permission, allowed};
use serde::Deserialize;

/// Cookie holding the token that the login form must echo (a session does not exist yet).
const LOGIN_CSRF_COOKIE: &str = "mr_login";
/// Remembers the organisation of the last login on this browser.
const ORG_COOKIE: &str = "mr_org";
const YEAR: i64 = 365 * 24 * 3600;

/// The console's navigation: each entry is shown to the roles that have its permission, and
/// the page behind it checks the same permission (any of those listed).
const NAV: &[(&str, &str, &str, &[Permission])] = &[
    ("/ui/intake", "intake", "nav.intake", &[Permission::RegisterItems]),
    ("/ui/exceptions", "exceptions", "nav.exceptions", &[Permission::RegisterItems]),
    ("/ui/items", "items", "nav.items", &[Permission::SearchItems]),
    ("/ui/my", "my", "nav.my", &[Permission::ReadOwnItems]),
    ("/ui/people", "people", "nav.people", &[Permission::ReadDirectory]),
    ("/ui/departments", "departments", "nav.departments", &[Permission::ReadDirectory]),
    ("/ui/sites", "sites", "nav.sites", &[Permission::ReadDirectory]),
    ("/ui/reports", "reports", "nav.reports", &[Permission::ViewReports]),
    ("/ui/service-levels", "service_levels", "nav.service_levels", &[Permission::SuperviseServiceLevels]),
    ("/ui/outbound", "outbound", "nav.outbound", &[Permission::RequestOutbound, Permission::ReadAllOutbound]),
    ("/ui/postage", "postage", "nav.postage", &[Permission::ReadPostage]),
    ("/ui/rules", "rules", "nav.rules", &[Permission::ManageRules]),
    ("/ui/jobs", "jobs", "nav.jobs", &[Permission::ManageJobs]),
    ("/ui/notifications/templates", "notifications", "nav.notifications", &[Permission::ManageNotifications]),
];

/// A signed-in console user.
pub(crate) struct UiUser {
    pub principal: Principal,
    pub session: WebSession,
    pub secret: String,
    pub ctx: RequestCtx,
    pub t: Tr,
    /// Path and query of the current request.
    pub here: String,
    /// The organisations the user may act in, their own first.
    pub tenants: Vec<Tenant>,
}

impl UiUser {
    /// Whether the user's role in the organisation they act in has the permission.
    pub fn may(&self, p: Permission) -> bool {
        allowed(self.principal.role, p)
    }

    /// Pages answer roles without their permission with a translated 403 page.
    pub fn require(&self, p: Permission) -> Result<(), UiError> {
        if self.may(p) { Ok(()) } else { Err(self.fail(AppError::forbidden())) }
    }

    /// Where the user starts: the first page the navigation offers them.
    fn start(&self) -> &'static str {
        NAV.iter().find(|(_, _, _, ps)| ps.iter().any(|p| self.may(*p))).map(|(href, ..)| *href).unwrap_or("/ui/my")
    }

    /// The page chrome for this user.
    pub fn chrome(&self, section: &'static str) -> Chrome {
        let mut c = Chrome::new(self.t, &self.here, section);
        let nav = NAV
            .iter()
            .filter(|(_, _, _, ps)| ps.iter().any(|p| self.may(*p)))
            .map(|(href, section, key, _)| NavLink { href, section, label: self.t.get(key).to_string() })
            .collect();
        let orgs = if self.tenants.len() > 1 {
            self.tenants
                .iter()
                .map(|t| Opt::new(t.slug.clone(), t.name.clone(), t.id == self.principal.tenant_id))
                .collect()
        } else {
            Vec::new()
        };
        c.user = Some(UserBar {
            name: self.principal.display_name.clone(),
            role: self.t.role(self.principal.role),
            nav,
            orgs,
        });
        c.csrf = self.session.csrf_token.clone();
        c
    }

    /// Turns an application error into this user's error page.
    pub fn fail(&self, e: impl Into<AppError>) -> UiError {
        UiError::new(e, &self.ctx.request_id, self.t, self.chrome("none"))
    }

    /// Checks the CSRF field of a posted form.
    pub fn check_csrf(&self, sent: &str) -> Result<(), UiError> {
        if crate::csrf_matches(sent, &self.session.csrf_token) {
            Ok(())
        } else {
            Err(self
                .fail(AppError::new(ErrorCode::Forbidden, "the form is out of date; reload the page and try again")))
        }
    }
}

/// The language of a request: the language cookie, then the session's language, then Chinese.
fn request_lang(headers: &HeaderMap, session: Option<&WebSession>) -> Lang {
    cookie_lang(headers).or_else(|| session.and_then(|s| Lang::parse(&s.lang))).unwrap_or(Lang::ZhCn)
}

fn to_login(uri: &Uri, method: &Method, clear: bool, secure: bool) -> Response {
    let target = match (method == Method::GET, uri.path_and_query()) {
        (true, Some(pq)) if pq.path() != "/ui/" && pq.path() != "/ui" => format!("/ui/login?next={}", enc(pq.as_str())),
        _ => "/ui/login".to_string(),
    };
    let mut r = see_other(&target);
    if clear && let Some(v) = set_cookie(SESSION_COOKIE, "", 0, "/", secure) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

impl FromRequestParts<AppState> for UiUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Ctx(ctx) = Ctx::from_request_parts(parts, state).await.unwrap_or_else(|e| match e {});
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string) else {
            return Err(to_login(&parts.uri, &parts.method, false, state.secure_cookies));
        };
        let chosen = cookie(&parts.headers, TENANT_COOKIE).map(str::to_string);
        let fail = |e: AppError| {
            let t = Tr(request_lang(&parts.headers, None));
            let chrome = Chrome::new(t, &super::view::page_of(&parts.uri, &parts.method), "none");
            UiError::new(e, &ctx.request_id, t, chrome).into_response()
        };
        match state.app.authenticate_session_in(&secret, chosen.as_deref()).await {
            Ok((principal, session)) => {
                let t = Tr(request_lang(&parts.headers, Some(&session)));
                let tenants = state.app.my_tenants(&principal).await.map_err(fail)?;
                let here = super::view::page_of(&parts.uri, &parts.method);
                Ok(UiUser { principal, session, secret, ctx, t, here, tenants })
            }
            Err(e) if e.code() == ErrorCode::Unauthorized => {
                Err(to_login(&parts.uri, &parts.method, true, state.secure_cookies))
            }
            // The chosen organisation is no longer open to the user: back to their own.
            Err(e) if e.code() == ErrorCode::Forbidden && chosen.is_some() => {
                let mut r = see_other("/ui/");
                if let Some(v) = set_cookie(TENANT_COOKIE, "", 0, "/", state.secure_cookies) {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
                Err(r)
            }
            Err(e) => Err(fail(e)),
        }
    }
}

/// `/` and `/ui/`: each role starts at the first page its navigation offers (staff at intake,
/// finance, customer service and auditors at the item list, employees at their mail).
pub(crate) async fn home(u: UiUser) -> Response {
    see_other(u.start())
}

pub(crate) async fn root() -> Response {
    see_other("/ui/")
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    c: Chrome,
    org: String,
    login: String,
    langs: Vec<Opt>,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

fn new_token() -> Result<String, AppError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(mailroom_domain::custody::hex(&b))
}

fn valid_token(t: &str) -> bool {
    t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

struct LoginView {
    org: String,
    login: String,
    lang: Lang,
    next: String,
    error: Option<String>,
}

fn login_response(s: &AppState, headers: &HeaderMap, uri: &Uri, status: StatusCode, v: LoginView) -> Response {
    let t = Tr(v.lang);
    let token = match cookie(headers, LOGIN_CSRF_COOKIE).filter(|t| valid_token(t)) {
        Some(tok) => tok.to_string(),
        None => match new_token() {
            Ok(tok) => tok,
            Err(e) => {
                let rid = crate::context::request_id(headers);
                return UiError::new(e, &rid, t, Chrome::new(t, "/ui/login", "login")).into_response();
            }
        },
    };
    let mut c = Chrome::new(t, &super::view::here(uri), "login");
    c.csrf = token.clone();
    let langs = Lang::ALL.iter().map(|l| Opt::new(l.code(), t.get(lang_name_key(*l)), *l == v.lang)).collect();
    let page = LoginPage { t, c, org: v.org, login: v.login, langs, next: v.next, error: v.error };
    let mut r = html(status, &page);
    if let Some(v) = set_cookie(LOGIN_CSRF_COOKIE, &token, 3600, "/ui/login", s.secure_cookies) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

fn lang_name_key(l: Lang) -> &'static str {
    match l {
        Lang::ZhCn => "lang.zh-CN",
        Lang::En => "lang.en",
    }
}

pub(crate) async fn login_page(
    State(s): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Params(q): Params<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref()).unwrap_or_default();
    if let Some(secret) = cookie(&headers, SESSION_COOKIE)
        && s.app.authenticate_session(secret).await.is_ok()
    {
        return see_other(if next.is_empty() { "/ui/" } else { &next });
    }
    let view = LoginView {
        org: cookie(&headers, ORG_COOKIE).unwrap_or("").to_string(),
        login: String::new(),
        lang: cookie_lang(&headers).unwrap_or(Lang::ZhCn),
        next,
        error: None,
    };
    login_response(&s, &headers, &uri, StatusCode::OK, view)
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    next: String,
}

pub(crate) async fn login_submit(
    State(s): State<AppState>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    uri: Uri,
    FormData(f): FormData<LoginForm>,
) -> Response {
    let lang = Lang::parse(&f.lang).or_else(|| cookie_lang(&headers)).unwrap_or(Lang::ZhCn);
    let t = Tr(lang);
    let next = safe_next(Some(&f.next)).unwrap_or_default();
    let retry_with = |error: String, status: StatusCode| {
        let view =
            LoginView { org: f.org.clone(), login: f.login.clone(), lang, next: next.clone(), error: Some(error) };
        login_response(&s, &headers, &uri, status, view)
    };
    let retry = |error: &str, status: StatusCode| retry_with(t.get(error).to_string(), status);
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if !crate::csrf_matches(&f.csrf, expected) {
        return retry("login.form_expired", StatusCode::FORBIDDEN);
    }
    if f.org.trim().is_empty() || f.login.trim().is_empty() || f.password.is_empty() {
        return retry("login.missing", StatusCode::UNPROCESSABLE_ENTITY);
    }
    match s.app.login_from(&ctx, &f.org, &f.login, &f.password, lang.code()).await {
        Ok((secret, _)) => {
            let mut r = see_other(if next.is_empty() { "/ui/" } else { &next });
            let secure = s.secure_cookies;
            let max_age = mailroom_app::auth::SESSION_HOURS * 3600;
            let org = f.org.trim().to_ascii_lowercase();
            let org_ok = org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            let cookies = [
                set_cookie(SESSION_COOKIE, &secret, max_age, "/", secure),
                set_cookie(LANG_COOKIE, lang.code(), YEAR, "/", secure),
                set_cookie(LOGIN_CSRF_COOKIE, "", 0, "/ui/login", secure),
                set_cookie(TENANT_COOKIE, "", 0, "/", secure),
                if org_ok { set_cookie(ORG_COOKIE, &org, YEAR, "/ui/login", secure) } else { None },
            ];
            for v in cookies.into_iter().flatten() {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) if e.code() == ErrorCode::Unauthorized => retry("login.failed", StatusCode::UNAUTHORIZED),
        Err(AppError::Throttled { retry_after }) => {
            let minutes = retry_after.div_ceil(60).to_string();
            let mut r = retry_with(t.fmt("login.locked", &[("minutes", &minutes)]), StatusCode::TOO_MANY_REQUESTS);
            r.headers_mut().insert(header::RETRY_AFTER, retry_after.into());
            r
        }
        Err(e) => {
            let rid = crate::context::request_id(&headers);
            UiError::new(e, &rid, t, Chrome::new(t, "/ui/login", "login")).into_response()
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn logout(
    State(s): State<AppState>,
    u: UiUser,
    FormData(f): FormData<CsrfForm>,
) -> Result<Response, UiError> {
    u.check_csrf(&f.csrf)?;
    s.app.logout(&u.secret).await.map_err(|e| u.fail(e))?;
    let mut r = see_other("/ui/login");
    for name in [SESSION_COOKIE, TENANT_COOKIE] {
        if let Some(v) = set_cookie(name, "", 0, "/", s.secure_cookies) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(r)
}

#[derive(Deserialize)]
pub(crate) struct TenantForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    tenant: String,
}

/// Switches the organisation the console acts in (for users who may act in several). The
/// choice is only remembered; every request checks again that the user may act there.
pub(crate) async fn switch_tenant(
    State(s): State<AppState>,
    u: UiUser,
    FormData(f): FormData<TenantForm>,
) -> Result<Response, UiError> {
    u.check_csrf(&f.csrf)?;
    let (home, _) = s.app.authenticate_session(&u.secret).await.map_err(|e| u.fail(e))?;
    let p = s.app.act_in(home, Some(&f.tenant)).await.map_err(|e| u.fail(e))?;
    let mut r = see_other("/ui/");
    let cookie = if p.tenant_id == p.home_tenant_id {
        set_cookie(TENANT_COOKIE, "", 0, "/", s.secure_cookies)
    } else {
        set_cookie(TENANT_COOKIE, f.tenant.trim(), mailroom_app::auth::SESSION_HOURS * 3600, "/", s.secure_cookies)
    };
    if let Some(v) = cookie {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

#[derive(Deserialize)]
pub(crate) struct LangQuery {
    set: Option<String>,
    next: Option<String>,
}

/// Switches the console language (before or after login) and goes back to the page.
pub(crate) async fn switch_lang(State(s): State<AppState>, Params(q): Params<LangQuery>) -> Response {
    let next = safe_next(q.next.as_deref()).unwrap_or_else(|| "/ui/".to_string());
    let mut r = see_other(&next);
    if let Some(lang) = q.set.as_deref().and_then(Lang::parse)
        && let Some(v) = set_cookie(LANG_COOKIE, lang.code(), YEAR, "/", s.secure_cookies)
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_names_and_tokens() {
        for lang in Lang::ALL {
            for l in Lang::ALL {
                assert!(Tr(*lang).has(lang_name_key(*l)));
            }
        }
        let tok = new_token().unwrap_or_default();
        assert!(valid_token(&tok));
        assert!(!valid_token("abc"));
    }
}
