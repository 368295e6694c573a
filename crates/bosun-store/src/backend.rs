//! Storage backends: the few things the store needs from an ordered key-value engine.
//!
//! The store relies only on what both sled 0.34 and sled 1.0 keep (a single ordered keyspace,
//! atomic batches, point reads, range scans, and a blocking `flush`), so the engine can be swapped
//! (sled 1.0, redb, fjall) without touching the store. `flush_async` is never used: it deadlocks
//! under concurrency in sled 0.34 (sled issues 1308, 1357, 1241).

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::RwLock;

use crate::error::{Result, StoreError};

/// One change in an atomic batch.
#[derive(Debug, Clone)]
pub enum BatchOp {
    /// Set `key` to `value`.
    Insert(Vec<u8>, Vec<u8>),
    /// Remove `key` (no error if absent).
    Remove(Vec<u8>),
}

/// A set of changes applied all together or not at all, also across a crash.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    ops: Vec<BatchOp>,
}

impl Batch {
    /// Queues an insert.
    pub fn insert(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(BatchOp::Insert(key.into(), value.into()));
    }

    /// Queues a removal.
    pub fn remove(&mut self, key: impl Into<Vec<u8>>) {
        self.ops.push(BatchOp::Remove(key.into()));
    }

    /// Whether the batch has no changes.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The queued changes, in order.
    pub fn ops(&self) -> &[BatchOp] {
        &self.ops
    }
}

/// A key-value pair read from a backend.
pub type Entry = (Bytes, Bytes);

/// An ascending scan over a backend.
pub type Scan<'a> = Box<dyn Iterator<Item = Result<Entry>> + Send + 'a>;

/// An ordered, durable key-value engine.
pub trait Backend: Send + Sync + 'static {
    /// Reads one key.
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>>;

    /// Scans keys in `[start, end)` in ascending order (`end` unbounded when `None`), starting
    /// after `start` when `start_exclusive` is set.
    fn scan(&self, start: &[u8], start_exclusive: bool, end: Option<&[u8]>) -> Scan<'_>;

    /// The greatest entry with a key in `[start, end]`.
    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<Entry>>;

    /// Applies a batch atomically.
    fn apply(&self, batch: Batch) -> Result<()>;

    /// Blocks until every change applied so far is on stable storage.
    fn flush(&self) -> Result<()>;

    /// Bytes the engine occupies on disk (0 for memory).
    fn size_on_disk(&self) -> Result<u64>;
}

fn bounds<'a>(start: &'a [u8], start_exclusive: bool, end: Option<&'a [u8]>) -> (Bound<&'a [u8]>, Bound<&'a [u8]>) {
    let lower = if start_exclusive { Bound::Excluded(start) } else { Bound::Included(start) };
    let upper = end.map_or(Bound::Unbounded, Bound::Excluded);
    (lower, upper)
}

/// Attempts to take sled's lock on the directory, 50 ms apart.
const LOCK_ATTEMPTS: u32 = 40;

/// The embedded default: one sled 0.34 tree.
pub struct SledBackend {
    db: sled::Db,
    /// sled's data file, opened again only to `fdatasync` it: sled 0.34's `flush` writes with
    /// `sync_file_range`, which does not reach the device's write cache (nor file metadata), so
    /// without this an acknowledged write could be lost to a power cut or a VM crash.
    data_file: std::fs::File,
}

/// How sled itself should flush in the background.
#[derive(Debug, Clone, Copy)]
pub struct SledOptions {
    /// sled's own background flush period; `None` disables it.
    pub flush_every_ms: Option<u64>,
    /// Page-cache size in bytes.
    pub cache_capacity_bytes: u64,
}

impl SledBackend {
    /// Opens (or creates) a sled database in `dir`.
    pub fn open(dir: &Path, options: SledOptions) -> Result<Self> {
        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(options.cache_capacity_bytes)
            .flush_every_ms(options.flush_every_ms)
            .mode(sled::Mode::HighThroughput);
        // sled releases its file lock from background threads a moment after the last handle
        // drops, so a reopen right after a close can find the lock still held: retry briefly
        // before concluding that another process owns the directory.
        let mut attempt = 0;
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(error) if error.to_string().contains("could not acquire lock") && attempt < LOCK_ATTEMPTS => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(error) if error.to_string().contains("could not acquire lock") => {
                    return Err(StoreError::InUse { dir: dir.display().to_string() });
                }
                Err(error) => return Err(StoreError::backend(error)),
            }
        };
        let data_file = std::fs::File::open(dir.join("db")).map_err(StoreError::backend)?;
        Ok(SledBackend { db, data_file })
    }
}

