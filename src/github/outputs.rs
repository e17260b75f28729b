//! The step outputs of a run (`ops_per_sec`, `p50_ms`, `p99_ms`, `p999_ms`, `verdict`,
//! `results_path`, `chart_path`, `s3_prefix`, `run_id`, `workloads_json`), as plain strings. Pure.

use crate::results::RunResult;

/// Every output, in the order they are written (and declared in `action.yml`).
pub const NAMES: [&str; 10] = [
    "ops_per_sec",
    "p50_ms",
    "p99_ms",
    "p999_ms",
    "verdict",
    "results_path",
    "chart_path",
    "s3_prefix",
    "run_id",
    "workloads_json",
];

/// `verdict` when no baseline was compared (the gate's verdicts are `improved`, `regressed`,
/// `no_change` and `inconclusive`).
pub const NO_VERDICT: &str = "none";

/// Where the run's files are, as the workflow's later steps see them.
#[derive(Clone, Debug, Default)]
pub struct Paths {
    /// `results.json`.
    pub results: String,
    /// `chart.png` (empty when none was written).
    pub chart: String,
    /// The S3 prefix of the exports (empty for the local target).
    pub s3_prefix: String,
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{x:.decimals$}"))
        .unwrap_or_default()
}

/// The outputs: steady-state numbers (empty when unknown), the verdict and the paths.
pub fn values(r: &RunResult, verdict: &str, paths: &Paths) -> Vec<(&'static str, String)> {
    let t = &r.steady_state.total;
    let l = &t.latency_ms;
    let v = [
        num(t.ops_per_sec, 2),
        num(l.p50, 3),
        num(l.p99, 3),
        num(l.p99_9, 3),
        verdict.to_string(),
        paths.results.clone(),
        paths.chart.clone(),
        paths.s3_prefix.clone(),
        r.run.id.clone().unwrap_or_default(),
        // Only a workload matrix has it (see `publish_matrix`).
        String::new(),
    ];
    NAMES.into_iter().zip(v).collect()
}
