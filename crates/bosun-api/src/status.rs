//! The Kubernetes `Status` object: every failure Bosun reports, with upstream's reason, code,
//! message and details conventions (see the API-semantics spec, section 5).
//!
//! `details.kind` is the resource plural for NotFound, AlreadyExists, Conflict and Forbidden, but
//! the Kind for Invalid: the constructors take what each needs so callers cannot mix them up.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A failed (or, for deletes, successful) API call, as clients decode it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// `"Failure"` or `"Success"`.
    pub status: String,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Machine-readable reason (`NotFound`, `Invalid`...); empty when unknown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// What the failure is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Box<StatusDetails>>,
    /// The HTTP status code.
    pub code: u16,
    /// A continue token (only on an expired continue, pointing at the latest state).
    #[serde(skip)]
    pub continue_token: Option<String>,
}

/// `Status.details`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    /// The object's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The API group (empty for core).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// Resource plural, or Kind for Invalid.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The object's uid.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// One entry per field error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Cause>,
    /// Seconds to wait before retrying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
}

/// One cause of a failure, usually a field error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    /// `FieldValueInvalid`, `FieldValueRequired`...
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// e.g. `Invalid value: "x": must be no more than 63 characters`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Dotted path with indices, e.g. `spec.template.spec.containers[0].image`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field: String,
}

/// The kinds of field error upstream reports, with the cause reason and message prefix of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldErrorType {
    /// A required field is missing: `Required value`.
    Required,
    /// A field's value is wrong: `Invalid value: <v>: <detail>`.
    Invalid,
    /// A value outside a fixed set: `Unsupported value: <v>: supported values: ...`.
    NotSupported,
    /// A field that may not be set (or changed): `Forbidden: <detail>`.
    Forbidden,
    /// A value too long: `Too long: ...`.
    TooLong,
    /// Too many items: `Too many: ...`.
    TooMany,
    /// A duplicate: `Duplicate value: <v>`.
    Duplicate,
    /// A value of the wrong JSON type.
    TypeInvalid,
}

impl FieldErrorType {
    /// The cause reason clients see.
    pub fn reason(self) -> &'static str {
        match self {
            FieldErrorType::Required => "FieldValueRequired",
            FieldErrorType::Invalid => "FieldValueInvalid",
            FieldErrorType::NotSupported => "FieldValueNotSupported",
            FieldErrorType::Forbidden => "FieldValueForbidden",
            FieldErrorType::TooLong => "FieldValueTooLong",
            FieldErrorType::TooMany => "FieldValueTooMany",
            FieldErrorType::Duplicate => "FieldValueDuplicate",
            FieldErrorType::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    fn label(self) -> &'static str {
        match self {
            FieldErrorType::Required => "Required value",
            FieldErrorType::Invalid => "Invalid value",
            FieldErrorType::NotSupported => "Unsupported value",
            FieldErrorType::Forbidden => "Forbidden",
            FieldErrorType::TooLong => "Too long",
            FieldErrorType::TooMany => "Too many",
            FieldErrorType::Duplicate => "Duplicate value",
            FieldErrorType::TypeInvalid => "Invalid value",
        }
    }
}

/// One validation failure on one field: becomes a `Cause` of a 422 Invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// What kind of failure.
    pub kind: FieldErrorType,
    /// Dotted path with indices: `metadata.name`, `spec.template.spec.containers[0].name`.
    pub field: String,
    /// The offending value, when upstream prints it (JSON: strings quoted, numbers bare).
    pub value: Option<Value>,
    /// Upstream's explanation, e.g. `must be greater than or equal to 0`.
    pub detail: String,
}

