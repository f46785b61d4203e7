//! HTTP channels: signed webhooks, group robots and SMS providers.

use crate::robot::{robot_request, robot_response};
use crate::webhook::sign_webhook;
use crate::{MAX_RETRY_AFTER, RobotKind, SendError, SmsMethod, SmsProvider, TIMEOUT, unix_now};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use url::Url;

/// Where an HTTP notice goes: the URL and the socket addresses it was vetted with. Requests
/// connect only to these addresses (never resolving the host again), so a DNS answer that
/// changed since vetting cannot send them elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget {
    pub url: Url,
    pub addrs: Vec<SocketAddr>,
}

/// Largest response body read (robots and SMS providers answer with a few hundred bytes).
const MAX_RESPONSE: usize = 64 * 1024;

/// Sends HTTP notices: one short-lived client per request, pinned to the target's addresses,
/// HTTP/1.1, no proxy, no redirects, 10-second time-outs.
#[derive(Debug, Clone)]
pub struct HttpSender {
    user_agent: String,
    timeout: Duration,
}

impl Default for HttpSender {
    fn default() -> HttpSender {
        HttpSender::new()
    }
}

struct Response {
    body: Vec<u8>,
}

impl HttpSender {
    pub fn new() -> HttpSender {
        HttpSender { user_agent: format!("mailroom/{}", env!("CARGO_PKG_VERSION")), timeout: TIMEOUT }
    }

    /// The same sender with another time-out (connect and whole request).
    pub fn with_timeout(mut self, timeout: Duration) -> HttpSender {
        self.timeout = timeout;
        self
    }

    /// A client that reaches `url`'s host only at the target's vetted addresses.
    fn client(&self, target: &HttpTarget, url: &Url) -> Result<reqwest::Client, SendError> {
        let host = url.host_str().ok_or_else(|| SendError::Permanent("the URL has no host".into()))?;
        if url.host_str() != target.url.host_str() || url.port_or_known_default() != target.url.port_or_known_default()
        {
            return Err(SendError::Permanent(format!("{host} is not the vetted host {:?}", target.url.host_str())));
        }
        if target.addrs.is_empty() {
            return Err(SendError::Permanent(format!("no vetted address for {host}")));
        }
        if let Some(ip) =
            url.host_str().and_then(|h| h.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok())
            && !target.addrs.iter().any(|a| a.ip() == ip)
        {
            return Err(SendError::Permanent(format!("{ip} is not among the vetted addresses")));
        }
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .no_proxy()
            .http1_only()
            .user_agent(self.user_agent.clone())
            .resolve_to_addrs(host, &target.addrs)
            .build()
            .map_err(|e| SendError::Permanent(format!("HTTP client: {e}")))
    }

    async fn execute(
        &self,
        target: &HttpTarget,
        method: Method,
        url: Url,
        headers: HeaderMap,
        body: Option<Vec<u8>>,
    ) -> Result<Response, SendError> {
        let client = self.client(target, &url)?;
        let shown = format!("{}://{}{}", url.scheme(), url.host_str().unwrap_or(""), url.path());
        let mut req = client.request(method, url).headers(headers);
        if let Some(body) = body {
            req = req.body(body);
        }
        let mut resp = req.send().await.map_err(|e| request_error(&shown, &e))?;
        let status = resp.status();
        let retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| request_error(&shown, &e))? {
            let room = MAX_RESPONSE.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if room <= chunk.len() {
                break;
            }
        }
        classify_status(&shown, status, retry_after, &body)?;
        Ok(Response { body })
    }

    /// Posts `payload` as JSON to a webhook, signed per Standard Webhooks with `secret`
    /// (`whsec_…`): headers `webhook-id` (`id`, the same on every retry so receivers can drop
    /// repeats), `webhook-timestamp` and `webhook-signature`. Any 2xx answer is success.
    pub async fn post_webhook(
        &self,
        target: &HttpTarget,
        secret: &str,
        id: &str,
        payload: &serde_json::Value,
    ) -> Result<(), SendError> {
        if id.is_empty() || id.len() > 256 || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SendError::Permanent(format!("{id:?} is not a webhook message id")));
        }
        let body = serde_json::to_vec(payload).map_err(|e| SendError::Permanent(e.to_string()))?;
        let ts = unix_now();
        let signature = sign_webhook(secret, id, ts, &body)?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("webhook-id", header_value(id)?);
        headers.insert("webhook-timestamp", header_value(&ts.to_string())?);
        headers.insert("webhook-signature", header_value(&signature)?);
        self.execute(target, Method::POST, target.url.clone(), headers, Some(body)).await.map(|_| ())
    }

    /// Posts a message to a group robot: a title and a text (markdown for WeCom and DingTalk,
    /// a rich-text post for Feishu), signed with the robot's secret when one is given (DingTalk
    /// and Feishu; WeCom has none). The robot's `errcode`/`code` decides success.
    pub async fn post_robot(
        &self,
        target: &HttpTarget,
        kind: RobotKind,
        secret: Option<&str>,
        title: &str,
        text: &str,
    ) -> Result<(), SendError> {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let (url, body) = robot_request(kind, &target.url, secret, title, text, now_ms)?;
        let body = serde_json::to_vec(&body).map_err(|e| SendError::Permanent(e.to_string()))?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        let resp = self.execute(target, Method::POST, url, headers, Some(body)).await?;
        robot_response(kind, &resp.body)
    }

    /// Sends a text message through an SMS provider. `target` is the provider's URL host,
    /// vetted; the URL filled in from the provider's template must stay on that host.
    pub async fn send_sms(
        &self,
        provider: &SmsProvider,
        target: &HttpTarget,
        phone: &str,
        text: &str,
    ) -> Result<(), SendError> {
        provider.validate()?;
        let req = provider.request(phone, text)?;
        let mut headers = HeaderMap::new();
        for (name, value) in &provider.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| SendError::Permanent(format!("{name:?} is not a header name")))?;
            headers.insert(name, header_value(value)?);
        }
        let body = match req.body {
            Some((body, content_type)) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
                Some(body.into_bytes())
            }
            None => None,
        };
        let method = match provider.method {
            SmsMethod::Post => Method::POST,
            SmsMethod::Put => Method::PUT,
            SmsMethod::Get => Method::GET,
        };
        let resp = self.execute(target, method, req.url, headers, body).await?;
        provider.accepted(&resp.body)
    }
}

