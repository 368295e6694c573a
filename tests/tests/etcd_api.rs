//! Bosun's API on the etcd store: kube-rs clients against two API servers (each an `Api` with its
//! own etcd connection, served in-process) over one etcd, as a deployment that outgrows one
//! machine runs them; and the controllers rolling out a Deployment with etcd underneath.
//! Built with `--features etcd`; each test starts its own etcd (`.tools/bin/etcd`).
#![cfg(feature = "etcd")]

use std::sync::Arc;
use std::time::Duration;

use bosun_store::{LocalEtcd, SharedStorage};
use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

/// One API server: the API over its own connection to `etcd`, and a kube-rs client on its router.
struct ApiServer {
    api: bosun_api::api::Api,
    client: kube::Client,
    /// Dropping it would end the router's watches.
    _shutdown: bosun_http::ShutdownHandle,
}

async fn api_server(etcd: &LocalEtcd) -> ApiServer {
    let store = etcd.store(Arc::new(bosun_api::meta::restamp)).await.expect("connect to etcd");
    let shared: SharedStorage = Arc::new(store);
    let api = bosun_api::api::Api::on_shared(shared, Arc::new(bosun_api::clock::SystemClock));
    let (router, shutdown) = bosun_http::router(api.clone(), bosun_http::HttpConfig::default());
    ApiServer { api, client: kube::Client::new(router, "default"), _shutdown: shutdown }
}

fn configmap(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"key": value}})).unwrap()
}

/// A Deployment `web` of nginx pods labelled `app=web`.
fn web_deployment(replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}},
        },
    }))
    .unwrap()
}

fn resource_version<K: kube::Resource>(object: &K) -> u64 {
    object.meta().resource_version.as_deref().expect("a resourceVersion").parse().expect("numeric")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_api_servers_over_one_etcd_serve_the_same_objects_revisions_and_watches() {
    let etcd = LocalEtcd::start(&LocalEtcd::project_binary().unwrap(), false).expect("start etcd");
    let a = api_server(&etcd).await;
    let b = api_server(&etcd).await;
    a.api.bootstrap(6443).await.expect("bootstrap");
    let on_a: Api<ConfigMap> = Api::namespaced(a.client.clone(), "default");
    let on_b: Api<ConfigMap> = Api::namespaced(b.client.clone(), "default");

    let created = on_a.create(&PostParams::default(), &configmap("shared", "one")).await.unwrap();
    let read = on_b.get("shared").await.unwrap();
    assert_eq!(read.metadata.uid, created.metadata.uid);
    assert_eq!(resource_version(&read), resource_version(&created), "the resourceVersion is etcd's revision");

    // A watch on B sees the writes made through A, with their revisions.
    let list = on_b.list(&ListParams::default()).await.unwrap();
    let from = list.metadata.resource_version.clone().unwrap();
    let mut events = on_b.watch(&WatchParams::default(), &from).await.unwrap().boxed();
    let mut changed = created.clone();
    changed.data = Some([("key".to_string(), "two".to_string())].into());
    let updated = on_a.replace("shared", &PostParams::default(), &changed).await.unwrap();
    assert!(resource_version(&updated) > resource_version(&created));
    on_a.delete("shared", &DeleteParams::default()).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let event = tokio::time::timeout(Duration::from_secs(10), events.try_next()).await.unwrap().unwrap().unwrap();
        match event {
            WatchEvent::Modified(cm) => seen.push(("MODIFIED", resource_version(&cm), cm.data)),
            WatchEvent::Deleted(cm) => seen.push(("DELETED", resource_version(&cm), cm.data)),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen[0].0, "MODIFIED");
    assert_eq!(seen[0].1, resource_version(&updated));
    assert_eq!(seen[0].2.as_ref().unwrap()["key"], "two");
    assert_eq!(seen[1].0, "DELETED");
    assert!(seen[1].1 > seen[0].1, "a DELETED event carries the delete's revision");

    // Optimistic concurrency holds across the servers: B's stale write loses.
    let fresh = on_a.create(&PostParams::default(), &configmap("contended", "a")).await.unwrap();
    on_a.replace("contended", &PostParams::default(), &configmap_at(&fresh, "a2")).await.unwrap();
    let stale = on_b.replace("contended", &PostParams::default(), &configmap_at(&fresh, "b")).await;
    match stale {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 409, "{status:?}"),
        other => panic!("expected 409 Conflict, got {other:?}"),
    }

    // A list started on A continues on B: one snapshot, one token format.
    for i in 0..5 {
        on_a.create(&PostParams::default(), &configmap(&format!("page-{i}"), "v")).await.unwrap();
    }
    let first = on_a.list(&ListParams::default().limit(2)).await.unwrap();
    let token = first.metadata.continue_.clone().expect("more pages");
    on_a.create(&PostParams::default(), &configmap("page-9", "late")).await.unwrap();
    let rest = on_b.list(&ListParams::default().limit(100).continue_token(&token)).await.unwrap();
    assert_eq!(rest.metadata.resource_version, first.metadata.resource_version);
    let names: Vec<_> = first.items.iter().chain(&rest.items).filter_map(|cm| cm.metadata.name.clone()).collect();
    assert_eq!(
        names,
        ["contended", "page-0", "page-1", "page-2", "page-3", "page-4"],
        "page-9 came after the snapshot"
    );
}

