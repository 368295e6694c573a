//! The child of the crash test: makes writes as fast as it can and reports each acknowledgement
//! on stdout, until its parent kills it with SIGKILL.
//!
//! Usage: `bosun-crash-child DATA_DIR SEED MODE` where MODE is `immediate` or `none`.
//! Each acknowledged write prints `ack REVISION OP KEY` (OP: create, update or delete); the value
//! written to KEY at REVISION is always `KEY@REVISION`, so the parent can check it.

use std::io::Write;

use bosun_store::{Durability, LastState, NewValue, ObjectKey, Preconditions, Store, StoreConfig, StoreError};
use bosun_tests::Rng;
use bytes::Bytes;

const KEYS: u64 = 64;

fn key(index: u64) -> ObjectKey {
    ObjectKey::new("", "v1", "ConfigMap", "crash", format!("k{index}"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("missing DATA_DIR")?;
    let seed: u64 = args.next().ok_or("missing SEED")?.parse()?;
    let durability = match args.next().as_deref() {
        Some("immediate") => Durability::Immediate,
        Some("none") => Durability::None,
        other => return Err(format!("MODE must be immediate or none, not {other:?}").into()),
    };
    let config = StoreConfig { durability, compaction_interval: None, ..StoreConfig::default() };
    let store = Store::open(&dir, config)?;
    let writers = 4;
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..writers {
        let store = store.clone();
        tasks.spawn(async move {
            let mut rng = Rng::new(seed.wrapping_add(writer));
            loop {
                // Each writer owns the keys congruent to it, so its view of their state is exact.
                let index = rng.below(KEYS / writers) * writers + writer;
                let key = key(index);
                let stamped =
                    |name: String| NewValue::stamped(move |revision| Bytes::from(format!("{name}@{revision}")));
                let name = key.name.clone();
                let (op, result) = match store.get(&key).expect("get") {
                    None => ("create", store.create(&key, uuid::Uuid::new_v4(), stamped(name)).await),
                    Some(_) if rng.below(4) == 0 => {
                        ("delete", store.delete(&key, Preconditions::default(), LastState::AsStored).await)
                    }
                    Some(current) => ("update", store.update(&key, Some(current.mod_revision), stamped(name)).await),
                };
                match result {
                    Ok(written) => {
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "ack {} {op} {}", written.mod_revision, key.name).expect("stdout");
                        out.flush().expect("stdout");
                    }
                    Err(StoreError::Conflict { .. } | StoreError::NotFound | StoreError::AlreadyExists) => {}
                    Err(error) => {
                        eprintln!("crash child: write failed: {error}");
                        std::process::exit(2);
                    }
                }
            }
        });
    }
    // The writers run until the parent kills this process; one finishing means it failed.
    tasks.join_next().await.expect("at least one writer")?;
    Err("a writer stopped".into())
}
