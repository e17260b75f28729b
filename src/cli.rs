//! Command-line interface: subcommands and flags. Every flag can also come from the action input
//! of the same snake_case name (`INPUT_<NAME>`).

use clap::{Parser, Subcommand};

use crate::analyze::{report::ReportArgs, AnalyzeArgs};
use crate::compare::CompareArgs;
use crate::github::PublishArgs;
use crate::run::cleanup::{CleanupArgs, SweepArgs};
use crate::run::command::{PlanArgs, RunArgs};

/// Trustworthy performance numbers for managed Redis/Valkey caches.
#[derive(Debug, Parser)]
#[command(name = "elasticache-perf", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
// `run`'s inputs make its variant large; the enum is built once per process, so boxing would
// only add noise at every use.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build results.json from memtier outputs you already have (one folder or file per load
    /// generator, or a parent folder of several).
    Analyze(AnalyzeArgs),
    /// Run the built-in load generator against one server (a developer tool, for benchmarking the
    /// generator itself and for quick local measurements).
    #[command(hide = true)]
    Loadgen(crate::loadgen::command::LoadgenArgs),
    /// Run a benchmark: start (or use) a server, run the load generators, merge and report.
    Run(Box<RunArgs>),
    /// Show what an AWS run would create (names, tags, parameters, the memtier command line with
    /// the token redacted) and its cost estimate, without calling AWS. Fails when the estimate
    /// exceeds max_cost_usd.
    Plan(Box<PlanArgs>),
    /// Finish deleting what an AWS run created (a run that was interrupted or killed): everything
    /// in its ledger and everything tagged with its run id, waiting where AWS requires; then check
    /// that nothing of it is left. Safe to run twice.
    Cleanup(CleanupArgs),
    /// Delete everything elasticache-perf created whose expiry has passed (all runs, all resource
    /// types, in dependency order) — meant for a scheduled workflow.
    Sweep(SweepArgs),
    /// Re-render the reports (summary.md, chart.png, CSVs) from a results.json.
    Report(ReportArgs),
    /// Gate a results.json against a baseline: exit 0 pass (no change, improved or inconclusive),
    /// 1 regression (with --fail-on-regression), 2 bad input or a profile mismatch.
    Compare(CompareArgs),
    /// Publish a results.json inside GitHub Actions: step outputs, job summary and the PR comment
    /// (the fork-safe `workflow_run` pattern).
    Publish(PublishArgs),
    /// The GitHub Action's post step: clean up from the state the main step saved.
    #[command(hide = true)]
    Post,
}

/// The executable name of the action's main entrypoint: runs the command in input `command`.
pub const ACTION_ENTRYPOINT: &str = "elasticache-perf-action";
/// The executable name of the action's post entrypoint: runs `post`.
pub const POST_ENTRYPOINT: &str = "elasticache-perf-post";
/// The commands the action's `command` input may name, the default first.
pub const ACTION_COMMANDS: [&str; 4] = ["run", "publish", "cleanup", "sweep"];

/// The arguments to parse. A container action's entrypoint takes no arguments, so the image has
/// one path per entrypoint (links to this binary) and the name it was started under says what to
/// do: [`ACTION_ENTRYPOINT`] runs input `command` (`INPUT_COMMAND`, default `run`),
/// [`POST_ENTRYPOINT`] runs `post`. Any other name, or any argument, is an ordinary command line.
pub fn invocation_args(
    args: Vec<std::ffi::OsString>,
    input_command: Option<&str>,
) -> Result<Vec<std::ffi::OsString>, String> {
    let name = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    if args.len() != 1 {
        return Ok(args);
    }
    let command = match name {
        ACTION_ENTRYPOINT => {
            let c = input_command.map(str::trim).filter(|c| !c.is_empty());
            let c = c.unwrap_or(ACTION_COMMANDS[0]);
            if !ACTION_COMMANDS.contains(&c) {
                return Err(format!(
                    "input 'command' must be one of {}; got '{c}'",
                    ACTION_COMMANDS.join(", ")
                ));
            }
            c.to_string()
        }
        POST_ENTRYPOINT => "post".to_string(),
        _ => return Ok(args),
    };
    Ok(vec![args[0].clone(), command.into()])
}

impl Cli {
    /// Parse this process's command line (see [`invocation_args`]). A wrong one, and `--help` or
    /// `--version`, come back as clap's error, which `main` prints and exits with (usage: 2).
    pub fn parse_invocation() -> Result<Self, clap::Error> {
        use clap::{CommandFactory as _, Parser as _};
        let input = std::env::var("INPUT_COMMAND").ok();
        match invocation_args(std::env::args_os().collect(), input.as_deref()) {
            Ok(args) => Self::try_parse_from(args),
            Err(msg) => Err(Self::command().error(clap::error::ErrorKind::InvalidValue, msg)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    fn os(v: &[&str]) -> Vec<std::ffi::OsString> {
        v.iter().map(Into::into).collect()
    }

    #[test]
    fn the_action_entrypoints_pick_their_command() {
        let run = invocation_args(os(&["/usr/local/bin/elasticache-perf-action"]), None);
        assert_eq!(
            run.unwrap(),
            os(&["/usr/local/bin/elasticache-perf-action", "run"])
        );
        let publish = invocation_args(os(&["elasticache-perf-action"]), Some(" publish "));
        assert_eq!(
            publish.unwrap(),
            os(&["elasticache-perf-action", "publish"])
        );
        let post = invocation_args(os(&["/x/elasticache-perf-post"]), Some("run"));
        assert_eq!(post.unwrap(), os(&["/x/elasticache-perf-post", "post"]));
        let sweep = invocation_args(os(&["elasticache-perf-action"]), Some("sweep"));
        assert_eq!(sweep.unwrap(), os(&["elasticache-perf-action", "sweep"]));
        let bad = invocation_args(os(&["elasticache-perf-action"]), Some("destroy"));
        assert!(bad.unwrap_err().contains("input 'command'"));
    }

    #[test]
    fn other_invocations_are_left_alone() {
        let plain = os(&["elasticache-perf"]);
        assert_eq!(
            invocation_args(plain.clone(), Some("publish")).unwrap(),
            plain
        );
        let with_args = os(&["elasticache-perf-action", "run", "--help"]);
        assert_eq!(invocation_args(with_args.clone(), None).unwrap(), with_args);
    }
}
