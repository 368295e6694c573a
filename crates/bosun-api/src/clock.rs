//! The one clock every time-dependent decision reads, so that tests can run on virtual time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to: a test advances a 600-second deadline in no time.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    millis_since_epoch: Arc<AtomicU64>,
}

impl VirtualClock {
    /// A virtual clock starting at `start`.
    pub fn starting_at(start: SystemTime) -> Self {
        let millis = start.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        VirtualClock { millis_since_epoch: Arc::new(AtomicU64::new(millis)) }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.millis_since_epoch.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.millis_since_epoch.load(Ordering::SeqCst))
    }
}
