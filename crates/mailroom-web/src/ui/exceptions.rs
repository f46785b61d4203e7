//! The exception queue: items whose recipient is missing, ambiguous or unreadable, each resolved
//! by choosing a candidate, searching the directory (exceptions.js) or returning it to the sender.

use super::session::UiUser;
use super::view::{Chrome, FormData, Params, UiError, enc, error_line, filled, html, local_time, see_other};
use crate::AppState;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use mailroom_app::AppError;
use mailroom_app::exceptions::{RecipientRef, ResolveInput};
use mailroom_app::store::ItemException;
use mailroom_domain::auth::Permission;
use mailroom_domain::exception::ExceptionStatus;
use mailroom_domain::ids::{DepartmentId, ExceptionId, PersonId};
use serde::Deserialize;

const PAGE_SIZE: i64 = 50;

struct CandidateView {
    person_id: String,
    label: String,
}

struct ExceptionRow {
    id: String,
    item_id: String,
    reference: String,
    tracking: String,
    carrier: String,
    reason: &'static str,
    reason_label: String,
    label_text: String,
    opened: String,
    age: String,
    version: i64,
    candidates: Vec<CandidateView>,
    resolution: String,
    resolved: String,
    note: String,
}

#[derive(Template)]
#[template(path = "exceptions.html")]
struct ExceptionsPage {
    t: Tr,
    c: Chrome,
    open: bool,
    rows: Vec<ExceptionRow>,
    next: Option<String>,
    flash: Option<String>,
    error: Option<String>,
    /// The caller may resolve (not only see) exceptions.
    handle: bool,
    /// Open staff tasks: items that arrived damaged, whose sender is to be contacted.
    tasks: Vec<TaskRow>,
}

struct TaskRow {
    id: String,
    item_id: String,
    reference: String,
    recipient: String,
    sender: String,
    sender_address: String,
    damage: String,
    tracking: String,
    age: String,
}

/// How long ago, in the largest whole unit.
fn age(t: Tr, since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (now - since).num_minutes().max(0);
    let (key, n) = if minutes < 60 {
        ("exceptions.age_minutes", minutes)
    } else if minutes < 48 * 60 {
        ("exceptions.age_hours", minutes / 60)
    } else {
        ("exceptions.age_days", minutes / (24 * 60))
    };
    t.fmt(key, &[("n", &n.to_string())])
}

fn row(t: Tr, x: &ItemException, now: DateTime<Utc>) -> ExceptionRow {
    ExceptionRow {
        id: x.id.to_string(),
        item_id: x.item_id.to_string(),
        reference: x.item_reference.clone(),
        tracking: x.tracking_number.clone().unwrap_or_default(),
        carrier: x.carrier.clone().unwrap_or_default(),
        reason: x.reason.as_str(),
        reason_label: t.get(&format!("exception_reason.{}", x.reason.as_str())).to_string(),
        label_text: x.label_text.clone().unwrap_or_default(),
        opened: local_time(x.opened_at),
        age: age(t, x.opened_at, now),
        version: x.item_version,
        candidates: x
            .candidates
            .iter()
            .map(|c| CandidateView {
                person_id: c.person_id.to_string(),
                label: match &c.name_latin {
                    Some(l) if l != &c.name => format!("{} ({l})", c.name),
                    _ => c.name.clone(),
                },
            })
            .collect(),
        resolution: x.resolution.map(|r| t.get(&format!("resolution.{}", r.as_str())).to_string()).unwrap_or_default(),
        resolved: x.resolved_at.map(local_time).unwrap_or_default(),
        note: x.resolution_note.clone().unwrap_or_default(),
    }
}

#[derive(Deserialize)]
pub(crate) struct QueueParams {
    status: Option<String>,
    cursor: Option<String>,
    done: Option<String>,
    task: Option<String>,
}

struct Extras {
    flash: Option<String>,
    error: Option<String>,
    status: StatusCode,
}

async fn queue_page(
    s: &AppState,
    u: &UiUser,
    status: Option<&str>,
    cursor: Option<&str>,
    extras: Extras,
) -> Result<Response, UiError> {
    let t = u.t;
    let page = s.app.list_exceptions(&u.principal, status, cursor, Some(PAGE_SIZE)).await.map_err(|e| u.fail(e))?;
    let open = status.is_none_or(|s| s == ExceptionStatus::Open.as_str());
    let now = Utc::now();
    let handle = u.may(Permission::HandleItems);
    let tasks = if open && handle {
        s.app
            .list_tasks(&u.principal, Some("open"))
            .await
            .map_err(|e| u.fail(e))?
            .into_iter()
            .map(|k| TaskRow {
                id: k.id.to_string(),
                item_id: k.item_id.to_string(),
                reference: k.item_reference,
                recipient: k.recipient_name,
                sender: [k.sender_name, k.sender_org].into_iter().flatten().collect::<Vec<_>>().join(", "),
                sender_address: k.sender_address.unwrap_or_default(),
                damage: k.damage_description.unwrap_or_default(),
                tracking: [k.carrier, k.tracking_number].into_iter().flatten().collect::<Vec<_>>().join(" "),
                age: age(t, k.opened_at, now),
            })
            .collect()
    } else {
        Vec::new()
    };
    let view = ExceptionsPage {
        tasks,
        t,
        c: u.chrome("exceptions").with_scripts(t, &["exceptions.js"]),
        open,
        rows: page.items.iter().map(|x| row(t, x, now)).collect(),
        next: page
            .next_cursor
            .map(|c| format!("/ui/exceptions?status={}&cursor={}", if open { "open" } else { "resolved" }, enc(&c))),
        flash: extras.flash,
        error: extras.error,
        handle,
    };
    Ok(html(extras.status, &view))
}

