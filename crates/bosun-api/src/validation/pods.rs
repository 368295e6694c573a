//! Pods, and the pod templates inside workloads: upstream's `ValidatePodSpec`,
//! `ValidatePodTemplateSpec`, `ValidatePodCreate` and `ValidatePodUpdate` (Kubernetes 1.35,
//! `pkg/apis/core/validation`), with upstream's field paths and messages, for the fields Bosun's
//! controllers and kubectl use.
//!
//! # What is checked
//!
//! * Pod spec: `containers` required; `volumes` (name, one source, the required reference of
//!   `configMap`/`secret`/`persistentVolumeClaim`); `restartPolicy`, `dnsPolicy` (+ `dnsConfig`
//!   for `None`), `nodeSelector` labels, `serviceAccountName`, `nodeName`, `priorityClassName`,
//!   `activeDeadlineSeconds` range, `hostname`/`subdomain`, `tolerations`, `preemptionPolicy`.
//! * Every container (regular and init): name (RFC 1123 label, unique across both lists), image,
//!   `terminationMessagePolicy`, ports (numbers, names, protocol), env names and `valueFrom`,
//!   volume mounts, `imagePullPolicy`, probes (one handler, non-negative numbers, liveness and
//!   startup `successThreshold` 1, no `terminationGracePeriodSeconds` on readiness) and lifecycle
//!   handlers; init containers may carry probes only as sidecars (`restartPolicy: Always`).
//! * Templates: labels and annotations (at `<template>.labels`, upstream's path), the spec, no
//!   ephemeral containers.
//! * Pod create: images without surrounding whitespace, no ephemeral containers.
//! * Pod update: the spec may change only in container images, `activeDeadlineSeconds`
//!   (set, or lowered), added tolerations and `terminationGracePeriodSeconds` (negative → 1);
//!   anything else is one `Forbidden` on `spec` with upstream's message and a field diff.
//!
//! # Left out
//!
//! Resource quantities (requests ≤ limits, formats), security contexts, affinity, topology
//! spread, volume sources' inner fields, and `volumeMounts[*].name` naming an existing volume
//! (upstream reports that as `NotFound`, a reason `FieldErrorType` does not have).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::fields::{
    Fields, INCLUSIVE_PORT_RANGE, IntOrString, NEGATIVE_MESSAGE, check_nonnegative, each_object, port_name_errors,
    port_number_errors, regex_error,
};
use super::names::validate_labels;
use super::names::{is_dns1123_label, is_dns1123_subdomain, is_label_value, is_qualified_name, validate_annotations};
use crate::status::FieldError;

/// The pod-spec fields an update may change, as upstream lists them in its message.
const UPDATABLE_POD_SPEC_FIELDS: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// The volume sources a volume may name, in upstream's order (one list, shared with defaulting).
use crate::defaults::VOLUME_SOURCES;

/// Which list a container sits in: the rules differ slightly.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ContainerList {
    Regular,
    Init,
}

/// Errors of a Pod on create (`ValidatePodCreate` without the metadata part, which the generic
/// metadata validation does).
pub fn validate_create(pod: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let root = Fields::of(Some(pod), "", &mut errors);
    let spec = root.child("spec", &mut errors);
    validate_pod_spec(&spec, &mut errors);
    for list in ["containers", "initContainers"] {
        // Type errors of these lists were reported by `validate_pod_spec`: read them quietly.
        let mut whitespace = Vec::new();
        if let Some(containers) = spec.array(list, &mut Vec::new()) {
            each_object(containers, &spec.at(list), &mut Vec::new(), |_, container, _| {
                check_image_whitespace(&container, &mut whitespace);
            });
        }
        errors.extend(whitespace);
    }
    if spec.array("ephemeralContainers", &mut Vec::new()).is_some_and(|list| !list.is_empty()) {
        errors.push(FieldError::forbidden(spec.at("ephemeralContainers"), "cannot be set on create"));
    }
    errors
}

