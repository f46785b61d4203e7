//! Each document rendered, its text extracted with `pdftotext`, a page converted to an image with
//! `pdftoppm` and its barcodes read back with the scanner's decoder. Needs a CJK font and
//! poppler-utils: with `CI=true` their absence fails the tests, otherwise they are skipped
//! with a notice.

#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;
use mailroom_domain::customs::{Certificate, ContentsCategory, DeclarationLine, Form, RateTable};
use std::process::Command;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The font, or `None` (with a notice) when none is installed outside CI.
fn fonts() -> Option<Fonts> {
    match Fonts::from_env() {
        Ok(f) => Some(f),
        Err(e) if in_ci() => panic!("CI=true and {e}"),
        Err(e) => {
            eprintln!("notice: PDF rendering tests skipped: {e}");
            None
        }
    }
}

fn poppler() -> bool {
    let ok =
        Command::new("pdftotext").arg("-v").output().is_ok() && Command::new("pdftoppm").arg("-v").output().is_ok();
    if !ok {
        assert!(!in_ci(), "CI=true and poppler-utils (pdftotext, pdftoppm) is not installed");
        eprintln!("notice: PDF text and image checks skipped: poppler-utils is not installed");
    }
    ok
}

/// Font and tools, or skip.
fn setup() -> Option<Fonts> {
    let f = fonts()?;
    poppler().then_some(f)
}

fn pdftotext(pdf: &[u8], page: Option<u32>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.pdf");
    std::fs::write(&input, pdf).unwrap();
    let mut cmd = Command::new("pdftotext");
    if let Some(p) = page {
        cmd.args(["-f", &p.to_string(), "-l", &p.to_string()]);
    }
    let out = cmd.args(["-enc", "UTF-8"]).arg(&input).arg("-").output().unwrap();
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The first page as a PNG at `dpi` (its top `crop_mm` millimetres only, when given).
fn pdftoppm(pdf: &[u8], dpi: u32, crop_mm: Option<f32>) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.pdf");
    std::fs::write(&input, pdf).unwrap();
    let prefix = dir.path().join("page");
    let mut cmd = Command::new("pdftoppm");
    if let Some(mm) = crop_mm {
        let px = (mm / 25.4 * dpi as f32) as u32;
        cmd.args(["-x", "0", "-y", "0", "-W", "100000", "-H", &px.to_string()]);
    }
    let out = cmd
        .args(["-png", "-r", &dpi.to_string(), "-f", "1", "-l", "1", "-singlefile"])
        .arg(&input)
        .arg(&prefix)
        .output()
        .unwrap();
    assert!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(dir.path().join("page.png")).unwrap()
}

/// The page rendered at 72 dpi is a real image; at 200 dpi its barcodes decode (within the top
/// `crop_mm` of the page, when given: an A4 page is more than the decoder's working resolution).
fn barcodes(pdf: &[u8], crop_mm: Option<f32>) -> Vec<(String, String)> {
    let small = pdftoppm(pdf, 72, None);
    assert!(small.starts_with(b"\x89PNG"), "not a PNG");
    assert!(small.len() > 3000, "a 72 dpi page of {} bytes is too small to hold the document", small.len());
    let img = mailroom_scan::load(&small, &mailroom_scan::Limits::default()).unwrap();
    let dark = img.pixels().filter(|p| p.0[0] < 128).count();
    assert!(dark > 1000, "the page is almost blank ({dark} dark pixels)");
    let big = pdftoppm(pdf, 200, crop_mm);
    mailroom_scan::scan(&big, &mailroom_scan::Limits::default())
        .unwrap()
        .into_iter()
        .map(|b| (b.symbology.to_string(), b.text))
        .collect()
}

fn addr(country: &str, text: &str) -> CheckRequest {
    CheckRequest { country: country.into(), text: Some(text.into()), ..Default::default() }
}

fn label_input() -> LabelInput {
    LabelInput {
        reference: "MR-2026-000123".into(),
        sender: addr("US", "Acme Export Inc\n1600 Pennsylvania Ave NW\nWashington, DC 20500"),
        recipient: addr("中国", "广东省深圳市南山区科技南路18号 张三 518057"),
        method: Some("EMS 特快专递".into()),
        weight_g: Some(1250),
    }
}

fn line(desc: &str, qty: u32, g: u32, value: &str, hs: &str) -> DeclarationLine {
    DeclarationLine {
        description: desc.into(),
        quantity: qty,
        net_weight_g: g,
        value: value.into(),
        currency: "USD".into(),
        hs_code: Some(hs.into()),
        origin_country: Some("中国".into()),
    }
}

