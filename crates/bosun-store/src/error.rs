//! The store's one error type.
//!
//! Every variant says what the caller should do next: `Conflict` and `AlreadyExists` are answers
//! to the request (map them to HTTP 409), `Expired` means "re-list and start again from the
//! revision you get" (HTTP 410), `Backend` and `Corrupt` are failures of the data directory that
//! no retry will fix.

use crate::key::InvalidKey;

/// What can go wrong in a store operation, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `create` found a live object under the key. Answer 409 AlreadyExists.
    #[error("object already exists")]
    AlreadyExists,

    /// The object does not exist (or did not exist at the requested revision). Answer 404.
    #[error("object not found")]
    NotFound,

    /// A compare-and-swap precondition failed: the object changed since the caller read it.
    /// Re-read and retry, or answer 409 Conflict.
    #[error("precondition failed: expected {what} {expected}, found {actual}")]
    Conflict {
        /// Which precondition failed: `"mod revision"` or `"uid"`.
        what: &'static str,
        /// The value the caller expected.
        expected: String,
        /// The value stored now.
        actual: String,
    },

    /// The requested revision was compacted away. Re-list, then watch from the list's revision.
    #[error("revision {requested} has been compacted; the oldest revision still available is {oldest}")]
    Expired {
        /// The revision the caller asked for.
        requested: u64,
        /// The oldest revision a watch or snapshot read may start from now.
        oldest: u64,
    },

    /// The caller asked for a revision the store has not reached yet.
    #[error("revision {requested} is newer than the current revision {current}")]
    FutureRevision {
        /// The revision the caller asked for.
        requested: u64,
        /// The store's current revision.
        current: u64,
    },

    /// A continue token that this store did not issue, or issued for another prefix.
    #[error("invalid continue token: {0}")]
    InvalidContinue(&'static str),

    /// The key cannot be encoded (an empty name, or a NUL byte in a segment).
    #[error(transparent)]
    InvalidKey(#[from] InvalidKey),

    /// The configured bound on concurrent watchers is reached. Retry later or raise
    /// `StoreConfig::watchers_max`.
    #[error("too many watchers: the limit is {max}")]
    TooManyWatchers {
        /// The configured limit.
        max: usize,
    },

    /// A read-modify-write gave up after this many conflicting attempts.
    #[error("gave up after {attempts} conflicting attempts")]
    TooManyRetries {
        /// How many times the update function ran.
        attempts: usize,
    },

    /// Another process has the data directory open. Stop it, or open another directory.
    #[error("{dir} is in use by another process; stop that process or use another data directory")]
    InUse {
        /// The directory.
        dir: String,
    },

    /// The store has been closed.
    #[error("the store is closed")]
    Closed,

    /// The storage engine failed (I/O error, full disk). The write did not happen.
    #[error("storage backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// A record on disk could not be decoded: the data directory is damaged or was written by an
    /// incompatible version of Bosun.
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Wraps a storage-engine error.
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(error))
    }
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
