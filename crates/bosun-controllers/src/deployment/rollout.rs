//! The arithmetic of a rollout, as pure functions over typed objects (Deployment spec, parts A.2
//! to A.7): fenceposts, the new ReplicaSet's size, proportional scaling, revisions, the
//! pod-template hash and template equality. The controller calls these; the tests check them
//! against upstream's tables.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

/// The label that ties a ReplicaSet and its pods to one template.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The revision of a ReplicaSet, and of the Deployment's current one.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// Earlier revisions a re-used ReplicaSet served.
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
/// The Deployment's `spec.replicas` when the ReplicaSet was last sized.
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// `spec.replicas + maxSurge` when the ReplicaSet was last sized.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// The legacy rollback request.
pub const ROLLBACK_TO: &str = "deprecated.deployment.rollback.to";
/// kubectl's client-side apply record.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Annotations never copied between a Deployment and its ReplicaSets.
pub const SKIPPED_ANNOTATIONS: [&str; 6] =
    [LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO];
/// The longest `revision-history` kept.
const REVISION_HISTORY_MAX_CHARS: usize = 2000;
/// `progressDeadlineSeconds` and `revisionHistoryLimit` at this value mean "none".
pub const MAX_INT32: i32 = i32::MAX;

/// `spec.replicas` (default 1).
pub fn replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// A ReplicaSet's `spec.replicas` (default 1).
pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// A ReplicaSet's `status.availableReplicas`.
pub fn rs_available(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0)
}

/// Whether the strategy is `RollingUpdate` (the default).
pub fn is_rolling(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        .is_none_or(|t| t == "RollingUpdate")
}

/// An int-or-percent against `total`, rounding up or down.
fn scaled_value(value: Option<&IntOrString>, total: i32, round_up: bool) -> i32 {
    match value {
        None => 0,
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(text)) => {
            let Some(percent) = text.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) else { return 0 };
            let scaled = percent * i64::from(total);
            (if round_up { (scaled + 99).div_euclid(100) } else { scaled.div_euclid(100) }) as i32
        }
    }
}

/// `(maxSurge, maxUnavailable)` for `desired` replicas: surge rounds up, unavailable down, and
/// both zero makes unavailable 1.
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> (i32, i32) {
    let surge = scaled_value(max_surge, desired, true);
    let unavailable = scaled_value(max_unavailable, desired, false);
    if surge == 0 && unavailable == 0 { (0, 1) } else { (surge, unavailable) }
}

fn rolling_params(d: &Deployment) -> (Option<&IntOrString>, Option<&IntOrString>) {
    let rolling = d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.rolling_update.as_ref());
    (rolling.and_then(|r| r.max_surge.as_ref()), rolling.and_then(|r| r.max_unavailable.as_ref()))
}

/// `MaxSurge(d)`: 0 unless RollingUpdate.
pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling(d) {
        return 0;
    }
    let (surge, unavailable) = rolling_params(d);
    resolve_fenceposts(surge, unavailable, replicas(d)).0
}

/// `MaxUnavailable(d)`: 0 unless RollingUpdate with replicas, capped at `spec.replicas`.
pub fn max_unavailable(d: &Deployment) -> i32 {
    if !is_rolling(d) || replicas(d) == 0 {
        return 0;
    }
    let (surge, unavailable) = rolling_params(d);
    resolve_fenceposts(surge, unavailable, replicas(d)).1.min(replicas(d))
}

/// The size the new ReplicaSet may grow to now (upstream's `NewRSNewReplicas`, RollingUpdate).
pub fn new_rs_new_replicas(d: &Deployment, all: &[&ReplicaSet], new_rs: &ReplicaSet) -> i32 {
    let desired = replicas(d);
    let (surge, _) = rolling_params(d);
    // Computed directly, without the both-zero rule.
    let max_total = desired + scaled_value(surge, desired, true);
    let current: i32 = all.iter().map(|rs| rs_replicas(rs)).sum();
    let new_size = rs_replicas(new_rs);
    if current >= max_total {
        return new_size;
    }
    new_size + (max_total - current).min(desired - new_size)
}

