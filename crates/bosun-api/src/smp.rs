//! Strategic merge patch (`application/strategic-merge-patch+json`) for built-in types, applied
//! as kube-apiserver applies it (Kubernetes 1.35 `k8s.io/apimachinery/pkg/util/strategicpatch`;
//! API-semantics spec, sections 3.6.3 and 3.6.4).
//!
//! # The schema table
//!
//! How a list merges is not in the JSON: it is a property of the field, upstream's Go struct tags
//! `patchStrategy:"merge" patchMergeKey:"name"`. Bosun keeps those tags as data: a small graph of
//! named [`SchemaType`]s (`Deployment`, `PodSpec`, `Container`…) whose [`Field`]s say whether they
//! hold an object of another type, a free-form map, a scalar, or a list with a
//! [`ListStrategy`]. [`root_type`] maps an API group and kind to its root type. The same table
//! can later emit OpenAPI's `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key`
//! ([`Field::patch_strategy`], [`Field::patch_merge_key`]).
//!
//! The table lists every field that carries a patch strategy and the object fields on the way to
//! them, plus the maps and notable atomic lists of the types in scope. A field it does not list
//! behaves as in a JSON merge patch (RFC 7386): maps merge, lists and scalars are replaced. That is
//! exact for every unlisted built-in field, since none of them has a strategy.
//!
//! # Merge rules
//!
//! [`strategic_merge`] merges a patch object into the original object:
//!
//! * **Maps** merge key by key, recursively. A `null` value deletes the key.
//! * **Scalars**, and values whose JSON kind differs from the original's, are replaced by the patch
//!   value (less any directives and `null`s inside it). So are values the original lacks.
//! * **Lists without a strategy** are replaced by the patch list.
//! * **Lists of scalars with strategy `merge`** (`metadata.finalizers`) become the union of both,
//!   without duplicates.
//! * **Lists of objects with strategy `merge`** merge by their merge key: a patch item whose key is
//!   in the original list merges into that item (a map merge); a new key adds the item.
//! * **Order** of a merged list, unless `$setElementOrder` says otherwise: the patch's items in
//!   patch order, the original's other items in their original order, interleaved so that an
//!   original item that came before a patch item in the original list still does. A *new* item
//!   therefore lands before the remaining original items: patching finalizers `[a, b]` with `[c]`
//!   gives `[c, a, b]`. This is upstream's rule, odd as it looks; `kubectl apply` always sends
//!   `$setElementOrder` and never sees it.
//!
//! # Directives
//!
//! | directive | where | effect |
//! |---|---|---|
//! | `"$patch": "replace"` | in a map | the map becomes the rest of the patch map |
//! | `"$patch": "delete"` | in a map | the map becomes `{}` |
//! | `{"$patch": "replace"}` | item of a merge list | the list becomes the patch's other items |
//! | `{"<key>": v, "$patch": "delete"}` | item of a merge list | every item with merge key `v` is removed |
//! | `"$retainKeys": [..]` | in a map | after merging, only the listed keys remain; every non-null key of the patch map must be listed |
//! | `"$setElementOrder/<f>": [..]` | next to list `f` | `f` is ordered as listed (merge-key maps or scalars); its other items keep their relative order |
//! | `"$deleteFromPrimitiveList/<f>": [..]` | next to scalar list `f` | those values are removed from `f` |
//!
//! `"$patch": "merge"` in a list, or any other `$patch` value, is refused, as upstream refuses it.
//! No directive key survives into the result. A patch value added where the original had nothing
//! is taken as upstream takes it: maps carrying a `$patch` directive are dropped, other directive
//! keys and `null`s are removed.
//!
//! # Errors and limits
//!
//! Every [`SmpError`] is the client's fault; [`SmpError::status_code`] gives the HTTP code
//! (`400`, or `422` for lists of lists, as upstream). Patches nested deeper than
//! [`PATCH_DEPTH_MAX`] levels are refused rather than risking the stack. Merge keys are indexed
//! by hash and orders sorted, so a list merge costs O(n log n) in the lists' sizes: a 3 MiB
//! request cannot make it quadratic.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// The schema table
// ---------------------------------------------------------------------------------------------

/// A named object type of the built-in API, with the fields that matter to patching.
#[derive(Debug)]
pub struct SchemaType {
    /// The type's name, as upstream's Go struct (and OpenAPI definition) is named.
    pub name: &'static str,
    /// Its fields that hold objects, maps or lists; unlisted fields merge like JSON merge patch.
    pub fields: &'static [Field],
}

/// One field of a [`SchemaType`].
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The JSON name, e.g. `containers`.
    pub name: &'static str,
    /// What the field holds and how it patches.
    pub shape: Shape,
}

/// What a field holds.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A string, number, boolean, quantity or time: the patch value replaces it.
    Scalar,
    /// A map with free-form keys (`labels`, `data`, `resources.limits`): merged key by key.
    Map,
    /// An object of a named type.
    Object {
        /// The object's type.
        ty: &'static SchemaType,
        /// How the object patches.
        strategy: ObjectStrategy,
    },
    /// A list.
    List {
        /// What the items are.
        items: Items,
        /// How the list patches.
        strategy: ListStrategy,
    },
}

/// How an object-valued field patches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectStrategy {
    /// Field by field (no struct tag).
    Merge,
    /// Field by field; clients send `$retainKeys` to clear the other members of a union
    /// (`patchStrategy:"retainKeys"`, e.g. `DeploymentSpec.strategy`).
    RetainKeys,
    /// The patch value replaces the whole object (`patchStrategy:"replace"`, e.g.
    /// `PodDisruptionBudgetSpec.selector`).
    Replace,
}

/// What a list's items are.
#[derive(Debug, Clone, Copy)]
pub enum Items {
    /// Strings or numbers.
    Scalar,
    /// Objects of a named type.
    Object(&'static SchemaType),
}

/// How a list patches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStrategy {
    /// Replaced wholesale by the patch list (no struct tag).
    Atomic,
    /// A set of scalars: the union of both lists (`patchStrategy:"merge"`, e.g. finalizers).
    MergeSet,
    /// Objects merged by the value of `key` (`patchStrategy:"merge" patchMergeKey:"<key>"`).
    MergeByKey {
        /// The merge key, e.g. `name`.
        key: &'static str,
        /// Items are unions that clients clear with `$retainKeys` (`merge,retainKeys`).
        retain_keys: bool,
    },
}

impl SchemaType {
    const fn leaf(name: &'static str) -> SchemaType {
        SchemaType { name, fields: &[] }
    }

    /// The field called `name`, if the table lists it.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

impl Field {
    /// The OpenAPI `x-kubernetes-patch-strategy` of this field (upstream's `patchStrategy` tag):
    /// `merge`, `retainKeys`, `merge,retainKeys`, `replace`, or `None`.
    pub fn patch_strategy(&self) -> Option<&'static str> {
        match self.shape {
            Shape::Object { strategy: ObjectStrategy::RetainKeys, .. } => Some("retainKeys"),
            Shape::Object { strategy: ObjectStrategy::Replace, .. } => Some("replace"),
            Shape::List { strategy: ListStrategy::MergeSet, .. } => Some("merge"),
            Shape::List { strategy: ListStrategy::MergeByKey { retain_keys: false, .. }, .. } => Some("merge"),
            Shape::List { strategy: ListStrategy::MergeByKey { retain_keys: true, .. }, .. } => {
                Some("merge,retainKeys")
            }
            _ => None,
        }
    }

    /// The OpenAPI `x-kubernetes-patch-merge-key` of this field (upstream's `patchMergeKey`).
    pub fn patch_merge_key(&self) -> Option<&'static str> {
        match self.shape {
            Shape::List { strategy: ListStrategy::MergeByKey { key, .. }, .. } => Some(key),
            _ => None,
        }
    }
}

// Constructors that keep the table below one line per field.

const fn scalar(name: &'static str) -> Field {
    Field { name, shape: Shape::Scalar }
}
const fn map(name: &'static str) -> Field {
    Field { name, shape: Shape::Map }
}
const fn object(name: &'static str, ty: &'static SchemaType) -> Field {
    Field { name, shape: Shape::Object { ty, strategy: ObjectStrategy::Merge } }
}
const fn retain_keys(name: &'static str, ty: &'static SchemaType) -> Field {
    Field { name, shape: Shape::Object { ty, strategy: ObjectStrategy::RetainKeys } }
}
const fn replace(name: &'static str, ty: &'static SchemaType) -> Field {
    Field { name, shape: Shape::Object { ty, strategy: ObjectStrategy::Replace } }
}
const fn atomic(name: &'static str, ty: &'static SchemaType) -> Field {
    Field { name, shape: Shape::List { items: Items::Object(ty), strategy: ListStrategy::Atomic } }
}
const fn atomic_scalars(name: &'static str) -> Field {
    Field { name, shape: Shape::List { items: Items::Scalar, strategy: ListStrategy::Atomic } }
}
const fn merge_set(name: &'static str) -> Field {
    Field { name, shape: Shape::List { items: Items::Scalar, strategy: ListStrategy::MergeSet } }
}
const fn merge_by(name: &'static str, ty: &'static SchemaType, key: &'static str) -> Field {
    Field {
        name,
        shape: Shape::List { items: Items::Object(ty), strategy: ListStrategy::MergeByKey { key, retain_keys: false } },
    }
}
const fn merge_by_retaining(name: &'static str, ty: &'static SchemaType, key: &'static str) -> Field {
    Field {
        name,
        shape: Shape::List { items: Items::Object(ty), strategy: ListStrategy::MergeByKey { key, retain_keys: true } },
    }
}

// -- meta/v1 --

