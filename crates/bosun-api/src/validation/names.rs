//! Names, label keys and values, annotations, finalizers and owner references: the generic
//! `metadata` rules every object passes on create and update, with upstream's messages
//! (Kubernetes 1.35, `k8s.io/apimachinery` validation; API-semantics spec, sections 2.2 and 2.3).
//!
//! # Two layers
//!
//! * The `is_*` functions check one string and return upstream's messages, one per broken rule
//!   (an empty list means valid). They are what upstream's `IsDNS1123Subdomain`,
//!   `IsQualifiedName`, `IsValidLabelValue`… return, and the label-selector parser reuses them.
//! * The `validate_*` functions turn those messages into [`FieldError`]s on a field path
//!   (`metadata.name`, `metadata.labels`…): one error per message, as upstream, so that a 422
//!   Invalid carries one cause per broken rule.
//!
//! # The rules
//!
//! | rule | shape | max |
//! |---|---|---|
//! | RFC 1123 subdomain | `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*` | 253 |
//! | RFC 1123 label | `[a-z0-9]([-a-z0-9]*[a-z0-9])?` | 63 |
//! | RFC 1035 label | `[a-z]([-a-z0-9]*[a-z0-9])?` | 63 |
//! | path segment | not `.` or `..`, no `/`, no `%` | — |
//! | label key (qualified name) | `[prefix/]name`, prefix an RFC 1123 subdomain, name `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]` | 253 / 63 |
//! | label value | empty, or the name shape above | 63 |
//! | annotation key | a label key, compared in lower case | 253 / 63 |
//! | annotations | keys plus values, all together | 256 KiB |
//!
//! Lengths are counted in bytes, as Go's `len` does; non-ASCII characters never match any shape.
//! Upstream words the length limit of names "characters" and that of label keys and values
//! "bytes" (the latter come from the newer `validate/content` package); the messages keep both.
//!
//! # generateName
//!
//! A `generateName` prefix is checked with the name's rule after masking a trailing `-`, exactly as
//! upstream does it: the last *two* bytes are replaced by `a` (`abc-` is checked as `aba`), so that
//! the generated suffix can follow a dash.

use serde_json::{Map, Value};

use crate::status::{FieldError, FieldErrorType};

/// Longest RFC 1123 label, in bytes.
pub const DNS1123_LABEL_LENGTH_MAX: usize = 63;
/// Longest RFC 1123 subdomain, in bytes.
pub const DNS1123_SUBDOMAIN_LENGTH_MAX: usize = 253;
/// Longest RFC 1035 label, in bytes.
pub const DNS1035_LABEL_LENGTH_MAX: usize = 63;
/// Longest name part of a label key (qualified name), in bytes.
pub const QUALIFIED_NAME_LENGTH_MAX: usize = 63;
/// Longest label value, in bytes.
pub const LABEL_VALUE_LENGTH_MAX: usize = 63;
/// Largest total size of an object's annotations, keys plus values, in bytes (256 KiB).
pub const ANNOTATIONS_SIZE_MAX_BYTES: usize = 256 * 1024;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// The finalizer that orphans dependents; it may not be combined with [`FINALIZER_FOREGROUND`].
pub const FINALIZER_ORPHAN: &str = "orphan";
/// The finalizer of foreground cascading deletion.
pub const FINALIZER_FOREGROUND: &str = "foregroundDeletion";

/// Which rule `metadata.name` must satisfy: upstream's per-type name validation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameRule {
    /// RFC 1123 subdomain, at most 253 bytes (`NameIsDNSSubdomain`): most types.
    Dns1123Subdomain,
    /// RFC 1123 label, at most 63 bytes (`NameIsDNSLabel`): namespaces, and `metadata.namespace`
    /// everywhere.
    Dns1123Label,
    /// RFC 1035 label, at most 63 bytes, starting with a letter (`NameIsDNS1035Label`): services.
    Dns1035Label,
    /// Anything usable as one URL path segment (`ValidatePathSegmentName`): RBAC types and other
    /// cluster objects whose names may contain `:` or upper case.
    PathSegment,
}

