//! A plan for the AWS tests, from CLI-style flags against moto's default VPC with a fresh export
//! bucket, and short deadlines for the waits.

use std::time::Duration;

use clap::Parser;
use elasticache_perf::aws::{Clients, Timeouts};
use elasticache_perf::config::{Config, RunInputs};
use elasticache_perf::plan::{self, PlanContext, RunPlan};

use super::{bucket, default_vpc};

#[derive(Parser)]
struct Wrap {
    #[command(flatten)]
    inputs: RunInputs,
}

/// Deadlines for tests: seconds, not the minutes AWS needs.
pub fn fast() -> Timeouts {
    Timeouts {
        create: Duration::from_secs(30),
        delete: Duration::from_secs(30),
        in_use: Duration::from_secs(5),
        ..Timeouts::with_poll(Duration::from_millis(100))
    }
}

/// The plan of a 5-second AWS run `run_id` in moto's default VPC, with `extra` flags; the export
/// bucket `{run_id}-exports` is created. Planned at a fixed time (2026-11-27T12:00:00Z) for the
/// repository `octo/bench`.
pub async fn plan_for(c: &Clients, run_id: &str, extra: &[&str]) -> RunPlan {
    let (vpc, subnets) = default_vpc(c).await;
    let bucket_name = format!("{run_id}-exports");
    bucket(c, &bucket_name).await;
    let subnets = subnets.join(",");
    let mut args = vec![
        "x",
        "--target",
        "aws",
        "--aws-region",
        "us-east-1",
        "--vpc-id",
        &vpc,
        "--subnet-ids",
        &subnets,
        "--metrics-export-s3-bucket",
        &bucket_name,
        "--test-duration-seconds",
        "5",
    ];
    args.extend_from_slice(extra);
    let cfg = Config::from_inputs(&Wrap::parse_from(args).inputs).unwrap();
    plan::plan(
        &cfg,
        &PlanContext {
            run_id,
            now_unix_ms: 1_795_723_200_000,
            repository: Some("octo/bench"),
            existing: None,
        },
    )
    .unwrap()
}
