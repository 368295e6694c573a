//! The bookkeeping as a client sees it in `managedFields`, and server-side apply's merge,
//! removal, conflicts and `force`.

use serde_json::{Value, json};

use super::*;

const T1: &str = "2026-01-01T00:00:01Z";
const T2: &str = "2026-01-01T00:00:02Z";
const T3: &str = "2026-01-01T00:00:03Z";

fn deployments() -> &'static ResourceType {
    crate::registry::find("apps", "v1", "deployments").unwrap()
}

fn configmaps() -> &'static ResourceType {
    crate::registry::find("", "v1", "configmaps").unwrap()
}

fn entries(object: &Value) -> ManagedFields {
    ManagedFields::of_object(object).unwrap()
}

fn fields_of(object: &Value, manager: &str, operation: Operation) -> Value {
    let managed = entries(object);
    let entry = managed.find(manager, operation, "").unwrap_or_else(|| panic!("no {manager} entry in {object}"));
    entry.fields.to_fields_v1()
}

/// A create by `manager`, as `Api::create` records it.
fn created(rt: &ResourceType, mut object: Value, manager: &str) -> Value {
    record_update(rt, Subresource::Main, None, &mut object, manager, T1);
    object
}

/// An update of `live` to `new` by `manager`.
fn updated(rt: &ResourceType, live: &Value, mut new: Value, manager: &str, now: &str) -> Value {
    record_update(rt, Subresource::Main, Some(live), &mut new, manager, now);
    new
}

fn kubia(replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "kubia", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "kubia"}},
            "template": {
                "metadata": {"labels": {"app": "kubia"}, "name": "kubia"},
                "spec": {"containers": [{"image": image, "name": "nodejs"}]},
            },
        },
    })
}

fn configmap(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}, "data": data})
}

#[test]
fn managed_fields_of_a_created_deployment_have_the_shape_of_the_apply_transcript() {
    let mut body = kubia(3, "luksa/kubia:v2");
    body["metadata"]["annotations"] = json!({LAST_APPLIED_ANNOTATION: "{}"});
    // Upstream's Go types always write `resources: {}`; Bosun keeps what the client sent.
    body["spec"]["template"]["spec"]["containers"][0]["resources"] = json!({});
    crate::defaults::apply_defaults("apps", "Deployment", &mut body);
    let object = created(deployments(), body, "kubectl-client-side-apply");
    assert_eq!(
        fields_of(&object, "kubectl-client-side-apply", Operation::Update),
        json!({
            "f:metadata": {"f:annotations": {"f:kubectl.kubernetes.io/last-applied-configuration": {}}},
            "f:spec": {
                "f:progressDeadlineSeconds": {},
                "f:replicas": {},
                "f:revisionHistoryLimit": {},
                "f:selector": {"f:matchLabels": {"f:app": {}}},
                "f:strategy": {"f:rollingUpdate": {"f:maxSurge": {}, "f:maxUnavailable": {}}, "f:type": {}},
                "f:template": {
                    "f:metadata": {"f:labels": {"f:app": {}}, "f:name": {}},
                    "f:spec": {
                        "f:containers": {"k:{\"name\":\"nodejs\"}": {
                            ".": {},
                            "f:image": {},
                            "f:imagePullPolicy": {},
                            "f:name": {},
                            "f:resources": {},
                            "f:terminationMessagePath": {},
                            "f:terminationMessagePolicy": {},
                        }},
                        "f:dnsPolicy": {},
                        "f:restartPolicy": {},
                        "f:schedulerName": {},
                        "f:securityContext": {},
                        "f:terminationGracePeriodSeconds": {},
                    },
                },
            },
        })
    );
    let entry = &object["metadata"]["managedFields"][0];
    assert_eq!(
        (&entry["manager"], &entry["operation"], &entry["apiVersion"], &entry["fieldsType"], &entry["time"]),
        (&json!("kubectl-client-side-apply"), &json!("Update"), &json!("apps/v1"), &json!("FieldsV1"), &json!(T1))
    );
    assert!(entry.get("subresource").is_none());
}

