//! A small drawing layer over krilla: millimetre coordinates from the top left, text in the one
//! document font, boxes, check boxes and barcodes as vector rectangles.

use crate::PdfError;
use krilla::Document;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use rxing::{BarcodeFormat, EncodeHints, MultiFormatWriter, Writer};

/// Points per millimetre.
pub const MM: f32 = 72.0 / 25.4;

/// A document being written, page by page.
pub struct Doc {
    doc: Document,
}

impl Doc {
    pub fn new(title: &str) -> Doc {
        Doc::with_language(title, "zh-CN")
    }

    /// A document whose text is mainly in `language` (a BCP 47 tag).
    pub fn with_language(title: &str, language: &str) -> Doc {
        let mut doc = Document::new();
        doc.set_metadata(
            Metadata::new().title(title.to_string()).language(language.to_string()).creator("mailroom".to_string()),
        );
        Doc { doc }
    }

    /// Draws one page of `w` × `h` millimetres.
    pub fn page(&mut self, w: f32, h: f32, font: &Font, f: impl FnOnce(&mut Canvas<'_>)) -> Result<(), PdfError> {
        let settings = PageSettings::from_wh(w * MM, h * MM).ok_or_else(|| PdfError::Render("bad page size".into()))?;
        let mut page = self.doc.start_page_with(settings);
        {
            let mut c = Canvas { s: page.surface(), font: font.clone() };
            f(&mut c);
            c.s.finish();
        }
        page.finish();
        Ok(())
    }

    pub fn finish(self) -> Result<Vec<u8>, PdfError> {
        self.doc.finish().map_err(|e| PdfError::Render(format!("{e:?}")))
    }
}

/// One page's surface.
pub struct Canvas<'a> {
    s: Surface<'a>,
    font: Font,
}

/// Estimated advance of a character in ems (the layout only needs to stay inside its boxes:
/// CJK and full-width forms one em, Latin about half).
fn char_em(c: char) -> f32 {
    match c {
        '\u{1100}'..='\u{115F}' | '\u{2E80}'..='\u{A4CF}' | '\u{AC00}'..='\u{D7A3}' | '\u{F900}'..='\u{FAFF}' => 1.0,
        '\u{FF00}'..='\u{FF60}' | '\u{FFE0}'..='\u{FFE6}' => 1.0,
        'A'..='Z' | '0'..='9' | 'm' | 'w' | '#' | '%' | '&' | '@' => 0.62,
        'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' => 0.3,
        _ => 0.55,
    }
}

/// Estimated width of `s` in millimetres at `size` points.
pub fn width(s: &str, size: f32) -> f32 {
    s.chars().map(char_em).sum::<f32>() * size / MM
}

/// Text without control characters (a stray tab or new line must not reach the PDF).
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_string()
}

