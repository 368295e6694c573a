//! OpenAPI v3, generated: one document per served group-version, built from the registry (paths)
//! and k8s-openapi's JSON schemas (components), plus an index. API-semantics spec section 1.5;
//! kubectl-wire sections 3.1, 3.12 and 3.16.
//!
//! # Endpoints
//!
//! * `GET /openapi/v3` — the index: `{"paths": {"apis/apps/v1": {"serverRelativeURL":
//!   "/openapi/v3/apis/apps/v1?hash=<H>"}, …}}`, one entry per served group-version (core is
//!   `api/v1`). `H` is the document's ETag, so it changes exactly when the document does.
//! * `GET /openapi/v3/api/v1`, `/openapi/v3/apis/<group>/<version>` — an OpenAPI 3.0 document:
//!   [`paths`] (every operation with `x-kubernetes-group-version-kind`; `patch` with the
//!   `fieldValidation` query parameter that makes `kubectl create/apply -f` trust the server to
//!   validate) and `components.schemas` ([`bosun_api::openapi`]: the kinds with their GVK list,
//!   everything they reference, descriptions, and patch metadata). Any `hash` query is ignored:
//!   the current document is always served.
//! * `GET /openapi/v2` — Swagger 2.0 in JSON, converted from the v3 documents (`v2.rs`); a
//!   request that accepts only protobuf (kubectl's fallback) gets 406.
//!
//! # Caching
//!
//! Each document is generated on its first request and kept for the life of the process (the
//! registry and schemas are compiled in, so a document never changes while the process runs);
//! the index, which needs every document's hash, generates them all on its first request.
//! Responses carry `ETag: "<hash>"`; a request whose `If-None-Match` equals it gets `304` with no
//! body, which kubectl's HTTP cache sends on every run after the first.
//!
//! # Differences from kube-apiserver's documents
//!
//! * No `enum` lists and no `default`s: k8s-openapi's schemas do not carry them, so `kubectl
//!   explain` prints no `enum:` lines.
//! * Patch metadata and list types only for the fields the strategic-merge-patch table lists (it
//!   lists every field that has a patch strategy, in the types it covers); list-map keys are the
//!   merge key alone, where upstream's are sometimes wider (container ports are keyed by
//!   `containerPort` and `protocol`). No `x-kubernetes-map-type` or `x-kubernetes-unions`.
//! * Only item and collection paths: no list or watch operations, no subresources (`scale`,
//!   `status`), so no `<Kind>List` or `Scale` schemas.
//! * JSON only (no protobuf), and the hash is 64 bits rather than SHA-512.

mod paths;
mod v2;

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{LazyLock, OnceLock};

use axum::response::{IntoResponse, Response};
use bosun_api::registry::{self, ResourceType};
use bosun_api::status::Status;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::respond;
use crate::service::{HttpState, json_bytes};

/// A generated document, serialized once.
struct Document {
    /// The document, for the v2 conversion.
    value: Value,
    /// The JSON text.
    body: Bytes,
    /// A hash of `body`: the `ETag` (quoted) and the index's `?hash=`.
    hash: String,
}

impl Document {
    fn new(value: &Value) -> Document {
        let body = serde_json::to_vec(value).expect("a JSON value serializes");
        let mut hasher = DefaultHasher::new();
        body.hash(&mut hasher);
        Document { hash: format!("{:016X}", hasher.finish()), body: body.into(), value: value.clone() }
    }
}

/// The index key of a group-version: `api/v1`, `apis/apps/v1`.
fn gv_key(group: &str, version: &str) -> String {
    if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") }
}

/// The document of one served group-version, generated on first use.
struct Slot {
    group: &'static str,
    version: &'static str,
    document: OnceLock<Document>,
}

/// One slot per served group-version, by index key.
static DOCUMENTS: LazyLock<HashMap<String, Slot>> = LazyLock::new(|| {
    registry::group_versions()
        .flat_map(|(group, versions)| versions.iter().map(move |version| (group, *version)))
        .map(|(group, version)| (gv_key(group, version), Slot { group, version, document: OnceLock::new() }))
        .collect()
});

static INDEX: OnceLock<Document> = OnceLock::new();

static V2: OnceLock<Document> = OnceLock::new();

/// The v2 document (JSON), converted once from every group-version's v3 document.
fn v2_document() -> &'static Document {
    V2.get_or_init(|| {
        let keys: Vec<String> = registry::group_versions()
            .flat_map(|(group, versions)| versions.iter().map(move |version| gv_key(group, version)))
            .collect();
        let documents = keys.iter().filter_map(|key| document(key)).map(|d| d.value.clone());
        Document::new(&v2::document(documents))
    })
}

/// Whether an `Accept` header admits JSON (absent, `*/*`, `application/*` or `application/json`).
fn accepts_json(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return true };
    accept.split(',').any(|entry| {
        matches!(entry.split(';').next().unwrap_or("").trim(), "" | "*/*" | "application/*" | "application/json")
    })
}

