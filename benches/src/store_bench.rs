//! `store-bench`: how fast Bosun's store (`bosun-store` on sled) writes, fans events out to
//! watchers, replays history, lists, reopens, and how much disk it takes.
//!
//! Every object is a ~1 KiB Pod-shaped JSON document (metadata with labels and an owner
//! reference, one container spec, a running status), each with its own name, uid and IP, created
//! under `core/v1/Pod` in one of a few namespaces. Clients are tokio tasks on a multi-threaded
//! runtime with two worker threads (this is a 2-core target); the store's own committer and
//! compactor are OS threads, as in production.
//!
//! # Sections (`--only NAME` runs one)
//!
//! - `writes`: creates/s for 1, 16 and 64 concurrent writers (each a task doing sequential creates
//!   of distinct keys), for each durability mode: `Immediate` (acknowledged after a group-commit
//!   flush), `Periodic(500ms)` and `None`. A fixed number of writes per point.
//! - `fanout`: one writer (`Durability::None`, so that the watch path, not the flush, is what is
//!   measured) creates N objects as fast as it can while 1, 10, 100 or 1000 watchers (one task
//!   each, all on the Pod prefix) follow. Figures: delivered events/s (watchers × N / time from the
//!   first write until the last watcher has its last event), the writer's own rate in that phase,
//!   and the ratio of the writer's rate with 1000 watchers to its rate with 1. N stays below the
//!   ring capacity, so this is the in-memory path; `replay` measures the on-disk one.
//! - `latency`: 1000 watchers while one writer creates at a paced 100 writes/s; for every
//!   (watcher, event) pair, the time from just before `create` was called to that watcher
//!   receiving the event, matched by revision. p50 and p99, once with `Durability::None` (the
//!   watch path alone) and once with `Immediate` (what `bosun serve` runs: the flush included).
//! - `list`, `replay`, `disk`, `reopen` share one store per run holding a backlog of 100 000
//!   objects written with `Durability::None` by 16 writers. The first scan over freshly written
//!   pages is several times slower than later ones, so one full list is done (and reported) right
//!   after the writes; the list and replay figures are the steady state after it.
//!   - `list`: one unpaged `list` of the 100 000 objects, then the same paged by 500 following
//!     continue tokens. The time is the store's: the returned items are freed after the clock
//!     stops.
//!   - `replay`: a watch from revision 0 reads all 100 000 events; the ring holds only the newest
//!     16 384, so most come from the on-disk log.
//!   - `disk`: after `close`, the store directory's files summed (what `ls`/`du` show a user),
//!     per byte of object JSON written.
//!   - `reopen`: `Store::open` on the closed store (wall time, and the store's own
//!     `recovery().duration`).
//!
//! Every watcher checks its stream: each expected revision exactly once and in order, counting
//! (never assuming) losses, duplicates and reorderings; the totals are printed with the table.
//!
//! # Method
//!
//! Each point runs on a fresh store in its own temporary directory (under `$TMPDIR`, or `--dir`),
//! which is closed and removed before the next point, so neither disk nor memory accumulates.
//! Objects are generated before the clock starts. Runs are interleaved (all sections of run 1,
//! then run 2, ...), so a burst of background load spreads over the figures instead of spoiling
//! one of them; each figure is reported as median, min and max over the runs, with its target
//! and "met"/"not met" judged on the median. On a 2-core machine anything else running skews
//! every figure, so the load average is printed at the start and the end, and each progress line
//! carries the time since the start. Targets are information: the program never fails because
//! one is missed, only when the store itself returns an error.
//!
//! ```text
//! cargo run --release -p bosun-benches --bin store-bench -- [--runs N] [--quick | --smoke]
//!     [--json] [--only SECTION] [--writes N] [--dir PATH]
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bosun_benches::BenchResult;
use bosun_benches::check::Integrity;
use bosun_benches::drive::{
    LATENCY_WRITES_PER_SECOND, create_concurrently, fanout_point, latency_point, replay, timed_ms,
};
use bosun_benches::on_store::{
    BACKLOG_WRITERS, LIST_PAGE, ScratchStore, directory_size, list_paged, list_whole, time_list,
};
use bosun_benches::pods::{pod_objects, pod_objects_per_writer};
use bosun_benches::report::{counted, format_value, load_average, spread};
use bosun_store::{Durability, Store, StoreConfig};
use tokio::runtime::Runtime;

