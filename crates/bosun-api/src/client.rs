//! The typed in-process client: k8s-openapi types in and out, with exactly the semantics of the
//! HTTP API (every call goes through the same [`Api`] verbs), and no serialization beyond the
//! JSON the store keeps anyway. Controllers and library users call this; the dynamic form is
//! [`Api`] itself (JSON values for any registered resource).
//!
//! ```no_run
//! # async fn demo(api: bosun_api::api::Api) -> Result<(), bosun_api::status::Status> {
//! use k8s_openapi::api::core::v1::ConfigMap;
//!
//! let configmaps = api.typed::<ConfigMap>("default")?;
//! let all: Vec<ConfigMap> = configmaps.list(None).await?.items;
//! # Ok(()) }
//! ```

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::{Api, DeleteOptions, Deleted, ListParams, Subresource, WriteOptions};
use crate::patch::{PatchBody, PatchOptions};
use crate::registry::{self, ResourceType};
use crate::status::Status;
use crate::watch::{ApiWatch, ObjectFilter, WatchParams};

/// A list of typed objects with the revision it was read at.
#[derive(Debug, Clone)]
pub struct TypedList<K> {
    /// The items.
    pub items: Vec<K>,
    /// The list's resourceVersion: a watch from it sees every later change.
    pub resource_version: u64,
}

/// Typed access to one resource type, in one namespace (or cluster-wide).
pub struct TypedApi<K> {
    api: Api,
    rt: &'static ResourceType,
    namespace: String,
    options: WriteOptions,
    _kind: PhantomData<fn() -> K>,
}

impl<K> Clone for TypedApi<K> {
    fn clone(&self) -> Self {
        TypedApi {
            api: self.api.clone(),
            rt: self.rt,
            namespace: self.namespace.clone(),
            options: self.options.clone(),
            _kind: PhantomData,
        }
    }
}

fn decode<K: DeserializeOwned>(value: Value) -> Result<K, Status> {
    serde_json::from_value(value).map_err(|e| Status::internal(format!("the object does not decode as its type: {e}")))
}

fn encode<K: Serialize>(object: &K) -> Result<Value, Status> {
    serde_json::to_value(object).map_err(|e| Status::bad_request(format!("the object does not encode: {e}")))
}

impl Api {
    /// Typed access to `K` in `namespace` (ignored for cluster-scoped types; `""` for all
    /// namespaces in lists and watches). Fails with 404 for a type Bosun does not serve.
    pub fn typed<K>(&self, namespace: &str) -> Result<TypedApi<K>, Status>
    where
        K: k8s_openapi::Resource,
    {
        let rt = registry::find(K::GROUP, K::VERSION, K::URL_PATH_SEGMENT).ok_or_else(Status::path_not_found)?;
        Ok(TypedApi {
            api: self.clone(),
            rt,
            namespace: namespace.to_string(),
            options: WriteOptions::default(),
            _kind: PhantomData,
        })
    }
}

