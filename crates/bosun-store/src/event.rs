//! Watch events and stored versions: what readers get back.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use uuid::Uuid;

use crate::key::{InvalidKey, ObjectKey};

/// What a write did to its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The object was created.
    Added,
    /// The object was updated.
    Modified,
    /// The object was deleted; the event carries its last state.
    Deleted,
}

/// One committed write, as watchers see it. Events are shared (`Arc`) between every watcher that
/// receives them, and their wire form is computed once ([`Event::encoded`]).
#[derive(Debug)]
pub struct Event {
    /// The write's revision.
    pub revision: u64,
    /// What the write did.
    pub kind: EventKind,
    /// The encoded object key ([`ObjectKey::encode`]).
    pub key: Bytes,
    /// The object at this revision; for `Deleted`, its last state.
    pub value: Bytes,
    /// The object before this write (`None` for `Added`).
    pub prev_value: Option<Bytes>,
    /// The object's uid.
    pub uid: Uuid,
    /// The revision that created the object.
    pub create_revision: u64,
    encoded: OnceLock<Bytes>,
}

impl Event {
    pub(crate) fn new(
        revision: u64,
        kind: EventKind,
        key: Bytes,
        value: Bytes,
        prev_value: Option<Bytes>,
        uid: Uuid,
        create_revision: u64,
    ) -> Arc<Self> {
        Arc::new(Event { revision, kind, key, value, prev_value, uid, create_revision, encoded: OnceLock::new() })
    }

    /// The decoded object key.
    pub fn object_key(&self) -> Result<ObjectKey, InvalidKey> {
        ObjectKey::decode(&self.key)
    }

    /// The event's wire form, computed by `encode` on first use and shared afterwards, so that a
    /// thousand watchers of one event serialize it once. Every caller must pass an equivalent
    /// `encode` (the first one wins).
    pub fn encoded(&self, encode: impl FnOnce(&Event) -> Bytes) -> Bytes {
        self.encoded.get_or_init(|| encode(self)).clone()
    }
}

/// One version of one object, as `get` and `list` return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The encoded object key.
    pub key: Bytes,
    /// The object's bytes.
    pub value: Bytes,
    /// The object's uid.
    pub uid: Uuid,
    /// Revision of the create.
    pub create_revision: u64,
    /// Revision of this version (Kubernetes' resourceVersion).
    pub mod_revision: u64,
}

impl Versioned {
    /// The decoded object key.
    pub fn object_key(&self) -> Result<ObjectKey, InvalidKey> {
        ObjectKey::decode(&self.key)
    }
}

/// An item from a watch.
#[derive(Debug, Clone)]
pub enum WatchItem {
    /// A write under the watched prefix that passed the filter.
    Event(Arc<Event>),
    /// Progress notification: every matching event up to this revision has been delivered.
    Progress(u64),
}
