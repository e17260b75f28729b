//! The baseline a `baseline` input names: a results.json file, a folder of runs, an S3 object or
//! prefix, or `history` (the stored history of the current run's profile); and the gate of a
//! finished run against it.

use std::path::{Path, PathBuf};

use super::{read_runs, Buckets, HistoryLocation, HistoryStore, LocalDirStore, NotFound};
use crate::error::InputError;
use crate::gate::history::{parse_run, prefix};
use crate::gate::{Baseline, Comparison, GateConfig, ProfileKey};
use crate::results::RunResult;

/// What a `baseline` input names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaselineSource {
    /// `history`: the stored history of the current run's profile.
    History,
    /// `s3://bucket/key.json`: one run.
    S3Object {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
    /// `s3://bucket/prefix/`: the newest runs under a prefix.
    S3Prefix {
        /// Bucket.
        bucket: String,
        /// Prefix (ends with `/`, or is empty).
        prefix: String,
    },
    /// A local path (a results.json file, or a folder of runs).
    Path(PathBuf),
}

impl BaselineSource {
    /// Parse a `baseline` input.
    pub fn parse(s: &str) -> Result<Self, InputError> {
        let s = s.trim();
        if s == "history" {
            return Ok(Self::History);
        }
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(InputError::new(format!(
                    "input 'baseline' must name a bucket, e.g. s3://bucket/history/…; got '{s}'"
                )));
            }
            return Ok(if key.is_empty() || key.ends_with('/') {
                Self::S3Prefix {
                    bucket: bucket.into(),
                    prefix: key.into(),
                }
            } else {
                Self::S3Object {
                    bucket: bucket.into(),
                    key: key.into(),
                }
            });
        }
        Ok(Self::Path(PathBuf::from(s)))
    }
}

fn read_result_file(p: &Path, input: &str) -> anyhow::Result<RunResult> {
    let bytes = std::fs::read(p).map_err(|e| {
        InputError::new(format!(
            "input '{input}': cannot read '{}': {e}",
            p.display()
        ))
    })?;
    parse_run(&p.display().to_string(), &bytes)
        .map_err(|e| InputError::new(format!("input '{input}': {e}")).into())
}

/// Read a results.json named by an input (`current`, `baseline`); unreadable or corrupt is bad input.
pub fn read_results(p: &Path, input: &str) -> anyhow::Result<RunResult> {
    read_result_file(p, input)
}

/// The runs of a local folder: `*.json` files in it and `*/results.json` one level down. Files that
/// are not results are skipped with a warning.
fn read_folder(dir: &Path, n: usize) -> anyhow::Result<(Vec<RunResult>, Vec<String>)> {
    let mut files = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| {
        InputError::new(format!(
            "input 'baseline': cannot read folder '{}': {e}",
            dir.display()
        ))
    })?;
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            let r = p.join("results.json");
            if r.is_file() {
                files.push(r);
            }
        } else if p.extension().is_some_and(|x| x == "json") {
            files.push(p);
        }
    }
    files.sort();
    let mut runs = Vec::new();
    let mut warnings = Vec::new();
    for f in files {
        match std::fs::read(&f) {
            Ok(b) => match parse_run(&f.display().to_string(), &b) {
                Ok(r) => runs.push(r),
                Err(e) => warnings.push(format!("baseline file skipped: {e}")),
            },
            Err(e) => warnings.push(format!("baseline file '{}' skipped: {e}", f.display())),
        }
    }
    for w in &warnings {
        tracing::warn!("{w}");
    }
    Ok((crate::gate::history::last_n_by_start(runs, n), warnings))
}

