//! Mermaid `xychart-beta` blocks of a run's per-second series, for the PR comment and the job
//! summary: GitHub renders them in place, where no image can be uploaded through the API. Pure.
//!
//! Viewers without Mermaid (e-mail, the API) see the code block, which is why the numbers are
//! always in the summary's table as well.

use std::fmt::Write as _;

use crate::results::SeriesPoint;

/// At most this many points per line: enough for a shape, small enough to stay readable.
pub const MAX_POINTS: usize = 60;

/// `values` averaged into at most `max` buckets of consecutive points.
fn downsample(values: &[f64], max: usize) -> Vec<f64> {
    if values.len() <= max || max == 0 {
        return values.to_vec();
    }
    let per = values.len().div_ceil(max);
    values
        .chunks(per)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect()
}

/// A round upper bound for an axis: 1, 2 or 5 times a power of ten, at least `max`.
fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|c| *c >= max)
        .unwrap_or(10.0 * p)
}

fn chart(title: &str, y_label: &str, secs: u64, values: &[f64], decimals: usize) -> String {
    let values = downsample(values, MAX_POINTS);
    let top = nice_ceiling(values.iter().copied().fold(0.0, f64::max));
    let list: Vec<String> = values.iter().map(|v| format!("{v:.decimals$}")).collect();
    let mut s = String::new();
    let _ = writeln!(s, "```mermaid\nxychart-beta");
    let _ = writeln!(s, "    title \"{title}\"");
    let _ = writeln!(s, "    x-axis \"seconds since start\" 0 --> {secs}");
    let _ = writeln!(s, "    y-axis \"{y_label}\" 0 --> {}", format_axis(top));
    let _ = writeln!(s, "    line [{}]", list.join(", "));
    s.push_str("```\n");
    s
}

fn format_axis(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// The seconds of `series` inside the steady-state window `[start_ms, end_ms)`, when it holds at
/// least two (warm-up and the last, partial second would read as a drop); else all of them.
pub fn in_window(series: &[SeriesPoint], window: Option<(u64, u64)>) -> &[SeriesPoint] {
    let Some((start_ms, end_ms)) = window else {
        return series;
    };
    let first = series.iter().position(|p| p.t * 1000 >= start_ms);
    let last = series.iter().rposition(|p| p.t * 1000 < end_ms);
    match (first, last) {
        (Some(a), Some(b)) if b > a => &series[a..=b],
        _ => series,
    }
}

/// The charts of a series: throughput, and p99 latency where the generator kept exact
/// per-second percentiles. Empty when there are fewer than two seconds (a line needs two points).
pub fn charts(series: &[SeriesPoint]) -> String {
    if series.len() < 2 {
        return String::new();
    }
    let secs = series
        .last()
        .zip(series.first())
        .map_or(0, |(l, f)| l.t.saturating_sub(f.t));
    let ops: Vec<f64> = series.iter().map(|p| p.ops_per_sec as f64).collect();
    let mut out = chart("Throughput, all load generators", "ops/s", secs, &ops, 0);
    let p99: Vec<f64> = series.iter().filter_map(|p| p.p99_ms).collect();
    if p99.len() == series.len() {
        out.push('\n');
        out.push_str(&chart("p99 latency per second", "ms", secs, &p99, 3));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: u64, ops: u64, p99: Option<f64>) -> SeriesPoint {
        SeriesPoint {
            t,
            ops_per_sec: ops,
            commands: Default::default(),
            kb_per_sec: 0.0,
            mean_latency_ms: None,
            max_latency_ms: None,
            p50_ms: None,
            p99_ms: p99,
            p99_9_ms: None,
            tasks: 1,
        }
    }

    #[test]
    fn renders_throughput_and_p99() {
        let s = vec![point(100, 900, Some(0.5)), point(101, 1100, Some(0.25))];
        insta::assert_snapshot!(charts(&s), @r#"
        ```mermaid
        xychart-beta
            title "Throughput, all load generators"
            x-axis "seconds since start" 0 --> 1
            y-axis "ops/s" 0 --> 2000
            line [900, 1100]
        ```

        ```mermaid
        xychart-beta
            title "p99 latency per second"
            x-axis "seconds since start" 0 --> 1
            y-axis "ms" 0 --> 0.5
            line [0.500, 0.250]
        ```
        "#);
    }

    #[test]
    fn long_series_are_averaged_and_short_ones_left_out() {
        let s: Vec<_> = (0..3600).map(|i| point(i, 10, None)).collect();
        let c = charts(&s);
        let line = c
            .lines()
            .find(|l| l.trim_start().starts_with("line"))
            .unwrap();
        assert_eq!(line.matches(',').count() + 1, MAX_POINTS);
        assert!(
            !c.contains("p99"),
            "no exact per-second p99, no latency chart"
        );
        assert_eq!(charts(&s[..1]), "");
    }

    #[test]
    fn the_window_drops_warm_up_and_the_partial_last_second() {
        let s: Vec<_> = (100..106).map(|t| point(t, 10, None)).collect();
        let w = in_window(&s, Some((101_000, 105_000)));
        assert_eq!(
            w.iter().map(|p| p.t).collect::<Vec<_>>(),
            vec![101, 102, 103, 104]
        );
        assert_eq!(in_window(&s, None).len(), 6);
        assert_eq!(
            in_window(&s, Some((104_500, 105_000))).len(),
            6,
            "too short: all"
        );
    }

    #[test]
    fn axis_ceilings_are_round() {
        assert_eq!(nice_ceiling(1100.0), 2000.0);
        assert_eq!(nice_ceiling(0.3), 0.5);
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(5000.0), 5000.0);
    }
}
