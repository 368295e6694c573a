//! What every watcher checks, whatever store it follows, and the statistics over samples.

use std::collections::HashMap;
use std::future::Future;
use std::ops::{AddAssign, Range};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::BenchResult;

/// How long to wait for watchers once the writer is done before declaring the rest lost. Far
/// beyond any healthy run; only a store that drops events ever waits this long.
pub const STALL_LIMIT: Duration = Duration::from_secs(60);

/// Losses, duplicates and reorderings seen by watchers: counted, never assumed to be zero.
#[derive(Debug, Default, Clone, Copy)]
pub struct Integrity {
    /// Distinct expected events delivered.
    pub delivered: u64,
    /// Expected events never delivered.
    pub lost: u64,
    /// Deliveries of an event already delivered.
    pub duplicated: u64,
    /// Events delivered after one with a higher revision.
    pub reordered: u64,
    /// Events outside the expected revisions.
    pub unexpected: u64,
    /// Watches that ended with an error.
    pub errors: u64,
}

impl AddAssign for Integrity {
    fn add_assign(&mut self, other: Integrity) {
        self.delivered += other.delivered;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.reordered += other.reordered;
        self.unexpected += other.unexpected;
        self.errors += other.errors;
    }
}

impl std::fmt::Display for Integrity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "lost {}, duplicated {}, reordered {}", self.lost, self.duplicated, self.reordered)?;
        if self.unexpected > 0 || self.errors > 0 {
            write!(f, ", unexpected {}, errors {}", self.unexpected, self.errors)?;
        }
        Ok(())
    }
}

/// Checks one watcher's stream against the revisions it must receive, and optionally records
/// when each one arrived.
pub struct StreamCheck {
    pub(crate) expected: Range<u64>,
    seen: Vec<bool>,
    distinct: usize,
    highest: u64,
    duplicated: u64,
    reordered: u64,
    unexpected: u64,
    /// Arrival time of each expected revision, when latency is measured.
    pub(crate) arrivals: Option<Vec<Option<Instant>>>,
}

impl StreamCheck {
    /// A check for exactly the revisions `expected`, recording arrival times if asked.
    pub fn new(expected: Range<u64>, record_arrivals: bool) -> StreamCheck {
        let count = (expected.end - expected.start) as usize;
        StreamCheck {
            expected,
            seen: vec![false; count],
            distinct: 0,
            highest: 0,
            duplicated: 0,
            reordered: 0,
            unexpected: 0,
            arrivals: record_arrivals.then(|| vec![None; count]),
        }
    }

    /// One delivered event.
    pub fn record(&mut self, revision: u64) {
        if !self.expected.contains(&revision) {
            self.unexpected += 1;
            return;
        }
        let slot = (revision - self.expected.start) as usize;
        if self.seen[slot] {
            self.duplicated += 1;
            return;
        }
        self.seen[slot] = true;
        self.distinct += 1;
        if revision < self.highest {
            self.reordered += 1;
        }
        self.highest = self.highest.max(revision);
        if let Some(arrivals) = &mut self.arrivals {
            arrivals[slot] = Some(Instant::now());
        }
    }

    /// Whether every expected revision has arrived.
    pub fn is_complete(&self) -> bool {
        self.distinct == self.seen.len()
    }

    /// The counts so far, with `errors` watches that ended in an error.
    pub fn integrity(&self, errors: u64) -> Integrity {
        Integrity {
            delivered: self.distinct as u64,
            lost: (self.seen.len() - self.distinct) as u64,
            duplicated: self.duplicated,
            reordered: self.reordered,
            unexpected: self.unexpected,
            errors,
        }
    }
}

/// A stream of watch events, as far as the check cares: their revisions.
pub trait RevisionStream: Send + 'static {
    /// Waits for the next delivery and records the revision of each event in it; `None` when the
    /// stream ended, an error when it failed.
    fn next_into(&mut self, check: &mut StreamCheck) -> impl Future<Output = Option<Result<(), String>>> + Send;
}

