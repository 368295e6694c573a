//! Watch validators, after etcd's robustness suite, applied to real streams: concurrent writers,
//! many watchers (fast, slow, resuming, filtered, with progress notifications) on a store whose
//! ring is small enough that slow watchers must catch up from the on-disk log.
//!
//! Each watcher's stream must be
//! - **ordered**: revisions strictly increase;
//! - **unique**: no revision twice;
//! - **atomic**: one event per revision, carrying that write's key and value;
//! - **reliable**: no gaps: every write under the watcher's prefix and filter after its start;
//! - **resumable**: a watch restarted from the last revision it saw continues exactly;
//! - **bookmarkable**: after `Progress(r)`, no event at or below `r` arrives, and every matching
//!   write at or below `r` has been delivered.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bosun_store::{
    Durability, Event, EventKind, KeyPrefix, LastState, ObjectKey, Preconditions, Store, StoreConfig, StoreError,
    WatchItem, WatchRequest,
};
use bosun_tests::Rng;
use parking_lot::Mutex;

const WRITERS: u64 = 4;
const WRITES_PER_WRITER: u64 = 600;
const KEYS: u64 = 40;

/// What a writer recorded of one acknowledged write.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Written {
    kind: EventKind,
    namespace: String,
    name: String,
    value: Vec<u8>,
}

/// How a watcher consumes its stream.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    Fast,
    /// Sleeps now and then, so the ring moves past it.
    Slow,
    /// Drops its watch every few events and resumes from the last revision it saw.
    Resuming,
    /// Watches one namespace only.
    Namespaced,
    /// Asks for progress notifications and checks them.
    Bookmarked,
}

fn key(index: u64) -> ObjectKey {
    ObjectKey::new("", "v1", "ConfigMap", format!("ns{}", index % 3), format!("k{index}"))
}

fn configmaps() -> KeyPrefix {
    KeyPrefix::kind("", "v1", "ConfigMap").unwrap()
}

/// One writer: random creates, updates and deletes on its own keys; records what it did.
async fn write(store: Store, writer: u64, seed: u64, log: Arc<Mutex<BTreeMap<u64, Written>>>) {
    let mut rng = Rng::new(seed ^ writer);
    for i in 0..WRITES_PER_WRITER {
        let key = key(rng.below(KEYS / WRITERS) * WRITERS + writer);
        let value = format!("w{writer}-{i}").into_bytes();
        let (kind, result) = match store.get(&key).unwrap() {
            None => (EventKind::Added, store.create(&key, uuid::Uuid::new_v4(), value.clone()).await),
            Some(current) if rng.below(5) == 0 => {
                let deleted = store.delete(&key, Preconditions::default(), LastState::AsStored).await;
                (EventKind::Deleted, deleted.map(|v| bosun_store::Versioned { value: current.value, ..v }))
            }
            Some(current) => (EventKind::Modified, store.update(&key, Some(current.mod_revision), value.clone()).await),
        };
        let written = result.expect("a writer owns its keys, so its writes never conflict");
        let value = if kind == EventKind::Deleted { written.value.to_vec() } else { value };
        let record = Written { kind, namespace: key.namespace.clone(), name: key.name.clone(), value };
        assert!(log.lock().insert(written.mod_revision, record).is_none(), "revision handed out twice");
    }
}

/// What a watcher saw.
#[derive(Default)]
struct Seen {
    events: Vec<Arc<Event>>,
    progress_checks: usize,
    resumes: usize,
}

async fn watch(store: Store, behaviour: Behaviour, start: u64, end: u64, seed: u64) -> Result<Seen, StoreError> {
    let mut rng = Rng::new(seed);
    let prefix = match behaviour {
        Behaviour::Namespaced => KeyPrefix::namespace("", "v1", "ConfigMap", "ns1").unwrap(),
        _ => configmaps(),
    };
    let mut request = WatchRequest::new(prefix, start);
    // A namespaced watcher learns that it has seen everything up to `end` from a progress
    // notification: most revisions are not in its namespace.
    if let Behaviour::Bookmarked | Behaviour::Namespaced = behaviour {
        request.progress_interval = Some(Duration::from_millis(2));
    }
    let mut watch = store.watch(request.clone())?;
    let mut seen = Seen::default();
    let mut last = start;
    while last < end {
        let item = tokio::time::timeout(Duration::from_secs(20), watch.next()).await.expect("watch stalled");
        match item.expect("the watch ended early")? {
            WatchItem::Event(event) => {
                last = event.revision;
                seen.events.push(event);
            }
            WatchItem::Progress(revision) => {
                // Bookmarkable: progress never goes back behind a delivered event.
                assert!(revision >= last, "progress {revision} behind delivered event {last}");
                last = last.max(revision);
                seen.progress_checks += 1;
            }
        }
        match behaviour {
            Behaviour::Slow if rng.below(50) == 0 => tokio::time::sleep(Duration::from_millis(20)).await,
            Behaviour::Resuming if rng.below(40) == 0 => {
                drop(watch);
                request.after_revision = last;
                watch = store.watch(request.clone())?;
                seen.resumes += 1;
            }
            _ => {}
        }
    }
    Ok(seen)
}

