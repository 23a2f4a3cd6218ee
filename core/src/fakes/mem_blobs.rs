//! `MemBlobStore`: the in-memory fake of the `BlobStore` port, for service
//! tests. It passes the same contract suite as the filesystem store
//! (`passerelle_blobs::contract`), so a service tested against it behaves the
//! same on disk.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use crate::blob::{BlobError, BlobInfo, BlobStore, ByteStream, Resumed, Room};
use crate::hash::{ContentHash, Hasher};

/// Size of the chunks `get` yields, as the filesystem store does, so that
/// consumers see multi-chunk streams in tests too.
const CHUNK_BYTES: usize = 256 * 1024;

/// Blobs in a map. Cheap to clone out (`Bytes`), never blocks for long: the
/// lock is held only to look up or insert, never across an `.await`.
#[derive(Default)]
pub struct MemBlobStore {
    /// Content by hash. A `Bytes` clone shares the buffer, so `get` copies
    /// nothing.
    blobs: Mutex<HashMap<ContentHash, Bytes>>,
    /// Last `put` of each blob (first or deduplicated), for `stored_at`.
    stored: Mutex<HashMap<ContentHash, SystemTime>>,
    /// What resumable writes kept so far, by expected hash.
    partials: Mutex<HashMap<ContentHash, BytesMut>>,
    /// Blobs a resumable write is receiving right now.
    receiving: Mutex<HashSet<ContentHash>>,
    /// Bytes the store may hold (blobs and partial blobs), like a small
    /// disk: past it writes are refused with `Full`. `None`: unbounded.
    capacity: Option<u64>,
    /// Bytes of the capacity kept free, as the disk store's floor: a write
    /// that would leave less is refused with `Full`.
    floor: u64,
}

impl MemBlobStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that holds at most `bytes` (blobs and partial blobs), as a
    /// small disk would: a write that does not fit is refused with `Full`
    /// and keeps nothing.
    pub fn with_capacity(bytes: u64) -> Self {
        Self {
            capacity: Some(bytes),
            ..Self::default()
        }
    }

    /// As [`MemBlobStore::with_capacity`], keeping `floor` bytes of it
    /// free as the disk store does (`room` reports it).
    pub fn with_capacity_and_floor(bytes: u64, floor: u64) -> Self {
        Self {
            capacity: Some(bytes),
            floor,
            ..Self::default()
        }
    }

    /// Bytes held, blobs and partial blobs.
    fn used(&self) -> u64 {
        let blobs: u64 = self.lock().values().map(|b| b.len() as u64).sum();
        let partials: u64 = lock(&self.partials).values().map(|p| p.len() as u64).sum();
        blobs + partials
    }

    /// `Full` when `more` bytes do not fit in the capacity above the floor.
    fn fits(&self, more: u64) -> Result<(), BlobError> {
        match self.capacity {
            Some(capacity)
                if self.used().saturating_add(more).saturating_add(self.floor) > capacity =>
            {
                Err(BlobError::Full {
                    cause: format!(
                        "memory store full ({capacity} bytes, {} kept free)",
                        self.floor
                    ),
                    source: None,
                })
            }
            _ => Ok(()),
        }
    }

    /// Number of stored blobs.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Alters the stored bytes of `hash` so that `verify` reports `Corrupt`,
    /// as bit rot on a disk would. Returns `false` when the blob is absent.
    pub fn corrupt(&self, hash: &ContentHash) -> bool {
        let mut blobs = self.lock();
        let Some(content) = blobs.get_mut(hash) else {
            return false;
        };
        let mut altered = BytesMut::from(&content[..]);
        match altered.first_mut() {
            Some(first) => *first ^= 0x01,
            None => altered.extend_from_slice(&[0]),
        }
        *content = altered.freeze();
        true
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ContentHash, Bytes>> {
        // A panicking test thread cannot leave the map half-updated: every
        // critical section is a single insert, remove or lookup.
        self.blobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn content(&self, hash: &ContentHash) -> Result<Bytes, BlobError> {
        self.lock()
            .get(hash)
            .cloned()
            .ok_or(BlobError::NotFound(*hash))
    }
}

impl fmt::Debug for MemBlobStore {
    /// Counts blobs rather than printing their content.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemBlobStore")
            .field("blobs", &self.len())
            .finish()
    }
}

