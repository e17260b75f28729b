//! The integration tests that need no AWS double, one binary: the CLI and the action's entry
//! points end to end, the local target against a real redis-server, the parsers, statistics,
//! reports and the gate. One binary links the crate (and through it the AWS SDK) once instead of
//! once per file; each former file is a module here.

#[path = "../support/action_harness.rs"]
mod action_harness;
mod common;
#[path = "../support/gate_support.rs"]
mod gate_support;
#[path = "../support/github_fake.rs"]
mod github_fake;
#[path = "../support/splitmix.rs"]
mod splitmix;

mod action_gate;
mod action_run;
mod action_workspace;
mod action_yml;
mod analyze_cli;
mod analyze_failures;
mod analyze_multi;
mod analyze_single;
mod doc_links;
mod examples;
mod gate_cli;
mod gate_one_run;
mod gate_power;
mod github_comment;
mod github_issue;
mod golden;
mod layers;
mod loadgen;
mod local_memtier;
mod local_run;
mod memtier_parsers;
mod memtier_variants;
mod merge_props;
mod plan_cli;
mod readme_commands;
mod report;
mod workloads;
