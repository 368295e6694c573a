//! Services: upstream's `ValidateService` and `ValidateServiceUpdate` (Kubernetes 1.35,
//! `pkg/apis/core/validation`) for the fields kubectl and the endpoints machinery use.
//!
//! Checked: `ports` (required unless headless or `ExternalName`; names required and unique when
//! there are several; port 1–65535; protocol; `targetPort` number or name; `appProtocol`; no
//! duplicate protocol/port pairs; no `nodePort` on `ClusterIP` services), `type`,
//! `sessionAffinity` and its config, `selector` labels, `clusterIP`/`clusterIPs` (IPs or `None`,
//! in sync, one per family), `ipFamilies`, `ipFamilyPolicy`, `externalIPs`, `externalName`,
//! `internalTrafficPolicy`, `externalTrafficPolicy`. On update the cluster IPs may not change
//! (`spec.clusterIPs[0]: … may not change once set`) unless either side is `ExternalName` or both
//! are headless.
//!
//! Allocation is not validation: the caller allocates `clusterIP`/`nodePort`s, and on update
//! copies them from the stored object when the request leaves them out (upstream's
//! `patchAllocatedValues`); an update without any cluster IP is therefore treated as unchanged.

use std::collections::HashSet;
use std::net::IpAddr;

use serde_json::Value;

use super::fields::{Fields, each_object, go_string_slice, invalid_go, port_number_errors, value_text};
use super::names::{is_dns1123_label, is_dns1123_subdomain, is_qualified_name, validate_labels};
use super::pods::{check_port_number_or_name, check_protocol};
use crate::selector::go_quote;
use crate::status::{FieldError, FieldErrorType};

/// The kubelet's port, which a LoadBalancer may not expose.
const KUBELET_PORT: i64 = 10250;
/// Longest ClientIP session affinity, in seconds (one day).
const CLIENT_IP_TIMEOUT_SECONDS_MAX: i64 = 86_400;
const INVALID_IP: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

