//! The store: revisioned writes, snapshot reads, recovery and the commit pipeline.
//!
//! # Write path
//!
//! 1. Under the writer lock: read the key's newest version, check preconditions, take the next
//!    revision, render the value (it may embed its own revision), and apply one atomic batch:
//!    the version row, the log row and the revision counter.
//! 2. Still under the lock, queue the event for the committer (so events leave in revision
//!    order) and wake it.
//! 3. The committer thread takes every queued event, flushes once for all of them when the
//!    durability is `Immediate` (group commit), appends them to the ring, advances the published
//!    revision and wakes watchers and waiting writers.
//! 4. An `Immediate` writer returns once the published revision covers its write; other modes
//!    return right after step 2.
//!
//! Writers never wait for watchers: fan-out is the watchers' own work (see `watch`).
//!
//! # Reads
//!
//! Reads are snapshot reads at a revision: the newest version of each key at or below it. The
//! default read revision is the published one in `Immediate` mode (so nothing that could still be
//! lost is ever shown) and the last applied one otherwise (read-your-writes).
//!
//! Lock order: `writer` before `ring`. The committer takes `writer` and releases it before it
//! takes `ring`.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use parking_lot::{Condvar, Mutex, RwLock};
use tokio::sync::watch;
use uuid::Uuid;

use crate::backend::{Backend, Batch, SledBackend, SledOptions};
use crate::config::{Durability, StoreConfig};
use crate::error::{Result, StoreError};
use crate::event::{Event, EventKind, Versioned};
use crate::key::{KeyPrefix, ObjectKey};
use crate::records::{self, Envelope, LogOp, LogRecord};
use crate::storage::Storage;

/// Revisions reserved durably at a time in the non-durable modes, so that a crash can never make
/// the store hand out a revision twice (a reopen after a crash starts past the reservation).
const RESERVATION_BLOCK: u64 = 10_000;

/// The bytes a write stores. They may depend on the revision the write receives, so that an
/// object can carry its own resourceVersion without a second write.
pub struct NewValue<'a>(ValueSource<'a>);

enum ValueSource<'a> {
    Fixed(Bytes),
    Stamped(Box<dyn FnOnce(u64) -> Bytes + Send + 'a>),
}

impl<'a> NewValue<'a> {
    /// A value computed from the revision the write receives. The embedded store renders it at
    /// that revision; the etcd store, which learns the revision only after the write, renders it
    /// at 0 and applies its `Restamp` on every read, so `render` must change nothing but the
    /// revision it writes.
    pub fn stamped(render: impl FnOnce(u64) -> Bytes + Send + 'a) -> Self {
        NewValue(ValueSource::Stamped(Box::new(render)))
    }

    /// The bytes for a store that learns the revision only after the write (etcd): a stamped
    /// value rendered at revision 0, and whether it was stamped (to be restamped on read).
    #[cfg_attr(not(feature = "etcd"), allow(dead_code))]
    pub(crate) fn render_unrevisioned(self) -> (Bytes, bool) {
        match self.0 {
            ValueSource::Fixed(bytes) => (bytes, false),
            ValueSource::Stamped(render) => (render(0), true),
        }
    }

    fn render(self, revision: u64) -> Bytes {
        match self.0 {
            ValueSource::Fixed(bytes) => bytes,
            ValueSource::Stamped(render) => render(revision),
        }
    }
}

impl From<Bytes> for NewValue<'_> {
    fn from(bytes: Bytes) -> Self {
        NewValue(ValueSource::Fixed(bytes))
    }
}

impl From<Vec<u8>> for NewValue<'_> {
    fn from(bytes: Vec<u8>) -> Self {
        NewValue(ValueSource::Fixed(bytes.into()))
    }
}

impl From<&[u8]> for NewValue<'_> {
    fn from(bytes: &[u8]) -> Self {
        NewValue(ValueSource::Fixed(Bytes::copy_from_slice(bytes)))
    }
}

impl From<String> for NewValue<'_> {
    fn from(text: String) -> Self {
        text.into_bytes().into()
    }
}

impl From<&str> for NewValue<'_> {
    fn from(text: &str) -> Self {
        text.as_bytes().into()
    }
}

/// Renders a deleted object's last state from its stored bytes and the delete's revision.
pub type RenderLastState<'a> = Box<dyn FnOnce(&Bytes, u64) -> Bytes + Send + 'a>;

