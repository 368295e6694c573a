//! Reading objects kept as JSON the way Go decodes them into typed structs, and printing values
//! into messages the way upstream's `field.Error` prints them.
//!
//! # Reading
//!
//! Bosun keeps objects as `serde_json::Value`, so a field may hold any JSON type. Upstream would
//! have refused a wrongly typed field while decoding the body (400); Bosun reports it as one
//! `FieldValueTypeInvalid` cause on the field's path (`Invalid value: "3": must be of type int32`)
//! and carries on with the other fields, so a malformed object never panics and every problem is
//! reported at once. As in Go, `null` reads as "not set".
//!
//! [`Fields`] wraps one JSON object and its path; its getters return `None` for a field that is
//! absent, `null` or of the wrong type (recording the type error).
//!
//! # Printing
//!
//! Upstream prints an invalid value with `%q` for strings, `%v` for numbers and booleans, and
//! Go's `%#v` for everything else: `map[string]string{"app":"web"}`,
//! `intstr.IntOrString{Type:1, IntVal:0, StrVal:"25%"}`,
//! `v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`.
//! The `go_*` functions reproduce those texts, and [`invalid_go`] builds an error whose message
//! carries such a text verbatim (a JSON value would print it as a quoted string).

use serde_json::{Map, Value};

use crate::selector::go_quote;
use crate::status::{FieldError, FieldErrorType};

/// `path.key`, or `key` at the root.
pub fn child(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

/// `path[index]`.
pub fn index(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// `path[key]`, as upstream names one entry of a map (`spec.template.metadata.labels[job-name]`).
pub fn key(path: &str, key: &str) -> String {
    format!("{path}[{key}]")
}

/// A `FieldValueTypeInvalid` error: the value at `field` is not of the Go type `type_name`.
pub fn type_invalid(field: impl Into<String>, value: &Value, type_name: &str) -> FieldError {
    FieldError {
        kind: FieldErrorType::TypeInvalid,
        field: field.into(),
        value: Some(value.clone()),
        detail: format!("must be of type {type_name}"),
    }
}

/// `Invalid value: <rendered>: <detail>` where `rendered` is already in Go's notation (a map, a
/// struct…) and must not be quoted again.
pub fn invalid_go(field: impl Into<String>, rendered: &str, detail: &str) -> FieldError {
    FieldError {
        kind: FieldErrorType::Invalid,
        field: field.into(),
        value: None,
        detail: if detail.is_empty() { rendered.to_string() } else { format!("{rendered}: {detail}") },
    }
}

/// `Unsupported value: <rendered>: supported values: "a", "b"` with a value in Go's notation.
pub fn not_supported_go(field: impl Into<String>, rendered: &str, supported: &[&str]) -> FieldError {
    let list = supported.iter().map(|s| go_quote(s)).collect::<Vec<_>>().join(", ");
    FieldError {
        kind: FieldErrorType::NotSupported,
        field: field.into(),
        value: None,
        detail: format!("{rendered}: supported values: {list}"),
    }
}

/// Upstream's `ValidateNonnegativeField`: `must be greater than or equal to 0`.
pub fn check_nonnegative(value: Option<i64>, field: &str, errors: &mut Vec<FieldError>) {
    if let Some(value) = value.filter(|v| *v < 0) {
        errors.push(FieldError::invalid(field, value, NEGATIVE_MESSAGE));
    }
}

/// Upstream's message for a negative count.
pub const NEGATIVE_MESSAGE: &str = "must be greater than or equal to 0";

/// Upstream's `ValidateImmutableField` message.
pub const IMMUTABLE_MESSAGE: &str = "field is immutable";

/// Upstream's `RegexError`: the explanation, examples, and the regex. Examples are joined as
/// upstream joins them, which leaves two spaces before each "or".
pub fn regex_error(message: &str, regex: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{message} (regex used for validation is '{regex}')");
    }
    let examples = examples.iter().map(|e| format!("'{e}', ")).collect::<Vec<_>>().join(" or ");
    format!("{message} (e.g. {examples}regex used for validation is '{regex}')")
}

/// Upstream's `IsValidPortNum` message list for a port number.
pub fn port_number_errors(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) { Vec::new() } else { vec![INCLUSIVE_PORT_RANGE.to_string()] }
}

