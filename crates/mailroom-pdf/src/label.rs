//! The address label: 100 × 150 mm, the size thermal label printers take.

use crate::draw::{Canvas, Doc, width};
use crate::{Fonts, LabelInput, PdfError, check_reference};
use mailroom_domain::address::{CheckRequest, Severity, Verdict, check};

/// Label width and height in millimetres.
pub const LABEL_W: f32 = 100.0;
pub const LABEL_H: f32 = 150.0;

/// An address's label lines, checked. `required_valid`: refuse an address with errors (the
/// recipient); otherwise only a country that is not recognised, or no address at all, is refused.
pub(crate) fn address_lines(field: &str, req: &CheckRequest, required_valid: bool) -> Result<Verdict, PdfError> {
    let v = check(req);
    if v.country.is_none() {
        return Err(PdfError::invalid(&format!("{field}.country"), format!("unknown country {:?}", req.country)));
    }
    if required_valid && !v.valid {
        let why: Vec<String> =
            v.problems.iter().filter(|p| p.severity == Severity::Error).map(|p| p.message.clone()).collect();
        return Err(PdfError::invalid(field, format!("the address is not valid: {}", why.join("; "))));
    }
    // The last line is the country; an address needs at least one more.
    if v.lines.len() < 2 {
        return Err(PdfError::invalid(field, "the address is empty"));
    }
    Ok(v)
}

/// The label of an outbound item: sender, recipient in the destination's order and script with
/// its Latin rendering, the destination country in English and Chinese, the service, and the
/// reference as Code 128 and QR code. One page, 100 × 150 mm.
pub fn address_label(input: &LabelInput, fonts: &Fonts) -> Result<Vec<u8>, PdfError> {
    let reference = check_reference("reference", &input.reference)?;
    let sender = address_lines("sender", &input.sender, false)?;
    let recipient = address_lines("recipient", &input.recipient, true)?;
    let country = recipient.country.as_ref().map(|c| (c.name_en.to_uppercase(), c.name_zh)).unwrap_or_default();
    // Code 128 at most 0.38 mm a module, within 56 mm (clear of the QR code's quiet zone).
    let module = (56.0 / Canvas::code128_width(&reference, 1.0)?).clamp(0.12, 0.38);
    let mut failed = None;
    let mut doc = Doc::new(&format!("Label {reference}"));
    doc.page(LABEL_W, LABEL_H, &fonts.font, |c| {
        c.frame(3.0, 3.0, LABEL_W - 6.0, LABEL_H - 6.0, 1.0);
        // Sender: the address lines without the country line, then the country.
        c.text(6.0, 8.5, 6.5, "FROM 寄件人");
        let mut y = 12.0;
        let n = sender.lines.len();
        for l in sender.lines.iter().take(n.min(6)) {
            c.text_fit(6.0, y, 7.5, LABEL_W - 12.0, l);
            y += 3.3;
        }
        if !sender.latin_lines.is_empty() {
            let latin: Vec<&str> = sender.latin_lines.iter().map(String::as_str).collect();
            c.text_fit(6.0, y, 6.0, LABEL_W - 12.0, &latin.join(", "));
        }
        c.line(3.0, 36.0, LABEL_W - 3.0, 36.0, 0.8);
        // Recipient, large: the lines in the country's script, then the Latin rendering.
        c.text(6.0, 41.5, 7.0, "TO 收件人");
        let mut y = 48.0;
        for l in recipient.lines.iter().take(7) {
            c.text_fit(8.0, y, 11.0, LABEL_W - 14.0, l);
            y += 5.0;
        }
        if !recipient.latin_lines.is_empty() {
            y += 1.0;
            for l in recipient.latin_lines.iter().take(7) {
                if y > 101.0 {
                    break;
                }
                c.text_fit(8.0, y, 8.5, LABEL_W - 14.0, l);
                y += 3.8;
            }
        }
        // Destination country, English and Chinese.
        c.line(3.0, 104.0, LABEL_W - 3.0, 104.0, 0.8);
        c.text(6.0, 111.5, 15.0, &country.0);
        let en_w = width(&country.0, 15.0);
        c.text_fit(6.0 + en_w + 3.0, 111.5, 15.0, LABEL_W - 12.0 - en_w - 3.0, country.1);
        c.line(3.0, 114.5, LABEL_W - 3.0, 114.5, 0.8);
        let mut service = String::new();
        if let Some(m) = input.method.as_deref().filter(|m| !m.trim().is_empty()) {
            service.push_str(&format!("Service 服务: {}", m.trim()));
        }
        if let Some(g) = input.weight_g {
            if !service.is_empty() {
                service.push_str("    ");
            }
            service.push_str(&format!("Weight 重量: {}.{:03} kg", g / 1000, g % 1000));
        }
        c.text_fit(6.0, 119.0, 8.0, LABEL_W - 12.0, &service);
        // The reference: Code 128 on the left, QR code on the right, with quiet zones.
        if let Err(e) = c.code128(7.0, 123.0, module, 14.0, &reference) {
            failed = Some(e);
        }
        c.text(7.0, 142.0, 10.0, &reference);
        if let Err(e) = c.qr(LABEL_W - 28.0, 121.5, 22.0, &reference) {
            failed = Some(e);
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    doc.finish()
}
