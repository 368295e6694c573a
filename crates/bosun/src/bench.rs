//! `bosun bench`: the store's and the controllers' throughput, measured in-process.
//!
//! - `write`, `watch`, `resume`, `list`, `restart` and `all`: the store workloads (see
//!   `bosun_benches::suite`) on Bosun's store, on etcd (`--backend etcd`, with the `etcd`
//!   feature), or on both in one run with each figure's ratio (`--compare-etcd`).
//! - `deployments`: Deployments of 3 replicas created at once, and how many per second reach
//!   Available (every pod scheduled, running and ready through the node agent), once with
//!   durable writes and once without, so the cost of durability is a ratio from one run.
//! - `rollout`: a Deployment of N replicas (default 1000) on a virtual clock, created and then
//!   rolled to a new image; the real time each takes (the clock never waits).
//!
//! Reports a median over `--runs` with min and max; never asserts a timing.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bosun_api::api::{Api, Subresource, WriteOptions};
use bosun_api::clock::VirtualClock;
use bosun_api::patch::{PatchBody, PatchType};
use bosun_api::registry;
use bosun_api::watch::WatchParams;
use bosun_benches::suite::{self, Backend, EtcdOptions, SuiteOptions, Workload};
use bosun_store::Durability;
use serde_json::{Value, json};

/// What to measure.
#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Creates per second at 1, 16 and 64 concurrent writers (1 KiB Pods, durable writes).
    Write(StoreArgs),
    /// Watch fan-out at 1, 10, 100 and 1000 watchers: events/s, the writer's rate, write-to-event
    /// p50/p99, and whether every watcher got every event in order.
    Watch(StoreArgs),
    /// Replay of a backlog (100 000 events) by a watch from before it.
    Resume(StoreArgs),
    /// A list of 100 000 objects, in one call and in pages of 500.
    List(StoreArgs),
    /// Restart of a store holding 100 000 objects, until a read succeeds.
    Restart(StoreArgs),
    /// Every store workload: write, watch, resume, list and restart.
    All(StoreArgs),
    /// Deployments of 3 replicas created until Available, per second (durable and not, and on
    /// etcd with --etcd-endpoints).
    Deployments {
        /// Deployments created per run.
        #[arg(long, default_value_t = 200)]
        count: usize,
        /// Runs per figure (the median is reported, with min and max).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Also run the whole cluster on the etcd at these client URLs (each run under a key
        /// prefix of its own).
        #[cfg(feature = "etcd")]
        #[arg(long, value_delimiter = ',')]
        etcd_endpoints: Vec<String>,
    },
    /// Watch fan-out through Bosun's HTTP API (HTTP clients on loopback) beside the same on the
    /// store in-process and, with --compare-etcd, on etcd.
    WatchHttp(WatchHttpArgs),
    /// A rollout of many replicas on a virtual clock: real time to create, then to roll out.
    Rollout {
        /// Replicas of the Deployment.
        #[arg(long, default_value_t = 1000)]
        replicas: usize,
        /// Runs (the median is reported, with min and max).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Which store the store workloads run on.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendArg {
    /// Bosun's store (bosun-store on sled).
    Sled,
    /// etcd at `--etcd-endpoints` (needs a build with `--features etcd`).
    Etcd,
}

/// The options of the store workloads.
#[derive(clap::Args)]
pub struct StoreArgs {
    /// The store to measure.
    #[arg(long, value_enum, default_value_t = BackendArg::Sled)]
    backend: BackendArg,
    /// Run every workload on Bosun's store and on etcd, and print each figure's ratio.
    #[arg(long)]
    compare_etcd: bool,
    /// etcd's client URLs, comma-separated.
    #[arg(long, value_delimiter = ',', env = "BOSUN_ETCD_ENDPOINTS")]
    etcd_endpoints: Vec<String>,
    /// The etcd program that `restart` starts on a data directory of its own.
    #[arg(long, default_value = ".tools/bin/etcd", env = "BOSUN_ETCD_BINARY")]
    etcd_binary: std::path::PathBuf,
    /// Runs per figure (the median is reported, with min and max).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Write a chart of watch events/s against watchers to this SVG file.
    #[arg(long)]
    svg: Option<std::path::PathBuf>,
    /// Concurrent writers of `write`, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    writers: Vec<usize>,
    /// Creates per point of `write`.
    #[arg(long, default_value_t = 2_000)]
    writes: usize,
    /// Watchers of `watch`, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,10,100,1000")]
    watchers: Vec<usize>,
    /// Objects the writer creates per fan-out point of `watch`.
    #[arg(long, default_value_t = 2_000)]
    events: usize,
    /// Writes per latency point of `watch` (paced at 100 a second).
    #[arg(long, default_value_t = 200)]
    latency_writes: usize,
    /// Objects of the backlog of `resume`, `list` and `restart`.
    #[arg(long, default_value_t = 100_000)]
    objects: usize,
}

