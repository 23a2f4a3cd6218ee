//! The whole link loop (`Link::run`: connection, sessions, both directions
//! side by side, backoff) against an in-memory edge, in milliseconds: a
//! share, uploads both ways and an un-share purge while it runs; a cut link
//! that reconnects and resumes; and a contractor's operation appended at
//! the very moment of an un-share, which is applied before the purge and
//! never deleted unapplied.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use async_trait::async_trait;
use futures::future::{BoxFuture, Either};

use super::*;
use crate::blob::BlobInfo;
use crate::fakes::MemConnector;
use crate::hash::ContentHash;
use crate::ids::DocumentId;
use crate::ports::Timer;
use crate::replication::OutboxItem;
use crate::replication::peer::{
    BlobNeed, EdgeConnector, EdgePeer, Hello, OpVerdict, OutboxStream, OutgoingBlobs, PeerError,
    Purge,
};

/// Runs `scenario` while the link to `peer` runs; returns what it returns.
pub(super) async fn while_linked<T>(
    w: &World,
    connector: &dyn EdgeConnector,
    scenario: impl Future<Output = T>,
) -> T {
    let (link, _) = wire(&w.internal, &w.edge);
    let run = link.run(connector, futures::future::pending());
    match futures::future::select(Box::pin(run), Box::pin(scenario)).await {
        Either::Left(((), _)) => panic!("the link stopped on its own"),
        Either::Right((out, _)) => out,
    }
}

/// Yields until `check` holds (the link runs meanwhile), or fails naming
/// `what` after many turns.
pub(super) async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let timer = FakeTimer::new(Arc::new(FakeClock::new(time::OffsetDateTime::UNIX_EPOCH)));
    for _ in 0..10_000 {
        if check().await {
            return;
        }
        timer.sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("never: {what}");
}

async fn on_edge(w: &World, doc: DocumentId) -> bool {
    w.edge.app.get_document(&w.contractor, doc).await.is_ok()
}

/// The contractor's upload of `name`, queued on the edge.
async fn contractor_upload(w: &World, name: &str) -> OutboxItem {
    w.edge
        .app
        .edge_upload(
            &w.contractor,
            NewDocument {
                space: w.space,
                name: name.into(),
                ..NewDocument::default()
            },
            content(name),
        )
        .await
        .expect("queued on the edge")
}

/// The internal node's record of an edge operation, if it was applied.
async fn recorded(w: &World, op: uuid::Uuid) -> Option<crate::replication::AppliedOp> {
    let mut tx = w.internal.app.read().await.expect("read");
    tx.applied_op(op).await.expect("applied op")
}

async fn manager_upload(w: &World, name: &str) -> DocumentId {
    w.internal
        .app
        .upload(
            &w.manager,
            NewDocument {
                space: w.space,
                name: name.into(),
                ..NewDocument::default()
            },
            content(name),
        )
        .await
        .expect("upload")
        .document
        .id
}

#[test]
fn the_running_link_carries_uploads_both_ways_then_purges_an_unshared_space() {
    block_on(async {
        let w = world().await;
        let (_, peer) = wire(&w.internal, &w.edge);
        let connector = MemConnector(peer);
        while_linked(&w, &connector, async {
            let doc = manager_upload(&w, "CCAP.txt").await;
            until("the agent's upload on the edge", || on_edge(&w, doc)).await;

            let item = contractor_upload(&w, "Devis.txt").await;
            until("the contractor's upload applied", || async {
                recorded(&w, item.op_id).await.is_some()
            })
            .await;
            let applied = recorded(&w, item.op_id).await.expect("applied");
            assert_eq!(applied.outcome, OpOutcome::Applied);
            let created = applied.document.expect("a document");
            until("the applied upload back down", || on_edge(&w, created)).await;

            w.internal
                .app
                .unshare_space(&w.manager, w.space)
                .await
                .expect("unshare");
            until("the edge purged", || async {
                w.edge.app.cursors().await.expect("cursors").is_empty()
            })
            .await;
        })
        .await;
        assert!(w.edge.blobs.is_empty(), "no blob of the space left");
        assert_eq!(
            w.edge.app.pending_operations(0, 10).await.expect("outbox"),
            []
        );
    });
}

