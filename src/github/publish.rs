//! Publishing a finished run inside GitHub Actions: step outputs, the job summary, annotations and
//! the sticky PR comment. A comment that cannot be made (a fork's read-only token, no PR, no
//! token) is a warning, never a failed step: the report is in the job summary either way.

use std::path::Path;
use std::time::Duration;

use octocrab::Octocrab;

use super::actions;
use super::body::{self, ExportLink, Links};
use super::client::{self, GithubError};
use super::commands::{self, Level};
use super::comment::{self, PullRequest, Upserted};
use super::context::ActionContext;
use super::issue;
use super::options::{CommentPolicy, Options};
use super::outputs::{self, Paths};
use crate::config::GithubInputs;
use crate::error::InputError;
use crate::gate::Comparison;
use crate::outcome::Outcome;
use crate::results::RunResult;

/// First wait between attempts of a GitHub call.
const RETRY_BASE: Duration = Duration::from_millis(500);

/// Where an AWS run's output folder was exported: the `s3_prefix` output and the comment's links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exported {
    /// The bucket.
    pub bucket: String,
    /// The key prefix of the run's files, ending with `/`.
    pub prefix: String,
    /// The bucket's region (for the console links).
    pub region: String,
    /// Whether `chart.png` is among the exported files.
    pub chart: bool,
}

/// What a publication left that a later one of the same run updates: where its part of the job
/// summary starts, and the outcome it announced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Published {
    summary_from: Option<u64>,
    outcome: Option<Outcome>,
}

/// One run's report to publish (a matrix's is [`MatrixReport`]).
pub struct Report<'a> {
    /// The run's result.
    pub result: &'a RunResult,
    /// Its output folder (summary.md, chart.png are read from there).
    pub out_dir: &'a Path,
    /// How it ended, after the gate.
    pub outcome: Outcome,
    /// The gate's comparison, when it compared.
    pub gate: Option<&'a Comparison>,
    /// Where the output folder was exported, when it was (the links point there).
    pub exported: Option<&'a Exported>,
}

/// Publish a run's report: step outputs, job summary, annotations, the sticky PR comment, the
/// regression issue. Outside Actions (`GITHUB_ACTIONS` unset) it does nothing. Fails only when
/// the runner's files cannot be written. With `earlier` (what a first report of the same run
/// published), this is its update: its part of the job summary is replaced, the outputs set
/// again (the last value counts), the sticky comment updated, and neither the annotations of an
/// unchanged outcome nor the regression issue are repeated.
pub async fn publish(
    run: &Report<'_>,
    opts: &Options,
    earlier: Option<&Published>,
) -> anyhow::Result<Published> {
    if !super::context::in_actions() {
        return Ok(Published::default());
    }
    let ctx = ActionContext::from_env();
    commands::group(if earlier.is_some() {
        "publish (update)"
    } else {
        "publish"
    });
    let r = publish_with(&ctx, opts, run, earlier).await;
    commands::end_group();
    r
}

