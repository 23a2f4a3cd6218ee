//! Administrators: users, document types, audit log.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn only_administrators_manage_users_and_no_hash_is_ever_shown() {
    let t = TestApp::new().await;
    t.agent("root", true).await;
    let admin = t.login("root").await;
    let alice = t.user("alice").await;
    t.send(with_session(empty(Method::GET, "/api/v1/users"), &alice))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let new = json(
        Method::POST,
        "/api/v1/users",
        &json!({"login": "carole", "display_name": "Carole", "password": "a very long password"}),
    );
    let r = t.send(with_session(new, &admin)).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["has_password"], true);
    let list = t
        .send(with_session(
            empty(Method::GET, "/api/v1/users?limit=2"),
            &admin,
        ))
        .await;
    let body = String::from_utf8_lossy(&list.body).into_owned();
    assert!(
        !body.contains("argon2") && !body.contains("password_hash"),
        "{body}"
    );
    assert_eq!(list.json()["total"], 3);
    assert_eq!(list.json()["items"].as_array().map(Vec::len), Some(2));

    let dup = json(
        Method::POST,
        "/api/v1/users",
        &json!({"login": "carole", "display_name": "Bis"}),
    );
    t.send(with_session(dup, &admin))
        .await
        .assert_problem(StatusCode::CONFLICT, "login_taken");
    let disabled = t
        .send(with_session(
            empty(Method::POST, "/api/v1/users/alice/disable"),
            &admin,
        ))
        .await;
    assert_eq!(disabled.json()["disabled"], true);
    t.send(with_session(empty(Method::GET, "/api/v1/auth/me"), &alice))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let enabled = t
        .send(with_session(
            empty(Method::POST, "/api/v1/users/alice/enable"),
            &admin,
        ))
        .await;
    assert_eq!(enabled.json()["disabled"], false);
}

#[tokio::test]
async fn document_types_are_listed_for_all_and_changed_by_administrators() {
    let t = TestApp::new().await;
    t.agent("root", true).await;
    let admin = t.login("root").await;
    let alice = t.user("alice").await;
    let list = t
        .send(with_session(
            empty(Method::GET, "/api/v1/document-types"),
            &alice,
        ))
        .await
        .json();
    assert!(
        list.as_array()
            .expect("array")
            .iter()
            .any(|d| d["key"] == "facture")
    );
    let facture = t
        .send(with_session(
            empty(Method::GET, "/api/v1/document-types/facture"),
            &alice,
        ))
        .await
        .json();
    assert!(facture["fields"].as_array().is_some_and(|f| !f.is_empty()));

    let body = json!({
        "label": "Plan", "domain": "Urbanisme", "retention_years": 30,
        "fields": [{"key": "echelle", "label": "Échelle", "type": "enum", "values": ["1:100", "1:500"], "required": true}]
    });
    t.send(with_session(
        json(Method::PUT, "/api/v1/document-types/plan", &body),
        &alice,
    ))
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let r = t
        .send(with_session(
            json(Method::PUT, "/api/v1/document-types/plan", &body),
            &admin,
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["fields"][0]["values"][1], "1:500");
    t.send(with_session(
        empty(Method::GET, "/api/v1/document-types/inconnu"),
        &alice,
    ))
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn audit_logs_are_for_managers_and_administrators() {
    let t = TestApp::new().await;
    t.agent("root", true).await;
    let admin = t.login("root").await;
    let alice = t.user("alice").await;
    let space = t.space(&alice, "culture").await;
    t.upload(&alice, &space, "x.txt", b"x").await;
    let log = t
        .send(with_session(
            empty(Method::GET, &format!("/api/v1/spaces/{space}/audit")),
            &alice,
        ))
        .await
        .json();
    let actions: Vec<&str> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"space.create") && actions.contains(&"document.upload"),
        "{actions:?}"
    );
    t.send(with_session(empty(Method::GET, "/api/v1/audit"), &alice))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let all = t
        .send(with_session(empty(Method::GET, "/api/v1/audit"), &admin))
        .await
        .json();
    assert!(all["total"].as_u64().is_some_and(|n| n >= 3));
    assert_eq!(all["items"][0]["prev_hash"], "0".repeat(64));
}