/// Upstream's `InclusiveRangeError(1, 65535)`.
pub const INCLUSIVE_PORT_RANGE: &str = "must be between 1 and 65535, inclusive";

/// Upstream's `IsValidPortName` (an IANA service name): at most 15 characters of `a-z0-9-`, at
/// least one letter, no `--`, no leading or trailing `-`.
pub fn port_name_errors(name: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if name.len() > 15 {
        errors.push("must be no more than 15 characters".to_string());
    }
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        errors.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string());
    }
    if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        errors.push("must contain at least one letter (a-z)".to_string());
    }
    if name.contains("--") {
        errors.push("must not contain consecutive hyphens".to_string());
    }
    if name.starts_with('-') || name.ends_with('-') {
        errors.push("must not begin or end with a hyphen".to_string());
    }
    errors
}

/// One JSON object of the request, with the path it sits at, read as Go would decode it.
#[derive(Clone)]
pub struct Fields<'a> {
    map: Option<&'a Map<String, Value>>,
    path: String,
}

impl<'a> Fields<'a> {
    /// The object `value` at `path`. Anything but an object (or `null`) is a type error, and the
    /// result then reads as an empty object.
    pub fn of(value: Option<&'a Value>, path: impl Into<String>, errors: &mut Vec<FieldError>) -> Fields<'a> {
        let path = path.into();
        match value {
            Some(Value::Object(map)) => Fields { map: Some(map), path },
            None | Some(Value::Null) => Fields { map: None, path },
            Some(other) => {
                errors.push(type_invalid(path.clone(), other, "object"));
                Fields { map: None, path }
            }
        }
    }

    /// The object's path (`spec.template.spec`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The path of one field of this object.
    pub fn at(&self, key: &str) -> String {
        child(&self.path, key)
    }

    /// The view of an object field; an absent field reads as an empty object, a wrong type is a
    /// type error and also reads as empty (Go's zero value of a struct field).
    pub fn child(&self, key: &str, errors: &mut Vec<FieldError>) -> Fields<'a> {
        Fields::of(self.raw(key), self.at(key), errors)
    }

