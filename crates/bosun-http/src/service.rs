//! The router: maps URLs, verbs, query parameters and content negotiation onto `bosun_api::Api`.
//!
//! It is a `tower::Service` (an axum `Router`), so the same value serves TCP, TLS and in-process
//! callers: `kube::Client::new(router, "default")` needs no socket.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bosun_api::api::{Api, Deleted, Subresource, WriteOptions};
use bosun_api::field_validation::{self, FieldValidation, PathStyle};
use bosun_api::registry::ResourceType;
use bosun_api::status::Status;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::Value;

use crate::negotiate::{self, BodyFormat};
use crate::path::{self, ApiPath, ResourcePath};
use crate::respond;

/// Limits and identity of the HTTP front.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted; larger ones get 413. Default 3 MiB, as upstream.
    pub body_limit_bytes: usize,
    /// `host:port` advertised in discovery documents.
    pub server_address: String,
    /// Concurrent watches allowed; more get 429. Default 10 000.
    pub watches_max: usize,
    /// How long a watch without `timeoutSeconds` lasts. Default 30 minutes.
    pub watch_timeout_default: Duration,
    /// How often a watch that allows bookmarks gets one. Default 60 seconds.
    pub bookmark_interval: Duration,
    /// How long a request other than a watch may take before it is answered 504. Default 60
    /// seconds, as kube-apiserver's `--request-timeout`.
    pub request_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_limit_bytes: 3 * 1024 * 1024,
            server_address: "127.0.0.1:6443".into(),
            watches_max: 10_000,
            watch_timeout_default: Duration::from_secs(1800),
            bookmark_interval: Duration::from_secs(60),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// Shared state of the router.
#[derive(Clone)]
pub struct HttpState {
    pub(crate) api: Api,
    pub(crate) config: Arc<HttpConfig>,
    pub(crate) watch_slots: Arc<tokio::sync::Semaphore>,
    pub(crate) shutdown: tokio::sync::watch::Receiver<bool>,
}

/// A handle that ends every open watch cleanly when the server shuts down.
pub struct ShutdownHandle(tokio::sync::watch::Sender<bool>);

impl ShutdownHandle {
    /// Ends open watches (their streams close) and makes new ones end at once.
    pub fn shutdown(&self) {
        let _ = self.0.send(true);
    }
}

/// Builds the router over `api`.
pub fn router(api: Api, config: HttpConfig) -> (axum::Router, ShutdownHandle) {
    let (shutdown_tx, shutdown) = tokio::sync::watch::channel(false);
    let state = HttpState {
        api,
        watch_slots: Arc::new(tokio::sync::Semaphore::new(config.watches_max)),
        config: Arc::new(config),
        shutdown,
    };
    let router = axum::Router::new()
        .fallback(handle)
        .with_state(state)
        .layer(axum::middleware::from_fn(crate::compression::gzip_large_responses));
    (router, ShutdownHandle(shutdown_tx))
}

/// Query parameters; a repeated key keeps its first value.
pub(crate) type Query = HashMap<String, String>;

fn parse_query(query: Option<&str>) -> Query {
    let mut out = Query::new();
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        out.entry(key.into_owned()).or_insert_with(|| value.into_owned());
    }
    out
}

async fn handle(State(state): State<HttpState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let query = parse_query(parts.uri.query());
    let path = parts.uri.path().to_string();
    let accept = parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).map(str::to_string);

    if let Some(response) = crate::endpoints::non_api(&state, &parts.method, &path, &query, &parts.headers).await {
        return response;
    }
    let Some(api_path) = path::parse(&path) else {
        return respond::status(&Status::path_not_found());
    };
    let body = match axum::body::to_bytes(body, state.config.body_limit_bytes).await {
        Ok(body) => body,
        Err(_) => return respond::status(&Status::too_large(state.config.body_limit_bytes)),
    };
    let result = match api_path {
        ApiPath::Resource(resource_path) => {
            // Watches are long-running by design; everything else is bounded.
            let watching = resource_path.watch_prefix || is_watch(&query);
            let work =
                handle_resource(&state, &parts.method, &parts.headers, resource_path, &query, accept.as_deref(), body);
            if watching {
                work.await
            } else {
                tokio::time::timeout(state.config.request_timeout, work).await.unwrap_or_else(|_| {
                    Err(Status::timeout(format!(
                        "the request did not complete within {} seconds; retry it",
                        state.config.request_timeout.as_secs()
                    )))
                })
            }
        }
        discovery => crate::endpoints::discovery(&state, &parts.method, &discovery, accept.as_deref()),
    };
    result.unwrap_or_else(|status| respond::status(&status))
}

