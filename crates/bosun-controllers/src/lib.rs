//! Bosun's controllers. They run in-process on `bosun_api::Api`, with exactly the semantics an
//! HTTP client would see.
//!
//! Today:
//! - [`namespace`]: empties a deleted namespace, then removes its finalizer.
//! - [`gc`]: the garbage collector: deletes objects whose owners are gone, and finishes Orphan
//!   and Foreground deletes.
//! - [`node`]: the node agent, a kubelet stand-in for one virtual node: binds pods, simulates
//!   their containers and readiness, finishes graceful pod deletion.
//! - [`endpoints`]: Endpoints and EndpointSlices of every Service with a selector.

pub mod endpoints;
pub mod gc;
pub mod namespace;
pub mod node;
pub mod runtime;
