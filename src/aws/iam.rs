//! IAM for the AWS target: the task execution role (trusted by ECS tasks, with AWS's managed
//! `AmazonECSTaskExecutionRolePolicy` so the awslogs driver can write and images can be pulled),
//! created under the tool's path when the user brings none; the dead-man's switch's role (created
//! through [`create_role`] and [`put_role_policy`]); and the idempotent deletion of both.

use std::collections::BTreeMap;

use aws_sdk_iam::types::Tag;

use super::error::{Error, Result};

/// The managed policy every ECS task execution role needs (`{partition}` is filled in).
const EXECUTION_POLICY: &str =
    "arn:{partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

/// Only ECS tasks may assume the role.
const TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

pub use crate::plan::switch::partition;

/// The ARN of the managed execution policy in a region's partition.
pub fn execution_policy_arn(region: &str) -> String {
    EXECUTION_POLICY.replace("{partition}", partition(region))
}

/// Create the execution role; returns its ARN.
pub async fn create_execution_role(
    iam: &aws_sdk_iam::Client,
    name: &str,
    path: &str,
    tags: &BTreeMap<String, String>,
) -> Result<String> {
    create_role(
        iam,
        &RoleRequest {
            name,
            path,
            trust_policy: TRUST_POLICY,
            description: "elasticache-perf: ECS task execution role of one benchmark run",
            tags,
        },
    )
    .await
}

/// A role to create.
#[derive(Clone, Copy, Debug)]
pub struct RoleRequest<'a> {
    /// Role name.
    pub name: &'a str,
    /// Path (the tool's, so that its IAM permissions can be scoped to it).
    pub path: &'a str,
    /// Trust policy document.
    pub trust_policy: &'a str,
    /// Description.
    pub description: &'a str,
    /// Tags.
    pub tags: &'a BTreeMap<String, String>,
}

/// Create a tagged role; returns its ARN.
pub async fn create_role(iam: &aws_sdk_iam::Client, r: &RoleRequest<'_>) -> Result<String> {
    let name = r.name;
    let resource = || format!("IAM role '{name}'");
    let mut t = Vec::new();
    for (k, v) in r.tags {
        t.push(
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| Error::Failed {
                    action: "CreateRole",
                    resource: resource(),
                    detail: format!("tag {k}: {e}"),
                })?,
        );
    }
    let out = iam
        .create_role()
        .role_name(name)
        .path(r.path)
        .assume_role_policy_document(r.trust_policy)
        .description(r.description)
        .set_tags(Some(t))
        .send()
        .await
        .map_err(|e| Error::from_sdk("CreateRole", resource(), e))?;
    out.role()
        .map(|r| r.arn().to_string())
        .ok_or_else(|| Error::Failed {
            action: "CreateRole",
            resource: resource(),
            detail: "the response has no role".into(),
        })
}

/// Name of the execution role's inline policy that reads the image registry's credentials.
pub const REGISTRY_CREDENTIALS_POLICY: &str = "read-registry-credentials";

/// The inline policy that lets an execution role read one Secrets Manager secret (ECS
/// repositoryCredentials; a secret encrypted with a customer managed KMS key also needs
/// `kms:Decrypt` on that key, which the user grants).
pub fn registry_credentials_policy(secret_arn: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secret_arn,
        }]
    })
    .to_string()
}

/// Put an inline policy on a role (deleted with the role by [`delete_role`]).
pub async fn put_role_policy(
    iam: &aws_sdk_iam::Client,
    role: &str,
    policy_name: &str,
    document: &str,
) -> Result<()> {
    iam.put_role_policy()
        .role_name(role)
        .policy_name(policy_name)
        .policy_document(document)
        .send()
        .await
        .map_err(|e| {
            Error::from_sdk(
                "PutRolePolicy",
                format!("IAM role '{role}' (policy {policy_name})"),
                e,
            )
        })?;
    Ok(())
}

/// Attach the managed execution policy.
pub async fn attach_execution_policy(
    iam: &aws_sdk_iam::Client,
    name: &str,
    region: &str,
) -> Result<()> {
    let arn = execution_policy_arn(region);
    iam.attach_role_policy()
        .role_name(name)
        .policy_arn(&arn)
        .send()
        .await
        .map_err(|e| {
            Error::from_sdk(
                "AttachRolePolicy",
                format!("IAM role '{name}' (policy {arn})"),
                e,
            )
        })?;
    Ok(())
}

/// Delete the role: detach its managed policies, delete inline ones, then the role. Not-found at any
/// step means someone already did it.
pub async fn delete_role(iam: &aws_sdk_iam::Client, name: &str) -> Result<()> {
    let resource = || format!("IAM role '{name}'");
    let attached = iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| Error::from_sdk("ListAttachedRolePolicies", resource(), e))?;
    for p in attached.attached_policies() {
        if let Some(arn) = p.policy_arn() {
            let r = iam
                .detach_role_policy()
                .role_name(name)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| {
                    Error::from_sdk(
                        "DetachRolePolicy",
                        format!("IAM role '{name}' (policy {arn})"),
                        e,
                    )
                });
            super::error::ok_if_not_found(r.map(|_| ()))?;
        }
    }
    let inline = iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| Error::from_sdk("ListRolePolicies", resource(), e))?;
    for p in inline.policy_names() {
        let r = iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(p)
            .send()
            .await
            .map_err(|e| {
                Error::from_sdk(
                    "DeleteRolePolicy",
                    format!("IAM role '{name}' (policy {p})"),
                    e,
                )
            });
        super::error::ok_if_not_found(r.map(|_| ()))?;
    }
    iam.delete_role()
        .role_name(name)
        .send()
        .await
        .map_err(|e| Error::from_sdk("DeleteRole", resource(), e))?;
    Ok(())
}

/// `(name, ARN)` of every role under `path` (ListRoles, all pages).
pub async fn roles_under(iam: &aws_sdk_iam::Client, path: &str) -> Result<Vec<(String, String)>> {
    let roles = iam
        .list_roles()
        .path_prefix(path)
        .into_paginator()
        .items()
        .send()
        .collect::<std::result::Result<Vec<_>, _>>()
        .await
        .map_err(|e| Error::from_sdk("ListRoles", format!("IAM roles under '{path}'"), e))?;
    Ok(roles
        .iter()
        .map(|r| (r.role_name().to_string(), r.arn().to_string()))
        .collect())
}

/// The role's tags (ListRoleTags, all pages).
pub async fn role_tags(iam: &aws_sdk_iam::Client, name: &str) -> Result<BTreeMap<String, String>> {
    let tags = iam
        .list_role_tags()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .collect::<std::result::Result<Vec<_>, _>>()
        .await
        .map_err(|e| Error::from_sdk("ListRoleTags", format!("IAM role '{name}'"), e))?;
    Ok(tags
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

/// Whether the role exists.
pub async fn role_exists(iam: &aws_sdk_iam::Client, name: &str) -> Result<bool> {
    match iam.get_role().role_name(name).send().await {
        Ok(_) => Ok(true),
        Err(e) => {
            let e = Error::from_sdk("GetRole", format!("IAM role '{name}'"), e);
            if e.is_not_found() {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}
