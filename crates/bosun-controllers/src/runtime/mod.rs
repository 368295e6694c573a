//! The controller runtime: what every controller here stands on.
//!
//! - [`informer::Informer`]: a shared cache of one type, fed by list and watch through the
//!   in-process API, with change handlers and an owner (controller reference) index.
//! - [`queue::WorkQueue`]: de-duplicated keys, one reconcile in flight per key, timers on the
//!   injected clock, rate-limited retries.
//! - [`expectations::Expectations`]: what a controller waits to see after its own writes.
//! - [`events::EventRecorder`]: the Events `kubectl describe` shows.
//! - [`run_workers`]: the loop that takes keys from a queue and reconciles them, level-triggered:
//!   a reconcile reads the current state from the caches, never the event that woke it.

pub mod events;
pub mod expectations;
pub mod informer;
pub mod queue;
pub mod shared;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use bosun_api::status::Status;
use bosun_store::SharedStorage;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use queue::WorkQueue;

/// `namespace/name` of an object (namespace empty for cluster-scoped ones).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// The namespace.
    pub namespace: String,
    /// The name.
    pub name: String,
}

impl ObjectKey {
    /// The key of `namespace/name`.
    pub fn new(namespace: &str, name: &str) -> Self {
        ObjectKey { namespace: namespace.to_string(), name: name.to_string() }
    }

    /// The key of an object's metadata.
    pub fn of(meta: &ObjectMeta) -> Self {
        ObjectKey { namespace: meta.namespace.clone().unwrap_or_default(), name: meta.name.clone().unwrap_or_default() }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{}/{}", self.namespace, self.name)
        }
    }
}

/// What a reconcile asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing until something changes.
    Done,
    /// Reconcile again when the clock reaches this time (a deadline or `minReadySeconds`).
    RequeueAt(SystemTime),
}

/// How a controller's workers behave.
#[derive(Debug, Clone, Copy)]
pub struct WorkerConfig {
    /// The controller's name, for logs.
    pub name: &'static str,
    /// Reconciles running at once (on different keys).
    pub workers: usize,
    /// After this many consecutive failures a key is dropped until its next change (upstream's
    /// Deployment controller: 15); `None` retries forever (the ReplicaSet controller).
    pub retries_max: Option<u32>,
}

/// A controller's level-triggered sync of one key.
pub trait Reconcile: Clone + Send + Sync + 'static {
    /// Brings `key`'s object toward its spec from the current cached state.
    fn reconcile(&self, key: &ObjectKey) -> impl Future<Output = Result<Action, Status>> + Send;
}

/// Runs `controller`'s reconciles on keys from `queue` until the store closes.
pub async fn run_controller<C: Reconcile>(
    controller: C,
    store: &SharedStorage,
    queue: Arc<WorkQueue<ObjectKey>>,
    config: WorkerConfig,
) {
    run_workers(store, queue, config, move |key| {
        let controller = controller.clone();
        async move { controller.reconcile(&key).await }
    })
    .await;
}

/// Runs `config.workers` workers that reconcile keys from `queue` until the store closes (then
/// the queue shuts down and the workers let go of their handles, so the store's directory can be
/// opened again in the same process).
pub async fn run_workers<R, F>(
    store: &SharedStorage,
    queue: Arc<WorkQueue<ObjectKey>>,
    config: WorkerConfig,
    reconcile: R,
) where
    R: Fn(ObjectKey) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Action, Status>> + Send + 'static,
{
    let closing = {
        let (store, queue) = (store.clone(), Arc::clone(&queue));
        tokio::spawn(async move {
            store.closed().await;
            queue.shut_down();
        })
    };
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..config.workers.max(1) {
        let queue = Arc::clone(&queue);
        let reconcile = reconcile.clone();
        workers.spawn(async move {
            while let Some(key) = queue.next().await {
                match reconcile(key.clone()).await {
                    Ok(action) => {
                        queue.forget(&key);
                        if let Action::RequeueAt(deadline) = action {
                            queue.add_at(key.clone(), deadline);
                        }
                    }
                    Err(status) => {
                        // A namespace being deleted is not an error worth retrying: its
                        // deletion wakes the key again if anything is left to do.
                        let terminating = status.code == 403 && status.message.contains("terminat");
                        if terminating || status.code == 404 {
                            tracing::debug!(controller = config.name, %key, %status.message, "reconcile gave up");
                            queue.forget(&key);
                        } else {
                            let failures = queue.add_rate_limited(key.clone());
                            tracing::debug!(controller = config.name, %key, failures, %status.message, "reconcile failed; retrying");
                            if config.retries_max.is_some_and(|max| failures > max) {
                                tracing::warn!(controller = config.name, %key, %status.message, "dropping the key after repeated failures");
                                queue.forget(&key);
                            }
                        }
                    }
                }
                queue.done(&key);
            }
        });
    }
    while workers.join_next().await.is_some() {}
    closing.abort();
}
