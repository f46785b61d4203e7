//! Demo data: a Shanghai company and a hospital, with sites, locations, departments,
//! about 200 people and items in every state. Seeding is idempotent.

use crate::directory::{DepartmentInput, LocationInput, PersonInput};
use crate::items::{HandoverInput, RecipientInput, RegisterItemInput, SenderInput, SignatureInput, TransitionInput};
use crate::sending::{
    AcceptInput, BatchInput, DecisionInput, HandOverInput, MailingParams, OutboundRequest, ReceiptInput, ScanInput,
};
use crate::{App, AppResult, Principal, RequestCtx};
use base64::Engine;
use chrono::{DateTime, Datelike, Utc};
use mailroom_domain::auth::Role;
use mailroom_domain::customs;
use mailroom_domain::ids::{DepartmentId, ItemId, LocationId, PersonId, SiteId};
use mailroom_domain::postage::{Method, Money, RateRow, Zone};
use mailroom_store::Person;
use mailroom_store::models::OutboundFilter;
use serde_json::{Value, json};
use uuid::Uuid;

/// The password of every demo login.
pub const DEMO_PASSWORD: &str = "mailroom-demo";

/// Demo logins: (tenant slug, login, role).
pub const DEMO_LOGINS: &[(&str, &str, &str)] = &[
    ("operator", "admin", "operator_admin"),
    ("operator", "clerk", "staff"),
    ("demo", "admin", "admin"),
    ("demo", "supervisor", "supervisor"),
    ("demo", "clerk", "staff"),
    ("demo", "finance", "finance"),
    ("demo", "service", "customer_service"),
    ("demo", "auditor", "auditor"),
    ("demo", "employee", "employee"),
    ("demo-hospital", "admin", "admin"),
    ("demo-hospital", "clerk", "staff"),
    ("demo-hospital", "employee", "employee"),
];

/// The operator's own organisation in the demo: its administrator acts in every organisation;
/// its clerk is assigned to both demo organisations (at one site of the company).
const OPERATOR_SLUG: &str = "operator";
const OPERATOR_NAME: &str = "上海捷达收发服务有限公司 Shanghai Jieda Mailroom Services";

const SURNAMES: &[(&str, &str)] = &[
    ("张", "Zhang"),
    ("王", "Wang"),
    ("李", "Li"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Yang"),
    ("赵", "Zhao"),
    ("黄", "Huang"),
    ("周", "Zhou"),
    ("吴", "Wu"),
    ("徐", "Xu"),
    ("孙", "Sun"),
    ("胡", "Hu"),
    ("朱", "Zhu"),
    ("高", "Gao"),
    ("林", "Lin"),
    ("何", "He"),
    ("郭", "Guo"),
    ("马", "Ma"),
    ("罗", "Luo"),
];
const GIVEN: &[(&str, &str)] = &[
    ("伟杰", "Weijie"),
    ("芳", "Fang"),
    ("娜", "Na"),
    ("敏", "Min"),
    ("静", "Jing"),
    ("秀英", "Xiuying"),
    ("丽", "Li"),
    ("强", "Qiang"),
    ("磊", "Lei"),
    ("军", "Jun"),
    ("洋", "Yang"),
    ("勇", "Yong"),
    ("艳", "Yan"),
    ("杰", "Jie"),
    ("娟", "Juan"),
    ("涛", "Tao"),
    ("明", "Ming"),
    ("超", "Chao"),
    ("秀兰", "Xiulan"),
    ("霞", "Xia"),
    ("平", "Ping"),
    ("刚", "Gang"),
    ("建华", "Jianhua"),
    ("晓东", "Xiaodong"),
];
const WESTERN: &[&str] = &[
    "Emily Carter",
    "James O'Brien",
    "Sophie Müller",
    "Lucas Martin",
    "Olivia Brown",
    "Daniel Kim",
    "Hannah Schmidt",
    "Noah Williams",
    "Chloé Dubois",
    "Mateo García",
    "Yuki Tanaka",
    "Priya Sharma",
    "Ahmed Hassan",
    "Anna Kowalska",
];

const SIGNATURE_SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"300\" height=\"100\"><path d=\"M10 70 C 40 10, 65 10, 95 70 S 150 130, 180 60 S 250 20, 290 50\" stroke=\"#123\" fill=\"none\" stroke-width=\"3\"/></svg>";

struct TenantSpec {
    slug: &'static str,
    name: &'static str,
    sites: &'static [(&'static str, &'static str)],
    departments: &'static [(&'static str, &'static str, &'static str, Option<&'static str>)],
    people: usize,
    email_domain: &'static str,
    senders: &'static [(&'static str, &'static str, &'static str)],
}

const COMPANY: TenantSpec = TenantSpec {
    slug: "demo",
    name: "上海明远科技有限公司 Shanghai Mingyuan Technology Co., Ltd.",
    sites: &[
        ("浦东总部 Pudong HQ", "上海市浦东新区世纪大道100号"),
        ("徐汇研发中心 Xuhui R&D Centre", "上海市徐汇区漕溪北路88号"),
    ],
    departments: &[
        ("FIN", "财务部", "Finance", None),
        ("CS", "客户服务部", "Customer Service", None),
        ("LEGAL", "法务部", "Legal", None),
        ("RND", "研究部", "Research", None),
        ("RND-X", "X课题组", "Research Group X", Some("RND")),
        ("HR", "人力资源部", "Human Resources", None),
        ("IT", "信息技术部", "IT", None),
    ],
    people: 130,
    email_domain: "mingyuan.example.cn",
    senders: &[
        ("中国工商银行上海分行", "ICBC Shanghai Branch", "CN"),
        ("德勤华永会计师事务所", "Deloitte Huayong", "CN"),
        ("Siemens AG", "Siemens AG", "DE"),
        ("上海市税务局", "Shanghai Tax Bureau", "CN"),
        ("Acme Components Ltd", "Acme Components Ltd", "GB"),
    ],
};

const HOSPITAL: TenantSpec = TenantSpec {
    slug: "demo-hospital",
    name: "上海东方联合医院 Shanghai Oriental United Hospital",
    sites: &[("本部 Main Campus", "上海市黄浦区瑞金二路197号"), ("南院 South Campus", "上海市闵行区江月路2000号")],
    departments: &[
        ("CARD", "心内科", "Cardiology", None),
        ("ONC", "肿瘤科", "Oncology", None),
        ("PHARM", "药剂科", "Pharmacy", None),
        ("FIN", "财务处", "Finance", None),
        ("ADMIN", "院办", "Hospital Administration", None),
        ("CS", "医患关系办公室", "Patient Relations", None),
        ("RND", "科研处", "Research Office", None),
    ],
    people: 70,
    email_domain: "oriental-hospital.example.cn",
    senders: &[
        ("复星医药", "Fosun Pharma", "CN"),
        ("上海市卫生健康委员会", "Shanghai Health Commission", "CN"),
        ("Roche Diagnostics", "Roche Diagnostics", "CH"),
        ("中华医学会", "Chinese Medical Association", "CN"),
    ],
};

