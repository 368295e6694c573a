//! The resource registry: every built-in resource type Bosun serves, as one static table.
//!
//! # What is in the table
//!
//! One [`ResourceType`] per served group/version/resource of a default Kubernetes 1.35
//! kube-apiserver: every GA group (core `v1`, `apps`, `batch`, `autoscaling` v2 *and* v1,
//! `policy`, `rbac.authorization.k8s.io`, `networking.k8s.io`, `storage.k8s.io`,
//! `coordination.k8s.io`, `discovery.k8s.io`, `events.k8s.io`, `certificates.k8s.io`,
//! `scheduling.k8s.io`, `node.k8s.io`, `flowcontrol.apiserver.k8s.io`,
//! `admissionregistration.k8s.io`, `apiextensions.k8s.io`, `apiregistration.k8s.io`,
//! `authentication.k8s.io`, `authorization.k8s.io` and `resource.k8s.io`).
//!
//! Alpha and beta versions that k8s-openapi also generates (`v1alpha1`, `v1beta1`, …) are **not**
//! in the table: since 1.24 new beta APIs are off by default, so a default 1.35 server does not
//! list them in discovery, and advertising a version Bosun cannot convert to would let a client
//! write objects that the GA version never shows. The cross-check tests name every such type.
//!
//! # What each entry says
//!
//! * Identity: group, version, kind, list kind, plural, singular, scope. These agree with
//!   k8s-openapi's `Resource` constants (checked by the tests).
//! * What kubectl's RESTMapper needs: verbs (alphabetical), short names and categories exactly as
//!   `kubectl api-resources` prints them on a 1.35 cluster, and the subresources with the kind
//!   each one answers with (`deployments/scale` answers with `autoscaling/v1` `Scale`).
//! * What the API layer needs: whether the main endpoint keeps status ([`ResourceType::has_status`]),
//!   whether the server owns `metadata.generation`, whether DELETE answers with the object, which
//!   name rule applies, and which version upstream persists the resource in (for
//!   `storageVersionHash`, and for the store keys of converted views: see [`crate::conversion`]).
//!
//! # Order
//!
//! [`group_versions`] is the order of `/api` + `/apis`: core `v1` first, then the named groups in
//! the order kube-apiserver's aggregator lists them (by group priority), and within a group the
//! preferred version first (`autoscaling/v2` before `autoscaling/v1`). [`all`] follows the same
//! group-version order and, inside one group-version, sorts by plural, which is the order
//! upstream's per-group-version discovery documents use. Both orders are invariants checked by
//! tests, so discovery builders can emit entries in table order.
//!
//! # Limits
//!
//! The table is static: custom resources (CRDs) are not in it. Lookups scan it linearly; with 66
//! entries that costs less than parsing the request path.

use std::fmt;

/// A group and version, e.g. `apps/v1`; the core group is the empty string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupVersion {
    /// API group; `""` for the core (legacy) group served under `/api`.
    pub group: &'static str,
    /// Version within the group, e.g. `v1`, `v2`.
    pub version: &'static str,
}

impl GroupVersion {
    /// A group-version from its parts.
    pub const fn new(group: &'static str, version: &'static str) -> Self {
        Self { group, version }
    }

    /// The `apiVersion` string objects of this group-version carry: `v1` for core, `apps/v1` otherwise.
    pub fn api_version(&self) -> String {
        self.to_string()
    }

    /// The URL prefix the group-version is served under: `/api/v1` or `/apis/{group}/{version}`.
    pub fn path_prefix(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }
}

impl fmt::Display for GroupVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() { f.write_str(self.version) } else { write!(f, "{}/{}", self.group, self.version) }
    }
}

/// Which rule `metadata.name` must satisfy: the one enum validation uses.
pub use crate::validation::names::NameRule;

/// A subresource of a [`ResourceType`], e.g. `status`, `scale`, `log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubresourceType {
    /// The path segment after the object name: `status`, `scale`, `finalize`, `binding`, `eviction`,
    /// `log`, `token`, `exec`, …
    pub name: &'static str,
    /// Group of the kind this subresource reads and writes (`autoscaling` for `scale`).
    pub group: &'static str,
    /// Version of that kind (`v1` for `scale`).
    pub version: &'static str,
    /// The kind itself: the parent's kind for `status`, `Scale`, `Eviction`, `PodExecOptions`, …
    pub kind: &'static str,
    /// Supported verbs, alphabetical.
    pub verbs: &'static [&'static str],
}

impl SubresourceType {
    /// The group-version of the kind the subresource answers with.
    pub fn group_version(&self) -> GroupVersion {
        GroupVersion::new(self.group, self.version)
    }
}

/// One served resource type: identity, discovery data and the strategy flags the API layer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceType {
    /// API group, `""` for core.
    pub group: &'static str,
    /// Served version.
    pub version: &'static str,
    /// Kind of one object, e.g. `Deployment`.
    pub kind: &'static str,
    /// Kind of a list response, e.g. `DeploymentList`; empty for types that cannot be listed
    /// (the create-only review types and `bindings`).
    pub list_kind: &'static str,
    /// Resource name in URLs, lower-case plural: `deployments`.
    pub plural: &'static str,
    /// Lower-case singular, as discovery reports it: `deployment`.
    pub singular: &'static str,
    /// Whether objects live in a namespace (`/namespaces/{ns}/…`) or at cluster scope.
    pub namespaced: bool,
    /// Supported verbs on the resource itself, alphabetical, as discovery lists them.
    pub verbs: &'static [&'static str],
    /// kubectl short names (`po`, `deploy`), in upstream's order.
    pub short_names: &'static [&'static str],
    /// Categories (`all` drives `kubectl get all`).
    pub categories: &'static [&'static str],
    /// Subresources, sorted by name.
    pub subresources: &'static [SubresourceType],
    /// The group-version upstream persists objects in; `storageVersionHash` is computed from it.
    /// It differs from the served version for `autoscaling/v1` HPAs (stored as `autoscaling/v2`),
    /// `events.k8s.io` Events (stored as core `v1` Events) and CRDs (stored as
    /// `apiextensions.k8s.io/v1beta1`): upstream serves those as views of the same objects, and so
    /// does Bosun where it serves the storage version ([`crate::conversion::storage_type`]).
    /// `None` for types that are never persisted (reviews, `bindings`, `componentstatuses`).
    pub storage: Option<GroupVersion>,
    /// The type has a `status` subresource: writes to the main endpoint keep the stored status,
    /// and only `…/status` changes it; creates start from an empty status.
    pub has_status: bool,
    /// The server owns `metadata.generation`: 1 on create, +1 whenever anything but metadata and
    /// status changes, and +1 when deletion starts for objects that wait on finalizers.
    pub has_generation: bool,
    /// Annotation changes also bump the generation (Deployment only: its annotations are copied
    /// to its ReplicaSets, so a change must be observed by the controller).
    pub generation_on_annotations: bool,
    /// DELETE that removes the object at once answers with the object instead of a `Status`
    /// (upstream's `ReturnDeletedObject`).
    pub delete_returns_object: bool,
    /// The rule `metadata.name` must satisfy.
    pub name_rule: NameRule,
}

