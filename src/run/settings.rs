//! Every input of `run`, parsed once into the typed settings the rest of the run takes: the run's
//! configuration (for a matrix on AWS, the one the cache is provisioned with), the workload
//! matrix, the gate and the history's place, and the GitHub options. Nothing after this reads
//! the raw input strings again.

use super::{gate, matrix};
use crate::config::matrix::NamedWorkload;
use crate::config::{Config, RunInputs, Target};
use crate::github::options::Options;
use crate::InputError;

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
        let bad = |e: crate::config::ConfigError| InputError::new(e.to_string());
        let config = Config::from_inputs(inputs).map_err(bad)?;
        let gate = gate::settings(inputs)?;
        let github = Options::from_inputs(&inputs.github).map_err(bad)?;
        let workloads = matrix::load(inputs)?;
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
            (Some(ws), Target::Aws) => {
                Config::from_inputs(&matrix::provisioning_inputs(inputs, ws))
                    .map_err(|e| InputError::new(format!("{e} (for the whole workload matrix)")))?
            }
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
