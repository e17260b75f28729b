//! The runner's environment files: step outputs (`$GITHUB_OUTPUT`), the job summary
//! (`$GITHUB_STEP_SUMMARY`) and the state handed from the main step to the post step
//! (`$GITHUB_STATE`, read back as `STATE_<name>`). Formatting is pure; the writers append.
//!
//! The ledger of the AWS target calls [`save_state`] as each resource is created, so that the
//! post step can clean up after a main step that was cancelled or killed.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::io::Write as _;
use std::path::Path;

/// The runner rejects a step summary larger than this (`AttachmentSizeLimit`, 1 MiB).
pub const STEP_SUMMARY_MAX_BYTES: usize = 1024 * 1024;

/// Problems with an environment file.
#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    /// The name would not survive the runner's `NAME=VALUE` parser.
    #[error("'{0}' is not a valid output or state name (letters, digits, '_' and '-' only)")]
    InvalidName(String),
    /// Appending to the file failed.
    #[error("appending to '{path}' (${var}): {source}")]
    Io {
        /// The variable that named the file.
        var: &'static str,
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A heredoc delimiter that does not occur in `value`: `ghadelimiter_` and random hex, as
/// `@actions/core` does (a fixed `EOF` would let a value end the block early and inject outputs).
fn delimiter(value: &str) -> String {
    // Each `RandomState` is keyed afresh from the process's random seed: 128 unpredictable bits
    // without a dependency.
    let word = || {
        let mut h = RandomState::new().build_hasher();
        h.write_u8(0);
        h.finish()
    };
    loop {
        let d = format!("ghadelimiter_{:016x}{:016x}", word(), word());
        if !value.contains(&d) {
            return d;
        }
    }
}

/// One `name=value` entry, or a heredoc with a random delimiter when the value spans lines.
pub fn format_entry(name: &str, value: &str) -> Result<String, EnvFileError> {
    if !valid_name(name) {
        return Err(EnvFileError::InvalidName(name.to_string()));
    }
    if value.contains('\n') || value.contains('\r') {
        let d = delimiter(value);
        Ok(format!("{name}<<{d}\n{value}\n{d}\n"))
    } else {
        Ok(format!("{name}={value}\n"))
    }
}

fn append(var: &'static str, path: &Path, text: &str) -> Result<(), EnvFileError> {
    let io = |source| EnvFileError::Io {
        var,
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)
}

/// The file named by an environment variable, when it is set and not empty.
fn env_file(var: &str) -> Option<std::path::PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
}

fn append_entries(var: &'static str, entries: &[(&str, &str)]) -> Result<bool, EnvFileError> {
    let Some(path) = env_file(var) else {
        return Ok(false);
    };
    let mut text = String::new();
    for (k, v) in entries {
        text.push_str(&format_entry(k, v)?);
    }
    append(var, &path, &text)?;
    Ok(true)
}

/// Append step outputs to `$GITHUB_OUTPUT`. Returns whether the file exists (false outside the
/// runner, where this is a no-op).
pub fn set_outputs(entries: &[(&str, &str)]) -> Result<bool, EnvFileError> {
    append_entries("GITHUB_OUTPUT", entries)
}

/// Save one value for the post step, which reads it as `STATE_<key>`. The last value saved under a
/// key wins, so a growing record (the resource ledger) is saved whole each time. Keep values small
/// (ids, a compact ledger): they reach the post container as environment variables. A no-op
/// outside the runner (returns false).
pub fn save_state(key: &str, value: &str) -> Result<bool, EnvFileError> {
    append_entries("GITHUB_STATE", &[(key, value)])
}

/// A value saved by the main step with [`save_state`], as the post step sees it.
pub fn read_state(key: &str) -> Option<String> {
    std::env::var(format!("STATE_{key}"))
        .ok()
        .filter(|v| !v.is_empty())
}

