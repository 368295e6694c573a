//! kube-rs 5 against Bosun in-process: `kube::Client::new(router, "default")`, no socket.
//! Each test names the Kubernetes behaviour it checks, as a kube-rs user would notice it.

use std::time::Duration;

use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use serde_json::json;

async fn cluster() -> bosun::Cluster {
    bosun::Cluster::builder().temporary().start().await.expect("start a temporary cluster")
}

fn configmap(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "demo"}},
        "data": {"key": value},
    }))
    .unwrap()
}

fn deployment(name: &str, image: &str) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "nodejs", "image": image}]},
            },
        },
    }))
    .unwrap()
}

fn api_error(error: kube::Error) -> kube::core::Status {
    match error {
        kube::Error::Api(status) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_default_namespaces_exist_from_the_first_start() {
    let cluster = cluster().await;
    let namespaces: Api<Namespace> = Api::all(cluster.kube_client());
    let names: Vec<String> = namespaces
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    for expected in ["default", "kube-node-lease", "kube-public", "kube-system"] {
        assert!(names.contains(&expected.to_string()), "{expected} missing from {names:?}");
    }
}

#[tokio::test]
async fn typed_crud_round_trips_with_server_owned_metadata() {
    let cluster = cluster().await;
    let configmaps: Api<ConfigMap> = Api::default_namespaced(cluster.kube_client());
    let created = configmaps.create(&PostParams::default(), &configmap("one", "a")).await.unwrap();
    let meta = &created.metadata;
    assert!(meta.uid.as_deref().is_some_and(|u| u.len() == 36));
    assert!(meta.creation_timestamp.is_some());
    let rv: u64 = meta.resource_version.as_deref().unwrap().parse().unwrap();
    assert_eq!(meta.namespace.as_deref(), Some("default"));

    let fetched = configmaps.get("one").await.unwrap();
    assert_eq!(fetched.data.unwrap()["key"], "a");

    let mut changed = created.clone();
    changed.data = Some([("key".to_string(), "b".to_string())].into());
    let replaced = configmaps.replace("one", &PostParams::default(), &changed).await.unwrap();
    let new_rv: u64 = replaced.metadata.resource_version.as_deref().unwrap().parse().unwrap();
    assert!(new_rv > rv, "resourceVersion moves on a change");

    let list = configmaps.list(&ListParams::default().labels("app=demo")).await.unwrap();
    assert_eq!(list.items.len(), 1);
    configmaps.delete("one", &DeleteParams::default()).await.unwrap();
    assert_eq!(api_error(configmaps.get("one").await.unwrap_err()).code, 404);
}

#[tokio::test]
async fn a_stale_resource_version_on_replace_is_a_409_conflict() {
    let cluster = cluster().await;
    let configmaps: Api<ConfigMap> = Api::default_namespaced(cluster.kube_client());
    let created = configmaps.create(&PostParams::default(), &configmap("c", "a")).await.unwrap();
    let mut first = created.clone();
    first.data = Some([("key".to_string(), "first".to_string())].into());
    configmaps.replace("c", &PostParams::default(), &first).await.unwrap();
    let mut stale = created;
    stale.data = Some([("key".to_string(), "stale".to_string())].into());
    let status = api_error(configmaps.replace("c", &PostParams::default(), &stale).await.unwrap_err());
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert_eq!(configmaps.get("c").await.unwrap().data.unwrap()["key"], "first", "nothing was written");
}

#[tokio::test]
async fn creating_a_taken_name_is_already_exists() {
    let cluster = cluster().await;
    let configmaps: Api<ConfigMap> = Api::default_namespaced(cluster.kube_client());
    configmaps.create(&PostParams::default(), &configmap("dup", "a")).await.unwrap();
    let status = api_error(configmaps.create(&PostParams::default(), &configmap("dup", "b")).await.unwrap_err());
    assert_eq!((status.code, status.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(status.message, "configmaps \"dup\" already exists");
}

#[tokio::test]
async fn deployments_get_upstream_defaults_and_generation_one() {
    let cluster = cluster().await;
    let deployments: Api<Deployment> = Api::default_namespaced(cluster.kube_client());
    let created = deployments.create(&PostParams::default(), &deployment("kubia", "luksa/kubia:v1")).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    let spec = created.spec.unwrap();
    assert_eq!(spec.progress_deadline_seconds, Some(600));
    assert_eq!(spec.revision_history_limit, Some(10));
    let strategy = spec.strategy.unwrap();
    assert_eq!(strategy.type_.as_deref(), Some("RollingUpdate"));
    let rolling = strategy.rolling_update.unwrap();
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    assert_eq!(rolling.max_surge, Some(IntOrString::String("25%".into())));
    assert_eq!(rolling.max_unavailable, Some(IntOrString::String("25%".into())));
}

#[tokio::test]
async fn every_patch_type_applies_and_spec_changes_move_the_generation() {
    let cluster = cluster().await;
    let deployments: Api<Deployment> = Api::default_namespaced(cluster.kube_client());
    deployments.create(&PostParams::default(), &deployment("web", "nginx:1")).await.unwrap();
    let params = PatchParams::default();

    // Strategic merge: containers merge by name, so only the image changes.
    let smp = json!({"spec": {"template": {"spec": {"containers": [{"name": "nodejs", "image": "nginx:2"}]}}}});
    let patched = deployments.patch("web", &params, &Patch::Strategic(smp)).await.unwrap();
    let containers = patched.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers.clone();
    assert_eq!((containers.len(), containers[0].image.as_deref()), (1, Some("nginx:2")));
    assert_eq!(patched.metadata.generation, Some(2));

    // Merge patch.
    let merged = deployments.patch("web", &params, &Patch::Merge(json!({"spec": {"replicas": 5}}))).await.unwrap();
    assert_eq!(merged.spec.unwrap().replicas, Some(5));

    // JSON patch.
    let ops: json_patch_ops::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/replicas", "value": 2}
    ]))
    .unwrap();
    let jsonpatched = deployments.patch("web", &params, &Patch::<()>::Json(ops)).await.unwrap();
    assert_eq!(jsonpatched.spec.unwrap().replicas, Some(2));

    // Server-side apply creates when missing.
    let apply = PatchParams::apply("tests");
    let applied = deployments.patch("applied", &apply, &Patch::Apply(deployment("applied", "nginx:1"))).await.unwrap();
    assert_eq!(applied.metadata.generation, Some(1));
}

/// The JSON-patch type kube-core takes.
mod json_patch_ops {
    pub use json_patch_for_kube::Patch;
}

#[tokio::test]
async fn a_metadata_only_change_keeps_the_deployment_generation_but_annotations_move_it() {
    let cluster = cluster().await;
    let deployments: Api<Deployment> = Api::default_namespaced(cluster.kube_client());
    deployments.create(&PostParams::default(), &deployment("gen", "nginx:1")).await.unwrap();
    let params = PatchParams::default();
    let labelled =
        deployments.patch("gen", &params, &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}}))).await.unwrap();
    assert_eq!(labelled.metadata.generation, Some(1));
    let annotated = deployments
        .patch("gen", &params, &Patch::Merge(json!({"metadata": {"annotations": {"a": "b"}}})))
        .await
        .unwrap();
    assert_eq!(annotated.metadata.generation, Some(2), "Deployments count annotation changes");
}

