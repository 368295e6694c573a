//! The simulated containers: from a container's profile, its readiness probe and the time its pod
//! started, what the container is doing at any later time, and when each readiness transition
//! happened.
//!
//! The simulation is a pure function of (spec, profile, start, now), in whole seconds: the agent
//! can evaluate it at any moment (after a restart of Bosun, or after a virtual clock jumped ten
//! minutes) and gets the same history, with every transition at its exact simulated time. Every
//! probe is one request to the app, at `start + initialDelaySeconds + k * periodSeconds`.
//!
//! Container lifetimes: an instance starts, listens after `startSeconds`, and may exit after
//! `crashAfterSeconds` (exit code 1) or `completeAfterSeconds` (exit code 0). The restart policy
//! decides whether it starts again, after a back-off of 10 s doubling up to 300 s per restart
//! (upstream's CrashLoopBackOff). A new instance is a new process: its request count starts at
//! zero and it is unready until its probe succeeds again.

use super::profiles::Profile;

/// The first restart back-off, as the kubelet.
pub const BACKOFF_INITIAL_SECONDS: u64 = 10;
/// The longest restart back-off, as the kubelet.
pub const BACKOFF_MAX_SECONDS: u64 = 300;

/// A container's readiness probe, with upstream's defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Seconds after the container starts before the first probe.
    pub initial_delay_seconds: u64,
    /// Seconds between probes (default 10).
    pub period_seconds: u64,
    /// Consecutive failures that make a ready container unready (default 3).
    pub failure_threshold: u32,
    /// Consecutive successes that make an unready container ready (default 1).
    pub success_threshold: u32,
}

impl Default for Probe {
    fn default() -> Self {
        Probe { initial_delay_seconds: 0, period_seconds: 10, failure_threshold: 3, success_threshold: 1 }
    }
}

/// When a container may be started again after it exited (the pod's `restartPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    /// Always.
    Always,
    /// Only after a non-zero exit.
    OnFailure,
    /// Never.
    Never,
}

/// One finished run of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// When it started (seconds since the epoch).
    pub started: u64,
    /// When it exited.
    pub finished: u64,
    /// Its exit code.
    pub exit_code: i32,
}

/// What a container is doing at the evaluated time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Running since `started`.
    Running {
        /// When this instance started.
        started: u64,
    },
    /// Exited and waiting for its restart back-off to end, at `restart_at`.
    BackOff {
        /// When it starts again.
        restart_at: u64,
    },
    /// Exited for good (the restart policy does not restart it).
    Terminated,
}

/// A container's simulated history up to the evaluated time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// What it does now.
    pub state: State,
    /// Whether it is ready now.
    pub ready: bool,
    /// The readiness transitions so far, in order: (time, ready after it).
    pub transitions: Vec<(u64, bool)>,
    /// Its last finished run, if any.
    pub last_exit: Option<Exit>,
    /// How often it was restarted.
    pub restart_count: u32,
    /// The next time something about it may change, if anything will.
    pub next_event: Option<u64>,
}

/// The back-off before the `restart`-th restart (1-based).
pub fn backoff_seconds(restart: u32) -> u64 {
    let doublings = restart.saturating_sub(1).min(16);
    (BACKOFF_INITIAL_SECONDS << doublings).min(BACKOFF_MAX_SECONDS)
}

