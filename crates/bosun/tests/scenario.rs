//! The seed scenario's second half (SCENARIO.md steps 10 to 18) with real kubectl v1.35 against
//! `bosun serve`: create with `--record`, rollout status and history, set image, undo, undo
//! `--to-revision`, the rate of a rollout, pause and resume with a canary, a rollout stopped at
//! the readiness gate by the bad image `luksa/kubia:v3`, the progress deadline, and undo. Pods
//! become ready through Bosun's node agent, whose default profiles ship the seed's images. Real
//! time is used, so the deadline is shortened from 600 s to 20 s.

mod support;

use support::{KUBIA_V1, Server};

/// Waits for a rollout with kubectl itself; returns its output.
fn rollout_status(server: &Server) -> String {
    server.ok(&["rollout", "status", "deployment", "kubia", "--timeout=120s"])
}

fn image(server: &Server) -> String {
    server.ok(&["get", "deployment", "kubia", "-o", "jsonpath={.spec.template.spec.containers[0].image}"])
}

/// `REVISION CHANGE-CAUSE` rows of `kubectl rollout history`, as (revision, change-cause).
fn history(server: &Server) -> Vec<(u32, String)> {
    let out = server.ok(&["rollout", "history", "deployment", "kubia"]);
    out.lines()
        .skip_while(|l| !l.starts_with("REVISION"))
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (revision, cause) = l.split_once(char::is_whitespace).unwrap();
            (revision.parse().unwrap(), cause.trim().to_string())
        })
        .collect()
}

/// `NAME DESIRED CURRENT READY` rows of `kubectl get rs`.
fn replicasets(server: &Server) -> Vec<(String, u32, u32, u32)> {
    server
        .ok(&["get", "rs", "--no-headers"])
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].to_string(), f[1].parse().unwrap(), f[2].parse().unwrap(), f[3].parse().unwrap())
        })
        .collect()
}

fn set_image(server: &Server, tag: &str) {
    let out = server.ok(&["set", "image", "deployment", "kubia", &format!("nodejs=luksa/kubia:{tag}")]);
    assert_eq!(out.trim(), "deployment.apps/kubia image updated");
}

