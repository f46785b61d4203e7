//! International addresses and customs declarations through the real binary and the API.

use crate::support::{Backend, TestServer, bin, cli};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

fn verdict(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON: {out}: {e}"))
}

#[test]
fn address_check_command_prints_a_verdict() {
    let (code, out, err) =
        cli(&["address", "check", "--country", "中国", "--text", "广东省深圳市南山区科技南路18号 张三 518057"]);
    assert_eq!(code, 0, "{err}");
    let v = verdict(&out);
    assert_eq!(v["valid"], true);
    assert_eq!(v["country"]["alpha2"], "CN");
    assert_eq!(v["fields"]["region"], "广东省");
    assert_eq!(v["fields"]["city"], "深圳市");
    assert_eq!(v["fields"]["district"], "南山区");
    assert_eq!(v["fields"]["postal_code"], "518057");
    assert_eq!(v["lines"], json!(["518057", "广东省深圳市南山区科技南路18号", "张三", "CHINA"]));
    assert_eq!(
        v["latin_lines"],
        json!(["Zhang San", "Kejinan Lu 18 Hao", "Nanshan Qu", "Shenzhen Shi", "GUANGDONG 518057", "CHINA"])
    );

    // a postal code alone, normalised
    let (code, out, _) = cli(&["address", "check", "--country", "GBR", "--postal-code", "sw1a2aa"]);
    assert_eq!(code, 0);
    assert_eq!(verdict(&out)["fields"]["postal_code"], "SW1A 2AA");

    // invalid: exit 1 with the problems
    let (code, out, _) = cli(&["address", "check", "--country", "US", "--postal-code", "1234"]);
    assert_eq!(code, 1);
    let v = verdict(&out);
    assert_eq!(v["valid"], false);
    assert_eq!(v["problems"][0]["field"], "postal_code");
    assert_eq!(v["problems"][0]["code"], "invalid_postal_code");
    let (code, out, _) = cli(&["address", "check", "--country", "US", "--text", "1 Main Street, Springfield"]);
    assert_eq!(code, 1);
    let problems = verdict(&out)["problems"].clone();
    assert!(
        problems.as_array().unwrap().iter().any(|p| p["code"] == "required" && p["field"] == "postal_code"),
        "{problems}"
    );
    let (code, out, _) = cli(&["address", "check", "--country", "Atlantis", "--postal-code", "12345"]);
    assert_eq!(code, 1);
    assert_eq!(verdict(&out)["problems"][0]["code"], "unknown_country");

    // usage errors: exit 2, nothing on stdout
    for args in [
        &["address", "check", "--country", "US"][..],
        &["address", "check", "--postal-code", "12345"][..],
        &["address", "check", "--country", " ", "--text", "x"][..],
    ] {
        let (code, out, err) = cli(args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(out.is_empty());
        assert!(!err.is_empty());
    }
}

#[test]
fn address_check_command_for_the_parsed_countries() {
    for (country, text, field, want) in [
        ("JP", "〒100-8994 東京都千代田区丸の内2丁目7-2", "region", "東京都"),
        ("KR", "(우)03171 서울특별시 종로구 세종대로 209", "city", "종로구"),
        ("TW", "10048 臺北市中正區重慶南路一段122號", "city", "中正區"),
        ("HK", "香港九龍尖沙咀彌敦道100號", "district", "尖沙咀"),
        ("SG", "10 Anson Road #25-08, Singapore 079903", "postal_code", "079903"),
        ("USA", "350 Fifth Avenue, New York, NY 10118-0110", "region", "NY"),
        ("UK", "10 Downing Street\nLondon\nSW1A 2AA", "city", "London"),
        ("Germany", "Platz der Republik 1\n11011 Berlin", "city", "Berlin"),
        // `\n` as typed in a shell separates lines too
        ("DE", r"Deutscher Bundestag\nPlatz der Republik 1\n11011 Berlin", "recipient", "Deutscher Bundestag"),
        ("Россия", "Россия, 101000, Москва, ул. Мясницкая, д. 26", "city", "Москва"),
        ("法国", "55 Rue du Faubourg Saint-Honoré, 75008 Paris", "postal_code", "75008"),
    ] {
        let (code, out, err) = cli(&["address", "check", "--country", country, "--text", text]);
        assert_eq!(code, 0, "{country}: {out} {err}");
        assert_eq!(verdict(&out)["fields"][field], want, "{country}");
    }
}

fn declaration(description: &str, value: &str) -> Value {
    json!({
        "category": "gift",
        "lines": [{"description": description, "quantity": 1, "net_weight_g": 250, "value": value, "currency": "USD",
                   "hs_code": "6109.10", "origin_country": "中国"}]
    })
}

#[test]
fn customs_check_command() {
    let run = |body: &str, args: &[&str]| {
        let mut child = Command::new(bin())
            .args(["customs", "check"])
            .args(args)
            .env_remove("MAILROOM_SDR_RATES")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, out) = run(&declaration("Men's cotton T-shirt", "20.00").to_string(), &[]);
    assert_eq!(code, 0, "{out}");
    let v = verdict(&out);
    assert_eq!(v["accepted"], true);
    assert_eq!(v["form"], "cn22");
    assert_eq!(v["total_sdr"], "14.80");
    assert_eq!(v["lines"][0]["hs_code"], "610910");
    assert_eq!(v["lines"][0]["origin_country"], "CN");
    // over 300 SDR: a CN23; a different rate table changes the answer
    let (code, out) = run(&declaration("Men's cotton T-shirt", "500").to_string(), &["-"]);
    assert_eq!(code, 0);
    assert_eq!(verdict(&out)["form"], "cn23");
    let (_, out) = run(&declaration("Men's cotton T-shirt", "500").to_string(), &["--sdr-rates", "USD=0.5"]);
    assert_eq!(verdict(&out)["form"], "cn22");
    assert_eq!(verdict(&out)["total_sdr"], "250.00");
    // prohibited goods: exit 1
    let (code, out) = run(&declaration("Cash", "100").to_string(), &[]);
    assert_eq!(code, 1);
    assert_eq!(verdict(&out)["problems"][0]["code"], "prohibited");
    // usage errors: exit 2
    let (code, out) = run("{not json", &[]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    let (code, _) = run(&declaration("Shirt", "1").to_string(), &["--sdr-rates", "USD"]);
    assert_eq!(code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_and_customs_checks_over_the_api() {
    let Some(srv) = TestServer::start(Backend::Sqlite).await else { return };
    for login in ["clerk", "employee", "admin"] {
        let c = srv.client(&srv.token(login).await);
        let r = c
            .post(
                "/api/v1/addresses/check",
                &json!({"country": "JP", "text": "〒100-8994 東京都千代田区丸の内2丁目7-2 日本郵便株式会社 山田太郎様"}),
            )
            .await;
        assert_eq!(r.status, 200, "{login}: {}", r.text);
        assert_eq!(r.body["valid"], true);
        assert_eq!(r.body["fields"]["postal_code"], "100-8994");
        assert_eq!(r.body["fields"]["organisation"], "日本郵便株式会社");
        assert_eq!(r.body["lines"][0], "〒100-8994");
        assert_eq!(r.body["latin_lines"].as_array().and_then(|l| l.last()), Some(&json!("JAPAN")));
    }
    let c = srv.client(&srv.token("employee").await);

    // separate fields, checked against the rules
    let r = c
        .post(
            "/api/v1/addresses/check",
            &json!({"country": "us", "fields": {"street": ["1600 Pennsylvania Ave NW"], "city": "Washington", "region": "district of columbia", "postal_code": "20500"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["valid"], true);
    assert_eq!(r.body["fields"]["region"], "DC");
    assert_eq!(r.body["lines"], json!(["1600 Pennsylvania Ave NW", "WASHINGTON, DC 20500", "UNITED STATES"]));

    // an invalid address is an answer, not an error
    let r = c.post("/api/v1/addresses/check", &json!({"country": "CA", "postal_code": "12345"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["valid"], false);
    assert_eq!(r.body["problems"][0]["code"], "invalid_postal_code");

    // bad input: problem+json
    c.post("/api/v1/addresses/check", &json!({"country": "US"})).await.assert_problem(422, "validation_failed");
    c.post("/api/v1/addresses/check", &json!({"country": "", "text": "x"}))
        .await
        .assert_problem(422, "validation_failed");
    c.post("/api/v1/addresses/check", &json!({"text": "x"})).await.assert_problem(422, "validation_failed");
    c.post("/api/v1/addresses/check", &json!({"country": "US", "text": "x".repeat(2001)}))
        .await
        .assert_problem(422, "validation_failed");
    c.post_raw("/api/v1/addresses/check", "application/json", b"{".to_vec())
        .await
        .assert_problem(422, "validation_failed");

    // customs
    let r = c.post("/api/v1/customs/check", &declaration("Men's cotton T-shirt", "20.00")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["accepted"], true);
    assert_eq!(r.body["form"], "cn22");
    let seeds = json!({
        "category": "gift",
        "lines": [{"description": "Vegetable seeds", "quantity": 2, "net_weight_g": 20, "value": "5", "currency": "EUR"}]
    });
    let r = c.post("/api/v1/customs/check", &seeds).await;
    assert_eq!(r.body["accepted"], false);
    assert_eq!(r.body["form"], "cn23");
    assert_eq!(r.body["required_certificates"], json!(["phytosanitary", "import_permit"]));
    let mut with_certs = seeds.clone();
    with_certs["certificates"] = json!(["phytosanitary", "import_permit"]);
    let r = c.post("/api/v1/customs/check", &with_certs).await;
    assert_eq!(r.body["accepted"], true, "{}", r.text);
    let r = c.post("/api/v1/customs/check", &declaration("礼物", "10")).await;
    assert_eq!(r.body["accepted"], false);
    assert_eq!(r.body["problems"][0]["code"], "vague_description");
    c.post("/api/v1/customs/check", &json!({"category": "bribe", "lines": []}))
        .await
        .assert_problem(422, "validation_failed");
    let many: Vec<Value> = (0..101).map(|_| declaration("Shirt", "1")["lines"][0].clone()).collect();
    c.post("/api/v1/customs/check", &json!({"category": "gift", "lines": many}))
        .await
        .assert_problem(422, "validation_failed");

    // signed-in callers only
    let r = srv.anonymous().post("/api/v1/addresses/check", &json!({"country": "US", "postal_code": "12345"})).await;
    r.assert_problem(401, "unauthorized");
    let r = srv.anonymous().post("/api/v1/customs/check", &seeds).await;
    r.assert_problem(401, "unauthorized");
    srv.stop().await;
}

#[test]
fn openapi_describes_the_checks() {
    let doc: Value = serde_json::from_str(&mailroom_web::api::openapi_json()).unwrap();
    for path in ["/api/v1/addresses/check", "/api/v1/customs/check"] {
        assert!(doc["paths"][path]["post"].is_object(), "{path} missing from OpenAPI");
    }
    let schemas = &doc["components"]["schemas"];
    // the address problem has its own schema; `Problem` stays the problem+json document
    assert_eq!(
        schemas["AddressVerdict"]["properties"]["problems"]["items"]["$ref"],
        "#/components/schemas/AddressProblem"
    );
    assert!(schemas["Problem"]["properties"]["request_id"].is_object());
    assert!(schemas["CustomsVerdict"]["properties"]["form"].is_object());
}
