//! Discovery documents: how kubectl, client-go and kube-rs learn which resources exist.
//!
//! Every document is built from the [`registry`] table, so discovery can never disagree with what
//! the router serves. The builders return `serde_json::Value`; the HTTP layer serialises them,
//! sets the Content-Type and, for the aggregated documents, an `ETag` ([`etag`]) and
//! `Vary: Accept`. The documents depend only on the static registry and the advertised address,
//! so the HTTP layer may build them once and cache the bytes.
//!
//! # Legacy (v1) documents — MUST
//!
//! | request | builder | document |
//! |---|---|---|
//! | `GET /api` | [`api_versions`] | `APIVersions`: `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[…]}` |
//! | `GET /apis` | [`api_group_list`] | `APIGroupList`; the core group is **not** listed |
//! | `GET /apis/{g}` | [`api_group`] | `APIGroup`: `versions` preferred first, plus `preferredVersion` |
//! | `GET /api/v1`, `GET /apis/{g}/{v}` | [`api_resource_list`] | `APIResourceList` |
//!
//! Every `APIGroup` carries `serverAddressByClientCIDRs` with the one advertised address, as the
//! generic API server's `/apis` handler does (kube-apiserver's aggregator omits it; clients
//! ignore it either way).
//!
//! Like kube-apiserver, `/api` and `/api/v1` carry no `apiVersion`; the others carry `"v1"`.
//! In an `APIResourceList` every top-level resource is followed by its subresources, named
//! `plural/sub` (`deployments/scale`), with an empty `singularName`, and with `group`/`version` set
//! only when the subresource's kind lives elsewhere (`deployments/scale` is `autoscaling/v1`
//! `Scale`, `pods/eviction` is `policy/v1` `Eviction`). `shortNames` and `categories` are omitted
//! when empty. Top-level resources that are persisted carry a `storageVersionHash`
//! ([`storage_version_hash`]); create-only and virtual types (reviews, `bindings`,
//! `componentstatuses`) carry none, as upstream.
//!
//! # Aggregated (apidiscovery.k8s.io/v2) documents — P1
//!
//! client-go asks `/api` and `/apis` for `APIGroupDiscoveryList` and decides the format from the
//! response **Content-Type** alone: [`AGGREGATED_CONTENT_TYPE`]. [`wants_aggregated`] reads the
//! request's `Accept` header. An aggregated answer must be complete, because clients then stop
//! fetching per-group-version documents:
//!
//! * [`aggregated_core`] (`/api`): one item with empty `metadata`, holding core `v1`.
//! * [`aggregated_groups`] (`/apis`): one item per named group (`metadata.name`), versions
//!   preferred first, each `{"version", "resources", "freshness":"Current"}`.
//! * A resource is `{"resource","responseKind":{"group","version","kind"},"scope":"Namespaced"|"Cluster",
//!   "singularResource","verbs", "shortNames"?, "categories"?, "subresources"?}` and a subresource
//!   `{"subresource","responseKind","verbs"}`. `responseKind` always spells out group and version
//!   (as upstream does for custom resources); clients accept both that and upstream's empty
//!   strings for built-ins.
//!
//! # Order
//!
//! Groups and versions follow [`registry::group_versions`]; resources within a version are sorted
//! by plural and subresources by name, as in kube-apiserver.

use base64::Engine as _;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::registry::{self, ResourceType, SubresourceType};

/// The Content-Type of an aggregated discovery answer. client-go parses the body as
/// `APIGroupDiscoveryList` only when the response carries exactly these parameters (in any order);
/// with plain `application/json` it falls back to the per-group-version documents.
pub const AGGREGATED_CONTENT_TYPE: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// `apiVersion` of an aggregated discovery document.
pub const AGGREGATED_API_VERSION: &str = "apidiscovery.k8s.io/v2";

/// The group, version and kind the aggregated media type names (its `g`, `v` and `as` parameters).
const AGGREGATED_GROUP: &str = "apidiscovery.k8s.io";
const AGGREGATED_VERSION: &str = "v2";
const AGGREGATED_KIND: &str = "APIGroupDiscoveryList";

