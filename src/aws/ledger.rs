//! The resource ledger: an append-only file (`ledger.jsonl` in the output folder), one JSON line per
//! event, flushed to disk before the call that creates the resource and before anything waits on
//! it. Teardown (in this process, or `cleanup` in a later one) replays it; a resource whose id is
//! only known after its create call (a security group) gets a second line with the id.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// The ledger shared by the branches that provision in parallel (each write is short and sync).
pub type SharedLedger = Mutex<Ledger>;

/// Append one event to the shared ledger.
pub fn record(
    ledger: &SharedLedger,
    kind: ResourceKind,
    name: &str,
    id: Option<&str>,
    event: Event,
) -> anyhow::Result<()> {
    ledger
        .lock()
        .map_err(|_| anyhow::anyhow!("the resource ledger lock is poisoned"))?
        .record(kind, name, id, event)
}

/// File name of the ledger inside the output folder.
pub const LEDGER_FILE: &str = "ledger.jsonl";

/// What kind of resource an entry is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// EC2 security group (`id` = `sg-…`).
    SecurityGroup,
    /// ElastiCache cache subnet group.
    CacheSubnetGroup,
    /// ElastiCache replication group.
    ReplicationGroup,
    /// CloudWatch Logs log group.
    LogGroup,
    /// IAM role (the task execution role, the dead-man's switch's role).
    IamRole,
    /// ECS cluster.
    EcsCluster,
    /// ECS task definition (`id` = its ARN with revision).
    TaskDefinition,
    /// ECS task (`id` = its ARN).
    EcsTask,
    /// EventBridge Scheduler schedule in the `default` group (the dead-man's switch; `id` = its ARN).
    Schedule,
    /// ElastiCache cache parameter group (the run's own, for `parameters`).
    CacheParameterGroup,
}

impl ResourceKind {
    /// How people call it in messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::SecurityGroup => "security group",
            Self::CacheSubnetGroup => "cache subnet group",
            Self::ReplicationGroup => "replication group",
            Self::LogGroup => "log group",
            Self::IamRole => "IAM role",
            Self::EcsCluster => "ECS cluster",
            Self::TaskDefinition => "task definition",
            Self::EcsTask => "ECS task",
            Self::Schedule => "schedule",
            Self::CacheParameterGroup => "cache parameter group",
        }
    }
}

/// What happened to a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// About to be created (written before the create call).
    Creating,
    /// Created; `id` holds what the service returned.
    Created,
    /// Deleted (or found gone) by teardown.
    Deleted,
}

/// One line of the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Kind.
    pub kind: ResourceKind,
    /// The name the tool chose (unique per run and kind).
    pub name: String,
    /// The service's id or ARN, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What happened.
    pub event: Event,
    /// Region.
    pub region: String,
    /// Run id.
    pub run_id: String,
    /// Unix milliseconds.
    pub at_ms: u64,
}

/// A resource as the ledger knows it, after replaying every line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// Kind.
    pub kind: ResourceKind,
    /// Name.
    pub name: String,
    /// Id or ARN, when known.
    pub id: Option<String>,
    /// Whether teardown already removed it.
    pub deleted: bool,
}

impl Resource {
    /// A resource that is not (known to be) deleted.
    pub fn live(kind: ResourceKind, name: impl Into<String>, id: Option<String>) -> Self {
        Self {
            kind,
            name: name.into(),
            id,
            deleted: false,
        }
    }

    /// `security group 'sg-…' (ecp-x-cache)` — for messages.
    pub fn describe(&self) -> String {
        match &self.id {
            Some(id) if *id != self.name => format!("{} '{id}' ({})", self.kind.label(), self.name),
            _ => format!("{} '{}'", self.kind.label(), self.name),
        }
    }
}

