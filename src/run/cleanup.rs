//! The `cleanup` and `sweep` commands and the action's post step: where the run id, the region and
//! the known resources come from (flags, the ledger file, the action's saved state, the
//! environment), what is printed, and the exit code. The deleting is `crate::aws::cleanup`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use crate::aws::cleanup::{self, Cleaned};
use crate::aws::ledger::{self, Ledger, Resource, LEDGER_FILE};
use crate::aws::{Clients, Timeouts};
use crate::error::InputError;
use crate::outcome::Outcome;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))
}

fn timeouts(poll_seconds: f64) -> Timeouts {
    Timeouts::with_poll(Duration::from_secs_f64(poll_seconds.clamp(0.05, 300.0)))
}

/// `cleanup` flags.
#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// The run to clean up (default: the run of the ledger in --out).
    #[arg(long, env = "INPUT_RUN_ID")]
    pub run_id: Option<String>,
    /// AWS region (default: the ledger's, else `AWS_REGION` / `AWS_DEFAULT_REGION`).
    #[arg(long, env = "INPUT_AWS_REGION")]
    pub aws_region: Option<String>,
    /// The run's output folder: its ledger.jsonl is read when present, and deletions are
    /// appended to it.
    #[arg(
        long = "out",
        env = "INPUT_OUTPUT_DIR",
        default_value = "elasticache-perf-results"
    )]
    pub output_dir: PathBuf,
    /// Seconds between two reads of a resource's state while waiting (tests use less than a second).
    #[arg(long, hide = true, default_value_t = 15.0)]
    pub poll_seconds: f64,
}

/// `sweep` flags.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// AWS region (default: `AWS_REGION` / `AWS_DEFAULT_REGION`).
    #[arg(long, env = "INPUT_AWS_REGION")]
    pub aws_region: Option<String>,
    /// List what would be deleted, delete nothing (`--dry-run`, or `true`/`false`).
    #[arg(
        long,
        env = "INPUT_DRY_RUN",
        default_value = "false",
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub dry_run: String,
    /// Take resources whose run started longer ago than this (`90m`, `6h`, `2d`) instead of
    /// those past their expiry tag.
    #[arg(long, value_name = "DURATION", env = "INPUT_OLDER_THAN")]
    pub older_than: Option<String>,
    /// Folder for the sweep's ledgers (`sweep/{run id}/ledger.jsonl`).
    #[arg(long = "out", default_value = "elasticache-perf-sweep")]
    pub output_dir: PathBuf,
    /// Seconds between two reads of a resource's state while waiting (tests use less than a second).
    #[arg(long, hide = true, default_value_t = 15.0)]
    pub poll_seconds: f64,
}

fn env_region() -> Option<String> {
    crate::config::region_from_env(|k| std::env::var(k).ok())
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// One run to clean up: its id, region and the resources known before looking by tag.
#[derive(Debug, Default)]
pub struct Target {
    /// Run id.
    pub run_id: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Resources from the ledger file and the saved state.
    pub known: Vec<Resource>,
}

impl Target {
    /// Add the ledger file in `dir`, when there is one (its run id and region fill gaps). A
    /// ledger that cannot be read is a warning: the run's tags still find its resources.
    #[must_use]
    pub fn with_ledger_file(mut self, dir: &Path) -> Self {
        let path = dir.join(LEDGER_FILE);
        if !path.exists() {
            return self;
        }
        let entries = match Ledger::read(&path) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!("{e:#}; looking for the run's resources by tag only");
                return self;
            }
        };
        if let Some(first) = entries.first() {
            if self.run_id.as_ref().is_some_and(|id| *id != first.run_id) {
                tracing::warn!(
                    "'{}' belongs to run '{}', not '{}': ignoring it",
                    path.display(),
                    first.run_id,
                    self.run_id.as_deref().unwrap_or_default()
                );
                return self;
            }
            self.run_id.get_or_insert_with(|| first.run_id.clone());
            self.region.get_or_insert_with(|| first.region.clone());
        }
        self.known.extend(ledger::replay(&entries));
        self
    }

    /// Add a ledger saved as the action's state ([`ledger::state_value`]).
    pub fn with_state(mut self, value: Option<&str>) -> Self {
        if let Some((run_id, region, live)) = value.and_then(ledger::parse_state) {
            self.run_id.get_or_insert(run_id);
            self.region.get_or_insert(region);
            self.known.extend(live);
        }
        self
    }
}

