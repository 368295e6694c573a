//! The store on etcd: the same [`Storage`] interface as the embedded store, so that several Bosun
//! API servers can share one etcd cluster. Built only with the `etcd` feature (gRPC, and
//! `protoc` at build time).
//!
//! # Mapping
//!
//! - **Keys**: a configurable prefix (default `/bosun/`) followed by the encoded [`ObjectKey`], so
//!   that a [`crate::KeyPrefix`] is an etcd prefix range.
//! - **Values**: a small envelope (format, flags, uid) before the object's bytes; etcd keeps
//!   create and mod revisions itself.
//! - **Revisions are etcd's**: a write's revision is the header revision of its transaction,
//!   watch resume and compaction are etcd's (`compact` is etcd's compaction; a watch below it is
//!   `Expired` with etcd's compact revision).
//! - **Preconditions** are transaction compares on the key's mod revision: a create puts only if
//!   the key has no create revision, an update or delete only if the mod revision it read (or was
//!   given) still holds.
//! - **Values that carry their revision** ([`NewValue::stamped`]): etcd assigns the revision at
//!   commit, after the value is sent, so such values are stored rendered at revision 0 and flagged;
//!   every read passes them through the store's [`Restamp`] with the revision etcd reports (as
//!   kube-apiserver's versioner sets `resourceVersion` on what it reads).

mod local;

pub use local::{LocalEtcd, LocalPki, ServerTls};

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use etcd_client::{
    Client, CompactionOptions, Compare, CompareOp, ConnectOptions, EventType, GetOptions, KeyValue, KvClient, Txn,
    TxnOp, WatchClient, WatchOptions, WatchResponse, WatchStream,
};
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::event::{Event, EventKind, Versioned, WatchItem};
use crate::key::ObjectKey;
use crate::storage::{ListFilter, Storage, StoreFuture};
use crate::store::{LastState, ListPage, ListRequest, NewValue, PageCollector, Preconditions, list_start};
use crate::watch::{EventFilter, RemoteWatch, Watch, WatchRequest};

/// Writes a revision into a stored value that carries its own (Kubernetes: sets
/// `metadata.resourceVersion`). Must agree with the values' [`NewValue::stamped`] renderers.
pub type Restamp = Arc<dyn Fn(&Bytes, u64) -> Bytes + Send + Sync>;

/// Where the etcd store's data lives and how it behaves.
#[derive(Clone)]
pub struct EtcdOptions {
    /// Client URLs of the etcd cluster, e.g. `http://127.0.0.1:2379`.
    pub endpoints: Vec<String>,
    /// Every key goes under this prefix, so that one etcd can hold other data (or several
    /// Bosun clusters, each with its own prefix). Default: `/bosun/`.
    pub prefix: String,
    /// Renders the revision into stamped values on every read.
    pub restamp: Restamp,
    /// Concurrent watchers allowed; more get `TooManyWatchers`. Default: 100 000.
    pub watchers_max: usize,
    /// Keys read per range request while listing (etcd's answers stay small). Default: 500.
    pub range_batch: usize,
    /// TLS to etcd (`https://` endpoints); `None` for plain `http://`.
    pub tls: Option<EtcdTls>,
}

/// TLS to etcd, as kube-apiserver's `--etcd-cafile`, `--etcd-certfile` and `--etcd-keyfile`.
#[derive(Clone)]
pub struct EtcdTls {
    /// PEM of the CA that signed etcd's serving certificate.
    pub ca_pem: Vec<u8>,
    /// PEM of this client's certificate and key, for an etcd that checks client certificates.
    pub client_identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl EtcdTls {
    /// Reads the PEM files: the CA, and the client certificate and key when both are given.
    pub fn from_files(
        ca: &std::path::Path,
        client_cert_and_key: Option<(&std::path::Path, &std::path::Path)>,
    ) -> Result<EtcdTls> {
        let read = |path: &std::path::Path| {
            std::fs::read(path)
                .map_err(|error| StoreError::Backend(format!("could not read {}: {error}", path.display()).into()))
        };
        let client_identity = match client_cert_and_key {
            Some((cert, key)) => Some((read(cert)?, read(key)?)),
            None => None,
        };
        Ok(EtcdTls { ca_pem: read(ca)?, client_identity })
    }
}

impl EtcdOptions {
    /// Options for the etcd at `endpoints`, restamping with `restamp`.
    pub fn new(endpoints: Vec<String>, restamp: Restamp) -> Self {
        EtcdOptions { endpoints, prefix: "/bosun/".into(), restamp, watchers_max: 100_000, range_batch: 500, tls: None }
    }

