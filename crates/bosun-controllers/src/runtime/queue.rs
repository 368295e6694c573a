//! The work queue: keys to reconcile, each at most once in the queue and at most once in
//! flight, so two reconciles of one object never run at the same time (upstream's workqueue
//! guarantees the same). A key added while it is being reconciled is queued again when that
//! reconcile ends.
//!
//! Three ways in: [`WorkQueue::add`] (now), [`WorkQueue::add_at`] (a deadline on the injected
//! clock: a `minReadySeconds` or progress-deadline timer) and [`WorkQueue::add_rate_limited`]
//! (after a failure: 5 ms doubling per consecutive failure up to 1000 s, in real time, so that a
//! test on a virtual clock still retries).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bosun_api::clock::Clock;
use parking_lot::Mutex;
use tokio::sync::Notify;

/// The first retry delay after a failure.
const RETRY_BASE: Duration = Duration::from_millis(5);
/// The longest retry delay.
const RETRY_MAX: Duration = Duration::from_secs(1000);

/// A de-duplicating, rate-limited work queue of keys.
pub struct WorkQueue<K> {
    state: Mutex<State<K>>,
    /// Wakes a worker when a key is queued.
    ready: Notify,
    /// Wakes the timer when an earlier deadline is set.
    timer_changed: Notify,
    clock: Arc<dyn Clock>,
}

struct State<K> {
    queue: VecDeque<K>,
    queued: HashSet<K>,
    in_flight: HashSet<K>,
    /// Keys added while in flight: queued again when their reconcile ends.
    again: HashSet<K>,
    failures: HashMap<K, u32>,
    /// Deadline per key (the earliest asked for), and the same ordered by deadline.
    deadlines: HashMap<K, SystemTime>,
    timers: BTreeSet<(SystemTime, K)>,
    shut_down: bool,
}

