//! Notification settings in the console: the organisation's notice templates (a list of every
//! kind and language, and an editor that previews before saving), the notification endpoints
//! (webhooks, group robots, the SMS provider; secrets never shown back), and notification
//! preferences (one's own under "my mail", anyone's for administrators from the person page).

use super::session::UiUser;
use super::view::{FormData, Opt, Params, UiError, error_line, html, local_time, see_other};
use crate::AppState;
use crate::i18n::Tr;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailroom_app::AppError;
use mailroom_app::notify_settings::{
    EndpointInput, EndpointView, PreferencesInput, TemplateInput, parse_kind, parse_lang,
};
use mailroom_app::store::{NotifyPreference, Person};
use mailroom_domain::ErrorCode;
use mailroom_domain::auth::Permission;
use mailroom_domain::ids::{EndpointId, PersonId};
use mailroom_domain::notify::{EndpointKind, Lang, NoticeKind, SENSITIVE_VARS};
use serde::Deserialize;

fn kind_label(t: Tr, k: NoticeKind) -> String {
    t.get(&format!("notif.kind.{}", k.as_str())).to_string()
}

fn lang_label(t: Tr, l: Lang) -> &'static str {
    match l {
        Lang::ZhCn => t.get("notif.lang_zh"),
        Lang::En => t.get("notif.lang_en"),
    }
}

fn channel_label(t: Tr, k: EndpointKind) -> String {
    t.get(&format!("notif.channel.{}", k.as_str())).to_string()
}

/// An error shown above a form (input problems), or the error page (everything else).
fn form_error(u: &UiUser, e: AppError) -> Result<(StatusCode, String), UiError> {
    match e.code() {
        ErrorCode::Forbidden | ErrorCode::NotFound | ErrorCode::Internal | ErrorCode::Unauthorized => Err(u.fail(e)),
        code => Ok((crate::problem::status_for(code), error_line(u.t, &e))),
    }
}

// ---- Templates ---------------------------------------------------------------------------------

struct TemplateCell {
    href: String,
    status: String,
    custom: bool,
}

struct TemplateRow {
    kind: String,
    about: String,
    cells: Vec<TemplateCell>,
}

#[derive(Template)]
#[template(path = "notify_templates.html")]
struct TemplatesPage {
    t: Tr,
    c: super::view::Chrome,
    langs: Vec<&'static str>,
    rows: Vec<TemplateRow>,
}

pub(crate) async fn templates(State(s): State<AppState>, u: UiUser) -> Result<Response, UiError> {
    u.require(Permission::ManageNotifications)?;
    let t = u.t;
    let all = s.app.notification_templates(&u.principal).await.map_err(|e| u.fail(e))?;
    let rows = NoticeKind::ALL
        .iter()
        .map(|k| TemplateRow {
            kind: kind_label(t, *k),
            about: t.get(&format!("notif.about.{}", k.as_str())).to_string(),
            cells: Lang::ALL
                .iter()
                .map(|l| {
                    let v = all.iter().find(|v| v.kind == *k && v.lang == *l);
                    let (status, custom) = match v {
                        Some(v) if !v.is_default => (
                            t.fmt(
                                "notif.customised",
                                &[
                                    ("by", v.updated_by.as_deref().unwrap_or("")),
                                    ("at", &v.updated_at.map(local_time).unwrap_or_default()),
                                ],
                            ),
                            true,
                        ),
                        _ => (t.get("notif.builtin").to_string(), false),
                    };
                    TemplateCell {
                        href: format!("/ui/notifications/templates/{}/{}", k.as_str(), l.as_str()),
                        status,
                        custom,
                    }
                })
                .collect(),
        })
        .collect();
    let langs = Lang::ALL.iter().map(|l| lang_label(t, *l)).collect();
    Ok(html(StatusCode::OK, &TemplatesPage { t, c: u.chrome("notifications"), langs, rows }))
}

struct VarRow {
    name: String,
    about: String,
}

struct PreviewBox {
    subject: String,
    text: String,
    /// Rendered by the domain with every value and every piece of template text escaped.
    html: String,
}

