//! Kubernetes API semantics for Bosun.
