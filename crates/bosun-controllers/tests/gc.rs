//! The garbage collector on a real `Api` over an in-memory store: background, orphan and
//! foreground cascades, blockOwnerDeletion, uid mismatches, cluster-scoped owners, a restart in
//! the middle, and the per-pass write bound.

use std::sync::Arc;
use std::time::Duration;

use bosun_api::api::{Api, DeleteOptions, Propagation, Subresource, WriteOptions};
use bosun_api::registry::{self, ResourceType};
use bosun_controllers::gc::{self, GcConfig};
use bosun_store::{EventKind, KeyPrefix, MemoryBackend, Store, StoreConfig, WatchItem, WatchRequest};
use serde_json::{Value, json};

/// How long a test waits for the collector before failing.
const WAIT_MAX: Duration = Duration::from_secs(10);

fn fast() -> GcConfig {
    GcConfig {
        debounce: Duration::from_millis(5),
        retry_min: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        ..GcConfig::default()
    }
}

fn open(backend: &MemoryBackend) -> Api {
    let config = StoreConfig { compaction_interval: None, ..StoreConfig::default() };
    Api::new(Store::open_with(Arc::new(backend.clone()), config).expect("open the store"))
}

/// An API with the default namespaces, on a backend that can be reopened.
async fn start() -> (Api, MemoryBackend) {
    let backend = MemoryBackend::new();
    let api = open(&backend);
    api.bootstrap(6443).await.expect("bootstrap");
    (api, backend)
}

fn rt(plural: &str) -> &'static ResourceType {
    let (group, version) = match plural {
        "deployments" | "replicasets" => ("apps", "v1"),
        "clusterroles" => ("rbac.authorization.k8s.io", "v1"),
        _ => ("", "v1"),
    };
    registry::find(group, version, plural).expect("registered")
}

fn owner_ref(kind: &str, name: &str, uid: &str, block: bool) -> Value {
    let api_version = match kind {
        "Deployment" | "ReplicaSet" => "apps/v1",
        "ClusterRole" => "rbac.authorization.k8s.io/v1",
        _ => "v1",
    };
    json!({"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "controller": false,
        "blockOwnerDeletion": block})
}

fn template(app: &str) -> Value {
    json!({"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
}

async fn create(api: &Api, plural: &str, body: Value) -> Value {
    let options = WriteOptions { field_manager: Some("test".into()), ..Default::default() };
    api.create(rt(plural), "default", body, &options).await.unwrap_or_else(|e| panic!("create {plural}: {e}"))
}

async fn deployment(api: &Api, name: &str) -> String {
    let body = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": template(name)}});
    uid(&create(api, "deployments", body).await)
}

async fn replicaset(api: &Api, name: &str, owners: Vec<Value>) -> String {
    replicaset_with_finalizers(api, name, owners, &[]).await
}

async fn replicaset_with_finalizers(api: &Api, name: &str, owners: Vec<Value>, finalizers: &[&str]) -> String {
    let body = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "ownerReferences": owners, "finalizers": finalizers},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": template(name)}});
    uid(&create(api, "replicasets", body).await)
}

async fn pod(api: &Api, name: &str, owners: Vec<Value>) -> String {
    let mut body = template(name);
    body["apiVersion"] = "v1".into();
    body["kind"] = "Pod".into();
    body["metadata"]["name"] = name.into();
    body["metadata"]["ownerReferences"] = owners.into();
    uid(&create(api, "pods", body).await)
}

async fn configmap(api: &Api, name: &str, owners: Vec<Value>) {
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "ownerReferences": owners}});
    create(api, "configmaps", body).await;
}

fn uid(object: &Value) -> String {
    object["metadata"]["uid"].as_str().expect("a uid").to_string()
}

async fn delete(api: &Api, plural: &str, name: &str, propagation: Propagation) {
    let options = DeleteOptions { propagation: Some(propagation), ..DeleteOptions::default() };
    api.delete(rt(plural), "default", name, &options).await.unwrap_or_else(|e| panic!("delete {plural}/{name}: {e}"));
}

async fn get(api: &Api, plural: &str, name: &str) -> Option<Value> {
    match api.get(rt(plural), "default", name).await {
        Ok(object) => Some(object),
        Err(status) if status.code == 404 => None,
        Err(status) => panic!("get {plural}/{name}: {status}"),
    }
}

