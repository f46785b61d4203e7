//! The OpenAPI document is generated from the code; the committed copy must not drift.

#[test]
fn committed_openapi_matches_the_code() {
    let generated = mailroom_web::api::openapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    if std::env::var("MAILROOM_BLESS").is_ok() {
        std::fs::write(path, format!("{generated}\n")).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "docs/openapi.json is out of date: run `MAILROOM_BLESS=1 cargo test -p mailroom --test it openapi` and commit it"
    );
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    for path in [
        "/api/v1/items",
        "/api/v1/items/{id}",
        "/api/v1/items/{id}/transitions",
        "/api/v1/items/{id}/events",
        "/api/v1/people",
        "/api/v1/carriers/detect",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing from OpenAPI");
    }
}

#[tokio::test]
async fn openapi_is_served() {
    let Some(srv) = crate::support::TestServer::start(crate::support::Backend::Sqlite).await else { return };
    let r = srv.anonymous().get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
    srv.stop().await;
}
