//! Export of a run's output folder to S3 under the plan's prefix (`{s3_prefix}/exports/{timestamp}/`),
//! after everything was written locally. Each object is tried up to three times (on top of the SDK's
//! own retries); a failure is reported by key and the local copy stays.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::s3;
use super::Clients;

/// Attempts per object.
pub const UPLOAD_ATTEMPTS: u32 = 3;

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
    let mut rep = ExportReport::default();
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
        let mut attempt = 1;
        loop {
            match s3::put_object(&c.s3, bucket, &key, body.clone(), content_type(&path)).await {
                Ok(()) => {
                    rep.uploaded.push(format!("s3://{bucket}/{key}"));
                    break;
                }
                Err(e) if attempt < UPLOAD_ATTEMPTS => {
                    tracing::debug!("attempt {attempt}: {e}; trying again");
                    tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
                    attempt += 1;
                }
                Err(e) => {
                    rep.failed.push(e.to_string());
                    break;
                }
            }
        }
    }
    rep
}
