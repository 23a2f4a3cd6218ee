//! Spaces, members, folders and the trash through the API.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_manager_adds_a_reader_who_can_read_but_not_write() {
    let t = TestApp::new().await;
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let space = t.space(&alice, "urbanisme").await;
    let put = json(
        Method::PUT,
        &format!("/api/v1/spaces/{space}/members/bob"),
        &json!({"role": "reader"}),
    );
    let r = t.send(with_session(put, &alice)).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["role"], "reader");
    let bob_id = r.json()["principal"].as_str().expect("id").to_owned();

    let mine = t
        .send(with_session(empty(Method::GET, "/api/v1/spaces"), &bob))
        .await
        .json();
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["role"], "reader");
    assert_eq!(mine["offset"], 0);
    assert_eq!(mine["limit"], 100);

    let members = t
        .send(with_session(
            empty(Method::GET, &format!("/api/v1/spaces/{space}/members")),
            &bob,
        ))
        .await;
    assert_eq!(members.json().as_array().map(Vec::len), Some(2));
    assert!(!String::from_utf8_lossy(&members.body).contains("password"));

    t.upload(&bob, &space, "x.txt", b"x")
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");

    let alice_id = t
        .send(with_session(empty(Method::GET, "/api/v1/auth/me"), &alice))
        .await
        .json()["user"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let last = t
        .send(with_session(
            empty(
                Method::DELETE,
                &format!("/api/v1/spaces/{space}/members/{alice_id}"),
            ),
            &alice,
        ))
        .await;
    last.assert_problem(StatusCode::CONFLICT, "last_manager");
    let removed = t
        .send(with_session(
            empty(
                Method::DELETE,
                &format!("/api/v1/spaces/{space}/members/{bob_id}"),
            ),
            &alice,
        ))
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let gone = t
        .send(with_session(
            empty(Method::GET, &format!("/api/v1/spaces/{space}")),
            &bob,
        ))
        .await;
    gone.assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn spaces_are_updated_archived_and_their_slugs_unique() {
    let t = TestApp::new().await;
    let alice = t.user("alice").await;
    let space = t.space(&alice, "culture").await;
    let again = json(
        Method::POST,
        "/api/v1/spaces",
        &json!({"slug": "culture", "title": "Bis"}),
    );
    t.send(with_session(again, &alice))
        .await
        .assert_problem(StatusCode::CONFLICT, "slug_taken");
    let patch = json(
        Method::PATCH,
        &format!("/api/v1/spaces/{space}"),
        &json!({"title": "Culture et patrimoine", "visibility": "public"}),
    );
    let r = t.send(with_session(patch, &alice)).await.json();
    assert_eq!(r["title"], "Culture et patrimoine");
    assert_eq!(r["visibility"], "public");
    let archived = t
        .send(with_session(
            empty(Method::POST, &format!("/api/v1/spaces/{space}/archive")),
            &alice,
        ))
        .await;
    assert_eq!(archived.json()["archived"], true);
    t.upload(&alice, &space, "x.txt", b"x")
        .await
        .assert_problem(StatusCode::CONFLICT, "space_archived");
    let back = t
        .send(with_session(
            empty(Method::POST, &format!("/api/v1/spaces/{space}/unarchive")),
            &alice,
        ))
        .await;
    assert_eq!(back.json()["archived"], false);
}

#[tokio::test]
async fn folders_list_move_and_go_through_the_trash() {
    let t = TestApp::new().await;
    let s = t.user("alice").await;
    let space = t.space(&s, "transports").await;
    let create = |name: &str, parent: Option<&str>| {
        json(
            Method::POST,
            &format!("/api/v1/spaces/{space}/folders"),
            &json!({"name": name, "parent": parent}),
        )
    };
    let a = t.send(with_session(create("Marchés", None), &s)).await;
    assert_eq!(a.status, StatusCode::CREATED);
    let a = a.json()["id"].as_str().expect("id").to_owned();
    let b = t
        .send(with_session(create("2026", Some(&a)), &s))
        .await
        .json()["id"]
        .as_str()
        .expect("id")
        .to_owned();
    t.send(with_session(create("marchés", None), &s))
        .await
        .assert_problem(StatusCode::CONFLICT, "name_taken");

    let root = t
        .send(with_session(
            empty(Method::GET, &format!("/api/v1/spaces/{space}/children")),
            &s,
        ))
        .await
        .json();
    assert_eq!(root["folder"], serde_json::Value::Null);
    assert_eq!(root["folders"][0]["name"], "Marchés");
    let inside = t
        .send(with_session(
            empty(
                Method::GET,
                &format!("/api/v1/spaces/{space}/children?folder={a}"),
            ),
            &s,
        ))
        .await
        .json();
    assert_eq!(inside["folder"]["id"], a.as_str());
    assert_eq!(inside["folders"][0]["id"], b.as_str());

    let cycle = json(
        Method::PATCH,
        &format!("/api/v1/folders/{a}"),
        &json!({"parent": b}),
    );
    t.send(with_session(cycle, &s))
        .await
        .assert_problem(StatusCode::CONFLICT, "folder_cycle");
    let to_root = json(
        Method::PATCH,
        &format!("/api/v1/folders/{b}"),
        &json!({"parent": null, "name": "Archives 2026"}),
    );
    let moved = t.send(with_session(to_root, &s)).await.json();
    assert_eq!(moved["parent"], serde_json::Value::Null);
    assert_eq!(moved["name"], "Archives 2026");

    let del = t
        .send(with_session(
            empty(Method::DELETE, &format!("/api/v1/folders/{a}")),
            &s,
        ))
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let trash = t
        .send(with_session(
            empty(Method::GET, &format!("/api/v1/spaces/{space}/trash")),
            &s,
        ))
        .await
        .json();
    assert_eq!(trash["folders"][0]["id"], a.as_str());
    assert!(trash["folders"][0]["trashed"]["at"].is_string());
    let restored = t
        .send(with_session(
            empty(Method::POST, &format!("/api/v1/trash/folders/{a}/restore")),
            &s,
        ))
        .await;
    assert_eq!(restored.status, StatusCode::OK);
    t.send(with_session(
        empty(Method::DELETE, &format!("/api/v1/folders/{a}")),
        &s,
    ))
    .await;
    let purged = t
        .send(with_session(
            empty(Method::DELETE, &format!("/api/v1/trash/folders/{a}")),
            &s,
        ))
        .await;
    assert_eq!(purged.status, StatusCode::NO_CONTENT);
    let empty_trash = t
        .send(with_session(
            empty(Method::GET, &format!("/api/v1/spaces/{space}/trash")),
            &s,
        ))
        .await
        .json();
    assert_eq!(empty_trash["folders"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn documents_are_renamed_trashed_restored_and_purged() {
    let t = TestApp::new().await;
    let s = t.user("alice").await;
    let space = t.space(&s, "finances").await;
    let id = t.upload(&s, &space, "budget.txt", b"42").await.json()["document"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let rename = json(
        Method::PATCH,
        &format!("/api/v1/documents/{id}"),
        &json!({"name": "budget 2026.txt"}),
    );
    assert_eq!(
        t.send(with_session(rename, &s)).await.json()["document"]["name"],
        "budget 2026.txt"
    );
    let del = t
        .send(with_session(
            empty(Method::DELETE, &format!("/api/v1/documents/{id}")),
            &s,
        ))
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    t.send(with_session(
        empty(Method::GET, &format!("/api/v1/documents/{id}")),
        &s,
    ))
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let restored = t
        .send(with_session(
            empty(
                Method::POST,
                &format!("/api/v1/trash/documents/{id}/restore"),
            ),
            &s,
        ))
        .await;
    assert_eq!(restored.json()["name"], "budget 2026.txt");
    t.send(with_session(
        empty(Method::DELETE, &format!("/api/v1/documents/{id}")),
        &s,
    ))
    .await;
    let purged = t
        .send(with_session(
            empty(Method::DELETE, &format!("/api/v1/trash/documents/{id}")),
            &s,
        ))
        .await;
    assert_eq!(purged.status, StatusCode::NO_CONTENT);
    t.send(with_session(
        empty(
            Method::POST,
            &format!("/api/v1/trash/documents/{id}/restore"),
        ),
        &s,
    ))
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
}
