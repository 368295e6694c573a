//! `fieldValidation`: what a write does with fields the type does not have and with fields a JSON
//! body names twice (API-semantics spec, sections 3.1, 3.2 and 3.8).
//!
//! Upstream decodes a body into the Go type, so unknown fields are dropped whatever the mode; the
//! mode only decides whether they are also reported: `Strict` fails the request, `Warn` (the
//! server's default) answers a `Warning` per field, `Ignore` says nothing. Bosun keeps objects as
//! JSON, so it drops them explicitly: [`prune_unknown`] walks an object against its kind's schema
//! ([`crate::openapi`]) and both reports and removes what the schema lacks, in one pass.
//!
//! What the walk treats as known, as upstream's decoder does:
//!
//! * every property of a struct (`metadata` and its fields, `status`, `apiVersion`, `kind`);
//! * every key of a map (`labels`, `annotations`, `data`: `additionalProperties` schemas), whose
//!   values are walked against the map's value schema;
//! * anything under a schema that describes no fields: `RawExtension`, `FieldsV1`, JSON values
//!   of custom resource definitions, `x-kubernetes-preserve-unknown-fields`, IntOrString and
//!   Quantity (scalars);
//! * list items, walked against the item schema.
//!
//! Duplicate fields exist only in the bytes of a body (a `serde_json::Value` keeps the last), so
//! [`duplicate_fields`] scans the raw JSON; the HTTP layer reports them, since in-process
//! callers hand over values that cannot hold any.

use serde_json::{Map, Value};

use crate::managed_fields::PathElement;
use crate::openapi::schemas::REF_PREFIX;
use crate::registry::ResourceType;
use crate::status::Status;

/// How a write treats unknown and duplicate fields: `?fieldValidation=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Unknown fields are dropped silently; a duplicate keeps its last value. The default of
    /// [`crate::api::WriteOptions`]: in-process callers have no channel for warnings, and what
    /// they store is what upstream would store.
    #[default]
    Ignore,
    /// Dropped as under `Ignore`, and reported as warnings (`unknown field "spec.foo"`,
    /// `duplicate field "metadata.name"`). Upstream's default over HTTP.
    Warn,
    /// The write fails: 400 for a create or update, 422 for a merge, strategic or JSON patch.
    Strict,
}

impl FieldValidation {
    /// The mode a query value names (`Ignore`, `Warn`, `Strict`), if any.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "Ignore" => Some(FieldValidation::Ignore),
            "Warn" => Some(FieldValidation::Warn),
            "Strict" => Some(FieldValidation::Strict),
            _ => None,
        }
    }
}

/// Upstream's text for an unknown field, as a warning and inside a strict decoding error.
pub fn unknown_field(path: &str) -> String {
    format!("unknown field \"{path}\"")
}

/// Upstream's text for a duplicate field.
pub fn duplicate_field(path: &str) -> String {
    format!("duplicate field \"{path}\"")
}

/// The 400 of a create or update under `Strict`: `Deployment in version "v1" cannot be handled
/// as a Deployment: strict decoding error: unknown field "spec.foo", ...`.
pub fn strict_decoding_error(rt: &ResourceType, errors: &[String]) -> Status {
    Status::bad_request(format!(
        "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
        errors.join(", "),
        kind = rt.kind,
        version = rt.version,
    ))
}

/// How unknown fields' paths are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathStyle {
    /// As upstream's JSON decoder writes them: `spec.template.spec.containers[0].imagePullPolcy`.
    Json,
    /// As server-side apply (structured-merge-diff) writes them: a leading dot, and items of
    /// keyed lists by their keys: `.spec.template.spec.containers[name="nodejs"].imagePullPolcy`.
    Apply,
}

/// Upstream keeps at most this many strict errors per body.
const STRICT_ERRORS_MAX: usize = 100;
/// Nesting bound of the walk: deeper values are left as they are.
const DEPTH_MAX: usize = 64;