/// Write options of a PATCH (the same parameters as any write). An apply patch must name its
/// manager in `fieldManager`; other patches fall back to the User-Agent.
pub(crate) fn write_options_for_patch(query: &Query, headers: &HeaderMap) -> Result<WriteOptions, Status> {
    let mut options = write_options(query, headers)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if bosun_api::patch::PatchType::from_content_type(content_type) == Some(bosun_api::patch::PatchType::Apply) {
        options.field_manager = query.get("fieldManager").cloned().filter(|m| !m.is_empty());
    }
    Ok(options)
}

/// The manager of a write: `?fieldManager=`, else the User-Agent up to its first `/`, as
/// upstream names managers in `managedFields`.
fn field_manager(query: &Query, headers: &HeaderMap) -> Result<Option<String>, Status> {
    if let Some(manager) = query.get("fieldManager").filter(|m| !m.is_empty()) {
        let mut errors = Vec::new();
        if manager.len() > bosun_api::managed_fields::MANAGER_LENGTH_MAX_BYTES {
            errors.push(bosun_api::status::FieldError::too_long(
                "fieldManager",
                format!("may not be more than {} bytes", bosun_api::managed_fields::MANAGER_LENGTH_MAX_BYTES),
            ));
        }
        if let Some((position, c)) = manager.char_indices().find(|(_, c)| c.is_control()) {
            errors.push(bosun_api::status::FieldError::invalid(
                "fieldManager",
                manager.as_str(),
                format!("invalid character U+{:04X} (at position {position})", u32::from(c)),
            ));
        }
        if !errors.is_empty() {
            return Err(Status::invalid("CreateOptions", "meta.k8s.io", "", &errors));
        }
        return Ok(Some(manager.clone()));
    }
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let manager = bosun_api::managed_fields::manager_from_user_agent(user_agent);
    Ok(Some(manager).filter(|m| !m.is_empty()))
}

fn write_options(query: &Query, headers: &HeaderMap) -> Result<WriteOptions, Status> {
    let dry_run = match query.get("dryRun").map(String::as_str) {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(Status::invalid(
                "CreateOptions",
                "meta.k8s.io",
                "",
                &[bosun_api::status::FieldError::not_supported("dryRun", other, &["All"])],
            ));
        }
    };
    let field_validation = match query.get("fieldValidation").map(String::as_str) {
        // Upstream's server default.
        None | Some("") => FieldValidation::Warn,
        Some(text) => FieldValidation::parse(text).ok_or_else(|| {
            Status::invalid(
                "CreateOptions",
                "meta.k8s.io",
                "",
                &[bosun_api::status::FieldError::not_supported("fieldValidation", text, &["Ignore", "Strict", "Warn"])],
            )
        })?,
    };
    Ok(WriteOptions { dry_run, field_manager: field_manager(query, headers)?, field_validation })
}

