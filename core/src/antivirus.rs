//! The antivirus as core sees it (ADR 0010): a port that reads a content
//! (a stream, or a local file) and says whether it is infected. Core
//! decides what a verdict means for an operation (`service::apply`); the
//! adapter (`adapters/clamav`) speaks clamd's INSTREAM, or FILDES for a
//! file. Only the internal node has one: contractors' uploads are scanned
//! there before they are applied.

use std::fmt;

use async_trait::async_trait;

use crate::blob::Readable;

/// What the scanner found in a content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing known to the scanner's signatures.
    Clean,
    /// A signature matched; `signature` is its name as the scanner gives it
    /// (`Win.Test.EICAR_HDB-1`).
    Infected { signature: String },
}

/// Why the scanner gave no verdict.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// No scanner answered (down, refused, timed out): the content was not
    /// judged, and may be once the scanner is back.
    #[error("the antivirus cannot be reached: {0}")]
    Unavailable(String),
    /// The content is longer than the scanner accepts in one stream: it
    /// cannot be judged whatever the retries.
    #[error("content larger than the antivirus accepts ({limit} bytes)")]
    TooLarge { limit: u64 },
    /// The scanner answered with an error of its own (out of memory, a
    /// database being reloaded…): not judged, possibly transient.
    #[error("the antivirus failed: {0}")]
    Failed(String),
    /// The content stream itself failed (a blob that vanished or could not
    /// be read): not the scanner's fault.
    #[error("the content could not be read for scanning")]
    Content(#[source] std::io::Error),
}

/// Scans content for malware.
#[async_trait]
pub trait Antivirus: Send + Sync + fmt::Debug {
    /// Hands `content` to the scanner and returns its verdict: a stream is
    /// streamed, a local file may be handed over as it is (clamd's
    /// descriptor passing). The whole content is never held in memory. Idempotent (scanning twice answers
    /// the same, signatures unchanged); a dropped future abandons the scan
    /// (cancel-safe: nothing is kept anywhere).
    ///
    /// Errors: `Unavailable` when no scanner answers within the adapter's
    /// timeout, `TooLarge` past its stream limit, `Failed` when it
    /// answered an error, `Content` when `content` failed.
    async fn scan(&self, content: Readable) -> Result<Verdict, ScanError>;
}
