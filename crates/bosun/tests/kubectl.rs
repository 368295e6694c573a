//! Real kubectl v1.35 against `bosun serve` over TLS with a bearer token: discovery, create,
//! get in every output, apply, label, annotate, patch, scale, delete, namespaces, proxy, and
//! persistence across `kill -9`.

mod support;

use support::{KUBIA_V1, Server};

#[test]
fn discovery_lists_the_groups_and_resources_of_a_1_35_cluster() {
    let server = Server::start(&[]);
    let versions = server.ok(&["api-versions"]);
    for gv in ["apps/v1", "batch/v1", "v1", "autoscaling/v2", "rbac.authorization.k8s.io/v1"] {
        assert!(versions.lines().any(|l| l == gv), "{gv} missing from api-versions:\n{versions}");
    }
    let resources = server.ok(&["api-resources"]);
    let line = |name: &str| {
        resources
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{resources}"))
            .to_string()
    };
    assert!(line("deployments").contains("deploy") && line("deployments").contains("Deployment"));
    assert!(line("cronjobs").contains("cj") && line("cronjobs").contains("batch/v1"));
    assert!(line("jobs").contains("batch/v1"));
    assert!(line("namespaces").contains("false"), "namespaces are cluster-scoped");
    let batch = server.ok(&["get", "--raw", "/apis/batch"]);
    let batch: serde_json::Value = serde_json::from_str(&batch).unwrap();
    assert_eq!(batch["kind"], "APIGroup");
    assert_eq!(batch["preferredVersion"]["groupVersion"], "batch/v1");
    let version = server.ok(&["version", "-o", "json"]);
    let version: serde_json::Value = serde_json::from_str(&version).unwrap();
    assert_eq!(version["serverVersion"]["minor"], "35");
}

#[test]
fn create_get_and_yaml_show_the_seed_deployment_with_its_defaults() {
    let server = Server::start(&[]);
    let created = server.ok_stdin(&["create", "-f", "-"], KUBIA_V1);
    assert_eq!(created.trim(), "deployment.apps/kubia created");
    let table = server.ok(&["get", "deployments"]);
    let mut lines = table.lines();
    let header: Vec<_> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    assert!(lines.next().unwrap().starts_with("kubia "));
    let wide = server.ok(&["get", "deploy", "kubia", "-o", "wide"]);
    assert!(wide.contains("luksa/kubia:v1") && wide.contains("app=kubia"), "{wide}");
    let yaml = server.ok(&["get", "deploy", "kubia", "-o", "yaml"]);
    for expected in [
        "progressDeadlineSeconds: 600",
        "revisionHistoryLimit: 10",
        "maxSurge: 25%",
        "maxUnavailable: 25%",
        "type: RollingUpdate",
        "generation: 1",
        "uid: ",
        "resourceVersion: ",
        "creationTimestamp: ",
    ] {
        assert!(yaml.contains(expected), "{expected} missing from:\n{yaml}");
    }
    let name = server.ok(&["get", "deploy", "-o", "name"]);
    assert_eq!(name.trim(), "deployment.apps/kubia");
}

#[test]
fn applying_the_same_manifest_twice_changes_nothing() {
    let server = Server::start(&[]);
    assert_eq!(server.ok_stdin(&["apply", "-f", "-"], KUBIA_V1).trim(), "deployment.apps/kubia created");
    // The controllers write the Deployment's status and revision annotation meanwhile; what the
    // apply owns is the spec and its last-applied record, and the generation counts spec changes.
    let jsonpath = r"jsonpath={.metadata.generation} {.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration} {.spec}";
    let owned = || server.ok(&["get", "deploy", "kubia", "-o", jsonpath]);
    let before = owned();
    assert!(before.matches("luksa/kubia:v1").count() == 2, "the spec and the last-applied record: {before}");
    assert_eq!(server.ok_stdin(&["apply", "-f", "-"], KUBIA_V1).trim(), "deployment.apps/kubia unchanged");
    assert_eq!(owned(), before);
    let v2 = KUBIA_V1.replace("luksa/kubia:v1", "luksa/kubia:v2");
    assert_eq!(server.ok_stdin(&["apply", "-f", "-"], &v2).trim(), "deployment.apps/kubia configured");
    let image = server.ok(&["get", "deploy", "kubia", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]);
    assert_eq!(image, "luksa/kubia:v2");
}