/// Clean up one run; prints the outcome. `dir` gets the deletions appended to its ledger.
pub fn clean(target: Target, dir: &Path, poll_seconds: f64) -> anyhow::Result<Outcome> {
    let Some(run_id) = target.run_id else {
        return Err(InputError::new(format!(
            "cleanup needs a run: give --run-id (input 'run_id'), or --out with a folder holding {LEDGER_FILE} ('{}' has none)",
            dir.display()
        ))
        .into());
    };
    let Some(region) = target.region.or_else(env_region) else {
        return Err(InputError::new(format!(
            "cleanup of run '{run_id}' needs a region: give --aws-region (input 'aws_region') or set AWS_REGION"
        ))
        .into());
    };
    let dir = ledger_dir(dir, &run_id);
    let rt = runtime()?;
    let cleaned = rt.block_on(async {
        let c = Clients::from_env(&region).await;
        cleanup::cleanup_run(&c, &run_id, &target.known, &dir, &timeouts(poll_seconds)).await
    })?;
    Ok(report(&[cleaned], &region))
}

/// Where cleanup writes its deletions: `dir`, unless `dir` holds another run's ledger (then
/// `dir/cleanup-{run id}`, so that two runs never share one ledger).
fn ledger_dir(dir: &Path, run_id: &str) -> std::path::PathBuf {
    let other = Ledger::read(&dir.join(LEDGER_FILE))
        .ok()
        .and_then(|e| e.first().map(|f| f.run_id != run_id))
        .unwrap_or(false);
    if other {
        dir.join(format!("cleanup-{run_id}"))
    } else {
        dir.to_path_buf()
    }
}

/// What was done, on stdout; `Ok` only when nothing is left.
fn report(runs: &[Cleaned], region: &str) -> Outcome {
    let mut text = String::new();
    let mut clean = true;
    for r in runs {
        let _ = writeln!(
            text,
            "run {}: {} deleted or already gone",
            r.run_id,
            r.report.deleted.len()
        );
        for e in &r.report.errors {
            let _ = writeln!(text, "  could not delete {e}");
        }
        for l in &r.left {
            let _ = writeln!(text, "  still there: {l}");
        }
        if !r.is_clean() {
            clean = false;
            let _ = writeln!(
                text,
                "  run `elasticache-perf cleanup --run-id {} --aws-region {region}` again, or delete what is tagged {}={} by hand",
                r.run_id,
                crate::plan::TAG_RUN_ID,
                r.run_id
            );
        }
    }
    #[allow(clippy::print_stdout)]
    {
        print!("{text}");
    }
    if clean {
        Outcome::Ok
    } else {
        tracing::error!("cleanup incomplete: resources are left (listed above)");
        Outcome::RunFailed
    }
}

/// `cleanup`.
pub fn cleanup_command(a: &CleanupArgs) -> anyhow::Result<Outcome> {
    let target = Target {
        run_id: non_empty(a.run_id.as_deref()),
        region: non_empty(a.aws_region.as_deref()),
        known: Vec::new(),
    }
    .with_ledger_file(&a.output_dir);
    clean(target, &a.output_dir, a.poll_seconds)
}

/// `sweep`.
pub fn sweep_command(a: &SweepArgs) -> anyhow::Result<Outcome> {
    let dry_run =
        crate::config::parse_bool("dry_run", &a.dry_run, Some(false)).map_err(InputError::from)?;
    let older_than = match non_empty(a.older_than.as_deref()) {
        None => None,
        Some(s) => Some(humantime::parse_duration(&s).map_err(|e| {
            InputError::new(format!(
                "input 'older_than' is '{s}': {e}; give a duration such as 90m, 6h or 2d"
            ))
        })?),
    };
    let Some(region) = non_empty(a.aws_region.as_deref()).or_else(env_region) else {
        return Err(InputError::new(
            "sweep needs a region: give --aws-region (input 'aws_region') or set AWS_REGION",
        )
        .into());
    };
    let rt = runtime()?;
    rt.block_on(async {
        let c = Clients::from_env(&region).await;
        let due = cleanup::sweep_candidates(&c, older_than).await?;
        let mut text = String::new();
        let what = if older_than.is_some() {
            "started before the cut-off"
        } else {
            "past their expiry"
        };
        let n: usize = due.values().map(Vec::len).sum();
        let _ = writeln!(
            text,
            "{n} resource(s) of {} run(s) {what} in {region}",
            due.len()
        );
        for (run, found) in &due {
            for f in found {
                let _ = writeln!(text, "  {run}  {}  {}", f.resource.describe(), f.arn);
            }
        }
        #[allow(clippy::print_stdout)]
        {
            print!("{text}");
        }
        if dry_run || due.is_empty() {
            return Ok(Outcome::Ok);
        }
        let cleaned = cleanup::sweep(&c, &due, &a.output_dir, &timeouts(a.poll_seconds)).await?;
        Ok(report(&cleaned, &region))
    })
}
