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

async fn read_body(req: Request, limit: usize) -> Result<(Vec<u8>, String), ApiError> {
    let rid = request_id(req.headers());
    let bytes = axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| {
        ApiError::new(AppError::new(ErrorCode::PayloadTooLarge, format!("the request body is larger than {limit} bytes")), &rid)
    })?;
    Ok((bytes.to_vec(), rid))
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

impl FromRequest<AppState> for CsvBody {
    type Rejection = ApiError;
    async fn from_request(req: Request, _: &AppState) -> Result<Self, Self::Rejection> {
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
        serde_urlencoded_from(q).map(Q).map_err(|e| bad_input("query", format!("bad query parameters: {e}"), &request_id(&parts.headers)))
    }
}

fn serde_urlencoded_from<T: DeserializeOwned>(q: &str) -> Result<T, String> {
    axum::extract::Query::<T>::try_from_uri(&format!("/?{q}").parse().map_err(|_| "malformed query".to_string())?)
        .map(|x| x.0)
        .map_err(|e| e.body_text())
}