fn customs_input(category: ContentsCategory, lines: Vec<DeclarationLine>) -> CustomsInput {
    CustomsInput {
        declaration: Declaration { category, explanation: None, lines, certificates: vec![] },
        form: None,
        reference: Some("MR-2026-000777".into()),
        sender: Some(addr("CN", "北京市东城区东长安街1号 李四 100006")),
        addressee: Some(addr("GB", "Jane Smith\n10 Downing Street\nLondon\nSW1A 2AA")),
        gross_weight_g: Some(900),
        postal_charges: Some("120.00 CNY".into()),
        sender_customs_reference: None,
        importer_reference: Some("GB123456789000".into()),
        importer_contact: Some("+44 20 7946 0000".into()),
        licence_numbers: None,
        certificate_numbers: None,
        invoice_number: Some("INV-2026-0042".into()),
        comments: None,
        office_of_origin: Some("北京国际邮件互换局 Beijing".into()),
        non_delivery: Some(NonDelivery::Return),
        redirect_to: None,
        date: Some("2026-11-27".into()),
        signatory: Some("李四 Li Si".into()),
    }
}

/// pdftotext keeps words; spacing between them may differ from the source.
fn squash(s: &str) -> String {
    s.split_whitespace().collect()
}

#[test]
fn label_has_both_scripts_the_reference_and_real_barcodes() {
    let Some(f) = setup() else { return };
    let pdf = address_label(&label_input(), &f).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    // The font is subset: a label does not carry the whole CJK font file.
    let font_size = std::fs::metadata(f.path()).unwrap().len();
    assert!((pdf.len() as u64) < font_size / 4, "{} bytes: the font was not subset", pdf.len());
    let text = squash(&pdftotext(&pdf, None));
    for want in [
        "寄件人",
        "收件人",
        "张三",
        "深圳市",
        "南山区",
        "ZhangSan",
        "Shenzhen",
        "CHINA",
        "中国",
        "MR-2026-000123",
        "AcmeExportInc",
        "EMS特快专递",
        "1.250kg",
    ] {
        assert!(text.contains(want), "{want:?} not in the label text: {text}");
    }
    let codes = barcodes(&pdf, None);
    assert!(codes.contains(&("code128".into(), "MR-2026-000123".into())), "{codes:?}");
    assert!(codes.contains(&("qrcode".into(), "MR-2026-000123".into())), "{codes:?}");
}

#[test]
fn label_for_japan_has_kanji_and_its_latin_rendering() {
    let Some(f) = setup() else { return };
    let mut input = label_input();
    input.recipient = addr("JP", "〒100-8994 東京都千代田区丸の内2-7-2 日本郵便株式会社 山田太郎 様");
    input.reference = "ZA123456789CN".into();
    let pdf = address_label(&input, &f).unwrap();
    let text = squash(&pdftotext(&pdf, None));
    for want in ["東京都", "JAPAN", "日本", "ZA123456789CN", "Marunouchi", "TOKYO"] {
        assert!(text.contains(want), "{want:?} not in: {text}");
    }
    let codes = barcodes(&pdf, None);
    assert!(codes.contains(&("code128".into(), "ZA123456789CN".into())), "{codes:?}");
}

#[test]
fn label_refuses_bad_input_without_panicking() {
    let Some(f) = fonts() else { return };
    let mut input = label_input();
    input.recipient.country = "Atlantis".into();
    assert!(matches!(address_label(&input, &f), Err(PdfError::Invalid { field, .. }) if field == "recipient.country"));
    let mut input = label_input();
    input.recipient = addr("US", "1600 Pennsylvania Ave NW\nWashington, DC 1234");
    assert!(matches!(address_label(&input, &f), Err(PdfError::Invalid { field, .. }) if field == "recipient"));
    for bad in ["", "   ", "参考号", "A\u{7}B", &"X".repeat(MAX_REFERENCE_CHARS + 1)] {
        let mut input = label_input();
        input.reference = bad.into();
        assert!(
            matches!(address_label(&input, &f), Err(PdfError::Invalid { ref field, .. }) if field == "reference"),
            "{bad:?}"
        );
    }
}

