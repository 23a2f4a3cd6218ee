//! The writes driving adapters share (ADR 0005 §3): applied at once on the
//! internal node, queued on an edge (a rename with a move as two
//! operations, the rename first), refused alike on both; and the rights
//! core tells pages.

use serde_json::Map;

use super::*;
use crate::error::CoreError;
use crate::ids::FolderId;
use crate::replication::OutboxItem;
use crate::role::Action;
use crate::service::{AppliedWrites, DocumentWrites, QueuedWrites, Written};

fn kinds(items: &[OutboxItem]) -> Vec<&'static str> {
    items
        .iter()
        .map(|i| match i.op {
            OutboxOp::NewDocument { .. } => "new_document",
            OutboxOp::NewVersion { .. } => "new_version",
            OutboxOp::Rename { .. } => "rename",
            OutboxOp::Move { .. } => "move",
            OutboxOp::Delete { .. } => "delete",
            OutboxOp::SetMetadata { .. } => "set_metadata",
            OutboxOp::NewFolder { .. } => "new_folder",
            OutboxOp::AcceptInvitation { .. } => "accept_invitation",
        })
        .collect()
}

/// The single operation a write queued.
fn queued<T: std::fmt::Debug>(w: Written<T>) -> OutboxItem {
    match w {
        Written::Queued(q) => {
            assert_eq!(q.items().len(), 1, "one operation");
            q.last().clone()
        }
        Written::Applied(v) => panic!("applied on the edge: {v:?}"),
    }
}

fn applied<T: std::fmt::Debug>(w: Written<T>) -> T {
    match w {
        Written::Applied(v) => v,
        Written::Queued(q) => panic!("queued: {q:?}"),
    }
}

/// A folder made on the internal node and brought down to the edge.
async fn replicated_folder(w: &World, name: &str) -> FolderId {
    let f = w
        .internal
        .app
        .create_folder(&w.manager, w.space, None, name)
        .await
        .expect("folder")
        .id;
    down(&w.internal, &w.edge, w.space).await;
    f
}

#[test]
fn the_internal_node_applies_each_write_at_once() {
    block_on(async {
        let w = world().await;
        let writes = AppliedWrites::new(w.internal.app.clone());
        let m = &w.manager;
        let folder = applied(
            writes
                .create_folder(m, w.space, None, "Relevés")
                .await
                .expect("folder"),
        );
        let view = applied(
            writes
                .upload(
                    m,
                    NewDocument {
                        space: w.space,
                        name: "Plan.pdf".into(),
                        ..NewDocument::default()
                    },
                    content("plan"),
                )
                .await
                .expect("upload"),
        );
        let id = view.document.id;
        let moved = applied(
            writes
                .update_document(m, id, Some("Plan v2.pdf"), Some(Some(folder.id)))
                .await
                .expect("rename and move"),
        );
        assert_eq!(moved.document.name.as_str(), "Plan v2.pdf");
        assert_eq!(moved.document.folder, Some(folder.id));
        let v2 = applied(
            writes
                .new_version(m, id, NewVersion::default(), content("plan v2"))
                .await
                .expect("version"),
        );
        assert_eq!(v2.version.number, 2);
        applied(
            writes
                .update_metadata(m, id, None, Map::new())
                .await
                .expect("metadata"),
        );
        applied(writes.delete_document(m, id).await.expect("delete"));
        assert!(matches!(
            w.internal.app.get_document(m, id).await,
            Err(CoreError::NotFound(_))
        ));
        // Nothing can be queued here: `AppliedWrites` holds an
        // `InternalApp`, which has no outbox use case (ADR 0005 §3).
    });
}

#[test]
fn an_edge_queues_each_write_and_changes_nothing_here() {
    block_on(async {
        let w = world().await;
        let writes = QueuedWrites::new(w.edge.app.clone());
        let c = &w.contractor;
        let new = NewDocument {
            space: w.space,
            name: "Plan.pdf".into(),
            ..NewDocument::default()
        };
        let mut items = vec![queued(
            writes
                .upload(c, new, content("plan"))
                .await
                .expect("upload"),
        )];
        items.push(queued(
            writes
                .create_folder(c, w.space, None, "Relevés")
                .await
                .expect("folder"),
        ));
        items.push(queued(
            writes
                .new_version(c, w.doc, NewVersion::default(), content("v2"))
                .await
                .expect("version"),
        ));
        items.push(queued(
            writes
                .update_metadata(c, w.doc, None, Map::new())
                .await
                .expect("metadata"),
        ));
        assert_eq!(
            kinds(&items),
            ["new_document", "new_folder", "new_version", "set_metadata"]
        );
        assert!(
            items
                .iter()
                .all(|i| i.space == w.space && i.outcome.is_none())
        );
        let here = w.edge.app.get_document(c, w.doc).await.expect("doc");
        assert_eq!(here.version.number, 1, "nothing changes before the verdict");
        let done = up(&w.internal, &w.edge).await;
        assert!(
            done.iter().all(|a| a.outcome == OpOutcome::Applied),
            "the internal node applies what was queued: {done:?}"
        );
        // The contractor's own document, back down, is deleted as of the
        // version held here.
        down(&w.internal, &w.edge, w.space).await;
        let mine = done[0].document.expect("the new document");
        let deleted = queued(writes.delete_document(c, mine).await.expect("delete"));
        assert!(matches!(
            deleted.op,
            OutboxOp::Delete {
                base_version: 1,
                ..
            }
        ));
    });
}

