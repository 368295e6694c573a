//! Sets of field paths and their `fieldsV1` form (upstream's `sigs.k8s.io/structured-merge-diff`
//! `fieldpath` package).
//!
//! A [`FieldSet`] is a tree: at each level, `members` are the paths that end there and
//! `children` the sub-sets of paths that go deeper. A path can be both (a list item that is
//! owned itself and whose fields are owned too): `fieldsV1` writes that as `".": {}` next to the
//! deeper entries.
//!
//! The operations are upstream's, including the ones that look odd: [`FieldSet::difference`]
//! removes paths, not subtrees (`{a.b} − {a} = {a.b}`); [`FieldSet::recursive_difference`]
//! removes subtrees.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

/// One step of a path into an object.
///
/// The derived order is upstream's: fields, then keys, then values, then indices.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElement {
    /// `f:<name>`: a field of an object.
    Field(String),
    /// `k:{"name":"c"}`: the item of a keyed list whose key fields have these values, kept as
    /// the JSON object of the key fields (keys sorted, as upstream writes them).
    Key(String),
    /// `v:"x"`: the item of a set of scalars with this value, kept as its JSON.
    Value(String),
    /// `i:3`: an item by position. Bosun never makes these; they survive in managedFields a
    /// client wrote.
    Index(u64),
}

/// A path into an object.
pub type Path = Vec<PathElement>;

impl PathElement {
    /// The key element of a keyed-list item with these key fields.
    pub fn key(fields: Map<String, Value>) -> Self {
        PathElement::Key(Value::Object(fields).to_string())
    }

    /// The value element of a set item.
    pub fn value(value: &Value) -> Self {
        PathElement::Value(value.to_string())
    }

    /// The element as a `fieldsV1` key: `f:spec`, `k:{"name":"c"}`, `v:"x"`, `i:0`.
    pub fn to_fields_v1_key(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(json) => format!("k:{json}"),
            PathElement::Value(json) => format!("v:{json}"),
            PathElement::Index(index) => format!("i:{index}"),
        }
    }

    /// Reads a `fieldsV1` key. `Ok(None)` for element types this version does not know, which
    /// upstream drops rather than fails on.
    pub fn from_fields_v1_key(key: &str) -> Result<Option<Self>, String> {
        let Some((kind, rest)) = key.split_once(':').filter(|(kind, _)| kind.len() == 1) else {
            return Err(format!("missing colon: {key}"));
        };
        let element = match kind {
            "f" => PathElement::Field(rest.to_string()),
            "k" => match serde_json::from_str::<Value>(rest) {
                Ok(Value::Object(fields)) => PathElement::key(fields),
                _ => return Err(format!("invalid key element: {key}")),
            },
            "v" => match serde_json::from_str::<Value>(rest) {
                Ok(value) => PathElement::value(&value),
                Err(e) => return Err(format!("invalid value element {key}: {e}")),
            },
            "i" => PathElement::Index(rest.parse().map_err(|e| format!("invalid index element {key}: {e}"))?),
            _ => return Ok(None),
        };
        Ok(Some(element))
    }
}

