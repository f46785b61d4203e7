//! The UPU customs declarations: CN22 (one page, 100 × 150 mm, the label printer's size) and
//! CN23 (A4, continued on further pages when the lines do not fit). Both in English and
//! Chinese, as China Post prints them.

use crate::draw::{Canvas, Doc};
use crate::label::address_lines;
use crate::{CustomsInput, Fonts, FormChoice, NonDelivery, PdfError, check_reference};
use mailroom_domain::address::Verdict;
use mailroom_domain::customs::{
    Certificate, ContentsCategory, CustomsVerdict, Declaration, Form, MAX_LINES, RateTable, Severity, check,
};

const DECLARATION_EN: &str = "I, the undersigned, whose name and address are given on the item, certify that the \
particulars given in this declaration are correct and that this item does not contain any dangerous article or \
articles prohibited by legislation or by postal or customs regulations.";
const DECLARATION_ZH: &str = "本人保证上述申报准确无误，本邮件内未装寄法律或邮政和海关规章禁止寄递的任何危险物品。";

/// The categories as the forms list them (two columns).
const CATEGORIES: [(ContentsCategory, &str); 6] = [
    (ContentsCategory::Gift, "Gift 礼品"),
    (ContentsCategory::CommercialSample, "Commercial sample 商品货样"),
    (ContentsCategory::Documents, "Documents 文件"),
    (ContentsCategory::ReturnedGoods, "Returned goods 退回物品"),
    (ContentsCategory::SaleOfGoods, "Sale of goods 销售货物"),
    (ContentsCategory::Other, "Other 其他"),
];

fn kg(g: u64) -> String {
    format!("{}.{:03}", g / 1000, g % 1000)
}

fn certificate_label(c: Certificate) -> &'static str {
    match c {
        Certificate::Phytosanitary => "phytosanitary certificate 植物检疫证书",
        Certificate::VeterinaryHealth => "veterinary health certificate 动物卫生证书",
        Certificate::ImportPermit => "import permit 进口许可",
        Certificate::PrescriptionOrImportLicence => "prescription or import licence 处方或进口许可证",
        Certificate::BatteryDeclaration => "lithium battery declaration 锂电池声明",
        Certificate::Msds => "MSDS 安全数据单",
    }
}

/// The declaration checked: refused when it may not be accepted for dispatch.
fn verdict(decl: &Declaration, rates: &RateTable) -> Result<CustomsVerdict, PdfError> {
    if decl.lines.len() > MAX_LINES {
        return Err(PdfError::invalid("lines", format!("at most {MAX_LINES} lines")));
    }
    let v = check(decl, rates);
    if !v.accepted {
        let why: Vec<String> =
            v.problems.iter().filter(|p| p.severity == Severity::Error).map(|p| p.message.clone()).collect();
        return Err(PdfError::invalid(
            "lines",
            format!("the declaration may not be accepted for dispatch: {}", why.join("; ")),
        ));
    }
    Ok(v)
}

/// The form the input asks for (or the check decides), rendered. Returns which form it is.
pub fn customs_form(input: &CustomsInput, rates: &RateTable, fonts: &Fonts) -> Result<(Form, Vec<u8>), PdfError> {
    let v = verdict(&input.declaration, rates)?;
    let form = match input.form.unwrap_or(FormChoice::Auto) {
        FormChoice::Auto => v.form,
        FormChoice::Cn23 => Form::Cn23,
        FormChoice::Cn22 if v.form == Form::Cn23 => {
            return Err(PdfError::invalid("form", format!("this declaration needs a CN23: {}", v.form_reason)));
        }
        FormChoice::Cn22 => Form::Cn22,
    };
    let pdf = match form {
        Form::Cn22 => render_cn22(input, &v, fonts)?,
        Form::Cn23 => render_cn23(input, &v, fonts)?,
    };
    Ok((form, pdf))
}

/// A CN22 of the declaration (refused when it needs a CN23 or may not be accepted).
pub fn cn22(input: &CustomsInput, rates: &RateTable, fonts: &Fonts) -> Result<Vec<u8>, PdfError> {
    let v = verdict(&input.declaration, rates)?;
    if v.form == Form::Cn23 {
        return Err(PdfError::invalid("form", format!("this declaration needs a CN23: {}", v.form_reason)));
    }
    render_cn22(input, &v, fonts)
}

/// A CN23 of the declaration (refused when it may not be accepted).
pub fn cn23(input: &CustomsInput, rates: &RateTable, fonts: &Fonts) -> Result<Vec<u8>, PdfError> {
    let v = verdict(&input.declaration, rates)?;
    render_cn23(input, &v, fonts)
}

