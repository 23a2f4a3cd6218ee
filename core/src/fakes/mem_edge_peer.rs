//! An [`EdgePeer`] over a second node in memory: each conversation calls the
//! edge's use cases directly, as the gRPC server does on a real edge, so
//! core's replication tests run the real link loop in milliseconds. A link
//! can be cut (every call and connection fails as `Down`) and restored.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use futures::StreamExt;

use crate::blob::{BlobInfo, ByteStream, Holding, Resumed};
use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::{PrincipalId, Revision, SpaceId};
use crate::locks::LockSummary;
use crate::ports::Timer;
use crate::replication::peer::{
    BlobNeed, EdgeConnector, EdgePeer, Hello, IncomingOp, OpVerdict, OutboxStream, OutgoingBlobs,
    PeerError, Purge, PurgeReceipt,
};
use crate::replication::{ChangeRow, NodeId};
use crate::service::{EdgeApp, ReceiveError};

/// The edge `node` seen through the link, identifying itself as `id`.
#[derive(Clone, Debug)]
pub struct MemEdgePeer {
    node: EdgeApp,
    id: NodeId,
    timer: Arc<dyn Timer>,
    cut: Arc<AtomicBool>,
    /// Calls made, by any clone (tests check a quiet link makes few).
    calls: Arc<AtomicU64>,
}

impl MemEdgePeer {
    pub fn new(node: EdgeApp, id: NodeId, timer: Arc<dyn Timer>) -> Self {
        Self {
            node,
            id,
            timer,
            cut: Arc::new(AtomicBool::new(false)),
            calls: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Cuts (`true`) or restores the link: while cut, every call and every
    /// connection fails as the network would.
    pub fn set_cut(&self, cut: bool) {
        self.cut.store(cut, Ordering::SeqCst);
    }

    /// Calls made through this peer and its clones.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    fn up(&self) -> Result<(), PeerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.cut.load(Ordering::SeqCst) {
            return Err(PeerError::Down("connection reset (cut by the test)".into()));
        }
        Ok(())
    }
}

/// A use case's refusal as the link sees it: the error's situation is its
/// kind, its message what ops read.
fn refused(e: CoreError) -> PeerError {
    let kind = match &e {
        CoreError::InsufficientStorage { .. } => "insufficient_storage",
        CoreError::Conflict { code, .. } | CoreError::Invalid { code, .. } => code,
        CoreError::NotFound(_) => "not_found",
        _ => "internal",
    };
    PeerError::Refused {
        kind: kind.to_owned(),
        message: e.to_string(),
    }
}

fn received(r: Result<Resumed, ReceiveError>) -> Result<bool, PeerError> {
    match r {
        Ok(Resumed::Stored(_)) => Ok(true),
        Ok(Resumed::Incomplete { .. }) => Ok(false),
        Err(ReceiveError::Store(e)) => Err(refused(e.into())),
        Err(ReceiveError::Unrecorded(e)) => Err(refused(e)),
    }
}

#[async_trait]
impl EdgePeer for MemEdgePeer {
    async fn hello(&self, _internal: &NodeId) -> Result<Hello, PeerError> {
        self.up()?;
        Ok(Hello {
            edge: self.id.clone(),
            cursors: self.node.cursors().await.map_err(refused)?,
        })
    }

    async fn missing_blobs(
        &self,
        space: SpaceId,
        blobs: &[BlobInfo],
    ) -> Result<Vec<BlobNeed>, PeerError> {
        self.up()?;
        let hashes: Vec<ContentHash> = blobs.iter().map(|b| b.hash).collect();
        let held = self
            .node
            .offered_blobs(Some(space), &hashes)
            .await
            .map_err(refused)?;
        Ok(blobs
            .iter()
            .zip(held)
            .filter_map(|(b, held)| {
                match held {
                    Holding::Stored(size) if size == b.size => None,
                    Holding::Stored(_) => Some(0),
                    Holding::Partial(kept) => Some(kept.min(b.size)),
                }
                .map(|have| BlobNeed { hash: b.hash, have })
            })
            .collect())
    }

