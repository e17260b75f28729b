//! Decoding what a task printed into its log stream (the inverse of [`super::script`]): the files
//! between `ECP-FILE` and `ECP-END`, each checked against its line count and SHA-256 and gunzipped,
//! plus memtier's exit status — into the [`TaskOutputs`] the memtier parsers judge. Lines that are
//! not frames are ignored; a damaged file is reported, never guessed. Pure.

use std::io::Read as _;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::script::{MARK_BEGIN, MARK_DATA, MARK_END, MARK_EXIT, MARK_FILE};
use crate::memtier::TaskOutputs;

/// Everything a task shipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shipped {
    /// `prefill` or `timed`, from the `ECP-BEGIN` line.
    pub mode: Option<String>,
    /// memtier's exit status (124: the hard timeout hit).
    pub exit_code: Option<i32>,
    /// Files that arrived whole: (name, content).
    pub files: Vec<(String, Vec<u8>)>,
    /// Whether `ECP-END` was seen (the task printed everything).
    pub complete: bool,
    /// What went wrong with the frames (damaged or cut-off files).
    pub problems: Vec<String>,
}

struct Pending {
    name: String,
    lines: usize,
    sha256: String,
    data: String,
    seen: usize,
}

fn finish(p: Pending, out: &mut Shipped) {
    if p.seen != p.lines {
        out.problems.push(format!(
            "file '{}': {} of {} lines arrived",
            p.name, p.seen, p.lines
        ));
        return;
    }
    let gz = match base64::engine::general_purpose::STANDARD.decode(p.data.as_bytes()) {
        Ok(b) => b,
        Err(e) => {
            out.problems
                .push(format!("file '{}': bad base64: {e}", p.name));
            return;
        }
    };
    let sum: String = Sha256::digest(&gz)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if sum != p.sha256 {
        out.problems
            .push(format!("file '{}': checksum mismatch", p.name));
        return;
    }
    let mut content = Vec::new();
    if let Err(e) = flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut content) {
        out.problems
            .push(format!("file '{}': bad gzip: {e}", p.name));
        return;
    }
    out.files.push((p.name, content));
}

/// Decode the lines of one log stream.
pub fn decode<'a>(lines: impl IntoIterator<Item = &'a str>) -> Shipped {
    let mut out = Shipped::default();
    let mut cur: Option<Pending> = None;
    for raw in lines {
        let line = raw.trim_end_matches(['\r', '\n']);
        if let Some(d) = line
            .strip_prefix(MARK_DATA)
            .and_then(|r| r.strip_prefix(' '))
        {
            if let Some(p) = cur.as_mut() {
                p.data.push_str(d.trim());
                p.seen += 1;
            }
            continue;
        }
        let starts_frame = line.starts_with(MARK_FILE)
            || line.starts_with(MARK_END)
            || line.starts_with(MARK_BEGIN)
            || line.starts_with(MARK_EXIT);
        if !starts_frame {
            continue;
        }
        if let Some(p) = cur.take() {
            finish(p, &mut out);
        }
        let mut words = line.split_whitespace();
        match words.next() {
            Some(w) if w == MARK_BEGIN => out.mode = words.nth(1).map(str::to_string),
            Some(w) if w == MARK_EXIT => out.exit_code = words.next().and_then(|c| c.parse().ok()),
            Some(w) if w == MARK_END => out.complete = true,
            Some(w) if w == MARK_FILE => {
                let (Some(name), Some(n), Some(sum)) = (words.next(), words.next(), words.next())
                else {
                    out.problems
                        .push(format!("unreadable frame header '{line}'"));
                    continue;
                };
                let Ok(lines) = n.parse() else {
                    out.problems
                        .push(format!("unreadable frame header '{line}'"));
                    continue;
                };
                cur = Some(Pending {
                    name: name.to_string(),
                    lines,
                    sha256: sum.to_ascii_lowercase(),
                    data: String::new(),
                    seen: 0,
                });
            }
            _ => {}
        }
    }
    if let Some(p) = cur.take() {
        finish(p, &mut out);
    }
    if !out.complete {
        out.problems
            .push("the task's output ends before its last frame (ECP-END)".into());
    }
    out
}

impl Shipped {
    /// The outputs as the memtier parsers take them.
    pub fn task_outputs(&self, id: &str) -> TaskOutputs {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let mut t = TaskOutputs {
            id: id.to_string(),
            exit_code: self.exit_code,
            ..TaskOutputs::default()
        };
        for (name, content) in &self.files {
            match name.as_str() {
                "memtier.json" => t.json = Some(text(content)),
                "stdout.txt" => t.stdout = Some(text(content)),
                "stderr.txt" => t.stderr = Some(text(content)),
                n if n.ends_with(".hgrm") => t.hgrm.push((name.clone(), text(content))),
                _ => {}
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(name: &str, content: &[u8]) -> Vec<String> {
        let mut gz = Vec::new();
        {
            use std::io::Write as _;
            let mut e = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::default());
            e.write_all(content).unwrap();
            e.finish().unwrap();
        }
        let b64 = base64::engine::general_purpose::STANDARD.encode(&gz);
        let chunks: Vec<&str> = b64
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let sum: String = Sha256::digest(&gz)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut out = vec![format!("ECP-FILE {name} {} {sum}", chunks.len())];
        out.extend(chunks.iter().map(|c| format!("ECP-D {c}")));
        out
    }

    #[test]
    fn files_round_trip_and_damage_is_reported() {
        let big: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut lines = vec![
            "noise".to_string(),
            "ECP-BEGIN v1 timed".into(),
            "ECP-EXIT 0".into(),
        ];
        lines.extend(frame("memtier.json", b"{\"ok\":1}"));
        lines.extend(frame("memtier_hdr_FULL_RUN_1.hgrm", &big));
        let mut bad = frame("stdout.txt", b"hello");
        bad[1] = "ECP-D AAAA".into();
        lines.extend(bad);
        lines.push("ECP-END".into());
        let s = decode(lines.iter().map(String::as_str));
        assert_eq!(s.mode.as_deref(), Some("timed"));
        assert_eq!(s.exit_code, Some(0));
        assert!(s.complete);
        assert_eq!(s.files.len(), 2);
        assert_eq!(s.files[1].1, big);
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        assert!(s.problems[0].contains("stdout.txt"));
        let t = s.task_outputs("t1");
        assert_eq!(t.json.as_deref(), Some("{\"ok\":1}"));
        assert_eq!(t.hgrm.len(), 1);
        assert_eq!(t.exit_code, Some(0));
    }

    #[test]
    fn a_cut_off_stream_is_incomplete() {
        let mut lines = vec!["ECP-BEGIN v1 timed".to_string()];
        let f = frame("memtier.json", b"{}");
        lines.extend(f[..1].iter().cloned());
        let s = decode(lines.iter().map(String::as_str));
        assert!(!s.complete && s.files.is_empty());
        assert_eq!(s.problems.len(), 2, "{:?}", s.problems);
    }
}
