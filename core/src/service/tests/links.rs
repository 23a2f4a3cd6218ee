//! Links between documents (ADR 0008 §4): an edit of the source; shown
//! from both ends to whoever sees the other end, absent otherwise, also
//! after a sequence of legal steps takes that sight away; idempotent, and
//! revived rather than duplicated.

use futures::executor::block_on;

use super::{agent, app, space, upload};
use crate::error::CoreError;
use crate::links::LinkKind;
use crate::role::Role;

#[test]
fn a_link_is_an_edit_of_its_source_and_shows_from_both_ends() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let s = space(&app, &boss, "s0").await;
        let act = upload(&app, &boss, s, "acte.pdf")
            .await
            .expect("act")
            .document
            .id;
        let annex = upload(&app, &boss, s, "annexe.pdf")
            .await
            .expect("annex")
            .document
            .id;
        let link = app
            .link_documents(&boss, annex, act, LinkKind::AnnexeDe)
            .await
            .expect("link");
        let again = app
            .link_documents(&boss, annex, act, LinkKind::AnnexeDe)
            .await
            .expect("again");
        assert_eq!(again, link, "linking again answers the same link");
        let from_annex = app.document_links(&boss, annex).await.expect("links");
        assert_eq!(from_annex.len(), 1);
        assert!(from_annex[0].outgoing);
        assert_eq!(from_annex[0].other.id, act);
        let from_act = app.document_links(&boss, act).await.expect("links");
        assert_eq!(from_act.len(), 1);
        assert!(!from_act[0].outgoing);
        assert_eq!(from_act[0].other.id, annex);

        // Removed, then made again: the same row, revived.
        app.unlink_documents(&boss, annex, link.id)
            .await
            .expect("unlink");
        assert!(
            app.document_links(&boss, act)
                .await
                .expect("links")
                .is_empty()
        );
        let err = app
            .unlink_documents(&boss, annex, link.id)
            .await
            .expect_err("twice");
        assert!(matches!(err, CoreError::NotFound(_)), "{err:?}");
        let revived = app
            .link_documents(&boss, annex, act, LinkKind::AnnexeDe)
            .await
            .expect("relink");
        assert_eq!(revived.id, link.id);
        assert!(revived.revision > link.revision);

        let err = app
            .link_documents(&boss, act, act, LinkKind::VoirAussi)
            .await
            .expect_err("self");
        assert!(
            matches!(
                err,
                CoreError::Invalid {
                    code: "invalid_link",
                    ..
                }
            ),
            "{err:?}"
        );
        // Only through the source: the target's id is not the link's.
        let err = app
            .unlink_documents(&boss, act, link.id)
            .await
            .expect_err("through the target");
        assert!(matches!(err, CoreError::NotFound(_)), "{err:?}");
    });
}

#[test]
fn links_follow_the_rights_of_both_ends_through_a_sequence_of_legal_steps() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let paul = agent(&app, "paul", false).await;
        let s1 = space(&app, &boss, "s1").await;
        let s2 = space(&app, &boss, "s2").await;
        let a = upload(&app, &boss, s1, "a.pdf")
            .await
            .expect("a")
            .document
            .id;
        let b = upload(&app, &boss, s2, "b.pdf")
            .await
            .expect("b")
            .document
            .id;

        // Paul reads s1 only: he may not link, and s2's document is as
        // absent to him as one that never existed.
        app.set_member(&boss, s1, "paul", Role::Reader)
            .await
            .expect("reader");
        let err = app
            .link_documents(&paul, a, b, LinkKind::VoirAussi)
            .await
            .expect_err("reader");
        assert!(matches!(err, CoreError::Forbidden(_)), "{err:?}");
        app.set_member(&boss, s1, "paul", Role::Contributor)
            .await
            .expect("contributor");
        let own = upload(&app, &paul, s1, "mine.pdf")
            .await
            .expect("own")
            .document
            .id;
        let hidden = app
            .link_documents(&paul, own, b, LinkKind::VoirAussi)
            .await
            .expect_err("invisible target");
        let absent = app
            .link_documents(
                &paul,
                own,
                crate::ids::DocumentId::new(),
                LinkKind::VoirAussi,
            )
            .await
            .expect_err("absent target");
        assert_eq!(format!("{hidden:?}"), format!("{absent:?}"));

        // The boss sees both and links across the spaces.
        app.link_documents(&boss, a, b, LinkKind::Remplace)
            .await
            .expect("cross-space link");
        assert!(
            app.document_links(&paul, a)
                .await
                .expect("links")
                .is_empty(),
            "the far end is out of Paul's sight"
        );
        // Paul joins s2: the link appears; he leaves it: it is gone again.
        app.set_member(&boss, s2, "paul", Role::Reader)
            .await
            .expect("join");
        assert_eq!(app.document_links(&paul, a).await.expect("links").len(), 1);
        app.remove_member(&boss, s2, paul.id().expect("id"))
            .await
            .expect("leave");
        assert!(
            app.document_links(&paul, a)
                .await
                .expect("links")
                .is_empty()
        );
        // Trashing the far end hides the link from everyone.
        app.delete_document(&boss, b).await.expect("trash");
        assert!(
            app.document_links(&boss, a)
                .await
                .expect("links")
                .is_empty()
        );
    });
}

#[test]
fn another_principal_s_check_out_of_the_source_blocks_linking_it() {
    block_on(async {
        let (app, _) = app();
        let boss = agent(&app, "boss", false).await;
        let paul = agent(&app, "paul", false).await;
        let s = space(&app, &boss, "s0").await;
        app.set_member(&boss, s, "paul", Role::Collaborator)
            .await
            .expect("member");
        let a = upload(&app, &boss, s, "a.pdf")
            .await
            .expect("a")
            .document
            .id;
        let b = upload(&app, &boss, s, "b.pdf")
            .await
            .expect("b")
            .document
            .id;
        app.locks()
            .check_out(&boss, a, None, None)
            .await
            .expect("lock");
        let err = app
            .link_documents(&paul, a, b, LinkKind::VoirAussi)
            .await
            .expect_err("locked");
        assert!(matches!(err, CoreError::Locked { .. }), "{err:?}");
        // The holder may.
        app.link_documents(&boss, a, b, LinkKind::VoirAussi)
            .await
            .expect("holder");
        // Linking *to* a locked document edits only the source.
        app.link_documents(&paul, b, a, LinkKind::VoirAussi)
            .await
            .expect("to a locked one");
    });
}