impl App {
    /// Seeds the demo tenants unless they exist. Returns true when something was created.
    pub async fn seed_demo(&self) -> AppResult<bool> {
        let mut created = false;
        for spec in [&COMPANY, &HOSPITAL] {
            let fresh = self.store.tenant_by_slug(spec.slug).await?.is_none();
            if fresh {
                self.seed_tenant(spec).await?;
            }
            // Postage and outbound mail, also into a demo seeded before they existed.
            created |= self.seed_outbound(spec).await?;
            if !fresh {
                continue;
            }
            // The demo's history is not news: notices start with what happens after seeding.
            if let Some(t) = self.store.tenant_by_slug(spec.slug).await? {
                let (head, _) = self.store.custody_head(t.id).await?;
                self.store.advance_notify_cursor(t.id, head, chrono::Utc::now()).await?;
            }
            created = true;
        }
        created |= self.seed_company_roles().await?;
        created |= self.seed_operator().await?;
        Ok(created)
    }

    /// Creates a demo user unless the login exists. Returns true when it was created.
    async fn seed_user(
        &self,
        t: mailroom_domain::ids::TenantId,
        login: &str,
        name: &str,
        role: Role,
        person: Option<PersonId>,
    ) -> AppResult<bool> {
        if self.store.user_by_login(t, login).await?.is_some() {
            return Ok(false);
        }
        self.create_user(t, login, name, DEMO_PASSWORD, role, person).await?;
        Ok(true)
    }

