//! The node agent through kube-rs, in-process: the node registers Ready, pods are bound and run
//! with an IP, readiness follows the simulated app on a virtual clock (with exact transition
//! times), crashes restart with back-off, Job-style pods complete, and graceful deletion shows
//! `deletionTimestamp` before the pod goes. Also the API's side of it: `pods/binding` and the
//! grace period rules of DELETE.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bosun_api::api::DeleteOptions;
use bosun_api::clock::VirtualClock;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{Value, json};

/// The virtual clock's start: a whole second, so simulated times are exact.
const T0_SECONDS: u64 = 1_750_000_000;
/// How long a test waits for the agent (real time) before failing.
const WAIT_MAX: Duration = Duration::from_secs(20);

fn t(offset: u64) -> String {
    bosun_api::meta::format_time(UNIX_EPOCH + Duration::from_secs(T0_SECONDS + offset))
}

async fn cluster_on(clock: &VirtualClock) -> bosun::Cluster {
    bosun::Cluster::builder().temporary().clock(Arc::new(clock.clone())).start().await.expect("start a cluster")
}

fn virtual_clock() -> VirtualClock {
    VirtualClock::starting_at(UNIX_EPOCH + Duration::from_secs(T0_SECONDS))
}

fn pod(name: &str, image: &str, extra: Value) -> Pod {
    let mut pod = json!({
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"containers": [{"name": "app", "image": image, "ports": [{"name": "http", "containerPort": 8080}]}]},
    });
    merge(&mut pod, extra);
    serde_json::from_value(pod).unwrap()
}

fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(target.entry(key).or_insert(Value::Null), value);
            }
        }
        (target, patch) => *target = patch,
    }
}

