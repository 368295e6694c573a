//! Bosun's controllers. They run in-process on `bosun_api::Api`, with exactly the semantics an
//! HTTP client would see.
//!
//! Today: the namespace controller. The ReplicaSet and Deployment controllers, the garbage
//! collector and the node agent come with their issue.

pub mod namespace;
