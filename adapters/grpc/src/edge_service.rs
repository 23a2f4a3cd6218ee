//! The edge side of replication: the `Replication` gRPC service, backed by
//! the core use cases of the edge. Blobs arrive through core's
//! `receive_blob` (recorded for the space they are sent for, then the
//! store's resumable write): hashed and written once, and a transfer cut
//! mid-way resumes where the durable prefix ends.

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use passerelle_core::blob::{BlobError, ByteStream, Holding, Resumed};
use passerelle_core::ids::{Revision, SpaceId};
use passerelle_core::replication::NodeId;
use passerelle_core::service::ReceiveError;
use passerelle_core::{ContentHash, EdgeApp};
use passerelle_proto::PROTOCOL_VERSION;
use passerelle_proto::v1 as pb;
use pb::replication_server::Replication;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::convert;

/// Largest chunk accepted in `PushBlob`, and the size of `FetchBlob` chunks.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// The edge's replication service.
#[derive(Debug, Clone)]
pub struct EdgeReplication {
    app: EdgeApp,
    node_id: NodeId,
    /// The node's shutdown: ends `WatchOutbox` streams so the server drains.
    cancel: CancellationToken,
}

impl EdgeReplication {
    pub fn new(app: EdgeApp, node_id: NodeId, cancel: CancellationToken) -> Self {
        Self {
            app,
            node_id,
            cancel,
        }
    }

