//! Outbound mail: the rules of a send from request to carrier hand-off.
//!
//! An outbound item is an ordinary item (same reference codes, custody log and tracking) whose
//! statuses are the outbound ones of [`Status`]:
//!
//! ```text
//! request ──(cost over the cost centre's approval limit)──▶ awaiting_approval ──approve──▶ requested
//!    │                                                          └──reject──▶ cancelled
//!    └──────────────────────────────────────────────────────────────────────▶ requested
//! requested ──accept (weighed, customs checked, postage charged)──▶ accepted
//! accepted ──dispatch (scanned out in a batch, handed to the carrier)──▶ dispatched
//! dispatched ──confirm_delivery (receipt)──▶ delivered      dispatched ──return──▶ returned_to_sender
//! awaiting_approval | requested | accepted ──cancel──▶ cancelled (postage refunded when charged)
//! ```
//!
//! Encrypted electronic transfer sends a document without paper: it needs no weight, customs,
//! postage or batch, and goes from `requested` to `dispatched` when the mailroom sends it.

use crate::item::{ItemKind, Status, string_enum};
use crate::postage::{Method, Money, Zone};
use crate::{DomainError, ErrorCode, text};
use chrono::{DateTime, Duration, Utc};

string_enum!(
    /// What staff (or an approver, or the requester) do to an outbound item.
    OutboundAction {
        Approve = "approve",
        Reject = "reject",
        Accept = "accept",
        Dispatch = "dispatch",
        ConfirmDelivery = "confirm_delivery",
        Return = "return",
        Cancel = "cancel",
    }
);

/// The outbound lifecycle: the single source of truth for which outbound action is allowed in
/// which status. Inbound statuses allow none.
pub fn next_status(from: Status, action: OutboundAction, method: Method) -> Result<Status, DomainError> {
    use OutboundAction as A;
    use Status as S;
    let electronic = method == Method::EncryptedElectronic;
    let to = match (from, action) {
        (S::AwaitingApproval, A::Approve) => Some(S::Requested),
        (S::AwaitingApproval, A::Reject) => Some(S::Cancelled),
        (S::Requested, A::Accept) if !electronic => Some(S::Accepted),
        (S::Accepted, A::Dispatch) if !electronic => Some(S::Dispatched),
        (S::Requested, A::Dispatch) if electronic => Some(S::Dispatched),
        (S::Dispatched, A::ConfirmDelivery) => Some(S::Delivered),
        (S::Dispatched, A::Return) if !electronic => Some(S::ReturnedToSender),
        (S::AwaitingApproval | S::Requested | S::Accepted, A::Cancel) => Some(S::Cancelled),
        _ => None,
    };
    to.ok_or_else(|| {
        DomainError::new(
            ErrorCode::InvalidTransition,
            format!(
                "cannot {} an outbound item that is {}",
                action.as_str().replace('_', " "),
                from.as_str().replace('_', " ")
            ),
        )
    })
}

/// Outbound actions allowed from a status, for menus and API hints.
pub fn allowed_actions(from: Status, method: Method) -> Vec<OutboundAction> {
    OutboundAction::ALL.iter().copied().filter(|a| next_status(from, *a, method).is_ok()).collect()
}

/// Whether a send to `country` (ISO alpha-2) by `method` needs a customs declaration: every
/// physical item that leaves the customs territory of mainland China (Hong Kong, Macao and
/// Taiwan included).
pub fn needs_customs(country: &str, method: Method) -> bool {
    method != Method::EncryptedElectronic && !country.eq_ignore_ascii_case("CN")
}

