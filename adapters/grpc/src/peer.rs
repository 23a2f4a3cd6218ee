//! `GrpcEdgePeer`: core's [`EdgePeer`] port over the replication protocol's
//! gRPC client, and [`Dial`], the connector the link calls to reach its
//! edge. Conversion only: what to send, when, and what a failure means for
//! the link are core's (`passerelle_core::replication::link`). A
//! `tonic::Status` becomes a [`PeerError`] here, once.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use passerelle_core::ContentHash;
use passerelle_core::blob::{BlobInfo, ByteStream};
use passerelle_core::ids::{PrincipalId, Revision, SpaceId};
use passerelle_core::locks::LockSummary;
use passerelle_core::replication::peer::{
    BlobNeed, EdgeConnector, EdgePeer, Hello, IncomingOp, OpVerdict, OutboxStream, OutgoingBlob,
    OutgoingBlobs, PeerError, Purge, PurgeReceipt,
};
use passerelle_core::replication::{ChangeRow, NodeId};
use passerelle_proto::PROTOCOL_VERSION;
use passerelle_proto::v1 as pb;
use pb::replication_client::ReplicationClient;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::convert;
use crate::edge_service::CHUNK_BYTES;

/// Timeout of unary calls (blob pushes and the outbox stream have none).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeout of a purge: the edge deletes every file of the space (30,000
/// documents took over 30 s on a loaded edge), and an answer lost to a
/// timeout only costs asking again.
const PURGE_TIMEOUT: Duration = Duration::from_secs(600);
/// Largest message either way: a batch of 2,000 rows is about 1 MiB.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// One edge, reached over an established channel.
#[derive(Clone, Debug)]
pub struct GrpcEdgePeer {
    client: ReplicationClient<Channel>,
}

impl GrpcEdgePeer {
    pub fn new(channel: Channel) -> Self {
        Self {
            client: ReplicationClient::new(channel)
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
        }
    }
}

/// A connector from a dialling function (mutual TLS in a node, plain
/// loopback in tests): each connection is a new [`GrpcEdgePeer`].
pub struct Dial<C>(pub C);

impl<C> std::fmt::Debug for Dial<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dial")
    }
}

#[async_trait]
impl<C, F> EdgeConnector for Dial<C>
where
    C: Fn() -> F + Send + Sync,
    F: Future<Output = Result<Channel, Box<dyn std::error::Error + Send + Sync>>> + Send,
{
    async fn connect(&self) -> Result<Box<dyn EdgePeer>, PeerError> {
        let channel = (self.0)()
            .await
            .map_err(|e| PeerError::Down(format!("cannot reach the edge: {e}")))?;
        Ok(Box::new(GrpcEdgePeer::new(channel)))
    }
}

/// What a status means for the link: the connection gone (`Down`), or the
/// edge's refusal, named by its code and in the edge's words.
pub(crate) fn peer_error(s: Status) -> PeerError {
    let code = s.code();
    match code {
        Code::Unavailable | Code::Cancelled | Code::Unknown => {
            PeerError::Down(format!("edge unreachable ({code:?}): {}", s.message()))
        }
        Code::Internal => PeerError::Refused {
            kind: format!("{code:?}"),
            message: format!("{} (the edge's log says why)", s.message()),
        },
        _ => PeerError::Refused {
            kind: format!("{code:?}"),
            message: s.message().to_owned(),
        },
    }
}

fn invalid(e: impl std::fmt::Display) -> PeerError {
    PeerError::Invalid(e.to_string())
}

fn timed<T>(msg: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.set_timeout(CALL_TIMEOUT);
    r
}

fn space_of(s: &str) -> Result<SpaceId, PeerError> {
    s.parse()
        .map_err(|_| invalid(format!("space {s:?} is not a UUID")))
}

#[async_trait]
impl EdgePeer for GrpcEdgePeer {
    async fn hello(&self, internal: &NodeId) -> Result<Hello, PeerError> {
        let hello = self
            .client
            .clone()
            .hello(timed(pb::HelloRequest {
                internal_node_id: internal.to_string(),
                protocol_version: PROTOCOL_VERSION,
            }))
            .await
            .map_err(peer_error)?
            .into_inner();
        let edge = NodeId::parse(&hello.edge_node_id)
            .map_err(|_| invalid(format!("the edge says it is {:?}", hello.edge_node_id)))?;
        let cursors = hello
            .cursors
            .into_iter()
            .map(|(s, r)| Ok((space_of(&s)?, Revision(r))))
            .collect::<Result<_, PeerError>>()?;
        Ok(Hello { edge, cursors })
    }

    async fn missing_blobs(
        &self,
        space: SpaceId,
        blobs: &[BlobInfo],
    ) -> Result<Vec<BlobNeed>, PeerError> {
        let missing = self
            .client
            .clone()
            .missing_blobs(timed(pb::MissingBlobsRequest {
                blobs: blobs
                    .iter()
                    .map(|b| pb::BlobRef {
                        hash: b.hash.as_bytes().to_vec(),
                        size: b.size,
                    })
                    .collect(),
                space: space.to_string(),
            }))
            .await
            .map_err(peer_error)?
            .into_inner()
            .missing;
        missing
            .into_iter()
            .map(|m| {
                Ok(BlobNeed {
                    hash: convert::hash("missing.hash", &m.hash).map_err(invalid)?,
                    have: m.have,
                })
            })
            .collect()
    }

