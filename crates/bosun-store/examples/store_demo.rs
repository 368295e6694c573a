//! A first look at Bosun's store: opens `./bosun-data/store` (or the directory given as the first
//! argument), writes a Deployment-shaped object, watches its changes, and shows that the revision
//! and the history survive a restart: run it twice.

use std::time::Duration;

use bosun_store::{KeyPrefix, ObjectKey, Store, StoreConfig, WatchItem, WatchRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "bosun-data/store".into());
    let store = Store::open(&dir, StoreConfig::default())?;
    let recovery = store.recovery();
    println!(
        "opened {dir} at revision {} in {:.1} ms ({})",
        recovery.revision,
        recovery.duration.as_secs_f64() * 1e3,
        if recovery.clean { "clean close before" } else { "first start or recovered after a crash" }
    );

    let key = ObjectKey::new("apps", "v1", "Deployment", "default", "kubia");
    let start = store.revision();
    let mut watch = store.watch(WatchRequest::new(KeyPrefix::kind("apps", "v1", "Deployment")?, start))?;

    let replicas = match store.get(&key)? {
        None => {
            store.create(&key, uuid::Uuid::new_v4(), r#"{"spec":{"replicas":1}}"#).await?;
            1
        }
        Some(current) => {
            let text = String::from_utf8_lossy(&current.value).into_owned();
            let replicas =
                text.chars().filter(char::is_ascii_digit).collect::<String>().parse::<u32>().unwrap_or(0) + 1;
            let value = format!(r#"{{"spec":{{"replicas":{replicas}}}}}"#);
            store.update(&key, Some(current.mod_revision), value.as_str()).await?;
            replicas
        }
    };

    while let Ok(Some(item)) = tokio::time::timeout(Duration::from_millis(200), watch.next()).await {
        if let WatchItem::Event(event) = item? {
            println!(
                "watch: {:?} {} at revision {}: {}",
                event.kind,
                event.object_key()?,
                event.revision,
                String::from_utf8_lossy(&event.value)
            );
        }
    }
    println!(
        "replicas is now {replicas}; run me again and it grows, the revision carrying on from {}",
        store.revision()
    );
    store.close()?;
    Ok(())
}
