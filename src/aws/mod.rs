//! Everything that talks to AWS through the SDK; the only module that may import `aws_sdk_*`.

pub mod s3_history;
