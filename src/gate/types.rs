//! The gate's data: verdicts, metrics, intervals and the [`Comparison`] that `compare` returns
//! and `run` writes into results.json. Pure, serde-serialisable.

use serde::{Deserialize, Serialize};

use super::inputs::Thresholds;
use super::profile::{ProfileDifference, ProfileKey};
use crate::results::RunResult;

/// The verdict on one metric or on the whole comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly better, by more than the threshold.
    Improved,
    /// Significantly worse, by more than the threshold.
    Regressed,
    /// Neither of the above, and the interval is narrow enough (half-width ≤ the threshold) to
    /// have seen a change of the tolerated size.
    NoChange,
    /// The interval is too wide to decide against the threshold, data are missing, or the runs
    /// are not comparable.
    Inconclusive,
}

impl Verdict {
    /// Lower-case words, e.g. `no change`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Improved => "improved",
            Self::Regressed => "regressed",
            Self::NoChange => "no change",
            Self::Inconclusive => "inconclusive",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A gated metric. Names carry their units, as in results.json.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Metric {
    /// Steady-state operations per second (higher is better).
    #[serde(rename = "ops_per_sec")]
    Throughput,
    /// Median latency, ms (lower is better).
    #[serde(rename = "latency_p50_ms")]
    LatencyP50,
    /// 99th percentile latency, ms.
    #[serde(rename = "latency_p99_ms")]
    LatencyP99,
    /// 99.9th percentile latency, ms.
    #[serde(rename = "latency_p99_9_ms")]
    LatencyP999,
}

impl Metric {
    /// Every gated metric, in report order.
    pub const ALL: [Self; 4] = [
        Self::Throughput,
        Self::LatencyP50,
        Self::LatencyP99,
        Self::LatencyP999,
    ];

    /// Whether a larger value is better.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Self::Throughput)
    }

    /// A short label: `ops/s`, `p50 ms` …
    pub fn label(self) -> &'static str {
        match self {
            Self::Throughput => "ops/s",
            Self::LatencyP50 => "p50 ms",
            Self::LatencyP99 => "p99 ms",
            Self::LatencyP999 => "p99.9 ms",
        }
    }
}

/// How the noise behind an interval was estimated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseMethod {
    /// From the spread of the baseline runs' values (history of several runs).
    BetweenRuns,
    /// As `BetweenRuns`, but the runs agreed more closely than their own per-second noise (or the
    /// 0.5 % minimum), so that was used instead: copies of one run never give a zero-width interval.
    BetweenRunsFloor,
    /// From batch means of both runs' per-second series, plus the assumed run-to-run floor.
    BatchMeans,
    /// As `BatchMeans`, from the total's per-second latency scaled by √(total/command count)
    /// (commands have no per-second percentiles of their own).
    TotalBatchMeans,
    /// From batch means of both runs' per-second mean latency (exact for every load generator,
    /// memtier included), scaled to the command's count for a command, plus the floor.
    MeanLatency,
    /// A latency against one run, from the throughput's noise: the load is a closed loop, so by
    /// Little's law latency and throughput are two views of one quantity and share its noise.
    ClosedLoop,
    /// Only the assumed run-to-run floor (no per-second data for this metric).
    NoiseFloor,
    /// Not estimated (the metric could not be compared).
    None,
}

/// A confidence interval of a relative change, in %.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound, %.
    pub low_pct: f64,
    /// Upper bound, %.
    pub high_pct: f64,
}

/// One metric of one scope (`total` or a command), baseline against current.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricComparison {
    /// `total` or a lower-case command name.
    pub scope: String,
    /// The metric.
    pub metric: Metric,
    /// The baseline's value (the median of the runs for a history baseline).
    pub baseline: Option<f64>,
    /// The current run's value.
    pub current: Option<f64>,
    /// `(current / baseline − 1) · 100`.
    pub change_pct: Option<f64>,
    /// The confidence interval of the change, at `Comparison::per_metric_confidence`.
    pub interval: Option<Interval>,
    /// The tolerated change in the bad direction, % (a drop for throughput, a rise for latency).
    pub threshold_pct: f64,
    /// How the noise was estimated.
    pub method: NoiseMethod,
    /// Degrees of freedom of the t quantile used (`null` = normal).
    pub degrees_of_freedom: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, in words.
    pub reason: String,
}

/// Whether the baseline is one run or the median of several.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineKind {
    /// A single (pinned) run.
    PinnedRun,
    /// The median of several runs.
    MedianOfRuns,
    /// No usable run.
    Empty,
}

/// What the baseline was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineInfo {
    /// Where it came from (a path, an S3 URI, `history:…`).
    pub source: String,
    /// One run or a median.
    pub kind: BaselineKind,
    /// Runs used.
    pub runs: usize,
    /// Their run ids, oldest first (ids that are unknown are left out).
    pub run_ids: Vec<String>,
}

/// A baseline handed to [`compare`](fn@super::compare): the runs (oldest first) and where they came from.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    /// Where the runs came from, for the report.
    pub source: String,
    /// The runs, oldest first.
    pub runs: Vec<RunResult>,
    /// Warnings from loading (skipped objects …), carried into the comparison's notes.
    pub notes: Vec<String>,
}

/// The whole comparison: verdict, profile check, per-metric results and notes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The overall verdict: regressed if any metric regressed; else inconclusive if any metric
    /// was; else improved if any improved; else no change.
    pub verdict: Verdict,
    /// One line for humans.
    pub summary: String,
    /// The current run's profile.
    pub profile: ProfileKey,
    /// Fields in which the baseline's profile differs (empty when alike).
    pub profile_mismatch: Vec<ProfileDifference>,
    /// Whether metrics were compared despite a mismatch (`allow_profile_mismatch`).
    pub compared_despite_mismatch: bool,
    /// The baseline.
    pub baseline: BaselineInfo,
    /// The thresholds applied.
    pub thresholds: Thresholds,
    /// The confidence of each metric's interval (Bonferroni share of the family-wise level).
    pub per_metric_confidence: f64,
    /// Per scope and metric.
    pub metrics: Vec<MetricComparison>,
    /// Remarks a reader should know.
    pub notes: Vec<String>,
    /// The history's trend with its change points (a baseline of two runs or more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<super::trend::Trend>,
}

impl Comparison {
    /// Whether the gate found a regression.
    pub fn is_regression(&self) -> bool {
        self.verdict == Verdict::Regressed
    }

    /// Whether the profiles differ and nothing was compared (bad input for `compare`).
    pub fn is_profile_mismatch(&self) -> bool {
        !self.profile_mismatch.is_empty() && !self.compared_despite_mismatch
    }
}