#[derive(Template)]
#[template(path = "notify_template.html")]
struct TemplatePage {
    t: Tr,
    c: super::view::Chrome,
    title: String,
    action: String,
    subject: String,
    body: String,
    is_default: bool,
    confidential_note: Option<String>,
    vars: Vec<VarRow>,
    preview: Option<PreviewBox>,
    /// The preview shows unsaved changes.
    unsaved: bool,
    flash: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct FlashParams {
    saved: Option<String>,
    reset: Option<String>,
    deleted: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct TemplateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    op: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
}

#[allow(clippy::too_many_arguments)]
fn template_page(
    s: &AppState,
    u: &UiUser,
    kind: NoticeKind,
    lang: Lang,
    input: TemplateInput,
    is_default: bool,
    unsaved: bool,
    flash: Option<String>,
    error: Option<(StatusCode, String)>,
) -> Response {
    let t = u.t;
    let preview = s.app.preview_notification_template(&u.principal, kind, lang, &input).ok().map(|p| PreviewBox {
        subject: p.subject,
        text: p.text,
        html: p.html,
    });
    let vars = mailroom_domain::notify::allowed_vars(kind)
        .iter()
        .map(|v| VarRow { name: format!("{{{{{v}}}}}"), about: t.get(&format!("notif.var.{v}")).to_string() })
        .collect();
    let (status, error) = match error {
        Some((st, e)) => (st, Some(e)),
        None => (StatusCode::OK, None),
    };
    let page = TemplatePage {
        t,
        c: u.chrome("notifications").with_scripts(t, &["notify-template.js"]),
        title: t.fmt("notif.editor_title", &[("kind", &kind_label(t, kind)), ("lang", lang_label(t, lang))]),
        action: format!("/ui/notifications/templates/{}/{}", kind.as_str(), lang.as_str()),
        subject: input.subject,
        body: input.body,
        is_default,
        confidential_note: (kind == NoticeKind::ConfidentialArrival).then(|| {
            let vars = SENSITIVE_VARS.iter().map(|v| format!("{{{{{v}}}}}")).collect::<Vec<_>>().join(" ");
            t.fmt("notif.confidential_note", &[("vars", &vars)])
        }),
        vars,
        preview,
        unsaved,
        flash,
        error,
    };
    html(status, &page)
}

fn kind_lang(u: &UiUser, kind: &str, lang: &str) -> Result<(NoticeKind, Lang), UiError> {
    let k = parse_kind(kind).map_err(|e| u.fail(e))?;
    let l = parse_lang(lang).map_err(|e| u.fail(e))?;
    Ok((k, l))
}

pub(crate) async fn template(
    State(s): State<AppState>,
    u: UiUser,
    Path((kind, lang)): Path<(String, String)>,
    Params(q): Params<FlashParams>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageNotifications)?;
    let (kind, lang) = kind_lang(&u, &kind, &lang)?;
    let v = s.app.notification_template(&u.principal, kind, lang).await.map_err(|e| u.fail(e))?;
    let flash = if q.saved.is_some() {
        Some(u.t.get("notif.saved").to_string())
    } else if q.reset.is_some() {
        Some(u.t.get("notif.reset_done").to_string())
    } else {
        None
    };
    let input = TemplateInput { subject: v.subject, body: v.body };
    Ok(template_page(&s, &u, kind, lang, input, v.is_default, false, flash, None))
}

pub(crate) async fn save_template(
    State(s): State<AppState>,
    u: UiUser,
    Path((kind, lang)): Path<(String, String)>,
    FormData(f): FormData<TemplateForm>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageNotifications)?;
    u.check_csrf(&f.csrf)?;
    let (kind, lang) = kind_lang(&u, &kind, &lang)?;
    let here = format!("/ui/notifications/templates/{}/{}", kind.as_str(), lang.as_str());
    let input = TemplateInput { subject: f.subject, body: f.body.replace("\r\n", "\n") };
    let current = s.app.notification_template(&u.principal, kind, lang).await.map_err(|e| u.fail(e))?;
    match f.op.as_str() {
        "reset" => {
            s.app.reset_notification_template(&u.principal, &u.ctx, kind, lang).await.map_err(|e| u.fail(e))?;
            Ok(see_other(&format!("{here}?reset=1")))
        }
        "save" => match s.app.save_notification_template(&u.principal, &u.ctx, kind, lang, &input).await {
            Ok(_) => Ok(see_other(&format!("{here}?saved=1"))),
            Err(e) => {
                let err = form_error(&u, e)?;
                Ok(template_page(&s, &u, kind, lang, input, current.is_default, true, None, Some(err)))
            }
        },
        // Preview: validate and fill with example values; nothing is saved.
        _ => {
            let err = match s.app.preview_notification_template(&u.principal, kind, lang, &input) {
                Ok(_) => None,
                Err(e) => Some(form_error(&u, e)?),
            };
            Ok(template_page(&s, &u, kind, lang, input, current.is_default, true, None, err))
        }
    }
}

