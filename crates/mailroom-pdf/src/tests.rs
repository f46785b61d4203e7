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

/// The text with `pdftotext -layout`: the table's rows stay on one line each.
fn layout_text(pdf: &[u8], page: Option<u32>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.pdf");
    std::fs::write(&input, pdf).unwrap();
    let mut cmd = Command::new("pdftotext");
    if let Some(p) = page {
        cmd.args(["-f", &p.to_string(), "-l", &p.to_string()]);
    }
    let out = cmd.args(["-layout", "-enc", "UTF-8"]).arg(&input).arg("-").output().unwrap();
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn chargeback_input(lang: &str, departments: Vec<ChargebackDepartment>) -> ChargebackInput {
    let total = departments.iter().map(|d| d.amount).sum();
    ChargebackInput {
        lang: lang.into(),
        organisation: "示例集团 Example Group".into(),
        month: "2026-11".into(),
        printed_at: "2026-12-01 09:00".into(),
        departments,
        total,
    }
}

fn department(code: &str, name: &str, lines: &[(&str, &str, i64, i64)]) -> ChargebackDepartment {
    let cost_centres: Vec<ChargebackLine> = lines
        .iter()
        .map(|(c, n, charges, amount)| ChargebackLine {
            code: (*c).into(),
            name: (*n).into(),
            charges: *charges,
            amount: *amount,
        })
        .collect();
    ChargebackDepartment {
        code: code.into(),
        name: name.into(),
        charges: cost_centres.iter().map(|l| l.charges).sum(),
        amount: cost_centres.iter().map(|l| l.amount).sum(),
        cost_centres,
    }
}

fn pages(pdf: &[u8]) -> usize {
    let mut n = 0;
    while !pdftotext_page_is_empty(pdf, n + 1) {
        n += 1;
    }
    n as usize
}

fn pdftotext_page_is_empty(pdf: &[u8], page: u32) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.pdf");
    std::fs::write(&input, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-f", &page.to_string(), "-l", &page.to_string(), "-enc", "UTF-8"])
        .arg(&input)
        .arg("-")
        .output()
        .unwrap();
    !out.status.success() || String::from_utf8_lossy(&out.stdout).trim().is_empty()
}

#[test]
fn chargeback_has_chinese_departments_subtotals_and_the_total() {
    let Some(f) = setup() else { return };
    let input = chargeback_input(
        "zh-CN",
        vec![
            department("D01", "财务部", &[("CC-FIN", "财务共享中心", 3, 123_450), ("CC-TAX", "税务组", 1, 2_000)]),
            department("D02", "Legal", &[("CC-LEG", "Contracts & litigation", 2, 99_905)]),
            department("", "", &[("CC-MISC", "杂项", 1, -500)]),
        ],
    );
    let pdf = chargeback_report(&input, &f).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = squash(&layout_text(&pdf, None));
    for want in [
        "邮资费用分摊报表",
        "示例集团",
        "2026-11",
        "2026-12-0109:00",
        "成本中心",
        "金额（元）",
        "D01财务部",
        "财务共享中心",
        "税务组",
        "1,234.50",
        "20.00",
        "小计D01财务部41,254.50",
        "D02Legal",
        "Contracts&litigation",
        "999.05",
        "未归属部门",
        "-5.00",
        "合计72,248.55",
        "1/1",
    ] {
        assert!(text.contains(want), "{want:?} not in the chargeback text: {text}");
    }
    let png = pdftoppm(&pdf, 72, None);
    assert!(png.starts_with(b"\x89PNG") && png.len() > 3000);
}

#[test]
fn chargeback_in_english_with_many_departments_runs_to_several_pages() {
    let Some(f) = setup() else { return };
    let departments: Vec<ChargebackDepartment> = (1..=40)
        .map(|i| {
            department(
                &format!("D{i:02}"),
                &format!("部门{i} Department {i}"),
                &[(&format!("CC{i:02}A"), "收发室 Mailroom", 2, 1_000 * i), (&format!("CC{i:02}B"), "Courier", 1, 50)],
            )
        })
        .collect();
    let total: i64 = departments.iter().map(|d| d.amount).sum();
    let input = chargeback_input("en", departments);
    let pdf = chargeback_report(&input, &f).unwrap();
    let n = pages(&pdf);
    assert!(n >= 3, "{n} pages");
    for p in 1..=n as u32 {
        let text = squash(&layout_text(&pdf, Some(p)));
        for want in ["Postagechargebackreport", "CostcentreNameChargesAmount(CNY)", &format!("{p}/{n}")] {
            assert!(text.contains(want), "{want:?} not on page {p}: {text}");
        }
    }
    let last = squash(&layout_text(&pdf, Some(n as u32)));
    // 40 departments of 3 charges; 1,000 fen × (1 + … + 40) + 40 × 50 fen.
    assert_eq!(total, 822_000);
    assert!(last.contains("Total1208,220.00"), "{last}");
    let all = squash(&layout_text(&pdf, None));
    assert!(all.contains("部门40Department40") && all.contains("SubtotalD17部门17Department17"), "{all}");
    // A department cut by a page break has its heading repeated with "(continued)" or starts
    // on the new page: every page after the first starts with a department heading.
    for p in 2..=n as u32 {
        let text = squash(&layout_text(&pdf, Some(p)));
        let after = text.split("Amount(CNY)").nth(1).unwrap_or("");
        assert!(after.starts_with('D'), "page {p} does not start with a department: {text}");
    }
}

#[test]
fn chargeback_refuses_an_unknown_language() {
    let Some(f) = fonts() else { return };
    let input = chargeback_input("fr", vec![]);
    assert!(matches!(chargeback_report(&input, &f), Err(PdfError::Invalid { field, .. }) if field == "lang"));
    // No postage at all: one page with a zero total.
    let Some(f) = setup() else { return };
    let pdf = chargeback_report(&chargeback_input("en", vec![]), &f).unwrap();
    assert!(squash(&layout_text(&pdf, None)).contains("Total00.00"));
}

fn manifest_line(i: usize) -> ManifestLine {
    let (recipient, destination) = match i % 3 {
        0 => ("山田太郎", "Tokyo, JP"),
        1 => ("张三", "上海市, CN"),
        _ => ("Jane Smith", "London, GB"),
    };
    ManifestLine {
        reference: format!("MR-2026-{i:06}"),
        tracking_number: i.is_multiple_of(2).then(|| format!("RR{i:09}CN")),
        recipient: recipient.into(),
        destination: destination.into(),
        method: "registered".into(),
        weight_g: 250 + i as u32,
        postage_fen: 2_350 + i as i64,
        customs_form: (i % 3 != 1).then(|| "CN22".to_string()),
    }
}

fn manifest_input(lang: &str, n: usize) -> ManifestInput {
    ManifestInput {
        lang: lang.into(),
        organisation: "示例集团 Example Group".into(),
        site: "北京总部 Beijing HQ".into(),
        batch_reference: "DSP-2026-1201-01".into(),
        carrier: if lang == "en" { "China Post".into() } else { "中国邮政".into() },
        collection_at: "2026-12-01 10:00".into(),
        printed_at: "2026-12-01 09:30".into(),
        lines: (1..=n).map(manifest_line).collect(),
    }
}

#[test]
fn manifest_lists_the_items_totals_signatures_and_the_batch_barcode() {
    let Some(f) = setup() else { return };
    let pdf = manifest(&manifest_input("zh-CN", 5), &f).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = squash(&layout_text(&pdf, None));
    for want in [
        "交寄清单",
        "示例集团",
        "北京总部",
        "中国邮政",
        "2026-12-0110:00",
        "DSP-2026-1201-01",
        "序号",
        "跟踪号",
        "收件人",
        "目的地",
        "重量（千克）",
        "邮费（元）",
        "报关单",
        "MR-2026-000001",
        "RR000000002CN",
        "张三",
        "上海市,CN",
        "山田太郎",
        "Tokyo,JP",
        "JaneSmith",
        "0.251",
        "23.51",
        "CN22",
        // 5 pieces, 1250 + 15 g, 117.50 + 0.15 yuan.
        "合计5件",
        "1.265",
        "117.65",
        "交寄人（收发室）",
        "接收人（承运商）",
        "姓名",
        "签字",
        "日期/时间",
        "1/1",
    ] {
        assert!(text.contains(want), "{want:?} not in the manifest text: {text}");
    }
    // The barcode is in the top right corner: the right half of the top 30 mm of the page, at
    // 200 dpi (the whole width of a landscape page is more than the decoder's working size).
    let _ = barcodes(&pdf, Some(30.0));
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.pdf");
    std::fs::write(&input, &pdf).unwrap();
    let out = Command::new("pdftoppm")
        .args(["-png", "-r", "200", "-f", "1", "-l", "1", "-singlefile"])
        .args(["-x", "1100", "-y", "0", "-W", "1239", "-H", "236"])
        .arg(&input)
        .arg(dir.path().join("corner"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let png = std::fs::read(dir.path().join("corner.png")).unwrap();
    let codes: Vec<(String, String)> = mailroom_scan::scan(&png, &mailroom_scan::Limits::default())
        .unwrap()
        .into_iter()
        .map(|b| (b.symbology.to_string(), b.text))
        .collect();
    assert!(codes.contains(&("code128".into(), "DSP-2026-1201-01".into())), "{codes:?}");
}

#[test]
fn manifest_of_sixty_items_runs_to_several_pages_with_the_header_repeated() {
    let Some(f) = setup() else { return };
    let input = manifest_input("en", 60);
    let pdf = manifest(&input, &f).unwrap();
    let n = pages(&pdf);
    assert!(n >= 3, "{n} pages");
    for p in 1..=n as u32 {
        let text = squash(&layout_text(&pdf, Some(p)));
        for want in [
            "Dispatchmanifest",
            "ChinaPost",
            "DSP-2026-1201-01",
            "No.ReferenceTrackingno.RecipientDestinationMethodWeight(kg)Postage(CNY)Customs",
            &format!("{p}/{n}"),
        ] {
            assert!(text.contains(want), "{want:?} not on page {p}: {text}");
        }
    }
    let first = squash(&layout_text(&pdf, Some(1)));
    assert!(first.contains("MR-2026-000001") && !first.contains("MR-2026-000060"), "{first}");
    let last = squash(&layout_text(&pdf, Some(n as u32)));
    let weight: u64 = input.lines.iter().map(|l| u64::from(l.weight_g)).sum();
    let postage: i64 = input.lines.iter().map(|l| l.postage_fen).sum();
    assert_eq!((weight, postage), (16_830, 142_830));
    for want in [
        "MR-2026-000060",
        "Total60pieces16.8301,428.30",
        "Handedoverby(mailroom)",
        "Receivedby(carrier)",
        "Name",
        "Signature",
        "Date/time",
    ] {
        assert!(last.contains(want), "{want:?} not on the last page: {last}");
    }
    // Every line once.
    let all = squash(&layout_text(&pdf, None));
    for i in 1..=60 {
        assert_eq!(all.matches(&format!("MR-2026-{i:06}")).count(), 1, "line {i}");
    }
}

#[test]
fn manifest_refuses_bad_input_and_reads_its_json() {
    let Some(f) = fonts() else { return };
    for bad in ["", "批次", &"X".repeat(MAX_REFERENCE_CHARS + 1)] {
        let mut input = manifest_input("en", 1);
        input.batch_reference = bad.into();
        assert!(
            matches!(manifest(&input, &f), Err(PdfError::Invalid { ref field, .. }) if field == "batch_reference"),
            "{bad:?}"
        );
    }
    let input = manifest_input("de", 1);
    assert!(matches!(manifest(&input, &f), Err(PdfError::Invalid { field, .. }) if field == "lang"));
    let json = serde_json::to_string(&manifest_input("en", 2)).unwrap();
    let back: ManifestInput = serde_json::from_str(&json).unwrap();
    assert_eq!(back.lines[1].reference, "MR-2026-000002");
    assert_eq!(back.lines[0].tracking_number, None);
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
    let departments = (1..=30)
        .map(|i| {
            department(
                &format!("D{i:02}"),
                &format!("部门{i}"),
                &[("CC1", "收发室", 2, 12_345 * i), ("CC2", "Courier", 1, 50)],
            )
        })
        .collect();
    let report = chargeback_report(&chargeback_input("zh-CN", departments), &f).unwrap();
    std::fs::write(dir.join("chargeback.pdf"), report).unwrap();
    std::fs::write(dir.join("manifest.pdf"), manifest(&manifest_input("zh-CN", 60), &f).unwrap()).unwrap();
    std::fs::write(dir.join("manifest-en.pdf"), manifest(&manifest_input("en", 60), &f).unwrap()).unwrap();
}
