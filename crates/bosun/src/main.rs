//! The `bosun` program: `bosun serve` runs the control plane on one data directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use bosun_http::HttpConfig;
use bosun_http::auth::Tokens;
use bosun_http::server::{self, Security};
use bosun_store::Durability;
use clap::{Parser, Subcommand, ValueEnum};

mod bench;

#[derive(Parser)]
#[command(name = "bosun", version, about = "An embedded Kubernetes control plane")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Kubernetes API from a data directory.
    Serve(ServeArgs),
    /// Print Bosun's version and the Kubernetes version it serves.
    Version,
    /// Measure the store (on its own or against etcd) and the controllers, in-process.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Where state lives; created if missing.
    #[arg(long, default_value = "./bosun-data", env = "BOSUN_DATA_DIR")]
    data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:6443", env = "BOSUN_LISTEN")]
    listen: SocketAddr,
    /// When writes are acknowledged.
    #[arg(long, value_enum, default_value_t = DurabilityArg::Immediate)]
    durability: DurabilityArg,
    /// Serve plain HTTP without authentication (loopback addresses only).
    #[arg(long)]
    insecure_http: bool,
    /// More names (host names or IP addresses) for the serving certificate, comma-separated, for
    /// clients that reach the server by a name other than its listen address.
    #[arg(long, value_delimiter = ',')]
    tls_san: Vec<String>,
    /// Extra bearer tokens, one per line in kube-apiserver's static-token format.
    #[arg(long)]
    tokens_file: Option<PathBuf>,
    /// Application profiles of the node agent's simulated containers, by image (YAML or JSON;
    /// see docs/NODE-AGENT.md); they add to and override the built-in ones.
    #[arg(long)]
    node_profiles: Option<PathBuf>,
    /// Run the controllers and the node agent. Over etcd they run on the one server that holds
    /// their Lease (kube-system/bosun-controllers); `--controllers=false` makes a server that
    /// never campaigns.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    controllers: bool,
    /// Keep the objects in etcd at these client URLs (comma-separated, e.g.
    /// http://127.0.0.1:2379) instead of the data directory, which then keeps only the server's
    /// TLS files, token and kubeconfig. Several servers can share one etcd.
    #[cfg(feature = "etcd")]
    #[arg(long, value_delimiter = ',', env = "BOSUN_ETCD_ENDPOINTS")]
    etcd_endpoints: Vec<String>,
    /// The key prefix of this cluster's objects in etcd.
    #[cfg(feature = "etcd")]
    #[arg(long, default_value = "/bosun/")]
    etcd_prefix: String,
    /// The CA of etcd's serving certificate (PEM), for `https://` endpoints.
    #[cfg(feature = "etcd")]
    #[arg(long)]
    etcd_cafile: Option<PathBuf>,
    /// This server's client certificate for etcd (PEM), with --etcd-keyfile.
    #[cfg(feature = "etcd")]
    #[arg(long, requires = "etcd_keyfile")]
    etcd_certfile: Option<PathBuf>,
    /// The key of --etcd-certfile (PEM).
    #[cfg(feature = "etcd")]
    #[arg(long, requires = "etcd_certfile")]
    etcd_keyfile: Option<PathBuf>,
    /// How long to wait for an etcd that does not answer yet (one starting beside this server).
    #[cfg(feature = "etcd")]
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    etcd_wait: Duration,
    /// How long the controllers' Lease stays unrenewed before another server takes it.
    #[cfg(feature = "etcd")]
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    leader_elect_lease_duration: Duration,
    /// How long the Lease's holder keeps trying to renew before it gives up (and exits).
    #[cfg(feature = "etcd")]
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    leader_elect_renew_deadline: Duration,
    /// How often servers try to take the Lease, and its holder renews it.
    #[cfg(feature = "etcd")]
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    leader_elect_retry_period: Duration,
}

/// A duration as kube-controller-manager's flags write them: `15s`, `500ms`, `1m`.
#[cfg_attr(not(feature = "etcd"), allow(dead_code))]
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 15s, 500ms or 1m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("{text:?} is not a duration like 15s, 500ms or 1m")),
    };
    Ok(Duration::from_secs_f64(seconds))
}

