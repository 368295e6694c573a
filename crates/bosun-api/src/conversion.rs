//! Conversion between a resource's served versions and the one version it is stored in.
//!
//! Upstream keeps one copy of each object, in the resource's storage version, and converts on
//! every read and write, so the same object is visible through every served version with one uid,
//! one resourceVersion and one watch history. Bosun does the same for the two resources served in
//! more than one version:
//!
//! - `autoscaling/v1` HorizontalPodAutoscalers are stored as `autoscaling/v2`. v1's
//!   `targetCPUUtilizationPercentage` and `status.currentCPUUtilizationPercentage` are a v2
//!   `Resource` `cpu` metric with a `Utilization` target; what v1 cannot say (other metrics, the
//!   current metrics, the conditions, the scaling behavior) travels in the
//!   `autoscaling.alpha.kubernetes.io/*` annotations, so a v1 read-modify-write keeps it.
//! - `events.k8s.io/v1` Events are stored as core `v1` Events; the fields are renamed
//!   (`regarding` is `involvedObject`, `note` is `message`, ...).
//!
//! [`storage_type`] names the type whose keys hold a served type's objects; [`to_storage`] and
//! [`from_storage`] convert one object. Everything else (metadata, unknown fields of the pair's
//! common part) is carried over untouched, so the conversions are the identity on the round trip
//! storage → served → storage for the objects upstream's conversions also keep.
//!
//! The rules follow upstream's `pkg/apis/autoscaling/v1` and `pkg/apis/events/v1` conversions,
//! including their quirks: the v1 CPU metric moves behind the other metrics on the way back, and
//! a v1 object without any metric gets the 80% CPU default.

use serde_json::{Map, Value, json};

use crate::registry::{self, ResourceType};
use crate::status::Status;

/// v2 `spec.metrics` other than the CPU utilization target, in v1's `MetricSpec` form.
pub const METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
/// v2 `status.currentMetrics`, in v1's `MetricStatus` form.
pub const CURRENT_METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
/// v2 `status.conditions`.
pub const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
/// v2 `spec.behavior`, with upstream's internal (capitalized) field names.
pub const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";

/// The CPU utilization a v1 HPA without any target gets (upstream's `DefaultCPUUtilization`).
pub const DEFAULT_CPU_UTILIZATION: i64 = 80;

/// Core Event field ↔ `events.k8s.io/v1` Event field, for the fields whose names differ.
const EVENT_RENAMES: [(&str, &str); 7] = [
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("reportingComponent", "reportingController"),
];

/// The pairs Bosun converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pair {
    /// `autoscaling/v1` ↔ `autoscaling/v2` HorizontalPodAutoscaler.
    HpaV1,
    /// `events.k8s.io/v1` ↔ core `v1` Event.
    EventsV1,
}

fn pair(rt: &ResourceType) -> Option<Pair> {
    match (rt.group, rt.version, rt.kind) {
        ("autoscaling", "v1", "HorizontalPodAutoscaler") => Some(Pair::HpaV1),
        ("events.k8s.io", "v1", "Event") => Some(Pair::EventsV1),
        _ => None,
    }
}

/// The served type whose store keys hold `rt`'s objects: the type at `rt`'s storage version when
/// Bosun serves it (`autoscaling/v2` for `autoscaling/v1` HPAs), else `rt` itself (CRDs keep their
/// served key: their storage version is only reported in discovery).
pub fn storage_type(rt: &ResourceType) -> &ResourceType {
    match rt.storage {
        Some(storage) if storage != rt.group_version() => {
            registry::find_gvk(storage.group, storage.version, rt.kind).unwrap_or(rt)
        }
        _ => rt,
    }
}

/// Whether `rt` is served as a view of objects stored under another version.
pub fn converts(rt: &ResourceType) -> bool {
    storage_type(rt).group_version() != rt.group_version()
}

/// `object`, in `rt`'s served version, as stored. Fails (400) only on a v2-only annotation of a
/// v1 HPA that does not hold what it should.
pub fn to_storage(rt: &ResourceType, object: Value) -> Result<Value, Status> {
    if !converts(rt) {
        return Ok(object);
    }
    let stored = storage_type(rt);
    match pair(rt) {
        Some(Pair::HpaV1) => hpa_v1_to_v2(object, &stored.api_version()),
        Some(Pair::EventsV1) => Ok(rename_fields(object, &stored.api_version(), false)),
        None => Ok(with_api_version(object, &stored.api_version())),
    }
}

/// A stored `object` in `rt`'s served version.
pub fn from_storage(rt: &ResourceType, object: Value) -> Value {
    if !converts(rt) {
        return object;
    }
    match pair(rt) {
        Some(Pair::HpaV1) => hpa_v2_to_v1(object, &rt.api_version()),
        Some(Pair::EventsV1) => rename_fields(object, &rt.api_version(), true),
        None => with_api_version(object, &rt.api_version()),
    }
}

