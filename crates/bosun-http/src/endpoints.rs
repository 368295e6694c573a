//! Everything that is not a resource: `/version`, health checks, discovery and OpenAPI.

use axum::response::{IntoResponse, Response};
use bosun_api::status::Status;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};

use crate::path::ApiPath;
use crate::respond;
use crate::service::HttpState;

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
pub fn non_api(state: &HttpState, method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
    let path = path.trim_end_matches('/');
    let readable = matches!(*method, Method::GET | Method::HEAD);
    let response = match path {
        "/version" if readable => respond::json(StatusCode::OK, &version()),
        "/healthz" | "/livez" | "/readyz" if readable => text(StatusCode::OK, "ok"),
        p if readable && (p.starts_with("/healthz/") || p.starts_with("/livez/") || p.starts_with("/readyz/")) => {
            text(StatusCode::OK, "ok")
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
