//! `bosun bench write|watch|resume|list|restart|all`: the store workloads on Bosun's store and,
//! with the `etcd` feature, on etcd, in one run, with each figure's ratio.
//!
//! Both stores get the same objects, the same clients (tokio tasks on one runtime) and the same
//! durability: Bosun's store acknowledges writes after a flush (`Durability::Immediate`, what
//! `bosun serve` runs) and etcd after its WAL fsync. Runs are interleaved (every workload of run 1
//! on every store, then run 2...), so background load spreads over both stores instead of
//! spoiling one of them. Figures are medians over the runs with min and max; nothing here ever
//! fails because of a timing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use bosun_store::{Durability, ListPage, Store};
use serde_json::json;

use crate::BenchResult;
use crate::check::Integrity;
use crate::drive::{
    LATENCY_WRITES_PER_SECOND, WatchedStore, create_concurrently, fanout_point, latency_point, replay, timed_ms,
};
use crate::on_store::{BACKLOG_WRITERS, LIST_PAGE, ScratchStore, list_paged, list_whole, time_list};
use crate::pods::{pod_object, pod_objects, pod_objects_per_writer};
use crate::progress::Progress;
use crate::report::{counted, format_value, load_average, spread};

/// A store the suite measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Backend {
    /// Bosun's own store (bosun-store on sled).
    Sled,
    /// etcd, through its gRPC API.
    Etcd,
}

impl Backend {
    /// How tables name it.
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sled => "Bosun",
            Backend::Etcd => "etcd",
        }
    }
}

/// A workload, as a subcommand names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Creates per second at 1, 16 and 64 concurrent writers.
    Write,
    /// Watch fan-out: events delivered per second, the writer's rate, write-to-event latency.
    Watch,
    /// Replay of a backlog by a watch from before it.
    Resume,
    /// A list of the backlog, in one call and paged.
    List,
    /// Reopening a store that holds the backlog.
    Restart,
}

impl Workload {
    /// Every workload, in the order `all` runs them.
    pub const ALL: [Workload; 5] =
        [Workload::Write, Workload::Watch, Workload::Resume, Workload::List, Workload::Restart];
}

/// How much work each point does.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Concurrent writers of the write workload.
    pub writer_counts: Vec<usize>,
    /// Creates per point of the write workload.
    pub writes: usize,
    /// Watchers per point of the watch workload.
    pub watcher_counts: Vec<usize>,
    /// Objects the single writer creates per fan-out point.
    pub events: usize,
    /// Paced writes per latency point.
    pub latency_writes: usize,
    /// Objects of the backlog that resume, list and restart work on (rounded up to a multiple of
    /// its 16 writers).
    pub objects: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            writer_counts: vec![1, 16, 64],
            writes: 2_000,
            watcher_counts: vec![1, 10, 100, 1000],
            events: 2_000,
            latency_writes: 200,
            objects: 100_000,
        }
    }
}

/// Where etcd is, when it is measured.
#[derive(Debug, Clone)]
pub struct EtcdOptions {
    /// Client URLs of a running etcd (every workload but restart).
    pub endpoints: Vec<String>,
    /// The etcd program, which restart starts on a data directory of its own.
    pub binary: PathBuf,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// The workloads, in order.
    pub workloads: Vec<Workload>,
    /// The stores measured, in order; two of them means a comparison with ratios.
    pub backends: Vec<Backend>,
    /// Runs per figure (the median is reported, with min and max).
    pub runs: usize,
    /// Sizes of the points.
    pub sizes: Sizes,
    /// Print JSON instead of a table.
    pub json: bool,
    /// Where to write the chart of events/s against watchers, if anywhere.
    pub svg: Option<PathBuf>,
    /// Where etcd is (needed when `backends` has it).
    pub etcd: Option<EtcdOptions>,
}

/// Whether more or less of a figure is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Better {
    Higher,
    Lower,
}

/// One figure, with every run's value on every store.
#[derive(Debug)]
struct Figure {
    name: String,
    unit: &'static str,
    better: Better,
    /// What the figure's ratio should reach (Bosun's advantage over etcd), from the goals.
    goal: Option<f64>,
    samples: BTreeMap<Backend, Vec<f64>>,
}

impl Figure {
    fn median(&self, backend: Backend) -> Option<f64> {
        self.samples.get(&backend).map(|samples| spread(samples).0)
    }

