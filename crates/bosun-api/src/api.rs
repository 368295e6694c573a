//! The verbs: what kube-apiserver does between a request and the store.
//!
//! Every front end (HTTP, the in-process client, controllers) goes through [`Api`], so they all
//! see one behaviour. Objects are JSON values; the store keeps them under
//! group/version/kind/namespace/name with `metadata.resourceVersion` stamped at the revision of
//! each write (so reads need no re-serialization).
//!
//! A resource served in several versions is stored once, in its storage version (see
//! [`crate::conversion`]): keys always name the storage version, and objects are converted at the
//! edge. The write pipeline (status handling, defaulting, generation, validation, the no-op check)
//! runs on the stored form; the caller's `change` and `managedFields` see the served form, so
//! entries record the apiVersion the manager used, as upstream.
//!
//! Order of checks for a write (which error wins, as upstream): body shape and kind (400) →
//! namespace/name consistency (400) → namespace existence (404) and termination (403) →
//! defaulting and validation (422) → preconditions (409) → write.

mod binding;

use std::sync::Arc;

use bosun_store::{
    KeyPrefix, LastState, ListRequest, NewValue, ObjectKey, Preconditions, SharedStorage, Storage, StoreError,
};
use bytes::Bytes;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::clock::{Clock, SystemClock};
use crate::conversion;
use crate::field_validation::{self, FieldValidation};
use crate::managed_fields::{self, Tracking};
use crate::meta;
use crate::registry::ResourceType;
use crate::status::{FieldError, Status};

/// Attempts made to generate a free name for `generateName`, as upstream.
const GENERATE_NAME_ATTEMPTS: usize = 8;
/// Attempts a read-modify-write makes before giving up on conflicts.
const UPDATE_ATTEMPTS_MAX: usize = 64;
/// Namespaces that can never be deleted.
const IMMORTAL_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// Options common to writes.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `dryRun=All`: run every check, persist nothing.
    pub dry_run: bool,
    /// The manager `managedFields` records the write under: `?fieldManager=`, else (the HTTP
    /// layer fills it in) the User-Agent up to its first `/`.
    pub field_manager: Option<String>,
    /// `fieldValidation`: what happens to fields the type does not have. Unknown fields are
    /// never stored; the default, [`FieldValidation::Ignore`], drops them silently (in-process
    /// callers have no channel for warnings), `Strict` fails the write instead.
    pub field_validation: FieldValidation,
}

/// A write's outcome, for front ends that pass warnings on (HTTP `Warning` headers).
#[derive(Debug, Clone)]
pub struct Written {
    /// The object as stored (as it would be, under dry run).
    pub object: Value,
    /// Whether the write created the object (a create, or an apply to a missing object).
    pub created: bool,
    /// Upstream's warnings: under [`FieldValidation::Warn`], one per unknown field dropped.
    pub warnings: Vec<String>,
}

/// Which part of an object an update addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subresource {
    /// The object itself: status is kept as stored.
    Main,
    /// `/status`: only status (and annotations, for Deployments) change.
    Status,
    /// A namespace's `/finalize`: only `spec.finalizers` changes.
    Finalize,
}

/// How a delete treats dependents, as `DeleteOptions.propagationPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents are orphaned: the `orphan` finalizer.
    Orphan,
    /// Dependents are deleted in the background after the owner is gone.
    Background,
    /// Dependents are deleted first: the `foregroundDeletion` finalizer.
    Foreground,
}

/// `DeleteOptions`, already decoded.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// Preconditions on uid and resourceVersion.
    pub precondition_uid: Option<String>,
    /// Precondition on the resourceVersion.
    pub precondition_resource_version: Option<String>,
    /// Propagation policy; `None` is the resource's default (Background).
    pub propagation: Option<Propagation>,
    /// `dryRun=All`.
    pub dry_run: bool,
    /// `gracePeriodSeconds`: for pods, how long the kubelet may take to stop the containers
    /// before the object goes; `None` is the pod's `terminationGracePeriodSeconds`, 0 is at once.
    /// Other types are deleted at once whatever it says, as upstream.
    pub grace_period_seconds: Option<i64>,
}

/// What a delete does about a graceful type's grace period (upstream's `BeforeDelete`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Grace {
    /// No grace: delete now (unless finalizers hold the object).
    Now,
    /// A graceful deletion is already under way with a period no longer than the one asked for.
    Pending,
    /// Mark for deletion at `deletion_timestamp`, `period` seconds from the request.
    Set {
        /// The new `deletionTimestamp`.
        deletion_timestamp: std::time::SystemTime,
        /// The new `deletionGracePeriodSeconds`.
        period: i64,
    },
}

/// The result of a delete: the object (for resources that return it, or when finalizers keep it)
/// or a success Status.
#[derive(Debug, Clone)]
pub enum Deleted {
    /// The object's last state or its state with `deletionTimestamp` set.
    Object(Value),
    /// `{"kind":"Status","status":"Success",...}`.
    Status(Status),
}

/// A list result with its items still as stored bytes, so they can be written out unparsed.
#[derive(Debug, Clone)]
pub struct ObjectList {
    /// `<Kind>List`.
    pub kind: &'static str,
    /// `group/version` or `v1`.
    pub api_version: String,
    /// The snapshot revision.
    pub resource_version: u64,
    /// Continue token for the next page.
    pub continue_token: Option<String>,
    /// Items after this page, when the request had no selector.
    pub remaining_item_count: Option<u64>,
    /// The items' JSON.
    pub items: Vec<Bytes>,
}

