//! The contract of resumable writes (the blobs replication receives):
//! a cut write keeps what arrived and resumes from there, a resume out of
//! place or a lying write is refused, and `holdings` tells what is held.

use std::io;

use futures::StreamExt;
use passerelle_core::blob::{BlobError, BlobStore, ByteStream, Holding, Resumed};

use passerelle_core::hash::ContentHash;

use super::{MIB, ODD_CHUNKS, chunked, info_of, pattern, put, read, sorted};

/// `holdings` answers for each blob asked, in order: stored whole (with
/// its size), or the bytes a resumable write kept (0 when none).
pub async fn tells_what_it_holds_of_each_blob(store: &dyn BlobStore) {
    let stored = pattern(70_000, 970);
    let stored = put(store, chunked(&stored, &[MIB]), None).await;
    let partial = pattern(3 * MIB, 971);
    let partial_info = info_of(&partial);
    let kept = MIB + 11;
    let resumed = store
        .put_resumable(
            &partial_info.hash,
            partial_info.size,
            0,
            chunked(&partial[..kept], &[MIB]),
        )
        .await
        .expect("partial write");
    assert_eq!(resumed, Resumed::Incomplete { kept: kept as u64 });
    let absent = info_of(&pattern(10, 972)).hash;
    let asked = [absent, stored.hash, partial_info.hash, stored.hash];
    assert_eq!(
        store.holdings(&asked).await.expect("holdings"),
        vec![
            Holding::Partial(0),
            Holding::Stored(stored.size),
            Holding::Partial(kept as u64),
            Holding::Stored(stored.size),
        ]
    );
    assert!(store.holdings(&[]).await.expect("none").is_empty());
    store
        .discard_partial(&partial_info.hash)
        .await
        .expect("discard");
}

/// `content`, then an error: a sender that went away.
pub(super) fn cut(data: &[u8], sizes: &[usize]) -> ByteStream {
    Box::pin(
        chunked(data, sizes).chain(futures::stream::iter([Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "sender went away",
        ))])),
    )
}

/// A known blob of boundary sizes arrives whole in one resumable write,
/// and reads back like any blob; writing it again does nothing.
pub async fn stores_a_known_blob_in_one_resumable_write(store: &dyn BlobStore) {
    for (i, &len) in [0, 1, MIB - 1, MIB + 1, 3 * MIB + 5].iter().enumerate() {
        let data = pattern(len, 900 + i as u64);
        let info = info_of(&data);
        let resumed = store
            .put_resumable(&info.hash, info.size, 0, chunked(&data, ODD_CHUNKS))
            .await
            .expect("put_resumable");
        assert_eq!(resumed, Resumed::Stored(info), "{len} bytes");
        assert!(read(store, &info.hash, None).await == data);
        store.verify(&info.hash).await.expect("verifies");
        assert_eq!(store.partial_len(&info.hash).await.expect("len"), info.size);
        let again = store
            .put_resumable(&info.hash, info.size, 0, chunked(&data, &[MIB]))
            .await
            .expect("again");
        assert_eq!(again, Resumed::Stored(info));
    }
}

/// A write cut twice keeps what arrived each time; the next write resumes
/// from there, and the blob is whole and true at the end.
pub async fn resumes_a_cut_write_where_it_stopped(store: &dyn BlobStore) {
    let data = pattern(5 * MIB + 17, 950);
    let info = info_of(&data);
    assert_eq!(store.partial_len(&info.hash).await.expect("len"), 0);
    let first = 2 * MIB + 3;
    let resumed = store
        .put_resumable(&info.hash, info.size, 0, cut(&data[..first], ODD_CHUNKS))
        .await
        .expect("first part");
    assert_eq!(resumed, Resumed::Incomplete { kept: first as u64 });
    assert_eq!(
        store.partial_len(&info.hash).await.expect("len"),
        first as u64
    );
    assert_eq!(store.size(&info.hash).await.expect("size"), None);
    // A stream that simply ends early keeps its bytes too.
    let second = 4 * MIB;
    let resumed = store
        .put_resumable(
            &info.hash,
            info.size,
            first as u64,
            chunked(&data[first..second], &[65_536]),
        )
        .await
        .expect("second part");
    assert_eq!(
        resumed,
        Resumed::Incomplete {
            kept: second as u64
        }
    );
    let resumed = store
        .put_resumable(
            &info.hash,
            info.size,
            second as u64,
            chunked(&data[second..], &[MIB]),
        )
        .await
        .expect("last part");
    assert_eq!(resumed, Resumed::Stored(info));
    assert!(read(store, &info.hash, None).await == data);
    store.verify(&info.hash).await.expect("verifies");
}

