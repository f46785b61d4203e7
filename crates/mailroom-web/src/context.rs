//! Per-request context: request id and source address, and the authenticated caller.

use crate::AppState;
use crate::problem::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use mailroom_app::{Principal, RequestCtx};
use mailroom_domain::ErrorCode;
use mailroom_domain::token::TokenScope;
use std::net::{IpAddr, SocketAddr};

pub const SESSION_COOKIE: &str = "mr_session";
pub const LANG_COOKIE: &str = "mr_lang";
/// The organisation (slug) the console acts in, when not the user's own. Only a choice:
/// whether the user may act there is checked on every request.
pub const TENANT_COOKIE: &str = "mr_tenant";
/// The organisation (slug) an API request acts in, when not the caller's own.
pub const TENANT_HEADER: &str = "x-tenant";

/// The organisation a request asks to act in: the `X-Tenant` header, else (for the console's
/// session) the tenant cookie. A header that is not text names no organisation anyone may act in.
pub fn requested_tenant(headers: &HeaderMap, with_cookie: bool) -> Option<String> {
    match headers.get(TENANT_HEADER) {
        Some(v) => Some(v.to_str().map(str::to_string).unwrap_or_else(|_| "\u{fffd}".to_string())),
        None if with_cookie => cookie(headers, TENANT_COOKIE).map(str::to_string),
        None => None,
    }
}

/// The request id set by the request-id layer (or sent by the client).
pub fn request_id(headers: &HeaderMap) -> String {
    headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_string()
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let source = match parts.extensions.get::<ClientAddr>() {
            Some(ClientAddr(ip)) => ip.to_string(),
            None => parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".to_string()),
        };
        let device = parts
            .headers
            .get("x-device-id")
            .and_then(|v| v.to_str().ok())
            .map(|d| d.chars().take(64).collect::<String>());
        let source = match device {
            Some(d) => format!("{source} device={d}"),
            None => source,
        };
        Ok(Ctx(RequestCtx { source, request_id: request_id(&parts.headers) }))
    }
}

/// The client's address: the peer, or, when the peer is a trusted reverse proxy, the address it
/// reports in `X-Forwarded-For`. Set by [`crate::client_address`].
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// Request id and source address of the current request.
#[derive(Debug, Clone)]
pub struct Ctx(pub RequestCtx);

/// Reads a cookie by name.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// An API caller authenticated by `Authorization: Bearer <token>`, or by the console's
/// session cookie (with the CSRF header on unsafe methods).
pub struct Caller {
    pub principal: Principal,
    pub ctx: RequestCtx,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Ctx(ctx) = Ctx::from_request_parts(parts, state).await.unwrap_or_else(|e| match e {});
        let auth = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if let Some(a) = auth {
            let token = a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("bearer ")).unwrap_or("").trim();
            let tenant = requested_tenant(&parts.headers, false);
            let (home, tok) =
                state.app.authenticate_api_token(token).await.map_err(|e| ApiError::new(e, &ctx.request_id))?;
            let mut principal =
                state.app.act_in(home, tenant.as_deref()).await.map_err(|e| ApiError::new(e, &ctx.request_id))?;
            // A token with a narrower role acts with that role in every organisation.
            if let Some(narrow) = tok.role {
                principal.role =
                    mailroom_domain::token::effective_role(principal.role, Some(narrow)).ok_or_else(|| {
                        ApiError::new(
                            mailroom_app::AppError::new(
                                ErrorCode::Unauthorized,
                                "invalid, expired or revoked API token",
                            ),
                            &ctx.request_id,
                        )
                    })?;
            }
            let route = parts.extensions.get::<MatchedPath>().map(|m| m.as_str()).unwrap_or("");
            if !scope_allows(tok.scope, &parts.method, route) {
                return Err(ApiError::new(
                    mailroom_app::AppError::new(
                        ErrorCode::Forbidden,
                        format!("this API token's scope ({}) does not allow this request", tok.scope),
                    ),
                    &ctx.request_id,
                ));
            }
            // The custody log names the token a change was made with.
            let ctx = RequestCtx { source: format!("{} token={}", ctx.source, tok.id), ..ctx };
            return Ok(Caller { principal, ctx });
        }
        if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) {
            let tenant = requested_tenant(&parts.headers, true);
            let (principal, session) = state
                .app
                .authenticate_session_in(secret, tenant.as_deref())
                .await
                .map_err(|e| ApiError::new(e, &ctx.request_id))?;
            if !parts.method.is_safe() {
                let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
                if !crate::csrf_matches(sent, &session.csrf_token) {
                    return Err(ApiError::new(
                        mailroom_app::AppError::new(ErrorCode::Forbidden, "missing or wrong X-CSRF-Token header"),
                        &ctx.request_id,
                    ));
                }
            }
            return Ok(Caller { principal, ctx });
        }
        Err(ApiError::new(
            mailroom_app::AppError::new(ErrorCode::Unauthorized, "send Authorization: Bearer <API token>"),
            &ctx.request_id,
        ))
    }
}

/// Requests a scanner token may make: register and look up items, and look up recipients.
const SCANNER_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/items"),
    ("POST", "/api/v1/items"),
    ("GET", "/api/v1/items/{id}"),
    ("GET", "/api/v1/people"),
    ("GET", "/api/v1/people/{id}"),
    ("GET", "/api/v1/recipients"),
    ("GET", "/api/v1/departments"),
    ("GET", "/api/v1/departments/{id}"),
];

/// Whether a token of `scope` may make a request (`route` is the matched route template).
pub fn scope_allows(scope: TokenScope, method: &Method, route: &str) -> bool {
    let method = if method == Method::HEAD { &Method::GET } else { method };
    match scope {
        TokenScope::Full => true,
        TokenScope::ReadOnly => method == Method::GET,
        TokenScope::Scanner => SCANNER_ROUTES.iter().any(|(m, r)| method.as_str() == *m && route == *r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert!(scope_allows(TokenScope::Full, &Method::DELETE, "/api/v1/departments/{id}"));
        assert!(scope_allows(TokenScope::ReadOnly, &Method::GET, "/api/v1/users"));
        assert!(scope_allows(TokenScope::ReadOnly, &Method::HEAD, "/api/v1/items"));
        assert!(!scope_allows(TokenScope::ReadOnly, &Method::POST, "/api/v1/items"));
        assert!(scope_allows(TokenScope::Scanner, &Method::POST, "/api/v1/items"));
        assert!(scope_allows(TokenScope::Scanner, &Method::GET, "/api/v1/items/{id}"));
        assert!(!scope_allows(TokenScope::Scanner, &Method::POST, "/api/v1/items/{id}/transitions"));
        assert!(!scope_allows(TokenScope::Scanner, &Method::POST, "/api/v1/tokens"));
        assert!(!scope_allows(TokenScope::Scanner, &Method::GET, "/api/v1/audit"));
        assert!(!scope_allows(TokenScope::Scanner, &Method::GET, ""));
    }
}