/// `metav1.ObjectMeta`.
pub static OBJECT_META: SchemaType = SchemaType {
    name: "ObjectMeta",
    fields: &[
        map("labels"),
        map("annotations"),
        merge_set("finalizers"),
        merge_by("ownerReferences", &OWNER_REFERENCE, "uid"),
        atomic("managedFields", &MANAGED_FIELDS_ENTRY),
    ],
};
static OWNER_REFERENCE: SchemaType = SchemaType::leaf("OwnerReference");
static MANAGED_FIELDS_ENTRY: SchemaType = SchemaType::leaf("ManagedFieldsEntry");
static LABEL_SELECTOR: SchemaType = SchemaType {
    name: "LabelSelector",
    fields: &[map("matchLabels"), atomic("matchExpressions", &LABEL_SELECTOR_REQUIREMENT)],
};
static LABEL_SELECTOR_REQUIREMENT: SchemaType = SchemaType::leaf("LabelSelectorRequirement");
static CONDITION: SchemaType = SchemaType::leaf("Condition");

/// Any built-in object the table has no type for: only `metadata` patches by strategy.
pub static OBJECT: SchemaType = SchemaType { name: "Object", fields: &[object("metadata", &OBJECT_META)] };

// -- core/v1: pods --

/// Container and EphemeralContainer share their patchable fields (upstream embeds
/// `EphemeralContainerCommon`, a copy of `Container`).
macro_rules! container_fields {
    () => {
        &[
            merge_by("ports", &CONTAINER_PORT, "containerPort"),
            merge_by("env", &ENV_VAR, "name"),
            merge_by("volumeMounts", &VOLUME_MOUNT, "mountPath"),
            merge_by("volumeDevices", &VOLUME_DEVICE, "devicePath"),
            atomic_scalars("command"),
            atomic_scalars("args"),
            atomic("envFrom", &ENV_FROM_SOURCE),
            object("resources", &RESOURCE_REQUIREMENTS),
        ]
    };
}

static CONTAINER: SchemaType = SchemaType { name: "Container", fields: container_fields!() };
static EPHEMERAL_CONTAINER: SchemaType = SchemaType { name: "EphemeralContainer", fields: container_fields!() };
static CONTAINER_PORT: SchemaType = SchemaType::leaf("ContainerPort");
static ENV_VAR: SchemaType = SchemaType::leaf("EnvVar");
static ENV_FROM_SOURCE: SchemaType = SchemaType::leaf("EnvFromSource");
static VOLUME_MOUNT: SchemaType = SchemaType::leaf("VolumeMount");
static VOLUME_DEVICE: SchemaType = SchemaType::leaf("VolumeDevice");
static RESOURCE_REQUIREMENTS: SchemaType = SchemaType {
    name: "ResourceRequirements",
    fields: &[map("limits"), map("requests"), atomic("claims", &RESOURCE_CLAIM)],
};
static RESOURCE_CLAIM: SchemaType = SchemaType::leaf("ResourceClaim");

static POD_SPEC: SchemaType = SchemaType {
    name: "PodSpec",
    fields: &[
        merge_by_retaining("volumes", &VOLUME, "name"),
        merge_by("initContainers", &CONTAINER, "name"),
        merge_by("containers", &CONTAINER, "name"),
        merge_by("ephemeralContainers", &EPHEMERAL_CONTAINER, "name"),
        merge_by("imagePullSecrets", &LOCAL_OBJECT_REFERENCE, "name"),
        merge_by("hostAliases", &HOST_ALIAS, "ip"),
        merge_by("topologySpreadConstraints", &TOPOLOGY_SPREAD_CONSTRAINT, "topologyKey"),
        merge_by("schedulingGates", &POD_SCHEDULING_GATE, "name"),
        merge_by_retaining("resourceClaims", &POD_RESOURCE_CLAIM, "name"),
        map("nodeSelector"),
        map("overhead"),
        atomic("tolerations", &TOLERATION),
    ],
};
static VOLUME: SchemaType = SchemaType::leaf("Volume");
static LOCAL_OBJECT_REFERENCE: SchemaType = SchemaType::leaf("LocalObjectReference");
static HOST_ALIAS: SchemaType = SchemaType::leaf("HostAlias");
static TOPOLOGY_SPREAD_CONSTRAINT: SchemaType = SchemaType {
    name: "TopologySpreadConstraint",
    fields: &[object("labelSelector", &LABEL_SELECTOR), atomic_scalars("matchLabelKeys")],
};
static POD_SCHEDULING_GATE: SchemaType = SchemaType::leaf("PodSchedulingGate");
static POD_RESOURCE_CLAIM: SchemaType = SchemaType::leaf("PodResourceClaim");
static TOLERATION: SchemaType = SchemaType::leaf("Toleration");

static POD_STATUS: SchemaType = SchemaType {
    name: "PodStatus",
    fields: &[
        merge_by("conditions", &POD_CONDITION, "type"),
        merge_by("hostIPs", &HOST_IP, "ip"),
        merge_by("podIPs", &POD_IP, "ip"),
        merge_by_retaining("resourceClaimStatuses", &POD_RESOURCE_CLAIM_STATUS, "name"),
        atomic("initContainerStatuses", &CONTAINER_STATUS),
        atomic("containerStatuses", &CONTAINER_STATUS),
        atomic("ephemeralContainerStatuses", &CONTAINER_STATUS),
    ],
};
static POD_CONDITION: SchemaType = SchemaType::leaf("PodCondition");
static HOST_IP: SchemaType = SchemaType::leaf("HostIP");
static POD_IP: SchemaType = SchemaType::leaf("PodIP");
static POD_RESOURCE_CLAIM_STATUS: SchemaType = SchemaType::leaf("PodResourceClaimStatus");
static CONTAINER_STATUS: SchemaType = SchemaType {
    name: "ContainerStatus",
    fields: &[
        merge_by("volumeMounts", &VOLUME_MOUNT_STATUS, "mountPath"),
        merge_by("allocatedResourcesStatus", &RESOURCE_STATUS, "name"),
        map("allocatedResources"),
    ],
};
static VOLUME_MOUNT_STATUS: SchemaType = SchemaType::leaf("VolumeMountStatus");
static RESOURCE_STATUS: SchemaType = SchemaType::leaf("ResourceStatus");

/// `core/v1` Pod.
pub static POD: SchemaType = SchemaType {
    name: "Pod",
    fields: &[object("metadata", &OBJECT_META), object("spec", &POD_SPEC), object("status", &POD_STATUS)],
};
static POD_TEMPLATE_SPEC: SchemaType =
    SchemaType { name: "PodTemplateSpec", fields: &[object("metadata", &OBJECT_META), object("spec", &POD_SPEC)] };
static POD_TEMPLATE: SchemaType = SchemaType {
    name: "PodTemplate",
    fields: &[object("metadata", &OBJECT_META), object("template", &POD_TEMPLATE_SPEC)],
};

// -- core/v1: the rest --

static REPLICATION_CONTROLLER: SchemaType = SchemaType {
    name: "ReplicationController",
    fields: &[
        object("metadata", &OBJECT_META),
        object("spec", &REPLICATION_CONTROLLER_SPEC),
        object("status", &REPLICATION_CONTROLLER_STATUS),
    ],
};
static REPLICATION_CONTROLLER_SPEC: SchemaType = SchemaType {
    name: "ReplicationControllerSpec",
    fields: &[map("selector"), object("template", &POD_TEMPLATE_SPEC)],
};
static REPLICATION_CONTROLLER_STATUS: SchemaType = SchemaType {
    name: "ReplicationControllerStatus",
    fields: &[merge_by("conditions", &REPLICATION_CONTROLLER_CONDITION, "type")],
};
static REPLICATION_CONTROLLER_CONDITION: SchemaType = SchemaType::leaf("ReplicationControllerCondition");

/// `core/v1` Service.
pub static SERVICE: SchemaType = SchemaType {
    name: "Service",
    fields: &[object("metadata", &OBJECT_META), object("spec", &SERVICE_SPEC), object("status", &SERVICE_STATUS)],
};
static SERVICE_SPEC: SchemaType = SchemaType {
    name: "ServiceSpec",
    fields: &[
        merge_by("ports", &SERVICE_PORT, "port"),
        map("selector"),
        atomic_scalars("clusterIPs"),
        atomic_scalars("externalIPs"),
        atomic_scalars("ipFamilies"),
    ],
};
static SERVICE_PORT: SchemaType = SchemaType::leaf("ServicePort");
static SERVICE_STATUS: SchemaType =
    SchemaType { name: "ServiceStatus", fields: &[merge_by("conditions", &CONDITION, "type")] };

static NAMESPACE: SchemaType = SchemaType {
    name: "Namespace",
    fields: &[object("metadata", &OBJECT_META), object("spec", &NAMESPACE_SPEC), object("status", &NAMESPACE_STATUS)],
};
// Unlike `metadata.finalizers`, the namespace's own finalizers have no strategy: they replace.
static NAMESPACE_SPEC: SchemaType = SchemaType { name: "NamespaceSpec", fields: &[atomic_scalars("finalizers")] };
static NAMESPACE_STATUS: SchemaType =
    SchemaType { name: "NamespaceStatus", fields: &[merge_by("conditions", &NAMESPACE_CONDITION, "type")] };
static NAMESPACE_CONDITION: SchemaType = SchemaType::leaf("NamespaceCondition");

static CONFIG_MAP: SchemaType =
    SchemaType { name: "ConfigMap", fields: &[object("metadata", &OBJECT_META), map("data"), map("binaryData")] };
static SECRET: SchemaType =
    SchemaType { name: "Secret", fields: &[object("metadata", &OBJECT_META), map("data"), map("stringData")] };
static SERVICE_ACCOUNT: SchemaType = SchemaType {
    name: "ServiceAccount",
    fields: &[
        object("metadata", &OBJECT_META),
        merge_by("secrets", &OBJECT_REFERENCE, "name"),
        atomic("imagePullSecrets", &LOCAL_OBJECT_REFERENCE),
    ],
};
static OBJECT_REFERENCE: SchemaType = SchemaType::leaf("ObjectReference");