#[test]
fn a_missing_font_is_a_clear_error() {
    let e = Fonts::search([Path::new("/nonexistent/font.ttc")]).unwrap_err();
    let PdfError::FontMissing(m) = e else { panic!("{e:?}") };
    assert!(m.contains("/nonexistent/font.ttc") && m.contains(FONT_ENV), "{m}");
    // A file that is not a font.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("not-a-font.ttf");
    std::fs::write(&p, b"hello").unwrap();
    assert!(Fonts::from_path(&p).is_err());
    assert!(matches!(Fonts::search([p.as_path()]), Err(PdfError::FontMissing(_))));
}

#[test]
fn cn22_lists_the_contents_in_english_and_chinese() {
    let Some(f) = setup() else { return };
    let input = customs_input(
        ContentsCategory::Gift,
        vec![
            line("Men's cotton T-shirt", 2, 250, "20.00", "6109.10"),
            line("丝绸围巾 silk scarf", 1, 80, "35.50", "621410"),
        ],
    );
    let (form, pdf) = customs_form(&input, &RateTable::default(), &f).unwrap();
    assert_eq!(form, Form::Cn22);
    assert!(cn22(&input, &RateTable::default(), &f).unwrap().starts_with(b"%PDF-"));
    let text = squash(&pdftotext(&pdf, None));
    for want in [
        "CUSTOMS",
        "海关申报单",
        "CN22",
        "礼品",
        "Gift",
        "Men'scottonT-shirt",
        "丝绸围巾",
        "610910",
        "CN",
        "55.50",
        "0.900",
        "可以径行开拆",
        "寄件人签字",
        "2026-11-27",
        "MR-2026-000777",
        "禁止寄递",
    ] {
        assert!(text.contains(want), "{want:?} not in the CN22 text: {text}");
    }
    let codes = barcodes(&pdf, None);
    assert!(codes.contains(&("code128".into(), "MR-2026-000777".into())), "{codes:?}");
}

#[test]
fn cn22_is_refused_when_the_declaration_needs_a_cn23_or_is_not_acceptable() {
    let Some(f) = fonts() else { return };
    let rates = RateTable::default();
    let dear = customs_input(
        ContentsCategory::SaleOfGoods,
        vec![line("Hand-painted porcelain vase", 1, 150, "900.00", "6913.10")],
    );
    assert!(matches!(cn22(&dear, &rates, &f), Err(PdfError::Invalid { field, .. }) if field == "form"));
    let mut forced = dear.clone();
    forced.form = Some(FormChoice::Cn22);
    assert!(matches!(customs_form(&forced, &rates, &f), Err(PdfError::Invalid { field, .. }) if field == "form"));
    let bad = customs_input(ContentsCategory::Gift, vec![line("power bank 充电宝", 1, 300, "15.00", "850760")]);
    let e = customs_form(&bad, &rates, &f).unwrap_err();
    assert!(matches!(&e, PdfError::Invalid { message, .. } if message.contains("may not be accepted")), "{e:?}");
    let vague = customs_input(ContentsCategory::Gift, vec![line("gift", 1, 300, "15.00", "610910")]);
    assert!(customs_form(&vague, &rates, &f).is_err());
}

#[test]
fn cn23_has_sender_addressee_all_columns_and_continues_on_more_pages() {
    let Some(f) = setup() else { return };
    let mut lines = vec![line("Hand-painted porcelain vase 瓷花瓶", 1, 150, "900.00", "6913.10")];
    for i in 1..=14 {
        lines.push(line(&format!("Porcelain tea cup no. {i} 瓷茶杯"), 2, 120, "12.00", "6911.10"));
    }
    let mut input = customs_input(ContentsCategory::SaleOfGoods, lines);
    input.comments = Some("fragile 易碎".into());
    let (form, pdf) = customs_form(&input, &RateTable::default(), &f).unwrap();
    assert_eq!(form, Form::Cn23);
    let page1 = squash(&pdftotext(&pdf, Some(1)));
    for want in [
        "CUSTOMSDECLARATION",
        "报关单",
        "CN23",
        "寄件人",
        "李四",
        "LiSi",
        "JaneSmith",
        "LONDON",
        "UNITEDKINGDOM",
        "收件人",
        "Hand-paintedporcelainvase",
        "瓷花瓶",
        "691310",
        "数量",
        "净重",
        "税则号列",
        "原产国",
        "GB123456789000",
        "INV-2026-0042",
        "发票",
        "许可证",
        "证书",
        "如无法投递",
        "退回寄件人",
        "按放弃处理",
        "改寄",
        "销售货物",
        "1068.00USD",
        "120.00CNY",
        "其余5项见续页",
        "易碎",
        "北京国际邮件互换局",
        "MR-2026-000777",
        "1/2",
    ] {
        assert!(page1.contains(want), "{want:?} not on CN23 page 1: {page1}");
    }
    assert!(!page1.contains("no.14"), "line 15 belongs on page 2");
    let page2 = squash(&pdftotext(&pdf, Some(2)));
    assert!(page2.contains("Porcelainteacupno.14") && page2.contains("2/2"), "{page2}");
    let codes = barcodes(&pdf, Some(30.0));
    assert!(codes.contains(&("code128".into(), "MR-2026-000777".into())), "{codes:?}");
}