#[test]
fn a_rename_with_a_move_is_two_operations_the_rename_first() {
    block_on(async {
        let w = world().await;
        let folder = replicated_folder(&w, "Relevés").await;
        let writes = QueuedWrites::new(w.edge.app.clone());
        let c = &w.contractor;
        let Written::Queued(q) = writes
            .update_document(c, w.doc, Some("CCTP v2.txt"), Some(Some(folder)))
            .await
            .expect("rename and move")
        else {
            panic!("applied on the edge");
        };
        assert_eq!(kinds(q.items()), ["rename", "move"]);
        assert!(q.items()[0].seq < q.items()[1].seq, "the rename first");
        assert_eq!(q.space(), w.space);
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied, OpOutcome::Applied]
        );
        let there = w
            .internal
            .app
            .get_document(&w.manager, w.doc)
            .await
            .expect("doc");
        assert_eq!(there.document.name.as_str(), "CCTP v2.txt");
        assert_eq!(there.document.folder, Some(folder));

        // Neither part: nothing to queue, the document as held here.
        down(&w.internal, &w.edge, w.space).await;
        let same = writes
            .update_document(c, w.doc, None, None)
            .await
            .expect("no change");
        assert_eq!(applied(same).document.name.as_str(), "CCTP v2.txt");
        // One part alone is one operation.
        let moved = writes
            .move_document(c, w.doc, None)
            .await
            .expect("move alone");
        assert!(matches!(
            queued(moved).op,
            OutboxOp::Move { folder: None, .. }
        ));
    });
}

#[test]
fn a_refused_rename_queues_no_move() {
    block_on(async {
        let w = world().await;
        let folder = replicated_folder(&w, "Relevés").await;
        let writes = QueuedWrites::new(w.edge.app.clone());
        let refused = writes
            .update_document(
                &w.contractor,
                w.doc,
                Some("../boot.ini"),
                Some(Some(folder)),
            )
            .await;
        assert!(
            matches!(
                refused,
                Err(CoreError::Invalid {
                    code: "invalid_name",
                    ..
                })
            ),
            "{refused:?}"
        );
        assert!(
            w.edge
                .app
                .pending_operations(0, 10)
                .await
                .expect("outbox")
                .is_empty()
        );
    });
}

#[test]
fn both_roles_refuse_with_not_found_and_forbidden_as_before() {
    block_on(async {
        let w = world().await;
        // The contractor becomes a reader.
        w.internal
            .app
            .set_member(&w.manager, w.space, "jean@btp-rhone.fr", Role::Reader)
            .await
            .expect("role");
        down(&w.internal, &w.edge, w.space).await;
        let edge = QueuedWrites::new(w.edge.app.clone());
        let c = &w.contractor;
        let forbidden = |r: Result<(), CoreError>| matches!(r, Err(CoreError::Forbidden(_)));
        assert!(forbidden(
            edge.rename_document(c, w.doc, "x.txt").await.map(drop)
        ));
        assert!(forbidden(edge.delete_document(c, w.doc).await.map(drop)));
        assert!(forbidden(
            edge.create_folder(c, w.space, None, "F").await.map(drop)
        ));
        let new = NewDocument {
            space: w.space,
            name: "Plan.pdf".into(),
            ..NewDocument::default()
        };
        assert!(forbidden(edge.upload(c, new, content("p")).await.map(drop)));
        let unknown = crate::ids::DocumentId::new();
        assert!(matches!(
            edge.update_metadata(c, unknown, None, Map::new()).await,
            Err(CoreError::NotFound("document"))
        ));
        assert!(
            w.edge
                .app
                .pending_operations(0, 10)
                .await
                .expect("outbox")
                .is_empty(),
            "nothing refused was queued"
        );

        // On the internal node: an agent outside the space does not see the
        // document; a reader sees it and may not change it.
        let internal = AppliedWrites::new(w.internal.app.clone());
        let outsider = agent(&w.internal.app, "paul").await;
        assert!(matches!(
            internal.rename_document(&outsider, w.doc, "x.txt").await,
            Err(CoreError::NotFound("document"))
        ));
        w.internal
            .app
            .set_member(&w.manager, w.space, "paul", Role::Reader)
            .await
            .expect("member");
        assert!(forbidden(
            internal
                .rename_document(&outsider, w.doc, "x.txt")
                .await
                .map(drop)
        ));
    });
}

