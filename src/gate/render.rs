//! Words for a [`Comparison`]: the one-line summary, the verdict line, a markdown section for
//! the job summary and PR comment, and plain text for the terminal. Pure byte producers.

use std::fmt::Write as _;

use super::types::{BaselineKind, Comparison, Metric, MetricComparison, Verdict};

/// At most this many metrics are named in a summary line.
const NAMED_IN_SUMMARY: usize = 3;

fn named(ms: &[&MetricComparison]) -> String {
    let mut parts: Vec<String> = ms
        .iter()
        .take(NAMED_IN_SUMMARY)
        .map(|m| match (m.change_pct, m.interval) {
            (Some(c), Some(i)) => format!(
                "{} {} {} [{}, {}]",
                m.scope,
                m.metric.label(),
                pct(c),
                pct(i.low_pct),
                pct(i.high_pct)
            ),
            _ => format!("{} {} ({})", m.scope, m.metric.label(), m.reason),
        })
        .collect();
    if ms.len() > NAMED_IN_SUMMARY {
        parts.push(format!("and {} more", ms.len() - NAMED_IN_SUMMARY));
    }
    parts.join("; ")
}

/// The one-line summary of an overall verdict over `metrics`.
pub(crate) fn summary(verdict: Verdict, metrics: &[MetricComparison]) -> String {
    let with = |v: Verdict| {
        metrics
            .iter()
            .filter(|m| m.verdict == v)
            .collect::<Vec<_>>()
    };
    match verdict {
        _ if metrics.is_empty() => "inconclusive: nothing to compare".into(),
        Verdict::Regressed => format!("regressed: {}", named(&with(Verdict::Regressed))),
        Verdict::Inconclusive => {
            let inc = with(Verdict::Inconclusive);
            format!(
                "inconclusive: no regression found, but {} of {} metrics could not be decided: {}",
                inc.len(),
                metrics.len(),
                named(&inc)
            )
        }
        Verdict::Improved => format!(
            "improved: {}; nothing regressed",
            named(&with(Verdict::Improved))
        ),
        Verdict::NoChange => format!("no change: all {} metrics within tolerance", metrics.len()),
    }
}

fn baseline_words(c: &Comparison) -> String {
    let b = &c.baseline;
    match b.kind {
        BaselineKind::PinnedRun => format!(
            "one run ({}) from {}",
            b.run_ids.first().map_or("unnamed", String::as_str),
            b.source
        ),
        BaselineKind::MedianOfRuns => format!("median of {} runs from {}", b.runs, b.source),
        BaselineKind::Empty => format!("no usable run from {}", b.source),
    }
}

fn emoji(v: Verdict) -> &'static str {
    match v {
        Verdict::Improved => "🚀",
        Verdict::Regressed => "❌",
        Verdict::NoChange => "✅",
        Verdict::Inconclusive => "⚠️",
    }
}

/// The verdict line for the top of a summary: `❌ **regressed** vs median of 10 runs …: …`.
pub fn verdict_line(c: &Comparison) -> String {
    if c.is_profile_mismatch() {
        return format!("⚠️ **not compared** — {}", c.summary);
    }
    format!(
        "{} **{}** vs {} — {}",
        emoji(c.verdict),
        c.verdict,
        baseline_words(c),
        c.summary
    )
}

fn num(metric: Metric, v: Option<f64>) -> String {
    match v {
        None => "n/a".into(),
        Some(x) if metric == Metric::Throughput => format!("{x:.0}"),
        Some(x) => format!("{x:.3}"),
    }
}

/// A change in %, with one decimal; beyond ±999 % the digits mean nothing and are capped.
fn pct(x: f64) -> String {
    if x > 999.0 {
        ">+999 %".into()
    } else {
        format!("{x:+.1} %")
    }
}

fn change(m: &MetricComparison) -> String {
    m.change_pct.map_or_else(|| "n/a".into(), pct)
}

fn interval(m: &MetricComparison) -> String {
    m.interval.map_or_else(
        || "n/a".into(),
        |i| format!("[{}, {}]", pct(i.low_pct), pct(i.high_pct)),
    )
}

fn tolerated(c: &Comparison) -> String {
    format!(
        "tolerated: throughput −{} %, latency +{} %",
        c.thresholds.max_throughput_drop_pct, c.thresholds.max_latency_increase_pct
    )
}

fn confidence_words(c: &Comparison) -> String {
    let k = c.metrics.iter().filter(|m| m.interval.is_some()).count();
    format!(
        "intervals at {:.2} % each ({:.0} % family-wise over {k} metrics, Bonferroni)",
        c.per_metric_confidence * 100.0,
        c.thresholds.confidence * 100.0
    )
}

