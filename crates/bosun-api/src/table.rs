//! Server-side printing: objects become `meta.k8s.io/v1` `Table` documents, the way kube-apiserver
//! 1.35 prints them, so that `kubectl get` (plain, `-o wide`, `-w`, `-A`, `--show-labels`) looks
//! exactly like it does against a real cluster. Everything here is pure: JSON in, JSON out, the
//! current time passed in.
//!
//! # What a Table looks like
//!
//! ```json
//! {"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"1016"},
//!  "columnDefinitions":[{"name":"Name","type":"string","format":"name","description":"…","priority":0}, …],
//!  "rows":[{"cells":["kubia","3/3",3,3,"2s","nodejs","luksa/kubia:v1","app=kubia"],
//!           "object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{…}}}]}
//! ```
//!
//! # Columns and cells
//!
//! * Every column definition carries all five fields (`format` may be `""`).
//! * The server always fills every cell, wide (`priority: 1`) ones included: kubectl hides the
//!   wide columns itself unless `-o wide`. A row's `cells` is as long as the column list, always.
//! * Cells keep upstream's JSON types: counts are numbers, everything else strings (upstream
//!   sometimes declares a column `string` and fills it with a number, e.g. Deployment
//!   `Up-to-date`; that is kept too).
//! * Types without a printer get upstream's default: `Name` (string, format `name`) and
//!   `Created At` (type `date`, an RFC 3339 UTC cell).
//! * Where the real apiserver would have defaulted a field before storing it (a Deployment's
//!   `spec.replicas`, a Service's `type`, a Pod's `phase`...), a missing field prints as its
//!   default, so that an object stored without defaults still prints like a real cluster's.
//! * Malformed objects never panic: a missing or wrongly typed field prints as upstream prints an
//!   unset one (`<none>`, `<unknown>`, `0`, `""`).
//!
//! # Row objects (`?includeObject=`)
//!
//! [`IncludeObject::Metadata`] (the default) puts a `PartialObjectMetadata` in every row; kubectl
//! reads the namespace (`-A`), the labels (`--show-labels`, `-L`) and the name (`-o name`) from it.
//! [`IncludeObject::None`] gives `"object": null`, [`IncludeObject::Object`] the whole object.
//!
//! # Watches
//!
//! A Table watch sends one single-row Table per event. Upstream sends the column definitions on
//! the first event only; [`table`] takes `with_columns` so the caller can do the same (later
//! events get `"columnDefinitions": []`).
//!
//! # Time
//!
//! Ages are [`human_duration`] of `now - timestamp`, exactly upstream's `duration.HumanDuration`;
//! a missing or unparsable timestamp prints `<unknown>`.

use std::fmt::Write as _;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// `apiVersion` of every Table (and of the `PartialObjectMetadata` in its rows).
pub const TABLE_API_VERSION: &str = "meta.k8s.io/v1";

// -------------------------------------------------------------------------------------------------
// includeObject
// -------------------------------------------------------------------------------------------------

/// What each row's `object` holds, from the `includeObject` query parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IncludeObject {
    /// `"object": null`.
    None,
    /// `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{…}}` (the default).
    #[default]
    Metadata,
    /// The whole object, as stored (the caller makes sure `kind`/`apiVersion` are set).
    Object,
}

/// An `includeObject` value other than `None`, `Metadata`, `Object` or empty.
///
/// The HTTP layer answers it with a 400 `BadRequest` Status carrying this message, as upstream does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("includeObject: Invalid value: {value:?}: must be 'Metadata', 'Object', 'None', or empty")]
pub struct InvalidIncludeObject {
    /// The rejected value.
    pub value: String,
}

impl IncludeObject {
    /// Parses the query parameter; absent or empty means [`IncludeObject::Metadata`]. Values are
    /// case-sensitive, as upstream.
    pub fn from_query(value: Option<&str>) -> Result<Self, InvalidIncludeObject> {
        value.unwrap_or("").parse()
    }
}

impl FromStr for IncludeObject {
    type Err = InvalidIncludeObject;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "None" => Ok(IncludeObject::None),
            "Metadata" | "" => Ok(IncludeObject::Metadata),
            "Object" => Ok(IncludeObject::Object),
            other => Err(InvalidIncludeObject { value: other.to_string() }),
        }
    }
}

// -------------------------------------------------------------------------------------------------
// Public API
// -------------------------------------------------------------------------------------------------

/// One column definition of a Table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Column title (kubectl upper-cases it).
    pub name: &'static str,
    /// OpenAPI type: `string`, `integer`, `boolean`, `date`.
    pub type_: &'static str,
    /// `name` for the column holding the object's name, else `""`.
    pub format: &'static str,
    /// 0 = always shown, 1 = only with `-o wide`.
    pub priority: u8,
    /// What the column shows.
    pub description: &'static str,
}

impl Column {
    /// The column definition as it appears in `columnDefinitions`, every field present.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// The columns printed for `kind` in API group `group` (`""` for core).
pub fn columns(group: &str, kind: &str) -> &'static [Column] {
    printer(group, kind).columns
}

/// The `columnDefinitions` for `kind` in API group `group` (`""` for core).
pub fn column_definitions(group: &str, kind: &str) -> Vec<Value> {
    columns(group, kind).iter().map(Column::to_json).collect()
}

/// Whether `kind` has a printer of its own (otherwise it gets `Name` + `Created At`).
pub fn has_custom_printer(group: &str, kind: &str) -> bool {
    !std::ptr::eq(printer(group, kind), &DEFAULT_PRINTER)
}

/// One Table row for `object`: `{"cells":[…],"object":…}`, plus `conditions` for pods that have
/// finished (as upstream). `cells` always has one entry per column.
pub fn row(group: &str, kind: &str, object: &Value, now: SystemTime, include_object: IncludeObject) -> Value {
    let printer = printer(group, kind);
    let now = Now::at(now);
    let mut cells = (printer.cells)(object, &now);
    debug_assert_eq!(cells.len(), printer.columns.len(), "printer for {group}/{kind} filled the wrong number of cells");
    // Never send a ragged row, even if a printer is wrong in a release build.
    cells.resize(printer.columns.len(), Value::Null);

    let mut row = Map::new();
    row.insert("cells".to_string(), Value::Array(cells));
    if let Some(conditions) = printer.conditions.and_then(|conditions| conditions(object)) {
        row.insert("conditions".to_string(), conditions);
    }
    let row_object = match include_object {
        IncludeObject::None => Value::Null,
        IncludeObject::Metadata => partial_object_metadata(object),
        IncludeObject::Object => object.clone(),
    };
    row.insert("object".to_string(), row_object);
    Value::Object(row)
}

/// A whole Table: one row per object, in the given order.
///
/// `list_metadata` becomes the Table's `metadata`: the list's `resourceVersion`/`continue`/
/// `remainingItemCount`, or `{"resourceVersion": <the object's>}` for a single get (anything but
/// a JSON object becomes `{}`). `with_columns: false` leaves `columnDefinitions` empty, for watch
/// events after the first.
pub fn table(
    group: &str,
    kind: &str,
    objects: &[Value],
    list_metadata: Value,
    now: SystemTime,
    include_object: IncludeObject,
    with_columns: bool,
) -> Value {
    let column_definitions = if with_columns { column_definitions(group, kind) } else { Vec::new() };
    let rows: Vec<Value> = objects.iter().map(|object| row(group, kind, object, now, include_object)).collect();
    let metadata = if list_metadata.is_object() { list_metadata } else { Value::Object(Map::new()) };
    json!({
        "kind": "Table",
        "apiVersion": TABLE_API_VERSION,
        "metadata": metadata,
        "columnDefinitions": column_definitions,
        "rows": rows,
    })
}

/// `object` reduced to its metadata: `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1",
/// "metadata":{…}}`. The metadata is copied whole, as upstream does (an object without a metadata
/// map gets `{}`).
pub fn partial_object_metadata(object: &Value) -> Value {
    let metadata = object.get("metadata").filter(|m| m.is_object()).cloned().unwrap_or_else(|| json!({}));
    json!({"kind": "PartialObjectMetadata", "apiVersion": TABLE_API_VERSION, "metadata": metadata})
}

/// A short human-readable duration with 2-3 significant figures, exactly as upstream's
/// `duration.HumanDuration`: `59s`, `119s`, `2m`, `9m59s`, `10m`, `179m`, `3h`, `7h59m`, `8h`,
/// `47h`, `2d`, `7d23h`, `8d`, `729d`, `2y`, `7y364d`, `8y`. Up to one second in the future
/// counts as `0s` (clock skew); further in the future is `<invalid>`.
pub fn human_duration(elapsed_ns: i64) -> String {
    const SECOND_NS: i64 = 1_000_000_000;
    const MINUTE_NS: i64 = 60 * SECOND_NS;
    const HOUR_NS: i64 = 60 * MINUTE_NS;

    // Integer division truncates toward zero, like Go's int(d.Seconds()).
    let seconds = elapsed_ns / SECOND_NS;
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 2 * 60 {
        return format!("{seconds}s");
    }
    let minutes = elapsed_ns / MINUTE_NS;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 3 * 60 {
        return format!("{minutes}m");
    }
    let hours = elapsed_ns / HOUR_NS;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{days}d") } else { format!("{days}d{h}h") };
    }
    if hours < 24 * 365 * 2 {
        return format!("{days}d");
    }
    let years = days / 365;
    if hours < 24 * 365 * 8 {
        let d = days % 365;
        return if d == 0 { format!("{years}y") } else { format!("{years}y{d}d") };
    }
    format!("{years}y")
}

// -------------------------------------------------------------------------------------------------
// Printer registry
// -------------------------------------------------------------------------------------------------

/// How one kind is printed.
struct Printer {
    columns: &'static [Column],
    /// One cell per column, always.
    cells: fn(&Value, &Now) -> Vec<Value>,
    /// Row `conditions`, when the kind has any.
    conditions: Option<fn(&Value) -> Option<Value>>,
}

const fn printer_of(columns: &'static [Column], cells: fn(&Value, &Now) -> Vec<Value>) -> Printer {
    Printer { columns, cells, conditions: None }
}

static DEFAULT_PRINTER: Printer = printer_of(DEFAULT_COLUMNS, default_cells);
static POD_PRINTER: Printer = Printer { columns: POD_COLUMNS, cells: pod_cells, conditions: Some(pod_conditions) };
static DEPLOYMENT_PRINTER: Printer = printer_of(DEPLOYMENT_COLUMNS, deployment_cells);
static REPLICA_SET_PRINTER: Printer = printer_of(REPLICA_SET_COLUMNS, replica_set_cells);
static REPLICATION_CONTROLLER_PRINTER: Printer = printer_of(REPLICA_SET_COLUMNS, replication_controller_cells);
static STATEFUL_SET_PRINTER: Printer = printer_of(STATEFUL_SET_COLUMNS, stateful_set_cells);
static DAEMON_SET_PRINTER: Printer = printer_of(DAEMON_SET_COLUMNS, daemon_set_cells);
static CONTROLLER_REVISION_PRINTER: Printer = printer_of(CONTROLLER_REVISION_COLUMNS, controller_revision_cells);
static JOB_PRINTER: Printer = printer_of(JOB_COLUMNS, job_cells);
static CRON_JOB_PRINTER: Printer = printer_of(CRON_JOB_COLUMNS, cron_job_cells);
static SERVICE_PRINTER: Printer = printer_of(SERVICE_COLUMNS, service_cells);
static ENDPOINTS_PRINTER: Printer = printer_of(ENDPOINTS_COLUMNS, endpoints_cells);
static ENDPOINT_SLICE_PRINTER: Printer = printer_of(ENDPOINT_SLICE_COLUMNS, endpoint_slice_cells);
static NAMESPACE_PRINTER: Printer = printer_of(NAMESPACE_COLUMNS, namespace_cells);
static NODE_PRINTER: Printer = printer_of(NODE_COLUMNS, node_cells);
static CONFIG_MAP_PRINTER: Printer = printer_of(CONFIG_MAP_COLUMNS, config_map_cells);
static SECRET_PRINTER: Printer = printer_of(SECRET_COLUMNS, secret_cells);
static SERVICE_ACCOUNT_PRINTER: Printer = printer_of(SERVICE_ACCOUNT_COLUMNS, service_account_cells);
static PVC_PRINTER: Printer = printer_of(PVC_COLUMNS, pvc_cells);
static CORE_EVENT_PRINTER: Printer = printer_of(EVENT_COLUMNS, core_event_cells);
static EVENTS_EVENT_PRINTER: Printer = printer_of(EVENT_COLUMNS, events_event_cells);
static HPA_PRINTER: Printer = printer_of(HPA_COLUMNS, hpa_cells);

/// The printer for a group and kind; [`DEFAULT_PRINTER`] for everything without one.
fn printer(group: &str, kind: &str) -> &'static Printer {
    match (group, kind) {
        ("", "Pod") => &POD_PRINTER,
        ("", "Service") => &SERVICE_PRINTER,
        ("", "Endpoints") => &ENDPOINTS_PRINTER,
        ("", "Namespace") => &NAMESPACE_PRINTER,
        ("", "Node") => &NODE_PRINTER,
        ("", "ConfigMap") => &CONFIG_MAP_PRINTER,
        ("", "Secret") => &SECRET_PRINTER,
        ("", "ServiceAccount") => &SERVICE_ACCOUNT_PRINTER,
        ("", "PersistentVolumeClaim") => &PVC_PRINTER,
        ("", "ReplicationController") => &REPLICATION_CONTROLLER_PRINTER,
        ("", "Event") => &CORE_EVENT_PRINTER,
        ("events.k8s.io", "Event") => &EVENTS_EVENT_PRINTER,
        ("apps", "Deployment") => &DEPLOYMENT_PRINTER,
        ("apps", "ReplicaSet") => &REPLICA_SET_PRINTER,
        ("apps", "StatefulSet") => &STATEFUL_SET_PRINTER,
        ("apps", "DaemonSet") => &DAEMON_SET_PRINTER,
        ("apps", "ControllerRevision") => &CONTROLLER_REVISION_PRINTER,
        ("batch", "Job") => &JOB_PRINTER,
        ("batch", "CronJob") => &CRON_JOB_PRINTER,
        ("discovery.k8s.io", "EndpointSlice") => &ENDPOINT_SLICE_PRINTER,
        ("autoscaling", "HorizontalPodAutoscaler") => &HPA_PRINTER,
        _ => &DEFAULT_PRINTER,
    }
}

