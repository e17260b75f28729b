//! What an AWS run says while its tasks run: each task's state and latest memtier progress (the
//! `ECP-PROGRESS` lines its log stream carries while memtier runs), one line for people, tasks that
//! stopped early, and tasks that have stalled (running, but their operation count has not grown
//! for the stall limit: memtier hangs forever on a wrong password). Pure: the caller reads the
//! streams and the clock.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::memtier::log;
use crate::plan::script::MARK_PROGRESS;

/// How long a running task may go without its operation count growing before it counts as stalled.
pub const STALL_LIMIT: Duration = Duration::from_secs(crate::plan::STALL_LIMIT_SECS);

/// What is known of one task.
#[derive(Clone, Debug, Default)]
struct Task {
    /// ECS's last status, as last described.
    state: String,
    /// When it was first seen RUNNING (time since the load started).
    running_since: Option<Duration>,
    /// Its latest progress.
    latest: Option<log::Progress>,
    /// When its operation count last grew.
    advanced_at: Option<Duration>,
}

/// Tasks' progress, by task id.
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    tasks: BTreeMap<String, Task>,
}

/// A task that changed state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Task id.
    pub id: String,
    /// Its state before (empty when first seen).
    pub from: String,
    /// Its state now.
    pub to: String,
}

impl Tracker {
    /// Record a task's state at `now`; returns the change when there was one.
    pub fn state(&mut self, id: &str, last_status: &str, now: Duration) -> Option<Change> {
        let t = self.tasks.entry(id.to_string()).or_default();
        if last_status == "RUNNING" && t.running_since.is_none() {
            t.running_since = Some(now);
        }
        if t.state == last_status {
            return None;
        }
        let from = std::mem::replace(&mut t.state, last_status.to_string());
        Some(Change {
            id: id.to_string(),
            from,
            to: last_status.to_string(),
        })
    }

    /// Read new lines of a task's log stream at `now`: its latest progress, and whether its
    /// operation count grew.
    pub fn lines<'a>(&mut self, id: &str, lines: impl IntoIterator<Item = &'a str>, now: Duration) {
        let t = self.tasks.entry(id.to_string()).or_default();
        for l in lines {
            let Some(text) = l.strip_prefix(MARK_PROGRESS) else {
                continue;
            };
            let Some(p) = log::parse(text).progress.pop() else {
                continue;
            };
            if p.ops > t.latest.as_ref().map_or(0, |q| q.ops) {
                t.advanced_at = Some(now);
            }
            t.latest = Some(p);
        }
    }

    /// Ids of the tasks that are not STOPPED.
    pub fn live(&self) -> Vec<&str> {
        self.tasks
            .iter()
            .filter(|(_, t)| t.state != "STOPPED")
            .map(|(id, _)| id.as_str())
            .collect()
    }

    /// Whether a task is running and its operation count has not grown for `limit` (counted from
    /// when it was first seen running, if it never printed progress).
    pub fn stalled(&self, id: &str, now: Duration, limit: Duration) -> bool {
        let Some(t) = self.tasks.get(id) else {
            return false;
        };
        let Some(since) = t.advanced_at.or(t.running_since) else {
            return false;
        };
        t.state == "RUNNING" && now.saturating_sub(since) >= limit
    }

    /// Why the load should end now, when every task that has not stopped has stalled (and at least
    /// one has not stopped).
    pub fn all_stalled(&self, now: Duration, limit: Duration) -> Option<String> {
        let live = self.live();
        if live.is_empty() || !live.iter().all(|id| self.stalled(id, now, limit)) {
            return None;
        }
        let never = live
            .iter()
            .filter(|id| self.tasks.get(**id).is_some_and(|t| t.latest.is_none()))
            .count();
        let stopped = self.tasks.len() - live.len();
        let mut why = format!(
            "no load generator made progress for {} s ({} running task(s) stalled",
            limit.as_secs(),
            live.len()
        );
        if never > 0 {
            why.push_str(&format!(", {never} never printed progress"));
        }
        if stopped > 0 {
            why.push_str(&format!(", {stopped} already stopped"));
        }
        why.push_str("): memtier hangs like this when it cannot authenticate or reach the cache");
        Some(why)
    }

    /// One line for people: elapsed of total, the tasks' states, and the live numbers (the sum of
    /// the tasks' ops/s over their last second, and their mean latency weighted by ops/s; memtier's
    /// progress lines carry no percentiles: p99 comes with the results).
    pub fn line(&self, elapsed: Duration, total: Duration) -> String {
        let mut states: BTreeMap<&str, usize> = BTreeMap::new();
        for t in self.tasks.values() {
            *states.entry(state_name(&t.state)).or_default() += 1;
        }
        let states: Vec<String> = states.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let mut line = format!(
            "{:>5} s / {} s  tasks: {}",
            elapsed.as_secs(),
            total.as_secs(),
            states.join(", ")
        );
        let running: Vec<&log::Progress> = self
            .tasks
            .values()
            .filter(|t| t.state == "RUNNING")
            .filter_map(|t| t.latest.as_ref())
            .collect();
        if !running.is_empty() {
            #[allow(clippy::cast_precision_loss)]
            let ops: f64 = running.iter().map(|p| p.ops_per_sec as f64).sum();
            line.push_str(&format!("  clients {ops:.0} ops/s"));
            #[allow(clippy::cast_precision_loss)]
            let weighted: Vec<(f64, f64)> = running
                .iter()
                .filter_map(|p| p.latency_ms.map(|l| (l, p.ops_per_sec as f64)))
                .collect();
            let w: f64 = weighted.iter().map(|(_, w)| w).sum();
            if w > 0.0 {
                let mean = weighted.iter().map(|(l, w)| l * w).sum::<f64>() / w;
                line.push_str(&format!("  mean latency {mean:.3} ms"));
            }
        }
        line
    }
}