/// How many media ranges of an `Accept` header are looked at; real clients send at most four, and
/// the bound keeps a hostile header from costing more than a few microseconds.
const ACCEPT_RANGES_MAX: usize = 32;

/// The only CIDR Bosun advertises in `serverAddressByClientCIDRs`: every client gets the same address.
const ALL_CLIENTS_CIDR: &str = "0.0.0.0/0";

/// `storageVersionHash`: standard base64 of the first 8 bytes of SHA-256 over
/// `"<group>/<version>/<Kind>"` of the version the resource is *stored* as. The core group is the
/// empty string, so `/v1/Pod` hashes to `xPOwRZ+Yhw8=`. Clients only compare it for equality, to
/// notice that storage moved (storage-migration tooling).
pub fn storage_version_hash(group: &str, version: &str, kind: &str) -> String {
    let digest = Sha256::digest(format!("{group}/{version}/{kind}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest[..8])
}

/// `GET /api`: the `APIVersions` document. `server_address` is the `host:port` clients should use
/// (kubectl ignores it, but the field is part of the type).
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": server_addresses(server_address),
    })
}

/// `GET /apis`: the `APIGroupList` of every named group, in discovery order. `server_address` is
/// advertised as in [`api_versions`].
pub fn api_group_list(server_address: &str) -> Value {
    let groups: Vec<Value> =
        registry::groups().filter(|group| !group.is_empty()).map(|group| group_entry(group, server_address)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/{group}`: the `APIGroup` document, or `None` when no such named group is served
/// (answer 404). The core group has no such document (`/api` lists its versions).
pub fn api_group(group: &str, server_address: &str) -> Option<Value> {
    if group.is_empty() || registry::preferred_version(group).is_none() {
        return None;
    }
    let mut document = group_entry(group, server_address);
    let object = document.as_object_mut().expect("group_entry builds an object");
    object.insert("kind".into(), "APIGroup".into());
    object.insert("apiVersion".into(), "v1".into());
    Some(document)
}

/// `GET /api/v1` (group `""`) or `GET /apis/{group}/{version}`: the `APIResourceList`, or `None`
/// when the group-version is not served (answer 404).
pub fn api_resource_list(group: &str, version: &str) -> Option<Value> {
    let gv = registry::group_version(group, version)?;
    let resources: Vec<Value> = registry::resources(group, version).flat_map(api_resources).collect();
    let mut document = Map::new();
    document.insert("kind".into(), "APIResourceList".into());
    // kube-apiserver strips apiVersion from the core list; keep the quirk so byte-level
    // comparisons against a real server stay meaningful.
    if !group.is_empty() {
        document.insert("apiVersion".into(), "v1".into());
    }
    document.insert("groupVersion".into(), gv.api_version().into());
    document.insert("resources".into(), resources.into());
    Some(Value::Object(document))
}

/// The `APIResource` entries of one type: the resource itself, then each subresource.
pub fn api_resources(rt: &ResourceType) -> Vec<Value> {
    let mut entries = Vec::with_capacity(1 + rt.subresources.len());
    let mut resource = Map::new();
    resource.insert("name".into(), rt.plural.into());
    resource.insert("singularName".into(), rt.singular.into());
    resource.insert("namespaced".into(), rt.namespaced.into());
    resource.insert("kind".into(), rt.kind.into());
    resource.insert("verbs".into(), rt.verbs.into());
    insert_unless_empty(&mut resource, "shortNames", rt.short_names);
    insert_unless_empty(&mut resource, "categories", rt.categories);
    if let Some(storage) = rt.storage {
        resource
            .insert("storageVersionHash".into(), storage_version_hash(storage.group, storage.version, rt.kind).into());
    }
    entries.push(Value::Object(resource));
    for sub in rt.subresources {
        let mut entry = Map::new();
        entry.insert("name".into(), format!("{}/{}", rt.plural, sub.name).into());
        entry.insert("singularName".into(), "".into());
        entry.insert("namespaced".into(), rt.namespaced.into());
        // group and version are only set when the kind lives outside the list's group-version.
        if sub.group_version() != rt.group_version() {
            entry.insert("group".into(), sub.group.into());
            entry.insert("version".into(), sub.version.into());
        }
        entry.insert("kind".into(), sub.kind.into());
        entry.insert("verbs".into(), sub.verbs.into());
        entries.push(Value::Object(entry));
    }
    entries
}

/// `GET /api` answered in the aggregated format: one item, with empty metadata, for core `v1`.
pub fn aggregated_core() -> Value {
    let versions: Vec<Value> = registry::versions_of("").iter().map(|version| version_discovery("", version)).collect();
    discovery_list(vec![json!({"metadata": {}, "versions": versions})])
}

/// `GET /apis` answered in the aggregated format: one item per named group, in discovery order.
pub fn aggregated_groups() -> Value {
    let items = registry::groups()
        .filter(|group| !group.is_empty())
        .map(|group| {
            let versions: Vec<Value> =
                registry::versions_of(group).iter().map(|version| version_discovery(group, version)).collect();
            json!({"metadata": {"name": group}, "versions": versions})
        })
        .collect();
    discovery_list(items)
}

/// The aggregated (`APIResourceDiscovery`) entry of one type, its subresources nested inside.
pub fn resource_discovery(rt: &ResourceType) -> Value {
    let mut resource = Map::new();
    resource.insert("resource".into(), rt.plural.into());
    resource.insert("responseKind".into(), response_kind(rt.group, rt.version, rt.kind));
    resource.insert("scope".into(), (if rt.namespaced { "Namespaced" } else { "Cluster" }).into());
    resource.insert("singularResource".into(), rt.singular.into());
    resource.insert("verbs".into(), rt.verbs.into());
    insert_unless_empty(&mut resource, "shortNames", rt.short_names);
    insert_unless_empty(&mut resource, "categories", rt.categories);
    if !rt.subresources.is_empty() {
        let subresources: Vec<Value> = rt.subresources.iter().map(subresource_discovery).collect();
        resource.insert("subresources".into(), subresources.into());
    }
    Value::Object(resource)
}

/// Whether a request for `/api` or `/apis` with this `Accept` header should get the aggregated
/// document. Media ranges are tried by quality, then in the order given, and the first one Bosun
/// can produce decides: the v2 type (also with `profile=nopeer`, which a single server satisfies
/// trivially) means aggregated; `application/json`, `application/*` or `*/*` mean the legacy
/// document. Anything else (`v=v2beta1`, protobuf, `as=Table`) is skipped. No header means legacy.
pub fn wants_aggregated(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return false };
    let mut ranges: Vec<(f32, Offer)> =
        accept.split(',').take(ACCEPT_RANGES_MAX).filter_map(parse_media_range).collect();
    // A stable sort keeps the client's order among equal qualities.
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranges.into_iter().find_map(|(_, offer)| match offer {
        Offer::Aggregated => Some(true),
        Offer::Plain => Some(false),
        Offer::Unsupported => None,
    }) == Some(true)
}

/// A strong `ETag` for a document: the quoted upper-case hex SHA-256 of its JSON serialisation.
/// Aggregated discovery answers carry it, and a matching `If-None-Match` gets `304`.
pub fn etag(document: &Value) -> String {
    let bytes = serde_json::to_vec(document).expect("a serde_json::Value always serialises");
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().map(|byte| format!("{byte:02X}")).collect();
    format!("\"{hex}\"")
}

/// What one media range of an `Accept` header asks for.
enum Offer {
    /// `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`.
    Aggregated,
    /// Plain JSON, or a wildcard that JSON satisfies.
    Plain,
    /// Something Bosun does not produce for discovery.
    Unsupported,
}

/// Parses one media range into its quality and offer; `None` for empty ranges and `q=0`.
fn parse_media_range(range: &str) -> Option<(f32, Offer)> {
    let mut parts = range.split(';').map(str::trim);
    let media_type = parts.next().filter(|media_type| !media_type.is_empty())?.to_ascii_lowercase();
    let (mut quality, mut group, mut version, mut kind) = (1.0_f32, None, None, None);
    let mut other_parameters = false;
    for parameter in parts.filter(|parameter| !parameter.is_empty()) {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        let value = value.trim().trim_matches('"');
        match name.trim().to_ascii_lowercase().as_str() {
            "q" => quality = value.parse().unwrap_or(0.0),
            "g" => group = Some(value),
            "v" => version = Some(value),
            "as" => kind = Some(value),
            "profile" if value == "nopeer" => {}
            _ => other_parameters = true,
        }
    }
    if quality <= 0.0 {
        return None;
    }
    let offer = match (media_type.as_str(), group, version, kind) {
        ("application/json", Some(AGGREGATED_GROUP), Some(AGGREGATED_VERSION), Some(AGGREGATED_KIND))
            if !other_parameters =>
        {
            Offer::Aggregated
        }
        ("application/json" | "application/*" | "*/*", None, None, None) if !other_parameters => Offer::Plain,
        _ => Offer::Unsupported,
    };
    Some((quality, offer))
}

/// One `APIGroup` as `/apis` lists it (and `/apis/{g}` returns it, with kind and apiVersion added).
fn group_entry(group: &str, server_address: &str) -> Value {
    let versions: Vec<Value> = registry::versions_of(group)
        .iter()
        .map(|version| json!({"groupVersion": format!("{group}/{version}"), "version": version}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({
        "name": group,
        "versions": versions,
        "preferredVersion": preferred,
        "serverAddressByClientCIDRs": server_addresses(server_address),
    })
}

/// `serverAddressByClientCIDRs`: every client is told the same address.
fn server_addresses(server_address: &str) -> Value {
    json!([{"clientCIDR": ALL_CLIENTS_CIDR, "serverAddress": server_address}])
}

/// An aggregated `APIVersionDiscovery`. Bosun serves every group itself, so it is always `Current`
/// (a stale aggregated API server would be `Stale`).
fn version_discovery(group: &str, version: &str) -> Value {
    let resources: Vec<Value> = registry::resources(group, version).map(resource_discovery).collect();
    json!({"version": version, "resources": resources, "freshness": "Current"})
}

fn subresource_discovery(sub: &SubresourceType) -> Value {
    json!({
        "subresource": sub.name,
        "responseKind": response_kind(sub.group, sub.version, sub.kind),
        "verbs": sub.verbs,
    })
}

fn response_kind(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "version": version, "kind": kind})
}

fn discovery_list(items: Vec<Value>) -> Value {
    json!({"kind": AGGREGATED_KIND, "apiVersion": AGGREGATED_API_VERSION, "metadata": {}, "items": items})
}

fn insert_unless_empty(object: &mut Map<String, Value>, key: &str, values: &[&str]) {
    if !values.is_empty() {
        object.insert(key.into(), values.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    use std::collections::BTreeSet;

    /// The Accept header kubectl 1.35 sends for `/api` and `/apis` (transcripts: `AGG`).
    const KUBECTL_AGG: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

    fn resource_named<'a>(list: &'a Value, name: &str) -> &'a Value {
        list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    }

    fn aggregated_resource<'a>(list: &'a Value, group: &str, version: &str, resource: &str) -> &'a Value {
        let item = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["metadata"]["name"].as_str().unwrap_or("") == group)
            .unwrap();
        let version = item["versions"].as_array().unwrap().iter().find(|v| v["version"] == version).unwrap();
        version["resources"].as_array().unwrap().iter().find(|r| r["resource"] == resource).unwrap()
    }

    #[test]
    fn storage_version_hashes_match_the_specs_examples() {
        let examples = [
            ("", "v1", "Pod", "xPOwRZ+Yhw8="),
            ("", "v1", "Namespace", "Q3oi5N2YM8M="),
            ("", "v1", "ConfigMap", "qFsyl6wFWjQ="),
            ("", "v1", "Service", "0/CO1lhkEBI="),
            ("apps", "v1", "Deployment", "8aSe+NMegvE="),
            ("apps", "v1", "ReplicaSet", "P1RzHs8/mWQ="),
        ];
        for (group, version, kind, hash) in examples {
            assert_eq!(storage_version_hash(group, version, kind), hash, "{group}/{version}/{kind}");
        }
    }

    #[test]
    fn storage_version_hashes_follow_the_storage_version_as_upstream_publishes_them() {
        // Values from kubernetes/kubernetes api/discovery/*.json.
        let hash = |group, version, plural| {
            resource_named(&api_resource_list(group, version).unwrap(), plural)["storageVersionHash"].clone()
        };
        assert_eq!(hash("autoscaling", "v1", "horizontalpodautoscalers"), "qwQve8ut294=", "stored as autoscaling/v2");
        assert_eq!(hash("autoscaling", "v2", "horizontalpodautoscalers"), "qwQve8ut294=");
        assert_eq!(hash("events.k8s.io", "v1", "events"), "r2yiGXH7wu8=", "stored as core v1 events");
        assert_eq!(
            hash("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
            "jfWCUB31mvA=",
            "stored as v1beta1"
        );
        assert_eq!(hash("batch", "v1", "jobs"), "mudhfqk/qZY=");
        assert_eq!(hash("networking.k8s.io", "v1", "ingressclasses"), "l/iqIbDgFyQ=");
        assert_eq!(hash("", "v1", "endpoints"), "fWeeMqaN/OA=");
        assert_eq!(hash("", "v1", "componentstatuses"), Value::Null, "never stored");
        assert_eq!(hash("authorization.k8s.io", "v1", "selfsubjectaccessreviews"), Value::Null, "never stored");
    }

    #[test]
    fn api_lists_v1_and_the_advertised_address_without_api_version() {
        assert_eq!(
            api_versions("10.0.0.1:6443"),
            json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443"}],
            })
        );
        let parsed: meta::APIVersions = serde_json::from_value(api_versions("10.0.0.1:6443")).unwrap();
        assert_eq!(parsed.versions, ["v1"]);
    }

    #[test]
    fn apis_lists_every_named_group_but_not_core() {
        let list = api_group_list("10.0.0.1:6443");
        assert_eq!((&list["kind"], &list["apiVersion"]), (&json!("APIGroupList"), &json!("v1")));
        let names: Vec<&str> = list["groups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
        assert_eq!(names.len(), 20);
        assert!(!names.contains(&""));
        assert_eq!(&names[..3], ["apiregistration.k8s.io", "apps", "events.k8s.io"]);
        assert_eq!(names.last(), Some(&"flowcontrol.apiserver.k8s.io"));
        let autoscaling = list["groups"].as_array().unwrap().iter().find(|g| g["name"] == "autoscaling").unwrap();
        assert_eq!(
            autoscaling,
            &json!({
                "name": "autoscaling",
                "versions": [
                    {"groupVersion": "autoscaling/v2", "version": "v2"},
                    {"groupVersion": "autoscaling/v1", "version": "v1"},
                ],
                "preferredVersion": {"groupVersion": "autoscaling/v2", "version": "v2"},
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443"}],
            })
        );
        let parsed: meta::APIGroupList = serde_json::from_value(list).unwrap();
        assert_eq!(parsed.groups.len(), 20);
    }

    #[test]
    fn apis_group_is_the_specs_api_group_document() {
        assert_eq!(
            api_group("apps", "10.0.0.1:6443").unwrap(),
            json!({
                "kind": "APIGroup",
                "apiVersion": "v1",
                "name": "apps",
                "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:6443"}],
            })
        );
        let parsed: meta::APIGroup = serde_json::from_value(api_group("autoscaling", "h:1").unwrap()).unwrap();
        assert_eq!(parsed.preferred_version.unwrap().version, "v2");
        assert_eq!(api_group("", "h:1"), None, "core has /api instead");
        assert_eq!(api_group("extensions", "h:1"), None);
    }

    #[test]
    fn apps_v1_lists_deployments_with_scale_as_autoscaling_v1() {
        let list = api_resource_list("apps", "v1").unwrap();
        assert_eq!(
            (&list["kind"], &list["apiVersion"], &list["groupVersion"]),
            (&json!("APIResourceList"), &json!("v1"), &json!("apps/v1"))
        );
        assert_eq!(
            resource_named(&list, "deployments"),
            &json!({
                "name": "deployments",
                "singularName": "deployment",
                "namespaced": true,
                "kind": "Deployment",
                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                "shortNames": ["deploy"],
                "categories": ["all"],
                "storageVersionHash": "8aSe+NMegvE=",
            })
        );
        assert_eq!(
            resource_named(&list, "deployments/scale"),
            &json!({
                "name": "deployments/scale",
                "singularName": "",
                "namespaced": true,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            })
        );
        assert_eq!(
            resource_named(&list, "deployments/status"),
            &json!({"name": "deployments/status", "singularName": "", "namespaced": true, "kind": "Deployment", "verbs": ["get", "patch", "update"]})
        );
        let names: Vec<&str> =
            list["resources"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "controllerrevisions",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "statefulsets",
                "statefulsets/scale",
                "statefulsets/status",
            ]
        );
        let parsed: meta::APIResourceList = serde_json::from_value(list).unwrap();
        assert_eq!(parsed.resources.len(), 12);
    }

    #[test]
    fn batch_v1_is_the_transcripts_document_in_upstream_order_with_real_hashes() {
        // The logging fake behind the transcripts listed jobs first and made its hashes up; a real
        // server sorts by name and hashes the storage version. Clients depend on neither.
        assert_eq!(
            api_resource_list("batch", "v1").unwrap(),
            json!({
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": "batch/v1",
                "resources": [
                    {"name": "cronjobs", "singularName": "cronjob", "namespaced": true, "kind": "CronJob",
                     "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                     "shortNames": ["cj"], "categories": ["all"], "storageVersionHash": "sd5LIXh4Fjs="},
                    {"name": "cronjobs/status", "singularName": "", "namespaced": true, "kind": "CronJob",
                     "verbs": ["get", "patch", "update"]},
                    {"name": "jobs", "singularName": "job", "namespaced": true, "kind": "Job",
                     "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                     "categories": ["all"], "storageVersionHash": "mudhfqk/qZY="},
                    {"name": "jobs/status", "singularName": "", "namespaced": true, "kind": "Job",
                     "verbs": ["get", "patch", "update"]},
                ],
            })
        );
    }

    #[test]
    fn core_v1_has_no_api_version_and_lists_the_specs_verbs() {
        let list = api_resource_list("", "v1").unwrap();
        assert_eq!(list.get("apiVersion"), None, "kube-apiserver strips it from /api/v1");
        assert_eq!(list["groupVersion"], "v1");
        let verbs = |name| resource_named(&list, name)["verbs"].clone();
        assert_eq!(verbs("namespaces"), json!(["create", "delete", "get", "list", "patch", "update", "watch"]));
        assert_eq!(verbs("namespaces/finalize"), json!(["update"]));
        assert_eq!(verbs("namespaces/status"), json!(["get", "patch", "update"]));
        assert_eq!(verbs("pods/log"), json!(["get"]));
        assert_eq!(verbs("pods/binding"), json!(["create"]));
        assert_eq!(verbs("pods/eviction"), json!(["create"]));
        assert_eq!(verbs("serviceaccounts/token"), json!(["create"]));
        assert_eq!(verbs("bindings"), json!(["create"]));
        assert_eq!(verbs("componentstatuses"), json!(["get", "list"]));
        let eviction = resource_named(&list, "pods/eviction");
        assert_eq!(
            (&eviction["group"], &eviction["version"], &eviction["kind"]),
            (&json!("policy"), &json!("v1"), &json!("Eviction"))
        );
        let token = resource_named(&list, "serviceaccounts/token");
        assert_eq!((&token["group"], &token["kind"]), (&json!("authentication.k8s.io"), &json!("TokenRequest")));
        let namespaces = resource_named(&list, "namespaces");
        assert_eq!(
            (&namespaces["namespaced"], &namespaces["storageVersionHash"]),
            (&json!(false), &json!("Q3oi5N2YM8M="))
        );
        assert_eq!(resource_named(&list, "secrets").get("shortNames"), None, "empty short names are omitted");
        let parsed: meta::APIResourceList = serde_json::from_value(list).unwrap();
        assert!(parsed.resources.iter().all(|r| r.name.contains('/') == r.singular_name.is_empty()));
    }

    #[test]
    fn unknown_group_versions_have_no_resource_list() {
        assert_eq!(api_resource_list("apps", "v1beta1"), None);
        assert_eq!(api_resource_list("", "v2"), None);
        assert_eq!(api_resource_list("extensions", "v1beta1"), None);
    }

    #[test]
    fn aggregated_api_holds_core_v1_in_one_item_with_empty_metadata() {
        let list = aggregated_core();
        assert_eq!(
            (&list["kind"], &list["apiVersion"], &list["metadata"]),
            (&json!("APIGroupDiscoveryList"), &json!("apidiscovery.k8s.io/v2"), &json!({}))
        );
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["metadata"], json!({}));
        let versions = items[0]["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!((&versions[0]["version"], &versions[0]["freshness"]), (&json!("v1"), &json!("Current")));
        let pods = versions[0]["resources"].as_array().unwrap().iter().find(|r| r["resource"] == "pods").unwrap();
        assert_eq!(pods["responseKind"], json!({"group": "", "version": "v1", "kind": "Pod"}));
        assert_eq!((&pods["scope"], &pods["singularResource"]), (&json!("Namespaced"), &json!("pod")));
        assert_eq!((&pods["shortNames"], &pods["categories"]), (&json!(["po"]), &json!(["all"])));
        let eviction =
            pods["subresources"].as_array().unwrap().iter().find(|s| s["subresource"] == "eviction").unwrap();
        assert_eq!(
            eviction,
            &json!({"subresource": "eviction", "responseKind": {"group": "policy", "version": "v1", "kind": "Eviction"}, "verbs": ["create"]})
        );
        let namespaces =
            versions[0]["resources"].as_array().unwrap().iter().find(|r| r["resource"] == "namespaces").unwrap();
        assert_eq!(namespaces["scope"], "Cluster");
    }

    #[test]
    fn aggregated_apis_lists_deployments_scale_with_its_response_kind() {
        let list = aggregated_groups();
        assert_eq!(
            (&list["kind"], &list["apiVersion"]),
            (&json!("APIGroupDiscoveryList"), &json!("apidiscovery.k8s.io/v2"))
        );
        assert_eq!(
            aggregated_resource(&list, "apps", "v1", "deployments"),
            &json!({
                "resource": "deployments",
                "responseKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                "scope": "Namespaced",
                "singularResource": "deployment",
                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                "shortNames": ["deploy"],
                "categories": ["all"],
                "subresources": [
                    {"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get", "patch", "update"]},
                    {"subresource": "status", "responseKind": {"group": "apps", "version": "v1", "kind": "Deployment"}, "verbs": ["get", "patch", "update"]},
                ],
            })
        );
        let controller_revisions = aggregated_resource(&list, "apps", "v1", "controllerrevisions");
        assert_eq!(controller_revisions.get("shortNames"), None);
        assert_eq!(controller_revisions.get("subresources"), None);
    }

    #[test]
    fn aggregated_apis_orders_groups_like_apis_and_versions_preferred_first() {
        let list = aggregated_groups();
        let items = list["items"].as_array().unwrap();
        let names: Vec<&str> = items.iter().map(|item| item["metadata"]["name"].as_str().unwrap()).collect();
        let legacy = api_group_list("h:1");
        let legacy_names: Vec<&str> =
            legacy["groups"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
        assert_eq!(names, legacy_names);
        let autoscaling = items.iter().find(|item| item["metadata"]["name"] == "autoscaling").unwrap();
        let versions: Vec<&str> =
            autoscaling["versions"].as_array().unwrap().iter().map(|v| v["version"].as_str().unwrap()).collect();
        assert_eq!(versions, ["v2", "v1"]);
        assert!(
            items.iter().flat_map(|item| item["versions"].as_array().unwrap()).all(|v| v["freshness"] == "Current")
        );
    }

    #[test]
    fn aggregated_and_legacy_documents_describe_the_same_resources() {
        // A client that got v2 never fetches the per-group-version lists, so v2 must be complete.
        let mut legacy = BTreeSet::new();
        for gv in registry::all_group_versions() {
            let list = api_resource_list(gv.group, gv.version).unwrap();
            for resource in list["resources"].as_array().unwrap() {
                let verbs = resource["verbs"].to_string();
                legacy.insert((
                    gv.to_string(),
                    resource["name"].as_str().unwrap().to_string(),
                    resource["kind"].to_string(),
                    verbs,
                ));
            }
        }
        let mut aggregated = BTreeSet::new();
        let core = aggregated_core();
        let groups = aggregated_groups();
        for item in core["items"].as_array().unwrap().iter().chain(groups["items"].as_array().unwrap()) {
            let group = item["metadata"]["name"].as_str().unwrap_or("");
            for version in item["versions"].as_array().unwrap() {
                let api_version = if group.is_empty() {
                    version["version"].as_str().unwrap().to_string()
                } else {
                    format!("{group}/{}", version["version"].as_str().unwrap())
                };
                for resource in version["resources"].as_array().unwrap() {
                    let plural = resource["resource"].as_str().unwrap();
                    let kind = resource["responseKind"]["kind"].to_string();
                    aggregated.insert((api_version.clone(), plural.to_string(), kind, resource["verbs"].to_string()));
                    for sub in resource.get("subresources").and_then(Value::as_array).into_iter().flatten() {
                        let name = format!("{plural}/{}", sub["subresource"].as_str().unwrap());
                        aggregated.insert((
                            api_version.clone(),
                            name,
                            sub["responseKind"]["kind"].to_string(),
                            sub["verbs"].to_string(),
                        ));
                    }
                }
            }
        }
        assert_eq!(aggregated, legacy);
        assert_eq!(legacy.iter().filter(|entry| !entry.1.contains('/')).count(), registry::all().len());
    }

    #[test]
    fn the_aggregated_content_type_is_the_one_client_go_recognises() {
        assert_eq!(AGGREGATED_CONTENT_TYPE, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    }

    #[test]
    fn kubectls_accept_header_gets_the_aggregated_documents() {
        assert!(wants_aggregated(Some(KUBECTL_AGG)));
        let nopeer = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;profile=nopeer,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
        assert!(wants_aggregated(Some(nopeer)));
        assert!(wants_aggregated(Some("application/json; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io")));
    }

    #[test]
    fn other_accept_headers_get_the_legacy_documents() {
        assert!(!wants_aggregated(None));
        assert!(!wants_aggregated(Some("application/json, */*")));
        assert!(!wants_aggregated(Some("application/json")));
        // Only v2beta1 offered: Bosun does not serve v2beta1, plain JSON is next.
        assert!(!wants_aggregated(Some(
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
        )));
        // Plain JSON preferred by quality.
        assert!(!wants_aggregated(Some(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0.5,application/json"
        )));
        // Explicitly refused.
        assert!(!wants_aggregated(Some("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0")));
        assert!(!wants_aggregated(Some(
            "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        )));
    }

    #[test]
    fn etags_are_quoted_and_change_with_the_document() {
        let core = etag(&aggregated_core());
        assert!(core.starts_with('"') && core.ends_with('"') && core.len() == 66, "{core}");
        assert_eq!(core, etag(&aggregated_core()), "stable for the same document");
        assert_ne!(core, etag(&aggregated_groups()));
    }
}