impl ResourceType {
    /// The group-version the resource is served at.
    pub fn group_version(&self) -> GroupVersion {
        GroupVersion::new(self.group, self.version)
    }

    /// The `apiVersion` its objects carry (`v1`, `apps/v1`).
    pub fn api_version(&self) -> String {
        self.group_version().api_version()
    }

    /// The subresource called `name`, if the type has one.
    pub fn subresource(&self, name: &str) -> Option<&'static SubresourceType> {
        self.subresources.iter().find(|sub| sub.name == name)
    }

    /// Whether `verb` (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`) is supported on the resource itself.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// `<plural>.<group>` as error messages name the resource (`deployments.apps`); the bare plural
    /// for core.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() { self.plural.to_string() } else { format!("{}.{}", self.plural, self.group) }
    }

    /// Defaults for a fully fledged stored resource; the builder methods below adjust them.
    #[allow(clippy::too_many_arguments)]
    const fn new(
        group: &'static str,
        version: &'static str,
        kind: &'static str,
        list_kind: &'static str,
        plural: &'static str,
        singular: &'static str,
        namespaced: bool,
    ) -> Self {
        Self {
            group,
            version,
            kind,
            list_kind,
            plural,
            singular,
            namespaced,
            verbs: VERBS_CRUD,
            short_names: &[],
            categories: &[],
            subresources: &[],
            storage: Some(GroupVersion::new(group, version)),
            has_status: false,
            has_generation: false,
            generation_on_annotations: false,
            delete_returns_object: false,
            name_rule: NameRule::Dns1123Subdomain,
        }
    }

    const fn short_names(mut self, short_names: &'static [&'static str]) -> Self {
        self.short_names = short_names;
        self
    }

    const fn categories(mut self, categories: &'static [&'static str]) -> Self {
        self.categories = categories;
        self
    }

    const fn verbs(mut self, verbs: &'static [&'static str]) -> Self {
        self.verbs = verbs;
        self
    }

    /// Sets the subresources; `has_status` follows from the presence of `status`, so the two can
    /// never disagree.
    const fn subresources(mut self, subresources: &'static [SubresourceType]) -> Self {
        self.subresources = subresources;
        let mut i = 0;
        while i < subresources.len() {
            if str_eq(subresources[i].name, "status") {
                self.has_status = true;
            }
            i += 1;
        }
        self
    }

    const fn generation(mut self) -> Self {
        self.has_generation = true;
        self
    }

    const fn generation_on_annotations(mut self) -> Self {
        self.has_generation = true;
        self.generation_on_annotations = true;
        self
    }

    const fn returns_deleted_object(mut self) -> Self {
        self.delete_returns_object = true;
        self
    }

    const fn name_rule(mut self, rule: NameRule) -> Self {
        self.name_rule = rule;
        self
    }

    const fn stored_as(mut self, group: &'static str, version: &'static str) -> Self {
        self.storage = Some(GroupVersion::new(group, version));
        self
    }

    const fn not_stored(mut self) -> Self {
        self.storage = None;
        self
    }

    /// A virtual type that only answers POST: nothing is stored, nothing can be listed, and its
    /// name is never validated as a stored object's name.
    const fn create_only(mut self) -> Self {
        self.verbs = VERBS_CREATE;
        self.list_kind = "";
        self.storage = None;
        self.name_rule = NameRule::PathSegment;
        self
    }
}

/// `&str` equality usable in `const fn` (the trait method is not const).
const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Every verb of a stored, fully writable resource.
pub const VERBS_CRUD: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
/// Namespaces: everything but `deletecollection`.
pub const VERBS_NO_DELETECOLLECTION: &[&str] = &["create", "delete", "get", "list", "patch", "update", "watch"];
/// Create-only types and subresources (reviews, `pods/binding`, `pods/eviction`, `serviceaccounts/token`).
pub const VERBS_CREATE: &[&str] = &["create"];
/// Read-and-write subresources (`status`, `scale`, `ephemeralcontainers`, `resize`, `approval`).
pub const VERBS_GET_PATCH_UPDATE: &[&str] = &["get", "patch", "update"];
/// Streaming connect subresources (`attach`, `exec`, `portforward`).
const VERBS_CONNECT: &[&str] = &["create", "get"];
/// Proxy subresources (`pods/proxy`, `services/proxy`, `nodes/proxy`).
const VERBS_PROXY: &[&str] = &["create", "delete", "get", "patch", "update"];

/// `kubectl get all` lists every resource in this category.
const ALL: &[&str] = &["all"];
/// Upstream's category for the types that extend the API server.
const API_EXTENSIONS: &[&str] = &["api-extensions"];

const NAMESPACED: bool = true;
const CLUSTER: bool = false;

/// A subresource answering with `group/version` `kind`.
const fn sub(
    name: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
) -> SubresourceType {
    SubresourceType { name, group, version, kind, verbs }
}

/// The `status` subresource of a type served at `group/version`.
const fn status(group: &'static str, version: &'static str, kind: &'static str) -> SubresourceType {
    sub("status", group, version, kind, VERBS_GET_PATCH_UPDATE)
}

/// The `scale` subresource: always the `autoscaling/v1` `Scale` view of `spec.replicas`.
const SCALE: SubresourceType = sub("scale", "autoscaling", "v1", "Scale", VERBS_GET_PATCH_UPDATE);

/// `resource!("apps" / "v1", "Deployment", "deployments", "deployment", NAMESPACED)`: the list kind
/// is derived as `<Kind>List`, which needs `concat!` and so a macro.
macro_rules! resource {
    ($group:literal / $version:literal, $kind:literal, $plural:literal, $singular:literal, $scope:expr) => {
        ResourceType::new($group, $version, $kind, concat!($kind, "List"), $plural, $singular, $scope)
    };
}

/// Every served group with its versions, preferred version first, in discovery order (see the
/// module documentation). A group appears once, so its versions are always adjacent.
static GROUPS: &[(&str, &[&str])] = &[
    ("", &["v1"]),
    ("apiregistration.k8s.io", &["v1"]),
    ("apps", &["v1"]),
    ("events.k8s.io", &["v1"]),
    ("authentication.k8s.io", &["v1"]),
    ("authorization.k8s.io", &["v1"]),
    ("autoscaling", &["v2", "v1"]),
    ("batch", &["v1"]),
    ("certificates.k8s.io", &["v1"]),
    ("networking.k8s.io", &["v1"]),
    ("policy", &["v1"]),
    ("rbac.authorization.k8s.io", &["v1"]),
    ("storage.k8s.io", &["v1"]),
    ("admissionregistration.k8s.io", &["v1"]),
    ("apiextensions.k8s.io", &["v1"]),
    ("scheduling.k8s.io", &["v1"]),
    ("coordination.k8s.io", &["v1"]),
    ("node.k8s.io", &["v1"]),
    ("discovery.k8s.io", &["v1"]),
    ("resource.k8s.io", &["v1"]),
    ("flowcontrol.apiserver.k8s.io", &["v1"]),
];

