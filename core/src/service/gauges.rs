//! What the node's metrics read of replication at each scrape (ADR 0005
//! §5): on an edge, its outbox depth; on the internal node, how far each
//! shared space's edge lags behind and what was quarantined. Reads only,
//! of what core already records (the link states `record_link_state`
//! keeps, the ledger), counted by the repository rather than loaded.

use time::OffsetDateTime;

use crate::error::CoreError;
use crate::ids::{Revision, SpaceId};
use crate::ports::{QuarantineCount, Tx};
use crate::replication::EdgeStatus;
use crate::replication::NodeId;

use super::{AntivirusStatus, EdgeApp, NodeRole, Passerelle};

/// Replication as the metrics show it. What does not apply to the node's
/// role is empty, so a driving adapter renders what it gets and never asks
/// which node it runs on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplicationGauges {
    /// Edge: contractors' operations waiting for the internal node.
    pub outbox_pending: Option<u64>,
    /// Internal node: each space shared with a configured edge.
    pub lags: Vec<SpaceLag>,
    /// Internal node: quarantined operations per edge and space.
    pub quarantined: Vec<QuarantineCount>,
    /// Internal node with an antivirus: whether it answers, what waits for
    /// it (ADR 0010).
    pub antivirus: Option<AntivirusStatus>,
}

/// How far an edge's copy of a space is behind the internal node's.
#[derive(Clone, Debug, PartialEq)]
pub struct SpaceLag {
    pub edge: NodeId,
    pub space: SpaceId,
    /// The space's newest revision minus the cursor the edge acknowledged
    /// (as last recorded by the link); 0 when the edge holds all of it.
    pub revisions: i64,
    /// Rows of the change feed the edge still lacks (the backlog).
    pub rows: u64,
    /// 0 when the edge holds all of the space; otherwise the seconds since
    /// the edge was last heard from, which is how stale its copy may have
    /// grown while nothing reached it. `None` when it is behind and was
    /// never heard from.
    pub seconds: Option<f64>,
}

impl EdgeApp {
    /// Contractors' operations waiting for the internal node, counted
    /// without loading them.
    pub async fn count_pending_operations(&self) -> Result<u64, CoreError> {
        Ok(self.read().await?.count_pending_outbox().await?)
    }
}

impl Passerelle {
    /// The replication gauges of this node's role, read in one read
    /// transaction, so the figures of one scrape agree with each other.
    pub async fn replication_gauges(&self) -> Result<ReplicationGauges, CoreError> {
        let mut tx = self.read().await?;
        match self.role {
            NodeRole::Edge => Ok(ReplicationGauges {
                outbox_pending: Some(tx.count_pending_outbox().await?),
                ..ReplicationGauges::default()
            }),
            NodeRole::Internal => {
                let now = self.clock.now();
                let mut lags = Vec::new();
                for edge in &self.settings.edges {
                    lags.extend(edge_lags(tx.as_mut(), edge, now).await?);
                }
                Ok(ReplicationGauges {
                    outbox_pending: None,
                    lags,
                    quarantined: tx.count_quarantine().await?,
                    antivirus: self.antivirus_status(),
                })
            }
        }
    }
}

