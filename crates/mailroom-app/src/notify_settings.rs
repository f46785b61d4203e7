//! Notification settings: the organisation's notice templates (edited and previewed by
//! administrators), each person's notification preferences (edited by the person, or by an
//! administrator), and the endpoints notices also go to (signed webhooks, WeCom, DingTalk and
//! Feishu group robots, the SMS provider).
//!
//! Endpoint URLs pass the outbound guard ([`crate::outbound`]) when they are saved: a URL that
//! is not http(s), carries credentials, or resolves to a private, loopback or otherwise
//! non-public address (unless the installation's allow-list admits it) is refused with
//! `target_refused`. The guard runs again at sending time, since DNS answers change.
//!
//! Endpoint secrets (webhook signing secrets, robot signing secrets, SMS provider keys) are kept
//! in the database as given and never shown back: the API and console only say whether one is
//! set. Robot URLs carry their access token in the query string, so views show the query values
//! masked.

use crate::outbound::OutboundError;
use crate::{App, AppError, AppResult, Principal, RequestCtx, random_bytes};
use base64::Engine;
use chrono::{DateTime, NaiveTime, Utc};
use mailroom_domain::auth::{Permission, allowed, require};
use mailroom_domain::custody::{EventDraft, storage_time};
use mailroom_domain::ids::{DepartmentId, EndpointId, PersonId, TenantId};
use mailroom_domain::notify::{
    self, EndpointKind, Lang, NoticeKind, QuietHours, Rendered, Template, allowed_vars, default_template, render,
    sample_vars, validate,
};
use mailroom_domain::{DomainError, ErrorCode};
use mailroom_store::{ChannelEndpoint, NotificationTemplate, NotifyPreference, Person};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// One variable a template may use.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateVar {
    pub name: String,
    pub description: String,
}

/// A notice template as in force for the organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateView {
    pub kind: NoticeKind,
    pub lang: Lang,
    pub subject: String,
    pub body: String,
    /// True when the organisation has saved no wording of its own and the built-in one applies.
    pub is_default: bool,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
    /// The variables this kind of notice may use, as `{{name}}`.
    pub variables: Vec<TemplateVar>,
}

/// A template to save or preview.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    pub subject: String,
    pub body: String,
}

/// A template filled with example values.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplatePreview {
    pub subject: String,
    pub text: String,
    /// The e-mail's HTML body (values escaped).
    pub html: String,
}

/// A person's notification preferences, complete (PUT replaces them).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesInput {
    /// `zh-CN` or `en`.
    pub lang: String,
    pub email: bool,
    pub sms: bool,
    pub robot: bool,
    /// Start of the quiet hours ("22:00"), site time; with `quiet_end`, or neither.
    #[serde(default)]
    pub quiet_start: Option<String>,
    #[serde(default)]
    pub quiet_end: Option<String>,
    pub digest: bool,
    /// When the daily digest goes out ("08:30"); default 08:30 when `digest` is on.
    #[serde(default)]
    pub digest_at: Option<String>,
}

/// An endpoint as shown: its secret only as "set" or not, its URL's query values masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EndpointView {
    pub id: EndpointId,
    pub kind: EndpointKind,
    pub name: String,
    /// The URL with query values masked (robot URLs carry their access token there).
    pub url: String,
    /// Whether a secret is stored (it is never shown).
    pub secret_set: bool,
    pub config: serde_json::Value,
    pub department_id: Option<DepartmentId>,
    /// The notice kinds sent here; empty: every kind.
    pub events: Vec<NoticeKind>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Only in the answer that created a webhook without a secret: the signing secret generated
    /// for it (`whsec_…`). Store it now; it is never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_secret: Option<String>,
}

