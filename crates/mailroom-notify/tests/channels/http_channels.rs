//! Webhooks, robots and SMS against a real HTTP receiver on 127.0.0.1: what arrived (method,
//! path, query, headers, body) and how answers are classified.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use mailroom_notify::{
    HttpSender, HttpTarget, RobotKind, SendError, SmsProvider, dingtalk_sign, feishu_sign, generate_webhook_secret,
    verify_webhook,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    query: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn query_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }
}

/// What the receiver answers on a path: status, headers, body, and a delay before answering.
#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

fn answer(status: u16, body: &str) -> Answer {
    Answer { status, headers: vec![], body: body.into(), delay: Duration::ZERO }
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
}

async fn record(State(r): State<Receiver>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    r.got.lock().unwrap().push(Received {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
        headers: headers.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect(),
        body: body.to_vec(),
    });
    let a = r.answers.lock().unwrap().get(uri.path()).cloned().unwrap_or_else(|| answer(200, "{}"));
    tokio::time::sleep(a.delay).await;
    let mut resp = (StatusCode::from_u16(a.status).unwrap(), a.body).into_response();
    for (k, v) in a.headers {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}

impl Receiver {
    async fn start() -> (Receiver, SocketAddr) {
        let r = Receiver::default();
        let app = axum::Router::new().fallback(record).with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (r, addr)
    }
    fn answer(&self, path: &str, a: Answer) {
        self.answers.lock().unwrap().insert(path.into(), a);
    }
    fn received(&self, path: &str) -> Vec<Received> {
        self.got.lock().unwrap().iter().filter(|g| g.path == path).cloned().collect()
    }
}

/// A target under a host name that does not resolve: only the pinned address can be reached.
fn target(addr: SocketAddr, path_and_query: &str) -> HttpTarget {
    HttpTarget {
        url: format!("http://hooks.mailroom.test:{}{path_and_query}", addr.port()).parse().unwrap(),
        addrs: vec![addr],
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
async fn webhook_is_signed_per_standard_webhooks() {
    let (r, addr) = Receiver::start().await;
    let secret = generate_webhook_secret().unwrap();
    let payload = json!({ "type": "arrival", "reference": "A7K-22", "recipient": "张伟" });
    HttpSender::new().post_webhook(&target(addr, "/hook"), &secret, "notice:t1:42:p9:webhook", &payload).await.unwrap();
    let got = r.received("/hook");
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert_eq!(g.method, "POST");
    assert_eq!(g.headers["content-type"], "application/json");
    assert!(g.headers["user-agent"].starts_with("mailroom/"));
    assert_eq!(g.headers["host"], format!("hooks.mailroom.test:{}", addr.port()));
    assert_eq!(g.headers["webhook-id"], "notice:t1:42:p9:webhook");
    let ts: i64 = g.headers["webhook-timestamp"].parse().unwrap();
    assert!((now() - ts).abs() < 600);
    assert!(g.headers["webhook-signature"].starts_with("v1,"));
    assert!(verify_webhook(
        &secret,
        &g.headers["webhook-id"],
        &g.headers["webhook-timestamp"],
        &g.headers["webhook-signature"],
        &g.body,
        now(),
        300
    ));
    assert_eq!(g.json(), payload);
    // Another secret does not verify it.
    let other = generate_webhook_secret().unwrap();
    assert!(!verify_webhook(
        &other,
        "notice:t1:42:p9:webhook",
        &g.headers["webhook-timestamp"],
        &g.headers["webhook-signature"],
        &g.body,
        now(),
        300
    ));
}

#[tokio::test]
async fn answers_are_classified() {
    let (r, addr) = Receiver::start().await;
    let secret = generate_webhook_secret().unwrap();
    let s = HttpSender::new();
    let send = |path: &'static str| {
        let s = s.clone();
        let secret = secret.clone();
        async move { s.post_webhook(&target(addr, path), &secret, "m1", &json!({})).await }
    };
    r.answer("/500", answer(500, "oops"));
    r.answer("/503", Answer { headers: vec![("retry-after", "30".into())], ..answer(503, "") });
    r.answer("/429", Answer { headers: vec![("retry-after", "7".into())], ..answer(429, "") });
    r.answer("/429-bare", answer(429, ""));
    r.answer("/410", answer(410, "gone"));
    r.answer("/400", Answer { headers: vec![("retry-after", "5".into())], ..answer(400, "bad") });
    r.answer("/302", Answer { headers: vec![("location", "/elsewhere".into())], ..answer(302, "") });
    assert!(matches!(send("/500").await, Err(SendError::Retryable(m)) if m.contains("500")));
    assert!(matches!(send("/503").await, Err(SendError::RetryAfter(_, d)) if d == Duration::from_secs(30)));
    assert!(matches!(send("/429").await, Err(SendError::RetryAfter(_, d)) if d == Duration::from_secs(7)));
    assert_eq!(send("/429").await.unwrap_err().retry_after(), Some(Duration::from_secs(7)));
    assert!(matches!(send("/429-bare").await, Err(SendError::Retryable(_))));
    assert!(matches!(send("/410").await, Err(SendError::Permanent(_))));
    assert!(matches!(send("/400").await, Err(SendError::Permanent(_))));
    assert!(matches!(send("/302").await, Err(SendError::Permanent(m)) if m.contains("redirect")));
    assert!(r.received("/elsewhere").is_empty(), "redirects are not followed");
    assert!(send("/ok").await.is_ok());

    // Nobody listening: worth retrying.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    assert!(matches!(
        HttpSender::new().post_webhook(&target(closed, "/x"), &secret, "m1", &json!({})).await,
        Err(SendError::Retryable(_))
    ));
    // A receiver slower than the time-out: worth retrying.
    r.answer("/slow", Answer { delay: Duration::from_secs(5), ..answer(200, "{}") });
    let slow = HttpSender::new().with_timeout(Duration::from_millis(300));
    assert!(matches!(
        slow.post_webhook(&target(addr, "/slow"), &secret, "m1", &json!({})).await,
        Err(SendError::Retryable(_))
    ));
    // A bad secret is a configuration error, and nothing is sent.
    let before = r.got.lock().unwrap().len();
    assert!(matches!(
        s.post_webhook(&target(addr, "/x"), "whsec_???", "m1", &json!({})).await,
        Err(SendError::Permanent(_))
    ));
    assert_eq!(r.got.lock().unwrap().len(), before);
}