async fn wait_until(what: &str, condition: impl AsyncFn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_gone(api: &Api, plural: &str, name: &str) {
    wait_until(&format!("{plural}/{name} is gone"), async || get(api, plural, name).await.is_none()).await;
}

fn owner_uids(object: &Value) -> Vec<String> {
    object["metadata"]["ownerReferences"]
        .as_array()
        .map(|refs| refs.iter().map(|r| r["uid"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_delete_of_a_deployment_removes_its_replicaset_and_then_its_pods() {
    let (api, _backend) = start().await;
    tokio::spawn(gc::run_with(api.clone(), fast()));
    let web = deployment(&api, "web").await;
    let rs = replicaset(&api, "web-1", vec![owner_ref("Deployment", "web", &web, true)]).await;
    pod(&api, "web-1-a", vec![owner_ref("ReplicaSet", "web-1", &rs, true)]).await;
    pod(&api, "web-1-b", vec![owner_ref("ReplicaSet", "web-1", &rs, true)]).await;
    let unrelated = deployment(&api, "other").await;
    replicaset(&api, "other-1", vec![owner_ref("Deployment", "other", &unrelated, true)]).await;

    delete(&api, "deployments", "web", Propagation::Background).await;
    assert!(get(&api, "deployments", "web").await.is_none(), "a background delete removes the owner at once");
    wait_gone(&api, "replicasets", "web-1").await;
    wait_gone(&api, "pods", "web-1-a").await;
    wait_gone(&api, "pods", "web-1-b").await;
    assert!(get(&api, "replicasets", "other-1").await.is_some(), "a dependent of a live owner stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphan_delete_keeps_the_dependents_and_strips_only_that_owner_reference() {
    let (api, _backend) = start().await;
    tokio::spawn(gc::run_with(api.clone(), fast()));
    let web = deployment(&api, "web").await;
    let keeper = deployment(&api, "keeper").await;
    let rs = replicaset(&api, "web-1", vec![owner_ref("Deployment", "web", &web, true)]).await;
    replicaset(
        &api,
        "shared",
        vec![owner_ref("Deployment", "web", &web, true), owner_ref("Deployment", "keeper", &keeper, false)],
    )
    .await;
    pod(&api, "web-1-a", vec![owner_ref("ReplicaSet", "web-1", &rs, true)]).await;

    delete(&api, "deployments", "web", Propagation::Orphan).await;
    wait_gone(&api, "deployments", "web").await;
    let released = get(&api, "replicasets", "web-1").await.expect("the orphaned ReplicaSet stays");
    assert!(released["metadata"].get("ownerReferences").is_none(), "{released}");
    let shared = get(&api, "replicasets", "shared").await.expect("stays");
    assert_eq!(owner_uids(&shared), [keeper]);
    let pod = get(&api, "pods", "web-1-a").await.expect("the pod of an orphaned ReplicaSet stays");
    assert_eq!(owner_uids(&pod), [rs]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreground_delete_removes_the_dependents_before_the_owner() {
    let (api, _backend) = start().await;
    tokio::spawn(gc::run_with(api.clone(), fast()));
    let web = deployment(&api, "web").await;
    let rs = replicaset(&api, "web-1", vec![owner_ref("Deployment", "web", &web, true)]).await;
    pod(&api, "web-1-a", vec![owner_ref("ReplicaSet", "web-1", &rs, true)]).await;
    pod(&api, "web-1-b", vec![owner_ref("ReplicaSet", "web-1", &rs, true)]).await;
    let mut watch = api
        .store()
        .watch(WatchRequest::new(KeyPrefix::all(), api.store().current_revision().await.unwrap()))
        .await
        .unwrap();

    delete(&api, "deployments", "web", Propagation::Foreground).await;
    let mut deleted = Vec::new();
    while !deleted.contains(&"Deployment/web".to_string()) {
        let item = tokio::time::timeout(WAIT_MAX, watch.next()).await.expect("the cascade finishes");
        let Some(Ok(WatchItem::Event(event))) = item else { panic!("the watch ended: {item:?}") };
        if event.kind == EventKind::Deleted {
            let key = event.object_key().unwrap();
            deleted.push(format!("{}/{}", key.kind, key.name));
        }
    }
    assert_eq!(deleted.len(), 4, "{deleted:?}");
    assert_eq!(&deleted[2..], ["ReplicaSet/web-1", "Deployment/web"], "pods, then the ReplicaSet, then the owner");
    assert!(deleted[..2].contains(&"Pod/web-1-a".to_string()) && deleted[..2].contains(&"Pod/web-1-b".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_dependents_with_block_owner_deletion_hold_up_a_foreground_delete() {
    let (api, _backend) = start().await;
    tokio::spawn(gc::run_with(api.clone(), fast()));
    let hold = "example.com/hold";
    let free = deployment(&api, "free").await;
    replicaset_with_finalizers(&api, "free-1", vec![owner_ref("Deployment", "free", &free, false)], &[hold]).await;
    let held = deployment(&api, "held").await;
    replicaset_with_finalizers(&api, "held-1", vec![owner_ref("Deployment", "held", &held, true)], &[hold]).await;

    delete(&api, "deployments", "free", Propagation::Foreground).await;
    delete(&api, "deployments", "held", Propagation::Foreground).await;
    wait_gone(&api, "deployments", "free").await;
    let lingering = get(&api, "replicasets", "free-1").await.expect("its own finalizer keeps it");
    assert!(lingering["metadata"]["deletionTimestamp"].is_string(), "the dependent was deleted: {lingering}");
    wait_until("the blocking dependent is being deleted", async || {
        get(&api, "replicasets", "held-1").await.is_some_and(|rs| rs["metadata"]["deletionTimestamp"].is_string())
    })
    .await;
    // Give the collector several passes' time: the held owner must still wait.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waiting = get(&api, "deployments", "held").await.expect("a blocking dependent holds the owner");
    assert_eq!(waiting["metadata"]["finalizers"], json!(["foregroundDeletion"]));

    // The dependent's own finalizer goes: then the dependent, then the owner.
    let options = WriteOptions::default();
    api.read_modify_write(rt("replicasets"), "default", "held-1", Subresource::Main, &options, |current| {
        let mut next = current.clone();
        next["metadata"]["finalizers"] = json!([]);
        Ok(next)
    })
    .await
    .unwrap();
    wait_gone(&api, "deployments", "held").await;
    assert!(get(&api, "replicasets", "held-1").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependent_whose_owner_uid_does_not_match_is_collected() {
    let (api, _backend) = start().await;
    let first = deployment(&api, "web").await;
    delete(&api, "deployments", "web", Propagation::Background).await;
    let second = deployment(&api, "web").await;
    replicaset(&api, "of-the-first", vec![owner_ref("Deployment", "web", &first, true)]).await;
    replicaset(&api, "of-the-second", vec![owner_ref("Deployment", "web", &second, true)]).await;
    tokio::spawn(gc::run_with(api.clone(), fast()));

    wait_gone(&api, "replicasets", "of-the-first").await;
    assert!(get(&api, "replicasets", "of-the-second").await.is_some(), "the re-created owner keeps its own dependent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_scoped_owner_is_found_without_a_namespace() {
    let (api, _backend) = start().await;
    tokio::spawn(gc::run_with(api.clone(), fast()));
    let options = WriteOptions::default();
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "reader"}, "rules": []});
    let role = uid(&api.create(rt("clusterroles"), "", role, &options).await.unwrap());
    configmap(&api, "settings", vec![owner_ref("ClusterRole", "reader", &role, false)]).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(get(&api, "configmaps", "settings").await.is_some(), "its cluster-scoped owner exists");

    api.delete(rt("clusterroles"), "", "reader", &DeleteOptions::default()).await.unwrap();
    wait_gone(&api, "configmaps", "settings").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_pending_when_the_collector_stopped_complete_after_a_restart() {
    let (api, backend) = start().await;
    // No collector yet: the deletes only set finalizers.
    let web = deployment(&api, "web").await;
    let rs = replicaset(&api, "web-1", vec![owner_ref("Deployment", "web", &web, true)]).await;
    pod(&api, "web-1-a", vec![owner_ref("ReplicaSet", "web-1", &rs, true)]).await;
    let kept = deployment(&api, "kept").await;
    replicaset(&api, "kept-1", vec![owner_ref("Deployment", "kept", &kept, true)]).await;
    delete(&api, "deployments", "web", Propagation::Foreground).await;
    delete(&api, "deployments", "kept", Propagation::Orphan).await;
    assert_eq!(get(&api, "deployments", "web").await.unwrap()["metadata"]["finalizers"], json!(["foregroundDeletion"]));
    assert_eq!(get(&api, "deployments", "kept").await.unwrap()["metadata"]["finalizers"], json!(["orphan"]));
    api.store().close().unwrap();

    let api = open(&backend);
    tokio::spawn(gc::run_with(api.clone(), fast()));
    wait_gone(&api, "deployments", "web").await;
    assert!(get(&api, "replicasets", "web-1").await.is_none() && get(&api, "pods", "web-1-a").await.is_none());
    wait_gone(&api, "deployments", "kept").await;
    let orphan = get(&api, "replicasets", "kept-1").await.expect("orphaned, not deleted");
    assert!(owner_uids(&orphan).is_empty(), "{orphan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_pass_makes_at_most_the_configured_writes_and_an_idle_pass_writes_nothing() {
    let (api, _backend) = start().await;
    for i in 0..5 {
        configmap(&api, &format!("stray-{i}"), vec![owner_ref("ConfigMap", "gone", "no-such-uid", false)]).await;
    }
    let config = GcConfig { writes_per_pass_max: 2, ..fast() };
    let report = gc::pass(&api, &config).await.unwrap();
    assert_eq!((report.writes, report.failures, report.truncated), (2, 0, true), "{report:?}");
    let left = async |api: &Api| {
        let mut left = 0;
        for i in 0..5 {
            left += usize::from(get(api, "configmaps", &format!("stray-{i}")).await.is_some());
        }
        left
    };
    assert_eq!(left(&api).await, 3);
    let second = gc::pass(&api, &config).await.unwrap();
    assert_eq!((second.writes, second.truncated, left(&api).await), (2, true, 1));
    let third = gc::pass(&api, &config).await.unwrap();
    assert_eq!((third.writes, third.truncated, left(&api).await), (1, false, 0));
    let idle = gc::pass(&api, &config).await.unwrap();
    assert_eq!((idle.writes, idle.truncated), (0, false), "{idle:?}");
}
