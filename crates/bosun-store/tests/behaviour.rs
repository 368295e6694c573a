//! The store's behavioural suite: each test names the guarantee it protects. The tests of the
//! storage interface (the one bosun-api runs on) run on every store: the embedded one on sled and
//! on memory and, with the `etcd` feature, the etcd store on a fresh etcd per test. Revisions are
//! counted from the store's revision when the test starts (a fresh etcd starts at 1, not 0).
//! The tests of the embedded engine itself (its ring, retention policy and recovery report) run
//! on the embedded stores only.

mod common;

use std::time::Duration;

use bosun_store::{
    Decision, EventKind, LastState, ListRequest, NewValue, Preconditions, SharedStorage, StoreError, WatchItem,
    WatchRequest,
};
use bytes::Bytes;
use common::{config, pod, pods, pods_in};
use uuid::Uuid;

/// Attempts a read-modify-write makes before giving up (the embedded store's default).
const ATTEMPTS: usize = 64;

async fn next_event(watch: &mut bosun_store::Watch) -> std::sync::Arc<bosun_store::Event> {
    match tokio::time::timeout(Duration::from_secs(10), watch.next()).await {
        Ok(Some(Ok(WatchItem::Event(event)))) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

async fn revision(store: &SharedStorage) -> u64 {
    store.current_revision().await.expect("current revision")
}

async fn value_of(store: &SharedStorage, name: &str) -> Bytes {
    store.get(&pod("a", name)).await.unwrap().expect("the object exists").value
}

on_every_backend! {
    create_then_get_returns_the_value_uid_and_revision(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        let uid = Uuid::new_v4();
        let created = store.create(&pod("a", "x"), uid, "one".into()).await.unwrap();
        assert_eq!(created.mod_revision, base + 1);
        assert_eq!(created.create_revision, base + 1);
        let got = store.get(&pod("a", "x")).await.unwrap().unwrap();
        assert_eq!((&got.value[..], got.uid, got.mod_revision), (&b"one"[..], uid, base + 1));
        assert!(store.get(&pod("a", "y")).await.unwrap().is_none());
    }

    create_fails_when_the_key_is_live_and_succeeds_after_delete(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        store.create(&pod("a", "x"), Uuid::new_v4(), "one".into()).await.unwrap();
        assert!(matches!(store.create(&pod("a", "x"), Uuid::new_v4(), "two".into()).await, Err(StoreError::AlreadyExists)));
        store.delete(&pod("a", "x"), Preconditions::default(), LastState::AsStored).await.unwrap();
        let again = store.create(&pod("a", "x"), Uuid::new_v4(), "three".into()).await.unwrap();
        assert_eq!(again.create_revision, base + 3, "a re-created object starts a new life");
    }

    every_write_takes_exactly_the_next_revision(place) {
        let store = place.storage(config()).await;
        let mut expected = revision(&store).await;
        for i in 0..20 {
            let key = pod("a", &format!("p{}", i % 4));
            let written = match store.get(&key).await.unwrap() {
                None => store.create(&key, Uuid::new_v4(), "v".into()).await.unwrap(),
                Some(_) if i % 3 == 0 => store.delete(&key, Preconditions::default(), LastState::AsStored).await.unwrap(),
                Some(current) => store.update(&key, Some(current.mod_revision), "w".into()).await.unwrap(),
            };
            expected += 1;
            assert_eq!(written.mod_revision, expected);
            assert_eq!(revision(&store).await, expected);
        }
    }

    update_with_a_stale_revision_conflicts_and_writes_nothing(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        let created = store.create(&pod("a", "x"), Uuid::new_v4(), "one".into()).await.unwrap();
        store.update(&pod("a", "x"), Some(created.mod_revision), "two".into()).await.unwrap();
        let stale = store.update(&pod("a", "x"), Some(created.mod_revision), "three".into()).await;
        assert!(matches!(stale, Err(StoreError::Conflict { what: "mod revision", .. })), "{stale:?}");
        assert_eq!(value_of(&store, "x").await, "two");
        assert_eq!(revision(&store).await, base + 2);
        assert!(matches!(store.update(&pod("a", "nope"), None, "x".into()).await, Err(StoreError::NotFound)));
    }

    an_update_keeps_the_uid_and_the_create_revision(place) {
        let store = place.storage(config()).await;
        let uid = Uuid::new_v4();
        let created = store.create(&pod("a", "x"), uid, "one".into()).await.unwrap();
        let updated = store.update(&pod("a", "x"), None, "two".into()).await.unwrap();
        assert_eq!((updated.uid, updated.create_revision), (uid, created.mod_revision));
        assert_eq!(updated.mod_revision, created.mod_revision + 1);
        let got = store.get(&pod("a", "x")).await.unwrap().unwrap();
        assert_eq!(got, updated);
    }

    delete_checks_uid_and_revision_preconditions(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        let uid = Uuid::new_v4();
        let created = store.create(&pod("a", "x"), uid, "one".into()).await.unwrap();
        let wrong_uid = Preconditions { uid: Some(Uuid::new_v4()), ..Default::default() };
        assert!(matches!(store.delete(&pod("a", "x"), wrong_uid, LastState::AsStored).await, Err(StoreError::Conflict { what: "uid", .. })));
        let wrong_rev = Preconditions { mod_revision: Some(base + 99), ..Default::default() };
        assert!(matches!(store.delete(&pod("a", "x"), wrong_rev, LastState::AsStored).await, Err(StoreError::Conflict { .. })));
        let right = Preconditions { uid: Some(uid), mod_revision: Some(created.mod_revision) };
        let last = store.delete(&pod("a", "x"), right, LastState::AsStored).await.unwrap();
        assert_eq!((&last.value[..], last.mod_revision, last.uid), (&b"one"[..], base + 2, uid));
        assert!(store.get(&pod("a", "x")).await.unwrap().is_none());
        assert!(matches!(store.delete(&pod("a", "x"), Preconditions::default(), LastState::AsStored).await, Err(StoreError::NotFound)));
    }

    values_can_carry_their_own_revision(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        let stamped = NewValue::stamped(|revision| Bytes::from(format!("rv={revision}")));
        let created = store.create(&pod("a", "x"), Uuid::new_v4(), stamped).await.unwrap();
        assert_eq!(created.value, format!("rv={}", base + 1));
        assert_eq!(value_of(&store, "x").await, format!("rv={}", base + 1), "reads show the write's revision");
        let listed = store.list(&ListRequest::all(pods()), &|_| true).await.unwrap();
        assert_eq!(listed.items[0].value, format!("rv={}", base + 1));
        let mut watch = store.watch(WatchRequest::new(pods(), base + 1)).await.unwrap();
        let restamped = NewValue::stamped(|revision| Bytes::from(format!("rv={revision}")));
        store.update(&pod("a", "x"), None, restamped).await.unwrap();
        assert_eq!(next_event(&mut watch).await.value, format!("rv={}", base + 2), "so do watch events");
        let last_state = LastState::Stamped(Box::new(|old: &Bytes, revision| {
            Bytes::from(format!("{}+deleted@{revision}", String::from_utf8_lossy(old)))
        }));
        let deleted = store.delete(&pod("a", "x"), Preconditions::default(), last_state).await.unwrap();
        assert_eq!(deleted.value, format!("rv={}+deleted@{}", base + 2, base + 3));
    }

    guaranteed_update_retries_conflicts_until_every_increment_lands(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        store.create(&pod("a", "counter"), Uuid::new_v4(), "0".into()).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..10 {
                    store
                        .guaranteed_update(&pod("a", "counter"), ATTEMPTS, |current| {
                            let n: u64 = std::str::from_utf8(&current.value).unwrap().parse().unwrap();
                            Ok::<_, ()>(Decision::Write((n + 1).to_string().into()))
                        })
                        .await
                        .unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let counter = store.get(&pod("a", "counter")).await.unwrap().unwrap();
        assert_eq!(&counter.value[..], b"80");
        assert_eq!(counter.mod_revision, base + 81, "each increment took exactly one revision");
    }

    an_unchanged_update_takes_no_revision_and_emits_no_event(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        store.create(&pod("a", "x"), Uuid::new_v4(), "same".into()).await.unwrap();
        let mut watch = store.watch(WatchRequest::new(pods(), base + 1)).await.unwrap();
        let kept = store.guaranteed_update(&pod("a", "x"), ATTEMPTS, |_| Ok::<_, ()>(Decision::Unchanged)).await.unwrap();
        assert_eq!(kept.mod_revision, base + 1);
        assert_eq!(revision(&store).await, base + 1);
        store.create(&pod("a", "y"), Uuid::new_v4(), "other".into()).await.unwrap();
        assert_eq!(next_event(&mut watch).await.revision, base + 2, "nothing was emitted for the no-op");
    }

    a_rejected_update_returns_the_callers_error(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        store.create(&pod("a", "x"), Uuid::new_v4(), "v".into()).await.unwrap();
        let result = store.guaranteed_update(&pod("a", "x"), ATTEMPTS, |_| Err::<Decision<'static>, _>("invalid")).await;
        assert!(matches!(result, Err(bosun_store::UpdateError::Rejected("invalid"))));
        assert_eq!(revision(&store).await, base + 1);
    }

    lists_are_prefix_scans_by_kind_and_namespace(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        for (ns, name) in [("a", "1"), ("a", "2"), ("b", "1"), ("a2", "1")] {
            store.create(&pod(ns, name), Uuid::new_v4(), name.into()).await.unwrap();
        }
        let other_kind = bosun_store::ObjectKey::new("", "v1", "Service", "a", "1");
        store.create(&other_kind, Uuid::new_v4(), "svc".into()).await.unwrap();
        let all = store.list(&ListRequest::all(pods()), &|_| true).await.unwrap();
        assert_eq!(all.items.len(), 4);
        assert_eq!(all.revision, base + 5);
        let in_a = store.list(&ListRequest::all(pods_in("a")), &|_| true).await.unwrap();
        let names: Vec<_> = in_a.items.iter().map(|v| v.object_key().unwrap().name).collect();
        assert_eq!(names, ["1", "2"]);
    }

    list_pages_stay_at_the_first_pages_revision_while_writes_happen(place) {
        let store = place.storage(config()).await;
        for i in 0..10 {
            store.create(&pod("a", &format!("p{i:02}")), Uuid::new_v4(), "old".into()).await.unwrap();
        }
        let mut request = ListRequest { limit: Some(3), count_remaining: true, ..ListRequest::all(pods()) };
        let first = store.list(&request, &|_| true).await.unwrap();
        assert_eq!(first.remaining, Some(7));
        // Change the world between pages: update, delete and add keys on both sides of the cursor.
        store.update(&pod("a", "p05"), None, "new".into()).await.unwrap();
        store.delete(&pod("a", "p07"), Preconditions::default(), LastState::AsStored).await.unwrap();
        store.create(&pod("a", "p99"), Uuid::new_v4(), "new".into()).await.unwrap();
        store.update(&pod("a", "p00"), None, "new".into()).await.unwrap();
        let mut seen: Vec<_> = first.items.clone();
        let mut token = first.continue_token.clone();
        while let Some(next) = token {
            request.continue_token = Some(next);
            let page = store.list(&request, &|_| true).await.unwrap();
            assert_eq!(page.revision, first.revision);
            seen.extend(page.items);
            token = page.continue_token;
        }
        let names: Vec<_> = seen.iter().map(|v| v.object_key().unwrap().name).collect();
        let expected: Vec<_> = (0..10).map(|i| format!("p{i:02}")).collect();
        assert_eq!(names, expected);
        assert!(seen.iter().all(|v| &v.value[..] == b"old"), "every item is as of the first page");
    }

    a_list_filter_counts_toward_the_limit_only_for_matching_items(place) {
        let store = place.storage(config()).await;
        for i in 0..10 {
            let value = if i % 2 == 0 { "even" } else { "odd" };
            store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), value.into()).await.unwrap();
        }
        let request = ListRequest { limit: Some(2), ..ListRequest::all(pods()) };
        let page = store.list(&request, &|v| &v.value[..] == b"odd").await.unwrap();
        let names: Vec<_> = page.items.iter().map(|v| v.object_key().unwrap().name).collect();
        assert_eq!(names, ["p1", "p3"]);
        assert!(page.continue_token.is_some());
    }

    a_continue_token_from_another_collection_or_garbage_is_rejected(place) {
        let store = place.storage(config()).await;
        for i in 0..3 {
            store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), "v".into()).await.unwrap();
        }
        let page = store.list(&ListRequest { limit: Some(1), ..ListRequest::all(pods_in("a")) }, &|_| true).await.unwrap();
        let elsewhere = ListRequest { continue_token: page.continue_token, ..ListRequest::all(pods_in("b")) };
        assert!(matches!(store.list(&elsewhere, &|_| true).await, Err(StoreError::InvalidContinue(_))));
        let garbage = ListRequest { continue_token: Some("!!".into()), ..ListRequest::all(pods()) };
        assert!(matches!(store.list(&garbage, &|_| true).await, Err(StoreError::InvalidContinue(_))));
    }

    snapshot_reads_see_the_past_until_it_is_compacted(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        store.create(&pod("a", "x"), Uuid::new_v4(), "v1".into()).await.unwrap();
        store.update(&pod("a", "x"), None, "v2".into()).await.unwrap();
        store.delete(&pod("a", "x"), Preconditions::default(), LastState::AsStored).await.unwrap();
        store.create(&pod("a", "y"), Uuid::new_v4(), "y".into()).await.unwrap();
        assert_eq!(&store.get_at(&pod("a", "x"), base + 1).await.unwrap().unwrap().value[..], b"v1");
        assert_eq!(&store.get_at(&pod("a", "x"), base + 2).await.unwrap().unwrap().value[..], b"v2");
        assert!(store.get_at(&pod("a", "x"), base + 3).await.unwrap().is_none());
        let at_two = ListRequest { revision: Some(base + 2), ..ListRequest::all(pods()) };
        assert_eq!(store.list(&at_two, &|_| true).await.unwrap().items.len(), 1);
        let future = store.get_at(&pod("a", "x"), base + 9).await;
        assert!(matches!(future, Err(StoreError::FutureRevision { requested, current }) if requested == base + 9 && current == base + 4), "{future:?}");

        assert_eq!(store.compact(base + 3).await.unwrap(), base + 3);
        let expired = store.get_at(&pod("a", "x"), base + 2).await;
        assert!(matches!(expired, Err(StoreError::Expired { requested, oldest }) if requested == base + 2 && oldest == base + 3), "{expired:?}");
        assert!(store.get_at(&pod("a", "x"), base + 3).await.unwrap().is_none());
        assert_eq!(value_of(&store, "y").await, "y");
    }

    a_read_at_revision_zero_sees_the_store_before_its_first_write(place) {
        let store = place.storage(config()).await;
        store.create(&pod("a", "x"), Uuid::new_v4(), "v".into()).await.unwrap();
        assert!(store.get_at(&pod("a", "x"), 0).await.unwrap().is_none());
        let at_zero = store.list(&ListRequest { revision: Some(0), ..ListRequest::all(pods()) }, &|_| true).await.unwrap();
        assert_eq!((at_zero.items.len(), at_zero.revision), (0, 0));
    }

    a_continue_token_expires_once_its_revision_is_compacted(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        for i in 0..4 {
            store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), "v".into()).await.unwrap();
        }
        let page = store.list(&ListRequest { limit: Some(2), ..ListRequest::all(pods()) }, &|_| true).await.unwrap();
        store.update(&pod("a", "p3"), None, "w".into()).await.unwrap();
        store.compact(base + 5).await.unwrap();
        let next = ListRequest { continue_token: page.continue_token, ..ListRequest::all(pods()) };
        let expired = store.list(&next, &|_| true).await;
        assert!(matches!(expired, Err(StoreError::Expired { requested, oldest }) if requested == base + 4 && oldest == base + 5), "{expired:?}");
    }

    compaction_keeps_every_live_object_and_everything_above_the_point(place) {
        let store = place.storage(config()).await;
        for round in 0..5 {
            for i in 0..6 {
                let key = pod("a", &format!("p{i}"));
                if round == 0 {
                    store.create(&key, Uuid::new_v4(), "r0".into()).await.unwrap();
                } else if i == round {
                    store.delete(&key, Preconditions::default(), LastState::AsStored).await.unwrap();
                } else if store.get(&key).await.unwrap().is_some() {
                    store.update(&key, None, format!("r{round}").into()).await.unwrap();
                }
            }
        }
        let before = store.list(&ListRequest::all(pods()), &|_| true).await.unwrap();
        let point = revision(&store).await - 4;
        let mut watch_before = Vec::new();
        let mut watch = store.watch(WatchRequest::new(pods(), point)).await.unwrap();
        while watch_before.len() < 4 {
            watch_before.push(next_event(&mut watch).await.revision);
        }
        store.compact(point).await.unwrap();
        let after = store.list(&ListRequest::all(pods()), &|_| true).await.unwrap();
        assert_eq!(before.items, after.items);
        let mut watch = store.watch(WatchRequest::new(pods(), point)).await.unwrap();
        for revision in watch_before {
            assert_eq!(next_event(&mut watch).await.revision, revision);
        }
        let expired = store.watch(WatchRequest::new(pods(), point - 1)).await.err();
        assert!(matches!(expired, Some(StoreError::Expired { oldest, .. }) if oldest == point), "{expired:?}");
    }

    watch_delivers_every_later_event_in_order_with_the_state_at_its_revision(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        store.create(&pod("a", "x"), Uuid::new_v4(), "before".into()).await.unwrap();
        let mut watch = store.watch(WatchRequest::new(pods(), revision(&store).await)).await.unwrap();
        store.update(&pod("a", "x"), None, "v2".into()).await.unwrap();
        store.create(&pod("b", "y"), Uuid::new_v4(), "y".into()).await.unwrap();
        store.delete(&pod("a", "x"), Preconditions::default(), LastState::AsStored).await.unwrap();
        let events = [next_event(&mut watch).await, next_event(&mut watch).await, next_event(&mut watch).await];
        let seen: Vec<_> = events.iter().map(|e| (e.revision, e.kind, e.value.clone())).collect();
        assert_eq!(
            seen,
            [
                (base + 2, EventKind::Modified, Bytes::from("v2")),
                (base + 3, EventKind::Added, Bytes::from("y")),
                (base + 4, EventKind::Deleted, Bytes::from("v2")),
            ]
        );
        assert_eq!(events[0].prev_value.as_deref(), Some(&b"before"[..]));
        assert_eq!(events[2].prev_value.as_deref(), Some(&b"v2"[..]), "a delete carries the last state");
        assert_eq!(events[0].create_revision, base + 1);
        assert_eq!(events[2].uid, events[0].uid);
    }

    watch_filters_by_prefix_and_by_the_callers_filter(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        let mut request = WatchRequest::new(pods_in("a"), base);
        request.filter = Some(std::sync::Arc::new(|event: &bosun_store::Event| &event.value[..] != b"skip"));
        let mut watch = store.watch(request).await.unwrap();
        store.create(&pod("b", "x"), Uuid::new_v4(), "other namespace".into()).await.unwrap();
        store.create(&pod("a", "x"), Uuid::new_v4(), "skip".into()).await.unwrap();
        store.create(&pod("a", "y"), Uuid::new_v4(), "keep".into()).await.unwrap();
        let event = next_event(&mut watch).await;
        assert_eq!((event.revision, &event.value[..]), (base + 3, &b"keep"[..]));
    }

    watch_below_the_compaction_point_is_expired_with_the_oldest_revision(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        for i in 0..10 {
            store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), "v".into()).await.unwrap();
        }
        store.compact(base + 6).await.unwrap();
        let error = store.watch(WatchRequest::new(pods(), base + 5)).await.err().unwrap();
        assert!(matches!(error, StoreError::Expired { requested, oldest } if requested == base + 5 && oldest == base + 6), "{error:?}");
        let mut watch = store.watch(WatchRequest::new(pods(), base + 6)).await.unwrap();
        assert_eq!(next_event(&mut watch).await.revision, base + 7);
    }

    watch_from_a_future_revision_is_a_clear_error(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        store.create(&pod("a", "x"), Uuid::new_v4(), "v".into()).await.unwrap();
        let error = store.watch(WatchRequest::new(pods(), base + 5)).await.err().unwrap();
        assert!(matches!(error, StoreError::FutureRevision { requested, current } if requested == base + 5 && current == base + 1), "{error:?}");
    }

    a_slow_watcher_catches_up_in_order(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        let mut slow = store.watch(WatchRequest::new(pods(), base)).await.unwrap();
        let mut fast = store.watch(WatchRequest::new(pods(), base)).await.unwrap();
        // Three times the embedded ring's capacity (64), while `slow` is not polled.
        for i in 0..200u64 {
            store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), i.to_string().into()).await.unwrap();
            assert_eq!(next_event(&mut fast).await.revision, base + i + 1);
        }
        for i in 0..200 {
            let event = next_event(&mut slow).await;
            assert_eq!(event.revision, base + i + 1);
            assert_eq!(event.value, Bytes::from(i.to_string()));
        }
    }

    progress_notifications_report_the_delivered_revision(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        store.create(&pod("a", "x"), Uuid::new_v4(), "v".into()).await.unwrap();
        let mut request = WatchRequest::new(pods_in("b"), base);
        request.progress_interval = Some(Duration::from_millis(50));
        let mut watch = store.watch(request).await.unwrap();
        match tokio::time::timeout(Duration::from_secs(10), watch.next()).await {
            Ok(Some(Ok(WatchItem::Progress(revision)))) => assert_eq!(revision, base + 1),
            other => panic!("expected progress, got {other:?}"),
        }
        assert_eq!(watch.delivered_revision(), base + 1);
        // An idle watch keeps reporting, interval after interval.
        match tokio::time::timeout(Duration::from_secs(10), watch.next()).await {
            Ok(Some(Ok(WatchItem::Progress(revision)))) => assert_eq!(revision, base + 1),
            other => panic!("expected progress again, got {other:?}"),
        }
    }

    the_watcher_bound_is_enforced_and_released_on_drop(place) {
        let store = place.storage(bosun_store::StoreConfig { watchers_max: 2, ..config() }).await;
        let base = revision(&store).await;
        let first = store.watch(WatchRequest::new(pods(), base)).await.unwrap();
        let _second = store.watch(WatchRequest::new(pods(), base)).await.unwrap();
        let third = store.watch(WatchRequest::new(pods(), base)).await.err();
        assert!(matches!(third, Some(StoreError::TooManyWatchers { max: 2 })), "{third:?}");
        drop(first);
        assert_eq!(store.watcher_count(), 1);
        store.watch(WatchRequest::new(pods(), base)).await.unwrap();
    }

    state_revision_and_history_survive_a_restart(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        for i in 0..12 {
            store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), "v".into()).await.unwrap();
        }
        store.update(&pod("a", "p3"), None, "changed".into()).await.unwrap();
        store.compact(base + 4).await.unwrap();
        store.close().unwrap();
        drop(store);
        place.restart_server().await;

        let store = place.storage(config()).await;
        assert_eq!(revision(&store).await, base + 13);
        assert!(matches!(store.watch(WatchRequest::new(pods(), base + 3)).await, Err(StoreError::Expired { .. })), "the compaction point survives");
        assert_eq!(value_of(&store, "p3").await, "changed");
        // Resume a watch from a revision seen before the restart.
        let mut watch = store.watch(WatchRequest::new(pods(), base + 10)).await.unwrap();
        for revision in base + 11..=base + 13 {
            assert_eq!(next_event(&mut watch).await.revision, revision);
        }
        let next = store.create(&pod("a", "new"), Uuid::new_v4(), "v".into()).await.unwrap();
        assert_eq!(next.mod_revision, base + 14, "revisions continue where they stopped");
        assert_eq!(next_event(&mut watch).await.revision, base + 14);
    }

    a_closed_store_refuses_work_and_ends_its_watches(place) {
        let store = place.storage(config()).await;
        let base = revision(&store).await;
        let mut watch = store.watch(WatchRequest::new(pods(), base)).await.unwrap();
        store.close().unwrap();
        assert!(store.is_closed());
        assert!(matches!(store.create(&pod("a", "x"), Uuid::new_v4(), "v".into()).await, Err(StoreError::Closed)));
        assert!(matches!(store.get(&pod("a", "x")).await, Err(StoreError::Closed)));
        assert!(tokio::time::timeout(Duration::from_secs(10), watch.next()).await.unwrap().is_none());
        tokio::time::timeout(Duration::from_secs(10), store.closed()).await.expect("closed() completes");
    }
}