const USAGE: &str = "\
usage: store-bench [--runs N] [--quick | --smoke] [--json] [--only SECTION] [--writes N] [--dir PATH]

  --runs N        measure every figure N times; report median, min and max (default 5; 1 with
                  --quick or --smoke)
  --quick         smaller write and fan-out sizes, same 100 000-object backlog, one run
  --smoke         tiny sizes, one run, targets not judged: checks that everything runs (CI)
  --json          print the results as JSON instead of a table
  --only SECTION  run one section: writes, fanout, latency, replay, list, reopen or disk
  --writes N      writes per point in the `writes` section (default depends on the mode)
  --dir PATH      create the scratch stores under PATH (default: $TMPDIR)";

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    Full,
    Quick,
    Smoke,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Writes,
    Fanout,
    Latency,
    Replay,
    List,
    Reopen,
    Disk,
}

impl Section {
    const ALL: [Section; 7] = [
        Section::Writes,
        Section::Fanout,
        Section::Latency,
        Section::Replay,
        Section::List,
        Section::Reopen,
        Section::Disk,
    ];

    /// The sections measured on the shared 100 000-object backlog store.
    const ON_BACKLOG: [Section; 4] = [Section::List, Section::Replay, Section::Disk, Section::Reopen];

    fn name(self) -> &'static str {
        match self {
            Section::Writes => "writes",
            Section::Fanout => "fanout",
            Section::Latency => "latency",
            Section::Replay => "replay",
            Section::List => "list",
            Section::Reopen => "reopen",
            Section::Disk => "disk",
        }
    }

    fn parse(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|section| section.name() == name)
    }
}

#[derive(Debug, Clone)]
struct Options {
    runs: usize,
    scale: Scale,
    json: bool,
    only: Option<Section>,
    writes_per_point: Option<usize>,
    scratch_root: Option<PathBuf>,
}

impl Options {
    fn wants(&self, section: Section) -> bool {
        self.only.is_none_or(|only| only == section)
    }
}

