use mailroom_domain::{DomainError, ErrorCode};
use mailroom_store::StoreError;

/// The application's error: either the caller's fault (a [`DomainError`] with a stable code)
/// or an internal failure whose details must only go to the log.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Some rows of an import are bad; nothing was written.
    #[error("{} rows are invalid; nothing was imported", .0.len())]
    Rows(Vec<RowError>),
    /// Too many failed attempts; the caller may try again after `retry_after` seconds.
    #[error("too many failed attempts; try again in {retry_after} seconds")]
    Throttled { retry_after: u64 },
    /// A rule set is not valid: where and why.
    #[error("the rules are not valid: {0}")]
    Rules(mailroom_domain::rules::RuleError),
    /// The database cannot be reached for the moment; the details go to the log.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// One bad row of an imported file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    pub reason: String,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Domain(d) => d.code,
            AppError::Rows(_) => ErrorCode::Validation,
            AppError::Throttled { .. } => ErrorCode::TooManyAttempts,
            AppError::Rules(_) => ErrorCode::InvalidRules,
            AppError::Unavailable(_) => ErrorCode::StoreUnavailable,
            AppError::Internal(_) => ErrorCode::Internal,
        }
    }
    pub fn new(code: ErrorCode, msg: impl Into<String>) -> AppError {
        AppError::Domain(DomainError::new(code, msg))
    }
    pub fn not_found(what: &str) -> AppError {
        AppError::Domain(DomainError::not_found(what))
    }
    pub fn forbidden() -> AppError {
        AppError::new(ErrorCode::Forbidden, "your role does not allow this")
    }
}

impl From<mailroom_domain::rules::RuleError> for AppError {
    fn from(e: mailroom_domain::rules::RuleError) -> Self {
        AppError::Rules(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => AppError::Domain(d),
            StoreError::NotFound => AppError::not_found("record"),
            StoreError::Stale => AppError::new(ErrorCode::Conflict, e.to_string()),
            StoreError::Duplicate(what) => AppError::new(ErrorCode::Conflict, format!("already exists: {what}")),
            other if other.is_unavailable() => AppError::Unavailable(other.to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}
