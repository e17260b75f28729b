//! Every verdict path of [`super::compare`] on synthetic runs: no change, regressed, improved,
//! inconclusive (noisy baseline, failed run, empty baseline), profile mismatch, and the rendering.

use super::testing::{nth_run, run_with, steady};
use super::*;
use crate::results::{RunResult, RunStatus};

/// Runs with the given throughputs and a p99 that moves against them as in a closed loop
/// (latency ∝ 1 / throughput, Little's law): realistic noise, never identical latencies.
fn history(ops: &[f64], p99: f64) -> Baseline {
    let mean = ops.iter().sum::<f64>() / ops.len() as f64;
    Baseline {
        source: "test".into(),
        runs: ops
            .iter()
            .enumerate()
            .map(|(i, &o)| {
                let mut r = steady(o, p99 * mean / o, 20, 0.01);
                r.run.id = Some(format!("base-{i}"));
                r
            })
            .collect(),
        notes: Vec::new(),
    }
}

fn pinned(r: RunResult) -> Baseline {
    Baseline {
        source: "pinned.json".into(),
        runs: vec![r],
        notes: Vec::new(),
    }
}

fn current(ops: f64, p99: f64) -> RunResult {
    let mut r = steady(ops, p99, 20, 0.01);
    r.run.id = Some("current".into());
    r
}

fn metric<'a>(c: &'a Comparison, scope: &str, m: Metric) -> &'a MetricComparison {
    c.metrics
        .iter()
        .find(|x| x.scope == scope && x.metric == m)
        .expect("metric present")
}

// Run-to-run sd ≈ 0.55 %: quiet enough to resolve ±5 % at 95 % family-wise over 12 metrics.
const QUIET: [f64; 6] = [10_000.0, 10_080.0, 9_940.0, 10_050.0, 9_970.0, 10_060.0];

#[test]
fn a_run_like_its_history_passes() {
    let c = compare(
        &current(10_020.0, 1.0),
        &history(&QUIET, 1.0),
        &GateConfig::default(),
    );
    assert_eq!(c.verdict, Verdict::NoChange, "{}", text(&c));
    assert_eq!(c.baseline.kind, BaselineKind::MedianOfRuns);
    assert_eq!(c.baseline.runs, 6);
    let t = metric(&c, "total", Metric::Throughput);
    assert_eq!(t.method, NoiseMethod::BetweenRuns);
    assert_eq!(t.degrees_of_freedom, Some(5.0));
    // Median of QUIET is (10_000 + 10_050)/2 = 10_025.
    assert_eq!(t.baseline, Some(10_025.0));
    assert_eq!(t.verdict, Verdict::NoChange);
    // total, get, set × 4 metrics; Bonferroni share of 5 %.
    assert_eq!(c.metrics.len(), 12);
    assert!((c.per_metric_confidence - (1.0 - 0.05 / 12.0)).abs() < 1e-12);
}

#[test]
fn a_clear_drop_is_a_regression() {
    let c = compare(
        &current(8_500.0, 1.0),
        &history(&QUIET, 1.0),
        &GateConfig::default(),
    );
    assert_eq!(c.verdict, Verdict::Regressed, "{}", text(&c));
    assert!(c.is_regression());
    let t = metric(&c, "total", Metric::Throughput);
    assert_eq!(t.verdict, Verdict::Regressed);
    assert!((t.change_pct.unwrap() - (8_500.0 / 10_025.0 - 1.0) * 100.0).abs() < 1e-9);
    let i = t.interval.unwrap();
    assert!(i.high_pct < 0.0 && i.low_pct < t.change_pct.unwrap());
    assert!(
        c.summary.starts_with("regressed: total ops/s -15.2 %"),
        "{}",
        c.summary
    );
}

#[test]
fn a_latency_rise_is_a_regression_and_a_drop_an_improvement() {
    let mut b = history(&QUIET, 1.0);
    for (i, r) in b.runs.iter_mut().enumerate() {
        // Give the history a little latency spread too: 0.98 … 1.03 ms.
        *r = steady(QUIET[i], 0.98 + 0.01 * i as f64, 20, 0.01);
    }
    let worse = compare(&current(10_000.0, 1.5), &b, &GateConfig::default());
    assert_eq!(
        metric(&worse, "total", Metric::LatencyP99).verdict,
        Verdict::Regressed
    );
    assert_eq!(worse.verdict, Verdict::Regressed);
    let better = compare(&current(12_000.0, 0.6), &b, &GateConfig::default());
    assert_eq!(better.verdict, Verdict::Improved, "{}", text(&better));
}