#[test]
fn server_side_apply_creates_then_updates() {
    let server = Server::start(&[]);
    let out = server.ok_stdin(&["apply", "--server-side", "-f", "-"], KUBIA_V1);
    assert!(out.contains("deployment.apps/kubia serverside-applied"), "{out}");
    let v2 = KUBIA_V1.replace("replicas: 3", "replicas: 4");
    server.ok_stdin(&["apply", "--server-side", "-f", "-"], &v2);
    assert_eq!(server.ok(&["get", "deploy", "kubia", "-o", "jsonpath={.spec.replicas}"]), "4");
}

#[test]
fn label_annotate_set_image_patch_and_scale_change_the_object() {
    let server = Server::start(&[]);
    server.ok_stdin(&["create", "-f", "-"], KUBIA_V1);
    server.ok(&["label", "deploy", "kubia", "tier=web"]);
    server.ok(&["annotate", "deploy", "kubia", "note=hello"]);
    server.ok(&["set", "image", "deployment/kubia", "nodejs=luksa/kubia:v2"]);
    server.ok(&["patch", "deploy", "kubia", "--type=merge", "-p", r#"{"spec":{"minReadySeconds":5}}"#]);
    server.ok(&[
        "patch",
        "deploy",
        "kubia",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/revisionHistoryLimit","value":4}]"#,
    ]);
    server.ok(&[
        "patch",
        "deploy",
        "kubia",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"nodejs","env":[{"name":"A","value":"1"}]}]}}}}"#,
    ]);
    server.ok(&["scale", "deploy", "kubia", "--replicas=5"]);
    let get = |path: &str| server.ok(&["get", "deploy", "kubia", "-o", &format!("jsonpath={path}")]);
    assert_eq!(get("{.metadata.labels.tier}"), "web");
    assert_eq!(get("{.metadata.annotations.note}"), "hello");
    assert_eq!(get("{.spec.template.spec.containers[0].image}"), "luksa/kubia:v2");
    assert_eq!(get("{.spec.template.spec.containers[0].env[0].value}"), "1");
    assert_eq!(get("{.spec.minReadySeconds}"), "5");
    assert_eq!(get("{.spec.revisionHistoryLimit}"), "4");
    assert_eq!(get("{.spec.replicas}"), "5");
}

#[test]
fn a_namespace_is_created_and_deleting_it_removes_its_contents() {
    let server = Server::start(&[]);
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n";
    assert_eq!(server.ok_stdin(&["create", "-f", "-"], namespace).trim(), "namespace/demo created");
    let namespaces = server.ok(&["get", "namespaces"]);
    assert!(namespaces.lines().any(|l| l.starts_with("demo ") && l.contains("Active")), "{namespaces}");
    let configmap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inside\n  namespace: demo\ndata:\n  a: b\n";
    server.ok_stdin(&["create", "-f", "-"], configmap);
    // kubectl waits until the namespace is gone: the namespace controller empties and finalizes it.
    let deleted = server.ok(&["delete", "namespace", "demo", "--timeout=60s"]);
    assert_eq!(deleted.trim(), "namespace \"demo\" deleted");
    let missing = server.fails(&["get", "namespace", "demo"]);
    assert!(missing.contains("NotFound"), "{missing}");
    let error = server.fails(&["delete", "namespace", "default"]);
    assert!(error.contains("Forbidden") && error.contains("this namespace may not be deleted"), "{error}");
}

