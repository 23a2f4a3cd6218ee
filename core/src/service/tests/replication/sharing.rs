//! What the feed carries to an edge and what an un-share takes back: a
//! space never shared never reaches it, a batch lands only with its blobs
//! whole, an un-share purges every row and blob of the space, and not while
//! an operation of the space is pending.

use super::*;

#[test]
fn unsharing_purges_every_row_and_blob_of_the_space_from_the_edge() {
    block_on(async {
        let w = world().await;
        // A transfer cut before its batch: a partial blob no row names.
        let cut: crate::blob::ByteStream = Box::pin(futures::stream::iter([Ok(
            bytes::Bytes::from_static(b"half of a plan"),
        )]));
        let planned = crate::ContentHash::of(b"half of a plan, and the rest");
        w.edge
            .blobs
            .put_resumable(&planned, 28, 0, cut)
            .await
            .expect("partial kept");
        w.internal
            .app
            .unshare_space(&w.manager, w.space)
            .await
            .expect("unshare");
        let report = w.edge.app.purge_shared_space(w.space).await.expect("purge");
        assert!(report.rows > 0);
        assert_eq!(report.blobs, 2, "the blob and the partial one");
        assert!(w.edge.blobs.partials().await.expect("partials").is_empty());
        assert!(w.edge.app.cursors().await.expect("cursors").is_empty());
        assert!(w.edge.blobs.is_empty(), "no blob of the space is left");
        assert!(
            w.edge
                .app
                .feed(w.space, Revision::ZERO, 1000)
                .await
                .expect("rows")
                .rows
                .is_empty()
        );
        assert!(
            w.edge
                .app
                .login("jean@btp-rhone.fr", "un mot de passe sûr", None)
                .await
                .is_err(),
            "the contractor is gone"
        );
    });
}

#[test]
fn a_space_never_shared_never_reaches_the_feed_of_an_edge() {
    block_on(async {
        let internal = internal_node();
        let m = agent(&internal.app, "marie").await;
        internal
            .app
            .create_space(
                &m,
                NewSpace {
                    slug: "interne".into(),
                    title: "Interne".into(),
                    description: String::new(),
                    domain: String::new(),
                    visibility: Visibility::Private,
                    manager: None,
                },
            )
            .await
            .expect("space");
        assert!(
            internal
                .app
                .spaces_shared_with(&"edge-1".parse().expect("node id"))
                .await
                .expect("shared")
                .is_empty()
        );
    });
}

#[test]
fn the_edge_refuses_a_batch_whose_blobs_it_does_not_hold_whole() {
    block_on(async {
        let internal = internal_node();
        let edge = edge_node();
        let manager = agent(&internal.app, "marie").await;
        let space = internal
            .app
            .create_space(
                &manager,
                NewSpace {
                    slug: "voirie".into(),
                    title: "Voirie".into(),
                    description: String::new(),
                    domain: "Voirie".into(),
                    visibility: Visibility::Private,
                    manager: None,
                },
            )
            .await
            .expect("space")
            .space
            .id;
        for name in ["plan.txt", "devis.txt"] {
            internal
                .app
                .upload(
                    &manager,
                    NewDocument {
                        space,
                        name: name.into(),
                        ..NewDocument::default()
                    },
                    content(name),
                )
                .await
                .expect("doc");
        }
        internal
            .app
            .share_space(&manager, space, "edge-1")
            .await
            .expect("share");
        // Started: held at cursor 0 before any batch, once however often.
        edge.app.begin_space(space).await.expect("begin");
        edge.app.begin_space(space).await.expect("begin again");
        assert_eq!(
            edge.app.cursors().await.expect("cursors"),
            vec![(space, Revision::ZERO)]
        );
        let feed = internal
            .app
            .feed(space, Revision::ZERO, 1000)
            .await
            .expect("feed");
        let hashes: Vec<_> = feed
            .rows
            .iter()
            .filter_map(|r| match r {
                ChangeRow::Version(v) => Some(v.hash),
                _ => None,
            })
            .collect();
        assert_eq!(hashes.len(), 2);
        // One blob whole, the other only begun: refused, nothing applied.
        copy_blob(&internal.blobs, &edge.blobs, &hashes[0]).await;
        let half: ByteStream = Box::pin(futures::stream::iter([Ok(Bytes::from_static(b"dev"))]));
        let size = internal
            .blobs
            .size(&hashes[1])
            .await
            .expect("size")
            .expect("stored");
        edge.blobs
            .put_resumable(&hashes[1], size, 0, half)
            .await
            .expect("partial");
        let refused = edge
            .app
            .apply_changes(space, Revision::ZERO, feed.through, feed.rows.clone())
            .await
            .expect_err("a blob is missing");
        assert!(
            matches!(&refused, CoreError::Conflict { code, .. } if *code == "blob_missing"),
            "{refused:?}"
        );
        assert_eq!(
            edge.app.cursors().await.expect("cursors"),
            vec![(space, Revision::ZERO)]
        );
        edge.blobs
            .discard_partial(&hashes[1])
            .await
            .expect("discard");
        copy_blob(&internal.blobs, &edge.blobs, &hashes[1]).await;
        let cursor = edge
            .app
            .apply_changes(space, Revision::ZERO, feed.through, feed.rows)
            .await
            .expect("applied");
        assert_eq!(cursor, feed.through);
    });
}