#[test]
fn a_cut_link_records_it_reconnects_and_resumes_both_ways() {
    block_on(async {
        let w = world().await;
        let (_, peer) = wire(&w.internal, &w.edge);
        let connector = MemConnector(peer.clone());
        while_linked(&w, &connector, async {
            peer.set_cut(true);
            let doc = manager_upload(&w, "Avenant.txt").await;
            let item = contractor_upload(&w, "Plan.txt").await;
            until("the cut recorded", || async {
                let status = w
                    .internal
                    .app
                    .edge_status_of(&"edge-1".parse().expect("node id"))
                    .await;
                status
                    .expect("status")
                    .and_then(|s| s.last_error)
                    .is_some_and(|e| e.contains("cut by the test"))
            })
            .await;
            assert!(!on_edge(&w, doc).await, "nothing crosses a cut link");

            peer.set_cut(false);
            until("the agent's upload on the edge", || on_edge(&w, doc)).await;
            until("the contractor's upload applied", || async {
                recorded(&w, item.op_id).await.is_some()
            })
            .await;
            until("the link healthy again", || async {
                let status = w
                    .internal
                    .app
                    .edge_status_of(&"edge-1".parse().expect("node id"))
                    .await;
                status
                    .expect("status")
                    .is_some_and(|s| s.last_error.is_none())
            })
            .await;
        })
        .await;
    });
}

/// An edge on which a contractor queues an operation just as the link asks
/// for the purge (the append and the purge race for the edge's database),
/// or whose answer to a purge is lost.
struct RacingEdge {
    inner: MemEdgePeer,
    append: Mutex<Option<BoxFuture<'static, ()>>>,
    /// Purges, then fails as a timeout would, once: the answer is lost.
    lose_purge_answer: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl EdgePeer for RacingEdge {
    async fn purge_space(&self, space: SpaceId) -> Result<Purge, PeerError> {
        let append = self
            .append
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(append) = append {
            append.await;
        }
        let purged = self.inner.purge_space(space).await;
        if self
            .lose_purge_answer
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            purged?;
            return Err(PeerError::Down("timeout expired".into()));
        }
        purged
    }

    async fn hello(&self, internal: &NodeId) -> Result<Hello, PeerError> {
        self.inner.hello(internal).await
    }
    async fn missing_blobs(
        &self,
        space: SpaceId,
        blobs: &[BlobInfo],
    ) -> Result<Vec<BlobNeed>, PeerError> {
        self.inner.missing_blobs(space, blobs).await
    }
    async fn push_blobs(&self, space: SpaceId, blobs: OutgoingBlobs) -> Result<u64, PeerError> {
        self.inner.push_blobs(space, blobs).await
    }
    async fn apply_changes(
        &self,
        space: SpaceId,
        from: Revision,
        to: Revision,
        rows: Vec<ChangeRow>,
    ) -> Result<Revision, PeerError> {
        self.inner.apply_changes(space, from, to, rows).await
    }
    async fn space_digests(
        &self,
        spaces: &[SpaceId],
    ) -> Result<HashMap<SpaceId, ContentHash>, PeerError> {
        self.inner.space_digests(spaces).await
    }
    async fn watch_outbox(&self, after: i64) -> Result<OutboxStream, PeerError> {
        self.inner.watch_outbox(after).await
    }
    async fn fetch_blob(&self, hash: ContentHash, offset: u64) -> Result<ByteStream, PeerError> {
        self.inner.fetch_blob(hash, offset).await
    }
    async fn acknowledge(&self, verdicts: &[OpVerdict]) -> Result<u64, PeerError> {
        self.inner.acknowledge(verdicts).await
    }
    async fn mirror_locks(
        &self,
        space: SpaceId,
        locks: &[crate::locks::LockSummary],
    ) -> Result<(), PeerError> {
        self.inner.mirror_locks(space, locks).await
    }
}

/// Hands out the one racing edge.
struct RacingConnector(Arc<RacingEdge>);

#[async_trait]
impl EdgeConnector for RacingConnector {
    async fn connect(&self) -> Result<Box<dyn EdgePeer>, PeerError> {
        Ok(Box::new(self.0.clone()))
    }
}

