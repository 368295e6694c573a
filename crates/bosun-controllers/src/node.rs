//! The node agent: a kubelet stand-in for one virtual node, so that pods get scheduled, run and
//! turn ready, and deleted pods finish their graceful termination.
//!
//! - Registers the Node (`bosun-node`), Ready, and renews its Lease in `kube-node-lease`.
//! - Binds every pod without `spec.nodeName` to it through `pods/binding`, as a scheduler.
//! - Writes each bound pod's status as a kubelet: phase, conditions, container statuses, IPs. The
//!   containers are simulated ([`sim`]) from per-image [`profiles`]: readiness follows the pod's
//!   `readinessProbe` against the simulated app, on the injected clock, and every transition
//!   carries its exact simulated time even when a virtual clock jumps ahead.
//! - Finishes graceful deletions: once the (simulated) processes have stopped, the containers are
//!   shown terminated and the pod is deleted with grace period 0 and a uid precondition.
//!
//! Pod IPs come from 10.244.0.0/16; at start the allocator continues after the highest address
//! the existing pods hold, so a restart of Bosun does not hand out an address again at once.

pub mod profiles;
mod registration;
pub mod sim;

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bosun_api::api::{Api, DeleteOptions, Subresource, WriteOptions};
use bosun_api::meta;
use bosun_api::registry::{self, ResourceType};
use bosun_api::status::Status;
use k8s_openapi::api::core::v1::Pod;
use parking_lot::Mutex;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::runtime::informer::Change;
use crate::runtime::queue::WorkQueue;
use crate::runtime::shared::SharedInformers;
use crate::runtime::{Action, ObjectKey, WorkerConfig, run_workers};
use profiles::Profiles;
use sim::{Probe, RestartPolicy, State, Timeline};

/// The field manager of the agent's writes.
const MANAGER: &str = "kubelet";
/// Attempts at a status write that lost a race before the reconcile gives up (and is retried).
const WRITE_ATTEMPTS_MAX: usize = 5;
/// The first and last pod addresses handed out: 10.244.0.2 to 10.244.255.254.
const POD_IP_FIRST: u32 = u32::from_be_bytes([10, 244, 0, 2]);
const POD_IP_LAST: u32 = u32::from_be_bytes([10, 244, 255, 254]);

/// How the node agent behaves.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The Node's name (default `bosun-node`).
    pub node_name: String,
    /// The node's address, reported as its InternalIP and as every pod's hostIP.
    pub node_ip: Ipv4Addr,
    /// The simulated applications by image.
    pub profiles: Profiles,
    /// How often the Lease is renewed (default 10 s, as the kubelet).
    pub lease_renew_interval: Duration,
    /// How often the Node's conditions report a heartbeat (default 60 s).
    pub status_report_interval: Duration,
    /// Pods reconciled at once.
    pub workers: usize,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            node_name: "bosun-node".into(),
            node_ip: Ipv4Addr::LOCALHOST,
            profiles: Profiles::default(),
            lease_renew_interval: Duration::from_secs(10),
            status_report_interval: Duration::from_secs(60),
            workers: 16,
        }
    }
}

fn pods() -> &'static ResourceType {
    registry::find("", "v1", "pods").expect("pods are registered")
}

fn write_options() -> WriteOptions {
    WriteOptions { field_manager: Some(MANAGER.into()), ..WriteOptions::default() }
}

/// Starts the node agent: its pod handlers go on `informers` (start them afterwards); the node
/// heartbeat and the pod workers run as tasks until the store closes.
pub fn start(api: &Api, informers: &SharedInformers, config: NodeConfig) {
    let queue = WorkQueue::new(Arc::clone(api.clock()));
    let pod_informer = informers.get::<Pod>();
    {
        let queue = Arc::clone(&queue);
        pod_informer.on_change(move |change| {
            let pod = match change {
                Change::Added(pod) | Change::Deleted(pod) => pod,
                Change::Updated { new, .. } => new,
            };
            queue.add(ObjectKey::of(&pod.metadata));
        });
    }
    let agent = Arc::new(Agent { api: api.clone(), config, ips: Mutex::new(IpAllocator::default()) });
    tokio::spawn(Arc::clone(&agent).run_node());
    tokio::spawn(async move {
        pod_informer.wait_synced().await;
        {
            let mut ips = agent.ips.lock();
            for pod in pod_informer.list(None) {
                let ip = pod.status.as_ref().and_then(|s| s.pod_ip.as_deref()).and_then(|ip| ip.parse().ok());
                if let (Some(ip), Some(uid)) = (ip, pod.metadata.uid.as_deref()) {
                    ips.hold(ObjectKey::of(&pod.metadata), uid, ip);
                }
            }
        }
        let config = WorkerConfig { name: "node-agent", workers: agent.config.workers, retries_max: None };
        let store = agent.api.store().clone();
        run_workers(&store, queue, config, move |key| Arc::clone(&agent).reconcile(key)).await;
    });
}