// ---- Endpoints ---------------------------------------------------------------------------------

struct EndpointRow {
    href: String,
    name: String,
    kind: String,
    url: String,
    department: String,
    events: String,
    secret: String,
    active: bool,
}

/// The endpoint form's values.
#[derive(Default)]
struct EndpointFields {
    kind: String,
    name: String,
    url: String,
    department_id: String,
    events: Vec<String>,
    active: bool,
    config: String,
}

struct Check {
    value: String,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "notify_endpoints.html")]
struct EndpointsPage {
    t: Tr,
    c: super::view::Chrome,
    rows: Vec<EndpointRow>,
    /// The form: add (id empty) or edit.
    id: String,
    kinds: Vec<Opt>,
    departments: Vec<Opt>,
    events: Vec<Check>,
    f: EndpointFields,
    /// Edit form: the URL as stored, masked.
    masked_url: String,
    secret_set: bool,
    generated_secret: Option<String>,
    flash: Option<String>,
    error: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn endpoints_page(
    s: &AppState,
    u: &UiUser,
    id: Option<EndpointId>,
    f: EndpointFields,
    current: Option<&EndpointView>,
    flash: Option<String>,
    generated_secret: Option<String>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, UiError> {
    let t = u.t;
    let list = s.app.notification_endpoints(&u.principal).await.map_err(|e| u.fail(e))?;
    let departments = s.app.list_departments(&u.principal).await.map_err(|e| u.fail(e))?;
    let dept_name = |d: Option<mailroom_domain::ids::DepartmentId>| {
        d.and_then(|d| departments.iter().find(|x| x.id == d)).map(|d| d.name.clone()).unwrap_or_default()
    };
    let rows = list
        .iter()
        .map(|e| EndpointRow {
            href: format!("/ui/notifications/endpoints/{}", e.id),
            name: e.name.clone(),
            kind: channel_label(t, e.kind),
            url: e.url.clone(),
            department: dept_name(e.department_id),
            events: if e.events.is_empty() {
                t.get("notif.ep.all_events").to_string()
            } else {
                e.events.iter().map(|k| kind_label(t, *k)).collect::<Vec<_>>().join(", ")
            },
            secret: t.get(if e.secret_set { "notif.ep.secret_set" } else { "notif.ep.secret_unset" }).to_string(),
            active: e.active,
        })
        .collect();
    let kinds =
        EndpointKind::ALL.iter().map(|k| Opt::new(k.as_str(), channel_label(t, *k), f.kind == k.as_str())).collect();
    let mut dept_opts = vec![Opt::new("", t.get("notif.ep.no_department"), f.department_id.is_empty())];
    dept_opts.extend(departments.iter().map(|d| {
        let id = d.id.to_string();
        let sel = f.department_id == id;
        Opt::new(id, format!("{} · {}", d.code, d.name), sel)
    }));
    let events = NoticeKind::ALL
        .iter()
        .map(|k| Check {
            value: k.as_str().to_string(),
            label: kind_label(t, *k),
            checked: f.events.iter().any(|e| e == k.as_str()),
        })
        .collect();
    let (status, error) = match error {
        Some((st, e)) => (st, Some(e)),
        None => (StatusCode::OK, None),
    };
    let page = EndpointsPage {
        t,
        c: u.chrome("notifications"),
        rows,
        id: id.map(|i| i.to_string()).unwrap_or_default(),
        kinds,
        departments: dept_opts,
        events,
        masked_url: current.map(|c| c.url.clone()).unwrap_or_default(),
        secret_set: current.is_some_and(|c| c.secret_set),
        f,
        generated_secret,
        flash,
        error,
    };
    Ok(html(status, &page))
}

fn fields_of(e: &EndpointView) -> EndpointFields {
    EndpointFields {
        kind: e.kind.as_str().to_string(),
        name: e.name.clone(),
        url: String::new(),
        department_id: e.department_id.map(|d| d.to_string()).unwrap_or_default(),
        events: e.events.iter().map(|k| k.as_str().to_string()).collect(),
        active: e.active,
        config: if e.config.as_object().is_some_and(|o| o.is_empty()) {
            String::new()
        } else {
            serde_json::to_string_pretty(&e.config).unwrap_or_default()
        },
    }
}

/// The endpoint form as posted (repeated `events` fields), with its CSRF token and operation.
struct PostedEndpoint {
    csrf: String,
    op: String,
    fields: EndpointFields,
    secret: String,
    clear_secret: bool,
}

fn posted(form: Vec<(String, String)>) -> PostedEndpoint {
    let mut p = PostedEndpoint {
        csrf: String::new(),
        op: String::new(),
        fields: EndpointFields::default(),
        secret: String::new(),
        clear_secret: false,
    };
    for (k, v) in form {
        match k.as_str() {
            "csrf" => p.csrf = v,
            "op" => p.op = v,
            "kind" => p.fields.kind = v,
            "name" => p.fields.name = v,
            "url" => p.fields.url = v,
            "department_id" => p.fields.department_id = v,
            "events" => p.fields.events.push(v),
            "active" => p.fields.active = true,
            "config" => p.fields.config = v,
            "secret" => p.secret = v,
            "clear_secret" => p.clear_secret = true,
            _ => {}
        }
    }
    p
}

fn input_of(p: &PostedEndpoint, creating: bool) -> Result<EndpointInput, AppError> {
    let f = &p.fields;
    let config = match f.config.trim() {
        "" => None,
        c => Some(serde_json::from_str(c).map_err(|e| {
            AppError::Domain(mailroom_domain::DomainError::invalid("config", format!("config is not valid JSON: {e}")))
        })?),
    };
    let department_id = match f.department_id.trim() {
        "" => None,
        d => Some(d.parse().map_err(|_| {
            AppError::Domain(mailroom_domain::DomainError::invalid("department_id", "no such department"))
        })?),
    };
    let secret = if p.clear_secret {
        Some(String::new())
    } else if p.secret.trim().is_empty() {
        None
    } else {
        Some(p.secret.clone())
    };
    Ok(EndpointInput {
        kind: Some(f.kind.clone()),
        name: Some(f.name.clone()),
        url: if f.url.trim().is_empty() && !creating { None } else { Some(f.url.clone()) },
        secret,
        config: config.or_else(|| Some(serde_json::json!({}))),
        department_id,
        events: Some(f.events.clone()),
        active: Some(f.active),
    })
}

pub(crate) async fn endpoints(
    State(s): State<AppState>,
    u: UiUser,
    Params(q): Params<FlashParams>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageNotifications)?;
    let flash = if q.saved.is_some() {
        Some(u.t.get("notif.ep.saved").to_string())
    } else if q.deleted.is_some() {
        Some(u.t.get("notif.ep.deleted").to_string())
    } else {
        None
    };
    let f = EndpointFields { kind: "webhook".into(), active: true, ..Default::default() };
    endpoints_page(&s, &u, None, f, None, flash, None, None).await
}

pub(crate) async fn create_endpoint(
    State(s): State<AppState>,
    u: UiUser,
    FormData(form): FormData<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageNotifications)?;
    let p = posted(form);
    u.check_csrf(&p.csrf)?;
    let result = match input_of(&p, true) {
        Ok(input) => s.app.create_notification_endpoint(&u.principal, &u.ctx, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => match v.generated_secret {
            // Shown once, on this page, never again.
            Some(secret) => {
                let f = EndpointFields { kind: "webhook".into(), active: true, ..Default::default() };
                let flash = Some(u.t.get("notif.ep.created").to_string());
                endpoints_page(&s, &u, None, f, None, flash, Some(secret), None).await
            }
            None => Ok(see_other("/ui/notifications/endpoints?saved=1")),
        },
        Err(e) => {
            let err = form_error(&u, e)?;
            endpoints_page(&s, &u, None, p.fields, None, None, None, Some(err)).await
        }
    }
}

fn parse_endpoint_id(u: &UiUser, raw: &str) -> Result<EndpointId, UiError> {
    raw.parse().map_err(|_| u.fail(AppError::not_found("endpoint")))
}

pub(crate) async fn endpoint(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageNotifications)?;
    let id = parse_endpoint_id(&u, &id)?;
    let v = s.app.notification_endpoint(&u.principal, id).await.map_err(|e| u.fail(e))?;
    endpoints_page(&s, &u, Some(id), fields_of(&v), Some(&v), None, None, None).await
}