#[test]
fn errors_from_the_server_read_as_on_a_real_cluster() {
    let server = Server::start(&[]);
    let missing = server.fails(&["get", "deploy", "nope"]);
    assert!(missing.contains("Error from server (NotFound): deployments.apps \"nope\" not found"), "{missing}");
    server.ok_stdin(&["create", "-f", "-"], KUBIA_V1);
    let again = server.fails_stdin(&["create", "-f", "-"], KUBIA_V1);
    assert!(again.contains("AlreadyExists"), "{again}");
}

#[test]
fn objects_and_resource_versions_survive_kill_9() {
    let server = Server::start(&[]);
    server.ok_stdin(&["create", "-f", "-"], KUBIA_V1);
    server.ok(&["create", "configmap", "settings", "--from-literal=a=b"]);
    let rv = server.ok(&["get", "cm", "settings", "-o", "jsonpath={.metadata.resourceVersion}"]);
    let server = Server::start_in(server.kill_9_keeping_data(), &[]);
    assert_eq!(server.ok(&["get", "cm", "settings", "-o", "jsonpath={.metadata.resourceVersion}"]), rv);
    assert_eq!(server.ok(&["get", "cm", "settings", "-o", "jsonpath={.data.a}"]), "b");
    assert!(server.ok(&["get", "deploy"]).contains("kubia"));
}

#[test]
fn the_create_generators_work_although_they_send_protobuf() {
    let server = Server::start(&[]);
    assert_eq!(server.ok(&["create", "namespace", "custom-namespace"]).trim(), "namespace/custom-namespace created");
    assert_eq!(
        server.ok(&["create", "configmap", "settings", "--from-literal=a=b", "-n", "custom-namespace"]).trim(),
        "configmap/settings created"
    );
    assert_eq!(
        server.ok(&["create", "deployment", "web", "--image=nginx:1", "--replicas=2"]).trim(),
        "deployment.apps/web created"
    );
    assert_eq!(
        server.ok(&["create", "secret", "generic", "token", "--from-literal=k=v"]).trim(),
        "secret/token created"
    );
    assert_eq!(server.ok(&["create", "service", "clusterip", "web", "--tcp=80:8080"]).trim(), "service/web created");
    assert_eq!(server.ok(&["create", "job", "pi", "--image=perl"]).trim(), "job.batch/pi created");
    assert_eq!(
        server.ok(&["create", "cronjob", "tick", "--image=busybox", "--schedule=*/1 * * * *"]).trim(),
        "cronjob.batch/tick created"
    );
    assert_eq!(server.ok(&["get", "cm", "settings", "-n", "custom-namespace", "-o", "jsonpath={.data.a}"]), "b");
    assert_eq!(server.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]), "2");
    assert_eq!(server.ok(&["get", "secret", "token", "-o", "jsonpath={.data.k}"]), "dg==");
    assert_eq!(server.ok(&["get", "cronjob", "tick", "-o", "jsonpath={.spec.schedule}"]), "*/1 * * * *");
}

#[test]
fn the_serving_certificate_names_the_listen_address_and_the_tls_sans() {
    // Not 127.0.0.1: a certificate for the loopback names alone would fail kubectl's TLS check.
    let server = Server::start(&["--listen", "127.0.0.2:0", "--tls-san", "bosun.example,10.1.2.3"]);
    assert!(server.url.starts_with("https://127.0.0.2:"), "{}", server.url);
    assert!(server.ok(&["get", "namespaces", "-o", "name"]).contains("namespace/default"));
    let by_name = server.ok(&["--tls-server-name", "bosun.example", "get", "namespace", "default", "-o", "name"]);
    assert_eq!(by_name.trim(), "namespace/default");
    let unnamed = server.fails(&["--tls-server-name", "elsewhere.example", "get", "namespace", "default"]);
    assert!(unnamed.contains("certificate"), "{unnamed}");
}