    /// Refuses what retrying cannot mend: no endpoint, an endpoint that is not an `http://` or
    /// `https://` URL, or `https://` without TLS settings.
    pub fn check(&self) -> Result<()> {
        let refuse = |message: String| Err(StoreError::Backend(message.into()));
        if self.endpoints.is_empty() {
            return refuse("no etcd endpoint given".into());
        }
        for endpoint in &self.endpoints {
            let secure = endpoint.starts_with("https://");
            if !secure && !endpoint.starts_with("http://") {
                return refuse(format!(
                    "etcd endpoint {endpoint:?} is not a URL: write http://host:port or https://host:port"
                ));
            }
            if secure && self.tls.is_none() {
                return refuse(format!("etcd endpoint {endpoint} is https:// but no CA was given (--etcd-cafile)"));
            }
        }
        Ok(())
    }
}

/// Largest gRPC message accepted: a range of many large objects (tonic's default is 4 MiB).
const MAX_MESSAGE: usize = 256 << 20;
/// The envelope's format byte; anything else under the prefix is refused as corrupt.
const FORMAT: u8 = 1;
/// Flag: the value carries its revision, restamp it on read.
const STAMPED: u8 = 1;
const ENVELOPE_LEN: usize = 2 + 16;

/// A store on etcd. Cheap to clone: clones share the connection, the watcher count and the
/// closed state.
#[derive(Clone)]
pub struct EtcdStore {
    kv: KvClient,
    watch_client: WatchClient,
    prefix: Arc<[u8]>,
    restamp: Restamp,
    watchers: Arc<AtomicUsize>,
    watchers_max: usize,
    range_batch: i64,
    closed: Arc<watch::Sender<bool>>,
}

impl EtcdStore {
    /// Connects to etcd and checks that it answers.
    pub async fn connect(options: EtcdOptions) -> Result<EtcdStore> {
        options.check()?;
        let mut connect = ConnectOptions::new().with_connect_timeout(Duration::from_secs(5));
        if let Some(tls) = &options.tls {
            // Only the given CA is trusted: no system or webpki roots.
            let mut config =
                etcd_client::TlsOptions::new().ca_certificate(etcd_client::Certificate::from_pem(&tls.ca_pem));
            if let Some((cert, key)) = &tls.client_identity {
                config = config.identity(etcd_client::Identity::from_pem(cert, key));
            }
            connect = connect.with_tls(config);
        }
        let client = Client::connect(&options.endpoints, Some(connect)).await.map_err(|error| {
            StoreError::Backend(format!("could not connect to etcd at {}: {error}", options.endpoints.join(",")).into())
        })?;
        let store = EtcdStore {
            kv: client.kv_client().max_decoding_message_size(MAX_MESSAGE),
            watch_client: client.watch_client().max_decoding_message_size(MAX_MESSAGE),
            prefix: options.prefix.as_bytes().into(),
            restamp: options.restamp,
            watchers: Arc::new(AtomicUsize::new(0)),
            watchers_max: options.watchers_max,
            range_batch: options.range_batch.max(1) as i64,
            closed: Arc::new(watch::channel(false).0),
        };
        store.current_revision_now().await?;
        Ok(store)
    }

    fn etcd_key(&self, encoded: &[u8]) -> Vec<u8> {
        [&self.prefix[..], encoded].concat()
    }

    fn check_open(&self) -> Result<()> {
        if *self.closed.borrow() { Err(StoreError::Closed) } else { Ok(()) }
    }

    /// The newest revision, read with a linearizable range.
    async fn current_revision_now(&self) -> Result<u64> {
        self.check_open()?;
        let options = GetOptions::new().with_count_only();
        let response = self.kv.clone().get(&self.prefix[..], Some(options)).await.map_err(|e| self.failure(e))?;
        Ok(header_revision(response.header()))
    }

    /// Whether etcd still has the snapshot at `revision` (it is not below the compaction point).
    async fn readable_at(&self, revision: u64) -> Result<bool> {
        let options = GetOptions::new().with_count_only().with_revision(revision as i64);
        match self.kv.clone().get(&self.prefix[..], Some(options)).await {
            Ok(_) => Ok(true),
            Err(error) if is_compacted(&error) => Ok(false),
            Err(error) => Err(self.failure(error)),
        }
    }

