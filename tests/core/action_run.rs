//! The action end to end on the local target, run as the runner runs it (see `action_harness`):
//! the exact formats of the outputs, state and job summary files, groups and annotations, bad
//! input, the `command` input and the post entrypoint.

#![allow(clippy::unwrap_used)]

use crate::action_harness;

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
         chart_path=elasticache-perf-results/chart.png\ns3_prefix=\nrun_id=ecp-action-1\n\
         workloads_json=\n",
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
        export: None,
    };
    assert_eq!(summary, body::report(&r, &links, None));
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
            == "::error title=elasticache-perf%3A input threads::input 'threads' must be a whole number from 1 to 1024; got '0'"),
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
    // Typed to the end: the annotation's title names the input.
    assert!(
        stderr.contains("::error title=elasticache-perf%3A input comment::"),
        "{stderr}"
    );
}

#[test]
fn the_command_input_is_checked() {
    let step = Step::new("push", &json!({}));
    let o = step
        .main(&[("command", "destroy")], NO_API)
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr
            .contains("input 'command' must be one of run, publish, cleanup, sweep; got 'destroy'"),
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

/// Wait until `path`'s text satisfies `ok`, for at most `secs`.
fn wait_for(path: &std::path::Path, secs: u64, ok: impl Fn(&str) -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if ok(&std::fs::read_to_string(path).unwrap_or_default()) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

#[test]
fn sigterm_to_pid_1_stops_the_run_and_still_writes_the_outputs() {
    // In the container the binary is PID 1, which the kernel shields from every signal it has no
    // handler for. Reproduce that with a PID namespace where we may (root), else signal a plain
    // process: the handlers are checked either way, PID 1 only where possible.
    let step = Step::new("pull_request", &json!({"pull_request": {"number": 5}}));
    let inner = step.main(
        &Step::local_inputs("ecp-action-7", &[("test_duration_seconds", "60")]),
        NO_API,
    );
    let as_pid_1 = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "true"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut cmd = if as_pid_1 {
        let mut w = std::process::Command::new("unshare");
        w.env_clear();
        for (k, v) in inner.get_envs() {
            if let Some(v) = v {
                w.env(k, v);
            }
        }
        w.current_dir(inner.get_current_dir().unwrap())
            .args(["--pid", "--fork", "--kill-child", "bash", "-c"])
            .arg("exec -a elasticache-perf-action \"$0\"")
            .arg(assert_cmd::cargo::cargo_bin("elasticache-perf"));
        w
    } else {
        eprintln!("unshare --pid is not permitted here: signalling a process that is not PID 1");
        inner
    };
    let log = step.dir.path().join("stderr.txt");
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    assert!(
        wait_for(&log, 30, |t| t.contains("::group::load")),
        "the load never started:\n{}",
        step.read(&log)
    );
    let target = if as_pid_1 {
        let id = child.id();
        let children = std::fs::read_to_string(format!("/proc/{id}/task/{id}/children")).unwrap();
        children
            .split_whitespace()
            .next()
            .unwrap()
            .parse::<i32>()
            .unwrap()
    } else {
        i32::try_from(child.id()).unwrap()
    };
    std::thread::sleep(std::time::Duration::from_secs(1));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(target),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let started = std::time::Instant::now();
    let status = child.wait().unwrap();
    let stderr = step.read(&log);
    // A signal during the load is an interrupted run (130), however the load's end raced it.
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "the runner sends SIGKILL 10 s after a cancel; took {:?}",
        started.elapsed()
    );
    assert!(
        stderr.contains("SIGTERM received: stopping the run"),
        "the handler ran: {stderr}"
    );
    assert!(
        stderr.contains("::warning title=elasticache-perf::interrupted"),
        "{stderr}"
    );
    let outputs = step.read(&step.output);
    assert!(outputs.contains("run_id=ecp-action-7\n"), "{outputs}");
    assert!(outputs.contains("results_path=elasticache-perf-results/results.json\n"));
    assert_eq!(
        step.read(&step.state),
        "run_id=ecp-action-7\ntarget=local\n"
    );
}
