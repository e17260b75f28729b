//! The regression gate: a run against a baseline (one pinned run or the median of a history),
//! per metric and overall, with confidence intervals that respect autocorrelation and
//! between-run noise. Pure: no I/O, no clock; see `docs/gate.md` for the statistics.

mod compare;
pub mod decide;
pub mod estimate;
mod extract;
pub mod history;
mod inputs;
mod noise;
mod profile;
mod render;
pub mod sample;
pub mod tdist;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
pub mod trend;
mod types;

pub use compare::compare;
pub use inputs::{
    GateConfig, GateInputs, Thresholds, DEFAULT_CONFIDENCE, DEFAULT_HISTORY_RUNS,
    DEFAULT_LATENCY_NOISE_FLOOR_PCT, DEFAULT_MAX_LATENCY_INCREASE_PCT,
    DEFAULT_MAX_THROUGHPUT_DROP_PCT, DEFAULT_THROUGHPUT_NOISE_FLOOR_PCT,
};
pub use profile::{ProfileDifference, ProfileKey};
pub use render::{markdown_section, text, verdict_line};
pub use types::{
    Baseline, BaselineInfo, BaselineKind, Comparison, Interval, Metric, MetricComparison,
    NoiseMethod, Verdict,
};