impl NameRule {
    /// Upstream's messages for `name` under this rule; empty when valid. With `prefix`, `name` is
    /// a `generateName` prefix: the trailing-dash mask applies, and for path segments only the
    /// forbidden characters are checked (`.` is a fine prefix).
    pub fn check(self, name: &str, prefix: bool) -> Vec<String> {
        let bytes = name.as_bytes();
        let masked;
        let value = if prefix && self != NameRule::PathSegment {
            masked = mask_trailing_dash(bytes);
            masked.as_slice()
        } else {
            bytes
        };
        match self {
            NameRule::Dns1123Subdomain => dns1123_subdomain_errors(value, LengthUnit::Characters),
            NameRule::Dns1123Label => dns1123_label_errors(value),
            NameRule::Dns1035Label => dns1035_label_errors(value),
            NameRule::PathSegment if prefix => is_path_segment_prefix(name),
            NameRule::PathSegment => is_path_segment_name(name),
        }
    }
}

/// Upstream's `maskTrailingDash`: a prefix ending in `-` is checked with its last two bytes
/// replaced by `a`. The odd "two" is upstream's, kept so the same prefixes pass and fail.
fn mask_trailing_dash(name: &[u8]) -> Vec<u8> {
    if name.len() > 1 && name.ends_with(b"-") {
        let mut masked = name[..name.len() - 2].to_vec();
        masked.push(b'a');
        masked
    } else {
        name.to_vec()
    }
}

/// Upstream words some length limits in characters and others (the newer `validate/content`
/// package: label keys and values) in bytes.
#[derive(Clone, Copy)]
enum LengthUnit {
    Characters,
    Bytes,
}

fn max_len_error(length: usize, unit: LengthUnit) -> String {
    match unit {
        LengthUnit::Characters => format!("must be no more than {length} characters"),
        LengthUnit::Bytes => format!("must be no more than {length} bytes"),
    }
}

/// Upstream's `RegexError`: the explanation, examples, and the regex itself. Examples are joined
/// as upstream joins them, which leaves two spaces before each "or".
fn regex_error(message: &str, regex: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{message} (regex used for validation is '{regex}')");
    }
    let mut out = format!("{message} (e.g. ");
    for (i, example) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push('\'');
        out.push_str(example);
        out.push_str("', ");
    }
    out.push_str("regex used for validation is '");
    out.push_str(regex);
    out.push_str("')");
    out
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1123_label(value: &[u8]) -> bool {
    match (value.first(), value.last()) {
        (Some(&first), Some(&last)) => {
            is_lower_alnum(first) && is_lower_alnum(last) && value.iter().all(|&b| is_lower_alnum(b) || b == b'-')
        }
        _ => false,
    }
}

/// RFC 1123 labels joined by single dots.
fn matches_dns1123_subdomain(value: &[u8]) -> bool {
    value.split(|&b| b == b'.').all(matches_dns1123_label)
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1035_label(value: &[u8]) -> bool {
    matches_dns1123_label(value) && value.first().is_some_and(u8::is_ascii_lowercase)
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn matches_qualified_name(value: &[u8]) -> bool {
    match (value.first(), value.last()) {
        (Some(&first), Some(&last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && value.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

fn dns1123_label_errors(value: &[u8]) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > DNS1123_LABEL_LENGTH_MAX {
        errors.push(max_len_error(DNS1123_LABEL_LENGTH_MAX, LengthUnit::Characters));
    }
    if !matches_dns1123_label(value) {
        // A valid subdomain that is not a label can only be wrong because of its dots (the length
        // was reported above), so upstream says just that.
        if matches_dns1123_subdomain(value) {
            errors.push("must not contain dots".to_string());
        } else {
            errors.push(regex_error(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, &["my-name", "123-abc"]));
        }
    }
    errors
}

fn dns1123_subdomain_errors(value: &[u8], unit: LengthUnit) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_LENGTH_MAX {
        errors.push(max_len_error(DNS1123_SUBDOMAIN_LENGTH_MAX, unit));
    }
    if !matches_dns1123_subdomain(value) {
        errors.push(regex_error(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, &["example.com"]));
    }
    errors
}

fn dns1035_label_errors(value: &[u8]) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > DNS1035_LABEL_LENGTH_MAX {
        errors.push(max_len_error(DNS1035_LABEL_LENGTH_MAX, LengthUnit::Characters));
    }
    if !matches_dns1035_label(value) {
        errors.push(regex_error(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, &["my-name", "abc-123"]));
    }
    errors
}

/// Upstream's messages for an RFC 1123 label (`IsDNS1123Label`); empty when valid.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    dns1123_label_errors(value.as_bytes())
}

/// Upstream's messages for an RFC 1123 subdomain (`IsDNS1123Subdomain`); empty when valid.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    dns1123_subdomain_errors(value.as_bytes(), LengthUnit::Characters)
}

/// Upstream's messages for an RFC 1035 label (`IsDNS1035Label`); empty when valid.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    dns1035_label_errors(value.as_bytes())
}

