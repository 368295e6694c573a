//! The ReplicaSet controller (Deployment spec, part B): keeps `spec.replicas` active pods that
//! match the selector, adopting orphans and releasing pods that stopped matching, and reports
//! how many are ready and available.
//!
//! Level-triggered on the shared caches: a sync reads the ReplicaSet and the namespace's pods
//! from the informers, never the event that woke it. Expectations keep a sync that runs before
//! the cache shows the pods it created (or deleted) from acting twice; the work queue keeps two
//! syncs of one ReplicaSet from running at once.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bosun_api::api::{Api, DeleteOptions, WriteOptions};
use bosun_api::registry::{self, ResourceType};
use bosun_api::status::Status;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;

use crate::objects::{self, controller_ref, is_pod_active, is_pod_available, is_pod_ready};
use crate::ownership::Claimer;
use crate::runtime::events::{EventKind, EventRecorder, Regarding};
use crate::runtime::expectations::Expectations;
use crate::runtime::informer::{Change, Informer};
use crate::runtime::queue::WorkQueue;
use crate::runtime::shared::SharedInformers;
use crate::runtime::{Action, ObjectKey, Reconcile, WorkerConfig, run_controller};

/// At most this many pod creations or deletions per sync.
pub const BURST_REPLICAS: usize = 500;
/// The field manager of the controller's writes.
const FIELD_MANAGER: &str = "replicaset-controller";
/// The annotation that ranks pods for deletion (lower first).
pub const DELETION_COST_ANNOTATION: &str = "controller.kubernetes.io/pod-deletion-cost";

/// The ReplicaSet controller.
#[derive(Clone)]
pub struct ReplicaSetController {
    api: Api,
    replicasets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
    queue: Arc<WorkQueue<ObjectKey>>,
    expectations: Arc<Expectations>,
    events: EventRecorder,
    pods_type: &'static ResourceType,
    replicasets_type: &'static ResourceType,
}

impl ReplicaSetController {
    /// Registers the controller's handlers on the shared informers; [`ReplicaSetController::run`]
    /// then reconciles.
    pub fn new(api: &Api, informers: &SharedInformers) -> Self {
        let controller = ReplicaSetController {
            api: api.clone(),
            replicasets: informers.get::<ReplicaSet>(),
            pods: informers.get::<Pod>(),
            queue: WorkQueue::new(Arc::clone(api.clock())),
            expectations: Arc::new(Expectations::new(Arc::clone(api.clock()))),
            events: EventRecorder::new(api, "replicaset-controller"),
            pods_type: registry::find("", "v1", "pods").expect("pods are registered"),
            replicasets_type: registry::find("apps", "v1", "replicasets").expect("replicasets are registered"),
        };
        let on_rs = controller.clone();
        controller.replicasets.on_change(move |change| on_rs.replicaset_changed(change));
        let on_pod = controller.clone();
        controller.pods.on_change(move |change| on_pod.pod_changed(change));
        controller
    }

    /// Reconciles until the store closes.
    pub async fn run(self, workers: usize) {
        self.replicasets.wait_synced().await;
        self.pods.wait_synced().await;
        let config = WorkerConfig { name: "replicaset", workers, retries_max: None };
        let (store, queue) = (self.api.store().clone(), Arc::clone(&self.queue));
        run_controller(self, &store, queue, config).await;
    }

    fn replicaset_changed(&self, change: &Change<'_, ReplicaSet>) {
        match change {
            Change::Added(rs) => self.queue.add(ObjectKey::of(&rs.metadata)),
            Change::Updated { new, .. } => self.queue.add(ObjectKey::of(&new.metadata)),
            Change::Deleted(rs) => {
                let key = ObjectKey::of(&rs.metadata);
                self.expectations.forget(&key);
                self.queue.add(key);
            }
        }
    }

    /// The ReplicaSet a pod's controller reference names, if it is the one in the cache.
    fn owner_of(&self, pod: &Pod) -> Option<Arc<ReplicaSet>> {
        self.replicasets.controller_of(&pod.metadata)
    }