#[test]
fn cn23_names_the_certificates_a_declaration_needs_and_can_be_asked_for_below_300_sdr() {
    let Some(f) = setup() else { return };
    let mut input = customs_input(
        ContentsCategory::Gift,
        vec![line("Smartphone with lithium battery 手机", 1, 200, "100.00", "851713")],
    );
    input.declaration.certificates = vec![Certificate::BatteryDeclaration, Certificate::Msds];
    input.form = Some(FormChoice::Cn23);
    input.sender = None;
    input.addressee = None;
    let pdf = cn23(&input, &RateTable::default(), &f).unwrap();
    let text = squash(&pdftotext(&pdf, None));
    assert!(text.contains("锂电池声明") && text.contains("MSDS"), "{text}");
}

#[test]
fn input_json_takes_the_check_commands_shapes() {
    let label: LabelInput = serde_json::from_str(
        r#"{"reference": "R1", "sender": {"country": "CN", "text": "北京市东城区东长安街1号 李四 100006"},
            "recipient": {"country": "US", "fields": {"recipient": "Jane Roe", "street": ["1 Main St"],
            "city": "Springfield", "region": "IL", "postal_code": "62701"}}}"#,
    )
    .unwrap();
    assert_eq!(label.recipient.fields.unwrap().city, "Springfield");
    let c: CustomsInput = serde_json::from_str(
        r#"{"category": "gift", "lines": [{"description": "Silk scarf", "quantity": 1, "net_weight_g": 80,
            "value": "20.00", "currency": "USD"}], "form": "cn23", "non_delivery": "abandon"}"#,
    )
    .unwrap();
    assert_eq!(c.declaration.lines.len(), 1);
    assert_eq!(c.form, Some(FormChoice::Cn23));
    assert_eq!(c.non_delivery, Some(NonDelivery::Abandon));
}

#[test]
fn wrapping_and_fitting_stay_inside_their_width() {
    use crate::draw::{fit, width, wrap};
    let long = "广东省深圳市南山区科技南路18号 Kejinan Lu 18 Hao, Nanshan Qu, Shenzhen Shi, GUANGDONG";
    for max in [10.0, 25.0, 60.0] {
        for l in wrap(long, 8.0, max, 100) {
            assert!(width(&l, 8.0) <= max + 0.01 || l.chars().count() == 1, "{l:?} wider than {max}");
        }
        assert!(width(&fit(long, 8.0, max), 8.0) <= max + 0.01);
    }
    let three = wrap(long, 8.0, 20.0, 3);
    assert_eq!(three.len(), 3);
    assert!(three[2].ends_with('…'));
    assert_eq!(wrap("a\u{7}b", 8.0, 50.0, 2), vec!["a b".to_string()]);
}

/// Writes the documents to `$MAILROOM_PDF_SAMPLES` (a directory) for a look by eye.
#[test]
fn samples() {
    let Some(dir) = std::env::var_os("MAILROOM_PDF_SAMPLES") else { return };
    let Some(f) = fonts() else { return };
    let dir = std::path::PathBuf::from(dir);
    std::fs::write(dir.join("label.pdf"), address_label(&label_input(), &f).unwrap()).unwrap();
    let input = customs_input(
        ContentsCategory::Gift,
        vec![
            line("Men's cotton T-shirt", 2, 250, "20.00", "6109.10"),
            line("丝绸围巾 silk scarf", 1, 80, "35.50", "621410"),
        ],
    );
    std::fs::write(dir.join("cn22.pdf"), cn22(&input, &RateTable::default(), &f).unwrap()).unwrap();
    std::fs::write(dir.join("cn23.pdf"), cn23(&input, &RateTable::default(), &f).unwrap()).unwrap();
}
