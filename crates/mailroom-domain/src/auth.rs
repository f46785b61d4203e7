//! Roles and the authorisation decisions that depend only on them.

use crate::DomainError;
use crate::item::string_enum;

string_enum!(
    /// A user's role within one tenant.
    Role { Admin = "admin", Staff = "staff", Employee = "employee" }
);

/// What a user may ask to do. Checked in one place: [`allowed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read any item in the tenant.
    ReadAllItems,
    /// Read items addressed to oneself or one's department.
    ReadOwnItems,
    RegisterItems,
    HandleItems,
    ReadDirectory,
    ManageDirectory,
    ImportDirectory,
    ManageUsers,
    VerifyCustody,
    /// Read the organisation's audit log (admin actions and the whole custody log).
    ReadAuditLog,
}

impl Permission {
    /// Every permission, for comparing what roles allow.
    pub const ALL: &'static [Permission] = &[
        Permission::ReadAllItems,
        Permission::ReadOwnItems,
        Permission::RegisterItems,
        Permission::HandleItems,
        Permission::ReadDirectory,
        Permission::ManageDirectory,
        Permission::ImportDirectory,
        Permission::ManageUsers,
        Permission::VerifyCustody,
        Permission::ReadAuditLog,
    ];
}

pub fn allowed(role: Role, p: Permission) -> bool {
    use Permission as P;
    match role {
        Role::Admin => true,
        Role::Staff => !matches!(p, P::ManageUsers | P::ManageDirectory | P::ImportDirectory | P::ReadAuditLog),
        Role::Employee => matches!(p, P::ReadOwnItems | P::ReadDirectory),
    }
}

pub fn require(role: Role, p: Permission) -> Result<(), DomainError> {
    if allowed(role, p) {
        Ok(())
    } else {
        Err(DomainError::new(crate::ErrorCode::Forbidden, "your role does not allow this"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix() {
        assert!(allowed(Role::Admin, Permission::ManageUsers));
        assert!(allowed(Role::Staff, Permission::RegisterItems));
        assert!(!allowed(Role::Staff, Permission::ManageDirectory));
        assert!(!allowed(Role::Employee, Permission::RegisterItems));
        assert!(!allowed(Role::Employee, Permission::ReadAllItems));
        assert!(allowed(Role::Employee, Permission::ReadOwnItems));
        assert!(allowed(Role::Admin, Permission::ReadAuditLog));
        assert!(!allowed(Role::Staff, Permission::ReadAuditLog));
    }

    /// `Permission::ALL` must list every permission: this match stops compiling when one is added.
    #[test]
    fn every_permission_is_listed() {
        use Permission as P;
        let index = |p: Permission| match p {
            P::ReadAllItems => 0,
            P::ReadOwnItems => 1,
            P::RegisterItems => 2,
            P::HandleItems => 3,
            P::ReadDirectory => 4,
            P::ManageDirectory => 5,
            P::ImportDirectory => 6,
            P::ManageUsers => 7,
            P::VerifyCustody => 8,
            P::ReadAuditLog => 9,
        };
        let listed: Vec<usize> = Permission::ALL.iter().map(|p| index(*p)).collect();
        assert_eq!(listed, (0..10).collect::<Vec<_>>());
    }
}
