//! Every input of `run`, parsed once into the typed settings the rest of the run takes: the run's
//! configuration (for a matrix on AWS, the one the cache is provisioned with), the workload
//! matrix, the gate and the history's place, and the GitHub options. Nothing after this reads
//! the raw input strings again.

use super::gate;
use crate::config::matrix::{self, NamedWorkload};
use crate::config::{Config, RunInputs, Target};
use crate::error::InputError;
use crate::github::options::Options;

/// The matrix the inputs give, validated (a file named by `workloads` is read first); `None`
/// without one.
pub fn load(inputs: &RunInputs) -> anyhow::Result<Option<Vec<NamedWorkload>>> {
    let Some(v) = inputs.workloads.as_deref().filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let text = if matrix::is_inline(v) {
        v.to_string()
    } else {
        std::fs::read_to_string(v.trim()).map_err(|e| {
            InputError::new(format!(
                "input 'workloads' names the file '{}', which cannot be read ({e}); give a JSON or YAML list of workloads, or the path of a file holding one",
                v.trim()
            ))
        })?
    };
    let ws = matrix::parse(&text, inputs).map_err(InputError::from)?;
    Ok(Some(ws))
}

/// The inputs a matrix on AWS provisions with (and reckons its expiry and cost with): the
/// top-level inputs with the workloads' durations summed (each prefill beyond the first counted
/// at its bound), and a prefill when any workload prefills.
pub fn provisioning_inputs(base: &RunInputs, ws: &[NamedWorkload]) -> RunInputs {
    let prefills = ws.iter().filter(|w| w.config.prefill).count();
    let extra = u64::try_from(prefills.saturating_sub(1)).unwrap_or(0)
        * crate::config::aws::PREFILL_BOUND_MINUTES
        * 60;
    let total: u64 = ws.iter().map(|w| w.config.duration.as_secs()).sum::<u64>() + extra;
    let mut i = base.clone();
    i.test_duration_minutes = None;
    i.test_duration_seconds = Some(total.to_string());
    i.prefill = (prefills > 0).to_string();
    i
}

/// The matrix for `plan`: each workload, its length and its command.
pub fn plan_text(ws: &[NamedWorkload]) -> String {
    let total: u64 = ws.iter().map(|w| w.config.duration.as_secs()).sum();
    let mut out = format!(
        "\nworkloads ({}, one after another on this one cache; {} s of load in all):\n",
        ws.len(),
        total
    );
    for (k, w) in ws.iter().enumerate() {
        let wl = &w.config.workload;
        out.push_str(&format!(
            "  {}. {:<16} {:>6} s{}  threads={} clients={} pipeline={} ratio={}:{} data_size={}\n",
            k + 1,
            w.name,
            w.config.duration.as_secs(),
            if w.config.prefill { " + prefill" } else { "" },
            wl.threads,
            wl.clients,
            wl.pipeline,
            wl.ratio_set,
            wl.ratio_get,
            wl.data_size
        ));
    }
    out
}

/// The run's typed settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The run's configuration; for a matrix on AWS, the provisioning one (durations summed).
    pub config: Config,
    /// The workload matrix, when there is one.
    pub workloads: Option<Vec<NamedWorkload>>,
    /// Empty the server between workloads.
    pub flush_between: bool,
    /// The gate and the history.
    pub gate: gate::GateSettings,
    /// Publishing to GitHub.
    pub github: Options,
}

impl Settings {
    /// Parse and check every input; the first problem is bad input (exit 2), before anything
    /// starts.
    pub fn from_inputs(inputs: &RunInputs) -> anyhow::Result<Self> {
        let bad = InputError::from;
        let config = Config::from_inputs(inputs).map_err(bad)?;
        let gate = gate::settings(inputs)?;
        let github = Options::from_inputs(&inputs.github).map_err(bad)?;
        let workloads = load(inputs)?;
        let flush_between =
            crate::config::parse_bool("flush_between", &inputs.flush_between, Some(false))
                .map_err(bad)?;
        if flush_between && config.target == Target::Aws {
            return Err(InputError::new(
                "input 'flush_between' is 'true' but the aws target cannot empty the cache between workloads (it is reachable only from inside its VPC); give each workload its own key_prefix instead",
            )
            .into());
        }
        // A matrix on AWS provisions once for all its workloads.
        let config = match (&workloads, config.target) {
            (Some(ws), Target::Aws) => Config::from_inputs(&provisioning_inputs(inputs, ws))
                .map_err(|e| InputError::new(format!("{e} (for the whole workload matrix)")))?,
            _ => config,
        };
        Ok(Self {
            config,
            workloads,
            flush_between,
            gate,
            github,
        })
    }
}
