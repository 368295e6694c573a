//! The one clock every time-dependent decision reads, so that tests can run on virtual time.
//!
//! Controllers also *wait* on it ([`Clock::sleep_until`]): a Deployment's progress deadline or a
//! ReplicaSet's `minReadySeconds` is a timer on this clock, so a test that advances a
//! [`VirtualClock`] by ten minutes fires the deadline at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A future that completes when a clock reaches a deadline.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// Completes once [`Clock::now`] has reached `deadline` (at once if it already has).
    fn sleep_until(&self, deadline: SystemTime) -> Sleep;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep_until(&self, deadline: SystemTime) -> Sleep {
        // Measured once against the wall clock: a jump of the system time is not followed, as
        // with any timer.
        let wait = deadline.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that moves only when told to: a test advances a 600-second deadline in no time.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    /// Milliseconds since the Unix epoch; sleepers subscribe to its changes.
    millis_since_epoch: Arc<tokio::sync::watch::Sender<u64>>,
}

fn millis_of(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl VirtualClock {
    /// A virtual clock starting at `start`.
    pub fn starting_at(start: SystemTime) -> Self {
        let (sender, _) = tokio::sync::watch::channel(millis_of(start));
        VirtualClock { millis_since_epoch: Arc::new(sender) }
    }

    /// Moves the clock forward, waking every sleeper whose deadline has come.
    pub fn advance(&self, by: Duration) {
        self.millis_since_epoch.send_modify(|millis| *millis += by.as_millis() as u64);
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(*self.millis_since_epoch.borrow())
    }

    fn sleep_until(&self, deadline: SystemTime) -> Sleep {
        let deadline = millis_of(deadline);
        let mut changes = self.millis_since_epoch.subscribe();
        Box::pin(async move {
            while *changes.borrow_and_update() < deadline {
                if changes.changed().await.is_err() {
                    // The clock is gone: the deadline never comes.
                    std::future::pending::<()>().await;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_virtual_sleep_ends_when_the_clock_is_advanced_past_its_deadline() {
        let clock = VirtualClock::starting_at(UNIX_EPOCH + Duration::from_secs(1000));
        let deadline = clock.now() + Duration::from_secs(600);
        let sleeper = tokio::spawn(clock.sleep_until(deadline));
        clock.advance(Duration::from_secs(599));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished(), "599 of 600 seconds must not end the sleep");
        clock.advance(Duration::from_secs(1));
        tokio::time::timeout(Duration::from_secs(5), sleeper).await.expect("the sleep ends").expect("no panic");
    }

    #[tokio::test]
    async fn a_sleep_until_a_past_deadline_ends_at_once() {
        let clock = VirtualClock::starting_at(UNIX_EPOCH + Duration::from_secs(1000));
        clock.sleep_until(UNIX_EPOCH).await;
        SystemClock.sleep_until(UNIX_EPOCH).await;
    }
}