#[test]
fn a_bad_token_is_refused_with_401() {
    let server = Server::start(&[]);
    let good = std::fs::read_to_string(&server.kubeconfig).unwrap();
    let token_line = good.lines().find(|l| l.trim_start().starts_with("token:")).unwrap().to_string();
    let bad = good.replace(&token_line, "    token: not-the-token");
    let bad_path = server.data_dir.join("bad-kubeconfig");
    std::fs::write(&bad_path, bad).unwrap();
    let output = std::process::Command::new(support::kubectl_path())
        .args(["get", "namespaces", "--kubeconfig"])
        .arg(&bad_path)
        .env("HOME", &server.home)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    // kubectl's words for a 401.
    assert!(stderr.contains("You must be logged in to the server"), "{stderr}");
}

#[test]
fn kubectl_proxy_serves_the_seeds_first_steps_without_credentials() {
    use std::io::{BufRead, BufReader, Read, Write};
    let server = Server::start(&[]);
    let mut proxy = std::process::Command::new(support::kubectl_path())
        .args(["proxy", "--port=0"])
        .env("KUBECONFIG", &server.kubeconfig)
        .env("HOME", &server.home)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(proxy.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let address = line.trim().strip_prefix("Starting to serve on ").unwrap_or_else(|| panic!("{line}")).to_string();
    let get = |path: &str| -> serde_json::Value {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let body = response.split("\r\n\r\n").nth(1).unwrap();
        // The proxy may answer chunked: take the JSON object out of the body.
        let start = body.find('{').unwrap();
        let end = body.rfind('}').unwrap();
        serde_json::from_str(&body[start..=end]).unwrap()
    };
    let batch = get("/apis/batch");
    assert_eq!(batch["kind"], "APIGroup");
    assert_eq!(batch["name"], "batch");
    let resources = get("/apis/batch/v1");
    let names: Vec<&str> =
        resources["resources"].as_array().unwrap().iter().filter_map(|r| r["name"].as_str()).collect();
    assert!(names.contains(&"jobs") && names.contains(&"cronjobs"), "{names:?}");
    let root = get("/");
    assert!(root["paths"].as_array().unwrap().iter().any(|p| p == "/apis/batch/v1"));
    proxy.kill().unwrap();
    let _ = proxy.wait();
}

#[test]
fn get_watch_prints_new_objects_as_they_arrive() {
    use std::io::{BufRead, BufReader};
    let server = Server::start(&[]);
    server.ok(&["create", "configmap", "first", "--from-literal=a=b"]);
    let mut watch = std::process::Command::new(support::kubectl_path())
        .args(["get", "configmaps", "-w"])
        .env("KUBECONFIG", &server.kubeconfig)
        .env("HOME", &server.home)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    let stdout = watch.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |needle: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = lines_rx.recv_timeout(left).unwrap_or_else(|_| panic!("no line with {needle}"));
            if line.contains(needle) {
                return line;
            }
        }
    };
    assert!(wait_for("first").starts_with("first"));
    server.ok(&["create", "configmap", "second", "--from-literal=a=b"]);
    assert!(wait_for("second").starts_with("second"));
    watch.kill().unwrap();
    let _ = watch.wait();
}

