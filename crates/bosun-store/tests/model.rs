//! Model-based property test: random sequences of operations, reopenings included, run against
//! the store and against a plain in-memory model (a map per revision); every answer must agree.

mod common;

use std::collections::BTreeMap;

use bosun_store::{LastState, ListRequest, Preconditions, Store, StoreError};
use common::{Place, config, pod, pods, pods_in};
use proptest::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Op {
    Create {
        key: u8,
        value: u8,
    },
    /// Update with the right expected revision, a stale one, or none.
    Update {
        key: u8,
        value: u8,
        precondition: Precondition,
    },
    Delete {
        key: u8,
        precondition: Precondition,
    },
    Get {
        key: u8,
    },
    /// Read one key as of `back` revisions ago.
    GetPast {
        key: u8,
        back: u8,
    },
    /// List everything (or one namespace) in pages of `limit`.
    List {
        namespace: Option<u8>,
        limit: u8,
    },
    /// Compact to `fraction`/4 of the way between the compaction point and now.
    Compact {
        fraction: u8,
    },
    Reopen,
}

#[derive(Debug, Clone, Copy)]
enum Precondition {
    None,
    Current,
    Stale,
}

fn precondition() -> impl Strategy<Value = Precondition> {
    prop_oneof![Just(Precondition::None), Just(Precondition::Current), Just(Precondition::Stale)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..8u8, any::<u8>()).prop_map(|(key, value)| Op::Create { key, value }),
        4 => (0..8u8, any::<u8>(), precondition()).prop_map(|(key, value, precondition)| Op::Update { key, value, precondition }),
        2 => (0..8u8, precondition()).prop_map(|(key, precondition)| Op::Delete { key, precondition }),
        2 => (0..8u8).prop_map(|key| Op::Get { key }),
        2 => (0..8u8, 0..6u8).prop_map(|(key, back)| Op::GetPast { key, back }),
        2 => (proptest::option::of(0..2u8), 1..5u8).prop_map(|(namespace, limit)| Op::List { namespace, limit }),
        1 => (0..5u8).prop_map(|fraction| Op::Compact { fraction }),
        1 => Just(Op::Reopen),
    ]
}

/// Keys spread over two namespaces.
fn key_of(key: u8) -> bosun_store::ObjectKey {
    pod(&format!("ns{}", key % 2), &format!("p{key}"))
}

/// An object as the model knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Object {
    value: Vec<u8>,
    uid: Uuid,
    create_revision: u64,
    mod_revision: u64,
}

/// The model: the state after every revision, plus the compaction point.
struct Model {
    states: Vec<BTreeMap<u8, Object>>,
    compacted: u64,
}

impl Model {
    fn revision(&self) -> u64 {
        self.states.len() as u64 - 1
    }
    fn now(&self) -> &BTreeMap<u8, Object> {
        self.states.last().unwrap()
    }
    fn commit(&mut self, state: BTreeMap<u8, Object>) {
        self.states.push(state);
    }
}

fn expected_revision(model: &Model, key: u8, precondition: Precondition) -> Option<u64> {
    let current = model.now().get(&key).map_or(0, |o| o.mod_revision);
    match precondition {
        Precondition::None => None,
        Precondition::Current => Some(current),
        Precondition::Stale => Some(current + 1000),
    }
}

