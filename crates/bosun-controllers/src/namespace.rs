//! The namespace controller: when a namespace is deleted (it turns `Terminating` and keeps the
//! `kubernetes` finalizer in `spec.finalizers`), delete everything in it, then remove the
//! finalizer so that the namespace disappears.
//!
//! Level-triggered: every pass lists the terminating namespaces and works on each until it is
//! gone, so a restart in the middle resumes the work. Passes run when a namespace changes (a
//! watch on namespaces) and, while some namespace is still terminating, every second (objects
//! held by their own finalizers go away on their own schedule).

use std::time::Duration;

use bosun_api::api::{Api, DeleteOptions, ListParams, Propagation, WriteOptions};
use bosun_api::registry::{self, ResourceType};
use bosun_api::watch::WatchParams;
use serde_json::Value;

/// How often a pass repeats while some namespace is still terminating.
const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// The finalizer Kubernetes puts in every namespace's `spec.finalizers`.
pub const FINALIZER: &str = "kubernetes";

/// Runs the controller until the store closes.
pub async fn run(api: Api) {
    let namespaces = registry::find("", "v1", "namespaces").expect("namespaces are registered");
    loop {
        let pending = match pass(&api).await {
            Ok(pending) => pending,
            Err(error) => {
                tracing::warn!(%error, "namespace controller pass failed; retrying");
                true
            }
        };
        // Wait for a namespace change, or retry soon if work is left.
        let Ok(revision) = api.store().current_revision().await else {
            return;
        };
        let params = WatchParams { resource_version: Some(revision), ..WatchParams::default() };
        let Ok(mut watch) = api.watch(namespaces, None, &params, None).await else {
            return;
        };
        let wait = if pending { RETRY_INTERVAL } else { Duration::from_secs(3600) };
        if let Ok(None) = tokio::time::timeout(wait, watch.next()).await {
            return; // the store closed
        }
    }
}

/// One pass over every namespace; returns whether some namespace is still terminating.
pub async fn pass(api: &Api) -> Result<bool, bosun_api::status::Status> {
    let namespaces = registry::find("", "v1", "namespaces").expect("namespaces are registered");
    let list = api.list(namespaces, None, &ListParams::default(), &|_| true).await?;
    let mut pending = false;
    for item in &list.items {
        let namespace: Value = serde_json::from_slice(item).map_err(bosun_api::status::Status::internal)?;
        if !bosun_api::meta::is_being_deleted(&namespace) {
            continue;
        }
        let name = bosun_api::meta::name(&namespace).to_string();
        if purge(api, &name).await? {
            finalize(api, &name, &namespace).await?;
        } else {
            pending = true;
        }
    }
    Ok(pending)
}

/// Deletes every object in the namespace; returns whether it is empty.
async fn purge(api: &Api, namespace: &str) -> Result<bool, bosun_api::status::Status> {
    let mut empty = true;
    let options = DeleteOptions { propagation: Some(Propagation::Background), ..DeleteOptions::default() };
    // Every stored namespaced type, once: a converted view (autoscaling/v1 HPAs, events.k8s.io
    // Events) lists the objects of its storage version again.
    let stored = |rt: &&ResourceType| rt.storage.is_some() && !bosun_api::conversion::converts(rt);
    for rt in registry::all().iter().filter(|rt| rt.namespaced && rt.supports("delete")).filter(stored) {
        let list = api.list(rt, Some(namespace), &ListParams::default(), &|_| true).await?;
        for item in &list.items {
            empty = false;
            let object: Value = serde_json::from_slice(item).map_err(bosun_api::status::Status::internal)?;
            if bosun_api::meta::is_being_deleted(&object) {
                continue;
            }
            match api.delete(rt, namespace, bosun_api::meta::name(&object), &options).await {
                Ok(_) => {}
                Err(status) if status.code == 404 => {}
                Err(status) => return Err(status),
            }
        }
    }
    Ok(empty)
}

async fn finalize(api: &Api, name: &str, namespace: &Value) -> Result<(), bosun_api::status::Status> {
    let namespaces = registry::find("", "v1", "namespaces").expect("namespaces are registered");
    let mut body = namespace.clone();
    let finalizers: Vec<Value> = body
        .pointer("/spec/finalizers")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter(|f| f.as_str() != Some(FINALIZER)).cloned().collect())
        .unwrap_or_default();
    body["spec"]["finalizers"] = Value::Array(finalizers);
    let options = WriteOptions { field_manager: Some("bosun-namespace-controller".into()), ..Default::default() };
    match api.finalize_namespace(namespaces, name, body, &options).await {
        Ok(_) => Ok(()),
        Err(status) if status.code == 404 => Ok(()),
        Err(status) => Err(status),
    }
}
