//! `components.schemas` of a group-version document: the JSON schemas k8s-openapi derives for
//! its types (its `schemars` feature; upstream's definition names, doc comments as
//! descriptions), in the shape kube-apiserver serves them.
//!
//! What is changed on the way:
//!
//! * **Kinds** carry `x-kubernetes-group-version-kind`, a one-element list, which is how
//!   `kubectl explain` and `kubectl apply` find the schema of a kind.
//! * **Patch metadata** from the strategic-merge-patch table ([`super::patch_meta`]).
//! * **IntOrString and Quantity** get upstream's OpenAPI v3 shape (`format: int-or-string` and
//!   `oneOf`) instead of k8s-openapi's `x-kubernetes-int-or-string`, which upstream only uses in
//!   custom resource schemas.
//!
//! Only the definitions a document needs are generated: its kinds, the types they reference
//! (transitively), and the `Status`, `DeleteOptions` and `Patch` its operations reference.

use std::collections::BTreeMap;

use k8s_openapi::Resource;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::schemars::generate::SchemaSettings;
use k8s_openapi::schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::registry::ResourceType;
use crate::smp;

use super::patch_meta;

/// Where `$ref`s point (OpenAPI 3).
pub const REF_PREFIX: &str = "#/components/schemas/";
/// The definition of `metav1.Status`, answered by `delete` and errors.
pub const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
/// The definition of `metav1.DeleteOptions`, the optional body of `delete`.
pub const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
/// The definition of `metav1.Patch`, the body of `patch` (any of the four patch types).
pub const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/// A kind Bosun serves, and the k8s-openapi type whose schema describes it.
struct KindSchema {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    /// Adds the type's schema (and everything it references) to the generator; returns its `$ref`.
    schema: fn(&mut SchemaGenerator) -> Schema,
}

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// `kinds![api::apps::v1::Deployment, ...]`: group, version and kind come from the type's
/// `k8s_openapi::Resource` implementation, so the table cannot disagree with the type.
macro_rules! kinds {
    ($($ty:ty),* $(,)?) => {
        &[$(KindSchema {
            group: <$ty as Resource>::GROUP,
            version: <$ty as Resource>::VERSION,
            kind: <$ty as Resource>::KIND,
            schema: schema_of::<$ty>,
        }),*]
    };
}

/// Every kind of the registry ([`crate::registry`]), by its k8s-openapi type. A test checks
/// that each registry entry has one.
static KINDS: &[KindSchema] = {
    use k8s_openapi::api::{
        admissionregistration, apps, authentication, authorization, autoscaling, batch, certificates, coordination,
        core, discovery, events, flowcontrol, networking, node, policy, rbac, resource, scheduling, storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration;
    kinds![
        core::v1::Binding,
        core::v1::ComponentStatus,
        core::v1::ConfigMap,
        core::v1::Endpoints,
        core::v1::Event,
        core::v1::LimitRange,
        core::v1::Namespace,
        core::v1::Node,
        core::v1::PersistentVolume,
        core::v1::PersistentVolumeClaim,
        core::v1::Pod,
        core::v1::PodTemplate,
        core::v1::ReplicationController,
        core::v1::ResourceQuota,
        core::v1::Secret,
        core::v1::Service,
        core::v1::ServiceAccount,
        apiregistration::v1::APIService,
        apps::v1::ControllerRevision,
        apps::v1::DaemonSet,
        apps::v1::Deployment,
        apps::v1::ReplicaSet,
        apps::v1::StatefulSet,
        events::v1::Event,
        authentication::v1::SelfSubjectReview,
        authentication::v1::TokenReview,
        authorization::v1::LocalSubjectAccessReview,
        authorization::v1::SelfSubjectAccessReview,
        authorization::v1::SelfSubjectRulesReview,
        authorization::v1::SubjectAccessReview,
        autoscaling::v1::HorizontalPodAutoscaler,
        autoscaling::v2::HorizontalPodAutoscaler,
        batch::v1::CronJob,
        batch::v1::Job,
        certificates::v1::CertificateSigningRequest,
        networking::v1::IPAddress,
        networking::v1::Ingress,
        networking::v1::IngressClass,
        networking::v1::NetworkPolicy,
        networking::v1::ServiceCIDR,
        policy::v1::PodDisruptionBudget,
        rbac::v1::ClusterRole,
        rbac::v1::ClusterRoleBinding,
        rbac::v1::Role,
        rbac::v1::RoleBinding,
        storage::v1::CSIDriver,
        storage::v1::CSINode,
        storage::v1::CSIStorageCapacity,
        storage::v1::StorageClass,
        storage::v1::VolumeAttachment,
        storage::v1::VolumeAttributesClass,
        admissionregistration::v1::MutatingWebhookConfiguration,
        admissionregistration::v1::ValidatingAdmissionPolicy,
        admissionregistration::v1::ValidatingAdmissionPolicyBinding,
        admissionregistration::v1::ValidatingWebhookConfiguration,
        apiextensions::v1::CustomResourceDefinition,
        scheduling::v1::PriorityClass,
        coordination::v1::Lease,
        node::v1::RuntimeClass,
        discovery::v1::EndpointSlice,
        resource::v1::DeviceClass,
        resource::v1::ResourceClaim,
        resource::v1::ResourceClaimTemplate,
        resource::v1::ResourceSlice,
        flowcontrol::v1::FlowSchema,
        flowcontrol::v1::PriorityLevelConfiguration,
    ]
};

fn kind_schema(group: &str, version: &str, kind: &str) -> Option<&'static KindSchema> {
    KINDS.iter().find(|k| k.group == group && k.version == version && k.kind == kind)
}

