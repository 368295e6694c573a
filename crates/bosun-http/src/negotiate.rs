//! Content negotiation: which representation a client asked for (`Accept`), and what its body is
//! (`Content-Type`).
//!
//! `Accept` lists media types in preference order; the first one Bosun can produce wins. Tables
//! and partial object metadata are JSON with `as`, `g` and `v` parameters. Nothing acceptable is a
//! 406, except that a Table request is never refused (kubectl always lists plain JSON after it).

use bosun_api::status::Status;
use bosun_api::table::IncludeObject;

/// The media types Bosun produces, for 406 messages.
pub const SUPPORTED: &str = "application/json, application/yaml";

/// The representation of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Plain JSON.
    Json,
    /// YAML.
    Yaml,
    /// `meta.k8s.io/v1` Table.
    Table,
    /// `PartialObjectMetadata` (an item) or `PartialObjectMetadataList` (a list).
    PartialMetadata,
}

/// One entry of an `Accept` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType<'a> {
    /// e.g. `application/json`.
    pub essence: &'a str,
    params: Vec<(&'a str, &'a str)>,
}

impl<'a> MediaType<'a> {
    /// Parses `type/subtype;k=v;...`.
    pub fn parse(text: &'a str) -> Self {
        let mut parts = text.split(';').map(str::trim);
        let essence = parts.next().unwrap_or("");
        let params =
            parts.filter_map(|p| p.split_once('=')).map(|(k, v)| (k.trim(), v.trim().trim_matches('"'))).collect();
        MediaType { essence, params }
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&'a str> {
        self.params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }
}

/// Chooses the response representation. `list` says whether the response is a list.
pub fn negotiate(accept: Option<&str>, list: bool) -> Result<Output, Status> {
    let accept = accept.unwrap_or("").trim();
    if accept.is_empty() {
        return Ok(Output::Json);
    }
    for entry in accept.split(',') {
        let media = MediaType::parse(entry);
        let json_like = matches!(media.essence, "application/json" | "*/*" | "application/*");
        match (media.essence, media.param("as")) {
            ("application/yaml", None) => return Ok(Output::Yaml),
            (_, None) if json_like => return Ok(Output::Json),
            ("application/json", Some(kind)) => {
                let meta_group =
                    media.param("g") == Some("meta.k8s.io") && matches!(media.param("v"), Some("v1") | Some("v1beta1"));
                if !meta_group {
                    continue;
                }
                match kind {
                    "Table" => return Ok(Output::Table),
                    "PartialObjectMetadata" if !list => return Ok(Output::PartialMetadata),
                    "PartialObjectMetadataList" if list => return Ok(Output::PartialMetadata),
                    _ => continue,
                }
            }
            _ => continue,
        }
    }
    Err(Status::not_acceptable(SUPPORTED))
}

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// JSON (also the default when no Content-Type is given).
    Json,
    /// YAML.
    Yaml,
}

/// The body format of a non-patch request.
pub fn body_format(content_type: Option<&str>) -> Result<BodyFormat, Status> {
    let essence = MediaType::parse(content_type.unwrap_or("")).essence.to_ascii_lowercase();
    match essence.as_str() {
        "" | "application/json" | "*/*" => Ok(BodyFormat::Json),
        "application/yaml" | "application/x-yaml" | "text/yaml" => Ok(BodyFormat::Yaml),
        _ => Err(Status::unsupported_media_type(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml",
        )),
    }
}

/// `includeObject` for Table responses; an unknown value is a 400 with upstream's message.
pub fn include_object(value: Option<&str>) -> Result<IncludeObject, Status> {
    IncludeObject::from_query(value).map_err(|e| Status::bad_request(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECTL_TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

    #[test]
    fn kubectl_get_gets_a_table() {
        assert_eq!(negotiate(Some(KUBECTL_TABLE), true).unwrap(), Output::Table);
    }

    #[test]
    fn plain_and_wildcard_accepts_get_json() {
        assert_eq!(negotiate(None, false).unwrap(), Output::Json);
        assert_eq!(negotiate(Some("*/*"), false).unwrap(), Output::Json);
        assert_eq!(negotiate(Some("application/json, */*"), true).unwrap(), Output::Json);
    }

    #[test]
    fn partial_metadata_follows_the_list_or_item_form() {
        let item = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
        let list = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
        assert_eq!(negotiate(Some(item), false).unwrap(), Output::PartialMetadata);
        assert_eq!(negotiate(Some(list), true).unwrap(), Output::PartialMetadata);
        assert_eq!(negotiate(Some(item), true).unwrap_err().code, 406);
    }

    #[test]
    fn only_unsupported_types_get_406() {
        let status = negotiate(Some("application/vnd.kubernetes.protobuf"), false).unwrap_err();
        assert_eq!((status.code, status.reason.as_str()), (406, "NotAcceptable"));
        assert_eq!(
            negotiate(Some("application/vnd.kubernetes.protobuf, application/json"), false).unwrap(),
            Output::Json
        );
    }

    #[test]
    fn unknown_body_types_are_415() {
        assert_eq!(body_format(Some("application/json; charset=utf-8")).unwrap(), BodyFormat::Json);
        assert_eq!(body_format(Some("text/plain")).unwrap_err().code, 415);
    }
}
