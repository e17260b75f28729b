//! Confidence intervals of the relative change `current / baseline − 1`, computed on the log
//! scale (changes are multiplicative and latency is right-skewed), with the noise estimated
//! either between runs (several baseline runs) or within runs (one baseline run). Pure.
//!
//! Formulas, with `d = ln(current) − ln(baseline)` and `q = t_{1−α/2, df}`:
//! * between runs: baseline = median of the m runs' values; `s` = sd of their logs, raised to
//!   `s_min` when below it (runs that agree more closely than their own sampling noise, e.g. copies
//!   of one run, would otherwise give a zero-width interval); `se = s·√(1 + c/m)` with `c = π/2` for m ≥ 3 (the asymptotic variance of a median relative to
//!   a mean; for small m the exact factor is smaller, so this is conservative) and `c = 1` for
//!   m ≤ 2 (the median is the mean); `df = m − 1`. This is the prediction interval for one more
//!   draw from the baseline's distribution: the current run's own noise is the baseline runs'
//!   spread, which includes every source of run-to-run variation.
//! * within runs: `se² = r_b² + r_c² + 2f²`, where `r` is a run's relative standard error from
//!   batch means of its per-second samples and `f` the assumed run-to-run relative standard
//!   deviation (the floor a single run cannot show); `df` by Welch–Satterthwaite, the floor
//!   counting as known (infinite df).
//! * closed loop (latency against one baseline run): the load keeps a fixed number of requests in
//!   flight, so by Little's law (`L = λ·W`: connections = throughput × mean latency) a run's mean
//!   latency is connections / throughput and carries exactly throughput's run-to-run noise; a
//!   latency interval takes the throughput's `se` and `df` when they are wider than its own.
//!
//! The interval is `[exp(d − q·se) − 1, exp(d + q·se) − 1]`, in %.

use std::f64::consts::PI;

use super::sample::{median, variance, BatchMeans};
use super::tdist::t_quantile;
use super::types::{Interval, NoiseMethod};

/// A relative change with its interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The baseline value the change is relative to.
    pub baseline: f64,
    /// `(current / baseline − 1) · 100`.
    pub change_pct: f64,
    /// The interval, %.
    pub interval: Interval,
    /// Degrees of freedom (`None`: normal quantile).
    pub df: Option<f64>,
    /// The standard error of `ln(current / baseline)` the interval rests on.
    pub log_se: f64,
    /// The noise source.
    pub method: NoiseMethod,
}

impl Estimate {
    /// The interval's width on the log scale, `2·q·se`: the measure by which [`widest`] picks.
    pub fn log_width(&self) -> f64 {
        (1.0 + self.interval.high_pct / 100.0).ln() - (1.0 + self.interval.low_pct / 100.0).ln()
    }
}

fn interval(d: f64, se: f64, df: f64, confidence: f64) -> Interval {
    let q = t_quantile(1.0 - (1.0 - confidence) / 2.0, df);
    Interval {
        low_pct: ((d - q * se).exp() - 1.0) * 100.0,
        high_pct: ((d + q * se).exp() - 1.0) * 100.0,
    }
}

fn finite_df(df: f64) -> Option<f64> {
    df.is_finite().then_some(df)
}

/// The between-runs interval. `baseline` holds one positive value per baseline run (at least
/// two); `current` must be positive. `min_sd` is the least run-to-run standard deviation of the
/// logs believed (see [`super::compare`]: the runs' own sampling noise, and never below
/// [`MIN_RUN_TO_RUN_SD`]); a smaller spread is raised to it and the method says so. `None` when a
/// value is not positive.
pub fn between_runs(
    baseline: &[f64],
    current: f64,
    confidence: f64,
    min_sd: f64,
) -> Option<Estimate> {
    let m = baseline.len();
    if m < 2 || current <= 0.0 || baseline.iter().any(|&v| v <= 0.0 || !v.is_finite()) {
        return None;
    }
    let logs: Vec<f64> = baseline.iter().map(|v| v.ln()).collect();
    let spread = variance(&logs)?.sqrt();
    let (s, method) = if spread < min_sd {
        (min_sd, NoiseMethod::BetweenRunsFloor)
    } else {
        (spread, NoiseMethod::BetweenRuns)
    };
    let base = median(baseline)?;
    let c = if m >= 3 { PI / 2.0 } else { 1.0 };
    let se = s * (1.0 + c / m as f64).sqrt();
    let df = (m - 1) as f64;
    let d = current.ln() - base.ln();
    Some(Estimate {
        baseline: base,
        change_pct: (current / base - 1.0) * 100.0,
        interval: interval(d, se, df, confidence),
        df: Some(df),
        log_se: se,
        method,
    })
}

