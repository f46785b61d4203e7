#![allow(clippy::unwrap_used)]

use super::synth::{self, Degradation as D, Kind};
use super::*;

/// Texts as labels carry them: tracking numbers, and a longer payload for the 2D codes.
fn text_for(kind: Kind, i: usize) -> String {
    match kind {
        Kind::Code128 => {
            ["1Z999AA10123456784", "SF1234567890123", "JD0012345678901", "9400111899223197428490"][i % 4].to_string()
        }
        _ => format!("TRK:SF{:013}|TO:Finance 财务部|REF:{i}", 1_234_567_890_123u64 + i as u64),
    }
}

fn decodes(kind: Kind, text: &str, img: &GrayImage) -> bool {
    decode_gray(img).iter().any(|b| b.symbology == kind.name() && b.text == text)
}

/// A label photographed: the label on a margin, degraded, and through a JPEG round trip.
fn photo(kind: Kind, text: &str, d: D, seed: u64) -> GrayImage {
    let module = if kind == Kind::Code128 { 3 } else { 5 };
    let label = synth::label(&[(kind, text)], module).unwrap();
    let img = d.apply(&synth::margin(&label, 40), seed);
    load(&synth::jpeg(&img, 85), &Limits::default()).unwrap()
}

#[test]
fn clean_labels_decode_for_every_symbology() {
    for kind in Kind::ALL {
        for i in 0..2 {
            let text = text_for(kind, i);
            assert!(decodes(kind, &text, &photo(kind, &text, D::Clean, 1)), "{kind:?} {text}");
        }
    }
}

