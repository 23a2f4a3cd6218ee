//! Locks seen on the edge (ADR 0007, "Locks seen on the edge"): the link
//! mirrors the internal node's live locks on the edge, which then shows
//! them and refuses a contractor's change of what they cover with
//! `Locked` before anything is queued; new documents still queue; an
//! expired lock, a lock of another space or a depth-0 folder lock refuse
//! nothing; and a lock that reaches the edge late leaves the internal
//! node's conflict copy as the backstop.

use serde_json::Map;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::locks::{LockDepth, LockRequest, LockScope, LockSummary};
use crate::model::Resource;

/// `Locked` by marie (the manager who checks out in these tests).
fn assert_locked_by_marie<T: std::fmt::Debug>(r: Result<T, CoreError>, what: &str) {
    match r {
        Err(CoreError::Locked { holder_name, .. }) => assert_eq!(holder_name, "marie", "{what}"),
        other => panic!("{what}: expected Locked, got {other:?}"),
    }
}

fn request(depth: LockDepth) -> LockRequest {
    LockRequest {
        scope: LockScope::Exclusive,
        depth,
        timeout: None,
        owner_info: Some("relecture interne".into()),
    }
}

async fn pending(edge: &Edge) -> usize {
    edge.app
        .pending_operations(0, 1000)
        .await
        .expect("pending")
        .len()
}

/// Every change of `doc` a collaborator may make on the edge, each
/// expected `Locked`: a new version (through the shared writes too), a
/// rename, a move, new metadata. (A collaborator deletes only their own
/// documents: see the deletion's test.)
async fn every_change_is_locked(w: &World, doc: crate::ids::DocumentId) {
    let e = &w.edge.app;
    assert_locked_by_marie(
        e.edge_new_version(&w.contractor, doc, None, "v2", content("v2"))
            .await,
        "new version",
    );
    assert_locked_by_marie(
        e.writes()
            .new_version(&w.contractor, doc, NewVersion::default(), content("v2"))
            .await,
        "new version through the shared writes",
    );
    for (what, op) in [
        (
            "rename",
            OutboxOp::Rename {
                document: doc,
                name: "Renommé.txt".into(),
            },
        ),
        (
            "move",
            OutboxOp::Move {
                document: doc,
                folder: None,
            },
        ),
        (
            "metadata",
            OutboxOp::SetMetadata {
                document: doc,
                doc_type: None,
                metadata: Map::new(),
            },
        ),
    ] {
        assert_locked_by_marie(e.edge_operation(&w.contractor, w.space, op).await, what);
    }
}

#[test]
fn a_check_out_shows_on_the_edge_and_refuses_every_change_until_the_check_in() {
    block_on(async {
        let w = world().await;
        let locks = w.internal.app.locks();
        let lock = locks
            .check_out(&w.manager, w.doc, None, Some("relecture".into()))
            .await
            .expect("check-out");
        down(&w.internal, &w.edge, w.space).await;

        let shown = w
            .edge
            .app
            .get_document(&w.contractor, w.doc)
            .await
            .expect("the contractor reads it")
            .lock
            .expect("shown locked on the edge");
        assert_eq!(shown.summary.holder_name, "marie");
        assert_eq!(Some(shown.summary.holder), w.manager.id());
        assert_eq!(shown.summary.until, lock.expires_at);
        assert!(shown.lock.is_none(), "no token nor note on the edge");
        let on = w
            .edge
            .app
            .mirrored_locks_on(&w.contractor, Resource::Document(w.doc))
            .await
            .expect("lock discovery");
        assert_eq!(on, vec![shown.summary.clone()]);

        every_change_is_locked(&w, w.doc).await;
        assert_eq!(pending(&w.edge).await, 0, "nothing queued");
        locks.check_in(&w.manager, w.doc).await.expect("check-in");
        down(&w.internal, &w.edge, w.space).await;
        assert!(
            w.edge
                .app
                .get_document(&w.contractor, w.doc)
                .await
                .expect("read")
                .lock
                .is_none(),
            "shown unlocked once checked in"
        );
        w.edge
            .app
            .edge_new_version(&w.contractor, w.doc, None, "v2", content("v2"))
            .await
            .expect("queued now");
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied]
        );
    });
}

#[test]
fn lock_transactions_wake_the_lock_signal_not_the_change_signal() {
    block_on(async {
        let w = world().await;
        let (changes, lock_changes) = (
            w.internal.app.changes().current(),
            w.internal.app.lock_changes().current(),
        );
        let locks = w.internal.app.locks();
        locks
            .check_out(&w.manager, w.doc, None, None)
            .await
            .expect("check-out");
        locks.check_in(&w.manager, w.doc).await.expect("check-in");
        assert_eq!(w.internal.app.changes().current(), changes);
        assert_eq!(w.internal.app.lock_changes().current(), lock_changes + 2);
    });
}