/// The table. Sorted by [`all_group_versions`] order, then by plural.
static RESOURCES: &[ResourceType] = &[
    // ---- core v1 ------------------------------------------------------------------------------
    resource!("" / "v1", "Binding", "bindings", "binding", NAMESPACED).create_only(),
    resource!("" / "v1", "ComponentStatus", "componentstatuses", "componentstatus", CLUSTER)
        .verbs(&["get", "list"])
        .short_names(&["cs"])
        .not_stored()
        .name_rule(NameRule::PathSegment),
    resource!("" / "v1", "ConfigMap", "configmaps", "configmap", NAMESPACED).short_names(&["cm"]),
    resource!("" / "v1", "Endpoints", "endpoints", "endpoints", NAMESPACED).short_names(&["ep"]),
    resource!("" / "v1", "Event", "events", "event", NAMESPACED).short_names(&["ev"]),
    resource!("" / "v1", "LimitRange", "limitranges", "limitrange", NAMESPACED).short_names(&["limits"]),
    resource!("" / "v1", "Namespace", "namespaces", "namespace", CLUSTER)
        .verbs(VERBS_NO_DELETECOLLECTION)
        .short_names(&["ns"])
        .subresources(&[sub("finalize", "", "v1", "Namespace", &["update"]), status("", "v1", "Namespace")])
        .returns_deleted_object()
        .name_rule(NameRule::Dns1123Label),
    resource!("" / "v1", "Node", "nodes", "node", CLUSTER)
        .short_names(&["no"])
        .subresources(&[sub("proxy", "", "v1", "NodeProxyOptions", VERBS_PROXY), status("", "v1", "Node")]),
    resource!("" / "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", NAMESPACED)
        .short_names(&["pvc"])
        .subresources(&[status("", "v1", "PersistentVolumeClaim")])
        .returns_deleted_object(),
    resource!("" / "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", CLUSTER)
        .short_names(&["pv"])
        .subresources(&[status("", "v1", "PersistentVolume")])
        .returns_deleted_object(),
    resource!("" / "v1", "Pod", "pods", "pod", NAMESPACED)
        .short_names(&["po"])
        .categories(ALL)
        .subresources(&[
            sub("attach", "", "v1", "PodAttachOptions", VERBS_CONNECT),
            sub("binding", "", "v1", "Binding", VERBS_CREATE),
            sub("ephemeralcontainers", "", "v1", "Pod", VERBS_GET_PATCH_UPDATE),
            sub("eviction", "policy", "v1", "Eviction", VERBS_CREATE),
            sub("exec", "", "v1", "PodExecOptions", VERBS_CONNECT),
            sub("log", "", "v1", "Pod", &["get"]),
            sub("portforward", "", "v1", "PodPortForwardOptions", VERBS_CONNECT),
            sub("proxy", "", "v1", "PodProxyOptions", VERBS_PROXY),
            sub("resize", "", "v1", "Pod", VERBS_GET_PATCH_UPDATE),
            status("", "v1", "Pod"),
        ])
        // Since 1.33 pods carry metadata.generation (KEP-5067).
        .generation()
        .returns_deleted_object(),
    resource!("" / "v1", "PodTemplate", "podtemplates", "podtemplate", NAMESPACED)
        .generation()
        .returns_deleted_object(),
    resource!("" / "v1", "ReplicationController", "replicationcontrollers", "replicationcontroller", NAMESPACED)
        .short_names(&["rc"])
        .categories(ALL)
        .subresources(&[SCALE, status("", "v1", "ReplicationController")])
        .generation(),
    resource!("" / "v1", "ResourceQuota", "resourcequotas", "resourcequota", NAMESPACED)
        .short_names(&["quota"])
        .subresources(&[status("", "v1", "ResourceQuota")]),
    resource!("" / "v1", "Secret", "secrets", "secret", NAMESPACED),
    resource!("" / "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", NAMESPACED)
        .short_names(&["sa"])
        .subresources(&[sub("token", "authentication.k8s.io", "v1", "TokenRequest", VERBS_CREATE)])
        .returns_deleted_object(),
    resource!("" / "v1", "Service", "services", "service", NAMESPACED)
        .short_names(&["svc"])
        .categories(ALL)
        .subresources(&[sub("proxy", "", "v1", "ServiceProxyOptions", VERBS_PROXY), status("", "v1", "Service")])
        .returns_deleted_object()
        .name_rule(NameRule::Dns1035Label),
    // ---- apiregistration.k8s.io/v1 --------------------------------------------------------------
    resource!("apiregistration.k8s.io" / "v1", "APIService", "apiservices", "apiservice", CLUSTER)
        .categories(API_EXTENSIONS)
        .subresources(&[status("apiregistration.k8s.io", "v1", "APIService")])
        // Names are `<version>.<group>`, checked by the type's own validation.
        .name_rule(NameRule::PathSegment),
    // ---- apps/v1 ------------------------------------------------------------------------------------
    resource!("apps" / "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", NAMESPACED),
    resource!("apps" / "v1", "DaemonSet", "daemonsets", "daemonset", NAMESPACED)
        .short_names(&["ds"])
        .categories(ALL)
        .subresources(&[status("apps", "v1", "DaemonSet")])
        .generation(),
    resource!("apps" / "v1", "Deployment", "deployments", "deployment", NAMESPACED)
        .short_names(&["deploy"])
        .categories(ALL)
        .subresources(&[SCALE, status("apps", "v1", "Deployment")])
        .generation_on_annotations(),
    resource!("apps" / "v1", "ReplicaSet", "replicasets", "replicaset", NAMESPACED)
        .short_names(&["rs"])
        .categories(ALL)
        .subresources(&[SCALE, status("apps", "v1", "ReplicaSet")])
        .generation(),
    resource!("apps" / "v1", "StatefulSet", "statefulsets", "statefulset", NAMESPACED)
        .short_names(&["sts"])
        .categories(ALL)
        .subresources(&[SCALE, status("apps", "v1", "StatefulSet")])
        .generation(),
    // ---- events.k8s.io/v1 ---------------------------------------------------------------------------
    // The same objects as core v1 events upstream (cohabiting resources), hence the storage
    // version and the shared short name.
    resource!("events.k8s.io" / "v1", "Event", "events", "event", NAMESPACED).short_names(&["ev"]).stored_as("", "v1"),
    // ---- authentication.k8s.io/v1 ---------------------------------------------------------------
    resource!("authentication.k8s.io" / "v1", "SelfSubjectReview", "selfsubjectreviews", "selfsubjectreview", CLUSTER)
        .create_only(),
    resource!("authentication.k8s.io" / "v1", "TokenReview", "tokenreviews", "tokenreview", CLUSTER).create_only(),
    // ---- authorization.k8s.io/v1 ----------------------------------------------------------------
    resource!(
        "authorization.k8s.io" / "v1",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        "localsubjectaccessreview",
        NAMESPACED
    )
    .create_only(),
    resource!(
        "authorization.k8s.io" / "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        CLUSTER
    )
    .create_only(),
    resource!(
        "authorization.k8s.io" / "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        CLUSTER
    )
    .create_only(),
    resource!(
        "authorization.k8s.io" / "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        "subjectaccessreview",
        CLUSTER
    )
    .create_only(),
    // ---- autoscaling/v2, then v1 (both views of the objects stored as v2) ---------------------------
    resource!(
        "autoscaling" / "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        NAMESPACED
    )
    .short_names(&["hpa"])
    .categories(ALL)
    .subresources(&[status("autoscaling", "v2", "HorizontalPodAutoscaler")]),
    resource!(
        "autoscaling" / "v1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        NAMESPACED
    )
    .short_names(&["hpa"])
    .categories(ALL)
    .subresources(&[status("autoscaling", "v1", "HorizontalPodAutoscaler")])
    .stored_as("autoscaling", "v2"),
    // ---- batch/v1 -----------------------------------------------------------------------------------
    resource!("batch" / "v1", "CronJob", "cronjobs", "cronjob", NAMESPACED)
        .short_names(&["cj"])
        .categories(ALL)
        .subresources(&[status("batch", "v1", "CronJob")])
        .generation(),
    resource!("batch" / "v1", "Job", "jobs", "job", NAMESPACED)
        .categories(ALL)
        .subresources(&[status("batch", "v1", "Job")])
        .generation(),
    // ---- certificates.k8s.io/v1 ---------------------------------------------------------------------
    resource!(
        "certificates.k8s.io" / "v1",
        "CertificateSigningRequest",
        "certificatesigningrequests",
        "certificatesigningrequest",
        CLUSTER
    )
    .short_names(&["csr"])
    .subresources(&[
        sub("approval", "certificates.k8s.io", "v1", "CertificateSigningRequest", VERBS_GET_PATCH_UPDATE),
        status("certificates.k8s.io", "v1", "CertificateSigningRequest"),
    ])
    // Upstream: "We don't care what you call your certificate requests."
    .name_rule(NameRule::PathSegment),
    // ---- networking.k8s.io/v1 -----------------------------------------------------------------------
    resource!("networking.k8s.io" / "v1", "IngressClass", "ingressclasses", "ingressclass", CLUSTER).generation(),
    resource!("networking.k8s.io" / "v1", "Ingress", "ingresses", "ingress", NAMESPACED)
        .short_names(&["ing"])
        .subresources(&[status("networking.k8s.io", "v1", "Ingress")])
        .generation(),
    resource!("networking.k8s.io" / "v1", "IPAddress", "ipaddresses", "ipaddress", CLUSTER)
        .short_names(&["ip"])
        // The name is the IP itself, and IPv6 addresses contain ':'.
        .name_rule(NameRule::PathSegment),
    resource!("networking.k8s.io" / "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", NAMESPACED)
        .short_names(&["netpol"])
        .generation(),
    resource!("networking.k8s.io" / "v1", "ServiceCIDR", "servicecidrs", "servicecidr", CLUSTER)
        .subresources(&[status("networking.k8s.io", "v1", "ServiceCIDR")]),
    // ---- policy/v1 ----------------------------------------------------------------------------------
    resource!("policy" / "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget", NAMESPACED)
        .short_names(&["pdb"])
        .subresources(&[status("policy", "v1", "PodDisruptionBudget")])
        .generation(),
    // ---- rbac.authorization.k8s.io/v1 (names are path segments: `system:admin`) ----------------
    resource!(
        "rbac.authorization.k8s.io" / "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        CLUSTER
    )
    .name_rule(NameRule::PathSegment),
    resource!("rbac.authorization.k8s.io" / "v1", "ClusterRole", "clusterroles", "clusterrole", CLUSTER)
        .name_rule(NameRule::PathSegment),
    resource!("rbac.authorization.k8s.io" / "v1", "RoleBinding", "rolebindings", "rolebinding", NAMESPACED)
        .name_rule(NameRule::PathSegment),
    resource!("rbac.authorization.k8s.io" / "v1", "Role", "roles", "role", NAMESPACED).name_rule(NameRule::PathSegment),
    // ---- storage.k8s.io/v1 --------------------------------------------------------------------------
    resource!("storage.k8s.io" / "v1", "CSIDriver", "csidrivers", "csidriver", CLUSTER).returns_deleted_object(),
    resource!("storage.k8s.io" / "v1", "CSINode", "csinodes", "csinode", CLUSTER).returns_deleted_object(),
    resource!("storage.k8s.io" / "v1", "CSIStorageCapacity", "csistoragecapacities", "csistoragecapacity", NAMESPACED),
    resource!("storage.k8s.io" / "v1", "StorageClass", "storageclasses", "storageclass", CLUSTER)
        .short_names(&["sc"])
        .returns_deleted_object(),
    resource!("storage.k8s.io" / "v1", "VolumeAttachment", "volumeattachments", "volumeattachment", CLUSTER)
        .subresources(&[status("storage.k8s.io", "v1", "VolumeAttachment")])
        .returns_deleted_object(),
    resource!(
        "storage.k8s.io" / "v1",
        "VolumeAttributesClass",
        "volumeattributesclasses",
        "volumeattributesclass",
        CLUSTER
    )
    .short_names(&["vac"])
    .returns_deleted_object(),
    // ---- admissionregistration.k8s.io/v1 ----------------------------------------------------------
    resource!(
        "admissionregistration.k8s.io" / "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
        CLUSTER
    )
    .categories(API_EXTENSIONS)
    .generation(),
    resource!(
        "admissionregistration.k8s.io" / "v1",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        "validatingadmissionpolicy",
        CLUSTER
    )
    .categories(API_EXTENSIONS)
    .subresources(&[status("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy")])
    .generation(),
    resource!(
        "admissionregistration.k8s.io" / "v1",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        "validatingadmissionpolicybinding",
        CLUSTER
    )
    .categories(API_EXTENSIONS)
    .generation(),
    resource!(
        "admissionregistration.k8s.io" / "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
        CLUSTER
    )
    .categories(API_EXTENSIONS)
    .generation(),
    // ---- apiextensions.k8s.io/v1 --------------------------------------------------------------------
    resource!(
        "apiextensions.k8s.io" / "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        "customresourcedefinition",
        CLUSTER
    )
    .short_names(&["crd", "crds"])
    .categories(API_EXTENSIONS)
    .subresources(&[status("apiextensions.k8s.io", "v1", "CustomResourceDefinition")])
    .generation()
    // Upstream never moved CRD storage off v1beta1; the hash must say so.
    .stored_as("apiextensions.k8s.io", "v1beta1"),
    // ---- scheduling.k8s.io/v1 -----------------------------------------------------------------------
    resource!("scheduling.k8s.io" / "v1", "PriorityClass", "priorityclasses", "priorityclass", CLUSTER)
        .short_names(&["pc"]),
    // ---- coordination.k8s.io/v1 ---------------------------------------------------------------------
    resource!("coordination.k8s.io" / "v1", "Lease", "leases", "lease", NAMESPACED),
    // ---- node.k8s.io/v1 -----------------------------------------------------------------------------
    resource!("node.k8s.io" / "v1", "RuntimeClass", "runtimeclasses", "runtimeclass", CLUSTER),
    // ---- discovery.k8s.io/v1 ------------------------------------------------------------------------
    resource!("discovery.k8s.io" / "v1", "EndpointSlice", "endpointslices", "endpointslice", NAMESPACED).generation(),
    // ---- resource.k8s.io/v1 (dynamic resource allocation, GA in 1.34) -----------------------------
    resource!("resource.k8s.io" / "v1", "DeviceClass", "deviceclasses", "deviceclass", CLUSTER)
        .generation()
        .returns_deleted_object(),
    resource!("resource.k8s.io" / "v1", "ResourceClaim", "resourceclaims", "resourceclaim", NAMESPACED)
        .subresources(&[status("resource.k8s.io", "v1", "ResourceClaim")])
        .returns_deleted_object(),
    resource!(
        "resource.k8s.io" / "v1",
        "ResourceClaimTemplate",
        "resourceclaimtemplates",
        "resourceclaimtemplate",
        NAMESPACED
    )
    .returns_deleted_object(),
    resource!("resource.k8s.io" / "v1", "ResourceSlice", "resourceslices", "resourceslice", CLUSTER)
        .generation()
        .returns_deleted_object(),
    // ---- flowcontrol.apiserver.k8s.io/v1 ------------------------------------------------------------
    resource!("flowcontrol.apiserver.k8s.io" / "v1", "FlowSchema", "flowschemas", "flowschema", CLUSTER)
        .subresources(&[status("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema")])
        .generation(),
    resource!(
        "flowcontrol.apiserver.k8s.io" / "v1",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        "prioritylevelconfiguration",
        CLUSTER
    )
    .subresources(&[status("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration")])
    .generation(),
];

