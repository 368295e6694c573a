//! The shared informer against a real `Api`: its cache follows creates, updates and deletes, and
//! when its watch falls behind a compaction (410 Expired) it re-lists and hands the difference to
//! its handlers as ordinary changes, so nothing is missed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bosun_api::api::{Api, DeleteOptions, WriteOptions};
use bosun_api::registry;
use bosun_controllers::runtime::informer::{Change, Informer};
use bosun_store::{MemoryBackend, Store, StoreConfig};
use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::json;

fn api(ring_capacity: usize) -> Api {
    let config = StoreConfig {
        compaction_interval: None,
        ring_capacity,
        history_min_revisions: 0,
        history_min_age: Duration::ZERO,
        ..StoreConfig::default()
    };
    Api::new(Store::open_with(Arc::new(MemoryBackend::default()), config).expect("open the store"))
}

async fn create(api: &Api, name: &str, value: &str) {
    let configmaps = registry::find("", "v1", "configmaps").unwrap();
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": value}});
    api.create(configmaps, "default", body, &WriteOptions::default()).await.expect("create");
}

async fn wait(what: &str, done: impl Fn() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting for {what}");
}

// The test holds the handler's lock across awaits on purpose: that is the stall.
#[allow(clippy::await_holding_lock)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_informer_that_falls_behind_a_compaction_relists_and_reports_what_changed() {
    let api = api(16);
    api.bootstrap(6443).await.unwrap();
    create(&api, "kept", "1").await;
    create(&api, "doomed", "1").await;

    let informer = Informer::<ConfigMap>::new(&api);
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    // A gate the test holds to stall the informer's task, as a slow handler would.
    let gate = Arc::new(Mutex::new(()));
    {
        let (seen, gate) = (Arc::clone(&seen), Arc::clone(&gate));
        informer.on_change(move |change| {
            let _held = gate.lock().unwrap();
            let entry = match change {
                Change::Added(c) => format!("added {}", c.metadata.name.as_deref().unwrap()),
                Change::Updated { new, .. } => format!("updated {}", new.metadata.name.as_deref().unwrap()),
                Change::Deleted(c) => format!("deleted {}", c.metadata.name.as_deref().unwrap()),
            };
            seen.lock().unwrap().push(entry);
        });
    }
    informer.start();
    informer.wait_synced().await;
    assert_eq!((informer.len(), informer.lists()), (2, 1));

    // An ordinary change arrives through the watch.
    create(&api, "first", "1").await;
    wait("the watch to deliver", || informer.get("default", "first").is_some()).await;

    // Stall the informer, move far past its position (more than the ring holds), delete one
    // object and compact the history away: its watch can only end with 410 Expired.
    let stall = gate.lock().unwrap();
    create(&api, "trigger", "1").await; // the informer's handler blocks on this one
    tokio::time::sleep(Duration::from_millis(50)).await;
    for i in 0..64 {
        create(&api, &format!("bulk-{i}"), "1").await;
    }
    let configmaps = registry::find("", "v1", "configmaps").unwrap();
    api.delete(configmaps, "default", "doomed", &DeleteOptions::default()).await.unwrap();
    let head = api.store().current_revision().await.unwrap();
    api.store().compact(head).await.expect("compact");
    drop(stall);

    wait("the re-list", || informer.len() == 2 + 1 + 1 + 64 - 1).await;
    assert!(informer.get("default", "doomed").is_none(), "a delete during the gap is seen");
    assert!(informer.get("default", "bulk-63").is_some());
    assert!(informer.resource_version() >= head);
    assert_eq!(informer.lists(), 2, "the watch expired and the informer listed again");
    let seen = seen.lock().unwrap();
    assert!(seen.contains(&"deleted doomed".to_string()), "handlers hear of the delete: {seen:?}");
    assert!(seen.contains(&"added bulk-0".to_string()));
}