#[test]
fn deleting_a_deployment_cascades_to_its_replicaset_and_pods_in_background_orphan_and_foreground() {
    let server = Server::start(&[]);
    let replicasets = || server.ok(&["get", "rs", "-o", "name"]);
    let pods = || server.ok(&["get", "pods", "-o", "name"]);
    let wait_until = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !done() {
            assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    // The Deployment controller makes kubia-<hash>, owned (controller, blocking) by the Deployment.
    let create = || -> String {
        server.ok_stdin(&["create", "-f", "-"], KUBIA_V1);
        server.ok(&["rollout", "status", "deployment", "kubia", "--timeout=60s"]);
        let uid = server.ok(&["get", "deploy", "kubia", "-o", "jsonpath={.metadata.uid}"]);
        let name = replicasets().trim().to_string();
        assert!(name.starts_with("replicaset.apps/kubia-"), "{name}");
        let owner = server.ok(&["get", &name, "-o", "jsonpath={.metadata.ownerReferences[0].uid}"]);
        assert_eq!(owner, uid);
        assert_eq!(pods().lines().count(), 3);
        name
    };

    // Background (kubectl's default): the Deployment goes at once, the collector takes the rest.
    create();
    let deleted = server.ok(&["delete", "deployment", "kubia", "--timeout=60s"]);
    assert!(deleted.contains("deployment.apps \"kubia\" deleted"), "{deleted}");
    wait_until("the ReplicaSet and pods to be collected", &|| {
        replicasets().trim().is_empty() && pods().trim().is_empty()
    });

    // Orphan: kubectl waits for the Deployment; the ReplicaSet and its pods stay, without owner.
    let orphan = create();
    server.ok(&["delete", "deployment", "kubia", "--cascade=orphan", "--timeout=60s"]);
    assert!(server.fails(&["get", "deploy", "kubia"]).contains("NotFound"));
    assert_eq!(replicasets().trim(), orphan);
    assert_eq!(server.ok(&["get", &orphan, "-o", "jsonpath={.metadata.ownerReferences}"]), "");
    assert_eq!(pods().lines().count(), 3, "the orphaned ReplicaSet keeps its pods");
    server.ok(&["delete", &orphan, "--timeout=60s"]);
    wait_until("the orphan's pods to be collected", &|| pods().trim().is_empty());

    // Foreground: kubectl returns once the Deployment is gone, which the blocking ReplicaSet
    // allows only after it went first.
    create();
    let deleted = server.ok(&["delete", "deployment", "kubia", "--cascade=foreground", "--timeout=60s"]);
    assert!(deleted.contains("deployment.apps \"kubia\" deleted"), "{deleted}");
    assert_eq!(replicasets().trim(), "", "the owner went last");
    assert!(server.fails(&["get", "deploy", "kubia"]).contains("NotFound"));
}

#[test]
fn server_side_apply_conflicts_between_managers_until_forced_and_get_shows_both() {
    let server = Server::start(&[]);
    let apply = |manager: &str, manifest: &str, force: bool| {
        let flag = format!("--field-manager={manager}");
        let mut args = vec!["apply", "--server-side", flag.as_str(), "-f", "-"];
        if force {
            args.push("--force-conflicts");
        }
        server.kubectl_with_stdin(&args, Some(manifest))
    };
    let first = apply("alice", KUBIA_V1, false);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(String::from_utf8_lossy(&first.stdout).trim(), "deployment.apps/kubia serverside-applied");

    let four = KUBIA_V1.replace("replicas: 3", "replicas: 4");
    let conflict = apply("bob", &four, false);
    assert!(!conflict.status.success(), "a changed replicas owned by alice conflicts");
    let stderr = String::from_utf8_lossy(&conflict.stderr);
    assert!(
        stderr.starts_with("error: Apply failed with 1 conflict: conflict with \"alice\": .spec.replicas\n"),
        "{stderr}"
    );
    assert!(stderr.contains("--force-conflicts"), "kubectl adds its advice: {stderr}");
    assert_eq!(server.ok(&["get", "deploy", "kubia", "-o", "jsonpath={.spec.replicas}"]), "3");

    let forced = apply("bob", &four, true);
    assert!(forced.status.success(), "{}", String::from_utf8_lossy(&forced.stderr));
    assert_eq!(server.ok(&["get", "deploy", "kubia", "-o", "jsonpath={.spec.replicas}"]), "4");

    let hidden = server.ok(&["get", "deploy", "kubia", "-o", "yaml"]);
    assert!(!hidden.contains("managedFields"), "kubectl hides managedFields by default:\n{hidden}");
    let shown = server.ok(&["get", "deploy", "kubia", "-o", "yaml", "--show-managed-fields"]);
    for expected in [
        "managedFields:",
        "manager: alice",
        "manager: bob",
        "operation: Apply",
        "fieldsType: FieldsV1",
        "k:{\"name\":\"nodejs\"}:",
        "f:replicas: {}",
    ] {
        assert!(shown.contains(expected), "{expected} missing from:\n{shown}");
    }
    // bob took .spec.replicas: it appears once, in bob's entry. Both are Apply entries, alice's
    // first (older, or same second and sorted by name), and each prints its fields before its
    // manager, so bob's fields come after "manager: alice".
    // (The Deployment controller's status entry, after them, has a status `f:replicas` of its own.)
    let (alice, rest) = shown.split_once("manager: alice").expect("alice's entry");
    let bob = rest.split("manager: bob").next().expect("bob's entry follows alice's");
    assert!(!alice.contains("f:replicas: {}") && bob.contains("f:replicas: {}"), "{shown}");
}

#[test]
fn server_side_apply_after_client_side_apply_takes_over_without_conflict() {
    // As upstream documents: `kubectl apply --server-side` upgrades an object that client-side
    // apply manages, taking the fields its annotation still describes, then kubectl migrates the
    // old manager's entry with a JSON patch that rewrites managedFields.
    let server = Server::start(&[]);
    assert_eq!(server.ok_stdin(&["apply", "-f", "-"], KUBIA_V1).trim(), "deployment.apps/kubia created");
    let four = KUBIA_V1.replace("replicas: 3", "replicas: 4");
    let out = server.ok_stdin(&["apply", "--server-side", "-f", "-"], &four);
    assert_eq!(out.trim(), "deployment.apps/kubia serverside-applied");
    assert_eq!(server.ok(&["get", "deploy", "kubia", "-o", "jsonpath={.spec.replicas}"]), "4");
    let managers = server.ok(&["get", "deploy", "kubia", "-o", "jsonpath={.metadata.managedFields[*].manager}"]);
    let managers: Vec<&str> = managers.split_whitespace().collect();
    assert!(managers.contains(&"kubectl"), "{managers:?}");
    assert!(!managers.contains(&"kubectl-client-side-apply"), "the migration rewrote the entries: {managers:?}");

    // A scale by kubectl (an Update from its User-Agent) now owns .spec.replicas.
    server.ok(&["scale", "deployment", "kubia", "--replicas=2"]);
    let stderr = server.fails_stdin(&["apply", "--server-side", "-f", "-"], &four);
    assert!(
        stderr.starts_with(
            "error: Apply failed with 1 conflict: conflict with \"kubectl\" using apps/v1: .spec.replicas\n"
        ),
        "{stderr}"
    );
}

#[test]
fn explain_prints_descriptions_and_fields_from_the_generated_openapi_schemas() {
    let server = Server::start(&[]);
    let strategy = server.ok(&["explain", "deployment.spec.strategy"]);
    for expected in [
        "GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n",
        "FIELD: strategy <DeploymentStrategy>",
        "The deployment strategy to use to replace existing pods with new ones.",
        "rollingUpdate\t<RollingUpdateDeployment>",
        "type\t<string>",
        "Type of deployment. Can be \"Recreate\" or \"RollingUpdate\".",
    ] {
        assert!(strategy.contains(expected), "{expected:?} missing from:\n{strategy}");
    }
    let max_surge = server.ok(&["explain", "deployment.spec.strategy.rollingUpdate.maxSurge"]);
    assert!(max_surge.contains("FIELD: maxSurge <IntOrString>"), "{max_surge}");
    let deployment = server.ok(&["explain", "deployment"]);
    assert!(deployment.contains("metadata\t<ObjectMeta>\n"), "metadata is not required upstream:\n{deployment}");

    let pods = server.ok(&["explain", "pods", "--recursive"]);
    assert!(pods.starts_with("KIND:       Pod\nVERSION:    v1\n"), "{pods}");
    for expected in ["containers\t<[]Container> -required-", "limits\t<map[string]Quantity>", "finalizers\t<[]string>"]
    {
        assert!(pods.contains(expected), "{expected:?} missing from explain pods --recursive");
    }
    let missing = server.fails(&["explain", "deployment.spec.nope"]);
    assert!(missing.contains("field \"nope\" does not exist"), "{missing}");
}

#[test]
fn client_side_apply_computes_its_patch_from_the_served_schema() {
    // With schemas served, kubectl diffs with their x-kubernetes-patch-* metadata instead of its
    // compiled-in types; a schema it cannot walk makes it warn on every apply.
    let server = Server::start(&[]);
    let apply = |manifest: &str| {
        let output = server.kubectl_with_stdin(&["apply", "-f", "-"], Some(manifest));
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert!(output.status.success() && !stderr.contains("warning"), "{stderr}");
        String::from_utf8(output.stdout).unwrap()
    };
    apply(KUBIA_V1);
    let with_sidecar =
        format!("{KUBIA_V1}      - image: busybox\n        name: sidecar\n  strategy:\n    type: Recreate\n");
    assert_eq!(apply(&with_sidecar).trim(), "deployment.apps/kubia configured");
    let names = |server: &Server| {
        server.ok(&["get", "deploy", "kubia", "-o", "jsonpath={.spec.template.spec.containers[*].name}"])
    };
    assert_eq!(names(&server), "nodejs sidecar");
    assert_eq!(server.ok(&["get", "deploy", "kubia", "-o", "jsonpath={.spec.strategy.type}"]), "Recreate");
    // Back to the first manifest: the patch deletes the sidecar by its merge key and nulls the
    // strategy, which defaulting turns back into a rolling update.
    assert_eq!(apply(KUBIA_V1).trim(), "deployment.apps/kubia configured");
    assert_eq!(names(&server), "nodejs");
    assert_eq!(server.ok(&["get", "deploy", "kubia", "-o", "jsonpath={.spec.strategy.type}"]), "RollingUpdate");
}

#[test]
fn apply_of_a_misspelt_field_fails_as_on_a_real_cluster_and_validate_warn_drops_it() {
    let server = Server::start(&[]);
    let typo = KUBIA_V1.replace("  replicas: 3", "  replica: 3");
    // A new object: kubectl POSTs with fieldValidation=Strict.
    let error = server.fails_stdin(&["apply", "-f", "-"], &typo);
    assert!(
        error.contains(
            "Error from server (BadRequest): error when creating \"STDIN\": Deployment in version \"v1\" cannot be \
             handled as a Deployment: strict decoding error: unknown field \"spec.replica\""
        ),
        "{error}"
    );
    assert!(server.ok(&["get", "deployments", "-o", "name"]).trim().is_empty(), "nothing was created");
    // An existing object: kubectl sends a strategic merge patch, which upstream refuses with a 422
    // on `patch` (kubectl prints a kind-less Invalid as "The request is invalid").
    server.ok_stdin(&["apply", "-f", "-"], KUBIA_V1);
    let error = server.fails_stdin(&["apply", "-f", "-"], &typo);
    assert!(error.contains("The request is invalid: patch: Invalid value: \"map[metadata:map["), "{error}");
    assert!(error.contains(" spec:map[replica:3 replicas:<nil>]]\""), "{error}");
    assert!(error.contains("strict decoding error: unknown field \"spec.replica\""), "{error}");
    // --validate=warn: applied without the field, with kubectl's warning.
    let output = server.kubectl_with_stdin(&["apply", "--validate=warn", "-f", "-"], Some(&typo));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("Warning: unknown field \"spec.replica\""), "{stderr}");
    let spec = server.ok(&["get", "deploy", "kubia", "-o", "jsonpath={.spec}"]);
    assert!(!spec.contains("\"replica\""), "{spec}");
}

