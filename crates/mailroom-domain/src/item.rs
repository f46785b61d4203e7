//! Mail items and their lifecycle state machine.

use crate::ids::{DepartmentId, LocationId, PersonId};
use crate::{DomainError, ErrorCode, text};
use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s.trim() { $($s => Some($name::$variant),)* _ => None }
            }
            /// Parses user input, naming the field and the accepted values on failure.
            pub fn parse_field(field: &str, s: &str) -> Result<Self, DomainError> {
                Self::parse(s).ok_or_else(|| DomainError::invalid(field, format!(
                    "{field} must be one of: {}",
                    Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                )))
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// What physically arrived.
    ItemKind {
        Letter = "letter",
        Document = "document",
        Parcel = "parcel",
        Package = "package",
        Periodical = "periodical",
        Pallet = "pallet",
        StorageMedia = "storage_media",
    }
);

string_enum!(
    /// What the item is about; drives routing and, later, service levels.
    Category {
        General = "general",
        Contract = "contract",
        Invoice = "invoice",
        BankStatement = "bank_statement",
        CustomerCorrespondence = "customer_correspondence",
        Complaint = "complaint",
        Legal = "legal",
        PatientReport = "patient_report",
        DrugSample = "drug_sample",
        Literature = "literature",
        Conference = "conference",
        Personal = "personal",
    }
);

string_enum!(
    Priority { Normal = "normal", High = "high", Urgent = "urgent" }
);

string_enum!(
    Confidentiality {
        Internal = "internal",
        Confidential = "confidential",
        StrictlyConfidential = "strictly_confidential",
    }
);

string_enum!(
    Condition { Intact = "intact", Damaged = "damaged" }
);

string_enum!(
    /// Where an item is in its life.
    Status {
        Received = "received",
        Stored = "stored",
        Notified = "notified",
        OutForDelivery = "out_for_delivery",
        Delivered = "delivered",
        ReadyForPickup = "ready_for_pickup",
        PickedUp = "picked_up",
        Held = "held",
        ReturnedToSender = "returned_to_sender",
        Forwarded = "forwarded",
        Disposed = "disposed",
        // Outbound mail (see `outbound`): requested by an employee or staff, waiting for a
        // cost-centre approver, accepted for dispatch (weighed, customs checked, postage paid),
        // handed to the carrier, or cancelled before it left. A delivery confirmed by the
        // carrier's receipt ends as `delivered`; an item the carrier brought back as
        // `returned_to_sender`.
        Requested = "requested",
        AwaitingApproval = "awaiting_approval",
        Accepted = "accepted",
        Dispatched = "dispatched",
        Cancelled = "cancelled",
    }
);

string_enum!(
    /// Things staff do to an item. Each is checked against the state machine. `open` opens a
    /// sealed confidential item in a secure area (the seal number is checked); `reseal` seals it
    /// again in a new bag with a new seal number and classification marking. `dispose` (status
    /// `disposed`) happens only when a supervisor approves a disposal request (see `followup`).
    Action {
        Store = "store",
        Notify = "notify",
        OutForDelivery = "out_for_delivery",
        Deliver = "deliver",
        ReadyForPickup = "ready_for_pickup",
        PickUp = "pick_up",
        Hold = "hold",
        Release = "release",
        ReturnToSender = "return_to_sender",
        Forward = "forward",
        Move = "move",
        Open = "open",
        Reseal = "reseal",
        Dispose = "dispose",
    }
);

string_enum!(
    /// How a recipient proved who they are at a handover.
    IdType { StaffCard = "staff_card", NationalId = "national_id", Passport = "passport", Other = "other" }
);

impl Status {
    /// No further transitions are possible.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Delivered
                | Status::PickedUp
                | Status::ReturnedToSender
                | Status::Forwarded
                | Status::Disposed
                | Status::Cancelled
        )
    }
    /// A status only outbound items take.
    pub fn is_outbound(self) -> bool {
        matches!(
            self,
            Status::Requested | Status::AwaitingApproval | Status::Accepted | Status::Dispatched | Status::Cancelled
        )
    }
    /// Waiting in the mailroom for the recipient to collect or receive it (what the unclaimed
    /// item policies look at).
    pub fn awaits_recipient(self) -> bool {
        matches!(self, Status::Stored | Status::Notified | Status::ReadyForPickup)
    }
    /// The item is physically in the mailroom.
    pub fn in_mailroom(self) -> bool {
        matches!(self, Status::Received | Status::Stored | Status::Notified | Status::ReadyForPickup | Status::Held)
    }
}