#[test]
fn managed_update_moves_the_changed_fields_to_the_writer() {
    let one = created(configmaps(), configmap(json!({"a": "1", "b": "2"})), "alice");
    let two = updated(configmaps(), &one, configmap(json!({"a": "changed", "b": "2"})), "bob", T2);
    assert_eq!(fields_of(&two, "alice", Operation::Update), json!({"f:data": {"f:b": {}}}));
    assert_eq!(fields_of(&two, "bob", Operation::Update), json!({"f:data": {"f:a": {}}}));
    let alice = entries(&two).find("alice", Operation::Update, "").unwrap().clone();
    assert_eq!(alice.time.as_deref(), Some(T1), "an entry that only lost fields keeps its time");

    // Removing b takes it from alice, whose entry is then empty and dropped.
    let three = updated(configmaps(), &two, configmap(json!({"a": "changed"})), "bob", T3);
    assert!(entries(&three).find("alice", Operation::Update, "").is_none());
    assert_eq!(fields_of(&three, "bob", Operation::Update), json!({"f:data": {"f:a": {}}}));
    let bob = entries(&three).find("bob", Operation::Update, "").unwrap().clone();
    assert_eq!(bob.time.as_deref(), Some(T2), "a removal takes no field, so the time stays");
}

#[test]
fn managed_fields_of_a_write_that_changes_nothing_stay_as_they_were() {
    let one = created(configmaps(), configmap(json!({"a": "1"})), "alice");
    let again = updated(configmaps(), &one, one.clone(), "bob", T2);
    assert_eq!(again["metadata"]["managedFields"], one["metadata"]["managedFields"]);
    let same_without_list = {
        let mut copy = one.clone();
        copy["metadata"].as_object_mut().unwrap().remove("managedFields");
        updated(configmaps(), &one, copy, "bob", T2)
    };
    assert_eq!(same_without_list["metadata"]["managedFields"], one["metadata"]["managedFields"], "absent keeps them");
}

#[test]
fn managed_fields_a_client_sends_replace_the_stored_ones_and_an_empty_list_clears_them() {
    let one = created(configmaps(), configmap(json!({"a": "1"})), "alice");
    let mut rewritten = one.clone();
    rewritten["metadata"]["managedFields"][0]["manager"] = json!("kubectl");
    let two = updated(configmaps(), &one, rewritten, "whoever", T2);
    assert_eq!(fields_of(&two, "kubectl", Operation::Update), json!({"f:data": {"f:a": {}}}));
    assert!(entries(&two).find("alice", Operation::Update, "").is_none());

    let mut cleared = one.clone();
    cleared["metadata"]["managedFields"] = json!([{}]);
    let three = updated(configmaps(), &one, cleared, "whoever", T2);
    assert!(three["metadata"].get("managedFields").is_none());
}

#[test]
fn managed_status_is_not_owned_through_the_main_endpoint_but_is_through_status() {
    let mut body = kubia(1, "nginx");
    body["status"] = json!({"replicas": 5});
    let object = created(deployments(), body, "creator");
    assert!(fields_of(&object, "creator", Operation::Update).get("f:status").is_none());
    let mut status = object.clone();
    status["status"] = json!({"replicas": 6});
    record_update(deployments(), Subresource::Status, Some(&object), &mut status, "kcm", T2);
    let managed = entries(&status);
    let entry = managed.find("kcm", Operation::Update, "status").unwrap();
    assert_eq!(entry.fields.to_fields_v1(), json!({"f:status": {"f:replicas": {}}}));
}

#[test]
fn managed_update_entries_are_capped_at_ten_with_the_oldest_merged_into_ancient_changes() {
    let mut object = created(configmaps(), configmap(json!({"k0": "v"})), "m0");
    for i in 1..=11 {
        let mut next = object.clone();
        next["data"][format!("k{i}")] = json!("v");
        object = updated(configmaps(), &object, next, &format!("m{i}"), &format!("2026-01-01T00:00:{i:02}Z"));
    }
    let managed = entries(&object);
    assert_eq!(managed.entries.len(), UPDATE_MANAGERS_MAX);
    let ancient = managed.find(ANCIENT_CHANGES, Operation::Update, "").unwrap();
    assert_eq!(ancient.fields.to_fields_v1(), json!({"f:data": {"f:k0": {}, "f:k1": {}, "f:k2": {}}}));
    assert!(managed.find("m0", Operation::Update, "").is_none());
    assert!(managed.find("m11", Operation::Update, "").is_some());
}

