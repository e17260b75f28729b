//! Export of a run's output folder to S3 under the plan's prefix (`{s3_prefix}/exports/{timestamp}/`),
//! after everything was written locally. An object that fails with a transient error is tried again
//! within the upload policy's budget (on top of the SDK's own retries); one that still fails, or
//! fails for good (access denied, no such bucket), is reported by key and the local copy stays.

use std::path::{Path, PathBuf};

use super::s3;
use super::timeouts::Policies;
use super::Clients;
use crate::retry::retry;

/// What the export did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// `s3://bucket/key` of every object written.
    pub uploaded: Vec<String>,
    /// Objects that could not be written, with the reason.
    pub failed: Vec<String>,
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            files(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()) {
        Some("json") => "application/json",
        Some("csv") => "text/csv",
        Some("md") => "text/markdown; charset=utf-8",
        Some("png") => "image/png",
        Some("txt" | "hgrm" | "jsonl") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Upload every file under `dir` to `s3://bucket/prefix<relative path>`.
pub async fn upload_dir(c: &Clients, bucket: &str, prefix: &str, dir: &Path) -> ExportReport {
    let policy = &Policies::AWS.upload;
    let mut rep = ExportReport::default();
    // The bucket may be in another region than the run (preflight found it; look again here).
    let s3 = match s3::client_for_bucket(&c.s3, bucket).await {
        Ok(s3) => s3,
        Err(e) => {
            tracing::warn!("{e}; uploading through the run's own region");
            c.s3.clone()
        }
    };
    let mut all = Vec::new();
    if let Err(e) = files(dir, &mut all) {
        rep.failed.push(format!("listing '{}': {e}", dir.display()));
        return rep;
    }
    all.sort();
    for path in all {
        let Ok(rel) = path.strip_prefix(dir) else {
            continue;
        };
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let key = format!("{prefix}{}", rel.join("/"));
        let body = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                rep.failed
                    .push(format!("reading '{}': {e}", path.display()));
                continue;
            }
        };
        let put = retry(
            &format!("uploading s3://{bucket}/{key}"),
            policy,
            super::Error::is_transient,
            || s3::put_object(&s3, bucket, &key, body.clone(), content_type(&path)),
        )
        .await;
        match put {
            Ok(()) => rep.uploaded.push(format!("s3://{bucket}/{key}")),
            Err(e) => rep.failed.push(e.to_string()),
        }
    }
    rep
}
