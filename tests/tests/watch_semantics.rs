//! Watch semantics over HTTP, through the router in-process: start points, watch-list, bookmarks,
//! selector transitions and timeouts, as clients rely on them.

use std::time::Duration;

use axum::body::Body;
use http::{Method, Request};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

async fn cluster() -> bosun::Cluster {
    let http = bosun_http::HttpConfig { bookmark_interval: Duration::from_millis(100), ..Default::default() };
    // No controllers: these tests compare event revisions with the store's, which controllers'
    // own writes (the node's heartbeat) would move.
    bosun::Cluster::builder().temporary().controllers(false).http(http).start().await.unwrap()
}

async fn request(cluster: &bosun::Cluster, method: Method, path: &str, body: Option<Value>) -> Value {
    let mut builder = Request::builder().method(method).uri(path);
    if body.is_some() {
        builder = builder.header("content-type", "application/merge-patch+json");
    }
    let body = body.map_or(Body::empty(), |b| Body::from(serde_json::to_vec(&b).unwrap()));
    let response = cluster.router().oneshot(builder.body(body).unwrap()).await.unwrap();
    serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

async fn create(cluster: &bosun::Cluster, name: &str, labels: Value) -> Value {
    let body = serde_json::to_vec(&json!({"metadata": {"name": name, "labels": labels}})).unwrap();
    let request = Request::post(CONFIGMAPS).header("content-type", "application/json").body(Body::from(body)).unwrap();
    let response = cluster.router().oneshot(request).await.unwrap();
    serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

/// An open watch: reads events line by line.
struct Stream {
    body: Body,
    buffer: Vec<u8>,
}

impl Stream {
    async fn open(cluster: &bosun::Cluster, query: &str) -> Stream {
        let request = Request::get(format!("{CONFIGMAPS}?watch=true&{query}")).body(Body::empty()).unwrap();
        let response = cluster.router().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200);
        Stream { body: response.into_body(), buffer: Vec::new() }
    }

    /// The next event, or `None` when the server ended the stream.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Some(serde_json::from_slice(&line).unwrap());
            }
            let frame =
                tokio::time::timeout(Duration::from_secs(10), self.body.frame()).await.expect("no event in 10 s");
            match frame {
                None => return None,
                Some(frame) => self.buffer.extend_from_slice(frame.unwrap().data_ref().unwrap()),
            }
        }
    }

    async fn next_of(&mut self, types: &[&str]) -> Value {
        loop {
            let event = self.next().await.expect("stream ended");
            if types.contains(&event["type"].as_str().unwrap()) {
                return event;
            }
        }
    }
}

fn name(event: &Value) -> &str {
    event["object"]["metadata"]["name"].as_str().unwrap_or("")
}

#[tokio::test]
async fn without_a_resource_version_the_current_state_arrives_as_added_then_changes() {
    let cluster = cluster().await;
    create(&cluster, "a", json!({})).await;
    let mut stream = Stream::open(&cluster, "").await;
    let first = stream.next().await.unwrap();
    assert_eq!((first["type"].as_str(), name(&first)), (Some("ADDED"), "a"));
    create(&cluster, "b", json!({})).await;
    let second = stream.next().await.unwrap();
    assert_eq!((second["type"].as_str(), name(&second)), (Some("ADDED"), "b"));
}

#[tokio::test]
async fn an_exact_resource_version_replays_nothing_and_streams_changes_after_it() {
    let cluster = cluster().await;
    let a = create(&cluster, "a", json!({})).await;
    create(&cluster, "b", json!({})).await;
    let rv = a["metadata"]["resourceVersion"].as_str().unwrap();
    let mut stream = Stream::open(&cluster, &format!("resourceVersion={rv}")).await;
    let event = stream.next().await.unwrap();
    assert_eq!((event["type"].as_str(), name(&event)), (Some("ADDED"), "b"), "only the change after {rv}");
}

