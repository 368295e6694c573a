//! PATCH: JSON patch, merge patch, strategic merge patch and apply, all through the same update
//! path as PUT (so status/spec separation, defaulting, validation and generation rules hold).
//! A `metadata.resourceVersion` the patch sets is a precondition, as upstream.
//!
//! Apply is server-side apply with field ownership ([`crate::managed_fields`]): the configuration
//! is the manager's whole intent, changing a field another manager owns is a `409` unless
//! `force`, and a missing object is created from the configuration. [`apply_patch`] with
//! [`PatchType::Apply`] is a plain strategic merge, which only `/scale` still uses.

use serde_json::Value;

use crate::api::{Api, Subresource, WriteOptions};
use crate::managed_fields::{self, Tracking};
use crate::meta;
use crate::registry::ResourceType;
use crate::status::Status;

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
            return self.server_side_apply(rt, namespace, name, subresource, patch, options).await;
        }
        self.read_modify_write(rt, namespace, name, subresource, &options.write, |current| {
            let patched = apply_patch(rt, patch_type, current, &patch)?;
            // A resourceVersion the patch sets is a precondition.
            if meta::resource_version(&patched) != meta::resource_version(current) {
                return Err(Status::conflict_modified(rt.plural, rt.group, name));
            }
            check_identity(rt, namespace, name, &patched)?;
            Ok(patched)
        })
        .await
        .map(|object| (object, false))
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
