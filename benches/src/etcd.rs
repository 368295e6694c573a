//! The store workloads on etcd, through its gRPC API (the `etcd-client` crate), with etcd's own
//! revisions: a create is a transaction that puts the key only if its mod revision is 0, a paged
//! list is a range with a limit at the first page's revision, and watchers and replays are
//! watches from a revision.
//!
//! Every point gets a key prefix of its own on the shared etcd, deleted and compacted away after
//! it, so neither keys nor history accumulate between points. `restart` cannot use the shared
//! etcd: it starts an etcd process of its own on a temporary data directory.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, DeleteOptions, GetOptions, GetResponse, KvClient, Txn, TxnOp,
    WatchClient, WatchOptions, WatchStream,
};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::BenchResult;
use crate::check::{RevisionStream, StreamCheck, WatcherReport, spawn_follower};
use crate::drive::{Creator, WatchedStore, create_concurrently};
use crate::on_store::BACKLOG_WRITERS;
use crate::pods::{PodObject, pod_objects, pod_objects_per_writer};
use crate::suite::{EtcdOptions, Side};

/// Large enough for one range of 100 000 objects of 1 KiB (tonic's default is 4 MiB).
const MAX_MESSAGE: usize = 1 << 30;
/// How long restart waits for etcd to answer before giving up.
const START_LIMIT: Duration = Duration::from_secs(120);

async fn connect(endpoints: &[String]) -> BenchResult<Client> {
    let options = ConnectOptions::new().with_connect_timeout(Duration::from_secs(2));
    Ok(Client::connect(endpoints, Some(options)).await?)
}

/// The etcd side of the suite: a running etcd for every workload but restart, which starts its own.
pub(crate) struct EtcdSide {
    client: Client,
    binary: PathBuf,
}

impl EtcdSide {
    /// Connects to the etcd at `options.endpoints` and checks that it answers.
    pub(crate) async fn connect(options: &EtcdOptions) -> BenchResult<EtcdSide> {
        let mut client = connect(&options.endpoints).await?;
        let status = client.status().await.map_err(|e| format!("etcd at {:?}: {e}", options.endpoints))?;
        eprintln!("bosun bench: etcd {} at {}", status.version(), options.endpoints.join(","));
        Ok(EtcdSide { client, binary: options.binary.clone() })
    }
}

/// The Pods of one point: everything under one key prefix of an etcd.
#[derive(Clone)]
pub(crate) struct EtcdPods {
    kv: KvClient,
    watch: WatchClient,
    prefix: String,
    /// Ends the watches of stalled watchers.
    stop: Arc<watch::Sender<bool>>,
}

impl EtcdPods {
    fn new(client: &Client) -> EtcdPods {
        EtcdPods {
            kv: client.kv_client().max_decoding_message_size(MAX_MESSAGE),
            watch: client.watch_client().max_decoding_message_size(MAX_MESSAGE),
            prefix: format!("/bosun-bench/{}/pods/", Uuid::new_v4().simple()),
            stop: Arc::new(watch::channel(false).0),
        }
    }

    fn key(&self, pod: &PodObject) -> String {
        format!("{}{}/{}", self.prefix, pod.key.namespace, pod.key.name)
    }

    /// The first key after every key under the prefix.
    fn prefix_end(&self) -> Vec<u8> {
        let mut end = self.prefix.clone().into_bytes();
        *end.last_mut().expect("the prefix ends with a slash") += 1;
        end
    }

    async fn count(&self) -> BenchResult<usize> {
        let response =
            self.kv.clone().get(self.prefix.as_str(), Some(GetOptions::new().with_prefix().with_count_only())).await?;
        Ok(response.count() as usize)
    }

