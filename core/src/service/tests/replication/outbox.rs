//! The edge's outbox stays bounded (issue 12): a contractor pages through
//! their operations, decided ones are pruned after the retention period, and
//! past the bound on pending ones new writes are refused before anything is
//! stored, then accepted again once the internal node has drained some.

use time::{Duration, OffsetDateTime};

use super::*;
use crate::error::CoreError;
use crate::fakes::FakeClock;
use crate::replication::OutboxItem;

/// An edge whose clock the test moves, holding at most `max_pending`
/// pending operations.
fn edge(clock: &Arc<FakeClock>, max_pending: u64) -> Edge {
    let blobs = Arc::new(MemBlobStore::new());
    let app = EdgeApp::new(
        Arc::new(MemRepository::new()),
        blobs.clone(),
        clock.clone(),
        Arc::new(FastPasswords),
        CoreSettings {
            max_pending_operations: max_pending,
            outbox_retention: Duration::days(30),
            ..CoreSettings::default()
        },
    );
    NodeUnderTest { app, blobs }
}

/// A minute ahead of the wall clock, which the internal node reads: the
/// acceptance, timed by this clock, must come after the invitation.
fn clock() -> Arc<FakeClock> {
    Arc::new(FakeClock::new(
        OffsetDateTime::now_utc() + Duration::minutes(1),
    ))
}

/// The contractor creates a folder named `name` at the root (an operation
/// without content).
async fn new_folder(w: &World, name: &str) -> Result<OutboxItem, CoreError> {
    let op = OutboxOp::NewFolder {
        folder: w.edge.app.new_folder_id(),
        parent: None,
        name: name.into(),
    };
    w.edge.app.edge_operation(&w.contractor, w.space, op).await
}

fn folder_names(items: &[OutboxItem]) -> Vec<&str> {
    items
        .iter()
        .map(|i| match &i.op {
            OutboxOp::NewFolder { name, .. } => name.as_str(),
            other => panic!("not a new folder: {other:?}"),
        })
        .collect()
}

async fn acknowledge(w: &World, item: &OutboxItem) {
    let n = w
        .edge
        .app
        .acknowledge_operations(&[(item.op_id, OpOutcome::Applied, String::new())])
        .await
        .expect("ack");
    assert_eq!(n, 1);
}

#[test]
fn a_contractor_pages_through_their_operations_newest_first_with_the_total() {
    block_on(async {
        let w = world_on(edge(&clock(), 100)).await;
        for name in ["A", "B", "C", "D", "E"] {
            new_folder(&w, name).await.expect("accepted");
        }
        let page = |offset| {
            w.edge
                .app
                .my_operations(&w.contractor, w.space, Page::new(offset, 2))
        };
        let first = page(0).await.expect("page");
        // The acceptance of the invitation went through the outbox too, but
        // is neither listed nor counted.
        assert_eq!(first.total, 5);
        assert_eq!(folder_names(&first.items), ["E", "D"]);
        let second = page(2).await.expect("page");
        assert_eq!(folder_names(&second.items), ["C", "B"]);
        let last = page(4).await.expect("page");
        assert_eq!((folder_names(&last.items), last.total), (vec!["A"], 5));
        assert!(page(6).await.expect("page").items.is_empty());
        // The system account writes nothing through the outbox.
        let theirs = w
            .edge
            .app
            .my_operations(&Actor::System, w.space, Page::default())
            .await
            .expect("page");
        assert_eq!((theirs.items.len(), theirs.total), (0, 0));
    });
}

#[test]
fn pruning_keeps_pending_operations_and_those_decided_within_the_retention() {
    block_on(async {
        let clock = clock();
        let w = world_on(edge(&clock, 100)).await;
        let old = new_folder(&w, "Ancien").await.expect("accepted");
        let recent = new_folder(&w, "Récent").await.expect("accepted");
        let waiting = new_folder(&w, "En attente").await.expect("accepted");
        acknowledge(&w, &old).await;
        clock.advance(Duration::days(20));
        acknowledge(&w, &recent).await;
        // 35 days after `old` was decided, 15 after `recent`; `waiting`,
        // made 35 days ago, still has no verdict.
        clock.advance(Duration::days(15));
        let pruned = w
            .edge
            .app
            .prune_decided_operations(clock.now())
            .await
            .expect("prune");
        // The acceptance, decided when the world was built, goes too.
        assert_eq!(pruned, 2);
        let mine = || {
            w.edge
                .app
                .my_operations(&w.contractor, w.space, Page::default())
        };
        let left = mine().await.expect("ops");
        assert_eq!(folder_names(&left.items), ["En attente", "Récent"]);

        clock.advance(Duration::days(365));
        let now = clock.now();
        let prune = || w.edge.app.prune_decided_operations(now);
        assert_eq!(prune().await.expect("prune"), 1);
        assert_eq!(prune().await.expect("prune"), 0, "nothing more to prune");
        let left = mine().await.expect("ops");
        assert_eq!(folder_names(&left.items), ["En attente"]);
        let pending = w.edge.app.pending_operations(0, 10).await.expect("pending");
        assert_eq!(pending, [waiting]);
    });
}

#[test]
fn a_full_outbox_refuses_writes_before_storing_anything_until_it_drains() {
    block_on(async {
        let w = world_on(edge(&clock(), 3)).await;
        let mut accepted = Vec::new();
        for name in ["A", "B", "C"] {
            accepted.push(new_folder(&w, name).await.expect("room left"));
        }
        let full = |r: Result<OutboxItem, CoreError>| {
            assert!(
                matches!(
                    r,
                    Err(CoreError::OutboxFull {
                        pending: 3,
                        retry_after_secs: 1..
                    })
                ),
                "{r:?}"
            );
        };
        full(new_folder(&w, "D").await);
        let blobs = w.edge.blobs.len();
        let upload = w
            .edge
            .app
            .edge_upload(
                &w.contractor,
                NewDocument {
                    space: w.space,
                    name: "Plan.pdf".into(),
                    ..NewDocument::default()
                },
                content("plan"),
            )
            .await;
        full(upload);
        let version = w
            .edge
            .app
            .edge_new_version(&w.contractor, w.doc, None, "", content("v2"))
            .await;
        full(version);
        assert_eq!(w.edge.blobs.len(), blobs, "no content received");
        // What was accepted stays, what was refused left nothing.
        let pending = w.edge.app.pending_operations(0, 10).await.expect("pending");
        assert_eq!(pending, accepted);

        // The internal node drains one: there is room for one more.
        acknowledge(&w, &accepted[0]).await;
        new_folder(&w, "D").await.expect("room again");
        full(new_folder(&w, "E").await);
    });
}
