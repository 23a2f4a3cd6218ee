//! The bounds every extraction runs within, as the node's configuration
//! writes them (`[extract]`, checked when it is read), the text sink that
//! enforces the text cap, and a reader that stops blocking work once time
//! is up.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use passerelle_core::search::{Extraction, ExtractionStatus};
use serde::{Deserialize, Serialize};

const MIB: u64 = 1024 * 1024;

/// The extractor's configuration: what it may read, keep and spend. The
/// nodes compose it as their `[extract]` section; a value out of bounds is
/// refused when the configuration is read, with what to write instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LimitsConfig", into = "LimitsConfig")]
pub struct Limits {
    /// Bytes read from a document; a bigger one is `too_large` without being
    /// read (plain text excepted: only its first `max_text` bytes are read).
    pub max_input: u64,
    /// Bytes held in memory for formats parsed whole (HTML, e-mail).
    pub max_in_memory: u64,
    /// Text kept per document, cut at a character boundary.
    pub max_text: usize,
    /// Entries in a zip container (ODF, OOXML).
    pub max_zip_entries: usize,
    /// Uncompressed bytes read out of one zip container, all entries together.
    pub max_unzipped: u64,
    /// Uncompressed to compressed ratio, per entry and for the whole file,
    /// past which a container is taken for a zip bomb.
    pub max_ratio: u64,
    /// Wall time for one extraction.
    pub time: Duration,
    /// Address space given to the parsers run as child processes
    /// (pdftotext).
    pub child_memory: u64,
    /// CPU seconds given to each of those child processes.
    pub child_cpu_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input: 256 * MIB,
            max_in_memory: 64 * MIB,
            max_text: MIB as usize,
            max_zip_entries: 10_000,
            max_unzipped: 512 * MIB,
            max_ratio: 100,
            time: Duration::from_secs(30),
            child_memory: 512 * MIB,
            child_cpu_seconds: 30,
        }
    }
}

/// [`Limits`] as written in the node's configuration: sizes in bytes,
/// times in seconds, every key optional (the default stands in).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub max_input_bytes: u64,
    pub max_in_memory_bytes: u64,
    pub max_text_bytes: u64,
    pub max_zip_entries: u64,
    pub max_unzipped_bytes: u64,
    pub max_ratio: u64,
    pub timeout_secs: u64,
    pub child_memory_bytes: u64,
    pub child_cpu_seconds: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Limits::default().into()
    }
}

impl From<Limits> for LimitsConfig {
    fn from(l: Limits) -> Self {
        Self {
            max_input_bytes: l.max_input,
            max_in_memory_bytes: l.max_in_memory,
            max_text_bytes: l.max_text as u64,
            max_zip_entries: l.max_zip_entries as u64,
            max_unzipped_bytes: l.max_unzipped,
            max_ratio: l.max_ratio,
            timeout_secs: l.time.as_secs(),
            child_memory_bytes: l.child_memory,
            child_cpu_seconds: l.child_cpu_seconds,
        }
    }
}

/// A setting of `[extract]` out of its bounds.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "extract.{key} = {value} is out of bounds: {why}; set it between {min} and {max} (default {default}), or remove it"
)]
pub struct LimitsError {
    pub key: &'static str,
    pub value: u64,
    pub min: u64,
    pub max: u64,
    pub default: u64,
    /// What goes wrong outside the bounds.
    pub why: &'static str,
}

/// The bounds of each setting, and why. Upper bounds keep a typing slip (a
/// size in bytes read as MiB, a timeout in milliseconds) from handing a
/// hostile file the whole machine.
struct Bound {
    key: &'static str,
    min: u64,
    max: u64,
    why: &'static str,
}

const GIB: u64 = 1024 * MIB;

