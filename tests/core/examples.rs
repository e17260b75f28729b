//! The workflows as users copy them: every example, every workflow of the repository and every
//! workflow block of the README. Each step that uses the action has its `with:` (over action.yml's
//! defaults, as the runner fills them in) validated by the binary itself: `plan` for an AWS run
//! (the validation and budget check of `run`, without calling AWS), `sweep` against a closed port,
//! and the library's own `Config::from_inputs`, gate and publish options for the rest. A step
//! that promises a gate must name a baseline that can be read; the timeouts of an AWS run must
//! cover provisioning, the test and the teardown, as the README says.

#![allow(clippy::unwrap_used)]

use crate::action_harness;

use std::collections::BTreeMap;
use std::time::Duration;

use action_harness::{action_inputs, root, TOKEN};
use clap::{CommandFactory as _, Parser as _};
use elasticache_perf::cli::{Cli, Command};
use serde_yaml_ng::Value;

/// One workflow: where it is, its text and its YAML.
struct Workflow {
    name: String,
    text: String,
    yaml: Value,
}

fn load(name: String, text: String) -> Workflow {
    let yaml = serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    Workflow { name, text, yaml }
}

/// Every `.github/{examples,workflows}/*.yml`, then every ```yaml block of the README with jobs.
fn workflows() -> Vec<Workflow> {
    let mut out = Vec::new();
    for dir in [".github/examples", ".github/workflows"] {
        let mut files: Vec<_> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yml"))
            .collect();
        files.sort();
        for f in files {
            let name = f.strip_prefix(root()).unwrap().display().to_string();
            out.push(load(name, std::fs::read_to_string(&f).unwrap()));
        }
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for (i, block) in readme.split("```yaml\n").skip(1).enumerate() {
        let text = block.split("```").next().unwrap().to_string();
        let w = load(format!("README.md yaml block {}", i + 1), text);
        if w.yaml.get("jobs").is_some() {
            out.push(w);
        }
    }
    out
}

/// A step's input value as the runner passes it: YAML scalars become their text.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => serde_yaml_ng::to_string(other).unwrap().trim().to_string(),
    }
}

/// The values an expression can take in the examples: a matrix axis, a step output (a number),
/// the token, or the quoted alternatives of `a && 'x' || 'y'`. Anything else fails the test, so
/// that a new kind of expression gets a deliberate answer here.
fn expression_values(expr: &str, job: &Value) -> Vec<String> {
    let e = expr.trim();
    if let Some(axis) = e.strip_prefix("matrix.") {
        let values = job["strategy"]["matrix"][axis]
            .as_sequence()
            .unwrap_or_else(|| panic!("no matrix axis '{axis}'"));
        return values.iter().map(scalar).collect();
    }
    if e.starts_with("steps.") && e.contains(".outputs.") {
        return vec!["7".into()];
    }
    if e == "github.token" {
        return vec![TOKEN.into()];
    }
    // A repository secret: any value of the secret's shape (an AUTH token here).
    if e.starts_with("secrets.") {
        return vec!["an-auth-token-from-the-secret-store".into()];
    }
    let literals: Vec<String> = e
        .split("&&")
        .flat_map(|p| p.split("||"))
        .skip(1)
        .filter_map(|p| {
            let p = p.trim();
            p.strip_prefix('\'')
                .and_then(|p| p.strip_suffix('\''))
                .map(str::to_string)
        })
        .collect();
    assert!(
        !literals.is_empty(),
        "unhandled expression '${{{{ {e} }}}}'"
    );
    literals
}

/// Every value `raw` can take (one expression at most per value).
fn values(raw: &str, job: &Value) -> Vec<String> {
    let Some((before, rest)) = raw.split_once("${{") else {
        return vec![raw.to_string()];
    };
    let (expr, after) = rest.split_once("}}").unwrap();
    assert!(!after.contains("${{"), "two expressions in '{raw}'");
    expression_values(expr, job)
        .into_iter()
        .map(|v| format!("{before}{v}{after}"))
        .collect()
}

/// A step that uses the action, with one combination of its inputs.
#[derive(Clone)]
struct ActionStep {
    at: String,
    inputs: BTreeMap<String, String>,
    /// The AWS region of the job's configure-aws-credentials step.
    region: Option<String>,
    /// `continue-on-error: true`: the step is meant to fail (CI's bad-input case).
    must_fail: bool,
    step_timeout: Option<u64>,
    job_timeout: Option<u64>,
    role_seconds: Option<u64>,
    /// The workflow's comments speak of regressions.
    promises_gate: bool,
}

