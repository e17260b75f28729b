//! Validation of the inputs that choose the AWS target's cache: the user's own cache (`endpoint`
//! or `replication_group_id`, with its AUTH token from the secret input `auth_token`), and the
//! cache settings of a created one (`parameter_group` or `parameters`, data tiering). Pure.

use super::{ConfigError, RunInputs, Secret};

/// The user's own cache, as given (what AWS says about it is read when the run starts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExistingCache {
    /// `endpoint: redis[s]://host:port`.
    Endpoint {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// `rediss://`: TLS in transit.
        tls: bool,
    },
    /// `replication_group_id`: endpoint, port, TLS and members come from DescribeReplicationGroups.
    ReplicationGroup(String),
}

impl ExistingCache {
    /// How the plan and messages name it.
    pub fn describe(&self) -> String {
        match self {
            Self::Endpoint { host, port, tls } => {
                format!("{}://{host}:{port}", if *tls { "rediss" } else { "redis" })
            }
            Self::ReplicationGroup(id) => format!("replication group '{id}'"),
        }
    }
}

/// The parameters of a created cache.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum CacheParameters {
    /// The engine family's default group.
    #[default]
    Default,
    /// `parameter_group`: an existing cache parameter group.
    Group(String),
    /// `parameters`: `name=value` pairs, in the order given, for a group the run creates.
    Pairs(Vec<(String, String)>),
}

/// The cache-choosing part of the AWS inputs.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CacheChoice {
    /// The user's cache (`None`: the run creates one).
    pub existing: Option<ExistingCache>,
    /// The AUTH token of the user's cache (never printed).
    pub auth_token: Option<Secret>,
    /// The created cache's parameters.
    pub parameters: CacheParameters,
    /// Data tiering (node types with local SSD, `cache.r6gd.*`, require it).
    pub data_tiering: bool,
}

fn opt(v: Option<&String>) -> Option<&str> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// Whether a node type has data tiering (ElastiCache creates `r6gd` nodes only with it).
pub fn is_data_tiering_node_type(node_type: &str) -> bool {
    node_type
        .split('.')
        .nth(1)
        .is_some_and(|class| class.ends_with('d') && class.starts_with('r'))
}

/// `redis://host:port` or `rediss://host:port`, no user or password (the token comes from the
/// secret input `auth_token`, never from a plain input). The value shown in errors never includes
/// what came before an `@`.
fn aws_endpoint(raw: &str) -> Result<ExistingCache, ConfigError> {
    let v = raw.trim();
    let shown = match v.rsplit_once('@') {
        Some((_, h)) => format!("***@{h}"),
        None => v.to_string(),
    };
    let (tls, rest) = if let Some(r) = v.strip_prefix("rediss://") {
        (true, r)
    } else if let Some(r) = v.strip_prefix("redis://") {
        (false, r)
    } else {
        return Err(ConfigError::new(
            "endpoint",
            shown,
            "must be a URL redis://host:port or rediss://host:port (TLS) on aws",
        ));
    };
    if rest.contains('@') {
        return Err(ConfigError::new(
            "endpoint",
            shown,
            "must not carry a user or password on aws: give the AUTH token in the secret input 'auth_token' (it is masked in the job's log)",
        ));
    }
    let hostport = rest.trim_end_matches('/');
    let bad = || {
        ConfigError::new(
            "endpoint",
            v,
            "must be redis://host:port or rediss://host:port, the port from 1 to 65535",
        )
    };
    let (host, port) = hostport.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().ok().filter(|p| *p > 0).ok_or_else(bad)?;
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if !host_ok {
        return Err(bad());
    }
    Ok(ExistingCache::Endpoint {
        host: host.to_ascii_lowercase(),
        port,
        tls,
    })
}

/// A replication group id: 1–40 lowercase letters, digits or hyphens, starting with a letter, no
/// `--`, not ending with `-` (ElastiCache's rule).
fn is_replication_group_id(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 40
        && v.starts_with(|c: char| c.is_ascii_lowercase())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.contains("--")
        && !v.ends_with('-')
}

/// A cache parameter group name: 1–255 letters, digits or hyphens, starting with a letter, no
/// `--`, not ending with `-` (`default.redis7.cluster.on` style names have dots).
fn is_parameter_group_name(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 255
        && v.starts_with(|c: char| c.is_ascii_alphabetic())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !v.contains("--")
        && !v.ends_with('-')
}

/// Most parameters one run may set (ModifyCacheParameterGroup takes 20 per call; more would be
/// a different experiment).
pub const MAX_PARAMETERS: usize = 20;

