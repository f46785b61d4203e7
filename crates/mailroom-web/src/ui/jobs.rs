//! The background job queue (administrators): how many jobs are in each status, the jobs of one
//! status (the dead-letter list first), each with its last error, and a button that sends a
//! dead job back to the queue.

use super::session::UiUser;
use super::view::{Chrome, FormData, Params, UiError, error_line, filled, html, local_time, see_other};
use crate::AppState;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailroom_app::AppError;
use mailroom_app::jobs::{JOB_DEAD, JOB_STATUSES, Job, JobCounts};
use mailroom_domain::auth::Permission;
use mailroom_domain::ids::JobId;
use serde::Deserialize;

const PAGE_SIZE: i64 = 100;

struct Tab {
    status: &'static str,
    label: String,
    count: i64,
    current: bool,
}

struct JobRow {
    id: String,
    kind: String,
    key: String,
    attempts: String,
    created: String,
    /// Due (pending), lease end (running), finished (done, dead).
    when: String,
    error: String,
    dead: bool,
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    t: Tr,
    c: Chrome,
    tabs: Vec<Tab>,
    /// The name of the status shown.
    caption: String,
    /// What the empty list says.
    empty: String,
    /// The heading of the time column.
    when_label: String,
    rows: Vec<JobRow>,
    flash: Option<String>,
    error: Option<String>,
}

fn count(c: &JobCounts, status: &str) -> i64 {
    match status {
        "pending" => c.pending,
        "running" => c.running,
        "done" => c.done,
        _ => c.dead,
    }
}

fn row(j: &Job) -> JobRow {
    let when = match j.status.as_str() {
        "pending" | "running" => Some(j.run_at),
        _ => j.finished_at,
    };
    JobRow {
        id: j.id.to_string(),
        kind: j.kind.clone(),
        key: j.idempotency_key.clone(),
        attempts: format!("{}/{}", j.attempts, j.max_attempts),
        created: local_time(j.created_at),
        when: when.map(local_time).unwrap_or_default(),
        error: j.last_error.clone().unwrap_or_default(),
        dead: j.status == JOB_DEAD,
    }
}

#[derive(Deserialize)]
pub(crate) struct JobParams {
    status: Option<String>,
    retried: Option<String>,
}

struct Extras {
    flash: Option<String>,
    error: Option<String>,
    status: StatusCode,
}

async fn jobs_page(s: &AppState, u: &UiUser, status: Option<&str>, extras: Extras) -> Result<Response, UiError> {
    let t = u.t;
    let status = JOB_STATUSES.iter().copied().find(|s| Some(*s) == status).unwrap_or(JOB_DEAD);
    let jobs = s.app.list_jobs(&u.principal, Some(status), Some(PAGE_SIZE)).await.map_err(|e| u.fail(e))?;
    let counts = s.app.job_counts(&u.principal).await.map_err(|e| u.fail(e))?;
    let page = JobsPage {
        t,
        c: u.chrome("jobs"),
        tabs: JOB_STATUSES
            .iter()
            .map(|st| Tab {
                status: st,
                label: t.get(&format!("job_status.{st}")).to_string(),
                count: count(&counts, st),
                current: *st == status,
            })
            .collect(),
        caption: t.get(&format!("job_status.{status}")).to_string(),
        empty: t.fmt("jobs.empty", &[("status", t.get(&format!("job_status.{status}")))]),
        when_label: t
            .get(match status {
                "pending" => "jobs.due",
                "running" => "jobs.lease_until",
                _ => "jobs.finished",
            })
            .to_string(),
        rows: jobs.iter().map(row).collect(),
        flash: extras.flash,
        error: extras.error,
    };
    Ok(html(extras.status, &page))
}

/// `GET /ui/jobs`: the dead-letter list (or `?status=pending|running|done`).
pub(crate) async fn page(
    State(s): State<AppState>,
    u: UiUser,
    Params(q): Params<JobParams>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageJobs)?;
    let flash = filled(&q.retried).map(|id| u.t.fmt("jobs.retried", &[("id", id)]));
    jobs_page(&s, &u, filled(&q.status), Extras { flash, error: None, status: StatusCode::OK }).await
}

#[derive(Deserialize)]
pub(crate) struct RetryForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /ui/jobs/{id}/retry`.
pub(crate) async fn retry(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(f): FormData<RetryForm>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageJobs)?;
    u.check_csrf(&f.csrf)?;
    let id: JobId = id.parse().map_err(|_| u.fail(AppError::not_found("job")))?;
    match s.app.retry_job(&u.principal, &u.ctx, id).await {
        Ok(job) => Ok(see_other(&format!("/ui/jobs?status=dead&retried={}", job.id))),
        Err(e @ (AppError::Internal(_) | AppError::Rows(_))) => Err(u.fail(e)),
        Err(e) if matches!(e.code(), mailroom_domain::ErrorCode::NotFound) => Err(u.fail(e)),
        Err(e) => {
            let extras =
                Extras { flash: None, error: Some(error_line(u.t, &e)), status: crate::problem::status_for(e.code()) };
            jobs_page(&s, &u, Some(JOB_DEAD), extras).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn every_status_is_labelled() {
        for lang in Lang::ALL {
            for st in JOB_STATUSES {
                assert!(Tr(*lang).has(&format!("job_status.{st}")), "{st}");
            }
        }
    }
}
