//! Request paths: which document or resource a URL names.
//!
//! ```text
//! /api                                   APIVersions
//! /api/v1, /apis/G/V                     APIResourceList
//! /apis, /apis/G                         APIGroupList, APIGroup
//! {prefix}/R                             collection (all namespaces, or cluster-scoped)
//! {prefix}/R/N[/S]                       cluster-scoped item [subresource]
//! {prefix}/namespaces/NS/R               collection in a namespace
//! {prefix}/namespaces/NS/R/N[/S]         namespaced item [subresource]
//! {prefix}/namespaces/NS/status|finalize subresource of the namespace NS
//! {prefix}/watch/...                     the same with ?watch=true (deprecated form)
//! ```

/// What a path under `/api` or `/apis` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiPath {
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`.
    Resources {
        /// API group, empty for core.
        group: String,
        /// API version.
        version: String,
    },
    /// A resource collection, item or subresource.
    Resource(ResourcePath),
}

/// A path naming resources of one type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourcePath {
    /// API group, empty for core.
    pub group: String,
    /// API version.
    pub version: String,
    /// Resource plural, e.g. `deployments`.
    pub resource: String,
    /// Namespace from the path, if any.
    pub namespace: Option<String>,
    /// Object name, if the path names one.
    pub name: Option<String>,
    /// Subresource (`status`, `scale`, ...).
    pub subresource: Option<String>,
    /// Came through the deprecated `/watch/` prefix.
    pub watch_prefix: bool,
}

/// Parses a request path; `None` for paths outside `/api` and `/apis` or malformed ones.
pub fn parse(path: &str) -> Option<ApiPath> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api"] => return Some(ApiPath::CoreVersions),
        ["apis"] => return Some(ApiPath::Groups),
        ["apis", group] => return Some(ApiPath::Group(group.to_string())),
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    if rest.is_empty() {
        return Some(ApiPath::Resources { group: group.to_string(), version: version.to_string() });
    }
    let (watch_prefix, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    if rest.iter().any(|s| s.is_empty()) {
        return None;
    }
    let owned = |s: &str| Some(s.to_string());
    let path =
        |resource: &str, namespace: Option<String>, name: Option<String>, subresource: Option<String>| ResourcePath {
            group: group.to_string(),
            version: version.to_string(),
            resource: resource.to_string(),
            namespace,
            name,
            subresource,
            watch_prefix,
        };
    let resolved = match rest {
        [resource] => path(resource, None, None, None),
        ["namespaces", namespace] => path("namespaces", None, owned(namespace), None),
        // The namespace's own subresources.
        ["namespaces", namespace, sub @ ("status" | "finalize")] => {
            path("namespaces", None, owned(namespace), owned(sub))
        }
        ["namespaces", namespace, resource] => path(resource, owned(namespace), None, None),
        ["namespaces", namespace, resource, name] => path(resource, owned(namespace), owned(name), None),
        ["namespaces", namespace, resource, name, sub] => path(resource, owned(namespace), owned(name), owned(sub)),
        [resource, name] => path(resource, None, owned(name), None),
        [resource, name, sub] => path(resource, None, owned(name), owned(sub)),
        _ => return None,
    };
    Some(ApiPath::Resource(resolved))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(path: &str) -> ResourcePath {
        match parse(path) {
            Some(ApiPath::Resource(r)) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn discovery_paths_are_recognised() {
        assert_eq!(parse("/api"), Some(ApiPath::CoreVersions));
        assert_eq!(parse("/apis/"), Some(ApiPath::Groups));
        assert_eq!(parse("/apis/batch"), Some(ApiPath::Group("batch".into())));
        assert_eq!(parse("/api/v1"), Some(ApiPath::Resources { group: "".into(), version: "v1".into() }));
        assert_eq!(parse("/apis/apps/v1"), Some(ApiPath::Resources { group: "apps".into(), version: "v1".into() }));
        assert_eq!(parse("/healthz"), None);
    }

    #[test]
    fn namespaced_and_cluster_paths_resolve() {
        let item = resource("/apis/apps/v1/namespaces/default/deployments/web/scale");
        assert_eq!((item.resource.as_str(), item.namespace.as_deref()), ("deployments", Some("default")));
        assert_eq!((item.name.as_deref(), item.subresource.as_deref()), (Some("web"), Some("scale")));
        let all = resource("/api/v1/pods");
        assert_eq!((all.namespace, all.name), (None, None));
        let in_ns = resource("/api/v1/namespaces/kube-system/configmaps");
        assert_eq!((in_ns.resource.as_str(), in_ns.namespace.as_deref()), ("configmaps", Some("kube-system")));
        let node = resource("/api/v1/nodes/n1/status");
        assert_eq!((node.name.as_deref(), node.subresource.as_deref()), (Some("n1"), Some("status")));
    }

    #[test]
    fn a_namespace_and_its_subresources_are_cluster_scoped_items() {
        let ns = resource("/api/v1/namespaces/demo");
        assert_eq!((ns.resource.as_str(), ns.namespace, ns.name.as_deref()), ("namespaces", None, Some("demo")));
        let finalize = resource("/api/v1/namespaces/demo/finalize");
        assert_eq!((finalize.name.as_deref(), finalize.subresource.as_deref()), (Some("demo"), Some("finalize")));
    }

    #[test]
    fn the_deprecated_watch_prefix_is_understood() {
        let watched = resource("/api/v1/watch/namespaces/ns/pods");
        assert!(watched.watch_prefix);
        assert_eq!(watched.namespace.as_deref(), Some("ns"));
    }

    #[test]
    fn empty_segments_are_not_paths() {
        assert_eq!(parse("/api/v1/namespaces//pods"), None);
    }
}
