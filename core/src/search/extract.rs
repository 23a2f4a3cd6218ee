//! The text extraction port (ADR 0006 §3): from a version's bytes to the
//! text the index holds, with a status that says what happened. A failed
//! extraction is a status, never an empty entry passed off as a document
//! without words: it is shown, listed to administrators and retried.

use std::fmt;

use async_trait::async_trait;

use crate::blob::ByteStream;

/// What came of an extraction. Stored per content hash; names are stable
/// (API, metrics labels, database).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExtractionStatus {
    /// Text found.
    Ok,
    /// A readable file with no text (a scanned PDF, an empty sheet).
    Empty,
    /// Past a limit (size, entries, expansion ratio): not read.
    TooLarge,
    /// Protected by a password.
    Encrypted,
    /// A format Passerelle does not read (images, binaries).
    Unsupported,
    /// Unreadable (truncated, corrupt) or the extractor broke: retried.
    Failed,
    /// Took longer than allowed: retried.
    Timeout,
}

impl ExtractionStatus {
    pub const ALL: [ExtractionStatus; 7] = [
        ExtractionStatus::Ok,
        ExtractionStatus::Empty,
        ExtractionStatus::TooLarge,
        ExtractionStatus::Encrypted,
        ExtractionStatus::Unsupported,
        ExtractionStatus::Failed,
        ExtractionStatus::Timeout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExtractionStatus::Ok => "ok",
            ExtractionStatus::Empty => "empty",
            ExtractionStatus::TooLarge => "too_large",
            ExtractionStatus::Encrypted => "encrypted",
            ExtractionStatus::Unsupported => "unsupported",
            ExtractionStatus::Failed => "failed",
            ExtractionStatus::Timeout => "timeout",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether trying again later may give another answer (the extractor
    /// broke or ran out of time, not the file's nature).
    pub fn is_retryable(self) -> bool {
        matches!(self, ExtractionStatus::Failed | ExtractionStatus::Timeout)
    }
}

/// What an extractor gives back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extraction {
    pub status: ExtractionStatus,
    /// Why, in a few words for people (`"zip entry content.xml is
    /// encrypted"`, `"pdftotext: exit status 1: Syntax Error…"`); empty
    /// when `Ok`, or says what was cut (`"text cut at 1 MiB"`).
    pub reason: String,
    /// The text (capped by the extractor's limit), empty unless `Ok`.
    pub text: String,
}

impl Extraction {
    pub fn ok(text: String) -> Self {
        Self {
            status: ExtractionStatus::Ok,
            reason: String::new(),
            text,
        }
    }

    pub fn not(status: ExtractionStatus, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
            text: String::new(),
        }
    }
}

/// What to extract: a version's content and what is known of it.
pub struct ExtractInput {
    /// The version's media type as stored (may be generic,
    /// `application/octet-stream`): extractors also look at `name`.
    pub media_type: String,
    /// The document's name (its extension).
    pub name: String,
    pub size: u64,
    pub content: ByteStream,
}

impl fmt::Debug for ExtractInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtractInput")
            .field("media_type", &self.media_type)
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Reads text out of documents. Never fails: every outcome is an
/// [`Extraction`] with its status. Its limits (bytes read, entries, time,
/// text kept) are the adapter's configuration.
#[async_trait]
pub trait TextExtractor: Send + Sync + fmt::Debug {
    async fn extract(&self, input: ExtractInput) -> Extraction;
}
