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

/// A stored blob as a reader may take it whole: its bytes as a stream, or,
/// from a store that keeps blobs as local files, the file itself opened
/// for reading. A reader that can be handed a file (clamd through its
/// descriptor, ADR 0010 §5) then reads it where it lies: no copy down a
/// socket, no temporary file on the other side. Every reader must accept
/// both: a store that is not a local filesystem only ever streams.
pub enum Readable {
    Stream(ByteStream),
    File(std::fs::File),
}

impl fmt::Debug for Readable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Readable::Stream(_) => f.write_str("Readable::Stream"),
            Readable::File(file) => f.debug_tuple("Readable::File").field(file).finish(),
        }
    }
}

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
    /// A resumable write started at `offset`, but the store keeps `kept`
    /// bytes of that blob: resume from `kept`.
    #[error("resume at {kept}, not at {offset}")]
    OutOfPlace { offset: u64, kept: u64 },
    /// Another resumable write of the same blob is running.
    #[error("blob {0} is being received already")]
    Busy(ContentHash),
    /// No room left for this write: the disk or quota is full, or the
    /// free space is below the floor the store keeps for the database and
    /// for purges. Nothing of a `put` is kept; a resumable write keeps its
    /// durable prefix, as after a cut. `cause` is short and says where, for
    /// operators ("disk full (ENOSPC) on /var/lib/passerelle/edge").
    #[error("storage full: {cause}")]
    Full {
        cause: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    #[error("blob storage failure")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Room left where a store keeps its blobs ([`BlobStore::room`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// Bytes this node may still write there.
    pub free: u64,
    /// Below this many free bytes the store refuses new content (`Full`).
    pub floor: u64,
    /// Where the blobs are (a directory), for operators.
    pub place: String,
    /// The store refused content for lack of room, and has not gained room
    /// since: above the floor, but not by enough for what it is sent.
    pub refusing: bool,
}

impl Room {
    /// Whether the store is short of room: below its floor, or refusing
    /// what it is sent.
    pub fn is_short(&self) -> bool {
        self.free < self.floor || self.refusing
    }
}

/// "1.5 MiB free, floor 2.0 MiB": for people, without the place (probes
/// are public).
impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
        write!(
            f,
            "{:.1} MiB free, floor {:.1} MiB",
            mib(self.free),
            mib(self.floor)
        )?;
        if self.refusing {
            f.write_str(", content refused for lack of room")?;
        }
        Ok(())
    }
}

/// How a resumable write ended ([`BlobStore::put_resumable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resumed {
    /// All the bytes arrived, hash to the expected name, and are durable
    /// as a blob (or the blob was there already).
    Stored(BlobInfo),
    /// The content stopped early: `kept` bytes are durable, and the next
    /// write resumes from there.
    Incomplete { kept: u64 },
}

/// How much of a blob a store holds ([`BlobStore::holdings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holding {
    /// The blob is stored whole, with this size.
    Stored(u64),
    /// Not stored: a resumable write kept this many bytes (0 when none).
    Partial(u64),
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
    /// `Full` when the store runs out of room, before or while writing.
    async fn put(&self, content: ByteStream, limit: Option<u64>) -> Result<BlobInfo, BlobError>;

    /// Streams a blob, or the `range` of it (end exclusive).
    async fn get(
        &self,
        hash: &ContentHash,
        range: Option<Range<u64>>,
    ) -> Result<ByteStream, BlobError>;

    /// A whole blob as this store can best hand it (`NotFound` when
    /// absent). The default streams it; a store of local files overrides
    /// it with the opened file.
    async fn open(&self, hash: &ContentHash) -> Result<Readable, BlobError> {
        Ok(Readable::Stream(self.get(hash, None).await?))
    }

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
    /// Partial blobs of resumable writes are kept: a later write resumes
    /// them.
    async fn sweep_temporaries(&self) -> Result<u64, BlobError>;

    /// How many bytes of the blob `hash` a resumable write has kept so far
    /// (0 when none; the blob's size once it is stored).
    async fn partial_len(&self, hash: &ContentHash) -> Result<u64, BlobError>;

    /// What the store holds of each blob, in the order asked: have/want
    /// of replication asks for thousands at once. The default asks
    /// [`BlobStore::size`] and [`BlobStore::partial_len`] blob by blob; a
    /// store overrides it with one pass.
    async fn holdings(&self, hashes: &[ContentHash]) -> Result<Vec<Holding>, BlobError> {
        let mut out = Vec::with_capacity(hashes.len());
        for hash in hashes {
            out.push(match self.size(hash).await? {
                Some(size) => Holding::Stored(size),
                None => Holding::Partial(self.partial_len(hash).await?),
            });
        }
        Ok(out)
    }

    /// Receives a blob whose name and size are known in advance (a
    /// replication peer sends it), in as many calls as cuts require.
    ///
    /// `content` carries the bytes from `offset`, which must be what
    /// [`BlobStore::partial_len`] reports (`OutOfPlace` otherwise, nothing
    /// written). The bytes are hashed and written once: when all `size`
    /// bytes are there and hash to `hash`, the partial blob becomes the
    /// blob (durable, as after `put`) and `Stored` is returned. When the
    /// stream ends or fails early, what arrived is made durable and
    /// `Incomplete` tells how much is kept. More than `size` bytes
    /// (`TooLarge`) or a whole that hashes to another name (`Corrupt`)
    /// discard the partial blob. A second concurrent write of the same blob
    /// is refused (`Busy`). A blob that does not fit above the store's
    /// floor is refused before a byte is written (`Full`).
    async fn put_resumable(
        &self,
        hash: &ContentHash,
        size: u64,
        offset: u64,
        content: ByteStream,
    ) -> Result<Resumed, BlobError>;

    /// Forgets what a resumable write kept of `hash` (idempotent); `Busy`
    /// while a write of it runs.
    async fn discard_partial(&self, hash: &ContentHash) -> Result<(), BlobError>;

    /// Every partial blob kept by resumable writes, with its length.
    async fn partials(&self) -> Result<Vec<(ContentHash, u64)>, BlobError>;

    /// Room left for new content, and the floor below which `put` and
    /// `put_resumable` refuse it (`Full`). `None` when the store cannot
    /// tell (an object store). Cheap: readiness probes call it.
    async fn room(&self) -> Result<Option<Room>, BlobError> {
        Ok(None)
    }
}
