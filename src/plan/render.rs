//! The plan as text for people: resources with names and parameters, the dead-man's switch, tags,
//! the memtier command lines (token redacted), timeouts, where the exports go and the cost
//! estimate. Pure.

use std::fmt::Write as _;

use super::RunPlan;

/// Render the plan.
pub fn render_text(p: &RunPlan) -> String {
    let mut s = String::new();
    let n = &p.names;
    let c = &p.cache;
    let _ = writeln!(s, "plan for run {} in {}", p.run_id, p.region);
    let _ = writeln!(
        s,
        "\nresources (created in parallel around the replication group):"
    );
    if p.network.creates_security_groups {
        let _ = writeln!(
            s,
            "  security group    {} (load generators; no ingress)",
            n.loadgen_security_group
        );
        let _ = writeln!(
            s,
            "  security group    {} (cache; ingress tcp {} only from {})",
            n.cache_security_group, c.port, n.loadgen_security_group
        );
    } else {
        let _ = writeln!(
            s,
            "  security groups   {} (yours, for the cache and the tasks)",
            p.network.security_group_ids.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "  cache subnet group {} ({} in {})",
        n.cache_subnet_group,
        p.network.subnet_ids.join(", "),
        p.network.vpc_id
    );
    let topology = if c.cluster_mode {
        format!(
            "cluster mode, {} shards × (1 + {} replicas)",
            c.num_shards, c.replicas_per_shard
        )
    } else {
        format!("1 primary + {} replicas", c.replicas_per_shard)
    };
    let _ = writeln!(
        s,
        "  replication group {} ({} {}, {}, {} = {} nodes, port {}, TLS {}, at-rest encryption {}, automatic failover {})",
        n.replication_group,
        c.engine,
        c.engine_version.as_deref().unwrap_or("(service default version)"),
        c.node_type,
        topology,
        c.nodes,
        c.port,
        on_off(c.transit_encryption),
        on_off(c.at_rest_encryption),
        on_off(c.automatic_failover),
    );
    if c.transit_encryption {
        let _ = writeln!(
            s,
            "                    AUTH token: 32 random characters made at run time, never printed"
        );
    }
    let _ = writeln!(
        s,
        "  log group         {} (retention {} days)",
        n.log_group,
        super::LOG_RETENTION_DAYS
    );
    let _ = writeln!(s, "  ECS cluster       {}", n.ecs_cluster);
    let t = &p.tasks;
    if t.creates_execution_role {
        let _ = writeln!(
            s,
            "  IAM role          {}{} (task execution: AmazonECSTaskExecutionRolePolicy)",
            super::names::ROLE_PATH,
            n.execution_role
        );
    } else if let Some(arn) = &t.execution_role_arn {
        let _ = writeln!(s, "  IAM role          {arn} (yours)");
    }
    let _ = writeln!(
        s,
        "  task definition   {} (Fargate {} CPU units / {} MiB, image {}, awslogs)",
        n.task_family, t.cpu, t.memory_mib, t.image
    );
    let batches: Vec<String> = t.batches.iter().map(u32::to_string).collect();
    let _ = writeln!(
        s,
        "  tasks             {}{} timed (RunTask batches: {}), public IP {}",
        if t.prefill { "1 prefill, then " } else { "" },
        t.count,
        batches.join(" + "),
        on_off(p.network.assign_public_ip)
    );
    match &p.dead_mans_switch {
        Some(d) => {
            let _ = writeln!(
                s,
                "  dead-man's switch: one-time schedule {}/{} at {} deletes replication group {}",
                d.group, d.schedule, p.expires_at, n.replication_group
            );
            match &d.role_arn {
                Some(arn) => {
                    let _ = writeln!(
                        s,
                        "                    (EventBridge Scheduler, your IAM role {arn}; the schedule is removed by a normal teardown)"
                    );
                }
                None => {
                    let _ = writeln!(
                        s,
                        "                    (EventBridge Scheduler, IAM role {}{} allowed only that; removed by a normal teardown)",
                        super::names::ROLE_PATH,
                        d.role
                    );
                }
            }
        }
        None => {
            let _ = writeln!(
                s,
                "  dead-man's switch: off (dead_mans_switch is false: what an interrupted run leaves waits for `cleanup` or `sweep`)"
            );
        }
    }
    let _ = writeln!(s, "\ntags on every resource:");
    for (k, v) in &p.tags {
        let _ = writeln!(s, "  {k} = {v}");
    }
    let _ = writeln!(s, "\nload generator command (token redacted):");
    if let Some(pre) = &t.script.prefill_display {
        let _ = writeln!(s, "  prefill: {pre}");
    }
    let _ = writeln!(s, "  timed:   {}", t.script.timed_display);
    let _ = writeln!(
        s,
        "  each task runs it under `timeout {} s`, prints its results into its log stream, and is stopped if still running after {} s",
        t.script.timed_timeout_secs, t.stop_after_secs
    );
    critical_path(&mut s, p);
    let _ = writeln!(
        s,
        "\nexports: s3://{}/{} (metrics/, logs/, results.json, chart.png, summary.md, raw/)",
        p.export.bucket, p.export.prefix
    );
    let _ = writeln!(
        s,
        "\ncost estimate ({} on-demand prices of {}; node time rounded up to whole hours):",
        p.cost.price_table_region, p.cost.price_table_date
    );
    for l in &p.cost.lines {
        let price = l.usd_per_unit.map_or_else(
            || "no price in the table".to_string(),
            |u| format!("× ${u}"),
        );
        let usd = l
            .usd
            .map_or_else(|| "?".to_string(), |u| format!("${u:.4}"));
        let _ = writeln!(
            s,
            "  {:<44} {:>9} {:<14} {:<22} {usd}",
            l.item, l.quantity, l.unit, price
        );
    }
    let total = if p.cost.is_complete {
        format!("${:.2}", p.cost.total_usd)
    } else {
        format!("at least ${:.2} (some prices unknown)", p.cost.total_usd)
    };
    let cap = p
        .max_cost_usd
        .map_or_else(|| "no limit".to_string(), |m| format!("${m:.2}"));
    let _ = writeln!(s, "  total {total}; max_cost_usd {cap}");
    let _ = writeln!(s, "  expires at {}", p.expires_at);
    s
}

/// The run's expected critical path: what the wall time is made of, and what runs side by side.
fn critical_path(s: &mut String, p: &RunPlan) {
    let test = p
        .tasks
        .script
        .timed_timeout_secs
        .saturating_sub(super::script::TIMEOUT_GRACE_SECS);
    let _ = writeln!(s, "\nexpected critical path:");
    let _ = writeln!(
        s,
        "  1. create the replication group      typically 5-15 min (at most {} min); network, roles, cluster and task definition alongside",
        crate::config::aws::CACHE_CREATE_TIMEOUT_MINUTES
    );
    if p.tasks.prefill {
        let _ = writeln!(
            s,
            "  2. prefill                           as long as writing every key takes (at most {} min)",
            crate::config::aws::PREFILL_BOUND_MINUTES
        );
    }
    let _ = writeln!(
        s,
        "  {}. load                              {test} s, after about a minute for Fargate to start the tasks; a line of progress every 30 s; ends early if every task stalls for {} s",
        if p.tasks.prefill { 3 } else { 2 },
        super::STALL_LIMIT_SECS
    );
    let _ = writeln!(
        s,
        "  {}. side by side, once results are home: the report (job summary, outputs, PR comment) at once;\n     the replication group's deletion, typically 5-10 min; CloudWatch's last minute, a few minutes",
        if p.tasks.prefill { 4 } else { 3 },
    );
    let _ = writeln!(
        s,
        "  {}. subnet group and security groups, the export to S3, the report updated with server metrics and the teardown",
        if p.tasks.prefill { 5 } else { 4 },
    );
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}
