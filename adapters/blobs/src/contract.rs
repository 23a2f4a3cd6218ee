//! The `BlobStore` contract: what every store (filesystem, in-memory fake,
//! later S3) must do, as async functions that panic on the first violation,
//! like tests do. Each store's tests call them on a fresh store; `run_all` runs
//! the store-agnostic ones in a row on one store (each uses its own content,
//! so they do not interfere).
//!
//! Compiled in every build: it is small, has no dependency of its own, and
//! another crate's tests (a node's, an S3 store's) can run it.

mod resumable;
mod streams;

pub use resumable::*;
pub use streams::{chunked, collect, hash_stream, pattern};

use std::io;
use std::ops::Range;

use futures::StreamExt;
use passerelle_core::blob::{BlobError, BlobStore, Readable};
use passerelle_core::hash::ContentHash;

use self::streams::{info_of, put, read, sorted};

const MIB: usize = 1 << 20;

/// Sizes around the 1 MiB buffers and batches stores tend to use, and around
/// BLAKE3's 1 KiB chunks.
pub const BOUNDARY_SIZES: &[usize] = &[0, 1, 1023, 1024, 1025, MIB - 1, MIB, MIB + 1, 5 * MIB + 3];

/// Chunk sizes an upload may arrive in: odd, tiny and larger than a buffer.
pub const ODD_CHUNKS: &[usize] = &[1, 7, 4093, 65_537, MIB + 9, 3, 131_071];

/// Runs every check that needs nothing but the store itself.
pub async fn run_all(store: &dyn BlobStore) {
    stores_content_of_boundary_sizes(store).await;
    stores_identical_content_once(store).await;
    serves_ranges(store).await;
    serves_ranges_of_the_empty_blob(store).await;
    rejects_content_over_the_limit_and_keeps_nothing(store).await;
    keeps_nothing_when_the_stream_fails(store).await;
    agrees_on_concurrent_puts_of_the_same_content(store).await;
    reports_missing_blobs(store).await;
    opens_a_whole_blob(store).await;
    deletes_idempotently(store).await;
    lists_every_blob(store).await;
    sweeping_keeps_durable_blobs(store).await;
    tells_when_a_blob_was_last_stored(store).await;
    resumes_a_cut_write_where_it_stopped(store).await;
    stores_a_known_blob_in_one_resumable_write(store).await;
    refuses_a_resume_out_of_place(store).await;
    discards_a_resumable_write_that_lies(store).await;
    tells_what_it_holds_of_each_blob(store).await;
}

/// `stored_at` is the time of the last `put`, deduplicated ones included.
pub async fn tells_when_a_blob_was_last_stored(store: &dyn BlobStore) {
    let before = std::time::SystemTime::now() - std::time::Duration::from_secs(2);
    let data = pattern(1000, 77);
    let info = put(store, chunked(&data, &[100]), None).await;
    let first = store
        .stored_at(&info.hash)
        .await
        .expect("stored_at")
        .expect("present");
    assert!(first >= before, "stored_at is recent");
    put(store, chunked(&data, &[100]), None).await;
    let second = store
        .stored_at(&info.hash)
        .await
        .expect("stored_at")
        .expect("present");
    assert!(second >= first, "a deduplicated put refreshes it");
    let absent = crate::contract::pattern(3, 78);
    assert_eq!(
        store
            .stored_at(&ContentHash::of(&absent))
            .await
            .expect("stored_at"),
        None
    );
}

/// Each boundary size, fed in odd chunks, comes back whole with its BLAKE3.
pub async fn stores_content_of_boundary_sizes(store: &dyn BlobStore) {
    for (i, &len) in BOUNDARY_SIZES.iter().enumerate() {
        let data = pattern(len, 1 + i as u64);
        let info = put(store, chunked(&data, ODD_CHUNKS), None).await;
        assert_eq!(info, info_of(&data), "put of {len} bytes");
        assert_eq!(
            store.size(&info.hash).await.expect("size"),
            Some(len as u64)
        );
        let back = read(store, &info.hash, None).await;
        assert!(back == data, "{len} bytes read back differ");
        store.verify(&info.hash).await.expect("fresh blob verifies");
    }
    // Also one single chunk, the way a small upload arrives.
    let data = pattern(MIB + 1, 100);
    let info = put(store, chunked(&data, &[usize::MAX]), None).await;
    assert_eq!(info, info_of(&data));
}