#[tokio::test]
async fn watch_list_ends_its_initial_events_with_the_annotated_bookmark() {
    let cluster = cluster().await;
    create(&cluster, "a", json!({})).await;
    create(&cluster, "b", json!({})).await;
    let query = "sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true";
    let mut stream = Stream::open(&cluster, query).await;
    let mut initial = Vec::new();
    loop {
        let event = stream.next().await.unwrap();
        if event["type"] == "BOOKMARK" {
            assert_eq!(event["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
            assert_eq!(event["object"]["kind"], "ConfigMap");
            let rv: u64 = event["object"]["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
            assert_eq!(rv, cluster.api().store().current_revision().await.unwrap());
            break;
        }
        initial.push(name(&event).to_string());
    }
    initial.sort();
    assert!(initial.contains(&"a".to_string()) && initial.contains(&"b".to_string()), "{initial:?}");
}

#[tokio::test]
async fn bookmarks_arrive_when_asked_and_never_go_behind_delivered_events() {
    let cluster = cluster().await;
    let rv = cluster.api().store().current_revision().await.unwrap();
    let mut stream = Stream::open(&cluster, &format!("resourceVersion={rv}&allowWatchBookmarks=true")).await;
    let created = create(&cluster, "a", json!({})).await;
    let created_rv: u64 = created["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    assert_eq!(stream.next_of(&["ADDED"]).await["object"]["metadata"]["name"], "a");
    let bookmark = stream.next_of(&["BOOKMARK"]).await;
    let bookmark_rv: u64 = bookmark["object"]["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    assert!(bookmark_rv >= created_rv);
}

#[tokio::test]
async fn an_object_that_stops_matching_the_selector_arrives_as_deleted() {
    let cluster = cluster().await;
    create(&cluster, "a", json!({"tier": "web"})).await;
    let rv = cluster.api().store().current_revision().await.unwrap();
    let mut stream = Stream::open(&cluster, &format!("resourceVersion={rv}&labelSelector=tier%3Dweb")).await;
    request(&cluster, Method::PATCH, &format!("{CONFIGMAPS}/a"), Some(json!({"metadata": {"labels": {"tier": "db"}}})))
        .await;
    let gone = stream.next().await.unwrap();
    assert_eq!(gone["type"], "DELETED");
    assert_eq!(gone["object"]["metadata"]["labels"]["tier"], "web", "the last matching state");
    assert_eq!(
        gone["object"]["metadata"]["resourceVersion"].as_str().unwrap(),
        cluster.api().store().current_revision().await.unwrap().to_string(),
        "at the revision of the change"
    );
    request(
        &cluster,
        Method::PATCH,
        &format!("{CONFIGMAPS}/a"),
        Some(json!({"metadata": {"labels": {"tier": "web"}}})),
    )
    .await;
    assert_eq!(stream.next().await.unwrap()["type"], "ADDED");
}

#[tokio::test]
async fn a_delete_event_carries_the_last_state_at_the_deletion_revision() {
    let cluster = cluster().await;
    create(&cluster, "a", json!({"k": "v"})).await;
    let rv = cluster.api().store().current_revision().await.unwrap();
    let mut stream = Stream::open(&cluster, &format!("resourceVersion={rv}")).await;
    request(&cluster, Method::DELETE, &format!("{CONFIGMAPS}/a"), None).await;
    let deleted = stream.next().await.unwrap();
    assert_eq!(deleted["type"], "DELETED");
    assert_eq!(deleted["object"]["metadata"]["labels"]["k"], "v");
    assert_eq!(
        deleted["object"]["metadata"]["resourceVersion"],
        cluster.api().store().current_revision().await.unwrap().to_string()
    );
}

#[tokio::test]
async fn timeout_seconds_ends_the_stream_cleanly() {
    let cluster = cluster().await;
    let rv = cluster.api().store().current_revision().await.unwrap();
    let mut stream = Stream::open(&cluster, &format!("resourceVersion={rv}&timeoutSeconds=1")).await;
    let started = std::time::Instant::now();
    assert!(stream.next().await.is_none(), "no events, then the end");
    assert!(started.elapsed() >= Duration::from_millis(900));
}
