//! PATCH: JSON patch, merge patch, strategic merge patch and apply, all through the same update
//! path as PUT (so status/spec separation, defaulting, validation and generation rules hold).
//! A `metadata.resourceVersion` the patch sets is a precondition, as upstream.
//!
//! Apply is server-side apply with field ownership ([`crate::managed_fields`]): the configuration
//! is the manager's whole intent, changing a field another manager owns is a `409` unless
//! `force`, and a missing object is created from the configuration. [`apply_patch`] with
//! [`PatchType::Apply`] is a plain strategic merge, which only `/scale` still uses.

use serde_json::Value;

use crate::api::{Api, Subresource, WriteOptions, Written};
use crate::field_validation::{self, FieldValidation, PathStyle};
use crate::managed_fields::{self, Tracking};
use crate::meta;
use crate::registry::ResourceType;
use crate::status::{FieldError, Status};

/// JSON patch documents are limited to this many operations, as upstream.
pub const JSON_PATCH_OPERATIONS_MAX: usize = 10_000;

/// The four patch types, chosen by `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json` (built-in types only).
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

impl PatchType {
    /// The patch type of a `Content-Type` (parameters ignored).
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        match content_type.split(';').next().unwrap_or("").trim() {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" | "application/apply-patch+cbor" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }

    /// The 415 answer for any other content type.
    pub fn unsupported(content_type: &str) -> Status {
        Status::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {content_type})"
        ))
    }
}

/// A patch document and its type.
#[derive(Debug, Clone)]
pub struct PatchBody {
    /// How to apply `document`.
    pub patch_type: PatchType,
    /// The patch itself.
    pub document: Value,
}

/// Options of a patch.
#[derive(Debug, Clone, Default)]
pub struct PatchOptions {
    /// Options shared by writes.
    pub write: WriteOptions,
    /// `force` (apply only).
    pub force: bool,
}

/// Applies a patch document to an object.
pub fn apply_patch(rt: &ResourceType, patch_type: PatchType, current: &Value, patch: &Value) -> Result<Value, Status> {
    match patch_type {
        PatchType::Json => {
            let operations = patch.as_array().ok_or_else(|| Status::bad_request("invalid JSON patch: not an array"))?;
            if operations.len() > JSON_PATCH_OPERATIONS_MAX {
                return Err(Status::too_large_message(format!(
                    "The allowed maximum operations in a JSON patch is {JSON_PATCH_OPERATIONS_MAX}, got {}",
                    operations.len()
                )));
            }
            let operations: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| Status::bad_request(format!("invalid JSON patch: {e}")))?;
            let mut result = current.clone();
            json_patch::patch(&mut result, &operations).map_err(|e| {
                let mut status = Status::failure(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                );
                status.details = Some(Default::default());
                status
            })?;
            Ok(result)
        }
        PatchType::Merge => {
            if !patch.is_object() {
                return Err(Status::bad_request("error decoding patch: a merge patch must be a JSON object"));
            }
            let mut result = current.clone();
            json_patch::merge(&mut result, patch);
            Ok(result)
        }
        PatchType::Strategic | PatchType::Apply => {
            if !patch.is_object() {
                return Err(Status::bad_request("error decoding patch: a strategic merge patch must be a JSON object"));
            }
            crate::smp::strategic_merge_for(rt.group, rt.kind, current, patch).map_err(|e| match e.status_code() {
                422 => Status::failure(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                ),
                _ => Status::bad_request(format!("error decoding patch: {e}")),
            })
        }
    }
}

/// Applies `mode` to the result of a merge, strategic merge or JSON patch, as upstream decodes
/// it: unknown fields are dropped (and, under `Warn`, returned as warnings); under `Strict` they
/// are upstream's 422 on the field `patch`, whose value is the patch (strategic merge, printed as
/// Go prints a map) or the patched object (merge and JSON patches).
fn check_patched(
    rt: &ResourceType,
    mode: FieldValidation,
    patch_type: PatchType,
    patch: &Value,
    patched: &mut Value,
) -> Result<Vec<String>, Status> {
    let unknown = field_validation::prune_unknown(rt, patched, mode != FieldValidation::Strict, PathStyle::Json);
    match mode {
        FieldValidation::Strict if !unknown.is_empty() => {
            let value = match patch_type {
                PatchType::Strategic => go_format(patch),
                _ => patched.to_string(),
            };
            Err(strict_patch_error(value, &field_validation::strict_errors(&unknown, &[])))
        }
        FieldValidation::Warn => Ok(unknown.iter().map(|path| field_validation::unknown_field(path)).collect()),
        _ => Ok(Vec::new()),
    }
}

/// Upstream's 422 for a patch that fails strict decoding: ` "" is invalid: patch: Invalid value:
/// "<value>": strict decoding error: <errors>`.
pub fn strict_patch_error(value: String, errors: &[String]) -> Status {
    let detail = format!("strict decoding error: {}", errors.join(", "));
    Status::invalid("", "", "", &[FieldError::invalid("patch", value, detail)])
}

/// A JSON value as Go's `%+v` prints the decoded `map[string]interface{}`: `map[spec:map[a:1]]`,
/// keys sorted, lists as `[a b]`, null as `<nil>`.
pub fn go_format(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let entries: Vec<String> = entries.iter().map(|(k, v)| format!("{k}:{}", go_format(v))).collect();
            format!("map[{}]", entries.join(" "))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(go_format).collect::<Vec<_>>().join(" ")),
        Value::String(text) => text.clone(),
        Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}