/// Walks `object`, of the type `rt`, against its schema: returns the paths of the fields the
/// schema does not know, in the order of the object's keys, and removes them when `prune`. Keys
/// starting with `$` count as fields unless `patch_directives` (a strategic merge patch's
/// `$patch`, `$setElementOrder/...`). Nothing is reported for a kind without a schema.
pub fn prune_unknown(rt: &ResourceType, object: &mut Value, prune: bool, style: PathStyle) -> Vec<String> {
    walk_kind(rt, object, prune, style, false)
}

/// The unknown fields of a strategic merge or apply patch document (a partial object), by path,
/// without changing it; directives are not fields.
pub fn unknown_in_patch(rt: &ResourceType, patch: &Value, style: PathStyle) -> Vec<String> {
    walk_kind(rt, &mut patch.clone(), false, style, true)
}

fn walk_kind(rt: &ResourceType, object: &mut Value, prune: bool, style: PathStyle, directives: bool) -> Vec<String> {
    let Some(components) = crate::openapi::components(rt.group, rt.version) else { return Vec::new() };
    let Some(schema) = components.kinds.get(rt.kind).and_then(|name| components.schemas.get(name.as_str())) else {
        return Vec::new();
    };
    let mut walk = Walk {
        schemas: &components.schemas,
        prune,
        style,
        patch_directives: directives,
        path: String::new(),
        found: vec![],
    };
    walk.value(schema, object, 0);
    walk.found
}

/// Applies `mode` to an object a client sent whole (a create or update body): `Strict` fails on
/// any unknown field with the 400 upstream sends; `Warn` and `Ignore` drop them, and `Warn`
/// returns one warning each.
pub fn check_object(rt: &ResourceType, mode: FieldValidation, object: &mut Value) -> Result<Vec<String>, Status> {
    let unknown = prune_unknown(rt, object, mode != FieldValidation::Strict, PathStyle::Json);
    match mode {
        FieldValidation::Strict if !unknown.is_empty() => Err(strict_decoding_error(rt, &strict_errors(&unknown, &[]))),
        FieldValidation::Warn => Ok(unknown.iter().map(|path| unknown_field(path)).collect()),
        _ => Ok(Vec::new()),
    }
}

/// The strict decoding errors of a body, as upstream lists them: unknown fields, then duplicate
/// fields that are not inside (or themselves) an unknown field (upstream's decoder skips what
/// it does not know). Identical messages are listed once, and at most 100.
pub fn strict_errors(unknown: &[String], duplicates: &[Duplicate]) -> Vec<String> {
    let inside_unknown = |path: &str| {
        unknown
            .iter()
            .any(|u| path.strip_prefix(u.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '['])))
    };
    let mut errors: Vec<String> = unknown.iter().map(|path| unknown_field(path)).collect();
    errors.extend(duplicates.iter().filter(|d| !inside_unknown(&d.path)).map(|d| duplicate_field(&d.path)));
    let mut seen = std::collections::HashSet::new();
    errors.retain(|e| seen.insert(e.clone()));
    errors.truncate(STRICT_ERRORS_MAX);
    errors
}

/// The walk's state: the schemas, what to do, and the path of the value at hand.
struct Walk<'a> {
    schemas: &'a Map<String, Value>,
    prune: bool,
    style: PathStyle,
    patch_directives: bool,
    path: String,
    found: Vec<String>,
}

