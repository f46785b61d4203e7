//! Postage accounts and cost control: cost centres with monthly limits, accounts with their
//! balance and ledger, the rate table, quotes, charges and the monthly chargeback per department.
//! Administrative changes are written with their audit event; a charge is one store write (ledger
//! entry, balance and budget check together). See docs/POSTAGE.md.

use crate::audit;
use crate::{App, AppError, AppResult, Principal, RequestCtx};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};
use mailroom_domain::DomainError;
use mailroom_domain::auth::{Permission, require};
use mailroom_domain::ids::{DepartmentId, SiteId};
use mailroom_domain::postage::{
    self, BudgetVerdict, CsvLineError, Method, Money, RateRow, RateTable, Zone, check_limits, csv_field,
};
use mailroom_domain::text;
use mailroom_store::{AdminChange, CostCentre, LedgerEntry, PostageAccount, PostageMove};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

pub const COST_CENTRE_CREATE: &str = "admin.postage.cost_centre.create";
pub const COST_CENTRE_UPDATE: &str = "admin.postage.cost_centre.update";
pub const COST_CENTRE_DELETE: &str = "admin.postage.cost_centre.delete";
pub const ACCOUNT_CREATE: &str = "admin.postage.account.create";
pub const ACCOUNT_UPDATE: &str = "admin.postage.account.update";
pub const ACCOUNT_DELETE: &str = "admin.postage.account.delete";
pub const TOP_UP: &str = "admin.postage.top_up";
pub const ADJUSTMENT: &str = "admin.postage.adjustment";
pub const RATES_REPLACE: &str = "admin.postage.rates.replace";

/// Ledger entries shown at most.
const LEDGER_LIMIT: i64 = 500;

/// A cost centre to create or change. Limits are monthly, in fen; none means no limit.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CostCentreInput {
    pub code: String,
    pub name: String,
    pub department_id: Option<DepartmentId>,
    pub soft_limit: Option<i64>,
    pub hard_limit: Option<i64>,
    /// An outbound send estimated to cost more than this (fen) waits for an approver.
    #[serde(default)]
    pub approval_limit: Option<i64>,
}

/// A postage account to create (balance zero; top it up).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AccountInput {
    pub name: String,
    /// The site the account belongs to; none: the whole organisation.
    pub site_id: Option<SiteId>,
}

/// Money put on an account, in fen (positive).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TopUpInput {
    pub amount: i64,
    pub reference: Option<String>,
    pub note: Option<String>,
}

/// A correction: `refund` (positive, back to the account and off the cost centre's spend) or
/// `adjustment` (any sign, no cost centre).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AdjustmentInput {
    pub kind: String,
    /// The change to the balance, in fen.
    pub amount: i64,
    pub cost_centre_id: Option<Uuid>,
    pub reference: Option<String>,
    pub note: Option<String>,
}

/// What to price: carrier, method, weight and either the zone or the destination country.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct QuoteInput {
    pub carrier: String,
    pub method: Method,
    pub weight_g: u32,
    pub zone: Option<Zone>,
    /// ISO 3166-1 alpha-2; used when `zone` is not given.
    pub country: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Quote {
    pub carrier: String,
    pub method: Method,
    pub zone: Zone,
    pub weight_g: u32,
    /// In fen.
    pub amount: i64,
    /// `¥12.50`.
    pub display: String,
}

/// A send to charge: priced from the rate table, paid from `account_id`, billed to
/// `cost_centre_id`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ChargeInput {
    pub account_id: Uuid,
    pub cost_centre_id: Uuid,
    #[serde(flatten)]
    pub quote: QuoteInput,
    /// The item's reference code or another reference.
    pub reference: Option<String>,
    pub note: Option<String>,
}

