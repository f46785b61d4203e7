//! Roles, permissions and the one permission matrix. Every authorisation decision of the
//! application is a call into this module: [`allowed`] for "may this role do that at all",
//! [`may_read_item`] for "may this caller see this item", [`may_grant`] for "may this role hand
//! out that role", and [`site_allowed`] for "may this caller act at that site".

use crate::DomainError;
use crate::ids::SiteId;
use crate::item::{Category, string_enum};

string_enum!(
    /// A user's role within the organisation (tenant) they act in.
    Role {
        OperatorAdmin = "operator_admin",
        Admin = "admin",
        Supervisor = "supervisor",
        Staff = "staff",
        Finance = "finance",
        CustomerService = "customer_service",
        Auditor = "auditor",
        Employee = "employee",
    }
);

string_enum!(
    /// What a user may ask to do. Decided in one place: [`allowed`].
    Permission {
        ReadOwnItems = "read_own_items",
        ReadAllItems = "read_all_items",
        ReadFinanceItems = "read_finance_items",
        ReadCustomerItems = "read_customer_items",
        SearchItems = "search_items",
        RegisterItems = "register_items",
        HandleItems = "handle_items",
        VerifyCustody = "verify_custody",
        ViewReports = "view_reports",
        ReadDirectory = "read_directory",
        ManageDirectory = "manage_directory",
        ImportDirectory = "import_directory",
        ManageSites = "manage_sites",
        ReadUsers = "read_users",
        ManageUsers = "manage_users",
        ManageTenants = "manage_tenants",
        ActInAnyTenant = "act_in_any_tenant",
        ManageRetention = "manage_retention",
        ManageRules = "manage_rules",
        ReadAuditLog = "read_audit_log",
        ManageNotifications = "manage_notifications",
        ManageJobs = "manage_jobs",
        SuperviseServiceLevels = "supervise_service_levels",
        ManageServiceLevels = "manage_service_levels",
        ReadPostage = "read_postage",
        ChargePostage = "charge_postage",
        ManagePostage = "manage_postage",
        ReadChargeback = "read_chargeback",
        RequestOutbound = "request_outbound",
        ReadAllOutbound = "read_all_outbound",
        HandleOutbound = "handle_outbound",
        ApproveOutbound = "approve_outbound",
    }
);

impl Permission {
    /// What the permission lets a role do, for the documentation.
    pub fn describe(self) -> &'static str {
        match self {
            Permission::ReadOwnItems => "read items addressed to oneself or one's department (\"my mail\")",
            Permission::ReadAllItems => {
                "read every item of the organisation, its custody timeline, handover and receipt"
            }
            Permission::ReadFinanceItems => "read the organisation's invoices and bank statements",
            Permission::ReadCustomerItems => "read the organisation's customer correspondence and complaints",
            Permission::SearchItems => "search the item register (results limited to the items the role may read)",
            Permission::RegisterItems => "register inbound items",
            Permission::HandleItems => "store, notify, deliver, hand over, hold, return and forward items",
            Permission::VerifyCustody => "verify the organisation's custody hash chain and signed checkpoints",
            Permission::ViewReports => "read and export item reports",
            Permission::ReadDirectory => "read people, departments, sites and storage locations",
            Permission::ManageDirectory => "create and change people and departments",
            Permission::ImportDirectory => "import people and departments from CSV",
            Permission::ManageSites => "create sites and storage locations",
            Permission::ReadUsers => "list the organisation's users and the staff assigned to it",
            Permission::ManageUsers => "create users and grant clearance for confidential items",
            Permission::ManageTenants => "create organisations and assign staff to organisations and sites",
            Permission::ActInAnyTenant => "act in every organisation of the installation",
            Permission::ManageRetention => "set retention policies, which destroy expired attachments",
            Permission::ManageRules => "read, change and test the classification and routing rules",
            Permission::ReadAuditLog => {
                "read the organisation's audit log (administrative actions and the custody log)"
            }
            Permission::ManageJobs => "see the background job queue and send dead jobs back to it",
            Permission::ManageNotifications => {
                "edit notice templates and notification endpoints, and anyone's notification preferences"
            }
            Permission::SuperviseServiceLevels => {
                "see breaches, items at risk and unclaimed items; approve or reject disposals and returns"
            }
            Permission::ManageServiceLevels => "set site working-hours calendars and unclaimed-item policies",
            Permission::ReadPostage => "see postage accounts, cost centres, rate tables, the ledger and quotes",
            Permission::ChargePostage => "charge the postage of a send to a cost centre",
            Permission::ManagePostage => "create postage accounts and cost centres, top up, set budgets and rates",
            Permission::ReadChargeback => "read the monthly postage chargeback report per department",
            Permission::RequestOutbound => "ask for outbound sends (one, or a CSV mailing) and follow one's own",
            Permission::ReadAllOutbound => "see every outbound send, dispatch batch and manifest",
            Permission::HandleOutbound => {
                "accept outbound items (weigh, customs, postage), batch, scan out and hand them to carriers"
            }
            Permission::ApproveOutbound => "approve or reject sends that cost more than a cost centre's approval limit",
        }
    }
}

