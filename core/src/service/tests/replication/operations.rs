//! A contractor's operations reaching the internal node one by one: new
//! folders, moves and metadata applied as the contractor, concurrent edits
//! kept as a conflict copy, and what the internal node must not take (a
//! contractor whose rights were revoked, another space's document, content
//! over its limit) quarantined or rejected; apart from the round trip of
//! the parent module, which the other tests start from.

use super::*;

#[test]
fn concurrent_edits_become_a_conflict_copy_and_every_version_is_kept() {
    block_on(async {
        let w = world().await;
        // The contractor edits version 1 on the edge while the agent adds version 2.
        w.edge
            .app
            .edge_new_version(&w.contractor, w.doc, None, "", content("contractor"))
            .await
            .expect("edge version");
        w.internal
            .app
            .new_version(&w.manager, w.doc, NewVersion::default(), content("agent"))
            .await
            .expect("v2");
        let applied = up(&w.internal, &w.edge).await;
        assert_eq!(applied[0].outcome, OpOutcome::Conflict);
        let copy = w
            .internal
            .app
            .get_document(&w.manager, applied[0].document.expect("copy"))
            .await
            .expect("copy");
        assert!(
            copy.document
                .name
                .as_str()
                .starts_with("CCTP (conflit jean@btp-rhone.fr "),
            "{}",
            copy.document.name
        );
        assert_eq!(
            w.internal
                .app
                .list_versions(&w.manager, w.doc)
                .await
                .expect("versions")
                .len(),
            2
        );
        down(&w.internal, &w.edge, w.space).await;
        w.edge
            .app
            .get_document(&w.contractor, copy.document.id)
            .await
            .expect("copy on the edge too");
    });
}

#[test]
fn an_operation_of_a_contractor_whose_rights_were_revoked_is_quarantined() {
    block_on(async {
        let w = world().await;
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
            .expect("rename queued");
        let cid = w.contractor.id().expect("id");
        w.internal
            .app
            .remove_member(&w.manager, w.space, cid)
            .await
            .expect("revoke");
        let applied = up(&w.internal, &w.edge).await;
        assert_eq!(applied[0].outcome, OpOutcome::Rejected);
        assert_eq!(
            w.internal
                .app
                .get_document(&w.manager, w.doc)
                .await
                .expect("doc")
                .document
                .name
                .as_str(),
            "CCTP.txt"
        );
        let status = w
            .internal
            .app
            .space_replication(&w.manager, w.space)
            .await
            .expect("status");
        assert_eq!(status.quarantine.len(), 1, "reported to the managers");
        // The revocation reaches the edge: the contractor no longer sees the space.
        down(&w.internal, &w.edge, w.space).await;
        assert!(matches!(
            w.edge.app.get_space(&w.contractor, w.space).await,
            Err(CoreError::NotFound(_))
        ));
    });
}

#[test]
fn operations_naming_another_spaces_document_are_rejected() {
    block_on(async {
        let w = world().await;
        let other = w
            .internal
            .app
            .create_space(
                &w.manager,
                NewSpace {
                    slug: "secret".into(),
                    title: "Secret".into(),
                    description: String::new(),
                    domain: String::new(),
                    visibility: Visibility::Private,
                    manager: None,
                },
            )
            .await
            .expect("space")
            .space
            .id;
        let secret = w
            .internal
            .app
            .upload(
                &w.manager,
                NewDocument {
                    space: other,
                    name: "s.txt".into(),
                    ..NewDocument::default()
                },
                content("s"),
            )
            .await
            .expect("doc")
            .document
            .id;
        // A hostile edge forges an item against the secret document.
        let forged = crate::replication::OutboxItem {
            seq: 1,
            op_id: uuid::Uuid::now_v7(),
            space: w.space,
            contractor: w.contractor.id().expect("id"),
            created_at: time::OffsetDateTime::now_utc(),
            op: OutboxOp::Rename {
                document: secret,
                name: "pwned.txt".into(),
            },
            outcome: None,
            detail: String::new(),
        };
        let r = w
            .internal
            .app
            .apply_edge_op(&"edge-1".parse().expect("node id"), &forged)
            .await
            .expect("recorded");
        assert_eq!(r.outcome, OpOutcome::Rejected);
        assert_eq!(
            w.internal
                .app
                .get_document(&w.manager, secret)
                .await
                .expect("doc")
                .document
                .name
                .as_str(),
            "s.txt"
        );
        // And from an edge the space is not shared with.
        let forged2 = crate::replication::OutboxItem {
            op_id: uuid::Uuid::now_v7(),
            op: OutboxOp::Rename {
                document: w.doc,
                name: "x.txt".into(),
            },
            ..forged
        };
        assert_eq!(
            w.internal
                .app
                .apply_edge_op(&"edge-2".parse().expect("node id"), &forged2)
                .await
                .expect("recorded")
                .outcome,
            OpOutcome::Rejected
        );
    });
}

