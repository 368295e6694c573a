//! Watch semantics on top of the store's watch: start points, initial events, watch-list,
//! bookmarks, selector transitions and the Expired error.
//!
//! - `resourceVersion` unset or `"0"`: synthetic `ADDED` for every matching object at the current
//!   revision, then changes after it.
//! - `resourceVersion=N`: every matching change after N, no synthetic events; N compacted → one
//!   `ERROR` event carrying a 410 Expired Status, then the end.
//! - `sendInitialEvents=true` (watch-list): the synthetic `ADDED`s, then a `BOOKMARK` annotated
//!   `k8s.io/initial-events-end: "true"` at the snapshot revision, then changes.
//! - With a selector: an object that starts matching arrives as `ADDED`, one that stops matching
//!   as `DELETED` carrying its last matching state at the revision of the change.
//!
//! Unfiltered events are encoded once per store event and shared by every watcher. A watch on a
//! converted view (`autoscaling/v1` HPAs, `events.k8s.io/v1` Events) follows the storage
//! version's keys, so it sees writes made through every version, each event converted for it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bosun_store::{EventKind, WatchItem, WatchRequest};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::api::{Api, ListParams, api_version, prefix};
use crate::conversion;
use crate::meta;
use crate::registry::ResourceType;
use crate::status::Status;

/// Selects the objects a watch or list returns (label and field selectors).
pub type ObjectFilter = Arc<dyn Fn(&Value) -> bool + Send + Sync>;

/// The type of a watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created, or started matching the selector.
    Added,
    /// Changed.
    Modified,
    /// Deleted, or stopped matching the selector.
    Deleted,
    /// Progress: everything up to the object's resourceVersion was delivered.
    Bookmark,
    /// A failure; the object is a Status and the stream ends.
    Error,
}

impl EventType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
            EventType::Bookmark => "BOOKMARK",
            EventType::Error => "ERROR",
        }
    }
}

/// One watch event, ready to be written out.
#[derive(Debug, Clone)]
pub struct WatchEvent {
    /// What happened.
    pub event_type: EventType,
    /// The object's JSON.
    pub object: Bytes,
    /// The encoded line, when it is shared with other watchers.
    line: Option<Bytes>,
}

fn encode_line(event_type: EventType, object: &[u8]) -> Bytes {
    let mut line = Vec::with_capacity(object.len() + 32);
    line.extend_from_slice(b"{\"type\":\"");
    line.extend_from_slice(event_type.as_str().as_bytes());
    line.extend_from_slice(b"\",\"object\":");
    line.extend_from_slice(object);
    line.extend_from_slice(b"}\n");
    Bytes::from(line)
}

impl WatchEvent {
    fn new(event_type: EventType, object: Bytes) -> Self {
        WatchEvent { event_type, object, line: None }
    }

    /// `{"type":"...","object":{...}}\n`.
    pub fn to_line(&self) -> Bytes {
        self.line.clone().unwrap_or_else(|| encode_line(self.event_type, &self.object))
    }

    /// The object as a JSON value.
    pub fn object_value(&self) -> Value {
        serde_json::from_slice(&self.object).unwrap_or(Value::Null)
    }
}

/// Where a watch starts, decoded from `resourceVersion`, `resourceVersionMatch` and
/// `sendInitialEvents`.
#[derive(Debug, Clone, Default)]
pub struct WatchParams {
    /// `resourceVersion`: `None` when unset.
    pub resource_version: Option<u64>,
    /// `sendInitialEvents`.
    pub send_initial_events: Option<bool>,
    /// `allowWatchBookmarks`.
    pub allow_bookmarks: bool,
    /// How often to send bookmarks when allowed.
    pub bookmark_interval: Option<Duration>,
}

/// A running API watch.
pub struct ApiWatch {
    initial: VecDeque<WatchEvent>,
    inner: Option<bosun_store::Watch>,
    filter: Option<ObjectFilter>,
    kind: &'static str,
    api_version: String,
    /// The served type, when it is a converted view: events are converted one by one.
    converted: Option<&'static ResourceType>,
    ended: bool,
}

impl Api {
    /// Starts a watch. Errors detectable before streaming are returned as `Err` (the HTTP layer
    /// answers them with a status code); a compacted start revision is an `ERROR` event instead.
    pub async fn watch(
        &self,
        rt: &'static ResourceType,
        namespace: Option<&str>,
        params: &WatchParams,
        filter: Option<ObjectFilter>,
    ) -> Result<ApiWatch, Status> {
        let mut watch = ApiWatch {
            initial: VecDeque::new(),
            inner: None,
            filter: filter.clone(),
            kind: rt.kind,
            api_version: api_version(rt),
            converted: conversion::converts(rt).then_some(rt),
            ended: false,
        };
        let replay = match (params.send_initial_events, params.resource_version) {
            (Some(send), _) => send,
            (None, None | Some(0)) => true,
            (None, Some(_)) => false,
        };
        let start = if replay {
            let all = |object: &Value| filter.as_ref().is_none_or(|f| f(object));
            let list = self.list(rt, namespace, &ListParams::default(), &all).await?;
            for item in list.items {
                watch.initial.push_back(WatchEvent::new(EventType::Added, item));
            }
            if params.send_initial_events == Some(true) {
                let bookmark = json!({
                    "kind": rt.kind,
                    "apiVersion": watch.api_version,
                    "metadata": {
                        "resourceVersion": list.resource_version.to_string(),
                        "annotations": {"k8s.io/initial-events-end": "true"},
                    },
                });
                watch.initial.push_back(WatchEvent::new(EventType::Bookmark, Bytes::from(bookmark.to_string())));
            }
            list.resource_version
        } else {
            match params.resource_version {
                Some(revision) if revision > 0 => revision,
                _ => self.store().current_revision().await.map_err(Status::internal)?,
            }
        };
        let mut request = WatchRequest::new(prefix(rt, namespace)?, start);
        if params.allow_bookmarks {
            request.progress_interval = Some(params.bookmark_interval.unwrap_or(Duration::from_secs(60)));
        }
        match self.store().watch(request).await {
            Ok(inner) => watch.inner = Some(inner),
            Err(bosun_store::StoreError::Expired { requested, oldest }) => {
                let status =
                    Status::expired(format!("too old resource version: {requested} ({})", oldest.saturating_sub(1)));
                watch.initial.push_back(WatchEvent::new(EventType::Error, Bytes::from(status.to_value().to_string())));
            }
            Err(bosun_store::StoreError::FutureRevision { requested, current }) => {
                return Err(Status::timeout(format!("Too large resource version: {requested}, current: {current}")));
            }
            Err(other) => return Err(Status::internal(other)),
        }
        Ok(watch)
    }
}

