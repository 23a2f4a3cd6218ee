//! Links between documents on an edge (ADR 0008 §4): a shared space's
//! links reach the edge with their documents, removals as tombstones,
//! contractors see them from both ends, both nodes' digests agree; a link
//! to a document of another space stays on the internal node.

use futures::executor::block_on;

use super::*;
use crate::links::LinkKind;

#[test]
fn a_shared_space_s_links_reach_the_edge_and_their_removal_follows() {
    block_on(async {
        let w = world().await;
        let annex = w
            .internal
            .app
            .upload(
                &w.manager,
                NewDocument {
                    space: w.space,
                    name: "annexe.pdf".into(),
                    ..NewDocument::default()
                },
                content("annexe"),
            )
            .await
            .expect("annex")
            .document
            .id;
        let link = w
            .internal
            .app
            .link_documents(&w.manager, annex, w.doc, LinkKind::AnnexeDe)
            .await
            .expect("link");
        // A link into a space the edge does not hold stays inside.
        let other = w
            .internal
            .app
            .create_space(
                &w.manager,
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
            .expect("space")
            .space
            .id;
        let inside = w
            .internal
            .app
            .upload(
                &w.manager,
                NewDocument {
                    space: other,
                    name: "note.pdf".into(),
                    ..NewDocument::default()
                },
                content("note"),
            )
            .await
            .expect("inside")
            .document
            .id;
        w.internal
            .app
            .link_documents(&w.manager, w.doc, inside, LinkKind::VoirAussi)
            .await
            .expect("cross-space link");
        down(&w.internal, &w.edge, w.space).await;

        let seen = w
            .edge
            .app
            .document_links(&w.contractor, w.doc)
            .await
            .expect("links on the edge");
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].link, link);
        assert!(!seen[0].outgoing);
        assert_eq!(
            w.edge.app.space_digest(w.space).await.expect("digest"),
            w.internal.app.space_digest(w.space).await.expect("digest"),
            "both nodes hold the same links"
        );

        w.internal
            .app
            .unlink_documents(&w.manager, annex, link.id)
            .await
            .expect("unlink");
        down(&w.internal, &w.edge, w.space).await;
        assert!(
            w.edge
                .app
                .document_links(&w.contractor, w.doc)
                .await
                .expect("links")
                .is_empty()
        );
        assert_eq!(
            w.edge.app.space_digest(w.space).await.expect("digest"),
            w.internal.app.space_digest(w.space).await.expect("digest"),
        );
    });
}