/// Pod addresses: one per pod, never the same for two live pods.
#[derive(Default)]
struct IpAllocator {
    by_pod: HashMap<ObjectKey, (String, u32)>,
    used: HashSet<u32>,
    /// Where the search for a free address starts: after the last one handed out.
    next: u32,
}

impl IpAllocator {
    fn hold(&mut self, key: ObjectKey, uid: &str, ip: Ipv4Addr) {
        let ip = u32::from(ip);
        self.used.insert(ip);
        self.by_pod.insert(key, (uid.to_string(), ip));
        if (POD_IP_FIRST..=POD_IP_LAST).contains(&ip) {
            self.next = self.next.max(ip + 1);
        }
    }

    fn release(&mut self, key: &ObjectKey) {
        if let Some((_, ip)) = self.by_pod.remove(key) {
            self.used.remove(&ip);
        }
    }

    fn allocate(&mut self, key: &ObjectKey, uid: &str) -> Option<Ipv4Addr> {
        match self.by_pod.get(key) {
            Some((held_uid, ip)) if held_uid == uid => return Some(Ipv4Addr::from(*ip)),
            Some(_) => self.release(key),
            None => {}
        }
        let size = POD_IP_LAST - POD_IP_FIRST + 1;
        let start = if (POD_IP_FIRST..=POD_IP_LAST).contains(&self.next) { self.next } else { POD_IP_FIRST };
        let ip =
            (0..size).map(|i| POD_IP_FIRST + (start - POD_IP_FIRST + i) % size).find(|ip| !self.used.contains(ip))?;
        self.next = ip + 1;
        self.used.insert(ip);
        self.by_pod.insert(key.clone(), (uid.to_string(), ip));
        Some(Ipv4Addr::from(ip))
    }
}

struct Agent {
    api: Api,
    config: NodeConfig,
    ips: Mutex<IpAllocator>,
}

