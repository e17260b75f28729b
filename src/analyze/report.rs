//! The `report` command: re-render the reports (summary.md, chart.png, CSVs) of a `results.json`
//! written by this or an earlier run.

use std::path::PathBuf;

use clap::Args;

use crate::error::InputError;
use crate::files::write_reports;
use crate::outcome::Outcome;
use crate::results::{self, RunResult};

/// `report` flags.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The results.json to render.
    #[arg(long, value_name = "FILE")]
    pub results: PathBuf,
    /// Output folder (default: the folder of results.json).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Read `a.results` (refused, as bad input, unless it is a results.json of this schema) and write
/// its reports beside it or into `--out`.
pub fn command(a: &ReportArgs) -> anyhow::Result<Outcome> {
    let text = std::fs::read_to_string(&a.results)
        .map_err(|e| InputError::new(format!("cannot read '{}': {e}", a.results.display())))?;
    let result: RunResult = serde_json::from_str(&text).map_err(|e| {
        InputError::new(format!(
            "'{}' is not an elasticache-perf results.json: {e}",
            a.results.display()
        ))
    })?;
    if result.schema != results::SCHEMA_ID {
        return Err(InputError::new(format!(
            "'{}' has schema '{}'; this version reads '{}'",
            a.results.display(),
            result.schema,
            results::SCHEMA_ID
        ))
        .into());
    }
    let dir = a
        .out
        .clone()
        .or_else(|| a.results.parent().map(std::path::Path::to_path_buf))
        .unwrap_or_default();
    let cluster = result.run.id.clone().unwrap_or_else(|| "results".into());
    write_reports(&result, &dir, &cluster)?;
    #[allow(clippy::print_stdout)]
    {
        println!("reports written to {}", dir.display());
    }
    Ok(Outcome::Ok)
}
