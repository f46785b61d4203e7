//! Group robots: the message formats, signatures and answers of WeCom (企业微信), DingTalk (钉钉)
//! and Feishu/Lark (飞书) incoming-webhook robots.

use crate::webhook::hmac_sha256;
use crate::{ConfigError, SendError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

/// Which group robot a webhook URL belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RobotKind {
    /// WeCom (企业微信) group robot: `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`.
    /// No signing secret (the key in the URL is the secret).
    WeCom,
    /// DingTalk (钉钉) custom robot: `https://oapi.dingtalk.com/robot/send?access_token=…`,
    /// optionally with the "加签" signing secret (`SEC…`).
    DingTalk,
    /// Feishu/Lark (飞书) custom bot: `https://open.feishu.cn/open-apis/bot/v2/hook/…`,
    /// optionally with the "签名校验" signing secret.
    Feishu,
}

impl RobotKind {
    pub const ALL: [RobotKind; 3] = [RobotKind::WeCom, RobotKind::DingTalk, RobotKind::Feishu];

    pub fn as_str(self) -> &'static str {
        match self {
            RobotKind::WeCom => "wecom",
            RobotKind::DingTalk => "dingtalk",
            RobotKind::Feishu => "feishu",
        }
    }

    pub fn parse(s: &str) -> Option<RobotKind> {
        RobotKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for RobotKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// DingTalk's signature for a request at `timestamp_ms` (Unix milliseconds): base64 of
/// HMAC-SHA256 over `"{timestamp_ms}\n{secret}"` keyed with the secret. It is sent URL-encoded
/// in the `sign` query parameter, next to `timestamp`.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> Result<String, ConfigError> {
    let secret = secret.trim();
    let msg = format!("{timestamp_ms}\n{secret}");
    Ok(B64.encode(hmac_sha256(secret.as_bytes(), &[msg.as_bytes()])?))
}

/// Feishu's signature for a request at `timestamp_s` (Unix seconds): base64 of HMAC-SHA256
/// keyed with `"{timestamp_s}\n{secret}"` over an empty message. It is sent in the JSON body as
/// `sign`, next to `timestamp` (a string).
pub fn feishu_sign(secret: &str, timestamp_s: i64) -> Result<String, ConfigError> {
    let key = format!("{timestamp_s}\n{}", secret.trim());
    Ok(B64.encode(hmac_sha256(key.as_bytes(), &[])?))
}

/// WeCom refuses markdown longer than 4096 bytes; DingTalk and Feishu allow more, but a
/// notice never needs it.
const MAX_TEXT_BYTES: usize = 4000;

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The URL and JSON body of a robot message.
pub(crate) fn robot_request(
    kind: RobotKind,
    url: &Url,
    secret: Option<&str>,
    title: &str,
    text: &str,
    now_ms: i64,
) -> Result<(Url, Value), ConfigError> {
    let secret = secret.map(str::trim).filter(|s| !s.is_empty());
    let title = truncate(title.trim(), 200);
    let text = truncate(text.trim(), MAX_TEXT_BYTES);
    let mut url = url.clone();
    let body = match kind {
        RobotKind::WeCom => json!({
            "msgtype": "markdown",
            "markdown": { "content": format!("### {title}\n{text}") },
        }),
        RobotKind::DingTalk => {
            if let Some(secret) = secret {
                let sign = dingtalk_sign(secret, now_ms)?;
                let kept: Vec<(String, String)> = url
                    .query_pairs()
                    .filter(|(k, _)| k != "timestamp" && k != "sign")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                url.query_pairs_mut()
                    .clear()
                    .extend_pairs(kept)
                    .append_pair("timestamp", &now_ms.to_string())
                    .append_pair("sign", &sign);
            }
            // DingTalk markdown needs a blank line between paragraphs.
            json!({
                "msgtype": "markdown",
                "markdown": { "title": title, "text": format!("### {title}\n\n{}", text.replace('\n', "\n\n")) },
            })
        }
        RobotKind::Feishu => {
            let lines: Vec<Value> = text.lines().map(|l| json!([{ "tag": "text", "text": l }])).collect();
            let mut body = json!({
                "msg_type": "post",
                "content": { "post": { "zh_cn": { "title": title, "content": lines } } },
            });
            if let (Some(secret), Some(obj)) = (secret, body.as_object_mut()) {
                let ts = now_ms.div_euclid(1000);
                obj.insert("timestamp".into(), Value::String(ts.to_string()));
                obj.insert("sign".into(), Value::String(feishu_sign(secret, ts)?));
            }
            body
        }
    };
    Ok((url, body))
}

