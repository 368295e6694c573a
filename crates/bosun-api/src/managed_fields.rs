//! Field ownership: `metadata.managedFields`, kept as kube-apiserver 1.35 keeps it
//! (`k8s.io/apimachinery/pkg/util/managedfields` over `sigs.k8s.io/structured-merge-diff`;
//! API-semantics spec, sections 2.1, 3.6.5 and 3.6.6).
//!
//! # Entries
//!
//! `managedFields` lists who set which fields: one [`ManagedFieldsEntry`] per manager, operation
//! (`Update` or `Apply`) and subresource (and, for `Update`, apiVersion), each with the
//! [`FieldSet`] it owns as `fieldsV1` (the `field_set` submodule has the format, `structured`
//! how an object's fields are read along the schema, from the strategic-merge-patch table). Entries are written sorted as upstream sorts them:
//! `Apply` before `Update`, then oldest first. An entry left with no fields is dropped. At most
//! [`UPDATE_MANAGERS_MAX`] `Update` entries are kept; the oldest merge into `ancient-changes`.
//!
//! The manager is `?fieldManager=`, else the User-Agent up to its first `/`
//! ([`manager_from_user_agent`]; the HTTP layer does this).
//!
//! # Ordinary writes ([`record_update`])
//!
//! Create, update and every patch but apply record an `Update` entry: the writer takes the
//! fields whose value changed (added or modified, old object against new), every other manager
//! loses them and the removed ones, and the writer's entry gets a new `time` — only when it took
//! something, so a write that changes nothing changes no entry. Fields the endpoint resets are not
//! owned through it: `status` on the main endpoint of types with a status subresource, anything
//! but `status` and `metadata` on `/status`. A writer may replace `managedFields` outright by
//! sending them (kubectl's client-side to server-side apply migration does, with a JSON patch);
//! `[]` or `[{}]` clears them; an absent or unreadable list keeps the stored one.
//! [`keep_live_when_only_times_moved`] then makes a write that would only move timestamps a
//! no-op.
//!
//! # Server-side apply ([`apply`])
//!
//! The applied configuration is the manager's whole intent. It is merged into the live object
//! (objects field by field, keyed lists item by item, everything else replaced); fields the same
//! manager applied last time but not now are removed unless another manager owns them; the
//! manager's `Apply` entry becomes exactly the configuration's fields. A changed value of a field
//! another manager owns is a conflict: `409 Conflict` with one `FieldManagerConflict` cause per
//! field, worded as upstream words it, unless `force`, which takes the field over. Applying the
//! value a field already has shares it without conflict. As upstream, the manager `kubectl` may
//! take over fields that the client-side apply annotation still describes exactly, and keeps that
//! annotation in step with what it applies.
//!
//! # What differs from upstream
//!
//! * Only leaves and list items are owned: upstream also marks an object that appeared in an
//!   update (a map or pointer struct that was nil) as owned itself (`".": {}` under it). The
//!   fields under it are the same.
//! * Every apiVersion of a type is the same schema (Bosun serves one version per type).
//! * Apply to `/scale` is a strategic merge recorded as an `Update`, and `/scale` writes are
//!   recorded on the main resource, without `subresource: scale`.
//! * A new `Apply` entry that changed nothing in the object still gets a `time`.

mod field_set;
mod structured;

pub use field_set::{FieldSet, Path, PathElement, path_string};

use serde_json::{Map, Value};

use crate::api::{Subresource, api_version};
use crate::registry::ResourceType;
use crate::status::{Cause, Status, StatusDetails};
use structured::{Ty, drop_nulls};

/// `Update` entries kept; beyond this the oldest merge into `ancient-changes`, as upstream.
pub const UPDATE_MANAGERS_MAX: usize = 10;
/// The longest manager name taken from a User-Agent, in bytes, as upstream.
pub const MANAGER_LENGTH_MAX_BYTES: usize = 128;
/// The annotation client-side apply keeps its last configuration in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The entry the oldest `Update` entries merge into.
const ANCIENT_CHANGES: &str = "ancient-changes";
/// The one manager whose applies upgrade client-side apply, as upstream.
const KUBECTL: &str = "kubectl";
/// Annotations may total this much; a last-applied annotation that would exceed it is dropped.
const ANNOTATIONS_SIZE_MAX_BYTES: usize = 256 * 1024;

