//! The action's post step (`post-entrypoint`, run at the end of the job even after a cancel):
//! clean up what the main step's ledger, saved as state, says it created.
//!
//! State written by the main step (read here as `STATE_<name>`):
//! - `run_id`: saved before anything is created; resources are tagged with it, so a cleanup can
//!   also find what was made after the last ledger write;
//! - `target`: `local` or `aws`;
//! - `ledger`: the AWS target's resource ledger (compact JSON), saved whole after every create.
//!
//! The AWS target and its `cleanup` are not in this build yet; when a ledger is present this
//! fails loudly instead of pretending, naming the run id to clean up by.

use super::actions::read_state;
use crate::Outcome;

/// State key of the run id.
pub const STATE_RUN_ID: &str = "run_id";
/// State key of the target.
pub const STATE_TARGET: &str = "target";
/// State key of the resource ledger.
pub const STATE_LEDGER: &str = "ledger";

/// Run the post step.
pub fn run() -> anyhow::Result<Outcome> {
    let run_id = read_state(STATE_RUN_ID);
    let target = read_state(STATE_TARGET);
    let Some(ledger) = read_state(STATE_LEDGER) else {
        tracing::info!(
            "post: nothing to clean up (run {}, target {}: no resource ledger was saved)",
            run_id.as_deref().unwrap_or("unknown"),
            target.as_deref().unwrap_or("unknown")
        );
        return Ok(Outcome::Ok);
    };
    anyhow::bail!(
        "post: the ledger of run {} lists resources ({} bytes), but this build has no cleanup for them; delete the resources tagged elasticache-perf:run-id={}",
        run_id.as_deref().unwrap_or("unknown"),
        ledger.len(),
        run_id.as_deref().unwrap_or("unknown")
    )
}