/// The component schemas of one group-version document.
pub struct Components {
    /// `components.schemas`, by definition name.
    pub schemas: Map<String, Value>,
    /// The definition name of each kind of the document (`Deployment` →
    /// `io.k8s.api.apps.v1.Deployment`).
    pub kinds: BTreeMap<&'static str, String>,
    /// Fields of the strategic-merge-patch table that no schema has (a version lacking a field
    /// the table lists for its group, e.g. `autoscaling/v1` HPA `status.conditions`), as
    /// `definition.field`. Kept for tests: anything else here means the table and the
    /// schemas disagree.
    pub unplaced: Vec<String>,
}

/// The definition name a `$ref` schema points to.
fn ref_name(schema: &Schema) -> String {
    let reference = schema.get("$ref").and_then(Value::as_str).expect("kinds are generated as references");
    reference.strip_prefix(REF_PREFIX).expect("references point at components.schemas").to_string()
}

/// Generates the schemas of the given resource types (all of one group-version), with what
/// their operations reference.
pub fn components(resources: &[&'static ResourceType]) -> Components {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let mut kinds = BTreeMap::new();
    for rt in resources {
        if let Some(ks) = kind_schema(rt.group, rt.version, rt.kind) {
            kinds.insert(rt.kind, ref_name(&(ks.schema)(&mut generator)));
        }
    }
    for schema in [
        generator.subschema_for::<meta::Status>(),
        generator.subschema_for::<meta::DeleteOptions>(),
        generator.subschema_for::<meta::Patch>(),
    ] {
        debug_assert!([STATUS, DELETE_OPTIONS, PATCH].contains(&ref_name(&schema).as_str()));
    }
    let mut schemas = generator.take_definitions(true);

    upstream_scalar_shapes(&mut schemas);
    let mut unplaced = Vec::new();
    for rt in resources {
        let Some(name) = kinds.get(rt.kind) else { continue };
        let gvk = json!([{"group": rt.group, "kind": rt.kind, "version": rt.version}]);
        schemas[name.as_str()]["x-kubernetes-group-version-kind"] = gvk;
        metadata_optional(&mut schemas[name.as_str()]);
        let table = smp::root_type(rt.group, rt.kind).unwrap_or(&smp::OBJECT);
        patch_meta::annotate(&mut schemas, name, table, &mut unplaced);
    }
    schemas[STATUS]["x-kubernetes-group-version-kind"] = json!([{"group": "", "kind": "Status", "version": "v1"}]);
    unplaced.sort();
    unplaced.dedup();
    Components { schemas, kinds, unplaced }
}

/// k8s-openapi lists `metadata` as required on every kind (its Rust field is not an `Option`);
/// upstream requires it nowhere, and `kubectl explain` would print `-required-` next to it.
fn metadata_optional(kind: &mut Value) {
    let Some(Value::Array(required)) = kind.get_mut("required") else { return };
    required.retain(|field| field != "metadata");
    if required.is_empty() {
        kind.as_object_mut().expect("a kind's schema is an object").remove("required");
    }
}

/// IntOrString and Quantity as kube-apiserver's OpenAPI v3 has them (their Go types'
/// `OpenAPISchemaFormat` and `OpenAPIV3OneOfTypes`).
fn upstream_scalar_shapes(schemas: &mut Map<String, Value>) {
    if let Some(Value::Object(int_or_string)) = schemas.get_mut(INT_OR_STRING) {
        int_or_string.remove("x-kubernetes-int-or-string");
        int_or_string.insert("format".into(), "int-or-string".into());
        int_or_string.insert("oneOf".into(), json!([{"type": "integer"}, {"type": "string"}]));
    }
    if let Some(Value::Object(quantity)) = schemas.get_mut(QUANTITY) {
        quantity.remove("x-kubernetes-int-or-string");
        quantity.insert("oneOf".into(), json!([{"type": "string"}, {"type": "number"}]));
    }
}

#[cfg(test)]
mod tests {
    use crate::registry;

    use super::*;

    fn components_of(group: &str, version: &str) -> Components {
        let resources: Vec<_> = registry::resources(group, version).collect();
        components(&resources)
    }

    #[test]
    fn every_registry_kind_has_a_k8s_openapi_schema() {
        for rt in registry::all() {
            assert!(kind_schema(rt.group, rt.version, rt.kind).is_some(), "{} {}", rt.api_version(), rt.kind);
        }
        assert_eq!(KINDS.len(), registry::all().len(), "the table lists a kind the registry does not serve");
    }

    #[test]
    fn deployment_schema_describes_spec_strategy_and_carries_its_gvk() {
        let apps = components_of("apps", "v1");
        let name = &apps.kinds["Deployment"];
        assert_eq!(name, "io.k8s.api.apps.v1.Deployment");
        let deployment = &apps.schemas[name.as_str()];
        assert_eq!(
            deployment["x-kubernetes-group-version-kind"],
            json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
        );
        assert_eq!(
            deployment["properties"]["spec"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"
        );
        let spec = &apps.schemas["io.k8s.api.apps.v1.DeploymentSpec"];
        let strategy = &spec["properties"]["strategy"];
        assert!(strategy["description"].as_str().unwrap().contains("deployment strategy"), "{strategy}");
        assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
        let strategy_type = &apps.schemas["io.k8s.api.apps.v1.DeploymentStrategy"];
        assert!(strategy_type["properties"]["rollingUpdate"].is_object());
        assert!(strategy_type["properties"]["type"]["description"].is_string());
        assert!(deployment.get("required").is_none(), "upstream does not require metadata");
        let csr =
            &components_of("certificates.k8s.io", "v1").schemas["io.k8s.api.certificates.v1.CertificateSigningRequest"];
        assert_eq!(csr["required"], json!(["spec"]), "what upstream requires stays");
    }

    #[test]
    fn containers_merge_by_name_and_finalizers_are_a_merged_set() {
        let core = components_of("", "v1");
        let containers = &core.schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(containers["x-kubernetes-list-type"], "map");
        assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
        assert_eq!(containers["items"]["$ref"], "#/components/schemas/io.k8s.api.core.v1.Container");
        let ports = &core.schemas["io.k8s.api.core.v1.Container"]["properties"]["ports"];
        assert_eq!(ports["x-kubernetes-patch-merge-key"], "containerPort");
        let finalizers = &core.schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["finalizers"];
        assert_eq!(finalizers["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(finalizers["x-kubernetes-list-type"], "set");
        let tolerations = &core.schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["tolerations"];
        assert_eq!(tolerations["x-kubernetes-list-type"], "atomic");
        assert!(tolerations.get("x-kubernetes-patch-strategy").is_none());
    }

    #[test]
    fn int_or_string_and_quantity_have_upstreams_v3_shape() {
        let apps = components_of("apps", "v1");
        let int_or_string = &apps.schemas[INT_OR_STRING];
        assert_eq!(int_or_string["format"], "int-or-string");
        assert_eq!(int_or_string["oneOf"], json!([{"type": "integer"}, {"type": "string"}]));
        assert!(int_or_string.get("x-kubernetes-int-or-string").is_none());
        let quantity = &apps.schemas[QUANTITY];
        assert_eq!(quantity["oneOf"], json!([{"type": "string"}, {"type": "number"}]));
        assert!(quantity.get("x-kubernetes-int-or-string").is_none());
    }

    #[test]
    fn a_document_holds_only_what_its_kinds_reference() {
        let batch = components_of("batch", "v1");
        assert!(batch.schemas.contains_key("io.k8s.api.batch.v1.JobSpec"));
        assert!(batch.schemas.contains_key("io.k8s.api.core.v1.PodSpec"), "jobs embed a pod template");
        assert!(!batch.schemas.contains_key("io.k8s.api.apps.v1.Deployment"));
        let coordination = components_of("coordination.k8s.io", "v1");
        assert!(!coordination.schemas.contains_key("io.k8s.api.core.v1.PodSpec"));
        for key in [STATUS, DELETE_OPTIONS, PATCH] {
            assert!(coordination.schemas.contains_key(key), "{key}");
        }
    }

    #[test]
    fn every_reference_resolves_and_every_name_is_upstreams() {
        for (group, versions) in registry::group_versions() {
            for version in versions {
                let components = components_of(group, version);
                let text = serde_json::to_string(&components.schemas).unwrap();
                for (at, _) in text.match_indices("\"$ref\":\"") {
                    let rest = &text[at + 8..];
                    let target = &rest[..rest.find('"').unwrap()];
                    let name = target.strip_prefix(REF_PREFIX).unwrap_or_else(|| panic!("{target}"));
                    assert!(components.schemas.contains_key(name), "{group}/{version}: {name} is missing");
                }
                for name in components.schemas.keys() {
                    // schemars renames a second type with the same name `<name>2`.
                    let renamed = name.ends_with(char::is_numeric)
                        && components.schemas.contains_key(name.trim_end_matches(char::is_numeric));
                    assert!(name.starts_with("io.k8s.") && !renamed, "{name}");
                }
                for (kind, name) in &components.kinds {
                    assert!(name.ends_with(&format!(".{kind}")), "{kind}: {name}");
                }
            }
        }
    }

    #[test]
    fn the_patch_table_fits_the_schemas() {
        let mut unplaced = Vec::new();
        for (group, versions) in registry::group_versions() {
            for version in versions {
                unplaced.extend(components_of(group, version).unplaced);
            }
        }
        // autoscaling/v1 has no conditions; the table describes the group by its v2 fields.
        assert_eq!(unplaced, ["io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerStatus.conditions"]);
    }
}