// -------------------------------------------------------------------------------------------------
// Column sets (names, types and priorities as upstream 1.35; descriptions are ours)
// -------------------------------------------------------------------------------------------------

const fn col(name: &'static str, type_: &'static str, priority: u8, description: &'static str) -> Column {
    Column { name, type_, format: "", priority, description }
}

const NAME: Column = Column {
    name: "Name",
    type_: "string",
    format: "name",
    priority: 0,
    description: "Name of the object, unique among objects of its kind in its namespace.",
};
const AGE: Column = col("Age", "string", 0, "Time since the object was created (metadata.creationTimestamp).");
const CONTAINERS: Column = col("Containers", "string", 1, "Names of the containers in the pod template.");
const IMAGES: Column = col("Images", "string", 1, "Images of the containers in the pod template.");
const SELECTOR: Column = col("Selector", "string", 1, "Label selector for the pods this object manages.");

const DEFAULT_COLUMNS: &[Column] =
    &[NAME, col("Created At", "date", 0, "When the object was created (metadata.creationTimestamp).")];

const POD_COLUMNS: &[Column] = &[
    NAME,
    col("Ready", "string", 0, "Ready containers over all containers of the pod."),
    col("Status", "string", 0, "Aggregate status of the pod and its containers."),
    col("Restarts", "string", 0, "Container restarts, and how long ago the last one happened."),
    AGE,
    col("IP", "string", 1, "The pod's IP address."),
    col("Node", "string", 1, "Node the pod is bound to."),
    col("Nominated Node", "string", 1, "Node the scheduler nominated for the pod after preemption."),
    col("Readiness Gates", "string", 1, "Readiness gates that are true over all readiness gates."),
];