impl FieldError {
    /// `Required value` on `field`.
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError { kind: FieldErrorType::Required, field: field.into(), value: None, detail: detail.into() }
    }

    /// `Invalid value: <value>: <detail>` on `field`.
    pub fn invalid(field: impl Into<String>, value: impl Into<Value>, detail: impl Into<String>) -> Self {
        FieldError {
            kind: FieldErrorType::Invalid,
            field: field.into(),
            value: Some(value.into()),
            detail: detail.into(),
        }
    }

    /// `Unsupported value: <value>: supported values: "a", "b"` on `field`.
    pub fn not_supported(field: impl Into<String>, value: impl Into<Value>, supported: &[&str]) -> Self {
        let detail = format!(
            "supported values: {}",
            supported.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ")
        );
        FieldError { kind: FieldErrorType::NotSupported, field: field.into(), value: Some(value.into()), detail }
    }

    /// `Forbidden: <detail>` on `field`.
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError { kind: FieldErrorType::Forbidden, field: field.into(), value: None, detail: detail.into() }
    }

    /// `Too long: may not be more than <max> bytes`-style errors on `field`.
    pub fn too_long(field: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError { kind: FieldErrorType::TooLong, field: field.into(), value: None, detail: detail.into() }
    }

    /// `Duplicate value: <value>` on `field`.
    pub fn duplicate(field: impl Into<String>, value: impl Into<Value>) -> Self {
        FieldError {
            kind: FieldErrorType::Duplicate,
            field: field.into(),
            value: Some(value.into()),
            detail: String::new(),
        }
    }

    /// The cause message, as upstream formats it (without the field).
    pub fn message(&self) -> String {
        let mut out = self.kind.label().to_string();
        if let Some(value) = &self.value {
            out.push_str(": ");
            out.push_str(&value.to_string());
        }
        if !self.detail.is_empty() {
            out.push_str(": ");
            out.push_str(&self.detail);
        }
        out
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message())
    }
}

/// `<resource>` for the core group, `<resource>.<group>` otherwise, as messages name resources.
pub fn qualified_resource(resource: &str, group: &str) -> String {
    if group.is_empty() { resource.to_string() } else { format!("{resource}.{group}") }
}

impl Status {
    /// A failure with a reason and code, and no details.
    pub fn failure(code: u16, reason: &str, message: impl Into<String>) -> Self {
        Status {
            status: "Failure".into(),
            message: message.into(),
            reason: reason.into(),
            details: None,
            code,
            continue_token: None,
        }
    }

    fn with_details(mut self, details: StatusDetails) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    fn resource_details(resource: &str, group: &str, name: &str) -> StatusDetails {
        StatusDetails { name: name.into(), group: group.into(), kind: resource.into(), ..Default::default() }
    }

    /// 200 Success, as deletes of most resources return it.
    pub fn success_deleted(resource: &str, group: &str, name: &str, uid: &str) -> Self {
        let details = StatusDetails { uid: uid.into(), ..Self::resource_details(resource, group, name) };
        Status {
            status: "Success".into(),
            message: String::new(),
            reason: String::new(),
            details: Some(Box::new(details)),
            code: 200,
            continue_token: None,
        }
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::failure(400, "BadRequest", message)
    }

    /// 401 Unauthorized.
    pub fn unauthorized() -> Self {
        Self::failure(401, "Unauthorized", "Unauthorized")
    }

    /// 403 Forbidden about one object.
    pub fn forbidden(resource: &str, group: &str, name: &str, why: &str) -> Self {
        let message = format!("{} \"{name}\" is forbidden: {why}", qualified_resource(resource, group));
        Self::failure(403, "Forbidden", message).with_details(Self::resource_details(resource, group, name))
    }

    /// 404 NotFound for an object: `deployments.apps "x" not found`.
    pub fn not_found(resource: &str, group: &str, name: &str) -> Self {
        let message = format!("{} \"{name}\" not found", qualified_resource(resource, group));
        Self::failure(404, "NotFound", message).with_details(Self::resource_details(resource, group, name))
    }

    /// 404 for a path no resource serves.
    pub fn path_not_found() -> Self {
        Self::failure(404, "NotFound", "the server could not find the requested resource")
            .with_details(StatusDetails::default())
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::failure(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({method})"),
        )
        .with_details(StatusDetails::default())
    }

    /// 406 NotAcceptable.
    pub fn not_acceptable(supported: &str) -> Self {
        Self::failure(406, "NotAcceptable", format!("only the following media types are accepted: {supported}"))
    }

    /// 409 AlreadyExists.
    pub fn already_exists(resource: &str, group: &str, name: &str) -> Self {
        let message = format!("{} \"{name}\" already exists", qualified_resource(resource, group));
        Self::failure(409, "AlreadyExists", message).with_details(Self::resource_details(resource, group, name))
    }