/// As upstream prints paths in conflict messages: `.spec`, `[name="c"]`, `[="x"]`, `[0]`.
impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(json) => {
                let fields: Map<String, Value> = serde_json::from_str(json).unwrap_or_default();
                let parts: Vec<String> = fields.iter().map(|(name, value)| format!("{name}={value}")).collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(json) => write!(f, "[={json}]"),
            PathElement::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// A path as upstream prints it: `.spec.template.spec.containers[name="c"].image`.
pub fn path_string(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

/// A set of paths. See the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    /// Paths that end at this level.
    members: BTreeSet<PathElement>,
    /// Paths that go deeper, by their first element. Never holds an empty set.
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> Self {
        FieldSet::default()
    }

    /// Whether the set holds no path.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds `path`. The empty path (the whole object) is never tracked, as upstream.
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// Whether `path` is a member.
    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|child| child.has(rest)),
        }
    }

    /// Whether `element` is a member at this level.
    pub(crate) fn has_member(&self, element: &PathElement) -> bool {
        self.members.contains(element)
    }

    /// The paths below `element`, if any.
    pub(crate) fn child(&self, element: &PathElement) -> Option<&FieldSet> {
        self.children.get(element)
    }

    /// The members at this level.
    pub(crate) fn members(&self) -> impl Iterator<Item = &PathElement> {
        self.members.iter()
    }

    /// The sub-sets of paths that go deeper, by their first element.
    pub(crate) fn children(&self) -> impl Iterator<Item = (&PathElement, &FieldSet)> {
        self.children.iter()
    }

    /// Makes `element` a member at this level.
    pub(crate) fn insert_member(&mut self, element: PathElement) {
        self.members.insert(element);
    }

    /// A set with these members and no children.
    pub(crate) fn with_members(members: impl IntoIterator<Item = PathElement>) -> Self {
        FieldSet { members: members.into_iter().collect(), children: BTreeMap::new() }
    }

    /// Adds the sub-set below `element` (nothing when it is empty).
    pub(crate) fn insert_child(&mut self, element: PathElement, child: FieldSet) {
        if !child.is_empty() {
            self.children.insert(element, child);
        }
    }

    /// Every path in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (element, child) in &other.children {
            let merged = match out.children.get(element) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.children.insert(element.clone(), merged);
        }
        out
    }

    /// The paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.intersection(&other.members).cloned().collect();
        for (element, child) in &self.children {
            if let Some(theirs) = other.children.get(element) {
                out.insert_child(element.clone(), child.intersection(theirs));
            }
        }
        out
    }

    /// The paths of `self` that are not in `other`. Upstream's semantics: a path is removed only
    /// by the same path, not by one of its prefixes.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.difference(&other.members).cloned().collect();
        for (element, child) in &self.children {
            match other.children.get(element) {
                Some(theirs) => out.insert_child(element.clone(), child.difference(theirs)),
                None => out.insert_child(element.clone(), child.clone()),
            }
        }
        out
    }

    /// The paths of `self` that neither are in `other` nor lie below a member of `other`.
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.difference(&other.members).cloned().collect();
        for (element, child) in &self.children {
            if other.members.contains(element) {
                continue;
            }
            match other.children.get(element) {
                Some(theirs) => out.insert_child(element.clone(), child.recursive_difference(theirs)),
                None => out.insert_child(element.clone(), child.clone()),
            }
        }
        out
    }

    /// Every member path, in upstream's iteration order (at each level the members, then the
    /// paths below, both sorted), which is the order conflicts are reported in.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Path, out: &mut Vec<Path>) {
        for member in &self.members {
            let mut path = prefix.clone();
            path.push(member.clone());
            out.push(path);
        }
        for (element, child) in &self.children {
            prefix.push(element.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// The `fieldsV1` JSON of the set.
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.fields_v1_contents(false))
    }

    fn fields_v1_contents(&self, include_self: bool) -> Map<String, Value> {
        let mut out = Map::new();
        if include_self && !self.is_empty() {
            out.insert(".".into(), Value::Object(Map::new()));
        }
        for member in &self.members {
            if !self.children.contains_key(member) {
                out.insert(member.to_fields_v1_key(), Value::Object(Map::new()));
            }
        }
        for (element, child) in &self.children {
            let contents = child.fields_v1_contents(self.members.contains(element));
            out.insert(element.to_fields_v1_key(), Value::Object(contents));
        }
        out
    }

    /// Reads `fieldsV1` JSON. Elements of unknown types are dropped, as upstream drops them.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, String> {
        let Value::Object(map) = value else {
            return Err(format!("fieldsV1 must be an object, got {value}"));
        };
        Ok(Self::read_fields_v1(map)?.0.unwrap_or_default())
    }

    /// Upstream's `readIterV1`: the set below one node, and whether the node is itself a member
    /// (it says `"."`, or has nothing below it).
    fn read_fields_v1(map: &Map<String, Value>) -> Result<(Option<FieldSet>, bool), String> {
        let mut children: Option<FieldSet> = None;
        let mut is_member = false;
        for (key, value) in map {
            if key == "." {
                is_member = true;
                continue;
            }
            let Some(element) = PathElement::from_fields_v1_key(key)? else {
                continue;
            };
            let Value::Object(below) = value else {
                return Err(format!("the value of {key} must be an object, got {value}"));
            };
            let (grandchildren, child_is_member) = Self::read_fields_v1(below)?;
            let set = children.get_or_insert_with(FieldSet::new);
            if child_is_member {
                set.members.insert(element.clone());
            }
            if let Some(grandchildren) = grandchildren.filter(|g| !g.is_empty()) {
                set.children.insert(element, grandchildren);
            }
        }
        if children.is_none() {
            is_member = true;
        }
        Ok((children, is_member))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(name: &str) -> PathElement {
        PathElement::Field(name.into())
    }

    fn set(paths: &[&[PathElement]]) -> FieldSet {
        let mut out = FieldSet::new();
        for path in paths {
            out.insert(path);
        }
        out
    }

    #[test]
    fn managed_fields_v1_round_trips_with_dot_for_members_that_have_children() {
        let name = PathElement::key(json!({"name": "c"}).as_object().unwrap().clone());
        let mut fields = set(&[&[f("spec"), f("replicas")], &[f("spec"), f("containers"), name.clone()]]);
        fields.insert(&[f("spec"), f("containers"), name.clone(), f("image")]);
        let json = fields.to_fields_v1();
        assert_eq!(
            json,
            json!({"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}}}, "f:replicas": {}}})
        );
        assert_eq!(FieldSet::from_fields_v1(&json).unwrap(), fields);
    }

    #[test]
    fn managed_fields_v1_keys_sort_their_fields_and_unknown_elements_are_dropped() {
        let parsed = FieldSet::from_fields_v1(&json!({
            "f:ports": {"k:{\"protocol\":\"TCP\",\"containerPort\":80}": {}},
            "x:future": {},
        }))
        .unwrap();
        assert_eq!(
            parsed.to_fields_v1(),
            json!({"f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {}}}),
            "keys are written with sorted fields"
        );
        assert!(FieldSet::from_fields_v1(&json!({"f:a": 1})).is_err());
        assert!(FieldSet::from_fields_v1(&json!({"nocolon": {}})).is_err());
    }

    #[test]
    fn managed_difference_removes_paths_not_subtrees_but_recursive_difference_does() {
        let deep = set(&[&[f("a"), f("b")]]);
        let shallow = set(&[&[f("a")]]);
        assert_eq!(deep.difference(&shallow), deep, "a path is removed only by itself");
        assert!(deep.recursive_difference(&shallow).is_empty());
        assert!(shallow.difference(&shallow).is_empty());
    }

    #[test]
    fn managed_union_and_intersection_work_level_by_level() {
        let one = set(&[&[f("a"), f("b")], &[f("c")]]);
        let two = set(&[&[f("a"), f("d")], &[f("c")]]);
        assert_eq!(one.union(&two), set(&[&[f("a"), f("b")], &[f("a"), f("d")], &[f("c")]]));
        assert_eq!(one.intersection(&two), set(&[&[f("c")]]));
        assert!(one.has(&[f("a"), f("b")]) && !one.has(&[f("a")]));
    }

    #[test]
    fn managed_paths_print_as_upstream_prints_them_in_conflicts() {
        let key = PathElement::key(json!({"name": "nodejs"}).as_object().unwrap().clone());
        let path = vec![f("spec"), f("containers"), key, f("image")];
        assert_eq!(path_string(&path), ".spec.containers[name=\"nodejs\"].image");
        assert_eq!(path_string(&[f("finalizers"), PathElement::value(&json!("x"))]), ".finalizers[=\"x\"]");
        let ports = PathElement::key(json!({"protocol": "TCP", "containerPort": 80}).as_object().unwrap().clone());
        assert_eq!(ports.to_string(), "[containerPort=80,protocol=\"TCP\"]");
    }

    #[test]
    fn managed_paths_iterate_members_before_deeper_paths() {
        let fields = set(&[&[f("spec"), f("template"), f("x")], &[f("spec"), f("replicas")], &[f("metadata"), f("l")]]);
        let printed: Vec<String> = fields.paths().iter().map(|p| path_string(p)).collect();
        assert_eq!(printed, [".metadata.l", ".spec.replicas", ".spec.template.x"]);
    }
}