impl ObjectList {
    /// The list as one JSON document.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut metadata = Map::new();
        metadata.insert("resourceVersion".into(), self.resource_version.to_string().into());
        if let Some(token) = &self.continue_token {
            metadata.insert("continue".into(), token.clone().into());
        }
        if let Some(remaining) = self.remaining_item_count {
            metadata.insert("remainingItemCount".into(), remaining.into());
        }
        let head = json!({"kind": self.kind, "apiVersion": self.api_version, "metadata": metadata});
        let mut out = serde_json::to_vec(&head).expect("serializes");
        out.pop(); // the closing brace: items follow
        out.extend_from_slice(b",\"items\":[");
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(item);
        }
        out.extend_from_slice(b"]}");
        out
    }

    /// The list as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::from_slice(&self.to_bytes()).expect("a list of stored objects is JSON")
    }
}

/// A list request, already validated.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    /// Page size.
    pub limit: Option<usize>,
    /// Token from the previous page.
    pub continue_token: Option<String>,
    /// Snapshot revision (Exact semantics); `None` reads the latest.
    pub exact_revision: Option<u64>,
    /// Whether to report `remainingItemCount` (only without selectors).
    pub count_remaining: bool,
}

/// The shared API semantics over one store. Cheap to clone.
#[derive(Clone)]
pub struct Api {
    inner: Arc<ApiInner>,
}

struct ApiInner {
    store: SharedStorage,
    clock: Arc<dyn Clock>,
}

/// The `apiVersion` string of a resource type.
pub fn api_version(rt: &ResourceType) -> String {
    if rt.group.is_empty() { rt.version.to_string() } else { format!("{}/{}", rt.group, rt.version) }
}

/// The manager a write is recorded under in `managedFields` (empty when the client named none).
fn manager(options: &WriteOptions) -> &str {
    options.field_manager.as_deref().unwrap_or("")
}

/// The store key of an object of `rt`: always under the storage version's type.
fn key(rt: &ResourceType, namespace: &str, name: &str) -> ObjectKey {
    let namespace = if rt.namespaced { namespace } else { "" };
    let stored = conversion::storage_type(rt);
    ObjectKey::new(stored.group, stored.version, stored.kind, namespace, name)
}

/// The key prefix of `rt`'s objects in one namespace or all.
pub(crate) fn prefix(rt: &ResourceType, namespace: Option<&str>) -> Result<KeyPrefix, Status> {
    let stored = conversion::storage_type(rt);
    match namespace.filter(|_| rt.namespaced) {
        Some(ns) => KeyPrefix::namespace(stored.group, stored.version, stored.kind, ns),
        None => KeyPrefix::kind(stored.group, stored.version, stored.kind),
    }
    .map_err(|e| Status::bad_request(e.to_string()))
}

/// Stored bytes as `rt`'s served version: the same bytes unless `rt` converts.
pub(crate) fn served_bytes(rt: &ResourceType, stored: Bytes) -> Result<Bytes, Status> {
    if !conversion::converts(rt) {
        return Ok(stored);
    }
    let object = conversion::from_storage(rt, parse(&stored)?);
    Ok(Bytes::from(serde_json::to_vec(&object).expect("JSON values serialize")))
}

fn namespace_key(name: &str) -> ObjectKey {
    ObjectKey::new("", "v1", "Namespace", "", name)
}

fn parse(bytes: &[u8]) -> Result<Value, Status> {
    serde_json::from_slice(bytes).map_err(|e| Status::internal(format!("stored object is not JSON: {e}")))
}

/// The outcome of a compare-and-swap write in a read-modify-write loop.
enum Cas<T> {
    /// It went through.
    Written(T),
    /// Someone wrote first: read again and redo.
    Retry,
}

/// Sorts a compare-and-swap result into done, retry (a lost race) or the answer to give.
fn settle<T>(result: Result<T, StoreError>, rt: &ResourceType, name: &str) -> Result<Cas<T>, Status> {
    match result {
        Ok(written) => Ok(Cas::Written(written)),
        Err(StoreError::Conflict { .. }) => Ok(Cas::Retry),
        Err(StoreError::NotFound) => Err(Status::not_found(rt.plural, rt.group, name)),
        Err(other) => Err(storage_failure(other)),
    }
}

/// Maps store failures that are not answers to the request.
fn storage_failure(error: StoreError) -> Status {
    match error {
        StoreError::Expired { requested, oldest } => {
            Status::expired(format!("too old resource version: {requested} ({})", oldest.saturating_sub(1)))
        }
        StoreError::FutureRevision { requested, current } => {
            Status::timeout(format!("Too large resource version: {requested}, current: {current}"))
        }
        StoreError::InvalidContinue(why) => Status::bad_request(format!("invalid continue token: {why}")),
        other => Status::internal(other),
    }
}

impl Api {
    /// The API over `store`, on the system clock.
    pub fn new(store: impl Storage) -> Self {
        Self::with_clock(store, Arc::new(SystemClock))
    }

    /// The API over `store`, reading time from `clock`.
    pub fn with_clock(store: impl Storage, clock: Arc<dyn Clock>) -> Self {
        Self::on_shared(Arc::new(store), clock)
    }

    /// The API over a store handle shared with others (several APIs over one etcd, say).
    pub fn on_shared(store: SharedStorage, clock: Arc<dyn Clock>) -> Self {
        Api { inner: Arc::new(ApiInner { store, clock }) }
    }

