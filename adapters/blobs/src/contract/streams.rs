//! The content and streams the contract's checks are made of, public for
//! other suites and benches: deterministic test content, chunked streams,
//! collecting and hashing a stream; and the checks' own small helpers.

use std::io;
use std::ops::Range;

use bytes::Bytes;
use futures::StreamExt;
use passerelle_core::blob::{BlobInfo, BlobStore, ByteStream};
use passerelle_core::hash::{ContentHash, Hasher};

/// Deterministic, incompressible test content: `len` bytes named by `seed`.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut data = vec![0; len];
    blake3::Hasher::new()
        .update(&seed.to_le_bytes())
        .finalize_xof()
        .fill(&mut data);
    data
}

/// `data` as a stream of chunks whose sizes cycle through `sizes`.
pub fn chunked(data: &[u8], sizes: &[usize]) -> ByteStream {
    let mut chunks = Vec::new();
    let mut rest = data;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.clamp(1, rest.len()));
        chunks.push(Ok(Bytes::copy_from_slice(chunk)));
        rest = tail;
    }
    Box::pin(futures::stream::iter(chunks))
}

/// Concatenates a stream, failing on its first error.
pub async fn collect(mut stream: ByteStream) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

/// Hashes a stream without keeping it; returns the hash and the byte count.
pub async fn hash_stream(mut stream: ByteStream) -> io::Result<BlobInfo> {
    let mut hasher = Hasher::new();
    let mut size = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
    }
    Ok(BlobInfo {
        hash: hasher.finalize(),
        size,
    })
}

pub(super) fn info_of(data: &[u8]) -> BlobInfo {
    BlobInfo {
        hash: ContentHash::of(data),
        size: data.len() as u64,
    }
}

pub(super) async fn put(
    store: &dyn BlobStore,
    content: ByteStream,
    limit: Option<u64>,
) -> BlobInfo {
    store.put(content, limit).await.expect("put")
}

pub(super) async fn read(
    store: &dyn BlobStore,
    hash: &ContentHash,
    range: Option<Range<u64>>,
) -> Vec<u8> {
    let stream = store.get(hash, range.clone()).await.expect("get");
    collect(stream).await.expect("blob stream")
}

pub(super) fn sorted(mut hashes: Vec<ContentHash>) -> Vec<ContentHash> {
    hashes.sort();
    hashes
}
