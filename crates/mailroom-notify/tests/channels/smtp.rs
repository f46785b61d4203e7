//! E-mail through a real SMTP server process (`scripts/smtp-sink.py`, Python aiosmtpd) that
//! writes each message it receives to a directory, parsed by Python's own e-mail package.
//!
//! Without python3 and aiosmtpd these tests print a notice and pass, except with `CI=true`,
//! where they fail. The TLS tests also need the `openssl` command.

use mailroom_notify::{Email, Mailer, SendError, SmtpConfig, SmtpSecurity};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp-sink.py")
}

/// Whether python3 with aiosmtpd is here; with CI=true its absence fails the test.
fn have_sink() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("python3 with aiosmtpd is needed for the SMTP tests (python3 -m pip install aiosmtpd)");
        }
        eprintln!(
            "NOTICE: skipping SMTP test: python3 with aiosmtpd is not installed (python3 -m pip install aiosmtpd)"
        );
    }
    ok
}

struct Sink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sink {
    fn start(extra: &[&str]) -> Sink {
        Sink::start_on(0, extra)
    }

    fn start_on(port: u16, extra: &[&str]) -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("python3")
            .arg(script())
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start smtp-sink.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port =
            line.trim().rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("sink said {line:?}"));
        Sink { child, port, dir }
    }

    /// The `n`th message received (1-based), waiting for it to be written.
    fn message(&self, n: usize) -> (Value, Vec<u8>) {
        let json = self.dir.path().join(format!("{n}.json"));
        let start = Instant::now();
        while !json.exists() {
            assert!(start.elapsed() < Duration::from_secs(20), "message {n} never arrived");
            std::thread::sleep(Duration::from_millis(20));
        }
        let info = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
        let raw = std::fs::read(self.dir.path().join(format!("{n}.eml"))).unwrap();
        (info, raw)
    }

    fn count(&self) -> usize {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".json"))
            .count()
    }
}

fn arrival(key: &str, cfg: &SmtpConfig, qr: Option<Vec<u8>>) -> Email {
    Email {
        to: "zhang.wei@example.com".into(),
        to_name: Some("张伟".into()),
        subject: "【收发室】您有一件新到邮件 A7K-22".into(),
        text: "张伟，您好：\n您的邮件 A7K-22 已到达 B1 收发室，取件码 483920。".into(),
        html: Some(
            "<p>张伟，您好：</p><p>您的邮件 <b>A7K-22</b> 已到达 B1 收发室。</p><img src=\"cid:pickup-qr\" alt=\"QR\">"
                .into(),
        ),
        inline_png: qr.map(|png| ("pickup-qr".to_string(), png)),
        message_id: cfg.message_id(key),
        language: "zh-CN".into(),
    }
}

fn part<'a>(info: &'a Value, content_type: &str) -> &'a Value {
    info["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["content_type"] == content_type)
        .unwrap_or_else(|| panic!("no {content_type} part in {info}"))
}

