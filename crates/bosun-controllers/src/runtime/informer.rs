//! Shared informers: an in-memory cache of every object of one type, fed by a list and then a
//! watch through the in-process [`Api`] (so it sees exactly what any client sees), with handlers
//! told of each change after the cache has it.
//!
//! The watch resumes from the last resourceVersion it saw (bookmarks keep that position fresh
//! on quiet types); a start below the compaction point (410 Expired) re-lists, and the difference
//! between the old cache and the new list reaches the handlers as ordinary changes, so a
//! controller misses nothing across a re-list.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bosun_api::api::{Api, ListParams};
use bosun_api::registry::{self, ResourceType};
use bosun_api::watch::{EventType, WatchParams};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, Resource};
use parking_lot::RwLock;
use serde::de::DeserializeOwned;

use super::ObjectKey;

/// Pause before retrying a failed list or watch.
const RETRY_DELAY: Duration = Duration::from_millis(200);

/// The object types informers hold: k8s-openapi types with standard metadata.
pub trait Object: Resource + Metadata<Ty = ObjectMeta> + DeserializeOwned + Send + Sync + 'static {}
impl<K> Object for K where K: Resource + Metadata<Ty = ObjectMeta> + DeserializeOwned + Send + Sync + 'static {}

/// A change the cache took in, as handlers see it.
pub enum Change<'a, K> {
    /// A new object (or one seen first by a re-list).
    Added(&'a Arc<K>),
    /// An object changed; `old` is the cached state before.
    Updated {
        /// Before.
        old: &'a Arc<K>,
        /// After.
        new: &'a Arc<K>,
    },
    /// An object is gone; its last known state.
    Deleted(&'a Arc<K>),
}

type Handler<K> = Box<dyn Fn(&Change<'_, K>) + Send + Sync>;

/// A cache of every object of type `K`, kept current by a watch. Cheap to clone.
pub struct Informer<K> {
    inner: Arc<Inner<K>>,
}

impl<K> Clone for Informer<K> {
    fn clone(&self) -> Self {
        Informer { inner: Arc::clone(&self.inner) }
    }
}

struct Inner<K> {
    api: Api,
    rt: &'static ResourceType,
    cache: RwLock<Cache<K>>,
    handlers: RwLock<Vec<Handler<K>>>,
    synced: tokio::sync::watch::Sender<bool>,
    /// Full lists made (the first, then one per 410 Expired).
    lists: std::sync::atomic::AtomicU64,
}

struct Cache<K> {
    objects: HashMap<ObjectKey, Arc<K>>,
    /// Names per namespace, for namespace-scoped listing.
    by_namespace: HashMap<String, BTreeMap<String, Arc<K>>>,
    /// Keys of the objects whose controller reference names a uid; orphans (no controller)
    /// under the empty uid.
    by_controller: HashMap<String, HashSet<ObjectKey>>,
    resource_version: u64,
}

/// The uid the owner index files an object under: its controller's, or "" for an orphan.
fn controller_uid(meta: &ObjectMeta) -> &str {
    let controller = meta.owner_references.iter().flatten().find(|r| r.controller == Some(true));
    controller.map_or("", |r| r.uid.as_str())
}

impl<K: Object> Cache<K> {
    fn insert(&mut self, key: ObjectKey, object: Arc<K>) -> Option<Arc<K>> {
        let old = self.objects.insert(key.clone(), Arc::clone(&object));
        if let Some(old) = &old {
            self.unindex(&key, old);
        }
        self.by_controller.entry(controller_uid(object.metadata()).to_string()).or_default().insert(key.clone());
        self.by_namespace.entry(key.namespace.clone()).or_default().insert(key.name, object);
        old
    }

    fn remove(&mut self, key: &ObjectKey) -> Option<Arc<K>> {
        let old = self.objects.remove(key)?;
        self.unindex(key, &old);
        if let Some(names) = self.by_namespace.get_mut(&key.namespace) {
            names.remove(&key.name);
            if names.is_empty() {
                self.by_namespace.remove(&key.namespace);
            }
        }
        Some(old)
    }

    fn unindex(&mut self, key: &ObjectKey, old: &K) {
        let uid = controller_uid(old.metadata());
        if let Some(keys) = self.by_controller.get_mut(uid) {
            keys.remove(key);
            if keys.is_empty() {
                self.by_controller.remove(uid);
            }
        }
    }
}

impl<K: Object> Informer<K> {
    /// An informer for `K` over `api`; call [`Informer::on_change`] for every handler, then
    /// [`Informer::start`].
    pub fn new(api: &Api) -> Self {
        let rt = registry::find(K::GROUP, K::VERSION, K::URL_PATH_SEGMENT)
            .unwrap_or_else(|| panic!("{} is not a registered resource type", K::KIND));
        let (synced, _) = tokio::sync::watch::channel(false);
        Informer {
            inner: Arc::new(Inner {
                api: api.clone(),
                rt,
                cache: RwLock::new(Cache {
                    objects: HashMap::new(),
                    by_namespace: HashMap::new(),
                    by_controller: HashMap::new(),
                    resource_version: 0,
                }),
                handlers: RwLock::new(Vec::new()),
                synced,
                lists: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// Adds a handler, called (on the informer's task, so it must be quick: typically it queues
    /// keys) for every change after the cache has taken it in.
    pub fn on_change(&self, handler: impl Fn(&Change<'_, K>) + Send + Sync + 'static) {
        self.inner.handlers.write().push(Box::new(handler));
    }

    /// Starts the list and watch; it runs until the store closes.
    pub fn start(&self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(Arc::clone(&self.inner).run())
    }

    /// Waits until the first list is in the cache (or the store closed: nothing will come).
    pub async fn wait_synced(&self) {
        let mut synced = self.inner.synced.subscribe();
        tokio::select! {
            _ = synced.wait_for(|synced| *synced) => {}
            _ = self.inner.api.store().closed() => {}
        }
    }

    /// The cached object, if any.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        self.inner.cache.read().objects.get(&ObjectKey::new(namespace, name)).cloned()
    }

    /// Every cached object in `namespace` (`None`: everywhere), ordered by namespace and name.
    pub fn list(&self, namespace: Option<&str>) -> Vec<Arc<K>> {
        let cache = self.inner.cache.read();
        match namespace {
            Some(namespace) => cache.by_namespace.get(namespace).map(|names| names.values().cloned().collect()),
            None => Some(cache.by_namespace.values().flat_map(|names| names.values().cloned()).collect()),
        }
        .unwrap_or_default()
    }

    /// The cached owner that `dependent`'s controller reference names: same kind, same
    /// namespace, same name and same uid (a re-created owner of that name is not it).
    pub fn controller_of(&self, dependent: &ObjectMeta) -> Option<Arc<K>> {
        let reference = dependent.owner_references.iter().flatten().find(|r| r.controller == Some(true))?;
        if reference.kind != K::KIND {
            return None;
        }
        let owner = self.get(dependent.namespace.as_deref().unwrap_or_default(), &reference.name)?;
        (owner.metadata().uid.as_deref() == Some(reference.uid.as_str())).then_some(owner)
    }

    /// The cached objects in `namespace` whose label selector (as `selector_of` reads it; an
    /// empty selector counts as none) matches `labels`: the owners an orphan may be adopted by.
    pub fn selecting(
        &self,
        namespace: &str,
        labels: Option<&std::collections::BTreeMap<String, String>>,
        selector_of: impl Fn(&K) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    ) -> Vec<Arc<K>> {
        self.list(Some(namespace))
            .into_iter()
            .filter(|owner| {
                crate::objects::selector(selector_of(owner))
                    .is_some_and(|selector| !selector.is_everything() && crate::objects::matches(&selector, labels))
            })
            .collect()
    }

    /// The cached objects whose controller reference names `owner_uid`.
    pub fn controlled_by(&self, owner_uid: &str) -> Vec<Arc<K>> {
        if owner_uid.is_empty() {
            return Vec::new();
        }
        self.indexed("", owner_uid)
    }

    /// What an owner in `namespace` with uid `owner_uid` may claim: the objects it controls and
    /// the namespace's orphans (objects with no controller), without scanning the rest.
    pub fn claimable(&self, namespace: &str, owner_uid: &str) -> Vec<Arc<K>> {
        let mut objects = self.indexed(namespace, "");
        objects.extend(self.controlled_by(owner_uid));
        objects
    }

    /// Objects filed under `uid` in the owner index, in `namespace` ("" for all).
    fn indexed(&self, namespace: &str, uid: &str) -> Vec<Arc<K>> {
        let cache = self.inner.cache.read();
        let Some(keys) = cache.by_controller.get(uid) else { return Vec::new() };
        let keys = keys.iter().filter(|key| namespace.is_empty() || key.namespace == namespace);
        let mut objects: Vec<Arc<K>> = keys.filter_map(|key| cache.objects.get(key).cloned()).collect();
        objects.sort_by(|a, b| a.metadata().name.cmp(&b.metadata().name));
        objects
    }

    /// The resourceVersion the cache is current to.
    pub fn resource_version(&self) -> u64 {
        self.inner.cache.read().resource_version
    }

    /// How many full lists the informer made: 1, plus one per watch that expired.
    pub fn lists(&self) -> u64 {
        self.inner.lists.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many objects the cache holds.
    pub fn len(&self) -> usize {
        self.inner.cache.read().objects.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Object> Inner<K> {
    async fn run(self: Arc<Self>) {
        self.list_and_watch().await;
        // Handlers hold their controllers, which hold this informer: drop them so that the cycle
        // goes, and with it the last handles on the closed store.
        self.handlers.write().clear();
    }

    async fn list_and_watch(&self) {
        loop {
            let Some(revision) = self.relist().await else {
                if self.api.store().is_closed() {
                    return;
                }
                tokio::time::sleep(RETRY_DELAY).await;
                continue;
            };
            self.synced.send_replace(true);
            match self.watch_from(revision).await {
                WatchEnd::Expired => continue,
                WatchEnd::StoreClosed => return,
            }
        }
    }

    /// Lists every object, replaces the cache and tells the handlers what differs; returns the
    /// list's revision.
    async fn relist(&self) -> Option<u64> {
        let list = match self.api.list(self.rt, None, &ListParams::default(), &|_| true).await {
            Ok(list) => list,
            Err(status) => {
                tracing::warn!(kind = self.rt.kind, %status.message, "informer list failed; retrying");
                return None;
            }
        };
        self.lists.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut fresh = HashMap::with_capacity(list.items.len());
        for item in &list.items {
            if let Some(object) = self.decode(item) {
                fresh.insert(ObjectKey::of(object.metadata()), object);
            }
        }
        let mut changes = Vec::new();
        {
            let mut cache = self.cache.write();
            let gone: Vec<ObjectKey> = cache.objects.keys().filter(|key| !fresh.contains_key(*key)).cloned().collect();
            for key in gone {
                if let Some(old) = cache.remove(&key) {
                    changes.push((None, Some(old)));
                }
            }
            for (key, object) in fresh {
                let old = cache.insert(key, Arc::clone(&object));
                let unchanged = old
                    .as_ref()
                    .is_some_and(|old| old.metadata().resource_version == object.metadata().resource_version);
                if !unchanged {
                    changes.push((Some(object), old));
                }
            }
            cache.resource_version = list.resource_version;
        }
        for (new, old) in changes {
            self.notify(new, old);
        }
        Some(list.resource_version)
    }

    async fn watch_from(&self, mut revision: u64) -> WatchEnd {
        loop {
            let params = WatchParams {
                resource_version: Some(revision),
                allow_bookmarks: true,
                bookmark_interval: Some(Duration::from_secs(1)),
                ..WatchParams::default()
            };
            let mut watch = match self.api.watch(self.rt, None, &params, None).await {
                Ok(watch) => watch,
                Err(status) if status.code == 410 => return WatchEnd::Expired,
                Err(_) => return WatchEnd::StoreClosed,
            };
            loop {
                let Some(event) = watch.next().await else {
                    if self.api.store().is_closed() {
                        return WatchEnd::StoreClosed;
                    }
                    break; // the watch ended: resume from where it was
                };
                match event.event_type {
                    EventType::Error => return WatchEnd::Expired,
                    EventType::Bookmark => {
                        if let Some(rv) = bookmark_revision(&event.object) {
                            revision = rv;
                            self.cache.write().resource_version = rv;
                        }
                    }
                    EventType::Added | EventType::Modified | EventType::Deleted => {
                        let Some(object) = self.decode(&event.object) else { continue };
                        let rv = object.metadata().resource_version.as_deref().and_then(|rv| rv.parse().ok());
                        let key = ObjectKey::of(object.metadata());
                        let (new, old) = {
                            let mut cache = self.cache.write();
                            if let Some(rv) = rv {
                                cache.resource_version = rv;
                            }
                            if event.event_type == EventType::Deleted {
                                (None, cache.remove(&key).or(Some(object)))
                            } else {
                                let old = cache.insert(key, Arc::clone(&object));
                                (Some(object), old)
                            }
                        };
                        if let Some(rv) = rv {
                            revision = rv;
                        }
                        self.notify(new, old);
                    }
                }
            }
        }
    }

    fn notify(&self, new: Option<Arc<K>>, old: Option<Arc<K>>) {
        let change = match (&new, &old) {
            (Some(new), None) => Change::Added(new),
            (Some(new), Some(old)) => Change::Updated { old, new },
            (None, Some(old)) => Change::Deleted(old),
            (None, None) => return,
        };
        for handler in self.handlers.read().iter() {
            handler(&change);
        }
    }

    fn decode(&self, bytes: &[u8]) -> Option<Arc<K>> {
        match serde_json::from_slice::<K>(bytes) {
            Ok(object) => Some(Arc::new(object)),
            Err(error) => {
                tracing::warn!(kind = self.rt.kind, %error, "informer skipped an object that does not decode");
                None
            }
        }
    }
}

enum WatchEnd {
    Expired,
    StoreClosed,
}

fn bookmark_revision(object: &[u8]) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_slice(object).ok()?;
    value.pointer("/metadata/resourceVersion")?.as_str()?.parse().ok()
}