pub(crate) async fn update_endpoint(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(form): FormData<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageNotifications)?;
    let p = posted(form);
    u.check_csrf(&p.csrf)?;
    let id = parse_endpoint_id(&u, &id)?;
    if p.op == "delete" {
        s.app.delete_notification_endpoint(&u.principal, &u.ctx, id).await.map_err(|e| u.fail(e))?;
        return Ok(see_other("/ui/notifications/endpoints?deleted=1"));
    }
    let current = s.app.notification_endpoint(&u.principal, id).await.map_err(|e| u.fail(e))?;
    let result = match input_of(&p, false) {
        Ok(input) => s.app.update_notification_endpoint(&u.principal, &u.ctx, id, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other("/ui/notifications/endpoints?saved=1")),
        Err(e) => {
            let err = form_error(&u, e)?;
            endpoints_page(&s, &u, Some(id), p.fields, Some(&current), None, None, Some(err)).await
        }
    }
}

// ---- Preferences -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "notify_preferences.html")]
struct PreferencesPage {
    t: Tr,
    c: super::view::Chrome,
    title: String,
    action: String,
    /// The person has no directory entry: nothing to set.
    missing: bool,
    email_address: String,
    phone: String,
    langs: Vec<Opt>,
    email: bool,
    sms: bool,
    robot: bool,
    quiet_start: String,
    quiet_end: String,
    digest: bool,
    digest_at: String,
    defaults: bool,
    saved: bool,
    error: Option<String>,
    back: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct PreferencesForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
    email: Option<String>,
    sms: Option<String>,
    robot: Option<String>,
    #[serde(default)]
    quiet_start: String,
    #[serde(default)]
    quiet_end: String,
    digest: Option<String>,
    #[serde(default)]
    digest_at: String,
}

