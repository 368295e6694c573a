//! Bearer-token authentication. Health checks and `/version` are readable anonymously, as on a
//! real cluster; everything else needs a known token or gets a 401 Status.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use bosun_api::status::Status;
use http::header;

/// The tokens the server accepts.
#[derive(Debug, Clone, Default)]
pub struct Tokens(Arc<HashSet<String>>);

impl Tokens {
    /// A set of tokens.
    pub fn new(tokens: impl IntoIterator<Item = String>) -> Self {
        Tokens(Arc::new(tokens.into_iter().filter(|t| !t.is_empty()).collect()))
    }

    /// Reads a tokens file in kube-apiserver's static-token format (`token,user,uid[,"groups"]`,
    /// one per line; `#` starts a comment).
    pub fn read_file(path: &Path) -> std::io::Result<Vec<String>> {
        let text = std::fs::read_to_string(path)?;
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .filter_map(|line| line.split(',').next())
            .map(|token| token.trim().to_string())
            .collect())
    }

    /// Whether `token` is accepted.
    pub fn accepts(&self, token: &str) -> bool {
        self.0.contains(token)
    }
}

fn anonymous_allowed(path: &str) -> bool {
    matches!(path, "/healthz" | "/livez" | "/readyz" | "/version")
        || ["/healthz/", "/livez/", "/readyz/"].iter().any(|p| path.starts_with(p))
}

/// axum middleware: rejects requests without a valid bearer token.
pub async fn require_token(State(tokens): State<Tokens>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let allowed = presented.is_some_and(|token| tokens.accepts(token)) || anonymous_allowed(request.uri().path());
    if allowed { next.run(request).await } else { crate::respond::status(&Status::unauthorized()) }
}