impl ApiWatch {
    /// The next event; `None` once the stream has ended.
    pub async fn next(&mut self) -> Option<WatchEvent> {
        if let Some(event) = self.initial.pop_front() {
            if event.event_type == EventType::Error {
                self.ended = true;
                self.inner = None;
            }
            return Some(event);
        }
        if self.ended {
            return None;
        }
        let inner = self.inner.as_mut()?;
        loop {
            let item = match inner.next().await {
                None => {
                    self.ended = true;
                    return None;
                }
                Some(Err(error)) => {
                    self.ended = true;
                    let status = match error {
                        bosun_store::StoreError::Expired { requested, oldest } => Status::expired(format!(
                            "too old resource version: {requested} ({})",
                            oldest.saturating_sub(1)
                        )),
                        other => Status::internal(other),
                    };
                    return Some(WatchEvent::new(EventType::Error, Bytes::from(status.to_value().to_string())));
                }
                Some(Ok(item)) => item,
            };
            match item {
                WatchItem::Progress(revision) => {
                    let bookmark = json!({
                        "kind": self.kind,
                        "apiVersion": self.api_version,
                        "metadata": {"resourceVersion": revision.to_string()},
                    });
                    return Some(WatchEvent::new(EventType::Bookmark, Bytes::from(bookmark.to_string())));
                }
                WatchItem::Event(event) => {
                    if let Some(rt) = self.converted {
                        if let Some(converted) = convert_event(rt, self.filter.as_ref(), &event) {
                            return Some(converted);
                        }
                        continue;
                    }
                    let Some(filter) = &self.filter else {
                        let event_type = match event.kind {
                            EventKind::Added => EventType::Added,
                            EventKind::Modified => EventType::Modified,
                            EventKind::Deleted => EventType::Deleted,
                        };
                        let line = event.encoded(|e| encode_line(event_type, &e.value));
                        return Some(WatchEvent { event_type, object: event.value.clone(), line: Some(line) });
                    };
                    let matches = |bytes: &Bytes| serde_json::from_slice::<Value>(bytes).is_ok_and(|v| filter(&v));
                    let now = matches(&event.value);
                    let before = event.prev_value.as_ref().is_some_and(matches);
                    let transition = match event.kind {
                        EventKind::Added if now => Some((EventType::Added, event.value.clone())),
                        EventKind::Modified if now && before => Some((EventType::Modified, event.value.clone())),
                        EventKind::Modified if now => Some((EventType::Added, event.value.clone())),
                        EventKind::Modified if before => {
                            // Stopped matching: DELETED with the last matching state, at this revision.
                            let mut last: Value =
                                serde_json::from_slice(event.prev_value.as_ref().expect("before implies a value"))
                                    .unwrap_or(Value::Null);
                            Some((EventType::Deleted, meta::stamp_revision(&mut last, event.revision)))
                        }
                        EventKind::Deleted if now => Some((EventType::Deleted, event.value.clone())),
                        _ => None,
                    };
                    if let Some((event_type, object)) = transition {
                        return Some(WatchEvent::new(event_type, object));
                    }
                }
            }
        }
    }
}

/// A store event as watchers of the converted view `rt` see it: converted, then through the
/// filter's transitions. Never shared with other watchers, whose version may differ. `None` when
/// filtered out.
fn convert_event(rt: &ResourceType, filter: Option<&ObjectFilter>, event: &bosun_store::Event) -> Option<WatchEvent> {
    let served =
        |bytes: &Bytes| serde_json::from_slice::<Value>(bytes).ok().map(|object| conversion::from_storage(rt, object));
    let now = served(&event.value);
    let before = event.prev_value.as_ref().and_then(served);
    let matches = |object: &Option<Value>| object.as_ref().is_some_and(|o| filter.is_none_or(|filter| filter(o)));
    let (now_matches, before_matches) = (matches(&now), matches(&before));
    let event_type = match event.kind {
        EventKind::Added if now_matches => EventType::Added,
        EventKind::Modified if now_matches && before_matches => EventType::Modified,
        EventKind::Modified if now_matches => EventType::Added,
        EventKind::Modified if before_matches => {
            // Stopped matching: DELETED with the last matching state, at this revision.
            let mut last = before.expect("it matched");
            return Some(WatchEvent::new(EventType::Deleted, meta::stamp_revision(&mut last, event.revision)));
        }
        EventKind::Deleted if now_matches => EventType::Deleted,
        _ => return None,
    };
    now.map(|object| {
        WatchEvent::new(event_type, Bytes::from(serde_json::to_vec(&object).expect("JSON values serialize")))
    })
}