/// Upstream's messages for a name that must fit in one URL path segment
/// (`IsValidPathSegmentName`); empty when valid.
pub fn is_path_segment_name(name: &str) -> Vec<String> {
    for reserved in [".", ".."] {
        if name == reserved {
            return vec![format!("may not be '{reserved}'")];
        }
    }
    is_path_segment_prefix(name)
}

/// Upstream's messages for the prefix of such a name (`IsValidPathSegmentPrefix`): only the
/// forbidden characters, since `.` followed by a suffix is a fine name.
pub fn is_path_segment_prefix(name: &str) -> Vec<String> {
    ["/", "%"]
        .iter()
        .filter(|forbidden| name.contains(*forbidden))
        .map(|forbidden| format!("may not contain '{forbidden}'"))
        .collect()
}

/// Upstream's messages for a label key, also called a qualified name (`IsQualifiedName`): an
/// optional RFC 1123 subdomain prefix and `/`, then a name of at most 63 bytes. Empty when valid.
/// Finalizer names and (lower-cased) annotation keys follow the same rule.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errors.push("prefix part must be non-empty".to_string());
            } else {
                errors.extend(
                    dns1123_subdomain_errors(prefix.as_bytes(), LengthUnit::Bytes)
                        .into_iter()
                        .map(|message| format!("prefix part {message}")),
                );
            }
            *name
        }
        _ => {
            return vec![format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            )];
        }
    };
    if name.is_empty() {
        errors.push("name part must be non-empty".to_string());
    } else if name.len() > QUALIFIED_NAME_LENGTH_MAX {
        errors.push(format!("name part {}", max_len_error(QUALIFIED_NAME_LENGTH_MAX, LengthUnit::Bytes)));
    }
    // Upstream checks the shape even when the name is empty, so an empty name gets two messages.
    if !matches_qualified_name(name.as_bytes()) {
        errors.push(format!(
            "name part {}",
            regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
        ));
    }
    errors
}

/// Upstream's messages for a label value (`IsValidLabelValue`): empty, or at most 63 bytes of
/// the name shape. Empty when valid.
pub fn is_label_value(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > LABEL_VALUE_LENGTH_MAX {
        errors.push(max_len_error(LABEL_VALUE_LENGTH_MAX, LengthUnit::Bytes));
    }
    if !value.is_empty() && !matches_qualified_name(value.as_bytes()) {
        errors.push(regex_error(LABEL_VALUE_ERR, LABEL_VALUE_FMT, &["MyValue", "my_value", "12345"]));
    }
    errors
}

/// `name` checked under `rule`, one `FieldValueInvalid` per broken rule on `field`
/// (`metadata.name`, or `metadata.generateName` with `prefix`).
pub fn validate_name(rule: NameRule, field: &str, name: &str, prefix: bool) -> Vec<FieldError> {
    rule.check(name, prefix).into_iter().map(|message| FieldError::invalid(field, name, message)).collect()
}

/// A map's values must be strings; anything else is a type error on the map's field. JSON `null`
/// reads as the empty string, as Go decodes it into a `map[string]string`.
fn string_entries<'a>(
    map: &'a Map<String, Value>,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Vec<(&'a str, &'a str)> {
    let mut entries = Vec::with_capacity(map.len());
    for (key, value) in map {
        match value {
            Value::String(s) => entries.push((key.as_str(), s.as_str())),
            Value::Null => entries.push((key.as_str(), "")),
            other => errors.push(FieldError {
                kind: FieldErrorType::TypeInvalid,
                field: field.to_string(),
                value: Some(other.clone()),
                detail: "must be of type string".to_string(),
            }),
        }
    }
    entries
}

