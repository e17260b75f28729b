//! A run's own noise, from its per-second series: the relative standard error of a metric's
//! steady-state value by batch means, and the interval of a change against one baseline run built
//! from it (throughput, and latency with its closed-loop coupling to throughput). Pure.
//!
//! Against one baseline run, a latency's interval is the widest of the honest estimates the two
//! runs allow (docs/gate.md, "One pinned run"):
//! 1. batch means of the percentile's own per-second series (exact per-second histograms, the
//!    built-in generator only; a command borrows the total's, scaled), plus the latency floor;
//! 2. batch means of the per-second mean latency (exact for every generator, memtier included;
//!    scaled the same way for a command), plus the latency floor;
//! 3. the total throughput's interval width (closed loop: Little's law, `connections = throughput ×
//!    mean latency`, so a run whose throughput is 20 % low by chance has its latency 25 % high by
//!    the same chance — latency can never be surer than throughput);
//! 4. the latency floor alone.

use super::estimate::{closed_loop, widest, within_runs, Estimate};
use super::extract::{value, window_mean_latency, window_samples, TOTAL};
use super::inputs::GateConfig;
use super::sample::{batch_means, BatchMeans};
use super::types::{Metric, NoiseMethod};
use crate::results::RunResult;

/// Where a run's per-second noise for a metric came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// The metric's own per-second series in this scope.
    Own,
    /// The total's per-second series of the same metric, scaled to the command's count.
    Total,
}

/// `total`'s batch means scaled to `scope`'s count: a command's figure rests on fewer operations,
/// and a quantile's (or a mean's) standard error grows as 1/√count, so the total's error is
/// multiplied by √(total count / command count) (conservative: the shared, time-varying part of the
/// noise does not shrink with the count).
fn scaled(r: &RunResult, scope: &str, total: BatchMeans) -> Option<BatchMeans> {
    if scope == TOTAL {
        return Some(total);
    }
    let n_total = r.steady_state.total.count;
    let n_cmd = r.steady_state.commands.get(scope).map_or(0, |s| s.count);
    if n_total == 0 || n_cmd == 0 {
        return None;
    }
    let scale = (n_total as f64 / n_cmd as f64).sqrt().max(1.0);
    Some(BatchMeans {
        std_error: total.std_error * scale,
        ..total
    })
}

/// A run's batch means of the metric's own per-second series (a command's latency borrows the
/// total's, scaled).
fn percentile_noise(r: &RunResult, scope: &str, metric: Metric) -> Option<(BatchMeans, Source)> {
    if let Some(bm) = window_samples(r, scope, metric).and_then(|x| batch_means(&x)) {
        return Some((bm, Source::Own));
    }
    if metric == Metric::Throughput || scope == TOTAL {
        return None;
    }
    let total = window_samples(r, TOTAL, metric).and_then(|x| batch_means(&x))?;
    Some((scaled(r, scope, total)?, Source::Total))
}

/// A run's batch means of the per-second mean latency, scaled to `scope`.
fn mean_latency_noise(r: &RunResult, scope: &str) -> Option<BatchMeans> {
    let total = window_mean_latency(r).and_then(|x| batch_means(&x))?;
    scaled(r, scope, total)
}

fn relative(bm: BatchMeans) -> Option<f64> {
    (bm.mean > 0.0).then(|| bm.std_error / bm.mean)
}

/// Fewest batches a run's own standard error needs to serve as a floor under a history's spread.
/// A standard error from k batch means is itself uncertain by about 1/√(2(k−1)) (the relative
/// standard error of a sample standard deviation): 71 % from two batches, 41 % from four. A
/// floor must be a lower bound one can believe, so a run of a few seconds (whose first seconds
/// may be its ramp-up) sets none, rather than one that swamps every change.
pub(super) const MIN_FLOOR_BATCHES: usize = 4;

/// A run's own relative standard error of `metric` in `scope` from its per-second series: the
/// metric's series, else (latency) the per-second mean latency's. `None` without a series, or
/// with fewer than [`MIN_FLOOR_BATCHES`] batches.
pub(super) fn run_relative_error(r: &RunResult, scope: &str, metric: Metric) -> Option<f64> {
    let own = percentile_noise(r, scope, metric).map(|(bm, _)| bm);
    let bm = match own {
        Some(bm) => bm,
        None if metric != Metric::Throughput => mean_latency_noise(r, scope)?,
        None => return None,
    };
    if bm.batches < MIN_FLOOR_BATCHES {
        return None;
    }
    relative(bm)
}