/// Moderate degradations, each symbology: what a phone photo of a label looks like.
#[test]
fn moderately_degraded_labels_decode() {
    let cases = [
        D::Rotate(90.0),
        D::Rotate(180.0),
        D::Rotate(12.0),
        D::Rotate(200.0),
        D::Blur(1),
        D::Noise(12.0),
        D::Dim(0.5),
        D::Perspective(0.12),
    ];
    let mut failures = Vec::new();
    for kind in Kind::ALL {
        let text = text_for(kind, 2);
        for (i, d) in cases.iter().enumerate() {
            if !decodes(kind, &text, &photo(kind, &text, *d, i as u64)) {
                failures.push(format!("{kind:?} {d:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "not decoded: {failures:?}");
}

/// Linear codes at any angle: the rotated passes find them.
#[test]
fn code128_at_odd_angles_decodes() {
    let text = text_for(Kind::Code128, 0);
    let mut failures = Vec::new();
    for angle in [35.0, 48.0, 127.0, 311.0] {
        let img = photo(Kind::Code128, &text, D::Rotate(angle), 3);
        if !decodes(Kind::Code128, &text, &img) {
            failures.push((angle, decode_gray(&img)));
        }
    }
    assert!(failures.is_empty(), "not decoded at {failures:?}°");
}

/// Every barcode on a label is reported, once each.
#[test]
fn every_barcode_on_a_label_is_reported() {
    let label = synth::label(&[(Kind::Code128, "SF1234567890123"), (Kind::Qr, "https://example.com/t/42")], 4).unwrap();
    let found = scan(&synth::png(&synth::margin(&label, 30)), &Limits::default()).unwrap();
    assert!(found.contains(&Barcode { symbology: "code128", text: "SF1234567890123".into() }), "{found:?}");
    assert!(found.contains(&Barcode { symbology: "qrcode", text: "https://example.com/t/42".into() }), "{found:?}");
    assert_eq!(found.len(), 2, "{found:?}");
}

#[test]
fn a_photo_without_barcodes_finds_nothing() {
    let blank = synth::noise(&GrayImage::from_pixel(640, 480, image::Luma([200])), 20.0, 7);
    assert_eq!(scan(&synth::png(&blank), &Limits::default()).unwrap(), Vec::new());
}

#[test]
fn unsupported_files_are_refused() {
    for bytes in [&b""[..], b"GIF89a....", b"%PDF-1.7", b"hello world", &[0u8; 64]] {
        assert!(matches!(scan(bytes, &Limits::default()), Err(ScanError::Unsupported(_))), "{bytes:?}");
    }
}

#[test]
fn oversized_images_are_refused_before_decoding() {
    let img = GrayImage::from_pixel(300, 200, image::Luma([255]));
    let limits = Limits { max_bytes: 1 << 20, max_pixels: 50_000, max_side: 1000 };
    assert!(matches!(scan(&synth::png(&img), &limits), Err(ScanError::TooLarge(_))));
    let limits = Limits { max_bytes: 1 << 20, max_pixels: 1_000_000, max_side: 250 };
    assert!(matches!(scan(&synth::jpeg(&img, 80), &limits), Err(ScanError::TooLarge(_))));
    let limits = Limits { max_bytes: 100, max_pixels: 1_000_000, max_side: 1000 };
    assert!(matches!(scan(&synth::png(&img), &limits), Err(ScanError::TooLarge(_))));
}

/// A PNG header that declares a huge image (a decompression bomb) is refused from the header.
#[test]
fn a_declared_giant_is_refused() {
    let mut png = synth::png(&GrayImage::from_pixel(4, 4, image::Luma([0])));
    // IHDR width and height: bytes 16..24.
    png[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    assert!(matches!(scan(&png, &Limits::default()), Err(ScanError::TooLarge(_) | ScanError::Corrupt(_))));
}

/// Truncated and corrupted files: an error or a (possibly empty) answer, never a panic.
#[test]
fn truncated_and_garbled_files_never_panic() {
    let label = synth::margin(&synth::label(&[(Kind::Qr, "SF1234567890123")], 4).unwrap(), 20);
    let mut rng = synth::Rng::new(42);
    for file in [synth::png(&label), synth::jpeg(&label, 80)] {
        for cut in [1, 8, 20, 33, 100, file.len() / 3, file.len() / 2, file.len() - 1] {
            let _ = scan(&file[..cut.min(file.len())], &Limits::default());
        }
        for _ in 0..40 {
            let mut bad = file.clone();
            for _ in 0..1 + rng.next_u64() % 16 {
                let at = 8 + (rng.next_u64() as usize) % (bad.len() - 8);
                bad[at] = rng.next_u64() as u8;
            }
            let _ = scan(&bad, &Limits::default());
        }
    }
    for n in [3usize, 16, 1000] {
        let mut junk = b"\x89PNG\r\n\x1a\n".to_vec();
        junk.extend((0..n).map(|_| rng.next_u64() as u8));
        assert!(scan(&junk, &Limits::default()).is_err());
        let mut junk = vec![0xff, 0xd8, 0xff];
        junk.extend((0..n).map(|_| rng.next_u64() as u8));
        assert!(scan(&junk, &Limits::default()).is_err());
    }
}

#[test]
fn sniffing_recognises_png_and_jpeg() {
    let img = GrayImage::from_pixel(4, 4, image::Luma([9]));
    assert_eq!(sniff(&synth::png(&img)), Some("image/png"));
    assert_eq!(sniff(&synth::jpeg(&img, 90)), Some("image/jpeg"));
    assert_eq!(sniff(b"GIF89a"), None);
}

#[test]
fn utf8_read_as_latin1_is_repaired() {
    assert_eq!(passes::repair_utf8("TO:è´¢å\u{8a}¡é\u{83}¨"), "TO:财务部");
    assert_eq!(passes::repair_utf8("Müller"), "Müller");
    assert_eq!(passes::repair_utf8("SF1234567890123"), "SF1234567890123");
    assert_eq!(passes::repair_utf8("财务部"), "财务部");
}

#[test]
fn qr_png_decodes_to_its_text() {
    for (text, scale) in
        [("https://mailroom.example.com/p/A7K-22?c=483920", 4), ("取件码 483920 · 收发室 B1", 3), ("x", 1)]
    {
        let png = qr_png(text, scale).unwrap();
        assert_eq!(sniff(&png), Some("image/png"));
        let found = scan(&png, &Limits::default()).unwrap();
        assert!(found.iter().any(|b| b.symbology == "qrcode" && b.text == text), "{text}: {found:?}");
    }
    let img = load(&qr_png("abc", 5).unwrap(), &Limits::default()).unwrap();
    // Version 1 is 21 modules, plus 4 quiet modules each side, 5 pixels a module.
    assert_eq!(img.dimensions(), (145, 145));
    assert!(qr_png("", 4).is_err());
    assert!(qr_png("x", 0).is_err());
    assert!(qr_png("x", 33).is_err());
    assert!(qr_png(&"9".repeat(QR_MAX_TEXT + 1), 4).is_err());
}
