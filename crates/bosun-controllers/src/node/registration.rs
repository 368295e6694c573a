//! The Node object and its Lease: registered at start (again if someone deletes it), Ready, with
//! its conditions' heartbeats and the Lease renewed on the injected clock.

use std::sync::Arc;
use std::time::SystemTime;

use bosun_api::api::Subresource;
use bosun_api::meta;
use bosun_api::registry;
use bosun_api::status::Status;
use serde_json::{Value, json};

use super::{Agent, write_options};

/// Seconds a Lease holds without renewal, as the kubelet.
const LEASE_DURATION_SECONDS: u64 = 40;

fn nodes() -> &'static registry::ResourceType {
    registry::find("", "v1", "nodes").expect("nodes are registered")
}

fn leases() -> &'static registry::ResourceType {
    registry::find("coordination.k8s.io", "v1", "leases").expect("leases are registered")
}

/// The machine's memory in KiB, for the node's capacity (16 GiB when it cannot be read).
fn memory_kib() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(16 * 1024 * 1024)
}

impl Agent {
    /// Registers the node and keeps its heartbeats going until the store closes.
    pub(super) async fn run_node(self: Arc<Self>) {
        let mut last_report: Option<SystemTime> = None;
        loop {
            if self.api.store().is_closed() {
                return;
            }
            let now = self.api.clock().now();
            let report_due = last_report
                .is_none_or(|at| now.duration_since(at).unwrap_or_default() >= self.config.status_report_interval);
            let mut node_uid = None;
            if report_due {
                match self.report_node().await {
                    Ok(uid) => {
                        last_report = Some(now);
                        node_uid = Some(uid);
                    }
                    Err(status) => tracing::warn!(%status.message, "the node agent could not report the node"),
                }
            }
            if let Err(status) = self.renew_lease(node_uid).await {
                tracing::debug!(%status.message, "the node agent could not renew its lease");
            }
            let interval = self.config.lease_renew_interval.min(self.config.status_report_interval);
            tokio::select! {
                _ = self.api.clock().sleep_until(now + interval) => {}
                _ = self.api.store().closed() => return,
            }
        }
    }

    /// Creates the Node if it is missing and writes its status; returns its uid.
    async fn report_node(&self) -> Result<String, Status> {
        let name = &self.config.node_name;
        let node = match self.api.get(nodes(), "", name).await {
            Ok(node) => node,
            Err(status) if status.code == 404 => {
                let body = json!({
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": name,
                        "labels": {
                            "beta.kubernetes.io/arch": "amd64",
                            "beta.kubernetes.io/os": "linux",
                            "kubernetes.io/arch": "amd64",
                            "kubernetes.io/hostname": name,
                            "kubernetes.io/os": "linux",
                        },
                        "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
                    },
                    "spec": {"podCIDR": "10.244.0.0/16", "podCIDRs": ["10.244.0.0/16"]},
                });
                match self.api.create(nodes(), "", body, &write_options()).await {
                    Ok(node) => node,
                    Err(status) if status.code == 409 => self.api.get(nodes(), "", name).await?,
                    Err(status) => return Err(status),
                }
            }
            Err(status) => return Err(status),
        };
        let now = Value::String(meta::format_time(self.api.clock().now()));
        let existing = node.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
        let condition = |kind: &str, status: &str, reason: &str, message: &str| {
            // The transition time stays while the status does.
            let since = existing
                .iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
                .filter(|c| c.get("status").and_then(Value::as_str) == Some(status))
                .and_then(|c| c.get("lastTransitionTime").cloned())
                .unwrap_or_else(|| now.clone());
            json!({"type": kind, "status": status, "reason": reason, "message": message,
                "lastHeartbeatTime": now, "lastTransitionTime": since})
        };
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let capacity = json!({
            "cpu": cpus.to_string(),
            "memory": format!("{}Ki", memory_kib()),
            "pods": "110",
            "ephemeral-storage": "102400000Ki",
        });
        let ip = self.config.node_ip.to_string();
        let uid = meta::uid(&node).to_string();
        let status = json!({
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status (simulated by Bosun)"),
            ],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": &uid.replace('-', "")[..],
                "systemUUID": uid,
                "bootID": uid,
                "kernelVersion": "bosun",
                "osImage": "Bosun virtual node",
                "containerRuntimeVersion": format!("bosun://{}", env!("CARGO_PKG_VERSION")),
                "kubeletVersion": "v1.35.0",
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        });
        let mut body = node.clone();
        body["status"] = status;
        self.api.update(nodes(), "", name, Subresource::Status, body, &write_options()).await?;
        Ok(uid)
    }

    /// Renews (or creates) the node's Lease in `kube-node-lease`.
    async fn renew_lease(&self, node_uid: Option<String>) -> Result<(), Status> {
        let name = &self.config.node_name;
        // MicroTime: six fractional digits.
        let renew = meta::format_time(self.api.clock().now()).replace('Z', ".000000Z");
        let result = self
            .api
            .read_modify_write(leases(), "kube-node-lease", name, Subresource::Main, &write_options(), |lease| {
                let mut lease = lease.clone();
                lease["spec"]["renewTime"] = renew.clone().into();
                lease["spec"]["holderIdentity"] = name.clone().into();
                Ok(lease)
            })
            .await;
        match result {
            Err(status) if status.code == 404 => {
                let mut metadata = json!({"name": name, "namespace": "kube-node-lease"});
                let node_uid = match node_uid {
                    Some(uid) => Some(uid),
                    None => self.api.get(nodes(), "", name).await.ok().map(|n| meta::uid(&n).into()),
                };
                if let Some(uid) = node_uid {
                    metadata["ownerReferences"] =
                        json!([{"apiVersion": "v1", "kind": "Node", "name": name, "uid": uid}]);
                }
                let body = json!({
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": metadata,
                    "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION_SECONDS, "renewTime": renew},
                });
                match self.api.create(leases(), "kube-node-lease", body, &write_options()).await {
                    Ok(_) => Ok(()),
                    Err(status) if status.code == 409 => Ok(()),
                    Err(status) => Err(status),
                }
            }
            other => other.map(drop),
        }
    }
}
