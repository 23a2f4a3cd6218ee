//! The bounds every extraction runs within, the text sink that enforces the
//! text cap, and a reader that stops blocking work once time is up.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use passerelle_core::search::{Extraction, ExtractionStatus};

const MIB: u64 = 1024 * 1024;

/// The extractor's configuration: what it may read, keep and spend.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Address space given to pdftotext.
    pub pdf_memory: u64,
    /// CPU seconds given to pdftotext.
    pub pdf_cpu_seconds: u64,
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
            pdf_memory: 512 * MIB,
            pdf_cpu_seconds: 30,
        }
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
    fn sizes_read_well() {
        assert_eq!(human(1024 * 1024), "1 MiB");
        assert_eq!(human(3 * 1024), "3 KiB");
        assert_eq!(human(7), "7 B");
    }
}