#[tokio::test]
async fn plain_relay_receives_the_whole_message() {
    if !have_sink() {
        return;
    }
    let sink = Sink::start(&[]);
    // No TLS offered by this relay: opportunistic STARTTLS (the default) sends in the clear.
    let cfg = SmtpConfig::parse(&format!("smtp://127.0.0.1:{}", sink.port), "Mailroom 收发室 <mailroom@example.com>")
        .unwrap();
    assert_eq!(cfg.security, SmtpSecurity::StartTlsOpportunistic);
    let qr = mailroom_scan::qr_png("https://mailroom.example.com/p/A7K-22?code=483920", 4).unwrap();
    let mailer = Mailer::new(cfg.clone()).unwrap();
    let key = "notice:tenant-1:42:person-9:email";
    mailer.send(&arrival(key, &cfg, Some(qr.clone()))).await.unwrap();

    let (info, raw) = sink.message(1);
    assert_eq!(info["mail_from"], "mailroom@example.com");
    assert_eq!(info["rcpt_tos"], serde_json::json!(["zhang.wei@example.com"]));
    assert_eq!(info["tls"], false);
    assert_eq!(info["subject"], "【收发室】您有一件新到邮件 A7K-22");
    let raw_subject = info["raw_headers"]["subject"][0].as_str().unwrap();
    assert!(raw_subject.starts_with("=?utf-8?"), "the subject travels as UTF-8 encoded words: {raw_subject}");
    assert!(raw.is_ascii(), "headers and bodies are 7-bit on the wire");
    assert_eq!(info["message_id"], cfg.message_id(key));
    assert_eq!(info["content_language"], "zh-CN");
    assert!(info["raw_headers"]["from"][0].as_str().unwrap().contains("<mailroom@example.com>"));
    assert!(info["raw_headers"]["to"][0].as_str().unwrap().contains("<zhang.wei@example.com>"));
    assert_eq!(info["content_type"], "multipart/alternative");
    assert!(part(&info, "text/plain")["text"].as_str().unwrap().contains("取件码 483920"));
    assert!(part(&info, "text/html")["text"].as_str().unwrap().contains("cid:pickup-qr"));
    let png = part(&info, "image/png");
    assert_eq!(png["content_id"], "<pickup-qr>");
    assert_eq!(png["disposition"], "inline");
    // The image that arrived is, byte for byte, the QR code of the pickup link.
    assert_eq!(
        png["sha256"].as_str().unwrap(),
        Sha256::digest(&qr).iter().map(|b| format!("{b:02x}")).collect::<String>()
    );

    // The same notice sent again carries the same Message-ID (receivers can drop the copy).
    mailer.send(&arrival(key, &cfg, None)).await.unwrap();
    let (again, _) = sink.message(2);
    assert_eq!(again["message_id"], info["message_id"]);
    assert_eq!(again["content_type"], "multipart/alternative");

    // English, text only.
    let mut en = arrival("notice:tenant-1:43:person-9:email", &cfg, None);
    en.subject = "New item A7K-23".into();
    en.text = "Your item A7K-23 is at the mailroom.".into();
    en.html = None;
    en.language = "en".into();
    mailer.send(&en).await.unwrap();
    let (info, _) = sink.message(3);
    assert_eq!(info["subject"], "New item A7K-23");
    assert_eq!(info["content_language"], "en");
    assert_eq!(info["content_type"], "text/plain");
    assert_ne!(info["message_id"], again["message_id"]);
}

#[tokio::test]
async fn failures_are_classified() {
    if !have_sink() {
        return;
    }
    // Nobody listening: retry later.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = SmtpConfig::parse(&format!("smtp://127.0.0.1:{port}"), "mailroom@example.com").unwrap();
    let e = Mailer::new(cfg.clone()).unwrap().send(&arrival("k1", &cfg, None)).await.unwrap_err();
    assert!(matches!(e, SendError::Retryable(_)), "{e:?}");

    let sink = Sink::start(&["--auth", "mailroom:right"]);
    // STARTTLS required but not offered: a configuration problem.
    let cfg =
        SmtpConfig::parse(&format!("smtp://mailroom:right@127.0.0.1:{}", sink.port), "mailroom@example.com").unwrap();
    let e = Mailer::new(cfg.clone()).unwrap().send(&arrival("k2", &cfg, None)).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent(_)), "{e:?}");
    // A wrong password: 535, permanent.
    let cfg =
        SmtpConfig::parse(&format!("smtp://mailroom:wrong@127.0.0.1:{}?tls=none", sink.port), "mailroom@example.com")
            .unwrap();
    let e = Mailer::new(cfg.clone()).unwrap().send(&arrival("k3", &cfg, None)).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent(ref m) if m.contains("535")), "{e:?}");
    // No login where one is required: 530, permanent.
    let cfg = SmtpConfig::parse(&format!("smtp://127.0.0.1:{}", sink.port), "mailroom@example.com").unwrap();
    let e = Mailer::new(cfg.clone()).unwrap().send(&arrival("k4", &cfg, None)).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent(_)), "{e:?}");
    // The right password, in the clear because tls=none says so; the password is percent-decoded.
    let cfg =
        SmtpConfig::parse(&format!("smtp://mailroom:%72ight@127.0.0.1:{}?tls=none", sink.port), "mailroom@example.com")
            .unwrap();
    Mailer::new(cfg.clone()).unwrap().send(&arrival("k5", &cfg, None)).await.unwrap();
    let (info, _) = sink.message(1);
    assert_eq!(info["auth_user"], "mailroom");
    assert_eq!(sink.count(), 1);

    // The server goes away: retry later; back again: delivered.
    let port = sink.port;
    drop(sink);
    let cfg = SmtpConfig::parse(&format!("smtp://127.0.0.1:{port}"), "mailroom@example.com").unwrap();
    let mailer = Mailer::new(cfg.clone()).unwrap();
    let e = mailer.send(&arrival("k6", &cfg, None)).await.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    let sink = Sink::start_on(port, &[]);
    mailer.send(&arrival("k6", &cfg, None)).await.unwrap();
    let (info, _) = sink.message(1);
    assert_eq!(info["message_id"], cfg.message_id("k6"));
    assert_eq!(sink.count(), 1);
}

