//! The Deployment controller (Deployment spec, part A): rolls a Deployment's pod template out
//! through ReplicaSets, one per template, named `<deployment>-<pod-template-hash>`.
//!
//! A sync reads the Deployment and the ReplicaSets it claims from the shared caches and makes
//! one step: create the new ReplicaSet, scale it up within `maxSurge`, or scale old ones down
//! within `maxUnavailable` (never both in one sync); the ReplicaSets' status changes wake the
//! next step. Around that: pause (scaling without rollout), proportional scaling when
//! `spec.replicas` changes mid-rollout, Recreate, revision bookkeeping (`kubectl rollout
//! history` and `undo` read it), history cleanup, the legacy rollback annotation, and the
//! Progressing and Available conditions with the progress deadline as a timer on the clock.
//!
//! Writes use the cached objects' resourceVersions as preconditions: a sync on a stale cache
//! fails with a conflict and is retried once the cache has caught up.

pub mod rollout;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bosun_api::api::{Api, DeleteOptions, Subresource, WriteOptions};
use bosun_api::registry::{self, ResourceType};
use bosun_api::status::Status;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::objects::{self, controller_ref};
use crate::ownership::Claimer;
use crate::runtime::events::{EventKind, EventRecorder, Regarding};
use crate::runtime::informer::{Change, Informer};
use crate::runtime::queue::WorkQueue;
use crate::runtime::shared::SharedInformers;
use crate::runtime::{Action, ObjectKey, Reconcile, WorkerConfig, run_controller};
use rollout::*;

/// The field manager of the controller's writes.
const FIELD_MANAGER: &str = "deployment-controller";
/// Consecutive failures after which a key waits for its next change (as upstream).
const RETRIES_MAX: u32 = 15;

const AVAILABLE: &str = "Available";
const PROGRESSING: &str = "Progressing";
const REPLICA_FAILURE: &str = "ReplicaFailure";
const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
const TIMED_OUT: &str = "ProgressDeadlineExceeded";
const PAUSED: &str = "DeploymentPaused";
const RESUMED: &str = "DeploymentResumed";

/// The Deployment controller.
#[derive(Clone)]
pub struct DeploymentController {
    api: Api,
    deployments: Informer<Deployment>,
    replicasets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
    queue: Arc<WorkQueue<ObjectKey>>,
    events: EventRecorder,
    deployments_type: &'static ResourceType,
    replicasets_type: &'static ResourceType,
}

/// One sync's view: the Deployment as last written, and the ReplicaSets it controls (oldest
/// first), kept current as the sync writes.
struct Rollout {
    d: Deployment,
    sets: Vec<ReplicaSet>,
}

impl Rollout {
    /// Index of the new ReplicaSet: the oldest whose template equals the Deployment's.
    fn find_new(&self) -> Option<usize> {
        let template = self.d.spec.as_ref().map(|s| &s.template);
        self.sets.iter().position(|rs| templates_equal(rs.spec.as_ref().and_then(|s| s.template.as_ref()), template))
    }

    fn old_indices(&self, new: Option<usize>) -> Vec<usize> {
        (0..self.sets.len()).filter(|i| Some(*i) != new).collect()
    }

    fn all(&self) -> Vec<&ReplicaSet> {
        self.sets.iter().collect()
    }

    fn status(&self) -> DeploymentStatus {
        self.d.status.clone().unwrap_or_default()
    }

    fn name(&self) -> &str {
        objects::name(&self.d.metadata)
    }

    fn namespace(&self) -> &str {
        self.d.metadata.namespace.as_deref().unwrap_or_default()
    }
}

fn progress_deadline(d: &Deployment) -> Option<i32> {
    d.spec.as_ref().and_then(|s| s.progress_deadline_seconds).filter(|s| *s != MAX_INT32)
}

fn condition<'a>(status: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    status.conditions.as_ref()?.iter().find(|c| c.type_ == type_)
}

fn new_condition(type_: &str, status: &str, reason: &str, message: String, now: SystemTime) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: Some(objects::time(now)),
        last_transition_time: Some(objects::time(now)),
    }
}

/// Upstream's `SetDeploymentCondition`: same status and reason changes nothing; same status
/// keeps the transition time; the new condition goes last.
fn set_condition(status: &mut DeploymentStatus, mut new: DeploymentCondition) {
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    if let Some(current) = conditions.iter().find(|c| c.type_ == new.type_) {
        if current.status == new.status && current.reason == new.reason {
            return;
        }
        if current.status == new.status {
            new.last_transition_time = current.last_transition_time.clone();
        }
    }
    conditions.retain(|c| c.type_ != new.type_);
    conditions.push(new);
}

fn remove_condition(status: &mut DeploymentStatus, type_: &str) {
    if let Some(conditions) = status.conditions.as_mut() {
        conditions.retain(|c| c.type_ != type_);
        if conditions.is_empty() {
            status.conditions = None;
        }
    }
}