    /// The company's supervisor, finance, customer service and auditor logins; finance and
    /// customer service are people of their departments, so they also get their departments' mail.
    async fn seed_company_roles(&self) -> AppResult<bool> {
        let Some(t) = self.store.tenant_by_slug(COMPANY.slug).await? else { return Ok(false) };
        let mut created = false;
        let member_of = |code: &'static str| async move {
            let Some(d) = self.store.department_by_code(t.id, code).await? else { return AppResult::Ok(None) };
            let people = self.store.search_people(t.id, "", None, 1000).await?;
            AppResult::Ok(people.into_iter().find(|p| p.department_id == Some(d.id) && p.active).map(|p| p.id))
        };
        let finance = member_of("FIN").await?;
        let service = member_of("CS").await?;
        let users = [
            ("supervisor", "收发室主管 Mailroom supervisor", Role::Supervisor, None),
            ("finance", "财务 Finance", Role::Finance, finance),
            ("service", "客服 Customer service", Role::CustomerService, service),
            ("auditor", "审计 Auditor", Role::Auditor, None),
        ];
        for (login, name, role, person) in users {
            created |= self.seed_user(t.id, login, name, role, person).await?;
        }
        Ok(created)
    }

    /// The operator's organisation, its administrator, and its clerk assigned to both demo
    /// organisations (limited to the company's first site).
    async fn seed_operator(&self) -> AppResult<bool> {
        let (op, mut created) = match self.store.tenant_by_slug(OPERATOR_SLUG).await? {
            Some(t) => (t, false),
            None => (self.create_tenant(OPERATOR_SLUG, OPERATOR_NAME).await?, true),
        };
        created |=
            self.seed_user(op.id, "admin", "运营管理员 Operator administrator", Role::OperatorAdmin, None).await?;
        created |= self.seed_user(op.id, "clerk", "驻场收发员 On-site mailroom clerk", Role::Staff, None).await?;
        for spec in [&COMPANY, &HOSPITAL] {
            let Some(t) = self.store.tenant_by_slug(spec.slug).await? else { continue };
            let Some(clerk) = self.store.user_by_login(op.id, "clerk").await? else { continue };
            if self.store.assignment(t.id, clerk.id).await?.is_some() {
                continue;
            }
            let site = if spec.slug == COMPANY.slug {
                self.store.list_sites(t.id).await?.into_iter().find(|s| s.name == spec.sites[0].0).map(|s| s.id)
            } else {
                None
            };
            let input = crate::tenancy::AssignmentInput {
                tenant: OPERATOR_SLUG.into(),
                login: "clerk".into(),
                role: Role::Staff.as_str().into(),
                site_id: site,
            };
            self.assign_in(t.id, &input).await?;
            created = true;
        }
        Ok(created)
    }

    async fn seed_tenant(&self, spec: &TenantSpec) -> AppResult<()> {
        let tenant = self.create_tenant(spec.slug, spec.name).await?;
        let admin_user =
            self.create_user(tenant.id, "admin", "管理员 Administrator", DEMO_PASSWORD, Role::Admin, None).await?;
        let admin = Principal {
            tenant_id: tenant.id,
            home_tenant_id: tenant.id,
            user_id: admin_user.id,
            login: admin_user.login.clone(),
            display_name: admin_user.display_name.clone(),
            role: Role::Admin,
            person_id: None,
            department_id: None,
            clearance: 3,
            site_id: None,
        };
        // The demo administrator and clerk are cleared for strictly confidential items.
        self.store.set_user_clearance(tenant.id, admin_user.id, 3).await?;
        let ctx = RequestCtx { source: "demo-seed".into(), request_id: "demo-seed".into() };
        let mut locations: Vec<(LocationId, i64)> = Vec::new();
        for (i, (name, addr)) in spec.sites.iter().enumerate() {
            let site = self.create_site(&admin, &ctx, name, Some(addr)).await?;
            let prefix = if i == 0 { "A" } else { "B" };
            let locs: [(String, String, &str, i64); 6] = [
                (format!("{prefix}-S1"), "货架 1 Shelf 1".into(), "shelf", 0),
                (format!("{prefix}-S2"), "货架 2 Shelf 2".into(), "shelf", 0),
                (format!("{prefix}-S3"), "大件区 Bulky items".into(), "shelf", 0),
                (format!("{prefix}-L01"), "智能柜 01 Locker 01".into(), "locker", 1),
                (format!("{prefix}-L02"), "智能柜 02 Locker 02".into(), "locker", 1),
                (format!("{prefix}-SEC"), "保密室 Secure room".into(), "secure_room", 3),
            ];
            for (code, lname, kind, level) in locs {
                let l = self
                    .create_location(
                        &admin,
                        &ctx,
                        &LocationInput {
                            site_id: site.id,
                            code,
                            name: lname,
                            kind: Some(kind.into()),
                            security_level: Some(level),
                        },
                    )
                    .await?;
                locations.push((l.id, level));
            }
        }
        let mut depts: Vec<(&str, DepartmentId)> = Vec::new();
        for (code, name, en, parent) in spec.departments {
            let parent_id = parent.and_then(|p| depts.iter().find(|(c, _)| *c == p).map(|(_, id)| *id));
            let d = self
                .create_department(
                    &admin,
                    &ctx,
                    &DepartmentInput {
                        code: code.to_string(),
                        name: name.to_string(),
                        name_en: Some(en.to_string()),
                        kind: Some(if parent.is_some() { "team" } else { "department" }.into()),
                        parent_id,
                        key_contact_id: None,
                        email: None,
                    },
                )
                .await?;
            depts.push((code, d.id));
        }
        let mut people: Vec<Person> = Vec::new();
        for i in 0..spec.people {
            let dept = depts[i % depts.len()].1;
            let (name, latin, email_local) = if i % 7 == 6 {
                let w = WESTERN[(i / 7) % WESTERN.len()];
                let local =
                    w.to_lowercase().replace(['\'', ' '], ".").replace('ü', "u").replace('é', "e").replace('í', "i");
                (w.to_string(), None, format!("{local}{i}"))
            } else {
                let (s, sp) = SURNAMES[i % SURNAMES.len()];
                let (g, gp) = GIVEN[(i / SURNAMES.len() + i) % GIVEN.len()];
                (
                    format!("{s}{g}"),
                    Some(format!("{sp} {gp}")),
                    format!("{}.{}{i}", gp.to_lowercase(), sp.to_lowercase()),
                )
            };
            let left = i % 41 == 40;
            let p = self
                .create_person(
                    &admin,
                    &ctx,
                    &PersonInput {
                        name,
                        name_latin: latin,
                        aliases: vec![],
                        employee_no: Some(format!("{}{:04}", if spec.slug == "demo" { "E" } else { "H" }, i + 1)),
                        department_id: Some(dept),
                        email: Some(format!("{email_local}@{}", spec.email_domain)),
                        phone: Some(format!("+86 138 {:04} {:04}", 1000 + i, 2000 + i * 3)),
                        active: Some(!left),
                        forwarding: left
                            .then(|| "已离职，邮件转交部门负责人 Left: forward to the department head".to_string()),
                    },
                )
                .await?;
            // A few people chose how they hear of their mail; everyone else has the defaults
            // (Chinese, by e-mail, at once).
            let chosen = match i % 13 {
                _ if i % 7 == 6 => Some(("en", None, false)),
                5 => Some(("zh-CN", None, true)),
                9 => Some(("zh-CN", Some(("22:00", "07:30")), false)),
                _ => None,
            };
            if let (Some((lang, quiet, digest)), true) = (chosen, !left) {
                let input = crate::notify_settings::PreferencesInput {
                    lang: lang.to_string(),
                    email: true,
                    sms: false,
                    robot: false,
                    quiet_start: quiet.map(|q: (&str, &str)| q.0.to_string()),
                    quiet_end: quiet.map(|q| q.1.to_string()),
                    digest,
                    digest_at: digest.then(|| "08:30".to_string()),
                };
                self.save_notification_preferences(&admin, &ctx, p.id, &input).await?;
            }
            people.push(p);
        }
        // Department key contacts.
        for (code, id) in &depts {
            if let (Some(d), Some(kc)) = (
                self.store.department(tenant.id, *id).await?,
                people.iter().find(|p| p.department_id == Some(*id) && p.active),
            ) {
                let mut d = d;
                d.key_contact_id = Some(kc.id);
                self.store.upsert_department(&d).await?;
            }
            let _ = code;
        }
        let employee_person = people.first().map(|p| p.id);
        let clerk =
            self.create_user(tenant.id, "clerk", "收发室 Mailroom clerk", DEMO_PASSWORD, Role::Staff, None).await?;
        self.store.set_user_clearance(tenant.id, clerk.id, 3).await?;
        self.create_user(tenant.id, "employee", "员工 Employee", DEMO_PASSWORD, Role::Employee, employee_person)
            .await?;
        if spec.slug == COMPANY.slug {
            // The company's rules: the default pack with its key partners and who answers for them.
            let source = mailroom_domain::rules::DEFAULT_PACK.replace(
                "key_partners = []",
                "key_partners = [\n  { org = \"Acme Components Ltd\", aliases = [\"艾克美\"], responsible = \"E0003\" },\n  \
                 { org = \"Siemens AG\", aliases = [\"西门子\"], responsible = \"E0004\" },\n]",
            );
            self.save_rules(&admin, &ctx, &crate::rules::RulesInput { source }).await?;
        }
        self.seed_items(&admin, &ctx, spec, &people, &depts, &locations, employee_person).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn seed_items(
        &self,
        admin: &Principal,
        ctx: &RequestCtx,
        spec: &TenantSpec,
        people: &[Person],
        depts: &[(&str, DepartmentId)],
        locations: &[(LocationId, i64)],
        employee: Option<PersonId>,
    ) -> AppResult<()> {
        let kinds = ["letter", "parcel", "document", "parcel", "package", "letter"];
        let carriers =
            [("sf-express", "SF"), ("ems", "EA"), ("jd", "JD"), ("ups", "1Z"), ("dhl", "JJD"), ("yto", "YT")];
        let paths: &[&[&str]] = &[
            &[],
            &["store"],
            &["store", "notify"],
            &["store", "notify", "out_for_delivery"],
            &["store", "notify", "out_for_delivery", "deliver"],
            &["store", "notify", "ready_for_pickup"],
            &["store", "notify", "ready_for_pickup", "pick_up"],
            &["store", "hold"],
            &["store", "return_to_sender"],
            &["store", "forward"],
        ];
        let sig =
            format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(SIGNATURE_SVG));
        let open_locs: Vec<LocationId> = locations.iter().filter(|(_, l)| *l == 0).map(|(id, _)| *id).collect();
        let secure = locations.iter().find(|(_, l)| *l >= 3).map(|(id, _)| *id);
        let n = 60;
        for i in 0..n {
            let (carrier, prefix) = carriers[i % carriers.len()];
            let (sname, sorg, country) = spec.senders[i % spec.senders.len()];
            let to_dept = i % 9 == 4;
            let recipient = if i % 5 == 0 {
                RecipientInput { person_id: employee, department_id: None, text: None }
            } else if to_dept {
                RecipientInput { person_id: None, department_id: Some(depts[i % depts.len()].1), text: None }
            } else {
                RecipientInput { person_id: Some(people[(i * 7) % people.len()].id), department_id: None, text: None }
            };
            let confidential = i % 8 == 3;
            let damaged = i % 13 == 7;
            let input = RegisterItemInput {
                tracking_number: Some(format!(
                    "{prefix}{:010}",
                    5_100_000_000u64 + (i as u64) * 7919 + spec.people as u64
                )),
                recipient,
                kind: Some(kinds[i % kinds.len()].into()),
                category: Some(
                    ["general", "contract", "invoice", "customer_correspondence", "bank_statement", "conference"]
                        [i % 6]
                        .into(),
                ),
                priority: Some(["normal", "normal", "high", "urgent"][i % 4].into()),
                confidentiality: Some(if confidential { "confidential" } else { "internal" }.into()),
                carrier: Some(carrier.into()),
                sender: Some(SenderInput {
                    name: Some(sname.into()),
                    organisation: Some(sorg.into()),
                    address: None,
                    country: Some(country.into()),
                }),
                condition: Some(if damaged { "damaged" } else { "intact" }.into()),
                damage_description: damaged.then(|| "外箱一角压损 Corner of the box crushed".to_string()),
                notes: (i % 4 == 1).then(|| format!("演示备注 demo note {i}")),
                seal_number: confidential.then(|| format!("SEAL-{:06}", 100_000 + i)),
                site_id: None,
                details_pending: None,
            };
            let reg = self.register_item(admin, ctx, &input, None).await?;
            let path = paths[i % paths.len()];
            let loc = if confidential { secure } else { open_locs.get(i % open_locs.len().max(1)).copied() };
            for action in path {
                let (handover, signature) = if matches!(*action, "deliver" | "pick_up") {
                    (
                        Some(HandoverInput {
                            taken_by: reg.item.recipient_name.clone(),
                            taken_by_person_id: reg.item.recipient_person_id,
                            place: Some(if *action == "deliver" { "前台 Reception" } else { "收发室 Mailroom" }.into()),
                            id_type: Some("staff_card".into()),
                            id_last_digits: Some(format!("{:04}", 1000 + i)),
                        }),
                        Some(SignatureInput { data: sig.clone() }),
                    )
                } else {
                    (None, None)
                };
                let note = matches!(*action, "hold" | "return_to_sender" | "forward").then(|| match *action {
                    "hold" => "收件人出差，暂存 Recipient travelling: hold".to_string(),
                    "return_to_sender" => "收件人不详，退回 Unknown recipient: return".to_string(),
                    _ => "转寄至徐汇研发中心 Forward to Xuhui R&D Centre".to_string(),
                });
                let t = TransitionInput {
                    action: action.to_string(),
                    location_id: if *action == "store" { loc } else { None },
                    note,
                    handover,
                    signature,
                    seal_number: reg.item.seal_number.clone(),
                    ..Default::default()
                };
                self.transition(admin, ctx, reg.item.id, &t).await?;
            }
        }
        Ok(())
    }
}