    /// etcd's compaction point, known to be above `compacted`: etcd reports it to no client
    /// call but a watch (asynchronously), so it is found by bisecting snapshot reads. Asked only
    /// on the paths that report `Expired`.
    async fn oldest_revision_above(&self, compacted: u64) -> Result<u64> {
        let (mut low, mut high) = (compacted + 1, self.current_revision_now().await?);
        while low < high {
            let middle = low + (high - low) / 2;
            if self.readable_at(middle).await? {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        Ok(high)
    }

    /// `Expired` when events after `revision` may be gone (it is below the compaction point).
    async fn check_not_compacted(&self, revision: u64) -> Result<()> {
        // etcd's history starts at revision 1 (its empty state).
        if self.readable_at(revision.max(1)).await? {
            return Ok(());
        }
        Err(StoreError::Expired { requested: revision, oldest: self.oldest_revision_above(revision).await? })
    }

    /// Maps an etcd error, telling compaction and future revisions apart.
    fn failure(&self, error: etcd_client::Error) -> StoreError {
        if *self.closed.borrow() {
            return StoreError::Closed;
        }
        StoreError::Backend(Box::new(error))
    }

    /// Maps the error of a read at `revision`.
    async fn read_failure(&self, error: etcd_client::Error, revision: u64) -> StoreError {
        if is_compacted(&error) {
            return match self.oldest_revision_above(revision).await {
                Ok(oldest) => StoreError::Expired { requested: revision, oldest },
                Err(other) => other,
            };
        }
        if error.to_string().contains("required revision is a future revision") {
            return match self.current_revision_now().await {
                Ok(current) => StoreError::FutureRevision { requested: revision, current },
                Err(other) => other,
            };
        }
        self.failure(error)
    }

    /// Decodes one stored key-value: its object key, uid and the value as readers see it.
    fn decode(&self, kv: &KeyValue) -> Result<Versioned> {
        let (uid, value) = self.open_envelope(kv.value(), kv.mod_revision() as u64)?;
        Ok(Versioned {
            key: Bytes::copy_from_slice(self.object_key(kv.key())?),
            value,
            uid,
            create_revision: kv.create_revision() as u64,
            mod_revision: kv.mod_revision() as u64,
        })
    }

    fn object_key<'k>(&self, etcd_key: &'k [u8]) -> Result<&'k [u8]> {
        etcd_key.strip_prefix(&self.prefix[..]).ok_or_else(|| {
            StoreError::Corrupt(format!("etcd key {:?} is outside the prefix", String::from_utf8_lossy(etcd_key)))
        })
    }

    /// The uid and the value of an envelope, restamped at `revision` when it carries one.
    fn open_envelope(&self, stored: &[u8], revision: u64) -> Result<(Uuid, Bytes)> {
        let uid = envelope_uid(stored)?;
        let value = Bytes::copy_from_slice(&stored[ENVELOPE_LEN..]);
        let value = if stored[1] & STAMPED != 0 { (self.restamp)(&value, revision) } else { value };
        Ok((uid, value))
    }

    /// The newest live version of a key, with its raw envelope.
    async fn read_latest(&self, etcd_key: &[u8]) -> Result<Option<KeyValue>> {
        self.check_open()?;
        let mut response = self.kv.clone().get(etcd_key, None).await.map_err(|e| self.failure(e))?;
        Ok(response.take_kvs().into_iter().next())
    }

    /// Runs a transaction; `Ok(None)` when its compare failed.
    async fn commit(&self, txn: Txn) -> Result<Option<u64>> {
        self.check_open()?;
        let response = self.kv.clone().txn(txn).await.map_err(|e| self.failure(e))?;
        Ok(response.succeeded().then(|| header_revision(response.header())))
    }

    fn reader_value(&self, envelope: &[u8], stamped: bool, revision: u64) -> Bytes {
        let value = Bytes::copy_from_slice(&envelope[ENVELOPE_LEN..]);
        if stamped { (self.restamp)(&value, revision) } else { value }
    }

