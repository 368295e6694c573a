//! PATCH on an object, its status or its scale.

use axum::response::Response;
use bosun_api::api::Subresource;
use bosun_api::patch::{PatchBody, PatchOptions, PatchType};
use bosun_api::registry::ResourceType;
use bosun_api::status::Status;
use http::{HeaderMap, StatusCode, header};
use serde_json::Value;

use crate::negotiate;
use crate::respond;
use crate::service::{HttpState, Query};

/// Applies the patch the request carries.
#[allow(clippy::too_many_arguments)]
pub async fn patch(
    state: &HttpState,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    subresource: Option<&str>,
    headers: &HeaderMap,
    query: &Query,
    accept: Option<&str>,
    body: &[u8],
) -> Result<Response, Status> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let patch_type = PatchType::from_content_type(content_type).ok_or_else(|| PatchType::unsupported(content_type))?;
    let output = negotiate::negotiate(accept, false)?;
    let patch: Value = match patch_type {
        PatchType::Apply => crate::yaml::from_slice(body)?,
        _ => serde_json::from_slice(body).map_err(|e| Status::bad_request(format!("error decoding patch: {e}")))?,
    };
    // A merge, strategic or apply patch is a partial object: its fields can be checked against
    // the schema (a JSON patch names paths, not fields).
    let warnings = match (patch_type, subresource) {
        (PatchType::Json, _) | (_, Some("scale")) => Vec::new(),
        _ => crate::service::field_validation(rt, query, &patch)?,
    };
    let write = crate::service::write_options_for_patch(query, headers)?;
    let force = match query.get("force").map(String::as_str) {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(Status::bad_request(format!("invalid force: {other}"))),
    };
    let options = PatchOptions { write, force };
    let api = &state.api;
    match subresource {
        Some("scale") => Ok(respond::json(
            StatusCode::OK,
            &api.patch_scale(rt, namespace, name, patch_type, patch, &options.write).await?,
        )),
        None | Some("status") => {
            let which = if subresource.is_some() { Subresource::Status } else { Subresource::Main };
            let body = PatchBody { patch_type, document: patch };
            let (object, created) = api.patch(rt, namespace, name, which, body, &options).await?;
            let code = if created { StatusCode::CREATED } else { StatusCode::OK };
            Ok(crate::service::with_warnings(respond::object(rt, object, output, query, api, code)?, &warnings))
        }
        Some(_) => Err(Status::method_not_allowed("PATCH")),
    }
}
