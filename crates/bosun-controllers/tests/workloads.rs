//! The Deployment and ReplicaSet controllers on a real `Api` over an in-memory store, on a
//! virtual clock, with the node agent running the pods: every image is ready at once but
//! `never-ready`, so minReadySeconds and the progress deadline are driven by advancing the clock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use bosun_api::api::{Api, Subresource, WriteOptions};
use bosun_api::clock::VirtualClock;
use bosun_api::patch::{PatchBody, PatchType};
use bosun_api::registry::{self, ResourceType};
use bosun_api::watch::{EventType, WatchParams};
use bosun_controllers::node::NodeConfig;
use bosun_controllers::node::profiles::Profiles;
use bosun_store::{KeyPrefix, ListRequest, MemoryBackend, ObjectKey, Store, StoreConfig};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};

/// How long a test waits for the controllers before failing.
const WAIT_MAX: Duration = Duration::from_secs(20);

struct Harness {
    api: Api,
    /// The same store as `api`'s: the conditions tests wait on read it directly, synchronously.
    store: Store,
    clock: VirtualClock,
}

fn rt(group: &str, plural: &str) -> &'static ResourceType {
    registry::find(group, "v1", plural).expect("registered")
}

impl Harness {
    async fn start() -> Harness {
        let clock = VirtualClock::starting_at(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        let config = StoreConfig { compaction_interval: None, ..StoreConfig::default() };
        let store = Store::open_with(Arc::new(MemoryBackend::default()), config).expect("open the store");
        let api = Api::with_clock(store.clone(), Arc::new(clock.clone()));
        api.bootstrap(6443).await.expect("bootstrap");
        let profiles = Profiles::default()
            .with_document("images: {never-ready: {neverReady: true}}", "the test")
            .expect("a valid profile");
        let node = NodeConfig { profiles, ..NodeConfig::default() };
        bosun_controllers::start(&api, bosun_controllers::ControllerConfig { node, ..Default::default() });
        Harness { api, store, clock }
    }

    /// One stored object of the `default` namespace (apps/v1, batch/v1 and core/v1 are stored
    /// as served).
    fn stored<T: serde::de::DeserializeOwned>(&self, group: &str, kind: &str, name: &str) -> T {
        let key = ObjectKey::new(group, "v1", kind, "default", name);
        let found = self.store.get(&key).expect("read the store").unwrap_or_else(|| panic!("{kind} {name} exists"));
        serde_json::from_slice(&found.value).expect("decodes")
    }

    fn all_stored<T: serde::de::DeserializeOwned>(&self, group: &str, kind: &str) -> Vec<T> {
        let prefix = KeyPrefix::namespace(group, "v1", kind, "default").expect("a valid prefix");
        let page = self.store.list(&ListRequest::all(prefix), |_| true).expect("list the store");
        page.items.iter().map(|item| serde_json::from_slice(&item.value).expect("decodes")).collect()
    }

    fn deployment(&self, name: &str) -> Deployment {
        self.stored("apps", "Deployment", name)
    }

    fn replicasets(&self) -> Vec<ReplicaSet> {
        let mut sets: Vec<ReplicaSet> = self.all_stored("apps", "ReplicaSet");
        sets.sort_by_key(revision);
        sets
    }

    fn pods(&self) -> Vec<Pod> {
        self.all_stored("", "Pod")
    }

    async fn create(&self, deployment: Value) {
        self.api
            .create(rt("apps", "deployments"), "default", deployment, &WriteOptions::default())
            .await
            .expect("create");
    }

    async fn patch(&self, name: &str, patch: Value) {
        let body = PatchBody { patch_type: PatchType::Strategic, document: patch };
        self.api
            .patch(rt("apps", "deployments"), "default", name, Subresource::Main, body, &Default::default())
            .await
            .expect("patch");
    }

    /// Waits until `done` holds, checking `invariant` at every state seen on the way.
    async fn wait(&self, what: &str, mut invariant: impl FnMut(&Harness), done: impl Fn(&Harness) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT_MAX;
        loop {
            invariant(self);
            if done(self) {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn wait_for(&self, what: &str, done: impl Fn(&Harness) -> bool) {
        self.wait(what, |_| {}, done).await
    }
}

fn revision(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("deployment.kubernetes.io/revision"))
        .map_or(0, |r| r.parse().unwrap())
}

fn status_of(d: &Deployment) -> (i32, i32, i32, i32) {
    let s = d.status.clone().unwrap_or_default();
    (
        s.replicas.unwrap_or(0),
        s.updated_replicas.unwrap_or(0),
        s.ready_replicas.unwrap_or(0),
        s.available_replicas.unwrap_or(0),
    )
}

fn condition(d: &Deployment, type_: &str) -> Option<(String, String)> {
    let c = d.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == type_)?;
    Some((c.status.clone(), c.reason.clone().unwrap_or_default()))
}

/// Complete as `kubectl rollout status` decides it.
fn rolled_out(d: &Deployment) -> bool {
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let observed = d.status.as_ref().and_then(|s| s.observed_generation) >= d.metadata.generation;
    observed && status_of(d) == (want, want, want, want)
}

/// A template change to an image whose readiness probe never passes.
fn never_ready() -> Value {
    let probe = json!({"periodSeconds": 1, "httpGet": {"path": "/", "port": 8080}});
    json!({"spec": {"template": {"spec": {"containers": [{"name": "nodejs", "image": "never-ready", "readinessProbe": probe}]}}}})
}

fn kubia(replicas: i32, image: &str, strategy: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "kubia", "annotations": {"kubernetes.io/change-cause": format!("create {image}")}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "kubia"}},
            "strategy": strategy,
            "template": {
                "metadata": {"labels": {"app": "kubia"}},
                "spec": {"containers": [{"name": "nodejs", "image": image}]}
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_creates_a_hashed_replicaset_with_revision_1_and_completes() {
    let h = Harness::start().await;
    h.create(kubia(3, "luksa/kubia:v1", json!({}))).await;
    h.wait_for("the rollout", |h| rolled_out(&h.deployment("kubia"))).await;

    let d = h.deployment("kubia");
    let sets = h.replicasets();
    assert_eq!(sets.len(), 1);
    let rs = &sets[0];
    let hash = rs.metadata.labels.as_ref().unwrap()["pod-template-hash"].clone();
    assert_eq!(rs.metadata.name.as_deref(), Some(format!("kubia-{hash}").as_str()));
    assert_eq!(revision(rs), 1);
    assert_eq!(rs.metadata.annotations.as_ref().unwrap()["kubernetes.io/change-cause"], "create luksa/kubia:v1");
    assert_eq!(d.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"], "1");
    assert_eq!(condition(&d, "Available"), Some(("True".into(), "MinimumReplicasAvailable".into())));
    assert_eq!(condition(&d, "Progressing"), Some(("True".into(), "NewReplicaSetAvailable".into())));
    let pods = h.pods();
    assert_eq!(pods.len(), 3);
    for pod in &pods {
        assert!(pod.metadata.name.as_ref().unwrap().starts_with(&format!("kubia-{hash}-")));
        let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.controller), ("ReplicaSet", Some(true)));
    }
}

/// Watches every ReplicaSet and Deployment change from now on and records each state that breaks
/// the rolling-update bounds: more than `replicas + max_surge` replicas wanted (summed over the
/// ReplicaSets' `spec.replicas`, exact at every ReplicaSet event), or fewer than
/// `replicas - max_unavailable` available (at every Deployment event).
async fn watch_bounds(api: &Api, replicas: i32, max_surge: i32, max_unavailable: i32) -> Bounds {
    let violations = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::new(AtomicU64::new(0));
    let params = WatchParams::default(); // the current state as ADDED, then every change
    let mut sets =
        api.watch(rt("apps", "replicasets"), Some("default"), &params, None).await.expect("watch replicasets");
    let found = Arc::clone(&violations);
    let last = Arc::clone(&seen);
    tokio::spawn(async move {
        let mut sizes: HashMap<String, i64> = HashMap::new();
        while let Some(event) = sets.next().await {
            let rs = event.object_value();
            let name = bosun_api::meta::name(&rs).to_string();
            match event.event_type {
                EventType::Deleted => sizes.remove(&name),
                _ => sizes.insert(name, rs["spec"]["replicas"].as_i64().unwrap_or(0)),
            };
            let total: i64 = sizes.values().sum();
            if total > i64::from(replicas + max_surge) {
                found.lock().unwrap().push(format!("{total} replicas wanted: {sizes:?}"));
            }
            last.fetch_max(bosun_api::meta::resource_version(&rs).parse().unwrap_or(0), Ordering::SeqCst);
        }
    });
    let mut deployments =
        api.watch(rt("apps", "deployments"), Some("default"), &params, None).await.expect("watch deployments");
    let found = Arc::clone(&violations);
    tokio::spawn(async move {
        while let Some(event) = deployments.next().await {
            let available = event.object_value()["status"]["availableReplicas"].as_i64().unwrap_or(0);
            if available < i64::from(replicas - max_unavailable) {
                found.lock().unwrap().push(format!("{available} available"));
            }
        }
    });
    Bounds { violations, seen }
}

/// What [`watch_bounds`] found.
struct Bounds {
    violations: Arc<Mutex<Vec<String>>>,
    /// The newest ReplicaSet resourceVersion checked.
    seen: Arc<AtomicU64>,
}

impl Bounds {
    /// Waits until every ReplicaSet state now stored was checked, then fails on any violation.
    async fn assert_kept(&self, h: &Harness) {
        let newest = h.replicasets().iter().filter_map(|rs| rs.metadata.resource_version.as_ref()?.parse().ok()).max();
        let newest: u64 = newest.expect("some ReplicaSet");
        h.wait_for("the bounds checker to catch up", |_| self.seen.load(Ordering::SeqCst) >= newest).await;
        assert_eq!(*self.violations.lock().unwrap(), Vec::<String>::new());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_update_keeps_within_surge_and_unavailability_and_keeps_the_old_replicaset_at_zero() {
    for (surge, unavailable) in [(1, 0), (1, 1)] {
        let h = Harness::start().await;
        let strategy =
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}});
        h.create(kubia(3, "luksa/kubia:v1", strategy)).await;
        h.wait_for("v1", |h| rolled_out(&h.deployment("kubia"))).await;
        h.patch(
            "kubia",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "nodejs", "image": "luksa/kubia:v2"}]}}}}),
        )
        .await;
        let violations = watch_bounds(&h.api, 3, surge, unavailable);
        h.wait(
            "v2",
            |_| {},
            |h| {
                let d = h.deployment("kubia");
                rolled_out(&d)
                    && h.replicasets()
                        .iter()
                        .all(|rs| revision(rs) == 2 || rs.spec.as_ref().unwrap().replicas == Some(0))
            },
        )
        .await;
        violations.await.assert_kept(&h).await;
        let sets = h.replicasets();
        assert_eq!(sets.len(), 2, "the old ReplicaSet is kept as history");
        assert_eq!((revision(&sets[0]), sets[0].spec.as_ref().unwrap().replicas), (1, Some(0)));
        assert_eq!((revision(&sets[1]), sets[1].spec.as_ref().unwrap().replicas), (2, Some(3)));
        let d = h.deployment("kubia");
        assert_eq!(d.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"], "2");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverting_the_template_reuses_the_old_replicaset_with_a_new_revision_and_history() {
    let h = Harness::start().await;
    h.create(kubia(2, "luksa/kubia:v1", json!({}))).await;
    h.wait_for("v1", |h| rolled_out(&h.deployment("kubia"))).await;
    let image = |tag: &str| json!({"spec": {"template": {"spec": {"containers": [{"name": "nodejs", "image": format!("luksa/kubia:{tag}")}]}}}});
    h.patch("kubia", image("v2")).await;
    h.wait_for("v2", |h| rolled_out(&h.deployment("kubia")) && h.replicasets().len() == 2).await;
    h.patch("kubia", image("v1")).await;
    h.wait_for("back to v1", |h| {
        let d = h.deployment("kubia");
        rolled_out(&d) && d.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"] == "3"
    })
    .await;
    let sets = h.replicasets();
    assert_eq!(sets.len(), 2, "no new ReplicaSet for a template seen before");
    let reused = sets.iter().find(|rs| revision(rs) == 3).expect("the v1 ReplicaSet now has revision 3");
    assert_eq!(reused.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision-history"], "1");
    assert_eq!(reused.spec.as_ref().unwrap().replicas, Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_ready_seconds_hold_availability_until_the_clock_passes_them() {
    let h = Harness::start().await;
    let mut d = kubia(2, "luksa/kubia:v1", json!({}));
    d["spec"]["minReadySeconds"] = json!(10);
    h.create(d).await;
    h.wait_for("ready pods", |h| status_of(&h.deployment("kubia")).2 == 2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(status_of(&h.deployment("kubia")).3, 0, "ready but not yet for 10 seconds");
    h.clock.advance(Duration::from_secs(12));
    h.wait_for("available pods", |h| rolled_out(&h.deployment("kubia"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_that_makes_no_progress_reports_progress_deadline_exceeded_after_the_deadline() {
    let h = Harness::start().await;
    let strategy = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}});
    h.create(kubia(3, "luksa/kubia:v1", strategy)).await;
    h.wait_for("v1", |h| rolled_out(&h.deployment("kubia"))).await;
    h.patch("kubia", never_ready()).await;
    h.wait_for("one new pod", |h| {
        status_of(&h.deployment("kubia")).1 == 1
            && condition(&h.deployment("kubia"), "Progressing").is_some_and(|c| c.1 == "ReplicaSetUpdated")
    })
    .await;
    h.clock.advance(Duration::from_secs(300));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(condition(&h.deployment("kubia"), "Progressing").unwrap().1, "ReplicaSetUpdated", "300 of 600 s");
    h.clock.advance(Duration::from_secs(302));
    h.wait_for("the deadline", |h| {
        condition(&h.deployment("kubia"), "Progressing") == Some(("False".into(), "ProgressDeadlineExceeded".into()))
    })
    .await;
    let d = h.deployment("kubia");
    assert_eq!(condition(&d, "Available"), Some(("True".into(), "MinimumReplicasAvailable".into())));
    assert_eq!(status_of(&d), (4, 1, 3, 3), "the old pods all keep running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_deployment_scales_but_does_not_roll_out_until_resumed() {
    let h = Harness::start().await;
    h.create(kubia(2, "luksa/kubia:v1", json!({}))).await;
    h.wait_for("v1", |h| rolled_out(&h.deployment("kubia"))).await;
    h.patch("kubia", json!({"spec": {"paused": true}})).await;
    h.wait_for("the paused condition", |h| {
        condition(&h.deployment("kubia"), "Progressing") == Some(("Unknown".into(), "DeploymentPaused".into()))
    })
    .await;
    h.patch("kubia", json!({"spec": {"replicas": 4, "template": {"spec": {"containers": [{"name": "nodejs", "image": "luksa/kubia:v4"}]}}}}))
        .await;
    h.wait_for("scaled while paused", |h| status_of(&h.deployment("kubia")).0 == 4).await;
    assert_eq!(h.replicasets().len(), 1, "no rollout while paused");
    h.patch("kubia", json!({"spec": {"paused": false}})).await;
    h.wait_for("the rollout after resume", |h| {
        let d = h.deployment("kubia");
        rolled_out(&d) && h.replicasets().len() == 2
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recreate_scales_the_old_replicaset_to_zero_before_creating_the_new_one() {
    let h = Harness::start().await;
    h.create(kubia(3, "luksa/kubia:v1", json!({"type": "Recreate"}))).await;
    h.wait_for("v1", |h| rolled_out(&h.deployment("kubia"))).await;
    h.patch(
        "kubia",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "nodejs", "image": "luksa/kubia:v2"}]}}}}),
    )
    .await;
    h.wait(
        "v2",
        |h| {
            let images: Vec<String> = h
                .pods()
                .iter()
                .map(|p| p.spec.as_ref().unwrap().containers[0].image.clone().unwrap_or_default())
                .collect();
            let mixed = images.iter().any(|i| i.ends_with("v1")) && images.iter().any(|i| i.ends_with("v2"));
            assert!(!mixed, "Recreate never runs both versions: {images:?}");
        },
        |h| rolled_out(&h.deployment("kubia")) && h.replicasets().len() == 2,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_mid_rollout_is_proportional() {
    // Upstream's e2e: 10 replicas, surge 3, unavailable 2, stuck on an image that never gets
    // ready (old 8, new 5); scaling to 30 gives old 20, new 13.
    let h = Harness::start().await;
    let strategy = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}});
    h.create(kubia(10, "luksa/kubia:v1", strategy)).await;
    h.wait_for("v1", |h| rolled_out(&h.deployment("kubia"))).await;
    h.patch("kubia", never_ready()).await;
    let sizes = |h: &Harness| -> Vec<i32> {
        h.replicasets().iter().map(|rs| rs.spec.as_ref().unwrap().replicas.unwrap()).collect()
    };
    h.wait_for("stuck at 8 + 5", |h| sizes(h) == vec![8, 5] && h.pods().len() == 13).await;
    h.patch("kubia", json!({"spec": {"replicas": 30}})).await;
    h.wait_for("20 + 13", |h| sizes(h) == vec![20, 13]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replicaset_replaces_a_deleted_pod_and_releases_a_pod_whose_labels_stop_matching() {
    let h = Harness::start().await;
    h.create(kubia(2, "luksa/kubia:v1", json!({}))).await;
    h.wait_for("v1", |h| rolled_out(&h.deployment("kubia"))).await;
    let pods = h.pods();
    let victim = pods[0].metadata.name.clone().unwrap();
    h.api.delete(rt("", "pods"), "default", &victim, &Default::default()).await.unwrap();
    h.wait_for("a replacement", |h| {
        let pods = h.pods();
        pods.len() == 2 && pods.iter().all(|p| p.metadata.name.as_ref() != Some(&victim))
    })
    .await;
    let relabel = h.pods()[0].metadata.name.clone().unwrap();
    let body =
        PatchBody { patch_type: PatchType::Merge, document: json!({"metadata": {"labels": {"app": "elsewhere"}}}) };
    h.api.patch(rt("", "pods"), "default", &relabel, Subresource::Main, body, &Default::default()).await.unwrap();
    h.wait_for("release and replace", |h| {
        let pods = h.pods();
        let released = pods.iter().find(|p| p.metadata.name.as_ref() == Some(&relabel));
        pods.len() == 3 && released.is_some_and(|p| p.metadata.owner_references.is_none())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_replica_rollout_on_the_virtual_clock_keeps_the_bounds() {
    let h = Harness::start().await;
    let strategy = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
    h.create(kubia(1000, "luksa/kubia:v1", strategy)).await;
    h.wait_for("v1", |h| rolled_out(&h.deployment("kubia"))).await;
    let started = std::time::Instant::now();
    h.patch(
        "kubia",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "nodejs", "image": "luksa/kubia:v2"}]}}}}),
    )
    .await;
    let violations = watch_bounds(&h.api, 1000, 250, 250);
    h.wait_for("v2 on 1000 replicas", |h| rolled_out(&h.deployment("kubia")) && h.pods().len() == 1000).await;
    violations.await.assert_kept(&h).await;
    println!("1000-replica rollout took {:?} of real time", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revision_history_limit_deletes_the_oldest_empty_replicasets() {
    let h = Harness::start().await;
    let mut d = kubia(1, "luksa/kubia:v1", json!({}));
    d["spec"]["revisionHistoryLimit"] = json!(1);
    h.create(d).await;
    for tag in ["v2", "v3"] {
        h.wait_for("the previous rollout", |h| rolled_out(&h.deployment("kubia"))).await;
        let image = format!("luksa/kubia:{tag}");
        h.patch("kubia", json!({"spec": {"template": {"spec": {"containers": [{"name": "nodejs", "image": image}]}}}}))
            .await;
    }
    h.wait_for("v3 with one old ReplicaSet kept", |h| {
        rolled_out(&h.deployment("kubia")) && h.replicasets().iter().map(revision).collect::<Vec<_>>() == vec![2, 3]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_rollback_annotation_returns_to_the_previous_revision_and_is_cleared() {
    let h = Harness::start().await;
    h.create(kubia(1, "luksa/kubia:v1", json!({}))).await;
    h.wait_for("v1", |h| rolled_out(&h.deployment("kubia"))).await;
    h.patch(
        "kubia",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "nodejs", "image": "luksa/kubia:v2"}]}}}}),
    )
    .await;
    h.wait_for("v2", |h| rolled_out(&h.deployment("kubia")) && h.replicasets().len() == 2).await;
    h.patch("kubia", json!({"metadata": {"annotations": {"deprecated.deployment.rollback.to": "0"}}})).await;
    h.wait_for("back to v1 as revision 3", |h| {
        let d = h.deployment("kubia");
        let image = d.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers[0].image.clone();
        let annotations = d.metadata.annotations.clone().unwrap_or_default();
        rolled_out(&d)
            && image.as_deref() == Some("luksa/kubia:v1")
            && !annotations.contains_key("deprecated.deployment.rollback.to")
            && annotations.get("deployment.kubernetes.io/revision").map(String::as_str) == Some("3")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_replicaset_holding_the_hashed_name_raises_the_collision_count() {
    let h = Harness::start().await;
    let mut d = kubia(1, "luksa/kubia:v1", json!({}));
    d["spec"]["paused"] = json!(true); // paused: no ReplicaSet yet
    h.create(d).await;
    h.wait_for("the paused condition", |h| {
        condition(&h.deployment("kubia"), "Progressing").is_some_and(|c| c.1 == "DeploymentPaused")
    })
    .await;
    let template = h.deployment("kubia").spec.unwrap().template;
    let taken = format!("kubia-{}", bosun_controllers::deployment::rollout::template_hash(&template, None));
    let foreign = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": taken, "labels": {"app": "other"}},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "other"}},
            "template": {"metadata": {"labels": {"app": "other"}}, "spec": {"containers": [{"name": "c", "image": "other"}]}}
        }
    });
    h.api.create(rt("apps", "replicasets"), "default", foreign, &WriteOptions::default()).await.expect("create");
    h.patch("kubia", json!({"spec": {"paused": false}})).await;
    h.wait_for("a rollout under another name", |h| rolled_out(&h.deployment("kubia"))).await;
    let d = h.deployment("kubia");
    assert_eq!(d.status.as_ref().unwrap().collision_count, Some(1));
    let ours: Vec<String> = h
        .replicasets()
        .into_iter()
        .filter(|rs| rs.metadata.owner_references.is_some())
        .map(|rs| rs.metadata.name.unwrap())
        .collect();
    assert_eq!(ours.len(), 1);
    assert_ne!(ours[0], taken);
    let foreign = h.api.get(rt("apps", "replicasets"), "default", &taken).await.expect("the foreign one is untouched");
    assert!(foreign["metadata"].get("ownerReferences").is_none());
}

