//! EC2 for the AWS target: the pre-flight check of the subnets (and the user's security groups),
//! the two security groups of a run — the load generators' (no ingress) and the cache's (ingress on
//! the cache port only from the load generators' group) — and their deletion.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    Filter, IpPermission, ResourceType, Tag, TagSpecification, UserIdGroupPair,
};

use super::error::{Error, Result};

fn tag_spec(kind: ResourceType, name: &str, tags: &BTreeMap<String, String>) -> TagSpecification {
    let mut b = TagSpecification::builder()
        .resource_type(kind)
        .tags(Tag::builder().key("Name").value(name).build());
    for (k, v) in tags {
        b = b.tags(Tag::builder().key(k).value(v).build());
    }
    b.build()
}

/// Check that every subnet exists and belongs to `vpc_id` (read-only; before anything is created).
/// Returns a message naming the input when not.
pub async fn check_subnets(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
    subnet_ids: &[String],
) -> Result<std::result::Result<(), String>> {
    let out = ec2
        .describe_subnets()
        .set_subnet_ids(Some(subnet_ids.to_vec()))
        .send()
        .await;
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            let e = Error::from_sdk(
                "DescribeSubnets",
                format!("subnets {}", subnet_ids.join(", ")),
                e,
            );
            if e.code().is_some_and(|c| c.starts_with("InvalidSubnet")) {
                return Ok(Err(format!(
                    "input 'subnet_ids' names a subnet that does not exist in this account and region; got '{}' ({e})",
                    subnet_ids.join(",")
                )));
            }
            return Err(e);
        }
    };
    for id in subnet_ids {
        match out.subnets().iter().find(|s| s.subnet_id() == Some(id)) {
            None => {
                return Ok(Err(format!(
                    "input 'subnet_ids' names subnet '{id}', which does not exist in this account and region"
                )))
            }
            Some(s) if s.vpc_id() != Some(vpc_id) => {
                return Ok(Err(format!(
                    "input 'subnet_ids' names subnet '{id}', which is in {} and not in vpc_id '{vpc_id}'",
                    s.vpc_id().unwrap_or("another VPC")
                )))
            }
            Some(_) => {}
        }
    }
    Ok(Ok(()))
}

/// Create a security group in `vpc_id`; returns its id.
pub async fn create_security_group(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    description: &str,
    vpc_id: &str,
    tags: &BTreeMap<String, String>,
) -> Result<String> {
    let out = ec2
        .create_security_group()
        .group_name(name)
        .description(description)
        .vpc_id(vpc_id)
        .tag_specifications(tag_spec(ResourceType::SecurityGroup, name, tags))
        .send()
        .await
        .map_err(|e| {
            Error::from_sdk(
                "CreateSecurityGroup",
                format!("security group '{name}' in {vpc_id}"),
                e,
            )
        })?;
    out.group_id()
        .map(str::to_string)
        .ok_or_else(|| Error::Failed {
            action: "CreateSecurityGroup",
            resource: format!("security group '{name}'"),
            detail: "the response has no group id".into(),
        })
}

/// Allow TCP `port` into `group_id` only from members of `source_group_id`.
pub async fn allow_from_group(
    ec2: &aws_sdk_ec2::Client,
    group_id: &str,
    source_group_id: &str,
    port: u16,
) -> Result<()> {
    let perm = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(i32::from(port))
        .to_port(i32::from(port))
        .user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(source_group_id)
                .description("elasticache-perf load generators")
                .build(),
        )
        .build();
    ec2.authorize_security_group_ingress()
        .group_id(group_id)
        .ip_permissions(perm)
        .send()
        .await
        .map_err(|e| {
            Error::from_sdk(
                "AuthorizeSecurityGroupIngress",
                format!("security group '{group_id}' (tcp {port} from '{source_group_id}')"),
                e,
            )
        })?;
    Ok(())
}

/// The id of the security group named `name` (in `vpc_id` when given), if it exists.
pub async fn find_security_group(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    vpc_id: Option<&str>,
) -> Result<Option<String>> {
    let mut req = ec2
        .describe_security_groups()
        .filters(Filter::builder().name("group-name").values(name).build());
    if let Some(vpc) = vpc_id {
        req = req.filters(Filter::builder().name("vpc-id").values(vpc).build());
    }
    let out = req.send().await.map_err(|e| {
        Error::from_sdk(
            "DescribeSecurityGroups",
            format!("security group '{name}'"),
            e,
        )
    })?;
    Ok(out
        .security_groups()
        .first()
        .and_then(|g| g.group_id())
        .map(str::to_string))
}

/// Whether the security group `id` still exists.
pub async fn security_group_exists(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<bool> {
    match ec2.describe_security_groups().group_ids(id).send().await {
        Ok(o) => Ok(!o.security_groups().is_empty()),
        Err(e) => {
            let e = Error::from_sdk(
                "DescribeSecurityGroups",
                format!("security group '{id}'"),
                e,
            );
            if e.is_not_found() {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}

/// Delete a security group (not-found is an error the caller may accept; `DependencyViolation`
/// means something — the cache's or a task's network interface — still uses it).
pub async fn delete_security_group(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<()> {
    ec2.delete_security_group()
        .group_id(id)
        .send()
        .await
        .map_err(|e| Error::from_sdk("DeleteSecurityGroup", format!("security group '{id}'"), e))?;
    Ok(())
}
