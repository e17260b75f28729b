//! Workflow commands (`::add-mask::`, `::group::`, `::warning::`, `::error::`): their escaping
//! (pure) and one writer on stderr, the stream our logs use, so that groups bracket the log lines
//! they belong to. The runner parses commands from a container's stdout and stderr alike.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a `::group::` is open (the runner nests nothing: a new group closes the last one).
static GROUP_OPEN: AtomicBool = AtomicBool::new(false);

/// Escape a command's message: `%` first, then CR and LF (the runner's `_escapeDataMappings`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a command's property value (`title=`, `file=`): the data mappings plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// An annotation's severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `::notice::`
    Notice,
    /// `::warning::`
    Warning,
    /// `::error::`
    Error,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Self::Notice => "notice",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// The line of an annotation, e.g. `::warning title=PR comment::message` (without the newline).
pub fn annotation_line(level: Level, title: Option<&str>, message: &str) -> String {
    match title {
        Some(t) => format!(
            "::{} title={}::{}",
            level.command(),
            escape_property(t),
            escape_data(message)
        ),
        None => format!("::{}::{}", level.command(), escape_data(message)),
    }
}

/// The lines of `::add-mask::` for a secret: one per line of it (the runner masks line by line),
/// none for an empty one.
pub fn mask_lines(secret: &str) -> Vec<String> {
    secret
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| format!("::add-mask::{}", escape_data(l)))
        .collect()
}

fn emit(lines: &[String]) {
    let mut err = std::io::stderr().lock();
    for l in lines {
        // Nothing sensible can be done when stderr is gone.
        let _ = writeln!(err, "{l}");
    }
}

/// Ask the runner to mask a secret in every later log line. Call before anything could print it.
pub fn add_mask(secret: &str) {
    emit(&mask_lines(secret));
}

/// Print an annotation.
pub fn annotate(level: Level, title: Option<&str>, message: &str) {
    emit(&[annotation_line(level, title, message)]);
}

/// The lines that open a group named `title`, closing the open one first.
pub fn group_lines(title: &str) -> Vec<String> {
    let mut lines = Vec::with_capacity(2);
    if GROUP_OPEN.swap(true, Ordering::SeqCst) {
        lines.push("::endgroup::".to_string());
    }
    lines.push(format!("::group::{}", escape_data(title)));
    lines
}

/// Open a group (closing the open one).
pub fn group(title: &str) {
    emit(&group_lines(title));
}

/// Close the open group, if any.
pub fn end_group() {
    if GROUP_OPEN.swap(false, Ordering::SeqCst) {
        emit(&["::endgroup::".to_string()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_percent_first_then_line_breaks() {
        assert_eq!(escape_data("100% a\r\nb"), "100%25 a%0D%0Ab");
        assert_eq!(escape_data("%0A"), "%250A");
        assert_eq!(escape_property("a:b,c\n"), "a%3Ab%2Cc%0A");
    }

    #[test]
    fn annotations_keep_one_line() {
        assert_eq!(
            annotation_line(
                Level::Warning,
                Some("PR comment: 403"),
                "no\naccess ::error::x"
            ),
            "::warning title=PR comment%3A 403::no%0Aaccess ::error::x"
        );
        assert_eq!(annotation_line(Level::Error, None, "x"), "::error::x");
    }

    #[test]
    fn masks_every_line_of_a_secret() {
        assert_eq!(
            mask_lines("a\nb\n\n"),
            vec!["::add-mask::a".to_string(), "::add-mask::b".to_string()]
        );
        assert!(mask_lines("").is_empty());
    }
}
