//! ARN parsing: which of the tool's resource kinds an ARN names, and the key its service finds it
//! by (the tagging API answers with ARNs; the leak scan and `cleanup` act on kinds and keys).

use super::ledger::ResourceKind;

/// A resource named by an ARN: its kind and the key its service finds it by. `None` kind: a
/// resource type the tool does not create (reported as left over as is).
pub fn parse_arn(arn: &str) -> Option<(ResourceKind, String)> {
    let mut parts = arn.splitn(6, ':');
    let (_, _, service, _, _, res) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let after = |p: &str| res.strip_prefix(p).map(str::to_string);
    match service {
        "ec2" => after("security-group/").map(|id| (ResourceKind::SecurityGroup, id)),
        "elasticache" => after("replicationgroup:")
            .map(|id| (ResourceKind::ReplicationGroup, id))
            .or_else(|| after("subnetgroup:").map(|n| (ResourceKind::CacheSubnetGroup, n)))
            .or_else(|| after("parametergroup:").map(|n| (ResourceKind::CacheParameterGroup, n))),
        "logs" => after("log-group:").map(|n| {
            let n = n.strip_suffix(":*").unwrap_or(&n).to_string();
            (ResourceKind::LogGroup, n)
        }),
        "ecs" => after("cluster/")
            .map(|n| (ResourceKind::EcsCluster, n))
            .or_else(|| {
                res.starts_with("task-definition/")
                    .then(|| (ResourceKind::TaskDefinition, arn.to_string()))
            })
            .or_else(|| {
                res.starts_with("task/")
                    .then(|| (ResourceKind::EcsTask, arn.to_string()))
            }),
        "iam" => after("role/").map(|p| {
            let name = p.rsplit('/').next().unwrap_or(&p).to_string();
            (ResourceKind::IamRole, name)
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_map_to_kinds() {
        for (arn, kind, key) in [
            (
                "arn:aws:ec2:us-east-1:1:security-group/sg-0abc",
                ResourceKind::SecurityGroup,
                "sg-0abc",
            ),
            (
                "arn:aws:elasticache:us-east-1:1:replicationgroup:ecp-x",
                ResourceKind::ReplicationGroup,
                "ecp-x",
            ),
            (
                "arn:aws:elasticache:us-east-1:1:subnetgroup:ecp-x-subnets",
                ResourceKind::CacheSubnetGroup,
                "ecp-x-subnets",
            ),
            (
                "arn:aws:elasticache:us-east-1:1:parametergroup:ecp-x-params",
                ResourceKind::CacheParameterGroup,
                "ecp-x-params",
            ),
            (
                "arn:aws:logs:us-east-1:1:log-group:/elasticache-perf/ecp-x:*",
                ResourceKind::LogGroup,
                "/elasticache-perf/ecp-x",
            ),
            (
                "arn:aws:logs:us-east-1:1:log-group:/elasticache-perf/ecp-x",
                ResourceKind::LogGroup,
                "/elasticache-perf/ecp-x",
            ),
            (
                "arn:aws:ecs:us-east-1:1:cluster/ecp-x",
                ResourceKind::EcsCluster,
                "ecp-x",
            ),
            (
                "arn:aws:iam::1:role/elasticache-perf/ecp-x-exec",
                ResourceKind::IamRole,
                "ecp-x-exec",
            ),
        ] {
            assert_eq!(parse_arn(arn), Some((kind, key.to_string())), "{arn}");
        }
        let td = "arn:aws:ecs:us-east-1:1:task-definition/ecp-x-memtier:3";
        assert_eq!(
            parse_arn(td),
            Some((ResourceKind::TaskDefinition, td.to_string()))
        );
        assert_eq!(
            parse_arn("arn:aws:elasticache:us-east-1:1:cluster:ecp-x-001"),
            None
        );
        assert_eq!(parse_arn("nonsense"), None);
    }
}
