//! memtier's `--json-out-file`: a serde model that reads only what the product uses, tolerates
//! unknown and missing fields, and turns a results section into client-result stats.

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::hdr;
use super::ParseError;
use crate::client::{CommandStats, ReportedLatency, Second, Workload};

/// The parts of a memtier JSON document the product reads.
#[derive(Debug, Default)]
pub struct MemtierJson {
    /// `configuration` (secrets are never kept: see [`Configuration`]).
    pub configuration: Option<Configuration>,
    /// `run information`.
    pub run_information: Option<RunInformation>,
    /// Result sections by title (`ALL STATS`, `RUN #1 RESULTS`, `BEST RUN RESULTS` …).
    pub sections: Vec<(String, Section)>,
}

/// `configuration`, without `authenticate` (memtier writes the password there in clear text).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Configuration {
    /// Target host.
    pub server: Option<String>,
    /// Target port.
    pub port: Option<u64>,
    /// `redis`, `resp2`, `resp3`, `memcache_text` …
    pub protocol: Option<String>,
    /// `"true"`/`"false"`.
    pub tls: Option<String>,
    /// Requests per client (0 in time mode).
    pub requests: Option<u64>,
    /// Connections per thread.
    pub clients: Option<u64>,
    /// Threads.
    pub threads: Option<u64>,
    /// Seconds (0 in request mode).
    pub test_time: Option<u64>,
    /// `SET:GET`.
    pub ratio: Option<String>,
    /// Pipeline depth.
    pub pipeline: Option<u64>,
    /// Value size.
    pub data_size: Option<u64>,
    /// Lowest key.
    pub key_minimum: Option<u64>,
    /// Highest key.
    pub key_maximum: Option<u64>,
    /// `SET:GET` key patterns.
    pub key_pattern: Option<String>,
    /// Whether a password was given; the value itself is dropped while parsing.
    #[serde(rename = "authenticate", deserialize_with = "secret_presence")]
    pub has_authenticate: Option<bool>,
}

/// Reads a secret only to learn whether one was set: the value never leaves this function.
fn secret_presence<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    Ok(v.map(|s| !s.is_empty()))
}

impl Configuration {
    /// The workload these settings describe.
    pub fn workload(&self) -> Workload {
        Workload {
            server: self.server.clone(),
            port: self.port,
            threads: self.threads,
            clients: self.clients,
            pipeline: self.pipeline,
            ratio: self.ratio.clone(),
            key_pattern: self.key_pattern.clone(),
            key_minimum: self.key_minimum,
            key_maximum: self.key_maximum,
            data_size: self.data_size,
            test_time_secs: self.test_time.filter(|&t| t > 0),
            requests: self.requests.filter(|&r| r > 0),
            tls: self.tls.as_deref().map(|t| t == "true"),
            authenticated: self.has_authenticate,
            protocol: self.protocol.clone(),
        }
    }
}

/// `run information`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RunInformation {
    /// Threads.
    #[serde(rename = "Threads")]
    pub threads: Option<u64>,
    /// Connections per thread.
    #[serde(rename = "Connections per thread")]
    pub connections_per_thread: Option<u64>,
    /// Test time in seconds (time mode).
    #[serde(rename = "Seconds")]
    pub seconds: Option<u64>,
    /// Requests per client (request mode).
    #[serde(rename = "Requests per client")]
    pub requests_per_client: Option<u64>,
}

/// `Runtime` of a section.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Runtime {
    /// Epoch ms (0 when no thread ever ran).
    #[serde(rename = "Start time")]
    pub start_time: Option<u64>,
    /// Epoch ms.
    #[serde(rename = "Finish time")]
    pub finish_time: Option<u64>,
    /// ms.
    #[serde(rename = "Total duration")]
    pub total_duration: Option<u64>,
    /// `"true"`/`"false"` (2.2.1+).
    #[serde(rename = "Interrupted")]
    pub interrupted: Option<String>,
}

/// One results section: its runtime and its type objects (`Sets`, `Gets`, `Incrs` …, `Totals`).
#[derive(Debug, Default)]
pub struct Section {
    /// `Runtime`.
    pub runtime: Runtime,
    /// Type objects in document order, by their memtier name.
    pub types: Vec<(String, TypeObject)>,
}