    /// Lists every key under the prefix in pages of `page` at one revision; the pages are freed
    /// by the caller, after its clock stopped.
    async fn list_paged(&self, page: usize) -> BenchResult<Vec<GetResponse>> {
        let mut kv = self.kv.clone();
        let mut start = self.prefix.clone().into_bytes();
        let mut revision = 0;
        let mut pages = Vec::new();
        loop {
            let options =
                GetOptions::new().with_range(self.prefix_end()).with_limit(page as i64).with_revision(revision);
            let response = kv.get(start.clone(), Some(options)).await?;
            revision = response.header().map_or(0, |header| header.revision());
            let more = response.more();
            if let Some(last) = response.kvs().last() {
                start = last.key().to_vec();
                start.push(0);
            }
            pages.push(response);
            if !more {
                return Ok(pages);
            }
        }
    }
}

impl AsRef<EtcdPods> for EtcdPods {
    fn as_ref(&self) -> &EtcdPods {
        self
    }
}

impl Creator for EtcdPods {
    /// A transaction that puts the key only if it does not exist (mod revision 0), like a create
    /// with a precondition in kube-apiserver's etcd storage.
    async fn create(&self, pod: PodObject) -> BenchResult<u64> {
        let key = self.key(&pod);
        let txn = Txn::new().when([Compare::mod_revision(key.as_str(), CompareOp::Equal, 0)]).and_then([TxnOp::put(
            key.as_str(),
            pod.manifest.to_vec(),
            None,
        )]);
        let response = self.kv.clone().txn(txn).await?;
        if !response.succeeded() {
            return Err(format!("{key} exists already").into());
        }
        Ok(response.header().ok_or("a transaction without a header")?.revision() as u64)
    }
}

impl WatchedStore for EtcdPods {
    async fn revision(&self) -> BenchResult<u64> {
        let response = self.kv.clone().get(self.prefix.as_str(), Some(GetOptions::new().with_count_only())).await?;
        Ok(response.header().ok_or("a range without a header")?.revision() as u64)
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
            let options = WatchOptions::new().with_prefix().with_start_revision(after_revision as i64 + 1);
            let stream = self.watch.clone().watch(self.prefix.as_str(), Some(options)).await?;
            let follower = Follower { stream, stop: self.stop.subscribe() };
            spawn_follower(follower, StreamCheck::new(expected.clone(), record_arrivals), &reports);
        }
        Ok(receiver)
    }

    fn stop_watchers(&self) -> BenchResult<()> {
        self.stop.send_replace(true);
        Ok(())
    }
}

/// One watcher's stream.
struct Follower {
    stream: WatchStream,
    stop: watch::Receiver<bool>,
}

impl RevisionStream for Follower {
    async fn next_into(&mut self, check: &mut StreamCheck) -> Option<Result<(), String>> {
        let message = tokio::select! {
            _ = self.stop.changed() => return None,
            message = self.stream.message() => message,
        };
        match message {
            Ok(Some(response)) if response.canceled() => {
                Some(Err(format!("watch canceled: {}", response.cancel_reason())))
            }
            Ok(Some(response)) => {
                for event in response.events() {
                    if let Some(kv) = event.kv() {
                        check.record(kv.mod_revision() as u64);
                    }
                }
                Some(Ok(()))
            }
            Ok(None) => None,
            Err(error) => Some(Err(error.to_string())),
        }
    }
}

impl Side for EtcdSide {
    type Store = EtcdPods;
    type Scratch = EtcdPods;

    async fn fresh(&self) -> BenchResult<EtcdPods> {
        Ok(EtcdPods::new(&self.client))
    }

    /// Deletes the point's keys and compacts the history away, so that the next point starts on
    /// a database of the same size.
    async fn discard(&self, pods: EtcdPods) -> BenchResult<()> {
        let mut kv = pods.kv.clone();
        let deleted = kv.delete(pods.prefix.as_str(), Some(DeleteOptions::new().with_prefix())).await?;
        let revision = deleted.header().ok_or("a delete without a header")?.revision();
        kv.compact(revision, None).await?;
        Ok(())
    }

