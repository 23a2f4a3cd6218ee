//! Check-out and check-in through the API: another's write is a 423
//! `locked` problem naming the holder and the expiry; the holder writes
//! and checks in; a manager forces, a collaborator may not; the document
//! shows its lock.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use crate::support::*;

/// `alice` manages a space with one document; `bob` collaborates in it.
/// Returns the two sessions, the space and the document ids.
async fn office(t: &TestApp) -> (Session, Session, String, String) {
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let space = t.space(&alice, "urbanisme").await;
    let put = json(
        Method::PUT,
        &format!("/api/v1/spaces/{space}/members/bob"),
        &json!({"role": "collaborator"}),
    );
    assert_eq!(
        t.send(with_session(put, &alice)).await.status,
        StatusCode::OK
    );
    let doc = t.upload(&alice, &space, "cctp.txt", b"v1").await.json()["document"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    (alice, bob, space, doc)
}

fn check_out(doc: &str, body: serde_json::Value) -> Request<Body> {
    json(
        Method::POST,
        &format!("/api/v1/documents/{doc}/lock"),
        &body,
    )
}

fn new_version(doc: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/documents/{doc}/versions"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("v2"))
        .expect("request")
}

#[tokio::test]
async fn another_agents_write_on_a_checked_out_document_is_423_with_the_holder_and_expiry() {
    let t = TestApp::new().await;
    let (_alice, bob, _space, doc) = office(&t).await;
    let r = t
        .send(with_session(
            check_out(&doc, json!({"timeout_secs": 3600, "note": "relecture"})),
            &bob,
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let lock = r.json();
    assert_eq!(lock["holder_name"], "Agent bob");
    assert_eq!(lock["note"], "relecture");
    assert_eq!(lock["kind"], "document");
    assert!(
        lock["token"]
            .as_str()
            .expect("token")
            .starts_with("opaquelocktoken:")
    );

    let alice = t.login("alice").await;
    let refused = t.send(with_session(new_version(&doc), &alice)).await;
    let problem = refused.assert_problem(StatusCode::LOCKED, "locked");
    assert_eq!(problem["lock"]["holder_name"], "Agent bob");
    assert_eq!(problem["lock"]["holder"], lock["holder"]);
    assert_eq!(problem["lock"]["until"], lock["until"]);
    let rename = json(
        Method::PATCH,
        &format!("/api/v1/documents/{doc}"),
        &json!({"name": "autre.txt"}),
    );
    t.send(with_session(rename, &alice))
        .await
        .assert_problem(StatusCode::LOCKED, "locked");
    t.send(with_session(
        empty(Method::DELETE, &format!("/api/v1/documents/{doc}")),
        &alice,
    ))
    .await
    .assert_problem(StatusCode::LOCKED, "locked");

    let shown = t
        .send(with_session(
            empty(Method::GET, &format!("/api/v1/documents/{doc}")),
            &alice,
        ))
        .await
        .json();
    assert_eq!(shown["lock"]["holder_name"], "Agent bob");
    assert_eq!(shown["lock"]["until"], lock["until"]);
}

#[tokio::test]
async fn the_holder_writes_then_checks_in_and_the_document_is_free() {
    let t = TestApp::new().await;
    let (alice, bob, _space, doc) = office(&t).await;
    let lock_uri = format!("/api/v1/documents/{doc}/lock");
    t.send(with_session(empty(Method::GET, &lock_uri), &bob))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_locked");
    let r = t.send(with_session(check_out(&doc, json!({})), &bob)).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    // Already checked out: a second check-out is refused like a write.
    t.send(with_session(check_out(&doc, json!({})), &alice))
        .await
        .assert_problem(StatusCode::LOCKED, "locked");
    let got = t
        .send(with_session(empty(Method::GET, &lock_uri), &alice))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.json()["holder_name"], "Agent bob");

    // The holder checking out again extends the same lock.
    let again = t
        .send(with_session(
            check_out(&doc, json!({"timeout_secs": 7200})),
            &bob,
        ))
        .await;
    assert_eq!(
        again.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&again.body)
    );
    assert_eq!(again.json()["token"], r.json()["token"]);

    let v2 = t.send(with_session(new_version(&doc), &bob)).await;
    assert_eq!(
        v2.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&v2.body)
    );
    assert_eq!(
        v2.json()["lock"]["holder_name"],
        "Agent bob",
        "the lock stays"
    );

    t.send(with_session(empty(Method::DELETE, &lock_uri), &alice))
        .await
        .assert_problem(StatusCode::CONFLICT, "not_lock_holder");
    let r = t
        .send(with_session(empty(Method::DELETE, &lock_uri), &bob))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    t.send(with_session(empty(Method::DELETE, &lock_uri), &bob))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_locked");
    let v3 = t.send(with_session(new_version(&doc), &alice)).await;
    assert_eq!(v3.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_manager_forces_a_lock_open_and_a_collaborator_may_not() {
    let t = TestApp::new().await;
    let (alice, bob, _space, doc) = office(&t).await;
    let r = t
        .send(with_session(check_out(&doc, json!({})), &alice))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let force = format!("/api/v1/documents/{doc}/lock?force=true");
    t.send(with_session(empty(Method::DELETE, &force), &bob))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    // alice manages the space: she may force her own lock, and bob's.
    let r = t.send(with_session(check_out(&doc, json!({})), &bob)).await;
    r.assert_problem(StatusCode::LOCKED, "locked");
    let r = t
        .send(with_session(empty(Method::DELETE, &force), &alice))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = t.send(with_session(check_out(&doc, json!({})), &bob)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = t
        .send(with_session(empty(Method::DELETE, &force), &alice))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    t.send(with_session(
        empty(Method::GET, &format!("/api/v1/documents/{doc}/lock")),
        &bob,
    ))
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_locked");
}

#[tokio::test]
async fn a_stranger_cannot_tell_a_locked_document_from_an_absent_one() {
    let t = TestApp::new().await;
    let (_alice, bob, _space, doc) = office(&t).await;
    let eve = t.user("eve").await;
    let r = t.send(with_session(check_out(&doc, json!({})), &bob)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let absent = uuid::Uuid::now_v7().to_string();
    for id in [&doc, &absent] {
        let lock_uri = format!("/api/v1/documents/{id}/lock");
        t.send(with_session(empty(Method::GET, &lock_uri), &eve))
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not_found");
        t.send(with_session(check_out(id, json!({})), &eve))
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
}
