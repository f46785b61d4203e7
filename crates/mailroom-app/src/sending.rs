//! Outbound mail use cases: requests (one, or a CSV mailing), approval over a cost centre's
//! limit, acceptance (weighing, customs, postage charged in the same transaction), dispatch
//! batches with scan-out and hand-over to the carrier, carrier tracking numbers and receipts.
//!
//! An outbound item is an ordinary item (reference, status, custody log, tracking); its send is
//! kept beside it. Every step writes its custody event in the same transaction as the change.

use crate::postage::{month_bounds, month_of};
use crate::{App, AppError, AppResult, Principal, RequestCtx, random_bytes};
use chrono::{DateTime, Utc};
use mailroom_domain::address::{self, AddressFields, CheckRequest};
use mailroom_domain::auth::{Permission, allowed, require};
use mailroom_domain::custody::{CustodyEvent, EventDraft, storage_time};
use mailroom_domain::customs::{self, CustomsVerdict, Declaration, Severity};
use mailroom_domain::ids::{ItemId, PersonId, SiteId};
use mailroom_domain::item::{Category, Condition, Confidentiality, ItemKind, Priority, Status};
use mailroom_domain::outbound::{self as ob, OutboundAction, Receipt};
use mailroom_domain::postage::{self, BudgetVerdict, Method, Money, RateTable, Zone, check_budget};
use mailroom_domain::{DomainError, ErrorCode, reference, text};
use mailroom_store::models::{DispatchBatch, Item, OutboundChange, OutboundFilter, OutboundRecord, OutboundRow};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

/// Most rows of one CSV mailing.
pub const MAX_MAILING_ROWS: usize = 20_000;
/// Outbound items listed at most per page.
pub const MAX_LIST: i64 = 500;

/// A request to send something.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct OutboundRequest {
    /// Who the send is for. Staff may ask on an employee's behalf; everyone else asks for
    /// themselves (their directory entry).
    #[serde(default)]
    pub requester_person_id: Option<PersonId>,
    /// The sending site (default: the caller's site, else the organisation's first site).
    #[serde(default)]
    pub site_id: Option<SiteId>,
    /// The recipient's address as `POST /api/v1/addresses/check` takes it: it must pass the
    /// destination country's rules.
    #[schema(value_type = mailroom_domain::address::CheckRequest)]
    pub recipient: CheckRequest,
    #[serde(default)]
    pub recipient_email: Option<String>,
    #[serde(default)]
    pub recipient_phone: Option<String>,
    /// letter, document, parcel, package … (default letter)
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub confidentiality: Option<String>,
    /// What is sent, in words.
    pub contents: String,
    /// standard, registered, express, international or encrypted_electronic
    pub method: String,
    /// The carrier as named in the rate table (`china_post`, `sf_express`, `ems` …); none for
    /// encrypted electronic transfer.
    #[serde(default)]
    pub carrier: Option<String>,
    /// Estimated weight in grams (physical items).
    #[serde(default)]
    pub weight_g: Option<u32>,
    /// `local` for same-city items (otherwise derived from the country).
    #[serde(default)]
    pub zone: Option<Zone>,
    pub cost_centre_id: Uuid,
    /// The dispatch window: not before this time (e.g. a survey batch at 10:00 next Tuesday).
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
    /// The customs declaration, required for physical items leaving mainland China.
    #[serde(default)]
    #[schema(value_type = Option<mailroom_domain::customs::Declaration>)]
    pub customs: Option<Declaration>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// What a request, an approval or a step left behind.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutboundView {
    #[serde(flatten)]
    pub record: OutboundRecord,
    /// The next steps the caller may take.
    pub actions: Vec<OutboundAction>,
    /// Warnings: a soft budget limit passed, customs notices.
    pub warnings: Vec<String>,
    /// The send takes its cost centre past its soft monthly limit (one of the warnings).
    pub soft_limit_passed: bool,
    /// The customs verdict for the declaration kept with the item.
    pub customs_verdict: Option<CustomsVerdict>,
}

/// A CSV mailing: the columns of every row plus what all rows share.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct MailingParams {
    pub method: String,
    #[serde(default)]
    pub carrier: Option<String>,
    pub cost_centre_id: Uuid,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    pub contents: String,
    /// Estimated weight of each piece in grams.
    #[serde(default)]
    pub weight_g: Option<u32>,
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
    #[serde(default)]
    pub site_id: Option<SiteId>,
    /// Who the mailing is for (staff only; default: the caller).
    #[serde(default)]
    pub requester_person_id: Option<PersonId>,
}

/// What a CSV mailing created.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MailingResult {
    pub mailing_id: Uuid,
    pub created: usize,
    pub awaiting_approval: usize,
    /// The postage the rate table gives for all pieces, in fen.
    pub estimate_total: i64,
    pub warnings: Vec<String>,
    /// The mailing takes its cost centre past its soft monthly limit (the warning says so).
    pub soft_limit_passed: bool,
}

