//! The edge side of replication: the `Replication` gRPC service, backed by
//! the core use cases of the edge. Partial blobs are kept durable in
//! `<data>/partial/` so a transfer cut mid-way resumes where it stopped.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use passerelle_core::blob::BlobStore;
use passerelle_core::ids::{Revision, SpaceId};
use passerelle_core::{ContentHash, CoreError, Passerelle};
use passerelle_proto::PROTOCOL_VERSION;
use passerelle_proto::v1 as pb;
use pb::replication_server::Replication;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::convert;

/// Largest chunk accepted in `PushBlob`, and the size of `FetchBlob` chunks.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// How often an idle `WatchOutbox` looks for new items.
const OUTBOX_POLL: Duration = Duration::from_millis(150);

/// The edge's replication service.
#[derive(Debug, Clone)]
pub struct EdgeReplication {
    app: Passerelle,
    node_id: String,
    /// Durable prefixes of blobs being received.
    partial_dir: PathBuf,
    /// The node's shutdown: ends `WatchOutbox` streams so the server drains.
    cancel: CancellationToken,
}

impl EdgeReplication {
    pub fn new(
        app: Passerelle,
        node_id: String,
        partial_dir: PathBuf,
        cancel: CancellationToken,
    ) -> std::io::Result<Self> {
        std::fs::create_dir_all(&partial_dir)?;
        Ok(Self {
            app,
            node_id,
            partial_dir,
            cancel,
        })
    }

    pub fn into_server(self) -> pb::replication_server::ReplicationServer<Self> {
        pb::replication_server::ReplicationServer::new(self)
            .max_decoding_message_size(64 * 1024 * 1024)
            .max_encoding_message_size(64 * 1024 * 1024)
    }

    fn partial_path(&self, hash: &ContentHash) -> PathBuf {
        self.partial_dir.join(hash.to_hex())
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
            let have = match tokio::fs::metadata(self.partial_path(&hash)).await {
                Ok(m) => m.len().min(b.size),
                Err(_) => 0,
            };
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
        let path = self.partial_path(&hash);
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .await
            .map_err(|e| internal_io("open partial blob", e))?;
        let mut len = file
            .metadata()
            .await
            .map_err(|e| internal_io("stat partial blob", e))?
            .len();
        if first.offset != len {
            return Err(Status::failed_precondition(format!("resume at {len}")));
        }
        if first.offset > 0 {
            tracing::info!(hash = %hash.to_hex(), offset = first.offset, size, "blob transfer resumed");
        }
        let mut chunk = Some(first);
        let mut since_sync = 0usize;
        while let Some(c) = chunk.take() {
            if c.data.len() > CHUNK_BYTES || c.offset != len || len + c.data.len() as u64 > size {
                return Err(Status::invalid_argument("chunk out of place or too large"));
            }
            file.write_all(&c.data)
                .await
                .map_err(|e| internal_io("write partial blob", e))?;
            len += c.data.len() as u64;
            since_sync += c.data.len();
            if since_sync >= 64 * CHUNK_BYTES {
                // What a resume trusts must be on disk.
                file.sync_data()
                    .await
                    .map_err(|e| internal_io("sync partial blob", e))?;
                since_sync = 0;
            }
            if len == size {
                break;
            }
            chunk = stream.message().await?;
        }
        file.sync_all()
            .await
            .map_err(|e| internal_io("sync partial blob", e))?;
        drop(file);
        if len != size {
            // The sender stopped early: keep the durable prefix for a resume.
            return Err(Status::aborted(format!(
                "incomplete blob: {len} of {size} bytes kept"
            )));
        }
        let reader = tokio::fs::File::open(&path)
            .await
            .map_err(|e| internal_io("reopen partial blob", e))?;
        let content = Box::pin(tokio_util::io::ReaderStream::with_capacity(
            reader,
            CHUNK_BYTES,
        ));
        let info = self
            .blobs()
            .put(content, Some(size))
            .await
            .map_err(|e| status(e.into()))?;
        let _ = tokio::fs::remove_file(&path).await;
        if info.hash != hash || info.size != size {
            tracing::warn!(expected = %hash.short(), actual = %info.hash.short(), "pushed blob does not match its hash");
            return Err(Status::data_loss("content does not match its hash"));
        }
        Ok(Response::new(pb::PushBlobResponse {
            hash: hash.as_bytes().to_vec(),
            size,
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
                    match app.pending_operations(after, 100).await {
                        Ok(items) if !items.is_empty() => queue = items.into_iter(),
                        Ok(_) => tokio::time::sleep(OUTBOX_POLL).await,
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
                        let c = pb::BlobChunk {
                            hash: hash_bytes.to_vec(),
                            size,
                            offset: *offset,
                            data: data.to_vec(),
                        };
                        *offset += data.len() as u64;
                        c
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

fn internal_io(what: &str, e: std::io::Error) -> Status {
    tracing::error!(error = %e, what, "replication storage failure");
    Status::internal("internal error")
}