fn job(name: &str, completions: i32, parallelism: i32, annotations: Value) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "completions": completions, "parallelism": parallelism, "backoffLimit": 1,
            "template": {
                "metadata": {"annotations": annotations},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]}
            }
        }
    })
}

fn job_status(h: &Harness, name: &str) -> Value {
    h.stored::<Value>("batch", "Job", name)["status"].clone()
}

fn has_condition(status: &Value, type_: &str) -> bool {
    status["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == type_ && c["status"] == "True")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_its_pods_to_completion_at_most_parallelism_at_a_time() {
    let h = Harness::start().await;
    h.api.create(rt("batch", "jobs"), "default", job("pi", 3, 2, json!({})), &WriteOptions::default()).await.unwrap();
    h.wait_for("two running pods", |h| job_status(h, "pi")["active"] == 2).await;
    assert_eq!(h.pods().len(), 2, "parallelism 2");
    // The node agent's `perl` profile finishes after 5 seconds of (virtual) time.
    for _ in 0..3 {
        h.clock.advance(Duration::from_secs(6));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    h.wait_for("the Job to complete", |h| has_condition(&job_status(h, "pi"), "Complete")).await;
    let status = job_status(&h, "pi");
    assert_eq!((status["succeeded"].as_i64(), status["active"].as_i64()), (Some(3), Some(0)));
    assert!(status["completionTime"].is_string() && status["startTime"].is_string());
    assert_eq!(h.pods().len(), 3, "one pod per completion");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_pods_fail_past_the_backoff_limit_fails() {
    let h = Harness::start().await;
    let crashing = json!({"sim.bosun.dev/crash-after-seconds": "1"});
    h.api.create(rt("batch", "jobs"), "default", job("bad", 1, 1, crashing), &WriteOptions::default()).await.unwrap();
    h.wait_for("a running pod", |h| job_status(h, "bad")["active"] == 1).await;
    for _ in 0..6 {
        h.clock.advance(Duration::from_secs(2));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    h.wait_for("the Job to fail", |h| has_condition(&job_status(h, "bad"), "Failed")).await;
    let status = job_status(&h, "bad");
    assert_eq!(status["failed"], 2, "backoffLimit 1: the second failure ends it");
    let reason =
        status["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Failed").unwrap()["reason"].clone();
    assert_eq!(reason, "BackoffLimitExceeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_past_its_active_deadline_fails_and_its_pods_are_deleted() {
    let h = Harness::start().await;
    let mut server = job("server", 2, 2, json!({}));
    // nginx runs until stopped: only the deadline can end this Job.
    server["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx");
    server["spec"]["activeDeadlineSeconds"] = json!(30);
    h.api.create(rt("batch", "jobs"), "default", server, &WriteOptions::default()).await.unwrap();
    h.wait_for("two running pods", |h| job_status(h, "server")["active"] == 2).await;
    h.clock.advance(Duration::from_secs(20));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!has_condition(&job_status(&h, "server"), "Failed"), "20 s of 30: still running");
    h.clock.advance(Duration::from_secs(11));
    h.wait_for("the Job to fail", |h| has_condition(&job_status(h, "server"), "Failed")).await;
    let status = job_status(&h, "server");
    let failed = status["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Failed").unwrap().clone();
    assert_eq!(failed["reason"], "DeadlineExceeded");
    assert_eq!(status["active"], 0);
    h.wait_for("its pods to be deleted", |h| h.pods().iter().all(|pod| pod.metadata.deletion_timestamp.is_some()))
        .await;
}