/// Acceptance at the counter: the weighed item, the declaration as it stands, the account the
/// postage is charged to.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AcceptInput {
    pub weight_g: u32,
    /// Replaces the declaration kept with the request.
    #[serde(default)]
    #[schema(value_type = Option<mailroom_domain::customs::Declaration>)]
    pub customs: Option<Declaration>,
    /// The postage account (default: the sending site's account, else the organisation's only one).
    #[serde(default)]
    pub account_id: Option<Uuid>,
    /// The carrier's tracking number, when the label is already printed.
    #[serde(default)]
    pub tracking_number: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DecisionInput {
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TrackingInput {
    pub tracking_number: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ReceiptInput {
    /// Who signed the receipt at the destination.
    pub signed_by: String,
    #[serde(default)]
    pub receipt_number: Option<String>,
    /// When it was delivered (default: now).
    #[serde(default)]
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A carrier collection to prepare.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BatchInput {
    pub carrier: String,
    pub collection_at: DateTime<Utc>,
    #[serde(default)]
    pub site_id: Option<SiteId>,
    /// Items to put in (accepted, of this carrier, window started by the collection). Without
    /// it every such item not yet in a batch goes in.
    #[serde(default)]
    pub items: Option<Vec<ItemId>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchView {
    pub batch: DispatchBatch,
    pub items: Vec<OutboundRecord>,
    pub scanned: usize,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ScanInput {
    /// What the scanner read: the item's reference (label barcode) or the carrier's tracking number.
    pub code: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct HandOverInput {
    /// The carrier's driver or courier who takes the batch.
    pub courier_name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HandOverResult {
    pub batch: DispatchBatch,
    pub dispatched: usize,
    /// Items that were not scanned out: taken out of the batch, still accepted.
    pub left_behind: Vec<String>,
}

/// Which outbound items to list.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct OutboundQuery {
    /// Comma-separated statuses.
    #[serde(default)]
    pub status: Option<String>,
    /// Only the caller's own requests.
    #[serde(default)]
    pub mine: Option<bool>,
    #[serde(default)]
    pub batch: Option<Uuid>,
    #[serde(default)]
    pub mailing: Option<Uuid>,
    #[serde(default)]
    pub before: Option<ItemId>,
    #[serde(default)]
    pub limit: Option<i64>,
}

fn refused(code: ErrorCode, msg: impl Into<String>) -> AppError {
    AppError::Domain(DomainError::new(code, msg))
}

/// The address problems that make it invalid, as one message.
fn address_error(v: &address::Verdict) -> AppError {
    let msgs: Vec<String> =
        v.problems.iter().filter(|p| p.severity == Severity::Error).map(|p| p.message.clone()).collect();
    DomainError::invalid("recipient", format!("the address is not valid: {}", msgs.join("; "))).into()
}

/// Customs errors that must be put right before the request is taken (all but certificates,
/// which are enclosed at the counter).
fn customs_blockers(v: &CustomsVerdict, at_acceptance: bool) -> Vec<String> {
    v.problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .filter(|p| at_acceptance || p.code != customs::CustomsCode::MissingCertificate)
        .map(|p| match p.line {
            Some(l) => format!("line {}: {}", l + 1, p.message),
            None => p.message.clone(),
        })
        .collect()
}

fn carrier_name(method: Method, carrier: Option<&str>) -> AppResult<Option<String>> {
    if method == Method::EncryptedElectronic {
        return Ok(None);
    }
    let c = text::required("carrier", carrier.unwrap_or(""), 64)?.to_ascii_lowercase();
    Ok(Some(c))
}

struct Prepared {
    record: OutboundRecord,
    draft: EventDraft,
    warnings: Vec<String>,
    verdict: Option<CustomsVerdict>,
}

impl App {
    fn may_handle_outbound(p: &Principal) -> bool {
        allowed(p.role, Permission::HandleOutbound)
    }

    /// The requester of a send (the caller, or for staff the employee named) and the name of
    /// their department (the send's sender organisation).
    async fn requester(
        &self,
        p: &Principal,
        named: Option<PersonId>,
    ) -> AppResult<(mailroom_store::models::Person, Option<String>)> {
        let id = match named {
            Some(id) if Some(id) != p.person_id => {
                if !Self::may_handle_outbound(p) {
                    return Err(DomainError::invalid(
                        "requester_person_id",
                        "only mailroom staff may ask for a send on someone else's behalf",
                    )
                    .into());
                }
                id
            }
            Some(id) => id,
            None => p.person_id.ok_or_else(|| {
                AppError::from(DomainError::invalid(
                    "requester_person_id",
                    "your account has no directory entry: name the employee the send is for",
                ))
            })?,
        };
        let person = self.store.person(p.tenant_id, id).await?.ok_or_else(|| {
            AppError::from(DomainError::invalid("requester_person_id", "no such person in this organisation"))
        })?;
        let dept = match person.department_id {
            Some(d) => self.store.department(p.tenant_id, d).await?.map(|d| d.name),
            None => None,
        };
        Ok((person, dept))
    }

    async fn sending_site(&self, p: &Principal, site: Option<SiteId>) -> AppResult<Option<SiteId>> {
        let site = match site.or(p.site_id) {
            Some(s) => Some(s),
            None => self.store.list_sites(p.tenant_id).await?.first().map(|s| s.id),
        };
        if let Some(s) = site {
            if !self.store.list_sites(p.tenant_id).await?.iter().any(|x| x.id == s) {
                return Err(DomainError::invalid("site_id", "no such site in this organisation").into());
            }
            self.require_site_scope(p, Some(s))?;
        }
        Ok(site)
    }

    /// Checks one request and builds its item, send and custody event (nothing written).
    #[allow(clippy::too_many_arguments)]
    async fn prepare_request(
        &self,
        p: &Principal,
        r: &OutboundRequest,
        requester: &mailroom_store::models::Person,
        requester_dept: &Option<String>,
        site_id: Option<SiteId>,
        rates: &RateTable,
        sdr: &customs::RateTable,
        mailing_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> AppResult<Prepared> {
        let verdict = address::check(&r.recipient);
        if !verdict.valid {
            return Err(address_error(&verdict));
        }
        let country = verdict.country.as_ref().map(|c| c.alpha2.to_string()).unwrap_or_default();
        let method = Method::parse_field("method", &r.method)?;
        let kind = ItemKind::parse_field("kind", r.kind.as_deref().unwrap_or("letter"))?;
        let category = Category::parse_field("category", r.category.as_deref().unwrap_or("general"))?;
        let priority = Priority::parse_field("priority", r.priority.as_deref().unwrap_or("normal"))?;
        let confidentiality =
            Confidentiality::parse_field("confidentiality", r.confidentiality.as_deref().unwrap_or("internal"))?;
        let zone = match r.zone {
            Some(Zone::Local) if country == "CN" => Zone::Local,
            Some(Zone::Local) => {
                return Err(DomainError::invalid("zone", "only addresses in mainland China can be local").into());
            }
            _ => postage::zone_for_country(&country)?,
        };
        let email = text::optional("recipient_email", r.recipient_email.as_deref(), 254)?;
        if let Some(e) = &email
            && !ob::looks_like_email(e)
        {
            return Err(DomainError::invalid("recipient_email", "this is not an e-mail address").into());
        }
        let phone = text::optional("recipient_phone", r.recipient_phone.as_deref(), 40)?;
        ob::check_method(method, zone, kind, email.as_deref())?;
        let contents = text::required("contents", &r.contents, 500)?;
        let notes = text::optional("notes", r.notes.as_deref(), 1000)?;
        ob::check_window(r.not_before, now)?;
        let carrier = carrier_name(method, r.carrier.as_deref())?;
        let physical = method != Method::EncryptedElectronic;
        let weight = match (physical, r.weight_g) {
            (false, _) => None,
            (true, Some(w)) if w > 0 && w <= postage::MAX_WEIGHT_G => Some(w),
            (true, Some(_)) => {
                return Err(DomainError::invalid("weight_g", "the weight must be between 1 g and 1,000 kg").into());
            }
            (true, None) => return Err(DomainError::invalid("weight_g", "give the estimated weight in grams").into()),
        };
        let mut warnings = Vec::new();
        let (customs_json, customs_verdict) = if ob::needs_customs(&country, method) {
            let Some(decl) = &r.customs else {
                return Err(refused(
                    ErrorCode::CustomsIncomplete,
                    "items leaving mainland China need a customs declaration (CN22/CN23): give its contents lines",
                ));
            };
            let v = customs::check(decl, sdr);
            let blockers = customs_blockers(&v, false);
            if !blockers.is_empty() {
                return Err(refused(
                    ErrorCode::CustomsIncomplete,
                    format!("the customs declaration is not acceptable: {}", blockers.join("; ")),
                ));
            }
            warnings.extend(
                v.problems
                    .iter()
                    .filter(|p| p.code == customs::CustomsCode::MissingCertificate || p.severity == Severity::Warning)
                    .map(|p| p.message.clone()),
            );
            let j = serde_json::to_value(decl).map_err(|e| AppError::Internal(e.to_string()))?;
            (Some(j), Some(v))
        } else {
            (None, None)
        };
        let estimate = match (&carrier, weight) {
            (Some(c), Some(w)) => Some(rates.quote(c, method, w, zone)?.0),
            _ => None,
        };
        let fields: &AddressFields = &verdict.fields;
        let recipient_name = [fields.recipient.as_str(), fields.organisation.as_str()]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or("")
            .to_string();
        if recipient_name.is_empty() {
            return Err(DomainError::invalid("recipient", "name the recipient (a person or an organisation)").into());
        }
        let bits = u64::from_le_bytes(random_bytes::<8>()?) & ((1 << 40) - 1);
        let item = Item {
            id: ItemId::new(),
            tenant_id: p.tenant_id,
            site_id,
            reference: reference::from_bits(bits),
            kind,
            category,
            priority,
            confidentiality,
            carrier: carrier.clone(),
            tracking_number: None,
            sender_name: Some(requester.name.clone()),
            sender_org: requester_dept.clone(),
            sender_address: None,
            sender_country: Some("CN".into()),
            recipient_person_id: None,
            recipient_department_id: None,
            recipient_name,
            condition: Condition::Intact,
            damage_description: None,
            notes,
            seal_number: None,
            status: Status::Requested,
            location_id: None,
            created_at: now,
            updated_at: now,
            version: 1,
            route: None,
            due_by: None,
            details_pending: false,
            redacted: false,
        };
        let send = OutboundRow {
            item_id: item.id,
            requester_person_id: Some(requester.id),
            requester_user_id: Some(p.user_id),
            method: method.as_str().into(),
            country: country.clone(),
            zone: zone.as_str().into(),
            address: json!({"fields": verdict.fields, "lines": verdict.lines, "latin_lines": verdict.latin_lines}),
            recipient_email: email,
            recipient_phone: phone,
            contents,
            weight_g: weight.map(i64::from),
            cost_centre_id: r.cost_centre_id,
            estimate,
            not_before: r.not_before.map(storage_time),
            customs: customs_json,
            customs_form: customs_verdict.as_ref().map(|v| form_name(v).into()),
            mailing_id,
            decided_by: None,
            decided_at: None,
            decision_note: None,
            postage: None,
            account_id: None,
            ledger_entry_id: None,
            batch_id: None,
            scanned_out_at: None,
            dispatched_at: None,
            receipt_signed_by: None,
            receipt_number: None,
            receipt_at: None,
            created_at: now,
        };
        let draft = EventDraft {
            item_id: Some(item.id),
            kind: "outbound_requested".into(),
            location_id: None,
            details: json!({
                "method": send.method, "country": send.country, "carrier": item.carrier,
                "estimate": estimate, "cost_centre_id": send.cost_centre_id, "mailing_id": mailing_id,
                "not_before": send.not_before,
            }),
        };
        Ok(Prepared { record: OutboundRecord { item, send }, draft, warnings, verdict: customs_verdict })
    }

    /// Month spend of a cost centre and its limits: refuses a send the hard limit cannot take,
    /// warns past the soft limit.
    async fn check_request_budget(
        &self,
        p: &Principal,
        cc: &mailroom_store::models::CostCentre,
        amount: i64,
        now: DateTime<Utc>,
        warnings: &mut Vec<String>,
    ) -> AppResult<bool> {
        let (y, m) = month_of(now);
        let (from, to) = month_bounds(y, m)?;
        let spend = self.store.postage_spend(p.tenant_id, from, to).await?;
        let spent = spend.iter().find(|s| s.cost_centre_id == cc.id).map(|s| s.spend).unwrap_or(0);
        match check_budget(Money(spent), Money(amount), cc.soft_limit.map(Money), cc.hard_limit.map(Money)) {
            BudgetVerdict::Block => Err(refused(
                ErrorCode::BudgetExceeded,
                format!(
                    "cost centre {} has spent {} of its {} limit this month; this send ({}) is refused",
                    cc.code,
                    Money(spent),
                    Money(cc.hard_limit.unwrap_or_default()),
                    Money(amount)
                ),
            )),
            BudgetVerdict::Warn => {
                warnings.push(format!(
                    "cost centre {} passes its soft limit of {} this month",
                    cc.code,
                    Money(cc.soft_limit.unwrap_or_default())
                ));
                Ok(true)
            }
            BudgetVerdict::Ok => Ok(false),
        }
    }

    async fn cost_centre_of(&self, p: &Principal, id: Uuid) -> AppResult<mailroom_store::models::CostCentre> {
        self.store
            .cost_centre(p.tenant_id, id)
            .await?
            .ok_or_else(|| DomainError::invalid("cost_centre_id", "no such cost centre in this organisation").into())
    }

    /// Asks for a send. It waits for an approver when its estimated postage passes the cost
    /// centre's approval limit; a send the cost centre's hard monthly limit cannot take is
    /// refused (`budget_exceeded`), writing nothing.
    pub async fn request_outbound(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        r: &OutboundRequest,
        sdr: &customs::RateTable,
    ) -> AppResult<OutboundView> {
        require(p.role, Permission::RequestOutbound)?;
        let (requester, dept) = self.requester(p, r.requester_person_id).await?;
        let site = self.sending_site(p, r.site_id).await?;
        let cc = self.cost_centre_of(p, r.cost_centre_id).await?;
        let rates = RateTable::new(self.store.postage_rates(p.tenant_id).await?)?;
        let now = storage_time(self.clock.now());
        let mut prep = self.prepare_request(p, r, &requester, &dept, site, &rates, sdr, None, now).await?;
        let estimate = prep.record.send.estimate.unwrap_or(0);
        let soft_limit_passed = self.check_request_budget(p, &cc, estimate, now, &mut prep.warnings).await?;
        if ob::needs_approval(Money(estimate), cc.approval_limit.map(Money)) {
            prep.record.item.status = Status::AwaitingApproval;
            prep.warnings.push(format!(
                "the estimated postage {} passes cost centre {}'s approval limit of {}: the send waits for approval",
                Money(estimate),
                cc.code,
                Money(cc.approval_limit.unwrap_or_default())
            ));
            if let Some(d) = prep.draft.details.as_object_mut() {
                d.insert("awaiting_approval".into(), json!(true));
            }
        }
        let record = prep.record.clone();
        self.store.create_outbound(p.tenant_id, vec![(prep.record, prep.draft)], &p.actor(ctx)).await?;
        let method = Method::parse(&record.send.method).unwrap_or(Method::Standard);
        Ok(OutboundView {
            actions: self.outbound_actions(p, &record, method),
            record,
            warnings: prep.warnings,
            soft_limit_passed,
            customs_verdict: prep.verdict,
        })
    }

    /// Asks for one send per CSV row (a mailing), all or nothing: a bad row refuses the whole
    /// file with every bad line named. Columns (header row, any order): `recipient`,
    /// `organisation`, `street` (lines separated by `|`), `district`, `city`, `region`,
    /// `postal_code`, `country`, `email`, `phone` — or `address` as free text with `country`.
    pub async fn request_mailing(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        params: &MailingParams,
        csv_bytes: &[u8],
        sdr: &customs::RateTable,
    ) -> AppResult<MailingResult> {
        require(p.role, Permission::RequestOutbound)?;
        let (requester, dept) = self.requester(p, params.requester_person_id).await?;
        let site = self.sending_site(p, params.site_id).await?;
        let cc = self.cost_centre_of(p, params.cost_centre_id).await?;
        let rates = RateTable::new(self.store.postage_rates(p.tenant_id).await?)?;
        let now = storage_time(self.clock.now());
        let mailing_id = Uuid::now_v7();
        let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(csv_bytes);
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| AppError::from(DomainError::invalid("file", format!("the CSV header cannot be read: {e}"))))?
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        let col = |name: &str| headers.iter().position(|h| h == name);
        if col("country").is_none() {
            return Err(DomainError::invalid("file", "the CSV needs a country column").into());
        }
        let mut errors = Vec::new();
        let mut prepared = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i as u64 + 2;
            if prepared.len() + errors.len() >= MAX_MAILING_ROWS {
                return Err(
                    DomainError::invalid("file", format!("a mailing holds at most {MAX_MAILING_ROWS} rows")).into()
                );
            }
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    errors.push(crate::error::RowError { line, reason: format!("unreadable row: {e}") });
                    continue;
                }
            };
            let get = |name: &str| col(name).and_then(|c| rec.get(c)).map(str::trim).unwrap_or("").to_string();
            let text_addr = get("address");
            let fields = AddressFields {
                recipient: get("recipient"),
                organisation: get("organisation"),
                street: get("street").split('|').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
                district: get("district"),
                city: get("city"),
                region: get("region"),
                postal_code: get("postal_code"),
            };
            let recipient = CheckRequest {
                country: get("country"),
                postal_code: None,
                text: (!text_addr.is_empty()).then_some(text_addr),
                fields: (fields != AddressFields::default()).then_some(fields),
            };
            let email = get("email");
            let phone = get("phone");
            let req = OutboundRequest {
                requester_person_id: Some(requester.id),
                site_id: site,
                recipient,
                recipient_email: (!email.is_empty()).then_some(email),
                recipient_phone: (!phone.is_empty()).then_some(phone),
                kind: params.kind.clone(),
                category: params.category.clone(),
                priority: None,
                confidentiality: None,
                contents: params.contents.clone(),
                method: params.method.clone(),
                carrier: params.carrier.clone(),
                weight_g: params.weight_g,
                zone: None,
                cost_centre_id: params.cost_centre_id,
                not_before: params.not_before,
                customs: None,
                notes: None,
            };
            match self.prepare_request(p, &req, &requester, &dept, site, &rates, sdr, Some(mailing_id), now).await {
                Ok(prep) => prepared.push(prep),
                Err(AppError::Domain(d)) => errors.push(crate::error::RowError { line, reason: d.message }),
                Err(e) => return Err(e),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Rows(errors));
        }
        if prepared.is_empty() {
            return Err(DomainError::invalid("file", "the CSV has no rows").into());
        }
        let total: i64 = prepared.iter().map(|x| x.record.send.estimate.unwrap_or(0)).sum();
        let mut warnings = Vec::new();
        let soft_limit_passed = self.check_request_budget(p, &cc, total, now, &mut warnings).await?;
        let mut waiting = 0;
        let mut records = Vec::with_capacity(prepared.len());
        for mut prep in prepared {
            let est = prep.record.send.estimate.unwrap_or(0);
            if ob::needs_approval(Money(est), cc.approval_limit.map(Money)) {
                prep.record.item.status = Status::AwaitingApproval;
                waiting += 1;
            }
            records.push((prep.record, prep.draft));
        }
        let created = records.len();
        self.store.create_outbound(p.tenant_id, records, &p.actor(ctx)).await?;
        Ok(MailingResult {
            mailing_id,
            created,
            awaiting_approval: waiting,
            estimate_total: total,
            warnings,
            soft_limit_passed,
        })
    }

    fn outbound_actions(&self, p: &Principal, r: &OutboundRecord, method: Method) -> Vec<OutboundAction> {
        let own = p.person_id.is_some() && r.send.requester_person_id == p.person_id;
        ob::allowed_actions(r.item.status, method)
            .into_iter()
            .filter(|a| match a {
                OutboundAction::Approve | OutboundAction::Reject => allowed(p.role, Permission::ApproveOutbound),
                OutboundAction::Cancel => {
                    Self::may_handle_outbound(p)
                        || (own && matches!(r.item.status, Status::AwaitingApproval | Status::Requested))
                }
                _ => Self::may_handle_outbound(p),
            })
            .collect()
    }

    /// An outbound item, if the caller may see it: mailroom staff, approvers and readers of all
    /// outbound mail see every one; others their own requests.
    async fn visible_outbound(&self, p: &Principal, id: ItemId) -> AppResult<OutboundRecord> {
        let r = self.store.outbound(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("outbound item"))?;
        let own = p.person_id.is_some() && r.send.requester_person_id == p.person_id;
        if own || allowed(p.role, Permission::ReadAllOutbound) {
            Ok(r)
        } else {
            Err(AppError::not_found("outbound item"))
        }
    }

    pub async fn outbound_item(&self, p: &Principal, id: ItemId, sdr: &customs::RateTable) -> AppResult<OutboundView> {
        require(p.role, Permission::RequestOutbound).or_else(|_| require(p.role, Permission::ReadAllOutbound))?;
        let record = self.visible_outbound(p, id).await?;
        Ok(self.view(p, record, Vec::new(), sdr))
    }

    fn view(
        &self,
        p: &Principal,
        record: OutboundRecord,
        warnings: Vec<String>,
        sdr: &customs::RateTable,
    ) -> OutboundView {
        let method = Method::parse(&record.send.method).unwrap_or(Method::Standard);
        let customs_verdict = record
            .send
            .customs
            .as_ref()
            .and_then(|j| serde_json::from_value::<Declaration>(j.clone()).ok())
            .map(|d| customs::check(&d, sdr));
        OutboundView {
            actions: self.outbound_actions(p, &record, method),
            record,
            warnings,
            soft_limit_passed: false,
            customs_verdict,
        }
    }

    /// Outbound items, newest first: all of them for staff and readers of all outbound mail,
    /// otherwise the caller's own.
    pub async fn list_outbound(&self, p: &Principal, q: &OutboundQuery) -> AppResult<Vec<OutboundRecord>> {
        require(p.role, Permission::RequestOutbound).or_else(|_| require(p.role, Permission::ReadAllOutbound))?;
        let mut statuses = Vec::new();
        for s in q.status.as_deref().unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let st = Status::parse_field("status", s)?;
            if !st.is_outbound() && !matches!(st, Status::Delivered | Status::ReturnedToSender) {
                return Err(DomainError::invalid("status", format!("{s} is not an outbound status")).into());
            }
            statuses.push(st);
        }
        let all = allowed(p.role, Permission::ReadAllOutbound);
        let requester = if q.mine.unwrap_or(false) || !all {
            Some(p.person_id.ok_or_else(|| AppError::not_found("directory entry"))?)
        } else {
            None
        };
        let f = OutboundFilter {
            statuses,
            requester,
            batch: q.batch,
            mailing: q.mailing,
            before: q.before,
            limit: q.limit.unwrap_or(100).clamp(1, MAX_LIST),
            ..Default::default()
        };
        Ok(self.store.list_outbound(p.tenant_id, &f).await?)
    }

    async fn step(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        r: &OutboundRecord,
        action: OutboundAction,
        mut change: OutboundChange,
        details: serde_json::Value,
    ) -> AppResult<OutboundRecord> {
        let method = Method::parse(&r.send.method).unwrap_or(Method::Standard);
        let to = ob::next_status(r.item.status, action, method)?;
        change.expected_version = r.item.version;
        change.status = Some(to);
        let mut details = details;
        if let Some(d) = details.as_object_mut() {
            d.insert("from".into(), json!(r.item.status));
            d.insert("to".into(), json!(to));
        }
        let draft = EventDraft {
            item_id: Some(r.item.id),
            kind: format!("outbound_{}", action.as_str()),
            location_id: None,
            details,
        };
        Ok(self.store.change_outbound(p.tenant_id, r.item.id, change, &p.actor(ctx), draft).await?)
    }

    /// Approves or rejects a send that waits for approval.
    pub async fn decide_outbound(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: ItemId,
        approve: bool,
        input: &DecisionInput,
        sdr: &customs::RateTable,
    ) -> AppResult<OutboundView> {
        require(p.role, Permission::ApproveOutbound)?;
        let r = self.visible_outbound(p, id).await?;
        let note = text::optional("note", input.note.as_deref(), 500)?;
        if !approve && note.is_none() {
            return Err(DomainError::invalid("note", "say why the send is rejected").into());
        }
        let now = storage_time(self.clock.now());
        let change = OutboundChange {
            decided_by: Some(p.login.clone()),
            decided_at: Some(now),
            decision_note: note.clone(),
            ..Default::default()
        };
        let action = if approve { OutboundAction::Approve } else { OutboundAction::Reject };
        let record = self.step(p, ctx, &r, action, change, json!({"note": note, "estimate": r.send.estimate})).await?;
        Ok(self.view(p, record, Vec::new(), sdr))
    }

    /// The postage account a send is charged to.
    async fn account_for(&self, p: &Principal, r: &OutboundRecord, chosen: Option<Uuid>) -> AppResult<Uuid> {
        let accounts = self.store.postage_accounts(p.tenant_id).await?;
        if let Some(id) = chosen {
            return accounts.iter().find(|a| a.id == id).map(|a| a.id).ok_or_else(|| {
                DomainError::invalid("account_id", "no such postage account in this organisation").into()
            });
        }
        let site = r.item.site_id.map(|s| s.0);
        let at_site: Vec<_> = accounts.iter().filter(|a| a.site_id.is_some() && a.site_id == site).collect();
        let general: Vec<_> = accounts.iter().filter(|a| a.site_id.is_none()).collect();
        match (at_site.as_slice(), general.as_slice()) {
            ([a], _) => Ok(a.id),
            ([], [a]) => Ok(a.id),
            _ => Err(DomainError::invalid(
                "account_id",
                "choose the postage account to charge (the site has none or several)",
            )
            .into()),
        }
    }

    /// Accepts a requested send at the counter: weighed, its customs declaration checked (an
    /// item that still lacks a certificate or has a prohibited line is refused,
    /// `customs_incomplete`), and its postage charged to its cost centre from a postage account
    /// in the same transaction (`budget_exceeded`, `insufficient_balance`: nothing written).
    pub async fn accept_outbound(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: ItemId,
        input: &AcceptInput,
        sdr: &customs::RateTable,
    ) -> AppResult<OutboundView> {
        require(p.role, Permission::HandleOutbound)?;
        let r = self.visible_outbound(p, id).await?;
        self.require_site_scope(p, r.item.site_id)
            .or_else(|e| if r.item.site_id.is_none() { Ok(()) } else { Err(e) })?;
        let method = Method::parse_field("method", &r.send.method)?;
        ob::next_status(r.item.status, OutboundAction::Accept, method)?;
        if input.weight_g == 0 || input.weight_g > postage::MAX_WEIGHT_G {
            return Err(DomainError::invalid("weight_g", "the weight must be between 1 g and 1,000 kg").into());
        }
        let mut warnings = Vec::new();
        let mut customs_json = None;
        let mut form = None;
        if ob::needs_customs(&r.send.country, method) {
            let decl: Declaration = match &input.customs {
                Some(d) => d.clone(),
                None => match &r.send.customs {
                    Some(j) => serde_json::from_value(j.clone()).map_err(|e| AppError::Internal(e.to_string()))?,
                    None => {
                        return Err(refused(ErrorCode::CustomsIncomplete, "the item has no customs declaration"));
                    }
                },
            };
            let v = customs::check(&decl, sdr);
            let blockers = customs_blockers(&v, true);
            if !v.accepted || !blockers.is_empty() {
                return Err(refused(
                    ErrorCode::CustomsIncomplete,
                    format!("the item cannot be accepted for dispatch: {}", blockers.join("; ")),
                ));
            }
            warnings.extend(v.problems.iter().filter(|p| p.severity == Severity::Warning).map(|p| p.message.clone()));
            form = Some(form_name(&v).to_string());
            if input.customs.is_some() {
                customs_json = Some(serde_json::to_value(&decl).map_err(|e| AppError::Internal(e.to_string()))?);
            }
        }
        let tracking = match input.tracking_number.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(t) => Some(ob::normalize_carrier_tracking(t)?),
            None => None,
        };
        let carrier = r.item.carrier.clone().unwrap_or_default();
        let zone = Zone::parse_field("zone", &r.send.zone)?;
        let rates = RateTable::new(self.store.postage_rates(p.tenant_id).await?)?;
        let amount = rates.quote(&carrier, method, input.weight_g, zone)?.0;
        let account = self.account_for(p, &r, input.account_id).await?;
        let mut entry = self.entry(p, account, "charge", -amount);
        entry.cost_centre_id = Some(r.send.cost_centre_id);
        entry.carrier = Some(carrier.clone());
        entry.method = Some(method.as_str().into());
        entry.zone = Some(zone.as_str().into());
        entry.weight_g = Some(i64::from(input.weight_g));
        entry.reference = Some(r.item.reference.clone());
        let change = OutboundChange {
            weight_g: Some(i64::from(input.weight_g)),
            customs: customs_json,
            customs_form: form.clone(),
            postage: Some(amount),
            account_id: Some(account),
            tracking_number: tracking.clone(),
            postage_move: Some(Self::movement(entry)?),
            ..Default::default()
        };
        let details = json!({"weight_g": input.weight_g, "postage": amount, "account_id": account,
            "customs_form": form, "tracking_number": tracking});
        let record = self.step(p, ctx, &r, OutboundAction::Accept, change, details).await?;
        Ok(self.view(p, record, warnings, sdr))
    }

    /// Cancels a send before it leaves: the requester while it waits for approval or for the
    /// mailroom, staff until it is handed to the carrier. Postage already charged is refunded
    /// in the same transaction.
    pub async fn cancel_outbound(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: ItemId,
        input: &DecisionInput,
        sdr: &customs::RateTable,
    ) -> AppResult<OutboundView> {
        require(p.role, Permission::RequestOutbound).or_else(|_| require(p.role, Permission::HandleOutbound))?;
        let r = self.visible_outbound(p, id).await?;
        let method = Method::parse_field("method", &r.send.method)?;
        if !self.outbound_actions(p, &r, method).contains(&OutboundAction::Cancel) {
            ob::next_status(r.item.status, OutboundAction::Cancel, method)?;
            return Err(AppError::forbidden());
        }
        let note = text::optional("note", input.note.as_deref(), 500)?;
        let mut change = OutboundChange { decision_note: note.clone(), ..Default::default() };
        if let (Some(amount), Some(account)) = (r.send.postage, r.send.account_id)
            && amount > 0
        {
            let mut entry = self.entry(p, account, "refund", amount);
            entry.cost_centre_id = Some(r.send.cost_centre_id);
            entry.carrier = r.item.carrier.clone();
            entry.method = Some(r.send.method.clone());
            entry.zone = Some(r.send.zone.clone());
            entry.weight_g = r.send.weight_g;
            entry.reference = Some(r.item.reference.clone());
            entry.note = Some("cancelled before dispatch".into());
            change.postage_move = Some(Self::movement(entry)?);
        }
        let details = json!({"note": note, "refund": change.postage_move.as_ref().map(|m| m.entry.amount)});
        let record = self.step(p, ctx, &r, OutboundAction::Cancel, change, details).await?;
        Ok(self.view(p, record, Vec::new(), sdr))
    }

    /// Records the carrier's tracking number of an accepted or dispatched send.
    pub async fn record_outbound_tracking(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: ItemId,
        input: &TrackingInput,
        sdr: &customs::RateTable,
    ) -> AppResult<OutboundView> {
        require(p.role, Permission::HandleOutbound)?;
        let r = self.visible_outbound(p, id).await?;
        if !matches!(r.item.status, Status::Accepted | Status::Dispatched) {
            return Err(refused(
                ErrorCode::InvalidTransition,
                "the carrier's tracking number is recorded once the item is accepted",
            ));
        }
        let tn = ob::normalize_carrier_tracking(&input.tracking_number)?;
        let change = OutboundChange {
            expected_version: r.item.version,
            tracking_number: Some(tn.clone()),
            ..Default::default()
        };
        let draft = EventDraft {
            item_id: Some(r.item.id),
            kind: "carrier_tracking_recorded".into(),
            location_id: None,
            details: json!({"tracking_number": tn, "previous": r.item.tracking_number}),
        };
        let record = self.store.change_outbound(p.tenant_id, r.item.id, change, &p.actor(ctx), draft).await?;
        Ok(self.view(p, record, Vec::new(), sdr))
    }

    /// Records the receipt of a dispatched send (registered mail's return receipt, a courier's
    /// proof of delivery): the item is delivered.
    pub async fn record_outbound_receipt(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: ItemId,
        input: &ReceiptInput,
        sdr: &customs::RateTable,
    ) -> AppResult<OutboundView> {
        require(p.role, Permission::HandleOutbound)?;
        let r = self.visible_outbound(p, id).await?;
        let receipt = Receipt::validate(&input.signed_by, input.receipt_number.as_deref())?;
        let now = storage_time(self.clock.now());
        let at = input.delivered_at.map(storage_time).unwrap_or(now);
        if at > now + chrono::Duration::minutes(5) {
            return Err(DomainError::invalid("delivered_at", "the delivery time is in the future").into());
        }
        if r.send.dispatched_at.is_some_and(|d| at < d) {
            return Err(DomainError::invalid("delivered_at", "the delivery time is before the dispatch").into());
        }
        let change = OutboundChange {
            receipt_signed_by: Some(receipt.signed_by.clone()),
            receipt_number: receipt.number.clone(),
            receipt_at: Some(at),
            ..Default::default()
        };
        let details = json!({"signed_by": receipt.signed_by, "receipt_number": receipt.number, "delivered_at": at});
        let record = self.step(p, ctx, &r, OutboundAction::ConfirmDelivery, change, details).await?;
        Ok(self.view(p, record, Vec::new(), sdr))
    }

    /// A dispatched send the carrier brought back undelivered.
    pub async fn return_outbound(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: ItemId,
        input: &DecisionInput,
        sdr: &customs::RateTable,
    ) -> AppResult<OutboundView> {
        require(p.role, Permission::HandleOutbound)?;
        let r = self.visible_outbound(p, id).await?;
        let note = text::required("note", input.note.as_deref().unwrap_or(""), 500)?;
        let change = OutboundChange { decision_note: Some(note.clone()), ..Default::default() };
        let record = self.step(p, ctx, &r, OutboundAction::Return, change, json!({"reason": note})).await?;
        Ok(self.view(p, record, Vec::new(), sdr))
    }

    /// Records that a document went by encrypted electronic transfer (no paper, no batch).
    pub async fn send_electronic(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: ItemId,
        input: &DecisionInput,
        sdr: &customs::RateTable,
    ) -> AppResult<OutboundView> {
        require(p.role, Permission::HandleOutbound)?;
        let r = self.visible_outbound(p, id).await?;
        if r.send.method != Method::EncryptedElectronic.as_str() {
            return Err(refused(
                ErrorCode::InvalidTransition,
                "physical items leave in a dispatch batch: accept the item and scan it out",
            ));
        }
        let now = storage_time(self.clock.now());
        if r.send.not_before.is_some_and(|t| t > now) {
            return Err(refused(ErrorCode::InvalidTransition, "the send's dispatch window has not started yet"));
        }
        let note = text::optional("note", input.note.as_deref(), 500)?;
        let change = OutboundChange { dispatched_at: Some(now), decision_note: note.clone(), ..Default::default() };
        let details = json!({"to": r.send.recipient_email, "note": note});
        let record = self.step(p, ctx, &r, OutboundAction::Dispatch, change, details).await?;
        Ok(self.view(p, record, Vec::new(), sdr))
    }

    fn batch_change(r: &OutboundRecord, batch: Option<Uuid>, scanned: Option<DateTime<Utc>>) -> OutboundChange {
        OutboundChange {
            expected_version: r.item.version,
            batch: Some(batch),
            scanned_out_at: Some(scanned),
            ..Default::default()
        }
    }

    /// Checks that an item can go with a collection of `carrier` at `at`.
    fn batchable(r: &OutboundRecord, carrier: &str, at: DateTime<Utc>, batch: Option<Uuid>) -> Result<(), String> {
        if r.item.status != Status::Accepted {
            return Err(format!("{} is {}, not accepted", r.item.reference, r.item.status.as_str().replace('_', " ")));
        }
        if r.item.carrier.as_deref() != Some(carrier) {
            return Err(format!(
                "{} goes by {}, not {carrier}",
                r.item.reference,
                r.item.carrier.as_deref().unwrap_or("-")
            ));
        }
        if !ob::window_open(r.send.not_before, at) {
            return Err(format!("{}'s dispatch window starts after this collection", r.item.reference));
        }
        if r.send.batch_id.is_some() && r.send.batch_id != batch {
            return Err(format!("{} is already in another batch", r.item.reference));
        }
        Ok(())
    }

    /// Prepares a carrier collection and puts accepted items in it: the ones named, or every
    /// accepted item of that carrier whose dispatch window has started by the collection and
    /// that is in no batch yet.
    pub async fn create_dispatch_batch(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        input: &BatchInput,
    ) -> AppResult<BatchView> {
        require(p.role, Permission::HandleOutbound)?;
        let carrier = text::required("carrier", &input.carrier, 64)?.to_ascii_lowercase();
        let site = self.sending_site(p, input.site_id).await?;
        let at = storage_time(input.collection_at);
        let now = storage_time(self.clock.now());
        let items = match &input.items {
            Some(ids) => {
                let mut v = Vec::with_capacity(ids.len());
                for id in ids {
                    let r = self.store.outbound(p.tenant_id, *id).await?.ok_or_else(|| {
                        AppError::from(DomainError::invalid("items", format!("{} is not an outbound item", id.0)))
                    })?;
                    Self::batchable(&r, &carrier, at, None)
                        .map_err(|m| AppError::from(DomainError::invalid("items", m)))?;
                    v.push(r);
                }
                v
            }
            None => {
                let f = OutboundFilter {
                    statuses: vec![Status::Accepted],
                    carrier: Some(carrier.clone()),
                    unbatched: true,
                    window_open_at: Some(at),
                    limit: 10_000,
                    ..Default::default()
                };
                self.store
                    .list_outbound(p.tenant_id, &f)
                    .await?
                    .into_iter()
                    .filter(|r| site.is_none() || r.item.site_id == site)
                    .collect()
            }
        };
        let day = at.with_timezone(&crate::postage::cst()).format("%Y%m%d");
        let suffix = u32::from_le_bytes(random_bytes::<4>()?) % 100_000;
        let batch = DispatchBatch {
            id: Uuid::now_v7(),
            reference: format!("DB-{day}-{suffix:05}"),
            site_id: site.map(|s| s.0),
            carrier: carrier.clone(),
            collection_at: at,
            status: ob::BatchStatus::Open.as_str().into(),
            created_by: p.login.clone(),
            created_at: now,
            handed_over_at: None,
            handed_over_by: None,
            courier_name: None,
        };
        let changes = items
            .iter()
            .map(|r| {
                let draft = EventDraft {
                    item_id: Some(r.item.id),
                    kind: "outbound_batched".into(),
                    location_id: None,
                    details: json!({"batch": batch.reference, "carrier": carrier, "collection_at": at}),
                };
                (r.item.id, Self::batch_change(r, Some(batch.id), None), draft)
            })
            .collect();
        self.store.create_batch(p.tenant_id, batch.clone(), changes, &p.actor(ctx)).await?;
        self.dispatch_batch_view(p, batch.id).await
    }

    pub async fn dispatch_batch_view(&self, p: &Principal, id: Uuid) -> AppResult<BatchView> {
        require(p.role, Permission::ReadAllOutbound)?;
        let batch = self.store.dispatch_batch(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("batch"))?;
        let f = OutboundFilter { batch: Some(id), limit: 10_000, ..Default::default() };
        let mut items = self.store.list_outbound(p.tenant_id, &f).await?;
        items.sort_by(|a, b| a.item.reference.cmp(&b.item.reference));
        let scanned = items.iter().filter(|r| r.send.scanned_out_at.is_some()).count();
        Ok(BatchView { batch, items, scanned })
    }

    pub async fn dispatch_batches(&self, p: &Principal, status: Option<&str>) -> AppResult<Vec<DispatchBatch>> {
        require(p.role, Permission::ReadAllOutbound)?;
        let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(ob::BatchStatus::parse_field("status", s)?.as_str().to_string()),
            None => None,
        };
        Ok(self.store.dispatch_batches(p.tenant_id, status, 200).await?)
    }

    /// Scans an item out into an open batch: by its reference (label barcode) or the carrier's
    /// tracking number. An accepted item of the batch's carrier that is in no batch yet is put
    /// in; scanning an item twice changes nothing.
    pub async fn scan_out(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        batch: Uuid,
        input: &ScanInput,
    ) -> AppResult<BatchView> {
        require(p.role, Permission::HandleOutbound)?;
        let b = self.store.dispatch_batch(p.tenant_id, batch).await?.ok_or_else(|| AppError::not_found("batch"))?;
        if b.status != ob::BatchStatus::Open.as_str() {
            return Err(refused(ErrorCode::InvalidTransition, "the batch was already handed to the carrier"));
        }
        let code = input.code.trim();
        let mut found = None;
        if let Some(r) = reference::normalize(code) {
            let f = mailroom_store::models::ItemFilter { reference: Some(r), limit: 1, ..Default::default() };
            found = self.store.list_items(p.tenant_id, &f).await?.into_iter().next();
        }
        if found.is_none()
            && let Ok(tn) = ob::normalize_carrier_tracking(code)
        {
            let f = mailroom_store::models::ItemFilter { tracking_number: Some(tn), limit: 1, ..Default::default() };
            found = self.store.list_items(p.tenant_id, &f).await?.into_iter().next();
        }
        let item = found
            .ok_or_else(|| AppError::from(DomainError::invalid("code", format!("no item has the code {code}"))))?;
        let r = self.store.outbound(p.tenant_id, item.id).await?.ok_or_else(|| {
            AppError::from(DomainError::invalid("code", format!("{} is not an outbound item", item.reference)))
        })?;
        if r.send.batch_id == Some(batch) && r.send.scanned_out_at.is_some() {
            return self.dispatch_batch_view(p, batch).await;
        }
        Self::batchable(&r, &b.carrier, b.collection_at, Some(batch))
            .map_err(|m| refused(ErrorCode::InvalidTransition, m))?;
        let now = storage_time(self.clock.now());
        let draft = EventDraft {
            item_id: Some(r.item.id),
            kind: "outbound_scanned_out".into(),
            location_id: None,
            details: json!({"batch": b.reference, "carrier": b.carrier}),
        };
        self.store
            .change_outbound(
                p.tenant_id,
                r.item.id,
                Self::batch_change(&r, Some(batch), Some(now)),
                &p.actor(ctx),
                draft,
            )
            .await?;
        self.dispatch_batch_view(p, batch).await
    }

    /// Hands a batch to the carrier: every scanned item is dispatched (one custody event each,
    /// naming the courier), items not scanned out are taken out of the batch and stay accepted.
    pub async fn hand_over_batch(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        batch: Uuid,
        input: &HandOverInput,
    ) -> AppResult<HandOverResult> {
        require(p.role, Permission::HandleOutbound)?;
        let courier = text::required("courier_name", &input.courier_name, 200)?;
        let view = self.dispatch_batch_view(p, batch).await?;
        if view.batch.status != ob::BatchStatus::Open.as_str() {
            return Err(refused(ErrorCode::InvalidTransition, "the batch was already handed to the carrier"));
        }
        if view.scanned == 0 {
            return Err(refused(ErrorCode::InvalidTransition, "scan the items out before handing the batch over"));
        }
        let now = storage_time(self.clock.now());
        let mut changes = Vec::new();
        let mut left = Vec::new();
        for r in &view.items {
            if r.send.scanned_out_at.is_some() {
                let method = Method::parse_field("method", &r.send.method)?;
                let to = ob::next_status(r.item.status, OutboundAction::Dispatch, method)?;
                let change = OutboundChange {
                    expected_version: r.item.version,
                    status: Some(to),
                    dispatched_at: Some(now),
                    ..Default::default()
                };
                let draft = EventDraft {
                    item_id: Some(r.item.id),
                    kind: "outbound_dispatch".into(),
                    location_id: None,
                    details: json!({"batch": view.batch.reference, "carrier": view.batch.carrier, "courier": courier,
                        "tracking_number": r.item.tracking_number, "from": r.item.status, "to": to}),
                };
                changes.push((r.item.id, change, draft));
            } else {
                left.push(r.item.reference.clone());
                let draft = EventDraft {
                    item_id: Some(r.item.id),
                    kind: "outbound_unbatched".into(),
                    location_id: None,
                    details: json!({"batch": view.batch.reference, "reason": "not scanned out at hand-over"}),
                };
                changes.push((r.item.id, Self::batch_change(r, None, None), draft));
            }
        }
        let dispatched = view.scanned;
        self.store.hand_over_batch(p.tenant_id, batch, now, p.login.clone(), courier, changes, &p.actor(ctx)).await?;
        let batch = self.store.dispatch_batch(p.tenant_id, batch).await?.ok_or_else(|| AppError::not_found("batch"))?;
        Ok(HandOverResult { batch, dispatched, left_behind: left })
    }

    /// The custody timeline of an outbound item, for whoever may see the send (its requester
    /// included, who is not the item's recipient).
    pub async fn outbound_events(&self, p: &Principal, id: ItemId) -> AppResult<Vec<CustodyEvent>> {
        require(p.role, Permission::RequestOutbound).or_else(|_| require(p.role, Permission::ReadAllOutbound))?;
        let r = self.visible_outbound(p, id).await?;
        Ok(self.store.item_events(p.tenant_id, r.item.id).await?)
    }

    /// What a request form offers: the organisation's cost centres and the carriers of its rate
    /// table (sorted, each once).
    pub async fn outbound_choices(&self, p: &Principal) -> AppResult<OutboundChoices> {
        require(p.role, Permission::RequestOutbound).or_else(|_| require(p.role, Permission::ReadAllOutbound))?;
        let cost_centres = self.store.cost_centres(p.tenant_id).await?;
        let mut carriers: Vec<String> =
            self.store.postage_rates(p.tenant_id).await?.into_iter().map(|r| r.carrier).collect();
        carriers.sort();
        carriers.dedup();
        Ok(OutboundChoices { cost_centres, carriers })
    }
}

/// The cost centres and carriers a request may name.
#[derive(Debug, Clone)]
pub struct OutboundChoices {
    pub cost_centres: Vec<mailroom_store::models::CostCentre>,
    pub carriers: Vec<String>,
}

/// `cn22` or `cn23`.
fn form_name(v: &CustomsVerdict) -> &'static str {
    match v.form {
        customs::Form::Cn22 => "cn22",
        customs::Form::Cn23 => "cn23",
    }
}
