//! The AWS integration tests, one binary: every test that talks to moto (a local AWS double, one
//! server per test on a free 127.0.0.1 port) or reads the AWS side of the code. One binary links
//! the AWS SDK once instead of once per file; each former file is a module here.
//!
//! Each test starts its own moto server and child processes, so the tests in this binary run at
//! most as many at once as libtest's threads (the machine's cores unless `--test-threads` says
//! otherwise, see `scripts/test`).

#[path = "../support/action_harness.rs"]
mod action_harness;
mod common_aws;
#[path = "../support/gate_support.rs"]
mod gate_support;
#[path = "../support/github_fake.rs"]
mod github_fake;

mod action_aws;
mod aws_critical_path;
mod aws_existing;
mod aws_faults;
mod aws_iam_policy;
mod aws_load;
mod aws_matrix;
mod aws_metrics;
mod aws_provision;
mod aws_run;
mod aws_signals;
mod aws_strict;
mod aws_sweep;
mod aws_switch;
mod gate_s3;