impl App {
    /// Loads `n` synthetic received items (with their custody events) into a tenant, in large
    /// transactions. For benchmarks and capacity tests; the tenant needs people in its directory.
    pub async fn seed_bulk(&self, tenant_slug: &str, n: u64) -> AppResult<u64> {
        use mailroom_domain::custody::{Actor, storage_time};
        use mailroom_domain::ids::ItemId;
        use mailroom_domain::item::*;
        let t = self.store.tenant_by_slug(tenant_slug).await?.ok_or_else(|| crate::AppError::not_found("tenant"))?;
        let mut people = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.search_people(t.id, "", after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            people.extend(page);
        }
        if people.is_empty() {
            return Err(mailroom_domain::DomainError::invalid(
                "tenant",
                "the organisation has no people to address items to",
            )
            .into());
        }
        let actor = Actor::system("seed", "seed-bulk");
        let batch = 5000u64;
        let mut done = 0u64;
        let salt = u64::from_le_bytes(crate::random_bytes::<8>()?);
        while done < n {
            let k = batch.min(n - done);
            let mut items = Vec::with_capacity(k as usize);
            for j in 0..k {
                let i = done + j;
                let person = &people[(i as usize * 31) % people.len()];
                let now = storage_time(chrono::Utc::now());
                let bits = (salt.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15))) & ((1 << 40) - 1);
                let item = mailroom_store::Item {
                    id: ItemId::new(),
                    tenant_id: t.id,
                    site_id: None,
                    reference: mailroom_domain::reference::from_bits(bits),
                    kind: ItemKind::Parcel,
                    category: Category::General,
                    priority: Priority::Normal,
                    confidentiality: Confidentiality::Internal,
                    carrier: Some("sf-express".into()),
                    tracking_number: Some(format!("SFB{:012X}{:06}", salt & 0xFFFF_FFFF_FFFF, i)),
                    sender_name: Some(format!("Sender {}", i % 997)),
                    sender_org: None,
                    sender_address: None,
                    sender_country: Some("CN".into()),
                    recipient_person_id: Some(person.id),
                    recipient_department_id: None,
                    recipient_name: person.name.clone(),
                    condition: Condition::Intact,
                    damage_description: None,
                    notes: None,
                    seal_number: None,
                    status: Status::Received,
                    location_id: None,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                    route: None,
                    due_by: None,
                    details_pending: false,
                    redacted: false,
                };
                items.push(item);
            }
            self.store.bulk_register(items, &actor).await?;
            done += k;
        }
        Ok(done)
    }
}

/// The demo's rate table: (carrier, method, zone, bands of (up to grams, price in fen, fen per
/// started 500 g beyond the band's first 500 g)).
type Band = (u32, i64, Option<i64>);
const RATES: &[(&str, &str, &str, &[Band])] = &[
    ("china_post", "standard", "local", &[(20, 80, None), (100, 160, None), (2000, 500, Some(100))]),
    ("china_post", "standard", "domestic", &[(20, 120, None), (100, 240, None), (2000, 600, Some(200))]),
    ("china_post", "registered", "local", &[(20, 380, None), (100, 480, None), (2000, 1000, Some(200))]),
    ("china_post", "registered", "domestic", &[(20, 420, None), (100, 540, None), (2000, 1200, Some(300))]),
    ("china_post", "international", "hk_mo_tw", &[(20, 450, None), (100, 1100, None), (2000, 4500, Some(1000))]),
    ("china_post", "international", "asia", &[(20, 550, None), (100, 1500, None), (2000, 9500, Some(2000))]),
    ("china_post", "international", "world", &[(20, 650, None), (100, 1800, None), (2000, 14000, Some(3000))]),
    ("ems", "express", "domestic", &[(500, 2000, None), (30000, 2000, Some(600))]),
    ("ems", "express", "hk_mo_tw", &[(500, 9000, None), (30000, 9000, Some(2000))]),
    ("ems", "express", "asia", &[(500, 11500, None), (30000, 11500, Some(3000))]),
    ("ems", "express", "world", &[(500, 24000, None), (30000, 24000, Some(7500))]),
    ("sf_express", "express", "local", &[(1000, 1200, None), (30000, 1200, Some(200))]),
    ("sf_express", "express", "domestic", &[(1000, 2300, None), (30000, 2300, Some(800))]),
    ("sf_express", "express", "hk_mo_tw", &[(500, 5000, None), (30000, 5000, Some(1500))]),
    ("sf_express", "express", "asia", &[(500, 9000, None), (30000, 9000, Some(2500))]),
];