#[tokio::test]
async fn an_identical_write_keeps_the_resource_version() {
    let cluster = cluster().await;
    let configmaps: Api<ConfigMap> = Api::default_namespaced(cluster.kube_client());
    let created = configmaps.create(&PostParams::default(), &configmap("same", "a")).await.unwrap();
    let again = configmaps.replace("same", &PostParams::default(), &created).await.unwrap();
    assert_eq!(again.metadata.resource_version, created.metadata.resource_version);
}

#[tokio::test]
async fn the_watcher_sees_initial_state_and_changes_in_both_list_modes() {
    let cluster = cluster().await;
    let client = cluster.kube_client();
    let configmaps: Api<ConfigMap> = Api::default_namespaced(client.clone());
    configmaps.create(&PostParams::default(), &configmap("before", "a")).await.unwrap();
    for config in [watcher::Config::default(), watcher::Config::default().streaming_lists()] {
        let mut stream = watcher(configmaps.clone(), config).boxed();
        let mut saw_init_done = false;
        let mut saw_before = false;
        while !saw_init_done {
            match tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap().unwrap().unwrap() {
                watcher::Event::InitApply(cm) => saw_before |= cm.metadata.name.as_deref() == Some("before"),
                watcher::Event::InitDone => saw_init_done = true,
                _ => {}
            }
        }
        assert!(saw_before);
        let name = format!("after-{}", uuid::Uuid::new_v4().simple());
        configmaps.create(&PostParams::default(), &configmap(&name, "b")).await.unwrap();
        loop {
            let event = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap().unwrap().unwrap();
            if let watcher::Event::Apply(cm) = event
                && cm.metadata.name.as_deref() == Some(name.as_str())
            {
                break;
            }
        }
    }
}

