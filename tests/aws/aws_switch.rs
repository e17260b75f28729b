//! The dead-man's switch against moto (real HTTP, real SDK): the CreateSchedule request as moto
//! stores it (target, input, `at(...)` equal to the expires-at tag, role, flexible window, action
//! after completion), its role (trust, inline policy, tags); that a teardown which cannot delete
//! the replication group leaves the switch armed and a normal one removes schedule and role; and
//! that with `dead_mans_switch=false` nothing is scheduled.
//!
//! Gap: moto never fires schedules (shared docs/moto-notes.md, Scheduler row), so what the schedule
//! does at the expiry — ElastiCache deleting the group under the switch's role — is not tested here.

#![allow(clippy::unwrap_used)]

use crate::common_aws;

use std::sync::Mutex;
use std::time::Duration;

use common_aws::plan::{fast, plan_for};
use common_aws::Moto;
use elasticache_perf::aws::ledger::{replay, Event, Ledger, ResourceKind};
use elasticache_perf::aws::{self, leaks, Clients, Timeouts};
use elasticache_perf::plan::{names::ROLE_PATH, RunPlan, TAG_EXPIRES_AT};
use serde_json::{json, Value};

/// IAM returns policy documents URL-encoded.
fn policy(doc: &str) -> Value {
    let b = doc.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < b.len() {
        match (b[i], doc.get(i + 1..i + 3)) {
            (b'%', Some(h)) if u8::from_str_radix(h, 16).is_ok() => {
                out.push(u8::from_str_radix(h, 16).unwrap());
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    serde_json::from_slice(&out).unwrap()
}

async fn schedule_exists(c: &Clients, name: &str) -> bool {
    aws::scheduler::schedule_exists(&c.scheduler, name)
        .await
        .unwrap()
}

fn resources(dir: &std::path::Path) -> Vec<elasticache_perf::aws::ledger::Resource> {
    replay(&Ledger::read(&dir.join("ledger.jsonl")).unwrap())
}

/// The switch's role: under the tool's path, tagged, trusted only by this account's scheduler, and
/// allowed only to delete this run's group (and its member clusters).
async fn role_is_as_planned(c: &Clients, p: &RunPlan) -> aws_sdk_iam::types::Role {
    let n = &p.names;
    // The role: under the tool's path, tagged, trusted only by this account's scheduler.
    let role = c.iam.get_role().role_name(&n.expiry_role).send().await;
    let role = role.unwrap().role.unwrap();
    assert_eq!(role.path(), ROLE_PATH);
    assert!(role
        .tags()
        .iter()
        .any(|t| t.key() == TAG_EXPIRES_AT && t.value() == p.expires_at));
    let trust = policy(role.assume_role_policy_document().unwrap());
    let st = &trust["Statement"][0];
    assert_eq!(st["Principal"]["Service"], "scheduler.amazonaws.com");
    assert_eq!(st["Action"], "sts:AssumeRole");
    assert_eq!(
        st["Condition"]["StringEquals"]["aws:SourceAccount"], "123456789012",
        "moto's account"
    );
    // Its only permission: deleting this run's group (and its member clusters).
    let names = c
        .iam
        .list_role_policies()
        .role_name(&n.expiry_role)
        .send()
        .await
        .unwrap();
    assert_eq!(names.policy_names(), [aws::scheduler::ROLE_POLICY_NAME]);
    let inline = c
        .iam
        .get_role_policy()
        .role_name(&n.expiry_role)
        .policy_name(aws::scheduler::ROLE_POLICY_NAME)
        .send()
        .await
        .unwrap();
    let doc = policy(inline.policy_document());
    assert_eq!(doc["Statement"].as_array().unwrap().len(), 1);
    assert_eq!(
        doc["Statement"][0]["Action"],
        "elasticache:DeleteReplicationGroup"
    );
    assert_eq!(
        doc["Statement"][0]["Resource"],
        json!([
            "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:ecp-dms-1",
            "arn:aws:elasticache:us-east-1:123456789012:cluster:ecp-dms-1-*"
        ])
    );
    role
}

/// The schedule as moto stored the CreateSchedule request: once, at the group's expires-at tag,
/// deleting the group with the switch's role, and retrying for a day.
async fn schedule_is_as_planned(c: &Clients, p: &RunPlan, role: &aws_sdk_iam::types::Role) {
    let n = &p.names;
    // The schedule as moto stored the CreateSchedule request.
    let s = c
        .scheduler
        .get_schedule()
        .name(&n.expiry_schedule)
        .group_name("default")
        .send()
        .await
        .unwrap();
    let rg = c
        .elasticache
        .describe_replication_groups()
        .replication_group_id(&n.replication_group)
        .send()
        .await
        .unwrap();
    let tags = c
        .elasticache
        .list_tags_for_resource()
        .resource_name(rg.replication_groups()[0].arn().unwrap())
        .send()
        .await
        .unwrap();
    let expires_tag = tags
        .tag_list()
        .iter()
        .find(|t| t.key() == Some(TAG_EXPIRES_AT))
        .and_then(|t| t.value())
        .unwrap()
        .to_string();
    assert_eq!(
        expires_tag, "2026-11-26T22:01:00Z",
        "5 s test + 120 min, rounded up to the minute"
    );
    assert_eq!(
        s.schedule_expression(),
        Some(format!("at({})", expires_tag.trim_end_matches('Z')).as_str()),
        "fires at the expires-at tag's time"
    );
    assert_eq!(s.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(
        s.flexible_time_window().map(|w| w.mode().as_str()),
        Some("OFF")
    );
    assert_eq!(
        s.action_after_completion().map(|a| a.as_str()),
        Some("DELETE")
    );
    assert_eq!(s.state().map(|a| a.as_str()), Some("ENABLED"));
    assert!(s.description().unwrap().contains("ecp-dms-1"));
    let t = s.target().unwrap();
    assert_eq!(
        t.arn(),
        "arn:aws:scheduler:::aws-sdk:elasticache:deleteReplicationGroup"
    );
    assert_eq!(t.role_arn(), role.arn(), "acts with the role made for it");
    let input: Value = serde_json::from_str(t.input().unwrap()).unwrap();
    assert_eq!(input, json!({ "ReplicationGroupId": "ecp-dms-1" }));
    let retry = t.retry_policy().unwrap();
    assert_eq!(retry.maximum_retry_attempts(), Some(185));
    assert_eq!(retry.maximum_event_age_in_seconds(), Some(86_400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_switch_is_armed_as_planned_and_disarmed_only_after_the_group_is_gone() {
    let moto = Moto::start(true);
    let c = moto.clients().await;
    let p = plan_for(&c, "ecp-dms-1", &["--transit-encryption", "false"]).await;
    let n = &p.names;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Mutex::new(Ledger::open(dir.path(), &p.run_id, "us-east-1").unwrap());
    aws::provision(&c, &p, &ledger, None, &fast())
        .await
        .unwrap();

    let role = role_is_as_planned(&c, &p).await;
    schedule_is_as_planned(&c, &p, &role).await;

    // Both are in the ledger, each recorded before its create call.
    let entries = Ledger::read(&dir.path().join("ledger.jsonl")).unwrap();
    for (kind, name) in [
        (ResourceKind::IamRole, &n.expiry_role),
        (ResourceKind::Schedule, &n.expiry_schedule),
    ] {
        let events: Vec<Event> = entries
            .iter()
            .filter(|e| e.kind == kind && &e.name == name)
            .map(|e| e.event)
            .collect();
        assert_eq!(events, [Event::Creating, Event::Created], "{kind:?}");
    }

    // A teardown that cannot delete the group (its wait gives up at once) keeps the switch armed.
    let give_up = Timeouts {
        delete: Duration::ZERO,
        in_use: Duration::ZERO,
        ..fast()
    };
    let rep = aws::teardown(&c, &ledger, &resources(dir.path()), None, &give_up).await;
    assert!(
        rep.errors.iter().any(|e| e.contains("replication group")),
        "{:?}",
        rep.errors
    );
    assert!(schedule_exists(&c, &n.expiry_schedule).await);
    assert!(aws::iam::role_exists(&c.iam, &n.expiry_role).await.unwrap());
    let left = resources(dir.path());
    assert!(left
        .iter()
        .any(|r| r.kind == ResourceKind::Schedule && !r.deleted));

    // The next teardown deletes the group, then the schedule and its role: nothing is left.
    let rep = aws::teardown(&c, &ledger, &left, Some(&p.network.vpc_id), &fast()).await;
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    assert!(!schedule_exists(&c, &n.expiry_schedule).await);
    assert!(!aws::iam::role_exists(&c.iam, &n.expiry_role).await.unwrap());
    let after = resources(dir.path());
    assert!(after.iter().all(|r| r.deleted), "{after:?}");
    let left = leaks::leak_scan(&c, &p.run_id, &after, Some(&p.network.vpc_id))
        .await
        .unwrap();
    assert!(left.is_empty(), "left behind: {left:?}");
    // Deleting a schedule that is gone (fired, or deleted before) counts as done.
    let r = aws::scheduler::delete_schedule(&c.scheduler, &n.expiry_schedule).await;
    assert!(r.unwrap_err().is_not_found());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_switch_off_nothing_is_scheduled() {
    let moto = Moto::start(true);
    let c = moto.clients().await;
    let p = plan_for(
        &c,
        "ecp-dms-off",
        &[
            "--transit-encryption",
            "false",
            "--dead-mans-switch",
            "false",
        ],
    )
    .await;
    assert!(p.dead_mans_switch.is_none());
    let dir = tempfile::tempdir().unwrap();
    let ledger = Mutex::new(Ledger::open(dir.path(), &p.run_id, "us-east-1").unwrap());
    aws::provision(&c, &p, &ledger, None, &fast())
        .await
        .unwrap();
    let listed = c
        .scheduler
        .list_schedules()
        .name_prefix("ecp-")
        .send()
        .await
        .unwrap();
    assert!(listed.schedules().is_empty(), "{:?}", listed.schedules());
    assert!(!aws::iam::role_exists(&c.iam, &p.names.expiry_role)
        .await
        .unwrap());
    let rs = resources(dir.path());
    assert!(
        rs.iter().all(|r| r.kind != ResourceKind::Schedule),
        "{rs:?}"
    );
    let rep = aws::teardown(&c, &ledger, &rs, Some(&p.network.vpc_id), &fast()).await;
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
}

/// With `dead_mans_switch_role_arn` the schedule acts as the user's role: the run creates no role
/// (and so needs no iam:PutRolePolicy), and its teardown deletes the schedule but not that role.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_brought_by_the_user_is_used_and_kept() {
    let moto = Moto::start(true);
    let c = moto.clients().await;
    let mine = c
        .iam
        .create_role()
        .role_name("my-expiry-role")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"scheduler.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let arn = mine.role().unwrap().arn().to_string();
    let p = plan_for(
        &c,
        "ecp-dms-byo",
        &[
            "--transit-encryption",
            "false",
            "--dead-mans-switch-role-arn",
            &arn,
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Mutex::new(Ledger::open(dir.path(), &p.run_id, "us-east-1").unwrap());
    aws::provision(&c, &p, &ledger, None, &fast())
        .await
        .unwrap();
    let n = &p.names;
    let s = c
        .scheduler
        .get_schedule()
        .name(&n.expiry_schedule)
        .group_name("default")
        .send()
        .await
        .unwrap();
    assert_eq!(s.target().unwrap().role_arn(), arn);
    assert!(!aws::iam::role_exists(&c.iam, &n.expiry_role).await.unwrap());
    let rs = resources(dir.path());
    assert!(rs
        .iter()
        .all(|r| r.kind != ResourceKind::IamRole || r.name != n.expiry_role));
    let rep = aws::teardown(&c, &ledger, &rs, Some(&p.network.vpc_id), &fast()).await;
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    assert!(!schedule_exists(&c, &n.expiry_schedule).await);
    assert!(aws::iam::role_exists(&c.iam, "my-expiry-role")
        .await
        .unwrap());
}