/// An endpoint to create (every field but `secret`, `config`, `department_id`, `events` and
/// `active` required) or change (omitted fields are kept; `secret: ""` removes the secret).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    /// `webhook`, `wecom`, `dingtalk`, `feishu` or `sms`.
    pub kind: Option<String>,
    pub name: Option<String>,
    pub url: Option<String>,
    /// Webhook: `whsec_<base64>` (generated when omitted at creation); DingTalk: the robot's
    /// `SEC…` signing secret; Feishu: the robot's signing secret; SMS: the provider's key.
    pub secret: Option<String>,
    /// SMS: the provider's request shape (see docs/NOTIFICATIONS.md); other kinds: `{}`.
    pub config: Option<serde_json::Value>,
    /// A department's robot: notices for that department's people go to it.
    pub department_id: Option<DepartmentId>,
    /// Notice kinds to send (empty or omitted: every kind).
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
}

/// Masks the values of a URL's query string ("?key=…").
pub fn mask_url(raw: &str) -> String {
    match raw.split_once('?') {
        None => raw.to_string(),
        Some((base, query)) => {
            let masked: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) if !v.is_empty() => format!("{k}=…"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{base}?{}", masked.join("&"))
        }
    }
}

fn view(e: ChannelEndpoint, generated_secret: Option<String>) -> EndpointView {
    EndpointView {
        id: e.id,
        kind: e.kind,
        url: mask_url(&e.url),
        name: e.name,
        secret_set: e.secret.as_deref().is_some_and(|s| !s.is_empty()),
        config: e.config,
        department_id: e.department_id,
        events: e.events,
        active: e.active,
        created_at: e.created_at,
        updated_at: e.updated_at,
        generated_secret,
    }
}

fn variables(kind: NoticeKind) -> Vec<TemplateVar> {
    allowed_vars(kind)
        .iter()
        .map(|name| TemplateVar {
            name: (*name).to_string(),
            description: notify::VARS
                .iter()
                .find(|(v, _)| v == name)
                .map(|(_, d)| (*d).to_string())
                .unwrap_or_default(),
        })
        .collect()
}

/// Parses a notice kind from a path; unknown kinds do not exist.
pub fn parse_kind(s: &str) -> AppResult<NoticeKind> {
    NoticeKind::parse(s).ok_or_else(|| AppError::not_found("notice kind"))
}

/// Parses a notice language from a path; unknown languages do not exist.
pub fn parse_lang(s: &str) -> AppResult<Lang> {
    Lang::parse(s).ok_or_else(|| AppError::not_found("notice language"))
}

fn refused(e: OutboundError) -> AppError {
    AppError::Domain(DomainError {
        code: ErrorCode::TargetRefused,
        message: format!("url: {e}"),
        field: Some("url".into()),
    })
}

/// A new webhook signing secret: `whsec_` and 24 random bytes in base64.
fn new_webhook_secret() -> AppResult<String> {
    Ok(format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(random_bytes::<24>()?)))
}

fn check_secret(kind: EndpointKind, secret: &str) -> Result<(), DomainError> {
    if secret.len() > 512 || secret.chars().any(char::is_control) {
        return Err(DomainError::invalid("secret", "secret must be one line of at most 512 characters"));
    }
    if kind == EndpointKind::Webhook {
        let ok = secret
            .strip_prefix("whsec_")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .is_some_and(|k| k.len() >= 16);
        if !ok {
            return Err(DomainError::invalid(
                "secret",
                "a webhook secret is written whsec_ followed by at least 16 bytes in base64 (leave it empty to have one generated)",
            ));
        }
    }
    Ok(())
}

impl App {
    // ---- Templates -------------------------------------------------------------------------

    /// The template in force for a kind and language: the organisation's, else the built-in
    /// wording. For the notification sender (no permission check).
    pub async fn template_in_force(&self, t: TenantId, kind: NoticeKind, lang: Lang) -> AppResult<Template> {
        Ok(match self.store.notification_template(t, kind, lang).await? {
            Some(s) => Template { subject: s.subject, body: s.body },
            None => default_template(kind, lang),
        })
    }

    fn template_view(kind: NoticeKind, lang: Lang, saved: Option<NotificationTemplate>) -> TemplateView {
        match saved {
            Some(s) => TemplateView {
                kind,
                lang,
                subject: s.subject,
                body: s.body,
                is_default: false,
                updated_at: Some(s.updated_at),
                updated_by: Some(s.updated_by),
                variables: variables(kind),
            },
            None => {
                let d = default_template(kind, lang);
                TemplateView {
                    kind,
                    lang,
                    subject: d.subject,
                    body: d.body,
                    is_default: true,
                    updated_at: None,
                    updated_by: None,
                    variables: variables(kind),
                }
            }
        }
    }

