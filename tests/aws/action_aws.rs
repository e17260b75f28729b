//! The action on the AWS target, as the runner runs it, against moto with Fargate emulated and a
//! fake GitHub API: the `s3_prefix` output is the prefix the run's files were exported under, the
//! PR comment links that export and its chart, and the cache's AUTH token is masked.

#![allow(clippy::unwrap_used)]

use crate::action_harness;
use crate::common_aws;
use crate::github_fake;

use action_harness::*;
use common_aws::fargate::{fargate, hold_tasks_until_stopped};
use common_aws::{bucket, default_vpc, Moto};
use github_fake::FakeGithub;
use serde_json::json;
use tokio_util::sync::CancellationToken;

const RUN_ID: &str = "ecp-act-aws-1";
const BUCKET: &str = "ecp-act-exports";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_run_sets_s3_prefix_and_the_comment_links_the_export() {
    let moto = Moto::start(true);
    hold_tasks_until_stopped(&moto.endpoint);
    let c = moto.clients().await;
    let (vpc, subnets) = default_vpc(&c).await;
    bucket(&c, BUCKET).await;
    let gh = FakeGithub::start("").await;
    let work = tempfile::tempdir().unwrap();
    let stop = CancellationToken::new();
    let emulator = tokio::spawn(fargate(
        c.clone(),
        RUN_ID.to_string(),
        work.path().join("fargate"),
        stop.clone(),
    ));

    let step = Step::new(
        "pull_request",
        &json!({"pull_request": {"number": 9, "head": {"sha": "0123abc"}}}),
    );
    let subnets = subnets.join(",");
    let mut cmd = step.main(
        &[
            ("target", "aws"),
            ("run_id", RUN_ID),
            ("vpc_id", &vpc),
            ("subnet_ids", &subnets),
            ("metrics_export_s3_bucket", BUCKET),
            ("s3_prefix", "bench"),
            ("test_duration_seconds", "8"),
            ("profile", "aws-action"),
        ],
        &gh.api_url(""),
    );
    cmd.envs(moto.env())
        .env("ELASTICACHE_PERF_AWS_POLL_SECONDS", "0.2")
        .env("ELASTICACHE_PERF_AWS_METRICS_WAIT_SECONDS", "0");
    let o = run(cmd).await;
    stop.cancel();
    let envs = emulator.await.unwrap();
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_no_token("stdout", &stdout);
    assert_no_token("stderr", &stderr);
    // The cache's AUTH token is masked before anything could print it, and appears nowhere else.
    let auth = &envs[0]["ECP_AUTH_TOKEN"];
    assert_eq!(auth.len(), 32);
    let mask = format!("::add-mask::{auth}");
    assert!(stderr.lines().any(|l| l == mask), "{stderr}");
    assert_eq!(stderr.matches(auth.as_str()).count(), 1, "{stderr}");
    assert!(!stdout.contains(auth.as_str()));

    // The output names the prefix, and the run's files are under it. The first report sets the
    // outputs before the export, the final one again: the runner keeps a name's last value.
    let outputs = step.read(&step.output);
    let prefix = outputs
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("s3_prefix="))
        .unwrap_or_else(|| panic!("no s3_prefix output:\n{outputs}"));
    let key_prefix = prefix
        .strip_prefix(&format!("s3://{BUCKET}/"))
        .unwrap_or_else(|| panic!("s3_prefix '{prefix}' is not in the bucket"));
    assert!(
        key_prefix.starts_with("bench/exports/") && key_prefix.ends_with("Z/"),
        "{prefix}"
    );
    let listed =
        c.s3.list_objects_v2()
            .bucket(BUCKET)
            .prefix(key_prefix)
            .send()
            .await
            .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    for f in ["results.json", "chart.png", "summary.md"] {
        assert!(
            keys.contains(&format!("{key_prefix}{f}").as_str()),
            "{f} not under {prefix}: {keys:?}"
        );
    }

    // The comment links the export (console page of the prefix) and the exported chart.
    let comments = gh.comments(9);
    assert_eq!(comments.len(), 1, "{comments:?}");
    let body = &comments[0].body;
    assert!(
        body.contains(&format!(
            "[`{prefix}`](https://console.aws.amazon.com/s3/buckets/{BUCKET}?region=us-east-1&prefix={key_prefix})"
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "[chart.png](https://console.aws.amazon.com/s3/object/{BUCKET}?region=us-east-1&prefix={key_prefix}chart.png)"
        )),
        "{body}"
    );
    // The job summary carries the same links.
    assert!(step.read(&step.summary).contains(prefix));
}