static NODE: SchemaType = SchemaType {
    name: "Node",
    fields: &[object("metadata", &OBJECT_META), object("spec", &NODE_SPEC), object("status", &NODE_STATUS)],
};
static NODE_SPEC: SchemaType =
    SchemaType { name: "NodeSpec", fields: &[merge_set("podCIDRs"), atomic("taints", &TAINT)] };
static TAINT: SchemaType = SchemaType::leaf("Taint");
static NODE_STATUS: SchemaType = SchemaType {
    name: "NodeStatus",
    fields: &[
        merge_by("conditions", &NODE_CONDITION, "type"),
        merge_by("addresses", &NODE_ADDRESS, "type"),
        map("capacity"),
        map("allocatable"),
    ],
};
static NODE_CONDITION: SchemaType = SchemaType::leaf("NodeCondition");
static NODE_ADDRESS: SchemaType = SchemaType::leaf("NodeAddress");

static PERSISTENT_VOLUME_CLAIM: SchemaType = SchemaType {
    name: "PersistentVolumeClaim",
    fields: &[object("metadata", &OBJECT_META), object("status", &PERSISTENT_VOLUME_CLAIM_STATUS)],
};
static PERSISTENT_VOLUME_CLAIM_STATUS: SchemaType = SchemaType {
    name: "PersistentVolumeClaimStatus",
    fields: &[merge_by("conditions", &PERSISTENT_VOLUME_CLAIM_CONDITION, "type")],
};
static PERSISTENT_VOLUME_CLAIM_CONDITION: SchemaType = SchemaType::leaf("PersistentVolumeClaimCondition");

// -- apps/v1 --

/// `apps/v1` Deployment.
pub static DEPLOYMENT: SchemaType = SchemaType {
    name: "Deployment",
    fields: &[object("metadata", &OBJECT_META), object("spec", &DEPLOYMENT_SPEC), object("status", &DEPLOYMENT_STATUS)],
};
static DEPLOYMENT_SPEC: SchemaType = SchemaType {
    name: "DeploymentSpec",
    fields: &[
        object("selector", &LABEL_SELECTOR),
        object("template", &POD_TEMPLATE_SPEC),
        retain_keys("strategy", &DEPLOYMENT_STRATEGY),
    ],
};
static DEPLOYMENT_STRATEGY: SchemaType = SchemaType {
    name: "DeploymentStrategy",
    fields: &[scalar("type"), object("rollingUpdate", &ROLLING_UPDATE_DEPLOYMENT)],
};
static ROLLING_UPDATE_DEPLOYMENT: SchemaType = SchemaType::leaf("RollingUpdateDeployment");
static DEPLOYMENT_STATUS: SchemaType =
    SchemaType { name: "DeploymentStatus", fields: &[merge_by("conditions", &DEPLOYMENT_CONDITION, "type")] };
static DEPLOYMENT_CONDITION: SchemaType = SchemaType::leaf("DeploymentCondition");

static REPLICA_SET: SchemaType = SchemaType {
    name: "ReplicaSet",
    fields: &[
        object("metadata", &OBJECT_META),
        object("spec", &REPLICA_SET_SPEC),
        object("status", &REPLICA_SET_STATUS),
    ],
};
static REPLICA_SET_SPEC: SchemaType = SchemaType {
    name: "ReplicaSetSpec",
    fields: &[object("selector", &LABEL_SELECTOR), object("template", &POD_TEMPLATE_SPEC)],
};
static REPLICA_SET_STATUS: SchemaType =
    SchemaType { name: "ReplicaSetStatus", fields: &[merge_by("conditions", &REPLICA_SET_CONDITION, "type")] };
static REPLICA_SET_CONDITION: SchemaType = SchemaType::leaf("ReplicaSetCondition");

static STATEFUL_SET: SchemaType = SchemaType {
    name: "StatefulSet",
    fields: &[
        object("metadata", &OBJECT_META),
        object("spec", &STATEFUL_SET_SPEC),
        object("status", &STATEFUL_SET_STATUS),
    ],
};
static STATEFUL_SET_SPEC: SchemaType = SchemaType {
    name: "StatefulSetSpec",
    fields: &[
        object("selector", &LABEL_SELECTOR),
        object("template", &POD_TEMPLATE_SPEC),
        atomic("volumeClaimTemplates", &PERSISTENT_VOLUME_CLAIM),
    ],
};
static STATEFUL_SET_STATUS: SchemaType =
    SchemaType { name: "StatefulSetStatus", fields: &[merge_by("conditions", &STATEFUL_SET_CONDITION, "type")] };
static STATEFUL_SET_CONDITION: SchemaType = SchemaType::leaf("StatefulSetCondition");

static DAEMON_SET: SchemaType = SchemaType {
    name: "DaemonSet",
    fields: &[object("metadata", &OBJECT_META), object("spec", &DAEMON_SET_SPEC), object("status", &DAEMON_SET_STATUS)],
};
static DAEMON_SET_SPEC: SchemaType = SchemaType {
    name: "DaemonSetSpec",
    fields: &[object("selector", &LABEL_SELECTOR), object("template", &POD_TEMPLATE_SPEC)],
};
static DAEMON_SET_STATUS: SchemaType =
    SchemaType { name: "DaemonSetStatus", fields: &[merge_by("conditions", &DAEMON_SET_CONDITION, "type")] };
static DAEMON_SET_CONDITION: SchemaType = SchemaType::leaf("DaemonSetCondition");

// -- batch/v1 --

static JOB: SchemaType = SchemaType {
    name: "Job",
    fields: &[object("metadata", &OBJECT_META), object("spec", &JOB_SPEC), object("status", &JOB_STATUS)],
};
static JOB_SPEC: SchemaType = SchemaType {
    name: "JobSpec",
    fields: &[object("selector", &LABEL_SELECTOR), object("template", &POD_TEMPLATE_SPEC)],
};
static JOB_STATUS: SchemaType =
    SchemaType { name: "JobStatus", fields: &[merge_by("conditions", &JOB_CONDITION, "type")] };
static JOB_CONDITION: SchemaType = SchemaType::leaf("JobCondition");
static JOB_TEMPLATE_SPEC: SchemaType =
    SchemaType { name: "JobTemplateSpec", fields: &[object("metadata", &OBJECT_META), object("spec", &JOB_SPEC)] };
static CRON_JOB: SchemaType = SchemaType {
    name: "CronJob",
    fields: &[object("metadata", &OBJECT_META), object("spec", &CRON_JOB_SPEC), object("status", &CRON_JOB_STATUS)],
};
static CRON_JOB_SPEC: SchemaType =
    SchemaType { name: "CronJobSpec", fields: &[object("jobTemplate", &JOB_TEMPLATE_SPEC)] };
static CRON_JOB_STATUS: SchemaType =
    SchemaType { name: "CronJobStatus", fields: &[atomic("active", &OBJECT_REFERENCE)] };

// -- policy/v1, autoscaling --

static POD_DISRUPTION_BUDGET: SchemaType = SchemaType {
    name: "PodDisruptionBudget",
    fields: &[
        object("metadata", &OBJECT_META),
        object("spec", &POD_DISRUPTION_BUDGET_SPEC),
        object("status", &POD_DISRUPTION_BUDGET_STATUS),
    ],
};
static POD_DISRUPTION_BUDGET_SPEC: SchemaType =
    SchemaType { name: "PodDisruptionBudgetSpec", fields: &[replace("selector", &LABEL_SELECTOR)] };
static POD_DISRUPTION_BUDGET_STATUS: SchemaType =
    SchemaType { name: "PodDisruptionBudgetStatus", fields: &[merge_by("conditions", &CONDITION, "type")] };
static HORIZONTAL_POD_AUTOSCALER: SchemaType = SchemaType {
    name: "HorizontalPodAutoscaler",
    fields: &[object("metadata", &OBJECT_META), object("status", &HORIZONTAL_POD_AUTOSCALER_STATUS)],
};
static HORIZONTAL_POD_AUTOSCALER_STATUS: SchemaType = SchemaType {
    name: "HorizontalPodAutoscalerStatus",
    fields: &[merge_by("conditions", &HORIZONTAL_POD_AUTOSCALER_CONDITION, "type")],
};
static HORIZONTAL_POD_AUTOSCALER_CONDITION: SchemaType = SchemaType::leaf("HorizontalPodAutoscalerCondition");

/// The root type of each built-in kind the table describes, by API group (`""` for core) and
/// kind. Versions of a group share a root: fields a version lacks are simply never present.
pub static ROOTS: &[(&str, &str, &SchemaType)] = &[
    ("", "Pod", &POD),
    ("", "PodTemplate", &POD_TEMPLATE),
    ("", "ReplicationController", &REPLICATION_CONTROLLER),
    ("", "Service", &SERVICE),
    ("", "Namespace", &NAMESPACE),
    ("", "ConfigMap", &CONFIG_MAP),
    ("", "Secret", &SECRET),
    ("", "ServiceAccount", &SERVICE_ACCOUNT),
    ("", "Node", &NODE),
    ("", "PersistentVolumeClaim", &PERSISTENT_VOLUME_CLAIM),
    ("apps", "Deployment", &DEPLOYMENT),
    ("apps", "ReplicaSet", &REPLICA_SET),
    ("apps", "StatefulSet", &STATEFUL_SET),
    ("apps", "DaemonSet", &DAEMON_SET),
    ("batch", "Job", &JOB),
    ("batch", "CronJob", &CRON_JOB),
    ("policy", "PodDisruptionBudget", &POD_DISRUPTION_BUDGET),
    ("autoscaling", "HorizontalPodAutoscaler", &HORIZONTAL_POD_AUTOSCALER),
];