impl StoreArgs {
    fn options(self, workloads: &[Workload]) -> Result<SuiteOptions, String> {
        let backends = match (self.compare_etcd, self.backend) {
            (true, _) => vec![Backend::Sled, Backend::Etcd],
            (false, BackendArg::Sled) => vec![Backend::Sled],
            (false, BackendArg::Etcd) => vec![Backend::Etcd],
        };
        if backends.contains(&Backend::Etcd) && self.etcd_endpoints.is_empty() {
            return Err("etcd needs --etcd-endpoints URL (scripts/bench-vs-etcd.sh starts one)".into());
        }
        let positive = [self.runs, self.writes, self.events, self.latency_writes, self.objects];
        if positive.contains(&0) || self.writers.contains(&0) || self.watchers.contains(&0) {
            return Err("counts and sizes must be positive".into());
        }
        Ok(SuiteOptions {
            workloads: workloads.to_vec(),
            backends,
            runs: self.runs,
            sizes: suite::Sizes {
                writer_counts: self.writers,
                writes: self.writes,
                watcher_counts: self.watchers,
                events: self.events,
                latency_writes: self.latency_writes,
                objects: self.objects,
            },
            json: self.json,
            svg: self.svg,
            etcd: Some(EtcdOptions { endpoints: self.etcd_endpoints, binary: self.etcd_binary }),
        })
    }
}

/// Runs a store workload (or all of them).
async fn store_suite(args: StoreArgs, workloads: &[Workload]) -> Result<(), String> {
    suite::run(&args.options(workloads)?).await.map_err(|e| e.to_string())
}

/// Runs a benchmark; returns the process's exit status.
pub fn run(command: BenchCommand) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        match command {
            BenchCommand::Write(args) => store_suite(args, &[Workload::Write]).await,
            BenchCommand::Watch(args) => store_suite(args, &[Workload::Watch]).await,
            BenchCommand::Resume(args) => store_suite(args, &[Workload::Resume]).await,
            BenchCommand::List(args) => store_suite(args, &[Workload::List]).await,
            BenchCommand::Restart(args) => store_suite(args, &[Workload::Restart]).await,
            BenchCommand::All(args) => store_suite(args, &Workload::ALL).await,
            #[cfg(not(feature = "etcd"))]
            BenchCommand::Deployments { count, runs, json } => deployments(count, runs.max(1), json, Vec::new()).await,
            #[cfg(feature = "etcd")]
            BenchCommand::Deployments { count, runs, json, etcd_endpoints } => {
                deployments(count, runs.max(1), json, etcd_endpoints).await
            }
            BenchCommand::Rollout { replicas, runs, json } => rollout(replicas, runs.max(1), json).await,
            BenchCommand::WatchHttp(args) => watch_http(args).await.map_err(|e| e.to_string()),
        }
    })
}

/// Median, min and max of a sample.
fn summary(mut sample: Vec<f64>) -> (f64, f64, f64) {
    sample.sort_by(f64::total_cmp);
    (sample[sample.len() / 2], sample[0], sample[sample.len() - 1])
}

fn deployment(name: &str, replicas: usize, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]}
            }
        }
    })
}

/// Whether a Deployment is complete as `kubectl rollout status` decides it.
fn is_complete(d: &Value) -> bool {
    let want = &d["spec"]["replicas"];
    let status = &d["status"];
    status["observedGeneration"] == d["metadata"]["generation"]
        && &status["updatedReplicas"] == want
        && &status["replicas"] == want
        && &status["availableReplicas"] == want
}

