//! Notifications: who is told what, on which channel, and when.
//!
//! **The custody log is the outbox.** Every change to an item already appends a custody event in
//! the same transaction as the change, so nothing that happened can be missed: the dispatcher
//! ([`dispatch`]) reads each organisation's custody events past a stored cursor, turns those that
//! call for a notice into `notify` jobs, and then moves the cursor. Each job carries an
//! idempotency key (`arrival:{item}:{person}:{channel}` and the like), and the queue skips a key
//! it already holds, so reading the same events twice (two nodes, or a crash between enqueueing
//! and moving the cursor) prepares each notice once. Intake itself writes nothing extra.
//!
//! The `notify` job handler ([`NotifyHandler`]) renders the organisation's template in the
//! person's language at send time, sends it, and records it in the notification log under the
//! same key; a job that runs again after a crash finds the record and sends nothing. Messages
//! carry that key as their Message-ID or `webhook-id`, so a receiver can also drop a repeat
//! from the one window left: a crash after the receiving server accepted a message and before
//! the record was written.

use crate::jobs::{JobFailure, JobHandler};
use crate::{App, AppError, AppResult};
use chrono::{DateTime, Duration, Utc};
use mailroom_domain::ids::EndpointId;
use mailroom_domain::ids::{ItemId, PersonId, SiteId, TenantId};
use mailroom_domain::item::{Condition, Confidentiality, Priority, Status};
use mailroom_domain::notify::EndpointKind;
use mailroom_domain::notify::{Lang, NoticeKind};
use mailroom_store::{ChannelEndpoint, Item, Job, NewJob, NotificationRecord, NotifyPreference, Person};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

/// The job kind of a single notice.
pub const NOTIFY_JOB: &str = "notify";
/// The job kind of a person's daily digest.
pub const DIGEST_JOB: &str = "digest";
/// Custody events read per organisation and pass.
const DISPATCH_BATCH: i64 = 500;
/// Attempts before a notice goes to the dead-letter list (about a day of back-off).
const NOTICE_ATTEMPTS: i32 = 12;

/// How notifications are sent: from `MAILROOM_*` settings (environment or configuration file).
#[derive(Clone, Default)]
pub struct NotifyConfig {
    /// `MAILROOM_SMTP_URL` and `MAILROOM_SMTP_FROM`; no e-mail without them.
    pub smtp: Option<mailroom_notify::SmtpConfig>,
    /// `MAILROOM_PUBLIC_URL`: the address employees reach the console at, for links in notices.
    pub public_url: Option<String>,
    /// Arrival notices a site sends at once before spreading the rest (`MAILROOM_ARRIVAL_BURST`,
    /// default 40).
    pub arrival_burst: u32,
    /// Arrival notices a site sends per minute after the burst (`MAILROOM_ARRIVAL_PER_MINUTE`,
    /// default 20), so that a large batch does not bring everyone to the counter at once.
    pub arrival_per_minute: u32,
}

