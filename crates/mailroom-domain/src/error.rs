use std::fmt;

/// Stable machine-readable error codes. They appear in problem+json bodies and CLI output,
/// so existing values must never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    Validation,
    NotFound,
    InvalidTransition,
    Conflict,
    Unauthorized,
    Forbidden,
    UnknownRecipient,
    PayloadTooLarge,
    UnsupportedMediaType,
    IdempotencyMismatch,
    SealMismatch,
    /// The material was destroyed under a retention policy (its data key was shredded).
    Shredded,
    /// Too many failed attempts: wait before trying again.
    TooManyAttempts,
    /// A classification and routing rule set (or fixture file) is not valid; the problem names
    /// the line, column and rule.
    InvalidRules,
    /// An outbound target (webhook, robot or SMS provider URL) is refused: not public, or not a
    /// valid http(s) URL; the problem names why.
    TargetRefused,
    /// A postage charge would take a cost centre past its hard monthly limit; nothing was charged.
    BudgetExceeded,
    /// A postage account does not hold enough for the charge; nothing was charged.
    InsufficientBalance,
    /// No font to set PDF documents in is installed on the server (a configuration problem,
    /// not the caller's fault): the problem names the paths tried.
    PdfFontMissing,
    /// An outbound item's customs declaration is missing, wrong, or names prohibited goods or
    /// goods whose certificates are not enclosed: it cannot be requested or accepted for dispatch.
    CustomsIncomplete,
    /// The database cannot be reached for the moment (restarting, cut off, out of
    /// connections): nothing was done; try again after `Retry-After` seconds.
    StoreUnavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Validation => "validation_failed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::InvalidTransition => "invalid_transition",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::UnknownRecipient => "unknown_recipient",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::IdempotencyMismatch => "idempotency_key_reused",
            ErrorCode::SealMismatch => "seal_mismatch",
            ErrorCode::Shredded => "shredded",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::InvalidRules => "invalid_rules",
            ErrorCode::TargetRefused => "target_refused",
            ErrorCode::BudgetExceeded => "budget_exceeded",
            ErrorCode::InsufficientBalance => "insufficient_balance",
            ErrorCode::PdfFontMissing => "pdf_font_missing",
            ErrorCode::CustomsIncomplete => "customs_incomplete",
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::Internal => "internal_error",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error found by the domain rules: always the caller's fault, never an internal failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DomainError {
    pub code: ErrorCode,
    pub message: String,
    /// The offending field, when one input field is to blame.
    pub field: Option<String>,
}

impl DomainError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        DomainError { code, message: message.into(), field: None }
    }
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        DomainError { code: ErrorCode::Validation, message: message.into(), field: Some(field.to_string()) }
    }
    pub fn not_found(what: &str) -> Self {
        DomainError::new(ErrorCode::NotFound, format!("{what} not found"))
    }
}