    async fn list(&self, pods: &EtcdPods, expected: usize, page: Option<usize>) -> BenchResult<f64> {
        let started = Instant::now();
        let pages = match page {
            Some(page) => pods.list_paged(page).await?,
            None => vec![pods.kv.clone().get(pods.prefix.as_str(), Some(GetOptions::new().with_prefix())).await?],
        };
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let count: usize = pages.iter().map(|page| page.kvs().len()).sum();
        if count != expected {
            return Err(format!("a list returned {count} objects, not {expected}").into());
        }
        Ok(ms)
    }

    /// From starting etcd on a data directory holding `objects` keys until a range of them
    /// succeeds (and counts them all).
    async fn restart(&self, objects: usize) -> BenchResult<f64> {
        let dir = tempfile::Builder::new().prefix("bosun-bench-etcd-").tempdir()?;
        let etcd = EtcdProcess::start(&self.binary, dir.path())?;
        let client = etcd.ready().await?;
        let pods = EtcdPods::new(&client);
        let shares = pod_objects_per_writer(objects, BACKLOG_WRITERS);
        let written = shares.iter().map(Vec::len).sum::<usize>();
        create_concurrently(&pods, shares).await?;
        etcd.stop()?;

        let started = Instant::now();
        let etcd = EtcdProcess::start(&self.binary, dir.path())?;
        let client = etcd.ready().await?;
        let count = EtcdPods { prefix: pods.prefix.clone(), ..EtcdPods::new(&client) }.count().await?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        etcd.stop()?;
        if count != written {
            return Err(format!("the restarted etcd holds {count} objects, not {written}").into());
        }
        Ok(ms)
    }
}

/// An etcd process of our own on loopback; killed if dropped while running.
struct EtcdProcess {
    child: Option<Child>,
    endpoint: String,
}

impl EtcdProcess {
    fn start(binary: &Path, data_dir: &Path) -> BenchResult<EtcdProcess> {
        let (client_port, peer_port) = (free_port()?, free_port()?);
        let endpoint = format!("http://127.0.0.1:{client_port}");
        let peer = format!("http://127.0.0.1:{peer_port}");
        let child = Command::new(binary)
            .arg("--name=bench")
            .arg(format!("--data-dir={}", data_dir.display()))
            .arg(format!("--listen-client-urls={endpoint}"))
            .arg(format!("--advertise-client-urls={endpoint}"))
            .arg(format!("--listen-peer-urls={peer}"))
            .arg(format!("--initial-advertise-peer-urls={peer}"))
            .arg(format!("--initial-cluster=bench={peer}"))
            .arg("--log-level=error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("could not start {}: {e} (see scripts/fetch-etcd.sh)", binary.display()))?;
        Ok(EtcdProcess { child: Some(child), endpoint })
    }

    /// Polls until a range succeeds; returns the client that did it.
    async fn ready(&self) -> BenchResult<Client> {
        let started = Instant::now();
        loop {
            if let Ok(mut client) = connect(std::slice::from_ref(&self.endpoint)).await
                && client.get("/", Some(GetOptions::new().with_count_only())).await.is_ok()
            {
                return Ok(client);
            }
            if started.elapsed() > START_LIMIT {
                return Err(format!("etcd at {} did not answer within {START_LIMIT:?}", self.endpoint).into());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops etcd as an operator would (SIGTERM) and waits for it to exit.
    fn stop(mut self) -> BenchResult<()> {
        let mut child = self.child.take().expect("running until stopped");
        // SAFETY: kill(2) on our own child's process id, which it keeps until we wait for it.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        child.wait()?;
        Ok(())
    }
}

impl Drop for EtcdProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A loopback port nobody listens on right now.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One fan-out point on the etcd at `options.endpoints` (for `bosun bench watch-http`, which sets
/// it beside Bosun's HTTP API): `watchers` follow one writer creating `events` Pods.
pub async fn fanout(options: &EtcdOptions, watchers: usize, events: usize) -> BenchResult<crate::drive::FanoutPoint> {
    let side = EtcdSide::connect(options).await?;
    let pods = side.fresh().await?;
    let point = crate::drive::fanout_point(&pods, watchers, pod_objects(0..events)).await?;
    side.discard(pods).await?;
    Ok(point)
}
