//! `cleanup` and `sweep`: finishing a teardown in a later process. `cleanup` takes one run — from
//! its ledger file, the action's saved state, and whatever else carries its run-id tag — and
//! deletes it all, waiting where AWS requires; `sweep` does the same for every run of the tool
//! whose expiry has passed. Both are idempotent: safe twice, or beside a dying main process.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use super::discover::{self, Found};
use super::ledger::{replay, Ledger, Resource, ResourceKind, LEDGER_FILE};
use super::teardown::{teardown, TeardownReport};
use super::{leaks, Clients, Timeouts};
use crate::plan::names::ResourceNames;

/// How a run's teardown ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cleaned {
    /// Run id.
    pub run_id: String,
    /// What was deleted and what failed.
    pub report: TeardownReport,
    /// What still exists afterwards (the leak scan).
    pub left: Vec<String>,
}

impl Cleaned {
    /// Whether nothing of the run is left.
    pub fn is_clean(&self) -> bool {
        self.report.errors.is_empty() && self.left.is_empty()
    }
}

/// The key a resource is found by, to merge the ledger with what the tags found.
fn key(r: &Resource) -> (ResourceKind, String) {
    (r.kind, r.id.clone().unwrap_or_else(|| r.name.clone()))
}

/// `known` plus whatever of `found` it lacks. Pure.
pub fn merge(known: &[Resource], found: &[Found]) -> Vec<Resource> {
    let mut out: Vec<Resource> = known.to_vec();
    for f in found {
        let k = key(&f.resource);
        let dup = out.iter().any(|r| {
            key(r) == k || (r.kind == f.resource.kind && r.name == f.resource.name && !r.deleted)
        });
        if !dup {
            out.push(f.resource.clone());
        }
    }
    out
}

/// `resources` plus the Container Insights log group of each ECS cluster among them, and of the
/// cluster the run `run_id` names, that they lack: the service creates that group itself,
/// untagged, so only the cluster's name leads to it when the ledger is lost (and a deleted
/// cluster no longer carries its tags). Pure.
pub fn with_insights_groups(mut resources: Vec<Resource>, run_id: Option<&str>) -> Vec<Resource> {
    let mut clusters: Vec<String> = resources
        .iter()
        .filter(|r| r.kind == ResourceKind::EcsCluster)
        .map(|r| r.name.clone())
        .collect();
    if let Some(n) = run_id.and_then(|id| ResourceNames::for_run(id).ok()) {
        if !clusters.contains(&n.ecs_cluster) {
            clusters.push(n.ecs_cluster);
        }
    }
    for cluster in clusters {
        let name = super::ecs::insights_log_group(&cluster);
        if !resources
            .iter()
            .any(|r| r.kind == ResourceKind::LogGroup && r.name == name)
        {
            resources.push(Resource::live(ResourceKind::LogGroup, &name, None));
        }
    }
    resources
}

/// Mark live again what a ledger records as deleted but still exists. A create call in flight when
/// a signal came can land after the signal path's delete call found nothing (and recorded the
/// resource deleted): only asking the service tells.
async fn revive(c: &Clients, resources: &mut [Resource]) -> anyhow::Result<()> {
    for r in resources.iter_mut().filter(|r| r.deleted) {
        if leaks::still_exists(c, r, None)
            .await
            .with_context(|| format!("checking {}", r.describe()))?
        {
            tracing::warn!(
                "{} is recorded as deleted but still exists: deleting it again",
                r.describe()
            );
            r.deleted = false;
        }
    }
    Ok(())
}

/// Tear down one run: `known` (from its ledger or saved state) merged with what carries its tag.
/// Deletions are appended to the ledger in `dir`.
pub async fn cleanup_run(
    c: &Clients,
    run_id: &str,
    known: &[Resource],
    dir: &Path,
    t: &Timeouts,
) -> anyhow::Result<Cleaned> {
    let found = discover::find(c, Some(run_id))
        .await
        .with_context(|| format!("finding the resources of run '{run_id}'"))?;
    let mut all = with_insights_groups(merge(known, &found), Some(run_id));
    revive(c, &mut all).await?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating '{}'", dir.display()))?;
    let ledger = std::sync::Mutex::new(Ledger::open(dir, run_id, &c.region)?);
    let report = teardown(c, &ledger, &all, None, t).await;
    let after = replay(&Ledger::read(&dir.join(LEDGER_FILE))?);
    let left = leaks::leak_scan(c, run_id, &after, None)
        .await
        .with_context(|| format!("scanning for resources of run '{run_id}' left behind"))?;
    Ok(Cleaned {
        run_id: run_id.to_string(),
        report,
        left,
    })
}

/// What `sweep` takes: every resource of the tool that is due, grouped by run id. Pure.
pub fn due_by_run(
    found: Vec<Found>,
    now_ms: u64,
    older_than: Option<Duration>,
) -> BTreeMap<String, Vec<Found>> {
    let mut by_run: BTreeMap<String, Vec<Found>> = BTreeMap::new();
    for f in found.into_iter().filter(|f| f.is_due(now_ms, older_than)) {
        by_run.entry(f.run_id.clone()).or_default().push(f);
    }
    by_run
}

