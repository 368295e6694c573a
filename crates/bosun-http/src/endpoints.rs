//! Everything that is not a resource: `/version`, health checks, discovery and OpenAPI.

use axum::response::{IntoResponse, Response};
use bosun_api::status::Status;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};

use crate::path::ApiPath;
use crate::respond;
use crate::service::HttpState;
use crate::service::Query;

/// The Kubernetes version Bosun serves.
pub const KUBERNETES_MAJOR: &str = "1";
/// The Kubernetes minor Bosun serves (the k8s-openapi feature of the workspace).
pub const KUBERNETES_MINOR: &str = "35";

/// The content type of aggregated discovery (v2) responses.
const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

fn text(code: StatusCode, body: &'static str) -> Response {
    (code, [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))], body).into_response()
}

/// `/version` and the health checks; `None` for any other path.
pub async fn non_api(
    state: &HttpState,
    method: &Method,
    path: &str,
    query: &Query,
    headers: &HeaderMap,
) -> Option<Response> {
    let path = path.trim_end_matches('/');
    let readable = matches!(*method, Method::GET | Method::HEAD);
    let response = match path {
        "/version" if readable => respond::json(StatusCode::OK, &version()),
        p if readable
            && HEALTH_ENDPOINTS.iter().any(|e| p == *e || p.strip_prefix(*e).is_some_and(|r| r.starts_with('/'))) =>
        {
            health(state, p, query.contains_key("verbose")).await
        }
        p if p == "/openapi/v3" || p.starts_with("/openapi/v3/") || p == "/openapi/v2" => {
            crate::openapi::serve(state, method, p, headers)
        }
        "" => respond::json(StatusCode::OK, &root_paths()),
        "/version" | "/healthz" | "/livez" | "/readyz" => respond::status(&Status::method_not_allowed(method.as_str())),
        _ => return None,
    };
    Some(response)
}

/// The health endpoints, as kube-apiserver serves them.
const HEALTH_ENDPOINTS: [&str; 3] = ["/healthz", "/livez", "/readyz"];

/// How long the store check waits for the store to answer.
const STORE_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// `/healthz`, `/livez`, `/readyz` and their single checks (`/readyz/etcd`), in kube-apiserver's
/// format: `ok` when every check passes (one line per check with `?verbose`), every check and
/// `<endpoint> check failed` with a 500 otherwise. The checks: `ping`, and the store answering a
/// read (named `etcd` on etcd, `store` on the embedded store), so that a load balancer stops
/// sending requests to a server whose store is gone.
async fn health(state: &HttpState, path: &str, verbose: bool) -> Response {
    let (endpoint, single) = match path[1..].split_once('/') {
        Some((endpoint, check)) => (endpoint, Some(check)),
        None => (&path[1..], None),
    };
    let store = state.api.store();
    let store_check = if store.kind() == "etcd" { "etcd" } else { "store" };
    let store_ok = matches!(tokio::time::timeout(STORE_CHECK_TIMEOUT, store.current_revision()).await, Ok(Ok(_)));
    let checks = [("ping", true), (store_check, store_ok)];
    if let Some(name) = single {
        return match checks.iter().find(|(check, _)| *check == name) {
            Some((_, true)) => text(StatusCode::OK, "ok"),
            Some((check, false)) => {
                plain(StatusCode::INTERNAL_SERVER_ERROR, format!("internal server error: {check} check failed\n"))
            }
            None => respond::status(&Status::path_not_found()),
        };
    }
    let passed = checks.iter().all(|(_, ok)| *ok);
    if passed && !verbose {
        return text(StatusCode::OK, "ok");
    }
    let mut body = String::new();
    for (check, ok) in checks {
        if ok {
            body.push_str(&format!("[+]{check} ok\n"));
        } else {
            body.push_str(&format!("[-]{check} failed: reason withheld\n"));
        }
    }
    let code = if passed { StatusCode::OK } else { StatusCode::INTERNAL_SERVER_ERROR };
    body.push_str(&format!("{endpoint} check {}\n", if passed { "passed" } else { "failed" }));
    plain(code, body)
}

fn plain(code: StatusCode, body: String) -> Response {
    (code, [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))], body).into_response()
}

fn version() -> Value {
    json!({
        "major": KUBERNETES_MAJOR,
        "minor": KUBERNETES_MINOR,
        "emulationMajor": KUBERNETES_MAJOR,
        "emulationMinor": KUBERNETES_MINOR,
        "gitVersion": format!("v{KUBERNETES_MAJOR}.{KUBERNETES_MINOR}.0+bosun-{}", env!("CARGO_PKG_VERSION")),
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "rust",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, go_arch()),
    })
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// `GET /`: the paths the server serves.
fn root_paths() -> Value {
    let mut paths = vec!["/api".to_string(), "/api/v1".to_string(), "/apis".to_string()];
    for (group, versions) in bosun_api::registry::group_versions() {
        if group.is_empty() {
            continue;
        }
        paths.push(format!("/apis/{group}"));
        for version in versions {
            paths.push(format!("/apis/{group}/{version}"));
        }
    }
    paths.extend(["/healthz", "/livez", "/openapi/v2", "/openapi/v3", "/readyz", "/version"].map(String::from));
    json!({ "paths": paths })
}

fn wants_aggregated(accept: Option<&str>) -> bool {
    accept.unwrap_or("").split(',').any(|entry| {
        let media = crate::negotiate::MediaType::parse(entry);
        media.essence == "application/json"
            && media.param("g") == Some("apidiscovery.k8s.io")
            && media.param("v") == Some("v2")
            && media.param("as") == Some("APIGroupDiscoveryList")
    })
}

/// Discovery documents.
pub fn discovery(state: &HttpState, method: &Method, path: &ApiPath, accept: Option<&str>) -> Result<Response, Status> {
    if !matches!(*method, Method::GET | Method::HEAD) {
        return Err(Status::method_not_allowed(method.as_str()));
    }
    use bosun_api::discovery as d;
    let address = &state.config.server_address;
    let aggregated = |document: Value| {
        let mut response = respond::json(StatusCode::OK, &document);
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(AGGREGATED));
        response.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept"));
        response
    };
    Ok(match path {
        ApiPath::CoreVersions if wants_aggregated(accept) => aggregated(d::aggregated_core()),
        ApiPath::Groups if wants_aggregated(accept) => aggregated(d::aggregated_groups()),
        ApiPath::CoreVersions => respond::json(StatusCode::OK, &d::api_versions(address)),
        ApiPath::Groups => respond::json(StatusCode::OK, &d::api_group_list(address)),
        ApiPath::Group(group) => {
            respond::json(StatusCode::OK, &d::api_group(group, address).ok_or_else(Status::path_not_found)?)
        }
        ApiPath::Resources { group, version } => {
            respond::json(StatusCode::OK, &d::api_resource_list(group, version).ok_or_else(Status::path_not_found)?)
        }
        ApiPath::Resource(_) => unreachable!("resources are handled by the caller"),
    })
}
