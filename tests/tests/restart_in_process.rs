//! A library user restarts a cluster on the same data directory inside one process: the
//! controllers of the first must let the store go, and the second finds the rollout's state.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, PostParams};
use serde_json::json;

async fn rolled_out(deployments: &Api<Deployment>, name: &str) -> Deployment {
    for _ in 0..600 {
        let d = deployments.get(name).await.unwrap();
        let status = d.status.clone().unwrap_or_default();
        if status.observed_generation == d.metadata.generation
            && status.available_replicas == Some(2)
            && status.updated_replicas == Some(2)
            && status.replicas == Some(2)
        {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name} did not roll out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_restarted_in_process_keeps_its_deployments_and_goes_on_rolling_out() {
    let dir = tempfile::tempdir().unwrap();
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "luksa/kubia:v1"}]}}
        }
    }))
    .unwrap();
    {
        let cluster = bosun::Cluster::builder().data_dir(dir.path()).start().await.expect("first start");
        let deployments: Api<Deployment> = Api::default_namespaced(cluster.kube_client());
        deployments.create(&PostParams::default(), &deployment).await.unwrap();
        rolled_out(&deployments, "web").await;
        cluster.shutdown().unwrap();
    }
    let cluster = bosun::Cluster::builder().data_dir(dir.path()).start().await.expect("a restart in the same process");
    let deployments: Api<Deployment> = Api::default_namespaced(cluster.kube_client());
    let d = rolled_out(&deployments, "web").await;
    assert_eq!(d.metadata.annotations.unwrap()["deployment.kubernetes.io/revision"], "1");
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "luksa/kubia:v2"}]}}}});
    deployments.patch("web", &Default::default(), &kube::api::Patch::Strategic(patch)).await.unwrap();
    let d = rolled_out(&deployments, "web").await;
    assert_eq!(d.metadata.annotations.unwrap()["deployment.kubernetes.io/revision"], "2");
    cluster.shutdown().unwrap();
}
