//! Tabular reports: a page header on every page, a table whose header row is repeated on each
//! page, rows packed onto as many pages as they need, a closing block after the last row and
//! page numbers (`1 / 3`) at the foot of each page.

use crate::draw::{Canvas, Doc};
use crate::{Fonts, PdfError};

/// The language of a report's headings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Zh,
    En,
}

impl Lang {
    /// `zh-CN` (also `zh`, `zh-Hans`) or `en` (also `en-GB`, `en-US` …).
    pub(crate) fn parse(field: &str, s: &str) -> Result<Lang, PdfError> {
        let s = s.trim().to_ascii_lowercase();
        if s == "zh" || s == "zh-cn" || s == "zh-hans" || s == "zh-hans-cn" {
            Ok(Lang::Zh)
        } else if s == "en" || s.starts_with("en-") {
            Ok(Lang::En)
        } else {
            Err(PdfError::invalid(field, "the language must be zh-CN or en"))
        }
    }

    /// The text in this language.
    pub(crate) fn t(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The document language tag.
    pub(crate) fn tag(self) -> &'static str {
        self.t("zh-CN", "en")
    }
}

/// An amount in fen as yuan with two decimals and thousands separators: `1,234.50`.
pub(crate) fn yuan(fen: i64) -> String {
    let a = fen.unsigned_abs();
    let digits = (a / 100).to_string();
    let mut out = String::new();
    if fen < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(&format!(".{:02}", a % 100));
    out
}