    async fn push_blobs(&self, space: SpaceId, blobs: OutgoingBlobs) -> Result<u64, PeerError> {
        let stored = self
            .client
            .clone()
            .push_blobs(chunks(space, blobs))
            .await
            .map_err(peer_error)?
            .into_inner()
            .stored;
        Ok(stored.len() as u64)
    }

    async fn apply_changes(
        &self,
        space: SpaceId,
        from: Revision,
        to: Revision,
        rows: Vec<ChangeRow>,
    ) -> Result<Revision, PeerError> {
        let batch = pb::ChangeBatch {
            space: space.to_string(),
            from_revision: from.0,
            to_revision: to.0,
            changes: rows.iter().map(convert::change_to_pb).collect(),
        };
        let ack = self
            .client
            .clone()
            .apply_changes(timed(batch))
            .await
            .map_err(peer_error)?
            .into_inner();
        Ok(Revision(ack.cursor))
    }

    async fn purge_space(&self, space: SpaceId) -> Result<Purge, PeerError> {
        let mut request = tonic::Request::new(pb::PurgeRequest {
            space: space.to_string(),
        });
        request.set_timeout(PURGE_TIMEOUT);
        let receipt = match self.client.clone().purge_space(request).await {
            Ok(r) => r.into_inner(),
            // The edge's "operations of this space are pending".
            Err(s) if s.code() == Code::FailedPrecondition => return Ok(Purge::Pending),
            Err(s) => return Err(peer_error(s)),
        };
        Ok(Purge::Done(PurgeReceipt {
            rows: receipt.rows_removed,
            blobs: receipt.blobs_removed,
            bytes: receipt.bytes_removed,
            edge: NodeId::parse(&receipt.edge_node_id).map_err(invalid)?,
            at: time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(receipt.at))
                .map_err(invalid)?,
        }))
    }

    async fn space_digests(
        &self,
        spaces: &[SpaceId],
    ) -> Result<HashMap<SpaceId, ContentHash>, PeerError> {
        let digests = self
            .client
            .clone()
            .space_digests(timed(pb::DigestRequest {
                spaces: spaces.iter().map(ToString::to_string).collect(),
            }))
            .await
            .map_err(peer_error)?
            .into_inner()
            .digests;
        digests
            .into_iter()
            .map(|(s, d)| Ok((space_of(&s)?, convert::hash("digest", &d).map_err(invalid)?)))
            .collect()
    }

    async fn watch_outbox(&self, after: i64) -> Result<OutboxStream, PeerError> {
        let stream = self
            .client
            .clone()
            .watch_outbox(pb::WatchOutboxRequest { after_seq: after })
            .await
            .map_err(peer_error)?
            .into_inner();
        Ok(Box::pin(
            stream.map(|item| incoming(item.map_err(peer_error)?)),
        ))
    }

    async fn fetch_blob(&self, hash: ContentHash, offset: u64) -> Result<ByteStream, PeerError> {
        let stream = self
            .client
            .clone()
            .fetch_blob(pb::FetchBlobRequest {
                hash: hash.as_bytes().to_vec(),
                offset,
            })
            .await
            .map_err(peer_error)?
            .into_inner();
        Ok(Box::pin(stream.map(|r| {
            r.map(|c| c.data)
                .map_err(|s| std::io::Error::other(s.to_string()))
        })))
    }

    async fn acknowledge(&self, verdicts: &[OpVerdict]) -> Result<u64, PeerError> {
        let results = verdicts
            .iter()
            .map(|v| pb::OpResult {
                op_id: v.op_id.to_string(),
                outcome: v.outcome.as_str().into(),
                detail: v.detail.clone(),
                document: String::new(),
            })
            .collect();
        let ack = self
            .client
            .clone()
            .ack_outbox(timed(pb::AckRequest { results }))
            .await
            .map_err(peer_error)?
            .into_inner();
        Ok(u64::from(ack.acknowledged))
    }

    async fn mirror_locks(&self, space: SpaceId, locks: &[LockSummary]) -> Result<(), PeerError> {
        self.client
            .clone()
            .mirror_locks(timed(pb::LockSnapshot {
                space: space.to_string(),
                locks: locks.iter().map(convert::lock_to_pb).collect(),
            }))
            .await
            .map_err(peer_error)?;
        Ok(())
    }

    async fn activity_report(&self) -> Result<Vec<(PrincipalId, time::Date)>, PeerError> {
        let report = self
            .client
            .clone()
            .activity_report(timed(pb::ActivityRequest {}))
            .await
            .map_err(peer_error)?
            .into_inner();
        // What the edge says is checked like any input: a row that does
        // not parse breaks the protocol.
        report
            .active
            .into_iter()
            .map(|a| {
                let id = a
                    .contractor
                    .parse()
                    .map_err(|_| invalid(format!("activity of {:?}: not a UUID", a.contractor)))?;
                let day = time::Date::from_julian_day(a.day)
                    .map_err(|_| invalid(format!("activity day {} out of range", a.day)))?;
                Ok((PrincipalId::from_uuid(id), day))
            })
            .collect()
    }
}

