//! Opens stores on either backend, so that every behavioural test runs on both.

#![allow(dead_code)]

use std::sync::Arc;

use bosun_store::{Durability, KeyPrefix, MemoryBackend, ObjectKey, SharedStorage, Store, StoreConfig};
use bytes::Bytes;

/// Where a test store lives; opening it again simulates a restart.
pub enum Place {
    Sled(tempfile::TempDir),
    Memory(MemoryBackend),
    #[cfg(feature = "etcd")]
    Etcd(bosun_store::LocalEtcd),
}

impl Place {
    pub fn sled() -> Self {
        Place::Sled(tempfile::tempdir().expect("temporary directory"))
    }

    pub fn memory() -> Self {
        Place::Memory(MemoryBackend::new())
    }

    /// A fresh etcd of its own, on free loopback ports and a temporary data directory.
    #[cfg(feature = "etcd")]
    pub fn etcd() -> Self {
        // The suite checks semantics, not durability: etcd may skip its fsyncs.
        Place::Etcd(
            bosun_store::LocalEtcd::start(&bosun_store::LocalEtcd::project_binary().unwrap(), false)
                .expect("start etcd"),
        )
    }

    /// The embedded store (sled or memory), as its concrete type.
    pub fn open(&self, config: StoreConfig) -> Store {
        match self {
            Place::Sled(dir) => Store::open(dir.path(), config).expect("open sled store"),
            Place::Memory(backend) => Store::open_with(Arc::new(backend.clone()), config).expect("open memory store"),
            #[cfg(feature = "etcd")]
            Place::Etcd(_) => panic!("an etcd place has no embedded store"),
        }
    }

    /// The store behind the storage interface bosun-api uses, whatever the backend. `config`
    /// sets the embedded stores; etcd takes only its watcher bound.
    pub async fn storage(&self, config: StoreConfig) -> SharedStorage {
        match self {
            #[cfg(feature = "etcd")]
            Place::Etcd(etcd) => {
                let store = etcd.connect(|endpoint| {
                    let mut options = bosun_store::EtcdOptions::new(vec![endpoint], Arc::new(text_restamp));
                    options.watchers_max = config.watchers_max;
                    // Small ranges, so that lists page through etcd as they would on a large store.
                    options.range_batch = 3;
                    options
                });
                Arc::new(store.await.expect("etcd answers"))
            }
            _ => Arc::new(self.open(config)),
        }
    }

    /// Stops and starts the store's server, if it has one (etcd); the embedded stores restart
    /// by being opened again.
    pub async fn restart_server(&mut self) {
        #[cfg(feature = "etcd")]
        if let Place::Etcd(etcd) = self {
            etcd.restart().expect("restart etcd");
        }
    }
}

/// Values that carry their revision are written as `rv=<revision>` in these tests; this is how
/// a store that learns the revision after the write (etcd) puts it back on read.
pub fn text_restamp(value: &Bytes, revision: u64) -> Bytes {
    let text = String::from_utf8_lossy(value);
    match text.strip_prefix("rv=") {
        Some(rest) => {
            let tail = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            Bytes::from(format!("rv={revision}{tail}"))
        }
        None => value.clone(),
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

/// Runs each test body once per backend: sled, memory and, with the `etcd` feature, etcd. The
/// body gets the test's `Place`.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident($place:ident) $body:block)*) => {
        $crate::on_embedded_backends! { $($name($place) $body)* }
        #[cfg(feature = "etcd")]
        mod etcd_backend {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[allow(unused_mut)]
                async fn $name() {
                    let mut $place = common::Place::etcd();
                    $body
                }
            )*
        }
    };
}

/// Runs each test body on the embedded backends (sled and memory).
#[macro_export]
macro_rules! on_embedded_backends {
    ($($name:ident($place:ident) $body:block)*) => {
        mod sled_backend {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[allow(unused_mut)]
                async fn $name() {
                    let mut $place = common::Place::sled();
                    $body
                }
            )*
        }
        mod memory_backend {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[allow(unused_mut)]
                async fn $name() {
                    let mut $place = common::Place::memory();
                    $body
                }
            )*
        }
    };
}
