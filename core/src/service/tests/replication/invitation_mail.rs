//! Invitations by e-mail (issue 18 §3, ADR 0013 §6): with a relay and the
//! edge's public address, the internal node mails the contractor a link
//! that accepts the invitation on the edge; the outbox keeps the link only
//! until the relay took it (or refused it for good); a revoked invitation,
//! or one accepted with the link the manager handed over, is not mailed;
//! without a relay or an address nothing is queued and the manager hands
//! the link over as before.

use std::collections::BTreeMap;

use super::*;
use crate::fakes::MemMailer;
use crate::notify::NoticeState;

const EDGE_URL: &str = "https://partenaires.example.fr/";
const PASSWORD: &str = "un mot de passe assez long";

/// An internal node with a relay, knowing where contractors reach
/// `edge-1` (or not).
fn mailing_internal(mailer: &Arc<MemMailer>, edge_url: Option<&str>) -> Internal {
    let blobs = Arc::new(MemBlobStore::new());
    let app = InternalApp::new(
        Arc::new(MemRepository::new()),
        blobs.clone(),
        Arc::new(crate::ports::SystemClock),
        Arc::new(FastPasswords),
        CoreSettings {
            edge_urls: edge_url
                .map(|u| (NodeId::parse("edge-1").expect("id"), u.to_owned()))
                .into_iter()
                .collect::<BTreeMap<_, _>>(),
            ..settings(&["edge-1"])
        },
    )
    .with_mailer(mailer.clone());
    NodeUnderTest { app, blobs }
}

async fn outbox(i: &Internal) -> Vec<crate::notify::Notice> {
    i.app
        .notifications()
        .notices(&Actor::System, None, Page::default())
        .await
        .expect("outbox")
        .items
}

#[test]
fn the_mailed_link_accepts_the_invitation_and_leaves_the_outbox_once_sent() {
    block_on(async {
        let mailer = Arc::new(MemMailer::new());
        let i = invited_between(mailing_internal(&mailer, Some(EDGE_URL)), edge_node()).await;
        assert!(i.invited.mailed, "queued with the invitation");
        let n = i.internal.app.notifications();
        assert_eq!(n.deliver_due().await.expect("deliver").sent, 1);
        let sent = mailer.sent();
        assert_eq!(sent.len(), 1);
        let m = &sent[0];
        assert_eq!(m.to, "jean@btp-rhone.fr", "the contractor's address");
        assert!(
            m.subject.contains("marie") && m.subject.contains("Piscine"),
            "who invites to what: {}",
            m.subject
        );
        let link = format!(
            "https://partenaires.example.fr/invitation#{}",
            i.invited.secret
        );
        assert!(m.text.contains(&link), "{}", m.text);
        assert!(m.html.contains(&link), "{}", m.html);
        assert!(m.text.contains("personnel"), "{}", m.text);
        assert_eq!(m.unsubscribe, None, "an invitation is not a subscription");

        // The link as the contractor reads it accepts on the edge.
        let secret = m
            .text
            .split("invitation#")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("a secret in the link");
        i.edge
            .app
            .accept_invitation(secret, PASSWORD)
            .await
            .expect("accepted with the mailed link");

        // The outbox keeps the record, not the credential.
        let kept = outbox(&i.internal).await;
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].state, NoticeState::Sent);
        assert!(
            !kept[0].text.contains(&i.invited.secret),
            "{}",
            kept[0].text
        );
        assert!(
            !kept[0].html.contains(&i.invited.secret),
            "{}",
            kept[0].html
        );
        assert!(kept[0].text.contains("retiré"), "{}", kept[0].text);
        assert_eq!(n.deliver_due().await.expect("again").sent, 0, "sent once");
    });
}

#[test]
fn a_refused_invitation_mail_loses_its_link_too() {
    block_on(async {
        let mailer = Arc::new(MemMailer::new());
        mailer.refuse("jean@btp-rhone.fr");
        let i = invited_between(mailing_internal(&mailer, Some(EDGE_URL)), edge_node()).await;
        let n = i.internal.app.notifications();
        assert_eq!(n.deliver_due().await.expect("deliver").refused, 1);
        let kept = outbox(&i.internal).await;
        assert_eq!(kept[0].state, NoticeState::Refused);
        assert!(
            !kept[0].text.contains(&i.invited.secret),
            "{}",
            kept[0].text
        );
        assert!(!kept[0].html.contains(&i.invited.secret));
    });
}

#[test]
fn a_revoked_invitation_is_not_mailed() {
    block_on(async {
        let mailer = Arc::new(MemMailer::new());
        // The relay is down when the manager invites, then revokes.
        mailer.set_down(true);
        let i = invited_between(mailing_internal(&mailer, Some(EDGE_URL)), edge_node()).await;
        let n = i.internal.app.notifications();
        assert_eq!(n.deliver_due().await.expect("deliver").delayed, 1);
        i.internal
            .app
            .revoke_invitation(&i.manager, i.invited.invitation.id)
            .await
            .expect("revoke");
        mailer.set_down(false);
        assert_eq!(n.deliver_due().await.expect("deliver").sent, 0);
        assert!(mailer.sent().is_empty());
        assert!(outbox(&i.internal).await.is_empty(), "withdrawn");
    });
}

#[test]
fn an_invitation_accepted_with_the_handed_link_is_not_mailed_after() {
    block_on(async {
        let mailer = Arc::new(MemMailer::new());
        mailer.set_down(true);
        let i = invited_between(mailing_internal(&mailer, Some(EDGE_URL)), edge_node()).await;
        // The manager copied the link meanwhile; the contractor accepts and
        // the acceptance comes up to the internal node.
        i.edge
            .app
            .accept_invitation(&i.invited.secret, PASSWORD)
            .await
            .expect("accept");
        assert_eq!(up_outcomes(&i.internal, &i.edge).await.len(), 1);
        mailer.set_down(false);
        let n = i.internal.app.notifications();
        assert_eq!(n.deliver_due().await.expect("deliver").sent, 0);
        assert!(mailer.sent().is_empty(), "no used link mailed");
    });
}

#[test]
fn without_a_relay_or_the_edges_address_nothing_is_queued() {
    block_on(async {
        let mailer = Arc::new(MemMailer::new());
        let i = invited_between(mailing_internal(&mailer, None), edge_node()).await;
        assert!(!i.invited.mailed, "no address for edge-1: no link to write");
        assert!(outbox(&i.internal).await.is_empty());

        let plain = invited_between(internal_node(), edge_node()).await;
        assert!(!plain.invited.mailed, "no relay");
        assert!(outbox(&plain.internal).await.is_empty());
    });
}
