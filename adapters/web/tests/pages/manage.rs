//! Members, invitations, sharing, trash, audit and administration pages.

use axum::http::StatusCode;
use passerelle_core::Actor;
use passerelle_core::ids::SpaceId;
use passerelle_core::replication::{EdgeStatus, OpOutcome, OutboxItem, OutboxOp};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn a_manager_adds_changes_and_removes_members() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    t.agent("paul", false).await;
    let id = b.space("xx", "X").await;
    let members = format!("/spaces/{id}/members");
    b.submit(
        &members,
        &members,
        &[("login", "personne"), ("role", "reader")],
    )
    .await
    .assert_redirect_to(&format!("{members}?err=unknown_login"));
    b.submit(&members, &members, &[("login", "paul"), ("role", "bogus")])
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    b.submit(&members, &members, &[("login", "paul"), ("role", "reader")])
        .await
        .assert_redirect_to(&format!("{members}?ok=member_saved"));
    let page = b.get(&members).await;
    page.assert_contains("Agent paul");
    let paul = t
        .app
        .principal_by_login(&passerelle_core::Actor::System, "paul")
        .await
        .expect("paul")
        .id;
    b.submit(
        &members,
        &format!("{members}/{paul}/role"),
        &[("role", "collaborator")],
    )
    .await
    .assert_redirect_to(&format!("{members}?ok=member_saved"));
    // The last manager cannot demote herself.
    let marie = t
        .app
        .principal_by_login(&passerelle_core::Actor::System, "marie")
        .await
        .expect("marie")
        .id;
    b.submit(
        &members,
        &format!("{members}/{marie}/role"),
        &[("role", "reader")],
    )
    .await
    .assert_redirect_to(&format!("{members}?err=last_manager"));
    b.submit(&members, &format!("{members}/{paul}/remove"), &[])
        .await
        .assert_redirect_to(&format!("{members}?ok=member_removed"));
    assert!(!b.get(&members).await.body.contains("Agent paul"));
}

#[tokio::test]
async fn non_managers_see_members_but_no_management_forms() {
    let t = TestApp::internal().await;
    let mut marie = t.user("marie").await;
    let mut paul = t.user("paul").await;
    let id = marie.space("xx", "X").await;
    let members = format!("/spaces/{id}/members");
    marie
        .submit(
            &members,
            &members,
            &[("login", "paul"), ("role", "contributor")],
        )
        .await;
    let page = paul.get(&members).await;
    page.assert_status(StatusCode::OK);
    assert!(!page.body.contains("/remove") && !page.body.contains("Inviter un prestataire"));
    paul.get(&format!("/spaces/{id}/sharing"))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    paul.get(&format!("/spaces/{id}/audit"))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let csrf = paul.api_csrf().await;
    paul.post(
        &members,
        &[("_csrf", &csrf), ("login", "paul"), ("role", "manager")],
    )
    .await
    .assert_redirect_to(&format!("{members}?err=forbidden"));
}

#[tokio::test]
async fn sharing_then_inviting_shows_the_link_once() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let members = format!("/spaces/{id}/members");
    b.get(&members)
        .await
        .assert_contains("Partagez d'abord l'espace");
    let sharing = format!("/spaces/{id}/sharing");
    b.get(&sharing)
        .await
        .assert_contains("<option>edge-1</option>");
    b.submit(
        &sharing,
        &format!("/spaces/{id}/share"),
        &[("edge", "edge-9")],
    )
    .await
    .assert_redirect_to(&format!("{sharing}?err=unknown_edge"));
    b.submit(
        &sharing,
        &format!("/spaces/{id}/share"),
        &[("edge", "edge-1")],
    )
    .await
    .assert_redirect_to(&format!("{sharing}?ok=shared"));
    b.get(&sharing)
        .await
        .assert_contains("id=\"replication\"")
        .assert_contains("jamais")
        .assert_contains("Arrêter le partage");
    let r = b
        .submit(
            &members,
            &format!("/spaces/{id}/contractors"),
            &[
                ("email", "jean@btp.example"),
                ("display_name", "Jean"),
                ("organisation", "BTP Rhône"),
                ("role", "collaborator"),
            ],
        )
        .await;
    r.assert_status(StatusCode::OK)
        .assert_contains("https://partenaires.example.fr/invitation#");
    let page = b.get(&members).await;
    assert!(!page.body.contains("invitation#"));
    // Marie's row and the agents' form offer "manager"; the contractor's row does not.
    page.assert_contains("jean@btp.example");
    assert_eq!(
        page.body.matches("value=\"manager\"").count(),
        2,
        "{}",
        page.body
    );
    b.submit(
        &members,
        &format!("/spaces/{id}/contractors"),
        &[
            ("email", "pas-une-adresse"),
            ("display_name", "X"),
            ("organisation", "Y"),
            ("role", "reader"),
        ],
    )
    .await
    .assert_redirect_to(&format!("{members}?err="));
}

