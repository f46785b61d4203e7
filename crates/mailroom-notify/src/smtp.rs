//! E-mail over SMTP.
//!
//! The server is given as a URL (`MAILROOM_SMTP_URL`):
//!
//! - `smtp://host[:port][?tls=required|opportunistic|none]` — a plain connection upgraded with
//!   STARTTLS: `required` refuses to go on without it, `opportunistic` uses it when the server
//!   offers it, `none` never does. The default is `opportunistic`, or `required` when a user
//!   name and password are given (a password is never sent in the clear unless `tls=none` or
//!   `tls=opportunistic` says so). The default port is 25.
//! - `smtps://host[:port]` — implicit TLS from the first byte. The default port is 465.
//! - `user:password@` before the host logs in (SMTP AUTH PLAIN or LOGIN); both are
//!   percent-decoded, so a `@` in a password is written `%40`.
//!
//! The sender (`MAILROOM_SMTP_FROM`) is an address with an optional display name:
//! `mailroom@example.com` or `Mailroom 收发室 <mailroom@example.com>`.

use crate::{ConfigError, SendError, TIMEOUT};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `smtp://…?tls=required`: STARTTLS or no delivery.
    StartTlsRequired,
    /// `smtp://…?tls=opportunistic`: STARTTLS when offered, else plain.
    StartTlsOpportunistic,
    /// `smtp://…?tls=none`: plain text only (a trusted local relay).
    None,
}

impl SmtpSecurity {
    fn as_query(self) -> Option<&'static str> {
        match self {
            SmtpSecurity::Implicit => None,
            SmtpSecurity::StartTlsRequired => Some("required"),
            SmtpSecurity::StartTlsOpportunistic => Some("opportunistic"),
            SmtpSecurity::None => Some("none"),
        }
    }
}

/// A parsed SMTP server URL and sender. `Debug` never shows the password.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    user: Option<String>,
    password: Option<String>,
    from: Mailbox,
    extra_roots: Vec<Vec<u8>>,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from.to_string())
            .finish()
    }
}

fn percent_decode(s: &str) -> Result<String, ConfigError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(b) = hex else {
                return Err(ConfigError::new("the SMTP URL has a bad %-escape in its user name or password"));
            };
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ConfigError::new("the SMTP user name or password is not UTF-8"))
}

