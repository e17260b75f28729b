//! The workspace as the steps after ours see it. GitHub runs a container action as root, while
//! the job's other steps run as the runner's user (uid 1001 on hosted runners): what the action
//! writes into the workspace is handed to the workspace's owner when it ends (actions/runner#1282),
//! and paths outside the workspace, which vanish with the container, are refused up front.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use crate::config::workspace::{inside_workspace, lexical};
use crate::config::RunInputs;
use crate::error::InputError;
use crate::history::BaselineSource;

/// The folder `sweep` writes its ledgers to (its `--out` default; not an action input).
const SWEEP_DIR: &str = "elasticache-perf-sweep";

/// `GITHUB_WORKSPACE` and the working directory, inside Actions.
fn workspace() -> Option<(PathBuf, PathBuf)> {
    if !super::in_actions() {
        return None;
    }
    let ws = std::env::var_os("GITHUB_WORKSPACE").filter(|w| !w.is_empty())?;
    let cwd = std::env::current_dir().ok()?;
    Some((PathBuf::from(ws), cwd))
}

fn check(input: &'static str, value: &str) -> Result<(), InputError> {
    match workspace() {
        Some((ws, cwd)) => inside_workspace(input, value, &cwd, &ws).map_err(InputError::from),
        None => Ok(()),
    }
}

/// Inside Actions: refuse an `output_dir`, `history_dir` or baseline path outside the workspace.
pub fn check_run_paths(inputs: &RunInputs) -> Result<(), InputError> {
    check("output_dir", &inputs.output_dir)?;
    check("history_dir", inputs.history_dir.as_deref().unwrap_or(""))?;
    if let Some(b) = inputs.gate.baseline.as_deref() {
        // Only a file or folder is a path; `history` and `s3://…` are not.
        if let Ok(BaselineSource::Path(_)) = BaselineSource::parse(b) {
            check("baseline", b)?;
        }
    }
    Ok(())
}

/// Inside Actions: refuse a `results_path` outside the workspace.
pub fn check_results_path(path: &Path) -> Result<(), InputError> {
    check("results_path", &path.to_string_lossy())
}

/// At the end of the action (main or post step, success, error or interrupt): give every entry
/// owned by root under the folders the action writes (`output_dir`, `history_dir`, the sweep's
/// folder, each from its top folder below the workspace, which the run may have created) to the
/// owner of `GITHUB_WORKSPACE`. Symbolic links are changed themselves, never followed. Does
/// nothing outside Actions, when the workspace belongs to root, or when nothing was written;
/// failures are logged, never fatal.
pub fn hand_back() {
    let Some((ws, cwd)) = workspace() else {
        return;
    };
    let ws = lexical(&ws, Path::new("/"));
    let Ok(meta) = std::fs::metadata(&ws) else {
        return;
    };
    let (uid, gid) = (meta.uid(), meta.gid());
    if uid == 0 {
        return;
    }
    let mut tops: Vec<PathBuf> = Vec::new();
    let written = [
        std::env::var("INPUT_OUTPUT_DIR").unwrap_or_default(),
        std::env::var("INPUT_HISTORY_DIR").unwrap_or_default(),
        SWEEP_DIR.to_string(),
    ];
    for p in written.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let Ok(rel) = lexical(Path::new(p), &cwd)
            .strip_prefix(&ws)
            .map(Path::to_path_buf)
        else {
            continue;
        };
        let top = rel
            .components()
            .next()
            .map_or_else(|| ws.clone(), |c| ws.join(c));
        if !tops.contains(&top) {
            tops.push(top);
        }
    }
    let mut failed = 0usize;
    for top in &tops {
        failed += give(top, uid, gid);
    }
    if failed > 0 {
        tracing::warn!(
            "could not give {failed} file(s) in the workspace to uid {uid}; later steps may not write to them"
        );
    }
}

/// Give `path` and everything below it that root owns to `uid:gid`; returns how many failed.
fn give(path: &Path, uid: u32, gid: u32) -> usize {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    let mut failed = 0;
    if meta.uid() == 0 {
        if let Err(e) = std::os::unix::fs::lchown(path, Some(uid), Some(gid)) {
            tracing::debug!("chown {uid}:{gid} '{}': {e}", path.display());
            failed += 1;
        }
    }
    if meta.is_dir() {
        match std::fs::read_dir(path) {
            Ok(entries) => {
                for e in entries.flatten() {
                    failed += give(&e.path(), uid, gid);
                }
            }
            Err(e) => {
                tracing::debug!("listing '{}': {e}", path.display());
                failed += 1;
            }
        }
    }
    failed
}
