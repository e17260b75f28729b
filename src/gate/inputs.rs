//! The gate's inputs as typed ([`GateInputs`], strings, also action inputs `INPUT_<NAME>`) and
//! validated ([`GateConfig`], [`Thresholds`]); every problem names the input. Pure.

use clap::Args;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// Default tolerated throughput drop, %.
pub const DEFAULT_MAX_THROUGHPUT_DROP_PCT: f64 = 5.0;
/// Default tolerated latency increase, %.
pub const DEFAULT_MAX_LATENCY_INCREASE_PCT: f64 = 10.0;
/// Default family-wise confidence level of the intervals.
pub const DEFAULT_CONFIDENCE: f64 = 0.95;
/// Default assumed run-to-run relative standard deviation of throughput, %, used only when the
/// baseline is a single run (history measures it instead).
pub const DEFAULT_THROUGHPUT_NOISE_FLOOR_PCT: f64 = 2.0;
/// Default assumed run-to-run relative standard deviation of latency percentiles, %, likewise.
pub const DEFAULT_LATENCY_NOISE_FLOOR_PCT: f64 = 5.0;
/// Default number of most recent base-branch runs that form a history baseline.
pub const DEFAULT_HISTORY_RUNS: usize = 10;

/// Raw gate inputs, exactly as typed.
#[derive(Debug, Args, Clone, Default)]
pub struct GateInputs {
    /// Baseline: a results.json path, a folder of results (each run's results.json, the last
    /// `history_runs` by start time), an `s3://bucket/key` object or prefix, or `history` for the
    /// stored history of the same profile on `history_branch`.
    #[arg(long, env = "INPUT_BASELINE")]
    pub baseline: Option<String>,
    /// Largest tolerated drop in throughput, % (a regression needs a significant drop beyond it).
    #[arg(long, env = "INPUT_MAX_THROUGHPUT_DROP_PCT", allow_hyphen_values = true, default_value_t = DEFAULT_MAX_THROUGHPUT_DROP_PCT.to_string())]
    pub max_throughput_drop_pct: String,
    /// Largest tolerated increase in p50/p99/p99.9 latency, %.
    #[arg(long, env = "INPUT_MAX_LATENCY_INCREASE_PCT", allow_hyphen_values = true, default_value_t = DEFAULT_MAX_LATENCY_INCREASE_PCT.to_string())]
    pub max_latency_increase_pct: String,
    /// Family-wise confidence level of the intervals, e.g. 0.95 (shared out over the metrics compared).
    #[arg(long, env = "INPUT_GATE_CONFIDENCE", allow_hyphen_values = true, default_value_t = DEFAULT_CONFIDENCE.to_string())]
    pub gate_confidence: String,
    /// Assumed run-to-run standard deviation of throughput, %, when the baseline is one run.
    #[arg(long, env = "INPUT_THROUGHPUT_NOISE_FLOOR_PCT", allow_hyphen_values = true, default_value_t = DEFAULT_THROUGHPUT_NOISE_FLOOR_PCT.to_string())]
    pub throughput_noise_floor_pct: String,
    /// Assumed run-to-run standard deviation of latency percentiles, %, when the baseline is one run.
    #[arg(long, env = "INPUT_LATENCY_NOISE_FLOOR_PCT", allow_hyphen_values = true, default_value_t = DEFAULT_LATENCY_NOISE_FLOOR_PCT.to_string())]
    pub latency_noise_floor_pct: String,
    /// Exit with code 1 when the verdict is "regressed".
    #[arg(long, env = "INPUT_FAIL_ON_REGRESSION", default_value = "true")]
    pub fail_on_regression: String,
    /// How many of the most recent base-branch runs form a history baseline (their median).
    #[arg(long, env = "INPUT_HISTORY_RUNS", allow_hyphen_values = true, default_value_t = DEFAULT_HISTORY_RUNS.to_string())]
    pub history_runs: String,
    /// The branch whose history is the baseline; empty: the PR's base branch (GITHUB_BASE_REF),
    /// else this run's branch (GITHUB_REF_NAME), else `local` (where runs outside Actions are stored).
    #[arg(long, env = "INPUT_HISTORY_BRANCH", default_value = "")]
    pub history_branch: String,
    /// Compare even when the profiles differ (the difference is still stated in the verdict).
    #[arg(long, env = "INPUT_ALLOW_PROFILE_MISMATCH", default_value = "false")]
    pub allow_profile_mismatch: String,
}

/// The numbers that decide a verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Largest tolerated throughput drop, % (≥ 0).
    pub max_throughput_drop_pct: f64,
    /// Largest tolerated latency increase, % (≥ 0).
    pub max_latency_increase_pct: f64,
    /// Family-wise confidence level in (0, 1).
    pub confidence: f64,
    /// Assumed run-to-run relative standard deviation of throughput, %, for a one-run baseline.
    pub throughput_noise_floor_pct: f64,
    /// Assumed run-to-run relative standard deviation of latency, %, for a one-run baseline.
    pub latency_noise_floor_pct: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            max_throughput_drop_pct: DEFAULT_MAX_THROUGHPUT_DROP_PCT,
            max_latency_increase_pct: DEFAULT_MAX_LATENCY_INCREASE_PCT,
            confidence: DEFAULT_CONFIDENCE,
            throughput_noise_floor_pct: DEFAULT_THROUGHPUT_NOISE_FLOOR_PCT,
            latency_noise_floor_pct: DEFAULT_LATENCY_NOISE_FLOOR_PCT,
        }
    }
}