/// The root type of a built-in kind, if the table describes it.
pub fn root_type(group: &str, kind: &str) -> Option<&'static SchemaType> {
    ROOTS.iter().find(|(g, k, _)| *g == group && *k == kind).map(|(_, _, ty)| *ty)
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a strategic merge patch could not be applied. All are the client's fault: answer with
/// [`SmpError::status_code`] and the `Display` text (upstream's wording where upstream has one;
/// maps and lists in messages are printed as JSON).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmpError {
    /// The patch document is not a JSON object.
    #[error("invalid JSON document: a strategic merge patch must be a JSON object")]
    PatchNotAnObject,
    /// A map carries `$patch` with a value other than `replace` or `delete`, or a list item
    /// carries one other than `replace`, `delete` or `merge`.
    #[error("unknown patch type: {directive} in map: {map}")]
    UnknownPatchType {
        /// The `$patch` value.
        directive: String,
        /// The map that carries it.
        map: String,
    },
    /// A list item carries `"$patch": "merge"`, which upstream does not implement.
    #[error("merging lists cannot yet be specified in the patch")]
    MergeDirectiveInList,
    /// An item of a list that merges by key lacks the key (or is not an object).
    #[error("map: {map} does not contain declared merge key: {key}")]
    MissingMergeKey {
        /// The item.
        map: String,
        /// The merge key.
        key: &'static str,
    },
    /// Objects sent for a merge-strategy list of scalars.
    #[error("cannot merge lists without merge key for {field}")]
    NoMergeKey {
        /// The list's field.
        field: String,
    },
    /// `$retainKeys` is not a list, or the patch map has keys the list does not name.
    #[error("invalid patch format of retainKeys")]
    InvalidRetainKeys,
    /// A `$setElementOrder/<field>` key or value is malformed.
    #[error("invalid patch format of setElementOrder list")]
    InvalidSetElementOrder,
    /// The patch list's items are not in the order `$setElementOrder` gives.
    #[error("The order in patch list:\n{patch}\n doesn't match $setElementOrder list:\n{order}\n")]
    SetElementOrderMismatch {
        /// The patch list.
        patch: String,
        /// The `$setElementOrder` list.
        order: String,
    },
    /// A `$deleteFromPrimitiveList/<field>` key or value is malformed, or the list holds objects.
    #[error("invalid patch format of primitive list")]
    InvalidDeleteFromPrimitiveList,
    /// A merged list holds lists.
    #[error("lists of lists are not supported")]
    ListOfLists,
    /// A merged list mixes objects and scalars, or scalars of different JSON types.
    #[error("list element types are not identical: {0}")]
    MixedListElements(String),
    /// A `$setElementOrder` directive names a field that is not a list.
    #[error("expected a list for {field}, but received {actual}")]
    NotAList {
        /// The field.
        field: String,
        /// What it holds instead.
        actual: String,
    },
    /// The patch nests objects and lists deeper than [`PATCH_DEPTH_MAX`].
    #[error("the patch is nested deeper than {0} levels")]
    TooDeep(usize),
}

impl SmpError {
    /// The HTTP status to answer with: `422` for lists of lists (upstream's
    /// `UnprocessableEntity`), `400 BadRequest` for everything else, malformed directives
    /// included.
    pub fn status_code(&self) -> u16 {
        match self {
            SmpError::ListOfLists => 422,
            _ => 400,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Merging
// ---------------------------------------------------------------------------------------------

/// How deep a patch may nest objects and lists. serde_json refuses to parse deeper documents
/// anyway; the check keeps hand-built values from exhausting the stack.
pub const PATCH_DEPTH_MAX: usize = 128;

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// Applies a strategic merge patch to `original` (an object; anything else is read as `{}`),
/// with `root` as the type of the whole object. Returns the merged object; neither input is
/// changed. See the module documentation for the rules.
pub fn strategic_merge(original: &Value, patch: &Value, root: &SchemaType) -> Result<Value, SmpError> {
    let Value::Object(patch) = patch else {
        return Err(SmpError::PatchNotAnObject);
    };
    let original = original.as_object().cloned().unwrap_or_default();
    Ok(Value::Object(merge_map(original, patch.clone(), Ty::Known(root), 1)?))
}

/// [`strategic_merge`] with the root type of a built-in kind ([`root_type`]), or [`OBJECT`]
/// (only `metadata` merges by strategy) for built-in kinds the table does not describe. Whether
/// a kind may be patched this way at all (custom resources answer `415`) is the caller's call.
pub fn strategic_merge_for(group: &str, kind: &str, original: &Value, patch: &Value) -> Result<Value, SmpError> {
    strategic_merge(original, patch, root_type(group, kind).unwrap_or(&OBJECT))
}

/// Where a value sits in the type graph: a known type, or somewhere the table does not describe.
#[derive(Clone, Copy)]
enum Ty<'a> {
    Known(&'a SchemaType),
    Unknown,
}

/// What the table says about one field of a map.
struct FieldMeta<'a> {
    /// The type of the field's object, or of its list's items.
    child: Ty<'a>,
    list: ListStrategy,
    replace_object: bool,
}

fn lookup<'a>(ty: Ty<'a>, name: &str) -> FieldMeta<'a> {
    let unknown = FieldMeta { child: Ty::Unknown, list: ListStrategy::Atomic, replace_object: false };
    let Ty::Known(ty) = ty else {
        return unknown;
    };
    match ty.field(name).map(|f| f.shape) {
        Some(Shape::Object { ty, strategy }) => FieldMeta {
            child: Ty::Known(ty),
            list: ListStrategy::Atomic,
            replace_object: strategy == ObjectStrategy::Replace,
        },
        Some(Shape::List { items, strategy }) => FieldMeta {
            child: match items {
                Items::Object(ty) => Ty::Known(ty),
                Items::Scalar => Ty::Unknown,
            },
            list: strategy,
            replace_object: false,
        },
        Some(Shape::Scalar | Shape::Map) | None => unknown,
    }
}

fn merge_key_of(list: ListStrategy) -> Option<&'static str> {
    match list {
        ListStrategy::MergeByKey { key, .. } => Some(key),
        ListStrategy::Atomic | ListStrategy::MergeSet => None,
    }
}

fn check_depth(depth: usize) -> Result<(), SmpError> {
    if depth > PATCH_DEPTH_MAX { Err(SmpError::TooDeep(PATCH_DEPTH_MAX)) } else { Ok(()) }
}

fn to_json(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn list_json(items: &[Value]) -> String {
    serde_json::to_string(items).unwrap_or_default()
}

fn map_json(map: &Map<String, Value>) -> String {
    serde_json::to_string(map).unwrap_or_default()
}

/// A `$patch` value as text: the string itself, or the JSON of anything else.
fn directive_text(directive: &Value) -> String {
    directive.as_str().map_or_else(|| to_json(directive), str::to_string)
}

/// The target field of `$setElementOrder/<field>` or `$deleteFromPrimitiveList/<field>`: the
/// part after the first `/`, when what precedes it is exactly the prefix.
fn directive_target<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    key.split_once('/').filter(|(head, _)| *head == prefix).map(|(_, field)| field)
}

fn is_directive_key(key: &str) -> bool {
    key == DIRECTIVE
        || key == RETAIN_KEYS
        || key.starts_with(SET_ELEMENT_ORDER)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
}

/// A patch value taken as it is (the original had nothing to merge it into), as upstream takes
/// it: `null` members removed, maps carrying `$patch` dropped (`None`), and — what upstream leaves
/// to its typed decoding — every other directive key removed.
fn clean(value: Value, depth: usize) -> Result<Option<Value>, SmpError> {
    check_depth(depth)?;
    Ok(match value {
        Value::Object(map) if map.contains_key(DIRECTIVE) => None,
        Value::Object(map) => Some(Value::Object(clean_map(map, depth)?)),
        Value::Array(items) => {
            let mut cleaned = Vec::with_capacity(items.len());
            for item in items {
                cleaned.extend(clean(item, depth + 1)?);
            }
            Some(Value::Array(cleaned))
        }
        scalar => Some(scalar),
    })
}

/// The members of a map, cleaned as [`clean`] cleans values.
fn clean_map(map: Map<String, Value>, depth: usize) -> Result<Map<String, Value>, SmpError> {
    let mut cleaned = Map::new();
    for (key, value) in map {
        if value.is_null() || is_directive_key(&key) {
            continue;
        }
        if let Some(value) = clean(value, depth + 1)? {
            cleaned.insert(key, value);
        }
    }
    Ok(cleaned)
}