async fn run(place: Place, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut store: Store = place.open(config());
    let mut model = Model { states: vec![BTreeMap::new()], compacted: 0 };
    for op in ops {
        match op {
            Op::Create { key, value } => {
                let uid = Uuid::new_v4();
                let result = store.create(&key_of(key), uid, vec![value]).await;
                if model.now().contains_key(&key) {
                    prop_assert!(matches!(result, Err(StoreError::AlreadyExists)), "{result:?}");
                } else {
                    let written = result.map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let revision = model.revision() + 1;
                    prop_assert_eq!(written.mod_revision, revision);
                    let mut state = model.now().clone();
                    state.insert(
                        key,
                        Object { value: vec![value], uid, create_revision: revision, mod_revision: revision },
                    );
                    model.commit(state);
                }
            }
            Op::Update { key, value, precondition } => {
                let expected = expected_revision(&model, key, precondition);
                let result = store.update(&key_of(key), expected, vec![value]).await;
                match model.now().get(&key).cloned() {
                    None => prop_assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}"),
                    Some(_) if matches!(precondition, Precondition::Stale) => {
                        prop_assert!(matches!(result, Err(StoreError::Conflict { .. })), "{result:?}")
                    }
                    Some(old) => {
                        let written = result.map_err(|e| TestCaseError::fail(e.to_string()))?;
                        let revision = model.revision() + 1;
                        prop_assert_eq!(written.mod_revision, revision);
                        let mut state = model.now().clone();
                        state.insert(key, Object { value: vec![value], mod_revision: revision, ..old });
                        model.commit(state);
                    }
                }
            }
            Op::Delete { key, precondition } => {
                let preconditions =
                    Preconditions { mod_revision: expected_revision(&model, key, precondition), uid: None };
                let result = store.delete(&key_of(key), preconditions, LastState::AsStored).await;
                match model.now().get(&key).cloned() {
                    None => prop_assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}"),
                    Some(_) if matches!(precondition, Precondition::Stale) => {
                        prop_assert!(matches!(result, Err(StoreError::Conflict { .. })), "{result:?}")
                    }
                    Some(old) => {
                        let last = result.map_err(|e| TestCaseError::fail(e.to_string()))?;
                        prop_assert_eq!(&last.value[..], &old.value[..]);
                        let mut state = model.now().clone();
                        state.remove(&key);
                        model.commit(state);
                    }
                }
            }
            Op::Get { key } => {
                let got = store.get(&key_of(key)).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(
                    got.map(|v| (v.value.to_vec(), v.uid, v.mod_revision)),
                    model.now().get(&key).map(|o| (o.value.clone(), o.uid, o.mod_revision))
                );
            }
            Op::GetPast { key, back } => {
                let revision = model.revision().saturating_sub(back as u64);
                let got = store.get_at(&key_of(key), revision);
                if revision < model.compacted {
                    prop_assert!(matches!(got, Err(StoreError::Expired { .. })), "{got:?}");
                } else {
                    let got = got.map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let want = model.states[revision as usize].get(&key);
                    prop_assert_eq!(
                        got.map(|v| (v.value.to_vec(), v.create_revision, v.mod_revision)),
                        want.map(|o| (o.value.clone(), o.create_revision, o.mod_revision))
                    );
                }
            }
            Op::List { namespace, limit } => {
                let prefix = match namespace {
                    Some(ns) => pods_in(&format!("ns{ns}")),
                    None => pods(),
                };
                let mut request = ListRequest { limit: Some(limit as usize), ..ListRequest::all(prefix) };
                let mut seen = Vec::new();
                loop {
                    let page = store.list(&request, |_| true).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(page.revision, model.revision());
                    prop_assert!(page.items.len() <= limit as usize);
                    seen.extend(page.items.into_iter().map(|v| (v.object_key().unwrap().name, v.value.to_vec())));
                    match page.continue_token {
                        Some(token) => request.continue_token = Some(token),
                        None => break,
                    }
                }
                let mut want: Vec<_> = model
                    .now()
                    .iter()
                    .filter(|(k, _)| namespace.is_none_or(|ns| **k % 2 == ns))
                    .map(|(k, o)| (k % 2, format!("p{k}"), o.value.clone()))
                    .collect();
                // The store orders by namespace, then name.
                want.sort();
                let want: Vec<_> = want.into_iter().map(|(_, name, value)| (name, value)).collect();
                prop_assert_eq!(seen, want);
            }
            Op::Compact { fraction } => {
                let target = model.compacted + (model.revision() - model.compacted) * fraction as u64 / 4;
                let reached = store.compact(target).map_err(|e| TestCaseError::fail(e.to_string()))?;
                model.compacted = model.compacted.max(target);
                prop_assert_eq!(reached, model.compacted);
            }
            Op::Reopen => {
                store.close().map_err(|e| TestCaseError::fail(e.to_string()))?;
                drop(store);
                store = place.open(config());
                prop_assert_eq!(store.revision(), model.revision());
                prop_assert_eq!(store.compacted_revision(), model.compacted);
            }
        }
    }
    Ok(())
}

fn run_blocking(place: Place, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(run(place, ops))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_memory_store_agrees_with_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        run_blocking(Place::memory(), ops)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_sled_store_agrees_with_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        run_blocking(Place::sled(), ops)?;
    }
}
