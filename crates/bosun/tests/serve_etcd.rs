//! Real kubectl against `bosun serve --etcd-endpoints`: two servers over one etcd serve one
//! cluster, the controllers on the one holding their Lease; the other takes over when it dies;
//! the objects outlive both servers. Built with `--features etcd`; starts its own etcd
//! (`.tools/bin/etcd`).
#![cfg(feature = "etcd")]

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use bosun_store::LocalEtcd;
use support::{KUBIA_V1, Server};

/// An etcd of this test's own, once it answers.
fn etcd() -> LocalEtcd {
    let binary = LocalEtcd::project_binary().unwrap();
    let etcd = LocalEtcd::start(&binary, false).expect("start etcd");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(etcd.store(Arc::new(bosun_api::meta::restamp))).expect("etcd answers");
    etcd
}

/// Leader election on a test's time scale, with room for a loaded machine to renew in time.
const QUICK_ELECTION: [&str; 6] = [
    "--leader-elect-lease-duration",
    "4s",
    "--leader-elect-renew-deadline",
    "3s",
    "--leader-elect-retry-period",
    "250ms",
];

fn start_on(endpoint: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--etcd-endpoints", endpoint];
    args.extend_from_slice(&QUICK_ELECTION);
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// The `host:port` of the server holding the controllers' Lease.
fn lease_holder(server: &Server) -> String {
    let holder =
        server.ok(&["get", "lease", "-n", "kube-system", "bosun-controllers", "-o", "jsonpath={.spec.holderIdentity}"]);
    holder.split('_').next().unwrap_or_default().to_string()
}

fn address(server: &Server) -> &str {
    server.url.rsplit('/').next().unwrap()
}

/// Waits (up to a minute) until `asking` reports `holder` (an address) as the Lease's holder.
fn wait_for_holder(asking: &Server, holder: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while lease_holder(asking) != holder {
        assert!(std::time::Instant::now() < deadline, "{holder} never took the lease");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn two_servers_over_one_etcd_serve_one_cluster_that_outlives_them() {
    let etcd = etcd();
    let endpoint = etcd.endpoint().to_string();
    let a = start_on(&endpoint, &[]);
    let b = start_on(&endpoint, &["--controllers=false"]);

    a.ok_stdin(&["apply", "-f", "-"], KUBIA_V1);
    // B has no controllers: the rollout it reports is the one A's controllers make.
    let status = b.ok(&["rollout", "status", "deployment/kubia", "--timeout=120s"]);
    assert!(status.contains("successfully rolled out"), "{status}");
    let pods = b.ok(&["get", "pods", "-l", "app=kubia", "-o", "name"]);
    assert_eq!(pods.lines().count(), 3, "{pods}");
    let version =
        |server: &Server| server.ok(&["get", "deployment", "kubia", "-o", "jsonpath={.metadata.resourceVersion}"]);
    assert_eq!(version(&a), version(&b), "one history: the same resourceVersion through both servers");

    // A write through B, seen through A.
    b.ok(&["label", "deployment", "kubia", "tier=web"]);
    assert_eq!(a.ok(&["get", "deployment", "kubia", "-o", "jsonpath={.metadata.labels.tier}"]), "web");
    // Optimistic concurrency across servers: an update from a stale read loses.
    let stale = a.ok(&["get", "deployment", "kubia", "-o", "json"]);
    b.ok(&["annotate", "deployment", "kubia", "owner=b"]);
    let refused = a.fails_stdin(&["replace", "-f", "-"], &stale);
    assert!(refused.contains("the object has been modified"), "{refused}");

    // Both servers gone: the cluster lives in etcd, and a new server serves it as it was.
    drop(a);
    drop(b);
    let c = start_on(&endpoint, &[]);
    let labels =
        c.ok(&["get", "deployment", "kubia", "-o", "jsonpath={.metadata.labels.tier} {.status.availableReplicas}"]);
    assert_eq!(labels, "web 3");
    assert_eq!(c.ok(&["get", "pods", "-l", "app=kubia", "-o", "name"]).lines().count(), 3);
}

#[test]
fn when_the_controllers_server_dies_another_takes_over_their_lease() {
    let etcd = etcd();
    let endpoint = etcd.endpoint().to_string();
    let first = start_on(&endpoint, &[]);
    let second = start_on(&endpoint, &[]);
    first.ok_stdin(&["apply", "-f", "-"], KUBIA_V1);
    second.ok(&["rollout", "status", "deployment/kubia", "--timeout=120s"]);
    let leader = lease_holder(&second);
    let (mut dead, survivor) = if leader == address(&first) { (first, second) } else { (second, first) };
    assert_eq!(lease_holder(&survivor), address(&dead), "one of the two holds the lease");

    dead.kill_9();
    wait_for_holder(&survivor, address(&survivor));
    // The survivor's controllers carry on: a scale-up rolls out.
    survivor.ok(&["scale", "deployment", "kubia", "--replicas=4"]);
    survivor.ok(&["rollout", "status", "deployment/kubia", "--timeout=120s"]);
    assert_eq!(survivor.ok(&["get", "pods", "-l", "app=kubia", "-o", "name"]).lines().count(), 4);
}

#[test]
fn a_server_stopping_cleanly_hands_the_controllers_lease_over() {
    let etcd = etcd();
    let endpoint = etcd.endpoint().to_string();
    let first = start_on(&endpoint, &[]);
    let second = start_on(&endpoint, &[]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let leader = loop {
        let holder = lease_holder(&first);
        if holder == address(&first) || holder == address(&second) {
            break holder;
        }
        assert!(std::time::Instant::now() < deadline, "nobody took the lease");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let (mut stopping, survivor) = if leader == address(&first) { (first, second) } else { (second, first) };
    assert!(stopping.terminate().success(), "a clean stop");
    // Released on the way out: not still held by the stopped server for a lease duration.
    assert_ne!(lease_holder(&survivor), address(&stopping));
    wait_for_holder(&survivor, address(&survivor));
}

#[test]
fn a_leader_that_cannot_renew_its_lease_exits() {
    let etcd = etcd();
    let endpoint = etcd.endpoint().to_string();
    let mut server = start_on(&endpoint, &[]);
    wait_for_holder(&server, address(&server));
    drop(etcd);
    let status = server.wait_for_exit(std::time::Duration::from_secs(60)).expect("the server exits");
    assert!(!status.success(), "it exits with an error, for a supervisor to restart it");
}

#[test]
fn a_malformed_etcd_endpoint_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    for (endpoint, expected) in [
        ("127.0.0.1:2379", "is not a URL: write http://host:port or https://host:port"),
        ("https://127.0.0.1:2379", "is https:// but no CA was given (--etcd-cafile)"),
    ] {
        // --etcd-wait is long: the refusal must not wait for it.
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_bosun"))
            .args(["serve", "--listen", "127.0.0.1:0", "--etcd-endpoints", endpoint, "--etcd-wait", "600s"])
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .expect("run bosun serve");
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
}

#[test]
fn a_server_with_an_unreachable_etcd_says_so_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bosun"))
        .args(["serve", "--listen", "127.0.0.1:0", "--etcd-endpoints", "http://127.0.0.1:1", "--etcd-wait", "1s"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .expect("run bosun serve");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("could not open the store on etcd at http://127.0.0.1:1"), "{stderr}");
}

#[test]
fn a_server_reaches_an_etcd_over_tls_with_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = bosun_store::LocalPki::generate(dir.path()).expect("make a PKI");
    let binary = LocalEtcd::project_binary().unwrap();
    let etcd = LocalEtcd::start_with(&binary, false, Some(pki.server.clone())).expect("start etcd over TLS");
    let files = [&pki.ca_file, &pki.client_cert_file, &pki.client_key_file].map(|path| path.to_str().unwrap());
    let server = Server::start(&[
        "--etcd-endpoints",
        etcd.endpoint(),
        "--etcd-cafile",
        files[0],
        "--etcd-certfile",
        files[1],
        "--etcd-keyfile",
        files[2],
    ]);
    server.ok_stdin(&["apply", "-f", "-"], KUBIA_V1);
    server.ok(&["rollout", "status", "deployment/kubia", "--timeout=120s"]);
    assert_eq!(server.ok(&["get", "pods", "-l", "app=kubia", "-o", "name"]).lines().count(), 3);
}

#[test]
fn the_python_client_works_against_a_server_on_etcd() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join(".tools/venv/bin/python");
    assert!(python.exists(), "the Python client is missing: run `bash scripts/fetch-tools.sh` first");
    let etcd = etcd();
    let server = start_on(etcd.endpoint(), &[]);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/client_check.py");
    let output = std::process::Command::new(python).arg(script).arg(&server.kubeconfig).output().expect("run python");
    assert!(
        output.status.success(),
        "the Python client check failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