impl std::fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyConfig")
            .field("smtp", &self.smtp)
            .field("public_url", &self.public_url)
            .field("arrival_burst", &self.arrival_burst)
            .field("arrival_per_minute", &self.arrival_per_minute)
            .finish()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl NotifyConfig {
    /// Reads `MAILROOM_SMTP_URL`, `MAILROOM_SMTP_FROM`, `MAILROOM_PUBLIC_URL`,
    /// `MAILROOM_ARRIVAL_BURST` and `MAILROOM_ARRIVAL_PER_MINUTE`.
    pub fn from_env() -> AppResult<NotifyConfig> {
        let smtp = match (env("MAILROOM_SMTP_URL"), env("MAILROOM_SMTP_FROM")) {
            (Some(url), Some(from)) => Some(
                mailroom_notify::SmtpConfig::parse(&url, &from)
                    .map_err(|e| AppError::Internal(format!("MAILROOM_SMTP_URL / MAILROOM_SMTP_FROM: {e}")))?,
            ),
            (Some(_), None) => {
                return Err(AppError::Internal("MAILROOM_SMTP_URL is set but MAILROOM_SMTP_FROM is not".into()));
            }
            (None, Some(_)) => {
                return Err(AppError::Internal("MAILROOM_SMTP_FROM is set but MAILROOM_SMTP_URL is not".into()));
            }
            (None, None) => None,
        };
        let number = |name: &str, default: u32| -> AppResult<u32> {
            match env(name) {
                None => Ok(default),
                Some(v) => {
                    v.parse::<u32>().map_err(|_| AppError::Internal(format!("{name}: {v:?} is not a whole number")))
                }
            }
        };
        Ok(NotifyConfig {
            smtp,
            public_url: env("MAILROOM_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_string()),
            arrival_burst: number("MAILROOM_ARRIVAL_BURST", 40)?,
            arrival_per_minute: number("MAILROOM_ARRIVAL_PER_MINUTE", 20)?.max(1),
        })
    }
}

/// The sending side of the app: configuration, the mailer, and the spreading of arrival notices.
pub struct Notifier {
    pub config: NotifyConfig,
    mailer: Option<mailroom_notify::Mailer>,
    http: mailroom_notify::HttpSender,
    /// Per site: when the next arrival notice may go out (after the burst is used up).
    spread: Mutex<HashMap<(TenantId, Option<SiteId>), Spread>>,
    /// Woken when something was written that may call for a notice.
    pub wake: Arc<tokio::sync::Notify>,
}

#[derive(Debug, Clone, Copy)]
struct Spread {
    tokens: f64,
    at: DateTime<Utc>,
}

impl Default for Notifier {
    fn default() -> Self {
        Notifier {
            config: NotifyConfig { arrival_burst: 40, arrival_per_minute: 20, ..NotifyConfig::default() },
            mailer: None,
            http: mailroom_notify::HttpSender::new(),
            spread: Mutex::default(),
            wake: Arc::default(),
        }
    }
}

impl Notifier {
    pub fn new(config: NotifyConfig) -> AppResult<Notifier> {
        let mailer = match &config.smtp {
            Some(c) => {
                Some(mailroom_notify::Mailer::new(c.clone()).map_err(|e| AppError::Internal(format!("SMTP: {e}")))?)
            }
            None => None,
        };
        Ok(Notifier { config, mailer, ..Notifier::default() })
    }

    /// When an arrival notice for this site may go out: now while the burst lasts, then one
    /// every `60 / arrival_per_minute` seconds.
    fn arrival_slot(&self, t: TenantId, site: Option<SiteId>, now: DateTime<Utc>) -> DateTime<Utc> {
        let burst = f64::from(self.config.arrival_burst.max(1));
        let per_sec = f64::from(self.config.arrival_per_minute.max(1)) / 60.0;
        let mut map = self.spread.lock().unwrap_or_else(PoisonError::into_inner);
        let s = map.entry((t, site)).or_insert(Spread { tokens: burst, at: now });
        if now > s.at {
            let secs = (now - s.at).num_milliseconds() as f64 / 1000.0;
            s.tokens = (s.tokens + secs * per_sec).min(burst);
            s.at = now;
        }
        s.tokens -= 1.0;
        if s.tokens >= 0.0 {
            now
        } else {
            let wait = -s.tokens / per_sec;
            now + Duration::milliseconds((wait * 1000.0) as i64)
        }
    }
}

/// What a `notify` job carries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NoticeJob {
    pub notice: String,
    pub item_id: ItemId,
    /// The person told; `None` for an endpoint (webhook, group robot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<PersonId>,
    /// email, sms, or endpoint
    pub channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<uuid::Uuid>,
    /// The custody event that called for it.
    pub seq: i64,
    /// That event's details (reminder number, escalation reason …).
    #[serde(default)]
    pub details: serde_json::Value,
}

/// When a daily digest goes out for someone who chose one without a time (site time).
const DIGEST_AT: chrono::NaiveTime = match chrono::NaiveTime::from_hms_opt(8, 30, 0) {
    Some(t) => t,
    None => chrono::NaiveTime::MIN,
};

/// The SMS provider an endpoint of kind `sms` describes (its `config`).
fn sms_provider(e: &ChannelEndpoint) -> Result<mailroom_notify::SmsProvider, String> {
    let mut p: mailroom_notify::SmsProvider =
        serde_json::from_value(e.config.clone()).map_err(|err| format!("the SMS provider's settings: {err}"))?;
    if p.url.trim().is_empty() {
        p.url = e.url.clone();
    }
    Ok(p)
}

/// An endpoint's URL, vetted against the outbound policy (no private or loopback targets unless
/// allowed).
async fn vetted(app: &App, url: &str) -> Result<mailroom_notify::HttpTarget, JobFailure> {
    app.security.outbound.http_target(url).await.map_err(|e| match e {
        crate::outbound::OutboundError::Resolve(_) | crate::outbound::OutboundError::Connect(_) => {
            JobFailure::Retry(e.to_string())
        }
        other => JobFailure::Permanent(other.to_string()),
    })
}

/// Statuses in which an item still waits for its recipient.
pub fn waiting(status: Status) -> bool {
    matches!(status, Status::Received | Status::Stored | Status::Notified | Status::ReadyForPickup | Status::Held)
}

/// The notice a custody event calls for, and the key part that makes it happen once.
fn notice_for(kind: &str, seq: i64, item: &Item, details: &serde_json::Value) -> Vec<(NoticeKind, String)> {
    let id = item.id.0;
    match kind {
        // The recipient is known from intake, or once the details or an exception are settled.
        "registered" | "details_updated" | "exception_resolved" => {
            if item.recipient_person_id.is_none() && item.recipient_department_id.is_none() {
                return Vec::new();
            }
            if !waiting(item.status) {
                return Vec::new();
            }
            let mut v = Vec::new();
            if item.confidentiality == Confidentiality::Internal {
                v.push((NoticeKind::Arrival, format!("arrival:{id}")));
            } else {
                v.push((NoticeKind::ConfidentialArrival, format!("arrival:{id}")));
            }
            if item.condition == Condition::Damaged {
                v.push((NoticeKind::Damaged, format!("damaged:{id}")));
            }
            v
        }
        "out_for_delivery" => vec![(NoticeKind::OutForDelivery, format!("out_for_delivery:{id}:{seq}"))],
        "deliver" | "pick_up" => vec![(NoticeKind::Receipt, format!("receipt:{id}"))],
        "reminder" => {
            let n = details.get("n").and_then(|v| v.as_i64()).unwrap_or(seq);
            vec![(NoticeKind::Reminder, format!("reminder:{id}:{n}"))]
        }
        "escalated" => vec![(NoticeKind::Escalation, format!("escalation:{id}:{seq}"))],
        "deadline_missed" => vec![(NoticeKind::DeadlineMissed, format!("deadline_missed:{id}"))],
        "disposal_requested" => vec![(NoticeKind::DisposalRequested, format!("disposal_requested:{id}"))],
        // A send the person asked for moved on.
        "outbound_approve"
        | "outbound_reject"
        | "outbound_dispatch"
        | "outbound_confirm_delivery"
        | "outbound_return" => {
            vec![(NoticeKind::OutboundUpdate, format!("outbound:{id}:{seq}"))]
        }
        _ => Vec::new(),
    }
}