fn configmap_at(base: &ConfigMap, value: &str) -> ConfigMap {
    let mut next = base.clone();
    next.data = Some([("key".to_string(), value.to_string())].into());
    next
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_from_a_compacted_revision_is_410_gone() {
    let etcd = LocalEtcd::start(&LocalEtcd::project_binary().unwrap(), false).expect("start etcd");
    let server = api_server(&etcd).await;
    server.api.bootstrap(6443).await.expect("bootstrap");
    let configmaps: Api<ConfigMap> = Api::namespaced(server.client.clone(), "default");
    let old = configmaps.create(&PostParams::default(), &configmap("old", "v")).await.unwrap();
    configmaps.create(&PostParams::default(), &configmap("new", "v")).await.unwrap();
    let store = server.api.store();
    let head = store.current_revision().await.unwrap();
    store.compact(head).await.unwrap();
    let mut events =
        configmaps.watch(&WatchParams::default(), &resource_version(&old).to_string()).await.unwrap().boxed();
    match tokio::time::timeout(Duration::from_secs(10), events.next()).await.unwrap() {
        Some(Ok(WatchEvent::Error(status))) => assert_eq!((status.code, status.reason.as_str()), (410, "Expired")),
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_controllers_roll_out_a_deployment_on_etcd() {
    let etcd = LocalEtcd::start(&LocalEtcd::project_binary().unwrap(), false).expect("start etcd");
    let server = api_server(&etcd).await;
    server.api.bootstrap(6443).await.expect("bootstrap");
    bosun_controllers::start(&server.api, bosun_controllers::ControllerConfig::default());
    let deployments: Api<Deployment> = Api::namespaced(server.client.clone(), "default");
    deployments.create(&PostParams::default(), &web_deployment(2)).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = deployments.get("web").await.unwrap().status.unwrap_or_default();
        if status.available_replicas == Some(2) && status.updated_replicas == Some(2) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not rolled out in time: {status:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pods: Api<Pod> = Api::namespaced(server.client.clone(), "default");
    let running = pods.list(&ListParams::default().labels("app=web")).await.unwrap();
    assert_eq!(running.items.len(), 2);
    assert!(running.items.iter().all(|pod| pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")));
    server.api.store().close().unwrap();
}

/// Leader election on a test's time scale: a dead holder's Lease is taken after 3 s; the renew
/// deadline leaves a loaded machine 2.5 s to renew.
fn quick_election(identity: &str) -> bosun_controllers::election::ElectionConfig {
    bosun_controllers::election::ElectionConfig {
        lease_duration: Duration::from_secs(3),
        renew_deadline: Duration::from_millis(2500),
        retry_period: Duration::from_millis(200),
        ..bosun_controllers::election::ElectionConfig::new(identity)
    }
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_runs_the_controllers_and_another_takes_over_when_it_dies() {
    use k8s_openapi::api::coordination::v1::Lease;
    let etcd = LocalEtcd::start(&LocalEtcd::project_binary().unwrap(), false).expect("start etcd");
    let a = api_server(&etcd).await;
    let b = api_server(&etcd).await;
    a.api.bootstrap(6443).await.expect("bootstrap");
    let config = bosun_controllers::ControllerConfig::default();
    let elected_a = bosun_controllers::start_elected(&a.api, config.clone(), quick_election("server-a"));
    let leases: Api<Lease> = Api::namespaced(b.client.clone(), "kube-system");
    wait_for("server a to hold the lease", async || {
        leases
            .get_opt("bosun-controllers")
            .await
            .unwrap()
            .is_some_and(|lease| lease.spec.unwrap_or_default().holder_identity.as_deref() == Some("server-a"))
    })
    .await;
    let _elected_b = bosun_controllers::start_elected(&b.api, config, quick_election("server-b"));

    // Two servers campaigning, one set of controllers: exactly the replicas asked for.
    let deployments: Api<Deployment> = Api::namespaced(b.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(b.client.clone(), "default");
    deployments.create(&PostParams::default(), &web_deployment(3)).await.unwrap();
    let available = async |wanted: i32| {
        let status = deployments.get("web").await.unwrap().status.unwrap_or_default();
        status.available_replicas == Some(wanted) && status.updated_replicas == Some(wanted)
    };
    wait_for("3 available replicas", async || available(3).await).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(pods.list(&ListParams::default().labels("app=web")).await.unwrap().items.len(), 3);
    let lease = leases.get("bosun-controllers").await.unwrap().spec.unwrap();
    assert_eq!((lease.holder_identity.as_deref(), lease.lease_transitions), (Some("server-a"), Some(0)));

    // Server a dies (its store closes): b takes the lease and its controllers carry on.
    a.api.store().close().unwrap();
    assert_eq!(elected_a.await.unwrap(), bosun_controllers::election::ElectionEnd::StoreClosed);
    wait_for("server b to take the lease", async || {
        let spec = leases.get("bosun-controllers").await.unwrap().spec.unwrap_or_default();
        spec.holder_identity.as_deref() == Some("server-b")
    })
    .await;
    assert_eq!(leases.get("bosun-controllers").await.unwrap().spec.unwrap().lease_transitions, Some(1));
    let scale = json!({"spec": {"replicas": 4}});
    deployments.patch("web", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&scale)).await.unwrap();
    wait_for("4 available replicas", async || available(4).await).await;
    b.api.store().close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_etcd_that_requires_client_certificates_is_reached_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let pki = bosun_store::LocalPki::generate(dir.path()).expect("make a PKI");
    let etcd = LocalEtcd::start_with(&LocalEtcd::project_binary().unwrap(), false, Some(pki.server.clone()))
        .expect("start etcd over TLS");
    assert!(etcd.endpoint().starts_with("https://"));
    let options = |tls: Option<bosun_store::EtcdTls>| {
        let mut options =
            bosun_store::EtcdOptions::new(vec![etcd.endpoint().to_string()], Arc::new(bosun_api::meta::restamp));
        options.tls = tls;
        options
    };
    let trusted = bosun_store::EtcdTls::from_files(&pki.ca_file, Some((&pki.client_cert_file, &pki.client_key_file)))
        .expect("read the PKI");
    let store = etcd.connect(|_| options(Some(trusted.clone()))).await.expect("connect over TLS");

    // Without a client certificate, etcd refuses the connection.
    let anonymous = bosun_store::EtcdTls::from_files(&pki.ca_file, None).unwrap();
    assert!(bosun_store::EtcdStore::connect(options(Some(anonymous))).await.is_err());
    // Without TLS at all, too.
    assert!(bosun_store::EtcdStore::connect(options(None)).await.is_err());

    let api = bosun_api::api::Api::on_shared(Arc::new(store), Arc::new(bosun_api::clock::SystemClock));
    api.bootstrap(6443).await.expect("bootstrap over TLS");
    let (router, _shutdown) = bosun_http::router(api.clone(), bosun_http::HttpConfig::default());
    let configmaps: Api<ConfigMap> = Api::namespaced(kube::Client::new(router, "default"), "default");
    configmaps.create(&PostParams::default(), &configmap("secure", "yes")).await.unwrap();
    assert_eq!(configmaps.get("secure").await.unwrap().data.unwrap()["key"], "yes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_checks_etcd_and_fails_while_it_is_gone() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let etcd = LocalEtcd::start(&LocalEtcd::project_binary().unwrap(), false).expect("start etcd");
    let store = etcd.store(Arc::new(bosun_api::meta::restamp)).await.expect("connect to etcd");
    let api = bosun_api::api::Api::on_shared(Arc::new(store), Arc::new(bosun_api::clock::SystemClock));
    let (router, _shutdown) = bosun_http::router(api, bosun_http::HttpConfig::default());
    let readyz = async |router: &axum::Router| {
        let request = http::Request::builder().uri("/readyz?verbose").body(axum::body::Body::empty()).unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    };
    assert_eq!(readyz(&router).await, (200, "[+]ping ok\n[+]etcd ok\nreadyz check passed\n".to_string()));
    drop(etcd);
    let (status, body) = readyz(&router).await;
    assert_eq!(status, 500);
    assert!(body.contains("[-]etcd failed"), "{body}");
}
