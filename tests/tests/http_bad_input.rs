//! Bad input over HTTP, through the router in-process: each class gets the Status upstream sends
//! (reason and code), and nothing is written.

use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Reply {
    status: StatusCode,
    body: Value,
}

async fn send(
    cluster: &bosun::Cluster,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = cluster.router().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply { status, body }
}

/// Asserts a Status reply with this code and reason.
fn assert_status(reply: &Reply, code: u16, reason: &str) {
    assert_eq!(reply.status.as_u16(), code, "{}", reply.body);
    assert_eq!(reply.body["kind"], "Status", "{}", reply.body);
    assert_eq!(reply.body["code"], code);
    assert_eq!(reply.body["reason"], reason, "{}", reply.body);
    assert_eq!(reply.body["status"], "Failure");
}

async fn configmap_count(cluster: &bosun::Cluster) -> usize {
    let reply = send(cluster, Method::GET, "/api/v1/namespaces/default/configmaps", None, vec![]).await;
    reply.body["items"].as_array().map_or(0, Vec::len)
}

async fn cluster() -> bosun::Cluster {
    bosun::Cluster::builder().temporary().start().await.unwrap()
}

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn malformed_json_is_400_bad_request_and_writes_nothing() {
    let cluster = cluster().await;
    let reply = send(&cluster, Method::POST, CONFIGMAPS, Some("application/json"), b"{\"metadata\": {".to_vec()).await;
    assert_status(&reply, 400, "BadRequest");
    assert_eq!(configmap_count(&cluster).await, 0);
}

#[tokio::test]
async fn an_unknown_content_type_is_415() {
    let cluster = cluster().await;
    let reply = send(&cluster, Method::POST, CONFIGMAPS, Some("text/plain"), b"hello".to_vec()).await;
    assert_status(&reply, 415, "UnsupportedMediaType");
    assert_eq!(configmap_count(&cluster).await, 0);
}

#[tokio::test]
async fn an_unknown_patch_type_is_415() {
    let cluster = cluster().await;
    let body = serde_json::to_vec(&json!({"metadata": {"name": "p"}})).unwrap();
    send(&cluster, Method::POST, CONFIGMAPS, Some("application/json"), body).await;
    let reply =
        send(&cluster, Method::PATCH, &format!("{CONFIGMAPS}/p"), Some("application/json"), b"{}".to_vec()).await;
    assert_status(&reply, 415, "UnsupportedMediaType");
}

#[tokio::test]
async fn a_body_over_3_mib_is_413() {
    let cluster = cluster().await;
    let big = json!({"metadata": {"name": "big"}, "data": {"a": "x".repeat(3 * 1024 * 1024 + 1)}});
    let reply =
        send(&cluster, Method::POST, CONFIGMAPS, Some("application/json"), serde_json::to_vec(&big).unwrap()).await;
    assert_status(&reply, 413, "RequestEntityTooLarge");
    assert_eq!(configmap_count(&cluster).await, 0);
}

#[tokio::test]
async fn a_wrong_kind_in_the_body_is_400() {
    let cluster = cluster().await;
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
    let reply =
        send(&cluster, Method::POST, CONFIGMAPS, Some("application/json"), serde_json::to_vec(&secret).unwrap()).await;
    assert_status(&reply, 400, "BadRequest");
    assert!(reply.body["message"].as_str().unwrap().contains("cannot be handled as a ConfigMap"));
    assert_eq!(configmap_count(&cluster).await, 0);
}

#[tokio::test]
async fn a_name_mismatch_between_url_and_body_is_400() {
    let cluster = cluster().await;
    let body = serde_json::to_vec(&json!({"metadata": {"name": "a"}})).unwrap();
    send(&cluster, Method::POST, CONFIGMAPS, Some("application/json"), body).await;
    let other = serde_json::to_vec(&json!({"metadata": {"name": "b"}, "data": {"x": "y"}})).unwrap();
    let reply = send(&cluster, Method::PUT, &format!("{CONFIGMAPS}/a"), Some("application/json"), other).await;
    assert_status(&reply, 400, "BadRequest");
    assert_eq!(reply.body["message"], "the name of the object (b) does not match the name on the URL (a)");
}