/// Reads every organisation's new custody events and prepares the notices they call for.
/// Returns the number of jobs enqueued. Safe to run on several nodes at once.
pub async fn dispatch(app: &App, now: DateTime<Utc>) -> AppResult<u64> {
    let mut total = 0;
    for t in app.store.list_tenants().await? {
        loop {
            let (n, more) = dispatch_tenant(app, t.id, now).await?;
            total += n;
            if !more {
                break;
            }
        }
    }
    Ok(total)
}

/// One batch of one organisation's events: (jobs enqueued, whether more events wait).
async fn dispatch_tenant(app: &App, t: TenantId, now: DateTime<Utc>) -> AppResult<(u64, bool)> {
    let Some(cursor) = app.store.notify_cursor(t).await? else { return Ok((0, false)) };
    let endpoints = app.store.channel_endpoints(t).await?;
    let endpoints: Vec<_> = endpoints.into_iter().filter(|e| e.active).collect();
    let has_sms = endpoints.iter().any(|e| e.kind == EndpointKind::Sms);
    if app.notifier.mailer.is_none() && endpoints.is_empty() {
        // Nothing could carry a notice: nothing to prepare, and no events to read.
        let (head, _) = app.store.custody_head(t).await?;
        if head > cursor {
            app.store.advance_notify_cursor(t, head, now).await?;
        }
        return Ok((0, false));
    }
    let events = app.store.custody_events(t, cursor, DISPATCH_BATCH).await?;
    let Some(last) = events.last().map(|e| e.seq) else { return Ok((0, false)) };
    let more = events.len() as i64 == DISPATCH_BATCH;
    let mut items: HashMap<ItemId, Option<Item>> = HashMap::new();
    let mut people: HashMap<PersonId, Option<Person>> = HashMap::new();
    let mut prefs_of: HashMap<PersonId, NotifyPreference> = HashMap::new();
    let mut jobs: Vec<NewJob> = Vec::new();
    let sites = app.store.list_sites(t).await?;
    for ev in &events {
        let Some(item_id) = ev.item_id else { continue };
        if !matches!(
            ev.kind.as_str(),
            "registered"
                | "details_updated"
                | "exception_resolved"
                | "out_for_delivery"
                | "deliver"
                | "pick_up"
                | "reminder"
                | "escalated"
                | "deadline_missed"
                | "disposal_requested"
                | "outbound_approve"
                | "outbound_reject"
                | "outbound_dispatch"
                | "outbound_confirm_delivery"
                | "outbound_return"
        ) {
            continue;
        }
        let item = match items.get(&item_id) {
            Some(i) => i.clone(),
            None => {
                let i = app.store.item(t, item_id).await?;
                items.insert(item_id, i.clone());
                i
            }
        };
        let Some(item) = item else { continue };
        let details: serde_json::Value = serde_json::from_str(&ev.details).unwrap_or(serde_json::Value::Null);
        let tz = sites
            .iter()
            .find(|s| Some(s.id) == item.site_id)
            .and_then(|s| mailroom_domain::calendar::fixed_offset_minutes(&s.timezone))
            .unwrap_or(480);
        for (kind, key) in notice_for(&ev.kind, ev.seq, &item, &details) {
            // Who hears of it: the escalation's target, else the recipient or, for a
            // department, its key contact.
            let mut audience: Vec<PersonId> = Vec::new();
            if kind == NoticeKind::Escalation {
                if let Some(p) = details.get("to_person_id").and_then(|v| v.as_str()).and_then(|s| s.parse().ok()) {
                    audience.push(PersonId(p));
                }
            } else if kind == NoticeKind::OutboundUpdate {
                // The person who asked for the send.
                if let Some(p) = app.store.outbound(t, item.id).await?.and_then(|r| r.send.requester_person_id) {
                    audience.push(p);
                }
            } else if let Some(p) = item.recipient_person_id {
                audience.push(p);
            } else if let Some(d) = item.recipient_department_id
                && let Some(dep) = app.store.department(t, d).await?
                && let Some(p) = dep.key_contact_id
            {
                audience.push(p);
            }
            for pid in audience {
                let person = match people.get(&pid) {
                    Some(p) => p.clone(),
                    None => {
                        let p = app.store.person(t, pid).await?;
                        people.insert(pid, p.clone());
                        p
                    }
                };
                let Some(person) = person else { continue };
                if !person.active {
                    continue;
                }
                let prefs = match prefs_of.get(&pid) {
                    Some(p) => p.clone(),
                    None => {
                        let p = app.preferences_in_force(t, &person).await?;
                        prefs_of.insert(pid, p.clone());
                        p
                    }
                };
                let mut channels: Vec<&str> = Vec::new();
                if prefs.email && person.email.is_some() && app.notifier.mailer.is_some() {
                    channels.push("email");
                }
                if prefs.sms && person.phone.is_some() && has_sms {
                    channels.push("sms");
                }
                for channel in channels {
                    let job_key = format!("{key}:{pid}:{channel}", pid = pid.0);
                    // A daily digest instead of single arrival notices, unless urgent.
                    if prefs.digest && kind == NoticeKind::Arrival && item.priority != Priority::Urgent {
                        let at = mailroom_domain::notify::next_digest_at(now, tz, prefs.digest_at.unwrap_or(DIGEST_AT));
                        jobs.push(NewJob {
                            tenant_id: t,
                            kind: DIGEST_JOB.into(),
                            payload: serde_json::json!({ "person_id": pid, "channel": channel }),
                            idempotency_key: format!("digest:{}:{}:{channel}", pid.0, at.format("%Y-%m-%dT%H:%M")),
                            run_at: at,
                            max_attempts: NOTICE_ATTEMPTS,
                        });
                        continue;
                    }
                    let mut run_at = if kind == NoticeKind::Arrival || kind == NoticeKind::ConfidentialArrival {
                        if item.priority == Priority::Urgent {
                            now
                        } else {
                            app.notifier.arrival_slot(t, item.site_id, now)
                        }
                    } else {
                        now
                    };
                    run_at = mailroom_domain::notify::next_allowed(run_at, tz, prefs.quiet);
                    let payload = NoticeJob {
                        notice: kind.as_str().into(),
                        item_id,
                        person_id: Some(pid),
                        channel: channel.into(),
                        endpoint_id: None,
                        seq: ev.seq,
                        details: details.clone(),
                    };
                    jobs.push(NewJob {
                        tenant_id: t,
                        kind: NOTIFY_JOB.into(),
                        payload: serde_json::to_value(&payload).map_err(|e| AppError::Internal(e.to_string()))?,
                        idempotency_key: job_key,
                        run_at,
                        max_attempts: NOTICE_ATTEMPTS,
                    });
                }
            }
            // Webhooks subscribed to this kind; group robots of the recipient's department (or of
            // every department when the robot names none). Confidential arrivals go to robots
            // redacted, like to people.
            let dept = match item.recipient_department_id {
                Some(d) => Some(d),
                None => match item.recipient_person_id {
                    Some(p) => people.get(&p).cloned().flatten().and_then(|p| p.department_id),
                    None => None,
                },
            };
            // A department's robot carries a person's notices only when that person chose it;
            // items for the department itself always go there.
            let robot_ok = match item.recipient_person_id {
                Some(p) => prefs_of.get(&p).is_some_and(|x| x.robot),
                None => true,
            };
            for e in endpoints.iter().filter(|e| e.kind != EndpointKind::Sms) {
                if !e.wants(kind) {
                    continue;
                }
                if e.kind != EndpointKind::Webhook
                    && e.department_id.is_some()
                    && (e.department_id != dept || !robot_ok)
                {
                    continue;
                }
                let payload = NoticeJob {
                    notice: kind.as_str().into(),
                    item_id,
                    person_id: None,
                    channel: "endpoint".into(),
                    endpoint_id: Some(e.id.0),
                    seq: ev.seq,
                    details: details.clone(),
                };
                jobs.push(NewJob {
                    tenant_id: t,
                    kind: NOTIFY_JOB.into(),
                    payload: serde_json::to_value(&payload).map_err(|e| AppError::Internal(e.to_string()))?,
                    idempotency_key: format!("{key}:endpoint:{}", e.id),
                    run_at: now,
                    max_attempts: NOTICE_ATTEMPTS,
                });
            }
        }
    }
    let n = if jobs.is_empty() { 0 } else { app.enqueue(&jobs).await? };
    app.store.advance_notify_cursor(t, last, now).await?;
    Ok((n, more))
}

