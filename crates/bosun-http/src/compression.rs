//! gzip for large responses, as kube-apiserver does: a client that sends `Accept-Encoding: gzip`
//! (kubectl and client-go always do) gets responses of 128 KiB or more compressed. Watch streams
//! and small responses are sent as they are: compressing them costs more than it saves.

use std::io::Write;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, header};
use http_body_util::BodyExt;

/// Responses at least this large are compressed (upstream's threshold).
pub const GZIP_THRESHOLD_BYTES: u64 = 128 * 1024;

fn accepts_gzip(request: &Request) -> bool {
    request
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| coding.split(';').next().is_some_and(|c| c.trim().eq_ignore_ascii_case("gzip")))
}

/// axum middleware: gzips large, complete responses for clients that accept it.
pub async fn gzip_large_responses(request: Request, next: Next) -> Response {
    let wanted = accepts_gzip(&request);
    let response = next.run(request).await;
    if !wanted || response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    // Only bodies whose size is known: a streaming watch has none and passes through.
    let large = http_body::Body::size_hint(response.body()).exact().is_some_and(|n| n >= GZIP_THRESHOLD_BYTES);
    if !large {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(collected) = body.collect().await else {
        return Response::from_parts(parts, Body::empty());
    };
    let bytes = collected.to_bytes();
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 4), flate2::Compression::fast());
    let compressed = encoder.write_all(&bytes).and_then(|()| encoder.finish());
    match compressed {
        Ok(compressed) => {
            parts.headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
            Response::from_parts(parts, Body::from(compressed))
        }
        Err(_) => Response::from_parts(parts, Body::from(bytes)),
    }
}
