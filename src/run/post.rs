//! The action's post step (`post-entrypoint`, run at the end of the job even after a failure,
//! timeout or cancel): finish the AWS target's teardown from the state the main step saved.
//!
//! State written by the main step (read here as `STATE_<name>`):
//! - `run_id`: saved before anything is created; resources are tagged with it, so the cleanup also
//!   finds what was made after the last ledger write;
//! - `target`: `local` or `aws` (nothing to do for `local`);
//! - `region` and `output_dir`: where to look (the ledger file in the workspace, when it survived);
//! - `ledger`: the live resources (compact JSON, ids only), saved whole after every ledger write.

use super::cleanup::{clean, Target};
use crate::aws::ledger::STATE_LEDGER;
use crate::github::actions::read_state;
use crate::github::state::{STATE_OUTPUT_DIR, STATE_REGION, STATE_RUN_ID, STATE_TARGET};
use crate::outcome::Outcome;

/// Poll interval of the post step's waits, seconds.
const POLL_SECONDS: f64 = 10.0;

/// Run the post step.
pub fn run() -> anyhow::Result<Outcome> {
    let run_id = read_state(STATE_RUN_ID);
    let target = read_state(STATE_TARGET);
    if target.as_deref() != Some("aws") {
        tracing::info!(
            "post: nothing to clean up (run {}, target {})",
            run_id.as_deref().unwrap_or("unknown"),
            target.as_deref().unwrap_or("unknown")
        );
        return Ok(Outcome::Ok);
    }
    let dir = std::path::PathBuf::from(
        read_state(STATE_OUTPUT_DIR).unwrap_or_else(|| "elasticache-perf-results".into()),
    );
    let t = Target {
        run_id,
        region: read_state(STATE_REGION),
        known: Vec::new(),
    }
    .with_state(read_state(STATE_LEDGER).as_deref())
    .with_ledger_file(&dir);
    tracing::info!(
        "post: cleaning up run {} ({} resource(s) recorded)",
        t.run_id.as_deref().unwrap_or("unknown"),
        t.known.len()
    );
    clean(
        t,
        &dir,
        std::env::var("ELASTICACHE_PERF_POST_POLL_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(POLL_SECONDS),
    )
}
