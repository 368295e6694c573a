//! Deployments, ReplicaSets (apps/v1), Jobs and CronJobs (batch/v1): upstream's
//! `pkg/apis/apps/validation` and `pkg/apis/batch/validation` (Kubernetes 1.35) for the fields
//! the controllers use, with upstream's paths and messages. The generic `metadata` checks live in
//! [`super::names`]; the pod template is checked by [`super::pods::validate_template`].
//!
//! # Deployment and ReplicaSet
//!
//! `replicas`, `minReadySeconds`, `revisionHistoryLimit`, `progressDeadlineSeconds` ≥ 0 and
//! `progressDeadlineSeconds` > `minReadySeconds`; `selector` required, well-formed, not empty and
//! matching the template's labels; template `restartPolicy: Always` and no
//! `activeDeadlineSeconds`; strategy `RollingUpdate` (with `maxSurge`/`maxUnavailable` ints ≥ 0
//! or percents, not both zero, `maxUnavailable` ≤ 100%) or `Recreate` (without `rollingUpdate`).
//! On update `spec.selector` is immutable (apps/v1).
//!
//! # Job and CronJob
//!
//! Jobs: the generated selector and template labels (unless `manualSelector`), counts ≥ 0,
//! `completionMode`, `podReplacementPolicy`, template `restartPolicy` `OnFailure`/`Never`,
//! selector required and matching; on update the selector, template, completions (non-indexed),
//! completion mode, pod failure policy, `backoffLimitPerIndex`, `managedBy` and `successPolicy`
//! are immutable. CronJobs: a `schedule` in cron syntax (see [`super::cron`]) without `TZ=`, a
//! plausible `timeZone`, `concurrencyPolicy`, history limits ≥ 0, a job template without selector,
//! names of at most 52 characters on create.

use serde_json::{Map, Value};

use super::cron::parse_standard;
use super::fields::{
    Fields, IMMUTABLE_MESSAGE, IntOrString, NEGATIVE_MESSAGE, check_nonnegative, go_label_selector, go_string_map,
    invalid_go, key, not_supported_go, regex_error,
};
use super::label_selectors::{is_empty_selector, selector_of, selects, validate_label_selector};
use super::names::is_dns1123_label;
use super::pods::{semantic_eq, validate_template};
use crate::selector::go_quote;
use crate::status::FieldError;

/// Largest `parallelism` of an indexed Job.
const INDEXED_JOB_PARALLELISM_MAX: i64 = 100_000;
/// Longest CronJob name: Job names get an 11-character suffix and must stay DNS labels.
const CRONJOB_NAME_LENGTH_MAX: usize = 52;

const LEGACY_CONTROLLER_UID_LABEL: &str = "controller-uid";
const LEGACY_JOB_NAME_LABEL: &str = "job-name";
const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";

// ---------------------------------------------------------------------------------------------
// Deployment and ReplicaSet
// ---------------------------------------------------------------------------------------------

/// Errors of a Deployment's spec on create.
pub fn validate_deployment_create(deployment: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = spec_of(deployment, &mut errors);
    validate_replicated_spec(&spec, "deployment", &mut errors);
    validate_deployment_strategy(&spec.child("strategy", &mut errors), &mut errors);
    let min_ready = spec.int32("minReadySeconds", &mut errors);
    check_nonnegative(min_ready, &spec.at("minReadySeconds"), &mut errors);
    check_nonnegative(spec.int32("revisionHistoryLimit", &mut errors), &spec.at("revisionHistoryLimit"), &mut errors);
    if let Some(deadline) = spec.int32("progressDeadlineSeconds", &mut errors) {
        check_nonnegative(Some(deadline), &spec.at("progressDeadlineSeconds"), &mut errors);
        if deadline <= min_ready.unwrap_or(0) {
            errors.push(FieldError::invalid(
                spec.at("progressDeadlineSeconds"),
                deadline,
                "must be greater than minReadySeconds",
            ));
        }
    }
    errors
}

/// Errors of a Deployment update: the new spec's errors, and a changed selector.
pub fn validate_deployment_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errors = validate_deployment_create(new);
    check_selector_immutable(new, old, &mut errors);
    errors
}

/// Errors of a ReplicaSet's spec on create.
pub fn validate_replica_set_create(replica_set: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = spec_of(replica_set, &mut errors);
    // Upstream's ReplicaSet validation reuses the Deployment wording ("…for deployment").
    validate_replicated_spec(&spec, "deployment", &mut errors);
    check_nonnegative(spec.int32("minReadySeconds", &mut errors), &spec.at("minReadySeconds"), &mut errors);
    errors
}

/// Errors of a ReplicaSet update: the new spec's errors, and a changed selector.
pub fn validate_replica_set_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errors = validate_replica_set_create(new);
    check_selector_immutable(new, old, &mut errors);
    errors
}

/// `spec` of an object (an empty view when missing; a type error when not an object).
fn spec_of<'a>(object: &'a Value, errors: &mut Vec<FieldError>) -> Fields<'a> {
    let root = Fields::of(Some(object), "", errors);
    root.child("spec", errors)
}

