//! `results.json` (schema `elasticache-perf/result/v1`): the contract between run, report, compare
//! and history, and the pure assembly of it from judged load-generator results.

mod build;
mod details;
pub mod server;
pub mod timeline;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use build::{build, encode_histogram, rfc3339_ms, BuildOptions};
pub use details::{RunDetails, COMMAND_KEY};

/// A run's status: `ok`, `degraded` or `failed`, the words of a task's status.
pub type RunStatus = crate::client::TaskStatus;

use crate::stats::percentile::LatencySummary;
pub use crate::stats::series::SeriesPoint;

/// The schema id written into every `results.json`.
pub const SCHEMA_ID: &str = "elasticache-perf/result/v1";

/// The JSON Schema of `results.json`, committed in `schema/result-v1.schema.json`.
pub const JSON_SCHEMA: &str = include_str!("../../schema/result-v1.schema.json");

/// The whole `results.json` document.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResult {
    /// Always [`SCHEMA_ID`].
    pub schema: String,
    /// The tool that wrote it.
    pub tool: ToolInfo,
    /// `ok` when every load generator was ok, `degraded` when some were degraded or failed but
    /// others produced results, `failed` when none did.
    pub status: RunStatus,
    /// What was measured and how (no secrets).
    pub run: RunInfo,
    /// The whole run, comparable with memtier's own numbers (its rates are the sums of the tasks' own).
    pub whole_run: ViewJson,
    /// The headline: the steady-state window.
    pub steady_state: SteadyStateJson,
    /// Per-second series aligned on wall-clock seconds.
    pub series: Vec<SeriesPoint>,
    /// One entry per load generator.
    pub tasks: Vec<TaskJson>,
    /// Merged histograms of the whole run (µs, base64 HdrHistogram V2 deflate), by `total` and command.
    pub histograms: BTreeMap<String, String>,
    /// Server-side metrics, when a target collected them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<server::ServerMetrics>,
    /// Phases of the run with their start and end, when a target recorded them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<Phase>,
    /// Remarks a reader should know.
    pub notes: Vec<String>,
}

/// Tool name and version.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ToolInfo {
    /// `elasticache-perf`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

/// Description of the run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RunInfo {
    /// Run id, when the run was made by this tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `analyze`, `local` or `aws`.
    pub target: String,
    /// Load generator, e.g. `memtier_benchmark`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_generator: Option<String>,
    /// Number of load generators.
    pub task_count: usize,
    /// Earliest generator start, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// Latest generator end, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// The workload of the first generator (the same for all in a run by this tool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<serde_json::Value>,
    /// Facts a target adds (engine, version, node type …).
    #[serde(default, skip_serializing_if = "RunDetails::is_empty")]
    pub details: RunDetails,
}

/// A stats object: `count`, rates and latency.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsJson {
    /// Operations.
    pub count: u64,
    /// Operations per second.
    pub ops_per_sec: Option<f64>,
    /// GET hits per second (null where not applicable).
    pub hits_per_sec: Option<f64>,
    /// GET misses per second (null where not applicable).
    pub misses_per_sec: Option<f64>,
    /// KiB/s in and out.
    pub kb_per_sec: Option<f64>,
    /// Latency in ms.
    pub latency_ms: LatencySummary,
}

/// `total` and `commands`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ViewJson {
    /// All commands.
    pub total: StatsJson,
    /// Keyed by lower-case command.
    pub commands: BTreeMap<String, StatsJson>,
    /// Whether the latency percentiles are exact (from merged histograms).
    pub latency_exact: bool,
}

/// The steady-state view.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SteadyStateJson {
    /// The window used.
    pub window: WindowJson,
    /// `window` when latency is exact over the window; `whole_run` when the load generator keeps no
    /// per-second histograms (memtier), so latency covers the whole run.
    pub latency_scope: String,
    /// All commands.
    pub total: StatsJson,
    /// Keyed by lower-case command.
    pub commands: BTreeMap<String, StatsJson>,
}

/// The steady-state window.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WindowJson {
    /// RFC 3339 start (null when no window could be chosen).
    pub start: Option<String>,
    /// RFC 3339 end.
    pub end: Option<String>,
    /// Unix ms start.
    pub start_unix_ms: Option<u64>,
    /// Unix ms end.
    pub end_unix_ms: Option<u64>,
    /// Length in seconds.
    pub duration_secs: Option<f64>,
    /// Warm-up dropped, seconds.
    pub warmup_secs: u32,
    /// Ramp-down dropped, seconds.
    pub rampdown_secs: u32,
    /// How it was chosen (or why the whole run was used instead).
    pub method: String,
}

/// One load generator.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaskJson {
    /// Task id.
    pub id: String,
    /// `ok`, `degraded` or `failed`.
    pub status: crate::client::TaskStatus,
    /// Why (null when ok).
    pub reason: Option<String>,
    /// Which output the numbers came from.
    pub source: String,
    /// RFC 3339 start.
    pub started_at: Option<String>,
    /// Measured seconds.
    pub duration_secs: Option<f64>,
    /// Exit code, when known.
    pub exit_code: Option<i32>,
    /// The task's own stats.
    pub total: StatsJson,
    /// The task's own per-command stats.
    pub commands: BTreeMap<String, StatsJson>,
    /// Errors reported.
    pub errors: Vec<crate::client::ErrorCount>,
    /// Remarks on how its outputs were read.
    pub notes: Vec<String>,
}

/// One phase of a run (validate, provision, prefill, load, collect, export, teardown …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// Phase name.
    pub name: String,
    /// RFC 3339 start.
    pub started_at: String,
    /// RFC 3339 end.
    pub ended_at: String,
    /// Length in seconds.
    pub duration_secs: f64,
}

#[cfg(test)]
mod tests;