#[tokio::test]
async fn wecom_robot() {
    let (r, addr) = Receiver::start().await;
    r.answer("/cgi-bin/webhook/send", answer(200, r#"{"errcode":0,"errmsg":"ok"}"#));
    let t = target(addr, "/cgi-bin/webhook/send?key=693a91f6-7xxx");
    HttpSender::new()
        .post_robot(&t, RobotKind::WeCom, None, "新到邮件 A7K-22", "收件人：张伟\n位置：B1 收发室")
        .await
        .unwrap();
    let g = &r.received("/cgi-bin/webhook/send")[0];
    assert_eq!(g.query_param("key").as_deref(), Some("693a91f6-7xxx"));
    let b = g.json();
    assert_eq!(b["msgtype"], "markdown");
    assert_eq!(b["markdown"]["content"], "### 新到邮件 A7K-22\n收件人：张伟\n位置：B1 收发室");
    r.answer("/cgi-bin/webhook/send", answer(200, r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#));
    assert!(matches!(
        HttpSender::new().post_robot(&t, RobotKind::WeCom, None, "t", "x").await,
        Err(SendError::Retryable(_))
    ));
    r.answer("/cgi-bin/webhook/send", answer(200, r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#));
    assert!(matches!(
        HttpSender::new().post_robot(&t, RobotKind::WeCom, None, "t", "x").await,
        Err(SendError::Permanent(_))
    ));
}

#[tokio::test]
async fn dingtalk_robot_signs_the_query() {
    let (r, addr) = Receiver::start().await;
    r.answer("/robot/send", answer(200, r#"{"errcode":0,"errmsg":"ok"}"#));
    let secret = "SECd2f7d09bbbaa1c2e5b3b0b4f8c6a4e3d2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7";
    let t = target(addr, "/robot/send?access_token=tok123");
    HttpSender::new()
        .post_robot(&t, RobotKind::DingTalk, Some(secret), "新到邮件", "请取件\n取件码 4839")
        .await
        .unwrap();
    let g = &r.received("/robot/send")[0];
    assert_eq!(g.query_param("access_token").as_deref(), Some("tok123"));
    let ts: i64 = g.query_param("timestamp").unwrap().parse().unwrap();
    assert!((now() * 1000 - ts).abs() < 600_000, "milliseconds");
    // The receiver recomputes the signature from the timestamp it got (url-decoded by the parser).
    assert_eq!(g.query_param("sign").unwrap(), dingtalk_sign(secret, ts).unwrap());
    assert!(g.query.contains("sign=") && !g.query.contains('+') && !g.query.contains('/'), "{}", g.query);
    let b = g.json();
    assert_eq!(b["msgtype"], "markdown");
    assert_eq!(b["markdown"]["title"], "新到邮件");
    assert_eq!(b["markdown"]["text"], "### 新到邮件\n\n请取件\n\n取件码 4839");
    r.answer("/robot/send", answer(200, r#"{"errcode":310000,"errmsg":"sign not match"}"#));
    assert!(matches!(
        HttpSender::new().post_robot(&t, RobotKind::DingTalk, Some(secret), "t", "x").await,
        Err(SendError::Permanent(m)) if m.contains("310000")
    ));
}

#[tokio::test]
async fn feishu_robot_signs_the_body() {
    let (r, addr) = Receiver::start().await;
    r.answer("/open-apis/bot/v2/hook/abc", answer(200, r#"{"code":0,"msg":"success","data":{}}"#));
    let t = target(addr, "/open-apis/bot/v2/hook/abc");
    HttpSender::new()
        .post_robot(&t, RobotKind::Feishu, Some("fs-secret"), "New item", "Line one\nLine two")
        .await
        .unwrap();
    let b = r.received("/open-apis/bot/v2/hook/abc")[0].json();
    let ts: i64 = b["timestamp"].as_str().unwrap().parse().unwrap();
    assert!((now() - ts).abs() < 600, "seconds");
    assert_eq!(b["sign"], feishu_sign("fs-secret", ts).unwrap());
    assert_eq!(b["msg_type"], "post");
    let post = &b["content"]["post"]["zh_cn"];
    assert_eq!(post["title"], "New item");
    assert_eq!(
        post["content"],
        json!([[{ "tag": "text", "text": "Line one" }], [{ "tag": "text", "text": "Line two" }]])
    );
    r.answer(
        "/open-apis/bot/v2/hook/abc",
        answer(200, r#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}"#),
    );
    assert!(matches!(
        HttpSender::new().post_robot(&t, RobotKind::Feishu, Some("fs-secret"), "t", "x").await,
        Err(SendError::Permanent(_))
    ));
}

#[tokio::test]
async fn sms_provider_adapter() {
    let (r, addr) = Receiver::start().await;
    let provider: SmsProvider = serde_json::from_value(json!({
        "method": "POST",
        "url": format!("http://sms.mailroom.test:{}/v1/sms/send?account=acme", addr.port()),
        "headers": { "X-Api-Key": "k-123" },
        "format": "json",
        "body": "{\"mobile\":\"{{phone}}\",\"content\":\"{{sign}}{{text}}\",\"kind\":\"notice\"}",
        "sign": "【某医院收发室】",
        "success": { "json_field": "result.code", "equals": "0" }
    }))
    .unwrap();
    provider.validate().unwrap();
    let t = HttpTarget { url: provider.target_url().unwrap(), addrs: vec![addr] };
    r.answer("/v1/sms/send", answer(200, r#"{"result":{"code":0,"msgid":"x1"}}"#));
    let text = "您有新邮件 \"A7K-22\"，取件码 4839\n请到 B1 领取";
    HttpSender::new().send_sms(&provider, &t, "+86 138-0013-8000", text).await.unwrap();
    let g = &r.received("/v1/sms/send")[0];
    assert_eq!(g.method, "POST");
    assert_eq!(g.query_param("account").as_deref(), Some("acme"));
    assert_eq!(g.headers["x-api-key"], "k-123");
    assert_eq!(g.headers["content-type"], "application/json");
    assert_eq!(
        g.json(),
        json!({ "mobile": "+8613800138000", "content": format!("【某医院收发室】{text}"), "kind": "notice" })
    );

    r.answer("/v1/sms/send", answer(200, r#"{"result":{"code":1001,"msg":"余额不足"}}"#));
    assert!(matches!(
        HttpSender::new().send_sms(&provider, &t, "13800138000", "x").await,
        Err(SendError::Permanent(_))
    ));
    r.answer("/v1/sms/send", answer(502, "bad gateway"));
    assert!(matches!(
        HttpSender::new().send_sms(&provider, &t, "13800138000", "x").await,
        Err(SendError::Retryable(_))
    ));

    // A form-encoded provider with the phone number in the query.
    let form: SmsProvider = serde_json::from_value(json!({
        "url": format!("http://sms.mailroom.test:{}/sms?to={{{{phone}}}}", addr.port()),
        "format": "form",
        "body": "content={{text}}&sign={{sign}}",
        "sign": "【收发室】",
    }))
    .unwrap();
    let t = HttpTarget { url: form.target_url().unwrap(), addrs: vec![addr] };
    HttpSender::new().send_sms(&form, &t, "13800138000", "a&b=c 到").await.unwrap();
    let g = &r.received("/sms")[0];
    assert_eq!(g.query_param("to").as_deref(), Some("13800138000"));
    assert_eq!(g.headers["content-type"], "application/x-www-form-urlencoded");
    let fields: HashMap<String, String> = url::form_urlencoded::parse(&g.body).into_owned().collect();
    assert_eq!(fields["content"], "a&b=c 到");
    assert_eq!(fields["sign"], "【收发室】");

    // A provider URL on another host than the vetted one is refused before sending.
    let elsewhere = HttpTarget { url: "http://other.mailroom.test/".parse().unwrap(), addrs: vec![addr] };
    let before = r.got.lock().unwrap().len();
    assert!(matches!(
        HttpSender::new().send_sms(&form, &elsewhere, "13800138000", "x").await,
        Err(SendError::Permanent(_))
    ));
    assert_eq!(r.got.lock().unwrap().len(), before);
}
