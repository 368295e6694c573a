//! DELETE on an object or a collection, with DeleteOptions from the body or, when the body is
//! empty, from the query.

use axum::response::Response;
use bosun_api::api::{Api, DeleteOptions, Deleted, Propagation};
use bosun_api::registry::ResourceType;
use bosun_api::status::{FieldError, Status};
use http::StatusCode;
use serde_json::Value;

use crate::respond;
use crate::service::Query;

fn invalid(errors: &[FieldError]) -> Status {
    Status::invalid("DeleteOptions", "meta.k8s.io", "", errors)
}

/// Decodes DeleteOptions: the body when there is one, the query otherwise.
pub fn options(query: &Query, body: &[u8]) -> Result<DeleteOptions, Status> {
    let from_body = !body.iter().all(u8::is_ascii_whitespace);
    let source: Value = if from_body {
        serde_json::from_slice(body).map_err(|e| Status::bad_request(format!("could not decode DeleteOptions: {e}")))?
    } else {
        let mut object = serde_json::Map::new();
        for key in ["propagationPolicy", "gracePeriodSeconds", "orphanDependents"] {
            if let Some(value) = query.get(key) {
                object.insert(key.into(), Value::String(value.clone()));
            }
        }
        if let Some(dry) = query.get("dryRun") {
            object.insert("dryRun".into(), Value::Array(vec![Value::String(dry.clone())]));
        }
        Value::Object(object)
    };
    let policy = source.get("propagationPolicy").and_then(Value::as_str);
    let orphan = match source.get("orphanDependents") {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s == "true" => Some(true),
        Some(Value::String(s)) if s == "false" => Some(false),
        _ => None,
    };
    if policy.is_some() && orphan.is_some() {
        return Err(invalid(&[FieldError::invalid(
            "propagationPolicy",
            policy.unwrap_or_default(),
            "orphanDependents and deletionPropagation cannot be both set",
        )]));
    }
    let propagation = match (policy, orphan) {
        (Some("Orphan"), _) | (None, Some(true)) => Some(Propagation::Orphan),
        (Some("Background"), _) | (None, Some(false)) => Some(Propagation::Background),
        (Some("Foreground"), _) => Some(Propagation::Foreground),
        (Some(other), _) => {
            return Err(invalid(&[FieldError::not_supported(
                "propagationPolicy",
                other,
                &["Foreground", "Background", "Orphan", "nil"],
            )]));
        }
        (None, None) => None,
    };
    let dry_run = match source.get("dryRun").and_then(Value::as_array) {
        None => false,
        Some(values) if values.iter().all(|v| v == "All") => !values.is_empty(),
        Some(values) => {
            return Err(invalid(&[FieldError::not_supported("dryRun", Value::Array(values.clone()), &["All"])]));
        }
    };
    let grace_period_seconds = match source.get("gracePeriodSeconds") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => {
            Some(s.parse::<i64>().map_err(|_| Status::bad_request(format!("invalid gracePeriodSeconds: {s}")))?)
        }
        Some(other) => return Err(Status::bad_request(format!("invalid gracePeriodSeconds: {other}"))),
    };
    Ok(DeleteOptions {
        precondition_uid: source.pointer("/preconditions/uid").and_then(Value::as_str).map(str::to_string),
        precondition_resource_version: source
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string),
        propagation,
        dry_run,
        grace_period_seconds,
    })
}

/// DELETE on a collection: every matching object through the single delete; answers the list of
/// the objects as they were.
pub async fn delete_collection(
    api: &Api,
    rt: &ResourceType,
    namespace: Option<&str>,
    query: &Query,
    body: &[u8],
) -> Result<Response, Status> {
    let delete_options = options(query, body)?;
    let list = crate::list::list(api, rt, namespace, query).await?;
    let mut items = Vec::new();
    for item in &list.items {
        let object: Value = serde_json::from_slice(item).map_err(Status::internal)?;
        let name = bosun_api::meta::name(&object).to_string();
        let item_namespace = bosun_api::meta::namespace(&object).to_string();
        match api.delete(rt, &item_namespace, &name, &delete_options).await {
            Ok(Deleted::Object(object)) => items.push(object),
            Ok(Deleted::Status(_)) => items.push(object),
            // Deleted meanwhile by someone else: nothing to do.
            Err(status) if status.code == 404 => {}
            Err(status) => return Err(status),
        }
    }
    let mut value = list.to_value();
    value["items"] = Value::Array(items);
    Ok(respond::json(StatusCode::OK, &value))
}