    /// 409 Conflict: the object changed since the client read it.
    pub fn conflict_modified(resource: &str, group: &str, name: &str) -> Self {
        Self::conflict(
            resource,
            group,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 409 Conflict with a reason of the caller's.
    pub fn conflict(resource: &str, group: &str, name: &str, why: &str) -> Self {
        let message =
            format!("Operation cannot be fulfilled on {} \"{name}\": {why}", qualified_resource(resource, group));
        Self::failure(409, "Conflict", message).with_details(Self::resource_details(resource, group, name))
    }

    /// 409 Conflict naming the Kind, as delete-precondition failures do
    /// (`Operation cannot be fulfilled on ConfigMap "x": ...`).
    pub fn conflict_on_kind(kind: &str, resource: &str, group: &str, name: &str, why: &str) -> Self {
        let message = format!("Operation cannot be fulfilled on {kind} \"{name}\": {why}");
        Self::failure(409, "Conflict", message).with_details(Self::resource_details(resource, group, name))
    }

    /// 410 Expired.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::failure(410, "Expired", message)
    }

    /// 413 RequestEntityTooLarge.
    pub fn too_large(limit_bytes: usize) -> Self {
        Self::failure(413, "RequestEntityTooLarge", format!("Request entity too large: limit is {limit_bytes}"))
    }

    /// 413 RequestEntityTooLarge with a message of the caller's.
    pub fn too_large_message(message: impl Into<String>) -> Self {
        Self::failure(413, "RequestEntityTooLarge", message)
    }

    /// 415 UnsupportedMediaType.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::failure(415, "UnsupportedMediaType", message)
    }

    /// 422 Invalid with one cause per field error: `Deployment.apps "x" is invalid: ...`.
    pub fn invalid(kind: &str, group: &str, name: &str, errors: &[FieldError]) -> Self {
        let what = if group.is_empty() { kind.to_string() } else { format!("{kind}.{group}") };
        let summary = errors.iter().map(ToString::to_string).collect::<Vec<_>>();
        let summary = if summary.len() == 1 { summary[0].clone() } else { format!("[{}]", summary.join(", ")) };
        let message = format!("{what} \"{name}\" is invalid: {summary}");
        let causes = errors
            .iter()
            .map(|e| Cause { reason: e.kind.reason().into(), message: e.message(), field: e.field.clone() })
            .collect();
        let details =
            StatusDetails { name: name.into(), group: group.into(), kind: kind.into(), causes, ..Default::default() };
        Self::failure(422, "Invalid", message).with_details(details)
    }

    /// 500 InternalError carrying the original error.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        let message = format!("Internal error occurred: {error}");
        let details = StatusDetails {
            causes: vec![Cause { reason: String::new(), message: error.to_string(), field: String::new() }],
            ..Default::default()
        };
        Self::failure(500, "InternalError", message).with_details(details)
    }

    /// 504 Timeout.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::failure(504, "Timeout", message)
    }

    /// The object clients decode: `{"kind":"Status","apiVersion":"v1",...}`.
    pub fn to_value(&self) -> Value {
        let mut value = serde_json::to_value(self).expect("Status serializes");
        let object = value.as_object_mut().expect("a struct is an object");
        let mut metadata = serde_json::Map::new();
        if let Some(token) = &self.continue_token {
            metadata.insert("continue".into(), Value::String(token.clone()));
        }
        let mut out = serde_json::Map::new();
        out.insert("kind".into(), "Status".into());
        out.insert("apiVersion".into(), "v1".into());
        out.insert("metadata".into(), Value::Object(metadata));
        out.append(object);
        Value::Object(out)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for Status {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_the_qualified_resource_and_details_carry_the_plural() {
        let status = Status::not_found("deployments", "apps", "web").to_value();
        assert_eq!(status["message"], "deployments.apps \"web\" not found");
        assert_eq!(status["details"]["kind"], "deployments");
        assert_eq!(status["details"]["group"], "apps");
        assert_eq!(status["code"], 404);
        assert_eq!(status["kind"], "Status");
        let core = Status::not_found("configmaps", "", "x").to_value();
        assert_eq!(core["message"], "configmaps \"x\" not found");
        assert!(core["details"].get("group").is_none());
    }

    #[test]
    fn invalid_carries_the_kind_and_one_cause_per_field() {
        let errors = [
            FieldError::required("metadata.name", "name or generateName is required"),
            FieldError::invalid("spec.replicas", -1, "must be greater than or equal to 0"),
        ];
        let status = Status::invalid("Deployment", "apps", "web", &errors).to_value();
        assert_eq!(status["details"]["kind"], "Deployment");
        assert_eq!(status["code"], 422);
        assert_eq!(status["reason"], "Invalid");
        assert_eq!(
            status["message"],
            "Deployment.apps \"web\" is invalid: [metadata.name: Required value: name or generateName is required, spec.replicas: Invalid value: -1: must be greater than or equal to 0]"
        );
        assert_eq!(status["details"]["causes"][1]["reason"], "FieldValueInvalid");
        assert_eq!(status["details"]["causes"][1]["message"], "Invalid value: -1: must be greater than or equal to 0");
    }
}