/// The same bytes, chunked differently, give the same `BlobInfo` and one blob.
pub async fn stores_identical_content_once(store: &dyn BlobStore) {
    let data = pattern(2 * MIB + 5, 200);
    let first = put(store, chunked(&data, ODD_CHUNKS), None).await;
    let second = put(store, chunked(&data, &[MIB]), None).await;
    assert_eq!(first, second);
    let listed = store.list().await.expect("list");
    let copies = listed.iter().filter(|h| **h == first.hash).count();
    assert_eq!(copies, 1, "identical content is listed once");
    assert!(read(store, &first.hash, None).await == data);
}

/// Ranges are end-exclusive; out-of-bounds ones are `BadRange`.
pub async fn serves_ranges(store: &dyn BlobStore) {
    let data = pattern(MIB + 17, 300);
    let size = data.len() as u64;
    let info = put(store, chunked(&data, ODD_CHUNKS), None).await;
    let hash = info.hash;
    // Around 256 KiB too: a store may read small ranges at once.
    let ranges: [Range<u64>; 10] = [
        0..1,
        5..5 + 256 * 1024,
        5..5 + 256 * 1024 + 1,
        size - 256 * 1024..size,
        size - 1..size,
        1000..MIB as u64 + 5,
        0..size,
        size..size,
        0..0,
        12_345..12_345,
    ];
    for range in ranges {
        let part = read(store, &hash, Some(range.clone())).await;
        let expected = &data[range.start as usize..range.end as usize];
        assert!(part == expected, "range {range:?} differs");
    }
    // `Range { .. }` because clippy rejects a literal reversed range.
    let reversed = Range { start: 10, end: 9 };
    for range in [size..size + 1, 0..size + 1, reversed, size + 5..size + 9] {
        let (start, end) = (range.start, range.end);
        match store.get(&hash, Some(range)).await {
            Err(BlobError::BadRange {
                start: s,
                end: e,
                size: n,
            }) => {
                assert_eq!((s, e, n), (start, end, size));
            }
            Err(other) => panic!("range {start}..{end}: expected BadRange, got {other:?}"),
            Ok(_) => panic!("range {start}..{end} of {size} bytes was served"),
        }
    }
}

/// The empty blob has exactly one valid range, `0..0`.
pub async fn serves_ranges_of_the_empty_blob(store: &dyn BlobStore) {
    let info = put(store, chunked(&[], ODD_CHUNKS), None).await;
    assert_eq!(info.hash, ContentHash::of_empty());
    assert!(read(store, &info.hash, Some(0..0)).await.is_empty());
    assert!(read(store, &info.hash, None).await.is_empty());
    assert!(matches!(
        store.get(&info.hash, Some(0..1)).await,
        Err(BlobError::BadRange {
            start: 0,
            end: 1,
            size: 0
        })
    ));
}

/// `limit` bytes are accepted; one more is `TooLarge` and leaves nothing.
pub async fn rejects_content_over_the_limit_and_keeps_nothing(store: &dyn BlobStore) {
    let limit = MIB as u64 + 3;
    let fits = pattern(limit as usize, 400);
    let info = put(store, chunked(&fits, ODD_CHUNKS), Some(limit)).await;
    assert_eq!(info.size, limit);

    let before = sorted(store.list().await.expect("list"));
    for (len, chunks) in [(limit + 1, ODD_CHUNKS), (3 * limit, &[MIB][..])] {
        let data = pattern(len as usize, 401 + len);
        match store.put(chunked(&data, chunks), Some(limit)).await {
            Err(BlobError::TooLarge { limit: l }) => assert_eq!(l, limit),
            other => panic!("{len} bytes with a limit of {limit}: {other:?}"),
        }
        assert_eq!(
            store.size(&ContentHash::of(&data)).await.expect("size"),
            None
        );
    }
    assert_eq!(sorted(store.list().await.expect("list")), before);
    assert_eq!(
        store.sweep_temporaries().await.expect("sweep"),
        0,
        "a rejected put left a temporary"
    );
    // An empty upload always fits.
    assert_eq!(put(store, chunked(&[], &[1]), Some(0)).await.size, 0);
}

