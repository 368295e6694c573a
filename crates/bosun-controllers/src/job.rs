//! The Job controller (batch/v1, NonIndexed completion mode): runs a Job's pods until
//! `completions` of them succeed, at most `parallelism` at a time, and fails the Job after more
//! than `backoffLimit` failed pods or past `activeDeadlineSeconds`. With the node agent, a pod of
//! the seed's `pi` Job (image `perl`) succeeds after its profile's run time, so `kubectl wait
//! --for=condition=complete job/pi` works as on a cluster.
//!
//! Differences from upstream, by design of an embedded control plane:
//! - Pods are counted as they are found, not tracked with the `batch.kubernetes.io/job-tracking`
//!   finalizer; the counts never go down, so a finished pod deleted later stays counted, but one
//!   deleted before the controller saw it finish is not counted.
//! - Indexed completion mode, podFailurePolicy, successPolicy, backoffLimitPerIndex and
//!   ttlSecondsAfterFinished are not acted on (the fields are stored and validated).
//! - Failed pods are replaced at once, without upstream's exponential back-off between retries.

use std::sync::Arc;
use std::time::Duration;

use bosun_api::api::{Api, DeleteOptions, WriteOptions};
use bosun_api::registry::{self, ResourceType};
use bosun_api::status::Status;
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus};
use k8s_openapi::api::core::v1::Pod;

use crate::objects::{self, is_pod_ready};
use crate::ownership::Claimer;
use crate::runtime::events::{EventKind, EventRecorder, Regarding};
use crate::runtime::expectations::Expectations;
use crate::runtime::informer::{Change, Informer};
use crate::runtime::queue::WorkQueue;
use crate::runtime::shared::SharedInformers;
use crate::runtime::{Action, ObjectKey, Reconcile, WorkerConfig, run_controller};

/// The field manager of the controller's writes.
const FIELD_MANAGER: &str = "job-controller";

/// The Job controller.
#[derive(Clone)]
pub struct JobController {
    api: Api,
    jobs: Informer<Job>,
    pods: Informer<Pod>,
    queue: Arc<WorkQueue<ObjectKey>>,
    expectations: Arc<Expectations>,
    events: EventRecorder,
    jobs_type: &'static ResourceType,
    pods_type: &'static ResourceType,
}

fn phase(pod: &Pod) -> Option<&str> {
    pod.status.as_ref().and_then(|s| s.phase.as_deref())
}

fn is_finished(job: &Job) -> bool {
    let conditions = job.status.as_ref().and_then(|s| s.conditions.as_ref());
    conditions.into_iter().flatten().any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
}

impl JobController {
    /// Registers the controller's handlers on the shared informers; [`JobController::run`] then
    /// reconciles.
    pub fn new(api: &Api, informers: &SharedInformers) -> Self {
        let controller = JobController {
            api: api.clone(),
            jobs: informers.get::<Job>(),
            pods: informers.get::<Pod>(),
            queue: WorkQueue::new(Arc::clone(api.clock())),
            expectations: Arc::new(Expectations::new(Arc::clone(api.clock()))),
            events: EventRecorder::new(api, "job-controller"),
            jobs_type: registry::find("batch", "v1", "jobs").expect("jobs are registered"),
            pods_type: registry::find("", "v1", "pods").expect("pods are registered"),
        };
        let queue = Arc::clone(&controller.queue);
        let expectations = Arc::clone(&controller.expectations);
        controller.jobs.on_change(move |change| match change {
            Change::Added(job) | Change::Updated { new: job, .. } => queue.add(ObjectKey::of(&job.metadata)),
            Change::Deleted(job) => {
                let key = ObjectKey::of(&job.metadata);
                expectations.forget(&key);
                queue.add(key);
            }
        });
        let on_pod = controller.clone();
        controller.pods.on_change(move |change| on_pod.pod_changed(change));
        controller
    }

    fn pod_changed(&self, change: &Change<'_, Pod>) {
        let (pod, added, deleted) = match change {
            Change::Added(pod) => (*pod, true, false),
            Change::Updated { new, .. } => (*new, false, false),
            Change::Deleted(pod) => (*pod, false, true),
        };
        let Some(job) = self.jobs.controller_of(&pod.metadata) else { return };
        let key = ObjectKey::of(&job.metadata);
        if added {
            self.expectations.creation_observed(&key);
        }
        if deleted {
            self.expectations.deletion_observed(&key, &ObjectKey::of(&pod.metadata));
        }
        self.queue.add(key);
    }