/// The path a field selector on `rt` reads in `rt`'s own objects: upstream's `events.k8s.io`
/// `source` selects the deprecated source's component. Other fields are their own path.
pub fn selector_field_path<'a>(rt: &ResourceType, field: &'a str) -> &'a str {
    match (pair(rt), field) {
        (Some(Pair::EventsV1), "source") => "deprecatedSource.component",
        _ => field,
    }
}

fn with_api_version(mut object: Value, api_version: &str) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), api_version.into());
    }
    object
}

/// Renames the Event fields from core's names to `events.k8s.io`'s (`to_events`) or back.
fn rename_fields(mut object: Value, api_version: &str, to_events: bool) -> Value {
    if let Some(map) = object.as_object_mut() {
        for (core, events) in EVENT_RENAMES {
            let (from, to) = if to_events { (core, events) } else { (events, core) };
            if let Some(value) = map.remove(from) {
                map.insert(to.into(), value);
            }
        }
    }
    with_api_version(object, api_version)
}

// ---- HorizontalPodAutoscaler --------------------------------------------------------------------

fn is_cpu_resource(metric: &Value) -> bool {
    metric.get("type").and_then(Value::as_str) == Some("Resource")
        && metric.pointer("/resource/name").and_then(Value::as_str) == Some("cpu")
}

/// Copies the listed keys of `from` that are set into `to`.
fn copy_keys(from: &Map<String, Value>, to: &mut Map<String, Value>, keys: &[&str]) {
    for key in keys {
        if let Some(value) = from.get(*key) {
            to.insert((*key).into(), value.clone());
        }
    }
}

/// A present, non-null field: Go's nil check on the decoded struct.
fn present<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

/// A JSON array field (absent or null is empty).
fn items<'a>(map: &'a Map<String, Value>, key: &str) -> &'a [Value] {
    map.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn hpa_v2_to_v1(object: Value, api_version: &str) -> Value {
    let Value::Object(v2) = object else { return object };
    let mut v1 = Map::new();
    copy_keys(&v2, &mut v1, &["kind", "metadata"]);
    v1.insert("apiVersion".into(), api_version.into());
    let mut annotations = Map::new();
    if let Some(Value::Object(spec)) = v2.get("spec") {
        let mut out = Map::new();
        copy_keys(spec, &mut out, &["scaleTargetRef", "minReplicas", "maxReplicas"]);
        let metrics = items(spec, "metrics");
        // The first CPU metric decides, as upstream: one with an average value has no v1 form.
        if let Some(target) = metrics.iter().find(|m| is_cpu_resource(m))
            && let Some(utilization) = target.pointer("/resource/target/averageUtilization").filter(|u| !u.is_null())
        {
            out.insert("targetCPUUtilizationPercentage".into(), utilization.clone());
        }
        let others: Vec<Value> = metrics
            .iter()
            .filter(|m| {
                !(is_cpu_resource(m) && m.pointer("/resource/target/averageUtilization").is_some_and(|u| !u.is_null()))
            })
            .map(metric_spec_to_v1)
            .collect();
        if !others.is_empty() {
            annotations.insert(METRICS_ANNOTATION.into(), Value::Array(others).to_string().into());
        }
        if let Some(behavior) = present(spec, "behavior") {
            annotations.insert(BEHAVIOR_ANNOTATION.into(), recase_keys(behavior, capitalize).to_string().into());
        }
        v1.insert("spec".into(), Value::Object(out));
    }
    if let Some(Value::Object(status)) = v2.get("status") {
        let mut out = Map::new();
        copy_keys(status, &mut out, &["observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"]);
        let current = items(status, "currentMetrics");
        // Every CPU utilization counts, the last one wins (upstream does not stop at the first).
        for metric in current.iter().filter(|m| is_cpu_resource(m)) {
            if let Some(utilization) = metric.pointer("/resource/current/averageUtilization").filter(|u| !u.is_null()) {
                out.insert("currentCPUUtilizationPercentage".into(), utilization.clone());
            }
        }
        if !current.is_empty() {
            let converted: Vec<Value> = current.iter().map(metric_status_to_v1).collect();
            annotations.insert(CURRENT_METRICS_ANNOTATION.into(), Value::Array(converted).to_string().into());
        }
        let conditions = items(status, "conditions");
        if !conditions.is_empty() {
            annotations.insert(CONDITIONS_ANNOTATION.into(), Value::Array(conditions.to_vec()).to_string().into());
        }
        v1.insert("status".into(), Value::Object(out));
    }
    let mut v1 = Value::Object(v1);
    if !annotations.is_empty() {
        let target = crate::meta::metadata_mut(&mut v1).entry("annotations").or_insert_with(|| json!({}));
        if !target.is_object() {
            *target = json!({});
        }
        target.as_object_mut().expect("just made an object").extend(annotations);
    }
    v1
}