/// Upstream's `mergeMap`: directives first (`$patch`, `$retainKeys`, `$setElementOrder`), then
/// every other key, then `$deleteFromPrimitiveList` (after the merges, so a value both added and
/// deleted ends up deleted — upstream leaves that order to Go's map iteration).
fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    ty: Ty<'_>,
    depth: usize,
) -> Result<Map<String, Value>, SmpError> {
    check_depth(depth)?;
    if let Some(directive) = patch.get(DIRECTIVE).map(directive_text) {
        return match directive.as_str() {
            "replace" => {
                patch.remove(DIRECTIVE);
                clean_map(patch, depth)
            }
            "delete" => Ok(Map::new()),
            _ => Err(SmpError::UnknownPatchType { directive, map: map_json(&patch) }),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    apply_set_element_order(&mut original, &mut patch, ty, depth)?;

    let mut deletions = Vec::new();
    for (key, value) in patch {
        if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            deletions.push((key, value));
        } else {
            merge_field(&mut original, key, value, ty, depth)?;
        }
    }
    for (key, value) in deletions {
        let field =
            directive_target(&key, DELETE_FROM_PRIMITIVE_LIST).ok_or(SmpError::InvalidDeleteFromPrimitiveList)?;
        let Value::Array(to_delete) = value else {
            return Err(SmpError::InvalidDeleteFromPrimitiveList);
        };
        if let Some(Value::Array(list)) = original.get_mut(field) {
            delete_from_list(list, &to_delete)?;
        }
    }
    Ok(original)
}

/// One key of a patch map merged into the original map.
fn merge_field(
    original: &mut Map<String, Value>,
    key: String,
    patch: Value,
    ty: Ty<'_>,
    depth: usize,
) -> Result<(), SmpError> {
    let current = original.remove(&key);
    if patch.is_null() {
        return Ok(());
    }
    let meta = lookup(ty, &key);
    let merged = match (current, patch) {
        (Some(Value::Object(current)), Value::Object(patch)) if !meta.replace_object => {
            Some(Value::Object(merge_map(current, patch, meta.child, depth + 1)?))
        }
        (Some(Value::Array(current)), Value::Array(patch)) => {
            Some(Value::Array(merge_list_field(current, patch, &meta, &key, depth + 1)?.items))
        }
        // Nothing to merge into (absent, null, another JSON kind, a scalar), or a field whose
        // strategy is to replace: the patch value is taken as it is.
        (_, patch) => clean(patch, depth + 1)?,
    };
    if let Some(merged) = merged {
        original.insert(key, merged);
    }
    Ok(())
}

/// A list-valued field merged according to its strategy.
fn merge_list_field(
    original: Vec<Value>,
    patch: Vec<Value>,
    meta: &FieldMeta<'_>,
    field: &str,
    depth: usize,
) -> Result<MergedList, SmpError> {
    match meta.list {
        ListStrategy::Atomic => {
            let live_order = server_identities(&original, None);
            let items = match clean(Value::Array(patch), depth)? {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            };
            Ok(MergedList { items, live_order })
        }
        ListStrategy::MergeSet => merge_list(original, patch, None, meta.child, field, depth),
        ListStrategy::MergeByKey { key, .. } => merge_list(original, patch, Some(key), meta.child, field, depth),
    }
}

/// A merged list, and the order `$setElementOrder` then treats as the original list's.
///
/// That order is not simply the original list: upstream deletes `$patch: delete` items by
/// shifting the rest left *inside the original list's storage*, and appends new items into the
/// slots that frees, so its `$setElementOrder` step reads "the original after deletions, then the
/// appended items", cut to the original length. The results of `kubectl apply` that both adds and
/// removes items depend on it (upstream's own tests pin them), so Bosun reproduces it.
struct MergedList {
    items: Vec<Value>,
    /// Identities (see [`identity`]) in that order.
    live_order: Vec<String>,
}

/// The JSON kind of a list's items, checked to be one and the same across both lists.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Null,
    Bool,
    Number,
    String,
    Object,
}

fn element_kind(original: &[Value], patch: &[Value]) -> Result<Option<Kind>, SmpError> {
    let mut kind = None;
    for item in original.iter().chain(patch) {
        let this = match item {
            Value::Array(_) => return Err(SmpError::ListOfLists),
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Bool,
            Value::Number(_) => Kind::Number,
            Value::String(_) => Kind::String,
            Value::Object(_) => Kind::Object,
        };
        match kind {
            None => kind = Some(this),
            Some(kind) if kind != this => {
                return Err(SmpError::MixedListElements(format!("{} and {}", list_json(original), list_json(patch))));
            }
            Some(_) => {}
        }
    }
    Ok(kind)
}

/// What identifies an item for ordering and merging: its merge key's value (objects of a keyed
/// list) or itself (scalars, and lists without a key), as canonical JSON text so it can be hashed.
fn identity(item: &Value, merge_key: Option<&'static str>) -> Result<String, SmpError> {
    match merge_key {
        None => Ok(to_json(item)),
        Some(key) => match item.get(key) {
            Some(value) if item.is_object() => Ok(to_json(value)),
            _ => Err(SmpError::MissingMergeKey { map: to_json(item), key }),
        },
    }
}

/// The position of each identity's first occurrence.
fn first_positions(identities: &[String]) -> HashMap<&str, usize> {
    let mut positions = HashMap::with_capacity(identities.len());
    for (i, identity) in identities.iter().enumerate() {
        positions.entry(identity.as_str()).or_insert(i);
    }
    positions
}

/// Upstream's `mergeSlice` for a list with a merge strategy.
fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: Option<&'static str>,
    item_ty: Ty<'_>,
    field: &str,
    depth: usize,
) -> Result<MergedList, SmpError> {
    check_depth(depth)?;
    if original.is_empty() && patch.is_empty() {
        return Ok(MergedList { items: original, live_order: Vec::new() });
    }
    if element_kind(&original, &patch)? == Some(Kind::Object) {
        let key = merge_key.ok_or_else(|| SmpError::NoMergeKey { field: field.to_string() })?;
        let original_len = original.len();
        let (remaining, patch, replace) = apply_list_directives(original, patch, key)?;
        let mut live_order = server_identities(&remaining, Some(key));
        let (server, patch) = if replace {
            let mut replaced = Vec::with_capacity(patch.len());
            for item in patch {
                replaced.extend(clean(item, depth + 1)?);
            }
            (replaced, Vec::new())
        } else {
            (remaining, patch)
        };
        let patch_ids = identities(&patch, Some(key))?;
        let server_ids = server_identities(&server, Some(key));
        let (merged, appended) = merge_by_key(server, patch, &patch_ids, &server_ids, item_ty, depth)?;
        if !replace {
            live_order.extend(appended);
        }
        live_order.truncate(original_len);
        let items = order_merged(merged, &patch_ids, &server_ids, Some(key))?;
        return Ok(MergedList { items, live_order });
    }
    // A set of scalars: the union, duplicates dropped; the order is settled as for objects.
    let patch_ids = identities(&patch, merge_key)?;
    let server_ids = identities(&original, merge_key)?;
    let mut seen = HashSet::with_capacity(original.len() + patch.len());
    let mut merged = Vec::with_capacity(original.len() + patch.len());
    for (item, id) in original.into_iter().zip(&server_ids).chain(patch.into_iter().zip(&patch_ids)) {
        if seen.insert(id.as_str()) {
            merged.push(item);
        }
    }
    let items = order_merged(merged, &patch_ids, &server_ids, merge_key)?;
    Ok(MergedList { items, live_order: server_ids })
}

/// The identities of a list's items; every item must have one.
fn identities(items: &[Value], merge_key: Option<&'static str>) -> Result<Vec<String>, SmpError> {
    items.iter().map(|item| identity(item, merge_key)).collect()
}

/// The identities of an original list's items. Items without a merge key get none (the empty
/// text, which no identity equals) and can never be matched; ordering reports them.
fn server_identities(items: &[Value], merge_key: Option<&'static str>) -> Vec<String> {
    items.iter().map(|item| identity(item, merge_key).unwrap_or_default()).collect()
}

/// Upstream's `mergeSliceWithSpecialElements`: removes the items named by `$patch: delete`
/// entries from the original list, and notes a `$patch: replace` entry (the other patch items
/// are then the whole list). Returns the original list less deletions, the patch less directive
/// entries, and whether to replace.
fn apply_list_directives(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &'static str,
) -> Result<(Vec<Value>, Vec<Value>, bool), SmpError> {
    let mut replace = false;
    let mut rest = Vec::with_capacity(patch.len());
    for item in patch {
        let Some(directive) = item.get(DIRECTIVE).map(directive_text) else {
            rest.push(item);
            continue;
        };
        match directive.as_str() {
            "delete" => {
                let Some(value) = item.get(key) else {
                    return Err(SmpError::MissingMergeKey { map: to_json(&item), key });
                };
                original.retain(|o| o.get(key) != Some(value));
            }
            "replace" => replace = true,
            "merge" => return Err(SmpError::MergeDirectiveInList),
            _ => return Err(SmpError::UnknownPatchType { directive, map: to_json(&item) }),
        }
    }
    Ok((original, rest, replace))
}

/// Upstream's `mergeSliceWithoutSpecialElements`: each patch item merges into the first original
/// item with the same key, or is appended. `patch_ids` and `server_ids` are the items'
/// identities. Returns the merged list and the identities of the appended items.
fn merge_by_key(
    mut merged: Vec<Value>,
    patch: Vec<Value>,
    patch_ids: &[String],
    server_ids: &[String],
    item_ty: Ty<'_>,
    depth: usize,
) -> Result<(Vec<Value>, Vec<String>), SmpError> {
    let mut appended = Vec::new();
    let mut positions: HashMap<String, usize> = HashMap::with_capacity(merged.len() + patch.len());
    for (i, identity) in server_ids.iter().enumerate() {
        positions.entry(identity.clone()).or_insert(i);
    }
    for (item, identity) in patch.into_iter().zip(patch_ids) {
        // `identities` accepted only objects carrying the key.
        let Value::Object(item) = item else {
            continue;
        };
        match positions.get(identity) {
            Some(&i) => {
                let current = match std::mem::take(&mut merged[i]) {
                    Value::Object(current) => current,
                    _ => Map::new(),
                };
                merged[i] = Value::Object(merge_map(current, item, item_ty, depth + 1)?);
            }
            None => {
                merged.push(Value::Object(clean_map(item, depth + 1)?));
                positions.insert(identity.clone(), merged.len() - 1);
                appended.push(identity.clone());
            }
        }
    }
    Ok((merged, appended))
}

/// Upstream's ordering of a merged list (`partition…ByPresentInList` then
/// `normalizeElementOrder`): the items whose identity `order_ids` lists, sorted as listed; the
/// others, sorted as the original list (`server_ids`) had them; then the two interleaved so that
/// a remaining original item goes first whenever the original list had it before the next
/// ordered item.
fn order_merged(
    merged: Vec<Value>,
    order_ids: &[String],
    server_ids: &[String],
    merge_key: Option<&'static str>,
) -> Result<Vec<Value>, SmpError> {
    let order_positions = first_positions(order_ids);
    let server_positions = first_positions(server_ids);

    let mut ordered = Vec::new();
    let mut server_only = Vec::new();
    for item in merged {
        let id = identity(&item, merge_key)?;
        match order_positions.get(id.as_str()) {
            Some(&position) => ordered.push((position, server_positions.get(id.as_str()).copied(), item)),
            None => server_only.push((server_positions.get(id.as_str()).copied(), item)),
        }
    }
    ordered.sort_by_key(|(position, _, _)| *position);
    server_only.sort_by_key(|(server, _)| server.unwrap_or(usize::MAX));

    let mut out = Vec::with_capacity(ordered.len() + server_only.len());
    let mut ordered = ordered.into_iter().peekable();
    let mut server_only = server_only.into_iter().peekable();
    loop {
        let take_server = match (server_only.peek(), ordered.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((Some(left), _)), Some((_, Some(right), _))) => left < right,
            (Some(_), Some(_)) => false,
        };
        let item = if take_server {
            server_only.next().map(|(_, item)| item)
        } else {
            ordered.next().map(|(_, _, item)| item)
        };
        out.extend(item);
    }
    Ok(out)
}

