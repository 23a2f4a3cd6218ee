//! The edge's outbox stays bounded (issue 12): the space page pages through
//! the contractor's operations, and a full outbox refuses a write with a
//! clear French message, nothing saved.

use passerelle_core::CoreSettings;

use super::*;

#[tokio::test]
async fn the_space_page_pages_through_the_contractors_operations() {
    let t = TestApp::edge();
    let (space, _) = seed(&t).await;
    let mut b = contractor(&t).await;
    acceptance_applied(&t).await;
    let page = format!("/spaces/{space}");
    let csrf = b.get(&page).await.csrf();
    for n in 1..=21 {
        let name = format!("Lot {n:02}");
        b.post(
            &format!("{page}/folders"),
            &[("_csrf", &csrf), ("parent", ""), ("name", &name)],
        )
        .await
        .assert_redirect_to(&format!("{page}?ok=operation_pending"));
    }
    let first = b.get(&page).await;
    first
        .assert_contains("Dossier « Lot 21 »")
        .assert_contains("Dossier « Lot 02 »")
        .assert_contains(&format!("href=\"{page}?ops=20#pending\""))
        .assert_contains("Opérations plus anciennes");
    assert!(!first.body.contains("Lot 01"), "one page only");
    b.get(&format!("{page}?ops=20"))
        .await
        .assert_contains("Dossier « Lot 01 »")
        .assert_contains(&format!("href=\"{page}?ops=0#pending\""))
        .assert_contains("Opérations plus récentes");
}

#[tokio::test]
async fn a_full_outbox_refuses_an_upload_with_a_french_message_and_saves_nothing() {
    let t = TestApp::edge_with(CoreSettings {
        max_pending_operations: 1,
        ..CoreSettings::default()
    });
    let (space, _) = seed(&t).await;
    let mut b = contractor(&t).await;
    acceptance_applied(&t).await;
    let page = format!("/spaces/{space}");
    let csrf = b.get(&page).await.csrf();
    b.post_multipart(
        &format!("{page}/upload"),
        &[
            Part::Text("_csrf", &csrf),
            Part::File("file", "Devis.pdf", "application/pdf", b"%PDF-1.4 devis"),
        ],
    )
    .await
    .assert_redirect_to(&format!("{page}?ok=operation_pending"));
    b.post_multipart(
        &format!("{page}/upload"),
        &[
            Part::Text("_csrf", &csrf),
            Part::File("file", "Plan.pdf", "application/pdf", b"%PDF-1.4 plan"),
        ],
    )
    .await
    .assert_redirect_to(&format!("{page}?err=outbox_full"));
    b.get(&format!("{page}?err=outbox_full"))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Trop d'opérations attendent la synchronisation")
        .assert_contains("rien n'a été enregistré");
    let ops = t.app.pending_operations(0, 10).await.expect("outbox");
    assert_eq!(ops.len(), 1, "only the first upload: {ops:?}");
}
