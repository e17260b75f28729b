//! Runs the binary the way the GitHub runner runs the action's container: started under the
//! entrypoint's name, `GITHUB_ACTIONS=true`, every input of action.yml as `INPUT_<NAME>` with its
//! default (what the runner fills in), temporary `GITHUB_OUTPUT`/`GITHUB_STEP_SUMMARY`/
//! `GITHUB_STATE` files, an event payload, and the workspace as the working directory. Nothing
//! is inherited from the test's own environment but `PATH`.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};

/// A token that must never show up anywhere but in the Authorization header.
pub const TOKEN: &str = "ghs_TESTtoken0123456789abcdefSECRET";

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// action.yml, parsed.
pub fn action_yml() -> serde_yaml_ng::Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap()).unwrap()
}

/// `(name, default)` of every input of action.yml, in file order.
pub fn action_inputs() -> Vec<(String, String)> {
    let y = action_yml();
    y["inputs"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let d = match &v["default"] {
                serde_yaml_ng::Value::String(s) => s.clone(),
                serde_yaml_ng::Value::Null => String::new(),
                other => serde_yaml_ng::to_string(other).unwrap().trim().to_string(),
            };
            (k.as_str().unwrap().to_string(), d)
        })
        .collect()
}

/// One step's files.
pub struct Step {
    pub dir: tempfile::TempDir,
    pub workspace: PathBuf,
    pub output: PathBuf,
    pub summary: PathBuf,
    pub state: PathBuf,
    pub event: PathBuf,
    pub event_name: String,
}

impl Step {
    /// A step of a workflow run triggered by `event_name` with `payload`.
    pub fn new(event_name: &str, payload: &serde_json::Value) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("workspace");
        let files = dir.path().join("file_commands");
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::create_dir_all(&files).unwrap();
        let event = dir.path().join("event.json");
        std::fs::write(&event, serde_json::to_vec(payload).unwrap()).unwrap();
        let output = files.join("set_output");
        let summary = files.join("step_summary");
        let state = files.join("save_state");
        // The runner creates the files empty before the step.
        for f in [&output, &summary, &state] {
            std::fs::write(f, "").unwrap();
        }
        Self {
            dir,
            workspace,
            output,
            summary,
            state,
            event,
            event_name: event_name.into(),
        }
    }

    /// The main entrypoint with action.yml's defaults, then `inputs`, against `api_url`.
    pub fn main(&self, inputs: &[(&str, &str)], api_url: &str) -> std::process::Command {
        self.command("elasticache-perf-action", inputs, api_url)
    }

    /// The binary started as `entry` (the executable's name is what it dispatches on).
    pub fn command(
        &self,
        entry: &str,
        inputs: &[(&str, &str)],
        api_url: &str,
    ) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("elasticache-perf"));
        c.arg0(entry);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .current_dir(&self.workspace);
        for (k, v) in action_inputs() {
            let v = v.replace("${{ github.token }}", TOKEN);
            c.env(format!("INPUT_{}", k.to_uppercase()), v);
        }
        for (k, v) in inputs {
            c.env(format!("INPUT_{}", k.to_uppercase()), v);
        }
        c.env("GITHUB_ACTIONS", "true")
            .env("CI", "true")
            .env("GITHUB_OUTPUT", &self.output)
            .env("GITHUB_STEP_SUMMARY", &self.summary)
            .env("GITHUB_STATE", &self.state)
            .env("GITHUB_EVENT_PATH", &self.event)
            .env("GITHUB_EVENT_NAME", &self.event_name)
            .env("GITHUB_REPOSITORY", "o/r")
            .env("GITHUB_RUN_ID", "42")
            .env("GITHUB_RUN_ATTEMPT", "1")
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_API_URL", api_url)
            .env("GITHUB_WORKSPACE", &self.workspace);
        c
    }

    /// Inputs of a short local run.
    pub fn local_inputs<'a>(
        run_id: &'a str,
        extra: &[(&'a str, &'a str)],
    ) -> Vec<(&'a str, &'a str)> {
        let mut v = vec![
            ("target", "local"),
            ("loadgen", "builtin"),
            ("test_duration_seconds", "2"),
            ("threads", "1"),
            ("clients", "2"),
            ("run_id", run_id),
        ];
        v.extend_from_slice(extra);
        v
    }

    /// The default output folder inside the workspace.
    pub fn out_dir(&self) -> PathBuf {
        self.workspace.join("elasticache-perf-results")
    }

    pub fn read(&self, p: &Path) -> String {
        std::fs::read_to_string(p).unwrap_or_default()
    }

    /// Every file written by the step (runner files and output folder) as text.
    pub fn all_written_text(&self) -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        let mut stack = vec![self.dir.path().to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let bytes = std::fs::read(&p).unwrap();
                    out.push((p, String::from_utf8_lossy(&bytes).into_owned()));
                }
            }
        }
        out
    }
}

/// A process's output as text.
/// Run a step to its end off the async runtime (a fake API on the same runtime keeps serving).
pub async fn run(mut c: std::process::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

pub fn text(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Fail if the token shows up anywhere but in `::add-mask::` (which the runner consumes and
/// never displays).
pub fn assert_no_token(what: &str, text: &str) {
    for line in text.lines() {
        if line.contains(TOKEN) {
            assert_eq!(
                line,
                format!("::add-mask::{TOKEN}"),
                "the token leaked in {what}"
            );
        }
    }
}

/// Every `ops_per_sec` number in a results.json multiplied by `k` (integers stay integers): a
/// baseline that was `k` times as fast.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub fn scale_ops(v: &mut serde_json::Value, k: f64) {
    use serde_json::{json, Value};
    match v {
        Value::Object(m) => {
            for (key, x) in m.iter_mut() {
                match x {
                    Value::Number(n) if key == "ops_per_sec" => {
                        *x = match n.as_u64() {
                            Some(i) => json!((i as f64 * k).round() as u64),
                            None => json!(n.as_f64().unwrap() * k),
                        };
                    }
                    _ => scale_ops(x, k),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| scale_ops(x, k)),
        _ => {}
    }
}
