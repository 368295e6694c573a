//! Bosun: an embedded Kubernetes control plane.
//!
//! A [`Cluster`] opens (or creates) a data directory, bootstraps the namespaces a cluster starts
//! with, and hands out the ways in: the [`bosun_api::api::Api`] for in-process calls, an axum
//! router that is a `tower::Service`, and a `kube::Client` over that router (no socket needed).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use k8s_openapi::api::core::v1::ConfigMap;
//!
//! let cluster = bosun::Cluster::builder().temporary().start().await?;
//! let configmaps: kube::Api<ConfigMap> = kube::Api::default_namespaced(cluster.kube_client());
//! let list = configmaps.list(&Default::default()).await?;
//! # Ok(()) }
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use bosun_api::api::Api;
use bosun_api::clock::{Clock, SystemClock};
use bosun_http::{HttpConfig, ShutdownHandle};
use bosun_store::{Durability, Store, StoreConfig};

/// Why a cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The temporary directory could not be made.
    #[error("could not create a temporary data directory: {0}")]
    TempDir(#[source] std::io::Error),
    /// The store could not open the data directory (in use by another process, damaged, ...).
    #[error("could not open the store in {dir}: {source}")]
    Store {
        /// The store's directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: bosun_store::StoreError,
    },
    /// The etcd store could not connect.
    #[error("could not open the store on etcd at {endpoints}: {source}")]
    Etcd {
        /// The endpoints tried.
        endpoints: String,
        /// The cause.
        #[source]
        source: bosun_store::StoreError,
    },
    /// Creating the initial namespaces failed.
    #[error("could not bootstrap the cluster: {0}")]
    Bootstrap(#[source] bosun_api::status::Status),
}

/// Where a cluster keeps its objects.
enum Backing {
    /// The embedded store in the data directory.
    Embedded,
    /// An etcd cluster, under a key prefix; the controllers run on the server that holds their
    /// Lease.
    #[cfg(feature = "etcd")]
    Etcd(Box<EtcdBacking>),
}

/// Where on etcd, and how to reach it.
#[cfg(feature = "etcd")]
struct EtcdBacking {
    endpoints: Vec<String>,
    prefix: String,
    election: Option<bosun_controllers::election::ElectionConfig>,
    /// How long to wait for an etcd that does not answer yet.
    wait: std::time::Duration,
    /// TLS to etcd.
    tls: Option<bosun_store::EtcdTls>,
}

/// Settings of a [`Cluster`].
pub struct ClusterBuilder {
    backing: Backing,
    data_dir: Option<PathBuf>,
    durability: Durability,
    clock: Arc<dyn Clock>,
    http: HttpConfig,
    api_port: u16,
    api_ip: std::net::IpAddr,
    controllers: bool,
    node: bosun_controllers::node::NodeConfig,
}

/// A running control plane.
pub struct Cluster {
    api: Api,
    /// The embedded store under `api` (the same one, as its concrete type); `None` on etcd.
    store: Option<Store>,
    /// On etcd: the controllers' own connection and their election, to stop them and hand
    /// their Lease over at a clean stop.
    #[cfg(feature = "etcd")]
    elected: Option<(Api, bosun_controllers::election::ElectionConfig)>,
    router: axum::Router,
    shutdown: ShutdownHandle,
    data_dir: PathBuf,
    _temporary: Option<tempfile::TempDir>,
}

impl Cluster {
    /// Starts describing a cluster.
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder {
            backing: Backing::Embedded,
            data_dir: None,
            durability: Durability::Immediate,
            clock: Arc::new(SystemClock),
            http: HttpConfig::default(),
            api_port: 6443,
            api_ip: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            controllers: true,
            node: bosun_controllers::node::NodeConfig::default(),
        }
    }

    /// The in-process API: every front end's semantics, without HTTP.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// The router: a `tower::Service` that serves the Kubernetes HTTP API.
    pub fn router(&self) -> axum::Router {
        self.router.clone()
    }

    /// A kube-rs client that talks to this cluster in-process (default namespace `default`).
    pub fn kube_client(&self) -> kube::Client {
        kube::Client::new(self.router.clone(), "default")
    }

    /// The embedded store (recovery figures, size on disk, compaction); `None` when the cluster
    /// keeps its objects in etcd. Every store is also reachable as `api().store()`.
    pub fn embedded_store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// Ends open watches and closes the store cleanly.
    pub fn shutdown(&self) -> Result<(), bosun_store::StoreError> {
        self.shutdown.shutdown();
        #[cfg(feature = "etcd")]
        if let Some((controllers, _)) = &self.elected {
            controllers.store().close()?;
        }
        self.api.store().close()
    }

    /// [`Cluster::shutdown`], handing the controllers' Lease over first when they run on etcd
    /// (so that another server starts them at once rather than after the lease duration).
    pub async fn stop(&self) -> Result<(), bosun_store::StoreError> {
        self.shutdown.shutdown();
        #[cfg(feature = "etcd")]
        if let Some((controllers, election)) = &self.elected {
            // The controllers stop with their store; only then is the Lease handed over.
            controllers.store().close()?;
            match bosun_controllers::election::release(&self.api, election).await {
                Ok(true) => tracing::info!("handed the controllers' lease over"),
                Ok(false) => {}
                Err(status) => tracing::warn!(%status.message, "could not hand the controllers' lease over"),
            }
        }
        self.api.store().close()
    }

    /// The shutdown handle of the router's watches.
    pub fn shutdown_handle(&self) -> &ShutdownHandle {
        &self.shutdown
    }
}

