//! CloudWatch Logs for the AWS target: the run's log group (tagged, with a retention) that the
//! tasks' awslogs driver writes to, and its deletion.

use std::collections::{BTreeMap, HashMap};

use super::error::{Error, Result};
use crate::retry::{retry, Policy};

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

/// Every message of one log stream after `cursor` (from the head when it is `None`), oldest
/// first, moving the cursor past them: GetLogEvents pages forward until the token stops changing,
/// which is how the API says "no more for now". Reading again from the same cursor later returns
/// what arrived since (CloudWatch Logs is eventually visible: a stream's tail can arrive late).
/// A page that fails with a transient error is tried again as `policy` says, on top of the
/// SDK's own retries: these lines are a task's only copy of its results.
pub async fn read_more(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
    cursor: &mut Option<String>,
    policy: &Policy,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    loop {
        let token = cursor.clone();
        let page = retry(
            &format!("reading log stream '{group}/{stream}'"),
            policy,
            Error::is_transient,
            || async {
                logs.get_log_events()
                    .log_group_name(group)
                    .log_stream_name(stream)
                    .start_from_head(true)
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| {
                        Error::from_sdk("GetLogEvents", format!("log stream '{group}/{stream}'"), e)
                    })
            },
        )
        .await?;
        out.extend(
            page.events()
                .iter()
                .filter_map(|e| e.message().map(str::to_string)),
        );
        let next = page.next_forward_token().map(str::to_string);
        if next.is_none() || next == token {
            return Ok(out);
        }
        *cursor = next;
    }
}