/// The cached document of the group-version with index key `key`, if it is served.
fn document(key: &str) -> Option<&'static Document> {
    let slot = DOCUMENTS.get(key)?;
    Some(slot.document.get_or_init(|| Document::new(&group_version_document(slot.group, slot.version))))
}

/// The OpenAPI v3 document of one group-version (empty `paths` for one that serves nothing).
fn group_version_document(group: &str, version: &str) -> Value {
    let resources: Vec<&'static ResourceType> = registry::resources(group, version).collect();
    let components = bosun_api::openapi::components(group, version);
    let schemas = components.map(|c| c.schemas.clone()).unwrap_or_default();
    let mut paths = Map::new();
    for rt in &resources {
        let kind = components.and_then(|c| c.kinds.get(rt.kind)).cloned().unwrap_or_default();
        paths::add_resource(&mut paths, rt, &kind);
    }
    json!({
        "openapi": "3.0.0",
        "info": {
            "title": "Bosun",
            "version": format!("v{}.{}", crate::endpoints::KUBERNETES_MAJOR, crate::endpoints::KUBERNETES_MINOR),
        },
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// The v3 index: one entry per served group-version, in discovery order.
fn index() -> &'static Document {
    INDEX.get_or_init(|| {
        let mut paths = Map::new();
        for (group, versions) in registry::group_versions() {
            for version in versions {
                let key = gv_key(group, version);
                if let Some(document) = document(&key) {
                    let url = format!("/openapi/v3/{key}?hash={}", document.hash);
                    paths.insert(key, json!({ "serverRelativeURL": url }));
                }
            }
        }
        Document::new(&json!({ "paths": paths }))
    })
}

/// Serves `/openapi/v3`, `/openapi/v3/{gv}` and `/openapi/v2` (JSON) with ETags.
pub fn serve(_state: &HttpState, method: &Method, path: &str, headers: &HeaderMap) -> Response {
    if !matches!(*method, Method::GET | Method::HEAD) {
        return respond::status(&Status::method_not_allowed(method.as_str()));
    }
    let document = match path {
        "/openapi/v3" => Some(index()),
        "/openapi/v2" if accepts_json(headers) => Some(v2_document()),
        // kubectl's protobuf-only request: Bosun does not serve protobuf OpenAPI.
        "/openapi/v2" => return respond::status(&Status::not_acceptable("application/json")),
        other => other.strip_prefix("/openapi/v3/").and_then(document),
    };
    let Some(document) = document else {
        return respond::status(&Status::path_not_found());
    };
    let etag = format!("\"{}\"", document.hash);
    let etag_value = HeaderValue::from_str(&etag).expect("hex is a valid header");
    let matches = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag);
    if matches {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response();
    }
    let mut response = json_bytes(StatusCode::OK, document.body.clone());
    response.headers_mut().insert(header::ETAG, etag_value);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(document: &Document) -> Value {
        serde_json::from_slice(&document.body).unwrap()
    }

    #[test]
    fn the_index_lists_every_group_version_with_its_documents_hash() {
        let index = parsed(index());
        let apps = index["paths"]["apis/apps/v1"]["serverRelativeURL"].as_str().unwrap();
        assert_eq!(apps, format!("/openapi/v3/apis/apps/v1?hash={}", document("apis/apps/v1").unwrap().hash));
        assert!(index["paths"]["api/v1"].is_object());
        assert!(index["paths"]["apis/autoscaling/v1"].is_object() && index["paths"]["apis/autoscaling/v2"].is_object());
        assert!(document("apis/nope/v1").is_none());
    }

    #[test]
    fn documents_are_generated_once_and_their_hash_is_stable() {
        let first = document("apis/batch/v1").unwrap();
        assert!(std::ptr::eq(first, document("apis/batch/v1").unwrap()));
        assert_eq!(Document::new(&group_version_document("batch", "v1")).hash, first.hash);
    }

    #[test]
    fn the_apps_document_lets_kubectl_explain_find_deployment_spec_strategy() {
        let apps = parsed(document("apis/apps/v1").unwrap());
        assert_eq!(apps["openapi"], "3.0.0");
        // kubectl explain: the GVK from the resource's paths, then the schema carrying it.
        let gvk = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["post"]["x-kubernetes-group-version-kind"];
        assert_eq!(gvk, &json!({"group": "apps", "version": "v1", "kind": "Deployment"}));
        let schemas = apps["components"]["schemas"].as_object().unwrap();
        let with_gvk: Vec<&String> = schemas
            .iter()
            .filter(|(_, s)| s["x-kubernetes-group-version-kind"].as_array().is_some_and(|l| l.contains(gvk)))
            .map(|(name, _)| name)
            .collect();
        assert_eq!(with_gvk, ["io.k8s.api.apps.v1.Deployment"]);
        let spec_ref = apps["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"]["allOf"][0]
            ["$ref"]
            .as_str()
            .unwrap();
        let spec = &schemas[spec_ref.trim_start_matches("#/components/schemas/")];
        let strategy = &spec["properties"]["strategy"];
        assert!(strategy["description"].as_str().unwrap().starts_with("The deployment strategy"), "{strategy}");
    }
}
