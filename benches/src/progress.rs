//! Progress while a benchmark runs: a bar with the current point on a terminal, and the same
//! lines as plain text when stderr is a log or a pipe (where a redrawn bar would be noise).

use std::fmt::Display;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Counts finished points of a known total.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar over `total` points, drawn only when stderr is a terminal.
    pub fn new(total: u64) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress { bar: ProgressBar::hidden() };
        }
        let bar = ProgressBar::new(total);
        let style =
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} points  {wide_msg}")
                .expect("a valid template");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar }
    }

    /// Names the point now running (shown beside the bar).
    pub fn start(&self, point: impl Display) {
        self.bar.set_message(point.to_string());
    }

    /// Reports a finished point: a line above the bar (or a plain line), and one step.
    pub fn finish_point(&self, line: impl Display) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line.to_string());
            self.bar.inc(1);
        }
    }

    /// A line that is not a point (setup, notes).
    pub fn note(&self, line: impl Display) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line.to_string());
        }
    }

    /// Removes the bar once everything has run.
    pub fn done(&self) {
        self.bar.finish_and_clear();
    }
}
