//! The workload matrix on the local target, as users run it: two workloads on one server, each in
//! its own folder with its own settings, and the matrix's summary, chart and `matrix.json`; bad
//! `workloads` inputs refused before anything starts; and in the action, a regression in one
//! workload fails the step, names the workload, and the one comment shows every workload; a matrix
//! that ends early (a signal, a workload that fails to start) still lists every workload, the ones
//! that never ran as not run with the reason.

#![allow(clippy::unwrap_used)]

use crate::action_harness;
use crate::github_fake;

use action_harness::*;
use github_fake::FakeGithub;
use serde_json::{json, Value};

const TWO: &str = r#"[{"name": "reads", "ratio": "0:1", "test_duration": "2s"},
  {"name": "writes", "ratio": "1:0", "data_size": 512, "pipeline": 4}]"#;

fn read_json(p: &std::path::Path) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap()
}

fn validator(schema: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&serde_json::from_str(schema).unwrap()).unwrap()
}

#[test]
fn two_workloads_share_one_server_and_get_their_own_folders() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = assert_cmd::Command::cargo_bin("elasticache-perf")
        .unwrap()
        .args([
            "run",
            "--target",
            "local",
            "--loadgen",
            "builtin",
            "--test-duration-seconds",
            "3",
            "--threads",
            "1",
            "--clients",
            "2",
            "--run-id",
            "ecp-mx-1",
            "--flush-between",
            "true",
            "--workloads",
            TWO,
            "--out",
        ])
        .arg(&out)
        .env("ELASTICACHE_PERF_LOG", "info")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    // One server for both, emptied between them.
    assert_eq!(
        stderr.matches("started redis-server").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("emptied the server (FLUSHALL)"), "{stderr}");
    let result_schema = validator(elasticache_perf::results::JSON_SCHEMA);
    let reads = read_json(&out.join("reads/results.json"));
    let writes = read_json(&out.join("writes/results.json"));
    for (r, name) in [(&reads, "reads"), (&writes, "writes")] {
        assert!(result_schema.is_valid(r), "{name}");
        assert_eq!(r["run"]["details"]["workload_name"], name);
        assert_ne!(r["status"], "failed", "{name}: {}", r["notes"]);
        for f in ["summary.md", "chart.png", "logs/ecp-mx-1.txt"] {
            assert!(out.join(name).join(f).is_file(), "{name}/{f}");
        }
    }
    // Each with its own settings: the inherited ones and its own.
    assert_eq!(reads["run"]["workload"]["ratio"], "0:1");
    assert_eq!(reads["run"]["details"]["test_duration_secs"], 2.0);
    assert_eq!(writes["run"]["workload"]["ratio"], "1:0");
    assert_eq!(writes["run"]["workload"]["data_size"], 512);
    assert_eq!(writes["run"]["workload"]["pipeline"], 4);
    assert_eq!(writes["run"]["details"]["test_duration_secs"], 3.0);
    assert_eq!(
        writes["run"]["workload"]["threads"],
        reads["run"]["workload"]["threads"]
    );
    // Reads of keys that were flushed miss; writes only write.
    assert_eq!(writes["steady_state"]["commands"]["get"], Value::Null);

    // The matrix's own files.
    let m = read_json(&out.join("matrix.json"));
    assert!(
        validator(elasticache_perf::report::matrix::JSON_SCHEMA).is_valid(&m),
        "{m}"
    );
    assert_eq!(m["schema"], "elasticache-perf/matrix/v1");
    assert_eq!(m["verdict"], "none");
    let names: Vec<&str> = m["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["reads", "writes"]);
    assert_eq!(m["workloads"][1]["results"], "writes/results.json");
    assert_eq!(
        m["workloads"][0]["ops_per_sec"],
        reads["steady_state"]["total"]["ops_per_sec"]
    );
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("| reads |") && summary.contains("| writes |"),
        "{summary}"
    );
    assert!(
        summary.contains("[writes/summary.md](writes/summary.md)"),
        "{summary}"
    );
    let png = image::open(out.join("chart.png")).unwrap();
    assert_eq!(
        (png.width(), png.height()),
        elasticache_perf::report::matrix::CHART_SIZE
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("== workload reads") && stdout.contains("== workload writes"),
        "{stdout}"
    );
}