const BOUNDS: [Bound; 9] = [
    Bound {
        key: "max_input_bytes",
        min: 1024,
        max: 64 * GIB,
        why: "every document is spooled to disk up to this size",
    },
    Bound {
        key: "max_in_memory_bytes",
        min: 1024,
        max: 4 * GIB,
        why: "HTML and e-mails are parsed whole in the node's memory",
    },
    Bound {
        key: "max_text_bytes",
        min: 1024,
        max: 16 * MIB,
        why: "the text is kept in the search index, whose writer buffers 24 MiB",
    },
    Bound {
        key: "max_zip_entries",
        min: 16,
        max: 1_000_000,
        why: "an office file holds a few dozen entries, a hostile one millions",
    },
    Bound {
        key: "max_unzipped_bytes",
        min: MIB,
        max: 64 * GIB,
        why: "a zip bomb expands to whatever this allows",
    },
    Bound {
        key: "max_ratio",
        min: 10,
        max: 10_000,
        why: "office XML often compresses 10:1, and a lower bound would take ordinary files for zip bombs",
    },
    Bound {
        key: "timeout_secs",
        min: 1,
        max: 3600,
        why: "a timeout in seconds: 0 gives no time, and one past an hour stalls the indexer",
    },
    Bound {
        key: "child_memory_bytes",
        min: 64 * MIB,
        max: 64 * GIB,
        why: "pdftotext cannot even load its libraries in less address space",
    },
    Bound {
        key: "child_cpu_seconds",
        min: 1,
        max: 3600,
        why: "CPU seconds: 0 kills the parser's child process at once",
    },
];

impl TryFrom<LimitsConfig> for Limits {
    type Error = LimitsError;

    fn try_from(c: LimitsConfig) -> Result<Self, LimitsError> {
        let default = LimitsConfig::default();
        let values = [
            (c.max_input_bytes, default.max_input_bytes),
            (c.max_in_memory_bytes, default.max_in_memory_bytes),
            (c.max_text_bytes, default.max_text_bytes),
            (c.max_zip_entries, default.max_zip_entries),
            (c.max_unzipped_bytes, default.max_unzipped_bytes),
            (c.max_ratio, default.max_ratio),
            (c.timeout_secs, default.timeout_secs),
            (c.child_memory_bytes, default.child_memory_bytes),
            (c.child_cpu_seconds, default.child_cpu_seconds),
        ];
        for (bound, (value, default)) in BOUNDS.iter().zip(values) {
            if !(bound.min..=bound.max).contains(&value) {
                return Err(LimitsError {
                    key: bound.key,
                    value,
                    min: bound.min,
                    max: bound.max,
                    default,
                    why: bound.why,
                });
            }
        }
        // In bounds, the counts fit a usize on any 64- or 32-bit target.
        let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        Ok(Limits {
            max_input: c.max_input_bytes,
            max_in_memory: c.max_in_memory_bytes,
            max_text: size(c.max_text_bytes),
            max_zip_entries: size(c.max_zip_entries),
            max_unzipped: c.max_unzipped_bytes,
            max_ratio: c.max_ratio,
            time: Duration::from_secs(c.timeout_secs),
            child_memory: c.child_memory_bytes,
            child_cpu_seconds: c.child_cpu_seconds,
        })
    }
}

/// Bytes in a readable form for reasons (`1 MiB`, `300 KiB`, `12 B`).
pub(crate) fn human(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

pub(crate) fn too_large(what: impl Into<String>) -> Extraction {
    Extraction::not(ExtractionStatus::TooLarge, what)
}

pub(crate) fn failed(what: impl Into<String>) -> Extraction {
    Extraction::not(ExtractionStatus::Failed, what)
}

pub(crate) fn timed_out() -> Extraction {
    Extraction::not(ExtractionStatus::Timeout, "extraction ran out of time")
}

/// Collects text up to the cap. Writers check [`TextSink::is_full`] to stop
/// reading early: a cut document is still `ok`, with a reason saying so.
#[derive(Debug)]
pub(crate) struct TextSink {
    text: String,
    cap: usize,
    cut: bool,
}

impl TextSink {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            text: String::new(),
            cap,
            cut: false,
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.cut
    }

    /// Appends `s`, or what fits of it; false once the cap is reached.
    pub(crate) fn push(&mut self, s: &str) -> bool {
        if self.cut {
            return false;
        }
        let room = self.cap - self.text.len();
        if s.len() <= room {
            self.text.push_str(s);
            return true;
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&s[..end]);
        self.cut = true;
        false
    }

    /// Starts a new line unless the text already ends with one.
    pub(crate) fn newline(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.push("\n");
        }
    }

    /// Separates two words unless whitespace already does.
    pub(crate) fn space(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with(char::is_whitespace) {
            self.push(" ");
        }
    }

    /// `ok` with the text, `empty` when there was only whitespace.
    pub(crate) fn finish(self) -> Extraction {
        let text = self.text.trim();
        if text.is_empty() {
            return Extraction::not(ExtractionStatus::Empty, "no text found");
        }
        let mut done = Extraction::ok(text.to_owned());
        if self.cut {
            done.reason = format!("text cut at {}", human(self.cap as u64));
        }
        done
    }
}

