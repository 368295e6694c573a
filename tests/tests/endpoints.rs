//! Endpoints and EndpointSlices through kube-rs, in-process, with the node agent running the
//! pods: a Service lists exactly its ready pods (unready ones apart), resolves named target
//! ports, follows a switch of its selector (blue-green), and leaves selectorless Services alone.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bosun_api::clock::VirtualClock;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const WAIT_MAX: Duration = Duration::from_secs(20);

async fn cluster() -> bosun::Cluster {
    let clock = VirtualClock::starting_at(UNIX_EPOCH + Duration::from_secs(1_750_000_000));
    bosun::Cluster::builder().temporary().clock(Arc::new(clock)).start().await.expect("start a cluster")
}

fn pod(name: &str, color: &str, annotations: Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "kubia", "color": color}, "annotations": annotations},
        "spec": {"containers": [{"name": "nodejs", "image": "luksa/kubia:v1",
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1}}]},
    }))
    .unwrap()
}

/// Waits until `check` holds for the value `read` returns; returns it then.
async fn wait_for<T: std::fmt::Debug, F: std::future::Future<Output = T>>(
    what: &str,
    read: impl Fn() -> F,
    check: impl Fn(&T) -> bool,
) -> T {
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    loop {
        let value = read().await;
        if check(&value) {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "never {what}; last seen {value:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn pod_ip(pods: &Api<Pod>, name: &str) -> String {
    let pod = wait_for(
        &format!("{name} has an IP"),
        || async { pods.get(name).await.unwrap() },
        |p| p.status.as_ref().and_then(|s| s.pod_ip.as_ref()).is_some(),
    )
    .await;
    pod.status.unwrap().pod_ip.unwrap()
}

/// (ready IPs, not-ready IPs, ports) of an Endpoints object.
fn addresses(endpoints: &Option<Endpoints>) -> (Vec<String>, Vec<String>, Vec<i32>) {
    let mut ready = Vec::new();
    let mut unready = Vec::new();
    let mut ports = Vec::new();
    for subset in endpoints.as_ref().and_then(|e| e.subsets.clone()).unwrap_or_default() {
        ready.extend(subset.addresses.unwrap_or_default().into_iter().map(|a| a.ip));
        unready.extend(subset.not_ready_addresses.unwrap_or_default().into_iter().map(|a| a.ip));
        ports.extend(subset.ports.unwrap_or_default().into_iter().map(|p| p.port));
    }
    ready.sort();
    unready.sort();
    (ready, unready, ports)
}

#[tokio::test]
async fn a_services_endpoints_list_its_ready_pods_and_follow_a_selector_switch() {
    let cluster = cluster().await;
    let client = cluster.kube_client();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let services: Api<Service> = Api::default_namespaced(client.clone());
    let endpoints: Api<Endpoints> = Api::default_namespaced(client.clone());
    let slices: Api<EndpointSlice> = Api::default_namespaced(client.clone());

    for (name, color) in [("blue-1", "blue"), ("blue-2", "blue"), ("green-1", "green")] {
        pods.create(&PostParams::default(), &pod(name, color, json!({}))).await.unwrap();
    }
    let unready = pod("blue-broken", "blue", json!({"sim.bosun.dev/never-ready": "true"}));
    pods.create(&PostParams::default(), &unready).await.unwrap();
    let mut blue = vec![pod_ip(&pods, "blue-1").await, pod_ip(&pods, "blue-2").await];
    blue.sort();
    let green = vec![pod_ip(&pods, "green-1").await];
    let broken = vec![pod_ip(&pods, "blue-broken").await];

    let service: Service = serde_json::from_value(json!({
        "metadata": {"name": "kubia", "labels": {"tier": "web"}},
        "spec": {"selector": {"app": "kubia", "color": "blue"},
            "ports": [{"name": "web", "port": 80, "targetPort": "http"}]},
    }))
    .unwrap();
    let service = services.create(&PostParams::default(), &service).await.unwrap();
    let current = wait_for(
        "the blue pods are the endpoints",
        || async { endpoints.get_opt("kubia").await.unwrap() },
        |e| addresses(e) == (blue.clone(), broken.clone(), vec![8080]),
    )
    .await
    .unwrap();
    let subset = &current.subsets.unwrap()[0];
    let address = &subset.addresses.as_ref().unwrap()[0];
    assert_eq!(address.node_name.as_deref(), Some("bosun-node"));
    let target = address.target_ref.as_ref().unwrap();
    assert_eq!((target.kind.as_deref(), target.namespace.as_deref()), (Some("Pod"), Some("default")));
    assert_eq!(subset.ports.as_ref().unwrap()[0].name.as_deref(), Some("web"));
    assert_eq!(current.metadata.labels.unwrap()["tier"], "web");

    let by_service = ListParams::default().labels("kubernetes.io/service-name=kubia");
    let slice = wait_for(
        "one slice lists the blue pods",
        || async { slices.list(&by_service).await.unwrap().items },
        |items| items.len() == 1 && items[0].endpoints.len() == 3,
    )
    .await
    .remove(0);
    assert!(slice.metadata.name.as_deref().unwrap().starts_with("kubia-"));
    assert_eq!(slice.address_type, "IPv4");
    let labels = slice.metadata.labels.unwrap();
    assert_eq!(labels["endpointslice.kubernetes.io/managed-by"], "endpointslice-controller.k8s.io");
    let owner = &slice.metadata.owner_references.unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
        ("Service", service.metadata.uid.as_deref().unwrap(), Some(true))
    );
    assert_eq!(slice.ports.unwrap()[0].port, Some(8080));
    let broken_endpoint = slice.endpoints.iter().find(|e| e.addresses == broken).unwrap();
    let conditions = broken_endpoint.conditions.as_ref().unwrap();
    assert_eq!((conditions.ready, conditions.terminating), (Some(false), Some(false)));
    assert_eq!(broken_endpoint.node_name.as_deref(), Some("bosun-node"));

    // Blue-green: the selector moves to green, and so do the endpoints.
    let switch = json!({"spec": {"selector": {"color": "green"}}});
    services.patch("kubia", &PatchParams::default(), &Patch::Merge(&switch)).await.unwrap();
    wait_for(
        "the green pod is the endpoint",
        || async { endpoints.get_opt("kubia").await.unwrap() },
        |e| addresses(e) == (green.clone(), vec![], vec![8080]),
    )
    .await;
    wait_for(
        "the slice follows",
        || async { slices.list(&by_service).await.unwrap().items },
        |items| {
            items.len() == 1
                && items[0].endpoints.iter().map(|e| e.addresses.clone()).collect::<Vec<_>>() == vec![green.clone()]
        },
    )
    .await;

    // A deleted pod leaves; a deleted Service takes its Endpoints with it.
    pods.delete("green-1", &Default::default()).await.unwrap();
    wait_for(
        "no endpoints are left",
        || async { endpoints.get_opt("kubia").await.unwrap() },
        |e| addresses(e) == (vec![], vec![], vec![]),
    )
    .await;
    services.delete("kubia", &Default::default()).await.unwrap();
    wait_for("the Endpoints is gone", || async { endpoints.get_opt("kubia").await.unwrap() }, Option::is_none).await;
}

#[tokio::test]
async fn a_service_without_a_selector_keeps_the_endpoints_its_user_wrote() {
    let cluster = cluster().await;
    let client = cluster.kube_client();
    let services: Api<Service> = Api::default_namespaced(client.clone());
    let endpoints: Api<Endpoints> = Api::default_namespaced(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let service: Service =
        serde_json::from_value(json!({"metadata": {"name": "external"}, "spec": {"ports": [{"port": 5432}]}})).unwrap();
    services.create(&PostParams::default(), &service).await.unwrap();
    let manual: Endpoints = serde_json::from_value(json!({"metadata": {"name": "external"},
        "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 5432}]}]}))
    .unwrap();
    endpoints.create(&PostParams::default(), &manual).await.unwrap();
    pods.create(&PostParams::default(), &pod("p", "blue", json!({}))).await.unwrap();
    pod_ip(&pods, "p").await;
    // The controller has had every chance to act: the pod is running.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let kept = endpoints.get("external").await.unwrap();
    assert_eq!(addresses(&Some(kept)), (vec!["192.0.2.10".to_string()], vec![], vec![5432]));
}
