//! The storage interface bosun-api runs on, at the level of kube-apiserver's `storage.Interface`:
//! writes with preconditions, reads at a revision, paged lists and watches from a revision.
//!
//! Two stores implement it: the embedded [`Store`] (sled, the default) and, behind the `etcd`
//! feature, `EtcdStore`, so that several API servers can share one etcd cluster. Both pass the
//! same behavioural suite (`tests/behaviour.rs`).
//!
//! The interface is object safe (`Arc<dyn Storage>`): its futures are boxed. That costs one
//! allocation per call, next to the JSON work each call does anyway.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::event::Versioned;
use crate::key::ObjectKey;
use crate::store::{Decision, LastState, ListPage, ListRequest, NewValue, Preconditions, Store, UpdateError};
use crate::watch::{Watch, WatchRequest};

/// The future of a storage call.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Selects the items of a list that count (label and field selectors, for example).
pub type ListFilter<'a> = &'a (dyn Fn(&Versioned) -> bool + Send + Sync);

/// A revisioned object store with watch. Revisions are global: every committed write takes the
/// next one, and a list at revision `r` followed by a watch after `r` sees every change once.
pub trait Storage: Send + Sync + 'static {
    /// Creates `key`; fails with `AlreadyExists` if it is live.
    fn create<'a>(&'a self, key: &'a ObjectKey, uid: Uuid, value: NewValue<'a>) -> StoreFuture<'a, Versioned>;

    /// Replaces `key`'s value, if its mod revision is `expected_mod_revision` (when given);
    /// `NotFound` when it is not live, `Conflict` when the revision moved.
    fn update<'a>(
        &'a self,
        key: &'a ObjectKey,
        expected_mod_revision: Option<u64>,
        value: NewValue<'a>,
    ) -> StoreFuture<'a, Versioned>;

    /// Deletes `key` if the preconditions hold; returns its last state with the delete's
    /// revision as `mod_revision`.
    fn delete<'a>(
        &'a self,
        key: &'a ObjectKey,
        preconditions: Preconditions,
        last_state: LastState<'a>,
    ) -> StoreFuture<'a, Versioned>;

    /// The object at the current revision.
    fn get<'a>(&'a self, key: &'a ObjectKey) -> StoreFuture<'a, Option<Versioned>>;

    /// The newest version a conditional write compares against: for a store that publishes a
    /// write after applying it (the embedded one in `Immediate` mode), this may be newer than
    /// [`Storage::get`]'s, so read-modify-write loops do not chase a stale read.
    fn get_for_update<'a>(&'a self, key: &'a ObjectKey) -> StoreFuture<'a, Option<Versioned>> {
        self.get(key)
    }

    /// The object as it was at `revision`: `Expired` below the compaction point,
    /// `FutureRevision` past the current revision.
    fn get_at<'a>(&'a self, key: &'a ObjectKey, revision: u64) -> StoreFuture<'a, Option<Versioned>>;

    /// One page of the keys under a prefix at one snapshot revision; `filter` selects the items
    /// that count toward the limit.
    fn list<'a>(&'a self, request: &'a ListRequest, filter: ListFilter<'a>) -> StoreFuture<'a, ListPage>;

    /// Every event under the request's prefix after its revision, in order. Fails with
    /// `Expired` below the compaction point and `FutureRevision` past the current revision.
    fn watch(&self, request: WatchRequest) -> StoreFuture<'_, Watch>;

    /// The current revision: every write at or below it is visible to reads.
    fn current_revision(&self) -> StoreFuture<'_, u64>;

    /// Compacts history up to `revision`: reads and watches below it fail with `Expired`
    /// afterwards. Returns the compaction point.
    fn compact(&self, revision: u64) -> StoreFuture<'_, u64>;

    /// Stops the store: later calls fail with `Closed` and running watches end.
    fn close(&self) -> Result<()>;

    /// Whether [`Storage::close`] was called (or the embedded store shut down).
    fn is_closed(&self) -> bool;

    /// Completes once the store is closed. Tasks that hold a handle select on it to let go.
    fn closed(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    /// Number of running watches.
    fn watcher_count(&self) -> usize;

    /// What the store runs on: `"embedded"` or `"etcd"` (health checks are named after it).
    fn kind(&self) -> &'static str;
}

