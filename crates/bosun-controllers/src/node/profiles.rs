//! Application profiles: how the simulated process of an image behaves (when it listens, when it
//! starts failing requests, when it crashes or completes). Bosun runs no containers; a profile
//! stands in for the app, so readiness probes, rollouts and Services behave as they would.
//!
//! Profiles are chosen by image: the exact image (`luksa/kubia:v3`) first, then the image without
//! its tag (`luksa/kubia`), then the defaults (ready at once). A pod's annotations
//! (`sim.bosun.dev/fail-after-requests: "4"`, ...) override the profile for its containers.
//! See `docs/NODE-AGENT.md` for the file format.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// The annotation prefix of per-pod overrides.
pub const ANNOTATION_PREFIX: &str = "sim.bosun.dev/";

/// How one image's process behaves. Times are whole seconds from the container's start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    /// Seconds until the process listens; probes before that fail without reaching it.
    #[serde(default)]
    pub start_seconds: u64,
    /// The process answers this many requests, then fails every later one (HTTP 500).
    #[serde(default)]
    pub fail_after_requests: Option<u64>,
    /// The process never answers a probe successfully.
    #[serde(default)]
    pub never_ready: bool,
    /// The process exits with code 1 this many seconds after it starts.
    #[serde(default)]
    pub crash_after_seconds: Option<u64>,
    /// The process exits with code 0 this many seconds after it starts (a Job's work is done).
    #[serde(default)]
    pub complete_after_seconds: Option<u64>,
    /// Seconds the process takes to exit after it is told to stop (capped by the pod's grace
    /// period).
    #[serde(default)]
    pub stop_seconds: u64,
}

impl Profile {
    /// When the process exits by itself and with which code: the earlier of a crash and a
    /// completion.
    pub fn exit_after_seconds(&self) -> Option<(u64, i32)> {
        match (self.crash_after_seconds, self.complete_after_seconds) {
            (Some(crash), Some(complete)) if complete < crash => Some((complete, 0)),
            (Some(crash), _) => Some((crash, 1)),
            (None, Some(complete)) => Some((complete, 0)),
            (None, None) => None,
        }
    }

    /// This profile with a pod's `sim.bosun.dev/*` annotations applied; unreadable values are
    /// ignored (and logged).
    pub fn with_annotations<'a>(&self, annotations: impl IntoIterator<Item = (&'a String, &'a String)>) -> Profile {
        let mut profile = self.clone();
        for (key, value) in annotations {
            let Some(field) = key.strip_prefix(ANNOTATION_PREFIX) else { continue };
            let seconds = || value.trim().parse::<u64>().ok();
            let applied = match field {
                "start-seconds" => seconds().map(|v| profile.start_seconds = v).is_some(),
                "fail-after-requests" => seconds().map(|v| profile.fail_after_requests = Some(v)).is_some(),
                "never-ready" => value.trim().parse::<bool>().ok().map(|v| profile.never_ready = v).is_some(),
                "crash-after-seconds" => seconds().map(|v| profile.crash_after_seconds = Some(v)).is_some(),
                "complete-after-seconds" => seconds().map(|v| profile.complete_after_seconds = Some(v)).is_some(),
                "stop-seconds" => seconds().map(|v| profile.stop_seconds = v).is_some(),
                _ => false,
            };
            if !applied {
                tracing::debug!(annotation = %key, %value, "a simulation annotation was not understood");
            }
        }
        profile
    }
}

/// The profile file: profiles by image.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProfileFile {
    #[serde(default)]
    images: BTreeMap<String, Profile>,
}

/// Why a profile file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("could not read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid profile document.
    #[error("{path} is not a valid node profile file: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Profiles by image, with the defaults for the seed's images.
#[derive(Debug, Clone)]
pub struct Profiles {
    by_image: BTreeMap<String, Profile>,
}

