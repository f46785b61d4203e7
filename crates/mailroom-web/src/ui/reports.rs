//! The reports page: item counts of the organisation by status and category, the CSV export,
//! and (for roles that verify custody) a check of the organisation's custody log.

use super::session::UiUser;
use super::view::{Params, UiError, filled, html};
use crate::AppState;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use mailroom_domain::auth::Permission;
use mailroom_domain::item::{Category, Status};
use serde::Deserialize;

struct CountRow {
    label: String,
    count: i64,
}

struct VerdictView {
    ok: bool,
    line: String,
    problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    t: Tr,
    c: super::view::Chrome,
    total: i64,
    in_mailroom: i64,
    statuses: Vec<CountRow>,
    categories: Vec<CountRow>,
    can_verify: bool,
    verdict: Option<VerdictView>,
}

#[derive(Deserialize)]
pub(crate) struct ReportParams {
    verify: Option<String>,
}

pub(crate) async fn page(
    State(s): State<AppState>,
    u: UiUser,
    Params(q): Params<ReportParams>,
) -> Result<Response, UiError> {
    u.require(Permission::ViewReports)?;
    let t = u.t;
    let r = s.app.item_report(&u.principal).await.map_err(|e| u.fail(e))?;
    let statuses = Status::ALL
        .iter()
        .filter_map(|st| r.by_status.get(st.as_str()).map(|n| CountRow { label: t.status(*st), count: *n }))
        .collect();
    let categories = Category::ALL
        .iter()
        .filter_map(|c| r.by_category.get(c.as_str()).map(|n| CountRow { label: t.category(*c), count: *n }))
        .collect();
    let can_verify = u.may(Permission::VerifyCustody);
    let verdict = if can_verify && filled(&q.verify).is_some() {
        let v = s.app.verify_custody_as(&u.principal).await.map_err(|e| u.fail(e))?;
        let counts = [("events", v.events.to_string()), ("checkpoints", v.checkpoints.to_string())];
        let args: Vec<(&str, &str)> = counts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut problems: Vec<String> = v.broken.iter().map(|b| b.to_string()).collect();
        problems.extend(v.bad_checkpoints.iter().cloned());
        Some(VerdictView {
            ok: v.ok(),
            line: if v.ok() { t.fmt("reports.verify_ok", &args) } else { t.fmt("reports.verify_broken", &args) },
            problems,
        })
    } else {
        None
    };
    let page = ReportsPage {
        t,
        c: u.chrome("reports"),
        total: r.total,
        in_mailroom: r.in_mailroom,
        statuses,
        categories,
        can_verify,
        verdict,
    };
    Ok(html(StatusCode::OK, &page))
}
