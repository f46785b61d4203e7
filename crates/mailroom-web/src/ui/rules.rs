//! The rules page (administrators): the classification and routing rules in force, an editor
//! that validates on save (showing the line and column of a problem), and the version history.

use super::session::UiUser;
use super::view::{FormData, Params, UiError, error_line, filled, html, local_time, see_other};
use crate::AppState;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use mailroom_app::AppError;
use mailroom_app::rules::RulesInput;
use mailroom_domain::auth::Permission;
use serde::Deserialize;

struct VersionRow {
    version: i64,
    by: String,
    at: String,
    active: bool,
    href: String,
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    t: Tr,
    c: super::view::Chrome,
    /// What is in force, e.g. "Version 3 · admin · 2026-11-27 09:00" or "Default pack".
    in_force: String,
    /// The rule names in force.
    rules: Vec<String>,
    source: String,
    /// Shown when an older version was loaded into the editor.
    viewing: Option<String>,
    versions: Vec<VersionRow>,
    saved: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RulesParams {
    saved: Option<String>,
    version: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RulesForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    source: String,
}

/// The translated line for an invalid rule set: where, which rule, what.
fn rules_error(t: Tr, e: &AppError) -> String {
    match e {
        AppError::Rules(r) => {
            let line = r.line.map(|l| l.to_string()).unwrap_or_else(|| "?".into());
            let column = r.column.map(|c| c.to_string()).unwrap_or_else(|| "?".into());
            let rule = r.rule.clone().unwrap_or_else(|| t.get("rules.no_rule").to_string());
            t.fmt("rules.error_at", &[("line", &line), ("column", &column), ("rule", &rule), ("detail", &r.message)])
        }
        other => error_line(t, other),
    }
}

async fn render(
    s: &AppState,
    u: &UiUser,
    source: Option<String>,
    version: Option<i64>,
    saved: bool,
    error: Option<(StatusCode, String)>,
) -> Result<Response, UiError> {
    let t = u.t;
    let active = s.app.active_rules(&u.principal).await.map_err(|e| u.fail(e))?;
    let history = s.app.rule_versions(&u.principal).await.map_err(|e| u.fail(e))?;
    let in_force = match (active.version, &active.created_by, active.created_at) {
        (Some(v), Some(by), Some(at)) => {
            t.fmt("rules.version_line", &[("version", &v.to_string()), ("by", by), ("at", &local_time(at))])
        }
        _ => t.get("rules.default_pack").to_string(),
    };
    let mut viewing = None;
    let source = match (source, version) {
        (Some(src), _) => src,
        (None, Some(v)) if Some(v) != active.version => match history.iter().find(|h| h.version == v) {
            Some(h) => {
                viewing = Some(t.fmt("rules.viewing", &[("version", &v.to_string())]));
                h.source.clone()
            }
            None => return Err(u.fail(AppError::not_found("rules version"))),
        },
        _ => active.source.clone(),
    };
    let versions = history
        .iter()
        .map(|h| VersionRow {
            version: h.version,
            by: h.created_by.clone(),
            at: local_time(h.created_at),
            active: Some(h.version) == active.version,
            href: format!("/ui/rules?version={}", h.version),
        })
        .collect();
    let (status, error) = match error {
        Some((st, e)) => (st, Some(e)),
        None => (StatusCode::OK, None),
    };
    let page =
        RulesPage { t, c: u.chrome("rules"), in_force, rules: active.rules, source, viewing, versions, saved, error };
    Ok(html(status, &page))
}

pub(crate) async fn page(
    State(s): State<AppState>,
    u: UiUser,
    Params(q): Params<RulesParams>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageRules)?;
    let version = match filled(&q.version) {
        Some(v) => Some(v.parse::<i64>().map_err(|_| u.fail(AppError::not_found("rules version")))?),
        None => None,
    };
    render(&s, &u, None, version, q.saved.is_some(), None).await
}

pub(crate) async fn save(
    State(s): State<AppState>,
    u: UiUser,
    FormData(f): FormData<RulesForm>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageRules)?;
    u.check_csrf(&f.csrf)?;
    // Browsers send CR LF line ends from a textarea.
    let source = f.source.replace("\r\n", "\n");
    match s.app.save_rules(&u.principal, &u.ctx, &RulesInput { source: source.clone() }).await {
        Ok(_) => Ok(see_other("/ui/rules?saved=1")),
        Err(e @ (AppError::Rules(_) | AppError::Domain(_))) if e.code() != mailroom_domain::ErrorCode::Forbidden => {
            let status = crate::problem::status_for(e.code());
            let line = rules_error(u.t, &e);
            render(&s, &u, Some(source), None, false, Some((status, line))).await
        }
        Err(e) => Err(u.fail(e)),
    }
}
