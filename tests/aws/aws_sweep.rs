//! `sweep` against moto: resources seeded with the tool's tags — some past their expiry, some not —
//! and some untagged ones with the tool's names. `sweep --dry-run` lists exactly the expired ones
//! and deletes nothing; `sweep` deletes them (in dependency order: the cache before its subnet
//! group) and leaves the rest; `--older-than` picks by the run's start instead.

#![allow(clippy::unwrap_used)]

use crate::common_aws;

use std::time::Duration;

use common_aws::{default_vpc, Moto};
use elasticache_perf::aws::ledger::ResourceKind;
use elasticache_perf::aws::{leaks, Clients};
use elasticache_perf::plan::{TAG_CREATED_AT, TAG_EXPIRES_AT, TAG_RUN_ID};

const PAST: &str = "2026-01-01T00:00:00Z";
const FUTURE: &str = "2999-01-01T00:00:00Z";

fn tags(run: &str, expires: &str) -> Vec<(String, String)> {
    vec![
        (TAG_RUN_ID.into(), run.into()),
        (TAG_EXPIRES_AT.into(), expires.into()),
        (TAG_CREATED_AT.into(), "2025-12-31T22:00:00Z".into()),
    ]
}

/// A security group, a log group, an ECS cluster, an IAM role, a cache subnet group and a
/// replication group named after `run`, tagged with `tags` (none when empty).
async fn seed(c: &Clients, vpc: &str, subnets: &[String], run: &str, tags: &[(String, String)]) {
    use aws_sdk_ec2::types::{ResourceType, Tag as Ec2Tag, TagSpecification};
    let mut spec = TagSpecification::builder().resource_type(ResourceType::SecurityGroup);
    for (k, v) in tags {
        spec = spec.tags(Ec2Tag::builder().key(k).value(v).build());
    }
    let mut sg = c
        .ec2
        .create_security_group()
        .group_name(format!("{run}-cache"))
        .description("seeded")
        .vpc_id(vpc);
    if !tags.is_empty() {
        sg = sg.tag_specifications(spec.build());
    }
    sg.send().await.unwrap();
    let mut lg = c
        .logs
        .create_log_group()
        .log_group_name(format!("/elasticache-perf/{run}"));
    for (k, v) in tags {
        lg = lg.tags(k, v);
    }
    lg.send().await.unwrap();
    let mut cl = c.ecs.create_cluster().cluster_name(run);
    for (k, v) in tags {
        cl = cl.tags(aws_sdk_ecs::types::Tag::builder().key(k).value(v).build());
    }
    cl.send().await.unwrap();
    let mut role = c
        .iam
        .create_role()
        .role_name(format!("{run}-exec"))
        .path("/elasticache-perf/")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#);
    for (k, v) in tags {
        role = role.tags(
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .unwrap(),
        );
    }
    role.send().await.unwrap();
    let ec_tags: Vec<aws_sdk_elasticache::types::Tag> = tags
        .iter()
        .map(|(k, v)| {
            aws_sdk_elasticache::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        })
        .collect();
    c.elasticache
        .create_cache_subnet_group()
        .cache_subnet_group_name(format!("{run}-subnets"))
        .cache_subnet_group_description("seeded")
        .set_subnet_ids(Some(subnets.to_vec()))
        .set_tags(Some(ec_tags.clone()))
        .send()
        .await
        .unwrap();
    c.elasticache
        .create_replication_group()
        .replication_group_id(run)
        .replication_group_description("seeded")
        .engine("redis")
        .cache_node_type("cache.t4g.micro")
        .cache_subnet_group_name(format!("{run}-subnets"))
        .set_tags(Some(ec_tags))
        .send()
        .await
        .unwrap();
}