#[tokio::test]
async fn creating_in_a_missing_namespace_is_404_and_writes_nothing() {
    let cluster = cluster().await;
    let configmaps: Api<ConfigMap> = Api::namespaced(cluster.kube_client(), "nowhere");
    let status = api_error(configmaps.create(&PostParams::default(), &configmap("x", "a")).await.unwrap_err());
    assert_eq!((status.code, status.message.as_str()), (404, "namespaces \"nowhere\" not found"));
}

#[tokio::test]
async fn an_invalid_name_is_422_with_a_cause_on_metadata_name() {
    let cluster = cluster().await;
    let configmaps: Api<ConfigMap> = Api::default_namespaced(cluster.kube_client());
    let status = api_error(configmaps.create(&PostParams::default(), &configmap("Not_Valid", "a")).await.unwrap_err());
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    let causes = status.details.unwrap().causes;
    assert_eq!(causes[0].field, "metadata.name");
    let all = configmaps.list(&ListParams::default()).await.unwrap();
    assert!(all.items.is_empty(), "nothing was written");
}

#[tokio::test]
async fn a_small_controller_reconciles_every_object() {
    use kube::runtime::controller::{Action, Controller};
    use std::sync::Arc;

    #[derive(Debug, thiserror::Error)]
    #[error(transparent)]
    struct ReconcileError(#[from] kube::Error);

    let cluster = cluster().await;
    let client = cluster.kube_client();
    let configmaps: Api<ConfigMap> = Api::default_namespaced(client.clone());
    configmaps.create(&PostParams::default(), &configmap("early", "a")).await.unwrap();

    // Marks each ConfigMap with an annotation; level-triggered, idempotent.
    async fn reconcile(object: Arc<ConfigMap>, api: Arc<Api<ConfigMap>>) -> Result<Action, ReconcileError> {
        let name = object.metadata.name.clone().unwrap_or_default();
        let marked = object.metadata.annotations.as_ref().is_some_and(|a| a.contains_key("reconciled"));
        if !marked {
            let patch = json!({"metadata": {"annotations": {"reconciled": "yes"}}});
            api.patch(&name, &PatchParams::default(), &Patch::Merge(patch)).await?;
        }
        Ok(Action::await_change())
    }
    fn error_policy(_: Arc<ConfigMap>, _: &ReconcileError, _: Arc<Api<ConfigMap>>) -> Action {
        Action::requeue(Duration::from_millis(100))
    }

    let context = Arc::new(configmaps.clone());
    let controller = tokio::spawn(
        Controller::new(configmaps.clone(), watcher::Config::default())
            .run(reconcile, error_policy, context)
            .for_each(|_| async {}),
    );
    configmaps.create(&PostParams::default(), &configmap("late", "b")).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let all = configmaps.list(&ListParams::default().labels("app=demo")).await.unwrap();
        let done =
            all.items.iter().all(|cm| cm.metadata.annotations.as_ref().is_some_and(|a| a["reconciled"] == "yes"));
        if done && all.items.len() == 2 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the controller did not reconcile both ConfigMaps");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    controller.abort();
}

/// The `managedFields` entry of `manager` with `operation`, if any.
fn managed_entry<'a>(
    meta: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    manager: &str,
    operation: &str,
) -> Option<&'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry> {
    meta.managed_fields
        .as_ref()?
        .iter()
        .find(|e| e.manager.as_deref() == Some(manager) && e.operation.as_deref() == Some(operation))
}

