//! Real kubectl v1.35 against `bosun serve` with the node agent: the node is Ready, pods run
//! 1/1 with an IP on it, a Service's endpoints list the pod, deletion shows Terminating and
//! completes, and `--node-profiles` changes how an image behaves.

mod support;

use std::time::{Duration, Instant};

use support::Server;

/// How long a test waits for a condition (kubectl's own waits use the same bound).
const WAIT_MAX: Duration = Duration::from_secs(30);

/// Runs `kubectl args` until its output satisfies `check`; returns that output.
fn eventually(server: &Server, args: &[&str], check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + WAIT_MAX;
    loop {
        let output = server.kubectl(args);
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        if output.status.success() && check(&stdout) {
            return stdout;
        }
        assert!(Instant::now() < deadline, "kubectl {args:?} never satisfied the check; last output:\n{stdout}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn get_nodes_shows_the_virtual_node_ready() {
    let server = Server::start(&[]);
    server.ok(&["wait", "--for=condition=Ready", "node/bosun-node", "--timeout=30s"]);
    let nodes = server.ok(&["get", "nodes"]);
    let line = nodes.lines().find(|l| l.starts_with("bosun-node")).unwrap_or_else(|| panic!("no node:\n{nodes}"));
    assert!(line.split_whitespace().nth(1) == Some("Ready"), "{nodes}");
    assert!(line.contains("v1.35.0"), "{nodes}");
    let wide = server.ok(&["get", "nodes", "-o", "wide"]);
    assert!(wide.contains("127.0.0.1") && wide.contains("Bosun virtual node"), "{wide}");
}

#[test]
fn a_pod_runs_behind_a_service_and_its_deletion_completes() {
    let server = Server::start(&[]);
    server.ok(&["run", "web", "--image=luksa/kubia:v1", "--port=8080"]);
    server.ok(&["wait", "--for=condition=Ready", "pod/web", "--timeout=30s"]);
    let pods = server.ok(&["get", "pods", "-o", "wide"]);
    let line = pods.lines().find(|l| l.starts_with("web ")).unwrap_or_else(|| panic!("no pod:\n{pods}"));
    let columns: Vec<&str> = line.split_whitespace().collect();
    assert_eq!((columns[1], columns[2]), ("1/1", "Running"), "{pods}");
    assert!(columns[5].starts_with("10.244.") && columns[6] == "bosun-node", "{pods}");
    let ip = columns[5].to_string();

    server.ok(&["expose", "pod", "web", "--port=80", "--target-port=8080"]);
    let endpoints = eventually(&server, &["get", "endpoints", "web"], |out| out.contains(&format!("{ip}:8080")));
    assert!(endpoints.starts_with("NAME"), "{endpoints}");
    let slices = eventually(&server, &["get", "endpointslices", "-l", "kubernetes.io/service-name=web"], |out| {
        out.contains(&ip)
    });
    assert!(slices.contains("IPv4") && slices.contains("8080"), "{slices}");

    // kubectl waits for the pod to be gone: the node agent finishes the graceful deletion.
    let deleted = server.ok(&["delete", "pod", "web", "--timeout=30s"]);
    assert!(deleted.contains("pod \"web\" deleted"), "{deleted}");
    let gone = server.fails(&["get", "pod", "web"]);
    assert!(gone.contains("NotFound") || gone.contains("not found"), "{gone}");
    eventually(&server, &["get", "endpoints", "web"], |out| !out.contains(&ip));
}

#[test]
fn a_pod_that_stops_slowly_shows_terminating_until_it_is_gone() {
    let server = Server::start(&[]);
    server.ok(&["run", "slow", "--image=nginx", "--annotations=sim.bosun.dev/stop-seconds=5"]);
    server.ok(&["wait", "--for=condition=Ready", "pod/slow", "--timeout=30s"]);
    server.ok(&["delete", "pod", "slow", "--wait=false"]);
    let pods = server.ok(&["get", "pods"]);
    assert!(pods.lines().any(|l| l.starts_with("slow ") && l.contains("Terminating")), "{pods}");
    server.ok(&["wait", "--for=delete", "pod/slow", "--timeout=30s"]);
}

#[test]
fn node_profiles_from_a_file_change_how_an_image_behaves() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("profiles.yaml");
    std::fs::write(&profiles, "images:\n  example/broken:\n    neverReady: true\n").unwrap();
    let server = Server::start(&["--node-profiles", profiles.to_str().unwrap()]);
    let pod = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "broken"},
        "spec": {"containers": [{"name": "app", "image": "example/broken:1",
            "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1}}]}}"#;
    server.ok_stdin(&["create", "-f", "-"], pod);
    let pods = eventually(&server, &["get", "pod", "broken"], |out| out.contains("Running"));
    assert!(pods.contains("0/1"), "never ready:\n{pods}");

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "images:\n  x:\n    startSecond: 1\n").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bosun"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--node-profiles")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.yaml"), "{stderr}");
}