fn validate(behaviour: Behaviour, seen: &Seen, start: u64, log: &BTreeMap<u64, Written>) {
    let expected: Vec<(u64, &Written)> = log
        .range(start + 1..)
        .filter(|(_, w)| !matches!(behaviour, Behaviour::Namespaced) || w.namespace == "ns1")
        .map(|(r, w)| (*r, w))
        .collect();
    let mut previous = start;
    for event in &seen.events {
        assert!(event.revision > previous, "{behaviour:?}: not ordered/unique: {} after {previous}", event.revision);
        previous = event.revision;
    }
    let got: Vec<(u64, Written)> = seen
        .events
        .iter()
        .map(|e| {
            let key = e.object_key().unwrap();
            (e.revision, Written { kind: e.kind, namespace: key.namespace, name: key.name, value: e.value.to_vec() })
        })
        .collect();
    assert_eq!(got.len(), expected.len(), "{behaviour:?}: reliable: every write exactly once");
    for ((revision, written), (want_revision, want)) in got.iter().zip(&expected) {
        assert_eq!(revision, want_revision, "{behaviour:?}: gap");
        assert_eq!(written, *want, "{behaviour:?}: atomic: the event carries the write at its revision");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_watcher_sees_every_write_once_in_order_whatever_its_pace() {
    let seed = Rng::seed_from_time();
    eprintln!("seed {seed}");
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        durability: Durability::Immediate,
        ring_capacity: 128,
        watch_batch_size: 50,
        compaction_interval: None,
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path(), config).unwrap();
    let log = Arc::new(Mutex::new(BTreeMap::new()));
    let end = WRITERS * WRITES_PER_WRITER;

    let behaviours = [
        (Behaviour::Fast, 40),
        (Behaviour::Slow, 8),
        (Behaviour::Resuming, 4),
        (Behaviour::Namespaced, 4),
        (Behaviour::Bookmarked, 2),
    ];
    let mut watchers = Vec::new();
    for (behaviour, count) in behaviours {
        for i in 0..count {
            let store = store.clone();
            watchers.push((behaviour, tokio::spawn(watch(store, behaviour, 0, end, seed + i))));
        }
    }
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        writers.push(tokio::spawn(write(store.clone(), writer, seed, log.clone())));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let log = log.lock().clone();
    assert_eq!(log.len() as u64, end);
    assert_eq!(*log.keys().last().unwrap(), end, "revisions are 1..=writes, no gaps");

    let mut progress_checks = 0;
    let mut resumes = 0;
    for (behaviour, watcher) in watchers {
        let seen = watcher.await.unwrap().expect("no watcher may expire: nothing was compacted");
        validate(behaviour, &seen, 0, &log);
        progress_checks += seen.progress_checks;
        resumes += seen.resumes;
    }
    assert!(resumes > 0, "the resuming watchers never resumed");
    eprintln!("validated {} writes; {resumes} resumes; {progress_checks} progress notifications", log.len());

    // A watch started afterwards from a middle revision replays exactly the rest (from the log).
    let middle = end / 3;
    let late = watch(store.clone(), Behaviour::Fast, middle, end, seed).await.unwrap();
    validate(Behaviour::Fast, &late, middle, &log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_watcher_does_not_slow_writers_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        durability: Durability::None,
        ring_capacity: 64,
        compaction_interval: None,
        ..StoreConfig::default()
    };
    let store = Store::open(dir.path(), config).unwrap();
    // A watcher that never polls while 5 000 writes happen.
    let mut stalled = store.watch(WatchRequest::new(configmaps(), 0)).unwrap();
    for i in 0..5_000u64 {
        store.create(&key(i), uuid::Uuid::new_v4(), i.to_le_bytes().to_vec()).await.unwrap();
    }
    for revision in 1..=5_000u64 {
        let Some(Ok(WatchItem::Event(event))) = stalled.next().await else { panic!("stream ended") };
        assert_eq!(event.revision, revision);
        assert_eq!(&event.value[..], &(revision - 1).to_le_bytes());
    }
}
