//! The lock on a document's page: the line naming its holder and expiry,
//! the buttons each user gets (Verrouiller, Déverrouiller, Forcer le
//! déverrouillage), and the French message when a lock refuses a write.

use axum::http::StatusCode;
use passerelle_core::Actor;
use passerelle_core::ids::SpaceId;
use passerelle_core::role::Role;

use crate::support::*;

/// `marie` manages a space with one document; `bob` collaborates and
/// `rita` reads there. Returns their browsers and the document's page.
async fn office(t: &TestApp) -> (Browser, Browser, Browser, String) {
    let mut marie = t.user("marie").await;
    let space = marie.space("urba", "Urbanisme").await;
    let doc = marie.upload(&space, "cctp.txt", b"v1", "text/plain").await;
    let sid = SpaceId::from_uuid(space.parse().expect("uuid"));
    for (login, role) in [("bob", Role::Collaborator), ("rita", Role::Reader)] {
        t.agent(login, false).await;
        t.app
            .set_member(&Actor::System, sid, login, role)
            .await
            .expect("member");
    }
    let mut bob = t.browser();
    bob.login("bob", PASSWORD)
        .await
        .assert_redirect_to("/spaces");
    let mut rita = t.browser();
    rita.login("rita", PASSWORD)
        .await
        .assert_redirect_to("/spaces");
    (marie, bob, rita, format!("/documents/{doc}"))
}

#[tokio::test]
async fn the_page_shows_who_holds_the_lock_and_each_user_gets_their_buttons() {
    let t = TestApp::internal().await;
    let (mut marie, mut bob, mut rita, page) = office(&t).await;
    let free = bob.get(&page).await;
    free.assert_status(StatusCode::OK)
        .assert_contains("id=\"lock-form\"")
        .assert_contains("Verrouiller")
        // The upload script's message for a version refused by a lock.
        .assert_contains("data-msg-locked=\"Modification refusée");
    assert!(!free.body.contains("id=\"lock-line\""), "not locked yet");

    bob.submit(&page, &format!("{page}/lock"), &[])
        .await
        .assert_redirect_to(&format!("{page}?ok=locked"));
    let mine = bob.get(&format!("{page}?ok=locked")).await;
    mine.assert_contains("id=\"lock-line\"")
        .assert_contains("Verrouillé par Agent bob jusqu&#39;à <time datetime=")
        .assert_contains("id=\"unlock-form\"")
        .assert_contains("Déverrouiller")
        .assert_contains("Le document est verrouillé à votre nom");
    assert!(!mine.body.contains("id=\"lock-form\""));
    assert!(!mine.body.contains("id=\"force-unlock-form\""));

    let managed = marie.get(&page).await;
    managed
        .assert_contains("Verrouillé par Agent bob")
        .assert_contains("id=\"force-unlock-form\"")
        .assert_contains("Forcer le déverrouillage");
    assert!(!managed.body.contains("id=\"lock-form\""));
    assert!(!managed.body.contains("id=\"unlock-form\""));

    let read = rita.get(&page).await;
    read.assert_contains("Verrouillé par Agent bob");
    for form in ["lock-form", "unlock-form", "force-unlock-form"] {
        assert!(!read.body.contains(&format!("id=\"{form}\"")), "{form}");
    }
}

#[tokio::test]
async fn a_write_refused_by_a_lock_says_so_in_french_and_a_manager_forces_it_open() {
    let t = TestApp::internal().await;
    let (mut marie, mut bob, _rita, page) = office(&t).await;
    bob.submit(&page, &format!("{page}/lock"), &[])
        .await
        .assert_redirect_to(&format!("{page}?ok=locked"));
    let refused = marie
        .submit(
            &page,
            &format!("{page}/rename"),
            &[("name", "autre.txt"), ("folder", "")],
        )
        .await;
    refused.assert_redirect_to(&format!("{page}?err=locked"));
    marie.get(refused.location()).await.assert_contains(
        "Modification refusée : ce document est verrouillé par une autre personne",
    );
    // Only the holder checks in.
    marie
        .submit(&page, &format!("{page}/unlock"), &[])
        .await
        .assert_redirect_to(&format!("{page}?err=not_lock_holder"));

    marie
        .submit(&page, &format!("{page}/force-unlock"), &[])
        .await
        .assert_redirect_to(&format!("{page}?ok=force_unlocked"));
    let after = marie.get(&page).await;
    after.assert_contains("id=\"lock-form\"");
    assert!(!after.body.contains("id=\"lock-line\""));
    marie
        .submit(
            &page,
            &format!("{page}/rename"),
            &[("name", "autre.txt"), ("folder", "")],
        )
        .await
        .assert_redirect_to(&format!("{page}?ok=renamed"));
}

#[tokio::test]
async fn a_collaborator_cannot_force_a_lock_and_the_form_needs_its_token() {
    let t = TestApp::internal().await;
    let (mut marie, mut bob, _rita, page) = office(&t).await;
    marie
        .submit(&page, &format!("{page}/lock"), &[])
        .await
        .assert_redirect_to(&format!("{page}?ok=locked"));
    bob.submit(&page, &format!("{page}/force-unlock"), &[])
        .await
        .assert_redirect_to(&format!("{page}?err=forbidden"));
    let r = bob
        .post(&format!("{page}/unlock"), &[("_csrf", "faux")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    bob.get(&page)
        .await
        .assert_contains("Verrouillé par Agent marie");
}
