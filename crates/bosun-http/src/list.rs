//! GET on a collection.

use bosun_api::api::{Api, ObjectList};
use bosun_api::options;
use bosun_api::registry::ResourceType;
use bosun_api::status::Status;

use crate::service::Query;

/// Lists with the request's selectors, paging and resourceVersion rules.
pub async fn list(api: &Api, rt: &ResourceType, namespace: Option<&str>, query: &Query) -> Result<ObjectList, Status> {
    let lookup = |key: &str| query.get(key).map(String::as_str);
    let filter = options::filter(rt, &lookup)?;
    let params = options::list_params(&lookup, filter.is_some())?;
    api.list(rt, namespace, &params, &|object| filter.as_ref().is_none_or(|f| f(object))).await
}