/// A written charge (or other movement) and what the cost centre's limits said.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChargeResult {
    pub entry: LedgerEntry,
    pub verdict: BudgetVerdict,
    /// The cost centre's spend this month after the entry, in fen.
    pub month_spend: i64,
    pub soft_limit: Option<i64>,
    pub hard_limit: Option<i64>,
}

/// The rate table.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Rates {
    pub rates: Vec<RateRow>,
}

/// A cost centre with its spend this month.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CostCentreView {
    #[serde(flatten)]
    pub cost_centre: CostCentre,
    /// Net spend this month (Asia/Shanghai), in fen.
    pub month_spend: i64,
    pub status: BudgetVerdict,
}

/// A department's postage for a month.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChargebackDepartment {
    /// None: cost centres that bill no department.
    pub department_id: Option<Uuid>,
    pub department_code: String,
    pub department_name: String,
    pub charges: i64,
    /// In fen.
    pub amount: i64,
    pub cost_centres: Vec<ChargebackLine>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChargebackLine {
    pub cost_centre_id: Uuid,
    pub code: String,
    pub name: String,
    pub charges: i64,
    pub amount: i64,
}

/// The monthly chargeback report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Chargeback {
    /// `YYYY-MM`.
    pub month: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub departments: Vec<ChargebackDepartment>,
    /// In fen.
    pub total: i64,
}

/// Everything the console page shows.
#[derive(Debug, Clone)]
pub struct PostageOverview {
    pub accounts: Vec<PostageAccount>,
    pub cost_centres: Vec<CostCentreView>,
    pub ledger: Vec<LedgerEntry>,
    pub month: String,
}

/// Mailroom time: months are counted in China Standard Time.
pub(crate) fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or(chrono::Offset::fix(&Utc))
}

/// `[from, to)` of a calendar month in China Standard Time, in UTC.
pub fn month_bounds(year: i32, month: u32) -> AppResult<(DateTime<Utc>, DateTime<Utc>)> {
    let bad = || AppError::from(DomainError::invalid("month", "month must be YYYY-MM"));
    let start = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
    let next =
        if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1) } else { NaiveDate::from_ymd_opt(year, month + 1, 1) }
            .ok_or_else(bad)?;
    let at = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|n| cst().from_local_datetime(&n).single())
            .map(|x| x.with_timezone(&Utc))
            .ok_or_else(bad)
    };
    Ok((at(start)?, at(next)?))
}

pub(crate) fn month_of(now: DateTime<Utc>) -> (i32, u32) {
    let local = now.with_timezone(&cst());
    (local.year(), local.month())
}

fn positive(field: &str, v: i64) -> AppResult<()> {
    if v <= 0 {
        return Err(DomainError::invalid(field, format!("{field} must be a positive amount in fen")).into());
    }
    Ok(())
}

fn csv_errors(errors: Vec<CsvLineError>) -> AppError {
    AppError::Rows(
        errors.into_iter().map(|e| crate::error::RowError { line: e.line as u64, reason: e.message }).collect(),
    )
}

impl App {
    pub async fn cost_centres(&self, p: &Principal) -> AppResult<Vec<CostCentreView>> {
        require(p.role, Permission::ReadPostage)?;
        let (y, m) = month_of(self.clock.now());
        let (from, to) = month_bounds(y, m)?;
        let spend = self.store.postage_spend(p.tenant_id, from, to).await?;
        let ccs = self.store.cost_centres(p.tenant_id).await?;
        Ok(ccs
            .into_iter()
            .map(|cc| {
                let month_spend = spend.iter().find(|s| s.cost_centre_id == cc.id).map(|s| s.spend).unwrap_or(0);
                let status = postage::check_budget(
                    Money(month_spend),
                    Money::ZERO,
                    cc.soft_limit.map(Money),
                    cc.hard_limit.map(Money),
                );
                // Spend at the hard limit blocks the next charge; shown as such.
                let status = match (status, cc.hard_limit) {
                    (BudgetVerdict::Ok | BudgetVerdict::Warn, Some(h)) if month_spend >= h && h > 0 => {
                        BudgetVerdict::Block
                    }
                    (s, _) => s,
                };
                CostCentreView { cost_centre: cc, month_spend, status }
            })
            .collect())
    }

