//! Watches over chunked HTTP: one JSON event per line, each flushed as written, the event bytes
//! shared with every other watcher of the same event; `timeoutSeconds`; a clean end on shutdown.

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bosun_api::options;
use bosun_api::registry::ResourceType;
use bosun_api::status::Status;
use bosun_api::table;
use bosun_api::watch::{ApiWatch, EventType};
use bytes::Bytes;
use http::StatusCode;
use serde_json::json;

use crate::negotiate::{self, Output};
use crate::service::{HttpState, Query, json_bytes};

/// Everything one watch stream needs between events.
struct Stream {
    watch: ApiWatch,
    deadline: tokio::time::Instant,
    shutdown: tokio::sync::watch::Receiver<bool>,
    table: Option<TableState>,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

struct TableState {
    group: &'static str,
    kind: &'static str,
    include: table::IncludeObject,
    columns_sent: bool,
    clock: std::sync::Arc<dyn bosun_api::clock::Clock>,
}

/// Starts a watch response; errors before streaming are ordinary Status responses.
pub async fn serve(
    state: &HttpState,
    rt: &'static ResourceType,
    namespace: Option<&str>,
    query: &Query,
    accept: Option<&str>,
) -> Result<Response, Status> {
    let output = negotiate::negotiate(accept, true)?;
    let lookup = |key: &str| query.get(key).map(String::as_str);
    let filter = options::filter(rt, &lookup)?;
    let mut params = options::watch_params(&lookup)?;
    params.bookmark_interval = Some(state.config.bookmark_interval);
    let timeout = match lookup("timeoutSeconds").filter(|s| !s.is_empty()) {
        Some(text) => Duration::from_secs(
            text.parse::<u64>().map_err(|_| Status::bad_request(format!("invalid timeoutSeconds: {text}")))?,
        ),
        None => state.config.watch_timeout_default,
    };
    let include = negotiate::include_object(lookup("includeObject"))?;
    let slot = state.watch_slots.clone().try_acquire_owned().map_err(|_| {
        let mut status = Status::failure(429, "TooManyRequests", "too many watches are open; retry later");
        status.details =
            Some(Box::new(bosun_api::status::StatusDetails { retry_after_seconds: Some(1), ..Default::default() }));
        status
    })?;
    let watch = state.api.watch(rt, namespace, &params, filter).await?;
    let table = (output == Output::Table).then(|| TableState {
        group: rt.group,
        kind: rt.kind,
        include,
        columns_sent: false,
        clock: state.api.clock().clone(),
    });
    let stream = Stream {
        watch,
        deadline: tokio::time::Instant::now() + timeout,
        shutdown: state.shutdown.clone(),
        table,
        _slot: slot,
    };
    let body = futures_util::stream::unfold(stream, |mut stream| async move {
        if *stream.shutdown.borrow() {
            return None;
        }
        let event = tokio::select! {
            event = stream.watch.next() => event?,
            () = tokio::time::sleep_until(stream.deadline) => return None,
            _ = stream.shutdown.changed() => return None,
        };
        let line = match stream.table.as_mut() {
            Some(table_state)
                if matches!(event.event_type, EventType::Added | EventType::Modified | EventType::Deleted) =>
            {
                let object = event.object_value();
                let metadata = json!({"resourceVersion": bosun_api::meta::resource_version(&object)});
                let table = table::table(
                    table_state.group,
                    table_state.kind,
                    &[object],
                    metadata,
                    table_state.clock.now(),
                    table_state.include,
                    !table_state.columns_sent,
                );
                table_state.columns_sent = true;
                let line = json!({"type": event.event_type.as_str(), "object": table});
                let mut bytes = serde_json::to_vec(&line).expect("serializes");
                bytes.push(b'\n');
                Bytes::from(bytes)
            }
            _ => event.to_line(),
        };
        Some((Ok::<_, std::convert::Infallible>(line), stream))
    });
    Ok(json_bytes(StatusCode::OK, Body::from_stream(body)))
}
