//! One set of SDK clients for a run, from the default credential chain, sharing one HTTPS client
//! (rustls on *ring*) and one retry policy. `AWS_ENDPOINT_URL` (and the per-service
//! `AWS_ENDPOINT_URL_<SERVICE>` variables) redirect every client — the SDK reads them itself — and
//! S3 then uses path-style addressing, which an endpoint such as `http://localhost:5000` needs.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

/// Attempts per call for throttling and 5xx (RunTask allows 20 calls/s and FilterLogEvents 5/s;
/// parallel runs in one account share those limits).
pub const MAX_ATTEMPTS: u32 = 8;
/// Longest backoff between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// The clients of one run.
#[derive(Clone, Debug)]
pub struct Clients {
    /// Region.
    pub region: String,
    /// EC2 (security groups, subnets).
    pub ec2: aws_sdk_ec2::Client,
    /// ECS (cluster, task definition, tasks).
    pub ecs: aws_sdk_ecs::Client,
    /// ElastiCache (subnet group, replication group).
    pub elasticache: aws_sdk_elasticache::Client,
    /// IAM (the execution role).
    pub iam: aws_sdk_iam::Client,
    /// CloudWatch Logs (the run's log group).
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// CloudWatch (metrics).
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// S3 (exports).
    pub s3: aws_sdk_s3::Client,
    /// Resource Groups Tagging (the leak scan).
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    /// EventBridge Scheduler (the dead-man's switch).
    pub scheduler: aws_sdk_scheduler::Client,
    /// STS (the account id, for the switch role's trust condition).
    pub sts: aws_sdk_sts::Client,
    /// The shared configuration (HTTP client, credentials, retries), for building other clients.
    pub sdk_config: SdkConfig,
}

/// Whether the environment redirects S3 (then path-style addressing is used).
pub fn endpoint_override(conf: &SdkConfig) -> bool {
    conf.endpoint_url().is_some()
        || ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
            .iter()
            .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()))
}

/// The tool's HTTP client (rustls on *ring*), retry policy and timeouts on `loader`.
pub fn configure(loader: aws_config::ConfigLoader) -> aws_config::ConfigLoader {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    loader
        .http_client(http)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_max_backoff(MAX_BACKOFF),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        )
}

impl Clients {
    /// Build the clients for `region` from the default chain (environment, profile, SSO, web
    /// identity, container and instance credentials).
    pub async fn from_env(region: &str) -> Self {
        Self::load(region, aws_config::defaults(BehaviorVersion::latest())).await
    }

    /// Clients for an AWS-compatible endpoint such as moto or LocalStack (`http://127.0.0.1:5000`),
    /// with fixed dummy credentials.
    pub async fn for_endpoint(region: &str, endpoint_url: &str) -> Self {
        let creds =
            aws_sdk_ecs::config::Credentials::new("testing", "testing", None, None, "static");
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint_url)
            .credentials_provider(creds);
        Self::load(region, loader).await
    }

    async fn load(region: &str, loader: aws_config::ConfigLoader) -> Self {
        let conf = configure(loader.region(Region::new(region.to_string())))
            .load()
            .await;
        let s3_conf = aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(endpoint_override(&conf))
            .build();
        Self {
            region: region.to_string(),
            ec2: aws_sdk_ec2::Client::new(&conf),
            ecs: aws_sdk_ecs::Client::new(&conf),
            elasticache: aws_sdk_elasticache::Client::new(&conf),
            iam: aws_sdk_iam::Client::new(&conf),
            logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&conf),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            tagging: aws_sdk_resourcegroupstagging::Client::new(&conf),
            scheduler: aws_sdk_scheduler::Client::new(&conf),
            sts: aws_sdk_sts::Client::new(&conf),
            sdk_config: conf,
        }
    }
}
