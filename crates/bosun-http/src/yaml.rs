//! YAML bodies and responses (`application/yaml`), through serde-saphyr.

use bosun_api::status::Status;
use serde_json::Value;

/// Decodes a YAML document into JSON. A key repeated in a mapping keeps its last value, as
/// upstream's (non-strict) decoder does; `fieldValidation` decides whether that is reported.
pub fn from_slice(body: &[u8]) -> Result<Value, Status> {
    let text = std::str::from_utf8(body).map_err(|_| Status::bad_request("the YAML body is not UTF-8"))?;
    let options = serde_saphyr::options! { duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::LastWins };
    serde_saphyr::from_str_with_options::<Value>(text, options)
        .map_err(|e| Status::bad_request(format!("the body of the request could not be decoded as YAML: {e}")))
}

/// Encodes JSON as YAML.
pub fn to_string(value: &Value) -> String {
    serde_saphyr::to_string(value).unwrap_or_else(|e| format!("# could not encode as YAML: {e}\n"))
}