/// Outbound sends past this estimate (fen) wait for an approver in the demo: ¥200.
const APPROVAL_LIMIT: i64 = 20_000;

/// Cost centres: (code, department code, name, soft and hard monthly limits in yuan).
const COMPANY_COST_CENTRES: &[(&str, &str, &str, i64, i64)] = &[
    ("CC-FIN", "FIN", "财务部邮资 Finance postage", 1_500, 2_000),
    ("CC-CS", "CS", "客服部邮资 Customer Service postage", 3_000, 4_000),
    ("CC-LEGAL", "LEGAL", "法务部邮资 Legal postage", 2_000, 3_000),
    ("CC-RND", "RND", "研究部邮资 Research postage", 2_500, 4_000),
    ("CC-HR", "HR", "人力资源部邮资 Human Resources postage", 500, 800),
    ("CC-IT", "IT", "信息技术部邮资 IT postage", 800, 1_200),
];
const HOSPITAL_COST_CENTRES: &[(&str, &str, &str, i64, i64)] = &[
    ("CC-ADMIN", "ADMIN", "院办邮资 Administration postage", 1_500, 2_000),
    ("CC-FIN", "FIN", "财务处邮资 Finance postage", 800, 1_000),
    ("CC-RND", "RND", "科研处邮资 Research Office postage", 2_000, 3_000),
];

/// Survey recipients of the company's mailing: (name, street, district, city, region, postal code).
const SURVEY: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("王建国", "世纪大道100号", "浦东新区", "上海市", "上海市", "200120"),
    ("李秀英", "南京西路1266号", "静安区", "上海市", "上海市", "200040"),
    ("张伟", "建国门外大街1号", "朝阳区", "北京市", "北京市", "100004"),
    ("刘洋", "中关村大街27号", "海淀区", "北京市", "北京市", "100080"),
    ("陈静", "天河路208号", "天河区", "广州市", "广东省", "510620"),
    ("杨帆", "深南大道6008号", "福田区", "深圳市", "广东省", "518034"),
    ("赵磊", "文三路90号", "西湖区", "杭州市", "浙江省", "310012"),
    ("黄丽", "中山北路321号", "鼓楼区", "南京市", "江苏省", "210003"),
    ("周杰", "人民南路四段9号", "武侯区", "成都市", "四川省", "610041"),
    ("吴敏", "解放大道688号", "江汉区", "武汉市", "湖北省", "430022"),
    ("徐涛", "长江路300号", "南岗区", "哈尔滨市", "黑龙江省", "150001"),
    ("孙丽娟", "五四路158号", "鼓楼区", "福州市", "福建省", "350003"),
    ("胡明", "人民路50号", "姑苏区", "苏州市", "江苏省", "215005"),
    ("朱红", "中山路88号", "市南区", "青岛市", "山东省", "266001"),
    ("高峰", "小寨东路126号", "雁塔区", "西安市", "陕西省", "710061"),
    ("林小燕", "湖滨南路90号", "思明区", "厦门市", "福建省", "361004"),
    ("何平", "解放西路188号", "芙蓉区", "长沙市", "湖南省", "410011"),
    ("郭强", "和平路56号", "和平区", "天津市", "天津市", "300041"),
    ("马晓东", "中山路38号", "中山区", "大连市", "辽宁省", "116001"),
    ("罗佳", "解放碑民族路166号", "渝中区", "重庆市", "重庆市", "400010"),
];

/// A China Standard Time wall clock on the day `days` after today.
fn cst_at(now: DateTime<Utc>, days: i64, h: u32, m: u32) -> Option<DateTime<Utc>> {
    let cst = chrono::FixedOffset::east_opt(8 * 3600)?;
    let day = now.with_timezone(&cst).date_naive() + chrono::Duration::days(days);
    day.and_hms_opt(h, m, 0)?.and_local_timezone(cst).single().map(|t| t.with_timezone(&Utc))
}

/// 10:00 Asia/Shanghai on the next Tuesday (a week ahead on a Tuesday).
fn next_tuesday_10(now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let cst = chrono::FixedOffset::east_opt(8 * 3600)?;
    let wd = i64::from(now.with_timezone(&cst).weekday().num_days_from_monday());
    let ahead = (1 - wd).rem_euclid(7);
    cst_at(now, if ahead == 0 { 7 } else { ahead }, 10, 0)
}

fn json_input<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> AppResult<T> {
    serde_json::from_value(v).map_err(|e| crate::AppError::Internal(format!("demo input: {e}")))
}

/// A CN address in fields.
fn cn_address(name: &str, org: &str, street: &str, district: &str, city: &str, region: &str, postal: &str) -> Value {
    json!({"country": "CN", "fields": {"recipient": name, "organisation": org, "street": [street],
        "district": district, "city": city, "region": region, "postal_code": postal}})
}

/// What the outbound seeding works with in one organisation.
struct OutboundCtx<'a> {
    admin: &'a Principal,
    ctx: &'a RequestCtx,
    sdr: customs::RateTable,
    cost_centres: Vec<(String, Uuid)>,
    people: Vec<Person>,
    depts: Vec<(String, DepartmentId)>,
}

impl OutboundCtx<'_> {
    fn cc(&self, code: &str) -> AppResult<Uuid> {
        self.cost_centres
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, id)| *id)
            .ok_or_else(|| crate::AppError::Internal(format!("demo cost centre {code} is missing")))
    }

    /// The `nth` active person of a department.
    fn person(&self, dept: &str, nth: usize) -> AppResult<PersonId> {
        let d = self.depts.iter().find(|(c, _)| c == dept).map(|(_, id)| *id);
        let of: Vec<&Person> = self.people.iter().filter(|p| p.active && p.department_id == d).collect();
        of.get(nth % of.len().max(1))
            .map(|p| p.id)
            .ok_or_else(|| crate::AppError::Internal(format!("demo department {dept} has no one")))
    }
}

impl App {
    /// The administrator of a demo organisation, as the seeding acts.
    async fn demo_admin(&self, t: mailroom_domain::ids::TenantId) -> AppResult<Option<Principal>> {
        let Some(u) = self.store.user_by_login(t, "admin").await? else { return Ok(None) };
        Ok(Some(Principal {
            tenant_id: t,
            home_tenant_id: t,
            user_id: u.id,
            login: u.login.clone(),
            display_name: u.display_name.clone(),
            role: Role::Admin,
            person_id: None,
            department_id: None,
            clearance: 3,
            site_id: None,
        }))
    }