/// What Deployments and ReplicaSets share: `replicas`, the selector and the template.
fn validate_replicated_spec(spec: &Fields<'_>, owner: &str, errors: &mut Vec<FieldError>) {
    check_nonnegative(spec.int32("replicas", errors), &spec.at("replicas"), errors);
    let raw_selector = spec.raw("selector");
    let selector_typed = raw_selector.is_none_or(Value::is_object);
    match spec.object("selector", errors) {
        None if !selector_typed => {} // wrongly typed: reported, and nothing to match with
        None => errors.push(FieldError::required(spec.at("selector"), "")),
        Some(selector) => {
            validate_label_selector(&selector, errors);
            if is_empty_selector(&selector) {
                errors.push(invalid_go(
                    spec.at("selector"),
                    &go_label_selector(raw_selector),
                    &format!("empty selector is invalid for {owner}"),
                ));
            }
        }
    }
    let template = spec.child("template", errors);
    if selector_typed {
        match selector_of(raw_selector) {
            None => {
                errors.push(invalid_go(
                    spec.at("selector"),
                    &go_label_selector(raw_selector),
                    "invalid label selector",
                ));
                // Upstream skips the template checks when the selector does not convert.
                return;
            }
            Some(selector) => {
                let labels = template_labels(&template);
                if !selector.is_everything() && !selects(&selector, labels) {
                    errors.push(invalid_go(
                        format!("{}.metadata.labels", template.path()),
                        &go_string_map(labels),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
        }
    }
    validate_template(&template, errors);
    let template_spec = template.child("spec", &mut Vec::new());
    let restart_policy = template_spec.text("restartPolicy", &mut Vec::new());
    if restart_policy != "Always" {
        errors.push(FieldError::not_supported(template_spec.at("restartPolicy"), restart_policy, &["Always"]));
    }
    if template_spec.has("activeDeadlineSeconds") {
        errors.push(FieldError::forbidden(
            template_spec.at("activeDeadlineSeconds"),
            "activeDeadlineSeconds in ReplicaSet is not Supported",
        ));
    }
}

/// The template's labels when they are a map (wrong types were reported by the template check).
fn template_labels<'a>(template: &Fields<'a>) -> Option<&'a Map<String, Value>> {
    template.raw("metadata").and_then(|m| m.get("labels")).and_then(Value::as_object)
}

/// `spec.selector` may not change (apps/v1 Deployments and ReplicaSets, Jobs).
fn check_selector_immutable(new: &Value, old: &Value, errors: &mut Vec<FieldError>) {
    let selector = |object: &Value| object.get("spec").and_then(|s| s.get("selector")).cloned().unwrap_or(Value::Null);
    let (new_selector, old_selector) = (selector(new), selector(old));
    if !semantic_eq(&new_selector, &old_selector) {
        errors.push(match new_selector {
            Value::Null => immutable("spec.selector", Value::Null),
            selector => invalid_go("spec.selector", &go_label_selector(Some(&selector)), IMMUTABLE_MESSAGE),
        });
    }
}

/// `spec.strategy` (`ValidateDeploymentStrategy`).
fn validate_deployment_strategy(strategy: &Fields<'_>, errors: &mut Vec<FieldError>) {
    let kind = strategy.text("type", errors);
    match kind {
        "Recreate" => {
            if strategy.has("rollingUpdate") {
                errors.push(FieldError::forbidden(
                    strategy.at("rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match strategy.object("rollingUpdate", errors) {
            None if !strategy.has("rollingUpdate") => errors
                .push(FieldError::required(strategy.at("rollingUpdate"), "this should be defaulted and never be nil")),
            None => {}
            Some(rolling_update) => validate_rolling_update(&rolling_update, errors),
        },
        other => {
            let rolling_update = if strategy.has("rollingUpdate") {
                "&apps.RollingUpdateDeployment{...}"
            } else {
                "(*apps.RollingUpdateDeployment)(nil)"
            };
            let rendered =
                format!("apps.DeploymentStrategy{{Type:{}, RollingUpdate:{rolling_update}}}", go_quote(other));
            errors.push(not_supported_go(strategy.path(), &rendered, &["Recreate", "RollingUpdate"]));
        }
    }
}

/// `spec.strategy.rollingUpdate` (`ValidateRollingUpdateDeployment`).
fn validate_rolling_update(rolling_update: &Fields<'_>, errors: &mut Vec<FieldError>) {
    // Unset reads as Go's zero IntOrString, the integer 0.
    let max_unavailable = rolling_update.int_or_string("maxUnavailable", errors).unwrap_or(IntOrString::Int(0));
    let max_surge = rolling_update.int_or_string("maxSurge", errors).unwrap_or(IntOrString::Int(0));
    check_int_or_percent(max_unavailable, &rolling_update.at("maxUnavailable"), errors);
    check_int_or_percent(max_surge, &rolling_update.at("maxSurge"), errors);
    if int_or_percent_value(max_unavailable) == 0 && int_or_percent_value(max_surge) == 0 {
        errors.push(invalid_go(
            rolling_update.at("maxUnavailable"),
            &max_unavailable.go(),
            "may not be 0 when `maxSurge` is 0",
        ));
    }
    if percent_value(max_unavailable).is_some_and(|percent| percent > 100) {
        errors.push(invalid_go(
            rolling_update.at("maxUnavailable"),
            &max_unavailable.go(),
            "must not be greater than 100%",
        ));
    }
}

/// `ValidatePositiveIntOrPercent`.
fn check_int_or_percent(value: IntOrString<'_>, path: &str, errors: &mut Vec<FieldError>) {
    match value {
        IntOrString::Str(text) if !is_percent(text) => errors.push(invalid_go(
            path,
            &value.go(),
            &regex_error(
                "a valid percent string must be a numeric string followed by an ending '%'",
                "[0-9]+%",
                &["1%", "93%"],
            ),
        )),
        IntOrString::Str(_) => {}
        IntOrString::Int(number) if number < 0 => errors.push(FieldError::invalid(path, number, NEGATIVE_MESSAGE)),
        IntOrString::Int(_) => {}
    }
}

/// `[0-9]+%`
fn is_percent(text: &str) -> bool {
    text.strip_suffix('%').is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

fn percent_value(value: IntOrString<'_>) -> Option<i64> {
    match value {
        IntOrString::Str(text) if is_percent(text) => Some(text[..text.len() - 1].parse().unwrap_or(0)),
        _ => None,
    }
}

/// Upstream's `getIntOrPercentValue`: the percent, else `IntValue()` (a non-percent string is
/// read with `Atoi`, failures as 0).
fn int_or_percent_value(value: IntOrString<'_>) -> i64 {
    match (percent_value(value), value) {
        (Some(percent), _) => percent,
        (None, IntOrString::Int(number)) => number,
        (None, IntOrString::Str(text)) => text.parse().unwrap_or(0),
    }
}

// ---------------------------------------------------------------------------------------------
// Job
// ---------------------------------------------------------------------------------------------

/// Errors of a Job on create (`ValidateJob` without the generic metadata checks).
pub fn validate_job_create(job: &Value) -> Vec<FieldError> {
    validate_job(job, true)
}

/// Errors of a Job update: the new Job's errors and the immutable parts of its spec.
pub fn validate_job_update(new: &Value, old: &Value) -> Vec<FieldError> {
    // Older Jobs may lack the `batch.kubernetes.io/` labels; only require them if they had them.
    let old_labels = old.pointer("/spec/template/metadata/labels").and_then(Value::as_object);
    let had_prefixed =
        old_labels.is_some_and(|l| l.contains_key(JOB_NAME_LABEL) && l.contains_key(CONTROLLER_UID_LABEL));
    let mut errors = validate_job(new, had_prefixed);

    let empty = Value::Object(Map::new());
    let new_spec = new.get("spec").filter(|s| s.is_object()).unwrap_or(&empty);
    let old_spec = old.get("spec").filter(|s| s.is_object()).unwrap_or(&empty);
    let field = |key: &str, spec: &Value| spec.get(key).cloned().unwrap_or(Value::Null);
    let indexed = new_spec.get("completionMode").and_then(Value::as_str) == Some("Indexed");
    let (completions, old_completions) = (field("completions", new_spec), field("completions", old_spec));
    if !semantic_eq(&completions, &old_completions) {
        if !indexed {
            errors.push(immutable("spec.completions", completions));
        } else if !completions.is_null() && completions != field("parallelism", new_spec) {
            errors.push(FieldError::invalid(
                "spec.completions",
                completions,
                "can only be modified in tandem with spec.parallelism",
            ));
        }
    }
    check_selector_immutable(new, old, &mut errors);
    let (template, old_template) = (field("template", new_spec), field("template", old_spec));
    let suspended = old_spec.get("suspend").and_then(Value::as_bool) == Some(true);
    let started = old.pointer("/status/startTime").is_some_and(|t| !t.is_null());
    let comparable = |template: &Value| {
        let mut template = template.clone();
        // A suspended Job that never started may change its scheduling directives.
        if suspended && !started {
            if let Some(metadata) = template.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.remove("labels");
                metadata.remove("annotations");
            }
            if let Some(spec) = template.get_mut("spec").and_then(Value::as_object_mut) {
                for key in ["nodeSelector", "tolerations", "schedulingGates"] {
                    spec.remove(key);
                }
                if let Some(affinity) = spec.get_mut("affinity").and_then(Value::as_object_mut) {
                    affinity.remove("nodeAffinity");
                }
            }
        }
        template
    };
    if !semantic_eq(&comparable(&template), &comparable(&old_template)) {
        errors.push(immutable("spec.template", template));
    }
    for name in ["completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"] {
        let (value, old_value) = (field(name, new_spec), field(name, old_spec));
        if !semantic_eq(&value, &old_value) {
            errors.push(immutable(&format!("spec.{name}"), value));
        }
    }
    errors
}

fn validate_job(job: &Value, require_prefixed_labels: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let root = Fields::of(Some(job), "", &mut errors);
    let metadata = root.child("metadata", &mut Vec::new());
    let name = metadata.text("name", &mut Vec::new());
    let uid = metadata.text("uid", &mut Vec::new());
    let spec = root.child("spec", &mut errors);
    let manual = spec.boolean("manualSelector", &mut errors) == Some(true);
    let raw_selector = spec.raw("selector");

    // validateGeneratedSelector
    if !manual && raw_selector.is_some() {
        if uid.is_empty() {
            errors.push(FieldError::required("metadata.uid", ""));
        }
        let labels = job.pointer("/spec/template/metadata/labels").and_then(Value::as_object);
        let mut expected = Map::new();
        let mut required = vec![(LEGACY_CONTROLLER_UID_LABEL, uid), (LEGACY_JOB_NAME_LABEL, name)];
        if require_prefixed_labels {
            required.extend([(CONTROLLER_UID_LABEL, uid), (JOB_NAME_LABEL, name)]);
            expected.insert(CONTROLLER_UID_LABEL.into(), uid.into());
            expected.insert(JOB_NAME_LABEL.into(), name.into());
        }
        for (label, value) in required {
            check_has_label(labels, label, value, &mut errors);
        }
        expected.insert(LEGACY_CONTROLLER_UID_LABEL.into(), uid.into());
        expected.insert(LEGACY_JOB_NAME_LABEL.into(), name.into());
        if let Some(selector) = selector_of(raw_selector)
            && !selects(&selector, Some(&expected))
        {
            errors.push(invalid_go("spec.selector", &go_label_selector(raw_selector), "`selector` not auto-generated"));
        }
    }

    // ValidateJobSpec
    validate_job_spec(&spec, &mut errors);
    match spec.object("selector", &mut errors) {
        None if raw_selector.is_none() => errors.push(FieldError::required(spec.at("selector"), "")),
        None => {}
        Some(selector) => validate_label_selector(&selector, &mut errors),
    }
    if raw_selector.is_none_or(Value::is_object)
        && let Some(selector) = selector_of(raw_selector)
    {
        let labels = job.pointer("/spec/template/metadata/labels").and_then(Value::as_object);
        if !selects(&selector, labels) {
            errors.push(invalid_go(
                "spec.template.metadata.labels",
                &go_string_map(labels),
                "`selector` does not match template `labels`",
            ));
        }
    }

    let indexed = spec.raw("completionMode").and_then(Value::as_str) == Some("Indexed");
    if let Some(completions) = spec.raw("completions").and_then(Value::as_i64).filter(|c| indexed && *c > 0) {
        let hostname = format!("{name}-{}", completions - 1);
        if !is_dns1123_label(&hostname).is_empty() {
            errors.push(FieldError::invalid(
                "metadata.name",
                name,
                format!("will not able to create pod with invalid DNS label: {hostname}"),
            ));
        }
    }
    errors
}

/// Upstream's `ValidateHasLabel` on `spec.template.metadata`.
fn check_has_label(labels: Option<&Map<String, Value>>, label: &str, expected: &str, errors: &mut Vec<FieldError>) {
    let path = key("spec.template.metadata.labels", label);
    match labels.and_then(|l| l.get(label)) {
        None => errors.push(FieldError::required(path, expected)),
        Some(actual) if actual.as_str() == Some(expected) => {}
        Some(_) => errors.push(invalid_go(path, &go_string_map(labels), &format!("must be '{expected}'"))),
    }
}

/// The part of a Job spec that Jobs and CronJob job templates share (`validateJobSpec`).
fn validate_job_spec(spec: &Fields<'_>, errors: &mut Vec<FieldError>) {
    let parallelism = spec.int32("parallelism", errors);
    let completions = spec.int32("completions", errors);
    check_nonnegative(parallelism, &spec.at("parallelism"), errors);
    check_nonnegative(completions, &spec.at("completions"), errors);
    check_nonnegative(spec.int64("activeDeadlineSeconds", errors), &spec.at("activeDeadlineSeconds"), errors);
    check_nonnegative(spec.int32("backoffLimit", errors), &spec.at("backoffLimit"), errors);
    check_nonnegative(spec.int32("ttlSecondsAfterFinished", errors), &spec.at("ttlSecondsAfterFinished"), errors);
    let per_index = spec.int32("backoffLimitPerIndex", errors);
    check_nonnegative(per_index, &spec.at("backoffLimitPerIndex"), errors);
    let max_failed = spec.int32("maxFailedIndexes", errors);
    if let Some(max_failed) = max_failed {
        check_nonnegative(Some(max_failed), &spec.at("maxFailedIndexes"), errors);
        if per_index.is_none() {
            errors.push(FieldError::required(spec.at("backoffLimitPerIndex"), "when maxFailedIndexes is specified"));
        }
    }
    spec.boolean("suspend", errors);
    let mode = spec.str("completionMode", errors);
    match mode {
        None | Some("NonIndexed") => {
            if let Some(per_index) = per_index {
                errors.push(FieldError::invalid(
                    spec.at("backoffLimitPerIndex"),
                    per_index,
                    "requires indexed completion mode",
                ));
            }
            if let Some(max_failed) = max_failed {
                errors.push(FieldError::invalid(
                    spec.at("maxFailedIndexes"),
                    max_failed,
                    "requires indexed completion mode",
                ));
            }
        }
        Some("Indexed") => {
            if completions.is_none() {
                errors.push(FieldError::required(spec.at("completions"), "when completion mode is Indexed"));
            }
            if let Some(parallelism) = parallelism.filter(|p| *p > INDEXED_JOB_PARALLELISM_MAX) {
                errors.push(FieldError::invalid(
                    spec.at("parallelism"),
                    parallelism,
                    format!(
                        "must be less than or equal to {INDEXED_JOB_PARALLELISM_MAX} when completion mode is Indexed"
                    ),
                ));
            }
            if let (Some(completions), Some(max_failed)) = (completions, max_failed)
                && max_failed > completions
            {
                errors.push(FieldError::invalid(
                    spec.at("maxFailedIndexes"),
                    max_failed,
                    "must be less than or equal to completions",
                ));
            }
        }
        Some(other) => {
            errors.push(FieldError::not_supported(spec.at("completionMode"), other, &["NonIndexed", "Indexed"]))
        }
    }
    let has_failure_policy = spec.object("podFailurePolicy", errors).is_some();
    if let Some(policy) = spec.str("podReplacementPolicy", errors) {
        if has_failure_policy {
            if policy != "Failed" {
                errors.push(FieldError::not_supported(spec.at("podReplacementPolicy"), policy, &["Failed"]));
            }
        } else if policy != "Failed" && policy != "TerminatingOrFailed" {
            errors.push(FieldError::not_supported(
                spec.at("podReplacementPolicy"),
                policy,
                &["Failed", "TerminatingOrFailed"],
            ));
        }
    }

    let template = spec.child("template", errors);
    validate_template(&template, errors);
    let template_spec = template.child("spec", &mut Vec::new());
    let restart_policy = template_spec.text("restartPolicy", &mut Vec::new());
    let path = template_spec.at("restartPolicy");
    match restart_policy {
        "Always" | "" => errors.push(FieldError::required(path, "valid values: \"OnFailure\", \"Never\"")),
        "OnFailure" | "Never" => {
            if has_failure_policy && restart_policy != "Never" {
                errors.push(FieldError::invalid(
                    path,
                    restart_policy,
                    "only \"Never\" is supported when podFailurePolicy is specified",
                ));
            }
        }
        other => errors.push(FieldError::not_supported(path, other, &["OnFailure", "Never"])),
    }
}

// ---------------------------------------------------------------------------------------------
// CronJob
// ---------------------------------------------------------------------------------------------

/// Errors of a CronJob on create.
pub fn validate_cron_job_create(cron_job: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = spec_of(cron_job, &mut errors);
    validate_cron_job_spec(&spec, None, &mut errors);
    let name = cron_job.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    if name.len() > CRONJOB_NAME_LENGTH_MAX {
        errors.push(FieldError::invalid(
            "metadata.name",
            name,
            format!("must be no more than {CRONJOB_NAME_LENGTH_MAX} characters"),
        ));
    }
    errors
}

/// Errors of a CronJob update (older names longer than 52 characters stay updatable).
pub fn validate_cron_job_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let spec = spec_of(new, &mut errors);
    let old_spec = old.get("spec").and_then(Value::as_object);
    validate_cron_job_spec(&spec, Some(old_spec), &mut errors);
    errors
}

/// `validateCronJobSpec`; `old` is `Some` on update (holding the old spec when it had one).
fn validate_cron_job_spec(spec: &Fields<'_>, old: Option<Option<&Map<String, Value>>>, errors: &mut Vec<FieldError>) {
    let schedule = spec.text("schedule", errors);
    let time_zone = spec.str("timeZone", errors);
    let old_text = |key: &str| old.flatten().and_then(|s| s.get(key)).and_then(Value::as_str);
    if schedule.is_empty() {
        errors.push(FieldError::required(spec.at("schedule"), ""));
    } else {
        if let Err(why) = parse_standard(schedule) {
            errors.push(FieldError::invalid(spec.at("schedule"), schedule, why));
        }
        let tz_allowed = old_text("schedule").is_some_and(|s| s.contains("TZ"));
        if tz_allowed && schedule.contains("TZ") && time_zone.is_some() {
            errors.push(FieldError::invalid(
                spec.at("schedule"),
                schedule,
                "cannot use both timeZone field and TZ or CRON_TZ in schedule",
            ));
        } else if !tz_allowed && schedule.contains("TZ") {
            errors.push(FieldError::invalid(
                spec.at("schedule"),
                schedule,
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ));
        }
    }
    check_nonnegative(spec.int64("startingDeadlineSeconds", errors), &spec.at("startingDeadlineSeconds"), errors);
    if (old.is_none() || old_text("timeZone") != time_zone)
        && let Some(time_zone) = time_zone
    {
        check_time_zone(time_zone, &spec.at("timeZone"), errors);
    }
    match spec.text("concurrencyPolicy", errors) {
        "Allow" | "Forbid" | "Replace" => {}
        "" => errors.push(FieldError::required(spec.at("concurrencyPolicy"), "")),
        other => {
            errors.push(FieldError::not_supported(spec.at("concurrencyPolicy"), other, &["Allow", "Forbid", "Replace"]))
        }
    }
    spec.boolean("suspend", errors);

    // ValidateJobTemplateSpec
    let job_spec = spec.child("jobTemplate", errors).child("spec", errors);
    validate_job_spec(&job_spec, errors);
    if job_spec.has("selector") {
        errors.push(invalid_go(
            job_spec.at("selector"),
            &go_label_selector(job_spec.raw("selector")),
            "`selector` will be auto-generated",
        ));
    }
    if job_spec.raw("manualSelector") == Some(&Value::Bool(true)) {
        errors.push(FieldError::not_supported(job_spec.at("manualSelector"), true, &["nil", "false"]));
    }

    for limit in ["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
        check_nonnegative(spec.int32(limit, errors), &spec.at(limit), errors);
    }
}

/// `field is immutable`, printing a removed value as upstream prints a nil pointer: `"null"`.
fn immutable(field: &str, value: Value) -> FieldError {
    let value = if value.is_null() { Value::from("null") } else { value };
    FieldError::invalid(field, value, IMMUTABLE_MESSAGE)
}

/// `validateTimeZone`. Upstream then loads the zone; Bosun checks the host's zone database when
/// there is one (`/usr/share/zoneinfo`), and otherwise accepts any well-formed name.
fn check_time_zone(time_zone: &str, path: &str, errors: &mut Vec<FieldError>) {
    if time_zone.is_empty() {
        errors.push(FieldError::invalid(path, time_zone, "timeZone must be nil or non-empty string"));
        return;
    }
    let part_ok = |part: &str| {
        part != "."
            && part != ".."
            && !part.starts_with('-')
            && (1..=14).contains(&part.len())
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'))
    };
    if !time_zone.split('/').all(part_ok) {
        errors.push(FieldError::invalid(path, time_zone, format!("unknown time zone {time_zone}")));
        return;
    }
    if time_zone.eq_ignore_ascii_case("Local") {
        errors.push(FieldError::invalid(
            path,
            time_zone,
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        ));
        return;
    }
    let database = std::path::Path::new("/usr/share/zoneinfo");
    if time_zone != "UTC" && database.is_dir() && !database.join(time_zone).is_file() {
        errors.push(FieldError::invalid(path, time_zone, format!("unknown time zone {time_zone}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::FieldErrorType;
    use serde_json::json;

    fn template(labels: Value, restart_policy: &str) -> Value {
        json!({
            "metadata": {"labels": labels},
            "spec": {
                "containers": [{"name": "nodejs", "image": "luksa/kubia:v1", "imagePullPolicy": "IfNotPresent", "terminationMessagePolicy": "File"}],
                "restartPolicy": restart_policy,
                "dnsPolicy": "ClusterFirst",
            },
        })
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "kubia", "namespace": "default"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "kubia"}},
                "template": template(json!({"app": "kubia"}), "Always"),
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
            },
        })
    }

    fn messages(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn deployment_as_defaulted_is_valid() {
        assert_eq!(validate_deployment_create(&deployment()), vec![]);
    }

    #[test]
    fn deployment_selector_must_match_template_labels() {
        let mut d = deployment();
        d["spec"]["selector"]["matchLabels"]["app"] = json!("other");
        assert_eq!(
            messages(&validate_deployment_create(&d)),
            [
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"kubia\"}: `selector` does not match template `labels`"
            ]
        );
    }

    #[test]
    fn deployment_selector_is_required() {
        let mut d = deployment();
        d["spec"].as_object_mut().expect("object").remove("selector");
        assert_eq!(
            messages(&validate_deployment_create(&d)),
            [
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"kubia\"}: `selector` does not match template `labels`",
            ]
        );
    }

    #[test]
    fn deployment_selector_may_not_be_empty() {
        let mut d = deployment();
        d["spec"]["selector"] = json!({});
        assert_eq!(
            messages(&validate_deployment_create(&d)),
            [
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"
            ]
        );
    }

    #[test]
    fn deployment_counts_must_not_be_negative() {
        let mut d = deployment();
        d["spec"]["replicas"] = json!(-1);
        d["spec"]["minReadySeconds"] = json!(-2);
        d["spec"]["revisionHistoryLimit"] = json!(-3);
        assert_eq!(
            messages(&validate_deployment_create(&d)),
            [
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.minReadySeconds: Invalid value: -2: must be greater than or equal to 0",
                "spec.revisionHistoryLimit: Invalid value: -3: must be greater than or equal to 0",
            ]
        );
    }

    #[test]
    fn deployment_progress_deadline_must_exceed_min_ready_seconds() {
        let mut d = deployment();
        d["spec"]["minReadySeconds"] = json!(600);
        assert_eq!(
            messages(&validate_deployment_create(&d)),
            ["spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds"]
        );
    }

    #[test]
    fn deployment_strategy_type_must_be_rolling_update_or_recreate() {
        let mut d = deployment();
        d["spec"]["strategy"] = json!({"type": "BlueGreen"});
        assert_eq!(
            messages(&validate_deployment_create(&d)),
            [
                "spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:\"BlueGreen\", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: \"Recreate\", \"RollingUpdate\""
            ]
        );
    }

    #[test]
    fn deployment_recreate_strategy_forbids_rolling_update() {
        let mut d = deployment();
        d["spec"]["strategy"]["type"] = json!("Recreate");
        assert_eq!(
            messages(&validate_deployment_create(&d)),
            ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]
        );
    }

    #[test]
    fn deployment_max_surge_and_max_unavailable_may_not_both_be_zero() {
        let mut d = deployment();
        d["spec"]["strategy"]["rollingUpdate"] = json!({"maxSurge": 0, "maxUnavailable": "0%"});
        assert_eq!(
            messages(&validate_deployment_create(&d)),
            [
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"0%\"}: may not be 0 when `maxSurge` is 0"
            ]
        );
    }

    #[test]
    fn deployment_max_unavailable_is_an_int_or_a_percent_up_to_100() {
        let mut d = deployment();
        d["spec"]["strategy"]["rollingUpdate"] = json!({"maxSurge": -1, "maxUnavailable": "120%"});
        assert_eq!(
            messages(&validate_deployment_create(&d)),
            [
                "spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0",
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"120%\"}: must not be greater than 100%",
            ]
        );
        d["spec"]["strategy"]["rollingUpdate"] = json!({"maxSurge": "1", "maxUnavailable": 1});
        assert_eq!(
            messages(&validate_deployment_create(&d)),
            [
                "spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"1\"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
            ]
        );
    }

    #[test]
    fn deployment_template_restart_policy_must_be_always() {
        let mut d = deployment();
        d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
        assert_eq!(
            messages(&validate_deployment_create(&d)),
            ["spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""]
        );
    }

    #[test]
    fn deployment_template_errors_carry_indices() {
        let mut d = deployment();
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("");
        assert_eq!(
            messages(&validate_deployment_create(&d)),
            ["spec.template.spec.containers[0].image: Required value"]
        );
    }

    #[test]
    fn deployment_selector_is_immutable() {
        let old = deployment();
        let mut new = deployment();
        new["spec"]["selector"]["matchLabels"]["tier"] = json!("web");
        new["spec"]["template"]["metadata"]["labels"]["tier"] = json!("web");
        assert_eq!(
            messages(&validate_deployment_update(&new, &old)),
            [
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"kubia\", \"tier\":\"web\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
            ]
        );
        let mut scaled = deployment();
        scaled["spec"]["replicas"] = json!(5);
        assert_eq!(validate_deployment_update(&scaled, &old), vec![]);
    }

    #[test]
    fn replica_set_validates_like_a_deployment_without_strategy() {
        let mut rs = deployment();
        rs["kind"] = json!("ReplicaSet");
        rs["spec"]
            .as_object_mut()
            .expect("object")
            .retain(|k, _| matches!(k.as_str(), "replicas" | "selector" | "template"));
        assert_eq!(validate_replica_set_create(&rs), vec![]);
        rs["spec"]["template"]["spec"]["activeDeadlineSeconds"] = json!(5);
        assert_eq!(
            messages(&validate_replica_set_create(&rs)),
            [
                "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported"
            ]
        );
    }

    #[test]
    fn deployment_of_wrong_types_reports_type_errors() {
        for patch in [
            json!({"replicas": "3"}),
            json!({"selector": "app=kubia"}),
            json!({"strategy": {"type": 5}}),
            json!({"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": true}}}),
            json!({"template": []}),
            json!({"template": {"metadata": {"labels": "x"}}}),
        ] {
            let mut d = deployment();
            for (k, v) in patch.as_object().expect("object") {
                d["spec"][k] = v.clone();
            }
            let errors = validate_deployment_create(&d);
            assert!(errors.iter().any(|e| e.kind == FieldErrorType::TypeInvalid), "{patch}: {errors:?}");
        }
        assert!(!validate_deployment_create(&json!({"spec": 1})).is_empty());
        assert!(!validate_deployment_update(&json!([]), &json!(null)).is_empty());
    }

    fn job() -> Value {
        let labels = json!({
            "batch.kubernetes.io/controller-uid": "u-1",
            "batch.kubernetes.io/job-name": "pi",
            "controller-uid": "u-1",
            "job-name": "pi",
        });
        json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "pi", "namespace": "default", "uid": "u-1"},
            "spec": {
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}},
                "template": template(labels, "Never"),
                "parallelism": 1,
                "completions": 1,
                "backoffLimit": 6,
                "completionMode": "NonIndexed",
                "suspend": false,
                "manualSelector": false,
                "podReplacementPolicy": "TerminatingOrFailed",
            },
        })
    }

    #[test]
    fn job_as_generated_is_valid() {
        assert_eq!(validate_job_create(&job()), vec![]);
    }

    #[test]
    fn job_template_restart_policy_must_be_on_failure_or_never() {
        let mut j = job();
        j["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
        assert_eq!(
            messages(&validate_job_create(&j)),
            ["spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""]
        );
    }

    #[test]
    fn job_counts_must_not_be_negative() {
        let mut j = job();
        j["spec"]["parallelism"] = json!(-1);
        j["spec"]["completions"] = json!(-1);
        j["spec"]["backoffLimit"] = json!(-1);
        let fields: Vec<_> = validate_job_create(&j).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["spec.parallelism", "spec.completions", "spec.backoffLimit"]);
    }

    #[test]
    fn job_selector_is_required() {
        let mut j = job();
        j["spec"].as_object_mut().expect("object").remove("selector");
        assert_eq!(
            messages(&validate_job_create(&j)),
            [
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: map[string]string{\"batch.kubernetes.io/controller-uid\":\"u-1\", \"batch.kubernetes.io/job-name\":\"pi\", \"controller-uid\":\"u-1\", \"job-name\":\"pi\"}: `selector` does not match template `labels`",
            ]
        );
    }

    #[test]
    fn job_generated_labels_must_be_present() {
        let mut j = job();
        j["spec"]["template"]["metadata"]["labels"].as_object_mut().expect("object").remove("job-name");
        assert_eq!(messages(&validate_job_create(&j)), ["spec.template.metadata.labels[job-name]: Required value: pi"]);
    }

    #[test]
    fn job_selector_and_template_are_immutable() {
        let old = job();
        let mut new = job();
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("perl:5");
        let errors = validate_job_update(&new, &old);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "spec.template");
        assert_eq!(errors[0].detail, "field is immutable");
        let mut new = job();
        new["spec"]["completions"] = json!(3);
        assert_eq!(
            messages(&validate_job_update(&new, &old)),
            ["spec.completions: Invalid value: 3: field is immutable"]
        );
        let mut new = job();
        new["spec"]["parallelism"] = json!(4);
        new["spec"]["suspend"] = json!(true);
        assert_eq!(validate_job_update(&new, &old), vec![]);
    }

    fn cron_job(schedule: &str) -> Value {
        json!({
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "hello", "namespace": "default"},
            "spec": {
                "schedule": schedule,
                "concurrencyPolicy": "Allow",
                "suspend": false,
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 1,
                "jobTemplate": {"spec": {"template": template(json!({"app": "hello"}), "OnFailure")}},
            },
        })
    }

    #[test]
    fn cron_job_with_a_valid_schedule_is_valid() {
        assert_eq!(validate_cron_job_create(&cron_job("*/5 * * * *")), vec![]);
        assert_eq!(validate_cron_job_create(&cron_job("@daily")), vec![]);
    }

    #[test]
    fn cron_job_schedule_is_required_and_must_parse() {
        assert_eq!(messages(&validate_cron_job_create(&cron_job(""))), ["spec.schedule: Required value"]);
        assert_eq!(
            messages(&validate_cron_job_create(&cron_job("61 * * * *"))),
            ["spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"]
        );
        assert_eq!(
            messages(&validate_cron_job_create(&cron_job("TZ=UTC 0 * * * *"))),
            [
                "spec.schedule: Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
            ]
        );
    }

    #[test]
    fn cron_job_template_restart_policy_must_be_on_failure_or_never() {
        let mut c = cron_job("@hourly");
        c["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = json!("Sometimes");
        assert_eq!(
            messages(&validate_cron_job_create(&c)),
            [
                "spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
                "spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"OnFailure\", \"Never\"",
            ]
        );
    }

    #[test]
    fn cron_job_concurrency_policy_and_time_zone_are_checked() {
        let mut c = cron_job("@hourly");
        c["spec"]["concurrencyPolicy"] = json!("Sometimes");
        c["spec"]["timeZone"] = json!("Local");
        assert_eq!(
            messages(&validate_cron_job_create(&c)),
            [
                "spec.timeZone: Invalid value: \"Local\": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
                "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"",
            ]
        );
    }

    #[test]
    fn cron_job_name_is_at_most_52_characters_on_create_only() {
        let mut c = cron_job("@hourly");
        c["metadata"]["name"] = json!("a".repeat(53));
        assert_eq!(validate_cron_job_create(&c).len(), 1);
        assert_eq!(validate_cron_job_update(&c, &c), vec![]);
    }

    #[test]
    fn job_and_cron_job_of_wrong_types_report_type_errors() {
        for (kind, value) in [
            ("job", json!({"spec": {"parallelism": "1", "selector": 3, "template": "x"}})),
            ("job", json!({"metadata": 1, "spec": {"completionMode": 1, "manualSelector": "no"}})),
            ("cron", json!({"spec": {"schedule": 5, "jobTemplate": []}})),
            (
                "cron",
                json!({"spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": {"containers": {}}}}}}}),
            ),
        ] {
            let errors = if kind == "job" { validate_job_create(&value) } else { validate_cron_job_create(&value) };
            assert!(errors.iter().any(|e| e.kind == FieldErrorType::TypeInvalid), "{value}: {errors:?}");
        }
    }
}
