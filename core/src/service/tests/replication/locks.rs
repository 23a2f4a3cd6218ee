//! A contractor's writes queued on the edge against a document an agent
//! has checked out on the internal node (ADR 0007 §1): the edge could not
//! know of the lock, so nothing is lost — a new version becomes a
//! conflict copy beside the locked document, an edit or a deletion is
//! answered as a conflict and leaves the holder's document as it is.

use super::*;
use crate::locks::{LockDepth, LockRequest, LockScope};
use crate::model::Resource;

#[test]
fn a_contractors_version_of_a_locked_document_becomes_a_conflict_copy() {
    block_on(async {
        let w = world().await;
        let locks = w.internal.app.locks();
        let lock = locks
            .check_out(&w.manager, w.doc, None, Some("relecture".into()))
            .await
            .expect("check-out");
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
            .expect("queued on the edge");
        let applied = up(&w.internal, &w.edge).await;
        assert_eq!(applied.len(), 1);
        assert_eq!(applied[0].outcome, OpOutcome::Conflict, "{applied:?}");
        assert!(
            applied[0].detail.starts_with("locked by marie until "),
            "{}",
            applied[0].detail
        );
        let copy = w
            .internal
            .app
            .get_document(&w.manager, applied[0].document.expect("the copy"))
            .await
            .expect("copy");
        assert_ne!(copy.document.id, w.doc);
        assert!(
            copy.document
                .name
                .as_str()
                .starts_with("CCTP (conflit jean@btp-rhone.fr "),
            "{}",
            copy.document.name
        );
        assert_eq!(copy.version.author, w.contractor.id().expect("id"));
        let held = w
            .internal
            .app
            .get_document(&w.manager, w.doc)
            .await
            .expect("the locked document");
        assert_eq!(held.version.number, 1, "the holder's document is untouched");
        assert_eq!(
            held.lock.and_then(|l| l.lock).map(|l| l.token),
            Some(lock.token)
        );
    });
}

#[test]
fn a_contractors_rename_or_metadata_on_a_locked_document_is_a_conflict_without_effect() {
    block_on(async {
        let w = world().await;
        w.internal
            .app
            .locks()
            .check_out(&w.manager, w.doc, None, None)
            .await
            .expect("check-out");
        for op in [
            OutboxOp::Rename {
                document: w.doc,
                name: "Renommé.txt".into(),
            },
            OutboxOp::SetMetadata {
                document: w.doc,
                doc_type: None,
                metadata: Default::default(),
            },
        ] {
            w.edge
                .app
                .edge_operation(&w.contractor, w.space, op)
                .await
                .expect("queued");
        }
        let applied = up(&w.internal, &w.edge).await;
        let outcomes: Vec<(OpOutcome, &str)> = applied
            .iter()
            .map(|a| (a.outcome, a.detail.as_str()))
            .collect();
        assert_eq!(outcomes.len(), 2);
        assert!(
            outcomes[0].0 == OpOutcome::Conflict && outcomes[0].1.ends_with(": not renamed"),
            "{outcomes:?}"
        );
        assert!(
            outcomes[1].0 == OpOutcome::Conflict
                && outcomes[1].1.ends_with(": metadata not changed"),
            "{outcomes:?}"
        );
        let d = w
            .internal
            .app
            .get_document(&w.manager, w.doc)
            .await
            .expect("still there");
        assert_eq!(d.document.name.as_str(), "CCTP.txt");
    });
}

#[test]
fn a_contractors_new_document_lands_in_a_folder_locked_with_depth_infinity() {
    block_on(async {
        let w = world().await;
        let folder = w
            .internal
            .app
            .create_folder(&w.manager, w.space, None, "Plans")
            .await
            .expect("folder");
        down(&w.internal, &w.edge, w.space).await;
        w.internal
            .app
            .locks()
            .lock(
                &w.manager,
                Resource::Folder(folder.id),
                LockRequest {
                    scope: LockScope::Exclusive,
                    depth: LockDepth::Infinity,
                    timeout: None,
                    owner_info: None,
                },
            )
            .await
            .expect("deep lock");
        w.edge
            .app
            .edge_upload(
                &w.contractor,
                NewDocument {
                    space: w.space,
                    folder: Some(folder.id),
                    name: "Relevé.txt".into(),
                    ..NewDocument::default()
                },
                content("relevé"),
            )
            .await
            .expect("queued");
        // It overwrites nothing: losing it would lose the contractor's work.
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied]
        );
    });
}

#[test]
fn a_contractors_deletion_of_their_document_locked_by_an_agent_is_a_conflict_without_effect() {
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
        let applied = up(&w.internal, &w.edge).await;
        let doc = applied[0].document.expect("created");
        down(&w.internal, &w.edge, w.space).await;
        w.internal
            .app
            .locks()
            .check_out(&w.manager, doc, None, None)
            .await
            .expect("the manager checks it out");
        w.edge
            .app
            .edge_operation(
                &w.contractor,
                w.space,
                OutboxOp::Delete {
                    document: doc,
                    base_version: 1,
                },
            )
            .await
            .expect("queued");
        let applied = up(&w.internal, &w.edge).await;
        assert_eq!(applied[0].outcome, OpOutcome::Conflict);
        assert!(
            applied[0].detail.ends_with(": not deleted"),
            "{}",
            applied[0].detail
        );
        let kept = w
            .internal
            .app
            .get_document(&w.manager, doc)
            .await
            .expect("not in the trash");
        assert!(kept.document.trashed.is_none());
    });
}