    /// The store underneath.
    pub fn store(&self) -> &SharedStorage {
        &self.inner.store
    }

    /// The clock every time-dependent decision reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    fn now(&self) -> String {
        meta::format_time(self.inner.clock.now())
    }

    /// Reads one object.
    pub async fn get(&self, rt: &ResourceType, namespace: &str, name: &str) -> Result<Value, Status> {
        match self.inner.store.get(&key(rt, namespace, name)).await.map_err(storage_failure)? {
            Some(found) => Ok(conversion::from_storage(rt, parse(&found.value)?)),
            None => Err(Status::not_found(rt.plural, rt.group, name)),
        }
    }

    /// Reads one object as bytes: the stored ones, unless `rt` is a converted view.
    pub async fn get_bytes(&self, rt: &ResourceType, namespace: &str, name: &str) -> Result<Bytes, Status> {
        match self.inner.store.get(&key(rt, namespace, name)).await.map_err(storage_failure)? {
            Some(found) => served_bytes(rt, found.value),
            None => Err(Status::not_found(rt.plural, rt.group, name)),
        }
    }

    /// Lists objects of one type, in one namespace or all (`None`), filtered by `filter` (which
    /// sees each object in `rt`'s served version).
    pub async fn list(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        params: &ListParams,
        filter: &(dyn Fn(&Value) -> bool + Send + Sync),
    ) -> Result<ObjectList, Status> {
        let request = ListRequest {
            prefix: prefix(rt, namespace)?,
            revision: params.exact_revision,
            limit: params.limit,
            continue_token: params.continue_token.clone(),
            count_remaining: params.count_remaining,
        };
        let page = self
            .inner
            .store
            .list(&request, &|item| {
                serde_json::from_slice::<Value>(&item.value)
                    .is_ok_and(|object| filter(&conversion::from_storage(rt, object)))
            })
            .await
            .map_err(|error| match error {
                StoreError::Expired { .. } if params.continue_token.is_some() => Status::expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                ),
                StoreError::Expired { .. } => Status::expired("The resourceVersion for the provided list is too old."),
                other => storage_failure(other),
            })?;
        Ok(ObjectList {
            kind: rt.list_kind,
            api_version: api_version(rt),
            resource_version: page.revision,
            continue_token: page.continue_token,
            remaining_item_count: page.remaining.filter(|n| *n > 0),
            items: page.items.into_iter().map(|item| served_bytes(rt, item.value)).collect::<Result<_, _>>()?,
        })
    }

    /// Creates an object in `namespace` (ignored for cluster-scoped types).
    pub async fn create(
        &self,
        rt: &ResourceType,
        namespace: &str,
        body: Value,
        options: &WriteOptions,
    ) -> Result<Value, Status> {
        Ok(self.create_warned(rt, namespace, body, options).await?.object)
    }

    /// [`Api::create`], with the warnings of `options.field_validation`.
    pub async fn create_warned(
        &self,
        rt: &ResourceType,
        namespace: &str,
        mut body: Value,
        options: &WriteOptions,
    ) -> Result<Written, Status> {
        // Upstream decodes (and drops unknown fields) before anything else looks at the body.
        let warnings = field_validation::check_object(rt, options.field_validation, &mut body)?;
        let object = self.create_tracked(rt, namespace, body, options, Tracking::Update).await?;
        Ok(Written { object, created: true, warnings })
    }

    /// [`Api::create`], recording the writer's `Update` entry in `managedFields`, or keeping the
    /// entries a server-side apply put on `body` ([`Tracking::Applied`]).
    pub(crate) async fn create_tracked(
        &self,
        rt: &ResourceType,
        namespace: &str,
        mut body: Value,
        options: &WriteOptions,
        tracking: Tracking,
    ) -> Result<Value, Status> {
        check_kind(rt, &mut body)?;
        let namespace = self.check_namespace_for_write(rt, namespace, &mut body, true).await?;
        let object_meta = meta::metadata_mut(&mut body);
        if object_meta.get("resourceVersion").and_then(Value::as_str).is_some_and(|rv| !rv.is_empty()) {
            // Upstream answers this one with a plain 500.
            return Err(Status::failure(500, "", "resourceVersion should not be set on objects to be created"));
        }
        for system_field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"]
        {
            object_meta.remove(system_field);
        }
        let generate_name = object_meta.get("generateName").and_then(Value::as_str).map(str::to_string);
        let fixed_name = object_meta.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()).map(str::to_string);
        let stored_rt = conversion::storage_type(rt);
        let mut body = conversion::to_storage(rt, body)?;
        if stored_rt.has_status {
            reset_status(stored_rt, &mut body);
        }
        crate::defaults::apply_defaults(stored_rt.group, stored_rt.kind, &mut body);
        if stored_rt.has_generation {
            meta::metadata_mut(&mut body).insert("generation".into(), 1.into());
        }
        // The creator owns what it set; upstream records it before the server fills in uid,
        // timestamps and name-dependent defaults.
        if tracking == Tracking::Update {
            self.record_update_served(rt, Subresource::Main, None, &mut body, options);
        }
        let attempts = if fixed_name.is_none() && generate_name.is_some() { GENERATE_NAME_ATTEMPTS } else { 1 };
        for attempt in 0..attempts {
            let name = match (&fixed_name, &generate_name) {
                (Some(name), _) => name.clone(),
                (None, Some(prefix)) => generated_name(prefix),
                (None, None) => String::new(),
            };
            let mut object = body.clone();
            let object_meta = meta::metadata_mut(&mut object);
            object_meta.insert("name".into(), name.clone().into());
            let uid = Uuid::new_v4();
            object_meta.insert("uid".into(), uid.to_string().into());
            object_meta.insert("creationTimestamp".into(), self.now().into());
            // Defaults that depend on the name or uid (a Job's generated selector, for example).
            crate::defaults::prepare_for_create(stored_rt.group, stored_rt.kind, &mut object);
            let errors = validate(stored_rt, &object, None);
            if !errors.is_empty() {
                return Err(Status::invalid(rt.kind, rt.group, &name, &errors));
            }
            let key = key(rt, &namespace, &name);
            if options.dry_run {
                return match self.inner.store.get(&key).await.map_err(storage_failure)? {
                    Some(_) => Err(Status::already_exists(rt.plural, rt.group, &name)),
                    None => Ok(conversion::from_storage(rt, object)),
                };
            }
            let stamped = NewValue::stamped(move |revision| meta::stamp_revision(&mut object, revision));
            match self.inner.store.create(&key, uid, stamped).await {
                Ok(written) => return Ok(conversion::from_storage(rt, parse(&written.value)?)),
                Err(StoreError::AlreadyExists) if attempt + 1 < attempts => continue,
                Err(StoreError::AlreadyExists) => {
                    let mut status = Status::already_exists(rt.plural, rt.group, &name);
                    if fixed_name.is_none() {
                        status.message.push_str(", the server was not able to generate a unique name for the object");
                        if let Some(details) = status.details.as_mut() {
                            details.retry_after_seconds = Some(1);
                        }
                    }
                    return Err(status);
                }
                Err(other) => return Err(storage_failure(other)),
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// Replaces an object (PUT). A `metadata.resourceVersion` in the body is a precondition.
    pub async fn update(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        subresource: Subresource,
        body: Value,
        options: &WriteOptions,
    ) -> Result<Value, Status> {
        Ok(self.update_warned(rt, namespace, name, subresource, body, options).await?.object)
    }

    /// [`Api::update`], with the warnings of `options.field_validation`.
    pub async fn update_warned(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        subresource: Subresource,
        mut body: Value,
        options: &WriteOptions,
    ) -> Result<Written, Status> {
        let warnings = field_validation::check_object(rt, options.field_validation, &mut body)?;
        let object = self.update_checked(rt, namespace, name, subresource, body, options).await?;
        Ok(Written { object, created: false, warnings })
    }

    async fn update_checked(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        subresource: Subresource,
        mut body: Value,
        options: &WriteOptions,
    ) -> Result<Value, Status> {
        check_kind(rt, &mut body)?;
        let namespace = self.check_namespace_for_write(rt, namespace, &mut body, false).await?;
        check_name(&body, name)?;
        let expected_rv = meta::resource_version(&body).to_string();
        let expected_uid = meta::uid(&body).to_string();
        self.read_modify_write(rt, &namespace, name, subresource, options, |current| {
            if !expected_rv.is_empty() && expected_rv != meta::resource_version(current) {
                return Err(Status::conflict_modified(rt.plural, rt.group, name));
            }
            if !expected_uid.is_empty() && expected_uid != meta::uid(current) {
                return Err(Status::conflict(
                    rt.plural,
                    rt.group,
                    name,
                    &format!(
                        "Precondition failed: UID in precondition: {expected_uid}, UID in object meta: {}",
                        meta::uid(current)
                    ),
                ));
            }
            Ok(body.clone())
        })
        .await
    }

    /// The read-modify-write every update, patch and finalizing delete goes through: `change`
    /// returns the requested object given the current one; the strategy keeps what the endpoint
    /// may not change, defaults, validates and skips no-op writes; conflicts re-run `change`.
    pub async fn read_modify_write(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        subresource: Subresource,
        options: &WriteOptions,
        change: impl FnMut(&Value) -> Result<Value, Status>,
    ) -> Result<Value, Status> {
        self.read_modify_write_tracked(rt, namespace, name, subresource, options, Tracking::Update, change).await
    }

    /// [`Api::read_modify_write`], recording the writer's `Update` entry in `managedFields`, or
    /// keeping the entries a server-side apply `change` computed ([`Tracking::Applied`]).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn read_modify_write_tracked(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        subresource: Subresource,
        options: &WriteOptions,
        tracking: Tracking,
        mut change: impl FnMut(&Value) -> Result<Value, Status>,
    ) -> Result<Value, Status> {
        let key = key(rt, namespace, name);
        let stored_rt = conversion::storage_type(rt);
        let converts = conversion::converts(rt);
        for _ in 0..UPDATE_ATTEMPTS_MAX {
            let Some(stored) = self.inner.store.get(&key).await.map_err(storage_failure)? else {
                return Err(Status::not_found(rt.plural, rt.group, name));
            };
            // `live` is the stored form; `current` what the caller sees, in its version.
            let live = parse(&stored.value)?;
            let served = converts.then(|| conversion::from_storage(rt, live.clone()));
            let current = served.as_ref().unwrap_or(&live);
            let requested = change(current)?;
            // A server-side apply put its entries on what it returned: they stand whatever else
            // the endpoint keeps from the stored object.
            let applied = (tracking == Tracking::Applied).then(|| managed_fields::list_of(&requested));
            let requested = conversion::to_storage(rt, requested)?;
            let mut next = prepare_update(stored_rt, subresource, &live, requested);
            crate::defaults::apply_defaults(stored_rt.group, stored_rt.kind, &mut next);
            // Status writes never move the generation, even when they carry annotations (the
            // Deployment controller writes its revision annotation through /status).
            if stored_rt.has_generation && subresource == Subresource::Main && generation_moves(stored_rt, &live, &next)
            {
                meta::metadata_mut(&mut next).insert("generation".into(), (meta::generation(&live) + 1).into());
            }
            match applied {
                Some(list) => managed_fields::set_list(&mut next, list),
                None => self.record_update_served(rt, subresource, Some(current), &mut next, options),
            }
            // Moving only managedFields timestamps is not a write: the no-op check below holds.
            managed_fields::keep_live_when_only_times_moved(&live, &mut next);
            let errors = validate(stored_rt, &next, Some(&live));
            if !errors.is_empty() {
                return Err(Status::invalid(rt.kind, rt.group, name, &errors));
            }
            if options.dry_run {
                return Ok(conversion::from_storage(rt, next));
            }
            if same_object(&live, &next) {
                return Ok(served.unwrap_or(live));
            }
            // Removing the last finalizer of an object being deleted deletes it (for a namespace,
            // also the last of `spec.finalizers`).
            let is_namespace = rt.group.is_empty() && rt.kind == "Namespace";
            if meta::is_being_deleted(&next)
                && meta::finalizers(&next).is_empty()
                && !(is_namespace && namespace_spec_finalizers(&next))
            {
                let preconditions = Preconditions { mod_revision: Some(stored.mod_revision), uid: None };
                let last_state = stamp_last_state(next.clone());
                match settle(self.inner.store.delete(&key, preconditions, last_state).await, rt, name)? {
                    Cas::Written(_) => return Ok(conversion::from_storage(rt, next)),
                    Cas::Retry => continue,
                }
            }
            let stamped = NewValue::stamped(move |revision| meta::stamp_revision(&mut next, revision));
            match settle(self.inner.store.update(&key, Some(stored.mod_revision), stamped).await, rt, name)? {
                Cas::Written(written) => return Ok(conversion::from_storage(rt, parse(&written.value)?)),
                Cas::Retry => continue,
            }
        }
        Err(Status::conflict(rt.plural, rt.group, name, "too many concurrent writers; retry"))
    }

    /// Records an ordinary write by `options`' manager on `next` (the stored form), computed on
    /// `rt`'s served form (`live` is the served current object), so that the entry names the
    /// apiVersion and the fields the manager wrote, as upstream.
    fn record_update_served(
        &self,
        rt: &ResourceType,
        subresource: Subresource,
        live: Option<&Value>,
        next: &mut Value,
        options: &WriteOptions,
    ) {
        if !conversion::converts(rt) {
            managed_fields::record_update(rt, subresource, live, next, manager(options), &self.now());
            return;
        }
        let mut served = conversion::from_storage(rt, next.clone());
        managed_fields::record_update(rt, subresource, live, &mut served, manager(options), &self.now());
        managed_fields::set_list(next, managed_fields::list_of(&served));
    }

    /// Deletes an object: at once, or by setting `deletionTimestamp` when finalizers (including
    /// the one a propagation policy adds) must run first.
    pub async fn delete(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<Deleted, Status> {
        Ok(match self.delete_stored(rt, namespace, name, options).await? {
            Deleted::Object(object) => Deleted::Object(conversion::from_storage(rt, object)),
            status => status,
        })
    }

    /// [`Api::delete`], answering with the object in its stored form.
    async fn delete_stored(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<Deleted, Status> {
        let key = key(rt, namespace, name);
        for _ in 0..UPDATE_ATTEMPTS_MAX {
            let Some(stored) = self.inner.store.get(&key).await.map_err(storage_failure)? else {
                return Err(Status::not_found(rt.plural, rt.group, name));
            };
            let current = parse(&stored.value)?;
            check_delete_preconditions(rt, name, &current, options)?;
            let is_namespace = rt.group.is_empty() && rt.kind == "Namespace";
            if is_namespace && IMMORTAL_NAMESPACES.contains(&name) {
                return Err(Status::forbidden(rt.plural, rt.group, name, "this namespace may not be deleted"));
            }
            let mut finalizers = meta::finalizers(&current);
            match options.propagation {
                Some(Propagation::Orphan) => replace_gc_finalizer(&mut finalizers, "orphan"),
                Some(Propagation::Foreground) => replace_gc_finalizer(&mut finalizers, "foregroundDeletion"),
                Some(Propagation::Background) => finalizers.retain(|f| f != "orphan" && f != "foregroundDeletion"),
                None => {}
            }
            let namespace_finalizing = is_namespace && namespace_spec_finalizers(&current);
            let grace = self.grace(rt, &current, options);
            if grace == Grace::Pending {
                // Finalizers cannot be changed while a graceful deletion is pending, as upstream.
                return Ok(Deleted::Object(current));
            }
            if finalizers.is_empty() && !namespace_finalizing && grace == Grace::Now {
                if options.dry_run {
                    return Ok(self.deleted_response(rt, current));
                }
                let preconditions = Preconditions { mod_revision: Some(stored.mod_revision), uid: None };
                match settle(self.inner.store.delete(&key, preconditions, stamp_last_state(current)).await, rt, name)? {
                    Cas::Written(last) => return Ok(self.deleted_response(rt, parse(&last.value)?)),
                    Cas::Retry => continue,
                }
            }
            // Graceful path: mark for deletion and keep the object until its finalizers are done
            // (and, for a pod, until its kubelet has stopped it).
            if meta::is_being_deleted(&current) && finalizers == meta::finalizers(&current) && grace == Grace::Now {
                if is_namespace {
                    return Err(Status::conflict(
                        rt.plural,
                        rt.group,
                        name,
                        "The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.",
                    ));
                }
                return Ok(Deleted::Object(current));
            }
            let mut next = current.clone();
            let object_meta = meta::metadata_mut(&mut next);
            match &grace {
                Grace::Set { deletion_timestamp, period } => {
                    object_meta.insert("deletionTimestamp".into(), meta::format_time(*deletion_timestamp).into());
                    object_meta.insert("deletionGracePeriodSeconds".into(), (*period).into());
                }
                _ => {
                    object_meta.entry("deletionTimestamp").or_insert_with(|| Value::String(self.now()));
                    object_meta.insert("deletionGracePeriodSeconds".into(), 0.into());
                }
            }
            if finalizers.is_empty() {
                object_meta.remove("finalizers");
            } else {
                object_meta.insert("finalizers".into(), finalizers.into());
            }
            if rt.has_generation && !meta::is_being_deleted(&current) {
                object_meta.insert("generation".into(), (meta::generation(&current) + 1).into());
            }
            if is_namespace {
                next["status"]["phase"] = "Terminating".into();
            }
            if options.dry_run {
                return Ok(Deleted::Object(next));
            }
            let stamped = NewValue::stamped(move |revision| meta::stamp_revision(&mut next, revision));
            match settle(self.inner.store.update(&key, Some(stored.mod_revision), stamped).await, rt, name)? {
                Cas::Written(written) => return Ok(Deleted::Object(parse(&written.value)?)),
                Cas::Retry => continue,
            }
        }
        Err(Status::conflict(rt.plural, rt.group, name, "too many concurrent writers; retry"))
    }

    /// The grace a delete gives `current` (upstream's `BeforeDelete` with the pod strategy's
    /// `CheckGracefulDelete`): only pods are graceful, and only while bound to a node and not
    /// terminal; a pod already terminating may only have its grace period shortened.
    fn grace(&self, rt: &ResourceType, current: &Value, options: &DeleteOptions) -> Grace {
        if !(rt.group.is_empty() && rt.kind == "Pod") {
            return Grace::Now;
        }
        // Negative periods count as one second, as upstream.
        let asked = options.grace_period_seconds.map(|period| if period < 0 { 1 } else { period });
        let now = self.inner.clock.now();
        if meta::is_being_deleted(current) {
            let Some(pending) = current.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64) else {
                return Grace::Now;
            };
            return match asked {
                // A stored grace of 0 means an earlier delete was cut short: finish it.
                _ if pending <= 0 => Grace::Now,
                Some(0) => Grace::Now,
                Some(period) if period < pending => {
                    let marked = current
                        .pointer("/metadata/deletionTimestamp")
                        .and_then(Value::as_str)
                        .and_then(meta::parse_time)
                        .unwrap_or(now);
                    let start = marked - std::time::Duration::from_secs(pending as u64);
                    Grace::Set { deletion_timestamp: start + std::time::Duration::from_secs(period as u64), period }
                }
                _ => Grace::Pending,
            };
        }
        let unbound = current.pointer("/spec/nodeName").and_then(Value::as_str).is_none_or(str::is_empty);
        let terminal =
            matches!(current.pointer("/status/phase").and_then(Value::as_str), Some("Succeeded") | Some("Failed"));
        let period = match asked {
            Some(period) => period,
            None => current.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(30),
        };
        if unbound || terminal || period <= 0 {
            return Grace::Now;
        }
        Grace::Set { deletion_timestamp: now + std::time::Duration::from_secs(period as u64), period }
    }

    /// PUT `/api/v1/namespaces/{name}/finalize`: replaces `spec.finalizers`; a terminating
    /// namespace left with no finalizers is deleted.
    pub async fn finalize_namespace(
        &self,
        rt: &ResourceType,
        name: &str,
        body: Value,
        options: &WriteOptions,
    ) -> Result<Value, Status> {
        check_name(&body, name)?;
        self.read_modify_write(rt, "", name, Subresource::Finalize, options, |_| Ok(body.clone())).await
    }

    /// Creates what a cluster has from its first start: the namespaces `default`, `kube-system`,
    /// `kube-public` and `kube-node-lease`, and the `kubernetes` Service in `default`. Existing
    /// objects are left alone, so this is safe at every start. Data written before Bosun converted
    /// between versions is moved to the storage version first ([`Api::migrate_converted_views`]).
    pub async fn bootstrap(&self, api_port: u16) -> Result<(), Status> {
        self.migrate_converted_views().await?;
        let namespaces = crate::registry::find("", "v1", "namespaces").expect("namespaces are registered");
        let services = crate::registry::find("", "v1", "services").expect("services are registered");
        let options = WriteOptions { field_manager: Some("bosun".into()), ..Default::default() };
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
            match self.create(namespaces, "", body, &options).await {
                Ok(_) => {}
                Err(status) if status.code == 409 => {}
                Err(status) => return Err(status),
            }
        }
        let kubernetes = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {
                "type": "ClusterIP",
                "clusterIP": "10.96.0.1",
                "clusterIPs": ["10.96.0.1"],
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": api_port}],
                "sessionAffinity": "None",
            },
        });
        match self.create(services, "default", kubernetes, &options).await {
            Ok(_) => Ok(()),
            Err(status) if status.code == 409 => Ok(()),
            Err(status) => Err(status),
        }
    }

    /// Moves objects that older data directories keep under a converted view's own key
    /// (`autoscaling/v1` HPAs, `events.k8s.io/v1` Events, stored apart before Bosun converted) to
    /// the storage version's key, converted, with their uid; they get a new resourceVersion. An
    /// object already under the storage key wins. Returns how many were moved; once done, each
    /// start finds nothing to move.
    pub async fn migrate_converted_views(&self) -> Result<usize, Status> {
        let mut moved = 0;
        for rt in crate::registry::all().iter().filter(|rt| conversion::converts(rt)) {
            let prefix = KeyPrefix::kind(rt.group, rt.version, rt.kind).map_err(|e| Status::internal(e.to_string()))?;
            let page = self.inner.store.list(&ListRequest::all(prefix), &|_| true).await.map_err(storage_failure)?;
            for item in page.items {
                let old_key = item.object_key().map_err(|e| Status::internal(e.to_string()))?;
                let converted = parse(&item.value).and_then(|object| conversion::to_storage(rt, object));
                match converted {
                    Ok(object) => {
                        let mut object = object;
                        let new_key = key(rt, &old_key.namespace, &old_key.name);
                        let stamped = NewValue::stamped(move |revision| meta::stamp_revision(&mut object, revision));
                        match self.inner.store.create(&new_key, item.uid, stamped).await {
                            Ok(_) => moved += 1,
                            Err(StoreError::AlreadyExists) => {
                                tracing::warn!(key = %old_key, "dropping an object stored apart: the storage version has one of the same name");
                            }
                            Err(other) => return Err(storage_failure(other)),
                        }
                    }
                    Err(status) => {
                        tracing::warn!(key = %old_key, error = %status.message, "dropping an object stored apart that does not convert");
                    }
                }
                let preconditions = Preconditions { mod_revision: Some(item.mod_revision), uid: None };
                match self.inner.store.delete(&old_key, preconditions, LastState::AsStored).await {
                    Ok(_) | Err(StoreError::NotFound) | Err(StoreError::Conflict { .. }) => {}
                    Err(other) => return Err(storage_failure(other)),
                }
            }
        }
        Ok(moved)
    }

    fn deleted_response(&self, rt: &ResourceType, last: Value) -> Deleted {
        if rt.delete_returns_object {
            Deleted::Object(last)
        } else {
            Deleted::Status(Status::success_deleted(rt.plural, rt.group, meta::name(&last), meta::uid(&last)))
        }
    }

    /// Sets the body's namespace from the URL (or checks they agree), and for creates checks that
    /// the namespace exists and is not terminating. Returns the namespace to use.
    async fn check_namespace_for_write(
        &self,
        rt: &ResourceType,
        url_namespace: &str,
        body: &mut Value,
        creating: bool,
    ) -> Result<String, Status> {
        let object_meta = meta::metadata_mut(body);
        if !rt.namespaced {
            object_meta.remove("namespace");
            return Ok(String::new());
        }
        if url_namespace.is_empty() {
            let name = object_meta.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            return Err(Status::invalid(rt.kind, rt.group, &name, &[FieldError::required("metadata.namespace", "")]));
        }
        let body_namespace = object_meta.get("namespace").and_then(Value::as_str).unwrap_or("");
        if !body_namespace.is_empty() && body_namespace != url_namespace {
            return Err(Status::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        object_meta.insert("namespace".into(), url_namespace.into());
        if creating {
            let found = self.inner.store.get(&namespace_key(url_namespace)).await.map_err(storage_failure)?;
            let Some(namespace) = found else {
                return Err(Status::not_found("namespaces", "", url_namespace));
            };
            let namespace = parse(&namespace.value)?;
            if meta::is_being_deleted(&namespace) {
                let name = meta::name(body).to_string();
                let mut status = Status::forbidden(
                    rt.plural,
                    rt.group,
                    &name,
                    &format!(
                        "unable to create new content in namespace {url_namespace} because it is being terminated"
                    ),
                );
                if let Some(details) = status.details.as_mut() {
                    details.causes.push(crate::status::Cause {
                        reason: "NamespaceTerminating".into(),
                        message: format!("namespace {url_namespace} is being terminated"),
                        field: "metadata.namespace".into(),
                    });
                }
                return Err(status);
            }
        }
        Ok(url_namespace.to_string())
    }
}

/// The body's kind and apiVersion must name the endpoint's type; absent ones are filled in.
fn check_kind(rt: &ResourceType, body: &mut Value) -> Result<(), Status> {
    let Some(object) = body.as_object_mut() else {
        return Err(Status::bad_request("the body of the request must be a JSON object"));
    };
    let expected_api_version = api_version(rt);
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if (!kind.is_empty() && kind != rt.kind) || (!version.is_empty() && version != expected_api_version) {
        let shown_version = if version.is_empty() { rt.version } else { version };
        return Err(Status::bad_request(format!(
            "{kind} in version \"{shown_version}\" cannot be handled as a {}: the object's kind or apiVersion does not match the request ({expected_api_version}, {})",
            rt.kind, rt.kind
        )));
    }
    object.insert("kind".into(), rt.kind.into());
    object.insert("apiVersion".into(), expected_api_version.into());
    Ok(())
}

fn check_name(body: &Value, url_name: &str) -> Result<(), Status> {
    let body_name = meta::name(body);
    if body_name != url_name {
        return Err(Status::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({url_name})"
        )));
    }
    Ok(())
}

