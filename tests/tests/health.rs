//! The health endpoints (`/healthz`, `/livez`, `/readyz`) in kube-apiserver's format, with a
//! check of the store: a server whose store is gone answers 500, so a load balancer stops
//! sending it requests.

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(cluster: &bosun::Cluster, path: &str) -> (StatusCode, String) {
    let request = Request::builder().uri(path).body(Body::empty()).unwrap();
    let response = cluster.router().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn the_health_endpoints_check_the_store_and_fail_once_it_is_closed() {
    let cluster = bosun::Cluster::builder().temporary().controllers(false).start().await.unwrap();
    for endpoint in ["/healthz", "/livez", "/readyz"] {
        assert_eq!(get(&cluster, endpoint).await, (StatusCode::OK, "ok".to_string()));
    }
    let verbose = get(&cluster, "/readyz?verbose").await;
    assert_eq!(verbose, (StatusCode::OK, "[+]ping ok\n[+]store ok\nreadyz check passed\n".to_string()));
    assert_eq!(get(&cluster, "/readyz/store").await, (StatusCode::OK, "ok".to_string()));
    assert_eq!(get(&cluster, "/livez/ping").await, (StatusCode::OK, "ok".to_string()));
    assert_eq!(get(&cluster, "/readyz/no-such-check").await.0, StatusCode::NOT_FOUND);

    cluster.embedded_store().expect("embedded").close().unwrap();
    let (status, body) = get(&cluster, "/readyz").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, "[+]ping ok\n[-]store failed: reason withheld\nreadyz check failed\n");
    let (status, body) = get(&cluster, "/healthz/store").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal server error: store check failed\n")
    );
}
