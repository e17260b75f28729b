//! The client-result model: one load generator's measurements, whatever produced them
//! (memtier JSON, memtier's stdout table, its progress log, or the built-in load generator).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Which output a client result was read from, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSource {
    /// memtier's `--json-out-file` (full per-second series and histograms).
    MemtierJson,
    /// memtier's stdout summary table (no histograms, no per-second series).
    MemtierStdout,
    /// Only memtier's progress lines (coarse per-second ops and mean latency).
    MemtierProgress,
    /// The built-in load generator (exact per-second histograms).
    Builtin,
}

/// How a load generator's run went, judged from its outputs; a whole run's status uses the same
/// three words (`results::RunStatus`). Read back strictly: any other word in a `results.json` is
/// refused, as its schema allows only these three.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Complete results, no errors seen.
    Ok,
    /// Results exist but are partial or came with errors; they are merged and flagged.
    Degraded,
    /// No usable results; excluded from the merge.
    Failed,
}

impl TaskStatus {
    /// The lower-case word used in `results.json` and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Degraded => "degraded",
            Self::Failed => "failed",
        }
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A latency histogram in microseconds, with memtier's bounds (10 µs .. 600 s, 2 significant digits).
pub type LatencyHistogram = Histogram<u64>;

/// The lowest value memtier's histograms track, in µs.
pub const HIST_LOWEST_US: u64 = 10;
/// The highest value memtier's histograms track, in µs.
pub const HIST_HIGHEST_US: u64 = 600_000_000;
/// Significant digits of memtier's histograms.
pub const HIST_SIGFIG: u8 = 2;

/// An empty histogram with memtier's bounds, so that every histogram in the product can be added to
/// every other one.
pub fn new_histogram() -> LatencyHistogram {
    // The bounds are constants that `Histogram::new_with_bounds` accepts.
    #[allow(clippy::unwrap_used)]
    Histogram::new_with_bounds(HIST_LOWEST_US, HIST_HIGHEST_US, HIST_SIGFIG).unwrap()
}

/// A histogram kept as its recorded `(value, count)` pairs: a second of latencies takes a few hundred
/// bytes instead of the ~23 KiB counts array of a full histogram, which matters for per-second
/// histograms over hour-long runs. Rebuilding it gives back the same buckets exactly, because each
/// value stored is the highest value equivalent to its bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SparseHistogram(Vec<(u64, u64)>);

impl SparseHistogram {
    /// The recorded buckets of `h`.
    pub fn from_histogram(h: &LatencyHistogram) -> Self {
        Self(
            h.iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect(),
        )
    }

    /// Add these counts into `h` (with memtier's bounds, so nothing is out of range).
    pub fn add_into(&self, h: &mut LatencyHistogram) {
        for &(v, n) in &self.0 {
            let _ = h.record_n(v, n);
        }
    }

    /// A full histogram again.
    pub fn to_histogram(&self) -> LatencyHistogram {
        let mut h = new_histogram();
        self.add_into(&mut h);
        h
    }

    /// Values recorded.
    pub fn len(&self) -> u64 {
        self.0.iter().map(|&(_, n)| n).sum()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One second of one command type as a load generator saw it.
#[derive(Clone, Debug, Default)]
pub struct Second {
    /// Seconds since the load generator's start (memtier's `Time-Serie` key).
    pub offset: u32,
    /// Operations completed in this second.
    pub count: u64,
    /// Bytes received.
    pub bytes_rx: u64,
    /// Bytes sent.
    pub bytes_tx: u64,
    /// Mean latency over the second's operations, in ms (exact).
    pub mean_latency_ms: Option<f64>,
    /// Highest latency of the second, in ms (exact).
    pub max_latency_ms: Option<f64>,
    /// GET hits in this second, when the producer counts them per second (memtier does not).
    pub hits: Option<u64>,
    /// GET misses in this second, when counted per second.
    pub misses: Option<u64>,
    /// This second's full histogram, when the producer keeps one (the built-in generator does;
    /// memtier writes none, its per-second percentiles are single-connection approximations).
    pub histogram: Option<SparseHistogram>,
}

/// The latency numbers a load generator printed itself (kept for checks and for the stdout-only fallback).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportedLatency {
    /// Mean in ms.
    pub mean_ms: Option<f64>,
    /// (percentile, ms) pairs, percentile in 0..=100.
    pub percentiles: Vec<(f64, f64)>,
    /// Max in ms.
    pub max_ms: Option<f64>,
}

/// One command type (or the total) of one load generator.
#[derive(Clone, Debug)]
pub struct CommandStats {
    /// Operations counted.
    pub count: u64,
    /// The generator's own rate: count over its own run time.
    pub ops_per_sec: f64,
    /// GET hits per second; `None` where not applicable.
    pub hits_per_sec: Option<f64>,
    /// GET misses per second; `None` where not applicable.
    pub misses_per_sec: Option<f64>,
    /// KiB/s received plus sent.
    pub kb_per_sec: Option<f64>,
    /// The full-run latency histogram in µs, when available.
    pub histogram: Option<LatencyHistogram>,
    /// What the generator printed itself.
    pub reported: ReportedLatency,
    /// Per-second series, ordered by offset; seconds with no operations may be missing.
    pub series: Vec<Second>,
}

impl CommandStats {
    /// Stats with a count and rate only.
    pub fn empty() -> Self {
        Self {
            count: 0,
            ops_per_sec: 0.0,
            hits_per_sec: None,
            misses_per_sec: None,
            kb_per_sec: None,
            histogram: None,
            reported: ReportedLatency::default(),
            series: Vec::new(),
        }
    }
}

/// A kind of error a load generator reported, with how often and one example line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCount {
    /// Stable kind, e.g. `connection_refused`, `auth_failed`, `error_reply`.
    pub kind: String,
    /// How many lines of this kind.
    pub count: u64,
    /// The first such line, trimmed.
    pub example: String,
}