/// The lag of each space shared with `edge`, from the cursors its link
/// last recorded (none recorded: the edge holds nothing yet).
async fn edge_lags(
    tx: &mut dyn Tx,
    edge: &NodeId,
    now: OffsetDateTime,
) -> Result<Vec<SpaceLag>, CoreError> {
    let status: Option<EdgeStatus> = tx.edge_status(edge).await?;
    let contact = status.as_ref().and_then(|s| s.last_contact);
    let mut lags = Vec::new();
    for space in tx.spaces_shared_with(edge).await? {
        let cursor = status
            .as_ref()
            .and_then(|s| s.cursors.iter().find(|(id, _)| *id == space.id))
            .map_or(Revision::ZERO, |(_, r)| *r);
        let backlog = tx.feed_backlog(space.id, cursor).await?;
        let behind = backlog.rows > 0;
        let seconds = if behind {
            contact.map(|at| (now - at).as_seconds_f64().max(0.0))
        } else {
            Some(0.0)
        };
        lags.push(SpaceLag {
            edge: edge.clone(),
            space: space.id,
            revisions: (backlog.newest.0 - cursor.0).max(0),
            rows: backlog.rows,
            seconds,
        });
    }
    Ok(lags)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures::executor::block_on;
    use time::Duration;
    use uuid::Uuid;

    use super::*;
    use crate::fakes::{FakeClock, FastPasswords, MemBlobStore, MemRepository};
    use crate::ids::PrincipalId;
    use crate::model::{Space, Visibility};
    use crate::names::Slug;
    use crate::ports::{Repository, TxMode};
    use crate::replication::{AppliedOp, OpOutcome, OutboxItem, OutboxOp};
    use crate::service::{CoreSettings, InternalApp};

    fn start() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    fn settings() -> CoreSettings {
        CoreSettings {
            edges: vec!["edge-1".parse().expect("node id")],
            ..CoreSettings::default()
        }
    }

    fn internal(repo: Arc<MemRepository>, clock: Arc<FakeClock>) -> InternalApp {
        let blobs = Arc::new(MemBlobStore::new());
        InternalApp::new(repo, blobs, clock, Arc::new(FastPasswords), settings())
    }

    fn edge(repo: Arc<MemRepository>, clock: Arc<FakeClock>) -> EdgeApp {
        let blobs = Arc::new(MemBlobStore::new());
        EdgeApp::new(repo, blobs, clock, Arc::new(FastPasswords), settings())
    }

    fn shared_space(revision: i64) -> Space {
        Space {
            id: SpaceId::from_uuid(Uuid::from_u128(1)),
            slug: Slug::parse("chantier").expect("a valid slug"),
            title: "Chantier".into(),
            description: String::new(),
            domain: String::new(),
            visibility: Visibility::Private,
            edge: Some("edge-1".parse().expect("node id")),
            archived: false,
            created_by: PrincipalId::from_uuid(Uuid::from_u128(2)),
            created_at: start(),
            revision: Revision(revision),
        }
    }

    fn rejected(space: SpaceId, outcome: OpOutcome) -> AppliedOp {
        AppliedOp {
            op_id: Uuid::now_v7(),
            edge: "edge-1".parse().expect("node id"),
            space,
            contractor: PrincipalId::from_uuid(Uuid::from_u128(3)),
            at: start(),
            outcome,
            detail: String::new(),
            document: None,
            op: OutboxOp::NewFolder {
                folder: crate::ids::FolderId::new(),
                parent: None,
                name: "Plans".into(),
            },
        }
    }

    async fn write(repo: &MemRepository, f: impl AsyncFnOnce(&mut dyn Tx)) {
        let mut tx = repo.begin(TxMode::Write).await.expect("begin");
        f(tx.as_mut()).await;
        tx.commit().await.expect("commit");
    }

    #[test]
    fn the_lag_of_a_shared_space_follows_the_cursor_its_link_recorded() {
        block_on(async {
            let (repo, clock) = (
                Arc::new(MemRepository::new()),
                Arc::new(FakeClock::new(start())),
            );
            let app = internal(repo.clone(), clock.clone());
            let space = shared_space(1);
            write(&repo, async |tx| {
                tx.save_space(&space).await.expect("space");
            })
            .await;
            let g = app.replication_gauges().await.expect("gauges");
            let lag = |g: &ReplicationGauges| {
                let [l] = g.lags.as_slice() else {
                    panic!("one shared space: {:?}", g.lags)
                };
                (l.revisions, l.rows, l.seconds)
            };
            assert_eq!(lag(&g), (1, 1, None), "never heard: it lacks everything");
            assert_eq!(g.outbox_pending, None, "no outbox here");

            app.record_link_state(
                &"edge-1".parse().expect("node id"),
                vec![(space.id, Revision(1))],
                vec![],
                None,
                true,
            )
            .await
            .expect("recorded");
            let g = app.replication_gauges().await.expect("gauges");
            assert_eq!(lag(&g), (0, 0, Some(0.0)), "caught up");

            // The space changes twice, then the edge falls silent.
            write(&repo, async |tx| {
                tx.save_space(&shared_space(5)).await.expect("space");
            })
            .await;
            clock.advance(Duration::seconds(90));
            let g = app.replication_gauges().await.expect("gauges");
            assert_eq!(lag(&g), (4, 1, Some(90.0)), "behind, silent for 90 s");
        });
    }

    #[test]
    fn quarantined_operations_are_counted_per_edge_and_space() {
        block_on(async {
            let (repo, clock) = (
                Arc::new(MemRepository::new()),
                Arc::new(FakeClock::new(start())),
            );
            let app = internal(repo.clone(), clock);
            let space = shared_space(1);
            write(&repo, async |tx| {
                tx.save_space(&space).await.expect("space");
                for outcome in [OpOutcome::Rejected, OpOutcome::Applied, OpOutcome::Rejected] {
                    tx.save_applied_op(&rejected(space.id, outcome))
                        .await
                        .expect("ledger");
                }
            })
            .await;
            let g = app.replication_gauges().await.expect("gauges");
            assert_eq!(
                g.quarantined,
                [QuarantineCount {
                    edge: "edge-1".parse().expect("node id"),
                    space: space.id,
                    operations: 2,
                }]
            );
        });
    }

    #[test]
    fn an_edge_shows_its_outbox_depth_and_no_lag() {
        block_on(async {
            let (repo, clock) = (
                Arc::new(MemRepository::new()),
                Arc::new(FakeClock::new(start())),
            );
            let app = edge(repo.clone(), clock);
            let space = shared_space(1);
            write(&repo, async |tx| {
                tx.save_space(&space).await.expect("space");
                for _ in 0..3 {
                    let item = OutboxItem {
                        seq: 0,
                        op_id: Uuid::now_v7(),
                        space: space.id,
                        contractor: PrincipalId::from_uuid(Uuid::from_u128(3)),
                        created_at: start(),
                        op: OutboxOp::NewFolder {
                            folder: crate::ids::FolderId::new(),
                            parent: None,
                            name: "Plans".into(),
                        },
                        outcome: None,
                        detail: String::new(),
                    };
                    tx.append_outbox(&item).await.expect("append");
                }
            })
            .await;
            let g = app.replication_gauges().await.expect("gauges");
            assert_eq!((g.outbox_pending, g.lags.len()), (Some(3), 0));
            assert_eq!(app.count_pending_operations().await.expect("count"), 3);
        });
    }
}
