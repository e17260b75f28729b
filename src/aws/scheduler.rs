//! The dead-man's switch on AWS: its role (trusted only by this account's EventBridge Scheduler,
//! allowed only to delete the run's replication group) and its one-time schedule at the expiry
//! time, created while the rest is provisioned and recorded in the ledger before each create call;
//! the schedule's idempotent deletion and existence check for teardown and the leak scan.

use std::time::{Duration, Instant};

use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, ScheduleState,
    Target,
};

use super::error::{Error, Result};
use super::iam::{self, RoleRequest};
use super::provision::{record, SharedLedger};
use super::Clients;
use crate::plan::names::ROLE_PATH;
use crate::plan::switch::{self, SwitchSpec, RETRY_ATTEMPTS, RETRY_MAX_AGE_SECS};
use crate::plan::RunPlan;
use crate::run::ledger::{Event, ResourceKind};

/// Name of the switch role's inline policy.
pub const ROLE_POLICY_NAME: &str = "delete-replication-group";
/// How long CreateSchedule is retried while IAM has not yet propagated the new role (AWS
/// documents IAM as eventually consistent; a fresh role is refused for ~10-20 s).
pub const ROLE_PROPAGATION: Duration = Duration::from_secs(60);
/// Pause between two CreateSchedule attempts while the role propagates.
const ROLE_RETRY_EVERY: Duration = Duration::from_secs(3);

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

/// Whether CreateSchedule failed because IAM has not propagated the role yet (a
/// `ValidationException` about the execution role), which goes away by itself.
pub fn is_role_not_ready(e: &Error) -> bool {
    match e {
        Error::Api { code, message, .. } => {
            code == "ValidationException" && message.to_ascii_lowercase().contains("role")
        }
        _ => false,
    }
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

/// Create the schedule, retrying for up to `propagation` while IAM propagates the new role.
pub async fn create_schedule(
    scheduler: &aws_sdk_scheduler::Client,
    spec: &SwitchSpec,
    role_arn: &str,
    propagation: Duration,
) -> Result<String> {
    let start = Instant::now();
    let mut attempt = 1u32;
    loop {
        match create_once(scheduler, spec, role_arn).await {
            Err(e) if is_role_not_ready(&e) && start.elapsed() < propagation => {
                tracing::debug!("attempt {attempt}: {e}; the new role is not usable yet");
                attempt += 1;
                tokio::time::sleep(ROLE_RETRY_EVERY).await;
            }
            other => return other,
        }
    }
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
pub async fn arm(c: &Clients, p: &RunPlan, ledger: &SharedLedger) -> anyhow::Result<()> {
    let Some(spec) = &p.dead_mans_switch else {
        return Ok(());
    };
    if let Some(role_arn) = &spec.role_arn {
        return schedule(c, p, spec, ledger, role_arn).await;
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
    schedule(c, p, spec, ledger, &role_arn).await
}

/// Create the switch's schedule, acting as `role_arn`, recorded in the ledger before the call.
async fn schedule(
    c: &Clients,
    p: &RunPlan,
    spec: &switch::SwitchSpec,
    ledger: &SharedLedger,
    role_arn: &str,
) -> anyhow::Result<()> {
    record(
        ledger,
        ResourceKind::Schedule,
        &spec.schedule,
        None,
        Event::Creating,
    )?;
    let arn = create_schedule(&c.scheduler, spec, role_arn, ROLE_PROPAGATION).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_validation_error_about_the_role_is_waited_out() {
        let api = |code: &str, message: &str| Error::Api {
            action: "CreateSchedule",
            resource: "schedule 'ecp-x-expiry'".into(),
            code: code.into(),
            message: message.into(),
            transient: false,
        };
        assert!(is_role_not_ready(&api(
            "ValidationException",
            "The execution role you provide must allow AWS EventBridge Scheduler to assume the role."
        )));
        assert!(!is_role_not_ready(&api(
            "ValidationException",
            "Invalid Schedule Expression at(2026)."
        )));
        assert!(!is_role_not_ready(&api("AccessDeniedException", "role")));
        assert!(!is_role_not_ready(&Error::NotFound {
            action: "CreateSchedule",
            resource: "x".into(),
            code: "ResourceNotFoundException".into(),
        }));
    }
}