    /// Reconciles until the store closes.
    pub async fn run(self, workers: usize) {
        self.jobs.wait_synced().await;
        self.pods.wait_synced().await;
        let config = WorkerConfig { name: "job", workers, retries_max: None };
        let (store, queue) = (self.api.store().clone(), Arc::clone(&self.queue));
        run_controller(self, &store, queue, config).await;
    }

    /// One sync of one Job.
    pub async fn sync(&self, key: &ObjectKey) -> Result<Action, Status> {
        let Some(job) = self.jobs.get(&key.namespace, &key.name) else {
            self.expectations.forget(key);
            return Ok(Action::Done);
        };
        if is_finished(&job) {
            return Ok(Action::Done);
        }
        let Some(spec) = job.spec.as_ref() else { return Ok(Action::Done) };
        let Some(selector) = objects::selector(spec.selector.as_ref()) else { return Ok(Action::Done) };
        let claimer = Claimer {
            api: &self.api,
            owner_type: self.jobs_type,
            owner_api_version: "batch/v1",
            owner_kind: "Job",
            owner: &job.metadata,
            child_type: self.pods_type,
            selector: &selector,
            field_manager: FIELD_MANAGER,
        };
        let pods = claimer.claim(self.pods.claimable(&key.namespace, objects::uid(&job.metadata))).await?;
        let now = self.api.clock().now();
        let previous = job.status.clone().unwrap_or_default();
        let terminating = pods.iter().filter(|p| p.metadata.deletion_timestamp.is_some()).count() as i32;
        let active: Vec<&Arc<Pod>> = pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none() && !matches!(phase(p), Some("Succeeded" | "Failed")))
            .collect();
        // Counts never go down: a finished pod that was deleted since stays counted.
        let succeeded =
            previous.succeeded.unwrap_or(0).max(pods.iter().filter(|p| phase(p) == Some("Succeeded")).count() as i32);
        let failed =
            previous.failed.unwrap_or(0).max(pods.iter().filter(|p| phase(p) == Some("Failed")).count() as i32);
        let suspended = spec.suspend.unwrap_or(false);

        let mut status = JobStatus {
            active: Some(active.len() as i32),
            succeeded: Some(succeeded),
            failed: Some(failed),
            ready: Some(active.iter().filter(|p| is_pod_ready(p)).count() as i32),
            terminating: Some(terminating),
            start_time: previous.start_time.clone().or_else(|| (!suspended).then(|| objects::time(now))),
            completion_time: previous.completion_time.clone(),
            conditions: previous.conditions.clone(),
            uncounted_terminated_pods: Some(Default::default()),
            ..JobStatus::default()
        };
        let deadline = spec
            .active_deadline_seconds
            .zip(status.start_time.as_ref())
            .map(|(seconds, start)| objects::system_time(start) + Duration::from_secs(seconds.max(0) as u64));
        let backoff_limit = spec.backoff_limit.unwrap_or(6);
        let completions = spec.completions;
        let complete = match completions {
            Some(wanted) => succeeded >= wanted,
            None => succeeded >= 1 && active.is_empty(),
        };
        let failure = if failed > backoff_limit {
            Some(("BackoffLimitExceeded", "Job has reached the specified backoff limit".to_string()))
        } else if deadline.is_some_and(|deadline| now >= deadline) {
            Some(("DeadlineExceeded", "Job was active longer than specified deadline".to_string()))
        } else {
            None
        };

