//! Query options of lists and watches, decoded and validated as upstream does: label and field
//! selectors, `limit`/`continue`, and the `resourceVersion` × `resourceVersionMatch` ×
//! `sendInitialEvents` rules (API-semantics spec, sections 3.4 and 4.1).

use std::sync::Arc;

use serde_json::Value;

use crate::api::ListParams;
use crate::registry::ResourceType;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::{FieldError, Status};
use crate::watch::{ObjectFilter, WatchParams};

/// Reads one query parameter.
pub type QueryLookup<'a> = &'a dyn Fn(&str) -> Option<&'a str>;

fn list_options_invalid(errors: &[FieldError]) -> Status {
    Status::invalid("ListOptions", "meta.k8s.io", "", errors)
}

/// The fields a field selector may name for a type, beyond `metadata.name` (and
/// `metadata.namespace` for namespaced types).
pub fn selectable_fields(rt: &ResourceType) -> &'static [&'static str] {
    match (rt.group, rt.kind) {
        ("", "Pod") => &[
            "spec.nodeName",
            "spec.host",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ],
        ("", "Namespace") => &["status.phase"],
        ("apps", "ReplicaSet") | ("", "ReplicationController") => &["status.replicas"],
        ("", "Event") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        // Upstream's field label conversion for the same objects, in this version's names.
        ("events.k8s.io", "Event") => &[
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "regarding.apiVersion",
            "regarding.resourceVersion",
            "regarding.fieldPath",
            "reason",
            "reportingController",
            "source",
            "type",
        ],
        ("", "Secret") => &["type"],
        ("", "Service") => &["spec.clusterIP", "spec.type"],
        ("", "Node") => &["spec.unschedulable"],
        _ => &[],
    }
}

/// The value of a selectable field of an object, as a string (absent fields are "").
pub fn field_value(object: &Value, field: &str) -> String {
    let pointer = match field {
        "spec.host" => "/spec/nodeName".to_string(),
        "source" => "/source/component".to_string(),
        other => format!("/{}", other.replace('.', "/")),
    };
    match object.pointer(&pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(items)) if field == "status.podIPs" => {
            items.iter().filter_map(|i| i.get("ip").and_then(Value::as_str)).collect::<Vec<_>>().join(",")
        }
        _ => String::new(),
    }
}

/// Builds the object filter of a request's selectors; `None` when it has none.
pub fn filter(rt: &ResourceType, query: QueryLookup<'_>) -> Result<Option<ObjectFilter>, Status> {
    let labels = match query("labelSelector").filter(|s| !s.trim().is_empty()) {
        Some(text) => Some(LabelSelector::parse(text).map_err(|e| Status::bad_request(e.to_string()))?),
        None => None,
    };
    let fields = match query("fieldSelector").filter(|s| !s.trim().is_empty()) {
        Some(text) => {
            let selector = FieldSelector::parse(text).map_err(|e| Status::bad_request(e.to_string()))?;
            let mut allowed = vec!["metadata.name"];
            if rt.namespaced {
                allowed.push("metadata.namespace");
            }
            allowed.extend_from_slice(selectable_fields(rt));
            selector
                .check_fields(&allowed, !selectable_fields(rt).is_empty())
                .map_err(|e| Status::bad_request(e.to_string()))?;
            Some(selector)
        }
        None => None,
    };
    if labels.is_none() && fields.is_none() {
        return Ok(None);
    }
    let rt = *rt;
    Ok(Some(Arc::new(move |object: &Value| {
        let labels_match = labels.as_ref().is_none_or(|selector| selector.matches(&crate::meta::labels(object)));
        labels_match
            && fields.as_ref().is_none_or(|selector| {
                selector.matches(|field| Some(field_value(object, crate::conversion::selector_field_path(&rt, field))))
            })
    })))
}

fn parse_revision(text: &str) -> Result<u64, Status> {
    text.parse::<u64>().map_err(|_| Status::bad_request(format!("invalid resource version: {text}")))
}

/// Decodes a list request's paging and resourceVersion options.
pub fn list_params(query: QueryLookup<'_>, has_selector: bool) -> Result<ListParams, Status> {
    let resource_version = query("resourceVersion").filter(|s| !s.is_empty());
    let continue_token = query("continue").filter(|s| !s.is_empty()).map(str::to_string);
    let limit = match query("limit").filter(|s| !s.is_empty()) {
        Some(text) => Some(text.parse::<i64>().map_err(|_| Status::bad_request(format!("invalid limit: {text}")))?),
        None => None,
    }
    .filter(|l| *l > 0)
    .map(|l| l as usize);
    let matching = query("resourceVersionMatch").filter(|s| !s.is_empty());
    if query("sendInitialEvents").is_some() {
        return Err(list_options_invalid(&[FieldError::forbidden(
            "sendInitialEvents",
            "sendInitialEvents is forbidden for list",
        )]));
    }
    if let Some(matching) = matching {
        if resource_version.is_none() {
            return Err(list_options_invalid(&[FieldError::forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            )]));
        }
        if continue_token.is_some() {
            return Err(list_options_invalid(&[FieldError::forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden when continue is provided",
            )]));
        }
        if !matches!(matching, "Exact" | "NotOlderThan") {
            return Err(list_options_invalid(&[FieldError::not_supported(
                "resourceVersionMatch",
                matching,
                &["Exact", "NotOlderThan"],
            )]));
        }
        if matching == "Exact" && resource_version == Some("0") {
            return Err(list_options_invalid(&[FieldError::forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
            )]));
        }
    }
    if continue_token.is_some() && resource_version.is_some_and(|rv| rv != "0") {
        return Err(Status::bad_request("specifying resource version is not allowed when using continue"));
    }
    let revision = resource_version.map(parse_revision).transpose()?;
    let mut params = ListParams { limit, continue_token, exact_revision: None, count_remaining: !has_selector };
    match (revision, matching) {
        // "Any": served whole, as upstream's watch cache does (client-go relies on it).
        (Some(0), _) => params.limit = None,
        (Some(revision), Some("Exact")) => params.exact_revision = Some(revision),
        // The legacy rule: a revision with a limit is an exact snapshot.
        (Some(revision), None) if params.limit.is_some() => params.exact_revision = Some(revision),
        _ => {}
    }
    Ok(params)
}

/// Decodes a watch request's start-point options, rejecting invalid combinations with 422
/// before anything streams.
pub fn watch_params(query: QueryLookup<'_>) -> Result<WatchParams, Status> {
    let send_initial_events = match query("sendInitialEvents") {
        None | Some("") => None,
        Some("true") | Some("1") => Some(true),
        Some("false") | Some("0") => Some(false),
        Some(other) => return Err(Status::bad_request(format!("invalid sendInitialEvents: {other}"))),
    };
    let matching = query("resourceVersionMatch").filter(|s| !s.is_empty());
    match (send_initial_events, matching) {
        (Some(_), Some("NotOlderThan")) | (None, None) => {}
        (Some(_), _) => {
            return Err(list_options_invalid(&[FieldError::forbidden(
                "sendInitialEvents",
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            )]));
        }
        (None, Some(_)) => {
            return Err(list_options_invalid(&[FieldError::forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            )]));
        }
    }
    let resource_version = query("resourceVersion").filter(|s| !s.is_empty()).map(parse_revision).transpose()?;
    let allow_bookmarks = matches!(query("allowWatchBookmarks"), Some("true") | Some("1"));
    Ok(WatchParams { resource_version, send_initial_events, allow_bookmarks, bookmark_interval: None })
}
