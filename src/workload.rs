//! The workload: what one load generator does — threads, connections, pipeline, the SET:GET
//! ratio, the key patterns and range, the key prefix and the value size, with memtier's meanings.
//! One type for the validated inputs, the built-in generator and the memtier command line. A leaf:
//! it imports nothing from the crate.

use std::fmt;

/// How a command picks its keys (memtier's `--key-pattern` letters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPattern {
    /// `R`: uniform over the key range.
    Random,
    /// `S`: key_minimum, key_minimum + 1, … wrapping after key_maximum (each connection on its own).
    Sequential,
    /// `P`: each connection walks its own contiguous slice of the range, wrapping inside it.
    Parallel,
    /// `G`: gaussian around the middle of the range with stddev = range / 6 (memtier's default).
    Gaussian,
}

impl KeyPattern {
    /// The pattern for a memtier letter (`R`, `S`, `P`, `G`, case-insensitive).
    pub fn from_letter(c: char) -> Option<Self> {
        match c.to_ascii_uppercase() {
            'R' => Some(Self::Random),
            'S' => Some(Self::Sequential),
            'P' => Some(Self::Parallel),
            'G' => Some(Self::Gaussian),
            _ => None,
        }
    }

    /// The memtier letter.
    pub fn letter(self) -> char {
        match self {
            Self::Random => 'R',
            Self::Sequential => 'S',
            Self::Parallel => 'P',
            Self::Gaussian => 'G',
        }
    }
}

impl fmt::Display for KeyPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.letter())
    }
}

/// The memtier-compatible workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    /// Threads per generator.
    pub threads: u32,
    /// Connections per thread.
    pub clients: u32,
    /// Requests in flight per connection.
    pub pipeline: u32,
    /// SET share of the ratio.
    pub ratio_set: u32,
    /// GET share of the ratio.
    pub ratio_get: u32,
    /// SET key pattern.
    pub key_pattern_set: KeyPattern,
    /// GET key pattern.
    pub key_pattern_get: KeyPattern,
    /// Lowest key index.
    pub key_minimum: u64,
    /// Highest key index.
    pub key_maximum: u64,
    /// Key prefix.
    pub key_prefix: String,
    /// Value size.
    pub data_size: u32,
}

impl Default for Workload {
    /// memtier 2.3.0's defaults.
    fn default() -> Self {
        Self {
            threads: 4,
            clients: 50,
            pipeline: 1,
            ratio_set: 1,
            ratio_get: 10,
            key_pattern_set: KeyPattern::Random,
            key_pattern_get: KeyPattern::Random,
            key_minimum: 0,
            key_maximum: 10_000_000,
            key_prefix: "memtier-".into(),
            data_size: 32,
        }
    }
}

impl Workload {
    /// All connections of one generator: threads × clients.
    pub fn connections(&self) -> u64 {
        u64::from(self.threads) * u64::from(self.clients)
    }
}
