//! Kubernetes API semantics for Bosun: what kube-apiserver 1.35 does between a request and the
//! store, shared by every front end (HTTP, the in-process client, controllers).
//!
//! - [`api::Api`]: the verbs (create, get, list, update, patch, delete, watch, status, scale), on
//!   JSON values for any registered type; [`client::TypedApi`]: the same on k8s-openapi types.
//! - [`registry`] and [`discovery`]: the built-in resource types and their discovery documents.
//! - [`conversion`]: the served versions of one resource as views of its stored version.
//! - [`defaults`], [`validation`], [`metadata_rules`]: what a write is checked and completed with.
//! - [`openapi`], [`field_validation`]: the types' schemas, and `fieldValidation` (unknown and
//!   duplicate fields) checked against them.
//! - [`selector`], [`options`]: label and field selectors, list and watch options.
//! - [`patch`], [`smp`]: JSON, merge, strategic merge and apply patches.
//! - [`managed_fields`]: field ownership (`metadata.managedFields`) and server-side apply.
//! - [`table`]: the Table representation `kubectl get` prints.
//! - [`status`]: the Status error object.

pub mod api;
pub mod client;
pub mod clock;
pub mod conversion;
pub mod defaults;
pub mod discovery;
pub mod field_validation;
pub mod managed_fields;
pub mod meta;
pub mod metadata_rules;
pub mod openapi;
pub mod options;
pub mod patch;
pub mod registry;
pub mod scale;
pub mod selector;
pub mod smp;
pub mod status;
pub mod table;
pub mod validation;
pub mod watch;

/// What the crate's unit tests share.
#[cfg(test)]
pub(crate) mod test_support {
    /// A bootstrapped API over an in-memory store without background compaction.
    pub(crate) async fn api() -> crate::api::Api {
        let store = bosun_store::Store::open_with(
            std::sync::Arc::new(bosun_store::MemoryBackend::new()),
            bosun_store::StoreConfig { compaction_interval: None, ..Default::default() },
        )
        .unwrap();
        let api = crate::api::Api::new(store);
        api.bootstrap(6443).await.unwrap();
        api
    }
}
