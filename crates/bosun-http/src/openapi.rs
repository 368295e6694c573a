//! OpenAPI v3, generated from the registry: one document per group-version whose item paths carry
//! `x-kubernetes-group-version-kind` and whose PATCH operations declare `fieldValidation`, which
//! is what `kubectl create -f` and `apply -f` look for before trusting the server to validate
//! (`--validate=strict`). Documents carry an ETag; a matching `If-None-Match` gets 304.
//!
//! Not yet served: component schemas (so `kubectl explain` cannot work) and `/openapi/v2`
//! (kubectl asks for it in protobuf only as a fallback; answered 404).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use axum::response::{IntoResponse, Response};
use bosun_api::registry::{self, ResourceType};
use bosun_api::status::Status;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::respond;
use crate::service::HttpState;

fn gv_key(group: &str, version: &str) -> String {
    if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") }
}

fn hash_of(value: &Value) -> String {
    let mut hasher = DefaultHasher::new();
    value.to_string().hash(&mut hasher);
    format!("{:016X}", hasher.finish())
}

fn query_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

fn operation(rt: &ResourceType, action: &str, extra_params: Vec<Value>, body: Option<Vec<&str>>) -> Value {
    let mut op = json!({
        "operationId": format!("{action}{}", rt.kind),
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
    });
    if !extra_params.is_empty() {
        op["parameters"] = Value::Array(extra_params);
    }
    if let Some(types) = body {
        let content: Map<String, Value> =
            types.into_iter().map(|t| (t.to_string(), json!({"schema": {"type": "object"}}))).collect();
        op["requestBody"] = json!({"content": content, "required": true});
    }
    op
}

/// The OpenAPI v3 document of one group-version.
pub fn group_version_document(group: &str, version: &str) -> Option<Value> {
    let resources: Vec<&ResourceType> = registry::resources(group, version).collect();
    if resources.is_empty() {
        return None;
    }
    let prefix = if group.is_empty() { format!("/api/{version}") } else { format!("/apis/{group}/{version}") };
    let mut paths = Map::new();
    for rt in resources {
        let item = if rt.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", rt.plural)
        } else {
            format!("{prefix}/{}/{{name}}", rt.plural)
        };
        let write_params = || {
            vec![
                query_param("dryRun", "When present, indicates that modifications should not be persisted."),
                query_param("fieldManager", "A name associated with the actor or entity that is making these changes."),
                query_param(
                    "fieldValidation",
                    "How the server handles unknown or duplicate fields: Ignore, Warn or Strict.",
                ),
            ]
        };
        let mut path_item = Map::new();
        if rt.verbs.contains(&"get") {
            path_item.insert("get".into(), operation(rt, "get", vec![], None));
        }
        if rt.verbs.contains(&"update") {
            path_item.insert(
                "put".into(),
                operation(rt, "put", write_params(), Some(vec!["application/json", "application/yaml"])),
            );
        }
        if rt.verbs.contains(&"patch") {
            let mut params = write_params();
            params.push(query_param("force", "Force is going to force Apply requests."));
            let types = vec![
                "application/apply-patch+yaml",
                "application/json-patch+json",
                "application/merge-patch+json",
                "application/strategic-merge-patch+json",
            ];
            path_item.insert("patch".into(), operation(rt, "patch", params, Some(types)));
        }
        if rt.verbs.contains(&"delete") {
            path_item.insert("delete".into(), operation(rt, "delete", vec![query_param("dryRun", "dry run")], None));
        }
        if !path_item.is_empty() {
            paths.insert(item, Value::Object(path_item));
        }
        if rt.verbs.contains(&"create") {
            let collection = if rt.namespaced {
                format!("{prefix}/namespaces/{{namespace}}/{}", rt.plural)
            } else {
                format!("{prefix}/{}", rt.plural)
            };
            let post = operation(rt, "post", write_params(), Some(vec!["application/json", "application/yaml"]));
            paths.insert(collection, json!({"post": post}));
        }
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Bosun", "version": format!("v{}.{}", crate::endpoints::KUBERNETES_MAJOR, crate::endpoints::KUBERNETES_MINOR)},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}

/// The v3 index: one entry per served group-version.
pub fn index() -> Value {
    let mut paths = Map::new();
    for (group, versions) in registry::group_versions() {
        for version in versions {
            if let Some(document) = group_version_document(group, version) {
                let key = gv_key(group, version);
                let url = format!("/openapi/v3/{key}?hash={}", hash_of(&document));
                paths.insert(key, json!({"serverRelativeURL": url}));
            }
        }
    }
    json!({ "paths": paths })
}

/// Serves `/openapi/v3` and `/openapi/v3/{gv}` with ETags; `/openapi/v2` is 404.
pub fn serve(_state: &HttpState, method: &Method, path: &str, headers: &HeaderMap) -> Response {
    if !matches!(*method, Method::GET | Method::HEAD) {
        return respond::status(&Status::method_not_allowed(method.as_str()));
    }
    let document = match path {
        "/openapi/v3" => Some(index()),
        "/openapi/v2" => None,
        other => {
            let key = other.trim_start_matches("/openapi/v3/");
            let mut parts = key.split('/');
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some("api"), Some(version), None, None) => group_version_document("", version),
                (Some("apis"), Some(group), Some(version), None) => group_version_document(group, version),
                _ => None,
            }
        }
    };
    let Some(document) = document else {
        return respond::status(&Status::path_not_found());
    };
    let etag = format!("\"{}\"", hash_of(&document));
    let matches = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag);
    let etag_value = HeaderValue::from_str(&etag).expect("hex is a valid header");
    if matches {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response();
    }
    let mut response = respond::json(StatusCode::OK, &document);
    response.headers_mut().insert(header::ETAG, etag_value);
    response
}
