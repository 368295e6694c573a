//! Watches: every write under a prefix after a revision, exactly once, in revision order.
//!
//! # Model
//!
//! The hub is etcd's watchable store, arranged so that writers never pay for watchers:
//!
//! - **Fast path (synced watchers).** Committed events are appended once to a shared in-memory
//!   ring (`Arc<Event>`, serialized at most once). A watcher whose position is inside the ring
//!   is *synced*: the committer wakes it at commit and it copies the new events out of the ring
//!   itself, filtering before any copy. The writer's cost does not grow with the number of
//!   watchers: the committer's wake-up is one `watch` channel send, coalesced across writes.
//! - **Catch-up (unsynced watchers).** A watcher whose position has fallen out of the ring, or
//!   that starts from an older revision, is *unsynced*: it reads the persisted event log in
//!   bounded batches (`watch_batch_size`) until it re-enters the ring.
//! - **Back-pressure.** A consumer that stops polling holds no buffer that grows: its position
//!   simply stays behind, and it becomes unsynced when the ring moves past it. The bound is the
//!   retained history: once compaction passes its position, its next poll ends the watch with
//!   `Expired`, and the client re-lists. Memory per watcher is one batch at most.
//!
//! # Guarantees
//!
//! Ordered, unique, no gaps, resumable (a watch from the last revision seen continues exactly),
//! bookmarkable (a `Progress(r)` means every matching event up to `r` was delivered). A start
//! revision below the compaction point fails with `Expired`; one above the last revision handed
//! out fails with `FutureRevision` rather than waiting.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::event::{Event, EventKind, WatchItem};
use crate::key::KeyPrefix;
use crate::records::{self, LogOp};
use crate::store::{Inner, Store};

/// Decides which events a watcher receives, before anything is copied.
pub type EventFilter = Arc<dyn Fn(&Event) -> bool + Send + Sync>;

/// A watch request.
#[derive(Clone)]
pub struct WatchRequest {
    /// Which keys.
    pub prefix: KeyPrefix,
    /// Deliver every event with a revision strictly greater than this.
    pub after_revision: u64,
    /// Further selection (selectors, for example); `None` passes everything under the prefix.
    pub filter: Option<EventFilter>,
    /// When set, a caught-up watch with nothing to deliver for this long yields
    /// `WatchItem::Progress` (a bookmark).
    pub progress_interval: Option<Duration>,
}

impl WatchRequest {
    /// Every event under `prefix` after `after_revision`.
    pub fn new(prefix: KeyPrefix, after_revision: u64) -> Self {
        WatchRequest { prefix, after_revision, filter: None, progress_interval: None }
    }
}

/// Where a watcher reads from next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Its next revision is in the ring (or not written yet): fed at commit.
    Synced,
    /// Its next revision has left the ring: catching up from the on-disk log.
    Unsynced,
    /// Ended (expired, closed, or failed); yields nothing more.
    Ended,
}

/// The embedded store's watch: a cursor over the ring and the log.
struct LocalWatch {
    inner: Arc<Inner>,
    prefix: KeyPrefix,
    filter: Option<EventFilter>,
    /// Every revision up to this one has been examined.
    cursor: u64,
    position: Position,
    /// Examined, matching, not yet returned: at most one batch.
    ready: VecDeque<Arc<Event>>,
    head: watch::Receiver<u64>,
    progress_interval: Option<Duration>,
    last_yield: Instant,
}

impl Store {
    /// Starts a watch. Fails with `Expired` when `after_revision` is below the compaction point,
    /// `FutureRevision` when it is beyond the last revision handed out, `TooManyWatchers` at the
    /// configured bound.
    pub fn watch(&self, request: WatchRequest) -> Result<Watch> {
        let inner = &self.inner;
        if inner.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        inner.check_not_compacted(request.after_revision)?;
        let current = inner.applied_revision();
        if request.after_revision > current {
            return Err(StoreError::FutureRevision { requested: request.after_revision, current });
        }
        let max = inner.config.watchers_max;
        if inner.watchers.fetch_add(1, Ordering::SeqCst) >= max {
            inner.watchers.fetch_sub(1, Ordering::SeqCst);
            return Err(StoreError::TooManyWatchers { max });
        }
        let first_in_ring = inner.ring.read().first;
        let position = if request.after_revision + 1 >= first_in_ring { Position::Synced } else { Position::Unsynced };
        Ok(Watch(Source::Local(LocalWatch {
            inner: inner.clone(),
            prefix: request.prefix,
            filter: request.filter,
            cursor: request.after_revision,
            position,
            ready: VecDeque::new(),
            head: inner.head.subscribe(),
            progress_interval: request.progress_interval,
            last_yield: Instant::now(),
        })))
    }

    /// Number of running watches.
    pub fn watcher_count(&self) -> usize {
        self.inner.watchers.load(Ordering::SeqCst)
    }
}

impl Drop for LocalWatch {
    fn drop(&mut self) {
        self.inner.watchers.fetch_sub(1, Ordering::SeqCst);
    }
}