/// The workload settings a load generator ran with (no secrets).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Workload {
    /// Target host as given to the generator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Target port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u64>,
    /// Threads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
    /// Connections per thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clients: Option<u64>,
    /// Pipeline depth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<u64>,
    /// SET:GET ratio.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<String>,
    /// Key pattern SET:GET.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_pattern: Option<String>,
    /// Lowest key index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_minimum: Option<u64>,
    /// Highest key index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_maximum: Option<u64>,
    /// Value size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_size: Option<u64>,
    /// Configured duration in seconds (0 or absent in request-count mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_time_secs: Option<u64>,
    /// Requests per client in request-count mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    /// Whether TLS was on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<bool>,
    /// Whether the generator authenticated (never the secret itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authenticated: Option<bool>,
    /// Protocol name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// One load generator's results and the evidence used to judge it.
#[derive(Clone, Debug)]
pub struct ClientResult {
    /// Task id (folder or file name, or the local generator's index).
    pub id: String,
    /// Where the numbers came from.
    pub source: ClientSource,
    /// Unix ms at which the measured run started, when known.
    pub start_ms: Option<u64>,
    /// Measured run time in ms, when known.
    pub duration_ms: Option<u64>,
    /// Whether the generator says it was interrupted.
    pub interrupted: bool,
    /// The process exit code, when known.
    pub exit_code: Option<i32>,
    /// All commands together.
    pub totals: CommandStats,
    /// Per command, keyed by lower-case command name (`get`, `set`, `incr` …).
    pub commands: BTreeMap<String, CommandStats>,
    /// Errors the generator reported.
    pub errors: Vec<ErrorCount>,
    /// Connection errors counted by the generator itself.
    pub connection_errors: u64,
    /// The workload settings.
    pub workload: Workload,
    /// Load generator name and version, e.g. `memtier_benchmark 2.3.0`.
    pub generator: Option<String>,
    /// Remarks on how the result was read (fallbacks used, sections chosen).
    pub notes: Vec<String>,
}

impl ClientResult {
    /// An empty result for `id` from `source`.
    pub fn new(id: impl Into<String>, source: ClientSource) -> Self {
        Self {
            id: id.into(),
            source,
            start_ms: None,
            duration_ms: None,
            interrupted: false,
            exit_code: None,
            totals: CommandStats::empty(),
            commands: BTreeMap::new(),
            errors: Vec::new(),
            connection_errors: 0,
            workload: Workload::default(),
            generator: None,
            notes: Vec::new(),
        }
    }

    /// Total error lines of one kind.
    pub fn error_count(&self, kind: &str) -> u64 {
        self.errors
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.count)
            .sum()
    }
}

/// A client result with its verdict.
#[derive(Clone, Debug)]
pub struct JudgedClient {
    /// The measurements.
    pub result: ClientResult,
    /// The verdict.
    pub status: TaskStatus,
    /// Why, in words a person understands (empty when ok).
    pub reasons: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_histograms_rebuild_exactly() {
        let mut h = new_histogram();
        for v in [12, 13, 250, 251, 9_999, 1_000_000, 599_000_000] {
            h.record_n(v, v % 7 + 1).unwrap();
        }
        let s = SparseHistogram::from_histogram(&h);
        let back = s.to_histogram();
        assert_eq!(back, h);
        assert_eq!(s.len(), h.len());
        assert!(SparseHistogram::from_histogram(&new_histogram()).is_empty());
    }
}
