//! API tokens: what a token may do beyond acting as its user.
//!
//! A token belongs to one user in one tenant. It may be narrowed to a lower role than its user's
//! and to a [`TokenScope`]; it never grants more than the user currently has.

use crate::DomainError;
use crate::auth::Role;
use crate::item::string_enum;

string_enum!(
    /// Which requests a token may make; checked for every API request made with the token.
    /// `full`: everything the token's role allows. `scanner`: a scanner station — register items,
    /// look them up, and look up recipients. `read_only`: reads (GET) only, within the token's role.
    TokenScope { Full = "full", Scanner = "scanner", ReadOnly = "read_only" }
);

/// Orders roles by how much they allow. Every role must appear here: a token may only be
/// narrowed to a role that ranks no higher than its user's.
fn rank(r: Role) -> u8 {
    match r {
        Role::Employee => 1,
        Role::Staff => 2,
        Role::Admin => 3,
    }
}

/// Whether a token for a user with role `user` may carry role `wanted`.
pub fn role_within(user: Role, wanted: Role) -> bool {
    rank(wanted) <= rank(user)
}

/// The role a request made with a token acts with: the token's role, but never more than the
/// user's current role (a user who was demoted takes their tokens down with them).
pub fn effective_role(user: Role, token: Option<Role>) -> Role {
    match token {
        Some(t) if role_within(user, t) => t,
        _ => user,
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
        assert_eq!(effective_role(Role::Admin, Some(Role::Staff)), Role::Staff);
        assert_eq!(effective_role(Role::Admin, None), Role::Admin);
        // Demoted after the token was made: the user's role wins.
        assert_eq!(effective_role(Role::Employee, Some(Role::Staff)), Role::Employee);
        for user in Role::ALL {
            for tok in Role::ALL {
                let eff = effective_role(*user, Some(*tok));
                assert!(role_within(*user, eff));
            }
        }
        assert_eq!(TokenScope::parse("scanner"), Some(TokenScope::Scanner));
        assert_eq!(TokenScope::parse("root"), None);
    }
}
