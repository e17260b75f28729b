//! CloudWatch Logs for the AWS target: the run's log group (tagged, with a retention) that the
//! tasks' awslogs driver writes to, and its deletion.

use std::collections::{BTreeMap, HashMap};

use super::error::{Error, Result};

/// Create the log group with tags and a retention.
pub async fn create_log_group(
    logs: &aws_sdk_cloudwatchlogs::Client,
    name: &str,
    tags: &BTreeMap<String, String>,
    retention_days: i32,
) -> Result<()> {
    let t: HashMap<String, String> = tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    logs.create_log_group()
        .log_group_name(name)
        .set_tags(Some(t))
        .send()
        .await
        .map_err(|e| Error::from_sdk("CreateLogGroup", format!("log group '{name}'"), e))?;
    logs.put_retention_policy()
        .log_group_name(name)
        .retention_in_days(retention_days)
        .send()
        .await
        .map_err(|e| Error::from_sdk("PutRetentionPolicy", format!("log group '{name}'"), e))?;
    Ok(())
}

/// Delete a log group.
pub async fn delete_log_group(logs: &aws_sdk_cloudwatchlogs::Client, name: &str) -> Result<()> {
    logs.delete_log_group()
        .log_group_name(name)
        .send()
        .await
        .map_err(|e| Error::from_sdk("DeleteLogGroup", format!("log group '{name}'"), e))?;
    Ok(())
}

/// Whether a log group of exactly this name exists.
pub async fn log_group_exists(logs: &aws_sdk_cloudwatchlogs::Client, name: &str) -> Result<bool> {
    let out = logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|e| Error::from_sdk("DescribeLogGroups", format!("log group '{name}'"), e))?;
    Ok(out
        .log_groups()
        .iter()
        .any(|g| g.log_group_name() == Some(name)))
}

/// Extra rounds of attempts for a page of a task's log stream once the SDK's retries are spent.
const READ_RETRIES: u32 = 3;

/// Every message of one log stream, oldest first (GetLogEvents paging forward until the token
/// stops changing, which is how the API says "no more").
pub async fn read_stream(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let mut retries = 0;
    loop {
        let page = match logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(true)
            .set_next_token(token.clone())
            .send()
            .await
        {
            Ok(p) => p,
            Err(e) => {
                let e =
                    Error::from_sdk("GetLogEvents", format!("log stream '{group}/{stream}'"), e);
                // These lines are a task's only copy of its results: worth a few more tries after
                // the SDK's own (GetLogEvents allows 10 calls/s per account and region).
                if e.is_transient() && retries < READ_RETRIES {
                    retries += 1;
                    tracing::warn!("{e}; trying again ({retries}/{READ_RETRIES})");
                    tokio::time::sleep(std::time::Duration::from_secs(2 << retries)).await;
                    continue;
                }
                return Err(e);
            }
        };
        out.extend(
            page.events()
                .iter()
                .filter_map(|e| e.message().map(str::to_string)),
        );
        let next = page.next_forward_token().map(str::to_string);
        if next.is_none() || next == token {
            return Ok(out);
        }
        token = next;
    }
}