#[tokio::test]
async fn an_invalid_name_is_422_with_one_cause_on_metadata_name() {
    let cluster = cluster().await;
    let body = serde_json::to_vec(&json!({"metadata": {"name": "Bad_Name"}})).unwrap();
    let reply = send(&cluster, Method::POST, CONFIGMAPS, Some("application/json"), body).await;
    assert_status(&reply, 422, "Invalid");
    assert_eq!(reply.body["details"]["kind"], "ConfigMap");
    assert_eq!(reply.body["details"]["causes"][0]["field"], "metadata.name");
    assert_eq!(reply.body["details"]["causes"][0]["reason"], "FieldValueInvalid");
    assert_eq!(configmap_count(&cluster).await, 0);
}

#[tokio::test]
async fn unknown_paths_are_404_and_unsupported_methods_405() {
    let cluster = cluster().await;
    assert_status(&send(&cluster, Method::GET, "/api/v1/foos", None, vec![]).await, 404, "NotFound");
    assert_status(&send(&cluster, Method::GET, "/apis/nope/v1", None, vec![]).await, 404, "NotFound");
    assert_status(
        &send(&cluster, Method::POST, "/api/v1/configmaps", Some("application/json"), b"{}".to_vec()).await,
        405,
        "MethodNotAllowed",
    );
}

#[tokio::test]
async fn bad_selectors_and_list_options_are_400_or_422() {
    let cluster = cluster().await;
    let bad_label = send(&cluster, Method::GET, &format!("{CONFIGMAPS}?labelSelector=a%20in%20(b"), None, vec![]).await;
    assert_status(&bad_label, 400, "BadRequest");
    let bad_field =
        send(&cluster, Method::GET, &format!("{CONFIGMAPS}?fieldSelector=spec.foo%3Dx"), None, vec![]).await;
    assert_status(&bad_field, 400, "BadRequest");
    let bad_match =
        send(&cluster, Method::GET, &format!("{CONFIGMAPS}?resourceVersionMatch=Exact"), None, vec![]).await;
    assert_status(&bad_match, 422, "Invalid");
    let watch_list =
        send(&cluster, Method::GET, &format!("{CONFIGMAPS}?watch=1&sendInitialEvents=true"), None, vec![]).await;
    assert_status(&watch_list, 422, "Invalid");
    let bad_token = send(&cluster, Method::GET, &format!("{CONFIGMAPS}?limit=1&continue=garbage"), None, vec![]).await;
    assert_status(&bad_token, 400, "BadRequest");
}

#[tokio::test]
async fn a_json_patch_that_cannot_apply_is_422_and_writes_nothing() {
    let cluster = cluster().await;
    let body = serde_json::to_vec(&json!({"metadata": {"name": "p"}, "data": {"a": "1"}})).unwrap();
    let created = send(&cluster, Method::POST, CONFIGMAPS, Some("application/json"), body).await;
    let patch = serde_json::to_vec(
        &json!([{"op": "test", "path": "/data/a", "value": "2"}, {"op": "replace", "path": "/data/a", "value": "3"}]),
    )
    .unwrap();
    let reply =
        send(&cluster, Method::PATCH, &format!("{CONFIGMAPS}/p"), Some("application/json-patch+json"), patch).await;
    assert_status(&reply, 422, "Invalid");
    let after = send(&cluster, Method::GET, &format!("{CONFIGMAPS}/p"), None, vec![]).await;
    assert_eq!(after.body["data"]["a"], "1");
    assert_eq!(after.body["metadata"]["resourceVersion"], created.body["metadata"]["resourceVersion"]);
}

#[tokio::test]
async fn a_watch_from_a_compacted_revision_is_a_200_stream_with_one_410_error_event() {
    let cluster = cluster().await;
    for i in 0..5 {
        let body = serde_json::to_vec(&json!({"metadata": {"name": format!("c{i}")}})).unwrap();
        send(&cluster, Method::POST, CONFIGMAPS, Some("application/json"), body).await;
    }
    let revision = cluster.api().store().current_revision().await.unwrap();
    cluster.api().store().compact(revision).await.unwrap();
    let request = Request::get(format!("{CONFIGMAPS}?watch=true&resourceVersion=1")).body(Body::empty()).unwrap();
    let response = cluster.router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let lines: Vec<Value> =
        bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["type"], "ERROR");
    assert_eq!(lines[0]["object"]["code"], 410);
    assert_eq!(lines[0]["object"]["reason"], "Expired");
}