/// Masks an e-mail address or phone number for the notification log: `zh***@example.cn`.
pub fn mask(target: &str) -> String {
    match target.split_once('@') {
        Some((local, domain)) => {
            let keep: String = local.chars().take(2).collect();
            format!("{keep}***@{domain}")
        }
        None => {
            let chars: Vec<char> = target.chars().collect();
            if chars.len() <= 4 {
                "****".into()
            } else {
                let tail: String = chars[chars.len() - 4..].iter().collect();
                format!("***{tail}")
            }
        }
    }
}

/// A six-digit pickup code from the operating system's randomness.
fn new_pickup_code() -> AppResult<String> {
    let b = crate::random_bytes::<4>()?;
    Ok(format!("{:06}", u32::from_le_bytes(b) % 1_000_000))
}

fn label(lang: Lang, s: &str) -> String {
    if lang != Lang::ZhCn {
        return s.replace('_', " ");
    }
    let zh = match s {
        "letter" => "信件",
        "document" => "文件",
        "parcel" => "包裹",
        "package" => "小包",
        "periodical" => "期刊",
        "pallet" => "托盘货物",
        "storage_media" => "存储介质",
        "general" => "普通",
        "contract" => "合同",
        "invoice" => "发票",
        "bank_statement" => "银行对账单",
        "customer_correspondence" => "客户来函",
        "complaint" => "投诉",
        "legal" => "法律文书",
        "patient_report" => "病历报告",
        "drug_sample" => "药品样品",
        "literature" => "文献资料",
        "conference" => "会议通知",
        "personal" => "私人邮件",
        "normal" => "普通",
        "high" => "优先",
        "urgent" => "加急",
        other => other,
    };
    zh.to_string()
}

