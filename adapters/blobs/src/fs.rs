//! `FsBlobStore`: blobs as files named by their BLAKE3 hash.
//!
//! Layout under the root given to [`FsBlobStore::open`]:
//!
//! ```text
//! blobs/<first 2 hex>/<64 hex>   durable, immutable content
//! tmp/<uuid>.part                writes in progress (same filesystem: rename is atomic)
//! partial/<64 hex>               resumable writes of a known blob (replication)
//! ```
//!
//! A `put` receives the stream on the runtime and hands batches of about
//! 1 MiB to two blocking jobs, one hashing, one writing; while they run, the
//! next batch is received, and every 64 MiB a background `fdatasync` starts,
//! so the network, the hash, the page cache and the disk all work at once.
//! Memory stays at a few MiB whatever the size of the content.
//!
//! Resumable writes (the blobs replication receives) go past the page cache
//! with `O_DIRECT` where the filesystem allows it (`direct`): they are read
//! later if ever, and the page cache costs more CPU than the network, the
//! hash and TLS together on the machines measured (docs/benchmarks.md).

mod direct;
mod failure;
mod resumable;
mod room;
mod sink;
mod temp;
mod tree;

use std::io::{self, Read, SeekFrom};
use std::mem;
use std::ops::Range;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use passerelle_core::blob::{
    BlobError, BlobInfo, BlobStore, ByteStream, Holding, Readable, Resumed, Room,
};
use passerelle_core::hash::{ContentHash, Hasher};
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;
use tracing::{Span, debug, instrument};

use self::failure::{joined, missing_or_storage, storage};
use self::room::Floor;
use self::sink::{Committed, Sink};
use self::temp::TempFile;
use self::tree::{list_blobs, read_dir, sweep, sync_dir};

/// A batch is handed to the blocking writer once it holds this many bytes:
/// large enough that thread hops are rare, small enough to keep memory flat.
const BATCH_BYTES: usize = 1 << 20;

/// ... or this many chunks (the usual `IOV_MAX`, so one `writev` can take the
/// whole batch, and tiny chunks do not pile up).
const BATCH_CHUNKS: usize = 1024;

/// Size of the blocks `verify` reads.
const VERIFY_BLOCK_BYTES: usize = 1 << 20;

/// A `put` looks at the free space again each time this much more has
/// arrived: an upload begun above the floor stops when it reaches it,
/// before the disk is full. A `statvfs` and a thread hop cost tens of
/// microseconds; writing 4 MiB, milliseconds.
const ROOM_CHECK_EVERY: u64 = 4 << 20;

/// Size of the chunks `get` yields: large enough to keep syscalls and task
/// hops rare, small enough that a slow reader holds little memory.
const READ_CHUNK_BYTES: usize = 256 * 1024;

/// A `BlobStore` on a local (or mounted) filesystem.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    /// The directory given to `open`; kept for logs and operators' tools.
    root: PathBuf,
    /// `<root>/blobs`: one file per blob, sharded by the first two hex digits
    /// so that no directory holds more than about 1/256 of the blobs.
    blobs: PathBuf,
    /// `<root>/tmp`: temporaries, on the same filesystem as `blobs` so that
    /// the final rename is atomic.
    tmp: PathBuf,
    /// `<root>/partial`: blobs received in several resumable writes, named
    /// by the hash they must have; same filesystem, renamed when whole.
    partial: PathBuf,
    /// Blobs a resumable write is receiving now (one writer per blob).
    receiving: resumable::Receiving,
    /// Free bytes kept on the disk: new content that would go below is
    /// refused (`Full`). 0 (the default) keeps none.
    floor: Floor,
}

impl FsBlobStore {
    /// Opens (creating when needed) a store rooted at `root`.
    ///
    /// Synchronous: meant for startup, before the node serves anything.
    /// Temporaries of a previous run stay until `sweep_temporaries`.
    pub fn open(root: PathBuf) -> Result<Self, BlobError> {
        let blobs = root.join("blobs");
        let tmp = root.join("tmp");
        let partial = root.join("partial");
        for dir in [&blobs, &tmp, &partial] {
            std::fs::create_dir_all(dir).map_err(|e| storage("create directory", dir, e))?;
        }
        Ok(Self {
            floor: Floor::new(root.clone()),
            root,
            blobs,
            tmp,
            partial,
            receiving: resumable::Receiving::default(),
        })
    }

