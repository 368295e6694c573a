//! kube-rs against Bosun in-process: a resource served in two versions is one set of objects,
//! whichever version a client reads, writes or watches.

use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::autoscaling::{v1 as autoscaling_v1, v2 as autoscaling_v2};
use k8s_openapi::api::core::v1 as core_v1;
use k8s_openapi::api::events::v1 as events_v1;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

async fn cluster() -> bosun::Cluster {
    bosun::Cluster::builder().temporary().start().await.expect("start a temporary cluster")
}

fn hpa_v2(name: &str) -> autoscaling_v2::HorizontalPodAutoscaler {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": 2,
            "maxReplicas": 6,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 55}}}],
        },
    }))
    .unwrap()
}

#[tokio::test]
async fn an_hpa_created_as_v2_reads_as_v1_with_its_cpu_target() {
    let cluster = cluster().await;
    let v2: Api<autoscaling_v2::HorizontalPodAutoscaler> = Api::namespaced(cluster.kube_client(), "default");
    let v1: Api<autoscaling_v1::HorizontalPodAutoscaler> = Api::namespaced(cluster.kube_client(), "default");
    let created = v2.create(&PostParams::default(), &hpa_v2("web")).await.unwrap();
    let read = v1.get("web").await.unwrap();
    assert_eq!(read.spec.as_ref().unwrap().target_cpu_utilization_percentage, Some(55));
    assert_eq!(read.spec.as_ref().unwrap().max_replicas, 6);
    assert_eq!(read.metadata.uid, created.metadata.uid, "one object");
    assert_eq!(read.metadata.resource_version, created.metadata.resource_version, "one resourceVersion");
    let listed = v1.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(listed.metadata.resource_version.is_some());
}

#[tokio::test]
async fn an_hpa_written_as_v1_keeps_its_v2_only_metrics_through_the_annotations() {
    let cluster = cluster().await;
    let v2: Api<autoscaling_v2::HorizontalPodAutoscaler> = Api::namespaced(cluster.kube_client(), "default");
    let v1: Api<autoscaling_v1::HorizontalPodAutoscaler> = Api::namespaced(cluster.kube_client(), "default");
    let mut hpa = hpa_v2("api");
    hpa.spec.as_mut().unwrap().metrics.as_mut().unwrap().insert(
        0,
        serde_json::from_value(json!({
            "type": "Resource",
            "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "200Mi"}},
        }))
        .unwrap(),
    );
    v2.create(&PostParams::default(), &hpa).await.unwrap();

    // A v1 client reads, changes the one field it knows, and replaces the whole object.
    let mut old = v1.get("api").await.unwrap();
    let annotations = old.metadata.annotations.clone().unwrap_or_default();
    assert!(annotations.contains_key("autoscaling.alpha.kubernetes.io/metrics"), "{annotations:?}");
    old.spec.as_mut().unwrap().target_cpu_utilization_percentage = Some(70);
    let replaced = v1.replace("api", &PostParams::default(), &old).await.unwrap();
    assert_eq!(replaced.spec.unwrap().target_cpu_utilization_percentage, Some(70));

    let now = v2.get("api").await.unwrap();
    let metrics = now.spec.unwrap().metrics.unwrap();
    assert_eq!(metrics.len(), 2, "{metrics:?}");
    let memory = metrics[0].resource.as_ref().unwrap();
    assert_eq!(memory.name, "memory");
    assert_eq!(memory.target.average_value.as_ref().unwrap().0, "200Mi");
    assert_eq!(metrics[1].resource.as_ref().unwrap().target.average_utilization, Some(70));
    assert!(
        now.metadata.annotations.unwrap_or_default().keys().all(|k| !k.starts_with("autoscaling.alpha")),
        "v2 keeps no carrier annotations"
    );
}

#[tokio::test]
async fn an_hpa_created_as_v1_reads_as_v2() {
    let cluster = cluster().await;
    let v2: Api<autoscaling_v2::HorizontalPodAutoscaler> = Api::namespaced(cluster.kube_client(), "default");
    let v1: Api<autoscaling_v1::HorizontalPodAutoscaler> = Api::namespaced(cluster.kube_client(), "default");
    let hpa: autoscaling_v1::HorizontalPodAutoscaler = serde_json::from_value(json!({
        "metadata": {"name": "legacy"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "legacy"},
            "maxReplicas": 4,
            "targetCPUUtilizationPercentage": 35,
        },
    }))
    .unwrap();
    v1.create(&PostParams::default(), &hpa).await.unwrap();
    let read = v2.get("legacy").await.unwrap();
    let spec = read.spec.unwrap();
    assert_eq!(spec.min_replicas, Some(1), "defaulted");
    let cpu = spec.metrics.unwrap()[0].resource.clone().unwrap();
    assert_eq!(
        (cpu.name.as_str(), cpu.target.type_.as_str(), cpu.target.average_utilization),
        ("cpu", "Utilization", Some(35))
    );
}