/// The duplicate fields of a JSON body (upstream's strict JSON decoder reports them; YAML and
/// protobuf bodies are not scanned), once `body` has decoded. Under `Strict` any duplicate is
/// the 400 that lists every strict error of the body (unknown fields too); under `Warn` they are
/// returned as warnings; under `Ignore` the last value stands, as `body` already has it.
/// Duplicates inside an unknown field are not reported: that field is.
pub(crate) fn duplicate_fields(
    rt: &ResourceType,
    options: &WriteOptions,
    headers: &HeaderMap,
    bytes: &[u8],
    body: &Value,
) -> Result<Vec<String>, Status> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let is_json = matches!(negotiate::body_format(content_type), Ok(BodyFormat::Json))
        && !content_type.is_some_and(crate::protobuf::is_protobuf);
    if options.field_validation == FieldValidation::Ignore || !is_json {
        return Ok(Vec::new());
    }
    let duplicates = field_validation::duplicate_fields(bytes);
    if duplicates.is_empty() {
        return Ok(Vec::new());
    }
    let unknown = field_validation::prune_unknown(rt, &mut body.clone(), false, PathStyle::Json);
    let errors = field_validation::strict_errors(&unknown, &duplicates);
    let reported: Vec<String> = errors.iter().skip(unknown.len()).cloned().collect();
    match options.field_validation {
        FieldValidation::Strict if !reported.is_empty() => Err(field_validation::strict_decoding_error(rt, &errors)),
        _ => Ok(reported),
    }
}

/// Adds `Warning` headers (`299 - "<text>"`), as upstream reports unknown fields under `Warn`.
pub(crate) fn with_warnings(mut response: Response, warnings: &[String]) -> Response {
    for warning in warnings {
        let text = format!("299 - \"{}\"", warning.replace('"', "\\\""));
        if let Ok(value) = HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    response
}

/// Decodes a JSON or YAML object body.
pub(crate) fn decode_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, Status> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    // kubectl's generators (`create namespace`, `create deployment`...) send protobuf and never
    // fall back to JSON.
    if content_type.is_some_and(crate::protobuf::is_protobuf) {
        return crate::protobuf::decode(body).map_err(|e| Status::bad_request(e.to_string()));
    }
    let value: Value = match negotiate::body_format(content_type)? {
        BodyFormat::Json => serde_json::from_slice(body)
            .map_err(|e| Status::bad_request(format!("the body of the request could not be decoded as JSON: {e}")))?,
        BodyFormat::Yaml => crate::yaml::from_slice(body)?,
    };
    if !value.is_object() {
        return Err(Status::bad_request("the body of the request must be an object"));
    }
    Ok(value)
}

/// `watch=true` (any value but `false`, `0` or empty).
fn is_watch(query: &Query) -> bool {
    query.get("watch").is_some_and(|w| !matches!(w.as_str(), "false" | "0" | ""))
}

fn subresource_of(rt: &ResourceType, path: &ResourcePath) -> Result<Option<&'static str>, Status> {
    match path.subresource.as_deref() {
        None => Ok(None),
        Some(sub) => {
            rt.subresources.iter().find(|s| s.name == sub).map(|s| Some(s.name)).ok_or_else(Status::path_not_found)
        }
    }
}