/// `DeploymentComplete`: every replica updated and available, and the latest spec observed.
fn deployment_complete(d: &Deployment, status: &DeploymentStatus) -> bool {
    let want = replicas(d);
    status.updated_replicas.unwrap_or(0) == want
        && status.replicas.unwrap_or(0) == want
        && status.available_replicas.unwrap_or(0) == want
        && status.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// `DeploymentProgressing`: the new status shows progress over the stored one.
fn deployment_progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let old_old = old.replicas.unwrap_or(0) - old.updated_replicas.unwrap_or(0);
    let new_old = new.replicas.unwrap_or(0) - new.updated_replicas.unwrap_or(0);
    new.updated_replicas.unwrap_or(0) > old.updated_replicas.unwrap_or(0)
        || new_old < old_old
        || new.ready_replicas.unwrap_or(0) > old.ready_replicas.unwrap_or(0)
        || new.available_replicas.unwrap_or(0) > old.available_replicas.unwrap_or(0)
}

/// `DeploymentTimedOut`: no progress for `progressDeadlineSeconds`.
fn deployment_timed_out(d: &Deployment, status: &DeploymentStatus, now: SystemTime) -> bool {
    let Some(deadline) = progress_deadline(d) else { return false };
    let Some(progressing) = condition(status, PROGRESSING) else { return false };
    match progressing.reason.as_deref() {
        Some(NEW_RS_AVAILABLE) => false,
        Some(TIMED_OUT) => true,
        _ => {
            let from = progressing.last_update_time.as_ref().map_or(SystemTime::UNIX_EPOCH, objects::system_time);
            from + Duration::from_secs(deadline as u64) < now
        }
    }
}

impl DeploymentController {
    /// Registers the controller's handlers on the shared informers; [`DeploymentController::run`]
    /// then reconciles.
    pub fn new(api: &Api, informers: &SharedInformers) -> Self {
        let controller = DeploymentController {
            api: api.clone(),
            deployments: informers.get::<Deployment>(),
            replicasets: informers.get::<ReplicaSet>(),
            pods: informers.get::<Pod>(),
            queue: WorkQueue::new(Arc::clone(api.clock())),
            events: EventRecorder::new(api, "deployment-controller"),
            deployments_type: registry::find("apps", "v1", "deployments").expect("deployments are registered"),
            replicasets_type: registry::find("apps", "v1", "replicasets").expect("replicasets are registered"),
        };
        let queue = Arc::clone(&controller.queue);
        controller.deployments.on_change(move |change| {
            let d = match change {
                Change::Added(d) | Change::Deleted(d) => d,
                Change::Updated { new, .. } => new,
            };
            queue.add(ObjectKey::of(&d.metadata));
        });
        let on_rs = controller.clone();
        controller.replicasets.on_change(move |change| on_rs.replicaset_changed(change));
        let on_pod = controller.clone();
        controller.pods.on_change(move |change| {
            if let Change::Deleted(pod) = change {
                on_pod.pod_deleted(pod);
            }
        });
        controller
    }

    /// Reconciles until the store closes.
    pub async fn run(self, workers: usize) {
        self.deployments.wait_synced().await;
        self.replicasets.wait_synced().await;
        self.pods.wait_synced().await;
        let config = WorkerConfig { name: "deployment", workers, retries_max: Some(RETRIES_MAX) };
        let (store, queue) = (self.api.store().clone(), Arc::clone(&self.queue));
        run_controller(self, &store, queue, config).await;
    }

    fn owner_of(&self, rs: &ReplicaSet) -> Option<Arc<Deployment>> {
        self.deployments.controller_of(&rs.metadata)
    }

    /// Queues every Deployment in the ReplicaSet's namespace whose selector matches it (for orphans).
    fn queue_matching(&self, rs: &ReplicaSet) {
        let namespace = rs.metadata.namespace.as_deref().unwrap_or_default();
        let owners = self
            .deployments
            .selecting(namespace, rs.metadata.labels.as_ref(), |d| d.spec.as_ref().map(|s| &s.selector));
        for d in owners {
            self.queue.add(ObjectKey::of(&d.metadata));
        }
    }

    fn replicaset_changed(&self, change: &Change<'_, ReplicaSet>) {
        match change {
            Change::Added(rs) | Change::Deleted(rs) => match self.owner_of(rs) {
                Some(d) => self.queue.add(ObjectKey::of(&d.metadata)),
                None if controller_ref(&rs.metadata).is_none() && matches!(change, Change::Added(_)) => {
                    self.queue_matching(rs)
                }
                None => {}
            },
            Change::Updated { old, new } => {
                if old.metadata.resource_version == new.metadata.resource_version {
                    return;
                }
                let ref_changed = controller_ref(&old.metadata) != controller_ref(&new.metadata);
                if ref_changed && let Some(d) = self.owner_of(old) {
                    self.queue.add(ObjectKey::of(&d.metadata));
                }
                match self.owner_of(new) {
                    Some(d) => self.queue.add(ObjectKey::of(&d.metadata)),
                    None if controller_ref(&new.metadata).is_none()
                        && (ref_changed || old.metadata.labels != new.metadata.labels) =>
                    {
                        self.queue_matching(new)
                    }
                    None => {}
                }
            }
        }
    }

