//! The edge's `PushBlob` against a hostile or interrupted sender: every
//! chunk is checked to follow the previous one, the whole is checked against
//! its name, and a cut keeps a durable prefix that the next push resumes;
//! every blob is recorded for the space it is sent for, so a purge of the
//! space removes it.
//!
//! The service runs over plain HTTP/2 on loopback here: what is under test
//! is the protocol handling; mutual TLS has its own tests (`mtls.rs`).

use std::sync::Arc;

use bytes::Bytes;
use passerelle_core::blob::BlobStore;
use passerelle_core::fakes::{FastPasswords, MemBlobStore, MemRepository};
use passerelle_core::{ContentHash, CoreSettings, EdgeApp};
use passerelle_grpc::edge_service::EdgeReplication;
use passerelle_proto::v1 as pb;
use pb::replication_client::ReplicationClient;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Server};
use tonic::{Code, Status};

const LIMIT: u64 = 4 << 20;

struct Edge {
    blobs: Arc<MemBlobStore>,
    client: ReplicationClient<Channel>,
    cancel: CancellationToken,
}

impl Drop for Edge {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn edge() -> anyhow::Result<Edge> {
    let blobs = Arc::new(MemBlobStore::new());
    let app = EdgeApp::new(
        Arc::new(MemRepository::new()),
        blobs.clone(),
        Arc::new(passerelle_core::ports::SystemClock),
        Arc::new(FastPasswords),
        CoreSettings {
            max_upload_bytes: LIMIT,
            ..CoreSettings::default()
        },
    );
    let cancel = CancellationToken::new();
    let service = EdgeReplication::new(app, "edge-1".parse()?, cancel.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let stop = cancel.clone();
    tokio::spawn(
        Server::builder()
            .add_service(service.into_server())
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                stop.cancelled_owned(),
            ),
    );
    let channel = Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    Ok(Edge {
        blobs,
        client: ReplicationClient::new(channel),
        cancel,
    })
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Chunks of `content` from `from`, `chunk` bytes each, named `hash`.
fn chunks(hash: &ContentHash, content: &[u8], from: usize, chunk: usize) -> Vec<pb::BlobChunk> {
    let mut out = Vec::new();
    let mut at = from;
    while at < content.len() {
        let end = (at + chunk).min(content.len());
        out.push(pb::BlobChunk {
            hash: hash.as_bytes().to_vec(),
            size: content.len() as u64,
            offset: at as u64,
            data: Bytes::copy_from_slice(&content[at..end]),
            space: String::new(),
        });
        at = end;
    }
    out
}

async fn push(edge: &mut Edge, chunks: Vec<pb::BlobChunk>) -> Result<(), Status> {
    edge.client
        .push_blob(futures::stream::iter(chunks))
        .await
        .map(drop)
}

async fn have(edge: &mut Edge, hash: &ContentHash, size: u64) -> anyhow::Result<Option<u64>> {
    let missing = edge
        .client
        .missing_blobs(pb::MissingBlobsRequest {
            blobs: vec![pb::BlobRef {
                hash: hash.as_bytes().to_vec(),
                size,
            }],
            space: String::new(),
        })
        .await?
        .into_inner()
        .missing;
    Ok(missing.first().map(|m| m.have))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_pushed_in_chunks_is_stored_and_no_longer_missing() -> anyhow::Result<()> {
    let mut edge = edge().await?;
    let content = data(3 << 20 | 5, 1);
    let hash = ContentHash::of(&content);
    assert_eq!(have(&mut edge, &hash, content.len() as u64).await?, Some(0));
    push(&mut edge, chunks(&hash, &content, 0, 1 << 20)).await?;
    assert_eq!(
        edge.blobs.size(&hash).await?,
        Some(content.len() as u64),
        "stored"
    );
    assert_eq!(have(&mut edge, &hash, content.len() as u64).await?, None);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_push_keeps_its_prefix_and_the_next_push_resumes_from_it() -> anyhow::Result<()> {
    let mut edge = edge().await?;
    let content = data(3 << 20, 2);
    let hash = ContentHash::of(&content);
    let mut all = chunks(&hash, &content, 0, 1 << 20);
    all.truncate(2);
    let cut = push(&mut edge, all).await.expect_err("incomplete");
    assert_eq!(cut.code(), Code::Aborted, "{cut:?}");
    assert_eq!(
        have(&mut edge, &hash, content.len() as u64).await?,
        Some(2 << 20)
    );
    // Resuming anywhere else is refused and says where to resume.
    let wrong = push(&mut edge, chunks(&hash, &content, 1 << 20, 1 << 20))
        .await
        .expect_err("out of place");
    assert_eq!(wrong.code(), Code::FailedPrecondition);
    assert!(
        wrong.message().contains(&(2u64 << 20).to_string()),
        "{wrong:?}"
    );
    push(&mut edge, chunks(&hash, &content, 2 << 20, 1 << 20)).await?;
    assert_eq!(edge.blobs.size(&hash).await?, Some(content.len() as u64));
    edge.blobs.verify(&hash).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_out_of_place_is_refused_and_the_valid_prefix_is_kept() -> anyhow::Result<()> {
    let mut edge = edge().await?;
    let content = data(3 << 20, 3);
    let hash = ContentHash::of(&content);
    let mut all = chunks(&hash, &content, 0, 1 << 20);
    all.remove(1); // a gap: the third chunk follows the first
    let refused = push(&mut edge, all).await.expect_err("gap");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(
        have(&mut edge, &hash, content.len() as u64).await?,
        Some(1 << 20)
    );
    assert_eq!(edge.blobs.size(&hash).await?, None);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_that_does_not_hash_to_its_name_is_refused_and_dropped() -> anyhow::Result<()> {
    let mut edge = edge().await?;
    let content = data(100_000, 4);
    let claimed = ContentHash::of(b"something else");
    let refused = push(&mut edge, chunks(&claimed, &content, 0, 40_000))
        .await
        .expect_err("lie");
    assert_eq!(refused.code(), Code::DataLoss, "{refused:?}");
    assert_eq!(edge.blobs.size(&claimed).await?, None);
    assert_eq!(
        have(&mut edge, &claimed, content.len() as u64).await?,
        Some(0),
        "nothing kept of a lie"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_bytes_than_announced_or_than_the_edge_accepts_are_refused() -> anyhow::Result<()> {
    let mut edge = edge().await?;
    let content = data(10_000, 5);
    let hash = ContentHash::of(&content);
    let mut all = chunks(&hash, &content, 0, 4_000);
    for c in &mut all {
        c.size = 9_000;
    }
    let refused = push(&mut edge, all).await.expect_err("too many bytes");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(edge.blobs.size(&hash).await?, None);

    let mut huge = chunks(&hash, &content, 0, 4_000);
    huge[0].size = LIMIT + 1;
    let refused = push(&mut edge, huge).await.expect_err("over the limit");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");

    // (Another blob: 8000 bytes of the first one are kept for a resume.)
    let oversized = vec![pb::BlobChunk {
        hash: ContentHash::of(b"another blob").as_bytes().to_vec(),
        size: LIMIT,
        offset: 0,
        data: Bytes::from(vec![0u8; (1 << 20) + 1]),
        space: String::new(),
    }];
    let refused = push(&mut edge, oversized).await.expect_err("chunk too big");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");

    let empty = push(&mut edge, Vec::new()).await.expect_err("no chunk");
    assert_eq!(empty.code(), Code::InvalidArgument, "{empty:?}");
    let bad_name = vec![pb::BlobChunk {
        hash: vec![1, 2, 3],
        size: 3,
        offset: 0,
        data: Bytes::from_static(b"abc"),
        space: String::new(),
    }];
    let refused = push(&mut edge, bad_name).await.expect_err("bad hash");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    Ok(())
}

// ------------------------------------------------------------ PushBlobs

async fn push_many(
    edge: &mut Edge,
    chunks: Vec<pb::BlobChunk>,
) -> Result<Vec<ContentHash>, Status> {
    let stored = edge
        .client
        .push_blobs(futures::stream::iter(chunks))
        .await?
        .into_inner()
        .stored;
    Ok(stored
        .iter()
        .map(|b| ContentHash::from_bytes(b.hash.as_slice().try_into().expect("32 bytes")))
        .collect())
}

/// Chunks as the internal node sends them: only the first names the blob.
fn unnamed(mut chunks: Vec<pb::BlobChunk>) -> Vec<pb::BlobChunk> {
    for c in chunks.iter_mut().skip(1) {
        c.hash.clear();
    }
    chunks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_blobs_on_one_stream_are_each_stored_whole() -> anyhow::Result<()> {
    let mut edge = edge().await?;
    let contents = [
        data(64 * 1024, 10),
        data((2 << 20) + 7, 11), // three chunks, named on the first only
        Vec::new(),              // an empty blob: one empty chunk
        data(1 << 20, 12),       // exactly one full chunk
        data(3 << 20, 13),       // three chunks, each named
        data(10, 14),
    ];
    let mut stream = Vec::new();
    for (i, c) in contents.iter().enumerate() {
        let hash = ContentHash::of(c);
        let mut cs = chunks(&hash, c, 0, 1 << 20);
        if cs.is_empty() {
            cs.push(pb::BlobChunk {
                hash: hash.as_bytes().to_vec(),
                size: 0,
                offset: 0,
                data: Bytes::new(),
                space: String::new(),
            });
        }
        stream.extend(if i == 4 { cs } else { unnamed(cs) });
    }
    let mut stored = push_many(&mut edge, stream).await?;
    let mut expected: Vec<_> = contents.iter().map(|c| ContentHash::of(c)).collect();
    stored.sort_by_key(|h| h.to_hex());
    expected.sort_by_key(|h| h.to_hex());
    assert_eq!(stored, expected, "the response lists every blob");
    for c in &contents {
        let hash = ContentHash::of(c);
        assert_eq!(edge.blobs.size(&hash).await?, Some(c.len() as u64));
        edge.blobs.verify(&hash).await?;
        assert_eq!(have(&mut edge, &hash, c.len() as u64).await?, None);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_the_edge_holds_already_is_drained_and_the_next_ones_stored() -> anyhow::Result<()> {
    let mut edge = edge().await?;
    let held = data(3 << 20, 20);
    let held_hash = ContentHash::of(&held);
    push(&mut edge, chunks(&held_hash, &held, 0, 1 << 20)).await?;
    let after = data(5000, 21);
    let after_hash = ContentHash::of(&after);
    let mut stream = unnamed(chunks(&held_hash, &held, 0, 1 << 20));
    stream.extend(chunks(&after_hash, &after, 0, 1 << 20));
    let stored = push_many(&mut edge, stream).await?;
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(
        edge.blobs.size(&after_hash).await?,
        Some(after.len() as u64)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lie_among_many_ends_the_stream_and_keeps_nothing_of_it() -> anyhow::Result<()> {
    let mut edge = edge().await?;
    let first = data(4000, 30);
    let first_hash = ContentHash::of(&first);
    let lie = data(4000, 31);
    let claimed = ContentHash::of(b"not these bytes");
    let mut stream = chunks(&first_hash, &first, 0, 1 << 20);
    stream.extend(chunks(&claimed, &lie, 0, 1 << 20));
    let refused = push_many(&mut edge, stream).await.expect_err("lie");
    assert_eq!(refused.code(), Code::DataLoss, "{refused:?}");
    assert_eq!(edge.blobs.size(&claimed).await?, None);
    assert_eq!(have(&mut edge, &claimed, 4000).await?, Some(0));
    // The honest blob before it is stored: the next have/want skips it.
    assert_eq!(have(&mut edge, &first_hash, 4000).await?, None);

    // The same lie in a blob of several chunks.
    let big_lie = data(2 << 20, 32);
    let refused = push_many(&mut edge, unnamed(chunks(&claimed, &big_lie, 0, 1 << 20)))
        .await
        .expect_err("lie in chunks");
    assert_eq!(refused.code(), Code::DataLoss, "{refused:?}");
    assert_eq!(edge.blobs.size(&claimed).await?, None);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_among_many_is_refused_keeping_the_prefix_and_nothing_after() -> anyhow::Result<()> {
    let mut edge = edge().await?;
    let content = data(3 << 20, 40);
    let hash = ContentHash::of(&content);
    let mut stream = unnamed(chunks(&hash, &content, 0, 1 << 20));
    stream.remove(1);
    let next = data(100, 41);
    let next_hash = ContentHash::of(&next);
    stream.extend(chunks(&next_hash, &next, 0, 1 << 20));
    let refused = push_many(&mut edge, stream).await.expect_err("gap");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(have(&mut edge, &hash, 3 << 20).await?, Some(1 << 20));
    assert_eq!(
        edge.blobs.size(&next_hash).await?,
        None,
        "nothing after the fault"
    );

    // The next stream resumes the cut blob where its prefix ends.
    let mut stream = unnamed(chunks(&hash, &content, 1 << 20, 1 << 20));
    stream.extend(chunks(&next_hash, &next, 0, 1 << 20));
    assert_eq!(push_many(&mut edge, stream).await?.len(), 2);
    edge.blobs.verify(&hash).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_blobs_refuse_what_one_refuses() -> anyhow::Result<()> {
    let mut edge = edge().await?;
    let content = data(10_000, 50);
    let hash = ContentHash::of(&content);
    // More bytes than announced.
    let mut over = unnamed(chunks(&hash, &content, 0, 4_000));
    over[0].size = 9_000;
    for c in &mut over {
        c.size = 9_000;
    }
    let refused = push_many(&mut edge, over)
        .await
        .expect_err("too many bytes");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    // Over the edge's limit.
    let mut huge = chunks(&hash, &content, 0, 10_000);
    huge[0].size = LIMIT + 1;
    let refused = push_many(&mut edge, huge)
        .await
        .expect_err("over the limit");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    // A chunk over 1 MiB, even when it is the whole blob.
    let big = data((1 << 20) + 1, 51);
    let big_hash = ContentHash::of(&big);
    let refused = push_many(&mut edge, chunks(&big_hash, &big, 0, 2 << 20))
        .await
        .expect_err("chunk too big");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(edge.blobs.size(&big_hash).await?, None);
    // A bad name; an empty stream stores nothing and says so.
    let bad = vec![pb::BlobChunk {
        hash: vec![9; 5],
        size: 1,
        offset: 0,
        data: Bytes::from_static(b"x"),
        space: String::new(),
    }];
    let refused = push_many(&mut edge, bad).await.expect_err("bad hash");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(push_many(&mut edge, Vec::new()).await?.is_empty());
    assert_eq!(edge.blobs.size(&hash).await?, None);
    Ok(())
}

// ------------------------------------------------- spaces started by have/want

async fn hello_cursors(edge: &mut Edge) -> anyhow::Result<std::collections::HashMap<String, i64>> {
    Ok(edge
        .client
        .hello(pb::HelloRequest {
            internal_node_id: "internal-1".into(),
            protocol_version: passerelle_proto::PROTOCOL_VERSION,
        })
        .await?
        .into_inner()
        .cursors)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_space_whose_blobs_were_asked_is_held_and_its_purge_drops_the_partials()
-> anyhow::Result<()> {
    let mut edge = edge().await?;
    let space = passerelle_core::ids::SpaceId::new().to_string();
    let content = data(3 << 20, 60);
    let hash = ContentHash::of(&content);
    let ask = pb::MissingBlobsRequest {
        blobs: vec![pb::BlobRef {
            hash: hash.as_bytes().to_vec(),
            size: content.len() as u64,
        }],
        space: space.clone(),
    };
    assert!(hello_cursors(&mut edge).await?.is_empty());
    edge.client.missing_blobs(ask.clone()).await?;
    edge.client.missing_blobs(ask).await?; // idempotent
    // The link restarts here: the new Hello still names the space.
    assert_eq!(hello_cursors(&mut edge).await?.get(&space), Some(&0));
    let mut cut = unnamed(chunks(&hash, &content, 0, 1 << 20));
    cut.truncate(1);
    push_many(&mut edge, cut).await.expect_err("cut");
    assert_eq!(edge.blobs.partials().await?, vec![(hash, 1 << 20)]);
    // Un-shared meanwhile: the purge the link orders leaves nothing.
    let receipt = edge
        .client
        .purge_space(pb::PurgeRequest {
            space: space.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(receipt.blobs_removed, 1, "{receipt:?}");
    assert!(edge.blobs.partials().await?.is_empty());
    assert!(hello_cursors(&mut edge).await?.is_empty());

    let bad = edge
        .client
        .missing_blobs(pb::MissingBlobsRequest {
            blobs: Vec::new(),
            space: "../../etc".into(),
        })
        .await
        .expect_err("not a space id");
    assert_eq!(bad.code(), Code::InvalidArgument, "{bad:?}");
    Ok(())
}

/// Issue 12: blobs pushed for a space (named on each blob's first chunk),
/// whole or cut, with no have/want before them and no batch after, are the
/// space's: the edge holds the space, and its purge removes them all. A
/// blob pushed naming no space (an older internal node) is left to the
/// edge's collection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_pushed_for_a_space_are_purged_with_it_though_no_batch_named_them()
-> anyhow::Result<()> {
    let mut edge = edge().await?;
    let space = passerelle_core::ids::SpaceId::new().to_string();
    let named = |hash: &ContentHash, content: &[u8]| {
        let mut cs = unnamed(chunks(hash, content, 0, 1 << 20));
        cs[0].space = space.clone();
        cs
    };
    let contents = [data(10_000, 70), data((2 << 20) + 3, 71)];
    let mut stream = Vec::new();
    for c in &contents {
        stream.extend(named(&ContentHash::of(c), c));
    }
    assert_eq!(push_many(&mut edge, stream).await?.len(), 2);
    let single = data(5_000, 72);
    push(&mut edge, named(&ContentHash::of(&single), &single)).await?;
    let cut = data(3 << 20, 73);
    let mut first = named(&ContentHash::of(&cut), &cut);
    first.truncate(1);
    push_many(&mut edge, first).await.expect_err("cut");
    let unsaid = data(4_000, 74);
    let unsaid_hash = ContentHash::of(&unsaid);
    push(&mut edge, chunks(&unsaid_hash, &unsaid, 0, 1 << 20)).await?;
    assert_eq!(edge.blobs.len(), 4);
    assert_eq!(hello_cursors(&mut edge).await?.get(&space), Some(&0));

    let receipt = edge
        .client
        .purge_space(pb::PurgeRequest {
            space: space.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(receipt.blobs_removed, 4, "three whole, one partial");
    assert!(edge.blobs.partials().await?.is_empty());
    assert_eq!(edge.blobs.list().await?, vec![unsaid_hash]);

    let mut bad = chunks(&unsaid_hash, &unsaid, 0, 1 << 20);
    bad[0].space = "../../etc".into();
    let refused = push_many(&mut edge, bad).await.expect_err("not a space");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    Ok(())
}