    async fn create_impl(&self, key: &ObjectKey, uid: Uuid, value: NewValue<'_>) -> Result<Versioned> {
        let encoded = key.encode()?;
        let etcd_key = self.etcd_key(&encoded);
        let (envelope, stamped) = seal(uid, value);
        let txn = Txn::new()
            .when([Compare::create_revision(etcd_key.as_slice(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(etcd_key.as_slice(), envelope.clone(), None)]);
        let revision = self.commit(txn).await?.ok_or(StoreError::AlreadyExists)?;
        Ok(Versioned {
            key: encoded.into(),
            value: self.reader_value(&envelope, stamped, revision),
            uid,
            create_revision: revision,
            mod_revision: revision,
        })
    }

    async fn update_impl(&self, key: &ObjectKey, expected: Option<u64>, value: NewValue<'_>) -> Result<Versioned> {
        let etcd_key = self.etcd_key(&key.encode()?);
        // Rendered once: a retry after a lost race sends the same bytes.
        let (envelope, stamped) = seal(Uuid::nil(), value);
        loop {
            let read = self.read_latest(&etcd_key).await?.ok_or(StoreError::NotFound)?;
            if let Some(expected) = expected.filter(|expected| *expected != read.mod_revision() as u64) {
                return Err(conflict("mod revision", expected, read.mod_revision()));
            }
            // Without a precondition, a write that raced this one only calls for a fresh read;
            // with one, the next read reports the conflict.
            if let Some(written) = self.replace(&etcd_key, &read, envelope.clone(), stamped).await? {
                return Ok(written);
            }
        }
    }

    /// Replaces a live key's value if its mod revision is still the one `read` saw; keeps its uid.
    async fn replace(
        &self,
        etcd_key: &[u8],
        read: &KeyValue,
        mut envelope: Vec<u8>,
        stamped: bool,
    ) -> Result<Option<Versioned>> {
        let uid = envelope_uid(read.value())?;
        envelope[2..ENVELOPE_LEN].copy_from_slice(uid.as_bytes());
        let txn = Txn::new()
            .when([Compare::mod_revision(etcd_key, CompareOp::Equal, read.mod_revision())])
            .and_then([TxnOp::put(etcd_key, envelope.clone(), None)]);
        let Some(revision) = self.commit(txn).await? else {
            return Ok(None);
        };
        Ok(Some(Versioned {
            key: Bytes::copy_from_slice(self.object_key(etcd_key)?),
            value: self.reader_value(&envelope, stamped, revision),
            uid,
            create_revision: read.create_revision() as u64,
            mod_revision: revision,
        }))
    }

    async fn delete_impl(
        &self,
        key: &ObjectKey,
        preconditions: Preconditions,
        last_state: LastState<'_>,
    ) -> Result<Versioned> {
        let etcd_key = self.etcd_key(&key.encode()?);
        loop {
            let read = self.read_latest(&etcd_key).await?.ok_or(StoreError::NotFound)?;
            let current = self.decode(&read)?;
            if let Some(uid) = preconditions.uid.filter(|uid| *uid != current.uid) {
                return Err(StoreError::Conflict {
                    what: "uid",
                    expected: uid.to_string(),
                    actual: current.uid.to_string(),
                });
            }
            if let Some(expected) = preconditions.mod_revision.filter(|r| *r != current.mod_revision) {
                return Err(conflict("mod revision", expected, current.mod_revision as i64));
            }
            let txn = Txn::new()
                .when([Compare::mod_revision(etcd_key.as_slice(), CompareOp::Equal, read.mod_revision())])
                .and_then([TxnOp::delete(etcd_key.as_slice(), None)]);
            // A write that raced ours: read again and re-check the preconditions.
            let Some(revision) = self.commit(txn).await? else { continue };
            let value = match last_state {
                LastState::AsStored => current.value,
                LastState::Stamped(render) => render(&current.value, revision),
            };
            return Ok(Versioned { mod_revision: revision, value, ..current });
        }
    }

    async fn get_impl(&self, key: &ObjectKey, revision: Option<u64>) -> Result<Option<Versioned>> {
        self.check_open()?;
        if revision == Some(0) {
            // Before the first write (etcd would read revision 0 as "the newest").
            self.check_not_compacted(0).await?;
            return Ok(None);
        }
        let etcd_key = self.etcd_key(&key.encode()?);
        let options = revision.map(|revision| GetOptions::new().with_revision(revision as i64));
        let mut response = match self.kv.clone().get(etcd_key, options).await {
            Ok(response) => response,
            Err(error) => return Err(self.read_failure(error, revision.unwrap_or_default()).await),
        };
        response.take_kvs().first().map(|kv| self.decode(kv)).transpose()
    }

    async fn list_impl(&self, request: &ListRequest, filter: ListFilter<'_>) -> Result<ListPage> {
        self.check_open()?;
        let (mut revision, start_after) = list_start(request)?;
        if revision == Some(0) {
            // Before the first write (etcd would read revision 0 as "the newest").
            self.check_not_compacted(0).await?;
            return Ok(PageCollector::new(request, filter).finish(0));
        }
        let range_start = self.etcd_key(request.prefix.as_bytes());
        let range_end = prefix_end(&range_start);
        let mut from = match &start_after {
            // The first key after the last one returned.
            Some(last) => [&self.etcd_key(last)[..], &[0]].concat(),
            None => range_start,
        };
        let mut page = PageCollector::new(request, filter);
        'ranges: loop {
            let mut options = GetOptions::new().with_range(range_end.clone()).with_limit(self.range_batch);
            if let Some(revision) = revision {
                options = options.with_revision(revision as i64);
            }
            let mut response = match self.kv.clone().get(from.clone(), Some(options)).await {
                Ok(response) => response,
                Err(error) => return Err(self.read_failure(error, revision.unwrap_or_default()).await),
            };
            // The first range fixes the snapshot every later range (and page) reads.
            revision.get_or_insert(header_revision(response.header()));
            let has_more = response.more();
            let kvs = response.take_kvs();
            for kv in &kvs {
                if !page.offer(self.decode(kv)?) {
                    break 'ranges;
                }
            }
            match kvs.last() {
                Some(last) if has_more => from = [last.key(), &[0]].concat(),
                _ => break,
            }
        }
        Ok(page.finish(revision.expect("set by the first range")))
    }

    async fn watch_impl(&self, request: WatchRequest) -> Result<Watch> {
        self.check_open()?;
        let current = self.current_revision_now().await?;
        if request.after_revision > current {
            return Err(StoreError::FutureRevision { requested: request.after_revision, current });
        }
        self.check_not_compacted(request.after_revision).await?;
        let guard = WatcherSlot::take(&self.watchers, self.watchers_max)?;
        // A compaction that overtakes the start is reported by etcd as the watch's cancellation.
        let options =
            WatchOptions::new().with_prefix().with_prev_key().with_start_revision(request.after_revision as i64 + 1);
        let etcd_prefix = self.etcd_key(request.prefix.as_bytes());
        let mut stream =
            self.watch_client.clone().watch(etcd_prefix, Some(options)).await.map_err(|e| self.failure(e))?;
        let first = stream.message().await.map_err(|e| self.failure(e))?;
        let first = first.ok_or_else(|| StoreError::Backend("etcd ended the watch before it started".into()))?;
        if first.canceled() {
            return Err(match first.compact_revision() {
                oldest if oldest > 0 => {
                    StoreError::Expired { requested: request.after_revision, oldest: oldest as u64 }
                }
                _ => StoreError::Backend(format!("etcd refused the watch: {}", first.cancel_reason()).into()),
            });
        }
        let mut watch = EtcdWatch {
            store: self.clone(),
            stream,
            filter: request.filter,
            cursor: request.after_revision,
            ready: VecDeque::new(),
            progress_interval: request.progress_interval,
            last_yield: Instant::now(),
            progress_requested: false,
            closed: self.closed.subscribe(),
            ended: false,
            _slot: guard,
        };
        watch.absorb(first)?;
        Ok(Watch::remote(watch))
    }

    async fn compact_impl(&self, revision: u64) -> Result<u64> {
        let target = revision.min(self.current_revision_now().await?);
        if target == 0 {
            return Ok(0);
        }
        // Physical: return once the history is really gone, as the embedded store does.
        match self.kv.clone().compact(target as i64, Some(CompactionOptions::new().with_physical())).await {
            Ok(_) => Ok(target),
            // Already compacted past it: nothing to do.
            Err(error) if is_compacted(&error) => Ok(target),
            Err(error) => Err(self.failure(error)),
        }
    }
}

impl Storage for EtcdStore {
    fn create<'a>(&'a self, key: &'a ObjectKey, uid: Uuid, value: NewValue<'a>) -> StoreFuture<'a, Versioned> {
        Box::pin(self.create_impl(key, uid, value))
    }

