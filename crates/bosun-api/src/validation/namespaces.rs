//! Namespaces: beyond the name (checked with the other `metadata` rules in [`super::names`]),
//! upstream's `ValidateNamespace` checks only `spec.finalizers`, and its status update checks
//! that `status.phase` agrees with `metadata.deletionTimestamp`.

use serde_json::Value;

use super::fields::{Fields, type_invalid};
use super::names::is_qualified_name;
use crate::status::FieldError;

/// Finalizer names that need no domain prefix.
const STANDARD_FINALIZERS: &[&str] = &["kubernetes", "orphan", "foregroundDeletion"];

/// Errors of a Namespace on create: each of `spec.finalizers` a qualified name, and a standard
/// finalizer when it has no `/`.
pub fn validate_create(namespace: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let root = Fields::of(Some(namespace), "", &mut errors);
    let spec = root.child("spec", &mut errors);
    let Some(finalizers) = spec.array("finalizers", &mut errors) else { return errors };
    let path = spec.at("finalizers");
    for (i, finalizer) in finalizers.iter().enumerate() {
        let Some(name) = finalizer.as_str() else {
            errors.push(type_invalid(format!("{path}[{i}]"), finalizer, "string"));
            continue;
        };
        errors.extend(is_qualified_name(name).into_iter().map(|m| FieldError::invalid(&*path, name, m)));
        if !name.contains('/') && !STANDARD_FINALIZERS.contains(&name) {
            errors.push(FieldError::invalid(
                &*path,
                name,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    errors
}

/// Errors of a Namespace update (main endpoint, `/status` or `/finalize`): the finalizers, and a
/// phase that matches the deletion state (`Active` until deletion starts, then `Terminating`).
pub fn validate_update(new: &Value, _old: &Value) -> Vec<FieldError> {
    let mut errors = validate_create(new);
    let deleting = new.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null());
    let phase = new.pointer("/status/phase").and_then(Value::as_str).unwrap_or("");
    match (deleting, phase) {
        (false, "Active") | (true, "Terminating") => {}
        (false, other) => errors.push(FieldError::invalid(
            "status.Phase",
            other,
            "may only be 'Active' if `deletionTimestamp` is empty",
        )),
        (true, other) => errors.push(FieldError::invalid(
            "status.Phase",
            other,
            "may only be 'Terminating' if `deletionTimestamp` is not empty",
        )),
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::FieldErrorType;
    use serde_json::json;

    #[test]
    fn namespace_finalizers_must_be_standard_or_qualified() {
        let ns =
            json!({"metadata": {"name": "a"}, "spec": {"finalizers": ["kubernetes", "example.com/x", "custom", 5]}});
        let errors = validate_create(&ns);
        let messages: Vec<_> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified",
                "spec.finalizers[3]: Invalid value: 5: must be of type string",
            ]
        );
        assert_eq!(errors[1].kind, FieldErrorType::TypeInvalid);
    }

    #[test]
    fn namespace_phase_follows_deletion() {
        let active = json!({"metadata": {"name": "a"}, "status": {"phase": "Active"}});
        assert_eq!(validate_update(&active, &active), vec![]);
        let terminating = json!({"metadata": {"name": "a", "deletionTimestamp": "2024-01-01T00:00:00Z"}, "status": {"phase": "Active"}});
        assert_eq!(validate_update(&terminating, &active)[0].field, "status.Phase");
        assert!(!validate_update(&json!("x"), &json!(null)).is_empty());
    }
}