/// Checks that the method suits the destination and the item: international post only abroad,
/// standard and registered domestic post only within mainland China, encrypted electronic
/// transfer only for documents and letters and only with the recipient's e-mail address.
pub fn check_method(
    method: Method,
    zone: Zone,
    kind: ItemKind,
    recipient_email: Option<&str>,
) -> Result<(), DomainError> {
    let domestic = matches!(zone, Zone::Local | Zone::Domestic);
    match method {
        Method::International if domestic => Err(DomainError::invalid(
            "method",
            "international post is for destinations outside mainland China; use standard, registered or express",
        )),
        Method::Standard | Method::Registered if !domestic => Err(DomainError::invalid(
            "method",
            "standard and registered domestic post only reach mainland China; use international or express",
        )),
        Method::EncryptedElectronic => {
            if !matches!(kind, ItemKind::Document | ItemKind::Letter) {
                return Err(DomainError::invalid(
                    "method",
                    "encrypted electronic transfer is for documents and letters only",
                ));
            }
            match recipient_email.map(str::trim) {
                Some(e) if looks_like_email(e) => Ok(()),
                _ => Err(DomainError::invalid(
                    "recipient_email",
                    "encrypted electronic transfer needs the recipient's e-mail address",
                )),
            }
        }
        _ => Ok(()),
    }
}

/// A plausible e-mail address: one `@`, something before it, a dotted domain after it, no spaces.
pub fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && s.len() <= 254
}

/// Whether a send of `estimate` needs an approver: it costs more than the cost centre's approval
/// limit (no limit: never).
pub fn needs_approval(estimate: Money, limit: Option<Money>) -> bool {
    limit.is_some_and(|l| estimate.0 > l.0)
}

/// How far ahead a dispatch window may be set.
pub const MAX_WINDOW_DAYS: i64 = 366;

/// Checks a dispatch window's start: not more than [`MAX_WINDOW_DAYS`] ahead (a start in the past
/// means "as soon as possible" and is kept as given).
pub fn check_window(not_before: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), DomainError> {
    match not_before {
        Some(t) if t > now + Duration::days(MAX_WINDOW_DAYS) => Err(DomainError::invalid(
            "not_before",
            format!("the dispatch window may start at most {MAX_WINDOW_DAYS} days ahead"),
        )),
        _ => Ok(()),
    }
}

/// Whether an item may go with a collection at `collection_at`: its window has started by then.
pub fn window_open(not_before: Option<DateTime<Utc>>, collection_at: DateTime<Utc>) -> bool {
    not_before.is_none_or(|t| t <= collection_at)
}

/// The carrier's tracking number as recorded at dispatch: 4–40 letters and digits (spaces and
/// hyphens dropped, upper case).
pub fn normalize_carrier_tracking(raw: &str) -> Result<String, DomainError> {
    crate::item::normalize_tracking(raw).map_err(|e| DomainError { field: Some("tracking_number".into()), ..e })
}

/// A registered-mail or courier receipt: who signed, when, and the receipt's number.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    pub signed_by: String,
    pub number: Option<String>,
}

impl Receipt {
    pub fn validate(signed_by: &str, number: Option<&str>) -> Result<Receipt, DomainError> {
        let signed_by = text::required("signed_by", signed_by, 200)?;
        let number = text::optional("receipt_number", number, 64)?;
        Ok(Receipt { signed_by, number })
    }
}