impl SmtpConfig {
    /// Parses `MAILROOM_SMTP_URL` and `MAILROOM_SMTP_FROM` (see the module docs).
    pub fn parse(url: &str, from: &str) -> Result<SmtpConfig, ConfigError> {
        let u = url::Url::parse(url.trim()).map_err(|e| ConfigError::new(format!("the SMTP URL is not valid: {e}")))?;
        let implicit = match u.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => {
                return Err(ConfigError::new(format!(
                    "the SMTP URL must start with smtp:// or smtps://, not {other}://"
                )));
            }
        };
        let host = u.host_str().map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string());
        let host = host.filter(|h| !h.is_empty()).ok_or_else(|| ConfigError::new("the SMTP URL has no host"))?;
        if !matches!(u.path(), "" | "/") || u.fragment().is_some() {
            return Err(ConfigError::new("the SMTP URL has no path: smtp://[user:password@]host[:port][?tls=…]"));
        }
        let port = u.port().unwrap_or(if implicit { 465 } else { 25 });
        if port == 0 {
            return Err(ConfigError::new("the SMTP port cannot be 0"));
        }
        let user = Some(percent_decode(u.username())?).filter(|s| !s.is_empty());
        let password = u.password().map(percent_decode).transpose()?;
        if password.is_some() && user.is_none() {
            return Err(ConfigError::new("the SMTP URL has a password but no user name"));
        }
        let mut tls = None;
        for (k, v) in u.query_pairs() {
            match (k.as_ref(), v.as_ref()) {
                ("tls", v) if tls.is_none() => tls = Some(v.to_ascii_lowercase()),
                (k, _) => {
                    return Err(ConfigError::new(format!("the SMTP URL has an unknown or repeated parameter {k:?}")));
                }
            }
        }
        let security = match (implicit, tls.as_deref()) {
            (true, None) => SmtpSecurity::Implicit,
            (true, Some(_)) => {
                return Err(ConfigError::new("smtps:// is always TLS; the tls parameter belongs to smtp:// URLs"));
            }
            (false, Some("required" | "starttls")) => SmtpSecurity::StartTlsRequired,
            (false, Some("opportunistic")) => SmtpSecurity::StartTlsOpportunistic,
            (false, Some("none")) => SmtpSecurity::None,
            (false, Some(other)) => {
                return Err(ConfigError::new(format!("tls={other} is not one of required, opportunistic or none")));
            }
            (false, None) if user.is_some() => SmtpSecurity::StartTlsRequired,
            (false, None) => SmtpSecurity::StartTlsOpportunistic,
        };
        let from = Mailbox::from_str(from.trim()).map_err(|e| {
            ConfigError::new(format!("MAILROOM_SMTP_FROM is not an address like \"Mailroom <mail@example.com>\": {e}"))
        })?;
        Ok(SmtpConfig { host, port, security, user, password, from, extra_roots: Vec::new() })
    }

    /// Also trusts the CA certificate(s) in `pem` for this server (an organisation's own CA that
    /// is not in the system store).
    pub fn with_root_certificate_pem(mut self, pem: &[u8]) -> Result<SmtpConfig, ConfigError> {
        Certificate::from_pem(pem).map_err(|e| ConfigError::new(format!("not a PEM certificate: {e}")))?;
        self.extra_roots.push(pem.to_vec());
        Ok(self)
    }

    /// The user name, if the server is logged in to.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The sender, as written in the `From` header.
    pub fn from(&self) -> String {
        self.from.to_string()
    }

    /// The URL without the password, for logs and status pages.
    pub fn redacted_url(&self) -> String {
        let scheme = if self.security == SmtpSecurity::Implicit { "smtps" } else { "smtp" };
        let user = self.user.as_deref().map(|u| format!("{u}:***@")).unwrap_or_default();
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let query = self.security.as_query().map(|q| format!("?tls={q}")).unwrap_or_default();
        format!("{scheme}://{user}{host}:{}{query}", self.port)
    }

    /// The Message-ID for the message sent for a job with `idempotency_key` (see
    /// [`message_id_for`]), in the sender's domain.
    pub fn message_id(&self, idempotency_key: &str) -> String {
        message_id_for(idempotency_key, self.from.email.domain())
    }
}

/// A Message-ID derived from a job's idempotency key: the same notice sent twice (a retry after
/// an unclear failure) carries the same Message-ID, so receiving systems can drop the copy.
/// `<{32 hex digits of SHA-256(key)}@{domain}>`.
pub fn message_id_for(idempotency_key: &str, domain: &str) -> String {
    let digest = Sha256::digest(idempotency_key.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("<{hex}@{domain}>")
}

/// One e-mail message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub to_name: Option<String>,
    pub subject: String,
    pub text: String,
    /// An HTML alternative of `text`; it may show the inline image with `<img src="cid:…">`.
    pub html: Option<String>,
    /// A PNG image shown inline: (content id without `cid:`, the PNG's bytes).
    pub inline_png: Option<(String, Vec<u8>)>,
    /// `<…@…>`, see [`message_id_for`]; angle brackets are added when missing.
    pub message_id: String,
    /// The language tag for `Content-Language`, such as `zh-CN` or `en`.
    pub language: String,
}