/// Errors of a Service on create (`ValidateService` without the metadata part).
pub fn validate_create(service: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let root = Fields::of(Some(service), "", &mut errors);
    let spec = root.child("spec", &mut errors);
    let kind = spec.text("type", &mut errors);
    let cluster_ips = strings(&spec, "clusterIPs", &mut errors);
    let headless = cluster_ips.len() == 1 && cluster_ips[0] == "None";
    let ports = spec.array("ports", &mut errors).unwrap_or_default();

    if ports.is_empty() && !headless && kind != "ExternalName" {
        errors.push(FieldError::required(spec.at("ports"), ""));
    }
    match kind {
        "LoadBalancer" | "NodePort" => {
            if headless {
                errors.push(FieldError::invalid(
                    "spec.clusterIPs[0]",
                    "None",
                    format!("may not be set to 'None' for {kind} services"),
                ));
            }
            if kind == "LoadBalancer" {
                for (i, port) in ports.iter().enumerate() {
                    if port.get("port").and_then(Value::as_i64) == Some(KUBELET_PORT) {
                        errors.push(FieldError::invalid(
                            format!("spec.ports[{i}]"),
                            KUBELET_PORT,
                            format!("may not expose port {KUBELET_PORT} externally since it is used by kubelet"),
                        ));
                    }
                }
            }
        }
        "ExternalName" => {
            for (key, present) in [
                ("clusterIPs", !cluster_ips.is_empty()),
                ("ipFamilies", spec.array("ipFamilies", &mut Vec::new()).is_some_and(|f| !f.is_empty())),
                ("ipFamilyPolicy", spec.has("ipFamilyPolicy")),
            ] {
                if present {
                    errors.push(FieldError::forbidden(spec.at(key), "may not be set for ExternalName services"));
                }
            }
            let external_name = spec.text("externalName", &mut errors);
            let cname = external_name.strip_suffix('.').unwrap_or(external_name);
            if cname.is_empty() {
                errors.push(FieldError::required(spec.at("externalName"), ""));
            } else {
                errors.extend(
                    is_dns1123_subdomain(cname)
                        .into_iter()
                        .map(|m| FieldError::invalid(spec.at("externalName"), cname, m)),
                );
            }
        }
        _ => {}
    }

    let mut names = HashSet::new();
    each_object(ports, &spec.at("ports"), &mut errors, |_, port, errors| {
        validate_service_port(&port, ports.len() > 1, &mut names, errors);
    });
    if let Some(selector) = spec.map("selector", &mut errors) {
        errors.extend(validate_labels(selector, &spec.at("selector")));
    }

    let affinity = spec.text("sessionAffinity", &mut errors);
    match affinity {
        "" => errors.push(FieldError::required(spec.at("sessionAffinity"), "")),
        "ClientIP" => check_client_ip_config(&spec, &mut errors),
        "None" => {
            if spec.has("sessionAffinityConfig") {
                errors.push(FieldError::forbidden(
                    spec.at("sessionAffinityConfig"),
                    "must not be set when session affinity is None",
                ));
            }
        }
        other => errors.push(FieldError::not_supported(spec.at("sessionAffinity"), other, &["ClientIP", "None"])),
    }

    if kind != "ExternalName" {
        validate_cluster_ips(&spec, &cluster_ips, &mut errors);
    }
    let external_ips = strings(&spec, "externalIPs", &mut errors);
    for (i, ip) in external_ips.iter().enumerate() {
        if ip.parse::<IpAddr>().is_err() {
            errors.push(FieldError::invalid(format!("spec.externalIPs[{i}]"), ip.as_str(), INVALID_IP));
        }
    }

    match kind {
        "ClusterIP" | "ExternalName" | "LoadBalancer" | "NodePort" => {}
        "" => errors.push(FieldError::required(spec.at("type"), "")),
        other => errors.push(FieldError::not_supported(
            spec.at("type"),
            other,
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        )),
    }
    if kind == "ClusterIP" {
        for (i, port) in ports.iter().enumerate() {
            if port.get("nodePort").and_then(Value::as_i64).is_some_and(|p| p != 0) {
                errors.push(FieldError::forbidden(
                    format!("spec.ports[{i}].nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }
    check_duplicate_ports(ports, &mut errors);

    match spec.str("internalTrafficPolicy", &mut errors) {
        None if matches!(kind, "ClusterIP" | "NodePort" | "LoadBalancer") => errors.push(FieldError::required(
            spec.at("internalTrafficPolicy"),
            format!("must be specified when `type` is '{kind}'"),
        )),
        Some(policy) if policy != "Cluster" && policy != "Local" => {
            errors.push(FieldError::not_supported(spec.at("internalTrafficPolicy"), policy, &["Cluster", "Local"]))
        }
        _ => {}
    }
    let externally_accessible =
        matches!(kind, "LoadBalancer" | "NodePort") || (kind == "ClusterIP" && !external_ips.is_empty());
    let external_policy = spec.text("externalTrafficPolicy", &mut errors);
    if !externally_accessible {
        if !external_policy.is_empty() {
            errors.push(FieldError::invalid(
                spec.at("externalTrafficPolicy"),
                external_policy,
                "may only be set for externally-accessible services",
            ));
        }
    } else if external_policy.is_empty() {
        errors.push(FieldError::required(spec.at("externalTrafficPolicy"), ""));
    } else if external_policy != "Cluster" && external_policy != "Local" {
        errors.push(FieldError::not_supported(
            spec.at("externalTrafficPolicy"),
            external_policy,
            &["Cluster", "Local"],
        ));
    }
    errors
}

/// Errors of a Service update: the new Service's errors, and changed cluster IPs.
pub fn validate_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errors = validate_create(new);
    let kind = |s: &Value| s.pointer("/spec/type").and_then(Value::as_str).unwrap_or("").to_string();
    let ips = |s: &Value| -> Vec<String> {
        s.pointer("/spec/clusterIPs")
            .and_then(Value::as_array)
            .map(|l| l.iter().map(value_text).collect())
            .unwrap_or_default()
    };
    let (new_ips, old_ips) = (ips(new), ips(old));
    let new_raw = new.pointer("/spec/clusterIPs").and_then(Value::as_array).map(Vec::as_slice);
    let headless = |ips: &[String]| ips.len() == 1 && ips[0] == "None";
    let carried_over =
        new_ips.is_empty() && new.pointer("/spec/clusterIP").and_then(Value::as_str).unwrap_or("").is_empty();
    if kind(new) == "ExternalName"
        || kind(old) == "ExternalName"
        || (headless(&new_ips) && headless(&old_ips))
        || carried_over
    {
        return errors;
    }
    let rendered = go_string_slice(new_raw);
    let changed = || invalid_go("spec.clusterIPs[0]", &rendered, "may not change once set");
    if new_ips.len() == old_ips.len() {
        for (i, (new_ip, old_ip)) in new_ips.iter().zip(&old_ips).enumerate() {
            if new_ip != old_ip {
                errors.push(invalid_go(format!("spec.clusterIPs[{i}]"), &rendered, "may not change once set"));
            }
        }
    } else if old_ips.len() > new_ips.len() {
        if new_ips.is_empty() {
            errors.push(invalid_go("spec.clusterIPs[0]", &rendered, "primary clusterIP can not be unset"));
        } else if new_ips[0] != old_ips[0] {
            errors.push(changed());
        }
        let policy = new.pointer("/spec/ipFamilyPolicy").and_then(Value::as_str);
        if new_ips.len() == 1 && policy != Some("SingleStack") {
            let rendered_policy = policy.map_or("(*core.IPFamilyPolicy)(nil)".to_string(), go_quote);
            errors.push(invalid_go(
                "spec.ipFamilyPolicy",
                &rendered_policy,
                "must be set to 'SingleStack' when releasing the secondary clusterIP",
            ));
        }
    } else if !old_ips.is_empty() && new_ips[0] != old_ips[0] {
        errors.push(changed());
    }
    errors
}

/// One entry of `spec.ports` (`validateServicePort`).
fn validate_service_port(
    port: &Fields<'_>,
    require_name: bool,
    names: &mut HashSet<String>,
    errors: &mut Vec<FieldError>,
) {
    let name = port.text("name", errors);
    if require_name && name.is_empty() {
        errors.push(FieldError::required(port.at("name"), ""));
    } else if !name.is_empty() {
        errors.extend(is_dns1123_label(name).into_iter().map(|m| FieldError::invalid(port.at("name"), name, m)));
        if !names.insert(name.to_string()) {
            errors.push(FieldError::duplicate(port.at("name"), name));
        }
    }
    let number = port.int32("port", errors).unwrap_or(0);
    errors.extend(port_number_errors(number).into_iter().map(|m| FieldError::invalid(port.at("port"), number, m)));
    check_protocol(port, errors);
    check_port_number_or_name(port, "targetPort", errors);
    if let Some(app_protocol) = port.str("appProtocol", errors) {
        errors.extend(
            is_qualified_name(app_protocol)
                .into_iter()
                .map(|m| FieldError::invalid(port.at("appProtocol"), app_protocol, m)),
        );
    }
    port.int32("nodePort", errors);
}

/// `sessionAffinityConfig.clientIP.timeoutSeconds` for `ClientIP` affinity: 1 to 86400.
fn check_client_ip_config(spec: &Fields<'_>, errors: &mut Vec<FieldError>) {
    const WHEN: &str = "when session affinity type is ClientIP";
    let Some(config) = spec.object("sessionAffinityConfig", errors) else {
        errors.push(FieldError::required(spec.at("sessionAffinityConfig"), WHEN));
        return;
    };
    let Some(client_ip) = config.object("clientIP", errors) else {
        errors.push(FieldError::required(config.at("clientIP"), WHEN));
        return;
    };
    match client_ip.int32("timeoutSeconds", errors) {
        None => errors.push(FieldError::required(client_ip.at("timeoutSeconds"), WHEN)),
        Some(seconds) if !(1..=CLIENT_IP_TIMEOUT_SECONDS_MAX).contains(&seconds) => errors.push(FieldError::invalid(
            client_ip.at("timeoutSeconds"),
            seconds,
            format!("must be greater than 0 and less than {CLIENT_IP_TIMEOUT_SECONDS_MAX}"),
        )),
        Some(_) => {}
    }
}

/// `ValidateServiceClusterIPsRelatedFields`.
fn validate_cluster_ips(spec: &Fields<'_>, cluster_ips: &[String], errors: &mut Vec<FieldError>) {
    let cluster_ip = spec.text("clusterIP", errors);
    let raw = spec.raw("clusterIPs").and_then(Value::as_array).map(Vec::as_slice);
    let path = spec.at("clusterIPs");
    if !cluster_ip.is_empty() {
        if cluster_ips.is_empty() {
            errors.push(FieldError::required(&*path, ""));
        } else if cluster_ips[0] != cluster_ip {
            errors.push(invalid_go(&*path, &go_string_slice(raw), "first value must match `clusterIP`"));
        }
    } else if !cluster_ips.is_empty() {
        errors.push(invalid_go(&*path, &go_string_slice(raw), "must be empty when `clusterIP` is not specified"));
    }

    let families = strings(spec, "ipFamilies", errors);
    let mut seen = HashSet::new();
    for (i, family) in families.iter().enumerate() {
        let family_path = format!("{}[{i}]", spec.at("ipFamilies"));
        if family != "IPv4" && family != "IPv6" {
            errors.push(FieldError::not_supported(&*family_path, family.as_str(), &["IPv4", "IPv6"]));
        }
        if !seen.insert(family.clone()) {
            errors.push(FieldError::duplicate(family_path, family.as_str()));
        }
    }
    if let Some(policy) = spec.str("ipFamilyPolicy", errors)
        && !matches!(policy, "PreferDualStack" | "RequireDualStack" | "SingleStack")
    {
        errors.push(FieldError::not_supported(
            spec.at("ipFamilyPolicy"),
            policy,
            &["PreferDualStack", "RequireDualStack", "SingleStack"],
        ));
    }

    let mut invalid = false;
    for (i, ip) in cluster_ips.iter().enumerate() {
        if i == 0 && ip == "None" {
            if cluster_ips.len() > 1 {
                invalid = true;
                errors.push(invalid_go(&*path, &go_string_slice(raw), "'None' must be the first and only value"));
            }
            continue;
        }
        if ip.parse::<IpAddr>().is_err() {
            invalid = true;
            errors.push(FieldError::invalid(format!("{path}[{i}]"), ip.as_str(), INVALID_IP));
        }
    }
    if cluster_ips.len() > 2 {
        errors.push(invalid_go(&*path, &go_string_slice(raw), "may only hold up to 2 values"));
    }
    if invalid {
        return;
    }
    let is_v6 = |ip: &String| ip.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv6());
    if cluster_ips.len() == 2 && is_v6(&cluster_ips[0]) == is_v6(&cluster_ips[1]) {
        errors.push(invalid_go(&*path, &go_string_slice(raw), "may specify no more than one IP for each IP family"));
    }
    let headless = cluster_ips.len() == 1 && cluster_ips[0] == "None";
    if !headless {
        for (i, (ip, family)) in cluster_ips.iter().zip(&families).enumerate() {
            if family == "IPv4" && is_v6(ip) {
                errors.push(FieldError::invalid(
                    format!("{path}[{i}]"),
                    ip.as_str(),
                    format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
            if family == "IPv6" && !is_v6(ip) {
                errors.push(FieldError::invalid(
                    format!("{path}[{i}]"),
                    ip.as_str(),
                    format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
        }
    }
}

/// Duplicate protocol/port pairs, and duplicate protocol/nodePort pairs.
fn check_duplicate_ports(ports: &[Value], errors: &mut Vec<FieldError>) {
    let mut node_ports = HashSet::new();
    let mut seen = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let protocol = port.get("protocol").and_then(Value::as_str).unwrap_or("").to_string();
        if let Some(node_port) = port.get("nodePort").and_then(Value::as_i64).filter(|p| *p != 0)
            && !node_ports.insert((protocol.clone(), node_port))
        {
            errors.push(duplicate_go(format!("spec.ports[{i}].nodePort"), &service_port_go(&protocol, 0, node_port)));
        }
    }
    for (i, port) in ports.iter().enumerate() {
        let protocol = port.get("protocol").and_then(Value::as_str).unwrap_or("").to_string();
        let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
        if !seen.insert((protocol.clone(), number)) {
            errors.push(duplicate_go(format!("spec.ports[{i}]"), &service_port_go(&protocol, number, 0)));
        }
    }
}

/// Go's `%#v` of the `core.ServicePort` key upstream reports duplicates with.
fn service_port_go(protocol: &str, port: i64, node_port: i64) -> String {
    format!(
        "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:{node_port}}}",
        go_quote(protocol)
    )
}

fn duplicate_go(field: String, rendered: &str) -> FieldError {
    FieldError { kind: FieldErrorType::Duplicate, field, value: None, detail: rendered.to_string() }
}

/// A list of strings (`null` entries read as `""`; other types are type errors).
fn strings(object: &Fields<'_>, key: &str, errors: &mut Vec<FieldError>) -> Vec<String> {
    let Some(items) = object.array(key, errors) else { return Vec::new() };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| match item {
            Value::String(s) => Some(s.clone()),
            Value::Null => Some(String::new()),
            other => {
                errors.push(super::fields::type_invalid(format!("{}[{i}]", object.at(key)), other, "string"));
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(spec: Value) -> Value {
        let mut base = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kubia", "namespace": "default"},
            "spec": {
                "type": "ClusterIP",
                "selector": {"app": "kubia"},
                "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}],
                "sessionAffinity": "None",
                "internalTrafficPolicy": "Cluster",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
            },
        });
        for (k, v) in spec.as_object().expect("object") {
            base["spec"][k] = v.clone();
        }
        base
    }

    fn messages(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn service_as_defaulted_is_valid() {
        assert_eq!(validate_create(&service(json!({}))), vec![]);
        assert_eq!(validate_create(&service(json!({"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"]}))), vec![]);
    }

    #[test]
    fn service_ports_are_required_unless_headless_or_external_name() {
        assert_eq!(messages(&validate_create(&service(json!({"ports": []})))), ["spec.ports: Required value"]);
        assert_eq!(
            validate_create(&service(json!({"ports": [], "clusterIP": "None", "clusterIPs": ["None"]}))),
            vec![]
        );
    }

    #[test]
    fn service_port_must_be_in_range() {
        assert_eq!(
            messages(&validate_create(&service(json!({"ports": [{"port": 0, "targetPort": 80, "protocol": "TCP"}]})))),
            ["spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"]
        );
    }

    #[test]
    fn service_port_names_are_required_and_unique_when_there_are_several() {
        let ports = json!([
            {"port": 80, "targetPort": 80, "protocol": "TCP"},
            {"name": "a", "port": 81, "targetPort": 81, "protocol": "TCP"},
            {"name": "a", "port": 82, "targetPort": 82, "protocol": "TCP"},
        ]);
        assert_eq!(
            messages(&validate_create(&service(json!({"ports": ports})))),
            ["spec.ports[0].name: Required value", "spec.ports[2].name: Duplicate value: \"a\""]
        );
    }

    #[test]
    fn service_duplicate_port_and_protocol_is_refused() {
        let ports = json!([
            {"name": "a", "port": 80, "targetPort": 80, "protocol": "TCP"},
            {"name": "b", "port": 80, "targetPort": 81, "protocol": "TCP"},
        ]);
        assert_eq!(
            messages(&validate_create(&service(json!({"ports": ports})))),
            [
                "spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}"
            ]
        );
    }

    #[test]
    fn service_type_must_be_known() {
        assert_eq!(
            messages(&validate_create(&service(json!({"type": "Magic"})))),
            [
                "spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""
            ]
        );
    }

    #[test]
    fn service_external_name_needs_a_dns_name_and_no_cluster_ip() {
        let external = json!({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
            "spec": {"type": "ExternalName", "externalName": "db.example.com.", "sessionAffinity": "None"},
        });
        assert_eq!(validate_create(&external), vec![]);
        let mut bad = external.clone();
        bad["spec"]["externalName"] = json!("");
        bad["spec"]["ipFamilyPolicy"] = json!("SingleStack");
        assert_eq!(
            messages(&validate_create(&bad)),
            [
                "spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services",
                "spec.externalName: Required value"
            ]
        );
    }

    #[test]
    fn service_cluster_ip_must_be_an_ip_in_sync_with_cluster_ips() {
        assert_eq!(
            messages(&validate_create(&service(json!({"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.2"]})))),
            ["spec.clusterIPs: Invalid value: []string{\"10.0.0.2\"}: first value must match `clusterIP`"]
        );
        assert_eq!(
            messages(&validate_create(&service(json!({"clusterIP": "x", "clusterIPs": ["x"]})))),
            [format!("spec.clusterIPs[0]: Invalid value: \"x\": {INVALID_IP}")]
        );
    }

    #[test]
    fn service_cluster_ip_is_immutable() {
        let old = service(json!({"clusterIP": "10.96.0.5", "clusterIPs": ["10.96.0.5"]}));
        let new = service(json!({"clusterIP": "10.96.0.6", "clusterIPs": ["10.96.0.6"]}));
        assert_eq!(
            messages(&validate_update(&new, &old)),
            ["spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.6\"}: may not change once set"]
        );
        assert_eq!(validate_update(&old, &old), vec![]);
        // A request that leaves the cluster IP out gets the stored one from the allocator.
        assert_eq!(validate_update(&service(json!({})), &old), vec![]);
    }

    #[test]
    fn service_internal_traffic_policy_is_required_for_cluster_ip_services() {
        let mut s = service(json!({}));
        s["spec"].as_object_mut().expect("object").remove("internalTrafficPolicy");
        assert_eq!(
            messages(&validate_create(&s)),
            ["spec.internalTrafficPolicy: Required value: must be specified when `type` is 'ClusterIP'"]
        );
    }

    #[test]
    fn service_node_port_is_forbidden_on_cluster_ip_services() {
        let ports = json!([{"port": 80, "targetPort": 80, "protocol": "TCP", "nodePort": 30080}]);
        assert_eq!(
            messages(&validate_create(&service(json!({"ports": ports})))),
            ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]
        );
    }

    #[test]
    fn service_of_wrong_types_reports_type_errors() {
        for spec in [
            json!({"ports": "80"}),
            json!({"ports": [{"port": "80", "protocol": 6, "targetPort": []}]}),
            json!({"clusterIPs": [1], "type": ["x"], "selector": "app"}),
            json!({"sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": "x"}}}),
        ] {
            let errors = validate_create(&service(spec.clone()));
            assert!(errors.iter().any(|e| e.kind == FieldErrorType::TypeInvalid), "{spec}: {errors:?}");
        }
        assert!(!validate_create(&json!({"spec": []})).is_empty());
        assert!(!validate_update(&json!(1), &json!({"spec": {"clusterIPs": "x"}})).is_empty());
    }
}