    /// Recreate waits for the last old pod to go: its deletion wakes the Deployment.
    fn pod_deleted(&self, pod: &Pod) {
        if let Some(rs) = self.replicasets.controller_of(&pod.metadata)
            && let Some(d) = self.owner_of(&rs)
            && !is_rolling(&d)
        {
            self.queue.add(ObjectKey::of(&d.metadata));
        }
    }

    /// One sync of one Deployment (upstream's `syncDeployment`).
    pub async fn sync(&self, key: &ObjectKey) -> Result<Action, Status> {
        let Some(cached) = self.deployments.get(&key.namespace, &key.name) else { return Ok(Action::Done) };
        let d = (*cached).clone();
        let Some(selector) = objects::selector(d.spec.as_ref().map(|s| &s.selector)) else {
            return Ok(Action::Done);
        };
        if selector.is_everything() {
            self.events.record(
                Regarding::of(&d),
                EventKind::Warning,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            );
            let mut r = Rollout { d, sets: Vec::new() };
            if r.status().observed_generation < r.d.metadata.generation {
                let mut status = r.status();
                status.observed_generation = r.d.metadata.generation;
                self.write_status(&mut r, status, false).await?;
            }
            return Ok(Action::Done);
        }
        let candidates = self.replicasets.claimable(&key.namespace, objects::uid(&d.metadata));
        let claimer = Claimer {
            api: &self.api,
            owner_type: self.deployments_type,
            owner_api_version: "apps/v1",
            owner_kind: "Deployment",
            owner: &d.metadata,
            child_type: self.replicasets_type,
            selector: &selector,
            field_manager: FIELD_MANAGER,
        };
        let mut sets: Vec<ReplicaSet> = claimer.claim(candidates).await?.iter().map(|rs| (**rs).clone()).collect();
        sets.sort_by(|a, b| {
            objects::created(&a.metadata)
                .cmp(&objects::created(&b.metadata))
                .then(a.metadata.name.cmp(&b.metadata.name))
        });
        let mut r = Rollout { d, sets };

        if r.d.metadata.deletion_timestamp.is_some() {
            let new = self.sync_revision(&mut r, false).await?;
            self.sync_deployment_status(&mut r, new).await?;
            return Ok(Action::Done);
        }
        self.check_paused_conditions(&mut r).await?;
        let paused = r.d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        if paused {
            self.sync_scaling(&mut r).await?;
            return Ok(Action::Done);
        }
        if let Some(target) =
            r.d.metadata.annotations.as_ref().and_then(|a| a.get(ROLLBACK_TO)).and_then(|t| t.parse().ok())
        {
            self.rollback(&mut r, target).await?;
            return Ok(Action::Done);
        }
        if self.is_scaling_event(&r) {
            self.sync_scaling(&mut r).await?;
            return Ok(Action::Done);
        }
        if is_rolling(&r.d) { self.rollout_rolling(&mut r).await } else { self.rollout_recreate(&mut r).await }
    }

