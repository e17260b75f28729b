//! The bodies of the `run` and `plan` commands: the runtime, what is printed, and the outcome.

use std::time::Duration;

use clap::Args;

use crate::config::{self, RunInputs};
use crate::error::InputError;
use crate::outcome::Outcome;
use crate::{clock, plan};

/// `run` flags: the run's inputs (also readable from action inputs `INPUT_<NAME>`).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The inputs.
    #[command(flatten)]
    pub inputs: crate::config::RunInputs,
}

/// `plan` flags: the same inputs as `run` (the target is always aws).
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Print the plan as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// The inputs.
    #[command(flatten)]
    pub inputs: crate::config::RunInputs,
}

/// How long the runtime may take to drop what an abandoned run left running (its children are
/// killed on drop).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The `run` command: prepare inside Actions, run, print each result's headline.
pub fn run_command(mut a: RunArgs) -> anyhow::Result<Outcome> {
    crate::github::prepare(&mut a.inputs)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))?;
    let r = rt.block_on(super::run(&a.inputs));
    // A run abandoned on a second signal returns before its tasks end: don't wait for them.
    rt.shutdown_timeout(SHUTDOWN_GRACE);
    let (results, outcome) = r?;
    #[allow(clippy::print_stdout)]
    {
        for result in &results {
            if let Some(w) = &result.run.details.workload_name {
                println!("== workload {w}");
            }
            print!("{}", crate::report::text::render(result));
        }
        println!("outputs: {}", a.inputs.output_dir);
    }
    Ok(outcome)
}

/// The `plan` command: validate, plan and print an AWS run; fail (bad input) when it is over
/// budget.
pub fn plan_command(a: &PlanArgs) -> anyhow::Result<Outcome> {
    let mut inputs: RunInputs = a.inputs.clone();
    inputs.target = "aws".into();
    inputs.fill_region(|k| std::env::var(k).ok());
    config::Config::from_inputs(&inputs).map_err(InputError::from)?;
    let workloads = super::settings::load(&inputs)?;
    let total = workloads
        .as_deref()
        .map(|ws| super::settings::provisioning_inputs(&inputs, ws));
    let cfg =
        config::Config::from_inputs(total.as_ref().unwrap_or(&inputs)).map_err(InputError::from)?;
    let run_id = cfg.run_id.clone().unwrap_or_else(clock::new_run_id);
    let repository = std::env::var("GITHUB_REPOSITORY").ok();
    let p = plan::plan(
        &cfg,
        &plan::PlanContext {
            run_id: &run_id,
            now_unix_ms: clock::now_ms(),
            repository: repository.as_deref(),
            existing: None,
        },
    )
    .map_err(|e| InputError::new(e.to_string()))?;
    let text = if a.json {
        serde_json::to_string_pretty(&p)? + "\n"
    } else {
        let mut t = plan::render_text(&p);
        if let Some(ws) = &workloads {
            t.push_str(&super::settings::plan_text(ws));
        }
        t
    };
    #[allow(clippy::print_stdout)]
    {
        print!("{text}");
    }
    plan::check_budget(&p).map_err(InputError::new)?;
    Ok(Outcome::Ok)
}
