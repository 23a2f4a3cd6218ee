//! The antivirus as managers and agents meet it on an internal node that
//! scans uploads (ADR 0010): its state on the sharing page, an infected
//! upload refused with the `infected` code, and 503 while it is down.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use passerelle_core::fakes::MemAntivirus;

use crate::support::*;

const VIRUS: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR";

/// Sends `content` as a new document of `space` through the API.
async fn post(b: &mut Browser, space: &str, name: &str, content: &'static [u8]) -> Reply {
    let csrf = b.api_csrf().await;
    b.send(
        Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/spaces/{space}/documents?name={name}"))
            .header("x-csrf-token", csrf)
            .body(Body::from(content))
            .expect("request"),
    )
    .await
}

#[tokio::test]
async fn the_sharing_page_shows_the_antivirus_and_uploads_follow_its_verdicts() {
    let antivirus = Arc::new(MemAntivirus::new());
    antivirus.add_signature(VIRUS, "Passerelle.Test.Sample");
    let t = TestApp::scanning(antivirus.clone()).await;
    let mut b = t.user("marie").await;
    let id = b.space("chantier", "Chantier").await;
    let sharing = format!("/spaces/{id}/sharing");
    b.submit(&sharing, &format!("/spaces/{id}/share"), &[("edge", EDGE)])
        .await
        .assert_redirect_to(&format!("{sharing}?ok=shared"));
    b.get(&sharing).await.assert_contains("en service");

    let infected = post(&mut b, &id, "piece.exe", VIRUS).await;
    assert_eq!(
        infected.status,
        StatusCode::BAD_REQUEST,
        "{}",
        infected.body
    );
    assert!(infected.body.contains("\"infected\""), "{}", infected.body);
    assert!(
        infected
            .body
            .contains("fichier infecté (Passerelle.Test.Sample)"),
        "{}",
        infected.body
    );

    antivirus.set_down(true);
    let waiting = post(&mut b, &id, "note.txt", b"une note").await;
    assert_eq!(
        waiting.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        waiting.body
    );
    b.get(&sharing)
        .await
        .assert_contains("injoignable depuis le");

    antivirus.set_down(false);
    let stored = post(&mut b, &id, "note.txt", b"une note").await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
    b.get(&sharing).await.assert_contains("en service");
}
