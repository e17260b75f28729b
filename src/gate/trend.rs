//! The trend of a history: throughput and p99 of the baseline runs and the current one, oldest
//! first, and the change points in it. The detector is binary segmentation on log values: the best
//! split — one step, or a stretch that differs from the runs around it (a regression later fixed)
//! — by a two-sample t statistic; kept when the statistic and the step are both large; repeated
//! on each part. A simpler cousin of E-divisive (Matteson & James 2014), which MongoDB runs on its
//! nightly history (Daly et al., ICPE 2020). Pure; O(n²) splits per pass, fine for a history of
//! tens of runs.

use serde::{Deserialize, Serialize};

use crate::results::RunResult;

/// Shortest segment on either side of a change point, in runs.
pub const MIN_SEGMENT: usize = 3;
/// |t| a split must exceed: high, because the best of many splits is taken.
pub const T_CRITICAL: f64 = 5.0;
/// Smallest step that counts as a change, %.
pub const MIN_CHANGE_PCT: f64 = 5.0;

/// One run of the trend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// Run id.
    pub run_id: Option<String>,
    /// Steady-state throughput, ops/s.
    pub ops_per_sec: Option<f64>,
    /// Steady-state p99 latency, ms.
    pub p99_ms: Option<f64>,
}

/// A change point: the metric steps at `index` (the first run after the change).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangePoint {
    /// `throughput` or `p99`.
    pub metric: String,
    /// Index into [`Trend::runs`] of the first run after the step.
    pub index: usize,
    /// That run's id.
    pub run_id: Option<String>,
    /// Mean after the step against mean before it, %.
    pub change_pct: f64,
}

/// The history's trend with the current run last.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// Oldest first; the current run is the last.
    pub runs: Vec<TrendPoint>,
    /// Change points, in order of index.
    pub change_points: Vec<ChangePoint>,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn sum_sq(v: &[f64], m: f64) -> f64 {
    v.iter().map(|x| (x - m).powi(2)).sum()
}

/// Split points of `values` (all positive), each the index of the first value after a step.
pub fn change_points(values: &[f64]) -> Vec<usize> {
    let logs: Vec<f64> = values.iter().map(|v| v.ln()).collect();
    let mut out = Vec::new();
    segment(&logs, 0, &mut out);
    out.sort_unstable();
    out
}

/// Two-sample t statistic of `a` against `b` with a pooled variance (∞ for a clean step, 0 for
/// no difference).
fn t_stat(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (mean(a), mean(b));
    let dof = (a.len() + b.len()).saturating_sub(2).max(1);
    let pooled = (sum_sq(a, ma) + sum_sq(b, mb)) / dof as f64;
    let se = (pooled * (1.0 / a.len() as f64 + 1.0 / b.len() as f64)).sqrt();
    let d = (mb - ma).abs();
    if se > 0.0 {
        d / se
    } else if d > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// The step between `a` and `b` in %, from log means.
fn step_pct(a: &[f64], b: &[f64]) -> f64 {
    ((mean(b) - mean(a)).exp() - 1.0).abs() * 100.0
}

/// Best split of `logs`: one step at `k` (`(k, None)`), or a stretch `[i, j)` that differs from
/// the runs around it — a regression that was later fixed (`(i, Some(j))`) — with its t.
fn best_split(logs: &[f64]) -> Option<(usize, Option<usize>, f64)> {
    let n = logs.len();
    let mut best: Option<(usize, Option<usize>, f64)> = None;
    let mut consider = |k: usize, j: Option<usize>, t: f64, step: f64| {
        if step >= MIN_CHANGE_PCT && best.is_none_or(|(_, _, bt)| t > bt) {
            best = Some((k, j, t));
        }
    };
    for k in MIN_SEGMENT..=n.saturating_sub(MIN_SEGMENT) {
        let (l, r) = logs.split_at(k);
        consider(k, None, t_stat(l, r), step_pct(l, r));
    }
    for i in MIN_SEGMENT..n {
        for j in i + MIN_SEGMENT..=n.saturating_sub(MIN_SEGMENT) {
            let mid = &logs[i..j];
            let around: Vec<f64> = logs[..i].iter().chain(&logs[j..]).copied().collect();
            consider(i, Some(j), t_stat(&around, mid), step_pct(&around, mid));
        }
    }
    best
}

fn segment(logs: &[f64], offset: usize, out: &mut Vec<usize>) {
    if logs.len() < 2 * MIN_SEGMENT {
        return;
    }
    let Some((k, j, t)) = best_split(logs) else {
        return;
    };
    if t <= T_CRITICAL {
        return;
    }
    out.push(offset + k);
    match j {
        None => {
            segment(&logs[..k], offset, out);
            segment(&logs[k..], offset + k, out);
        }
        Some(j) => {
            out.push(offset + j);
            segment(&logs[..k], offset, out);
            segment(&logs[k..j], offset + k, out);
            segment(&logs[j..], offset + j, out);
        }
    }
}

/// The trend of `history` (oldest first) followed by `current`; `None` with fewer than three
/// runs in all.
pub fn trend(history: &[&RunResult], current: &RunResult) -> Option<Trend> {
    let runs: Vec<TrendPoint> = history
        .iter()
        .copied()
        .chain(std::iter::once(current))
        .map(|r| TrendPoint {
            run_id: r.run.id.clone(),
            ops_per_sec: r.steady_state.total.ops_per_sec,
            p99_ms: r.steady_state.total.latency_ms.p99,
        })
        .collect();
    if runs.len() < 3 {
        return None;
    }
    let mut found = Vec::new();
    for (metric, get) in [
        (
            "throughput",
            (|p: &TrendPoint| p.ops_per_sec) as fn(&TrendPoint) -> Option<f64>,
        ),
        ("p99", |p: &TrendPoint| p.p99_ms),
    ] {
        let vals: Option<Vec<f64>> = runs
            .iter()
            .map(|p| get(p).filter(|v| *v > 0.0 && v.is_finite()))
            .collect();
        let Some(vals) = vals else { continue };
        for i in change_points(&vals) {
            let before = mean(&vals[..i]);
            let after = mean(&vals[i..]);
            found.push(ChangePoint {
                metric: metric.into(),
                index: i,
                run_id: runs[i].run_id.clone(),
                change_pct: (after / before - 1.0) * 100.0,
            });
        }
    }
    found.sort_by_key(|c| c.index);
    Some(Trend {
        runs,
        change_points: found,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_noisy_history_has_no_change_point() {
        let v = [
            100.0, 103.0, 98.0, 101.0, 99.0, 102.0, 97.0, 100.0, 101.0, 99.0,
        ];
        assert!(change_points(&v).is_empty());
    }

    #[test]
    fn a_step_is_found_where_it_happened() {
        let v = [100.0, 101.0, 99.0, 100.0, 102.0, 85.0, 84.0, 86.0, 85.0];
        assert_eq!(change_points(&v), [5]);
        // Too small a step (2 %) is no change, however clean.
        let w = [100.0, 100.0, 100.0, 102.0, 102.0, 102.0];
        assert!(change_points(&w).is_empty());
    }

    #[test]
    fn two_steps_are_both_found() {
        let v = [
            100.0, 101.0, 99.0, 100.0, 80.0, 81.0, 79.0, 80.0, 100.0, 99.0, 101.0, 100.0,
        ];
        assert_eq!(change_points(&v), [4, 8]);
    }

    #[test]
    fn a_single_outlier_is_no_change_point() {
        let v = [100.0, 101.0, 99.0, 60.0, 100.0, 101.0, 99.0, 100.0];
        assert!(change_points(&v).is_empty());
    }
}