/// With a relay, the page says the invitation was e-mailed (and to whom),
/// still showing the link once for when the e-mail does not arrive; the
/// e-mail is in the outbox, sent by the delivery worker's next run.
#[tokio::test]
async fn with_a_relay_the_invitation_is_mailed_and_the_page_says_so() {
    let mailer = std::sync::Arc::new(passerelle_core::fakes::MemMailer::new());
    let t = TestApp::mailing(mailer.clone()).await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let members = format!("/spaces/{id}/members");
    b.submit(
        &format!("/spaces/{id}/sharing"),
        &format!("/spaces/{id}/share"),
        &[("edge", "edge-1")],
    )
    .await;
    b.submit(
        &members,
        &format!("/spaces/{id}/contractors"),
        &[
            ("email", "jean@btp.example"),
            ("display_name", "Jean"),
            ("organisation", "BTP Rhône"),
            ("role", "collaborator"),
        ],
    )
    .await
    .assert_status(StatusCode::OK)
    .assert_contains("id=\"invitation-mailed\"")
    .assert_contains("Invitation envoyée par e-mail à jean@btp.example")
    .assert_contains("https://partenaires.example.fr/invitation#");
    t.app.notifications().deliver_due().await.expect("deliver");
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "jean@btp.example");
    assert!(
        sent[0]
            .text
            .contains("https://partenaires.example.fr/invitation#"),
        "{}",
        sent[0].text
    );
}

#[tokio::test]
async fn the_sharing_page_says_why_the_space_fails_to_replicate() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("plein", "Plein").await;
    let sharing = format!("/spaces/{id}/sharing");
    b.submit(
        &sharing,
        &format!("/spaces/{id}/share"),
        &[("edge", "edge-1")],
    )
    .await
    .assert_redirect_to(&format!("{sharing}?ok=shared"));
    let why = "edge-1: disk full (ENOSPC) on /var/lib/passerelle/edge";
    let now = OffsetDateTime::now_utc();
    t.app
        .record_edge_status(&EdgeStatus {
            edge: "edge-1".parse().expect("node id"),
            last_contact: Some(now),
            last_error: None,
            cursors: vec![],
            space_errors: vec![(SpaceId::from_uuid(id.parse().expect("uuid")), why.into())],
            updated_at: now,
        })
        .await
        .expect("status recorded");
    b.get(&sharing)
        .await
        .assert_contains("Réplication de cet espace en échec")
        .assert_contains(why);
}

#[tokio::test]
async fn a_contractors_invitation_shows_pending_then_accepted_once_the_edge_reports_it() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let members = format!("/spaces/{id}/members");
    b.submit(
        &format!("/spaces/{id}/sharing"),
        &format!("/spaces/{id}/share"),
        &[("edge", EDGE)],
    )
    .await
    .assert_redirect_to(&format!("/spaces/{id}/sharing?ok=shared"));
    b.submit(
        &members,
        &format!("/spaces/{id}/contractors"),
        &[
            ("email", "jean@btp.example"),
            ("display_name", "Jean"),
            ("organisation", "BTP Rhône"),
            ("role", "collaborator"),
        ],
    )
    .await
    .assert_status(StatusCode::OK);
    let page = b.get(&members).await;
    page.assert_contains("En attente (jusqu");
    assert!(!page.body.contains("Acceptée le"), "{}", page.body);

    // The edge reports the acceptance through its outbox.
    let space = SpaceId::from_uuid(id.parse().expect("uuid"));
    let invitation = t
        .app
        .list_invitations(&Actor::System, space)
        .await
        .expect("invitations")
        .remove(0);
    let accepted_at = OffsetDateTime::now_utc();
    let applied = t
        .app
        .apply_edge_op(
            &EDGE.parse().expect("node id"),
            &OutboxItem {
                seq: 1,
                op_id: Uuid::now_v7(),
                space,
                contractor: invitation.principal,
                created_at: accepted_at,
                op: OutboxOp::AcceptInvitation {
                    invitation: invitation.id,
                },
                outcome: None,
                detail: String::new(),
            },
        )
        .await
        .expect("applied");
    assert_eq!(applied.outcome, OpOutcome::Applied);
    let page = b.get(&members).await;
    page.assert_contains("Acceptée le");
    assert!(!page.body.contains("En attente (jusqu"), "{}", page.body);
    b.accept_language = Some("en");
    b.get(&members).await.assert_contains("Accepted on");

    // A refused report lands in the quarantine, named in the reader's words.
    let refused = t
        .app
        .apply_edge_op(
            &EDGE.parse().expect("node id"),
            &OutboxItem {
                seq: 2,
                op_id: Uuid::now_v7(),
                space,
                contractor: invitation.principal,
                created_at: accepted_at,
                op: OutboxOp::AcceptInvitation {
                    invitation: Uuid::now_v7(),
                },
                outcome: None,
                detail: String::new(),
            },
        )
        .await
        .expect("recorded");
    assert_eq!(refused.outcome, OpOutcome::Rejected);
    let sharing = format!("/spaces/{id}/sharing");
    let page = b.get(&sharing).await;
    page.assert_contains("Acceptance of the invitation")
        .assert_contains("Refused");
    assert!(!page.body.contains("accept_invitation"), "{}", page.body);
    b.accept_language = None;
    b.get(&sharing)
        .await
        .assert_contains("Acceptation de l'invitation")
        .assert_contains("Refusée");
}

