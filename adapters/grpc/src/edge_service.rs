//! The edge side of replication: the `Replication` gRPC service, backed by
//! the core use cases of the edge. Blobs arrive through the store's
//! resumable writes (`BlobStore::put_resumable`): hashed and written once,
//! and a transfer cut mid-way resumes where the durable prefix ends.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use passerelle_core::blob::{BlobError, BlobStore, ByteStream, Resumed};
use passerelle_core::ids::{Revision, SpaceId};
use passerelle_core::{CoreError, Passerelle};
use passerelle_proto::PROTOCOL_VERSION;
use passerelle_proto::v1 as pb;
use pb::replication_server::Replication;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::convert;

/// Largest chunk accepted in `PushBlob`, and the size of `FetchBlob` chunks.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// An idle `WatchOutbox` wakes on every commit of this node; it also looks
/// this often, for operations queued by another process (none today).
const OUTBOX_POLL: Duration = Duration::from_secs(1);

/// The edge's replication service.
#[derive(Debug, Clone)]
pub struct EdgeReplication {
    app: Passerelle,
    node_id: String,
    /// The node's shutdown: ends `WatchOutbox` streams so the server drains.
    cancel: CancellationToken,
}

impl EdgeReplication {
    pub fn new(app: Passerelle, node_id: String, cancel: CancellationToken) -> Self {
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

    fn blobs(&self) -> &Arc<dyn BlobStore> {
        self.app.blobs()
    }
}

/// Maps a core error to a gRPC status, logging internal causes once.
pub(crate) fn status(e: CoreError) -> Status {
    match e {
        CoreError::NotFound(what) => Status::not_found(format!("{what} not found")),
        CoreError::Invalid { code, message, .. } => {
            Status::invalid_argument(format!("{code}: {message}"))
        }
        CoreError::Conflict { code, message } => {
            Status::failed_precondition(format!("{code}: {message}"))
        }
        CoreError::TooLarge { limit } => {
            Status::resource_exhausted(format!("larger than {limit} bytes"))
        }
        CoreError::BadRange { size } => Status::out_of_range(format!("range outside {size} bytes")),
        CoreError::Corrupt => Status::data_loss("stored content is corrupt"),
        other => {
            tracing::error!(error = %other, cause = ?std::error::Error::source(&other), "replication request failed");
            Status::internal("internal error")
        }
    }
}

fn space_id(s: &str) -> Result<SpaceId, Status> {
    s.parse()
        .map_err(|_| Status::invalid_argument("space: not a UUID"))
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
        let head = self
            .app
            .pending_operations(0, u64::MAX / 2)
            .await
            .map_err(status)?;
        tracing::info!(peer = %hello.internal_node_id, "replication hello");
        Ok(Response::new(pb::HelloResponse {
            edge_node_id: self.node_id.clone(),
            protocol_version: PROTOCOL_VERSION,
            cursors: cursors
                .into_iter()
                .map(|(s, r)| (s.to_string(), r.0))
                .collect(),
            outbox_head: head.last().map(|i| i.seq).unwrap_or(0),
        }))
    }