    /// The field's value when present and not `null`, whatever its type.
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(key)).filter(|v| !v.is_null())
    }

    /// Whether the field is present and not `null`.
    pub fn has(&self, key: &str) -> bool {
        self.raw(key).is_some()
    }

    /// A string field. Absent and `null` are `None`; so is a wrong type, recorded as an error.
    pub fn str(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<&'a str> {
        match self.raw(key)? {
            Value::String(s) => Some(s),
            other => {
                errors.push(type_invalid(self.at(key), other, "string"));
                None
            }
        }
    }

    /// A string field read as Go's zero value: `""` when absent, `null` or of the wrong type.
    pub fn text(&self, key: &str, errors: &mut Vec<FieldError>) -> &'a str {
        self.str(key, errors).unwrap_or("")
    }

    /// An `int32` field: a JSON integer within range; anything else is a type error.
    pub fn int32(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
        self.int_in(key, i64::from(i32::MIN), i64::from(i32::MAX), "int32", errors)
    }

    /// An `int64` field.
    pub fn int64(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
        self.int_in(key, i64::MIN, i64::MAX, "int64", errors)
    }

    fn int_in(&self, key: &str, min: i64, max: i64, type_name: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
        let value = self.raw(key)?;
        match value.as_i64().filter(|n| (min..=max).contains(n)) {
            Some(n) => Some(n),
            None => {
                errors.push(type_invalid(self.at(key), value, type_name));
                None
            }
        }
    }

    /// A boolean field.
    pub fn boolean(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<bool> {
        match self.raw(key)? {
            Value::Bool(b) => Some(*b),
            other => {
                errors.push(type_invalid(self.at(key), other, "boolean"));
                None
            }
        }
    }

    /// An object field that is present (a pointer field in Go), as a view at its own path.
    pub fn object(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<Fields<'a>> {
        match self.raw(key)? {
            Value::Object(map) => Some(Fields { map: Some(map), path: self.at(key) }),
            other => {
                errors.push(type_invalid(self.at(key), other, "object"));
                None
            }
        }
    }

    /// A list field.
    pub fn array(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<&'a [Value]> {
        match self.raw(key)? {
            Value::Array(items) => Some(items),
            other => {
                errors.push(type_invalid(self.at(key), other, "array"));
                None
            }
        }
    }

    /// A map field (labels, selectors): the raw map; its values are checked by whoever reads them.
    pub fn map(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<&'a Map<String, Value>> {
        match self.raw(key)? {
            Value::Object(map) => Some(map),
            other => {
                errors.push(type_invalid(self.at(key), other, "object"));
                None
            }
        }
    }

    /// An `IntOrString` field (ports, `maxSurge`).
    pub fn int_or_string(&self, key: &str, errors: &mut Vec<FieldError>) -> Option<IntOrString<'a>> {
        let value = self.raw(key)?;
        match value {
            Value::String(s) => Some(IntOrString::Str(s)),
            Value::Number(_) => match value.as_i64().filter(|n| i32::try_from(*n).is_ok()) {
                Some(n) => Some(IntOrString::Int(n)),
                None => {
                    errors.push(type_invalid(self.at(key), value, "int32 or string"));
                    None
                }
            },
            other => {
                errors.push(type_invalid(self.at(key), other, "int32 or string"));
                None
            }
        }
    }
}

/// Calls `each` with a view of every object in `items` (at `path[i]`); entries that are not
/// objects are type errors and skipped.
pub fn each_object<'a>(
    items: &'a [Value],
    path: &str,
    errors: &mut Vec<FieldError>,
    mut each: impl FnMut(usize, Fields<'a>, &mut Vec<FieldError>),
) {
    for (i, item) in items.iter().enumerate() {
        let item_path = index(path, i);
        match item {
            Value::Object(map) => each(i, Fields { map: Some(map), path: item_path }, errors),
            other => errors.push(type_invalid(item_path, other, "object")),
        }
    }
}

/// Upstream's `intstr.IntOrString`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrString<'a> {
    /// A number (`Type:0`).
    Int(i64),
    /// A string (`Type:1`), e.g. `"25%"` or a port name.
    Str(&'a str),
}

impl IntOrString<'_> {
    /// Go's `%#v`: `intstr.IntOrString{Type:1, IntVal:0, StrVal:"25%"}`.
    pub fn go(&self) -> String {
        match self {
            IntOrString::Int(n) => format!("intstr.IntOrString{{Type:0, IntVal:{n}, StrVal:\"\"}}"),
            IntOrString::Str(s) => format!("intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}", go_quote(s)),
        }
    }
}

/// Go's `%#v` of a `map[string]string`: `map[string]string(nil)` when absent, keys sorted.
pub fn go_string_map(map: Option<&Map<String, Value>>) -> String {
    let Some(map) = map else { return "map[string]string(nil)".to_string() };
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let body = entries
        .iter()
        .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(&value_text(v))))
        .collect::<Vec<_>>()
        .join(", ");
    format!("map[string]string{{{body}}}")
}

/// Go's `%#v` of a `[]string`: `[]string(nil)` when absent.
pub fn go_string_slice(items: Option<&[Value]>) -> String {
    match items {
        None => "[]string(nil)".to_string(),
        Some(items) => {
            let body = items.iter().map(|v| go_quote(&value_text(v))).collect::<Vec<_>>().join(", ");
            format!("[]string{{{body}}}")
        }
    }
}