/// Grams as kilograms with three decimals: `1.250`.
pub(crate) fn kg(g: u64) -> String {
    format!("{}.{:03}", g / 1000, g % 1000)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// A table column: its heading, relative width and alignment.
pub(crate) struct Column {
    pub title: String,
    pub width: f32,
    pub align: Align,
}

impl Column {
    pub(crate) fn new(title: &str, width: f32, align: Align) -> Column {
        Column { title: title.to_string(), width, align }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowKind {
    /// An ordinary line.
    Line,
    /// A group heading: its first cell across the whole table.
    Group,
    /// A group's subtotal.
    Sum,
    /// The grand total.
    Total,
}

impl RowKind {
    fn height(self) -> f32 {
        match self {
            RowKind::Line => 6.0,
            RowKind::Group | RowKind::Sum => 6.5,
            RowKind::Total => 8.0,
        }
    }
}

/// One table row.
pub(crate) struct Row {
    pub kind: RowKind,
    pub cells: Vec<String>,
    /// The group heading repeated above this row when it is the first on a page.
    pub cont: Option<String>,
}

impl Row {
    pub(crate) fn line(cells: Vec<String>, cont: Option<String>) -> Row {
        Row { kind: RowKind::Line, cells, cont }
    }

    pub(crate) fn group(heading: String) -> Row {
        Row { kind: RowKind::Group, cells: vec![heading], cont: None }
    }

    pub(crate) fn sum(cells: Vec<String>, cont: Option<String>) -> Row {
        Row { kind: RowKind::Sum, cells, cont }
    }

    pub(crate) fn total(cells: Vec<String>) -> Row {
        Row { kind: RowKind::Total, cells, cont: None }
    }
}

/// A report's geometry and contents.
pub(crate) struct Report<'a> {
    /// Page width and height in mm.
    pub page: (f32, f32),
    pub margin: f32,
    /// Where the table's header row starts, below the page header.
    pub table_top: f32,
    pub columns: &'a [Column],
    pub rows: &'a [Row],
    /// Height of the closing block drawn after the last row.
    pub end_height: f32,
    /// Printed at the foot of each page, left (the page number is on the right).
    pub footer: String,
}

const HEAD_H: f32 = 8.0;
/// Space between a cell's text and its column's edges, in mm.
const PAD: f32 = 1.5;
const FOOT: f32 = 14.0;
const GAP: f32 = 4.0;

/// What one page holds: rows (by index), continuation headings, and whether the closing block
/// is drawn on it.
#[derive(Debug, Default, PartialEq)]
struct PagePlan {
    items: Vec<Item>,
    end: bool,
}

#[derive(Debug, PartialEq)]
enum Item {
    Row(usize),
    Cont(String),
}

impl Report<'_> {
    fn first_row_y(&self) -> f32 {
        self.table_top + HEAD_H
    }

    fn capacity(&self) -> f32 {
        self.page.1 - FOOT - self.first_row_y()
    }

    /// Packs the rows onto pages. A group heading is not left alone at the foot of a page; a
    /// page that starts inside a group repeats its heading; the closing block goes after the
    /// last row, on a page of its own when it does not fit.
    fn plan(&self) -> Vec<PagePlan> {
        let cap = self.capacity();
        let mut pages = vec![PagePlan::default()];
        let mut used = 0.0;
        for (i, row) in self.rows.iter().enumerate() {
            let h = row.kind.height();
            let need = if row.kind == RowKind::Group { h + RowKind::Line.height() } else { h };
            let empty = pages.last().is_none_or(|p| p.items.is_empty());
            if used + need > cap && !empty {
                pages.push(PagePlan::default());
                used = 0.0;
                if let Some(c) = &row.cont {
                    if let Some(p) = pages.last_mut() {
                        p.items.push(Item::Cont(c.clone()));
                    }
                    used += RowKind::Group.height();
                }
            }
            if let Some(p) = pages.last_mut() {
                p.items.push(Item::Row(i));
            }
            used += h;
        }
        let empty = pages.last().is_none_or(|p| p.items.is_empty());
        if used + GAP + self.end_height > cap && !empty {
            pages.push(PagePlan::default());
        }
        if let Some(p) = pages.last_mut() {
            p.end = true;
        }
        pages
    }

    /// The columns' left and right edges, scaled to the width between the margins.
    fn edges(&self) -> Vec<(f32, f32)> {
        let total: f32 = self.columns.iter().map(|c| c.width).sum::<f32>().max(1.0);
        let scale = (self.page.0 - 2.0 * self.margin) / total;
        let mut x = self.margin;
        self.columns
            .iter()
            .map(|c| {
                let e = (x, x + c.width * scale);
                x = e.1;
                e
            })
            .collect()
    }

    fn head(&self, c: &mut Canvas<'_>, edges: &[(f32, f32)]) {
        let (l, r) = (self.margin, self.page.0 - self.margin);
        let y = self.table_top;
        c.line(l, y, r, y, 1.0);
        for (col, (x0, x1)) in self.columns.iter().zip(edges) {
            cell(c, col.align, *x0, *x1, y + 5.4, 8.0, &col.title);
        }
        c.line(l, y + HEAD_H, r, y + HEAD_H, 0.6);
    }

    fn row(&self, c: &mut Canvas<'_>, edges: &[(f32, f32)], y: f32, row: &Row) {
        let (l, r) = (self.margin, self.page.0 - self.margin);
        let h = row.kind.height();
        match row.kind {
            RowKind::Group => {
                let text = row.cells.first().map(String::as_str).unwrap_or("");
                c.text_fit(l + 1.0, y + 4.7, 9.0, r - l - 2.0, text);
                c.line(l, y + h, r, y + h, 0.3);
            }
            RowKind::Line | RowKind::Sum | RowKind::Total => {
                let (size, above) = match row.kind {
                    RowKind::Line => (8.5, 0.0),
                    RowKind::Sum => (8.5, 0.5),
                    _ => (9.5, 1.2),
                };
                if above > 0.0 {
                    c.line(l, y, r, y, above);
                }
                let base = y + h / 2.0 + 1.3;
                for ((col, (x0, x1)), text) in self.columns.iter().zip(edges).zip(&row.cells) {
                    cell(c, col.align, *x0, *x1, base, size, text);
                }
                let below = if row.kind == RowKind::Total { 1.2 } else { 0.15 };
                c.line(l, y + h, r, y + h, below);
            }
        }
    }

    /// Draws the report into `doc`: `header` draws the top of each page (page index, pages),
    /// `end` the closing block from the given top.
    pub(crate) fn render(
        &self,
        doc: &mut Doc,
        fonts: &Fonts,
        mut header: impl FnMut(&mut Canvas<'_>, usize, usize) -> Result<(), PdfError>,
        end: impl FnOnce(&mut Canvas<'_>, f32),
    ) -> Result<(), PdfError> {
        let plan = self.plan();
        let pages = plan.len();
        let edges = self.edges();
        let (w, h) = self.page;
        let mut end = Some(end);
        let mut failed = None;
        for (p, page) in plan.iter().enumerate() {
            doc.page(w, h, &fonts.font, |c| {
                if let Err(e) = header(c, p, pages) {
                    failed = Some(e);
                }
                let mut y = self.table_top;
                let has_rows = page.items.iter().any(|i| matches!(i, Item::Row(_)));
                if has_rows {
                    self.head(c, &edges);
                    y = self.first_row_y();
                    for item in &page.items {
                        match item {
                            Item::Row(i) => {
                                if let Some(row) = self.rows.get(*i) {
                                    self.row(c, &edges, y, row);
                                    y += row.kind.height();
                                }
                            }
                            Item::Cont(text) => {
                                self.row(c, &edges, y, &Row::group(text.clone()));
                                y += RowKind::Group.height();
                            }
                        }
                    }
                    y += GAP;
                }
                if page.end
                    && let Some(f) = end.take()
                {
                    f(c, y);
                }
                let foot = h - FOOT + 7.0;
                c.line(self.margin, foot - 4.0, w - self.margin, foot - 4.0, 0.3);
                c.text_fit(self.margin, foot, 7.5, w - 2.0 * self.margin - 30.0, &self.footer);
                c.text_right(w - self.margin, foot, 8.0, &format!("{} / {pages}", p + 1));
            })?;
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// One cell's text, cut to its column, left or right aligned.
fn cell(c: &mut Canvas<'_>, align: Align, x0: f32, x1: f32, base: f32, size: f32, text: &str) {
    let max = (x1 - x0 - 2.0 * PAD).max(1.0);
    match align {
        Align::Left => c.text_fit(x0 + PAD, base, size, max, text),
        Align::Right => {
            let t = crate::draw::fit(text, size, max);
            c.text_right(x1 - PAD, base, size, &t);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_yuan_with_separators() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(123_450), "1,234.50");
        assert_eq!(yuan(100_000_000), "1,000,000.00");
        assert_eq!(yuan(-99_999), "-999.99");
        assert_eq!(yuan(i64::MIN), "-92,233,720,368,547,758.08");
        assert_eq!(kg(1250), "1.250");
    }

    #[test]
    fn languages() {
        assert_eq!(Lang::parse("lang", "zh-CN").unwrap(), Lang::Zh);
        assert_eq!(Lang::parse("lang", "en").unwrap(), Lang::En);
        assert_eq!(Lang::parse("lang", "en-GB").unwrap(), Lang::En);
        assert!(Lang::parse("lang", "fr").is_err());
    }

    fn report<'a>(cols: &'a [Column], rows: &'a [Row], end_height: f32) -> Report<'a> {
        Report {
            page: (210.0, 297.0),
            margin: 15.0,
            table_top: 40.0,
            columns: cols,
            rows,
            end_height,
            footer: String::new(),
        }
    }

    #[test]
    fn pages_repeat_the_group_heading_and_keep_the_end_block_whole() {
        let cols = [Column::new("a", 1.0, Align::Left)];
        let mut rows = Vec::new();
        for _ in 0..50 {
            rows.push(Row::line(vec!["x".into()], Some("G (continued)".into())));
        }
        let r = report(&cols, &rows, 10.0);
        let plan = r.plan();
        assert!(plan.len() >= 2);
        assert_eq!(plan[1].items[0], Item::Cont("G (continued)".into()));
        assert!(plan.last().unwrap().end);
        assert!(plan.iter().take(plan.len() - 1).all(|p| !p.end));
        // All rows placed once, in order.
        let placed: Vec<usize> = plan
            .iter()
            .flat_map(|p| &p.items)
            .filter_map(|i| if let Item::Row(i) = i { Some(*i) } else { None })
            .collect();
        assert_eq!(placed, (0..50).collect::<Vec<_>>());
        // A closing block taller than what is left moves to a page of its own.
        let r = report(&cols, &rows[..30], 200.0);
        let plan = r.plan();
        assert_eq!(plan.len(), 2);
        assert!(plan[1].items.is_empty() && plan[1].end);
        // No rows at all: one page.
        assert_eq!(report(&cols, &[], 10.0).plan().len(), 1);
    }
}