/// How a write keeps `managedFields`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracking {
    /// An ordinary write: [`record_update`] gives the writer the fields that changed.
    Update,
    /// A server-side apply: [`apply`] already set the entries on the object.
    Applied,
}

/// The operation of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Any other write.
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedFieldsEntry {
    /// Who wrote; may be empty (a client with neither `fieldManager` nor User-Agent).
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: Operation,
    /// The apiVersion the fields are in.
    pub api_version: String,
    /// When the entry last took fields (RFC 3339).
    pub time: Option<String>,
    /// `status`, `finalize`, or empty for the main resource.
    pub subresource: String,
    /// The fields owned.
    pub fields: FieldSet,
}

fn json_string(text: &str) -> String {
    Value::from(text).to_string()
}

impl ManagedFieldsEntry {
    /// Upstream's manager identifier: the entry without fields and time (and, for `Apply`,
    /// without apiVersion) as Go marshals it. Two entries with the same identifier are one.
    fn identifier(&self) -> String {
        let mut parts = Vec::with_capacity(4);
        if !self.manager.is_empty() {
            parts.push(format!("\"manager\":{}", json_string(&self.manager)));
        }
        parts.push(format!("\"operation\":\"{}\"", self.operation.as_str()));
        if self.operation == Operation::Update && !self.api_version.is_empty() {
            parts.push(format!("\"apiVersion\":{}", json_string(&self.api_version)));
        }
        if !self.subresource.is_empty() {
            parts.push(format!("\"subresource\":{}", json_string(&self.subresource)));
        }
        format!("{{{}}}", parts.join(","))
    }

    /// How conflict messages name the manager: `"kubectl"`, `"x" with subresource "status"`,
    /// and ` using <apiVersion>` for updaters.
    fn describe(&self) -> String {
        let mut out = json_string(&self.manager);
        if !self.subresource.is_empty() {
            out.push_str(&format!(" with subresource {}", json_string(&self.subresource)));
        }
        if self.operation == Operation::Update {
            out.push_str(&format!(" using {}", self.api_version));
        }
        out
    }

    /// The entry as JSON.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        if !self.api_version.is_empty() {
            map.insert("apiVersion".into(), self.api_version.clone().into());
        }
        map.insert("fieldsType".into(), "FieldsV1".into());
        map.insert("fieldsV1".into(), self.fields.to_fields_v1());
        if !self.manager.is_empty() {
            map.insert("manager".into(), self.manager.clone().into());
        }
        map.insert("operation".into(), self.operation.as_str().into());
        if !self.subresource.is_empty() {
            map.insert("subresource".into(), self.subresource.clone().into());
        }
        if let Some(time) = &self.time {
            map.insert("time".into(), time.clone().into());
        }
        Value::Object(map)
    }

    /// Reads entry `index`, with upstream's checks.
    fn from_value(index: usize, value: &Value) -> Result<Self, String> {
        let Value::Object(map) = value else {
            return Err(format!("managed fields entry {index} is not an object"));
        };
        let text = |key: &str| match map.get(key) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!("{key} of managed fields entry {index} is not a string: {other}")),
        };
        let operation = match text("operation")?.as_str() {
            "Apply" => Operation::Apply,
            "Update" => Operation::Update,
            _ => return Err("operation must be `Apply` or `Update`".into()),
        };
        let api_version = text("apiVersion")?;
        if api_version.is_empty() {
            return Err("apiVersion must not be empty".into());
        }
        match text("fieldsType")?.as_str() {
            "FieldsV1" => {}
            "" => return Err(format!("missing fieldsType in managed fields entry {index}")),
            other => return Err(format!("invalid fieldsType {other:?} in managed fields entry {index}")),
        }
        let fields = match map.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::new(),
            Some(fields) => FieldSet::from_fields_v1(fields)?,
        };
        let time = Some(text("time")?).filter(|t| !t.is_empty());
        Ok(ManagedFieldsEntry {
            manager: text("manager")?,
            operation,
            api_version,
            time,
            subresource: text("subresource")?,
            fields,
        })
    }
}