    /// Queues every ReplicaSet in the pod's namespace whose selector matches it (for orphans).
    fn queue_matching(&self, pod: &Pod) {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
        let owners = self
            .replicasets
            .selecting(namespace, pod.metadata.labels.as_ref(), |rs| rs.spec.as_ref().map(|s| &s.selector));
        for rs in owners {
            self.queue.add(ObjectKey::of(&rs.metadata));
        }
    }

    fn pod_changed(&self, change: &Change<'_, Pod>) {
        match change {
            Change::Added(pod) => {
                if pod.metadata.deletion_timestamp.is_some() {
                    return self.pod_deleted(pod);
                }
                match self.owner_of(pod) {
                    Some(rs) => {
                        let key = ObjectKey::of(&rs.metadata);
                        self.expectations.creation_observed(&key);
                        self.queue.add(key);
                    }
                    None if controller_ref(&pod.metadata).is_none() => self.queue_matching(pod),
                    None => {}
                }
            }
            Change::Updated { old, new } => {
                if old.metadata.resource_version == new.metadata.resource_version {
                    return;
                }
                let labels_changed = old.metadata.labels != new.metadata.labels;
                if new.metadata.deletion_timestamp.is_some() && old.metadata.deletion_timestamp.is_none() {
                    self.pod_deleted(new);
                    if labels_changed {
                        self.pod_deleted(old);
                    }
                    return;
                }
                let ref_changed = controller_ref(&old.metadata) != controller_ref(&new.metadata);
                if ref_changed && let Some(old_owner) = self.owner_of(old) {
                    self.queue.add(ObjectKey::of(&old_owner.metadata));
                }
                match self.owner_of(new) {
                    Some(rs) => {
                        let key = ObjectKey::of(&rs.metadata);
                        let min_ready = rs.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
                        if !is_pod_ready(old) && is_pod_ready(new) && min_ready > 0 {
                            // Nothing else wakes the controller when the pod becomes available.
                            let at = self.api.clock().now() + Duration::from_secs(min_ready as u64 + 1);
                            self.queue.add_at(key.clone(), at);
                        }
                        self.queue.add(key);
                    }
                    None if controller_ref(&new.metadata).is_none() && (labels_changed || ref_changed) => {
                        self.queue_matching(new)
                    }
                    None => {}
                }
            }
            Change::Deleted(pod) => self.pod_deleted(pod),
        }
    }

    fn pod_deleted(&self, pod: &Pod) {
        if let Some(rs) = self.owner_of(pod) {
            let key = ObjectKey::of(&rs.metadata);
            self.expectations.deletion_observed(&key, &ObjectKey::of(&pod.metadata));
            self.queue.add(key);
        }
    }

    /// One sync of one ReplicaSet (upstream's `syncReplicaSet`).
    pub async fn sync(&self, key: &ObjectKey) -> Result<Action, Status> {
        let Some(rs) = self.replicasets.get(&key.namespace, &key.name) else {
            self.expectations.forget(key);
            return Ok(Action::Done);
        };
        let needs_sync = self.expectations.satisfied(key);
        let Some(spec) = rs.spec.as_ref() else { return Ok(Action::Done) };
        let Some(selector) = objects::selector(Some(&spec.selector)) else {
            tracing::warn!(%key, "ReplicaSet has an invalid selector; not syncing it");
            return Ok(Action::Done);
        };
        let candidates: Vec<Arc<Pod>> = self
            .pods
            .claimable(&key.namespace, objects::uid(&rs.metadata))
            .into_iter()
            .filter(|pod| is_pod_active(pod))
            .collect();
        let claimer = Claimer {
            api: &self.api,
            owner_type: self.replicasets_type,
            owner_api_version: "apps/v1",
            owner_kind: "ReplicaSet",
            owner: &rs.metadata,
            child_type: self.pods_type,
            selector: &selector,
            field_manager: FIELD_MANAGER,
        };
        let owned = claimer.claim(candidates).await?;

        let mut manage_error = None;
        if needs_sync && rs.metadata.deletion_timestamp.is_none() {
            manage_error = self.manage_replicas(&rs, &owned).await.err();
        }
        let now = self.api.clock().now();
        let status = calculate_status(&rs, &owned, manage_error.as_ref(), now);
        self.write_status(&rs, status).await?;
        if let Some(error) = manage_error {
            return Err(error.error);
        }
        // Wake up when the next ready pod becomes available.
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        let next = (min_ready > 0)
            .then(|| {
                owned
                    .iter()
                    .filter(|pod| !is_pod_available(pod, min_ready, now))
                    .filter_map(|pod| objects::ready_since(pod))
                    .map(|since| since + Duration::from_secs(min_ready as u64 + 1))
                    .min()
            })
            .flatten();
        Ok(next.map_or(Action::Done, Action::RequeueAt))
    }

