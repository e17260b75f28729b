//! What of a run still exists, asked of moto directly and grouped by service: everything tagged
//! with the run id that its own service still reports, and IAM roles under the tool's path named
//! after the run (the Tagging API does not list IAM roles).

use std::collections::BTreeMap;

use elasticache_perf::aws::{elasticache, leaks, Clients};
use elasticache_perf::plan::names::ROLE_PATH;

/// Live resources of `run_id` by service (`ecs`, `ec2`, `iam`, …); empty when nothing is left.
pub async fn inventory(c: &Clients, run_id: &str) -> BTreeMap<String, Vec<String>> {
    let mut by_type: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for arn in leaks::tagged(c, run_id).await.unwrap() {
        let live = match leaks::parse_arn(&arn) {
            Some((kind, key)) => leaks::exists(c, kind, &key).await.unwrap(),
            // A member cluster (`<group>-001`) lives as long as its replication group.
            None if arn.contains(":elasticache:") && arn.contains(":cluster:") => {
                let member = arn.rsplit(':').next().unwrap_or("");
                let group = member.rsplit_once('-').map_or(member, |(g, _)| g);
                elasticache::describe(&c.elasticache, group).await.is_ok()
            }
            None => true,
        };
        if live {
            let service = arn.split(':').nth(2).unwrap_or("?").to_string();
            by_type.entry(service).or_default().push(arn);
        }
    }
    let roles = c
        .iam
        .list_roles()
        .path_prefix(ROLE_PATH)
        .send()
        .await
        .unwrap();
    for r in roles.roles() {
        if r.role_name().starts_with(run_id) {
            by_type
                .entry("iam".into())
                .or_default()
                .push(r.arn().to_string());
        }
    }
    by_type
}
