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
use stats::window::WindowSpec;

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
        Command::Analyze(a) => {
            let req = analyze::AnalyzeRequest {
                paths: a.paths,
                out_dir: a.out,
                window: WindowSpec {
                    warmup_secs: a.window.warmup_seconds,
                    rampdown_secs: a.window.rampdown_seconds,
                },
            };
            let result = analyze::analyze(&req)?;
            if !a.no_reports {
                run::output::write_reports(&result, &req.out_dir, "analyze")?;
            }
            #[allow(clippy::print_stdout)]
            {
                print!("{}", report::text::render(&result));
                println!("results: {}", req.out_dir.join("results.json").display());
            }
            Ok(if result.status == "failed" {
                Outcome::RunFailed
            } else {
                Outcome::Ok
            })
        }
        Command::Loadgen(a) => loadgen::command::run_command(&a),
        Command::Report(a) => {
            let text = std::fs::read_to_string(&a.results).map_err(|e| {
                InputError::new(format!("cannot read '{}': {e}", a.results.display()))
            })?;
            let result: results::RunResult = serde_json::from_str(&text).map_err(|e| {
                InputError::new(format!(
                    "'{}' is not an elasticache-perf results.json: {e}",
                    a.results.display()
                ))
            })?;
            if result.schema != results::SCHEMA_ID {
                return Err(InputError::new(format!(
                    "'{}' has schema '{}'; this version reads '{}'",
                    a.results.display(),
                    result.schema,
                    results::SCHEMA_ID
                ))
                .into());
            }
            let dir = a
                .out
                .clone()
                .or_else(|| a.results.parent().map(std::path::Path::to_path_buf))
                .unwrap_or_default();
            let cluster = result.run.id.clone().unwrap_or_else(|| "results".into());
            run::output::write_reports(&result, &dir, &cluster)?;
            #[allow(clippy::print_stdout)]
            {
                println!("reports written to {}", dir.display());
            }
            Ok(Outcome::Ok)
        }
        Command::Compare(a) => {
            let (_, shown, outcome) = compare::run_compare(&a)?;
            #[allow(clippy::print_stdout)]
            {
                print!("{shown}");
            }
            Ok(outcome)
        }
        Command::Plan(a) => plan_command(&a),
        Command::Cleanup(a) => run::cleanup::cleanup_command(&a),
        Command::Sweep(a) => run::cleanup::sweep_command(&a),
        Command::Run(mut a) => {
            github::prepare(&mut a.inputs)?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))?;
            let (results, outcome) = rt.block_on(run::run(&a.inputs))?;
            #[allow(clippy::print_stdout)]
            {
                for result in &results {
                    if let Some(w) = result
                        .run
                        .details
                        .get("workload_name")
                        .and_then(|w| w.as_str())
                    {
                        println!("== workload {w}");
                    }
                    print!("{}", report::text::render(result));
                }
                println!("outputs: {}", a.inputs.output_dir);
            }
            Ok(outcome)
        }
        Command::Publish(a) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))?
            .block_on(github::publish_file(&a.results_path, &a.github)),
        Command::Post => run::post::run(),
    }
}

/// Fill `aws_region` from `AWS_REGION` / `AWS_DEFAULT_REGION` when the user gave none (the one
/// environment default that the pure validation cannot read itself).
pub fn fill_region_from_env(inputs: &mut config::RunInputs) {
    if inputs
        .aws_region
        .as_deref()
        .is_none_or(|r| r.trim().is_empty())
    {
        inputs.aws_region = std::env::var("AWS_REGION")
            .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            .ok()
            .filter(|r| !r.trim().is_empty());
    }
}

/// Validate, plan and print an AWS run; fail (bad input) when it is over budget.
fn plan_command(a: &cli::PlanArgs) -> anyhow::Result<Outcome> {
    let mut inputs = a.inputs.clone();
    inputs.target = "aws".into();
    fill_region_from_env(&mut inputs);
    config::Config::from_inputs(&inputs).map_err(|e| InputError::new(e.to_string()))?;
    let workloads = run::settings::load(&inputs)?;
    let total = workloads
        .as_deref()
        .map(|ws| run::settings::provisioning_inputs(&inputs, ws));
    let cfg = config::Config::from_inputs(total.as_ref().unwrap_or(&inputs))
        .map_err(|e| InputError::new(e.to_string()))?;
    let run_id = cfg.run_id.clone().unwrap_or_else(clock::new_run_id);
    let now_unix_ms = clock::now_ms();
    let repository = std::env::var("GITHUB_REPOSITORY").ok();
    let p = plan::plan(
        &cfg,
        &plan::PlanContext {
            run_id: &run_id,
            now_unix_ms,
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
            t.push_str(&run::settings::plan_text(ws));
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
