//! `Sink`: fills one temporary file, hashing and writing each batch of chunks
//! on two blocking threads at once, then makes it durable under its final
//! name.

use std::fs::File;
use std::io::{self, IoSlice, Write};
use std::mem;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::FutureExt;
use passerelle_core::blob::{BlobError, BlobInfo};
use passerelle_core::hash::Hasher;
use tokio::task::JoinHandle;

use super::direct::Writer;
use super::{joined, storage, sync_dir};

/// The temporary file being filled and the hash of what it holds.
///
/// Hashing (BLAKE3, several GiB/s) and writing (a copy into the page cache)
/// cost about the same; running them side by side on blocking threads, while
/// the runtime receives the next batch, keeps `put` close to the speed of a
/// plain sequential write.
#[derive(Debug)]
pub(super) struct Sink {
    /// The temporary's path, for error messages.
    path: PathBuf,
    state: State,
    /// Flushes the pages written so far to disk while the upload goes on.
    writeback: Writeback,
    /// Bytes submitted so far.
    size: u64,
    /// `size` when the last background flush was started.
    flushed_up_to: u64,
}

/// Start a background flush each time this much more has been submitted.
/// Without it the kernel would keep up to 10 % of RAM dirty and the final
/// fsync would flush it all while the client waits (seconds for 1 GiB on a
/// slow disk); with it the disk works while the network does.
const WRITEBACK_EVERY: u64 = 64 << 20;

/// A second handle on the temporary, for `fdatasync` calls that run beside
/// the writes.
#[derive(Debug)]
enum Writeback {
    Idle(File),
    Busy(JoinHandle<io::Result<File>>),
    /// Not available (the handle could not be duplicated): the final fsync
    /// does all the work.
    Off,
    /// A flush failed. The handle is a `dup` sharing the file description,
    /// and Linux reports a writeback error once per description: the final
    /// fsync might not see it again, so `finish` must report this one.
    Failed(io::Error),
}

#[derive(Debug)]
enum State {
    /// Ready for the next batch. (The hasher is boxed: it is about 2 KiB
    /// and moves to a blocking thread and back with every batch.)
    Idle { writer: Writer, hasher: Box<Hasher> },
    /// A batch is being written and hashed.
    Busy {
        writing: JoinHandle<io::Result<Writer>>,
        hashing: JoinHandle<Box<Hasher>>,
    },
    /// A batch failed, or the sink is being moved between states.
    Failed,
}

/// What `commit` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Committed {
    /// The temporary became the blob.
    Stored,
    /// The blob already existed: the temporary was dropped.
    Deduplicated,
}

impl Sink {
    pub(super) fn new(file: File, path: PathBuf) -> Self {
        Self::resume(Writer::buffered(file), path, Box::new(Hasher::new()), 0)
    }

    /// A sink appending through `writer` to a file which already holds
    /// `size` bytes (durable) whose hash so far is `hasher`.
    pub(super) fn resume(writer: Writer, path: PathBuf, hasher: Box<Hasher>, size: u64) -> Self {
        let writeback = match writer.flush_handle() {
            Some(handle) => Writeback::Idle(handle),
            None => Writeback::Off,
        };
        Self {
            path,
            state: State::Idle { writer, hasher },
            writeback,
            size,
            flushed_up_to: size,
        }
    }

    /// Starts writing and hashing `batch` once the previous batch is done.
    /// Returns as soon as the batch is handed over.
    pub(super) async fn submit(&mut self, batch: Vec<Bytes>) -> Result<(), BlobError> {
        let (mut writer, mut hasher) = self.settle_batch().await?;
        self.size += batch.iter().map(|c| c.len() as u64).sum::<u64>();
        // Cloning `Bytes` shares the buffers: both jobs read the same memory.
        let to_hash = batch.clone();
        self.state = State::Busy {
            writing: tokio::task::spawn_blocking(move || {
                writer.write_chunks(&batch)?;
                Ok(writer)
            }),
            hashing: tokio::task::spawn_blocking(move || {
                for chunk in &to_hash {
                    hasher.update(chunk);
                }
                hasher
            }),
        };
        if self.size - self.flushed_up_to >= WRITEBACK_EVERY {
            self.start_writeback();
        }
        Ok(())
    }

    /// Starts an `fdatasync` of what is written so far, unless one is still
    /// running (they would only queue behind each other).
    fn start_writeback(&mut self) {
        let handle = match mem::replace(&mut self.writeback, Writeback::Off) {
            Writeback::Idle(handle) => handle,
            Writeback::Busy(job) if !job.is_finished() => {
                self.writeback = Writeback::Busy(job);
                return;
            }
            // Finished, so this does not wait.
            Writeback::Busy(job) => match job.now_or_never() {
                Some(Ok(Ok(handle))) => handle,
                Some(Ok(Err(e))) => {
                    self.writeback = Writeback::Failed(e);
                    return;
                }
                Some(Err(join)) => {
                    self.writeback = Writeback::Failed(io::Error::other(join));
                    return;
                }
                None => return,
            },
            other @ (Writeback::Off | Writeback::Failed(_)) => {
                self.writeback = other;
                return;
            }
        };
        self.flushed_up_to = self.size;
        self.writeback = Writeback::Busy(tokio::task::spawn_blocking(move || {
            handle.sync_data()?;
            Ok(handle)
        }));
    }