/// Waits until `count` Deployments in `default` are complete, reading each change once from a
/// watch (re-listing every few milliseconds would take CPU from the cluster being measured).
async fn wait_complete(api: &Api, count: usize, label: &str) -> Result<(), String> {
    let deployments = registry::find("apps", "v1", "deployments").expect("registered");
    let mut watch =
        api.watch(deployments, Some("default"), &WatchParams::default(), None).await.map_err(|s| s.message)?;
    let mut complete = HashSet::new();
    let mut last_report = Instant::now();
    while complete.len() < count {
        let event = watch.next().await.ok_or("the watch on Deployments ended")?;
        let d = event.object_value();
        let name = bosun_api::meta::name(&d).to_string();
        if is_complete(&d) {
            complete.insert(name);
        } else {
            complete.remove(&name);
        }
        if last_report.elapsed() > Duration::from_secs(2) {
            eprintln!("  {label}: {}/{count} complete", complete.len());
            last_report = Instant::now();
        }
    }
    Ok(())
}

/// Where a `deployments` run keeps its objects.
#[derive(Clone)]
enum Backing {
    Embedded(Durability),
    #[cfg_attr(not(feature = "etcd"), allow(dead_code))]
    Etcd(Vec<String>),
}

async fn deployments_run(count: usize, backing: Backing) -> Result<f64, String> {
    let builder = bosun::Cluster::builder().temporary();
    let builder = match backing {
        Backing::Embedded(durability) => builder.durability(durability),
        #[cfg(feature = "etcd")]
        Backing::Etcd(endpoints) => builder.etcd(endpoints, format!("/bosun-bench/{}/", uuid::Uuid::new_v4().simple())),
        #[cfg(not(feature = "etcd"))]
        Backing::Etcd(_) => unreachable!("only built with the etcd feature"),
    };
    let cluster = builder.start().await.map_err(|e| e.to_string())?;
    let api = cluster.api().clone();
    let deployments = registry::find("apps", "v1", "deployments").expect("registered");
    let started = Instant::now();
    let mut creates = tokio::task::JoinSet::new();
    for i in 0..count {
        let api = api.clone();
        creates.spawn(async move {
            let body = deployment(&format!("bench-{i}"), 3, "luksa/kubia:v1");
            api.create(deployments, "default", body, &WriteOptions::default()).await.map(|_| ()).map_err(|s| s.message)
        });
    }
    while let Some(result) = creates.join_next().await {
        result.map_err(|e| e.to_string())??;
    }
    wait_complete(&api, count, "available").await?;
    let rate = count as f64 / started.elapsed().as_secs_f64();
    cluster.shutdown().map_err(|e| e.to_string())?;
    Ok(rate)
}

async fn deployments(count: usize, runs: usize, json: bool, etcd_endpoints: Vec<String>) -> Result<(), String> {
    let mut figures = Vec::new();
    let mut modes = vec![
        ("durable (Immediate)", Backing::Embedded(Durability::Immediate)),
        ("not durable (None)", Backing::Embedded(Durability::None)),
    ];
    if !etcd_endpoints.is_empty() {
        modes.push(("on etcd", Backing::Etcd(etcd_endpoints)));
    }
    let progress = bosun_benches::progress::Progress::new((modes.len() * runs) as u64);
    for (label, backing) in modes {
        let mut sample = Vec::new();
        for run in 1..=runs {
            progress.start(format_args!("{label}: run {run}/{runs}, {count} Deployments of 3 replicas"));
            let rate = deployments_run(count, backing.clone()).await?;
            progress.finish_point(format_args!("deployments, {label}: run {run}/{runs}: {rate:.0} Deployments/s"));
            sample.push(rate);
        }
        figures.push((label, summary(sample)));
    }
    progress.done();
    let ratio = figures[0].1.0 / figures[1].1.0;
    let etcd_ratio = figures.get(2).map(|(_, (on_etcd, _, _))| on_etcd / figures[0].1.0);
    if json {
        let rows: Vec<Value> = figures
            .iter()
            .map(|(label, (median, min, max))| json!({"mode": label, "deployments_per_second": {"median": median, "min": min, "max": max}}))
            .collect();
        println!(
            "{}",
            json!({"benchmark": "deployments", "count": count, "runs": runs, "results": rows, "durable_over_not": ratio,
                "etcd_over_durable": etcd_ratio})
        );
    } else {
        println!("Deployments of 3 replicas, created at once until Available ({count} per run, median of {runs}):");
        println!("{:<22} {:>12} {:>10} {:>10}", "mode", "per second", "min", "max");
        for (label, (median, min, max)) in &figures {
            println!("{label:<22} {median:>12.1} {min:>10.1} {max:>10.1}");
        }
        println!("durable / not durable: {ratio:.2}");
        if let Some(etcd_ratio) = etcd_ratio {
            println!("on etcd / durable: {etcd_ratio:.2}");
        }
    }
    Ok(())
}

