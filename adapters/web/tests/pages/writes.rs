//! The pages answer what the node's `DocumentWrites` did, not which node
//! serves them: the internal node's pages composed with the edge's writes
//! answer "pending synchronisation" and change nothing yet.

use std::sync::Arc;

use passerelle_core::fakes::FastPasswords;
use passerelle_core::ports::SystemClock;
use passerelle_core::service::NewDocument;
use passerelle_core::{Actor, CoreSettings, EdgeApp};
use passerelle_http_common::HttpConfig;

use crate::support::*;

#[tokio::test]
async fn a_page_write_queued_by_the_writes_answers_pending_synchronisation() {
    let edge = std::sync::OnceLock::new();
    let t = TestApp::composed(
        CoreSettings::default(),
        HttpConfig {
            secure_cookies: false,
            ..HttpConfig::default()
        },
        // An edge's writes over the same stores.
        |_, repo, blobs| {
            let edge_app = edge.get_or_init(|| {
                EdgeApp::new(
                    repo,
                    blobs,
                    Arc::new(SystemClock),
                    Arc::new(FastPasswords),
                    CoreSettings::default(),
                )
            });
            Arc::new(edge_app.writes())
        },
    )
    .await;
    let mut b = t.user("marie").await;
    let space = b.space("voirie", "Voirie").await;
    let marie = t
        .app
        .principal_by_login(&Actor::System, "marie")
        .await
        .expect("marie");
    let doc = t
        .app
        .upload(
            &Actor::Principal(marie.clone()),
            NewDocument {
                space: space.parse().expect("space id"),
                name: "Plan.pdf".into(),
                ..NewDocument::default()
            },
            Box::pin(futures::stream::once(async {
                Ok(bytes::Bytes::from_static(b"plan"))
            })),
        )
        .await
        .expect("document")
        .document
        .id;
    let page = format!("/documents/{doc}");
    b.submit(
        &page,
        &format!("{page}/rename"),
        &[("name", "Plan v2.pdf"), ("folder", "")],
    )
    .await
    .assert_redirect_to(&format!("/spaces/{space}?ok=operation_pending"));
    b.get(&format!("/spaces/{space}?ok=operation_pending"))
        .await
        .assert_contains("Demande enregistrée")
        .assert_contains("Renommage en « Plan v2.pdf »")
        .assert_contains("Synchronisation en attente");
    b.get(&page).await.assert_contains("<h1>Plan.pdf</h1>");
    let ops = edge
        .get()
        .expect("composed")
        .pending_operations(0, 10)
        .await
        .expect("outbox");
    assert_eq!(ops.len(), 1, "one operation, the rename: {ops:?}");
}
