//! The blob stores under test: the contract suite against `FsBlobStore` and
//! core's `MemBlobStore`, filesystem specifics, `gc`, and a 1 GiB round trip.

use std::collections::HashSet;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use passerelle_blobs::contract::{self, chunked, pattern};
use passerelle_blobs::{FsBlobStore, GcReport, gc};
use passerelle_core::blob::{BlobError, BlobStore, ByteStream, Resumed};
use passerelle_core::fakes::MemBlobStore;
use passerelle_core::hash::ContentHash;
use passerelle_testing::eventually;
use tempfile::TempDir;

const MIB: usize = 1 << 20;

/// A fresh store of one kind, and how to corrupt its bytes behind its back.
enum Fixture {
    Fs { store: FsBlobStore, _dir: TempDir },
    Mem(MemBlobStore),
}

impl Fixture {
    fn fs() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FsBlobStore::open(dir.path().join("data")).expect("open store");
        Fixture::Fs { store, _dir: dir }
    }

    fn mem() -> Self {
        Fixture::Mem(MemBlobStore::new())
    }

    fn store(&self) -> &dyn BlobStore {
        match self {
            Fixture::Fs { store, .. } => store,
            Fixture::Mem(store) => store,
        }
    }

    fn corrupt(&self, hash: &ContentHash) {
        match self {
            Fixture::Fs { store, .. } => flip_a_byte(&store.blob_path(hash)),
            Fixture::Mem(store) => assert!(store.corrupt(hash)),
        }
    }
}

/// One test per contract check, for the store built by `$fixture`.
macro_rules! contract_tests {
    ($fixture:expr) => {
        contract_tests!(
            $fixture,
            stores_content_of_boundary_sizes,
            stores_identical_content_once,
            serves_ranges,
            serves_ranges_of_the_empty_blob,
            rejects_content_over_the_limit_and_keeps_nothing,
            keeps_nothing_when_the_stream_fails,
            agrees_on_concurrent_puts_of_the_same_content,
            reports_missing_blobs,
            opens_a_whole_blob,
            deletes_idempotently,
            lists_every_blob,
            sweeping_keeps_durable_blobs,
            resumes_a_cut_write_where_it_stopped,
            stores_a_known_blob_in_one_resumable_write,
            refuses_a_resume_out_of_place,
            discards_a_resumable_write_that_lies,
            tells_what_it_holds_of_each_blob,
            run_all,
        );

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn detects_corruption() {
            let fixture = $fixture;
            contract::detects_corruption(fixture.store(), |hash| fixture.corrupt(hash)).await;
        }
    };
    ($fixture:expr, $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                contract::$check($fixture.store()).await;
            }
        )+
    };
}

mod fs_store_contract {
    use super::*;
    contract_tests!(Fixture::fs());
}

mod mem_store_contract {
    use super::*;
    contract_tests!(Fixture::mem());
}

