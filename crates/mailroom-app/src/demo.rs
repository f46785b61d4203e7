//! Demo data: a Shanghai company and a hospital, with sites, locations, departments,
//! about 200 people and items in every state. Seeding is idempotent.

use crate::directory::{DepartmentInput, LocationInput, PersonInput};
use crate::items::{HandoverInput, RecipientInput, RegisterItemInput, SenderInput, SignatureInput, TransitionInput};
use crate::{App, AppResult, Principal, RequestCtx};
use base64::Engine;
use mailroom_domain::auth::Role;
use mailroom_domain::ids::{DepartmentId, LocationId, PersonId};
use mailroom_store::Person;

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
            if self.store.tenant_by_slug(spec.slug).await?.is_some() {
                continue;
            }
            self.seed_tenant(spec).await?;
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