fn ivec(value: sled::IVec) -> Bytes {
    // Zero-copy: the Bytes keeps the IVec alive.
    Bytes::from_owner(value)
}

impl Backend for SledBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        Ok(self.db.get(key).map_err(StoreError::backend)?.map(ivec))
    }

    fn scan(&self, start: &[u8], start_exclusive: bool, end: Option<&[u8]>) -> Scan<'_> {
        let range = self.db.range::<&[u8], _>(bounds(start, start_exclusive, end));
        Box::new(range.map(|entry| {
            let (k, v) = entry.map_err(StoreError::backend)?;
            Ok((ivec(k), ivec(v)))
        }))
    }

    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<Entry>> {
        match self.db.range(start..=end).next_back() {
            None => Ok(None),
            Some(entry) => {
                let (k, v) = entry.map_err(StoreError::backend)?;
                Ok(Some((ivec(k), ivec(v))))
            }
        }
    }

    fn apply(&self, batch: Batch) -> Result<()> {
        let mut sled_batch = sled::Batch::default();
        for op in batch.ops {
            match op {
                BatchOp::Insert(k, v) => sled_batch.insert(k, v),
                BatchOp::Remove(k) => sled_batch.remove(k),
            }
        }
        self.db.apply_batch(sled_batch).map_err(StoreError::backend)
    }

    fn flush(&self) -> Result<()> {
        self.db.flush().map_err(StoreError::backend)?;
        self.data_file.sync_data().map_err(StoreError::backend)
    }

    fn size_on_disk(&self) -> Result<u64> {
        self.db.size_on_disk().map_err(StoreError::backend)
    }
}

/// An in-memory backend for tests: the same store semantics, no durability beyond the process.
/// Reopening a store on a clone of the same `MemoryBackend` behaves like a clean restart.
#[derive(Clone, Default)]
pub struct MemoryBackend {
    map: Arc<RwLock<BTreeMap<Vec<u8>, Bytes>>>,
}

impl MemoryBackend {
    /// An empty backend.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Entries copied per lock acquisition while scanning the memory backend.
const MEMORY_SCAN_CHUNK: usize = 256;

impl Backend for MemoryBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        Ok(self.map.read().get(key).cloned())
    }

    fn scan(&self, start: &[u8], start_exclusive: bool, end: Option<&[u8]>) -> Scan<'_> {
        // Copy out a chunk at a time so that no lock is held between `next` calls.
        let mut cursor = start.to_vec();
        let mut exclusive = start_exclusive;
        let end = end.map(<[u8]>::to_vec);
        let mut chunk = std::collections::VecDeque::new();
        let mut done = false;
        Box::new(std::iter::from_fn(move || {
            if chunk.is_empty() && !done {
                let map = self.map.read();
                let range = map.range::<[u8], _>(bounds(&cursor, exclusive, end.as_deref()));
                chunk.extend(range.take(MEMORY_SCAN_CHUNK).map(|(k, v)| (Bytes::from(k.clone()), v.clone())));
                done = chunk.len() < MEMORY_SCAN_CHUNK;
                if let Some((k, _)) = chunk.back() {
                    cursor = k.to_vec();
                    exclusive = true;
                }
            }
            chunk.pop_front().map(Ok)
        }))
    }

    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<Entry>> {
        let map = self.map.read();
        let last = map.range::<[u8], _>((Bound::Included(start), Bound::Included(end))).next_back();
        Ok(last.map(|(k, v)| (Bytes::from(k.clone()), v.clone())))
    }

    fn apply(&self, batch: Batch) -> Result<()> {
        let mut map = self.map.write();
        for op in batch.ops {
            match op {
                BatchOp::Insert(k, v) => {
                    map.insert(k, Bytes::from(v));
                }
                BatchOp::Remove(k) => {
                    map.remove(&k);
                }
            }
        }
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64> {
        Ok(0)
    }
}
