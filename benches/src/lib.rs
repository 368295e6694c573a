//! Bosun's benchmark workloads, shared by the `store-bench` program (the store alone, against its
//! own targets) and `bosun bench` (the same workloads on Bosun's store and on etcd, side by side).
//!
//! - [`pods`]: the ~1 KiB Pod-shaped objects every workload writes.
//! - [`check`]: what every watcher checks (each expected revision once, in order) and the
//!   statistics over samples.
//! - [`drive`]: writers, concurrent and paced, on any store.
//! - [`on_store`]: the workloads on Bosun's store.
//! - [`suite`]: `bosun bench write|watch|resume|list|restart|all`, on one backend or compared.
//! - [`http`]: watch fan-out through Bosun's HTTP API, with HTTP clients on loopback.
//! - [`progress`]: the progress bar (plain lines when stderr is not a terminal).
//! - `etcd` (feature `etcd`): the same workloads on etcd through its gRPC API.

pub mod check;
pub mod drive;
#[cfg(feature = "etcd")]
pub mod etcd;
pub mod http;
pub mod on_store;
pub mod pods;
pub mod progress;
pub mod report;
pub mod suite;

/// Every benchmark error ends the run: figures from a failing store mean nothing.
pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;
