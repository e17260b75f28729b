//! The run history in the export bucket: a [`HistoryStore`] over S3 (`ListObjectsV2`,
//! `GetObject`, `PutObject`), one object per run. `AWS_ENDPOINT_URL` redirects it (moto in tests),
//! and path-style addressing is then used, which a `http://localhost:…` endpoint needs.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;

use crate::history::{Buckets, HistoryStore, NotFound};

/// The region when nothing configures one (S3 needs some region to sign requests).
const FALLBACK_REGION: &str = "us-east-1";

/// An S3 failure of the history store (a missing object is the history's [`NotFound`]).
#[derive(Debug, thiserror::Error)]
pub enum S3HistoryError {
    /// Any other failure, with the SDK's full message.
    #[error("{operation} s3://{bucket}/{key} failed: {message}")]
    Sdk {
        /// `ListObjectsV2`, `GetObject` or `PutObject`.
        operation: &'static str,
        /// Bucket.
        bucket: String,
        /// Key or prefix.
        key: String,
        /// The SDK error with its causes.
        message: String,
    },
}

/// A history in one bucket.
#[derive(Clone, Debug)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Store {
    /// A store for `bucket` with credentials, region and endpoint from the default chain.
    pub async fn from_env(bucket: &str) -> Self {
        // The default region chain runs inside `load()`, with the tool's HTTP client; a chain
        // built outside it (`RegionProviderChain::default_provider()`) would build an IMDS client
        // without one and panic.
        let conf = super::clients::configure(aws_config::defaults(BehaviorVersion::latest()))
            .load()
            .await;
        let region = conf
            .region()
            .cloned()
            .unwrap_or_else(|| Region::new(FALLBACK_REGION));
        let s3 = aws_sdk_s3::config::Builder::from(&conf)
            .region(region)
            .force_path_style(super::clients::endpoint_override(&conf))
            .build();
        let client = aws_sdk_s3::Client::from_conf(s3);
        // The bucket may be in another region than the environment's.
        let client = match super::s3::client_for_bucket(&client, bucket).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("{e}; reading the history through the default region");
                client
            }
        };
        Self::new(client, bucket)
    }

    /// A store over an existing client.
    pub fn new(client: aws_sdk_s3::Client, bucket: &str) -> Self {
        Self {
            client,
            bucket: bucket.to_string(),
        }
    }

    fn sdk_error(
        &self,
        operation: &'static str,
        key: &str,
        e: &impl std::error::Error,
    ) -> S3HistoryError {
        S3HistoryError::Sdk {
            operation,
            bucket: self.bucket.clone(),
            key: key.to_string(),
            message: DisplayErrorContext(e).to_string(),
        }
    }
}

/// The history's bucket backend: each bucket opened with credentials, region and endpoint from
/// the default chain ([`S3Store::from_env`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct S3Buckets;

impl Buckets for S3Buckets {
    type Store = S3Store;

    async fn open(&self, bucket: &str) -> S3Store {
        S3Store::from_env(bucket).await
    }
}

impl HistoryStore for S3Store {
    fn describe(&self) -> String {
        format!("s3://{}", self.bucket)
    }

    async fn list(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .delimiter("/")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.sdk_error("ListObjectsV2", prefix, &e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
        }
        Ok(keys)
    }

    async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                return Err(NotFound {
                    uri: format!("s3://{}/{key}", self.bucket),
                }
                .into())
            }
            Err(e) => return Err(self.sdk_error("GetObject", key, &e).into()),
        };
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| self.sdk_error("GetObject", key, &e))?;
        Ok(body.into_bytes().to_vec())
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> anyhow::Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| self.sdk_error("PutObject", key, &e))?;
        Ok(())
    }
}
