//! The activity feed and notification settings through the API: a feed
//! grouped and filtered by kind, a space one cannot read is 404 as an
//! absent one, a bad kind or frequency is a 400 with a stable code,
//! settings set and read back, the space's default for managers only,
//! the outbox for administrators only, and an unsubscribe token this
//! node did not sign is 404 without a session.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_feed_groups_filters_and_hides_what_the_caller_cannot_read() {
    let t = TestApp::new().await;
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let space = t.space(&alice, "piscine").await;
    let hidden = t.space(&alice, "rh").await;
    for name in ["plan.pdf", "devis.pdf"] {
        t.upload(&alice, &space, name, b"x").await;
    }
    t.upload(&alice, &hidden, "paie.pdf", b"x").await;
    let r = t
        .send(with_session(
            json(
                Method::PUT,
                &format!("/api/v1/spaces/{space}/members/bob"),
                &json!({ "role": "reader" }),
            ),
            &alice,
        ))
        .await;
    assert!(r.status.is_success(), "{:?}", r.json());

    let feed = t
        .send(with_session(
            empty(Method::GET, "/api/v1/activity?kind=added"),
            &bob,
        ))
        .await;
    assert_eq!(feed.status, StatusCode::OK);
    let lines = feed.json()["lines"].clone();
    assert_eq!(lines.as_array().map(Vec::len), Some(1), "{lines}");
    assert_eq!(lines[0]["kind"], json!("added"));
    assert_eq!(lines[0]["actor_name"], json!("Agent alice"));
    assert_eq!(lines[0]["space_title"], json!("piscine"));
    assert_eq!(lines[0]["items"][0]["name"], json!("devis.pdf"));
    assert_eq!(lines[0]["items"][1]["name"], json!("plan.pdf"));

    let uri = format!("/api/v1/spaces/{hidden}/activity");
    let invisible = t.send(with_session(empty(Method::GET, &uri), &bob)).await;
    invisible.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let absent = format!("/api/v1/spaces/{}/activity", uuid::Uuid::new_v4());
    let absent = t
        .send(with_session(empty(Method::GET, &absent), &bob))
        .await;
    assert_eq!(absent.json()["detail"], invisible.json()["detail"]);

    let bad = t
        .send(with_session(
            empty(Method::GET, "/api/v1/activity?kind=login"),
            &bob,
        ))
        .await;
    bad.assert_problem(StatusCode::BAD_REQUEST, "invalid_kind");
}

#[tokio::test]
async fn settings_are_set_and_read_back_and_the_default_is_the_managers() {
    let t = TestApp::new().await;
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let space = t.space(&alice, "voirie").await;
    t.send(with_session(
        json(
            Method::PUT,
            &format!("/api/v1/spaces/{space}/members/bob"),
            &json!({ "role": "reader" }),
        ),
        &alice,
    ))
    .await;
    let uri = format!("/api/v1/spaces/{space}/subscription");
    let before = t.send(with_session(empty(Method::GET, &uri), &bob)).await;
    assert_eq!(before.json()["frequency"], json!(null));
    assert_eq!(before.json()["space_default"], json!("daily"));
    assert_eq!(before.json()["manages"], json!(false));

    let set = t
        .send(with_session(
            json(Method::PUT, &uri, &json!({ "frequency": "immediate" })),
            &bob,
        ))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.json());
    assert_eq!(set.json()["frequency"], json!("immediate"));
    let doc = t.upload(&alice, &space, "arrete.pdf", b"x").await.json()["document"]["id"].clone();
    let follow = t
        .send(with_session(
            json(
                Method::PUT,
                &uri,
                &json!({ "followed": { "kind": "document", "id": doc }, "frequency": "weekly" }),
            ),
            &bob,
        ))
        .await;
    assert_eq!(follow.json()["follows"][0]["followed"]["id"], doc);
    assert_eq!(follow.json()["follows"][0]["frequency"], json!("weekly"));
    let bad = t
        .send(with_session(
            json(Method::PUT, &uri, &json!({ "frequency": "hourly" })),
            &bob,
        ))
        .await;
    bad.assert_problem(StatusCode::BAD_REQUEST, "invalid_frequency");

    let default = format!("{uri}/default");
    let body = json!({ "frequency": "weekly" });
    let refused = t
        .send(with_session(json(Method::PUT, &default, &body), &bob))
        .await;
    refused.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let ok = t
        .send(with_session(json(Method::PUT, &default, &body), &alice))
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    let after = t.send(with_session(empty(Method::GET, &uri), &bob)).await;
    assert_eq!(after.json()["space_default"], json!("weekly"));
}

#[tokio::test]
async fn the_outbox_is_for_administrators_and_a_forged_unsubscribe_is_not_found() {
    let t = TestApp::new().await;
    let bob = t.user("bob").await;
    t.agent("root", true).await;
    let root = t.login("root").await;
    let r = t
        .send(with_session(
            empty(Method::GET, "/api/v1/admin/notices"),
            &bob,
        ))
        .await;
    r.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let r = t
        .send(with_session(
            empty(Method::GET, "/api/v1/admin/notices?state=refused"),
            &root,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["total"], json!(0));
    let r = t
        .send(with_session(
            empty(Method::GET, "/api/v1/admin/notices?state=lost"),
            &root,
        ))
        .await;
    r.assert_problem(StatusCode::BAD_REQUEST, "invalid_state");
    for token in ["abc", &"0".repeat(96), "..%2F..%2Fetc"] {
        let r = t
            .send(empty(Method::POST, &format!("/api/v1/unsubscribe/{token}")))
            .await;
        r.assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
}