async fn publish_with(
    ctx: &ActionContext,
    opts: &Options,
    run: &Report<'_>,
    earlier: Option<&Published>,
) -> anyhow::Result<Published> {
    let Report {
        result,
        out_dir,
        outcome,
        gate,
        exported,
    } = *run;
    let verdict = gate.map_or(outputs::NO_VERDICT, |c| c.verdict.as_str());
    let gate_md = gate.map(crate::gate::markdown_section);
    let chart = out_dir.join("chart.png");
    let paths = Paths {
        results: ctx.workflow_path(&out_dir.join("results.json")),
        chart: if chart.is_file() {
            ctx.workflow_path(&chart)
        } else {
            String::new()
        },
        s3_prefix: exported.map_or_else(String::new, |e| format!("s3://{}/{}", e.bucket, e.prefix)),
    };
    let values = outputs::values(result, verdict, &paths);
    let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    actions::set_outputs(&pairs)?;
    let links = Links {
        chart_url: exported
            .filter(|e| e.chart)
            .map(|e| ExportLink::object_url(&e.bucket, &e.prefix, "chart.png", &e.region)),
        run_url: ctx.run_url(),
        export: exported.map(|e| ExportLink::new(&e.bucket, &e.prefix, &e.region)),
    };
    let summary = body::report(result, &links, gate_md.as_deref());
    let summary_from = match earlier.and_then(|e| e.summary_from) {
        Some(from) => actions::replace_step_summary(from, &summary)?,
        None => actions::append_step_summary(&summary)?,
    };
    let published = Published {
        summary_from,
        outcome: Some(outcome),
    };
    let announced = earlier.and_then(|e| e.outcome) == Some(outcome);
    match outcome {
        _ if announced => {}
        Outcome::RunFailed => commands::annotate(
            Level::Error,
            Some("elasticache-perf"),
            &format!(
                "the run failed: {}",
                result.notes.first().map_or("see the log", String::as_str)
            ),
        ),
        Outcome::Interrupted => {
            commands::annotate(
                Level::Warning,
                Some("elasticache-perf"),
                "interrupted: the outputs cover the part that ran; no PR comment",
            );
            return Ok(published);
        }
        Outcome::Regression => commands::annotate(
            Level::Error,
            Some("elasticache-perf"),
            "performance regressed against the baseline: see the summary",
        ),
        Outcome::BadInput => commands::annotate(
            Level::Warning,
            Some("elasticache-perf"),
            "the run could not be compared with its baseline: see the summary",
        ),
        Outcome::Ok => {}
    }
    if outcome == Outcome::Interrupted {
        return Ok(published);
    }
    let regressed = gate.is_some_and(Comparison::is_regression);
    comment_on_pr(ctx, opts, result, &links, regressed, gate_md.as_deref()).await;
    if regressed && opts.regression_issue && earlier.is_none() {
        regression_issue(ctx, opts, result, &links, gate_md.as_deref()).await;
    }
    Ok(published)
}

/// A client for the repository of this run, or why there is none (a warning).
fn api(ctx: &ActionContext, opts: &Options, what: &str) -> Option<(Octocrab, String, String)> {
    let Some(token) = &opts.token else {
        warn(&format!(
            "no github_token: no {what}; the report is in the job summary"
        ));
        return None;
    };
    let Some((owner, repo)) = ctx.owner_repo() else {
        warn(&format!(
            "GITHUB_REPOSITORY '{}' is not owner/repo: no {what}",
            ctx.repository
        ));
        return None;
    };
    match client::client(&ctx.api_url, token) {
        Ok(o) => Some((o, owner.to_string(), repo.to_string())),
        Err(e) => {
            warn(&format!("{e:#}"));
            None
        }
    }
}

/// Open the profile's regression issue, or comment on it. Never fails: a warning says why not.
async fn regression_issue(
    ctx: &ActionContext,
    opts: &Options,
    result: &RunResult,
    links: &Links,
    gate_md: Option<&str>,
) {
    let Some((octo, owner, repo)) = api(ctx, opts, "regression issue") else {
        return;
    };
    let profile = opts
        .profile
        .clone()
        .unwrap_or_else(|| super::profile::derive(result));
    let title = issue::title(&profile);
    let author = comment::author(&octo, RETRY_BASE).await;
    let text = body::comment(result, links, &body::marker(&profile), gate_md);
    match issue::file(&octo, &owner, &repo, &title, &text, &author, RETRY_BASE).await {
        Ok(issue::Filed::Opened(n)) => tracing::info!("regression issue #{n} opened: {title}"),
        Ok(issue::Filed::Commented(n)) => {
            tracing::info!("regression issue #{n} ({title}): this run added as a comment");
        }
        Err(e @ GithubError::Forbidden { .. }) => warn(&format!(
            "cannot file the regression issue ({e}): the token needs `issues: write`; the report is in the job summary"
        )),
        Err(e) => warn(&format!(
            "could not file the regression issue through {}: {e}",
            ctx.api_url
        )),
    }
}

fn warn(message: &str) {
    commands::annotate(Level::Warning, Some("PR comment"), message);
}

/// Comment, or say why not. Never fails: the report is in the job summary.
pub(crate) async fn comment_on_pr(
    ctx: &ActionContext,
    opts: &Options,
    result: &RunResult,
    links: &Links,
    regressed: bool,
    gate_md: Option<&str>,
) {
    let profile = opts
        .profile
        .clone()
        .unwrap_or_else(|| super::profile::derive(result));
    let marker = body::marker(&profile);
    let text = body::comment(result, links, &marker, gate_md);
    post_comment(ctx, opts, &profile, &marker, &text, regressed).await;
}