#[tokio::test]
async fn a_v1_watch_sees_a_v2_update() {
    let cluster = cluster().await;
    let v2: Api<autoscaling_v2::HorizontalPodAutoscaler> = Api::namespaced(cluster.kube_client(), "default");
    let v1: Api<autoscaling_v1::HorizontalPodAutoscaler> = Api::namespaced(cluster.kube_client(), "default");
    let created = v2.create(&PostParams::default(), &hpa_v2("watched")).await.unwrap();
    let version = created.metadata.resource_version.clone().unwrap();
    let mut events = v1.watch(&WatchParams::default().timeout(10), &version).await.unwrap().boxed();
    let patch = json!({"spec": {"maxReplicas": 9}});
    let patched = v2.patch("watched", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    match events.try_next().await.unwrap().expect("an event") {
        WatchEvent::Modified(hpa) => {
            assert_eq!(hpa.spec.as_ref().unwrap().max_replicas, 9);
            assert_eq!(hpa.spec.as_ref().unwrap().target_cpu_utilization_percentage, Some(55));
            assert_eq!(hpa.metadata.resource_version, patched.metadata.resource_version);
        }
        other => panic!("expected MODIFIED, got {other:?}"),
    }
}

#[tokio::test]
async fn core_and_events_api_events_are_the_same_objects() {
    let cluster = cluster().await;
    let core: Api<core_v1::Event> = Api::namespaced(cluster.kube_client(), "default");
    let events: Api<events_v1::Event> = Api::namespaced(cluster.kube_client(), "default");
    let written: core_v1::Event = serde_json::from_value(json!({
        "metadata": {"name": "web.1"},
        "involvedObject": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "default"},
        "reason": "ScalingReplicaSet",
        "message": "Scaled up replica set web-5d8 from 0 to 3",
        "type": "Normal",
        "source": {"component": "deployment-controller"},
        "count": 1,
    }))
    .unwrap();
    core.create(&PostParams::default(), &written).await.unwrap();
    let written: events_v1::Event = serde_json::from_value(json!({
        "metadata": {"name": "web.2"},
        "eventTime": "2025-06-01T10:00:00.000000Z",
        "regarding": {"apiVersion": "v1", "kind": "Pod", "name": "web-5d8-x", "namespace": "default"},
        "reason": "Started",
        "note": "Started container nodejs",
        "type": "Normal",
        "action": "Start",
        "reportingController": "bosun-node",
        "reportingInstance": "bosun",
    }))
    .unwrap();
    events.create(&PostParams::default(), &written).await.unwrap();

    let through_events = events.list(&ListParams::default()).await.unwrap().items;
    let scaled = through_events.iter().find(|e| e.metadata.name.as_deref() == Some("web.1")).unwrap();
    assert_eq!(scaled.note.as_deref(), Some("Scaled up replica set web-5d8 from 0 to 3"));
    assert_eq!(scaled.regarding.as_ref().unwrap().kind.as_deref(), Some("Deployment"));
    assert_eq!(scaled.deprecated_source.as_ref().unwrap().component.as_deref(), Some("deployment-controller"));

    let through_core = core.list(&ListParams::default()).await.unwrap().items;
    let started = through_core.iter().find(|e| e.metadata.name.as_deref() == Some("web.2")).unwrap();
    assert_eq!(started.message.as_deref(), Some("Started container nodejs"));
    assert_eq!(started.involved_object.name.as_deref(), Some("web-5d8-x"));
    assert_eq!(started.reporting_component.as_deref(), Some("bosun-node"));

    let pods_only = events.list(&ListParams::default().fields("regarding.kind=Pod")).await.unwrap().items;
    let names: Vec<_> = pods_only.iter().filter_map(|e| e.metadata.name.clone()).collect();
    assert_eq!(names, ["web.2"]);
}