#[derive(Debug, Clone)]
struct ContentLanguage(String);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ContentLanguage(s.trim().to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

fn valid_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first_ok =
        parts.next().is_some_and(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    first_ok && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn valid_content_id(cid: &str) -> bool {
    !cid.is_empty() && cid.len() <= 200 && cid.bytes().all(|b| b.is_ascii_graphic() && !b"<>\"()[],;:\\".contains(&b))
}

impl Email {
    /// The message as it goes on the wire, from `from`.
    fn build(&self, from: &Mailbox) -> Result<Message, SendError> {
        let bad = |m: String| SendError::Permanent(m);
        let addr = Address::from_str(self.to.trim())
            .map_err(|e| bad(format!("{:?} is not an e-mail address: {e}", self.to)))?;
        let to_name = self.to_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
        let id = self.message_id.trim();
        let id = if id.starts_with('<') { id.to_string() } else { format!("<{id}>") };
        if id.len() < 5 || !id.ends_with('>') || !id.contains('@') || id.bytes().any(|b| !b.is_ascii_graphic()) {
            return Err(bad(format!("{id:?} is not a Message-ID")));
        }
        let language = self.language.trim();
        if !valid_language(language) {
            return Err(bad(format!("{language:?} is not a language tag")));
        }
        let subject = self.subject.replace(['\r', '\n'], " ");
        let builder = Message::builder()
            .from(from.clone())
            .to(Mailbox::new(to_name, addr))
            .subject(subject)
            .message_id(Some(id))
            .header(ContentLanguage(language.to_string()));
        let image = match &self.inline_png {
            Some((cid, png)) => {
                if !valid_content_id(cid) {
                    return Err(bad(format!("{cid:?} is not a content id")));
                }
                let png_type = ContentType::parse("image/png").map_err(|e| bad(e.to_string()))?;
                Some(Attachment::new_inline(cid.clone()).body(png.clone(), png_type))
            }
            None => None,
        };
        let text = SinglePart::plain(self.text.clone());
        let built = match (&self.html, image) {
            (None, None) => builder.singlepart(text),
            (Some(html), None) => {
                builder.multipart(MultiPart::alternative().singlepart(text).singlepart(SinglePart::html(html.clone())))
            }
            (Some(html), Some(image)) => builder.multipart(
                MultiPart::alternative()
                    .singlepart(text)
                    .multipart(MultiPart::related().singlepart(SinglePart::html(html.clone())).singlepart(image)),
            ),
            (None, Some(image)) => builder.multipart(MultiPart::mixed().singlepart(text).singlepart(image)),
        };
        built.map_err(|e| bad(format!("the message cannot be built: {e}")))
    }

    /// The message's bytes as they would be sent (for previews and tests).
    pub fn to_bytes(&self, from: &SmtpConfig) -> Result<Vec<u8>, SendError> {
        Ok(self.build(&from.from)?.formatted())
    }
}

/// Sends e-mail through one SMTP server. Cheap to clone; each message uses a new connection.
#[derive(Clone)]
pub struct Mailer {
    config: SmtpConfig,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer").field("config", &self.config).finish()
    }
}

impl Mailer {
    pub fn new(config: SmtpConfig) -> Result<Mailer, ConfigError> {
        let tls_parameters = || -> Result<TlsParameters, ConfigError> {
            let mut b = TlsParameters::builder(config.host.clone());
            for pem in &config.extra_roots {
                let cert =
                    Certificate::from_pem(pem).map_err(|e| ConfigError::new(format!("not a PEM certificate: {e}")))?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls().map_err(|e| ConfigError::new(format!("TLS cannot be set up: {e}")))
        };
        let tls = match config.security {
            SmtpSecurity::Implicit => Tls::Wrapper(tls_parameters()?),
            SmtpSecurity::StartTlsRequired => Tls::Required(tls_parameters()?),
            SmtpSecurity::StartTlsOpportunistic => Tls::Opportunistic(tls_parameters()?),
            SmtpSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
            .port(config.port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        if let Some(user) = &config.user {
            builder = builder.credentials(Credentials::new(user.clone(), config.password.clone().unwrap_or_default()));
        }
        Ok(Mailer { transport: builder.build(), config })
    }

    pub fn config(&self) -> &SmtpConfig {
        &self.config
    }

    /// Sends one message. SMTP 5xx answers (a refused address, failed login) are permanent;
    /// 4xx answers, refused or broken connections, TLS trouble and time-outs are worth retrying.
    pub async fn send(&self, email: &Email) -> Result<(), SendError> {
        let message = email.build(&self.config.from)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => Err(classify(&e)),
        }
    }

    /// Connects, greets and says goodbye: whether the server is reachable and answers.
    pub async fn test_connection(&self) -> Result<(), SendError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(SendError::Retryable(format!("{} did not answer", self.config.redacted_url()))),
            Err(e) => Err(classify(&e)),
        }
    }
}

fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    let msg = format!("SMTP: {e}");
    if e.is_permanent() || e.is_client() { SendError::Permanent(msg) } else { SendError::Retryable(msg) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        let c = SmtpConfig::parse("smtp://relay.local", "mail@example.com").unwrap();
        assert_eq!((c.host.as_str(), c.port, c.security), ("relay.local", 25, SmtpSecurity::StartTlsOpportunistic));
        assert_eq!(c.user(), None);
        let c = SmtpConfig::parse("smtps://smtp.example.com", "mail@example.com").unwrap();
        assert_eq!((c.port, c.security), (465, SmtpSecurity::Implicit));
        let c = SmtpConfig::parse("smtp://u%40x.cn:p%40ss%3Aw0rd@smtp.example.com:587", "mail@example.com").unwrap();
        assert_eq!((c.port, c.security), (587, SmtpSecurity::StartTlsRequired), "credentials make STARTTLS required");
        assert_eq!(c.user(), Some("u@x.cn"));
        assert_eq!(c.password.as_deref(), Some("p@ss:w0rd"));
        let c = SmtpConfig::parse("smtp://u:p@127.0.0.1:2525?tls=none", "mail@example.com").unwrap();
        assert_eq!((c.host.as_str(), c.security), ("127.0.0.1", SmtpSecurity::None));
        let c = SmtpConfig::parse("smtp://[::1]:2525/?tls=Required", "mail@example.com").unwrap();
        assert_eq!((c.host.as_str(), c.security), ("::1", SmtpSecurity::StartTlsRequired));
        assert_eq!(c.redacted_url(), "smtp://[::1]:2525?tls=required");
    }

    #[test]
    fn bad_urls() {
        for url in [
            "http://smtp.example.com",
            "smtp://",
            "smtps://h?tls=none",
            "smtp://h?tls=maybe",
            "smtp://h?tls=none&tls=required",
            "smtp://h?timeout=3",
            "smtp://h/path",
            "smtp://h:0",
            "smtp://:pw@h",
            "smtp://u:%zz@h",
            "not a url",
        ] {
            assert!(SmtpConfig::parse(url, "mail@example.com").is_err(), "{url}");
        }
        assert!(SmtpConfig::parse("smtp://h", "not an address").is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let c = SmtpConfig::parse("smtp://user:s3cr3t@h:587", "Mailroom 收发室 <mail@example.com>").unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("s3cr3t") && d.contains("redacted"), "{d}");
        assert!(!c.redacted_url().contains("s3cr3t"));
        assert_eq!(c.redacted_url(), "smtp://user:***@h:587?tls=required");
    }

    #[test]
    fn message_ids_follow_the_key() {
        let a = message_id_for("notice:t:1:p:email", "example.com");
        assert_eq!(a, message_id_for("notice:t:1:p:email", "example.com"));
        assert_ne!(a, message_id_for("notice:t:2:p:email", "example.com"));
        assert!(a.starts_with('<') && a.ends_with("@example.com>") && a.len() == 1 + 32 + 13);
    }

    fn email() -> Email {
        Email {
            to: "zhang.wei@example.com".into(),
            to_name: Some("张伟".into()),
            subject: "您有一件新到邮件 A7K-22\r\nBcc: x@y".into(),
            text: "请到收发室取件。".into(),
            html: Some("<p>请到收发室取件。</p><img src=\"cid:qr\">".into()),
            inline_png: Some(("qr".into(), b"\x89PNG\r\n\x1a\nfake".to_vec())),
            message_id: "abc@example.com".into(),
            language: "zh-CN".into(),
        }
    }

    #[test]
    fn message_structure() {
        let cfg = SmtpConfig::parse("smtp://h", "Mailroom <mail@example.com>").unwrap();
        let raw = String::from_utf8(email().to_bytes(&cfg).unwrap()).unwrap();
        assert!(raw.contains("Message-ID: <abc@example.com>\r\n"), "{raw}");
        assert!(raw.contains("Content-Language: zh-CN\r\n"));
        assert!(raw.contains("multipart/alternative") && raw.contains("multipart/related"));
        assert!(raw.contains("Content-ID: <qr>"));
        assert!(!raw.contains("\r\nBcc:"), "a line break in the subject cannot add a header");
        assert!(raw.contains("Subject: =?utf-8?"));
        let mut bad = email();
        bad.language = "zh CN".into();
        assert!(matches!(bad.to_bytes(&cfg), Err(SendError::Permanent(_))));
        let mut bad = email();
        bad.to = "nobody".into();
        assert!(matches!(bad.to_bytes(&cfg), Err(SendError::Permanent(_))));
        let mut plain = email();
        plain.html = None;
        plain.inline_png = None;
        let raw = String::from_utf8(plain.to_bytes(&cfg).unwrap()).unwrap();
        assert!(!raw.contains("multipart"));
    }
}