/// Upstream's `mergePatchIntoOriginal`: each `$setElementOrder/<field>` merges `<field>` now and
/// orders the result as the directive lists it.
fn apply_set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    ty: Ty<'_>,
    depth: usize,
) -> Result<(), SmpError> {
    let directives: Vec<String> = patch.keys().filter(|k| k.starts_with(SET_ELEMENT_ORDER)).cloned().collect();
    for directive in directives {
        let Some(Value::Array(order)) = patch.remove(&directive) else {
            return Err(SmpError::InvalidSetElementOrder);
        };
        let field =
            directive_target(&directive, SET_ELEMENT_ORDER).ok_or(SmpError::InvalidSetElementOrder)?.to_string();
        let list = |value: Option<Value>| match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(SmpError::NotAList { field: field.clone(), actual: to_json(&other) }),
        };
        let original_list = list(original.remove(&field))?;
        let patch_list = match patch.remove(&field) {
            Some(Value::Null) => return Err(SmpError::NotAList { field: field.clone(), actual: "null".into() }),
            other => list(other)?,
        };
        let meta = lookup(ty, &field);
        let merge_key = merge_key_of(meta.list);
        validate_order(patch_list.as_deref().unwrap_or_default(), &order, merge_key)?;
        element_kind(original_list.as_deref().unwrap_or_default(), patch_list.as_deref().unwrap_or_default())?;
        let order_ids = identities(&order, merge_key)?;
        let merged = match (original_list, patch_list) {
            (Some(current), None) => {
                let live_order = server_identities(&current, merge_key);
                MergedList { items: current, live_order }
            }
            (None, Some(patch)) => match clean(Value::Array(patch), depth + 1)? {
                Some(Value::Array(items)) => MergedList { items, live_order: Vec::new() },
                _ => MergedList { items: Vec::new(), live_order: Vec::new() },
            },
            (Some(current), Some(patch)) => merge_list_field(current, patch, &meta, &field, depth + 1)?,
            (None, None) => continue,
        };
        let ordered = order_merged(merged.items, &order_ids, &merged.live_order, merge_key)?;
        original.insert(field, Value::Array(ordered));
    }
    Ok(())
}

/// Upstream's `validatePatchWithSetOrderList`: the patch list's items (less deletions and
/// directive entries) must appear in the order list, in the same relative order.
fn validate_order(patch: &[Value], order: &[Value], merge_key: Option<&'static str>) -> Result<(), SmpError> {
    if patch.is_empty() || order.is_empty() {
        return Ok(());
    }
    let items: Vec<&Value> =
        patch.iter().filter(|item| item.get(DIRECTIVE).and_then(Value::as_str) != Some("delete")).collect();
    let (mut p, mut o) = (0, 0);
    while p < items.len() && o < order.len() {
        if items[p].get(DIRECTIVE).is_some() {
            p += 1;
            continue;
        }
        if identity(items[p], merge_key)? == identity(&order[o], merge_key)? {
            p += 1;
        }
        o += 1;
    }
    if p < items.len() {
        return Err(SmpError::SetElementOrderMismatch { patch: list_json(patch), order: list_json(order) });
    }
    Ok(())
}

/// `$deleteFromPrimitiveList`: removes every occurrence of the given scalars.
fn delete_from_list(list: &mut Vec<Value>, to_delete: &[Value]) -> Result<(), SmpError> {
    if list.iter().chain(to_delete).any(|item| item.is_object() || item.is_array()) {
        return Err(SmpError::InvalidDeleteFromPrimitiveList);
    }
    let doomed: HashSet<String> = to_delete.iter().map(to_json).collect();
    list.retain(|item| !doomed.contains(&to_json(item)));
    Ok(())
}