#[test]
fn content_over_the_internal_limit_is_refused_without_being_fetched() {
    block_on(async {
        let w = world().await;
        let limit = w.internal.app.settings().max_upload_bytes;
        let item = crate::replication::OutboxItem {
            seq: 1,
            op_id: uuid::Uuid::now_v7(),
            space: w.space,
            contractor: w.contractor.id().expect("id"),
            created_at: time::OffsetDateTime::now_utc(),
            op: OutboxOp::NewDocument {
                folder: None,
                name: "enorme.iso".into(),
                hash: crate::ContentHash::of(b"never sent"),
                size: limit + 1,
                media_type: "application/octet-stream".into(),
                doc_type: None,
                metadata: serde_json::Map::new(),
                comment: String::new(),
            },
            outcome: None,
            detail: String::new(),
        };
        let r = w
            .internal
            .app
            .apply_edge_op(&"edge-1".parse().expect("node id"), &item)
            .await
            .expect("recorded, not retried");
        assert_eq!(r.outcome, OpOutcome::Rejected);
        assert!(r.detail.contains(&limit.to_string()), "{}", r.detail);
        let listed = w
            .internal
            .app
            .list_folder(&w.manager, w.space, None, Page::default())
            .await
            .expect("list");
        assert!(
            !listed
                .documents
                .items
                .iter()
                .any(|d| d.name.as_str() == "enorme.iso")
        );
    });
}

#[test]
fn a_contractors_new_folder_move_and_metadata_are_applied_as_the_contractor() {
    block_on(async {
        let w = world().await;
        for t in crate::doctype::default_catalogue() {
            w.internal
                .app
                .save_document_type(&Actor::System, t)
                .await
                .expect("type");
        }
        down(&w.internal, &w.edge, w.space).await;
        let cid = w.contractor.id().expect("id");
        let folder = w.edge.app.new_folder_id();
        w.edge
            .app
            .edge_operation(
                &w.contractor,
                w.space,
                OutboxOp::NewFolder {
                    folder,
                    parent: None,
                    name: "Lot 1".into(),
                },
            )
            .await
            .expect("folder queued");
        // Not on the edge until the internal node applied it: a move into
        // it is refused there, so nothing waits on a folder that may never be.
        assert!(
            w.edge
                .app
                .edge_operation(
                    &w.contractor,
                    w.space,
                    OutboxOp::Move {
                        document: w.doc,
                        folder: Some(folder),
                    },
                )
                .await
                .is_err()
        );
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied]
        );
        down(&w.internal, &w.edge, w.space).await;

        let facture = serde_json::json!({"numero": "F-2026-0042", "fournisseur": "BTP Rhône",
            "montant_ttc": "12480.50", "date_emission": "2026-10-02"});
        let serde_json::Value::Object(metadata) = facture else {
            unreachable!("an object")
        };
        for op in [
            OutboxOp::Move {
                document: w.doc,
                folder: Some(folder),
            },
            OutboxOp::SetMetadata {
                document: w.doc,
                doc_type: Some("facture".into()),
                metadata,
            },
        ] {
            w.edge
                .app
                .edge_operation(&w.contractor, w.space, op)
                .await
                .expect("queued");
        }
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied, OpOutcome::Applied]
        );

        let d = w
            .internal
            .app
            .get_document(&w.manager, w.doc)
            .await
            .expect("doc")
            .document;
        assert_eq!(d.folder, Some(folder));
        assert_eq!(d.doc_type.as_deref(), Some("facture"));
        assert_eq!(d.metadata["fournisseur"], "BTP Rhône");
        let listed = w
            .internal
            .app
            .list_folder(&w.manager, w.space, None, Page::new(0, 10))
            .await
            .expect("root");
        let f = listed
            .folders
            .iter()
            .find(|f| f.id == folder)
            .expect("the edge's folder id is kept");
        assert_eq!((f.name.as_str(), f.created_by), ("Lot 1", cid));
        // And back down: the edge shows what the internal node decided.
        down(&w.internal, &w.edge, w.space).await;
        let e = w
            .edge
            .app
            .get_document(&w.contractor, w.doc)
            .await
            .expect("doc on the edge")
            .document;
        assert_eq!(
            (e.folder, e.doc_type, e.metadata),
            (d.folder, d.doc_type, d.metadata)
        );
    })
}