    /// How many times better Bosun's median is than etcd's (>1: Bosun is ahead).
    fn advantage(&self) -> Option<f64> {
        let (bosun, etcd) = (self.median(Backend::Sled)?, self.median(Backend::Etcd)?);
        Some(match self.better {
            Better::Higher => bosun / etcd,
            Better::Lower => etcd / bosun,
        })
    }
}

/// Everything measured.
#[derive(Default)]
struct Results {
    figures: Vec<Figure>,
    integrity: BTreeMap<Backend, Integrity>,
}

impl Results {
    fn record(&mut self, backend: Backend, name: String, unit: &'static str, better: Better, value: f64) {
        let figure = match self.figures.iter().position(|figure| figure.name == name) {
            Some(index) => &mut self.figures[index],
            None => {
                let goal = goal(&name);
                self.figures.push(Figure { name, unit, better, goal, samples: BTreeMap::new() });
                self.figures.last_mut().expect("just pushed")
            }
        };
        figure.samples.entry(backend).or_default().push(value);
    }

    fn checked(&mut self, backend: Backend, integrity: Integrity) {
        *self.integrity.entry(backend).or_default() += integrity;
    }
}

/// The goals, as Bosun's advantage over etcd in the same run, by figure name.
fn goal(name: &str) -> Option<f64> {
    match name {
        "writes, 1 writer" => Some(2.0),
        "writes, 64 writers" => Some(5.0),
        "watch, 1000 watchers, events delivered" => Some(50.0),
        "watch, 1000 watchers, write-to-event p99" => Some(15.0),
        _ if name.starts_with("resume") => Some(100.0),
        _ if name.starts_with("list") && name.ends_with("one call") => Some(5.0),
        _ if name.starts_with("restart") => Some(3.0),
        _ => None,
    }
}

/// Points one run on one store measures, for the progress bar.
fn points_per_run(options: &SuiteOptions) -> usize {
    let wants = |workload| options.workloads.contains(&workload);
    let mut points = 0;
    if wants(Workload::Write) {
        points += options.sizes.writer_counts.len();
    }
    if wants(Workload::Watch) {
        points += options.sizes.watcher_counts.len();
    }
    if wants(Workload::Resume) || wants(Workload::List) {
        // The backlog, then each of the two.
        points += 1 + usize::from(wants(Workload::Resume)) + usize::from(wants(Workload::List));
    }
    points + usize::from(wants(Workload::Restart))
}

/// The goal on one store's own figures: the writer's rate with 1000 watchers over its rate with 1.
const WRITER_RATIO_GOAL: f64 = 0.9;

/// Runs the suite and prints its results (a table, or JSON); writes the chart if asked.
pub async fn run(options: &SuiteOptions) -> BenchResult<()> {
    let started = Instant::now();
    let load_before = load_average();
    let names: Vec<&str> = options.backends.iter().map(|backend| backend.label()).collect();
    eprintln!("bosun bench: {} on {}, load average {load_before}", counted(options.runs, "run"), names.join(" and "));
    #[cfg(feature = "etcd")]
    let etcd = match (&options.etcd, options.backends.contains(&Backend::Etcd)) {
        (Some(etcd), true) => Some(crate::etcd::EtcdSide::connect(etcd).await?),
        (None, true) => return Err("etcd needs --etcd-endpoints".into()),
        _ => None,
    };
    #[cfg(not(feature = "etcd"))]
    if options.backends.contains(&Backend::Etcd) {
        return Err("this build has no etcd support: build with `--features etcd`".into());
    }
    let mut results = Results::default();
    let progress = Progress::new((options.runs * options.backends.len() * points_per_run(options)) as u64);
    for run in 1..=options.runs {
        for &backend in &options.backends {
            let mut bench = Bench { options, results: &mut results, backend, run, started, progress: &progress };
            match backend {
                Backend::Sled => bench.workloads(&SledSide).await?,
                #[cfg(feature = "etcd")]
                Backend::Etcd => bench.workloads(etcd.as_ref().expect("connected above")).await?,
                #[cfg(not(feature = "etcd"))]
                Backend::Etcd => unreachable!("refused above"),
            }
        }
    }
    progress.done();
    let elapsed = started.elapsed().as_secs_f64();
    let footer = format!(
        "median, min and max over {}; {elapsed:.0} s in all; load average {load_before} before, {} after",
        counted(options.runs, "run"),
        load_average()
    );
    eprintln!("bosun bench: done in {elapsed:.1} s");
    if let Some(path) = &options.svg {
        std::fs::write(path, render_svg(&results, &options.sizes))?;
        eprintln!("bosun bench: chart written to {}", path.display());
    }
    if options.json {
        println!("{}", render_json(&results, options, elapsed));
    } else {
        print!("{}", render_table(&results, &footer));
    }
    Ok(())
}

