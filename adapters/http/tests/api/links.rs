//! Links between documents through the API: made from the source (201,
//! idempotent), listed from both ends with their labels, refused to a
//! reader (403) and with an unknown kind (400 `invalid_link`), a target in
//! a space the caller cannot see is 404 like an absent one, and removed
//! through the source only.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

async fn doc(t: &TestApp, s: &Session, space: &str, name: &str) -> String {
    t.upload(s, space, name, b"%PDF-1.4").await.json()["document"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

#[tokio::test]
async fn a_link_is_made_from_its_source_listed_from_both_ends_and_removed() {
    let t = TestApp::new().await;
    let alice = t.user("alice").await;
    let space = t.space(&alice, "actes").await;
    let act = doc(&t, &alice, &space, "acte.pdf").await;
    let annex = doc(&t, &alice, &space, "annexe.pdf").await;
    let make = || {
        json(
            Method::POST,
            &format!("/api/v1/documents/{annex}/links"),
            &json!({ "to": act, "kind": "annexe_de" }),
        )
    };
    let r = t.send(with_session(make(), &alice)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json());
    let link = r.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(r.json()["label"], json!("Annexe de"));
    let again = t.send(with_session(make(), &alice)).await;
    assert_eq!(again.json()["id"], json!(link), "idempotent");

    let from_act = t
        .send(with_session(
            empty(Method::GET, &format!("/api/v1/documents/{act}/links")),
            &alice,
        ))
        .await;
    assert_eq!(from_act.status, StatusCode::OK);
    let listed = from_act.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["direction"], json!("incoming"));
    assert_eq!(listed[0]["label"], json!("Annexes"));
    assert_eq!(listed[0]["document_name"], json!("annexe.pdf"));

    // Through the target, the link is not found; through the source, gone.
    let wrong = t
        .send(with_session(
            empty(
                Method::DELETE,
                &format!("/api/v1/documents/{act}/links/{link}"),
            ),
            &alice,
        ))
        .await;
    wrong.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let gone = t
        .send(with_session(
            empty(
                Method::DELETE,
                &format!("/api/v1/documents/{annex}/links/{link}"),
            ),
            &alice,
        ))
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let listed = t
        .send(with_session(
            empty(Method::GET, &format!("/api/v1/documents/{annex}/links")),
            &alice,
        ))
        .await
        .json();
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn links_refuse_readers_unknown_kinds_and_targets_out_of_sight() {
    let t = TestApp::new().await;
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let space = t.space(&alice, "actes").await;
    let other = t.space(&alice, "secret").await;
    let a = doc(&t, &alice, &space, "a.pdf").await;
    let hidden = doc(&t, &alice, &other, "b.pdf").await;
    let put = json(
        Method::PUT,
        &format!("/api/v1/spaces/{space}/members/bob"),
        &json!({"role": "reader"}),
    );
    assert_eq!(
        t.send(with_session(put, &alice)).await.status,
        StatusCode::OK
    );
    let link = |from: &str, to: &str, kind: &str| {
        json(
            Method::POST,
            &format!("/api/v1/documents/{from}/links"),
            &json!({ "to": to, "kind": kind }),
        )
    };
    t.send(with_session(link(&a, &hidden, "voir_aussi"), &bob))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    t.send(with_session(link(&a, &hidden, "annexe"), &alice))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_link");
    // Bob contributes now; his own document may link, but not into a
    // space he cannot see: 404, as for a document that does not exist.
    let put = json(
        Method::PUT,
        &format!("/api/v1/spaces/{space}/members/bob"),
        &json!({"role": "contributor"}),
    );
    assert_eq!(
        t.send(with_session(put, &alice)).await.status,
        StatusCode::OK
    );
    let mine = doc(&t, &bob, &space, "mine.pdf").await;
    let out_of_sight = t
        .send(with_session(link(&mine, &hidden, "voir_aussi"), &bob))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let absent = t
        .send(with_session(
            link(&mine, "00000000-0000-4000-8000-000000000000", "voir_aussi"),
            &bob,
        ))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(out_of_sight["detail"], absent["detail"]);
    // Alice links across her two spaces: Bob, who sees only one end, sees
    // no link.
    let r = t
        .send(with_session(link(&a, &hidden, "remplace"), &alice))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let bobs = t
        .send(with_session(
            empty(Method::GET, &format!("/api/v1/documents/{a}/links")),
            &bob,
        ))
        .await
        .json();
    assert_eq!(bobs, json!([]));
}