    async fn checked_cost_centre(&self, p: &Principal, input: &CostCentreInput) -> AppResult<(String, String)> {
        let code = text::required("code", &input.code, 32)?.to_uppercase();
        let name = text::required("name", &input.name, 200)?;
        check_limits(input.soft_limit.map(Money), input.hard_limit.map(Money))?;
        if input.approval_limit.is_some_and(|l| l < 0) {
            return Err(DomainError::invalid("approval_limit", "the approval limit may not be negative").into());
        }
        if let Some(d) = input.department_id
            && self.store.department(p.tenant_id, d).await?.is_none()
        {
            return Err(DomainError::invalid("department_id", "no such department in this organisation").into());
        }
        Ok((code, name))
    }

    pub async fn create_cost_centre(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        input: &CostCentreInput,
    ) -> AppResult<CostCentre> {
        require(p.role, Permission::ManagePostage)?;
        let (code, name) = self.checked_cost_centre(p, input).await?;
        let now = mailroom_domain::custody::storage_time(self.clock.now());
        let cc = CostCentre {
            id: Uuid::now_v7(),
            code,
            name,
            department_id: input.department_id.map(|d| d.0),
            soft_limit: input.soft_limit,
            hard_limit: input.hard_limit,
            approval_limit: input.approval_limit,
            created_at: now,
            updated_at: now,
        };
        let draft = audit::draft(
            COST_CENTRE_CREATE,
            json!({"id": cc.id, "code": cc.code, "soft_limit": cc.soft_limit, "hard_limit": cc.hard_limit,
                "approval_limit": cc.approval_limit}),
        );
        self.store.admin_write(p.tenant_id, AdminChange::UpsertCostCentre(cc.clone()), &p.actor(ctx), draft).await?;
        Ok(cc)
    }

    pub async fn update_cost_centre(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: Uuid,
        input: &CostCentreInput,
    ) -> AppResult<CostCentre> {
        require(p.role, Permission::ManagePostage)?;
        let old = self.store.cost_centre(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("cost centre"))?;
        let (code, name) = self.checked_cost_centre(p, input).await?;
        let cc = CostCentre {
            code,
            name,
            department_id: input.department_id.map(|d| d.0),
            soft_limit: input.soft_limit,
            hard_limit: input.hard_limit,
            approval_limit: input.approval_limit,
            updated_at: mailroom_domain::custody::storage_time(self.clock.now()),
            ..old.clone()
        };
        let mut fields = audit::changed_fields(&old, &cc);
        fields.retain(|f| f != "updated_at");
        let draft = audit::draft(
            COST_CENTRE_UPDATE,
            json!({"id": cc.id, "fields": fields, "soft_limit": cc.soft_limit, "hard_limit": cc.hard_limit}),
        );
        self.store.admin_write(p.tenant_id, AdminChange::UpsertCostCentre(cc.clone()), &p.actor(ctx), draft).await?;
        Ok(cc)
    }

    /// Deletes a cost centre no ledger entry names (409 `conflict` otherwise: it stays for the record).
    pub async fn delete_cost_centre(&self, p: &Principal, ctx: &RequestCtx, id: Uuid) -> AppResult<()> {
        require(p.role, Permission::ManagePostage)?;
        let cc = self.store.cost_centre(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("cost centre"))?;
        let draft = audit::draft(COST_CENTRE_DELETE, json!({"id": cc.id, "code": cc.code}));
        match self.store.admin_write(p.tenant_id, AdminChange::DeleteCostCentre(id), &p.actor(ctx), draft).await {
            Err(mailroom_store::StoreError::NotFound) => Err(AppError::not_found("cost centre")),
            r => r.map(|_| ()).map_err(Into::into),
        }
    }

