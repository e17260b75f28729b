//! Finding load generators' outputs on disk: which paths are task folders or single files, and
//! reading one task's files into [`TaskOutputs`].

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::error::InputError;
use crate::memtier::TaskOutputs;

/// How deep below a given folder task folders are looked for.
const MAX_DEPTH: usize = 3;

/// Where one task's outputs are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskSource {
    /// A folder holding one load generator's files.
    Dir(PathBuf),
    /// A single file (JSON, stdout or a combined log).
    File(PathBuf),
}

impl TaskSource {
    /// The path.
    pub fn path(&self) -> &Path {
        match self {
            Self::Dir(p) | Self::File(p) => p,
        }
    }
}

/// Whether a file name looks like one of memtier's outputs (or our own captures of them).
fn is_output_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".json")
        || lower.ends_with(".hgrm")
        || lower.ends_with(".log")
        || lower.starts_with("stdout")
        || lower.starts_with("stderr")
        || lower.starts_with("combined")
}

fn is_task_dir(dir: &Path) -> anyhow::Result<bool> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading folder '{}'", dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_file() && is_output_name(&entry.file_name().to_string_lossy()) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn find_task_dirs(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if is_task_dir(dir)? {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    if depth == 0 {
        return Ok(());
    }
    let mut subdirs: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading folder '{}'", dir.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    for d in subdirs {
        find_task_dirs(&d, depth - 1, out)?;
    }
    Ok(())
}

/// Resolve the user's paths into task sources, in order. Errors name the path.
pub fn discover(paths: &[PathBuf]) -> anyhow::Result<Vec<TaskSource>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = fs::metadata(p)
            .map_err(|_| InputError::new(format!("path '{}' does not exist", p.display())))?;
        if meta.is_file() {
            out.push(TaskSource::File(p.clone()));
            continue;
        }
        let mut dirs = Vec::new();
        find_task_dirs(p, MAX_DEPTH, &mut dirs)?;
        if dirs.is_empty() {
            return Err(InputError::new(format!(
                "folder '{}' holds no memtier output (expected memtier.json, stdout/stderr captures, .hgrm or .log files, in it or in sub-folders)",
                p.display()
            ))
            .into());
        }
        out.extend(dirs.into_iter().map(TaskSource::Dir));
    }
    Ok(out)
}

/// Task ids: the folder or file name, made unique with the parent's name where needed.
pub fn task_ids(sources: &[TaskSource]) -> Vec<String> {
    let name = |p: &Path| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let names: Vec<String> = sources.iter().map(|s| name(s.path())).collect();
    let mut ids = names.clone();
    for (i, id) in ids.iter_mut().enumerate() {
        if names.iter().filter(|x| **x == names[i]).count() > 1 {
            if let Some(parent) = sources[i].path().parent().and_then(Path::file_name) {
                *id = format!("{}/{}", parent.to_string_lossy(), names[i]);
            }
        }
    }
    // Still duplicated (the same path twice): number them.
    for i in 0..ids.len() {
        let dups = ids[..i].iter().filter(|x| **x == ids[i]).count();
        if dups > 0 {
            ids[i] = format!("{}#{}", ids[i], dups + 1);
        }
    }
    ids
}

fn read(path: &Path) -> anyhow::Result<String> {
    let bytes = fs::read(path).with_context(|| format!("reading '{}'", path.display()))?;
    // Valid UTF-8 (the norm) is taken without a copy; only invalid bytes pay for the lossy one.
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// What a text file holds, judged from its content.
fn sniff(text: &str) -> Option<&'static str> {
    let has_table = text.contains("ALL STATS")
        || text.contains("BEST RUN RESULTS")
        || text.contains("RUN #1 RESULTS\n");
    let has_log = text.contains("[RUN #")
        || text.contains("Connection error")
        || text.contains("Writing results to");
    match (has_table, has_log) {
        (true, true) => Some("combined"),
        (true, false) => Some("stdout"),
        (false, true) => Some("stderr"),
        (false, false) => None,
    }
}

fn put(out: &mut TaskOutputs, kind: &str, text: String) {
    let slot = match kind {
        "stdout" => &mut out.stdout,
        "stderr" => &mut out.stderr,
        _ => &mut out.combined,
    };
    if slot.is_none() {
        *slot = Some(text);
    }
}

/// Read one task's files.
pub fn load(source: &TaskSource, id: &str) -> anyhow::Result<TaskOutputs> {
    let mut out = TaskOutputs {
        id: id.to_string(),
        ..TaskOutputs::default()
    };
    match source {
        TaskSource::File(p) => {
            let text = read(p)?;
            if p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
                || text.trim_start().starts_with('{')
            {
                out.json = Some(text);
            } else {
                match sniff(&text) {
                    Some(kind) => put(&mut out, kind, text),
                    None => {
                        return Err(InputError::new(format!(
                            "'{}' is not memtier output (expected memtier JSON, its stdout summary, or a log with its progress lines)",
                            p.display()
                        ))
                        .into())
                    }
                }
            }
        }
        TaskSource::Dir(d) => {
            let mut entries: Vec<PathBuf> = fs::read_dir(d)
                .with_context(|| format!("reading folder '{}'", d.display()))?
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .collect();
            entries.sort();
            // Prefer memtier.json when several JSON files exist.
            entries.sort_by_key(|p| p.file_name().is_none_or(|n| n != "memtier.json"));
            for p in entries {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().to_ascii_lowercase())
                    .unwrap_or_default();
                if name.ends_with(".json") {
                    if out.json.is_none() {
                        out.json = Some(read(&p)?);
                    }
                } else if name.ends_with(".hgrm") {
                    out.hgrm.push((name, read(&p)?));
                } else if name == "exit_code.txt" || name == "exit_code" {
                    out.exit_code = read(&p)?.trim().parse().ok();
                } else if name.starts_with("stdout") {
                    put(&mut out, "stdout", read(&p)?);
                } else if name.starts_with("stderr") {
                    put(&mut out, "stderr", read(&p)?);
                } else if name.starts_with("combined") || name.ends_with(".log") {
                    put(&mut out, "combined", read(&p)?);
                }
            }
        }
    }
    Ok(out)
}