fn reference(input: &CustomsInput) -> Result<Option<String>, PdfError> {
    input.reference.as_deref().filter(|r| !r.trim().is_empty()).map(|r| check_reference("reference", r)).transpose()
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().map(str::trim).unwrap_or("")
}

fn categories(c: &mut Canvas<'_>, x: f32, y: f32, col: f32, row: f32, size: f32, decl: &Declaration) {
    for (i, (cat, label)) in CATEGORIES.iter().enumerate() {
        let (cx, cy) = (x + (i % 2) as f32 * col, y + (i / 2) as f32 * row);
        c.checkbox(cx, cy, 2.8, decl.category == *cat);
        c.text_fit(cx + 4.0, cy + 2.4, size, col - 5.0, label);
    }
}

fn render_cn22(input: &CustomsInput, v: &CustomsVerdict, fonts: &Fonts) -> Result<Vec<u8>, PdfError> {
    let reference = reference(input)?;
    let decl = &input.declaration;
    let (w, h) = (100.0, 150.0);
    let mut failed = None;
    let mut doc = Doc::new(&format!("CN22 {}", reference.as_deref().unwrap_or("")));
    doc.page(w, h, &fonts.font, |c| {
        c.frame(3.0, 3.0, w - 6.0, h - 6.0, 1.0);
        c.text(5.0, 8.5, 8.5, "CUSTOMS DECLARATION");
        c.text(5.0, 12.5, 8.5, "海关申报单");
        c.text_right(w - 5.0, 11.0, 15.0, "CN 22");
        c.text(5.0, 16.0, 5.5, "May be opened officially 可以径行开拆");
        c.text(5.0, 20.0, 5.5, "Designated operator 指定邮政经营者:");
        c.line(38.0, 20.5, w - 5.0, 20.5, 0.3);
        c.line(3.0, 22.0, w - 3.0, 22.0, 0.8);
        categories(c, 5.0, 23.5, 45.0, 4.3, 6.5, decl);
        c.text(5.0, 39.0, 5.5, "Explanation 说明:");
        c.text_fit(22.0, 39.0, 6.5, w - 27.0, opt(&decl.explanation));
        c.line(3.0, 41.0, w - 3.0, 41.0, 0.8);
        // Columns: description and quantity, HS, origin, net weight, value.
        let cols = [3.0, 44.0, 59.0, 71.0, 83.0, w - 3.0];
        let heads = [
            ("Quantity and detailed description of contents", "内件详细名称和数量"),
            ("HS tariff number", "税则号列"),
            ("Country of origin", "原产国"),
            ("Weight (kg)", "重量"),
            ("Value", "价值"),
        ];
        for (i, (en, zh)) in heads.iter().enumerate() {
            let (x0, x1) = (cols[i], cols[i + 1]);
            let y = c.para(x0 + 1.0, 44.0, 5.0, x1 - x0 - 2.0, 2.2, 2, en);
            c.text_fit(x0 + 1.0, y, 5.0, x1 - x0 - 2.0, zh);
        }
        for x in &cols[1..cols.len() - 1] {
            c.line(*x, 41.0, *x, 96.0, 0.4);
        }
        c.line(3.0, 50.0, w - 3.0, 50.0, 0.4);
        let mut y = 50.0;
        for line in v.lines.iter().take(4) {
            let desc = format!("{} × {}", line.quantity, line.description);
            c.para(cols[0] + 1.0, y + 3.6, 6.5, cols[1] - cols[0] - 2.0, 2.8, 3, &desc);
            c.text_fit(cols[1] + 1.0, y + 3.6, 6.5, cols[2] - cols[1] - 2.0, line.hs_code.as_deref().unwrap_or(""));
            c.text_fit(
                cols[2] + 1.0,
                y + 3.6,
                6.5,
                cols[3] - cols[2] - 2.0,
                line.origin_country.as_deref().unwrap_or(""),
            );
            c.text_right(cols[4] - 1.0, y + 3.6, 6.5, &kg(u64::from(line.net_weight_g)));
            c.text_right(cols[5] - 1.0, y + 3.6, 6.5, &line.value);
            c.text_right(cols[5] - 1.0, y + 6.6, 5.0, &line.currency);
            y += 9.0;
            c.line(3.0, y, w - 3.0, y, 0.3);
        }
        // Totals.
        c.line(3.0, 86.0, w - 3.0, 86.0, 0.6);
        c.para(5.0, 89.0, 5.0, cols[1] - cols[0] - 3.0, 2.2, 3, "Total gross weight (kg) 总重量 · Total value 总价值");
        let gross = input.gross_weight_g.map(u64::from).unwrap_or(v.total_net_weight_g);
        c.text_right(cols[4] - 1.0, 91.0, 7.0, &kg(gross));
        c.text_right(cols[5] - 1.0, 91.0, 7.0, v.total_value.as_deref().unwrap_or(""));
        c.text_right(cols[5] - 1.0, 94.5, 5.0, v.currency.as_deref().unwrap_or(""));
        c.line(3.0, 96.0, w - 3.0, 96.0, 0.8);
        let y = c.para(5.0, 99.5, 5.0, w - 10.0, 2.3, 6, DECLARATION_EN);
        let y = c.para(5.0, y + 0.5, 5.0, w - 10.0, 2.4, 3, DECLARATION_ZH);
        c.text(5.0, y + 2.0, 5.5, "Date and sender's signature 日期和寄件人签字");
        let sig =
            [opt(&input.date), opt(&input.signatory)].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>();
        c.text_fit(5.0, y + 7.0, 8.0, w - 10.0, &sig.join("   "));
        c.line(5.0, y + 8.5, w - 5.0, y + 8.5, 0.3);
        if let Some(r) = &reference {
            let module = (50.0 / Canvas::code128_width(r, 1.0).unwrap_or(50.0)).clamp(0.12, 0.33);
            if let Err(e) = c.code128(8.0, 131.0, module, 9.0, r) {
                failed = Some(e);
            }
            c.text(8.0, 144.0, 8.0, r);
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    doc.finish()
}

/// Address block lines: the label lines, then the Latin rendering on one line.
fn block(v: &Option<Verdict>) -> Vec<String> {
    let Some(v) = v else { return Vec::new() };
    let mut out = v.lines.clone();
    if !v.latin_lines.is_empty() {
        out.push(v.latin_lines.join(", "));
    }
    out
}

const CN23_ROWS_FIRST: usize = 10;
const CN23_ROWS_MORE: usize = 30;

fn cn23_table_head(c: &mut Canvas<'_>, cols: &[f32; 7], y: f32) {
    let heads = [
        ("Detailed description of contents", "内件详细名称"),
        ("Quantity", "数量"),
        ("Net weight (kg)", "净重"),
        ("Value", "价值"),
        ("HS tariff number", "税则号列"),
        ("Country of origin of goods", "原产国"),
    ];
    c.frame(cols[0], y, cols[6] - cols[0], 12.0, 0.6);
    for (i, (en, zh)) in heads.iter().enumerate() {
        let (x0, x1) = (cols[i], cols[i + 1]);
        let yy = c.para(x0 + 1.0, y + 3.5, 6.5, x1 - x0 - 2.0, 2.8, 2, en);
        c.text_fit(x0 + 1.0, yy.max(y + 9.5), 6.5, x1 - x0 - 2.0, zh);
    }
}

fn cn23_rows(c: &mut Canvas<'_>, cols: &[f32; 7], y: f32, v: &CustomsVerdict, from: usize, n: usize) -> f32 {
    let mut y = y;
    for line in v.lines.iter().skip(from).take(n) {
        let b = y + 4.8;
        c.text_fit(cols[0] + 1.0, b, 8.0, cols[1] - cols[0] - 2.0, &line.description);
        c.text_right(cols[2] - 1.5, b, 8.0, &line.quantity.to_string());
        c.text_right(cols[3] - 1.5, b, 8.0, &kg(u64::from(line.net_weight_g)));
        c.text_right(cols[4] - 1.5, b, 8.0, &format!("{} {}", line.value, line.currency));
        c.text_fit(cols[4] + 1.0, b, 8.0, cols[5] - cols[4] - 2.0, line.hs_code.as_deref().unwrap_or(""));
        c.text_fit(cols[5] + 1.0, b, 8.0, cols[6] - cols[5] - 2.0, line.origin_country.as_deref().unwrap_or(""));
        y += 7.0;
        c.line(cols[0], y, cols[6], y, 0.3);
    }
    y
}

fn render_cn23(input: &CustomsInput, v: &CustomsVerdict, fonts: &Fonts) -> Result<Vec<u8>, PdfError> {
    let reference = reference(input)?;
    let sender = input.sender.as_ref().map(|s| address_lines("sender", s, false)).transpose()?;
    let addressee = input.addressee.as_ref().map(|s| address_lines("addressee", s, true)).transpose()?;
    let decl = &input.declaration;
    let (w, h) = (210.0, 297.0);
    let (l, r) = (8.0, w - 8.0);
    let mid = 105.0;
    let cols: [f32; 7] = [l, 88.0, 103.0, 123.0, 150.0, 172.0, r];
    let more = v.lines.len().saturating_sub(CN23_ROWS_FIRST);
    let pages = 1 + more.div_ceil(CN23_ROWS_MORE);
    let mut failed = None;
    let mut doc = Doc::new(&format!("CN23 {}", reference.as_deref().unwrap_or("")));
    let header = |c: &mut Canvas<'_>, page: usize, failed: &mut Option<PdfError>| {
        c.frame(l, 8.0, r - l, h - 16.0, 1.0);
        c.text(l + 3.0, 16.0, 13.0, "CUSTOMS DECLARATION 报关单");
        c.text(l + 3.0, 22.0, 7.5, "May be opened officially 可以径行开拆");
        c.text_right(r - 3.0, 18.0, 20.0, "CN 23");
        if pages > 1 {
            c.text_right(r - 3.0, 24.0, 7.0, &format!("Page 页 {}/{pages}", page + 1));
        }
        if let Some(rf) = &reference {
            let module = (50.0 / Canvas::code128_width(rf, 1.0).unwrap_or(50.0)).clamp(0.12, 0.4);
            if let Err(e) = c.code128(112.0, 10.5, module, 9.0, rf) {
                *failed = Some(e);
            }
            c.text(112.0, 24.0, 8.0, rf);
        }
        c.line(l, 27.0, r, 27.0, 0.8);
    };
    doc.page(w, h, &fonts.font, |c| {
        header(c, 0, &mut failed);
        // From / To on the left; references and the category on the right.
        c.text(l + 2.0, 31.0, 7.0, "From 寄件人");
        let mut y = 36.0;
        for line in block(&sender).iter().take(6) {
            c.text_fit(l + 4.0, y, 8.5, mid - l - 6.0, line);
            y += 4.2;
        }
        c.line(l, 62.0, mid, 62.0, 0.6);
        c.text(l + 2.0, 66.0, 7.0, "To 收件人");
        let mut y = 71.0;
        for line in block(&addressee).iter().take(6) {
            c.text_fit(l + 4.0, y, 8.5, mid - l - 6.0, line);
            y += 4.2;
        }
        c.line(mid, 27.0, mid, 97.0, 0.6);
        let boxes = [
            (27.0, "Sender's customs reference (if any) 寄件人海关编码", opt(&input.sender_customs_reference)),
            (39.0, "Importer's reference (tax code/VAT No./importer code) 进口商编码", opt(&input.importer_reference)),
            (50.0, "Importer's telephone/fax/e-mail (if known) 进口商电话/传真/电子邮件", opt(&input.importer_contact)),
        ];
        for (y0, label, value) in boxes {
            c.text_fit(mid + 2.0, y0 + 3.5, 6.5, r - mid - 4.0, label);
            c.text_fit(mid + 4.0, y0 + 9.0, 8.5, r - mid - 6.0, value);
            if y0 + 12.0 < 62.0 {
                c.line(mid, y0 + 12.0, r, y0 + 12.0, 0.4);
            }
        }
        c.line(mid, 62.0, r, 62.0, 0.6);
        c.text(mid + 2.0, 66.0, 7.0, "Category of item 邮件类别");
        categories(c, mid + 3.0, 69.0, 47.0, 5.5, 7.5, decl);
        c.text(mid + 3.0, 92.0, 7.0, "Explanation 说明:");
        c.text_fit(mid + 26.0, 92.0, 8.0, r - mid - 29.0, opt(&decl.explanation));
        c.line(l, 97.0, r, 97.0, 0.8);
        // The contents.
        cn23_table_head(c, &cols, 97.0);
        let end = cn23_rows(c, &cols, 109.0, v, 0, CN23_ROWS_FIRST);
        if more > 0 {
            c.text(cols[0] + 1.0, end + 4.8, 7.5, &format!("… {more} more lines on the next pages 其余{more}项见续页"));
        }
        for x in &cols[1..6] {
            c.line(*x, 97.0, *x, 187.0, 0.4);
        }
        c.line(l, 187.0, r, 187.0, 0.6);
        c.text(cols[0] + 1.0, 191.5, 7.0, "Total gross weight (kg) 总毛重 · Total value 总价值");
        let gross = input.gross_weight_g.map(u64::from).unwrap_or(v.total_net_weight_g);
        c.text_right(cols[3] - 1.5, 191.5, 8.5, &kg(gross));
        let total = format!("{} {}", v.total_value.as_deref().unwrap_or(""), v.currency.as_deref().unwrap_or(""));
        c.text_right(cols[4] - 1.5, 191.5, 8.5, &total);
        c.text_fit(
            cols[4] + 1.0,
            191.5,
            6.5,
            cols[6] - cols[4] - 2.0,
            &format!("Postal charges/Fees 邮费: {}", opt(&input.postal_charges)),
        );
        c.line(l, 194.0, r, 194.0, 0.8);
        // Comments, with the certificates the declaration needs; licences, certificates, invoice.
        c.text(
            l + 2.0,
            198.0,
            7.0,
            "Comments 备注 (e.g. goods subject to quarantine, sanitary/phytosanitary inspection)",
        );
        let mut comments = opt(&input.comments).to_string();
        if !v.required_certificates.is_empty() {
            let needed: Vec<&str> = v.required_certificates.iter().map(|c| certificate_label(*c)).collect();
            if !comments.is_empty() {
                comments.push_str("; ");
            }
            comments.push_str(&format!("enclosed 附: {}", needed.join(", ")));
        }
        c.para(l + 3.0, 203.0, 7.5, mid - l - 5.0, 3.4, 3, &comments);
        c.line(mid, 194.0, mid, 232.0, 0.6);
        let docs = [
            (197.0, "Licence 许可证 No(s).", opt(&input.licence_numbers)),
            (203.5, "Certificate 证书 No(s).", opt(&input.certificate_numbers)),
            (210.0, "Invoice 发票 No.", opt(&input.invoice_number)),
        ];
        for (y0, label, value) in docs {
            c.checkbox(mid + 3.0, y0, 3.0, !value.is_empty());
            c.text(mid + 8.0, y0 + 2.6, 7.0, label);
            c.text_fit(mid + 42.0, y0 + 2.6, 8.0, r - mid - 45.0, value);
        }
        c.line(l, 215.0, r, 215.0, 0.6);
        c.text(l + 2.0, 219.0, 7.0, "Office of origin/Date of posting 原寄局/交寄日期");
        c.text_fit(l + 4.0, 227.0, 8.5, mid - l - 6.0, opt(&input.office_of_origin));
        c.text(mid + 2.0, 219.0, 7.0, "In case of non-delivery 如无法投递:");
        let nd = input.non_delivery;
        c.checkbox(mid + 3.0, 221.0, 3.0, nd == Some(NonDelivery::Return));
        c.text(mid + 8.0, 223.6, 7.0, "Return to sender 退回寄件人");
        c.checkbox(mid + 50.0, 221.0, 3.0, nd == Some(NonDelivery::Abandon));
        c.text(mid + 55.0, 223.6, 7.0, "Treat as abandoned 按放弃处理");
        c.checkbox(mid + 3.0, 226.5, 3.0, nd == Some(NonDelivery::Redirect));
        c.text(mid + 8.0, 229.1, 7.0, "Redirect to 改寄:");
        c.text_fit(mid + 30.0, 229.1, 7.5, r - mid - 33.0, opt(&input.redirect_to));
        c.line(l, 232.0, r, 232.0, 0.8);
        let y = c.para(l + 2.0, 237.0, 7.0, r - l - 4.0, 3.2, 4, DECLARATION_EN);
        let y = c.para(l + 2.0, y + 0.5, 7.0, r - l - 4.0, 3.2, 2, DECLARATION_ZH);
        c.text(l + 2.0, y + 4.0, 7.0, "Date and sender's signature 日期和寄件人签字");
        let sig =
            [opt(&input.date), opt(&input.signatory)].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>();
        c.text_fit(l + 4.0, y + 13.0, 10.0, r - l - 8.0, &sig.join("     "));
        c.line(l + 4.0, y + 15.0, r - 4.0, y + 15.0, 0.3);
    })?;
    for p in 1..pages {
        let from = CN23_ROWS_FIRST + (p - 1) * CN23_ROWS_MORE;
        doc.page(w, h, &fonts.font, |c| {
            header(c, p, &mut failed);
            c.text(l + 2.0, 32.0, 8.0, "Continued: contents 续页：内件");
            cn23_table_head(c, &cols, 35.0);
            let end = cn23_rows(c, &cols, 47.0, v, from, CN23_ROWS_MORE);
            for x in &cols[1..6] {
                c.line(*x, 35.0, *x, end, 0.4);
            }
        })?;
    }
    if let Some(e) = failed {
        return Err(e);
    }
    doc.finish()
}