    fn update<'a>(
        &'a self,
        key: &'a ObjectKey,
        expected_mod_revision: Option<u64>,
        value: NewValue<'a>,
    ) -> StoreFuture<'a, Versioned> {
        Box::pin(self.update_impl(key, expected_mod_revision, value))
    }

    fn delete<'a>(
        &'a self,
        key: &'a ObjectKey,
        preconditions: Preconditions,
        last_state: LastState<'a>,
    ) -> StoreFuture<'a, Versioned> {
        Box::pin(self.delete_impl(key, preconditions, last_state))
    }

    fn get<'a>(&'a self, key: &'a ObjectKey) -> StoreFuture<'a, Option<Versioned>> {
        Box::pin(self.get_impl(key, None))
    }

    fn get_at<'a>(&'a self, key: &'a ObjectKey, revision: u64) -> StoreFuture<'a, Option<Versioned>> {
        Box::pin(self.get_impl(key, Some(revision)))
    }

    fn list<'a>(&'a self, request: &'a ListRequest, filter: ListFilter<'a>) -> StoreFuture<'a, ListPage> {
        Box::pin(self.list_impl(request, filter))
    }

    fn watch(&self, request: WatchRequest) -> StoreFuture<'_, Watch> {
        Box::pin(self.watch_impl(request))
    }

    fn current_revision(&self) -> StoreFuture<'_, u64> {
        Box::pin(self.current_revision_now())
    }

    fn compact(&self, revision: u64) -> StoreFuture<'_, u64> {
        Box::pin(self.compact_impl(revision))
    }

    fn close(&self) -> Result<()> {
        self.closed.send_replace(true);
        Ok(())
    }

    fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    fn closed(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let mut closed = self.closed.subscribe();
        Box::pin(async move {
            let _ = closed.wait_for(|closed| *closed).await;
        })
    }

    fn watcher_count(&self) -> usize {
        self.watchers.load(Ordering::SeqCst)
    }

    fn kind(&self) -> &'static str {
        "etcd"
    }
}