/// An outbox item as core takes it: one that does not convert is refused
/// on its own, by its id; one without a usable id breaks the protocol.
fn incoming(item: pb::OutboxItem) -> Result<IncomingOp, PeerError> {
    let op_id = item
        .op_id
        .parse()
        .map_err(|_| invalid(format!("outbox item id {:?} is not a UUID", item.op_id)))?;
    Ok(match convert::item_from_pb(item) {
        Ok(item) => IncomingOp::Op(Box::new(item)),
        Err(e) => IncomingOp::Invalid {
            op_id,
            why: e.to_string(),
        },
    })
}

/// The blobs as chunks of at most [`CHUNK_BYTES`], one blob after the other;
/// the first chunk of each names it and its space, so the edge claims the
/// blob for the space before writing it. A blob that cannot be read ends
/// the stream early: the edge keeps its durable prefixes and the next pass
/// resumes from them.
fn chunks(
    space: SpaceId,
    blobs: OutgoingBlobs,
) -> impl futures::Stream<Item = pb::BlobChunk> + Send + 'static {
    let space = space.to_string();
    blobs
        .take_while(|b| {
            if let Err(e) = b {
                tracing::error!(error = %e, "cannot open a blob to send");
            }
            futures::future::ready(b.is_ok())
        })
        .filter_map(|b| futures::future::ready(b.ok()))
        .flat_map(move |b| blob_chunks(space.clone(), b))
}

/// One blob's chunks (an empty blob is one empty chunk naming it).
fn blob_chunks(
    space: String,
    b: OutgoingBlob,
) -> impl futures::Stream<Item = pb::BlobChunk> + Send + 'static {
    let OutgoingBlob {
        hash,
        size,
        offset,
        content,
    } = b;
    let first = pb::BlobChunk {
        hash: hash.as_bytes().to_vec(),
        size,
        offset,
        data: bytes::Bytes::new(),
        space,
    };
    // State: bytes read but not sent, where they start, whether the naming
    // chunk went out.
    let state = (content, bytes::Bytes::new(), offset, Some(first));
    futures::stream::unfold(
        state,
        move |(mut content, mut pending, at, mut first)| async move {
            loop {
                if !pending.is_empty() || (first.is_some() && at == size) {
                    let data = pending.split_to(pending.len().min(CHUNK_BYTES));
                    let n = data.len() as u64;
                    let chunk = match first.take() {
                        Some(named) => pb::BlobChunk { data, ..named },
                        None => pb::BlobChunk {
                            hash: Vec::new(),
                            size,
                            offset: at,
                            data,
                            space: String::new(),
                        },
                    };
                    return Some((chunk, (content, pending, at + n, first)));
                }
                if at == size {
                    return None;
                }
                match content.next().await {
                    Some(Ok(b)) => pending = b,
                    Some(Err(e)) => {
                        tracing::error!(error = %e, hash = %hash.short(), "cannot read a blob to send");
                        return None;
                    }
                    // Shorter than its size: the store changed under us.
                    None => {
                        tracing::error!(hash = %hash.short(), "a blob to send ended early");
                        return None;
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_edge_disk_is_a_refusal_in_the_edges_words_not_a_link_failure() {
        let e = peer_error(Status::resource_exhausted(
            "disk full (ENOSPC) on /var/lib/passerelle/edge",
        ));
        assert!(
            matches!(&e, PeerError::Refused { kind, message }
                if kind == "ResourceExhausted"
                    && message == "disk full (ENOSPC) on /var/lib/passerelle/edge"),
            "{e:?}"
        );
        for gone in [
            Status::unavailable("transport error"),
            Status::cancelled("cut"),
            Status::unknown("h2 protocol error"),
        ] {
            assert!(matches!(peer_error(gone), PeerError::Down(_)));
        }
        let hidden = peer_error(Status::internal("internal error"));
        assert!(
            matches!(&hidden, PeerError::Refused { message, .. }
                if message.ends_with("(the edge's log says why)")),
            "{hidden:?}"
        );
    }

    #[test]
    fn an_outbox_item_that_does_not_convert_is_refused_alone_by_its_id() {
        let op_id = uuid::Uuid::now_v7();
        let item = pb::OutboxItem {
            op_id: op_id.to_string(),
            ..pb::OutboxItem::default()
        };
        match incoming(item) {
            Ok(IncomingOp::Invalid { op_id: id, why }) => {
                assert_eq!(id, op_id);
                assert!(!why.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_outbox_item_without_a_usable_id_breaks_the_protocol() {
        let item = pb::OutboxItem {
            op_id: "../../etc".into(),
            ..pb::OutboxItem::default()
        };
        assert!(matches!(incoming(item), Err(PeerError::Invalid(_))));
    }
}