async fn rollout_run(replicas: usize) -> Result<(f64, f64), String> {
    let clock = VirtualClock::starting_at(SystemTime::now());
    let cluster = bosun::Cluster::builder()
        .temporary()
        .durability(Durability::None)
        .clock(Arc::new(clock))
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let api = cluster.api().clone();
    let deployments = registry::find("apps", "v1", "deployments").expect("registered");
    let started = Instant::now();
    api.create(deployments, "default", deployment("big", replicas, "luksa/kubia:v1"), &WriteOptions::default())
        .await
        .map_err(|s| s.message)?;
    wait_complete(&api, 1, "create").await?;
    let created = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "luksa/kubia:v2"}]}}}});
    let body = PatchBody { patch_type: PatchType::Strategic, document: patch };
    api.patch(deployments, "default", "big", Subresource::Main, body, &Default::default())
        .await
        .map_err(|s| s.message)?;
    // Complete again only once the controller has observed the new generation and rolled it out.
    wait_complete(&api, 1, "rollout").await?;
    let rolled = started.elapsed().as_secs_f64();
    cluster.shutdown().map_err(|e| e.to_string())?;
    Ok((created, rolled))
}

async fn rollout(replicas: usize, runs: usize, json: bool) -> Result<(), String> {
    let (mut creates, mut rollouts) = (Vec::new(), Vec::new());
    let progress = bosun_benches::progress::Progress::new(runs as u64);
    for run in 1..=runs {
        progress.start(format_args!("run {run}/{runs}, {replicas} replicas on a virtual clock"));
        let (created, rolled) = rollout_run(replicas).await?;
        progress.finish_point(format_args!(
            "rollout: run {run}/{runs}: created in {created:.2} s, rolled out in {rolled:.2} s"
        ));
        creates.push(created);
        rollouts.push(rolled);
    }
    progress.done();
    let (create, rollout) = (summary(creates), summary(rollouts));
    if json {
        println!(
            "{}",
            json!({"benchmark": "rollout", "replicas": replicas, "runs": runs,
                "create_seconds": {"median": create.0, "min": create.1, "max": create.2},
                "rollout_seconds": {"median": rollout.0, "min": rollout.1, "max": rollout.2}})
        );
    } else {
        println!("A Deployment of {replicas} replicas on a virtual clock, real seconds (median of {runs}):");
        println!("{:<28} {:>8} {:>8} {:>8}", "phase", "median", "min", "max");
        println!("{:<28} {:>8.2} {:>8.2} {:>8.2}", "create until complete", create.0, create.1, create.2);
        println!("{:<28} {:>8.2} {:>8.2} {:>8.2}", "roll to a new image", rollout.0, rollout.1, rollout.2);
    }
    Ok(())
}