/// A ReplicaSet's revision: missing is 0; unparseable is an error.
pub fn revision(rs: &ReplicaSet) -> Result<i64, String> {
    match rs.metadata.annotations.as_ref().and_then(|a| a.get(REVISION)) {
        None => Ok(0),
        Some(text) => text.parse().map_err(|_| format!("invalid revision {text:?}")),
    }
}

/// The highest revision among `sets` (unparseable ones skipped; 0 if none).
pub fn max_revision(sets: &[&ReplicaSet]) -> i64 {
    sets.iter().filter_map(|rs| revision(rs).ok()).max().unwrap_or(0)
}

/// The second-highest revision (the "previous" one for a rollback); the maximum when it
/// appears twice; 0 when there is no second.
pub fn last_revision(sets: &[&ReplicaSet]) -> i64 {
    let (mut max, mut second) = (0, 0);
    for rs in sets {
        let Ok(revision) = revision(rs) else { continue };
        if revision >= max {
            second = max;
            max = revision;
        } else if revision > second {
            second = revision;
        }
    }
    second
}

/// Copies the Deployment's annotations (but the skipped ones) to the ReplicaSet and raises its
/// revision to `new_revision`, recording the old number in its history; a ReplicaSet about to be
/// created (`!exists`) also gets its size annotations. Returns whether anything changed.
pub fn set_new_replicaset_annotations(d: &Deployment, rs: &mut ReplicaSet, new_revision: i64, exists: bool) -> bool {
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (key, value) in d.metadata.annotations.iter().flatten() {
        if SKIPPED_ANNOTATIONS.contains(&key.as_str()) || annotations.get(key) == Some(value) {
            continue;
        }
        annotations.insert(key.clone(), value.clone());
        changed = true;
    }
    let previous = annotations.get(REVISION).cloned().unwrap_or_default();
    let current = if previous.is_empty() {
        0
    } else {
        match previous.parse::<i64>() {
            Ok(current) => current,
            // A revision that is not a number stops everything: nothing is written.
            Err(_) => return false,
        }
    };
    if current < new_revision {
        annotations.insert(REVISION.into(), new_revision.to_string());
        changed = true;
        if !previous.is_empty() {
            let mut history: Vec<String> = annotations
                .get(REVISION_HISTORY)
                .filter(|h| !h.is_empty())
                .map(|h| h.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            history.push(previous);
            while history.len() > 1 && history.join(",").len() > REVISION_HISTORY_MAX_CHARS {
                history.remove(0);
            }
            annotations.insert(REVISION_HISTORY.into(), history.join(","));
        }
    }
    if !exists {
        annotations.insert(DESIRED_REPLICAS.into(), replicas(d).to_string());
        annotations.insert(MAX_REPLICAS.into(), (replicas(d) + max_surge(d)).to_string());
        changed = true;
    }
    changed
}

/// Whether the ReplicaSet's size annotations already say what `d` would write.
pub fn size_annotations_current(d: &Deployment, rs: &ReplicaSet) -> bool {
    let annotations = rs.metadata.annotations.as_ref();
    let get = |key: &str| annotations.and_then(|a| a.get(key)).cloned();
    get(DESIRED_REPLICAS) == Some(replicas(d).to_string())
        && get(MAX_REPLICAS) == Some((replicas(d) + max_surge(d)).to_string())
}

/// The template hash: FNV-1a (32 bits) over the template's JSON, plus the collision count when
/// set, printed in decimal with each digit mapped onto upstream's safe alphabet.
pub fn template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut hash: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u32::from(*byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    };
    feed(&serde_json::to_vec(template).expect("a template serializes"));
    if let Some(count) = collision_count {
        let mut bytes = [0u8; 8];
        bytes[..4].copy_from_slice(&(count as u32).to_le_bytes());
        feed(&bytes);
    }
    hash.to_string().bytes().map(|digit| SAFE[usize::from(digit) % SAFE.len()] as char).collect()
}

