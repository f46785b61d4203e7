//! Where to put an item at intake: a storage location suggested from what is known about it.
//!
//! A location qualifies when its security level is at least the item's (see
//! [`crate::item::security_level`]). Among those, the suggestion wastes as little security as
//! possible (an internal letter does not go to the secure room while a shelf is free), then prefers a
//! location whose kind suits the item (letters to shelves, parcels to lockers or shelves), then the
//! emptiest, then the lowest code, so the same facts always give the same answer. For drug samples
//! (cold storage, else locked away) and storage media (the secure room) the kind comes first.

use crate::item::{Category, ItemKind};

/// A storage location as placement sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot<Id> {
    pub id: Id,
    pub code: String,
    /// shelf, locker, secure_room, cage, cold_storage …
    pub kind: String,
    pub security_level: i64,
    /// Items stored there now (0 when unknown).
    pub occupancy: i64,
}

/// Why a location was suggested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The least secure location that is secure enough, of a kind suited to the item.
    SuitedKind,
    /// The least secure location that is secure enough (none of a suited kind qualified).
    SecureEnough,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SuitedKind => "suited_kind",
            Reason::SecureEnough => "secure_enough",
        }
    }
}

/// Location kinds suited to an item, best first, and whether the kind matters more than saving
/// security (drug samples belong in cold storage or locked away even when a shelf would do).
pub fn suited_kinds(kind: ItemKind, category: Category) -> (&'static [&'static str], bool) {
    if category == Category::DrugSample {
        return (&["cold_storage", "secure_room", "locker"], true);
    }
    match kind {
        ItemKind::StorageMedia => (&["secure_room", "safe"], true),
        ItemKind::Parcel | ItemKind::Package => (&["locker", "shelf", "cage"], false),
        ItemKind::Pallet => (&["cage", "shelf"], false),
        ItemKind::Letter | ItemKind::Document | ItemKind::Periodical => (&["shelf", "pigeonhole", "locker"], false),
    }
}

/// The suggested location for an item needing `required_level`, or `None` when no location is
/// secure enough.
pub fn suggest<Id: Clone>(
    kind: ItemKind,
    category: Category,
    required_level: i64,
    slots: &[Slot<Id>],
) -> Option<(Id, Reason)> {
    let (suited, kind_first) = suited_kinds(kind, category);
    let rank = |s: &Slot<Id>| suited.iter().position(|k| k.eq_ignore_ascii_case(&s.kind)).unwrap_or(suited.len());
    let key = |s: &Slot<Id>| {
        let (waste, rank) = (s.security_level - required_level, rank(s));
        let (first, second) = if kind_first { (rank as i64, waste) } else { (waste, rank as i64) };
        (first, second, s.occupancy, s.code.clone())
    };
    let best = slots.iter().filter(|s| s.security_level >= required_level).min_by_key(|s| key(s))?;
    let reason = if rank(best) < suited.len() { Reason::SuitedKind } else { Reason::SecureEnough };
    Some((best.id.clone(), reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(id: u32, code: &str, kind: &str, level: i64, occupancy: i64) -> Slot<u32> {
        Slot { id, code: code.into(), kind: kind.into(), security_level: level, occupancy }
    }

    /// The demo site's locations: two shelves, two lockers (internal), a secure room.
    fn site() -> Vec<Slot<u32>> {
        vec![
            slot(1, "SH-S1", "shelf", 0, 10),
            slot(2, "SH-S2", "shelf", 0, 3),
            slot(3, "SH-L01", "locker", 1, 0),
            slot(4, "SH-L02", "locker", 1, 5),
            slot(5, "SH-SEC", "secure_room", 3, 0),
        ]
    }

    #[test]
    fn table() {
        let s = site();
        let cases = [
            // kind, category, required level → location, reason
            (ItemKind::Letter, Category::General, 0, Some((2, Reason::SuitedKind))),
            (ItemKind::Parcel, Category::General, 0, Some((2, Reason::SuitedKind))),
            (ItemKind::Parcel, Category::General, 1, Some((3, Reason::SuitedKind))),
            (ItemKind::Document, Category::Invoice, 2, Some((5, Reason::SecureEnough))),
            (ItemKind::Document, Category::PatientReport, 3, Some((5, Reason::SecureEnough))),
            (ItemKind::StorageMedia, Category::General, 2, Some((5, Reason::SuitedKind))),
            (ItemKind::Letter, Category::General, 4, None),
        ];
        for (kind, category, level, want) in cases {
            assert_eq!(suggest(kind, category, level, &s), want, "{kind:?} {category:?} level {level}");
        }
    }

    #[test]
    fn cold_storage_for_drug_samples_when_there_is_one() {
        let mut s = site();
        assert_eq!(suggest(ItemKind::Parcel, Category::DrugSample, 0, &s), Some((5, Reason::SuitedKind)));
        s.push(slot(6, "SH-COLD", "cold_storage", 0, 40));
        assert_eq!(suggest(ItemKind::Parcel, Category::DrugSample, 0, &s), Some((6, Reason::SuitedKind)));
    }

    #[test]
    fn emptiest_then_code_breaks_ties() {
        let s = vec![slot(1, "B", "shelf", 0, 2), slot(2, "A", "shelf", 0, 2), slot(3, "C", "shelf", 0, 1)];
        assert_eq!(suggest(ItemKind::Letter, Category::General, 0, &s).map(|x| x.0), Some(3));
        let s = vec![slot(1, "B", "shelf", 0, 2), slot(2, "A", "shelf", 0, 2)];
        assert_eq!(suggest(ItemKind::Letter, Category::General, 0, &s).map(|x| x.0), Some(2));
    }

    #[test]
    fn never_less_secure_than_required() {
        let s = site();
        for level in 0..=4 {
            for kind in ItemKind::ALL {
                if let Some((id, _)) = suggest(*kind, Category::General, level, &s) {
                    let chosen = s.iter().find(|x| x.id == id).map(|x| x.security_level);
                    assert!(chosen >= Some(level), "{kind:?} at level {level} went to {id}");
                }
            }
        }
        assert_eq!(suggest::<u32>(ItemKind::Letter, Category::General, 0, &[]), None);
    }
}