fn seconds_of(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn time_at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn format_seconds(seconds: u64) -> Value {
    Value::String(meta::format_time(time_at(seconds)))
}

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn hex_digest(input: &str) -> String {
    Sha256::digest(input.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl Agent {
    fn now_seconds(&self) -> u64 {
        seconds_of(self.api.clock().now())
    }

    async fn reconcile(self: Arc<Self>, key: ObjectKey) -> Result<Action, Status> {
        for _ in 0..WRITE_ATTEMPTS_MAX {
            let pod = match self.api.get(pods(), &key.namespace, &key.name).await {
                Ok(pod) => pod,
                Err(status) if status.code == 404 => {
                    self.ips.lock().release(&key);
                    return Ok(Action::Done);
                }
                Err(status) => return Err(status),
            };
            let node_name = text(&pod, "/spec/nodeName");
            if node_name.is_empty() {
                return self.bind(&pod).await;
            }
            if node_name != self.config.node_name {
                return Ok(Action::Done);
            }
            let outcome = if meta::is_being_deleted(&pod) {
                self.stop(&key, &pod).await
            } else {
                self.sync_status(&key, &pod).await
            };
            match outcome {
                Err(status) if status.code == 409 => continue, // lost a race: read again
                other => return other,
            }
        }
        Err(Status::conflict("pods", "", &key.name, "the pod kept changing under the node agent; retrying"))
    }

    /// Schedules a pod on this node: the binding's write wakes the pod's key again.
    async fn bind(&self, pod: &Value) -> Result<Action, Status> {
        if meta::is_being_deleted(pod) {
            return Ok(Action::Done);
        }
        let binding = json!({
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": meta::name(pod), "namespace": meta::namespace(pod), "uid": meta::uid(pod)},
            "target": {"apiVersion": "v1", "kind": "Node", "name": self.config.node_name},
        });
        match self.api.bind_pod(meta::namespace(pod), Some(meta::name(pod)), binding).await {
            Ok(_) => Ok(Action::Done),
            // Someone else bound it, or it is going away: its next change says what to do.
            Err(status) if status.code == 409 => Ok(Action::Done),
            Err(status) => Err(status),
        }
    }

    /// Writes the status the simulation gives for now; asks to come back at its next event.
    async fn sync_status(&self, key: &ObjectKey, pod: &Value) -> Result<Action, Status> {
        let now = self.now_seconds();
        let start = pod
            .pointer("/status/startTime")
            .and_then(Value::as_str)
            .and_then(meta::parse_time)
            .map_or(now, seconds_of)
            .min(now);
        let ip = match pod.pointer("/status/podIP").and_then(Value::as_str).and_then(|ip| ip.parse().ok()) {
            Some(ip) => {
                self.ips.lock().hold(key.clone(), meta::uid(pod), ip);
                ip
            }
            None => self
                .ips
                .lock()
                .allocate(key, meta::uid(pod))
                .ok_or_else(|| Status::internal("the pod network 10.244.0.0/16 has no free address"))?,
        };
        let (status, next_event) = self.desired_status(pod, start, now, ip, None);
        self.write_status(pod, status).await?;
        Ok(next_event.map_or(Action::Done, |at| Action::RequeueAt(time_at(at))))
    }

    /// Stops a pod being deleted: once its processes have exited (at most its grace period after
    /// the delete), shows its containers terminated and deletes it for good.
    async fn stop(&self, key: &ObjectKey, pod: &Value) -> Result<Action, Status> {
        let now = self.now_seconds();
        let grace = pod.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(0).max(0);
        let deadline = pod
            .pointer("/metadata/deletionTimestamp")
            .and_then(Value::as_str)
            .and_then(meta::parse_time)
            .map_or(now, seconds_of);
        let requested = deadline.saturating_sub(grace as u64);
        let slowest = self.containers(pod).iter().map(|(_, profile, _)| profile.stop_seconds).max().unwrap_or(0);
        let stopped_at = requested + slowest.min(grace as u64);
        if now < stopped_at {
            return Ok(Action::RequeueAt(time_at(stopped_at)));
        }
        let phase = text(pod, "/status/phase");
        if pod.pointer("/status/startTime").is_some() && !matches!(phase, "Succeeded" | "Failed") {
            let start = pod
                .pointer("/status/startTime")
                .and_then(Value::as_str)
                .and_then(meta::parse_time)
                .map_or(stopped_at, seconds_of)
                .min(stopped_at);
            let ip = pod
                .pointer("/status/podIP")
                .and_then(Value::as_str)
                .and_then(|ip| ip.parse().ok())
                .unwrap_or(Ipv4Addr::UNSPECIFIED);
            let (status, _) = self.desired_status(pod, start, stopped_at, ip, Some(stopped_at));
            self.write_status(pod, status).await?;
        }
        let options = DeleteOptions {
            precondition_uid: Some(meta::uid(pod).to_string()),
            grace_period_seconds: Some(0),
            ..DeleteOptions::default()
        };
        match self.api.delete(pods(), &key.namespace, &key.name, &options).await {
            Ok(_) => {}
            Err(status) if status.code == 404 => {}
            Err(status) => return Err(status),
        }
        self.ips.lock().release(key);
        Ok(Action::Done)
    }

    /// The pod's containers with their profiles and readiness probes.
    fn containers(&self, pod: &Value) -> Vec<(Value, profiles::Profile, Option<Probe>)> {
        let annotations: Vec<(String, String)> = pod
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .map(|a| a.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
            .unwrap_or_default();
        pod.pointer("/spec/containers")
            .and_then(Value::as_array)
            .map(|containers| {
                containers
                    .iter()
                    .map(|container| {
                        let profile = self
                            .config
                            .profiles
                            .for_image(text(container, "/image"))
                            .with_annotations(annotations.iter().map(|(k, v)| (k, v)));
                        (container.clone(), profile, readiness_probe(container))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The status a kubelet would report at `now` for a pod whose containers started at
    /// `start`; with `stopped_at`, the containers were stopped then. Also the time of the next
    /// simulated event, if any.
    fn desired_status(
        &self,
        pod: &Value,
        start: u64,
        now: u64,
        ip: Ipv4Addr,
        stopped_at: Option<u64>,
    ) -> (Value, Option<u64>) {
        let policy = match text(pod, "/spec/restartPolicy") {
            "Never" => RestartPolicy::Never,
            "OnFailure" => RestartPolicy::OnFailure,
            _ => RestartPolicy::Always,
        };
        let containers = self.containers(pod);
        let timelines: Vec<Timeline> =
            containers.iter().map(|(_, profile, probe)| sim::simulate(profile, *probe, policy, start, now)).collect();
        let statuses: Vec<Value> = containers
            .iter()
            .zip(&timelines)
            .map(|((container, _, _), timeline)| container_status(pod, container, timeline, stopped_at))
            .collect();
        let all_done = stopped_at.is_some() || timelines.iter().all(|t| t.state == State::Terminated);
        let phase = if all_done {
            let failed = timelines.iter().any(|t| t.last_exit.as_ref().is_some_and(|exit| exit.exit_code != 0));
            if failed { "Failed" } else { "Succeeded" }
        } else {
            "Running"
        };
        let ready = stopped_at.is_none() && timelines.iter().all(|t| t.ready);
        let ready_since = match stopped_at {
            Some(at) => at,
            None => last_change_of_all(&timelines, start),
        };
        let unready: Vec<&str> = containers
            .iter()
            .zip(&statuses)
            .filter(|(_, status)| status.get("ready") != Some(&Value::Bool(true)))
            .map(|((container, _, _), _)| text(container, "/name"))
            .collect();
        let readiness = |kind: &str| {
            let mut condition = json!({"type": kind, "status": if ready { "True" } else { "False" },
                "lastProbeTime": null, "lastTransitionTime": format_seconds(ready_since)});
            if !ready {
                let reason = if phase == "Running" { "ContainersNotReady" } else { "PodCompleted" };
                condition["reason"] = reason.into();
                if phase == "Running" {
                    condition["message"] = format!("containers with unready status: [{}]", unready.join(" ")).into();
                }
            }
            condition
        };
        let since_start = format_seconds(start);
        let mut conditions = vec![
            json!({"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null,
                "lastTransitionTime": since_start}),
            json!({"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": since_start}),
            readiness("Ready"),
            readiness("ContainersReady"),
        ];
        let existing = pod.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
        // Conditions the kubelet does not own (PodScheduled, readiness gates' own) stay as they are.
        let ours = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"];
        conditions.extend(existing.into_iter().filter(|c| !ours.contains(&text(c, "/type"))));

        let mut status = pod.get("status").and_then(Value::as_object).cloned().unwrap_or_else(Map::new);
        status.insert("phase".into(), phase.into());
        status.insert("conditions".into(), conditions.into());
        let host_ip = self.config.node_ip.to_string();
        status.insert("hostIP".into(), host_ip.clone().into());
        status.insert("hostIPs".into(), json!([{"ip": host_ip}]));
        if !ip.is_unspecified() {
            status.insert("podIP".into(), ip.to_string().into());
            status.insert("podIPs".into(), json!([{"ip": ip.to_string()}]));
        }
        status.insert("startTime".into(), since_start.clone());
        status.insert("qosClass".into(), qos_class(pod).into());
        status.insert("containerStatuses".into(), statuses.into());
        if let Some(init) = pod.pointer("/spec/initContainers").and_then(Value::as_array) {
            // Init containers are not simulated: each ran to completion as the pod started.
            let init_statuses: Vec<Value> = init
                .iter()
                .map(|container| {
                    let image = text(container, "/image");
                    json!({"name": text(container, "/name"), "image": image, "imageID": image_id(image),
                        "containerID": container_id(pod, text(container, "/name"), 0), "ready": true,
                        "started": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0,
                        "reason": "Completed", "startedAt": since_start, "finishedAt": since_start,
                        "containerID": container_id(pod, text(container, "/name"), 0)}}, "lastState": {}})
                })
                .collect();
            status.insert("initContainerStatuses".into(), init_statuses.into());
        }
        let next_event = if all_done { None } else { timelines.iter().filter_map(|t| t.next_event).min() };
        (Value::Object(status), next_event)
    }

    /// Replaces the pod's status, with its resourceVersion as a precondition (409 when the pod
    /// changed meanwhile); nothing when it is already so.
    async fn write_status(&self, pod: &Value, status: Value) -> Result<(), Status> {
        if pod.get("status") == Some(&status) {
            return Ok(());
        }
        let mut body = pod.clone();
        body["status"] = status;
        self.api
            .update(pods(), meta::namespace(pod), meta::name(pod), Subresource::Status, body, &write_options())
            .await
            .map(drop)
    }
}

/// When the AND of the containers' readiness last changed (their start if it never did).
fn last_change_of_all(timelines: &[Timeline], start: u64) -> u64 {
    let mut times: Vec<u64> = timelines.iter().flat_map(|t| t.transitions.iter().map(|(at, _)| *at)).collect();
    times.sort_unstable();
    times.dedup();
    let ready_at = |at: u64| {
        timelines
            .iter()
            .all(|t| t.transitions.iter().take_while(|(when, _)| *when <= at).last().is_some_and(|(_, ready)| *ready))
    };
    let (mut previous, mut since) = (false, start);
    for at in times {
        let now_ready = ready_at(at);
        if now_ready != previous {
            previous = now_ready;
            since = at;
        }
    }
    since
}

fn readiness_probe(container: &Value) -> Option<Probe> {
    let probe = container.get("readinessProbe").filter(|p| p.is_object())?;
    let number = |field: &str, default: u64| probe.get(field).and_then(Value::as_u64).unwrap_or(default);
    let defaults = Probe::default();
    Some(Probe {
        initial_delay_seconds: number("initialDelaySeconds", defaults.initial_delay_seconds),
        period_seconds: number("periodSeconds", defaults.period_seconds).max(1),
        failure_threshold: number("failureThreshold", u64::from(defaults.failure_threshold)).max(1) as u32,
        success_threshold: number("successThreshold", u64::from(defaults.success_threshold)).max(1) as u32,
    })
}

fn image_id(image: &str) -> String {
    let repository = image.split(['@']).next().unwrap_or(image);
    let repository = match repository.rfind(':') {
        Some(colon) if !repository[colon..].contains('/') => &repository[..colon],
        _ => repository,
    };
    format!("{repository}@sha256:{}", hex_digest(image))
}

fn container_id(pod: &Value, container: &str, instance: u32) -> String {
    format!("bosun://{}", hex_digest(&format!("{}/{container}/{instance}", meta::uid(pod))))
}

fn terminated(pod: &Value, name: &str, instance: u32, exit: &sim::Exit) -> Value {
    json!({
        "exitCode": exit.exit_code,
        "reason": if exit.exit_code == 0 { "Completed" } else { "Error" },
        "startedAt": format_seconds(exit.started),
        "finishedAt": format_seconds(exit.finished),
        "containerID": container_id(pod, name, instance),
    })
}

fn container_status(pod: &Value, container: &Value, timeline: &Timeline, stopped_at: Option<u64>) -> Value {
    let name = text(container, "/name");
    let image = text(container, "/image");
    let restarts = timeline.restart_count;
    let last_exit = |instance: u32| timeline.last_exit.as_ref().map(|exit| terminated(pod, name, instance, exit));
    let (state, last_state, ready, started) = match (&timeline.state, stopped_at) {
        (State::Running { started }, Some(stopped)) => {
            let exit = sim::Exit { started: *started, finished: stopped, exit_code: 0 };
            let last = if restarts > 0 { last_exit(restarts - 1) } else { None };
            (json!({"terminated": terminated(pod, name, restarts, &exit)}), last, false, false)
        }
        (State::Running { started }, None) => {
            let last = if restarts > 0 { last_exit(restarts - 1) } else { None };
            (json!({"running": {"startedAt": format_seconds(*started)}}), last, timeline.ready, true)
        }
        (State::BackOff { restart_at }, _) => {
            let waited = restart_at.saturating_sub(timeline.last_exit.as_ref().map_or(*restart_at, |e| e.finished));
            let message = format!(
                "back-off {waited}s restarting failed container={name} pod={}_{}({})",
                meta::name(pod),
                meta::namespace(pod),
                meta::uid(pod)
            );
            let waiting = json!({"waiting": {"reason": "CrashLoopBackOff", "message": message}});
            (waiting, last_exit(restarts.saturating_sub(1)), false, false)
        }
        (State::Terminated, _) => {
            let state = last_exit(restarts).map(|t| json!({"terminated": t})).unwrap_or_else(|| json!({}));
            (state, None, false, false)
        }
    };
    let mut status = json!({
        "name": name,
        "image": image,
        "imageID": image_id(image),
        "containerID": container_id(pod, name, restarts),
        "ready": ready,
        "started": started,
        "restartCount": restarts,
        "state": state,
        "lastState": last_state.map(|t| json!({"terminated": t})).unwrap_or_else(|| json!({})),
    });
    if let Some(mounts) = container.get("volumeMounts").and_then(Value::as_array) {
        let mounts: Vec<Value> = mounts
            .iter()
            .map(|m| {
                json!({"name": m.get("name"), "mountPath": m.get("mountPath"),
                "readOnly": m.get("readOnly").and_then(Value::as_bool).unwrap_or(false)})
            })
            .collect();
        status["volumeMounts"] = mounts.into();
    }
    status
}

/// Upstream's QoS class: Guaranteed when every container's cpu and memory limits equal its
/// requests, BestEffort when no container asks for any, Burstable otherwise.
fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = ["/spec/containers", "/spec/initContainers"]
        .iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
        .flatten()
        .collect();
    let resources =
        |c: &Value, kind: &str| c.pointer(&format!("/resources/{kind}")).and_then(Value::as_object).cloned();
    let any = containers.iter().any(|c| {
        resources(c, "requests").is_some_and(|r| !r.is_empty()) || resources(c, "limits").is_some_and(|r| !r.is_empty())
    });
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let limits = resources(c, "limits").unwrap_or_default();
        let requests = resources(c, "requests").unwrap_or_default();
        ["cpu", "memory"]
            .iter()
            .all(|r| limits.get(*r).is_some() && requests.get(*r).is_none_or(|request| Some(request) == limits.get(*r)))
    });
    if guaranteed { "Guaranteed" } else { "Burstable" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_continue_after_the_highest_held_and_are_unique() {
        let mut ips = IpAllocator::default();
        ips.hold(ObjectKey::new("a", "old"), "u0", Ipv4Addr::new(10, 244, 0, 9));
        let first = ips.allocate(&ObjectKey::new("a", "p1"), "u1").unwrap();
        assert_eq!(first, Ipv4Addr::new(10, 244, 0, 10));
        assert_eq!(ips.allocate(&ObjectKey::new("a", "p1"), "u1"), Some(first), "stable for the same pod");
        let recreated = ips.allocate(&ObjectKey::new("a", "p1"), "u2").unwrap();
        assert_ne!(recreated, first, "a new pod of the same name gets a new address");
        ips.release(&ObjectKey::new("a", "old"));
        let next = ips.allocate(&ObjectKey::new("a", "p2"), "u3").unwrap();
        assert_eq!(next, Ipv4Addr::new(10, 244, 0, 12), "released addresses are not reused at once");
    }

    #[test]
    fn qos_classes_follow_requests_and_limits() {
        let pod = |resources: Value| json!({"spec": {"containers": [{"name": "c", "resources": resources}]}});
        assert_eq!(qos_class(&pod(json!({}))), "BestEffort");
        assert_eq!(qos_class(&pod(json!({"requests": {"cpu": "1"}}))), "Burstable");
        assert_eq!(qos_class(&pod(json!({"limits": {"cpu": "1", "memory": "1Gi"}}))), "Guaranteed");
    }

    #[test]
    fn the_pods_readiness_changes_when_the_last_container_changes() {
        let timeline = |transitions: Vec<(u64, bool)>| Timeline {
            state: State::Running { started: 0 },
            ready: transitions.last().is_some_and(|t| t.1),
            transitions,
            last_exit: None,
            restart_count: 0,
            next_event: None,
        };
        let a = timeline(vec![(10, true)]);
        let b = timeline(vec![(15, true), (30, false), (40, true)]);
        assert_eq!(last_change_of_all(&[a.clone(), b], 5), 40);
        assert_eq!(last_change_of_all(&[timeline(vec![])], 5), 5);
        assert_eq!(last_change_of_all(&[a], 5), 10);
    }
}
