//! `EdgePeer`: the internal node's view of one edge, one method per
//! conversation of the replication protocol (ADR 0005 §1). The link loop in
//! [`super::link`] drives it; the gRPC adapter implements it over mutual TLS,
//! and the fakes over a second node in memory.
//!
//! Every method may be called again after any failure or cancellation: the
//! edge's side is idempotent (cursors, claims, durable prefixes, operation
//! ids), so a cut call costs a retry, never a duplicate or a loss.

use std::collections::HashMap;
use std::pin::Pin;

use async_trait::async_trait;
use futures::Stream;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{ChangeRow, NodeId, OpOutcome, OutboxItem};
use crate::blob::{BlobError, BlobInfo, ByteStream};
use crate::hash::ContentHash;
use crate::ids::{PrincipalId, Revision, SpaceId};
use crate::locks::LockSummary;

/// What an edge says when a link comes up.
#[derive(Clone, Debug, PartialEq)]
pub struct Hello {
    /// The edge's node id, as it knows itself.
    pub edge: NodeId,
    /// How far the edge has applied each space it holds (or was offered
    /// blobs for: a space whose first batch is still on its way is named
    /// with revision 0, so an un-share purges it too).
    pub cursors: Vec<(SpaceId, Revision)>,
}

/// A blob the edge lacks, and how many of its bytes it holds already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobNeed {
    pub hash: ContentHash,
    pub have: u64,
}

/// One blob pushed to the edge: its content from `offset` to its end.
pub struct OutgoingBlob {
    pub hash: ContentHash,
    pub size: u64,
    pub offset: u64,
    pub content: ByteStream,
}

impl std::fmt::Debug for OutgoingBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingBlob")
            .field("hash", &self.hash.short())
            .field("size", &self.size)
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

/// Blobs pushed one after the other on one call, opened as they are
/// reached (so a call of a thousand blobs holds one file open at a time).
/// An `Err` ends the call early: what the edge stored durably stays.
pub type OutgoingBlobs = Pin<Box<dyn Stream<Item = Result<OutgoingBlob, BlobError>> + Send>>;

/// The answer to a purge request.
#[derive(Clone, Debug, PartialEq)]
pub enum Purge {
    /// The edge holds nothing of the space any more.
    Done(PurgeReceipt),
    /// Operations of the space still wait on the edge for this node: ask
    /// again once they are drained.
    Pending,
}

/// What an edge removed when it purged an un-shared space.
#[derive(Clone, Debug, PartialEq)]
pub struct PurgeReceipt {
    pub rows: u64,
    pub blobs: u64,
    pub bytes: u64,
    pub edge: NodeId,
    /// When the edge purged, by its clock.
    pub at: OffsetDateTime,
}

/// An item of the edge's outbox as it came up: an operation, or one the
/// edge sent that does not parse (refused on its own, by its id).
#[derive(Clone, Debug, PartialEq)]
pub enum IncomingOp {
    Op(Box<OutboxItem>),
    Invalid { op_id: Uuid, why: String },
}

/// The edge's outbox, oldest first; unacknowledged items come again on the
/// next watch. The stream stays open while the edge waits for new ones.
pub type OutboxStream = Pin<Box<dyn Stream<Item = Result<IncomingOp, PeerError>> + Send>>;

/// This node's verdict on one operation, sent back to the edge.
#[derive(Clone, Debug, PartialEq)]
pub struct OpVerdict {
    pub op_id: Uuid,
    pub outcome: OpOutcome,
    pub detail: String,
}

/// Why a conversation with an edge failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The edge is unreachable or the connection went: the session ends and
    /// the link reconnects.
    #[error("{0}")]
    Down(String),
    /// The edge answered and refused: the space concerned backs off on its
    /// own, the other spaces go on. `kind` tells a new failure from the
    /// same one again with other figures ("12.0 MiB free", then "11.9").
    #[error("edge refused ({kind}): {message}")]
    Refused { kind: String, message: String },
    /// The edge said something that breaks the protocol: logged, and the
    /// session ends.
    #[error("the edge sent something invalid: {0}")]
    Invalid(String),
}

/// The internal node's view of one edge. Every method is cancel-safe: a
/// future dropped half-way leaves the edge as if the call never happened
/// or as if it completed, never in between.
#[async_trait]
pub trait EdgePeer: Send + Sync {
    /// Opens the session: `internal` names this node. Idempotent.
    async fn hello(&self, internal: &NodeId) -> Result<Hello, PeerError>;

    /// Which of `blobs`, offered for `space`, the edge lacks, in the order
    /// asked. Records the offer first (the edge claims them for `space`), so
    /// an un-share before the batch arrives purges them. Idempotent.
    async fn missing_blobs(
        &self,
        space: SpaceId,
        blobs: &[BlobInfo],
    ) -> Result<Vec<BlobNeed>, PeerError>;