#[async_trait]
impl BlobStore for MemBlobStore {
    async fn put(
        &self,
        mut content: ByteStream,
        limit: Option<u64>,
    ) -> Result<BlobInfo, BlobError> {
        self.fits(0)?;
        let mut buffer = BytesMut::new();
        let mut hasher = Hasher::new();
        while let Some(chunk) = content.next().await {
            let chunk = chunk.map_err(BlobError::Interrupted)?;
            let size = (buffer.len() + chunk.len()) as u64;
            if let Some(limit) = limit
                && size > limit
            {
                return Err(BlobError::TooLarge { limit });
            }
            self.fits(size)?;
            hasher.update(&chunk);
            buffer.extend_from_slice(&chunk);
        }
        let info = BlobInfo {
            hash: hasher.finalize(),
            size: buffer.len() as u64,
        };
        // Keep the first copy, as the filesystem store does on dedup.
        self.lock()
            .entry(info.hash)
            .or_insert_with(|| buffer.freeze());
        self.stored
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(info.hash, SystemTime::now());
        Ok(info)
    }

    async fn stored_at(&self, hash: &ContentHash) -> Result<Option<SystemTime>, BlobError> {
        if !self.lock().contains_key(hash) {
            return Ok(None);
        }
        Ok(self
            .stored
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(hash)
            .copied())
    }

    async fn get(
        &self,
        hash: &ContentHash,
        range: Option<Range<u64>>,
    ) -> Result<ByteStream, BlobError> {
        let content = self.content(hash)?;
        let size = content.len() as u64;
        let range = range.unwrap_or(0..size);
        if range.start > range.end || range.end > size {
            return Err(BlobError::BadRange {
                start: range.start,
                end: range.end,
                size,
            });
        }
        // In bounds, so these fit in usize.
        let (start, end) = (range.start as usize, range.end as usize);
        let chunks: Vec<Result<Bytes, std::io::Error>> = (start..end)
            .step_by(CHUNK_BYTES)
            .map(|at| Ok(content.slice(at..end.min(at + CHUNK_BYTES))))
            .collect();
        Ok(Box::pin(futures::stream::iter(chunks)))
    }

    async fn size(&self, hash: &ContentHash) -> Result<Option<u64>, BlobError> {
        Ok(self.lock().get(hash).map(|c| c.len() as u64))
    }

    async fn verify(&self, hash: &ContentHash) -> Result<(), BlobError> {
        let actual = ContentHash::of(&self.content(hash)?);
        if actual == *hash {
            Ok(())
        } else {
            Err(BlobError::Corrupt {
                expected: *hash,
                actual,
            })
        }
    }

    async fn list(&self) -> Result<Vec<ContentHash>, BlobError> {
        Ok(self.lock().keys().copied().collect())
    }

    async fn delete(&self, hash: &ContentHash) -> Result<(), BlobError> {
        self.lock().remove(hash);
        Ok(())
    }

    /// Nothing is ever half-written in memory.
    async fn sweep_temporaries(&self) -> Result<u64, BlobError> {
        Ok(0)
    }

    async fn partial_len(&self, hash: &ContentHash) -> Result<u64, BlobError> {
        if let Some(content) = self.lock().get(hash) {
            return Ok(content.len() as u64);
        }
        Ok(lock(&self.partials).get(hash).map_or(0, |p| p.len() as u64))
    }

    async fn put_resumable(
        &self,
        hash: &ContentHash,
        size: u64,
        offset: u64,
        mut content: ByteStream,
    ) -> Result<Resumed, BlobError> {
        if self.size(hash).await? == Some(size) {
            return Ok(Resumed::Stored(BlobInfo { hash: *hash, size }));
        }
        self.fits(size.saturating_sub(offset))?;
        if !lock(&self.receiving).insert(*hash) {
            return Err(BlobError::Busy(*hash));
        }
        // Released however the write ends, a dropped future included.
        let _claim = Claim {
            set: &self.receiving,
            hash: *hash,
        };
        {
            let mut kept = lock(&self.partials).remove(hash).unwrap_or_default();
            if kept.len() as u64 != offset {
                let at = kept.len() as u64;
                lock(&self.partials).insert(*hash, kept);
                return Err(BlobError::OutOfPlace { offset, kept: at });
            }
            while let Some(chunk) = content.next().await {
                let Ok(chunk) = chunk else { break };
                if (kept.len() + chunk.len()) as u64 > size {
                    return Err(BlobError::TooLarge { limit: size });
                }
                kept.extend_from_slice(&chunk);
            }
            if (kept.len() as u64) < size {
                let at = kept.len() as u64;
                lock(&self.partials).insert(*hash, kept);
                return Ok(Resumed::Incomplete { kept: at });
            }
            let actual = ContentHash::of(&kept);
            if actual != *hash {
                return Err(BlobError::Corrupt {
                    expected: *hash,
                    actual,
                });
            }
            self.lock().entry(*hash).or_insert_with(|| kept.freeze());
            lock(&self.stored).insert(*hash, SystemTime::now());
            Ok(Resumed::Stored(BlobInfo { hash: *hash, size }))
        }
    }