/// One store's side of the suite: what differs between Bosun's store and etcd beyond
/// [`WatchedStore`].
pub(crate) trait Side {
    /// The store the workloads write to.
    type Store: WatchedStore;
    /// What owns it while it is used (a temporary directory, a key range).
    type Scratch: AsRef<Self::Store>;

    /// An empty store (or, on a shared etcd, an empty key range), durable as configured.
    async fn fresh(&self) -> BenchResult<Self::Scratch>;

    /// Drops what `fresh` made.
    async fn discard(&self, scratch: Self::Scratch) -> BenchResult<()>;

    /// Times a list of every Pod (`expected` of them) in one call or in pages, in milliseconds.
    async fn list(&self, store: &Self::Store, expected: usize, page: Option<usize>) -> BenchResult<f64>;

    /// Fills a store with `objects` Pods, stops it, and times starting it again until a read of
    /// it succeeds, in milliseconds.
    async fn restart(&self, objects: usize) -> BenchResult<f64>;
}

/// Bosun's store, each point on a scratch store in its own temporary directory.
struct SledSide;

impl Side for SledSide {
    type Store = Store;
    type Scratch = ScratchStore;

    async fn fresh(&self) -> BenchResult<ScratchStore> {
        ScratchStore::open(None, Durability::Immediate)
    }

    async fn discard(&self, scratch: ScratchStore) -> BenchResult<()> {
        scratch.discard()
    }

    /// Pages are always [`LIST_PAGE`] long, as in store-bench.
    async fn list(&self, store: &Store, expected: usize, page: Option<usize>) -> BenchResult<f64> {
        let list = || -> BenchResult<Vec<ListPage>> {
            match page {
                Some(_) => list_paged(store),
                None => list_whole(store),
            }
        };
        time_list(expected, list)
    }

    async fn restart(&self, objects: usize) -> BenchResult<f64> {
        // Filled without waiting for flushes (the fill is not a figure); closing flushes it all.
        let scratch = ScratchStore::open(None, Durability::None)?;
        create_concurrently(&scratch.store, pod_objects_per_writer(objects, BACKLOG_WRITERS)).await?;
        let dir = scratch.close()?;
        let probe = pod_object(0).key;
        let (ms, store) = timed_ms(|| -> BenchResult<Store> {
            let store = Store::open(dir.path(), Default::default())?;
            store.get(&probe)?.ok_or("the reopened store lost an object")?;
            Ok(store)
        })?;
        store.close()?;
        drop(store);
        dir.close()?;
        Ok(ms)
    }
}

/// The workloads of one run on one store.
struct Bench<'a> {
    options: &'a SuiteOptions,
    results: &'a mut Results,
    backend: Backend,
    run: usize,
    started: Instant,
    progress: &'a Progress,
}