#[test]
fn an_operation_appended_during_an_unshare_is_applied_before_the_purge_never_lost() {
    block_on(async {
        let w = world().await;
        let (_, peer) = wire(&w.internal, &w.edge);
        // The contractor's save lands on the edge between the link's
        // decision to purge and the edge's purge transaction.
        let queued: Arc<Mutex<Option<OutboxItem>>> = Arc::default();
        let (edge, contractor, space, slot) = (
            w.edge.app.clone(),
            w.contractor.clone(),
            w.space,
            queued.clone(),
        );
        let append: BoxFuture<'static, ()> = Box::pin(async move {
            let item = edge
                .edge_upload(
                    &contractor,
                    NewDocument {
                        space,
                        name: "Dernier-devis.txt".into(),
                        ..NewDocument::default()
                    },
                    content("dernier devis"),
                )
                .await
                .expect("accepted on the edge: the contractor is told 202");
            *slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(item);
        });
        let racing = Arc::new(RacingEdge {
            inner: peer,
            append: Mutex::new(Some(append)),
            lose_purge_answer: false.into(),
        });
        w.internal
            .app
            .unshare_space(&w.manager, w.space)
            .await
            .expect("unshare");
        let connector = RacingConnector(racing);
        while_linked(&w, &connector, async {
            until("the edge purged", || async {
                w.edge.app.cursors().await.expect("cursors").is_empty()
            })
            .await;
        })
        .await;
        let item = queued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .expect("the operation was appended during the un-share");
        let decided = recorded(&w, item.op_id)
            .await
            .expect("decided on the internal node before the purge, not deleted unapplied");
        // Accepted on the edge while it still held the space, so applied:
        // the contractor's memberships end with the purge's receipt, after.
        assert_eq!(decided.outcome, OpOutcome::Applied, "{decided:?}");
        let kept = w
            .internal
            .app
            .get_document(&w.manager, decided.document.expect("a document"))
            .await
            .expect("the contractor's document is on the internal node");
        assert_eq!(kept.document.created_by, item.contractor);
    });
}

#[test]
fn a_purge_whose_answer_is_lost_is_asked_again_and_its_receipt_recorded() {
    block_on(async {
        let w = world().await;
        let (_, peer) = wire(&w.internal, &w.edge);
        let racing = Arc::new(RacingEdge {
            inner: peer,
            append: Mutex::new(None),
            lose_purge_answer: true.into(),
        });
        let connector = RacingConnector(racing);
        while_linked(&w, &connector, async {
            // The link knows the edge holds the space before the un-share.
            until("the link's view recorded", || async {
                let status = w
                    .internal
                    .app
                    .edge_status_of(&"edge-1".parse().expect("node id"))
                    .await;
                status
                    .expect("status")
                    .is_some_and(|s| s.cursors.iter().any(|(id, _)| *id == w.space))
            })
            .await;
            w.internal
                .app
                .unshare_space(&w.manager, w.space)
                .await
                .expect("unshare");
            // The edge purged, the answer was lost, the session ended; the
            // next session's hello no longer names the space, yet the link
            // asks again and records the receipt.
            until(
                "the contractor's membership ended by the receipt",
                || async {
                    w.internal
                        .app
                        .list_members(&w.manager, w.space)
                        .await
                        .expect("members")
                        .iter()
                        .all(|m| m.principal.kind != crate::model::PrincipalKind::Contractor)
                },
            )
            .await;
        })
        .await;
        assert!(w.edge.app.cursors().await.expect("cursors").is_empty());
    });
}

/// Whether the contractor sees `doc` locked on the edge.
async fn locked_on_edge(w: &World, doc: DocumentId) -> bool {
    w.edge
        .app
        .get_document(&w.contractor, doc)
        .await
        .is_ok_and(|d| d.lock.is_some())
}

#[test]
fn the_running_link_mirrors_a_check_out_and_a_check_in_on_the_edge() {
    block_on(async {
        let w = world().await;
        let (_, peer) = wire(&w.internal, &w.edge);
        let connector = MemConnector(peer);
        while_linked(&w, &connector, async {
            let doc = manager_upload(&w, "CCAP.txt").await;
            until("the agent's upload on the edge", || on_edge(&w, doc)).await;
            // Lock transactions wake no revision work: the lock signal
            // alone brings the link to read the locks (its periodic look
            // is a minute away on the node's real clock).
            let locks = w.internal.app.locks();
            locks
                .check_out(&w.manager, doc, None, None)
                .await
                .expect("check-out");
            until("the lock on the edge", || locked_on_edge(&w, doc)).await;
            locks.check_in(&w.manager, doc).await.expect("check-in");
            until("the lock gone from the edge", || async {
                !locked_on_edge(&w, doc).await
            })
            .await;
        })
        .await;
    });
}
