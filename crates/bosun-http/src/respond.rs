//! Writing responses in the negotiated representation.

use axum::response::Response;
use bosun_api::api::{Api, ObjectList};
use bosun_api::registry::ResourceType;
use bosun_api::status::Status;
use bosun_api::table;
use http::StatusCode;
use serde_json::{Value, json};

use crate::negotiate::{self, Output};
use crate::service::{Query, json_bytes};

/// A Status as a response with its own code.
pub fn status(status: &Status) -> Response {
    let code = StatusCode::from_u16(status.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json(code, &status.to_value())
}

/// A JSON value.
pub fn json(code: StatusCode, value: &Value) -> Response {
    json_bytes(code, serde_json::to_vec(value).expect("a JSON value serializes"))
}

fn yaml(code: StatusCode, value: &Value) -> Response {
    let text = crate::yaml::to_string(value);
    let mut response = json_bytes(code, text);
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/yaml"));
    response
}

/// One object.
pub fn object(
    rt: &ResourceType,
    object: Value,
    output: Output,
    query: &Query,
    api: &Api,
    code: StatusCode,
) -> Result<Response, Status> {
    Ok(match output {
        Output::Json => json(code, &object),
        Output::Yaml => yaml(code, &object),
        Output::PartialMetadata => json(code, &table::partial_object_metadata(&object)),
        Output::Table => {
            let include = negotiate::include_object(query.get("includeObject").map(String::as_str))?;
            let metadata = json!({"resourceVersion": bosun_api::meta::resource_version(&object)});
            let table = table::table(rt.group, rt.kind, &[object], metadata, api.clock().now(), include, true);
            json(code, &table)
        }
    })
}

/// A list.
pub fn list(
    rt: &ResourceType,
    list: &ObjectList,
    output: Output,
    query: &Query,
    api: &Api,
) -> Result<Response, Status> {
    Ok(match output {
        Output::Json => json_bytes(StatusCode::OK, list.to_bytes()),
        Output::Yaml => yaml(StatusCode::OK, &list.to_value()),
        Output::PartialMetadata | Output::Table => {
            let value = list.to_value();
            let items = value.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
            let metadata = value.get("metadata").cloned().unwrap_or_default();
            if output == Output::Table {
                let include = negotiate::include_object(query.get("includeObject").map(String::as_str))?;
                json(
                    StatusCode::OK,
                    &table::table(rt.group, rt.kind, &items, metadata, api.clock().now(), include, true),
                )
            } else {
                let items: Vec<Value> = items.iter().map(table::partial_object_metadata).collect();
                let list = json!({
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": metadata,
                    "items": items,
                });
                json(StatusCode::OK, &list)
            }
        }
    })
}
