//! The file system's side of results: finding load generators' outputs on disk ([`discover`]),
//! and writing a run's output folder — `results.json` first (so nothing is lost), then the
//! reports, the metrics CSVs and the logs, in the export layout (`metrics/{cluster}.csv`,
//! `logs/{cluster}.txt`, `results.json`, `chart.png`, `summary.md`).

pub mod discover;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::results::{Phase, RunResult};

/// Write `results.json` into `dir` (created if missing); returns its path.
pub fn write_results(result: &RunResult, dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating output folder '{}'", dir.display()))?;
    let path = dir.join("results.json");
    let body = serde_json::to_vec_pretty(result).context("serialising results")?;
    std::fs::write(&path, body).with_context(|| format!("writing '{}'", path.display()))?;
    Ok(path)
}

/// Write everything, with the run's timeline stored in the result first.
pub fn write_all(
    result: &mut RunResult,
    dir: &Path,
    cluster: &str,
    log: &str,
    timeline: Vec<Phase>,
) -> anyhow::Result<()> {
    result.timeline = timeline;
    write_results(result, dir)?;
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating '{}'", logs.display()))?;
    let log_path = logs.join(format!("{cluster}.txt"));
    std::fs::write(&log_path, log).with_context(|| format!("writing '{}'", log_path.display()))?;
    write_reports(result, dir, cluster)
}

/// Render and write the reports (summary, chart, CSVs) of a result into `dir`.
pub fn write_reports(result: &RunResult, dir: &Path, cluster: &str) -> anyhow::Result<()> {
    for (rel, bytes) in crate::report::render_all(result, cluster)? {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating '{}'", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("writing '{}'", path.display()))?;
    }
    Ok(())
}
