//! The gate's baseline as the run's chart draws it: the baseline's steady-state throughput and
//! p99 read from a comparison.

use crate::gate::{BaselineKind, Comparison, Metric};

/// The gate's baseline, drawn over the current run: its steady-state throughput and p99 (the
/// median of the baseline runs, or the pinned run's), as the gate compared them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BaselineOverlay {
    /// What the baseline is, for the legend: `median of 10 runs`, `pinned run`.
    pub label: String,
    /// The baseline's steady-state throughput, ops/s.
    pub ops_per_sec: Option<f64>,
    /// The baseline's steady-state p99 latency, ms.
    pub p99_ms: Option<f64>,
}

impl BaselineOverlay {
    /// The baseline of a comparison, or `None` when nothing was compared (no usable run, or a
    /// profile mismatch).
    pub fn of(c: &Comparison) -> Option<Self> {
        if c.is_profile_mismatch() || c.baseline.kind == BaselineKind::Empty {
            return None;
        }
        let value = |metric: Metric| {
            c.metrics
                .iter()
                .find(|m| m.scope == "total" && m.metric == metric)
                .and_then(|m| m.baseline)
                .filter(|v| v.is_finite() && *v > 0.0)
        };
        let o = Self {
            label: match c.baseline.kind {
                BaselineKind::MedianOfRuns => format!("median of {} runs", c.baseline.runs),
                _ => "pinned run".to_string(),
            },
            ops_per_sec: value(Metric::Throughput),
            p99_ms: value(Metric::LatencyP99),
        };
        (o.ops_per_sec.is_some() || o.p99_ms.is_some()).then_some(o)
    }
}

#[cfg(test)]
mod tests {
    use super::BaselineOverlay;
    use crate::gate::testing::steady;
    use crate::gate::{compare, Baseline, GateConfig};
    use crate::results::RunResult;

    fn run(ops: f64, p99: f64, id: &str) -> RunResult {
        let mut r = steady(ops, p99, 20, 0.01);
        r.run.id = Some(id.into());
        r
    }

    fn baseline(runs: Vec<RunResult>) -> Baseline {
        Baseline {
            source: "test".into(),
            runs,
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_overlay_is_the_baseline_the_gate_compared() {
        let runs = [(10_000.0, 1.0), (10_400.0, 1.2), (9_800.0, 1.1)]
            .iter()
            .enumerate()
            .map(|(i, (o, l))| run(*o, *l, &format!("b{i}")))
            .collect();
        let c = compare(
            &run(8_000.0, 2.0, "now"),
            &baseline(runs),
            &GateConfig::default(),
        );
        let o = BaselineOverlay::of(&c).expect("an overlay");
        assert_eq!(o.label, "median of 3 runs");
        let ops = o.ops_per_sec.unwrap();
        assert!((ops - 10_000.0).abs() < 10.0, "{ops}");
        let p99 = o.p99_ms.unwrap();
        assert!((p99 - 1.1).abs() < 0.02, "{p99}");

        let pinned = compare(
            &run(8_000.0, 2.0, "now"),
            &baseline(vec![run(10_000.0, 1.0, "b")]),
            &GateConfig::default(),
        );
        assert_eq!(BaselineOverlay::of(&pinned).unwrap().label, "pinned run");
    }

    #[test]
    fn nothing_compared_draws_no_overlay() {
        let mut other = run(10_000.0, 1.0, "b");
        other.run.task_count = 7;
        let c = compare(
            &run(8_000.0, 2.0, "now"),
            &baseline(vec![other]),
            &GateConfig::default(),
        );
        assert!(c.is_profile_mismatch());
        assert!(BaselineOverlay::of(&c).is_none());
        let empty = compare(
            &run(8_000.0, 2.0, "now"),
            &baseline(Vec::new()),
            &GateConfig::default(),
        );
        assert!(BaselineOverlay::of(&empty).is_none());
    }
}