fn is_ours(uses: &str) -> bool {
    uses == "./" || uses.starts_with("org/elasticache-perf@")
}

fn comments(text: &str) -> String {
    text.lines()
        .filter_map(|l| l.split_once('#').map(|(_, c)| c.to_lowercase()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every step of `w` that uses the action, once per combination of its inputs' values.
fn action_steps(w: &Workflow) -> Vec<ActionStep> {
    let defaults: BTreeMap<String, String> = action_inputs()
        .into_iter()
        .map(|(k, v)| (k, v.replace("${{ github.token }}", TOKEN)))
        .collect();
    let promises_gate = comments(&w.text).contains("regression");
    let mut out = Vec::new();
    for (job_name, job) in w.yaml["jobs"].as_mapping().unwrap() {
        let steps = job["steps"].as_sequence().cloned().unwrap_or_default();
        let region = steps
            .iter()
            .find(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("aws-actions/configure-aws-credentials@"))
            })
            .map(|s| {
                (
                    values(&scalar(&s["with"]["aws-region"]), job)[0].clone(),
                    s["with"]["role-duration-seconds"].as_u64(),
                )
            });
        for (i, step) in steps.iter().enumerate() {
            if !step["uses"].as_str().is_some_and(is_ours) {
                continue;
            }
            let mut variants = vec![defaults.clone()];
            for (k, v) in step["with"].as_mapping().into_iter().flatten() {
                let k = k.as_str().unwrap().to_string();
                let vals = values(&scalar(v), job);
                let mut next = Vec::new();
                for m in &variants {
                    for v in &vals {
                        let mut m = m.clone();
                        m.insert(k.clone(), v.clone());
                        next.push(m);
                    }
                }
                variants = next;
            }
            for inputs in variants {
                out.push(ActionStep {
                    at: format!(
                        "{} job '{}' step {} ({})",
                        w.name,
                        job_name.as_str().unwrap(),
                        i + 1,
                        step["name"].as_str().unwrap_or("unnamed")
                    ),
                    inputs,
                    region: region.as_ref().map(|r| r.0.clone()),
                    must_fail: step["continue-on-error"].as_bool() == Some(true),
                    step_timeout: step["timeout-minutes"].as_u64(),
                    job_timeout: job["timeout-minutes"].as_u64(),
                    role_seconds: region.as_ref().and_then(|r| r.1),
                    promises_gate,
                });
            }
        }
    }
    out
}

/// `subcommand` with every input of `inputs` that it reads, as flags (the flag of an input is the
/// argument whose `env` is `INPUT_<NAME>`, from the CLI's own definition).
fn argv(subcommand: &str, inputs: &BTreeMap<String, String>) -> Vec<String> {
    let cli = Cli::command();
    let sub = cli
        .get_subcommands()
        .find(|s| s.get_name() == subcommand)
        .unwrap();
    let mut args = vec!["elasticache-perf".to_string(), subcommand.to_string()];
    for arg in sub.get_arguments() {
        let Some(env) = arg.get_env().and_then(|e| e.to_str()) else {
            continue;
        };
        let Some(name) = env.strip_prefix("INPUT_") else {
            continue;
        };
        if let (Some(v), Some(long)) = (inputs.get(&name.to_lowercase()), arg.get_long()) {
            args.push(format!("--{long}={v}"));
        }
    }
    args
}

/// The binary with these inputs as the action passes them (`INPUT_*`), nothing reachable.
fn binary(args: &[&str], inputs: &BTreeMap<String, String>, region: Option<&str>) -> String {
    let home = tempfile::tempdir().unwrap();
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("elasticache-perf"));
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "example")
        .env("AWS_MAX_ATTEMPTS", "1")
        .current_dir(home.path());
    if let Some(r) = region {
        c.env("AWS_REGION", r);
    }
    for (k, v) in inputs {
        c.env(format!("INPUT_{}", k.to_uppercase()), v);
    }
    let o = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    match o.status.code() {
        Some(0) => String::new(),
        // Bad input is exit 2; anything else got past the validation (e.g. the closed port).
        Some(2) => format!("exit 2: {}", stderr.trim()),
        _ if stderr.contains("input '") => stderr.trim().to_string(),
        _ => String::new(),
    }
}

