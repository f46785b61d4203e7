//! Label photos: `mailroom scan-image` on generated, degraded label images, and the API from
//! upload to the photo kept with its item in the custody log.

use crate::support::{Backend, TestServer, cli};
use mailroom_scan::synth::{self, Degradation as D, Kind};
use serde_json::{Value, json};

fn lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}"))).collect()
}

/// A label photographed: drawn, degraded, as a JPEG.
fn photo(codes: &[(Kind, &str)], d: D) -> Vec<u8> {
    let label = synth::margin(&synth::label(codes, 4).unwrap(), 40);
    synth::jpeg(&d.apply(&label, 7), 88)
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

fn has(v: &Value, symbology: &str, text: &str) -> bool {
    v["barcodes"].as_array().unwrap().iter().any(|b| b["symbology"] == symbology && b["text"] == text)
}

#[test]
fn scan_image_reads_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: Vec<u8>| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_string_lossy().into_owned()
    };
    let ups = "1Z999AA10123456784";
    let a = write("ups.jpg", photo(&[(Kind::Code128, ups), (Kind::Qr, "https://example.com/t/1")], D::Rotate(90.0)));
    let b = write(
        "dm.png",
        synth::png(&synth::margin(&synth::label(&[(Kind::DataMatrix, "SF1234567890123")], 5).unwrap(), 30)),
    );
    let c = write("pdf.jpg", photo(&[(Kind::Pdf417, "JD0012345678901")], D::Noise(10.0)));
    let d = write("blank.png", synth::png(&image::GrayImage::from_pixel(320, 200, image::Luma([230]))));
    let (code, out, err) = cli(&["scan-image", &a, &b, &c, &d]);
    assert_eq!(code, 0, "{err}\n{out}");
    let v = lines(&out);
    assert_eq!(v.len(), 4, "{out}");
    assert_eq!(v[0]["file"], a);
    assert!(has(&v[0], "code128", ups), "{}", v[0]);
    assert!(has(&v[0], "qrcode", "https://example.com/t/1"), "{}", v[0]);
    // The carrier field is the carrier recognition of the text, as `mailroom carrier` prints it.
    let code128 = v[0]["barcodes"].as_array().unwrap().iter().find(|b| b["symbology"] == "code128").unwrap();
    assert_eq!(code128["carrier"]["carrier"], "ups");
    assert_eq!(code128["carrier"]["valid"], true);
    assert_eq!(code128["carrier"]["tracking_number"], ups);
    let qr = v[0]["barcodes"].as_array().unwrap().iter().find(|b| b["symbology"] == "qrcode").unwrap();
    assert_eq!(qr["carrier"]["carrier"], Value::Null);
    assert!(has(&v[1], "datamatrix", "SF1234567890123"), "{}", v[1]);
    assert_eq!(v[1]["barcodes"][0]["carrier"]["carrier"], "sf-express");
    assert!(has(&v[2], "pdf417", "JD0012345678901"), "{}", v[2]);
    assert_eq!(v[3]["barcodes"], json!([]));
    assert!(v.iter().all(|l| l.get("error").is_none()), "{out}");
}

#[test]
fn scan_image_reports_unreadable_files_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.png");
    std::fs::write(&good, synth::png(&synth::margin(&synth::draw(Kind::Qr, "SF1234567890123", 4).unwrap(), 10)))
        .unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not an image").unwrap();
    let cut = dir.path().join("cut.jpg");
    let full = photo(&[(Kind::Qr, "SF1234567890123")], D::Clean);
    std::fs::write(&cut, &full[..40]).unwrap();
    let missing = dir.path().join("missing.png");
    let args: Vec<String> = [&good, &text, &cut, &missing].iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let mut argv = vec!["scan-image"];
    argv.extend(args.iter().map(String::as_str));
    let (code, out, err) = cli(&argv);
    assert_eq!(code, 1, "{err}\n{out}");
    let v = lines(&out);
    assert_eq!(v.len(), 4, "every file gets a line: {out}");
    assert!(has(&v[0], "qrcode", "SF1234567890123"), "{}", v[0]);
    for (i, l) in v.iter().enumerate().skip(1) {
        assert_eq!(l["file"], args[i]);
        assert!(l["error"].as_str().is_some_and(|e| !e.is_empty()), "{l}");
        assert!(l.get("barcodes").is_none(), "{l}");
    }
    assert!(v[1]["error"].as_str().unwrap().contains("PNG or JPEG"), "{}", v[1]);
    // No file at all is a usage error.
    let (code, _, _) = cli(&["scan-image"]);
    assert_ne!(code, 0);
}

