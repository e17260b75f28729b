//! The dead-man's switch of a run, planned: an EventBridge Scheduler one-time schedule at the
//! expiry time whose universal target deletes the replication group, and the IAM documents of the
//! role it acts with (trusted only by the scheduler of this account, allowed only to delete this
//! group). Pure: the account id comes in as an argument.

use serde::Serialize;

use super::names::ResourceNames;

/// Schedules go into the account's `default` group (a group per run would be one more resource to
/// create, tag and delete; schedules themselves take no tags, so the run id is in the name).
pub const SCHEDULE_GROUP: &str = "default";
/// The schedule's time zone: the expiry tag is UTC.
pub const SCHEDULE_TIMEZONE: &str = "UTC";
/// The service that assumes the switch's role.
pub const SCHEDULER_SERVICE: &str = "scheduler.amazonaws.com";
/// Delivery attempts of the target (the service's maximum; a 4xx such as a group still `modifying`
/// is not documented to be retried, see docs/aws.md).
pub const RETRY_ATTEMPTS: i32 = 185;
/// How long the scheduler keeps trying to deliver, seconds (the service's maximum, 24 h).
pub const RETRY_MAX_AGE_SECS: i32 = 86_400;

/// The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The schedule the run creates when `dead_mans_switch` is on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SwitchSpec {
    /// Schedule name (in [`SCHEDULE_GROUP`]).
    pub schedule: String,
    /// Schedule group.
    pub group: String,
    /// One-time expression `at(YYYY-MM-DDThh:mm:ss)`, the expiry tag's time.
    pub expression: String,
    /// Time zone of the expression.
    pub timezone: String,
    /// Universal target: ElastiCache `DeleteReplicationGroup`.
    pub target_arn: String,
    /// The target's request, JSON.
    pub input: String,
    /// Name of the role the schedule acts with (under the tool's role path) when the run creates it.
    pub role: String,
    /// The role the user brought (`dead_mans_switch_role_arn`); then the run creates none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Description of the schedule (names the run).
    pub description: String,
}

/// `2026-11-26T23:00:00Z` → `at(2026-11-26T23:00:00)` (the scheduler takes no zone suffix; the
/// zone is [`SCHEDULE_TIMEZONE`]).
pub fn at_expression(expires_at: &str) -> String {
    format!("at({})", expires_at.trim_end_matches('Z'))
}

/// The switch of a run whose resources expire at `expires_at` (RFC 3339 in whole seconds, UTC).
pub fn switch(
    names: &ResourceNames,
    run_id: &str,
    region: &str,
    expires_at: &str,
    role_arn: Option<&str>,
) -> SwitchSpec {
    let rg = &names.replication_group;
    SwitchSpec {
        schedule: names.expiry_schedule.clone(),
        group: SCHEDULE_GROUP.into(),
        expression: at_expression(expires_at),
        timezone: SCHEDULE_TIMEZONE.into(),
        target_arn: format!(
            "arn:{}:scheduler:::aws-sdk:elasticache:deleteReplicationGroup",
            partition(region)
        ),
        input: serde_json::json!({ "ReplicationGroupId": rg }).to_string(),
        role: names.expiry_role.clone(),
        role_arn: role_arn.map(str::to_string),
        description: format!(
            "elasticache-perf run {run_id}: deletes replication group {rg} at {expires_at} unless the run's teardown removed this schedule first"
        ),
    }
}

/// Trust policy of the switch's role: only EventBridge Scheduler, only on behalf of `account`
/// (the `aws:SourceAccount` condition guards against the confused deputy).
pub fn trust_policy(account: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": SCHEDULER_SERVICE },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "aws:SourceAccount": account } }
        }]
    })
    .to_string()
}

/// Inline policy of the switch's role: `elasticache:DeleteReplicationGroup` on this run's group and
/// its member clusters (`<group>-001`, `<group>-0001-001`, …), nothing else.
pub fn role_policy(region: &str, account: &str, replication_group: &str) -> String {
    let arn = |kind: &str, id: &str| {
        format!(
            "arn:{}:elasticache:{region}:{account}:{kind}:{id}",
            partition(region)
        )
    };
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DeleteOnlyThisRunsReplicationGroup",
            "Effect": "Allow",
            "Action": "elasticache:DeleteReplicationGroup",
            "Resource": [
                arn("replicationgroup", replication_group),
                arn("cluster", &format!("{replication_group}-*")),
            ]
        }]
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_deletes_this_runs_group_at_the_expiry() {
        let n = ResourceNames::for_run("ecp-abc").unwrap();
        let s = switch(&n, "ecp-abc", "us-east-1", "2026-11-26T23:00:00Z", None);
        assert_eq!(s.schedule, "ecp-abc-expiry");
        assert_eq!(s.expression, "at(2026-11-26T23:00:00)");
        assert_eq!(
            s.target_arn,
            "arn:aws:scheduler:::aws-sdk:elasticache:deleteReplicationGroup"
        );
        assert_eq!(s.input, r#"{"ReplicationGroupId":"ecp-abc"}"#);
        assert!(s.description.contains("ecp-abc") && s.description.len() <= 512);
        let cn = switch(&n, "ecp-abc", "cn-north-1", "2026-11-26T23:00:00Z", None);
        assert!(cn.target_arn.starts_with("arn:aws-cn:scheduler:::"));
    }

    #[test]
    fn the_role_is_trusted_by_this_accounts_scheduler_and_deletes_only_the_group() {
        let t: serde_json::Value = serde_json::from_str(&trust_policy("123456789012")).unwrap();
        let st = &t["Statement"][0];
        assert_eq!(st["Principal"]["Service"], "scheduler.amazonaws.com");
        assert_eq!(
            st["Condition"]["StringEquals"]["aws:SourceAccount"],
            "123456789012"
        );
        let p: serde_json::Value =
            serde_json::from_str(&role_policy("eu-west-1", "123456789012", "ecp-abc")).unwrap();
        let st = p["Statement"].as_array().unwrap();
        assert_eq!(st.len(), 1);
        assert_eq!(st[0]["Action"], "elasticache:DeleteReplicationGroup");
        assert_eq!(
            st[0]["Resource"][0],
            "arn:aws:elasticache:eu-west-1:123456789012:replicationgroup:ecp-abc"
        );
        assert_eq!(
            st[0]["Resource"][1],
            "arn:aws:elasticache:eu-west-1:123456789012:cluster:ecp-abc-*"
        );
    }
}
