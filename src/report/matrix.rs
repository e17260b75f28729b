//! A workload matrix's own reports: `matrix.json` (schema `elasticache-perf/matrix/v1`: each
//! workload's result path, headline numbers and verdict — or, for a workload that never ran, why),
//! the top-level `summary.md` (one row per workload) and `chart.png` (the workloads side by side:
//! throughput and p99). Pure.

use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::draw::{drawing, png_of, text_style, TEXT};
use super::human;
use super::md_escape::escape;
use crate::results::{RunResult, RunStatus};

/// The JSON Schema of `matrix.json`, committed in `schema/matrix-v1.schema.json`.
pub const JSON_SCHEMA: &str = include_str!("../../schema/matrix-v1.schema.json");
/// `matrix.json`'s schema id.
pub const SCHEMA_ID: &str = "elasticache-perf/matrix/v1";
/// Size of the matrix's `chart.png`, px.
pub const CHART_SIZE: (u32, u32) = (1200, 620);

/// A workload's status in the matrix: its result's, or `not_run` when it never ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Complete results, no errors seen.
    Ok,
    /// Partial results, or results that came with errors.
    Degraded,
    /// No usable results.
    Failed,
    /// The matrix ended before this workload started.
    NotRun,
}

impl Status {
    /// The word in `matrix.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Degraded => "degraded",
            Self::Failed => "failed",
            Self::NotRun => "not_run",
        }
    }
}

impl From<RunStatus> for Status {
    fn from(s: RunStatus) -> Self {
        match s {
            RunStatus::Ok => Self::Ok,
            RunStatus::Degraded => Self::Degraded,
            RunStatus::Failed => Self::Failed,
        }
    }
}

/// One workload of the matrix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The workload's name (its folder).
    pub name: String,
    /// Its `results.json`, relative to the matrix's folder; `null` when it never ran.
    pub results: Option<String>,
    /// Its status: `ok`, `degraded`, `failed`, or `not_run`.
    pub status: Status,
    /// Steady-state throughput, ops/s.
    pub ops_per_sec: Option<f64>,
    /// Steady-state p50, ms.
    pub p50_ms: Option<f64>,
    /// Steady-state p99, ms.
    pub p99_ms: Option<f64>,
    /// Steady-state p99.9, ms.
    pub p999_ms: Option<f64>,
    /// The gate's verdict, or `none` when nothing was compared.
    pub verdict: String,
    /// Why a workload never ran (absent for one that ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Entry {
    /// The entry of a workload's result.
    pub fn of(name: &str, r: &RunResult, verdict: &str) -> Self {
        let t = &r.steady_state.total;
        Self {
            name: name.to_string(),
            results: Some(format!("{name}/results.json")),
            status: r.status.into(),
            ops_per_sec: t.ops_per_sec,
            p50_ms: t.latency_ms.p50,
            p99_ms: t.latency_ms.p99,
            p999_ms: t.latency_ms.p99_9,
            verdict: verdict.to_string(),
            reason: None,
        }
    }

    /// The entry of a workload the matrix never started, and why.
    pub fn not_run(name: &str, reason: &str) -> Self {
        Self {
            name: name.to_string(),
            results: None,
            status: Status::NotRun,
            ops_per_sec: None,
            p50_ms: None,
            p99_ms: None,
            p999_ms: None,
            verdict: "none".to_string(),
            reason: Some(reason.to_string()),
        }
    }
}

/// `matrix.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    /// Always [`SCHEMA_ID`].
    pub schema: String,
    /// The run id.
    pub run_id: String,
    /// The matrix's verdict: the worst of its workloads' (`regressed` before `inconclusive`
    /// before `no_change` before `improved` before `none`).
    pub verdict: String,
    /// Every workload the inputs named, in their order; the ones that never ran marked `not_run`.
    pub workloads: Vec<Entry>,
}

/// How bad a verdict is (higher is worse).
fn badness(v: &str) -> u8 {
    match v {
        "regressed" => 4,
        "inconclusive" => 3,
        "no_change" => 2,
        "improved" => 1,
        _ => 0,
    }
}

/// The worst of some verdicts (`none` when there are none).
pub fn worst<'a>(verdicts: impl IntoIterator<Item = &'a str>) -> String {
    verdicts
        .into_iter()
        .max_by_key(|v| badness(v))
        .unwrap_or("none")
        .to_string()
}

impl Matrix {
    /// The matrix of `entries`.
    pub fn new(run_id: &str, workloads: Vec<Entry>) -> Self {
        Self {
            schema: SCHEMA_ID.into(),
            run_id: run_id.into(),
            verdict: worst(workloads.iter().map(|e| e.verdict.as_str())),
            workloads,
        }
    }

