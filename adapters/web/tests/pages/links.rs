//! Links on a document's page: made from the form (a document of the same
//! folder, a kind), shown on both pages with their French labels and the
//! other end's name as a link, removed from the source's page only; a
//! reader sees them without the form.

use axum::http::StatusCode;
use passerelle_core::Actor;
use passerelle_core::ids::SpaceId;
use passerelle_core::role::Role;

use crate::support::*;

#[tokio::test]
async fn a_link_made_on_one_page_shows_on_both_and_is_removed_from_its_source() {
    let t = TestApp::internal().await;
    let mut marie = t.user("marie").await;
    let space = marie.space("actes", "Actes").await;
    let act = marie
        .upload(
            &space,
            "délibération 14.pdf",
            b"%PDF-1.4",
            "application/pdf",
        )
        .await;
    let annex = marie
        .upload(
            &space,
            "plan annexe.pdf",
            b"%PDF-1.4 plan",
            "application/pdf",
        )
        .await;
    let (act_page, annex_page) = (format!("/documents/{act}"), format!("/documents/{annex}"));
    let form = marie.get(&annex_page).await;
    form.assert_status(StatusCode::OK)
        .assert_contains("id=\"link-form\"")
        .assert_contains("<option value=\"annexe_de\">Annexe de</option>")
        .assert_contains("délibération 14.pdf");
    marie
        .submit(
            &annex_page,
            &format!("{annex_page}/links"),
            &[("kind", "annexe_de"), ("to", act.as_str())],
        )
        .await
        .assert_redirect_to(&format!("{annex_page}?ok=linked"));
    marie
        .get(&format!("{annex_page}?ok=linked"))
        .await
        .assert_contains("Le lien est créé.")
        .assert_contains(&format!(
            "Annexe de <a href=\"/documents/{act}\">délibération 14.pdf</a>"
        ));
    let act_view = marie.get(&act_page).await;
    act_view.assert_contains(&format!(
        "Annexes : <a href=\"/documents/{annex}\">plan annexe.pdf</a>"
    ));
    assert!(
        !act_view.body.contains("/links/"),
        "the target's page offers no removal"
    );

    // A reader sees the links, not the form.
    t.agent("rita", false).await;
    let sid = SpaceId::from_uuid(space.parse().expect("uuid"));
    t.app
        .set_member(&Actor::System, sid, "rita", Role::Reader)
        .await
        .expect("member");
    let mut rita = t.browser();
    rita.login("rita", PASSWORD)
        .await
        .assert_redirect_to("/spaces");
    let read = rita.get(&annex_page).await;
    read.assert_contains("Annexe de");
    assert!(!read.body.contains("id=\"link-form\""));
    assert!(!read.body.contains("Retirer le lien"));

    // Removed from the source's page.
    let page = marie.get(&annex_page).await;
    let action = page
        .body
        .split("action=\"")
        .filter_map(|s| s.split('"').next())
        .find(|a| a.contains("/links/") && a.ends_with("/remove"))
        .expect("a remove form")
        .to_owned();
    marie
        .submit(&annex_page, &action, &[])
        .await
        .assert_redirect_to(&format!("{annex_page}?ok=unlinked"));
    let after = marie.get(&act_page).await;
    assert!(
        !after.body.contains("plan annexe.pdf</a>"),
        "gone from the target"
    );
    // An unknown kind is refused with the French reason.
    let refused = marie
        .submit(
            &annex_page,
            &format!("{annex_page}/links"),
            &[("kind", "parent_de"), ("to", act.as_str())],
        )
        .await;
    refused.assert_status(StatusCode::SEE_OTHER);
    let back = refused.location().to_owned();
    assert!(back.contains("err=invalid_link"), "{back}");
    marie
        .get(&back)
        .await
        .assert_contains("Lien impossible : un document ne se lie pas à lui-même");
}
