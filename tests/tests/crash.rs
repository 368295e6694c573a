//! The crash test: a child process makes writes and reports each acknowledgement; the parent
//! SIGKILLs it at random moments, reopens the store and checks it.
//!
//! After every kill, in `Immediate` mode:
//! - every acknowledged write is there, at its revision, with its value;
//! - the revision never went backwards;
//! - a watch from the last acknowledged revision returns exactly the writes after it, contiguous
//!   and matching the stored versions.
//!
//! In `None` mode acknowledged writes may be lost, but a revision is never handed out twice: the
//! store reopens beyond every revision it acknowledged before the crash.
//!
//! `BOSUN_CRASH_CYCLES` sets the number of kills (20 by default); `BOSUN_CRASH_SEED` replays a run.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use bosun_store::{KeyPrefix, ObjectKey, Store, StoreConfig, WatchItem, WatchRequest};
use bosun_tests::Rng;

fn cycles() -> u64 {
    std::env::var("BOSUN_CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(20)
}

fn seed() -> u64 {
    std::env::var("BOSUN_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(Rng::seed_from_time)
}

/// One acknowledged write, as the child reported it.
#[derive(Debug, Clone)]
struct Ack {
    revision: u64,
    op: String,
    name: String,
}

/// Runs the child until it is killed after `run_for`; returns every complete `ack` line.
fn run_child_and_kill(dir: &std::path::Path, seed: u64, mode: &str, run_for: Duration) -> Vec<Ack> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bosun-crash-child"))
        .arg(dir)
        .arg(seed.to_string())
        .arg(mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the crash child");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut acks = Vec::new();
        // A line cut by the kill has no newline: `lines` still yields it, so check its shape.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let parts: Vec<_> = line.split(' ').collect();
            if let ["ack", revision, op, name] = parts[..]
                && let Ok(revision) = revision.parse()
                && name.starts_with('k')
            {
                acks.push(Ack { revision, op: op.to_string(), name: name.to_string() });
            }
        }
        acks
    });
    std::thread::sleep(run_for);
    // SIGKILL: no destructor, no flush, no clean-close marker.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let status = child.wait().expect("wait for the child");
    assert!(!status.success(), "the child must have been killed, not have exited: {status:?}");
    reader.join().unwrap()
}

fn key(name: &str) -> ObjectKey {
    ObjectKey::new("", "v1", "ConfigMap", "crash", name)
}

fn test_config() -> StoreConfig {
    StoreConfig { compaction_interval: None, ..StoreConfig::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_durable_writes_survive_sigkill_and_revisions_never_go_backwards() {
    let seed = seed();
    eprintln!("crash test seed {seed} (BOSUN_CRASH_SEED={seed} replays it)");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut last_revision = 0;
    let mut total_acks = 0;
    for cycle in 0..cycles() {
        // Sometimes kill during start-up and recovery, mostly mid-stream.
        let run_for = Duration::from_millis(if rng.below(5) == 0 { rng.below(15) } else { 20 + rng.below(200) });
        let acks = run_child_and_kill(dir.path(), rng.next_u64(), "immediate", run_for);
        total_acks += acks.len();

        let store = Store::open(dir.path(), test_config()).expect("reopen after the kill");
        let revision = store.revision();
        assert!(revision >= last_revision, "cycle {cycle}: revision went back from {last_revision} to {revision}");
        let max_acked = acks.iter().map(|a| a.revision).max().unwrap_or(last_revision);
        assert!(revision >= max_acked, "cycle {cycle}: acknowledged revision {max_acked} lost (store at {revision})");

        // Every acknowledged write is there, at its revision.
        for ack in &acks {
            let at = store.get_at(&key(&ack.name), ack.revision).unwrap();
            match ack.op.as_str() {
                "delete" => assert!(at.is_none(), "cycle {cycle}: acknowledged delete {ack:?} not there"),
                _ => {
                    let at = at.unwrap_or_else(|| panic!("cycle {cycle}: acknowledged {ack:?} lost"));
                    assert_eq!(at.mod_revision, ack.revision, "cycle {cycle}: {ack:?}");
                    assert_eq!(at.value, format!("{}@{}", ack.name, ack.revision), "cycle {cycle}");
                }
            }
        }

        // A watch from the last acknowledged revision returns exactly the writes after it.
        let mut watch = store
            .watch(WatchRequest::new(KeyPrefix::kind("", "v1", "ConfigMap").unwrap(), max_acked))
            .expect("watch from the last acknowledged revision");
        for expected in max_acked + 1..=revision {
            let item = tokio::time::timeout(Duration::from_secs(10), watch.next()).await.expect("watch stalled");
            let Some(Ok(WatchItem::Event(event))) = item else { panic!("cycle {cycle}: {item:?}") };
            assert_eq!(event.revision, expected, "cycle {cycle}: watch gap or reorder");
            let name = event.object_key().unwrap().name;
            let stored = store.get_at(&key(&name), expected).unwrap();
            match event.kind {
                bosun_store::EventKind::Deleted => assert!(stored.is_none()),
                _ => assert_eq!(stored.map(|v| v.value), Some(event.value.clone())),
            }
        }
        drop(watch);
        last_revision = revision;
        store.close().unwrap();
    }
    assert!(total_acks > 0, "the children never acknowledged a write: the test tested nothing");
    eprintln!("{} cycles, {total_acks} acknowledged writes checked, final revision {last_revision}", cycles());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_in_a_non_durable_mode_never_hands_out_a_revision_twice() {
    let seed = seed();
    eprintln!("crash test seed {seed} (BOSUN_CRASH_SEED={seed} replays it)");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut seen: BTreeMap<u64, String> = BTreeMap::new();
    for cycle in 0..cycles().div_ceil(2) {
        let acks = run_child_and_kill(dir.path(), rng.next_u64(), "none", Duration::from_millis(20 + rng.below(150)));
        let store = Store::open(dir.path(), StoreConfig { durability: bosun_store::Durability::None, ..test_config() })
            .expect("reopen after the kill");
        let highest_seen = acks.iter().map(|a| a.revision).max().unwrap_or(0);
        assert!(
            store.revision() >= highest_seen,
            "cycle {cycle}: reopened at {} but revision {highest_seen} was already handed out",
            store.revision()
        );
        // Whatever survived is a consistent prefix: a surviving acknowledged write is intact.
        for ack in &acks {
            if ack.op != "delete"
                && let Ok(Some(at)) = store.get_at(&key(&ack.name), ack.revision)
                && at.mod_revision == ack.revision
            {
                assert_eq!(at.value, format!("{}@{}", ack.name, ack.revision));
            }
            let previous = seen.insert(ack.revision, format!("{} {}", ack.op, ack.name));
            assert!(previous.is_none(), "cycle {cycle}: revision {} handed out twice", ack.revision);
        }
        store.close().unwrap();
    }
}
