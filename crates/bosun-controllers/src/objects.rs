//! Small readings of typed objects that several controllers share: controller references, label
//! selectors, pod readiness and availability, times.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use bosun_api::selector::LabelSelector;
use bosun_api::status::Status;
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{self as meta, ObjectMeta, OwnerReference, Time};
use serde_json::{Value, json};

/// The single owner reference with `controller: true`, if any.
pub fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references.as_ref()?.iter().find(|r| r.controller == Some(true))
}

/// A controller reference to an owner, as both workload controllers write them.
pub fn owner_reference(api_version: &str, kind: &str, owner: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: owner.name.clone().unwrap_or_default(),
        uid: owner.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// A typed label selector as Bosun's selector; a missing selector matches nothing, `{}`
/// everything, and an invalid one is `None`.
pub fn selector(selector: Option<&meta::LabelSelector>) -> Option<LabelSelector> {
    let value = selector.map(|s| serde_json::to_value(s).expect("a selector serializes"));
    LabelSelector::from_json(value.as_ref()).ok()
}

/// Whether `selector` matches `labels`.
pub fn matches(selector: &LabelSelector, labels: Option<&BTreeMap<String, String>>) -> bool {
    match labels {
        Some(labels) => selector.matches_with(|key| labels.get(key).map(String::as_str)),
        None => selector.matches_with(|_| None),
    }
}

/// The metadata's uid, or "".
pub fn uid(meta: &ObjectMeta) -> &str {
    meta.uid.as_deref().unwrap_or_default()
}

/// The metadata's name, or "".
pub fn name(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or_default()
}

/// A Kubernetes time as a `SystemTime`.
pub fn system_time(time: &Time) -> SystemTime {
    let millis = time.0.as_millisecond();
    if millis <= 0 { SystemTime::UNIX_EPOCH } else { SystemTime::UNIX_EPOCH + Duration::from_millis(millis as u64) }
}

/// A `SystemTime` as a Kubernetes time (whole seconds, as the API serializes them).
pub fn time(at: SystemTime) -> Time {
    let seconds = at.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Time(k8s_openapi::jiff::Timestamp::from_second(seconds as i64).expect("a time this century is in range"))
}

/// The creation time (the epoch when missing, which sorts first).
pub fn created(meta: &ObjectMeta) -> SystemTime {
    meta.creation_timestamp.as_ref().map_or(SystemTime::UNIX_EPOCH, system_time)
}

/// Whether a pod counts toward its ReplicaSet: not terminal, not being deleted.
pub fn is_pod_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    pod.metadata.deletion_timestamp.is_none() && !matches!(phase, Some("Succeeded") | Some("Failed"))
}

/// When the pod's `Ready` condition turned `True`, if it is Ready (the epoch when the time is
/// missing).
pub fn ready_since(pod: &Pod) -> Option<SystemTime> {
    let conditions = pod.status.as_ref()?.conditions.as_ref()?;
    let ready = conditions.iter().find(|c| c.type_ == "Ready" && c.status == "True")?;
    Some(ready.last_transition_time.as_ref().map_or(SystemTime::UNIX_EPOCH, system_time))
}

/// Whether the pod is Ready.
pub fn is_pod_ready(pod: &Pod) -> bool {
    ready_since(pod).is_some()
}

/// Whether the pod is available: Ready for more than `min_ready_seconds` by `now`.
pub fn is_pod_available(pod: &Pod, min_ready_seconds: i32, now: SystemTime) -> bool {
    match ready_since(pod) {
        None => false,
        Some(_) if min_ready_seconds <= 0 => true,
        Some(since) => since != SystemTime::UNIX_EPOCH && since + Duration::from_secs(min_ready_seconds as u64) < now,
    }
}

/// The pod a workload controller creates from its template: the template's labels, annotations,
/// finalizers and spec, `generateName: <owner>-`, and the controller reference `owner`.
pub fn pod_for(template: Option<&PodTemplateSpec>, owner: OwnerReference) -> Result<Value, Status> {
    let template = serde_json::to_value(template).expect("a template serializes");
    let labels = template.pointer("/metadata/labels").cloned().unwrap_or(Value::Null);
    if labels.as_object().is_none_or(|labels| labels.is_empty()) {
        return Err(Status::failure(422, "Invalid", "unable to create pods, no labels"));
    }
    let generate_name = format!("{}-", owner.name);
    let reference = serde_json::to_value(owner).expect("a reference serializes");
    let mut metadata = json!({"generateName": generate_name, "labels": labels, "ownerReferences": [reference]});
    for field in ["annotations", "finalizers"] {
        if let Some(value) = template.pointer(&format!("/metadata/{field}")) {
            metadata[field] = value.clone();
        }
    }
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": template.get("spec").cloned().unwrap_or_else(|| json!({})),
    }))
}

/// Replaces an object's status through `/status`, unless the object is gone (nothing to report)
/// or was replaced by another of the same name (409: its controller syncs it afresh).
pub async fn replace_status<S: serde::Serialize>(
    api: &bosun_api::api::Api,
    rt: &bosun_api::registry::ResourceType,
    meta: &ObjectMeta,
    status: &S,
    field_manager: &str,
) -> Result<(), Status> {
    let status = serde_json::to_value(status).expect("a status serializes");
    let options = bosun_api::api::WriteOptions {
        field_manager: Some(field_manager.into()),
        ..bosun_api::api::WriteOptions::default()
    };
    let expected_uid = uid(meta).to_string();
    let namespace = meta.namespace.as_deref().unwrap_or_default();
    let result = api
        .read_modify_write(rt, namespace, name(meta), bosun_api::api::Subresource::Status, &options, |current| {
            if bosun_api::meta::uid(current) != expected_uid {
                return Err(Status::failure(409, "Conflict", format!("{} {} was replaced", rt.kind, name(meta))));
            }
            let mut updated = current.clone();
            updated["status"] = status.clone();
            Ok(updated)
        })
        .await;
    match result {
        Err(status) if status.code != 404 => Err(status),
        _ => Ok(()),
    }
}