    /// The workloads' headline numbers as the action's `workloads_json` output (one line).
    pub fn workloads_json(&self) -> String {
        serde_json::to_string(&self.workloads).unwrap_or_else(|_| "[]".into())
    }

    /// The top-level `summary.md`: one row per workload, linking its own summary.
    pub fn markdown(&self) -> String {
        let count = |s: Status| self.workloads.iter().filter(|e| e.status == s).count();
        let (failed, not_run) = (count(Status::Failed), count(Status::NotRun));
        let mut out = format!(
            "### elasticache-perf: {} workloads on one cache · verdict {}\n\n",
            self.workloads.len(),
            escape(&self.verdict, 16)
        );
        if failed > 0 {
            out.push_str(&format!(
                "{failed} workload(s) failed: their summaries say why.\n\n"
            ));
        }
        if not_run > 0 {
            out.push_str(&format!(
                "{not_run} workload(s) did not run: the matrix ended before them.\n\n"
            ));
        }
        out.push_str("| workload | status | ops/s | p50 | p99 | p99.9 | verdict | details |\n");
        out.push_str("|---|---|---:|---:|---:|---:|---|---|\n");
        for e in &self.workloads {
            let name = escape(&e.name, 40);
            if e.status == Status::NotRun {
                let why = e.reason.as_deref().unwrap_or("the matrix ended before it");
                out.push_str(&format!(
                    "| {name} | not run | {na} | {na} | {na} | {na} | {} | not run: {} |\n",
                    escape(&e.verdict, 16),
                    escape(why, 500),
                    na = human::NOT_AVAILABLE,
                ));
                continue;
            }
            out.push_str(&format!(
                "| {name} | {} | {} | {} | {} | {} | {} | [{name}/summary.md]({name}/summary.md) |\n",
                escape(e.status.as_str(), 16),
                human::count(e.ops_per_sec),
                human::ms(e.p50_ms),
                human::ms(e.p99_ms),
                human::ms(e.p999_ms),
                escape(&e.verdict, 16),
            ));
        }
        out.push_str(&format!(
            "\n<sub>run {} · {}</sub>\n",
            escape(&self.run_id, 40),
            SCHEMA_ID
        ));
        out
    }

    /// The matrix's `chart.png`: throughput and p99 of each workload, side by side.
    pub fn chart_png(&self) -> anyhow::Result<Vec<u8>> {
        png_of(CHART_SIZE, |root| self.draw(root))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let (width, _) = root.dim_in_pixel();
        let (title, body) = root.split_vertically(60);
        title
            .draw_text(
                &format!(
                    "{} workloads on one cache (run {})",
                    self.workloads.len(),
                    self.run_id
                ),
                &text_style(22.0, TEXT),
                (20, 18),
            )
            .map_err(drawing)?;
        let (left, right) = body.split_horizontally(width / 2);
        let ops: Vec<f64> = self
            .workloads
            .iter()
            .map(|e| e.ops_per_sec.unwrap_or(0.0))
            .collect();
        let p99: Vec<f64> = self
            .workloads
            .iter()
            .map(|e| e.p99_ms.unwrap_or(0.0))
            .collect();
        self.bars(
            &left,
            "throughput, ops/s (steady state)",
            &ops,
            &RGBColor(31, 119, 180),
        )?;
        self.bars(
            &right,
            "p99 latency, ms (steady state)",
            &p99,
            &RGBColor(214, 39, 40),
        )
    }

