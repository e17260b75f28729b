//! The report as GitHub shows it: `summary.md`, Mermaid charts of the run and where `chart.png`
//! is; as a PR comment, led by a hidden marker and cut to GitHub's limit. Pure.
//!
//! Untrusted text (task ids, failure reasons, notes) is escaped by `report::markdown`; this module
//! adds only numbers, our own words and links built from the runner's variables.

use crate::report::markdown::GITHUB_COMMENT_MAX_CHARS;
use crate::results::RunResult;

/// Where readers find the chart and the full report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Links {
    /// A URL of `chart.png` that a browser can open (the S3 object of an AWS run).
    pub chart_url: Option<String>,
    /// The workflow run's page (its artifacts are listed there).
    pub run_url: Option<String>,
    /// Where an AWS run's output folder was exported.
    pub export: Option<ExportLink>,
}

/// An export to S3: the `s3://` prefix as text, and the S3 console's page of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportLink {
    /// `s3://bucket/prefix/`.
    pub uri: String,
    /// The S3 console's page of that prefix.
    pub url: String,
}

/// `s` with everything but unreserved characters and `/` percent-encoded (a query value). Pure.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl ExportLink {
    /// The export of `s3://{bucket}/{prefix}` in `region` (`prefix` ends with `/`). Pure.
    pub fn new(bucket: &str, prefix: &str, region: &str) -> Self {
        Self {
            uri: format!("s3://{bucket}/{prefix}"),
            url: format!(
                "https://console.aws.amazon.com/s3/buckets/{}?region={}&prefix={}",
                query_escape(bucket),
                query_escape(region),
                query_escape(prefix)
            ),
        }
    }

    /// The S3 console's page of the object `{prefix}{name}` of this export. Pure.
    pub fn object_url(bucket: &str, prefix: &str, name: &str, region: &str) -> String {
        format!(
            "https://console.aws.amazon.com/s3/object/{}?region={}&prefix={}",
            query_escape(bucket),
            query_escape(region),
            query_escape(&format!("{prefix}{name}"))
        )
    }
}

/// Every marker starts with this; the profile key follows.
pub const MARKER_PREFIX: &str = "<!-- elasticache-perf:comment";

/// The hidden marker of the comment of one profile.
pub fn marker(profile: &str) -> String {
    format!("{MARKER_PREFIX} profile={profile} -->")
}

fn links_line(links: &Links) -> String {
    let mut parts = Vec::new();
    if let Some(c) = &links.chart_url {
        parts.push(format!("📈 [chart.png]({c})"));
    }
    if let Some(e) = &links.export {
        // The URI is built from the inputs; a backtick would end the code span early.
        parts.push(format!(
            "📦 exported to [`{}`]({}) (results.json, summary, CSVs, logs)",
            e.uri.replace('`', "'"),
            e.url
        ));
    }
    match &links.run_url {
        Some(r) if parts.is_empty() => {
            return format!(
                "📈 `chart.png`, `results.json`, the CSVs and logs are in the output folder; see the [workflow run]({r}) for its artifacts (upload `output_dir` with actions/upload-artifact).\n"
            )
        }
        Some(r) => parts.push(format!(
            "full report, CSVs and logs: [workflow run]({r}) (artifacts)"
        )),
        None => {}
    }
    if parts.is_empty() {
        String::new()
    } else {
        parts.join(" · ") + "\n"
    }
}

/// The summary, the charts before its closing `<sub>` line (tool and schema), then the links.
fn compose(summary: &str, charts: &str, links: &Links) -> String {
    let summary = summary.trim_end();
    let (body, footer) = match summary.rfind("\n<sub>") {
        Some(i) if !summary[i + 1..].contains('\n') => (&summary[..i], &summary[i + 1..]),
        _ => (summary, ""),
    };
    let mut out = body.trim_end().to_string();
    out.push_str("\n\n");
    if !charts.is_empty() {
        out.push_str("<details open><summary>Over the steady-state window</summary>\n\n");
        out.push_str(charts);
        out.push_str("\n</details>\n\n");
    }
    out.push_str(&links_line(links));
    if !footer.is_empty() {
        out.push('\n');
        out.push_str(footer);
        out.push('\n');
    }
    out
}

fn charts_of(r: &RunResult) -> String {
    let w = &r.steady_state.window;
    let window = w.start_unix_ms.zip(w.end_unix_ms);
    super::mermaid::charts(super::mermaid::in_window(&r.series, window))
}

/// The gate's verdict section (when there is one), then `summary.md`.
fn summary(r: &RunResult, gate: Option<&str>) -> String {
    let s = crate::report::markdown::render(r);
    match gate {
        Some(g) => format!("{}\n\n{s}", g.trim_end()),
        None => s,
    }
}