/// The state a delete leaves in its tombstone and `Deleted` event.
pub enum LastState<'a> {
    /// The object as last stored.
    AsStored,
    /// Computed from the stored bytes and the delete's revision (e.g. to stamp the deletion
    /// revision into the object, as Kubernetes' DELETED events show it).
    Stamped(RenderLastState<'a>),
}

/// Preconditions of a delete: each one set must hold, or the delete fails with `Conflict`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Preconditions {
    /// The object's current mod revision must be this.
    pub mod_revision: Option<u64>,
    /// The object's uid must be this.
    pub uid: Option<Uuid>,
}

/// What the function of a read-modify-write decides.
pub enum Decision<'a> {
    /// Keep the object as it is: no write, no revision, no event.
    Unchanged,
    /// Replace the object.
    Write(NewValue<'a>),
}

/// The error of [`Store::guaranteed_update`].
#[derive(Debug, thiserror::Error)]
pub enum UpdateError<E> {
    /// The store failed (not found, too many conflicts, I/O...).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The update function refused the change; its error, untouched.
    #[error("update rejected")]
    Rejected(E),
}

/// A list request.
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// Which keys.
    pub prefix: KeyPrefix,
    /// Snapshot revision; `None` reads at the current revision. Ignored with a continue token,
    /// which carries its own.
    pub revision: Option<u64>,
    /// At most this many items per page; `None` for all.
    pub limit: Option<usize>,
    /// The token from the previous page.
    pub continue_token: Option<String>,
    /// Count the matching items after this page (Kubernetes' remainingItemCount); costs a scan
    /// of the rest of the prefix.
    pub count_remaining: bool,
}

impl ListRequest {
    /// Everything under `prefix`, at the current revision, in one page.
    pub fn all(prefix: KeyPrefix) -> Self {
        ListRequest { prefix, revision: None, limit: None, continue_token: None, count_remaining: false }
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// The items, in key order.
    pub items: Vec<Versioned>,
    /// The snapshot revision every item was read at.
    pub revision: u64,
    /// Set when more items may follow: pass it back to get the next page.
    pub continue_token: Option<String>,
    /// With `count_remaining`: how many matching items follow this page.
    pub remaining: Option<u64>,
}

/// What recovery found and how long it took.
#[derive(Debug, Clone)]
pub struct RecoveryInfo {
    /// Time spent opening the engine and rebuilding the in-memory state.
    pub duration: Duration,
    /// The revision the store resumed from.
    pub revision: u64,
    /// The compaction point found.
    pub compacted: u64,
    /// Whether the previous run closed cleanly.
    pub clean: bool,
}

/// Writer-side state, guarded by `Inner::writer`.
struct WriterState {
    /// The last revision handed out.
    last_revision: u64,
    /// Revisions at or below this are durably reserved (non-durable modes only).
    reserved: u64,
    /// Events applied but not yet published, in revision order.
    pending: Vec<Arc<Event>>,
}

/// The in-memory history of recent events. Revisions in the ring are contiguous.
pub(crate) struct Ring {
    /// Revision of `events[0]` (or of the next event when empty).
    pub first: u64,
    pub events: VecDeque<Arc<Event>>,
}

pub(crate) struct Inner {
    pub backend: Arc<dyn Backend>,
    pub config: StoreConfig,
    writer: Mutex<WriterState>,
    /// Wakes the committer; the flag says whether anything is queued.
    commit_wakeup: (Mutex<bool>, Condvar),
    /// The last revision applied to the engine.
    applied: AtomicU64,
    /// The last revision shown to readers and watchers.
    pub published: AtomicU64,
    /// No history at or below this revision.
    pub compacted: AtomicU64,
    pub ring: RwLock<Ring>,
    /// Carries the published revision; watchers and `Immediate` writers wait on it.
    pub head: watch::Sender<u64>,
    pub watchers: AtomicUsize,
    pub closed: AtomicBool,
    /// Set when a flush failed: acknowledged durability can no longer be promised.
    failed: AtomicBool,
    compaction: Mutex<()>,
    recovery: RecoveryInfo,
}

/// A handle to an open store. Cheap to clone; the store closes cleanly when the last handle is
/// dropped (or at [`Store::close`]).
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
    lifecycle: Arc<Lifecycle>,
}