    /// Waits for the batch and the flush in progress and returns the file
    /// with what it holds.
    pub(super) async fn finish(mut self) -> Result<(File, BlobInfo), BlobError> {
        let (writer, hasher) = self.settle().await?;
        // In direct mode the last partial block is still staged.
        let file = tokio::task::spawn_blocking(move || writer.finish())
            .await
            .map_err(joined)?
            .map_err(|e| storage("write temporary", &self.path, e))?;
        let info = BlobInfo {
            hash: hasher.finalize(),
            size: self.size,
        };
        Ok((file, info))
    }

    /// Waits for the batch in progress, if any, and closes the file, so that
    /// nothing writes to the temporary once the failed `put` returns. A
    /// background flush is left to finish on its own: it writes nothing.
    pub(super) async fn abandon(mut self) {
        let _ = self.settle_batch().await;
    }

    async fn settle(&mut self) -> Result<(Writer, Box<Hasher>), BlobError> {
        let flushed = match mem::replace(&mut self.writeback, Writeback::Off) {
            Writeback::Busy(job) => job.await.map_err(joined)?.map(drop),
            Writeback::Failed(e) => Err(e),
            Writeback::Idle(_) | Writeback::Off => Ok(()),
        };
        flushed.map_err(|e| storage("flush temporary", &self.path, e))?;
        self.settle_batch().await
    }

    async fn settle_batch(&mut self) -> Result<(Writer, Box<Hasher>), BlobError> {
        match mem::replace(&mut self.state, State::Failed) {
            State::Idle { writer, hasher } => Ok((writer, hasher)),
            State::Busy { writing, hashing } => {
                let (written, hashed) = tokio::join!(writing, hashing);
                let writer = written
                    .map_err(joined)?
                    .map_err(|e| storage("write temporary", &self.path, e))?;
                Ok((writer, hashed.map_err(joined)?))
            }
            State::Failed => Err(BlobError::Storage(
                "blob sink used after a failed write".into(),
            )),
        }
    }
}

/// Makes `file`, the filled temporary at `temp`, durable as the blob `info`
/// under `blobs/<2 hex>/<64 hex>`. Blocking.
///
/// Order matters: the file's bytes are fsynced before the rename, and the
/// directory holding the new name (plus `blobs/` itself when the shard
/// directory is new) after it, so that after a crash the blob is either
/// absent or complete, never torn.
pub(super) fn commit(
    file: File,
    info: BlobInfo,
    temp: &Path,
    blobs: &Path,
) -> Result<Committed, BlobError> {
    file.sync_all()
        .map_err(|e| storage("fsync temporary", temp, e))?;
    drop(file);

    let hex = info.hash.to_hex();
    let shard = blobs.join(&hex[..2]);
    let dest = shard.join(&hex);
    let exists = dest
        .try_exists()
        .map_err(|e| storage("look up blob", &dest, e))?;
    if exists {
        super::temp::remove_quietly(temp);
        // Refresh the time `stored_at` reports, so that a collection running
        // now spares the blob a new version is about to reference.
        File::options()
            .write(true)
            .open(&dest)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()))
            .map_err(|e| storage("touch deduplicated blob", &dest, e))?;
        return Ok(Committed::Deduplicated);
    }
    let shard_created = match std::fs::create_dir(&shard) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
        Err(e) => return Err(storage("create directory", &shard, e)),
    };
    // Two concurrent puts of the same content may both get here: rename
    // replaces atomically and both files hold the same bytes.
    std::fs::rename(temp, &dest).map_err(|e| storage("rename temporary to", &dest, e))?;
    sync_dir(&shard)?;
    if shard_created {
        sync_dir(blobs)?;
    }
    Ok(Committed::Stored)
}

/// Writes every chunk, in order, with as few `writev` calls as possible
/// (`Write::write_all_vectored` is not stable yet). Blocking.
pub(super) fn write_all_chunks(file: &mut File, chunks: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = chunks.iter().map(|c| IoSlice::new(c)).collect();
    let mut slices = &mut slices[..];
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use passerelle_core::hash::ContentHash;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[tokio::test]
    async fn writes_and_hashes_batches_of_any_shape() {
        let dir = tempfile::tempdir().expect("temp dir");
        let temp = dir.path().join("t.part");
        let data = pattern(3 << 20);
        let mut sink = Sink::new(File::create(&temp).expect("create"), temp.clone());
        let mut at = 0;
        // Empty, tiny, odd and large chunks, several per batch.
        for batch in [
            &[0, 1, 7][..],
            &[1 << 20],
            &[],
            &[4093, 0, (2 << 20) - 4093 - 8],
        ] {
            let chunks = batch
                .iter()
                .map(|&len| {
                    at += len;
                    Bytes::copy_from_slice(&data[at - len..at])
                })
                .collect();
            sink.submit(chunks).await.expect("submit");
        }
        assert_eq!(at, data.len());
        let (file, info) = sink.finish().await.expect("finish");
        assert_eq!(info.hash, ContentHash::of(&data));
        assert_eq!(info.size, data.len() as u64);

        let blobs = dir.path().join("blobs");
        std::fs::create_dir(&blobs).expect("mkdir");
        let committed = commit(file, info, &temp, &blobs).expect("commit");
        assert_eq!(committed, Committed::Stored);
        let hex = info.hash.to_hex();
        let on_disk = std::fs::read(blobs.join(&hex[..2]).join(&hex)).expect("blob file");
        assert!(on_disk == data);
        assert!(!temp.exists());
    }

    #[test]
    fn writes_large_vectors_completely() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("v");
        let chunks: Vec<Bytes> = (0..3000).map(|i| Bytes::from(vec![i as u8; 333])).collect();
        write_all_chunks(&mut File::create(&path).expect("create"), &chunks).expect("write");
        let expected: Vec<u8> = chunks.concat();
        assert!(std::fs::read(&path).expect("read") == expected);
    }
}
