//! Events: the `core/v1` Event objects `kubectl describe` lists under an object
//! (`ScalingReplicaSet`, `SuccessfulCreate`, ...). A repeat of the same event on the same object
//! raises its `count` and `lastTimestamp` instead of making a new object, as upstream's
//! correlator does. Recording never fails a reconcile: an event that cannot be written is logged.

use std::collections::HashMap;
use std::sync::Arc;

use bosun_api::api::{Api, Subresource, WriteOptions};
use bosun_api::registry::{self, ResourceType};
use parking_lot::Mutex;
use serde_json::{Value, json};

/// Remembered events before the memory is cleared (bounds it; a cleared entry just makes the
/// next repeat a new Event object).
const REMEMBERED_MAX: usize = 4096;

/// `Normal` or `Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Routine.
    Normal,
    /// Something went wrong.
    Warning,
}

impl EventKind {
    fn as_str(self) -> &'static str {
        match self {
            EventKind::Normal => "Normal",
            EventKind::Warning => "Warning",
        }
    }
}

/// The object an event is about.
#[derive(Debug, Clone)]
pub struct Regarding {
    /// `apps/v1`.
    pub api_version: String,
    /// `Deployment`.
    pub kind: String,
    /// Its namespace; events of cluster-scoped objects go to `default`.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its uid.
    pub uid: String,
    /// Its resourceVersion when the event happened.
    pub resource_version: String,
}

impl Regarding {
    /// The reference to a typed object.
    pub fn of<K: super::informer::Object>(object: &K) -> Self {
        let meta = object.metadata();
        Regarding {
            api_version: K::API_VERSION.to_string(),
            kind: K::KIND.to_string(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            uid: meta.uid.clone().unwrap_or_default(),
            resource_version: meta.resource_version.clone().unwrap_or_default(),
        }
    }
}

/// What makes two events the same: the object's uid, the kind, the reason and the message.
type EventIdentity = (String, EventKind, String, String);

/// Writes events for one component. Cheap to clone.
#[derive(Clone)]
pub struct EventRecorder {
    api: Api,
    component: &'static str,
    events: &'static ResourceType,
    /// (object uid, kind, reason, message) → (event name, count) of events already written.
    seen: Arc<Mutex<HashMap<EventIdentity, (String, u32)>>>,
}

impl EventRecorder {
    /// A recorder whose events name `component` as their source (`deployment-controller`).
    pub fn new(api: &Api, component: &'static str) -> Self {
        EventRecorder {
            api: api.clone(),
            component,
            events: registry::find("", "v1", "events").expect("events are registered"),
            seen: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Records an event about `regarding`, in the background.
    pub fn record(&self, regarding: Regarding, kind: EventKind, reason: &str, message: impl Into<String>) {
        let recorder = self.clone();
        let reason = reason.to_string();
        let message = message.into();
        tokio::spawn(async move {
            if let Err(status) = recorder.write(&regarding, kind, &reason, &message).await {
                tracing::debug!(%status.message, reason, "an event could not be recorded");
            }
        });
    }

    async fn write(
        &self,
        regarding: &Regarding,
        kind: EventKind,
        reason: &str,
        message: &str,
    ) -> Result<(), bosun_api::status::Status> {
        let now = Value::String(bosun_api::meta::format_time(self.api.clock().now()));
        let namespace = if regarding.namespace.is_empty() { "default" } else { regarding.namespace.as_str() };
        let memory_key = (regarding.uid.clone(), kind, reason.to_string(), message.to_string());
        let repeat = self.seen.lock().get(&memory_key).cloned();
        let options = WriteOptions { field_manager: Some(self.component.to_string()), ..WriteOptions::default() };
        if let Some((name, count)) = repeat {
            let count = count + 1;
            let result = self
                .api
                .read_modify_write(self.events, namespace, &name, Subresource::Main, &options, |event: &Value| {
                    let mut event = event.clone();
                    event["count"] = count.into();
                    event["lastTimestamp"] = now.clone();
                    Ok(event)
                })
                .await;
            if result.is_ok() {
                self.seen.lock().insert(memory_key, (name, count));
                return Ok(());
            }
            // The event was removed meanwhile: write a new one.
        }
        let nanos = self.api.clock().now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let name = format!("{}.{:x}", regarding.name, nanos);
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {
                "apiVersion": regarding.api_version,
                "kind": regarding.kind,
                "namespace": regarding.namespace,
                "name": regarding.name,
                "uid": regarding.uid,
                "resourceVersion": regarding.resource_version,
            },
            "reason": reason,
            "message": message,
            "type": kind.as_str(),
            "source": {"component": self.component},
            "reportingComponent": self.component,
            "reportingInstance": "bosun",
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        });
        self.api.create(self.events, namespace, event, &options).await?;
        let mut seen = self.seen.lock();
        if seen.len() >= REMEMBERED_MAX {
            seen.clear();
        }
        seen.insert(memory_key, (name, 1));
        Ok(())
    }
}
