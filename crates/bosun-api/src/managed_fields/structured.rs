//! Walks of an object along its schema: its field set, the difference of two versions, the
//! merge of an applied configuration, and the removal of a set of fields (upstream's
//! `sigs.k8s.io/structured-merge-diff` `typed` package).
//!
//! # The schema
//!
//! Which lists are keyed, and by what, comes from the strategic-merge-patch table
//! ([`crate::smp`]), as upstream derives both from the same struct tags: a list with a
//! `patchMergeKey` is keyed by it, a `merge` list of scalars is a set, every other list is atomic
//! (a leaf). Where server-side apply keys a list by more than its merge key (container and service
//! ports by port and protocol, topology spread constraints by topology key and
//! `whenUnsatisfiable`), [`ssa_keys`] adds the second key, with its default when it has one.
//! Objects the table does not describe are structs; free-form maps (`labels`, `data`) are maps.
//!
//! A list that cannot be read as keyed (an item without its key, two items with the same key)
//! is read as atomic, except in an applied configuration, where it is an error.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value};

use super::field_set::{FieldSet, Path, PathElement, path_string};
use crate::smp::{Field, Items, ListStrategy, ObjectStrategy, SchemaType, Shape};

/// Where a value sits in the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    /// An object with named fields (a Go struct); `None` when the table does not describe it,
    /// in which case its objects are structs and its lists atomic.
    Struct(Option<&'static SchemaType>),
    /// An object with free-form keys: `labels`, `annotations`, `data`, `nodeSelector`.
    Map,
    /// Replaced as a whole: scalars, atomic lists, atomic objects.
    Atomic,
    /// A list of scalars with set semantics; items are `v:<value>`.
    Set,
    /// A list of objects identified by key fields; items are `k:{...}`.
    Keyed(KeyFields, &'static SchemaType),
}

/// The key fields of a keyed list: the merge key, and a second one with its default.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyFields {
    first: &'static str,
    second: Option<(&'static str, Option<&'static str>)>,
}

impl KeyFields {
    fn fields(self) -> impl Iterator<Item = (&'static str, Option<&'static str>)> {
        std::iter::once((self.first, None)).chain(self.second)
    }
}

/// The key fields server-side apply uses for a list merged by `merge_key`.
fn ssa_keys(item: &SchemaType, merge_key: &'static str) -> KeyFields {
    let second = match item.name {
        "ContainerPort" | "ServicePort" => Some(("protocol", Some("TCP"))),
        "TopologySpreadConstraint" => Some(("whenUnsatisfiable", None)),
        _ => None,
    };
    KeyFields { first: merge_key, second }
}

impl Ty {
    /// The type of the root object of a kind.
    pub(crate) fn root(root: &'static SchemaType) -> Ty {
        Ty::Struct(Some(root))
    }

    /// The type of field `name` of an object of this type.
    pub(crate) fn field(self, name: &str) -> Ty {
        match self {
            Ty::Struct(Some(ty)) => ty.field(name).map_or(Ty::Struct(None), Ty::of_field),
            Ty::Struct(None) | Ty::Map => Ty::Struct(None),
            Ty::Atomic | Ty::Set | Ty::Keyed(..) => Ty::Atomic,
        }
    }

    /// The type of the items of a list of this type.
    pub(crate) fn item(self) -> Ty {
        match self {
            Ty::Keyed(_, item) => Ty::Struct(Some(item)),
            _ => Ty::Atomic,
        }
    }

    /// Whether the keys of an object of this type are named fields (as opposed to map keys).
    pub(crate) fn has_named_fields(self) -> bool {
        matches!(self, Ty::Struct(_))
    }

    fn of_field(field: &Field) -> Ty {
        match field.shape {
            Shape::Scalar => Ty::Atomic,
            Shape::Map => Ty::Map,
            Shape::Object { strategy: ObjectStrategy::Replace, .. } => Ty::Atomic,
            Shape::Object { ty, .. } => Ty::Struct(Some(ty)),
            Shape::List { strategy: ListStrategy::Atomic, .. } => Ty::Atomic,
            Shape::List { items: Items::Object(ty), strategy: ListStrategy::MergeByKey { key, .. } } => {
                Ty::Keyed(ssa_keys(ty, key), ty)
            }
            Shape::List { .. } => Ty::Set,
        }
    }
}

/// The path element of each item of a keyed list or set, in order; an error when an item has
/// no key, or two items share one.
fn list_items(items: &[Value], ty: Ty) -> Result<Vec<(PathElement, &Value)>, String> {
    let mut seen = HashSet::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let element = match ty {
            Ty::Set if item.is_object() || item.is_array() => {
                return Err(format!("element {index}: expected a scalar in a set, got {item}"));
            }
            Ty::Set => PathElement::value(item),
            Ty::Keyed(keys, _) => item_key(item, keys).map_err(|e| format!("element {index}: {e}"))?,
            _ => return Err("not a keyed list or set".into()),
        };
        if !seen.insert(element.clone()) {
            return Err(format!("duplicate entries for key {}", element.to_fields_v1_key()));
        }
        out.push((element, item));
    }
    Ok(out)
}