/// A stream that fails midway is `Interrupted` and leaves nothing.
pub async fn keeps_nothing_when_the_stream_fails(store: &dyn BlobStore) {
    let before = sorted(store.list().await.expect("list"));
    for cut_at in [0, 10, 3 * MIB + 1] {
        let data = pattern(cut_at, 500 + cut_at as u64);
        let stream = chunked(&data, ODD_CHUNKS).chain(futures::stream::iter([Err(
            io::Error::new(io::ErrorKind::ConnectionReset, "client went away"),
        )]));
        match store.put(Box::pin(stream), None).await {
            Err(BlobError::Interrupted(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
            other => panic!("stream cut at {cut_at}: {other:?}"),
        }
    }
    assert_eq!(sorted(store.list().await.expect("list")), before);
    assert_eq!(
        store.sweep_temporaries().await.expect("sweep"),
        0,
        "an interrupted put left a temporary"
    );
}

/// Two uploads of the same bytes at the same time both succeed, as one blob.
pub async fn agrees_on_concurrent_puts_of_the_same_content(store: &dyn BlobStore) {
    let data = pattern(3 * MIB + 1, 600);
    let (a, b) = futures::join!(
        put(store, chunked(&data, ODD_CHUNKS), None),
        put(store, chunked(&data, &[65_536]), None),
    );
    assert_eq!(a, b);
    assert_eq!(a, info_of(&data));
    assert!(read(store, &a.hash, None).await == data);
    store.verify(&a.hash).await.expect("verifies");
}

/// An absent blob: no size, and `get`/`verify` say `NotFound`.
pub async fn reports_missing_blobs(store: &dyn BlobStore) {
    let absent = ContentHash::of(b"never stored in any passerelle contract test");
    assert_eq!(store.size(&absent).await.expect("size"), None);
    assert!(matches!(store.get(&absent, None).await, Err(BlobError::NotFound(h)) if h == absent));
    assert!(
        matches!(store.get(&absent, Some(0..0)).await, Err(BlobError::NotFound(h)) if h == absent)
    );
    assert!(matches!(store.verify(&absent).await, Err(BlobError::NotFound(h)) if h == absent));
    assert!(matches!(store.open(&absent).await, Err(BlobError::NotFound(h)) if h == absent));
}

/// `open` hands the whole blob, as a stream or as its file, with the same
/// bytes either way; an open file keeps them after the blob is deleted.
pub async fn opens_a_whole_blob(store: &dyn BlobStore) {
    for (len, seed) in [(0, 31), (1025, 32), (MIB + 1, 33)] {
        let data = pattern(len, seed);
        let info = put(store, chunked(&data, ODD_CHUNKS), None).await;
        let opened = store.open(&info.hash).await.expect("open");
        store.delete(&info.hash).await.expect("delete");
        let read = match opened {
            Readable::Stream(stream) => collect(stream).await.expect("read the stream"),
            Readable::File(mut file) => {
                let mut all = Vec::new();
                io::Read::read_to_end(&mut file, &mut all).expect("read the file");
                all
            }
        };
        assert!(read == data, "open gave other bytes for {len} bytes");
    }
}

/// `delete` removes a blob; deleting it again, or deleting what never
/// existed, is not an error.
pub async fn deletes_idempotently(store: &dyn BlobStore) {
    let data = pattern(70_000, 700);
    let info = put(store, chunked(&data, ODD_CHUNKS), None).await;
    store.delete(&info.hash).await.expect("delete");
    assert_eq!(store.size(&info.hash).await.expect("size"), None);
    assert!(matches!(
        store.get(&info.hash, None).await,
        Err(BlobError::NotFound(_))
    ));
    assert!(!store.list().await.expect("list").contains(&info.hash));
    store.delete(&info.hash).await.expect("second delete");
    store
        .delete(&ContentHash::of(b"never stored either"))
        .await
        .expect("delete of an unknown blob");
    // And it can be stored again afterwards.
    assert_eq!(put(store, chunked(&data, &[MIB]), None).await, info);
    assert!(read(store, &info.hash, None).await == data);
}

/// `list` shows every stored blob, and stops showing deleted ones.
pub async fn lists_every_blob(store: &dyn BlobStore) {
    let before = sorted(store.list().await.expect("list"));
    let mut added = Vec::new();
    for i in 0..5 {
        let data = pattern(100 * i, 800 + i as u64);
        added.push(put(store, chunked(&data, ODD_CHUNKS), None).await.hash);
    }
    let after = store.list().await.expect("list");
    for hash in &added {
        assert!(after.contains(hash), "{hash:?} not listed");
    }
    store.delete(&added[0]).await.expect("delete");
    let mut expected = before;
    expected.extend_from_slice(&added[1..]);
    // Blobs of `before` that were re-added (the empty one) count once.
    expected.sort();
    expected.dedup();
    expected.retain(|h| *h != added[0]);
    assert_eq!(sorted(store.list().await.expect("list")), expected);
}

/// Sweeping temporaries never touches a durable blob.
pub async fn sweeping_keeps_durable_blobs(store: &dyn BlobStore) {
    let data = pattern(MIB + 100, 900);
    let info = put(store, chunked(&data, ODD_CHUNKS), None).await;
    store.sweep_temporaries().await.expect("sweep");
    assert_eq!(store.size(&info.hash).await.expect("size"), Some(info.size));
    store.verify(&info.hash).await.expect("still intact");
}

/// `verify` notices bytes that changed behind the store's back; `corrupt`
/// alters the stored bytes of the blob it is given (store-specific).
pub async fn detects_corruption(store: &dyn BlobStore, corrupt: impl FnOnce(&ContentHash)) {
    let data = pattern(MIB + 2, 1000);
    let info = put(store, chunked(&data, ODD_CHUNKS), None).await;
    store
        .verify(&info.hash)
        .await
        .expect("intact blob verifies");
    corrupt(&info.hash);
    match store.verify(&info.hash).await {
        Err(BlobError::Corrupt { expected, actual }) => {
            assert_eq!(expected, info.hash);
            assert_ne!(actual, info.hash);
        }
        other => panic!("verify of a corrupted blob: {other:?}"),
    }
}

/// A store without room for new content (the caller makes one: a disk
/// store whose floor is above the free space, a fake of no capacity)
/// refuses `put` and `put_resumable` with `Full`, saying why, and keeps
/// nothing: no blob, no partial blob, no temporary. Its `room`, when
/// known, says the content does not fit.
pub async fn refuses_new_content_when_full_and_keeps_nothing(full: &dyn BlobStore) {
    let data = pattern(3 * MIB + 5, 1200);
    let info = info_of(&data);
    match full.put(chunked(&data, ODD_CHUNKS), None).await {
        Err(BlobError::Full { cause, .. }) => assert!(!cause.is_empty()),
        other => panic!("put into a full store: {other:?}"),
    }
    match full
        .put_resumable(&info.hash, info.size, 0, chunked(&data, &[MIB]))
        .await
    {
        Err(BlobError::Full { cause, .. }) => assert!(!cause.is_empty()),
        other => panic!("put_resumable into a full store: {other:?}"),
    }
    assert_eq!(full.size(&info.hash).await.expect("size"), None);
    assert_eq!(full.partial_len(&info.hash).await.expect("partial"), 0);
    assert!(full.list().await.expect("list").is_empty());
    assert_eq!(
        full.sweep_temporaries().await.expect("sweep"),
        0,
        "a refused put left a temporary"
    );
    if let Some(room) = full.room().await.expect("room") {
        assert!(
            room.is_short() || room.free < info.size,
            "room says it fits: {room:?}"
        );
    }
}
