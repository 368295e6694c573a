//! Claiming dependents (Deployment spec, part C): an owner's selector decides which objects it
//! controls. Matching orphans are adopted (a controller reference is added), owned objects that
//! stopped matching are released (the reference is removed); both changes carry the
//! dependent's uid as a precondition, and adoption first re-reads the owner so that an owner
//! being deleted, or replaced under the same name, never adopts.

use std::sync::Arc;

use bosun_api::api::{Api, Subresource, WriteOptions};
use bosun_api::registry::ResourceType;
use bosun_api::selector::LabelSelector;
use bosun_api::status::Status;
use serde_json::Value;

use crate::objects::{self, controller_ref};
use crate::runtime::informer::Object;

/// One owner claiming objects of one type.
pub struct Claimer<'a> {
    /// The API the patches go through.
    pub api: &'a Api,
    /// The owner's type (for the fresh read before adopting).
    pub owner_type: &'static ResourceType,
    /// The owner's `apiVersion`, as written in references.
    pub owner_api_version: &'static str,
    /// The owner's kind.
    pub owner_kind: &'static str,
    /// The owner, as cached.
    pub owner: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    /// The dependents' type.
    pub child_type: &'static ResourceType,
    /// What the owner selects (matched against the dependents' labels).
    pub selector: &'a LabelSelector,
    /// The manager the patches are recorded under.
    pub field_manager: &'static str,
}

impl Claimer<'_> {
    /// The candidates the owner controls, after adopting and releasing what needs it.
    pub async fn claim<K: Object>(&self, candidates: Vec<Arc<K>>) -> Result<Vec<Arc<K>>, Status> {
        let owner_uid = objects::uid(self.owner);
        let deleting = self.owner.deletion_timestamp.is_some();
        let mut owned = Vec::new();
        let mut can_adopt: Option<bool> = None;
        for candidate in candidates {
            let meta = candidate.metadata();
            let matches = objects::matches(self.selector, meta.labels.as_ref());
            match controller_ref(meta) {
                Some(reference) if reference.uid != owner_uid => {}
                Some(_) if matches => owned.push(candidate),
                Some(_) => {
                    if !deleting {
                        self.release(meta).await?;
                    }
                }
                None => {
                    if deleting || !matches || meta.deletion_timestamp.is_some() {
                        continue;
                    }
                    let allowed = match can_adopt {
                        Some(allowed) => allowed,
                        None => *can_adopt.insert(self.owner_still_adoptable().await),
                    };
                    if !allowed {
                        return Err(Status::failure(
                            409,
                            "Conflict",
                            format!(
                                "cannot adopt: {} {} is being deleted or was replaced",
                                self.owner_kind,
                                objects::name(self.owner)
                            ),
                        ));
                    }
                    if let Some(adopted) = self.adopt::<K>(meta).await? {
                        owned.push(Arc::new(adopted));
                    }
                }
            }
        }
        Ok(owned)
    }

    async fn owner_still_adoptable(&self) -> bool {
        let namespace = self.owner.namespace.as_deref().unwrap_or_default();
        self.api.get(self.owner_type, namespace, objects::name(self.owner)).await.is_ok_and(|fresh| {
            bosun_api::meta::uid(&fresh) == objects::uid(self.owner) && !bosun_api::meta::is_being_deleted(&fresh)
        })
    }

    async fn adopt<K: Object>(
        &self,
        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    ) -> Result<Option<K>, Status> {
        let reference = objects::owner_reference(self.owner_api_version, self.owner_kind, self.owner);
        let reference = serde_json::to_value(reference).expect("a reference serializes");
        let result = self
            .change_references(meta, |references| {
                references.retain(|r| r.get("uid") != reference.get("uid"));
                references.push(reference.clone());
            })
            .await;
        match result {
            Ok(value) => Ok(Some(serde_json::from_value(value).map_err(Status::internal)?)),
            Err(status) if status.code == 404 || status.code == 409 => Ok(None),
            Err(status) => Err(status),
        }
    }

    async fn release(&self, meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Result<(), Status> {
        let owner_uid = objects::uid(self.owner).to_string();
        let result = self.change_references(meta, |references| references.retain(|r| r["uid"] != owner_uid)).await;
        match result {
            Ok(_) => Ok(()),
            Err(status) if matches!(status.code, 404 | 409 | 422) => Ok(()),
            Err(status) => Err(status),
        }
    }

    /// Changes a dependent's ownerReferences; its uid is a precondition.
    async fn change_references(
        &self,
        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        change: impl Fn(&mut Vec<Value>),
    ) -> Result<Value, Status> {
        let uid = objects::uid(meta).to_string();
        let namespace = meta.namespace.as_deref().unwrap_or_default();
        let options = WriteOptions { field_manager: Some(self.field_manager.into()), ..WriteOptions::default() };
        self.api
            .read_modify_write(
                self.child_type,
                namespace,
                objects::name(meta),
                Subresource::Main,
                &options,
                |current| {
                    if bosun_api::meta::uid(current) != uid {
                        return Err(Status::failure(409, "Conflict", format!("the object's uid is no longer {uid}")));
                    }
                    let mut updated = current.clone();
                    let metadata = bosun_api::meta::metadata_mut(&mut updated);
                    let mut references =
                        metadata.get("ownerReferences").and_then(Value::as_array).cloned().unwrap_or_default();
                    change(&mut references);
                    if references.is_empty() {
                        metadata.remove("ownerReferences");
                    } else {
                        metadata.insert("ownerReferences".into(), Value::Array(references));
                    }
                    Ok(updated)
                },
            )
            .await
    }
}