/// The embedded engine's own guarantees: its bounded ring, its retention policy and the
/// recovery report. etcd has its own equivalents (etcd's watch buffers, `--auto-compaction-*`),
/// which are etcd's to test.
mod embedded_engine {
    use super::*;

    on_embedded_backends! {
        a_watcher_past_the_retained_history_ends_with_expired(place) {
            let store = place.open(config());
            let mut slow = store.watch(WatchRequest::new(pods(), 0)).unwrap();
            for i in 0..100 {
                store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), "v").await.unwrap();
            }
            store.compact(90).unwrap();
            let mut seen = 0;
            loop {
                match slow.next().await {
                    Some(Ok(WatchItem::Event(_))) => seen += 1,
                    Some(Err(StoreError::Expired { oldest: 90, .. })) => break,
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert!(seen < 90, "it could not have seen the compacted events");
            assert!(slow.next().await.is_none(), "an expired watch ends");
        }

        a_clean_close_is_reported_by_the_next_open(place) {
            let store = place.open(config());
            store.create(&pod("a", "x"), Uuid::new_v4(), "v").await.unwrap();
            store.compact(1).unwrap();
            store.close().unwrap();
            drop(store);
            let store = place.open(config());
            assert!(store.recovery().clean);
            assert_eq!((store.recovery().revision, store.compacted_revision()), (1, 1));
        }

        background_compaction_keeps_the_configured_count_of_revisions(place) {
            let store = place.open(bosun_store::StoreConfig {
                compaction_interval: Some(Duration::from_millis(10)),
                history_min_revisions: 10,
                history_min_age: Duration::ZERO,
                ..config()
            });
            for i in 0..50 {
                store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), "v").await.unwrap();
            }
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while store.compacted_revision() < 40 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert_eq!(store.compacted_revision(), 40, "keeps exactly the last 10 revisions");
            assert!(matches!(store.watch(WatchRequest::new(pods(), 39)), Err(StoreError::Expired { oldest: 40, .. })));
            assert_eq!(store.list(&ListRequest::all(pods()), |_| true).unwrap().items.len(), 50, "live objects stay");
        }

        background_compaction_keeps_history_younger_than_the_configured_age(place) {
            let store = place.open(bosun_store::StoreConfig {
                compaction_interval: Some(Duration::from_millis(10)),
                history_min_revisions: 1,
                history_min_age: Duration::from_secs(3600),
                ..config()
            });
            for i in 0..20 {
                store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), "v").await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert_eq!(store.compacted_revision(), 0, "nothing is older than an hour");
            store.watch(WatchRequest::new(pods(), 0)).unwrap();
        }
    }
}
