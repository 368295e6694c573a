//! Object keys: group/version/kind/namespace/name, encoded so that both "one kind in every
//! namespace" and "one kind in one namespace" are prefix scans.
//!
//! Encoding: the five segments joined by a NUL byte, `group \0 version \0 kind \0 namespace \0
//! name`. Cluster-scoped objects have an empty namespace. No segment may contain NUL, and the name
//! may not be empty, so a namespace prefix (which ends in NUL) never matches a longer namespace
//! (`default` does not match `default2`), and the bytes decode back unambiguously.

use std::fmt;

/// Identifies one stored object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// API group; empty for the core group.
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Namespace; empty for cluster-scoped objects.
    pub namespace: String,
    /// Object name; never empty.
    pub name: String,
}

/// A key segment that cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid object key: {0}")]
pub struct InvalidKey(pub &'static str);

const SEP: u8 = 0;

impl ObjectKey {
    /// Builds a key from its five segments.
    pub fn new(
        group: impl Into<String>,
        version: impl Into<String>,
        kind: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        ObjectKey {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The key's bytes, as stored and as matched by [`KeyPrefix`].
    pub fn encode(&self) -> Result<Vec<u8>, InvalidKey> {
        if self.name.is_empty() {
            return Err(InvalidKey("the name is empty"));
        }
        let segments = [&self.group, &self.version, &self.kind, &self.namespace, &self.name];
        if segments.iter().any(|s| s.as_bytes().contains(&SEP)) {
            return Err(InvalidKey("a segment contains a NUL byte"));
        }
        let mut out = Vec::with_capacity(segments.iter().map(|s| s.len() + 1).sum());
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 {
                out.push(SEP);
            }
            out.extend_from_slice(segment.as_bytes());
        }
        Ok(out)
    }

    /// Decodes bytes made by [`ObjectKey::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self, InvalidKey> {
        let mut parts = bytes.split(|b| *b == SEP);
        let mut next = || -> Result<String, InvalidKey> {
            let part = parts.next().ok_or(InvalidKey("fewer than five segments"))?;
            String::from_utf8(part.to_vec()).map_err(|_| InvalidKey("a segment is not UTF-8"))
        };
        let key = ObjectKey { group: next()?, version: next()?, kind: next()?, namespace: next()?, name: next()? };
        if parts.next().is_some() {
            return Err(InvalidKey("more than five segments"));
        }
        Ok(key)
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = if self.group.is_empty() { "core" } else { &self.group };
        write!(f, "{group}/{}/{}/", self.version, self.kind)?;
        if !self.namespace.is_empty() {
            write!(f, "{}/", self.namespace)?;
        }
        f.write_str(&self.name)
    }
}

/// A set of keys that share leading segments: everything, one kind, or one kind in one
/// namespace. Lists and watches take a prefix.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyPrefix(Vec<u8>);

impl KeyPrefix {
    /// Every object in the store.
    pub fn all() -> Self {
        KeyPrefix(Vec::new())
    }

    /// One kind, in every namespace (and cluster-scoped objects of that kind).
    pub fn kind(group: &str, version: &str, kind: &str) -> Result<Self, InvalidKey> {
        Self::segments(&[group, version, kind])
    }

    /// One kind in one namespace.
    pub fn namespace(group: &str, version: &str, kind: &str, namespace: &str) -> Result<Self, InvalidKey> {
        Self::segments(&[group, version, kind, namespace])
    }

    fn segments(segments: &[&str]) -> Result<Self, InvalidKey> {
        if segments.iter().any(|s| s.as_bytes().contains(&SEP)) {
            return Err(InvalidKey("a segment contains a NUL byte"));
        }
        let mut out = Vec::new();
        for segment in segments {
            out.extend_from_slice(segment.as_bytes());
            // The trailing separator makes `default` a prefix of `default/x` only.
            out.push(SEP);
        }
        Ok(KeyPrefix(out))
    }

    /// The prefix bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether an encoded key falls under this prefix.
    pub fn matches(&self, encoded_key: &[u8]) -> bool {
        encoded_key.starts_with(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_their_encoding() {
        let key = ObjectKey::new("apps", "v1", "Deployment", "default", "web");
        assert_eq!(ObjectKey::decode(&key.encode().unwrap()).unwrap(), key);
        let cluster = ObjectKey::new("", "v1", "Namespace", "", "default");
        assert_eq!(ObjectKey::decode(&cluster.encode().unwrap()).unwrap(), cluster);
    }

    #[test]
    fn namespace_prefix_does_not_match_a_longer_namespace() {
        let prefix = KeyPrefix::namespace("", "v1", "Pod", "default").unwrap();
        let inside = ObjectKey::new("", "v1", "Pod", "default", "a").encode().unwrap();
        let other = ObjectKey::new("", "v1", "Pod", "default2", "a").encode().unwrap();
        assert!(prefix.matches(&inside));
        assert!(!prefix.matches(&other));
    }

    #[test]
    fn kind_prefix_matches_every_namespace_of_that_kind_only() {
        let prefix = KeyPrefix::kind("", "v1", "Pod").unwrap();
        assert!(prefix.matches(&ObjectKey::new("", "v1", "Pod", "a", "x").encode().unwrap()));
        assert!(!prefix.matches(&ObjectKey::new("", "v1", "PodX", "a", "x").encode().unwrap()));
    }

    #[test]
    fn empty_names_and_nul_bytes_are_rejected() {
        assert!(ObjectKey::new("", "v1", "Pod", "a", "").encode().is_err());
        assert!(ObjectKey::new("", "v1", "Pod", "a\0b", "x").encode().is_err());
        assert!(KeyPrefix::kind("", "v\x001", "Pod").is_err());
    }
}
