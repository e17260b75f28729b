//! [`compare`]: a current run against a baseline of one or more runs, metric by metric, after
//! checking that the profiles match. Pure: data in, [`Comparison`] out, never an error.

use std::collections::BTreeSet;

use super::decide::{metric_verdict, overall};
use super::estimate::{between_runs, per_metric_confidence, Estimate, MIN_RUN_TO_RUN_SD};
use super::extract::{commands, value, TOTAL};
use super::inputs::GateConfig;
use super::noise::{one_run, run_relative_error};
use super::profile::{ProfileDifference, ProfileKey};
use super::types::{
    Baseline, BaselineInfo, BaselineKind, Comparison, Metric, MetricComparison, NoiseMethod,
    Verdict,
};
use crate::results::{RunResult, RunStatus};

fn run_name(r: &RunResult) -> String {
    r.run
        .id
        .clone()
        .or_else(|| r.run.started_at.clone())
        .unwrap_or_else(|| "(unnamed)".into())
}

fn fields(d: &[ProfileDifference]) -> String {
    d.iter()
        .map(|x| format!("{} '{}' vs '{}'", x.field, x.baseline, x.current))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The baseline runs that may be compared, with notes on the others and the profile differences
/// of the runs kept despite a mismatch (or, when none was kept, of the last one left out).
struct Selected<'a> {
    runs: Vec<&'a RunResult>,
    mismatch: Vec<ProfileDifference>,
    notes: Vec<String>,
}

fn select<'a>(
    current: &RunResult,
    profile: &ProfileKey,
    baseline: &'a Baseline,
    cfg: &GateConfig,
) -> Selected<'a> {
    let mut s = Selected {
        runs: Vec::new(),
        mismatch: Vec::new(),
        notes: Vec::new(),
    };
    let mut left_out_mismatch = Vec::new();
    for r in &baseline.runs {
        if r.status == RunStatus::Failed {
            s.notes.push(format!(
                "baseline run {} failed and is left out",
                run_name(r)
            ));
            continue;
        }
        if current.run.id.is_some() && r.run.id == current.run.id {
            s.notes.push(format!(
                "baseline run {} is the current run itself and is left out",
                run_name(r)
            ));
            continue;
        }
        let diff = ProfileKey::of(r).differences(profile);
        if diff.is_empty() {
            s.runs.push(r);
        } else if cfg.allow_profile_mismatch {
            for d in diff {
                if !s.mismatch.iter().any(|x| x == &d) {
                    s.mismatch.push(d);
                }
            }
            s.runs.push(r);
        } else {
            s.notes.push(format!(
                "baseline run {} has a different profile ({}) and is left out",
                run_name(r),
                fields(&diff)
            ));
            left_out_mismatch = diff;
        }
    }
    if s.runs.is_empty() {
        s.mismatch = left_out_mismatch;
    }
    s
}

fn not_compared(
    profile: ProfileKey,
    baseline: &Baseline,
    cfg: &GateConfig,
    sel: Selected<'_>,
    summary: String,
) -> Comparison {
    let mut notes = baseline.notes.clone();
    notes.extend(sel.notes);
    Comparison {
        verdict: Verdict::Inconclusive,
        summary,
        profile,
        profile_mismatch: sel.mismatch,
        compared_despite_mismatch: false,
        baseline: BaselineInfo {
            source: baseline.source.clone(),
            kind: BaselineKind::Empty,
            runs: 0,
            run_ids: Vec::new(),
        },
        thresholds: cfg.thresholds.clone(),
        per_metric_confidence: cfg.thresholds.confidence,
        metrics: Vec::new(),
        notes,
        trend: None,
    }
}

/// The scopes compared: `total`, then the commands of the current run that the baseline has too.
fn scopes(current: &RunResult, runs: &[&RunResult], notes: &mut Vec<String>) -> Vec<String> {
    let cur: BTreeSet<String> = commands(current).into_iter().collect();
    let base: BTreeSet<String> = runs.iter().flat_map(|r| commands(r)).collect();
    for c in cur.difference(&base) {
        notes.push(format!(
            "command '{c}' is not in the baseline and is not compared"
        ));
    }
    for c in base.difference(&cur) {
        notes.push(format!(
            "command '{c}' is in the baseline only and is not compared"
        ));
    }
    std::iter::once(TOTAL.to_string())
        .chain(cur.intersection(&base).cloned())
        .collect()
}

/// The least run-to-run standard deviation a history's spread is raised to: the baseline runs'
/// own sampling noise (the root mean square of their per-second relative standard errors — the
/// values of independent runs differ by at least that much even if nothing else varied), and never
/// below [`MIN_RUN_TO_RUN_SD`].
fn history_floor(runs: &[&RunResult], scope: &str, metric: Metric) -> f64 {
    let rs: Vec<f64> = runs
        .iter()
        .filter_map(|r| run_relative_error(r, scope, metric))
        .collect();
    let rms = if rs.is_empty() {
        0.0
    } else {
        (rs.iter().map(|r| r * r).sum::<f64>() / rs.len() as f64).sqrt()
    };
    rms.max(MIN_RUN_TO_RUN_SD)
}

fn estimate(
    current: &RunResult,
    runs: &[&RunResult],
    scope: &str,
    metric: Metric,
    cfg: &GateConfig,
    confidence: f64,
) -> Option<Estimate> {
    let cur = value(current, scope, metric)?;
    let with_value: Vec<(&RunResult, f64)> = runs
        .iter()
        .filter_map(|r| Some((*r, value(r, scope, metric)?)))
        .collect();
    match with_value.as_slice() {
        [] => None,
        [(b, _)] => one_run(current, b, scope, metric, cfg, confidence),
        many => {
            let vals: Vec<f64> = many.iter().map(|(_, v)| *v).collect();
            let used: Vec<&RunResult> = many.iter().map(|(r, _)| *r).collect();
            let floor = history_floor(&used, scope, metric);
            between_runs(&vals, cur, confidence, floor)
        }
    }
}

