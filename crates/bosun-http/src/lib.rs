//! Bosun's Kubernetes-compatible HTTP/JSON API: a thin axum/tower front over `bosun_api::Api`.
//!
//! [`router`] returns an axum `Router`, which is a `tower::Service`: the same value serves TCP
//! ([`serve`]), TLS, and in-process callers such as `kube::Client::new(router, "default")`.

pub mod auth;
mod compression;
mod delete;
mod endpoints;
mod list;
pub mod negotiate;
pub(crate) mod openapi;
mod patch;
pub mod path;
pub mod protobuf;
mod respond;
pub mod server;
mod service;
pub mod tls;
mod watch;
mod yaml;

pub use service::{HttpConfig, HttpState, ShutdownHandle, router};
