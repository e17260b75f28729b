//! elasticache-perf: trustworthy performance numbers for managed Redis/Valkey caches.
//!
//! The pure core (memtier parsing, statistics, results, reports) takes data and returns data; the
//! edges (CLI, file system, servers, cloud) are thin. Only [`run()`] and `main` decide exit codes.

pub mod analyze;
pub mod aws;
pub mod cli;
pub mod client;
pub mod clock;
pub mod compare;
pub mod config;
pub mod error;
pub mod files;
pub mod gate;
pub mod github;
pub mod history;
pub mod loadgen;
pub mod local;
pub mod memtier;
pub mod outcome;
pub mod plan;
pub mod report;
pub mod results;
pub mod retry;
pub mod run;
pub mod stats;
pub mod workload;

use cli::{Cli, Command};

pub use error::InputError;
pub use outcome::{
    Outcome, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_REGRESSION, EXIT_RUN_FAILED,
};

/// The exit code for an error: 2 for bad input, 3 otherwise.
pub fn exit_code_for(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| c.downcast_ref::<InputError>().is_some()) {
        EXIT_BAD_INPUT
    } else {
        EXIT_RUN_FAILED
    }
}

/// Logs go to stderr, filtered by `ELASTICACHE_PERF_LOG` or `RUST_LOG` (default [`github::log::DEFAULT_FILTER`]).
pub fn init_logging() {
    let filter = std::env::var("ELASTICACHE_PERF_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| github::log::DEFAULT_FILTER.into());
    if github::in_actions() {
        // Inside GitHub Actions: groups per phase and annotations (`github::log`).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .event_format(github::log::ActionsFormat)
            .try_init();
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(
            std::env::var_os("NO_COLOR").is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        )
        .try_init();
}

/// Run a command.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Analyze(a) => analyze::command(&a),
        Command::Loadgen(a) => loadgen::command::run_command(&a),
        Command::Report(a) => analyze::report::command(&a),
        Command::Compare(a) => compare::command(&a),
        Command::Plan(a) => run::command::plan_command(&a),
        Command::Cleanup(a) => run::cleanup::cleanup_command(&a),
        Command::Sweep(a) => run::cleanup::sweep_command(&a),
        Command::Run(a) => run::command::run_command(*a),
        Command::Publish(a) => github::publish_command(&a),
        Command::Post => run::post::run(),
    }
}
