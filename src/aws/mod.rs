//! The AWS target — the only module that uses the AWS SDK. One file per service (`network` = EC2,
//! `elasticache`, `ecs`, `tasks`, `iam`, `logs`, `s3`, `scheduler`), the shared [`Clients`], the
//! typed [`Error`], and the run's lifecycle: [`provision::preflight`], [`provision::provision`],
//! [`teardown::teardown`] and [`leaks::leak_scan`].

pub mod abort;
pub mod arn;
pub mod cleanup;
pub mod clients;
pub mod collect;
pub mod discover;
pub mod ecs;
pub mod elasticache;
pub mod error;
pub mod existing;
pub mod export;
pub mod iam;
pub mod leaks;
pub mod ledger;
pub mod live;
pub mod load;
pub mod logs;
pub mod metrics;
pub mod network;
pub mod outcome;
pub mod parameters;
pub mod progress;
pub mod provision;
pub mod run;
pub mod s3;
pub mod s3_history;
pub mod scheduler;
pub mod tasks;
pub mod teardown;
pub mod timeouts;
pub mod token;
pub mod wait;

pub use clients::Clients;
pub use error::{Error, Result};
pub use ledger::SharedLedger;
pub use provision::{preflight, provision, Provisioned, Timeouts};
pub use teardown::{teardown, TeardownReport};