#[tokio::test]
async fn large_responses_are_gzipped_for_clients_that_accept_it() {
    use std::io::Read;
    let cluster = cluster().await;
    for i in 0..40 {
        let body =
            serde_json::to_vec(&json!({"metadata": {"name": format!("big{i}")}, "data": {"a": "x".repeat(4096)}}))
                .unwrap();
        send(&cluster, Method::POST, CONFIGMAPS, Some("application/json"), body).await;
    }
    let request = Request::get(CONFIGMAPS).header("accept-encoding", "gzip").body(Body::empty()).unwrap();
    let response = cluster.router().oneshot(request).await.unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let compressed = response.into_body().collect().await.unwrap().to_bytes();
    let mut json = String::new();
    flate2::read::GzDecoder::new(&compressed[..]).read_to_string(&mut json).unwrap();
    let list: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 40);
    assert!(compressed.len() < json.len() / 4, "{} compressed vs {} plain", compressed.len(), json.len());

    let small = Request::get("/api/v1/namespaces").header("accept-encoding", "gzip").body(Body::empty()).unwrap();
    assert!(cluster.router().oneshot(small).await.unwrap().headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn unknown_fields_are_refused_under_strict_and_warned_about_under_warn() {
    let cluster = cluster().await;
    let body = |name: &str| {
        serde_json::to_vec(&json!({"metadata": {"name": name}, "data": {"a": "b"}, "dta": {"typo": "x"}})).unwrap()
    };
    let strict = send(
        &cluster,
        Method::POST,
        &format!("{CONFIGMAPS}?fieldValidation=Strict"),
        Some("application/json"),
        body("s"),
    )
    .await;
    assert_status(&strict, 400, "BadRequest");
    assert_eq!(
        strict.body["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"dta\""
    );
    assert_eq!(configmap_count(&cluster).await, 0, "nothing was written");

    for (mode, name) in [("Warn", "w"), ("Ignore", "i")] {
        let reply =
            write(&cluster, Method::POST, &format!("{CONFIGMAPS}?fieldValidation={mode}"), JSON, &body(name)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let expected: &[&str] = if mode == "Warn" { &["299 - \"unknown field \\\"dta\\\"\""] } else { &[] };
        assert_eq!(reply.warnings, expected, "{mode}");
        // Upstream's decoder drops what the type does not have; known fields stay.
        assert!(reply.body.get("dta").is_none(), "{mode}: {}", reply.body);
        let stored = send(&cluster, Method::GET, &format!("{CONFIGMAPS}/{name}"), None, vec![]).await.body;
        assert!(stored.get("dta").is_none(), "{mode}: {stored}");
        assert_eq!(stored["data"], json!({"a": "b"}));
    }
    // Without the parameter: upstream's server default, Warn.
    let reply = write(&cluster, Method::POST, CONFIGMAPS, JSON, &body("d")).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.warnings.len(), 1);

    // Nested fields are checked too, with their index in lists.
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
                 "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolcy": "Always"}]}}},
    });
    let reply = send(
        &cluster,
        Method::POST,
        "/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict",
        Some("application/json"),
        serde_json::to_vec(&deployment).unwrap(),
    )
    .await;
    assert_status(&reply, 400, "BadRequest");
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .ends_with("unknown field \"spec.template.spec.containers[0].imagePullPolcy\"")
    );
}

#[tokio::test]
async fn yaml_bodies_are_accepted_and_yaml_is_served_on_request() {
    let cluster = bosun::Cluster::builder().temporary().controllers(false).start().await.unwrap();
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  key: value\n";
    let created = send(&cluster, Method::POST, CONFIGMAPS, Some("application/yaml"), yaml.as_bytes().to_vec()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["data"]["key"], "value");
    let request = Request::get(format!("{CONFIGMAPS}/from-yaml"))
        .header("accept", "application/yaml")
        .body(Body::empty())
        .unwrap();
    let response = cluster.router().oneshot(request).await.unwrap();
    assert_eq!(response.headers()["content-type"], "application/yaml");
    let text = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(text.contains("name: from-yaml") && text.contains("key: value"), "{text}");
}

