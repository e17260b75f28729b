//! The plan as text for people: resources with names and parameters, the dead-man's switch, tags,
//! the memtier command lines (token redacted), timeouts, where the exports go and the cost
//! estimate. Pure.

use std::fmt::Write as _;

use super::RunPlan;

/// Render the plan.
pub fn render_text(p: &RunPlan) -> String {
    let mut s = String::new();
    let c = &p.cache;
    let _ = writeln!(s, "plan for run {} in {}", p.run_id, p.region);
    if let Some(e) = &c.existing {
        existing_cache(&mut s, p, e);
    } else {
        created_cache(&mut s, p);
    }
    tasks(&mut s, p);
    dead_mans_switch(&mut s, p);
    tags_and_command(&mut s, p);
    critical_path(&mut s, p);
    let _ = writeln!(
        s,
        "\nexports: s3://{}/{} (metrics/, logs/, results.json, chart.png, summary.md, raw/)",
        p.export.bucket, p.export.prefix
    );
    cost(&mut s, p);
    s
}

/// The log group, the ECS cluster, the tasks' role, task definition and tasks.
fn tasks(s: &mut String, p: &RunPlan) {
    let n = &p.names;
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
}

/// The dead-man's switch: armed (its schedule and role), or why not.
fn dead_mans_switch(s: &mut String, p: &RunPlan) {
    let n = &p.names;
    let c = &p.cache;
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
        None if c.existing.is_some() => {
            let _ = writeln!(
                s,
                "  dead-man's switch: not armed (it deletes a cache the run created; this one is yours): what an interrupted run leaves waits for `cleanup` or `sweep`"
            );
        }
        None => {
            let _ = writeln!(
                s,
                "  dead-man's switch: off (dead_mans_switch is false: what an interrupted run leaves waits for `cleanup` or `sweep`)"
            );
        }
    }
}

/// The tags on every resource and the load generators' command lines (token redacted).
fn tags_and_command(s: &mut String, p: &RunPlan) {
    let c = &p.cache;
    let t = &p.tasks;
    let _ = writeln!(s, "\ntags on every resource:");
    for (k, v) in &p.tags {
        let _ = writeln!(s, "  {k} = {v}");
    }
    let _ = writeln!(s, "\nload generator command (token redacted):");
    if let Some(pre) = &t.script.prefill_display {
        let _ = writeln!(s, "  prefill: {pre}");
    }
    let _ = writeln!(s, "  timed:   {}", t.script.timed_display);
    if c.existing.as_ref().is_some_and(|e| !e.resolved) {
        let _ = writeln!(
            s,
            "  (port, TLS and cluster mode follow your group as AWS describes it when the run starts)"
        );
    }
    let _ = writeln!(
        s,
        "  each task runs it under `timeout {} s`, prints its results into its log stream, and is stopped if still running after {} s",
        t.script.timed_timeout_secs, t.stop_after_secs
    );
}

/// The cost estimate line by line, its total, the cap and the expiry.
fn cost(s: &mut String, p: &RunPlan) {
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
}

/// The created cache: its network, the replication group and its parameter group.
fn created_cache(s: &mut String, p: &RunPlan) {
    let n = &p.names;
    let c = &p.cache;
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
    match &c.parameter_group {
        Some(g) if g.creates => {
            let set: Vec<String> = g
                .parameters
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = writeln!(
                s,
                "  parameter group   {} (family of the engine version; {}; deleted once the cache is gone)",
                g.name,
                set.join(" ")
            );
        }
        Some(g) => {
            let _ = writeln!(s, "  parameter group   {} (yours, used as is)", g.name);
        }
        None => {}
    }
    if c.data_tiering {
        let _ = writeln!(
            s,
            "                    data tiering on ({} nodes keep part of the data on local SSD)",
            c.node_type
        );
    }
}

/// The user's own cache: nothing of it is created, changed or deleted.
fn existing_cache(s: &mut String, p: &RunPlan, e: &super::ExistingSpec) {
    let _ = writeln!(
        s,
        "\ncache: yours, {} — the run creates no cache, no subnet group and no security group, never changes or deletes it, and arms no dead-man's switch for it",
        e.given
    );
    if e.resolved {
        let c = &p.cache;
        let group = e.replication_group_id.as_ref().map_or_else(
            || {
                ", no replication group of this region has it: no CloudWatch server metrics"
                    .to_string()
            },
            |g| {
                format!(
                    ", replication group {g}: {} {} {}",
                    c.engine,
                    c.engine_version.as_deref().unwrap_or("?"),
                    c.node_type
                )
            },
        );
        let _ = writeln!(
            s,
            "  endpoint          {}:{} (TLS {}, cluster mode {}{group})",
            e.host,
            e.port,
            on_off(e.tls),
            on_off(e.cluster_mode),
        );
    } else {
        let _ = writeln!(
            s,
            "  endpoint, port, TLS, engine, version, node type and member clusters are read from AWS (DescribeReplicationGroups) when the run starts"
        );
    }
    let _ = writeln!(
        s,
        "                    AUTH token: from the secret input auth_token when given, never printed"
    );
    let _ = writeln!(
        s,
        "  security groups   {} (yours, for the tasks: they must reach the cache)",
        p.network.security_group_ids.join(", ")
    );
    let _ = writeln!(
        s,
        "\nresources (created for the load generators, all deleted at teardown):"
    );
}

/// The run's expected critical path: what the wall time is made of, and what runs side by side.
fn critical_path(s: &mut String, p: &RunPlan) {
    let test = p
        .tasks
        .script
        .timed_timeout_secs
        .saturating_sub(super::script::TIMEOUT_GRACE_SECS);
    let ours = p.cache.existing.is_none();
    let mut step = 0;
    let mut next = || {
        step += 1;
        step
    };
    let _ = writeln!(s, "\nexpected critical path:");
    if ours {
        let _ = writeln!(
            s,
            "  {}. create the replication group      typically 5-15 min (at most {} min); network, roles, cluster and task definition alongside",
            next(),
            crate::config::aws::CACHE_CREATE_TIMEOUT_MINUTES
        );
    } else {
        let _ = writeln!(
            s,
            "  {}. roles, log group, cluster and task definition for the load generators, under a minute",
            next()
        );
    }
    if p.tasks.prefill {
        let _ = writeln!(
            s,
            "  {}. prefill                           as long as writing every key takes (at most {} min)",
            next(),
            crate::config::aws::PREFILL_BOUND_MINUTES
        );
    }
    let _ = writeln!(
        s,
        "  {}. load                              {test} s, after about a minute for Fargate to start the tasks; a line of progress every 30 s; ends early if every task stalls for {} s",
        next(),
        super::STALL_LIMIT_SECS
    );
    let deletion = if ours {
        "the replication group's deletion, typically 5-10 min"
    } else {
        "the load generators' teardown"
    };
    let _ = writeln!(
        s,
        "  {}. side by side, once results are home: the report (job summary, outputs, PR comment) at once;\n     {deletion}; CloudWatch's last minute, a few minutes",
        next(),
    );
    let _ = writeln!(
        s,
        "  {}. {}the export to S3, the report updated with server metrics and the teardown",
        next(),
        if ours {
            "subnet group and security groups, "
        } else {
            ""
        }
    );
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}
