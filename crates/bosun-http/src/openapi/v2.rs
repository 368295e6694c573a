//! OpenAPI v2 (Swagger 2.0) in JSON, converted from the v3 documents: one document for every
//! served group-version, `definitions` from the v3 `components.schemas`, each operation's
//! parameters, body and responses in v2's shape, the `x-kubernetes-*` extensions kept.
//!
//! kubectl asks for v2 only in protobuf and only when v3 is unusable; Bosun does not speak
//! protobuf OpenAPI, so such a request gets 406 and kubectl's behaviour is unchanged. Clients that
//! read v2 as JSON (older generators, swagger tooling) get this document.

use serde_json::{Map, Value, json};

/// Builds the v2 document from the v3 documents of every group-version.
pub fn document(v3_documents: impl Iterator<Item = Value>) -> Value {
    let mut definitions = Map::new();
    let mut paths = Map::new();
    for v3 in v3_documents {
        // References move from `#/components/schemas/` to `#/definitions/`.
        let text = v3.to_string().replace("\"#/components/schemas/", "\"#/definitions/");
        let v3: Value = serde_json::from_str(&text).expect("a re-serialized document is JSON");
        if let Some(schemas) = v3.pointer("/components/schemas").and_then(Value::as_object) {
            for (name, schema) in schemas {
                definitions.entry(name.clone()).or_insert_with(|| schema.clone());
            }
        }
        if let Some(v3_paths) = v3.get("paths").and_then(Value::as_object) {
            for (path, item) in v3_paths {
                paths.insert(path.clone(), path_item(item));
            }
        }
    }
    json!({
        "swagger": "2.0",
        "info": {
            "title": "Bosun",
            "version": format!("v{}.{}", crate::endpoints::KUBERNETES_MAJOR, crate::endpoints::KUBERNETES_MINOR),
        },
        "paths": paths,
        "definitions": definitions,
    })
}

fn path_item(item: &Value) -> Value {
    let Some(operations) = item.as_object() else { return item.clone() };
    let converted: Map<String, Value> =
        operations.iter().map(|(method, operation)| (method.clone(), operation_v2(operation))).collect();
    Value::Object(converted)
}

/// The schema of a v3 `content` map (the first media type's).
fn content_schema(content: Option<&Value>) -> Option<Value> {
    content.and_then(Value::as_object).and_then(|c| c.values().next()).and_then(|m| m.get("schema")).cloned()
}

fn operation_v2(operation: &Value) -> Value {
    let Some(fields) = operation.as_object() else { return operation.clone() };
    let mut out = Map::new();
    let mut parameters = Vec::new();
    for (key, value) in fields {
        match key.as_str() {
            "parameters" => {
                for parameter in value.as_array().into_iter().flatten() {
                    let mut v2 = parameter.as_object().cloned().unwrap_or_default();
                    // v2 puts a simple parameter's type beside its name instead of in `schema`.
                    if let Some(Value::Object(schema)) = v2.remove("schema") {
                        v2.extend(schema);
                    }
                    parameters.push(Value::Object(v2));
                }
            }
            "requestBody" => {
                if let Some(schema) = content_schema(value.get("content")) {
                    parameters.push(json!({"name": "body", "in": "body", "required": true, "schema": schema}));
                }
                let consumes: Vec<Value> = value
                    .get("content")
                    .and_then(Value::as_object)
                    .map(|c| c.keys().cloned().map(Value::String).collect())
                    .unwrap_or_default();
                out.insert("consumes".into(), Value::Array(consumes));
            }
            "responses" => {
                let responses: Map<String, Value> = value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(code, response)| {
                        let mut v2 = json!({"description": response.get("description").cloned().unwrap_or_default()});
                        if let Some(schema) = content_schema(response.get("content")) {
                            v2["schema"] = schema;
                        }
                        (code.clone(), v2)
                    })
                    .collect();
                out.insert("responses".into(), Value::Object(responses));
                out.insert("produces".into(), json!(["application/json", "application/yaml"]));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if !parameters.is_empty() {
        out.insert("parameters".into(), Value::Array(parameters));
    }
    Value::Object(out)
}
