//! API tokens: what a token may do beyond acting as its user.
//!
//! A token belongs to one user in one tenant. It may be narrowed to a lower role than its user's
//! and to a [`TokenScope`]; it never grants more than the user currently has.

use crate::DomainError;
use crate::auth::{Permission, Role, allowed};
use crate::item::string_enum;

string_enum!(
    /// Which requests a token may make; checked for every API request made with the token.
    /// `full`: everything the token's role allows. `scanner`: a scanner station — register items,
    /// look them up, and look up recipients. `read_only`: reads (GET) only, within the token's role.
    TokenScope { Full = "full", Scanner = "scanner", ReadOnly = "read_only" }
);

/// Whether role `wanted` allows nothing that role `user` does not: a token of a user with role
/// `user` may be narrowed to `wanted`.
pub fn role_within(user: Role, wanted: Role) -> bool {
    Permission::ALL.iter().all(|p| !allowed(wanted, *p) || allowed(user, *p))
}

/// The role a request made with a token acts with: the token's role if it has one, else the
/// user's. `None` when the token's role now exceeds its user's (the user was given a lesser
/// role since): such a token no longer works.
pub fn effective_role(user: Role, token: Option<Role>) -> Option<Role> {
    match token {
        Some(t) if role_within(user, t) => Some(t),
        Some(_) => None,
        None => Some(user),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_exceed_their_user() {
        assert!(role_within(Role::Admin, Role::Staff));
        assert!(role_within(Role::Staff, Role::Staff));
        assert!(!role_within(Role::Staff, Role::Admin));
        assert!(!role_within(Role::Employee, Role::Staff));
        assert_eq!(effective_role(Role::Admin, Some(Role::Staff)), Some(Role::Staff));
        assert_eq!(effective_role(Role::Admin, None), Some(Role::Admin));
        // Demoted below the token's role after the token was made: the token stops working.
        assert_eq!(effective_role(Role::Employee, Some(Role::Staff)), None);
        for user in Role::ALL {
            assert!(role_within(*user, *user));
            for tok in Role::ALL {
                if let Some(eff) = effective_role(*user, Some(*tok)) {
                    assert!(role_within(*user, eff));
                    assert!(Permission::ALL.iter().all(|p| !allowed(eff, *p) || allowed(*user, *p)));
                }
            }
        }
        assert_eq!(TokenScope::parse("scanner"), Some(TokenScope::Scanner));
        assert_eq!(TokenScope::parse("root"), None);
    }
}