/// The gate's markdown section for `summary.md`, the job summary and the PR comment.
pub fn markdown_section(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Regression gate\n");
    let _ = writeln!(out, "{}\n", verdict_line(c));
    if !c.profile_mismatch.is_empty() {
        let what = if c.compared_despite_mismatch {
            "Compared despite a profile mismatch"
        } else {
            "The profiles differ, so nothing was compared"
        };
        let _ = writeln!(
            out,
            "{what}:\n\n| field | baseline | current |\n|---|---|---|"
        );
        for d in &c.profile_mismatch {
            let _ = writeln!(out, "| {} | `{}` | `{}` |", d.field, d.baseline, d.current);
        }
        let _ = writeln!(out);
    }
    if !c.metrics.is_empty() {
        let _ = writeln!(
            out,
            "| scope | metric | baseline | current | Δ | interval | verdict |\n|---|---|--:|--:|--:|:-:|---|"
        );
        for m in &c.metrics {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} {} |",
                m.scope,
                m.metric.label(),
                num(m.metric, m.baseline),
                num(m.metric, m.current),
                change(m),
                interval(m),
                emoji(m.verdict),
                m.verdict
            );
        }
        let _ = writeln!(out, "\n{}; {}.\n", confidence_words(c), tolerated(c));
        let undecided: Vec<&MetricComparison> = c
            .metrics
            .iter()
            .filter(|m| m.verdict != Verdict::NoChange)
            .collect();
        if !undecided.is_empty() {
            let _ = writeln!(out, "<details><summary>Why</summary>\n");
            for m in undecided {
                let _ = writeln!(
                    out,
                    "- {} {}: {} ({})",
                    m.scope,
                    m.metric.label(),
                    m.reason,
                    method_words(m)
                );
            }
            let _ = writeln!(out, "\n</details>\n");
        }
    }
    if let Some(t) = &c.trend {
        out.push_str(&trend_section(t));
    }
    for n in &c.notes {
        let _ = writeln!(out, "> {n}  ");
    }
    out
}

/// The trend: a Mermaid line chart of throughput per run and the change points, in words.
fn trend_section(t: &super::trend::Trend) -> String {
    let mut out = String::new();
    let n = t.runs.len();
    let _ = writeln!(out, "#### Trend of the last {n} runs (this one last)\n");
    let ops: Vec<String> = t
        .runs
        .iter()
        .map(|p| {
            p.ops_per_sec
                .map_or_else(|| "0".into(), |v| format!("{v:.0}"))
        })
        .collect();
    let xs: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    let _ = writeln!(
        out,
        "```mermaid\nxychart-beta\n    title \"Throughput per run (ops/s)\"\n    x-axis [{}]\n    y-axis \"ops/s\"\n    line [{}]\n```\n",
        xs.join(", "),
        ops.join(", ")
    );
    if t.change_points.is_empty() {
        let _ = writeln!(
            out,
            "No change point in throughput or p99 over these runs (binary segmentation; docs/gate.md).\n"
        );
    }
    for cp in &t.change_points {
        let _ = writeln!(
            out,
            "- change point in {}: {:+.1} % from run {} (`{}`) on",
            cp.metric,
            cp.change_pct,
            cp.index + 1,
            cp.run_id.as_deref().unwrap_or("unknown")
        );
    }
    if !t.change_points.is_empty() {
        let _ = writeln!(out);
    }
    out
}

/// A few words on where a metric's noise estimate came from, for the terminal table.
fn method_short(m: super::types::NoiseMethod) -> &'static str {
    use super::types::NoiseMethod as N;
    match m {
        N::BetweenRuns => "runs' spread",
        N::BetweenRunsFloor => "runs' spread (floor)",
        N::BatchMeans => "per-second series",
        N::TotalBatchMeans => "total's per-second series",
        N::MeanLatency => "per-second mean latency",
        N::ClosedLoop => "throughput (closed loop)",
        N::NoiseFloor => "floor only",
        N::None => "-",
    }
}

fn method_words(m: &MetricComparison) -> String {
    use super::types::NoiseMethod as N;
    let df = m
        .degrees_of_freedom
        .map_or_else(|| "normal".into(), |d| format!("df {d:.1}"));
    match m.method {
        N::BetweenRuns => format!("noise from the spread between baseline runs, {df}"),
        N::BetweenRunsFloor => format!(
            "noise from the baseline runs' own per-second noise or the 0.5 % minimum, because the runs agree more closely than that, {df}"
        ),
        N::BatchMeans => {
            format!("noise from per-second batch means plus the run-to-run floor, {df}")
        }
        N::TotalBatchMeans => format!(
            "noise from batch means of the total's per-second latency, scaled to the command's count, plus the run-to-run floor, {df}"
        ),
        N::MeanLatency => format!(
            "noise from batch means of the per-second mean latency plus the run-to-run floor, {df}"
        ),
        N::ClosedLoop => format!(
            "noise of the throughput (closed loop: latency = connections / throughput), wider than the latency's own, {df}"
        ),
        N::NoiseFloor => "noise from the assumed run-to-run floor only".into(),
        N::None => "not estimated".into(),
    }
}

/// Plain text for the terminal.
pub fn text(c: &Comparison) -> String {
    let mut out = String::new();
    if c.is_profile_mismatch() {
        let _ = writeln!(out, "gate: NOT COMPARED: {}", c.summary);
    } else {
        let _ = writeln!(
            out,
            "gate: {}: {}",
            c.verdict.as_str().to_uppercase(),
            c.summary
        );
        let _ = writeln!(out, "baseline: {}", baseline_words(c));
    }
    for d in &c.profile_mismatch {
        let _ = writeln!(
            out,
            "profile: {} differs: baseline '{}', current '{}'",
            d.field, d.baseline, d.current
        );
    }
    if !c.metrics.is_empty() {
        let _ = writeln!(out, "{}; {}", confidence_words(c), tolerated(c));
        let _ = writeln!(
            out,
            "  {:<8} {:<9} {:>12} {:>12} {:>9}  {:<22} {:<13} noise from",
            "scope", "metric", "baseline", "current", "change", "interval", "verdict"
        );
        for m in &c.metrics {
            let _ = writeln!(
                out,
                "  {:<8} {:<9} {:>12} {:>12} {:>9}  {:<22} {:<13} {}",
                m.scope,
                m.metric.label(),
                num(m.metric, m.baseline),
                num(m.metric, m.current),
                change(m),
                interval(m),
                m.verdict.as_str(),
                method_short(m.method)
            );
        }
    }
    for n in &c.notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}
