//! `pods/binding`: how a scheduler (here the node agent) assigns a pod to a node. A pod's
//! `spec.nodeName` cannot be changed by an update, so binding is its own write, as upstream's
//! `BindingREST`: it bypasses the update strategy, sets `spec.nodeName`, adds the binding's
//! annotations and the `PodScheduled` condition, and refuses a pod that is already bound or
//! being deleted (409).

use bosun_store::NewValue;
use serde_json::{Value, json};

use super::{Api, Cas, UPDATE_ATTEMPTS_MAX, key, parse, settle, storage_failure};
use crate::meta;
use crate::registry::{self, ResourceType};
use crate::status::{FieldError, Status};

fn pods() -> &'static ResourceType {
    registry::find("", "v1", "pods").expect("pods are registered")
}

impl Api {
    /// Binds the pod `namespace/name` to the node `binding.target.name` (POST
    /// `pods/{name}/binding`, or POST `bindings` with `url_name` `None`). Answers upstream's
    /// `Success` Status (201 Created).
    pub async fn bind_pod(&self, namespace: &str, url_name: Option<&str>, binding: Value) -> Result<Status, Status> {
        let name = meta::name(&binding).to_string();
        if let Some(url_name) = url_name
            && url_name != name
        {
            return Err(Status::bad_request("name in URL does not match name in Binding object"));
        }
        let target_kind = binding.pointer("/target/kind").and_then(Value::as_str).unwrap_or("");
        let target = binding.pointer("/target/name").and_then(Value::as_str).unwrap_or("").to_string();
        let mut errors = Vec::new();
        if target.is_empty() {
            errors.push(FieldError::required("target.name", ""));
        }
        if !target_kind.is_empty() && target_kind != "Node" {
            errors.push(FieldError::not_supported("target.kind", target_kind, &["Node", "<empty>"]));
        }
        if !errors.is_empty() {
            return Err(Status::invalid("Binding", "", &name, &errors));
        }
        let annotations = binding.pointer("/metadata/annotations").and_then(Value::as_object).cloned();
        let rt = pods();
        let key = key(rt, namespace, &name);
        for _ in 0..UPDATE_ATTEMPTS_MAX {
            let Some(stored) = self.inner.store.get(&key).await.map_err(storage_failure)? else {
                return Err(Status::not_found(rt.plural, rt.group, &name));
            };
            let mut pod = parse(&stored.value)?;
            if let Some(uid) = binding.pointer("/metadata/uid").and_then(Value::as_str).filter(|uid| !uid.is_empty())
                && uid != meta::uid(&pod)
            {
                return Err(Status::conflict(
                    "pods/binding",
                    "",
                    &name,
                    "the UID in the binding does not match the pod",
                ));
            }
            if meta::is_being_deleted(&pod) {
                let why = format!("pod {name} is being deleted, cannot be assigned to a host");
                return Err(Status::conflict("pods/binding", "", &name, &why));
            }
            let bound = pod.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or("");
            if !bound.is_empty() {
                let why = format!("pod {name} is already assigned to node \"{bound}\"");
                return Err(Status::conflict("pods/binding", "", &name, &why));
            }
            pod["spec"]["nodeName"] = target.clone().into();
            if let Some(annotations) = &annotations {
                let object_meta = meta::metadata_mut(&mut pod);
                let existing = object_meta.entry("annotations").or_insert_with(|| json!({}));
                if let Some(existing) = existing.as_object_mut() {
                    existing.extend(annotations.clone());
                }
            }
            set_scheduled(&mut pod, &self.now());
            let stamped = NewValue::stamped(move |revision| meta::stamp_revision(&mut pod, revision));
            match settle(self.inner.store.update(&key, Some(stored.mod_revision), stamped).await, rt, &name)? {
                Cas::Written(_) => {
                    return Ok(Status {
                        status: "Success".into(),
                        message: String::new(),
                        reason: String::new(),
                        details: None,
                        code: 201,
                        continue_token: None,
                    });
                }
                Cas::Retry => continue,
            }
        }
        Err(Status::conflict(rt.plural, rt.group, &name, "too many concurrent writers; retry"))
    }
}

/// Sets the `PodScheduled` condition to True (its transition time moves only when it changes).
fn set_scheduled(pod: &mut Value, now: &str) {
    let status = &mut pod["status"];
    if !status.is_object() {
        *status = json!({});
    }
    let conditions = status.as_object_mut().expect("an object").entry("conditions").or_insert_with(|| json!([]));
    if !conditions.is_array() {
        *conditions = json!([]);
    }
    let conditions = conditions.as_array_mut().expect("an array");
    let scheduled = json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now});
    match conditions.iter_mut().find(|c| c.get("type").and_then(Value::as_str) == Some("PodScheduled")) {
        Some(existing) if existing.get("status").and_then(Value::as_str) == Some("True") => {}
        Some(existing) => *existing = scheduled,
        None => conditions.push(scheduled),
    }
}
