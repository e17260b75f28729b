//! Provisioning and teardown against moto (real HTTP, real SDK): what is created (names, tags,
//! parameters, task definition, security-group rules), that teardown leaves nothing, that a step
//! failing after the cache was created leaves nothing, and that bad inputs fail before anything is
//! created. moto's gaps that the product must not bend to are closed in tests/support/moto_server.py.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use crate::common_aws;

use std::sync::Mutex;
use std::time::Duration;

use common_aws::plan::{fast, plan_for};
use common_aws::Moto;
use elasticache_perf::aws::ledger::{replay, Ledger, ResourceKind};
use elasticache_perf::aws::{self, leaks, Clients};
use elasticache_perf::config::Secret;
use elasticache_perf::plan::{self, RunPlan, TAG_EXPIRES_AT, TAG_RUN_ID};

fn tag<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>, key: &str) -> Option<String> {
    tags.into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

/// Teardown from the ledger file, then the leak scan must come back empty.
async fn teardown_and_scan(
    c: &Clients,
    p: &RunPlan,
    dir: &std::path::Path,
    ledger: &Mutex<Ledger>,
) {
    let resources = replay(&Ledger::read(&dir.join("ledger.jsonl")).unwrap());
    let rep = aws::teardown(c, ledger, &resources, Some(&p.network.vpc_id), &fast()).await;
    assert!(rep.errors.is_empty(), "teardown errors: {:?}", rep.errors);
    let again = replay(&Ledger::read(&dir.join("ledger.jsonl")).unwrap());
    assert!(again.iter().all(|r| r.deleted), "{again:?}");
    let left = leaks::leak_scan(c, &p.run_id, &again, Some(&p.network.vpc_id))
        .await
        .unwrap();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// The plan was written to the export bucket by the pre-flight write check, without the token.
async fn plan_was_exported(c: &Clients, p: &RunPlan, token: &Secret) {
    let n = &p.names;
    // The plan was written to the export bucket by the pre-flight write check.
    let obj =
        c.s3.get_object()
            .bucket(&p.export.bucket)
            .key(format!("{}plan.json", p.export.prefix))
            .send()
            .await
            .unwrap();
    let body = obj.body.collect().await.unwrap().into_bytes();
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.contains(&n.replication_group) && !text.contains(token.expose()));
}

/// The security groups: tagged, in the VPC; the cache's only ingress is its port from the load
/// generators, which take none.
async fn security_groups_are_as_planned(c: &Clients, p: &RunPlan, got: &aws::Provisioned) {
    let n = &p.names;
    // Security groups: tagged; the cache's only ingress is the cache port from the load generators.
    let sgs = c
        .ec2
        .describe_security_groups()
        .set_group_ids(Some(vec![
            got.cache_security_groups[0].clone(),
            got.task_security_groups[0].clone(),
        ]))
        .send()
        .await
        .unwrap();
    for g in sgs.security_groups() {
        let tags: Vec<(&str, &str)> = g
            .tags()
            .iter()
            .map(|t| (t.key().unwrap(), t.value().unwrap()))
            .collect();
        assert_eq!(tag(tags.clone(), TAG_RUN_ID).as_deref(), Some("ecp-prov-1"));
        assert_eq!(
            tag(tags.clone(), TAG_EXPIRES_AT),
            Some(p.expires_at.clone())
        );
        assert_eq!(g.vpc_id(), Some(p.network.vpc_id.as_str()));
        if g.group_id() == Some(got.cache_security_groups[0].as_str()) {
            assert_eq!(g.group_name(), Some(n.cache_security_group.as_str()));
            let perms = g.ip_permissions();
            assert_eq!(perms.len(), 1, "{perms:?}");
            assert_eq!(perms[0].from_port(), Some(6379));
            assert_eq!(perms[0].to_port(), Some(6379));
            assert_eq!(perms[0].ip_protocol(), Some("tcp"));
            assert!(perms[0].ip_ranges().is_empty() && perms[0].ipv6_ranges().is_empty());
            let pairs = perms[0].user_id_group_pairs();
            assert_eq!(pairs.len(), 1);
            assert_eq!(
                pairs[0].group_id(),
                Some(got.task_security_groups[0].as_str())
            );
        } else {
            assert_eq!(g.group_name(), Some(n.loadgen_security_group.as_str()));
            assert!(
                g.ip_permissions().is_empty(),
                "the load generators take no ingress"
            );
        }
    }
}

/// The replication group (TLS, AUTH, members, endpoint, tags) and its subnet group.
async fn cache_is_as_planned(c: &Clients, p: &RunPlan, got: &aws::Provisioned) {
    let n = &p.names;
    // Replication group.
    let rg = c
        .elasticache
        .describe_replication_groups()
        .replication_group_id(&n.replication_group)
        .send()
        .await
        .unwrap();
    let rg = &rg.replication_groups()[0];
    assert_eq!(rg.status(), Some("available"));
    assert_eq!(rg.transit_encryption_enabled(), Some(true));
    assert_eq!(rg.auth_token_enabled(), Some(true));
    assert_eq!(rg.member_clusters().len(), 2, "1 primary + 1 replica");
    assert_eq!(got.member_clusters, rg.member_clusters());
    assert!(
        got.endpoint.contains(&n.replication_group),
        "{}",
        got.endpoint
    );
    let tags = c
        .elasticache
        .list_tags_for_resource()
        .resource_name(rg.arn().unwrap())
        .send()
        .await
        .unwrap();
    let tags: Vec<(&str, &str)> = tags
        .tag_list()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert_eq!(tag(tags.clone(), TAG_RUN_ID).as_deref(), Some("ecp-prov-1"));
    assert_eq!(
        tag(tags, "elasticache-perf:repository").as_deref(),
        Some("octo/bench")
    );
    let sng = c
        .elasticache
        .describe_cache_subnet_groups()
        .cache_subnet_group_name(&n.cache_subnet_group)
        .send()
        .await
        .unwrap();
    let sng = &sng.cache_subnet_groups()[0];
    let mut subnet_ids: Vec<&str> = sng
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_identifier())
        .collect();
    subnet_ids.sort_unstable();
    assert_eq!(subnet_ids, p.network.subnet_ids);
}

