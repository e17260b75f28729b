//! What the runner tells a step about its run: `GITHUB_*` variables and the event payload, read
//! once into an [`ActionContext`]; the pull request number is found from it without I/O.

use std::path::PathBuf;

use anyhow::Context as _;

/// The event payload is read whole; nothing legitimate comes near this size.
const MAX_EVENT_BYTES: u64 = 16 * 1024 * 1024;

/// Whether this process runs as a step of GitHub Actions (`GITHUB_ACTIONS=true`).
pub fn in_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// The run a step belongs to.
#[derive(Clone, Debug, Default)]
pub struct ActionContext {
    /// `owner/repo`.
    pub repository: String,
    /// The REST API root: `https://api.github.com`, or `https://HOST/api/v3` on GHES.
    pub api_url: String,
    /// The web root, for links: `https://github.com`.
    pub server_url: String,
    /// `GITHUB_RUN_ID`.
    pub run_id: String,
    /// `GITHUB_RUN_ATTEMPT`.
    pub run_attempt: String,
    /// `GITHUB_EVENT_NAME`, e.g. `pull_request`.
    pub event_name: String,
    /// The event payload (`GITHUB_EVENT_PATH`), `Null` when there is none.
    pub event: serde_json::Value,
    /// `GITHUB_WORKSPACE` (`/github/workspace` in a container action).
    pub workspace: Option<PathBuf>,
}

fn read_event(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("reading the event payload '{}'", path.display()))?
        .len();
    if len > MAX_EVENT_BYTES {
        anyhow::bail!(
            "the event payload '{}' is {len} bytes; more than {MAX_EVENT_BYTES} is not read",
            path.display()
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the event payload '{}'", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("the event payload '{}' is not JSON", path.display()))
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

impl ActionContext {
    /// Read the context from the environment and the event file. An unreadable event payload is
    /// a warning (the event is then taken as empty): it must not fail a finished benchmark.
    pub fn from_env() -> Self {
        let event = match std::env::var_os("GITHUB_EVENT_PATH").filter(|p| !p.is_empty()) {
            None => serde_json::Value::Null,
            Some(p) => read_event(&PathBuf::from(p)).unwrap_or_else(|e| {
                tracing::warn!("{e:#}; going on without the event");
                serde_json::Value::Null
            }),
        };
        let or = |v: String, d: &str| if v.is_empty() { d.to_string() } else { v };
        Self {
            repository: var("GITHUB_REPOSITORY"),
            api_url: or(var("GITHUB_API_URL"), "https://api.github.com")
                .trim_end_matches('/')
                .to_string(),
            server_url: or(var("GITHUB_SERVER_URL"), "https://github.com")
                .trim_end_matches('/')
                .to_string(),
            run_id: var("GITHUB_RUN_ID"),
            run_attempt: var("GITHUB_RUN_ATTEMPT"),
            event_name: var("GITHUB_EVENT_NAME"),
            event,
            workspace: std::env::var_os("GITHUB_WORKSPACE")
                .filter(|w| !w.is_empty())
                .map(PathBuf::from),
        }
    }

    /// `(owner, repo)` of `GITHUB_REPOSITORY`, when it has that shape.
    pub fn owner_repo(&self) -> Option<(&str, &str)> {
        let (o, r) = self.repository.split_once('/')?;
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (ok(o) && ok(r)).then_some((o, r))
    }

    /// The page of this workflow run, for links (its artifacts are listed there).
    pub fn run_url(&self) -> Option<String> {
        self.owner_repo()?;
        if self.run_id.is_empty() || !self.run_id.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some(format!(
            "{}/{}/actions/runs/{}",
            self.server_url, self.repository, self.run_id
        ))
    }

    /// The pull request of the triggering event: `pull_request.number` (`pull_request`,
    /// `pull_request_target`), `issue.number` of a comment on a PR, or the first of
    /// `workflow_run.pull_requests` (empty for PRs from forks: pass `pr_number` there).
    pub fn event_pr_number(&self) -> Option<u64> {
        let e = &self.event;
        e.pointer("/pull_request/number")
            .and_then(serde_json::Value::as_u64)
            .or_else(|| {
                e.pointer("/issue/pull_request")
                    .and_then(|_| e.pointer("/issue/number"))
                    .and_then(serde_json::Value::as_u64)
            })
            .or_else(|| {
                e.pointer("/workflow_run/pull_requests/0/number")
                    .and_then(serde_json::Value::as_u64)
            })
    }

    /// The commit a `workflow_run` event is about (what a PR number given from an artifact must
    /// match before we comment on that PR).
    pub fn workflow_run_head_sha(&self) -> Option<&str> {
        self.event
            .pointer("/workflow_run/head_sha")
            .and_then(serde_json::Value::as_str)
    }

    /// `path` as the workflow's later steps see it: relative to the workspace when it is inside
    /// it (the container's `/github/workspace` is another folder on the host).
    pub fn workflow_path(&self, path: &std::path::Path) -> String {
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            match std::env::current_dir() {
                Ok(d) => d.join(path),
                Err(_) => return path.display().to_string(),
            }
        };
        if let Some(ws) = &self.workspace {
            if let Ok(rel) = abs.strip_prefix(ws) {
                return rel.display().to_string();
            }
        }
        path.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(event: serde_json::Value) -> ActionContext {
        ActionContext {
            repository: "o/r".into(),
            server_url: "https://github.com".into(),
            run_id: "42".into(),
            event,
            ..ActionContext::default()
        }
    }

    #[test]
    fn finds_the_pull_request_of_each_event() {
        assert_eq!(
            ctx(json!({"pull_request": {"number": 5}})).event_pr_number(),
            Some(5)
        );
        assert_eq!(
            ctx(json!({"issue": {"number": 6, "pull_request": {}}})).event_pr_number(),
            Some(6)
        );
        assert_eq!(ctx(json!({"issue": {"number": 6}})).event_pr_number(), None);
        assert_eq!(
            ctx(json!({"workflow_run": {"pull_requests": [{"number": 7}]}})).event_pr_number(),
            Some(7)
        );
        assert_eq!(
            ctx(json!({"workflow_run": {"pull_requests": []}})).event_pr_number(),
            None
        );
        assert_eq!(
            ctx(json!({"schedule": "0 3 * * *"})).event_pr_number(),
            None
        );
    }

    #[test]
    fn links_only_for_well_formed_runs() {
        assert_eq!(
            ctx(json!(null)).run_url().as_deref(),
            Some("https://github.com/o/r/actions/runs/42")
        );
        let mut c = ctx(json!(null));
        c.repository = "o/r/../x".into();
        assert_eq!(c.run_url(), None);
    }

    #[test]
    fn paths_inside_the_workspace_become_relative() {
        let mut c = ctx(json!(null));
        c.workspace = Some(PathBuf::from("/github/workspace"));
        assert_eq!(
            c.workflow_path(std::path::Path::new("/github/workspace/out/results.json")),
            "out/results.json"
        );
        assert_eq!(c.workflow_path(std::path::Path::new("/tmp/x")), "/tmp/x");
    }
}
