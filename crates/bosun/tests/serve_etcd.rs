//! Real kubectl against `bosun serve --etcd-endpoints`: two servers over one etcd serve one
//! cluster (the controllers on one of them), and the objects outlive both servers. Built with
//! `--features etcd`; starts its own etcd (`.tools/bin/etcd`).
#![cfg(feature = "etcd")]

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use bosun_store::LocalEtcd;
use support::{KUBIA_V1, Server};

/// An etcd of this test's own, once it answers.
fn etcd() -> LocalEtcd {
    let binary = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/bin/etcd");
    assert!(binary.exists(), "etcd not found at {}: run scripts/fetch-etcd.sh", binary.display());
    let etcd = LocalEtcd::start(&binary, false).expect("start etcd");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(etcd.store(Arc::new(bosun_api::meta::restamp))).expect("etcd answers");
    etcd
}

#[test]
fn two_servers_over_one_etcd_serve_one_cluster_that_outlives_them() {
    let etcd = etcd();
    let endpoint = etcd.endpoint().to_string();
    let a = Server::start(&["--etcd-endpoints", &endpoint]);
    let b = Server::start(&["--etcd-endpoints", &endpoint, "--controllers=false"]);

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
    let c = Server::start(&["--etcd-endpoints", &endpoint]);
    let labels =
        c.ok(&["get", "deployment", "kubia", "-o", "jsonpath={.metadata.labels.tier} {.status.availableReplicas}"]);
    assert_eq!(labels, "web 3");
    assert_eq!(c.ok(&["get", "pods", "-l", "app=kubia", "-o", "name"]).lines().count(), 3);
}

#[test]
fn a_server_with_an_unreachable_etcd_says_so_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bosun"))
        .args(["serve", "--listen", "127.0.0.1:0", "--etcd-endpoints", "http://127.0.0.1:1", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("run bosun serve");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("could not open the store on etcd at http://127.0.0.1:1"), "{stderr}");
}