/// The log group's retention, and the ECS cluster with Container Insights and tags.
async fn logs_and_cluster_are_as_planned(c: &Clients, p: &RunPlan) {
    let n = &p.names;
    // Log group with tags and retention.
    let lg = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix(&n.log_group)
        .send()
        .await
        .unwrap();
    assert_eq!(
        lg.log_groups()[0].retention_in_days(),
        Some(plan::LOG_RETENTION_DAYS)
    );

    // ECS cluster with Container Insights.
    let cl = c
        .ecs
        .describe_clusters()
        .clusters(&n.ecs_cluster)
        .include(aws_sdk_ecs::types::ClusterField::Tags)
        .include(aws_sdk_ecs::types::ClusterField::Settings)
        .send()
        .await
        .unwrap();
    let cl = &cl.clusters()[0];
    assert!(cl.settings().iter().any(|s| s.value() == Some("enabled")));
    assert!(cl
        .tags()
        .iter()
        .any(|t| t.key() == Some(TAG_RUN_ID) && t.value() == Some("ecp-prov-1")));
}

/// The execution role: under the tool's path, trusted by ECS tasks, with the managed policy.
async fn execution_role_is_as_planned(c: &Clients, p: &RunPlan, got: &aws::Provisioned) {
    let n = &p.names;
    // Execution role under the tool's path, trusted by ECS tasks, with the managed policy.
    let role = c
        .iam
        .get_role()
        .role_name(&n.execution_role)
        .send()
        .await
        .unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.path(), plan::names::ROLE_PATH);
    assert_eq!(role.arn(), got.execution_role_arn);
    let trust = urlencoding_decode(role.assume_role_policy_document().unwrap());
    assert!(trust.contains("ecs-tasks.amazonaws.com"), "{trust}");
    let att = c
        .iam
        .list_attached_role_policies()
        .role_name(&n.execution_role)
        .send()
        .await
        .unwrap();
    assert_eq!(
        att.attached_policies()[0].policy_name(),
        Some("AmazonECSTaskExecutionRolePolicy")
    );
}

