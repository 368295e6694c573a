//! Validation of objects on create and update, with upstream's field paths, reasons and messages.
//!
//! Every check returns a list of [`FieldError`](crate::status::FieldError)s rather than failing
//! on the first one: the caller answers `422 Invalid` with one cause per error, as kube-apiserver
//! does, and an empty list means the object passes.
//!
//! * [`names`]: the generic `metadata` rules — names under the type's [`names::NameRule`],
//!   namespaces, label keys and values, annotation keys and total size, finalizers, owner
//!   references.

pub mod names;

// Per-type validation (Deployments, ReplicaSets, Jobs, CronJobs, Pods, Services, Namespaces) and
// its helpers; `validate_object` is the dispatcher the API layer calls.
pub mod cron;
pub mod fields;
pub mod label_selectors;
pub mod namespaces;
pub mod objects;
pub mod pods;
pub mod services;
pub mod workloads;

pub use objects::validate_object;