impl PreferencesForm {
    fn of(p: &NotifyPreference) -> PreferencesForm {
        let on = |b: bool| b.then(|| "on".to_string());
        PreferencesForm {
            csrf: String::new(),
            lang: p.lang.as_str().to_string(),
            email: on(p.email),
            sms: on(p.sms),
            robot: on(p.robot),
            quiet_start: p.quiet.map(|q| q.start.format("%H:%M").to_string()).unwrap_or_default(),
            quiet_end: p.quiet.map(|q| q.end.format("%H:%M").to_string()).unwrap_or_default(),
            digest: on(p.digest),
            digest_at: p.digest_at.map(|d| d.format("%H:%M").to_string()).unwrap_or_default(),
        }
    }
    fn input(&self) -> PreferencesInput {
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        PreferencesInput {
            lang: self.lang.clone(),
            email: self.email.is_some(),
            sms: self.sms.is_some(),
            robot: self.robot.is_some(),
            quiet_start: opt(&self.quiet_start),
            quiet_end: opt(&self.quiet_end),
            digest: self.digest.is_some(),
            digest_at: opt(&self.digest_at),
        }
    }
}

/// Whose preferences a page shows: one's own (`None`) or a person's.
struct Subject {
    person: Option<Person>,
    mine: bool,
}

fn preferences_page(
    u: &UiUser,
    who: &Subject,
    f: PreferencesForm,
    defaults: bool,
    saved: bool,
    error: Option<(StatusCode, String)>,
) -> Response {
    let t = u.t;
    let (title, action, section, back) = match (&who.person, who.mine) {
        (_, true) | (None, _) => (t.get("pref.title_my").to_string(), "/ui/my/notifications".to_string(), "my", None),
        (Some(p), false) => (
            t.fmt("pref.title_person", &[("name", &p.name)]),
            format!("/ui/people/{}/notifications", p.id),
            "people",
            Some(format!("/ui/people/{}", p.id)),
        ),
    };
    let langs = Lang::ALL.iter().map(|l| Opt::new(l.as_str(), lang_label(t, *l), f.lang == l.as_str())).collect();
    let (status, error) = match error {
        Some((st, e)) => (st, Some(e)),
        None => (StatusCode::OK, None),
    };
    let page = PreferencesPage {
        t,
        c: u.chrome(section),
        title,
        action,
        missing: who.person.is_none(),
        email_address: who.person.as_ref().and_then(|p| p.email.clone()).unwrap_or_default(),
        phone: who.person.as_ref().and_then(|p| p.phone.clone()).unwrap_or_default(),
        langs,
        email: f.email.is_some(),
        sms: f.sms.is_some(),
        robot: f.robot.is_some(),
        quiet_start: f.quiet_start,
        quiet_end: f.quiet_end,
        digest: f.digest.is_some(),
        digest_at: f.digest_at,
        defaults,
        saved,
        error,
        back,
    };
    html(status, &page)
}