/// Create or update the sticky comment `marker` names with `text`, or say why not. Never fails.
async fn post_comment(
    ctx: &ActionContext,
    opts: &Options,
    profile: &str,
    marker: &str,
    text: &str,
    regressed: bool,
) {
    let create = match opts.comment {
        CommentPolicy::Never => return,
        CommentPolicy::Always => true,
        CommentPolicy::OnRegression => regressed,
    };
    let event_pr = ctx.event_pr_number();
    let Some(number) = opts.pr_number.or(event_pr) else {
        tracing::info!(
            "no pull request in this '{}' event: the report is in the job summary only",
            ctx.event_name
        );
        return;
    };
    let Some((octo, owner, repo)) = api(ctx, opts, "PR comment") else {
        return;
    };
    let pr = PullRequest {
        owner: &owner,
        repo: &repo,
        number,
    };
    let r = async {
        // A PR number that came from another workflow's artifact is untrusted: comment only when
        // that PR's head is the commit the triggering run was about.
        if let (Some(head), Some(_)) = (ctx.workflow_run_head_sha(), opts.pr_number) {
            if event_pr != Some(number) {
                let sha = comment::pr_head_sha(&octo, pr, RETRY_BASE).await?;
                if sha != head {
                    return Ok(None);
                }
            }
        }
        let author = comment::author(&octo, RETRY_BASE).await;
        comment::upsert(&octo, pr, text, marker, &author, create, RETRY_BASE)
            .await
            .map(Some)
    }
    .await;
    match r {
        Ok(Some(Upserted::Created(id))) => {
            tracing::info!("PR #{number}: comment {id} created (profile {profile})");
        }
        Ok(Some(Upserted::Updated(id))) => {
            tracing::info!("PR #{number}: comment {id} updated (profile {profile})");
        }
        Ok(Some(Upserted::Unchanged(id))) => {
            tracing::info!("PR #{number}: comment {id} already up to date");
        }
        Ok(Some(Upserted::Skipped)) => {
            tracing::info!("PR #{number}: no regression and no earlier comment: not commenting");
        }
        Ok(None) => warn(&format!(
            "PR #{number} is not at the commit this workflow_run is about: not commenting on it"
        )),
        Err(e @ GithubError::Forbidden { .. }) => warn(&format!(
            "cannot comment on PR #{number} ({e}): the token is read-only, as on a PR from a fork, or lacks `pull-requests: write`; the report is in the job summary"
        )),
        Err(e) => warn(&format!(
            "could not comment on PR #{number} through {}: {e}; the report is in the job summary",
            ctx.api_url
        )),
    }
}

/// A workload matrix to publish: its reports and where they are.
#[derive(Clone, Debug)]
pub struct MatrixReport<'a> {
    /// `matrix.json`'s content.
    pub matrix: &'a crate::report::matrix::Matrix,
    /// Each workload's name and its summary (with its gate section, when it was gated).
    pub summaries: Vec<(String, String)>,
    /// The matrix's folder.
    pub out_dir: &'a Path,
    /// How the matrix ends.
    pub outcome: Outcome,
    /// Where its folder was exported, when it was.
    pub exported: Option<&'a Exported>,
}

