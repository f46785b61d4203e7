//! kill -9 during a stream of intakes: every acknowledged item survives and the chain verifies.

use crate::support::{Backend, Fixture, TestDb, bin, cli};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_ready(base: &str) {
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} did not become ready");
}

async fn kill_nine_loses_no_acknowledged_intake(b: Backend) {
    let Some(db) = TestDb::new(b).await else { return };
    let (tenant, person, token) = {
        let app = crate::support::open_app(&db.url).await;
        let fx = Fixture::new(app.clone(), "acme").await;
        let token = app.create_token("acme", "clerk").await.unwrap();
        (fx.tenant.id, fx.person.id, token)
    };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = std::process::Command::new(bin())
        .args(["serve", "--db", &db.url, "--addr", &format!("127.0.0.1:{port}")])
        .env("MAILROOM_LOG", "warn")
        .env("MAILROOM_MASTER_KEY", crate::support::TEST_MASTER_KEY)
        .env_remove("MAILROOM_MASTER_KEY_FILE")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(&base).await;
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..16 {
        let (acked, stop, base, token) = (acked.clone(), stop.clone(), base.clone(), token.clone());
        workers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = 0u64;
            // Bounded: at most 100,000 requests per worker, and only until the server dies.
            while i < 100_000 && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let body = serde_json::json!({
                    "tracking_number": format!("KILL{w:02}{i:08}"),
                    "recipient": {"person_id": person},
                });
                match http.post(format!("{base}/api/v1/items")).bearer_auth(&token).json(&body).send().await {
                    Ok(r) if r.status().is_success() => {
                        if let Ok(v) = r.json::<serde_json::Value>().await
                            && let Some(id) = v["id"].as_str()
                        {
                            acked.lock().unwrap().push(id.to_string());
                        }
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
                i += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        let _ = w.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "too few intakes before the kill: {}", acked.len());
    // Restart: every acknowledged item is there.
    let app = crate::support::open_app(&db.url).await;
    for id in &acked {
        let id: mailroom_domain::ids::ItemId = id.parse().unwrap();
        assert!(app.store.item(tenant, id).await.unwrap().is_some(), "acknowledged item {id} lost");
    }
    let count = app.store.count_items(tenant).await.unwrap();
    assert!(count as usize >= acked.len());
    drop(app);
    let (code, out, err) = cli(&["verify", "--db", &db.url]);
    assert_eq!(code, 0, "{out}{err}");
    // The restarted server serves the items.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = std::process::Command::new(bin())
        .args(["serve", "--db", &db.url, "--addr", &format!("127.0.0.1:{port}")])
        .env("MAILROOM_LOG", "warn")
        .env("MAILROOM_MASTER_KEY", crate::support::TEST_MASTER_KEY)
        .env_remove("MAILROOM_MASTER_KEY_FILE")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(&base).await;
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/items/{}", acked[0]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
    db.cleanup().await;
}

crate::both_backends!(kill_nine_loses_no_acknowledged_intake);