fn header_value(v: &str) -> Result<HeaderValue, SendError> {
    HeaderValue::from_str(v).map_err(|_| SendError::Permanent(format!("{v:?} cannot be sent in a header")))
}

fn request_error(shown: &str, e: &reqwest::Error) -> SendError {
    if e.is_builder() {
        SendError::Permanent(format!("{shown}: {e}"))
    } else if e.is_timeout() {
        SendError::Retryable(format!("{shown}: no answer within the time limit"))
    } else if e.is_connect() {
        SendError::Retryable(format!("{shown}: cannot connect: {e}"))
    } else {
        SendError::Retryable(format!("{shown}: {e}"))
    }
}

/// `Retry-After` in seconds (an HTTP date is not honoured: the default back-off applies).
fn parse_retry_after(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER))
}

/// 2xx: success. 408, 429 and 5xx: retry (after `Retry-After` when given). Anything else
/// (3xx — redirects are not followed — and other 4xx): permanent.
fn classify_status(
    shown: &str,
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<(), SendError> {
    if status.is_success() {
        return Ok(());
    }
    let snippet: String =
        String::from_utf8_lossy(&body[..body.len().min(200)]).chars().filter(|c| !c.is_control()).collect();
    let msg = format!("{shown} answered {status} {snippet}").trim_end().to_string();
    let retry =
        status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT;
    Err(match (retry, retry_after) {
        (true, Some(after)) => SendError::RetryAfter(msg, after),
        (true, None) => SendError::Retryable(msg),
        (false, _) if status.is_redirection() => SendError::Permanent(format!("{msg} (redirects are not followed)")),
        (false, _) => SendError::Permanent(msg),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn status_classes() {
        let c = |s: u16, ra: Option<u64>| {
            classify_status("u", StatusCode::from_u16(s).unwrap(), ra.map(Duration::from_secs), b"")
        };
        assert!(c(200, None).is_ok());
        assert!(c(204, None).is_ok());
        assert!(matches!(c(500, None), Err(SendError::Retryable(_))));
        assert!(matches!(c(503, Some(30)), Err(SendError::RetryAfter(_, d)) if d == Duration::from_secs(30)));
        assert!(matches!(c(429, Some(7)), Err(SendError::RetryAfter(_, d)) if d == Duration::from_secs(7)));
        assert!(matches!(c(429, None), Err(SendError::Retryable(_))));
        assert!(matches!(c(408, None), Err(SendError::Retryable(_))));
        assert!(matches!(c(400, Some(5)), Err(SendError::Permanent(_))));
        assert!(matches!(c(404, None), Err(SendError::Permanent(_))));
        assert!(matches!(c(302, None), Err(SendError::Permanent(m)) if m.contains("redirect")));
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn requests_stay_on_the_vetted_host() {
        let s = HttpSender::new();
        let t = HttpTarget {
            url: Url::parse("https://hooks.example.com/x").unwrap(),
            addrs: vec!["93.184.216.34:443".parse().unwrap()],
        };
        assert!(s.client(&t, &Url::parse("https://hooks.example.com/y?z=1").unwrap()).is_ok());
        assert!(s.client(&t, &Url::parse("https://other.example.com/x").unwrap()).is_err());
        assert!(s.client(&t, &Url::parse("https://hooks.example.com:8443/x").unwrap()).is_err());
        let empty = HttpTarget { url: t.url.clone(), addrs: vec![] };
        assert!(s.client(&empty, &t.url).is_err());
        let ip = HttpTarget {
            url: Url::parse("http://10.0.0.1/x").unwrap(),
            addrs: vec!["93.184.216.34:80".parse().unwrap()],
        };
        assert!(s.client(&ip, &ip.url).is_err());
    }
}