    /// Keeps `bytes` free on the store's filesystem: `put` and
    /// `put_resumable` refuse content (`Full`) that would leave less, so
    /// the database beside the blobs and the purges keep room to work.
    pub fn with_min_free(mut self, bytes: u64) -> Self {
        self.floor.min_free = bytes;
        self
    }

    /// The directory the store was opened on.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob named `hash` lives (whether or not it exists).
    pub fn blob_path(&self, hash: &ContentHash) -> PathBuf {
        let hex = hash.to_hex();
        self.blobs.join(&hex[..2]).join(hex)
    }

    /// The directory of temporaries.
    pub fn temporaries_dir(&self) -> &Path {
        &self.tmp
    }

    /// Where a resumable write keeps what it received of `hash`.
    pub fn partial_path(&self, hash: &ContentHash) -> PathBuf {
        self.partial.join(hash.to_hex())
    }
}

impl FsBlobStore {
    /// The body of `put`: streams `content` into a temporary, then makes it
    /// the blob. On any error the temporary is removed.
    async fn write_new(
        &self,
        content: ByteStream,
        limit: Option<u64>,
    ) -> Result<BlobInfo, BlobError> {
        let (temp, file) = TempFile::create(&self.tmp).await?;
        let filling = Sink::new(file, temp.path().to_path_buf());
        let (file, info) = match receive(filling, content, limit, &self.floor).await {
            Ok(filled) => filled,
            Err(e) => {
                temp.remove().await;
                return Err(e);
            }
        };
        let temp_path = temp.path().to_path_buf();
        let blobs = self.blobs.clone();
        let committed =
            tokio::task::spawn_blocking(move || sink::commit(file, info, &temp_path, &blobs))
                .await
                .map_err(joined)
                .and_then(|committed| committed);
        let committed = match committed {
            Ok(committed) => committed,
            Err(e) => {
                temp.remove().await;
                return Err(e);
            }
        };
        temp.disarm();
        let span = Span::current();
        span.record("hash", tracing::field::display(info.hash.short()));
        span.record("size", info.size);
        span.record("deduplicated", committed == Committed::Deduplicated);
        debug!("blob stored");
        Ok(info)
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    #[instrument(skip_all, fields(limit, hash, size, deduplicated))]
    async fn put(&self, content: ByteStream, limit: Option<u64>) -> Result<BlobInfo, BlobError> {
        if let Some(limit) = limit {
            Span::current().record("limit", limit);
        }
        // Refused before a byte is read: the client learns it at once.
        let _above_the_floor = self.floor.ensure(0).await?;
        self.write_new(content, limit)
            .await
            .map_err(|e| self.floor.named(e))
    }

    #[instrument(skip_all, fields(hash = %hash.short(), ?range))]
    async fn get(
        &self,
        hash: &ContentHash,
        range: Option<Range<u64>>,
    ) -> Result<ByteStream, BlobError> {
        // Open, stat and — for a small range, most documents — read in one
        // blocking job: replication sends thousands of small blobs, and a
        // thread hop per step cost more than the bytes.
        let path = self.blob_path(hash);
        let hash = *hash;
        let opened = tokio::task::spawn_blocking(move || open_range(&hash, &path, range))
            .await
            .map_err(joined)??;
        Ok(match opened {
            Opened::Read(bytes) if bytes.is_empty() => Box::pin(futures::stream::empty()),
            Opened::Read(bytes) => Box::pin(futures::stream::once(async move { Ok(bytes) })),
            // The open file keeps the bytes readable even if the blob is
            // deleted while the stream is being consumed.
            Opened::File(file, len) => Box::pin(ReaderStream::with_capacity(
                tokio::fs::File::from_std(file).take(len),
                READ_CHUNK_BYTES,
            )),
        })
    }

    #[instrument(skip_all, fields(hash = %hash.short()))]
    async fn open(&self, hash: &ContentHash) -> Result<Readable, BlobError> {
        // The file itself: a reader handed it (clamd) reads the blob where
        // it lies. Like a stream, the open file keeps the bytes readable if
        // the blob is deleted meanwhile.
        let path = self.blob_path(hash);
        let hash = *hash;
        let file = tokio::task::spawn_blocking(move || {
            std::fs::File::open(&path).map_err(|e| missing_or_storage(&hash, "open blob", &path, e))
        })
        .await
        .map_err(joined)??;
        Ok(Readable::File(file))
    }

    async fn holdings(&self, hashes: &[ContentHash]) -> Result<Vec<Holding>, BlobError> {
        // One blocking job for the whole list: two `stat`s at most per blob.
        let paths: Vec<(PathBuf, PathBuf)> = hashes
            .iter()
            .map(|h| (self.blob_path(h), self.partial_path(h)))
            .collect();
        tokio::task::spawn_blocking(move || {
            paths
                .iter()
                .map(|(blob, partial)| match std::fs::metadata(blob) {
                    Ok(meta) => Ok(Holding::Stored(meta.len())),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        match std::fs::metadata(partial) {
                            Ok(meta) => Ok(Holding::Partial(meta.len())),
                            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                                Ok(Holding::Partial(0))
                            }
                            Err(e) => Err(storage("stat partial blob", partial, e)),
                        }
                    }
                    Err(e) => Err(storage("stat blob", blob, e)),
                })
                .collect()
        })
        .await
        .map_err(joined)?
    }

    async fn size(&self, hash: &ContentHash) -> Result<Option<u64>, BlobError> {
        let path = self.blob_path(hash);
        match tokio::fs::metadata(&path).await {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(storage("stat blob", &path, e)),
        }
    }

    #[instrument(skip_all, fields(hash = %hash.short()))]
    async fn verify(&self, hash: &ContentHash) -> Result<(), BlobError> {
        let expected = *hash;
        let path = self.blob_path(hash);
        let actual = tokio::task::spawn_blocking(move || {
            hash_file(&path).map_err(|e| missing_or_storage(&expected, "read blob", &path, e))
        })
        .await
        .map_err(joined)??;
        if actual == expected {
            Ok(())
        } else {
            Err(BlobError::Corrupt { expected, actual })
        }
    }

    async fn stored_at(
        &self,
        hash: &ContentHash,
    ) -> Result<Option<std::time::SystemTime>, BlobError> {
        let path = self.blob_path(hash);
        match tokio::fs::metadata(&path).await {
            Ok(m) => Ok(Some(
                m.modified()
                    .map_err(|e| storage("read the time of", &path, e))?,
            )),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(storage("read the time of", &path, e)),
        }
    }

    async fn list(&self) -> Result<Vec<ContentHash>, BlobError> {
        let blobs = self.blobs.clone();
        tokio::task::spawn_blocking(move || list_blobs(&blobs))
            .await
            .map_err(joined)?
    }

    #[instrument(skip_all, fields(hash = %hash.short()))]
    async fn delete(&self, hash: &ContentHash) -> Result<(), BlobError> {
        let path = self.blob_path(hash);
        tokio::task::spawn_blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => match path.parent() {
                Some(shard) => sync_dir(shard),
                None => Ok(()),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(storage("remove blob", &path, e)),
        })
        .await
        .map_err(joined)??;
        debug!("blob deleted");
        Ok(())
    }

    /// Removes everything in `tmp/`. Call it when no `put` is running (at
    /// startup): a running `put` would lose its temporary and fail.
    #[instrument(skip_all)]
    async fn sweep_temporaries(&self) -> Result<u64, BlobError> {
        let tmp = self.tmp.clone();
        let removed = tokio::task::spawn_blocking(move || sweep(&tmp))
            .await
            .map_err(joined)??;
        debug!(removed, "temporaries swept");
        Ok(removed)
    }

    async fn partial_len(&self, hash: &ContentHash) -> Result<u64, BlobError> {
        if let Some(size) = self.size(hash).await? {
            return Ok(size);
        }
        resumable::len(&self.partial_path(hash)).await
    }

    #[instrument(skip_all, fields(hash = %hash.short(), size, offset, outcome))]
    async fn put_resumable(
        &self,
        hash: &ContentHash,
        size: u64,
        offset: u64,
        content: ByteStream,
    ) -> Result<Resumed, BlobError> {
        if self.size(hash).await? == Some(size) {
            return Ok(Resumed::Stored(BlobInfo { hash: *hash, size }));
        }
        // The whole rest of the blob must fit above the floor, beside the
        // other writes under way: refused now, nothing written, rather than
        // a disk filled half-way.
        let _reserved = self.floor.ensure(size.saturating_sub(offset)).await?;
        let _claim = self.receiving.claim(hash)?;
        let path = self.partial_path(hash);
        let resumed = resumable::receive(path.clone(), &self.blobs, hash, size, offset, content)
            .await
            .map_err(|e| self.floor.named(e));
        if let Err(BlobError::Full { .. }) = &resumed {
            // The disk filled anyway (another writer): give back what this
            // write added, so the database beside keeps room; the prefix
            // held before it stays, for a resume.
            resumable::truncate(&path, offset).await;
        }
        let resumed = resumed?;
        Span::current().record("outcome", tracing::field::debug(&resumed));
        debug!("resumable write ended");
        Ok(resumed)
    }

    async fn discard_partial(&self, hash: &ContentHash) -> Result<(), BlobError> {
        let _claim = self.receiving.claim(hash)?;
        resumable::discard(self.partial_path(hash)).await
    }

    async fn partials(&self) -> Result<Vec<(ContentHash, u64)>, BlobError> {
        let dir = self.partial.clone();
        tokio::task::spawn_blocking(move || resumable::list(&dir))
            .await
            .map_err(joined)?
    }

    async fn room(&self) -> Result<Option<Room>, BlobError> {
        let floor = self.floor.clone();
        tokio::task::spawn_blocking(move || floor.room())
            .await
            .map_err(joined)?
    }
}

