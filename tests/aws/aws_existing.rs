//! Bring your own cache, and the cache settings people test, end to end against the AWS double
//! with Fargate emulated: a replication group the test creates itself is loaded by id and by
//! endpoint, and is untouched afterwards (same status, same tags), also after SIGTERM and
//! `cleanup`; a run with `parameters` creates its own parameter group, the cache uses it, and
//! nothing of it is left — also after SIGTERM and `cleanup`. Bad input about the user's cache
//! that only AWS can tell (a scheme that contradicts the group's TLS, a missing token) exits 2
//! before anything is created.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use crate::common_aws;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common_aws::fargate::{hold_tasks_until_stopped, Mode};
use common_aws::inventory::inventory;
use common_aws::run::run_aws;
use common_aws::{bucket, default_vpc, Moto};
use elasticache_perf::aws::ledger::{replay, Ledger, ResourceKind};
use elasticache_perf::aws::Clients;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "staging-token-0123456789abcdef";

/// The user's cache: a Redis OSS 7.1 group on r7g.large with tags of its own, TLS and AUTH as
/// asked, created by the test and waited for until available. Returns its primary endpoint.
async fn users_group(c: &Clients, id: &str, tls: bool) -> String {
    let mut req = c
        .elasticache
        .create_replication_group()
        .replication_group_id(id)
        .replication_group_description("the team's staging cache")
        .engine("redis")
        .engine_version("7.1")
        .cache_node_type("cache.r7g.large")
        .num_node_groups(1)
        .replicas_per_node_group(1)
        .transit_encryption_enabled(tls)
        .tags(
            aws_sdk_elasticache::types::Tag::builder()
                .key("team")
                .value("payments")
                .build(),
        );
    if tls {
        req = req.auth_token(TOKEN);
    }
    req.send().await.unwrap();
    for _ in 0..20 {
        let (status, _) = group_state(c, id).await;
        if status == "available" {
            break;
        }
    }
    let g = c
        .elasticache
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
        .unwrap();
    g.replication_groups()[0].node_groups()[0]
        .primary_endpoint()
        .unwrap()
        .address()
        .unwrap()
        .to_string()
}

/// The group's status and tags.
async fn group_state(c: &Clients, id: &str) -> (String, BTreeMap<String, String>) {
    let g = c
        .elasticache
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
        .unwrap();
    let g = &g.replication_groups()[0];
    let tags = c
        .elasticache
        .list_tags_for_resource()
        .resource_name(g.arn().unwrap())
        .send()
        .await
        .unwrap();
    (
        g.status().unwrap().to_string(),
        tags.tag_list()
            .iter()
            .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
            .collect(),
    )
}

/// The user's security group for the load generators.
async fn users_security_group(c: &Clients, vpc: &str) -> String {
    c.ec2
        .create_security_group()
        .group_name("staging-cache-clients")
        .description("may reach the staging cache")
        .vpc_id(vpc)
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string()
}