    async fn checked_site(&self, p: &Principal, site: Option<SiteId>) -> AppResult<()> {
        if let Some(s) = site
            && !self.store.list_sites(p.tenant_id).await?.iter().any(|x| x.id == s)
        {
            return Err(DomainError::invalid("site_id", "no such site in this organisation").into());
        }
        Ok(())
    }

    /// Renames an account or moves it to another site; the balance only moves through the ledger.
    pub async fn update_postage_account(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: Uuid,
        input: &AccountInput,
    ) -> AppResult<PostageAccount> {
        require(p.role, Permission::ManagePostage)?;
        let old = self.account(p, id).await?;
        let name = text::required("name", &input.name, 200)?;
        self.checked_site(p, input.site_id).await?;
        let a = PostageAccount { name, site_id: input.site_id.map(|s| s.0), ..old.clone() };
        let draft = audit::draft(
            ACCOUNT_UPDATE,
            json!({"id": a.id, "fields": audit::changed_fields(&old, &a), "site_id": a.site_id}),
        );
        self.store.admin_write(p.tenant_id, AdminChange::UpdatePostageAccount(a.clone()), &p.actor(ctx), draft).await?;
        Ok(a)
    }

    /// Deletes an account that has no ledger entries (409 `conflict` otherwise).
    pub async fn delete_postage_account(&self, p: &Principal, ctx: &RequestCtx, id: Uuid) -> AppResult<()> {
        require(p.role, Permission::ManagePostage)?;
        let a = self.account(p, id).await?;
        let draft = audit::draft(ACCOUNT_DELETE, json!({"id": a.id, "name": a.name}));
        match self.store.admin_write(p.tenant_id, AdminChange::DeletePostageAccount(id), &p.actor(ctx), draft).await {
            Err(mailroom_store::StoreError::NotFound) => Err(AppError::not_found("postage account")),
            r => r.map(|_| ()).map_err(Into::into),
        }
    }

    pub async fn postage_accounts(&self, p: &Principal) -> AppResult<Vec<PostageAccount>> {
        require(p.role, Permission::ReadPostage)?;
        Ok(self.store.postage_accounts(p.tenant_id).await?)
    }

    pub async fn create_postage_account(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        input: &AccountInput,
    ) -> AppResult<PostageAccount> {
        require(p.role, Permission::ManagePostage)?;
        let name = text::required("name", &input.name, 200)?;
        self.checked_site(p, input.site_id).await?;
        let a = PostageAccount {
            id: Uuid::now_v7(),
            site_id: input.site_id.map(|s| s.0),
            name,
            balance: 0,
            created_at: mailroom_domain::custody::storage_time(self.clock.now()),
        };
        let draft = audit::draft(ACCOUNT_CREATE, json!({"id": a.id, "name": a.name, "site_id": a.site_id}));
        self.store.admin_write(p.tenant_id, AdminChange::CreatePostageAccount(a.clone()), &p.actor(ctx), draft).await?;
        Ok(a)
    }

    async fn account(&self, p: &Principal, id: Uuid) -> AppResult<PostageAccount> {
        self.store.postage_account(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("postage account"))
    }

    /// Ledger entries newest first, of one account (which must exist) or all.
    pub async fn postage_ledger(&self, p: &Principal, account: Option<Uuid>) -> AppResult<Vec<LedgerEntry>> {
        require(p.role, Permission::ReadPostage)?;
        if let Some(a) = account {
            self.account(p, a).await?;
        }
        Ok(self.store.postage_ledger(p.tenant_id, account, LEDGER_LIMIT).await?)
    }

