//! Reading a gated metric out of a [`RunResult`]: its steady-state value, and the per-second
//! samples inside the steady-state window that the within-run noise estimate uses. Pure.

use super::types::Metric;
use crate::results::{RunResult, SeriesPoint, StatsJson};

/// The scope name of all commands together.
pub(crate) const TOTAL: &str = "total";

fn stats<'a>(r: &'a RunResult, scope: &str) -> Option<&'a StatsJson> {
    if scope == TOTAL {
        Some(&r.steady_state.total)
    } else {
        r.steady_state.commands.get(scope)
    }
}

/// The steady-state value of `metric` in `scope`; `None` when absent, not finite or not positive
/// (a zero throughput or latency cannot anchor a relative change).
pub(crate) fn value(r: &RunResult, scope: &str, metric: Metric) -> Option<f64> {
    let s = stats(r, scope)?;
    let l = &s.latency_ms;
    let v = match metric {
        Metric::Throughput => s.ops_per_sec,
        Metric::LatencyP50 => l.p50,
        Metric::LatencyP99 => l.p99,
        Metric::LatencyP999 => l.p99_9,
    }?;
    (v.is_finite() && v > 0.0).then_some(v)
}

/// The commands with operations in the steady state.
pub(crate) fn commands(r: &RunResult) -> Vec<String> {
    r.steady_state
        .commands
        .iter()
        .filter(|(_, s)| s.count > 0)
        .map(|(k, _)| k.clone())
        .collect()
}

/// The per-second samples of `metric` in `scope` whose whole second lies in the steady-state
/// window, oldest first. Series point `t` covers the wall-clock second that starts in Unix second
/// `t`, so it is inside `[start, end)` when `⌊start/1000⌋ ≤ t` and `t + 1 ≤ ⌊end/1000⌋` (exact for
/// one load generator; within a fraction of a second for several). Latency samples exist only
/// for `total` and only when the load generator kept per-second histograms; seconds without a
/// value are skipped. `None` when there is no window or no sample.
pub(crate) fn window_samples(r: &RunResult, scope: &str, metric: Metric) -> Option<Vec<f64>> {
    if metric != Metric::Throughput && scope != TOTAL {
        return None;
    }
    in_window(r, |p| match metric {
        Metric::Throughput if scope == TOTAL => Some(p.ops_per_sec as f64),
        Metric::Throughput => Some(p.commands.get(scope).copied().unwrap_or(0) as f64),
        Metric::LatencyP50 => p.p50_ms,
        Metric::LatencyP99 => p.p99_ms,
        Metric::LatencyP999 => p.p99_9_ms,
    })
}

/// The per-second mean latency of all commands (ms) inside the steady-state window, as
/// [`window_samples`]: an exact per-second figure for every load generator, memtier included
/// (the count-weighted mean of the generators' per-second averages).
pub(crate) fn window_mean_latency(r: &RunResult) -> Option<Vec<f64>> {
    in_window(r, |p| p.mean_latency_ms.filter(|&m| m > 0.0))
}

fn in_window(r: &RunResult, pick: impl Fn(&SeriesPoint) -> Option<f64>) -> Option<Vec<f64>> {
    let w = &r.steady_state.window;
    let (start, end) = (w.start_unix_ms? / 1000, w.end_unix_ms? / 1000);
    let xs: Vec<f64> = r
        .series
        .iter()
        .filter(|p| p.t >= start && p.t < end)
        .filter_map(pick)
        .filter(|x| x.is_finite())
        .collect();
    (!xs.is_empty()).then_some(xs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::testing::run_with;

    #[test]
    fn values_come_from_the_steady_state() {
        let r = run_with(&[100.0, 200.0, 300.0], &[1.0, 2.0, 3.0]);
        assert_eq!(value(&r, TOTAL, Metric::Throughput), Some(200.0));
        assert_eq!(value(&r, TOTAL, Metric::LatencyP99), Some(2.0));
        assert_eq!(value(&r, "nope", Metric::LatencyP99), None);
        assert_eq!(commands(&r), vec!["get".to_string(), "set".to_string()]);
    }

    #[test]
    fn samples_are_limited_to_the_window() {
        let mut r = run_with(&[100.0, 200.0, 300.0, 400.0], &[1.0, 2.0, 3.0, 4.0]);
        // A window from 500 ms into the first second to 500 ms into the last (one generator whose
        // seconds start at .500): the first three seconds are whole inside it.
        let w = &mut r.steady_state.window;
        w.start_unix_ms = Some(1_000_000_500);
        w.end_unix_ms = Some(1_000_003_500);
        // series t: 1_000_000 .. 1_000_003
        assert_eq!(
            window_samples(&r, TOTAL, Metric::Throughput),
            Some(vec![100.0, 200.0, 300.0])
        );
        assert_eq!(
            window_samples(&r, TOTAL, Metric::LatencyP99),
            Some(vec![1.0, 2.0, 3.0])
        );
        // Per-command latency has no per-second series.
        assert_eq!(window_samples(&r, "get", Metric::LatencyP99), None);
        assert!(window_samples(&r, "get", Metric::Throughput).is_some());
    }

    #[test]
    fn memtier_runs_have_no_latency_samples_but_a_mean_latency() {
        let mut r = run_with(&[100.0, 200.0], &[1.0, 2.0]);
        for p in &mut r.series {
            p.p99_ms = None;
        }
        assert_eq!(window_samples(&r, TOTAL, Metric::LatencyP99), None);
        // run_with's mean latency is p99 / 3.
        assert_eq!(window_mean_latency(&r), Some(vec![1.0 / 3.0, 2.0 / 3.0]));
        r.series[1].mean_latency_ms = None;
        assert_eq!(window_mean_latency(&r), Some(vec![1.0 / 3.0]));
    }
}