#[test]
fn bad_workloads_are_refused_naming_the_workload_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("w.yml"), "- name: big\n  data_size: 0\n").unwrap();
    let cases: &[(&str, &str)] = &[
        (
            r#"[{"name": "reads", "threds": 2}]"#,
            "workload 'reads': unknown key 'threds'",
        ),
        (
            r#"[{"name": "a"}, {"name": "a"}]"#,
            "workload name 'a' is given twice",
        ),
        (r#"[{"name": "r", "ratio": "x"}]"#, "workload 'r': 'ratio'"),
        (
            "w.yml",
            "workload 'big': 'data_size' must be a whole number from 1",
        ),
        (
            "missing.yml",
            "input 'workloads' names the file 'missing.yml', which cannot be read",
        ),
    ];
    for (workloads, want) in cases {
        let out = dir.path().join("out");
        let o = assert_cmd::Command::cargo_bin("elasticache-perf")
            .unwrap()
            .current_dir(dir.path())
            .args([
                "run",
                "--target",
                "local",
                "--loadgen",
                "builtin",
                "--workloads",
                workloads,
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{workloads}: {stderr}");
        assert!(stderr.contains(want), "{workloads}: {stderr}");
        assert!(!out.join("matrix.json").exists());
    }
    let aws: &[&str] = &[
        "--test-duration-seconds",
        "3",
        "--workloads",
        TWO,
        "--vpc-id",
        "vpc-0123456789abcdef0",
        "--subnet-ids",
        "subnet-0123456789abcdef0",
        "--metrics-export-s3-bucket",
        "b-1",
        "--aws-region",
        "us-east-1",
    ];
    // On aws the cache cannot be emptied between workloads: refused before anything is created.
    let o = assert_cmd::Command::cargo_bin("elasticache-perf")
        .unwrap()
        .current_dir(dir.path())
        .args(["run", "--target", "aws", "--flush-between", "true"])
        .args(aws)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("input 'flush_between'"), "{stderr}");
    // `plan` lists the workloads and reckons the whole matrix.
    let o = assert_cmd::Command::cargo_bin("elasticache-perf")
        .unwrap()
        .arg("plan")
        .args(aws)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("workloads (2, one after another on this one cache; 5 s of load in all)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1. reads") && stdout.contains("2. writes"),
        "{stdout}"
    );
}

/// Replace the one stored run of "writes" in the history `hist` by three runs three times as fast
/// (a few % apart).
fn writes_history_three_times_as_fast(hist: &std::path::Path) {
    let mut stored = Vec::new();
    let mut stack = vec![hist.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                stored.push(p);
            }
        }
    }
    assert_eq!(stored.len(), 2, "{stored:?}");
    let writes = stored
        .iter()
        .find(|p| read_json(p)["run"]["details"]["workload_name"] == "writes")
        .unwrap();
    for (i, k) in [2.95, 3.0, 3.05].into_iter().enumerate() {
        let mut v = read_json(writes);
        scale_ops(&mut v, k);
        v["run"]["id"] = json!(format!("ecp-fast-{i}"));
        let name = writes.with_file_name(format!("fast-{i}.json"));
        std::fs::write(name, serde_json::to_vec(&v).unwrap()).unwrap();
    }
    std::fs::remove_file(writes).unwrap();
}