#[tokio::test]
async fn managers_read_the_audit_log_of_their_space() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    b.upload(&id, "a.txt", b"a", "text/plain").await;
    b.get(&format!("/spaces/{id}/audit"))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("<code>document.upload</code>")
        .assert_contains("Agent marie");
}

#[tokio::test]
async fn administrators_manage_users_and_see_types_and_others_do_not() {
    let t = TestApp::internal().await;
    t.agent("root", true).await;
    let mut admin = t.browser();
    admin.login("root", PASSWORD).await;
    admin
        .submit(
            "/admin/users",
            "/admin/users",
            &[
                ("login", "m.durand"),
                ("display_name", "Michel Durand"),
                ("email", "m.durand@example.org"),
                ("password", "une phrase de passe"),
            ],
        )
        .await
        .assert_redirect_to("/admin/users?ok=user_created");
    admin
        .submit(
            "/admin/users",
            "/admin/users",
            &[
                ("login", "x"),
                ("display_name", "X"),
                ("email", "x@example.org"),
                ("password", "court"),
            ],
        )
        .await
        .assert_redirect_to("/admin/users?err=weak_password");
    admin
        .get("/admin/users")
        .await
        .assert_contains("Michel Durand");
    admin
        .submit("/admin/users", "/admin/users/m.durand/disable", &[])
        .await
        .assert_redirect_to("/admin/users?ok=user_saved");
    admin.get("/admin/users").await.assert_contains("désactivé");
    admin
        .submit("/admin/users", "/admin/users/m.durand/explode", &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    admin
        .get("/admin/types")
        .await
        .assert_contains("<code>facture</code>");
    admin
        .get("/admin/audit")
        .await
        .assert_contains("principal.create");
    let mut paul = t.user("paul").await;
    assert!(paul.get("/admin/users").await.status.is_client_error());
    paul.get("/admin/types")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert!(paul.get("/admin/audit").await.status.is_client_error());
}

#[tokio::test]
async fn a_manager_edits_the_space_and_archives_it_read_only() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let settings = format!("/spaces/{id}/settings");
    b.submit(
        &settings,
        &settings,
        &[
            ("title", "Voirie 2027"),
            ("domain", "Voirie"),
            ("description", "Marchés"),
            ("visibility", "public"),
        ],
    )
    .await
    .assert_redirect_to(&format!("{settings}?ok=settings_saved"));
    b.get(&settings)
        .await
        .assert_contains("value=\"Voirie 2027\"")
        .assert_contains("<option value=\"public\" selected>");
    b.submit(
        &settings,
        &settings,
        &[("title", "Y"), ("visibility", "secret")],
    )
    .await
    .assert_status(StatusCode::BAD_REQUEST)
    .assert_contains("Visibilité inconnue.");
    b.submit(&settings, &format!("/spaces/{id}/archive"), &[])
        .await
        .assert_redirect_to(&format!("{settings}?ok=settings_saved"));
    let page = b.get(&format!("/spaces/{id}")).await;
    assert!(
        !page.body.contains("id=\"dropzone\""),
        "an archived space takes no upload"
    );
    b.submit(
        &format!("/spaces/{id}"),
        &format!("/spaces/{id}/folders"),
        &[("name", "Nouveau"), ("parent", "")],
    )
    .await
    .assert_redirect_to(&format!("/spaces/{id}?err=space_archived"));
    b.submit(&settings, &format!("/spaces/{id}/unarchive"), &[])
        .await
        .assert_redirect_to(&format!("{settings}?ok=settings_saved"));
    b.get(&format!("/spaces/{id}"))
        .await
        .assert_contains("id=\"dropzone\"");
    // Not for other members.
    t.agent("paul", false).await;
    let members = format!("/spaces/{id}/members");
    b.submit(
        &members,
        &members,
        &[("login", "paul"), ("role", "collaborator")],
    )
    .await;
    let mut paul = t.browser();
    paul.login("paul", PASSWORD).await;
    paul.get(&settings)
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let csrf = paul.api_csrf().await;
    paul.post(&format!("/spaces/{id}/archive"), &[("_csrf", &csrf)])
        .await
        .assert_redirect_to(&format!("{settings}?err=forbidden"));
}
