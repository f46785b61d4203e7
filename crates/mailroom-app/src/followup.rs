//! Service levels and unclaimed items: the working-hours calendars of sites (cached for
//! intake), the sweeper that marks missed deadlines and follows the unclaimed-item policies
//! (reminders, escalation, final-step requests), supervisors' decisions on those requests, and
//! the supervisor dashboard. See docs/SERVICE-LEVELS.md.
//!
//! Every step the sweeper takes is one store transaction that locks the item, updates its
//! follow-up record only if the step was not done yet, and appends the step's custody event(s):
//! several server nodes may sweep at once and each step still happens exactly once.

use crate::{App, AppError, AppResult, Principal, RequestCtx};
use chrono::{DateTime, Duration, Utc};
use mailroom_domain::auth::{Permission, Role, require, site_allowed};
use mailroom_domain::calendar::{CalendarConfig, WorkingCalendar, fixed_offset_minutes};
use mailroom_domain::custody::{Actor, EventDraft, storage_time};
use mailroom_domain::followup::{
    FinalAction, FollowupState, UnclaimedPolicy, UnclaimedStep, days_between, deadline_missed, unclaimed_step,
};
use mailroom_domain::ids::{ItemId, PersonId, SiteId, TenantId};
use mailroom_domain::item::{Category, Priority, Status, next_status};
use mailroom_domain::{DomainError, ErrorCode};
use mailroom_store::{Department, FollowupItem, FollowupStep, FollowupWrite, Item, ItemChange, SiteCalendar, User};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;
use utoipa::ToSchema;

/// How long intake trusts a calendar it read (a calendar saved on this node applies at once).
const CALENDAR_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// Items read at a time by the sweeper.
const SWEEP_BATCH: i64 = 500;
/// Pages of waiting items one sweep looks at per tenant, at most.
const MAX_PAGES: usize = 200;
/// "At risk": due within this much working time.
const AT_RISK_WORKING_MINUTES: i64 = 120;

/// Site calendars as last read: (tenant, site) → (when, calendar).
#[derive(Default)]
pub struct CalendarCache {
    #[allow(clippy::type_complexity)]
    entries: Mutex<HashMap<(TenantId, Option<SiteId>), (Instant, Arc<WorkingCalendar>)>>,
}

/// The UTC offset of a site's time zone; zones that change their offset during the year are
/// not supported by working-hours calendars and count as Beijing time.
fn offset_of(timezone: &str) -> i32 {
    fixed_offset_minutes(timezone).unwrap_or(480)
}

/// What the sweeper did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SweepReport {
    pub tenants: usize,
    pub deadline_missed: usize,
    pub reminders: usize,
    pub escalations: usize,
    pub disposal_requests: usize,
    /// Steps another node did first (or whose item moved on meanwhile).
    pub lost: usize,
    /// Tenants whose sweep failed (logged).
    pub failures: usize,
}

/// A site's calendar as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SiteCalendarView {
    pub site_id: SiteId,
    pub timezone: String,
    pub utc_offset_minutes: i32,
    /// True when the site has no calendar of its own and the default applies.
    pub default: bool,
    pub config: CalendarConfig,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
}

/// The unclaimed-item policies of the organisation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnclaimedPolicies {
    pub policies: Vec<UnclaimedPolicy>,
}

/// An item on the supervisor dashboard.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceLevelEntry {
    pub item_id: ItemId,
    pub reference: String,
    pub status: Status,
    pub category: Category,
    pub priority: Priority,
    pub recipient_name: String,
    pub site_id: Option<SiteId>,
    pub received_at: DateTime<Utc>,
    pub due_by: Option<DateTime<Utc>>,
    /// Working minutes left until the due-by (negative: overdue by that much working time).
    pub working_minutes_left: Option<i64>,
    pub days_waiting: i64,
    pub followup: FollowupState,
}