impl ClusterBuilder {
    /// Keep state in `dir` (created if missing).
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Keep state in a temporary directory removed when the cluster is dropped.
    pub fn temporary(mut self) -> Self {
        self.data_dir = None;
        self
    }

    /// Keep the objects in etcd (client URLs like `http://10.0.0.5:2379`), under `prefix` (e.g.
    /// `/bosun/`), instead of the data directory's embedded store, which then keeps only the
    /// server's own files. Several servers may share one etcd and serve one cluster: the
    /// controllers run on the one that holds their Lease (`kube-system/bosun-controllers`, see
    /// [`bosun_controllers::election`]); a server that loses it closes its store and stops.
    #[cfg(feature = "etcd")]
    pub fn etcd(mut self, endpoints: Vec<String>, prefix: impl Into<String>) -> Self {
        self.backing = Backing::Etcd(Box::new(EtcdBacking {
            endpoints,
            prefix: prefix.into(),
            election: None,
            wait: std::time::Duration::ZERO,
            tls: None,
        }));
        self
    }

    /// TLS to etcd (`https://` endpoints): the CA of its serving certificate, and this server's
    /// client certificate for an etcd that requires one.
    #[cfg(feature = "etcd")]
    pub fn etcd_tls(mut self, config: bosun_store::EtcdTls) -> Self {
        if let Backing::Etcd(etcd) = &mut self.backing {
            let tls = &mut etcd.tls;
            *tls = Some(config);
        }
        self
    }

    /// How long [`ClusterBuilder::start`] waits for an etcd that does not answer yet (one that
    /// is starting beside this server), logging as it waits (default: not at all).
    #[cfg(feature = "etcd")]
    pub fn etcd_wait(mut self, patience: std::time::Duration) -> Self {
        if let Backing::Etcd(etcd) = &mut self.backing {
            let wait = &mut etcd.wait;
            *wait = patience;
        }
        self
    }

    /// The controllers' leader election on etcd (default: kube-controller-manager's timing, and
    /// an identity made of the host name and a random suffix).
    #[cfg(feature = "etcd")]
    pub fn election(mut self, config: bosun_controllers::election::ElectionConfig) -> Self {
        if let Backing::Etcd(etcd) = &mut self.backing {
            let election = &mut etcd.election;
            *election = Some(config);
        }
        self
    }