/// The disk store hands its file (what clamd's descriptor passing needs),
/// the in-memory one its stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_store_opens_its_file_and_the_memory_store_streams() {
    use passerelle_core::blob::Readable;
    for (fixture, file) in [(Fixture::fs(), true), (Fixture::mem(), false)] {
        let info = fixture
            .store()
            .put(contract::chunked(b"un cahier des charges", &[5]), None)
            .await
            .expect("put");
        let opened = fixture.store().open(&info.hash).await.expect("open");
        assert_eq!(matches!(opened, Readable::File(_)), file, "{opened:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_store_below_its_floor_refuses_new_content_and_keeps_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let full = FsBlobStore::open(dir.path().join("data"))
        .expect("open store")
        .with_min_free(u64::MAX / 2);
    contract::refuses_new_content_when_full_and_keeps_nothing(&full).await;
    assert_eq!(files_under(&dir.path().join("data")), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_store_without_capacity_left_refuses_new_content_and_keeps_nothing() {
    contract::refuses_new_content_when_full_and_keeps_nothing(&MemBlobStore::with_capacity(0))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_store_without_floor_tells_its_room_and_refuses_nothing() {
    let (_dir, store) = open_store();
    let room = store.room().await.expect("room");
    if cfg!(target_os = "linux") {
        let room = room.expect("statvfs on Linux");
        assert_eq!(room.floor, 0);
        assert!(!room.is_short(), "{room:?}");
    }
    contract::stores_content_of_boundary_sizes(&store).await;
}

fn open_store() -> (TempDir, FsBlobStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = FsBlobStore::open(dir.path().to_path_buf()).expect("open store");
    (dir, store)
}

fn flip_a_byte(path: &Path) {
    let mut bytes = std::fs::read(path).expect("read blob file");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x80;
    std::fs::write(path, bytes).expect("rewrite blob file");
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            let path = e.expect("entry").path();
            if path.is_dir() { files_under(&path) } else { 1 }
        })
        .sum()
}

#[tokio::test]
async fn opening_creates_the_blob_and_temporary_directories() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("nested").join("data");
    let store = FsBlobStore::open(root.clone()).expect("open");
    assert!(root.join("blobs").is_dir());
    assert!(root.join("tmp").is_dir());
    assert_eq!(store.root(), root);
    assert_eq!(store.temporaries_dir(), root.join("tmp"));
}

#[tokio::test]
async fn lays_blobs_out_under_their_hash_prefix() {
    let (dir, store) = open_store();
    let info = store
        .put(chunked(b"passerelle", &[3]), None)
        .await
        .expect("put");
    let hex = info.hash.to_hex();
    let path = dir.path().join("blobs").join(&hex[..2]).join(&hex);
    assert_eq!(store.blob_path(&info.hash), path);
    assert_eq!(std::fs::read(&path).expect("blob file"), b"passerelle");
    assert!(entries(store.temporaries_dir()).is_empty());
}

#[tokio::test]
async fn stores_identical_content_in_a_single_file() {
    let (dir, store) = open_store();
    let data = pattern(MIB + 1, 1);
    for chunks in [&[MIB][..], &[7, 65_536]] {
        store.put(chunked(&data, chunks), None).await.expect("put");
    }
    assert_eq!(files_under(&dir.path().join("blobs")), 1);
    assert!(entries(store.temporaries_dir()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaves_no_temporary_after_a_rejected_or_cut_upload() {
    let (dir, store) = open_store();
    let data = pattern(3 * MIB, 2);
    let too_large = store
        .put(chunked(&data, &[MIB / 2]), Some(2 * MIB as u64))
        .await;
    assert!(matches!(too_large, Err(BlobError::TooLarge { .. })));
    let cut = chunked(&data, &[MIB / 2]).chain(futures::stream::iter([Err(io::Error::other(
        "connection reset",
    ))]));
    let interrupted = store.put(Box::pin(cut), None).await;
    assert!(matches!(interrupted, Err(BlobError::Interrupted(_))));
    assert!(entries(store.temporaries_dir()).is_empty());
    assert_eq!(files_under(&dir.path().join("blobs")), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removes_the_temporary_when_the_upload_is_abandoned() {
    let (_dir, store) = open_store();
    let (reached_tx, reached_rx) = tokio::sync::oneshot::channel();
    // 3 MiB arrive, then the client stalls forever.
    let stall = futures::stream::once(async move {
        let _ = reached_tx.send(());
        futures::future::pending::<io::Result<Bytes>>().await
    });
    let content: ByteStream = Box::pin(chunked(&pattern(3 * MIB, 3), &[MIB]).chain(stall));
    tokio::select! {
        result = store.put(content, None) => panic!("a stalled upload finished: {result:?}"),
        _ = reached_rx => {}
    }
    // The `put` future is dropped here, as when a connection is cut.
    let tmp = store.temporaries_dir().to_path_buf();
    eventually("the temporary is removed", || async {
        let left = entries(&tmp);
        anyhow::ensure!(left.is_empty(), "still there: {left:?}");
        Ok(())
    })
    .await
    .expect("the temporary is removed");
    assert!(store.list().await.expect("list").is_empty());
}

#[tokio::test]
async fn sweeps_leftover_temporaries() {
    let (_dir, store) = open_store();
    let tmp = store.temporaries_dir();
    std::fs::write(tmp.join("a.part"), b"half").expect("write");
    std::fs::write(tmp.join("b.part"), b"").expect("write");
    std::fs::create_dir(tmp.join("stray")).expect("mkdir");
    std::fs::write(tmp.join("stray").join("x"), b"x").expect("write");
    let kept = store.put(chunked(b"kept", &[1]), None).await.expect("put");

    assert_eq!(store.sweep_temporaries().await.expect("sweep"), 3);
    assert!(entries(tmp).is_empty());
    assert_eq!(store.sweep_temporaries().await.expect("sweep"), 0);
    store.verify(&kept.hash).await.expect("blob untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumable_write_keeps_its_prefix_on_disk_across_sweeps_and_reopening() {
    let (dir, store) = open_store();
    let data = pattern(3 * MIB, 4242);
    let hash = ContentHash::of(&data);
    let cut = Box::pin(
        chunked(&data[..MIB + 5], &[65_536]).chain(futures::stream::iter([Err(io::Error::new(
            io::ErrorKind::BrokenPipe,
            "peer gone",
        ))])),
    );
    let resumed = store
        .put_resumable(&hash, data.len() as u64, 0, cut)
        .await
        .expect("first part");
    assert_eq!(
        resumed,
        Resumed::Incomplete {
            kept: MIB as u64 + 5
        }
    );
    let partial = store.partial_path(&hash);
    assert!(std::fs::read(&partial).expect("partial file") == data[..MIB + 5]);
    assert_eq!(store.sweep_temporaries().await.expect("sweep"), 0);
    assert!(
        store.list().await.expect("list").is_empty(),
        "not a blob yet"
    );

    let store = FsBlobStore::open(dir.path().to_path_buf()).expect("reopen");
    assert_eq!(store.partial_len(&hash).await.expect("len"), MIB as u64 + 5);
    let rest = chunked(&data[MIB + 5..], &[MIB]);
    let resumed = store
        .put_resumable(&hash, data.len() as u64, MIB as u64 + 5, rest)
        .await
        .expect("rest");
    assert!(matches!(resumed, Resumed::Stored(info) if info.hash == hash));
    assert!(!partial.exists(), "the partial file became the blob");
    assert!(std::fs::read(store.blob_path(&hash)).expect("blob") == data);
    assert!(entries(&dir.path().join("tmp")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_concurrent_resumable_write_of_a_blob_is_refused() {
    let (_dir, store) = open_store();
    let data = pattern(MIB, 4343);
    let hash = ContentHash::of(&data);
    // The first write waits for bytes that come only after the second tried.
    let (tx, rx) = futures::channel::mpsc::unbounded::<io::Result<Bytes>>();
    let first = store.put_resumable(&hash, data.len() as u64, 0, Box::pin(rx));
    let second = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let refused = store
            .put_resumable(&hash, data.len() as u64, 0, chunked(&data, &[MIB]))
            .await;
        assert!(
            matches!(refused, Err(BlobError::Busy(h)) if h == hash),
            "{refused:?}"
        );
        assert!(matches!(
            store.discard_partial(&hash).await,
            Err(BlobError::Busy(_))
        ));
        tx.unbounded_send(Ok(Bytes::from(data.clone())))
            .expect("send");
        drop(tx);
    };
    let (stored, ()) = tokio::join!(first, second);
    assert!(matches!(stored, Ok(Resumed::Stored(_))), "{stored:?}");
    // Released: a later write of the same blob is served.
    let again = store
        .put_resumable(&hash, data.len() as u64, 0, chunked(&data, &[MIB]))
        .await;
    assert!(matches!(again, Ok(Resumed::Stored(_))));
}

#[tokio::test]
async fn lists_only_well_formed_blob_names() {
    let (dir, store) = open_store();
    let info = store
        .put(chunked(b"listed", &[2]), None)
        .await
        .expect("put");
    let blobs = dir.path().join("blobs");
    let hex = info.hash.to_hex();
    let other = ContentHash::of(b"other").to_hex();
    let junk = [
        blobs.join("README"),
        blobs.join(&hex[..2]).join(format!("{hex}.swp")),
        blobs.join(&hex[..2]).join(hex.to_uppercase()),
        blobs.join(&hex[..2]).join(&other), // wrong shard, unless equal
        blobs.join("zz").join(&hex),
    ];
    for path in &junk {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, b"junk").expect("write");
    }
    let same_shard = hex[..2] == other[..2];
    let listed = store.list().await.expect("list");
    assert_eq!(listed.len(), if same_shard { 2 } else { 1 }, "{listed:?}");
    assert!(listed.contains(&info.hash));
}

#[tokio::test]
async fn keeps_blobs_across_reopening() {
    let dir = tempfile::tempdir().expect("temp dir");
    let info = {
        let store = FsBlobStore::open(dir.path().to_path_buf()).expect("open");
        store
            .put(chunked(b"durable", &[1]), None)
            .await
            .expect("put")
    };
    let store = FsBlobStore::open(dir.path().to_path_buf()).expect("reopen");
    assert_eq!(store.size(&info.hash).await.expect("size"), Some(7));
    store.verify(&info.hash).await.expect("verify");
}

#[tokio::test]
async fn a_corrupted_file_still_serves_but_fails_verification() {
    let (_dir, store) = open_store();
    let data = pattern(1000, 4);
    let info = store.put(chunked(&data, &[100]), None).await.expect("put");
    flip_a_byte(&store.blob_path(&info.hash));
    // `get` streams what is on disk; `verify` is how readers detect rot.
    let served = contract::collect(store.get(&info.hash, None).await.expect("get"))
        .await
        .expect("read");
    assert_ne!(served, data);
    assert!(matches!(
        store.verify(&info.hash).await,
        Err(BlobError::Corrupt { .. })
    ));
}

#[tokio::test]
async fn gc_deletes_unreferenced_blobs_and_counts_their_bytes() {
    for fixture in [Fixture::fs(), Fixture::mem()] {
        let store = fixture.store();
        let keep = store.put(chunked(b"kept", &[1]), None).await.expect("put");
        let drop_a = store
            .put(chunked(&[1; 1000], &[64]), None)
            .await
            .expect("put");
        let drop_b = store
            .put(chunked(&[2; 24], &[64]), None)
            .await
            .expect("put");
        let referenced = HashSet::from([keep.hash]);

        // Just stored: spared by an hour's margin.
        let spared = gc(store, &referenced, Duration::from_secs(3600))
            .await
            .expect("gc");
        assert_eq!((spared.recent, spared.deleted), (2, 0));
        assert_eq!(store.list().await.expect("list").len(), 3);

        let report = gc(store, &referenced, Duration::ZERO).await.expect("gc");
        assert_eq!(
            report,
            GcReport {
                scanned: 3,
                kept: 1,
                recent: 0,
                deleted: 2,
                bytes_freed: 1024
            }
        );
        assert_eq!(store.list().await.expect("list"), vec![keep.hash]);
        for gone in [drop_a.hash, drop_b.hash] {
            assert_eq!(store.size(&gone).await.expect("size"), None);
        }
        let again = gc(store, &referenced, Duration::ZERO)
            .await
            .expect("second gc");
        assert_eq!(again.deleted, 0);
    }
}

/// 1 GiB of deterministic bytes, produced chunk by chunk, never held whole.
/// Chunks are an odd size, as they would come off a network.
fn gibibyte_stream() -> ByteStream {
    const TOTAL: u64 = 1 << 30;
    const CHUNK: u64 = 256 * 1024 + 7;
    let xof = blake3::Hasher::new().update(b"gibibyte").finalize_xof();
    Box::pin(futures::stream::unfold(
        (xof, 0u64),
        |(mut xof, sent)| async move {
            if sent == TOTAL {
                return None;
            }
            let len = CHUNK.min(TOTAL - sent);
            let mut chunk = vec![0; len as usize];
            xof.fill(&mut chunk);
            Some((Ok(Bytes::from(chunk)), (xof, sent + len)))
        },
    ))
}

/// Peak resident memory of this process (Linux), to check that a 1 GiB
/// upload does not grow it by anything like 1 GiB.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_a_gibibyte_through_the_filesystem_store() {
    let (_dir, store) = open_store();
    let expected = contract::hash_stream(gibibyte_stream())
        .await
        .expect("generate");
    let peak_before = peak_rss_bytes();

    let started = Instant::now();
    let info = store.put(gibibyte_stream(), None).await.expect("put");
    let put_time = started.elapsed();
    assert_eq!(info, expected);

    let started = Instant::now();
    let read_back = contract::hash_stream(store.get(&info.hash, None).await.expect("get"))
        .await
        .expect("read back");
    let get_time = started.elapsed();
    assert_eq!(read_back, expected);

    // A range near the end, at an unaligned offset, matches the generator.
    let start = (1 << 30) - 1_000_003;
    let mut xof = blake3::Hasher::new().update(b"gibibyte").finalize_xof();
    xof.set_position(start);
    let mut tail = vec![0; 1_000_000];
    xof.fill(&mut tail);
    let range = store
        .get(&info.hash, Some(start..start + 1_000_000))
        .await
        .expect("get range");
    assert!(contract::collect(range).await.expect("read range") == tail);

    if let (Some(before), Some(after)) = (peak_before, peak_rss_bytes()) {
        let growth = after.saturating_sub(before);
        assert!(growth < 128 << 20, "peak memory grew by {growth} bytes");
    }
    eprintln!("1 GiB: put {put_time:?}, get {get_time:?}");
}