/// Every served resource type, in discovery order (group-version order, then plural).
pub fn all() -> &'static [ResourceType] {
    RESOURCES
}

/// The type served at `{prefix}/{plural}` for `group`/`version`; `None` means the path is unknown
/// (answer 404 `NotFound`). This is the lookup the HTTP router does for every resource request.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCES.iter().find(|rt| rt.group == group && rt.version == version && rt.plural == plural)
}

/// The type of `kind` in `group` at its preferred version (`autoscaling` `HorizontalPodAutoscaler`
/// gives the `v2` entry). Use it to resolve an object's kind when its version does not matter, e.g.
/// an owner reference.
pub fn find_kind(group: &str, kind: &str) -> Option<&'static ResourceType> {
    // RESOURCES lists a group's preferred version first, so the first match is the preferred one.
    RESOURCES.iter().find(|rt| rt.group == group && rt.kind == kind)
}

/// The type of exactly `group`/`version` `kind`, e.g. to check a body's `apiVersion` and `kind`.
pub fn find_gvk(group: &str, version: &str, kind: &str) -> Option<&'static ResourceType> {
    RESOURCES.iter().find(|rt| rt.group == group && rt.version == version && rt.kind == kind)
}

/// The types served at `group`/`version`, sorted by plural (empty for an unknown group-version).
pub fn resources<'a>(group: &'a str, version: &'a str) -> impl Iterator<Item = &'static ResourceType> + 'a {
    RESOURCES.iter().filter(move |rt| rt.group == group && rt.version == version)
}