    async fn push_blobs(&self, space: SpaceId, mut blobs: OutgoingBlobs) -> Result<u64, PeerError> {
        let mut stored = 0;
        while let Some(blob) = blobs.next().await {
            self.up()?;
            // A blob the sender cannot open ends the call: what is stored stays.
            let Ok(blob) = blob else { break };
            let r = self
                .node
                .receive_blob(
                    Some(space),
                    &blob.hash,
                    blob.size,
                    blob.offset,
                    blob.content,
                )
                .await;
            if received(r)? {
                stored += 1;
            }
        }
        Ok(stored)
    }

    async fn apply_changes(
        &self,
        space: SpaceId,
        from: Revision,
        to: Revision,
        rows: Vec<ChangeRow>,
    ) -> Result<Revision, PeerError> {
        self.up()?;
        self.node
            .apply_changes(space, from, to, rows)
            .await
            .map_err(refused)
    }

    async fn purge_space(&self, space: SpaceId) -> Result<Purge, PeerError> {
        self.up()?;
        match self.node.purge_shared_space(space).await {
            Ok(r) => Ok(Purge::Done(PurgeReceipt {
                rows: r.rows,
                blobs: r.blobs,
                bytes: r.bytes,
                edge: self.id.clone(),
                at: r.at,
            })),
            Err(CoreError::Conflict {
                code: "pending_operations",
                ..
            }) => Ok(Purge::Pending),
            Err(e) => Err(refused(e)),
        }
    }

    async fn space_digests(
        &self,
        spaces: &[SpaceId],
    ) -> Result<HashMap<SpaceId, ContentHash>, PeerError> {
        self.up()?;
        let mut out = HashMap::new();
        for &s in spaces {
            out.insert(s, self.node.space_digest(s).await.map_err(refused)?);
        }
        Ok(out)
    }

    async fn watch_outbox(&self, after: i64) -> Result<OutboxStream, PeerError> {
        self.up()?;
        let peer = self.clone();
        let items = self.node.watch_operations(after, self.timer.clone());
        // Each item crosses the link: a cut ends the stream with `Down`.
        Ok(Box::pin(items.map(move |item| {
            peer.up()?;
            item.map(|i| IncomingOp::Op(Box::new(i))).map_err(refused)
        })))
    }

    async fn fetch_blob(&self, hash: ContentHash, offset: u64) -> Result<ByteStream, PeerError> {
        self.up()?;
        let (_, content) = self.node.open_blob(&hash, offset).await.map_err(refused)?;
        Ok(content)
    }

    async fn acknowledge(&self, verdicts: &[OpVerdict]) -> Result<u64, PeerError> {
        self.up()?;
        let results: Vec<_> = verdicts
            .iter()
            .map(|v| (v.op_id, v.outcome, v.detail.clone()))
            .collect();
        let n = self
            .node
            .acknowledge_operations(&results)
            .await
            .map_err(refused)?;
        Ok(u64::from(n))
    }

    async fn mirror_locks(&self, space: SpaceId, locks: &[LockSummary]) -> Result<(), PeerError> {
        self.up()?;
        self.node
            .mirror_locks(space, locks.to_vec())
            .await
            .map_err(refused)?;
        Ok(())
    }

    async fn activity_report(&self) -> Result<Vec<(PrincipalId, time::Date)>, PeerError> {
        self.up()?;
        self.node.activity_report().await.map_err(refused)
    }
}

/// Hands out the peer, or fails as an unreachable edge while it is cut.
#[derive(Clone, Debug)]
pub struct MemConnector(pub MemEdgePeer);

#[async_trait]
impl EdgeConnector for MemConnector {
    async fn connect(&self) -> Result<Box<dyn EdgePeer>, PeerError> {
        self.0.up()?;
        Ok(Box::new(self.0.clone()))
    }
}