/// Validated gate settings.
#[derive(Clone, Debug, PartialEq)]
pub struct GateConfig {
    /// The baseline as given (`None`: no gate).
    pub baseline: Option<String>,
    /// Decision thresholds.
    pub thresholds: Thresholds,
    /// Whether a regression fails the command.
    pub fail_on_regression: bool,
    /// N for a history baseline.
    pub history_runs: usize,
    /// The branch of a history baseline (`None`: derived from the environment where the history
    /// is read, see `history::base_branch`).
    pub history_branch: Option<String>,
    /// Compare despite a profile difference (stated).
    pub allow_profile_mismatch: bool,
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            baseline: None,
            thresholds: Thresholds::default(),
            fail_on_regression: true,
            history_runs: DEFAULT_HISTORY_RUNS,
            history_branch: None,
            allow_profile_mismatch: false,
        }
    }
}

fn pct(input: &'static str, v: &str, max: f64) -> Result<f64, ConfigError> {
    let allowed = || format!("must be a number of percent from 0 to {max}");
    let x: f64 = v
        .trim()
        .trim_end_matches('%')
        .trim()
        .parse()
        .map_err(|_| ConfigError::new(input, v, allowed()))?;
    if !(0.0..=max).contains(&x) {
        return Err(ConfigError::new(input, v, allowed()));
    }
    Ok(x)
}

fn boolean(input: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" | "" => Ok(false),
        _ => Err(ConfigError::new(input, v, "must be true or false")),
    }
}

impl GateConfig {
    /// Validate raw inputs; the first problem found names its input.
    pub fn from_inputs(i: &GateInputs) -> Result<Self, ConfigError> {
        let confidence: f64 = i.gate_confidence.trim().parse().map_err(|_| {
            ConfigError::new(
                "gate_confidence",
                &i.gate_confidence,
                "must be a number between 0.5 and 0.9999, e.g. 0.95",
            )
        })?;
        if !(0.5..=0.9999).contains(&confidence) {
            return Err(ConfigError::new(
                "gate_confidence",
                &i.gate_confidence,
                "must be a number between 0.5 and 0.9999, e.g. 0.95",
            ));
        }
        let history_runs: usize = i
            .history_runs
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                ConfigError::new(
                    "history_runs",
                    &i.history_runs,
                    "must be a whole number from 1 to 1000",
                )
            })?;
        let history_branch = Some(i.history_branch.trim())
            .filter(|b| !b.is_empty())
            .map(str::to_string);
        Ok(Self {
            baseline: i
                .baseline
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            thresholds: Thresholds {
                max_throughput_drop_pct: pct(
                    "max_throughput_drop_pct",
                    &i.max_throughput_drop_pct,
                    99.0,
                )?,
                max_latency_increase_pct: pct(
                    "max_latency_increase_pct",
                    &i.max_latency_increase_pct,
                    10_000.0,
                )?,
                confidence,
                throughput_noise_floor_pct: pct(
                    "throughput_noise_floor_pct",
                    &i.throughput_noise_floor_pct,
                    100.0,
                )?,
                latency_noise_floor_pct: pct(
                    "latency_noise_floor_pct",
                    &i.latency_noise_floor_pct,
                    100.0,
                )?,
            },
            fail_on_regression: boolean("fail_on_regression", &i.fail_on_regression)?,
            history_runs,
            history_branch,
            allow_profile_mismatch: boolean("allow_profile_mismatch", &i.allow_profile_mismatch)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Probe {
        #[command(flatten)]
        g: GateInputs,
    }

    fn parse(args: &[&str]) -> Result<GateConfig, ConfigError> {
        let mut argv = vec!["probe"];
        argv.extend_from_slice(args);
        GateConfig::from_inputs(&Probe::parse_from(argv).g)
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = parse(&[]).unwrap();
        assert_eq!(c, GateConfig::default());
    }

    #[test]
    fn values_are_parsed() {
        let c = parse(&[
            "--baseline",
            "history",
            "--max-throughput-drop-pct",
            "3%",
            "--max-latency-increase-pct",
            "20",
            "--gate-confidence",
            "0.99",
            "--fail-on-regression",
            "false",
            "--history-runs",
            "5",
            "--history-branch",
            " release/1.x ",
        ])
        .unwrap();
        assert_eq!(c.history_branch.as_deref(), Some("release/1.x"));
        assert_eq!(
            parse(&["--history-branch", " "]).unwrap().history_branch,
            None
        );
        assert_eq!(c.baseline.as_deref(), Some("history"));
        assert_eq!(c.thresholds.max_throughput_drop_pct, 3.0);
        assert_eq!(c.thresholds.max_latency_increase_pct, 20.0);
        assert_eq!(c.thresholds.confidence, 0.99);
        assert!(!c.fail_on_regression);
        assert_eq!(c.history_runs, 5);
    }

    #[test]
    fn bad_values_name_the_input() {
        let cases: [(&[&str], &str); 5] = [
            (
                &["--max-throughput-drop-pct", "-1"],
                "max_throughput_drop_pct",
            ),
            (
                &["--max-latency-increase-pct", "ten"],
                "max_latency_increase_pct",
            ),
            (&["--gate-confidence", "1.5"], "gate_confidence"),
            (&["--history-runs", "0"], "history_runs"),
            (&["--fail-on-regression", "maybe"], "fail_on_regression"),
        ];
        for (args, input) in cases {
            let e = parse(args).unwrap_err();
            assert_eq!(e.input, input, "{args:?}");
            assert!(e.to_string().contains(&format!("input '{input}'")));
        }
    }
}
