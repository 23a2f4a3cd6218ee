//! The edge's `PushBlob` against a hostile or interrupted sender: every
//! chunk is checked to follow the previous one, the whole is checked against
//! its name, and a cut keeps a durable prefix that the next push resumes.
//!
//! The service runs over plain HTTP/2 on loopback here: what is under test
//! is the protocol handling; mutual TLS has its own tests (`mtls.rs`).

use std::sync::Arc;

use bytes::Bytes;
use passerelle_core::blob::BlobStore;
use passerelle_core::fakes::{FastPasswords, MemBlobStore, MemRepository};
use passerelle_core::{ContentHash, CoreSettings, Passerelle};
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
    let app = Passerelle::new(
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
    let service = EdgeReplication::new(app, "edge-1".into(), cancel.clone());
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
    }];
    let refused = push(&mut edge, bad_name).await.expect_err("bad hash");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    Ok(())
}
