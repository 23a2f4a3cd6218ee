//! The activity pages: a reader's feed shows what happened in their
//! spaces, grouped, filtered by kind; a space's page carries the reader's
//! notification setting and, for its managers only, the space's default;
//! the e-mail's unsubscribe link asks before it acts (a mail scanner's GET
//! changes nothing), works without a session, and a forged one is "not
//! found".

use axum::http::StatusCode;
use passerelle_core::ids::SpaceId;
use passerelle_core::model::Page;
use passerelle_core::notify::{Followed, Frequency};
use passerelle_core::role::Role;
use passerelle_core::service::NotifySettings;
use passerelle_core::{Actor, CoreSettings};
use passerelle_http_common::HttpConfig;

use crate::support::*;

async fn app() -> TestApp {
    TestApp::with(
        CoreSettings {
            notifications: NotifySettings {
                public_url: Some("https://ged.example.fr".into()),
                ..NotifySettings::default()
            },
            ..CoreSettings::default()
        },
        HttpConfig {
            secure_cookies: false,
            ..HttpConfig::default()
        },
    )
    .await
}

#[tokio::test]
async fn a_readers_feed_and_settings_and_the_managers_default() {
    let t = app().await;
    let mut marie = t.user("marie").await;
    let mut paul = t.user("paul").await;
    let space = marie.space("piscine", "Piscine").await;
    let sid: SpaceId = space.parse().expect("id");
    t.app
        .set_member(&Actor::System, sid, "paul", Role::Reader)
        .await
        .expect("member");
    for name in ["plan.pdf", "devis.pdf"] {
        marie.upload(&space, name, b"x", "application/pdf").await;
    }
    let secret = marie.space("rh", "Ressources humaines").await;
    marie
        .upload(&secret, "paie.pdf", b"x", "application/pdf")
        .await;

    let feed = paul.get("/activity").await;
    feed.assert_status(StatusCode::OK)
        .assert_contains("a déposé 2 documents")
        .assert_contains(">devis.pdf</a>")
        .assert_contains(">plan.pdf</a>")
        .assert_contains(">Piscine</a>");
    assert!(
        !feed.body.contains("paie.pdf"),
        "nothing of a space paul cannot read"
    );
    let filtered = paul.get("/activity?kind=joined").await;
    assert!(!filtered.body.contains("plan.pdf"));
    let bad = paul.get("/activity?kind=login").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let hidden = paul.get(&format!("/spaces/{secret}/activity")).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);

    let page = format!("/spaces/{space}/activity");
    let mine = paul.get(&page).await;
    mine.assert_status(StatusCode::OK)
        .assert_contains("id=\"my-subscription\"")
        .assert_contains("Selon le choix de l&#39;espace (Résumé quotidien)");
    assert!(!mine.body.contains("id=\"space-default\""), "managers only");
    paul.submit(
        &page,
        &format!("/spaces/{space}/subscription"),
        &[("frequency", "immediate")],
    )
    .await
    .assert_redirect_to(&format!("{page}?ok=subscription_saved"));
    let view = t
        .app
        .notifications()
        .subscriptions(&Actor::Principal(principal(&t, "paul").await), sid)
        .await
        .expect("view");
    assert_eq!(view.chosen, Some(Frequency::Immediate));

    marie
        .get(&page)
        .await
        .assert_contains("id=\"space-default\"");
    marie
        .submit(
            &page,
            &format!("/spaces/{space}/subscription/default"),
            &[("frequency", "weekly")],
        )
        .await
        .assert_redirect_to(&format!("{page}?ok=subscription_saved"));
    // Paul cannot, even by posting the form himself.
    let refused = paul
        .submit(
            &page,
            &format!("/spaces/{space}/subscription/default"),
            &[("frequency", "never")],
        )
        .await;
    refused.assert_redirect_to(&format!("{page}?err="));
    let view = t
        .app
        .notifications()
        .subscriptions(&Actor::Principal(principal(&t, "paul").await), sid)
        .await
        .expect("view");
    assert_eq!(
        view.space_default,
        Frequency::Weekly,
        "the manager's choice stands"
    );
}

async fn principal(t: &TestApp, login: &str) -> passerelle_core::model::Principal {
    t.app
        .list_principals(&Actor::System, Page::new(0, 100))
        .await
        .expect("principals")
        .items
        .into_iter()
        .find(|p| p.login.as_str() == login)
        .expect("principal")
}

