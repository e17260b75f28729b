//! What an AWS run reads from CloudWatch: the load's window (its start after a prefill, its end),
//! the wait for the load's last minute to be published, the read of every metric, and each
//! workload's share of a matrix's minutes.

use tokio_util::sync::CancellationToken;

use super::{Clients, Timeouts};
use crate::plan::RunPlan;
use crate::retry::{PollError, Probe};

/// Both sets of metrics.
pub(super) type Metrics = (
    crate::results::server::ServerMetrics,
    crate::results::server::NodeMetrics,
);

/// The CloudWatch window of a load: from `start_s` (see [`metrics_window_start`]) to `end_s`,
/// when its tasks had stopped (Unix seconds).
#[derive(Clone, Copy, Debug)]
pub(super) struct Window {
    pub(super) start_s: i64,
    pub(super) end_s: i64,
}

/// Read the cache's and the load generators' CloudWatch metrics over `w`, once CloudWatch has
/// published the minute the load ended in: its publishing lags a few minutes, so its readiness
/// is polled — each member's `CPUUtilization` — for at most `bound` (metrics of a cache being
/// deleted stay readable, so this runs beside the teardown). A failure is a note, not a failed run.
pub(super) async fn collect_metrics(
    c: &Clients,
    p: &RunPlan,
    members: &[String],
    w: Window,
    bound: std::time::Duration,
    t: &Timeouts,
    cancel: &CancellationToken,
) -> Result<Metrics, String> {
    use super::metrics::{self, get_metric_data, Query};
    // CloudWatch rounds a start time down to its minute; so does the query, so that every period
    // is a whole minute whoever answers.
    let w = Window {
        start_s: w.start_s.div_euclid(60) * 60,
        ..w
    };
    let cache = metrics::cache_queries(members);
    let minute = metrics::last_minute(w.end_s);
    let ready = metrics::readiness_queries(&cache);
    if !bound.is_zero() && !ready.is_empty() {
        tracing::info!(
            "waiting up to {} s for CloudWatch to publish the minute the load ended in",
            bound.as_secs()
        );
        let policy = crate::retry::Policy::new(
            "CloudWatch publishing",
            t.progress_every,
            t.progress_every,
            bound,
        );
        let ready = &ready;
        let poll =
            crate::retry::poll_until("the last minute in CloudWatch", &policy, || async move {
                let (v, _) = get_metric_data(&c.cloudwatch, ready, w.start_s, minute + 60).await?;
                anyhow::Ok(if metrics::published_through(ready, &v, minute) {
                    Probe::Ready(())
                } else {
                    Probe::Pending("the minute the load ended in not yet published".into())
                })
            });
        let polled = tokio::select! {
            r = poll => r,
            () = cancel.cancelled() => return Err("interrupted before CloudWatch was read".into()),
        };
        match polled {
            Ok(()) => tracing::info!("CloudWatch has published the minute the load ended in"),
            Err(PollError::TimedOut { .. }) => tracing::warn!(
                "CloudWatch had not published the minute the load ended in after {} s: reading what there is",
                bound.as_secs()
            ),
            Err(PollError::Failed(e)) => return Err(e.to_string()),
        }
    }
    let end = i64::try_from(crate::clock::now_ms() / 1000).unwrap_or(i64::MAX) + 60;
    let ecs = metrics::ecs_queries(&p.names.ecs_cluster, &p.names.task_family);
    let all: Vec<Query> = cache.iter().chain(&ecs).cloned().collect();
    let (values, calls) = get_metric_data(&c.cloudwatch, &all, w.start_s, end)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        "read {} metric queries in {calls} GetMetricData call(s)",
        all.len()
    );
    Ok((
        metrics::to_server_metrics(&cache, &values),
        metrics::to_loadgen_metrics(&ecs, &values),
    ))
}

/// Where the CloudWatch window starts (Unix seconds) for timed tasks started at `timed_start`.
/// CloudWatch rounds a start time down to its minute, so after a prefill the window starts at the
/// next whole minute: the prefill's write burst would otherwise count as the timed load (and could
/// produce the bottleneck hint). Without a prefill, the minute before is idle and included.
pub fn metrics_window_start(timed_start: i64, after_prefill: bool) -> i64 {
    if after_prefill {
        timed_start.div_euclid(60) * 60 + if timed_start % 60 == 0 { 0 } else { 60 }
    } else {
        timed_start - 60
    }
}

/// The samples of `m` whose minute ends within `from ..= to + 60` (Unix seconds; a sample's `t`
/// is the end of its minute).
pub(super) fn slice(
    m: &crate::results::server::NodeMetrics,
    from: i64,
    to: i64,
) -> crate::results::server::NodeMetrics {
    crate::results::server::NodeMetrics {
        samples: m
            .samples
            .iter()
            .filter(|s| i64::try_from(s.t).is_ok_and(|t| (from..=to + 60).contains(&t)))
            .cloned()
            .collect(),
        ..m.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_a_prefill_the_window_starts_at_the_next_whole_minute() {
        // 12:00:30 → 12:01:00 after a prefill; the minute before without one.
        let t = 1_795_723_230;
        assert_eq!(metrics_window_start(t, true), 1_795_723_260);
        assert_eq!(metrics_window_start(t, false), t - 60);
        assert_eq!(metrics_window_start(1_795_723_200, true), 1_795_723_200);
    }
}