    pub fn into_server(self) -> pb::replication_server::ReplicationServer<Self> {
        pb::replication_server::ReplicationServer::new(self)
            .max_decoding_message_size(64 * 1024 * 1024)
            .max_encoding_message_size(64 * 1024 * 1024)
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl Replication for EdgeReplication {
    async fn hello(
        &self,
        request: Request<pb::HelloRequest>,
    ) -> Result<Response<pb::HelloResponse>, Status> {
        let hello = request.into_inner();
        if hello.protocol_version != PROTOCOL_VERSION {
            return Err(Status::failed_precondition(format!(
                "protocol {} not supported (this edge speaks {PROTOCOL_VERSION})",
                hello.protocol_version
            )));
        }
        let cursors = self.app.cursors().await.map_err(status)?;
        tracing::info!(peer = %hello.internal_node_id, "replication hello");
        Ok(Response::new(pb::HelloResponse {
            edge_node_id: self.node_id.to_string(),
            protocol_version: PROTOCOL_VERSION,
            cursors: cursors
                .into_iter()
                .map(|(s, r)| (s.to_string(), r.0))
                .collect(),
            // Unused (see the proto): reading it loaded every pending item.
            outbox_head: 0,
        }))
    }

    async fn missing_blobs(
        &self,
        request: Request<pb::MissingBlobsRequest>,
    ) -> Result<Response<pb::MissingBlobsResponse>, Status> {
        let request = request.into_inner();
        let space = said_space(&request.space)?;
        let asked = request.blobs;
        let hashes = asked
            .iter()
            .map(|b| convert::hash("blob.hash", &b.hash))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let held = self
            .app
            .offered_blobs(space, &hashes)
            .await
            .map_err(status)?;
        let missing = asked
            .into_iter()
            .zip(held)
            .filter_map(|(b, held)| match held {
                Holding::Stored(size) if size == b.size => None,
                Holding::Stored(_) => Some(pb::BlobNeed {
                    hash: b.hash,
                    have: 0,
                }),
                Holding::Partial(kept) => Some(pb::BlobNeed {
                    have: kept.min(b.size),
                    hash: b.hash,
                }),
            })
            .collect();
        Ok(Response::new(pb::MissingBlobsResponse { missing }))
    }

    async fn push_blob(
        &self,
        request: Request<Streaming<pb::BlobChunk>>,
    ) -> Result<Response<pb::PushBlobResponse>, Status> {
        let mut stream = request.into_inner();
        let first = stream
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("empty blob stream"))?;
        let (space, hash, size, offset) = self.announced(&first)?;
        // The chunks as bytes for the store, each checked to follow the
        // previous one; a misplaced chunk ends the content early (the store
        // keeps the valid prefix) and is reported as the sender's fault.
        let fault = Arc::new(std::sync::Mutex::new(None::<Status>));
        let content = chunk_bytes(stream, first, offset, size, fault.clone());
        let resumed = self
            .app
            .receive_blob(space, &hash, size, offset, content)
            .await;
        let fault = fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        received(resumed, fault, size)?;
        Ok(Response::new(pb::PushBlobResponse {
            hash: hash.as_bytes().to_vec(),
            size,
        }))
    }

    async fn push_blobs(
        &self,
        request: Request<Streaming<pb::BlobChunk>>,
    ) -> Result<Response<pb::PushBlobsResponse>, Status> {
        let mut stream = request.into_inner();
        let mut stored = Vec::new();
        // Blobs whole in their first chunk (most documents) are stored
        // concurrently while the next ones arrive: their fsyncs overlap.
        let mut whole = tokio::task::JoinSet::new();
        let received = self
            .receive_blobs(&mut stream, &mut whole, &mut stored)
            .await;
        // Whole blobs in flight end whatever came after them: what is
        // stored is skipped by the next have/want.
        let mut failed = received.err();
        while let Some(done) = whole.join_next().await {
            match joined_blob(Some(done)) {
                Ok(blob) => stored.push(blob),
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        Ok(Response::new(pb::PushBlobsResponse {
            stored: stored
                .into_iter()
                .map(|(hash, size)| pb::BlobRef {
                    hash: hash.as_bytes().to_vec(),
                    size,
                })
                .collect(),
        }))
    }

    async fn apply_changes(
        &self,
        request: Request<pb::ChangeBatch>,
    ) -> Result<Response<pb::ApplyAck>, Status> {
        let batch = request.into_inner();
        let space = space_id(&batch.space)?;
        let rows = batch
            .changes
            .into_iter()
            .map(|c| convert::change_from_pb(c, space))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let n = rows.len();
        let cursor = self
            .app
            .apply_changes(
                space,
                Revision(batch.from_revision),
                Revision(batch.to_revision),
                rows,
            )
            .await
            .map_err(status)?;
        tracing::debug!(%space, rows = n, cursor = cursor.0, "batch applied");
        Ok(Response::new(pb::ApplyAck {
            space: space.to_string(),
            cursor: cursor.0,
        }))
    }

    async fn purge_space(
        &self,
        request: Request<pb::PurgeRequest>,
    ) -> Result<Response<pb::PurgeReceipt>, Status> {
        let space = space_id(&request.into_inner().space)?;
        // Refused (failed_precondition) while operations of the space are
        // pending: core checks and purges in one transaction.
        let report = self.app.purge_shared_space(space).await.map_err(status)?;
        let at = report.at.unix_timestamp_nanos();
        Ok(Response::new(pb::PurgeReceipt {
            space: space.to_string(),
            rows_removed: report.rows,
            blobs_removed: report.blobs,
            bytes_removed: report.bytes,
            edge_node_id: self.node_id.to_string(),
            at: i64::try_from(at).unwrap_or(i64::MAX),
        }))
    }

    async fn space_digests(
        &self,
        request: Request<pb::DigestRequest>,
    ) -> Result<Response<pb::DigestResponse>, Status> {
        let mut digests = std::collections::HashMap::new();
        for s in request.into_inner().spaces {
            let id = space_id(&s)?;
            let d = self.app.space_digest(id).await.map_err(status)?;
            digests.insert(s, d.as_bytes().to_vec());
        }
        Ok(Response::new(pb::DigestResponse { digests }))
    }

    async fn mirror_locks(
        &self,
        request: Request<pb::LockSnapshot>,
    ) -> Result<Response<pb::LockSnapshotAck>, Status> {
        let snapshot = request.into_inner();
        let space = space_id(&snapshot.space)?;
        let locks = snapshot
            .locks
            .into_iter()
            .map(|l| convert::lock_from_pb(l, space))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let n = self.app.mirror_locks(space, locks).await.map_err(status)?;
        Ok(Response::new(pb::LockSnapshotAck {
            locks: u32::try_from(n).unwrap_or(u32::MAX),
        }))
    }

    async fn activity_report(
        &self,
        _request: Request<pb::ActivityRequest>,
    ) -> Result<Response<pb::ActivityResponse>, Status> {
        let report = self.app.activity_report().await.map_err(status)?;
        let active = report
            .into_iter()
            .map(|(p, day)| pb::ContractorActivity {
                contractor: p.to_string(),
                day: day.to_julian_day(),
            })
            .collect();
        Ok(Response::new(pb::ActivityResponse { active }))
    }

    type WatchOutboxStream = BoxStream<pb::OutboxItem>;

    async fn watch_outbox(
        &self,
        request: Request<pb::WatchOutboxRequest>,
    ) -> Result<Response<Self::WatchOutboxStream>, Status> {
        let after = request.into_inner().after_seq;
        let items = self
            .app
            .watch_operations(after, Arc::new(crate::TokioTimer))
            .map(|item| item.map(|i| convert::item_to_pb(&i)).map_err(status))
            // The node's shutdown ends the stream, so the server drains.
            .take_until(self.cancel.clone().cancelled_owned());
        Ok(Response::new(Box::pin(items)))
    }

    type FetchBlobStream = BoxStream<pb::BlobChunk>;

    async fn fetch_blob(
        &self,
        request: Request<pb::FetchBlobRequest>,
    ) -> Result<Response<Self::FetchBlobStream>, Status> {
        let req = request.into_inner();
        let hash = convert::hash("hash", &req.hash)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let (size, content) = self
            .app
            .open_blob(&hash, req.offset)
            .await
            .map_err(status)?;
        let hash_bytes = Bytes::copy_from_slice(hash.as_bytes());
        let stream = content
            .scan(req.offset, move |offset, chunk| {
                let out = chunk
                    .map(|data| {
                        let at = *offset;
                        *offset += data.len() as u64;
                        pb::BlobChunk {
                            hash: hash_bytes.to_vec(),
                            size,
                            offset: at,
                            data,
                            space: String::new(),
                        }
                    })
                    .map_err(|e| Status::internal(format!("read blob: {e}")));
                futures::future::ready(Some(out))
            })
            .boxed();
        Ok(Response::new(stream))
    }

    async fn ack_outbox(
        &self,
        request: Request<pb::AckRequest>,
    ) -> Result<Response<pb::AckResponse>, Status> {
        let mut results = Vec::new();
        for r in request.into_inner().results {
            let op = r
                .op_id
                .parse()
                .map_err(|_| Status::invalid_argument("op_id: not a UUID"))?;
            let outcome = convert::outcome_from_str(&r.outcome)
                .map_err(|e| Status::invalid_argument(e.to_string()))?;
            results.push((op, outcome, r.detail));
        }
        let acknowledged = self
            .app
            .acknowledge_operations(&results)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::AckResponse { acknowledged }))
    }
}

/// Whole blobs of one `PushBlobs` stream stored at once.
const WHOLE_IN_FLIGHT: usize = 16;

/// A blob stored by `PushBlobs`, or why not.
type StoredBlob = Result<(ContentHash, u64), Status>;
/// Whole blobs being stored by `PushBlobs`.
type WholeBlobs = tokio::task::JoinSet<StoredBlob>;

impl EdgeReplication {
    /// Receives the blobs of a `PushBlobs` stream, one after the other;
    /// those whole in one chunk are left storing in `whole`.
    async fn receive_blobs(
        &self,
        stream: &mut Streaming<pb::BlobChunk>,
        whole: &mut WholeBlobs,
        stored: &mut Vec<(ContentHash, u64)>,
    ) -> Result<(), Status> {
        let mut next = stream.message().await?;
        while let Some(first) = next.take() {
            let (space, hash, size, offset) = self.announced(&first)?;
            if offset + first.data.len() as u64 == size && first.data.len() <= CHUNK_BYTES {
                while whole.len() >= WHOLE_IN_FLIGHT {
                    stored.push(joined_blob(whole.join_next().await)?);
                }
                let app = self.app.clone();
                let data = first.data;
                whole.spawn(async move {
                    let content: ByteStream =
                        Box::pin(futures::stream::once(async move { Ok(data) }));
                    let resumed = app.receive_blob(space, &hash, size, offset, content).await;
                    received(resumed, None, size).map(|()| (hash, size))
                });
                next = stream.message().await?;
                continue;
            }
            // A blob in several chunks streams to the store while its chunks
            // arrive; the chunk that names another blob ends it.
            let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
            let content: ByteStream = Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx));
            let app = self.app.clone();
            let put = async move { app.receive_blob(space, &hash, size, offset, content).await };
            let feed = feed_blob(stream, first, offset, size, tx);
            tokio::pin!(put, feed);
            let (resumed, fed) = tokio::select! {
                resumed = &mut put => match resumed {
                    // Refused before its last chunk: the call ends now.
                    Err(e) => return Err(refused(e)),
                    // Held already, or whole: the rest of its chunks drain.
                    Ok(r) => (Ok(r), feed.await),
                },
                fed = &mut feed => (put.await, fed),
            };
            match fed {
                Ok(following) => {
                    received(resumed, None, size)?;
                    stored.push((hash, size));
                    next = following;
                }
                Err(fault) => {
                    // Held already, yet a later chunk of it was out of place.
                    received(resumed, Some(fault.clone()), size)?;
                    stored.push((hash, size));
                    return Err(fault);
                }
            }
        }
        Ok(())
    }

    /// The space and blob a first chunk names, if this edge takes it.
    fn announced(
        &self,
        first: &pb::BlobChunk,
    ) -> Result<(Option<SpaceId>, ContentHash, u64, u64), Status> {
        let space = said_space(&first.space)?;
        let hash = convert::hash("blob.hash", &first.hash)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        if first.size > self.app.settings().max_upload_bytes {
            return Err(Status::resource_exhausted(
                "blob larger than this edge accepts",
            ));
        }
        if first.offset > 0 {
            tracing::info!(hash = %hash.to_hex(), offset = first.offset, size = first.size, "blob transfer resumed");
        }
        Ok((space, hash, first.size, first.offset))
    }
}

