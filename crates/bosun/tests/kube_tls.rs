//! kube-rs 5 over TLS against `bosun serve`, configured from the kubeconfig Bosun writes; and a
//! watch that resumes from its last resourceVersion across a restart of Bosun, without a
//! re-list.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher;
use serde_json::json;
use support::Server;

async fn client(server: &Server) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(&server.kubeconfig).expect("read the kubeconfig Bosun wrote");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.unwrap();
    kube::Client::try_from(config).expect("a TLS client trusting Bosun's CA")
}

fn configmap(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"a": "b"}})).unwrap()
}

#[tokio::test]
async fn typed_and_dynamic_objects_work_over_tls_with_the_kubeconfig_token() {
    let server = Server::start(&[]);
    let client = client(&server).await;
    let configmaps: Api<ConfigMap> = Api::default_namespaced(client.clone());
    configmaps.create(&PostParams::default(), &configmap("over-tls")).await.unwrap();
    assert_eq!(configmaps.get("over-tls").await.unwrap().data.unwrap()["a"], "b");

    let resource = kube::discovery::ApiResource::erase::<ConfigMap>(&());
    let dynamic: Api<DynamicObject> = Api::default_namespaced_with(client, &resource);
    let listed = dynamic.list(&ListParams::default()).await.unwrap();
    assert!(listed.items.iter().any(|o| o.metadata.name.as_deref() == Some("over-tls")));
    assert_eq!(listed.items[0].data["data"]["a"], "b");
}

#[tokio::test]
async fn a_watcher_resumes_after_a_restart_without_relisting() {
    let server = Server::start(&[]);
    let port = server.url.rsplit(':').next().unwrap().to_string();
    let client = client(&server).await;
    let configmaps: Api<ConfigMap> = Api::default_namespaced(client);
    configmaps.create(&PostParams::default(), &configmap("before")).await.unwrap();

    let mut events = watcher(configmaps.clone(), watcher::Config::default()).default_backoff().boxed();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), events.next()).await.unwrap().unwrap().unwrap();
        if matches!(event, watcher::Event::InitDone) {
            break;
        }
    }

    // kill -9, then the same data directory on the same port: the client keeps its connection
    // settings, and its watch comes back from the last resourceVersion it saw.
    let data_dir = server.kill_9_keeping_data();
    let listen = format!("127.0.0.1:{port}");
    let server = Server::start_in(data_dir, &["--listen", &listen]);
    configmaps.create(&PostParams::default(), &configmap("after")).await.unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let event = tokio::time::timeout(left, events.next()).await.expect("the watch did not resume").unwrap();
        match event {
            Ok(watcher::Event::Apply(cm)) if cm.metadata.name.as_deref() == Some("after") => break,
            Ok(watcher::Event::Init | watcher::Event::InitApply(_) | watcher::Event::InitDone) => {
                panic!("the watcher re-listed instead of resuming")
            }
            // Connection errors while the server was down; the watcher retries with backoff.
            Ok(_) | Err(_) => {}
        }
    }
    drop(server);
}
