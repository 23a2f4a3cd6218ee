//! The `[log]` configuration of a node and the subscriber built from it:
//! to stderr, `text` for people or `json` for collectors, colours only at a
//! terminal.

use std::io::IsTerminal;

use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;

/// How the node logs (`[log]` in its configuration).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` for people, `json` for production log collectors.
    pub format: LogFormat,
    /// A tracing filter such as `info,passerelle_sql=debug`; set with
    /// `[log] filter` or `PASSERELLE_LOG__FILTER`.
    pub filter: String,
}

/// The shape of log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: "info".into(),
        }
    }
}

/// Installs the process's subscriber, writing to stderr (stdout is for
/// what commands print and for the ready line scripts wait for).
///
/// A serving node logs per `log.filter`; other commands log warnings only,
/// so that their output stays readable. `quiet` are directives appended to
/// the filter to silence chatty dependencies (e.g.
/// `passerelle_sql::QUIET_LOG_DIRECTIVES`). Does nothing when a subscriber
/// is already installed (tests starting several nodes in one process).
pub fn init_tracing(log: &LogConfig, serving: bool, quiet: &[&str]) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(log, serving, quiet))
        .with_ansi(colours(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The filter of [`init_tracing`]; an invalid `log.filter` falls back to
/// `info` rather than leaving the node without logs.
fn filter(log: &LogConfig, serving: bool, quiet: &[&str]) -> EnvFilter {
    let wanted = if serving { log.filter.as_str() } else { "warn" };
    let mut filter = EnvFilter::try_new(wanted).unwrap_or_else(|_| EnvFilter::new("info"));
    for directive in quiet {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    filter
}

/// Colours only for a person at a terminal: escape codes would litter log
/// files and journald.
fn colours(stream: &impl IsTerminal) -> bool {
    stream.is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serving_node_logs_per_its_filter_and_commands_only_warnings() {
        let log = LogConfig {
            filter: "debug,hyper=info".into(),
            ..LogConfig::default()
        };
        assert_eq!(filter(&log, true, &[]).to_string(), "hyper=info,debug");
        assert_eq!(filter(&log, false, &[]).to_string(), "warn");
    }

    #[test]
    fn an_invalid_filter_falls_back_to_info() {
        let log = LogConfig {
            filter: "info,=[".into(),
            ..LogConfig::default()
        };
        assert_eq!(filter(&log, true, &[]).to_string(), "info");
    }

    #[test]
    fn quiet_directives_are_added_and_invalid_ones_skipped() {
        let f = filter(&LogConfig::default(), true, &["sqlx=warn", "=["]).to_string();
        assert!(f.contains("sqlx=warn"), "{f}");
        assert!(f.contains("info"), "{f}");
        assert!(!f.contains('['), "{f}");
    }

    #[test]
    fn no_colours_when_writing_to_a_file() -> std::io::Result<()> {
        let file = tempfile::tempfile()?;
        assert!(!colours(&file));
        Ok(())
    }

    #[test]
    fn the_format_reads_as_lowercase_and_refuses_others() {
        let json: LogConfig =
            serde_json::from_str(r#"{"format": "json"}"#).expect("json is a format");
        assert_eq!(json.format, LogFormat::Json);
        assert_eq!(json.filter, "info", "the default filter");
        assert!(serde_json::from_str::<LogConfig>(r#"{"format": "xml"}"#).is_err());
        assert!(serde_json::from_str::<LogConfig>(r#"{"colour": true}"#).is_err());
    }
}