/// Where a send stands after the step an event records, in the notice's language.
fn outbound_status(lang: Lang, details: &serde_json::Value) -> String {
    let from = details.get("from").and_then(|v| v.as_str()).unwrap_or("");
    let to = details.get("to").and_then(|v| v.as_str()).unwrap_or("");
    let (zh, en) = match (from, to) {
        ("awaiting_approval", "requested") => ("已批准，等待收发室收寄", "approved, waiting for the mailroom"),
        ("awaiting_approval", "cancelled") => ("未获批准", "not approved"),
        (_, "dispatched") => ("已交寄承运商", "handed to the carrier"),
        (_, "delivered") => ("已妥投", "delivered"),
        (_, "returned_to_sender") => ("被承运商退回", "returned by the carrier"),
        (_, "cancelled") => ("已取消", "cancelled"),
        _ => ("", ""),
    };
    if zh.is_empty() {
        return label(lang, to);
    }
    if lang == Lang::ZhCn { zh.to_string() } else { en.to_string() }
}

/// Everything a template may name, for one item and one person.
async fn variables(
    app: &App,
    item: &Item,
    person: Option<&Person>,
    lang: Lang,
    pickup_code: Option<&str>,
    details: &serde_json::Value,
    now: DateTime<Utc>,
) -> AppResult<BTreeMap<&'static str, String>> {
    let t = item.tenant_id;
    let tenant = app.store.tenant(t).await?;
    let sites = app.store.list_sites(t).await?;
    let site = sites.iter().find(|s| Some(s.id) == item.site_id);
    let tz = site.and_then(|s| mailroom_domain::calendar::fixed_offset_minutes(&s.timezone)).unwrap_or(480);
    let local = |at: DateTime<Utc>| -> String {
        let off = chrono::FixedOffset::east_opt(tz * 60).unwrap_or_else(|| chrono::Offset::fix(&Utc));
        at.with_timezone(&off).format("%Y-%m-%d %H:%M").to_string()
    };
    let location = match item.location_id {
        Some(l) => app.store.location(t, l).await?.map(|l| format!("{} {}", l.code, l.name)).unwrap_or_default(),
        None => String::new(),
    };
    let mut v: BTreeMap<&'static str, String> = BTreeMap::new();
    v.insert("reference", item.reference.clone());
    v.insert(
        "recipient_name",
        person
            .map(|p| match (lang, &p.name_latin) {
                (Lang::En, Some(latin)) if !latin.is_empty() => latin.clone(),
                _ => p.name.clone(),
            })
            .unwrap_or_else(|| item.recipient_name.clone()),
    );
    v.insert("site", site.map(|s| s.name.clone()).unwrap_or_default());
    v.insert("location", location);
    v.insert("pickup_code", pickup_code.unwrap_or("").to_string());
    v.insert("kind", label(lang, item.kind.as_str()));
    v.insert("category", label(lang, item.category.as_str()));
    v.insert("priority", label(lang, item.priority.as_str()));
    // The carrier by its name in the notice's language: as recorded, else recognised from the
    // tracking number.
    let carrier_id = item
        .carrier
        .clone()
        .or_else(|| item.tracking_number.as_deref().and_then(|t| mailroom_domain::carrier::detect(t).carrier));
    let carrier = match carrier_id {
        Some(id) => match mailroom_domain::carrier::carrier_names(&id) {
            Some((en, zh)) => {
                if lang == Lang::ZhCn {
                    zh
                } else {
                    en
                }
            }
            None => id,
        },
        None => String::new(),
    };
    v.insert("carrier", carrier);
    v.insert("tracking_number", item.tracking_number.clone().unwrap_or_default());
    let sender = [item.sender_name.as_deref(), item.sender_org.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    v.insert("sender", sender);
    v.insert("received_at", local(item.created_at));
    v.insert("due_by", item.due_by.map(local).unwrap_or_default());
    v.insert("days_waiting", ((now - item.created_at).num_hours() / 24).max(0).to_string());
    v.insert(
        "reason",
        details
            .get("reason")
            .or_else(|| details.get("note"))
            .and_then(|r| r.as_str())
            .map(|r| label(lang, r))
            .unwrap_or_default(),
    );
    let page = if item.status.is_outbound() || details.get("to").is_some_and(|t| t.is_string()) {
        format!("/ui/outbound/{}", item.id.0)
    } else {
        "/ui/my".to_string()
    };
    v.insert("portal_url", app.notifier.config.public_url.clone().map(|u| format!("{u}{page}")).unwrap_or_default());
    v.insert("status", outbound_status(lang, details));
    v.insert("addressee", item.recipient_name.clone());
    v.insert("tenant_name", tenant.map(|t| t.name).unwrap_or_default());
    v.insert(
        "delivered_to",
        details.get("handover").and_then(|h| h.get("taken_by")).and_then(|r| r.as_str()).unwrap_or("").to_string(),
    );
    v.insert("handed_over_at", local(now));
    v.insert("item_count", "1".into());
    v.insert("items", String::new());
    // A confidential item's notices never name its sender or contents, whatever the template.
    if item.confidentiality != Confidentiality::Internal {
        mailroom_domain::notify::redact_sensitive(&mut v);
    }
    Ok(v)
}