impl Role {
    /// What the role is for, for the documentation.
    pub fn describe(self) -> &'static str {
        match self {
            Role::OperatorAdmin => "runs the installation: every organisation, creates organisations, assigns staff",
            Role::Admin => "administers one organisation: directory, users, sites, everything in it",
            Role::Supervisor => "runs a mailroom: handles items, sites and locations, reports, custody checks",
            Role::Staff => "mailroom staff: registers and handles items, reads the directory",
            Role::Finance => "finance department: its own mail plus invoices and bank statements, reports",
            Role::CustomerService => "customer service: its own mail plus customer correspondence and complaints",
            Role::Auditor => "read-only: every item, custody timelines, receipts, verification, reports, users",
            Role::Employee => "their own and their department's mail only",
        }
    }
}

/// The permission matrix: whether `role` has permission `p`. Exhaustive over permissions, so a
/// new permission cannot be added without deciding who has it.
pub fn allowed(role: Role, p: Permission) -> bool {
    use Permission as P;
    use Role as R;
    match p {
        P::ReadOwnItems => true,
        P::ReadAllItems => matches!(role, R::OperatorAdmin | R::Admin | R::Supervisor | R::Staff | R::Auditor),
        P::ReadFinanceItems => matches!(role, R::Finance) || allowed(role, P::ReadAllItems),
        P::ReadCustomerItems => matches!(role, R::CustomerService) || allowed(role, P::ReadAllItems),
        P::SearchItems => !matches!(role, R::Employee),
        P::RegisterItems | P::HandleItems => matches!(role, R::OperatorAdmin | R::Admin | R::Supervisor | R::Staff),
        P::VerifyCustody => matches!(role, R::OperatorAdmin | R::Admin | R::Supervisor | R::Auditor),
        P::ViewReports => matches!(role, R::OperatorAdmin | R::Admin | R::Supervisor | R::Finance | R::Auditor),
        P::ReadDirectory => !matches!(role, R::Employee),
        P::ManageDirectory | P::ImportDirectory | P::ManageUsers => matches!(role, R::OperatorAdmin | R::Admin),
        P::ManageSites => matches!(role, R::OperatorAdmin | R::Admin | R::Supervisor),
        P::ReadUsers => matches!(role, R::OperatorAdmin | R::Admin | R::Auditor),
        P::ManageTenants | P::ActInAnyTenant => matches!(role, R::OperatorAdmin),
        P::ManageRetention | P::ManageRules | P::ManageJobs | P::ManageNotifications => {
            matches!(role, R::OperatorAdmin | R::Admin)
        }
        P::ReadAuditLog => matches!(role, R::OperatorAdmin | R::Admin | R::Supervisor | R::Auditor),
        P::SuperviseServiceLevels => matches!(role, R::OperatorAdmin | R::Admin | R::Supervisor),
        P::ManageServiceLevels => matches!(role, R::OperatorAdmin | R::Admin),
        P::ReadPostage => {
            matches!(role, R::OperatorAdmin | R::Admin | R::Supervisor | R::Staff | R::Finance | R::Auditor)
        }
        P::ChargePostage => matches!(role, R::OperatorAdmin | R::Admin | R::Supervisor | R::Staff),
        P::ManagePostage => matches!(role, R::OperatorAdmin | R::Admin),
        P::ReadChargeback => matches!(role, R::OperatorAdmin | R::Admin | R::Supervisor | R::Finance | R::Auditor),
        P::RequestOutbound => !matches!(role, R::Auditor),
        P::ReadAllOutbound => {
            matches!(role, R::OperatorAdmin | R::Admin | R::Supervisor | R::Staff | R::Finance | R::Auditor)
        }
        P::HandleOutbound => matches!(role, R::OperatorAdmin | R::Admin | R::Supervisor | R::Staff),
        P::ApproveOutbound => matches!(role, R::OperatorAdmin | R::Admin | R::Finance),
    }
}