/// Minutes the README gives provisioning (10–15, rounded up) and teardown (a cache takes up to
/// ~40 minutes to delete), and the slack between a step's limit and its job's.
const PROVISION_MIN: u64 = 20;
const TEARDOWN_MIN: u64 = 40;
const JOB_SLACK_MIN: u64 = 20;

/// Validate one step as the binary would; `Err` says why it would fail.
fn validate(s: &ActionStep) -> Result<(), String> {
    let command = s.inputs.get("command").map_or("run", |c| c.trim());
    match command {
        "run" => validate_run(s),
        "publish" => {
            let cli = Cli::try_parse_from(argv("publish", &s.inputs)).map_err(|e| e.to_string())?;
            let Command::Publish(a) = cli.command else {
                unreachable!()
            };
            elasticache_perf::github::options::Options::from_inputs(&a.github)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        "sweep" => {
            let why = binary(&["sweep"], &s.inputs, s.region.as_deref());
            if why.is_empty() {
                Ok(())
            } else {
                Err(why)
            }
        }
        other => Err(format!("command '{other}' is not checked here")),
    }
}

fn validate_run(s: &ActionStep) -> Result<(), String> {
    let cli = Cli::try_parse_from(argv("run", &s.inputs)).map_err(|e| e.to_string())?;
    let Command::Run(a) = cli.command else {
        unreachable!()
    };
    let mut inputs = a.inputs;
    if inputs.aws_region.as_deref().is_none_or(str::is_empty) {
        inputs.aws_region.clone_from(&s.region);
    }
    let mut cfg =
        elasticache_perf::config::Config::from_inputs(&inputs).map_err(|e| e.to_string())?;
    // A workload matrix: every workload validated, and the timeouts cover all of them.
    if let Some(ws) =
        elasticache_perf::run::settings::load(&inputs).map_err(|e| format!("{e:#}"))?
    {
        let total = elasticache_perf::run::settings::provisioning_inputs(&inputs, &ws);
        cfg = elasticache_perf::config::Config::from_inputs(&total).map_err(|e| e.to_string())?;
    }
    elasticache_perf::github::options::Options::from_inputs(&inputs.github)
        .map_err(|e| e.to_string())?;
    let gate = elasticache_perf::run::gate::config(&inputs).map_err(|e| format!("{e:#}"))?;
    if cfg.aws.is_some() {
        let why = binary(&["plan"], &s.inputs, s.region.as_deref());
        if !why.is_empty() {
            return Err(format!("plan: {why}"));
        }
    }
    if s.promises_gate {
        let Some(b) = gate.baseline.as_deref() else {
            return Err(
                "the workflow speaks of regressions but the step has no input 'baseline': it can never gate".into(),
            );
        };
        let loc = elasticache_perf::run::gate::location(&inputs);
        if b.trim() == "history" && loc.bucket.is_none() && loc.dir.is_none() {
            return Err(
                "baseline 'history' without 'metrics_export_s3_bucket' or 'history_dir'".into(),
            );
        }
    }
    if cfg.aws.is_some() {
        check_timeouts(s, cfg.duration)?;
    }
    Ok(())
}

/// The README's rule for an AWS run: step ≥ provisioning + test + teardown, job ≥ step + slack,
/// credentials ≥ job.
fn check_timeouts(s: &ActionStep, test: Duration) -> Result<(), String> {
    let test_min = test.as_secs().div_ceil(60);
    let need_step = PROVISION_MIN + test_min + TEARDOWN_MIN;
    let step = s.step_timeout.ok_or("the step has no timeout-minutes")?;
    if step < need_step {
        return Err(format!(
            "step timeout-minutes {step} < {PROVISION_MIN} (provisioning) + {test_min} (test) + {TEARDOWN_MIN} (teardown)"
        ));
    }
    let job = s.job_timeout.ok_or("the job has no timeout-minutes")?;
    if job < step + JOB_SLACK_MIN {
        return Err(format!(
            "job timeout-minutes {job} < the step's {step} + {JOB_SLACK_MIN}"
        ));
    }
    let role = s
        .role_seconds
        .ok_or("configure-aws-credentials has no role-duration-seconds")?;
    if role < job * 60 {
        return Err(format!(
            "role-duration-seconds {role} < the job's {job} minutes"
        ));
    }
    Ok(())
}

#[test]
fn every_step_of_every_workflow_and_readme_block_passes_the_binarys_validation() {
    let mut checked = 0;
    let mut problems = Vec::new();
    // The README repeats some examples: each distinct step is run once.
    let mut seen = std::collections::HashMap::new();
    for w in workflows() {
        for s in action_steps(&w) {
            checked += 1;
            if let (Some(st), Some(job)) = (s.step_timeout, s.job_timeout) {
                if job <= st {
                    problems.push(format!(
                        "{}: the job's timeout-minutes {job} must exceed the step's {st}",
                        s.at
                    ));
                }
            }
            let key = format!(
                "{:?} {:?} {:?} {:?} {:?} {}",
                s.inputs, s.region, s.step_timeout, s.job_timeout, s.role_seconds, s.promises_gate
            );
            let verdict = seen.entry(key).or_insert_with(|| validate(&s)).clone();
            match (verdict, s.must_fail) {
                (Ok(()), false) | (Err(_), true) => {}
                (Err(why), false) => problems.push(format!("{}: {why}", s.at)),
                (Ok(()), true) => problems.push(format!(
                    "{}: continue-on-error marks it as the failing case, but its inputs are valid",
                    s.at
                )),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // 5 example files (nightly twice: its matrix), 2 CI steps, 3 README copies (nightly twice).
    assert!(checked >= 13, "only {checked} steps checked");
}

fn example(name: &str) -> Workflow {
    let path = format!(".github/examples/{name}");
    load(
        path.clone(),
        std::fs::read_to_string(root().join(path)).unwrap(),
    )
}

#[test]
fn the_pr_gate_gates_on_the_history() {
    let steps = action_steps(&example("pr-gate.yml"));
    assert_eq!(steps.len(), 1);
    let s = &steps[0];
    assert_eq!(s.inputs["baseline"], "history");
    assert_eq!(s.inputs["fail_on_regression"], "true");
    assert!(s.promises_gate);
    assert_eq!(validate(s), Ok(()));
}

#[test]
fn the_check_fails_a_missing_input_a_promised_gate_without_baseline_and_tight_timeouts() {
    let good = action_steps(&example("pr-gate.yml")).remove(0);

    let mut s = good.clone();
    s.inputs.insert("vpc_id".into(), String::new());
    let why = validate(&s).unwrap_err();
    assert!(why.contains("input 'vpc_id'"), "{why}");

    let mut s = good.clone();
    s.inputs.insert("baseline".into(), String::new());
    let why = validate(&s).unwrap_err();
    assert!(why.contains("no input 'baseline'"), "{why}");

    let mut s = good.clone();
    s.inputs
        .insert("metrics_export_s3_bucket".into(), String::new());
    assert!(validate(&s)
        .unwrap_err()
        .contains("metrics_export_s3_bucket"));

    // The budget is plan's: a cost limit below the estimate fails.
    let mut s = good.clone();
    s.inputs.insert("max_cost_usd".into(), "0.01".into());
    let why = validate(&s).unwrap_err();
    assert!(
        why.contains("plan: exit 2") && why.contains("max_cost_usd"),
        "{why}"
    );

    let mut s = good.clone();
    s.step_timeout = Some(40);
    assert!(validate(&s)
        .unwrap_err()
        .contains("step timeout-minutes 40"));
    let mut s = good.clone();
    s.job_timeout = s.step_timeout;
    assert!(validate(&s).unwrap_err().contains("job timeout-minutes"));
    let mut s = good;
    s.role_seconds = Some(3600);
    assert!(validate(&s)
        .unwrap_err()
        .contains("role-duration-seconds 3600"));
}

#[test]
fn every_limit_in_the_examples_says_why_beside_it() {
    for w in workflows()
        .into_iter()
        .filter(|w| !w.name.starts_with(".github/workflows"))
    {
        for line in w.text.lines() {
            let l = line.trim_start().trim_start_matches("- ");
            if l.starts_with("timeout-minutes:") || l.starts_with("role-duration-seconds:") {
                assert!(
                    l.split_once('#').is_some_and(|(_, c)| c.trim().len() > 10),
                    "{}: '{}' needs a comment beside it",
                    w.name,
                    line.trim()
                );
            }
        }
    }
}