// A batch of outbound items for one carrier's collection.
string_enum!(
    BatchStatus { Open = "open", HandedOver = "handed_over" }
);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn lifecycle() {
        let m = Method::Registered;
        assert_eq!(next_status(Status::AwaitingApproval, OutboundAction::Approve, m).ok(), Some(Status::Requested));
        assert_eq!(next_status(Status::AwaitingApproval, OutboundAction::Reject, m).ok(), Some(Status::Cancelled));
        assert_eq!(next_status(Status::Requested, OutboundAction::Accept, m).ok(), Some(Status::Accepted));
        assert_eq!(next_status(Status::Accepted, OutboundAction::Dispatch, m).ok(), Some(Status::Dispatched));
        assert_eq!(next_status(Status::Dispatched, OutboundAction::ConfirmDelivery, m).ok(), Some(Status::Delivered));
        assert_eq!(next_status(Status::Dispatched, OutboundAction::Return, m).ok(), Some(Status::ReturnedToSender));
        for s in [Status::AwaitingApproval, Status::Requested, Status::Accepted] {
            assert_eq!(next_status(s, OutboundAction::Cancel, m).ok(), Some(Status::Cancelled));
        }
        // No skipping: a request is not dispatched before it is accepted, an unapproved one
        // is not accepted, a dispatched one is not cancelled.
        assert!(next_status(Status::Requested, OutboundAction::Dispatch, m).is_err());
        assert!(next_status(Status::AwaitingApproval, OutboundAction::Accept, m).is_err());
        assert!(next_status(Status::Dispatched, OutboundAction::Cancel, m).is_err());
        assert!(next_status(Status::Requested, OutboundAction::Approve, m).is_err());
        // Inbound statuses take no outbound action, and outbound ones no inbound action.
        for s in Status::ALL.iter().filter(|s| !s.is_outbound()) {
            if !matches!(s, Status::Delivered | Status::ReturnedToSender) {
                assert!(allowed_actions(*s, m).is_empty(), "{s}");
            }
        }
        for s in Status::ALL.iter().filter(|s| s.is_outbound()) {
            assert!(crate::item::allowed_actions(*s).is_empty(), "{s}");
        }
        assert!(Status::Cancelled.is_terminal() && !Status::Dispatched.is_terminal());
    }

    #[test]
    fn electronic_transfer_skips_the_physical_steps() {
        let m = Method::EncryptedElectronic;
        assert!(next_status(Status::Requested, OutboundAction::Accept, m).is_err());
        assert_eq!(next_status(Status::Requested, OutboundAction::Dispatch, m).ok(), Some(Status::Dispatched));
        assert!(next_status(Status::Dispatched, OutboundAction::Return, m).is_err());
        assert!(!needs_customs("US", m));
        assert!(check_method(m, Zone::World, ItemKind::Parcel, Some("a@b.com")).is_err());
        assert!(check_method(m, Zone::World, ItemKind::Document, None).is_err());
        assert!(check_method(m, Zone::World, ItemKind::Document, Some("not-an-address")).is_err());
        assert!(check_method(m, Zone::Domestic, ItemKind::Document, Some("li.na@example.cn")).is_ok());
    }

    #[test]
    fn methods_and_customs_by_destination() {
        assert!(check_method(Method::International, Zone::Domestic, ItemKind::Parcel, None).is_err());
        assert!(check_method(Method::International, Zone::Local, ItemKind::Parcel, None).is_err());
        assert!(check_method(Method::International, Zone::Asia, ItemKind::Parcel, None).is_ok());
        assert!(check_method(Method::Registered, Zone::World, ItemKind::Letter, None).is_err());
        assert!(check_method(Method::Standard, Zone::HkMoTw, ItemKind::Letter, None).is_err());
        assert!(check_method(Method::Registered, Zone::Domestic, ItemKind::Letter, None).is_ok());
        assert!(check_method(Method::Express, Zone::World, ItemKind::Parcel, None).is_ok());
        assert!(check_method(Method::Express, Zone::Local, ItemKind::Parcel, None).is_ok());
        assert!(needs_customs("HK", Method::Express));
        assert!(needs_customs("us", Method::International));
        assert!(!needs_customs("CN", Method::Express));
        assert!(!needs_customs("cn", Method::Registered));
    }

    #[test]
    fn approval_windows_and_receipts() {
        assert!(needs_approval(Money(5001), Some(Money(5000))));
        assert!(!needs_approval(Money(5000), Some(Money(5000))));
        assert!(!needs_approval(Money(100_000_000), None));
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 8, 0, 0).unwrap();
        assert!(check_window(None, now).is_ok());
        assert!(check_window(Some(now - Duration::days(3)), now).is_ok());
        assert!(check_window(Some(now + Duration::days(30)), now).is_ok());
        assert!(check_window(Some(now + Duration::days(400)), now).is_err());
        let tuesday_10 = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap();
        assert!(window_open(Some(tuesday_10), tuesday_10));
        assert!(!window_open(Some(tuesday_10), tuesday_10 - Duration::minutes(1)));
        assert!(window_open(None, now));
        assert!(Receipt::validate("  ", None).is_err());
        assert_eq!(Receipt::validate(" 王芳 ", Some("RR123")).unwrap().signed_by, "王芳");
        assert_eq!(normalize_carrier_tracking(" ee 123-456 789 cn").unwrap(), "EE123456789CN");
        assert_eq!(normalize_carrier_tracking("1").unwrap_err().field.as_deref(), Some("tracking_number"));
        assert!(looks_like_email("a.b@c.de") && !looks_like_email("a b@c.de") && !looks_like_email("ab@cde"));
    }
}