/// A reader that fails with `TimedOut` past a deadline, so that blocking
/// work (unzipping, XML, sheets) stops by itself once the async side has
/// given up waiting: `spawn_blocking` tasks cannot be cancelled.
#[derive(Debug)]
pub(crate) struct DeadlineReader<R> {
    inner: R,
    deadline: Instant,
}

impl<R> DeadlineReader<R> {
    pub(crate) fn new(inner: R, deadline: Instant) -> Self {
        Self { inner, deadline }
    }
}

impl<R: Read> Read for DeadlineReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if Instant::now() >= self.deadline {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "past the deadline"));
        }
        self.inner.read(buf)
    }
}

impl<R: io::Seek> io::Seek for DeadlineReader<R> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// What a blocking step's error becomes: `timeout` when the deadline has
/// passed (the error is then most likely ours), `failed` otherwise.
pub(crate) fn failure(deadline: Instant, what: impl Into<String>) -> Extraction {
    if Instant::now() >= deadline {
        timed_out()
    } else {
        failed(what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_a_char_boundary_and_says_so() {
        let mut sink = TextSink::new(5);
        assert!(sink.push("abcd"));
        assert!(!sink.push("éé"));
        let done = sink.finish();
        assert_eq!(done.status, ExtractionStatus::Ok);
        assert_eq!(done.text, "abcd");
        assert_eq!(done.reason, "text cut at 5 B");
    }

    #[test]
    fn whitespace_only_is_empty() {
        let mut sink = TextSink::new(100);
        sink.push(" \n\t ");
        assert_eq!(sink.finish().status, ExtractionStatus::Empty);
    }

    #[test]
    fn the_defaults_are_within_their_bounds_and_round_trip() {
        let config = LimitsConfig::default();
        assert_eq!(Limits::try_from(config), Ok(Limits::default()));
    }

    #[test]
    fn each_setting_out_of_bounds_is_refused_with_what_to_write() {
        type Spoil = fn(&mut LimitsConfig);
        let cases: [(&str, Spoil); 9] = [
            ("max_input_bytes", |c| c.max_input_bytes = 0),
            ("max_in_memory_bytes", |c| c.max_in_memory_bytes = 5 * GIB),
            ("max_text_bytes", |c| c.max_text_bytes = 100 * MIB),
            ("max_zip_entries", |c| c.max_zip_entries = 0),
            ("max_unzipped_bytes", |c| c.max_unzipped_bytes = 10),
            ("max_ratio", |c| c.max_ratio = 1),
            ("timeout_secs", |c| c.timeout_secs = 0),
            ("child_memory_bytes", |c| c.child_memory_bytes = MIB),
            ("child_cpu_seconds", |c| c.child_cpu_seconds = 86_400),
        ];
        for (key, spoil) in cases {
            let mut config = LimitsConfig::default();
            spoil(&mut config);
            let err = Limits::try_from(config).expect_err(key);
            assert_eq!(err.key, key);
            let message = err.to_string();
            assert!(
                message.starts_with(&format!("extract.{key} = ")),
                "{message}"
            );
            assert!(message.contains("set it between"), "{message}");
        }
    }

    #[test]
    fn bounds_themselves_are_accepted() {
        let config = LimitsConfig {
            timeout_secs: 1,
            max_ratio: 10_000,
            max_text_bytes: 16 * MIB,
            ..LimitsConfig::default()
        };
        let limits = Limits::try_from(config).expect("in bounds");
        assert_eq!(limits.time, Duration::from_secs(1));
        assert_eq!(limits.max_ratio, 10_000);
        assert_eq!(limits.max_text, 16 * MIB as usize);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human(1024 * 1024), "1 MiB");
        assert_eq!(human(3 * 1024), "3 KiB");
        assert_eq!(human(7), "7 B");
    }
}