/// Errors of a Pod update from `old` to `new` (`ValidatePodUpdate` without the metadata part):
/// the new spec must be valid, and may differ from the old one only where upstream allows.
pub fn validate_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let root = Fields::of(Some(new), "", &mut errors);
    let spec = root.child("spec", &mut errors);
    validate_pod_spec(&spec, &mut errors);

    let empty = Value::Object(Map::new());
    let new_spec = new.get("spec").filter(|s| s.is_object()).unwrap_or(&empty);
    let old_spec = old.get("spec").filter(|s| s.is_object()).unwrap_or(&empty);
    for list in ["containers", "initContainers"] {
        let new_list = list_of(new_spec, list);
        let old_list = list_of(old_spec, list);
        if new_list.len() != old_list.len() {
            errors.push(FieldError::forbidden(format!("spec.{list}"), "pod updates may not add or remove containers"));
            return errors;
        }
        for (i, container) in new_list.iter().enumerate() {
            let mut scratch = Vec::new();
            let fields = Fields::of(Some(container), format!("spec.{list}[{i}]"), &mut scratch);
            check_image_whitespace(&fields, &mut errors);
        }
    }

    // activeDeadlineSeconds may be set, or lowered, but not raised or removed.
    let deadline = |spec: &Value| spec.get("activeDeadlineSeconds").and_then(Value::as_i64);
    match (deadline(new_spec), deadline(old_spec)) {
        (Some(new_deadline), _) if !(0..=i64::from(i32::MAX)).contains(&new_deadline) => {
            errors.push(FieldError::invalid(
                "spec.activeDeadlineSeconds",
                new_deadline,
                format!("must be between 0 and {}, inclusive", i32::MAX),
            ));
            return errors;
        }
        (Some(new_deadline), Some(old_deadline)) if old_deadline < new_deadline => {
            errors.push(FieldError::invalid(
                "spec.activeDeadlineSeconds",
                new_deadline,
                "must be less than or equal to previous value",
            ));
            return errors;
        }
        // Upstream prints the nil pointer as "null".
        (None, Some(_)) => errors.push(FieldError::invalid(
            "spec.activeDeadlineSeconds",
            "null",
            "must not update from a positive integer to nil value",
        )),
        _ => {}
    }

    // Tolerations: every old one must still be there (its tolerationSeconds may change).
    let new_tolerations = list_of(new_spec, "tolerations");
    for old_toleration in list_of(old_spec, "tolerations") {
        let kept = new_tolerations.iter().any(|t| same_except(old_toleration, t, "tolerationSeconds"));
        if !kept {
            errors.push(FieldError::forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds",
            ));
            break;
        }
    }

    if semantic_eq(new_spec, old_spec) {
        return errors;
    }
    let mut munged = new_spec.clone();
    for list in ["containers", "initContainers"] {
        let old_list = list_of(old_spec, list);
        if let Some(items) = munged.get_mut(list).and_then(Value::as_array_mut) {
            for (item, old_item) in items.iter_mut().zip(old_list) {
                if let Some(item) = item.as_object_mut() {
                    match old_item.get("image") {
                        Some(image) => item.insert("image".into(), image.clone()),
                        None => item.remove("image"),
                    };
                }
            }
        }
    }
    for carried in ["activeDeadlineSeconds", "tolerations", "schedulingGates"] {
        if let Some(munged) = munged.as_object_mut() {
            match old_spec.get(carried) {
                Some(value) => munged.insert(carried.into(), value.clone()),
                None => munged.remove(carried),
            };
        }
    }
    let grace = |spec: &Value| spec.get("terminationGracePeriodSeconds").and_then(Value::as_i64);
    if grace(old_spec).is_some_and(|g| g < 0) && grace(&munged) == Some(1) {
        munged["terminationGracePeriodSeconds"] = old_spec["terminationGracePeriodSeconds"].clone();
    }
    if !semantic_eq(&munged, old_spec) {
        errors.push(FieldError::forbidden(
            "spec",
            format!(
                "pod updates may not change fields other than {UPDATABLE_POD_SPEC_FIELDS}\n{}",
                spec_diff(old_spec, &munged)
            ),
        ));
    }
    errors
}

