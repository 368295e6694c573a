//! `metav1.LabelSelector` objects in specs (`spec.selector` of Deployments, ReplicaSets and
//! Jobs): upstream's `ValidateLabelSelector` field errors, and whether a selector selects a pod
//! template's labels.
//!
//! Matching itself is [`crate::selector::LabelSelector::from_json`] (upstream's
//! `LabelSelectorAsSelector`): a missing selector matches nothing, an empty one everything.

use serde_json::{Map, Value};

use super::fields::{Fields, each_object, index, value_text};
use super::names::{is_label_value, is_qualified_name, validate_labels};
use crate::selector::LabelSelector;
use crate::status::FieldError;

/// Upstream's `ValidateLabelSelector` (strict label values): `matchLabels` as labels, each of
/// `matchExpressions` with a known operator, values required for `In`/`NotIn` and forbidden for
/// `Exists`/`DoesNotExist`, a qualified-name key and label-value values.
pub fn validate_label_selector(selector: &Fields<'_>, errors: &mut Vec<FieldError>) {
    if let Some(labels) = selector.map("matchLabels", errors) {
        errors.extend(validate_labels(labels, &selector.at("matchLabels")));
    }
    let Some(expressions) = selector.array("matchExpressions", errors) else { return };
    each_object(expressions, &selector.at("matchExpressions"), errors, |_, expression, errors| {
        let values = expression.array("values", errors).unwrap_or_default();
        match expression.text("operator", errors) {
            "In" | "NotIn" => {
                if values.is_empty() {
                    errors.push(FieldError::required(
                        expression.at("values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    errors.push(FieldError::forbidden(
                        expression.at("values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            other => {
                errors.push(FieldError::invalid(expression.at("operator"), other, "not a valid selector operator"))
            }
        }
        let key = expression.text("key", errors);
        errors.extend(is_qualified_name(key).into_iter().map(|m| FieldError::invalid(expression.at("key"), key, m)));
        let values_path = expression.at("values");
        for (i, value) in values.iter().enumerate() {
            let text = value_text(value);
            errors.extend(
                is_label_value(&text).into_iter().map(|m| FieldError::invalid(index(&values_path, i), &*text, m)),
            );
        }
    });
}

/// Whether `selector` (a `metav1.LabelSelector`, possibly missing) converts to a selector
/// without error: upstream's `LabelSelectorAsSelector(...) == nil`.
pub fn selector_of(selector: Option<&Value>) -> Option<LabelSelector> {
    LabelSelector::from_json(selector).ok()
}

/// Whether `selector` selects an object labelled `labels` (missing labels are the empty set).
pub fn selects(selector: &LabelSelector, labels: Option<&Map<String, Value>>) -> bool {
    let empty = Map::new();
    selector.matches(labels.unwrap_or(&empty))
}

/// Whether a `metav1.LabelSelector` has neither `matchLabels` nor `matchExpressions` entries.
pub fn is_empty_selector(selector: &Fields<'_>) -> bool {
    let count = |key: &str| match selector.raw(key) {
        Some(Value::Object(map)) => map.len(),
        Some(Value::Array(list)) => list.len(),
        _ => 0,
    };
    count("matchLabels") + count("matchExpressions") == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors_of(selector: Value) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let fields = Fields::of(Some(&selector), "spec.selector", &mut errors);
        validate_label_selector(&fields, &mut errors);
        errors
    }

    #[test]
    fn selector_expressions_need_values_for_in_and_none_for_exists() {
        let errors = errors_of(json!({"matchExpressions": [
            {"key": "a", "operator": "In"},
            {"key": "b", "operator": "Exists", "values": ["x"]},
            {"key": "c", "operator": "Near", "values": ["x"]},
        ]}));
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.message())).collect();
        assert_eq!(
            fields,
            [
                (
                    "spec.selector.matchExpressions[0].values",
                    "Required value: must be specified when `operator` is 'In' or 'NotIn'".to_string()
                ),
                (
                    "spec.selector.matchExpressions[1].values",
                    "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'".to_string()
                ),
                (
                    "spec.selector.matchExpressions[2].operator",
                    "Invalid value: \"Near\": not a valid selector operator".to_string()
                ),
            ]
        );
    }

    #[test]
    fn selector_match_labels_are_checked_like_labels() {
        let errors = errors_of(json!({"matchLabels": {"app": "bad value"}}));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "spec.selector.matchLabels");
    }

    #[test]
    fn selector_of_wrong_shape_is_reported_not_panicked() {
        let errors = errors_of(json!({"matchLabels": ["x"], "matchExpressions": {"a": 1}}));
        assert_eq!(errors.len(), 2);
        assert!(selector_of(Some(&json!({"matchLabels": ["x"]}))).is_none());
    }
}
