//! The workloads on Bosun's store, each on a scratch store of its own.

use std::ops::Range;
use std::path::Path;

use bosun_store::{Durability, ListPage, ListRequest, Store, StoreConfig, Watch, WatchItem, WatchRequest};
use tokio::sync::mpsc;

use crate::BenchResult;
use crate::check::{RevisionStream, StreamCheck, WatcherReport, spawn_follower};
use crate::drive::{Creator, WatchedStore, timed_ms};
use crate::pods::{PodObject, pods_prefix};

/// Page size of the paged list.
pub const LIST_PAGE: usize = 500;
/// Concurrent writers that fill a backlog (its fill rate is not a figure).
pub const BACKLOG_WRITERS: usize = 16;

/// A store alone in a temporary directory.
pub struct ScratchStore {
    /// The open store.
    pub store: Store,
    dir: tempfile::TempDir,
}

impl ScratchStore {
    /// Opens a fresh store under `root` (default: the system's temporary directory).
    pub fn open(root: Option<&Path>, durability: Durability) -> BenchResult<ScratchStore> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("bosun-bench-");
        let dir = match root {
            Some(root) => builder.tempdir_in(root)?,
            None => builder.tempdir()?,
        };
        let store = Store::open(dir.path(), store_config(durability))?;
        Ok(ScratchStore { store, dir })
    }

    /// Closes the store and releases it (sled keeps a lock on the directory while any handle
    /// lives), handing back the directory, which is removed when dropped.
    pub fn close(self) -> BenchResult<tempfile::TempDir> {
        self.store.close()?;
        drop(self.store);
        Ok(self.dir)
    }

    /// Closes the store and removes its directory.
    pub fn discard(self) -> BenchResult<()> {
        self.close()?.close()?;
        Ok(())
    }
}

impl AsRef<Store> for ScratchStore {
    fn as_ref(&self) -> &Store {
        &self.store
    }
}

/// The default settings, except durability: what a user gets.
pub fn store_config(durability: Durability) -> StoreConfig {
    StoreConfig { durability, ..StoreConfig::default() }
}

/// Bytes of every file under `dir`: apparent length (what `ls` shows) and allocated blocks (what
/// `du` shows), which differ when the engine preallocates or leaves holes.
pub fn directory_size(dir: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    let mut apparent = 0;
    let mut allocated = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let metadata = entry.path().symlink_metadata()?;
        if metadata.is_dir() {
            let (sub_apparent, sub_allocated) = directory_size(&entry.path())?;
            apparent += sub_apparent;
            allocated += sub_allocated;
        } else {
            apparent += metadata.len();
            allocated += metadata.blocks() * 512;
        }
    }
    Ok((apparent, allocated))
}

impl Creator for Store {
    async fn create(&self, pod: PodObject) -> BenchResult<u64> {
        Ok(Store::create(self, &pod.key, pod.uid, pod.manifest).await?.mod_revision)
    }
}

/// Starts `count` watchers after `after_revision`, each checking for exactly `expected`; they
/// report on the returned channel when complete, or when the watch ends.
pub fn spawn_watchers(
    store: &Store,
    count: usize,
    after_revision: u64,
    expected: Range<u64>,
    record_arrivals: bool,
) -> BenchResult<mpsc::UnboundedReceiver<WatcherReport>> {
    let (reports, receiver) = mpsc::unbounded_channel();
    for _ in 0..count {
        // Registered here, before any write, so no watcher can start late.
        let watch = store.watch(WatchRequest::new(pods_prefix(), after_revision))?;
        spawn_follower(watch, StreamCheck::new(expected.clone(), record_arrivals), &reports);
    }
    Ok(receiver)
}

impl RevisionStream for Watch {
    async fn next_into(&mut self, check: &mut StreamCheck) -> Option<Result<(), String>> {
        match self.next().await? {
            Ok(WatchItem::Event(event)) => check.record(event.revision),
            Ok(WatchItem::Progress(_)) => {}
            Err(error) => return Some(Err(error.to_string())),
        }
        Some(Ok(()))
    }
}

impl WatchedStore for Store {
    async fn revision(&self) -> BenchResult<u64> {
        Ok(Store::revision(self))
    }

    async fn spawn_watchers(
        &self,
        count: usize,
        after_revision: u64,
        expected: Range<u64>,
        record_arrivals: bool,
    ) -> BenchResult<mpsc::UnboundedReceiver<WatcherReport>> {
        spawn_watchers(self, count, after_revision, expected, record_arrivals)
    }

    /// Closing the store ends every watch on it.
    fn stop_watchers(&self) -> BenchResult<()> {
        Ok(self.close()?)
    }
}

/// Times a list, checks that it returned `expected` objects, and frees the pages only after the
/// clock stopped: freeing 100 000 items (about 10 ms) is the caller's cost, not the store's.
pub fn time_list(expected: usize, list: impl FnOnce() -> BenchResult<Vec<ListPage>>) -> BenchResult<f64> {
    let (elapsed_ms, pages) = timed_ms(list)?;
    let count: usize = pages.iter().map(|page| page.items.len()).sum();
    if count != expected {
        return Err(format!("a list returned {count} objects, not {expected}").into());
    }
    Ok(elapsed_ms)
}

/// One unpaged list of every Pod.
pub fn list_whole(store: &Store) -> BenchResult<Vec<ListPage>> {
    Ok(vec![store.list(&ListRequest::all(pods_prefix()), |_| true)?])
}

/// Every Pod in pages of [`LIST_PAGE`], following continue tokens.
pub fn list_paged(store: &Store) -> BenchResult<Vec<ListPage>> {
    let mut request = ListRequest { limit: Some(LIST_PAGE), ..ListRequest::all(pods_prefix()) };
    let mut pages = Vec::new();
    loop {
        let page = store.list(&request, |_| true)?;
        request.continue_token = page.continue_token.clone();
        pages.push(page);
        if request.continue_token.is_none() {
            return Ok(pages);
        }
    }
}