/// Owns the background threads; dropping it closes the store.
struct Lifecycle {
    inner: Arc<Inner>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Lifecycle {
    fn drop(&mut self) {
        if let Err(error) = shutdown(&self.inner, &self.threads) {
            tracing::error!(%error, "closing the store failed");
        }
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl Store {
    /// Opens (or creates) a store in the directory `dir` on sled.
    pub fn open(dir: impl AsRef<Path>, config: StoreConfig) -> Result<Store> {
        let started = Instant::now();
        let flush_every_ms = match config.durability {
            Durability::Periodic(interval) => Some(interval.as_millis().max(1) as u64),
            // Immediate flushes by itself; None flushes only at close.
            Durability::Immediate | Durability::None => None,
        };
        let backend = SledBackend::open(
            dir.as_ref(),
            SledOptions { flush_every_ms, cache_capacity_bytes: config.cache_capacity_bytes },
        )?;
        Self::open_backend(Arc::new(backend), config, started)
    }

    /// Opens a store on any backend (for example [`crate::MemoryBackend`] in tests).
    pub fn open_with(backend: Arc<dyn Backend>, config: StoreConfig) -> Result<Store> {
        Self::open_backend(backend, config, Instant::now())
    }

    fn open_backend(backend: Arc<dyn Backend>, config: StoreConfig, started: Instant) -> Result<Store> {
        assert!(config.ring_capacity > 0 && config.watch_batch_size > 0 && config.compaction_batch_size > 0);
        // Recovery: everything in memory is derived from four metadata rows.
        let read_u64 =
            |key: &[u8]| -> Result<Option<u64>> { backend.get(key)?.map(|v| records::decode_u64(&v)).transpose() };
        let stored_revision = read_u64(records::META_REVISION)?.unwrap_or(0);
        let compacted = read_u64(records::META_COMPACTED)?.unwrap_or(0);
        let reserved = read_u64(records::META_RESERVED)?.unwrap_or(0);
        let clean = backend.get(records::META_CLEAN)?.is_some();
        if let Some((row, _)) = backend.last_in(&records::log_key(0), &records::log_key(u64::MAX))? {
            let last_logged = records::split_log_key(&row)?;
            // The counter may run ahead of the log (a reservation carried over by a clean close),
            // never behind it.
            if last_logged > stored_revision {
                return Err(StoreError::Corrupt(format!(
                    "the log ends at revision {last_logged}, past the revision counter {stored_revision}"
                )));
            }
        }
        // After a crash in a non-durable mode, revisions up to the reservation may have been
        // handed out (and seen by watchers) without reaching the disk: never hand them out again.
        let revision = if clean { stored_revision } else { stored_revision.max(reserved) };
        if clean {
            let mut batch = Batch::default();
            batch.remove(records::META_CLEAN);
            backend.apply(batch)?;
            // The marker's removal must be durable before any write, or a crash would pass for
            // a clean close.
            backend.flush()?;
        }
        let recovery = RecoveryInfo { duration: started.elapsed(), revision, compacted, clean };
        tracing::info!(
            revision,
            compacted,
            clean,
            duration_ms = recovery.duration.as_secs_f64() * 1e3,
            "store recovered"
        );

        let (head, _) = watch::channel(revision);
        let inner = Arc::new(Inner {
            backend,
            writer: Mutex::new(WriterState { last_revision: revision, reserved, pending: Vec::new() }),
            commit_wakeup: (Mutex::new(false), Condvar::new()),
            applied: AtomicU64::new(revision),
            published: AtomicU64::new(revision),
            compacted: AtomicU64::new(compacted),
            ring: RwLock::new(Ring { first: revision + 1, events: VecDeque::new() }),
            head,
            watchers: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            compaction: Mutex::new(()),
            recovery,
            config,
        });

        let mut threads = Vec::new();
        let committer = inner.clone();
        threads.push(
            std::thread::Builder::new()
                .name("bosun-store-commit".into())
                .spawn(move || committer.run_committer())
                .map_err(StoreError::backend)?,
        );
        if let Some(interval) = inner.config.compaction_interval {
            let compactor = inner.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("bosun-store-compact".into())
                    .spawn(move || compactor.run_compactor(interval))
                    .map_err(StoreError::backend)?,
            );
        }
        let lifecycle = Arc::new(Lifecycle { inner: inner.clone(), threads: Mutex::new(threads) });
        Ok(Store { inner, lifecycle })
    }

    /// What recovery found when this store was opened.
    pub fn recovery(&self) -> &RecoveryInfo {
        &self.inner.recovery
    }

    /// The store's settings.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    /// The current revision: every write at or below it is visible to reads, and a list at this
    /// revision followed by a watch from it sees every change exactly once.
    pub fn revision(&self) -> u64 {
        self.inner.read_revision()
    }

    /// Completes once the store is closed (at once if it already is). Tasks that hold a handle
    /// select on this to let the store go: its directory stays locked while any handle lives.
    pub async fn closed(&self) {
        let mut head = self.inner.head.subscribe();
        while !self.is_closed() {
            if head.changed().await.is_err() {
                return;
            }
        }
    }

    /// Whether the store was closed: every read, write and watch fails from then on.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    /// The compaction point: watches and snapshot reads must start at or above it.
    pub fn compacted_revision(&self) -> u64 {
        self.inner.compacted.load(Ordering::SeqCst)
    }

    /// Bytes the store occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.inner.backend.size_on_disk()
    }

    /// Creates `key`; fails with `AlreadyExists` if it is live.
    pub async fn create(&self, key: &ObjectKey, uid: Uuid, value: impl Into<NewValue<'_>>) -> Result<Versioned> {
        let write = WriteOp::Create { uid, value: value.into() };
        self.write(key, write).await
    }

    /// Replaces `key`'s value, if its mod revision is `expected_mod_revision` (when given).
    pub async fn update(
        &self,
        key: &ObjectKey,
        expected_mod_revision: Option<u64>,
        value: impl Into<NewValue<'_>>,
    ) -> Result<Versioned> {
        let write = WriteOp::Update { expected_mod_revision, value: value.into() };
        self.write(key, write).await
    }

    /// Deletes `key` if the preconditions hold; returns the last state (as stored in the
    /// tombstone, with the delete's revision as `mod_revision`).
    pub async fn delete(
        &self,
        key: &ObjectKey,
        preconditions: Preconditions,
        last_state: LastState<'_>,
    ) -> Result<Versioned> {
        self.write(key, WriteOp::Delete { preconditions, last_state }).await
    }

    /// Read-modify-write: reads `key`, runs `update` on it, and writes the result if nothing
    /// changed in between; on a conflict, re-reads and runs `update` again (at most
    /// `update_attempts_max` times). Returns the stored version (the old one for `Unchanged`).
    pub async fn guaranteed_update<E>(
        &self,
        key: &ObjectKey,
        update: impl FnMut(&Versioned) -> std::result::Result<Decision<'static>, E>,
    ) -> std::result::Result<Versioned, UpdateError<E>> {
        let storage: &dyn Storage = self;
        storage.guaranteed_update(key, self.inner.config.update_attempts_max, update).await
    }

    /// The newest live version of `key`, including one applied but not yet published: what a
    /// conditional write compares against.
    pub(crate) fn latest(&self, key: &ObjectKey) -> Result<Option<Versioned>> {
        if self.is_closed() {
            return Err(StoreError::Closed);
        }
        self.inner.latest(&key.encode()?)
    }

    /// The object at the current revision.
    pub fn get(&self, key: &ObjectKey) -> Result<Option<Versioned>> {
        self.get_at(key, self.revision())
    }

    /// The object as it was at `revision`.
    pub fn get_at(&self, key: &ObjectKey, revision: u64) -> Result<Option<Versioned>> {
        self.inner.check_readable(revision)?;
        let found = self.inner.version_at(&key.encode()?, revision)?;
        self.inner.check_not_compacted(revision)?;
        Ok(found)
    }

    /// Lists keys under a prefix at one snapshot revision, optionally in pages. `filter` selects
    /// the items that count (label selectors, for example); `limit` counts only those.
    pub fn list(&self, request: &ListRequest, filter: impl Fn(&Versioned) -> bool) -> Result<ListPage> {
        self.inner.list(request, &filter)
    }

    /// Compacts history up to `revision` (at most the current revision): afterwards, watches and
    /// snapshot reads below it fail with `Expired`. Runs in bounded atomic steps.
    pub fn compact(&self, revision: u64) -> Result<u64> {
        self.inner.compact_to(revision.min(self.revision()), None)
    }

    /// Flushes, stops the background threads and marks the close as clean. Later calls on any
    /// handle fail with `Closed`.
    pub fn close(&self) -> Result<()> {
        shutdown(&self.inner, &self.lifecycle.threads)
    }

    async fn write(&self, key: &ObjectKey, op: WriteOp<'_>) -> Result<Versioned> {
        let encoded = key.encode()?;
        let written = self.inner.apply_write(encoded, op)?;
        if self.inner.config.durability == Durability::Immediate {
            self.inner.wait_published(written.mod_revision).await?;
        }
        Ok(written)
    }
}

fn shutdown(inner: &Arc<Inner>, threads: &Mutex<Vec<JoinHandle<()>>>) -> Result<()> {
    let handles: Vec<_> = std::mem::take(&mut *threads.lock());
    if handles.is_empty() {
        return Ok(());
    }
    inner.closed.store(true, Ordering::SeqCst);
    inner.wake_committer();
    for handle in handles {
        handle.thread().unpark();
        let _ = handle.join();
    }
    // Wake every watcher so it sees `closed`.
    inner.head.send_modify(|_| {});
    let writer = inner.writer.lock();
    let mut batch = Batch::default();
    // The counter may be past the last write (after a recovery that skipped a reservation):
    // persist it, or the next clean open would hand those revisions out again.
    batch.insert(records::META_REVISION, records::encode_u64(writer.last_revision).to_vec());
    batch.insert(records::META_CLEAN, b"1".to_vec());
    inner.backend.apply(batch)?;
    inner.backend.flush()?;
    drop(writer);
    tracing::info!(revision = inner.applied.load(Ordering::SeqCst), "store closed");
    Ok(())
}

enum WriteOp<'a> {
    Create { uid: Uuid, value: NewValue<'a> },
    Update { expected_mod_revision: Option<u64>, value: NewValue<'a> },
    Delete { preconditions: Preconditions, last_state: LastState<'a> },
}

impl Inner {
    pub(crate) fn read_revision(&self) -> u64 {
        match self.config.durability {
            Durability::Immediate => self.published.load(Ordering::SeqCst),
            _ => self.applied.load(Ordering::SeqCst),
        }
    }

    /// The last revision handed out (possibly not yet published).
    pub(crate) fn applied_revision(&self) -> u64 {
        self.applied.load(Ordering::SeqCst)
    }

    pub(crate) fn check_not_compacted(&self, revision: u64) -> Result<()> {
        let compacted = self.compacted.load(Ordering::SeqCst);
        if revision < compacted {
            return Err(StoreError::Expired { requested: revision, oldest: compacted });
        }
        Ok(())
    }

    fn check_readable(&self, revision: u64) -> Result<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        let current = self.read_revision();
        if revision > current {
            return Err(StoreError::FutureRevision { requested: revision, current });
        }
        self.check_not_compacted(revision)
    }

    /// The newest version of a key, deleted or not, including unpublished ones.
    fn newest_row(&self, key: &[u8]) -> Result<Option<(Envelope, Bytes)>> {
        let row = self.backend.last_in(&records::version_key(key, 0), &records::version_key(key, u64::MAX))?;
        row.map(|(_, value)| records::decode_version(&value)).transpose()
    }

    /// The newest live version of a key, including unpublished ones.
    fn latest(&self, key: &[u8]) -> Result<Option<Versioned>> {
        Ok(self.newest_row(key)?.and_then(|(envelope, value)| versioned(key, envelope, value)))
    }

    /// The live version of a key at `revision`, if any.
    fn version_at(&self, key: &[u8], revision: u64) -> Result<Option<Versioned>> {
        let row = self.backend.last_in(&records::version_key(key, 0), &records::version_key(key, revision))?;
        match row {
            None => Ok(None),
            Some((_, value)) => {
                let (envelope, object) = records::decode_version(&value)?;
                Ok(versioned(key, envelope, object))
            }
        }
    }

    /// Step 1 and 2 of the write path (module doc).
    fn apply_write(&self, key: Vec<u8>, op: WriteOp<'_>) -> Result<Versioned> {
        if self.closed.load(Ordering::SeqCst) || self.failed.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        let mut writer = self.writer.lock();
        let current = self.newest_row(&key)?.filter(|(envelope, _)| !envelope.deleted);
        let revision = writer.last_revision + 1;
        let (log_op, kind, envelope, value, prev_value) = match (op, current) {
            (WriteOp::Create { .. }, Some(_)) => return Err(StoreError::AlreadyExists),
            (WriteOp::Create { uid, value }, None) => {
                let envelope = Envelope {
                    uid: *uid.as_bytes(),
                    create_revision: revision,
                    mod_revision: revision,
                    prev_revision: 0,
                    deleted: false,
                };
                (LogOp::Create, EventKind::Added, envelope, value.render(revision), None)
            }
            (WriteOp::Update { .. } | WriteOp::Delete { .. }, None) => return Err(StoreError::NotFound),
            (WriteOp::Update { expected_mod_revision, value }, Some((old, old_value))) => {
                check_precondition("mod revision", expected_mod_revision, old.mod_revision)?;
                let envelope = Envelope { mod_revision: revision, prev_revision: old.mod_revision, ..old };
                (LogOp::Update, EventKind::Modified, envelope, value.render(revision), Some(old_value))
            }
            (WriteOp::Delete { preconditions, last_state }, Some((old, old_value))) => {
                check_precondition("mod revision", preconditions.mod_revision, old.mod_revision)?;
                check_precondition("uid", preconditions.uid, Uuid::from_bytes(old.uid))?;
                let value = match last_state {
                    LastState::AsStored => old_value.clone(),
                    LastState::Stamped(render) => render(&old_value, revision),
                };
                let envelope =
                    Envelope { mod_revision: revision, prev_revision: old.mod_revision, deleted: true, ..old };
                (LogOp::Delete, EventKind::Deleted, envelope, value, Some(old_value))
            }
        };

        let mut batch = Batch::default();
        batch.insert(records::version_key(&key, revision), records::encode_version(&envelope, &value));
        let log = LogRecord {
            key: key.clone(),
            op: log_op,
            prev_revision: envelope.prev_revision,
            committed_at_ms: now_ms(),
        };
        batch.insert(records::log_key(revision).to_vec(), records::encode_log(&log));
        batch.insert(records::META_REVISION, records::encode_u64(revision).to_vec());
        let reserve = self.config.durability != Durability::Immediate && revision > writer.reserved;
        if reserve {
            batch.insert(records::META_RESERVED, records::encode_u64(revision + RESERVATION_BLOCK).to_vec());
        }
        self.backend.apply(batch)?;
        if reserve {
            self.backend.flush()?;
            writer.reserved = revision + RESERVATION_BLOCK;
        }
        writer.last_revision = revision;
        self.applied.store(revision, Ordering::SeqCst);

        let key = Bytes::from(key);
        let uid = Uuid::from_bytes(envelope.uid);
        let event = Event::new(revision, kind, key.clone(), value.clone(), prev_value, uid, envelope.create_revision);
        writer.pending.push(event);
        drop(writer);
        self.wake_committer();
        Ok(Versioned { key, value, uid, create_revision: envelope.create_revision, mod_revision: revision })
    }

    fn wake_committer(&self) {
        let (flag, condvar) = &self.commit_wakeup;
        *flag.lock() = true;
        condvar.notify_one();
    }

    /// Step 3 of the write path: the committer thread.
    fn run_committer(&self) {
        loop {
            {
                let (flag, condvar) = &self.commit_wakeup;
                let mut queued = flag.lock();
                while !*queued && !self.closed.load(Ordering::SeqCst) {
                    condvar.wait(&mut queued);
                }
                *queued = false;
            }
            let events = std::mem::take(&mut self.writer.lock().pending);
            if events.is_empty() {
                if self.closed.load(Ordering::SeqCst) {
                    return;
                }
                continue;
            }
            if self.config.durability == Durability::Immediate
                && let Err(error) = self.backend.flush()
            {
                // Durability can no longer be promised: refuse every later write and wake the
                // waiting writers so they report the failure instead of hanging.
                tracing::error!(%error, "flush failed; the store refuses further writes");
                self.failed.store(true, Ordering::SeqCst);
                self.head.send_modify(|_| {});
                return;
            }
            let last = events.last().map_or(0, |e| e.revision);
            {
                let mut ring = self.ring.write();
                for event in events {
                    debug_assert_eq!(event.revision, ring.first + ring.events.len() as u64);
                    if ring.events.len() == self.config.ring_capacity {
                        ring.events.pop_front();
                        ring.first += 1;
                    }
                    ring.events.push_back(event);
                }
            }
            self.published.store(last, Ordering::SeqCst);
            self.head.send_replace(last);
        }
    }

    /// Step 4: waits until `revision` is published (so durable, in `Immediate` mode).
    async fn wait_published(&self, revision: u64) -> Result<()> {
        let mut head = self.head.subscribe();
        let failed = || self.failed.load(Ordering::SeqCst) || self.closed.load(Ordering::SeqCst);
        let reached = head.wait_for(|published| *published >= revision || failed()).await;
        match reached {
            Ok(published) if *published >= revision => Ok(()),
            _ => Err(StoreError::Closed),
        }
    }

    fn list(&self, request: &ListRequest, filter: &dyn Fn(&Versioned) -> bool) -> Result<ListPage> {
        let prefix = request.prefix.as_bytes();
        let (revision, start_after) = list_start(request)?;
        let revision = revision.unwrap_or_else(|| self.read_revision());
        self.check_readable(revision)?;

        let start = match &start_after {
            // Past every version of the last key returned.
            Some(last) => records::version_key(last, u64::MAX),
            None => records::version_prefix(prefix),
        };
        let end = records::prefix_end(&records::version_prefix(prefix));
        let mut page = PageCollector::new(request, filter);
        let mut visible = SnapshotScan::new(revision);
        let mut rows = self.backend.scan(&start, start_after.is_some(), end.as_deref());
        loop {
            let next = match rows.next() {
                Some(row) => visible.push(row?)?,
                None => visible.finish(),
            };
            let Some(item) = next else {
                if visible.done {
                    break;
                }
                continue;
            };
            if !page.offer(item) {
                break;
            }
        }
        // A compaction that overtook this snapshot may have removed versions mid-scan.
        self.check_not_compacted(revision)?;
        Ok(page.finish(revision))
    }

    /// Compacts up to `target` in bounded steps; with `cutoff_ms`, stops at the first revision
    /// committed after it (age-based retention). Returns the new compaction point.
    pub(crate) fn compact_to(&self, target: u64, cutoff_ms: Option<u64>) -> Result<u64> {
        let _only_one = self.compaction.lock();
        loop {
            let from = self.compacted.load(Ordering::SeqCst);
            if from >= target || self.closed.load(Ordering::SeqCst) {
                return Ok(from);
            }
            let step_end = target.min(from.saturating_add(self.config.compaction_batch_size as u64));
            let mut batch = Batch::default();
            let mut reached = step_end;
            let rows = self.backend.scan(&records::log_key(from + 1), false, Some(&records::log_key(step_end + 1)));
            for row in rows {
                let (row_key, row_value) = row?;
                let revision = records::split_log_key(&row_key)?;
                let record = records::decode_log(&row_value)?;
                if cutoff_ms.is_some_and(|cutoff| record.committed_at_ms > cutoff) {
                    reached = revision - 1;
                    break;
                }
                // The version this write replaced is superseded at or below the new point: no
                // snapshot at or above it can need it.
                if record.prev_revision > 0 {
                    batch.remove(records::version_key(&record.key, record.prev_revision));
                }
                // A delete at or below the point: the key did not exist there; drop the tombstone.
                if record.op == LogOp::Delete {
                    batch.remove(records::version_key(&record.key, revision));
                }
                batch.remove(row_key.to_vec());
            }
            if reached <= from {
                return Ok(from);
            }
            batch.insert(records::META_COMPACTED, records::encode_u64(reached).to_vec());
            // Raise the point before deleting, so a reader that races with the deletion sees the
            // new point when it re-checks after reading, and reports Expired.
            self.compacted.store(reached, Ordering::SeqCst);
            self.backend.apply(batch)?;
            tracing::debug!(from, to = reached, "compacted");
            if reached < step_end {
                return Ok(reached);
            }
        }
    }

    /// The background compaction loop: keeps `history_min_revisions` and `history_min_age`.
    fn run_compactor(&self, interval: Duration) {
        while !self.closed.load(Ordering::SeqCst) {
            std::thread::park_timeout(interval);
            if self.closed.load(Ordering::SeqCst) {
                return;
            }
            let target = self.read_revision().saturating_sub(self.config.history_min_revisions);
            let cutoff = now_ms().saturating_sub(self.config.history_min_age.as_millis() as u64);
            if let Err(error) = self.compact_to(target, Some(cutoff)) {
                tracing::warn!(%error, "background compaction failed; retrying at the next interval");
            }
        }
    }
}

fn check_precondition<T: PartialEq + std::fmt::Display>(
    what: &'static str,
    expected: Option<T>,
    actual: T,
) -> Result<()> {
    match expected {
        Some(expected) if expected != actual => {
            Err(StoreError::Conflict { what, expected: expected.to_string(), actual: actual.to_string() })
        }
        _ => Ok(()),
    }
}

fn versioned(key: &[u8], envelope: Envelope, value: Bytes) -> Option<Versioned> {
    (!envelope.deleted).then(|| Versioned {
        key: Bytes::copy_from_slice(key),
        value,
        uid: Uuid::from_bytes(envelope.uid),
        create_revision: envelope.create_revision,
        mod_revision: envelope.mod_revision,
    })
}

/// Turns an ascending scan of version rows into the live versions visible at one revision: per
/// key, the newest version at or below it, unless that is a tombstone.
struct SnapshotScan {
    revision: u64,
    /// The best candidate so far for the key being scanned.
    candidate: Option<(Bytes, Envelope, Bytes)>,
    done: bool,
}

impl SnapshotScan {
    fn new(revision: u64) -> Self {
        SnapshotScan { revision, candidate: None, done: false }
    }

    /// Feeds one row; returns the previous key's visible version when the key changes.
    fn push(&mut self, (row_key, row_value): (Bytes, Bytes)) -> Result<Option<Versioned>> {
        let (object_key, revision) = records::split_version_key(&row_key)?;
        let same_key = self.candidate.as_ref().is_some_and(|(k, _, _)| &k[..] == object_key);
        let finished = if same_key { None } else { self.take() };
        if revision <= self.revision {
            let (envelope, value) = records::decode_version(&row_value)?;
            let key = row_key.slice(1..1 + object_key.len());
            self.candidate = Some((key, envelope, value));
        } else if !same_key {
            self.candidate = None;
        }
        Ok(finished)
    }

    fn finish(&mut self) -> Option<Versioned> {
        self.done = true;
        self.take()
    }

    fn take(&mut self) -> Option<Versioned> {
        let (key, envelope, value) = self.candidate.take()?;
        (!envelope.deleted).then(|| Versioned {
            key,
            value,
            uid: Uuid::from_bytes(envelope.uid),
            create_revision: envelope.create_revision,
            mod_revision: envelope.mod_revision,
        })
    }
}

/// Where a list starts: the continue token's snapshot revision and last key (checked to belong
/// to the requested collection), or the request's own revision.
pub(crate) fn list_start(request: &ListRequest) -> Result<(Option<u64>, Option<Vec<u8>>)> {
    let Some(token) = &request.continue_token else {
        return Ok((request.revision, None));
    };
    let (revision, last_key) = decode_continue(token)?;
    if !last_key.starts_with(request.prefix.as_bytes()) {
        return Err(StoreError::InvalidContinue("the token belongs to another collection"));
    }
    Ok((Some(revision), Some(last_key)))
}

/// One page of a list, collected from items offered in key order: those that pass the filter, up
/// to the limit; past it, whether more follow (and how many, with `count_remaining`).
pub(crate) struct PageCollector<F> {
    filter: F,
    limit: usize,
    count_remaining: bool,
    items: Vec<Versioned>,
    more: bool,
    remaining: u64,
}

impl<F: Fn(&Versioned) -> bool> PageCollector<F> {
    pub(crate) fn new(request: &ListRequest, filter: F) -> Self {
        PageCollector {
            filter,
            limit: request.limit.filter(|l| *l > 0).unwrap_or(usize::MAX),
            count_remaining: request.count_remaining,
            items: Vec::new(),
            more: false,
            remaining: 0,
        }
    }

    /// Takes the next item; `false` once nothing further needs to be read.
    pub(crate) fn offer(&mut self, item: Versioned) -> bool {
        if !(self.filter)(&item) {
            return true;
        }
        if self.items.len() < self.limit {
            self.items.push(item);
            return true;
        }
        self.more = true;
        self.remaining += 1;
        self.count_remaining
    }

    /// The page, read at `revision`.
    pub(crate) fn finish(self, revision: u64) -> ListPage {
        let continue_token = match (self.more, self.items.last()) {
            (true, Some(last)) => Some(encode_continue(revision, &last.key)),
            _ => None,
        };
        let remaining = self.count_remaining.then_some(self.remaining);
        ListPage { items: self.items, revision, continue_token, remaining }
    }
}

const CONTINUE_FORMAT: u8 = 1;

fn encode_continue(revision: u64, last_key: &[u8]) -> String {
    let mut raw = Vec::with_capacity(last_key.len() + 9);
    raw.push(CONTINUE_FORMAT);
    raw.extend_from_slice(&revision.to_be_bytes());
    raw.extend_from_slice(last_key);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_continue(token: &str) -> Result<(u64, Vec<u8>)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| StoreError::InvalidContinue("not base64"))?;
    match raw.split_first() {
        Some((&CONTINUE_FORMAT, rest)) if rest.len() > 8 => {
            let revision = u64::from_be_bytes(rest[..8].try_into().expect("eight bytes"));
            Ok((revision, rest[8..].to_vec()))
        }
        _ => Err(StoreError::InvalidContinue("unknown format")),
    }
}