/// A blob opened for reading: small ranges read at once, larger ones left to
/// stream from the open file.
enum Opened {
    Read(Bytes),
    File(std::fs::File, u64),
}

/// Opens `path`, checks `range` against its size and seeks to its start;
/// reads the range at once when it is at most [`READ_CHUNK_BYTES`]. Blocking.
fn open_range(
    hash: &ContentHash,
    path: &Path,
    range: Option<Range<u64>>,
) -> Result<Opened, BlobError> {
    use std::io::Seek;
    let mut file =
        std::fs::File::open(path).map_err(|e| missing_or_storage(hash, "open blob", path, e))?;
    let size = file
        .metadata()
        .map_err(|e| storage("stat blob", path, e))?
        .len();
    let range = range.unwrap_or(0..size);
    if range.start > range.end || range.end > size {
        return Err(BlobError::BadRange {
            start: range.start,
            end: range.end,
            size,
        });
    }
    if range.start > 0 {
        file.seek(SeekFrom::Start(range.start))
            .map_err(|e| storage("seek in blob", path, e))?;
    }
    let len = range.end - range.start;
    if len > READ_CHUNK_BYTES as u64 {
        return Ok(Opened::File(file, len));
    }
    let mut bytes = vec![0; len as usize];
    file.read_exact(&mut bytes)
        .map_err(|e| storage("read blob", path, e))?;
    Ok(Opened::Read(Bytes::from(bytes)))
}

