//! Resumable writes: a blob whose name and size are known before its bytes
//! arrive (a replication peer sends it) is received into
//! `partial/<64 hex>`, hashed and written once, and renamed into `blobs/`
//! when whole. A cut leaves a durable prefix that the next write extends.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::mem;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures::StreamExt;
use passerelle_core::blob::{BlobError, BlobInfo, ByteStream, Resumed};
use passerelle_core::hash::{ContentHash, Hasher};

use super::direct::Writer;
use super::sink::{self, Sink};
use super::{BATCH_BYTES, BATCH_CHUNKS, VERIFY_BLOCK_BYTES, joined, storage};

/// The blobs being received right now, shared by the clones of a store.
#[derive(Debug, Default, Clone)]
pub(super) struct Receiving(Arc<Mutex<HashSet<ContentHash>>>);

/// One blob being received: released on drop, however the write ends.
#[derive(Debug)]
pub(super) struct Claim {
    set: Receiving,
    hash: ContentHash,
}

impl Receiving {
    pub(super) fn claim(&self, hash: &ContentHash) -> Result<Claim, BlobError> {
        let mut set = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !set.insert(*hash) {
            return Err(BlobError::Busy(*hash));
        }
        Ok(Claim {
            set: self.clone(),
            hash: *hash,
        })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.set
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.hash);
    }
}

/// Receives `content` (the bytes from `offset`) into the partial blob at
/// `path`, then commits it into `blobs` when whole and true to `hash`.
pub(super) async fn receive(
    path: PathBuf,
    blobs: &Path,
    hash: &ContentHash,
    size: u64,
    offset: u64,
    mut content: ByteStream,
) -> Result<Resumed, BlobError> {
    // The first batch is read before the disk is touched: a blob of up to a
    // batch (most documents) is then hashed, written and committed in one
    // blocking job instead of a hop per step.
    let mut total = offset;
    let mut batch: Vec<Bytes> = Vec::new();
    let mut batch_bytes = 0;
    let mut ended = false;
    while batch_bytes < BATCH_BYTES && batch.len() < BATCH_CHUNKS {
        match content.next().await {
            Some(Ok(chunk)) => {
                total += chunk.len() as u64;
                if total > size {
                    discard(path).await?;
                    return Err(BlobError::TooLarge { limit: size });
                }
                batch_bytes += chunk.len();
                batch.push(chunk);
            }
            Some(Err(e)) => {
                tracing::debug!(error = %e, "resumable blob stream cut");
                ended = true;
                break;
            }
            None => {
                ended = true;
                break;
            }
        }
    }
    if ended {
        let (hash, blobs) = (*hash, blobs.to_path_buf());
        return tokio::task::spawn_blocking(move || {
            receive_whole(&path, &blobs, &hash, size, offset, &batch)
        })
        .await
        .map_err(joined)?;
    }

    let opened = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            let (file, hasher) = open(&path, offset)?;
            let writer = Writer::direct(file, size - offset)
                .map_err(|e| storage("open partial blob", &path, e))?;
            Ok::<_, BlobError>((writer, hasher))
        })
        .await
        .map_err(joined)??
    };
    let (writer, hasher) = opened;
    let mut sink = Sink::resume(writer, path.clone(), hasher, offset);
    sink.submit(mem::take(&mut batch)).await?;
    batch_bytes = 0;
    loop {
        let chunk = match content.next().await {
            Some(Ok(chunk)) => chunk,
            // The sender stopped early: keep what arrived for a resume.
            Some(Err(e)) => {
                tracing::debug!(error = %e, "resumable blob stream cut");
                break;
            }
            None => break,
        };
        total += chunk.len() as u64;
        if total > size {
            sink.abandon().await;
            discard(path).await?;
            return Err(BlobError::TooLarge { limit: size });
        }
        batch_bytes += chunk.len();
        batch.push(chunk);
        if batch_bytes >= BATCH_BYTES || batch.len() >= BATCH_CHUNKS {
            sink.submit(mem::take(&mut batch)).await?;
            batch_bytes = 0;
        }
    }
    if !batch.is_empty() {
        sink.submit(batch).await?;
    }
    let (file, info) = sink.finish().await?;
    if info.size < size {
        let kept = info.size;
        let p = path.clone();
        tokio::task::spawn_blocking(move || {
            file.sync_data()
                .map_err(|e| storage("fsync partial blob", &p, e))
        })
        .await
        .map_err(joined)??;
        return Ok(Resumed::Incomplete { kept });
    }
    if info.hash != *hash {
        drop(file);
        discard(path).await?;
        return Err(BlobError::Corrupt {
            expected: *hash,
            actual: info.hash,
        });
    }
    let blobs = blobs.to_path_buf();
    tokio::task::spawn_blocking(move || sink::commit(file, info, &path, &blobs))
        .await
        .map_err(joined)??;
    Ok(Resumed::Stored(BlobInfo { hash: *hash, size }))
}

