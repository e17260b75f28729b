//! Run history and baselines from storage: the [`HistoryStore`] seam (a local folder here, S3 in
//! `crate::aws`), storing a run as its own object, reading the newest N good runs, and recording a
//! finished run. Loading the baseline a user named is in [`baseline`].

pub mod baseline;

use std::future::Future;
use std::path::PathBuf;

use anyhow::Context as _;

use crate::gate::history::{newest_first, object_key, parse_run};
use crate::results::RunResult;

pub use baseline::{gate_run, load_baseline, read_results, BaselineSource};

/// The first of `vars` that is set and not blank, else `local`.
fn branch_from_env(vars: &[&str]) -> String {
    vars.iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|b| b.trim().to_string())
        .find(|b| !b.is_empty())
        .unwrap_or_else(|| "local".into())
}

/// The branch a run is stored under: a PR's head branch, else the ref's name (a push or a
/// schedule), else `local` (outside Actions).
pub fn stored_branch() -> String {
    branch_from_env(&["GITHUB_HEAD_REF", "GITHUB_REF_NAME"])
}

/// The branch whose history is the baseline when `history_branch` is not given: a PR's base
/// branch, else the ref's name (a nightly run on main compares with main's earlier runs), else
/// `local` — so that runs outside Actions find each other.
pub fn base_branch() -> String {
    branch_from_env(&["GITHUB_BASE_REF", "GITHUB_REF_NAME"])
}

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

/// A store's answer for a key that is not there (a pinned baseline that is missing is bad input).
#[derive(Debug, thiserror::Error)]
#[error("{uri} does not exist")]
pub struct NotFound {
    /// The object, as the user names it (`s3://bucket/key`).
    pub uri: String,
}

/// Opens the history kept in a bucket. History knows no cloud: the caller hands it the backend
/// (the S3 one lives with the AWS target).
pub trait Buckets {
    /// The store of one bucket.
    type Store: HistoryStore + Send + Sync;
    /// The store of `bucket`.
    fn open(&self, bucket: &str) -> impl Future<Output = Self::Store> + Send;
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

/// Record a finished run in the history (the bucket's, opened by `buckets`, when a bucket is given,
/// else the local folder) under `history/{profile}/{branch}/`; returns where, or `None` when no
/// history is configured.
pub async fn record_run(
    result: &RunResult,
    branch: &str,
    location: &HistoryLocation,
    buckets: &impl Buckets,
) -> anyhow::Result<Option<String>> {
    if let Some(bucket) = &location.bucket {
        let store = buckets.open(bucket).await;
        let key = store_run(&store, result, branch).await?;
        Ok(Some(format!("s3://{bucket}/{key}")))
    } else if let Some(dir) = &location.dir {
        let key = store_run(&LocalDirStore::new(dir), result, branch).await?;
        Ok(Some(dir.join(key).display().to_string()))
    } else {
        Ok(None)
    }
}
