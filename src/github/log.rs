//! Log lines for the Actions log: a phase opens a `::group::`, warnings and errors become
//! `::warning::`/`::error::` annotations (escaped to one line), everything else is
//! `LEVEL message` without colours or timestamps (the runner stamps every line itself).

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use super::commands::{self, annotation_line};

/// The default log filter: `info`, without octocrab's own lines (it logs every failed attempt
/// at ERROR; our retry and our warning say it once).
pub const DEFAULT_FILTER: &str = "info,octocrab=off";

/// What the run's timeline logs when a phase starts (`results::timeline`): `phase: <name>`.
const PHASE_PREFIX: &str = "phase: ";

/// The event formatter used when `GITHUB_ACTIONS=true`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ActionsFormat;

#[derive(Default)]
struct Text {
    message: String,
    fields: Vec<String>,
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields.push(format!("{}={value}", field.name()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.fields.push(format!("{}={value:?}", field.name()));
        }
    }
}

/// The lines one event becomes (pure but for the open-group flag). Only our own events
/// (`ours`) become annotations: a dependency's error about one attempt is not the step's error.
pub fn lines(level: Level, message: &str, ours: bool) -> Vec<String> {
    if ours && level == Level::ERROR {
        return vec![annotation_line(commands::Level::Error, None, message)];
    }
    if ours && level == Level::WARN {
        return vec![annotation_line(commands::Level::Warning, None, message)];
    }
    let mut out = Vec::with_capacity(2);
    if ours && level == Level::INFO {
        if let Some(phase) = message.strip_prefix(PHASE_PREFIX) {
            out.extend(commands::group_lines(phase));
        }
    }
    // A log line must not be taken for a workflow command.
    let safe = if message.starts_with("::") {
        format!(" {message}")
    } else {
        message.to_string()
    };
    out.push(format!("{:>5} {safe}", level.as_str()));
    out
}

impl<S, N> FormatEvent<S, N> for ActionsFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut t = Text::default();
        event.record(&mut t);
        let mut message = t.message;
        if !t.fields.is_empty() {
            message = format!("{message} {}", t.fields.join(" "));
        }
        let meta = event.metadata();
        let ours = meta.target().starts_with(env!("CARGO_CRATE_NAME"));
        for l in lines(*meta.level(), &message, ours) {
            writeln!(writer, "{l}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_and_errors_are_annotations_on_one_line() {
        assert_eq!(
            lines(Level::WARN, "a\nb 5%", true),
            vec!["::warning::a%0Ab 5%25"]
        );
        assert_eq!(lines(Level::ERROR, "x", true), vec!["::error::x"]);
        assert_eq!(
            lines(Level::DEBUG, "::error::x", true),
            vec!["DEBUG  ::error::x"]
        );
        assert_eq!(lines(Level::ERROR, "x", false), vec!["ERROR x"], "not ours");
    }
}
