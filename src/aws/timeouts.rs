//! The AWS target's deadlines and named retry policies, side by side: how long a state may take to
//! arrive (the cache created or deleted, a group still in use) and how each behaviour AWS documents
//! as passing by itself is waited out (EC2 and IAM eventual consistency, Fargate capacity, late log
//! events, failed uploads and reads). One [`crate::retry`] mechanism runs them all.

use std::time::Duration;

use crate::retry::Policy;

/// How often a replication group's state is read while waiting. (Not the SDK waiter: it treats
/// `create-failed` as "keep waiting" and would spin until its deadline, shared docs/aws-notes.md §1.2.)
pub const POLL_EVERY: Duration = Duration::from_secs(15);

/// How often a running load prints a line of progress.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(30);

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The named retry policies of the AWS target (docs/aws.md, "AWS behaviours and how the tool
/// handles them", says which call each one covers and why).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policies {
    /// EC2 is eventually consistent: a security group just created can be "not found" by the next
    /// call for a few seconds (EC2 API reference, "Eventual consistency").
    pub ec2_consistency: Policy,
    /// IAM is eventually consistent: a role just created is refused by ECS ("Role is not valid")
    /// and EventBridge Scheduler for several seconds.
    pub iam_propagation: Policy,
    /// Fargate capacity: RunTask's `failures` say "Capacity is unavailable at this time"; AWS asks
    /// callers to try again later or in another Availability Zone.
    pub capacity: Policy,
    /// CloudWatch Logs is eventually visible: the tail of a stopped task's stream may arrive late.
    pub log_tail: Policy,
    /// A page of a task's log stream that failed to read (transient errors after the SDK's retries).
    pub log_read: Policy,
    /// An export object that failed to upload (transient errors after the SDK's retries).
    pub upload: Policy,
}

impl Policies {
    /// The policies for real AWS.
    pub const AWS: Self = Self {
        ec2_consistency: Policy::new("EC2 eventual consistency", secs(1), secs(8), secs(90)),
        iam_propagation: Policy::new("IAM propagation", secs(2), secs(10), secs(120)),
        capacity: Policy::new("Fargate capacity", secs(10), secs(60), secs(10 * 60)),
        log_tail: Policy::new("late log events", secs(2), secs(8), secs(75)),
        log_read: Policy::new("log read", secs(2), secs(16), secs(90)),
        upload: Policy::new("upload", secs(1), secs(8), secs(60)),
    };

    /// One attempt each (the signal path: no time to wait).
    pub const ONE_TRY: Self = Self {
        ec2_consistency: Policy::new("EC2 eventual consistency", secs(0), secs(0), secs(0)),
        iam_propagation: Policy::new("IAM propagation", secs(0), secs(0), secs(0)),
        capacity: Policy::new("Fargate capacity", secs(0), secs(0), secs(0)),
        log_tail: Policy::new("late log events", secs(0), secs(0), secs(0)),
        log_read: Policy::new("log read", secs(0), secs(0), secs(0)),
        upload: Policy::new("upload", secs(0), secs(0), secs(0)),
    };

    /// Every policy with its pauses scaled by `factor` (≤ 1) and its budget kept.
    pub fn scaled(self, factor: f64) -> Self {
        Self {
            ec2_consistency: self.ec2_consistency.scaled(factor),
            iam_propagation: self.iam_propagation.scaled(factor),
            capacity: self.capacity.scaled(factor),
            log_tail: self.log_tail.scaled(factor),
            log_read: self.log_read.scaled(factor),
            upload: self.upload.scaled(factor),
        }
    }
}

/// Deadlines, poll interval and retry policies of the AWS target.
#[derive(Clone, Debug)]
pub struct Timeouts {
    /// Longest wait for the replication group to become available.
    pub create: Duration,
    /// Longest wait for the replication group to be deleted.
    pub delete: Duration,
    /// Longest retrying of a security group or subnet group that is still in use.
    pub in_use: Duration,
    /// Pause between two reads of a state.
    pub poll: Duration,
    /// How long tasks the tool stopped may take to reach STOPPED before they are judged without
    /// waiting further (Fargate detaches a task's network interface as it stops, which can be slow).
    pub stop_grace: Duration,
    /// How often a line of progress is printed while tasks run (also at each task state change).
    pub progress_every: Duration,
    /// How long running tasks may all go without progress before the load is cut short.
    pub stall_limit: Duration,
    /// How each eventually-consistent behaviour is waited out.
    pub retry: Policies,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            create: secs(crate::config::aws::CACHE_CREATE_TIMEOUT_MINUTES * 60),
            delete: secs(40 * 60),
            in_use: secs(15 * 60),
            poll: POLL_EVERY,
            stop_grace: secs(crate::plan::STOP_GRACE_SECS),
            progress_every: PROGRESS_EVERY,
            stall_limit: super::progress::STALL_LIMIT,
            retry: Policies::AWS,
        }
    }
}

impl Timeouts {
    /// The defaults with another poll interval; a shorter one (the tests' hidden
    /// `aws_poll_seconds`) shortens every retry pause and the progress interval in proportion, and
    /// keeps every budget and the stall limit.
    pub fn with_poll(poll: Duration) -> Self {
        let factor = poll.as_secs_f64() / POLL_EVERY.as_secs_f64();
        Self {
            poll,
            progress_every: PROGRESS_EVERY.mul_f64(factor),
            retry: Policies::AWS.scaled(factor),
            ..Self::default()
        }
    }

    /// The policy that waits out a resource still in use (a security group whose network
    /// interfaces are going, a cluster whose tasks are stopping): a read every `poll`, for `in_use`.
    pub fn in_use_policy(&self) -> Policy {
        Policy::new("resource still in use", self.poll, self.poll, self.in_use)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_poll_shortens_the_pauses_not_the_budgets() {
        let t = Timeouts::with_poll(Duration::from_millis(150));
        assert_eq!(t.retry.iam_propagation.budget, secs(120));
        assert_eq!(t.retry.iam_propagation.first, Duration::from_millis(20));
        assert_eq!(Timeouts::with_poll(POLL_EVERY).retry, Policies::AWS);
    }
}