async fn handle_resource(
    state: &HttpState,
    method: &Method,
    headers: &HeaderMap,
    path: ResourcePath,
    query: &Query,
    accept: Option<&str>,
    body: Bytes,
) -> Result<Response, Status> {
    let rt =
        bosun_api::registry::find(&path.group, &path.version, &path.resource).ok_or_else(Status::path_not_found)?;
    let subresource = subresource_of(rt, &path)?;
    let api = &state.api;
    let namespace = path.namespace.as_deref().unwrap_or("");
    if rt.namespaced && path.name.is_some() && path.namespace.is_none() {
        return Err(Status::path_not_found());
    }
    // The all-namespaces collection of a namespaced type only lists and watches.
    if rt.namespaced && path.namespace.is_none() && *method != Method::GET {
        return Err(Status::method_not_allowed(method.as_str()));
    }
    let watching = path.watch_prefix || is_watch(query);
    match (method.clone(), path.name.as_deref(), subresource) {
        (Method::GET, None, None) if watching => {
            crate::watch::serve(state, rt, path.namespace.as_deref(), query, accept).await
        }
        (Method::GET, None, None) => {
            let output = negotiate::negotiate(accept, true)?;
            let list = crate::list::list(api, rt, path.namespace.as_deref(), query).await?;
            respond::list(rt, &list, output, query, api)
        }
        (Method::GET, Some(name), None | Some("status")) => {
            let output = negotiate::negotiate(accept, false)?;
            let object = api.get(rt, namespace, name).await?;
            respond::object(rt, object, output, query, api, StatusCode::OK)
        }
        (Method::GET, Some(name), Some("scale")) => {
            Ok(respond::json(StatusCode::OK, &api.get_scale(rt, namespace, name).await?))
        }
        // A scheduler's binding: the `bindings` collection, or `pods/{name}/binding` below.
        (Method::POST, None, None) if rt.kind == "Binding" => {
            let body = decode_body(headers, &body)?;
            let status = api.bind_pod(namespace, None, body).await?;
            Ok(respond::json(StatusCode::CREATED, &status.to_value()))
        }
        (Method::POST, None, None) => {
            let output = negotiate::negotiate(accept, false)?;
            let options = write_options(query, headers)?;
            let decoded = decode_body(headers, &body)?;
            let mut warnings = duplicate_fields(rt, &options, headers, &body, &decoded)?;
            let created = api.create_warned(rt, namespace, decoded, &options).await?;
            warnings.splice(0..0, created.warnings);
            Ok(with_warnings(respond::object(rt, created.object, output, query, api, StatusCode::CREATED)?, &warnings))
        }
        (Method::POST, Some(name), Some("binding")) if rt.kind == "Pod" => {
            let body = decode_body(headers, &body)?;
            let status = api.bind_pod(namespace, Some(name), body).await?;
            Ok(respond::json(StatusCode::CREATED, &status.to_value()))
        }
        (Method::PUT, Some(name), sub @ (None | Some("status"))) => {
            let output = negotiate::negotiate(accept, false)?;
            let options = write_options(query, headers)?;
            let decoded = decode_body(headers, &body)?;
            let mut warnings = duplicate_fields(rt, &options, headers, &body, &decoded)?;
            let which = if sub.is_some() { Subresource::Status } else { Subresource::Main };
            let updated = api.update_warned(rt, namespace, name, which, decoded, &options).await?;
            warnings.splice(0..0, updated.warnings);
            Ok(with_warnings(respond::object(rt, updated.object, output, query, api, StatusCode::OK)?, &warnings))
        }
        (Method::PUT, Some(name), Some("scale")) => {
            let body = decode_body(headers, &body)?;
            Ok(respond::json(
                StatusCode::OK,
                &api.update_scale(rt, namespace, name, body, &write_options(query, headers)?).await?,
            ))
        }
        (Method::PUT, Some(name), Some("finalize")) => {
            let body = decode_body(headers, &body)?;
            let updated = api.finalize_namespace(rt, name, body, &write_options(query, headers)?).await?;
            Ok(respond::json(StatusCode::OK, &updated))
        }
        (Method::PATCH, Some(name), sub) => {
            crate::patch::patch(state, rt, namespace, name, sub, headers, query, accept, &body).await
        }
        (Method::DELETE, Some(name), None) => {
            let options = crate::delete::options(query, &body)?;
            match api.delete(rt, namespace, name, &options).await? {
                Deleted::Object(object) => Ok(respond::json(StatusCode::OK, &object)),
                Deleted::Status(status) => Ok(respond::json(StatusCode::OK, &status.to_value())),
            }
        }
        (Method::DELETE, None, None) if rt.verbs.contains(&"deletecollection") => {
            crate::delete::delete_collection(api, rt, path.namespace.as_deref(), query, &body).await
        }
        (method, _, _) => Err(Status::method_not_allowed(method.as_str())),
    }
}

/// Wraps a body in a response with a JSON content type.
pub(crate) fn json_bytes(code: StatusCode, body: impl Into<Body>) -> Response {
    (code, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body.into()).into_response()
}