    /// Every kind of notice in every language, as in force.
    pub async fn notification_templates(&self, p: &Principal) -> AppResult<Vec<TemplateView>> {
        require(p.role, Permission::ManageNotifications)?;
        let saved = self.store.notification_templates(p.tenant_id).await?;
        let mut out = Vec::new();
        for kind in NoticeKind::ALL {
            for lang in Lang::ALL {
                let s = saved.iter().find(|s| s.kind == *kind && s.lang == *lang).cloned();
                out.push(Self::template_view(*kind, *lang, s));
            }
        }
        Ok(out)
    }

    pub async fn notification_template(&self, p: &Principal, kind: NoticeKind, lang: Lang) -> AppResult<TemplateView> {
        require(p.role, Permission::ManageNotifications)?;
        let saved = self.store.notification_template(p.tenant_id, kind, lang).await?;
        Ok(Self::template_view(kind, lang, saved))
    }

    /// Fills a template with example values, after validating it; saves nothing.
    pub fn preview_notification_template(
        &self,
        p: &Principal,
        kind: NoticeKind,
        lang: Lang,
        input: &TemplateInput,
    ) -> AppResult<TemplatePreview> {
        require(p.role, Permission::ManageNotifications)?;
        let tpl = Template { subject: input.subject.clone(), body: input.body.replace("\r\n", "\n") };
        validate(kind, &tpl)?;
        let Rendered { subject, text, html } = render(&tpl, &sample_vars(kind, lang));
        Ok(TemplatePreview { subject, text, html })
    }

    /// Validates and saves the organisation's wording of a notice (recorded in the audit log).
    pub async fn save_notification_template(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        kind: NoticeKind,
        lang: Lang,
        input: &TemplateInput,
    ) -> AppResult<TemplateView> {
        require(p.role, Permission::ManageNotifications)?;
        let tpl = Template { subject: input.subject.trim().to_string(), body: input.body.replace("\r\n", "\n") };
        validate(kind, &tpl)?;
        let actor = p.actor(ctx);
        let saved = NotificationTemplate {
            kind,
            lang,
            subject: tpl.subject,
            body: tpl.body,
            updated_at: storage_time(Utc::now()),
            updated_by: actor.name.clone(),
        };
        let draft = EventDraft {
            item_id: None,
            kind: "notification.template_saved".into(),
            location_id: None,
            details: json!({"notice": kind, "lang": lang, "subject": saved.subject, "bytes": saved.body.len()}),
        };
        self.store.put_notification_template(p.tenant_id, kind, lang, Some(saved.clone()), &actor, draft).await?;
        Ok(Self::template_view(kind, lang, Some(saved)))
    }

    /// Goes back to the built-in wording of a notice (recorded in the audit log).
    pub async fn reset_notification_template(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        kind: NoticeKind,
        lang: Lang,
    ) -> AppResult<TemplateView> {
        require(p.role, Permission::ManageNotifications)?;
        let draft = EventDraft {
            item_id: None,
            kind: "notification.template_reset".into(),
            location_id: None,
            details: json!({"notice": kind, "lang": lang}),
        };
        self.store.put_notification_template(p.tenant_id, kind, lang, None, &p.actor(ctx), draft).await?;
        Ok(Self::template_view(kind, lang, None))
    }

    // ---- Preferences -----------------------------------------------------------------------

    /// A person's preferences as in force (saved, else the defaults). For the notification
    /// sender (no permission check).
    pub async fn preferences_in_force(&self, t: TenantId, person: &Person) -> AppResult<NotifyPreference> {
        Ok(match self.store.notify_preference(t, person.id).await? {
            Some(p) => p,
            None => NotifyPreference::defaults(person),
        })
    }