/// A type object: the stats of one command type, or `Totals`.
#[derive(Debug, Deserialize)]
pub struct TypeObject {
    /// Operations.
    #[serde(rename = "Count")]
    pub count: u64,
    /// Operations per second.
    #[serde(rename = "Ops/sec")]
    pub ops_per_sec: Option<f64>,
    /// GET hits per second.
    #[serde(rename = "Hits/sec", default)]
    pub hits_per_sec: Option<f64>,
    /// GET misses per second.
    #[serde(rename = "Misses/sec", default)]
    pub misses_per_sec: Option<f64>,
    /// Connection errors (2.3.0, Totals only).
    #[serde(rename = "Connection Errors", default)]
    pub connection_errors: Option<u64>,
    /// Mean latency in ms (truncated to whole ms in Totals).
    #[serde(rename = "Average Latency", default)]
    pub average_latency: Option<f64>,
    /// Max latency in ms.
    #[serde(rename = "Max Latency", default)]
    pub max_latency: Option<f64>,
    /// KiB/s in and out.
    #[serde(rename = "KB/sec", default)]
    pub kb_per_sec: Option<f64>,
    /// Per-second series.
    #[serde(rename = "Time-Serie", default)]
    pub time_serie: TimeSerie,
    /// Percentiles and the compressed histogram.
    #[serde(rename = "Percentile Latencies", default)]
    pub percentile_latencies: PercentileLatencies,
}

impl TypeObject {
    /// Turn this object into command stats. `hits_apply` says whether hits/misses mean anything here.
    pub fn into_stats(self, hits_apply: bool, is_totals: bool) -> Result<CommandStats, ParseError> {
        let histogram = match &self.percentile_latencies.compressed_histogram {
            Some(b64) => Some(hdr::decode_base64(b64)?),
            None => None,
        };
        Ok(CommandStats {
            count: self.count,
            ops_per_sec: self.ops_per_sec.unwrap_or(0.0),
            hits_per_sec: if hits_apply { self.hits_per_sec } else { None },
            misses_per_sec: if hits_apply {
                self.misses_per_sec
            } else {
                None
            },
            kb_per_sec: self.kb_per_sec,
            histogram,
            reported: ReportedLatency {
                // The Totals mean is truncated to whole ms by memtier: not worth reporting.
                mean_ms: if is_totals {
                    None
                } else {
                    self.average_latency
                },
                percentiles: self.percentile_latencies.values,
                max_ms: self.max_latency,
            },
            series: self.time_serie.0,
        })
    }
}

/// `Time-Serie`: per-second entries keyed by the second's offset, read into an ordered vector.
#[derive(Debug, Default)]
pub struct TimeSerie(pub Vec<Second>);

#[derive(Deserialize)]
struct SecondEntry {
    #[serde(rename = "Count", default)]
    count: u64,
    #[serde(rename = "Bytes RX", default)]
    bytes_rx: u64,
    #[serde(rename = "Bytes TX", default)]
    bytes_tx: u64,
    #[serde(rename = "Average Latency", default)]
    average_latency: Option<f64>,
    #[serde(rename = "Max Latency", default)]
    max_latency: Option<f64>,
}