impl LocalWatch {
    /// The next item: `None` once the watch has ended (store closed), `Some(Err(Expired))` when
    /// the watcher fell behind the retained history (re-list and start again).
    pub async fn next(&mut self) -> Option<Result<WatchItem>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                self.last_yield = Instant::now();
                return Some(Ok(WatchItem::Event(event)));
            }
            if self.position == Position::Ended {
                return None;
            }
            if self.inner.closed.load(Ordering::SeqCst) {
                self.position = Position::Ended;
                return None;
            }
            let published = self.inner.published.load(Ordering::SeqCst);
            if self.cursor < published {
                let step = match self.position {
                    Position::Synced => self.read_ring(published),
                    Position::Unsynced => self.read_log(published),
                    Position::Ended => unreachable!("handled above"),
                };
                if let Err(error) = step {
                    self.position = Position::Ended;
                    return Some(Err(error));
                }
                continue;
            }
            // Caught up: wait for the next commit, or give a progress notification.
            let deadline = self.progress_interval.map(|interval| self.last_yield + interval);
            let changed = self.head.changed();
            match deadline {
                Some(deadline) => {
                    tokio::select! {
                        result = changed => if result.is_err() { self.position = Position::Ended },
                        () = tokio::time::sleep_until(deadline) => {
                            self.last_yield = Instant::now();
                            return Some(Ok(WatchItem::Progress(self.cursor)));
                        }
                    }
                }
                None => {
                    if changed.await.is_err() {
                        self.position = Position::Ended;
                    }
                }
            }
        }
    }

    /// Every matching event up to this revision has been returned by `next`.
    pub fn delivered_revision(&self) -> u64 {
        self.ready.front().map_or(self.cursor, |event| event.revision - 1)
    }

    /// Fast path: copy up to one batch of new events out of the ring.
    fn read_ring(&mut self, published: u64) -> Result<()> {
        let ring = self.inner.ring.read();
        if self.cursor + 1 < ring.first {
            // The ring moved past this watcher while it was not polling.
            self.position = Position::Unsynced;
            return Ok(());
        }
        let start = (self.cursor + 1 - ring.first) as usize;
        let end = ((published + 1 - ring.first) as usize)
            .min(ring.events.len())
            .min(start + self.inner.config.watch_batch_size);
        for event in ring.events.range(start..end) {
            if self.matches(event) {
                self.ready.push_back(event.clone());
            }
        }
        if end > start {
            self.cursor = ring.first + end as u64 - 1;
        }
        Ok(())
    }

    /// Catch-up: read up to one batch of revisions from the on-disk log.
    fn read_log(&mut self, published: u64) -> Result<()> {
        let from = self.cursor;
        self.inner.check_not_compacted(from)?;
        let upto = published.min(from + self.inner.config.watch_batch_size as u64);
        let backend = &self.inner.backend;
        let rows = backend.scan(&records::log_key(from + 1), false, Some(&records::log_key(upto + 1)));
        let mut batch = Vec::new();
        for row in rows {
            let (row_key, row_value) = row?;
            let revision = records::split_log_key(&row_key)?;
            let record = records::decode_log(&row_value)?;
            if !self.prefix.matches(&record.key) {
                continue;
            }
            let read_version = |revision: u64| -> Result<Option<(records::Envelope, bytes::Bytes)>> {
                backend
                    .get(&records::version_key(&record.key, revision))?
                    .map(|row| records::decode_version(&row))
                    .transpose()
            };
            let Some((envelope, value)) = read_version(revision)? else {
                // Removed by a compaction that overtook this read: reported below.
                continue;
            };
            let prev_value = match record.prev_revision {
                0 => None,
                prev => read_version(prev)?.map(|(_, value)| value),
            };
            let kind = match record.op {
                LogOp::Create => EventKind::Added,
                LogOp::Update => EventKind::Modified,
                LogOp::Delete => EventKind::Deleted,
            };
            let event = Event::new(
                revision,
                kind,
                bytes::Bytes::from(record.key),
                value,
                prev_value,
                Uuid::from_bytes(envelope.uid),
                envelope.create_revision,
            );
            if self.filter.as_ref().is_none_or(|filter| filter(&event)) {
                batch.push(event);
            }
        }
        // A compaction that overtook this read may have removed rows it needed.
        self.inner.check_not_compacted(from)?;
        self.ready.extend(batch);
        self.cursor = upto;
        if self.cursor + 1 >= self.inner.ring.read().first {
            self.position = Position::Synced;
        }
        Ok(())
    }

    fn matches(&self, event: &Event) -> bool {
        self.prefix.matches(&event.key) && self.filter.as_ref().is_none_or(|filter| filter(event))
    }
}

/// A watch kept by a store outside this crate's engine (etcd, for example).
pub trait RemoteWatch: Send {
    /// The next item, with [`Watch::next`]'s meaning.
    fn next(&mut self) -> Pin<Box<dyn Future<Output = Option<Result<WatchItem>>> + Send + '_>>;
    /// Every matching event up to this revision has been returned by `next`.
    fn delivered_revision(&self) -> u64;
}

/// A running watch, from any [`crate::Storage`]. Poll it with [`Watch::next`].
pub struct Watch(Source);

enum Source {
    Local(LocalWatch),
    Remote(Box<dyn RemoteWatch>),
}

impl Watch {
    /// Wraps a watch kept by another store.
    pub fn remote(watch: impl RemoteWatch + 'static) -> Self {
        Watch(Source::Remote(Box::new(watch)))
    }

    /// The next item: `None` once the watch has ended (store closed), `Some(Err(Expired))` when
    /// the watcher fell behind the retained history (re-list and start again).
    pub async fn next(&mut self) -> Option<Result<WatchItem>> {
        match &mut self.0 {
            Source::Local(watch) => watch.next().await,
            Source::Remote(watch) => watch.next().await,
        }
    }

    /// Every matching event up to this revision has been returned by `next`.
    pub fn delivered_revision(&self) -> u64 {
        match &self.0 {
            Source::Local(watch) => watch.delivered_revision(),
            Source::Remote(watch) => watch.delivered_revision(),
        }
    }
}