/// One running watch's place under `watchers_max`, given back on drop.
struct WatcherSlot(Arc<AtomicUsize>);

impl WatcherSlot {
    fn take(count: &Arc<AtomicUsize>, max: usize) -> Result<WatcherSlot> {
        if count.fetch_add(1, Ordering::SeqCst) >= max {
            count.fetch_sub(1, Ordering::SeqCst);
            return Err(StoreError::TooManyWatchers { max });
        }
        Ok(WatcherSlot(count.clone()))
    }
}

impl Drop for WatcherSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A watch on etcd: one gRPC watch stream per watch, filtered here.
struct EtcdWatch {
    store: EtcdStore,
    stream: WatchStream,
    filter: Option<EventFilter>,
    /// Every revision up to this one has been examined.
    cursor: u64,
    ready: VecDeque<Arc<Event>>,
    progress_interval: Option<Duration>,
    last_yield: Instant,
    /// A progress request is out; its answer is the next empty response.
    progress_requested: bool,
    closed: watch::Receiver<bool>,
    ended: bool,
    _slot: WatcherSlot,
}

impl EtcdWatch {
    /// Turns one etcd response into events (or a progress mark, or the end).
    fn absorb(&mut self, response: WatchResponse) -> Result<Option<WatchItem>> {
        if response.canceled() {
            self.ended = true;
            return Err(match response.compact_revision() {
                oldest if oldest > 0 => StoreError::Expired { requested: self.cursor, oldest: oldest as u64 },
                _ => StoreError::Backend(format!("etcd canceled the watch: {}", response.cancel_reason()).into()),
            });
        }
        if response.events().is_empty() {
            if response.created() || !std::mem::take(&mut self.progress_requested) {
                return Ok(None);
            }
            // The answer to a progress request: everything up to the header's revision is here.
            if !self.ready.is_empty() {
                return Ok(None);
            }
            self.cursor = self.cursor.max(header_revision(response.header()));
            return Ok(Some(WatchItem::Progress(self.cursor)));
        }
        for event in response.events() {
            let Some(kv) = event.kv() else { continue };
            let revision = kv.mod_revision() as u64;
            if revision <= self.cursor {
                continue;
            }
            let store = &self.store;
            let key = Bytes::copy_from_slice(store.object_key(kv.key())?);
            let prev = event.prev_kv().map(|prev| store.decode(prev)).transpose()?;
            let built = match event.event_type() {
                EventType::Put => {
                    let (uid, value) = store.open_envelope(kv.value(), revision)?;
                    let kind =
                        if kv.create_revision() == kv.mod_revision() { EventKind::Added } else { EventKind::Modified };
                    Event::new(revision, kind, key, value, prev.map(|p| p.value), uid, kv.create_revision() as u64)
                }
                EventType::Delete => {
                    // The last state, with the delete's revision when it carries one.
                    let (uid, value, created) = match event.prev_kv() {
                        Some(prev) => {
                            let (uid, value) = store.open_envelope(prev.value(), revision)?;
                            (uid, value, prev.create_revision() as u64)
                        }
                        None => (Uuid::nil(), Bytes::new(), 0),
                    };
                    Event::new(revision, EventKind::Deleted, key, value, prev.map(|p| p.value), uid, created)
                }
            };
            if self.filter.as_ref().is_none_or(|filter| filter(&built)) {
                self.ready.push_back(built);
            }
            self.cursor = revision;
        }
        Ok(None)
    }