/// Go's `%#v` of a `metav1.LabelSelector` (as upstream prints `spec.selector`).
pub fn go_label_selector(selector: Option<&Value>) -> String {
    let object = selector.and_then(Value::as_object);
    let labels = object.and_then(|o| o.get("matchLabels")).and_then(Value::as_object);
    let expressions = object.and_then(|o| o.get("matchExpressions")).and_then(Value::as_array);
    let expressions = match expressions {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(list) => {
            let body = list
                .iter()
                .map(|e| {
                    let text = |k: &str| e.get(k).map(value_text).unwrap_or_default();
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        go_quote(&text("key")),
                        go_quote(&text("operator")),
                        go_string_slice(e.get("values").and_then(Value::as_array).map(Vec::as_slice))
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!("[]v1.LabelSelectorRequirement{{{body}}}")
        }
    };
    format!("v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{expressions}}}", go_string_map(labels))
}

/// The text of a scalar as Go would hold it in a string field (`null` is `""`).
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrong_types_become_type_errors_on_the_fields_path() {
        let value = json!({"replicas": "3", "name": 5, "paused": "yes", "big": 3_000_000_000_i64, "ok": 2});
        let mut errors = Vec::new();
        let fields = Fields::of(Some(&value), "spec", &mut errors);
        assert_eq!(fields.int32("replicas", &mut errors), None);
        assert_eq!(fields.str("name", &mut errors), None);
        assert_eq!(fields.boolean("paused", &mut errors), None);
        assert_eq!(fields.int32("big", &mut errors), None);
        assert_eq!(fields.int32("ok", &mut errors), Some(2));
        let paths: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(paths, ["spec.replicas", "spec.name", "spec.paused", "spec.big"]);
        assert!(errors.iter().all(|e| e.kind == FieldErrorType::TypeInvalid));
        assert_eq!(errors[0].message(), "Invalid value: \"3\": must be of type int32");
    }

    #[test]
    fn null_reads_as_unset_without_an_error() {
        let value = json!({"replicas": null});
        let mut errors = Vec::new();
        let fields = Fields::of(Some(&value), "spec", &mut errors);
        assert_eq!(fields.int32("replicas", &mut errors), None);
        assert!(errors.is_empty());
    }

    #[test]
    fn regex_errors_join_examples_with_upstreams_double_space() {
        assert_eq!(
            regex_error("a valid percent", "[0-9]+%", &["1%", "93%"]),
            "a valid percent (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
        );
        assert_eq!(regex_error("m", "r", &[]), "m (regex used for validation is 'r')");
    }

    #[test]
    fn port_names_follow_iana_service_name_rules() {
        assert!(port_name_errors("http").is_empty());
        assert!(port_name_errors("web-8080").is_empty());
        assert_eq!(port_name_errors("8080"), ["must contain at least one letter (a-z)"]);
        assert_eq!(port_name_errors("a--b"), ["must not contain consecutive hyphens"]);
        assert_eq!(port_name_errors("Http").len(), 1);
        assert_eq!(port_name_errors("abcdefghijklmnop"), ["must be no more than 15 characters"]);
    }

    #[test]
    fn go_notation_matches_upstreams_percent_hash_v() {
        assert_eq!(go_string_map(None), "map[string]string(nil)");
        assert_eq!(
            go_string_map(json!({"b": "2", "a": "1"}).as_object()),
            "map[string]string{\"a\":\"1\", \"b\":\"2\"}"
        );
        assert_eq!(IntOrString::Str("25%").go(), "intstr.IntOrString{Type:1, IntVal:0, StrVal:\"25%\"}");
        assert_eq!(IntOrString::Int(0).go(), "intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}");
        assert_eq!(
            go_label_selector(Some(&json!({"matchLabels": {"app": "kubia"}}))),
            "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"kubia\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
        );
    }
}