#[test]
fn an_expired_mirrored_lock_refuses_nothing_and_shows_nothing() {
    block_on(async {
        let w = world().await;
        let now = OffsetDateTime::now_utc();
        let lock = |until: OffsetDateTime| LockSummary {
            resource: Resource::Document(w.doc),
            space: w.space,
            holder: w.manager.id().expect("id"),
            holder_name: "marie".into(),
            scope: LockScope::Exclusive,
            depth: LockDepth::Zero,
            since: now - Duration::hours(2),
            until,
        };
        w.edge
            .app
            .mirror_locks(w.space, vec![lock(now - Duration::seconds(1))])
            .await
            .expect("mirrored");
        let d = w
            .edge
            .app
            .get_document(&w.contractor, w.doc)
            .await
            .expect("read");
        assert!(d.lock.is_none(), "an expired lock is not shown");
        w.edge
            .app
            .edge_operation(
                &w.contractor,
                w.space,
                OutboxOp::Rename {
                    document: w.doc,
                    name: "Renommé.txt".into(),
                },
            )
            .await
            .expect("an expired lock refuses nothing");
        // The same lock alive refuses: compared with the clock, not kept.
        w.edge
            .app
            .mirror_locks(w.space, vec![lock(now + Duration::hours(1))])
            .await
            .expect("mirrored");
        assert_locked_by_marie(
            w.edge
                .app
                .edge_new_version(&w.contractor, w.doc, None, "v2", content("v2"))
                .await,
            "a live lock",
        );
    });
}

#[test]
fn a_deep_folder_lock_covers_its_documents_and_moves_into_it_but_new_documents_still_queue() {
    block_on(async {
        let w = world().await;
        let app = &w.internal.app;
        let plans = app
            .create_folder(&w.manager, w.space, None, "Plans")
            .await
            .expect("folder");
        let sub = app
            .create_folder(&w.manager, w.space, Some(plans.id), "Niveau 1")
            .await
            .expect("sub-folder");
        let inside = app
            .upload(
                &w.manager,
                NewDocument {
                    space: w.space,
                    folder: Some(sub.id),
                    name: "Coupe.txt".into(),
                    ..NewDocument::default()
                },
                content("coupe"),
            )
            .await
            .expect("document below")
            .document
            .id;
        app.locks()
            .lock(
                &w.manager,
                Resource::Folder(plans.id),
                request(LockDepth::Infinity),
            )
            .await
            .expect("deep lock");
        down(&w.internal, &w.edge, w.space).await;

        every_change_is_locked(&w, inside).await;
        let shown = w
            .edge
            .app
            .get_document(&w.contractor, inside)
            .await
            .expect("read")
            .lock
            .expect("covered by the folder's lock");
        assert_eq!(shown.summary.resource, Resource::Folder(plans.id));
        // A document outside the folder may not move into it…
        assert_locked_by_marie(
            w.edge
                .app
                .edge_operation(
                    &w.contractor,
                    w.space,
                    OutboxOp::Move {
                        document: w.doc,
                        folder: Some(sub.id),
                    },
                )
                .await,
            "a move into the locked folder",
        );
        assert_eq!(pending(&w.edge).await, 0, "nothing queued");
        // …but new content lands, as the internal node lets it.
        w.edge
            .app
            .edge_upload(
                &w.contractor,
                NewDocument {
                    space: w.space,
                    folder: Some(sub.id),
                    name: "Relevé.txt".into(),
                    ..NewDocument::default()
                },
                content("relevé"),
            )
            .await
            .expect("a new document queues");
        w.edge
            .app
            .writes()
            .create_folder(&w.contractor, w.space, Some(plans.id), "Annexes")
            .await
            .expect("a new folder queues");
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied, OpOutcome::Applied]
        );
    });
}

#[test]
fn a_depth_zero_folder_lock_leaves_its_documents_writable() {
    block_on(async {
        let w = world().await;
        let app = &w.internal.app;
        let plans = app
            .create_folder(&w.manager, w.space, None, "Plans")
            .await
            .expect("folder");
        let inside = app
            .upload(
                &w.manager,
                NewDocument {
                    space: w.space,
                    folder: Some(plans.id),
                    name: "Coupe.txt".into(),
                    ..NewDocument::default()
                },
                content("coupe"),
            )
            .await
            .expect("document")
            .document
            .id;
        app.locks()
            .lock(
                &w.manager,
                Resource::Folder(plans.id),
                request(LockDepth::Zero),
            )
            .await
            .expect("shallow lock");
        down(&w.internal, &w.edge, w.space).await;
        w.edge
            .app
            .edge_new_version(&w.contractor, inside, None, "v2", content("v2"))
            .await
            .expect("the folder's own lock does not cover its documents");
        assert_eq!(
            w.edge
                .app
                .mirrored_locks_on(&w.contractor, Resource::Folder(plans.id))
                .await
                .expect("discovery")
                .len(),
            1
        );
    });
}

