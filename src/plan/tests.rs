//! Plan tests: names, tags with expiry, the dead-man's switch, the task script (run for real under
//! sh with a stand-in memtier), the redacted command line, batches and the budget check.

use clap::Parser;

use super::*;
use crate::config::RunInputs;

#[derive(Parser)]
#[command(args_override_self = true)]
struct Wrap {
    #[command(flatten)]
    inputs: RunInputs,
}

const BASE: &[&str] = &[
    "--target",
    "aws",
    "--aws-region",
    "us-east-1",
    "--vpc-id",
    "vpc-0123456789abcdef0",
    "--subnet-ids",
    "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
    "--metrics-export-s3-bucket",
    "my-bench-bucket",
];

/// 2026-11-26T20:00:00Z
const NOW_MS: u64 = 1_795_723_200_000;

fn config(extra: &[&str]) -> Config {
    let args = std::iter::once("x")
        .chain(BASE.iter().copied())
        .chain(extra.iter().copied());
    Config::from_inputs(&Wrap::parse_from(args).inputs).unwrap()
}

fn plan_for(extra: &[&str]) -> RunPlan {
    plan(
        &config(extra),
        &PlanContext {
            run_id: "ecp-19abc-0042",
            now_unix_ms: NOW_MS,
            repository: Some("octo/bench"),
            existing: None,
        },
    )
    .unwrap()
}

#[test]
fn default_plan_names_tags_and_expiry() {
    let p = plan_for(&[]);
    assert_eq!(p.names.replication_group, "ecp-19abc-0042");
    assert_eq!(p.names.log_group, "/elasticache-perf/ecp-19abc-0042");
    assert_eq!(p.tags[TAG_RUN_ID], "ecp-19abc-0042");
    assert_eq!(p.tags[TAG_REPOSITORY], "octo/bench");
    // 60 min test + 120 min default margin.
    assert_eq!(p.expires_at, "2026-11-26T23:00:00Z");
    assert_eq!(p.tags[TAG_EXPIRES_AT], p.expires_at);
    assert_eq!(p.export.prefix, "exports/20261126T200000Z/");
    assert!(p.network.creates_security_groups && p.tasks.creates_execution_role);
    assert_eq!(p.tasks.batches, [1]);
    assert!(!p.cache.cluster_mode && !p.cache.automatic_failover && p.cache.transit_encryption);
    assert!(check_budget(&p).is_ok());
}