        let mut next = Action::Done;
        if let Some((reason, message)) = failure {
            self.delete_pods(&job, key, &active).await?;
            status.active = Some(0);
            for type_ in ["FailureTarget", "Failed"] {
                set_condition(&mut status, type_, reason, &message, now);
            }
            self.events.record(Regarding::of(job.as_ref()), EventKind::Warning, reason, message);
        } else if complete {
            if completions.is_none() {
                self.delete_pods(&job, key, &active).await?;
                status.active = Some(0);
            }
            let message = "Reached expected number of succeeded pods";
            for type_ in ["SuccessCriteriaMet", "Complete"] {
                set_condition(&mut status, type_, "CompletionsReached", message, now);
            }
            status.completion_time = Some(objects::time(now));
            self.events.record(Regarding::of(job.as_ref()), EventKind::Normal, "Completed", "Job completed");
        } else if self.expectations.satisfied(key) {
            let parallelism = if suspended { 0 } else { spec.parallelism.unwrap_or(1).max(0) };
            let wanted_active = match completions {
                Some(wanted) => parallelism.min((wanted - succeeded).max(0)),
                None if succeeded > 0 => 0,
                None => parallelism,
            } as usize;
            if active.len() < wanted_active {
                self.create_pods(&job, key, wanted_active - active.len()).await?;
            } else if active.len() > wanted_active {
                self.delete_pods(&job, key, &active[wanted_active..]).await?;
            }
            if let Some(deadline) = deadline {
                next = Action::RequeueAt(deadline);
            }
        }
        if job.status.as_ref() != Some(&status) {
            objects::replace_status(&self.api, self.jobs_type, &job.metadata, &status, FIELD_MANAGER).await?;
        }
        Ok(next)
    }

    async fn create_pods(&self, job: &Job, key: &ObjectKey, count: usize) -> Result<(), Status> {
        let pod = objects::pod_for(
            job.spec.as_ref().map(|s| &s.template),
            objects::owner_reference("batch/v1", "Job", &job.metadata),
        )?;
        self.expectations.expect_creations(key, count);
        let options = WriteOptions { field_manager: Some(FIELD_MANAGER.into()), ..WriteOptions::default() };
        for _ in 0..count {
            match self.api.create(self.pods_type, &key.namespace, pod.clone(), &options).await {
                Ok(created) => {
                    let message = format!("Created pod: {}", bosun_api::meta::name(&created));
                    self.events.record(Regarding::of(job), EventKind::Normal, "SuccessfulCreate", message);
                }
                Err(status) => {
                    self.expectations.creation_observed(key);
                    self.events.record(
                        Regarding::of(job),
                        EventKind::Warning,
                        "FailedCreate",
                        format!("Error creating: {}", status.message),
                    );
                    return Err(status);
                }
            }
        }
        Ok(())
    }

    async fn delete_pods(&self, job: &Job, key: &ObjectKey, pods: &[&Arc<Pod>]) -> Result<(), Status> {
        if pods.is_empty() {
            return Ok(());
        }
        self.expectations.expect_deletions(key, pods.iter().map(|p| ObjectKey::of(&p.metadata)));
        for pod in pods {
            let options = DeleteOptions { precondition_uid: pod.metadata.uid.clone(), ..DeleteOptions::default() };
            let name = objects::name(&pod.metadata);
            match self.api.delete(self.pods_type, &key.namespace, name, &options).await {
                Ok(_) => {
                    self.events.record(
                        Regarding::of(job),
                        EventKind::Normal,
                        "SuccessfulDelete",
                        format!("Deleted pod: {name}"),
                    );
                }
                Err(status) if status.code == 404 => {
                    self.expectations.deletion_observed(key, &ObjectKey::of(&pod.metadata))
                }
                Err(status) => {
                    self.expectations.deletion_observed(key, &ObjectKey::of(&pod.metadata));
                    return Err(status);
                }
            }
        }
        Ok(())
    }
}

/// Adds a `True` condition of `type_` unless one is there.
fn set_condition(status: &mut JobStatus, type_: &str, reason: &str, message: &str, now: std::time::SystemTime) {
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    if conditions.iter().any(|c| c.type_ == type_ && c.status == "True") {
        return;
    }
    conditions.retain(|c| c.type_ != type_);
    conditions.push(JobCondition {
        type_: type_.into(),
        status: "True".into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_probe_time: Some(objects::time(now)),
        last_transition_time: Some(objects::time(now)),
    });
}

impl Reconcile for JobController {
    fn reconcile(&self, key: &ObjectKey) -> impl std::future::Future<Output = Result<Action, Status>> + Send {
        self.sync(key)
    }
}
