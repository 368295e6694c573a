//! The scale subresource: an `autoscaling/v1` `Scale` view of a workload's `spec.replicas`.

use serde_json::{Value, json};

use crate::api::{Api, Subresource, WriteOptions};
use crate::meta;
use crate::patch::{PatchType, apply_patch};
use crate::registry::ResourceType;
use crate::status::{FieldError, Status};

/// The `Scale` of a workload object.
pub fn scale_of(object: &Value) -> Value {
    let metadata = object.get("metadata").cloned().unwrap_or_default();
    let mut scale_meta = serde_json::Map::new();
    for field in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
        if let Some(value) = metadata.get(field) {
            scale_meta.insert(field.into(), value.clone());
        }
    }
    let mut spec = serde_json::Map::new();
    let replicas = object.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0);
    if replicas != 0 {
        spec.insert("replicas".into(), replicas.into());
    }
    let status_replicas = object.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0);
    let selector = object.pointer("/spec/selector").map(selector_string).unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": spec,
        "status": {"replicas": status_replicas, "selector": selector},
    })
}

/// A `metav1.LabelSelector` in its string form (`app=web,tier in (a,b)`).
pub fn selector_string(selector: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        let mut labels: Vec<_> = labels.iter().collect();
        labels.sort_by(|a, b| a.0.cmp(b.0));
        for (key, value) in labels {
            parts.push(format!("{key}={}", value.as_str().unwrap_or_default()));
        }
    }
    for expression in selector.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
        let key = expression.get("key").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match expression.get("operator").and_then(Value::as_str).unwrap_or_default() {
            "In" => parts.push(format!("{key} in ({})", values.join(","))),
            "NotIn" => parts.push(format!("{key} notin ({})", values.join(","))),
            "Exists" => parts.push(key.to_string()),
            "DoesNotExist" => parts.push(format!("!{key}")),
            _ => {}
        }
    }
    parts.join(",")
}

fn replicas_of(scale: &Value, name: &str) -> Result<i64, Status> {
    let replicas = match scale.pointer("/spec/replicas") {
        None | Some(Value::Null) => 0,
        Some(value) => value.as_i64().ok_or_else(|| {
            Status::invalid(
                "Scale",
                "autoscaling",
                name,
                &[FieldError::invalid("spec.replicas", value.clone(), "must be an integer")],
            )
        })?,
    };
    if replicas < 0 {
        return Err(Status::invalid(
            "Scale",
            "autoscaling",
            name,
            &[FieldError::invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
        ));
    }
    Ok(replicas)
}

impl Api {
    /// GET `.../scale`.
    pub async fn get_scale(&self, rt: &ResourceType, namespace: &str, name: &str) -> Result<Value, Status> {
        self.get(rt, namespace, name).await.map(|object| scale_of(&object))
    }

    /// PUT `.../scale`: sets `spec.replicas`; a resourceVersion in the Scale is a precondition.
    pub async fn update_scale(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        scale: Value,
        options: &WriteOptions,
    ) -> Result<Value, Status> {
        let replicas = replicas_of(&scale, name)?;
        let expected_rv = meta::resource_version(&scale).to_string();
        let updated = self
            .read_modify_write(rt, namespace, name, Subresource::Main, options, |current| {
                if !expected_rv.is_empty() && expected_rv != meta::resource_version(current) {
                    return Err(Status::conflict_modified(rt.plural, rt.group, name));
                }
                let mut next = current.clone();
                next["spec"]["replicas"] = replicas.into();
                Ok(next)
            })
            .await?;
        Ok(scale_of(&updated))
    }

    /// PATCH `.../scale` (kubectl scale sends a merge patch `{"spec":{"replicas":N}}`).
    pub async fn patch_scale(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        patch_type: PatchType,
        patch: Value,
        options: &WriteOptions,
    ) -> Result<Value, Status> {
        let updated = self
            .read_modify_write(rt, namespace, name, Subresource::Main, options, |current| {
                let scale = apply_patch(rt, patch_type, &scale_of(current), &patch)?;
                if meta::resource_version(&scale) != meta::resource_version(current) {
                    return Err(Status::conflict_modified(rt.plural, rt.group, name));
                }
                let mut next = current.clone();
                next["spec"]["replicas"] = replicas_of(&scale, name)?.into();
                Ok(next)
            })
            .await?;
        Ok(scale_of(&updated))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_mirrors_the_parent_and_prints_its_selector() {
        let deployment = json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u", "resourceVersion": "7", "labels": {"x": "y"}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "tier": "a"}, "matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]}]}},
            "status": {"replicas": 2},
        });
        let scale = scale_of(&deployment);
        assert_eq!(scale["spec"]["replicas"], 3);
        assert_eq!(scale["status"]["replicas"], 2);
        assert_eq!(scale["status"]["selector"], "app=web,tier=a,env in (a,b)");
        assert_eq!(scale["metadata"]["resourceVersion"], "7");
        assert!(scale["metadata"].get("labels").is_none());
    }

    #[test]
    fn zero_replicas_are_omitted_from_the_scale_spec() {
        let scale = scale_of(&json!({"metadata": {"name": "web"}, "spec": {"replicas": 0}}));
        assert_eq!(scale["spec"], json!({}));
    }
}