#[derive(Clone, Copy, ValueEnum)]
enum DurabilityArg {
    /// Acknowledge only after a flush covering the write (group commit).
    Immediate,
    /// Acknowledge once applied; flush every 500 ms.
    Periodic,
    /// Acknowledge once applied; flush only at shutdown.
    None,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            println!("bosun {} (Kubernetes v1.35 API)", env!("CARGO_PKG_VERSION"));
            std::process::ExitCode::SUCCESS
        }
        Command::Bench(command) => match bench::run(command) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("bosun bench: {error}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::Serve(args) => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_env("BOSUN_LOG")
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
                )
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .init();
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
            match runtime.block_on(serve(args)) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("bosun: {error}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
    }
}

fn io_context(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> String {
    let message = format!("{what} {}", path.display());
    move |e| format!("{message}: {e}")
}

/// Reads the admin token, or makes one at first start.
fn admin_token(data_dir: &Path) -> Result<String, String> {
    let path = data_dir.join("admin-token");
    match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => Ok(token.trim().to_string()),
        _ => {
            let token = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
            std::fs::write(&path, &token).map_err(io_context("could not write", &path))?;
            Ok(token)
        }
    }
}

fn kubeconfig(server: &str, ca_pem: Option<&str>, token: Option<&str>) -> String {
    let cluster = match ca_pem {
        Some(ca) => format!(
            "    server: {server}\n    certificate-authority-data: {}\n",
            base64::engine::general_purpose::STANDARD.encode(ca)
        ),
        None => format!("    server: {server}\n"),
    };
    let user = match token {
        Some(token) => format!("    token: {token}\n"),
        None => "    {}\n".to_string(),
    };
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: bosun\n  cluster:\n{cluster}users:\n- name: bosun-admin\n  user:\n{user}contexts:\n- name: bosun\n  context:\n    cluster: bosun\n    user: bosun-admin\n    namespace: default\ncurrent-context: bosun\n"
    )
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    if args.insecure_http && !args.listen.ip().is_loopback() {
        return Err(format!(
            "--insecure-http serves without authentication and is allowed only on loopback; {} is not. \
             Drop --insecure-http to serve TLS with tokens, or listen on 127.0.0.1.",
            args.listen
        ));
    }
    std::fs::create_dir_all(&args.data_dir)
        .map_err(io_context("could not create the data directory", &args.data_dir))?;
    let listener = server::bind(args.listen).await.map_err(|e| {
        format!("could not listen on {}: {e} (is another server using the port? try --listen 127.0.0.1:0)", args.listen)
    })?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;

    let durability = match args.durability {
        DurabilityArg::Immediate => Durability::Immediate,
        DurabilityArg::Periodic => Durability::Periodic(Duration::from_millis(500)),
        DurabilityArg::None => Durability::None,
    };
    let http = HttpConfig { server_address: address.to_string(), ..HttpConfig::default() };
    let profiles = match &args.node_profiles {
        Some(path) => bosun_controllers::node::profiles::Profiles::load(path).map_err(|e| e.to_string())?,
        None => bosun_controllers::node::profiles::Profiles::default(),
    };
    let node = bosun_controllers::node::NodeConfig { profiles, ..bosun_controllers::node::NodeConfig::default() };
    let builder = bosun::Cluster::builder()
        .node(node)
        .controllers(args.controllers)
        .data_dir(&args.data_dir)
        .durability(durability)
        .http(http)
        .api_address(address);
    #[cfg(feature = "etcd")]
    let builder = match args.etcd_endpoints.is_empty() {
        true => builder,
        false => {
            if args.leader_elect_renew_deadline >= args.leader_elect_lease_duration {
                return Err("--leader-elect-renew-deadline must be shorter than --leader-elect-lease-duration".into());
            }
            let identity = format!("{address}_{}", uuid::Uuid::new_v4());
            let election = bosun_controllers::election::ElectionConfig {
                lease_duration: args.leader_elect_lease_duration,
                renew_deadline: args.leader_elect_renew_deadline,
                retry_period: args.leader_elect_retry_period,
                ..bosun_controllers::election::ElectionConfig::new(identity)
            };
            let builder = builder
                .etcd(args.etcd_endpoints.clone(), args.etcd_prefix.clone())
                .etcd_wait(args.etcd_wait)
                .election(election);
            match &args.etcd_cafile {
                Some(ca) => {
                    let identity = args.etcd_certfile.as_deref().zip(args.etcd_keyfile.as_deref());
                    builder.etcd_tls(bosun_store::EtcdTls::from_files(ca, identity).map_err(|e| e.to_string())?)
                }
                None if args.etcd_certfile.is_some() => {
                    return Err("--etcd-certfile needs --etcd-cafile (the CA of etcd's serving certificate)".into());
                }
                None => builder,
            }
        }
    };
    let cluster = builder.start().await.map_err(|e| e.to_string())?;
    match cluster.embedded_store() {
        Some(store) => {
            let recovery = store.recovery();
            let recovery_ms = recovery.duration.as_secs_f64() * 1e3;
            tracing::info!(revision = recovery.revision, recovery_ms, "store opened");
        }
        None => tracing::info!("store on etcd"),
    }

    let (security, server_url, ca_pem, token) = if args.insecure_http {
        (Security::InsecureHttp, format!("http://{address}"), None, None)
    } else {
        // The certificate names the address clients are told to use, and any the user adds.
        let mut names = args.tls_san.clone();
        if !address.ip().is_unspecified() {
            names.push(address.ip().to_string());
        }
        let pki = bosun_http::tls::load_or_create(&args.data_dir.join("pki"), &names).map_err(|e| e.to_string())?;
        let config = bosun_http::tls::server_config(&pki).map_err(|e| e.to_string())?;
        let token = admin_token(&args.data_dir)?;
        let mut tokens = vec![token.clone()];
        if let Some(file) = &args.tokens_file {
            tokens.extend(Tokens::read_file(file).map_err(io_context("could not read the tokens file", file))?);
        }
        let host = if address.ip().is_unspecified() { "127.0.0.1".to_string() } else { address.ip().to_string() };
        let host = if host.contains(':') { format!("[{host}]") } else { host };
        let url = format!("https://{host}:{}", address.port());
        (Security::Tls { config, tokens: Tokens::new(tokens) }, url, Some(pki.ca_pem), Some(token))
    };

    // The files a client needs: a kubeconfig, and the in-cluster service-account files.
    let kubeconfig_path = args.data_dir.join("kubeconfig");
    std::fs::write(&kubeconfig_path, kubeconfig(&server_url, ca_pem.as_deref(), token.as_deref()))
        .map_err(io_context("could not write", &kubeconfig_path))?;
    if let (Some(ca), Some(token)) = (&ca_pem, &token) {
        let sa = args.data_dir.join("serviceaccount");
        std::fs::create_dir_all(&sa).map_err(io_context("could not create", &sa))?;
        for (file, content) in [("ca.crt", ca.as_str()), ("namespace", "default"), ("token", token.as_str())] {
            std::fs::write(sa.join(file), content).map_err(io_context("could not write", &sa.join(file)))?;
        }
    }
    let kubeconfig_abs = std::fs::canonicalize(&kubeconfig_path).unwrap_or(kubeconfig_path);
    println!("Bosun is serving the Kubernetes API at {server_url}");
    println!("export KUBECONFIG={}", kubeconfig_abs.display());

    let shutdown = async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("shutting down");
    };
    let router = cluster.router();
    let store = cluster.api().store().clone();
    let store_closed = store.closed();
    tokio::pin!(store_closed);
    let mut lost_store = false;
    let handle_shutdown = async {
        tokio::select! {
            () = shutdown => {}
            // Closed under us: the controllers' Lease was lost (another server runs them now).
            () = &mut store_closed => lost_store = true,
        }
        cluster.shutdown_handle().shutdown();
    };
    server::serve(listener, router, security, handle_shutdown).await.map_err(|e| e.to_string())?;
    if lost_store {
        return Err("the store was closed under the server (the controllers' lease was lost, see the log); \
                    exiting so that a supervisor restarts this server as a candidate"
            .into());
    }
    cluster.stop().await.map_err(|e| format!("closing the store failed: {e}"))?;
    Ok(())
}