impl Bench<'_> {
    /// Names the point about to run, beside the progress bar.
    fn starting(&self, point: impl std::fmt::Display) {
        self.progress.start(format_args!("run {}/{} {}: {point}", self.run, self.options.runs, self.backend.label()));
    }

    /// Reports a finished point.
    fn progress(&self, message: impl std::fmt::Display) {
        self.progress.finish_point(format_args!(
            "[run {}/{} {} +{:.1}s] {message}",
            self.run,
            self.options.runs,
            self.backend.label(),
            self.started.elapsed().as_secs_f64()
        ));
    }

    fn record(&mut self, name: String, unit: &'static str, better: Better, value: f64) {
        self.results.record(self.backend, name, unit, better, value);
    }

    async fn workloads<S: Side>(&mut self, side: &S) -> BenchResult<()> {
        let wants = |workload| self.options.workloads.contains(&workload);
        if wants(Workload::Write) {
            self.write(side).await?;
        }
        if wants(Workload::Watch) {
            self.watch(side).await?;
        }
        if wants(Workload::Resume) || wants(Workload::List) {
            self.backlog(side, wants(Workload::Resume), wants(Workload::List)).await?;
        }
        if wants(Workload::Restart) {
            let objects = self.backlog_size();
            self.starting(format_args!("restart with {objects} objects"));
            let ms = side.restart(objects).await?;
            self.progress(format_args!("restart with {objects} objects: {ms:.1} ms until a read succeeds"));
            self.record(format!("restart with {objects} objects"), "ms", Better::Lower, ms);
        }
        Ok(())
    }

    /// The backlog's objects, rounded up to equal shares for its writers.
    fn backlog_size(&self) -> usize {
        self.options.sizes.objects.div_ceil(BACKLOG_WRITERS) * BACKLOG_WRITERS
    }

    async fn write<S: Side>(&mut self, side: &S) -> BenchResult<()> {
        for &writers in &self.options.sizes.writer_counts {
            self.starting(format_args!("writes, {}", counted(writers, "writer")));
            let shares = pod_objects_per_writer(self.options.sizes.writes, writers);
            let written = shares.iter().map(Vec::len).sum::<usize>();
            let scratch = side.fresh().await?;
            let elapsed = create_concurrently(scratch.as_ref(), shares).await?;
            side.discard(scratch).await?;
            let rate = written as f64 / elapsed.as_secs_f64();
            self.progress(format_args!("write x{writers}: {} creates/s", format_value(rate)));
            self.record(format!("writes, {}", counted(writers, "writer")), "writes/s", Better::Higher, rate);
        }
        Ok(())
    }

    async fn watch<S: Side>(&mut self, side: &S) -> BenchResult<()> {
        let sizes = &self.options.sizes;
        let mut writer_rates = Vec::new();
        for &watchers in &sizes.watcher_counts.clone() {
            self.starting(format_args!("watch, {}", counted(watchers, "watcher")));
            let scratch = side.fresh().await?;
            let fanout = fanout_point(scratch.as_ref(), watchers, pod_objects(0..sizes.events)).await?;
            side.discard(scratch).await?;
            let scratch = side.fresh().await?;
            let latency = latency_point(scratch.as_ref(), watchers, pod_objects(0..sizes.latency_writes)).await?;
            side.discard(scratch).await?;
            let mut integrity = fanout.integrity;
            integrity += latency.integrity;
            self.progress(format_args!(
                "watch, {}: {} events/s, writer {} writes/s; at {LATENCY_WRITES_PER_SECOND} writes/s p50 {:.2} ms, \
                 p99 {:.2} ms; {}",
                counted(watchers, "watcher"),
                format_value(fanout.delivered_per_second),
                format_value(fanout.writer_per_second),
                latency.p50_ms,
                latency.p99_ms,
                order_check(&integrity)
            ));
            self.results.checked(self.backend, integrity);
            let name = format!("watch, {}", counted(watchers, "watcher"));
            self.record(format!("{name}, events delivered"), "events/s", Better::Higher, fanout.delivered_per_second);
            self.record(format!("{name}, writer"), "writes/s", Better::Higher, fanout.writer_per_second);
            self.record(format!("{name}, write-to-event p50"), "ms", Better::Lower, latency.p50_ms);
            self.record(format!("{name}, write-to-event p99"), "ms", Better::Lower, latency.p99_ms);
            writer_rates.push((watchers, fanout.writer_per_second));
        }
        if let (Some(&(fewest, alone)), Some(&(most, crowded))) = (writer_rates.first(), writer_rates.last())
            && most > fewest
        {
            let name = format!("writer rate, {} / {}", counted(most, "watcher"), counted(fewest, "watcher"));
            self.record(name, "ratio", Better::Higher, crowded / alone);
        }
        Ok(())
    }

    /// Resume and list share one backlog per run: filling 100 000 objects is the slow part.
    async fn backlog<S: Side>(&mut self, side: &S, resume: bool, list: bool) -> BenchResult<()> {
        let objects = self.backlog_size();
        self.starting(format_args!("a backlog of {objects} objects"));
        let scratch = side.fresh().await?;
        let store = scratch.as_ref();
        let before = store.revision().await?;
        let fill = create_concurrently(store, pod_objects_per_writer(objects, BACKLOG_WRITERS)).await?;
        self.progress(format_args!("backlog of {objects} objects written in {:.1} s", fill.as_secs_f64()));
        // The first scan over freshly written data is slower than later ones on both stores;
        // whichever figure came first would pay for it, so it is done (and not reported) here.
        side.list(store, objects, None).await?;
        if list {
            self.starting(format_args!("list {objects} objects"));
            let whole = side.list(store, objects, None).await?;
            let paged = side.list(store, objects, Some(LIST_PAGE)).await?;
            self.progress(format_args!("list {objects}: one call {whole:.1} ms, pages of {LIST_PAGE} {paged:.1} ms"));
            self.record(format!("list {objects} objects, one call"), "ms", Better::Lower, whole);
            self.record(format!("list {objects} objects, pages of {LIST_PAGE}"), "ms", Better::Lower, paged);
        }
        if resume {
            self.starting(format_args!("replay of {objects} events"));
            let replayed = replay(store, before, objects as u64).await?;
            let rate = objects as f64 / replayed.elapsed.as_secs_f64();
            self.progress(format_args!(
                "resume: {objects} events replayed at {} events/s; {}",
                format_value(rate),
                order_check(&replayed.integrity)
            ));
            self.results.checked(self.backend, replayed.integrity);
            self.record(format!("resume, replay of {objects} events"), "events/s", Better::Higher, rate);
        }
        side.discard(scratch).await
    }
}