#[test]
fn the_dead_mans_switch_fires_at_the_expiry_and_is_shown() {
    let p = plan_for(&[]);
    let d = p.dead_mans_switch.as_ref().unwrap();
    assert_eq!(d.schedule, "ecp-19abc-0042-expiry");
    assert_eq!(d.group, "default");
    assert_eq!(d.role, "ecp-19abc-0042-expiry");
    // The expiry tag's time, without the zone suffix the scheduler refuses.
    assert_eq!(d.expression, "at(2026-11-26T23:00:00)");
    assert_eq!(d.timezone, "UTC");
    assert_eq!(d.input, r#"{"ReplicationGroupId":"ecp-19abc-0042"}"#);
    let text = render_text(&p);
    assert!(
        text.contains(
            "dead-man's switch: one-time schedule default/ecp-19abc-0042-expiry at 2026-11-26T23:00:00Z deletes replication group ecp-19abc-0042"
        ),
        "{text}"
    );
    assert!(
        text.contains("/elasticache-perf/ecp-19abc-0042-expiry"),
        "{text}"
    );
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(
        json["dead_mans_switch"]["expression"],
        "at(2026-11-26T23:00:00)"
    );
    assert_eq!(json["names"]["expiry_schedule"], "ecp-19abc-0042-expiry");

    let off = plan_for(&["--dead-mans-switch", "false"]);
    assert!(off.dead_mans_switch.is_none());
    assert!(render_text(&off).contains("dead-man's switch: off"));
    assert!(serde_json::to_value(&off).unwrap()["dead_mans_switch"].is_null());
}

#[test]
fn the_command_line_redacts_the_token_and_the_script_holds_none() {
    let p = plan_for(&[
        "--prefill",
        "true",
        "--num-shards",
        "2",
        "--num-replicas",
        "1",
    ]);
    let t = &p.tasks.script;
    assert!(
        t.timed_display.contains("--authenticate=***"),
        "{}",
        t.timed_display
    );
    for want in [
        "--tls",
        "--tls-skip-verify",
        "--cluster-mode",
        "--test-time=3600",
        "--json-out-file=memtier.json",
        "--server=<cache endpoint>",
    ] {
        assert!(
            t.timed_display.contains(want),
            "{want}: {}",
            t.timed_display
        );
    }
    assert!(t
        .prefill_display
        .as_ref()
        .unwrap()
        .contains("--requests=allkeys"));
    assert!(t.script.contains("\"--authenticate=${ECP_AUTH_TOKEN}\""));
    assert!(t.script.contains("\"--server=${ECP_HOST}\""));
    assert!(t
        .script
        .contains("timeout -s INT -k 30 3660 memtier_benchmark"));
    assert!(p.cache.cluster_mode && p.cache.automatic_failover);
    assert_eq!(p.cache.nodes, 4);
    let text = render_text(&p);
    assert!(text.contains("--authenticate=***") && !text.contains("ECP_AUTH_TOKEN"));
}

#[test]
fn extra_args_are_quoted_words_never_shell() {
    let p = plan_for(&[
        "--extra-memtier-args",
        r#"["--command=set __key__ it's $(reboot)"]"#,
        "--transit-encryption",
        "false",
    ]);
    let s = &p.tasks.script.script;
    assert!(
        s.contains(r#"'--command=set __key__ it'\''s $(reboot)'"#),
        "{s}"
    );
    assert!(!s.contains("authenticate") && !s.contains("--tls"));
}

#[test]
fn batches_never_exceed_ten() {
    assert_eq!(batches(25), [10, 10, 5]);
    assert_eq!(batches(10), [10]);
    assert!(batches(0).is_empty());
    assert_eq!(
        plan_for(&["--loadgen-task-count", "21"]).tasks.batches,
        [10, 10, 1]
    );
}

#[test]
fn budget_is_enforced() {
    let p = plan_for(&[
        "--node-type",
        "cache.r7g.2xlarge",
        "--num-shards",
        "10",
        "--num-replicas",
        "2",
    ]);
    let e = check_budget(&p).unwrap_err();
    assert!(
        e.contains("max_cost_usd") && e.contains("estimated at $"),
        "{e}"
    );
    let p = plan_for(&["--node-type", "cache.x9.large"]);
    let e = check_budget(&p).unwrap_err();
    assert!(e.contains("no price") && e.contains("'none'"), "{e}");
    let p = plan_for(&["--node-type", "cache.x9.large", "--max-cost-usd", "none"]);
    assert!(check_budget(&p).is_ok());
}

#[test]
fn local_target_has_no_plan() {
    let c = Config::from_inputs(&Wrap::parse_from(["x"]).inputs).unwrap();
    let ctx = PlanContext {
        run_id: "x",
        now_unix_ms: NOW_MS,
        repository: None,
        existing: None,
    };
    assert!(matches!(plan(&c, &ctx), Err(PlanError::NotAws(_))));
}

/// Run the plan's task script under `sh` with `memtier` (a shell script's body) as the stand-in
/// memtier_benchmark on PATH (none when empty) and `token` as the AUTH token's variable.
fn run_script(
    p: &RunPlan,
    memtier: &str,
    token: Option<&str>,
) -> (std::process::Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    if !memtier.is_empty() {
        let fake = bin.join("memtier_benchmark");
        std::fs::write(&fake, memtier).unwrap();
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&fake)
            .status()
            .unwrap();
    }
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(&p.tasks.script.script)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("TMPDIR", dir.path())
        .env("ECP_HOST", "cache.example");
    if let Some(t) = token {
        cmd.env("ECP_AUTH_TOKEN", t);
    }
    (cmd.output().unwrap(), dir)
}

/// Runs the real script under `sh` with a stand-in memtier that writes outputs, and decodes what
/// it printed: framing, line width and the files shipped hold, and the token reaches memtier intact.
#[test]
fn the_script_runs_and_frames_its_outputs() {
    let p = plan_for(&["--test-duration-seconds", "2"]);
    let (out, dir) = run_script(
        &p,
        "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\" >> args.txt; done\necho '{\"ok\":1}' > memtier.json\necho done\nexit 3\n",
        Some("s3cr3t!&$<>-token"),
    );
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "ECP-BEGIN v1 timed");
    assert_eq!(lines[1], "ECP-EXIT 3");
    assert_eq!(*lines.last().unwrap(), "ECP-END");
    assert!(lines
        .iter()
        .filter(|l| l.starts_with("ECP-D "))
        .all(|l| l.len() <= 6 + script::BASE64_WIDTH));
    assert!(lines.iter().all(|l| l.len() < 200), "short lines only");
    let files: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("ECP-FILE "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    for f in [
        "args.txt",
        "exit_code.txt",
        "memtier.json",
        "stderr.txt",
        "stdout.txt",
    ] {
        assert!(files.contains(&f), "{f} not shipped: {files:?}");
    }
    // The token arrived as one argument, untouched by the shell.
    let work = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("ecp."))
        .unwrap();
    let args = std::fs::read_to_string(work.join("args.txt")).unwrap();
    assert!(
        args.lines()
            .any(|l| l == "--authenticate=s3cr3t!&$<>-token"),
        "{args}"
    );
    assert!(
        args.lines().any(|l| l == "--server=cache.example"),
        "{args}"
    );
    // And the Rust decoder reads back what the shell's gzip, base64 and sha256sum wrote.
    let shipped = frames::decode(text.lines());
    assert!(
        shipped.complete && shipped.problems.is_empty(),
        "{:?}",
        shipped.problems
    );
    assert_eq!(shipped.exit_code, Some(3));
    let t = shipped.task_outputs("t");
    assert_eq!(t.json.as_deref(), Some("{\"ok\":1}\n"));
    assert_eq!(t.stdout.as_deref(), Some("done\n"));
    assert_eq!(t.exit_code, Some(3));
}