    /// Postage (rate table, accounts, cost centres) and outbound mail of a demo organisation, each
    /// part unless it is there. Returns true when something was created.
    async fn seed_outbound(&self, spec: &TenantSpec) -> AppResult<bool> {
        let Some(t) = self.store.tenant_by_slug(spec.slug).await? else { return Ok(false) };
        let Some(admin) = self.demo_admin(t.id).await? else { return Ok(false) };
        let ctx = RequestCtx { source: "demo-seed".into(), request_id: "demo-seed".into() };
        let mut created = false;
        if self.store.postage_rates(t.id).await?.is_empty() {
            let mut rows = Vec::new();
            for (carrier, method, zone, bands) in RATES {
                for (max, price, step) in *bands {
                    rows.push(RateRow {
                        carrier: carrier.to_string(),
                        method: Method::parse_field("method", method)?,
                        zone: Zone::parse_field("zone", zone)?,
                        max_weight_g: *max,
                        price: Money(*price),
                        step_price: step.map(Money),
                    });
                }
            }
            self.set_postage_rates(&admin, &ctx, crate::postage::Rates { rates: rows }).await?;
            created = true;
        }
        // One account per site with a month's franking, and one for the whole organisation.
        let sites = self.store.list_sites(t.id).await?;
        let accounts = self.store.postage_accounts(t.id).await?;
        let short = |name: &str| name.split_once(' ').map(|(zh, _)| zh.to_string()).unwrap_or_else(|| name.into());
        let mut wanted: Vec<(String, Option<SiteId>, i64, String)> = sites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let en = s.name.split_once(' ').map(|(_, en)| en).unwrap_or("");
                (
                    format!("{}邮资机 {en} franking machine", short(&s.name)),
                    Some(s.id),
                    if i == 0 { 800_000 } else { 300_000 },
                    format!("BT-{}-{:03}", spec.slug.to_uppercase(), 101 + i),
                )
            })
            .collect();
        wanted.push((
            "机构邮资总账户 Organisation postage account".into(),
            None,
            if spec.slug == COMPANY.slug { 2_000_000 } else { 1_000_000 },
            format!("BT-{}-100", spec.slug.to_uppercase()),
        ));
        for (name, site, amount, reference) in wanted {
            // A site (or the organisation) that has an account keeps it, whatever it is called now.
            if accounts.iter().any(|a| a.site_id == site.map(|s| s.0)) {
                continue;
            }
            let a = self
                .create_postage_account(&admin, &ctx, &crate::postage::AccountInput { name, site_id: site })
                .await?;
            let top_up = crate::postage::TopUpInput {
                amount,
                reference: Some(reference),
                note: Some("对公转账充值 Top-up by bank transfer".into()),
            };
            self.top_up(&admin, &ctx, a.id, &top_up).await?;
            created = true;
        }
        // Cost centres per department, with monthly limits and the approval limit.
        let depts: Vec<(String, DepartmentId)> =
            self.store.list_departments(t.id).await?.into_iter().map(|d| (d.code, d.id)).collect();
        let mut ccs: Vec<(String, Uuid)> =
            self.store.cost_centres(t.id).await?.into_iter().map(|c| (c.code, c.id)).collect();
        let list = if spec.slug == COMPANY.slug { COMPANY_COST_CENTRES } else { HOSPITAL_COST_CENTRES };
        for (code, dept, name, soft, hard) in list {
            if ccs.iter().any(|(c, _)| c == code) {
                continue;
            }
            let input = crate::postage::CostCentreInput {
                code: code.to_string(),
                name: name.to_string(),
                department_id: depts.iter().find(|(c, _)| c == dept).map(|(_, id)| *id),
                soft_limit: Some(soft * 100),
                hard_limit: Some(hard * 100),
                approval_limit: Some(APPROVAL_LIMIT),
            };
            let cc = self.create_cost_centre(&admin, &ctx, &input).await?;
            ccs.push((cc.code, cc.id));
            created = true;
        }
        let any = OutboundFilter { limit: 1, ..Default::default() };
        if !self.store.list_outbound(t.id, &any).await?.is_empty() {
            return Ok(created);
        }
        let mut people = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.search_people(t.id, "", after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            people.extend(page);
        }
        let oc = OutboundCtx {
            admin: &admin,
            ctx: &ctx,
            sdr: customs::RateTable::default(),
            cost_centres: ccs,
            people,
            depts,
        };
        if spec.slug == COMPANY.slug {
            self.seed_company_outbound(&oc).await?;
        } else {
            self.seed_hospital_outbound(&oc).await?;
        }
        Ok(true)
    }

    async fn demo_request(&self, oc: &OutboundCtx<'_>, v: Value) -> AppResult<ItemId> {
        let r: OutboundRequest = json_input(v)?;
        Ok(self.request_outbound(oc.admin, oc.ctx, &r, &oc.sdr).await?.record.item.id)
    }

    async fn demo_accept(
        &self,
        oc: &OutboundCtx<'_>,
        id: ItemId,
        weight_g: u32,
        tracking: Option<&str>,
    ) -> AppResult<()> {
        let input = AcceptInput { weight_g, tracking_number: tracking.map(String::from), ..Default::default() };
        self.accept_outbound(oc.admin, oc.ctx, id, &input, &oc.sdr).await?;
        Ok(())
    }

    /// Puts accepted items in a batch of `carrier` collected now, scans them out and hands the
    /// batch to the courier.
    async fn demo_dispatch(
        &self,
        oc: &OutboundCtx<'_>,
        carrier: &str,
        items: Vec<ItemId>,
        courier: &str,
    ) -> AppResult<()> {
        let input =
            BatchInput { carrier: carrier.into(), collection_at: self.clock.now(), site_id: None, items: Some(items) };
        let view = self.create_dispatch_batch(oc.admin, oc.ctx, &input).await?;
        for r in &view.items {
            let scan = ScanInput { code: r.item.reference.clone() };
            self.scan_out(oc.admin, oc.ctx, view.batch.id, &scan).await?;
        }
        let hand = HandOverInput { courier_name: courier.into() };
        self.hand_over_batch(oc.admin, oc.ctx, view.batch.id, &hand).await?;
        Ok(())
    }

    async fn seed_company_outbound(&self, oc: &OutboundCtx<'_>) -> AppResult<()> {
        let now = self.clock.now();
        // Awaiting approval: prototype boards to Siemens in Munich by EMS, ¥540 against CC-RND's
        // ¥200 approval limit.
        self.demo_request(
            oc,
            json!({
                "requester_person_id": oc.person("RND", 0)?,
                "recipient": {"country": "DE",
                    "text": "Siemens AG\nz. Hd. Dr. Katrin Weber\nWerner-von-Siemens-Straße 1\n80333 München"},
                "recipient_phone": "+49 89 636 00",
                "kind": "parcel", "category": "general", "priority": "high",
                "contents": "原型电路板样品 Prototype circuit board samples",
                "method": "express", "carrier": "ems", "weight_g": 2500, "cost_centre_id": oc.cc("CC-RND")?,
                "customs": {"category": "commercial_sample", "lines": [
                    {"description": "unpopulated printed circuit boards, prototypes", "quantity": 5,
                     "net_weight_g": 1600, "value": "180.00", "currency": "EUR", "hs_code": "8534.00",
                     "origin_country": "CN"},
                    {"description": "printed technical specification booklets", "quantity": 2,
                     "net_weight_g": 500, "value": "20.00", "currency": "EUR", "hs_code": "490199",
                     "origin_country": "CN"}]},
                "notes": "样品评估，请于月底前送达 Samples for evaluation: needed before month end",
            }),
        )
        .await?;
        // Requested: a registered contract letter within Shanghai.
        self.demo_request(
            oc,
            json!({
                "requester_person_id": oc.person("LEGAL", 0)?,
                "recipient": cn_address("周明", "上海锦天城律师事务所", "银城中路501号上海中心大厦11楼",
                    "浦东新区", "上海市", "上海市", "200120"),
                "kind": "letter", "category": "contract", "confidentiality": "confidential",
                "contents": "已签署的服务合同（一式两份）Signed service contract, two originals",
                "method": "registered", "carrier": "china_post", "zone": "local", "weight_g": 40,
                "cost_centre_id": oc.cc("CC-LEGAL")?,
            }),
        )
        .await?;
        // Requested: the customer survey mailing, for next Tuesday's 10:00 collection.
        let mut csv = String::from("recipient,street,district,city,region,postal_code,country\n");
        for (name, street, district, city, region, postal) in SURVEY {
            csv.push_str(&format!("{name},{street},{district},{city},{region},{postal},CN\n"));
        }
        let params = MailingParams {
            method: "standard".into(),
            carrier: Some("china_post".into()),
            cost_centre_id: oc.cc("CC-CS")?,
            kind: Some("letter".into()),
            category: Some("customer_correspondence".into()),
            contents: format!("{0}年度客户满意度调查问卷 Customer satisfaction survey {0}", now.year()),
            weight_g: Some(18),
            not_before: next_tuesday_10(now),
            site_id: None,
            requester_person_id: Some(oc.person("CS", 0)?),
        };
        self.request_mailing(oc.admin, oc.ctx, &params, csv.as_bytes(), &oc.sdr).await?;
        // Accepted, postage charged: silk scarves to Hong Kong by SF Express.
        let hk = self
            .demo_request(
                oc,
                json!({
                    "requester_person_id": oc.person("HR", 0)?,
                    "recipient": {"country": "HK", "text": "香港中環皇后大道中99號\n中環中心45樓\n陳大文先生"},
                    "recipient_phone": "+852 2123 4567",
                    "kind": "parcel", "category": "general",
                    "contents": "周年纪念礼品 Anniversary gifts",
                    "method": "express", "carrier": "sf_express", "weight_g": 600, "cost_centre_id": oc.cc("CC-HR")?,
                    "customs": {"category": "gift", "lines": [
                        {"description": "silk scarves", "quantity": 2, "net_weight_g": 300, "value": "300.00",
                         "currency": "CNY", "hs_code": "621410", "origin_country": "CN"}]},
                }),
            )
            .await?;
        self.demo_accept(oc, hk, 580, Some("SF1409875203644")).await?;
        // Cancelled after acceptance (the postage is refunded): papers for a Seoul partner.
        let kr = self
            .demo_request(
                oc,
                json!({
                    "requester_person_id": oc.person("RND", 1)?,
                    "recipient": {"country": "KR", "text": "06164\n서울특별시 강남구 테헤란로 521\n박지훈"},
                    "kind": "letter", "category": "conference",
                    "contents": "研讨会邀请函 Workshop invitation",
                    "method": "international", "carrier": "china_post", "weight_g": 30,
                    "cost_centre_id": oc.cc("CC-RND")?,
                    "customs": {"category": "documents", "lines": [
                        {"description": "printed invitation letter", "quantity": 1, "net_weight_g": 20,
                         "value": "0.00", "currency": "USD"}]},
                }),
            )
            .await?;
        self.demo_accept(oc, kr, 28, None).await?;
        let note = DecisionInput { note: Some("研讨会改为线上举行 The workshop moved online".into()) };
        self.cancel_outbound(oc.admin, oc.ctx, kr, &note, &oc.sdr).await?;
        // Dispatched in one China Post collection: Tokyo, California, Beijing (delivered with
        // its registered-mail receipt) and Boston (returned: addressee unknown).
        let jp = self
            .demo_request(
                oc,
                json!({
                    "requester_person_id": oc.person("CS", 1)?,
                    "recipient": {"country": "JP",
                        "text": "〒150-0002\n東京都渋谷区渋谷2-21-1\n株式会社ひかり通信\n佐藤花子"},
                    "kind": "letter", "category": "customer_correspondence",
                    "contents": "合作意向书 Letter of intent",
                    "method": "international", "carrier": "china_post", "weight_g": 60,
                    "cost_centre_id": oc.cc("CC-CS")?,
                    "customs": {"category": "documents", "lines": [
                        {"description": "signed letter of intent (paper documents)", "quantity": 1,
                         "net_weight_g": 45, "value": "0.00", "currency": "USD"}]},
                }),
            )
            .await?;
        let us = self
            .demo_request(
                oc,
                json!({
                    "requester_person_id": oc.person("RND", 2)?,
                    "recipient": {"country": "US", "text":
                        "Jennifer Lopez-Hart\nAcme Components Inc.\n1600 Amphitheatre Parkway\nMountain View, CA 94043"},
                    "recipient_phone": "+1 650 555 0142",
                    "kind": "parcel", "category": "general",
                    "contents": "陶瓷茶具样品 Porcelain tea set samples",
                    "method": "international", "carrier": "china_post", "weight_g": 1200,
                    "cost_centre_id": oc.cc("CC-RND")?,
                    "customs": {"category": "commercial_sample", "lines": [
                        {"description": "porcelain tea cups", "quantity": 4, "net_weight_g": 800,
                         "value": "40.00", "currency": "USD", "hs_code": "691110", "origin_country": "CN"}]},
                }),
            )
            .await?;
        let bj = self
            .demo_request(
                oc,
                json!({
                    "requester_person_id": oc.person("FIN", 0)?,
                    "recipient": cn_address("赵敏", "中国国际贸易中心有限公司", "建国门外大街1号",
                        "朝阳区", "北京市", "北京市", "100004"),
                    "kind": "letter", "category": "invoice",
                    "contents": "增值税专用发票 VAT invoices",
                    "method": "registered", "carrier": "china_post", "weight_g": 50,
                    "cost_centre_id": oc.cc("CC-FIN")?,
                }),
            )
            .await?;
        let boston = self
            .demo_request(
                oc,
                json!({
                    "requester_person_id": oc.person("CS", 2)?,
                    "recipient": {"country": "US", "text":
                        "Michael Brennan\n200 Clarendon Street, Suite 4100\nBoston, MA 02116"},
                    "kind": "letter", "category": "customer_correspondence",
                    "contents": "产品目录 Product catalogue",
                    "method": "international", "carrier": "china_post", "weight_g": 90,
                    "cost_centre_id": oc.cc("CC-CS")?,
                    "customs": {"category": "documents", "lines": [
                        {"description": "printed product catalogue", "quantity": 1, "net_weight_g": 80,
                         "value": "0.00", "currency": "USD"}]},
                }),
            )
            .await?;
        self.demo_accept(oc, jp, 55, Some("RR482913375CN")).await?;
        self.demo_accept(oc, us, 1180, Some("CP031457826CN")).await?;
        self.demo_accept(oc, bj, 48, Some("XA208814673CN")).await?;
        self.demo_accept(oc, boston, 86, Some("RR482913384CN")).await?;
        self.demo_dispatch(
            oc,
            "china_post",
            vec![jp, us, bj, boston],
            "中国邮政揽投员 刘建华 China Post courier Liu Jianhua",
        )
        .await?;
        let receipt = ReceiptInput {
            signed_by: "赵敏".into(),
            receipt_number: Some("HZ-110000-0419".into()),
            delivered_at: None,
        };
        self.record_outbound_receipt(oc.admin, oc.ctx, bj, &receipt, &oc.sdr).await?;
        let why =
            DecisionInput { note: Some("查无此人，退回 Addressee unknown: returned by the carrier".into()) };
        self.return_outbound(oc.admin, oc.ctx, boston, &why, &oc.sdr).await?;
        // Sent by encrypted electronic transfer: a bank statement for the auditors.
        let statement = self
            .demo_request(
                oc,
                json!({
                    "requester_person_id": oc.person("FIN", 1)?,
                    "recipient": cn_address("孙立", "德勤华永会计师事务所", "延安东路222号外滩中心30楼",
                        "黄浦区", "上海市", "上海市", "200002"),
                    "recipient_email": "audit.mingyuan@deloitte.example.cn",
                    "kind": "document", "category": "bank_statement", "confidentiality": "confidential",
                    "contents": "上月银行对账单 Last month's bank statement",
                    "method": "encrypted_electronic", "cost_centre_id": oc.cc("CC-FIN")?,
                }),
            )
            .await?;
        let sent = DecisionInput { note: Some("已通过加密邮件发送 Sent by encrypted e-mail".into()) };
        self.send_electronic(oc.admin, oc.ctx, statement, &sent, &oc.sdr).await?;
        Ok(())
    }

    async fn seed_hospital_outbound(&self, oc: &OutboundCtx<'_>) -> AppResult<()> {
        // Awaiting approval: case report forms to Roche in Switzerland by EMS.
        self.demo_request(
            oc,
            json!({
                "requester_person_id": oc.person("RND", 0)?,
                "recipient": {"country": "CH",
                    "text": "Roche Diagnostics International AG\nForrenstrasse 2\n6343 Rotkreuz"},
                "kind": "document", "category": "general",
                "contents": "临床试验病例报告表 Clinical trial case report forms",
                "method": "express", "carrier": "ems", "weight_g": 1800, "cost_centre_id": oc.cc("CC-RND")?,
                "customs": {"category": "documents", "lines": [
                    {"description": "paper case report forms", "quantity": 1, "net_weight_g": 1700,
                     "value": "0.00", "currency": "USD"}]},
            }),
        )
        .await?;
        // Requested: a registered letter to the health commission.
        self.demo_request(
            oc,
            json!({
                "requester_person_id": oc.person("ADMIN", 0)?,
                "recipient": cn_address("医政医管处", "上海市卫生健康委员会", "世博村路300号",
                    "浦东新区", "上海市", "上海市", "200125"),
                "kind": "letter", "category": "general",
                "contents": "年度医疗质量报告 Annual quality report",
                "method": "registered", "carrier": "china_post", "zone": "local", "weight_g": 120,
                "cost_centre_id": oc.cc("CC-ADMIN")?,
            }),
        )
        .await?;
        // Dispatched and delivered: a registered letter to the Chinese Medical Association.
        let cma = self
            .demo_request(
                oc,
                json!({
                    "requester_person_id": oc.person("FIN", 0)?,
                    "recipient": cn_address("会员服务部", "中华医学会", "东四西大街42号",
                        "东城区", "北京市", "北京市", "100710"),
                    "kind": "letter", "category": "invoice",
                    "contents": "会费汇款凭证 Membership fee remittance",
                    "method": "registered", "carrier": "china_post", "weight_g": 30,
                    "cost_centre_id": oc.cc("CC-FIN")?,
                }),
            )
            .await?;
        self.demo_accept(oc, cma, 32, Some("XA208814695CN")).await?;
        self.demo_dispatch(oc, "china_post", vec![cma], "中国邮政揽投员 王磊 China Post courier Wang Lei").await?;
        let receipt = ReceiptInput {
            signed_by: "刘芳".into(),
            receipt_number: Some("HZ-100010-0107".into()),
            delivered_at: None,
        };
        self.record_outbound_receipt(oc.admin, oc.ctx, cma, &receipt, &oc.sdr).await?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn survey_window_is_next_tuesday_at_ten_in_shanghai() {
        let at = |y, mo, d, h| Utc.with_ymd_and_hms(y, mo, d, h, 0, 0).unwrap();
        // Friday 27 November 2026, 13:00 UTC → Tuesday 1 December, 10:00 CST = 02:00 UTC.
        assert_eq!(next_tuesday_10(at(2026, 11, 27, 13)), Some(at(2026, 12, 1, 2)));
        // Monday 23:00 UTC is already Tuesday in Shanghai: a week later.
        assert_eq!(next_tuesday_10(at(2026, 11, 30, 23)), Some(at(2026, 12, 8, 2)));
        // Monday 15:00 UTC is Monday 23:00 in Shanghai: the next morning.
        assert_eq!(next_tuesday_10(at(2026, 11, 30, 15)), Some(at(2026, 12, 1, 2)));
    }
}
