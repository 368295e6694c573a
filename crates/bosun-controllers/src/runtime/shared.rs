//! One informer per type for all controllers: the ReplicaSet controller, the node agent and the
//! endpoints controller all read pods from the same cache and the same watch.

use std::any::{Any, TypeId};
use std::collections::HashMap;

use bosun_api::api::Api;
use parking_lot::Mutex;

use super::informer::{Informer, Object};

/// Starts one informer's list and watch.
type Starter = Box<dyn FnOnce() -> tokio::task::JoinHandle<()> + Send>;

/// The informers of a set of controllers. Controllers ask for the types they read and add their
/// handlers; then [`SharedInformers::start`] starts every watch at once.
pub struct SharedInformers {
    api: Api,
    informers: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
    starters: Mutex<Vec<Starter>>,
}

impl SharedInformers {
    /// No informers yet, over `api`.
    pub fn new(api: &Api) -> Self {
        SharedInformers { api: api.clone(), informers: Mutex::new(HashMap::new()), starters: Mutex::new(Vec::new()) }
    }

    /// The informer of `K`, made on first use.
    pub fn get<K: Object>(&self) -> Informer<K> {
        let mut informers = self.informers.lock();
        if let Some(existing) = informers.get(&TypeId::of::<K>()) {
            return existing.downcast_ref::<Informer<K>>().expect("one informer type per TypeId").clone();
        }
        let informer = Informer::<K>::new(&self.api);
        informers.insert(TypeId::of::<K>(), Box::new(informer.clone()));
        let to_start = informer.clone();
        self.starters.lock().push(Box::new(move || to_start.start()));
        informer
    }

    /// Starts every informer made so far (each once).
    pub fn start(&self) -> Vec<tokio::task::JoinHandle<()>> {
        self.starters.lock().drain(..).map(|start| start()).collect()
    }
}
