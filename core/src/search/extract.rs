//! The text extraction port (ADR 0006 §3): from a version's bytes to the
//! text the index holds, with a status that says what happened. A failed
//! extraction is a status, never an empty entry passed off as a document
//! without words: it is shown, listed to administrators and retried.

use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::blob::ByteStream;
use crate::hash::ContentHash;
use crate::ids::DocumentId;
use crate::model::{Page, Paged};
use crate::ports::RepoError;

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

/// What the node knows of the extraction of one content, whatever the
/// number of documents and versions holding it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtractionRecord {
    pub hash: ContentHash,
    pub status: ExtractionStatus,
    pub reason: String,
    /// Attempts made so far (1 after the first).
    pub attempts: u32,
    /// When the last attempt ended.
    pub tried_at: OffsetDateTime,
    /// When to try again (retryable statuses only), `None` when done or
    /// given up.
    pub next_try: Option<OffsetDateTime>,
}

/// The extraction statuses, per content hash (ADR 0006 §3): a port of its
/// own rather than more methods on the repository's transaction, since
/// they are derived data written outside the revisioned history (no
/// revision, no audit entry, not replicated: each node extracts what it
/// holds). The SQL repository and the in-memory fake implement it beside
/// [`crate::ports::Repository`].
#[async_trait]
pub trait ExtractionLog: Send + Sync + fmt::Debug {
    /// Records an attempt's outcome, replacing the earlier one.
    async fn record(&self, record: &ExtractionRecord) -> Result<(), RepoError>;

    /// Records several outcomes in one write (one transaction on SQL): all
    /// of them or, on error, none. Each replaces the hash's earlier record;
    /// a hash given twice keeps the later one. What the indexer calls once
    /// per batch, since a commit per content (an fsync on SQLite, taken
    /// behind the writer lock) cost more than the extraction of a small
    /// text. Like `record`, it must not be called while holding a write
    /// transaction.
    async fn record_all(&self, records: &[ExtractionRecord]) -> Result<(), RepoError>;

    /// The record of `hash`, if it was ever extracted.
    async fn extraction(&self, hash: &ContentHash) -> Result<Option<ExtractionRecord>, RepoError>;

    /// Records whose `next_try` is at or before `now`, soonest first, at
    /// most `limit`.
    async fn due(
        &self,
        now: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<ExtractionRecord>, RepoError>;

    /// Records whose status is neither `ok` nor `empty`, last tried first
    /// (ties by hash), paged: what administrators review.
    async fn problems(&self, page: Page) -> Result<Paged<ExtractionRecord>, RepoError>;

    /// How many records have each status (statuses with none are absent),
    /// counted, not loaded: the metrics read it at each scrape.
    async fn count_by_status(&self) -> Result<Vec<(ExtractionStatus, u64)>, RepoError>;

    /// Documents not purged whose current version holds `hash` (trashed
    /// ones included), by id:
    /// those to index again when the content's extraction changes.
    async fn holders(&self, hash: &ContentHash) -> Result<Vec<DocumentId>, RepoError>;
}