/// The supervisor dashboard.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceLevels {
    pub now: DateTime<Utc>,
    /// In progress and past their due-by.
    pub breaches: Vec<ServiceLevelEntry>,
    /// Due within the next 2 working hours.
    pub at_risk: Vec<ServiceLevelEntry>,
    /// Waiting for their recipient, oldest first.
    pub unclaimed: Vec<ServiceLevelEntry>,
    /// Final-step requests (return to sender, dispose) awaiting a supervisor's decision.
    pub pending_approvals: Vec<ServiceLevelEntry>,
}

/// A supervisor's decision on a final-step request.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisposalDecisionInput {
    /// Why (recorded in the custody log).
    #[serde(default)]
    pub note: Option<String>,
}

/// Who an escalation goes to, and why them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Target {
    person: Option<PersonId>,
    via: &'static str,
}

/// Directory facts a tenant's sweep needs for escalations, read once per sweep.
struct Directory {
    departments: HashMap<mailroom_domain::ids::DepartmentId, Department>,
    supervisors: Vec<User>,
}

impl App {
    /// The working-hours calendar of a site (`None`: items without a site use the default
    /// calendar): the site's configured calendar at its time zone's offset, or Monday to Friday
    /// 09:00–18:00 with mainland China's holidays. Cached for a few seconds per site.
    pub async fn calendar_for(&self, t: TenantId, site: Option<SiteId>) -> AppResult<Arc<WorkingCalendar>> {
        let now = Instant::now();
        if let Some((at, cal)) = self.calendars.entries.lock().unwrap_or_else(PoisonError::into_inner).get(&(t, site))
            && now.duration_since(*at) < CALENDAR_TTL
        {
            return Ok(cal.clone());
        }
        let cal = Arc::new(self.load_calendar(t, site).await?);
        let mut cache = self.calendars.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() > 10_000 {
            cache.retain(|_, (at, _)| now.duration_since(*at) < CALENDAR_TTL);
        }
        cache.insert((t, site), (now, cal.clone()));
        Ok(cal)
    }

    async fn load_calendar(&self, t: TenantId, site: Option<SiteId>) -> AppResult<WorkingCalendar> {
        let Some(site) = site else { return Ok(WorkingCalendar::china_mainland()) };
        let offset = match self.store.list_sites(t).await?.into_iter().find(|s| s.id == site) {
            Some(s) => offset_of(&s.timezone),
            None => 480,
        };
        let config = match self.store.site_calendar(t, site).await? {
            Some(c) => c.config,
            None => CalendarConfig::default(),
        };
        config.to_calendar(offset).map_err(|e| AppError::Internal(format!("stored calendar of site {site}: {e}")))
    }

    /// A site's calendar (supervisors and administrators).
    pub async fn site_calendar(&self, p: &Principal, site: SiteId) -> AppResult<SiteCalendarView> {
        require(p.role, Permission::SuperviseServiceLevels)?;
        self.require_site_scope(p, Some(site))?;
        let s = self
            .store
            .list_sites(p.tenant_id)
            .await?
            .into_iter()
            .find(|s| s.id == site)
            .ok_or_else(|| AppError::not_found("site"))?;
        let stored = self.store.site_calendar(p.tenant_id, site).await?;
        Ok(SiteCalendarView {
            site_id: site,
            utc_offset_minutes: offset_of(&s.timezone),
            timezone: s.timezone,
            default: stored.is_none(),
            updated_at: stored.as_ref().map(|c| c.updated_at),
            updated_by: stored.as_ref().map(|c| c.updated_by.clone()),
            config: stored.map(|c| c.config).unwrap_or_default(),
        })
    }

