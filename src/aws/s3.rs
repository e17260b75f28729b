//! S3 for the AWS target: the pre-flight check that the export bucket exists and is writable, and
//! object uploads.

use aws_sdk_s3::primitives::ByteStream;

use super::error::{Error, Result};

/// Whether the bucket exists (and the caller may see it).
pub async fn bucket_exists(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<bool> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(e) => {
            let e = Error::from_sdk("HeadBucket", format!("S3 bucket '{bucket}'"), e);
            if e.is_not_found() {
                Ok(false)
            } else {
                Err(e)
            }
        }
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