enum Command {
    Run(Options),
    Help,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut runs = None;
    let mut scale = Scale::Full;
    let mut json = false;
    let mut only = None;
    let mut writes_per_point = None;
    let mut scratch_root = None;
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or_else(|| format!("{flag} needs a value"));
        match arg.as_str() {
            "--runs" => runs = Some(parse_positive(&value("--runs")?, "--runs")?),
            "--quick" => scale = Scale::Quick,
            "--smoke" => scale = Scale::Smoke,
            "--json" => json = true,
            "--only" => {
                let name = value("--only")?;
                only = Some(Section::parse(&name).ok_or_else(|| format!("unknown section {name:?}"))?);
            }
            "--writes" => writes_per_point = Some(parse_positive(&value("--writes")?, "--writes")?),
            "--dir" => scratch_root = Some(PathBuf::from(value("--dir")?)),
            "-h" | "--help" => return Ok(Command::Help),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    // Quick and smoke runs are for a first look or CI: one run unless asked otherwise.
    let runs = runs.unwrap_or(if scale == Scale::Full { 5 } else { 1 });
    Ok(Command::Run(Options { runs, scale, json, only, writes_per_point, scratch_root }))
}

fn parse_positive(text: &str, flag: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{flag} takes a positive integer, not {text:?}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------------------------

/// How much work each point does, by scale.
#[derive(Debug, Clone)]
struct Sizes {
    writer_counts: &'static [usize],
    /// Writes per point with `Immediate` durability and a single writer: the slowest point, since
    /// each write waits for its own fsync.
    immediate_single_writes: usize,
    /// Writes per point everywhere else in the `writes` section.
    other_writes: usize,
    fanout_watchers: &'static [usize],
    /// Objects the writer creates per fan-out point. Below the ring capacity (16 384), so no
    /// watcher can fall out of the ring: the figure is the in-memory fast path.
    fanout_events: usize,
    latency_watchers: usize,
    latency_writes: usize,
    backlog: usize,
    /// Whether the sizes match the targets' conditions (1000 watchers, 100 000 objects...).
    judged: bool,
}

impl Sizes {
    fn for_scale(scale: Scale, writes_override: Option<usize>) -> Sizes {
        let mut sizes = match scale {
            Scale::Full => Sizes {
                writer_counts: &[1, 16, 64],
                immediate_single_writes: 4_000,
                other_writes: 20_000,
                fanout_watchers: &[1, 10, 100, 1000],
                fanout_events: 16_000,
                latency_watchers: 1000,
                latency_writes: 300,
                backlog: 100_000,
                judged: true,
            },
            Scale::Quick => Sizes {
                writer_counts: &[1, 16, 64],
                immediate_single_writes: 1_000,
                other_writes: 8_000,
                fanout_watchers: &[1, 10, 100, 1000],
                fanout_events: 8_000,
                latency_watchers: 1000,
                latency_writes: 200,
                backlog: 100_000,
                judged: true,
            },
            Scale::Smoke => Sizes {
                writer_counts: &[1, 16, 64],
                immediate_single_writes: 200,
                other_writes: 200,
                fanout_watchers: &[1, 10],
                fanout_events: 200,
                latency_watchers: 10,
                latency_writes: 20,
                backlog: 2_000,
                judged: false,
            },
        };
        if let Some(writes) = writes_override {
            sizes.immediate_single_writes = writes;
            sizes.other_writes = writes;
        }
        sizes
    }

    fn writes_per_point(&self, durability: Durability, writers: usize) -> usize {
        if durability == Durability::Immediate && writers == 1 {
            self.immediate_single_writes
        } else {
            self.other_writes
        }
    }
}

const DURABILITY_MODES: [(Durability, &str); 3] = [
    (Durability::Immediate, "Immediate"),
    (Durability::Periodic(Duration::from_millis(500)), "Periodic(500ms)"),
    (Durability::None, "None"),
];

// Results and targets
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Target {
    AtLeast(f64),
    AtMost(f64),
}

impl Target {
    fn is_met(self, value: f64) -> bool {
        match self {
            Target::AtLeast(bound) => value >= bound,
            Target::AtMost(bound) => value <= bound,
        }
    }

    fn describe(self) -> String {
        match self {
            Target::AtLeast(bound) => format!(">= {}", format_value(bound)),
            Target::AtMost(bound) => format!("<= {}", format_value(bound)),
        }
    }
}

/// One reported figure and its value in every run.
#[derive(Debug)]
struct Figure {
    name: String,
    unit: &'static str,
    target: Option<Target>,
    samples: Vec<f64>,
}

impl Figure {
    fn median(&self) -> f64 {
        spread(&self.samples).0
    }

    fn min(&self) -> f64 {
        spread(&self.samples).1
    }

    fn max(&self) -> f64 {
        spread(&self.samples).2
    }
}

/// Every figure of every run, in the order first recorded, plus the watchers' integrity totals.
#[derive(Default)]
struct Results {
    figures: Vec<Figure>,
    integrity: Integrity,
    judged: bool,
}

impl Results {
    fn record(&mut self, name: impl Into<String>, unit: &'static str, target: Option<Target>, value: f64) {
        let name = name.into();
        match self.figures.iter_mut().find(|figure| figure.name == name) {
            Some(figure) => figure.samples.push(value),
            None => self.figures.push(Figure { name, unit, target, samples: vec![value] }),
        }
    }

    fn verdict(&self, figure: &Figure) -> &'static str {
        match figure.target {
            None => "",
            Some(_) if !self.judged => "not judged",
            Some(target) if target.is_met(figure.median()) => "met",
            Some(_) => "not met",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

/// What every section needs.
struct Bench<'a> {
    runtime: &'a Runtime,
    options: &'a Options,
    sizes: &'a Sizes,
    results: &'a mut Results,
    /// "run 2/5", for the progress lines.
    run_label: String,
    /// When the benchmark started: progress lines carry the time since, to tell how long each
    /// point takes and to match figures against other activity on the machine.
    started: Instant,
}

impl Bench<'_> {
    fn progress(&self, message: impl std::fmt::Display) {
        eprintln!("[{} +{:.1}s] {message}", self.run_label, self.started.elapsed().as_secs_f64());
    }

    fn scratch_store(&self, durability: Durability) -> BenchResult<ScratchStore> {
        ScratchStore::open(self.options.scratch_root.as_deref(), durability)
    }

    fn run(&mut self) -> BenchResult<()> {
        if self.options.wants(Section::Writes) {
            self.measure_writes()?;
        }
        if self.options.wants(Section::Fanout) {
            self.measure_fanout()?;
        }
        if self.options.wants(Section::Latency) {
            self.measure_latency()?;
        }
        if Section::ON_BACKLOG.iter().any(|section| self.options.wants(*section)) {
            self.measure_backlog()?;
        }
        Ok(())
    }

    /// Section `writes`.
    fn measure_writes(&mut self) -> BenchResult<()> {
        for (durability, mode) in DURABILITY_MODES {
            for &writers in self.sizes.writer_counts {
                let count = self.sizes.writes_per_point(durability, writers);
                let shares = pod_objects_per_writer(count, writers);
                let written = shares.iter().map(Vec::len).sum::<usize>();
                let scratch = self.scratch_store(durability)?;
                let elapsed = self.runtime.block_on(create_concurrently(&scratch.store, shares))?;
                scratch.discard()?;
                let rate = written as f64 / elapsed.as_secs_f64();
                self.progress(format_args!(
                    "writes {mode} x{writers}: {} writes/s ({written} writes in {:.2} s)",
                    format_value(rate),
                    elapsed.as_secs_f64()
                ));
                let target = match (durability, writers) {
                    (Durability::Immediate, 1) => Some(Target::AtLeast(6_000.0)),
                    (Durability::Immediate, 64) => Some(Target::AtLeast(95_000.0)),
                    _ => None,
                };
                self.results.record(
                    format!("writes, {mode}, {}", counted(writers, "writer")),
                    "writes/s",
                    target,
                    rate,
                );
            }
        }
        Ok(())
    }

    /// Section `fanout`.
    fn measure_fanout(&mut self) -> BenchResult<()> {
        let events = self.sizes.fanout_events;
        let mut writer_rates = Vec::new();
        for &watchers in self.sizes.fanout_watchers {
            let objects = pod_objects(0..events);
            let scratch = self.scratch_store(Durability::None)?;
            let point = self.runtime.block_on(fanout_point(&scratch.store, watchers, objects))?;
            scratch.discard()?;
            self.progress(format_args!(
                "fanout {}: {} events/s delivered, writer {} writes/s; {}",
                counted(watchers, "watcher"),
                format_value(point.delivered_per_second),
                format_value(point.writer_per_second),
                point.integrity
            ));
            self.results.integrity += point.integrity;
            let target = (watchers == 1000).then_some(Target::AtLeast(15e6));
            let watching = counted(watchers, "watcher");
            self.results.record(format!("fan-out, {watching}"), "events/s", target, point.delivered_per_second);
            self.results.record(
                format!("writer during fan-out, {watching}"),
                "writes/s",
                None,
                point.writer_per_second,
            );
            writer_rates.push((watchers, point.writer_per_second));
        }
        self.record_writer_ratio(&writer_rates);
        Ok(())
    }

    /// The writer's rate with the most watchers over its rate with the fewest (1000 and 1).
    fn record_writer_ratio(&mut self, writer_rates: &[(usize, f64)]) {
        let (Some(&(fewest, alone)), Some(&(most, crowded))) = (writer_rates.first(), writer_rates.last()) else {
            return;
        };
        let ratio = crowded / alone;
        let (most, fewest) = (counted(most, "watcher"), counted(fewest, "watcher"));
        self.progress(format_args!("writer rate with {most} / with {fewest}: {ratio:.2}"));
        self.results.record(format!("writer rate, {most} / {fewest}"), "ratio", Some(Target::AtLeast(0.9)), ratio);
    }

    /// Section `latency`.
    fn measure_latency(&mut self) -> BenchResult<()> {
        let watchers = self.sizes.latency_watchers;
        for (durability, mode) in [(Durability::None, "None"), (Durability::Immediate, "Immediate")] {
            let objects = pod_objects(0..self.sizes.latency_writes);
            let scratch = self.scratch_store(durability)?;
            let point = self.runtime.block_on(latency_point(&scratch.store, watchers, objects))?;
            scratch.discard()?;
            self.progress(format_args!(
                "latency {mode}, {watchers} watchers at {} writes/s: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms \
                 ({} samples); {}",
                format_value(point.achieved_rate),
                point.p50_ms,
                point.p99_ms,
                point.max_ms,
                point.samples,
                point.integrity
            ));
            self.results.integrity += point.integrity;
            let label = format!("{watchers} watchers, {LATENCY_WRITES_PER_SECOND} writes/s, {mode}");
            self.results.record(format!("write-to-event p50, {label}"), "ms", None, point.p50_ms);
            self.results.record(format!("write-to-event p99, {label}"), "ms", Some(Target::AtMost(1.5)), point.p99_ms);
        }
        Ok(())
    }

    /// Sections `list`, `replay`, `disk` and `reopen`, on one backlog store.
    fn measure_backlog(&mut self) -> BenchResult<()> {
        let backlog = self.sizes.backlog;
        let scratch = self.scratch_store(Durability::None)?;
        let shares = pod_objects_per_writer(backlog, BACKLOG_WRITERS);
        let payload_bytes: usize = shares.iter().flatten().map(|pod| pod.manifest.len()).sum();
        let written = shares.iter().map(Vec::len).sum::<usize>();
        let fill_time = self.runtime.block_on(create_concurrently(&scratch.store, shares))?;
        self.progress(format_args!(
            "backlog: {written} objects, {:.0} bytes of JSON each on average, written in {:.2} s",
            payload_bytes as f64 / written as f64,
            fill_time.as_secs_f64()
        ));

        // The first scan over freshly written sled pages costs several times what later ones do
        // (200-260 ms against 50-65 ms for a list here; a replay after it takes half the time),
        // and whichever measurement came first would pay for it. Scan once up front, so that the
        // list and replay figures are the steady state whatever runs, and report the scan apart.
        let first_list_ms = time_list(written, || list_whole(&scratch.store))?;
        self.progress(format_args!("first list after writing {written} objects: {first_list_ms:.1} ms"));
        if self.options.wants(Section::List) {
            let name = format!("list {written} objects, first call after writing");
            self.results.record(name, "ms", None, first_list_ms);
            self.measure_lists(&scratch.store, written)?;
        }
        if self.options.wants(Section::Replay) {
            self.measure_replay(&scratch.store, written)?;
        }
        let closing = Instant::now();
        let dir = scratch.close()?;
        let close_ms = closing.elapsed().as_secs_f64() * 1e3;
        self.progress(format_args!("close with {written} objects: {close_ms:.1} ms"));
        if self.options.wants(Section::Disk) {
            self.measure_disk(dir.path(), payload_bytes)?;
        }
        if self.options.wants(Section::Reopen) {
            self.measure_reopen(dir.path(), written)?;
        }
        dir.close()?;
        Ok(())
    }

    fn measure_replay(&mut self, store: &Store, backlog: usize) -> BenchResult<()> {
        let replay = self.runtime.block_on(replay(store, 0, backlog as u64))?;
        let rate = backlog as f64 / replay.elapsed.as_secs_f64();
        self.progress(format_args!(
            "replay {backlog} events from revision 0: {} events/s ({:.0} ms); {}",
            format_value(rate),
            replay.elapsed.as_secs_f64() * 1e3,
            replay.integrity
        ));
        self.results.integrity += replay.integrity;
        let target = Some(Target::AtLeast(1e6));
        self.results.record(format!("replay of {backlog} events from revision 0"), "events/s", target, rate);
        Ok(())
    }

    /// Lists in the steady state (after the first scan), unpaged and paged.
    fn measure_lists(&mut self, store: &Store, backlog: usize) -> BenchResult<()> {
        let whole_ms = time_list(backlog, || list_whole(store))?;
        let paged_ms = time_list(backlog, || list_paged(store))?;
        self.progress(format_args!(
            "list {backlog} objects: one call {whole_ms:.1} ms, pages of {LIST_PAGE} {paged_ms:.1} ms"
        ));
        let name = format!("list {backlog} objects");
        self.results.record(format!("{name}, one call"), "ms", Some(Target::AtMost(60.0)), whole_ms);
        self.results.record(format!("{name}, pages of {LIST_PAGE}"), "ms", None, paged_ms);
        Ok(())
    }

    fn measure_disk(&mut self, dir: &Path, payload_bytes: usize) -> BenchResult<()> {
        let (apparent, allocated) = directory_size(dir)?;
        let per_payload = |bytes: u64| bytes as f64 / payload_bytes as f64;
        self.progress(format_args!(
            "disk after close: {} bytes (du: {}) for {} bytes of JSON: {:.2}x ({:.2}x)",
            format_value(apparent as f64),
            format_value(allocated as f64),
            format_value(payload_bytes as f64),
            per_payload(apparent),
            per_payload(allocated)
        ));
        let target = Some(Target::AtMost(1.5));
        self.results.record("disk bytes per JSON byte (file sizes)", "ratio", target, per_payload(apparent));
        self.results.record("disk bytes per JSON byte (allocated, du)", "ratio", None, per_payload(allocated));
        Ok(())
    }

    fn measure_reopen(&mut self, dir: &Path, backlog: usize) -> BenchResult<()> {
        let (open_ms, store) = timed_ms(|| Store::open(dir, StoreConfig::default()))?;
        let recovery_ms = store.recovery().duration.as_secs_f64() * 1e3;
        let revision = store.revision();
        store.close()?;
        drop(store);
        if revision != backlog as u64 {
            return Err(format!("reopened at revision {revision}, expected {backlog}").into());
        }
        self.progress(format_args!("reopen with {backlog} objects: {open_ms:.1} ms (recovery {recovery_ms:.1} ms)"));
        self.results.record(format!("reopen with {backlog} objects"), "ms", Some(Target::AtMost(200.0)), open_ms);
        self.results.record(format!("reopen with {backlog} objects, recovery().duration"), "ms", None, recovery_ms);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

/// How the whole benchmark went, beside the figures.
struct Session {
    runs: usize,
    elapsed: Duration,
    load_before: String,
    load_after: String,
}

/// The results as a Markdown table (readable as is, and pasted into docs/BENCHMARKS.md).
fn render_table(results: &Results, session: &Session) -> String {
    const HEADER: [&str; 7] = ["figure", "median", "min", "max", "unit", "target", "verdict"];
    // Numbers align right, text left.
    const NUMERIC: [bool; 7] = [false, true, true, true, false, false, false];
    let rows: Vec<[String; 7]> = results
        .figures
        .iter()
        .map(|figure| {
            [
                figure.name.clone(),
                format_value(figure.median()),
                format_value(figure.min()),
                format_value(figure.max()),
                figure.unit.to_string(),
                figure.target.map(Target::describe).unwrap_or_default(),
                results.verdict(figure).to_string(),
            ]
        })
        .collect();
    let mut widths = HEADER.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let render_row = |cells: &[String; 7]| {
        let padded: Vec<String> = (0..7)
            .map(|i| {
                let (cell, width) = (&cells[i], widths[i]);
                if NUMERIC[i] { format!("{cell:>width$}") } else { format!("{cell:<width$}") }
            })
            .collect();
        format!("| {} |", padded.join(" | "))
    };
    let rule: Vec<String> = (0..7)
        .map(|i| if NUMERIC[i] { format!("{}:", "-".repeat(widths[i] - 1)) } else { "-".repeat(widths[i]) })
        .collect();

    let mut lines = vec![render_row(&HEADER.map(String::from)), format!("| {} |", rule.join(" | "))];
    lines.extend(rows.iter().map(render_row));
    lines.push(String::new());
    lines.push(format!(
        "median, min and max over {}; {:.0} s in all; load average {} before, {} after",
        counted(session.runs, "run"),
        session.elapsed.as_secs_f64(),
        session.load_before,
        session.load_after
    ));
    lines.push(format!(
        "watch integrity, every watcher of every run: {} ({} events delivered)",
        results.integrity, results.integrity.delivered
    ));
    if !results.judged {
        lines.push("targets not judged: smoke sizes are far below the targets' conditions".into());
    }
    lines.join("\n") + "\n"
}

fn render_json(results: &Results, options: &Options, session: &Session) -> String {
    let figures: Vec<_> = results
        .figures
        .iter()
        .map(|figure| {
            let target = figure.target.map(|target| match target {
                Target::AtLeast(bound) => serde_json::json!({ "at_least": bound }),
                Target::AtMost(bound) => serde_json::json!({ "at_most": bound }),
            });
            let met = (results.judged && figure.target.is_some()).then(|| results.verdict(figure) == "met");
            serde_json::json!({
                "name": figure.name,
                "unit": figure.unit,
                "median": figure.median(),
                "min": figure.min(),
                "max": figure.max(),
                "samples": figure.samples,
                "target": target,
                "met": met,
            })
        })
        .collect();
    let integrity = results.integrity;
    let document = serde_json::json!({
        "scale": format!("{:?}", options.scale).to_lowercase(),
        "runs": session.runs,
        "only": options.only.map(Section::name),
        "elapsed_seconds": session.elapsed.as_secs_f64(),
        "load_average_before": session.load_before,
        "load_average_after": session.load_after,
        "figures": figures,
        "watch_integrity": {
            "delivered": integrity.delivered,
            "lost": integrity.lost,
            "duplicated": integrity.duplicated,
            "reordered": integrity.reordered,
            "unexpected": integrity.unexpected,
            "errors": integrity.errors,
        },
    });
    serde_json::to_string_pretty(&document).expect("a JSON value always serializes")
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(options)) => options,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("store-bench: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("store-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> BenchResult<()> {
    // Two workers: the clients of a 2-core control plane, beside the store's own threads.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let sizes = Sizes::for_scale(options.scale, options.writes_per_point);
    let mut results = Results { judged: sizes.judged, ..Results::default() };
    let started = Instant::now();
    let load_before = load_average();
    eprintln!("store-bench: {:?} sizes, {}, load average {load_before}", options.scale, counted(options.runs, "run"));
    for run in 1..=options.runs {
        let run_label = format!("run {run}/{}", options.runs);
        Bench { runtime: &runtime, options, sizes: &sizes, results: &mut results, run_label, started }.run()?;
    }
    let session = Session { runs: options.runs, elapsed: started.elapsed(), load_before, load_after: load_average() };
    eprintln!("store-bench: done in {:.1} s, load average {}", session.elapsed.as_secs_f64(), session.load_after);
    if options.json {
        println!("{}", render_json(&results, options, &session));
    } else {
        print!("{}", render_table(&results, &session));
    }
    Ok(())
}