    /// Sets a site's calendar (administrators); recorded in the audit log.
    pub async fn set_site_calendar(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        site: SiteId,
        config: CalendarConfig,
    ) -> AppResult<SiteCalendarView> {
        require(p.role, Permission::ManageServiceLevels)?;
        self.require_site_scope(p, Some(site))?;
        let s = self
            .store
            .list_sites(p.tenant_id)
            .await?
            .into_iter()
            .find(|s| s.id == site)
            .ok_or_else(|| AppError::not_found("site"))?;
        config.to_calendar(offset_of(&s.timezone))?;
        let cal = SiteCalendar {
            tenant_id: p.tenant_id,
            site_id: site,
            config: config.clone(),
            updated_at: storage_time(self.clock.now()),
            updated_by: p.login.clone(),
        };
        let draft = EventDraft {
            item_id: None,
            kind: "service_levels.calendar".into(),
            location_id: None,
            details: json!({ "site_id": site, "site": s.name, "config": config }),
        };
        self.store.put_site_calendar(&cal, &p.actor(ctx), draft).await?;
        self.calendars.entries.lock().unwrap_or_else(PoisonError::into_inner).remove(&(p.tenant_id, Some(site)));
        self.site_calendar(p, site).await
    }

    /// The unclaimed-item policies (supervisors and administrators).
    pub async fn unclaimed_policies(&self, p: &Principal) -> AppResult<UnclaimedPolicies> {
        require(p.role, Permission::SuperviseServiceLevels)?;
        Ok(UnclaimedPolicies { policies: self.store.unclaimed_policies(p.tenant_id).await? })
    }

    /// Replaces the unclaimed-item policies (administrators); recorded in the audit log.
    pub async fn set_unclaimed_policies(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        input: UnclaimedPolicies,
    ) -> AppResult<UnclaimedPolicies> {
        require(p.role, Permission::ManageServiceLevels)?;
        let mut policies = input.policies;
        if policies.len() > Category::ALL.len() {
            return Err(DomainError::invalid("policies", "one policy per category at most").into());
        }
        for pol in &policies {
            pol.validate()?;
        }
        policies.sort_by_key(|pol| pol.category.as_str());
        if policies.windows(2).any(|w| w[0].category == w[1].category) {
            return Err(DomainError::invalid("policies", "one policy per category at most").into());
        }
        let previous = self.store.unclaimed_policies(p.tenant_id).await?;
        let draft = EventDraft {
            item_id: None,
            kind: "service_levels.unclaimed_policies".into(),
            location_id: None,
            details: json!({ "policies": policies, "previous": previous }),
        };
        let now = storage_time(self.clock.now());
        self.store.set_unclaimed_policies(p.tenant_id, policies.clone(), now, &p.actor(ctx), draft).await?;
        Ok(UnclaimedPolicies { policies })
    }

    /// The supervisor dashboard at `now`: breaches, items at risk, unclaimed items, pending
    /// approvals (limited to the caller's site, if they have one).
    pub async fn service_levels(&self, p: &Principal, now: DateTime<Utc>) -> AppResult<ServiceLevels> {
        require(p.role, Permission::SuperviseServiceLevels)?;
        let t = p.tenant_id;
        let mine = |f: &FollowupItem| site_allowed(p.site_id, f.item.site_id);
        let mut breaches = Vec::new();
        let mut at_risk = Vec::new();
        for f in self.store.due_items(t, now + Duration::days(14), false, 1000).await?.into_iter().filter(mine) {
            let Some(due) = f.item.due_by else { continue };
            let cal = self.calendar_for(t, f.item.site_id).await?;
            let left = if due <= now {
                -cal.working_between(due, now).num_minutes()
            } else {
                cal.working_between(now, due).num_minutes()
            };
            let entry = entry(&f, now, Some(left));
            if due <= now {
                breaches.push(entry);
            } else if left <= AT_RISK_WORKING_MINUTES {
                at_risk.push(entry);
            }
        }
        let unclaimed = self
            .store
            .waiting_items(t, now, None, 500)
            .await?
            .into_iter()
            .filter(mine)
            .map(|f| entry(&f, now, None))
            .collect();
        let pending_approvals = self
            .store
            .pending_disposals(t, 500)
            .await?
            .into_iter()
            .filter(mine)
            .map(|f| entry(&f, now, None))
            .collect();
        Ok(ServiceLevels { now, breaches, at_risk, unclaimed, pending_approvals })
    }

