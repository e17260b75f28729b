//! Run history and baselines from storage: the [`HistoryStore`] seam (a local folder here, S3 in
//! `crate::aws`), storing a run as its own object, reading the newest N good runs, and loading
//! the baseline a user named (a file, a folder, an S3 object or prefix, or `history`).

use std::future::Future;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::gate::history::{newest_first, object_key, parse_run, prefix};
use crate::gate::{Baseline, GateConfig, ProfileKey};
use crate::results::RunResult;
use crate::InputError;

/// Where runs are kept: keys are `/`-separated paths such as
/// `history/{profile}/{branch}/{start}-{run id}.json`.
pub trait HistoryStore {
    /// `s3://bucket` or the folder, for messages.
    fn describe(&self) -> String;
    /// The keys directly under `prefix` (which ends with `/`), in any order.
    fn list(&self, prefix: &str) -> impl Future<Output = anyhow::Result<Vec<String>>> + Send;
    /// One object's bytes.
    fn get(&self, key: &str) -> impl Future<Output = anyhow::Result<Vec<u8>>> + Send;
    /// Write one object (a new key per run, so concurrent writers never overwrite each other).
    fn put(&self, key: &str, body: Vec<u8>) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// A history kept in a local folder (same layout as the bucket).
#[derive(Clone, Debug)]
pub struct LocalDirStore {
    root: PathBuf,
}

impl LocalDirStore {
    /// A store rooted at `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

impl HistoryStore for LocalDirStore {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    async fn list(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let dir = self.root.join(prefix);
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("listing history folder '{}'", dir.display()))
            }
        };
        let mut keys = Vec::new();
        for e in rd {
            let e = e.with_context(|| format!("listing history folder '{}'", dir.display()))?;
            if e.file_type().map(|t| t.is_file()).unwrap_or(false) {
                keys.push(format!("{prefix}{}", e.file_name().to_string_lossy()));
            }
        }
        Ok(keys)
    }

    async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        let p = self.root.join(key);
        std::fs::read(&p).with_context(|| format!("reading '{}'", p.display()))
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> anyhow::Result<()> {
        let p = self.root.join(key);
        let dir = p.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating history folder '{}'", dir.display()))?;
        // Write then rename, so a reader never sees half an object.
        let tmp = p.with_extension("json.partial");
        std::fs::write(&tmp, body).with_context(|| format!("writing '{}'", tmp.display()))?;
        std::fs::rename(&tmp, &p).with_context(|| format!("renaming to '{}'", p.display()))
    }
}

/// Store `result` as its own object under `history/{profile}/{branch}/`; returns the key.
pub async fn store_run<S: HistoryStore>(
    store: &S,
    result: &RunResult,
    branch: &str,
) -> anyhow::Result<String> {
    let key = object_key(result, branch);
    let body = serde_json::to_vec_pretty(result).context("serialising results.json")?;
    store.put(&key, body).await.with_context(|| {
        format!(
            "storing the run in the history at {}/{key}",
            store.describe()
        )
    })?;
    Ok(key)
}

/// Most objects read while looking for `n` good runs (corrupt ones are skipped).
fn read_budget(n: usize) -> usize {
    2 * n + 10
}

/// The newest `n` readable runs under `prefix`, oldest first, with a warning for every object
/// that could not be used (unreadable, corrupt, or of another schema).
pub async fn read_runs<S: HistoryStore>(
    store: &S,
    prefix: &str,
    n: usize,
) -> anyhow::Result<(Vec<RunResult>, Vec<String>)> {
    let keys = newest_first(
        store
            .list(prefix)
            .await
            .with_context(|| format!("listing {}/{prefix}", store.describe()))?,
    );
    let mut runs = Vec::new();
    let mut warnings = Vec::new();
    for key in keys.iter().take(read_budget(n)) {
        if runs.len() == n {
            break;
        }
        match store.get(key).await {
            Ok(bytes) => match parse_run(key, &bytes) {
                Ok(r) => runs.push(r),
                Err(e) => warnings.push(format!("history object skipped: {e}")),
            },
            Err(e) => warnings.push(format!("history object {key} skipped: {e:#}")),
        }
    }
    for w in &warnings {
        tracing::warn!("{w}");
    }
    runs.reverse();
    Ok((runs, warnings))
}

/// Where the `history` baseline lives.
#[derive(Clone, Debug, Default)]
pub struct HistoryLocation {
    /// The export bucket (`metrics_export_s3_bucket`).
    pub bucket: Option<String>,
    /// A local history folder (`history_dir`), used when no bucket is given.
    pub dir: Option<PathBuf>,
}

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
            let pre = prefix(&ProfileKey::of(current), &cfg.history_branch);
            if let Some(bucket) = &location.bucket {
                from_s3(bucket, &pre, n).await
            } else if let Some(dir) = &location.dir {
                from_store(&LocalDirStore::new(dir), &pre, n).await
            } else {
                Err(InputError::new(
                    "input 'baseline' is 'history', which needs input 'metrics_export_s3_bucket' (or 'history_dir' for a local history)",
                )
                .into())
            }
        }
        BaselineSource::S3Prefix { bucket, prefix } => from_s3(&bucket, &prefix, n).await,
        BaselineSource::S3Object { bucket, key } => s3_object(&bucket, &key).await,
    }
}

async fn from_s3(bucket: &str, _prefix: &str, _n: usize) -> anyhow::Result<Baseline> {
    Err(InputError::new(format!(
        "input 'baseline': the S3 history (bucket '{bucket}') is not available in this build"
    ))
    .into())
}

async fn s3_object(bucket: &str, key: &str) -> anyhow::Result<Baseline> {
    Err(InputError::new(format!(
        "input 'baseline': s3://{bucket}/{key} cannot be read: S3 is not available in this build"
    ))
    .into())
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