fn state_name(s: &str) -> &str {
    if s.is_empty() {
        "UNKNOWN"
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(secs: u32, ops: u64, ops_s: u64, lat: &str) -> String {
        format!(
            "{MARK_PROGRESS} [RUN #1 50%, {secs:>3} secs]  2 threads  5 conns: {ops:>11} ops, {ops_s:>7} (avg: {ops_s:>7}) ops/sec, 1.00MB/sec (avg: 1.00MB/sec), {lat} (avg: {lat}) msec latency"
        )
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn the_line_sums_ops_and_weights_latency() {
        let mut t = Tracker::default();
        t.state("a", "RUNNING", S(0));
        t.state("b", "RUNNING", S(0));
        t.state("c", "PENDING", S(0));
        t.lines("a", [progress(5, 5000, 1000, "1.00").as_str()], S(5));
        t.lines("b", [progress(5, 15000, 3000, "2.00").as_str()], S(5));
        let l = t.line(S(30), S(600));
        assert!(l.starts_with("   30 s / 600 s"), "{l}");
        assert!(l.contains("tasks: 1 PENDING, 2 RUNNING"), "{l}");
        assert!(l.contains("clients 4000 ops/s"), "{l}");
        // (1 × 1000 + 2 × 3000) / 4000
        assert!(l.contains("mean latency 1.750 ms"), "{l}");
    }

    #[test]
    fn a_task_stalls_when_its_ops_stop_growing_or_never_start() {
        let mut t = Tracker::default();
        assert_eq!(
            t.state("a", "RUNNING", S(10)),
            Some(Change {
                id: "a".into(),
                from: String::new(),
                to: "RUNNING".into()
            })
        );
        assert_eq!(t.state("a", "RUNNING", S(11)), None);
        t.state("b", "RUNNING", S(10));
        t.lines("a", [progress(5, 100, 20, "1.0").as_str()], S(20));
        // The same count again is no progress; non-progress lines are ignored.
        t.lines(
            "a",
            [progress(6, 100, 0, "-nan").as_str(), "ECP-BEGIN v1 timed"],
            S(60),
        );
        let limit = S(120);
        assert!(!t.stalled("a", S(139), limit));
        assert!(t.stalled("a", S(140), limit));
        assert!(t.stalled("b", S(130), limit));
        assert!(
            t.all_stalled(S(130), limit).is_none(),
            "a is not stalled yet"
        );
        let why = t.all_stalled(S(140), limit).unwrap();
        assert!(
            why.contains("2 running task(s) stalled, 1 never printed progress"),
            "{why}"
        );
        // A task that grows again is not stalled.
        t.lines("a", [progress(7, 200, 100, "1.0").as_str()], S(141));
        assert!(!t.stalled("a", S(150), limit));
        assert!(t.all_stalled(S(150), limit).is_none());
    }

    #[test]
    fn stopped_tasks_do_not_count_as_stalled_or_live() {
        let mut t = Tracker::default();
        t.state("a", "RUNNING", S(0));
        t.state("b", "RUNNING", S(0));
        t.state("b", "STOPPED", S(5));
        assert_eq!(t.live(), ["a"]);
        assert!(!t.stalled("b", S(500), S(120)));
        let why = t.all_stalled(S(500), S(120)).unwrap();
        assert!(why.contains("1 already stopped"), "{why}");
        t.state("a", "STOPPED", S(501));
        assert!(
            t.all_stalled(S(600), S(120)).is_none(),
            "nothing left to stop"
        );
    }
}