fn owned_fields(entry: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry) -> serde_json::Value {
    entry.fields_v1.as_ref().map(|f| f.0.clone()).unwrap_or_default()
}

#[tokio::test]
async fn managed_fields_name_the_creating_manager_and_the_fields_it_set() {
    let cluster = cluster().await;
    let configmaps: Api<ConfigMap> = Api::default_namespaced(cluster.kube_client());
    let params = PostParams { field_manager: Some("creator".into()), ..Default::default() };
    let created = configmaps.create(&params, &configmap("owned", "a")).await.unwrap();
    let entry = managed_entry(&created.metadata, "creator", "Update").expect("an Update entry for the creator");
    assert_eq!(entry.api_version.as_deref(), Some("v1"));
    assert_eq!(entry.fields_type.as_deref(), Some("FieldsV1"));
    assert!(entry.time.is_some());
    assert_eq!(owned_fields(entry), json!({"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}));

    // Another writer takes the field it changes; the creator keeps the rest.
    let patch = Patch::Merge(json!({"data": {"key": "b"}}));
    let editor = PatchParams { field_manager: Some("editor".into()), ..Default::default() };
    let patched = configmaps.patch("owned", &editor, &patch).await.unwrap();
    let editor = managed_entry(&patched.metadata, "editor", "Update").unwrap();
    assert_eq!(owned_fields(editor), json!({"f:data": {"f:key": {}}}));
    let creator = managed_entry(&patched.metadata, "creator", "Update").unwrap();
    assert_eq!(owned_fields(creator), json!({"f:metadata": {"f:labels": {"f:app": {}}}}));

    // Writing the same again changes nothing: same resourceVersion, same entries.
    let again = configmaps.replace("owned", &PostParams::default(), &patched).await.unwrap();
    assert_eq!(again.metadata.resource_version, patched.metadata.resource_version);
    assert_eq!(again.metadata.managed_fields, patched.metadata.managed_fields);
}

#[tokio::test]
async fn two_managers_applying_one_field_conflict_until_one_forces() {
    let cluster = cluster().await;
    let configmaps: Api<ConfigMap> = Api::default_namespaced(cluster.kube_client());
    let applied = |value: &str| {
        Patch::Apply(json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {"key": value},
        }))
    };
    let first = configmaps.patch("shared", &PatchParams::apply("first"), &applied("a")).await.unwrap();
    let entry = managed_entry(&first.metadata, "first", "Apply").expect("an Apply entry");
    assert_eq!(owned_fields(entry), json!({"f:data": {"f:key": {}}}));

    // The same value: shared ownership, no conflict.
    let shared = configmaps.patch("shared", &PatchParams::apply("second"), &applied("a")).await.unwrap();
    assert!(managed_entry(&shared.metadata, "first", "Apply").is_some());
    assert!(managed_entry(&shared.metadata, "second", "Apply").is_some());

    // A different value: 409 naming the other manager and the field.
    let third = configmaps.patch("shared", &PatchParams::apply("third"), &applied("b")).await.unwrap_err();
    let status = api_error(third);
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        status.message,
        "Apply failed with 2 conflicts: conflicts with \"first\":\n- .data.key\nconflicts with \"second\":\n- .data.key"
    );
    let causes = status.details.unwrap().causes;
    assert_eq!(causes.len(), 2);
    assert!(causes.iter().all(|c| c.reason == "FieldManagerConflict" && c.field == ".data.key"));
    assert_eq!(causes[0].message, "conflict with \"first\"");
    assert_eq!(configmaps.get("shared").await.unwrap().data.unwrap()["key"], "a", "nothing was written");

    // force takes the field over.
    let forced = configmaps.patch("shared", &PatchParams::apply("third").force(), &applied("b")).await.unwrap();
    assert_eq!(forced.data.as_ref().unwrap()["key"], "b");
    assert!(managed_entry(&forced.metadata, "first", "Apply").is_none(), "first owned nothing else");
    assert!(managed_entry(&forced.metadata, "second", "Apply").is_none());
    assert_eq!(
        owned_fields(managed_entry(&forced.metadata, "third", "Apply").unwrap()),
        json!({"f:data": {"f:key": {}}})
    );
}