const DEPLOYMENT_COLUMNS: &[Column] = &[
    NAME,
    col("Ready", "string", 0, "Ready pods over desired pods."),
    col("Up-to-date", "string", 0, "Pods running the current pod template (status.updatedReplicas)."),
    col("Available", "string", 0, "Pods available to users (status.availableReplicas)."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

const REPLICA_SET_COLUMNS: &[Column] = &[
    NAME,
    col("Desired", "integer", 0, "Desired number of pods (spec.replicas)."),
    col("Current", "integer", 0, "Current number of pods (status.replicas)."),
    col("Ready", "integer", 0, "Number of ready pods (status.readyReplicas)."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

const STATEFUL_SET_COLUMNS: &[Column] =
    &[NAME, col("Ready", "string", 0, "Ready pods over desired pods."), AGE, CONTAINERS, IMAGES];

const DAEMON_SET_COLUMNS: &[Column] = &[
    NAME,
    col("Desired", "integer", 0, "Nodes that should run the daemon pod."),
    col("Current", "integer", 0, "Nodes running at least one daemon pod."),
    col("Ready", "integer", 0, "Nodes whose daemon pod is ready."),
    col("Up-to-date", "integer", 0, "Nodes running the current pod template."),
    col("Available", "integer", 0, "Nodes whose daemon pod is available."),
    col("Node Selector", "string", 0, "Node selector of the pod template."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

const CONTROLLER_REVISION_COLUMNS: &[Column] = &[
    NAME,
    col("Controller", "string", 0, "The object controlling this revision."),
    col("Revision", "string", 0, "Revision number."),
    AGE,
];

const JOB_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", 0, "Status of the job."),
    col("Completions", "string", 0, "Succeeded pods over required completions."),
    col("Duration", "string", 0, "How long the job ran (or has been running)."),
    AGE,
    CONTAINERS,
    IMAGES,
    col("Selector", "string", 1, "Label selector for the job's pods."),
];

const CRON_JOB_COLUMNS: &[Column] = &[
    NAME,
    col("Schedule", "string", 0, "Cron schedule."),
    col("Timezone", "string", 0, "Time zone the schedule is interpreted in."),
    col("Suspend", "boolean", 0, "Whether new runs are suspended."),
    col("Active", "integer", 0, "Number of running jobs."),
    col("Last Schedule", "string", 0, "Time since a job was last scheduled."),
    AGE,
    CONTAINERS,
    IMAGES,
    col("Selector", "string", 1, "Label selector of the job template."),
];

const SERVICE_COLUMNS: &[Column] = &[
    NAME,
    col("Type", "string", 0, "How the service is exposed."),
    col("Cluster-IP", "string", 0, "The service's cluster IP."),
    col("External-IP", "string", 0, "External addresses of the service."),
    col("Port(s)", "string", 0, "Ports the service exposes."),
    AGE,
    col("Selector", "string", 1, "Label selector for the service's pods."),
];

const ENDPOINTS_COLUMNS: &[Column] =
    &[NAME, col("Endpoints", "string", 0, "Addresses and ports of the endpoints."), AGE];

const ENDPOINT_SLICE_COLUMNS: &[Column] = &[
    NAME,
    col("AddressType", "string", 0, "Type of the addresses in the slice."),
    col("Ports", "string", 0, "Ports of the endpoints."),
    col("Endpoints", "string", 0, "Addresses of the endpoints."),
    AGE,
];

const NAMESPACE_COLUMNS: &[Column] = &[NAME, col("Status", "string", 0, "Phase of the namespace."), AGE];

const NODE_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", 0, "Readiness of the node, and whether it is cordoned."),
    col("Roles", "string", 0, "Roles of the node, from its node-role labels."),
    AGE,
    col("Version", "string", 0, "Kubelet version."),
    col("Internal-IP", "string", 1, "First internal IP address of the node."),
    col("External-IP", "string", 1, "First external IP address of the node."),
    col("OS-Image", "string", 1, "Operating system image of the node."),
    col("Kernel-Version", "string", 1, "Kernel version of the node."),
    col("Container-Runtime", "string", 1, "Container runtime and its version."),
];

const CONFIG_MAP_COLUMNS: &[Column] = &[NAME, col("Data", "string", 0, "Number of keys in data and binaryData."), AGE];

const SECRET_COLUMNS: &[Column] =
    &[NAME, col("Type", "string", 0, "Type of the secret."), col("Data", "string", 0, "Number of keys in data."), AGE];

const SERVICE_ACCOUNT_COLUMNS: &[Column] = &[NAME, AGE];

const PVC_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", 0, "Phase of the claim."),
    col("Volume", "string", 0, "Volume bound to the claim."),
    col("Capacity", "string", 0, "Storage capacity of the bound volume."),
    col("Access Modes", "string", 0, "Access modes of the bound volume."),
    col("StorageClass", "string", 0, "Storage class of the claim."),
    col("VolumeAttributesClass", "string", 0, "Volume attributes class of the claim."),
    AGE,
    col("VolumeMode", "string", 1, "Whether the volume is a filesystem or a raw block device."),
];

const EVENT_COLUMNS: &[Column] = &[
    col("Last Seen", "string", 0, "Time since the event was last observed."),
    col("Type", "string", 0, "Type of the event (Normal, Warning)."),
    col("Reason", "string", 0, "Short machine-readable reason."),
    col("Object", "string", 0, "The object the event is about."),
    col("Subobject", "string", 1, "Part of the object the event is about."),
    col("Source", "string", 1, "Component that reported the event."),
    col("Message", "string", 0, "Human-readable description."),
    col("First Seen", "string", 1, "Time since the event was first observed."),
    col("Count", "string", 1, "How many times the event was observed."),
    Column { priority: 1, ..NAME },
];

const HPA_COLUMNS: &[Column] = &[
    NAME,
    col("Reference", "string", 0, "The scaled object."),
    col("Targets", "string", 0, "Current over target value of each metric."),
    col("MinPods", "string", 0, "Lower replica limit."),
    col("MaxPods", "string", 0, "Upper replica limit."),
    col("Replicas", "string", 0, "Current number of replicas."),
    AGE,
];

// -------------------------------------------------------------------------------------------------
// Printers
// -------------------------------------------------------------------------------------------------

fn default_cells(object: &Value, _now: &Now) -> Vec<Value> {
    // Upstream formats a zero creationTimestamp too: 0001-01-01T00:00:00Z.
    let created_ns = timestamp_at(object, &["metadata", "creationTimestamp"]).unwrap_or(ZERO_TIME_NS);
    vec![name_cell(object), Value::String(format_rfc3339_utc(created_ns))]
}

fn deployment_cells(deployment: &Value, now: &Now) -> Vec<Value> {
    let desired = int_at(deployment, &["spec", "replicas"]).unwrap_or(1);
    let ready = int_or_zero(deployment, &["status", "readyReplicas"]);
    let (names, images) = container_cells(list_at(deployment, &["spec", "template", "spec", "containers"]));
    let selector = label_selector_string(at(deployment, &["spec", "selector"])).unwrap_or_else(|_| "<invalid>".into());
    vec![
        name_cell(deployment),
        Value::String(format!("{ready}/{desired}")),
        json!(int_or_zero(deployment, &["status", "updatedReplicas"])),
        json!(int_or_zero(deployment, &["status", "availableReplicas"])),
        now.age_cell(deployment),
        Value::String(names),
        Value::String(images),
        Value::String(selector),
    ]
}

fn replica_set_cells(replica_set: &Value, now: &Now) -> Vec<Value> {
    let (names, images) = container_cells(list_at(replica_set, &["spec", "template", "spec", "containers"]));
    vec![
        name_cell(replica_set),
        json!(int_at(replica_set, &["spec", "replicas"]).unwrap_or(1)),
        json!(int_or_zero(replica_set, &["status", "replicas"])),
        json!(int_or_zero(replica_set, &["status", "readyReplicas"])),
        now.age_cell(replica_set),
        Value::String(names),
        Value::String(images),
        Value::String(format_label_selector(at(replica_set, &["spec", "selector"]))),
    ]
}

/// Same columns as a ReplicaSet; the selector is a plain label map.
fn replication_controller_cells(controller: &Value, now: &Now) -> Vec<Value> {
    let (names, images) = container_cells(list_at(controller, &["spec", "template", "spec", "containers"]));
    vec![
        name_cell(controller),
        json!(int_at(controller, &["spec", "replicas"]).unwrap_or(1)),
        json!(int_or_zero(controller, &["status", "replicas"])),
        json!(int_or_zero(controller, &["status", "readyReplicas"])),
        now.age_cell(controller),
        Value::String(names),
        Value::String(images),
        Value::String(format_labels(at(controller, &["spec", "selector"]))),
    ]
}

fn stateful_set_cells(stateful_set: &Value, now: &Now) -> Vec<Value> {
    let desired = int_at(stateful_set, &["spec", "replicas"]).unwrap_or(1);
    let ready = int_or_zero(stateful_set, &["status", "readyReplicas"]);
    let (names, images) = container_cells(list_at(stateful_set, &["spec", "template", "spec", "containers"]));
    vec![
        name_cell(stateful_set),
        Value::String(format!("{ready}/{desired}")),
        now.age_cell(stateful_set),
        Value::String(names),
        Value::String(images),
    ]
}

fn daemon_set_cells(daemon_set: &Value, now: &Now) -> Vec<Value> {
    let (names, images) = container_cells(list_at(daemon_set, &["spec", "template", "spec", "containers"]));
    vec![
        name_cell(daemon_set),
        json!(int_or_zero(daemon_set, &["status", "desiredNumberScheduled"])),
        json!(int_or_zero(daemon_set, &["status", "currentNumberScheduled"])),
        json!(int_or_zero(daemon_set, &["status", "numberReady"])),
        json!(int_or_zero(daemon_set, &["status", "updatedNumberScheduled"])),
        json!(int_or_zero(daemon_set, &["status", "numberAvailable"])),
        Value::String(format_labels(at(daemon_set, &["spec", "template", "spec", "nodeSelector"]))),
        now.age_cell(daemon_set),
        Value::String(names),
        Value::String(images),
        Value::String(format_label_selector(at(daemon_set, &["spec", "selector"]))),
    ]
}

fn controller_revision_cells(revision: &Value, now: &Now) -> Vec<Value> {
    let controller = list_at(revision, &["metadata", "ownerReferences"])
        .iter()
        .find(|owner| owner.get("controller").and_then(Value::as_bool) == Some(true))
        .map_or_else(
            || "<none>".to_string(),
            |owner| {
                let api_version = str_at(owner, &["apiVersion"]);
                // "apps/v1" → group "apps"; "v1" → core.
                let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
                let kind = str_at(owner, &["kind"]);
                let name = str_at(owner, &["name"]);
                match (kind.is_empty(), group.is_empty()) {
                    (true, true) => name.to_string(),
                    (_, true) => format!("{}/{name}", kind.to_lowercase()),
                    (_, false) => format!("{}.{}/{name}", kind.to_lowercase(), group.to_lowercase()),
                }
            },
        );
    vec![
        name_cell(revision),
        Value::String(controller),
        json!(int_or_zero(revision, &["revision"])),
        now.age_cell(revision),
    ]
}

fn job_cells(job: &Value, now: &Now) -> Vec<Value> {
    let succeeded = int_or_zero(job, &["status", "succeeded"]);
    let completions = match int_at(job, &["spec", "completions"]) {
        Some(completions) => format!("{succeeded}/{completions}"),
        None => match int_at(job, &["spec", "parallelism"]).unwrap_or(0) {
            parallelism if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let duration = match (timestamp_at(job, &["status", "startTime"]), timestamp_at(job, &["status", "completionTime"]))
    {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now.since_ns(start)),
        (Some(start), Some(end)) => human_duration(saturating_ns(end - start)),
    };
    let conditions = list_at(job, &["status", "conditions"]);
    let status = if has_true_condition(conditions, "Complete") {
        "Complete"
    } else if has_true_condition(conditions, "Failed") {
        "Failed"
    } else if is_being_deleted(job) {
        "Terminating"
    } else if has_true_condition(conditions, "Suspended") {
        "Suspended"
    } else if has_true_condition(conditions, "FailureTarget") {
        "FailureTarget"
    } else if has_true_condition(conditions, "SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let (names, images) = container_cells(list_at(job, &["spec", "template", "spec", "containers"]));
    vec![
        name_cell(job),
        Value::String(status.to_string()),
        Value::String(completions),
        Value::String(duration),
        now.age_cell(job),
        Value::String(names),
        Value::String(images),
        Value::String(format_label_selector(at(job, &["spec", "selector"]))),
    ]
}

fn cron_job_cells(cron_job: &Value, now: &Now) -> Vec<Value> {
    let last_schedule = match at(cron_job, &["status", "lastScheduleTime"]).filter(|v| !v.is_null()) {
        None => "<none>".to_string(),
        Some(time) => now.age_of(parse_rfc3339_ns_value(time)),
    };
    let time_zone = at(cron_job, &["spec", "timeZone"]).and_then(Value::as_str).unwrap_or("<none>");
    // Defaulted to false on create.
    let suspend =
        if at(cron_job, &["spec", "suspend"]).and_then(Value::as_bool).unwrap_or(false) { "True" } else { "False" };
    let job_spec = at(cron_job, &["spec", "jobTemplate", "spec"]).unwrap_or(&Value::Null);
    let (names, images) = container_cells(list_at(job_spec, &["template", "spec", "containers"]));
    vec![
        name_cell(cron_job),
        Value::String(str_at(cron_job, &["spec", "schedule"]).to_string()),
        Value::String(time_zone.to_string()),
        Value::String(suspend.to_string()),
        json!(list_at(cron_job, &["status", "active"]).len()),
        Value::String(last_schedule),
        now.age_cell(cron_job),
        Value::String(names),
        Value::String(images),
        Value::String(format_label_selector(at(job_spec, &["selector"]))),
    ]
}

fn service_cells(service: &Value, now: &Now) -> Vec<Value> {
    let service_type = non_empty_or(str_at(service, &["spec", "type"]), "ClusterIP");
    // The apiserver fills spec.clusterIPs from spec.clusterIP, which stays authoritative.
    let cluster_ip = [str_at(service, &["spec", "clusterIP"]), first_str(list_at(service, &["spec", "clusterIPs"]))]
        .into_iter()
        .find(|ip| !ip.is_empty())
        .unwrap_or("<none>");
    let ports: Vec<String> = list_at(service, &["spec", "ports"])
        .iter()
        .map(|port| {
            let number = int_or_zero(port, &["port"]);
            let protocol = non_empty_or(str_at(port, &["protocol"]), "TCP");
            match int_or_zero(port, &["nodePort"]) {
                node_port if node_port > 0 => format!("{number}:{node_port}/{protocol}"),
                _ => format!("{number}/{protocol}"),
            }
        })
        .collect();
    let ports = if ports.is_empty() { "<none>".to_string() } else { ports.join(",") };
    vec![
        name_cell(service),
        Value::String(service_type.to_string()),
        Value::String(cluster_ip.to_string()),
        Value::String(service_external_ip(service, service_type)),
        Value::String(ports),
        now.age_cell(service),
        Value::String(format_labels(at(service, &["spec", "selector"]))),
    ]
}

/// The External-IP cell, as printed with `-o wide` (the server always prints wide, so load
/// balancer addresses are never clipped).
fn service_external_ip(service: &Value, service_type: &str) -> String {
    let external_ips: Vec<&str> = list_at(service, &["spec", "externalIPs"]).iter().filter_map(Value::as_str).collect();
    match service_type {
        "ClusterIP" | "NodePort" if !external_ips.is_empty() => external_ips.join(","),
        "ClusterIP" | "NodePort" => "<none>".to_string(),
        "LoadBalancer" => {
            let mut balancer: Vec<&str> = list_at(service, &["status", "loadBalancer", "ingress"])
                .iter()
                .map(|ingress| non_empty_or(str_at(ingress, &["ip"]), str_at(ingress, &["hostname"])))
                .filter(|address| !address.is_empty())
                .collect();
            balancer.sort_unstable();
            balancer.dedup();
            balancer.extend(external_ips);
            if balancer.is_empty() { "<pending>".to_string() } else { balancer.join(",") }
        }
        "ExternalName" => str_at(service, &["spec", "externalName"]).to_string(),
        _ => "<unknown>".to_string(),
    }
}

/// At most this many addresses are listed in Endpoints/EndpointSlice cells.
const ENDPOINTS_SHOWN_MAX: usize = 3;

fn endpoints_cells(endpoints: &Value, now: &Now) -> Vec<Value> {
    vec![name_cell(endpoints), Value::String(format_endpoints(endpoints)), now.age_cell(endpoints)]
}

/// `10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 2 more...`; `<none>` without subsets.
fn format_endpoints(endpoints: &Value) -> String {
    let subsets = list_at(endpoints, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    let mut shown = Vec::new();
    let mut total = 0;
    for subset in subsets {
        let addresses = list_at(subset, &["addresses"]);
        let ports = list_at(subset, &["ports"]);
        if ports.is_empty() {
            // Headless services may have no ports: list the bare addresses.
            total += addresses.len();
            for address in addresses.iter().take(ENDPOINTS_SHOWN_MAX.saturating_sub(shown.len())) {
                shown.push(str_at(address, &["ip"]).to_string());
            }
            continue;
        }
        for port in ports {
            total += addresses.len();
            let number = int_or_zero(port, &["port"]);
            for address in addresses.iter().take(ENDPOINTS_SHOWN_MAX.saturating_sub(shown.len())) {
                shown.push(join_host_port(str_at(address, &["ip"]), number));
            }
        }
    }
    let list = shown.join(",");
    if total > shown.len() { format!("{list} + {} more...", total - ENDPOINTS_SHOWN_MAX) } else { list }
}

fn endpoint_slice_cells(slice: &Value, now: &Now) -> Vec<Value> {
    let ports: Vec<String> = list_at(slice, &["ports"])
        .iter()
        .map(|port| match (int_at(port, &["port"]), port.get("name").and_then(Value::as_str)) {
            (Some(number), _) => number.to_string(),
            (None, Some(name)) => name.to_string(),
            (None, None) => "*".to_string(),
        })
        .collect();
    let addresses: Vec<String> = list_at(slice, &["endpoints"])
        .iter()
        .flat_map(|endpoint| list_at(endpoint, &["addresses"]))
        .map(|address| address.as_str().unwrap_or("").to_string())
        .collect();
    vec![
        name_cell(slice),
        Value::String(str_at(slice, &["addressType"]).to_string()),
        Value::String(list_with_more(&ports)),
        Value::String(list_with_more(&addresses)),
        now.age_cell(slice),
    ]
}

/// The first three items, `+ N more...` for the rest, `<unset>` for none.
fn list_with_more(items: &[String]) -> String {
    if items.is_empty() {
        return "<unset>".to_string();
    }
    let list = items[..items.len().min(ENDPOINTS_SHOWN_MAX)].join(",");
    if items.len() > ENDPOINTS_SHOWN_MAX {
        format!("{list} + {} more...", items.len() - ENDPOINTS_SHOWN_MAX)
    } else {
        list
    }
}

fn namespace_cells(namespace: &Value, now: &Now) -> Vec<Value> {
    let phase = non_empty_or(str_at(namespace, &["status", "phase"]), "Active");
    vec![name_cell(namespace), Value::String(phase.to_string()), now.age_cell(namespace)]
}

fn node_cells(node: &Value, now: &Now) -> Vec<Value> {
    // Only the Ready condition counts; the last one of that type wins, as upstream's map does.
    let ready = list_at(node, &["status", "conditions"]).iter().rfind(|c| str_at(c, &["type"]) == "Ready");
    let mut status = match ready {
        Some(condition) if str_at(condition, &["status"]) == "True" => "Ready".to_string(),
        Some(_) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    };
    if at(node, &["spec", "unschedulable"]).and_then(Value::as_bool) == Some(true) {
        status.push_str(",SchedulingDisabled");
    }
    let mut roles: Vec<&str> = labels(node)
        .filter_map(|(key, value)| match key.strip_prefix("node-role.kubernetes.io/") {
            Some(role) if !role.is_empty() => Some(role),
            Some(_) => None,
            None if key == "kubernetes.io/role" && !value.is_empty() => Some(value),
            None => None,
        })
        .collect();
    roles.sort_unstable();
    roles.dedup();
    let roles = if roles.is_empty() { "<none>".to_string() } else { roles.join(",") };
    let address = |kind: &str| {
        list_at(node, &["status", "addresses"])
            .iter()
            .find(|address| str_at(address, &["type"]) == kind)
            .map_or("<none>", |address| str_at(address, &["address"]))
            .to_string()
    };
    let info = |field: &str| non_empty_or(str_at(node, &["status", "nodeInfo", field]), "<unknown>").to_string();
    vec![
        name_cell(node),
        Value::String(status),
        Value::String(roles),
        now.age_cell(node),
        Value::String(str_at(node, &["status", "nodeInfo", "kubeletVersion"]).to_string()),
        Value::String(address("InternalIP")),
        Value::String(address("ExternalIP")),
        Value::String(info("osImage")),
        Value::String(info("kernelVersion")),
        Value::String(info("containerRuntimeVersion")),
    ]
}

fn config_map_cells(config_map: &Value, now: &Now) -> Vec<Value> {
    let keys = map_len(config_map, &["data"]) + map_len(config_map, &["binaryData"]);
    vec![name_cell(config_map), json!(keys), now.age_cell(config_map)]
}

fn secret_cells(secret: &Value, now: &Now) -> Vec<Value> {
    // The apiserver folds stringData into data before storing; count a key present in both once.
    let mut keys: Vec<&str> = ["data", "stringData"]
        .iter()
        .filter_map(|field| secret.get(*field).and_then(Value::as_object))
        .flat_map(|map| map.keys().map(String::as_str))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let secret_type = non_empty_or(str_at(secret, &["type"]), "Opaque");
    vec![name_cell(secret), Value::String(secret_type.to_string()), json!(keys.len()), now.age_cell(secret)]
}

fn service_account_cells(account: &Value, now: &Now) -> Vec<Value> {
    vec![name_cell(account), now.age_cell(account)]
}

fn pvc_cells(claim: &Value, now: &Now) -> Vec<Value> {
    let phase = if is_being_deleted(claim) {
        "Terminating"
    } else {
        non_empty_or(str_at(claim, &["status", "phase"]), "Pending")
    };
    let volume = str_at(claim, &["spec", "volumeName"]);
    let (capacity, access_modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity_string(at(claim, &["status", "capacity", "storage"])),
            access_modes_string(list_at(claim, &["status", "accessModes"])),
        )
    };
    // The beta annotation wins over spec.storageClassName, as upstream.
    let storage_class = at(claim, &["metadata", "annotations", "volume.beta.kubernetes.io/storage-class"])
        .and_then(Value::as_str)
        .unwrap_or_else(|| str_at(claim, &["spec", "storageClassName"]));
    let attributes_class =
        at(claim, &["spec", "volumeAttributesClassName"]).and_then(Value::as_str).unwrap_or("<unset>");
    let volume_mode = non_empty_or(str_at(claim, &["spec", "volumeMode"]), "Filesystem");
    vec![
        name_cell(claim),
        Value::String(phase.to_string()),
        Value::String(volume.to_string()),
        Value::String(capacity),
        Value::String(access_modes),
        Value::String(storage_class.to_string()),
        Value::String(attributes_class.to_string()),
        now.age_cell(claim),
        Value::String(volume_mode.to_string()),
    ]
}

/// `RWO,ROX,RWX,RWOP`, in that order, each at most once.
fn access_modes_string(modes: &[Value]) -> String {
    let has = |mode: &str| modes.iter().any(|m| m.as_str() == Some(mode));
    [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
        .iter()
        .filter(|(mode, _)| has(mode))
        .map(|(_, short)| *short)
        .collect::<Vec<_>>()
        .join(",")
}

/// The fields of an event that the printer reads, whichever API group it came from.
struct EventFields<'a> {
    first_timestamp: Option<&'a Value>,
    last_timestamp: Option<&'a Value>,
    event_time: Option<&'a Value>,
    count: Option<i64>,
    series: Option<&'a Value>,
    regarding: Option<&'a Value>,
    message: &'a str,
    source: Option<&'a Value>,
}

fn core_event_cells(event: &Value, now: &Now) -> Vec<Value> {
    let fields = EventFields {
        first_timestamp: event.get("firstTimestamp"),
        last_timestamp: event.get("lastTimestamp"),
        event_time: event.get("eventTime"),
        count: int_at(event, &["count"]),
        series: event.get("series"),
        regarding: event.get("involvedObject"),
        message: str_at(event, &["message"]),
        source: event.get("source"),
    };
    event_cells(event, &fields, now)
}

/// `events.k8s.io/v1` events print like core ones: upstream converts them to the same internal type.
fn events_event_cells(event: &Value, now: &Now) -> Vec<Value> {
    let fields = EventFields {
        first_timestamp: event.get("deprecatedFirstTimestamp"),
        last_timestamp: event.get("deprecatedLastTimestamp"),
        event_time: event.get("eventTime"),
        count: int_at(event, &["deprecatedCount"]),
        series: event.get("series"),
        regarding: event.get("regarding"),
        message: str_at(event, &["note"]),
        source: event.get("deprecatedSource"),
    };
    event_cells(event, &fields, now)
}

fn event_cells(event: &Value, fields: &EventFields<'_>, now: &Now) -> Vec<Value> {
    let parse = |value: Option<&Value>| value.and_then(parse_rfc3339_ns_value).filter(|ns| *ns != ZERO_TIME_NS);
    let first_seen = match parse(fields.first_timestamp) {
        Some(first) => now.age_of(Some(first)),
        None => now.age_of(parse(fields.event_time)),
    };
    let mut last_seen = match parse(fields.last_timestamp) {
        Some(last) => now.age_of(Some(last)),
        None => first_seen.clone(),
    };
    let series = fields.series.filter(|series| series.is_object());
    let count = match series {
        Some(series) => {
            last_seen = now.age_of(parse(series.get("lastObservedTime")));
            int_or_zero(series, &["count"])
        }
        // Singleton events of the new API carry no count.
        None => fields.count.filter(|count| *count != 0).unwrap_or(1),
    };
    let regarding = fields.regarding.unwrap_or(&Value::Null);
    let kind = str_at(regarding, &["kind"]).to_lowercase();
    let target = match str_at(regarding, &["name"]) {
        "" => kind,
        name => format!("{kind}/{name}"),
    };
    let source = fields.source.unwrap_or(&Value::Null);
    let component = non_empty_or(str_at(source, &["component"]), str_at(event, &["reportingController"]));
    let host = non_empty_or(str_at(source, &["host"]), str_at(event, &["reportingInstance"]));
    let source = if host.is_empty() { component.to_string() } else { format!("{component}, {host}") };
    vec![
        Value::String(last_seen),
        Value::String(str_at(event, &["type"]).to_string()),
        Value::String(str_at(event, &["reason"]).to_string()),
        Value::String(target),
        Value::String(str_at(regarding, &["fieldPath"]).to_string()),
        Value::String(source),
        Value::String(fields.message.trim().to_string()),
        Value::String(first_seen),
        json!(count),
        name_cell(event),
    ]
}

// --- HorizontalPodAutoscaler ---------------------------------------------------------------------

/// At most this many metrics are listed in the Targets cell.
const HPA_METRICS_SHOWN_MAX: usize = 2;

/// Target CPU utilization the apiserver defaults an autoscaler without metrics to.
const HPA_DEFAULT_CPU_UTILIZATION: i64 = 80;

fn hpa_cells(hpa: &Value, now: &Now) -> Vec<Value> {
    let target = at(hpa, &["spec", "scaleTargetRef"]).unwrap_or(&Value::Null);
    let reference = format!("{}/{}", str_at(target, &["kind"]), str_at(target, &["name"]));
    let min_pods = int_at(hpa, &["spec", "minReplicas"]).unwrap_or(1);
    vec![
        name_cell(hpa),
        Value::String(reference),
        Value::String(hpa_targets(hpa)),
        Value::String(min_pods.to_string()),
        json!(int_or_zero(hpa, &["spec", "maxReplicas"])),
        json!(int_or_zero(hpa, &["status", "currentReplicas"])),
        now.age_cell(hpa),
    ]
}

/// The Targets cell: `cpu: 12%/80%, memory: <unknown>/1Gi + 1 more...`.
fn hpa_targets(hpa: &Value) -> String {
    let v1_target = at(hpa, &["spec", "targetCPUUtilizationPercentage"]);
    let is_v1 = str_at(hpa, &["apiVersion"]) == "autoscaling/v1" || v1_target.is_some();
    let pieces: Vec<String> = if is_v1 {
        let target = v1_target.and_then(Value::as_i64).unwrap_or(HPA_DEFAULT_CPU_UTILIZATION);
        let current = int_at(hpa, &["status", "currentCPUUtilizationPercentage"])
            .map_or_else(|| "<unknown>".to_string(), |current| format!("{current}%"));
        vec![format!("cpu: {current}/{target}%")]
    } else {
        // An autoscaler stored without metrics is defaulted to CPU utilization.
        let default_specs;
        let mut specs = list_at(hpa, &["spec", "metrics"]);
        if specs.is_empty() {
            default_specs = [json!({"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": HPA_DEFAULT_CPU_UTILIZATION}}})];
            specs = &default_specs;
        }
        let statuses = list_at(hpa, &["status", "currentMetrics"]);
        specs.iter().enumerate().map(|(i, spec)| hpa_metric(spec, statuses.get(i))).collect()
    };
    let list = pieces[..pieces.len().min(HPA_METRICS_SHOWN_MAX)].join(", ");
    if pieces.len() > HPA_METRICS_SHOWN_MAX {
        format!("{list} + {} more...", pieces.len() - HPA_METRICS_SHOWN_MAX)
    } else {
        list
    }
}

/// One autoscaling/v2 metric. Statuses pair with specs by position, as upstream pairs them.
fn hpa_metric(spec: &Value, status: Option<&Value>) -> String {
    const UNKNOWN: &str = "<unknown>";
    let source_of = |key: &str| status.and_then(|status| status.get(key)).filter(|source| source.is_object());
    match str_at(spec, &["type"]) {
        source_type @ ("External" | "Object") => {
            let key = if source_type == "External" { "external" } else { "object" };
            let target = at(spec, &[key, "target"]).unwrap_or(&Value::Null);
            let current = source_of(key);
            match target.get("averageValue").filter(|v| !v.is_null()) {
                Some(average) => {
                    let current = current
                        .and_then(|c| at(c, &["current", "averageValue"]))
                        .map_or_else(|| UNKNOWN.to_string(), |q| quantity_string(Some(q)));
                    format!("{current}/{} (avg)", quantity_string(Some(average)))
                }
                None => {
                    let current =
                        current.map_or_else(|| UNKNOWN.to_string(), |c| quantity_string(at(c, &["current", "value"])));
                    format!("{current}/{}", quantity_string(target.get("value")))
                }
            }
        }
        "Pods" => {
            let current = source_of("pods")
                .map_or_else(|| UNKNOWN.to_string(), |c| quantity_string(at(c, &["current", "averageValue"])));
            format!("{current}/{}", quantity_string(at(spec, &["pods", "target", "averageValue"])))
        }
        source_type @ ("Resource" | "ContainerResource") => {
            let key = if source_type == "Resource" { "resource" } else { "containerResource" };
            let source = spec.get(key).unwrap_or(&Value::Null);
            let name = str_at(source, &["name"]);
            let current = source_of(key);
            match at(source, &["target", "averageValue"]).filter(|v| !v.is_null()) {
                Some(average) => {
                    let current = current
                        .map_or_else(|| UNKNOWN.to_string(), |c| quantity_string(at(c, &["current", "averageValue"])));
                    format!("{name}: {current}/{}", quantity_string(Some(average)))
                }
                None => {
                    let current = current
                        .and_then(|c| int_at(c, &["current", "averageUtilization"]))
                        .map_or_else(|| UNKNOWN.to_string(), |utilization| format!("{utilization}%"));
                    let target = int_at(source, &["target", "averageUtilization"])
                        .map_or_else(|| "<auto>".to_string(), |utilization| format!("{utilization}%"));
                    format!("{name}: {current}/{target}")
                }
            }
        }
        _ => "<unknown type>".to_string(),
    }
}

/// A quantity as it is stored (upstream re-renders it canonically; stored quantities normally
/// already are). A missing one prints `<nil>`, as upstream prints a nil quantity pointer.
fn quantity_string(quantity: Option<&Value>) -> String {
    match quantity {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => "<nil>".to_string(),
    }
}

// --- Pod -----------------------------------------------------------------------------------------

fn pod_cells(pod: &Value, now: &Now) -> Vec<Value> {
    let summary = PodSummary::of(pod);
    let restarts = match summary.last_restart_ns {
        Some(last) if summary.restarts != 0 => {
            format!("{} ({} ago)", summary.restarts, human_duration(now.since_ns(last)))
        }
        _ => summary.restarts.to_string(),
    };
    // The apiserver copies status.podIP into status.podIPs; podIP stays authoritative.
    let pod_ip = [
        str_at(pod, &["status", "podIP"]),
        str_at(list_at(pod, &["status", "podIPs"]).first().unwrap_or(&Value::Null), &["ip"]),
    ]
    .into_iter()
    .find(|ip| !ip.is_empty())
    .unwrap_or("<none>");
    vec![
        name_cell(pod),
        Value::String(format!("{}/{}", summary.ready, summary.total)),
        Value::String(summary.reason),
        Value::String(restarts),
        now.age_cell(pod),
        Value::String(pod_ip.to_string()),
        Value::String(non_empty_or(str_at(pod, &["spec", "nodeName"]), "<none>").to_string()),
        Value::String(non_empty_or(str_at(pod, &["status", "nominatedNodeName"]), "<none>").to_string()),
        Value::String(readiness_gates(pod)),
    ]
}

/// `true/total` readiness gates, `<none>` without gates.
fn readiness_gates(pod: &Value) -> String {
    let gates = list_at(pod, &["spec", "readinessGates"]);
    if gates.is_empty() {
        return "<none>".to_string();
    }
    let conditions = list_at(pod, &["status", "conditions"]);
    let passing = gates.iter().filter(|gate| has_true_condition(conditions, str_at(gate, &["conditionType"]))).count();
    format!("{passing}/{}", gates.len())
}

/// Finished pods carry a `Completed` row condition.
fn pod_conditions(pod: &Value) -> Option<Value> {
    let (reason, message) = match str_at(pod, &["status", "phase"]) {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(json!([{"type": "Completed", "status": "True", "reason": reason, "message": message}]))
}

/// What the Ready, Status and Restarts cells of a pod are computed from.
struct PodSummary {
    ready: usize,
    total: usize,
    reason: String,
    restarts: i64,
    last_restart_ns: Option<i128>,
}

impl PodSummary {
    /// Walks init containers, then containers (last to first), exactly in upstream's order:
    /// the Status cell is whichever reason that walk leaves behind.
    fn of(pod: &Value) -> PodSummary {
        // A pod is Pending from the moment it is created.
        let phase = non_empty_or(str_at(pod, &["status", "phase"]), "Pending");
        let mut reason = non_empty_or(str_at(pod, &["status", "reason"]), phase).to_string();
        let conditions = list_at(pod, &["status", "conditions"]);
        if conditions
            .iter()
            .any(|c| str_at(c, &["type"]) == "PodScheduled" && str_at(c, &["reason"]) == "SchedulingGated")
        {
            reason = "SchedulingGated".to_string();
        }

        let init_specs = list_at(pod, &["spec", "initContainers"]);
        let is_sidecar = |name: &str| {
            init_specs.iter().any(|c| str_at(c, &["name"]) == name && str_at(c, &["restartPolicy"]) == "Always")
        };
        let sidecars = init_specs.iter().filter(|c| str_at(c, &["restartPolicy"]) == "Always").count();
        let total = list_at(pod, &["spec", "containers"]).len() + sidecars;
        let mut ready = 0;
        let mut restarts = 0;
        let mut last_restart_ns = None;
        let mut sidecar_restarts = 0;
        let mut sidecar_last_restart_ns = None;

        let mut initializing = false;
        for (i, status) in list_at(pod, &["status", "initContainerStatuses"]).iter().enumerate() {
            let restart_count = int_or_zero(status, &["restartCount"]);
            let finished_ns = timestamp_at(status, &["lastState", "terminated", "finishedAt"]);
            restarts += restart_count;
            last_restart_ns = last_restart_ns.max(finished_ns);
            let sidecar = is_sidecar(str_at(status, &["name"]));
            if sidecar {
                sidecar_restarts += restart_count;
                sidecar_last_restart_ns = sidecar_last_restart_ns.max(finished_ns);
            }
            let terminated = object_at(status, &["state", "terminated"]);
            let waiting_reason = object_at(status, &["state", "waiting"]).map(|w| str_at(w, &["reason"]));
            if terminated.is_some_and(|t| int_or_zero(t, &["exitCode"]) == 0) {
                continue;
            }
            if sidecar && status.get("started").and_then(Value::as_bool) == Some(true) {
                if is_true(status, "ready") {
                    ready += 1;
                }
                continue;
            }
            reason = match (terminated, waiting_reason) {
                (Some(terminated), _) => match str_at(terminated, &["reason"]) {
                    "" => match int_or_zero(terminated, &["signal"]) {
                        0 => format!("Init:ExitCode:{}", int_or_zero(terminated, &["exitCode"])),
                        signal => format!("Init:Signal:{signal}"),
                    },
                    terminated_reason => format!("Init:{terminated_reason}"),
                },
                (None, Some(waiting)) if !waiting.is_empty() && waiting != "PodInitializing" => {
                    format!("Init:{waiting}")
                }
                _ => format!("Init:{i}/{}", init_specs.len()),
            };
            initializing = true;
            break;
        }

        let initialized = conditions
            .iter()
            .find(|c| str_at(c, &["type"]) == "Initialized")
            .is_some_and(|c| str_at(c, &["status"]) == "True");
        if !initializing || initialized {
            restarts = sidecar_restarts;
            last_restart_ns = sidecar_last_restart_ns;
            let mut has_running = false;
            let mut error_reason = String::new();
            for status in list_at(pod, &["status", "containerStatuses"]).iter().rev() {
                restarts += int_or_zero(status, &["restartCount"]);
                last_restart_ns = last_restart_ns.max(timestamp_at(status, &["lastState", "terminated", "finishedAt"]));
                let waiting_reason = object_at(status, &["state", "waiting"]).map_or("", |w| str_at(w, &["reason"]));
                if !waiting_reason.is_empty() {
                    reason = waiting_reason.to_string();
                } else if let Some(terminated) = object_at(status, &["state", "terminated"]) {
                    let exit_code = int_or_zero(terminated, &["exitCode"]);
                    reason = match (str_at(terminated, &["reason"]), int_or_zero(terminated, &["signal"])) {
                        ("", 0) => format!("ExitCode:{exit_code}"),
                        ("", signal) => format!("Signal:{signal}"),
                        (terminated_reason, _) => terminated_reason.to_string(),
                    };
                    if exit_code != 0 {
                        error_reason = reason.clone();
                    }
                } else if is_true(status, "ready") && object_at(status, &["state", "running"]).is_some() {
                    has_running = true;
                    ready += 1;
                }
            }
            // A pod whose last container completed is still Running while another one runs.
            if reason == "Completed" {
                if has_running && has_true_condition(conditions, "Ready") {
                    reason = "Running".to_string();
                } else if !error_reason.is_empty() {
                    reason = error_reason;
                } else if has_running {
                    reason = "NotReady".to_string();
                }
            }
        }

        if is_being_deleted(pod) {
            if str_at(pod, &["status", "reason"]) == "NodeLost" {
                reason = "Unknown".to_string();
            } else if phase != "Succeeded" && phase != "Failed" {
                reason = "Terminating".to_string();
            }
        }
        PodSummary { ready, total, reason, restarts, last_restart_ns }
    }
}

// -------------------------------------------------------------------------------------------------
// Cell helpers
// -------------------------------------------------------------------------------------------------

fn name_cell(object: &Value) -> Value {
    Value::String(str_at(object, &["metadata", "name"]).to_string())
}

/// Comma-joined container names and images of a pod template.
fn container_cells(containers: &[Value]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, &["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, &["image"])).collect();
    (names.join(","), images.join(","))
}

/// `host:port`, with brackets around IPv6 hosts.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

/// The first condition of type `condition_type` has status `True`.
fn has_true_condition(conditions: &[Value], condition_type: &str) -> bool {
    conditions
        .iter()
        .find(|condition| str_at(condition, &["type"]) == condition_type)
        .is_some_and(|condition| str_at(condition, &["status"]) == "True")
}

fn is_being_deleted(object: &Value) -> bool {
    at(object, &["metadata", "deletionTimestamp"]).is_some_and(|v| !v.is_null())
}

/// The object's labels, skipping non-string values.
fn labels(object: &Value) -> impl Iterator<Item = (&str, &str)> {
    at(object, &["metadata", "labels"])
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| value.as_str().map(|value| (key.as_str(), value)))
}

/// A label map as `a=1,b=2` (sorted by key), `<none>` when empty.
fn format_labels(map: Option<&Value>) -> String {
    let mut pairs: Vec<String> = map
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| value.as_str().map(|value| format!("{key}={value}")))
        .collect();
    pairs.sort_unstable();
    if pairs.is_empty() { "<none>".to_string() } else { pairs.join(",") }
}

/// A label selector as upstream's `FormatLabelSelector`: its string form, `<none>` when it selects
/// everything (or is absent), `<error>` when it is malformed.
fn format_label_selector(selector: Option<&Value>) -> String {
    match label_selector_string(selector) {
        Ok(text) if text.is_empty() => "<none>".to_string(),
        Ok(text) => text,
        Err(MalformedSelector) => "<error>".to_string(),
    }
}

/// A label selector that upstream's `LabelSelectorAsSelector` refuses.
#[derive(Debug, PartialEq, Eq)]
struct MalformedSelector;

/// The string form of a `metav1.LabelSelector`: requirements sorted by key and joined by commas
/// (`app=web,tier in (a,b),!legacy`). An absent or empty selector is `""`.
fn label_selector_string(selector: Option<&Value>) -> Result<String, MalformedSelector> {
    let Some(selector) = selector.filter(|s| !s.is_null()) else { return Ok(String::new()) };
    let selector = selector.as_object().ok_or(MalformedSelector)?;
    let mut requirements: Vec<(String, String)> = Vec::new();
    if let Some(match_labels) = selector.get("matchLabels").filter(|v| !v.is_null()) {
        for (key, value) in match_labels.as_object().ok_or(MalformedSelector)? {
            let value = value.as_str().ok_or(MalformedSelector)?;
            requirements.push((key.clone(), format!("{key}={value}")));
        }
    }
    if let Some(expressions) = selector.get("matchExpressions").filter(|v| !v.is_null()) {
        for expression in expressions.as_array().ok_or(MalformedSelector)? {
            let key = expression.get("key").and_then(Value::as_str).ok_or(MalformedSelector)?;
            let mut values = Vec::new();
            for value in list_at(expression, &["values"]) {
                values.push(value.as_str().ok_or(MalformedSelector)?);
            }
            values.sort_unstable();
            values.dedup();
            let text = match (str_at(expression, &["operator"]), values.is_empty()) {
                ("In", false) => format!("{key} in ({})", values.join(",")),
                ("NotIn", false) => format!("{key} notin ({})", values.join(",")),
                ("Exists", true) => key.to_string(),
                ("DoesNotExist", true) => format!("!{key}"),
                _ => return Err(MalformedSelector),
            };
            requirements.push((key.to_string(), text));
        }
    }
    requirements.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(requirements.into_iter().map(|(_, text)| text).collect::<Vec<_>>().join(","))
}

fn non_empty_or<'a>(value: &'a str, fallback: &'a str) -> &'a str {
    if value.is_empty() { fallback } else { value }
}

// -------------------------------------------------------------------------------------------------
// JSON access that never panics
// -------------------------------------------------------------------------------------------------

fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, key| value.get(key))
}

/// A non-null object at `path` (a `state.waiting: {}` counts, `null` does not).
fn object_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    at(value, path).filter(|v| v.is_object())
}