/// The decoded `managedFields` of an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManagedFields {
    /// One entry per identity.
    pub entries: Vec<ManagedFieldsEntry>,
}

impl ManagedFields {
    /// Reads a `managedFields` list. A later entry with the identity of an earlier one replaces it.
    pub fn decode(list: &Value) -> Result<Self, String> {
        let Value::Array(items) = list else {
            return Err("managedFields must be a list".into());
        };
        let mut out = ManagedFields::default();
        for (index, item) in items.iter().enumerate() {
            let entry = ManagedFieldsEntry::from_value(index, item)?;
            match out.position(&entry.identifier()) {
                Some(existing) => out.entries[existing] = entry,
                None => out.entries.push(entry),
            }
        }
        Ok(out)
    }

    /// The entries of an object (none when it has no `managedFields`).
    pub fn of_object(object: &Value) -> Result<Self, String> {
        match object.pointer("/metadata/managedFields") {
            None | Some(Value::Null) => Ok(ManagedFields::default()),
            Some(list) => Self::decode(list),
        }
    }

    /// The entry of `manager` with this operation on this subresource (`""` for the main one).
    pub fn find(&self, manager: &str, operation: Operation, subresource: &str) -> Option<&ManagedFieldsEntry> {
        self.entries.iter().find(|e| e.manager == manager && e.operation == operation && e.subresource == subresource)
    }

