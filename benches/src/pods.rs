//! The objects every workload writes: running Pods as the API server would store them, about
//! 1 KiB of JSON each, with distinct names, uids and IPs, spread over a few namespaces.

use std::ops::Range;

use bosun_store::{KeyPrefix, ObjectKey};
use bytes::Bytes;
use uuid::Uuid;

/// One object to create.
pub struct PodObject {
    /// Its key in the store (`core/v1/Pod`, namespace, name).
    pub key: ObjectKey,
    /// The uid in its metadata.
    pub uid: Uuid,
    /// The object's JSON.
    pub manifest: Bytes,
}

const NAMESPACES: [&str; 4] = ["default", "shop", "payments", "monitoring"];
const APPS: [&str; 5] = ["web", "api", "worker", "cache", "gateway"];

/// The prefix of every Pod in the store: what watchers follow and lists read.
pub fn pods_prefix() -> KeyPrefix {
    KeyPrefix::kind("", "v1", "Pod").expect("a constant, valid prefix")
}

/// Pods numbered `indices`: distinct names, so ranges that do not overlap never collide.
pub fn pod_objects(indices: Range<usize>) -> Vec<PodObject> {
    indices.map(pod_object).collect()
}

/// `count` objects split into `writers` disjoint, equal shares (the total is rounded up).
pub fn pod_objects_per_writer(count: usize, writers: usize) -> Vec<Vec<PodObject>> {
    let share = count.div_ceil(writers);
    (0..writers).map(|writer| pod_objects(writer * share..(writer + 1) * share)).collect()
}

/// Pod number `index`.
pub fn pod_object(index: usize) -> PodObject {
    let app = APPS[index % APPS.len()];
    let namespace = NAMESPACES[index % NAMESPACES.len()];
    // Pods of one ReplicaSet share a template hash; 50 replicas per set.
    let template_hash = format!("{:08x}", (index / 50).wrapping_mul(2_654_435_761) & 0xffff_ffff);
    let name = format!("{app}-{template_hash}-{index:06}");
    let uid = Uuid::new_v4();
    let manifest = pod_manifest(index, app, namespace, &name, &template_hash, uid);
    PodObject { key: ObjectKey::new("", "v1", "Pod", namespace, name), uid, manifest: manifest.into() }
}

/// A running Pod as the API server would store it, about 1 KiB of JSON.
fn pod_manifest(index: usize, app: &str, namespace: &str, name: &str, template_hash: &str, uid: Uuid) -> Vec<u8> {
    let started =
        format!("2025-06-{:02}T{:02}:{:02}:{:02}Z", 1 + index % 28, index % 24, index % 60, (index / 60) % 60);
    let pod_ip = format!("10.244.{}.{}", (index / 250) % 250, 2 + index % 250);
    let node = index % 16;
    let image = format!("ghcr.io/acme/{app}:1.{}.{}", index % 7, index % 3);
    serde_json::to_vec(&serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid.to_string(),
            "creationTimestamp": started,
            "labels": { "app": app, "pod-template-hash": template_hash },
            "ownerReferences": [{
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": format!("{app}-{template_hash}"),
                "uid": Uuid::from_u128(index as u128 / 50).to_string(),
                "controller": true
            }]
        },
        "spec": {
            "containers": [{
                "name": app,
                "image": image,
                "ports": [{ "containerPort": 8080, "protocol": "TCP" }],
                "resources": {
                    "requests": { "cpu": "100m", "memory": "128Mi" },
                    "limits": { "cpu": "500m", "memory": "256Mi" }
                }
            }],
            "nodeName": format!("node-{node:02}"),
            "restartPolicy": "Always"
        },
        "status": {
            "phase": "Running",
            "conditions": [
                { "type": "Ready", "status": "True", "lastTransitionTime": started }
            ],
            "podIP": pod_ip,
            "containerStatuses": [{
                "name": app,
                "ready": true,
                "restartCount": 0,
                "image": image,
                "containerID": format!("containerd://{:032x}", uid.as_u128()),
                "state": { "running": { "startedAt": started } }
            }]
        }
    }))
    .expect("a JSON value always serializes")
}
