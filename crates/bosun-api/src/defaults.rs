//! Defaulting: the fields a real Kubernetes 1.35 API server fills in, so that `kubectl get -o
//! yaml` shows what a cluster shows and applying the same manifest twice changes nothing
//! (API-semantics spec, section 3.11).
//!
//! # Contract
//!
//! * [`apply_defaults`] runs on every create and update, before validation. It is idempotent:
//!   applying it to its own output changes nothing. It only fills fields that are unset (absent
//!   or `null`; for plain Go strings and numbers also `""` and `0`, which Go cannot tell apart from
//!   unset), and never touches a field of the wrong JSON type, so validation can report it.
//! * [`prepare_for_create`] runs once on create, after the server has set `metadata.name` and
//!   `metadata.uid` and before validation: the create-only steps upstream's strategies take
//!   (a Job's generated selector and labels, a Namespace's `kubernetes` finalizer and name label).
//!
//! # Sources
//!
//! `pkg/apis/{core,apps,batch}/v1/defaults.go` and the generated `zz_generated.defaults.go` (which
//! also apply `+default` tags: container and service port `protocol: TCP`), plus what 1.35's
//! default admission chain adds to Pods (`Priority`, `ServiceAccount`,
//! `DefaultTolerationSeconds`), the Pod strategy's `status.qosClass`, and the Service registry's
//! `clusterIPs`, `ipFamilies` and `ipFamilyPolicy` for a single-stack IPv4 cluster.
//!
//! # Not here
//!
//! * Allocating `clusterIP` and `nodePort`s, and carrying them over on updates that leave them out
//!   (upstream's `patchAllocatedValues`): the Service allocator's job. `ipFamilies` is derived from
//!   the allocated IP when there is one, else `IPv4`.
//! * The ServiceAccount admission's projected token volume (`kube-api-access-<random>`): it has a
//!   random name, so it belongs to the admission step that creates the token, not to defaulting.
//! * Rounding resource quantities up to milli-units, and the volume-plugin defaults of iSCSI, RBD,
//!   Azure Disk and ScaleIO volumes.
//! * Status fields other than a Namespace's phase and a Pod's QoS class: resetting status on
//!   create is the registry's job.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// The volume sources a pod volume may name (`VolumeSource`'s fields), in upstream's order.
pub(crate) const VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

/// File mode of projected files (secret, configMap, downwardAPI, projected volumes): 0644.
const VOLUME_FILE_MODE_DEFAULT: i64 = 0o644;
/// Seconds a pod may take to stop.
const TERMINATION_GRACE_PERIOD_SECONDS_DEFAULT: i64 = 30;
/// Seconds a pod stays bound to a not-ready or unreachable node (DefaultTolerationSeconds).
const NODE_TOLERATION_SECONDS_DEFAULT: i64 = 300;
/// Lifetime of a projected service-account token.
const TOKEN_EXPIRATION_SECONDS_DEFAULT: i64 = 3600;
/// ClientIP session-affinity timeout (3 hours).
const CLIENT_IP_TIMEOUT_SECONDS_DEFAULT: i64 = 10_800;

/// Fills in upstream's defaults for an object of API `group` and `kind`, in place. Kinds without
/// defaults, and objects that are not JSON objects, are left alone. Idempotent, never panics.
pub fn apply_defaults(group: &str, kind: &str, object: &mut Value) {
    let Some(root) = object.as_object_mut() else { return };
    match (group, kind) {
        ("apps", "Deployment") => deployment(root),
        ("apps", "ReplicaSet") => replica_set(root),
        ("apps", "StatefulSet") => stateful_set(root),
        ("apps", "DaemonSet") => daemon_set(root),
        ("batch", "Job") => job(root),
        ("batch", "CronJob") => cron_job(root),
        ("", "Pod") => pod(root),
        ("", "PodTemplate") => pod_template(root, "template"),
        ("", "ReplicationController") => replication_controller(root),
        ("", "Service") => service(root),
        ("", "Namespace") => namespace(root),
        // The stored version's defaults: the API defaults objects after converting them to it.
        ("autoscaling", "HorizontalPodAutoscaler") => horizontal_pod_autoscaler_v2(root),
        _ => {}
    }
}

/// Create-only steps of upstream's strategies, for the object about to be stored (its name and
/// uid already set): a Job's generated selector and template labels (unless
/// `spec.manualSelector`), a Namespace's `kubernetes` finalizer. Then [`apply_defaults`] again,
/// since upstream defaults the stored object when it reads it back (a Job's labels come from its
/// generated template labels that way). Idempotent.
pub fn prepare_for_create(group: &str, kind: &str, object: &mut Value) {
    if let Some(root) = object.as_object_mut() {
        match (group, kind) {
            ("batch", "Job") => generate_job_selector(root),
            ("", "Namespace") => add_kubernetes_finalizer(root),
            _ => {}
        }
    }
    apply_defaults(group, kind, object);
}

// ---------------------------------------------------------------------------------------------
// JSON helpers: Go's notion of "unset" on a JSON map
// ---------------------------------------------------------------------------------------------

/// The object at `key`, created when unset (a Go struct field); `None` when it has another type.
fn child<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    let entry = map.entry(key).or_insert(Value::Null);
    if entry.is_null() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut()
}

/// The object at `key` when present (a Go pointer field), never created.
fn present<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    map.get_mut(key).and_then(Value::as_object_mut)
}

/// Each object in the list at `key` (non-objects skipped).
fn each<'a>(map: &'a mut Map<String, Value>, key: &str) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    map.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten().filter_map(Value::as_object_mut)
}

fn is_unset(map: &Map<String, Value>, key: &str) -> bool {
    map.get(key).is_none_or(Value::is_null)
}

/// Unset, or the empty string: Go's zero value of a plain string field.
fn is_blank(map: &Map<String, Value>, key: &str) -> bool {
    is_unset(map, key) || map.get(key).and_then(Value::as_str) == Some("")
}

/// A pointer field: set when absent or `null`.
fn default_unset(map: &mut Map<String, Value>, key: &str, value: impl Into<Value>) {
    if is_unset(map, key) {
        map.insert(key.to_string(), value.into());
    }
}

/// A plain Go string: set when absent, `null` or `""`.
fn default_string(map: &mut Map<String, Value>, key: &str, value: &str) {
    if is_blank(map, key) {
        map.insert(key.to_string(), value.into());
    }
}