/// "lost 0, reordered 0", with duplicates and errors only when there were some.
fn order_check(integrity: &Integrity) -> String {
    let mut text = format!("lost {}, reordered {}", integrity.lost, integrity.reordered);
    if integrity.duplicated + integrity.unexpected + integrity.errors > 0 {
        let _ = write!(
            text,
            ", duplicated {}, unexpected {}, errors {}",
            integrity.duplicated, integrity.unexpected, integrity.errors
        );
    }
    text
}

fn render_table(results: &Results, footer: &str) -> String {
    let backends: Vec<Backend> = results
        .integrity
        .keys()
        .copied()
        .chain(results.figures.iter().flat_map(|figure| figure.samples.keys().copied()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let compared = backends.len() > 1;
    let mut header: Vec<String> = vec!["figure".into(), "unit".into()];
    for backend in &backends {
        header.push(format!("{} median", backend.label()));
        header.push(format!("{} min-max", backend.label()));
    }
    if compared {
        header.extend(["Bosun / etcd".into(), "goal".into(), "met".into()]);
    }
    let mut rows = vec![header];
    for figure in &results.figures {
        let mut row = vec![figure.name.clone(), figure.unit.to_string()];
        for backend in &backends {
            match figure.samples.get(backend) {
                Some(samples) => {
                    let (median, min, max) = spread(samples);
                    row.push(format_value(median));
                    row.push(format!("{}-{}", format_value(min), format_value(max)));
                }
                None => row.extend([String::new(), String::new()]),
            }
        }
        if compared {
            let advantage = figure.advantage();
            row.push(advantage.map(|ratio| format!("{}x", format_value(ratio))).unwrap_or_default());
            row.push(figure.goal.map(|goal| format!(">= {}x", format_value(goal))).unwrap_or_default());
            row.push(match (figure.goal, advantage) {
                (Some(goal), Some(ratio)) => if ratio >= goal { "yes" } else { "no" }.into(),
                _ => String::new(),
            });
        }
        rows.push(row);
    }
    let columns = rows[0].len();
    let widths: Vec<usize> =
        (0..columns).map(|i| rows.iter().map(|row| row[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (index, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, &width))| if i < 2 { format!("{cell:<width$}") } else { format!("{cell:>width$}") })
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
        if index == 0 {
            let rule: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(i, &width)| if i < 2 { "-".repeat(width) } else { format!("{}:", "-".repeat(width - 1)) })
                .collect();
            let _ = writeln!(out, "| {} |", rule.join(" | "));
        }
    }
    let _ = writeln!(out, "\n{footer}");
    for (backend, integrity) in &results.integrity {
        let _ = writeln!(
            out,
            "watch order check, every watcher of every run on {}: {} ({} events delivered)",
            backend.label(),
            order_check(integrity),
            integrity.delivered
        );
    }
    if compared {
        let _ = writeln!(out, "Bosun / etcd: how many times better Bosun's median is (higher rates, shorter times)");
    }
    for figure in &results.figures {
        // The goal is for 1000 watchers against 1; smaller sizes are not judged.
        if figure.name == "writer rate, 1000 watchers / 1 watcher"
            && let Some(ratio) = figure.median(Backend::Sled)
        {
            let met = if ratio >= WRITER_RATIO_GOAL { "met" } else { "not met" };
            let _ = writeln!(out, "{} on Bosun: {ratio:.2} (goal >= {WRITER_RATIO_GOAL}: {met})", figure.name);
        }
    }
    out
}

fn render_json(results: &Results, options: &SuiteOptions, elapsed: f64) -> String {
    let figures: Vec<_> = results
        .figures
        .iter()
        .map(|figure| {
            let values: serde_json::Map<String, serde_json::Value> = figure
                .samples
                .iter()
                .map(|(backend, samples)| {
                    let (median, min, max) = spread(samples);
                    let key = format!("{backend:?}").to_lowercase();
                    (key, json!({"median": median, "min": min, "max": max, "samples": samples}))
                })
                .collect();
            json!({
                "name": figure.name,
                "unit": figure.unit,
                "higher_is_better": figure.better == Better::Higher,
                "values": values,
                "bosun_over_etcd": figure.advantage(),
                "goal": figure.goal,
            })
        })
        .collect();
    let integrity: serde_json::Map<String, serde_json::Value> = results
        .integrity
        .iter()
        .map(|(backend, integrity)| {
            let key = format!("{backend:?}").to_lowercase();
            let value = json!({
                "delivered": integrity.delivered, "lost": integrity.lost, "reordered": integrity.reordered,
                "duplicated": integrity.duplicated, "unexpected": integrity.unexpected, "errors": integrity.errors,
            });
            (key, value)
        })
        .collect();
    let sizes = &options.sizes;
    let document = json!({
        "runs": options.runs,
        "elapsed_seconds": elapsed,
        "sizes": {
            "writer_counts": sizes.writer_counts, "writes": sizes.writes, "watcher_counts": sizes.watcher_counts,
            "events": sizes.events, "latency_writes": sizes.latency_writes, "objects": sizes.objects,
        },
        "figures": figures,
        "watch_order_check": integrity,
    });
    serde_json::to_string_pretty(&document).expect("a JSON value always serializes")
}

/// A line chart of events delivered per second against watchers, both axes logarithmic (the
/// stores differ by orders of magnitude), one line per store.
fn render_svg(results: &Results, sizes: &Sizes) -> String {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 400.0;
    const LEFT: f64 = 100.0;
    const RIGHT: f64 = 130.0;
    const TOP: f64 = 40.0;
    const BOTTOM: f64 = 50.0;
    let mut lines: Vec<(Backend, Vec<(f64, f64)>)> = Vec::new();
    for backend in [Backend::Sled, Backend::Etcd] {
        let points: Vec<(f64, f64)> = sizes
            .watcher_counts
            .iter()
            .filter_map(|&watchers| {
                let name = format!("watch, {}, events delivered", counted(watchers, "watcher"));
                let figure = results.figures.iter().find(|figure| figure.name == name)?;
                Some((watchers as f64, figure.median(backend)?))
            })
            .collect();
        if !points.is_empty() {
            lines.push((backend, points));
        }
    }
    let all = || lines.iter().flat_map(|(_, points)| points.iter());
    let x_max = all().map(|point| point.0).fold(10.0, f64::max).log10().ceil().max(1.0);
    let y_low = all().map(|point| point.1).fold(f64::INFINITY, f64::min).max(1.0).log10().floor();
    let y_high = all().map(|point| point.1).fold(10.0, f64::max).log10().ceil().max(y_low + 1.0);
    let x = |value: f64| LEFT + value.log10() / x_max * (WIDTH - LEFT - RIGHT);
    let y = |value: f64| HEIGHT - BOTTOM - (value.log10() - y_low) / (y_high - y_low) * (HEIGHT - TOP - BOTTOM);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">Watch fan-out: events delivered per second \
         ({} events per point)</text>\n",
        WIDTH / 2.0,
        sizes.events
    );
    for decade in 0..=x_max as i32 {
        let px = x(10f64.powi(decade));
        let _ = writeln!(
            svg,
            "<line x1=\"{px:.1}\" y1=\"{TOP}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            HEIGHT - BOTTOM,
            HEIGHT - BOTTOM + 18.0,
            axis_label(10f64.powi(decade))
        );
    }
    for decade in y_low as i32..=y_high as i32 {
        let py = y(10f64.powi(decade));
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{:.1}\" y2=\"{py:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 8.0,
            py + 4.0,
            axis_label(10f64.powi(decade))
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">watchers (log scale)</text>\n\
         <text transform=\"translate(18 {:.1}) rotate(-90)\" text-anchor=\"middle\">events/s (log scale)</text>",
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        HEIGHT - 10.0,
        TOP + (HEIGHT - TOP - BOTTOM) / 2.0
    );
    for (index, (backend, points)) in lines.iter().enumerate() {
        let color = if *backend == Backend::Sled { "#1f77b4" } else { "#d62728" };
        let path: Vec<String> = points.iter().map(|&(wx, wy)| format!("{:.1},{:.1}", x(wx), y(wy))).collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            path.join(" ")
        );
        for &(wx, wy) in points {
            let _ = writeln!(svg, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>", x(wx), y(wy));
        }
        let legend_y = TOP + 20.0 * index as f64;
        let _ = writeln!(
            svg,
            "<line x1=\"{:.1}\" y1=\"{legend_y:.1}\" x2=\"{:.1}\" y2=\"{legend_y:.1}\" stroke=\"{color}\" \
             stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            WIDTH - RIGHT + 10.0,
            WIDTH - RIGHT + 30.0,
            WIDTH - RIGHT + 35.0,
            legend_y + 4.0,
            backend.label()
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// A power of ten on an axis: whole numbers, grouped by thousands.
fn axis_label(value: f64) -> String {
    if value >= 100.0 { format_value(value) } else { format!("{value:.0}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> SuiteOptions {
        SuiteOptions {
            workloads: Workload::ALL.to_vec(),
            backends: vec![Backend::Sled],
            runs: 1,
            sizes: Sizes {
                writer_counts: vec![1, 4],
                writes: 40,
                watcher_counts: vec![1, 3],
                events: 30,
                latency_writes: 3,
                objects: 200,
            },
            json: false,
            svg: None,
            etcd: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_workload_runs_on_bosuns_store_and_every_watcher_gets_every_event() {
        let options = tiny();
        let mut results = Results::default();
        let progress = Progress::new(points_per_run(&options) as u64);
        let mut bench = Bench {
            options: &options,
            results: &mut results,
            backend: Backend::Sled,
            run: 1,
            started: Instant::now(),
            progress: &progress,
        };
        bench.workloads(&SledSide).await.unwrap();
        let names: Vec<&str> = results.figures.iter().map(|figure| figure.name.as_str()).collect();
        for name in [
            "writes, 4 writers",
            "watch, 3 watchers, events delivered",
            "watch, 3 watchers, write-to-event p99",
            "writer rate, 3 watchers / 1 watcher",
            // 200 rounded up to 16 equal shares.
            "list 208 objects, pages of 500",
            "resume, replay of 208 events",
            "restart with 208 objects",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        let integrity = results.integrity[&Backend::Sled];
        assert_eq!((integrity.lost, integrity.reordered, integrity.duplicated, integrity.errors), (0, 0, 0, 0));
        // (1 + 3) watchers x (30 fan-out + 3 latency events), plus the replay.
        assert_eq!(integrity.delivered, 4 * 33 + 208);
    }

    #[test]
    fn a_comparison_prints_bosuns_advantage_and_charts_both_stores() {
        let mut results = Results::default();
        for (backend, rate, ms) in [(Backend::Sled, 800.0, 10.0), (Backend::Etcd, 100.0, 40.0)] {
            results.record(backend, "writes, 1 writer".into(), "writes/s", Better::Higher, rate);
            results.record(backend, "watch, 1 watcher, events delivered".into(), "events/s", Better::Higher, rate);
            results.record(backend, "watch, 10 watchers, events delivered".into(), "events/s", Better::Higher, rate);
            results.record(backend, "list 100 objects, one call".into(), "ms", Better::Lower, ms);
        }
        let table = render_table(&results, "footer");
        let row = |name: &str| table.lines().find(|line| line.contains(name)).unwrap().to_string();
        assert!(row("writes, 1 writer").contains("8.00x"), "{table}");
        assert!(row("writes, 1 writer").ends_with("yes |"), "{table}");
        assert!(row("list 100 objects").contains("4.00x"), "{table}");
        assert!(row("list 100 objects").ends_with("no |"), "{table}");
        let sizes = Sizes { watcher_counts: vec![1, 10], ..Sizes::default() };
        let svg = render_svg(&results, &sizes);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains(">Bosun<") && svg.contains(">etcd<"));
    }
}