#[test]
fn a_noisy_baseline_is_inconclusive_not_a_failure() {
    let noisy = [10_000.0, 14_000.0, 7_000.0, 12_500.0, 8_000.0];
    let c = compare(
        &current(8_500.0, 1.0),
        &history(&noisy, 1.0),
        &GateConfig::default(),
    );
    let t = metric(&c, "total", Metric::Throughput);
    assert!(t.change_pct.unwrap() < -5.0);
    assert_eq!(t.verdict, Verdict::Inconclusive, "{}", text(&c));
    assert_eq!(c.verdict, Verdict::Inconclusive);
    assert!(!c.is_regression());
    assert!(
        c.summary.starts_with("inconclusive: no regression found"),
        "{}",
        c.summary
    );
}

#[test]
fn a_pinned_run_uses_batch_means_and_the_floor() {
    let base = steady(10_000.0, 1.0, 30, 0.02);
    let c = compare(
        &current(8_000.0, 1.0),
        &pinned(base.clone()),
        &GateConfig::default(),
    );
    assert_eq!(c.baseline.kind, BaselineKind::PinnedRun);
    let t = metric(&c, "total", Metric::Throughput);
    assert_eq!(t.method, NoiseMethod::BatchMeans);
    assert_eq!(t.verdict, Verdict::Regressed, "{}", text(&c));
    // Per-command latency has no per-second series: the total's, scaled by √(11/10) for GET.
    assert_eq!(
        metric(&c, "get", Metric::LatencyP99).method,
        NoiseMethod::TotalBatchMeans
    );
    // Same numbers: the default 2 % run-to-run floor alone makes the interval ±8 % (√2 · 2 % ·
    // z(0.99792) = 2.83 % · 2.86), wider than the 5 % threshold: inconclusive, not regressed.
    let same = compare(
        &current(10_000.0, 1.0),
        &pinned(base.clone()),
        &GateConfig::default(),
    );
    assert_ne!(same.verdict, Verdict::Regressed, "{}", text(&same));
    let t = metric(&same, "total", Metric::Throughput);
    assert_eq!(t.verdict, Verdict::Inconclusive);
    let i = t.interval.unwrap();
    assert!(i.low_pct < -7.5 && i.high_pct > 7.5, "{i:?}");
    // With a 0.5 % floor the same runs resolve ±5 %: no change.
    let mut cfg = GateConfig::default();
    cfg.thresholds.throughput_noise_floor_pct = 0.5;
    let same = compare(&current(10_000.0, 1.0), &pinned(base), &cfg);
    assert_eq!(
        metric(&same, "total", Metric::Throughput).verdict,
        Verdict::NoChange
    );
}

fn strip_percentiles(mut r: RunResult) -> RunResult {
    for p in &mut r.series {
        (p.p50_ms, p.p99_ms, p.p99_9_ms) = (None, None, None);
    }
    r
}

#[test]
fn a_memtier_run_without_per_second_percentiles_uses_its_per_second_mean_latency() {
    let base = strip_percentiles(steady(10_000.0, 1.0, 30, 0.02));
    let c = compare(
        &strip_percentiles(current(10_000.0, 2.0)),
        &pinned(base.clone()),
        &GateConfig::default(),
    );
    let l = metric(&c, "total", Metric::LatencyP99);
    assert_eq!(l.method, NoiseMethod::MeanLatency, "{}", text(&c));
    assert_eq!(
        metric(&c, "set", Metric::LatencyP99).method,
        NoiseMethod::MeanLatency
    );
    assert_eq!(l.verdict, Verdict::Regressed, "{}", text(&c));
    assert!(text(&c).contains("per-second mean latency"), "{}", text(&c));
    // Without any per-second latency the floor (5 %, wider than throughput's 2 %) is all there is.
    let bare = |r: RunResult| {
        let mut r = strip_percentiles(r);
        for p in &mut r.series {
            p.mean_latency_ms = None;
        }
        r
    };
    let c = compare(
        &bare(current(10_000.0, 2.0)),
        &pinned(bare(base)),
        &GateConfig::default(),
    );
    let l = metric(&c, "total", Metric::LatencyP99);
    assert_eq!(l.method, NoiseMethod::NoiseFloor);
    assert_eq!(l.degrees_of_freedom, None);
    assert_eq!(l.verdict, Verdict::Regressed, "{}", text(&c));
}