/// The rest of a blob, all in `chunks` (the sender is done or gone):
/// appended, made durable, and committed when whole and true. Blocking.
fn receive_whole(
    path: &Path,
    blobs: &Path,
    hash: &ContentHash,
    size: u64,
    offset: u64,
    chunks: &[Bytes],
) -> Result<Resumed, BlobError> {
    let (file, mut hasher) = open(path, offset)?;
    let mut kept = offset;
    for chunk in chunks {
        hasher.update(chunk);
        kept += chunk.len() as u64;
    }
    if kept == size && hasher.finalize() != *hash {
        drop(file);
        super::temp::remove_quietly(path);
        return Err(BlobError::Corrupt {
            expected: *hash,
            actual: hasher.finalize(),
        });
    }
    let mut writer =
        Writer::direct(file, kept - offset).map_err(|e| storage("open partial blob", path, e))?;
    writer
        .write_chunks(chunks)
        .map_err(|e| storage("write partial blob", path, e))?;
    let file = writer
        .finish()
        .map_err(|e| storage("write partial blob", path, e))?;
    if kept < size {
        file.sync_data()
            .map_err(|e| storage("fsync partial blob", path, e))?;
        return Ok(Resumed::Incomplete { kept });
    }
    let info = BlobInfo { hash: *hash, size };
    sink::commit(file, info, path, blobs)?;
    Ok(Resumed::Stored(info))
}

/// Opens the partial blob for appending, checks that it holds exactly
/// `offset` bytes, and hashes them. Blocking.
fn open(path: &Path, offset: u64) -> Result<(File, Box<Hasher>), BlobError> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .map_err(|e| storage("open partial blob", path, e))?;
    let kept = file
        .metadata()
        .map_err(|e| storage("stat partial blob", path, e))?
        .len();
    if kept != offset {
        return Err(BlobError::OutOfPlace { offset, kept });
    }
    let mut hasher = Box::new(Hasher::new());
    if kept > 0 {
        // Resuming: the hash covers the whole blob, so the kept prefix is
        // read once more (a resume is rare; a plain transfer never reads).
        let mut buffer = vec![0; VERIFY_BLOCK_BYTES];
        loop {
            match file.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => hasher.update(&buffer[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(storage("read partial blob", path, e)),
            }
        }
    }
    Ok((file, hasher))
}

/// Every partial blob in `dir` with its length; other names are ignored.
/// Blocking.
pub(super) fn list(dir: &Path) -> Result<Vec<(ContentHash, u64)>, BlobError> {
    let mut out = Vec::new();
    for entry in super::read_dir(dir)? {
        let name = entry.file_name();
        let Some(hash) = name
            .to_str()
            .and_then(|n| n.parse::<ContentHash>().ok().filter(|h| h.to_hex() == n))
        else {
            continue;
        };
        match entry.metadata() {
            Ok(m) if m.is_file() => out.push((hash, m.len())),
            // Gone while listed, or not a file: not a partial blob.
            _ => {}
        }
    }
    Ok(out)
}

/// The length of the partial blob at `path` (0 when absent).
pub(super) async fn len(path: &Path) -> Result<u64, BlobError> {
    match tokio::fs::metadata(path).await {
        Ok(m) => Ok(m.len()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(storage("stat partial blob", path, e)),
    }
}

/// Removes the partial blob at `path` (absent is fine).
pub(super) async fn discard(path: PathBuf) -> Result<(), BlobError> {
    match tokio::fs::remove_file(&path).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(storage("remove partial blob", &path, e)),
    }
}

/// Cuts the partial blob at `path` back to its first `len` bytes (removes
/// it when `len` is 0), after a write that failed for lack of room. Best
/// effort: a failure is logged, and the next write of the blob sees the
/// length kept and resumes from there.
pub(super) async fn truncate(path: &Path, len: u64) {
    let path = path.to_path_buf();
    let cut = tokio::task::spawn_blocking(move || {
        let cut = if len == 0 {
            std::fs::remove_file(&path)
        } else {
            OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_len(len))
        };
        match cut {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err((path, e)),
            _ => Ok(()),
        }
    })
    .await;
    match cut {
        Ok(Ok(())) => {}
        Ok(Err((path, e))) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot cut back a partial blob")
        }
        Err(e) => tracing::warn!(error = %e, "cannot cut back a partial blob"),
    }
}