/// A resume that does not start where the store stopped writes nothing.
pub async fn refuses_a_resume_out_of_place(store: &dyn BlobStore) {
    let data = pattern(MIB, 960);
    let info = info_of(&data);
    store
        .put_resumable(&info.hash, info.size, 0, cut(&data[..1000], &[100]))
        .await
        .expect("first part");
    for offset in [0, 999, 1001] {
        match store
            .put_resumable(
                &info.hash,
                info.size,
                offset,
                chunked(&data[offset as usize..], &[4096]),
            )
            .await
        {
            Err(BlobError::OutOfPlace { offset: o, kept }) => {
                assert_eq!((o, kept), (offset, 1000));
            }
            other => panic!("resume at {offset}: {other:?}"),
        }
    }
    assert_eq!(store.partial_len(&info.hash).await.expect("len"), 1000);
    assert!(
        store
            .partials()
            .await
            .expect("partials")
            .contains(&(info.hash, 1000))
    );
    store.discard_partial(&info.hash).await.expect("discard");
    assert_eq!(store.partial_len(&info.hash).await.expect("len"), 0);
    assert!(
        !store
            .partials()
            .await
            .expect("partials")
            .iter()
            .any(|(h, _)| *h == info.hash)
    );
    store.discard_partial(&info.hash).await.expect("idempotent");
}

/// Too many bytes, or bytes that hash to another name: refused, and the
/// partial blob is gone (a resume could only repeat the lie).
pub async fn discards_a_resumable_write_that_lies(store: &dyn BlobStore) {
    let data = pattern(2 * MIB + 1, 970);
    let info = info_of(&data);
    let before = sorted(store.list().await.expect("list"));
    match store
        .put_resumable(&info.hash, info.size - 1, 0, chunked(&data, ODD_CHUNKS))
        .await
    {
        Err(BlobError::TooLarge { limit }) => assert_eq!(limit, info.size - 1),
        other => panic!("more bytes than announced: {other:?}"),
    }
    assert_eq!(store.partial_len(&info.hash).await.expect("len"), 0);
    let mut forged = data.clone();
    forged[MIB] ^= 1;
    match store
        .put_resumable(&info.hash, info.size, 0, chunked(&forged, ODD_CHUNKS))
        .await
    {
        Err(BlobError::Corrupt { expected, actual }) => {
            assert_eq!(expected, info.hash);
            assert_eq!(actual, ContentHash::of(&forged));
        }
        other => panic!("forged content: {other:?}"),
    }
    assert_eq!(store.partial_len(&info.hash).await.expect("len"), 0);
    assert_eq!(store.size(&info.hash).await.expect("size"), None);
    // The same for a small blob, which arrives in one piece.
    let small = pattern(1000, 971);
    let claimed = ContentHash::of(&pattern(1000, 972));
    match store
        .put_resumable(&claimed, 1000, 0, chunked(&small, &[300]))
        .await
    {
        Err(BlobError::Corrupt { expected, actual }) => {
            assert_eq!((expected, actual), (claimed, ContentHash::of(&small)));
        }
        other => panic!("forged small content: {other:?}"),
    }
    assert_eq!(store.partial_len(&claimed).await.expect("len"), 0);
    assert_eq!(sorted(store.list().await.expect("list")), before);
}
