//! The cache part of a plan that is not a plain created group: the user's own cache (as given, and
//! as AWS describes it once the run has read it) and the parameter group of a created cache. Pure.

use serde::Serialize;

use crate::config::cache::{CacheParameters, ExistingCache};

/// The user's own cache as the run uses it. The run creates no cache, subnet group or security
/// group for it, arms no dead-man's switch, and its teardown never touches it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExistingSpec {
    /// How the user named it: `replication group 'x'` or `rediss://host:port`.
    pub given: String,
    /// Whether the rest was read from AWS (`false` in `plan`, which calls no AWS).
    pub resolved: bool,
    /// The replication group (given, or found by its endpoint); `None` when the endpoint is no
    /// replication group's in the region (then there are no CloudWatch server metrics).
    pub replication_group_id: Option<String>,
    /// Host the load generators connect to (empty until read from AWS).
    pub host: String,
    /// Port.
    pub port: u16,
    /// TLS in transit.
    pub tls: bool,
    /// Cluster mode enabled.
    pub cluster_mode: bool,
    /// Whether the group requires an AUTH token (`None`: not known).
    pub auth_token_enabled: Option<bool>,
    /// Engine as AWS reports it.
    pub engine: Option<String>,
    /// Engine version as AWS reports it.
    pub engine_version: Option<String>,
    /// Node type as AWS reports it.
    pub node_type: Option<String>,
    /// Shards (node groups).
    pub num_shards: Option<u32>,
    /// Replicas per shard.
    pub replicas_per_shard: Option<u32>,
    /// Member cluster ids (the CloudWatch `CacheClusterId` dimension).
    pub member_clusters: Vec<String>,
}

impl ExistingSpec {
    /// What is known before AWS is asked: the URL's host, port and scheme, or the group's id.
    pub fn unresolved(given: &ExistingCache) -> Self {
        match given {
            ExistingCache::Endpoint { host, port, tls } => Self {
                given: given.describe(),
                host: host.clone(),
                port: *port,
                tls: *tls,
                ..Self::default()
            },
            ExistingCache::ReplicationGroup(id) => Self {
                given: given.describe(),
                replication_group_id: Some(id.clone()),
                port: super::CACHE_PORT,
                ..Self::default()
            },
        }
    }
}

/// The parameter group of a created cache.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParameterGroupSpec {
    /// Its name.
    pub name: String,
    /// Whether the run creates it (from `parameters`; deleted at teardown) or it is the user's
    /// (`parameter_group`).
    pub creates: bool,
    /// The parameters the run sets on the group it creates (`cluster-enabled` added in cluster
    /// mode, where the group must allow shards).
    pub parameters: Vec<(String, String)>,
}

/// The parameter group of a created cache of `cluster_mode`, named `name` when the run creates
/// it; `None` for the engine's default group.
pub fn parameter_group(
    p: &CacheParameters,
    name: &str,
    cluster_mode: bool,
) -> Option<ParameterGroupSpec> {
    match p {
        CacheParameters::Default => None,
        CacheParameters::Group(g) => Some(ParameterGroupSpec {
            name: g.clone(),
            creates: false,
            parameters: Vec::new(),
        }),
        CacheParameters::Pairs(pairs) => {
            let mut parameters = pairs.clone();
            if cluster_mode {
                parameters.push(("cluster-enabled".into(), "yes".into()));
            }
            Some(ParameterGroupSpec {
                name: name.to_string(),
                creates: true,
                parameters,
            })
        }
    }
}

/// The cache settings as the profile key carries them: the parameters the user set (sorted, so
/// their order does not matter) or the group they named; `None` for the defaults, so that the
/// key of a run with defaults is what it always was.
pub fn profile_value(p: &CacheParameters) -> Option<String> {
    match p {
        CacheParameters::Default => None,
        CacheParameters::Group(g) => Some(format!("parameter_group={g}")),
        CacheParameters::Pairs(pairs) => {
            let mut v: Vec<String> = pairs.iter().map(|(n, x)| format!("{n}={x}")).collect();
            v.sort();
            Some(v.join(" "))
        }
    }
}