/// Load the baseline named by `cfg.baseline` for `current`. A missing file or folder is bad input
/// ([`InputError`]); storage failures are errors with context.
pub async fn load_baseline(
    current: &RunResult,
    cfg: &GateConfig,
    location: &HistoryLocation,
    buckets: &impl Buckets,
) -> anyhow::Result<Baseline> {
    let Some(spec) = cfg.baseline.as_deref() else {
        return Err(InputError::new(
            "input 'baseline' is required: a results.json path, a folder of runs, an s3:// URI, or 'history'",
        )
        .into());
    };
    let n = cfg.history_runs;
    match BaselineSource::parse(spec)? {
        BaselineSource::Path(p) if p.is_dir() => {
            let (runs, notes) = read_folder(&p, n)?;
            Ok(Baseline {
                source: p.display().to_string(),
                runs,
                notes,
            })
        }
        BaselineSource::Path(p) => Ok(Baseline {
            source: p.display().to_string(),
            runs: vec![read_result_file(&p, "baseline")?],
            notes: Vec::new(),
        }),
        BaselineSource::History => {
            let branch = cfg
                .history_branch
                .clone()
                .unwrap_or_else(super::base_branch);
            let pre = prefix(&ProfileKey::of(current), &branch);
            if let Some(bucket) = &location.bucket {
                from_bucket(buckets, bucket, &pre, n).await
            } else if let Some(dir) = &location.dir {
                from_store(&LocalDirStore::new(dir), &pre, n).await
            } else {
                Err(InputError::new(
                    "input 'baseline' is 'history', which needs input 'metrics_export_s3_bucket' (or 'history_dir' for a local history)",
                )
                .into())
            }
        }
        BaselineSource::S3Prefix { bucket, prefix } => {
            from_bucket(buckets, &bucket, &prefix, n).await
        }
        BaselineSource::S3Object { bucket, key } => s3_object(buckets, &bucket, &key).await,
    }
}

async fn from_bucket(
    buckets: &impl Buckets,
    bucket: &str,
    prefix: &str,
    n: usize,
) -> anyhow::Result<Baseline> {
    let store = buckets.open(bucket).await;
    from_store(&store, prefix, n).await
}

/// One pinned run in S3; a missing or unreadable object is bad input.
async fn s3_object(buckets: &impl Buckets, bucket: &str, key: &str) -> anyhow::Result<Baseline> {
    let store = buckets.open(bucket).await;
    let uri = format!("s3://{bucket}/{key}");
    let bytes = match store.get(key).await {
        Ok(b) => b,
        Err(e) if e.downcast_ref::<NotFound>().is_some() => {
            return Err(InputError::new(format!("input 'baseline': {e}")).into())
        }
        Err(e) => return Err(e.context(format!("reading the baseline {uri}"))),
    };
    let run =
        parse_run(&uri, &bytes).map_err(|e| InputError::new(format!("input 'baseline': {e}")))?;
    Ok(Baseline {
        source: uri,
        runs: vec![run],
        notes: Vec::new(),
    })
}

async fn from_store<S: HistoryStore>(
    store: &S,
    prefix: &str,
    n: usize,
) -> anyhow::Result<Baseline> {
    let (runs, notes) = read_runs(store, prefix, n).await?;
    Ok(Baseline {
        source: format!("{}/{prefix}", store.describe().trim_end_matches('/')),
        runs,
        notes,
    })
}

/// The gate for a finished run (what `run` calls): load the baseline `cfg.baseline` names and
/// compare. `None` when no baseline was asked for.
pub async fn gate_run(
    current: &RunResult,
    cfg: &GateConfig,
    location: &HistoryLocation,
    buckets: &impl Buckets,
) -> anyhow::Result<Option<Comparison>> {
    if cfg.baseline.is_none() {
        return Ok(None);
    }
    let baseline = load_baseline(current, cfg, location, buckets).await?;
    Ok(Some(crate::gate::compare(current, &baseline, cfg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_sources_parse() {
        assert_eq!(
            BaselineSource::parse("history").unwrap(),
            BaselineSource::History
        );
        assert_eq!(
            BaselineSource::parse("s3://b/history/p/main/").unwrap(),
            BaselineSource::S3Prefix {
                bucket: "b".into(),
                prefix: "history/p/main/".into()
            }
        );
        assert_eq!(
            BaselineSource::parse("s3://b/x/results.json").unwrap(),
            BaselineSource::S3Object {
                bucket: "b".into(),
                key: "x/results.json".into()
            }
        );
        assert_eq!(
            BaselineSource::parse("s3://b").unwrap(),
            BaselineSource::S3Prefix {
                bucket: "b".into(),
                prefix: String::new()
            }
        );
        assert!(BaselineSource::parse("s3:///x").is_err());
        assert_eq!(
            BaselineSource::parse("./a.json").unwrap(),
            BaselineSource::Path("./a.json".into())
        );
    }
}