#[test]
fn rights_follow_the_table_and_an_archived_space_takes_no_write() {
    block_on(async {
        let w = world().await;
        let app = &w.internal.app;
        let reader = agent(app, "paul").await;
        assert!(matches!(
            app.rights(&reader, w.space).await,
            Err(CoreError::NotFound(_))
        ));
        assert!(!app.may(&reader, w.space, Action::Read).await.expect("may"));
        app.set_member(&w.manager, w.space, "paul", Role::Reader)
            .await
            .expect("member");
        let r = app.rights(&reader, w.space).await.expect("rights");
        assert_eq!(r.role(), Role::Reader);
        assert!(r.may(Action::Read) && !r.may(Action::Create));

        let manager = app.rights(&w.manager, w.space).await.expect("rights");
        let author = w.manager.id().expect("id");
        assert!(manager.may(Action::Create) && manager.may_edit(author));
        app.set_archived(&w.manager, w.space, true)
            .await
            .expect("archive");
        let archived = app.rights(&w.manager, w.space).await.expect("rights");
        assert!(!archived.may(Action::Create));
        assert!(!archived.may_edit(author) && !archived.may_delete(author));
        assert!(
            archived.may(Action::Manage),
            "un-archiving is managing: it stays open"
        );
    });
}

#[test]
fn queued_writes_are_the_outbox_on_an_edge_and_none_here_with_the_same_rights() {
    block_on(async {
        let w = world().await;
        let page = Page::new(0, 10);
        let applied = AppliedWrites::new(w.internal.app.clone());
        let queued = QueuedWrites::new(w.edge.app.clone());
        let here = applied
            .queued_writes(&w.manager, w.space, page)
            .await
            .expect("manager's");
        assert_eq!((here.items.len(), here.total), (0, 0));

        queued
            .create_folder(&w.contractor, w.space, None, "Relevés")
            .await
            .expect("queued");
        let there = queued
            .queued_writes(&w.contractor, w.space, page)
            .await
            .expect("contractor's");
        assert_eq!(kinds(&there.items), ["new_folder"]);

        // A space the actor cannot see, or none at all: not found on both.
        let outsider = agent(&w.internal.app, "outsider").await;
        assert!(matches!(
            applied.queued_writes(&outsider, w.space, page).await,
            Err(CoreError::NotFound(_))
        ));
        let nowhere = SpaceId::new();
        assert!(matches!(
            applied.queued_writes(&w.manager, nowhere, page).await,
            Err(CoreError::NotFound(_))
        ));
        assert!(matches!(
            queued.queued_writes(&w.contractor, nowhere, page).await,
            Err(CoreError::NotFound(_))
        ));
    });
}

#[test]
fn an_edge_copies_through_the_outbox_and_refuses_folder_reshaping() {
    use crate::service::{CopyTarget, TreeWrites};
    block_on(async {
        let w = world().await;
        let writes = QueuedWrites::new(w.edge.app.clone());
        let jean = &w.contractor;
        let folder = replicated_folder(&w, "Relevés").await;
        let source = w
            .edge
            .app
            .get_document(jean, w.doc)
            .await
            .expect("source")
            .version;
        // A copy is a new document carrying the source's content.
        let copy = queued(
            writes
                .copy_document(
                    jean,
                    w.doc,
                    CopyTarget {
                        space: w.space,
                        folder: Some(folder),
                        name: "Copie.txt".into(),
                    },
                )
                .await
                .expect("copy"),
        );
        match &copy.op {
            OutboxOp::NewDocument {
                folder: f,
                name,
                hash,
                ..
            } => {
                assert_eq!(*f, Some(folder));
                assert_eq!(name, "Copie.txt");
                assert_eq!(*hash, source.hash);
            }
            other => panic!("not a new document: {other:?}"),
        }
        // A folder's rename, move or deletion has no operation: refused,
        // nothing queued; a folder the actor cannot see is not found.
        let before = w
            .edge
            .app
            .pending_operations(0, 100)
            .await
            .expect("pending");
        assert!(matches!(
            writes
                .update_folder(jean, folder, Some("Autre"), None)
                .await,
            Err(CoreError::Forbidden(_))
        ));
        assert!(matches!(
            writes.delete_folder(jean, folder).await,
            Err(CoreError::Forbidden(_))
        ));
        assert!(matches!(
            writes.delete_folder(jean, FolderId::new()).await,
            Err(CoreError::NotFound(_))
        ));
        let after = w
            .edge
            .app
            .pending_operations(0, 100)
            .await
            .expect("pending");
        assert_eq!(after.len(), before.len(), "nothing queued");
    });
}