/// The least run-to-run standard deviation (of the logs, ≈ relative) a history baseline is
/// believed to have: 0.5 %, a quarter of the quietest spread measured between real runs of the
/// local target (1.9 %, docs/gate.md), so it only matters for runs that agree almost exactly —
/// copies of one run — which would otherwise give a zero-width interval.
pub const MIN_RUN_TO_RUN_SD: f64 = 0.005;

/// A run's relative standard error from batch means, with its degrees of freedom.
fn relative(bm: Option<BatchMeans>) -> Option<(f64, f64)> {
    let bm = bm?;
    (bm.mean > 0.0).then(|| (bm.std_error / bm.mean, (bm.batches - 1) as f64))
}

/// The within-runs interval for one baseline run: each side's batch-means relative standard error
/// where it has one, plus `floor_pct` (assumed run-to-run relative standard deviation, %) for each
/// side. `None` when a value is not positive.
pub fn within_runs(
    baseline: f64,
    current: f64,
    baseline_noise: Option<BatchMeans>,
    current_noise: Option<BatchMeans>,
    floor_pct: f64,
    confidence: f64,
) -> Option<Estimate> {
    if baseline <= 0.0 || current <= 0.0 {
        return None;
    }
    let sides = [relative(baseline_noise), relative(current_noise)];
    let f = floor_pct / 100.0;
    let var_floor = 2.0 * f * f;
    let var_series: f64 = sides.iter().flatten().map(|(r, _)| r * r).sum();
    let var = var_floor + var_series;
    // Welch–Satterthwaite: df = (Σ vᵢ)² / Σ (vᵢ² / dfᵢ); the floor is a known constant.
    let denom: f64 = sides.iter().flatten().map(|(r, df)| r.powi(4) / df).sum();
    let df = if denom > 0.0 {
        var * var / denom
    } else {
        f64::INFINITY
    };
    let method = if sides.iter().all(Option::is_some) {
        NoiseMethod::BatchMeans
    } else {
        NoiseMethod::NoiseFloor
    };
    let d = current.ln() - baseline.ln();
    Some(Estimate {
        baseline,
        change_pct: (current / baseline - 1.0) * 100.0,
        interval: interval(d, var.sqrt(), df, confidence),
        df: finite_df(df),
        log_se: var.sqrt(),
        method,
    })
}

/// The closed-loop interval of a latency change against one baseline run: the throughput
/// comparison's standard error and degrees of freedom applied to the latency's own change. In a
/// closed loop (a fixed number of connections, each waiting for its reply) Little's law makes the
/// mean latency connections / throughput, so its run-to-run noise is the throughput's, whatever
/// the latency's own series show. `None` when a value is not positive.
pub fn closed_loop(
    baseline: f64,
    current: f64,
    throughput: &Estimate,
    confidence: f64,
) -> Option<Estimate> {
    if baseline <= 0.0 || current <= 0.0 {
        return None;
    }
    let d = current.ln() - baseline.ln();
    Some(Estimate {
        baseline,
        change_pct: (current / baseline - 1.0) * 100.0,
        interval: interval(
            d,
            throughput.log_se,
            throughput.df.unwrap_or(f64::INFINITY),
            confidence,
        ),
        df: throughput.df,
        log_se: throughput.log_se,
        method: NoiseMethod::ClosedLoop,
    })
}

/// The widest of several estimates of one change (the first of equals): when several honest
/// noise estimates exist, the interval must not be narrower than any of them.
pub fn widest(candidates: impl IntoIterator<Item = Estimate>) -> Option<Estimate> {
    candidates.into_iter().fold(None, |best, e| match best {
        Some(b) if b.log_width() >= e.log_width() => Some(b),
        _ => Some(e),
    })
}