impl<'de> Deserialize<'de> for TimeSerie {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TimeSerie;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of second offsets to per-second stats")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TimeSerie, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(64));
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let offset: u32 = key.parse().map_err(|_| {
                        de::Error::custom(format!("Time-Serie key '{key}' is not a second offset"))
                    })?;
                    let e: SecondEntry = map.next_value()?;
                    out.push(Second {
                        offset,
                        count: e.count,
                        bytes_rx: e.bytes_rx,
                        bytes_tx: e.bytes_tx,
                        mean_latency_ms: e.average_latency.filter(|_| e.count > 0),
                        max_latency_ms: e.max_latency.filter(|_| e.count > 0),
                        hits: None,
                        misses: None,
                        histogram: None,
                    });
                }
                // memtier writes keys in order; sort anyway, cheaply, in case a writer does not.
                if !out.windows(2).all(|w| w[0].offset < w[1].offset) {
                    out.sort_by_key(|s| s.offset);
                }
                Ok(TimeSerie(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// `Percentile Latencies`: `"p50.00": 0.207, …` plus `Histogram log format.Compressed Histogram`.
#[derive(Debug, Default)]
pub struct PercentileLatencies {
    /// (percentile, ms), read from keys such as `p99.90` (memtier cuts the key to 6 characters, so
    /// the number is parsed back, never built from a float).
    pub values: Vec<(f64, f64)>,
    /// Base64 of the V2-compressed histogram.
    pub compressed_histogram: Option<String>,
}

#[derive(Deserialize)]
struct HistogramLogFormat {
    #[serde(rename = "Compressed Histogram")]
    compressed: Option<String>,
}

impl<'de> Deserialize<'de> for PercentileLatencies {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PercentileLatencies;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("memtier percentile latencies")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<PercentileLatencies, A::Error> {
                let mut out = PercentileLatencies::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "Histogram log format" {
                        let h: HistogramLogFormat = map.next_value()?;
                        out.compressed_histogram = h.compressed;
                    } else if let Some(p) =
                        key.strip_prefix('p').and_then(|n| n.parse::<f64>().ok())
                    {
                        if let Some(v) = map.next_value::<Option<f64>>()? {
                            out.values.push((p, v));
                        }
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

fn is_distribution_key(key: &str) -> bool {
    // The percentile distributions ("SET", "GET", "INCR" …) are the upper-case twins of the type
    // objects ("Sets", "Gets", "Incrs" …).
    key.chars().any(|c| c.is_ascii_alphabetic()) && !key.chars().any(|c| c.is_ascii_lowercase())
}

impl<'de> Deserialize<'de> for Section {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Section;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a memtier results section")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Section, A::Error> {
                let mut out = Section::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "Runtime" {
                        out.runtime = map.next_value()?;
                    } else if key == "Active Clients" || is_distribution_key(&key) {
                        map.next_value::<IgnoredAny>()?;
                    } else {
                        let t: TypeObject = map.next_value()?;
                        out.types.push((key, t));
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for MemtierJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MemtierJson;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a memtier_benchmark JSON document")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MemtierJson, A::Error> {
                let mut out = MemtierJson::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "configuration" => out.configuration = Some(map.next_value()?),
                        "run information" => out.run_information = Some(map.next_value()?),
                        _ if is_section_title(&key) => {
                            let s: Section = map.next_value()?;
                            out.sections.push((key, s));
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

/// Whether a top-level key is a results section memtier writes.
fn is_section_title(key: &str) -> bool {
    key == "ALL STATS"
        || (key.starts_with("RUN #") && key.ends_with(" RESULTS"))
        || key == "BEST RUN RESULTS"
        || key == "WORST RUN RESULTS"
        || key.starts_with("AGGREGATED AVERAGE RESULTS")
}

/// Parse a memtier JSON document.
pub fn parse(text: &str) -> Result<MemtierJson, ParseError> {
    let doc: MemtierJson = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            ParseError::TruncatedJson
        } else {
            ParseError::InvalidJson(e.to_string())
        }
    })?;
    if doc.configuration.is_none() && doc.sections.is_empty() {
        return Err(ParseError::NotMemtier(
            "JSON without 'configuration' or a results section".into(),
        ));
    }
    Ok(doc)
}

/// The memtier type-object name turned into the product's command key: `Sets` → `set`,
/// `Gets` → `get`, `Incrs` → `incr`, `Totals` → `None`.
pub fn command_key(type_name: &str) -> Option<String> {
    if type_name == "Totals" {
        return None;
    }
    let base = type_name.strip_suffix('s').unwrap_or(type_name);
    Some(base.to_ascii_lowercase())
}

/// The sections to use, with a note on the choice: `ALL STATS`; else every `RUN #i RESULTS`; else
/// `BEST RUN RESULTS`. `AGGREGATED AVERAGE RESULTS` is never used: its histogram is empty and its
/// runtime zero.
pub fn take_sections(sections: Vec<(String, Section)>) -> (Vec<Section>, Option<String>) {
    let mut all = None;
    let mut runs = Vec::new();
    let mut best = None;
    for (k, s) in sections {
        if k == "ALL STATS" {
            all = Some(s);
        } else if k.starts_with("RUN #") {
            runs.push(s);
        } else if k == "BEST RUN RESULTS" {
            best = Some(s);
        }
    }
    if let Some(s) = all {
        return (vec![s], None);
    }
    if !runs.is_empty() {
        let note = (runs.len() > 1).then(|| format!("{} runs (--run-count) combined", runs.len()));
        return (runs, note);
    }
    match best {
        Some(s) => (
            vec![s],
            Some("only BEST/WORST/AGGREGATED sections present (no --print-all-runs): used BEST RUN RESULTS".into()),
        ),
        None => (Vec::new(), None),
    }
}