fn hpa_v1_to_v2(object: Value, api_version: &str) -> Result<Value, Status> {
    let Value::Object(mut v1) = object else { return Ok(object) };
    // The v2-only parts come out of the annotations, which v2 does not keep.
    let mut carried = |key: &str| -> Result<Option<Value>, Status> {
        let Some(Value::Object(metadata)) = v1.get_mut("metadata") else { return Ok(None) };
        let Some(Value::Object(annotations)) = metadata.get_mut("annotations") else { return Ok(None) };
        let Some(text) = annotations.remove(key) else { return Ok(None) };
        if annotations.is_empty() {
            metadata.remove("annotations");
        }
        let text = text.as_str().unwrap_or_default().to_string();
        serde_json::from_str(&text).map(Some).map_err(|e| Status::bad_request(format!("annotation {key}: {e}")))
    };
    let other_metrics = carried(METRICS_ANNOTATION)?;
    let current_metrics = carried(CURRENT_METRICS_ANNOTATION)?;
    let conditions = carried(CONDITIONS_ANNOTATION)?;
    let behavior = carried(BEHAVIOR_ANNOTATION)?;
    let list = |value: Option<Value>, what: &str| -> Result<Option<Vec<Value>>, Status> {
        match value {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(Value::Null) => Ok(Some(Vec::new())),
            Some(_) => Err(Status::bad_request(format!("annotation {what}: expected a JSON array"))),
        }
    };
    let other_metrics = list(other_metrics, METRICS_ANNOTATION)?;
    let current_metrics = list(current_metrics, CURRENT_METRICS_ANNOTATION)?;
    let conditions = list(conditions, CONDITIONS_ANNOTATION)?;

    let mut v2 = Map::new();
    copy_keys(&v1, &mut v2, &["kind", "metadata"]);
    v2.insert("apiVersion".into(), api_version.into());
    let spec = v1.get("spec").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut out = Map::new();
    copy_keys(&spec, &mut out, &["scaleTargetRef", "minReplicas", "maxReplicas"]);
    let mut metrics: Vec<Value> = other_metrics.unwrap_or_default().iter().map(metric_spec_to_v2).collect();
    let cpu_target = present(&spec, "targetCPUUtilizationPercentage").cloned();
    // Without any target, v1 meant the controller's default, which v2 spells out.
    let utilization = match cpu_target {
        Some(utilization) => Some(utilization),
        None if metrics.is_empty() => Some(DEFAULT_CPU_UTILIZATION.into()),
        None => None,
    };
    if let Some(utilization) = utilization {
        metrics.push(json!({
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": utilization}},
        }));
    }
    out.insert("metrics".into(), Value::Array(metrics));
    if let Some(behavior) = behavior.filter(|b| !b.is_null()) {
        out.insert("behavior".into(), recase_keys(&behavior, uncapitalize));
    }
    v2.insert("spec".into(), Value::Object(out));

    let status = v1.get("status").and_then(Value::as_object);
    if status.is_some() || current_metrics.is_some() || conditions.is_some() {
        let status = status.cloned().unwrap_or_default();
        let mut out = Map::new();
        copy_keys(&status, &mut out, &["observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"]);
        // The annotation has more than the percentage (the raw values): it wins.
        let current = match current_metrics {
            Some(list) => Some(list.iter().map(metric_status_to_v2).collect()),
            None => present(&status, "currentCPUUtilizationPercentage").map(|utilization| {
                vec![json!({"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": utilization}}})]
            }),
        };
        if let Some(current) = current {
            out.insert("currentMetrics".into(), Value::Array(current));
        }
        if let Some(conditions) = conditions {
            out.insert("conditions".into(), Value::Array(conditions));
        }
        v2.insert("status".into(), Value::Object(out));
    }
    Ok(Value::Object(v2))
}

/// `Go`'s zero Quantity, which upstream writes for the non-pointer v1 quantities it lacks.
fn quantity_or_zero(value: Option<&Value>) -> Value {
    value.filter(|v| !v.is_null()).cloned().unwrap_or_else(|| "0".into())
}

/// Builds an object from the (key, value) pairs whose value is set.
fn object_of(pairs: &[(&str, Option<&Value>)]) -> Value {
    let mut map = Map::new();
    for (key, value) in pairs {
        if let Some(value) = value.filter(|v| !v.is_null()) {
            map.insert((*key).into(), value.clone());
        }
    }
    Value::Object(map)
}