#[test]
fn the_seed_rollout_scenario_runs_with_real_kubectl() {
    let server = Server::start(&[]);

    // 10. Create with --record: a ReplicaSet kubia-<hash> with three pods kubia-<hash>-<random>.
    let created = server.ok_stdin(&["create", "-f", "-", "--record"], KUBIA_V1);
    assert_eq!(created.trim(), "deployment.apps/kubia created");
    assert!(rollout_status(&server).contains("deployment \"kubia\" successfully rolled out"));
    let history_v1 = history(&server);
    assert_eq!(history_v1.len(), 1);
    assert_eq!(history_v1[0].0, 1);
    assert!(history_v1[0].1.contains("--record=true"), "change-cause from --record: {history_v1:?}");
    let sets = replicasets(&server);
    assert_eq!(sets.len(), 1);
    let (rs_name, desired, current, ready) = sets[0].clone();
    assert!(rs_name.starts_with("kubia-"));
    assert_eq!((desired, current, ready), (3, 3, 3));
    let pods = server.ok(&["get", "pods", "--no-headers"]);
    assert_eq!(
        pods.lines().filter(|l| l.starts_with(&format!("{rs_name}-")) && l.contains("Running")).count(),
        3,
        "{pods}"
    );

    // 11. Defaults and the revision annotation.
    let yaml = server.ok(&["get", "deploy", "kubia", "-o", "yaml"]);
    for expected in [
        "progressDeadlineSeconds: 600",
        "revisionHistoryLimit: 10",
        "maxSurge: 25%",
        "maxUnavailable: 25%",
        "type: RollingUpdate",
        "deployment.kubernetes.io/revision: \"1\"",
    ] {
        assert!(yaml.contains(expected), "{expected} missing from:\n{yaml}");
    }

    // 12. set image v2: revision 2; the old ReplicaSet stays at 0 as history.
    set_image(&server, "v2");
    assert!(rollout_status(&server).contains("successfully rolled out"));
    let sets = replicasets(&server);
    assert_eq!(sets.len(), 2);
    assert!(sets.iter().any(|(name, desired, _, _)| *name == rs_name && *desired == 0), "{sets:?}");
    assert_eq!(history(&server).iter().map(|(r, _)| *r).collect::<Vec<_>>(), vec![1, 2]);

    // 13-14. v3, then undo: v2's ReplicaSet becomes revision 4, so the history is 1, 3, 4.
    set_image(&server, "v3");
    assert!(rollout_status(&server).contains("successfully rolled out"));
    assert_eq!(server.ok(&["rollout", "undo", "deployment", "kubia"]).trim(), "deployment.apps/kubia rolled back");
    assert!(rollout_status(&server).contains("successfully rolled out"));
    assert_eq!(image(&server), "luksa/kubia:v2");
    assert_eq!(history(&server).iter().map(|(r, _)| *r).collect::<Vec<_>>(), vec![1, 3, 4]);
    let rs_v2 = server.ok(&[
        "get",
        "rs",
        "-o",
        "jsonpath={range .items[*]}{.metadata.annotations.deployment\\.kubernetes\\.io/revision} {.metadata.annotations.deployment\\.kubernetes\\.io/revision-history}{\"\\n\"}{end}",
    ]);
    assert!(rs_v2.lines().any(|l| l.trim() == "4 2"), "v2's ReplicaSet is revision 4 with history 2:\n{rs_v2}");
    server.ok(&["rollout", "undo", "deployment", "kubia", "--to-revision=1"]);
    assert!(rollout_status(&server).contains("successfully rolled out"));
    assert_eq!(image(&server), "luksa/kubia:v1");
    assert_eq!(history(&server).iter().map(|(r, _)| *r).collect::<Vec<_>>(), vec![3, 4, 5]);
    let missing = server.fails(&["rollout", "undo", "deployment", "kubia", "--to-revision=2"]);
    assert!(missing.contains("unable to find specified revision 2 in history"), "{missing}");

    // 15. The rate of a rollout: maxSurge 1, maxUnavailable 0.
    server.ok(&[
        "patch",
        "deployment",
        "kubia",
        "-p",
        r#"{"spec":{"strategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}}}"#,
    ]);
    set_image(&server, "v2");
    assert!(rollout_status(&server).contains("successfully rolled out"));

    // 16. Pause after setting v4, resume.
    set_image(&server, "v4");
    assert_eq!(server.ok(&["rollout", "pause", "deployment", "kubia"]).trim(), "deployment.apps/kubia paused");
    let again = server.fails(&["rollout", "pause", "deployment", "kubia"]);
    assert!(again.contains("is already paused"), "{again}");
    let undo_paused = server.fails(&["rollout", "undo", "deployment", "kubia"]);
    assert!(undo_paused.contains("you cannot rollback a paused deployment"), "{undo_paused}");
    let describe = server.ok(&["describe", "deployment", "kubia"]);
    assert!(describe.contains("DeploymentPaused"), "{describe}");
    assert_eq!(server.ok(&["rollout", "resume", "deployment", "kubia"]).trim(), "deployment.apps/kubia resumed");
    assert!(rollout_status(&server).contains("successfully rolled out"));
    assert_eq!(image(&server), "luksa/kubia:v4");

    // `rollout restart` is a template change like any other: a new ReplicaSet, revision 6.
    assert_eq!(server.ok(&["rollout", "restart", "deployment", "kubia"]).trim(), "deployment.apps/kubia restarted");
    assert!(rollout_status(&server).contains("successfully rolled out"));
    let restarted = server.ok(&["get", "deploy", "kubia", "-o", "jsonpath={.spec.template.metadata.annotations}"]);
    assert!(restarted.contains("kubectl.kubernetes.io/restartedAt"), "{restarted}");

    // 17. The readiness gate: v3 with minReadySeconds 10 and a readiness probe every second.
    server.ok(&[
        "patch",
        "deployment",
        "kubia",
        "-p",
        r#"{"spec":{"minReadySeconds":10,"progressDeadlineSeconds":20,"template":{"spec":{"containers":[{"name":"nodejs","image":"luksa/kubia:v3","readinessProbe":{"periodSeconds":1,"httpGet":{"path":"/","port":8080}}}]}}}}"#,
    ]);
    // 18. The deadline: rollout status fails, describe shows the conditions; the old pods run on.
    let output = server.kubectl(&["rollout", "status", "deployment", "kubia", "--timeout=120s"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!output.status.success(), "the bad rollout must not succeed:\n{stdout}");
    assert!(stdout.contains("1 out of 3 new replicas have been updated"), "{stdout}");
    assert!(stderr.contains("deployment \"kubia\" exceeded its progress deadline"), "{stderr}");
    let describe = server.ok(&["describe", "deployment", "kubia"]);
    let condition = |type_: &str| {
        describe
            .lines()
            .find(|l| l.trim_start().starts_with(type_))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    assert_eq!(condition("Available").as_deref(), Some("Available True MinimumReplicasAvailable"), "{describe}");
    assert_eq!(condition("Progressing").as_deref(), Some("Progressing False ProgressDeadlineExceeded"), "{describe}");
    assert!(describe.contains("ScalingReplicaSet"), "events are listed:\n{describe}");
    let available = server.ok(&["get", "deployment", "kubia", "-o", "jsonpath={.status.availableReplicas}"]);
    assert_eq!(available, "3", "the old pods keep running");
    server.ok(&["rollout", "undo", "deployment", "kubia"]);
    assert!(rollout_status(&server).contains("successfully rolled out"));
    assert_eq!(image(&server), "luksa/kubia:v4");
}

#[test]
fn a_rollout_interrupted_by_kill_9_finishes_after_the_restart() {
    let server = Server::start(&[]);
    server.ok_stdin(&["create", "-f", "-"], KUBIA_V1);
    assert!(rollout_status(&server).contains("successfully rolled out"));
    // minReadySeconds slows the rollout down so that the kill lands in the middle of it.
    server.ok(&["patch", "deployment", "kubia", "-p", r#"{"spec":{"minReadySeconds":2}}"#]);
    set_image(&server, "v2");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let updated = server.ok(&["get", "deployment", "kubia", "-o", "jsonpath={.status.updatedReplicas}"]);
        if updated == "1" || updated == "2" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the rollout did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let data = server.kill_9_keeping_data();
    let server = Server::start_in(data, &[]);
    assert!(rollout_status(&server).contains("successfully rolled out"));
    assert_eq!(image(&server), "luksa/kubia:v2");
    let sets = replicasets(&server);
    assert_eq!(sets.len(), 2, "{sets:?}");
    assert!(sets.iter().any(|(_, desired, current, ready)| (*desired, *current, *ready) == (3, 3, 3)), "{sets:?}");
    assert!(sets.iter().any(|(_, desired, current, _)| (*desired, *current) == (0, 0)), "{sets:?}");
}

/// Sorted, space-separated pod IPs of the pods matching `selector`.
fn pod_ips(server: &Server, selector: &str) -> Vec<String> {
    let out = server.ok(&["get", "pods", "-l", selector, "-o", "jsonpath={.items[*].status.podIP}"]);
    let mut ips: Vec<String> = out.split_whitespace().map(str::to_string).collect();
    ips.sort();
    ips
}

/// The ready addresses of the Service's Endpoints, sorted.
fn endpoint_ips(server: &Server, service: &str) -> Vec<String> {
    let out = server.ok(&["get", "endpoints", service, "-o", "jsonpath={.subsets[*].addresses[*].ip}"]);
    let mut ips: Vec<String> = out.split_whitespace().map(str::to_string).collect();
    ips.sort();
    ips
}

fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn versioned_deployment(version: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: kubia-{version}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: kubia, version: {version}}}\n  template:\n    metadata:\n      labels: {{app: kubia, version: {version}}}\n    spec:\n      containers:\n      - name: nodejs\n        image: luksa/kubia:{version}\n        ports: [{{containerPort: 8080}}]\n"
    )
}

#[test]
fn blue_green_and_the_canary_show_in_the_services_endpoints() {
    let server = Server::start(&[]);
    // Blue-green (SCENARIO 9): two Deployments, the Service's selector switches between them.
    for version in ["v1", "v2"] {
        server.ok_stdin(&["create", "-f", "-"], &versioned_deployment(version));
        server.ok(&["rollout", "status", "deployment", &format!("kubia-{version}"), "--timeout=60s"]);
    }
    server.ok(&["create", "service", "clusterip", "kubia", "--tcp=80:8080"]);
    server.ok(&["set", "selector", "service", "kubia", "app=kubia,version=v1"]);
    wait_for("the blue endpoints", || endpoint_ips(&server, "kubia") == pod_ips(&server, "version=v1"));
    server.ok(&["set", "selector", "service", "kubia", "app=kubia,version=v2"]);
    wait_for("the green endpoints", || endpoint_ips(&server, "kubia") == pod_ips(&server, "version=v2"));
    server.ok(&["delete", "deployment", "kubia-v1", "kubia-v2"]);

    // The canary (SCENARIO 16): a paused rollout with one new pod beside the old ones; the
    // Service's endpoints hold both versions. minReadySeconds holds the rollout after its first
    // new pod so that the pause lands there.
    server.ok_stdin(&["create", "-f", "-"], KUBIA_V1);
    server.ok(&["rollout", "status", "deployment", "kubia", "--timeout=60s"]);
    server.ok(&["set", "selector", "service", "kubia", "app=kubia"]);
    server.ok(&[
        "patch",
        "deployment",
        "kubia",
        "-p",
        r#"{"spec":{"minReadySeconds":300,"strategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}}}"#,
    ]);
    set_image(&server, "v4");
    wait_for("the canary pod", || {
        server.ok(&["get", "deployment", "kubia", "-o", "jsonpath={.status.updatedReplicas}"]) == "1"
            && server.ok(&["get", "pods", "--no-headers"]).lines().filter(|l| l.contains("1/1")).count() == 4
    });
    server.ok(&["rollout", "pause", "deployment", "kubia"]);
    wait_for("four endpoints, one of them the canary", || {
        endpoint_ips(&server, "kubia") == pod_ips(&server, "app=kubia")
    });
    assert_eq!(endpoint_ips(&server, "kubia").len(), 4);
    let images = server.ok(&["get", "pods", "-o", "jsonpath={.items[*].spec.containers[0].image}"]);
    assert_eq!(images.split_whitespace().filter(|i| *i == "luksa/kubia:v4").count(), 1, "{images}");
    server.ok(&["patch", "deployment", "kubia", "-p", r#"{"spec":{"minReadySeconds":0}}"#]);
    server.ok(&["rollout", "resume", "deployment", "kubia"]);
    assert!(rollout_status(&server).contains("successfully rolled out"));
    wait_for("only v4 endpoints", || {
        endpoint_ips(&server, "kubia").len() == 3 && endpoint_ips(&server, "kubia") == pod_ips(&server, "app=kubia")
    });
}

#[test]
fn the_seed_job_pi_runs_to_completion() {
    // SCENARIO 4-5: a Job `pi` in `default`, listed across namespaces and read back; the node
    // agent's `perl` profile completes its pod after 5 seconds.
    let server = Server::start(&[]);
    let created = server.ok(&[
        "create",
        "job",
        "pi",
        "--image=perl:5.34.0",
        "--",
        "perl",
        "-Mbignum=bpi",
        "-wle",
        "print bpi(2000)",
    ]);
    assert_eq!(created.trim(), "job.batch/pi created");
    let waited = server.ok(&["wait", "--for=condition=complete", "job/pi", "--timeout=60s"]);
    assert_eq!(waited.trim(), "job.batch/pi condition met");
    let jobs = server.ok(&["get", "jobs", "--no-headers"]);
    assert!(jobs.starts_with("pi ") && jobs.contains("1/1"), "{jobs}");
    let pods = server.ok(&["get", "pods", "--no-headers"]);
    assert!(pods.lines().any(|l| l.starts_with("pi-") && l.contains("Completed")), "{pods}");
    let list: serde_json::Value = serde_json::from_str(&server.ok(&["get", "--raw", "/apis/batch/v1/jobs"])).unwrap();
    assert_eq!(list["kind"], "JobList");
    assert!(list["metadata"]["resourceVersion"].is_string());
    assert_eq!(list["items"][0]["metadata"]["name"], "pi");
    assert_eq!(list["items"][0]["status"]["succeeded"], 1);
}