impl Action {
    /// Whether this action needs a handover record (who took it, signature, place).
    pub fn is_handover(self) -> bool {
        matches!(self, Action::Deliver | Action::PickUp)
    }
    /// Whether this action needs a storage location.
    pub fn needs_location(self) -> bool {
        matches!(self, Action::Store | Action::Move | Action::Open | Action::Reseal)
    }
    /// Whether the item physically leaves the mailroom's custody.
    pub fn leaves_mailroom(self) -> bool {
        matches!(
            self,
            Action::OutForDelivery
                | Action::Deliver
                | Action::PickUp
                | Action::ReturnToSender
                | Action::Forward
                | Action::Dispose
        )
    }
    /// Whether the action may only follow a supervisor's approval.
    pub fn needs_approval(self) -> bool {
        matches!(self, Action::Dispose)
    }
    /// Whether the action changes where the item is stored (open and reseal happen in a secure
    /// area but leave the item's storage location as it is).
    pub fn moves_item(self) -> bool {
        matches!(self, Action::Store | Action::Move)
    }
}

/// The lifecycle: the single source of truth for which action is allowed in which status.
///
/// received → stored → notified → (out for delivery → delivered) | (ready for pickup → picked up);
/// held, returned to sender, forwarded and disposed are reachable from any status in which the
/// item is still in the mailroom. A failed delivery goes back to `stored`.
pub fn next_status(from: Status, action: Action) -> Result<Status, DomainError> {
    use Action as A;
    use Status as S;
    let to = match (from, action) {
        (S::Received | S::OutForDelivery, A::Store) => Some(S::Stored),
        (S::Stored, A::Notify) => Some(S::Notified),
        (S::Stored | S::Notified, A::OutForDelivery) => Some(S::OutForDelivery),
        (S::OutForDelivery, A::Deliver) => Some(S::Delivered),
        (S::Stored | S::Notified, A::ReadyForPickup) => Some(S::ReadyForPickup),
        (S::ReadyForPickup, A::PickUp) => Some(S::PickedUp),
        (S::Received | S::Stored | S::Notified | S::ReadyForPickup, A::Hold) => Some(S::Held),
        (S::Held, A::Release) => Some(S::Stored),
        (s, A::ReturnToSender | A::Forward | A::Dispose) if s.in_mailroom() => Some(match action {
            A::Forward => S::Forwarded,
            A::Dispose => S::Disposed,
            _ => S::ReturnedToSender,
        }),
        (s @ (S::Stored | S::Notified | S::ReadyForPickup | S::Held), A::Move) => Some(s),
        (s, A::Open | A::Reseal) if s.in_mailroom() => Some(s),
        _ => None,
    };
    to.ok_or_else(|| {
        DomainError::new(
            ErrorCode::InvalidTransition,
            format!("cannot {} an item that is {}", action.as_str().replace('_', " "), from.as_str().replace('_', " ")),
        )
    })
}

/// The security level an item demands of its storage location and of the staff who handle it:
/// 0 for internal items, 2 for confidential ones and for storage media (which must always live
/// in a restricted location), 3 for strictly confidential ones.
pub fn security_level(kind: ItemKind, confidentiality: Confidentiality) -> i64 {
    let by_class = match confidentiality {
        Confidentiality::Internal => 0,
        Confidentiality::Confidential => 2,
        Confidentiality::StrictlyConfidential => 3,
    };
    if kind == ItemKind::StorageMedia { by_class.max(2) } else { by_class }
}

/// Normalises a seal or confidential-bag number for comparison (case and spaces ignored).
pub fn normalize_seal(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect()
}

/// Actions allowed from a status, for menus and API hints.
pub fn allowed_actions(from: Status) -> Vec<Action> {
    Action::ALL.iter().copied().filter(|a| next_status(from, *a).is_ok()).collect()
}