    /// Creates or deletes pods toward `spec.replicas` (upstream's `manageReplicas`).
    async fn manage_replicas(&self, rs: &ReplicaSet, owned: &[Arc<Pod>]) -> Result<(), ManageError> {
        let key = ObjectKey::of(&rs.metadata);
        let wanted = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0) as usize;
        if owned.len() < wanted {
            let count = (wanted - owned.len()).min(BURST_REPLICAS);
            self.expectations.expect_creations(&key, count);
            let pod = pod_from_template(rs).map_err(|error| ManageError { error, creating: true })?;
            self.create_pods(rs, &key, pod, count).await.map_err(|error| ManageError { error, creating: true })
        } else if owned.len() > wanted {
            let count = (owned.len() - wanted).min(BURST_REPLICAS);
            let victims = self.choose_victims(rs, owned, count);
            self.expectations.expect_deletions(&key, victims.iter().map(|pod| ObjectKey::of(&pod.metadata)));
            self.delete_pods(rs, &key, victims).await.map_err(|error| ManageError { error, creating: false })
        } else {
            Ok(())
        }
    }

    /// Creates `count` pods in slow-start batches of 1, 2, 4, ...; stops after the first batch
    /// with a failure, so a doomed create (quota, admission) is tried once, not `count` times.
    async fn create_pods(&self, rs: &ReplicaSet, key: &ObjectKey, pod: Value, count: usize) -> Result<(), Status> {
        let mut remaining = count;
        let mut batch = 1usize;
        while remaining > 0 {
            let size = batch.min(remaining);
            let mut calls = tokio::task::JoinSet::new();
            for _ in 0..size {
                let api = self.api.clone();
                let pod = pod.clone();
                let namespace = key.namespace.clone();
                let pods_type = self.pods_type;
                calls.spawn(async move {
                    let options = WriteOptions { field_manager: Some(FIELD_MANAGER.into()), ..WriteOptions::default() };
                    api.create(pods_type, &namespace, pod, &options).await
                });
            }
            let mut first_error = None;
            while let Some(result) = calls.join_next().await {
                match result.map_err(|e| Status::internal(format!("a pod creation panicked: {e}")))? {
                    Ok(created) => {
                        let name = bosun_api::meta::name(&created).to_string();
                        self.events.record(
                            Regarding::of(rs),
                            EventKind::Normal,
                            "SuccessfulCreate",
                            format!("Created pod: {name}"),
                        );
                    }
                    Err(status) => {
                        self.expectations.creation_observed(key);
                        if status.code == 403 && status.message.contains("terminat") {
                            continue; // the namespace is going away: not a failure
                        }
                        self.events.record(
                            Regarding::of(rs),
                            EventKind::Warning,
                            "FailedCreate",
                            format!("Error creating: {}", status.message),
                        );
                        first_error.get_or_insert(status);
                    }
                }
            }
            remaining -= size;
            if let Some(error) = first_error {
                for _ in 0..remaining {
                    self.expectations.creation_observed(key); // never attempted
                }
                return Err(error);
            }
            batch *= 2;
        }
        Ok(())
    }

    async fn delete_pods(&self, rs: &ReplicaSet, key: &ObjectKey, victims: Vec<Arc<Pod>>) -> Result<(), Status> {
        let mut calls = tokio::task::JoinSet::new();
        for pod in victims {
            let api = self.api.clone();
            let pods_type = self.pods_type;
            calls.spawn(async move {
                let pod_key = ObjectKey::of(&pod.metadata);
                let options = DeleteOptions { precondition_uid: pod.metadata.uid.clone(), ..DeleteOptions::default() };
                let result = api.delete(pods_type, &pod_key.namespace, &pod_key.name, &options).await;
                (pod_key, result)
            });
        }
        let mut first_error = None;
        while let Some(result) = calls.join_next().await {
            let (pod_key, result) = result.map_err(|e| Status::internal(format!("a pod deletion panicked: {e}")))?;
            match result {
                Ok(_) => {
                    self.events.record(
                        Regarding::of(rs),
                        EventKind::Normal,
                        "SuccessfulDelete",
                        format!("Deleted pod: {}", pod_key.name),
                    );
                }
                Err(status) => {
                    self.expectations.deletion_observed(key, &pod_key);
                    if status.code != 404 {
                        self.events.record(
                            Regarding::of(rs),
                            EventKind::Warning,
                            "FailedDelete",
                            format!("Error deleting: {}", status.message),
                        );
                        first_error.get_or_insert(status);
                    }
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The `count` pods to delete first (upstream's deletion ranking, part B.7).
    fn choose_victims(&self, rs: &ReplicaSet, owned: &[Arc<Pod>], count: usize) -> Vec<Arc<Pod>> {
        if count >= owned.len() {
            return owned.to_vec();
        }
        // Pods of sibling ReplicaSets (same controlling Deployment) per node: doubled-up go first.
        let mut per_node: HashMap<String, usize> = HashMap::new();
        if let Some(owner) = controller_ref(&rs.metadata) {
            for sibling in self.replicasets.controlled_by(&owner.uid) {
                for pod in self.pods.controlled_by(objects::uid(&sibling.metadata)) {
                    if is_pod_active(&pod)
                        && let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone())
                    {
                        *per_node.entry(node).or_default() += 1;
                    }
                }
            }
        }
        let now = self.api.clock().now();
        let mut ranked: Vec<(Arc<Pod>, usize)> = owned
            .iter()
            .map(|pod| {
                let node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).unwrap_or_default();
                let rank = if node.is_empty() { 0 } else { per_node.get(node).copied().unwrap_or(0) };
                (Arc::clone(pod), rank)
            })
            .collect();
        ranked.sort_by(|(a, rank_a), (b, rank_b)| deletion_order(a, *rank_a, b, *rank_b, now));
        ranked.into_iter().take(count).map(|(pod, _)| pod).collect()
    }

    async fn write_status(&self, rs: &ReplicaSet, status: ReplicaSetStatus) -> Result<(), Status> {
        let unchanged = rs.status.as_ref().is_some_and(|current| {
            current.replicas == status.replicas
                && current.fully_labeled_replicas == status.fully_labeled_replicas
                && current.ready_replicas == status.ready_replicas
                && current.available_replicas == status.available_replicas
                && current.conditions == status.conditions
        }) && rs.metadata.generation == rs.status.as_ref().and_then(|s| s.observed_generation);
        if unchanged {
            return Ok(());
        }
        objects::replace_status(&self.api, self.replicasets_type, &rs.metadata, &status, FIELD_MANAGER).await
    }
}

/// Why `manageReplicas` failed, and in which direction.
pub struct ManageError {
    /// The first failure.
    pub error: Status,
    /// Whether pods were being created (`FailedCreate`) rather than deleted (`FailedDelete`).
    pub creating: bool,
}

/// The pod a ReplicaSet creates: its template, a `generateName` of `<rs>-`, and a controller
/// reference to it.
pub fn pod_from_template(rs: &ReplicaSet) -> Result<Value, Status> {
    let template = rs.spec.as_ref().and_then(|s| s.template.as_ref());
    objects::pod_for(template, objects::owner_reference("apps/v1", "ReplicaSet", &rs.metadata))
}

/// Upstream's `calculateStatus` (part B.6).
pub fn calculate_status(
    rs: &ReplicaSet,
    owned: &[Arc<Pod>],
    manage_error: Option<&ManageError>,
    now: SystemTime,
) -> ReplicaSetStatus {
    let spec = rs.spec.as_ref();
    let template_labels =
        spec.and_then(|s| s.template.as_ref()).and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.as_ref());
    let min_ready = spec.and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let fully_labeled = owned
        .iter()
        .filter(|pod| {
            template_labels.is_none_or(|wanted| {
                wanted.iter().all(|(k, v)| pod.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v))
            })
        })
        .count();
    let ready = owned.iter().filter(|pod| is_pod_ready(pod)).count();
    let available = owned.iter().filter(|pod| is_pod_available(pod, min_ready, now)).count();
    let mut conditions: Vec<ReplicaSetCondition> =
        rs.status.as_ref().and_then(|s| s.conditions.clone()).unwrap_or_default();
    let has_failure = conditions.iter().any(|c| c.type_ == "ReplicaFailure");
    match manage_error {
        Some(error) if !has_failure => conditions.push(ReplicaSetCondition {
            type_: "ReplicaFailure".into(),
            status: "True".into(),
            reason: Some(if error.creating { "FailedCreate" } else { "FailedDelete" }.into()),
            message: Some(error.error.message.clone()),
            last_transition_time: Some(objects::time(now)),
        }),
        None => conditions.retain(|c| c.type_ != "ReplicaFailure"),
        Some(_) => {}
    }
    ReplicaSetStatus {
        replicas: owned.len() as i32,
        fully_labeled_replicas: Some(fully_labeled as i32),
        ready_replicas: Some(ready as i32),
        available_replicas: Some(available as i32),
        observed_generation: rs.metadata.generation,
        conditions: (!conditions.is_empty()).then_some(conditions),
        terminating_replicas: None,
    }
}