#[derive(Deserialize)]
pub(crate) struct SavedParams {
    saved: Option<String>,
}

/// The caller's own directory entry in the organisation they act in, if any.
async fn own_person(s: &AppState, u: &UiUser) -> Result<Option<Person>, UiError> {
    match u.principal.person_id {
        Some(id) if u.principal.tenant_id == u.principal.home_tenant_id => {
            s.app.store.person(u.principal.tenant_id, id).await.map_err(|e| u.fail(AppError::from(e)))
        }
        _ => Ok(None),
    }
}

pub(crate) async fn my_preferences(
    State(s): State<AppState>,
    u: UiUser,
    Params(q): Params<SavedParams>,
) -> Result<Response, UiError> {
    u.require(Permission::ReadOwnItems)?;
    let person = own_person(&s, &u).await?;
    let who = Subject { person, mine: true };
    if who.person.is_none() {
        return Ok(preferences_page(&u, &who, PreferencesForm::default(), true, false, None));
    }
    let p = s.app.my_notification_preferences(&u.principal).await.map_err(|e| u.fail(e))?;
    Ok(preferences_page(&u, &who, PreferencesForm::of(&p), p.updated_at.is_none(), q.saved.is_some(), None))
}

pub(crate) async fn save_my_preferences(
    State(s): State<AppState>,
    u: UiUser,
    FormData(f): FormData<PreferencesForm>,
) -> Result<Response, UiError> {
    u.require(Permission::ReadOwnItems)?;
    u.check_csrf(&f.csrf)?;
    let person = own_person(&s, &u).await?;
    let who = Subject { person, mine: true };
    match s.app.save_my_notification_preferences(&u.principal, &u.ctx, &f.input()).await {
        Ok(_) => Ok(see_other("/ui/my/notifications?saved=1")),
        Err(e) => {
            let err = form_error(&u, e)?;
            Ok(preferences_page(&u, &who, f, false, false, Some(err)))
        }
    }
}

fn parse_person_id(u: &UiUser, raw: &str) -> Result<PersonId, UiError> {
    raw.parse().map_err(|_| u.fail(AppError::not_found("person")))
}

pub(crate) async fn person_preferences(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    Params(q): Params<SavedParams>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageNotifications)?;
    let id = parse_person_id(&u, &id)?;
    let p = s.app.notification_preferences(&u.principal, id).await.map_err(|e| u.fail(e))?;
    let person = s.app.person(&u.principal, id).await.map_err(|e| u.fail(e))?;
    let who = Subject { person: Some(person), mine: false };
    Ok(preferences_page(&u, &who, PreferencesForm::of(&p), p.updated_at.is_none(), q.saved.is_some(), None))
}

pub(crate) async fn save_person_preferences(
    State(s): State<AppState>,
    u: UiUser,
    Path(id): Path<String>,
    FormData(f): FormData<PreferencesForm>,
) -> Result<Response, UiError> {
    u.require(Permission::ManageNotifications)?;
    u.check_csrf(&f.csrf)?;
    let id = parse_person_id(&u, &id)?;
    match s.app.save_notification_preferences(&u.principal, &u.ctx, id, &f.input()).await {
        Ok(_) => Ok(see_other(&format!("/ui/people/{id}/notifications?saved=1"))),
        Err(e) => {
            let err = form_error(&u, e)?;
            let person = s.app.person(&u.principal, id).await.map_err(|e| u.fail(e))?;
            let who = Subject { person: Some(person), mine: false };
            Ok(preferences_page(&u, &who, f, false, false, Some(err)))
        }
    }
}
