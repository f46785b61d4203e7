//! Notification templates, their variables, and when a notice may be sent.
//!
//! A template is a subject line and a plain-text body with `{{variable}}` placeholders. Each
//! [`NoticeKind`] allows a fixed set of variables ([`allowed_vars`]); a template naming any other
//! variable is refused by [`validate`]. Confidential arrivals never allow the variables that would
//! reveal who sent an item or what it is ([`SENSITIVE_VARS`]).
//!
//! [`render`] fills a template: a missing variable renders as nothing, and a line whose
//! placeholders all rendered empty is left out, so "Carrier: " does not appear when the carrier is
//! unknown. The HTML version escapes every value.
//!
//! Quiet hours ([`QuietHours`], [`next_allowed`]), digests ([`next_digest_at`]) and batch spreading
//! ([`spread`]) decide *when* a notice goes out.

use crate::item::string_enum;
use crate::{DomainError, ErrorCode};
use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

string_enum!(
    /// What a notice is about.
    NoticeKind {
        Arrival = "arrival",
        ConfidentialArrival = "confidential_arrival",
        Reminder = "reminder",
        Escalation = "escalation",
        OutForDelivery = "out_for_delivery",
        Receipt = "receipt",
        Damaged = "damaged",
        DeadlineMissed = "deadline_missed",
        Digest = "digest",
        DisposalRequested = "disposal_requested",
        OutboundUpdate = "outbound_update",
    }
);

string_enum!(
    /// Where notices can be sent besides a person's own e-mail and phone.
    EndpointKind {
        Webhook = "webhook",
        WeCom = "wecom",
        DingTalk = "dingtalk",
        Feishu = "feishu",
        Sms = "sms",
    }
);

impl NoticeKind {
    /// What the notice is for, for the console and the documentation.
    pub fn describe(self) -> &'static str {
        match self {
            NoticeKind::Arrival => "an item arrived for the recipient (with its pickup code)",
            NoticeKind::ConfidentialArrival => "a confidential item arrived (no sender, carrier or contents)",
            NoticeKind::Reminder => "an item is still waiting to be collected",
            NoticeKind::Escalation => "an item is escalated to a supervisor or a department's key contact",
            NoticeKind::OutForDelivery => "an item is on its way to the recipient",
            NoticeKind::Receipt => "an item was delivered or picked up (receipt)",
            NoticeKind::Damaged => "an item arrived damaged",
            NoticeKind::DeadlineMissed => "an item missed its service-level due-by",
            NoticeKind::Digest => "a daily summary of waiting items",
            NoticeKind::DisposalRequested => "an unclaimed item awaits approval to be returned or disposed of",
            NoticeKind::OutboundUpdate => {
                "a send the person asked for was approved, rejected, handed to the carrier, delivered or returned"
            }
        }
    }
}