/// A template as JSON without the hash label and without empty values, so that templates that
/// mean the same compare equal.
fn comparable(template: Option<&PodTemplateSpec>) -> Value {
    let mut value = serde_json::to_value(template).expect("a template serializes");
    if let Some(labels) = value.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
        labels.remove(POD_TEMPLATE_HASH);
    }
    prune_empty(&mut value);
    value
}

fn prune_empty(value: &mut Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => {
            map.retain(|_, v| !prune_empty(v));
            map.is_empty()
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                prune_empty(item);
            }
            items.is_empty()
        }
        _ => false,
    }
}

/// Whether two pod templates are equal once the hash label is ignored (upstream's
/// `EqualIgnoreHash`; empty and missing collections count as equal).
pub fn templates_equal(a: Option<&PodTemplateSpec>, b: Option<&PodTemplateSpec>) -> bool {
    comparable(a) == comparable(b)
}

/// One ReplicaSet's share of a proportional scale (upstream's `GetProportion`): `to_add` is
/// what the whole Deployment adds (negative to remove), `added` what earlier ones took.
pub fn proportion(d: &Deployment, rs: &ReplicaSet, to_add: i32, added: i32, status_replicas: i32) -> i32 {
    let size = rs_replicas(rs);
    if size == 0 || to_add == 0 || added == to_add {
        return 0;
    }
    let desired = replicas(d);
    let fraction = if desired == 0 {
        -size
    } else {
        let annotated_max = rs
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(MAX_REPLICAS))
            .and_then(|m| m.parse::<i32>().ok())
            .unwrap_or(status_replicas);
        if annotated_max == 0 {
            0
        } else {
            let target = f64::from(size) * f64::from(desired + max_surge(d)) / f64::from(annotated_max);
            target.round() as i32 - size
        }
    };
    if to_add > 0 { fraction.min(to_add - added) } else { fraction.max(to_add - added) }
}

