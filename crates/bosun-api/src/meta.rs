//! Reading and writing `metadata` on objects kept as JSON.
//!
//! Objects stay `serde_json::Value` (unknown fields round-trip untouched); these helpers read the
//! few metadata fields the API layer owns, without ever panicking on a malformed object.

use serde_json::{Map, Value};

/// The object's `metadata` map, created if absent (replacing a non-object value).
pub fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.is_object() {
        *object = Value::Object(Map::new());
    }
    let map = object.as_object_mut().expect("made an object above");
    let metadata = map.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    metadata.as_object_mut().expect("made an object above")
}

/// A string field of `metadata`, or "" when absent or not a string.
pub fn meta_str<'a>(object: &'a Value, field: &str) -> &'a str {
    object.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str).unwrap_or("")
}

/// `metadata.name`.
pub fn name(object: &Value) -> &str {
    meta_str(object, "name")
}

/// `metadata.namespace`.
pub fn namespace(object: &Value) -> &str {
    meta_str(object, "namespace")
}

/// `metadata.uid`.
pub fn uid(object: &Value) -> &str {
    meta_str(object, "uid")
}

/// `metadata.resourceVersion`.
pub fn resource_version(object: &Value) -> &str {
    meta_str(object, "resourceVersion")
}

/// `metadata.deletionTimestamp` is set.
pub fn is_being_deleted(object: &Value) -> bool {
    object.get("metadata").and_then(|m| m.get("deletionTimestamp")).is_some_and(|v| !v.is_null())
}

/// `metadata.finalizers`, as strings.
pub fn finalizers(object: &Value) -> Vec<String> {
    object
        .get("metadata")
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// `metadata.labels` (empty when absent or malformed).
pub fn labels(object: &Value) -> Map<String, Value> {
    object.get("metadata").and_then(|m| m.get("labels")).and_then(Value::as_object).cloned().unwrap_or_default()
}

/// `metadata.generation` (0 when absent).
pub fn generation(object: &Value) -> i64 {
    object.get("metadata").and_then(|m| m.get("generation")).and_then(Value::as_i64).unwrap_or(0)
}

/// Sets `metadata.resourceVersion` and serializes: the stored form of an object at a revision.
pub fn stamp_revision(object: &mut Value, revision: u64) -> bytes::Bytes {
    metadata_mut(object).insert("resourceVersion".into(), Value::String(revision.to_string()));
    bytes::Bytes::from(serde_json::to_vec(object).expect("a JSON value serializes"))
}

/// Sets `metadata.resourceVersion` in an object's stored JSON: the restamp a store that learns a
/// write's revision only after the write (the etcd store) applies on every read. Bytes that are
/// not a JSON object are returned unchanged.
pub fn restamp(stored: &bytes::Bytes, revision: u64) -> bytes::Bytes {
    match serde_json::from_slice::<Value>(stored) {
        Ok(mut object) if object.is_object() => stamp_revision(&mut object, revision),
        _ => stored.clone(),
    }
}

/// Formats a time as Kubernetes does: RFC 3339, UTC, second precision.
pub fn format_time(time: std::time::SystemTime) -> String {
    let seconds = time.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", of_day / 3600, (of_day % 3600) / 60, of_day % 60)
}

/// Parses an RFC 3339 time as Kubernetes writes it (`2024-01-02T03:04:05Z`, optionally with a
/// fraction and a numeric offset); `None` when it is not one.
pub fn parse_time(text: &str) -> Option<std::time::SystemTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut nanos = 0u32;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded: String = fraction[..digits].chars().chain(std::iter::repeat('0')).take(9).collect();
        nanos = padded.parse().ok()?;
        rest = &fraction[digits..];
    }
    let offset_seconds = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let magnitude = rest[1..3].parse::<i64>().ok()? * 3600 + rest[4..6].parse::<i64>().ok()? * 60;
            if rest.starts_with('-') { -magnitude } else { magnitude }
        }
        _ => return None,
    };
    let seconds =
        days_from_civil(year, month as u32, day as u32) * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    let seconds = u64::try_from(seconds).ok()?;
    Some(std::time::UNIX_EPOCH + std::time::Duration::new(seconds, nanos))
}

/// (year, month, day) to days since 1970-01-01, the inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = i64::from(if month > 2 { month - 3 } else { month + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn times_are_rfc3339_utc_with_second_precision() {
        assert_eq!(format_time(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(UNIX_EPOCH + Duration::from_millis(1_704_164_645_900)), "2024-01-02T03:04:05Z");
        assert_eq!(format_time(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn parse_time_reads_what_format_time_writes_and_offsets() {
        for seconds in [0u64, 951_782_400, 1_704_164_645, 4_102_444_800] {
            let time = UNIX_EPOCH + Duration::from_secs(seconds);
            assert_eq!(parse_time(&format_time(time)), Some(time));
        }
        assert_eq!(
            parse_time("2024-01-02T04:04:05.5+01:00"),
            Some(UNIX_EPOCH + Duration::from_millis(1_704_164_645_500))
        );
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2024-13-02T03:04:05Z"), None);
    }

    #[test]
    fn metadata_helpers_tolerate_malformed_objects() {
        let mut weird = serde_json::json!({"metadata": 5});
        assert_eq!(name(&weird), "");
        assert!(finalizers(&weird).is_empty());
        metadata_mut(&mut weird).insert("name".into(), "x".into());
        assert_eq!(name(&weird), "x");
        let mut not_an_object = serde_json::json!([1]);
        assert_eq!(&stamp_revision(&mut not_an_object, 7)[..], br#"{"metadata":{"resourceVersion":"7"}}"#);
    }
}