/// A run whose per-second throughput swings ±`swing` (in 4-second stretches, so batch means see
/// it) while its latency moves against it as in a closed loop, both around `ops` and `p99`.
fn swinging(ops: f64, p99: f64, swing: f64) -> RunResult {
    let f = |i: usize| {
        if (i / 4) % 2 == 0 {
            1.0 + swing
        } else {
            1.0 - swing
        }
    };
    let o: Vec<f64> = (0..32).map(|i| ops * f(i)).collect();
    let l: Vec<f64> = (0..32).map(|i| p99 / f(i)).collect();
    let mut r = run_with(&o, &l);
    // The steady-state p99 is the window's, not the mean of the seconds: keep the one given.
    r.steady_state.total.latency_ms.p99 = Some(p99);
    r
}

#[test]
fn latency_against_one_run_is_never_surer_than_throughput() {
    // Both runs' throughput swings ±30 % within the run: a 20 % lower throughput and a 25 %
    // higher p99 (the same change seen from both sides, Little's law) are noise for both metrics.
    let base = swinging(10_000.0, 1.0, 0.3);
    let mut cur = swinging(8_000.0, 1.25, 0.3);
    cur.run.id = Some("current".into());
    // Remove the p99's own per-second series: only the floor and the coupling remain for it.
    let cur = strip_percentiles(cur);
    let base = strip_percentiles(base);
    let c = compare(&cur, &pinned(base), &GateConfig::default());
    let t = metric(&c, "total", Metric::Throughput);
    let l = metric(&c, "total", Metric::LatencyP99);
    assert_eq!(t.verdict, Verdict::Inconclusive, "{}", text(&c));
    assert_eq!(l.verdict, Verdict::Inconclusive, "{}", text(&c));
    assert_ne!(c.verdict, Verdict::Regressed, "{}", text(&c));
    // The latency interval is at least as wide as the throughput's, on the log scale.
    let w = |m: &MetricComparison| {
        let i = m.interval.unwrap();
        (1.0 + i.high_pct / 100.0).ln() - (1.0 + i.low_pct / 100.0).ln()
    };
    assert!(w(l) >= w(t) - 1e-12, "{} vs {}", w(l), w(t));
    assert!(
        matches!(l.method, NoiseMethod::ClosedLoop | NoiseMethod::MeanLatency),
        "{:?}",
        l.method
    );
    // The 5 % floor alone would have called it: +25 % with ±~20 % (√2·5 % · z(0.99792)).
    let floor_only =
        super::estimate::within_runs(1.0, 1.25, None, None, 5.0, c.per_metric_confidence).unwrap();
    assert!(floor_only.interval.low_pct > 0.0, "{floor_only:?}");
}

#[test]
fn a_closed_loop_latency_takes_the_throughput_noise_when_it_is_wider() {
    // Throughput swings, latency's own series are quiet and there is no mean latency: the
    // closed-loop coupling is the widest estimate, and the verdict says so.
    let mut base = swinging(10_000.0, 1.0, 0.3);
    let mut cur = swinging(8_000.0, 1.25, 0.3);
    cur.run.id = Some("current".into());
    for r in [&mut base, &mut cur] {
        let p = r.steady_state.total.latency_ms.p99.unwrap();
        for s in &mut r.series {
            (s.p50_ms, s.p99_ms, s.p99_9_ms, s.mean_latency_ms) =
                (Some(p / 4.0), Some(p), Some(p * 2.0), None);
        }
    }
    let c = compare(&cur, &pinned(base), &GateConfig::default());
    let l = metric(&c, "total", Metric::LatencyP99);
    assert_eq!(l.method, NoiseMethod::ClosedLoop, "{}", text(&c));
    assert_eq!(l.verdict, Verdict::Inconclusive, "{}", text(&c));
    assert!(
        text(&c).contains("throughput (closed loop)"),
        "{}",
        text(&c)
    );
    assert!(markdown_section(&c).contains("closed loop: latency = connections / throughput"));
}

#[test]
fn a_real_slowdown_against_one_run_is_still_caught() {
    // −37 % throughput and +70 % p99 with ±3 % per-second swings: regressed on both.
    let base = swinging(10_000.0, 1.0, 0.03);
    let mut cur = swinging(6_300.0, 1.7, 0.03);
    cur.run.id = Some("current".into());
    let c = compare(&cur, &pinned(base), &GateConfig::default());
    assert_eq!(c.verdict, Verdict::Regressed, "{}", text(&c));
    assert_eq!(
        metric(&c, "total", Metric::Throughput).verdict,
        Verdict::Regressed
    );
    assert_eq!(
        metric(&c, "total", Metric::LatencyP99).verdict,
        Verdict::Regressed,
        "{}",
        text(&c)
    );
}

