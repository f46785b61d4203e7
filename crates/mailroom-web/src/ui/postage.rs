//! The postage page: accounts with their balance and a top-up form, cost centres with this
//! month's spend against their limits, the latest ledger entries, and the chargeback as CSV and
//! PDF.

use super::session::UiUser;
use super::view::{FormData, Params, UiError, error_line, filled, html, local_time, see_other};
use crate::AppState;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailroom_app::AppError;
use mailroom_app::postage::TopUpInput;
use mailroom_domain::auth::{Permission, allowed};
use mailroom_domain::postage::{BudgetVerdict, Money};
use serde::Deserialize;

struct AccountRow {
    id: String,
    name: String,
    balance: String,
}

struct CostCentreRow {
    code: String,
    name: String,
    spend: String,
    soft: String,
    hard: String,
    /// ok, warn or block
    status: &'static str,
    status_label: String,
}

struct LedgerRow {
    at: String,
    account: String,
    kind: String,
    amount: String,
    balance_after: String,
    cost_centre: String,
    reference: String,
    actor: String,
}

#[derive(Template)]
#[template(path = "postage.html")]
struct PostagePage {
    t: Tr,
    c: super::view::Chrome,
    accounts: Vec<AccountRow>,
    cost_centres: Vec<CostCentreRow>,
    ledger: Vec<LedgerRow>,
    month: String,
    chargeback_label: String,
    chargeback_pdf_label: String,
    /// The page's language, for the PDF's headings.
    lang: &'static str,
    cost_centres_title: String,
    may_top_up: bool,
    may_chargeback: bool,
    flash: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct PageParams {
    done: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct TopUpForm {
    csrf: String,
    amount: Option<String>,
    note: Option<String>,
}

fn money(v: Option<i64>) -> String {
    v.map(|x| Money(x).to_string()).unwrap_or_else(|| "—".into())
}

async fn render(
    s: &AppState,
    u: &UiUser,
    flash: Option<String>,
    error: Option<(String, StatusCode)>,
) -> Result<Response, UiError> {
    let t = u.t;
    let o = s.app.postage_overview(&u.principal).await.map_err(|e| u.fail(e))?;
    let account_name =
        |id: uuid::Uuid| o.accounts.iter().find(|a| a.id == id).map(|a| a.name.clone()).unwrap_or_default();
    let cc_code = |id: Option<uuid::Uuid>| {
        id.and_then(|id| o.cost_centres.iter().find(|c| c.cost_centre.id == id))
            .map(|c| c.cost_centre.code.clone())
            .unwrap_or_default()
    };
    let status = error.as_ref().map_or(StatusCode::OK, |(_, s)| *s);
    let page = PostagePage {
        t,
        c: u.chrome("postage"),
        accounts: o
            .accounts
            .iter()
            .map(|a| AccountRow { id: a.id.to_string(), name: a.name.clone(), balance: Money(a.balance).to_string() })
            .collect(),
        cost_centres: o
            .cost_centres
            .iter()
            .map(|c| {
                let status = match c.status {
                    BudgetVerdict::Ok => "ok",
                    BudgetVerdict::Warn => "warn",
                    BudgetVerdict::Block => "block",
                };
                CostCentreRow {
                    code: c.cost_centre.code.clone(),
                    name: c.cost_centre.name.clone(),
                    spend: Money(c.month_spend).to_string(),
                    soft: money(c.cost_centre.soft_limit),
                    hard: money(c.cost_centre.hard_limit),
                    status,
                    status_label: t.get(&format!("postage.budget.{status}")).to_string(),
                }
            })
            .collect(),
        ledger: o
            .ledger
            .iter()
            .map(|e| LedgerRow {
                at: local_time(e.at),
                account: account_name(e.account_id),
                kind: t.get(&format!("postage.kind.{}", e.kind)).to_string(),
                amount: Money(e.amount).to_string(),
                balance_after: Money(e.balance_after).to_string(),
                cost_centre: cc_code(e.cost_centre_id),
                reference: e.reference.clone().unwrap_or_default(),
                actor: e.actor.clone(),
            })
            .collect(),
        month: o.month.clone(),
        chargeback_label: t.fmt("postage.chargeback_csv", &[("month", &o.month)]),
        chargeback_pdf_label: t.fmt("postage.chargeback_pdf", &[("month", &o.month)]),
        lang: t.lang().code(),
        cost_centres_title: t.fmt("postage.cost_centres", &[("month", &o.month)]),
        may_top_up: allowed(u.principal.role, Permission::ManagePostage),
        may_chargeback: allowed(u.principal.role, Permission::ReadChargeback),
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
    u.require(Permission::ReadPostage)?;
    let flash = filled(&q.done).map(|a| u.t.fmt("postage.topped_up", &[("amount", a)]));
    render(&s, &u, flash, None).await
}

pub(crate) async fn top_up(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(f): FormData<TopUpForm>,
) -> Result<Response, UiError> {
    u.require(Permission::ManagePostage)?;
    u.check_csrf(&f.csrf)?;
    let id: uuid::Uuid = id.parse().map_err(|_| u.fail(AppError::not_found("postage account")))?;
    let amount = Money::parse_yuan("amount", filled(&f.amount).unwrap_or(""));
    let result = match amount {
        Ok(a) => {
            let input = TopUpInput { amount: a.0, reference: None, note: filled(&f.note).map(str::to_string) };
            s.app.top_up(&u.principal, &u.ctx, id, &input).await.map(|_| a)
        }
        Err(e) => Err(AppError::from(e)),
    };
    match result {
        Ok(a) => Ok(see_other(&format!("/ui/postage?done={}", super::view::enc(&a.to_string())))),
        Err(e @ (AppError::Internal(_) | AppError::Rows(_))) => Err(u.fail(e)),
        Err(e) if matches!(e.code(), mailroom_domain::ErrorCode::NotFound) => Err(u.fail(e)),
        Err(e) => {
            let line = error_line(u.t, &e);
            render(&s, &u, None, Some((line, crate::problem::status_for(e.code())))).await
        }
    }
}