    async fn next_item(&mut self) -> Option<Result<WatchItem>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                self.last_yield = Instant::now();
                return Some(Ok(WatchItem::Event(event)));
            }
            if self.ended || *self.closed.borrow() {
                self.ended = true;
                return None;
            }
            let deadline = self.progress_interval.map(|interval| self.last_yield + interval);
            let woke = tokio::select! {
                message = self.stream.message() => Wake::Message(message),
                _ = self.closed.wait_for(|closed| *closed) => Wake::Closed,
                // etcd answers a progress request only once the watch has caught up: ask again
                // every interval until it does.
                () = sleep_until(deadline) => Wake::ProgressDue,
            };
            match woke {
                Wake::Message(Ok(Some(response))) => match self.absorb(response) {
                    Ok(Some(progress)) => {
                        self.last_yield = Instant::now();
                        return Some(Ok(progress));
                    }
                    Ok(None) => {}
                    Err(error) => return Some(Err(error)),
                },
                Wake::Message(Ok(None)) | Wake::Closed => self.ended = true,
                Wake::Message(Err(error)) => {
                    self.ended = true;
                    return Some(Err(self.store.failure(error)));
                }
                Wake::ProgressDue => {
                    if let Err(error) = self.stream.request_progress().await {
                        self.ended = true;
                        return Some(Err(self.store.failure(error)));
                    }
                    self.progress_requested = true;
                    self.last_yield = Instant::now();
                }
            }
        }
    }
}

/// What woke a waiting watch.
enum Wake {
    Message(std::result::Result<Option<WatchResponse>, etcd_client::Error>),
    Closed,
    ProgressDue,
}

impl RemoteWatch for EtcdWatch {
    fn next(&mut self) -> Pin<Box<dyn Future<Output = Option<Result<WatchItem>>> + Send + '_>> {
        Box::pin(self.next_item())
    }

    fn delivered_revision(&self) -> u64 {
        self.ready.front().map_or(self.cursor, |event| event.revision - 1)
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn is_compacted(error: &etcd_client::Error) -> bool {
    error.to_string().contains("required revision has been compacted")
}

/// The uid in an envelope; `Corrupt` when the bytes are not one of ours.
fn envelope_uid(stored: &[u8]) -> Result<Uuid> {
    if stored.len() < ENVELOPE_LEN || stored[0] != FORMAT {
        return Err(StoreError::Corrupt("an etcd value under the prefix is not a Bosun envelope".into()));
    }
    Ok(Uuid::from_slice(&stored[2..ENVELOPE_LEN]).expect("sixteen bytes"))
}

fn header_revision(header: Option<&etcd_client::ResponseHeader>) -> u64 {
    header.map_or(0, |header| header.revision().max(0) as u64)
}

fn conflict(what: &'static str, expected: u64, actual: i64) -> StoreError {
    StoreError::Conflict { what, expected: expected.to_string(), actual: actual.to_string() }
}

/// The envelope of a new value, and whether it carries its revision (then rendered at 0, and
/// restamped on every read).
fn seal(uid: Uuid, value: NewValue<'_>) -> (Vec<u8>, bool) {
    let (bytes, stamped) = value.render_unrevisioned();
    let mut envelope = Vec::with_capacity(ENVELOPE_LEN + bytes.len());
    envelope.push(FORMAT);
    envelope.push(if stamped { STAMPED } else { 0 });
    envelope.extend_from_slice(uid.as_bytes());
    envelope.extend_from_slice(&bytes);
    (envelope, stamped)
}

/// The first key after every key that starts with `prefix` (empty: to the end of the keyspace).
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}
