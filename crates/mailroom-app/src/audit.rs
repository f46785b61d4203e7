//! The audit trail of administrative actions. Every change to the directory, users, tokens and
//! lockouts is written together with an event in the organisation's custody log (hash-chained,
//! append-only, covered by signed checkpoints), naming who did it, from where, in which request.
//!
//! Events record which fields changed, not their values, so that personal data (e-mail
//! addresses, phone numbers) is not frozen into a log that can never be edited.

use crate::{App, AppResult, Principal};
use mailroom_domain::DomainError;
use mailroom_domain::auth::{Permission, require};
use mailroom_domain::custody::{CustodyEvent, EventDraft};
use serde::Serialize;

pub const SITE_CREATE: &str = "admin.site.create";
pub const LOCATION_CREATE: &str = "admin.location.create";
pub const DEPARTMENT_CREATE: &str = "admin.department.create";
pub const DEPARTMENT_UPDATE: &str = "admin.department.update";
pub const DEPARTMENT_DELETE: &str = "admin.department.delete";
pub const PERSON_CREATE: &str = "admin.person.create";
pub const PERSON_UPDATE: &str = "admin.person.update";
pub const DIRECTORY_IMPORT: &str = "admin.directory.import";
pub const USER_CREATE: &str = "admin.user.create";
pub const TOKEN_CREATE: &str = "admin.token.create";
pub const TOKEN_REVOKE: &str = "admin.token.revoke";
pub const LOGIN_UNLOCK: &str = "admin.login.unlock";

/// An audit event that concerns no item.
pub(crate) fn draft(kind: &str, details: serde_json::Value) -> EventDraft {
    EventDraft { item_id: None, kind: kind.to_string(), location_id: None, details }
}

/// The names of the top-level fields whose values differ between two records.
pub(crate) fn changed_fields<T: Serialize>(old: &T, new: &T) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return Vec::new();
    };
    let mut out: Vec<String> = b.iter().filter(|(k, v)| a.get(*k) != Some(*v)).map(|(k, _)| k.clone()).collect();
    out.extend(a.keys().filter(|k| !b.contains_key(*k)).cloned());
    out.sort();
    out
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub items: Vec<CustodyEvent>,
    pub next_cursor: Option<String>,
}

impl App {
    /// The organisation's log, newest first (admins). `kind` keeps events whose kind starts with
    /// it (`admin.` for administrative actions only); `cursor` continues a listing.
    pub async fn audit_log(
        &self,
        p: &Principal,
        kind: Option<&str>,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> AppResult<AuditPage> {
        require(p.role, Permission::ReadAuditLog)?;
        let limit = limit.unwrap_or(50).clamp(1, 200);
        let kind = mailroom_domain::text::optional("kind", kind, 64)?.map(|k| k.to_lowercase());
        let before = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => Some(
                c.parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| DomainError::invalid("cursor", "cursor is not valid"))?,
            ),
            None => None,
        };
        let mut items = self.store.audit_events(p.tenant_id, kind.as_deref(), before, limit + 1).await?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|e| e.seq.to_string())
        } else {
            None
        };
        Ok(AuditPage { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct R {
        a: i32,
        b: Option<String>,
        c: Vec<u8>,
    }

    #[test]
    fn names_changed_fields_only() {
        let old = R { a: 1, b: None, c: vec![1] };
        let new = R { a: 1, b: Some("x".into()), c: vec![2] };
        assert_eq!(changed_fields(&old, &new), ["b", "c"]);
        assert!(changed_fields(&old, &old).is_empty());
    }
}