/// Copy the history folder `hist` to `dst`.
fn copy_history(hist: &std::path::Path, dst: &std::path::Path) {
    let mut stack = vec![(hist.to_path_buf(), dst.to_path_buf())];
    while let Some((from, to)) = stack.pop() {
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(&from).unwrap() {
            let p = e.unwrap().path();
            let t = to.join(p.file_name().unwrap());
            if p.is_dir() {
                stack.push((p, t));
            } else {
                std::fs::copy(&p, &t).unwrap();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regression_in_one_workload_fails_the_matrix_and_the_comment_shows_all() {
    let h = "perf-history";
    let inputs = |run_id: &'static str, extra: &[(&'static str, &'static str)]| {
        let mut v = Step::local_inputs(run_id, &[("history_dir", h), ("workloads", TWO)]);
        v.extend_from_slice(extra);
        v
    };
    // 1. The matrix on main, stored in the history (one folder per workload's profile).
    let a = Step::new("push", &json!({}));
    let mut cmd = a.main(&inputs("ecp-mx-a", &[]), "http://127.0.0.1:9");
    cmd.env("GITHUB_REF_NAME", "main");
    let o = run(cmd).await;
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    // The history of "writes" becomes three runs three times as fast as the one stored.
    let hist = a.workspace.join(h);
    writes_history_three_times_as_fast(&hist);
    // 2. A PR run of the matrix gated against main's history: "writes" regressed, exit 1.
    let b = Step::new(
        "pull_request",
        &json!({"pull_request": {"number": 5, "head": {"sha": "0123abc"}}}),
    );
    let dst = b.workspace.join(h);
    copy_history(&hist, &dst);
    let gh = FakeGithub::start("").await;
    let mut cmd = b.main(
        &inputs(
            "ecp-mx-b",
            &[("baseline", "history"), ("comment", "always")],
        ),
        &gh.api_url(""),
    );
    cmd.env("GITHUB_HEAD_REF", "feature-y")
        .env("GITHUB_BASE_REF", "main");
    let o = run(cmd).await;
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "::error title=elasticache-perf::performance regressed in workload(s) writes"
        ),
        "{stderr}"
    );
    let outputs = b.read(&b.output);
    let last = |name: &str| {
        outputs
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(last("verdict"), "regressed");
    let wj: Value = serde_json::from_str(&last("workloads_json")).unwrap();
    assert_eq!(wj[1]["name"], "writes");
    assert_eq!(wj[1]["verdict"], "regressed");
    assert_ne!(wj[0]["verdict"], "regressed");
    let m = read_json(&b.out_dir().join("matrix.json"));
    assert_eq!(m["verdict"], "regressed");
    assert!(b.out_dir().join("writes/gate.json").is_file());
    // One comment, every workload in it.
    let comments = gh.comments(5);
    assert_eq!(comments.len(), 1, "{comments:?}");
    let body = &comments[0].body;
    assert!(
        body.contains("| reads |") && body.contains("| writes |"),
        "{body}"
    );
    assert!(body.contains("verdict regressed"), "{body}");
    // The job summary has the matrix and each workload's own summary, folded.
    let summary = b.read(&b.summary);
    assert!(
        summary.contains("<details><summary>writes</summary>"),
        "{summary}"
    );
}

#[test]
fn a_matrix_interrupted_in_its_first_workload_lists_the_second_as_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let log = dir.path().join("stderr.txt");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("elasticache-perf"))
        .args([
            "run",
            "--target",
            "local",
            "--loadgen",
            "builtin",
            "--test-duration-seconds",
            "60",
            "--threads",
            "1",
            "--clients",
            "2",
            "--run-id",
            "ecp-mx-int",
            "--workloads",
            r#"[{"name": "reads", "ratio": "0:1"}, {"name": "writes", "ratio": "1:0"}]"#,
            "--out",
        ])
        .arg(&out)
        .env("ELASTICACHE_PERF_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // Interrupt once the first workload's load runs.
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("workload 1/2: reads")
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the first workload never started: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(!stderr.contains("workload 2/2"), "{stderr}");

    let m = read_json(&out.join("matrix.json"));
    assert!(
        validator(elasticache_perf::report::matrix::JSON_SCHEMA).is_valid(&m),
        "{m}"
    );
    let ws = m["workloads"].as_array().unwrap();
    assert_eq!(ws.len(), 2, "{m}");
    // The first ran (cut short), with its results; no reason.
    assert_eq!(ws[0]["name"], "reads");
    assert_eq!(ws[0]["results"], "reads/results.json");
    assert_ne!(ws[0]["status"], "not_run");
    assert!(ws[0].get("reason").is_none(), "{m}");
    assert!(out.join("reads/results.json").is_file());
    // The second never ran: listed, in the inputs' order, and why.
    assert_eq!(
        ws[1],
        json!({
            "name": "writes",
            "results": null,
            "status": "not_run",
            "ops_per_sec": null,
            "p50_ms": null,
            "p99_ms": null,
            "p999_ms": null,
            "verdict": "none",
            "reason": "interrupted",
        })
    );
    assert!(!out.join("writes/results.json").exists());
    assert_eq!(m["verdict"], "none");
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary
            .contains("| writes | not run | n/a | n/a | n/a | n/a | none | not run: interrupted |"),
        "{summary}"
    );
    assert!(summary.contains("1 workload(s) did not run"), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_that_fails_to_start_ends_the_matrix_and_the_comment_lists_the_rest() {
    // A server with 2 MB of memory: the second workload's prefill (20 MB) is refused with OOM.
    let redis = crate::common::TestRedis::start(&[
        "--maxmemory",
        "2mb",
        "--maxmemory-policy",
        "noeviction",
    ]);
    let ep = format!("redis://127.0.0.1:{}", redis.port);
    let three = r#"[{"name": "reads", "ratio": "0:1"},
      {"name": "writes", "prefill": true, "data_size": 4096, "key_maximum": 5000},
      {"name": "big", "ratio": "1:0"}]"#;
    let step = Step::new(
        "pull_request",
        &json!({"pull_request": {"number": 7, "head": {"sha": "0123abc"}}}),
    );
    let gh = FakeGithub::start("").await;
    let inputs = Step::local_inputs(
        "ecp-mx-fail",
        &[
            ("endpoint", ep.as_str()),
            ("workloads", three),
            ("comment", "always"),
            ("test_duration_seconds", "1"),
        ],
    );
    let o = run(step.main(&inputs, &gh.api_url(""))).await;
    let (_, stderr) = text(&o);
    // The run fails as it did before the matrix listed the rest.
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("workload 'writes': prefill failed"),
        "{stderr}"
    );
    let m = read_json(&step.out_dir().join("matrix.json"));
    assert!(
        validator(elasticache_perf::report::matrix::JSON_SCHEMA).is_valid(&m),
        "{m}"
    );
    let ws = m["workloads"].as_array().unwrap();
    let names: Vec<&str> = ws.iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["reads", "writes", "big"]);
    assert_eq!(ws[0]["status"], "ok", "{m}");
    for w in &ws[1..] {
        assert_eq!(w["status"], "not_run", "{m}");
        assert!(
            w["reason"]
                .as_str()
                .unwrap()
                .starts_with("workload 'writes': prefill failed: "),
            "{m}"
        );
    }
    // workloads_json lists all three.
    let outputs = step.read(&step.output);
    let wj = outputs
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("workloads_json="))
        .unwrap();
    let wj: Value = serde_json::from_str(wj).unwrap();
    assert_eq!(wj.as_array().unwrap().len(), 3, "{wj}");
    assert_eq!(wj[2]["name"], "big");
    assert_eq!(wj[2]["status"], "not_run");
    // The one comment shows the rows that did not run, and why.
    let comments = gh.comments(7);
    assert_eq!(comments.len(), 1, "{comments:?}");
    let body = &comments[0].body;
    assert!(
        body.contains("| big | not run | n/a | n/a | n/a | n/a | none | not run: workload 'writes': prefill failed: "),
        "{body}"
    );
    assert!(body.contains("2 workload(s) did not run"), "{body}");
    assert!(body.contains("| reads | ok |"), "{body}");
}