impl<K> WorkQueue<K>
where
    K: Clone + Eq + Hash + Ord + Send + Sync + 'static,
{
    /// An empty queue whose deadlines are read on `clock`. Its timer task runs until
    /// [`WorkQueue::shut_down`].
    pub fn new(clock: Arc<dyn Clock>) -> Arc<Self> {
        let queue = Arc::new(WorkQueue {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                queued: HashSet::new(),
                in_flight: HashSet::new(),
                again: HashSet::new(),
                failures: HashMap::new(),
                deadlines: HashMap::new(),
                timers: BTreeSet::new(),
                shut_down: false,
            }),
            ready: Notify::new(),
            timer_changed: Notify::new(),
            clock,
        });
        tokio::spawn(Arc::clone(&queue).run_timers());
        queue
    }

    /// Queues `key` now (nothing if it is already queued).
    pub fn add(&self, key: K) {
        let mut state = self.state.lock();
        if state.shut_down || state.queued.contains(&key) {
            return;
        }
        if state.in_flight.contains(&key) {
            state.again.insert(key);
            return;
        }
        state.queued.insert(key.clone());
        state.queue.push_back(key);
        drop(state);
        self.ready.notify_one();
    }

    /// Queues `key` once the clock reaches `deadline` (keeping an earlier deadline if one is set).
    pub fn add_at(&self, key: K, deadline: SystemTime) {
        if deadline <= self.clock.now() {
            return self.add(key);
        }
        let mut state = self.state.lock();
        if state.shut_down {
            return;
        }
        match state.deadlines.get(&key) {
            Some(existing) if *existing <= deadline => return,
            Some(existing) => {
                let existing = *existing;
                state.timers.remove(&(existing, key.clone()));
            }
            None => {}
        }
        state.deadlines.insert(key.clone(), deadline);
        state.timers.insert((deadline, key));
        drop(state);
        self.timer_changed.notify_one();
    }

    /// Queues `key` after `delay` on the clock.
    pub fn add_after(&self, key: K, delay: Duration) {
        self.add_at(key, self.clock.now() + delay);
    }

    /// Queues `key` after a failure, later for each consecutive failure; returns how many
    /// consecutive failures the key has had.
    pub fn add_rate_limited(self: &Arc<Self>, key: K) -> u32 {
        let failures = {
            let mut state = self.state.lock();
            let failures = state.failures.entry(key.clone()).or_insert(0);
            *failures += 1;
            *failures
        };
        let delay = RETRY_BASE.saturating_mul(1 << (failures - 1).min(20)).min(RETRY_MAX);
        let queue = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.add(key);
        });
        failures
    }

    /// Clears the failure count of `key` (after a successful reconcile).
    pub fn forget(&self, key: &K) {
        self.state.lock().failures.remove(key);
    }

    /// The next key to reconcile; `None` once the queue is shut down. The caller must call
    /// [`WorkQueue::done`] with it.
    pub async fn next(&self) -> Option<K> {
        loop {
            let notified = self.ready.notified();
            {
                let mut state = self.state.lock();
                if state.shut_down {
                    return None;
                }
                if let Some(key) = state.queue.pop_front() {
                    state.queued.remove(&key);
                    state.in_flight.insert(key.clone());
                    let more = !state.queue.is_empty();
                    drop(state);
                    if more {
                        // Pass the wake-up on: another worker may take the next key.
                        self.ready.notify_one();
                    }
                    return Some(key);
                }
            }
            notified.await;
        }
    }

    /// Ends the reconcile of `key`; queues it again if it was added meanwhile.
    pub fn done(&self, key: &K) {
        let mut state = self.state.lock();
        state.in_flight.remove(key);
        if state.again.remove(key) {
            drop(state);
            self.add(key.clone());
        }
    }

    /// Stops the queue: [`WorkQueue::next`] returns `None` from now on.
    pub fn shut_down(&self) {
        self.state.lock().shut_down = true;
        self.ready.notify_waiters();
        self.timer_changed.notify_one();
    }

    /// How many keys wait to be reconciled now (not counting timers).
    pub fn len(&self) -> usize {
        self.state.lock().queue.len()
    }

    /// Whether no key waits to be reconciled now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves keys whose deadline has come into the queue, sleeping on the clock in between.
    async fn run_timers(self: Arc<Self>) {
        loop {
            let changed = self.timer_changed.notified();
            let next_deadline = {
                let mut state = self.state.lock();
                if state.shut_down {
                    return;
                }
                let now = self.clock.now();
                let mut due = Vec::new();
                while let Some((deadline, key)) = state.timers.first().cloned() {
                    if deadline > now {
                        break;
                    }
                    state.timers.pop_first();
                    state.deadlines.remove(&key);
                    due.push(key);
                }
                let next = state.timers.first().map(|(deadline, _)| *deadline);
                drop(state);
                for key in due {
                    self.add(key);
                }
                next
            };
            match next_deadline {
                Some(deadline) => {
                    tokio::select! {
                        _ = self.clock.sleep_until(deadline) => {}
                        _ = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bosun_api::clock::VirtualClock;
    use std::time::UNIX_EPOCH;

    fn clock() -> VirtualClock {
        VirtualClock::starting_at(UNIX_EPOCH + Duration::from_secs(1_000_000))
    }

    #[tokio::test]
    async fn a_key_is_queued_once_however_often_it_is_added() {
        let queue = WorkQueue::new(Arc::new(clock()));
        queue.add("a".to_string());
        queue.add("a".to_string());
        queue.add("b".to_string());
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.next().await.as_deref(), Some("a"));
        assert_eq!(queue.next().await.as_deref(), Some("b"));
        assert!(queue.is_empty());
    }

    #[tokio::test]
    async fn a_key_added_while_in_flight_comes_back_only_after_done() {
        let queue = WorkQueue::new(Arc::new(clock()));
        queue.add(1);
        let key = queue.next().await.unwrap();
        queue.add(1);
        assert!(queue.is_empty(), "an in-flight key must not be handed to a second worker");
        queue.done(&key);
        assert_eq!(queue.len(), 1);
    }

    #[tokio::test]
    async fn a_deadline_on_the_virtual_clock_fires_when_the_clock_reaches_it() {
        let clock = clock();
        let queue = WorkQueue::new(Arc::new(clock.clone()));
        queue.add_after(7, Duration::from_secs(600));
        queue.add_after(7, Duration::from_secs(900)); // the earlier deadline is kept
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(queue.is_empty());
        clock.advance(Duration::from_secs(600));
        let key = tokio::time::timeout(Duration::from_secs(5), queue.next()).await.expect("the timer fires");
        assert_eq!(key, Some(7));
    }

    #[tokio::test]
    async fn failures_back_off_and_forget_resets_them() {
        let queue = WorkQueue::new(Arc::new(clock()));
        assert_eq!(queue.add_rate_limited(3), 1);
        assert_eq!(queue.add_rate_limited(3), 2);
        queue.forget(&3);
        assert_eq!(queue.add_rate_limited(3), 1);
        // Rate-limited retries run on real time, so a virtual clock that never moves still retries.
        let key = tokio::time::timeout(Duration::from_secs(5), queue.next()).await.expect("the retry comes");
        assert_eq!(key, Some(3));
    }

    #[tokio::test]
    async fn shut_down_ends_next() {
        let queue: Arc<WorkQueue<u8>> = WorkQueue::new(Arc::new(clock()));
        let waiter = {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move { queue.next().await })
        };
        tokio::task::yield_now().await;
        queue.shut_down();
        assert_eq!(waiter.await.unwrap(), None);
    }
}