/// `name=value` pairs, comma or newline separated.
fn parameter_pairs(raw: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for item in raw
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let Some((name, value)) = item.split_once('=') else {
            return Err(ConfigError::new(
                "parameters",
                raw,
                format!("must be name=value pairs like maxmemory-policy=allkeys-lru, comma or newline separated ('{item}' has no '=')"),
            ));
        };
        let (name, value) = (name.trim(), value.trim());
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            return Err(ConfigError::new(
                "parameters",
                raw,
                format!("must name ElastiCache parameters in lowercase letters, digits and hyphens, like maxmemory-policy ('{name}' is not one)"),
            ));
        }
        if value.is_empty() || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ConfigError::new(
                "parameters",
                raw,
                format!("must give '{name}' a value without spaces, like {name}=yes"),
            ));
        }
        if name == "cluster-enabled" {
            return Err(ConfigError::new(
                "parameters",
                raw,
                "must not set cluster-enabled: the tool sets it from num_shards",
            ));
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(ConfigError::new(
                "parameters",
                raw,
                format!("must not set '{name}' twice"),
            ));
        }
        out.push((name.to_string(), value.to_string()));
    }
    if out.is_empty() {
        return Err(ConfigError::new(
            "parameters",
            raw,
            "must list name=value pairs like maxmemory-policy=allkeys-lru",
        ));
    }
    if out.len() > MAX_PARAMETERS {
        return Err(ConfigError::new(
            "parameters",
            raw,
            format!("must set at most {MAX_PARAMETERS} parameters"),
        ));
    }
    Ok(out)
}

/// The user's own cache, when given: by its endpoint or by its replication group's id (not both).
fn existing_of(i: &RunInputs) -> Result<Option<ExistingCache>, ConfigError> {
    let endpoint = opt(i.endpoint.as_ref());
    let group = opt(i.replication_group_id.as_ref());
    let existing = match (endpoint, group) {
        (Some(e), Some(g)) => {
            return Err(ConfigError::new(
                "replication_group_id",
                g,
                format!(
                    "cannot be combined with endpoint ('{}'): give one of them",
                    aws_endpoint(e).map_or_else(|_| "given".to_string(), |x| x.describe())
                ),
            ))
        }
        (Some(e), None) => Some(aws_endpoint(e)?),
        (None, Some(g)) => {
            if !is_replication_group_id(g) {
                return Err(ConfigError::new(
                    "replication_group_id",
                    g,
                    "must be a replication group id: up to 40 lowercase letters, digits or hyphens, starting with a letter",
                ));
            }
            Some(ExistingCache::ReplicationGroup(g.to_string()))
        }
        (None, None) => None,
    };
    Ok(existing)
}

/// The AUTH token of the user's own cache, when given: one ElastiCache accepts, and only with a
/// cache of the user's own.
fn auth_token_of(
    i: &RunInputs,
    existing: Option<&ExistingCache>,
) -> Result<Option<Secret>, ConfigError> {
    let auth_token = i
        .auth_token
        .as_ref()
        .filter(|t| !t.expose().trim().is_empty())
        .map(|t| Secret::new(t.expose().trim()));
    if let Some(t) = &auth_token {
        let n = t.expose().chars().count();
        let printable = t
            .expose()
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '/' | '@'));
        if !(16..=128).contains(&n) || !printable {
            return Err(ConfigError::new(
                "auth_token",
                "(secret, not shown)",
                "must be an ElastiCache AUTH token: 16 to 128 printable characters other than \", / and @",
            ));
        }
        if existing.is_none() {
            return Err(ConfigError::new(
                "auth_token",
                "(secret, not shown)",
                "is for a cache of your own (endpoint or replication_group_id); a cache the tool creates gets a random token",
            ));
        }
    }
    Ok(auth_token)
}

/// The cache's parameters: a parameter group's name or name=value pairs (not both), else the
/// engine's defaults.
fn parameters_of(i: &RunInputs) -> Result<CacheParameters, ConfigError> {
    let group_name = opt(i.parameter_group.as_ref());
    let pairs = opt(i.parameters.as_ref());
    let parameters = match (group_name, pairs) {
        (Some(g), Some(_)) => {
            return Err(ConfigError::new(
                "parameters",
                pairs.unwrap_or_default(),
                format!("cannot be combined with parameter_group ('{g}'): give one of them"),
            ))
        }
        (Some(g), None) => {
            if !is_parameter_group_name(g) {
                return Err(ConfigError::new(
                    "parameter_group",
                    g,
                    "must be a cache parameter group name: letters, digits, hyphens or dots, starting with a letter",
                ));
            }
            CacheParameters::Group(g.to_string())
        }
        (None, Some(p)) => CacheParameters::Pairs(parameter_pairs(p)?),
        (None, None) => CacheParameters::Default,
    };
    Ok(parameters)
}