/// Judges a robot's answer to an HTTP 2xx: robots report errors in the JSON body.
pub(crate) fn robot_response(kind: RobotKind, body: &[u8]) -> Result<(), SendError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| SendError::Permanent(format!("the {kind} robot did not answer with JSON")))?;
    let field = |name: &str| v.get(name).and_then(Value::as_i64);
    let (code, msg) = match kind {
        RobotKind::WeCom | RobotKind::DingTalk => (field("errcode"), v.get("errmsg")),
        // Newer answers carry `code`/`msg`, older ones `StatusCode`/`StatusMessage`.
        RobotKind::Feishu => match field("code") {
            Some(c) => (Some(c), v.get("msg")),
            None => (field("StatusCode"), v.get("StatusMessage")),
        },
    };
    let msg = msg.and_then(Value::as_str).unwrap_or("").to_string();
    match code {
        Some(0) => Ok(()),
        None => Err(SendError::Permanent(format!("the {kind} robot's answer has no result code"))),
        Some(c) => {
            let busy = match kind {
                // -1: system busy; 45009: rate limit (20 messages a minute per robot).
                RobotKind::WeCom => c == -1 || c == 45009,
                // -1: system busy; 130101: sending too fast (20 a minute).
                RobotKind::DingTalk => c == -1 || c == 130101,
                // 9499 / 11232 / 11233: too many requests.
                RobotKind::Feishu => matches!(c, 9499 | 11232 | 11233),
            };
            let m = format!("the {kind} robot refused the message: {c} {msg}");
            Err(if busy { SendError::Retryable(m) } else { SendError::Permanent(m) })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Known answers computed independently with Python:
    /// ```python
    /// import hmac, hashlib, base64, urllib.parse
    /// s = "SEC0123456789abcdef"; ts = "1700000000000"
    /// base64.b64encode(hmac.new(s.encode(), (ts + "\n" + s).encode(), hashlib.sha256).digest())
    /// # b'TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk='
    /// s = "feishu-secret-xyz"; ts = "1700000000"
    /// base64.b64encode(hmac.new((ts + "\n" + s).encode(), b"", hashlib.sha256).digest())
    /// # b'RpXbw7bncheMXKEHLeETmnhcqsBrZOUBOwyPTuLV4ic='
    /// ```
    #[test]
    fn signatures_known_answers() {
        assert_eq!(
            dingtalk_sign("SEC0123456789abcdef", 1_700_000_000_000).unwrap(),
            "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk="
        );
        assert_eq!(
            feishu_sign("feishu-secret-xyz", 1_700_000_000).unwrap(),
            "RpXbw7bncheMXKEHLeETmnhcqsBrZOUBOwyPTuLV4ic="
        );
    }

    #[test]
    fn dingtalk_request_carries_timestamp_and_url_encoded_sign() {
        let url = Url::parse("https://oapi.dingtalk.com/robot/send?access_token=abc&sign=old").unwrap();
        let (u, body) = robot_request(
            RobotKind::DingTalk,
            &url,
            Some("SEC0123456789abcdef"),
            "到件",
            "第一行\n第二行",
            1_700_000_000_000,
        )
        .unwrap();
        assert_eq!(
            u.query(),
            Some("access_token=abc&timestamp=1700000000000&sign=TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D")
        );
        assert_eq!(body["msgtype"], "markdown");
        assert_eq!(body["markdown"]["title"], "到件");
        assert_eq!(body["markdown"]["text"], "### 到件\n\n第一行\n\n第二行");
    }

    #[test]
    fn feishu_and_wecom_bodies() {
        let url = Url::parse("https://open.feishu.cn/open-apis/bot/v2/hook/x").unwrap();
        let (u, body) =
            robot_request(RobotKind::Feishu, &url, Some("feishu-secret-xyz"), "T", "a\nb", 1_700_000_000_999).unwrap();
        assert_eq!(u, url);
        assert_eq!(body["timestamp"], "1700000000");
        assert_eq!(body["sign"], "RpXbw7bncheMXKEHLeETmnhcqsBrZOUBOwyPTuLV4ic=");
        assert_eq!(body["msg_type"], "post");
        assert_eq!(body["content"]["post"]["zh_cn"]["content"][1][0]["text"], "b");
        let (_, unsigned) = robot_request(RobotKind::Feishu, &url, None, "T", "a", 0).unwrap();
        assert!(unsigned.get("sign").is_none());
        let (_, w) = robot_request(RobotKind::WeCom, &url, None, "T", &"字".repeat(3000), 0).unwrap();
        let content = w["markdown"]["content"].as_str().unwrap();
        assert!(content.len() <= 4096 && content.starts_with("### T\n"));
    }

    #[test]
    fn answers() {
        assert!(robot_response(RobotKind::WeCom, br#"{"errcode":0,"errmsg":"ok"}"#).is_ok());
        assert!(matches!(
            robot_response(RobotKind::WeCom, br#"{"errcode":45009,"errmsg":"api freq out of limit"}"#),
            Err(SendError::Retryable(_))
        ));
        assert!(matches!(
            robot_response(RobotKind::DingTalk, br#"{"errcode":310000,"errmsg":"sign not match"}"#),
            Err(SendError::Permanent(m)) if m.contains("310000")
        ));
        assert!(robot_response(RobotKind::Feishu, br#"{"code":0,"msg":"success","data":{}}"#).is_ok());
        assert!(robot_response(RobotKind::Feishu, br#"{"StatusCode":0,"StatusMessage":"success"}"#).is_ok());
        assert!(matches!(
            robot_response(RobotKind::Feishu, br#"{"code":19021,"msg":"sign match fail"}"#),
            Err(SendError::Permanent(_))
        ));
        assert!(matches!(robot_response(RobotKind::Feishu, b"<html>"), Err(SendError::Permanent(_))));
        assert_eq!(RobotKind::parse("dingtalk"), Some(RobotKind::DingTalk));
        assert_eq!(RobotKind::parse("slack"), None);
    }
}