/// `s` cut to fit `max` millimetres at `size` points, with an ellipsis when cut.
pub fn fit(s: &str, size: f32, max: f32) -> String {
    let s = clean(s);
    if width(&s, size) <= max {
        return s;
    }
    let mut out = String::new();
    let mut w = width("…", size);
    for c in s.chars() {
        w += char_em(c) * size / MM;
        if w > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// `s` broken into lines of at most `max` millimetres (at spaces where possible, anywhere in
/// CJK text), at most `max_lines` lines (the last one cut with an ellipsis).
pub fn wrap(s: &str, size: f32, max: f32, max_lines: usize) -> Vec<String> {
    let s = clean(s);
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut last_space: Option<usize> = None;
    for c in s.chars() {
        cur.push(c);
        if c == ' ' {
            last_space = Some(cur.len());
        }
        if width(&cur, size) > max {
            let (head, tail) = match last_space {
                Some(i) if i < cur.len() && i > 1 => (cur[..i].trim_end().to_string(), cur[i..].to_string()),
                _ => {
                    let mut head = cur.clone();
                    let last = head.pop().map(String::from).unwrap_or_default();
                    (head, last)
                }
            };
            lines.push(head);
            cur = tail;
            last_space = None;
        }
    }
    if !cur.trim().is_empty() {
        lines.push(cur.trim().to_string());
    }
    if lines.len() > max_lines {
        let rest = lines[max_lines - 1..].join(" ");
        lines.truncate(max_lines - 1);
        lines.push(fit(&rest, size, max));
    }
    lines
}

impl Canvas<'_> {
    /// Text with its baseline at (`x`, `y`) mm, `size` points.
    pub fn text(&mut self, x: f32, y: f32, size: f32, s: &str) {
        let s = clean(s);
        if s.is_empty() {
            return;
        }
        self.s.set_fill(Some(Fill::default()));
        self.s.draw_text(Point::from_xy(x * MM, y * MM), self.font.clone(), size, &s, false, TextDirection::Auto);
    }

    /// Text cut to `max` mm.
    pub fn text_fit(&mut self, x: f32, y: f32, size: f32, max: f32, s: &str) {
        let t = fit(s, size, max);
        self.text(x, y, size, &t);
    }

    /// Text right-aligned at `right` mm.
    pub fn text_right(&mut self, right: f32, y: f32, size: f32, s: &str) {
        let w = width(s, size);
        self.text(right - w, y, size, s);
    }

    /// Wrapped text from baseline `y`, `lead` mm between lines; returns the baseline after the
    /// last line.
    #[allow(clippy::too_many_arguments)]
    pub fn para(&mut self, x: f32, y: f32, size: f32, max: f32, lead: f32, max_lines: usize, s: &str) -> f32 {
        let mut y = y;
        for l in wrap(s, size, max, max_lines) {
            self.text(x, y, size, &l);
            y += lead;
        }
        y
    }

    /// A rectangle outline.
    pub fn frame(&mut self, x: f32, y: f32, w: f32, h: f32, line: f32) {
        let Some(r) = Rect::from_xywh(x * MM, y * MM, w * MM, h * MM) else { return };
        let mut pb = PathBuilder::new();
        pb.push_rect(r);
        if let Some(p) = pb.finish() {
            self.s.set_fill(None);
            self.s.set_stroke(Some(Stroke { width: line, ..Stroke::default() }));
            self.s.draw_path(&p);
            self.s.set_stroke(None);
        }
    }

    /// A straight line.
    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, line: f32) {
        let mut pb = PathBuilder::new();
        pb.move_to(x1 * MM, y1 * MM);
        pb.line_to(x2 * MM, y2 * MM);
        if let Some(p) = pb.finish() {
            self.s.set_fill(None);
            self.s.set_stroke(Some(Stroke { width: line, ..Stroke::default() }));
            self.s.draw_path(&p);
            self.s.set_stroke(None);
        }
    }

    /// A check box of `size` mm with its top left at (`x`, `y`), crossed when `on`.
    pub fn checkbox(&mut self, x: f32, y: f32, size: f32, on: bool) {
        self.frame(x, y, size, size, 0.6);
        if on {
            self.line(x + 0.5, y + 0.5, x + size - 0.5, y + size - 0.5, 1.0);
            self.line(x + size - 0.5, y + 0.5, x + 0.5, y + size - 0.5, 1.0);
        }
    }

    /// Black rectangles (in mm), filled as one path.
    fn fill_rects(&mut self, rects: &[(f32, f32, f32, f32)]) {
        let mut pb = PathBuilder::new();
        for &(x, y, w, h) in rects {
            if let Some(r) = Rect::from_xywh(x * MM, y * MM, w * MM, h * MM) {
                pb.push_rect(r);
            }
        }
        if let Some(p) = pb.finish() {
            self.s.set_stroke(None);
            self.s.set_fill(Some(Fill::default()));
            self.s.draw_path(&p);
        }
    }

    /// A Code 128 barcode of `text`, top left at (`x`, `y`), `module` mm a module, `h` mm tall.
    /// The caller leaves a quiet zone of ten modules on each side. Returns the width in mm.
    pub fn code128(&mut self, x: f32, y: f32, module: f32, h: f32, text: &str) -> Result<f32, PdfError> {
        let hints = EncodeHints { Margin: Some("0".into()), ..Default::default() };
        let m = MultiFormatWriter
            .encode_with_hints(text, &BarcodeFormat::CODE_128, 0, 0, &hints)
            .map_err(|e| PdfError::Render(format!("Code 128 of {text:?}: {e}")))?;
        let mut rects = Vec::new();
        let mut run: Option<u32> = None;
        for mx in 0..=m.width() {
            let dark = mx < m.width() && m.get(mx, 0);
            match (dark, run) {
                (true, None) => run = Some(mx),
                (false, Some(start)) => {
                    rects.push((x + start as f32 * module, y, (mx - start) as f32 * module, h));
                    run = None;
                }
                _ => {}
            }
        }
        self.fill_rects(&rects);
        Ok(m.width() as f32 * module)
    }

    /// Width in mm of the Code 128 of `text` at `module` mm a module (without quiet zones).
    pub fn code128_width(text: &str, module: f32) -> Result<f32, PdfError> {
        let hints = EncodeHints { Margin: Some("0".into()), ..Default::default() };
        let m = MultiFormatWriter
            .encode_with_hints(text, &BarcodeFormat::CODE_128, 0, 0, &hints)
            .map_err(|e| PdfError::Render(format!("Code 128 of {text:?}: {e}")))?;
        Ok(m.width() as f32 * module)
    }

    /// A QR code of `text` (level M), top left at (`x`, `y`), `size` mm square without its quiet
    /// zone (the caller leaves four modules white around it).
    pub fn qr(&mut self, x: f32, y: f32, size: f32, text: &str) -> Result<(), PdfError> {
        let hints = EncodeHints {
            CharacterSet: Some("UTF-8".into()),
            ErrorCorrection: Some("M".into()),
            Margin: Some("0".into()),
            ..Default::default()
        };
        let m = MultiFormatWriter
            .encode_with_hints(text, &BarcodeFormat::QR_CODE, 0, 0, &hints)
            .map_err(|e| PdfError::Render(format!("QR code of {text:?}: {e}")))?;
        let module = size / m.width().max(1) as f32;
        let mut rects = Vec::new();
        for my in 0..m.height() {
            let mut run: Option<u32> = None;
            for mx in 0..=m.width() {
                let dark = mx < m.width() && m.get(mx, my);
                match (dark, run) {
                    (true, None) => run = Some(mx),
                    (false, Some(start)) => {
                        rects.push((
                            x + start as f32 * module,
                            y + my as f32 * module,
                            (mx - start) as f32 * module,
                            module,
                        ));
                        run = None;
                    }
                    _ => {}
                }
            }
        }
        self.fill_rects(&rects);
        Ok(())
    }
}
