//! Watch fan-out through Bosun's HTTP API: the same writer and checks as the store workloads,
//! but every watcher is a real HTTP/1.1 client on loopback reading a chunked watch stream
//! (`GET /api/v1/pods?watch=true&resourceVersion=R`), and every write is a create through the
//! API semantics (validation, defaulting, managedFields), as a client's would be.
//!
//! The watchers read each event's `resourceVersion` with a byte search rather than a full JSON
//! decode: the figure is the server's delivery rate, not a client library's parsing.

use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;

use bosun_api::api::{Api, WriteOptions};
use bosun_api::registry::{self, ResourceType};
use bosun_http::{HttpConfig, ShutdownHandle};
use bosun_store::Durability;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::BenchResult;
use crate::check::{RevisionStream, StreamCheck, WatcherReport, spawn_follower};
use crate::drive::{Creator, FanoutPoint, WatchedStore, fanout_point};
use crate::on_store::ScratchStore;
use crate::pods::{PodObject, pod_objects};

/// Namespaces the Pods of [`crate::pods`] are spread over (`default` exists from the start).
const NAMESPACES: [&str; 3] = ["shop", "payments", "monitoring"];

/// A Bosun serving its HTTP API on a loopback port, over a scratch store.
#[derive(Clone)]
pub struct HttpPods {
    inner: Arc<Served>,
}

struct Served {
    api: Api,
    address: SocketAddr,
    shutdown: ShutdownHandle,
    pods: &'static ResourceType,
    _scratch: ScratchStore,
}

impl HttpPods {
    /// Starts a server on a fresh store with durable writes.
    pub async fn start() -> BenchResult<HttpPods> {
        let scratch = ScratchStore::open(None, Durability::Immediate)?;
        let api = Api::new(scratch.store.clone());
        api.bootstrap(0).await.map_err(|s| s.message)?;
        let namespaces = registry::find("", "v1", "namespaces").expect("registered");
        for name in NAMESPACES {
            let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
            api.create(namespaces, "", namespace, &WriteOptions::default()).await.map_err(|s| s.message)?;
        }
        let (router, shutdown) = bosun_http::router(api.clone(), HttpConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let pods = registry::find("", "v1", "pods").expect("registered");
        Ok(HttpPods { inner: Arc::new(Served { api, address, shutdown, pods, _scratch: scratch }) })
    }

    /// Ends the watches and closes the store.
    pub fn stop(&self) -> BenchResult<()> {
        self.inner.shutdown.shutdown();
        Ok(self.inner.api.store().close()?)
    }
}

impl Creator for HttpPods {
    async fn create(&self, pod: PodObject) -> BenchResult<u64> {
        let mut manifest: Value = serde_json::from_slice(&pod.manifest)?;
        // The API server assigns these.
        if let Some(metadata) = manifest.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.remove("uid");
            metadata.remove("resourceVersion");
        }
        let namespace = pod.key.namespace.clone();
        let created = self
            .inner
            .api
            .create(self.inner.pods, &namespace, manifest, &WriteOptions::default())
            .await
            .map_err(|s| s.message)?;
        let revision = bosun_api::meta::resource_version(&created).parse()?;
        Ok(revision)
    }
}

impl WatchedStore for HttpPods {
    async fn revision(&self) -> BenchResult<u64> {
        Ok(self.inner.api.store().current_revision().await?)
    }

    async fn spawn_watchers(
        &self,
        count: usize,
        after_revision: u64,
        expected: Range<u64>,
        record_arrivals: bool,
    ) -> BenchResult<mpsc::UnboundedReceiver<WatcherReport>> {
        let (reports, receiver) = mpsc::unbounded_channel();
        for _ in 0..count {
            let stream = HttpWatch::open(self.inner.address, after_revision).await?;
            spawn_follower(stream, StreamCheck::new(expected.clone(), record_arrivals), &reports);
        }
        Ok(receiver)
    }

    fn stop_watchers(&self) -> BenchResult<()> {
        self.inner.shutdown.shutdown();
        Ok(())
    }
}

/// One watch connection: the socket and what was read but not yet taken apart.
struct HttpWatch {
    socket: TcpStream,
    /// Bytes of the chunked body not yet decoded.
    raw: Vec<u8>,
    /// Decoded body bytes not yet ending in a newline.
    line: Vec<u8>,
}