/// The `k:{...}` element of a keyed-list item.
fn item_key(item: &Value, keys: KeyFields) -> Result<PathElement, String> {
    let Value::Object(item) = item else {
        return Err(format!("expected a map in an associative list, got {item}"));
    };
    let mut fields = Map::new();
    for (name, default) in keys.fields() {
        match (item.get(name).filter(|v| !v.is_null()), default) {
            (Some(value), _) if value.is_object() || value.is_array() => {
                return Err(format!("key field {name:?} must be a scalar, got {value}"));
            }
            (Some(value), _) => fields.insert(name.into(), value.clone()),
            (None, Some(default)) => fields.insert(name.into(), default.into()),
            (None, None) => {
                return Err(format!(
                    "associative list with keys has an element that omits key field {name:?} (and doesn't have default value)"
                ));
            }
        };
    }
    Ok(PathElement::key(fields))
}

/// A value read along its type.
enum Node<'a> {
    Absent,
    Null,
    /// A scalar, or a value the type says is atomic (or that does not fit the type).
    Leaf,
    Object(&'a Map<String, Value>),
    List(Vec<(PathElement, &'a Value)>),
}

impl<'a> Node<'a> {
    fn of(value: Option<&'a Value>, ty: Ty) -> Self {
        match value {
            None => Node::Absent,
            Some(Value::Null) => Node::Null,
            Some(Value::Object(map)) if matches!(ty, Ty::Struct(_) | Ty::Map) => Node::Object(map),
            Some(Value::Array(items)) if matches!(ty, Ty::Set | Ty::Keyed(..)) => {
                list_items(items, ty).map_or(Node::Leaf, Node::List)
            }
            Some(_) => Node::Leaf,
        }
    }

    /// Absent, null, or an empty object or list.
    fn is_empty(&self) -> bool {
        match self {
            Node::Absent | Node::Null => true,
            Node::Object(map) => map.is_empty(),
            Node::List(items) => items.is_empty(),
            Node::Leaf => false,
        }
    }

    fn object(&self) -> Option<&'a Map<String, Value>> {
        match self {
            Node::Object(map) => Some(map),
            _ => None,
        }
    }

    fn items(&self) -> &[(PathElement, &'a Value)] {
        match self {
            Node::List(items) => items,
            _ => &[],
        }
    }
}

/// How two nodes are walked: key by key, item by item, or as one leaf. Two empty containers
/// are a leaf, which keeps `{}` and `null` apart (upstream's "emptyPromoteToLeaf").
enum Walk {
    Object,
    List,
    Leaf,
}

fn walk_of(left: &Node<'_>, right: &Node<'_>) -> Walk {
    let object_like = |n: &Node<'_>| matches!(n, Node::Object(_) | Node::Absent | Node::Null);
    let list_like = |n: &Node<'_>| matches!(n, Node::List(_) | Node::Absent | Node::Null);
    if left.is_empty() && right.is_empty() {
        Walk::Leaf
    } else if object_like(left) && object_like(right) {
        Walk::Object
    } else if list_like(left) && list_like(right) {
        Walk::List
    } else {
        Walk::Leaf
    }
}

fn union_keys<'a>(left: Option<&'a Map<String, Value>>, right: Option<&'a Map<String, Value>>) -> BTreeSet<&'a String> {
    left.into_iter().chain(right).flat_map(|m| m.keys()).collect()
}

// ---------------------------------------------------------------------------------------------
// The field set of an object
// ---------------------------------------------------------------------------------------------

/// The field set of `value` (upstream's `ToFieldSet`): its leaves (scalars, nulls, atomic values,
/// empty objects), the items of its keyed lists and sets, and the keys of its free-form maps.
/// With `strict`, a list that cannot be read as keyed is an error (for applied configurations);
/// otherwise it is a leaf.
pub(crate) fn field_set(value: &Value, ty: Ty, strict: bool) -> Result<FieldSet, String> {
    let mut out = FieldSet::new();
    collect(value, ty, &mut Vec::new(), &mut out, strict)?;
    Ok(out)
}

fn collect(value: &Value, ty: Ty, path: &mut Path, out: &mut FieldSet, strict: bool) -> Result<(), String> {
    match value {
        Value::Object(map) if matches!(ty, Ty::Struct(_) | Ty::Map) => {
            for (name, child) in map {
                path.push(PathElement::Field(name.clone()));
                collect(child, ty.field(name), path, out, strict)?;
                let empty = child.is_null() || child.as_object().is_some_and(Map::is_empty);
                if empty || matches!(ty, Ty::Map) {
                    out.insert(path);
                }
                path.pop();
            }
        }
        Value::Array(items) if matches!(ty, Ty::Set | Ty::Keyed(..)) => match list_items(items, ty) {
            Ok(listed) => {
                for (element, item) in listed {
                    path.push(element);
                    if let Ty::Keyed(..) = ty {
                        collect(item, ty.item(), path, out, strict)?;
                    }
                    out.insert(path);
                    path.pop();
                }
            }
            Err(e) if strict => return Err(format!("{}: {e}", path_string(path))),
            Err(_) => out.insert(path),
        },
        _ => out.insert(path),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Comparing two versions of an object
// ---------------------------------------------------------------------------------------------

/// What changed between two versions of an object (upstream's `Comparison`).
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    /// Paths only the new version has.
    pub(crate) added: FieldSet,
    /// Leaves both have, with different values.
    pub(crate) modified: FieldSet,
    /// Paths only the old version has.
    pub(crate) removed: FieldSet,
}

impl Comparison {
    /// Drops `ignored` paths and everything below them (upstream's `ExcludeFields`).
    pub(crate) fn exclude(&mut self, ignored: &FieldSet) {
        self.added = self.added.recursive_difference(ignored);
        self.modified = self.modified.recursive_difference(ignored);
        self.removed = self.removed.recursive_difference(ignored);
    }

    /// Added and modified paths: what a writer takes from other managers.
    pub(crate) fn changed(&self) -> FieldSet {
        self.modified.union(&self.added)
    }
}

/// Compares `old` with `new`. Leaves are compared by value; keyed lists and sets item by item; a
/// list item that appears or disappears is itself added or removed along with its fields.
///
/// Upstream also counts an object that appears (a map or pointer struct that was nil) as added;
/// Bosun counts only its leaves, so that field sets keep the shape of [`field_set`]'s, with `"."`
/// on list items only.
pub(crate) fn compare(old: &Value, new: &Value, ty: Ty) -> Comparison {
    let mut out = Comparison::default();
    compare_at(Some(old), Some(new), ty, &mut Vec::new(), false, &mut out);
    out
}

fn compare_at(old: Option<&Value>, new: Option<&Value>, ty: Ty, path: &mut Path, item: bool, out: &mut Comparison) {
    let (left, right) = (Node::of(old, ty), Node::of(new, ty));
    match walk_of(&left, &right) {
        Walk::Object => {
            let (left, right) = (left.object(), right.object());
            for key in union_keys(left, right) {
                path.push(PathElement::Field(key.clone()));
                compare_at(
                    left.and_then(|m| m.get(key)),
                    right.and_then(|m| m.get(key)),
                    ty.field(key),
                    path,
                    false,
                    out,
                );
                path.pop();
            }
        }
        Walk::List => {
            let old_items: HashMap<&PathElement, &Value> = left.items().iter().map(|(e, v)| (e, *v)).collect();
            let new_items: HashMap<&PathElement, &Value> = right.items().iter().map(|(e, v)| (e, *v)).collect();
            let mut seen = HashSet::new();
            for (element, _) in left.items().iter().chain(right.items()) {
                if !seen.insert(element) {
                    continue;
                }
                path.push(element.clone());
                let (before, after) = (old_items.get(element).copied(), new_items.get(element).copied());
                compare_at(before, after, ty.item(), path, true, out);
                path.pop();
            }
        }
        Walk::Leaf => {
            match (old, new) {
                (None, Some(_)) => out.added.insert(path),
                (Some(_), None) => out.removed.insert(path),
                (Some(before), Some(after)) if before != after => out.modified.insert(path),
                _ => {}
            }
            return;
        }
    }
    if item {
        match (old, new) {
            (None, Some(_)) => out.added.insert(path),
            (Some(_), None) => out.removed.insert(path),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Merging an applied configuration into the live object
// ---------------------------------------------------------------------------------------------

/// Merges `config` into `live` (upstream's `Merge`): objects field by field, keyed lists and
/// sets item by item, and everything else (scalars, atomic lists and objects) replaced by the
/// configuration's value. Nothing is removed.
pub(crate) fn merge(live: &Value, config: &Value, ty: Ty) -> Value {
    merge_at(Some(live), Some(config), ty).unwrap_or_else(|| Value::Object(Map::new()))
}

fn merge_at(live: Option<&Value>, config: Option<&Value>, ty: Ty) -> Option<Value> {
    let (Some(live), Some(config)) = (live, config) else {
        return config.or(live).cloned();
    };
    let (left, right) = (Node::of(Some(live), ty), Node::of(Some(config), ty));
    match walk_of(&left, &right) {
        Walk::Object => {
            let (left, right) = (left.object(), right.object());
            let mut out = Map::new();
            for key in union_keys(left, right) {
                let merged = merge_at(left.and_then(|m| m.get(key)), right.and_then(|m| m.get(key)), ty.field(key));
                if let Some(merged) = merged {
                    out.insert(key.clone(), merged);
                }
            }
            Some(Value::Object(out))
        }
        Walk::List => Some(Value::Array(merge_items(left.items(), right.items(), ty.item()))),
        Walk::Leaf => Some(config.clone()),
    }
}

/// Upstream's list merge: the configuration's items in its order, merged into the live items
/// with the same key; live items the configuration does not mention keep their place relative to
/// the items around them.
fn merge_items(live: &[(PathElement, &Value)], config: &[(PathElement, &Value)], item_ty: Ty) -> Vec<Value> {
    let live_by_key: HashMap<&PathElement, &Value> = live.iter().map(|(e, v)| (e, *v)).collect();
    let config_by_key: HashMap<&PathElement, &Value> = config.iter().map(|(e, v)| (e, *v)).collect();
    let mut shared = config.iter().map(|(e, _)| e).filter(|e| live_by_key.contains_key(e));
    let mut next_shared = shared.next();
    let mut merged_config: HashSet<&PathElement> = HashSet::new();
    let mut out = Vec::with_capacity(live.len().max(config.len()));
    let (mut l, mut r) = (0, 0);
    while l < live.len() || r < config.len() {
        if l < live.len() && r < config.len() {
            let element = &live[l].0;
            if *element == config[r].0 {
                merged_config.insert(element);
                out.extend(merge_at(Some(live[l].1), Some(config[r].1), item_ty));
                l += 1;
                r += 1;
                next_shared = shared.next();
                continue;
            }
            if config_by_key.contains_key(element) && next_shared.is_some_and(|next| next != element) {
                // A shared item, but not the one due now: it is placed where the config puts it.
                l += 1;
                continue;
            }
        }
        if l < live.len() {
            let element = &live[l].0;
            if !config_by_key.contains_key(element) {
                out.extend(merge_at(Some(live[l].1), None, item_ty));
                l += 1;
                continue;
            } else if merged_config.contains(element) {
                l += 1;
            }
        }
        if r < config.len() {
            let element = &config[r].0;
            merged_config.insert(element);
            out.extend(merge_at(live_by_key.get(element).copied(), Some(config[r].1), item_ty));
            r += 1;
            if next_shared == Some(element) {
                next_shared = shared.next();
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Removing fields
// ---------------------------------------------------------------------------------------------

/// `value` without each member of `set` and everything below it (upstream's `RemoveItems`);
/// `None` when nothing is left (upstream leaves a null there).
pub(crate) fn remove(value: &Value, set: &FieldSet, ty: Ty) -> Option<Value> {
    match Node::of(Some(value), ty) {
        Node::Object(map) => {
            let mut out = Map::new();
            for (name, child) in map {
                let element = PathElement::Field(name.clone());
                if set.has_member(&element) {
                    continue;
                }
                let kept = match set.child(&element) {
                    Some(below) => remove(child, below, ty.field(name)).unwrap_or(Value::Null),
                    None => child.clone(),
                };
                out.insert(name.clone(), kept);
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Node::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (element, item) in items {
                if set.has_member(&element) {
                    continue;
                }
                out.push(match set.child(&element) {
                    Some(below) => remove(item, below, ty.item()).unwrap_or(Value::Null),
                    None => item.clone(),
                });
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        Node::Null | Node::Absent => None,
        Node::Leaf => Some(value.clone()),
    }
}

/// `set` plus, as members, the struct fields that lead to its paths (upstream's
/// `EnsureNamedFieldsAreMembers`): owning `spec.replicas` also counts as owning `spec`. Keys of
/// free-form maps and list items are not added.
pub(crate) fn with_named_fields(set: &FieldSet, ty: Ty) -> FieldSet {
    let mut out = FieldSet::with_members(set.members().cloned());
    for (element, below) in set.children() {
        let below_ty = match element {
            PathElement::Field(name) => {
                if ty.has_named_fields() {
                    out.insert_member(element.clone());
                }
                ty.field(name)
            }
            PathElement::Key(_) => ty.item(),
            _ => Ty::Atomic,
        };
        out.insert_child(element.clone(), with_named_fields(below, below_ty));
    }
    out
}

/// Removes the `null` members of objects, at every depth: what upstream's conversion back to a
/// typed object does to the nulls merging and removing leave.
pub(crate) fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}