/// Who an item is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Recipient {
    Person(PersonId),
    Department(DepartmentId),
}

/// Normalises a scanned or typed tracking number: strips spaces and dashes, upper-cases,
/// and requires 4–64 ASCII letters and digits.
pub fn normalize_tracking(raw: &str) -> Result<String, DomainError> {
    let t: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '\u{1d}')
        .flat_map(char::to_uppercase)
        .collect();
    if t.len() < 4 || t.len() > 64 || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(DomainError::invalid(
            "tracking_number",
            "tracking_number must be 4–64 letters and digits (spaces and dashes are ignored)",
        ));
    }
    Ok(t)
}

/// Validated input for registering an inbound item.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub kind: ItemKind,
    pub category: Category,
    pub priority: Priority,
    pub confidentiality: Confidentiality,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub sender_name: Option<String>,
    pub sender_org: Option<String>,
    pub sender_address: Option<String>,
    pub sender_country: Option<String>,
    /// `None` for an item registered before anyone read its recipient (two-stage intake).
    pub recipient: Option<Recipient>,
    pub condition: Condition,
    pub damage_description: Option<String>,
    pub notes: Option<String>,
    pub seal_number: Option<String>,
}

/// Raw, unvalidated fields for a new item, as they come from the API, the console or a file.
#[derive(Debug, Clone, Default)]
pub struct NewItemInput<'a> {
    pub kind: Option<&'a str>,
    pub category: Option<&'a str>,
    pub priority: Option<&'a str>,
    pub confidentiality: Option<&'a str>,
    pub carrier: Option<&'a str>,
    pub tracking_number: Option<&'a str>,
    pub sender_name: Option<&'a str>,
    pub sender_org: Option<&'a str>,
    pub sender_address: Option<&'a str>,
    pub sender_country: Option<&'a str>,
    pub condition: Option<&'a str>,
    pub damage_description: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub seal_number: Option<&'a str>,
}

impl NewItem {
    pub fn validate(input: &NewItemInput<'_>, recipient: Option<Recipient>) -> Result<NewItem, DomainError> {
        fn opt_enum<T>(
            v: Option<&str>,
            default: T,
            f: impl Fn(&str) -> Result<T, DomainError>,
        ) -> Result<T, DomainError> {
            match v.map(str::trim) {
                None | Some("") => Ok(default),
                Some(s) => f(s),
            }
        }
        let kind = opt_enum(input.kind, ItemKind::Parcel, |s| ItemKind::parse_field("kind", s))?;
        let category = opt_enum(input.category, Category::General, |s| Category::parse_field("category", s))?;
        let priority = opt_enum(input.priority, Priority::Normal, |s| Priority::parse_field("priority", s))?;
        let confidentiality = opt_enum(input.confidentiality, Confidentiality::Internal, |s| {
            Confidentiality::parse_field("confidentiality", s)
        })?;
        let condition = opt_enum(input.condition, Condition::Intact, |s| Condition::parse_field("condition", s))?;
        let damage_description = text::optional("damage_description", input.damage_description, 2000)?;
        if condition == Condition::Damaged && damage_description.is_none() {
            return Err(DomainError::invalid("damage_description", "describe the damage of a damaged item"));
        }
        let tracking_number = match input.tracking_number.map(str::trim) {
            None | Some("") => None,
            Some(t) => Some(normalize_tracking(t)?),
        };
        let sender_country = match text::optional("sender_country", input.sender_country, 2)? {
            None => None,
            Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => Some(c.to_ascii_uppercase()),
            Some(_) => {
                return Err(DomainError::invalid("sender_country", "sender_country must be a two-letter ISO code"));
            }
        };
        let seal_number = text::optional("seal_number", input.seal_number, 64)?;
        if confidentiality != Confidentiality::Internal && seal_number.is_none() {
            return Err(DomainError::invalid(
                "seal_number",
                "a confidential item is registered with the number of its seal or confidential bag",
            ));
        }
        Ok(NewItem {
            kind,
            category,
            priority,
            confidentiality,
            carrier: text::optional("carrier", input.carrier, 64)?.map(|c| c.to_lowercase()),
            tracking_number,
            sender_name: text::optional("sender_name", input.sender_name, 200)?,
            sender_org: text::optional("sender_org", input.sender_org, 200)?,
            sender_address: text::optional("sender_address", input.sender_address, 1000)?,
            sender_country,
            recipient,
            condition,
            damage_description,
            notes: text::optional("notes", input.notes, 4000)?,
            seal_number: seal_number.map(|s| normalize_seal(&s)),
        })
    }
}

