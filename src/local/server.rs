//! A redis-server or valkey-server started for one run: on a free loopback port, persistence off, in
//! a temporary folder, stopped at the end (also on error and Ctrl-C: dropping it kills the process).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use tokio::process::{Child, Command};

use super::conn::Conn;
use crate::config::Engine;

/// How long a started server may take to answer PING.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A server process this run started.
#[derive(Debug)]
pub struct LocalServer {
    child: Child,
    /// Port on 127.0.0.1.
    pub port: u16,
    /// Where its log goes.
    pub log_path: PathBuf,
    _dir: tempfile::TempDir,
}

/// A free TCP port on 127.0.0.1 (the listener is closed before the server binds it).
pub fn free_port() -> anyhow::Result<u16> {
    let l =
        std::net::TcpListener::bind(("127.0.0.1", 0)).context("finding a free loopback port")?;
    Ok(l.local_addr()?.port())
}

/// Send a signal to a process; a process that is already gone is fine.
pub fn signal(pid: u32, sig: nix::sys::signal::Signal) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
    }
}

async fn wait_ready(
    child: &mut Child,
    port: u16,
    log_path: &std::path::Path,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(log_path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(3).collect();
            bail!(
                "the server exited at start ({status}): {}",
                tail.join(" | ")
            );
        }
        if Conn::open("127.0.0.1", port, None, None, Duration::from_millis(500))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if started.elapsed() > START_TIMEOUT {
            bail!(
                "the server did not answer PING within {} s",
                START_TIMEOUT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl LocalServer {
    /// Start the engine's server from PATH and wait until it answers.
    pub async fn start(engine: Engine) -> anyhow::Result<Self> {
        let bin = engine.server_binary();
        let dir = tempfile::Builder::new()
            .prefix("elasticache-perf-server-")
            .tempdir()
            .context("creating a temporary folder for the server")?;
        let log_path = dir.path().join("server.log");
        let mut last_err = None;
        // A port found free can be taken before the server binds it: try a few.
        for _ in 0..5 {
            let port = free_port()?;
            let spawned = Command::new(bin)
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .args(["--protected-mode", "no", "--daemonize", "no"])
                .arg("--dir")
                .arg(dir.path())
                .arg("--logfile")
                .arg(&log_path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn();
            let mut child = match spawned {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                    "'{bin}' is not on PATH: install it (Debian: apt-get install {bin}) or give --endpoint redis://host:port"
                ),
                Err(e) => return Err(e).with_context(|| format!("starting {bin}")),
            };
            match wait_ready(&mut child, port, &log_path).await {
                Ok(()) => {
                    return Ok(Self {
                        child,
                        port,
                        log_path,
                        _dir: dir,
                    })
                }
                Err(e) => {
                    let _ = child.kill().await;
                    last_err = Some(e);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("{bin} did not start")))
    }

    /// Whether the process has exited (and how).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stop the server (SIGTERM, then SIGKILL after 5 s) and wait for it.
    pub async fn stop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        if let Some(pid) = self.child.id() {
            // SIGTERM lets the server exit cleanly; the kill below is the fallback.
            signal(pid, nix::sys::signal::Signal::SIGTERM);
        }
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}
