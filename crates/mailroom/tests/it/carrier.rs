//! Carrier recognition through the real binary (arguments and stdin) and through the API.

use crate::support::{Backend, TestServer, bin, cli};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

fn lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}"))).collect()
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[test]
fn carrier_command_takes_arguments() {
    let (code, out, err) =
        cli(&["carrier", "1Z999AA10123456784", "rr 473 124 829 gb", "4006381333931", "405548424886"]);
    assert_eq!(code, 0, "{err}");
    let v = lines(&out);
    assert_eq!(v.len(), 4, "{out}");
    assert_eq!(v[0]["input"], "1Z999AA10123456784");
    assert_eq!(v[0]["carrier"], "ups");
    assert_eq!(v[0]["tracking_number"], "1Z999AA10123456784");
    assert_eq!(v[0]["valid"], true);
    assert_eq!(v[0]["candidates"][0]["carrier"], "ups");
    assert_eq!(v[1]["input"], "rr 473 124 829 gb");
    assert_eq!(v[1]["tracking_number"], "RR473124829GB");
    assert_eq!(v[1]["carrier"], "royal-mail");
    assert_eq!(v[1]["service"], "Registered letter");
    // A product code: refused, still exit 0.
    assert_eq!(v[2]["carrier"], Value::Null);
    assert_eq!(v[2]["valid"], false);
    assert_eq!(v[2]["candidates"].as_array().map(Vec::len), Some(0));
    assert!(v[2]["reason"].as_str().unwrap_or("").contains("EAN-13"), "{}", v[2]);
    // Ambiguous: ranked candidates, no carrier.
    assert_eq!(v[3]["carrier"], Value::Null);
    assert!(v[3]["candidates"].as_array().map(Vec::len).unwrap_or(0) >= 3, "{}", v[3]);
}

#[test]
fn carrier_command_reads_stdin_lines() {
    let mut child = Command::new(bin())
        .arg("carrier")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = "SF1234567890123\r\n\n   \n(420)100233424(92)00190132607600833457\nASSET-000123\n\u{1d}3318810025\n";
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v = lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(v.len(), 4, "blank lines are skipped: {v:?}");
    assert_eq!(v[0]["input"], "SF1234567890123");
    assert_eq!(v[0]["carrier"], "sf-express");
    assert_eq!(v[0]["carrier_name_zh"], "顺丰速运");
    assert_eq!(v[1]["carrier"], "usps");
    assert_eq!(v[1]["tracking_number"], "9200190132607600833457");
    assert_eq!(v[2]["carrier"], Value::Null);
    assert!(v[2]["reason"].as_str().unwrap_or("").contains("asset"));
    assert_eq!(v[3]["carrier"], "dhl");
    assert_eq!(v[3]["service"], "Express");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carrier_detection_over_the_api() {
    let Some(srv) = TestServer::start(Backend::Sqlite).await else { return };
    for login in ["clerk", "employee", "admin"] {
        let c = srv.client(&srv.token(login).await);
        let r = c.get(&format!("/api/v1/carriers/detect?code={}", enc("1z 999 aa1 01 2345 6784"))).await;
        assert_eq!(r.status, 200, "{login}: {}", r.text);
        assert_eq!(r.body["carrier"], "ups");
        assert_eq!(r.body["valid"], true);
        assert_eq!(r.body["tracking_number"], "1Z999AA10123456784");
    }
    let c = srv.client(&srv.token("clerk").await);
    // The same answers as the CLI, field for field.
    for code in ["420 22153 9101026837331000039521", "036000291452", "JJD0002257639032011", "EA123456785CN"] {
        let api = c.get(&format!("/api/v1/carriers/detect?code={}", enc(code))).await;
        assert_eq!(api.status, 200, "{}", api.text);
        let (_, out, _) = cli(&["carrier", code]);
        let cli_json: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(api.body, cli_json, "{code}");
    }
    let r = c.get(&format!("/api/v1/carriers/detect?code={}", enc("EA123456785CN"))).await;
    assert_eq!(r.body["carrier"], "ems");
    assert_eq!(r.body["service"], "EMS");
    // Bad input: problem+json.
    c.get("/api/v1/carriers/detect").await.assert_problem(422, "validation_failed");
    let r = c.get("/api/v1/carriers/detect?code=%20%20").await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["field"], "code");
    let long = "1".repeat(257);
    let r = c.get(&format!("/api/v1/carriers/detect?code={long}")).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["field"], "code");
    srv.anonymous().get("/api/v1/carriers/detect?code=SF1234567890123").await.assert_problem(401, "unauthorized");
    srv.stop().await;
}