/// Which of `run`'s seeded resources exist, by kind label.
async fn existing(c: &Clients, vpc: &str, run: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let sg = elasticache_perf::aws::network::find_security_group(
        &c.ec2,
        &format!("{run}-cache"),
        Some(vpc),
    )
    .await
    .unwrap();
    if sg.is_some() {
        out.push(ResourceKind::SecurityGroup.label());
    }
    for (kind, key) in [
        (ResourceKind::LogGroup, format!("/elasticache-perf/{run}")),
        (ResourceKind::EcsCluster, run.to_string()),
        (ResourceKind::IamRole, format!("{run}-exec")),
        (ResourceKind::CacheSubnetGroup, format!("{run}-subnets")),
        (ResourceKind::ReplicationGroup, run.to_string()),
    ] {
        if leaks::exists(c, kind, &key).await.unwrap() {
            out.push(kind.label());
        }
    }
    out
}

fn sweep(moto: &Moto, args: &[&str], out: &std::path::Path) -> (bool, String) {
    let o = assert_cmd::Command::cargo_bin("elasticache-perf")
        .unwrap()
        .arg("sweep")
        .args(args)
        .args(["--poll-seconds", "0.1", "--out"])
        .arg(out)
        .envs(moto.env())
        .env("ELASTICACHE_PERF_LOG", "warn")
        .timeout(Duration::from_secs(180))
        .output()
        .unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_takes_exactly_the_expired_resources() {
    let moto = Moto::start(false);
    let c = moto.clients().await;
    let (vpc, subnets) = default_vpc(&c).await;
    seed(&c, &vpc, &subnets, "ecp-old-1", &tags("ecp-old-1", PAST)).await;
    seed(&c, &vpc, &subnets, "ecp-new-1", &tags("ecp-new-1", FUTURE)).await;
    seed(&c, &vpc, &subnets, "ecp-mine-1", &[]).await;
    let all = [
        "security group",
        "log group",
        "ECS cluster",
        "IAM role",
        "cache subnet group",
        "replication group",
    ];
    let work = tempfile::tempdir().unwrap();

    let (ok, text) = sweep(&moto, &["--dry-run"], work.path());
    assert!(ok, "{text}");
    let listed: Vec<&str> = text.lines().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(listed.len(), 6, "{text}");
    assert!(
        listed
            .iter()
            .all(|l| l.trim_start().starts_with("ecp-old-1 ")),
        "{text}"
    );
    for kind in all {
        assert!(
            listed.iter().any(|l| l.contains(kind)),
            "{kind} missing: {text}"
        );
    }
    assert!(
        text.starts_with("6 resource(s) of 1 run(s) past their expiry"),
        "{text}"
    );
    assert_eq!(
        existing(&c, &vpc, "ecp-old-1").await,
        all,
        "dry run deleted something"
    );

    // --older-than goes by the start tag: both tagged runs started on 2025-12-31.
    let (ok, text) = sweep(&moto, &["--dry-run", "--older-than", "1h"], work.path());
    assert!(ok, "{text}");
    assert!(
        text.starts_with("12 resource(s) of 2 run(s) started before the cut-off"),
        "{text}"
    );
    let (ok, text) = sweep(&moto, &["--dry-run", "--older-than", "5000d"], work.path());
    assert!(ok && text.starts_with("0 resource(s)"), "{text}");
    let (ok, text) = sweep(&moto, &["--older-than", "soon"], work.path());
    assert!(
        !ok && text.contains("input 'older_than' is 'soon'"),
        "{text}"
    );

    let (ok, text) = sweep(&moto, &[], work.path());
    assert!(ok, "{text}");
    // The six, and the Container Insights log group the cluster's name leads to (never made here:
    // already gone).
    assert!(text.contains("run ecp-old-1: 7 deleted"), "{text}");
    assert!(existing(&c, &vpc, "ecp-old-1").await.is_empty());
    assert_eq!(existing(&c, &vpc, "ecp-new-1").await, all);
    assert_eq!(existing(&c, &vpc, "ecp-mine-1").await, all);
    // Nothing is due any more.
    let (ok, text) = sweep(&moto, &["--dry-run"], work.path());
    assert!(ok && text.starts_with("0 resource(s)"), "{text}");
}