/// The report for the job summary: the verdict against the baseline (when gated),
/// `summary.md`, the charts and the links.
pub fn report(r: &RunResult, links: &Links, gate: Option<&str>) -> String {
    compose(&summary(r, gate), &charts_of(r), links)
}

/// The PR comment: the marker first (so that no cut can lose it), then the report; within
/// GitHub's 65,536 characters, dropping the charts and then cutting the summary at a line if need be.
pub fn comment(r: &RunResult, links: &Links, marker: &str, gate: Option<&str>) -> String {
    fit_comment(marker, &summary(r, gate), &charts_of(r), links)
}

fn fit_comment(marker: &str, summary: &str, charts: &str, links: &Links) -> String {
    let full = format!("{marker}\n{}", compose(summary, charts, links));
    if full.chars().count() <= GITHUB_COMMENT_MAX_CHARS {
        return full;
    }
    let lean = format!("{marker}\n{}", compose(summary, "", links));
    if lean.chars().count() <= GITHUB_COMMENT_MAX_CHARS {
        return lean;
    }
    const NOTE: &str =
        "\n\n_The report was cut to fit a PR comment; the job summary has all of it._\n";
    let tail = links_line(links);
    let budget = GITHUB_COMMENT_MAX_CHARS
        .saturating_sub(marker.chars().count() + 1 + NOTE.chars().count() + tail.chars().count());
    let cut: String = summary.chars().take(budget).collect();
    let cut = cut.rfind('\n').map_or(cut.as_str(), |i| &cut[..i]);
    format!("{marker}\n{cut}{NOTE}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> RunResult {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/github/results.json"
        ))
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn the_marker_leads_and_the_chart_follows_the_table() {
        let r = result();
        let links = Links {
            chart_url: None,
            run_url: Some("https://github.com/o/r/actions/runs/1".into()),
            export: None,
        };
        let c = comment(&r, &links, &marker("p1"), None);
        assert!(
            c.starts_with("<!-- elasticache-perf:comment profile=p1 -->\n### elasticache-perf: ")
        );
        let table = c.find("| ops/s").or_else(|| c.find("ops/s |")).unwrap();
        let chart = c.find("```mermaid").unwrap();
        assert!(table < chart, "numbers first, then the chart");
        assert!(c.contains("(https://github.com/o/r/actions/runs/1)"));
        assert!(
            c.trim_end().ends_with("</sub>"),
            "the tool's footer stays last"
        );
        assert_eq!(report(&r, &links, None), c.split_once('\n').unwrap().1);
    }

    #[test]
    fn a_huge_report_still_fits_and_keeps_the_marker() {
        let links = Links {
            chart_url: Some("https://example.invalid/chart.png".into()),
            run_url: None,
            export: None,
        };
        let m = marker(&"p".repeat(100));
        let charts = "```mermaid\nxychart-beta\n```\n";
        let summary = "| a | b |\n".repeat(8_000);
        let c = fit_comment(&m, &summary, charts, &links);
        assert!(c.chars().count() <= GITHUB_COMMENT_MAX_CHARS);
        assert!(c.starts_with(&m));
        assert!(!c.contains("mermaid"), "the charts go first");
        assert!(c.contains("cut to fit") && c.ends_with("(https://example.invalid/chart.png)\n"));
        assert!(c
            .lines()
            .all(|l| l.is_empty() || !l.starts_with("| a | b |x")));
        let small = fit_comment(&m, "| a | b |\n", charts, &links);
        assert!(small.contains("mermaid") && !small.contains("cut to fit"));
    }

    #[test]
    fn an_export_is_linked_beside_the_chart() {
        let bucket = "my-bench-exports";
        let prefix = "team a/exports/20261206T050000Z/";
        let links = Links {
            chart_url: Some(ExportLink::object_url(
                bucket,
                prefix,
                "chart.png",
                "eu-west-1",
            )),
            run_url: Some("https://github.com/o/r/actions/runs/1".into()),
            export: Some(ExportLink::new(bucket, prefix, "eu-west-1")),
        };
        assert_eq!(
            links_line(&links),
            "📈 [chart.png](https://console.aws.amazon.com/s3/object/my-bench-exports?region=eu-west-1&prefix=team%20a/exports/20261206T050000Z/chart.png) · \
             📦 exported to [`s3://my-bench-exports/team a/exports/20261206T050000Z/`](https://console.aws.amazon.com/s3/buckets/my-bench-exports?region=eu-west-1&prefix=team%20a/exports/20261206T050000Z/) (results.json, summary, CSVs, logs) · \
             full report, CSVs and logs: [workflow run](https://github.com/o/r/actions/runs/1) (artifacts)\n"
        );
    }
}
