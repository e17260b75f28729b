//! S3 for the AWS target: where the export bucket is (HeadBucket names its region, also when it
//! answers a client of another region with a redirect), a client for that region, and object
//! uploads.

use aws_config::Region;
use aws_sdk_s3::primitives::ByteStream;

use super::error::{Error, Result};

/// What HeadBucket said about a bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BucketLookup {
    /// The bucket exists; its region when S3 named it (`x-amz-bucket-region`).
    Found(Option<String>),
    /// No such bucket.
    Missing,
    /// It exists, but these credentials may not use it (403).
    Denied,
}

/// Look the bucket up. A bucket in another region than the client's answers `301` with its region
/// in `x-amz-bucket-region` (the SDK for Rust does not follow it): that is "found, over there".
pub async fn lookup_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<BucketLookup> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => Ok(BucketLookup::Found(out.bucket_region().map(str::to_string))),
        Err(e) => {
            let raw = e.raw_response();
            let status = raw.map(|r| r.status().as_u16());
            let region = raw
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(str::to_string);
            match (status, region) {
                (Some(301 | 307 | 400), Some(r)) => return Ok(BucketLookup::Found(Some(r))),
                (Some(403), _) => return Ok(BucketLookup::Denied),
                _ => {}
            }
            let e = Error::from_sdk("HeadBucket", format!("S3 bucket '{bucket}'"), e);
            if e.is_not_found() {
                Ok(BucketLookup::Missing)
            } else {
                Err(e)
            }
        }
    }
}

/// A copy of `s3` that talks to `region` (same credentials, HTTP client and addressing).
pub fn client_in(s3: &aws_sdk_s3::Client, region: &str) -> aws_sdk_s3::Client {
    let conf = s3
        .config()
        .to_builder()
        .region(Region::new(region.to_string()))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// A client for the bucket's own region: `s3` itself when the bucket is in its region (or S3 did
/// not say), else a copy for the bucket's region.
pub async fn client_for_bucket(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<aws_sdk_s3::Client> {
    let here = s3.config().region().map(ToString::to_string);
    match lookup_bucket(s3, bucket).await? {
        BucketLookup::Found(Some(r)) if here.as_deref() != Some(r.as_str()) => {
            tracing::info!(
                "S3 bucket '{bucket}' is in {r}, not in {}: using a client for {r}",
                here.as_deref().unwrap_or("the default region")
            );
            Ok(client_in(s3, &r))
        }
        _ => Ok(s3.clone()),
    }
}

/// Upload one object.
pub async fn put_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    content_type: &str,
) -> Result<()> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| Error::from_sdk("PutObject", format!("s3://{bucket}/{key}"), e))?;
    Ok(())
}
