//! The local target: a redis-server/valkey-server on this machine (started here, or one given by
//! `--endpoint`), `loadgen_task_count` load generators in parallel (memtier_benchmark when on PATH,
//! else the built-in one), `INFO` sampled once a second as server metrics, and everything handed to
//! the same merge as the AWS target. The server it started is stopped on every path.

pub mod conn;
mod generator;
pub mod info;
pub mod memtier_proc;
mod progress;
pub mod sampler;
pub mod server;

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::client::JudgedClient;
use crate::config::{Config, Endpoint, LoadgenChoice};
use crate::error::InputError;
use crate::loadgen::{self, KeyPattern as LgPattern, Stop};
use crate::memtier::command::Mode;
use crate::results::server::ServerMetrics;
use crate::results::timeline::Timeline;
use conn::{Conn, ConnError};
use generator::{
    builtin_config, builtin_description, memtier_command, seed, use_memtier, CONNECT_TIMEOUT,
};
use server::LocalServer;

/// What a local run produced, before reports.
#[derive(Debug)]
pub struct LocalOutcome {
    /// Judged load generators.
    pub judged: Vec<JudgedClient>,
    /// Server metrics sampled during the load.
    pub server: ServerMetrics,
    /// The server's command counter at every snapshot: `(unix ms, total_commands_processed)`.
    pub server_counters: Vec<(u64, u64)>,
    /// Engine name and version as the server reports them.
    pub engine_version: Option<String>,
    /// The load generator used, e.g. `memtier_benchmark` or `builtin`.
    pub loadgen: String,
    /// The exact command line of each generator (secrets redacted).
    pub command: String,
    /// Why the run failed although it produced results (e.g. the server died mid-run).
    pub failure: Option<String>,
    /// Whether a signal cut the run short.
    pub interrupted: bool,
    /// Text logs: server log tail and each generator's errors.
    pub log: String,
}

/// Run the local target. The server it starts is stopped before this returns, also on error.
pub async fn run(
    cfg: &Config,
    run_id: &str,
    out_dir: &Path,
    cancel: CancellationToken,
    tl: &mut Timeline,
) -> anyhow::Result<LocalOutcome> {
    let (mut all, failed) = run_matrix(&[(None, cfg)], false, run_id, out_dir, cancel, tl).await?;
    if let Some(e) = failed {
        return Err(e);
    }
    all.pop()
        .ok_or_else(|| anyhow::anyhow!("the local run ended without an outcome"))
}

/// One workload of a local run: its name (`None` alone, outside a matrix) and configuration.
pub type LocalWorkload<'a> = (Option<&'a str>, &'a Config);

