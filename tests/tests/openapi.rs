//! OpenAPI over HTTP: the v2 document (Swagger 2.0, JSON) converted from the v3 documents.

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

#[tokio::test]
async fn openapi_v2_is_swagger_2_json_with_definitions_and_extensions() {
    let cluster = bosun::Cluster::builder().temporary().start().await.unwrap();
    let request = Request::get("/openapi/v2").header("accept", "application/json").body(Body::empty()).unwrap();
    let response = cluster.router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(document["swagger"], "2.0");
    let deployment = &document["definitions"]["io.k8s.api.apps.v1.Deployment"];
    assert_eq!(deployment["x-kubernetes-group-version-kind"][0]["kind"], "Deployment");
    assert!(!document.to_string().contains("#/components/schemas/"), "every reference points at #/definitions/");
    let patch = &document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    let parameters = patch["parameters"].as_array().unwrap();
    assert!(parameters.iter().any(|p| p["name"] == "fieldValidation" && p["in"] == "query" && p["type"] == "string"));
    assert!(parameters.iter().any(|p| p["in"] == "body"));
    assert!(patch["consumes"].as_array().unwrap().iter().any(|c| c == "application/strategic-merge-patch+json"));

    // kubectl's protobuf-only request cannot be served.
    let protobuf = Request::get("/openapi/v2")
        .header("accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
        .body(Body::empty())
        .unwrap();
    assert_eq!(cluster.router().oneshot(protobuf).await.unwrap().status(), StatusCode::NOT_ACCEPTABLE);
}
