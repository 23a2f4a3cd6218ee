//! A node whose disk is full (issue 12): uploads are refused with `507
//! storage_full`, nothing stored, and `/readyz` says the disk is below the
//! floor it keeps, without saying where the disk is.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use passerelle_core::doctype::default_catalogue;
use passerelle_core::fakes::{MemBlobStore, MemRepository, mem_search};
use passerelle_core::ports::SystemClock;
use passerelle_core::{Actor, CoreSettings, InternalApp};
use passerelle_http::{HttpConfig, router};
use passerelle_passwords::Argon2Passwords;

use crate::support::*;

/// An internal node whose blob store holds `capacity` bytes and keeps
/// `floor` of them free, as a small disk with `min_free_bytes` would.
async fn on_a_small_disk(capacity: u64, floor: u64) -> TestApp {
    let blobs = Arc::new(MemBlobStore::with_capacity_and_floor(capacity, floor));
    let repo = Arc::new(MemRepository::new());
    let app = InternalApp::new(
        repo.clone(),
        blobs.clone(),
        Arc::new(SystemClock),
        Arc::new(Argon2Passwords::for_tests()),
        CoreSettings::default(),
    );
    for t in default_catalogue() {
        app.save_document_type(&Actor::System, t)
            .await
            .expect("seed document types");
    }
    let (search, indexer, _) = mem_search(&app, repo);
    let router = router(
        internal_state(&app, search.clone(), HttpConfig::default()),
        app.clone(),
    );
    TestApp {
        router,
        app,
        blobs,
        search,
        indexer,
    }
}

#[tokio::test]
async fn an_upload_that_does_not_fit_is_507_storage_full_and_stores_nothing() {
    let t = on_a_small_disk(64, 0).await;
    let alice = t.user("alice").await;
    let space = t.space(&alice, "chantier").await;
    let r = t.upload(&alice, &space, "petit.txt", b"fits").await;
    assert_eq!(r.status, StatusCode::CREATED);
    let p = t
        .upload(&alice, &space, "gros.txt", &[b'x'; 100])
        .await
        .assert_problem(StatusCode::INSUFFICIENT_STORAGE, "storage_full");
    let detail = p["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("nothing was saved"), "{p}");
    assert!(
        !detail.contains("memory store"),
        "the cause stays in the log: {p}"
    );
    assert_eq!(t.blobs.len(), 1, "only the first upload is stored");
    let listing = t
        .send(with_session(
            empty(Method::GET, &format!("/api/v1/spaces/{space}/children")),
            &alice,
        ))
        .await
        .json();
    assert_eq!(listing["documents"]["total"], 1, "{listing}");
}

#[tokio::test]
async fn readiness_says_the_disk_is_below_its_floor_and_how_much_is_free() {
    let roomy = on_a_small_disk(3 << 20, 1 << 20).await;
    let ready = roomy.send(empty(Method::GET, "/readyz")).await;
    assert_eq!(ready.status, StatusCode::OK, "room above the floor");

    // Something else filled the disk: 1.5 MiB left, 2 MiB kept free.
    let t = on_a_small_disk(3 << 19, 2 << 20).await;
    let p = t
        .send(empty(Method::GET, "/readyz"))
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "storage_full");
    let detail = p["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("1.5 MiB free, floor 2.0 MiB"), "{p}");
    assert!(detail.contains("min_free_bytes"), "{p}");
    assert!(!detail.contains("memory"), "no place named: {p}");
    let alice = t.user("alice").await;
    let space = t.space(&alice, "chantier").await;
    t.upload(&alice, &space, "plan.txt", b"refused below the floor")
        .await
        .assert_problem(StatusCode::INSUFFICIENT_STORAGE, "storage_full");
}
