//! The dead-man's switch on AWS: its role (trusted only by this account's EventBridge Scheduler,
//! allowed only to delete the run's replication group) and its one-time schedule at the expiry
//! time, created while the rest is provisioned and recorded in the ledger before each create call;
//! the schedule's idempotent deletion and existence check for teardown and the leak scan.

use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, ScheduleState,
    Target,
};

use super::error::{Error, Result};
use super::iam::{self, RoleRequest};
use super::ledger::{record, Event, ResourceKind, SharedLedger};
use super::timeouts::Timeouts;
use super::Clients;
use crate::plan::names::ROLE_PATH;
use crate::plan::switch::{self, SwitchSpec, RETRY_ATTEMPTS, RETRY_MAX_AGE_SECS};
use crate::plan::RunPlan;
use crate::retry::{retry, Policy};

/// Name of the switch role's inline policy.
pub const ROLE_POLICY_NAME: &str = "delete-replication-group";
/// The account id of the credentials (GetCallerIdentity needs no permission).
pub async fn account_id(sts: &aws_sdk_sts::Client) -> Result<String> {
    let out = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| Error::from_sdk("GetCallerIdentity", "the caller", e))?;
    out.account()
        .map(str::to_string)
        .ok_or_else(|| Error::Failed {
            action: "GetCallerIdentity",
            resource: "the caller".into(),
            detail: "the response has no account".into(),
        })
}

fn failed(spec: &SwitchSpec, detail: String) -> Error {
    Error::Failed {
        action: "CreateSchedule",
        resource: format!("schedule '{}'", spec.schedule),
        detail,
    }
}

/// Create the one-time schedule once; returns its ARN.
async fn create_once(
    scheduler: &aws_sdk_scheduler::Client,
    spec: &SwitchSpec,
    role_arn: &str,
) -> Result<String> {
    let target = Target::builder()
        .arn(&spec.target_arn)
        .role_arn(role_arn)
        .input(&spec.input)
        .retry_policy(
            RetryPolicy::builder()
                .maximum_retry_attempts(RETRY_ATTEMPTS)
                .maximum_event_age_in_seconds(RETRY_MAX_AGE_SECS)
                .build(),
        )
        .build()
        .map_err(|e| failed(spec, e.to_string()))?;
    let window = FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .map_err(|e| failed(spec, e.to_string()))?;
    let out = scheduler
        .create_schedule()
        .name(&spec.schedule)
        .group_name(&spec.group)
        .schedule_expression(&spec.expression)
        .schedule_expression_timezone(&spec.timezone)
        .flexible_time_window(window)
        .target(target)
        .action_after_completion(ActionAfterCompletion::Delete)
        .state(ScheduleState::Enabled)
        .description(&spec.description)
        // Idempotent: a call the SDK retries after a lost answer creates nothing twice.
        .client_token(&spec.schedule)
        .send()
        .await
        .map_err(|e| {
            Error::from_sdk("CreateSchedule", format!("schedule '{}'", spec.schedule), e)
        })?;
    Ok(out.schedule_arn().to_string())
}

/// Create the schedule, retrying as `policy` says while IAM propagates the new role.
pub async fn create_schedule(
    scheduler: &aws_sdk_scheduler::Client,
    spec: &SwitchSpec,
    role_arn: &str,
    policy: &Policy,
) -> Result<String> {
    retry(
        &format!("creating schedule '{}'", spec.schedule),
        policy,
        Error::is_iam_propagation,
        || create_once(scheduler, spec, role_arn),
    )
    .await
}

/// Delete a schedule (not-found is the caller's to treat as success).
pub async fn delete_schedule(scheduler: &aws_sdk_scheduler::Client, name: &str) -> Result<()> {
    scheduler
        .delete_schedule()
        .name(name)
        .group_name(switch::SCHEDULE_GROUP)
        .send()
        .await
        .map_err(|e| Error::from_sdk("DeleteSchedule", format!("schedule '{name}'"), e))?;
    Ok(())
}

/// Whether a schedule exists (schedules are not in the tagging API).
pub async fn schedule_exists(scheduler: &aws_sdk_scheduler::Client, name: &str) -> Result<bool> {
    Ok(schedule_arn(scheduler, name).await?.is_some())
}

/// The schedule's ARN, or `None` when there is no such schedule.
pub async fn schedule_arn(
    scheduler: &aws_sdk_scheduler::Client,
    name: &str,
) -> Result<Option<String>> {
    match scheduler
        .get_schedule()
        .name(name)
        .group_name(switch::SCHEDULE_GROUP)
        .send()
        .await
    {
        Ok(s) => Ok(Some(s.arn().unwrap_or(name).to_string())),
        Err(e) => {
            let e = Error::from_sdk("GetSchedule", format!("schedule '{name}'"), e);
            if e.is_not_found() {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// Arm the run's dead-man's switch (nothing when the plan has none): its role with the inline
/// policy, then the schedule, each in the ledger before its create call.
pub async fn arm(
    c: &Clients,
    p: &RunPlan,
    ledger: &SharedLedger,
    t: &Timeouts,
) -> anyhow::Result<()> {
    let Some(spec) = &p.dead_mans_switch else {
        return Ok(());
    };
    if let Some(role_arn) = &spec.role_arn {
        return schedule(c, p, spec, ledger, role_arn, t).await;
    }
    let account = account_id(&c.sts).await?;
    let trust = switch::trust_policy(&account);
    record(
        ledger,
        ResourceKind::IamRole,
        &spec.role,
        None,
        Event::Creating,
    )?;
    let role_arn = iam::create_role(
        &c.iam,
        &RoleRequest {
            name: &spec.role,
            path: ROLE_PATH,
            trust_policy: &trust,
            description: "elasticache-perf: the dead-man's switch of one benchmark run (deletes its replication group at the expiry)",
            tags: &p.tags,
        },
    )
    .await?;
    record(
        ledger,
        ResourceKind::IamRole,
        &spec.role,
        Some(&role_arn),
        Event::Created,
    )?;
    let policy = switch::role_policy(&p.region, &account, &p.names.replication_group);
    iam::put_role_policy(&c.iam, &spec.role, ROLE_POLICY_NAME, &policy).await?;
    schedule(c, p, spec, ledger, &role_arn, t).await
}

/// Create the switch's schedule, acting as `role_arn`, recorded in the ledger before the call.
async fn schedule(
    c: &Clients,
    p: &RunPlan,
    spec: &switch::SwitchSpec,
    ledger: &SharedLedger,
    role_arn: &str,
    t: &Timeouts,
) -> anyhow::Result<()> {
    record(
        ledger,
        ResourceKind::Schedule,
        &spec.schedule,
        None,
        Event::Creating,
    )?;
    let arn = create_schedule(&c.scheduler, spec, role_arn, &t.retry.iam_propagation).await?;
    record(
        ledger,
        ResourceKind::Schedule,
        &spec.schedule,
        Some(&arn),
        Event::Created,
    )?;
    tracing::info!(
        "dead-man's switch armed: schedule '{}' deletes replication group '{}' at {}",
        spec.schedule,
        p.names.replication_group,
        p.expires_at
    );
    Ok(())
}