    /// A supervisor approves (the item is returned to sender or disposed of) or rejects (the item
    /// goes on waiting) the pending final-step request of an item.
    pub async fn decide_disposal(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: ItemId,
        approve: bool,
        input: &DisposalDecisionInput,
    ) -> AppResult<Item> {
        require(p.role, Permission::SuperviseServiceLevels)?;
        let note = mailroom_domain::text::optional("note", input.note.as_deref(), 2000)?;
        let f = self.store.item_followup(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("item"))?;
        if !site_allowed(p.site_id, f.item.site_id) {
            return Err(AppError::not_found("item"));
        }
        let no_request = || AppError::new(ErrorCode::Conflict, "no disposal or return request awaits a decision");
        if !f.state.disposal_pending() {
            return Err(no_request());
        }
        let action = f.state.disposal_action.unwrap_or(FinalAction::Dispose);
        let now = storage_time(self.clock.now());
        let details = json!({
            "action": action,
            "request": f.state.disposal_requests,
            "requested_at": f.state.disposal_requested_at,
            "note": note,
            "decided_by": p.login,
        });
        let kind = if approve { "disposal_approved" } else { "disposal_rejected" };
        let events = vec![EventDraft { item_id: Some(id), kind: kind.into(), location_id: None, details }];
        let (change, statuses) = if approve {
            let to = next_status(f.item.status, action.action())?;
            let reason = note.clone().unwrap_or_else(|| format!("unclaimed; {} approved by {}", action, p.login));
            let draft = EventDraft {
                item_id: Some(id),
                kind: action.action().as_str().to_string(),
                location_id: f.item.location_id,
                details: json!({
                    "action": action.action(),
                    "from": f.item.status,
                    "to": to,
                    "note": reason,
                    "location": serde_json::Value::Null,
                    "approved_request": f.state.disposal_requests,
                }),
            };
            let change = ItemChange {
                expected_version: f.item.version,
                status: to,
                location_id: None,
                handover: None,
                seal_number: None,
            };
            (Some((change, draft)), vec![f.item.status])
        } else {
            (None, Status::ALL.iter().copied().filter(|s| !s.is_terminal()).collect())
        };
        let w = FollowupWrite {
            tenant_id: p.tenant_id,
            item_id: id,
            step: FollowupStep::Decide { requests: f.state.disposal_requests, approve, by: Some(p.user_id) },
            at: now,
            statuses,
            events,
            change,
        };
        match self.store.followup_step(w, &p.actor(ctx)).await {
            Ok(Some(_)) => {}
            Ok(None) | Err(mailroom_store::StoreError::Stale) => return Err(no_request()),
            Err(e) => return Err(e.into()),
        }
        self.store.item(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("item"))
    }

    /// Whom an escalation about `item` goes to: the key contact of the recipient's department
    /// (or of the recipient department), else of its parent department, else the organisation's
    /// first supervisor (then administrator) with a directory entry, by login.
    async fn escalation_target(&self, t: TenantId, item: &Item, dir: &Directory) -> AppResult<Target> {
        let dept = match (item.recipient_department_id, item.recipient_person_id) {
            (Some(d), _) => Some(d),
            (None, Some(person)) => self.store.person(t, person).await?.and_then(|p| p.department_id),
            (None, None) => None,
        };
        let mut next = dept;
        for _ in 0..8 {
            let Some(d) = next.and_then(|d| dir.departments.get(&d)) else { break };
            if let Some(contact) = d.key_contact_id
                && Some(contact) != item.recipient_person_id
            {
                return Ok(Target { person: Some(contact), via: "department_key_contact" });
            }
            next = d.parent_id;
        }
        let person = dir.supervisors.first().and_then(|u| u.person_id);
        Ok(match person {
            Some(p) => Target { person: Some(p), via: "supervisor" },
            None => Target { person: None, via: "none" },
        })
    }

