//! The action end to end on the local target, run as the runner runs it (see `action_harness`):
//! the exact formats of the outputs, state and job summary files, groups and annotations, bad
//! input, the `command` input and the post entrypoint.

#![allow(clippy::unwrap_used)]

mod action_harness;

use action_harness::*;
use elasticache_perf::github::body::{self, Links};
use elasticache_perf::results::RunResult;
use serde_json::json;

/// No HTTP server listens on port 9 of loopback: any GitHub call here would fail loudly.
const NO_API: &str = "http://127.0.0.1:9";

fn results(step: &Step) -> RunResult {
    serde_json::from_str(&std::fs::read_to_string(step.out_dir().join("results.json")).unwrap())
        .unwrap()
}

#[test]
fn a_run_writes_outputs_summary_and_state_in_the_runners_formats() {
    let step = Step::new("pull_request", &json!({"pull_request": {"number": 5}}));
    let o = step
        .main(
            &Step::local_inputs("ecp-action-1", &[("comment", "never")]),
            NO_API,
        )
        .output()
        .unwrap();
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");

    // Outputs: one `name=value` line each, in action.yml's order, paths relative to the workspace.
    let r = results(&step);
    let t = &r.steady_state.total;
    let expected = format!(
        "ops_per_sec={:.2}\np50_ms={:.3}\np99_ms={:.3}\np999_ms={:.3}\nverdict=none\n\
         results_path=elasticache-perf-results/results.json\n\
         chart_path=elasticache-perf-results/chart.png\ns3_prefix=\nrun_id=ecp-action-1\n",
        t.ops_per_sec.unwrap(),
        t.latency_ms.p50.unwrap(),
        t.latency_ms.p99.unwrap(),
        t.latency_ms.p99_9.unwrap(),
    );
    assert_eq!(step.read(&step.output), expected);
    assert!(t.ops_per_sec.unwrap() > 0.0);

    // State for the post step: saved before the run started anything.
    assert_eq!(
        step.read(&step.state),
        "run_id=ecp-action-1\ntarget=local\n"
    );

    // Job summary: summary.md, the Mermaid charts and the link to the run, exactly.
    let summary = step.read(&step.summary);
    let links = Links {
        chart_url: None,
        run_url: Some("https://github.com/o/r/actions/runs/42".into()),
    };
    assert_eq!(summary, body::report(&r, &links));
    assert!(
        summary.starts_with("### elasticache-perf: OK\n"),
        "{summary}"
    );
    assert!(summary.contains("```mermaid\nxychart-beta\n"), "{summary}");
    assert!(
        summary.contains("| **steady state** | total |"),
        "the numbers are in a table"
    );

    // Log: a group per phase, closed; no colour codes; the secret masked first.
    for g in [
        "::group::validate",
        "::group::load",
        "::group::export",
        "::group::publish",
    ] {
        assert!(stderr.lines().any(|l| l == g), "{g} missing:\n{stderr}");
    }
    assert!(stderr.trim_end().ends_with("::endgroup::") || stderr.contains("::endgroup::"));
    assert!(
        !stderr.contains('\u{1b}'),
        "no ANSI colours in the Actions log"
    );
    assert_eq!(
        stderr.lines().next(),
        Some(format!("::add-mask::{TOKEN}").as_str())
    );
    assert_no_token("stderr", &stderr);
    assert_no_token("stdout", &stdout);
    for (p, t) in step.all_written_text() {
        assert!(!t.contains(TOKEN), "the token leaked into {}", p.display());
    }
    for f in ["results.json", "summary.md", "chart.png"] {
        assert!(step.out_dir().join(f).is_file(), "{f}");
    }
}

#[test]
fn multi_line_state_uses_a_heredoc_the_runner_can_parse() {
    // The ledger will be saved this way; check the written form with the runner's rules.
    let step = Step::new("push", &json!({}));
    let f =
        elasticache_perf::github::actions::format_entry("ledger", "{\"a\":1}\n{\"b\":2}").unwrap();
    std::fs::write(&step.state, &f).unwrap();
    let mut lines = f.lines();
    let head = lines.next().unwrap();
    let (name, delim) = head.split_once("<<").unwrap();
    assert_eq!(name, "ledger");
    let body: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
    assert_eq!(body.join("\n"), "{\"a\":1}\n{\"b\":2}");
    assert!(lines.next().is_none());
}

#[test]
fn bad_input_fails_with_an_annotation_and_no_state() {
    let step = Step::new("push", &json!({}));
    let o = step
        .main(
            &Step::local_inputs("ecp-action-2", &[("threads", "0")]),
            NO_API,
        )
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.lines().any(|l| l
            == "::error title=elasticache-perf::input 'threads' must be a whole number from 1 to 1024; got '0'"),
        "{stderr}"
    );
    assert_eq!(
        step.read(&step.state),
        "",
        "nothing was created, nothing to clean up"
    );
    assert_eq!(step.read(&step.output), "");
}

#[test]
fn bad_github_inputs_are_bad_input_too() {
    let step = Step::new("push", &json!({}));
    let o = step
        .main(
            &Step::local_inputs("ecp-action-3", &[("comment", "sometimes")]),
            NO_API,
        )
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("input 'comment' must be 'always', 'on-regression' or 'never'"));
}

#[test]
fn the_command_input_is_checked() {
    let step = Step::new("push", &json!({}));
    let o = step.main(&[("command", "sweep")], NO_API).output().unwrap();
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("input 'command' must be one of run, publish; got 'sweep'"),
        "{stderr}"
    );
}

#[test]
fn the_post_entrypoint_has_nothing_to_do_without_a_ledger() {
    let step = Step::new("push", &json!({}));
    let o = step
        .command("elasticache-perf-post", &[], NO_API)
        .env("STATE_run_id", "ecp-action-4")
        .env("STATE_target", "local")
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("nothing to clean up (run ecp-action-4, target local"),
        "{stderr}"
    );
}

#[test]
fn the_post_entrypoint_refuses_a_ledger_it_cannot_clean_up() {
    // Until the AWS target lands: fail loudly, naming the run id, rather than pretend.
    let step = Step::new("push", &json!({}));
    let o = step
        .command("elasticache-perf-post", &[], NO_API)
        .env("STATE_run_id", "ecp-action-5")
        .env("STATE_target", "aws")
        .env(
            "STATE_ledger",
            "[{\"kind\":\"replication-group\",\"id\":\"x\"}]",
        )
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("::error title=elasticache-perf::post: the ledger of run ecp-action-5"),
        "{stderr}"
    );
    assert!(stderr.contains("elasticache-perf:run-id=ecp-action-5"));
}

#[test]
fn a_schedule_run_has_no_pr_and_does_not_try_to_comment() {
    let step = Step::new("schedule", &json!({"schedule": "0 3 * * *"}));
    let o = step
        .main(&Step::local_inputs("ecp-action-6", &[]), NO_API)
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("no pull request in this 'schedule' event"),
        "{stderr}"
    );
    assert!(!stderr.contains("::warning"), "{stderr}");
    assert!(step
        .read(&step.summary)
        .starts_with("### elasticache-perf: OK"));
}