/// Publish a workload matrix: the job summary (the matrix, then each workload's summary folded),
/// the outputs (`verdict` the worst, `workloads_json` each workload's headline numbers; the single
/// run's numbers empty), and one sticky comment keyed by the matrix's profile (`profile`, or the
/// workloads' names). With `earlier`, an update, as for [`publish`].
pub async fn publish_matrix(
    m: &MatrixReport<'_>,
    opts: &Options,
    earlier: Option<&Published>,
) -> anyhow::Result<Published> {
    if !super::context::in_actions() {
        return Ok(Published::default());
    }
    let ctx = ActionContext::from_env();
    commands::group("publish");
    let out_dir = m.out_dir;
    let chart = out_dir.join("chart.png");
    let values = [
        ("verdict", m.matrix.verdict.clone()),
        (
            "results_path",
            ctx.workflow_path(&out_dir.join("matrix.json")),
        ),
        (
            "chart_path",
            if chart.is_file() {
                ctx.workflow_path(&chart)
            } else {
                String::new()
            },
        ),
        (
            "s3_prefix",
            m.exported
                .map_or_else(String::new, |e| format!("s3://{}/{}", e.bucket, e.prefix)),
        ),
        ("run_id", m.matrix.run_id.clone()),
        ("workloads_json", m.matrix.workloads_json()),
    ];
    let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    actions::set_outputs(&pairs)?;
    let mut text = m.matrix.markdown();
    if let Some(e) = m.exported {
        let link = ExportLink::new(&e.bucket, &e.prefix, &e.region);
        text.push_str(&format!(
            "\n📦 exported to [`{}`]({}) (each workload in its own folder)\n",
            link.uri, link.url
        ));
    }
    let mut summary = text.clone();
    for (name, md) in &m.summaries {
        summary.push_str(&format!(
            "\n<details><summary>{}</summary>\n\n{md}\n</details>\n",
            crate::report::md_escape::escape(name, 40)
        ));
    }
    let summary_from = match earlier.and_then(|e| e.summary_from) {
        Some(from) => actions::replace_step_summary(from, &summary)?,
        None => actions::append_step_summary(&summary)?,
    };
    let regressed = m.matrix.verdict == "regressed";
    let announced = earlier.and_then(|e| e.outcome) == Some(m.outcome);
    if !announced {
        match m.outcome {
            Outcome::RunFailed => commands::annotate(
                Level::Error,
                Some("elasticache-perf"),
                "a workload of the matrix failed: see the summary",
            ),
            Outcome::Regression => {
                let which: Vec<&str> = m
                    .matrix
                    .workloads
                    .iter()
                    .filter(|e| e.verdict == "regressed")
                    .map(|e| e.name.as_str())
                    .collect();
                commands::annotate(
                    Level::Error,
                    Some("elasticache-perf"),
                    &format!("performance regressed in workload(s) {}", which.join(", ")),
                );
            }
            _ => {}
        }
    }
    if m.outcome != Outcome::Interrupted {
        let names: Vec<&str> = m.matrix.workloads.iter().map(|e| e.name.as_str()).collect();
        let profile = opts
            .profile
            .clone()
            .unwrap_or_else(|| format!("matrix-{}", names.join("-")));
        let marker = body::marker(&profile);
        let comment = format!("{marker}\n{text}");
        post_comment(&ctx, opts, &profile, &marker, &comment, regressed).await;
    }
    commands::end_group();
    Ok(Published {
        summary_from,
        outcome: Some(m.outcome),
    })
}

/// Largest `results.json` the `publish` command reads (it may come from another workflow's
/// artifact: untrusted, so bounded).
pub const MAX_RESULTS_BYTES: u64 = 64 * 1024 * 1024;

/// Read a `results.json` that may come from an untrusted artifact: bounded, parsed, schema checked.
pub fn load_results(path: &Path) -> Result<RunResult, InputError> {
    let bad = |why: String| {
        InputError::new(format!(
            "input 'results_path' ('{}'): {why}",
            path.display()
        ))
    };
    let len = std::fs::metadata(path)
        .map_err(|e| bad(format!("cannot read it: {e}")))?
        .len();
    if len > MAX_RESULTS_BYTES {
        return Err(bad(format!("{len} bytes is more than {MAX_RESULTS_BYTES}")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let r: RunResult = serde_json::from_str(&text)
        .map_err(|e| bad(format!("not an elasticache-perf results.json: {e}")))?;
    if r.schema != crate::results::SCHEMA_ID {
        return Err(bad(format!(
            "schema '{}' is not '{}'",
            r.schema.chars().take(80).collect::<String>(),
            crate::results::SCHEMA_ID
        )));
    }
    Ok(r)
}

/// The `publish` command: publish a `results.json` written by an earlier run (the fork-safe
/// `workflow_run` pattern: the unprivileged workflow uploads it, the privileged one comments).
/// Reports are rendered afresh from the numbers; no markdown from the artifact is posted.
pub async fn publish_file(path: &Path, inputs: &GithubInputs) -> anyhow::Result<Outcome> {
    super::workspace::check_results_path(path)?;
    let result = load_results(path)?;
    if super::context::in_actions() {
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        let opts = Options::from_inputs(inputs).map_err(InputError::from)?;
        let report = Report {
            result: &result,
            out_dir: dir,
            outcome: Outcome::Ok,
            gate: None,
            exported: None,
        };
        publish(&report, &opts, None).await?;
    } else {
        tracing::info!(
            "not inside GitHub Actions (GITHUB_ACTIONS is not 'true'): nothing to publish to"
        );
    }
    Ok(Outcome::Ok)
}