#[test]
fn managed_apply_owns_what_it_applied_and_records_an_apply_entry() {
    let empty = json!({});
    let object = apply(deployments(), Subresource::Main, &empty, &kubia(3, "nginx:1"), "tool", false, T1).unwrap();
    assert_eq!(object["spec"]["replicas"], 3);
    let managed = entries(&object);
    let entry = managed.find("tool", Operation::Apply, "").unwrap();
    assert_eq!(entry.time.as_deref(), Some(T1));
    assert_eq!(
        entry.fields.to_fields_v1(),
        json!({"f:spec": {
            "f:replicas": {},
            "f:selector": {"f:matchLabels": {"f:app": {}}},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}, "f:name": {}},
                "f:spec": {"f:containers": {"k:{\"name\":\"nodejs\"}": {".": {}, "f:image": {}, "f:name": {}}}},
            },
        }})
    );
    let entry_json = &object["metadata"]["managedFields"][0];
    assert_eq!(entry_json["operation"], "Apply");
    assert_eq!(entry_json["apiVersion"], "apps/v1");
}

#[test]
fn managed_apply_conflicts_with_the_owner_of_a_changed_field_with_upstreams_message_and_causes() {
    let live = created(deployments(), kubia(3, "nginx:1"), "kubectl-client-side-apply");
    let status =
        apply(deployments(), Subresource::Main, &live, &kubia(4, "nginx:1"), "kubectl-ssa", false, T2).unwrap_err();
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
    );
    let causes = &status.details.as_ref().unwrap().causes;
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].reason, "FieldManagerConflict");
    assert_eq!(causes[0].message, "conflict with \"kubectl-client-side-apply\" using apps/v1");
    assert_eq!(causes[0].field, ".spec.replicas");
    let value = status.to_value();
    assert_eq!(value["details"]["causes"][0]["reason"], "FieldManagerConflict");
}

#[test]
fn managed_apply_lists_several_conflicts_one_per_line_grouped_by_manager() {
    let live = created(deployments(), kubia(3, "nginx:1"), "creator");
    let live = apply(deployments(), Subresource::Main, &live, &kubia(3, "nginx:1"), "first", false, T2).unwrap();
    let status = apply(deployments(), Subresource::Main, &live, &kubia(4, "nginx:2"), "second", false, T3).unwrap_err();
    assert_eq!(
        status.message,
        [
            "Apply failed with 4 conflicts: conflicts with \"creator\" using apps/v1:",
            "- .spec.replicas",
            "- .spec.template.spec.containers[name=\"nodejs\"].image",
            "conflicts with \"first\":",
            "- .spec.replicas",
            "- .spec.template.spec.containers[name=\"nodejs\"].image",
        ]
        .join("\n")
    );
    assert_eq!(status.details.unwrap().causes.len(), 4);
}

#[test]
fn managed_apply_of_the_value_a_field_has_shares_it_without_conflict() {
    let live = created(configmaps(), configmap(json!({"a": "1"})), "alice");
    let shared =
        apply(configmaps(), Subresource::Main, &live, &configmap(json!({"a": "1"})), "bob", false, T2).unwrap();
    assert_eq!(fields_of(&shared, "alice", Operation::Update), json!({"f:data": {"f:a": {}}}));
    assert_eq!(fields_of(&shared, "bob", Operation::Apply), json!({"f:data": {"f:a": {}}}));
}

#[test]
fn managed_forced_apply_takes_the_field_and_sets_the_value() {
    let live = created(deployments(), kubia(3, "nginx:1"), "alice");
    let forced = apply(deployments(), Subresource::Main, &live, &kubia(4, "nginx:1"), "bob", true, T2).unwrap();
    assert_eq!(forced["spec"]["replicas"], 4);
    let alice = fields_of(&forced, "alice", Operation::Update);
    assert!(alice["f:spec"].get("f:replicas").is_none(), "alice lost .spec.replicas: {alice}");
    assert!(alice["f:spec"].get("f:template").is_some(), "alice keeps the rest");
    assert!(fields_of(&forced, "bob", Operation::Apply)["f:spec"].get("f:replicas").is_some());
}