/// `GET /ui/exceptions`: the open queue (or `?status=resolved`).
pub(crate) async fn queue(
    State(s): State<AppState>,
    u: UiUser,
    Params(q): Params<QueueParams>,
) -> Result<Response, UiError> {
    u.require(Permission::RegisterItems)?;
    let flash = filled(&q.done)
        .map(|r| u.t.fmt("exceptions.done", &[("reference", r)]))
        .or_else(|| filled(&q.task).map(|r| u.t.fmt("tasks.flash", &[("reference", r)])));
    let extras = Extras { flash, error: None, status: StatusCode::OK };
    queue_page(&s, &u, filled(&q.status), filled(&q.cursor), extras).await
}

#[derive(Deserialize)]
pub(crate) struct ResolveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    resolution: String,
    person_id: Option<String>,
    department_id: Option<String>,
    note: Option<String>,
    version: Option<String>,
}

/// `POST /ui/exceptions/{id}/resolve`.
pub(crate) async fn resolve(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(f): FormData<ResolveForm>,
) -> Result<Response, UiError> {
    u.require(Permission::HandleItems)?;
    u.check_csrf(&f.csrf)?;
    let id: ExceptionId = id.parse().map_err(|_| u.fail(AppError::not_found("exception")))?;
    let bad = |field: &str| u.fail(mailroom_domain::DomainError::invalid(field, "not a valid id"));
    let person_id = filled(&f.person_id).map(|v| v.parse::<PersonId>().map_err(|_| bad("person_id"))).transpose()?;
    let department_id =
        filled(&f.department_id).map(|v| v.parse::<DepartmentId>().map_err(|_| bad("department_id"))).transpose()?;
    let input = ResolveInput {
        resolution: f.resolution.clone(),
        recipient: (person_id.is_some() || department_id.is_some())
            .then_some(RecipientRef { person_id, department_id }),
        note: filled(&f.note).map(str::to_string),
        expected_version: filled(&f.version).and_then(|v| v.parse().ok()),
    };
    match s.app.resolve_exception(&u.principal, &u.ctx, id, &input).await {
        Ok(r) => Ok(see_other(&format!("/ui/exceptions?done={}", enc(&r.item.reference)))),
        Err(e @ (AppError::Internal(_) | AppError::Rows(_))) => Err(u.fail(e)),
        Err(e) if matches!(e.code(), mailroom_domain::ErrorCode::NotFound) => Err(u.fail(e)),
        Err(e) => {
            let extras =
                Extras { flash: None, error: Some(error_line(u.t, &e)), status: crate::problem::status_for(e.code()) };
            queue_page(&s, &u, None, None, extras).await
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct TaskForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

/// `POST /ui/tasks/{id}/done`: the sender of a damaged item was contacted.
pub(crate) async fn task_done(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(f): FormData<TaskForm>,
) -> Result<Response, UiError> {
    u.require(Permission::HandleItems)?;
    u.check_csrf(&f.csrf)?;
    let id: uuid::Uuid = id.parse().map_err(|_| u.fail(AppError::not_found("task")))?;
    let input = mailroom_app::tasks::TaskDone { note: f.note.clone() };
    match s.app.complete_task(&u.principal, &u.ctx, id, &input).await {
        Ok(k) => Ok(see_other(&format!("/ui/exceptions?task={}", enc(&k.item_reference)))),
        Err(e @ (AppError::Internal(_) | AppError::Rows(_))) => Err(u.fail(e)),
        Err(e) if matches!(e.code(), mailroom_domain::ErrorCode::NotFound) => Err(u.fail(e)),
        Err(e) => {
            let extras =
                Extras { flash: None, error: Some(error_line(u.t, &e)), status: crate::problem::status_for(e.code()) };
            queue_page(&s, &u, None, None, extras).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use mailroom_domain::exception::{ExceptionReason, Resolution};

    #[test]
    fn reasons_resolutions_and_ages_are_labelled() {
        for lang in Lang::ALL {
            let t = Tr(*lang);
            for r in ExceptionReason::ALL {
                assert!(t.has(&format!("exception_reason.{}", r.as_str())), "{r}");
            }
            for r in Resolution::ALL {
                assert!(t.has(&format!("resolution.{}", r.as_str())), "{r}");
            }
        }
        let t = Tr(Lang::En);
        let now = Utc::now();
        assert_eq!(age(t, now - chrono::Duration::minutes(5), now), "5 min");
        assert_eq!(age(t, now - chrono::Duration::hours(3), now), "3 h");
        assert_eq!(age(t, now - chrono::Duration::days(4), now), "4 d");
    }
}
