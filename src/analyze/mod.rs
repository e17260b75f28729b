//! The `analyze` command: read load generators' outputs from disk, parse and judge them in
//! parallel, merge, write `results.json` and the reports, and print the headline. The `report`
//! command, which re-renders the reports of a `results.json`, is [`report`].

pub mod report;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use clap::Args;

use crate::client::JudgedClient;
use crate::error::InputError;
use crate::files::write_reports;
use crate::files::{discover, write_results};
use crate::memtier::{self, ParseError};
use crate::outcome::Outcome;
use crate::results::{self, BuildOptions, RunResult};
use crate::stats::window::WindowSpec;

/// `analyze` flags.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Load generators' output folders, parents of several, or single files (JSON, stdout, log).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output folder for results.json.
    #[arg(
        long,
        value_name = "DIR",
        env = "INPUT_OUTPUT_DIR",
        default_value = "elasticache-perf-results"
    )]
    pub out: PathBuf,
    /// Steady-state window.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Write only results.json (no summary.md, chart.png or CSVs).
    #[arg(long)]
    pub no_reports: bool,
}

/// Steady-state window trimming.
#[derive(Debug, Args, Clone)]
pub struct WindowArgs {
    /// Seconds of warm-up dropped from the steady-state window (default: 10 % of the run, 1–60 s).
    #[arg(long, env = "INPUT_WARMUP_SECONDS")]
    pub warmup_seconds: Option<u32>,
    /// Seconds of ramp-down dropped from the end of the steady-state window.
    #[arg(long, env = "INPUT_RAMPDOWN_SECONDS", default_value_t = 1)]
    pub rampdown_seconds: u32,
}

/// What `analyze` needs.
#[derive(Debug, Clone)]
pub struct AnalyzeRequest {
    /// Task folders, parents of task folders, or single files.
    pub paths: Vec<PathBuf>,
    /// Where `results.json` goes.
    pub out_dir: PathBuf,
    /// Warm-up and ramp-down trimming.
    pub window: WindowSpec,
}

/// Parse and judge every task, in parallel over the machine's cores, keeping the order.
pub fn judge_all(paths: &[PathBuf]) -> anyhow::Result<Vec<JudgedClient>> {
    let sources = discover::discover(paths)?;
    let ids = discover::task_ids(&sources);
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(sources.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<anyhow::Result<JudgedClient>>>> =
        Mutex::new((0..sources.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(src) = sources.get(i) else { break };
                let r = discover::load(src, &ids[i]).and_then(|outputs| {
                    memtier::parse_task(&outputs).map_err(|e| match e {
                        ParseError::NotMemtier(why) => InputError::new(format!(
                            "'{}' is not memtier output: {why}",
                            src.path().display()
                        ))
                        .into(),
                        other => anyhow::Error::new(other)
                            .context(format!("reading '{}'", src.path().display())),
                    })
                });
                if let Ok(mut g) = slots.lock() {
                    g[i] = Some(r);
                }
            });
        }
    });
    let slots = slots
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a parser thread panicked"))?;
    slots
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("a parser thread panicked"))))
        .collect()
}

/// Run `analyze`: returns the result after writing `out_dir/results.json`.
pub fn analyze(req: &AnalyzeRequest) -> anyhow::Result<RunResult> {
    let judged = judge_all(&req.paths)?;
    let result = results::build(
        &judged,
        &BuildOptions {
            target: "analyze".into(),
            run_id: None,
            window: req.window,
        },
    );
    write_results(&result, &req.out_dir)?;
    Ok(result)
}

/// The `analyze` command: analyze, write the reports unless `--no-reports`, print the headline.
pub fn command(a: &AnalyzeArgs) -> anyhow::Result<Outcome> {
    let req = AnalyzeRequest {
        paths: a.paths.clone(),
        out_dir: a.out.clone(),
        window: WindowSpec {
            warmup_secs: a.window.warmup_seconds,
            rampdown_secs: a.window.rampdown_seconds,
        },
    };
    let result = analyze(&req)?;
    if !a.no_reports {
        write_reports(&result, &req.out_dir, "analyze")?;
    }
    #[allow(clippy::print_stdout)]
    {
        print!("{}", crate::report::text::render(&result));
        println!("results: {}", req.out_dir.join("results.json").display());
    }
    Ok(if result.status == crate::results::RunStatus::Failed {
        Outcome::RunFailed
    } else {
        Outcome::Ok
    })
}