impl HttpWatch {
    /// Connects and sends the request; returns once the response's headers arrived, so that the
    /// watch is registered on the server before any write.
    async fn open(address: SocketAddr, after_revision: u64) -> BenchResult<HttpWatch> {
        let mut socket = TcpStream::connect(address).await?;
        socket.set_nodelay(true)?;
        let request = format!(
            "GET /api/v1/pods?watch=true&resourceVersion={after_revision} HTTP/1.1\r\nHost: {address}\r\n\
             Accept: application/json\r\n\r\n"
        );
        socket.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        let mut buffer = [0u8; 4096];
        let end = loop {
            if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            let read = socket.read(&mut buffer).await?;
            if read == 0 {
                return Err("the server closed the watch before answering".into());
            }
            raw.extend_from_slice(&buffer[..read]);
        };
        let head = String::from_utf8_lossy(&raw[..end]).to_string();
        if !head.starts_with("HTTP/1.1 200") || !head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            return Err(format!("the watch was not answered as a chunked stream: {head}").into());
        }
        let raw = raw[end + 4..].to_vec();
        Ok(HttpWatch { socket, raw, line: Vec::new() })
    }

    /// Moves every complete chunk of `raw` into `line`; returns false at the last chunk.
    fn decode_chunks(&mut self) -> Result<bool, String> {
        let mut pos = 0;
        let more = loop {
            let rest = &self.raw[pos..];
            let Some(size_end) = rest.windows(2).position(|w| w == b"\r\n") else { break true };
            let size_text = String::from_utf8_lossy(&rest[..size_end]).to_string();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("a bad chunk size {size_text:?}"))?;
            if size == 0 {
                break false;
            }
            let data_start = size_end + 2;
            if rest.len() < data_start + size + 2 {
                break true; // the rest of the chunk is still on its way
            }
            self.line.extend_from_slice(&rest[data_start..data_start + size]);
            pos += data_start + size + 2;
        };
        // One move for everything decoded, not one per chunk.
        self.raw.drain(..pos);
        Ok(more)
    }
}

/// The `resourceVersion` of the object in one watch event line.
fn event_revision(line: &[u8]) -> Option<u64> {
    const KEY: &str = "\"resourceVersion\":\"";
    let text = std::str::from_utf8(line).ok()?;
    let start = text.find(KEY)? + KEY.len();
    let digits = text[start..].bytes().take_while(u8::is_ascii_digit).count();
    text[start..start + digits].parse().ok()
}

impl RevisionStream for HttpWatch {
    async fn next_into(&mut self, check: &mut StreamCheck) -> Option<Result<(), String>> {
        // Read straight onto the undecoded bytes: no buffer to allocate or clear per read.
        self.raw.reserve(64 * 1024);
        match self.socket.read_buf(&mut self.raw).await {
            Ok(0) => return None,
            Ok(_) => {}
            Err(error) => return Some(Err(error.to_string())),
        }
        let more = match self.decode_chunks() {
            Ok(more) => more,
            Err(error) => return Some(Err(error)),
        };
        while let Some(end) = self.line.iter().position(|b| *b == b'\n') {
            let event: Vec<u8> = self.line.drain(..=end).collect();
            if event.starts_with(b"{\"type\":\"ADDED\"") {
                match event_revision(&event) {
                    Some(revision) => check.record(revision),
                    None => return Some(Err("an event without a resourceVersion".into())),
                }
            }
        }
        if more { Some(Ok(())) } else { None }
    }
}

/// One fan-out point through HTTP: `watchers` HTTP watchers follow one writer creating `events`
/// Pods through the API, on a server of its own.
pub async fn fanout(watchers: usize, events: usize) -> BenchResult<FanoutPoint> {
    let server = HttpPods::start().await?;
    let point = fanout_point(&server, watchers, pod_objects(0..events)).await?;
    server.stop()?;
    Ok(point)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revision_is_read_from_an_event_line() {
        let line = br#"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1234"}}}"#;
        assert_eq!(event_revision(line), Some(1234));
        assert_eq!(event_revision(b"{}"), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_http_watcher_gets_every_event_in_order() {
        let point = fanout(3, 20).await.expect("a fan-out point over HTTP");
        assert_eq!(point.integrity.delivered, 60);
        assert_eq!((point.integrity.lost, point.integrity.reordered), (0, 0));
    }
}
