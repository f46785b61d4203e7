//! Body and query extractors whose failures are problem+json, never plain text.

use crate::AppState;
use crate::context::request_id;
use crate::problem::{ApiError, bad_input};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use mailroom_app::AppError;
use mailroom_domain::ErrorCode;
use serde::de::DeserializeOwned;

/// Largest JSON body accepted by the API (a signature image fits comfortably).
pub const JSON_LIMIT: usize = 1024 * 1024;
/// Largest CSV file accepted by the import routes.
pub const CSV_LIMIT: usize = 32 * 1024 * 1024;

/// Reads the body up to `limit` bytes. A larger body is drained (up to a bound) before the 413 is
/// sent, so that clients still writing their upload read the answer instead of a reset connection.
async fn read_body(req: Request, limit: usize) -> Result<(Vec<u8>, String), ApiError> {
    use futures_util::StreamExt;
    let rid = request_id(req.headers());
    let too_large = || {
        ApiError::new(
            AppError::new(ErrorCode::PayloadTooLarge, format!("the request body is larger than {limit} bytes")),
            &rid,
        )
    };
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let drain_cap = limit.saturating_mul(8);
    if declared.is_some_and(|n| n > drain_cap) {
        return Err(too_large());
    }
    let mut stream = req.into_body().into_data_stream();
    let mut buf = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| crate::problem::bad_input("body", "the request body could not be read", &rid))?;
        total += chunk.len();
        if total > drain_cap {
            break;
        }
        if total <= limit {
            buf.extend_from_slice(&chunk);
        }
    }
    if total > limit {
        return Err(too_large());
    }
    Ok((buf, rid))
}

/// A JSON body, with its raw bytes (for idempotency fingerprints).
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Vec<u8>,
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, _: &AppState) -> Result<Self, Self::Rejection> {
        let ct = req.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let rid = request_id(req.headers());
        if !ct.starts_with("application/json") && !ct.is_empty() {
            return Err(ApiError::new(
                AppError::new(ErrorCode::UnsupportedMediaType, "send the body as application/json"),
                &rid,
            ));
        }
        let (raw, rid) = read_body(req, JSON_LIMIT).await?;
        let value = serde_json::from_slice(&raw).map_err(|e| {
            let msg = if e.is_syntax() || e.is_eof() {
                format!("the body is not valid JSON: {e}")
            } else {
                format!("the body does not match the expected shape: {e}")
            };
            bad_input("body", msg, &rid)
        })?;
        Ok(JsonBody { value, raw })
    }
}

/// A raw CSV body.
pub struct CsvBody(pub Vec<u8>);

/// Content types under which browsers and tools send CSV files.
const CSV_TYPES: &[&str] =
    &["text/csv", "application/csv", "text/plain", "application/vnd.ms-excel", "application/octet-stream"];

impl FromRequest<AppState> for CsvBody {
    type Rejection = ApiError;
    async fn from_request(req: Request, _: &AppState) -> Result<Self, Self::Rejection> {
        let ct = req.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if !essence.is_empty() && !CSV_TYPES.contains(&essence.as_str()) {
            return Err(ApiError::new(
                AppError::new(ErrorCode::UnsupportedMediaType, "send the file as text/csv (UTF-8)"),
                &request_id(req.headers()),
            ));
        }
        let (raw, _) = read_body(req, CSV_LIMIT).await?;
        Ok(CsvBody(raw))
    }
}

/// Query parameters, rejected as problem+json.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded_from(q)
            .map(Q)
            .map_err(|e| bad_input("query", format!("bad query parameters: {e}"), &request_id(&parts.headers)))
    }
}

pub(crate) fn serde_urlencoded_from<T: DeserializeOwned>(q: &str) -> Result<T, String> {
    axum::extract::Query::<T>::try_from_uri(&format!("/?{q}").parse().map_err(|_| "malformed query".to_string())?)
        .map(|x| x.0)
        .map_err(|e| e.body_text())
}

/// Content types a photo upload may declare (the file itself must be a PNG or JPEG).
const IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/jpg", "application/octet-stream"];

/// A raw image body (label photos), up to [`mailroom_app::scan::MAX_PHOTO_BYTES`]. Read after
/// the handler's permission check, so that callers without the permission hear 403 first.
pub async fn image_body(req: Request) -> Result<Vec<u8>, ApiError> {
    let ct = req.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !IMAGE_TYPES.contains(&essence.as_str()) {
        return Err(ApiError::new(
            AppError::new(ErrorCode::UnsupportedMediaType, "send the photo as image/png or image/jpeg"),
            &request_id(req.headers()),
        ));
    }
    let (raw, rid) = read_body(req, mailroom_app::scan::MAX_PHOTO_BYTES).await?;
    if raw.is_empty() {
        return Err(bad_input("body", "the request has no image", &rid));
    }
    Ok(raw)
}

/// A JSON request body read after the handler's permission check; an empty body is `{}`. A
/// body that does not match is a 422 naming what is wrong.
pub(crate) fn json_from<T: DeserializeOwned>(raw: &[u8], rid: &str) -> Result<T, ApiError> {
    let raw: &[u8] = if raw.iter().all(|b| b.is_ascii_whitespace()) { b"{}" } else { raw };
    serde_json::from_slice(raw).map_err(|e| bad_input("body", format!("the body does not match: {e}"), rid))
}

/// Refuses (403) a caller whose role lacks the permission.
pub(crate) fn require_permission(
    c: &crate::context::Caller,
    p: mailroom_domain::auth::Permission,
) -> Result<(), ApiError> {
    mailroom_domain::auth::require(c.principal.role, p).map_err(|e| ApiError::new(AppError::from(e), &c.ctx.request_id))
}