/// Drains `content` into `sink`, batch by batch, enforcing `limit`; returns
/// the filled file and what it holds.
///
/// One batch is written while the next is received, so memory stays around
/// two batches whatever the size of the content.
/// Every [`ROOM_CHECK_EVERY`] bytes the free space is looked at again:
/// content that reaches `floor` is `Full`, and nothing is kept.
async fn receive(
    mut sink: Sink,
    mut content: ByteStream,
    limit: Option<u64>,
    floor: &Floor,
) -> Result<(std::fs::File, BlobInfo), BlobError> {
    let mut batch: Vec<Bytes> = Vec::new();
    let mut batch_bytes = 0;
    let mut total: u64 = 0;
    let mut room_checked_at: u64 = 0;
    loop {
        let chunk = match content.next().await {
            Some(Ok(chunk)) => chunk,
            Some(Err(e)) => {
                sink.abandon().await;
                return Err(BlobError::Interrupted(e));
            }
            None => break,
        };
        total += chunk.len() as u64;
        if let Some(limit) = limit
            && total > limit
        {
            sink.abandon().await;
            return Err(BlobError::TooLarge { limit });
        }
        batch_bytes += chunk.len();
        batch.push(chunk);
        if batch_bytes >= BATCH_BYTES || batch.len() >= BATCH_CHUNKS {
            sink.submit(mem::take(&mut batch)).await?;
            batch_bytes = 0;
        }
        if total - room_checked_at >= ROOM_CHECK_EVERY {
            room_checked_at = total;
            if let Err(e) = floor.ensure(0).await {
                sink.abandon().await;
                return Err(e);
            }
        }
    }
    if !batch.is_empty() {
        sink.submit(batch).await?;
    }
    sink.finish().await
}

/// BLAKE3 of a whole file, read in large blocks. Blocking.
fn hash_file(path: &Path) -> io::Result<ContentHash> {
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0; VERIFY_BLOCK_BYTES];
    let mut hasher = Hasher::new();
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return Ok(hasher.finalize()),
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