/// Runs the generic metadata checks and the type's own validation.
fn validate(rt: &ResourceType, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errors = crate::metadata_rules::validate(rt, object, old);
    errors.extend(crate::validation::validate_object(rt.group, rt.kind, object, old));
    errors
}

/// Upstream resets status on create for types with a status subresource.
fn reset_status(rt: &ResourceType, body: &mut Value) {
    if let Some(object) = body.as_object_mut() {
        object.insert("status".into(), Value::Object(Map::new()));
    }
    if rt.group.is_empty() && rt.kind == "Pod" {
        body["status"]["phase"] = "Pending".into();
    }
}

/// Builds the object to store from the current one and the requested one, keeping what the
/// endpoint may not change.
fn prepare_update(rt: &ResourceType, subresource: Subresource, current: &Value, requested: Value) -> Value {
    let mut next = match subresource {
        Subresource::Main => {
            let mut next = requested;
            if rt.has_status {
                match current.get("status") {
                    Some(status) => next["status"] = status.clone(),
                    None => {
                        next.as_object_mut().map(|o| o.remove("status"));
                    }
                }
            }
            next
        }
        Subresource::Finalize => {
            let mut next = current.clone();
            match requested.pointer("/spec/finalizers") {
                Some(finalizers) => next["spec"]["finalizers"] = finalizers.clone(),
                None => {
                    next.get_mut("spec").and_then(Value::as_object_mut).map(|spec| spec.remove("finalizers"));
                }
            }
            next
        }
        Subresource::Status => {
            // Everything but status (and metadata other than annotations) stays as stored.
            let mut next = current.clone();
            match requested.get("status") {
                Some(status) => next["status"] = status.clone(),
                None => {
                    next.as_object_mut().map(|o| o.remove("status"));
                }
            }
            if let Some(annotations) = requested.get("metadata").and_then(|m| m.get("annotations")) {
                meta::metadata_mut(&mut next).insert("annotations".into(), annotations.clone());
            }
            next
        }
    };
    let object_meta = meta::metadata_mut(&mut next);
    let current_meta = current.get("metadata").and_then(Value::as_object);
    // Server-owned fields are never taken from the request.
    for owned in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "name",
        "namespace",
    ] {
        match current_meta.and_then(|m| m.get(owned)) {
            Some(value) => object_meta.insert(owned.into(), value.clone()),
            None => object_meta.remove(owned),
        };
    }
    object_meta.remove("resourceVersion");
    object_meta.remove("selfLink");
    next
}

