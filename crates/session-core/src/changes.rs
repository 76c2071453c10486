//! Change tracking: what a request did to its session, so release writes only that and an
//! engine can replay it onto the latest stored state (no lost updates between requests).

use std::collections::BTreeMap;

use crate::data::SessionData;
use crate::expiry::Expiry;

/// One key's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The key was set to this encoded value.
    Set(Vec<u8>),
    /// The key was deleted.
    Delete,
}

/// The changes one request made to a session, in a form that can be merged.
///
/// A `flush` is remembered as "clear everything first", so replaying the set onto a newer
/// stored state clears the keys another request added too, as the user asked. A new
/// [`Expiry`] chosen for the session travels with the changes the same way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    cleared: bool,
    changes: BTreeMap<String, Change>,
    /// `Some(expiry)`: the session's own expiry was set to `expiry` (`None`: the default).
    expiry: Option<Option<Expiry>>,
}

impl ChangeSet {
    /// No changes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `key = value`.
    pub fn set(&mut self, key: &str, value: Vec<u8>) {
        self.changes.insert(key.to_owned(), Change::Set(value));
    }

    /// Records the deletion of `key`.
    pub fn delete(&mut self, key: &str) {
        self.changes.insert(key.to_owned(), Change::Delete);
    }

    /// Records a flush: every key is gone, earlier changes to keys included (an expiry
    /// change stays: a flush removes values, not the session).
    pub fn clear(&mut self) {
        self.cleared = true;
        self.changes.clear();
    }

    /// Records that the session's own expiry became `expiry` (`None`: the manager's
    /// default).
    pub fn set_expiry(&mut self, expiry: Option<Expiry>) {
        self.expiry = Some(expiry);
    }

    /// The expiry change, if the expiry was set: `Some(None)` means "back to the default".
    pub fn expiry(&self) -> Option<Option<Expiry>> {
        self.expiry
    }

    /// Appends the changes of `later` (made after these): a later flush clears what came
    /// before it, later sets and deletes win per key, a later expiry wins.
    pub fn extend(&mut self, later: ChangeSet) {
        if later.cleared {
            self.clear();
        }
        self.changes.extend(later.changes);
        if later.expiry.is_some() {
            self.expiry = later.expiry;
        }
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.cleared && self.changes.is_empty() && self.expiry.is_none()
    }

    /// True when the session was flushed.
    pub fn cleared(&self) -> bool {
        self.cleared
    }

    /// The per-key changes, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Change)> {
        self.changes.iter().map(|(k, c)| (k.as_str(), c))
    }

    /// Replays the changes onto `data` (typically the latest stored state).
    pub fn apply_to(&self, data: &mut SessionData) {
        if self.cleared {
            data.clear();
        }
        if let Some(expiry) = self.expiry {
            data.set_expiry(expiry);
        }
        for (key, change) in &self.changes {
            match change {
                Change::Set(value) => data.insert(key.clone(), value.clone()),
                Change::Delete => {
                    data.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, u8)]) -> SessionData {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), vec![*v]))
            .collect()
    }

    #[test]
    fn replays_sets_and_deletes_onto_newer_state() {
        let mut mine = ChangeSet::new();
        mine.set("a", vec![1]);
        mine.delete("gone");
        let mut latest = data(&[("gone", 0), ("theirs", 7)]);
        mine.apply_to(&mut latest);
        assert_eq!(latest, data(&[("a", 1), ("theirs", 7)]));
    }

    #[test]
    fn later_changes_extend_earlier_ones() {
        let mut first = ChangeSet::new();
        first.set("a", vec![1]);
        first.set("b", vec![1]);
        let mut later = ChangeSet::new();
        later.delete("a");
        later.set_expiry(Some(Expiry::OnSessionEnd));
        first.extend(later);
        let mut data = SessionData::new();
        first.apply_to(&mut data);
        assert_eq!((data.get("a"), data.get("b")), (None, Some(&[1u8][..])));
        assert_eq!(data.meta().expiry, Some(Expiry::OnSessionEnd));
        let mut flushed = ChangeSet::new();
        flushed.clear();
        first.extend(flushed);
        assert!(first.cleared() && first.iter().next().is_none());
    }

    #[test]
    fn an_expiry_change_is_replayed_too() {
        let mut mine = ChangeSet::new();
        assert!(mine.is_empty());
        mine.set_expiry(Some(Expiry::OnSessionEnd));
        assert!(!mine.is_empty());
        let mut latest = data(&[("theirs", 7)]);
        mine.apply_to(&mut latest);
        assert_eq!(latest.meta().expiry, Some(Expiry::OnSessionEnd));
        assert_eq!(latest.get("theirs"), Some(&[7u8][..]));
    }

    #[test]
    fn flush_then_set_keeps_only_the_later_sets() {
        let mut mine = ChangeSet::new();
        mine.set("old", vec![1]);
        mine.clear();
        mine.set("new", vec![2]);
        assert!(!mine.is_empty());
        let mut latest = data(&[("theirs", 7)]);
        mine.apply_to(&mut latest);
        assert_eq!(latest, data(&[("new", 2)]));
    }
}