/// `$retainKeys`: every non-null key of the patch map must be listed; then the original map keeps
/// only the listed keys (the patch's own keys are merged back afterwards).
fn apply_retain_keys(original: &mut Map<String, Value>, patch: &mut Map<String, Value>) -> Result<(), SmpError> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(SmpError::InvalidRetainKeys);
    };
    let keep: HashSet<&str> = retain.iter().filter_map(Value::as_str).collect();
    let unlisted = patch.iter().any(|(key, value)| {
        !value.is_null()
            && !key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            && !key.starts_with(SET_ELEMENT_ORDER)
            && !keep.contains(key.as_str())
    });
    if unlisted {
        return Err(SmpError::InvalidRetainKeys);
    }
    original.retain(|key, _| keep.contains(key.as_str()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn merge(root: &SchemaType, original: Value, patch: Value) -> Value {
        match strategic_merge(&original, &patch, root) {
            Ok(merged) => merged,
            Err(e) => panic!("patch {patch} should apply: {e}"),
        }
    }

    fn merge_error(root: &SchemaType, original: Value, patch: Value) -> SmpError {
        match strategic_merge(&original, &patch, root) {
            Ok(merged) => panic!("patch {patch} should fail, got {merged}"),
            Err(e) => e,
        }
    }

    fn deployment(containers: Value) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {"spec": {"containers": containers}},
            },
        })
    }

    fn containers(object: &Value) -> &Value {
        &object["spec"]["template"]["spec"]["containers"]
    }

    fn names(list: &Value) -> Vec<&str> {
        list.as_array().into_iter().flatten().filter_map(|c| c["name"].as_str()).collect()
    }

    #[test]
    fn set_image_changes_only_the_image_of_the_named_container() {
        let original = deployment(json!([
            {"name": "nginx", "image": "nginx:1.14", "ports": [{"containerPort": 80}]},
            {"name": "sidecar", "image": "envoy:1"},
        ]));
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "envoy:2"}]}}}});
        let merged = merge(&DEPLOYMENT, original.clone(), patch);
        let mut expected = original;
        expected["spec"]["template"]["spec"]["containers"][1]["image"] = json!("envoy:2");
        assert_eq!(merged, expected);
    }

    #[test]
    fn apply_patch_reorders_containers_and_env_with_set_element_order() {
        let original = deployment(json!([
            {"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]},
            {"name": "b", "image": "b:1"},
        ]));
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "containers": [{
                "name": "a",
                "$setElementOrder/env": [{"name": "Y"}, {"name": "Z"}, {"name": "X"}],
                "env": [{"name": "Z", "value": "3"}],
            }],
        }}}});
        let merged = merge(&DEPLOYMENT, original, patch);
        assert_eq!(names(containers(&merged)), ["b", "a"]);
        assert_eq!(
            containers(&merged)[1]["env"],
            json!([{"name": "Y", "value": "2"}, {"name": "Z", "value": "3"}, {"name": "X", "value": "1"}])
        );
        assert_eq!(containers(&merged)[1]["image"], "a:1");
    }

    #[test]
    fn set_element_order_keeps_unlisted_original_items_in_place() {
        let original = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}});
        let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}]}});
        let merged = merge(&POD, original, patch);
        // b is not listed: it keeps its place relative to the items around it in the original.
        assert_eq!(names(&merged["spec"]["containers"]), ["b", "c", "a"]);
    }

    #[test]
    fn apply_that_adds_and_removes_containers_keeps_live_only_ones_before_the_new_one() {
        // The live object has a container (d) that the last applied configuration never had.
        // kubectl apply replaces a with c: upstream places d before c, because its order step
        // reads the live list as "after the deletion, then the additions" (see `MergedList`).
        let original = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "d"}]}});
        let patch = json!({"spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "c"}],
            "containers": [{"name": "c"}, {"name": "a", "$patch": "delete"}],
        }});
        assert_eq!(names(&merge(&POD, original, patch)["spec"]["containers"]), ["b", "d", "c"]);
    }

    #[test]
    fn set_element_order_that_contradicts_the_patch_list_is_refused() {
        let original = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        let patch = json!({"spec": {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
            "containers": [{"name": "b", "image": "x"}, {"name": "a", "image": "y"}],
        }});
        let error = merge_error(&POD, original, patch);
        assert!(matches!(error, SmpError::SetElementOrderMismatch { .. }), "{error}");
        assert_eq!(error.status_code(), 400);
    }

    #[test]
    fn delete_directive_removes_the_container_with_that_name() {
        let original = deployment(json!([{"name": "app", "image": "a"}, {"name": "x", "image": "b"}]));
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "x", "$patch": "delete"}]}}}});
        let merged = merge(&DEPLOYMENT, original, patch);
        assert_eq!(containers(&merged), &json!([{"name": "app", "image": "a"}]));
    }

    #[test]
    fn retain_keys_switches_the_strategy_from_rolling_update_to_recreate() {
        let original = deployment(json!([{"name": "app"}]));
        for patch in [
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
            // What kubectl apply sends: the removed member as null, which the list need not name.
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": null, "type": "Recreate"}}}),
        ] {
            let merged = merge(&DEPLOYMENT, original.clone(), patch);
            assert_eq!(merged["spec"]["strategy"], json!({"type": "Recreate"}));
            assert_eq!(merged["spec"]["replicas"], 2);
        }
    }

    #[test]
    fn without_retain_keys_the_old_union_member_survives() {
        let original = deployment(json!([{"name": "app"}]));
        let merged = merge(&DEPLOYMENT, original, json!({"spec": {"strategy": {"type": "Recreate"}}}));
        assert_eq!(merged["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
    }

    #[test]
    fn retain_keys_refuses_patch_keys_it_does_not_list() {
        let original = deployment(json!([]));
        let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {}}}});
        assert_eq!(merge_error(&DEPLOYMENT, original.clone(), patch), SmpError::InvalidRetainKeys);
        let not_a_list = json!({"spec": {"strategy": {"$retainKeys": "type"}}});
        assert_eq!(merge_error(&DEPLOYMENT, original, not_a_list), SmpError::InvalidRetainKeys);
    }

    #[test]
    fn env_value_change_touches_only_that_variable() {
        let original = deployment(json!([{"name": "app", "env": [
            {"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"},
        ]}]));
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "env": [{"name": "B", "value": "20"}]},
        ]}}}});
        let merged = merge(&DEPLOYMENT, original, patch);
        assert_eq!(
            containers(&merged)[0]["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "20"}, {"name": "C", "value": "3"}])
        );
    }

    #[test]
    fn labels_merge_like_a_merge_patch() {
        let original = deployment(json!([]));
        let merged = merge(&DEPLOYMENT, original, json!({"metadata": {"labels": {"tier": "front"}}}));
        assert_eq!(merged["metadata"]["labels"], json!({"app": "web", "tier": "front"}));
    }

    #[test]
    fn null_deletes_a_map_key() {
        let original = json!({"metadata": {"annotations": {"a": "1", "b": "2"}}});
        let merged = merge(&OBJECT, original, json!({"metadata": {"annotations": {"a": null}}}));
        assert_eq!(merged, json!({"metadata": {"annotations": {"b": "2"}}}));
    }

    #[test]
    fn finalizers_merge_as_a_set_with_new_ones_first() {
        let original = json!({"metadata": {"finalizers": ["a", "b"]}});
        let merged = merge(&OBJECT, original.clone(), json!({"metadata": {"finalizers": ["b", "c"]}}));
        assert_eq!(merged["metadata"]["finalizers"], json!(["a", "b", "c"]));
        // A value new to the list is placed before the original values that follow no patch
        // value: upstream's ordering rule (see the module documentation).
        let merged = merge(&OBJECT, original, json!({"metadata": {"finalizers": ["c"]}}));
        assert_eq!(merged["metadata"]["finalizers"], json!(["c", "a", "b"]));
    }

    #[test]
    fn delete_from_primitive_list_removes_finalizers() {
        let original = json!({"metadata": {"finalizers": ["a", "b", "a"]}});
        let merged = merge(&OBJECT, original, json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a", "z"]}}));
        assert_eq!(merged, json!({"metadata": {"finalizers": ["b"]}}));
    }

    #[test]
    fn delete_from_primitive_list_of_an_absent_list_adds_nothing() {
        let merged = merge(
            &OBJECT,
            json!({"metadata": {}}),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
        );
        assert_eq!(merged, json!({"metadata": {}}));
    }

    #[test]
    fn kubectl_apply_removing_a_finalizer_sends_order_and_deletion_together() {
        let original = json!({"metadata": {"finalizers": ["a", "b"]}});
        let patch = json!({"metadata": {
            "$setElementOrder/finalizers": ["b", "c"],
            "$deleteFromPrimitiveList/finalizers": ["a"],
            "finalizers": ["c"],
        }});
        assert_eq!(merge(&OBJECT, original, patch), json!({"metadata": {"finalizers": ["b", "c"]}}));
    }

    #[test]
    fn new_items_of_a_keyed_list_go_before_the_remaining_original_items() {
        let original = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        let merged = merge(&POD, original, json!({"spec": {"containers": [{"name": "c", "image": "c"}]}}));
        assert_eq!(names(&merged["spec"]["containers"]), ["c", "a", "b"]);
    }

    #[test]
    fn patch_order_wins_over_original_order_for_the_items_it_names() {
        let original = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}});
        let merged = merge(&POD, original, json!({"spec": {"containers": [{"name": "c"}, {"name": "a"}]}}));
        assert_eq!(names(&merged["spec"]["containers"]), ["b", "c", "a"]);
    }

    #[test]
    fn replace_directive_in_a_list_keeps_only_the_patch_items() {
        let original = json!({"spec": {"containers": [{"name": "a", "image": "a"}, {"name": "b"}]}});
        let patch = json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "c", "image": "c", "args": null}]}});
        assert_eq!(merge(&POD, original, patch), json!({"spec": {"containers": [{"name": "c", "image": "c"}]}}));
    }

    #[test]
    fn replace_and_delete_directives_on_a_map() {
        let original = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
        let replaced =
            merge(&OBJECT, original.clone(), json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}}));
        assert_eq!(replaced, json!({"metadata": {"labels": {"c": "3"}}}));
        let deleted = merge(&OBJECT, original, json!({"metadata": {"labels": {"$patch": "delete"}}}));
        assert_eq!(deleted, json!({"metadata": {"labels": {}}}));
    }

    #[test]
    fn unknown_and_merge_patch_directives_are_refused() {
        let original = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "a"}]}});
        let error = merge_error(&POD, original.clone(), json!({"metadata": {"labels": {"$patch": "merge"}}}));
        assert_eq!(error.to_string(), "unknown patch type: merge in map: {\"$patch\":\"merge\"}");
        let error = merge_error(&POD, original.clone(), json!({"spec": {"containers": [{"$patch": "merge"}]}}));
        assert_eq!(error, SmpError::MergeDirectiveInList);
        let error = merge_error(&POD, original, json!({"spec": {"containers": [{"name": "a", "$patch": "bogus"}]}}));
        assert!(matches!(error, SmpError::UnknownPatchType { .. }));
    }

    #[test]
    fn keyed_list_items_without_their_key_are_refused() {
        let original = json!({"spec": {"containers": [{"name": "a"}]}});
        let error = merge_error(&POD, original.clone(), json!({"spec": {"containers": [{"image": "x"}]}}));
        assert_eq!(error.to_string(), "map: {\"image\":\"x\"} does not contain declared merge key: name");
        let error = merge_error(&POD, original, json!({"spec": {"containers": [{"$patch": "delete"}]}}));
        assert!(matches!(error, SmpError::MissingMergeKey { .. }));
    }

    #[test]
    fn lists_of_lists_are_unprocessable() {
        let original = json!({"metadata": {"finalizers": ["a"]}});
        let error = merge_error(&OBJECT, original, json!({"metadata": {"finalizers": [["b"]]}}));
        assert_eq!(error, SmpError::ListOfLists);
        assert_eq!(error.status_code(), 422);
    }

    #[test]
    fn lists_without_a_strategy_are_replaced() {
        let original =
            json!({"spec": {"containers": [{"name": "a", "args": ["x", "y"]}], "tolerations": [{"key": "k"}]}});
        let patch = json!({"spec": {"containers": [{"name": "a", "args": ["z"]}], "tolerations": [{"key": "j"}]}});
        let merged = merge(&POD, original, patch);
        assert_eq!(merged["spec"]["containers"][0]["args"], json!(["z"]));
        assert_eq!(merged["spec"]["tolerations"], json!([{"key": "j"}]));
    }

    #[test]
    fn unknown_fields_behave_like_a_merge_patch() {
        let original = json!({"spec": {"extra": {"a": 1, "list": [{"name": "x", "v": 1}]}}});
        let patch = json!({"spec": {"extra": {"b": 2, "list": [{"name": "x", "w": 2}]}}});
        assert_eq!(
            merge(&POD, original, patch),
            json!({"spec": {"extra": {"a": 1, "b": 2, "list": [{"name": "x", "w": 2}]}}})
        );
    }

    #[test]
    fn service_ports_merge_by_port_and_owner_references_by_uid() {
        let original = json!({
            "metadata": {"ownerReferences": [{"uid": "1", "name": "a"}, {"uid": "2", "name": "b"}]},
            "spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}], "selector": {"app": "web"}},
        });
        let patch = json!({
            "metadata": {"ownerReferences": [{"uid": "2", "controller": true}]},
            "spec": {"ports": [{"port": 443, "targetPort": 8443}], "selector": {"tier": "front"}},
        });
        let merged = merge(&SERVICE, original, patch);
        assert_eq!(merged["metadata"]["ownerReferences"][1], json!({"uid": "2", "name": "b", "controller": true}));
        assert_eq!(merged["spec"]["ports"][1], json!({"port": 443, "name": "https", "targetPort": 8443}));
        assert_eq!(merged["spec"]["selector"], json!({"app": "web", "tier": "front"}));
    }

    #[test]
    fn status_conditions_merge_by_type() {
        let original = json!({"status": {"conditions": [
            {"type": "Available", "status": "False"}, {"type": "Progressing", "status": "True"},
        ]}});
        let patch = json!({"status": {"conditions": [{"type": "Available", "status": "True"}]}});
        let merged = strategic_merge_for("apps", "Deployment", &original, &patch).expect("applies");
        assert_eq!(
            merged["status"]["conditions"],
            json!([{"type": "Available", "status": "True"}, {"type": "Progressing", "status": "True"}])
        );
    }

    #[test]
    fn volumes_merge_by_name_and_switch_source_with_retain_keys() {
        let original = json!({"spec": {"volumes": [{"name": "data", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "c"}}]}});
        let patch = json!({"spec": {"volumes": [{"name": "data", "$retainKeys": ["name", "secret"], "secret": {"secretName": "s"}}]}});
        let merged = merge(&POD, original, patch);
        assert_eq!(
            merged["spec"]["volumes"],
            json!([{"name": "data", "secret": {"secretName": "s"}}, {"name": "cfg", "configMap": {"name": "c"}}])
        );
    }

    #[test]
    fn pod_disruption_budget_selector_is_replaced_whole() {
        let original = json!({"spec": {"selector": {"matchLabels": {"a": "1"}}}});
        let patch = json!({"spec": {"selector": {"matchLabels": {"b": "2"}}}});
        let merged = strategic_merge_for("policy", "PodDisruptionBudget", &original, &patch).expect("applies");
        assert_eq!(merged["spec"]["selector"], json!({"matchLabels": {"b": "2"}}));
    }

    #[test]
    fn kinds_missing_from_the_table_still_merge_metadata_by_strategy() {
        let original = json!({"metadata": {"finalizers": ["a"]}, "rules": [{"verbs": ["get"]}]});
        let patch = json!({"metadata": {"finalizers": ["a", "b"]}, "rules": [{"verbs": ["list"]}]});
        let merged = strategic_merge_for("rbac.authorization.k8s.io", "Role", &original, &patch).expect("applies");
        assert_eq!(merged, json!({"metadata": {"finalizers": ["a", "b"]}, "rules": [{"verbs": ["list"]}]}));
    }

    #[test]
    fn directives_in_values_new_to_the_original_do_not_survive() {
        let original = json!({"spec": {"template": {"spec": {}}}});
        let patch = json!({"spec": {
            "strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null},
            "template": {"spec": {
                "$setElementOrder/containers": [{"name": "a"}],
                "containers": [{"name": "a", "env": [{"name": "X", "$patch": "delete"}], "$setElementOrder/env": []}],
                "volumes": [{"name": "v", "$patch": "delete"}],
            }},
            "selector": {"$patch": "replace", "matchLabels": {"app": "web"}},
        }});
        let merged = merge(&DEPLOYMENT, original, patch);
        assert_eq!(
            merged,
            json!({"spec": {
                "strategy": {"type": "Recreate"},
                "template": {"spec": {"containers": [{"name": "a", "env": []}], "volumes": []}},
            }})
        );
    }

    #[test]
    fn malformed_directives_are_refused() {
        let original = json!({"metadata": {"finalizers": ["a"]}});
        for (patch, expected) in [
            (json!({"metadata": {"$setElementOrder": ["a"]}}), SmpError::InvalidSetElementOrder),
            (json!({"metadata": {"$setElementOrder/finalizers": "a"}}), SmpError::InvalidSetElementOrder),
            (
                json!({"metadata": {"$deleteFromPrimitiveListX/finalizers": ["a"]}}),
                SmpError::InvalidDeleteFromPrimitiveList,
            ),
            (
                json!({"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}),
                SmpError::InvalidDeleteFromPrimitiveList,
            ),
        ] {
            assert_eq!(merge_error(&OBJECT, original.clone(), patch), expected);
        }
        assert_eq!(merge_error(&OBJECT, original.clone(), json!([])), SmpError::PatchNotAnObject);
        let error = merge_error(&OBJECT, original, json!({"metadata": {"finalizers": [{"name": "a"}]}}));
        assert!(matches!(error, SmpError::MixedListElements(_)), "{error}");
    }

    #[test]
    fn absurdly_deep_patches_are_refused_without_exhausting_the_stack() {
        let mut original = json!(1);
        let mut patch = json!(2);
        for _ in 0..(PATCH_DEPTH_MAX + 10) {
            original = json!({"a": original});
            patch = json!({"a": patch});
        }
        assert_eq!(strategic_merge(&original, &patch, &OBJECT), Err(SmpError::TooDeep(PATCH_DEPTH_MAX)));
    }

    #[test]
    fn the_table_reports_upstreams_patch_tags() {
        let pod_spec = POD.field("spec").map(|f| f.shape);
        let Some(Shape::Object { ty: pod_spec, .. }) = pod_spec else { panic!("Pod.spec is an object") };
        let tags = |ty: &SchemaType, name: &str| {
            ty.field(name).map(|f| (f.patch_strategy(), f.patch_merge_key())).unwrap_or((None, None))
        };
        assert_eq!(tags(pod_spec, "containers"), (Some("merge"), Some("name")));
        assert_eq!(tags(pod_spec, "volumes"), (Some("merge,retainKeys"), Some("name")));
        assert_eq!(tags(pod_spec, "tolerations"), (None, None));
        assert_eq!(tags(&OBJECT_META, "finalizers"), (Some("merge"), None));
        assert_eq!(tags(&DEPLOYMENT_SPEC, "strategy"), (Some("retainKeys"), None));
        assert_eq!(tags(&POD_DISRUPTION_BUDGET_SPEC, "selector"), (Some("replace"), None));
        assert_eq!(tags(&CONTAINER, "ports"), (Some("merge"), Some("containerPort")));
        assert_eq!(tags(&EPHEMERAL_CONTAINER, "volumeMounts"), (Some("merge"), Some("mountPath")));
        assert!(root_type("apps", "Deployment").is_some_and(|t| t.name == "Deployment"));
        assert!(root_type("", "Deployment").is_none());
    }

    // -----------------------------------------------------------------------------------------
    // Properties
    // -----------------------------------------------------------------------------------------

    /// RFC 7386, written out as the reference.
    fn json_merge_patch(target: &Value, patch: &Value) -> Value {
        let Value::Object(patch) = patch else {
            return patch.clone();
        };
        let mut target = target.as_object().cloned().unwrap_or_default();
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                let merged = json_merge_patch(target.get(key).unwrap_or(&Value::Null), value);
                target.insert(key.clone(), merged);
            }
        }
        Value::Object(target)
    }

    fn contains_directive_key(value: &Value) -> bool {
        match value {
            Value::Object(map) => map.iter().any(|(k, v)| is_directive_key(k) || contains_directive_key(v)),
            Value::Array(items) => items.iter().any(contains_directive_key),
            _ => false,
        }
    }

    fn scalar_strategy() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (0i64..5).prop_map(Value::from),
            "[a-c]{0,2}".prop_map(Value::from)
        ]
    }

    /// Objects over a few field names, some of which the Pod table knows (metadata, spec,
    /// containers, finalizers…), with lists when `lists` is set.
    fn value_strategy(lists: bool) -> impl Strategy<Value = Value> {
        let keys = prop_oneof![
            Just("metadata".to_string()),
            Just("spec".to_string()),
            Just("labels".to_string()),
            Just("name".to_string()),
            Just("image".to_string()),
            "[a-c]",
        ];
        scalar_strategy().prop_recursive(4, 24, 4, move |inner| {
            let object = proptest::collection::btree_map(keys.clone(), inner.clone(), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect()));
            if lists {
                prop_oneof![object, proptest::collection::vec(inner, 0..3).prop_map(Value::Array)].boxed()
            } else {
                object.boxed()
            }
        })
    }

    fn object_strategy(lists: bool) -> impl Strategy<Value = Value> {
        value_strategy(lists).prop_map(|v| if v.is_object() { v } else { json!({"spec": v}) })
    }

    /// Pod-shaped objects whose containers (by name) and env vars (by name) are unique, as the
    /// objects and patches clients send are: a patch naming an item twice is order-dependent
    /// by nature, upstream's merge included.
    fn pod_like_strategy() -> impl Strategy<Value = Value> {
        let container =
            (proptest::option::of("[x-z]"), proptest::collection::btree_set("[A-C]", 0..3)).prop_map(|(image, env)| {
                let env: Vec<Value> = env.into_iter().map(|n| json!({"name": n, "value": "v"})).collect();
                match image {
                    Some(image) => json!({"image": image, "env": env}),
                    None => json!({"env": env}),
                }
            });
        let containers = proptest::collection::btree_map("[a-c]", container, 0..4).prop_map(|by_name| {
            by_name
                .into_iter()
                .map(|(name, mut container)| {
                    container["name"] = json!(name);
                    container
                })
                .collect::<Vec<_>>()
        });
        (containers.prop_shuffle(), proptest::collection::vec("[a-d]", 0..3))
            .prop_map(|(containers, finalizers)| json!({"metadata": {"finalizers": finalizers}, "spec": {"containers": containers}}))
    }

    proptest! {
        #[test]
        fn an_empty_patch_changes_nothing(original in object_strategy(true)) {
            prop_assert_eq!(strategic_merge(&original, &json!({}), &POD), Ok(original));
        }

        #[test]
        fn a_patch_without_lists_is_a_json_merge_patch(original in object_strategy(true), patch in object_strategy(false)) {
            prop_assert_eq!(strategic_merge(&original, &patch, &POD), Ok(json_merge_patch(&original, &patch)));
        }

        #[test]
        fn applying_the_same_patch_twice_changes_nothing_more(original in pod_like_strategy(), patch in pod_like_strategy()) {
            let once = strategic_merge(&original, &patch, &POD);
            if let Ok(once) = once {
                prop_assert_eq!(strategic_merge(&once, &patch, &POD), Ok(once.clone()));
            }
        }

        #[test]
        fn directive_keys_never_survive(original in pod_like_strategy(), patch in pod_like_strategy(), choice in 0usize..6, victim in "[a-c]") {
            let mut patch = patch;
            let directive = match choice {
                0 => json!({"$setElementOrder/containers": [{"name": victim}]}),
                1 => json!({"containers": [{"name": victim, "$patch": "delete"}]}),
                2 => json!({"containers": [{"$patch": "replace"}, {"name": victim, "$setElementOrder/env": []}]}),
                3 => json!({"$retainKeys": ["containers"]}),
                4 => json!({"extra": {"$retainKeys": ["a"], "a": 1, "$patch": "replace"}}),
                _ => json!({"$deleteFromPrimitiveList/finalizers": [victim]}),
            };
            let target = if choice == 5 { "metadata" } else { "spec" };
            if let (Some(map), Value::Object(extra)) = (patch[target].as_object_mut(), directive) {
                map.extend(extra);
            }
            if let Ok(merged) = strategic_merge(&original, &patch, &POD) {
                prop_assert!(!contains_directive_key(&merged), "{}", merged);
            }
        }

        #[test]
        fn merging_never_panics_on_arbitrary_documents(original in value_strategy(true), patch in value_strategy(true)) {
            let _ = strategic_merge(&original, &patch, &POD);
        }
    }
}