    /// Some active ReplicaSet was sized for another `spec.replicas`.
    fn is_scaling_event(&self, r: &Rollout) -> bool {
        let want = replicas(&r.d).to_string();
        r.sets.iter().filter(|rs| rs_replicas(rs) > 0).any(|rs| {
            rs.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(DESIRED_REPLICAS))
                .is_some_and(|desired| desired.parse::<i32>().is_ok() && *desired != want)
        })
    }

    /// Writes the Deployment's status (and, through `/status`, its annotations), unless
    /// unchanged and not `force`d.
    async fn write_status(&self, r: &mut Rollout, status: DeploymentStatus, force: bool) -> Result<(), Status> {
        if !force && r.d.status.as_ref() == Some(&status) {
            return Ok(());
        }
        let mut body = r.d.clone();
        body.status = Some(status);
        let body = serde_json::to_value(&body).expect("a Deployment serializes");
        let options = WriteOptions { field_manager: Some(FIELD_MANAGER.into()), ..WriteOptions::default() };
        let written = self
            .api
            .update(
                self.deployments_type,
                r.namespace(),
                objects::name(&r.d.metadata),
                Subresource::Status,
                body,
                &options,
            )
            .await?;
        r.d = serde_json::from_value(written).map_err(Status::internal)?;
        Ok(())
    }

    async fn update_replicaset(&self, rs: &ReplicaSet) -> Result<ReplicaSet, Status> {
        let body = serde_json::to_value(rs).expect("a ReplicaSet serializes");
        let options = WriteOptions { field_manager: Some(FIELD_MANAGER.into()), ..WriteOptions::default() };
        let namespace = rs.metadata.namespace.as_deref().unwrap_or_default();
        let written = self
            .api
            .update(self.replicasets_type, namespace, objects::name(&rs.metadata), Subresource::Main, body, &options)
            .await?;
        serde_json::from_value(written).map_err(Status::internal)
    }

    /// Sizes a ReplicaSet and refreshes its size annotations (upstream's `scaleReplicaSet`);
    /// returns whether the size changed.
    async fn scale(&self, r: &mut Rollout, index: usize, size: i32) -> Result<bool, Status> {
        let rs = &r.sets[index];
        let before = rs_replicas(rs);
        if before == size && size_annotations_current(&r.d, rs) {
            return Ok(false);
        }
        let mut rs = rs.clone();
        rs.spec.get_or_insert_with(ReplicaSetSpec::default).replicas = Some(size);
        let annotations = rs.metadata.annotations.get_or_insert_with(Default::default);
        annotations.insert(DESIRED_REPLICAS.into(), replicas(&r.d).to_string());
        annotations.insert(MAX_REPLICAS.into(), (replicas(&r.d) + max_surge(&r.d)).to_string());
        r.sets[index] = self.update_replicaset(&rs).await?;
        if before != size {
            let direction = if size > before { "up" } else { "down" };
            let message =
                format!("Scaled {direction} replica set {} to {size} from {before}", objects::name(&rs.metadata));
            self.events.record(Regarding::of(&r.d), EventKind::Normal, "ScalingReplicaSet", message);
        }
        Ok(before != size)
    }

    /// Scales only when the size differs (upstream's `scaleReplicaSetAndRecordEvent`).
    async fn scale_if_needed(&self, r: &mut Rollout, index: usize, size: i32) -> Result<bool, Status> {
        if rs_replicas(&r.sets[index]) == size { Ok(false) } else { self.scale(r, index, size).await }
    }

    /// Finds the new ReplicaSet, bringing its annotations and the Deployment's revision up to
    /// date, or creates it when `create` (upstream's `getAllReplicaSetsAndSyncRevision`).
    async fn sync_revision(&self, r: &mut Rollout, create: bool) -> Result<Option<usize>, Status> {
        let existing = r.find_new();
        let old: Vec<&ReplicaSet> = r.old_indices(existing).into_iter().map(|i| &r.sets[i]).collect();
        let new_revision = max_revision(&old) + 1;
        let now = self.api.clock().now();
        if let Some(index) = existing {
            let mut rs = r.sets[index].clone();
            let annotations_changed = set_new_replicaset_annotations(&r.d, &mut rs, new_revision, true);
            let min_ready = r.d.spec.as_ref().and_then(|s| s.min_ready_seconds);
            let spec = rs.spec.get_or_insert_with(ReplicaSetSpec::default);
            if annotations_changed || spec.min_ready_seconds != min_ready {
                spec.min_ready_seconds = min_ready;
                r.sets[index] = self.update_replicaset(&rs).await?;
                return Ok(Some(index));
            }
            let rs_revision = rs.metadata.annotations.as_ref().and_then(|a| a.get(REVISION)).cloned();
            let mut changed = false;
            if let Some(revision) = rs_revision {
                let annotations = r.d.metadata.annotations.get_or_insert_with(Default::default);
                if annotations.get(REVISION) != Some(&revision) {
                    annotations.insert(REVISION.into(), revision);
                    changed = true;
                }
            }
            let mut status = r.status();
            if progress_deadline(&r.d).is_some() && condition(&status, PROGRESSING).is_none() {
                let message = format!("Found new replica set \"{}\"", objects::name(&rs.metadata));
                set_condition(&mut status, new_condition(PROGRESSING, "True", "FoundNewReplicaSet", message, now));
                changed = true;
            }
            if changed {
                self.write_status(r, status, true).await?;
            }
            return Ok(Some(index));
        }
        if !create {
            return Ok(None);
        }
        self.create_new_replicaset(r, new_revision, now).await.map(Some)
    }

    async fn create_new_replicaset(
        &self,
        r: &mut Rollout,
        new_revision: i64,
        now: SystemTime,
    ) -> Result<usize, Status> {
        let spec = r.d.spec.clone().unwrap_or_default();
        let collision_count = r.status().collision_count;
        let hash = template_hash(&spec.template, collision_count);
        let mut template = spec.template.clone();
        template
            .metadata
            .get_or_insert_with(ObjectMeta::default)
            .labels
            .get_or_insert_with(Default::default)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector = spec.selector.clone();
        selector.match_labels.get_or_insert_with(Default::default).insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let name = format!("{}-{hash}", r.name());
        let mut rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(r.namespace().to_string()),
                labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
                owner_references: Some(vec![objects::owner_reference("apps/v1", "Deployment", &r.d.metadata)]),
                ..ObjectMeta::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: spec.min_ready_seconds,
                selector,
                template: Some(template),
            }),
            status: None,
        };
        set_new_replicaset_annotations(&r.d, &mut rs, new_revision, false);
        let size = if is_rolling(&r.d) {
            let all: Vec<&ReplicaSet> = r.sets.iter().chain(std::iter::once(&rs)).collect();
            new_rs_new_replicas(&r.d, &all, &rs)
        } else {
            replicas(&r.d)
        };
        rs.spec.as_mut().expect("set above").replicas = Some(size);
        let body = serde_json::to_value(&rs).expect("a ReplicaSet serializes");
        let options = WriteOptions { field_manager: Some(FIELD_MANAGER.into()), ..WriteOptions::default() };
        match self.api.create(self.replicasets_type, r.namespace(), body, &options).await {
            Ok(created) => {
                let created: ReplicaSet = serde_json::from_value(created).map_err(Status::internal)?;
                if size > 0 {
                    let message = format!("Scaled up replica set {name} to {size}");
                    self.events.record(Regarding::of(&r.d), EventKind::Normal, "ScalingReplicaSet", message);
                }
                r.sets.push(created);
                r.d.metadata
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert(REVISION.into(), new_revision.to_string());
                let mut status = r.status();
                if progress_deadline(&r.d).is_some() {
                    let message = format!("Created new replica set \"{name}\"");
                    set_condition(
                        &mut status,
                        new_condition(PROGRESSING, "True", "NewReplicaSetCreated", message, now),
                    );
                }
                self.write_status(r, status, true).await?;
                Ok(r.sets.len() - 1)
            }
            Err(error) if error.reason == "AlreadyExists" => {
                let existing = self.api.get(self.replicasets_type, r.namespace(), &name).await?;
                let existing: ReplicaSet = serde_json::from_value(existing).map_err(Status::internal)?;
                let ours = controller_ref(&existing.metadata).is_some_and(|c| c.uid == objects::uid(&r.d.metadata));
                let same =
                    templates_equal(existing.spec.as_ref().and_then(|s| s.template.as_ref()), Some(&spec.template));
                if ours && same {
                    r.sets.push(existing);
                    return Ok(r.sets.len() - 1);
                }
                // A hash collision: hash again with a higher count on the next sync.
                let mut status = r.status();
                status.collision_count = Some(collision_count.unwrap_or(0) + 1);
                self.write_status(r, status, true).await?;
                Err(error)
            }
            Err(error) if error.code == 403 && error.message.contains("terminat") => Err(error),
            Err(error) => {
                let message = format!("Failed to create new replica set \"{name}\": {}", error.message);
                if progress_deadline(&r.d).is_some() {
                    let mut status = r.status();
                    set_condition(
                        &mut status,
                        new_condition(PROGRESSING, "False", "ReplicaSetCreateError", message.clone(), now),
                    );
                    let _ = self.write_status(r, status, false).await;
                }
                self.events.record(Regarding::of(&r.d), EventKind::Warning, "ReplicaSetCreateError", message);
                Err(error)
            }
        }
    }

    /// The status computed from the ReplicaSets (upstream's `calculateStatus`).
    fn calculate_status(&self, r: &Rollout, new: Option<usize>) -> DeploymentStatus {
        let sum = |get: fn(&ReplicaSet) -> i32| r.sets.iter().map(get).sum::<i32>();
        let available = sum(rs_available);
        let total_spec = sum(rs_replicas);
        let mut status = DeploymentStatus {
            observed_generation: r.d.metadata.generation,
            replicas: Some(sum(|rs| rs.status.as_ref().map_or(0, |s| s.replicas))),
            updated_replicas: Some(new.map_or(0, |i| r.sets[i].status.as_ref().map_or(0, |s| s.replicas))),
            ready_replicas: Some(sum(|rs| rs.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0))),
            available_replicas: Some(available),
            unavailable_replicas: Some((total_spec - available).max(0)),
            collision_count: r.d.status.as_ref().and_then(|s| s.collision_count),
            conditions: r.d.status.as_ref().and_then(|s| s.conditions.clone()),
            terminating_replicas: None,
        };
        let now = self.api.clock().now();
        let available_condition = if available >= replicas(&r.d) - max_unavailable(&r.d) {
            new_condition(
                AVAILABLE,
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.".into(),
                now,
            )
        } else {
            new_condition(
                AVAILABLE,
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.".into(),
                now,
            )
        };
        set_condition(&mut status, available_condition);
        status
    }

    /// Writes the computed status if it changed (paused, scaling and deleting syncs).
    async fn sync_deployment_status(&self, r: &mut Rollout, new: Option<usize>) -> Result<(), Status> {
        let status = self.calculate_status(r, new);
        self.write_status(r, status, false).await
    }

    /// Status with the Progressing condition and the deadline (rollout syncs; upstream's
    /// `syncRolloutStatus`). When nothing changed, returns when to look at the deadline again.
    async fn sync_rollout_status(&self, r: &mut Rollout, new: Option<usize>) -> Result<Action, Status> {
        let now = self.api.clock().now();
        let mut status = self.calculate_status(r, new);
        let deadline = progress_deadline(&r.d);
        if deadline.is_none() {
            remove_condition(&mut status, PROGRESSING);
        }
        let current = condition(&status, PROGRESSING).cloned();
        let complete = status.replicas == status.updated_replicas
            && current.as_ref().and_then(|c| c.reason.as_deref()) == Some(NEW_RS_AVAILABLE);
        let subject = match new {
            Some(i) => format!("ReplicaSet \"{}\"", objects::name(&r.sets[i].metadata)),
            None => format!("Deployment \"{}\"", r.name()),
        };
        if deadline.is_some() && !complete {
            if deployment_complete(&r.d, &status) {
                let message = format!("{subject} has successfully progressed.");
                set_condition(&mut status, new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE, message, now));
            } else if deployment_progressing(&r.d, &status) {
                let message = format!("{subject} is progressing.");
                let mut updated = new_condition(PROGRESSING, "True", "ReplicaSetUpdated", message, now);
                // Progress always refreshes lastUpdateTime: that is what pushes the deadline out.
                if let Some(current) = current.as_ref().filter(|c| c.status == "True") {
                    updated.last_transition_time = current.last_transition_time.clone();
                }
                remove_condition(&mut status, PROGRESSING);
                set_condition(&mut status, updated);
            } else if deployment_timed_out(&r.d, &status, now) {
                let message = format!("{subject} has timed out progressing.");
                set_condition(&mut status, new_condition(PROGRESSING, "False", TIMED_OUT, message, now));
            }
        }
        // Surface the ReplicaSets' failures, the new one's first.
        let failure = new
            .into_iter()
            .chain(0..r.sets.len())
            .filter_map(|i| r.sets[i].status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == REPLICA_FAILURE))
            .next()
            .cloned();
        match failure {
            Some(failure) => set_condition(
                &mut status,
                DeploymentCondition {
                    type_: REPLICA_FAILURE.into(),
                    status: failure.status,
                    reason: failure.reason,
                    message: failure.message,
                    last_update_time: failure.last_transition_time.clone(),
                    last_transition_time: failure.last_transition_time,
                },
            ),
            None => remove_condition(&mut status, REPLICA_FAILURE),
        }
        if r.d.status.as_ref() == Some(&status) {
            return Ok(self.requeue_stuck(&r.d, &status, now));
        }
        self.write_status(r, status, false).await?;
        Ok(Action::Done)
    }

    /// When to check the deadline of a rollout that is not moving (upstream's
    /// `requeueStuckDeployment`).
    fn requeue_stuck(&self, d: &Deployment, status: &DeploymentStatus, now: SystemTime) -> Action {
        let Some(deadline) = progress_deadline(d) else { return Action::Done };
        let Some(progressing) = condition(status, PROGRESSING) else { return Action::Done };
        if deployment_complete(d, status) || progressing.reason.as_deref() == Some(TIMED_OUT) {
            return Action::Done;
        }
        let from = progressing.last_update_time.as_ref().map_or(now, objects::system_time);
        let at = from + Duration::from_secs(deadline as u64 + 1);
        Action::RequeueAt(at.max(now))
    }

    /// Sets Progressing to Unknown/DeploymentPaused or DeploymentResumed as `spec.paused` changes.
    async fn check_paused_conditions(&self, r: &mut Rollout) -> Result<(), Status> {
        if progress_deadline(&r.d).is_none() {
            return Ok(());
        }
        let mut status = r.status();
        let reason = condition(&status, PROGRESSING).and_then(|c| c.reason.clone());
        if reason.as_deref() == Some(TIMED_OUT) {
            return Ok(());
        }
        let paused = r.d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        let now = self.api.clock().now();
        let update = if paused && reason.as_deref() != Some(PAUSED) {
            new_condition(PROGRESSING, "Unknown", PAUSED, "Deployment is paused".into(), now)
        } else if !paused && reason.as_deref() == Some(PAUSED) {
            new_condition(PROGRESSING, "Unknown", RESUMED, "Deployment is resumed".into(), now)
        } else {
            return Ok(());
        };
        set_condition(&mut status, update);
        self.write_status(r, status, false).await
    }

    /// Scaling without rollout: paused Deployments and `spec.replicas` changes (upstream's
    /// `sync`).
    async fn sync_scaling(&self, r: &mut Rollout) -> Result<(), Status> {
        let new = self.sync_revision(r, false).await?;
        self.scale_proportionally(r, new).await?;
        let paused = r.d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        let rollback = r.d.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(ROLLBACK_TO));
        if paused && !rollback {
            self.cleanup(r, new).await?;
        }
        self.sync_deployment_status(r, new).await
    }

    /// Upstream's `scale`: one active ReplicaSet takes the whole size; a saturated new one ends
    /// the old ones; otherwise every active one grows or shrinks in proportion.
    async fn scale_proportionally(&self, r: &mut Rollout, new: Option<usize>) -> Result<(), Status> {
        let want = replicas(&r.d);
        let active: Vec<usize> = (0..r.sets.len()).filter(|&i| rs_replicas(&r.sets[i]) > 0).collect();
        let target = match active.len() {
            1 => Some(active[0]),
            0 => new.or_else(|| r.old_indices(new).last().copied()),
            _ => None,
        };
        if let Some(target) = target {
            if rs_replicas(&r.sets[target]) != want {
                self.scale(r, target, want).await?;
            }
            return Ok(());
        }
        if let Some(i) = new {
            let rs = &r.sets[i];
            let desired =
                rs.metadata.annotations.as_ref().and_then(|a| a.get(DESIRED_REPLICAS)).and_then(|v| v.parse().ok());
            if rs_replicas(rs) == want && desired == Some(want) && rs_available(rs) == want {
                for old in r.old_indices(new) {
                    if rs_replicas(&r.sets[old]) > 0 {
                        self.scale_if_needed(r, old, 0).await?;
                    }
                }
                return Ok(());
            }
        }
        if !is_rolling(&r.d) {
            return Ok(());
        }
        let status_replicas = r.status().replicas.unwrap_or(0);
        let sizes = {
            let sets: Vec<&ReplicaSet> = active.iter().map(|&i| &r.sets[i]).collect();
            proportional_sizes(&r.d, &sets, status_replicas)
        };
        for (index, size) in active.into_iter().zip(sizes) {
            self.scale(r, index, size).await?;
        }
        Ok(())
    }

    async fn rollout_rolling(&self, r: &mut Rollout) -> Result<Action, Status> {
        let new = self.sync_revision(r, true).await?;
        if let Some(index) = new {
            let (size, want) = (rs_replicas(&r.sets[index]), replicas(&r.d));
            let target = if size > want { want } else { new_rs_new_replicas(&r.d, &r.all(), &r.sets[index]) };
            if size != want && self.scale_if_needed(r, index, target).await? {
                return self.sync_rollout_status(r, new).await;
            }
        }
        if self.reconcile_old_replicasets(r, new).await {
            return self.sync_rollout_status(r, new).await;
        }
        if deployment_complete(&r.d, &r.status()) {
            self.cleanup(r, new).await?;
        }
        self.sync_rollout_status(r, new).await
    }

    /// Scales old ReplicaSets down as far as availability allows: first their unhealthy
    /// replicas, then whatever keeps `spec.replicas − maxUnavailable` available. Failures end
    /// the step quietly; the next sync retries (as upstream).
    async fn reconcile_old_replicasets(&self, r: &mut Rollout, new: Option<usize>) -> bool {
        let old: Vec<usize> = r.old_indices(new).into_iter().filter(|&i| rs_replicas(&r.sets[i]) > 0).collect();
        if old.is_empty() {
            return false;
        }
        let all_pods: i32 = r.sets.iter().map(rs_replicas).sum();
        let min_available = replicas(&r.d) - max_unavailable(&r.d);
        let new_unavailable = new.map_or(0, |i| rs_replicas(&r.sets[i]) - rs_available(&r.sets[i]));
        let max_scaled_down = all_pods - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return false;
        }
        // Step 1: unhealthy replicas of old ReplicaSets, oldest first.
        let mut cleaned = 0;
        for &i in &old {
            if cleaned >= max_scaled_down {
                break;
            }
            let (size, available) = (rs_replicas(&r.sets[i]), rs_available(&r.sets[i]));
            if size == 0 || size == available {
                continue;
            }
            let down = (max_scaled_down - cleaned).min(size - available);
            if down < 0 {
                // The status still counts pods the spec no longer wants (it lags the spec):
                // never scale an old ReplicaSet up; wait for the status to catch up.
                return false;
            }
            match self.scale_if_needed(r, i, size - down).await {
                Ok(_) => cleaned += down,
                Err(error) => {
                    tracing::debug!(%error.message, "cleaning up unhealthy replicas failed");
                    return false;
                }
            }
        }
        // Step 2: as far as the available replicas allow.
        let available: i32 = r.sets.iter().map(rs_available).sum();
        let mut scaled = 0;
        if available > min_available {
            let budget = available - min_available;
            for &i in &old {
                if scaled >= budget {
                    break;
                }
                let size = rs_replicas(&r.sets[i]);
                if size == 0 {
                    continue;
                }
                let down = size.min(budget - scaled);
                match self.scale_if_needed(r, i, size - down).await {
                    Ok(_) => scaled += down,
                    Err(error) => {
                        tracing::debug!(%error.message, "scaling down old replicas failed");
                        return false;
                    }
                }
            }
        }
        cleaned + scaled > 0
    }

    async fn rollout_recreate(&self, r: &mut Rollout) -> Result<Action, Status> {
        let mut new = self.sync_revision(r, false).await?;
        let mut scaled = false;
        for i in r.old_indices(new) {
            if rs_replicas(&r.sets[i]) > 0 {
                scaled |= self.scale_if_needed(r, i, 0).await?;
            }
        }
        if scaled {
            return self.sync_rollout_status(r, new).await;
        }
        // Old pods must be gone (any phase but Succeeded/Failed, terminating included) first.
        let old_running = r.old_indices(new).into_iter().any(|i| {
            let rs = &r.sets[i];
            rs.status.as_ref().is_some_and(|s| s.replicas > 0)
                || self.pods.controlled_by(objects::uid(&rs.metadata)).iter().any(|pod| {
                    !matches!(pod.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded") | Some("Failed"))
                })
        });
        if old_running {
            return self.sync_rollout_status(r, new).await;
        }
        if new.is_none() {
            new = self.sync_revision(r, true).await?;
        }
        if let Some(i) = new {
            self.scale_if_needed(r, i, replicas(&r.d)).await?;
        }
        if deployment_complete(&r.d, &r.status()) {
            self.cleanup(r, new).await?;
        }
        self.sync_rollout_status(r, new).await
    }

    /// Deletes the oldest old ReplicaSets beyond `revisionHistoryLimit`, if they are empty.
    async fn cleanup(&self, r: &mut Rollout, new: Option<usize>) -> Result<(), Status> {
        let Some(limit) = r.d.spec.as_ref().and_then(|s| s.revision_history_limit).filter(|l| *l != MAX_INT32) else {
            return Ok(());
        };
        let mut candidates: Vec<&ReplicaSet> = r
            .old_indices(new)
            .into_iter()
            .map(|i| &r.sets[i])
            .filter(|rs| rs.metadata.deletion_timestamp.is_none())
            .collect();
        let excess = candidates.len() as i64 - i64::from(limit);
        if excess <= 0 {
            return Ok(());
        }
        candidates.sort_by(|a, b| match (revision(a), revision(b)) {
            (Ok(x), Ok(y)) if x != y => x.cmp(&y),
            _ => objects::created(&a.metadata)
                .cmp(&objects::created(&b.metadata))
                .then(a.metadata.name.cmp(&b.metadata.name)),
        });
        for rs in candidates.into_iter().take(excess as usize) {
            let status = rs.status.as_ref();
            let empty = status.is_none_or(|s| s.replicas == 0)
                && rs_replicas(rs) == 0
                && rs.metadata.generation <= status.and_then(|s| s.observed_generation);
            if !empty {
                continue;
            }
            let options = DeleteOptions { precondition_uid: rs.metadata.uid.clone(), ..DeleteOptions::default() };
            match self.api.delete(self.replicasets_type, r.namespace(), objects::name(&rs.metadata), &options).await {
                Ok(_) => {}
                Err(status) if status.code == 404 => {}
                Err(status) => return Err(status),
            }
        }
        Ok(())
    }

    /// The legacy rollback annotation (`deprecated.deployment.rollback.to`): copy the template
    /// of the wanted revision (0: the previous one) into the Deployment and clear the annotation.
    async fn rollback(&self, r: &mut Rollout, mut target: i64) -> Result<(), Status> {
        self.sync_revision(r, true).await?;
        if target == 0 {
            target = last_revision(&r.all());
        }
        let found = (target != 0).then(|| r.sets.iter().find(|rs| revision(rs) == Ok(target)).cloned()).flatten();
        match found {
            None => {
                let message = if target == 0 {
                    "Unable to find last revision."
                } else {
                    "Unable to find the revision to rollback to."
                };
                self.events.record(
                    Regarding::of(&r.d),
                    EventKind::Warning,
                    "DeploymentRollbackRevisionNotFound",
                    message,
                );
            }
            Some(rs) => {
                let template = rs.spec.as_ref().and_then(|s| s.template.clone()).unwrap_or_default();
                let current = r.d.spec.as_ref().map(|s| &s.template);
                if templates_equal(Some(&template), current) {
                    let message = format!(
                        "The rollback revision contains the same template as current deployment \"{}\"",
                        r.name()
                    );
                    self.events.record(
                        Regarding::of(&r.d),
                        EventKind::Warning,
                        "DeploymentRollbackTemplateUnchanged",
                        message,
                    );
                } else {
                    let mut template = template;
                    if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
                        labels.remove(POD_TEMPLATE_HASH);
                    }
                    r.d.spec.get_or_insert_with(Default::default).template = template;
                    let kept: std::collections::BTreeMap<String, String> =
                        r.d.metadata
                            .annotations
                            .iter()
                            .flatten()
                            .filter(|(k, _)| SKIPPED_ANNOTATIONS.contains(&k.as_str()))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                    let mut annotations = kept;
                    for (key, value) in rs.metadata.annotations.iter().flatten() {
                        if !SKIPPED_ANNOTATIONS.contains(&key.as_str()) {
                            annotations.insert(key.clone(), value.clone());
                        }
                    }
                    r.d.metadata.annotations = Some(annotations);
                    let message = format!("Rolled back deployment \"{}\" to revision {target}", r.name());
                    self.events.record(Regarding::of(&r.d), EventKind::Normal, "DeploymentRollback", message);
                }
            }
        }
        if let Some(annotations) = r.d.metadata.annotations.as_mut() {
            annotations.remove(ROLLBACK_TO);
        }
        let body = serde_json::to_value(&r.d).expect("a Deployment serializes");
        let options = WriteOptions { field_manager: Some(FIELD_MANAGER.into()), ..WriteOptions::default() };
        self.api.update(self.deployments_type, r.namespace(), r.name(), Subresource::Main, body, &options).await?;
        Ok(())
    }
}

impl Reconcile for DeploymentController {
    fn reconcile(&self, key: &ObjectKey) -> impl std::future::Future<Output = Result<Action, Status>> + Send {
        self.sync(key)
    }
}
