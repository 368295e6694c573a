//! The on-disk layout: one ordered keyspace, three kinds of rows.
//!
//! ```text
//! b'v' object-key 0x00 be64(revision)  ->  version row: [format][Envelope][object JSON]
//! b'l' be64(revision)                  ->  log row:     [format][LogRecord]
//! b'm' name                            ->  store metadata (revision counter, compaction point)
//! ```
//!
//! Version rows are the MVCC history of each object: a list at revision N takes, per key, the
//! newest version at or below N, which makes continue tokens consistent at their first page's
//! revision. A delete writes a tombstone version (holding the object's last state). The log row
//! orders the writes for watch catch-up and resume after a restart. One write = one version row +
//! one log row + the revision counter, in one atomic batch.
//!
//! Every record starts with a format byte so that the encoding can change later; the envelope and
//! log record are bincode 2 (our own fixed records only: objects stay JSON).

use bincode::{Decode, Encode};
use bytes::Bytes;

use crate::error::{Result, StoreError};

/// The format byte of every record this version writes.
pub const FORMAT_V1: u8 = 1;

const VERSION_TAG: u8 = b'v';
const LOG_TAG: u8 = b'l';

/// Metadata row: the last revision written.
pub const META_REVISION: &[u8] = b"m:revision";
/// Metadata row: the compaction point (no history at or below it).
pub const META_COMPACTED: &[u8] = b"m:compacted";
/// Metadata row: revisions handed out are at most this, in the non-durable modes (see
/// `WriterState::reserved`).
pub const META_RESERVED: &[u8] = b"m:reserved";
/// Metadata row: present only after a clean close.
pub const META_CLEAN: &[u8] = b"m:clean";

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// The small fixed header of each version row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct Envelope {
    /// The object's uid, fixed at create.
    pub uid: [u8; 16],
    /// Revision of the create that started this object's life.
    pub create_revision: u64,
    /// Revision of this version.
    pub mod_revision: u64,
    /// Revision of the version this one replaced (0 for a create).
    pub prev_revision: u64,
    /// Whether this version is a tombstone (the object was deleted at `mod_revision`).
    pub deleted: bool,
}

/// What kind of write a log row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum LogOp {
    /// The key came to life.
    Create,
    /// The key changed.
    Update,
    /// The key was deleted.
    Delete,
}

/// One row of the event log.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct LogRecord {
    /// The encoded object key that was written.
    pub key: Vec<u8>,
    /// What happened.
    pub op: LogOp,
    /// Revision of the version this write replaced (0 for a create).
    pub prev_revision: u64,
    /// Wall-clock time of the commit, in milliseconds since the Unix epoch (for age-based
    /// compaction).
    pub committed_at_ms: u64,
}

/// The row key of one version of one object.
pub fn version_key(object_key: &[u8], revision: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(object_key.len() + 10);
    out.push(VERSION_TAG);
    out.extend_from_slice(object_key);
    out.push(0);
    out.extend_from_slice(&revision.to_be_bytes());
    out
}

/// The first row key of every version of keys under `prefix` (a key prefix in the sense of
/// `KeyPrefix`).
pub fn version_prefix(prefix: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + 1);
    out.push(VERSION_TAG);
    out.extend_from_slice(prefix);
    out
}

/// Splits a version row key into (object key, revision).
pub fn split_version_key(row_key: &[u8]) -> Result<(&[u8], u64)> {
    if row_key.len() < 11 || row_key[0] != VERSION_TAG || row_key[row_key.len() - 9] != 0 {
        return Err(StoreError::Corrupt("malformed version row key".into()));
    }
    let (object, revision) = row_key[1..].split_at(row_key.len() - 10);
    let revision = u64::from_be_bytes(revision[1..].try_into().expect("eight bytes"));
    Ok((object, revision))
}

/// The row key of the log entry for `revision`.
pub fn log_key(revision: u64) -> [u8; 9] {
    let mut out = [LOG_TAG; 9];
    out[1..].copy_from_slice(&revision.to_be_bytes());
    out
}