    pub(crate) fn entry(&self, p: &Principal, account_id: Uuid, kind: &str, amount: i64) -> LedgerEntry {
        LedgerEntry {
            id: Uuid::now_v7(),
            account_id,
            seq: 0,
            kind: kind.into(),
            amount,
            balance_after: 0,
            cost_centre_id: None,
            carrier: None,
            method: None,
            zone: None,
            weight_g: None,
            reference: None,
            note: None,
            actor: p.login.clone(),
            at: mailroom_domain::custody::storage_time(self.clock.now()),
        }
    }

    /// A ledger movement with the month (China Standard Time) whose budget it counts against.
    pub(crate) fn movement(entry: LedgerEntry) -> AppResult<PostageMove> {
        let (y, m) = month_of(entry.at);
        Ok(PostageMove { month: month_bounds(y, m)?, entry })
    }

    async fn post(
        &self,
        p: &Principal,
        e: LedgerEntry,
        audit: Option<(mailroom_domain::custody::Actor, mailroom_domain::custody::EventDraft)>,
    ) -> AppResult<ChargeResult> {
        let cc = match e.cost_centre_id {
            Some(id) => self.store.cost_centre(p.tenant_id, id).await?,
            None => None,
        };
        let out = self.store.postage_post(p.tenant_id, Self::movement(e)?, audit).await?;
        Ok(ChargeResult {
            entry: out.entry,
            verdict: out.verdict,
            month_spend: out.month_spend,
            soft_limit: cc.as_ref().and_then(|c| c.soft_limit),
            hard_limit: cc.as_ref().and_then(|c| c.hard_limit),
        })
    }

    pub async fn top_up(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        account: Uuid,
        input: &TopUpInput,
    ) -> AppResult<ChargeResult> {
        require(p.role, Permission::ManagePostage)?;
        self.account(p, account).await?;
        positive("amount", input.amount)?;
        let mut e = self.entry(p, account, "top_up", input.amount);
        e.reference = text::optional("reference", input.reference.as_deref(), 200)?;
        e.note = text::optional("note", input.note.as_deref(), 500)?;
        let draft = audit::draft(TOP_UP, json!({"account_id": account, "entry_id": e.id, "amount": e.amount}));
        self.post(p, e, Some((p.actor(ctx), draft))).await
    }

    pub async fn adjust(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        account: Uuid,
        input: &AdjustmentInput,
    ) -> AppResult<ChargeResult> {
        require(p.role, Permission::ManagePostage)?;
        self.account(p, account).await?;
        let kind = input.kind.trim();
        match kind {
            "refund" => {
                positive("amount", input.amount)?;
                if input.cost_centre_id.is_none() {
                    return Err(
                        DomainError::invalid("cost_centre_id", "a refund names the cost centre it credits").into()
                    );
                }
            }
            "adjustment" => {
                if input.amount == 0 {
                    return Err(DomainError::invalid("amount", "amount must not be zero").into());
                }
                if input.cost_centre_id.is_some() {
                    return Err(DomainError::invalid("cost_centre_id", "an adjustment names no cost centre").into());
                }
            }
            _ => return Err(DomainError::invalid("kind", "kind must be refund or adjustment").into()),
        }
        let mut e = self.entry(p, account, kind, input.amount);
        e.cost_centre_id = input.cost_centre_id;
        e.reference = text::optional("reference", input.reference.as_deref(), 200)?;
        e.note = text::optional("note", input.note.as_deref(), 500)?;
        let draft = audit::draft(
            ADJUSTMENT,
            json!({"account_id": account, "entry_id": e.id, "kind": kind, "amount": e.amount,
                   "cost_centre_id": e.cost_centre_id}),
        );
        self.post(p, e, Some((p.actor(ctx), draft))).await
    }

    pub async fn postage_rates(&self, p: &Principal) -> AppResult<Rates> {
        require(p.role, Permission::ReadPostage)?;
        Ok(Rates { rates: self.store.postage_rates(p.tenant_id).await? })
    }

