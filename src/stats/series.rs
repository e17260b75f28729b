//! One wall-clock second of the merged series, as `results.json` carries it (`series[]`): the
//! merge produces it, the results document, the gate and the reports read it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One wall-clock second of the merged series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// Unix second.
    pub t: u64,
    /// Operations per second, all generators.
    pub ops_per_sec: u64,
    /// Per-command operations per second.
    pub commands: BTreeMap<String, u64>,
    /// KiB/s.
    pub kb_per_sec: f64,
    /// Count-weighted mean latency, ms (exact).
    pub mean_latency_ms: Option<f64>,
    /// Highest latency, ms (exact).
    pub max_latency_ms: Option<f64>,
    /// Exact per-second percentiles (only when the generator keeps per-second histograms; memtier's
    /// per-second percentiles are single-connection approximations and are left out).
    pub p50_ms: Option<f64>,
    /// Exact p99 of the second.
    pub p99_ms: Option<f64>,
    /// Exact p99.9 of the second.
    pub p99_9_ms: Option<f64>,
    /// Generators reporting in this second.
    pub tasks: u32,
}
