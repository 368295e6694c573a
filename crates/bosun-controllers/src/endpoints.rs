//! The endpoints and EndpointSlice controllers (upstream runs them apart; here one reconcile
//! writes both from the same pods): for every Service with a selector, the `Endpoints` object of
//! the same name and the Service's `EndpointSlice`s list the matching pods' addresses, so a
//! switch of the selector (blue-green) or a canary pod shows in `kubectl get endpoints`.
//!
//! - Endpoints: ready pods' IPs in `addresses`, unready ones in `notReadyAddresses`; terminating
//!   and terminal pods and pods without an IP are left out. Pods are grouped into subsets by the
//!   ports their container port names resolve to.
//! - EndpointSlices (`<service>-xxxxx`, labelled `kubernetes.io/service-name` and managed by
//!   `endpointslice-controller.k8s.io`, owned by the Service): one per port set, every endpoint
//!   with its `ready`/`serving`/`terminating` conditions; terminating pods stay listed, not
//!   ready, as upstream. A Service with no endpoints keeps one empty slice.
//!
//! Services without a selector (or with an empty one) are left alone: their endpoints are the
//! user's. When a Service goes, its Endpoints is deleted; its slices go with the garbage
//! collector (they are owned by it).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bosun_api::api::{Api, DeleteOptions, ListParams, Subresource, WriteOptions};
use bosun_api::meta;
use bosun_api::registry::{self, ResourceType};
use bosun_api::status::Status;
use k8s_openapi::api::core::v1::{Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use crate::runtime::informer::{Change, Informer};
use crate::runtime::queue::WorkQueue;
use crate::runtime::shared::SharedInformers;
use crate::runtime::{Action, ObjectKey, WorkerConfig, run_workers};

/// The `endpointslice.kubernetes.io/managed-by` value of the slices this controller owns.
pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
/// The label naming a slice's Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Endpoints per slice, as upstream's default `--max-endpoints-per-slice`.
const ENDPOINTS_PER_SLICE_MAX: usize = 100;

fn rt(group: &str, plural: &str) -> &'static ResourceType {
    registry::find(group, "v1", plural).expect("a registered type")
}

fn write_options() -> WriteOptions {
    WriteOptions { field_manager: Some("endpoint-controller".into()), ..WriteOptions::default() }
}

/// Starts the controller: its handlers go on `informers` (start them afterwards).
pub fn start(api: &Api, informers: &SharedInformers) {
    let queue = WorkQueue::new(Arc::clone(api.clock()));
    let services = informers.get::<Service>();
    let pods = informers.get::<Pod>();
    {
        let queue = Arc::clone(&queue);
        services.on_change(move |change| {
            let service = match change {
                Change::Added(s) | Change::Deleted(s) => s,
                Change::Updated { new, .. } => new,
            };
            queue.add(ObjectKey::of(&service.metadata));
        });
    }
    {
        let queue = Arc::clone(&queue);
        let services = services.clone();
        pods.on_change(move |change| {
            let (old, new) = match change {
                Change::Added(pod) => (None, Some(pod)),
                Change::Updated { old, new } => (Some(old), Some(new)),
                Change::Deleted(pod) => (Some(pod), None),
            };
            let namespace = new.or(old).and_then(|p| p.metadata.namespace.clone()).unwrap_or_default();
            for service in services.list(Some(&namespace)) {
                let Some(selector) = selector_of(&service) else { continue };
                if [old, new].into_iter().flatten().any(|pod| selects(selector, pod)) {
                    queue.add(ObjectKey::of(&service.metadata));
                }
            }
        });
    }
    let controller = Arc::new(Controller { api: api.clone(), services, pods });
    tokio::spawn(async move {
        controller.services.wait_synced().await;
        controller.pods.wait_synced().await;
        let config = WorkerConfig { name: "endpoints", workers: 2, retries_max: None };
        let store = controller.api.store().clone();
        run_workers(&store, queue, config, move |key| Arc::clone(&controller).reconcile(key)).await;
    });
}

