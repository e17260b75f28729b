//! `plan` from the command line: no AWS call, the resources and the redacted command line on
//! stdout, `--json` for machines, exit 2 when the estimate exceeds `max_cost_usd`.

#![allow(clippy::unwrap_used)]

use assert_cmd::Command;

const ARGS: &[&str] = &[
    "plan",
    "--aws-region",
    "eu-west-1",
    "--vpc-id",
    "vpc-0123456789abcdef0",
    "--subnet-ids",
    "subnet-0123456789abcdef0",
    "--metrics-export-s3-bucket",
    "my-bench-exports",
    "--run-id",
    "42-1",
];

fn cmd() -> Command {
    let mut c = Command::cargo_bin("elasticache-perf").unwrap();
    // Nothing may reach AWS: an endpoint that refuses connections would fail any call.
    c.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION");
    c
}

#[test]
fn plan_prints_the_run_without_calling_aws() {
    let out = cmd().args(ARGS).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        "plan for run 42-1 in eu-west-1",
        "replication group ecp-42-1 ",
        "ecp-42-1-cache (cache; ingress tcp 6379 only from ecp-42-1-loadgen)",
        "--authenticate=***",
        "elasticache-perf:run-id = 42-1",
        "elasticache-perf:expires-at = ",
        "total $",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
}

#[test]
fn plan_json_is_the_whole_plan() {
    let out = cmd().args(ARGS).arg("--json").output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["names"]["replication_group"], "ecp-42-1");
    assert_eq!(v["tasks"]["batches"], serde_json::json!([1]));
    assert!(v["cost"]["total_usd"].as_f64().unwrap() > 0.0);
}

#[test]
fn plan_over_budget_and_bad_input_exit_2() {
    let out = cmd()
        .args(ARGS)
        .args(["--max-cost-usd", "0.01"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("input 'max_cost_usd' is 0.01"));
    let out = cmd()
        .args(ARGS)
        .args(["--loadgen-cpu", "256", "--loadgen-memory", "4096"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("input 'loadgen_memory'"));
}

/// Times in a plan (`2026-11-27T03:46:03Z`, `20261127T004603Z`) as placeholders.
fn without_times(text: &str) -> String {
    let re = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|\d{8}T\d{6}Z").unwrap();
    re.replace_all(text, "<time>").into_owned()
}

/// The README shows `plan`'s output for the default inputs: it must be what `plan` prints today
/// (times aside). `UPDATE_README=1` rewrites the block.
#[test]
fn the_readme_shows_what_plan_prints() {
    let args = [
        "plan",
        "--aws-region",
        "us-east-1",
        "--vpc-id",
        "vpc-0123456789abcdef0",
        "--subnet-ids",
        "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
        "--metrics-export-s3-bucket",
        "my-bench-exports",
        "--run-id",
        "1234567890-1",
    ];
    let out = cmd().args(args).output().unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find("plan for run 1234567890-1")
        .expect("the plan block");
    let end = start + readme[start..].find("```").unwrap();
    if std::env::var_os("UPDATE_README").is_some() {
        let updated = format!("{}{printed}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        without_times(&readme[start..end]),
        without_times(&printed),
        "README.md's plan output is stale: UPDATE_README=1 cargo test --test core plan_cli"
    );
}
