//! The `BlobStore` port: content-addressed, streamed, durable.

use std::fmt;
use std::ops::Range;
use std::pin::Pin;
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use futures_core::Stream;

use crate::hash::ContentHash;

/// A stream of bytes: how content enters and leaves every port. Never a whole
/// file in memory.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// What the store knows of a blob after it is durably written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobInfo {
    pub hash: ContentHash,
    pub size: u64,
}

/// Failures of a blob store. The adapter keeps the cause as a boxed source.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {0} not found")]
    NotFound(ContentHash),
    /// The content exceeded the size limit given to `put`; nothing was kept.
    #[error("content larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The bytes on disk no longer hash to their name.
    #[error("blob {expected} is corrupt: its content hashes to {actual}")]
    Corrupt {
        expected: ContentHash,
        actual: ContentHash,
    },
    /// The requested range lies outside the blob.
    #[error("range {start}..{end} not satisfiable for a blob of {size} bytes")]
    BadRange { start: u64, end: u64, size: u64 },
    /// The incoming stream failed (client cut the upload): nothing was kept.
    #[error("the incoming content stream failed")]
    Interrupted(#[source] std::io::Error),
    #[error("blob storage failure")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Content-addressed storage of immutable blobs.
///
/// Contract (checked by `passerelle_blobs::contract` against every store):
/// - `put` is idempotent: identical content is stored once; a second `put` of
///   the same bytes returns the same `BlobInfo`.
/// - When `put` returns `Ok`, the blob is durable (fsynced, renamed, directory
///   fsynced). On any error, including a cut input stream or `TooLarge`, nothing
///   is left behind (no temporary file).
/// - `put` is not cancel-safe in the sense that a dropped future may leave a
///   temporary file until the next `sweep_temporaries`; it never leaves a
///   half-written blob under its final name.
#[async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// Streams `content` into the store, hashing it on the way.
    /// `limit`: maximum number of bytes accepted (`TooLarge` past it).
    async fn put(&self, content: ByteStream, limit: Option<u64>) -> Result<BlobInfo, BlobError>;

    /// Streams a blob, or the `range` of it (end exclusive).
    async fn get(
        &self,
        hash: &ContentHash,
        range: Option<Range<u64>>,
    ) -> Result<ByteStream, BlobError>;

    /// The size of a stored blob, or `None` when absent.
    async fn size(&self, hash: &ContentHash) -> Result<Option<u64>, BlobError>;

    /// Re-reads and re-hashes a blob: `Corrupt` when it no longer matches.
    async fn verify(&self, hash: &ContentHash) -> Result<(), BlobError>;

    /// When the blob was last stored: its first `put`, or a later `put` of
    /// the same content (deduplicated). `None` when absent. Garbage
    /// collection spares recent blobs, whose version row may not be
    /// committed yet.
    async fn stored_at(&self, hash: &ContentHash) -> Result<Option<SystemTime>, BlobError>;

    /// Every stored hash, in no particular order.
    async fn list(&self) -> Result<Vec<ContentHash>, BlobError>;

    /// Removes a blob. Removing an absent blob is not an error (idempotent).
    async fn delete(&self, hash: &ContentHash) -> Result<(), BlobError>;

    /// Removes temporary files left by interrupted writes (at startup).
    async fn sweep_temporaries(&self) -> Result<u64, BlobError>;
}