/// The QR code in an arrival notice: what the counter's scanner reads to find the item and
/// check its pickup code.
pub fn pickup_qr_text(reference: &str, code: &str) -> String {
    format!("MRPICKUP:{reference}:{code}")
}

impl App {
    /// The pickup code of an item and its QR code (PNG), for the recipient while the item waits
    /// to be collected; made now if no notice has made it yet. `None` for anyone else.
    pub async fn my_pickup(&self, p: &crate::Principal, item: &Item) -> AppResult<Option<(String, Vec<u8>)>> {
        if p.person_id.is_none() || item.recipient_person_id != p.person_id || !waiting(item.status) {
            return Ok(None);
        }
        let code = self.store.pickup_code(p.tenant_id, item.id, &new_pickup_code()?, self.clock.now()).await?;
        let png = mailroom_scan::qr_png(&pickup_qr_text(&item.reference, &code), 4)
            .map_err(|e| AppError::Internal(format!("QR code: {e}")))?;
        Ok(Some((code, png)))
    }
}

/// The reference code and pickup code a scanned arrival-notice QR code carries.
pub fn parse_pickup_qr(scan: &str) -> Option<(String, String)> {
    let rest = scan.trim().strip_prefix("MRPICKUP:")?;
    let (reference, code) = rest.rsplit_once(':')?;
    (!reference.is_empty() && code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()))
        .then(|| (reference.to_string(), code.to_string()))
}

fn send_failure(e: mailroom_notify::SendError) -> JobFailure {
    match e {
        mailroom_notify::SendError::Retryable(m) => JobFailure::Retry(m),
        mailroom_notify::SendError::RetryAfter(m, d) => {
            JobFailure::RetryAfter(m, Duration::from_std(d).unwrap_or_else(|_| Duration::seconds(60)))
        }
        mailroom_notify::SendError::Permanent(m) => JobFailure::Permanent(m),
    }
}

fn internal(e: impl std::fmt::Display) -> JobFailure {
    JobFailure::Retry(e.to_string())
}

/// Sends `notify` jobs.
pub struct NotifyHandler;

/// Sends `digest` jobs.
pub struct DigestHandler;

struct Outgoing {
    kind: NoticeKind,
    lang: Lang,
    subject: String,
    text: String,
    html: String,
}

async fn render(
    app: &App,
    t: TenantId,
    kind: NoticeKind,
    lang: Lang,
    vars: &BTreeMap<&'static str, String>,
) -> Result<Outgoing, JobFailure> {
    let template = app.template_in_force(t, kind, lang).await.map_err(internal)?;
    let r = mailroom_domain::notify::render(&template, vars);
    Ok(Outgoing { kind, lang, subject: r.subject, text: r.text, html: r.html })
}

