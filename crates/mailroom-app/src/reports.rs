//! Reports over the items of the organisation the caller acts in: counts by status and
//! category, as JSON or as a CSV export. Aggregates only; no item-level data.

use crate::{App, AppResult, Principal};
use mailroom_domain::auth::{Permission, require};
use mailroom_domain::item::{Category, Status};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The number of items with one status and category.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportRow {
    pub status: Status,
    pub category: Category,
    pub count: i64,
}

/// Item counts of one organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemReport {
    pub total: i64,
    /// Items physically in the mailroom (received, stored, notified, ready for pickup, held).
    pub in_mailroom: i64,
    /// Counts by status code.
    pub by_status: BTreeMap<String, i64>,
    /// Counts by category code.
    pub by_category: BTreeMap<String, i64>,
    /// Counts by status and category.
    pub rows: Vec<ReportRow>,
}

impl ItemReport {
    /// The report as CSV: a header and one `status,category,count` line per row.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("status,category,count\n");
        for r in &self.rows {
            s.push_str(&format!("{},{},{}\n", r.status, r.category, r.count));
        }
        s
    }
}

impl App {
    /// Item counts of the organisation the caller acts in.
    pub async fn item_report(&self, p: &Principal) -> AppResult<ItemReport> {
        require(p.role, Permission::ViewReports)?;
        let counts = self.store.item_counts(p.tenant_id).await?;
        let mut report = ItemReport {
            total: 0,
            in_mailroom: 0,
            by_status: BTreeMap::new(),
            by_category: BTreeMap::new(),
            rows: Vec::with_capacity(counts.len()),
        };
        for c in counts {
            report.total += c.count;
            if c.status.in_mailroom() {
                report.in_mailroom += c.count;
            }
            *report.by_status.entry(c.status.to_string()).or_default() += c.count;
            *report.by_category.entry(c.category.to_string()).or_default() += c.count;
            report.rows.push(ReportRow { status: c.status, category: c.category, count: c.count });
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_header_and_one_line_per_row() {
        let r = ItemReport {
            total: 3,
            in_mailroom: 3,
            by_status: BTreeMap::new(),
            by_category: BTreeMap::new(),
            rows: vec![
                ReportRow { status: Status::Received, category: Category::Invoice, count: 2 },
                ReportRow { status: Status::Stored, category: Category::General, count: 1 },
            ],
        };
        assert_eq!(r.to_csv(), "status,category,count\nreceived,invoice,2\nstored,general,1\n");
    }
}