    /// When writes are acknowledged (default: `Immediate`, durable before acknowledged). Ignored
    /// on etcd, which acknowledges what it has made durable.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// The clock every time-dependent decision reads (a `VirtualClock` in tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// HTTP limits and the address discovery advertises.
    pub fn http(mut self, http: HttpConfig) -> Self {
        self.http = http;
        self
    }

    /// Whether the controllers (Deployment, ReplicaSet, node agent, endpoints, namespace
    /// lifecycle, garbage collector) run (default: yes). Off, the cluster is an API server only,
    /// as for tests of a controller of one's own.
    pub fn controllers(mut self, on: bool) -> Self {
        self.controllers = on;
        self
    }

    /// The node agent's settings (node name, application profiles); it runs with the
    /// controllers.
    pub fn node(mut self, config: bosun_controllers::node::NodeConfig) -> Self {
        self.node = config;
        self
    }

    /// The port the `kubernetes` Service points at.
    pub fn api_port(mut self, port: u16) -> Self {
        self.api_port = port;
        self
    }

    /// Where clients reach the API server: the `kubernetes` Service's port points at its port,
    /// and the Service's Endpoints hold its address (loopback when it listens on every address).
    pub fn api_address(mut self, address: std::net::SocketAddr) -> Self {
        self.api_port = address.port();
        self.api_ip = if address.ip().is_unspecified() { std::net::Ipv4Addr::LOCALHOST.into() } else { address.ip() };
        self
    }

    /// Opens the store, bootstraps and builds the router.
    pub async fn start(self) -> Result<Cluster, StartError> {
        let (data_dir, temporary) = match self.data_dir {
            Some(dir) => (dir, None),
            None => {
                let temporary = tempfile::Builder::new().prefix("bosun-").tempdir().map_err(StartError::TempDir)?;
                (temporary.path().to_path_buf(), Some(temporary))
            }
        };
        let (api, store) = match &self.backing {
            Backing::Embedded => {
                let store_dir = data_dir.join("store");
                let config = StoreConfig { durability: self.durability, ..StoreConfig::default() };
                let store =
                    Store::open(&store_dir, config).map_err(|source| StartError::Store { dir: store_dir, source })?;
                (Api::with_clock(store.clone(), self.clock), Some(store))
            }
            #[cfg(feature = "etcd")]
            Backing::Etcd(etcd) => {
                let store = connect_etcd(etcd_options(etcd), etcd.wait).await?;
                (Api::with_clock(store, self.clock), None)
            }
        };
        #[cfg(feature = "etcd")]
        let mut elected = None;
        api.bootstrap(self.api_port).await.map_err(StartError::Bootstrap)?;
        publish_api_endpoints(&api, self.api_ip, self.api_port).await.map_err(StartError::Bootstrap)?;
        if self.controllers {
            let config = bosun_controllers::ControllerConfig { node: self.node, ..Default::default() };
            match self.backing {
                Backing::Embedded => {
                    // The data directory is locked to this process: no other server can share it.
                    bosun_controllers::start(&api, config);
                }
                #[cfg(feature = "etcd")]
                Backing::Etcd(etcd) => {
                    let election = etcd
                        .election
                        .clone()
                        .unwrap_or_else(|| bosun_controllers::election::ElectionConfig::new(candidate_identity()));
                    // A connection of their own: closing it stops the controllers (and the
                    // campaign) while the API keeps its own, to hand the Lease over.
                    let store = connect_etcd(etcd_options(&etcd), etcd.wait).await?;
                    let controllers = Api::on_shared(Arc::new(store), api.clock().clone());
                    let ended = bosun_controllers::start_elected(&controllers, config, election.clone());
                    let (serving, campaigning) = (api.store().clone(), controllers.store().clone());
                    tokio::spawn(async move {
                        if let Ok(bosun_controllers::election::ElectionEnd::Lost) = ended.await {
                            // Another server may run the controllers now: stop serving, as
                            // kube-controller-manager exits.
                            tracing::error!("lost the controllers' lease; closing the store");
                            let _ = campaigning.close();
                            let _ = serving.close();
                        }
                    });
                    elected = Some((controllers, election));
                }
            }
        }
        let (router, shutdown) = bosun_http::router(api.clone(), self.http);
        Ok(Cluster {
            api,
            store,
            #[cfg(feature = "etcd")]
            elected,
            router,
            shutdown,
            data_dir,
            _temporary: temporary,
        })
    }
}