/// `metadata.labels`-style checks (`ValidateLabels`): every key a qualified name, every value a
/// label value; errors name `field` itself, not the key, with the offending key or value.
pub fn validate_labels(labels: &Map<String, Value>, field: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (key, value) in string_entries(labels, field, &mut errors) {
        errors.extend(is_qualified_name(key).into_iter().map(|message| FieldError::invalid(field, key, message)));
        errors.extend(is_label_value(value).into_iter().map(|message| FieldError::invalid(field, value, message)));
    }
    errors
}

/// `metadata.annotations`-style checks (`ValidateAnnotations`): every key a qualified name once
/// lower-cased (the error shows the key as written), and keys plus values at most 256 KiB in
/// total (one `FieldValueTooLong` on `field`).
pub fn validate_annotations(annotations: &Map<String, Value>, field: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut size_bytes: usize = 0;
    for (key, value) in string_entries(annotations, field, &mut errors) {
        let lowered = key.to_ascii_lowercase();
        errors.extend(is_qualified_name(&lowered).into_iter().map(|message| FieldError::invalid(field, key, message)));
        size_bytes = size_bytes.saturating_add(key.len()).saturating_add(value.len());
    }
    if size_bytes > ANNOTATIONS_SIZE_MAX_BYTES {
        errors.push(FieldError::too_long(field, format!("may not be more than {ANNOTATIONS_SIZE_MAX_BYTES} bytes")));
    }
    errors
}

/// `metadata.finalizers` checks (`ValidateFinalizers`): each a qualified name, and not both
/// `orphan` and `foregroundDeletion`. Non-string entries are type errors.
pub fn validate_finalizers(finalizers: &[Value], field: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let (mut orphan, mut foreground) = (false, false);
    for finalizer in finalizers {
        let Some(name) = finalizer.as_str() else {
            errors.push(FieldError {
                kind: FieldErrorType::TypeInvalid,
                field: field.to_string(),
                value: Some(finalizer.clone()),
                detail: "must be of type string".to_string(),
            });
            continue;
        };
        errors.extend(is_qualified_name(name).into_iter().map(|message| FieldError::invalid(field, name, message)));
        orphan |= name == FINALIZER_ORPHAN;
        foreground |= name == FINALIZER_FOREGROUND;
    }
    if orphan && foreground {
        errors.push(FieldError::invalid(
            field,
            Value::Array(finalizers.to_vec()),
            format!("finalizer {FINALIZER_ORPHAN} and {FINALIZER_FOREGROUND} cannot be both set"),
        ));
    }
    errors
}

/// `metadata.ownerReferences` checks (`ValidateOwnerReferences`): `apiVersion` with a version,
/// `kind`, `name` and `uid` non-empty, no core `v1` Event as owner, and at most one reference
/// with `controller: true`. As upstream, errors name the list's field without an index.
pub fn validate_owner_references(references: &[Value], field: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut first_controller: Option<String> = None;
    for reference in references {
        let text = |key: &str| reference.get(key).and_then(Value::as_str).unwrap_or("");
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        // Upstream's `ParseGroupVersion`: "" → nothing, "v1" → core v1, "g/v" → group and version;
        // more slashes fail to parse and leave the version empty.
        let (group, version) = match api_version.split('/').collect::<Vec<_>>().as_slice() {
            [version] => ("", *version),
            [group, version] => (*group, *version),
            _ => ("", ""),
        };
        if version.is_empty() {
            errors.push(FieldError::invalid(format!("{field}.apiVersion"), api_version, "version must not be empty"));
        }
        for key in ["kind", "name", "uid"] {
            if text(key).is_empty() {
                errors.push(FieldError::invalid(format!("{field}.{key}"), text(key), "must not be empty"));
            }
        }
        if group.is_empty() && version == "v1" && kind == "Event" {
            errors.push(FieldError::invalid(
                field,
                reference.clone(),
                format!("{group}/{version}, Kind={kind} is disallowed from being an owner"),
            ));
        }
        if reference.get("controller").and_then(Value::as_bool) == Some(true) {
            let current = format!("{kind}/{}", text("name"));
            match &first_controller {
                Some(first) => errors.push(FieldError::invalid(
                    field,
                    Value::Array(references.to_vec()),
                    format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {current}"
                    ),
                )),
                None => first_controller = Some(current),
            }
        }
    }
    errors
}

