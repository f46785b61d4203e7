//! The exception queue of two-stage intake: why an item waits for a person to decide who it is
//! for, and how a label's recipient text is matched against the directory.

use crate::DomainError;
use crate::item::string_enum;

string_enum!(
    /// Why an item is in the exception queue: only scanned, nobody read the recipient yet
    /// (`missing_recipient`); the label's text fits several people (`ambiguous_recipient`); it
    /// fits nobody in the directory (`unreadable_recipient`).
    ExceptionReason {
        MissingRecipient = "missing_recipient",
        AmbiguousRecipient = "ambiguous_recipient",
        UnreadableRecipient = "unreadable_recipient",
    }
);

string_enum!(
    ExceptionStatus { Open = "open", Resolved = "resolved" }
);

string_enum!(
    /// How an exception was resolved: the recipient was identified (a person or a department)
    /// and set on the item (`assign_recipient`), the item went back to the sender
    /// (`return_to_sender`), or it left the mailroom through one of its own actions (returned,
    /// forwarded, handed over) while the exception was open (`item_left`; never chosen).
    Resolution {
        AssignRecipient = "assign_recipient",
        ReturnToSender = "return_to_sender",
        ItemLeft = "item_left",
    }
);

/// What the recipient text of a label comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientMatch {
    /// One person: the index of the candidate.
    One(usize),
    /// No text was given.
    Missing,
    /// The text fits nobody.
    Unreadable,
    /// The text fits several people and none of them exactly.
    Ambiguous,
}

impl RecipientMatch {
    /// The exception an intake with this outcome opens, if any.
    pub fn reason(self) -> Option<ExceptionReason> {
        match self {
            RecipientMatch::One(_) => None,
            RecipientMatch::Missing => Some(ExceptionReason::MissingRecipient),
            RecipientMatch::Unreadable => Some(ExceptionReason::UnreadableRecipient),
            RecipientMatch::Ambiguous => Some(ExceptionReason::AmbiguousRecipient),
        }
    }
}

fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Decides what a label's recipient text means, given the people a directory search found for
/// it (each with the names they are known by: native, Latin/pinyin, aliases). A single hit is
/// the recipient; among several, one whose name is exactly the text (ignoring case and spacing)
/// is; otherwise the text is ambiguous.
pub fn match_recipient(label: Option<&str>, candidates: &[Vec<&str>]) -> RecipientMatch {
    let Some(label) = label.map(fold).filter(|l| !l.is_empty()) else { return RecipientMatch::Missing };
    match candidates.len() {
        0 => RecipientMatch::Unreadable,
        1 => RecipientMatch::One(0),
        _ => {
            let mut exact = candidates.iter().enumerate().filter(|(_, names)| names.iter().any(|n| fold(n) == label));
            match (exact.next(), exact.next()) {
                (Some((i, _)), None) => RecipientMatch::One(i),
                _ => RecipientMatch::Ambiguous,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        assert_eq!(match_recipient(None, &[]), RecipientMatch::Missing);
        assert_eq!(match_recipient(Some("  "), &[vec!["王伟"]]), RecipientMatch::Missing);
        assert_eq!(match_recipient(Some("Nobody"), &[]), RecipientMatch::Unreadable);
        assert_eq!(match_recipient(Some("wang"), &[vec!["王伟", "Wang Wei"]]), RecipientMatch::One(0));
        let two = [vec!["王伟", "Wang Wei"], vec!["王芳", "Wang Fang"]];
        assert_eq!(match_recipient(Some("Wang"), &two), RecipientMatch::Ambiguous);
        assert_eq!(match_recipient(Some(" wang   FANG "), &two), RecipientMatch::One(1));
        let namesakes = [vec!["王伟", "Wang Wei"], vec!["王伟", "Wang Wei"]];
        assert_eq!(match_recipient(Some("王伟"), &namesakes), RecipientMatch::Ambiguous);
        assert_eq!(RecipientMatch::Ambiguous.reason(), Some(ExceptionReason::AmbiguousRecipient));
        assert_eq!(RecipientMatch::One(0).reason(), None);
    }
}