/// New sizes for the active ReplicaSets of a Deployment whose `spec.replicas` changed mid-rollout
/// (upstream's `scale`, step 3): each grows or shrinks in proportion to its size, and the
/// leftover goes to the first in order (largest; newest when growing, oldest when shrinking).
/// `sets` are the active ReplicaSets, oldest first. Returns one size per input, in input order.
pub fn proportional_sizes(d: &Deployment, sets: &[&ReplicaSet], status_replicas: i32) -> Vec<i32> {
    let desired = replicas(d);
    let current: i32 = sets.iter().map(|rs| rs_replicas(rs)).sum();
    let allowed = if desired > 0 { desired + max_surge(d) } else { 0 };
    let to_add = allowed - current;
    let mut order: Vec<usize> = (0..sets.len()).collect();
    if to_add > 0 {
        // Size descending, newer first on ties (inputs are oldest first).
        order.sort_by(|&a, &b| rs_replicas(sets[b]).cmp(&rs_replicas(sets[a])).then(b.cmp(&a)));
    } else if to_add < 0 {
        order.sort_by(|&a, &b| rs_replicas(sets[b]).cmp(&rs_replicas(sets[a])).then(a.cmp(&b)));
    }
    let mut sizes: Vec<i32> = sets.iter().map(|rs| rs_replicas(rs)).collect();
    let mut added = 0;
    for &index in &order {
        let share = proportion(d, sets[index], to_add, added, status_replicas);
        sizes[index] += share;
        added += share;
    }
    if let Some(&first) = order.first() {
        sizes[first] = (sizes[first] + to_add - added).max(0);
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{DeploymentSpec, DeploymentStrategy, ReplicaSetSpec, RollingUpdateDeployment};

    fn int(n: i32) -> IntOrString {
        IntOrString::Int(n)
    }

    fn percent(text: &str) -> IntOrString {
        IntOrString::String(text.to_string())
    }

    fn deployment(replicas: i32, surge: IntOrString, unavailable: IntOrString) -> Deployment {
        Deployment {
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: Some(surge),
                        max_unavailable: Some(unavailable),
                    }),
                }),
                ..DeploymentSpec::default()
            }),
            ..Deployment::default()
        }
    }

    fn replicaset(name: &str, replicas: i32, max_replicas: Option<i32>) -> ReplicaSet {
        let mut rs = ReplicaSet {
            spec: Some(ReplicaSetSpec { replicas: Some(replicas), ..ReplicaSetSpec::default() }),
            ..ReplicaSet::default()
        };
        rs.metadata.name = Some(name.into());
        if let Some(max) = max_replicas {
            rs.metadata.annotations = Some([(MAX_REPLICAS.to_string(), max.to_string())].into());
        }
        rs
    }

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down_and_both_zero_gives_one_unavailable() {
        // (surge, unavailable, desired) → expected, as upstream's ResolveFenceposts table.
        let cases = [
            (percent("25%"), percent("25%"), 10, (3, 2)),
            (percent("25%"), percent("25%"), 1, (1, 0)),
            (percent("1%"), percent("0%"), 3, (1, 0)),
            (percent("0%"), percent("1%"), 2, (0, 1)),
            (int(0), int(0), 5, (0, 1)),
            (percent("0%"), percent("0%"), 0, (0, 1)),
            (int(1), int(0), 3, (1, 0)),
            (percent("50%"), percent("50%"), 3, (2, 1)),
            (percent("100%"), percent("100%"), 7, (7, 7)),
        ];
        for (surge, unavailable, desired, expected) in cases {
            assert_eq!(
                resolve_fenceposts(Some(&surge), Some(&unavailable), desired),
                expected,
                "surge {surge:?}, unavailable {unavailable:?}, desired {desired}"
            );
        }
    }

    #[test]
    fn max_unavailable_is_capped_at_replicas_and_zero_without_replicas() {
        assert_eq!(max_unavailable(&deployment(3, int(1), int(5))), 3);
        assert_eq!(max_unavailable(&deployment(0, int(1), int(1))), 0);
        let mut recreate = deployment(3, int(1), int(1));
        recreate.spec.as_mut().unwrap().strategy =
            Some(DeploymentStrategy { type_: Some("Recreate".into()), rolling_update: None });
        assert_eq!((max_surge(&recreate), max_unavailable(&recreate)), (0, 0));
    }

    #[test]
    fn the_new_replicaset_grows_by_what_the_surge_leaves() {
        // Upstream's NewRSNewReplicas table: (deployment replicas, surge, old size, new size) → new.
        let cases = [
            (1, int(1), 1, 0, 1),   // room for one more
            (10, int(3), 10, 0, 3), // surge 3
            (10, int(3), 7, 3, 6),  // old scaled down by 3: new may reach 6
            (10, int(3), 8, 5, 5),  // already at the surge: unchanged
            (5, int(0), 5, 0, 0),   // no surge, nothing gone yet
            (5, percent("20%"), 4, 1, 2),
        ];
        for (replicas, surge, old_size, new_size, expected) in cases {
            let d = deployment(replicas, surge.clone(), int(1));
            let (old, new) = (replicaset("old", old_size, None), replicaset("new", new_size, None));
            assert_eq!(
                new_rs_new_replicas(&d, &[&old, &new], &new),
                expected,
                "{replicas} {surge:?} {old_size} {new_size}"
            );
        }
    }

    #[test]
    fn proportional_scaling_matches_upstreams_e2e_example() {
        // 10 replicas, surge 3, unavailable 2, stuck at old 8 / new 5 (max-replicas 13); scale to 30.
        let d = deployment(30, int(3), int(2));
        let (old, new) = (replicaset("old", 8, Some(13)), replicaset("new", 5, Some(13)));
        assert_eq!(proportional_sizes(&d, &[&old, &new], 13), vec![20, 13]);
    }

    #[test]
    fn proportional_scaling_down_takes_from_the_largest_and_leftover_goes_to_the_oldest_of_equals() {
        // 10 replicas (surge 2) split 6 old / 6 new; scale down to 5 (allowed 5 + 2 = 7).
        let d = deployment(5, int(2), int(0));
        let (old, new) = (replicaset("old", 6, Some(12)), replicaset("new", 6, Some(12)));
        let sizes = proportional_sizes(&d, &[&old, &new], 12);
        assert_eq!(sizes.iter().sum::<i32>(), 7);
        assert_eq!(sizes, vec![3, 4], "round(6*7/12) = 4 each; the oldest of equals takes the -1 leftover");
    }

    #[test]
    fn scaling_to_zero_empties_every_replicaset() {
        let d = deployment(0, int(1), int(0));
        let (old, new) = (replicaset("old", 2, Some(4)), replicaset("new", 2, Some(4)));
        assert_eq!(proportional_sizes(&d, &[&old, &new], 4), vec![0, 0]);
    }

    #[test]
    fn revisions_are_raised_never_lowered_and_history_records_the_old_number() {
        let mut d = deployment(3, int(1), int(0));
        d.metadata.annotations = Some(
            [
                ("kubernetes.io/change-cause".to_string(), "kubectl set image".to_string()),
                (LAST_APPLIED.to_string(), "{}".to_string()),
                (REVISION.to_string(), "3".to_string()),
            ]
            .into(),
        );
        let mut rs = replicaset("web-1", 0, None);
        rs.metadata.annotations = Some([(REVISION.to_string(), "2".to_string())].into());
        assert!(set_new_replicaset_annotations(&d, &mut rs, 4, true));
        let annotations = rs.metadata.annotations.as_ref().unwrap();
        assert_eq!(annotations[REVISION], "4");
        assert_eq!(annotations[REVISION_HISTORY], "2");
        assert_eq!(annotations["kubernetes.io/change-cause"], "kubectl set image");
        assert!(!annotations.contains_key(LAST_APPLIED));
        assert!(!set_new_replicaset_annotations(&d, &mut rs, 3, true), "a lower revision changes nothing");
    }

    #[test]
    fn last_revision_is_the_second_highest() {
        let sets: Vec<ReplicaSet> = [1, 3, 4]
            .iter()
            .map(|n| {
                let mut rs = replicaset("x", 0, None);
                rs.metadata.annotations = Some([(REVISION.to_string(), n.to_string())].into());
                rs
            })
            .collect();
        let refs: Vec<&ReplicaSet> = sets.iter().collect();
        assert_eq!((max_revision(&refs), last_revision(&refs)), (4, 3));
        assert_eq!(last_revision(&refs[..1]), 0);
    }

    #[test]
    fn the_hash_depends_on_the_template_and_the_collision_count_and_uses_the_safe_alphabet() {
        let mut template = PodTemplateSpec::default();
        let plain = template_hash(&template, None);
        assert_eq!(plain, template_hash(&template, None));
        assert_ne!(plain, template_hash(&template, Some(0)), "a set count of 0 hashes differently from none");
        assert!(plain.chars().all(|c| "456789bcdf".contains(c)), "{plain}");
        template.metadata = Some(Default::default());
        template.metadata.as_mut().unwrap().labels = Some([("app".to_string(), "web".to_string())].into());
        assert_ne!(plain, template_hash(&template, None));
    }

    #[test]
    fn templates_compare_without_the_hash_label_and_empty_collections() {
        let mut a = PodTemplateSpec { metadata: Some(Default::default()), ..PodTemplateSpec::default() };
        a.metadata.as_mut().unwrap().labels = Some([("app".to_string(), "web".to_string())].into());
        let mut b = a.clone();
        b.metadata.as_mut().unwrap().labels.as_mut().unwrap().insert(POD_TEMPLATE_HASH.into(), "abc".into());
        b.metadata.as_mut().unwrap().annotations = Some(BTreeMap::new());
        assert!(templates_equal(Some(&a), Some(&b)));
        b.metadata.as_mut().unwrap().labels.as_mut().unwrap().insert("tier".into(), "front".into());
        assert!(!templates_equal(Some(&a), Some(&b)));
    }
}