/// The record of a delivery or pickup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Handover {
    /// The name of the person who physically took the item.
    pub taken_by: String,
    /// The directory entry of that person, when known.
    pub taken_by_person: Option<PersonId>,
    pub place: Option<String>,
    pub id_type: Option<IdType>,
    /// Last digits of the ID shown, never the whole number.
    pub id_last_digits: Option<String>,
}

/// A validated transition request.
#[derive(Debug, Clone)]
pub struct Transition {
    pub action: Action,
    pub location: Option<LocationId>,
    pub note: Option<String>,
    pub handover: Option<Handover>,
}

impl Transition {
    /// Checks that the fields the action needs are present (and no handover on other actions).
    pub fn validate(
        action: Action,
        location: Option<LocationId>,
        note: Option<&str>,
        handover: Option<Handover>,
        has_signature: bool,
    ) -> Result<Transition, DomainError> {
        if action.needs_location() && location.is_none() {
            let what = if action.moves_item() { "a storage location" } else { "the secure area where it happens" };
            return Err(DomainError::invalid("location_id", format!("{} needs {what}", action.as_str())));
        }
        let note = text::optional("note", note, 2000)?;
        if matches!(action, Action::Hold | Action::ReturnToSender | Action::Forward | Action::Dispose) && note.is_none()
        {
            return Err(DomainError::invalid("note", format!("{} needs a reason in note", action.as_str())));
        }
        let handover = match (action.is_handover(), handover) {
            (true, None) => {
                return Err(DomainError::invalid("handover", "a delivery or pickup needs a handover record"));
            }
            (true, Some(h)) => {
                let taken_by = text::required("handover.taken_by", &h.taken_by, 200)?;
                if !has_signature {
                    return Err(DomainError::invalid("signature", "a delivery or pickup needs a signature"));
                }
                let id_last_digits = text::optional("handover.id_last_digits", h.id_last_digits.as_deref(), 6)?;
                if let Some(d) = &id_last_digits
                    && !d.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    return Err(DomainError::invalid(
                        "handover.id_last_digits",
                        "only the last 1-6 letters or digits of the ID",
                    ));
                }
                Some(Handover {
                    taken_by,
                    taken_by_person: h.taken_by_person,
                    place: text::optional("handover.place", h.place.as_deref(), 200)?,
                    id_type: h.id_type,
                    id_last_digits,
                })
            }
            (false, Some(_)) => {
                return Err(DomainError::invalid("handover", "only deliver and pick_up take a handover record"));
            }
            (false, None) => None,
        };
        Ok(Transition { action, location: if action.needs_location() { location } else { None }, note, handover })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn happy_paths() {
        let mut s = Status::Received;
        for a in [Action::Store, Action::Notify, Action::OutForDelivery, Action::Deliver] {
            s = next_status(s, a).unwrap_or(Status::Held);
        }
        assert_eq!(s, Status::Delivered);
        let mut s = Status::Received;
        for a in [Action::Store, Action::Notify, Action::ReadyForPickup, Action::PickUp] {
            s = next_status(s, a).unwrap_or(Status::Held);
        }
        assert_eq!(s, Status::PickedUp);
    }

    #[test]
    fn invalid_transitions_are_refused_with_code() {
        let e = next_status(Status::Received, Action::Deliver).err();
        assert_eq!(e.map(|e| e.code), Some(ErrorCode::InvalidTransition));
        assert!(next_status(Status::Delivered, Action::Store).is_err());
        assert!(next_status(Status::Received, Action::Notify).is_err());
        assert!(next_status(Status::OutForDelivery, Action::PickUp).is_err());
        assert_eq!(next_status(Status::OutForDelivery, Action::Store).ok(), Some(Status::Stored));
        assert_eq!(next_status(Status::Held, Action::Release).ok(), Some(Status::Stored));
    }