#[async_trait::async_trait]
impl JobHandler for NotifyHandler {
    async fn run(&self, app: &App, job: &Job) -> Result<(), JobFailure> {
        let t = job.tenant_id;
        let key = job.idempotency_key.as_str();
        if app.store.notification_by_key(t, key).await.map_err(internal)?.is_some() {
            return Ok(());
        }
        let n: NoticeJob = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobFailure::Permanent(format!("not a notice: {e}")))?;
        let Some(mut kind) = NoticeKind::parse(&n.notice) else {
            return Err(JobFailure::Permanent(format!("unknown notice {:?}", n.notice)));
        };
        let Some(item) = app.store.item(t, n.item_id).await.map_err(internal)? else {
            return Err(JobFailure::Permanent("the item no longer exists".into()));
        };
        // A notice that is no longer true is not sent: an arrival or reminder for an item that
        // was collected meanwhile (say, during the recipient's quiet hours).
        if matches!(kind, NoticeKind::Arrival | NoticeKind::ConfidentialArrival | NoticeKind::Reminder)
            && !waiting(item.status)
        {
            return Ok(());
        }
        // Classification may have changed since the event: the item as it is now decides.
        if kind == NoticeKind::Arrival && item.confidentiality != Confidentiality::Internal {
            kind = NoticeKind::ConfidentialArrival;
        }
        let now = app.clock.now();
        let arrival = matches!(kind, NoticeKind::Arrival | NoticeKind::ConfidentialArrival);
        let code = if arrival {
            Some(
                app.store
                    .pickup_code(t, item.id, &new_pickup_code().map_err(internal)?, now)
                    .await
                    .map_err(internal)?,
            )
        } else {
            app.store.existing_pickup_code(t, item.id).await.map_err(internal)?
        };
        let (person, lang) = match n.person_id {
            Some(pid) => {
                let Some(p) = app.store.person(t, pid).await.map_err(internal)? else {
                    return Err(JobFailure::Permanent("the person no longer exists".into()));
                };
                let lang = app.preferences_in_force(t, &p).await.map_err(internal)?.lang;
                (Some(p), lang)
            }
            None => (None, Lang::ZhCn),
        };
        let vars =
            variables(app, &item, person.as_ref(), lang, code.as_deref(), &n.details, now).await.map_err(internal)?;
        let out = render(app, t, kind, lang, &vars).await?;
        let (channel, target, detail) = match (n.channel.as_str(), &person) {
            ("email", Some(p)) => {
                let Some(to) = p.email.clone() else {
                    return Err(JobFailure::Permanent("the person has no e-mail address".into()));
                };
                let Some(mailer) = &app.notifier.mailer else {
                    return Err(JobFailure::Retry("e-mail is not configured (MAILROOM_SMTP_URL)".into()));
                };
                let inline_png = match (&code, arrival) {
                    (Some(c), true) => Some((
                        "pickup-qr".to_string(),
                        mailroom_scan::qr_png(&pickup_qr_text(&item.reference, c), 4).map_err(internal)?,
                    )),
                    _ => None,
                };
                let html = match &inline_png {
                    Some((cid, _)) => {
                        let alt = if out.lang == Lang::ZhCn { "取件二维码" } else { "Pickup QR code" };
                        format!(
                            "{}\n<p><img src=\"cid:{cid}\" alt=\"{alt}\" width=\"164\" height=\"164\"></p>",
                            out.html
                        )
                    }
                    None => out.html.clone(),
                };
                let email = mailroom_notify::Email {
                    to: to.clone(),
                    to_name: Some(vars.get("recipient_name").cloned().unwrap_or_default()),
                    subject: out.subject.clone(),
                    text: out.text.clone(),
                    html: Some(html),
                    inline_png,
                    message_id: mailer.config().message_id(key),
                    language: out.lang.as_str().to_string(),
                };
                mailer.send(&email).await.map_err(send_failure)?;
                ("email".to_string(), mask(&to), None)
            }
            ("sms", Some(p)) => {
                let Some(phone) = p.phone.clone() else {
                    return Err(JobFailure::Permanent("the person has no phone number".into()));
                };
                let Some(e) = app.sms_provider(t).await.map_err(internal)? else {
                    return Err(JobFailure::Permanent("no SMS provider is set up".into()));
                };
                let provider = sms_provider(&e).map_err(JobFailure::Permanent)?;
                let target = vetted(app, &provider.url).await?;
                app.notifier.http.send_sms(&provider, &target, &phone, &out.text).await.map_err(send_failure)?;
                ("sms".to_string(), mask(&phone), None)
            }
            ("endpoint", _) => {
                let Some(id) = n.endpoint_id else {
                    return Err(JobFailure::Permanent("the notice names no endpoint".into()));
                };
                let Some(e) = app.store.channel_endpoint(t, EndpointId(id)).await.map_err(internal)? else {
                    return Ok(());
                };
                if !e.active {
                    return Ok(());
                }
                let target = vetted(app, &e.url).await?;
                match e.kind {
                    EndpointKind::Webhook => {
                        let body = webhook_body(&item, kind, code.as_deref(), now);
                        app.notifier
                            .http
                            .post_webhook(&target, e.secret.as_deref().unwrap_or(""), key, &body)
                            .await
                            .map_err(send_failure)?;
                    }
                    robot => {
                        let kind_of = match robot {
                            EndpointKind::WeCom => mailroom_notify::RobotKind::WeCom,
                            EndpointKind::DingTalk => mailroom_notify::RobotKind::DingTalk,
                            EndpointKind::Feishu => mailroom_notify::RobotKind::Feishu,
                            other => return Err(JobFailure::Permanent(format!("{other} is not a group robot"))),
                        };
                        app.notifier
                            .http
                            .post_robot(&target, kind_of, e.secret.as_deref(), &out.subject, &out.text)
                            .await
                            .map_err(send_failure)?;
                    }
                }
                (e.kind.as_str().to_string(), e.name.clone(), None)
            }
            (other, _) => return Err(JobFailure::Permanent(format!("unknown channel {other:?}"))),
        };
        let record = NotificationRecord {
            id: uuid::Uuid::now_v7(),
            tenant_id: t,
            item_id: Some(item.id),
            person_id: n.person_id,
            kind: out.kind.as_str().to_string(),
            channel,
            target,
            lang: out.lang.as_str().to_string(),
            subject: out.subject,
            status: "sent".into(),
            detail,
            idempotency_key: key.to_string(),
            created_at: now,
        };
        app.store.record_notification(&record).await.map_err(internal)?;
        Ok(())
    }
}

/// The JSON a webhook receives. Confidential items carry no sender, contents or tracking number.
fn webhook_body(item: &Item, kind: NoticeKind, pickup_code: Option<&str>, now: DateTime<Utc>) -> serde_json::Value {
    let confidential = item.confidentiality != Confidentiality::Internal;
    let mut data = serde_json::json!({
        "item_id": item.id,
        "reference": item.reference,
        "status": item.status,
        "priority": item.priority,
        "confidentiality": item.confidentiality,
        "recipient_person_id": item.recipient_person_id,
        "recipient_department_id": item.recipient_department_id,
        "recipient_name": item.recipient_name,
        "site_id": item.site_id,
        "location_id": item.location_id,
        "received_at": item.created_at,
        "due_by": item.due_by,
    });
    if !confidential && let Some(obj) = data.as_object_mut() {
        obj.insert("kind".into(), serde_json::json!(item.kind));
        obj.insert("category".into(), serde_json::json!(item.category));
        obj.insert("carrier".into(), serde_json::json!(item.carrier));
        obj.insert("tracking_number".into(), serde_json::json!(item.tracking_number));
        obj.insert("sender_name".into(), serde_json::json!(item.sender_name));
        obj.insert("sender_org".into(), serde_json::json!(item.sender_org));
        obj.insert("condition".into(), serde_json::json!(item.condition));
    }
    let _ = pickup_code;
    serde_json::json!({
        "type": format!("item.{}", kind.as_str()),
        "timestamp": now,
        "data": data,
    })
}