/// The Service's selector, when it has a non-empty one.
fn selector_of(service: &Service) -> Option<&BTreeMap<String, String>> {
    service.spec.as_ref()?.selector.as_ref().filter(|selector| !selector.is_empty())
}

fn selects(selector: &BTreeMap<String, String>, pod: &Pod) -> bool {
    let labels = pod.metadata.labels.as_ref();
    selector.iter().all(|(key, value)| labels.and_then(|l| l.get(key)) == Some(value))
}

fn is_ready(pod: &Pod) -> bool {
    let conditions = pod.status.as_ref().and_then(|s| s.conditions.as_ref());
    conditions.is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// One resolved port of an endpoint: (name, port, protocol, appProtocol).
type Port = (String, i32, String, Option<String>);

/// The Service's ports as they land on `pod`: a named target port is looked up among the pod's
/// container ports (a port the pod does not name is left out for that pod, as upstream).
fn resolve_ports(service_ports: &[ServicePort], pod: &Pod) -> Vec<Port> {
    let mut ports = Vec::new();
    for port in service_ports {
        let protocol = port.protocol.clone().unwrap_or_else(|| "TCP".into());
        let number = match &port.target_port {
            None => Some(port.port),
            Some(IntOrString::Int(number)) => Some(*number),
            Some(IntOrString::String(name)) => name.parse::<i32>().ok().or_else(|| {
                pod.spec.as_ref()?.containers.iter().flat_map(|c| c.ports.iter().flatten()).find_map(|p| {
                    let same_protocol = p.protocol.as_deref().unwrap_or("TCP") == protocol;
                    (p.name.as_deref() == Some(name.as_str()) && same_protocol).then_some(p.container_port)
                })
            }),
        };
        if let Some(number) = number {
            ports.push((port.name.clone().unwrap_or_default(), number, protocol, port.app_protocol.clone()));
        }
    }
    ports
}

fn port_json(port: &Port, slice: bool) -> Value {
    let (name, number, protocol, app_protocol) = port;
    let mut value = json!({"port": number, "protocol": protocol});
    if slice || !name.is_empty() {
        value["name"] = name.clone().into();
    }
    if let Some(app_protocol) = app_protocol {
        value["appProtocol"] = app_protocol.clone().into();
    }
    value
}

/// A pod that backs a Service.
struct Member {
    ip: String,
    ready: bool,
    terminating: bool,
    node_name: Option<String>,
    target_ref: Value,
}

struct Controller {
    api: Api,
    services: Informer<Service>,
    pods: Informer<Pod>,
}

impl Controller {
    async fn reconcile(self: Arc<Self>, key: ObjectKey) -> Result<Action, Status> {
        let endpoints = rt("", "endpoints");
        let Some(service) = self.services.get(&key.namespace, &key.name) else {
            // The Service is gone: so is its Endpoints (its slices follow it by ownership).
            return match self.api.delete(endpoints, &key.namespace, &key.name, &DeleteOptions::default()).await {
                Ok(_) => Ok(Action::Done),
                Err(status) if status.code == 404 => Ok(Action::Done),
                Err(status) => Err(status),
            };
        };
        let Some(selector) = selector_of(&service) else { return Ok(Action::Done) };
        if service.metadata.deletion_timestamp.is_some() {
            return Ok(Action::Done);
        }
        let service_ports = service.spec.as_ref().and_then(|s| s.ports.clone()).unwrap_or_default();
        // Members grouped by the ports they resolve to; ordered, so writes are deterministic.
        let mut groups: BTreeMap<Vec<Port>, Vec<Member>> = BTreeMap::new();
        for pod in self.pods.list(Some(&key.namespace)) {
            if !selects(selector, &pod) {
                continue;
            }
            let status = pod.status.as_ref();
            let Some(ip) = status.and_then(|s| s.pod_ip.clone()).filter(|ip| !ip.is_empty()) else { continue };
            if matches!(status.and_then(|s| s.phase.as_deref()), Some("Succeeded") | Some("Failed")) {
                continue;
            }
            let ports = resolve_ports(&service_ports, &pod);
            if ports.is_empty() && !service_ports.is_empty() {
                continue;
            }
            let member = Member {
                ip,
                ready: is_ready(&pod),
                terminating: pod.metadata.deletion_timestamp.is_some(),
                node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
                target_ref: json!({"kind": "Pod", "namespace": key.namespace, "name": pod.metadata.name,
                    "uid": pod.metadata.uid}),
            };
            groups.entry(ports).or_default().push(member);
        }
        for members in groups.values_mut() {
            members.sort_by(|a, b| {
                let parse = |ip: &str| ip.parse::<std::net::Ipv4Addr>().ok();
                parse(&a.ip).cmp(&parse(&b.ip)).then_with(|| a.ip.cmp(&b.ip))
            });
        }
        let mut labels = service.metadata.labels.clone().unwrap_or_default();
        let headless = service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None");
        if headless {
            labels.insert("service.kubernetes.io/headless".into(), String::new());
        }
        self.write_endpoints(&key, &labels, &groups).await?;
        labels.remove("service.kubernetes.io/headless");
        self.write_slices(&key, &service, labels, &groups).await?;
        Ok(Action::Done)
    }

    async fn write_endpoints(
        &self,
        key: &ObjectKey,
        labels: &BTreeMap<String, String>,
        groups: &BTreeMap<Vec<Port>, Vec<Member>>,
    ) -> Result<(), Status> {
        let endpoints = rt("", "endpoints");
        let address = |member: &Member| {
            let mut address = json!({"ip": member.ip, "targetRef": member.target_ref});
            if let Some(node) = &member.node_name {
                address["nodeName"] = node.clone().into();
            }
            address
        };
        let subsets: Vec<Value> = groups
            .iter()
            .filter_map(|(ports, members)| {
                let live = members.iter().filter(|m| !m.terminating);
                let (ready, unready): (Vec<&Member>, Vec<&Member>) = live.partition(|m| m.ready);
                if ready.is_empty() && unready.is_empty() {
                    return None;
                }
                let mut subset = json!({});
                if !ready.is_empty() {
                    subset["addresses"] = ready.into_iter().map(address).collect::<Vec<_>>().into();
                }
                if !unready.is_empty() {
                    subset["notReadyAddresses"] = unready.into_iter().map(address).collect::<Vec<_>>().into();
                }
                if !ports.is_empty() {
                    subset["ports"] = ports.iter().map(|p| port_json(p, false)).collect::<Vec<_>>().into();
                }
                Some(subset)
            })
            .collect();
        let apply = |object: &mut Value| {
            meta::metadata_mut(object).insert("labels".into(), json!(labels));
            match object.as_object_mut() {
                Some(fields) if subsets.is_empty() => {
                    fields.remove("subsets");
                }
                Some(fields) => {
                    fields.insert("subsets".into(), subsets.clone().into());
                }
                None => {}
            }
        };
        let options = write_options();
        let result = self
            .api
            .read_modify_write(endpoints, &key.namespace, &key.name, Subresource::Main, &options, |current| {
                let mut next = current.clone();
                apply(&mut next);
                Ok(next)
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(status) if status.code == 404 => {
                let mut body = json!({"apiVersion": "v1", "kind": "Endpoints",
                    "metadata": {"name": key.name, "namespace": key.namespace}});
                apply(&mut body);
                // A 409 (created meanwhile) fails the reconcile, whose retry updates it instead.
                self.api.create(endpoints, &key.namespace, body, &write_options()).await.map(drop)
            }
            Err(status) => Err(status),
        }
    }

    async fn write_slices(
        &self,
        key: &ObjectKey,
        service: &Service,
        mut labels: BTreeMap<String, String>,
        groups: &BTreeMap<Vec<Port>, Vec<Member>>,
    ) -> Result<(), Status> {
        let slices = rt("discovery.k8s.io", "endpointslices");
        labels.insert(SERVICE_NAME_LABEL.into(), key.name.clone());
        labels.insert("endpointslice.kubernetes.io/managed-by".into(), MANAGED_BY.into());
        let endpoint = |member: &Member| {
            let mut endpoint = json!({
                "addresses": [member.ip],
                "conditions": {
                    "ready": member.ready && !member.terminating,
                    "serving": member.ready,
                    "terminating": member.terminating,
                },
                "targetRef": member.target_ref,
            });
            if let Some(node) = &member.node_name {
                endpoint["nodeName"] = node.clone().into();
            }
            endpoint
        };
        let mut desired: Vec<(Value, Vec<Value>)> = Vec::new();
        for (ports, members) in groups {
            let ports: Value = ports.iter().map(|p| port_json(p, true)).collect::<Vec<_>>().into();
            for chunk in members.chunks(ENDPOINTS_PER_SLICE_MAX) {
                desired.push((ports.clone(), chunk.iter().map(endpoint).collect()));
            }
        }
        if desired.is_empty() {
            desired.push((Value::Null, Vec::new()));
        }
        let service_uid = service.metadata.uid.clone().unwrap_or_default();
        let mine = |slice: &Value| {
            let labels = meta::labels(slice);
            labels.get(SERVICE_NAME_LABEL).and_then(Value::as_str) == Some(key.name.as_str())
                && labels.get("endpointslice.kubernetes.io/managed-by").and_then(Value::as_str) == Some(MANAGED_BY)
        };
        let list = self.api.list(slices, Some(&key.namespace), &ListParams::default(), &mine).await?;
        let mut existing: Vec<Value> =
            list.items.iter().filter_map(|bytes| serde_json::from_slice::<Value>(bytes).ok()).collect();
        existing.sort_by(|a, b| meta::name(a).cmp(meta::name(b)));
        let owner = json!([{"apiVersion": "v1", "kind": "Service", "name": key.name, "uid": service_uid,
            "controller": true, "blockOwnerDeletion": true}]);
        let apply = |object: &mut Value, ports: &Value, endpoints: &[Value]| {
            let object_meta = meta::metadata_mut(object);
            object_meta.insert("labels".into(), json!(labels));
            object_meta.insert("ownerReferences".into(), owner.clone());
            object["addressType"] = "IPv4".into();
            object["endpoints"] = endpoints.to_vec().into();
            match object.as_object_mut() {
                Some(fields) if ports.is_null() => {
                    fields.remove("ports");
                }
                Some(fields) => {
                    fields.insert("ports".into(), ports.clone());
                }
                None => {}
            }
        };
        let mut taken = BTreeSet::new();
        for (index, (ports, endpoints)) in desired.iter().enumerate() {
            match existing.get(index) {
                Some(slice) => {
                    taken.insert(meta::name(slice).to_string());
                    self.api
                        .read_modify_write(
                            slices,
                            &key.namespace,
                            meta::name(slice),
                            Subresource::Main,
                            &write_options(),
                            |current| {
                                let mut next = current.clone();
                                apply(&mut next, ports, endpoints);
                                Ok(next)
                            },
                        )
                        .await?;
                }
                None => {
                    let mut body = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                        "metadata": {"generateName": format!("{}-", key.name), "namespace": key.namespace}});
                    apply(&mut body, ports, endpoints);
                    self.api.create(slices, &key.namespace, body, &write_options()).await?;
                }
            }
        }
        for slice in existing.iter().filter(|slice| !taken.contains(meta::name(slice))) {
            match self.api.delete(slices, &key.namespace, meta::name(slice), &DeleteOptions::default()).await {
                Ok(_) => {}
                Err(status) if status.code == 404 => {}
                Err(status) => return Err(status),
            }
        }
        Ok(())
    }
}
