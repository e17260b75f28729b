//! Resource names derived from the run id, each within its service's naming rule, so that two runs
//! never collide and the IAM policy can scope every permission to the `ecp-` prefix. Pure.

use serde::Serialize;

/// Every name starts with this, so the IAM policy can scope actions to `ecp-*`.
pub const NAME_PREFIX: &str = "ecp-";
/// The path of the execution role the tool creates (IAM policies scope `iam:*Role` to it).
pub const ROLE_PATH: &str = "/elasticache-perf/";
/// Log groups of runs live under this path.
pub const LOG_GROUP_PREFIX: &str = "/elasticache-perf/";
/// The container's name in the task definition.
pub const CONTAINER_NAME: &str = "memtier";
/// The awslogs stream prefix: streams are `ecp/memtier/<task id>`.
pub const STREAM_PREFIX: &str = "ecp";
/// Longest run-derived base: the replication group id limit (40) minus nothing — every other name
/// is longer-limited, and the roles and the schedule (64 each) get at most a 7-character suffix.
const MAX_BASE_LEN: usize = 40;

/// The names of a run's resources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceNames {
    /// Base of every name: `ecp-<run id>` lowercased (or the run id itself when it already starts
    /// with `ecp-`).
    pub base: String,
    /// Replication group id (≤ 40, lowercase, starts with a letter, no `--`, no trailing `-`).
    pub replication_group: String,
    /// Cache subnet group (≤ 255, lowercase letters, digits, hyphens).
    pub cache_subnet_group: String,
    /// Security group of the cache (≤ 255, must not start with `sg-`).
    pub cache_security_group: String,
    /// Security group of the load generators.
    pub loadgen_security_group: String,
    /// ECS cluster (≤ 255, letters, digits, hyphens, underscores).
    pub ecs_cluster: String,
    /// Task definition family (≤ 255, letters, digits, hyphens, underscores).
    pub task_family: String,
    /// CloudWatch log group (≤ 512, `[.-_/#A-Za-z0-9]`).
    pub log_group: String,
    /// The cache parameter group the run creates for `parameters` (≤ 255, letters, digits,
    /// hyphens).
    pub parameter_group: String,
    /// Execution role name (≤ 64, `[\w+=,.@-]`), under [`ROLE_PATH`].
    pub execution_role: String,
    /// The dead-man's switch: EventBridge Scheduler schedule in the `default` group (≤ 64,
    /// `[0-9a-zA-Z-_.]`). Schedules cannot carry tags, so the run id is in the name.
    pub expiry_schedule: String,
    /// The role the schedule acts with (≤ 64), under [`ROLE_PATH`]. It has the schedule's name,
    /// which is how teardown tells it from the execution role (it goes after its schedule).
    pub expiry_role: String,
}

/// Why a run id cannot name resources.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("run id '{0}' cannot name AWS resources: use at most 36 letters, digits or single hyphens, starting with a letter or digit")]
pub struct BadRunId(pub String);

impl ResourceNames {
    /// Names for a run id (already validated by the config: ≤ 32 letters, digits, single hyphens).
    pub fn for_run(run_id: &str) -> Result<Self, BadRunId> {
        let id = run_id.to_ascii_lowercase();
        let base = if id.starts_with(NAME_PREFIX) {
            id
        } else {
            format!("{NAME_PREFIX}{id}")
        };
        let ok = base.len() <= MAX_BASE_LEN
            && base
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !base.contains("--")
            && !base.ends_with('-')
            && base.len() > NAME_PREFIX.len();
        if !ok {
            return Err(BadRunId(run_id.to_string()));
        }
        Ok(Self {
            replication_group: base.clone(),
            cache_subnet_group: format!("{base}-subnets"),
            cache_security_group: format!("{base}-cache"),
            loadgen_security_group: format!("{base}-loadgen"),
            ecs_cluster: base.clone(),
            task_family: format!("{base}-memtier"),
            log_group: format!("{LOG_GROUP_PREFIX}{base}"),
            parameter_group: format!("{base}-params"),
            execution_role: format!("{base}-exec"),
            expiry_schedule: format!("{base}-expiry"),
            expiry_role: format!("{base}-expiry"),
            base,
        })
    }

    /// The awslogs stream of a task: `<prefix>/<container>/<task id>`.
    pub fn log_stream(task_id: &str) -> String {
        format!("{STREAM_PREFIX}/{CONTAINER_NAME}/{task_id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rg_id_ok(s: &str) -> bool {
        (1..=40).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.contains("--")
            && !s.ends_with('-')
    }

    #[test]
    fn every_name_follows_its_rule() {
        for id in [
            "ecp-19a3f2c4d5e-0f3a",
            "12345678901-1",
            "MyRun-7",
            "a",
            "abcdefghijklmnopqrstuvwxyz012345",
        ] {
            let n = ResourceNames::for_run(id).unwrap();
            assert!(rg_id_ok(&n.replication_group), "{n:?}");
            assert!(n.replication_group.starts_with(NAME_PREFIX));
            for s in [
                &n.cache_subnet_group,
                &n.cache_security_group,
                &n.loadgen_security_group,
            ] {
                assert!(s.len() <= 255 && !s.starts_with("sg-") && !s.contains("--"));
                assert!(s
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            }
            for s in [&n.ecs_cluster, &n.task_family] {
                assert!(s.len() <= 255);
                assert!(s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            }
            assert!(n.log_group.len() <= 512 && n.log_group.starts_with(LOG_GROUP_PREFIX));
            assert!(n.execution_role.len() <= 64);
            assert!(n.expiry_role.len() <= 64 && n.expiry_role != n.execution_role);
            assert!(n.expiry_schedule.len() <= 64);
            assert!(n
                .expiry_schedule
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        }
    }

    #[test]
    fn names_keep_an_ecp_run_id_and_lowercase_others() {
        let n = ResourceNames::for_run("ecp-abc").unwrap();
        assert_eq!(n.replication_group, "ecp-abc");
        assert_eq!(ResourceNames::for_run("Run-9").unwrap().base, "ecp-run-9");
        assert_eq!(ResourceNames::log_stream("abc123"), "ecp/memtier/abc123");
        assert_eq!(n.expiry_schedule, "ecp-abc-expiry");
        assert_eq!(
            n.expiry_role, n.expiry_schedule,
            "teardown pairs them by name"
        );
    }

    #[test]
    fn ids_that_cannot_name_resources_are_refused() {
        for id in [
            "ecp-",
            "a--b",
            "a_b",
            "abcdefghijklmnopqrstuvwxyz0123456789x",
            "x-",
        ] {
            assert!(ResourceNames::for_run(id).is_err(), "{id}");
        }
    }
}