/// The string at `path`, or `""`.
fn str_at<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    at(value, path).and_then(Value::as_str).unwrap_or("")
}

/// The integer at `path` (whole floats accepted), or `None`.
fn int_at(value: &Value, path: &[&str]) -> Option<i64> {
    let number = at(value, path)?;
    number.as_i64().or_else(|| number.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18).map(|f| f as i64))
}

fn int_or_zero(value: &Value, path: &[&str]) -> i64 {
    int_at(value, path).unwrap_or(0)
}

fn is_true(value: &Value, field: &str) -> bool {
    value.get(field).and_then(Value::as_bool) == Some(true)
}

/// The array at `path`, or an empty slice.
fn list_at<'a>(value: &'a Value, path: &[&str]) -> &'a [Value] {
    at(value, path).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The number of keys of the map at `path`, 0 when absent.
fn map_len(value: &Value, path: &[&str]) -> usize {
    at(value, path).and_then(Value::as_object).map_or(0, Map::len)
}

fn first_str(list: &[Value]) -> &str {
    list.first().and_then(Value::as_str).unwrap_or("")
}

// -------------------------------------------------------------------------------------------------
// Time
// -------------------------------------------------------------------------------------------------

/// Nanoseconds since the Unix epoch of Go's zero `time.Time`, 0001-01-01T00:00:00Z, which upstream
/// treats as "unset".
const ZERO_TIME_NS: i128 = -62_135_596_800 * NANOS_PER_SECOND;

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// The printing time, in nanoseconds since the Unix epoch.
struct Now {
    unix_ns: i128,
}

