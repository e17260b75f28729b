//! Reports rendered from a [`crate::results::RunResult`]: pure byte producers, no I/O.
//!
//! Each format is an [`Exporter`]: it turns a result into the bytes of one file.

mod axes;
pub mod chart;
mod chart_panels;
pub mod csv;
pub mod headline;
pub mod human;
pub mod markdown;
pub mod md_escape;
pub mod server_stats;
pub mod text;
pub mod timeline;

use crate::results::RunResult;

/// A report format: turns a result into the bytes of one file.
pub trait Exporter {
    /// Render the result.
    fn render(&self, r: &RunResult) -> anyhow::Result<Vec<u8>>;
}
