//! The cache parameter group a run creates for its `parameters`: create it (tagged, in the
//! engine version's family), set the parameters, delete it (once no cache uses it), and look it up
//! for the leak scan.

use std::collections::BTreeMap;

use aws_sdk_elasticache::types::{ParameterNameValue, Tag};

use super::error::{Error, Result};

/// ModifyCacheParameterGroup takes at most this many parameters per call.
const PER_CALL: usize = 20;

fn what(name: &str) -> String {
    format!("cache parameter group '{name}'")
}

/// Create the group in `family` (e.g. `redis7`), tagged like every resource of the run.
pub async fn create_parameter_group(
    ec: &aws_sdk_elasticache::Client,
    name: &str,
    family: &str,
    tags: &BTreeMap<String, String>,
) -> Result<()> {
    let tags: Vec<Tag> = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    ec.create_cache_parameter_group()
        .cache_parameter_group_name(name)
        .cache_parameter_group_family(family)
        .description("elasticache-perf benchmark run")
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| Error::from_sdk("CreateCacheParameterGroup", what(name), e))?;
    Ok(())
}

/// Set `parameters` on the group.
pub async fn set_parameters(
    ec: &aws_sdk_elasticache::Client,
    name: &str,
    parameters: &[(String, String)],
) -> Result<()> {
    for chunk in parameters.chunks(PER_CALL) {
        let values: Vec<ParameterNameValue> = chunk
            .iter()
            .map(|(n, v)| {
                ParameterNameValue::builder()
                    .parameter_name(n)
                    .parameter_value(v)
                    .build()
            })
            .collect();
        ec.modify_cache_parameter_group()
            .cache_parameter_group_name(name)
            .set_parameter_name_values(Some(values))
            .send()
            .await
            .map_err(|e| Error::from_sdk("ModifyCacheParameterGroup", what(name), e))?;
    }
    Ok(())
}

/// Delete the group (ElastiCache refuses while a cache uses it: `InvalidCacheParameterGroupState`).
pub async fn delete_parameter_group(ec: &aws_sdk_elasticache::Client, name: &str) -> Result<()> {
    ec.delete_cache_parameter_group()
        .cache_parameter_group_name(name)
        .send()
        .await
        .map_err(|e| Error::from_sdk("DeleteCacheParameterGroup", what(name), e))?;
    Ok(())
}

/// Whether the group exists.
pub async fn parameter_group_exists(ec: &aws_sdk_elasticache::Client, name: &str) -> Result<bool> {
    match ec
        .describe_cache_parameter_groups()
        .cache_parameter_group_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) => {
            let e = Error::from_sdk("DescribeCacheParameterGroups", what(name), e);
            if e.is_not_found() {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}