impl Default for Profiles {
    /// `luksa/kubia:v1`, `v2` and `v4` ready at once; `luksa/kubia:v3` answers four requests and
    /// fails from the fifth; `perl` (the seed's `pi` Job) completes after 5 s; anything else is
    /// ready at once.
    fn default() -> Self {
        let mut by_image = BTreeMap::new();
        for ready in ["luksa/kubia:v1", "luksa/kubia:v2", "luksa/kubia:v4"] {
            by_image.insert(ready.to_string(), Profile::default());
        }
        by_image.insert("luksa/kubia:v3".into(), Profile { fail_after_requests: Some(4), ..Profile::default() });
        by_image.insert("perl".into(), Profile { complete_after_seconds: Some(5), ..Profile::default() });
        Profiles { by_image }
    }
}

impl Profiles {
    /// The defaults with the profiles of a YAML or JSON document added (an image named in both
    /// takes the document's profile).
    pub fn with_document(mut self, text: &str, origin: &str) -> Result<Self, ProfileError> {
        let file: ProfileFile = serde_saphyr::from_str(text)
            .map_err(|e| ProfileError::Parse { path: origin.to_string(), message: e.to_string() })?;
        self.by_image.extend(file.images);
        Ok(self)
    }

    /// The defaults with the profiles of `path` added.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let origin = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| ProfileError::Read { path: origin.clone(), source })?;
        Profiles::default().with_document(&text, &origin)
    }

    /// The profile of `image`: exact, then without tag or digest, then the default.
    pub fn for_image(&self, image: &str) -> Profile {
        if let Some(profile) = self.by_image.get(image) {
            return profile.clone();
        }
        let without_digest = image.split('@').next().unwrap_or(image);
        // A tag is a `:` after the last `/` (a registry's port is before it).
        let repository = match without_digest.rfind(':') {
            Some(colon) if !without_digest[colon..].contains('/') => &without_digest[..colon],
            _ => without_digest,
        };
        for candidate in [without_digest, repository, repository.strip_prefix("docker.io/").unwrap_or(repository)] {
            if let Some(profile) = self.by_image.get(candidate) {
                return profile.clone();
            }
        }
        Profile::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_images_have_their_behaviour_by_default() {
        let profiles = Profiles::default();
        assert_eq!(profiles.for_image("luksa/kubia:v3").fail_after_requests, Some(4));
        assert_eq!(profiles.for_image("luksa/kubia:v2"), Profile::default());
        assert_eq!(profiles.for_image("nginx:1.27"), Profile::default());
        assert_eq!(profiles.for_image("perl:5.34.0").complete_after_seconds, Some(5));
        assert_eq!(profiles.for_image("docker.io/library/perl").complete_after_seconds, None);
    }

    #[test]
    fn a_document_adds_and_overrides_profiles_by_image() {
        let yaml = "images:\n  luksa/kubia:v3:\n    failAfterRequests: 10\n  registry:5000/app:\n    startSeconds: 4\n    crashAfterSeconds: 60\n";
        let profiles = Profiles::default().with_document(yaml, "test").unwrap();
        assert_eq!(profiles.for_image("luksa/kubia:v3").fail_after_requests, Some(10));
        let app = profiles.for_image("registry:5000/app:1.0");
        assert_eq!((app.start_seconds, app.exit_after_seconds()), (4, Some((60, 1))));
        let json = r#"{"images": {"busybox": {"completeAfterSeconds": 2}}}"#;
        let profiles = Profiles::default().with_document(json, "test").unwrap();
        assert_eq!(profiles.for_image("busybox:1.36").exit_after_seconds(), Some((2, 0)));
        let error = Profiles::default().with_document("images:\n  x:\n    startSecond: 1\n", "bad.yaml").unwrap_err();
        assert!(error.to_string().contains("bad.yaml"), "{error}");
    }

    #[test]
    fn pod_annotations_override_the_profile() {
        let annotations: BTreeMap<String, String> = [
            ("sim.bosun.dev/fail-after-requests", "2"),
            ("sim.bosun.dev/never-ready", "true"),
            ("sim.bosun.dev/start-seconds", "soon"),
            ("other/thing", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let profile = Profile { start_seconds: 3, ..Profile::default() }.with_annotations(&annotations);
        assert_eq!(
            profile,
            Profile { start_seconds: 3, fail_after_requests: Some(2), never_ready: true, ..Profile::default() }
        );
    }
}
