//! Opens stores on either backend, so that every behavioural test runs on both.

#![allow(dead_code)]

use std::sync::Arc;

use bosun_store::{Durability, KeyPrefix, MemoryBackend, ObjectKey, Store, StoreConfig};

/// Where a test store lives; `reopen` simulates a restart.
pub enum Place {
    Sled(tempfile::TempDir),
    Memory(MemoryBackend),
}

impl Place {
    pub fn sled() -> Self {
        Place::Sled(tempfile::tempdir().expect("temporary directory"))
    }

    pub fn memory() -> Self {
        Place::Memory(MemoryBackend::new())
    }

    pub fn open(&self, config: StoreConfig) -> Store {
        match self {
            Place::Sled(dir) => Store::open(dir.path(), config).expect("open sled store"),
            Place::Memory(backend) => Store::open_with(Arc::new(backend.clone()), config).expect("open memory store"),
        }
    }
}

/// A config for tests: durable, no background compaction, small batches so that paths that
/// batch are exercised.
pub fn config() -> StoreConfig {
    StoreConfig {
        durability: Durability::Immediate,
        compaction_interval: None,
        watch_batch_size: 7,
        compaction_batch_size: 5,
        ring_capacity: 64,
        ..StoreConfig::default()
    }
}

pub fn pod(namespace: &str, name: &str) -> ObjectKey {
    ObjectKey::new("", "v1", "Pod", namespace, name)
}

pub fn pods() -> KeyPrefix {
    KeyPrefix::kind("", "v1", "Pod").unwrap()
}

pub fn pods_in(namespace: &str) -> KeyPrefix {
    KeyPrefix::namespace("", "v1", "Pod", namespace).unwrap()
}

/// Runs a test body once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident($place:ident) $body:block)*) => {
        mod sled_backend {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $place = common::Place::sled();
                    $body
                }
            )*
        }
        mod memory_backend {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $place = common::Place::memory();
                    $body
                }
            )*
        }
    };
}