/// The task definition: Fargate, awsvpc, size, image, the plan's script under sh -c (never the
/// token), awslogs.
async fn task_definition_is_as_planned(
    c: &Clients,
    p: &RunPlan,
    got: &aws::Provisioned,
    token: &Secret,
) {
    let n = &p.names;
    // Task definition: Fargate, awsvpc, size, image, the plan's script under sh -c, awslogs.
    let td = c
        .ecs
        .describe_task_definition()
        .task_definition(&got.task_definition_arn)
        .send()
        .await
        .unwrap();
    let td = td.task_definition().unwrap();
    assert_eq!(td.family(), Some(n.task_family.as_str()));
    assert_eq!(td.cpu(), Some("1024"));
    assert_eq!(td.memory(), Some("2048"));
    assert_eq!(
        td.network_mode(),
        Some(&aws_sdk_ecs::types::NetworkMode::Awsvpc)
    );
    assert!(td
        .requires_compatibilities()
        .contains(&aws_sdk_ecs::types::Compatibility::Fargate));
    assert_eq!(
        td.execution_role_arn(),
        Some(got.execution_role_arn.as_str())
    );
    let cd = &td.container_definitions()[0];
    assert_eq!(cd.image(), Some(p.tasks.image.as_str()));
    assert_eq!(cd.entry_point(), ["sh", "-c"]);
    assert_eq!(cd.command(), std::slice::from_ref(&p.tasks.script.script));
    assert!(
        !cd.command()[0].contains(token.expose()),
        "the token never goes into the task definition"
    );
    let lc = cd.log_configuration().unwrap();
    assert_eq!(lc.log_driver(), &aws_sdk_ecs::types::LogDriver::Awslogs);
    let opts = lc.options().unwrap();
    assert_eq!(opts["awslogs-group"], n.log_group);
    assert_eq!(opts["awslogs-stream-prefix"], "ecp");
    assert_eq!(opts["mode"], "blocking");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_creates_what_the_plan_says_and_teardown_removes_it_all() {
    let moto = Moto::start(true);
    let c = moto.clients().await;
    let p = plan_for(&c, "ecp-prov-1", &["--num-replicas", "1"]).await;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Mutex::new(Ledger::open(dir.path(), &p.run_id, "us-east-1").unwrap());
    aws::preflight(&mut c.clone(), &p).await.unwrap();
    let token = Secret::new("abcdefghijklmnopqrstuvwxyz012345");
    let got = aws::provision(&c, &p, &ledger, Some(&token), &fast())
        .await
        .unwrap();
    plan_was_exported(&c, &p, &token).await;
    security_groups_are_as_planned(&c, &p, &got).await;
    cache_is_as_planned(&c, &p, &got).await;
    logs_and_cluster_are_as_planned(&c, &p).await;
    execution_role_is_as_planned(&c, &p, &got).await;
    task_definition_is_as_planned(&c, &p, &got, &token).await;

    // The ledger knows everything, each recorded before it was waited on.
    let resources = replay(&Ledger::read(&dir.path().join("ledger.jsonl")).unwrap());
    let kinds: Vec<ResourceKind> = resources.iter().map(|r| r.kind).collect();
    for k in [
        ResourceKind::SecurityGroup,
        ResourceKind::CacheSubnetGroup,
        ResourceKind::ReplicationGroup,
        ResourceKind::LogGroup,
        ResourceKind::EcsCluster,
        ResourceKind::IamRole,
        ResourceKind::TaskDefinition,
    ] {
        assert!(kinds.contains(&k), "{k:?} missing from the ledger");
    }
    assert!(!leaks::leak_scan(&c, &p.run_id, &resources, None)
        .await
        .unwrap()
        .is_empty());

    teardown_and_scan(&c, &p, dir.path(), &ledger).await;
    // And a second teardown of the same ledger is a no-op that succeeds (idempotent).
    let resources = replay(&Ledger::read(&dir.path().join("ledger.jsonl")).unwrap());
    let undeleted: Vec<_> = resources
        .iter()
        .map(|r| elasticache_perf::aws::ledger::Resource {
            deleted: false,
            ..r.clone()
        })
        .collect();
    let rep = aws::teardown(&c, &ledger, &undeleted, Some(&p.network.vpc_id), &fast()).await;
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
}

fn urlencoding_decode(s: &str) -> String {
    // IAM returns the policy document URL-encoded.
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// moto started without AWS managed policies cannot attach AmazonECSTaskExecutionRolePolicy: that
/// step fails after the replication group was created, and the run must leave nothing behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_failing_after_the_cache_was_created_leaves_nothing() {
    let moto = Moto::start(false);
    let c = moto.clients().await;
    let p = plan_for(&c, "ecp-fail-1", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Mutex::new(Ledger::open(dir.path(), &p.run_id, "us-east-1").unwrap());
    aws::preflight(&mut c.clone(), &p).await.unwrap();
    let token = Secret::new("abcdefghijklmnopqrstuvwxyz012345");
    let err = aws::provision(&c, &p, &ledger, Some(&token), &fast())
        .await
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("AttachRolePolicy"), "names the step: {msg}");
    assert!(
        msg.contains(&p.names.execution_role),
        "names the resource: {msg}"
    );
    // The cache had been created when the step failed.
    let resources = replay(&Ledger::read(&dir.path().join("ledger.jsonl")).unwrap());
    assert!(resources
        .iter()
        .any(|r| r.kind == ResourceKind::ReplicationGroup));
    assert!(!leaks::leak_scan(&c, &p.run_id, &resources, None)
        .await
        .unwrap()
        .is_empty());
    drop(ledger);
    // `cleanup` (the command a later process runs from the ledger) removes everything.
    let out = tokio::task::spawn_blocking({
        let env = moto.env();
        let dir = dir.path().to_path_buf();
        move || {
            assert_cmd::Command::cargo_bin("elasticache-perf")
                .unwrap()
                .args(["cleanup", "--poll-seconds", "0.1", "--out"])
                .arg(&dir)
                .envs(env)
                .env("ELASTICACHE_PERF_LOG", "warn")
                .timeout(Duration::from_secs(120))
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = replay(&Ledger::read(&dir.path().join("ledger.jsonl")).unwrap());
    assert!(after.iter().all(|r| r.deleted), "{after:?}");
    let left = leaks::leak_scan(&c, &p.run_id, &after, Some(&p.network.vpc_id))
        .await
        .unwrap();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_subnets_and_buckets_fail_before_anything_is_created() {
    let moto = Moto::start(false);
    let c = moto.clients().await;
    let mut p = plan_for(&c, "ecp-pre-1", &[]).await;
    p.network.subnet_ids = vec!["subnet-0000000000000000f".into()];
    let err = aws::preflight(&mut c.clone(), &p).await.unwrap_err();
    assert!(format!("{err:#}").contains("input 'subnet_ids'"), "{err:#}");
    assert_eq!(
        elasticache_perf::exit_code_for(&err),
        elasticache_perf::EXIT_BAD_INPUT
    );
    p.export.bucket = "ecp-no-such-bucket".into();
    let err = aws::preflight(&mut c.clone(), &p).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("input 'metrics_export_s3_bucket'"),
        "{err:#}"
    );
    assert!(aws::discover::find(&c, Some("ecp-pre-1"))
        .await
        .unwrap()
        .is_empty());
}

/// A group still being created is waited for, then deleted (ElastiCache refuses to delete it
/// while `creating`; the patched moto says `creating` on the first describe).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_still_creating_is_waited_for_then_deleted() {
    let moto = Moto::start(false);
    let c = moto.clients().await;
    let p = plan_for(&c, "ecp-wait-1", &["--transit-encryption", "false"]).await;
    aws::elasticache::create_subnet_group(
        &c.elasticache,
        &p.names.cache_subnet_group,
        &p.network.subnet_ids,
        &p.tags,
    )
    .await
    .unwrap();
    aws::elasticache::create_replication_group(&c.elasticache, &p, &[], None)
        .await
        .unwrap();
    let first = c
        .elasticache
        .delete_replication_group()
        .replication_group_id(&p.names.replication_group)
        .send()
        .await;
    let e = aws::Error::from_sdk("DeleteReplicationGroup", "x", first.unwrap_err());
    assert_eq!(e.code(), Some("InvalidReplicationGroupState"));
    let f = fast();
    aws::elasticache::delete_and_wait(&c.elasticache, &p.names.replication_group, f.delete, f.poll)
        .await
        .unwrap();
    let gone = aws::elasticache::describe(&c.elasticache, &p.names.replication_group).await;
    assert!(gone.unwrap_err().is_not_found());
    aws::elasticache::delete_subnet_group(&c.elasticache, &p.names.cache_subnet_group)
        .await
        .unwrap();
}

/// A create call in flight when a signal comes can land after the signal path's one delete call
/// found nothing and recorded the resource deleted. `cleanup` from that ledger must not trust the
/// record: it asks each service, and deletes what is still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_deletes_what_the_ledger_wrongly_records_as_deleted() {
    use elasticache_perf::aws::ledger::record;
    use elasticache_perf::aws::ledger::Event;
    let moto = Moto::start(true);
    let c = moto.clients().await;
    let p = plan_for(&c, "ecp-race-1", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Mutex::new(Ledger::open(dir.path(), &p.run_id, "us-east-1").unwrap());
    aws::preflight(&mut c.clone(), &p).await.unwrap();
    let token = Secret::new("abcdefghijklmnopqrstuvwxyz012345");
    aws::provision(&c, &p, &ledger, Some(&token), &fast())
        .await
        .unwrap();
    let n = &p.names;
    for (kind, name) in [
        (
            ResourceKind::CacheSubnetGroup,
            n.cache_subnet_group.as_str(),
        ),
        (ResourceKind::IamRole, n.execution_role.as_str()),
    ] {
        record(&ledger, kind, name, None, Event::Deleted).unwrap();
    }
    drop(ledger);
    let known = replay(&Ledger::read(&dir.path().join("ledger.jsonl")).unwrap());
    assert_eq!(known.iter().filter(|r| r.deleted).count(), 2);
    let cleaned = aws::cleanup::cleanup_run(&c, &p.run_id, &known, dir.path(), &fast())
        .await
        .unwrap();
    assert!(cleaned.is_clean(), "{cleaned:?}");
    for name in [&n.cache_subnet_group, &n.execution_role] {
        assert!(
            cleaned
                .report
                .deleted
                .iter()
                .any(|d| d.contains(name.as_str())),
            "{name} was not deleted again: {cleaned:?}"
        );
    }
}