#[test]
fn managed_apply_removes_fields_the_manager_stopped_applying_unless_someone_else_owns_them() {
    let empty = json!({});
    let one = apply(
        configmaps(),
        Subresource::Main,
        &empty,
        &configmap(json!({"a": "1", "b": "2", "c": "3"})),
        "me",
        false,
        T1,
    )
    .unwrap();
    // Another applier shares c.
    let two = apply(configmaps(), Subresource::Main, &one, &configmap(json!({"c": "3"})), "other", false, T2).unwrap();
    let three = apply(configmaps(), Subresource::Main, &two, &configmap(json!({"a": "1"})), "me", false, T3).unwrap();
    assert_eq!(three["data"], json!({"a": "1", "c": "3"}), "b went, c stayed for its other owner");
    assert_eq!(fields_of(&three, "me", Operation::Apply), json!({"f:data": {"f:a": {}}}));
    assert_eq!(fields_of(&three, "other", Operation::Apply), json!({"f:data": {"f:c": {}}}));
}

#[test]
fn managed_apply_merges_keyed_lists_by_their_keys() {
    let mut first = kubia(1, "a:1");
    first["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80}]);
    first["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "X", "value": "1"}]);
    let one = apply(deployments(), Subresource::Main, &json!({}), &first, "me", false, T1).unwrap();
    let fields = fields_of(&one, "me", Operation::Apply);
    let container = &fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"nodejs\"}"];
    assert_eq!(
        container["f:ports"],
        json!({"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}})
    );
    assert_eq!(container["f:env"], json!({"k:{\"name\":\"X\"}": {".": {}, "f:name": {}, "f:value": {}}}));

    // A second manager adds a sidecar: the first container stays, untouched and still owned.
    let sidecar = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "kubia"},
        "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "s:1"}]}}},
    });
    let two = apply(deployments(), Subresource::Main, &one, &sidecar, "other", false, T2).unwrap();
    let names: Vec<&Value> =
        two["spec"]["template"]["spec"]["containers"].as_array().unwrap().iter().map(|c| &c["name"]).collect();
    assert_eq!(names, [&json!("nodejs"), &json!("sidecar")]);
    assert_eq!(two["spec"]["template"]["spec"]["containers"][0]["ports"], json!([{"containerPort": 80}]));
}

#[test]
fn managed_apply_drops_a_list_item_its_manager_stopped_applying() {
    let mut both = kubia(1, "a:1");
    both["spec"]["template"]["spec"]["containers"] = json!([{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]);
    let one = apply(deployments(), Subresource::Main, &json!({}), &both, "me", false, T1).unwrap();
    let mut only_a = kubia(1, "a:1");
    only_a["spec"]["template"]["spec"]["containers"] = json!([{"name": "a", "image": "a"}]);
    let two = apply(deployments(), Subresource::Main, &one, &only_a, "me", false, T2).unwrap();
    assert_eq!(two["spec"]["template"]["spec"]["containers"], json!([{"name": "a", "image": "a"}]));
}

#[test]
fn managed_apply_that_changes_nothing_keeps_the_entry_time() {
    let one =
        apply(configmaps(), Subresource::Main, &json!({}), &configmap(json!({"a": "1"})), "me", false, T1).unwrap();
    let two = apply(configmaps(), Subresource::Main, &one, &configmap(json!({"a": "1"})), "me", false, T2).unwrap();
    assert_eq!(two["metadata"]["managedFields"], one["metadata"]["managedFields"]);
}

#[test]
fn managed_apply_of_an_empty_configuration_records_no_entry() {
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "custom"}});
    let namespaces = crate::registry::find("", "v1", "namespaces").unwrap();
    let object = apply(namespaces, Subresource::Main, &json!({}), &namespace, "other", false, T1).unwrap();
    assert!(object["metadata"].get("managedFields").is_none(), "{object}");
}