    async fn replace_rates(&self, p: &Principal, ctx: &RequestCtx, table: RateTable, source: &str) -> AppResult<Rates> {
        let rows = table.rows();
        let draft = audit::draft(RATES_REPLACE, json!({"rows": rows.len(), "source": source}));
        self.store
            .admin_write(p.tenant_id, AdminChange::ReplacePostageRates(rows.clone()), &p.actor(ctx), draft)
            .await?;
        Ok(Rates { rates: rows })
    }

    /// Replaces the rate table with `rates` (checked as a whole).
    pub async fn set_postage_rates(&self, p: &Principal, ctx: &RequestCtx, rates: Rates) -> AppResult<Rates> {
        require(p.role, Permission::ManagePostage)?;
        let table = RateTable::new(rates.rates)?;
        self.replace_rates(p, ctx, table, "json").await
    }

    /// Replaces the rate table from CSV: every line good, or nothing changes.
    pub async fn import_postage_rates(&self, p: &Principal, ctx: &RequestCtx, csv: &[u8]) -> AppResult<Rates> {
        require(p.role, Permission::ManagePostage)?;
        let text = std::str::from_utf8(csv)
            .map_err(|_| AppError::from(DomainError::invalid("file", "the file is not UTF-8 text")))?;
        let table = postage::parse_rates_csv(text).map_err(csv_errors)?;
        self.replace_rates(p, ctx, table, "csv").await
    }

    /// The rate table as CSV.
    pub async fn postage_rates_csv(&self, p: &Principal) -> AppResult<String> {
        let rates = self.postage_rates(p).await?;
        Ok(postage::rates_csv(&RateTable::new(rates.rates)?))
    }

    pub async fn quote(&self, p: &Principal, q: &QuoteInput) -> AppResult<Quote> {
        require(p.role, Permission::ReadPostage)?;
        self.price(p, q).await
    }

    async fn price(&self, p: &Principal, q: &QuoteInput) -> AppResult<Quote> {
        let zone = match (q.zone, q.country.as_deref()) {
            (Some(z), _) => z,
            (None, Some(c)) => postage::zone_for_country(c)?,
            (None, None) => return Err(DomainError::invalid("zone", "give the zone or the destination country").into()),
        };
        let table = RateTable::new(self.store.postage_rates(p.tenant_id).await?)?;
        let amount = table.quote(&q.carrier, q.method, q.weight_g, zone)?;
        Ok(Quote {
            carrier: q.carrier.trim().to_ascii_lowercase(),
            method: q.method,
            zone,
            weight_g: q.weight_g,
            amount: amount.0,
            display: amount.to_string(),
        })
    }

    /// Charges a send: priced from the rate table, paid from the account, billed to the cost
    /// centre, within its hard limit and the account's balance — or nothing is written.
    pub async fn charge(&self, p: &Principal, input: &ChargeInput) -> AppResult<ChargeResult> {
        require(p.role, Permission::ChargePostage)?;
        let account = self.account(p, input.account_id).await?;
        self.require_site_scope(p, account.site_id.map(SiteId))
            .or_else(|e| if account.site_id.is_none() { Ok(()) } else { Err(e) })?;
        if self.store.cost_centre(p.tenant_id, input.cost_centre_id).await?.is_none() {
            return Err(DomainError::invalid("cost_centre_id", "no such cost centre in this organisation").into());
        }
        let q = self.price(p, &input.quote).await?;
        let mut e = self.entry(p, account.id, "charge", -q.amount);
        e.cost_centre_id = Some(input.cost_centre_id);
        e.carrier = Some(q.carrier);
        e.method = Some(q.method.as_str().into());
        e.zone = Some(q.zone.as_str().into());
        e.weight_g = Some(i64::from(q.weight_g));
        e.reference = text::optional("reference", input.reference.as_deref(), 200)?;
        e.note = text::optional("note", input.note.as_deref(), 500)?;
        self.post(p, e, None).await
    }