/// A v2 `MetricSpec` in v1's (annotation) form.
fn metric_spec_to_v1(metric: &Value) -> Value {
    let kind = metric.get("type").and_then(Value::as_str).unwrap_or("");
    let mut out = json!({"type": kind});
    let at = |source: &str, path: &str| metric.pointer(&format!("/{source}/{path}"));
    let source = match kind {
        "Object" => Some(("object", {
            let mut object = object_of(&[
                ("target", at("object", "describedObject")),
                ("metricName", at("object", "metric/name")),
                ("selector", at("object", "metric/selector")),
                ("averageValue", at("object", "target/averageValue")),
            ]);
            object["targetValue"] = quantity_or_zero(at("object", "target/value"));
            object
        })),
        "Pods" => Some(("pods", {
            let mut pods =
                object_of(&[("metricName", at("pods", "metric/name")), ("selector", at("pods", "metric/selector"))]);
            pods["targetAverageValue"] = quantity_or_zero(at("pods", "target/averageValue"));
            pods
        })),
        "Resource" | "ContainerResource" => {
            let field = if kind == "Resource" { "resource" } else { "containerResource" };
            Some((
                field,
                object_of(&[
                    ("name", at(field, "name")),
                    ("container", at(field, "container")),
                    ("targetAverageUtilization", at(field, "target/averageUtilization")),
                    ("targetAverageValue", at(field, "target/averageValue")),
                ]),
            ))
        }
        "External" => Some((
            "external",
            object_of(&[
                ("metricName", at("external", "metric/name")),
                ("metricSelector", at("external", "metric/selector")),
                ("targetValue", at("external", "target/value")),
                ("targetAverageValue", at("external", "target/averageValue")),
            ]),
        )),
        _ => None,
    };
    if let Some((field, value)) = source {
        out[field] = value;
    }
    out
}

/// A v1 (annotation) `MetricSpec` in v2's form.
fn metric_spec_to_v2(metric: &Value) -> Value {
    let kind = metric.get("type").and_then(Value::as_str).unwrap_or("");
    let mut out = json!({"type": kind});
    let at = |source: &str, key: &str| metric.pointer(&format!("/{source}/{key}")).filter(|v| !v.is_null());
    let identifier = |source: &str, name: &str, selector: &str| {
        object_of(&[("name", at(source, name)), ("selector", at(source, selector))])
    };
    let source = match kind {
        "Object" => {
            let average = at("object", "averageValue");
            let target_type = if average.is_none() { "Value" } else { "AverageValue" };
            let mut target = object_of(&[("averageValue", average)]);
            target["type"] = target_type.into();
            target["value"] = quantity_or_zero(at("object", "targetValue"));
            Some((
                "object",
                json!({
                    "describedObject": at("object", "target").cloned().unwrap_or_else(|| json!({})),
                    "metric": identifier("object", "metricName", "selector"),
                    "target": target,
                }),
            ))
        }
        "Pods" => Some((
            "pods",
            json!({
                "metric": identifier("pods", "metricName", "selector"),
                "target": {"type": "AverageValue", "averageValue": quantity_or_zero(at("pods", "targetAverageValue"))},
            }),
        )),
        "Resource" | "ContainerResource" => {
            let field = if kind == "Resource" { "resource" } else { "containerResource" };
            let utilization = at(field, "targetAverageUtilization");
            let mut target =
                object_of(&[("averageUtilization", utilization), ("averageValue", at(field, "targetAverageValue"))]);
            target["type"] = if utilization.is_some() { "Utilization" } else { "AverageValue" }.into();
            let mut source = object_of(&[("name", at(field, "name")), ("container", at(field, "container"))]);
            source["target"] = target;
            Some((field, source))
        }
        "External" => {
            let value = at("external", "targetValue");
            let mut target = object_of(&[("value", value), ("averageValue", at("external", "targetAverageValue"))]);
            target["type"] = if value.is_some() { "Value" } else { "AverageValue" }.into();
            Some((
                "external",
                json!({"metric": identifier("external", "metricName", "metricSelector"), "target": target}),
            ))
        }
        _ => None,
    };
    if let Some((field, value)) = source {
        out[field] = value;
    }
    out
}

/// A v2 `MetricStatus` in v1's (annotation) form.
fn metric_status_to_v1(metric: &Value) -> Value {
    let kind = metric.get("type").and_then(Value::as_str).unwrap_or("");
    let mut out = json!({"type": kind});
    let at = |source: &str, path: &str| metric.pointer(&format!("/{source}/{path}"));
    let source = match kind {
        "Object" => {
            let mut object = object_of(&[
                ("target", at("object", "describedObject")),
                ("metricName", at("object", "metric/name")),
                ("selector", at("object", "metric/selector")),
                ("averageValue", at("object", "current/averageValue")),
            ]);
            object["currentValue"] = quantity_or_zero(at("object", "current/value"));
            Some(("object", object))
        }
        "Pods" => {
            let mut pods =
                object_of(&[("metricName", at("pods", "metric/name")), ("selector", at("pods", "metric/selector"))]);
            pods["currentAverageValue"] = quantity_or_zero(at("pods", "current/averageValue"));
            Some(("pods", pods))
        }
        "Resource" | "ContainerResource" => {
            let field = if kind == "Resource" { "resource" } else { "containerResource" };
            let mut source = object_of(&[
                ("name", at(field, "name")),
                ("container", at(field, "container")),
                ("currentAverageUtilization", at(field, "current/averageUtilization")),
            ]);
            source["currentAverageValue"] = quantity_or_zero(at(field, "current/averageValue"));
            Some((field, source))
        }
        "External" => {
            let mut external = object_of(&[
                ("metricName", at("external", "metric/name")),
                ("metricSelector", at("external", "metric/selector")),
                ("currentAverageValue", at("external", "current/averageValue")),
            ]);
            external["currentValue"] = quantity_or_zero(at("external", "current/value"));
            Some(("external", external))
        }
        _ => None,
    };
    if let Some((field, value)) = source {
        out[field] = value;
    }
    out
}