impl Now {
    fn at(now: SystemTime) -> Now {
        let unix_ns = match now.duration_since(UNIX_EPOCH) {
            Ok(after) => after.as_nanos() as i128,
            Err(before) => -(before.duration().as_nanos() as i128),
        };
        Now { unix_ns }
    }

    /// `now - then`, saturating like Go's `Time.Sub`.
    fn since_ns(&self, then_ns: i128) -> i64 {
        saturating_ns(self.unix_ns - then_ns)
    }

    /// The age of a timestamp, `<unknown>` when it is unset.
    fn age_of(&self, timestamp_ns: Option<i128>) -> String {
        match timestamp_ns.filter(|ns| *ns != ZERO_TIME_NS) {
            Some(ns) => human_duration(self.since_ns(ns)),
            None => "<unknown>".to_string(),
        }
    }

    /// The Age cell: time since `metadata.creationTimestamp`.
    fn age_cell(&self, object: &Value) -> Value {
        Value::String(self.age_of(timestamp_at(object, &["metadata", "creationTimestamp"])))
    }
}

fn saturating_ns(ns: i128) -> i64 {
    ns.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

fn timestamp_at(value: &Value, path: &[&str]) -> Option<i128> {
    at(value, path).and_then(parse_rfc3339_ns_value)
}

fn parse_rfc3339_ns_value(value: &Value) -> Option<i128> {
    value.as_str().and_then(parse_rfc3339_ns)
}

/// Parses an RFC 3339 timestamp (`2024-01-02T03:04:05Z`, with optional fractional seconds and a
/// `Z` or `±hh:mm` offset) into nanoseconds since the Unix epoch.
fn parse_rfc3339_ns(text: &str) -> Option<i128> {
    let bytes = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<i64> {
        let field = bytes.get(from..from + len)?;
        field.iter().try_fold(0i64, |n, b| b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0')))
    };
    let expect = |at: usize, allowed: &[u8]| bytes.get(at).is_some_and(|b| allowed.contains(b));
    if !(expect(4, b"-") && expect(7, b"-") && expect(10, b"Tt ") && expect(13, b":") && expect(16, b":")) {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }

    let mut pos = 19;
    let mut nanos: i128 = 0;
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        if pos == start {
            return None;
        }
        // Digits past nanoseconds are dropped, as Go does.
        let fraction = &text[start..pos.min(start + 9)];
        nanos = i128::from(fraction.parse::<u32>().ok()?) * 10i128.pow(9 - fraction.len() as u32);
    }

    let offset_seconds = match bytes.get(pos) {
        Some(b'Z' | b'z') if pos + 1 == bytes.len() => 0,
        Some(sign @ (b'+' | b'-')) if pos + 6 == bytes.len() && expect(pos + 3, b":") => {
            let (hours, minutes) = (digits(pos + 1, 2)?, digits(pos + 4, 2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'-' { -offset } else { offset }
        }
        _ => return None,
    };

    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(i128::from(seconds) * NANOS_PER_SECOND + nanos)
}

/// `2024-01-02T03:04:05Z`: UTC, whole seconds (fractions are dropped, as Go's RFC3339 layout does).
fn format_rfc3339_utc(unix_ns: i128) -> String {
    let seconds = unix_ns.div_euclid(NANOS_PER_SECOND) as i64;
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let mut text = String::with_capacity(20);
    let _ = write!(
        text,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    );
    text
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// 2024-01-02T03:04:05Z, the moment every test prints at.
    const NOW: &str = "2024-01-02T03:04:05Z";

    fn now() -> SystemTime {
        let ns = parse_rfc3339_ns(NOW).expect("valid");
        UNIX_EPOCH + Duration::from_nanos(ns as u64)
    }

    /// `NOW` minus `seconds`, as an RFC 3339 string.
    fn ago(seconds: i64) -> String {
        format_rfc3339_utc(parse_rfc3339_ns(NOW).expect("valid") - i128::from(seconds) * NANOS_PER_SECOND)
    }

    /// The row's cells as compact JSON text, e.g. `["kubia","3/3",3,3,"2s"]`: the wire form.
    fn cells(group: &str, kind: &str, object: &Value) -> String {
        let row = row(group, kind, object, now(), IncludeObject::Metadata);
        row["cells"].to_string()
    }

    /// The cells of the columns named `names`, in that order, as compact JSON text.
    fn cells_named(group: &str, kind: &str, object: &Value, names: &[&str]) -> String {
        let row = row(group, kind, object, now(), IncludeObject::Metadata);
        let columns = columns(group, kind);
        let picked: Vec<Value> = names
            .iter()
            .map(|name| {
                let index = columns.iter().position(|c| c.name == *name).unwrap_or_else(|| panic!("no column {name}"));
                row["cells"][index].clone()
            })
            .collect();
        Value::Array(picked).to_string()
    }

    fn pod_status_cell(pod: &Value) -> String {
        let row = row("", "Pod", pod, now(), IncludeObject::None);
        let status = columns("", "Pod").iter().position(|c| c.name == "Status").expect("Status column");
        row["cells"][status].as_str().expect("string").to_string()
    }

    const ALL_PRINTED_KINDS: &[(&str, &str)] = &[
        ("", "Pod"),
        ("", "Service"),
        ("", "Endpoints"),
        ("", "Namespace"),
        ("", "Node"),
        ("", "ConfigMap"),
        ("", "Secret"),
        ("", "ServiceAccount"),
        ("", "PersistentVolumeClaim"),
        ("", "ReplicationController"),
        ("", "Event"),
        ("events.k8s.io", "Event"),
        ("apps", "Deployment"),
        ("apps", "ReplicaSet"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("apps", "ControllerRevision"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("discovery.k8s.io", "EndpointSlice"),
        ("autoscaling", "HorizontalPodAutoscaler"),
        ("example.com", "Widget"),
    ];

    fn kubia_deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "kubia", "namespace": "default", "uid": "u-1", "resourceVersion": "1016",
                         "creationTimestamp": ago(2), "labels": {"app": "kubia"}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "kubia"}},
                     "template": {"metadata": {"labels": {"app": "kubia"}},
                                  "spec": {"containers": [{"name": "nodejs", "image": "luksa/kubia:v1"}]}}},
            "status": {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}
        })
    }

    fn running_pod() -> Value {
        json!({
            "metadata": {"name": "kubia-abc", "namespace": "default", "creationTimestamp": ago(1)},
            "spec": {"containers": [{"name": "nodejs", "image": "luksa/kubia:v1"}], "nodeName": "node-1"},
            "status": {
                "phase": "Running", "podIP": "10.0.0.7",
                "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "nodejs", "ready": true, "restartCount": 0,
                                       "state": {"running": {"startedAt": ago(1)}}}]
            }
        })
    }

    /// A pod whose only container is in `state`.
    fn pod_with_container_state(state: Value, ready: bool) -> Value {
        let mut pod = running_pod();
        pod["status"]["containerStatuses"][0]["state"] = state;
        pod["status"]["containerStatuses"][0]["ready"] = json!(ready);
        pod
    }

    // --- HumanDuration ---------------------------------------------------------------------------

    #[test]
    fn human_duration_matches_upstream_boundaries() {
        const S: i64 = 1_000_000_000;
        const M: i64 = 60 * S;
        const H: i64 = 60 * M;
        const D: i64 = 24 * H;
        let cases: &[(i64, &str)] = &[
            (-3 * S, "<invalid>"),
            (-2 * S, "<invalid>"),
            (-S - S / 2, "0s"), // int(-1.5) is -1: within the tolerated skew
            (-S, "0s"),
            (-1, "0s"),
            (0, "0s"),
            (S - 1, "0s"),
            (S, "1s"),
            (59 * S, "59s"),
            (60 * S, "60s"),
            (119 * S + S / 2, "119s"),
            (2 * M, "2m"),
            (2 * M + S, "2m1s"),
            (3 * M + 2 * S, "3m2s"),
            (9 * M + 59 * S, "9m59s"),
            (10 * M, "10m"),
            (10 * M + 59 * S, "10m"),
            (179 * M + 59 * S, "179m"),
            (3 * H, "3h"),
            (3 * H + M, "3h1m"),
            (7 * H + 59 * M + 59 * S, "7h59m"),
            (8 * H, "8h"),
            (8 * H + 30 * M, "8h"),
            (47 * H + 59 * M, "47h"),
            (48 * H, "2d"),
            (49 * H, "2d1h"),
            (7 * D + 23 * H, "7d23h"),
            (8 * D, "8d"),
            (729 * D + 23 * H, "729d"),
            (730 * D, "2y"),
            (731 * D, "2y1d"),
            (2919 * D, "7y364d"),
            (2920 * D, "8y"),
            (3650 * D, "10y"),
            (i64::MAX, "292y"),
        ];
        for (elapsed_ns, expected) in cases {
            assert_eq!(human_duration(*elapsed_ns), *expected, "human_duration({elapsed_ns}ns)");
        }
    }

    #[test]
    fn age_is_unknown_without_a_creation_timestamp() {
        let mut deployment = kubia_deployment();
        deployment["metadata"].as_object_mut().expect("map").remove("creationTimestamp");
        assert_eq!(cells_named("apps", "Deployment", &deployment, &["Age"]), r#"["<unknown>"]"#);
        deployment["metadata"]["creationTimestamp"] = json!("yesterday");
        assert_eq!(cells_named("apps", "Deployment", &deployment, &["Age"]), r#"["<unknown>"]"#);
    }

    #[test]
    fn timestamps_accept_fractions_and_offsets() {
        let base = parse_rfc3339_ns("2024-01-02T03:04:05Z").expect("valid");
        assert_eq!(parse_rfc3339_ns("2024-01-02T03:04:05+00:00"), Some(base));
        assert_eq!(parse_rfc3339_ns("2024-01-02T05:04:05+02:00"), Some(base));
        assert_eq!(parse_rfc3339_ns("2024-01-01T22:34:05-04:30"), Some(base));
        assert_eq!(parse_rfc3339_ns("2024-01-02T03:04:05.5Z"), Some(base + 500_000_000));
        assert_eq!(parse_rfc3339_ns("2024-01-02T03:04:05.123456Z"), Some(base + 123_456_000));
        assert_eq!(parse_rfc3339_ns("2024-01-02T03:04:05.1234567891Z"), Some(base + 123_456_789));
        for invalid in [
            "",
            "2024-01-02",
            "2024-01-02T03:04:05",
            "2024-13-02T03:04:05Z",
            "2023-02-29T03:04:05Z",
            "2024-01-02T24:04:05Z",
            "2024-01-02T03:04:05.Z",
            "2024-01-02T03:04:05+0000",
            "2024-01-02T03:04:05Zjunk",
            "2024-01-0xT03:04:05Z",
        ] {
            assert_eq!(parse_rfc3339_ns(invalid), None, "{invalid:?} should not parse");
        }
        assert_eq!(
            parse_rfc3339_ns("2024-02-29T00:00:00Z").map(format_rfc3339_utc).as_deref(),
            Some("2024-02-29T00:00:00Z")
        );
        assert_eq!(parse_rfc3339_ns("0001-01-01T00:00:00Z"), Some(ZERO_TIME_NS));
        assert_eq!(format_rfc3339_utc(ZERO_TIME_NS), "0001-01-01T00:00:00Z");
        assert_eq!(format_rfc3339_utc(0), "1970-01-01T00:00:00Z");
    }

    // --- includeObject, rows and tables ----------------------------------------------------------

    #[test]
    fn include_object_parses_the_query_values_upstream_accepts() {
        assert_eq!(IncludeObject::from_query(None), Ok(IncludeObject::Metadata));
        assert_eq!(IncludeObject::from_query(Some("")), Ok(IncludeObject::Metadata));
        assert_eq!(IncludeObject::from_query(Some("Metadata")), Ok(IncludeObject::Metadata));
        assert_eq!(IncludeObject::from_query(Some("None")), Ok(IncludeObject::None));
        assert_eq!(IncludeObject::from_query(Some("Object")), Ok(IncludeObject::Object));
        let error = IncludeObject::from_query(Some("object")).expect_err("case-sensitive");
        assert_eq!(
            error.to_string(),
            r#"includeObject: Invalid value: "object": must be 'Metadata', 'Object', 'None', or empty"#
        );
    }

    #[test]
    fn row_object_follows_include_object() {
        let deployment = kubia_deployment();
        let none = row("apps", "Deployment", &deployment, now(), IncludeObject::None);
        assert_eq!(none["object"], Value::Null);
        assert!(none.as_object().expect("map").contains_key("object"));

        let metadata = row("apps", "Deployment", &deployment, now(), IncludeObject::Metadata);
        assert_eq!(
            metadata["object"],
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": deployment["metadata"]})
        );
        assert_eq!(metadata["object"]["metadata"]["namespace"], "default");
        assert_eq!(metadata["object"]["metadata"]["labels"]["app"], "kubia");

        let object = row("apps", "Deployment", &deployment, now(), IncludeObject::Object);
        assert_eq!(object["object"], deployment);
    }

    #[test]
    fn partial_object_metadata_of_an_object_without_metadata_is_empty() {
        assert_eq!(partial_object_metadata(&json!({"spec": {}}))["metadata"], json!({}));
        assert_eq!(partial_object_metadata(&json!(7))["metadata"], json!({}));
        assert_eq!(partial_object_metadata(&json!({"metadata": "x"}))["metadata"], json!({}));
    }

    #[test]
    fn table_carries_list_metadata_columns_and_rows_in_order() {
        let first = kubia_deployment();
        let mut second = kubia_deployment();
        second["metadata"]["name"] = json!("web");
        let table = table(
            "apps",
            "Deployment",
            &[first, second],
            json!({"resourceVersion": "1016", "continue": "abc"}),
            now(),
            IncludeObject::Metadata,
            true,
        );
        assert_eq!(table["kind"], "Table");
        assert_eq!(table["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(table["metadata"], json!({"resourceVersion": "1016", "continue": "abc"}));
        assert_eq!(table["columnDefinitions"].as_array().map(Vec::len), Some(8));
        let names: Vec<&Value> = table["rows"].as_array().expect("rows").iter().map(|r| &r["cells"][0]).collect();
        assert_eq!(names, [&json!("kubia"), &json!("web")]);
    }

    #[test]
    fn empty_table_has_empty_rows_and_watch_events_may_omit_columns() {
        let empty = table("", "Pod", &[], json!({"resourceVersion": "5"}), now(), IncludeObject::Metadata, true);
        assert_eq!(empty["rows"], json!([]));
        assert_eq!(empty["columnDefinitions"].as_array().map(Vec::len), Some(9));

        let event = table("", "Pod", &[running_pod()], json!(null), now(), IncludeObject::Metadata, false);
        assert_eq!(event["columnDefinitions"], json!([]));
        assert_eq!(event["metadata"], json!({}));
        assert_eq!(event["rows"][0]["cells"].as_array().map(Vec::len), Some(9));
    }

    #[test]
    fn column_definitions_always_carry_all_five_fields() {
        for (group, kind) in ALL_PRINTED_KINDS {
            for definition in column_definitions(group, kind) {
                let map = definition.as_object().expect("map");
                let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
                keys.sort_unstable();
                assert_eq!(keys, ["description", "format", "name", "priority", "type"], "{group}/{kind}");
                assert!(map["priority"] == 0 || map["priority"] == 1, "{group}/{kind}");
                assert!(!map["description"].as_str().unwrap_or("").is_empty(), "{group}/{kind}");
            }
            let name_columns = columns(group, kind).iter().filter(|c| c.format == "name").count();
            assert_eq!(name_columns, 1, "{group}/{kind} needs exactly one name column");
        }
    }

    #[test]
    fn every_printer_fills_one_cell_per_column_even_for_malformed_objects() {
        let malformed = [
            json!({}),
            json!(null),
            json!(42),
            json!("pod"),
            json!({"metadata": 3, "spec": "x", "status": []}),
            json!({"metadata": {"name": 5, "creationTimestamp": 7, "labels": [], "deletionTimestamp": "soon"},
                   "spec": {"replicas": "three", "containers": {}, "selector": "app=x", "ports": [1, null],
                            "template": {"spec": {"containers": [null, 3]}}, "metrics": [null, {"type": 4}],
                            "initContainers": "x", "readinessGates": [{}]},
                   "status": {"conditions": [null, "x"], "containerStatuses": [null, {"state": "running"}],
                              "initContainerStatuses": [{"state": {"waiting": null, "terminated": 1}}],
                              "loadBalancer": {"ingress": [null]}, "active": 2},
                   "subsets": [{"addresses": [null], "ports": [null]}], "endpoints": [{"addresses": [1]}],
                   "ports": [{"port": "x"}], "data": [], "series": {"count": "x"}, "involvedObject": 9}),
        ];
        for (group, kind) in ALL_PRINTED_KINDS {
            for object in &malformed {
                let row = row(group, kind, object, now(), IncludeObject::Metadata);
                assert_eq!(
                    row["cells"].as_array().map(Vec::len),
                    Some(columns(group, kind).len()),
                    "{group}/{kind} with {object}"
                );
            }
        }
    }

    #[test]
    fn kinds_without_a_printer_get_name_and_created_at() {
        assert!(!has_custom_printer("rbac.authorization.k8s.io", "Role"));
        assert!(has_custom_printer("apps", "Deployment"));
        let definitions = column_definitions("example.com", "Widget");
        assert_eq!(
            definitions[0],
            json!({"name": "Name", "type": "string", "format": "name",
            "description": NAME.description, "priority": 0})
        );
        assert_eq!(definitions[1]["name"], "Created At");
        assert_eq!(definitions[1]["type"], "date");
        let widget = json!({"metadata": {"name": "w", "creationTimestamp": "2024-01-02T05:04:05.25+02:00"}});
        assert_eq!(cells("example.com", "Widget", &widget), r#"["w","2024-01-02T03:04:05Z"]"#);
        assert_eq!(cells("example.com", "Widget", &json!({})), r#"["","0001-01-01T00:00:00Z"]"#);
    }

    // --- Deployment, ReplicaSet, StatefulSet, DaemonSet ------------------------------------------

    #[test]
    fn deployment_row_shows_ready_over_desired() {
        assert_eq!(
            cells("apps", "Deployment", &kubia_deployment()),
            r#"["kubia","3/3",3,3,"2s","nodejs","luksa/kubia:v1","app=kubia"]"#
        );
        let mut scaling = kubia_deployment();
        scaling["spec"]["replicas"] = json!(5);
        scaling["status"] = json!({"readyReplicas": 2, "updatedReplicas": 1});
        assert_eq!(
            cells_named("apps", "Deployment", &scaling, &["Ready", "Up-to-date", "Available"]),
            r#"["2/5",1,0]"#
        );
    }

    #[test]
    fn deployment_columns_match_what_kubectl_shows() {
        let described: Vec<(&str, &str, u8)> =
            columns("apps", "Deployment").iter().map(|c| (c.name, c.type_, c.priority)).collect();
        assert_eq!(
            described,
            [
                ("Name", "string", 0),
                ("Ready", "string", 0),
                ("Up-to-date", "string", 0),
                ("Available", "string", 0),
                ("Age", "string", 0),
                ("Containers", "string", 1),
                ("Images", "string", 1),
                ("Selector", "string", 1)
            ]
        );
    }

    #[test]
    fn deployment_without_replicas_counts_the_default_one() {
        let mut deployment = kubia_deployment();
        deployment["spec"].as_object_mut().expect("map").remove("replicas");
        deployment["status"] = json!({});
        assert_eq!(cells_named("apps", "Deployment", &deployment, &["Ready"]), r#"["0/1"]"#);
    }

    #[test]
    fn selectors_print_sorted_requirements_and_placeholders() {
        let mut deployment = kubia_deployment();
        deployment["spec"]["selector"] = json!({
            "matchLabels": {"tier": "web", "app": "kubia"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]},
                                 {"key": "legacy", "operator": "DoesNotExist"},
                                 {"key": "canary", "operator": "Exists"},
                                 {"key": "zone", "operator": "NotIn", "values": ["b"]}]
        });
        deployment["spec"]["template"]["spec"]["containers"] =
            json!([{"name": "web", "image": "nginx"}, {"name": "sidecar", "image": "envoy:1"}]);
        assert_eq!(
            cells_named("apps", "Deployment", &deployment, &["Containers", "Images", "Selector"]),
            r#"["web,sidecar","nginx,envoy:1","app=kubia,canary,env in (dev,prod),!legacy,tier=web,zone notin (b)"]"#
        );
        deployment["spec"]["selector"] = json!({"matchExpressions": [{"key": "env", "operator": "In", "values": []}]});
        assert_eq!(cells_named("apps", "Deployment", &deployment, &["Selector"]), r#"["<invalid>"]"#);
        deployment["spec"]["selector"] = json!({});
        assert_eq!(cells_named("apps", "Deployment", &deployment, &["Selector"]), r#"[""]"#);

        let mut replica_set = kubia_deployment();
        replica_set["spec"]["selector"] = json!({});
        assert_eq!(cells_named("apps", "ReplicaSet", &replica_set, &["Selector"]), r#"["<none>"]"#);
        replica_set["spec"]["selector"] = json!({"matchExpressions": [{"key": "a", "operator": "Near"}]});
        assert_eq!(cells_named("apps", "ReplicaSet", &replica_set, &["Selector"]), r#"["<error>"]"#);
    }

    #[test]
    fn replica_set_row_shows_desired_current_ready_as_integers() {
        let mut replica_set = kubia_deployment();
        replica_set["metadata"]["name"] = json!("kubia-nxd6b2rrzs");
        replica_set["status"] = json!({"replicas": 3, "readyReplicas": 2});
        assert_eq!(
            cells("apps", "ReplicaSet", &replica_set),
            r#"["kubia-nxd6b2rrzs",3,3,2,"2s","nodejs","luksa/kubia:v1","app=kubia"]"#
        );
    }

    #[test]
    fn stateful_set_and_daemon_set_rows_match_upstream_columns() {
        let mut stateful_set = kubia_deployment();
        stateful_set["status"] = json!({"readyReplicas": 1});
        assert_eq!(cells("apps", "StatefulSet", &stateful_set), r#"["kubia","1/3","2s","nodejs","luksa/kubia:v1"]"#);

        let daemon_set = json!({
            "metadata": {"name": "fluentd", "creationTimestamp": ago(3600)},
            "spec": {"selector": {"matchLabels": {"name": "fluentd"}},
                     "template": {"spec": {"nodeSelector": {"os": "linux", "arch": "amd64"},
                                           "containers": [{"name": "fluentd", "image": "fluentd:v2"}]}}},
            "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                       "updatedNumberScheduled": 3, "numberAvailable": 2}
        });
        assert_eq!(
            cells("apps", "DaemonSet", &daemon_set),
            r#"["fluentd",3,3,2,3,2,"arch=amd64,os=linux","60m","fluentd","fluentd:v2","name=fluentd"]"#
        );
    }

    #[test]
    fn controller_revision_names_its_controller_with_kind_and_group() {
        let revision = json!({
            "metadata": {"name": "web-6d4b", "creationTimestamp": ago(5),
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web",
                                              "controller": true}]},
            "revision": 2
        });
        assert_eq!(cells("apps", "ControllerRevision", &revision), r#"["web-6d4b","statefulset.apps/web",2,"5s"]"#);
        assert_eq!(cells_named("apps", "ControllerRevision", &json!({}), &["Controller"]), r#"["<none>"]"#);
    }

    // --- Pod -------------------------------------------------------------------------------------

    #[test]
    fn running_pod_row_shows_ready_status_restarts_and_wide_cells() {
        assert_eq!(
            cells("", "Pod", &running_pod()),
            r#"["kubia-abc","1/1","Running","0","1s","10.0.0.7","node-1","<none>","<none>"]"#
        );
        let row = row("", "Pod", &running_pod(), now(), IncludeObject::Metadata);
        assert!(row.get("conditions").is_none());
    }

    #[test]
    fn unscheduled_pod_prints_pending_and_none_placeholders() {
        let pod = json!({"metadata": {"name": "p", "creationTimestamp": ago(30)},
                         "spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(cells("", "Pod", &pod), r#"["p","0/2","Pending","0","30s","<none>","<none>","<none>","<none>"]"#);
    }

    #[test]
    fn pod_status_is_terminating_when_deletion_timestamp_is_set() {
        let mut pod = running_pod();
        pod["metadata"]["deletionTimestamp"] = json!(ago(0));
        assert_eq!(pod_status_cell(&pod), "Terminating");

        pod["status"]["reason"] = json!("NodeLost");
        assert_eq!(pod_status_cell(&pod), "Unknown");

        let mut finished = running_pod();
        finished["metadata"]["deletionTimestamp"] = json!(ago(0));
        finished["status"]["phase"] = json!("Succeeded");
        finished["status"]["containerStatuses"][0]["state"] =
            json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
        assert_eq!(pod_status_cell(&finished), "Completed");
    }

    #[test]
    fn pod_status_shows_container_waiting_and_terminated_reasons() {
        let creating = pod_with_container_state(json!({"waiting": {"reason": "ContainerCreating"}}), false);
        assert_eq!(pod_status_cell(&creating), "ContainerCreating");
        assert_eq!(cells_named("", "Pod", &creating, &["Ready"]), r#"["0/1"]"#);

        let crashing = pod_with_container_state(json!({"waiting": {"reason": "CrashLoopBackOff"}}), false);
        assert_eq!(pod_status_cell(&crashing), "CrashLoopBackOff");

        let error = pod_with_container_state(json!({"terminated": {"exitCode": 1, "reason": "Error"}}), false);
        assert_eq!(pod_status_cell(&error), "Error");

        let signalled = pod_with_container_state(json!({"terminated": {"exitCode": 137, "signal": 9}}), false);
        assert_eq!(pod_status_cell(&signalled), "Signal:9");

        let exit_code = pod_with_container_state(json!({"terminated": {"exitCode": 2}}), false);
        assert_eq!(pod_status_cell(&exit_code), "ExitCode:2");

        let mut completed =
            pod_with_container_state(json!({"terminated": {"exitCode": 0, "reason": "Completed"}}), false);
        completed["status"]["phase"] = json!("Succeeded");
        assert_eq!(pod_status_cell(&completed), "Completed");
        let row = row("", "Pod", &completed, now(), IncludeObject::None);
        assert_eq!(
            row["conditions"],
            json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
                    "message": "The pod has completed successfully."}])
        );

        let mut evicted = running_pod();
        evicted["status"] = json!({"phase": "Failed", "reason": "Evicted"});
        assert_eq!(pod_status_cell(&evicted), "Evicted");
        assert_eq!(row_conditions_reason(&evicted), Some("Failed".to_string()));
    }

    fn row_conditions_reason(pod: &Value) -> Option<String> {
        let row = row("", "Pod", pod, now(), IncludeObject::None);
        row.get("conditions").map(|c| c[0]["reason"].as_str().unwrap_or("").to_string())
    }

    #[test]
    fn pod_with_a_completed_and_a_running_container_is_running_or_not_ready() {
        let mut pod = running_pod();
        pod["spec"]["containers"] = json!([{"name": "job"}, {"name": "server"}]);
        pod["status"]["containerStatuses"] = json!([
            {"name": "job", "ready": false, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
            {"name": "server", "ready": true, "state": {"running": {}}}
        ]);
        assert_eq!(cells_named("", "Pod", &pod, &["Ready", "Status"]), r#"["1/2","Running"]"#);

        pod["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
        assert_eq!(pod_status_cell(&pod), "NotReady");
    }

    #[test]
    fn pod_restarts_show_how_long_ago_the_last_restart_was() {
        let mut pod = running_pod();
        pod["status"]["containerStatuses"][0]["restartCount"] = json!(3);
        pod["status"]["containerStatuses"][0]["lastState"] =
            json!({"terminated": {"exitCode": 1, "finishedAt": ago(5 * 60)}});
        assert_eq!(cells_named("", "Pod", &pod, &["Restarts"]), r#"["3 (5m ago)"]"#);

        // Without a finish time only the count is known.
        pod["status"]["containerStatuses"][0]["lastState"] = json!({"terminated": {"exitCode": 1}});
        assert_eq!(cells_named("", "Pod", &pod, &["Restarts"]), r#"["3"]"#);
    }

    #[test]
    fn pod_status_reports_init_container_progress_and_failures() {
        let mut pod = running_pod();
        pod["status"]["phase"] = json!("Pending");
        pod["status"]["conditions"] = json!([{"type": "Initialized", "status": "False"}]);
        pod["spec"]["initContainers"] = json!([{"name": "migrate"}, {"name": "seed"}]);
        pod["status"]["containerStatuses"][0]["state"] = json!({"waiting": {"reason": "PodInitializing"}});

        pod["status"]["initContainerStatuses"] = json!([
            {"name": "migrate", "state": {"running": {}}, "restartCount": 0},
            {"name": "seed", "state": {"waiting": {"reason": "PodInitializing"}}}
        ]);
        assert_eq!(pod_status_cell(&pod), "Init:0/2");

        pod["status"]["initContainerStatuses"][0]["state"] =
            json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
        assert_eq!(pod_status_cell(&pod), "Init:1/2");

        pod["status"]["initContainerStatuses"][0]["state"] = json!({"waiting": {"reason": "CrashLoopBackOff"}});
        pod["status"]["initContainerStatuses"][0]["restartCount"] = json!(4);
        assert_eq!(cells_named("", "Pod", &pod, &["Status", "Restarts"]), r#"["Init:CrashLoopBackOff","4"]"#);

        pod["status"]["initContainerStatuses"][0]["state"] = json!({"terminated": {"exitCode": 1, "reason": "Error"}});
        assert_eq!(pod_status_cell(&pod), "Init:Error");
        pod["status"]["initContainerStatuses"][0]["state"] = json!({"terminated": {"exitCode": 3}});
        assert_eq!(pod_status_cell(&pod), "Init:ExitCode:3");
        pod["status"]["initContainerStatuses"][0]["state"] = json!({"terminated": {"exitCode": 3, "signal": 15}});
        assert_eq!(pod_status_cell(&pod), "Init:Signal:15");
    }

    #[test]
    fn pod_counts_started_sidecars_as_containers() {
        let mut pod = running_pod();
        pod["spec"]["initContainers"] = json!([{"name": "proxy", "restartPolicy": "Always"}]);
        pod["status"]["initContainerStatuses"] =
            json!([{"name": "proxy", "started": true, "ready": true, "restartCount": 2, "state": {"running": {}}}]);
        assert_eq!(cells_named("", "Pod", &pod, &["Ready", "Status", "Restarts"]), r#"["2/2","Running","2"]"#);
    }

    #[test]
    fn pod_status_shows_scheduling_gated() {
        let mut pod = running_pod();
        pod["status"] = json!({"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]});
        assert_eq!(pod_status_cell(&pod), "SchedulingGated");
    }

    #[test]
    fn pod_wide_cells_show_nominated_node_and_readiness_gates() {
        let mut pod = running_pod();
        pod["status"].as_object_mut().expect("map").remove("podIP");
        pod["status"]["podIPs"] = json!([{"ip": "fd00::7"}]);
        pod["status"]["nominatedNodeName"] = json!("node-2");
        pod["spec"]["readinessGates"] =
            json!([{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"}]);
        pod["status"]["conditions"] = json!([{"type": "example.com/lb", "status": "True"},
                                             {"type": "example.com/dns", "status": "False"}]);
        assert_eq!(
            cells_named("", "Pod", &pod, &["IP", "Node", "Nominated Node", "Readiness Gates"]),
            r#"["fd00::7","node-1","node-2","1/2"]"#
        );
    }

    // --- Service, Endpoints, EndpointSlice -------------------------------------------------------

    #[test]
    fn service_rows_show_type_ips_and_ports() {
        let cluster_ip = json!({
            "metadata": {"name": "kubia", "creationTimestamp": ago(90)},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                     "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
                     "selector": {"app": "kubia"}}
        });
        assert_eq!(
            cells("", "Service", &cluster_ip),
            r#"["kubia","ClusterIP","10.96.0.10","<none>","80/TCP,53/UDP","90s","app=kubia"]"#
        );

        let node_port = json!({"spec": {"type": "NodePort", "clusterIP": "10.96.0.11",
                                         "ports": [{"port": 80, "nodePort": 30080}], "externalIPs": ["1.2.3.4"]}});
        assert_eq!(
            cells_named("", "Service", &node_port, &["External-IP", "Port(s)", "Selector"]),
            r#"["1.2.3.4","80:30080/TCP","<none>"]"#
        );

        let pending = json!({"spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.12", "ports": [{"port": 443}]}});
        assert_eq!(cells_named("", "Service", &pending, &["External-IP"]), r#"["<pending>"]"#);

        let mut balanced = pending.clone();
        balanced["status"] = json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "a.example.com"},
                                                                   {"ip": "203.0.113.9"}]}});
        balanced["spec"]["externalIPs"] = json!(["198.51.100.1"]);
        assert_eq!(
            cells_named("", "Service", &balanced, &["External-IP"]),
            r#"["203.0.113.9,a.example.com,198.51.100.1"]"#
        );

        let external = json!({"spec": {"type": "ExternalName", "externalName": "db.example.com"}});
        assert_eq!(
            cells_named("", "Service", &external, &["Cluster-IP", "External-IP", "Port(s)"]),
            r#"["<none>","db.example.com","<none>"]"#
        );

        let headless = json!({"spec": {"clusterIP": "None", "ports": [{"port": 80}]}});
        assert_eq!(cells_named("", "Service", &headless, &["Type", "Cluster-IP"]), r#"["ClusterIP","None"]"#);
    }

    #[test]
    fn endpoints_list_three_addresses_then_count_the_rest() {
        let endpoints = json!({
            "metadata": {"name": "kubia", "creationTimestamp": ago(10)},
            "subsets": [
                {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 8080}, {"port": 8443}]},
                {"addresses": [{"ip": "fd00::3"}], "ports": [{"port": 80}]}
            ]
        });
        assert_eq!(
            cells("", "Endpoints", &endpoints),
            r#"["kubia","10.0.0.1:8080,10.0.0.2:8080,10.0.0.1:8443 + 2 more...","10s"]"#
        );

        let small = json!({"subsets": [{"addresses": [{"ip": "fd00::3"}], "ports": [{"port": 80}]},
                                       {"addresses": [{"ip": "10.0.0.9"}]}]});
        assert_eq!(cells_named("", "Endpoints", &small, &["Endpoints"]), r#"["[fd00::3]:80,10.0.0.9"]"#);
        assert_eq!(cells_named("", "Endpoints", &json!({}), &["Endpoints"]), r#"["<none>"]"#);
        let three =
            json!({"subsets": [{"addresses": [{"ip": "a"}, {"ip": "b"}, {"ip": "c"}], "ports": [{"port": 1}]}]});
        assert_eq!(cells_named("", "Endpoints", &three, &["Endpoints"]), r#"["a:1,b:1,c:1"]"#);
    }

    #[test]
    fn endpoint_slice_lists_ports_and_addresses() {
        let slice = json!({
            "metadata": {"name": "kubia-x7k2p", "creationTimestamp": ago(10)},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080}, {"name": "metrics"}, {}],
            "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2", "10.0.0.3"]}, {"addresses": ["10.0.0.4"]}]
        });
        assert_eq!(
            cells("discovery.k8s.io", "EndpointSlice", &slice),
            r#"["kubia-x7k2p","IPv4","8080,metrics,*","10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...","10s"]"#
        );
        assert_eq!(
            cells_named("discovery.k8s.io", "EndpointSlice", &json!({}), &["Ports", "Endpoints"]),
            r#"["<unset>","<unset>"]"#
        );
    }

    // --- Config, namespaces, nodes, storage ------------------------------------------------------

    #[test]
    fn config_map_data_counts_binary_data_too() {
        let config_map = json!({"metadata": {"name": "cfg", "creationTimestamp": ago(4 * 86_400)},
                                "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
        assert_eq!(cells("", "ConfigMap", &config_map), r#"["cfg",3,"4d"]"#);
    }

    #[test]
    fn secret_row_shows_type_and_number_of_keys() {
        let secret = json!({"metadata": {"name": "tls", "creationTimestamp": ago(60)}, "type": "kubernetes.io/tls",
                            "data": {"tls.crt": "", "tls.key": ""}, "stringData": {"tls.key": "x", "ca.crt": "y"}});
        assert_eq!(cells("", "Secret", &secret), r#"["tls","kubernetes.io/tls",3,"60s"]"#);
        assert_eq!(cells_named("", "Secret", &json!({}), &["Type", "Data"]), r#"["Opaque",0]"#);
    }

    #[test]
    fn namespace_and_service_account_rows() {
        let namespace = json!({"metadata": {"name": "dev", "creationTimestamp": ago(3 * 3600 + 120)}});
        assert_eq!(cells("", "Namespace", &namespace), r#"["dev","Active","3h2m"]"#);
        let terminating = json!({"metadata": {"name": "old"}, "status": {"phase": "Terminating"}});
        assert_eq!(cells("", "Namespace", &terminating), r#"["old","Terminating","<unknown>"]"#);
        let account = json!({"metadata": {"name": "default", "creationTimestamp": ago(0)}});
        assert_eq!(cells("", "ServiceAccount", &account), r#"["default","0s"]"#);
    }

    #[test]
    fn node_row_shows_readiness_roles_and_system_info() {
        let node = json!({
            "metadata": {"name": "node-1", "creationTimestamp": ago(10 * 86_400),
                         "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/": "",
                                    "kubernetes.io/role": "worker", "kubernetes.io/hostname": "node-1"}},
            "spec": {"unschedulable": true},
            "status": {
                "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
                "addresses": [{"type": "Hostname", "address": "node-1"}, {"type": "InternalIP", "address": "192.168.1.10"}],
                "nodeInfo": {"kubeletVersion": "v1.35.0", "osImage": "Debian GNU/Linux 12", "kernelVersion": "6.1.0",
                             "containerRuntimeVersion": "containerd://2.0.0"}
            }
        });
        assert_eq!(
            cells("", "Node", &node),
            r#"["node-1","Ready,SchedulingDisabled","control-plane,worker","10d","v1.35.0","192.168.1.10","<none>","Debian GNU/Linux 12","6.1.0","containerd://2.0.0"]"#
        );
        let bare =
            json!({"metadata": {"name": "n"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
        assert_eq!(
            cells("", "Node", &bare),
            r#"["n","NotReady","<none>","<unknown>","","<none>","<none>","<unknown>","<unknown>","<unknown>"]"#
        );
        assert_eq!(cells_named("", "Node", &json!({}), &["Status"]), r#"["Unknown"]"#);
    }

    #[test]
    fn persistent_volume_claim_shows_bound_volume_details() {
        let claim = json!({
            "metadata": {"name": "data", "creationTimestamp": ago(5)},
            "spec": {"volumeName": "pv-1", "storageClassName": "standard", "volumeMode": "Block"},
            "status": {"phase": "Bound", "capacity": {"storage": "1Gi"},
                       "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"]}
        });
        assert_eq!(
            cells("", "PersistentVolumeClaim", &claim),
            r#"["data","Bound","pv-1","1Gi","RWO,RWX","standard","<unset>","5s","Block"]"#
        );
        let pending = json!({"metadata": {"name": "p", "deletionTimestamp": ago(0),
                                          "annotations": {"volume.beta.kubernetes.io/storage-class": "fast"}},
                             "spec": {"storageClassName": "standard"}});
        assert_eq!(
            cells_named("", "PersistentVolumeClaim", &pending, &["Status", "Capacity", "StorageClass", "VolumeMode"]),
            r#"["Terminating","","fast","Filesystem"]"#
        );
    }

    // --- Job, CronJob ----------------------------------------------------------------------------

    fn job(conditions: Value) -> Value {
        json!({
            "metadata": {"name": "pi", "creationTimestamp": ago(300)},
            "spec": {"completions": 1, "parallelism": 1, "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
                     "template": {"spec": {"containers": [{"name": "pi", "image": "perl:5.34"}]}}},
            "status": {"startTime": ago(290), "conditions": conditions}
        })
    }

    #[test]
    fn job_status_follows_conditions_in_upstream_order() {
        let cases = [
            (json!([]), "Running"),
            (json!([{"type": "Complete", "status": "True"}]), "Complete"),
            (
                json!([{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]),
                "Complete",
            ),
            (json!([{"type": "Failed", "status": "True"}]), "Failed"),
            (json!([{"type": "FailureTarget", "status": "True"}]), "FailureTarget"),
            (json!([{"type": "SuccessCriteriaMet", "status": "True"}]), "SuccessCriteriaMet"),
            (json!([{"type": "Suspended", "status": "True"}]), "Suspended"),
            (json!([{"type": "Suspended", "status": "False"}]), "Running"),
        ];
        for (conditions, expected) in cases {
            let job = job(conditions.clone());
            assert_eq!(cells_named("batch", "Job", &job, &["Status"]), format!("[{:?}]", expected), "{conditions}");
        }
        let mut deleting = job(json!([{"type": "Suspended", "status": "True"}]));
        deleting["metadata"]["deletionTimestamp"] = json!(ago(0));
        assert_eq!(cells_named("batch", "Job", &deleting, &["Status"]), r#"["Terminating"]"#);
    }

    #[test]
    fn job_row_shows_completions_and_duration() {
        let mut running = job(json!([]));
        assert_eq!(
            cells("batch", "Job", &running),
            r#"["pi","Running","0/1","4m50s","5m","pi","perl:5.34","batch.kubernetes.io/controller-uid=u"]"#
        );
        running["status"]["succeeded"] = json!(1);
        running["status"]["completionTime"] = json!(ago(250));
        running["status"]["conditions"] = json!([{"type": "Complete", "status": "True"}]);
        assert_eq!(
            cells_named("batch", "Job", &running, &["Status", "Completions", "Duration"]),
            r#"["Complete","1/1","40s"]"#
        );

        let mut parallel = job(json!([]));
        parallel["spec"] = json!({"parallelism": 3});
        parallel["status"] = json!({"succeeded": 2});
        assert_eq!(
            cells_named("batch", "Job", &parallel, &["Completions", "Duration", "Selector"]),
            r#"["2/1 of 3","","<none>"]"#
        );
    }

    #[test]
    fn cron_job_row_shows_schedule_timezone_suspend_and_last_schedule() {
        let cron_job = json!({
            "metadata": {"name": "hello", "creationTimestamp": ago(3600)},
            "spec": {"schedule": "*/5 * * * *", "timeZone": "Etc/UTC", "suspend": true,
                     "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "hello", "image": "busybox"}]}}}}},
            "status": {"active": [{"name": "hello-1"}], "lastScheduleTime": ago(65)}
        });
        assert_eq!(
            cells("batch", "CronJob", &cron_job),
            r#"["hello","*/5 * * * *","Etc/UTC","True",1,"65s","60m","hello","busybox","<none>"]"#
        );
        let fresh = json!({"spec": {"schedule": "@hourly"}});
        assert_eq!(
            cells_named("batch", "CronJob", &fresh, &["Timezone", "Suspend", "Active", "Last Schedule"]),
            r#"["<none>","False",0,"<none>"]"#
        );
    }

    // --- Events ----------------------------------------------------------------------------------

    #[test]
    fn event_row_matches_kubectl_get_events() {
        let event = json!({
            "metadata": {"name": "kubia.17a1", "namespace": "default"},
            "involvedObject": {"kind": "Deployment", "name": "kubia", "namespace": "default"},
            "reason": "ScalingReplicaSet", "type": "Normal",
            "message": "Scaled up replica set kubia-nxd6b2rrzs from 0 to 3\n",
            "source": {"component": "deployment-controller"},
            "firstTimestamp": ago(4), "lastTimestamp": ago(4), "count": 1
        });
        assert_eq!(
            cells("", "Event", &event),
            r#"["4s","Normal","ScalingReplicaSet","deployment/kubia","","deployment-controller","Scaled up replica set kubia-nxd6b2rrzs from 0 to 3","4s",1,"kubia.17a1"]"#
        );
        let shown: Vec<&str> = columns("", "Event").iter().filter(|c| c.priority == 0).map(|c| c.name).collect();
        assert_eq!(shown, ["Last Seen", "Type", "Reason", "Object", "Message"]);
    }

    #[test]
    fn event_times_fall_back_to_event_time_and_series() {
        let new_style = json!({
            "metadata": {"name": "e"},
            "involvedObject": {"kind": "Node"},
            // 120.88s ago: microsecond precision, as eventTime is written.
            "eventTime": ago(121).replace('Z', ".123456Z"),
            "reportingController": "kubelet", "reportingInstance": "node-1"
        });
        assert_eq!(
            cells_named("", "Event", &new_style, &["Last Seen", "First Seen", "Object", "Source", "Count"]),
            r#"["2m","2m","node","kubelet, node-1",1]"#
        );
        let mut series = new_style.clone();
        series["series"] = json!({"count": 7, "lastObservedTime": ago(30)});
        assert_eq!(cells_named("", "Event", &series, &["Last Seen", "Count"]), r#"["30s",7]"#);
        assert_eq!(cells_named("", "Event", &json!({}), &["Last Seen", "First Seen"]), r#"["<unknown>","<unknown>"]"#);
    }

    #[test]
    fn events_api_events_print_like_core_events() {
        let event = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "kubia.17a1"},
            "regarding": {"kind": "Pod", "name": "kubia-abc", "fieldPath": "spec.containers{nodejs}"},
            "reason": "Pulled", "type": "Normal", "note": "Container image pulled",
            "deprecatedSource": {"component": "kubelet", "host": "node-1"},
            "deprecatedFirstTimestamp": ago(600), "deprecatedLastTimestamp": ago(60), "deprecatedCount": 4
        });
        assert_eq!(
            cells("events.k8s.io", "Event", &event),
            r#"["60s","Normal","Pulled","pod/kubia-abc","spec.containers{nodejs}","kubelet, node-1","Container image pulled","10m",4,"kubia.17a1"]"#
        );
    }

    // --- HorizontalPodAutoscaler, ReplicationController ------------------------------------------

    #[test]
    fn autoscaler_targets_show_current_over_target() {
        let v1 = json!({
            "apiVersion": "autoscaling/v1", "metadata": {"name": "kubia", "creationTimestamp": ago(20)},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "kubia"}, "maxReplicas": 5,
                     "targetCPUUtilizationPercentage": 50},
            "status": {"currentReplicas": 2, "currentCPUUtilizationPercentage": 12}
        });
        assert_eq!(
            cells("autoscaling", "HorizontalPodAutoscaler", &v1),
            r#"["kubia","Deployment/kubia","cpu: 12%/50%","1",5,2,"20s"]"#
        );

        let v2 = json!({
            "apiVersion": "autoscaling/v2",
            "spec": {"minReplicas": 2, "metrics": [
                {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1Gi"}}},
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
                {"type": "Pods", "pods": {"target": {"averageValue": "10"}}}
            ]},
            "status": {"currentMetrics": [{"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "512Mi"}}}]}
        });
        assert_eq!(
            cells_named("autoscaling", "HorizontalPodAutoscaler", &v2, &["Targets", "MinPods"]),
            r#"["memory: 512Mi/1Gi, cpu: <unknown>/80% + 1 more...","2"]"#
        );
        let defaulted = json!({"apiVersion": "autoscaling/v2", "spec": {}, "status": {"currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 7}}}]}});
        assert_eq!(
            cells_named("autoscaling", "HorizontalPodAutoscaler", &defaulted, &["Targets"]),
            r#"["cpu: 7%/80%"]"#
        );
        let external = json!({"spec": {"metrics": [
            {"type": "External", "external": {"target": {"averageValue": "30"}}},
            {"type": "Object", "object": {"target": {"value": "2k"}}}
        ]}, "status": {"currentMetrics": [{"external": {"current": {"averageValue": "12"}}}, {"object": {"current": {"value": "1k"}}}]}});
        assert_eq!(
            cells_named("autoscaling", "HorizontalPodAutoscaler", &external, &["Targets"]),
            r#"["12/30 (avg), 1k/2k"]"#
        );
    }

    #[test]
    fn replication_controller_prints_like_a_replica_set_with_a_label_map_selector() {
        let controller = json!({
            "metadata": {"name": "kubia", "creationTimestamp": ago(2)},
            "spec": {"replicas": 3, "selector": {"app": "kubia"},
                     "template": {"spec": {"containers": [{"name": "nodejs", "image": "luksa/kubia:v1"}]}}},
            "status": {"replicas": 3, "readyReplicas": 3}
        });
        assert_eq!(
            cells("", "ReplicationController", &controller),
            r#"["kubia",3,3,3,"2s","nodejs","luksa/kubia:v1","app=kubia"]"#
        );
    }
}