impl<'a> Walk<'a> {
    /// Follows `$ref`s, direct or wrapped in a one-element `allOf` as upstream writes them.
    fn resolve(&self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..8 {
            if let Some(name) = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix(REF_PREFIX)) {
                match self.schemas.get(name) {
                    Some(target) => schema = target,
                    None => return schema,
                }
            } else if let Some([only]) = schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
                schema = only;
            } else {
                return schema;
            }
        }
        schema
    }

    fn value(&mut self, schema: &'a Value, value: &mut Value, depth: usize) {
        if depth > DEPTH_MAX {
            return;
        }
        let schema = self.resolve(schema);
        if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
            return;
        }
        match value {
            Value::Object(map) => self.object(schema, map, depth),
            Value::Array(items) => {
                let Some(item_schema) = schema.get("items") else { return };
                let keys = list_map_keys(schema);
                for (i, item) in items.iter_mut().enumerate() {
                    let len = self.path.len();
                    self.push_item(i, item, keys.as_deref());
                    self.value(item_schema, item, depth + 1);
                    self.path.truncate(len);
                }
            }
            _ => {}
        }
    }

    fn object(&mut self, schema: &'a Value, map: &mut Map<String, Value>, depth: usize) {
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties").filter(|a| a.is_object());
        if properties.is_none() && additional.is_none() {
            return; // a schema without fields (RawExtension, FieldsV1, JSON): anything goes
        }
        let mut unknown = Vec::new();
        for (key, child) in map.iter_mut() {
            if self.patch_directives && key.starts_with('$') {
                continue;
            }
            let len = self.path.len();
            if !self.path.is_empty() || self.style == PathStyle::Apply {
                self.path.push('.');
            }
            self.path.push_str(key);
            match properties.and_then(|p| p.get(key)).or(additional) {
                Some(property) => self.value(property, child, depth + 1),
                None => {
                    self.found.push(self.path.clone());
                    unknown.push(key.clone());
                }
            }
            self.path.truncate(len);
        }
        if self.prune {
            for key in unknown {
                map.remove(&key);
            }
        }
    }

    /// Appends a list item's path element: its index, or under [`PathStyle::Apply`] the values
    /// of its list's keys (`[name="nodejs"]`), as structured-merge-diff names items.
    fn push_item(&mut self, index: usize, item: &Value, keys: Option<&[String]>) {
        let keyed = match (self.style, keys, item) {
            (PathStyle::Apply, Some(keys), Value::Object(fields)) => {
                let values: Map<String, Value> =
                    keys.iter().filter_map(|k| fields.get(k).map(|v| (k.clone(), v.clone()))).collect();
                (!values.is_empty()).then(|| PathElement::key(values).to_string())
            }
            _ => None,
        };
        match keyed {
            Some(element) => self.path.push_str(&element),
            None => self.path.push_str(&format!("[{index}]")),
        }
    }
}

/// The keys of a list the schema marks `x-kubernetes-list-type: map`.
fn list_map_keys(schema: &Value) -> Option<Vec<String>> {
    if schema.get("x-kubernetes-list-type").and_then(Value::as_str) != Some("map") {
        return None;
    }
    let keys = schema.get("x-kubernetes-list-map-keys")?.as_array()?;
    Some(keys.iter().filter_map(Value::as_str).map(str::to_string).collect())
}

/// A field a JSON body names twice in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The key itself.
    pub key: String,
    /// Its path, as upstream's JSON decoder writes it: `metadata.name`, `spec.containers[0].image`.
    pub path: String,
    /// The line of the body the repetition is on (from 1).
    pub line: usize,
}

/// The duplicate fields of a JSON document, in document order (each repetition once). The
/// document must already have parsed; anything the scan cannot follow ends it early.
pub fn duplicate_fields(json: &[u8]) -> Vec<Duplicate> {
    let mut scan = Scan { bytes: json, at: 0, path: String::new(), found: Vec::new() };
    scan.skip_space();
    scan.value(0);
    scan.found
}