fn phase_rank(pod: &Pod) -> u8 {
    match pod.status.as_ref().and_then(|s| s.phase.as_deref()) {
        Some("Unknown") => 1,
        Some("Running") => 2,
        _ => 0,
    }
}

fn deletion_cost(pod: &Pod) -> i32 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DELETION_COST_ANNOTATION))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn max_restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|statuses| statuses.iter().map(|c| c.restart_count).max())
        .unwrap_or(0)
}

/// Compares two times as upstream's logarithmic scale-down does: by `floor(log2(age in ns))`,
/// then by uid, the more recent (smaller bucket) first.
fn compare_log_buckets(a: SystemTime, b: SystemTime, now: SystemTime, uid_a: &str, uid_b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal; // equal times leave the decision to the next rule
    }
    let bucket = |t: SystemTime| {
        let age = now.duration_since(t).unwrap_or_default().as_nanos();
        if age == 0 { 0 } else { 127 - age.leading_zeros() }
    };
    bucket(a).cmp(&bucket(b)).then_with(|| uid_a.cmp(uid_b))
}

/// The deletion ranking (part B.7): `Less` means `a` is deleted first.
pub fn deletion_order(a: &Pod, rank_a: usize, b: &Pod, rank_b: usize, now: SystemTime) -> Ordering {
    let scheduled = |pod: &Pod| pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).is_some_and(|n| !n.is_empty());
    // 1. unscheduled first; 2. Pending < Unknown < Running; 3. not ready first.
    scheduled(a)
        .cmp(&scheduled(b))
        .then_with(|| phase_rank(a).cmp(&phase_rank(b)))
        .then_with(|| is_pod_ready(a).cmp(&is_pod_ready(b)))
        // 4. lower deletion cost first; 5. more pods on the same node first.
        .then_with(|| deletion_cost(a).cmp(&deletion_cost(b)))
        .then_with(|| rank_b.cmp(&rank_a))
        // 6. both ready: the more recently ready first (a missing time counts as most recent).
        .then_with(|| match (objects::ready_since(a), objects::ready_since(b)) {
            (Some(ta), Some(tb)) => {
                let zero = SystemTime::UNIX_EPOCH;
                if ta == zero || tb == zero {
                    (tb == zero).cmp(&(ta == zero)).then(tb.cmp(&ta))
                } else {
                    compare_log_buckets(ta, tb, now, objects::uid(&a.metadata), objects::uid(&b.metadata))
                }
            }
            _ => Ordering::Equal,
        })
        // 7. more restarts first.
        .then_with(|| max_restarts(b).cmp(&max_restarts(a)))
        // 8. newer first.
        .then_with(|| {
            let (ta, tb) = (objects::created(&a.metadata), objects::created(&b.metadata));
            compare_log_buckets(ta, tb, now, objects::uid(&a.metadata), objects::uid(&b.metadata))
        })
}