#[test]
fn the_ttl_minimum_covers_the_prefill_timeout() {
    let prefill_secs = script::PREFILL_TIMEOUT_SECS + script::KILL_AFTER_SECS;
    assert_eq!(
        crate::config::aws::PREFILL_BOUND_MINUTES,
        prefill_secs.div_ceil(60)
    );
}

/// While memtier runs, the script prints its latest progress line (memtier ends them with `\r`)
/// every few seconds, and those lines read as memtier progress.
#[test]
fn the_script_prints_memtier_progress_while_it_runs() {
    let p = plan_for(&["--test-duration-seconds", "8"]);
    let progress = "[RUN #1 {p}%,   {s} secs]  2 threads  5 conns:        {o} ops,    7287 (avg:    7287) ops/sec, 354.26KB/sec (avg: 354.26KB/sec),  1.37 (avg:  1.37) msec latency";
    let mut body = String::from("#!/bin/sh\n");
    for s in 1..=7 {
        let line = progress
            .replace("{p}", &(s * 12).to_string())
            .replace("{s}", &s.to_string())
            .replace("{o}", &(s * 7000).to_string());
        body.push_str(&format!("printf '%s\\r' '{line}' >&2\nsleep 1\n"));
    }
    body.push_str("echo '{}' > memtier.json\nexit 0\n");
    let (out, _dir) = run_script(&p, &body, Some("t"));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let progress: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("ECP-PROGRESS "))
        .collect();
    assert!(!progress.is_empty(), "no progress lines in:\n{text}");
    let parsed = crate::memtier::log::parse(progress[0]);
    assert_eq!(parsed.progress.len(), 1, "{progress:?}");
    assert!(parsed.progress[0].ops >= 7000);
    // Progress comes before the exit line, and the frames still decode.
    let exit_at = text.find("ECP-EXIT").unwrap();
    assert!(text.find("ECP-PROGRESS").unwrap() < exit_at);
    let shipped = frames::decode(text.lines());
    assert!(shipped.complete && shipped.exit_code == Some(0));
}

