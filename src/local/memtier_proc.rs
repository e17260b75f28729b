//! Runs memtier_benchmark as a local load-generator process: outputs into the task's folder, a hard
//! timeout (memtier can hang forever, e.g. on a wrong password), SIGINT first so partial results are
//! written, SIGKILL if it still hangs. The outputs are then read like any other memtier outputs.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use nix::sys::signal::Signal;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::server::signal;
use crate::client::JudgedClient;
use crate::files::discover::{self, TaskSource};
use crate::memtier::command::MemtierCommand;
use crate::memtier::parse_task;

/// Time allowed after the test time before memtier is interrupted.
pub const GRACE: Duration = Duration::from_secs(10);
/// Time between SIGINT and SIGKILL.
pub const KILL_AFTER: Duration = Duration::from_secs(5);

/// Whether memtier_benchmark is on PATH.
pub fn available() -> bool {
    std::process::Command::new("memtier_benchmark")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Run one memtier process in `dir` and judge its outputs.
pub async fn run(
    id: &str,
    cmd: &MemtierCommand<'_>,
    dir: &Path,
    limit: Duration,
    cancel: CancellationToken,
) -> anyhow::Result<JudgedClient> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating '{}'", dir.display()))?;
    let stdout = std::fs::File::create(dir.join("stdout.txt"))?;
    let stderr = std::fs::File::create(dir.join("stderr.txt"))?;
    let mut child = Command::new("memtier_benchmark")
        .args(cmd.argv())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .context("starting memtier_benchmark")?;
    let pid = child.id();
    let status = tokio::select! {
        s = child.wait() => Some(s?),
        () = tokio::time::sleep(limit) => None,
        () = cancel.cancelled() => None,
    };
    let status = match status {
        Some(s) => s,
        None => {
            if let Some(pid) = pid {
                signal(pid, Signal::SIGINT);
            }
            match tokio::time::timeout(KILL_AFTER, child.wait()).await {
                Ok(s) => s?,
                Err(_) => {
                    child.kill().await.ok();
                    child.wait().await?
                }
            }
        }
    };
    let code = status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt as _;
        128 + status.signal().unwrap_or(0)
    });
    std::fs::write(dir.join("exit_code.txt"), format!("{code}\n"))?;
    let outputs = discover::load(&TaskSource::Dir(dir.to_path_buf()), id)?;
    parse_task(&outputs).with_context(|| format!("reading memtier outputs in '{}'", dir.display()))
}