/// A CA and a certificate for `localhost` signed by it, made with the openssl command.
fn certificates(dir: &Path) -> Option<(PathBuf, PathBuf, Vec<u8>)> {
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .ok()?;
    let ok = run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Mailroom Test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]) && run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=localhost",
    ]) && run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    if !ok {
        eprintln!("NOTICE: skipping SMTP TLS test: the openssl command is missing or failed");
        return None;
    }
    Some((dir.join("leaf.pem"), dir.join("leaf.key"), std::fs::read(dir.join("ca.pem")).ok()?))
}

#[tokio::test]
async fn starttls_and_implicit_tls_with_login() {
    if !have_sink() {
        return;
    }
    let certs_dir = tempfile::tempdir().unwrap();
    let Some((cert, key, ca)) = certificates(certs_dir.path()) else { return };
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());

    // STARTTLS, required because there is a password.
    let sink = Sink::start(&["--auth", "mail@example.com:p@ss w0rd", "--cert", cert, "--key", key]);
    let url = format!("smtp://mail%40example.com:p%40ss%20w0rd@localhost:{}", sink.port);
    let cfg = SmtpConfig::parse(&url, "Mailroom <mail@example.com>").unwrap();
    assert_eq!(cfg.security, SmtpSecurity::StartTlsRequired);
    // The test CA is not in the system store: refused (and worth retrying once fixed).
    let e = Mailer::new(cfg.clone()).unwrap().send(&arrival("t1", &cfg, None)).await.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert_eq!(sink.count(), 0);
    let cfg = cfg.with_root_certificate_pem(&ca).unwrap();
    Mailer::new(cfg.clone()).unwrap().send(&arrival("t1", &cfg, None)).await.unwrap();
    let (info, _) = sink.message(1);
    assert_eq!((info["tls"].as_bool(), info["auth_user"].as_str()), (Some(true), Some("mail@example.com")));
    assert_eq!(info["subject"], "【收发室】您有一件新到邮件 A7K-22");
    drop(sink);

    // Implicit TLS (smtps://).
    let sink = Sink::start(&["--cert", cert, "--key", key, "--implicit-tls"]);
    let cfg = SmtpConfig::parse(&format!("smtps://localhost:{}", sink.port), "mail@example.com")
        .unwrap()
        .with_root_certificate_pem(&ca)
        .unwrap();
    let mailer = Mailer::new(cfg.clone()).unwrap();
    mailer.test_connection().await.unwrap();
    mailer.send(&arrival("t2", &cfg, None)).await.unwrap();
    let (info, _) = sink.message(1);
    assert_eq!(info["tls"], true);
    assert_eq!(info["message_id"], cfg.message_id("t2"));
}