    async fn directory_for_sweep(&self, t: TenantId) -> AppResult<Directory> {
        let departments = self.store.list_departments(t).await?.into_iter().map(|d| (d.id, d)).collect();
        let mut supervisors: Vec<User> = self
            .store
            .list_users(t)
            .await?
            .into_iter()
            .filter(|u| u.active && u.person_id.is_some() && matches!(u.role, Role::Supervisor | Role::Admin))
            .collect();
        supervisors.sort_by(|a, b| (a.role != Role::Supervisor, &a.login).cmp(&(b.role != Role::Supervisor, &b.login)));
        Ok(Directory { departments, supervisors })
    }

    /// One tenant's sweep at `now`.
    async fn sweep_tenant(&self, t: TenantId, now: DateTime<Utc>, actor: &Actor, r: &mut SweepReport) -> AppResult<()> {
        let mut dir: Option<Directory> = None;
        // (a) Missed deadlines: marked once, escalated at once.
        for f in self.store.due_items(t, now, true, SWEEP_BATCH).await? {
            if !deadline_missed(f.item.due_by, &f.state, now) {
                continue;
            }
            if dir.is_none() {
                dir = Some(self.directory_for_sweep(t).await?);
            }
            let Some(d) = dir.as_ref() else { continue };
            let target = self.escalation_target(t, &f.item, d).await?;
            let overdue = (now - f.item.due_by.unwrap_or(now)).num_minutes();
            let events = vec![
                EventDraft {
                    item_id: Some(f.item.id),
                    kind: "deadline_missed".into(),
                    location_id: None,
                    details: json!({
                        "due_by": f.item.due_by,
                        "detected_at": now,
                        "overdue_minutes": overdue,
                        "priority": f.item.priority,
                        "category": f.item.category,
                    }),
                },
                EventDraft {
                    item_id: Some(f.item.id),
                    kind: "escalated".into(),
                    location_id: None,
                    details: json!({
                        "reason": "deadline",
                        "to_person_id": target.person,
                        "via": target.via,
                        "due_by": f.item.due_by,
                    }),
                },
            ];
            let w = FollowupWrite {
                tenant_id: t,
                item_id: f.item.id,
                step: FollowupStep::Breach,
                at: now,
                statuses: Status::ALL.iter().copied().filter(|s| !s.is_terminal()).collect(),
                events,
                change: None,
            };
            match self.store.followup_step(w, actor).await? {
                Some(_) => r.deadline_missed += 1,
                None => r.lost += 1,
            }
        }
        // (b) Unclaimed items, by their category's policy.
        let policies = self.store.unclaimed_policies(t).await?;
        let Some(first) = policies.iter().map(|p| p.remind_after_days).min() else { return Ok(()) };
        let policies: HashMap<Category, UnclaimedPolicy> = policies.into_iter().map(|p| (p.category, p)).collect();
        // Page through every waiting item (items whose steps are all done stay in the list).
        let mut after = None;
        for _ in 0..MAX_PAGES {
            let page = self.store.waiting_items(t, now - Duration::days(first), after, SWEEP_BATCH).await?;
            let last_page = page.len() < usize::try_from(SWEEP_BATCH).unwrap_or(usize::MAX);
            after = page.last().map(|f| f.item.id);
            for f in page {
                self.follow_unclaimed(t, &f, &policies, now, actor, &mut dir, r).await?;
            }
            if last_page {
                break;
            }
        }
        Ok(())
    }

