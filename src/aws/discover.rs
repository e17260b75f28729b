//! Finding the tool's resources in an account by their tags, for `cleanup` (one run, whatever its
//! ledger missed) and `sweep` (every run past its expiry): the Resource Groups Tagging API for
//! everything it covers, IAM's own listing under the tool's path for roles, which it does not,
//! and each run's dead-man's switch schedule by name (schedules carry no tags).

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use aws_sdk_resourcegroupstagging::types::TagFilter;

use super::arn::parse_arn;
use super::error::{Error, Result};
use super::ledger::{Resource, ResourceKind};
use super::Clients;
use crate::plan::{TAG_CREATED_AT, TAG_EXPIRES_AT, TAG_RUN_ID};

/// The IAM path of every role the tool creates.
pub const ROLE_PATH: &str = "/elasticache-perf/";

/// A resource of the tool found by its tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The resource, as teardown takes it (`id` set where the service keys it by id or ARN).
    pub resource: Resource,
    /// Its ARN.
    pub arn: String,
    /// Its `elasticache-perf:run-id` tag.
    pub run_id: String,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

impl Found {
    /// Unix milliseconds of an RFC 3339 time tag, when present and well-formed.
    fn time_tag(&self, key: &str) -> Option<u64> {
        let t = humantime::parse_rfc3339_weak(self.tags.get(key)?.trim()).ok()?;
        t.duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| u64::try_from(d.as_millis()).ok())
    }

    /// Whether `sweep` takes it at `now_ms`: with `older_than`, when its run started longer ago
    /// than that (falling back to the expiry tag when there is no start tag); otherwise when its
    /// expiry has passed. A resource with neither tag readable is never taken. Pure.
    pub fn is_due(&self, now_ms: u64, older_than: Option<Duration>) -> bool {
        match older_than {
            Some(age) => {
                let cutoff = now_ms.saturating_sub(u64::try_from(age.as_millis()).unwrap_or(0));
                self.time_tag(TAG_CREATED_AT)
                    .or_else(|| self.time_tag(TAG_EXPIRES_AT))
                    .is_some_and(|t| t <= cutoff)
            }
            None => self.time_tag(TAG_EXPIRES_AT).is_some_and(|t| t <= now_ms),
        }
    }
}

/// A resource from an ARN the tagging API returned; `None` for member clusters of a replication
/// group (deleted with it) and types the tool does not create.
pub fn resource_of(arn: &str) -> Option<Resource> {
    let (kind, key) = parse_arn(arn)?;
    let (name, id) = match kind {
        ResourceKind::SecurityGroup => (key.clone(), Some(key)),
        ResourceKind::TaskDefinition => {
            let family = arn
                .rsplit_once('/')
                .map_or(arn, |(_, f)| f)
                .split(':')
                .next()
                .unwrap_or_default()
                .to_string();
            (family, Some(key))
        }
        ResourceKind::EcsTask => (super::tasks::task_id(&key).to_string(), Some(key)),
        _ => (key, None),
    };
    Some(Resource::live(kind, name, id))
}

/// Everything carrying the run-id tag — of one run, or of every run when `run_id` is `None`.
pub async fn find(c: &Clients, run_id: Option<&str>) -> Result<Vec<Found>> {
    let mut out = tagged(c, run_id).await?;
    out.extend(roles(c, run_id).await?);
    out.extend(schedules(c, run_id, &out).await?);
    Ok(out)
}

/// The dead-man's switch of each run among `found` (and of `run_id`): schedules carry no tags,
/// so each is looked up by the name the run's plan gives it, and takes its run's tags.
async fn schedules(c: &Clients, run_id: Option<&str>, found: &[Found]) -> Result<Vec<Found>> {
    let mut runs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    if let Some(id) = run_id {
        runs.insert(id.to_string(), BTreeMap::new());
    }
    for f in found {
        let tags = runs.entry(f.run_id.clone()).or_default();
        if tags.is_empty() {
            tags.clone_from(&f.tags);
        }
    }
    let mut out = Vec::new();
    for (run, tags) in runs {
        let Ok(names) = crate::plan::names::ResourceNames::for_run(&run) else {
            continue;
        };
        let name = names.expiry_schedule;
        if let Some(arn) = super::scheduler::schedule_arn(&c.scheduler, &name).await? {
            out.push(Found {
                resource: Resource::live(ResourceKind::Schedule, name.clone(), None),
                arn,
                run_id: run,
                tags,
            });
        }
    }
    Ok(out)
}

fn filter(run_id: Option<&str>) -> TagFilter {
    let f = TagFilter::builder().key(TAG_RUN_ID);
    match run_id {
        Some(id) => f.values(id).build(),
        None => f.build(),
    }
}