    /// The person, if the caller may see and change their preferences: their own, or anyone's
    /// for administrators.
    async fn preference_subject(&self, p: &Principal, person: PersonId) -> AppResult<Person> {
        if p.person_id != Some(person) || p.tenant_id != p.home_tenant_id {
            require(p.role, Permission::ManageNotifications)?;
        }
        self.store.person(p.tenant_id, person).await?.ok_or_else(|| AppError::not_found("person"))
    }

    fn own_person(p: &Principal) -> AppResult<PersonId> {
        match p.person_id {
            Some(id) if p.tenant_id == p.home_tenant_id => Ok(id),
            _ => Err(AppError::new(
                ErrorCode::NotFound,
                "your user has no directory entry in this organisation, so it has no notification preferences",
            )),
        }
    }

    pub async fn notification_preferences(&self, p: &Principal, person: PersonId) -> AppResult<NotifyPreference> {
        let who = self.preference_subject(p, person).await?;
        self.preferences_in_force(p.tenant_id, &who).await
    }

    /// The caller's own preferences.
    pub async fn my_notification_preferences(&self, p: &Principal) -> AppResult<NotifyPreference> {
        let id = Self::own_person(p)?;
        self.notification_preferences(p, id).await
    }

    /// Validates and saves a person's preferences (recorded in the audit log).
    pub async fn save_notification_preferences(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        person: PersonId,
        input: &PreferencesInput,
    ) -> AppResult<NotifyPreference> {
        let who = self.preference_subject(p, person).await?;
        let lang = Lang::parse_field("lang", &input.lang)?;
        if input.email && who.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
            return Err(DomainError::invalid("email", "e-mail notices need an e-mail address in the directory").into());
        }
        if input.sms && who.phone.as_deref().is_none_or(|e| e.trim().is_empty()) {
            return Err(DomainError::invalid("sms", "SMS notices need a phone number in the directory").into());
        }
        let filled = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let quiet = match (filled(&input.quiet_start), filled(&input.quiet_end)) {
            (None, None) => None,
            (Some(s), Some(e)) => {
                let q = QuietHours {
                    start: notify::parse_time("quiet_start", &s)?,
                    end: notify::parse_time("quiet_end", &e)?,
                };
                if q.start == q.end {
                    return Err(DomainError::invalid(
                        "quiet_end",
                        "quiet hours must not start and end at the same time",
                    )
                    .into());
                }
                Some(q)
            }
            (None, Some(_)) => return Err(DomainError::invalid("quiet_start", "quiet hours need a start").into()),
            (Some(_), None) => return Err(DomainError::invalid("quiet_end", "quiet hours need an end").into()),
        };
        let digest_at = match filled(&input.digest_at) {
            Some(d) => Some(notify::parse_time("digest_at", &d)?),
            None if input.digest => NaiveTime::from_hms_opt(8, 30, 0),
            None => None,
        };
        let pref = NotifyPreference {
            person_id: who.id,
            lang,
            email: input.email,
            sms: input.sms,
            robot: input.robot,
            quiet,
            digest: input.digest,
            digest_at,
            updated_at: Some(storage_time(Utc::now())),
        };
        let draft = EventDraft {
            item_id: None,
            kind: "notification.preferences_saved".into(),
            location_id: None,
            details: json!({
                "person_id": who.id, "lang": lang, "email": pref.email, "sms": pref.sms, "robot": pref.robot,
                "quiet": pref.quiet.map(|q| format!("{}–{}", q.start.format("%H:%M"), q.end.format("%H:%M"))),
                "digest": pref.digest, "digest_at": pref.digest_at.map(|d| d.format("%H:%M").to_string()),
            }),
        };
        self.store.put_notify_preference(p.tenant_id, &pref, &p.actor(ctx), draft).await?;
        Ok(pref)
    }

    /// Saves the caller's own preferences.
    pub async fn save_my_notification_preferences(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        input: &PreferencesInput,
    ) -> AppResult<NotifyPreference> {
        let id = Self::own_person(p)?;
        self.save_notification_preferences(p, ctx, id, input).await
    }

    // ---- Endpoints -------------------------------------------------------------------------

    pub async fn notification_endpoints(&self, p: &Principal) -> AppResult<Vec<EndpointView>> {
        require(p.role, Permission::ManageNotifications)?;
        Ok(self.store.channel_endpoints(p.tenant_id).await?.into_iter().map(|e| view(e, None)).collect())
    }

    pub async fn notification_endpoint(&self, p: &Principal, id: EndpointId) -> AppResult<EndpointView> {
        require(p.role, Permission::ManageNotifications)?;
        let e = self.store.channel_endpoint(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("endpoint"))?;
        Ok(view(e, None))
    }

    /// Checks an endpoint URL against the outbound guard. A host that does not resolve now is
    /// accepted (it is checked again at sending time); one that resolves to an address the
    /// installation may not call is refused.
    async fn vet_endpoint_url(&self, url: &str) -> AppResult<()> {
        match self.security.outbound.vet(url).await {
            Ok(_) | Err(OutboundError::Resolve(_)) => Ok(()),
            Err(e) => Err(refused(e)),
        }
    }

    async fn endpoint_from_input(
        &self,
        p: &Principal,
        mut e: ChannelEndpoint,
        input: &EndpointInput,
        creating: bool,
    ) -> AppResult<(ChannelEndpoint, Option<String>)> {
        if let Some(k) = &input.kind {
            e.kind = EndpointKind::parse_field("kind", k)?;
        }
        if let Some(n) = &input.name {
            e.name = n.trim().to_string();
        }
        if e.name.is_empty() || e.name.chars().count() > 100 {
            return Err(DomainError::invalid("name", "name must be 1 to 100 characters").into());
        }
        match input.url.as_deref().map(str::trim) {
            Some(u) if !u.is_empty() => {
                self.vet_endpoint_url(u).await?;
                e.url = u.to_string();
            }
            _ if creating => return Err(DomainError::invalid("url", "url is required").into()),
            _ => {}
        }
        let mut generated = None;
        match input.secret.as_deref().map(str::trim) {
            Some("") => e.secret = None,
            Some(s) => {
                check_secret(e.kind, s)?;
                e.secret = Some(s.to_string());
            }
            None => {}
        }
        if e.kind == EndpointKind::Webhook && e.secret.is_none() {
            if creating {
                let s = new_webhook_secret()?;
                e.secret = Some(s.clone());
                generated = Some(s);
            } else {
                return Err(DomainError::invalid("secret", "a webhook needs a signing secret").into());
            }
        }
        if let Some(c) = &input.config {
            if !c.is_object() {
                return Err(DomainError::invalid("config", "config must be a JSON object").into());
            }
            e.config = c.clone();
        }
        if input.department_id.is_some() {
            e.department_id = input.department_id;
        }
        if let Some(d) = e.department_id
            && self.store.department(p.tenant_id, d).await?.is_none()
        {
            return Err(DomainError::invalid("department_id", "no such department").into());
        }
        if let Some(ev) = &input.events {
            let mut kinds = Vec::new();
            for k in ev {
                let k = NoticeKind::parse_field("events", k)?;
                if !kinds.contains(&k) {
                    kinds.push(k);
                }
            }
            e.events = kinds;
        }
        if let Some(a) = input.active {
            e.active = a;
        }
        Ok((e, generated))
    }

    fn endpoint_event(kind: &str, e: &ChannelEndpoint) -> EventDraft {
        EventDraft {
            item_id: None,
            kind: kind.into(),
            location_id: None,
            details: json!({"endpoint_id": e.id, "endpoint": e.name, "channel": e.kind, "url": mask_url(&e.url),
                            "active": e.active, "events": e.events}),
        }
    }

    async fn store_endpoint(&self, p: &Principal, ctx: &RequestCtx, e: &ChannelEndpoint) -> AppResult<()> {
        let draft = Self::endpoint_event("notification.endpoint_saved", e);
        match self.store.put_channel_endpoint(e, &p.actor(ctx), draft).await {
            Ok(_) => Ok(()),
            Err(mailroom_store::StoreError::Duplicate(_)) => {
                Err(DomainError::new(ErrorCode::Conflict, format!("an endpoint named {:?} exists already", e.name))
                    .into())
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Creates an endpoint after checking its URL against the outbound guard.
    pub async fn create_notification_endpoint(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        input: &EndpointInput,
    ) -> AppResult<EndpointView> {
        require(p.role, Permission::ManageNotifications)?;
        if input.kind.is_none() {
            return Err(DomainError::invalid("kind", "kind is required").into());
        }
        let now = storage_time(Utc::now());
        let blank = ChannelEndpoint {
            id: EndpointId::new(),
            tenant_id: p.tenant_id,
            kind: EndpointKind::Webhook,
            name: String::new(),
            url: String::new(),
            secret: None,
            config: json!({}),
            department_id: None,
            events: Vec::new(),
            active: true,
            created_at: now,
            updated_at: now,
        };
        let (e, generated) = self.endpoint_from_input(p, blank, input, true).await?;
        self.store_endpoint(p, ctx, &e).await?;
        Ok(view(e, generated))
    }

    /// Changes an endpoint; omitted fields are kept.
    pub async fn update_notification_endpoint(
        &self,
        p: &Principal,
        ctx: &RequestCtx,
        id: EndpointId,
        input: &EndpointInput,
    ) -> AppResult<EndpointView> {
        require(p.role, Permission::ManageNotifications)?;
        let old = self.store.channel_endpoint(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("endpoint"))?;
        let (mut e, _) = self.endpoint_from_input(p, old, input, false).await?;
        e.updated_at = storage_time(Utc::now());
        self.store_endpoint(p, ctx, &e).await?;
        Ok(view(e, None))
    }

    pub async fn delete_notification_endpoint(&self, p: &Principal, ctx: &RequestCtx, id: EndpointId) -> AppResult<()> {
        require(p.role, Permission::ManageNotifications)?;
        let old = self.store.channel_endpoint(p.tenant_id, id).await?.ok_or_else(|| AppError::not_found("endpoint"))?;
        let draft = Self::endpoint_event("notification.endpoint_deleted", &old);
        self.store.delete_channel_endpoint(p.tenant_id, id, &p.actor(ctx), draft).await?;
        Ok(())
    }

    /// The endpoints a notice of `kind` goes to, for the notification sender (no permission
    /// check): every active webhook that wants the kind and is not tied to another department,
    /// and every active group robot that wants it and belongs to `department` (or to the whole
    /// organisation). The SMS provider is not among them (see [`App::sms_provider`]).
    pub async fn endpoints_for_notice(
        &self,
        t: TenantId,
        kind: NoticeKind,
        department: Option<DepartmentId>,
    ) -> AppResult<Vec<ChannelEndpoint>> {
        Ok(self
            .store
            .channel_endpoints(t)
            .await?
            .into_iter()
            .filter(|e| e.kind != EndpointKind::Sms && e.wants(kind))
            .filter(|e| e.department_id.is_none() || e.department_id == department)
            .collect())
    }

    /// The organisation's SMS provider: its first active endpoint of kind `sms` (by name).
    pub async fn sms_provider(&self, t: TenantId) -> AppResult<Option<ChannelEndpoint>> {
        Ok(self.store.channel_endpoints(t).await?.into_iter().find(|e| e.kind == EndpointKind::Sms && e.active))
    }

    /// Whether the caller may manage notification settings (templates, endpoints, anyone's
    /// preferences).
    pub fn may_manage_notifications(p: &Principal) -> bool {
        allowed(p.role, Permission::ManageNotifications)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_masked() {
        assert_eq!(mask_url("https://a.example/hook"), "https://a.example/hook");
        assert_eq!(
            mask_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc&x="),
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…&x="
        );
    }

    #[test]
    fn webhook_secrets() {
        assert!(check_secret(EndpointKind::Webhook, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
        assert!(check_secret(EndpointKind::Webhook, "secret").is_err());
        assert!(check_secret(EndpointKind::Webhook, "whsec_AAAA").is_err());
        assert!(check_secret(EndpointKind::DingTalk, "SECabc").is_ok());
        assert!(check_secret(EndpointKind::Sms, "a\nb").is_err());
        let s = new_webhook_secret().unwrap();
        assert!(check_secret(EndpointKind::Webhook, &s).is_ok());
    }
}
