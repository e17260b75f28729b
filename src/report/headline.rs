//! The headline of a run (status, steady-state ops/s, p99, how the load generators fared), worded
//! once so that the summary and the chart title say the same thing.

use super::human;
use crate::client::TaskStatus;
use crate::results::{RunResult, RunStatus};

/// How many load generators ended in each status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskCounts {
    /// All load generators.
    pub total: usize,
    /// `ok`.
    pub ok: usize,
    /// `degraded`.
    pub degraded: usize,
    /// `failed`.
    pub failed: usize,
}

impl TaskCounts {
    /// Count the tasks of a result by status.
    pub fn of(r: &RunResult) -> Self {
        let mut c = Self {
            total: r.tasks.len(),
            ..Self::default()
        };
        for t in &r.tasks {
            match t.status {
                TaskStatus::Ok => c.ok += 1,
                TaskStatus::Degraded => c.degraded += 1,
                TaskStatus::Failed => c.failed += 1,
            }
        }
        c
    }

    /// `3 load generators, all ok`, `3 load generators: 2 ok, 1 failed`, `no load generators`.
    pub fn phrase(&self) -> String {
        if self.total == 0 {
            return "no load generators".to_string();
        }
        let n = human::plural(self.total, "load generator", "load generators");
        let parts: Vec<String> = [
            (self.ok, TaskStatus::Ok.as_str()),
            (self.degraded, TaskStatus::Degraded.as_str()),
            (self.failed, TaskStatus::Failed.as_str()),
        ]
        .into_iter()
        .filter(|(k, _)| *k > 0)
        .map(|(k, word)| format!("{k} {word}"))
        .collect();
        match parts.as_slice() {
            [_] if self.total == 1 => format!("{n}, {}", self.status_word()),
            [_] => format!("{n}, all {}", self.status_word()),
            _ => format!("{n}: {}", parts.join(", ")),
        }
    }

    fn status_word(&self) -> &'static str {
        if self.ok == self.total {
            TaskStatus::Ok.as_str()
        } else if self.degraded == self.total {
            TaskStatus::Degraded.as_str()
        } else {
            TaskStatus::Failed.as_str()
        }
    }
}

/// The numbers a reader looks at first.
#[derive(Clone, Debug, PartialEq)]
pub struct Headline {
    /// `ok`, `degraded` or `failed`, as in `results.json`.
    pub status: RunStatus,
    /// Total ops/s of the steady state (or of the whole run when no window could be chosen).
    pub ops_per_sec: Option<f64>,
    /// Whether a steady-state window was chosen; otherwise the numbers cover the whole run.
    pub has_window: bool,
    /// Total p99 latency, ms.
    pub p99_ms: Option<f64>,
    /// Whether that p99 covers the whole run rather than the window.
    pub p99_covers_whole_run: bool,
    /// Load generators by status.
    pub tasks: TaskCounts,
}

impl Headline {
    /// The headline of a result.
    pub fn of(r: &RunResult) -> Self {
        let has_window = r.steady_state.window.start_unix_ms.is_some();
        Self {
            status: r.status,
            ops_per_sec: r.steady_state.total.ops_per_sec,
            has_window,
            p99_ms: r.steady_state.total.latency_ms.p99,
            p99_covers_whole_run: !has_window || r.steady_state.latency_scope != "window",
            tasks: TaskCounts::of(r),
        }
    }

    /// `27,728 ops/s` or `no results`.
    pub fn ops_phrase(&self) -> String {
        match self.ops_per_sec {
            Some(_) => format!("{} ops/s", human::rate(self.ops_per_sec)),
            None => "no results".to_string(),
        }
    }

    /// `steady state` or `whole run`: what [`Self::ops_phrase`] covers.
    pub fn ops_scope(&self) -> &'static str {
        if self.has_window {
            "steady state"
        } else {
            "whole run"
        }
    }

    /// `p99 6.72 ms`, `p99 6.72 ms (whole run)` when the window could not narrow latency, or `None`.
    pub fn p99_phrase(&self) -> Option<String> {
        let p99 = self.p99_ms?;
        let scope = if self.p99_covers_whole_run && self.has_window {
            " (whole run)"
        } else {
            ""
        };
        Some(format!("p99 {} ms{scope}", human::ms(Some(p99))))
    }

    /// The verdict as plain text: `27,728 ops/s steady state · p99 6.72 ms (whole run) · 3 load
    /// generators, all ok`.
    pub fn plain(&self) -> String {
        let mut parts = Vec::with_capacity(3);
        if self.ops_per_sec.is_some() {
            parts.push(format!("{} {}", self.ops_phrase(), self.ops_scope()));
        } else {
            parts.push(self.ops_phrase());
        }
        parts.extend(self.p99_phrase());
        parts.push(self.tasks.phrase());
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(ok: usize, degraded: usize, failed: usize) -> TaskCounts {
        TaskCounts {
            total: ok + degraded + failed,
            ok,
            degraded,
            failed,
        }
    }

    #[test]
    fn task_phrases() {
        assert_eq!(counts(3, 0, 0).phrase(), "3 load generators, all ok");
        assert_eq!(counts(1, 0, 0).phrase(), "1 load generator, ok");
        assert_eq!(counts(0, 0, 1).phrase(), "1 load generator, failed");
        assert_eq!(counts(0, 0, 4).phrase(), "4 load generators, all failed");
        assert_eq!(
            counts(2, 0, 1).phrase(),
            "3 load generators: 2 ok, 1 failed"
        );
        assert_eq!(counts(0, 0, 0).phrase(), "no load generators");
    }

    #[test]
    fn plain_headline() {
        let h = Headline {
            status: RunStatus::Ok,
            ops_per_sec: Some(27_728.35),
            has_window: true,
            p99_ms: Some(6.719),
            p99_covers_whole_run: true,
            tasks: counts(3, 0, 0),
        };
        assert_eq!(
            h.plain(),
            "27,728 ops/s steady state · p99 6.72 ms (whole run) · 3 load generators, all ok"
        );
        let failed = Headline {
            status: RunStatus::Failed,
            ops_per_sec: None,
            has_window: false,
            p99_ms: None,
            p99_covers_whole_run: true,
            tasks: counts(0, 0, 1),
        };
        assert_eq!(failed.plain(), "no results · 1 load generator, failed");
    }
}