/// Refuses with `forbidden` unless the role has the permission.
pub fn require(role: Role, p: Permission) -> Result<(), DomainError> {
    if allowed(role, p) { Ok(()) } else { Err(forbidden()) }
}

pub fn forbidden() -> DomainError {
    DomainError::new(crate::ErrorCode::Forbidden, "your role does not allow this")
}

/// Item categories that [`Permission::ReadFinanceItems`] opens.
pub const FINANCE_CATEGORIES: &[Category] = &[Category::Invoice, Category::BankStatement];
/// Item categories that [`Permission::ReadCustomerItems`] opens.
pub const CUSTOMER_CATEGORIES: &[Category] = &[Category::CustomerCorrespondence, Category::Complaint];

/// The categories a role may read beyond its own mail (roles with [`Permission::ReadAllItems`]
/// read every category anyway).
pub fn readable_categories(role: Role) -> Vec<Category> {
    let mut out = Vec::new();
    if allowed(role, Permission::ReadFinanceItems) {
        out.extend_from_slice(FINANCE_CATEGORIES);
    }
    if allowed(role, Permission::ReadCustomerItems) {
        out.extend_from_slice(CUSTOMER_CATEGORIES);
    }
    out
}

/// What visibility depends on, about one item and one caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemFacts {
    /// The item is addressed to the caller's person or department.
    pub addressed_to_caller: bool,
    pub category: Category,
}

/// Whether a caller with `role` may see an item. Items a caller may not see do not exist for
/// them: the API answers 404, never 403.
pub fn may_read_item(role: Role, item: ItemFacts) -> bool {
    allowed(role, Permission::ReadAllItems)
        || (item.addressed_to_caller && allowed(role, Permission::ReadOwnItems))
        || readable_categories(role).contains(&item.category)
}

/// Whether a user with role `actor` may give a user role `target`. Only roles that manage users
/// grant roles, and only an operator administrator creates operator administrators.
pub fn may_grant(actor: Role, target: Role) -> bool {
    allowed(actor, Permission::ManageUsers)
        && (!allowed(target, Permission::ActInAnyTenant) || allowed(actor, Permission::ActInAnyTenant))
}

/// Whether a role can be given through an assignment to another organisation: every role except
/// those that already act everywhere.
pub fn assignable(role: Role) -> bool {
    !allowed(role, Permission::ActInAnyTenant)
}

/// Whether a caller limited to the site `assigned` (`None`: every site of the organisation) may
/// act on something at `site` (`None`: not tied to a site yet).
pub fn site_allowed(assigned: Option<SiteId>, site: Option<SiteId>) -> bool {
    match (assigned, site) {
        (None, _) | (Some(_), None) => true,
        (Some(a), Some(s)) => a == s,
    }
}

/// The matrix as a Markdown table (roles as columns), as documented in docs/SECURITY.md.
pub fn matrix_markdown() -> String {
    let mut s = String::from("| permission |");
    for r in Role::ALL {
        s.push_str(&format!(" `{r}` |"));
    }
    s.push_str("\n| --- |");
    for _ in Role::ALL {
        s.push_str(" :-: |");
    }
    s.push('\n');
    for p in Permission::ALL {
        s.push_str(&format!("| `{p}` — {} |", p.describe()));
        for r in Role::ALL {
            s.push_str(if allowed(*r, *p) { " ✓ |" } else { " · |" });
        }
        s.push('\n');
    }
    s
}

