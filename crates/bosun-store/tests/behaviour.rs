//! The store's behavioural suite: each test names the guarantee it protects, and runs on sled and
//! on the in-memory backend.

mod common;

use std::time::Duration;

use bosun_store::{
    Decision, EventKind, LastState, ListRequest, NewValue, Preconditions, StoreError, WatchItem, WatchRequest,
};
use bytes::Bytes;
use common::{config, pod, pods, pods_in};
use uuid::Uuid;

async fn next_event(watch: &mut bosun_store::Watch) -> std::sync::Arc<bosun_store::Event> {
    match tokio::time::timeout(Duration::from_secs(10), watch.next()).await {
        Ok(Some(Ok(WatchItem::Event(event)))) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

on_both_backends! {
    create_then_get_returns_the_value_uid_and_revision(place) {
        let store = place.open(config());
        let uid = Uuid::new_v4();
        let created = store.create(&pod("a", "x"), uid, "one").await.unwrap();
        assert_eq!(created.mod_revision, 1);
        assert_eq!(created.create_revision, 1);
        let got = store.get(&pod("a", "x")).unwrap().unwrap();
        assert_eq!((&got.value[..], got.uid, got.mod_revision), (&b"one"[..], uid, 1));
        assert!(store.get(&pod("a", "y")).unwrap().is_none());
    }

    create_fails_when_the_key_is_live_and_succeeds_after_delete(place) {
        let store = place.open(config());
        store.create(&pod("a", "x"), Uuid::new_v4(), "one").await.unwrap();
        assert!(matches!(store.create(&pod("a", "x"), Uuid::new_v4(), "two").await, Err(StoreError::AlreadyExists)));
        store.delete(&pod("a", "x"), Preconditions::default(), LastState::AsStored).await.unwrap();
        let again = store.create(&pod("a", "x"), Uuid::new_v4(), "three").await.unwrap();
        assert_eq!(again.create_revision, 3, "a re-created object starts a new life");
    }

    every_write_takes_exactly_the_next_revision(place) {
        let store = place.open(config());
        let mut expected = 0;
        for i in 0..20 {
            let key = pod("a", &format!("p{}", i % 4));
            let written = match store.get(&key).unwrap() {
                None => store.create(&key, Uuid::new_v4(), "v").await.unwrap(),
                Some(_) if i % 3 == 0 => store.delete(&key, Preconditions::default(), LastState::AsStored).await.unwrap(),
                Some(current) => store.update(&key, Some(current.mod_revision), "w").await.unwrap(),
            };
            expected += 1;
            assert_eq!(written.mod_revision, expected);
            assert_eq!(store.revision(), expected);
        }
    }

    update_with_a_stale_revision_conflicts_and_writes_nothing(place) {
        let store = place.open(config());
        let created = store.create(&pod("a", "x"), Uuid::new_v4(), "one").await.unwrap();
        store.update(&pod("a", "x"), Some(created.mod_revision), "two").await.unwrap();
        let stale = store.update(&pod("a", "x"), Some(created.mod_revision), "three").await;
        assert!(matches!(stale, Err(StoreError::Conflict { what: "mod revision", .. })), "{stale:?}");
        assert_eq!(&store.get(&pod("a", "x")).unwrap().unwrap().value[..], b"two");
        assert_eq!(store.revision(), 2);
        assert!(matches!(store.update(&pod("a", "nope"), None, "x").await, Err(StoreError::NotFound)));
    }

    delete_checks_uid_and_revision_preconditions(place) {
        let store = place.open(config());
        let uid = Uuid::new_v4();
        let created = store.create(&pod("a", "x"), uid, "one").await.unwrap();
        let wrong_uid = Preconditions { uid: Some(Uuid::new_v4()), ..Default::default() };
        assert!(matches!(store.delete(&pod("a", "x"), wrong_uid, LastState::AsStored).await, Err(StoreError::Conflict { what: "uid", .. })));
        let wrong_rev = Preconditions { mod_revision: Some(99), ..Default::default() };
        assert!(matches!(store.delete(&pod("a", "x"), wrong_rev, LastState::AsStored).await, Err(StoreError::Conflict { .. })));
        let right = Preconditions { uid: Some(uid), mod_revision: Some(created.mod_revision) };
        let last = store.delete(&pod("a", "x"), right, LastState::AsStored).await.unwrap();
        assert_eq!((&last.value[..], last.mod_revision), (&b"one"[..], 2));
        assert!(store.get(&pod("a", "x")).unwrap().is_none());
        assert!(matches!(store.delete(&pod("a", "x"), Preconditions::default(), LastState::AsStored).await, Err(StoreError::NotFound)));
    }

    values_can_carry_their_own_revision(place) {
        let store = place.open(config());
        let stamped = NewValue::stamped(|revision| Bytes::from(format!("rv={revision}")));
        let created = store.create(&pod("a", "x"), Uuid::new_v4(), stamped).await.unwrap();
        assert_eq!(&created.value[..], b"rv=1");
        let last_state = LastState::Stamped(Box::new(|old: &Bytes, revision| {
            Bytes::from(format!("{}+deleted@{revision}", String::from_utf8_lossy(old)))
        }));
        let deleted = store.delete(&pod("a", "x"), Preconditions::default(), last_state).await.unwrap();
        assert_eq!(&deleted.value[..], b"rv=1+deleted@2");
    }

    guaranteed_update_retries_conflicts_until_every_increment_lands(place) {
        let store = place.open(config());
        store.create(&pod("a", "counter"), Uuid::new_v4(), "0").await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..10 {
                    store
                        .guaranteed_update(&pod("a", "counter"), |current| {
                            let n: u64 = std::str::from_utf8(&current.value).unwrap().parse().unwrap();
                            Ok::<_, ()>(Decision::Write((n + 1).to_string().as_str().into()))
                        })
                        .await
                        .unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let counter = store.get(&pod("a", "counter")).unwrap().unwrap();
        assert_eq!(&counter.value[..], b"80");
        assert_eq!(counter.mod_revision, 81, "each increment took exactly one revision");
    }

    an_unchanged_update_takes_no_revision_and_emits_no_event(place) {
        let store = place.open(config());
        store.create(&pod("a", "x"), Uuid::new_v4(), "same").await.unwrap();
        let mut watch = store.watch(WatchRequest::new(pods(), 1)).unwrap();
        let kept = store.guaranteed_update(&pod("a", "x"), |_| Ok::<_, ()>(Decision::Unchanged)).await.unwrap();
        assert_eq!(kept.mod_revision, 1);
        assert_eq!(store.revision(), 1);
        store.create(&pod("a", "y"), Uuid::new_v4(), "other").await.unwrap();
        assert_eq!(next_event(&mut watch).await.revision, 2, "nothing was emitted for the no-op");
    }

    a_rejected_update_returns_the_callers_error(place) {
        let store = place.open(config());
        store.create(&pod("a", "x"), Uuid::new_v4(), "v").await.unwrap();
        let result = store.guaranteed_update(&pod("a", "x"), |_| Err::<Decision<'static>, _>("invalid")).await;
        assert!(matches!(result, Err(bosun_store::UpdateError::Rejected("invalid"))));
        assert_eq!(store.revision(), 1);
    }

    lists_are_prefix_scans_by_kind_and_namespace(place) {
        let store = place.open(config());
        for (ns, name) in [("a", "1"), ("a", "2"), ("b", "1"), ("a2", "1")] {
            store.create(&pod(ns, name), Uuid::new_v4(), name).await.unwrap();
        }
        let other_kind = bosun_store::ObjectKey::new("", "v1", "Service", "a", "1");
        store.create(&other_kind, Uuid::new_v4(), "svc").await.unwrap();
        let all = store.list(&ListRequest::all(pods()), |_| true).unwrap();
        assert_eq!(all.items.len(), 4);
        assert_eq!(all.revision, 5);
        let in_a = store.list(&ListRequest::all(pods_in("a")), |_| true).unwrap();
        let names: Vec<_> = in_a.items.iter().map(|v| v.object_key().unwrap().name).collect();
        assert_eq!(names, ["1", "2"]);
    }

    list_pages_stay_at_the_first_pages_revision_while_writes_happen(place) {
        let store = place.open(config());
        for i in 0..10 {
            store.create(&pod("a", &format!("p{i:02}")), Uuid::new_v4(), "old").await.unwrap();
        }
        let mut request = ListRequest { limit: Some(3), count_remaining: true, ..ListRequest::all(pods()) };
        let first = store.list(&request, |_| true).unwrap();
        assert_eq!(first.remaining, Some(7));
        // Change the world between pages: update, delete and add keys on both sides of the cursor.
        store.update(&pod("a", "p05"), None, "new").await.unwrap();
        store.delete(&pod("a", "p07"), Preconditions::default(), LastState::AsStored).await.unwrap();
        store.create(&pod("a", "p99"), Uuid::new_v4(), "new").await.unwrap();
        store.update(&pod("a", "p00"), None, "new").await.unwrap();
        let mut seen: Vec<_> = first.items.clone();
        let mut token = first.continue_token.clone();
        while let Some(next) = token {
            request.continue_token = Some(next);
            let page = store.list(&request, |_| true).unwrap();
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
        let store = place.open(config());
        for i in 0..10 {
            store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), if i % 2 == 0 { "even" } else { "odd" }).await.unwrap();
        }
        let request = ListRequest { limit: Some(2), ..ListRequest::all(pods()) };
        let page = store.list(&request, |v| &v.value[..] == b"odd").unwrap();
        let names: Vec<_> = page.items.iter().map(|v| v.object_key().unwrap().name).collect();
        assert_eq!(names, ["p1", "p3"]);
        assert!(page.continue_token.is_some());
    }

    a_continue_token_from_another_collection_or_garbage_is_rejected(place) {
        let store = place.open(config());
        for i in 0..3 {
            store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), "v").await.unwrap();
        }
        let page = store.list(&ListRequest { limit: Some(1), ..ListRequest::all(pods_in("a")) }, |_| true).unwrap();
        let elsewhere = ListRequest { continue_token: page.continue_token, ..ListRequest::all(pods_in("b")) };
        assert!(matches!(store.list(&elsewhere, |_| true), Err(StoreError::InvalidContinue(_))));
        let garbage = ListRequest { continue_token: Some("!!".into()), ..ListRequest::all(pods()) };
        assert!(matches!(store.list(&garbage, |_| true), Err(StoreError::InvalidContinue(_))));
    }

    snapshot_reads_see_the_past_until_it_is_compacted(place) {
        let store = place.open(config());
        store.create(&pod("a", "x"), Uuid::new_v4(), "v1").await.unwrap();
        store.update(&pod("a", "x"), None, "v2").await.unwrap();
        store.delete(&pod("a", "x"), Preconditions::default(), LastState::AsStored).await.unwrap();
        store.create(&pod("a", "y"), Uuid::new_v4(), "y").await.unwrap();
        assert_eq!(&store.get_at(&pod("a", "x"), 1).unwrap().unwrap().value[..], b"v1");
        assert_eq!(&store.get_at(&pod("a", "x"), 2).unwrap().unwrap().value[..], b"v2");
        assert!(store.get_at(&pod("a", "x"), 3).unwrap().is_none());
        let at_two = store.list(&ListRequest { revision: Some(2), ..ListRequest::all(pods()) }, |_| true).unwrap();
        assert_eq!(at_two.items.len(), 1);
        assert!(matches!(store.get_at(&pod("a", "x"), 9), Err(StoreError::FutureRevision { requested: 9, current: 4 })));

        assert_eq!(store.compact(3).unwrap(), 3);
        assert!(matches!(store.get_at(&pod("a", "x"), 2), Err(StoreError::Expired { requested: 2, oldest: 3 })));
        assert!(store.get_at(&pod("a", "x"), 3).unwrap().is_none());
        assert_eq!(&store.get(&pod("a", "y")).unwrap().unwrap().value[..], b"y");
    }

    a_continue_token_expires_once_its_revision_is_compacted(place) {
        let store = place.open(config());
        for i in 0..4 {
            store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), "v").await.unwrap();
        }
        let page = store.list(&ListRequest { limit: Some(2), ..ListRequest::all(pods()) }, |_| true).unwrap();
        store.update(&pod("a", "p3"), None, "w").await.unwrap();
        store.compact(5).unwrap();
        let next = ListRequest { continue_token: page.continue_token, ..ListRequest::all(pods()) };
        assert!(matches!(store.list(&next, |_| true), Err(StoreError::Expired { requested: 4, oldest: 5 })));
    }

    compaction_keeps_every_live_object_and_everything_above_the_point(place) {
        let store = place.open(config());
        for round in 0..5 {
            for i in 0..6 {
                let key = pod("a", &format!("p{i}"));
                if round == 0 {
                    store.create(&key, Uuid::new_v4(), "r0").await.unwrap();
                } else if i == round {
                    store.delete(&key, Preconditions::default(), LastState::AsStored).await.unwrap();
                } else if store.get(&key).unwrap().is_some() {
                    store.update(&key, None, format!("r{round}").as_str()).await.unwrap();
                }
            }
        }
        let before = store.list(&ListRequest::all(pods()), |_| true).unwrap();
        let point = store.revision() - 4;
        let mut watch_before = Vec::new();
        let mut watch = store.watch(WatchRequest::new(pods(), point)).unwrap();
        while watch_before.len() < 4 {
            watch_before.push(next_event(&mut watch).await.revision);
        }
        store.compact(point).unwrap();
        let after = store.list(&ListRequest::all(pods()), |_| true).unwrap();
        assert_eq!(before.items, after.items);
        let mut watch = store.watch(WatchRequest::new(pods(), point)).unwrap();
        for revision in watch_before {
            assert_eq!(next_event(&mut watch).await.revision, revision);
        }
        assert!(matches!(store.watch(WatchRequest::new(pods(), point - 1)), Err(StoreError::Expired { oldest, .. }) if oldest == point));
    }

    watch_delivers_every_later_event_in_order_with_the_state_at_its_revision(place) {
        let store = place.open(config());
        store.create(&pod("a", "x"), Uuid::new_v4(), "before").await.unwrap();
        let mut watch = store.watch(WatchRequest::new(pods(), store.revision())).unwrap();
        store.update(&pod("a", "x"), None, "v2").await.unwrap();
        store.create(&pod("b", "y"), Uuid::new_v4(), "y").await.unwrap();
        store.delete(&pod("a", "x"), Preconditions::default(), LastState::AsStored).await.unwrap();
        let events = [next_event(&mut watch).await, next_event(&mut watch).await, next_event(&mut watch).await];
        let seen: Vec<_> = events.iter().map(|e| (e.revision, e.kind, e.value.clone())).collect();
        assert_eq!(
            seen,
            [
                (2, EventKind::Modified, Bytes::from("v2")),
                (3, EventKind::Added, Bytes::from("y")),
                (4, EventKind::Deleted, Bytes::from("v2")),
            ]
        );
        assert_eq!(events[0].prev_value.as_deref(), Some(&b"before"[..]));
        assert_eq!(events[2].prev_value.as_deref(), Some(&b"v2"[..]), "a delete carries the last state");
    }

    watch_filters_by_prefix_and_by_the_callers_filter(place) {
        let store = place.open(config());
        let mut request = WatchRequest::new(pods_in("a"), 0);
        request.filter = Some(std::sync::Arc::new(|event: &bosun_store::Event| &event.value[..] != b"skip"));
        let mut watch = store.watch(request).unwrap();
        store.create(&pod("b", "x"), Uuid::new_v4(), "other namespace").await.unwrap();
        store.create(&pod("a", "x"), Uuid::new_v4(), "skip").await.unwrap();
        store.create(&pod("a", "y"), Uuid::new_v4(), "keep").await.unwrap();
        let event = next_event(&mut watch).await;
        assert_eq!((event.revision, &event.value[..]), (3, &b"keep"[..]));
    }

    watch_below_the_compaction_point_is_expired_with_the_oldest_revision(place) {
        let store = place.open(config());
        for i in 0..10 {
            store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), "v").await.unwrap();
        }
        store.compact(6).unwrap();
        let error = store.watch(WatchRequest::new(pods(), 5)).err().unwrap();
        assert!(matches!(error, StoreError::Expired { requested: 5, oldest: 6 }), "{error:?}");
        let mut watch = store.watch(WatchRequest::new(pods(), 6)).unwrap();
        assert_eq!(next_event(&mut watch).await.revision, 7);
    }

    watch_from_a_future_revision_is_a_clear_error(place) {
        let store = place.open(config());
        store.create(&pod("a", "x"), Uuid::new_v4(), "v").await.unwrap();
        let error = store.watch(WatchRequest::new(pods(), 5)).err().unwrap();
        assert!(matches!(error, StoreError::FutureRevision { requested: 5, current: 1 }));
    }

    a_slow_watcher_falls_out_of_the_ring_and_catches_up_from_the_log(place) {
        let store = place.open(config());
        let mut slow = store.watch(WatchRequest::new(pods(), 0)).unwrap();
        let mut fast = store.watch(WatchRequest::new(pods(), 0)).unwrap();
        // Three times the ring's capacity (64), while `slow` is not polled.
        for i in 0..200u64 {
            store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), i.to_string().as_str()).await.unwrap();
            assert_eq!(next_event(&mut fast).await.revision, i + 1);
        }
        for revision in 1..=200 {
            let event = next_event(&mut slow).await;
            assert_eq!(event.revision, revision);
            assert_eq!(event.value, Bytes::from((revision - 1).to_string()));
        }
    }

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

    progress_notifications_report_the_delivered_revision(place) {
        let store = place.open(config());
        store.create(&pod("a", "x"), Uuid::new_v4(), "v").await.unwrap();
        let mut request = WatchRequest::new(pods_in("b"), 0);
        request.progress_interval = Some(Duration::from_millis(50));
        let mut watch = store.watch(request).unwrap();
        match tokio::time::timeout(Duration::from_secs(10), watch.next()).await {
            Ok(Some(Ok(WatchItem::Progress(revision)))) => assert_eq!(revision, 1),
            other => panic!("expected progress, got {other:?}"),
        }
    }

    the_watcher_bound_is_enforced_and_released_on_drop(place) {
        let store = place.open(bosun_store::StoreConfig { watchers_max: 2, ..config() });
        let first = store.watch(WatchRequest::new(pods(), 0)).unwrap();
        let _second = store.watch(WatchRequest::new(pods(), 0)).unwrap();
        assert!(matches!(store.watch(WatchRequest::new(pods(), 0)), Err(StoreError::TooManyWatchers { max: 2 })));
        drop(first);
        assert_eq!(store.watcher_count(), 1);
        store.watch(WatchRequest::new(pods(), 0)).unwrap();
    }

    state_revision_and_history_survive_a_restart(place) {
        let store = place.open(config());
        for i in 0..12 {
            store.create(&pod("a", &format!("p{i}")), Uuid::new_v4(), "v").await.unwrap();
        }
        store.update(&pod("a", "p3"), None, "changed").await.unwrap();
        store.compact(4).unwrap();
        store.close().unwrap();
        drop(store);

        let store = place.open(config());
        assert!(store.recovery().clean);
        assert_eq!(store.revision(), 13);
        assert_eq!(store.compacted_revision(), 4);
        assert_eq!(&store.get(&pod("a", "p3")).unwrap().unwrap().value[..], b"changed");
        // Resume a watch from a revision seen before the restart.
        let mut watch = store.watch(WatchRequest::new(pods(), 10)).unwrap();
        for revision in 11..=13 {
            assert_eq!(next_event(&mut watch).await.revision, revision);
        }
        let next = store.create(&pod("a", "new"), Uuid::new_v4(), "v").await.unwrap();
        assert_eq!(next.mod_revision, 14, "revisions continue where they stopped");
        assert_eq!(next_event(&mut watch).await.revision, 14);
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

    a_closed_store_refuses_work_and_ends_its_watches(place) {
        let store = place.open(config());
        let mut watch = store.watch(WatchRequest::new(pods(), 0)).unwrap();
        store.close().unwrap();
        assert!(matches!(store.create(&pod("a", "x"), Uuid::new_v4(), "v").await, Err(StoreError::Closed)));
        assert!(tokio::time::timeout(Duration::from_secs(10), watch.next()).await.unwrap().is_none());
    }
}