/// Polls `pods` until `check` holds for `name`; returns the pod then.
async fn wait_pod(pods: &Api<Pod>, name: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    loop {
        let current = pods.get_opt(name).await.unwrap().map(|p| serde_json::to_value(p).unwrap());
        if let Some(pod) = &current
            && check(pod)
        {
            return pod.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "{name}: never {what}; last seen {current:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn condition<'a>(pod: &'a Value, kind: &str) -> &'a Value {
    pod["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == kind))
        .unwrap_or_else(|| panic!("no {kind} condition in {pod:#}"))
}

fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

#[tokio::test]
async fn the_node_registers_ready_with_its_capacity_and_kubelet_version() {
    let cluster = bosun::Cluster::builder().temporary().start().await.unwrap();
    let nodes: Api<Node> = Api::all(cluster.kube_client());
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    let node = loop {
        if let Some(node) = nodes.get_opt("bosun-node").await.unwrap()
            && node.status.as_ref().is_some_and(|s| s.conditions.is_some())
        {
            break node;
        }
        assert!(tokio::time::Instant::now() < deadline, "the node never registered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let status = node.status.unwrap();
    let conditions = status.conditions.unwrap();
    let ready = conditions.iter().find(|c| c.type_ == "Ready").unwrap();
    assert_eq!((ready.status.as_str(), ready.reason.as_deref()), ("True", Some("KubeletReady")));
    for pressure in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
        assert_eq!(conditions.iter().find(|c| c.type_ == pressure).unwrap().status, "False");
    }
    assert!(conditions.iter().all(|c| c.last_heartbeat_time.is_some()));
    assert_eq!(status.node_info.unwrap().kubelet_version, "v1.35.0");
    let capacity = status.capacity.unwrap();
    assert_eq!(capacity["pods"].0, "110");
    assert!(capacity.contains_key("cpu") && capacity.contains_key("memory"));
    let addresses = status.addresses.unwrap();
    assert!(addresses.iter().any(|a| a.type_ == "InternalIP") && addresses.iter().any(|a| a.type_ == "Hostname"));
}

#[tokio::test]
async fn a_pod_is_bound_and_runs_ready_with_an_ip_like_under_a_kubelet() {
    let clock = virtual_clock();
    let cluster = cluster_on(&clock).await;
    let pods: Api<Pod> = Api::default_namespaced(cluster.kube_client());
    pods.create(&PostParams::default(), &pod("web", "nginx:1.27", json!({}))).await.unwrap();
    pods.create(&PostParams::default(), &pod("web2", "nginx:1.27", json!({}))).await.unwrap();
    let web = wait_pod(&pods, "web", "ready", is_ready).await;
    let web2 = wait_pod(&pods, "web2", "ready", is_ready).await;
    assert_eq!(web["spec"]["nodeName"], "bosun-node");
    assert_eq!(web["status"]["phase"], "Running");
    assert_eq!(web["status"]["startTime"], t(0));
    assert_eq!(web["status"]["qosClass"], "BestEffort");
    assert_eq!(web["status"]["hostIP"], "127.0.0.1");
    let ip = web["status"]["podIP"].as_str().unwrap();
    assert!(ip.starts_with("10.244."), "{ip}");
    assert_eq!(web["status"]["podIPs"], json!([{"ip": ip}]));
    assert_ne!(web2["status"]["podIP"], web["status"]["podIP"], "every pod has its own address");
    for kind in ["PodScheduled", "PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"] {
        assert_eq!(condition(&web, kind)["status"], "True", "{kind}");
        assert_eq!(condition(&web, kind)["lastTransitionTime"], t(0), "{kind}");
    }
    let container = &web["status"]["containerStatuses"][0];
    assert_eq!(
        (&container["name"], &container["ready"], &container["started"]),
        (&json!("app"), &json!(true), &json!(true))
    );
    assert_eq!(container["restartCount"], 0);
    assert_eq!(container["state"]["running"]["startedAt"], t(0));
    assert!(container["containerID"].as_str().unwrap().starts_with("bosun://"));
    assert!(container["imageID"].as_str().unwrap().contains("@sha256:"));
}

#[tokio::test]
async fn kubia_v3_turns_unready_after_its_fifth_request_at_the_exact_simulated_time() {
    let clock = virtual_clock();
    let cluster = cluster_on(&clock).await;
    let pods: Api<Pod> = Api::default_namespaced(cluster.kube_client());
    let probe = json!({"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1});
    let spec = |name: &str, failure_threshold: u32| {
        let mut probe = probe.clone();
        probe["failureThreshold"] = failure_threshold.into();
        pod(
            name,
            "luksa/kubia:v3",
            json!({"spec": {"containers": [{"name": "nodejs", "image": "luksa/kubia:v3",
            "ports": [{"containerPort": 8080}], "readinessProbe": probe}]}}),
        )
    };
    pods.create(&PostParams::default(), &spec("v3", 3)).await.unwrap();
    pods.create(&PostParams::default(), &spec("v3-strict", 1)).await.unwrap();
    let ready = wait_pod(&pods, "v3", "ready", is_ready).await;
    assert_eq!(condition(&ready, "Ready")["lastTransitionTime"], t(0), "the first probe (request 1) passes");
    wait_pod(&pods, "v3-strict", "ready", is_ready).await;

    // Ten simulated minutes pass at once; every probe in between is accounted for.
    clock.advance(Duration::from_secs(600));
    let unready = wait_pod(&pods, "v3", "unready", |p| !is_ready(p)).await;
    // Requests 1-4 at T0..T0+3 pass; 5, 6 and 7 fail; the third failure (failureThreshold 3) at
    // T0+6 turns it unready.
    let ready_condition = condition(&unready, "Ready");
    assert_eq!(ready_condition["lastTransitionTime"], t(6));
    assert_eq!(ready_condition["reason"], "ContainersNotReady");
    assert_eq!(ready_condition["message"], "containers with unready status: [nodejs]");
    assert_eq!(unready["status"]["phase"], "Running");
    assert_eq!(unready["status"]["containerStatuses"][0]["ready"], false);
    assert_eq!(unready["status"]["containerStatuses"][0]["started"], true);
    let strict = wait_pod(&pods, "v3-strict", "unready", |p| !is_ready(p)).await;
    assert_eq!(condition(&strict, "Ready")["lastTransitionTime"], t(4), "failureThreshold 1: the fifth request");
}

#[tokio::test]
async fn a_crashing_container_restarts_with_back_off_and_shows_crash_loop_back_off() {
    let clock = virtual_clock();
    let cluster = cluster_on(&clock).await;
    let pods: Api<Pod> = Api::default_namespaced(cluster.kube_client());
    let crashing =
        pod("crashy", "busybox", json!({"metadata": {"annotations": {"sim.bosun.dev/crash-after-seconds": "5"}}}));
    pods.create(&PostParams::default(), &crashing).await.unwrap();
    wait_pod(&pods, "crashy", "ready", is_ready).await;
    // Runs T0..+5, back-off 10 s → +15..+20, back-off 20 s → +40..+45, back-off 40 s → +85.
    clock.advance(Duration::from_secs(50));
    let crashed =
        wait_pod(&pods, "crashy", "restarted twice", |p| p["status"]["containerStatuses"][0]["restartCount"] == 2)
            .await;
    let container = &crashed["status"]["containerStatuses"][0];
    assert_eq!(container["state"]["waiting"]["reason"], "CrashLoopBackOff");
    assert_eq!(container["lastState"]["terminated"]["exitCode"], 1);
    assert_eq!(container["lastState"]["terminated"]["finishedAt"], t(45));
    assert_eq!(crashed["status"]["phase"], "Running");
    assert_eq!(condition(&crashed, "Ready")["status"], "False");
    clock.advance(Duration::from_secs(36));
    let restarted = wait_pod(&pods, "crashy", "running again", is_ready).await;
    assert_eq!(restarted["status"]["containerStatuses"][0]["restartCount"], 3);
    assert_eq!(restarted["status"]["containerStatuses"][0]["state"]["running"]["startedAt"], t(85));
}

#[tokio::test]
async fn a_job_style_pod_completes_and_succeeds() {
    let clock = virtual_clock();
    let cluster = cluster_on(&clock).await;
    let pods: Api<Pod> = Api::default_namespaced(cluster.kube_client());
    let job = pod("pi", "perl:5.34.0", json!({"spec": {"restartPolicy": "Never"}}));
    pods.create(&PostParams::default(), &job).await.unwrap();
    wait_pod(&pods, "pi", "running", |p| p["status"]["phase"] == "Running").await;
    clock.advance(Duration::from_secs(30));
    let done = wait_pod(&pods, "pi", "succeeded", |p| p["status"]["phase"] == "Succeeded").await;
    let terminated = &done["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!((&terminated["exitCode"], &terminated["reason"]), (&json!(0), &json!("Completed")));
    assert_eq!(terminated["finishedAt"], t(5), "the perl profile completes after 5 s");
    assert_eq!(condition(&done, "Ready")["reason"], "PodCompleted");
    // A terminal pod is deleted at once.
    pods.delete("pi", &DeleteParams::default()).await.unwrap();
    assert!(pods.get_opt("pi").await.unwrap().is_none());
}

#[tokio::test]
async fn graceful_deletion_shows_the_deletion_timestamp_until_the_containers_stop() {
    let clock = virtual_clock();
    let cluster = cluster_on(&clock).await;
    let pods: Api<Pod> = Api::default_namespaced(cluster.kube_client());
    let slow = pod("slow", "nginx", json!({"metadata": {"annotations": {"sim.bosun.dev/stop-seconds": "20"}}}));
    pods.create(&PostParams::default(), &slow).await.unwrap();
    wait_pod(&pods, "slow", "ready", is_ready).await;
    let deleted = pods.delete("slow", &DeleteParams::default()).await.unwrap();
    let marked = deleted.left().expect("a graceful delete answers the pod");
    assert_eq!(marked.metadata.deletion_grace_period_seconds, Some(30));
    let terminating = serde_json::to_value(pods.get("slow").await.unwrap()).unwrap();
    assert_eq!(terminating["metadata"]["deletionTimestamp"], t(30));
    // The app takes 20 s to stop after SIGTERM: the pod stays until then.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(pods.get_opt("slow").await.unwrap().is_some());
    clock.advance(Duration::from_secs(20));
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while pods.get_opt("slow").await.unwrap().is_some() {
        assert!(tokio::time::Instant::now() < deadline, "the pod was never deleted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Without a stop time the agent finishes the deletion promptly.
    pods.create(&PostParams::default(), &pod("quick", "nginx", json!({}))).await.unwrap();
    wait_pod(&pods, "quick", "ready", is_ready).await;
    pods.delete("quick", &DeleteParams::default()).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while pods.get_opt("quick").await.unwrap().is_some() {
        assert!(tokio::time::Instant::now() < deadline, "the pod was never deleted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_profile_document_overrides_an_image_and_annotations_override_the_profile() {
    let clock = virtual_clock();
    let profiles = bosun_controllers::node::profiles::Profiles::default()
        .with_document("images:\n  example/slow:\n    startSeconds: 8\n", "test")
        .unwrap();
    let node = bosun_controllers::node::NodeConfig { profiles, ..Default::default() };
    let cluster =
        bosun::Cluster::builder().temporary().clock(Arc::new(clock.clone())).node(node).start().await.unwrap();
    let pods: Api<Pod> = Api::default_namespaced(cluster.kube_client());
    let probe = json!({"readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 5}});
    let mut slow = pod("slow", "example/slow:1", json!({}));
    slow.spec.as_mut().unwrap().containers[0].readiness_probe =
        serde_json::from_value(probe["readinessProbe"].clone()).unwrap();
    let mut faster = slow.clone();
    faster.metadata.name = Some("faster".into());
    faster.metadata.annotations = Some([("sim.bosun.dev/start-seconds".to_string(), "3".to_string())].into());
    pods.create(&PostParams::default(), &slow).await.unwrap();
    pods.create(&PostParams::default(), &faster).await.unwrap();
    wait_pod(&pods, "slow", "running", |p| p["status"]["phase"] == "Running").await;
    wait_pod(&pods, "faster", "running", |p| p["status"]["phase"] == "Running").await;
    clock.advance(Duration::from_secs(60));
    // Probes at +0, +5, +10: the app listening from +8 answers the one at +10; from +3, at +5.
    let slow = wait_pod(&pods, "slow", "ready", is_ready).await;
    assert_eq!(condition(&slow, "Ready")["lastTransitionTime"], t(10));
    let faster = wait_pod(&pods, "faster", "ready", is_ready).await;
    assert_eq!(condition(&faster, "Ready")["lastTransitionTime"], t(5));
}

/// The API without controllers: nothing binds, so the rules can be checked one by one.
#[tokio::test]
async fn binding_sets_the_node_once_and_bound_pods_are_deleted_gracefully() {
    let clock = virtual_clock();
    let cluster =
        bosun::Cluster::builder().temporary().clock(Arc::new(clock.clone())).controllers(false).start().await.unwrap();
    let api = cluster.api();
    let pods_rt = bosun_api::registry::find("", "v1", "pods").unwrap();
    let pods: Api<Pod> = Api::default_namespaced(cluster.kube_client());
    for name in ["bound", "unbound", "forced"] {
        pods.create(
            &PostParams::default(),
            &pod(name, "nginx", json!({"spec": {"terminationGracePeriodSeconds": 45}})),
        )
        .await
        .unwrap();
    }
    let binding = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
            "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}})
    };
    let status = api.bind_pod("default", Some("bound"), binding("bound")).await.unwrap();
    assert_eq!(status.code, 201);
    api.bind_pod("default", None, binding("forced")).await.unwrap();
    let again = api.bind_pod("default", Some("bound"), binding("bound")).await.unwrap_err();
    assert_eq!(again.code, 409);
    assert!(again.message.contains("is already assigned to node \"n1\""), "{}", again.message);
    assert_eq!(api.bind_pod("default", Some("other"), binding("bound")).await.unwrap_err().code, 400);
    let bound = serde_json::to_value(pods.get("bound").await.unwrap()).unwrap();
    assert_eq!(bound["spec"]["nodeName"], "n1");
    assert_eq!(condition(&bound, "PodScheduled")["status"], "True");

    // Unbound: deleted at once. Bound: marked with the pod's grace period, and stays.
    pods.delete("unbound", &DeleteParams::default()).await.unwrap();
    assert!(pods.get_opt("unbound").await.unwrap().is_none());
    pods.delete("bound", &DeleteParams::default()).await.unwrap();
    let marked = serde_json::to_value(pods.get("bound").await.unwrap()).unwrap();
    assert_eq!(marked["metadata"]["deletionGracePeriodSeconds"], 45);
    assert_eq!(marked["metadata"]["deletionTimestamp"], t(45));
    assert_eq!(api.bind_pod("default", Some("bound"), binding("bound")).await.unwrap_err().code, 409);
    // A longer grace period changes nothing; a shorter one moves the deadline.
    pods.delete("bound", &DeleteParams { grace_period_seconds: Some(60), ..Default::default() }).await.unwrap();
    pods.delete("bound", &DeleteParams { grace_period_seconds: Some(10), ..Default::default() }).await.unwrap();
    let shortened = serde_json::to_value(pods.get("bound").await.unwrap()).unwrap();
    assert_eq!(shortened["metadata"]["deletionGracePeriodSeconds"], 10);
    assert_eq!(shortened["metadata"]["deletionTimestamp"], t(10));
    // Grace 0 (the kubelet's last word, or --force) removes it, with a uid precondition.
    let wrong_uid = DeleteOptions {
        precondition_uid: Some("not-the-uid".into()),
        grace_period_seconds: Some(0),
        ..DeleteOptions::default()
    };
    assert_eq!(api.delete(pods_rt, "default", "bound", &wrong_uid).await.unwrap_err().code, 409);
    pods.delete("bound", &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await.unwrap();
    assert!(pods.get_opt("bound").await.unwrap().is_none());
    // A bound pod deleted with grace 0 goes at once.
    pods.delete("forced", &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await.unwrap();
    assert!(pods.get_opt("forced").await.unwrap().is_none());
}