/// Upstream's `ValidatePodTemplateSpec` for the template at `template.path()`
/// (e.g. `spec.template`): labels and annotations, the pod spec, no ephemeral containers.
pub fn validate_template(template: &Fields<'_>, errors: &mut Vec<FieldError>) {
    let metadata = template.child("metadata", errors);
    // Upstream names these `<template>.labels`, not `<template>.metadata.labels`.
    if let Some(labels) = metadata.map("labels", errors) {
        errors.extend(validate_labels(labels, &template.at("labels")));
    }
    if let Some(annotations) = metadata.map("annotations", errors) {
        errors.extend(validate_annotations(annotations, &template.at("annotations")));
    }
    let spec = template.child("spec", errors);
    validate_pod_spec(&spec, errors);
    if spec.array("ephemeralContainers", &mut Vec::new()).is_some_and(|list| !list.is_empty()) {
        errors.push(FieldError::forbidden(
            spec.at("ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
}

/// Upstream's `ValidatePodSpec` for the spec at `spec.path()`.
pub fn validate_pod_spec(spec: &Fields<'_>, errors: &mut Vec<FieldError>) {
    validate_volumes(spec, errors);

    let mut names = HashSet::new();
    match spec.array("containers", errors) {
        Some(containers) if !containers.is_empty() => {
            each_object(containers, &spec.at("containers"), errors, |_, container, errors| {
                validate_container(&container, ContainerList::Regular, &mut names, errors);
            });
        }
        _ => errors.push(FieldError::required(spec.at("containers"), "")),
    }
    if let Some(init) = spec.array("initContainers", errors) {
        each_object(init, &spec.at("initContainers"), errors, |_, container, errors| {
            validate_container(&container, ContainerList::Init, &mut names, errors);
        });
    }

    match spec.text("restartPolicy", errors) {
        "Always" | "OnFailure" | "Never" => {}
        "" => errors.push(FieldError::required(spec.at("restartPolicy"), "")),
        other => {
            errors.push(FieldError::not_supported(spec.at("restartPolicy"), other, &["Always", "OnFailure", "Never"]))
        }
    }
    let dns_policy = spec.text("dnsPolicy", errors);
    match dns_policy {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => errors.push(FieldError::required(spec.at("dnsPolicy"), "")),
        other => errors.push(FieldError::not_supported(
            spec.at("dnsPolicy"),
            other,
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        )),
    }
    if let Some(node_selector) = spec.map("nodeSelector", errors) {
        errors.extend(validate_labels(node_selector, &spec.at("nodeSelector")));
    }
    let dns_config = spec.object("dnsConfig", errors);
    if dns_policy == "None" {
        let nameservers = dns_config.as_ref().and_then(|c| c.array("nameservers", errors)).map_or(0, <[Value]>::len);
        if dns_config.is_none() {
            errors
                .push(FieldError::required(spec.at("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"));
        } else if nameservers == 0 {
            errors.push(FieldError::required(
                format!("{}.nameservers", spec.at("dnsConfig")),
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            ));
        }
    }
    for (key, rule) in [
        ("serviceAccountName", Rule::Subdomain),
        ("nodeName", Rule::Subdomain),
        ("hostname", Rule::Label),
        ("subdomain", Rule::Label),
        ("priorityClassName", Rule::Subdomain),
    ] {
        let value = spec.text(key, errors);
        if !value.is_empty() {
            let messages = match rule {
                Rule::Subdomain => is_dns1123_subdomain(value),
                Rule::Label => is_dns1123_label(value),
            };
            errors.extend(messages.into_iter().map(|m| FieldError::invalid(spec.at(key), value, m)));
        }
    }
    if let Some(deadline) = spec.int64("activeDeadlineSeconds", errors)
        && !(1..=i64::from(i32::MAX)).contains(&deadline)
    {
        errors.push(FieldError::invalid(
            spec.at("activeDeadlineSeconds"),
            deadline,
            format!("must be between 1 and {}, inclusive", i32::MAX),
        ));
    }
    spec.int64("terminationGracePeriodSeconds", errors);
    if let Some(tolerations) = spec.array("tolerations", errors) {
        validate_tolerations(tolerations, &spec.at("tolerations"), errors);
    }
    if let Some(policy) = spec.str("preemptionPolicy", errors)
        && policy != "PreemptLowerPriority"
        && policy != "Never"
    {
        errors.push(FieldError::not_supported(spec.at("preemptionPolicy"), policy, &["PreemptLowerPriority", "Never"]));
    }
    spec.int32("priority", errors);
    spec.boolean("enableServiceLinks", errors);
    spec.boolean("hostNetwork", errors);
}

enum Rule {
    Subdomain,
    Label,
}

/// Volumes: name (required, RFC 1123 label, unique) and exactly one source.
fn validate_volumes(spec: &Fields<'_>, errors: &mut Vec<FieldError>) {
    let mut names = HashSet::new();
    let Some(volumes) = spec.array("volumes", errors) else { return };
    each_object(volumes, &spec.at("volumes"), errors, |_, volume, errors| {
        let mut source_errors = Vec::new();
        let mut sources = 0;
        for source in VOLUME_SOURCES {
            if !volume.has(source) {
                continue;
            }
            sources += 1;
            if sources > 1 {
                source_errors.push(FieldError::forbidden(volume.at(source), "may not specify more than 1 volume type"));
                continue;
            }
            let required = match *source {
                "configMap" => Some("name"),
                "persistentVolumeClaim" => Some("claimName"),
                "secret" => Some("secretName"),
                _ => None,
            };
            if let Some(source_fields) = volume.object(source, &mut source_errors)
                && let Some(required) = required
                && source_fields.text(required, &mut source_errors).is_empty()
            {
                source_errors.push(FieldError::required(source_fields.at(required), ""));
            }
        }
        if sources == 0 {
            source_errors.push(FieldError::required(volume.path(), "must specify a volume type"));
        }
        let name = volume.text("name", errors);
        if name.is_empty() {
            errors.push(FieldError::required(volume.at("name"), ""));
        } else {
            errors.extend(is_dns1123_label(name).into_iter().map(|m| FieldError::invalid(volume.at("name"), name, m)));
        }
        if names.contains(name) {
            errors.push(FieldError::duplicate(volume.at("name"), name));
        }
        if source_errors.is_empty() {
            names.insert(name.to_string());
        }
        errors.extend(source_errors);
    });
}

/// One container (`validateContainerCommon` plus the per-list rules).
fn validate_container(
    container: &Fields<'_>,
    list: ContainerList,
    names: &mut HashSet<String>,
    errors: &mut Vec<FieldError>,
) {
    let name = container.text("name", errors);
    if name.is_empty() {
        errors.push(FieldError::required(container.at("name"), ""));
    } else {
        errors.extend(is_dns1123_label(name).into_iter().map(|m| FieldError::invalid(container.at("name"), name, m)));
        if !names.insert(name.to_string()) {
            errors.push(FieldError::duplicate(container.at("name"), name));
        }
    }
    if container.text("image", errors).is_empty() {
        errors.push(FieldError::required(container.at("image"), ""));
    }
    match container.text("terminationMessagePolicy", errors) {
        "File" | "FallbackToLogsOnError" => {}
        "" => errors.push(FieldError::required(container.at("terminationMessagePolicy"), "")),
        other => errors.push(FieldError::not_supported(
            container.at("terminationMessagePolicy"),
            other,
            &["File", "FallbackToLogsOnError"],
        )),
    }
    container.array("command", errors);
    container.array("args", errors);
    if let Some(ports) = container.array("ports", errors) {
        validate_container_ports(ports, &container.at("ports"), errors);
    }
    if let Some(env) = container.array("env", errors) {
        validate_env(env, &container.at("env"), errors);
    }
    if let Some(mounts) = container.array("volumeMounts", errors) {
        let mut paths = HashSet::new();
        each_object(mounts, &container.at("volumeMounts"), errors, |_, mount, errors| {
            let mount_name = mount.text("name", errors);
            if mount_name.is_empty() {
                errors.push(FieldError::required(mount.at("name"), ""));
            }
            let mount_path = mount.text("mountPath", errors);
            if mount_path.is_empty() {
                errors.push(FieldError::required(mount.at("mountPath"), ""));
            } else if !paths.insert(mount_path.to_string()) {
                errors.push(FieldError::invalid(mount.at("mountPath"), mount_path, "must be unique"));
            }
            mount.boolean("readOnly", errors);
        });
    }
    match container.text("imagePullPolicy", errors) {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => errors.push(FieldError::required(container.at("imagePullPolicy"), "")),
        other => errors.push(FieldError::not_supported(
            container.at("imagePullPolicy"),
            other,
            &["Always", "IfNotPresent", "Never"],
        )),
    }
    container.object("resources", errors);

    let restart_policy = container.str("restartPolicy", errors);
    let sidecar = list == ContainerList::Init && restart_policy == Some("Always");
    match (list, restart_policy) {
        (_, None) => {}
        (ContainerList::Regular, Some(_)) => {
            errors.push(FieldError::forbidden(container.at("restartPolicy"), "may not be set for non-init containers"))
        }
        (ContainerList::Init, Some("Always")) => {}
        (ContainerList::Init, Some(other)) => {
            errors.push(FieldError::not_supported(container.at("restartPolicy"), other, &["Always"]))
        }
    }
    if let Some(lifecycle) = container.object("lifecycle", errors) {
        if list == ContainerList::Init && !sidecar {
            errors.push(FieldError::forbidden(
                lifecycle.path(),
                "may not be set for init containers without restartPolicy=Always",
            ));
        }
        for hook in ["postStart", "preStop"] {
            if let Some(handler) = lifecycle.object(hook, errors) {
                validate_handler(&handler, &["exec", "httpGet", "tcpSocket", "sleep"], errors);
            }
        }
    }
    for probe_kind in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let Some(probe) = container.object(probe_kind, errors) else { continue };
        if list == ContainerList::Init && !sidecar {
            errors.push(FieldError::forbidden(
                probe.path(),
                "may not be set for init containers without restartPolicy=Always",
            ));
            continue;
        }
        validate_probe(&probe, errors);
        let success = probe.int32("successThreshold", &mut Vec::new());
        if probe_kind != "readinessProbe" && success.is_some_and(|s| s != 1) {
            errors.push(FieldError::invalid(probe.at("successThreshold"), success.unwrap_or_default(), "must be 1"));
        }
        if probe_kind == "readinessProbe"
            && let Some(grace) = probe.int64("terminationGracePeriodSeconds", &mut Vec::new())
        {
            errors.push(FieldError::invalid(
                probe.at("terminationGracePeriodSeconds"),
                grace,
                "must not be set for readinessProbes",
            ));
        }
    }
}

/// Container ports (`validateContainerPorts`).
fn validate_container_ports(ports: &[Value], path: &str, errors: &mut Vec<FieldError>) {
    let mut names = HashSet::new();
    each_object(ports, path, errors, |_, port, errors| {
        let name = port.text("name", errors);
        if !name.is_empty() {
            let messages = port_name_errors(name);
            if !messages.is_empty() {
                errors.extend(messages.into_iter().map(|m| FieldError::invalid(port.at("name"), name, m)));
            } else if !names.insert(name.to_string()) {
                errors.push(FieldError::duplicate(port.at("name"), name));
            }
        }
        match port.int32("containerPort", errors) {
            None | Some(0) => errors.push(FieldError::required(port.at("containerPort"), "")),
            Some(number) => errors.extend(
                port_number_errors(number)
                    .into_iter()
                    .map(|m| FieldError::invalid(port.at("containerPort"), number, m)),
            ),
        }
        if let Some(host_port) = port.int32("hostPort", errors).filter(|p| *p != 0) {
            errors.extend(
                port_number_errors(host_port)
                    .into_iter()
                    .map(|m| FieldError::invalid(port.at("hostPort"), host_port, m)),
            );
        }
        check_protocol(&port, errors);
    });
}

/// `protocol`: required, and TCP, UDP or SCTP (listed sorted, as upstream's set prints).
pub(crate) fn check_protocol(port: &Fields<'_>, errors: &mut Vec<FieldError>) {
    match port.text("protocol", errors) {
        "TCP" | "UDP" | "SCTP" => {}
        "" => errors.push(FieldError::required(port.at("protocol"), "")),
        other => errors.push(FieldError::not_supported(port.at("protocol"), other, &["SCTP", "TCP", "UDP"])),
    }
}

/// Environment variables (`ValidateEnv` with the relaxed names of 1.34+): a name of printable
/// ASCII other than `=`, and at most one `valueFrom` source, not next to a `value`.
fn validate_env(env: &[Value], path: &str, errors: &mut Vec<FieldError>) {
    each_object(env, path, errors, |_, variable, errors| {
        let name = variable.text("name", errors);
        if name.is_empty() {
            errors.push(FieldError::required(variable.at("name"), ""));
        } else if !name.chars().all(|c| c.is_ascii() && !c.is_ascii_control() && c != '=') {
            errors.push(FieldError::invalid(
                variable.at("name"),
                name,
                "a valid environment variable name must consist only of printable ASCII characters other than '='",
            ));
        }
        let value = variable.text("value", errors);
        let Some(value_from) = variable.object("valueFrom", errors) else { return };
        let sources = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef"]
            .iter()
            .filter(|source| value_from.has(source))
            .count();
        if sources == 0 {
            errors.push(FieldError::invalid(
                value_from.path(),
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            ));
        } else if sources > 1 {
            errors.push(FieldError::invalid(
                value_from.path(),
                "",
                "may not have more than one field specified at a time",
            ));
        }
        if sources != 0 && !value.is_empty() {
            errors.push(FieldError::invalid(value_from.path(), "", "may not be specified when `value` is not empty"));
        }
    });
}

/// A probe: its handler and non-negative numbers (`validateProbe`).
fn validate_probe(probe: &Fields<'_>, errors: &mut Vec<FieldError>) {
    validate_handler(probe, &["exec", "httpGet", "tcpSocket", "grpc"], errors);
    for number in ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"] {
        check_nonnegative(probe.int32(number, errors), &probe.at(number), errors);
    }
    if let Some(grace) = probe.int64("terminationGracePeriodSeconds", errors).filter(|g| *g <= 0) {
        errors.push(FieldError::invalid(probe.at("terminationGracePeriodSeconds"), grace, "must be greater than 0"));
    }
}

/// Exactly one handler among `kinds` (`validateHandler`), and that handler's own fields.
fn validate_handler(handler: &Fields<'_>, kinds: &[&str], errors: &mut Vec<FieldError>) {
    let mut found = 0;
    for kind in kinds {
        let Some(action) = handler.object(kind, errors) else { continue };
        if found > 0 {
            errors.push(FieldError::forbidden(action.path(), "may not specify more than 1 handler type"));
            continue;
        }
        found += 1;
        match *kind {
            "exec" if action.array("command", errors).is_none_or(<[Value]>::is_empty) => {
                errors.push(FieldError::required(action.at("command"), ""));
            }
            "httpGet" => {
                if action.text("path", errors).is_empty() {
                    errors.push(FieldError::required(action.at("path"), ""));
                }
                check_port_number_or_name(&action, "port", errors);
                match action.text("scheme", errors) {
                    "HTTP" | "HTTPS" => {}
                    other => errors.push(FieldError::not_supported(action.at("scheme"), other, &["HTTP", "HTTPS"])),
                }
                if let Some(headers) = action.array("httpHeaders", errors) {
                    each_object(headers, &action.at("httpHeaders"), errors, |_, header, errors| {
                        let name = header.text("name", errors);
                        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                            errors.push(FieldError::invalid(
                                action.at("httpHeaders"),
                                name,
                                regex_error(
                                    "a valid HTTP header must consist of alphanumeric characters or '-'",
                                    "[-A-Za-z0-9]+",
                                    &["X-Header-Name"],
                                ),
                            ));
                        }
                    });
                }
            }
            "tcpSocket" => check_port_number_or_name(&action, "port", errors),
            "grpc" => {
                if let Some(port) = action.int32("port", errors) {
                    errors.extend(
                        port_number_errors(port).into_iter().map(|m| FieldError::invalid(action.at("port"), port, m)),
                    );
                }
            }
            "sleep" => {
                if let Some(seconds) = action.int64("seconds", errors).filter(|s| *s < 0) {
                    errors.push(FieldError::invalid(action.at("seconds"), seconds, NEGATIVE_MESSAGE));
                }
            }
            _ => {}
        }
    }
    if found == 0 {
        errors.push(FieldError::required(handler.path(), "must specify a handler type"));
    }
}

/// An `IntOrString` port (`ValidatePortNumOrName`): a number 1–65535 or an IANA service name.
/// A missing port reads as the number 0, as Go's zero value.
pub(crate) fn check_port_number_or_name(object: &Fields<'_>, key: &str, errors: &mut Vec<FieldError>) {
    match object.int_or_string(key, errors) {
        Some(IntOrString::Str(name)) => {
            errors.extend(port_name_errors(name).into_iter().map(|m| FieldError::invalid(object.at(key), name, m)))
        }
        Some(IntOrString::Int(number)) => errors
            .extend(port_number_errors(number).into_iter().map(|m| FieldError::invalid(object.at(key), number, m))),
        None if !object.has(key) => errors.push(FieldError::invalid(object.at(key), 0, INCLUSIVE_PORT_RANGE)),
        None => {}
    }
}

/// Tolerations (`ValidateTolerations`).
fn validate_tolerations(tolerations: &[Value], path: &str, errors: &mut Vec<FieldError>) {
    each_object(tolerations, path, errors, |_, toleration, errors| {
        let key = toleration.text("key", errors);
        let operator = toleration.text("operator", errors);
        let value = toleration.text("value", errors);
        let effect = toleration.text("effect", errors);
        if !key.is_empty() {
            errors
                .extend(is_qualified_name(key).into_iter().map(|m| FieldError::invalid(toleration.at("key"), key, m)));
        }
        if key.is_empty() && operator != "Exists" {
            errors.push(FieldError::invalid(
                toleration.at("operator"),
                operator,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if toleration.int64("tolerationSeconds", errors).is_some() && effect != "NoExecute" {
            errors.push(FieldError::invalid(
                toleration.at("effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match operator {
            "Equal" | "" => {
                let messages = is_label_value(value);
                if !messages.is_empty() {
                    errors.push(FieldError::invalid(toleration.at("operator"), value, messages.join(";")));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errors.push(FieldError::invalid(
                        toleration.at("operator"),
                        value,
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => errors.push(FieldError::not_supported(toleration.at("operator"), other, &["Equal", "Exists"])),
        }
        if !effect.is_empty() && !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
            errors.push(FieldError::not_supported(
                toleration.at("effect"),
                effect,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            ));
        }
    });
}

/// Pods only (`validateContainersOnlyForPod`): no whitespace around an image.
fn check_image_whitespace(container: &Fields<'_>, errors: &mut Vec<FieldError>) {
    let image = container.text("image", &mut Vec::new());
    if image.trim() != image {
        errors.push(FieldError::invalid(container.at("image"), image, "must not have leading or trailing whitespace"));
    }
}

fn list_of<'a>(spec: &'a Value, key: &str) -> &'a [Value] {
    spec.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// Whether `a` and `b` are equal except for `ignored` (compared semantically).
fn same_except(a: &Value, b: &Value, ignored: &str) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(map) = v.as_object_mut() {
            map.remove(ignored);
        }
        v
    };
    semantic_eq(&strip(a), &strip(b))
}

/// Upstream's `Semantic.DeepEqual` on decoded structs, approximated on JSON: a missing field,
/// `null`, `""` and `[]` are all the zero value of their Go field and compare equal.
pub(crate) fn semantic_eq(a: &Value, b: &Value) -> bool {
    normalized(a) == normalized(b)
}

fn normalized(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().filter(|(_, v)| !is_zero(v)).map(|(k, v)| (k.clone(), normalized(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// A short diff of two specs in the spirit of upstream's `cmp.Diff` (`- old`, `+ new` per
/// top-level field that differs).
fn spec_diff(old: &Value, new: &Value) -> String {
    let (old_n, new_n) = (normalized(old), normalized(new));
    let empty = Map::new();
    let old_map = old_n.as_object().unwrap_or(&empty);
    let new_map = new_n.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = old_map.keys().chain(new_map.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = String::from("  core.PodSpec{\n");
    for key in keys {
        let (before, after) = (old_map.get(key), new_map.get(key));
        if before == after {
            continue;
        }
        let field = go_field_name(key);
        if let Some(before) = before {
            out.push_str(&format!("- \t{field}: {before},\n"));
        }
        if let Some(after) = after {
            out.push_str(&format!("+ \t{field}: {after},\n"));
        }
    }
    out.push_str("  }\n");
    out
}

fn go_field_name(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::FieldErrorType;
    use serde_json::json;

    fn pod(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}, "spec": spec})
    }

    fn container() -> Value {
        json!({"name": "app", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent", "terminationMessagePolicy": "File"})
    }

    fn valid_spec() -> Value {
        json!({"containers": [container()], "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"})
    }

    fn fields_of(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn pod_with_defaults_applied_is_valid() {
        assert_eq!(validate_create(&pod(valid_spec())), vec![]);
    }

    #[test]
    fn pod_requires_at_least_one_container() {
        let errors =
            validate_create(&pod(json!({"containers": [], "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"})));
        assert_eq!(errors, vec![FieldError::required("spec.containers", "")]);
    }

    #[test]
    fn container_name_must_be_a_dns_label_and_unique() {
        let mut second = container();
        second["name"] = json!("app");
        let mut third = container();
        third["name"] = json!("Bad_Name");
        let mut spec = valid_spec();
        spec["containers"] = json!([container(), second, third]);
        let errors = validate_create(&pod(spec));
        assert_eq!(fields_of(&errors), ["spec.containers[1].name", "spec.containers[2].name"]);
        assert_eq!(errors[0].message(), "Duplicate value: \"app\"");
        assert!(errors[1].message().starts_with("Invalid value: \"Bad_Name\": a lowercase RFC 1123 label"));
    }

    #[test]
    fn container_image_is_required() {
        let mut spec = valid_spec();
        spec["containers"][0].as_object_mut().expect("object").remove("image");
        let errors = validate_create(&pod(spec));
        assert_eq!(errors, vec![FieldError::required("spec.containers[0].image", "")]);
    }

    #[test]
    fn container_ports_must_be_in_range_with_a_known_protocol() {
        let mut spec = valid_spec();
        spec["containers"][0]["ports"] = json!([
            {"containerPort": 70000, "protocol": "TCP"},
            {"containerPort": 80, "protocol": "HTTP"},
            {"protocol": "UDP"},
        ]);
        let errors = validate_create(&pod(spec));
        let messages: Vec<_> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.containers[0].ports[1].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                "spec.containers[0].ports[2].containerPort: Required value",
            ]
        );
    }

    #[test]
    fn restart_policy_must_be_always_on_failure_or_never() {
        let mut spec = valid_spec();
        spec["restartPolicy"] = json!("Sometimes");
        let errors = validate_create(&pod(spec));
        assert_eq!(
            errors[0].to_string(),
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""
        );
    }

    #[test]
    fn probe_numbers_must_not_be_negative_and_liveness_success_threshold_is_one() {
        let mut spec = valid_spec();
        spec["containers"][0]["livenessProbe"] = json!({"httpGet": {"path": "/", "port": 8080, "scheme": "HTTP"}, "periodSeconds": -1, "successThreshold": 2});
        spec["containers"][0]["readinessProbe"] = json!({"periodSeconds": 1});
        let errors = validate_create(&pod(spec));
        let messages: Vec<_> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0",
                "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
                "spec.containers[0].readinessProbe: Required value: must specify a handler type",
            ]
        );
    }

    #[test]
    fn probe_with_two_handlers_is_forbidden_and_port_names_are_checked() {
        let mut spec = valid_spec();
        spec["containers"][0]["readinessProbe"] =
            json!({"tcpSocket": {"port": "Not--ok"}, "exec": {"command": ["true"]}});
        let errors = validate_create(&pod(spec));
        assert_eq!(fields_of(&errors), ["spec.containers[0].readinessProbe.tcpSocket"]);
        assert_eq!(errors[0].message(), "Forbidden: may not specify more than 1 handler type");
        let mut spec = valid_spec();
        spec["containers"][0]["readinessProbe"] = json!({"tcpSocket": {"port": "Not--ok"}});
        let errors = validate_create(&pod(spec));
        assert_eq!(fields_of(&errors), ["spec.containers[0].readinessProbe.tcpSocket.port"; 2]);
    }

    #[test]
    fn env_names_must_be_printable_and_value_from_needs_one_source() {
        let mut spec = valid_spec();
        spec["containers"][0]["env"] = json!([
            {"name": "A=B", "value": "x"},
            {"name": ""},
            {"name": "OK", "value": "v", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ]);
        let errors = validate_create(&pod(spec));
        assert_eq!(
            fields_of(&errors),
            ["spec.containers[0].env[0].name", "spec.containers[0].env[1].name", "spec.containers[0].env[2].valueFrom"]
        );
        assert_eq!(errors[1].kind, FieldErrorType::Required);
        assert_eq!(errors[2].detail, "may not be specified when `value` is not empty");
    }

    #[test]
    fn volumes_need_a_name_and_exactly_one_source() {
        let mut spec = valid_spec();
        // As upstream, a volume with a bad source does not count for the duplicate check.
        spec["volumes"] = json!([
            {"name": "a", "emptyDir": {}, "hostPath": {"path": "/x"}},
            {"name": "a", "emptyDir": {}},
            {"name": "a", "emptyDir": {}},
            {"name": "c", "configMap": {}},
        ]);
        let errors = validate_create(&pod(spec));
        let messages: Vec<_> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type",
                "spec.volumes[2].name: Duplicate value: \"a\"",
                "spec.volumes[3].configMap.name: Required value",
            ]
        );
    }

    #[test]
    fn init_containers_may_have_probes_only_as_sidecars() {
        let mut init = container();
        init["name"] = json!("init");
        init["readinessProbe"] = json!({"exec": {"command": ["true"]}});
        let mut spec = valid_spec();
        spec["initContainers"] = json!([init.clone()]);
        let errors = validate_create(&pod(spec.clone()));
        assert_eq!(
            errors,
            vec![FieldError::forbidden(
                "spec.initContainers[0].readinessProbe",
                "may not be set for init containers without restartPolicy=Always"
            )]
        );
        init["restartPolicy"] = json!("Always");
        spec["initContainers"] = json!([init]);
        assert_eq!(validate_create(&pod(spec)), vec![]);
    }

    #[test]
    fn init_container_names_may_not_repeat_regular_container_names() {
        let mut spec = valid_spec();
        spec["initContainers"] = json!([container()]);
        assert_eq!(validate_create(&pod(spec)), vec![FieldError::duplicate("spec.initContainers[0].name", "app")]);
    }

    #[test]
    fn pod_image_with_surrounding_whitespace_is_invalid_on_create() {
        let mut spec = valid_spec();
        spec["containers"][0]["image"] = json!(" nginx");
        let errors = validate_create(&pod(spec));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "spec.containers[0].image");
        assert_eq!(errors[0].detail, "must not have leading or trailing whitespace");
    }

    #[test]
    fn pod_update_may_change_the_image() {
        let old = pod(valid_spec());
        let mut new = old.clone();
        new["spec"]["containers"][0]["image"] = json!("nginx:1.28");
        assert_eq!(validate_update(&new, &old), vec![]);
    }

    #[test]
    fn pod_update_may_not_change_other_spec_fields() {
        let old = pod(valid_spec());
        let mut new = old.clone();
        new["spec"]["restartPolicy"] = json!("Never");
        let errors = validate_update(&new, &old);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "spec");
        assert_eq!(errors[0].kind, FieldErrorType::Forbidden);
        assert!(
            errors[0]
                .detail
                .starts_with(&format!("pod updates may not change fields other than {UPDATABLE_POD_SPEC_FIELDS}\n")),
            "{}",
            errors[0].detail
        );
        assert!(errors[0].detail.contains("RestartPolicy: \"Never\""));
    }

    #[test]
    fn pod_update_may_not_add_containers() {
        let old = pod(valid_spec());
        let mut new = old.clone();
        let mut second = container();
        second["name"] = json!("b");
        new["spec"]["containers"].as_array_mut().expect("array").push(second);
        let errors = validate_update(&new, &old);
        assert_eq!(
            errors,
            vec![FieldError::forbidden("spec.containers", "pod updates may not add or remove containers")]
        );
    }

    #[test]
    fn pod_update_may_only_add_tolerations_and_lower_the_deadline() {
        let mut old_spec = valid_spec();
        old_spec["tolerations"] =
            json!([{"key": "a", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]);
        old_spec["activeDeadlineSeconds"] = json!(100);
        let old = pod(old_spec);
        let mut new = old.clone();
        new["spec"]["tolerations"] = json!([
            {"key": "a", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60},
            {"key": "b", "operator": "Exists"},
        ]);
        new["spec"]["activeDeadlineSeconds"] = json!(50);
        assert_eq!(validate_update(&new, &old), vec![]);

        let mut raised = old.clone();
        raised["spec"]["activeDeadlineSeconds"] = json!(200);
        assert_eq!(validate_update(&raised, &old)[0].detail, "must be less than or equal to previous value");

        let mut removed = old.clone();
        removed["spec"]["tolerations"] = json!([]);
        assert_eq!(
            validate_update(&removed, &old),
            vec![FieldError::forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds"
            )]
        );
    }

    #[test]
    fn pod_spec_of_wrong_types_reports_type_errors() {
        for spec in [
            json!("nope"),
            json!({"containers": "x"}),
            json!({"containers": [5, {"name": 1, "image": [], "ports": {"a": 1}}], "restartPolicy": 3}),
            json!({"containers": [{"name": "a", "image": "b", "env": [{"name": "x", "valueFrom": 1}], "livenessProbe": []}]}),
            json!({"volumes": [null, {"name": {}}], "tolerations": [{"tolerationSeconds": "x"}]}),
        ] {
            let errors = validate_create(&pod(spec.clone()));
            assert!(errors.iter().any(|e| e.kind == FieldErrorType::TypeInvalid), "{spec}: {errors:?}");
        }
        assert!(!validate_update(&json!(7), &json!("x")).is_empty());
    }
}
