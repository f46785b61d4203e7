//! Per-request context: request id and source address, and the authenticated caller.

use crate::AppState;
use crate::problem::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use mailroom_app::{Principal, RequestCtx};
use mailroom_domain::ErrorCode;
use std::net::SocketAddr;

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
        let source = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".to_string());
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
            let principal = state
                .app
                .authenticate_token_in(token, tenant.as_deref())
                .await
                .map_err(|e| ApiError::new(e, &ctx.request_id))?;
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