/// The roles as a Markdown table, as documented in docs/SECURITY.md.
pub fn roles_markdown() -> String {
    let mut s = String::from("| role | for |\n| --- | --- |\n");
    for r in Role::ALL {
        s.push_str(&format!("| `{r}` | {} |\n", r.describe()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_role_ids_are_kept() {
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("staff"), Some(Role::Staff));
        assert_eq!(Role::parse("employee"), Some(Role::Employee));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        assert!(Role::parse_field("role", "root").is_err());
    }

    #[test]
    fn matrix() {
        assert!(allowed(Role::Admin, Permission::ManageUsers));
        assert!(allowed(Role::Staff, Permission::RegisterItems));
        assert!(!allowed(Role::Staff, Permission::ManageDirectory));
        assert!(!allowed(Role::Staff, Permission::ManageSites));
        assert!(allowed(Role::Supervisor, Permission::ManageSites));
        assert!(!allowed(Role::Employee, Permission::RegisterItems));
        assert!(!allowed(Role::Employee, Permission::ReadAllItems));
        assert!(!allowed(Role::Employee, Permission::ReadDirectory));
        assert!(allowed(Role::Employee, Permission::ReadOwnItems));
        assert!(!allowed(Role::Admin, Permission::ManageTenants));
        assert!(allowed(Role::OperatorAdmin, Permission::ManageTenants));
    }

    /// The operator administrator may do everything; a tenant administrator everything inside
    /// one organisation.
    #[test]
    fn administrators() {
        for p in Permission::ALL {
            assert!(allowed(Role::OperatorAdmin, *p), "{p}");
            let tenant_level = !matches!(p, Permission::ManageTenants | Permission::ActInAnyTenant);
            assert_eq!(allowed(Role::Admin, *p), tenant_level, "{p}");
        }
    }

    /// Roles that change things: the auditor and the reading roles never do.
    #[test]
    fn read_only_roles_never_write() {
        let writes = [
            Permission::RegisterItems,
            Permission::HandleItems,
            Permission::ManageDirectory,
            Permission::ImportDirectory,
            Permission::ManageSites,
            Permission::ManageUsers,
            Permission::ManageTenants,
            Permission::ManageNotifications,
            Permission::ChargePostage,
            Permission::ManagePostage,
            Permission::HandleOutbound,
        ];
        for r in [Role::Auditor, Role::Finance, Role::CustomerService, Role::Employee] {
            for p in writes {
                assert!(!allowed(r, p), "{r} may {p}");
            }
        }
        for p in [Permission::ReadAllItems, Permission::VerifyCustody, Permission::ViewReports, Permission::ReadUsers] {
            assert!(allowed(Role::Auditor, p), "auditor lacks {p}");
        }
    }

    #[test]
    fn item_visibility() {
        let facts = |own, category| ItemFacts { addressed_to_caller: own, category };
        for r in Role::ALL {
            assert!(may_read_item(*r, facts(true, Category::General)), "{r} own mail");
        }
        assert!(!may_read_item(Role::Employee, facts(false, Category::Invoice)));
        assert!(may_read_item(Role::Finance, facts(false, Category::Invoice)));
        assert!(may_read_item(Role::Finance, facts(false, Category::BankStatement)));
        assert!(!may_read_item(Role::Finance, facts(false, Category::Complaint)));
        assert!(may_read_item(Role::CustomerService, facts(false, Category::Complaint)));
        assert!(may_read_item(Role::CustomerService, facts(false, Category::CustomerCorrespondence)));
        assert!(!may_read_item(Role::CustomerService, facts(false, Category::Invoice)));
        assert!(may_read_item(Role::Auditor, facts(false, Category::Personal)));
        assert!(readable_categories(Role::Employee).is_empty());
        assert_eq!(readable_categories(Role::Finance), FINANCE_CATEGORIES);
    }

    #[test]
    fn granting_roles() {
        assert!(may_grant(Role::Admin, Role::Staff));
        assert!(may_grant(Role::Admin, Role::Admin));
        assert!(!may_grant(Role::Admin, Role::OperatorAdmin));
        assert!(may_grant(Role::OperatorAdmin, Role::OperatorAdmin));
        assert!(!may_grant(Role::Supervisor, Role::Staff));
        assert!(!may_grant(Role::Auditor, Role::Employee));
        assert!(!assignable(Role::OperatorAdmin));
        assert!(assignable(Role::Supervisor));
    }

    #[test]
    fn sites() {
        let (a, b) = (SiteId::new(), SiteId::new());
        assert!(site_allowed(None, Some(a)));
        assert!(site_allowed(Some(a), Some(a)));
        assert!(!site_allowed(Some(a), Some(b)));
        assert!(site_allowed(Some(a), None));
    }

    #[test]
    fn markdown_lists_every_role_and_permission() {
        let m = matrix_markdown();
        for r in Role::ALL {
            assert!(m.contains(&format!("`{r}`")));
        }
        for p in Permission::ALL {
            assert!(m.contains(&format!("`{p}`")));
        }
        assert_eq!(m.lines().count(), Permission::ALL.len() + 2);
        assert_eq!(roles_markdown().lines().count(), Role::ALL.len() + 2);
    }
}
