//! Bosun's controllers. They run in-process on `bosun_api::Api`, with exactly the semantics an
//! HTTP client would see, on a small runtime ([`runtime`]: shared informers, work queues with
//! timers on the injected clock, expectations, events).
//!
//! - [`deployment`]: rolls Deployments out through ReplicaSets.
//! - [`replicaset`]: keeps each ReplicaSet's pods at its size.
//! - [`job`]: runs a Job's pods to completion.
//! - [`namespace`]: empties a deleted namespace, then removes its finalizer.
//! - [`gc`]: the garbage collector: deletes objects whose owners are gone, and finishes Orphan
//!   and Foreground deletes.
//! - [`node`]: the node agent, a kubelet stand-in for one virtual node: binds pods, simulates
//!   their containers and readiness, finishes graceful pod deletion.
//! - [`endpoints`]: Endpoints and EndpointSlices of every Service with a selector.
//!
//! [`start`] runs them all; [`start_elected`] runs them once this server holds the controllers'
//! Lease ([`election`]), for several servers over one etcd.

pub mod deployment;
pub mod election;
pub mod endpoints;
pub mod gc;
pub mod job;
pub mod namespace;
pub mod node;
pub mod objects;
pub mod ownership;
pub mod replicaset;
pub mod runtime;

use bosun_api::api::Api;

use runtime::shared::SharedInformers;

/// Settings of the controllers.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// The node agent's settings (node name, application profiles).
    pub node: node::NodeConfig,
    /// Deployment controller workers.
    pub deployment_workers: usize,
    /// ReplicaSet controller workers.
    pub replicaset_workers: usize,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        // Upstream's defaults are 5 each; reconciles here are in-process and short.
        ControllerConfig { node: node::NodeConfig::default(), deployment_workers: 16, replicaset_workers: 16 }
    }
}

/// Starts every controller on `api` once this process holds the controllers' Lease (see
/// [`election`]); the task ends when the store closes or the Lease is lost, and says which. On
/// [`election::ElectionEnd::Lost`] the caller must stop serving (close the store): another server
/// may be running the controllers by then.
pub fn start_elected(
    api: &Api,
    config: ControllerConfig,
    election: election::ElectionConfig,
) -> tokio::task::JoinHandle<election::ElectionEnd> {
    let api = api.clone();
    tokio::spawn(async move {
        let leader = api.clone();
        election::run(api, election, move || {
            start(&leader, config);
        })
        .await
    })
}

/// Starts every controller on `api`; they run until the store closes. Returns the shared
/// informers (already started), so that a caller can read the caches.
pub fn start(api: &Api, config: ControllerConfig) -> std::sync::Arc<SharedInformers> {
    let informers = std::sync::Arc::new(SharedInformers::new(api));
    let replicasets = replicaset::ReplicaSetController::new(api, &informers);
    let deployments = deployment::DeploymentController::new(api, &informers);
    let jobs = job::JobController::new(api, &informers);
    node::start(api, &informers, config.node);
    endpoints::start(api, &informers);
    informers.start();
    tokio::spawn(replicasets.run(config.replicaset_workers));
    tokio::spawn(deployments.run(config.deployment_workers));
    tokio::spawn(jobs.run(2));
    tokio::spawn(namespace::run(api.clone()));
    tokio::spawn(gc::run(api.clone()));
    informers
}