#[async_trait::async_trait]
impl JobHandler for DigestHandler {
    async fn run(&self, app: &App, job: &Job) -> Result<(), JobFailure> {
        let t = job.tenant_id;
        let key = job.idempotency_key.as_str();
        if app.store.notification_by_key(t, key).await.map_err(internal)?.is_some() {
            return Ok(());
        }
        let pid: PersonId = job
            .payload
            .get("person_id")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse().ok())
            .map(PersonId)
            .ok_or_else(|| JobFailure::Permanent("the digest names no person".into()))?;
        let Some(person) = app.store.person(t, pid).await.map_err(internal)? else {
            return Err(JobFailure::Permanent("the person no longer exists".into()));
        };
        let Some(to) = person.email.clone() else { return Ok(()) };
        let Some(mailer) = &app.notifier.mailer else {
            return Err(JobFailure::Retry("e-mail is not configured (MAILROOM_SMTP_URL)".into()));
        };
        let lang = app.preferences_in_force(t, &person).await.map_err(internal)?.lang;
        let filter = mailroom_store::ItemFilter { mine: Some((pid, None)), limit: 200, ..Default::default() };
        let items: Vec<Item> = app
            .store
            .list_items(t, &filter)
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|i| waiting(i.status))
            .collect();
        if items.is_empty() {
            return Ok(());
        }
        let now = app.clock.now();
        let mut lines = Vec::new();
        for i in &items {
            let what = if i.confidentiality == Confidentiality::Internal {
                label(lang, i.kind.as_str())
            } else if lang == Lang::ZhCn {
                "保密邮件".to_string()
            } else {
                "confidential item".to_string()
            };
            let code =
                app.store.pickup_code(t, i.id, &new_pickup_code().map_err(internal)?, now).await.map_err(internal)?;
            lines.push(format!(
                "- {} · {what} · {} {code}",
                i.reference,
                if lang == Lang::ZhCn { "取件码" } else { "pickup code" }
            ));
        }
        let first = &items[0];
        let mut vars =
            variables(app, first, Some(&person), lang, None, &serde_json::Value::Null, now).await.map_err(internal)?;
        vars.insert("item_count", items.len().to_string());
        vars.insert("items", lines.join("\n"));
        let out = render(app, t, NoticeKind::Digest, lang, &vars).await?;
        let email = mailroom_notify::Email {
            to: to.clone(),
            to_name: Some(vars.get("recipient_name").cloned().unwrap_or_default()),
            subject: out.subject.clone(),
            text: out.text,
            html: Some(out.html),
            inline_png: None,
            message_id: mailer.config().message_id(key),
            language: lang.as_str().to_string(),
        };
        mailer.send(&email).await.map_err(send_failure)?;
        let record = NotificationRecord {
            id: uuid::Uuid::now_v7(),
            tenant_id: t,
            item_id: None,
            person_id: Some(pid),
            kind: NoticeKind::Digest.as_str().into(),
            channel: "email".into(),
            target: mask(&to),
            lang: lang.as_str().into(),
            subject: out.subject,
            status: "sent".into(),
            detail: Some(format!("{} items", items.len())),
            idempotency_key: key.to_string(),
            created_at: now,
        };
        app.store.record_notification(&record).await.map_err(internal)?;
        Ok(())
    }
}

/// Runs the dispatcher on this node until the process ends: on every wake-up (something was
/// written here) and at least every second (for what other nodes wrote).
pub fn spawn_dispatcher(app: App) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let wake = app.notifier.wake.clone();
        loop {
            match dispatch(&app, app.clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(jobs = n, "notices prepared"),
                Err(e) => tracing::error!(error = %e, "preparing notices failed"),
            }
            tokio::select! {
                _ = wake.notified() => {
                    // Let a burst of intakes land together.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pickup_qr_codes_read_back() {
        let text = pickup_qr_text("PFFD-W921", "012345");
        assert_eq!(parse_pickup_qr(&text), Some(("PFFD-W921".to_string(), "012345".to_string())));
        assert_eq!(parse_pickup_qr(" MRPICKUP:PFFD-W921:012345\n").map(|x| x.1), Some("012345".to_string()));
        for bad in ["PFFD-W921", "MRPICKUP:PFFD-W921", "MRPICKUP::123456", "MRPICKUP:X:12345", "MRPICKUP:X:12345a"] {
            assert_eq!(parse_pickup_qr(bad), None, "{bad}");
        }
    }

    #[test]
    fn targets_are_masked() {
        assert_eq!(mask("wj@example.cn"), "wj***@example.cn");
        assert_eq!(mask("+86 138 0013 8000"), "***8000");
        assert_eq!(mask("123"), "****");
    }
}
