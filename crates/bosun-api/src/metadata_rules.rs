//! The generic metadata rules of a write: the object's own metadata checks (names under the
//! type's rule, labels, annotations, owner references, finalizers), and on update the fields that
//! may never change and the finalizers that may not be added once deletion has started.

use serde_json::Value;

use crate::registry::ResourceType;
use crate::status::FieldError;
use crate::validation::names;

/// Metadata errors of `object` (created when `old` is `None`, updated from `old` otherwise).
pub fn validate(rt: &ResourceType, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errors = names::validate_object_meta(object, rt.name_rule, rt.namespaced);
    let Some(old) = old else {
        return errors;
    };
    let field = |object: &Value, name: &str| object.get("metadata").and_then(|m| m.get(name)).cloned();
    for immutable in ["name", "namespace", "uid", "creationTimestamp"] {
        let (was, now) = (field(old, immutable), field(object, immutable));
        if was != now {
            errors.push(FieldError::invalid(
                format!("metadata.{immutable}"),
                now.unwrap_or(Value::Null),
                "field is immutable",
            ));
        }
    }
    if crate::meta::generation(object) < crate::meta::generation(old) {
        errors.push(FieldError::invalid(
            "metadata.generation",
            crate::meta::generation(object),
            "must not be decremented",
        ));
    }
    if crate::meta::is_being_deleted(old) {
        let before = crate::meta::finalizers(old);
        if crate::meta::finalizers(object).iter().any(|f| !before.contains(f)) {
            errors.push(FieldError::forbidden(
                "metadata.finalizers",
                "no new finalizers can be added if the object is being deleted",
            ));
        }
    }
    errors
}
