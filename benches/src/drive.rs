//! Writers, whatever the store: concurrent ones as fast as they go, and a paced one.

use std::collections::HashMap;
use std::future::Future;
use std::ops::Range;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use crate::BenchResult;
use crate::check::{Integrity, WatcherReport, collect_reports, latencies, paced_rate, percentile, total_integrity};
use crate::pods::PodObject;

/// The paced write rate of the write-to-event latency workload.
pub const LATENCY_WRITES_PER_SECOND: u32 = 100;

/// A store the workloads can create Pods in.
pub trait Creator: Clone + Send + Sync + 'static {
    /// Creates `pod` (its key must be free) and returns the revision of the write.
    fn create(&self, pod: PodObject) -> impl Future<Output = BenchResult<u64>> + Send;
}

/// A store the watch workloads can run on.
pub trait WatchedStore: Creator {
    /// The revision of the latest write.
    fn revision(&self) -> impl Future<Output = BenchResult<u64>> + Send;

    /// Starts `count` watchers of every Pod after `after_revision`, each checking for exactly
    /// `expected`; each reports on the returned channel when complete, or when its watch ends.
    /// Every watch is registered before this returns, so no watcher can start late.
    fn spawn_watchers(
        &self,
        count: usize,
        after_revision: u64,
        expected: Range<u64>,
        record_arrivals: bool,
    ) -> impl Future<Output = BenchResult<mpsc::UnboundedReceiver<WatcherReport>>> + Send;

    /// Ends every watch still running (what stalled watchers missed then counts as lost).
    fn stop_watchers(&self) -> BenchResult<()>;
}

/// Creates each share of objects from its own task, sequentially within a share; returns the
/// wall time until the last create returned.
pub async fn create_concurrently(store: &impl Creator, shares: Vec<Vec<PodObject>>) -> BenchResult<Duration> {
    let started = Instant::now();
    let writers: Vec<_> = shares
        .into_iter()
        .map(|share| {
            let store = store.clone();
            tokio::spawn(async move {
                for pod in share {
                    store.create(pod).await?;
                }
                BenchResult::Ok(())
            })
        })
        .collect();
    for writer in writers {
        writer.await??;
    }
    Ok(started.elapsed())
}

/// Creates `objects` one at a time, `per_second` of them a second; returns when each create was
/// called, by the revision it got.
pub async fn create_paced(
    store: impl Creator,
    objects: Vec<PodObject>,
    per_second: u32,
) -> BenchResult<HashMap<u64, Instant>> {
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / per_second);
    // After a late tick, keep the spacing rather than bursting to catch up: a burst would measure
    // queueing behind our own writes, not the store's latency.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut called_at = HashMap::with_capacity(objects.len());
    for pod in objects {
        ticks.tick().await;
        let called = Instant::now();
        let revision = store.create(pod).await?;
        called_at.insert(revision, called);
    }
    Ok(called_at)
}

/// Runs `work`, returning how long it took in milliseconds.
pub fn timed_ms<T, E>(work: impl FnOnce() -> Result<T, E>) -> Result<(f64, T), E> {
    let started = Instant::now();
    let value = work()?;
    Ok((started.elapsed().as_secs_f64() * 1e3, value))
}

/// One fan-out measurement.
pub struct FanoutPoint {
    /// Events delivered per second, all watchers together.
    pub delivered_per_second: f64,
    /// The writer's own rate meanwhile.
    pub writer_per_second: f64,
    /// What the watchers saw.
    pub integrity: Integrity,
}

/// Starts `watchers` watchers from the store's current revision, each expecting the next `writes`
/// revisions.
async fn watch_next(
    store: &impl WatchedStore,
    watchers: usize,
    writes: usize,
    record_arrivals: bool,
) -> BenchResult<mpsc::UnboundedReceiver<WatcherReport>> {
    let start_revision = store.revision().await?;
    let expected = start_revision + 1..start_revision + 1 + writes as u64;
    store.spawn_watchers(watchers, start_revision, expected, record_arrivals).await
}

/// One writer creates `objects` as fast as it can while `watchers` follow.
pub async fn fanout_point(
    store: &impl WatchedStore,
    watchers: usize,
    objects: Vec<PodObject>,
) -> BenchResult<FanoutPoint> {
    let reports = watch_next(store, watchers, objects.len(), false).await?;
    let started = Instant::now();
    let writes = objects.len();
    let writer_elapsed = create_concurrently(store, vec![objects]).await?;
    let reports = collect_reports(reports, watchers, || store.stop_watchers()).await?;
    let integrity = total_integrity(&reports);
    // Time until the last watcher had its last event; a watcher that never completed counts
    // until now, which only a store losing events would make happen.
    let last_delivery = reports.iter().map(|report| report.completed_at.unwrap_or_else(Instant::now)).max();
    let delivery_time = last_delivery.map_or(Duration::ZERO, |last| last - started);
    Ok(FanoutPoint {
        delivered_per_second: integrity.delivered as f64 / delivery_time.as_secs_f64(),
        writer_per_second: writes as f64 / writer_elapsed.as_secs_f64(),
        integrity,
    })
}

/// One write-to-event latency measurement.
pub struct LatencyPoint {
    /// Median, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile, in milliseconds.
    pub p99_ms: f64,
    /// Slowest, in milliseconds.
    pub max_ms: f64,
    /// (watcher, event) pairs measured.
    pub samples: usize,
    /// Writes per second the paced writer achieved.
    pub achieved_rate: f64,
    /// What the watchers saw.
    pub integrity: Integrity,
}

/// One writer creates `objects` at [`LATENCY_WRITES_PER_SECOND`] while `watchers` follow; every
/// (watcher, event) pair is a latency sample.
pub async fn latency_point(
    store: &impl WatchedStore,
    watchers: usize,
    objects: Vec<PodObject>,
) -> BenchResult<LatencyPoint> {
    let reports = watch_next(store, watchers, objects.len(), true).await?;
    let writer = tokio::spawn(create_paced(store.clone(), objects, LATENCY_WRITES_PER_SECOND));
    let called_at = writer.await??;
    let reports = collect_reports(reports, watchers, || store.stop_watchers()).await?;
    let integrity = total_integrity(&reports);

    let latencies = latencies(&reports, &called_at);
    let ms = |duration: Duration| duration.as_secs_f64() * 1e3;
    Ok(LatencyPoint {
        p50_ms: ms(percentile(&latencies, 0.50)),
        p99_ms: ms(percentile(&latencies, 0.99)),
        max_ms: ms(latencies.last().copied().unwrap_or_default()),
        samples: latencies.len(),
        achieved_rate: paced_rate(&called_at),
        integrity,
    })
}

/// One replay measurement.
pub struct Replay {
    /// From starting the watch until it had the last event.
    pub elapsed: Duration,
    /// What the watcher saw.
    pub integrity: Integrity,
}

/// Reads the `events` events after `after_revision` with one watch; the time covers starting the
/// watch too.
pub async fn replay(store: &impl WatchedStore, after_revision: u64, events: u64) -> BenchResult<Replay> {
    let started = Instant::now();
    let expected = after_revision + 1..after_revision + 1 + events;
    let reports = store.spawn_watchers(1, after_revision, expected, false).await?;
    let reports = collect_reports(reports, 1, || store.stop_watchers()).await?;
    let elapsed = reports[0].completed_at.unwrap_or_else(Instant::now) - started;
    Ok(Replay { elapsed, integrity: total_integrity(&reports) })
}