#[tokio::test]
async fn the_unsubscribe_link_asks_then_acts_without_a_session() {
    let t = app().await;
    let mut marie = t.user("marie").await;
    let space = marie.space("voirie", "Voirie").await;
    let sid: SpaceId = space.parse().expect("id");
    t.agent("paul", false).await;
    t.app
        .set_member(&Actor::System, sid, "paul", Role::Reader)
        .await
        .expect("member");
    let paul = Actor::Principal(principal(&t, "paul").await);
    let n = t.app.notifications();
    n.subscribe(&paul, sid, Followed::Space, Some(Frequency::Immediate))
        .await
        .expect("subscribe");
    n.plan_immediate().await.expect("start");
    marie
        .upload(&space, "arrete.pdf", b"x", "application/pdf")
        .await;
    assert_eq!(n.plan_immediate().await.expect("plan").queued, 1);
    let notice = n
        .notices(&Actor::System, None, Page::default())
        .await
        .expect("outbox")
        .items
        .remove(0);
    let link = notice.unsubscribe.expect("a link");
    let path = link
        .strip_prefix("https://ged.example.fr")
        .expect("this node");

    let mut anonymous = t.browser();
    anonymous
        .get(path)
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("id=\"confirm-unsubscribe\"");
    let still = n.subscriptions(&paul, sid).await.expect("view");
    assert_eq!(
        still.chosen,
        Some(Frequency::Immediate),
        "a GET changes nothing"
    );
    anonymous
        .post(path, &[])
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("l&#39;espace Voirie");
    let after = n.subscriptions(&paul, sid).await.expect("view");
    assert_eq!(after.chosen, Some(Frequency::Never));

    let forged = format!("{}0", &path[..path.len() - 1]);
    let forged = if forged == path {
        format!("{}1", &path[..path.len() - 1])
    } else {
        forged
    };
    let r = anonymous.post(&forged, &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// A reader follows one document and mutes one folder from their pages
/// (the most specific choice wins, ADR 0013 §2); a document of a space
/// they cannot read is "not found" whatever space the form names; the
/// feed shows what an author said of a new version.
#[tokio::test]
async fn a_document_and_a_folder_are_followed_from_their_pages() {
    let t = app().await;
    let mut marie = t.user("marie").await;
    let mut paul = t.user("paul").await;
    let space = marie.space("piscine", "Piscine").await;
    let sid: SpaceId = space.parse().expect("id");
    t.app
        .set_member(&Actor::System, sid, "paul", Role::Reader)
        .await
        .expect("member");
    let doc = marie
        .upload(&space, "CCTP.pdf", b"v1", "application/pdf")
        .await;
    let marie_actor = Actor::Principal(principal(&t, "marie").await);
    let lots = t
        .app
        .create_folder(&marie_actor, sid, None, "Lots")
        .await
        .expect("folder");
    let secret = marie.space("rh", "Ressources humaines").await;
    let paie = marie
        .upload(&secret, "paie.pdf", b"x", "application/pdf")
        .await;

    let page = format!("/documents/{doc}");
    paul.get(&page)
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("id=\"follow\"")
        .assert_contains("Me prévenir pour ce document")
        .assert_contains("Comme pour l&#39;espace");
    paul.submit(
        &page,
        &format!("/spaces/{space}/subscription"),
        &[("document", doc.as_str()), ("frequency", "immediate")],
    )
    .await
    .assert_redirect_to(&format!("{page}?ok=subscription_saved"));
    paul.get(&page)
        .await
        .assert_contains("<option value=\"immediate\" selected>");

    let folder_page = format!("/spaces/{space}?folder={}", lots.id);
    paul.get(&folder_page)
        .await
        .assert_contains("Me prévenir pour ce dossier");
    let lots_id = lots.id.to_string();
    paul.submit(
        &folder_page,
        &format!("/spaces/{space}/subscription"),
        &[("folder", lots_id.as_str()), ("frequency", "never")],
    )
    .await
    .assert_redirect_to(&format!("{folder_page}&ok=subscription_saved"));
    let paul_actor = Actor::Principal(principal(&t, "paul").await);
    let view = t
        .app
        .notifications()
        .subscriptions(&paul_actor, sid)
        .await
        .expect("view");
    let mut follows: Vec<(Followed, Frequency)> = view
        .follows
        .iter()
        .map(|s| (s.followed, s.frequency))
        .collect();
    follows.sort_by_key(|(f, _)| matches!(f, Followed::Document(_)));
    assert_eq!(
        follows,
        [
            (Followed::Folder(lots.id), Frequency::Never),
            (
                Followed::Document(doc.parse().expect("doc id")),
                Frequency::Immediate
            ),
        ]
    );
    assert_eq!(view.chosen, None, "the space's own choice untouched");

    // A document of a space Paul cannot read, named in his own space's
    // form: refused as if absent, nothing saved.
    let refused = paul
        .submit(
            &page,
            &format!("/spaces/{space}/subscription"),
            &[("document", paie.as_str()), ("frequency", "immediate")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    let after = t
        .app
        .notifications()
        .subscriptions(&paul_actor, sid)
        .await
        .expect("view");
    assert_eq!(after.follows.len(), 2);

    // What Marie said of her new version is in Paul's feed.
    t.app
        .new_version(
            &marie_actor,
            doc.parse().expect("doc id"),
            passerelle_core::service::NewVersion {
                media_type: None,
                comment: "corrections du lot 2".into(),
            },
            Box::pin(futures::stream::once(async {
                Ok(bytes::Bytes::from_static(b"v2"))
            })),
        )
        .await
        .expect("version");
    paul.get(&format!("/spaces/{space}/activity"))
        .await
        .assert_contains("<q class=\"comment\">corrections du lot 2</q>");
}