/// Server-side apply's answer to fields the type does not have, in every `fieldValidation` mode
/// (structured-merge-diff cannot type them): a plain 500, as upstream.
fn undeclared_fields(rt: &ResourceType, namespace: &str, name: &str, paths: &[String]) -> Status {
    let errors: Vec<String> = paths.iter().map(|path| format!("{path}: field not declared in schema")).collect();
    let errors = match errors.as_slice() {
        [only] => only.clone(),
        many => format!("errors:\n  {}", many.join("\n  ")),
    };
    let namespace = if rt.namespaced { namespace } else { "" };
    let group_version = if rt.group.is_empty() { format!("/{}", rt.version) } else { rt.api_version() };
    Status::failure(
        500,
        "",
        format!(
            "failed to create typed patch object ({namespace}/{name}; {group_version}, Kind={}): {errors}",
            rt.kind
        ),
    )
}

impl Api {
    /// Patches an object; an apply patch creates it when missing. Returns the object and whether
    /// it was created.
    pub async fn patch(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        subresource: Subresource,
        body: PatchBody,
        options: &PatchOptions,
    ) -> Result<(Value, bool), Status> {
        let written = self.patch_warned(rt, namespace, name, subresource, body, options).await?;
        Ok((written.object, written.created))
    }

    /// [`Api::patch`], with the warnings of `options.write.field_validation`.
    pub async fn patch_warned(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        subresource: Subresource,
        body: PatchBody,
        options: &PatchOptions,
    ) -> Result<Written, Status> {
        let PatchBody { patch_type, document: patch } = body;
        if patch_type == PatchType::Apply {
            if options.write.field_manager.as_deref().unwrap_or("").is_empty() {
                return Err(Status::invalid(
                    "PatchOptions",
                    "meta.k8s.io",
                    "",
                    &[crate::status::FieldError::required("fieldManager", "is required for apply patch")],
                ));
            }
            if patch.get("metadata").and_then(|m| m.get("managedFields")).is_some_and(|m| !m.is_null()) {
                return Err(Status::bad_request("metadata.managedFields must be nil"));
            }
            managed_fields::check_applied_type(rt, &patch)?;
            let undeclared = field_validation::unknown_in_patch(rt, &patch, PathStyle::Apply);
            if !undeclared.is_empty() {
                return Err(undeclared_fields(rt, namespace, name, &undeclared));
            }
        } else if options.force {
            return Err(Status::invalid(
                "PatchOptions",
                "meta.k8s.io",
                "",
                &[crate::status::FieldError::forbidden("force", "may not be specified for non-apply patch")],
            ));
        }
        let patched_name = patch.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str);
        if patched_name.is_some_and(|n| n != name) {
            return Err(Status::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                patched_name.unwrap_or_default()
            )));
        }
        if patch_type == PatchType::Apply {
            let (object, created) = self.server_side_apply(rt, namespace, name, subresource, patch, options).await?;
            return Ok(Written { object, created, warnings: Vec::new() });
        }
        let mode = options.write.field_validation;
        let mut warnings = Vec::new();
        let object = self
            .read_modify_write(rt, namespace, name, subresource, &options.write, |current| {
                let mut patched = apply_patch(rt, patch_type, current, &patch)?;
                warnings = check_patched(rt, mode, patch_type, &patch, &mut patched)?;
                // A resourceVersion the patch sets is a precondition.
                if meta::resource_version(&patched) != meta::resource_version(current) {
                    return Err(Status::conflict_modified(rt.plural, rt.group, name));
                }
                check_identity(rt, namespace, name, &patched)?;
                Ok(patched)
            })
            .await?;
        Ok(Written { object, created: false, warnings })
    }

    /// Server-side apply ([`managed_fields::apply`]): merges the configuration into the object,
    /// or creates the object from it (`201`), through the same update and create paths as every
    /// write. Apply to `/status` records a `status` entry; `force` takes conflicting fields over.
    async fn server_side_apply(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        subresource: Subresource,
        config: Value,
        options: &PatchOptions,
    ) -> Result<(Value, bool), Status> {
        let manager = options.write.field_manager.as_deref().unwrap_or("");
        let now = || meta::format_time(self.clock().now());
        let expected_rv = meta::resource_version(&config).to_string();
        let result = self
            .read_modify_write_tracked(rt, namespace, name, subresource, &options.write, Tracking::Applied, |current| {
                // A resourceVersion in the configuration is a precondition.
                if !expected_rv.is_empty() && expected_rv != meta::resource_version(current) {
                    return Err(Status::conflict_modified(rt.plural, rt.group, name));
                }
                let applied = managed_fields::apply(rt, subresource, current, &config, manager, options.force, &now())?;
                check_identity(rt, namespace, name, &applied)?;
                Ok(applied)
            })
            .await;
        match result {
            Err(status) if status.code == 404 && subresource == Subresource::Main => {
                let uid = meta::uid(&config);
                if !uid.is_empty() {
                    return Err(Status::conflict(
                        rt.plural,
                        rt.group,
                        name,
                        &format!(
                            "uid mismatch: the provided object specified uid {uid}, and no existing object was found"
                        ),
                    ));
                }
                let mut config = config;
                meta::metadata_mut(&mut config).insert("name".into(), name.into());
                let empty = Value::Object(Default::default());
                let object = managed_fields::apply(rt, subresource, &empty, &config, manager, options.force, &now())?;
                let created = self.create_tracked(rt, namespace, object, &options.write, Tracking::Applied).await?;
                Ok((created, true))
            }
            other => other.map(|object| (object, false)),
        }
    }
}

/// A patch may not move the object to another name or namespace.
fn check_identity(rt: &ResourceType, namespace: &str, name: &str, patched: &Value) -> Result<(), Status> {
    if meta::name(patched) != name || (rt.namespaced && meta::namespace(patched) != namespace) {
        return Err(Status::bad_request("the patch may not change metadata.name or metadata.namespace"));
    }
    Ok(())
}