/// A v1 (annotation) `MetricStatus` in v2's form.
fn metric_status_to_v2(metric: &Value) -> Value {
    let kind = metric.get("type").and_then(Value::as_str).unwrap_or("");
    let mut out = json!({"type": kind});
    let at = |source: &str, key: &str| metric.pointer(&format!("/{source}/{key}")).filter(|v| !v.is_null());
    let identifier = |source: &str, name: &str, selector: &str| {
        object_of(&[("name", at(source, name)), ("selector", at(source, selector))])
    };
    let source = match kind {
        "Object" => {
            let mut current = object_of(&[("averageValue", at("object", "averageValue"))]);
            current["value"] = quantity_or_zero(at("object", "currentValue"));
            Some((
                "object",
                json!({
                    "describedObject": at("object", "target").cloned().unwrap_or_else(|| json!({})),
                    "metric": identifier("object", "metricName", "selector"),
                    "current": current,
                }),
            ))
        }
        "Pods" => Some((
            "pods",
            json!({
                "metric": identifier("pods", "metricName", "selector"),
                "current": {"averageValue": quantity_or_zero(at("pods", "currentAverageValue"))},
            }),
        )),
        "Resource" | "ContainerResource" => {
            let field = if kind == "Resource" { "resource" } else { "containerResource" };
            let mut current = object_of(&[("averageUtilization", at(field, "currentAverageUtilization"))]);
            current["averageValue"] = quantity_or_zero(at(field, "currentAverageValue"));
            let mut source = object_of(&[("name", at(field, "name")), ("container", at(field, "container"))]);
            source["current"] = current;
            Some((field, source))
        }
        "External" => {
            let mut current = object_of(&[("averageValue", at("external", "currentAverageValue"))]);
            current["value"] = quantity_or_zero(at("external", "currentValue"));
            Some((
                "external",
                json!({"metric": identifier("external", "metricName", "metricSelector"), "current": current}),
            ))
        }
        _ => None,
    };
    if let Some((field, value)) = source {
        out[field] = value;
    }
    out
}

/// `value` with every object key rewritten by `recase` (the behavior annotation carries
/// upstream's internal type, whose JSON keys are the Go field names).
fn recase_keys(value: &Value, recase: fn(&str) -> String) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (recase(k), recase_keys(v, recase))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(|v| recase_keys(v, recase)).collect()),
        other => other.clone(),
    }
}