/// `markdown` cut to fit the job summary's limit, at a line break where possible, with a note.
pub fn fit_summary(markdown: &str) -> String {
    const NOTE: &str = "\n\n_The report was cut to fit the job summary's 1 MiB limit; the full report is in the output folder._\n";
    if markdown.len() <= STEP_SUMMARY_MAX_BYTES {
        return markdown.to_string();
    }
    let mut cut = STEP_SUMMARY_MAX_BYTES - NOTE.len();
    while !markdown.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &markdown[..cut];
    let head = head.rfind('\n').map_or(head, |i| &head[..i]);
    format!("{head}{NOTE}")
}

/// Append markdown to `$GITHUB_STEP_SUMMARY` (cut to the 1 MiB limit). Returns where it starts in
/// the file (for [`replace_step_summary`]), or `None` when there is no summary file.
pub fn append_step_summary(markdown: &str) -> Result<Option<u64>, EnvFileError> {
    let Some(path) = env_file("GITHUB_STEP_SUMMARY") else {
        return Ok(None);
    };
    append_summary_at(&path, markdown).map(Some)
}

fn append_summary_at(path: &Path, markdown: &str) -> Result<u64, EnvFileError> {
    let from = std::fs::metadata(path).map_or(0, |m| m.len());
    append("GITHUB_STEP_SUMMARY", path, &summary_text(markdown))?;
    Ok(from)
}

/// Replace what this step wrote into `$GITHUB_STEP_SUMMARY` from byte `from` on (an earlier
/// report of the same run) with `markdown`: whatever the step wrote before stays. Returns where
/// the new text starts.
pub fn replace_step_summary(from: u64, markdown: &str) -> Result<Option<u64>, EnvFileError> {
    let Some(path) = env_file("GITHUB_STEP_SUMMARY") else {
        return Ok(None);
    };
    replace_summary_at(&path, from, markdown).map(Some)
}

fn replace_summary_at(path: &Path, from: u64, markdown: &str) -> Result<u64, EnvFileError> {
    let io = |source| EnvFileError::Io {
        var: "GITHUB_STEP_SUMMARY",
        path: path.display().to_string(),
        source,
    };
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    let from = from.min(len);
    f.set_len(from).map_err(io)?;
    drop(f);
    append("GITHUB_STEP_SUMMARY", path, &summary_text(markdown))?;
    Ok(from)
}

fn summary_text(markdown: &str) -> String {
    let mut text = fit_summary(markdown);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_summary_keeps_what_came_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.md");
        std::fs::write(&path, "before\n").unwrap();
        let from = append_summary_at(&path, "first report").unwrap();
        assert_eq!(from, 7);
        let again = replace_summary_at(&path, from, "final report").unwrap();
        assert_eq!(again, 7);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "before\nfinal report\n"
        );
    }

    #[test]
    fn single_line_values_are_name_equals_value() {
        assert_eq!(format_entry("p99_ms", "1.25").unwrap(), "p99_ms=1.25\n");
        assert_eq!(format_entry("x", "").unwrap(), "x=\n");
        assert_eq!(format_entry("x", "a<<b").unwrap(), "x=a<<b\n");
    }

    #[test]
    fn multi_line_values_use_a_random_delimiter_absent_from_the_value() {
        let e = format_entry("ledger", "a\nb").unwrap();
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 4);
        let d = lines[0].strip_prefix("ledger<<").unwrap();
        assert!(d.starts_with("ghadelimiter_") && d.len() > 20, "{d}");
        assert_eq!(&lines[1..], &["a", "b", d]);
        assert!(
            e.ends_with(&format!("{d}\n")),
            "the closing delimiter ends with a newline"
        );
        assert_ne!(
            e,
            format_entry("ledger", "a\nb").unwrap(),
            "random each time"
        );
    }

    #[test]
    fn rejects_names_the_parser_would_split() {
        for bad in ["", "a=b", "a b", "a<<b", "a\nb"] {
            assert!(format_entry(bad, "v").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn summary_is_cut_below_the_limit_at_a_line() {
        let line = "é".repeat(99) + "\n";
        let big = line.repeat(STEP_SUMMARY_MAX_BYTES / line.len() + 10);
        let fit = fit_summary(&big);
        assert!(fit.len() <= STEP_SUMMARY_MAX_BYTES);
        assert!(fit.contains("cut to fit"));
        assert_eq!(fit_summary("small"), "small");
    }
}