impl<K> TypedApi<K>
where
    K: k8s_openapi::Resource + Serialize + DeserializeOwned,
{
    /// Records writes under `manager` in managedFields.
    pub fn field_manager(mut self, manager: &str) -> Self {
        self.options.field_manager = Some(manager.to_string());
        self
    }

    /// The resource type.
    pub fn resource_type(&self) -> &'static ResourceType {
        self.rt
    }

    fn namespace_filter(&self) -> Option<&str> {
        Some(self.namespace.as_str()).filter(|ns| !ns.is_empty())
    }

    /// Creates `object`.
    pub async fn create(&self, object: &K) -> Result<K, Status> {
        decode(self.api.create(self.rt, &self.namespace, encode(object)?, &self.options).await?)
    }

    /// Reads one object.
    pub async fn get(&self, name: &str) -> Result<K, Status> {
        decode(self.api.get(self.rt, &self.namespace, name).await?)
    }

    /// Reads one object, `None` when it does not exist.
    pub async fn get_opt(&self, name: &str) -> Result<Option<K>, Status> {
        match self.get(name).await {
            Ok(object) => Ok(Some(object)),
            Err(status) if status.code == 404 => Ok(None),
            Err(status) => Err(status),
        }
    }

    /// Lists objects, optionally filtered by a label selector string (`app=web,tier!=db`).
    pub async fn list(&self, label_selector: Option<&str>) -> Result<TypedList<K>, Status> {
        let filter = match label_selector {
            Some(text) => {
                Some(crate::selector::LabelSelector::parse(text).map_err(|e| Status::bad_request(e.to_string()))?)
            }
            None => None,
        };
        let matches = |object: &Value| filter.as_ref().is_none_or(|s| s.matches(&crate::meta::labels(object)));
        let list = self.api.list(self.rt, self.namespace_filter(), &ListParams::default(), &matches).await?;
        let items = list
            .items
            .iter()
            .map(|bytes| serde_json::from_slice(bytes).map_err(|e| Status::internal(format!("stored object: {e}"))))
            .collect::<Result<_, _>>()?;
        Ok(TypedList { items, resource_version: list.resource_version })
    }

    /// Replaces an object (its resourceVersion, when set, is a precondition).
    pub async fn replace(&self, object: &K) -> Result<K, Status> {
        self.update_part(object, Subresource::Main).await
    }

    /// Replaces an object's status (`/status`).
    pub async fn replace_status(&self, object: &K) -> Result<K, Status> {
        self.update_part(object, Subresource::Status).await
    }

    async fn update_part(&self, object: &K, subresource: Subresource) -> Result<K, Status> {
        let value = encode(object)?;
        let name = crate::meta::name(&value).to_string();
        decode(self.api.update(self.rt, &self.namespace, &name, subresource, value, &self.options).await?)
    }

    /// Patches an object (JSON, merge, strategic merge or apply).
    pub async fn patch(&self, name: &str, patch: PatchBody) -> Result<K, Status> {
        self.patch_part(name, patch, Subresource::Main).await
    }

    /// Patches an object's status.
    pub async fn patch_status(&self, name: &str, patch: PatchBody) -> Result<K, Status> {
        self.patch_part(name, patch, Subresource::Status).await
    }

    async fn patch_part(&self, name: &str, patch: PatchBody, subresource: Subresource) -> Result<K, Status> {
        let options = PatchOptions { write: self.options.clone(), force: false };
        let (object, _) = self.api.patch(self.rt, &self.namespace, name, subresource, patch, &options).await?;
        decode(object)
    }

    /// Deletes an object; the result says whether it is gone or waits on finalizers.
    pub async fn delete(&self, name: &str, options: &DeleteOptions) -> Result<Deleted, Status> {
        self.api.delete(self.rt, &self.namespace, name, options).await
    }

    /// The object's `autoscaling/v1` Scale, as JSON.
    pub async fn get_scale(&self, name: &str) -> Result<Value, Status> {
        self.api.get_scale(self.rt, &self.namespace, name).await
    }

    /// Sets `spec.replicas` through the scale subresource.
    pub async fn scale(&self, name: &str, replicas: i64) -> Result<Value, Status> {
        let scale = serde_json::json!({"spec": {"replicas": replicas}});
        self.api.update_scale(self.rt, &self.namespace, name, scale, &self.options).await
    }

    /// Watches the objects (decode each event's object with `serde_json::from_slice`).
    pub async fn watch(&self, params: &WatchParams, filter: Option<ObjectFilter>) -> Result<ApiWatch, Status> {
        self.api.watch(self.rt, self.namespace_filter(), params, filter).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::ConfigMap;

    use crate::test_support::api;

    #[tokio::test]
    async fn typed_calls_round_trip_k8s_openapi_types_with_server_semantics() {
        let api = api().await;
        let configmaps = api.typed::<ConfigMap>("default").unwrap();
        let mut configmap = ConfigMap::default();
        configmap.metadata.name = Some("typed".into());
        configmap.data = Some([("a".to_string(), "1".to_string())].into());
        let created = configmaps.create(&configmap).await.unwrap();
        assert!(created.metadata.uid.is_some());
        let mut changed = created.clone();
        changed.data = Some([("a".to_string(), "2".to_string())].into());
        configmaps.replace(&changed).await.unwrap();
        assert_eq!(configmaps.replace(&changed).await.unwrap_err().code, 409, "the stale resourceVersion conflicts");
        assert_eq!(configmaps.list(None).await.unwrap().items.len(), 1);
        assert!(configmaps.get_opt("missing").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn typed_deployments_get_defaults_and_scale() {
        let api = api().await;
        let deployments = api.typed::<Deployment>("default").unwrap();
        let deployment: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
        }))
        .unwrap();
        let created = deployments.create(&deployment).await.unwrap();
        assert_eq!(created.spec.as_ref().unwrap().replicas, Some(1));
        deployments.scale("web", 4).await.unwrap();
        assert_eq!(deployments.get("web").await.unwrap().spec.unwrap().replicas, Some(4));
    }

    #[tokio::test]
    async fn in_process_writes_drop_unknown_fields_unless_strict_is_asked_for() {
        use crate::field_validation::FieldValidation;
        use crate::patch::PatchType;
        let api = api().await;
        let rt = crate::registry::find("", "v1", "configmaps").unwrap();
        let body = serde_json::json!({"metadata": {"name": "c"}, "data": {"a": "1"}, "dta": 1});
        let strict = WriteOptions { field_validation: FieldValidation::Strict, ..Default::default() };
        let error = api.create(rt, "default", body.clone(), &strict).await.unwrap_err();
        assert_eq!(error.code, 400);
        assert!(error.message.ends_with("strict decoding error: unknown field \"dta\""), "{}", error.message);
        assert_eq!(api.get(rt, "default", "c").await.unwrap_err().code, 404, "nothing was stored");

        // The default drops it silently; Warn says so.
        let created = api.create(rt, "default", body.clone(), &WriteOptions::default()).await.unwrap();
        assert!(created.get("dta").is_none() && created["data"]["a"] == "1", "{created}");
        let warn = WriteOptions { field_validation: FieldValidation::Warn, ..Default::default() };
        let updated = api.update_warned(rt, "default", "c", Subresource::Main, body, &warn).await.unwrap();
        assert_eq!(updated.warnings, ["unknown field \"dta\""]);
        assert!(updated.object.get("dta").is_none());

        let patch = PatchBody { patch_type: PatchType::Merge, document: serde_json::json!({"dta": 2}) };
        let options = PatchOptions { write: strict, force: false };
        let error = api.patch(rt, "default", "c", Subresource::Main, patch, &options).await.unwrap_err();
        assert_eq!(error.code, 422);
    }
}