    /// The chargeback of a month (`YYYY-MM`, China Standard Time) per department.
    pub async fn chargeback(&self, p: &Principal, month: &str) -> AppResult<Chargeback> {
        require(p.role, Permission::ReadChargeback)?;
        let (y, m) = postage::parse_month(month)?;
        let (from, to) = month_bounds(y, m)?;
        let spend = self.store.postage_spend(p.tenant_id, from, to).await?;
        let ccs = self.store.cost_centres(p.tenant_id).await?;
        let depts = self.store.list_departments(p.tenant_id).await?;
        let mut out: Vec<ChargebackDepartment> = Vec::new();
        for s in spend.iter().filter(|s| s.charges != 0 || s.spend != 0) {
            let Some(cc) = ccs.iter().find(|c| c.id == s.cost_centre_id) else { continue };
            let dept = cc.department_id.and_then(|d| depts.iter().find(|x| x.id.0 == d));
            let key = dept.map(|d| d.id.0);
            let line = ChargebackLine {
                cost_centre_id: cc.id,
                code: cc.code.clone(),
                name: cc.name.clone(),
                charges: s.charges,
                amount: s.spend,
            };
            match out.iter_mut().find(|d| d.department_id == key) {
                Some(d) => {
                    d.charges += line.charges;
                    d.amount += line.amount;
                    d.cost_centres.push(line);
                }
                None => out.push(ChargebackDepartment {
                    department_id: key,
                    department_code: dept.map(|d| d.code.clone()).unwrap_or_default(),
                    department_name: dept.map(|d| d.name.clone()).unwrap_or_default(),
                    charges: line.charges,
                    amount: line.amount,
                    cost_centres: vec![line],
                }),
            }
        }
        for d in &mut out {
            d.cost_centres.sort_by(|a, b| a.code.cmp(&b.code));
        }
        out.sort_by(|a, b| {
            (a.department_id.is_none(), &a.department_code).cmp(&(b.department_id.is_none(), &b.department_code))
        });
        let total = out.iter().map(|d| d.amount).sum();
        Ok(Chargeback { month: format!("{y:04}-{m:02}"), from, to, departments: out, total })
    }

    /// The chargeback as CSV: one line per department, amounts in yuan, and a total line.
    pub async fn chargeback_csv(&self, p: &Principal, month: &str) -> AppResult<String> {
        let r = self.chargeback(p, month).await?;
        let mut s = String::from("month,department_code,department_name,cost_centres,charges,amount_cny\n");
        for d in &r.departments {
            let ccs: Vec<&str> = d.cost_centres.iter().map(|c| c.code.as_str()).collect();
            s.push_str(&format!(
                "{},{},{},{},{},{}\n",
                r.month,
                csv_field(&d.department_code),
                csv_field(&d.department_name),
                csv_field(&ccs.join(" ")),
                d.charges,
                Money(d.amount).plain()
            ));
        }
        let charges: i64 = r.departments.iter().map(|d| d.charges).sum();
        s.push_str(&format!("{},TOTAL,,,{},{}\n", r.month, charges, Money(r.total).plain()));
        Ok(s)
    }

    /// Accounts, cost centres with this month's spend, and the latest ledger entries.
    pub async fn postage_overview(&self, p: &Principal) -> AppResult<PostageOverview> {
        require(p.role, Permission::ReadPostage)?;
        let (y, m) = month_of(self.clock.now());
        Ok(PostageOverview {
            accounts: self.store.postage_accounts(p.tenant_id).await?,
            cost_centres: self.cost_centres(p).await?,
            ledger: self.store.postage_ledger(p.tenant_id, None, 20).await?,
            month: format!("{y:04}-{m:02}"),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn months_are_china_standard_time() {
        let (from, to) = month_bounds(2026, 12).unwrap();
        assert_eq!(from.to_rfc3339(), "2026-11-30T16:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-12-31T16:00:00+00:00");
        let late = Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).unwrap();
        assert_eq!(month_of(late), (2026, 12));
    }
}