    async fn discard_partial(&self, hash: &ContentHash) -> Result<(), BlobError> {
        if lock(&self.receiving).contains(hash) {
            return Err(BlobError::Busy(*hash));
        }
        lock(&self.partials).remove(hash);
        Ok(())
    }

    async fn partials(&self) -> Result<Vec<(ContentHash, u64)>, BlobError> {
        Ok(lock(&self.partials)
            .iter()
            .map(|(h, p)| (*h, p.len() as u64))
            .collect())
    }

    /// Known only for a store given a capacity.
    async fn room(&self) -> Result<Option<Room>, BlobError> {
        Ok(self.capacity.map(|capacity| Room {
            free: capacity.saturating_sub(self.used()),
            floor: self.floor,
            place: "memory".into(),
            refusing: false,
        }))
    }
}

/// A blob being received by a resumable write.
struct Claim<'a> {
    set: &'a Mutex<HashSet<ContentHash>>,
    hash: ContentHash,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        lock(self.set).remove(&self.hash);
    }
}

/// Every critical section is a single insert, remove or lookup: a panicking
/// test thread cannot leave a map half-updated.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    fn stream_of(parts: &[&[u8]]) -> ByteStream {
        let chunks: Vec<Result<Bytes, std::io::Error>> = parts
            .iter()
            .map(|p| Ok(Bytes::copy_from_slice(p)))
            .collect();
        Box::pin(futures::stream::iter(chunks))
    }

    async fn read(store: &MemBlobStore, hash: &ContentHash, range: Option<Range<u64>>) -> Vec<u8> {
        let mut stream = match store.get(hash, range).await {
            Ok(stream) => stream,
            Err(e) => panic!("get: {e}"),
        };
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.expect("in-memory chunks never fail"));
        }
        out
    }

    #[test]
    fn stores_and_serves_a_range_of_streamed_content() {
        block_on(async {
            let store = MemBlobStore::new();
            let info = store
                .put(stream_of(&[b"passe", b"relle"]), None)
                .await
                .expect("put");
            assert_eq!(info.hash, ContentHash::of(b"passerelle"));
            assert_eq!(info.size, 10);
            assert_eq!(read(&store, &info.hash, Some(2..7)).await, b"ssere");
            assert_eq!(store.len(), 1);
        });
    }

    #[test]
    fn splits_large_blobs_into_chunks() {
        block_on(async {
            let store = MemBlobStore::new();
            let data = vec![7u8; 2 * CHUNK_BYTES + 1];
            let info = store.put(stream_of(&[&data]), None).await.expect("put");
            let stream = store.get(&info.hash, None).await.expect("get");
            assert_eq!(stream.count().await, 3);
        });
    }

    #[test]
    fn corrupted_blobs_fail_verification() {
        block_on(async {
            let store = MemBlobStore::new();
            for content in [&b""[..], b"x"] {
                let info = store.put(stream_of(&[content]), None).await.expect("put");
                assert!(store.corrupt(&info.hash));
                assert!(matches!(
                    store.verify(&info.hash).await,
                    Err(BlobError::Corrupt { expected, .. }) if expected == info.hash
                ));
            }
            assert!(!store.corrupt(&ContentHash::of(b"absent")));
        });
    }

    #[test]
    fn rejects_content_over_the_limit() {
        block_on(async {
            let store = MemBlobStore::new();
            let result = store.put(stream_of(&[b"abc", b"d"]), Some(3)).await;
            assert!(matches!(result, Err(BlobError::TooLarge { limit: 3 })));
            assert!(store.is_empty());
        });
    }
}