    /// Pushes `blobs` for `space`, each from its offset; returns how many
    /// the edge stored whole. Resumable: a cut call leaves durable prefixes
    /// the next `missing_blobs` reports.
    async fn push_blobs(&self, space: SpaceId, blobs: OutgoingBlobs) -> Result<u64, PeerError>;

    /// Applies the feed rows of `space` from revision `from` (the edge's
    /// cursor) to `to`, in one transaction; returns the edge's new cursor.
    /// Refused unless `from` is the edge's cursor, so a batch sent twice
    /// is applied once.
    async fn apply_changes(
        &self,
        space: SpaceId,
        from: Revision,
        to: Revision,
        rows: Vec<ChangeRow>,
    ) -> Result<Revision, PeerError>;

    /// Purges an un-shared space: the drain check and the purge are one
    /// write transaction on the edge. Idempotent (a space held no more
    /// purges to nothing).
    async fn purge_space(&self, space: SpaceId) -> Result<Purge, PeerError>;

    /// The edge's digest of each space asked. Reads only.
    async fn space_digests(
        &self,
        spaces: &[SpaceId],
    ) -> Result<HashMap<SpaceId, ContentHash>, PeerError>;

    /// The outbox items after sequence `after`, then new ones as they are
    /// queued. Reads only: nothing leaves the outbox until acknowledged.
    async fn watch_outbox(&self, after: i64) -> Result<OutboxStream, PeerError>;

    /// A contractor's content held by the edge, from `offset`.
    async fn fetch_blob(&self, hash: ContentHash, offset: u64) -> Result<ByteStream, PeerError>;

    /// Gives the edge this node's verdicts; returns how many it recorded.
    /// Idempotent by operation id.
    async fn acknowledge(&self, verdicts: &[OpVerdict]) -> Result<u64, PeerError>;

    /// Replaces the edge's mirror of `space`'s locks with `locks`, this
    /// node's live ones (ADR 0007, "Locks seen on the edge"). Idempotent:
    /// the edge keeps the last snapshot it received. Refused (`Refused`,
    /// `NotFound`) for a space the edge does not hold yet.
    async fn mirror_locks(&self, space: SpaceId, locks: &[LockSummary]) -> Result<(), PeerError>;

    /// The last day each contractor was active on the edge (ADR 0011 §5).
    /// Reads only. An edge without the call refuses it (`Refused`), as
    /// this default does: the link asks again later.
    async fn activity_report(&self) -> Result<Vec<(PrincipalId, time::Date)>, PeerError> {
        Err(PeerError::Refused {
            kind: "unimplemented".into(),
            message: "this edge does not report activity".into(),
        })
    }
}

/// A shared peer is a peer: a connector may hand out one edge to every
/// session (the fakes, a test that wraps an edge).
#[async_trait]
impl<T: EdgePeer + ?Sized> EdgePeer for std::sync::Arc<T> {
    async fn hello(&self, internal: &NodeId) -> Result<Hello, PeerError> {
        (**self).hello(internal).await
    }
    async fn missing_blobs(
        &self,
        space: SpaceId,
        blobs: &[BlobInfo],
    ) -> Result<Vec<BlobNeed>, PeerError> {
        (**self).missing_blobs(space, blobs).await
    }
    async fn push_blobs(&self, space: SpaceId, blobs: OutgoingBlobs) -> Result<u64, PeerError> {
        (**self).push_blobs(space, blobs).await
    }
    async fn apply_changes(
        &self,
        space: SpaceId,
        from: Revision,
        to: Revision,
        rows: Vec<ChangeRow>,
    ) -> Result<Revision, PeerError> {
        (**self).apply_changes(space, from, to, rows).await
    }
    async fn purge_space(&self, space: SpaceId) -> Result<Purge, PeerError> {
        (**self).purge_space(space).await
    }
    async fn space_digests(
        &self,
        spaces: &[SpaceId],
    ) -> Result<HashMap<SpaceId, ContentHash>, PeerError> {
        (**self).space_digests(spaces).await
    }
    async fn watch_outbox(&self, after: i64) -> Result<OutboxStream, PeerError> {
        (**self).watch_outbox(after).await
    }
    async fn fetch_blob(&self, hash: ContentHash, offset: u64) -> Result<ByteStream, PeerError> {
        (**self).fetch_blob(hash, offset).await
    }
    async fn acknowledge(&self, verdicts: &[OpVerdict]) -> Result<u64, PeerError> {
        (**self).acknowledge(verdicts).await
    }
    async fn mirror_locks(&self, space: SpaceId, locks: &[LockSummary]) -> Result<(), PeerError> {
        (**self).mirror_locks(space, locks).await
    }
    async fn activity_report(&self) -> Result<Vec<(PrincipalId, time::Date)>, PeerError> {
        (**self).activity_report().await
    }
}

/// Dials one edge. The link calls it again after every session that ends.
#[async_trait]
pub trait EdgeConnector: Send + Sync {
    async fn connect(&self) -> Result<Box<dyn EdgePeer>, PeerError>;
}