/// The Bonferroni share of a family-wise confidence level over `k` intervals: each interval at
/// `1 − (1 − confidence)/k` keeps the chance that any of them misses at most `1 − confidence`.
pub fn per_metric_confidence(confidence: f64, k: usize) -> f64 {
    1.0 - (1.0 - confidence) / k.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::sample::batch_means;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn between_runs_by_hand() {
        // Baseline logs: ln 100, ln 110, ln 90 → values 100, 110, 90: median 100.
        // logs: 4.605170, 4.700480, 4.499810; mean 4.601820; deviations 0.003350, 0.098660, −0.102010
        // s² = (0.0000112 + 0.0097338 + 0.0104060)/2 = 0.0100755 → s = 0.100377
        // se = s·√(1 + (π/2)/3) = 0.100377 · 1.234340 = 0.123900; df = 2; q = 4.302653
        // current 80: d = ln 0.8 = −0.223144; q·se = 0.533098;
        // bounds exp(−0.756242) − 1 = −53.06 %, exp(0.309954) − 1 = +36.34 %.
        let e = between_runs(&[100.0, 110.0, 90.0], 80.0, 0.95, 0.0).unwrap();
        close(e.baseline, 100.0, 1e-12);
        close(e.change_pct, -20.0, 1e-9);
        close(e.interval.low_pct, -53.06, 0.01);
        close(e.interval.high_pct, 36.34, 0.01);
        assert_eq!(e.df, Some(2.0));
        assert_eq!(e.method, NoiseMethod::BetweenRuns);
    }

    #[test]
    fn two_runs_use_the_mean_factor() {
        // m = 2: median = mean = 100 (values 95.12…, 105.13… chosen so the logs are ±0.05);
        // s = 0.0707107, se = s·√1.5 = 0.0866025, df = 1, q = 12.7062.
        let (a, b) = ((-0.05_f64).exp() * 100.0, 0.05_f64.exp() * 100.0);
        let e = between_runs(&[a, b], 100.0, 0.95, 0.0).unwrap();
        let med = (a + b) / 2.0;
        let d = (100.0 / med).ln();
        close(
            e.interval.high_pct,
            ((d + 12.7062 * 0.0866025).exp() - 1.0) * 100.0,
            0.01,
        );
    }

    #[test]
    fn between_runs_rejects_bad_input() {
        assert!(between_runs(&[100.0], 90.0, 0.95, 0.0).is_none());
        assert!(between_runs(&[100.0, 0.0], 90.0, 0.95, 0.0).is_none());
        assert!(between_runs(&[100.0, 101.0], 0.0, 0.95, 0.0).is_none());
    }

    #[test]
    fn within_runs_floor_only_by_hand() {
        // No series: se = √2 · 0.05 = 0.0707107, normal q = 1.959964 → ±0.138590 on the log scale.
        // current/baseline = 1.2: d = 0.182322; bounds exp(0.043732) − 1 = 4.470 %, exp(0.320912) − 1 = 37.84 %.
        let e = within_runs(1.0, 1.2, None, None, 5.0, 0.95).unwrap();
        close(e.change_pct, 20.0, 1e-9);
        close(e.interval.low_pct, 4.470, 0.005);
        close(e.interval.high_pct, 37.84, 0.01);
        assert_eq!(e.df, None);
        assert_eq!(e.method, NoiseMethod::NoiseFloor);
    }

    #[test]
    fn within_runs_batch_means_by_hand() {
        // Both runs: 16 s alternating 90/110 → b = 4, 4 batches of mean 100 each → se 0:
        // only the floor remains (1 %): se = √2 · 0.01, q = 1.959964.
        let xs: Vec<f64> = (0..16)
            .map(|i| if i % 2 == 0 { 90.0 } else { 110.0 })
            .collect();
        let bm = batch_means(&xs);
        let e = within_runs(100.0, 100.0, bm, bm, 1.0, 0.95).unwrap();
        close(
            e.interval.high_pct,
            ((1.959964 * 0.0141421_f64).exp() - 1.0) * 100.0,
            1e-3,
        );
        assert_eq!(e.method, NoiseMethod::BatchMeans);
        // Batches 1..=9 (n = 9, b = 3): means 2, 5, 8 → sd 3, se √3, rel 0.34641; df 2 each side.
        // var = 2·0.12 = 0.24 (floor 0); Welch df = 0.24² / (2 · 0.0144/2) = 4; q(0.975, 4) = 2.776445.
        let ys: Vec<f64> = (1..=9).map(f64::from).collect();
        let bm = batch_means(&ys);
        let e = within_runs(5.0, 5.0, bm, bm, 0.0, 0.95).unwrap();
        close(e.df.unwrap(), 4.0, 1e-9);
        close(
            e.interval.high_pct,
            ((2.776445 * 0.24_f64.sqrt()).exp() - 1.0) * 100.0,
            1e-3,
        );
    }

    #[test]
    fn identical_runs_get_the_floor_not_a_zero_width_interval() {
        // Five copies of one run: s = 0, raised to 0.5 %. se = 0.005·√(1 + (π/2)/5) = 0.0057312;
        // df 4, q(0.975, 4) = 2.776445 → q·se = 0.015912; current 101: d = ln 1.01 = 0.0099503;
        // bounds exp(−0.005962) − 1 = −0.594 %, exp(0.025862) − 1 = +2.620 %.
        let e = between_runs(&[100.0; 5], 101.0, 0.95, MIN_RUN_TO_RUN_SD).unwrap();
        assert_eq!(e.method, NoiseMethod::BetweenRunsFloor);
        close(e.interval.low_pct, -0.594, 0.002);
        close(e.interval.high_pct, 2.620, 0.002);
        // Without the floor the interval has zero width: any difference would be significant.
        let bare = between_runs(&[100.0; 5], 101.0, 0.95, 0.0).unwrap();
        close(bare.interval.low_pct, bare.interval.high_pct, 1e-9);
        // A spread above the floor is used as it is.
        let e = between_runs(&[100.0, 110.0, 90.0], 80.0, 0.95, MIN_RUN_TO_RUN_SD).unwrap();
        assert_eq!(e.method, NoiseMethod::BetweenRuns);
    }

    #[test]
    fn closed_loop_takes_the_throughput_noise_and_widest_picks() {
        // Throughput −20 % with a floor-only se of √2·5 % (normal): the latency change +25 % gets
        // the same half-width on the log scale, centred on ln 1.25 = 0.223144:
        // 0.223144 ± 1.959964·0.0707107 = [0.084554, 0.361733] → [+8.823 %, +43.580 %].
        let thr = within_runs(1.0, 0.8, None, None, 5.0, 0.95).unwrap();
        let lat = closed_loop(1.0, 1.25, &thr, 0.95).unwrap();
        assert_eq!(lat.method, NoiseMethod::ClosedLoop);
        close(lat.interval.low_pct, 8.823, 0.005);
        close(lat.interval.high_pct, 43.580, 0.005);
        close(lat.log_width(), thr.log_width(), 1e-12);
        // The latency's own floor of 1 % is narrower: the closed-loop interval wins.
        let own = within_runs(1.0, 1.25, None, None, 1.0, 0.95).unwrap();
        assert_eq!(widest([own, lat]).unwrap().method, NoiseMethod::ClosedLoop);
        // A 10 % floor is wider: it wins; equal widths keep the first.
        let own = within_runs(1.0, 1.25, None, None, 10.0, 0.95).unwrap();
        assert_eq!(widest([lat, own]).unwrap().method, NoiseMethod::NoiseFloor);
        assert_eq!(widest([lat, lat]).unwrap(), lat);
        assert_eq!(widest([]), None);
        assert!(closed_loop(0.0, 1.0, &thr, 0.95).is_none());
    }

    #[test]
    fn bonferroni_share() {
        close(per_metric_confidence(0.95, 1), 0.95, 1e-12);
        close(per_metric_confidence(0.95, 10), 0.995, 1e-12);
        close(per_metric_confidence(0.95, 0), 0.95, 1e-12);
    }
}
