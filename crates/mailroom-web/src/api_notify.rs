//! The JSON API for what notices leave behind: the notification log of an item, and staff tasks
//! (contacting the sender of an item that arrived damaged).

use crate::AppState;
use crate::context::Caller;
use crate::extract::{JsonBody, Q};
use crate::problem::{ApiError, Problem};
use crate::{Route, route};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::Method;
use mailroom_app::AppError;
use mailroom_app::store::{NotificationRecord, StaffTask};
use mailroom_app::tasks::TaskDone;
use mailroom_domain::ids::ItemId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        route(M::GET, "/api/v1/items/{id}/notifications", item_notifications),
        route(M::GET, "/api/v1/tasks", list_tasks),
        route(M::POST, "/api/v1/tasks/{id}/done", complete_task),
    ]
}

/// The notices sent about an item.
#[derive(Serialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<NotificationRecord>,
}

/// The notices sent about an item, oldest first: kind, channel, where to (masked), language,
/// subject and whether the receiving server accepted it.
#[utoipa::path(get, path = "/api/v1/items/{id}/notifications", tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = NotificationList), (status = 404, body = Problem)), security(("bearer" = [])))]
pub(crate) async fn item_notifications(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<NotificationList>> {
    let rid = &c.ctx.request_id;
    let id: ItemId = id.parse().map_err(|_| ApiError::new(AppError::not_found("item"), rid))?;
    s.app
        .item_notifications(&c.principal, id)
        .await
        .map(|items| Json(NotificationList { items }))
        .map_err(|e| ApiError::new(e, rid))
}

#[derive(Deserialize, IntoParams)]
pub struct TaskQuery {
    /// `open` (default), `done` or `all`.
    pub status: Option<String>,
}

/// Staff tasks.
#[derive(Serialize, ToSchema)]
pub struct TaskList {
    pub items: Vec<StaffTask>,
}

/// Staff tasks: items that arrived damaged and whose sender is to be contacted (`contact_sender`),
/// with the sender's details. Open ones oldest first; `status=all` newest first.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "notifications", params(TaskQuery),
    responses((status = 200, body = TaskList), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list_tasks(State(s): State<AppState>, c: Caller, q: Q<TaskQuery>) -> ApiResult<Json<TaskList>> {
    let rid = &c.ctx.request_id;
    s.app
        .list_tasks(&c.principal, q.0.status.as_deref())
        .await
        .map(|items| Json(TaskList { items }))
        .map_err(|e| ApiError::new(e, rid))
}

/// Close a task with a note of what was done; appends a custody event (`sender_contacted` for
/// `contact_sender`) in the same transaction. 409 `conflict` when it was done already.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/done", tag = "notifications", params(("id" = String, Path)),
    request_body = TaskDone,
    responses((status = 200, body = StaffTask), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 404, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn complete_task(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: JsonBody<TaskDone>,
) -> ApiResult<Json<StaffTask>> {
    let rid = &c.ctx.request_id;
    mailroom_domain::auth::require(c.principal.role, mailroom_domain::auth::Permission::HandleItems)
        .map_err(|e| ApiError::new(e, rid))?;
    let id: uuid::Uuid = id.parse().map_err(|_| ApiError::new(AppError::not_found("task"), rid))?;
    s.app.complete_task(&c.principal, &c.ctx, id, &body.value).await.map(Json).map_err(|e| ApiError::new(e, rid))
}