async fn label_photo_to_custody(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let clerk = srv.client(&srv.token("clerk").await);
    let ups = "1Z999AA10123456784";
    let jpeg = photo(&[(Kind::Qr, "https://example.com/t/9"), (Kind::Code128, ups)], D::Rotate(180.0));

    // Upload → barcodes, carrier recognition and the suggested tracking number.
    let r = clerk.post_raw("/api/v1/scans", "image/jpeg", jpeg.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(has(&r.body, "code128", ups), "{}", r.text);
    assert_eq!(r.body["suggested"]["tracking_number"], ups);
    assert_eq!(r.body["suggested"]["carrier"], "ups");
    assert_eq!(r.body["suggested"]["valid"], true);
    let i = r.body["suggested"]["barcode"].as_u64().unwrap() as usize;
    assert_eq!(r.body["barcodes"][i]["text"], ups);

    // The item registered with it, and the photo kept with the item.
    let item = clerk
        .post(
            "/api/v1/items",
            &json!({"tracking_number": r.body["suggested"]["tracking_number"], "carrier": "ups",
                    "recipient": {"person_id": srv.fx.person.id}}),
        )
        .await;
    assert_eq!(item.status, 201, "{}", item.text);
    let id = item.body["id"].as_str().unwrap().to_string();
    let add = clerk.post_raw(&format!("/api/v1/items/{id}/photos"), "image/jpeg", jpeg.clone()).await;
    assert_eq!(add.status, 201, "{}", add.text);
    let photo_id = add.body["id"].as_str().unwrap().to_string();
    assert_eq!(add.body["sha256"], sha256_hex(&jpeg));
    assert_eq!(add.body["media_type"], "image/jpeg");
    assert_eq!(add.body["size"], jpeg.len());

    let list = clerk.get(&format!("/api/v1/items/{id}/photos")).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["items"][0]["id"], photo_id);

    let got = clerk.send(clerk.req(reqwest::Method::GET, &format!("/api/v1/items/{id}/photos/{photo_id}"))).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.content_type, "image/jpeg");
    let bytes = clerk
        .http
        .get(format!("{}/api/v1/items/{id}/photos/{photo_id}", clerk.base))
        .bearer_auth(clerk.token.as_deref().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), jpeg.as_slice(), "the photo comes back as uploaded");
    // The recipient sees their item's photos too.
    let employee = srv.client(&srv.token("employee").await);
    assert_eq!(employee.get(&format!("/api/v1/items/{id}/photos")).await.status, 200);

    // Stored encrypted: the bytes in the database are not the photo.
    let stored = srv.app.store.attachment(srv.fx.tenant.id, photo_id.parse().unwrap()).await.unwrap().unwrap();
    assert!(stored.sealed.is_some());
    assert_ne!(stored.data, jpeg);

    // The custody event, with the photo's SHA-256.
    let events = clerk.get(&format!("/api/v1/items/{id}/events")).await;
    let added: Vec<&Value> =
        events.body["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "photo_added").collect();
    assert_eq!(added.len(), 1, "{}", events.text);
    let details: Value = match &added[0]["details"] {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        v => v.clone(),
    };
    assert_eq!(details["sha256"], sha256_hex(&jpeg));
    assert_eq!(details["photo_id"], photo_id);

    // A retry with the same Idempotency-Key keeps one photo.
    for _ in 0..2 {
        let r = clerk
            .send(
                clerk
                    .req(reqwest::Method::POST, &format!("/api/v1/items/{id}/photos"))
                    .header("content-type", "image/png")
                    .header("idempotency-key", "photo-retry-1")
                    .body(synth::png(&image::GrayImage::from_pixel(64, 48, image::Luma([128])))),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    assert_eq!(clerk.get(&format!("/api/v1/items/{id}/photos")).await.body["items"].as_array().unwrap().len(), 2);

    // The console's item page shows the photos and, to staff, the upload form with its script.
    let ui = srv.browser("acme", "clerk").await;
    let page = ui.get(&format!("/ui/items/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains(&format!("/api/v1/items/{id}/photos/{photo_id}")), "{}", page.text);
    assert!(page.text.contains("data-photo-upload"), "{}", page.text);
    assert!(page.text.contains("capture=\"environment\""), "{}", page.text);
    assert!(page.text.contains("/static/label-photo.js?v="), "{}", page.text);
    assert!(page.text.contains("data-kind=\"photo_added\""), "{}", page.text);
    let script = ui.get("/static/label-photo.js").await;
    assert_eq!(script.status, 200);
    assert!(script.text.contains("/api/v1/scans") && script.text.contains("getUserMedia"));
    // The recipient sees the photos, without the upload form.
    let mine = srv.browser("acme", "employee").await.get(&format!("/ui/items/{id}")).await;
    assert!(mine.text.contains(&format!("/photos/{photo_id}")), "{}", mine.text);
    assert!(!mine.text.contains("data-photo-upload"), "{}", mine.text);

    // The chain still verifies.
    let (code, out, err) = cli(&["verify", "--db", &srv.db.url]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("chain intact"), "{out}");
    srv.stop().await;
}

crate::both_backends!(label_photo_to_custody);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_refused_with_problems() {
    let Some(srv) = TestServer::start(Backend::Sqlite).await else { return };
    let clerk = srv.client(&srv.token("clerk").await);
    let label = photo(&[(Kind::Qr, "SF1234567890123")], D::Clean);
    // Not an image type.
    clerk
        .post_raw("/api/v1/scans", "text/plain", b"hello".to_vec())
        .await
        .assert_problem(415, "unsupported_media_type");
    // An image type, but not an image.
    clerk
        .post_raw("/api/v1/scans", "image/png", b"GIF89a not really".to_vec())
        .await
        .assert_problem(415, "unsupported_media_type");
    // Truncated and garbled: never a crash. A truncated PNG is refused; a truncated JPEG decodes
    // as far as it goes (grey below), as browsers show it.
    let png_label = synth::png(&synth::label(&[(Kind::Qr, "SF1234567890123")], 4).unwrap());
    clerk
        .post_raw("/api/v1/scans", "image/png", png_label[..png_label.len() / 3].to_vec())
        .await
        .assert_problem(422, "validation_failed");
    let r = clerk.post_raw("/api/v1/scans", "image/jpeg", label[..label.len() / 3].to_vec()).await;
    assert!(r.status == 200 || r.status == 422, "{}", r.text);
    let mut png = synth::png(&image::GrayImage::from_pixel(4, 4, image::Luma([0])));
    let n = png.len();
    png[n - 20..].fill(0x5a);
    let r = clerk.post_raw("/api/v1/scans", "image/png", png).await;
    assert!(r.status == 422 || r.status == 200, "{}", r.text);
    // A header that declares a giant image: refused before decoding.
    let mut giant = synth::png(&image::GrayImage::from_pixel(4, 4, image::Luma([0])));
    giant[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    giant[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let r = clerk.post_raw("/api/v1/scans", "image/png", giant).await;
    assert!(r.status == 413 || r.status == 422, "{}", r.text);
    // A body over 15 MiB.
    let mut big = label.clone();
    big.resize(15 * 1024 * 1024 + 1, 0);
    clerk.post_raw("/api/v1/scans", "image/jpeg", big).await.assert_problem(413, "payload_too_large");
    // An empty body.
    clerk.post_raw("/api/v1/scans", "image/jpeg", Vec::new()).await.assert_problem(422, "validation_failed");
    // Employees do not register items: 403 before the body is read.
    let employee = srv.client(&srv.token("employee").await);
    employee.post_raw("/api/v1/scans", "image/jpeg", label.clone()).await.assert_problem(403, "forbidden");
    // Photos of unknown items, and photos that are not images.
    let nowhere = uuid::Uuid::now_v7();
    clerk
        .post_raw(&format!("/api/v1/items/{nowhere}/photos"), "image/jpeg", label.clone())
        .await
        .assert_problem(404, "not_found");
    let item = clerk.post("/api/v1/items", &json!({"recipient": {"person_id": srv.fx.person.id}})).await;
    let id = item.body["id"].as_str().unwrap();
    clerk
        .post_raw(&format!("/api/v1/items/{id}/photos"), "image/png", png_label[..png_label.len() / 2].to_vec())
        .await
        .assert_problem(422, "validation_failed");
    employee
        .post_raw(&format!("/api/v1/items/{id}/photos"), "image/jpeg", label.clone())
        .await
        .assert_problem(403, "forbidden");
    clerk.get(&format!("/api/v1/items/{id}/photos/{nowhere}")).await.assert_problem(404, "not_found");
    // Nothing was kept, and nothing was logged.
    assert_eq!(clerk.get(&format!("/api/v1/items/{id}/photos")).await.body["items"], json!([]));
    let events = clerk.get(&format!("/api/v1/items/{id}/events")).await;
    assert!(!events.text.contains("photo_added"), "{}", events.text);
    srv.stop().await;
}

/// A photo shows the label: for a confidential item only those with a need to know open it,
/// every look is in the custody log, and adding one needs clearance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confidential_photos_need_to_know() {
    let Some(srv) = TestServer::start(Backend::Sqlite).await else { return };
    let clerk = srv.client(&srv.token("clerk").await);
    let item = clerk
        .post(
            "/api/v1/items",
            &json!({"tracking_number": "CONFPHOTO0001", "recipient": {"person_id": srv.fx.person.id},
                    "kind": "document", "category": "contract", "confidentiality": "strictly_confidential",
                    "seal_number": "bag-0042"}),
        )
        .await;
    assert_eq!(item.status, 201, "{}", item.text);
    let id = item.body["id"].as_str().unwrap().to_string();
    let png = synth::png(&synth::label(&[(Kind::Qr, "CONFIDENTIAL LABEL")], 3).unwrap());
    // Staff without clearance may not add one.
    let newbie = srv.client(&srv.user_with_role("photonewbie", mailroom_domain::auth::Role::Staff, None).await);
    newbie
        .post_raw(&format!("/api/v1/items/{id}/photos"), "image/png", png.clone())
        .await
        .assert_problem(403, "forbidden");
    let add = clerk.post_raw(&format!("/api/v1/items/{id}/photos"), "image/png", png.clone()).await;
    assert_eq!(add.status, 201, "{}", add.text);
    let photo = add.body["id"].as_str().unwrap().to_string();
    // An auditor reads every item, but has no clearance: the photo is listed, not shown.
    let auditor = srv.client(&srv.user_with_role("photoauditor", mailroom_domain::auth::Role::Auditor, None).await);
    assert_eq!(auditor.get(&format!("/api/v1/items/{id}/photos")).await.status, 200);
    auditor.get(&format!("/api/v1/items/{id}/photos/{photo}")).await.assert_problem(403, "forbidden");
    // The recipient and cleared staff see it; each look is recorded.
    for c in [&clerk, &srv.client(&srv.token("employee").await)] {
        let r = c.send(c.req(reqwest::Method::GET, &format!("/api/v1/items/{id}/photos/{photo}"))).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let events = clerk.get(&format!("/api/v1/items/{id}/events")).await;
    let views = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "viewed" && e["details"].to_string().contains("photo"))
        .count();
    assert!(views >= 3, "{}", events.text);
    srv.stop().await;
}