/// Every resource of the tool in the region that is due (see [`Found::is_due`]), by run.
pub async fn sweep_candidates(
    c: &Clients,
    older_than: Option<Duration>,
) -> anyhow::Result<BTreeMap<String, Vec<Found>>> {
    let found = discover::find(c, None)
        .await
        .context("listing the resources tagged by elasticache-perf")?;
    let mut due = due_by_run(found, crate::clock::now_ms(), older_than);
    // The tagging API keeps listing some deleted resources for a while (an ECS cluster stays
    // INACTIVE for an hour): ask each resource's own service.
    for found in due.values_mut() {
        let mut live = Vec::with_capacity(found.len());
        for f in found.drain(..) {
            let key = f
                .resource
                .id
                .clone()
                .unwrap_or_else(|| f.resource.name.clone());
            if leaks::exists(c, f.resource.kind, &key)
                .await
                .with_context(|| format!("checking {}", f.resource.describe()))?
            {
                live.push(f);
            }
        }
        *found = live;
    }
    due.retain(|_, f| !f.is_empty());
    Ok(due)
}

/// Tear down every due run; each run's deletions go to a ledger under `dir/sweep/{run id}/`.
pub async fn sweep(
    c: &Clients,
    due: &BTreeMap<String, Vec<Found>>,
    dir: &Path,
    t: &Timeouts,
) -> anyhow::Result<Vec<Cleaned>> {
    let mut out = Vec::new();
    for (run_id, found) in due {
        let known: Vec<Resource> =
            with_insights_groups(found.iter().map(|f| f.resource.clone()).collect(), None);
        let run_dir = dir.join("sweep").join(run_id);
        std::fs::create_dir_all(&run_dir)
            .with_context(|| format!("creating '{}'", run_dir.display()))?;
        let ledger = std::sync::Mutex::new(Ledger::open(&run_dir, run_id, &c.region)?);
        let report = teardown(c, &ledger, &known, None, t).await;
        let after = replay(&Ledger::read(&run_dir.join(LEDGER_FILE))?);
        // Only what was due is checked: a resource of the run that is not yet due stays.
        let still: Vec<Resource> = known
            .iter()
            .filter(|r| {
                !after
                    .iter()
                    .any(|a| a.kind == r.kind && a.name == r.name && a.deleted)
            })
            .cloned()
            .collect();
        let mut left = Vec::new();
        for r in &still {
            let k = r.id.clone().unwrap_or_else(|| r.name.clone());
            if leaks::exists(c, r.kind, &k).await.unwrap_or(true) {
                left.push(r.describe());
            }
        }
        out.push(Cleaned {
            run_id: run_id.clone(),
            report,
            left,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_brings_its_insights_log_group_once() {
        let rs = with_insights_groups(
            vec![
                res(ResourceKind::EcsCluster, "ecp-x", None),
                res(ResourceKind::LogGroup, "/elasticache-perf/ecp-x", None),
            ],
            None,
        );
        assert_eq!(rs.len(), 3);
        assert_eq!(rs[2].name, "/aws/ecs/containerinsights/ecp-x/performance");
        assert_eq!(with_insights_groups(rs.clone(), None), rs);
        let by_id = with_insights_groups(Vec::new(), Some("ecp-x"));
        let cluster = ResourceNames::for_run("ecp-x").unwrap().ecs_cluster;
        assert_eq!(
            by_id[0].name,
            format!("/aws/ecs/containerinsights/{cluster}/performance")
        );
    }

    fn res(kind: ResourceKind, name: &str, id: Option<&str>) -> Resource {
        Resource::live(kind, name, id.map(str::to_string))
    }

    fn found(r: Resource, run: &str) -> Found {
        Found {
            resource: r,
            arn: String::new(),
            run_id: run.into(),
            tags: BTreeMap::new(),
        }
    }

    #[test]
    fn tags_add_what_the_ledger_lacks_and_nothing_twice() {
        let known = vec![
            res(ResourceKind::SecurityGroup, "ecp-x-cache", Some("sg-1")),
            res(ResourceKind::ReplicationGroup, "ecp-x", None),
        ];
        let f = vec![
            found(
                res(ResourceKind::SecurityGroup, "sg-1", Some("sg-1")),
                "ecp-x",
            ),
            found(
                res(ResourceKind::SecurityGroup, "sg-2", Some("sg-2")),
                "ecp-x",
            ),
            found(res(ResourceKind::ReplicationGroup, "ecp-x", None), "ecp-x"),
            found(
                res(ResourceKind::LogGroup, "/elasticache-perf/ecp-x", None),
                "ecp-x",
            ),
        ];
        let all = merge(&known, &f);
        let names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["ecp-x-cache", "ecp-x", "sg-2", "/elasticache-perf/ecp-x"]
        );
    }

    #[test]
    fn sweep_groups_only_due_resources_by_run() {
        let mut a = found(res(ResourceKind::LogGroup, "/a", None), "ecp-a");
        a.tags.insert(
            crate::plan::TAG_EXPIRES_AT.into(),
            "2020-01-01T00:00:00Z".into(),
        );
        let mut b = found(res(ResourceKind::LogGroup, "/b", None), "ecp-b");
        b.tags.insert(
            crate::plan::TAG_EXPIRES_AT.into(),
            "2999-01-01T00:00:00Z".into(),
        );
        let c = found(res(ResourceKind::LogGroup, "/c", None), "ecp-c");
        let due = due_by_run(vec![a, b, c], crate::clock::now_ms(), None);
        assert_eq!(due.keys().collect::<Vec<_>>(), ["ecp-a"]);
    }
}
