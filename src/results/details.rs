//! `run.details` of `results.json`: the facts a target records about a run, one typed field per
//! key this product writes and the keys it does not know kept as they came, written as one map
//! sorted by key, byte for byte what the free-form map it replaced wrote.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The key of [`RunDetails::command`], which the summary shows apart from the other details.
pub const COMMAND_KEY: &str = "command";

/// Declares [`RunDetails`]: each field is optional, named as its key in `results.json`, and of the
/// JSON type this product writes for it.
macro_rules! run_details {
    ($( $(#[doc = $doc:literal])+ $field:ident : $ty:ty, )+) => {
        /// The facts a target records about a run (`run.details`). Every field is optional: a
        /// target writes the ones it knows (the local target has no region, an analysed file has
        /// none at all), and results written by older versions lack newer ones.
        ///
        /// In `results.json` the fields and [`Self::other`] form one object with its keys sorted,
        /// left out when empty. A known key whose value has another JSON type than the one this
        /// version writes (an integer where a float is written, a `null`) is kept in `other` as it
        /// came, so that any `results.json` reads back and is written again unchanged.
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct RunDetails {
            $( $(#[doc = $doc])+ pub $field: Option<$ty>, )+
            /// The keys this version does not write (from other versions or added by hand), and
            /// known keys with a value of another type, as they came.
            pub other: BTreeMap<String, Value>,
        }

        impl RunDetails {
            /// The keys this version writes, in the order the fields are declared.
            pub const KNOWN_KEYS: &'static [&'static str] = &[$(stringify!($field)),+];

            /// Whether there is nothing to write.
            pub fn is_empty(&self) -> bool {
                $( self.$field.is_none() && )+ self.other.is_empty()
            }

            /// Every detail as a JSON value, keyed and sorted as in `results.json`.
            pub fn to_map(&self) -> BTreeMap<String, Value> {
                let mut map = self.other.clone();
                $(
                    if let Some(v) = &self.$field {
                        map.insert(stringify!($field).to_string(), json_of(v));
                    }
                )+
                map
            }

            /// Details from a JSON object: each known key whose value reads back as the same JSON
            /// becomes its field, everything else stays in [`Self::other`].
            pub fn from_map(mut map: BTreeMap<String, Value>) -> Self {
                Self {
                    $( $field: take_typed(&mut map, stringify!($field)), )+
                    other: map,
                }
            }
        }
    };
}

run_details! {
    /// The engine: `redis` or `valkey`.
    engine: String,
    /// The engine version: as the server reported it locally (`redis 7.0.15`), as asked for on
    /// AWS (`service default` when none was).
    engine_version: String,
    /// The AWS region of the cache and the load generators.
    region: String,
    /// The cache's node type, e.g. `cache.r7g.large`.
    node_type: String,
    /// The cache settings the run chose (`maxmemory-policy=allkeys-lru`, `parameter_group=mine`);
    /// absent for the defaults.
    cache_parameters: String,
    /// Shards of the cache (node groups).
    num_shards: u32,
    /// Replicas in each shard.
    replicas_per_shard: u32,
    /// Whether the cache encrypts traffic in transit (TLS).
    transit_encryption: bool,
    /// The load generator without its version: `builtin` or `memtier_benchmark`.
    load_generator: String,
    /// The load generators' container image.
    loadgen_image: String,
    /// Each load generator's CPU, in ECS units (1024 = one vCPU).
    loadgen_cpu: u32,
    /// Each load generator's memory, MiB.
    loadgen_memory_mib: u32,
    /// The timed load-generator command, as run (no secrets).
    command: String,
    /// The load's asked-for length, seconds.
    test_duration_secs: f64,
    /// Whether the keyspace was filled before the timed load.
    prefill: bool,
    /// The run's estimated cost, USD.
    cost_estimate_usd: f64,
    /// Where the raw outputs went: `s3://bucket/prefix`.
    s3_export: String,
    /// What probably limited the throughput, from the server and load-generator metrics.
    bottleneck_hint: String,
    /// The workload's name, in a matrix of workloads.
    workload_name: String,
    /// Commands per second the server counted over the steady-state window (local target).
    server_ops_per_sec_in_window: f64,
    /// How far the load generators' ops/s over the window are from the server's, percent.
    client_vs_server_ops_pct: f64,
}

/// A field's value as JSON. Every field type converts (a non-finite float becomes `null`, as
/// `serde_json::Value::from` makes it).
fn json_of<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Take `key` out of `map` as a `T` when its value reads as one and writes back as the same JSON;
/// otherwise leave it where it is.
fn take_typed<T: Serialize + DeserializeOwned>(
    map: &mut BTreeMap<String, Value>,
    key: &str,
) -> Option<T> {
    let v = map.get(key)?;
    let typed = T::deserialize(v).ok()?;
    if json_of(&typed) != *v {
        return None;
    }
    map.remove(key);
    Some(typed)
}

impl Serialize for RunDetails {
    /// Through a sorted map, so the keys come out in the order the free-form map wrote them.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RunDetails {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<String, Value>::deserialize(deserializer).map(Self::from_map)
    }
}

impl FromIterator<(String, Value)> for RunDetails {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        Self::from_map(iter.into_iter().collect())
    }
}