#[tokio::test]
async fn an_applier_that_drops_a_field_removes_it() {
    let cluster = cluster().await;
    let configmaps: Api<ConfigMap> = Api::default_namespaced(cluster.kube_client());
    let applied = |data: serde_json::Value| {
        Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pruned"}, "data": data}))
    };
    let params = PatchParams::apply("tool");
    configmaps.patch("pruned", &params, &applied(json!({"a": "1", "b": "2"}))).await.unwrap();
    let after = configmaps.patch("pruned", &params, &applied(json!({"a": "1"}))).await.unwrap();
    assert_eq!(after.data.unwrap(), [("a".to_string(), "1".to_string())].into());
    let status = api_error(configmaps.patch("pruned", &PatchParams::default(), &applied(json!({}))).await.unwrap_err());
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"), "apply needs a fieldManager");
}

#[tokio::test]
async fn generate_name_gives_each_object_a_fresh_name_with_the_prefix() {
    let cluster = cluster().await;
    let configmaps: Api<ConfigMap> = Api::default_namespaced(cluster.kube_client());
    let mut named = Vec::new();
    for _ in 0..3 {
        let template: ConfigMap = serde_json::from_value(json!({"metadata": {"generateName": "job-"}})).unwrap();
        let created = configmaps.create(&PostParams::default(), &template).await.unwrap();
        let name = created.metadata.name.unwrap();
        assert!(name.starts_with("job-") && name.len() == "job-".len() + 5, "{name}");
        assert!(name["job-".len()..].chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)), "{name}");
        named.push(name);
    }
    named.sort();
    named.dedup();
    assert_eq!(named.len(), 3);
}

#[tokio::test]
async fn unknown_fields_are_dropped_by_default_and_refused_by_a_strict_patch() {
    use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
    let cluster = cluster().await;
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"));
    let configmaps: Api<DynamicObject> = Api::namespaced_with(cluster.kube_client(), "default", &resource);
    let mut object = DynamicObject::new("typo", &resource);
    object.data = json!({"data": {"a": "1"}, "dta": {"b": "2"}});
    // kube-rs sends no fieldValidation: the server default (Warn) drops the field.
    let created = configmaps.create(&PostParams::default(), &object).await.unwrap();
    assert_eq!(created.data, json!({"data": {"a": "1"}}));

    let strict = PatchParams { field_validation: Some(kube::api::ValidationDirective::Strict), ..Default::default() };
    let error = configmaps.patch("typo", &strict, &Patch::Merge(json!({"dta": 1}))).await.unwrap_err();
    let status = api_error(error);
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    assert!(status.message.ends_with("strict decoding error: unknown field \"dta\""), "{}", status.message);

    // Server-side apply cannot type it in any mode.
    let apply = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "typo"}, "dta": 1});
    let error = configmaps.patch("typo", &PatchParams::apply("me"), &Patch::Apply(apply)).await.unwrap_err();
    let status = api_error(error);
    assert_eq!(status.code, 500);
    assert!(status.message.ends_with(".dta: field not declared in schema"), "{}", status.message);
    assert_eq!(configmaps.get("typo").await.unwrap().data, json!({"data": {"a": "1"}}));
}
