//! Notifications on the edge (ADR 0013 §2): the internal node's events of
//! a shared space, read from the rows the edge applies, reach the
//! contractor's feed and their e-mail through the edge's own relay, with
//! links to the edge; the space's history (its first batch) is not news;
//! the edge mails contractors only; a refused operation is in its
//! author's feed.

use super::*;
use crate::fakes::MemMailer;
use crate::notify::{EventKind, Followed, Frequency};
use crate::service::{DocumentWrites, FeedAsk, FeedScope, NewVersion, NotifySettings};

fn mine() -> FeedAsk {
    FeedAsk {
        scope: FeedScope::Mine,
        kinds: Vec::new(),
        actor: None,
        before: None,
        limit: 50,
    }
}

#[test]
fn the_internal_nodes_events_reach_the_contractors_feed_and_mail_on_the_edge() {
    block_on(async {
        let mailer = Arc::new(MemMailer::new());
        let blobs = Arc::new(MemBlobStore::new());
        let app = EdgeApp::new(
            Arc::new(MemRepository::new()),
            blobs.clone(),
            Arc::new(crate::ports::SystemClock),
            Arc::new(FastPasswords),
            CoreSettings {
                notifications: NotifySettings {
                    public_url: Some("https://partenaires.example.fr".into()),
                    ..NotifySettings::default()
                },
                ..settings(&[])
            },
        )
        .with_mailer(mailer.clone());
        let w = world_on(NodeUnderTest { app, blobs }).await;
        let n = w.edge.app.notifications();

        // The space's history (its first batch) is not news.
        let feed = n.feed(&w.contractor, &mine()).await.expect("feed");
        assert!(
            feed.lines.iter().all(|l| l.kind != EventKind::Added),
            "{:?}",
            feed.lines
        );
        n.subscribe(
            &w.contractor,
            w.space,
            Followed::Space,
            Some(Frequency::Immediate),
        )
        .await
        .expect("subscribe");
        n.plan_immediate().await.expect("start");

        // The agent publishes a document and a new version of the CCTP.
        w.internal
            .app
            .upload(
                &w.manager,
                NewDocument {
                    space: w.space,
                    name: "DCE.pdf".into(),
                    ..NewDocument::default()
                },
                content("dossier de consultation"),
            )
            .await
            .expect("upload");
        w.internal
            .app
            .new_version(
                &w.manager,
                w.doc,
                NewVersion {
                    comment: "lot 2 corrigé".into(),
                    ..NewVersion::default()
                },
                content("v2"),
            )
            .await
            .expect("version");
        down(&w.internal, &w.edge, w.space).await;

        let feed = n.feed(&w.contractor, &mine()).await.expect("feed");
        let kinds: Vec<(EventKind, String)> = feed
            .lines
            .iter()
            .map(|l| (l.kind, l.items[0].name.clone()))
            .collect();
        assert!(
            kinds.contains(&(EventKind::Added, "DCE.pdf".into())),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&(EventKind::NewVersion, "CCTP.txt".into())),
            "{kinds:?}"
        );
        assert!(
            feed.lines.iter().any(|l| l.kind == EventKind::NewVersion
                && l.items[0].comment.as_deref() == Some("lot 2 corrigé")),
            "the version's comment came down with it: {:?}",
            feed.lines
        );
        assert!(
            feed.lines
                .iter()
                .filter(|l| l.kind == EventKind::Added)
                .all(|l| l.actor == w.manager.id()),
            "in the agent's name"
        );

        assert_eq!(n.plan_immediate().await.expect("plan").queued, 1);
        n.deliver_due().await.expect("deliver");
        let sent = mailer.sent();
        assert_eq!(sent.len(), 1, "the contractor only: agents are the LAN's");
        assert_eq!(sent[0].to, "jean@btp-rhone.fr");
        assert!(sent[0].text.contains("DCE.pdf"), "{}", sent[0].text);
        assert!(
            sent[0]
                .text
                .contains("https://partenaires.example.fr/documents/"),
            "links to the edge: {}",
            sent[0].text
        );

        // Sent again (an acknowledgement lost), a batch tells nothing new.
        down(&w.internal, &w.edge, w.space).await;
        assert_eq!(n.plan_immediate().await.expect("again").queued, 0);
    });
}

#[test]
fn a_refused_operation_is_in_its_contractors_feed_on_the_edge() {
    block_on(async {
        let w = world().await;
        // The contractor renames a document to a name taken meanwhile.
        w.internal
            .app
            .upload(
                &w.manager,
                NewDocument {
                    space: w.space,
                    name: "pris.txt".into(),
                    ..NewDocument::default()
                },
                content("x"),
            )
            .await
            .expect("upload");
        w.edge
            .app
            .writes()
            .rename_document(&w.contractor, w.doc, "pris.txt")
            .await
            .expect("queued");
        let outcomes = up_outcomes(&w.internal, &w.edge).await;
        assert_eq!(outcomes, [OpOutcome::Rejected]);
        let feed = w
            .edge
            .app
            .notifications()
            .feed(&w.contractor, &mine())
            .await
            .expect("feed");
        let refused: Vec<_> = feed
            .lines
            .iter()
            .filter(|l| l.kind == EventKind::Refused)
            .collect();
        assert_eq!(refused.len(), 1, "{:?}", feed.lines);
        assert!(refused[0].reason.is_some());
    });
}
