//! Everything GitHub: running as a container action (inputs, masks, groups, annotations, step
//! outputs, job summary, state for the post step) and the sticky PR comment. The only module that
//! uses octocrab.

pub mod actions;
pub mod body;
pub mod client;
pub mod commands;
pub mod comment;
pub mod context;
pub mod log;
pub mod mermaid;
pub mod options;
pub mod outputs;
pub mod post;
pub mod profile;
mod publish;

pub use context::in_actions;
pub use publish::{load_results, publish, publish_file, MAX_RESULTS_BYTES};

use crate::config::{parse_endpoint, Config, RunInputs};
use crate::InputError;

/// Before a run inside Actions: mask the secrets among the inputs, check the GitHub inputs, fix
/// the run id and save it (and the target) as state for the post step, before anything is
/// created. Outside Actions it does nothing.
pub fn prepare(inputs: &mut RunInputs) -> anyhow::Result<()> {
    if !in_actions() {
        return Ok(());
    }
    if let Some(t) = &inputs.github.github_token {
        commands::add_mask(t.expose());
    }
    if let Some(Ok(ep)) = inputs
        .endpoint
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(parse_endpoint)
    {
        if let Some(p) = &ep.password {
            commands::add_mask(p.expose());
        }
    }
    options::Options::from_inputs(&inputs.github).map_err(|e| InputError::new(e.to_string()))?;
    // Invalid inputs are reported by the run itself, which has made nothing yet: no state then.
    if Config::from_inputs(inputs).is_err() {
        return Ok(());
    }
    let run_id = match inputs.run_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => crate::run::new_run_id(),
    };
    inputs.run_id = Some(run_id.clone());
    actions::save_state(post::STATE_RUN_ID, &run_id)?;
    actions::save_state(post::STATE_TARGET, inputs.target.trim())?;
    Ok(())
}

/// Report a command's error inside Actions: close the open group and annotate (one line, escaped).
pub fn report_error(e: &anyhow::Error) {
    if in_actions() {
        commands::end_group();
        commands::annotate(
            commands::Level::Error,
            Some("elasticache-perf"),
            &format!("{e:#}"),
        );
    }
}
