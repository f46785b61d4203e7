//! Staff tasks that a notice alone does not settle. An item that arrived damaged opens a
//! `contact_sender` task (in the same transaction as its registration);
//! staff contact the sender and close the task with a note, which appends a `sender_contacted`
//! custody event in the same transaction.

use crate::{App, AppError, AppResult, Principal, RequestCtx};
use mailroom_domain::auth::{Permission, require};
use mailroom_domain::custody::{EventDraft, storage_time};
use mailroom_domain::{DomainError, ErrorCode, text};
use mailroom_store::{StaffTask, StoreError};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// The task kind for an item that arrived damaged.
pub const CONTACT_SENDER: &str = "contact_sender";

/// Closing a task.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskDone {
    /// What was done: who was reached, what was agreed (1–1000 characters).
    #[serde(default)]
    pub note: String,
}

impl App {
    /// Open tasks (oldest first), or every task (newest first) when `status` is `all`.
    pub async fn list_tasks(&self, p: &Principal, status: Option<&str>) -> AppResult<Vec<StaffTask>> {
        require(p.role, Permission::HandleItems)?;
        let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("open") => Some("open"),
            Some("done") => Some("done"),
            Some("all") => None,
            Some(_) => return Err(DomainError::invalid("status", "status must be one of: open, done, all").into()),
        };
        Ok(self.store.list_tasks(p.tenant_id, status, 500).await?)
    }

    /// Closes an open task with a note; 409 `conflict` when it was closed already.
    pub async fn complete_task(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: uuid::Uuid,
        input: &TaskDone,
    ) -> AppResult<StaffTask> {
        require(p.role, Permission::HandleItems)?;
        let note = text::required("note", &input.note, 1000)?;
        let task = self.store.task(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("task"))?;
        if task.status != "open" {
            return Err(AppError::new(ErrorCode::Conflict, "this task was already done"));
        }
        let kind = if task.kind == CONTACT_SENDER { "sender_contacted" } else { "task_done" };
        let draft = EventDraft {
            item_id: Some(task.item_id),
            kind: kind.into(),
            location_id: None,
            details: json!({ "task_id": task.id, "task": task.kind, "note": note }),
        };
        let now = storage_time(self.clock.now());
        match self.store.complete_task(p.tenant_id, id, Some(p.user_id), Some(note), now, &p.actor(ctx), draft).await {
            Ok(_) => {}
            Err(StoreError::Stale) => return Err(AppError::new(ErrorCode::Conflict, "this task was already done")),
            Err(e) => return Err(e.into()),
        }
        self.store.task(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("task"))
    }
}

impl App {
    /// The notices sent about an item (oldest first), for anyone who may see the item.
    pub async fn item_notifications(
        &self,
        p: &Principal,
        id: mailroom_domain::ids::ItemId,
    ) -> AppResult<Vec<mailroom_store::NotificationRecord>> {
        self.item(p, id).await?;
        Ok(self.store.item_notifications(p.tenant_id, id).await?)
    }
}
