//! Teardown on a signal: a cancelled GitHub job leaves the container about ten seconds, so every
//! live resource gets one delete call at once, in parallel and without waiting on anything,
//! within [`BUDGET`] — except the dead-man's switch, which stays armed. What AWS will not delete
//! yet (a cache still being created, groups still in use) is left to `cleanup` — the action's
//! post step — and, past the expiry, to the dead-man's switch and `sweep`.

use std::time::Duration;

use tokio::task::JoinSet;

use super::error::Result;
use super::ledger::{record, replay, Entry, Event, Resource, ResourceKind, SharedLedger};
use super::timeouts::Timeouts;
use super::{elasticache, Clients};

/// How long the delete calls may take in all; the process exits right after.
pub const BUDGET: Duration = Duration::from_secs(4);

/// What the signal path did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fired {
    /// Resources deleted (or found gone) by their one call.
    pub deleted: Vec<String>,
    /// Deletions asked for that AWS finishes on its own (tasks stopping, the cache deleting).
    pub started: Vec<String>,
    /// Resources still there: the reason, for the report.
    pub pending: Vec<String>,
}

/// Whether one successful call means the resource is gone (not merely on its way out).
fn gone_after_call(kind: ResourceKind) -> bool {
    !matches!(kind, ResourceKind::EcsTask | ResourceKind::ReplicationGroup)
}

/// One attempt at each deletion, as teardown does it but without its waits: for the cache the
/// request only (AWS goes on deleting it).
async fn one_call(c: &Clients, r: &Resource, vpc_id: Option<&str>) -> Result<()> {
    const ONE_TRY: Timeouts = Timeouts {
        create: Duration::ZERO,
        delete: Duration::ZERO,
        in_use: Duration::ZERO,
        poll: Duration::ZERO,
        stop_grace: Duration::ZERO,
        progress_every: Duration::ZERO,
        stall_limit: Duration::ZERO,
        retry: super::timeouts::Policies::ONE_TRY,
    };
    match r.kind {
        ResourceKind::ReplicationGroup => {
            elasticache::request_delete(&c.elasticache, &r.name).await
        }
        _ => super::teardown::delete_one(c, r, vpc_id, &ONE_TRY).await,
    }
}

/// One delete call for every live resource of the ledger's `entries`, in parallel, within
/// [`BUDGET`]. Deletions that are complete are written to the ledger — except of a resource whose
/// create call was never answered: that call may still land after the delete found nothing, so it
/// stays live for `cleanup` to check.
pub async fn fire(
    c: &Clients,
    ledger: &SharedLedger,
    entries: &[Entry],
    vpc_id: Option<&str>,
) -> Fired {
    let resources = replay(entries);
    let confirmed = |r: &Resource| {
        entries
            .iter()
            .any(|e| e.kind == r.kind && e.name == r.name && e.event == Event::Created)
    };
    let mut set = JoinSet::new();
    // The dead-man's switch (its schedule, and its role, which has the schedule's name) stays
    // armed: the cache may outlive this process.
    let switch: Vec<&str> = resources
        .iter()
        .filter(|r| r.kind == ResourceKind::Schedule)
        .map(|r| r.name.as_str())
        .collect();
    let live: Vec<Resource> = resources
        .iter()
        .filter(|r| !r.deleted && r.kind != ResourceKind::Schedule)
        .filter(|r| !(r.kind == ResourceKind::IamRole && switch.contains(&r.name.as_str())))
        .cloned()
        .collect();
    for r in live.iter().cloned() {
        let c = c.clone();
        let vpc = vpc_id.map(str::to_string);
        set.spawn(async move {
            let res = one_call(&c, &r, vpc.as_deref()).await;
            (r, res)
        });
    }
    let mut out = Fired::default();
    let mut answered: Vec<Resource> = Vec::new();
    let drain = async {
        while let Some(joined) = set.join_next().await {
            let Ok((r, res)) = joined else { continue };
            match res {
                Ok(()) if !confirmed(&r) => out.pending.push(format!(
                    "{}: its create call was cut short and may still land",
                    r.describe()
                )),
                Ok(()) if gone_after_call(r.kind) => {
                    if let Err(e) = record(ledger, r.kind, &r.name, r.id.as_deref(), Event::Deleted)
                    {
                        tracing::warn!("{e:#}");
                    }
                    out.deleted.push(r.describe());
                }
                Ok(()) => out.started.push(r.describe()),
                Err(e) => out.pending.push(format!("{}: {e}", r.describe())),
            }
            answered.push(r);
        }
    };
    if tokio::time::timeout(BUDGET, drain).await.is_err() {
        for r in live.iter().filter(|r| !answered.contains(r)) {
            out.pending.push(format!(
                "{}: no answer within {} s",
                r.describe(),
                BUDGET.as_secs()
            ));
        }
    }
    set.abort_all();
    out
}