/// Run workloads one after another against one server (started once from the first workload's
/// configuration, or the endpoint it names), emptying it between them when `flush_between`; each
/// workload's raw files go to `out_dir/<name>/`. A signal ends the matrix after the workload it
/// interrupted; a workload that fails to start ends it, and its error comes back beside the
/// outcomes of the workloads before it. The server it starts is stopped before this returns, also
/// on error.
pub async fn run_matrix(
    workloads: &[LocalWorkload<'_>],
    flush_between: bool,
    run_id: &str,
    out_dir: &Path,
    cancel: CancellationToken,
    tl: &mut Timeline,
) -> anyhow::Result<(Vec<LocalOutcome>, Option<anyhow::Error>)> {
    let Some((_, first)) = workloads.first() else {
        return Ok((Vec::new(), None));
    };
    for (_, cfg) in workloads {
        if cfg.loadgen != LoadgenChoice::Memtier {
            // The built-in generator's own rules (e.g. pattern P needs a key per connection) are
            // checked before a server is started.
            let probe = Endpoint {
                host: "127.0.0.1".into(),
                port: 1,
                username: None,
                password: None,
            };
            builtin_config(
                cfg,
                &probe,
                "task-1".into(),
                0,
                Stop::Duration(cfg.duration),
            )
            .validate()
            .map_err(|e| InputError::new(e.to_string()))?;
        }
    }
    tl.phase("provision server");
    let mut started = None;
    let endpoint = match &first.endpoint {
        Some(ep) => ep.clone(),
        None => {
            let s = LocalServer::start(first.engine).await?;
            tracing::info!(
                "started {} on 127.0.0.1:{}",
                first.engine.server_binary(),
                s.port
            );
            let ep = Endpoint {
                host: "127.0.0.1".into(),
                port: s.port,
                username: None,
                password: None,
            };
            started = Some(s);
            ep
        }
    };
    let mut outcomes = Vec::with_capacity(workloads.len());
    let mut failed = None;
    for (n, (name, cfg)) in workloads.iter().enumerate() {
        if cancel.is_cancelled() {
            break;
        }
        let dir = name.map_or_else(|| out_dir.to_path_buf(), |w| out_dir.join(w));
        if let Some(w) = name {
            tracing::info!("workload {}/{}: {w}", n + 1, workloads.len());
            if flush_between && n > 0 {
                tl.phase("flush");
                if let Err(e) = flush(&endpoint).await {
                    failed = Some(e.context(format!("emptying the server before workload '{w}'")));
                    break;
                }
            }
        }
        let r = run_against(
            cfg,
            run_id,
            &endpoint,
            &dir,
            cancel.clone(),
            tl,
            started.as_mut(),
        )
        .await;
        match r {
            Ok(o) => outcomes.push(o),
            Err(e) => {
                failed = Some(match name {
                    Some(w) => e.context(format!("workload '{w}'")),
                    None => e,
                });
                break;
            }
        }
    }
    if let Some(mut s) = started {
        tl.phase("stop server");
        s.stop().await;
        if let Some(o) = outcomes.last_mut() {
            o.log.push_str(&server_log_tail(&s));
        }
    }
    Ok((outcomes, failed))
}

/// Empty the server (FLUSHALL) between two workloads.
async fn flush(ep: &Endpoint) -> anyhow::Result<()> {
    let mut c = Conn::open(
        &ep.host,
        ep.port,
        ep.username.as_deref(),
        ep.password.as_ref(),
        CONNECT_TIMEOUT,
    )
    .await?;
    c.cmd(&[b"FLUSHALL"]).await?;
    tracing::info!("emptied the server (FLUSHALL)");
    Ok(())
}

fn server_log_tail(s: &LocalServer) -> String {
    let text = std::fs::read_to_string(&s.log_path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(40)..];
    format!(
        "\n== server log (last {} lines)\n{}\n",
        tail.len(),
        tail.join("\n")
    )
}

/// Load a server that is up: check the connection, choose the load generator, prefill when asked,
/// run the tasks while sampling the server, and collect what they and the server said.
async fn run_against(
    cfg: &Config,
    run_id: &str,
    ep: &Endpoint,
    out_dir: &Path,
    cancel: CancellationToken,
    tl: &mut Timeline,
    mut server: Option<&mut LocalServer>,
) -> anyhow::Result<LocalOutcome> {
    tl.phase("check connection");
    let (mut control, engine_version) = check_connection(cfg, ep).await?;

    let use_memtier = use_memtier(cfg)?;
    let loadgen_name = if use_memtier {
        "memtier_benchmark"
    } else {
        "builtin"
    }
    .to_string();
    tracing::info!("load generator: {loadgen_name}, {} task(s)", cfg.task_count);
    let secs = cfg.duration.as_secs().max(1);
    let raw = out_dir.join("raw");
    let command = if use_memtier {
        memtier_command(ep, &cfg.workload, Mode::Timed(secs), "memtier").display()
    } else {
        builtin_description(cfg, ep, secs)
    };

    if cfg.prefill && !cancel.is_cancelled() {
        tl.phase("prefill");
        prefill(cfg, ep, use_memtier, &raw, run_id, cancel.clone()).await?;
        let keys = control.cmd(&[b"DBSIZE"]).await.ok();
        tracing::info!("prefill done: DBSIZE {keys:?}");
    }
    drop(control);

    tl.phase("load");
    let sampler = sampler::Sampler::spawn(ep.clone());
    sampler.ready().await;
    let load_cancel = cancel.child_token();
    let (mut set, progress_rx) = spawn_tasks(cfg, ep, run_id, &raw, use_memtier, &load_cancel);

    let Waited {
        mut results,
        first_error,
        mut interrupted,
        mut failure,
    } = wait_tasks(
        cfg,
        &mut set,
        (&cancel, &load_cancel),
        &sampler,
        server.as_deref_mut(),
        &progress_rx,
    )
    .await;
    // A signal that came before the load (or raced its end) still makes this an interrupted run.
    interrupted |= cancel.is_cancelled();
    // A server that died takes the load generators' connections with it, and they may end before
    // the sampler notices: ask the server directly whether it is still there.
    if failure.is_none() && !interrupted {
        let alive = Conn::open(
            &ep.host,
            ep.port,
            ep.username.as_deref(),
            ep.password.as_ref(),
            Duration::from_secs(2),
        )
        .await;
        if let Err(e) = alive {
            let exited = server.and_then(LocalServer::exited);
            failure = Some(match exited {
                Some(status) => format!("the server exited mid-run ({status})"),
                None => format!("the server stopped answering mid-run ({e})"),
            });
        }
    }
    tl.phase("collect");
    let seen = sampler.finish().await;
    if let (Some(f), Some(down)) = (&mut failure, &seen.down) {
        f.push_str(&format!("; {down}"));
    }
    if let Some(e) = first_error {
        if results.is_empty() {
            return Err(e);
        }
        failure.get_or_insert_with(|| format!("{e:#}"));
    }
    results.sort_by_key(|(i, _)| *i);
    let judged: Vec<JudgedClient> = results.into_iter().map(|(_, j)| j).collect();
    let log = task_logs(&judged, &raw);
    Ok(LocalOutcome {
        judged,
        server: ServerMetrics {
            source: "redis-info".into(),
            interval_secs: 1,
            nodes: vec![crate::results::server::NodeMetrics {
                node: format!("{}:{}", ep.host, ep.port),
                samples: seen.samples,
            }],
        },
        server_counters: seen.counters,
        engine_version,
        loadgen: loadgen_name,
        command,
        failure,
        interrupted,
        log,
    })
}

/// Connect to the server (its credentials refused are the input's error) and read its engine and
/// version from INFO; returns the connection for later checks.
async fn check_connection(cfg: &Config, ep: &Endpoint) -> anyhow::Result<(Conn, Option<String>)> {
    let mut control = match Conn::open(&ep.host, ep.port, ep.username.as_deref(), ep.password.as_ref(), CONNECT_TIMEOUT).await {
        Ok(c) => c,
        Err(ConnError::Auth { addr, reply }) => {
            return Err(InputError::new(format!(
                "input 'endpoint': the server at {addr} refused the credentials ({reply}); check the user and password"
            ))
            .into())
        }
        Err(e) => return Err(anyhow::Error::new(e).context("connecting to the server")),
    };
    let info_text = control.info().await.context("reading INFO")?;
    let first = info::parse(&info_text, 0);
    let engine_version = first.version.as_ref().map(|v| {
        format!(
            "{} {v}",
            first.server_name.as_deref().unwrap_or(cfg.engine.as_str())
        )
    });
    Ok((control, engine_version))
}

/// The load's tasks, as they end: each task's index and its verdict.
type Tasks = JoinSet<(u32, anyhow::Result<JudgedClient>)>;

/// Start the `loadgen_task_count` tasks, memtier processes or built-in ones (with their progress
/// channels), each with a token of the load's.
fn spawn_tasks(
    cfg: &Config,
    ep: &Endpoint,
    run_id: &str,
    raw: &Path,
    use_memtier: bool,
    load_cancel: &CancellationToken,
) -> (Tasks, Vec<tokio::sync::watch::Receiver<loadgen::Progress>>) {
    let secs = cfg.duration.as_secs().max(1);
    let mut set: Tasks = JoinSet::new();
    let mut progress_rx = Vec::new();
    for i in 1..=cfg.task_count {
        let id = format!("task-{i}");
        let token = load_cancel.clone();
        if use_memtier {
            let dir = raw.join(&id);
            let (ep, w) = (ep.clone(), cfg.workload.clone());
            let limit = Duration::from_secs(secs) + memtier_proc::GRACE;
            set.spawn(async move {
                let prefix = dir.join("memtier").display().to_string();
                let cmd = memtier_command(&ep, &w, Mode::Timed(secs), &prefix);
                (i, memtier_proc::run(&id, &cmd, &dir, limit, token).await)
            });
        } else {
            let lc = builtin_config(cfg, ep, id, seed(run_id, i), Stop::Duration(cfg.duration));
            let (tx, rx) = tokio::sync::watch::channel(loadgen::Progress::default());
            progress_rx.push(rx);
            set.spawn(async move {
                (
                    i,
                    loadgen::run(&lc, token, Some(tx))
                        .await
                        .map(loadgen::verdict::judge),
                )
            });
        }
    }
    (set, progress_rx)
}

/// How the wait for the tasks ended: their verdicts, the first error, whether a signal came, and
/// why the run failed (the server went away).
struct Waited {
    results: Vec<(u32, JudgedClient)>,
    first_error: Option<anyhow::Error>,
    interrupted: bool,
    failure: Option<String>,
}

/// Wait for the tasks, reporting progress: a task's error, a signal or the server going away ends
/// the others through the load's token.
async fn wait_tasks(
    cfg: &Config,
    set: &mut Tasks,
    (cancel, load_cancel): (&CancellationToken, &CancellationToken),
    sampler: &sampler::Sampler,
    mut server: Option<&mut LocalServer>,
    progress_rx: &[tokio::sync::watch::Receiver<loadgen::Progress>],
) -> Waited {
    let mut reporter = progress::Reporter::new(cfg.duration);
    let mut results: Vec<(u32, JudgedClient)> = Vec::new();
    let mut first_error = None;
    let mut tick = tokio::time::interval(reporter.every());
    tick.tick().await;
    let mut interrupted = false;
    let mut failure = None;
    while !set.is_empty() {
        tokio::select! {
            joined = set.join_next() => match joined {
                Some(Ok((i, Ok(j)))) => results.push((i, j)),
                Some(Ok((i, Err(e)))) => {
                    tracing::error!("task-{i}: {e:#}");
                    first_error.get_or_insert(e);
                    load_cancel.cancel();
                }
                Some(Err(e)) => {
                    first_error.get_or_insert(anyhow::anyhow!("a load generator panicked: {e}"));
                    load_cancel.cancel();
                }
                None => break,
            },
            () = cancel.cancelled(), if !interrupted => {
                interrupted = true;
                load_cancel.cancel();
            }
            () = sampler.server_down.cancelled(), if failure.is_none() => {
                let exited = server.as_deref_mut().and_then(LocalServer::exited);
                failure = Some(match exited {
                    Some(status) => format!("the server exited mid-run ({status})"),
                    None => "the server stopped answering mid-run".to_string(),
                });
                load_cancel.cancel();
            }
            _ = tick.tick() => reporter.report(sampler, progress_rx),
        }
    }
    reporter.finish();
    Waited {
        results,
        first_error,
        interrupted,
        failure,
    }
}

/// Write every key of the range once.
async fn prefill(
    cfg: &Config,
    ep: &Endpoint,
    use_memtier: bool,
    raw: &Path,
    run_id: &str,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let judged = if use_memtier {
        let dir = raw.join("prefill");
        let prefix = dir.join("memtier").display().to_string();
        let cmd = memtier_command(ep, &cfg.workload, Mode::Prefill, &prefix);
        memtier_proc::run("prefill", &cmd, &dir, Duration::from_secs(3600), cancel).await?
    } else {
        let mut lc = builtin_config(
            cfg,
            ep,
            "prefill".into(),
            seed(run_id, 0),
            Stop::Requests(1),
        );
        lc.workload.ratio_set = 1;
        lc.workload.ratio_get = 0;
        lc.workload.key_pattern_set = LgPattern::Parallel;
        lc.workload.key_pattern_get = LgPattern::Parallel;
        let keys = cfg.workload.key_maximum - cfg.workload.key_minimum + 1;
        lc.stop = Stop::Requests(keys.div_ceil(lc.connections().max(1)));
        loadgen::verdict::judge(loadgen::run(&lc, cancel, None).await?)
    };
    if judged.status == crate::client::TaskStatus::Failed {
        anyhow::bail!("prefill failed: {}", judged.reasons.join("; "));
    }
    Ok(())
}

fn task_logs(judged: &[JudgedClient], raw: &Path) -> String {
    let mut out = String::new();
    for j in judged {
        let c = &j.result;
        out.push_str(&format!(
            "== {} ({}): {}\n",
            c.id,
            j.status.as_str(),
            j.reasons.join("; ")
        ));
        for e in &c.errors {
            out.push_str(&format!("  {} × {}: {}\n", e.count, e.kind, e.example));
        }
        for name in ["stderr.txt", "stdout.txt"] {
            if let Ok(text) = std::fs::read_to_string(raw.join(&c.id).join(name)) {
                out.push_str(&format!("-- {name}\n"));
                for line in text.split(['\r', '\n']).filter(|l| !l.trim().is_empty()) {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
    }
    out
}