/// The etcd store's options for `etcd`.
#[cfg(feature = "etcd")]
fn etcd_options(etcd: &EtcdBacking) -> bosun_store::EtcdOptions {
    let mut options = bosun_store::EtcdOptions::new(etcd.endpoints.clone(), Arc::new(bosun_api::meta::restamp));
    options.prefix = etcd.prefix.clone();
    options.tls = etcd.tls.clone();
    options
}

/// Connects to etcd, retrying for up to `wait` while it does not answer.
#[cfg(feature = "etcd")]
async fn connect_etcd(
    options: bosun_store::EtcdOptions,
    wait: std::time::Duration,
) -> Result<bosun_store::EtcdStore, StartError> {
    use std::time::{Duration, Instant};
    // A malformed endpoint will not start answering: say so at once.
    options.check().map_err(|source| StartError::Etcd { endpoints: options.endpoints.join(","), source })?;
    let started = Instant::now();
    let mut last_report = started;
    loop {
        match bosun_store::EtcdStore::connect(options.clone()).await {
            Ok(store) => return Ok(store),
            Err(error) if started.elapsed() < wait => {
                if last_report.elapsed() >= Duration::from_secs(5) {
                    let waited = started.elapsed().as_secs();
                    tracing::warn!(endpoints = %options.endpoints.join(","), %error, waited, "etcd does not answer yet; waiting");
                    last_report = Instant::now();
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(source) => return Err(StartError::Etcd { endpoints: options.endpoints.join(","), source }),
        }
    }
}

/// This process's name in the controllers' Lease: the host name and a random suffix.
#[cfg(feature = "etcd")]
fn candidate_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host = if host.trim().is_empty() { "bosun" } else { host.trim() };
    format!("{host}_{}", uuid::Uuid::new_v4())
}

/// Writes the `kubernetes` Service's Endpoints and EndpointSlice: the API server's own address, as
/// upstream's API server keeps them (the Service has no selector, so no controller does). Written
/// at every start, since the address can change between runs.
async fn publish_api_endpoints(api: &Api, ip: std::net::IpAddr, port: u16) -> Result<(), bosun_api::status::Status> {
    use bosun_api::api::{Subresource, WriteOptions};
    use serde_json::json;
    let family = if ip.is_ipv4() { "IPv4" } else { "IPv6" };
    let options = WriteOptions { field_manager: Some("kube-apiserver".into()), ..WriteOptions::default() };
    let endpoints = json!({
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": ip.to_string()}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}],
    });
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": family,
        "endpoints": [{"addresses": [ip.to_string()], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    });
    for (group, version, plural, body) in
        [("", "v1", "endpoints", endpoints), ("discovery.k8s.io", "v1", "endpointslices", slice)]
    {
        let rt = bosun_api::registry::find(group, version, plural).expect("registered");
        match api.create(rt, "default", body.clone(), &options).await {
            Ok(_) => {}
            Err(status) if status.reason == "AlreadyExists" => {
                api.read_modify_write(rt, "default", "kubernetes", Subresource::Main, &options, |current| {
                    let mut updated = body.clone();
                    updated["metadata"] = current["metadata"].clone();
                    Ok(updated)
                })
                .await?;
            }
            Err(status) => return Err(status),
        }
    }
    Ok(())
}