/// A plain Go number: set when absent, `null` or `0`.
fn default_number(map: &mut Map<String, Value>, key: &str, value: i64) {
    if is_unset(map, key) || map.get(key).and_then(Value::as_f64) == Some(0.0) {
        map.insert(key.to_string(), value.into());
    }
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> &'a str {
    map.get(key).and_then(Value::as_str).unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// autoscaling/v2
// ---------------------------------------------------------------------------------------------

/// `minReplicas` 1 and, without any metric, the 80% CPU utilization target (upstream's v2
/// defaults; the `behavior` rules are not filled in).
fn horizontal_pod_autoscaler_v2(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else { return };
    default_unset(spec, "minReplicas", 1);
    if spec.get("metrics").is_none_or(|m| m.is_null() || m.as_array().is_some_and(Vec::is_empty)) {
        spec.insert(
            "metrics".into(),
            json!([{
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": crate::conversion::DEFAULT_CPU_UTILIZATION},
                },
            }]),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// apps/v1
// ---------------------------------------------------------------------------------------------

fn deployment(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else { return };
    default_unset(spec, "replicas", 1);
    if let Some(strategy) = child(spec, "strategy") {
        default_string(strategy, "type", "RollingUpdate");
        if text(strategy, "type") == "RollingUpdate"
            && let Some(rolling_update) = child(strategy, "rollingUpdate")
        {
            default_unset(rolling_update, "maxUnavailable", "25%");
            default_unset(rolling_update, "maxSurge", "25%");
        }
    }
    default_unset(spec, "revisionHistoryLimit", 10);
    default_unset(spec, "progressDeadlineSeconds", 600);
    pod_template(spec, "template");
}

fn replica_set(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else { return };
    default_unset(spec, "replicas", 1);
    pod_template(spec, "template");
}

fn stateful_set(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else { return };
    default_string(spec, "podManagementPolicy", "OrderedReady");
    if let Some(strategy) = child(spec, "updateStrategy") {
        if is_blank(strategy, "type") {
            strategy.insert("type".into(), "RollingUpdate".into());
            child(strategy, "rollingUpdate");
        }
        if text(strategy, "type") == "RollingUpdate"
            && let Some(rolling_update) = present(strategy, "rollingUpdate")
        {
            default_unset(rolling_update, "partition", 0);
            // MaxUnavailableStatefulSet is beta, on by default, in 1.35.
            default_unset(rolling_update, "maxUnavailable", 1);
        }
    }
    if let Some(retention) = child(spec, "persistentVolumeClaimRetentionPolicy") {
        default_string(retention, "whenDeleted", "Retain");
        default_string(retention, "whenScaled", "Retain");
    }
    default_unset(spec, "replicas", 1);
    default_unset(spec, "revisionHistoryLimit", 10);
    for claim in each(spec, "volumeClaimTemplates") {
        default_string(claim, "apiVersion", "v1");
        default_string(claim, "kind", "PersistentVolumeClaim");
        if let Some(claim_spec) = child(claim, "spec") {
            default_unset(claim_spec, "volumeMode", "Filesystem");
        }
        if let Some(status) = child(claim, "status") {
            default_string(status, "phase", "Pending");
        }
    }
    pod_template(spec, "template");
}

fn daemon_set(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else { return };
    if let Some(strategy) = child(spec, "updateStrategy") {
        default_string(strategy, "type", "RollingUpdate");
        if text(strategy, "type") == "RollingUpdate"
            && let Some(rolling_update) = child(strategy, "rollingUpdate")
        {
            default_unset(rolling_update, "maxUnavailable", 1);
            default_unset(rolling_update, "maxSurge", 0);
        }
    }
    default_unset(spec, "revisionHistoryLimit", 10);
    pod_template(spec, "template");
}

// ---------------------------------------------------------------------------------------------
// batch/v1
// ---------------------------------------------------------------------------------------------

fn job(root: &mut Map<String, Value>) {
    let template_labels = root
        .get("spec")
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .filter(|l| l.is_object())
        .cloned();
    let Some(spec) = child(root, "spec") else { return };
    if is_unset(spec, "completions") && is_unset(spec, "parallelism") {
        spec.insert("completions".into(), 1.into());
        spec.insert("parallelism".into(), 1.into());
    }
    default_unset(spec, "parallelism", 1);
    if is_unset(spec, "backoffLimit") {
        let limit = if is_unset(spec, "backoffLimitPerIndex") { 6 } else { i64::from(i32::MAX) };
        spec.insert("backoffLimit".into(), limit.into());
    }
    default_unset(spec, "completionMode", "NonIndexed");
    default_unset(spec, "suspend", false);
    let has_failure_policy = !is_unset(spec, "podFailurePolicy");
    default_unset(spec, "podReplacementPolicy", if has_failure_policy { "Failed" } else { "TerminatingOrFailed" });
    default_unset(spec, "manualSelector", false);
    pod_failure_policy(spec);
    pod_template(spec, "template");

    // A Job without labels takes its template's.
    if let (Some(labels), Some(metadata)) = (template_labels, child(root, "metadata")) {
        let empty = metadata.get("labels").is_none_or(|l| l.as_object().is_some_and(Map::is_empty) || l.is_null());
        if empty {
            metadata.insert("labels".into(), labels);
        }
    }
}

/// `onPodConditions[*].status` defaults to `True`.
fn pod_failure_policy(spec: &mut Map<String, Value>) {
    let Some(policy) = present(spec, "podFailurePolicy") else { return };
    for rule in each(policy, "rules") {
        for pattern in each(rule, "onPodConditions") {
            default_string(pattern, "status", "True");
        }
    }
}

fn cron_job(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else { return };
    default_string(spec, "concurrencyPolicy", "Allow");
    default_unset(spec, "suspend", false);
    default_unset(spec, "successfulJobsHistoryLimit", 3);
    default_unset(spec, "failedJobsHistoryLimit", 1);
    if let Some(job_spec) = child(spec, "jobTemplate").and_then(|t| child(t, "spec")) {
        pod_failure_policy(job_spec);
        pod_template(job_spec, "template");
    }
}

/// Upstream's `generateSelector`, on create unless `spec.manualSelector` is true: the template
/// gets `batch.kubernetes.io/job-name`, `job-name`, `batch.kubernetes.io/controller-uid` and
/// `controller-uid` labels (those already set are kept; validation then refuses conflicts) and
/// the selector matches `batch.kubernetes.io/controller-uid`. Needs `metadata.uid`.
fn generate_job_selector(root: &mut Map<String, Value>) {
    let metadata = root.get("metadata").and_then(Value::as_object);
    let name = metadata.map(|m| text(m, "name").to_string()).unwrap_or_default();
    let uid = metadata.map(|m| text(m, "uid").to_string()).unwrap_or_default();
    let Some(spec) = child(root, "spec") else { return };
    if spec.get("manualSelector") == Some(&Value::Bool(true)) {
        return;
    }
    if let Some(labels) = child(spec, "template").and_then(|t| child(t, "metadata")).and_then(|m| child(m, "labels")) {
        for (label, value) in [
            ("job-name", &name),
            ("batch.kubernetes.io/job-name", &name),
            ("controller-uid", &uid),
            ("batch.kubernetes.io/controller-uid", &uid),
        ] {
            labels.entry(label).or_insert_with(|| value.as_str().into());
        }
    }
    if let Some(match_labels) = child(spec, "selector").and_then(|s| child(s, "matchLabels")) {
        match_labels.entry("batch.kubernetes.io/controller-uid").or_insert_with(|| uid.as_str().into());
    }
}

// ---------------------------------------------------------------------------------------------
// core/v1
// ---------------------------------------------------------------------------------------------

fn namespace(root: &mut Map<String, Value>) {
    let metadata = child(root, "metadata");
    let name = metadata.as_ref().map(|m| text(m, "name").to_string()).unwrap_or_default();
    let created = metadata.as_ref().is_some_and(|m| !text(m, "uid").is_empty());
    if let Some(metadata) = metadata
        && !name.is_empty()
        && let Some(labels) = child(metadata, "labels")
    {
        labels.insert("kubernetes.io/metadata.name".into(), name.into());
    }
    if let Some(status) = child(root, "status") {
        default_string(status, "phase", "Active");
    }
    // Upstream adds the finalizer in its create strategy only: later updates may remove it (the
    // namespace controller does). An object without a uid has not been created yet.
    if !created {
        add_kubernetes_finalizer(root);
    }
}

fn add_kubernetes_finalizer(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else { return };
    let finalizers = spec.entry("finalizers").or_insert(Value::Null);
    if finalizers.is_null() {
        *finalizers = json!([]);
    }
    if let Some(list) = finalizers.as_array_mut()
        && !list.iter().any(|f| f == "kubernetes")
    {
        list.push("kubernetes".into());
    }
}

fn replication_controller(root: &mut Map<String, Value>) {
    let template_labels = root
        .get("spec")
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .cloned();
    if let Some(labels) = template_labels.filter(Value::is_object) {
        let empty = |v: Option<&Value>| v.is_none_or(|l| l.is_null() || l.as_object().is_some_and(Map::is_empty));
        if let Some(spec) = child(root, "spec")
            && empty(spec.get("selector"))
        {
            spec.insert("selector".into(), labels.clone());
        }
        if let Some(metadata) = child(root, "metadata")
            && empty(metadata.get("labels"))
        {
            metadata.insert("labels".into(), labels);
        }
    }
    let Some(spec) = child(root, "spec") else { return };
    default_unset(spec, "replicas", 1);
    if present(spec, "template").is_some() {
        pod_template(spec, "template");
    }
}

fn service(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else { return };
    default_string(spec, "sessionAffinity", "None");
    match text(spec, "sessionAffinity") {
        "None" => {
            spec.remove("sessionAffinityConfig");
        }
        "ClientIP" => {
            let config = spec.get("sessionAffinityConfig").filter(|c| !c.is_null());
            let timeout = config.and_then(|c| c.get("clientIP")).and_then(|c| c.get("timeoutSeconds"));
            if config.is_none_or(Value::is_object) && timeout.is_none_or(Value::is_null) {
                spec.insert(
                    "sessionAffinityConfig".into(),
                    json!({"clientIP": {"timeoutSeconds": CLIENT_IP_TIMEOUT_SECONDS_DEFAULT}}),
                );
            }
        }
        _ => {}
    }
    default_string(spec, "type", "ClusterIP");
    for port in each(spec, "ports") {
        default_string(port, "protocol", "TCP");
        let target_unset = match port.get("targetPort") {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(number) => number.as_f64() == Some(0.0),
        };
        if target_unset && let Some(number) = port.get("port").filter(|p| p.is_i64() || p.is_u64()).cloned() {
            port.insert("targetPort".into(), number);
        }
    }
    let kind = text(spec, "type").to_string();
    let has_external_ips = spec.get("externalIPs").and_then(Value::as_array).is_some_and(|l| !l.is_empty());
    let externally_accessible =
        kind == "LoadBalancer" || kind == "NodePort" || (kind == "ClusterIP" && has_external_ips);
    if externally_accessible {
        default_string(spec, "externalTrafficPolicy", "Cluster");
    }
    if matches!(kind.as_str(), "ClusterIP" | "NodePort" | "LoadBalancer") {
        default_unset(spec, "internalTrafficPolicy", "Cluster");
    }
    if kind == "LoadBalancer" {
        default_unset(spec, "allocateLoadBalancerNodePorts", true);
    }

    // The registry's view of cluster IPs: `clusterIP` and `clusterIPs` in sync, and the IP
    // families of a single-stack IPv4 cluster.
    if kind != "ExternalName" {
        let cluster_ip = text(spec, "clusterIP").to_string();
        let cluster_ips_empty =
            spec.get("clusterIPs").is_none_or(|l| l.is_null() || l.as_array().is_some_and(Vec::is_empty));
        if !cluster_ip.is_empty() && cluster_ips_empty {
            spec.insert("clusterIPs".into(), json!([cluster_ip]));
        }
        if cluster_ip.is_empty()
            && let Some(first) = spec.get("clusterIPs").and_then(Value::as_array).and_then(|l| l.first()).cloned()
            && first.is_string()
        {
            spec.insert("clusterIP".into(), first);
        }
        let headless = text(spec, "clusterIP") == "None";
        let selectorless = spec.get("selector").is_none_or(|s| s.as_object().is_none_or(Map::is_empty));
        let primary = match text(spec, "clusterIP").parse::<std::net::IpAddr>() {
            Ok(ip) if ip.is_ipv6() => "IPv6",
            _ => "IPv4",
        };
        if headless && selectorless {
            default_unset(spec, "ipFamilyPolicy", "RequireDualStack");
            let families_unset =
                spec.get("ipFamilies").is_none_or(|l| l.is_null() || l.as_array().is_some_and(Vec::is_empty));
            if families_unset {
                spec.insert("ipFamilies".into(), json!(["IPv4"]));
            }
            let require_dual = text(spec, "ipFamilyPolicy") == "RequireDualStack";
            if let Some(families) = spec.get_mut("ipFamilies").and_then(Value::as_array_mut)
                && families.len() == 1
                && require_dual
            {
                let other = if families[0] == "IPv6" { "IPv4" } else { "IPv6" };
                families.push(other.into());
            }
        } else {
            default_unset(spec, "ipFamilyPolicy", "SingleStack");
            let families_unset =
                spec.get("ipFamilies").is_none_or(|l| l.is_null() || l.as_array().is_some_and(Vec::is_empty));
            if families_unset {
                spec.insert("ipFamilies".into(), json!([primary]));
            }
        }
    }

    if kind == "LoadBalancer"
        && let Some(status) = present(root, "status")
        && let Some(load_balancer) = present(status, "loadBalancer")
    {
        for ingress in each(load_balancer, "ingress") {
            if !text(ingress, "ip").is_empty() {
                default_unset(ingress, "ipMode", "VIP");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pods and pod templates
// ---------------------------------------------------------------------------------------------

/// A `PodTemplateSpec` at `key` of `parent`: its pod spec gets the PodSpec defaults (not the
/// Pod-only ones).
fn pod_template(parent: &mut Map<String, Value>, key: &str) {
    if let Some(spec) = child(parent, key).and_then(|t| child(t, "spec")) {
        pod_spec(spec);
    }
}

fn pod(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else { return };
    pod_spec(spec);

    // SetDefaults_Pod: requests default to limits; service links on; host-network ports.
    let host_network = spec.get("hostNetwork") == Some(&Value::Bool(true));
    for list in ["containers", "initContainers"] {
        for container in each(spec, list) {
            if let Some(resources) = present(container, "resources")
                && let Some(limits) = resources.get("limits").and_then(Value::as_object).cloned()
                && let Some(requests) = child(resources, "requests")
            {
                for (resource, quantity) in limits {
                    requests.entry(resource).or_insert(quantity);
                }
            }
            if host_network {
                for port in each(container, "ports") {
                    let unset = port.get("hostPort").is_none_or(|p| p.is_null() || p.as_f64() == Some(0.0));
                    if unset && let Some(container_port) = port.get("containerPort").cloned() {
                        port.insert("hostPort".into(), container_port);
                    }
                }
            }
        }
    }
    default_unset(spec, "enableServiceLinks", true);

    // Admission (Priority, ServiceAccount, DefaultTolerationSeconds).
    let priority = match text(spec, "priorityClassName") {
        "" => Some(0),
        "system-cluster-critical" => Some(2_000_000_000),
        "system-node-critical" => Some(2_000_001_000),
        _ => None,
    };
    if let Some(priority) = priority {
        default_unset(spec, "priority", priority);
    }
    default_unset(spec, "preemptionPolicy", "PreemptLowerPriority");
    if is_blank(spec, "serviceAccountName") && is_blank(spec, "serviceAccount") {
        spec.insert("serviceAccountName".into(), "default".into());
        spec.insert("serviceAccount".into(), "default".into());
    }
    default_node_tolerations(spec);

    // The strategy's QoS class, kept in status.
    let qos = qos_class(&*spec);
    if let Some(status) = present(root, "status") {
        default_string(status, "qosClass", qos);
    }
}

/// `DefaultTolerationSeconds`: tolerate `not-ready` and `unreachable` nodes for 300 s unless the
/// pod already tolerates them.
fn default_node_tolerations(spec: &mut Map<String, Value>) {
    let tolerations = spec.entry("tolerations").or_insert(Value::Null);
    if tolerations.is_null() {
        *tolerations = json!([]);
    }
    let Some(list) = tolerations.as_array_mut() else { return };
    for taint in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
        let tolerated = list.iter().any(|t| {
            let field = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("");
            (field("key") == taint || field("key").is_empty())
                && (field("effect") == "NoExecute" || field("effect").is_empty())
        });
        if !tolerated {
            list.push(json!({
                "key": taint,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": NODE_TOLERATION_SECONDS_DEFAULT,
            }));
        }
    }
}

/// `SetDefaults_PodSpec` and the defaults of everything inside a pod spec.
fn pod_spec(spec: &mut Map<String, Value>) {
    default_string(spec, "dnsPolicy", "ClusterFirst");
    default_string(spec, "restartPolicy", "Always");
    default_unset(spec, "securityContext", json!({}));
    default_unset(spec, "terminationGracePeriodSeconds", TERMINATION_GRACE_PERIOD_SECONDS_DEFAULT);
    default_string(spec, "schedulerName", "default-scheduler");

    // `serviceAccount` is the deprecated alias of `serviceAccountName`; the API shows both.
    let name = text(spec, "serviceAccountName");
    let alias = text(spec, "serviceAccount");
    let account = if name.is_empty() { alias } else { name }.to_string();
    let strings_only =
        ["serviceAccountName", "serviceAccount"].iter().all(|k| spec.get(*k).is_none_or(Value::is_string));
    if !account.is_empty() && strings_only {
        spec.insert("serviceAccountName".into(), account.clone().into());
        spec.insert("serviceAccount".into(), account.into());
    }

    for volume in each(spec, "volumes") {
        volume_defaults(volume);
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for container in each(spec, list) {
            container_defaults(container);
        }
    }
}

fn volume_defaults(volume: &mut Map<String, Value>) {
    if VOLUME_SOURCES.iter().all(|source| is_unset(volume, source)) {
        volume.insert("emptyDir".into(), json!({}));
    }
    if let Some(host_path) = present(volume, "hostPath") {
        default_unset(host_path, "type", "");
    }
    for source in ["secret", "configMap"] {
        if let Some(source) = present(volume, source) {
            default_unset(source, "defaultMode", VOLUME_FILE_MODE_DEFAULT);
        }
    }
    if let Some(downward) = present(volume, "downwardAPI") {
        default_unset(downward, "defaultMode", VOLUME_FILE_MODE_DEFAULT);
        downward_items(downward);
    }
    if let Some(projected) = present(volume, "projected") {
        default_unset(projected, "defaultMode", VOLUME_FILE_MODE_DEFAULT);
        for source in each(projected, "sources") {
            if let Some(downward) = present(source, "downwardAPI") {
                downward_items(downward);
            }
            if let Some(token) = present(source, "serviceAccountToken") {
                default_unset(token, "expirationSeconds", TOKEN_EXPIRATION_SECONDS_DEFAULT);
            }
        }
    }
    if let Some(claim_spec) =
        present(volume, "ephemeral").and_then(|e| present(e, "volumeClaimTemplate")).and_then(|t| present(t, "spec"))
    {
        default_unset(claim_spec, "volumeMode", "Filesystem");
    }
}

fn downward_items(downward: &mut Map<String, Value>) {
    for item in each(downward, "items") {
        if let Some(field_ref) = present(item, "fieldRef") {
            default_string(field_ref, "apiVersion", "v1");
        }
    }
}

fn container_defaults(container: &mut Map<String, Value>) {
    if is_blank(container, "imagePullPolicy") {
        let policy =
            if image_tag(text(container, "image")).as_deref() == Some("latest") { "Always" } else { "IfNotPresent" };
        container.insert("imagePullPolicy".into(), policy.into());
    }
    default_string(container, "terminationMessagePath", "/dev/termination-log");
    default_string(container, "terminationMessagePolicy", "File");
    for port in each(container, "ports") {
        default_string(port, "protocol", "TCP");
    }
    for variable in each(container, "env") {
        if let Some(field_ref) = present(variable, "valueFrom").and_then(|v| present(v, "fieldRef")) {
            default_string(field_ref, "apiVersion", "v1");
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = present(container, probe) {
            default_number(probe, "timeoutSeconds", 1);
            default_number(probe, "periodSeconds", 10);
            default_number(probe, "successThreshold", 1);
            default_number(probe, "failureThreshold", 3);
            http_get_defaults(probe);
        }
    }
    if let Some(lifecycle) = present(container, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(handler) = present(lifecycle, hook) {
                http_get_defaults(handler);
            }
        }
    }
}

fn http_get_defaults(handler: &mut Map<String, Value>) {
    if let Some(http_get) = present(handler, "httpGet") {
        default_string(http_get, "path", "/");
        default_string(http_get, "scheme", "HTTP");
    }
}

/// The tag `parsers.ParseImageName` finds in an image reference: the explicit tag, `latest` when
/// there is neither tag nor digest, and `None` when there is only a digest or the reference does
/// not parse (upstream then ignores the error: the pull policy becomes `IfNotPresent`).
pub fn image_tag(image: &str) -> Option<String> {
    if image.is_empty() || image.len() > 255 || image.chars().any(char::is_whitespace) {
        return None;
    }
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    if digest.is_some_and(|d| !valid_digest(d)) {
        return None;
    }
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match name[last_slash..].rfind(':') {
        Some(colon) => (&name[..last_slash + colon], Some(&name[last_slash + colon + 1..])),
        None => (name, None),
    };
    if !valid_repository(repository) || tag.is_some_and(|t| !valid_tag(t)) {
        return None;
    }
    match (tag, digest) {
        (Some(tag), _) => Some(tag.to_string()),
        (None, None) => Some("latest".to_string()),
        (None, Some(_)) => None,
    }
}

/// `[domain/]path`, where a first component with `.` or `:`, `localhost`, or upper case letters is
/// a registry domain (`host[:port]`), and path components are lower-case
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn valid_repository(repository: &str) -> bool {
    let mut components: Vec<&str> = repository.split('/').collect();
    let first = components[0];
    let is_domain = components.len() > 1
        && (first.contains('.')
            || first.contains(':')
            || first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase()));
    if is_domain {
        let domain = components.remove(0);
        let (host, port) = match domain.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        };
        let host_ok = host.split('.').all(|label| {
            !label.is_empty()
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
        if !host_ok || port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
            return false;
        }
    }
    !components.is_empty() && components.iter().all(|component| valid_path_component(component))
}

fn valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        // A separator: `.`, `_`, `__`, or one or more `-`, between alphanumerics.
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        if !(separator == "." || separator == "_" || separator == "__" || separator.bytes().all(|b| b == b'-')) {
            return false;
        }
    }
    true
}

/// `[\w][\w.-]{0,127}`
fn valid_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && word(bytes[0])
        && bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-')
}

/// `algorithm:hex`, the hex part at least 32 characters.
fn valid_digest(digest: &str) -> bool {
    match digest.split_once(':') {
        Some((algorithm, hex)) => {
            !algorithm.is_empty()
                && algorithm.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'.'))
                && hex.len() >= 32
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => false,
    }
}

/// The pod's QoS class (`qos.GetPodQOS`) from its containers' and init containers' CPU and memory
/// requests and limits: `BestEffort` with none, `Guaranteed` when every container limits both and
/// the summed requests equal the summed limits, `Burstable` otherwise.
fn qos_class(spec: &Map<String, Value>) -> &'static str {
    let mut requests: BTreeMap<&str, i128> = BTreeMap::new();
    let mut limits: BTreeMap<&str, i128> = BTreeMap::new();
    let mut guaranteed = true;
    for list in ["containers", "initContainers"] {
        for container in spec.get(list).and_then(Value::as_array).into_iter().flatten() {
            let amount = |kind: &str, resource: &str| {
                container
                    .get("resources")
                    .and_then(|r| r.get(kind))
                    .and_then(|q| q.get(resource))
                    .and_then(quantity_nanos)
                    .filter(|q| *q > 0)
            };
            let mut limited = 0;
            for resource in ["cpu", "memory"] {
                if let Some(amount) = amount("requests", resource) {
                    let sum = requests.entry(resource).or_default();
                    *sum = sum.saturating_add(amount);
                }
                if let Some(amount) = amount("limits", resource) {
                    let sum = limits.entry(resource).or_default();
                    *sum = sum.saturating_add(amount);
                    limited += 1;
                }
            }
            if limited < 2 {
                guaranteed = false;
            }
        }
    }
    if requests.is_empty() && limits.is_empty() {
        "BestEffort"
    } else if guaranteed && requests == limits {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// A resource quantity (`100m`, `1.5Gi`, `2e3`) in billionths, rounded up; `None` when it does
/// not parse (validation's business).
fn quantity_nanos(value: &Value) -> Option<i128> {
    let text = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let (exponent10, binary_power): (i32, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        other => (other.strip_prefix(['e', 'E'])?.parse::<i32>().ok().filter(|e| e.abs() <= 60)?, 0),
    };
    let digits: String = format!("{whole}{fraction}");
    if digits.len() > 30 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mantissa: i128 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    let scale = exponent10 + 9 - fraction.len() as i32;
    let mut nanos = if scale >= 0 {
        mantissa.checked_mul(10_i128.checked_pow(scale.unsigned_abs())?)?
    } else if scale < -30 {
        i128::from(mantissa > 0) // below a billionth: rounded up, as upstream rounds
    } else {
        let divisor = 10_i128.pow(scale.unsigned_abs());
        (mantissa + divisor - 1) / divisor
    };
    nanos = nanos.checked_mul(1_i128 << binary_power)?;
    Some(if negative { -nanos } else { nanos })
}

#[cfg(test)]
mod tests {
    use super::test_manifests::{any_json, graft, manifests};
    use super::*;
    use proptest::prelude::*;

    fn defaulted(group: &str, kind: &str, mut object: Value) -> Value {
        apply_defaults(group, kind, &mut object);
        object
    }

    pub(crate) fn kubia_deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "kubia", "namespace": "default"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "kubia"}},
                "template": {
                    "metadata": {"name": "kubia", "labels": {"app": "kubia"}},
                    "spec": {"containers": [{"image": "luksa/kubia:v1", "name": "nodejs"}]},
                },
            },
        })
    }

    #[test]
    fn deployment_gets_the_defaults_kubectl_shows() {
        let d = defaulted("apps", "Deployment", kubia_deployment());
        assert_eq!(d["spec"]["replicas"], 3);
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        assert_eq!(
            d["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        );
        assert!(d["spec"].get("minReadySeconds").is_none());
        let pod_spec = &d["spec"]["template"]["spec"];
        assert_eq!(pod_spec["restartPolicy"], "Always");
        assert_eq!(pod_spec["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod_spec["terminationGracePeriodSeconds"], 30);
        assert_eq!(pod_spec["schedulerName"], "default-scheduler");
        assert_eq!(pod_spec["securityContext"], json!({}));
        // Pod-only defaults stay out of templates.
        assert!(pod_spec.get("enableServiceLinks").is_none());
        assert!(pod_spec.get("priority").is_none());
        let container = &pod_spec["containers"][0];
        assert_eq!(container["imagePullPolicy"], "IfNotPresent");
        assert_eq!(container["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(container["terminationMessagePolicy"], "File");
    }

    #[test]
    fn deployment_replicas_default_to_one() {
        let mut d = kubia_deployment();
        d["spec"].as_object_mut().expect("object").remove("replicas");
        assert_eq!(defaulted("apps", "Deployment", d)["spec"]["replicas"], 1);
    }

    #[test]
    fn recreate_strategy_gets_no_rolling_update() {
        let mut d = kubia_deployment();
        d["spec"]["strategy"] = json!({"type": "Recreate"});
        assert_eq!(defaulted("apps", "Deployment", d)["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn rolling_update_keeps_given_values_and_fills_the_other() {
        let mut d = kubia_deployment();
        d["spec"]["strategy"] = json!({"rollingUpdate": {"maxSurge": 1}});
        assert_eq!(
            defaulted("apps", "Deployment", d)["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}})
        );
    }

    #[test]
    fn image_pull_policy_is_always_for_latest_or_untagged_images() {
        for (image, policy) in [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("docker.io/library/nginx", "Always"),
            ("localhost:5000/app", "Always"),
            ("nginx:1.27", "IfNotPresent"),
            ("registry.example.com:5000/team/app:v2", "IfNotPresent"),
            ("nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "IfNotPresent"),
            ("nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Always"),
            ("Nginx", "IfNotPresent"),
            ("", "IfNotPresent"),
        ] {
            let mut container = json!({"name": "c", "image": image}).as_object().expect("object").clone();
            container_defaults(&mut container);
            assert_eq!(container["imagePullPolicy"], policy, "{image}");
        }
    }

    #[test]
    fn probes_get_timeouts_thresholds_and_http_scheme() {
        let mut d = kubia_deployment();
        d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] =
            json!({"httpGet": {"port": 8080}, "periodSeconds": 1});
        let d = defaulted("apps", "Deployment", d);
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"],
            json!({
                "httpGet": {"path": "/", "port": 8080, "scheme": "HTTP"},
                "periodSeconds": 1, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3,
            })
        );
    }

    #[test]
    fn container_ports_default_to_tcp() {
        let mut d = kubia_deployment();
        d["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([{"containerPort": 8080}]);
        let d = defaulted("apps", "Deployment", d);
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["ports"],
            json!([{"containerPort": 8080, "protocol": "TCP"}])
        );
    }

    #[test]
    fn pod_gets_admission_defaults_and_a_qos_class() {
        let p = defaulted(
            "",
            "Pod",
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}, "status": {"phase": "Pending"}}),
        );
        let spec = &p["spec"];
        assert_eq!(spec["enableServiceLinks"], true);
        assert_eq!(spec["priority"], 0);
        assert_eq!(spec["preemptionPolicy"], "PreemptLowerPriority");
        assert_eq!(spec["serviceAccountName"], "default");
        assert_eq!(spec["serviceAccount"], "default");
        assert_eq!(
            spec["tolerations"],
            json!([
                {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300},
            ])
        );
        assert_eq!(p["status"]["qosClass"], "BestEffort");
    }

    #[test]
    fn pod_requests_default_to_limits_and_make_it_guaranteed() {
        let p = defaulted(
            "",
            "Pod",
            json!({"spec": {"containers": [{"name": "c", "image": "x", "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}}]}, "status": {}}),
        );
        assert_eq!(p["spec"]["containers"][0]["resources"]["requests"], json!({"cpu": "500m", "memory": "128Mi"}));
        assert_eq!(p["status"]["qosClass"], "Guaranteed");
        let burstable = defaulted(
            "",
            "Pod",
            json!({"spec": {"containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": "0.5"}, "limits": {"cpu": "1", "memory": "1Gi"}}}]}, "status": {}}),
        );
        assert_eq!(burstable["status"]["qosClass"], "Burstable");
    }

    #[test]
    fn quantities_compare_across_notations() {
        let q = |s: &str| quantity_nanos(&json!(s));
        assert_eq!(q("1"), q("1000m"));
        assert_eq!(q("1Ki"), q("1024"));
        assert_eq!(q("1.5Gi"), q("1536Mi"));
        assert_eq!(q("2e3"), q("2k"));
        assert_eq!(q("1n"), Some(1));
        assert_eq!(q("x"), None);
        assert_eq!(q("1Q"), None);
    }

    #[test]
    fn service_gets_cluster_ip_defaults_but_no_cluster_ip() {
        let s = defaulted(
            "",
            "Service",
            json!({"metadata": {"name": "kubia"}, "spec": {"selector": {"app": "kubia"}, "ports": [{"port": 80}, {"port": 443, "targetPort": "https"}]}}),
        );
        assert_eq!(
            s["spec"],
            json!({
                "selector": {"app": "kubia"},
                "ports": [
                    {"port": 80, "protocol": "TCP", "targetPort": 80},
                    {"port": 443, "protocol": "TCP", "targetPort": "https"},
                ],
                "type": "ClusterIP",
                "sessionAffinity": "None",
                "internalTrafficPolicy": "Cluster",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
            })
        );
    }

    #[test]
    fn node_port_service_gets_external_traffic_policy_and_headless_selectorless_gets_both_families() {
        let s = defaulted(
            "",
            "Service",
            json!({"spec": {"type": "NodePort", "selector": {"a": "b"}, "ports": [{"port": 80}]}}),
        );
        assert_eq!(s["spec"]["externalTrafficPolicy"], "Cluster");
        let h = defaulted("", "Service", json!({"spec": {"clusterIP": "None"}}));
        assert_eq!(h["spec"]["clusterIPs"], json!(["None"]));
        assert_eq!(h["spec"]["ipFamilyPolicy"], "RequireDualStack");
        assert_eq!(h["spec"]["ipFamilies"], json!(["IPv4", "IPv6"]));
        let e = defaulted("", "Service", json!({"spec": {"type": "ExternalName", "externalName": "x.example.com"}}));
        assert!(e["spec"].get("ipFamilies").is_none());
        assert!(e["spec"].get("internalTrafficPolicy").is_none());
    }

    #[test]
    fn job_gets_counts_modes_and_template_labels_on_its_metadata() {
        let mut j = json!({
            "metadata": {"name": "pi", "namespace": "default"},
            "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl:5.34.0"}], "restartPolicy": "Never"}}, "backoffLimit": 4},
        });
        apply_defaults("batch", "Job", &mut j);
        let spec = &j["spec"];
        assert_eq!(spec["completions"], 1);
        assert_eq!(spec["parallelism"], 1);
        assert_eq!(spec["backoffLimit"], 4);
        assert_eq!(spec["completionMode"], "NonIndexed");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["manualSelector"], false);
        assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
        j["metadata"]["uid"] = json!("u-1");
        prepare_for_create("batch", "Job", &mut j);
        assert_eq!(j["spec"]["selector"], json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}}));
        let labels = json!({
            "batch.kubernetes.io/controller-uid": "u-1",
            "batch.kubernetes.io/job-name": "pi",
            "controller-uid": "u-1",
            "job-name": "pi",
        });
        assert_eq!(j["spec"]["template"]["metadata"]["labels"], labels);
        assert_eq!(j["metadata"]["labels"], labels);
    }

    #[test]
    fn job_parallelism_alone_leaves_completions_unset() {
        let j = defaulted("batch", "Job", json!({"spec": {"parallelism": 3}}));
        assert!(j["spec"].get("completions").is_none());
        assert_eq!(j["spec"]["backoffLimit"], 6);
    }

    #[test]
    fn cron_job_gets_policy_and_history_limits() {
        let c = defaulted(
            "batch",
            "CronJob",
            json!({"spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": {"spec": {}}}}}}),
        );
        assert_eq!(c["spec"]["concurrencyPolicy"], "Allow");
        assert_eq!(c["spec"]["suspend"], false);
        assert_eq!(c["spec"]["successfulJobsHistoryLimit"], 3);
        assert_eq!(c["spec"]["failedJobsHistoryLimit"], 1);
        assert_eq!(c["spec"]["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"], "ClusterFirst");
        // Job defaults are not applied to job templates.
        assert!(c["spec"]["jobTemplate"]["spec"].get("backoffLimit").is_none());
    }

    #[test]
    fn namespace_gets_finalizer_phase_and_name_label_on_create_only() {
        let n = defaulted("", "Namespace", json!({"metadata": {"name": "team"}}));
        assert_eq!(n["spec"], json!({"finalizers": ["kubernetes"]}));
        assert_eq!(n["status"], json!({"phase": "Active"}));
        assert_eq!(n["metadata"]["labels"], json!({"kubernetes.io/metadata.name": "team"}));
        // After create (the object has a uid) the finalizer may be removed and stays removed.
        let finalized =
            defaulted("", "Namespace", json!({"metadata": {"name": "team", "uid": "u"}, "spec": {"finalizers": []}}));
        assert_eq!(finalized["spec"], json!({"finalizers": []}));
        // The label follows the name even if a user changed it.
        let relabelled = defaulted(
            "",
            "Namespace",
            json!({"metadata": {"name": "team", "labels": {"kubernetes.io/metadata.name": "x"}}}),
        );
        assert_eq!(relabelled["metadata"]["labels"]["kubernetes.io/metadata.name"], "team");
    }

    #[test]
    fn stateful_and_daemon_sets_get_their_strategies() {
        let s = defaulted(
            "apps",
            "StatefulSet",
            json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {}}]}}),
        );
        assert_eq!(
            s["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 1}})
        );
        assert_eq!(s["spec"]["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            s["spec"]["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(s["spec"]["volumeClaimTemplates"][0]["status"], json!({"phase": "Pending"}));
        assert_eq!(s["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"], "Filesystem");
        let d = defaulted("apps", "DaemonSet", json!({"spec": {}}));
        assert_eq!(
            d["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
    }

    #[test]
    fn volumes_get_modes_and_an_empty_dir_when_sourceless() {
        let p = defaulted(
            "",
            "Pod",
            json!({"spec": {"containers": [], "volumes": [{"name": "a"}, {"name": "b", "configMap": {"name": "c"}}, {"name": "d", "hostPath": {"path": "/x"}}]}}),
        );
        assert_eq!(p["spec"]["volumes"][0], json!({"name": "a", "emptyDir": {}}));
        assert_eq!(p["spec"]["volumes"][1]["configMap"]["defaultMode"], 420);
        assert_eq!(p["spec"]["volumes"][2]["hostPath"]["type"], "");
    }

    #[test]
    fn wrongly_typed_fields_are_left_for_validation() {
        let d = defaulted("apps", "Deployment", json!({"spec": {"replicas": "3", "strategy": "fast", "template": 5}}));
        assert_eq!(d["spec"]["replicas"], "3");
        assert_eq!(d["spec"]["strategy"], "fast");
        assert_eq!(d["spec"]["template"], 5);
        let mut not_an_object = json!([1, 2]);
        apply_defaults("apps", "Deployment", &mut not_an_object);
        assert_eq!(not_an_object, json!([1, 2]));
    }

    #[test]
    fn defaulting_twice_changes_nothing() {
        for (group, kind, object) in manifests() {
            let once = defaulted(group, kind, object);
            let twice = defaulted(group, kind, once.clone());
            assert_eq!(once, twice, "{kind}");
        }
    }

    proptest! {
        #[test]
        fn defaulting_twice_changes_nothing_on_mangled_manifests(
            which in 0_usize..14,
            path in prop::collection::vec(0_usize..8, 0..6),
            junk in any_json(),
        ) {
            let manifests = manifests();
            let (group, kind, mut object) = manifests[which % manifests.len()].clone();
            graft(&mut object, &path, junk);
            let once = defaulted(group, kind, object);
            let twice = defaulted(group, kind, once.clone());
            prop_assert_eq!(&once, &twice);
        }

        #[test]
        fn image_references_and_quantities_never_panic(text in "\\PC{0,40}", digits in "[0-9.+-]{0,45}[a-zA-Z]{0,2}[0-9-]{0,12}") {
            let _ = image_tag(&text);
            let _ = quantity_nanos(&Value::String(text));
            let _ = quantity_nanos(&Value::String(digits));
        }

        #[test]
        fn defaulting_random_json_never_panics_and_is_idempotent(junk in any_json(), which in 0_usize..14) {
            let (group, kind, _) = manifests()[which % 14].clone();
            let once = defaulted(group, kind, junk);
            prop_assert_eq!(&defaulted(group, kind, once.clone()), &once);
        }
    }
}

/// Manifests and random JSON shared by the defaulting and validation property tests.
#[cfg(test)]
pub(crate) mod test_manifests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    /// A spread of manifests, including odd ones, for the idempotence properties.
    pub fn manifests() -> Vec<(&'static str, &'static str, Value)> {
        vec![
            ("apps", "Deployment", super::tests::kubia_deployment()),
            (
                "apps",
                "Deployment",
                json!({"spec": {"strategy": {"type": "Recreate"}, "template": {"spec": {"hostNetwork": true}}}}),
            ),
            (
                "apps",
                "ReplicaSet",
                json!({"spec": {"template": {"spec": {"containers": [{"image": "a:latest", "ports": [{"containerPort": 1}]}]}}}}),
            ),
            ("apps", "StatefulSet", json!({"spec": {"updateStrategy": {"type": "OnDelete"}}})),
            ("apps", "DaemonSet", json!({"spec": {"updateStrategy": {"type": "OnDelete"}}})),
            (
                "batch",
                "Job",
                json!({"metadata": {"name": "pi", "uid": "u"}, "spec": {"backoffLimitPerIndex": 1, "podFailurePolicy": {"rules": [{"onPodConditions": [{"type": "DisruptionTarget"}]}]}}}),
            ),
            ("batch", "CronJob", json!({"spec": {"schedule": "@daily"}})),
            (
                "",
                "Pod",
                json!({"spec": {"hostNetwork": true, "containers": [{"name": "c", "ports": [{"containerPort": 80}], "resources": {"limits": {"cpu": "1"}}, "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}], "lifecycle": {"preStop": {"httpGet": {"port": 80}}}}], "tolerations": [{"operator": "Exists"}], "volumes": [{"name": "v", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}]}, "status": {}}),
            ),
            (
                "",
                "Service",
                json!({"spec": {"type": "LoadBalancer", "sessionAffinity": "ClientIP", "ports": [{"port": 80, "targetPort": 0}]}, "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}}),
            ),
            ("", "Service", json!({"spec": {"clusterIP": "None", "selector": {"a": "b"}}})),
            ("", "Service", json!({"spec": {"clusterIPs": ["fd00::1"]}})),
            ("", "Namespace", json!({"metadata": {"name": "n"}})),
            ("", "ReplicationController", json!({"spec": {"template": {"metadata": {"labels": {"a": "b"}}}}})),
            ("", "PodTemplate", json!({"template": {}})),
        ]
    }

    /// Random JSON: scalars, nulls, and small nested maps and lists.
    pub fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-3_i64..70_000).prop_map(Value::from),
            prop::sample::select(vec!["", "Always", "None", "RollingUpdate", "25%", "nginx", "TCP"])
                .prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "spec",
                        "template",
                        "containers",
                        "ports",
                        "strategy",
                        "rollingUpdate",
                        "selector",
                        "metadata",
                        "labels",
                        "type",
                        "replicas",
                        "image",
                        "clusterIP",
                        "status",
                        "volumes",
                        "tolerations",
                        "readinessProbe",
                        "httpGet",
                        "resources",
                        "limits",
                        "jobTemplate",
                        "finalizers",
                    ]),
                    inner,
                    0..4,
                )
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
            ]
        })
    }

    /// Replaces the value at a random object path of `object` by `junk`.
    pub fn graft(object: &mut Value, path: &[usize], junk: Value) {
        let Some((first, rest)) = path.split_first() else {
            *object = junk;
            return;
        };
        match object {
            Value::Object(map) if !map.is_empty() => {
                let key = map.keys().nth(first % map.len()).cloned().unwrap_or_default();
                if let Some(next) = map.get_mut(&key) {
                    graft(next, rest, junk);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                let len = items.len();
                graft(&mut items[first % len], rest, junk);
            }
            _ => *object = junk,
        }
    }
}