/// The outcome of a resumable write as the sender sees it; `fault` is the
/// sender's mistake that ended the content early, if any.
fn received(
    resumed: Result<Resumed, ReceiveError>,
    fault: Option<Status>,
    size: u64,
) -> Result<(), Status> {
    match resumed {
        Ok(Resumed::Stored(_)) => Ok(()),
        Ok(Resumed::Incomplete { kept }) => Err(fault.unwrap_or_else(|| {
            // The sender stopped early: the durable prefix waits for a resume.
            Status::aborted(format!("incomplete blob: {kept} of {size} bytes kept"))
        })),
        Err(e) => Err(refused(e)),
    }
}

/// A refused blob write as a gRPC status.
fn refused(e: ReceiveError) -> Status {
    let e = match e {
        ReceiveError::Store(e) => e,
        ReceiveError::Unrecorded(e) => return status(e),
    };
    match e {
        BlobError::OutOfPlace { kept, .. } => {
            Status::failed_precondition(format!("resume at {kept}"))
        }
        BlobError::Corrupt { expected, actual } => {
            tracing::warn!(expected = %expected.short(), actual = %actual.short(), "pushed blob does not match its hash");
            Status::data_loss("content does not match its hash")
        }
        BlobError::TooLarge { .. } => {
            Status::invalid_argument("more bytes than the blob's announced size")
        }
        BlobError::Busy(_) => Status::unavailable("this blob is being received already"),
        e => status(e.into()),
    }
}