const JSON: &str = "application/json";

/// A write's reply with its `Warning` headers.
struct Written {
    status: StatusCode,
    body: Value,
    warnings: Vec<String>,
}

async fn write(cluster: &bosun::Cluster, method: Method, path: &str, content_type: &str, body: &[u8]) -> Written {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(Body::from(body.to_vec()));
    let response = cluster.router().oneshot(request.unwrap()).await.unwrap();
    let status = response.status();
    let warnings = response.headers().get_all("warning").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Written { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null), warnings }
}

#[tokio::test]
async fn an_update_drops_unknown_fields_under_warn_and_refuses_them_under_strict() {
    let cluster = cluster().await;
    write(&cluster, Method::POST, CONFIGMAPS, JSON, br#"{"metadata": {"name": "u"}, "data": {"a": "1"}}"#).await;
    let body = br#"{"metadata": {"name": "u"}, "data": {"a": "2"}, "spec": {"x": 1}}"#;
    let strict = write(&cluster, Method::PUT, &format!("{CONFIGMAPS}/u?fieldValidation=Strict"), JSON, body).await;
    assert_eq!(strict.status, StatusCode::BAD_REQUEST, "{}", strict.body);
    assert!(strict.body["message"].as_str().unwrap().ends_with("strict decoding error: unknown field \"spec\""));
    let warned = write(&cluster, Method::PUT, &format!("{CONFIGMAPS}/u"), JSON, body).await;
    assert_eq!(warned.status, StatusCode::OK, "{}", warned.body);
    assert_eq!(warned.warnings, ["299 - \"unknown field \\\"spec\\\"\""]);
    let stored = send(&cluster, Method::GET, &format!("{CONFIGMAPS}/u"), None, vec![]).await.body;
    assert_eq!(stored["data"], json!({"a": "2"}));
    assert!(stored.get("spec").is_none(), "{stored}");
}

#[tokio::test]
async fn duplicate_fields_fail_under_strict_warn_under_warn_and_keep_the_last_value_under_ignore() {
    let cluster = cluster().await;
    let body =
        br#"{"metadata": {"name": "first", "name": "dup"}, "data": {"k": "1", "k": "2"}, "dta": {"x": 1, "x": 2}}"#;
    let strict = write(&cluster, Method::POST, &format!("{CONFIGMAPS}?fieldValidation=Strict"), JSON, body).await;
    assert_eq!(strict.status, StatusCode::BAD_REQUEST, "{}", strict.body);
    assert_eq!(
        strict.body["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"dta\", \
         duplicate field \"metadata.name\", duplicate field \"data.k\""
    );
    assert_eq!(configmap_count(&cluster).await, 0, "nothing was written");

    let warned = write(&cluster, Method::POST, &format!("{CONFIGMAPS}?fieldValidation=Warn"), JSON, body).await;
    assert_eq!(warned.status, StatusCode::CREATED, "{}", warned.body);
    assert_eq!(
        warned.warnings,
        [
            "299 - \"unknown field \\\"dta\\\"\"",
            "299 - \"duplicate field \\\"metadata.name\\\"\"",
            "299 - \"duplicate field \\\"data.k\\\"\"",
        ]
    );
    assert_eq!(warned.body["metadata"]["name"], "dup", "the last value stands");
    assert_eq!(warned.body["data"], json!({"k": "2"}));

    let renamed = String::from_utf8_lossy(body).replace("\"dup\"", "\"dup2\"");
    let ignored =
        write(&cluster, Method::POST, &format!("{CONFIGMAPS}?fieldValidation=Ignore"), JSON, renamed.as_bytes()).await;
    assert_eq!(ignored.status, StatusCode::CREATED, "{}", ignored.body);
    assert!(ignored.warnings.is_empty());
    assert_eq!(ignored.body["metadata"]["name"], "dup2");
    assert!(ignored.body.get("dta").is_none());
}

#[tokio::test]
async fn patches_are_checked_on_the_patched_object_and_apply_refuses_undeclared_fields() {
    let cluster = cluster().await;
    write(&cluster, Method::POST, CONFIGMAPS, JSON, br#"{"metadata": {"name": "p"}, "data": {"a": "1"}}"#).await;
    let item = format!("{CONFIGMAPS}/p");
    let merge = "application/merge-patch+json";

    // Strict: upstream's 422 on the field `patch`.
    let strict =
        write(&cluster, Method::PATCH, &format!("{item}?fieldValidation=Strict"), merge, br#"{"dta": 1}"#).await;
    assert_eq!(strict.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", strict.body);
    assert_eq!(strict.body["reason"], "Invalid");
    let message = strict.body["message"].as_str().unwrap();
    assert!(message.starts_with(" \"\" is invalid: patch: Invalid value: "), "{message}");
    assert!(message.ends_with(": strict decoding error: unknown field \"dta\""), "{message}");
    let smp = "application/strategic-merge-patch+json";
    let strict = write(&cluster, Method::PATCH, &format!("{item}?fieldValidation=Strict"), smp, br#"{"dta": 1}"#).await;
    assert_eq!(
        strict.body["message"],
        " \"\" is invalid: patch: Invalid value: \"map[dta:1]\": strict decoding error: unknown field \"dta\""
    );
    let json_patch = br#"[{"op": "add", "path": "/dta", "value": 1}]"#;
    let strict = write(
        &cluster,
        Method::PATCH,
        &format!("{item}?fieldValidation=Strict"),
        "application/json-patch+json",
        json_patch,
    )
    .await;
    assert_eq!(strict.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", strict.body);

    // Warn (the default): applied without the unknown field, with a warning.
    let warned = write(&cluster, Method::PATCH, &item, merge, br#"{"dta": 1, "data": {"b": "2"}}"#).await;
    assert_eq!(warned.status, StatusCode::OK, "{}", warned.body);
    assert_eq!(warned.warnings, ["299 - \"unknown field \\\"dta\\\"\""]);
    let stored = send(&cluster, Method::GET, &item, None, vec![]).await.body;
    assert_eq!(stored["data"], json!({"a": "1", "b": "2"}));
    assert!(stored.get("dta").is_none(), "{stored}");

    // Duplicates in a patch body.
    let duplicated = br#"{"data": {"c": "1", "c": "2"}}"#;
    let strict = write(&cluster, Method::PATCH, &format!("{item}?fieldValidation=Strict"), smp, duplicated).await;
    assert_eq!(
        strict.body["message"],
        " \"\" is invalid: patch: Invalid value: \"map[data:map[c:2]]\": strict decoding error: duplicate field \"data.c\""
    );
    let warned = write(&cluster, Method::PATCH, &item, smp, duplicated).await;
    assert_eq!(warned.warnings, ["299 - \"duplicate field \\\"data.c\\\"\""]);
    assert_eq!(warned.body["data"]["c"], "2");

    // Server-side apply cannot type an undeclared field, whatever the mode: upstream's plain 500.
    let apply = "application/apply-patch+yaml";
    let config = br#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"}, "dta": 1}"#;
    let refused =
        write(&cluster, Method::PATCH, &format!("{item}?fieldManager=m&fieldValidation=Ignore"), apply, config).await;
    assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", refused.body);
    assert_eq!(
        refused.body["message"],
        "failed to create typed patch object (default/p; /v1, Kind=ConfigMap): .dta: field not declared in schema"
    );
    let duplicated = br#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p", "name": "p"}}"#;
    let strict =
        write(&cluster, Method::PATCH, &format!("{item}?fieldManager=m&fieldValidation=Strict"), apply, duplicated)
            .await;
    assert_eq!(strict.status, StatusCode::BAD_REQUEST, "{}", strict.body);
    assert_eq!(
        strict.body["message"],
        "error strict decoding patch: error converting YAML to JSON: yaml: unmarshal errors:\n  line 1: key \"name\" already set in map"
    );
}