fn capitalize(key: &str) -> String {
    let mut chars = key.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Go decodes JSON keys case-insensitively; v2's names all start lower-case.
fn uncapitalize(key: &str) -> String {
    let mut chars = key.chars();
    chars.next().map(|first| first.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(group: &str, version: &str, plural: &str) -> &'static ResourceType {
        registry::find(group, version, plural).unwrap()
    }

    fn hpa_v1() -> &'static ResourceType {
        rt("autoscaling", "v1", "horizontalpodautoscalers")
    }

    fn events_v1() -> &'static ResourceType {
        rt("events.k8s.io", "v1", "events")
    }

    #[test]
    fn only_the_cohabiting_versions_convert() {
        let converting: Vec<_> = registry::all().iter().filter(|rt| converts(rt)).map(|rt| rt.api_version()).collect();
        assert_eq!(converting, ["events.k8s.io/v1", "autoscaling/v1"]);
        for rt in registry::all().iter().filter(|rt| converts(rt)) {
            assert!(pair(rt).is_some(), "{} converts without a conversion", rt.api_version());
            assert!(!converts(storage_type(rt)), "the storage type stores itself");
        }
        assert_eq!(storage_type(hpa_v1()).api_version(), "autoscaling/v2");
        assert_eq!(storage_type(events_v1()).api_version(), "v1");
        let crds = rt("apiextensions.k8s.io", "v1", "customresourcedefinitions");
        assert!(!converts(crds), "the unserved v1beta1 storage version only shows in discovery");
    }

    #[test]
    fn a_v2_cpu_target_is_v1s_percentage_and_back() {
        let v2 = json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default", "uid": "u", "resourceVersion": "7"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 1, "maxReplicas": 5,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}],
            },
            "status": {"currentReplicas": 2, "desiredReplicas": 3,
                "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 41, "averageValue": "120m"}}}]},
        });
        let v1 = from_storage(hpa_v1(), v2.clone());
        assert_eq!(v1["apiVersion"], "autoscaling/v1");
        assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 50);
        assert_eq!(v1["status"]["currentCPUUtilizationPercentage"], 41);
        assert_eq!(v1["metadata"]["resourceVersion"], "7");
        let annotations = v1["metadata"]["annotations"].as_object().unwrap();
        assert!(!annotations.contains_key(METRICS_ANNOTATION), "the CPU target is v1's own field");
        let current: Value = serde_json::from_str(annotations[CURRENT_METRICS_ANNOTATION].as_str().unwrap()).unwrap();
        assert_eq!(
            current,
            json!([{"type": "Resource", "resource": {"name": "cpu", "currentAverageUtilization": 41, "currentAverageValue": "120m"}}])
        );
        assert_eq!(to_storage(hpa_v1(), v1).unwrap(), v2, "lossless round trip");
    }

    #[test]
    fn v2_only_fields_ride_the_annotations_through_v1() {
        let v2 = json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "annotations": {"team": "a"}},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "maxReplicas": 5,
                "metrics": [
                    {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
                    {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}},
                    {"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "Value", "value": "30"}}},
                    {"type": "Object", "object": {"describedObject": {"kind": "Service", "name": "s"}, "metric": {"name": "hits"}, "target": {"type": "Value", "value": "2"}}},
                    {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
                ],
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60, "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}]}},
            },
            "status": {"desiredReplicas": 2, "conditions": [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}]},
        });
        let v1 = from_storage(hpa_v1(), v2.clone());
        assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 70);
        assert!(v1["spec"].get("metrics").is_none() && v1["spec"].get("behavior").is_none());
        let annotations = &v1["metadata"]["annotations"];
        assert_eq!(annotations["team"], "a");
        let behavior: Value = serde_json::from_str(annotations[BEHAVIOR_ANNOTATION].as_str().unwrap()).unwrap();
        assert_eq!(behavior["ScaleDown"]["Policies"][0]["PeriodSeconds"], 30, "upstream's internal field names");
        let metrics: Value = serde_json::from_str(annotations[METRICS_ANNOTATION].as_str().unwrap()).unwrap();
        assert_eq!(
            metrics[0],
            json!({"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "100Mi"}})
        );
        assert_eq!(metrics.as_array().unwrap().len(), 4);
        assert!(annotations.get(CONDITIONS_ANNOTATION).is_some());
        assert_eq!(to_storage(hpa_v1(), v1).unwrap(), v2, "everything comes back, the CPU target last");
    }

    #[test]
    fn a_v1_hpa_without_a_target_gets_the_cpu_default() {
        let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "a"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "a"}, "maxReplicas": 3}});
        let v2 = to_storage(hpa_v1(), v1).unwrap();
        assert_eq!(v2["apiVersion"], "autoscaling/v2");
        assert_eq!(v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], DEFAULT_CPU_UTILIZATION);
        assert!(v2.get("status").is_none());
        assert!(v2["metadata"].get("annotations").is_none());
    }

    #[test]
    fn a_broken_annotation_is_a_bad_request() {
        let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "a", "annotations": {METRICS_ANNOTATION: "{not json"}}, "spec": {"maxReplicas": 3}});
        assert_eq!(to_storage(hpa_v1(), v1).unwrap_err().code, 400);
    }

    #[test]
    fn events_rename_their_fields_both_ways() {
        let core = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "default"},
            "involvedObject": {"kind": "Deployment", "name": "web", "namespace": "default"},
            "reason": "ScalingReplicaSet", "message": "Scaled up", "type": "Normal",
            "source": {"component": "deployment-controller"}, "count": 2,
            "firstTimestamp": "2025-01-01T00:00:00Z", "lastTimestamp": "2025-01-01T00:01:00Z",
            "reportingComponent": "deployment-controller", "reportingInstance": "bosun",
        });
        let events = from_storage(events_v1(), core.clone());
        assert_eq!(events["apiVersion"], "events.k8s.io/v1");
        assert_eq!(events["regarding"]["name"], "web");
        assert_eq!(events["note"], "Scaled up");
        assert_eq!(events["deprecatedSource"]["component"], "deployment-controller");
        assert_eq!(events["deprecatedCount"], 2);
        assert_eq!(events["deprecatedLastTimestamp"], "2025-01-01T00:01:00Z");
        assert_eq!(events["reportingController"], "deployment-controller");
        assert!(events.get("message").is_none() && events.get("involvedObject").is_none());
        assert_eq!(to_storage(events_v1(), events).unwrap(), core);
        assert_eq!(selector_field_path(events_v1(), "source"), "deprecatedSource.component");
    }

    /// The same objects through every path of [`crate::api::Api`].
    mod through_the_api {
        use super::*;
        use crate::api::{DeleteOptions, Deleted, ListParams, Subresource, WriteOptions};
        use crate::patch::{PatchBody, PatchOptions, PatchType};
        use crate::watch::{EventType, WatchParams};

        use crate::test_support::api;

        fn manager(name: &str) -> WriteOptions {
            WriteOptions { field_manager: Some(name.into()), ..Default::default() }
        }

        fn hpa_v2() -> &'static ResourceType {
            rt("autoscaling", "v2", "horizontalpodautoscalers")
        }

        fn web_hpa_v2() -> Value {
            json!({
                "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "web"},
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                    "maxReplicas": 5,
                    "metrics": [
                        {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
                        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}},
                    ],
                },
            })
        }

        #[tokio::test]
        async fn one_object_one_resource_version_in_both_hpa_versions() {
            let api = api().await;
            let created = api.create(hpa_v2(), "default", web_hpa_v2(), &manager("v2-writer")).await.unwrap();
            assert_eq!(created["spec"]["minReplicas"], 1, "v2 defaults");
            let v1 = api.get(hpa_v1(), "default", "web").await.unwrap();
            assert_eq!(v1["apiVersion"], "autoscaling/v1");
            assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 60);
            assert_eq!(v1["metadata"]["uid"], created["metadata"]["uid"]);
            assert_eq!(v1["metadata"]["resourceVersion"], created["metadata"]["resourceVersion"]);
            let listed =
                api.list(hpa_v1(), Some("default"), &ListParams::default(), &|_| true).await.unwrap().to_value();
            assert_eq!(listed["apiVersion"], "autoscaling/v1");
            assert_eq!(listed["items"][0]["spec"]["targetCPUUtilizationPercentage"], 60);

            // A v1 read-modify-write (what `kubectl edit` does on a v1 client) keeps the memory
            // metric, which only the annotation carries.
            let mut edited = v1.clone();
            edited["spec"]["targetCPUUtilizationPercentage"] = 75.into();
            let updated =
                api.update(hpa_v1(), "default", "web", Subresource::Main, edited, &manager("v1-writer")).await.unwrap();
            assert_eq!(updated["spec"]["targetCPUUtilizationPercentage"], 75);
            let v2 = api.get(hpa_v2(), "default", "web").await.unwrap();
            assert_eq!(v2["metadata"]["resourceVersion"], updated["metadata"]["resourceVersion"]);
            assert_eq!(v2["spec"]["metrics"][0]["resource"]["name"], "memory");
            assert_eq!(v2["spec"]["metrics"][1]["resource"]["target"]["averageUtilization"], 75);
            assert!(v2["metadata"].get("annotations").is_none(), "v2 keeps no carrier annotations");
            let entries: Vec<(String, String)> = v2["metadata"]["managedFields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["manager"].as_str().unwrap().into(), e["apiVersion"].as_str().unwrap().into()))
                .collect();
            assert!(entries.contains(&("v2-writer".into(), "autoscaling/v2".into())), "{entries:?}");
            assert!(entries.contains(&("v1-writer".into(), "autoscaling/v1".into())), "{entries:?}");

            // Writing back what was read changes nothing.
            let again = api.get(hpa_v1(), "default", "web").await.unwrap();
            let same = api
                .update(hpa_v1(), "default", "web", Subresource::Main, again.clone(), &manager("v1-writer"))
                .await
                .unwrap();
            assert_eq!(same["metadata"]["resourceVersion"], again["metadata"]["resourceVersion"]);

            // A strategic merge patch through v1 and the status subresource through v1.
            let patch = PatchBody { patch_type: PatchType::Strategic, document: json!({"spec": {"maxReplicas": 9}}) };
            let (patched, _) = api
                .patch(hpa_v1(), "default", "web", Subresource::Main, patch, &PatchOptions::default())
                .await
                .unwrap();
            assert_eq!(patched["spec"]["maxReplicas"], 9);
            let mut status = patched.clone();
            status["status"] =
                json!({"currentReplicas": 2, "desiredReplicas": 3, "currentCPUUtilizationPercentage": 40});
            api.update(hpa_v1(), "default", "web", Subresource::Status, status, &WriteOptions::default())
                .await
                .unwrap();
            let v2 = api.get(hpa_v2(), "default", "web").await.unwrap();
            assert_eq!(v2["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"], 40);
            assert_eq!(v2["spec"]["maxReplicas"], 9);

            match api.delete(hpa_v1(), "default", "web", &DeleteOptions::default()).await.unwrap() {
                Deleted::Status(status) => assert_eq!(status.code, 200),
                Deleted::Object(object) => assert_eq!(object["apiVersion"], "autoscaling/v1"),
            }
            assert_eq!(api.get(hpa_v2(), "default", "web").await.unwrap_err().code, 404);
        }

        #[tokio::test]
        async fn a_v1_watch_sees_changes_made_through_v2() {
            let api = api().await;
            let params = WatchParams {
                resource_version: Some(api.store().current_revision().await.unwrap()),
                ..Default::default()
            };
            let mut watch = api.watch(hpa_v1(), Some("default"), &params, None).await.unwrap();
            let created = api.create(hpa_v2(), "default", web_hpa_v2(), &WriteOptions::default()).await.unwrap();
            let added = watch.next().await.unwrap();
            assert_eq!(added.event_type, EventType::Added);
            let object = added.object_value();
            assert_eq!(object["apiVersion"], "autoscaling/v1");
            assert_eq!(object["spec"]["targetCPUUtilizationPercentage"], 60);
            assert_eq!(object["metadata"]["resourceVersion"], created["metadata"]["resourceVersion"]);
            let mut changed = created.clone();
            changed["spec"]["maxReplicas"] = 7.into();
            api.update(hpa_v2(), "default", "web", Subresource::Main, changed, &WriteOptions::default()).await.unwrap();
            let modified = watch.next().await.unwrap();
            assert_eq!(modified.event_type, EventType::Modified);
            assert_eq!(modified.object_value()["spec"]["maxReplicas"], 7);
            assert_eq!(modified.object_value()["apiVersion"], "autoscaling/v1");
        }

        #[tokio::test]
        async fn events_are_one_set_under_both_groups_with_their_field_selectors() {
            let api = api().await;
            let core = rt("", "v1", "events");
            let body = json!({
                "apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.1"},
                "involvedObject": {"kind": "Deployment", "name": "web", "namespace": "default"},
                "reason": "ScalingReplicaSet", "message": "Scaled up replica set web-1 from 0 to 1", "type": "Normal",
                "source": {"component": "deployment-controller"}, "count": 1,
                "reportingComponent": "deployment-controller",
            });
            api.create(core, "default", body, &WriteOptions::default()).await.unwrap();
            let body = json!({
                "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "web.2"},
                "eventTime": "2025-01-01T00:00:00.000000Z",
                "regarding": {"kind": "Pod", "name": "web-1-abc", "namespace": "default"},
                "reason": "Scheduled", "note": "Successfully assigned", "type": "Normal", "action": "Binding",
                "reportingController": "bosun-scheduler", "reportingInstance": "bosun",
            });
            api.create(events_v1(), "default", body, &WriteOptions::default()).await.unwrap();

            let core_list =
                api.list(core, Some("default"), &ListParams::default(), &|_| true).await.unwrap().to_value();
            let notes: Vec<_> = core_list["items"].as_array().unwrap().iter().map(|e| e["message"].clone()).collect();
            assert_eq!(notes.len(), 2);
            assert_eq!(core_list["items"][1]["involvedObject"]["name"], "web-1-abc");
            let events_list =
                api.list(events_v1(), Some("default"), &ListParams::default(), &|_| true).await.unwrap().to_value();
            assert_eq!(events_list["items"][0]["note"], "Scaled up replica set web-1 from 0 to 1");
            assert_eq!(events_list["items"][0]["regarding"]["kind"], "Deployment");

            let select = async |rt: &ResourceType, selector: &'static str| {
                let filter =
                    crate::options::filter(rt, &|key| (key == "fieldSelector").then_some(selector)).unwrap().unwrap();
                let list =
                    api.list(rt, Some("default"), &ListParams::default(), &|o| filter(o)).await.unwrap().to_value();
                list["items"].as_array().unwrap().iter().map(|e| e["metadata"]["name"].clone()).collect::<Vec<_>>()
            };
            assert_eq!(select(events_v1(), "regarding.kind=Pod").await, ["web.2"]);
            assert_eq!(select(events_v1(), "reportingController=deployment-controller").await, ["web.1"]);
            assert_eq!(select(events_v1(), "source=deployment-controller").await, ["web.1"]);
            assert_eq!(select(core, "involvedObject.kind=Pod").await, ["web.2"]);
        }

        #[tokio::test]
        async fn objects_stored_apart_by_older_versions_move_to_the_storage_version() {
            let api = api().await;
            let old = bosun_store::ObjectKey::new("autoscaling", "v1", "HorizontalPodAutoscaler", "default", "old");
            let uid = uuid::Uuid::new_v4();
            let body = json!({
                "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "old", "namespace": "default", "uid": uid.to_string()},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "old"}, "maxReplicas": 2, "targetCPUUtilizationPercentage": 30},
            });
            api.store().create(&old, uid, body.to_string().into()).await.unwrap();
            assert_eq!(api.migrate_converted_views().await.unwrap(), 1);
            assert!(api.store().get(&old).await.unwrap().is_none());
            let moved = api.get(hpa_v2(), "default", "old").await.unwrap();
            assert_eq!(moved["metadata"]["uid"], uid.to_string());
            assert_eq!(moved["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 30);
            assert_eq!(api.migrate_converted_views().await.unwrap(), 0, "nothing left to move");
        }
    }
}
