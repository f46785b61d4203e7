//! Notification channels: what carries a rendered notice to a person or a group.
//!
//! - [`Mailer`]: e-mail over SMTP (`smtp://` with STARTTLS, `smtps://` with implicit TLS,
//!   optional authentication), multipart text + HTML with an inline QR code.
//! - [`HttpSender`]: signed webhooks ([Standard Webhooks](https://www.standardwebhooks.com/)),
//!   group robots ([`RobotKind`]: WeCom 企业微信, DingTalk 钉钉, Feishu/Lark 飞书) and SMS through
//!   a configurable HTTP provider ([`SmsProvider`]).
//!
//! Every HTTP request goes to an [`HttpTarget`]: a URL and the socket addresses the caller has
//! already vetted (the application's outbound policy refuses private and loopback targets). The
//! client connects only to those addresses, follows no redirects and gives up after 10 seconds.
//!
//! Failures are classified for a job queue ([`SendError`]): worth retrying later (network
//! trouble, time-outs, HTTP 5xx/429, SMTP 4xx), retrying after a delay the receiver asked for
//! (`Retry-After`), or permanent (bad configuration, HTTP 4xx, SMTP 5xx).
//!
//! TLS is rustls with the aws-lc-rs crypto provider and the system's root certificates
//! (rustls-platform-verifier: on Linux the distribution's CA bundle, so an organisation's own CA
//! added there is trusted too).

mod http;
mod robot;
mod sms;
mod smtp;
mod webhook;

pub use http::{HttpSender, HttpTarget};
pub use robot::{RobotKind, dingtalk_sign, feishu_sign};
pub use sms::{SmsBodyFormat, SmsMethod, SmsProvider, SmsSuccess};
pub use smtp::{Email, Mailer, SmtpConfig, SmtpSecurity, message_id_for};
pub use webhook::{generate_webhook_secret, sign_webhook, verify_webhook};

use std::time::Duration;

/// A channel's configuration cannot be used (an SMTP URL, a webhook secret, an SMS provider).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl ConfigError {
    pub(crate) fn new(msg: impl Into<String>) -> ConfigError {
        ConfigError(msg.into())
    }
}

/// Why a notice was not delivered, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// A temporary failure (network, time-out, server busy): try again later.
    #[error("{0}")]
    Retryable(String),
    /// The receiver asked to be called again after this delay (HTTP 429/503 `Retry-After`).
    #[error("{0} (retry after {secs}s)", secs = .1.as_secs())]
    RetryAfter(String, Duration),
    /// Trying again will not help (bad configuration, refused request or address).
    #[error("{0}")]
    Permanent(String),
}

impl SendError {
    /// Whether a later attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, SendError::Permanent(_))
    }

    /// The delay the receiver asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SendError::RetryAfter(_, d) => Some(*d),
            _ => None,
        }
    }

    /// The human-readable reason.
    pub fn message(&self) -> &str {
        match self {
            SendError::Retryable(m) | SendError::RetryAfter(m, _) | SendError::Permanent(m) => m,
        }
    }
}

impl From<ConfigError> for SendError {
    fn from(e: ConfigError) -> SendError {
        SendError::Permanent(e.0)
    }
}

/// Longest delay honoured from a `Retry-After` header.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// Time-out for connecting and for a whole request or SMTP command.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
