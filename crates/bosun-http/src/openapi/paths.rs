//! `paths` of a group-version document: for each resource, its item path
//! (`/apis/apps/v1/namespaces/{namespace}/deployments/{name}`) with `get`/`put`/`patch`/`delete`
//! and its collection path with `post`, as the resource's verbs allow.
//!
//! Every operation carries `x-kubernetes-group-version-kind` (an object) and
//! `x-kubernetes-action`. `kubectl create -f`/`apply -f` look for a `patch` operation with the
//! kind's GVK and an inline `fieldValidation` query parameter before trusting the server to
//! validate; `kubectl explain` finds a resource's GVK through these paths and then the schema
//! carrying that GVK. Bodies and responses reference the component schemas.

use bosun_api::registry::ResourceType;
use serde_json::{Map, Value, json};

use bosun_api::openapi::schemas::{DELETE_OPTIONS, PATCH, REF_PREFIX, STATUS};

/// The media types Bosun reads and writes objects in.
const OBJECT_MEDIA_TYPES: &[&str] = &["application/json", "application/yaml"];
/// The patch types a `patch` operation accepts (kubectl needs to see strategic merge patch).
const PATCH_MEDIA_TYPES: &[&str] = &[
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];

fn reference(definition: &str) -> Value {
    json!({"$ref": format!("{REF_PREFIX}{definition}")})
}

fn content(media_types: &[&str], definition: &str) -> Value {
    Value::Object(media_types.iter().map(|t| (t.to_string(), json!({"schema": reference(definition)}))).collect())
}

fn responses(codes: &[(&str, &str)], definition: &str) -> Value {
    let mut out: Map<String, Value> = codes
        .iter()
        .map(|(code, description)| {
            (code.to_string(), json!({"description": description, "content": content(OBJECT_MEDIA_TYPES, definition)}))
        })
        .collect();
    out.insert("401".into(), json!({"description": "Unauthorized"}));
    Value::Object(out)
}

fn query_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

fn write_params() -> Vec<Value> {
    vec![
        query_param("dryRun", "When present, indicates that modifications should not be persisted."),
        query_param("fieldManager", "A name associated with the actor or entity that is making these changes."),
        query_param("fieldValidation", "How the server handles unknown or duplicate fields: Ignore, Warn or Strict."),
    ]
}

fn operation(rt: &ResourceType, action: &str, params: Vec<Value>, body: Option<Value>, responses: Value) -> Value {
    let mut op = json!({
        "operationId": format!("{action}{}", rt.kind),
        "responses": responses,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
    });
    if !params.is_empty() {
        op["parameters"] = Value::Array(params);
    }
    if let Some(body) = body {
        op["requestBody"] = body;
    }
    op
}

/// Adds the paths of `rt` to `paths`; `kind` is the definition name of its schema.
pub fn add_resource(paths: &mut Map<String, Value>, rt: &ResourceType, kind: &str) {
    let prefix = rt.group_version().path_prefix();
    let collection = if rt.namespaced {
        format!("{prefix}/namespaces/{{namespace}}/{}", rt.plural)
    } else {
        format!("{prefix}/{}", rt.plural)
    };
    let object_body = || json!({"content": content(OBJECT_MEDIA_TYPES, kind), "required": true});

    let mut item = Map::new();
    if rt.supports("get") {
        item.insert("get".into(), operation(rt, "get", vec![], None, responses(&[("200", "OK")], kind)));
    }
    if rt.supports("update") {
        let responses = responses(&[("200", "OK"), ("201", "Created")], kind);
        item.insert("put".into(), operation(rt, "put", write_params(), Some(object_body()), responses));
    }
    if rt.supports("patch") {
        let mut params = write_params();
        params.push(query_param("force", "Force is going to force Apply requests."));
        let body = json!({"content": content(PATCH_MEDIA_TYPES, PATCH), "required": true});
        let responses = responses(&[("200", "OK"), ("201", "Created")], kind);
        item.insert("patch".into(), operation(rt, "patch", params, Some(body), responses));
    }
    if rt.supports("delete") {
        let deleted = if rt.delete_returns_object { kind } else { STATUS };
        let body = json!({"content": content(&["application/json"], DELETE_OPTIONS)});
        let params = vec![query_param("dryRun", "When present, indicates that modifications should not be persisted.")];
        let responses = responses(&[("200", "OK"), ("202", "Accepted")], deleted);
        item.insert("delete".into(), operation(rt, "delete", params, Some(body), responses));
    }
    if !item.is_empty() {
        paths.insert(format!("{collection}/{{name}}"), Value::Object(item));
    }
    if rt.supports("create") {
        let responses = responses(&[("200", "OK"), ("201", "Created"), ("202", "Accepted")], kind);
        let post = operation(rt, "post", write_params(), Some(object_body()), responses);
        paths.insert(collection, json!({ "post": post }));
    }
}

#[cfg(test)]
mod tests {
    use bosun_api::registry;

    use super::*;

    fn paths_of(group: &str, version: &str, plural: &str) -> Map<String, Value> {
        let rt = registry::find(group, version, plural).unwrap();
        let mut paths = Map::new();
        add_resource(&mut paths, rt, &format!("io.k8s.test.{}", rt.kind));
        paths
    }

    #[test]
    fn patch_advertises_field_validation_and_strategic_merge_patch_for_its_kind() {
        let paths = paths_of("apps", "v1", "deployments");
        let patch = &paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"],
            json!({"group": "apps", "version": "v1", "kind": "Deployment"})
        );
        let params = patch["parameters"].as_array().unwrap();
        assert!(params.iter().any(|p| p["name"] == "fieldValidation" && p["in"] == "query"));
        let body = &patch["requestBody"]["content"];
        assert_eq!(body["application/strategic-merge-patch+json"]["schema"]["$ref"], format!("{REF_PREFIX}{PATCH}"));
        assert_eq!(
            patch["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/io.k8s.test.Deployment"
        );
    }

    #[test]
    fn cluster_scoped_paths_have_no_namespace_and_delete_answers_what_the_type_returns() {
        let paths = paths_of("", "v1", "namespaces");
        let item = &paths["/api/v1/namespaces/{name}"];
        let deleted = &item["delete"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(deleted, "#/components/schemas/io.k8s.test.Namespace", "namespaces return the object");
        assert!(paths["/api/v1/namespaces"]["post"].is_object());
        let configmaps = paths_of("", "v1", "configmaps");
        let deleted = &configmaps["/api/v1/namespaces/{namespace}/configmaps/{name}"]["delete"]["responses"]["200"];
        assert_eq!(deleted["content"]["application/json"]["schema"]["$ref"], format!("{REF_PREFIX}{STATUS}"));
    }

    #[test]
    fn create_only_resources_have_only_a_collection_post() {
        let paths = paths_of("authorization.k8s.io", "v1", "selfsubjectaccessreviews");
        assert_eq!(paths.len(), 1);
        assert!(paths["/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"]["post"].is_object());
    }
}