/// What one watcher reports when it stops.
pub struct WatcherReport {
    /// What it saw.
    pub check: StreamCheck,
    /// When it had every expected event (`None` if it never did).
    pub completed_at: Option<Instant>,
    /// Why its watch failed, if it did.
    pub error: Option<String>,
}

/// Follows a stream until every expected event has arrived or the stream ends, then reports on
/// `reports`.
pub fn spawn_follower(stream: impl RevisionStream, check: StreamCheck, reports: &mpsc::UnboundedSender<WatcherReport>) {
    let reports = reports.clone();
    tokio::spawn(async move {
        // The receiver outlives every watcher unless the benchmark itself failed.
        let _ = reports.send(follow(stream, check).await);
    });
}

async fn follow(mut stream: impl RevisionStream, mut check: StreamCheck) -> WatcherReport {
    while !check.is_complete() {
        match stream.next_into(&mut check).await {
            Some(Ok(())) => {}
            Some(Err(error)) => return WatcherReport { check, completed_at: None, error: Some(error) },
            // Ended: the benchmark stopped the watches after waiting STALL_LIMIT for this one.
            None => return WatcherReport { check, completed_at: None, error: None },
        }
    }
    WatcherReport { check, completed_at: Some(Instant::now()), error: None }
}

/// Gathers `count` watcher reports. If some watchers are still waiting `STALL_LIMIT` after the
/// writer finished, calls `stop`, which must end their streams: what they missed counts as lost.
pub async fn collect_reports(
    mut receiver: mpsc::UnboundedReceiver<WatcherReport>,
    count: usize,
    stop: impl FnOnce() -> BenchResult<()>,
) -> BenchResult<Vec<WatcherReport>> {
    let mut reports = Vec::with_capacity(count);
    let deadline = tokio::time::Instant::now() + STALL_LIMIT;
    let mut stop = Some(stop);
    while reports.len() < count {
        let next = match stop.take() {
            None => receiver.recv().await,
            Some(stop_now) => match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(report) => {
                    stop = Some(stop_now);
                    report
                }
                Err(_elapsed) => {
                    eprintln!(
                        "  {} watchers still waiting after {STALL_LIMIT:?}: stopping them",
                        count - reports.len()
                    );
                    stop_now()?;
                    continue;
                }
            },
        };
        match next {
            Some(report) => reports.push(report),
            None => return Err("a watcher task died without reporting".into()),
        }
    }
    Ok(reports)
}

/// The watchers' counts summed; errors are printed.
pub fn total_integrity(reports: &[WatcherReport]) -> Integrity {
    let mut total = Integrity::default();
    for report in reports {
        if let Some(error) = &report.error {
            eprintln!("  watch ended with an error: {error}");
        }
        total += report.check.integrity(u64::from(report.error.is_some()));
    }
    total
}

/// Write-to-event latencies, sorted: for every (watcher, event) pair, from when the write that
/// made the event was called (by revision) to when the watcher had it.
pub fn latencies(reports: &[WatcherReport], called_at: &HashMap<u64, Instant>) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(reports.len() * called_at.len());
    for report in reports {
        let expected = &report.check.expected;
        let arrivals = report.check.arrivals.as_deref().unwrap_or_default();
        for (revision, arrival) in expected.clone().zip(arrivals) {
            if let (Some(arrival), Some(called)) = (arrival, called_at.get(&revision)) {
                latencies.push(arrival.saturating_duration_since(*called));
            }
        }
    }
    latencies.sort_unstable();
    latencies
}

/// Writes per second actually achieved by a paced writer: calls over the intervals between them.
pub fn paced_rate(called_at: &HashMap<u64, Instant>) -> f64 {
    let first = called_at.values().min();
    let last = called_at.values().max();
    match (first, last) {
        (Some(first), Some(last)) if last > first => (called_at.len() - 1) as f64 / (*last - *first).as_secs_f64(),
        _ => 0.0,
    }
}

/// Nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