#[test]
fn a_misspelt_field_is_refused_by_default_strict_validation() {
    let server = Server::start(&[]);
    let typo = KUBIA_V1.replace("  replicas: 3", "  replica: 3");
    let error = server.fails_stdin(&["create", "-f", "-"], &typo);
    assert!(error.contains("strict decoding error: unknown field \"spec.replica\""), "{error}");
    let listed = server.ok(&["get", "deployments", "-o", "name"]);
    assert!(listed.trim().is_empty(), "nothing was created: {listed}");
}

#[test]
fn the_kubernetes_service_has_the_api_servers_address_as_its_endpoints() {
    let server = Server::start(&[]);
    let port = server.url.rsplit(':').next().unwrap().trim_end_matches('/').to_string();
    let endpoints = server.ok(&["get", "endpoints", "kubernetes", "--no-headers"]);
    assert!(endpoints.contains(&format!("127.0.0.1:{port}")), "{endpoints}");
    let slice = server.ok(&[
        "get",
        "endpointslice",
        "kubernetes",
        "-o",
        "jsonpath={.endpoints[0].addresses[0]} {.ports[0].port}",
    ]);
    assert_eq!(slice, format!("127.0.0.1 {port}"));
}

#[test]
fn kubectl_autoscale_creates_a_v2_hpa_that_reads_as_v1_with_its_cpu_target() {
    let server = Server::start(&[]);
    server.ok_stdin(&["create", "-f", "-"], KUBIA_V1);
    let created = server.ok(&["autoscale", "deployment", "kubia", "--min=2", "--max=5", "--cpu-percent=60"]);
    assert_eq!(created.trim(), "horizontalpodautoscaler.autoscaling/kubia autoscaled");
    // The full resource name: kubectl expands a short name (`hpa.v1.autoscaling`) to the group's
    // preferred version, as it does against any cluster.
    let v1 = server.ok(&["get", "horizontalpodautoscalers.v1.autoscaling", "kubia", "-o", "yaml"]);
    for expected in ["apiVersion: autoscaling/v1", "targetCPUUtilizationPercentage: 60", "maxReplicas: 5"] {
        assert!(v1.contains(expected), "{expected} missing from:\n{v1}");
    }
    let v2 = server.ok(&["get", "horizontalpodautoscalers.v2.autoscaling", "kubia", "-o", "yaml"]);
    assert!(v2.contains("averageUtilization: 60") && v2.contains("apiVersion: autoscaling/v2"), "{v2}");
    let uid = |version: &str| {
        server.ok(&[
            "get",
            &format!("horizontalpodautoscalers.{version}.autoscaling"),
            "kubia",
            "-o",
            "jsonpath={.metadata.uid}",
        ])
    };
    assert_eq!(uid("v1"), uid("v2"), "one object");
    let table = server.ok(&["get", "hpa"]);
    assert!(
        table.lines().nth(1).is_some_and(|l| l.starts_with("kubia ") && l.contains("cpu: <unknown>/60%")),
        "{table}"
    );
}

#[test]
fn kubectl_events_lists_the_events_bosuns_controllers_write() {
    let server = Server::start(&[]);
    server.ok_stdin(&["create", "-f", "-"], KUBIA_V1);
    server.ok(&["rollout", "status", "deployment", "kubia", "--timeout=60s"]);
    let events = server.ok(&["events"]);
    assert!(
        events.lines().any(|l| l.contains("ScalingReplicaSet") && l.contains("Deployment/kubia")),
        "no ScalingReplicaSet event for the Deployment:\n{events}"
    );
    let through_events_api = server.ok(&["get", "events.v1.events.k8s.io", "-o", "jsonpath={.items[*].reason}"]);
    assert!(through_events_api.contains("ScalingReplicaSet"), "{through_events_api}");
}
