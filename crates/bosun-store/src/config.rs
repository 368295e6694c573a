//! Store settings. Every limit the store enforces is here, with its default and what it bounds.

use std::time::Duration;

/// When a write is acknowledged, relative to reaching stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// A write is acknowledged (and shown to readers and watchers) only after a flush that covers
    /// it. Concurrent writers share one flush (group commit). Nothing acknowledged is ever lost.
    /// This is what etcd does, and what `bosun serve` uses.
    Immediate,
    /// A write is acknowledged once applied; the engine flushes every `interval`. A crash loses at
    /// most the last `interval` of acknowledged writes. Revisions are still never reused.
    Periodic(Duration),
    /// A write is acknowledged once applied and flushed only at a clean close. For tests and
    /// benchmarks. A crash loses unflushed writes. Revisions are still never reused.
    None,
}

/// Settings for [`crate::Store`].
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// When writes are acknowledged. Default: `Immediate`.
    pub durability: Durability,
    /// Events kept in memory for watchers (the ring). A watcher that falls further behind reads
    /// from the on-disk log instead. Default: 16 384.
    pub ring_capacity: usize,
    /// Concurrent watchers allowed; more get `TooManyWatchers`. Default: 100 000.
    pub watchers_max: usize,
    /// Revisions a watcher examines per step, from the ring or the log: bounds the memory a
    /// watcher holds and the time it holds a lock. Default: 1 024.
    pub watch_batch_size: usize,
    /// History kept at least, counted in revisions. Default: 10 000.
    pub history_min_revisions: u64,
    /// History kept at least, by age. Default: 5 minutes.
    pub history_min_age: Duration,
    /// How often background compaction runs; `None` disables it (call `Store::compact`).
    /// Default: every 30 seconds.
    pub compaction_interval: Option<Duration>,
    /// Revisions compacted per atomic step, so compaction never holds up writers for long.
    /// Default: 1 024.
    pub compaction_batch_size: usize,
    /// Attempts a read-modify-write makes before giving up on conflicts. Default: 64.
    pub update_attempts_max: usize,
    /// The storage engine's page cache, in bytes. Default: 256 MiB.
    pub cache_capacity_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            durability: Durability::Immediate,
            ring_capacity: 16_384,
            watchers_max: 100_000,
            watch_batch_size: 1_024,
            history_min_revisions: 10_000,
            history_min_age: Duration::from_secs(300),
            compaction_interval: Some(Duration::from_secs(30)),
            compaction_batch_size: 1_024,
            update_attempts_max: 64,
            cache_capacity_bytes: 256 << 20,
        }
    }
}
