//! The gate inside `run`, as the action runs it on the local target: each finished run is stored
//! in the history (`history_dir`), `baseline: history` gates the next run against it, and a
//! baseline that was three times faster fails the step with exit 1, `verdict=regressed`, the
//! verdict in the job summary, `gate.json`/`gate.md` beside the results, the baseline drawn over
//! `chart.png` and the history's `trend.png`.

#![allow(clippy::unwrap_used)]

use crate::action_harness;

use action_harness::*;
use serde_json::{json, Value};

const NO_API: &str = "http://127.0.0.1:9";

fn output(step: &Step, name: &str) -> String {
    step.read(&step.output)
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")).map(str::to_string))
        .unwrap_or_default()
}

/// Pixels in the baseline's colour in a chart.
fn baseline_pixels(png: &std::path::Path) -> usize {
    let c = elasticache_perf::report::chart::BASELINE;
    image::open(png)
        .unwrap()
        .to_rgb8()
        .pixels()
        .filter(|p| p.0 == [c.0, c.1, c.2])
        .count()
}

/// A copy of `from` at `to` (a history handed from one job's workspace to the next one's, as an
/// artifact or a cache would).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for f in files_under(from) {
        let dest = to.join(f.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, &dest).unwrap();
    }
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A run on main: no baseline, stored in the history (the folder `h` of the workspace). Returns
/// its step.
fn run_on_main_is_stored(h: &str) -> Step {
    // 1. A run on main: no baseline, stored in the history.
    let a = Step::new("push", &json!({}));
    let o = a
        .main(
            &Step::local_inputs("ecp-gate-1", &[("history_dir", h)]),
            NO_API,
        )
        .env("GITHUB_REF_NAME", "main")
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_eq!(output(&a, "verdict"), "none");
    let hist_a = a.workspace.join(h);
    let stored = files_under(&hist_a);
    assert_eq!(stored.len(), 1, "{stored:?}");
    let rel = stored[0]
        .strip_prefix(&hist_a)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        rel.starts_with("history/") && rel.contains("/main/"),
        "{rel}"
    );
    assert!(!a.out_dir().join("gate.json").exists());
    assert!(!a.out_dir().join("trend.png").exists());
    assert_eq!(baseline_pixels(&a.out_dir().join("chart.png")), 0);
    a
}

/// A PR run gated against the history of main (`hist_a`): a verdict, in the outputs, the summary
/// and files; the run goes to its own branch's history.
fn pr_run_is_gated_against_main(h: &str, hist_a: &std::path::Path) {
    // 2. A PR run gated against that history: a verdict, in the outputs, the summary and files.
    let b = Step::new("pull_request", &json!({"pull_request": {"number": 3}}));
    copy_dir(hist_a, &b.workspace.join(h));
    let o = b
        .main(
            &Step::local_inputs(
                "ecp-gate-2",
                &[
                    ("history_dir", h),
                    ("baseline", "history"),
                    ("fail_on_regression", "false"),
                    ("comment", "never"),
                ],
            ),
            NO_API,
        )
        .env("GITHUB_HEAD_REF", "feature-x")
        .env("GITHUB_BASE_REF", "main")
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let verdict = output(&b, "verdict");
    assert!(
        ["improved", "regressed", "no_change", "inconclusive"].contains(&verdict.as_str()),
        "{verdict}"
    );
    let gate: Value = serde_json::from_str(&b.read(&b.out_dir().join("gate.json"))).unwrap();
    assert_eq!(gate["verdict"], verdict.as_str());
    // The baseline is the PR's base branch's history: the run of step 1.
    assert_eq!(gate["baseline"]["runs"], 1, "{gate}");
    assert!(
        gate["baseline"]["source"]
            .as_str()
            .unwrap()
            .ends_with("/main/"),
        "{gate}"
    );
    let md = b.read(&b.out_dir().join("gate.md"));
    assert!(
        b.read(&b.summary).starts_with(md.trim_end()),
        "the verdict leads the summary"
    );
    // The PR run went to its own branch's history, not main's.
    assert!(files_under(&b.workspace.join(h))
        .iter()
        .any(|p| p.to_string_lossy().contains("/feature-x/")));
}

/// Against a history ten times as fast as run `a` (three runs, a few % apart): regressed, exit
/// 1, with the baseline over the chart and a trend.
fn regression_fails_the_step(a: &Step) {
    // 3. Against a history ten times as fast (three runs, a few % apart): regressed, exit 1. Ten, not
    // two or three: run A and this run share a loaded machine, and one may be twice the other.
    let c = Step::new("push", &json!({}));
    let fast = c.workspace.join("fast");
    std::fs::create_dir_all(&fast).unwrap();
    for (i, k) in [9.8, 10.0, 10.2].into_iter().enumerate() {
        let mut base: Value =
            serde_json::from_str(&a.read(&a.out_dir().join("results.json"))).unwrap();
        scale_ops(&mut base, k);
        base["run"]["id"] = json!(format!("ecp-fast-{i}"));
        std::fs::write(
            fast.join(format!("{i}.json")),
            serde_json::to_vec(&base).unwrap(),
        )
        .unwrap();
    }
    let o = c
        .main(
            &Step::local_inputs("ecp-gate-3", &[("baseline", "fast")]),
            NO_API,
        )
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert_eq!(output(&c, "verdict"), "regressed", "{stderr}");
    assert!(
        stderr
            .contains("::error title=elasticache-perf::performance regressed against the baseline"),
        "{stderr}"
    );
    // The baseline is drawn over the run's chart, and the three runs and this one make a trend.
    assert!(baseline_pixels(&c.out_dir().join("chart.png")) > 500);
    let trend = image::open(c.out_dir().join("trend.png")).unwrap();
    assert_eq!(
        (trend.width(), trend.height()),
        elasticache_perf::report::trend_chart::DEFAULT_SIZE
    );
}

#[test]
fn runs_are_stored_gated_against_history_and_a_regression_fails_the_step() {
    // The history is a folder in the workspace (paths outside it are refused in Actions).
    let h = "perf-history";

    let a = run_on_main_is_stored(h);
    pr_run_is_gated_against_main(h, &a.workspace.join(h));
    regression_fails_the_step(&a);

    // 4. A baseline that does not exist is bad input, before anything runs.
    let d = Step::new("push", &json!({}));
    let o = d
        .main(
            &Step::local_inputs("ecp-gate-4", &[("baseline", "nonexistent/results.json")]),
            NO_API,
        )
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("input 'baseline' names 'nonexistent/results.json'"),
        "{stderr}"
    );
    assert!(!d.out_dir().join("results.json").exists());
}
