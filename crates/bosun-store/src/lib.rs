//! Bosun's persistent, revisioned object store with watch.
//!
//! The store knows nothing of Kubernetes types: it keeps opaque object bytes under
//! group/version/kind/namespace/name keys ([`ObjectKey`]), stamps every committed write with one
//! global revision (`+1` per write, never reused, never going backwards, across restarts and
//! crashes), keeps each object's versions so that lists are consistent snapshots, and lets
//! watchers follow every write after a revision, exactly once and in order, from memory or from
//! the persisted log ([`Watch`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), bosun_store::StoreError> {
//! use bosun_store::{KeyPrefix, ObjectKey, Store, StoreConfig, WatchRequest};
//!
//! let store = Store::open("./data", StoreConfig::default())?;
//! let key = ObjectKey::new("apps", "v1", "Deployment", "default", "web");
//! let created = store.create(&key, uuid::Uuid::new_v4(), br#"{"spec":{}}"#.as_slice()).await?;
//! let mut watch = store.watch(WatchRequest::new(KeyPrefix::kind("apps", "v1", "Deployment")?, created.mod_revision))?;
//! store.update(&key, Some(created.mod_revision), br#"{"spec":{"replicas":2}}"#.as_slice()).await?;
//! let next = watch.next().await; // the update, at created.mod_revision + 1
//! # Ok(()) }
//! ```
//!
//! bosun-api runs on the [`Storage`] interface, which this embedded [`Store`] implements and,
//! with the `etcd` feature, so does `EtcdStore` (etcd's revisions, watch and compaction), for
//! several API servers over one etcd cluster (docs/ETCD.md).

mod backend;
mod config;
mod error;
#[cfg(feature = "etcd")]
mod etcd;
mod event;
mod key;
mod records;
mod storage;
mod store;
mod watch;

pub use backend::{Backend, Batch, BatchOp, Entry, MemoryBackend, Scan, SledBackend, SledOptions};
pub use config::{Durability, StoreConfig};
pub use error::{Result, StoreError};
#[cfg(feature = "etcd")]
pub use etcd::{EtcdOptions, EtcdStore, EtcdTls, LocalEtcd, LocalPki, Restamp, ServerTls};
pub use event::{Event, EventKind, Versioned, WatchItem};
pub use key::{InvalidKey, KeyPrefix, ObjectKey};
pub use storage::{ListFilter, SharedStorage, Storage, StoreFuture};
pub use store::{
    Decision, LastState, ListPage, ListRequest, NewValue, Preconditions, RecoveryInfo, RenderLastState, Store,
    UpdateError,
};
pub use watch::{EventFilter, RemoteWatch, Watch, WatchRequest};