/// A scan over JSON bytes that only tracks object keys, for [`duplicate_fields`].
struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
    path: String,
    found: Vec<Duplicate>,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    /// Scans one value; returns `None` when the bytes are not JSON after all.
    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > DEPTH_MAX {
            return None;
        }
        match self.peek()? {
            b'{' => self.object(depth),
            b'[' => {
                self.at += 1;
                self.skip_space();
                let mut index = 0;
                if self.peek()? == b']' {
                    self.at += 1;
                    return Some(());
                }
                loop {
                    let len = self.path.len();
                    self.path.push_str(&format!("[{index}]"));
                    self.value(depth + 1)?;
                    self.path.truncate(len);
                    index += 1;
                    self.skip_space();
                    match self.peek()? {
                        b',' => {
                            self.at += 1;
                            self.skip_space();
                        }
                        b']' => {
                            self.at += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(drop),
            _ => {
                // A number, true, false or null: up to the next delimiter.
                while self.peek().is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace()) {
                    self.at += 1;
                }
                Some(())
            }
        }
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        self.at += 1;
        self.skip_space();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        let mut keys = std::collections::HashSet::new();
        loop {
            let key_at = self.at;
            let key = self.string()?;
            let len = self.path.len();
            if !self.path.is_empty() {
                self.path.push('.');
            }
            self.path.push_str(&key);
            if keys.contains(&key) {
                let line = 1 + self.bytes[..key_at].iter().filter(|b| **b == b'\n').count();
                self.found.push(Duplicate { key, path: self.path.clone(), line });
            } else {
                keys.insert(key);
            }
            self.skip_space();
            if self.peek()? != b':' {
                return None;
            }
            self.at += 1;
            self.skip_space();
            self.value(depth + 1)?;
            self.path.truncate(len);
            self.skip_space();
            match self.peek()? {
                b',' => {
                    self.at += 1;
                    self.skip_space();
                }
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Scans a string and returns its text (escapes decoded).
    fn string(&mut self) -> Option<String> {
        let start = self.at;
        if self.peek()? != b'"' {
            return None;
        }
        self.at += 1;
        let mut escaped = false;
        loop {
            match self.peek()? {
                b'\\' => {
                    escaped = true;
                    self.at += 2;
                }
                b'"' => {
                    self.at += 1;
                    break;
                }
                _ => self.at += 1,
            }
        }
        let raw = self.bytes.get(start..self.at)?;
        if escaped {
            serde_json::from_slice(raw).ok()
        } else {
            std::str::from_utf8(&raw[1..raw.len() - 1]).ok().map(str::to_string)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::registry;

    fn rt(group: &str, version: &str, resource: &str) -> &'static ResourceType {
        registry::find(group, version, resource).unwrap()
    }

    #[test]
    fn unknown_fields_are_reported_with_their_paths_and_dropped() {
        let deployment = rt("apps", "v1", "deployments");
        let mut object = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "labels": {"any": "key"}, "bogus": 1},
            "spec": {"replica": 3, "selector": {"matchLabels": {"a": "b"}},
                     "template": {"spec": {"containers": [{"name": "c", "image": "i", "imagePullPolcy": "Always"}]}}},
            "status": {"replicas": 1},
        });
        let unknown = prune_unknown(deployment, &mut object, true, PathStyle::Json);
        assert_eq!(unknown, ["metadata.bogus", "spec.replica", "spec.template.spec.containers[0].imagePullPolcy"]);
        assert_eq!(
            object,
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d", "labels": {"any": "key"}},
                "spec": {"selector": {"matchLabels": {"a": "b"}},
                         "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}},
                "status": {"replicas": 1},
            })
        );
    }

    #[test]
    fn apply_paths_name_keyed_list_items_by_their_keys() {
        let deployment = rt("apps", "v1", "deployments");
        let config = json!({"spec": {"template": {"spec": {"containers": [{"name": "nodejs", "bogus": 1}]}}}});
        assert_eq!(
            unknown_in_patch(deployment, &config, PathStyle::Apply),
            [".spec.template.spec.containers[name=\"nodejs\"].bogus"]
        );
    }

    #[test]
    fn known_fields_of_every_shape_are_kept() {
        // Maps, IntOrString, Quantity, RawExtension, FieldsV1, managedFields, ownerReferences.
        let pod = rt("", "v1", "pods");
        let mut object = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "p", "namespace": "default", "uid": "u", "resourceVersion": "1", "generation": 1,
                "creationTimestamp": "2024-01-01T00:00:00Z", "labels": {"a": "b"}, "annotations": {"x/y": "z"},
                "finalizers": ["f"], "ownerReferences": [{"apiVersion": "v1", "kind": "K", "name": "n", "uid": "u"}],
                "managedFields": [{"manager": "m", "operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1",
                                   "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:a": {}}}}}],
            },
            "spec": {"containers": [{
                "name": "c", "image": "i",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "resources": {"limits": {"cpu": "1", "memory": 128}},
                "livenessProbe": {"httpGet": {"port": "http", "path": "/"}},
                "env": [{"name": "E", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            }], "nodeSelector": {"k": "v"}},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
        });
        let before = object.clone();
        assert!(prune_unknown(pod, &mut object, true, PathStyle::Json).is_empty());
        assert_eq!(object, before);
        let controller_revision = rt("apps", "v1", "controllerrevisions");
        let mut revision = json!({"metadata": {"name": "r"}, "revision": 1, "data": {"spec": {"anything": [1]}}});
        assert!(prune_unknown(controller_revision, &mut revision, true, PathStyle::Json).is_empty());
        let configmap = rt("", "v1", "configmaps");
        let mut cm =
            json!({"metadata": {"name": "c"}, "data": {"k": "v"}, "binaryData": {"b": "AA=="}, "immutable": true});
        assert!(prune_unknown(configmap, &mut cm, true, PathStyle::Json).is_empty());
    }

    #[test]
    fn custom_resource_definition_schemas_are_free_form_json() {
        let crds = rt("apiextensions.k8s.io", "v1", "customresourcedefinitions");
        let mut crd = json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"}, "scope": "Namespaced",
                     "versions": [{"name": "v1", "served": true, "storage": true,
                                   "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                                                                  "properties": {"spec": {"type": "object", "default": {"a": 1}}}}}}]},
        });
        assert!(prune_unknown(crds, &mut crd, true, PathStyle::Json).is_empty());
    }

    #[test]
    fn check_object_follows_the_mode() {
        let configmap = rt("", "v1", "configmaps");
        let body = json!({"metadata": {"name": "c"}, "dta": {"k": "v"}});
        let mut strict = body.clone();
        let error = check_object(configmap, FieldValidation::Strict, &mut strict).unwrap_err();
        assert_eq!(error.code, 400);
        assert_eq!(
            error.message,
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"dta\""
        );
        let mut warn = body.clone();
        assert_eq!(check_object(configmap, FieldValidation::Warn, &mut warn).unwrap(), ["unknown field \"dta\""]);
        assert_eq!(warn, json!({"metadata": {"name": "c"}}));
        let mut ignore = body;
        assert!(check_object(configmap, FieldValidation::Ignore, &mut ignore).unwrap().is_empty());
        assert_eq!(ignore, json!({"metadata": {"name": "c"}}));
    }

    #[test]
    fn duplicates_are_found_with_their_paths_and_lines() {
        let body = br#"{"metadata": {"name": "a", "name": "b", "labels": {"x": "1", "x": "2"}},
            "spec": {"containers": [{"name": "c", "image": "i", "image": "j"}], "a\"b": 1, "a\"b": 2},
            "list": [[], {}, "s", 1.5e3, null, true]}"#;
        let found = duplicate_fields(body);
        let paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["metadata.name", "metadata.labels.x", "spec.containers[0].image", "spec.a\"b"]);
        assert_eq!(found.iter().map(|d| d.line).collect::<Vec<_>>(), [1, 1, 2, 2]);
        assert!(duplicate_fields(br#"{"a": {"b": 1}, "c": {"b": 2}}"#).is_empty());
    }

    #[test]
    fn duplicates_inside_unknown_fields_are_reported_as_unknown_only() {
        let duplicates =
            duplicate_fields(br#"{"metadata": {"name": "a", "name": "b"}, "bogus": {"x": 1, "x": 2}, "bogus": 1}"#);
        assert_eq!(
            strict_errors(&["bogus".to_string()], &duplicates),
            ["unknown field \"bogus\"", "duplicate field \"metadata.name\""]
        );
    }
}