/// ADR 0002, invariant 7: the edge checks "nothing pending" and purges in
/// one write transaction, so an operation the contractor was told is
/// accepted is never deleted unapplied.
#[test]
fn an_edge_purge_is_refused_while_an_operation_of_the_space_is_pending() {
    block_on(async {
        let w = world().await;
        let pending = w
            .edge
            .app
            .edge_upload(
                &w.contractor,
                NewDocument {
                    space: w.space,
                    name: "plans-v2.txt".into(),
                    ..NewDocument::default()
                },
                content("plans"),
            )
            .await
            .expect("accepted on the edge");
        w.internal
            .app
            .unshare_space(&w.manager, w.space)
            .await
            .expect("unshare");
        match w.edge.app.purge_shared_space(w.space).await {
            Err(CoreError::Conflict { code, .. }) => assert_eq!(code, "pending_operations"),
            other => panic!("purge with a pending operation: {other:?}"),
        }
        assert!(
            w.edge
                .app
                .pending_operations(0, 100)
                .await
                .expect("pending")
                .iter()
                .any(|i| i.op_id == pending.op_id),
            "the operation is still there"
        );
        // Drained (applied on the internal node, acknowledged), the purge goes.
        assert_eq!(
            up_outcomes(&w.internal, &w.edge).await,
            [OpOutcome::Applied]
        );
        let report = w.edge.app.purge_shared_space(w.space).await.expect("purge");
        assert!(report.rows > 0);
    });
}

#[test]
fn an_edge_indexes_what_it_holds_and_drops_a_purged_space_from_its_index() {
    block_on(async {
        use crate::fakes::{MemIndex, MemRepository, PlainTextExtractor};
        use crate::service::{Indexer, Search, SearchAsk};
        let w = world().await;
        let index = Arc::new(MemIndex::new());
        let log = Arc::new(MemRepository::new());
        let indexer = Indexer::new(
            &w.edge.app,
            index.clone(),
            Arc::new(PlainTextExtractor::new()),
            log.clone(),
        );
        let search = Search::new(&w.edge.app, index.clone(), log);
        while !indexer.run().await.expect("index run").caught_up {}
        let entries = index.entries();
        assert_eq!(entries.len(), 1);
        assert_eq!((entries[0].id, entries[0].space), (w.doc, w.space));
        let ask = SearchAsk {
            limit: 10,
            ..SearchAsk::default()
        };
        let found = search
            .search(&w.contractor, ask.clone())
            .await
            .expect("search");
        assert_eq!(found.total, 1);

        w.internal
            .app
            .unshare_space(&w.manager, w.space)
            .await
            .expect("unshare");
        w.edge.app.purge_shared_space(w.space).await.expect("purge");
        let run = indexer.run().await.expect("index run");
        assert_eq!(run.dropped, 1);
        assert!(index.entries().is_empty());
        assert!(
            crate::search::SearchIndex::cursors(index.as_ref())
                .await
                .expect("cursors")
                .is_empty()
        );
        let admin = Actor::System;
        assert_eq!(search.search(&admin, ask).await.expect("search").total, 0);
    });
}
