//! Bosun's controllers. They run in-process on `bosun_api::Api`, with exactly the semantics an
//! HTTP client would see.
//!
//! Today:
//! - [`namespace`]: empties a deleted namespace, then removes its finalizer.
//! - [`gc`]: the garbage collector: deletes objects whose owners are gone, and finishes Orphan
//!   and Foreground deletes.
//!
//! The ReplicaSet and Deployment controllers and the node agent come with their issue.

pub mod deployment;
pub mod gc;
pub mod namespace;
pub mod objects;
pub mod ownership;
pub mod replicaset;
pub mod runtime;