#[test]
fn a_lock_of_another_space_covers_nothing_here_and_stays_invisible_to_non_members() {
    block_on(async {
        let w = world().await;
        let other = shared_space(&w.internal.app, &w.manager, "voirie", "Voirie").await;
        let theirs = w
            .internal
            .app
            .upload(
                &w.manager,
                NewDocument {
                    space: other,
                    name: "Marché.txt".into(),
                    ..NewDocument::default()
                },
                content("marché"),
            )
            .await
            .expect("a document of the other space")
            .document
            .id;
        w.internal
            .app
            .locks()
            .lock(
                &w.manager,
                Resource::Space(other),
                request(LockDepth::Infinity),
            )
            .await
            .expect("the whole other space locked");
        down(&w.internal, &w.edge, other).await;
        // The contractor's space is not locked…
        w.edge
            .app
            .edge_new_version(&w.contractor, w.doc, None, "v2", content("v2"))
            .await
            .expect("queued: another space's lock covers nothing here");
        // …and the other space's locks are not theirs to see.
        for r in [Resource::Space(other), Resource::Document(theirs)] {
            assert!(
                matches!(
                    w.edge.app.mirrored_locks_on(&w.contractor, r).await,
                    Err(CoreError::NotFound(_))
                ),
                "{r:?}"
            );
        }
        assert_eq!(
            w.edge
                .app
                .mirrored_locks_on(&Actor::System, Resource::Document(theirs))
                .await
                .expect("the node operator sees it")
                .len(),
            1
        );
        // A snapshot naming another space's lock is refused whole.
        let stray = LockSummary {
            resource: Resource::Space(other),
            space: other,
            holder: w.manager.id().expect("id"),
            holder_name: "marie".into(),
            scope: LockScope::Exclusive,
            depth: LockDepth::Infinity,
            since: OffsetDateTime::now_utc(),
            until: OffsetDateTime::now_utc() + Duration::hours(1),
        };
        assert!(matches!(
            w.edge.app.mirror_locks(w.space, vec![stray]).await,
            Err(CoreError::Invalid { .. })
        ));
    });
}

#[test]
fn a_version_queued_before_the_lock_reached_the_edge_becomes_a_conflict_copy() {
    block_on(async {
        let w = world().await;
        w.edge
            .app
            .edge_new_version(
                &w.contractor,
                w.doc,
                None,
                "ma version",
                content("contractor"),
            )
            .await
            .expect("queued before any lock");
        w.internal
            .app
            .locks()
            .check_out(&w.manager, w.doc, None, None)
            .await
            .expect("check-out");
        down(&w.internal, &w.edge, w.space).await;
        assert!(
            w.edge
                .app
                .get_document(&w.contractor, w.doc)
                .await
                .expect("read")
                .lock
                .is_some(),
            "the lock reached the edge after the write was queued"
        );
        let applied = up(&w.internal, &w.edge).await;
        assert_eq!(applied.len(), 1);
        assert_eq!(applied[0].outcome, OpOutcome::Conflict, "{applied:?}");
        let copy = w
            .internal
            .app
            .get_document(&w.manager, applied[0].document.expect("the copy"))
            .await
            .expect("nothing lost: the copy is there");
        assert_ne!(copy.document.id, w.doc);
        assert_eq!(copy.version.author, w.contractor.id().expect("id"));
    });
}

#[test]
fn an_unshared_space_takes_its_mirror_along() {
    block_on(async {
        let w = world().await;
        w.internal
            .app
            .locks()
            .check_out(&w.manager, w.doc, None, None)
            .await
            .expect("check-out");
        down(&w.internal, &w.edge, w.space).await;
        w.internal
            .app
            .unshare_space(&w.manager, w.space)
            .await
            .expect("unshare");
        down(&w.internal, &w.edge, w.space).await;
        assert!(w.edge.app.cursors().await.expect("cursors").is_empty());
        assert!(matches!(
            w.edge.app.mirror_locks(w.space, Vec::new()).await,
            Err(CoreError::NotFound("space"))
        ));
    });
}

#[test]
fn the_deletion_of_their_own_document_locked_by_an_agent_is_refused_on_the_edge() {
    block_on(async {
        let w = world().await;
        w.edge
            .app
            .edge_upload(
                &w.contractor,
                NewDocument {
                    space: w.space,
                    name: "Relevé.txt".into(),
                    ..NewDocument::default()
                },
                content("relevé"),
            )
            .await
            .expect("queued");
        let doc = up(&w.internal, &w.edge).await[0].document.expect("created");
        w.internal
            .app
            .locks()
            .check_out(&w.manager, doc, None, None)
            .await
            .expect("the manager checks it out");
        down(&w.internal, &w.edge, w.space).await;
        let e = &w.edge.app;
        assert_locked_by_marie(
            e.edge_operation(
                &w.contractor,
                w.space,
                OutboxOp::Delete {
                    document: doc,
                    base_version: 1,
                },
            )
            .await,
            "delete",
        );
        assert_locked_by_marie(
            e.writes().delete_document(&w.contractor, doc).await,
            "delete through the shared writes",
        );
        assert_eq!(pending(&w.edge).await, 0, "nothing queued");
    });
}