/// The generic checks of an object's `metadata` on create and update
/// (`ValidateObjectMetaAccessor`), in upstream's order: `generateName`, `name` (required unless
/// … it was generated; both under `rule`), `namespace` (required and an RFC 1123 label when
/// `namespaced`, forbidden otherwise), `generation` ≥ 0, labels, annotations, owner references,
/// finalizers. Paths are `metadata.*`. An object without a `metadata` map is treated as having
/// empty metadata, so the caller gets "name or generateName is required" rather than a panic.
pub fn validate_object_meta(object: &Value, rule: NameRule, namespaced: bool) -> Vec<FieldError> {
    let empty = Map::new();
    let metadata = object.get("metadata").and_then(Value::as_object).unwrap_or(&empty);
    let text = |key: &str| metadata.get(key).and_then(Value::as_str).unwrap_or("");
    let mut errors = Vec::new();

    let generate_name = text("generateName");
    if !generate_name.is_empty() {
        errors.extend(validate_name(rule, "metadata.generateName", generate_name, true));
    }
    let name = text("name");
    if name.is_empty() {
        errors.push(FieldError::required("metadata.name", "name or generateName is required"));
    } else {
        errors.extend(validate_name(rule, "metadata.name", name, false));
    }

    let namespace = text("namespace");
    if namespaced {
        if namespace.is_empty() {
            errors.push(FieldError::required("metadata.namespace", ""));
        } else {
            errors.extend(validate_name(NameRule::Dns1123Label, "metadata.namespace", namespace, false));
        }
    } else if !namespace.is_empty() {
        errors.push(FieldError::forbidden("metadata.namespace", "not allowed on this type"));
    }

    if let Some(generation) = metadata.get("generation").and_then(Value::as_i64).filter(|g| *g < 0) {
        errors.push(FieldError::invalid("metadata.generation", generation, "must be greater than or equal to 0"));
    }
    if let Some(labels) = metadata.get("labels").and_then(Value::as_object) {
        errors.extend(validate_labels(labels, "metadata.labels"));
    }
    if let Some(annotations) = metadata.get("annotations").and_then(Value::as_object) {
        errors.extend(validate_annotations(annotations, "metadata.annotations"));
    }
    if let Some(references) = metadata.get("ownerReferences").and_then(Value::as_array) {
        errors.extend(validate_owner_references(references, "metadata.ownerReferences"));
    }
    if let Some(finalizers) = metadata.get("finalizers").and_then(Value::as_array) {
        errors.extend(validate_finalizers(finalizers, "metadata.finalizers"));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SUBDOMAIN_SHAPE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const LABEL_SHAPE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const NAME_PART_SHAPE: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const LABEL_VALUE_SHAPE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    #[test]
    fn subdomain_accepts_dotted_lower_case_names() {
        for name in ["a", "web", "web-1", "example.com", "a.b-c.d0", "0", &"a".repeat(253)] {
            assert_eq!(is_dns1123_subdomain(name), Vec::<String>::new(), "{name}");
        }
    }

    #[test]
    fn subdomain_rejects_upper_case_edges_and_empty_labels_with_upstreams_message() {
        for name in ["", "Web", "-web", "web-", "a..b", ".a", "a.", "a_b", "wéb", "a.-b"] {
            assert_eq!(is_dns1123_subdomain(name), vec![SUBDOMAIN_SHAPE.to_string()], "{name:?}");
        }
    }

    #[test]
    fn subdomain_longer_than_253_reports_length_in_characters() {
        assert_eq!(is_dns1123_subdomain(&"a".repeat(254)), vec!["must be no more than 253 characters"]);
        let both = is_dns1123_subdomain(&format!("{}-", "a".repeat(254)));
        assert_eq!(both, vec!["must be no more than 253 characters".to_string(), SUBDOMAIN_SHAPE.to_string()]);
    }

    #[test]
    fn label_rejects_dots_with_its_own_message() {
        assert_eq!(is_dns1123_label("a.b"), vec!["must not contain dots"]);
        assert_eq!(is_dns1123_label("kube-system"), Vec::<String>::new());
        assert_eq!(is_dns1123_label("Kube"), vec![LABEL_SHAPE]);
        assert_eq!(is_dns1123_label(&"a".repeat(64)), vec!["must be no more than 63 characters"]);
    }

    #[test]
    fn dns1035_label_must_start_with_a_letter() {
        assert!(is_dns1035_label("web-1").is_empty());
        assert_eq!(
            is_dns1035_label("1web"),
            vec![
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
            ]
        );
    }

    #[test]
    fn path_segment_names_refuse_dots_slash_and_percent() {
        assert_eq!(is_path_segment_name("."), vec!["may not be '.'"]);
        assert_eq!(is_path_segment_name(".."), vec!["may not be '..'"]);
        assert_eq!(is_path_segment_name("a/b%c"), vec!["may not contain '/'", "may not contain '%'"]);
        assert!(is_path_segment_name("system:controller:Deployment").is_empty());
        assert!(is_path_segment_prefix(".").is_empty());
    }

    #[test]
    fn generate_name_prefix_masks_the_trailing_dash_by_two_bytes() {
        assert!(NameRule::Dns1123Subdomain.check("web-", true).is_empty());
        assert!(NameRule::Dns1123Label.check("web-", true).is_empty());
        // "a.-" is masked to "aa" — upstream drops the dot along with the dash.
        assert!(NameRule::Dns1123Label.check("a.-", true).is_empty());
        assert_eq!(NameRule::Dns1123Subdomain.check("web-", false), vec![SUBDOMAIN_SHAPE]);
        // A multi-byte character before the dash must not make the mask panic.
        assert_eq!(NameRule::Dns1123Subdomain.check("wé-", true), vec![SUBDOMAIN_SHAPE]);
    }

    #[test]
    fn qualified_name_accepts_prefixed_and_plain_keys() {
        for key in ["app", "App.Name_1", "example.com/app", "kubernetes.io/metadata.name", "a/b"] {
            assert!(is_qualified_name(key).is_empty(), "{key}");
        }
    }

    #[test]
    fn qualified_name_reports_each_part() {
        assert_eq!(is_qualified_name("-app"), vec![NAME_PART_SHAPE]);
        assert_eq!(is_qualified_name(""), vec!["name part must be non-empty".to_string(), NAME_PART_SHAPE.to_string()]);
        assert_eq!(is_qualified_name("/app"), vec!["prefix part must be non-empty"],);
        assert_eq!(is_qualified_name("Example.com/app"), vec![format!("prefix part {SUBDOMAIN_SHAPE}")]);
        assert_eq!(is_qualified_name(&"a".repeat(64)), vec!["name part must be no more than 63 bytes"]);
        assert_eq!(
            is_qualified_name(&format!("{}/a", "a".repeat(254))),
            vec!["prefix part must be no more than 253 bytes"]
        );
        assert_eq!(
            is_qualified_name("a/b/c"),
            vec![
                "a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ]
        );
    }

    #[test]
    fn label_values_may_be_empty_but_not_longer_than_63_bytes() {
        assert!(is_label_value("").is_empty());
        assert!(is_label_value("v1.2_3-x").is_empty());
        assert_eq!(is_label_value("a b"), vec![LABEL_VALUE_SHAPE]);
        assert_eq!(is_label_value(&"a".repeat(64)), vec!["must be no more than 63 bytes"]);
    }

    #[test]
    fn labels_errors_name_the_labels_field_with_the_offending_key_or_value() {
        let labels = json!({"-bad": "ok", "good": "bad value"});
        let errors = validate_labels(labels.as_object().expect("object"), "metadata.labels");
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "metadata.labels");
        assert_eq!(errors[0].message(), format!("Invalid value: \"-bad\": {NAME_PART_SHAPE}"));
        assert_eq!(errors[0].kind.reason(), "FieldValueInvalid");
        assert_eq!(errors[1].message(), format!("Invalid value: \"bad value\": {LABEL_VALUE_SHAPE}"));
    }

    #[test]
    fn annotation_keys_are_checked_in_lower_case_but_reported_as_written() {
        let ok = json!({"Example.COM/Note": "x"});
        assert!(validate_annotations(ok.as_object().expect("object"), "metadata.annotations").is_empty());
        let bad = json!({"Bad Key": "x"});
        let errors = validate_annotations(bad.as_object().expect("object"), "metadata.annotations");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].value, Some(json!("Bad Key")));
    }

    #[test]
    fn annotations_larger_than_256_kib_in_total_are_too_long() {
        let at_limit = json!({"k": "v".repeat(ANNOTATIONS_SIZE_MAX_BYTES - 1)});
        assert!(validate_annotations(at_limit.as_object().expect("object"), "metadata.annotations").is_empty());
        let over = json!({"k": "v".repeat(ANNOTATIONS_SIZE_MAX_BYTES)});
        let errors = validate_annotations(over.as_object().expect("object"), "metadata.annotations");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].kind.reason(), "FieldValueTooLong");
        assert_eq!(errors[0].message(), "Too long: may not be more than 262144 bytes");
    }

    #[test]
    fn finalizers_must_be_qualified_and_not_both_orphan_and_foreground() {
        let errors = validate_finalizers(&[json!("orphan"), json!("foregroundDeletion"), json!("a b")], "f");
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[1].detail, "finalizer orphan and foregroundDeletion cannot be both set");
        assert!(validate_finalizers(&[json!("example.com/cleanup")], "f").is_empty());
    }

    #[test]
    fn owner_references_need_version_kind_name_uid_and_one_controller() {
        let refs = [
            json!({"apiVersion": "apps/", "kind": "", "name": "a", "uid": "1", "controller": true}),
            json!({"apiVersion": "v1", "kind": "Event", "name": "b", "uid": "2", "controller": true}),
        ];
        let errors = validate_owner_references(&refs, "metadata.ownerReferences");
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.detail.as_str())).collect();
        assert_eq!(
            fields,
            vec![
                ("metadata.ownerReferences.apiVersion", "version must not be empty"),
                ("metadata.ownerReferences.kind", "must not be empty"),
                ("metadata.ownerReferences", "/v1, Kind=Event is disallowed from being an owner"),
                (
                    "metadata.ownerReferences",
                    "Only one reference can have Controller set to true. Found \"true\" in references for /a and Event/b"
                ),
            ]
        );
    }

    #[test]
    fn object_meta_requires_a_name_or_generate_name() {
        let errors =
            validate_object_meta(&json!({"metadata": {"namespace": "default"}}), NameRule::Dns1123Subdomain, true);
        assert_eq!(errors, vec![FieldError::required("metadata.name", "name or generateName is required")]);
        assert_eq!(errors[0].kind.reason(), "FieldValueRequired");
    }

    #[test]
    fn object_meta_checks_name_namespace_and_generation_in_upstreams_order() {
        let object = json!({"metadata": {"name": "Web", "generateName": "-", "namespace": "a.b", "generation": -1}});
        let errors = validate_object_meta(&object, NameRule::Dns1123Subdomain, true);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["metadata.generateName", "metadata.name", "metadata.namespace", "metadata.generation"]);
        assert_eq!(errors[1].to_string(), format!("metadata.name: Invalid value: \"Web\": {SUBDOMAIN_SHAPE}"));
        assert_eq!(errors[2].detail, "must not contain dots");
        assert_eq!(errors[3].message(), "Invalid value: -1: must be greater than or equal to 0");
    }

    #[test]
    fn object_meta_of_a_cluster_scoped_type_forbids_a_namespace() {
        let object = json!({"metadata": {"name": "n", "namespace": "default"}});
        let errors = validate_object_meta(&object, NameRule::Dns1123Label, false);
        assert_eq!(errors, vec![FieldError::forbidden("metadata.namespace", "not allowed on this type")]);
        let namespaced = validate_object_meta(&json!({"metadata": {"name": "n"}}), NameRule::Dns1123Label, true);
        assert_eq!(namespaced, vec![FieldError::required("metadata.namespace", "")]);
    }

    #[test]
    fn object_meta_never_panics_on_malformed_metadata() {
        for object in [json!(null), json!([]), json!({"metadata": 5}), json!({"metadata": {"labels": [1], "name": 7}})]
        {
            let errors = validate_object_meta(&object, NameRule::PathSegment, false);
            assert!(errors.iter().any(|e| e.field == "metadata.name"), "{object}");
        }
        let typed = json!({"metadata": {"name": "n", "labels": {"a": 1}}});
        let errors = validate_object_meta(&typed, NameRule::PathSegment, false);
        assert_eq!(errors[0].kind, FieldErrorType::TypeInvalid);
    }
}