/// When memtier cannot even start (here the AUTH token's variable is unset, which `set -u` makes
/// an error), the script still ends, with the failure's status, and ships what there is.
#[test]
fn the_script_ends_when_memtier_cannot_start() {
    let p = plan_for(&["--test-duration-seconds", "8"]);
    let (out, _dir) = run_script(&p, "", None);
    let text = String::from_utf8(out.stdout).unwrap();
    let shipped = frames::decode(text.lines());
    assert!(shipped.complete, "{text}");
    assert_eq!(shipped.exit_code, Some(2), "{text}");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_cache_of_your_own_is_loaded_not_created_and_the_plan_says_so() {
    let cfg = config(&[
        "--replication-group-id",
        "staging",
        "--security-group-ids",
        "sg-0123456789abcdef0",
    ]);
    let ctx = |existing| PlanContext {
        run_id: "ecp-19abc-0042",
        now_unix_ms: NOW_MS,
        repository: None,
        existing,
    };
    // `plan` (no AWS): what is known before the group is read.
    let p = plan(&cfg, &ctx(None)).unwrap();
    assert!(p.dead_mans_switch.is_none());
    assert!(!p
        .cost
        .lines
        .iter()
        .any(|l| l.item.starts_with("ElastiCache")));
    let text = render_text(&p);
    for says in [
        "cache: yours, replication group 'staging'",
        "creates no cache, no subnet group and no security group",
        "never changes or deletes it",
        "read from AWS (DescribeReplicationGroups) when the run starts",
        "dead-man's switch: not armed",
        "sg-0123456789abcdef0 (yours, for the tasks",
    ] {
        assert!(text.contains(says), "{says}:\n{text}");
    }
    assert!(!text.contains("cache subnet group") && !text.contains("replication group ecp-"));
    // The run: what AWS said about the group shapes the cache spec and the command line.
    let found = ExistingSpec {
        given: "replication group 'staging'".into(),
        resolved: true,
        replication_group_id: Some("staging".into()),
        host: "clustercfg.staging.abc.use1.cache.amazonaws.com".into(),
        port: 6380,
        tls: true,
        cluster_mode: true,
        auth_token_enabled: Some(true),
        engine: Some("redis".into()),
        engine_version: Some("7.1.0".into()),
        node_type: Some("cache.r7g.large".into()),
        num_shards: Some(2),
        replicas_per_shard: Some(1),
        member_clusters: vec!["staging-0001-001".into()],
    };
    let p = plan(&cfg, &ctx(Some(&found))).unwrap();
    assert_eq!(
        (
            p.cache.node_type.as_str(),
            p.cache.engine_version.as_deref(),
            p.cache.nodes,
            p.cache.port
        ),
        ("cache.r7g.large", Some("7.1.0"), 4, 6380)
    );
    let timed = &p.tasks.script.timed_display;
    assert!(
        timed.contains("--cluster-mode") && timed.contains("--tls") && timed.contains("6380"),
        "{timed}"
    );
    assert!(render_text(&p).contains("replication group staging: redis 7.1.0 cache.r7g.large"));
}

#[test]
fn parameters_make_a_parameter_group_of_the_run() {
    let p = plan_for(&["--parameters", "maxmemory-policy=allkeys-lru"]);
    let g = p.cache.parameter_group.clone().unwrap();
    assert_eq!(g.name, "ecp-19abc-0042-params");
    assert!(g.creates);
    assert_eq!(
        g.parameters,
        vec![("maxmemory-policy".to_string(), "allkeys-lru".to_string())]
    );
    assert_eq!(
        p.cache.parameters_profile.as_deref(),
        Some("maxmemory-policy=allkeys-lru")
    );
    assert!(render_text(&p).contains("parameter group   ecp-19abc-0042-params"));
    // Cluster mode needs a group that allows shards.
    let p = plan_for(&["--parameters", "io-threads=4", "--num-shards", "2"]);
    assert!(p
        .cache
        .parameter_group
        .unwrap()
        .parameters
        .contains(&("cluster-enabled".to_string(), "yes".to_string())));
    let p = plan_for(&["--parameter-group", "mine"]);
    assert!(!p.cache.parameter_group.as_ref().unwrap().creates);
    assert_eq!(
        p.cache.parameters_profile.as_deref(),
        Some("parameter_group=mine")
    );
    assert!(plan_for(&[]).cache.parameters_profile.is_none());
    let p = plan_for(&["--node-type", "cache.r6gd.xlarge"]);
    assert!(p.cache.data_tiering && render_text(&p).contains("data tiering on"));
}
