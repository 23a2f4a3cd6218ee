//! Invitations issued on the internal node: a link works once and not once
//! revoked, and a contractor is never invited as a manager; apart from
//! `acceptance`, which follows an acceptance up through the outbox.

use super::*;

#[test]
fn an_invitation_works_once_and_not_when_revoked() {
    block_on(async {
        let internal = internal_node();
        let edge = edge_node();
        let m = agent(&internal.app, "marie").await;
        let s = internal
            .app
            .create_space(
                &m,
                NewSpace {
                    slug: "s1".into(),
                    title: "S".into(),
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
        let refused = internal
            .app
            .invite_contractor(
                &m,
                s,
                NewContractor {
                    email: "a@b.fr".into(),
                    display_name: "A".into(),
                    organisation: String::new(),
                    role: Role::Reader,
                },
            )
            .await;
        assert!(matches!(
            refused,
            Err(CoreError::Conflict {
                code: "not_shared",
                ..
            })
        ));
        internal
            .app
            .share_space(&m, s, "edge-1")
            .await
            .expect("share");
        // Unknown, or no node id at all (upper case, a path, NUL, an
        // invisible character, empty): the same answer, nothing shared.
        for edge in [
            "edge-9",
            "Edge-1",
            "../edge-1",
            "edge-1\0",
            "edge\u{200b}-1",
            "",
        ] {
            assert!(
                matches!(
                    internal.app.share_space(&m, s, edge).await,
                    Err(CoreError::Invalid {
                        code: "unknown_edge",
                        ..
                    })
                ),
                "{edge:?}"
            );
        }
        let one = internal
            .app
            .invite_contractor(
                &m,
                s,
                NewContractor {
                    email: "a@b.fr".into(),
                    display_name: "A".into(),
                    organisation: String::new(),
                    role: Role::Reader,
                },
            )
            .await
            .expect("invite");
        let two = internal
            .app
            .invite_contractor(
                &m,
                s,
                NewContractor {
                    email: "c@d.fr".into(),
                    display_name: "C".into(),
                    organisation: String::new(),
                    role: Role::Reader,
                },
            )
            .await
            .expect("invite");
        internal
            .app
            .revoke_invitation(&m, two.invitation.id)
            .await
            .expect("revoke");
        down(&internal, &edge, s).await;
        edge.app
            .accept_invitation(&one.secret, "un mot de passe sûr")
            .await
            .expect("accept");
        assert!(matches!(
            edge.app
                .accept_invitation(&one.secret, "un autre mot de passe")
                .await,
            Err(CoreError::NotFound(_))
        ));
        assert!(matches!(
            edge.app
                .accept_invitation(&two.secret, "un mot de passe sûr")
                .await,
            Err(CoreError::NotFound(_))
        ));
        assert!(matches!(
            edge.app
                .accept_invitation("forged", "un mot de passe sûr")
                .await,
            Err(CoreError::NotFound(_))
        ));
        // A later batch does not wipe the password chosen on the edge.
        internal
            .app
            .set_member(&m, s, "a@b.fr", Role::Contributor)
            .await
            .expect("role");
        down(&internal, &edge, s).await;
        edge.app
            .login("a@b.fr", "un mot de passe sûr", None)
            .await
            .expect("still logs in");
    });
}

#[test]
fn a_contractor_is_never_invited_as_a_manager() {
    block_on(async {
        let internal = internal_node();
        let m = agent(&internal.app, "marie").await;
        let s = internal
            .app
            .create_space(
                &m,
                NewSpace {
                    slug: "s1".into(),
                    title: "S".into(),
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
        internal
            .app
            .share_space(&m, s, "edge-1")
            .await
            .expect("share");
        let r = internal
            .app
            .invite_contractor(
                &m,
                s,
                NewContractor {
                    email: "a@b.fr".into(),
                    display_name: "A".into(),
                    organisation: String::new(),
                    role: Role::Manager,
                },
            )
            .await;
        assert!(matches!(
            r,
            Err(CoreError::Invalid {
                code: "contractor_role",
                ..
            })
        ));
    });
}