    async fn missing_blobs(
        &self,
        request: Request<pb::MissingBlobsRequest>,
    ) -> Result<Response<pb::MissingBlobsResponse>, Status> {
        let mut missing = Vec::new();
        for b in request.into_inner().blobs {
            let hash = convert::hash("blob.hash", &b.hash)
                .map_err(|e| Status::invalid_argument(e.to_string()))?;
            if self
                .blobs()
                .size(&hash)
                .await
                .map_err(|e| status(e.into()))?
                == Some(b.size)
            {
                continue;
            }
            let have = self
                .blobs()
                .partial_len(&hash)
                .await
                .map_err(|e| status(e.into()))?
                .min(b.size);
            missing.push(pb::BlobNeed { hash: b.hash, have });
        }
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
        let hash = convert::hash("blob.hash", &first.hash)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let size = first.size;
        if size > self.app.settings().max_upload_bytes {
            return Err(Status::resource_exhausted(
                "blob larger than this edge accepts",
            ));
        }
        let offset = first.offset;
        if offset > 0 {
            tracing::info!(hash = %hash.to_hex(), offset, size, "blob transfer resumed");
        }
        // The chunks as bytes for the store, each checked to follow the
        // previous one; a misplaced chunk ends the content early (the store
        // keeps the valid prefix) and is reported as the sender's fault.
        let fault = Arc::new(std::sync::Mutex::new(None::<Status>));
        let content = chunk_bytes(stream, first, offset, size, fault.clone());
        let resumed = self
            .blobs()
            .put_resumable(&hash, size, offset, content)
            .await;
        let fault = fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        match resumed {
            Ok(Resumed::Stored(_)) => Ok(Response::new(pb::PushBlobResponse {
                hash: hash.as_bytes().to_vec(),
                size,
            })),
            Ok(Resumed::Incomplete { kept }) => Err(fault.unwrap_or_else(|| {
                // The sender stopped early: the durable prefix waits for a resume.
                Status::aborted(format!("incomplete blob: {kept} of {size} bytes kept"))
            })),
            Err(BlobError::OutOfPlace { kept, .. }) => {
                Err(Status::failed_precondition(format!("resume at {kept}")))
            }
            Err(BlobError::Corrupt { expected, actual }) => {
                tracing::warn!(expected = %expected.short(), actual = %actual.short(), "pushed blob does not match its hash");
                Err(Status::data_loss("content does not match its hash"))
            }
            Err(BlobError::TooLarge { .. }) => Err(Status::invalid_argument(
                "more bytes than the blob's announced size",
            )),
            Err(BlobError::Busy(_)) => {
                Err(Status::unavailable("this blob is being received already"))
            }
            Err(e) => Err(status(e.into())),
        }
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
        let pending = self
            .app
            .pending_operations(0, u64::MAX / 2)
            .await
            .map_err(status)?;
        if pending.iter().any(|i| i.space == space) {
            return Err(Status::failed_precondition(
                "pending operations of this space are not applied yet",
            ));
        }
        let report = self.app.purge_shared_space(space).await.map_err(status)?;
        let at = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        Ok(Response::new(pb::PurgeReceipt {
            space: space.to_string(),
            rows_removed: report.rows,
            blobs_removed: report.blobs,
            bytes_removed: report.bytes,
            edge_node_id: self.node_id.clone(),
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

    type WatchOutboxStream = BoxStream<pb::OutboxItem>;

    async fn watch_outbox(
        &self,
        request: Request<pb::WatchOutboxRequest>,
    ) -> Result<Response<Self::WatchOutboxStream>, Status> {
        let app = self.app.clone();
        let cancel = self.cancel.clone();
        let after = request.into_inner().after_seq;
        let start = (
            app,
            after,
            Vec::<passerelle_core::replication::OutboxItem>::new().into_iter(),
            cancel,
        );
        let stream =
            futures::stream::unfold(start, |(app, mut after, mut queue, cancel)| async move {
                loop {
                    if let Some(item) = queue.next() {
                        after = after.max(item.seq);
                        return Some((Ok(convert::item_to_pb(&item)), (app, after, queue, cancel)));
                    }
                    if cancel.is_cancelled() {
                        return None;
                    }
                    // Read before looking: an operation queued meanwhile wakes the wait.
                    let seen = app.changes().current();
                    match app.pending_operations(after, 100).await {
                        Ok(items) if !items.is_empty() => queue = items.into_iter(),
                        Ok(_) => {
                            tokio::select! {
                                () = app.changes().changed_since(seen) => {},
                                () = tokio::time::sleep(OUTBOX_POLL) => {},
                                () = cancel.cancelled() => {},
                            }
                        }
                        Err(e) => return Some((Err(status(e)), (app, after, queue, cancel))),
                    }
                }
            });
        Ok(Response::new(Box::pin(stream)))
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
