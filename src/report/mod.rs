//! Reports rendered from a [`crate::results::RunResult`]: pure byte producers, no I/O.
//!
//! Each format is an [`Exporter`]; [`render_all`] produces the whole report as relative paths and
//! bytes, for the caller to write to the output folder, S3 or a job summary.

mod axes;
pub mod chart;
mod chart_panels;
pub mod csv;
mod draw;
pub mod headline;
pub mod human;
pub mod markdown;
pub mod matrix;
pub mod md_escape;
mod overlay;
pub mod server_stats;
pub mod text;
pub mod timeline;
pub mod trend_chart;

use std::path::PathBuf;

use anyhow::anyhow;

use crate::results::RunResult;

/// A report format: turns a result into the bytes of one file.
pub trait Exporter {
    /// Render the result.
    fn render(&self, r: &RunResult) -> anyhow::Result<Vec<u8>>;
}

/// The files of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum ExportFormat {
    /// `summary.md`: GitHub markdown for the job summary and the PR comment.
    Markdown,
    /// `chart.png`: throughput, latency and server CPU over time.
    Chart,
    /// `metrics/{cluster}.csv`: server metrics, one row per node per sample.
    ServerCsv,
    /// `metrics/{cluster}-client.csv`: the per-second client series.
    ClientCsv,
}

impl ExportFormat {
    /// Every format, in the order [`render_all`] produces them.
    pub const ALL: [Self; 4] = [
        Self::Markdown,
        Self::Chart,
        Self::ServerCsv,
        Self::ClientCsv,
    ];

    /// The exporter of this format, with default settings.
    pub fn exporter(self) -> Box<dyn Exporter> {
        match self {
            Self::Markdown => Box::new(markdown::MarkdownExporter),
            Self::Chart => Box::new(chart::ChartExporter::default()),
            Self::ServerCsv => Box::new(csv::ServerCsvExporter),
            Self::ClientCsv => Box::new(csv::ClientCsvExporter),
        }
    }

    /// The file's path relative to the export folder (the old Terraform layout for the CSVs).
    /// `cluster` must already be a valid file name (see [`check_cluster_name`]).
    pub fn relative_path(self, cluster: &str) -> PathBuf {
        match self {
            Self::Markdown => PathBuf::from("summary.md"),
            Self::Chart => PathBuf::from("chart.png"),
            Self::ServerCsv => PathBuf::from("metrics").join(format!("{cluster}.csv")),
            Self::ClientCsv => PathBuf::from("metrics").join(format!("{cluster}-client.csv")),
        }
    }

    /// Whether a result has anything for this format (server metrics for [`Self::ServerCsv`]).
    pub fn applies_to(self, r: &RunResult) -> bool {
        match self {
            Self::ServerCsv => r.server.is_some(),
            Self::Markdown | Self::Chart | Self::ClientCsv => true,
        }
    }
}

/// Check that a cluster name can be a file name inside `metrics/`: not empty, at most 255 bytes,
/// no path separators, no `.`/`..`, no control characters.
pub fn check_cluster_name(cluster: &str) -> anyhow::Result<()> {
    let bad = cluster.is_empty()
        || cluster.len() > 255
        || cluster == "."
        || cluster == ".."
        || cluster
            .chars()
            .any(|c| matches!(c, '/' | '\\') || c.is_control());
    if bad {
        return Err(anyhow!(
            "cluster name {cluster:?} cannot name the metrics CSV files: use 1 to 255 bytes \
             without '/', '\\', control characters, '.' or '..'"
        ));
    }
    Ok(())
}

/// Render every file of the report: `summary.md`, `chart.png`, `metrics/{cluster}.csv` (only
/// when the result has server metrics) and `metrics/{cluster}-client.csv`, as relative paths and
/// bytes. No I/O.
pub fn render_all(r: &RunResult, cluster: &str) -> anyhow::Result<Vec<(PathBuf, Vec<u8>)>> {
    check_cluster_name(cluster)?;
    ExportFormat::ALL
        .into_iter()
        .filter(|f| f.applies_to(r))
        .map(|f| {
            let path = f.relative_path(cluster);
            let bytes = f
                .exporter()
                .render(r)
                .map_err(|e| e.context(format!("rendering {}", path.display())))?;
            Ok((path, bytes))
        })
        .collect()
}
