//! Fuzz target bodies: each takes arbitrary bytes, feeds them to one parser of untrusted input,
//! and checks the properties that must hold whatever the input (besides not panicking).
//! The `fuzz_targets/*.rs` binaries wrap them for libFuzzer; `src/bin/replay.rs` runs them over
//! files on any toolchain.

use mailroom_app::import::{ExistingDirectory, ImportKind, plan_import};
use mailroom_app::items::{SignatureInput, decode_signature, sniff_signature};
use mailroom_app::outbound::{IpRange, OutboundPolicy, is_public, parse_target};
use mailroom_domain::ids::{DepartmentId, PersonId, TenantId};
use mailroom_domain::item::normalize_tracking;
use mailroom_domain::receipt::{parse_public_key, verify_receipt};
use mailroom_domain::reference;
use std::collections::HashMap;
use std::net::SocketAddr;
use uuid::Uuid;

/// The CSV directory import: header and row parsing, validation, parents, duplicates.
pub fn csv_import(data: &[u8]) {
    let tenant = TenantId(Uuid::from_u128(1));
    let fin = DepartmentId(Uuid::from_u128(2));
    let existing = ExistingDirectory {
        departments: vec![mailroom_app::store::Department {
            id: fin,
            tenant_id: tenant,
            parent_id: None,
            code: "FIN".into(),
            name: "财务部".into(),
            name_en: Some("Finance".into()),
            kind: "department".into(),
            key_contact_id: None,
            email: None,
        }],
        people: HashMap::from([("E1".to_string(), PersonId(Uuid::from_u128(3)))]),
    };
    for kind in [ImportKind::People, ImportKind::Departments] {
        match plan_import(tenant, kind, data, &existing, &|done, total| assert!(done <= total)) {
            Ok((import, report)) => {
                let n = (report.created + report.updated) as usize;
                assert_eq!(n, import.people.len() + import.departments.len());
                assert!(n > 0, "an accepted import writes something");
                assert!(import.people.iter().all(|p| p.tenant_id == tenant && !p.name.trim().is_empty()));
                assert!(import.departments.iter().all(|d| d.tenant_id == tenant && !d.code.is_empty()));
                // Parents come before their teams.
                for (i, d) in import.departments.iter().enumerate() {
                    if let Some(parent) = d.parent_id {
                        let later = import.departments[i..].iter().any(|o| o.id == parent);
                        assert!(!later, "team {} before its parent", d.code);
                    }
                }
            }
            Err(mailroom_app::AppError::Rows(rows)) => {
                assert!(!rows.is_empty());
                assert!(rows.iter().all(|r| r.line >= 1 && !r.reason.is_empty()));
            }
            Err(mailroom_app::AppError::Domain(d)) => assert!(!d.message.is_empty()),
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
}

/// The signature upload: base64 / `data:` URL decoding and content sniffing.
pub fn signature(data: &[u8]) {
    if let Ok(mime) = sniff_signature(data) {
        check_image(data, mime);
    }
    let input = SignatureInput { data: String::from_utf8_lossy(data).into_owned() };
    if let Ok((bytes, mime)) = decode_signature(&input) {
        assert_eq!(sniff_signature(&bytes).ok(), Some(mime));
        check_image(&bytes, mime);
    }
}

fn check_image(bytes: &[u8], mime: &str) {
    assert!(bytes.len() <= mailroom_app::items::MAX_SIGNATURE_BYTES);
    match mime {
        "image/png" => assert!(bytes.starts_with(b"\x89PNG")),
        "image/svg+xml" => {
            let lower = String::from_utf8_lossy(bytes).to_lowercase();
            assert!(!lower.contains("<script") && !lower.contains("javascript:"), "active SVG accepted");
        }
        other => panic!("unexpected media type {other}"),
    }
}

/// The offline receipt verifier (`mailroom verify-receipt`).
pub fn receipt(data: &[u8]) {
    let key = parse_public_key("8375fa91b9aedaf570304bd04ef20f88bffa677e8a55600e633c725786484186");
    for trusted in [None, key.as_ref()] {
        if let Ok(r) = verify_receipt(data, trusted) {
            // A valid receipt is canonical: written out again, it verifies again.
            let again = r.to_canonical();
            assert!(verify_receipt(again.as_bytes(), trusted).is_ok());
        }
    }
}

/// Tracking numbers and reference codes as scanned or typed.
pub fn tracking(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Ok(t) = normalize_tracking(&s) {
        assert!((4..=64).contains(&t.len()));
        assert!(t.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
        assert_eq!(normalize_tracking(&t).ok().as_deref(), Some(t.as_str()), "not idempotent");
    }
    if let Some(r) = reference::normalize(&s) {
        assert_eq!(r.len(), 9);
        assert_eq!(reference::normalize(&r).as_deref(), Some(r.as_str()), "not idempotent");
        assert_eq!(reference::normalize(&r.to_lowercase()).as_deref(), Some(r.as_str()));
    }
}

/// Outbound (webhook) URLs and allow-lists: the SSRF guard's parsers.
pub fn outbound_url(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let _ = OutboundPolicy::parse(&s);
    let _ = IpRange::parse(&s);
    if let Ok(t) = parse_target(&s) {
        assert!(matches!(t.url.scheme(), "http" | "https"));
        assert!(t.url.username().is_empty() && t.url.password().is_none());
        assert!(!t.host.is_empty() && t.port != 0);
        // Whatever the host, loopback and metadata addresses are refused by the default policy.
        let port = t.port;
        for a in ["127.0.0.1", "169.254.169.254", "::1", "::ffff:10.0.0.1"] {
            let addr: std::net::IpAddr = a.parse().unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
            assert!(!is_public(addr));
            let vetted = OutboundPolicy::default().vet_addrs(t.clone(), vec![SocketAddr::new(addr, port)]);
            assert!(vetted.is_err());
        }
    }
}
