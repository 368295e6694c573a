//! The per-type validation dispatcher: which checks run for which kind, on create and on update.
//!
//! The generic `metadata` rules (names, labels, annotations, immutable metadata on update) are
//! not repeated here: callers run them first (see [`super::names`]) and then this.

use serde_json::Value;

use super::{namespaces, pods, services, workloads};
use crate::status::FieldError;

/// The type-specific errors of `object` (of API `group` and `kind`), on create when `old` is
/// `None`, on update (from `old`) otherwise. An empty list means valid; otherwise answer 422
/// Invalid with one cause per error, in order. Types without specific rules return nothing.
/// Never panics, whatever the JSON: wrongly typed fields are `FieldValueTypeInvalid` errors.
pub fn validate_object(group: &str, kind: &str, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    match (group, kind, old) {
        ("apps", "Deployment", None) => workloads::validate_deployment_create(object),
        ("apps", "Deployment", Some(old)) => workloads::validate_deployment_update(object, old),
        ("apps", "ReplicaSet", None) => workloads::validate_replica_set_create(object),
        ("apps", "ReplicaSet", Some(old)) => workloads::validate_replica_set_update(object, old),
        ("batch", "Job", None) => workloads::validate_job_create(object),
        ("batch", "Job", Some(old)) => workloads::validate_job_update(object, old),
        ("batch", "CronJob", None) => workloads::validate_cron_job_create(object),
        ("batch", "CronJob", Some(old)) => workloads::validate_cron_job_update(object, old),
        ("", "Pod", None) => pods::validate_create(object),
        ("", "Pod", Some(old)) => pods::validate_update(object, old),
        ("", "Service", None) => services::validate_create(object),
        ("", "Service", Some(old)) => services::validate_update(object, old),
        ("", "Namespace", None) => namespaces::validate_create(object),
        ("", "Namespace", Some(old)) => namespaces::validate_update(object, old),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::apply_defaults;
    use crate::defaults::test_manifests::{any_json, graft, manifests};
    use serde_json::json;

    /// The scenario's manifests, as kubectl sends them, are valid once defaulted.
    #[test]
    fn scenario_manifests_pass_validation_after_defaulting() {
        let mut deployment = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "kubia", "namespace": "default"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "kubia"}},
                "template": {
                    "metadata": {"name": "kubia", "labels": {"app": "kubia"}},
                    "spec": {"containers": [{"image": "luksa/kubia:v1", "name": "nodejs"}]},
                },
            },
        });
        apply_defaults("apps", "Deployment", &mut deployment);
        assert_eq!(validate_object("apps", "Deployment", &deployment, None), vec![]);

        let mut service = json!({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubia", "namespace": "default"},
            "spec": {"selector": {"app": "kubia"}, "ports": [{"port": 80, "targetPort": 8080}]},
        });
        apply_defaults("", "Service", &mut service);
        assert_eq!(validate_object("", "Service", &service, None), vec![]);

        let mut namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}});
        apply_defaults("", "Namespace", &mut namespace);
        assert_eq!(validate_object("", "Namespace", &namespace, None), vec![]);

        let mut cron_job = json!({
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "hello", "namespace": "default"},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "hello", "image": "busybox"}], "restartPolicy": "OnFailure"}}}}},
        });
        apply_defaults("batch", "CronJob", &mut cron_job);
        assert_eq!(validate_object("batch", "CronJob", &cron_job, None), vec![]);
    }

    #[test]
    fn the_pi_job_passes_validation_once_its_selector_is_generated() {
        let mut job = json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "pi", "namespace": "default"},
            "spec": {"template": {"spec": {
                "containers": [{"name": "pi", "image": "perl:5.34.0", "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]}],
                "restartPolicy": "Never"}}, "backoffLimit": 4},
        });
        apply_defaults("batch", "Job", &mut job);
        job["metadata"]["uid"] = json!("5f0c8b0e-0000-4000-8000-000000000001");
        crate::defaults::prepare_for_create("batch", "Job", &mut job);
        assert_eq!(validate_object("batch", "Job", &job, None), vec![]);
        assert_eq!(validate_object("batch", "Job", &job, Some(&job)), vec![]);
    }

    proptest::proptest! {
        /// Whatever the JSON, defaulting then validating never panics, on create or update.
        #[test]
        fn validation_never_panics_on_mangled_or_random_manifests(
            which in 0_usize..14,
            path in proptest::collection::vec(0_usize..8, 0..6),
            junk in any_json(),
        ) {
            let manifests = manifests();
            let (group, kind, mut object) = manifests[which % manifests.len()].clone();
            graft(&mut object, &path, junk.clone());
            let _ = validate_object(group, kind, &object, None);
            apply_defaults(group, kind, &mut object);
            let _ = validate_object(group, kind, &object, None);
            let _ = validate_object(group, kind, &object, Some(&junk));
            let _ = validate_object(group, kind, &junk, Some(&object));
        }
    }

    #[test]
    fn kinds_without_rules_pass() {
        assert_eq!(validate_object("", "ConfigMap", &json!({"data": 5}), None), vec![]);
    }
}
