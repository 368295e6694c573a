//! Patch metadata in the schemas: `x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`,
//! `x-kubernetes-list-type` and `x-kubernetes-list-map-keys`, taken from the same table the
//! server's strategic merge patch uses ([`crate::smp`]).
//!
//! This matters beyond `kubectl explain`: client-side `kubectl apply` computes its strategic
//! merge patch from these extensions (`strategicpatch.PatchMetaFromOpenAPIV3`), so what the
//! document says and how the server merges must be one table.
//!
//! The table is walked from a kind's root type alongside the schemas: a table field names a
//! property of the current definition; an object or list-of-objects field leads, through the
//! property's `$ref`, to the next definition. Extensions land on the property, as upstream
//! places them. List types are derived from the patch strategy: no strategy → `atomic`, a merged
//! list of scalars → `set`, a list merged by key → `map` keyed by the merge key.

use std::collections::HashSet;

use crate::smp::{Field, Items, ListStrategy, SchemaType, Shape};
use serde_json::{Map, Value, json};

use super::schemas::REF_PREFIX;

/// Writes the table's metadata for `ty` into definition `name` and, recursively, into the
/// definitions its fields lead to. Table fields the schemas lack, or whose type disagrees with
/// the schema's, are pushed to `unplaced` as `definition.field`.
pub fn annotate(schemas: &mut Map<String, Value>, name: &str, ty: &'static SchemaType, unplaced: &mut Vec<String>) {
    let mut visited = HashSet::new();
    walk(schemas, name, ty, unplaced, &mut visited);
}

fn walk(
    schemas: &mut Map<String, Value>,
    name: &str,
    ty: &'static SchemaType,
    unplaced: &mut Vec<String>,
    visited: &mut HashSet<(String, &'static str)>,
) {
    if !visited.insert((name.to_string(), ty.name)) {
        return;
    }
    for field in ty.fields {
        let Some(property) = schemas
            .get_mut(name)
            .and_then(|definition| definition.get_mut("properties"))
            .and_then(|properties| properties.get_mut(field.name))
            .and_then(Value::as_object_mut)
        else {
            unplaced.push(format!("{name}.{}", field.name));
            continue;
        };
        for (key, value) in extensions(field) {
            property.insert(key.into(), value);
        }
        let next = match field.shape {
            Shape::Object { ty, .. } => Some((referenced(property), ty)),
            Shape::List { items: Items::Object(ty), .. } => Some((property.get("items").and_then(reference), ty)),
            _ => None,
        };
        if let Some((target, next_ty)) = next {
            // The table's type names are upstream's Go type names, the last part of the
            // definition name; the generic `Object` type fits anything.
            match target {
                Some(target) if next_ty.name == "Object" || target.ends_with(&format!(".{}", next_ty.name)) => {
                    walk(schemas, &target, next_ty, unplaced, visited)
                }
                _ => unplaced.push(format!("{name}.{}", field.name)),
            }
        }
    }
}

/// The extensions a table field puts on its property.
fn extensions(field: &Field) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if let Some(strategy) = field.patch_strategy() {
        out.push(("x-kubernetes-patch-strategy", Value::from(strategy)));
    }
    if let Some(key) = field.patch_merge_key() {
        out.push(("x-kubernetes-patch-merge-key", Value::from(key)));
    }
    if let Shape::List { strategy, .. } = field.shape {
        match strategy {
            ListStrategy::Atomic => out.push(("x-kubernetes-list-type", "atomic".into())),
            ListStrategy::MergeSet => out.push(("x-kubernetes-list-type", "set".into())),
            ListStrategy::MergeByKey { key, .. } => {
                out.push(("x-kubernetes-list-type", "map".into()));
                out.push(("x-kubernetes-list-map-keys", json!([key])));
            }
        }
    }
    out
}

/// The definition an object-valued property points to: `{"$ref"}` or `{"allOf": [{"$ref"}]}`.
fn referenced(property: &Map<String, Value>) -> Option<String> {
    property
        .get("$ref")
        .and_then(Value::as_str)
        .or_else(|| property.get("allOf")?.get(0)?.get("$ref")?.as_str())
        .and_then(|r| r.strip_prefix(REF_PREFIX))
        .map(str::to_string)
}

fn reference(schema: &Value) -> Option<String> {
    referenced(schema.as_object()?)
}

#[cfg(test)]
mod tests {
    use crate::smp;

    use super::*;

    fn schemas() -> Map<String, Value> {
        let reference = |name: &str| json!({"$ref": format!("{REF_PREFIX}{name}")});
        let value = json!({
            "io.k8s.api.apps.v1.Deployment": {"properties": {
                "metadata": {"allOf": [reference("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")]},
                "spec": {"allOf": [reference("io.k8s.api.apps.v1.DeploymentSpec")], "description": "d"},
            }},
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"properties": {
                "finalizers": {"type": "array", "items": {"type": "string"}},
                "labels": {"type": "object"},
            }},
            "io.k8s.api.apps.v1.DeploymentSpec": {"properties": {
                "strategy": {"allOf": [reference("io.k8s.api.apps.v1.DeploymentStrategy")]},
                "template": {"allOf": [reference("io.k8s.api.core.v1.PodTemplateSpec")]},
            }},
            "io.k8s.api.apps.v1.DeploymentStrategy": {"properties": {}},
            "io.k8s.api.core.v1.PodTemplateSpec": {"properties": {
                "spec": {"allOf": [reference("io.k8s.api.core.v1.PodSpec")]},
            }},
            "io.k8s.api.core.v1.PodSpec": {"properties": {
                "containers": {"type": "array", "items": reference("io.k8s.api.core.v1.Container")},
            }},
            "io.k8s.api.core.v1.Container": {"properties": {}},
        });
        value.as_object().unwrap().clone()
    }

    #[test]
    fn annotate_should_follow_references_and_put_extensions_on_properties() {
        let mut schemas = schemas();
        let mut unplaced = Vec::new();
        annotate(&mut schemas, "io.k8s.api.apps.v1.Deployment", &smp::DEPLOYMENT, &mut unplaced);
        let spec = &schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"];
        assert_eq!(spec["strategy"]["x-kubernetes-patch-strategy"], "retainKeys");
        let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
        let finalizers = &schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["finalizers"];
        assert_eq!(finalizers["x-kubernetes-list-type"], "set");
        // Maps and scalars carry nothing.
        let labels = &schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["labels"];
        assert_eq!(labels, &json!({"type": "object"}));
        // The toy schemas lack most fields the table lists; they are reported, not invented.
        assert!(unplaced.contains(&"io.k8s.api.apps.v1.Deployment.status".to_string()), "{unplaced:?}");
        assert!(unplaced.contains(&"io.k8s.api.core.v1.PodSpec.volumes".to_string()), "{unplaced:?}");
    }

    #[test]
    fn annotate_should_report_a_reference_to_a_type_the_table_does_not_expect() {
        let mut schemas = schemas();
        schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"] =
            json!({"allOf": [{"$ref": format!("{REF_PREFIX}io.k8s.api.core.v1.Container")}]});
        let mut unplaced = Vec::new();
        annotate(&mut schemas, "io.k8s.api.apps.v1.Deployment", &smp::DEPLOYMENT, &mut unplaced);
        assert!(unplaced.contains(&"io.k8s.api.apps.v1.DeploymentSpec.strategy".to_string()), "{unplaced:?}");
    }
}
