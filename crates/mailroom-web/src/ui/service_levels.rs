//! The supervisor dashboard: items past their due-by, items due within the next 2 working hours,
//! unclaimed items by age, and disposal (or return) requests to approve or reject.

use super::session::UiUser;
use super::view::{Chrome, FormData, Params, UiError, enc, error_line, filled, html, local_time, see_other};
use crate::AppState;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailroom_app::AppError;
use mailroom_app::followup::{DisposalDecisionInput, ServiceLevelEntry};
use mailroom_domain::auth::Permission;
use mailroom_domain::ids::ItemId;
use serde::Deserialize;

struct Row {
    item_id: String,
    reference: String,
    status: String,
    category: String,
    priority: String,
    recipient: String,
    due: String,
    /// Working time left (or overdue), e.g. "1 h 30 min".
    left: String,
    days: i64,
    reminders: i64,
    escalated: bool,
    action: String,
    requested: String,
}

#[derive(Template)]
#[template(path = "service_levels.html")]
struct ServiceLevelsPage {
    t: Tr,
    c: Chrome,
    breaches: Vec<Row>,
    at_risk: Vec<Row>,
    unclaimed: Vec<Row>,
    pending: Vec<Row>,
    flash: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct PageParams {
    done: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct DecisionForm {
    csrf: String,
    note: Option<String>,
}

fn minutes(t: Tr, m: i64) -> String {
    let m = m.abs();
    let (h, min) = (m / 60, m % 60);
    let (hs, ms) = (h.to_string(), min.to_string());
    match (h, min) {
        (0, _) => t.fmt("sla.minutes", &[("m", &ms)]),
        (_, 0) => t.fmt("sla.hours", &[("h", &hs)]),
        _ => t.fmt("sla.hours_minutes", &[("h", &hs), ("m", &ms)]),
    }
}

fn row(t: Tr, e: &ServiceLevelEntry) -> Row {
    let f = &e.followup;
    Row {
        item_id: e.item_id.to_string(),
        reference: e.reference.clone(),
        status: t.status(e.status),
        category: t.category(e.category),
        priority: t.get(&format!("priority.{}", e.priority)).to_string(),
        recipient: e.recipient_name.clone(),
        due: e.due_by.map(local_time).unwrap_or_default(),
        left: e.working_minutes_left.map(|m| minutes(t, m)).unwrap_or_default(),
        days: e.days_waiting,
        reminders: f.reminders_sent,
        escalated: f.escalated_at.is_some(),
        action: f.disposal_action.map(|a| t.get(&format!("action.{}", a.action())).to_string()).unwrap_or_default(),
        requested: f.disposal_requested_at.map(local_time).unwrap_or_default(),
    }
}

async fn render(
    s: &AppState,
    u: &UiUser,
    flash: Option<String>,
    error: Option<(String, StatusCode)>,
) -> Result<Response, UiError> {
    let t = u.t;
    let sl = s.app.service_levels(&u.principal, s.app.clock.now()).await.map_err(|e| u.fail(e))?;
    let rows = |v: &[ServiceLevelEntry]| v.iter().map(|e| row(t, e)).collect::<Vec<_>>();
    let status = error.as_ref().map_or(StatusCode::OK, |(_, s)| *s);
    let page = ServiceLevelsPage {
        t,
        c: u.chrome("service_levels"),
        breaches: rows(&sl.breaches),
        at_risk: rows(&sl.at_risk),
        unclaimed: rows(&sl.unclaimed),
        pending: rows(&sl.pending_approvals),
        flash,
        error: error.map(|(e, _)| e),
    };
    Ok(html(status, &page))
}

pub(crate) async fn page(
    State(s): State<AppState>,
    u: UiUser,
    Params(q): Params<PageParams>,
) -> Result<Response, UiError> {
    u.require(Permission::SuperviseServiceLevels)?;
    let flash = filled(&q.done).map(|r| u.t.fmt("sla.decided", &[("reference", r)]));
    render(&s, &u, flash, None).await
}

async fn decide(s: AppState, u: UiUser, id: String, f: DecisionForm, approve: bool) -> Result<Response, UiError> {
    u.require(Permission::SuperviseServiceLevels)?;
    u.check_csrf(&f.csrf)?;
    let id: ItemId = id.parse().map_err(|_| u.fail(AppError::not_found("item")))?;
    let input = DisposalDecisionInput { note: filled(&f.note).map(str::to_string) };
    match s.app.decide_disposal(&u.principal, &u.ctx, id, approve, &input).await {
        Ok(item) => Ok(see_other(&format!("/ui/service-levels?done={}", enc(&item.reference)))),
        Err(e @ (AppError::Internal(_) | AppError::Rows(_))) => Err(u.fail(e)),
        Err(e) if matches!(e.code(), mailroom_domain::ErrorCode::NotFound) => Err(u.fail(e)),
        Err(e) => {
            let line = error_line(u.t, &e);
            render(&s, &u, None, Some((line, crate::problem::status_for(e.code())))).await
        }
    }
}

pub(crate) async fn approve(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(f): FormData<DecisionForm>,
) -> Result<Response, UiError> {
    decide(s, u, id, f, true).await
}

pub(crate) async fn reject(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(f): FormData<DecisionForm>,
) -> Result<Response, UiError> {
    decide(s, u, id, f, false).await
}