#[test]
fn a_history_of_identical_runs_gets_a_floor() {
    // Five copies of one run: a zero spread. A 1 % difference must not be "significant".
    let copies = Baseline {
        source: "copies".into(),
        runs: (0..5)
            .map(|i| {
                let mut r = steady(10_000.0, 1.0, 20, 0.0);
                r.run.id = Some(format!("copy-{i}"));
                r
            })
            .collect(),
        notes: Vec::new(),
    };
    let mut cfg = GateConfig::default();
    cfg.thresholds.max_throughput_drop_pct = 0.0;
    cfg.thresholds.max_latency_increase_pct = 0.0;
    let c = compare(&current(9_900.0, 1.01), &copies, &cfg);
    for m in &c.metrics {
        assert_ne!(m.verdict, Verdict::Regressed, "{}", text(&c));
        let i = m.interval.unwrap();
        assert!(i.high_pct - i.low_pct > 1.0, "{m:?}");
    }
    let t = metric(&c, "total", Metric::Throughput);
    assert_eq!(t.method, NoiseMethod::BetweenRunsFloor);
    assert!(text(&c).contains("runs' spread (floor)"), "{}", text(&c));
}

#[test]
fn a_profile_mismatch_is_stated_and_nothing_is_compared() {
    let mut other = steady(10_000.0, 1.0, 20, 0.01);
    other.run.details.engine_version = Some("valkey 8.0.1".into());
    let c = compare(
        &current(5_000.0, 1.0),
        &pinned(other.clone()),
        &GateConfig::default(),
    );
    assert!(c.is_profile_mismatch());
    assert_eq!(c.verdict, Verdict::Inconclusive);
    assert!(c.metrics.is_empty());
    assert_eq!(c.profile_mismatch[0].field, "engine_version");
    assert!(c.summary.starts_with("not compared: the baseline's profile differs (engine_version 'valkey 8.0.1' vs 'redis 7.0.15')"), "{}", c.summary);
    assert!(markdown_section(&c).contains("| engine_version | `valkey 8.0.1` | `redis 7.0.15` |"));

    let allow = GateConfig {
        allow_profile_mismatch: true,
        ..GateConfig::default()
    };
    let c = compare(&current(5_000.0, 1.0), &pinned(other), &allow);
    assert!(!c.is_profile_mismatch());
    assert!(c.compared_despite_mismatch);
    assert_eq!(c.verdict, Verdict::Regressed);
    assert!(c.notes[0].starts_with("compared despite a profile mismatch"));
}

#[test]
fn mismatched_history_runs_are_left_out_with_a_note() {
    let mut b = history(&QUIET, 1.0);
    let mut stranger = steady(1.0, 1.0, 20, 0.0);
    stranger.run.task_count = 3;
    b.runs.push(stranger);
    let c = compare(&current(10_020.0, 1.0), &b, &GateConfig::default());
    assert_eq!(c.baseline.runs, 6);
    assert!(c.profile_mismatch.is_empty());
    assert!(c
        .notes
        .iter()
        .any(|n| n.contains("different profile (task_count '3' vs '1')")));
}

#[test]
fn failed_and_self_runs_are_not_baselines() {
    let mut b = history(&QUIET[..3], 1.0);
    b.runs[0].status = RunStatus::Failed;
    b.runs.push(current(1.0, 1.0));
    let c = compare(&current(10_000.0, 1.0), &b, &GateConfig::default());
    assert_eq!(c.baseline.runs, 2);
    assert!(c.notes.iter().any(|n| n.contains("failed and is left out")));
    assert!(c.notes.iter().any(|n| n.contains("current run itself")));
    assert!(c.notes.iter().any(|n| n.contains("only 2 baseline runs")));
}

#[test]
fn nothing_to_compare_is_inconclusive() {
    let empty = Baseline::default();
    let c = compare(&current(1.0, 1.0), &empty, &GateConfig::default());
    assert_eq!(c.verdict, Verdict::Inconclusive);
    assert_eq!(c.summary, "inconclusive: no usable baseline run");
    assert!(!c.is_profile_mismatch());

    let mut failed = current(1.0, 1.0);
    failed.status = RunStatus::Failed;
    let c = compare(&failed, &history(&QUIET, 1.0), &GateConfig::default());
    assert_eq!(c.verdict, Verdict::Inconclusive);
    assert!(c.summary.contains("current run failed"));
}