/// Every served group with its versions, in discovery order: core (`""`) with `["v1"]` first,
/// then the named groups as `/apis` lists them, each group's versions preferred first
/// (`("autoscaling", ["v2", "v1"])`).
pub fn group_versions() -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    GROUPS.iter().copied()
}

/// Every served group-version, flattened, in the same order as [`group_versions`].
pub fn all_group_versions() -> impl Iterator<Item = GroupVersion> {
    GROUPS.iter().flat_map(|(group, versions)| versions.iter().map(|version| GroupVersion::new(group, version)))
}

/// The served group-version `group`/`version`, or `None` when it is not served (a known prefix with
/// an unknown resource is a different 404 from an unknown prefix). The returned strings are
/// `'static`, so callers can keep them.
pub fn group_version(group: &str, version: &str) -> Option<GroupVersion> {
    all_group_versions().find(|gv| gv.group == group && gv.version == version)
}

/// Whether `group`/`version` is served at all.
pub fn is_served(group: &str, version: &str) -> bool {
    group_version(group, version).is_some()
}

/// The served versions of `group`, preferred first (empty for an unknown group).
pub fn versions_of(group: &str) -> &'static [&'static str] {
    GROUPS.iter().find(|(name, _)| *name == group).map_or(&[], |(_, versions)| versions)
}

/// The preferred version of `group`, or `None` for an unknown group.
pub fn preferred_version(group: &str) -> Option<&'static str> {
    versions_of(group).first().copied()
}