    /// Takes every unclaimed-item step due now for one waiting item, one after another (each its
    /// own guarded transaction).
    #[allow(clippy::too_many_arguments)]
    async fn follow_unclaimed(
        &self,
        t: TenantId,
        f: &FollowupItem,
        policies: &HashMap<Category, UnclaimedPolicy>,
        now: DateTime<Utc>,
        actor: &Actor,
        dir: &mut Option<Directory>,
        r: &mut SweepReport,
    ) -> AppResult<()> {
        let Some(policy) = policies.get(&f.item.category) else { return Ok(()) };
        let mut state = f.state.clone();
        // Every step due now, one after another (each its own guarded transaction).
        for _ in 0..4 {
            let Some(step) = unclaimed_step(policy, &state, f.item.created_at, now) else { break };
            let (guard, kind, details) = match step {
                UnclaimedStep::Remind { n, days_waiting } => (
                    FollowupStep::Remind { expected: n - 1 },
                    "reminder",
                    json!({ "n": n, "days_waiting": days_waiting, "to_person_id": f.item.recipient_person_id }),
                ),
                UnclaimedStep::Escalate { days_waiting } => {
                    if dir.is_none() {
                        *dir = Some(self.directory_for_sweep(t).await?);
                    }
                    let Some(d) = dir.as_ref() else { break };
                    let target = self.escalation_target(t, &f.item, d).await?;
                    (
                        FollowupStep::Escalate { to: target.person },
                        "escalated",
                        json!({
                            "reason": "unclaimed",
                            "to_person_id": target.person,
                            "via": target.via,
                            "days_waiting": days_waiting,
                        }),
                    )
                }
                UnclaimedStep::RequestDisposal { n, action, days_waiting } => (
                    FollowupStep::RequestDisposal { expected: n - 1, action },
                    "disposal_requested",
                    json!({ "action": action, "n": n, "days_waiting": days_waiting }),
                ),
            };
            let w = FollowupWrite {
                tenant_id: t,
                item_id: f.item.id,
                step: guard,
                at: now,
                statuses: vec![Status::Stored, Status::Notified, Status::ReadyForPickup],
                events: vec![EventDraft { item_id: Some(f.item.id), kind: kind.into(), location_id: None, details }],
                change: None,
            };
            if self.store.followup_step(w, actor).await?.is_none() {
                r.lost += 1;
                break;
            }
            match step {
                UnclaimedStep::Remind { n, .. } => {
                    r.reminders += 1;
                    state.reminders_sent = n;
                    state.last_reminder_at = Some(now);
                }
                UnclaimedStep::Escalate { .. } => {
                    r.escalations += 1;
                    state.escalated_at = Some(now);
                }
                UnclaimedStep::RequestDisposal { n, action, .. } => {
                    r.disposal_requests += 1;
                    state.disposal_requests = n;
                    state.disposal_requested_at = Some(now);
                    state.disposal_action = Some(action);
                    state.disposal_decided_at = None;
                    state.disposal_decision = None;
                }
            }
        }
        Ok(())
    }
}

fn entry(f: &FollowupItem, now: DateTime<Utc>, working_minutes_left: Option<i64>) -> ServiceLevelEntry {
    let i = &f.item;
    ServiceLevelEntry {
        item_id: i.id,
        reference: i.reference.clone(),
        status: i.status,
        category: i.category,
        priority: i.priority,
        recipient_name: i.recipient_name.clone(),
        site_id: i.site_id,
        received_at: i.created_at,
        due_by: i.due_by,
        working_minutes_left,
        days_waiting: days_between(i.created_at, now),
        followup: f.state.clone(),
    }
}

/// One sweep over every organisation at `now`: marks missed deadlines (`deadline_missed` and
/// `escalated` custody events) and follows the unclaimed-item policies (`reminder`, `escalated`,
/// `disposal_requested`). Safe to run on several nodes at once. A failing organisation is logged
/// and counted; the others are still swept.
pub async fn sweep(app: &App, now: DateTime<Utc>) -> AppResult<SweepReport> {
    let now = storage_time(now);
    let actor = Actor::system("sweeper", uuid::Uuid::now_v7().to_string());
    let mut r = SweepReport::default();
    for t in app.store.list_tenants().await? {
        r.tenants += 1;
        if let Err(e) = app.sweep_tenant(t.id, now, &actor, &mut r).await {
            r.failures += 1;
            tracing::error!(tenant = %t.slug, error = %e, "service-level sweep failed");
        }
    }
    Ok(r)
}