/// The arguments each emulated task gave memtier, one file per task.
fn standin_args(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "args"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

fn kinds(out_dir: &Path) -> Vec<(ResourceKind, bool)> {
    replay(&Ledger::read(&out_dir.join("ledger.jsonl")).unwrap())
        .into_iter()
        .map(|r| (r.kind, r.deleted))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_group_by_id_is_loaded_and_left_untouched() {
    let moto = Moto::start(true);
    let c = moto.clients().await;
    let (vpc, _) = default_vpc(&c).await;
    let host = users_group(&c, "staging", true).await;
    let before = group_state(&c, "staging").await;
    assert_eq!(before.0, "available");
    let sg = users_security_group(&c, &vpc).await;
    let run_id = "ecp-own-1";
    let run = run_aws(
        &moto,
        run_id,
        Mode::Run,
        &[
            "--replication-group-id",
            "staging",
            "--security-group-ids",
            &sg,
            "--auth-token",
            TOKEN,
            "--aws-metrics-wait-seconds",
            "0",
        ],
    )
    .await;
    let log = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(run.code, Some(0), "{log}");
    // The tasks loaded the user's group with the user's token, over TLS.
    assert_eq!(run.envs.len(), 2, "{log}");
    for e in &run.envs {
        assert_eq!(e["ECP_HOST"], host);
        assert_eq!(e["ECP_AUTH_TOKEN"], TOKEN);
    }
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
    // memtier authenticated with it over TLS, and did not take the group for a cluster.
    let args = standin_args(&run.work.path().join("fargate"));
    assert_eq!(args.len(), 2);
    for a in &args {
        assert!(
            a.lines().any(|l| l == format!("--authenticate={TOKEN}")),
            "{a}"
        );
        assert!(a.lines().any(|l| l == "--tls") && !a.lines().any(|l| l == "--cluster-mode"));
    }
    // Results and profile as for a created cache, with what AWS says of the group.
    let results = run.results.clone().expect("results.json");
    assert_eq!(results["status"], "ok", "{}", results["notes"]);
    assert_eq!(results["tasks"].as_array().unwrap().len(), 2);
    let d = &results["run"]["details"];
    assert_eq!(
        (&d["engine"], &d["engine_version"], &d["node_type"]),
        (
            &serde_json::json!("redis"),
            &serde_json::json!("7.1"),
            &serde_json::json!("cache.r7g.large")
        ),
        "{d}"
    );
    assert!(results["server"].is_object(), "{}", results["notes"]);
    let summary = std::fs::read_to_string(run.out_dir.join("summary.md")).unwrap();
    assert!(summary.contains("cache.r7g.large"), "{summary}");
    // Exported to S3 like any run.
    let listed =
        c.s3.list_objects_v2()
            .bucket(format!("{run_id}-exports"))
            .send()
            .await
            .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    for f in ["plan.json", "results.json", "summary.md"] {
        assert!(keys.iter().any(|k| k.ends_with(f)), "{f}: {keys:?}");
    }
    // Nothing of the cache's side was created; everything created was deleted.
    let ledger = kinds(&run.out_dir);
    for k in [
        ResourceKind::ReplicationGroup,
        ResourceKind::CacheSubnetGroup,
        ResourceKind::SecurityGroup,
        ResourceKind::Schedule,
        ResourceKind::CacheParameterGroup,
    ] {
        assert!(!ledger.iter().any(|(x, _)| *x == k), "{k:?} in {ledger:?}");
    }
    assert!(ledger.iter().all(|(_, deleted)| *deleted), "{ledger:?}");
    // The user's group is as it was, and so is their security group.
    assert_eq!(group_state(&c, "staging").await, before);
    assert!(
        elasticache_perf::aws::network::security_group_exists(&c.ec2, &sg)
            .await
            .unwrap()
    );
    let left = inventory(&c, run_id, &vpc).await;
    assert!(left.is_empty(), "{left:?}\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_group_by_endpoint_and_what_only_aws_can_refuse() {
    let moto = Moto::start(true);
    let c = moto.clients().await;
    let (vpc, _) = default_vpc(&c).await;
    let host = users_group(&c, "plain", false).await;
    let before = group_state(&c, "plain").await;
    let sg = users_security_group(&c, &vpc).await;
    // rediss:// for a group without TLS, and a token for a group without AUTH: exit 2, nothing made.
    for (i, (url, extra, says)) in [
        (
            format!("rediss://{host}:6379"),
            None,
            "input 'endpoint' is rediss://",
        ),
        (
            format!("redis://{host}:6379"),
            Some(TOKEN),
            "input 'auth_token' is set",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let run_id = format!("ecp-own-bad-{i}");
        let mut args = vec!["--endpoint", &url, "--security-group-ids", &sg];
        if let Some(t) = extra {
            args.extend(["--auth-token", t]);
        }
        let run = run_aws(&moto, &run_id, Mode::Run, &args).await;
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
        assert!(!run.stderr.contains(TOKEN));
        assert!(!run.out_dir.join("ledger.jsonl").exists());
        assert!(inventory(&c, &run_id, &vpc).await.is_empty());
    }
    let run_id = "ecp-own-2";
    let url = format!("redis://{host}:6379");
    let run = run_aws(
        &moto,
        run_id,
        Mode::Run,
        &[
            "--endpoint",
            &url,
            "--security-group-ids",
            &sg,
            "--aws-metrics-wait-seconds",
            "0",
        ],
    )
    .await;
    let log = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(run.code, Some(0), "{log}");
    assert!(run
        .envs
        .iter()
        .all(|e| e["ECP_HOST"] == host && !e.contains_key("ECP_AUTH_TOKEN")));
    for a in standin_args(&run.work.path().join("fargate")) {
        assert!(
            !a.contains("--authenticate") && !a.lines().any(|l| l == "--tls"),
            "{a}"
        );
    }
    let results = run.results.clone().unwrap();
    assert_eq!(results["status"], "ok", "{}", results["notes"]);
    // Found by its endpoint: the group's member clusters give the server metrics.
    assert_eq!(results["run"]["details"]["node_type"], "cache.r7g.large");
    assert!(results["server"].is_object(), "{}", results["notes"]);
    assert_eq!(group_state(&c, "plain").await, before);
    let left = inventory(&c, run_id, &vpc).await;
    assert!(left.is_empty(), "{left:?}\n{log}");
}

/// `run` in the background (with `env`, e.g. as the action runs it) until its load generators
/// are running, SIGTERM (exit 130), then `cleanup --run-id` (tags only, no ledger). Returns both
/// logs.
async fn sigterm_during_load_then_cleanup(
    moto: &Moto,
    run_id: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> String {
    hold_tasks_until_stopped(&moto.endpoint);
    let c = moto.clients().await;
    let (vpc, subnets) = default_vpc(&c).await;
    let bucket_name = format!("{run_id}-exports");
    bucket(&c, &bucket_name).await;
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("out");
    let err_path = work.path().join("stderr.txt");
    let state = work.path().join("state");
    std::fs::write(&state, "").unwrap();
    let bin = assert_cmd::cargo::cargo_bin("elasticache-perf");
    let mut child = Command::new(&bin)
        .args(["run", "--target", "aws", "--run-id", run_id])
        .args(["--vpc-id", &vpc, "--subnet-ids", &subnets.join(",")])
        .args(["--metrics-export-s3-bucket", &bucket_name])
        .args(["--test-duration-minutes", "30", "--aws-poll-seconds", "0.2"])
        .args(["--engine-type", "valkey"])
        .args(extra)
        .arg("--out")
        .arg(&out_dir)
        .envs(moto.env())
        .envs(env.iter().copied())
        .env("GITHUB_STATE", &state)
        .env("ELASTICACHE_PERF_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let ledger = out_dir.join("ledger.jsonl");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(&ledger)
        .unwrap_or_default()
        .lines()
        .any(|l| l.contains("\"kind\":\"ecs_task\"") && l.contains("\"event\":\"created\""))
    {
        assert!(
            Instant::now() < deadline,
            "the load never started:\n{}",
            std::fs::read_to_string(&err_path).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let mut run_log = String::new();
    std::fs::File::open(&err_path)
        .unwrap()
        .read_to_string(&mut run_log)
        .unwrap();
    assert_eq!(status.code(), Some(130), "{run_log}");
    let env = moto.env();
    let cleanup_dir = work.path().join("cleanup");
    let run = run_id.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin)
            .args(["cleanup", "--run-id", &run, "--aws-region", "us-east-1"])
            .args(["--poll-seconds", "0.2", "--out"])
            .arg(cleanup_dir)
            .envs(env)
            .env("ELASTICACHE_PERF_LOG", "info")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let log = format!(
        "run:\n{run_log}\ncleanup:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{log}");
    let left = inventory(&c, run_id, &vpc).await;
    assert!(left.is_empty(), "{left:?}\n{log}");
    log
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_group_survives_sigterm_and_cleanup() {
    let moto = Moto::start(true);
    let c = moto.clients().await;
    let (vpc, _) = default_vpc(&c).await;
    users_group(&c, "staging", true).await;
    let before = group_state(&c, "staging").await;
    let sg = users_security_group(&c, &vpc).await;
    let log = sigterm_during_load_then_cleanup(
        &moto,
        "ecp-own-sig",
        &[
            "--replication-group-id",
            "staging",
            "--security-group-ids",
            &sg,
        ],
        // As the action passes it: a secret input, masked before anything could print it.
        &[("GITHUB_ACTIONS", "true"), ("INPUT_AUTH_TOKEN", TOKEN)],
    )
    .await;
    let mask = format!("::add-mask::{TOKEN}");
    assert!(log.lines().any(|l| l == mask), "{log}");
    assert!(
        log.lines().filter(|l| l.contains(TOKEN)).all(|l| l == mask),
        "{log}"
    );
    assert_eq!(group_state(&c, "staging").await, before, "{log}");
}

/// The run's replication group's parameter group, read from one of its member clusters while
/// the run goes on, until `stop`.
async fn watch_parameter_group(c: Clients, rg: String, stop: CancellationToken) -> Option<String> {
    while !stop.is_cancelled() {
        if let Ok(g) = c
            .elasticache
            .describe_replication_groups()
            .replication_group_id(&rg)
            .send()
            .await
        {
            if let Some(m) = g.replication_groups()[0].member_clusters().first() {
                let cc = c
                    .elasticache
                    .describe_cache_clusters()
                    .cache_cluster_id(m)
                    .send()
                    .await
                    .unwrap();
                return cc.cache_clusters()[0]
                    .cache_parameter_group()
                    .and_then(|p| p.cache_parameter_group_name())
                    .map(str::to_string);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameters_get_a_parameter_group_of_the_run_that_teardown_deletes() {
    let moto = Moto::start(true);
    let c = moto.clients().await;
    let run_id = "ecp-params-1";
    let stop = CancellationToken::new();
    let watcher = tokio::spawn(watch_parameter_group(
        c.clone(),
        run_id.to_string(),
        stop.clone(),
    ));
    let run = run_aws(
        &moto,
        run_id,
        Mode::Run,
        &[
            "--parameters",
            "maxmemory-policy=allkeys-lru",
            "--aws-metrics-wait-seconds",
            "0",
        ],
    )
    .await;
    stop.cancel();
    let log = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(run.code, Some(0), "{log}");
    // The cache used the run's own group.
    assert_eq!(
        watcher.await.unwrap().as_deref(),
        Some("ecp-params-1-params"),
        "{log}"
    );
    let results = run.results.clone().unwrap();
    assert_eq!(
        results["run"]["details"]["cache_parameters"], "maxmemory-policy=allkeys-lru",
        "{}",
        results["run"]["details"]
    );
    // Recorded before it was created, deleted at teardown after the cache.
    let entries = Ledger::read(&run.out_dir.join("ledger.jsonl")).unwrap();
    let pos = |kind: ResourceKind, event: &str| {
        entries
            .iter()
            .position(|e| e.kind == kind && format!("{:?}", e.event).eq_ignore_ascii_case(event))
            .unwrap_or_else(|| panic!("{kind:?} {event} missing: {entries:?}"))
    };
    assert!(
        pos(ResourceKind::CacheParameterGroup, "creating")
            < pos(ResourceKind::ReplicationGroup, "creating")
    );
    assert!(
        pos(ResourceKind::ReplicationGroup, "deleted")
            < pos(ResourceKind::CacheParameterGroup, "deleted")
    );
    assert!(!elasticache_perf::aws::parameters::parameter_group_exists(
        &c.elasticache,
        "ecp-params-1-params"
    )
    .await
    .unwrap());
    let left = inventory(&c, run_id, &run.vpc).await;
    assert!(left.is_empty(), "{left:?}\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parameter_group_of_the_run_is_gone_after_sigterm_and_cleanup() {
    let moto = Moto::start(true);
    let c = moto.clients().await;
    // No Fargate emulation: the tasks stay running, so the signal comes during the load.
    let log = sigterm_during_load_then_cleanup(
        &moto,
        "ecp-params-sig",
        &["--parameters", "maxmemory-policy=allkeys-lru,timeout=300"],
        &[],
    )
    .await;
    assert!(log.contains("ecp-params-sig-params"), "{log}");
    assert!(!elasticache_perf::aws::parameters::parameter_group_exists(
        &c.elasticache,
        "ecp-params-sig-params"
    )
    .await
    .unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_tiering_node_type_is_created_with_data_tiering() {
    // The double refuses r6gd nodes without DataTieringEnabled, as ElastiCache does.
    let moto = Moto::start(true);
    let c = moto.clients().await;
    let run_id = "ecp-tiered-1";
    let run = run_aws(
        &moto,
        run_id,
        Mode::Run,
        &[
            "--node-type",
            "cache.r6gd.xlarge",
            "--max-cost-usd",
            "none",
            "--aws-metrics-wait-seconds",
            "0",
        ],
    )
    .await;
    let log = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(run.code, Some(0), "{log}");
    assert_eq!(run.results.unwrap()["status"], "ok");
    assert!(inventory(&c, run_id, &run.vpc).await.is_empty());
}
