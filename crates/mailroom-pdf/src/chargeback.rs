//! The monthly postage chargeback report: A4 portrait, one group per department with its cost
//! centres, a subtotal per department and the grand total.

use crate::draw::Doc;
use crate::table::{Align, Column, Lang, Report, Row, yuan};
use crate::{ChargebackInput, Fonts, PdfError};

/// The department's heading: code and name, or "no department" for cost centres that bill none.
fn department_heading(lang: Lang, code: &str, name: &str) -> String {
    let text = [code.trim(), name.trim()].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join("  ");
    if text.is_empty() { lang.t("未归属部门", "No department").to_string() } else { text }
}

/// The chargeback report as PDF: per department its cost centres (code, name, number of
/// charges, amount), a subtotal, and the grand total; amounts in yuan. Headings in the input's
/// language (`zh-CN` or `en`), names as given.
pub fn chargeback_report(input: &ChargebackInput, fonts: &Fonts) -> Result<Vec<u8>, PdfError> {
    let lang = Lang::parse("lang", &input.lang)?;
    let month = input.month.trim();
    let columns = [
        Column::new(lang.t("成本中心", "Cost centre"), 32.0, Align::Left),
        Column::new(lang.t("名称", "Name"), 88.0, Align::Left),
        Column::new(lang.t("笔数", "Charges"), 25.0, Align::Right),
        Column::new(lang.t("金额（元）", "Amount (CNY)"), 35.0, Align::Right),
    ];
    let mut rows = Vec::new();
    for d in &input.departments {
        let heading = department_heading(lang, &d.code, &d.name);
        let cont = format!("{heading} {}", lang.t("（续）", "(continued)"));
        rows.push(Row::group(heading.clone()));
        for l in &d.cost_centres {
            rows.push(Row::line(
                vec![l.code.clone(), l.name.clone(), l.charges.to_string(), yuan(l.amount)],
                Some(cont.clone()),
            ));
        }
        rows.push(Row::sum(
            vec![lang.t("小计", "Subtotal").to_string(), heading, d.charges.to_string(), yuan(d.amount)],
            Some(cont),
        ));
    }
    let charges = input.departments.iter().fold(0_i64, |a, d| a.saturating_add(d.charges));
    rows.push(Row::total(vec![
        lang.t("合计", "Total").to_string(),
        String::new(),
        charges.to_string(),
        yuan(input.total),
    ]));
    let title = lang.t("邮资费用分摊报表", "Postage chargeback report");
    let report = Report {
        page: (210.0, 297.0),
        margin: 15.0,
        table_top: 40.0,
        columns: &columns,
        rows: &rows,
        end_height: 6.0,
        footer: format!("{} · {title} · {month}", input.organisation.trim()),
    };
    let mut doc = Doc::with_language(&format!("{title} {month}"), lang.tag());
    let (l, r) = (report.margin, report.page.0 - report.margin);
    report.render(
        &mut doc,
        fonts,
        |c, _, _| {
            c.text(l, 20.0, 16.0, title);
            c.text_fit(l, 28.0, 10.5, r - l, &input.organisation);
            let period = format!("{}{month}", lang.t("月份：", "Month: "));
            c.text(l, 34.5, 9.0, &period);
            let printed = format!("{}{}", lang.t("打印时间：", "Printed: "), input.printed_at.trim());
            c.text_right(r, 34.5, 8.0, &crate::draw::fit(&printed, 8.0, 90.0));
            Ok(())
        },
        |c, y| {
            let note = lang.t(
                "金额为各成本中心当月邮资支出减去退款，单位：元（人民币）。",
                "Amounts are each cost centre's postage for the month less refunds, in yuan (CNY).",
            );
            c.text_fit(l, y + 3.0, 7.5, r - l, note);
        },
    )?;
    doc.finish()
}