/// Replay entries into resources, in the order they were first recorded.
pub fn replay(entries: &[Entry]) -> Vec<Resource> {
    let mut out: Vec<Resource> = Vec::new();
    for e in entries {
        let pos = out
            .iter()
            .position(|r| r.kind == e.kind && r.name == e.name);
        let r = match pos {
            Some(i) => &mut out[i],
            None => {
                out.push(Resource::live(e.kind, e.name.clone(), None));
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        if e.id.is_some() {
            r.id.clone_from(&e.id);
        }
        match e.event {
            Event::Deleted => r.deleted = true,
            Event::Creating | Event::Created => r.deleted = false,
        }
    }
    out
}

/// The ledger as the action's post step gets it (`STATE_ledger`): the run id, the region and each
/// live resource as `[kind, name, id]` in compact JSON — ids only, no timestamps. Pure.
pub fn state_value(entries: &[Entry]) -> String {
    let (run_id, region) = entries
        .first()
        .map(|e| (e.run_id.as_str(), e.region.as_str()))
        .unwrap_or_default();
    let live: Vec<(ResourceKind, String, Option<String>)> = replay(entries)
        .into_iter()
        .filter(|r| !r.deleted)
        .map(|r| (r.kind, r.name, r.id))
        .collect();
    serde_json::json!({"run_id": run_id, "region": region, "live": live}).to_string()
}

/// The run id, the region and the live resources of a [`state_value`]; `None` when it is not one.
pub fn parse_state(value: &str) -> Option<(String, String, Vec<Resource>)> {
    #[derive(Deserialize)]
    struct State {
        run_id: String,
        region: String,
        live: Vec<(ResourceKind, String, Option<String>)>,
    }
    let s: State = serde_json::from_str(value).ok()?;
    let live = s
        .live
        .into_iter()
        .map(|(kind, name, id)| Resource::live(kind, name, id))
        .collect();
    Some((s.run_id, s.region, live))
}

/// State key of the ledger for the action's post step.
pub const STATE_LEDGER: &str = "ledger";

/// The ledger file of a run, open for appending.
#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    file: File,
    run_id: String,
    region: String,
    /// Entries written by this process, when they are mirrored to the action's state.
    mirrored: Option<Vec<Entry>>,
}

impl Ledger {
    /// Open (or create) the ledger in `dir` for appending.
    pub fn open(dir: &Path, run_id: &str, region: &str) -> anyhow::Result<Self> {
        let path = dir.join(LEDGER_FILE);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening the resource ledger '{}'", path.display()))?;
        Ok(Self {
            path,
            file,
            run_id: run_id.to_string(),
            region: region.to_string(),
            mirrored: None,
        })
    }

    /// Also save the ledger to the action's state (`$GITHUB_STATE`, for the post step) at every
    /// write; a no-op outside GitHub Actions.
    #[must_use]
    pub fn mirror_to_action_state(mut self) -> Self {
        self.mirrored = Some(Vec::new());
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one event and make it durable before returning.
    pub fn record(
        &mut self,
        kind: ResourceKind,
        name: &str,
        id: Option<&str>,
        event: Event,
    ) -> anyhow::Result<()> {
        let e = Entry {
            kind,
            name: name.to_string(),
            id: id.map(str::to_string),
            event,
            region: self.region.clone(),
            run_id: self.run_id.clone(),
            at_ms: crate::clock::now_ms(),
        };
        let mut line = serde_json::to_string(&e)?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("writing the resource ledger '{}'", self.path.display()))?;
        if let Some(m) = &mut self.mirrored {
            m.push(e);
            crate::github::actions::save_state(STATE_LEDGER, &state_value(m))
                .context("saving the resource ledger to the action's state")?;
        }
        Ok(())
    }

    /// Read every entry of a ledger file (a torn last line, from a crash mid-write, is skipped).
    pub fn read(path: &Path) -> anyhow::Result<Vec<Entry>> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the resource ledger '{}'", path.display()))?;
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut out = Vec::with_capacity(lines.len());
        for (i, l) in lines.iter().enumerate() {
            match serde_json::from_str::<Entry>(l) {
                Ok(e) => out.push(e),
                Err(_) if i + 1 == lines.len() => {
                    tracing::warn!("ledger '{}': skipping a torn last line", path.display());
                }
                Err(e) => {
                    return Err(anyhow::anyhow!(
                        "ledger '{}' line {}: {e}",
                        path.display(),
                        i + 1
                    ))
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_appended_durably_and_replayed_in_order() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut l = Ledger::open(dir.path(), "ecp-1", "us-east-1").unwrap();
            l.record(
                ResourceKind::SecurityGroup,
                "ecp-1-loadgen",
                None,
                Event::Creating,
            )
            .unwrap();
            l.record(
                ResourceKind::SecurityGroup,
                "ecp-1-loadgen",
                Some("sg-1"),
                Event::Created,
            )
            .unwrap();
            l.record(
                ResourceKind::ReplicationGroup,
                "ecp-1",
                None,
                Event::Creating,
            )
            .unwrap();
        }
        // A second process appends to the same file.
        let mut l = Ledger::open(dir.path(), "ecp-1", "us-east-1").unwrap();
        l.record(
            ResourceKind::SecurityGroup,
            "ecp-1-loadgen",
            None,
            Event::Deleted,
        )
        .unwrap();
        let path = l.path().to_path_buf();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"kind\":\"log_gr")
            .unwrap();
        let entries = Ledger::read(&path).unwrap();
        assert_eq!(entries.len(), 4);
        let rs = replay(&entries);
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[0].id.as_deref(), Some("sg-1"));
        assert!(rs[0].deleted && !rs[1].deleted);
        assert_eq!(rs[0].describe(), "security group 'sg-1' (ecp-1-loadgen)");
        assert_eq!(rs[1].describe(), "replication group 'ecp-1'");
    }

    #[test]
    fn the_state_value_lists_live_resources_and_parses_back() {
        let e = |kind, name: &str, id: Option<&str>, event| Entry {
            kind,
            name: name.into(),
            id: id.map(str::to_string),
            event,
            region: "eu-west-1".into(),
            run_id: "ecp-7".into(),
            at_ms: 1,
        };
        let entries = [
            e(
                ResourceKind::SecurityGroup,
                "ecp-7-cache",
                None,
                Event::Creating,
            ),
            e(
                ResourceKind::SecurityGroup,
                "ecp-7-cache",
                Some("sg-9"),
                Event::Created,
            ),
            e(
                ResourceKind::LogGroup,
                "/elasticache-perf/ecp-7",
                None,
                Event::Creating,
            ),
            e(
                ResourceKind::LogGroup,
                "/elasticache-perf/ecp-7",
                None,
                Event::Deleted,
            ),
            e(
                ResourceKind::ReplicationGroup,
                "ecp-7",
                None,
                Event::Creating,
            ),
        ];
        let v = state_value(&entries);
        assert_eq!(
            v,
            r#"{"live":[["security_group","ecp-7-cache","sg-9"],["replication_group","ecp-7",null]],"region":"eu-west-1","run_id":"ecp-7"}"#
        );
        let (run, region, live) = parse_state(&v).unwrap();
        assert_eq!((run.as_str(), region.as_str()), ("ecp-7", "eu-west-1"));
        assert_eq!(
            live,
            replay(&entries)
                .into_iter()
                .filter(|r| !r.deleted)
                .collect::<Vec<_>>()
        );
        assert!(parse_state("{}").is_none() && parse_state("nonsense").is_none());
    }
}