/// Simulates one container started at `start` up to `now` (both in seconds since the epoch).
pub fn simulate(profile: &Profile, probe: Option<Probe>, policy: RestartPolicy, start: u64, now: u64) -> Timeline {
    let mut timeline = Timeline {
        state: State::Terminated,
        ready: false,
        transitions: Vec::new(),
        last_exit: None,
        restart_count: 0,
        next_event: None,
    };
    let mut instance_start = start;
    let mut exits = 0;
    loop {
        if exits > 0 {
            if instance_start > now {
                timeline.state = State::BackOff { restart_at: instance_start };
                timeline.next_event = Some(instance_start);
                return timeline;
            }
            // The restart count moves when the container really starts again, as upstream's.
            timeline.restart_count += 1;
        }
        if instance_start > now {
            timeline.state = State::BackOff { restart_at: instance_start };
            timeline.next_event = Some(instance_start);
            return timeline;
        }
        let exit = profile.exit_after_seconds().map(|(after, code)| (instance_start + after, code));
        // Readiness of this instance up to its exit or now, whichever comes first.
        let horizon_end = exit.map_or(now, |(at, _)| at.min(now));
        let probe_next =
            run_instance(profile, probe, instance_start, horizon_end, exit.map(|(at, _)| at), &mut timeline);
        match exit {
            Some((at, code)) if at <= now => {
                set_ready(&mut timeline, at, false);
                timeline.last_exit = Some(Exit { started: instance_start, finished: at, exit_code: code });
                let restarts = match policy {
                    RestartPolicy::Always => true,
                    RestartPolicy::OnFailure => code != 0,
                    RestartPolicy::Never => false,
                };
                if !restarts {
                    timeline.state = State::Terminated;
                    timeline.next_event = None;
                    return timeline;
                }
                exits += 1;
                instance_start = at + backoff_seconds(exits);
            }
            _ => {
                timeline.state = State::Running { started: instance_start };
                let exit_at = exit.map(|(at, _)| at);
                timeline.next_event = match (probe_next, exit_at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                return timeline;
            }
        }
    }
}

fn set_ready(timeline: &mut Timeline, at: u64, ready: bool) {
    if timeline.ready != ready {
        timeline.ready = ready;
        timeline.transitions.push((at, ready));
    }
}

/// Runs the probes of one instance from `start` through `until` (inclusive, and before `exit`);
/// returns the time of the next probe that may still change readiness, if any.
fn run_instance(
    profile: &Profile,
    probe: Option<Probe>,
    start: u64,
    until: u64,
    exit: Option<u64>,
    timeline: &mut Timeline,
) -> Option<u64> {
    let Some(probe) = probe else {
        // Without a readiness probe a started container is ready.
        set_ready(timeline, start, true);
        return None;
    };
    let listening_at = start + profile.start_seconds;
    let period = probe.period_seconds.max(1);
    let before_exit = |t: u64| exit.is_none_or(|exit| t < exit);
    let mut t = start + probe.initial_delay_seconds;
    let mut requests: u64 = 0;
    let (mut successes, mut failures) = (0u32, 0u32);
    loop {
        if !before_exit(t) {
            return None;
        }
        // Before the app listens, probes fail without reaching it: skip to the first probe that
        // can reach it (the container is unready until then, as a new instance always is).
        if t < listening_at && !timeline.ready {
            t += (listening_at - t).div_ceil(period) * period;
            failures = failures.saturating_add(1);
            successes = 0;
            continue;
        }
        // Steady states: nothing can change any more, so stop probing the timeline.
        let answers_forever_ok = t >= listening_at && !profile.never_ready && profile.fail_after_requests.is_none();
        let answers_forever_failing =
            t >= listening_at && (profile.never_ready || profile.fail_after_requests.is_some_and(|k| requests >= k));
        if (answers_forever_ok && timeline.ready) || (answers_forever_failing && !timeline.ready) {
            return None;
        }
        if t > until {
            return Some(t);
        }
        let reached = t >= listening_at;
        let ok = reached && !profile.never_ready && profile.fail_after_requests.is_none_or(|k| requests < k);
        if reached {
            requests += 1;
        }
        if ok {
            successes += 1;
            failures = 0;
            if !timeline.ready && successes >= probe.success_threshold.max(1) {
                set_ready(timeline, t, true);
            }
        } else {
            failures += 1;
            successes = 0;
            if timeline.ready && failures >= probe.failure_threshold.max(1) {
                set_ready(timeline, t, false);
            }
        }
        t += period;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_000_000;

    fn every_second(failure_threshold: u32) -> Option<Probe> {
        Some(Probe { period_seconds: 1, failure_threshold, ..Probe::default() })
    }

    #[test]
    fn a_container_without_a_probe_is_ready_when_it_starts() {
        let timeline = simulate(&Profile::default(), None, RestartPolicy::Always, T0, T0 + 600);
        assert_eq!(timeline.state, State::Running { started: T0 });
        assert_eq!(timeline.transitions, vec![(T0, true)]);
        assert_eq!(timeline.next_event, None);
    }

    #[test]
    fn an_app_that_fails_from_its_fifth_request_turns_unready_at_the_failure_threshold() {
        let v3 = Profile { fail_after_requests: Some(4), ..Profile::default() };
        // Requests at T0..T0+3 succeed; T0+4, +5, +6 fail; the third failure turns it unready.
        let timeline = simulate(&v3, every_second(3), RestartPolicy::Always, T0, T0 + 600);
        assert_eq!(timeline.transitions, vec![(T0, true), (T0 + 6, false)]);
        assert_eq!(timeline.next_event, None, "failing forever is a steady state");
        let timeline = simulate(&v3, every_second(1), RestartPolicy::Always, T0, T0 + 600);
        assert_eq!(timeline.transitions, vec![(T0, true), (T0 + 4, false)]);
        // Evaluated in the middle, the next probe is the next event.
        let timeline = simulate(&v3, every_second(3), RestartPolicy::Always, T0, T0 + 5);
        assert!(timeline.ready);
        assert_eq!(timeline.next_event, Some(T0 + 6));
    }

    #[test]
    fn probes_wait_for_the_initial_delay_and_the_app_to_listen() {
        let slow = Profile { start_seconds: 7, ..Profile::default() };
        let probe = Probe { initial_delay_seconds: 2, period_seconds: 5, ..Probe::default() };
        // Probes at +2 (refused), +7 (answered).
        let timeline = simulate(&slow, Some(probe), RestartPolicy::Always, T0, T0 + 100);
        assert_eq!(timeline.transitions, vec![(T0 + 7, true)]);
        let early = simulate(&slow, Some(probe), RestartPolicy::Always, T0, T0 + 3);
        assert_eq!((early.ready, early.next_event), (false, Some(T0 + 7)));
    }

    #[test]
    fn a_crashing_container_restarts_with_a_growing_back_off() {
        let crash = Profile { crash_after_seconds: Some(5), ..Profile::default() };
        // Runs T0..+5, back-off 10 → +15..+20, back-off 20 → +40..+45, back-off 40 → +85.
        let timeline = simulate(&crash, None, RestartPolicy::Always, T0, T0 + 50);
        assert_eq!(timeline.restart_count, 2);
        assert_eq!(timeline.state, State::BackOff { restart_at: T0 + 85 });
        assert_eq!(timeline.last_exit, Some(Exit { started: T0 + 40, finished: T0 + 45, exit_code: 1 }));
        assert!(!timeline.ready);
        let running = simulate(&crash, None, RestartPolicy::Always, T0, T0 + 86);
        assert_eq!(
            (running.state, running.restart_count, running.ready),
            (State::Running { started: T0 + 85 }, 3, true)
        );
        assert_eq!(running.next_event, Some(T0 + 90));
        assert_eq!(backoff_seconds(30), BACKOFF_MAX_SECONDS);
    }

    #[test]
    fn a_completing_container_stops_for_good_unless_the_policy_is_always() {
        let job = Profile { complete_after_seconds: Some(3), ..Profile::default() };
        for policy in [RestartPolicy::Never, RestartPolicy::OnFailure] {
            let timeline = simulate(&job, None, policy, T0, T0 + 100);
            assert_eq!(timeline.state, State::Terminated);
            assert_eq!(timeline.last_exit, Some(Exit { started: T0, finished: T0 + 3, exit_code: 0 }));
            assert_eq!(timeline.transitions, vec![(T0, true), (T0 + 3, false)]);
        }
        let always = simulate(&job, None, RestartPolicy::Always, T0, T0 + 100);
        assert!(always.restart_count > 0);
    }
}