/// The interval of `metric` in `scope`, `current` against the one baseline run `base`.
pub(super) fn one_run(
    current: &RunResult,
    base: &RunResult,
    scope: &str,
    metric: Metric,
    cfg: &GateConfig,
    confidence: f64,
) -> Option<Estimate> {
    let th = &cfg.thresholds;
    let (b, c) = (value(base, scope, metric)?, value(current, scope, metric)?);
    if metric == Metric::Throughput {
        let nb = percentile_noise(base, scope, metric).map(|x| x.0);
        let nc = percentile_noise(current, scope, metric).map(|x| x.0);
        return within_runs(b, c, nb, nc, th.throughput_noise_floor_pct, confidence);
    }
    let floor = th.latency_noise_floor_pct;
    let mut candidates = Vec::new();
    let (pb, pc) = (
        percentile_noise(base, scope, metric),
        percentile_noise(current, scope, metric),
    );
    if let (Some((nb, sb)), Some((nc, sc))) = (pb, pc) {
        let mut e = within_runs(b, c, Some(nb), Some(nc), floor, confidence)?;
        if sb == Source::Total || sc == Source::Total {
            e.method = NoiseMethod::TotalBatchMeans;
        }
        candidates.push(e);
    }
    if let (Some(nb), Some(nc)) = (
        mean_latency_noise(base, scope),
        mean_latency_noise(current, scope),
    ) {
        let mut e = within_runs(b, c, Some(nb), Some(nc), floor, confidence)?;
        e.method = NoiseMethod::MeanLatency;
        candidates.push(e);
    }
    if let Some(t) = one_run(current, base, TOTAL, Metric::Throughput, cfg, confidence) {
        candidates.extend(closed_loop(b, c, &t, confidence));
    }
    // The floor alone comes last, so that a series whose own noise adds nothing to the floor is
    // still named as the source.
    candidates.extend(within_runs(b, c, None, None, floor, confidence));
    widest(candidates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::testing::run_with;

    #[test]
    fn a_command_scales_the_total_series_by_its_count() {
        // run_with: GET:SET 10:1 over 16 s with a p99 ramp 1..=16 ms → 4 batches of 4 s: means
        // 2.5, 6.5, 10.5, 14.5; sd √(80/3) = 5.164; se 5.164 / √4 = 2.582 for the total.
        let p99: Vec<f64> = (1..=16).map(f64::from).collect();
        let r = run_with(&[1100.0; 16], &p99);
        let (total, s) = percentile_noise(&r, TOTAL, Metric::LatencyP99).unwrap();
        assert_eq!(s, Source::Own);
        assert!((total.std_error - 2.581_989).abs() < 1e-5, "{total:?}");
        let (set, s) = percentile_noise(&r, "set", Metric::LatencyP99).unwrap();
        assert_eq!(s, Source::Total);
        // 1100 ops/s: 1000 GET, 100 SET → √(17600/1600) = √11.
        assert!((set.std_error / total.std_error - 11f64.sqrt()).abs() < 1e-9);
        // The mean latency (p99 / 3 in run_with) has a third of the p99's standard error.
        let m = mean_latency_noise(&r, TOTAL).unwrap();
        assert!((m.std_error - total.std_error / 3.0).abs() < 1e-9);
    }

    #[test]
    fn run_relative_error_falls_back_to_the_mean_latency() {
        let p99: Vec<f64> = (1..=16).map(f64::from).collect();
        let mut r = run_with(&[1100.0; 16], &p99);
        let own = run_relative_error(&r, TOTAL, Metric::LatencyP99).unwrap();
        // se 2.582 / mean of the batched part 8.5.
        assert!((own - 2.581_989 / 8.5).abs() < 1e-5);
        for p in &mut r.series {
            p.p99_ms = None;
        }
        let mean = run_relative_error(&r, TOTAL, Metric::LatencyP99).unwrap();
        // p99 / 3 has the same relative error.
        assert!((mean - own).abs() < 1e-9);
        // Constant throughput: zero relative error, not missing.
        assert_eq!(run_relative_error(&r, TOTAL, Metric::Throughput), Some(0.0));
        // Three seconds make one-second batches, too few to believe as a floor.
        let short = run_with(&[1100.0, 300.0, 1200.0], &[1.0, 2.0, 3.0]);
        assert_eq!(run_relative_error(&short, TOTAL, Metric::Throughput), None);
    }
}
