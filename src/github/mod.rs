//! Everything GitHub: running as a container action (inputs, masks, groups, annotations, step
//! outputs, job summary, state for the post step) and the sticky PR comment. The only module that
//! uses octocrab.

pub mod actions;
pub mod body;
pub mod client;
pub mod commands;
pub mod comment;
pub mod context;
pub mod issue;
pub mod log;
pub mod mermaid;
pub mod options;
pub mod outputs;
pub mod profile;
mod publish;
pub mod state;
pub mod workspace;

pub use context::in_actions;
pub use publish::{
    load_results, publish, publish_file, publish_matrix, Exported, MatrixReport, Published, Report,
    MAX_RESULTS_BYTES,
};

use std::path::PathBuf;

use clap::Args;

use crate::config::{parse_endpoint, Config, RunInputs};
use crate::error::InputError;

/// `publish` flags.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The results.json to publish (its folder's chart.png is linked when present).
    #[arg(long, value_name = "FILE", env = "INPUT_RESULTS_PATH")]
    pub results_path: PathBuf,
    /// GitHub inputs.
    #[command(flatten)]
    pub github: crate::config::GithubInputs,
}

/// The `publish` command: publish a results.json from an earlier step (the fork-safe
/// `workflow_run` pattern).
pub fn publish_command(a: &PublishArgs) -> anyhow::Result<crate::outcome::Outcome> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))?
        .block_on(publish_file(&a.results_path, &a.github))
}

/// Before a run inside Actions: mask the secrets among the inputs, check the GitHub inputs and
/// that the paths are inside the workspace (the rest is the run's own validation), fix
/// the run id and save it (and the target) as state for the post step, before anything is
/// created. Outside Actions it does nothing.
pub fn prepare(inputs: &mut RunInputs) -> anyhow::Result<()> {
    if !in_actions() {
        return Ok(());
    }
    if let Some(t) = &inputs.github.github_token {
        commands::add_mask(t.expose());
    }
    if let Some(ep) = &inputs.endpoint {
        for secret in endpoint_secrets(ep) {
            commands::add_mask(&secret);
        }
    }
    if let Some(t) = inputs.auth_token.as_ref().filter(|t| !t.is_empty()) {
        commands::add_mask(t.expose());
    }
    options::Options::from_inputs(&inputs.github).map_err(InputError::from)?;
    workspace::check_run_paths(inputs)?;
    check_local_server(inputs)?;
    // Invalid inputs are reported by the run itself, which has made nothing yet: no state then.
    inputs.fill_region(|k| std::env::var(k).ok());
    if Config::from_inputs(inputs).is_err() {
        return Ok(());
    }
    let run_id = match inputs.run_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => crate::clock::new_run_id(),
    };
    inputs.run_id = Some(run_id.clone());
    actions::save_state(state::STATE_RUN_ID, &run_id)?;
    actions::save_state(state::STATE_TARGET, inputs.target.trim())?;
    if inputs.target.trim() == "aws" {
        // Where the post step looks: the ledger file in the workspace, and the region.
        actions::save_state(state::STATE_OUTPUT_DIR, inputs.output_dir.trim())?;
        if let Some(r) = inputs.aws_region.as_deref() {
            actions::save_state(state::STATE_REGION, r.trim())?;
        }
    }
    Ok(())
}

/// The local target starts a server inside the action's container, whose image has
/// `redis-server` only (Debian bookworm has no Valkey package): refuse `engine_type: valkey`
/// there up front, naming `endpoint` as the way to benchmark Valkey in a job.
fn check_local_server(inputs: &RunInputs) -> Result<(), InputError> {
    let engine = inputs.engine_type.trim();
    let has_endpoint = inputs
        .endpoint
        .as_deref()
        .is_some_and(|e| !e.trim().is_empty());
    if inputs.target.trim() != "local" || engine != "valkey" || has_endpoint {
        return Ok(());
    }
    let binary = crate::config::Engine::Valkey.server_binary();
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(binary).is_file()));
    if on_path {
        return Ok(());
    }
    Err(InputError::new(format!(
        "input 'engine_type' is 'valkey' on the local target, but this image has no {binary} \
         (only redis-server); run Valkey as a service container of the job and give its address \
         as input 'endpoint' (e.g. redis://valkey:6379), or use target 'aws'"
    )))
}

/// What to mask in an endpoint: its password, or, when it does not parse, everything before the
/// `@` (a malformed URL may still hold a password). Pure.
pub fn endpoint_secrets(endpoint: &str) -> Vec<String> {
    let e = endpoint.trim();
    if e.is_empty() {
        return Vec::new();
    }
    match parse_endpoint(e) {
        Ok(ep) => ep
            .password
            .map(|p| p.expose().to_string())
            .into_iter()
            .collect(),
        Err(_) => {
            let rest = e.split_once("://").map_or(e, |(_, r)| r);
            rest.rsplit_once('@')
                .map(|(userinfo, _)| {
                    let mut v = vec![userinfo.to_string()];
                    if let Some((_, p)) = userinfo.split_once(':') {
                        v.push(p.to_string());
                    }
                    v.retain(|s| !s.is_empty());
                    v
                })
                .unwrap_or_default()
        }
    }
}

/// Report a command's error inside Actions: close the open group and annotate (one line, escaped).
pub fn report_error(e: &anyhow::Error) {
    if in_actions() {
        commands::end_group();
        // Bad input names the input in the title too, so the annotation list says which.
        let input = e
            .chain()
            .find_map(|c| c.downcast_ref::<InputError>())
            .and_then(InputError::input);
        let title = input.map_or_else(
            || "elasticache-perf".to_string(),
            |i| format!("elasticache-perf: input {i}"),
        );
        commands::annotate(commands::Level::Error, Some(&title), &format!("{e:#}"));
    }
}

#[cfg(test)]
mod tests {
    use super::endpoint_secrets;

    #[test]
    fn masks_the_password_of_an_endpoint_even_a_malformed_one() {
        assert_eq!(
            endpoint_secrets("redis://u:s3cret@127.0.0.1:6379"),
            vec!["s3cret"]
        );
        assert_eq!(
            endpoint_secrets("redis://127.0.0.1:6379"),
            Vec::<String>::new()
        );
        assert_eq!(
            endpoint_secrets("redis://u:s3cret@host:notaport"),
            vec!["u:s3cret", "s3cret"]
        );
        assert!(endpoint_secrets("").is_empty());
    }
}