/// The options of `bosun bench watch-http`.
#[derive(clap::Args)]
pub struct WatchHttpArgs {
    /// Watchers per point, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,10,100,1000")]
    watchers: Vec<usize>,
    /// Objects the writer creates per point.
    #[arg(long, default_value_t = 2_000)]
    events: usize,
    /// Runs per point (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Also measure etcd at `--etcd-endpoints` (needs a build with `--features etcd`).
    #[arg(long)]
    compare_etcd: bool,
    /// etcd's client URLs, comma-separated.
    #[arg(long, value_delimiter = ',', env = "BOSUN_ETCD_ENDPOINTS")]
    etcd_endpoints: Vec<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Medians of events delivered per second at one watcher count, by how the watchers connect.
struct HttpRow {
    watchers: usize,
    in_process: f64,
    http: f64,
    etcd: Option<f64>,
    lost: u64,
    reordered: u64,
}

async fn watch_http(args: WatchHttpArgs) -> bosun_benches::BenchResult<()> {
    use bosun_benches::drive::fanout_point;
    use bosun_benches::on_store::ScratchStore;
    use bosun_benches::pods::pod_objects;
    if args.compare_etcd && args.etcd_endpoints.is_empty() {
        return Err("--compare-etcd needs --etcd-endpoints URL (scripts/bench-vs-etcd.sh starts one)".into());
    }
    #[cfg(not(feature = "etcd"))]
    if args.compare_etcd {
        return Err("this build has no etcd support: build with `--features etcd`".into());
    }
    let median = |sample: Vec<f64>| summary(sample).0;
    let mut rows = Vec::new();
    let progress = bosun_benches::progress::Progress::new((args.watchers.len() * args.runs.max(1)) as u64);
    for &watchers in &args.watchers {
        let (mut in_process, mut http) = (Vec::new(), Vec::new());
        #[cfg_attr(not(feature = "etcd"), allow(unused_mut))]
        let mut etcd: Vec<f64> = Vec::new();
        let (mut lost, mut reordered) = (0, 0);
        for run in 1..=args.runs.max(1) {
            progress.start(format_args!("{watchers} watchers, run {run}/{}", args.runs.max(1)));
            let scratch = ScratchStore::open(None, Durability::Immediate)?;
            let point = fanout_point(&scratch.store, watchers, pod_objects(0..args.events)).await?;
            scratch.discard()?;
            in_process.push(point.delivered_per_second);
            let point = bosun_benches::http::fanout(watchers, args.events).await?;
            (lost, reordered) = (lost + point.integrity.lost, reordered + point.integrity.reordered);
            http.push(point.delivered_per_second);
            #[cfg(feature = "etcd")]
            if args.compare_etcd {
                let options = EtcdOptions { endpoints: args.etcd_endpoints.clone(), binary: Default::default() };
                etcd.push(bosun_benches::etcd::fanout(&options, watchers, args.events).await?.delivered_per_second);
            }
            progress.finish_point(format_args!("watch-http: {watchers} watchers, run {run}/{} done", args.runs.max(1)));
        }
        let etcd = (!etcd.is_empty()).then(|| median(etcd));
        rows.push(HttpRow { watchers, in_process: median(in_process), http: median(http), etcd, lost, reordered });
    }
    progress.done();
    if args.json {
        let rows: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({"watchers": r.watchers, "in_process_events_per_second": r.in_process,
                    "http_events_per_second": r.http, "etcd_events_per_second": r.etcd,
                    "http_lost": r.lost, "http_reordered": r.reordered})
            })
            .collect();
        println!("{}", json!({"benchmark": "watch-http", "events": args.events, "runs": args.runs, "results": rows}));
        return Ok(());
    }
    println!("Watch fan-out, events delivered per second (median of {}, {} events per point):", args.runs, args.events);
    println!(
        "{:>9} {:>14} {:>14} {:>14} {:>11} {:>13}",
        "watchers", "in-process", "HTTP", "etcd", "HTTP/etcd", "HTTP/in-proc"
    );
    for r in &rows {
        let etcd = r.etcd.map_or("-".to_string(), |e| format!("{e:.0}"));
        let ratio = r.etcd.map_or("-".to_string(), |e| format!("{:.2}", r.http / e));
        println!(
            "{:>9} {:>14.0} {:>14.0} {:>14} {:>11} {:>13.2}",
            r.watchers,
            r.in_process,
            r.http,
            etcd,
            ratio,
            r.http / r.in_process
        );
    }
    let (lost, reordered): (u64, u64) = rows.iter().fold((0, 0), |(l, o), r| (l + r.lost, o + r.reordered));
    println!("HTTP watchers: lost {lost}, reordered {reordered}");
    Ok(())
}