/// A whole blob stored by a task of `PushBlobs`.
fn joined_blob(done: Option<Result<StoredBlob, tokio::task::JoinError>>) -> StoredBlob {
    match done {
        Some(Ok(stored)) => stored,
        Some(Err(e)) => {
            tracing::error!(error = %e, "blob write task failed");
            Err(Status::internal("internal error"))
        }
        None => Err(Status::internal("no blob write in flight")),
    }
}

/// Sends the data of `first` and of the chunks that follow it on `stream`
/// (unnamed, or named as `first`) to `tx`, until a chunk names another blob
/// (returned) or the stream ends
/// (`None`). A chunk out of place or too large is the sender's fault
/// (`Err`); a transport error is a cut, passed on to the store, which keeps
/// the durable prefix. When the store stops reading (it held the blob
/// already) the rest of the blob's chunks are read and dropped.
async fn feed_blob(
    stream: &mut Streaming<pb::BlobChunk>,
    first: pb::BlobChunk,
    offset: u64,
    size: u64,
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
) -> Result<Option<pb::BlobChunk>, Status> {
    let mut at = offset;
    let chunk_hash = first.hash.clone();
    let mut chunk = first;
    let mut reading = true;
    loop {
        let len = chunk.data.len() as u64;
        if chunk.data.len() > CHUNK_BYTES || chunk.offset != at || at + len > size {
            return Err(Status::invalid_argument("chunk out of place or too large"));
        }
        at += len;
        if reading && tx.send(Ok(chunk.data)).await.is_err() {
            reading = false;
        }
        chunk = match stream.message().await {
            Ok(Some(c)) if c.hash.is_empty() || c.hash == chunk_hash => c,
            Ok(next) => return Ok(next),
            Err(e) => {
                tracing::debug!(error = %e, "blob stream cut");
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                return Err(e);
            }
        };
    }
}

/// The data of `first` and the chunks that follow it, as the store reads
/// content. Each chunk must start where the previous ended and stay within
/// `size` and [`CHUNK_BYTES`]; the first that does not ends the content, with
/// the reason left in `fault`. A transport error ends it too (a cut).
fn chunk_bytes(
    stream: Streaming<pb::BlobChunk>,
    first: pb::BlobChunk,
    offset: u64,
    size: u64,
    fault: Arc<std::sync::Mutex<Option<Status>>>,
) -> ByteStream {
    let state = (stream, Some(first), offset, fault);
    Box::pin(futures::stream::unfold(
        state,
        move |(mut stream, pending, at, fault)| async move {
            let chunk = match pending {
                Some(c) => c,
                None => match stream.message().await {
                    Ok(Some(c)) => c,
                    Ok(None) => return None,
                    Err(e) => {
                        tracing::debug!(error = %e, "blob stream cut");
                        return Some((
                            Err(std::io::Error::other(e.to_string())),
                            (stream, None, at, fault),
                        ));
                    }
                },
            };
            let len = chunk.data.len() as u64;
            if chunk.data.len() > CHUNK_BYTES || chunk.offset != at || at + len > size {
                *fault
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some(Status::invalid_argument("chunk out of place or too large"));
                return None;
            }
            Some((Ok(chunk.data), (stream, None, at + len, fault)))
        },
    ))
}

mod status;

pub(crate) use status::status;
use status::{said_space, space_id};

#[cfg(test)]
mod tests;