/// With the user's own cache: no parameters (the tool never changes it), and the security groups
/// the load generators run with given.
fn check_existing(
    i: &RunInputs,
    existing: Option<&ExistingCache>,
    parameters: &CacheParameters,
) -> Result<(), ConfigError> {
    let group_name = opt(i.parameter_group.as_ref());
    let pairs = opt(i.parameters.as_ref());
    if let Some(e) = existing {
        let input = if matches!(e, ExistingCache::Endpoint { .. }) {
            "endpoint"
        } else {
            "replication_group_id"
        };
        if *parameters != CacheParameters::Default {
            let (name, value) = match (group_name, pairs) {
                (Some(g), _) => ("parameter_group", g),
                (_, p) => ("parameters", p.unwrap_or_default()),
            };
            return Err(ConfigError::new(
                name,
                value,
                format!(
                    "must be empty with {input}: the tool never changes a cache it did not create"
                ),
            ));
        }
        if opt(i.security_group_ids.as_ref()).is_none() {
            return Err(ConfigError::new(
                "security_group_ids",
                "",
                format!("is required with {input} on aws: the load generators run with these groups, and only you know which may reach {}", e.describe()),
            ));
        }
    }
    Ok(())
}

/// Whether the cache the tool creates tiers data to SSD (its node type says so), which needs
/// Redis OSS 6.2 or later.
fn data_tiering_of(
    existing: Option<&ExistingCache>,
    node_type: &str,
    engine_version: Option<&str>,
) -> Result<bool, ConfigError> {
    let data_tiering = existing.is_none() && is_data_tiering_node_type(node_type);
    if data_tiering {
        let too_old = engine_version
            .and_then(|v| {
                let mut it = v.split('.');
                let major: u32 = it.next()?.parse().ok()?;
                let minor: u32 = it.next().map_or(Some(0), |m| m.parse().ok())?;
                Some((major, minor) < (6, 2))
            })
            .unwrap_or(false);
        if too_old {
            return Err(ConfigError::new(
                "node_type",
                node_type,
                format!("is a data-tiering node type, which ElastiCache offers from Redis OSS 6.2 (engine_version is {}): use 6.2 or later, or a node type without the 'd'", engine_version.unwrap_or_default()),
            ));
        }
    }
    Ok(data_tiering)
}

/// Validate the cache-choosing inputs of an AWS run. `node_type` and `engine_version` are the
/// validated ones (data tiering needs Redis OSS 6.2 or later).
pub fn cache_choice(
    i: &RunInputs,
    node_type: &str,
    engine_version: Option<&str>,
) -> Result<CacheChoice, ConfigError> {
    let existing = existing_of(i)?;
    let auth_token = auth_token_of(i, existing.as_ref())?;
    let parameters = parameters_of(i)?;
    check_existing(i, existing.as_ref(), &parameters)?;
    let data_tiering = data_tiering_of(existing.as_ref(), node_type, engine_version)?;
    Ok(CacheChoice {
        existing,
        auth_token,
        parameters,
        data_tiering,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_on_aws_are_urls_without_credentials() {
        assert_eq!(
            aws_endpoint("rediss://Master.x.cache.amazonaws.com:6380").unwrap(),
            ExistingCache::Endpoint {
                host: "master.x.cache.amazonaws.com".into(),
                port: 6380,
                tls: true
            }
        );
        assert_eq!(
            aws_endpoint("redis://h:6379/").unwrap().describe(),
            "redis://h:6379"
        );
        let e = aws_endpoint("rediss://user:hunter2@h:6379").unwrap_err();
        assert_eq!(e.input, "endpoint");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(e.problem.contains("auth_token"), "{e}");
        for bad in [
            "h:6379",
            "http://h:1",
            "redis://h",
            "redis://h:0",
            "redis://:1",
            "redis://a b:1",
        ] {
            assert_eq!(aws_endpoint(bad).unwrap_err().input, "endpoint", "{bad}");
        }
    }

    #[test]
    fn parameters_are_name_value_pairs() {
        assert_eq!(
            parameter_pairs("maxmemory-policy=allkeys-lru, io-threads = 4\n").unwrap(),
            vec![
                ("maxmemory-policy".into(), "allkeys-lru".into()),
                ("io-threads".into(), "4".into())
            ]
        );
        for (bad, says) in [
            ("maxmemory-policy", "has no '='"),
            ("Max=1", "lowercase"),
            ("a=", "a value"),
            ("a=1,a=2", "twice"),
            ("cluster-enabled=yes", "num_shards"),
            (",", "must list"),
        ] {
            let e = parameter_pairs(bad).unwrap_err();
            assert_eq!(e.input, "parameters");
            assert!(e.problem.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn data_tiering_node_types() {
        assert!(is_data_tiering_node_type("cache.r6gd.xlarge"));
        assert!(!is_data_tiering_node_type("cache.r6g.xlarge"));
        assert!(!is_data_tiering_node_type("cache.m7g.large"));
    }
}