/// Whether an update moves `metadata.generation`: a spec change, and for Deployments an
/// annotation change too.
fn generation_moves(rt: &ResourceType, current: &Value, next: &Value) -> bool {
    let spec_of = |object: &Value| -> Map<String, Value> {
        let mut spec = object.as_object().cloned().unwrap_or_default();
        for not_spec in ["metadata", "status", "kind", "apiVersion"] {
            spec.remove(not_spec);
        }
        spec
    };
    if spec_of(current) != spec_of(next) {
        return true;
    }
    rt.generation_on_annotations
        && current.get("metadata").and_then(|m| m.get("annotations"))
            != next.get("metadata").and_then(|m| m.get("annotations"))
}

/// Equal apart from resourceVersion: such a write changes nothing and is skipped.
fn same_object(current: &Value, next: &Value) -> bool {
    let mut current = current.clone();
    meta::metadata_mut(&mut current).remove("resourceVersion");
    &current == next
}

fn stamp_last_state(mut last: Value) -> LastState<'static> {
    LastState::Stamped(Box::new(move |_, revision| meta::stamp_revision(&mut last, revision)))
}

fn check_delete_preconditions(
    rt: &ResourceType,
    name: &str,
    current: &Value,
    options: &DeleteOptions,
) -> Result<(), Status> {
    if let Some(uid) = options.precondition_uid.as_deref().filter(|u| !u.is_empty())
        && uid != meta::uid(current)
    {
        return Err(Status::conflict_on_kind(
            rt.kind,
            rt.plural,
            rt.group,
            name,
            &format!(
                "the UID in the precondition ({uid}) does not match the UID in record ({}). The object might have been deleted and then recreated",
                meta::uid(current)
            ),
        ));
    }
    if let Some(rv) = options.precondition_resource_version.as_deref().filter(|r| !r.is_empty())
        && rv != meta::resource_version(current)
    {
        return Err(Status::conflict_on_kind(
            rt.kind,
            rt.plural,
            rt.group,
            name,
            &format!(
                "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({}). The object might have been modified",
                meta::resource_version(current)
            ),
        ));
    }
    Ok(())
}

fn replace_gc_finalizer(finalizers: &mut Vec<String>, wanted: &str) {
    finalizers.retain(|f| f != "orphan" && f != "foregroundDeletion");
    finalizers.push(wanted.to_string());
}

/// A namespace is finalized when `spec.finalizers` is empty.
fn namespace_spec_finalizers(namespace: &Value) -> bool {
    namespace.pointer("/spec/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty())
}

/// `generateName` plus five characters from upstream's alphabet (no vowels, no 0/1/3).
fn generated_name(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let prefix: String = prefix.chars().take(58).collect();
    let random = Uuid::new_v4();
    let suffix: String =
        random.as_bytes()[..5].iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    format!("{prefix}{suffix}")
}