    fn bars<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        caption: &str,
        values: &[f64],
        color: &RGBColor,
    ) -> anyhow::Result<()> {
        let n = i32::try_from(values.len()).unwrap_or(i32::MAX).max(1);
        let top = values.iter().copied().fold(0.0_f64, f64::max).max(1e-9) * 1.15;
        let names: Vec<String> = self
            .workloads
            .iter()
            .map(|e| match e.status {
                Status::NotRun => format!("{} (not run)", e.name),
                _ => e.name.clone(),
            })
            .collect();
        let mut chart = ChartBuilder::on(area)
            .caption(caption, text_style(18.0, TEXT))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((0..n).into_segmented(), 0.0..top)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(values.len().max(1))
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => usize::try_from(*i)
                    .ok()
                    .and_then(|i| names.get(i))
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .label_style(text_style(13.0, TEXT))
            .draw()
            .map_err(drawing)?;
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                let i = i32::try_from(i).unwrap_or(0);
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0.0),
                        (SegmentValue::Exact(i + 1), *v),
                    ],
                    color.filled(),
                );
                bar.set_margin(0, 0, 12, 12);
                bar
            }))
            .map_err(drawing)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, ops: f64, verdict: &str) -> Entry {
        Entry {
            name: name.into(),
            results: Some(format!("{name}/results.json")),
            status: Status::Ok,
            ops_per_sec: Some(ops),
            p50_ms: Some(0.5),
            p99_ms: Some(1.25),
            p999_ms: Some(2.0),
            verdict: verdict.into(),
            reason: None,
        }
    }

    #[test]
    fn the_matrix_verdict_is_the_worst() {
        assert_eq!(worst(["improved", "regressed", "no_change"]), "regressed");
        assert_eq!(worst(["none", "inconclusive"]), "inconclusive");
        assert_eq!(worst([]), "none");
        let m = Matrix::new(
            "r1",
            vec![
                entry("reads", 1000.0, "no_change"),
                entry("writes", 500.0, "regressed"),
            ],
        );
        assert_eq!(m.verdict, "regressed");
        let md = m.markdown();
        assert!(
            md.contains("2 workloads on one cache · verdict regressed"),
            "{md}"
        );
        assert!(md.contains("| writes | ok |"), "{md}");
        assert!(md.contains("[reads/summary.md](reads/summary.md)"), "{md}");
        let json: serde_json::Value = serde_json::from_str(&m.workloads_json()).unwrap();
        assert_eq!(json[1]["name"], "writes");
        assert_eq!(json[1]["verdict"], "regressed");
    }

    #[test]
    fn a_workload_that_did_not_run_is_a_row_with_its_reason() {
        let why = "workload 'reads' failed: the load was cut short: no progress for 120 s";
        let m = Matrix::new(
            "r1",
            vec![
                entry("reads", 1000.0, "no_change"),
                Entry::not_run("writes", why),
                Entry::not_run("big-values", "interrupted"),
            ],
        );
        // The verdict is the ran workloads' alone.
        assert_eq!(m.verdict, "no_change");
        let md = m.markdown();
        assert!(
            md.contains("3 workloads on one cache · verdict no_change"),
            "{md}"
        );
        assert!(
            md.contains("2 workload(s) did not run: the matrix ended before them."),
            "{md}"
        );
        assert!(
            md.contains(
                "| writes | not run | n/a | n/a | n/a | n/a | none | not run: workload 'reads' failed: the load was cut short: no progress for 120 s |\n"
            ),
            "{md}"
        );
        assert!(
            md.contains(
                "| big-values | not run | n/a | n/a | n/a | n/a | none | not run: interrupted |\n"
            ),
            "{md}"
        );
        // No link to a summary that does not exist.
        assert!(!md.contains("writes/summary.md"), "{md}");
        assert!(md.contains("[reads/summary.md](reads/summary.md)"), "{md}");
        // In JSON: null numbers and results, verdict none, the reason; a ran entry has no reason.
        let json: serde_json::Value = serde_json::from_str(&m.workloads_json()).unwrap();
        assert_eq!(json[1]["status"], "not_run");
        assert_eq!(json[1]["results"], serde_json::Value::Null);
        assert_eq!(json[1]["ops_per_sec"], serde_json::Value::Null);
        assert_eq!(json[1]["verdict"], "none");
        assert_eq!(json[1]["reason"], why);
        assert!(json[0].get("reason").is_none(), "{json}");
        assert_eq!(json[0]["results"], "reads/results.json");
        let schema = serde_json::from_str(JSON_SCHEMA).unwrap();
        let full = serde_json::to_value(&m).unwrap();
        assert!(jsonschema::is_valid(&schema, &full), "{full}");
        // The schema holds a not-run entry to its shape, and a ran one to having no reason.
        for (k, key, bad) in [
            (1, "reason", serde_json::Value::Null),
            (1, "ops_per_sec", serde_json::json!(5.0)),
            (1, "results", serde_json::json!("writes/results.json")),
            (0, "reason", serde_json::json!("why")),
            (0, "results", serde_json::Value::Null),
        ] {
            let mut v = full.clone();
            if bad.is_null() && key == "reason" {
                v["workloads"][k].as_object_mut().unwrap().remove(key);
            } else {
                v["workloads"][k][key] = bad;
            }
            assert!(!jsonschema::is_valid(&schema, &v), "{k} {key}: {v}");
        }
        // And it reads back.
        let back: Matrix = serde_json::from_value(full).unwrap();
        assert_eq!(back, m);
        assert_eq!(&m.chart_png().unwrap()[1..4], b"PNG");
    }

    #[test]
    fn the_chart_is_a_png() {
        let m = Matrix::new(
            "r1",
            vec![
                entry("reads", 1000.0, "none"),
                entry("writes", 500.0, "none"),
            ],
        );
        let png = m.chart_png().unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