    #[test]
    fn open_and_reseal_keep_the_status_and_storage_media_are_restricted() {
        assert_eq!(next_status(Status::Stored, Action::Open).ok(), Some(Status::Stored));
        assert_eq!(next_status(Status::Held, Action::Reseal).ok(), Some(Status::Held));
        assert!(next_status(Status::OutForDelivery, Action::Open).is_err());
        assert!(next_status(Status::Delivered, Action::Reseal).is_err());
        assert_eq!(security_level(ItemKind::StorageMedia, Confidentiality::Internal), 2);
        assert_eq!(security_level(ItemKind::StorageMedia, Confidentiality::StrictlyConfidential), 3);
        assert_eq!(security_level(ItemKind::Letter, Confidentiality::Internal), 0);
        assert_eq!(normalize_seal(" seal-0001 a"), "SEAL-0001A");
    }

    #[test]
    fn disposal() {
        for s in [Status::Stored, Status::Notified, Status::ReadyForPickup, Status::Held, Status::Received] {
            assert_eq!(next_status(s, Action::Dispose).ok(), Some(Status::Disposed), "{s}");
        }
        for s in [Status::OutForDelivery, Status::Delivered, Status::PickedUp, Status::Disposed] {
            assert!(next_status(s, Action::Dispose).is_err(), "{s}");
        }
        assert!(Status::Disposed.is_terminal());
        assert!(allowed_actions(Status::Disposed).is_empty());
        assert!(Action::Dispose.needs_approval() && !Action::ReturnToSender.needs_approval());
        assert!(Action::Dispose.leaves_mailroom());
        assert!(Transition::validate(Action::Dispose, None, None, None, false).is_err());
        assert!(Transition::validate(Action::Dispose, None, Some("unclaimed 60 days"), None, false).is_ok());
        assert!(Status::Notified.awaits_recipient() && !Status::Held.awaits_recipient());
    }

    #[test]
    fn parse_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(*s));
        }
        assert!(Priority::parse_field("priority", "asap").is_err());
    }

    #[test]
    fn tracking_normalised() {
        assert_eq!(normalize_tracking(" 1z 999-aa1 0123456784 ").ok().as_deref(), Some("1Z999AA10123456784"));
        assert!(normalize_tracking("12").is_err());
        assert!(normalize_tracking("ab*cd").is_err());
    }

    #[test]
    fn damaged_needs_description() {
        let r = Recipient::Person(PersonId::new());
        let input = NewItemInput { condition: Some("damaged"), ..Default::default() };
        assert!(NewItem::validate(&input, Some(r)).is_err());
        let input =
            NewItemInput { condition: Some("damaged"), damage_description: Some("wet corner"), ..Default::default() };
        assert!(NewItem::validate(&input, Some(r)).is_ok());
    }

    #[test]
    fn handover_needs_signature() {
        let h = Handover {
            taken_by: "Li Na".into(),
            taken_by_person: None,
            place: None,
            id_type: None,
            id_last_digits: None,
        };
        assert!(Transition::validate(Action::Deliver, None, None, Some(h.clone()), false).is_err());
        assert!(Transition::validate(Action::Deliver, None, None, Some(h.clone()), true).is_ok());
        assert!(Transition::validate(Action::Notify, None, None, Some(h), true).is_err());
        assert!(Transition::validate(Action::Store, None, None, None, false).is_err());
    }

    fn status() -> impl Strategy<Value = Status> {
        proptest::sample::select(Status::ALL.to_vec())
    }
    fn action() -> impl Strategy<Value = Action> {
        proptest::sample::select(Action::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn terminal_states_accept_nothing(s in status(), a in action()) {
            if s.is_terminal() {
                prop_assert!(next_status(s, a).is_err());
            }
        }

        #[test]
        fn random_walks_stay_in_the_machine(actions in proptest::collection::vec(action(), 0..40)) {
            let mut s = Status::Received;
            for a in actions {
                match next_status(s, a) {
                    Ok(next) => {
                        prop_assert!(!s.is_terminal());
                        if a == Action::Move { prop_assert_eq!(next, s); }
                        s = next;
                    }
                    Err(e) => prop_assert_eq!(e.code, ErrorCode::InvalidTransition),
                }
            }
        }
    }
}