#[test]
fn managed_kubectl_takes_over_fields_its_client_side_apply_annotation_still_describes() {
    let mut body = kubia(3, "nginx:1");
    let annotation = kubia(3, "nginx:1").to_string();
    body["metadata"]["annotations"] = json!({LAST_APPLIED_ANNOTATION: annotation});
    let live = created(deployments(), body, "kubectl-client-side-apply");
    // The annotation says replicas 3, as the object does: kubectl may take it over.
    let applied = apply(deployments(), Subresource::Main, &live, &kubia(4, "nginx:1"), "kubectl", false, T2).unwrap();
    assert_eq!(applied["spec"]["replicas"], 4);
    let annotation: Value =
        serde_json::from_str(applied["metadata"]["annotations"][LAST_APPLIED_ANNOTATION].as_str().unwrap()).unwrap();
    assert_eq!(annotation["spec"]["replicas"], 4, "the annotation follows what kubectl applied");
    // Any other manager still conflicts.
    assert_eq!(
        apply(deployments(), Subresource::Main, &live, &kubia(4, "nginx:1"), "other", false, T2).unwrap_err().code,
        409
    );
}

#[test]
fn managed_apply_rejects_duplicate_keys_and_another_kind() {
    let mut twice = kubia(1, "a");
    twice["spec"]["template"]["spec"]["containers"] = json!([{"name": "a", "image": "a"}, {"name": "a", "image": "b"}]);
    let status = apply(deployments(), Subresource::Main, &json!({}), &twice, "me", false, T1).unwrap_err();
    assert_eq!(status.code, 500);
    assert!(status.message.contains("duplicate entries"), "{}", status.message);
    let mut nameless = kubia(1, "a");
    nameless["spec"]["template"]["spec"]["containers"] = json!([{"image": "a"}]);
    let status = apply(deployments(), Subresource::Main, &json!({}), &nameless, "me", false, T1).unwrap_err();
    assert_eq!(
        status.message,
        "Internal error occurred: failed to create typed patch object (default/kubia; apps/v1, Kind=Deployment): \
         .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field \
         \"name\" (and doesn't have default value)"
    );
    let status = check_applied_type(deployments(), &configmap(json!({}))).unwrap_err();
    assert_eq!((status.code, status.message.as_str()), (400, "invalid object type: /v1, Kind=ConfigMap"));
    assert!(check_applied_type(deployments(), &kubia(1, "a")).is_ok());
}

#[test]
fn managed_timestamp_only_changes_are_not_writes() {
    let one = created(configmaps(), configmap(json!({"a": "1"})), "alice");
    let mut moved = one.clone();
    moved["metadata"]["managedFields"][0]["time"] = json!(T3);
    keep_live_when_only_times_moved(&one, &mut moved);
    assert_eq!(moved, one);
    let mut changed = one.clone();
    changed["data"]["a"] = json!("2");
    changed["metadata"]["managedFields"][0]["time"] = json!(T3);
    keep_live_when_only_times_moved(&one, &mut changed);
    assert_eq!(changed["metadata"]["managedFields"][0]["time"], T3, "a real change keeps its new time");
}

#[test]
fn managed_manager_names_come_from_the_user_agent_up_to_the_first_slash() {
    assert_eq!(manager_from_user_agent("kubectl/v1.35.0 (linux/amd64) kubernetes/abc"), "kubectl");
    assert_eq!(manager_from_user_agent("kube-controller-manager/v1.35.0"), "kube-controller-manager");
    assert_eq!(manager_from_user_agent(""), "");
    assert_eq!(manager_from_user_agent("a\u{7}b"), "ab");
    assert_eq!(manager_from_user_agent(&"x".repeat(300)).len(), MANAGER_LENGTH_MAX_BYTES);
}

#[test]
fn managed_apply_to_status_owns_only_status_under_a_status_entry() {
    let live = created(deployments(), kubia(1, "nginx"), "creator");
    let mut config = kubia(9, "other");
    config["status"] = json!({"replicas": 1});
    let object = apply(deployments(), Subresource::Status, &live, &config, "kcm", false, T2).unwrap();
    let managed = entries(&object);
    let entry = managed.find("kcm", Operation::Apply, "status").unwrap();
    assert_eq!(entry.fields.to_fields_v1(), json!({"f:status": {"f:replicas": {}}}));
    assert!(managed.find("creator", Operation::Update, "").unwrap().fields.has(&[field("spec"), field("replicas")]));
}
