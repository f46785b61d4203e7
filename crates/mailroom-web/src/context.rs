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
            let principal = state.app.authenticate_token(token).await.map_err(|e| ApiError::new(e, &ctx.request_id))?;
            return Ok(Caller { principal, ctx });
        }
        if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) {
            let (principal, session) =
                state.app.authenticate_session(secret).await.map_err(|e| ApiError::new(e, &ctx.request_id))?;
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
