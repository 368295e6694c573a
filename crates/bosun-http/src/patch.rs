//! PATCH on an object, its status or its scale.

use axum::response::Response;
use bosun_api::api::{Subresource, WriteOptions};
use bosun_api::field_validation::{self, FieldValidation, PathStyle};
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
    let write = crate::service::write_options_for_patch(query, headers)?;
    let mut warnings = match subresource {
        Some("scale") => Vec::new(),
        _ => duplicate_fields(rt, &write, patch_type, body, &patch)?,
    };
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
            let written = api.patch_warned(rt, namespace, name, which, body, &options).await?;
            let code = if written.created { StatusCode::CREATED } else { StatusCode::OK };
            warnings.splice(0..0, written.warnings);
            Ok(crate::service::with_warnings(respond::object(rt, written.object, output, query, api, code)?, &warnings))
        }
        Some(_) => Err(Status::method_not_allowed("PATCH")),
    }
}

/// The duplicate fields of a JSON patch body, as upstream's strict decoding of each patch type
/// reports them (a YAML apply body is not scanned). Under `Strict` they fail the patch: a merge
/// or strategic merge patch with upstream's 422 on `patch` (listing the patch's unknown fields
/// too), a JSON patch with its operations' duplicates, an apply patch with the 400 of its YAML
/// decoder. Under `Warn` they are returned as warnings.
fn duplicate_fields(
    rt: &ResourceType,
    options: &WriteOptions,
    patch_type: PatchType,
    body: &[u8],
    patch: &Value,
) -> Result<Vec<String>, Status> {
    let mode = options.field_validation;
    let is_json = body.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| matches!(b, b'{' | b'['));
    if mode == FieldValidation::Ignore || !is_json {
        return Ok(Vec::new());
    }
    let duplicates = field_validation::duplicate_fields(body);
    if duplicates.is_empty() {
        return Ok(Vec::new());
    }
    let text = || String::from_utf8_lossy(body).into_owned();
    match patch_type {
        PatchType::Apply => {
            // sigs.k8s.io/yaml's strict decoder, on the YAML (here JSON) text.
            let lines: Vec<String> =
                duplicates.iter().map(|d| format!("line {}: key \"{}\" already set in map", d.line, d.key)).collect();
            let error = format!("error converting YAML to JSON: yaml: unmarshal errors:\n  {}", lines.join("\n  "));
            match mode {
                FieldValidation::Strict => Err(Status::bad_request(format!("error strict decoding patch: {error}"))),
                // A header value holds one line.
                _ => Ok(vec![error.replace("\n ", "")]),
            }
        }
        PatchType::Json => {
            let errors: Vec<String> = field_validation::strict_errors(&[], &duplicates)
                .into_iter()
                .map(|error| format!("json patch {error}"))
                .collect();
            match mode {
                FieldValidation::Strict => Err(bosun_api::patch::strict_patch_error(text(), &errors)),
                _ => Ok(errors),
            }
        }
        PatchType::Merge | PatchType::Strategic => {
            let unknown = field_validation::unknown_in_patch(rt, patch, PathStyle::Json);
            let errors = field_validation::strict_errors(&unknown, &duplicates);
            let reported: Vec<String> = errors.iter().skip(unknown.len()).cloned().collect();
            match mode {
                FieldValidation::Strict if !reported.is_empty() => {
                    let value =
                        if patch_type == PatchType::Strategic { bosun_api::patch::go_format(patch) } else { text() };
                    Err(bosun_api::patch::strict_patch_error(value, &errors))
                }
                _ => Ok(reported),
            }
        }
    }
}