/// The served groups in discovery order; the core group (`""`) comes first.
pub fn groups() -> impl Iterator<Item = &'static str> {
    GROUPS.iter().map(|(group, _)| *group)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::{ListableResource, Resource};
    use std::collections::{BTreeMap, BTreeSet};

    /// Whether a k8s-openapi scope marker means namespaced. `SubResourceScope` has no impl on
    /// purpose: listing a subresource type (Scale, Eviction, TokenRequest) as a resource type fails
    /// to compile.
    trait ScopeIsNamespaced {
        const NAMESPACED: bool;
    }
    impl ScopeIsNamespaced for k8s_openapi::NamespaceResourceScope {
        const NAMESPACED: bool = true;
    }
    impl ScopeIsNamespaced for k8s_openapi::ClusterResourceScope {
        const NAMESPACED: bool = false;
    }

    /// What k8s-openapi says about one type.
    #[derive(Debug)]
    struct Upstream {
        api_version: &'static str,
        group: &'static str,
        version: &'static str,
        kind: &'static str,
        plural: &'static str,
        namespaced: bool,
        /// `None` for types k8s-openapi does not consider listable.
        list_kind: Option<&'static str>,
    }

    /// Reads k8s-openapi's constants for lists of types: `listable` ones implement
    /// `ListableResource`, `create_only` ones do not.
    macro_rules! upstream {
        (listable: [$($listable:ty),* $(,)?], create_only: [$($create_only:ty),* $(,)?] $(,)?) => {
            vec![
                $(upstream!(@one $listable, Some(<$listable as ListableResource>::LIST_KIND)),)*
                $(upstream!(@one $create_only, None),)*
            ]
        };
        (@one $type:ty, $list_kind:expr) => {
            Upstream {
                api_version: <$type as Resource>::API_VERSION,
                group: <$type as Resource>::GROUP,
                version: <$type as Resource>::VERSION,
                kind: <$type as Resource>::KIND,
                plural: <$type as Resource>::URL_PATH_SEGMENT,
                namespaced: <<$type as Resource>::Scope as ScopeIsNamespaced>::NAMESPACED,
                list_kind: $list_kind,
            }
        };
    }

    /// Every k8s-openapi (v1_35) type Bosun serves. Together with [`not_served`] and the three
    /// subresource kinds and five discovery meta kinds this accounts for all 98 `Resource` impls
    /// k8s-openapi 0.29 generates for 1.35.
    fn served() -> Vec<Upstream> {
        use k8s_openapi::api::{
            admissionregistration::v1 as admission, apps::v1 as apps, authentication::v1 as authn,
            authorization::v1 as authz, autoscaling::v1 as autoscaling_v1, autoscaling::v2 as autoscaling_v2,
            batch::v1 as batch, certificates::v1 as certificates, coordination::v1 as coordination, core::v1 as core,
            discovery::v1 as discovery, events::v1 as events, flowcontrol::v1 as flowcontrol,
            networking::v1 as networking, node::v1 as node, policy::v1 as policy, rbac::v1 as rbac,
            resource::v1 as dra, scheduling::v1 as scheduling, storage::v1 as storage,
        };
        use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
        use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apiregistration;
        upstream! {
            listable: [
                core::ComponentStatus, core::ConfigMap, core::Endpoints, core::Event, core::LimitRange,
                core::Namespace, core::Node, core::PersistentVolumeClaim, core::PersistentVolume, core::Pod,
                core::PodTemplate, core::ReplicationController, core::ResourceQuota, core::Secret,
                core::ServiceAccount, core::Service,
                apiregistration::APIService,
                apps::ControllerRevision, apps::DaemonSet, apps::Deployment, apps::ReplicaSet, apps::StatefulSet,
                events::Event,
                autoscaling_v2::HorizontalPodAutoscaler, autoscaling_v1::HorizontalPodAutoscaler,
                batch::CronJob, batch::Job,
                certificates::CertificateSigningRequest,
                networking::IngressClass, networking::Ingress, networking::IPAddress, networking::NetworkPolicy,
                networking::ServiceCIDR,
                policy::PodDisruptionBudget,
                rbac::ClusterRoleBinding, rbac::ClusterRole, rbac::RoleBinding, rbac::Role,
                storage::CSIDriver, storage::CSINode, storage::CSIStorageCapacity, storage::StorageClass,
                storage::VolumeAttachment, storage::VolumeAttributesClass,
                admission::MutatingWebhookConfiguration, admission::ValidatingAdmissionPolicy,
                admission::ValidatingAdmissionPolicyBinding, admission::ValidatingWebhookConfiguration,
                apiextensions::CustomResourceDefinition,
                scheduling::PriorityClass,
                coordination::Lease,
                node::RuntimeClass,
                discovery::EndpointSlice,
                dra::DeviceClass, dra::ResourceClaim, dra::ResourceClaimTemplate, dra::ResourceSlice,
                flowcontrol::FlowSchema, flowcontrol::PriorityLevelConfiguration,
            ],
            create_only: [
                core::Binding,
                authn::SelfSubjectReview, authn::TokenReview,
                authz::LocalSubjectAccessReview, authz::SelfSubjectAccessReview, authz::SelfSubjectRulesReview,
                authz::SubjectAccessReview,
            ],
        }
    }

    /// Alpha and beta types k8s-openapi generates for 1.35 that a default 1.35 server does not serve.
    fn not_served() -> Vec<Upstream> {
        use k8s_openapi::api::{
            admissionregistration::v1alpha1 as admission_v1alpha1, admissionregistration::v1beta1 as admission_v1beta1,
            apiserverinternal::v1alpha1 as internal, certificates::v1alpha1 as certificates_v1alpha1,
            certificates::v1beta1 as certificates_v1beta1, coordination::v1alpha2 as coordination_v1alpha2,
            coordination::v1beta1 as coordination_v1beta1, networking::v1beta1 as networking_v1beta1,
            resource::v1alpha3 as dra_v1alpha3, resource::v1beta1 as dra_v1beta1, resource::v1beta2 as dra_v1beta2,
            scheduling::v1alpha1 as scheduling_v1alpha1, storage::v1beta1 as storage_v1beta1,
            storagemigration::v1beta1 as storagemigration,
        };
        upstream! {
            listable: [
                admission_v1alpha1::MutatingAdmissionPolicy, admission_v1alpha1::MutatingAdmissionPolicyBinding,
                admission_v1beta1::MutatingAdmissionPolicy, admission_v1beta1::MutatingAdmissionPolicyBinding,
                internal::StorageVersion,
                certificates_v1alpha1::ClusterTrustBundle, certificates_v1beta1::ClusterTrustBundle,
                certificates_v1beta1::PodCertificateRequest,
                coordination_v1alpha2::LeaseCandidate, coordination_v1beta1::LeaseCandidate,
                networking_v1beta1::IPAddress, networking_v1beta1::ServiceCIDR,
                dra_v1alpha3::DeviceTaintRule,
                dra_v1beta1::DeviceClass, dra_v1beta1::ResourceClaim, dra_v1beta1::ResourceClaimTemplate,
                dra_v1beta1::ResourceSlice,
                dra_v1beta2::DeviceClass, dra_v1beta2::ResourceClaim, dra_v1beta2::ResourceClaimTemplate,
                dra_v1beta2::ResourceSlice,
                scheduling_v1alpha1::Workload,
                storage_v1beta1::VolumeAttributesClass,
                storagemigration::StorageVersionMigration,
            ],
            create_only: [],
        }
    }

    #[test]
    fn every_entry_agrees_with_k8s_openapi_on_identity_scope_and_list_kind() {
        let served = served();
        assert_eq!(served.len(), RESOURCES.len(), "one k8s-openapi type per table entry");
        assert_eq!(RESOURCES.len(), 66, "the module documentation quotes this count");
        for upstream in &served {
            let rt = find_gvk(upstream.group, upstream.version, upstream.kind)
                .unwrap_or_else(|| panic!("k8s-openapi type {upstream:?} has no table entry"));
            assert_eq!(rt.api_version(), upstream.api_version, "{upstream:?}");
            assert_eq!(rt.plural, upstream.plural, "{upstream:?}");
            assert_eq!(rt.namespaced, upstream.namespaced, "{upstream:?}");
            match upstream.list_kind {
                Some(list_kind) => assert_eq!(rt.list_kind, list_kind, "{upstream:?}"),
                None => assert_eq!((rt.list_kind, rt.verbs), ("", VERBS_CREATE), "{upstream:?}"),
            }
            assert_eq!(find(rt.group, rt.version, rt.plural), Some(rt), "lookup by plural finds the same entry");
        }
    }

    #[test]
    fn the_table_has_no_entry_that_k8s_openapi_lacks() {
        let served: BTreeSet<_> = served().iter().map(|u| (u.group, u.version, u.kind)).collect();
        for rt in RESOURCES {
            assert!(
                served.contains(&(rt.group, rt.version, rt.kind)),
                "{} {} is not a k8s-openapi type",
                rt.api_version(),
                rt.kind
            );
        }
        assert_eq!(served.len(), RESOURCES.len(), "no type is listed twice");
    }

    #[test]
    fn alpha_and_beta_types_are_not_served() {
        let not_served = not_served();
        assert_eq!(not_served.len(), 24);
        for upstream in &not_served {
            assert!(upstream.version.contains("alpha") || upstream.version.contains("beta"), "{upstream:?}");
            assert_eq!(find(upstream.group, upstream.version, upstream.plural), None, "{upstream:?}");
            assert!(!is_served(upstream.group, upstream.version), "{upstream:?}");
        }
    }

    #[test]
    fn subresource_kinds_agree_with_k8s_openapi() {
        use k8s_openapi::api::{authentication::v1::TokenRequest, autoscaling::v1::Scale, policy::v1::Eviction};
        let checks = [
            (
                "apps",
                "deployments",
                <Scale as Resource>::URL_PATH_SEGMENT,
                <Scale as Resource>::GROUP,
                <Scale as Resource>::VERSION,
                <Scale as Resource>::KIND,
            ),
            (
                "",
                "pods",
                <Eviction as Resource>::URL_PATH_SEGMENT,
                <Eviction as Resource>::GROUP,
                <Eviction as Resource>::VERSION,
                <Eviction as Resource>::KIND,
            ),
            (
                "",
                "serviceaccounts",
                <TokenRequest as Resource>::URL_PATH_SEGMENT,
                <TokenRequest as Resource>::GROUP,
                <TokenRequest as Resource>::VERSION,
                <TokenRequest as Resource>::KIND,
            ),
        ];
        for (group, plural, name, sub_group, sub_version, sub_kind) in checks {
            let rt = find(group, "v1", plural).unwrap();
            let sub = rt.subresource(name).unwrap_or_else(|| panic!("{plural}/{name} missing"));
            assert_eq!((sub.group, sub.version, sub.kind), (sub_group, sub_version, sub_kind));
        }
    }

    #[test]
    fn every_scale_subresource_answers_with_autoscaling_v1_scale() {
        let scalable: Vec<_> =
            RESOURCES.iter().filter(|rt| rt.subresource("scale").is_some()).map(|rt| rt.plural).collect();
        assert_eq!(scalable, ["replicationcontrollers", "deployments", "replicasets", "statefulsets"]);
        for rt in RESOURCES.iter().filter(|rt| rt.subresource("scale").is_some()) {
            assert_eq!(rt.subresource("scale"), Some(&SCALE));
        }
    }

    #[test]
    fn verbs_are_alphabetical_and_distinct_everywhere() {
        let sorted = |verbs: &[&str]| verbs.windows(2).all(|pair| pair[0] < pair[1]);
        for rt in RESOURCES {
            assert!(sorted(rt.verbs), "{}: {:?}", rt.plural, rt.verbs);
            for sub in rt.subresources {
                assert!(sorted(sub.verbs), "{}/{}: {:?}", rt.plural, sub.name, sub.verbs);
            }
        }
    }

    #[test]
    fn subresources_are_sorted_by_name_and_answer_with_a_kind() {
        for rt in RESOURCES {
            assert!(rt.subresources.windows(2).all(|pair| pair[0].name < pair[1].name), "{}", rt.plural);
            for sub in rt.subresources {
                assert!(!sub.kind.is_empty() && !sub.version.is_empty(), "{}/{}", rt.plural, sub.name);
                if sub.name == "status" {
                    assert_eq!((sub.group, sub.version, sub.kind), (rt.group, rt.version, rt.kind), "{}", rt.plural);
                }
            }
        }
    }

    #[test]
    fn no_short_name_names_two_resources_except_upstreams_shared_ev() {
        // group+plural identifies a resource across versions (HPA v1 and v2 are one resource).
        let mut owners: BTreeMap<&str, BTreeSet<(&str, &str)>> = BTreeMap::new();
        for rt in RESOURCES {
            for short in rt.short_names {
                owners.entry(short).or_default().insert((rt.group, rt.plural));
            }
        }
        for (short, resources) in &owners {
            if *short == "ev" {
                // Upstream gives core and events.k8s.io events the same short name; kubectl picks
                // the core one by group priority. They are the same objects upstream.
                assert_eq!(
                    resources.iter().copied().collect::<Vec<_>>(),
                    [("", "events"), ("events.k8s.io", "events")]
                );
            } else {
                assert_eq!(resources.len(), 1, "short name {short} names {resources:?}");
            }
        }
        // A short name must not shadow another resource's plural or singular.
        for rt in RESOURCES {
            for short in rt.short_names {
                for other in RESOURCES.iter().filter(|o| o.plural != rt.plural) {
                    assert!(short != &other.plural && short != &other.singular, "{short} shadows {}", other.plural);
                }
            }
        }
    }

    #[test]
    fn short_names_and_categories_match_kubectl_api_resources() {
        let expected: &[(&str, &str, &[&str], &[&str])] = &[
            ("", "pods", &["po"], &["all"]),
            ("", "services", &["svc"], &["all"]),
            ("", "namespaces", &["ns"], &[]),
            ("", "configmaps", &["cm"], &[]),
            ("", "endpoints", &["ep"], &[]),
            ("", "events", &["ev"], &[]),
            ("", "nodes", &["no"], &[]),
            ("", "serviceaccounts", &["sa"], &[]),
            ("", "persistentvolumeclaims", &["pvc"], &[]),
            ("", "persistentvolumes", &["pv"], &[]),
            ("", "replicationcontrollers", &["rc"], &["all"]),
            ("", "resourcequotas", &["quota"], &[]),
            ("", "limitranges", &["limits"], &[]),
            ("", "componentstatuses", &["cs"], &[]),
            ("", "secrets", &[], &[]),
            ("apps", "deployments", &["deploy"], &["all"]),
            ("apps", "replicasets", &["rs"], &["all"]),
            ("apps", "statefulsets", &["sts"], &["all"]),
            ("apps", "daemonsets", &["ds"], &["all"]),
            ("apps", "controllerrevisions", &[], &[]),
            ("batch", "jobs", &[], &["all"]),
            ("batch", "cronjobs", &["cj"], &["all"]),
            ("autoscaling", "horizontalpodautoscalers", &["hpa"], &["all"]),
            ("events.k8s.io", "events", &["ev"], &[]),
            ("apiextensions.k8s.io", "customresourcedefinitions", &["crd", "crds"], &["api-extensions"]),
        ];
        for (group, plural, short_names, categories) in expected {
            let rt = RESOURCES.iter().find(|rt| rt.group == *group && rt.plural == *plural).unwrap();
            assert_eq!((rt.short_names, rt.categories), (*short_names, *categories), "{group}/{plural}");
        }
    }

    #[test]
    fn kubectl_get_all_covers_exactly_the_workload_types() {
        let all: BTreeSet<_> =
            RESOURCES.iter().filter(|rt| rt.categories.contains(&"all")).map(|rt| rt.qualified_plural()).collect();
        let expected: BTreeSet<_> = [
            "pods",
            "services",
            "replicationcontrollers",
            "daemonsets.apps",
            "deployments.apps",
            "replicasets.apps",
            "statefulsets.apps",
            "horizontalpodautoscalers.autoscaling",
            "cronjobs.batch",
            "jobs.batch",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(all, expected);
        assert!(RESOURCES.iter().filter(|rt| rt.categories.contains(&"all")).all(|rt| rt.supports("list")));
    }

    #[test]
    fn the_table_follows_group_version_order_then_plural_order() {
        let order: Vec<GroupVersion> = all_group_versions().collect();
        let position = |rt: &ResourceType| order.iter().position(|gv| *gv == rt.group_version()).unwrap();
        for pair in RESOURCES.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!(
                (position(a), a.plural) < (position(b), b.plural),
                "{} {} before {} {}",
                a.api_version(),
                a.plural,
                b.api_version(),
                b.plural
            );
        }
        for gv in &order {
            assert!(resources(gv.group, gv.version).next().is_some(), "{gv} serves nothing");
        }
    }

    #[test]
    fn group_versions_start_with_core_and_list_each_groups_preferred_version_first() {
        assert_eq!(group_versions().next(), Some(("", &["v1"][..])));
        assert_eq!(all_group_versions().next(), Some(GroupVersion::new("", "v1")));
        assert_eq!(versions_of("autoscaling"), ["v2", "v1"]);
        assert_eq!(versions_of("extensions"), [] as [&str; 0]);
        assert_eq!(preferred_version("autoscaling"), Some("v2"));
        assert_eq!(preferred_version("apps"), Some("v1"));
        assert_eq!(preferred_version("extensions"), None);
        let groups: Vec<_> = groups().collect();
        assert_eq!(groups.len(), 21);
        assert_eq!(&groups[..4], ["", "apiregistration.k8s.io", "apps", "events.k8s.io"]);
        assert_eq!(groups.iter().collect::<BTreeSet<_>>().len(), groups.len(), "each group once");
        assert_eq!(all_group_versions().count(), 22);
        let autoscaling: Vec<_> = all_group_versions().filter(|gv| gv.group == "autoscaling").collect();
        assert_eq!(autoscaling, [GroupVersion::new("autoscaling", "v2"), GroupVersion::new("autoscaling", "v1")]);
    }

    #[test]
    fn lookups_find_what_the_http_router_and_controllers_ask_for() {
        let deployments = find("apps", "v1", "deployments").unwrap();
        assert_eq!(
            (deployments.kind, deployments.list_kind, deployments.namespaced),
            ("Deployment", "DeploymentList", true)
        );
        assert_eq!(find("", "v1", "namespaces").unwrap().kind, "Namespace");
        assert_eq!(find("apps", "v1beta1", "deployments"), None);
        assert_eq!(find("", "v1", "foos"), None);
        assert_eq!(find_kind("autoscaling", "HorizontalPodAutoscaler").unwrap().version, "v2");
        assert_eq!(find_gvk("autoscaling", "v1", "HorizontalPodAutoscaler").unwrap().version, "v1");
        assert_eq!(find_kind("apps", "ReplicaSet").unwrap().plural, "replicasets");
        assert_eq!(resources("batch", "v1").map(|rt| rt.plural).collect::<Vec<_>>(), ["cronjobs", "jobs"]);
        assert!(is_served("", "v1") && !is_served("apps", "v1beta2"));
        assert_eq!(group_version("apps", "v1"), Some(GroupVersion::new("apps", "v1")));
        assert_eq!(deployments.qualified_plural(), "deployments.apps");
        assert_eq!(deployments.group_version().path_prefix(), "/apis/apps/v1");
        assert_eq!(GroupVersion::new("", "v1").path_prefix(), "/api/v1");
    }

    #[test]
    fn has_status_means_exactly_a_status_subresource() {
        for rt in RESOURCES {
            assert_eq!(rt.has_status, rt.subresource("status").is_some(), "{}", rt.plural);
        }
    }

    #[test]
    fn listing_stored_and_create_only_flags_are_consistent() {
        for rt in RESOURCES {
            assert_eq!(rt.list_kind.is_empty(), !rt.supports("list"), "{}", rt.plural);
            if rt.verbs == VERBS_CREATE {
                assert_eq!(rt.storage, None, "{} is create-only and never stored", rt.plural);
                assert!(!rt.has_generation && !rt.has_status && rt.short_names.is_empty(), "{}", rt.plural);
            }
            assert!(!rt.generation_on_annotations || rt.has_generation, "{}", rt.plural);
            assert!(rt.plural.bytes().all(|b| b.is_ascii_lowercase()), "{}", rt.plural);
            assert!(rt.singular.bytes().all(|b| b.is_ascii_lowercase()), "{}", rt.singular);
        }
        let not_stored: Vec<_> = RESOURCES.iter().filter(|rt| rt.storage.is_none()).map(|rt| rt.plural).collect();
        assert_eq!(not_stored.len(), 8, "{not_stored:?}");
    }

    #[test]
    fn the_deployment_scenario_types_carry_upstreams_strategy() {
        let deployment = find("apps", "v1", "deployments").unwrap();
        assert!(deployment.has_status && deployment.has_generation && deployment.generation_on_annotations);
        assert!(!deployment.delete_returns_object);
        let replicaset = find("apps", "v1", "replicasets").unwrap();
        assert!(replicaset.has_status && replicaset.has_generation && !replicaset.generation_on_annotations);
        let pod = find("", "v1", "pods").unwrap();
        assert!(pod.has_status && pod.has_generation && pod.delete_returns_object);
        let namespace = find("", "v1", "namespaces").unwrap();
        assert_eq!(namespace.verbs, VERBS_NO_DELETECOLLECTION);
        assert_eq!(namespace.subresource("finalize").unwrap().verbs, ["update"]);
        assert_eq!(namespace.name_rule, NameRule::Dns1123Label);
        assert!(namespace.delete_returns_object && !namespace.has_generation);
        assert_eq!(find("", "v1", "services").unwrap().name_rule, NameRule::Dns1035Label);
        assert_eq!(find("", "v1", "configmaps").unwrap().name_rule, NameRule::Dns1123Subdomain);
        assert_eq!(find("rbac.authorization.k8s.io", "v1", "clusterroles").unwrap().name_rule, NameRule::PathSegment);
        let generation_only_on_spec: Vec<_> =
            RESOURCES.iter().filter(|rt| rt.generation_on_annotations).map(|rt| rt.plural).collect();
        assert_eq!(generation_only_on_spec, ["deployments"]);
    }

    #[test]
    fn storage_versions_differ_from_served_versions_only_where_upstream_converts() {
        let moved: Vec<_> = RESOURCES
            .iter()
            .filter(|rt| rt.storage.is_some_and(|storage| storage != rt.group_version()))
            .map(|rt| (rt.api_version(), rt.plural, rt.storage.unwrap().to_string()))
            .collect();
        assert_eq!(
            moved,
            [
                ("events.k8s.io/v1".to_string(), "events", "v1".to_string()),
                ("autoscaling/v1".to_string(), "horizontalpodautoscalers", "autoscaling/v2".to_string()),
                (
                    "apiextensions.k8s.io/v1".to_string(),
                    "customresourcedefinitions",
                    "apiextensions.k8s.io/v1beta1".to_string()
                ),
            ]
        );
    }
}