/// A shared handle to any store.
pub type SharedStorage = Arc<dyn Storage>;

impl dyn Storage {
    /// Read-modify-write: reads `key`, runs `update` on it, and writes the result if nothing
    /// changed in between; on a conflict, re-reads and runs `update` again, at most `attempts`
    /// times. Returns the stored version (the old one for `Unchanged`).
    pub async fn guaranteed_update<E>(
        &self,
        key: &ObjectKey,
        attempts: usize,
        mut update: impl FnMut(&Versioned) -> std::result::Result<Decision<'static>, E>,
    ) -> std::result::Result<Versioned, UpdateError<E>> {
        for _ in 0..attempts {
            let current = self.get_for_update(key).await?.ok_or(StoreError::NotFound)?;
            let value = match update(&current).map_err(UpdateError::Rejected)? {
                Decision::Unchanged => return Ok(current),
                Decision::Write(value) => value,
            };
            match self.update(key, Some(current.mod_revision), value).await {
                Err(StoreError::Conflict { .. }) => continue,
                other => return other.map_err(UpdateError::Store),
            }
        }
        Err(StoreError::TooManyRetries { attempts }.into())
    }
}

impl Storage for Store {
    fn create<'a>(&'a self, key: &'a ObjectKey, uid: Uuid, value: NewValue<'a>) -> StoreFuture<'a, Versioned> {
        Box::pin(Store::create(self, key, uid, value))
    }

    fn update<'a>(
        &'a self,
        key: &'a ObjectKey,
        expected_mod_revision: Option<u64>,
        value: NewValue<'a>,
    ) -> StoreFuture<'a, Versioned> {
        Box::pin(Store::update(self, key, expected_mod_revision, value))
    }

    fn delete<'a>(
        &'a self,
        key: &'a ObjectKey,
        preconditions: Preconditions,
        last_state: LastState<'a>,
    ) -> StoreFuture<'a, Versioned> {
        Box::pin(Store::delete(self, key, preconditions, last_state))
    }

    fn get<'a>(&'a self, key: &'a ObjectKey) -> StoreFuture<'a, Option<Versioned>> {
        Box::pin(std::future::ready(Store::get(self, key)))
    }

    fn get_for_update<'a>(&'a self, key: &'a ObjectKey) -> StoreFuture<'a, Option<Versioned>> {
        Box::pin(std::future::ready(self.latest(key)))
    }

    fn get_at<'a>(&'a self, key: &'a ObjectKey, revision: u64) -> StoreFuture<'a, Option<Versioned>> {
        Box::pin(std::future::ready(Store::get_at(self, key, revision)))
    }

    fn list<'a>(&'a self, request: &'a ListRequest, filter: ListFilter<'a>) -> StoreFuture<'a, ListPage> {
        Box::pin(std::future::ready(Store::list(self, request, filter)))
    }

    fn watch(&self, request: WatchRequest) -> StoreFuture<'_, Watch> {
        Box::pin(std::future::ready(Store::watch(self, request)))
    }

    fn current_revision(&self) -> StoreFuture<'_, u64> {
        Box::pin(std::future::ready(if self.is_closed() { Err(StoreError::Closed) } else { Ok(self.revision()) }))
    }

    fn compact(&self, revision: u64) -> StoreFuture<'_, u64> {
        Box::pin(std::future::ready(Store::compact(self, revision)))
    }

    fn close(&self) -> Result<()> {
        Store::close(self)
    }

    fn is_closed(&self) -> bool {
        Store::is_closed(self)
    }

    fn closed(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(Store::closed(self))
    }

    fn watcher_count(&self) -> usize {
        Store::watcher_count(self)
    }

    fn kind(&self) -> &'static str {
        "embedded"
    }
}