/// Compare `current` with `baseline` under `cfg`. Never fails: missing data, a failed run or a
/// profile mismatch give an inconclusive verdict that says why.
pub fn compare(current: &RunResult, baseline: &Baseline, cfg: &GateConfig) -> Comparison {
    let profile = ProfileKey::of(current);
    let sel = select(current, &profile, baseline, cfg);
    if current.status == RunStatus::Failed {
        return not_compared(
            profile,
            baseline,
            cfg,
            sel,
            "inconclusive: the current run failed, so it has no results to gate".into(),
        );
    }
    if sel.runs.is_empty() {
        let summary = if sel.mismatch.is_empty() {
            "inconclusive: no usable baseline run".to_string()
        } else {
            format!(
                "not compared: the baseline's profile differs ({}); compare like with like, or set allow_profile_mismatch",
                fields(&sel.mismatch)
            )
        };
        return not_compared(profile, baseline, cfg, sel, summary);
    }

    let mut notes = notes(current, baseline, &sel);
    let runs = &sel.runs;
    let scopes = scopes(current, runs, &mut notes);
    let pairs: Vec<(String, Metric)> = scopes
        .iter()
        .flat_map(|s| Metric::ALL.iter().map(move |m| (s.clone(), *m)))
        .collect();
    let comparable = pairs
        .iter()
        .filter(|(s, m)| {
            value(current, s, *m).is_some() && runs.iter().any(|r| value(r, s, *m).is_some())
        })
        .count();
    let confidence = per_metric_confidence(cfg.thresholds.confidence, comparable);

    let metrics = metric_comparisons(current, runs, pairs, cfg, confidence);
    let verdicts: Vec<Verdict> = metrics.iter().map(|m| m.verdict).collect();
    let verdict = overall(&verdicts);
    let ids: Vec<String> = runs.iter().filter_map(|r| r.run.id.clone()).collect();
    Comparison {
        verdict,
        summary: super::render::summary(verdict, &metrics),
        profile,
        compared_despite_mismatch: !sel.mismatch.is_empty(),
        profile_mismatch: sel.mismatch,
        baseline: BaselineInfo {
            source: baseline.source.clone(),
            kind: if runs.len() == 1 {
                BaselineKind::PinnedRun
            } else {
                BaselineKind::MedianOfRuns
            },
            runs: runs.len(),
            run_ids: ids,
        },
        thresholds: cfg.thresholds.clone(),
        per_metric_confidence: confidence,
        metrics,
        notes,
        trend: (runs.len() >= 2)
            .then(|| super::trend::trend(runs, current))
            .flatten(),
    }
}

/// The notes of a comparison: the baseline's and the selection's, a profile mismatch compared
/// anyway, a current run whose latency covers the whole run, a history of only two runs.
fn notes(current: &RunResult, baseline: &Baseline, sel: &Selected<'_>) -> Vec<String> {
    let mut notes = baseline.notes.clone();
    notes.extend(sel.notes.iter().cloned());
    let runs = &sel.runs;
    if !sel.mismatch.is_empty() {
        notes.insert(
            0,
            format!(
                "compared despite a profile mismatch (allow_profile_mismatch): {}",
                fields(&sel.mismatch)
            ),
        );
    }
    if current.steady_state.latency_scope == "whole_run" {
        notes.push("the current run's latency covers the whole run, not only the steady-state window (no per-second histograms)".into());
    }
    if runs.len() == 2 {
        notes.push("only 2 baseline runs: their spread rests on one degree of freedom, so intervals are wide; 5 or more make a useful history".into());
    }
    notes
}

/// Each (scope, metric) pair compared: a verdict from the estimate of the change, or inconclusive
/// when either side is missing it (pairs missing on both sides are left out).
fn metric_comparisons(
    current: &RunResult,
    runs: &[&RunResult],
    pairs: Vec<(String, Metric)>,
    cfg: &GateConfig,
    confidence: f64,
) -> Vec<MetricComparison> {
    let mut metrics = Vec::new();
    for (scope, metric) in pairs {
        let cur = value(current, &scope, metric);
        let base_vals: Vec<f64> = runs
            .iter()
            .filter_map(|r| value(r, &scope, metric))
            .collect();
        if cur.is_none() && base_vals.is_empty() {
            continue;
        }
        let threshold_pct = if metric == Metric::Throughput {
            cfg.thresholds.max_throughput_drop_pct
        } else {
            cfg.thresholds.max_latency_increase_pct
        };
        let mc = match estimate(current, runs, &scope, metric, cfg, confidence) {
            Some(e) => {
                let (verdict, reason) =
                    metric_verdict(metric, e.change_pct, e.interval, threshold_pct);
                MetricComparison {
                    scope: scope.clone(),
                    metric,
                    baseline: Some(e.baseline),
                    current: cur,
                    change_pct: Some(e.change_pct),
                    interval: Some(e.interval),
                    threshold_pct,
                    method: e.method,
                    degrees_of_freedom: e.df,
                    verdict,
                    reason,
                }
            }
            None => MetricComparison {
                scope: scope.clone(),
                metric,
                baseline: super::sample::median(&base_vals),
                current: cur,
                change_pct: None,
                interval: None,
                threshold_pct,
                method: NoiseMethod::None,
                degrees_of_freedom: None,
                verdict: Verdict::Inconclusive,
                reason: if cur.is_none() {
                    "missing in the current run".into()
                } else {
                    "missing in the baseline".into()
                },
            },
        };
        metrics.push(mc);
    }
    metrics
}
