//! The JSON schemas of the served kinds, in OpenAPI v3 shape: one set of component schemas per
//! group-version, generated from k8s-openapi's `schemars` implementations ([`schemas`]) and
//! annotated with the strategic-merge-patch table's metadata (`patch_meta`).
//!
//! They are the one description of the types' fields: bosun-http serves them as
//! `components.schemas` of its OpenAPI documents, and [`crate::field_validation`] walks objects
//! against them to find (and drop) fields the types do not have.

mod patch_meta;
pub mod schemas;

use std::sync::{LazyLock, OnceLock};

use crate::registry::{self, ResourceType};

pub use schemas::Components;

/// A served group-version and its components, generated on first use.
type Slot = (&'static str, &'static str, OnceLock<Components>);

/// One slot per served group-version (a few dozen: a linear search is enough).
static COMPONENTS: LazyLock<Vec<Slot>> = LazyLock::new(|| {
    registry::group_versions()
        .flat_map(|(group, versions)| versions.iter().map(move |version| (group, *version, OnceLock::new())))
        .collect()
});

/// The component schemas of a served group-version, generated on first use and kept for the
/// life of the process (the registry and the schemas are compiled in); `None` for a
/// group-version Bosun does not serve.
pub fn components(group: &str, version: &str) -> Option<&'static Components> {
    let (group, version, slot) = COMPONENTS.iter().find(|(g, v, _)| *g == group && *v == version)?;
    Some(slot.get_or_init(|| {
        let resources: Vec<&'static ResourceType> = registry::resources(group, version).collect();
        let components = schemas::components(&resources);
        if !components.unplaced.is_empty() {
            tracing::debug!(group, version, fields = ?components.unplaced, "patch-table fields without a schema property");
        }
        components
    }))
}