/// Reads the revision out of a log row key.
pub fn split_log_key(row_key: &[u8]) -> Result<u64> {
    match row_key {
        [LOG_TAG, rest @ ..] if rest.len() == 8 => Ok(u64::from_be_bytes(rest.try_into().expect("eight bytes"))),
        _ => Err(StoreError::Corrupt("malformed log row key".into())),
    }
}

/// The smallest byte string greater than every string starting with `prefix` (None: no bound).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Encodes a version row value.
pub fn encode_version(envelope: &Envelope, object: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(object.len() + 48);
    out.push(FORMAT_V1);
    bincode::encode_into_std_write(envelope, &mut out, config()).expect("writing to a Vec cannot fail");
    out.extend_from_slice(object);
    out
}

/// Decodes a version row value into its envelope and the object bytes (sharing `row`).
pub fn decode_version(row: &Bytes) -> Result<(Envelope, Bytes)> {
    let body = check_format(row, "version")?;
    let (envelope, used): (Envelope, usize) = bincode::decode_from_slice(body, config())
        .map_err(|e| StoreError::Corrupt(format!("version envelope: {e}")))?;
    Ok((envelope, row.slice(1 + used..)))
}

/// Encodes a log row value.
pub fn encode_log(record: &LogRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.key.len() + 24);
    out.push(FORMAT_V1);
    bincode::encode_into_std_write(record, &mut out, config()).expect("writing to a Vec cannot fail");
    out
}

/// Decodes a log row value.
pub fn decode_log(row: &[u8]) -> Result<LogRecord> {
    let body = check_format(row, "log")?;
    let (record, _): (LogRecord, usize) =
        bincode::decode_from_slice(body, config()).map_err(|e| StoreError::Corrupt(format!("log record: {e}")))?;
    Ok(record)
}

fn check_format<'a>(row: &'a [u8], what: &str) -> Result<&'a [u8]> {
    match row.split_first() {
        Some((&FORMAT_V1, body)) => Ok(body),
        Some((other, _)) => {
            Err(StoreError::Corrupt(format!("{what} row has format {other}; this Bosun reads format {FORMAT_V1}")))
        }
        None => Err(StoreError::Corrupt(format!("empty {what} row"))),
    }
}

/// Encodes a u64 metadata value.
pub fn encode_u64(value: u64) -> [u8; 8] {
    value.to_be_bytes()
}

/// Decodes a u64 metadata value.
pub fn decode_u64(bytes: &[u8]) -> Result<u64> {
    bytes
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::Corrupt("metadata value is not eight bytes".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_keys_sort_by_object_then_revision() {
        let a1 = version_key(b"a", 2);
        let a2 = version_key(b"a", 10);
        let ab = version_key(b"a-b", 1);
        assert!(a1 < a2 && a2 < ab);
        assert_eq!(split_version_key(&a2).unwrap(), (&b"a"[..], 10));
    }

    #[test]
    fn records_round_trip_and_reject_unknown_formats() {
        let envelope = Envelope { uid: [7; 16], create_revision: 3, mod_revision: 9, prev_revision: 4, deleted: false };
        let row = Bytes::from(encode_version(&envelope, b"{\"a\":1}"));
        let (decoded, object) = decode_version(&row).unwrap();
        assert_eq!(decoded, envelope);
        assert_eq!(&object[..], b"{\"a\":1}");
        let mut bad = row.to_vec();
        bad[0] = 9;
        assert!(matches!(decode_version(&Bytes::from(bad)), Err(StoreError::Corrupt(_))));

        let record = LogRecord { key: b"k".to_vec(), op: LogOp::Delete, prev_revision: 8, committed_at_ms: 5 };
        assert_eq!(decode_log(&encode_log(&record)).unwrap(), record);
        assert_eq!(split_log_key(&log_key(42)).unwrap(), 42);
    }

    #[test]
    fn prefix_end_is_the_first_string_past_the_prefix() {
        assert_eq!(prefix_end(b"ab\0"), Some(b"ab\x01".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b""), None);
    }
}
