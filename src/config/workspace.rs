//! Paths a container action may use: inside GitHub Actions the container sees only the workspace
//! (mounted at `GITHUB_WORKSPACE`) and a few runner folders, and is removed when the step ends, so
//! a path outside the workspace is lost with it. Pure: the workspace and working directory are
//! handed in.

use std::path::{Component, Path, PathBuf};

use super::ConfigError;

/// `path` made absolute against `cwd`, with `.` and `..` resolved by name (nothing is read).
pub fn lexical(path: &Path, cwd: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in cwd.join(path).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Reject a path given in `input` that lies outside `workspace` (paths relative to `cwd`, the
/// step's working directory, count as written). An empty value is not a path and passes.
pub fn inside_workspace(
    input: &'static str,
    value: &str,
    cwd: &Path,
    workspace: &Path,
) -> Result<(), ConfigError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(());
    }
    let ws = lexical(workspace, Path::new("/"));
    if lexical(Path::new(v), cwd).starts_with(&ws) {
        return Ok(());
    }
    Err(ConfigError::new(
        input,
        v,
        format!(
            "is outside the workspace '{}': a container action sees only the workspace, and \
             anything written elsewhere is lost when its container ends (give a path inside the \
             workspace, e.g. relative to it)",
            ws.display()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str = "/github/workspace";

    fn check(v: &str) -> Result<(), ConfigError> {
        inside_workspace("output_dir", v, Path::new(WS), Path::new(WS))
    }

    #[test]
    fn paths_inside_the_workspace_pass() {
        for v in [
            "perf",
            "a/b/../c",
            "./perf",
            "/github/workspace/perf",
            "/github/workspace",
            "",
        ] {
            assert_eq!(check(v), Ok(()), "{v}");
        }
    }

    #[test]
    fn paths_outside_it_are_refused_with_the_reason() {
        for v in [
            "/home/runner/work/_temp/perf",
            "/tmp/perf",
            "../perf",
            "perf/../../x",
            "/github/workspace-other",
        ] {
            let e = check(v).unwrap_err();
            assert_eq!(e.input, "output_dir");
            let msg = e.to_string();
            assert!(
                msg.starts_with("input 'output_dir' is outside the workspace '/github/workspace'")
                    && msg.contains("lost when its container ends")
                    && msg.ends_with(&format!("got '{v}'")),
                "{msg}"
            );
        }
    }
}
