//! The one mapping from application errors to HTTP: RFC 9457 problem+json for the API,
//! a rendered error page for the console. A 500 shows only the request id; details go to the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mailroom_app::{AppError, RowError};
use mailroom_domain::ErrorCode;
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:mailroom:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `validation_failed`, `invalid_transition`.
    pub code: String,
    /// The offending input field, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Bad rows of an import.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<RowError>>,
    /// `invalid_rules`: the 1-based line and column of the problem in the rule source, and the
    /// rule it is in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub request_id: String,
}

pub fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Validation
        | ErrorCode::UnknownRecipient
        | ErrorCode::IdempotencyMismatch
        | ErrorCode::InvalidRules
        | ErrorCode::TargetRefused => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::InvalidTransition | ErrorCode::Conflict | ErrorCode::SealMismatch => StatusCode::CONFLICT,
        ErrorCode::BudgetExceeded | ErrorCode::InsufficientBalance => StatusCode::CONFLICT,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::Shredded => StatusCode::GONE,
        ErrorCode::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::PdfFontMissing | ErrorCode::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::CustomsIncomplete => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn title_for(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Validation => "Invalid input",
        ErrorCode::NotFound => "Not found",
        ErrorCode::InvalidTransition => "Not allowed in the item's current status",
        ErrorCode::Conflict => "Conflict",
        ErrorCode::Unauthorized => "Authentication required",
        ErrorCode::Forbidden => "Forbidden",
        ErrorCode::UnknownRecipient => "Unknown recipient",
        ErrorCode::PayloadTooLarge => "Payload too large",
        ErrorCode::UnsupportedMediaType => "Unsupported media type",
        ErrorCode::IdempotencyMismatch => "Idempotency key reused",
        ErrorCode::SealMismatch => "Seal number does not match",
        ErrorCode::Shredded => "Destroyed under the retention policy",
        ErrorCode::TooManyAttempts => "Too many attempts",
        ErrorCode::InvalidRules => "Invalid rules",
        ErrorCode::TargetRefused => "Target not allowed",
        ErrorCode::BudgetExceeded => "Budget exceeded",
        ErrorCode::InsufficientBalance => "Insufficient balance",
        ErrorCode::PdfFontMissing => "No font installed for PDF documents",
        ErrorCode::CustomsIncomplete => "Customs declaration incomplete",
        ErrorCode::StoreUnavailable => "Database unavailable",
        ErrorCode::Internal => "Internal error",
    }
}

/// An error on its way to an API client.
#[derive(Debug)]
pub struct ApiError {
    pub error: AppError,
    pub request_id: String,
}

impl ApiError {
    pub fn new(error: impl Into<AppError>, request_id: &str) -> ApiError {
        ApiError { error: error.into(), request_id: request_id.to_string() }
    }

    pub fn problem(&self) -> Problem {
        let code = self.error.code();
        let status = status_for(code);
        let mut at = (None, None, None);
        let (detail, field, errors) = match &self.error {
            AppError::Domain(d) => (d.message.clone(), d.field.clone(), None),
            AppError::Rules(r) => {
                at = (r.line, r.column, r.rule.clone());
                (r.to_string(), Some("source".to_string()), None)
            }
            AppError::Rows(rows) => (self.error.to_string(), None, Some(rows.clone())),
            AppError::Throttled { .. } => (self.error.to_string(), None, None),
            AppError::Unavailable(_) => (
                format!(
                    "the database cannot be reached at the moment; nothing was done, try again in {UNAVAILABLE_RETRY_AFTER} seconds"
                ),
                None,
                None,
            ),
            AppError::Internal(_) => {
                (format!("something went wrong; quote request id {}", self.request_id), None, None)
            }
        };
        Problem {
            kind: format!("urn:mailroom:problem:{}", code.as_str()),
            title: title_for(code).to_string(),
            status: status.as_u16(),
            detail,
            code: code.as_str().to_string(),
            field,
            errors,
            line: at.0,
            column: at.1,
            rule: at.2,
            request_id: self.request_id.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        log_failure(&self.error, &self.request_id);
        let p = self.problem();
        let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&p).unwrap_or_default();
        let mut r = (status, body).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(v) = retry_after(&self.error) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

/// Logs what the caller is not told: an internal error's details (an error), or why the database
/// was unavailable (a warning), under the request id. The caller's own mistakes are not logged.
pub fn log_failure(e: &AppError, request_id: &str) {
    match e {
        AppError::Internal(msg) => tracing::error!(request_id = %request_id, error = %msg, "internal error"),
        AppError::Unavailable(msg) => tracing::warn!(request_id = %request_id, error = %msg, "database unavailable"),
        _ => {}
    }
}

/// Seconds a client is asked to wait when the database is unavailable: long enough for a
/// restarted PostgreSQL to accept connections again, short enough for a scanner's retry.
pub const UNAVAILABLE_RETRY_AFTER: u64 = 5;

/// The `Retry-After` header (seconds) for a throttled request, or while the database is
/// unavailable.
pub fn retry_after(e: &AppError) -> Option<HeaderValue> {
    match e {
        AppError::Throttled { retry_after } => Some(HeaderValue::from(*retry_after)),
        AppError::Unavailable(_) => Some(HeaderValue::from(UNAVAILABLE_RETRY_AFTER)),
        _ => None,
    }
}

/// Builds an error for a malformed request body or query (before it reaches the app).
pub fn bad_input(field: &str, message: impl Into<String>, request_id: &str) -> ApiError {
    ApiError::new(mailroom_domain::DomainError::invalid(field, message), request_id)
}