impl Reconcile for ReplicaSetController {
    fn reconcile(&self, key: &ObjectKey) -> impl std::future::Future<Output = Result<Action, Status>> + Send {
        self.sync(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ContainerStatus, PodCondition, PodSpec, PodStatus};

    const NOW: u64 = 2_000_000_000;

    fn at(seconds_ago: u64) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
        objects::time(SystemTime::UNIX_EPOCH + Duration::from_secs(NOW - seconds_ago))
    }

    /// A scheduled, Running, Ready pod created and ready long ago.
    fn pod(name: &str) -> Pod {
        let mut pod = Pod {
            spec: Some(PodSpec { node_name: Some("bosun-node".into()), ..PodSpec::default() }),
            status: Some(PodStatus {
                phase: Some("Running".into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    last_transition_time: Some(at(100_000)),
                    ..PodCondition::default()
                }]),
                container_statuses: Some(vec![ContainerStatus { restart_count: 0, ..ContainerStatus::default() }]),
                ..PodStatus::default()
            }),
            ..Pod::default()
        };
        pod.metadata.name = Some(name.into());
        pod.metadata.uid = Some(name.into());
        pod.metadata.creation_timestamp = Some(at(200_000));
        pod
    }

    /// Whether `first` is deleted before `second` (and not the other way round).
    fn goes_first(first: &Pod, second: &Pod) -> bool {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW);
        deletion_order(first, 0, second, 0, now) == Ordering::Less
            && deletion_order(second, 0, first, 0, now) == Ordering::Greater
    }

    #[test]
    fn the_deletion_ranking_removes_the_least_useful_pod_first() {
        let healthy = pod("healthy");

        let mut unscheduled = pod("unscheduled");
        unscheduled.spec.as_mut().unwrap().node_name = None;
        assert!(goes_first(&unscheduled, &healthy), "unscheduled first");

        let mut pending = pod("pending");
        pending.status.as_mut().unwrap().phase = Some("Pending".into());
        assert!(goes_first(&pending, &healthy), "Pending before Running");

        let mut unready = pod("unready");
        unready.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].status = "False".into();
        assert!(goes_first(&unready, &healthy), "not ready before ready");

        let mut cheap = pod("cheap");
        cheap.metadata.annotations = Some([(DELETION_COST_ANNOTATION.to_string(), "-5".to_string())].into());
        assert!(goes_first(&cheap, &healthy), "lower deletion cost first");

        let mut recently_ready = pod("recently-ready");
        recently_ready.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].last_transition_time = Some(at(10));
        assert!(goes_first(&recently_ready, &healthy), "the more recently ready first");

        let mut restarted = pod("restarted");
        restarted.status.as_mut().unwrap().container_statuses.as_mut().unwrap()[0].restart_count = 3;
        assert!(goes_first(&restarted, &healthy), "more restarts first");

        let mut newer = pod("newer");
        newer.metadata.creation_timestamp = Some(at(5));
        assert!(goes_first(&newer, &healthy), "newer first");

        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW);
        assert_eq!(deletion_order(&healthy, 3, &pod("alone"), 1, now), Ordering::Less, "doubled-up pods first");
        // An earlier rule wins over a later one: an unscheduled pod goes before a restarted one.
        assert!(goes_first(&unscheduled, &restarted));
    }
}
