//! Escaping of untrusted text (task ids, failure reasons, notes, node names) for GitHub markdown,
//! bounded in length so that a hostile or chatty input cannot blow up a PR comment.

/// Escape `s` so that it renders as the literal text in a GitHub-markdown table cell or list item,
/// keeping at most `max_len` characters of output (a `…` marks a cut).
///
/// - line breaks and other control characters become spaces: a table row is one line;
/// - `|` and markdown punctuation (`\ ` * _ [ ] ~`) are backslash-escaped, which CommonMark allows
///   for any ASCII punctuation, so no code span, emphasis or link can start;
/// - `<`, `>` and `&` become entities: no raw HTML, no `<details>` or comment injection;
/// - `@` is followed by a zero-width space so that `@org/team` in a reason cannot ping anyone
///   (what Dependabot does in its PR bodies);
/// - a leading `#`, `+`, `-`, `=` or `1.` is escaped so that a list item cannot turn into a heading
///   or a nested list.
pub fn escape(s: &str, max_len: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_len) + 8);
    // (byte length, char count) of `out` after each escaped input character, to cut between them.
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut used = 0usize;
    let mut at_start = true;
    let mut prev: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let before = out.len();
        match c {
            '\r' | '\n' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c if c.is_control() => out.push(' '),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '@' => out.push_str("@&#8203;"),
            // Intraword `_` cannot open emphasis in GitHub markdown: `memtier_benchmark` stays as is.
            '_' if prev.is_some_and(char::is_alphanumeric)
                && chars.peek().is_some_and(|c| c.is_alphanumeric()) =>
            {
                out.push('_');
            }
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '+' | '-' | '=' if at_start => {
                out.push('\\');
                out.push(c);
            }
            c if at_start && c.is_ascii_digit() => {
                // `1. x` or `1) x` at the start would become an ordered list.
                out.push(c);
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    out.push(d);
                }
                // Only `1.` or `1)` followed by a space or the end opens a list (`127.0.0.1` does not).
                let mut ahead = chars.clone();
                if matches!(ahead.next(), Some('.' | ')'))
                    && ahead.next().is_none_or(char::is_whitespace)
                {
                    out.push('\\');
                    out.extend(chars.next());
                }
            }
            c => out.push(c),
        }
        if c != ' ' {
            at_start = false;
        }
        prev = Some(c);
        used += out[before..].chars().count();
        cuts.push((out.len(), used));
        if used > max_len {
            break;
        }
    }
    if used <= max_len {
        return out;
    }
    let keep = cuts
        .iter()
        .rev()
        .find(|(_, n)| *n < max_len)
        .map_or(0, |(bytes, _)| *bytes);
    out.truncate(keep);
    if max_len > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(escape("task-1", 100), "task-1");
        assert_eq!(
            escape("no operations completed: could not connect", 100),
            "no operations completed: could not connect"
        );
    }

    #[test]
    fn table_breakers_are_neutralised() {
        let e = escape("a|b\n| x | y |\r\n`code` <b>&</b>", 200);
        assert!(!e.contains('\n') && !e.contains('\r'));
        assert!(!e.contains('<') && !e.contains('>'));
        assert_eq!(e.matches('|').count(), e.matches("\\|").count());
        assert_eq!(e.matches('`').count(), e.matches("\\`").count());
        assert!(e.contains("&lt;b&gt;&amp;&lt;/b&gt;"));
    }

    #[test]
    fn mentions_headings_and_lists_are_defused() {
        assert_eq!(escape("@org/team", 100), "@&#8203;org/team");
        assert_eq!(escape("# title", 100), "\\# title");
        assert_eq!(escape("- item", 100), "\\- item");
        assert_eq!(escape("12. item", 100), "12\\. item");
        assert_eq!(escape("12 items", 100), "12 items");
        assert_eq!(escape("1.", 100), "1\\.");
        assert_eq!(escape("127.0.0.1:6379", 100), "127.0.0.1:6379");
        assert_eq!(escape("memtier_benchmark", 100), "memtier_benchmark");
        assert_eq!(escape("_x_ a_ _b", 100), "\\_x\\_ a\\_ \\_b");
        assert_eq!(escape("a-b", 100), "a-b");
        assert_eq!(
            escape("**bold** _it_ [l](u)", 100),
            "\\*\\*bold\\*\\* \\_it\\_ \\[l\\](u)"
        );
    }

    #[test]
    fn output_is_bounded() {
        let e = escape(&"<".repeat(10_000), 50);
        assert!(e.chars().count() <= 50, "{}", e.chars().count());
        assert!(e.ends_with('…'));
        assert_eq!(escape("exactly", 7), "exactly");
        assert_eq!(escape("exactly!", 7), "exactl…");
        assert_eq!(escape("", 7), "");
    }
}
