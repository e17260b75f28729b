//! memtier's HDR outputs: the base64 V2-compressed histograms (in the JSON and in `.hgrm` interval
//! logs), decoded into histograms with memtier's bounds.

use base64::Engine as _;
use hdrhistogram::serialization::Deserializer;

use super::ParseError;
use crate::client::{new_histogram, LatencyHistogram};

/// Decode a base64 `HISTF…` string into a histogram in µs with memtier's bounds.
pub fn decode_base64(b64: &str) -> Result<LatencyHistogram, ParseError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| ParseError::Histogram(format!("invalid base64: {e}")))?;
    let decoded: LatencyHistogram = Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| ParseError::Histogram(format!("{e:?}")))?;
    // Re-home into the product's canonical bounds so any two histograms can be added.
    let mut h = new_histogram();
    h.add(&decoded)
        .map_err(|e| ParseError::Histogram(format!("histogram out of range: {e:?}")))?;
    Ok(h)
}

/// One interval of an HDR interval log (`*.hgrm`).
#[derive(Debug)]
pub struct HgrmInterval {
    /// Interval start, Unix seconds (memtier writes ms precision).
    pub start_secs: f64,
    /// Interval end: memtier writes an absolute end timestamp here, not a length.
    pub end_secs: f64,
    /// The decoded histogram (µs).
    pub histogram: LatencyHistogram,
}

/// Parse memtier's `.hgrm` interval log. memtier writes one interval covering the whole run; its
/// `#[StartTime: …]` human date is malformed and ignored.
pub fn parse_hgrm(text: &str) -> Result<Vec<HgrmInterval>, ParseError> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('"') {
            continue;
        }
        // Optional leading "Tag=…," (HdrHistogram log format 1.3) is not written by memtier, but accept it.
        let line = match line.strip_prefix("Tag=") {
            Some(rest) => rest.split_once(',').map_or(rest, |(_, r)| r),
            None => line,
        };
        let mut cols = line.splitn(4, ',');
        let (Some(start), Some(end), Some(_max), Some(hist)) =
            (cols.next(), cols.next(), cols.next(), cols.next())
        else {
            return Err(ParseError::Histogram(format!(
                "interval log line has fewer than 4 columns: '{line}'"
            )));
        };
        let start_secs: f64 = start
            .parse()
            .map_err(|_| ParseError::Histogram(format!("bad interval start '{start}'")))?;
        let end_secs: f64 = end
            .parse()
            .map_err(|_| ParseError::Histogram(format!("bad interval end '{end}'")))?;
        out.push(HgrmInterval {
            start_secs,
            end_secs,
            histogram: decode_base64(hist)?,
        });
    }
    Ok(out)
}

/// Which histogram an `.hgrm` file name holds: `memtier_hdr_FULL_RUN_1.hgrm` → (`None`, 1),
/// `memtier_hdr_GET_command_run_1.hgrm` → (`Some("get")`, 1). The prefix is the user's
/// `--hdr-file-prefix` and is ignored.
pub fn classify_hgrm_name(file_name: &str) -> Option<(Option<String>, u32)> {
    let stem = file_name.strip_suffix(".hgrm")?;
    if let Some((_, run)) = stem.rsplit_once("_FULL_RUN_") {
        return Some((None, run.parse().ok()?));
    }
    let (head, run) = stem.rsplit_once("_command_run_")?;
    let run = run.parse().ok()?;
    let (_, cmd) = head.rsplit_once('_')?;
    Some((Some(cmd.to_ascii_lowercase()), run))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_hgrm_names() {
        assert_eq!(
            classify_hgrm_name("memtier_hdr_FULL_RUN_1.hgrm"),
            Some((None, 1))
        );
        assert_eq!(
            classify_hgrm_name("memtier_hdr_GET_command_run_2.hgrm"),
            Some((Some("get".into()), 2))
        );
        assert_eq!(
            classify_hgrm_name("my_prefix_INCR_command_run_1.hgrm"),
            Some((Some("incr".into()), 1))
        );
        assert_eq!(classify_hgrm_name("memtier_hdr_FULL_RUN_1.txt"), None);
    }

    #[test]
    fn rejects_garbage() {
        assert!(decode_base64("not base64!").is_err());
        assert!(parse_hgrm("1,2\n").is_err());
    }
}
