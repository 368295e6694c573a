//! Expectations: what a controller is still waiting to see in its cache after its own writes, so
//! that a reconcile running on a cache that has not caught up does not create or delete pods a
//! second time (upstream's `ControllerExpectations`).
//!
//! Before creating `n` pods the ReplicaSet controller expects `n` additions; before deleting it
//! expects those pods' deletions. The informer's handlers lower the counts as the changes
//! arrive; a reconcile manages replicas only when the record is satisfied (nothing pending), has
//! expired (a lost event must not wedge the controller forever) or does not exist.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bosun_api::clock::Clock;
use parking_lot::Mutex;

use super::ObjectKey;

/// How long a record is trusted, as upstream.
pub const EXPECTATIONS_TTL: Duration = Duration::from_secs(5 * 60);

/// Pending creations and deletions per controller key.
pub struct Expectations {
    records: Mutex<HashMap<ObjectKey, Record>>,
    clock: Arc<dyn Clock>,
}

struct Record {
    adds: i64,
    deletes: HashSet<ObjectKey>,
    set_at: SystemTime,
}

impl Expectations {
    /// No expectations, with the TTL read on `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Expectations { records: Mutex::new(HashMap::new()), clock }
    }

    /// Whether `controller` may act: nothing pending, the record expired, or no record.
    pub fn satisfied(&self, controller: &ObjectKey) -> bool {
        let records = self.records.lock();
        match records.get(controller) {
            None => true,
            Some(record) => {
                (record.adds <= 0 && record.deletes.is_empty())
                    || self.clock.now().duration_since(record.set_at).unwrap_or_default() > EXPECTATIONS_TTL
            }
        }
    }

    /// `controller` is about to create `count` objects (replacing any earlier record).
    pub fn expect_creations(&self, controller: &ObjectKey, count: usize) {
        let record = Record { adds: count as i64, deletes: HashSet::new(), set_at: self.clock.now() };
        self.records.lock().insert(controller.clone(), record);
    }

    /// `controller` is about to delete `objects` (replacing any earlier record).
    pub fn expect_deletions(&self, controller: &ObjectKey, objects: impl IntoIterator<Item = ObjectKey>) {
        let record = Record { adds: 0, deletes: objects.into_iter().collect(), set_at: self.clock.now() };
        self.records.lock().insert(controller.clone(), record);
    }

    /// A creation by `controller` was seen, or will never happen (the call failed or was not
    /// attempted).
    pub fn creation_observed(&self, controller: &ObjectKey) {
        if let Some(record) = self.records.lock().get_mut(controller) {
            record.adds -= 1;
        }
    }

    /// The deletion of `object` by `controller` was seen, or will never happen.
    pub fn deletion_observed(&self, controller: &ObjectKey, object: &ObjectKey) {
        if let Some(record) = self.records.lock().get_mut(controller) {
            record.deletes.remove(object);
        }
    }

    /// Forgets `controller` (it was deleted).
    pub fn forget(&self, controller: &ObjectKey) {
        self.records.lock().remove(controller);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bosun_api::clock::VirtualClock;
    use std::time::UNIX_EPOCH;

    #[test]
    fn creations_are_pending_until_each_is_observed_or_the_record_expires() {
        let clock = VirtualClock::starting_at(UNIX_EPOCH + Duration::from_secs(10_000));
        let expectations = Expectations::new(Arc::new(clock.clone()));
        let rs = ObjectKey::new("default", "web");
        assert!(expectations.satisfied(&rs), "no record: free to act");
        expectations.expect_creations(&rs, 2);
        assert!(!expectations.satisfied(&rs));
        expectations.creation_observed(&rs);
        assert!(!expectations.satisfied(&rs));
        expectations.creation_observed(&rs);
        assert!(expectations.satisfied(&rs));

        expectations.expect_creations(&rs, 1);
        clock.advance(EXPECTATIONS_TTL + Duration::from_secs(1));
        assert!(expectations.satisfied(&rs), "an expired record does not hold the controller up");
    }

    #[test]
    fn deletions_are_pending_per_object() {
        let clock = VirtualClock::starting_at(UNIX_EPOCH + Duration::from_secs(10_000));
        let expectations = Expectations::new(Arc::new(clock));
        let rs = ObjectKey::new("default", "web");
        let (a, b) = (ObjectKey::new("default", "a"), ObjectKey::new("default", "b"));
        expectations.expect_deletions(&rs, [a.clone(), b.clone()]);
        expectations.deletion_observed(&rs, &a);
        expectations.deletion_observed(&rs, &a); // the same pod seen twice counts once
        assert!(!expectations.satisfied(&rs));
        expectations.deletion_observed(&rs, &b);
        assert!(expectations.satisfied(&rs));
    }
}