/// The language of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub const ALL: &'static [Lang] = &[Lang::ZhCn, Lang::En];
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }
    /// Accepts `zh-CN`, `zh`, `zh-Hans` (any case) and `en`, `en-*`.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "zh-cn" | "zh" | "zh-hans" | "zh-hans-cn" | "zh_cn" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            _ if s.starts_with("en-") || s.starts_with("en_") => Some(Lang::En),
            _ => None,
        }
    }
    pub fn parse_field(field: &str, s: &str) -> Result<Lang, DomainError> {
        Lang::parse(s).ok_or_else(|| DomainError::invalid(field, format!("{field} must be one of: zh-CN, en")))
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A subject line and a plain-text body with `{{variable}}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Template {
    pub subject: String,
    pub body: String,
}

/// A filled template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    /// The body as an HTML fragment: every value escaped, paragraphs and line breaks kept.
    pub html: String,
}

/// Every variable a template may use, with what it holds.
pub const VARS: &[(&str, &str)] = &[
    ("reference", "the item's reference code, as on its label"),
    ("recipient_name", "the recipient's name"),
    ("site", "the mailroom (site) holding the item"),
    ("location", "the storage location (shelf, locker, secure room)"),
    ("pickup_code", "the code to show or type at pickup"),
    ("kind", "what arrived (letter, parcel …)"),
    ("category", "the item's category (invoice, legal …)"),
    ("priority", "the item's priority"),
    ("carrier", "the carrier that delivered it"),
    ("tracking_number", "the carrier's tracking number"),
    ("sender", "who sent it"),
    ("received_at", "when it was received (site time)"),
    ("due_by", "when it is due under the service level (site time)"),
    ("days_waiting", "how many days it has been waiting"),
    ("reason", "why (escalation reason, damage, requested action)"),
    ("item_count", "how many items a digest lists"),
    ("items", "the digest's list of items, one a line"),
    ("portal_url", "the link to the item or to \"my mail\""),
    ("delivered_to", "who received it at handover"),
    ("handed_over_at", "when it was handed over (site time)"),
    ("tenant_name", "the organisation's name"),
    ("status", "where a send stands now (approved, handed to the carrier, delivered …)"),
    ("addressee", "whom a send goes to, and where"),
];

/// Variables that reveal who sent an item or what it is: never allowed in a confidential arrival.
pub const SENSITIVE_VARS: &[&str] = &["sender", "carrier", "tracking_number", "category", "kind"];

const ITEM_VARS: &[&str] = &[
    "reference",
    "recipient_name",
    "site",
    "location",
    "pickup_code",
    "kind",
    "category",
    "priority",
    "carrier",
    "tracking_number",
    "sender",
    "received_at",
    "due_by",
    "portal_url",
    "tenant_name",
];

/// The variables a template of `kind` may use.
pub fn allowed_vars(kind: NoticeKind) -> &'static [&'static str] {
    match kind {
        NoticeKind::Arrival => ITEM_VARS,
        NoticeKind::ConfidentialArrival => &[
            "reference",
            "recipient_name",
            "site",
            "location",
            "pickup_code",
            "priority",
            "received_at",
            "due_by",
            "portal_url",
            "tenant_name",
        ],
        NoticeKind::Reminder => &[
            "reference",
            "recipient_name",
            "site",
            "location",
            "pickup_code",
            "kind",
            "category",
            "priority",
            "carrier",
            "tracking_number",
            "sender",
            "received_at",
            "due_by",
            "portal_url",
            "tenant_name",
            "days_waiting",
        ],
        NoticeKind::Escalation | NoticeKind::DisposalRequested => &[
            "reference",
            "recipient_name",
            "site",
            "location",
            "pickup_code",
            "kind",
            "category",
            "priority",
            "carrier",
            "tracking_number",
            "sender",
            "received_at",
            "due_by",
            "portal_url",
            "tenant_name",
            "days_waiting",
            "reason",
        ],
        NoticeKind::OutForDelivery => ITEM_VARS,
        NoticeKind::Receipt => &[
            "reference",
            "recipient_name",
            "site",
            "location",
            "pickup_code",
            "kind",
            "category",
            "priority",
            "carrier",
            "tracking_number",
            "sender",
            "received_at",
            "due_by",
            "portal_url",
            "tenant_name",
            "delivered_to",
            "handed_over_at",
        ],
        NoticeKind::Damaged | NoticeKind::DeadlineMissed => &[
            "reference",
            "recipient_name",
            "site",
            "location",
            "pickup_code",
            "kind",
            "category",
            "priority",
            "carrier",
            "tracking_number",
            "sender",
            "received_at",
            "due_by",
            "portal_url",
            "tenant_name",
            "reason",
        ],
        NoticeKind::Digest => &["recipient_name", "site", "item_count", "items", "portal_url", "tenant_name"],
        NoticeKind::OutboundUpdate => &[
            "reference",
            "recipient_name",
            "site",
            "kind",
            "category",
            "carrier",
            "tracking_number",
            "status",
            "addressee",
            "reason",
            "portal_url",
            "tenant_name",
        ],
    }
}

/// Removes the variables a confidential notice must not carry (used when a reminder or another
/// notice is about a confidential item).
pub fn redact_sensitive<V>(vars: &mut BTreeMap<&str, V>) {
    for v in SENSITIVE_VARS {
        vars.remove(v);
    }
}

/// Longest subject accepted, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Longest body accepted, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// Splits `s` into text and `{{name}}` placeholders. A `{{` without a closing `}}` is an error
/// (it names the position); names are trimmed.
fn parse(s: &str) -> Result<Vec<Piece<'_>>, usize> {
    let mut out = Vec::new();
    let mut rest = s;
    let mut pos = 0;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            out.push(Piece::Text(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(pos + open);
        };
        let name = after[..close].trim();
        out.push(Piece::Var(name));
        let consumed = open + 2 + close + 2;
        pos += consumed;
        rest = &rest[consumed..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

fn check_part(kind: NoticeKind, field: &str, s: &str) -> Result<(), DomainError> {
    let pieces = parse(s).map_err(|at| {
        let line = s[..at].matches('\n').count() + 1;
        DomainError::invalid(field, format!("{field}: line {line}: \"{{{{\" is not closed by \"}}}}\""))
    })?;
    let allowed = allowed_vars(kind);
    for p in pieces {
        if let Piece::Var(name) = p {
            if name.is_empty() {
                return Err(DomainError::invalid(field, format!("{field}: empty placeholder {{{{}}}}")));
            }
            if allowed.contains(&name) {
                continue;
            }
            let msg = if kind == NoticeKind::ConfidentialArrival && SENSITIVE_VARS.contains(&name) {
                format!(
                    "{field}: variable {{{{{name}}}}} is not allowed in a confidential arrival notice (it would reveal the sender or contents)"
                )
            } else if VARS.iter().any(|(v, _)| *v == name) {
                format!("{field}: variable {{{{{name}}}}} is not available in {kind} notices")
            } else {
                format!("{field}: unknown variable {{{{{name}}}}}")
            };
            return Err(DomainError::invalid(field, msg));
        }
    }
    Ok(())
}

/// Checks a template for `kind`: subject present, one line, not too long; body not empty nor too
/// long; every placeholder closed and allowed. The error names the field and the variable.
pub fn validate(kind: NoticeKind, t: &Template) -> Result<(), DomainError> {
    if t.subject.trim().is_empty() {
        return Err(DomainError::invalid("subject", "subject must not be empty"));
    }
    if t.subject.contains(['\n', '\r']) {
        return Err(DomainError::invalid("subject", "subject must be one line"));
    }
    if t.subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(DomainError::invalid("subject", format!("subject is longer than {MAX_SUBJECT_CHARS} characters")));
    }
    if t.body.trim().is_empty() {
        return Err(DomainError::invalid("body", "body must not be empty"));
    }
    if t.body.chars().count() > MAX_BODY_CHARS {
        return Err(DomainError::invalid("body", format!("body is longer than {MAX_BODY_CHARS} characters")));
    }
    check_part(kind, "subject", &t.subject)?;
    check_part(kind, "body", &t.body)
}

/// The variables a template text names, in order of first appearance (unclosed tails ignored).
pub fn vars_used(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let pieces = parse(s).unwrap_or_default();
    for p in pieces {
        if let Piece::Var(n) = p
            && !out.iter().any(|o| o == n)
        {
            out.push(n.to_string());
        }
    }
    out
}

/// Renders one line: returns None when the line has placeholders and every one rendered empty.
fn render_line(line: &str, vars: &BTreeMap<&str, String>, escape: bool) -> Option<String> {
    let pieces = match parse(line) {
        Ok(p) => p,
        // An unclosed "{{" (only in unvalidated text): shown as written.
        Err(_) => vec![Piece::Text(line)],
    };
    let mut out = String::with_capacity(line.len());
    let mut placeholders = 0usize;
    let mut filled = 0usize;
    for p in pieces {
        match p {
            Piece::Text(t) => push(&mut out, t, escape),
            Piece::Var(name) => {
                placeholders += 1;
                let v = vars.get(name).map(String::as_str).unwrap_or("");
                if !v.trim().is_empty() {
                    filled += 1;
                }
                push(&mut out, v, escape);
            }
        }
    }
    if placeholders > 0 && filled == 0 { None } else { Some(out) }
}

fn push(out: &mut String, s: &str, escape: bool) {
    if escape {
        out.push_str(&escape_html(s));
    } else {
        out.push_str(s);
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Fills a template. Never fails: a variable without a value renders as nothing, a line whose
/// placeholders are all empty is dropped, and the subject is kept to one line whatever the values
/// hold. The HTML body escapes everything and keeps paragraphs (`<p>`) and line breaks (`<br>`).
pub fn render(t: &Template, vars: &BTreeMap<&str, String>) -> Rendered {
    // Subject: values cannot break it into several header lines.
    let one_line: BTreeMap<&str, String> = vars.iter().map(|(k, v)| (*k, v.replace(['\r', '\n'], " "))).collect();
    let subject =
        render_line(&t.subject.replace(['\r', '\n'], " "), &one_line, false).unwrap_or_default().trim().to_string();

    let mut text_lines = Vec::new();
    let mut html_lines = Vec::new();
    for line in t.body.replace("\r\n", "\n").split('\n') {
        if let Some(l) = render_line(line, vars, false) {
            text_lines.push(l);
        }
        if let Some(l) = render_line(line, vars, true) {
            html_lines.push(l);
        }
    }
    let text = text_lines.join("\n").trim_end().to_string() + "\n";
    let html = html_paragraphs(&html_lines.join("\n"));
    Rendered { subject, text, html }
}

/// Turns escaped text into paragraphs: blank lines separate `<p>`s, single newlines become `<br>`.
fn html_paragraphs(escaped: &str) -> String {
    let mut out = String::new();
    for para in escaped.split("\n\n") {
        let para = para.trim_matches('\n');
        if para.trim().is_empty() {
            continue;
        }
        out.push_str("<p>");
        out.push_str(&para.split('\n').collect::<Vec<_>>().join("<br>\n"));
        out.push_str("</p>\n");
    }
    out
}

/// Example values for previews and tests, in the language of the notice.
pub fn sample_vars(kind: NoticeKind, lang: Lang) -> BTreeMap<&'static str, String> {
    let zh = lang == Lang::ZhCn;
    let pick = |z: &str, e: &str| if zh { z.to_string() } else { e.to_string() };
    let all: Vec<(&'static str, String)> = vec![
        ("reference", "MR-7Q4K-2D".to_string()),
        ("recipient_name", pick("李娜", "Li Na")),
        ("site", pick("总部大楼", "Head Office")),
        ("location", pick("A区-03号架", "Shelf A-03")),
        ("pickup_code", "482913".to_string()),
        ("kind", pick("包裹", "parcel")),
        ("category", pick("合同", "contract")),
        ("priority", pick("普通", "normal")),
        ("carrier", pick("顺丰速运", "SF Express")),
        ("tracking_number", "SF1234567890123".to_string()),
        ("sender", pick("上海某某律师事务所", "Example Law Firm, Shanghai")),
        ("received_at", "2026-03-02 09:41".to_string()),
        ("due_by", "2026-03-02 11:41".to_string()),
        ("days_waiting", "5".to_string()),
        ("reason", pick("超过 5 天未领取", "not collected for 5 days")),
        ("item_count", "3".to_string()),
        (
            "items",
            pick(
                "MR-7Q4K-2D 包裹（A区-03号架）\nMR-8C2M-5F 信件（A区-01号架）\nMR-9X1P-7H 文件（机要室）",
                "MR-7Q4K-2D parcel (Shelf A-03)\nMR-8C2M-5F letter (Shelf A-01)\nMR-9X1P-7H document (Secure room)",
            ),
        ),
        ("portal_url", "https://mailroom.example.com/ui/my".to_string()),
        ("delivered_to", pick("王强（代领）", "Wang Qiang (on behalf)")),
        ("handed_over_at", "2026-03-02 14:05".to_string()),
        ("tenant_name", pick("示例集团", "Example Group")),
        ("status", pick("已交寄承运商", "handed to the carrier")),
        ("addressee", pick("山田太郎，日本东京", "Taro Yamada, Tokyo, Japan")),
    ];
    let allowed = allowed_vars(kind);
    all.into_iter().filter(|(k, _)| allowed.contains(k)).collect()
}

fn tpl(subject: &str, body: &str) -> Template {
    Template { subject: subject.to_string(), body: body.to_string() }
}

/// The built-in wording of every notice, used until an organisation saves its own.
pub fn default_template(kind: NoticeKind, lang: Lang) -> Template {
    use Lang::{En, ZhCn};
    use NoticeKind as K;
    match (kind, lang) {
        (K::Arrival, ZhCn) => tpl(
            "【收发室】您有一件邮件待领取（{{reference}}）",
            "{{recipient_name}}，您好：\n\n\
             您有一件{{kind}}已于 {{received_at}} 到达{{site}}收发室，请尽快领取。\n\n\
             编号：{{reference}}\n\
             取件码：{{pickup_code}}\n\
             存放位置：{{location}}\n\
             寄件方：{{sender}}\n\
             快递公司：{{carrier}} {{tracking_number}}\n\n\
             领取时请出示取件码或工牌。查看详情：{{portal_url}}\n\n\
             {{tenant_name}} 收发室",
        ),
        (K::Arrival, En) => tpl(
            "Mail for you: {{reference}} is ready for pickup",
            "Dear {{recipient_name}},\n\n\
             A {{kind}} for you arrived at the {{site}} mailroom on {{received_at}} and is ready for pickup.\n\n\
             Reference: {{reference}}\n\
             Pickup code: {{pickup_code}}\n\
             Location: {{location}}\n\
             From: {{sender}}\n\
             Carrier: {{carrier}} {{tracking_number}}\n\n\
             Please show your pickup code or staff card when you collect it. Details: {{portal_url}}\n\n\
             {{tenant_name}} Mailroom",
        ),
        (K::ConfidentialArrival, ZhCn) => tpl(
            "【收发室】您有一件机要邮件待本人领取（{{reference}}）",
            "{{recipient_name}}，您好：\n\n\
             您有一件机要邮件已于 {{received_at}} 到达{{site}}收发室。\n\
             该邮件须由您本人持有效证件领取，不可代领。\n\n\
             编号：{{reference}}\n\
             取件码：{{pickup_code}}\n\
             存放位置：{{location}}\n\n\
             查看详情：{{portal_url}}\n\n\
             {{tenant_name}} 收发室",
        ),
        (K::ConfidentialArrival, En) => tpl(
            "Confidential mail for you: {{reference}} (collect in person)",
            "Dear {{recipient_name}},\n\n\
             A confidential item for you arrived at the {{site}} mailroom on {{received_at}}.\n\
             It can only be handed to you in person, on showing valid ID.\n\n\
             Reference: {{reference}}\n\
             Pickup code: {{pickup_code}}\n\
             Location: {{location}}\n\n\
             Details: {{portal_url}}\n\n\
             {{tenant_name}} Mailroom",
        ),
        (K::Reminder, ZhCn) => tpl(
            "【收发室】提醒：您的邮件已等候 {{days_waiting}} 天（{{reference}}）",
            "{{recipient_name}}，您好：\n\n\
             您于 {{received_at}} 到达的{{kind}}仍在{{site}}收发室等候领取，已等候 {{days_waiting}} 天。\n\n\
             编号：{{reference}}\n\
             取件码：{{pickup_code}}\n\
             存放位置：{{location}}\n\
             寄件方：{{sender}}\n\n\
             逾期未领的邮件将按规定退回寄件方或处置，请尽快领取。查看详情：{{portal_url}}\n\n\
             {{tenant_name}} 收发室",
        ),
        (K::Reminder, En) => tpl(
            "Reminder: your mail {{reference}} has been waiting {{days_waiting}} days",
            "Dear {{recipient_name}},\n\n\
             The {{kind}} that arrived for you on {{received_at}} is still waiting at the {{site}} mailroom \
             ({{days_waiting}} days so far).\n\n\
             Reference: {{reference}}\n\
             Pickup code: {{pickup_code}}\n\
             Location: {{location}}\n\
             From: {{sender}}\n\n\
             Items left unclaimed are returned to the sender or disposed of under the mailroom's policy, \
             so please collect it soon. Details: {{portal_url}}\n\n\
             {{tenant_name}} Mailroom",
        ),
        (K::Escalation, ZhCn) => tpl(
            "【收发室】升级处理：{{recipient_name}} 的邮件 {{reference}} 需要跟进",
            "您好：\n\n\
             以下邮件需要您跟进处理：\n\n\
             编号：{{reference}}\n\
             收件人：{{recipient_name}}\n\
             类型：{{kind}}\n\
             优先级：{{priority}}\n\
             到达时间：{{received_at}}\n\
             处理时限：{{due_by}}\n\
             已等候：{{days_waiting}} 天\n\
             升级原因：{{reason}}\n\
             所在收发室：{{site}}（{{location}}）\n\n\
             请联系收件人或安排领取、转交。查看详情：{{portal_url}}\n\n\
             {{tenant_name}} 收发室",
        ),
        (K::Escalation, En) => tpl(
            "Escalation: {{reference}} for {{recipient_name}} needs attention",
            "Hello,\n\n\
             The following item needs your attention:\n\n\
             Reference: {{reference}}\n\
             Recipient: {{recipient_name}}\n\
             Kind: {{kind}}\n\
             Priority: {{priority}}\n\
             Received: {{received_at}}\n\
             Due by: {{due_by}}\n\
             Waiting: {{days_waiting}} days\n\
             Reason: {{reason}}\n\
             Held at: {{site}} ({{location}})\n\n\
             Please contact the recipient or arrange collection or forwarding. Details: {{portal_url}}\n\n\
             {{tenant_name}} Mailroom",
        ),
        (K::OutForDelivery, ZhCn) => tpl(
            "【收发室】您的邮件正在派送中（{{reference}}）",
            "{{recipient_name}}，您好：\n\n\
             收发室工作人员正在将您的{{kind}}送往您处，请留意签收。\n\n\
             编号：{{reference}}\n\
             寄件方：{{sender}}\n\
             快递公司：{{carrier}} {{tracking_number}}\n\n\
             签收时可能需要出示取件码：{{pickup_code}}\n\
             查看详情：{{portal_url}}\n\n\
             {{tenant_name}} 收发室",
        ),
        (K::OutForDelivery, En) => tpl(
            "Out for delivery: your mail {{reference}}",
            "Dear {{recipient_name}},\n\n\
             Mailroom staff are bringing your {{kind}} to you now; please be ready to sign for it.\n\n\
             Reference: {{reference}}\n\
             From: {{sender}}\n\
             Carrier: {{carrier}} {{tracking_number}}\n\n\
             You may be asked for your pickup code: {{pickup_code}}\n\
             Details: {{portal_url}}\n\n\
             {{tenant_name}} Mailroom",
        ),
        (K::Receipt, ZhCn) => tpl(
            "【收发室】签收回执：{{reference}} 已签收",
            "{{recipient_name}}，您好：\n\n\
             您的{{kind}}已于 {{handed_over_at}} 由 {{delivered_to}} 签收。\n\n\
             编号：{{reference}}\n\
             寄件方：{{sender}}\n\
             收发室：{{site}}\n\n\
             如非您本人或您授权的代领人签收，请立即联系收发室。查看签收记录：{{portal_url}}\n\n\
             {{tenant_name}} 收发室",
        ),
        (K::Receipt, En) => tpl(
            "Receipt: {{reference}} has been handed over",
            "Dear {{recipient_name}},\n\n\
             Your {{kind}} was handed over to {{delivered_to}} on {{handed_over_at}}.\n\n\
             Reference: {{reference}}\n\
             From: {{sender}}\n\
             Mailroom: {{site}}\n\n\
             If neither you nor someone you authorised collected it, please contact the mailroom at once. \
             Receipt: {{portal_url}}\n\n\
             {{tenant_name}} Mailroom",
        ),
        (K::Damaged, ZhCn) => tpl(
            "【收发室】您的邮件到达时有破损（{{reference}}）",
            "{{recipient_name}}，您好：\n\n\
             您的{{kind}}于 {{received_at}} 到达{{site}}收发室时外包装有破损，我们已拍照留存并登记。\n\n\
             编号：{{reference}}\n\
             破损情况：{{reason}}\n\
             寄件方：{{sender}}\n\
             快递公司：{{carrier}} {{tracking_number}}\n\
             取件码：{{pickup_code}}\n\
             存放位置：{{location}}\n\n\
             收发室将联系寄件方或快递公司。领取时请当面查验内件，如有缺损请当场告知。查看详情：{{portal_url}}\n\n\
             {{tenant_name}} 收发室",
        ),
        (K::Damaged, En) => tpl(
            "Your mail {{reference}} arrived damaged",
            "Dear {{recipient_name}},\n\n\
             Your {{kind}} arrived at the {{site}} mailroom on {{received_at}} with damaged packaging. \
             We have photographed and recorded it.\n\n\
             Reference: {{reference}}\n\
             Damage: {{reason}}\n\
             From: {{sender}}\n\
             Carrier: {{carrier}} {{tracking_number}}\n\
             Pickup code: {{pickup_code}}\n\
             Location: {{location}}\n\n\
             The mailroom will contact the sender or the carrier. Please check the contents when you \
             collect it and tell us at once if anything is missing. Details: {{portal_url}}\n\n\
             {{tenant_name}} Mailroom",
        ),
        (K::DeadlineMissed, ZhCn) => tpl(
            "【收发室】超时提醒：{{reference}} 已超过处理时限",
            "您好：\n\n\
             以下邮件已超过服务时限，尚未处理完毕：\n\n\
             编号：{{reference}}\n\
             收件人：{{recipient_name}}\n\
             类型：{{kind}}\n\
             优先级：{{priority}}\n\
             到达时间：{{received_at}}\n\
             处理时限：{{due_by}}\n\
             说明：{{reason}}\n\
             所在收发室：{{site}}（{{location}}）\n\n\
             请尽快安排派送或通知收件人领取。查看详情：{{portal_url}}\n\n\
             {{tenant_name}} 收发室",
        ),
        (K::DeadlineMissed, En) => tpl(
            "Overdue: {{reference}} missed its due-by time",
            "Hello,\n\n\
             The following item is past its service-level due-by time and not yet dealt with:\n\n\
             Reference: {{reference}}\n\
             Recipient: {{recipient_name}}\n\
             Kind: {{kind}}\n\
             Priority: {{priority}}\n\
             Received: {{received_at}}\n\
             Due by: {{due_by}}\n\
             Note: {{reason}}\n\
             Held at: {{site}} ({{location}})\n\n\
             Please arrange delivery or ask the recipient to collect it. Details: {{portal_url}}\n\n\
             {{tenant_name}} Mailroom",
        ),
        (K::Digest, ZhCn) => tpl(
            "【收发室】今日邮件汇总：您有 {{item_count}} 件邮件待领取",
            "{{recipient_name}}，您好：\n\n\
             您目前有 {{item_count}} 件邮件在收发室等候领取：\n\n\
             {{items}}\n\n\
             领取时请出示取件码或工牌。查看全部：{{portal_url}}\n\n\
             {{tenant_name}} 收发室",
        ),
        (K::Digest, En) => tpl(
            "Your mail today: {{item_count}} item(s) waiting for pickup",
            "Dear {{recipient_name}},\n\n\
             You have {{item_count}} item(s) waiting for you at the mailroom:\n\n\
             {{items}}\n\n\
             Please show your pickup code or staff card when you collect them. All your mail: {{portal_url}}\n\n\
             {{tenant_name}} Mailroom",
        ),
        (K::DisposalRequested, ZhCn) => tpl(
            "【收发室】待审批：逾期未领邮件 {{reference}} 申请处置",
            "您好：\n\n\
             以下邮件逾期未领取，申请按规定处置，需要您审批：\n\n\
             编号：{{reference}}\n\
             收件人：{{recipient_name}}\n\
             类型：{{kind}}\n\
             寄件方：{{sender}}\n\
             到达时间：{{received_at}}\n\
             已等候：{{days_waiting}} 天\n\
             拟处置方式：{{reason}}\n\
             所在收发室：{{site}}（{{location}}）\n\n\
             请在系统中批准或驳回：{{portal_url}}\n\n\
             {{tenant_name}} 收发室",
        ),
        (K::DisposalRequested, En) => tpl(
            "Approval needed: unclaimed item {{reference}}",
            "Hello,\n\n\
             The following item was not collected in time and awaits your approval for its final step:\n\n\
             Reference: {{reference}}\n\
             Recipient: {{recipient_name}}\n\
             Kind: {{kind}}\n\
             From: {{sender}}\n\
             Received: {{received_at}}\n\
             Waiting: {{days_waiting}} days\n\
             Proposed action: {{reason}}\n\
             Held at: {{site}} ({{location}})\n\n\
             Please approve or reject it in the console: {{portal_url}}\n\n\
             {{tenant_name}} Mailroom",
        ),
        (K::OutboundUpdate, ZhCn) => tpl(
            "【收发室】您的寄件 {{reference}}：{{status}}",
            "{{recipient_name}}，您好：\n\n\
             您申请寄出的{{kind}}有新进展：{{status}}。\n\n\
             编号：{{reference}}\n\
             收件方：{{addressee}}\n\
             承运商：{{carrier}} {{tracking_number}}\n\
             备注：{{reason}}\n\n\
             查看详情：{{portal_url}}\n\n\
             {{tenant_name}} 收发室",
        ),
        (K::OutboundUpdate, En) => tpl(
            "Your send {{reference}}: {{status}}",
            "Dear {{recipient_name}},\n\n\
             The {{kind}} you asked us to send has moved on: {{status}}.\n\n\
             Reference: {{reference}}\n\
             To: {{addressee}}\n\
             Carrier: {{carrier}} {{tracking_number}}\n\
             Note: {{reason}}\n\n\
             Details: {{portal_url}}\n\n\
             {{tenant_name}} Mailroom",
        ),
    }
}

/// Hours during which a person receives no notices (they wait until the end). `start == end`
/// means no quiet hours. The range may wrap midnight (22:00–07:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuietHours {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "22:00:00"))]
    pub start: NaiveTime,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "07:00:00"))]
    pub end: NaiveTime,
}

impl QuietHours {
    /// Whether the local time `t` falls inside (start inclusive, end exclusive).
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start == self.end {
            false
        } else if self.start < self.end {
            t >= self.start && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

/// Parses "HH:MM" or "HH:MM:SS".
pub fn parse_time(field: &str, s: &str) -> Result<NaiveTime, DomainError> {
    let s = s.trim();
    NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .map_err(|_| DomainError::invalid(field, format!("{field} must be a time of day like 08:30")))
}

fn to_local(now: DateTime<Utc>, tz_offset_minutes: i32) -> Option<chrono::NaiveDateTime> {
    now.naive_utc().checked_add_signed(Duration::minutes(i64::from(tz_offset_minutes)))
}

fn from_local(local: chrono::NaiveDateTime, tz_offset_minutes: i32) -> Option<DateTime<Utc>> {
    local.checked_sub_signed(Duration::minutes(i64::from(tz_offset_minutes))).map(|n| n.and_utc())
}

/// The earliest time at or after `now` outside the quiet hours, which are in the local time of
/// a place `tz_offset_minutes` ahead of UTC.
pub fn next_allowed(now: DateTime<Utc>, tz_offset_minutes: i32, quiet: Option<QuietHours>) -> DateTime<Utc> {
    let Some(q) = quiet else { return now };
    let Some(local) = to_local(now, tz_offset_minutes) else { return now };
    if !q.contains(local.time()) {
        return now;
    }
    // Inside: the quiet hours end at `end` today, or tomorrow when they wrapped past midnight
    // and we are in the evening part.
    let mut day = local.date();
    if q.start > q.end && local.time() >= q.start {
        day = day.succ_opt().unwrap_or(day);
    }
    from_local(day.and_time(q.end), tz_offset_minutes).unwrap_or(now)
}

/// The next daily digest time strictly after `now`: the local time `at` today, else tomorrow.
pub fn next_digest_at(now: DateTime<Utc>, tz_offset_minutes: i32, at: NaiveTime) -> DateTime<Utc> {
    let Some(local) = to_local(now, tz_offset_minutes) else { return now };
    let at = at.with_nanosecond(0).unwrap_or(at);
    let today = local.date().and_time(at);
    let when = if today > local { today } else { today + Duration::days(1) };
    from_local(when, tz_offset_minutes).unwrap_or(now)
}

/// When the next notice of a large batch may go out: `per_window` notices per `window`, so the
/// notice after `already_scheduled_in_window` others waits `already / per_window` windows.
pub fn spread(
    now: DateTime<Utc>,
    already_scheduled_in_window: u32,
    per_window: u32,
    window: Duration,
) -> DateTime<Utc> {
    let per = per_window.max(1);
    let slot = i32::try_from(already_scheduled_in_window / per).unwrap_or(i32::MAX);
    let delay = window.checked_mul(slot).unwrap_or(Duration::days(1)).max(Duration::zero());
    now.checked_add_signed(delay).unwrap_or(now)
}

/// An error for a bad notice kind or language in a path or form.
pub fn unknown(what: &str, value: &str) -> DomainError {
    DomainError::new(ErrorCode::NotFound, format!("unknown {what}: {value}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }
    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn every_default_template_is_valid_and_renders_its_sample() {
        for k in NoticeKind::ALL {
            for l in Lang::ALL {
                let tp = default_template(*k, *l);
                validate(*k, &tp).unwrap_or_else(|e| panic!("{k} {l}: {e}"));
                let r = render(&tp, &sample_vars(*k, *l));
                assert!(!r.subject.is_empty());
                assert!(!r.text.contains("{{"), "{k} {l}: {}", r.text);
                if *k != NoticeKind::Digest {
                    assert!(r.subject.contains("MR-7Q4K-2D"), "{k} {l} subject names the reference");
                    assert!(r.text.contains("MR-7Q4K-2D"));
                }
                if *l == Lang::ZhCn {
                    assert!(r.subject.contains("收发室") || r.text.contains("收发室"));
                }
            }
        }
    }

    #[test]
    fn arrival_names_code_pickup_code_and_place() {
        for l in Lang::ALL {
            let r = render(&default_template(NoticeKind::Arrival, *l), &sample_vars(NoticeKind::Arrival, *l));
            for v in ["reference", "pickup_code", "site", "location"] {
                let val = &sample_vars(NoticeKind::Arrival, *l)[v];
                assert!(r.text.contains(val.as_str()), "{l} arrival lacks {v}");
            }
        }
    }

    #[test]
    fn confidential_arrival_never_names_sender_or_contents() {
        for l in Lang::ALL {
            let tp = default_template(NoticeKind::ConfidentialArrival, *l);
            for s in SENSITIVE_VARS {
                assert!(!tp.body.contains(s) && !tp.subject.contains(s), "{s}");
                assert!(!allowed_vars(NoticeKind::ConfidentialArrival).contains(s));
            }
            // Even if the caller passes every value, none of the sensitive ones appear.
            let mut all = sample_vars(NoticeKind::Arrival, *l);
            all.insert("sender", "SECRET SENDER".into());
            let r = render(&tp, &all);
            assert!(!r.text.contains("SECRET SENDER"));
            assert!(!r.text.contains(all["carrier"].as_str()));
            assert!(!r.text.contains(all["tracking_number"].as_str()));
        }
        let bad = Template { subject: "x".into(), body: "from {{sender}}".into() };
        let e = validate(NoticeKind::ConfidentialArrival, &bad).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("body"));
        assert!(e.message.contains("{{sender}}"), "{}", e.message);
        assert!(validate(NoticeKind::Arrival, &bad).is_ok());
    }

    #[test]
    fn validation_errors_name_the_problem() {
        let k = NoticeKind::Arrival;
        let v = |s: &str, b: &str| validate(k, &Template { subject: s.into(), body: b.into() });
        assert!(v("Hi {{reference}}", "Body {{ pickup_code }}").is_ok());
        let e = v("Hi {{nope}}", "b").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("subject"));
        assert!(e.message.contains("unknown variable {{nope}}"));
        let e = v("s", "line\nand {{reference").unwrap_err();
        assert!(e.message.contains("line 2"), "{}", e.message);
        assert!(v("", "b").is_err());
        assert!(v("a\nb", "b").is_err());
        assert!(v("s", " ").is_err());
        assert!(v("s", "{{}}").is_err());
        assert!(v(&"x".repeat(201), "b").is_err());
        let e = v("s", "{{items}}").unwrap_err();
        assert!(e.message.contains("not available in arrival"), "{}", e.message);
        assert_eq!(vars_used("{{a}} {{ b }} {{a}}"), vec!["a", "b"]);
    }

    #[test]
    fn render_escapes_html_and_drops_empty_lines() {
        let tp = Template {
            subject: "Item {{reference}}".into(),
            body: "Hello {{recipient_name}}\nCarrier: {{carrier}} {{tracking_number}}\n\nBye".into(),
        };
        let mut vars = BTreeMap::new();
        vars.insert("reference", "R1\r\nBcc: x@y".to_string());
        vars.insert("recipient_name", "<b>Ann & \"Bob\"</b>".to_string());
        let r = render(&tp, &vars);
        assert_eq!(r.subject, "Item R1  Bcc: x@y");
        assert_eq!(r.text, "Hello <b>Ann & \"Bob\"</b>\n\nBye\n");
        assert!(!r.text.contains("Carrier"));
        assert_eq!(r.html, "<p>Hello &lt;b&gt;Ann &amp; &quot;Bob&quot;&lt;/b&gt;</p>\n<p>Bye</p>\n");
    }

    #[test]
    fn lang_parsing() {
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("zh"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("en-GB"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
        assert!(Lang::parse_field("lang", "de").is_err());
        assert_eq!(serde_json::to_string(&Lang::ZhCn).unwrap(), "\"zh-CN\"");
        for l in Lang::ALL {
            assert_eq!(Lang::parse(l.as_str()), Some(*l));
        }
        assert_eq!(EndpointKind::parse("wecom"), Some(EndpointKind::WeCom));
    }

    #[test]
    fn quiet_hours_same_day_and_wrapping() {
        // Shanghai (UTC+8), quiet 22:00–07:00.
        let q = Some(QuietHours { start: t(22, 0), end: t(7, 0) });
        // 23:30 local = 15:30 UTC → 07:00 local next day = 23:00 UTC same day.
        assert_eq!(next_allowed(utc(2026, 3, 2, 15, 30), 480, q), utc(2026, 3, 2, 23, 0));
        // 03:00 local = 19:00 UTC previous day → 07:00 local same day = 23:00 UTC.
        assert_eq!(next_allowed(utc(2026, 3, 2, 19, 0), 480, q), utc(2026, 3, 2, 23, 0));
        // 12:00 local: allowed now.
        assert_eq!(next_allowed(utc(2026, 3, 2, 4, 0), 480, q), utc(2026, 3, 2, 4, 0));
        // Exactly at the end: allowed.
        assert_eq!(next_allowed(utc(2026, 3, 2, 23, 0), 480, q), utc(2026, 3, 2, 23, 0));
        // Lunch quiet hours 12:00–13:30 in UTC.
        let q = Some(QuietHours { start: t(12, 0), end: t(13, 30) });
        assert_eq!(next_allowed(utc(2026, 3, 2, 12, 10), 0, q), utc(2026, 3, 2, 13, 30));
        assert_eq!(next_allowed(utc(2026, 3, 2, 11, 59), 0, q), utc(2026, 3, 2, 11, 59));
        // Empty range and none.
        let q = Some(QuietHours { start: t(9, 0), end: t(9, 0) });
        assert_eq!(next_allowed(utc(2026, 3, 2, 9, 0), 0, q), utc(2026, 3, 2, 9, 0));
        assert_eq!(next_allowed(utc(2026, 3, 2, 9, 0), 0, None), utc(2026, 3, 2, 9, 0));
    }

    #[test]
    fn digest_times() {
        // 08:00 Shanghai = 00:00 UTC.
        assert_eq!(next_digest_at(utc(2026, 3, 2, 15, 0), 480, t(8, 0)), utc(2026, 3, 3, 0, 0));
        assert_eq!(next_digest_at(utc(2026, 3, 1, 23, 59), 480, t(8, 0)), utc(2026, 3, 2, 0, 0));
        // Exactly at the time: the next day.
        assert_eq!(next_digest_at(utc(2026, 3, 2, 0, 0), 480, t(8, 0)), utc(2026, 3, 3, 0, 0));
    }

    #[test]
    fn spreading() {
        let now = utc(2026, 3, 2, 9, 0);
        let w = Duration::minutes(1);
        assert_eq!(spread(now, 0, 50, w), now);
        assert_eq!(spread(now, 49, 50, w), now);
        assert_eq!(spread(now, 50, 50, w), now + w);
        assert_eq!(spread(now, 250, 50, w), now + Duration::minutes(5));
        assert_eq!(spread(now, 3, 0, w), now + Duration::minutes(3));
        // Huge values do not overflow.
        assert!(spread(now, u32::MAX, 1, Duration::days(365)) >= now);
    }

    fn any_kind() -> impl Strategy<Value = NoticeKind> {
        (0..NoticeKind::ALL.len()).prop_map(|i| NoticeKind::ALL[i])
    }

    proptest! {
        #[test]
        fn render_never_panics(subject in ".{0,80}", body in "(.|\n){0,300}", val in "(.|\n){0,40}") {
            let mut vars = BTreeMap::new();
            for (v, _) in VARS { vars.insert(*v, val.clone()); }
            let r = render(&Template { subject, body }, &vars);
            prop_assert!(!r.subject.contains('\n'));
            prop_assert!(!r.html.contains('<') || r.html.contains("<p>"));
            prop_assert!(!r.html.contains("<script"));
        }

        #[test]
        fn templated_values_are_escaped(val in "[<>&\"' a-z]{0,30}") {
            let mut vars = BTreeMap::new();
            vars.insert("reference", val);
            let r = render(&Template { subject: "s".into(), body: "x {{reference}} y".into() }, &vars);
            let inner = r.html.trim_start_matches("<p>").trim_end_matches("</p>\n");
            prop_assert!(!inner.contains('<') && !inner.contains('>') && !inner.contains('"'));
        }

        #[test]
        fn confidential_templates_cannot_name_sensitive_vars(
            prefix in "[a-z ]{0,20}", i in 0..SENSITIVE_VARS.len(), sp in " {0,2}", in_subject: bool,
        ) {
            let ph = format!("{prefix}{{{{{sp}{}{sp}}}}}", SENSITIVE_VARS[i]);
            let tp = if in_subject {
                Template { subject: ph, body: "b".into() }
            } else {
                Template { subject: "s".into(), body: ph }
            };
            prop_assert!(validate(NoticeKind::ConfidentialArrival, &tp).is_err());
        }

        #[test]
        fn validated_templates_only_name_allowed_vars(k in any_kind(), body in "[a-z{} _]{0,60}") {
            let tp = Template { subject: "s".into(), body };
            if validate(k, &tp).is_ok() {
                for v in vars_used(&tp.body) {
                    prop_assert!(allowed_vars(k).contains(&v.as_str()));
                }
            }
        }

        #[test]
        fn next_allowed_is_never_inside_quiet_hours(
            secs in 0i64..(4 * 366 * 86_400), offset in -720i32..=840,
            sh in 0u32..24, sm in 0u32..60, eh in 0u32..24, em in 0u32..60,
        ) {
            let now = utc(2025, 1, 1, 0, 0) + Duration::seconds(secs);
            let q = QuietHours { start: t(sh, sm), end: t(eh, em) };
            let at = next_allowed(now, offset, Some(q));
            prop_assert!(at >= now);
            prop_assert!(at - now <= Duration::days(1));
            let local = (at.naive_utc() + Duration::minutes(i64::from(offset))).time();
            prop_assert!(!q.contains(local), "{at} local {local} inside {q:?}");
            if !q.contains((now.naive_utc() + Duration::minutes(i64::from(offset))).time()) {
                prop_assert_eq!(at, now);
            }
        }

        #[test]
        fn digest_is_within_a_day_and_at_the_time(
            secs in 0i64..(4 * 366 * 86_400), offset in -720i32..=840, h in 0u32..24, m in 0u32..60,
        ) {
            let now = utc(2025, 1, 1, 0, 0) + Duration::seconds(secs);
            let at = next_digest_at(now, offset, t(h, m));
            prop_assert!(at > now && at - now <= Duration::days(1));
            let local = (at.naive_utc() + Duration::minutes(i64::from(offset))).time();
            prop_assert_eq!(local, t(h, m));
        }

        #[test]
        fn spread_is_monotonic(a in 0u32..100_000, b in 0u32..100_000, per in 0u32..500) {
            let now = utc(2026, 1, 1, 0, 0);
            let w = Duration::seconds(60);
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(spread(now, lo, per, w) <= spread(now, hi, per, w));
        }
    }
}
