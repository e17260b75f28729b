//! The `analyze` command: read load generators' outputs from disk, parse and judge them in
//! parallel, merge, and write `results.json`.

pub mod discover;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::Context as _;

use crate::client::JudgedClient;
use crate::error::InputError;
use crate::memtier::{self, ParseError};
use crate::results::{self, BuildOptions, RunResult};
use crate::stats::window::WindowSpec;

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

/// Write `results.json` into `dir` (created if missing); returns its path.
pub fn write_results(result: &RunResult, dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating output folder '{}'", dir.display()))?;
    let path = dir.join("results.json");
    let body = serde_json::to_vec_pretty(result).context("serialising results")?;
    std::fs::write(&path, body).with_context(|| format!("writing '{}'", path.display()))?;
    Ok(path)
}