    fn position(&self, identifier: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.identifier() == identifier)
    }

    /// The list as upstream writes it: `Apply` entries first, then by time, manager,
    /// apiVersion and subresource.
    pub fn to_value(&self) -> Value {
        let mut entries: Vec<&ManagedFieldsEntry> = self.entries.iter().collect();
        entries.sort_by(|a, b| {
            (a.operation, a.time.as_deref().unwrap_or(""), &a.manager, &a.api_version, &a.subresource).cmp(&(
                b.operation,
                b.time.as_deref().unwrap_or(""),
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
        });
        Value::Array(entries.into_iter().map(ManagedFieldsEntry::to_value).collect())
    }

    /// Sets the object's `metadata.managedFields` (removing it when there are no entries).
    fn write_to(&self, object: &mut Value) {
        let metadata = crate::meta::metadata_mut(object);
        if self.entries.is_empty() {
            metadata.remove("managedFields");
        } else {
            metadata.insert("managedFields".into(), self.to_value());
        }
    }

    /// The entries without their times, in a canonical order.
    fn without_times(&self) -> Vec<(String, &str, &FieldSet)> {
        let mut out: Vec<_> =
            self.entries.iter().map(|e| (e.identifier(), e.api_version.as_str(), &e.fields)).collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// The manager of a write without `fieldManager`: the User-Agent up to its first `/`, printable
/// characters only, at most [`MANAGER_LENGTH_MAX_BYTES`] (kubectl sends
/// `kubectl/v1.35.0 (linux/amd64) kubernetes/…`: the manager is `kubectl`).
pub fn manager_from_user_agent(user_agent: &str) -> String {
    let prefix = user_agent.split('/').next().unwrap_or("");
    let mut out = String::new();
    for c in prefix.chars() {
        if !(c == ' ' || !(c.is_control() || c.is_whitespace())) {
            continue;
        }
        if out.len() >= MANAGER_LENGTH_MAX_BYTES {
            break;
        }
        out.push(c);
    }
    out
}

fn root_ty(rt: &ResourceType) -> Ty {
    Ty::root(crate::smp::root_type(rt.group, rt.kind).unwrap_or(&crate::smp::OBJECT))
}

fn subresource_name(subresource: Subresource) -> &'static str {
    match subresource {
        Subresource::Main => "",
        Subresource::Status => "status",
        Subresource::Finalize => "finalize",
    }
}

fn field(name: &str) -> PathElement {
    PathElement::Field(name.to_string())
}

/// The object as compared: without `managedFields` and `resourceVersion`.
fn comparable(object: &Value) -> Value {
    let mut out = object.clone();
    if let Some(metadata) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
        metadata.remove("resourceVersion");
    }
    out
}

/// [`comparable`] without the top-level fields the endpoint resets: nobody owns them through it,
/// so they need not be copied nor compared (a pod's spec on every status write, say).
fn comparable_for(rt: &ResourceType, subresource: Subresource, object: &Value) -> Value {
    let Some(fields) = object.as_object() else { return comparable(object) };
    let kept = |key: &str| match subresource {
        Subresource::Main => !(rt.has_status && key == "status"),
        Subresource::Status => matches!(key, "status" | "metadata" | "apiVersion" | "kind"),
        Subresource::Finalize => true,
    };
    let mut out: Map<String, Value> =
        fields.iter().filter(|(k, _)| kept(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    if let Some(metadata) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
        metadata.remove("resourceVersion");
    }
    Value::Object(out)
}

/// Fields the endpoint resets, which nobody owns through it (upstream's `ResetFields`).
fn reset_fields(rt: &ResourceType, subresource: Subresource, objects: &[&Value]) -> FieldSet {
    match subresource {
        Subresource::Main if rt.has_status => FieldSet::with_members([field("status")]),
        Subresource::Status => FieldSet::with_members(
            objects
                .iter()
                .filter_map(|o| o.as_object())
                .flat_map(|o| o.keys())
                .filter(|k| !matches!(k.as_str(), "status" | "metadata" | "apiVersion" | "kind"))
                .map(|k| field(k)),
        ),
        Subresource::Main | Subresource::Finalize => FieldSet::new(),
    }
}

/// `set` without the fields the server owns (upstream's `stripMetaManager`).
fn strip_server_fields(set: &FieldSet) -> FieldSet {
    let mut server = FieldSet::with_members([field("apiVersion"), field("kind"), field("metadata")]);
    for owned in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        server.insert(&[field("metadata"), field(owned)]);
    }
    set.difference(&server)
}

/// The entries an update starts from (upstream's `decodeLiveOrNew`): the stored ones, unless the
/// request carries readable ones of its own (`[]` and `[{}]` clear them). Subresources always
/// keep the stored ones.
fn managers_for_update(live: &Value, new: &Value, ignore_request: bool) -> ManagedFields {
    let stored = || ManagedFields::of_object(live).unwrap_or_default();
    if ignore_request {
        return stored();
    }
    match new.pointer("/metadata/managedFields") {
        Some(Value::Array(list)) if list.is_empty() => ManagedFields::default(),
        Some(Value::Array(list)) if list.len() == 1 && list[0].as_object().is_some_and(Map::is_empty) => {
            ManagedFields::default()
        }
        Some(list @ Value::Array(_)) => match ManagedFields::decode(list) {
            Ok(requested) if !requested.entries.is_empty() => requested,
            _ => stored(),
        },
        _ => stored(),
    }
}

/// Records an ordinary write by `manager` on `new`, the object about to be stored (`live` is
/// the stored one; `None` for a create). See the module documentation.
pub fn record_update(
    rt: &ResourceType,
    subresource: Subresource,
    live: Option<&Value>,
    new: &mut Value,
    manager: &str,
    now: &str,
) {
    let empty = Value::Object(Map::new());
    let live = live.unwrap_or(&empty);
    let mut managers = managers_for_update(live, new, subresource != Subresource::Main);
    let (before, after) = (comparable_for(rt, subresource, live), comparable_for(rt, subresource, new));
    let mut comparison = structured::compare(&before, &after, root_ty(rt));
    comparison.exclude(&reset_fields(rt, subresource, &[&before, &after]));
    // Updates never conflict: everyone else loses what changed and what was removed.
    let changed = comparison.changed();
    for entry in &mut managers.entries {
        entry.fields = entry.fields.difference(&changed).difference(&comparison.removed);
    }
    managers.entries.retain(|e| !e.fields.is_empty());
    let taken = strip_server_fields(&changed);
    if !taken.is_empty() {
        let entry = ManagedFieldsEntry {
            manager: manager.to_string(),
            operation: Operation::Update,
            api_version: api_version(rt),
            time: Some(now.to_string()),
            subresource: subresource_name(subresource).to_string(),
            fields: taken,
        };
        match managers.position(&entry.identifier()) {
            Some(index) => {
                let previous = &mut managers.entries[index];
                previous.fields = entry.fields.union(&previous.fields);
                previous.time = entry.time;
            }
            None => managers.entries.push(entry),
        }
    }
    cap_update_managers(&mut managers);
    managers.write_to(new);
}

/// Merges the oldest `Update` entries, per apiVersion, into `ancient-changes` until at most
/// [`UPDATE_MANAGERS_MAX`] remain (upstream's `capManagersManager`).
fn cap_update_managers(managers: &mut ManagedFields) {
    let mut updaters: Vec<(String, String)> = managers
        .entries
        .iter()
        .filter(|e| e.operation == Operation::Update)
        .map(|e| (e.time.clone().unwrap_or_default(), e.identifier()))
        .collect();
    if updaters.len() <= UPDATE_MANAGERS_MAX {
        return;
    }
    updaters.sort();
    let mut first_of_version: std::collections::HashMap<String, String> = Default::default();
    let mut remaining = updaters.len();
    for (_, identifier) in updaters {
        if remaining <= UPDATE_MANAGERS_MAX {
            break;
        }
        let Some(index) = managers.position(&identifier) else { continue };
        let version = managers.entries[index].api_version.clone();
        let Some(first) = first_of_version.get(&version) else {
            first_of_version.insert(version, identifier);
            continue;
        };
        let bucket = ManagedFieldsEntry {
            manager: ANCIENT_CHANGES.into(),
            operation: Operation::Update,
            api_version: version,
            time: None,
            subresource: String::new(),
            fields: FieldSet::new(),
        };
        let bucket_id = bucket.identifier();
        if managers.position(&bucket_id).is_none() {
            // The first entry of this version becomes the bucket.
            let fields = match managers.position(first) {
                Some(first_index) => managers.entries.remove(first_index).fields,
                None => FieldSet::new(),
            };
            managers.entries.push(ManagedFieldsEntry { fields, ..bucket });
        }
        let Some(index) = managers.position(&identifier) else { continue };
        let merged = managers.entries.remove(index);
        let bucket_index = managers.position(&bucket_id).expect("the bucket exists");
        let bucket = &mut managers.entries[bucket_index];
        bucket.fields = merged.fields.union(&bucket.fields);
        bucket.time = merged.time;
        remaining -= 1;
    }
}

/// The object's `managedFields` list, as stored.
pub fn list_of(object: &Value) -> Option<Value> {
    object.pointer("/metadata/managedFields").cloned()
}

/// Sets (or, with `None`, removes) the object's `managedFields` list.
pub fn set_list(object: &mut Value, list: Option<Value>) {
    let metadata = crate::meta::metadata_mut(object);
    match list {
        Some(list) => metadata.insert("managedFields".into(), list),
        None => metadata.remove("managedFields"),
    };
}

/// Makes a write that would only move `managedFields` timestamps keep the stored ones, so that
/// it is a no-op (upstream's `IgnoreManagedFieldsTimestampsTransformer`).
pub fn keep_live_when_only_times_moved(live: &Value, new: &mut Value) {
    let before = live.pointer("/metadata/managedFields");
    let after = new.pointer("/metadata/managedFields");
    if before == after || comparable(live) != comparable(new) {
        return;
    }
    let decode = |list: Option<&Value>| list.map_or(Ok(ManagedFields::default()), ManagedFields::decode);
    let (Ok(was), Ok(is)) = (decode(before), decode(after)) else {
        return;
    };
    if was.without_times() == is.without_times() {
        set_list(new, before.cloned());
    }
}

/// An applied configuration's apiVersion and kind must be the endpoint's (`400` otherwise).
pub fn check_applied_type(rt: &ResourceType, config: &Value) -> Result<(), Status> {
    let text = |key: &str| config.get(key).and_then(Value::as_str).unwrap_or("");
    let (version, kind) = (text("apiVersion"), text("kind"));
    if version == api_version(rt) && kind == rt.kind {
        return Ok(());
    }
    let (group, version) = version.rsplit_once('/').unwrap_or(("", version));
    Err(Status::bad_request(format!("invalid object type: {group}/{version}, Kind={kind}")))
}

/// A field another manager owns that an apply would change.
#[derive(Debug, Clone)]
struct Conflict {
    identifier: String,
    manager: String,
    path: Path,
}

/// The `409 Conflict` of an apply, worded as upstream words it.
fn conflict_status(conflicts: &[Conflict]) -> Status {
    let message = match conflicts {
        [one] => format!("Apply failed with 1 conflict: conflict with {}: {}", one.manager, path_string(&one.path)),
        _ => {
            let mut lines = Vec::new();
            let mut last_identifier = None;
            for conflict in conflicts {
                if last_identifier != Some(&conflict.identifier) {
                    lines.push(format!("conflicts with {}:", conflict.manager));
                    last_identifier = Some(&conflict.identifier);
                }
                lines.push(format!("- {}", path_string(&conflict.path)));
            }
            format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
        }
    };
    let causes = conflicts
        .iter()
        .map(|c| Cause {
            reason: "FieldManagerConflict".into(),
            message: format!("conflict with {}", c.manager),
            field: path_string(&c.path),
        })
        .collect();
    let mut status = Status::failure(409, "Conflict", message);
    status.details = Some(Box::new(StatusDetails { causes, ..Default::default() }));
    status
}

/// Server-side apply of `config` by `manager` to `live` (the stored object, or `{}` to create
/// one): the object to store, with its `managedFields`, or `409` on conflicts (see the module
/// documentation). Defaulting and validation are the caller's, afterwards.
pub fn apply(
    rt: &ResourceType,
    subresource: Subresource,
    live: &Value,
    config: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, Status> {
    let managers = ManagedFields::of_object(live)
        .map_err(|e| Status::internal(format!("failed to decode managed fields: {e}")))?;
    let live = comparable(live);
    let attempt = |force| apply_once(rt, subresource, &live, config, managers.clone(), manager, force, now);
    let mut object = match attempt(force)? {
        Ok(object) => object,
        Err(mut conflicts) => {
            // kubectl taking over from its own client-side apply (upstream's lastAppliedManager).
            if manager == KUBECTL
                && let Some(allowed) = allowed_by_last_applied(rt, &live)
            {
                conflicts.retain(|c| !allowed.has(&c.path));
            }
            if !conflicts.is_empty() {
                return Err(conflict_status(&conflicts));
            }
            attempt(true)?.map_err(|conflicts| conflict_status(&conflicts))?
        }
    };
    if manager == KUBECTL {
        update_last_applied(&mut object, config);
    }
    Ok(object)
}

#[allow(clippy::too_many_arguments)]
fn apply_once(
    rt: &ResourceType,
    subresource: Subresource,
    live: &Value,
    config: &Value,
    mut managers: ManagedFields,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Result<Value, Vec<Conflict>>, Status> {
    let ty = root_ty(rt);
    let ignored = reset_fields(rt, subresource, &[live, config]);
    let applied = structured::field_set(config, ty, true).map_err(|e| {
        let namespace = Some(crate::meta::namespace(config)).filter(|n| !n.is_empty());
        let namespace = namespace.unwrap_or(crate::meta::namespace(live));
        let (name, version, kind) = (crate::meta::name(config), api_version(rt), rt.kind);
        Status::internal(format!(
            "failed to create typed patch object ({namespace}/{name}; {version}, Kind={kind}): {e}"
        ))
    })?;
    // 1. The manager's entry becomes what it applies now.
    let mut entry = ManagedFieldsEntry {
        manager: manager.to_string(),
        operation: Operation::Apply,
        api_version: api_version(rt),
        time: None,
        subresource: subresource_name(subresource).to_string(),
        fields: applied.recursive_difference(&ignored),
    };
    let identifier = entry.identifier();
    let last = managers.position(&identifier).map(|index| {
        let previous = managers.entries.remove(index);
        entry.time = previous.time;
        previous.fields
    });
    managers.entries.push(entry);
    // 2. Merge, then remove what it applied last time and nobody owns now.
    let merged = structured::merge(live, config, ty);
    let mut object = match last.filter(|l| !l.is_empty()) {
        Some(last) => prune(&merged, &managers, &last, ty),
        None => merged,
    };
    // 3. What changed is taken from the other managers, or conflicts.
    let mut comparison = structured::compare(live, &object, ty);
    comparison.exclude(&ignored);
    let changed = comparison.changed();
    let mut conflicts = Vec::new();
    for other in managers.entries.iter().filter(|e| e.identifier() != identifier) {
        let (other_id, described) = (other.identifier(), other.describe());
        for path in other.fields.intersection(&changed).paths() {
            conflicts.push(Conflict { identifier: other_id.clone(), manager: described.clone(), path });
        }
    }
    if !force && !conflicts.is_empty() {
        conflicts.sort_by(|a, b| a.identifier.cmp(&b.identifier));
        return Ok(Err(conflicts));
    }
    for other in managers.entries.iter_mut().filter(|e| e.identifier() != identifier) {
        other.fields = other.fields.difference(&changed).difference(&comparison.removed);
    }
    managers.entries.retain(|e| !e.fields.is_empty());
    drop_nulls(&mut object);
    if let Some(index) = managers.position(&identifier) {
        let fields = strip_server_fields(&managers.entries[index].fields);
        if fields.is_empty() {
            managers.entries.remove(index);
        } else {
            let entry = &mut managers.entries[index];
            entry.fields = fields;
            if object != *live || entry.time.is_none() {
                entry.time = Some(now.to_string());
            }
        }
    }
    managers.write_to(&mut object);
    Ok(Ok(object))
}

/// Removes from `merged` what the applier owned last time (`last`) and nobody owns now
/// (upstream's `prune`, `addBackOwnedItems` and `addBackDanglingItems`).
fn prune(merged: &Value, managers: &ManagedFields, last: &FieldSet, ty: Ty) -> Value {
    let named = |set: &FieldSet| structured::with_named_fields(set, ty);
    let fields_of = |value: &Value| named(&structured::field_set(value, ty, false).unwrap_or_default());
    let without = |set: &FieldSet| structured::remove(merged, set, ty).unwrap_or_else(|| Value::Object(Map::new()));
    let last = named(last);
    let owned = named(&managers.entries.iter().fold(FieldSet::new(), |all, e| all.union(&e.fields)));
    let merged_fields = fields_of(merged);
    // Everything last applied goes; what some manager owns comes back.
    let pruned = without(&last);
    let pruned = without(&merged_fields.difference(&fields_of(&pruned).union(&owned)));
    // Only what was last applied may go.
    without(&merged_fields.difference(&fields_of(&pruned)).intersection(&last))
}

/// The fields the client-side apply annotation describes exactly as they are, which `kubectl`
/// may take over without conflict (upstream's `allowedConflictsFromLastApplied`).
fn allowed_by_last_applied(rt: &ResourceType, live: &Value) -> Option<FieldSet> {
    let text = live.pointer("/metadata/annotations")?.get(LAST_APPLIED_ANNOTATION)?.as_str()?;
    let last: Value = serde_json::from_str(text).ok()?;
    if last.get("apiVersion").and_then(Value::as_str) != Some(api_version(rt).as_str()) {
        return None;
    }
    let ty = root_ty(rt);
    let fields = structured::field_set(&last, ty, false).ok()?;
    let drift = structured::compare(&last, live, ty);
    Some(fields.difference(&drift.modified).difference(&drift.added).difference(&drift.removed))
}

/// Keeps the client-side apply annotation, when the object has one, in step with what `kubectl`
/// applied (upstream's `lastAppliedUpdater`).
fn update_last_applied(object: &mut Value, config: &Value) {
    let annotation = object.pointer("/metadata/annotations").and_then(|a| a.get(LAST_APPLIED_ANNOTATION));
    if annotation.and_then(Value::as_str).is_none_or(str::is_empty) {
        return;
    }
    let mut applied = config.clone();
    if let Some(annotations) = applied.pointer_mut("/metadata/annotations").and_then(Value::as_object_mut) {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
    let Some(annotations) = crate::meta::metadata_mut(object).get_mut("annotations").and_then(Value::as_object_mut)
    else {
        return;
    };
    annotations.insert(LAST_APPLIED_ANNOTATION.into(), applied.to_string().into());
    let size: usize = annotations.iter().map(|(k, v)| k.len() + v.as_str().map_or(0, str::len)).sum();
    if size > ANNOTATIONS_SIZE_MAX_BYTES {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
}

#[cfg(test)]
mod tests;
