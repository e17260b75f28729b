//! The regression issue against a fake GitHub REST API (wiremock): two nightly runs of one
//! profile that both regress against their baseline open one issue, then comment on it (no second
//! issue); a run that does not regress files nothing; without `regression_issue` nothing is filed;
//! the token appears nowhere but in the Authorization header.

#![allow(clippy::unwrap_used)]

use crate::action_harness;
use crate::github_fake;

use std::path::{Path, PathBuf};

use action_harness::*;
use github_fake::FakeGithub;
use serde_json::{json, Value};

/// A baseline folder of three runs like `results` but `k` times as fast (a few % apart).
fn baseline(results: &Path, dir: &Path, k: f64) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for (i, f) in [0.98, 1.0, 1.02].into_iter().enumerate() {
        let mut v: Value =
            serde_json::from_str(&std::fs::read_to_string(results).unwrap()).unwrap();
        scale_ops(&mut v, k * f);
        v["run"]["id"] = json!(format!("ecp-base-{i}"));
        std::fs::write(
            dir.join(format!("{i}.json")),
            serde_json::to_vec(&v).unwrap(),
        )
        .unwrap();
    }
    dir.to_path_buf()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regressed_nights_make_one_issue_with_a_comment_each() {
    let gh = FakeGithub::start("").await;
    let api = gh.api_url("");
    let work = tempfile::tempdir().unwrap();

    // A first run, to build baselines from.
    let first = Step::new("schedule", &json!({"schedule": "17 3 * * *"}));
    let o = run(first.main(&Step::local_inputs("ecp-issue-0", &[]), &api)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let results = first.out_dir().join("results.json");
    // Baselines far from the first run either way: these 2-second local runs share the machine
    // with the other tests of this binary, and their throughput moves by a factor of two.
    let fast = baseline(&results, &work.path().join("fast"), 10.0);
    let same = baseline(&results, &work.path().join("same"), 0.1);
    let fast = fast.to_str().unwrap();

    let nightly = |id: &'static str, base: &str, file: bool| {
        let step = Step::new("schedule", &json!({"schedule": "17 3 * * *"}));
        // The baseline folder goes into the step's workspace (paths outside it are refused).
        let base = Path::new(base);
        let name = base.file_name().unwrap().to_str().unwrap().to_string();
        std::fs::create_dir_all(step.workspace.join(&name)).unwrap();
        for e in std::fs::read_dir(base).unwrap() {
            let f = e.unwrap().path();
            std::fs::copy(&f, step.workspace.join(&name).join(f.file_name().unwrap())).unwrap();
        }
        // Latency is left out: two 2-second runs differ in their tails by tens of %.
        let mut inputs = Step::local_inputs(id, &[("max_latency_increase_pct", "10000")]);
        inputs.push(("baseline", Box::leak(name.into_boxed_str())));
        inputs.push(("regression_issue", if file { "true" } else { "false" }));
        (step.main(&inputs, &api), step)
    };

    // Two regressed nights: one issue, then a comment on it.
    for (i, id) in ["ecp-issue-1", "ecp-issue-2"].into_iter().enumerate() {
        let (c, step) = nightly(id, fast, true);
        let o = run(c).await;
        let (stdout, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{stderr}");
        assert_no_token("stdout", &stdout);
        assert_no_token("stderr", &stderr);
        for (p, t) in step.all_written_text() {
            assert!(!t.contains(TOKEN), "the token leaked into {}", p.display());
        }
        let s = gh.state.lock().unwrap();
        assert_eq!(s.issues.len(), 1, "night {i}: {:?}", s.issues);
        let issue = &s.issues[0];
        assert!(
            issue.title.starts_with("Performance regression: "),
            "{}",
            issue.title
        );
        assert!(issue.body.contains("regressed"), "{}", issue.body);
        let comments = s.comments.iter().filter(|c| c.pr == issue.number).count();
        assert_eq!(comments, i, "night {i}");
    }
    let n = gh.state.lock().unwrap().issues[0].number;
    let comment = gh.comments(n).pop().unwrap();
    assert!(comment.body.contains("regressed"), "{}", comment.body);

    // A night that does not regress (a slower baseline) files nothing.
    let (c, _step) = nightly("ecp-issue-3", same.to_str().unwrap(), true);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    // Nor does a regressed night without the input.
    let (c, _step) = nightly("ecp-issue-4", fast, false);
    let o = run(c).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o).1);
    let s = gh.state.lock().unwrap();
    assert_eq!(s.issues.len(), 1);
    assert_eq!(s.comments.iter().filter(|c| c.pr == n).count(), 1);
}