#[test]
fn a_metric_missing_on_one_side_is_inconclusive() {
    let mut cur = current(10_000.0, 1.0);
    cur.steady_state.total.latency_ms.p99_9 = None;
    let c = compare(&cur, &history(&QUIET, 1.0), &GateConfig::default());
    let m = metric(&c, "total", Metric::LatencyP999);
    assert_eq!(m.verdict, Verdict::Inconclusive);
    assert_eq!(m.reason, "missing in the current run");
}

#[test]
fn commands_on_one_side_only_are_noted() {
    let mut cur = current(10_000.0, 1.0);
    let get = cur.steady_state.commands["get"].clone();
    cur.steady_state.commands.insert("incr".into(), get);
    let c = compare(&cur, &history(&QUIET, 1.0), &GateConfig::default());
    assert!(c
        .notes
        .iter()
        .any(|n| n.contains("'incr' is not in the baseline")));
    assert!(c.metrics.iter().all(|m| m.scope != "incr"));
}

#[test]
fn comparison_round_trips_through_json() {
    let c = compare(
        &current(8_500.0, 1.0),
        &history(&QUIET, 1.0),
        &GateConfig::default(),
    );
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["verdict"], "regressed");
    assert_eq!(v["metrics"][0]["metric"], "ops_per_sec");
    assert_eq!(v["metrics"][0]["method"], "between_runs");
    assert_eq!(v["baseline"]["kind"], "median_of_runs");
    let back: Comparison = serde_json::from_value(v).unwrap();
    assert_eq!(back, c);
}

#[test]
fn renderings_carry_the_verdict_and_the_table() {
    let c = compare(
        &current(8_500.0, 1.0),
        &history(&QUIET, 1.0),
        &GateConfig::default(),
    );
    let md = markdown_section(&c);
    assert!(md.starts_with("### Regression gate\n\n❌ **regressed** vs median of 6 runs from test — regressed: total ops/s -15.2 %"), "{md}");
    assert!(
        md.contains("| total | ops/s | 10025 | 8500 | -15.2 % | [-"),
        "{md}"
    );
    assert!(md.contains("<details><summary>Why</summary>"));
    let t = text(&c);
    assert!(
        t.starts_with("gate: REGRESSED: regressed: total ops/s -15.2 %"),
        "{t}"
    );
    assert!(t.contains("baseline: median of 6 runs from test"));
    assert!(verdict_line(&c).starts_with("❌ **regressed**"));
}

#[test]
fn synthetic_helpers_agree_with_themselves() {
    let r = nth_run(0, &[1.0, 2.0], &[1.0, 1.0]);
    assert_eq!(r.run.id.as_deref(), Some("run-000"));
    assert_eq!(
        run_with(&[4.0], &[1.0]).steady_state.total.ops_per_sec,
        Some(4.0)
    );
}

#[test]
fn the_trend_flags_a_step_in_the_history_and_shows_in_the_markdown() {
    // Five runs near 10 000 ops/s, then three near 8 500, then this run; in a closed loop the
    // p99 steps up by the same factor (1 / 0.85: +17.6 %).
    let ops = [
        10_000.0, 10_080.0, 9_940.0, 10_050.0, 9_970.0, 8_500.0, 8_560.0, 8_450.0,
    ];
    let mean = ops.iter().sum::<f64>() / ops.len() as f64;
    let c = compare(
        &current(8_520.0, mean / 8_520.0),
        &history(&ops, 1.0),
        &GateConfig::default(),
    );
    let t = c.trend.as_ref().expect("a trend for a history");
    assert_eq!(t.runs.len(), 9);
    assert_eq!(t.runs[8].run_id.as_deref(), Some("current"));
    let steps: Vec<(&str, usize)> = t
        .change_points
        .iter()
        .map(|c| (c.metric.as_str(), c.index))
        .collect();
    assert_eq!(steps, [("throughput", 5), ("p99", 5)]);
    assert!((t.change_points[0].change_pct + 15.0).abs() < 1.0);
    assert!((t.change_points[1].change_pct - 17.6).abs() < 1.0);
    let md = super::markdown_section(&c);
    assert!(md.contains("#### Trend of the last 9 runs"), "{md}");
    assert!(md.contains("change point in throughput: -15."), "{md}");
    assert!(md.contains("from run 6 (`base-5`)"), "{md}");
    // A quiet history has no change point, and a pinned run no trend.
    let quiet = compare(
        &current(10_020.0, 1.0),
        &history(&QUIET, 1.0),
        &GateConfig::default(),
    );
    assert!(quiet.trend.unwrap().change_points.is_empty());
    let pinned = compare(
        &current(10_020.0, 1.0),
        &history(&[10_000.0], 1.0),
        &GateConfig::default(),
    );
    assert!(pinned.trend.is_none());
}
