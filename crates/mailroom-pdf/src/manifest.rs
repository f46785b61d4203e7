//! The dispatch manifest handed to the carrier with a batch of outbound items: A4 landscape, the
//! batch reference as Code 128 on every page, one line per item, the totals and the two
//! signature blocks of the hand-over.

use crate::draw::{Canvas, Doc, fit, width};
use crate::table::{Align, Column, Lang, Report, Row, kg, yuan};
use crate::{Fonts, ManifestInput, PdfError, check_reference};

/// Most lines one manifest prints.
pub const MAX_MANIFEST_LINES: usize = 5000;

/// Height of the closing block: the two signature boxes.
const SIGNATURES_H: f32 = 40.0;

/// A signature box: its title, then name, signature and date/time lines to fill in by hand.
fn signature_box(c: &mut Canvas<'_>, lang: Lang, x: f32, y: f32, w: f32, title: &str) {
    c.frame(x, y, w, SIGNATURES_H - 2.0, 0.6);
    c.text_fit(x + 3.0, y + 6.0, 9.0, w - 6.0, title);
    let labels = [lang.t("姓名", "Name"), lang.t("签字", "Signature"), lang.t("日期/时间", "Date/time")];
    let label_w = labels.iter().map(|l| width(l, 8.5)).fold(0.0_f32, f32::max) + 4.0;
    for (i, label) in labels.iter().enumerate() {
        let base = y + 15.0 + i as f32 * 9.0;
        c.text(x + 3.0, base, 8.5, label);
        c.line(x + 3.0 + label_w, base + 0.8, x + w - 4.0, base + 0.8, 0.3);
    }
}

/// The dispatch manifest as PDF: organisation, site, carrier, collection time and the batch
/// reference (printed and as Code 128) at the top of every page; one line per item (number,
/// reference, tracking number, recipient, destination, method, weight, postage, customs form);
/// the number of pieces, total weight and total postage; the hand-over signature blocks.
/// Headings in the input's language (`zh-CN` or `en`), names and addresses as given.
pub fn manifest(input: &ManifestInput, fonts: &Fonts) -> Result<Vec<u8>, PdfError> {
    let lang = Lang::parse("lang", &input.lang)?;
    let batch = check_reference("batch_reference", &input.batch_reference)?;
    if input.lines.len() > MAX_MANIFEST_LINES {
        return Err(PdfError::invalid("lines", format!("at most {MAX_MANIFEST_LINES} lines")));
    }
    let columns = [
        Column::new(lang.t("序号", "No."), 10.0, Align::Right),
        Column::new(lang.t("邮件编号", "Reference"), 36.0, Align::Left),
        Column::new(lang.t("跟踪号", "Tracking no."), 38.0, Align::Left),
        Column::new(lang.t("收件人", "Recipient"), 44.0, Align::Left),
        Column::new(lang.t("目的地", "Destination"), 40.0, Align::Left),
        Column::new(lang.t("寄递方式", "Method"), 28.0, Align::Left),
        Column::new(lang.t("重量（千克）", "Weight (kg)"), 22.0, Align::Right),
        Column::new(lang.t("邮费（元）", "Postage (CNY)"), 26.0, Align::Right),
        Column::new(lang.t("报关单", "Customs"), 18.0, Align::Left),
    ];
    let mut rows: Vec<Row> = input
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            Row::line(
                vec![
                    (i + 1).to_string(),
                    l.reference.clone(),
                    l.tracking_number.clone().unwrap_or_default(),
                    l.recipient.clone(),
                    l.destination.clone(),
                    l.method.clone(),
                    kg(u64::from(l.weight_g)),
                    yuan(l.postage_fen),
                    l.customs_form.clone().unwrap_or_default(),
                ],
                None,
            )
        })
        .collect();
    let pieces = input.lines.len();
    let weight: u64 = input.lines.iter().map(|l| u64::from(l.weight_g)).sum();
    let postage = input.lines.iter().fold(0_i64, |a, l| a.saturating_add(l.postage_fen));
    let pieces_text = match lang {
        Lang::Zh => format!("{pieces} 件"),
        Lang::En if pieces == 1 => "1 piece".to_string(),
        Lang::En => format!("{pieces} pieces"),
    };
    rows.push(Row::total(vec![
        String::new(),
        lang.t("合计", "Total").to_string(),
        pieces_text,
        String::new(),
        String::new(),
        String::new(),
        kg(weight),
        yuan(postage),
        String::new(),
    ]));
    let title = lang.t("交寄清单", "Dispatch manifest");
    let report = Report {
        page: (297.0, 210.0),
        margin: 12.0,
        table_top: 44.0,
        columns: &columns,
        rows: &rows,
        end_height: SIGNATURES_H,
        footer: format!("{} · {title} · {batch}", input.organisation.trim()),
    };
    let (l, r) = (report.margin, report.page.0 - report.margin);
    // The barcode on the right of the header: at most 0.4 mm a module, within 80 mm.
    let module = (80.0 / Canvas::code128_width(&batch, 1.0)?).clamp(0.2, 0.4);
    let code_w = Canvas::code128_width(&batch, module)?;
    let code_x = r - 10.0 * module - code_w;
    let info_w = code_x - 10.0 * module - l - 4.0;
    let mut doc = Doc::with_language(&format!("{title} {batch}"), lang.tag());
    report.render(
        &mut doc,
        fonts,
        |c, _, _| {
            c.text(l, 19.0, 16.0, title);
            c.text_fit(l, 26.5, 10.5, info_w, &input.organisation);
            let site_carrier = format!(
                "{}{}     {}{}",
                lang.t("寄出地点：", "Site: "),
                input.site.trim(),
                lang.t("承运商：", "Carrier: "),
                input.carrier.trim()
            );
            c.text_fit(l, 32.5, 9.0, info_w, &site_carrier);
            let times = format!(
                "{}{}     {}{}",
                lang.t("揽收时间：", "Collection: "),
                input.collection_at.trim(),
                lang.t("打印时间：", "Printed: "),
                input.printed_at.trim()
            );
            c.text_fit(l, 38.0, 9.0, info_w, &times);
            c.code128(code_x, 10.0, module, 14.0, &batch)?;
            let label = format!("{}{batch}", lang.t("批次：", "Batch: "));
            c.text_right(r - 10.0 * module, 29.5, 9.0, &fit(&label, 9.0, code_w + 20.0 * module));
            Ok(())
        },
        |c, y| {
            let w = (r - l - 12.0) / 2.0;
            signature_box(c, lang, l, y, w, lang.t("交寄人（收发室）", "Handed over by (mailroom)"));
            signature_box(c, lang, l + w + 12.0, y, w, lang.t("接收人（承运商）", "Received by (carrier)"));
        },
    )?;
    doc.finish()
}