async fn tagged(c: &Clients, run_id: Option<&str>) -> Result<Vec<Found>> {
    let what = || match run_id {
        Some(id) => format!("resources tagged {TAG_RUN_ID}={id}"),
        None => format!("resources tagged {TAG_RUN_ID}"),
    };
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = c
            .tagging
            .get_resources()
            .tag_filters(filter(run_id))
            .set_pagination_token(token.clone())
            .send()
            .await
            .map_err(|e| Error::from_sdk("GetResources", what(), e))?;
        for m in page.resource_tag_mapping_list() {
            let Some(arn) = m.resource_arn() else {
                continue;
            };
            let tags: BTreeMap<String, String> = m
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            let Some(run) = tags.get(TAG_RUN_ID).cloned() else {
                continue;
            };
            if let Some(resource) = resource_of(arn) {
                out.push(Found {
                    resource,
                    arn: arn.to_string(),
                    run_id: run,
                    tags,
                });
            }
        }
        token = page
            .pagination_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Roles under the tool's path with the run-id tag (IAM is not in the tagging API).
async fn roles(c: &Clients, run_id: Option<&str>) -> Result<Vec<Found>> {
    let mut out = Vec::new();
    for (name, arn) in super::iam::roles_under(&c.iam, ROLE_PATH).await? {
        let tags = match super::iam::role_tags(&c.iam, &name).await {
            Ok(t) => t,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        let Some(run) = tags.get(TAG_RUN_ID).cloned() else {
            continue;
        };
        if run_id.is_some_and(|id| id != run) {
            continue;
        }
        out.push(Found {
            resource: Resource::live(ResourceKind::IamRole, name, None),
            arn,
            run_id: run,
            tags,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(tags: &[(&str, &str)]) -> Found {
        Found {
            resource: Resource::live(ResourceKind::LogGroup, "/elasticache-perf/ecp-x", None),
            arn: "arn:aws:logs:us-east-1:1:log-group:/elasticache-perf/ecp-x".into(),
            run_id: "ecp-x".into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    const T0: u64 = 1_764_000_000_000; // 2025-11-24T16:00:00Z

    #[test]
    fn due_after_expiry_or_when_older_than_asked() {
        let f = found(&[
            (TAG_CREATED_AT, "2025-11-24T16:00:00Z"),
            (TAG_EXPIRES_AT, "2025-11-24T18:00:00Z"),
        ]);
        let hour = 3_600_000;
        assert!(!f.is_due(T0 + hour, None));
        assert!(f.is_due(T0 + 2 * hour, None));
        assert!(!f.is_due(T0 + 30 * 60_000, Some(Duration::from_secs(3600))));
        assert!(f.is_due(T0 + hour, Some(Duration::from_secs(3600))));
        // No start tag: the expiry stands in.
        let g = found(&[(TAG_EXPIRES_AT, "2025-11-24T18:00:00Z")]);
        assert!(!g.is_due(T0 + 2 * hour, Some(Duration::from_secs(3600))));
        assert!(g.is_due(T0 + 3 * hour, Some(Duration::from_secs(3600))));
        // Unreadable or missing times are never due.
        assert!(!found(&[(TAG_EXPIRES_AT, "soon")]).is_due(u64::MAX / 2, None));
        assert!(!found(&[]).is_due(u64::MAX / 2, Some(Duration::ZERO)));
    }

    #[test]
    fn arns_become_resources_teardown_can_delete() {
        let sg = resource_of("arn:aws:ec2:us-east-1:1:security-group/sg-0abc").unwrap();
        assert_eq!(
            (sg.kind, sg.id.as_deref()),
            (ResourceKind::SecurityGroup, Some("sg-0abc"))
        );
        let td = "arn:aws:ecs:us-east-1:1:task-definition/ecp-x-memtier:3";
        let r = resource_of(td).unwrap();
        assert_eq!(
            (r.kind, r.name.as_str(), r.id.as_deref()),
            (ResourceKind::TaskDefinition, "ecp-x-memtier", Some(td))
        );
        let task = "arn:aws:ecs:us-east-1:1:task/ecp-x/0123abcd";
        let r = resource_of(task).unwrap();
        assert_eq!(
            (r.kind, r.name.as_str()),
            (ResourceKind::EcsTask, "0123abcd")
        );
        let rg = resource_of("arn:aws:elasticache:us-east-1:1:replicationgroup:ecp-x").unwrap();
        assert_eq!(
            (rg.kind, rg.name.as_str()),
            (ResourceKind::ReplicationGroup, "ecp-x")
        );
        assert!(resource_of("arn:aws:elasticache:us-east-1:1:cluster:ecp-x-001").is_none());
    }
}
