//! Internal node: sharing spaces with edges, inviting contractors,
//! replication status.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use passerelle_core::ids::{FolderId, PrincipalId, Revision, SpaceId};
use passerelle_core::replication::{EdgeStatus, OutboxItem, OutboxOp};
use passerelle_core::{CoreSettings, InternalApp};
use passerelle_http::HttpConfig;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::support::*;

const EDGE: &str = "edge-1";

async fn with_edge(public_url: Option<&str>) -> TestApp {
    let settings = CoreSettings {
        edges: vec![EDGE.parse().expect("node id")],
        ..CoreSettings::default()
    };
    let config = HttpConfig {
        edge_public_urls: public_url
            .map(|u| BTreeMap::from([(EDGE.to_owned(), u.to_owned())]))
            .unwrap_or_default(),
        ..HttpConfig::default()
    };
    TestApp::with(settings, config).await
}

async fn share(t: &TestApp, s: &Session, space: &str, edge: &str) -> Reply {
    t.send(with_session(
        json(
            Method::POST,
            &format!("/api/v1/spaces/{space}/share"),
            &json!({ "edge": edge }),
        ),
        s,
    ))
    .await
}

async fn invite(t: &TestApp, s: &Session, space: &str, email: &str, role: &str) -> Reply {
    t.send(with_session(
        json(
            Method::POST,
            &format!("/api/v1/spaces/{space}/contractors"),
            &json!({
                "email": email,
                "display_name": "Marie Curie",
                "organisation": "Bureau d'études Curie",
                "role": role,
            }),
        ),
        s,
    ))
    .await
}

async fn add_member(t: &TestApp, manager: &Session, space: &str, login: &str, role: &str) {
    let r = t
        .send(with_session(
            json(
                Method::PUT,
                &format!("/api/v1/spaces/{space}/members/{login}"),
                &json!({ "role": role }),
            ),
            manager,
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
}

fn get(uri: &str, s: &Session) -> axum::http::Request<axum::body::Body> {
    with_session(empty(Method::GET, uri), s)
}

#[tokio::test]
async fn sharing_needs_a_configured_edge_and_a_manager() {
    let t = with_edge(None).await;
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let space = t.space(&alice, "voirie").await;
    add_member(&t, &alice, &space, "bob", "collaborator").await;

    share(&t, &alice, &space, "edge-9")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "unknown_edge");
    share(&t, &bob, &space, EDGE)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");

    let r = share(&t, &alice, &space, EDGE).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["shared"], true);
    assert_eq!(r.json()["edge"], EDGE);

    let unshare = |s: &Session| {
        with_session(
            empty(Method::POST, &format!("/api/v1/spaces/{space}/unshare")),
            s,
        )
    };
    t.send(unshare(&bob))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let r = t.send(unshare(&alice)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["shared"], false);
    assert_eq!(r.json()["edge"], Value::Null);
}

#[tokio::test]
async fn inviting_into_a_space_that_is_not_shared_is_a_conflict() {
    let t = with_edge(None).await;
    let alice = t.user("alice").await;
    let space = t.space(&alice, "voirie").await;
    invite(&t, &alice, &space, "marie@curie.fr", "contributor")
        .await
        .assert_problem(StatusCode::CONFLICT, "not_shared");
}

#[tokio::test]
async fn an_invitation_link_uses_the_edge_public_url_and_its_secret_is_never_shown_again() {
    let t = with_edge(Some("https://partenaires.example.fr/")).await;
    let alice = t.user("alice").await;
    let space = t.space(&alice, "voirie").await;
    share(&t, &alice, &space, EDGE).await;

    let r = invite(&t, &alice, &space, "Marie@Curie.fr", "contributor").await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let body = r.json();
    let url = body["invitation_url"].as_str().expect("invitation_url");
    let secret = url
        .strip_prefix("https://partenaires.example.fr/invitation#")
        .expect("the edge's public URL, secret in the fragment");
    assert_eq!(secret.len(), 64);
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(body["invitation_secret"], Value::Null);
    assert_eq!(
        body["mailed"],
        Value::Bool(false),
        "no relay: the manager sends the link"
    );
    assert_eq!(body["edge"], EDGE);
    assert_eq!(body["invitation"]["state"], "pending");
    let contractor = &body["contractor"];
    assert_eq!(contractor["login"], "marie@curie.fr");
    assert_eq!(contractor["kind"], "contractor");
    assert_eq!(contractor["organisation"], "Bureau d'études Curie");
    assert_eq!(contractor["has_password"], false);
    assert!(!String::from_utf8_lossy(&r.body).contains("password_hash"));

    let listed = t
        .send(get(&format!("/api/v1/spaces/{space}/invitations"), &alice))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let text = String::from_utf8_lossy(&listed.body).into_owned();
    assert!(!text.contains(secret), "the secret is listed again: {text}");
    assert!(!text.contains("secret"), "{text}");
    let items = listed.json();
    assert_eq!(items.as_array().map(Vec::len), Some(1));
    assert_eq!(items[0]["id"], body["invitation"]["id"]);

    let members = t
        .send(get(&format!("/api/v1/spaces/{space}/members"), &alice))
        .await
        .json();
    assert!(
        members
            .as_array()
            .expect("members")
            .iter()
            .any(|m| m["login"] == "marie@curie.fr" && m["role"] == "contributor"),
        "{members}"
    );
}

#[tokio::test]
async fn without_a_public_url_the_secret_is_returned_bare() {
    let t = with_edge(None).await;
    let alice = t.user("alice").await;
    let space = t.space(&alice, "voirie").await;
    share(&t, &alice, &space, EDGE).await;
    let r = invite(&t, &alice, &space, "marie@curie.fr", "reader").await;
    assert_eq!(r.status, StatusCode::CREATED);
    let body = r.json();
    assert_eq!(body["invitation_url"], Value::Null);
    let secret = body["invitation_secret"].as_str().expect("secret");
    assert_eq!(secret.len(), 64);
}

#[tokio::test]
async fn managers_list_and_revoke_invitations_and_others_cannot() {
    let t = with_edge(None).await;
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let space = t.space(&alice, "voirie").await;
    add_member(&t, &alice, &space, "bob", "collaborator").await;
    share(&t, &alice, &space, EDGE).await;
    let issued = invite(&t, &alice, &space, "marie@curie.fr", "reader")
        .await
        .json();
    let id = issued["invitation"]["id"].as_str().expect("id");

    t.send(get(&format!("/api/v1/spaces/{space}/invitations"), &bob))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    invite(&t, &bob, &space, "paul@curie.fr", "reader")
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let revoke = |s: &Session| {
        with_session(
            empty(Method::DELETE, &format!("/api/v1/invitations/{id}")),
            s,
        )
    };
    t.send(revoke(&bob))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");

    assert_eq!(t.send(revoke(&alice)).await.status, StatusCode::NO_CONTENT);
    let listed = t
        .send(get(&format!("/api/v1/spaces/{space}/invitations"), &alice))
        .await
        .json();
    assert_eq!(listed[0]["revoked"], true);
    assert_eq!(listed[0]["state"], "revoked");

    let unknown = Uuid::now_v7();
    t.send(with_session(
        empty(Method::DELETE, &format!("/api/v1/invitations/{unknown}")),
        &alice,
    ))
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn an_acceptance_reported_by_the_edge_shows_the_invitation_accepted() {
    let t = with_edge(None).await;
    let alice = t.user("alice").await;
    let space = t.space(&alice, "voirie").await;
    share(&t, &alice, &space, EDGE).await;
    let issued = invite(&t, &alice, &space, "marie@curie.fr", "reader")
        .await
        .json();
    let uri = format!("/api/v1/spaces/{space}/invitations");
    assert_eq!(
        t.send(get(&uri, &alice)).await.json()[0]["state"],
        "pending"
    );

    // As the replication applies the edge's outbox item.
    let accepted_at = OffsetDateTime::now_utc();
    let item = OutboxItem {
        seq: 1,
        op_id: Uuid::now_v7(),
        space: SpaceId::from_uuid(space.parse().expect("uuid")),
        contractor: PrincipalId::from_uuid(
            issued["contractor"]["id"]
                .as_str()
                .expect("id")
                .parse()
                .expect("uuid"),
        ),
        created_at: accepted_at,
        op: OutboxOp::AcceptInvitation {
            invitation: issued["invitation"]["id"]
                .as_str()
                .expect("id")
                .parse()
                .expect("uuid"),
        },
        outcome: None,
        detail: String::new(),
    };
    let applied = t
        .app
        .apply_edge_op(&EDGE.parse().expect("node id"), &item)
        .await
        .expect("applied");
    assert_eq!(applied.outcome.as_str(), "applied");

    let listed = t.send(get(&uri, &alice)).await.json();
    assert_eq!(listed[0]["state"], "accepted", "{listed}");
    let shown = OffsetDateTime::parse(
        listed[0]["accepted_at"].as_str().expect("accepted_at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339");
    assert_eq!(shown, accepted_at);

    // The link did its work: revoking it now is refused, nothing changes.
    let id = issued["invitation"]["id"].as_str().expect("id");
    t.send(with_session(
        empty(Method::DELETE, &format!("/api/v1/invitations/{id}")),
        &alice,
    ))
    .await
    .assert_problem(StatusCode::CONFLICT, "invitation_accepted");
    assert_eq!(
        t.send(get(&uri, &alice)).await.json()[0]["state"],
        "accepted"
    );
}

/// A contractor's operation the internal node refuses (a reader creating a
/// folder), as the replication would apply it.
async fn rejected_operation(app: &InternalApp, space: &str, contractor: &str) -> Uuid {
    let item = OutboxItem {
        seq: 1,
        op_id: Uuid::now_v7(),
        space: SpaceId::from_uuid(space.parse().expect("uuid")),
        contractor: PrincipalId::from_uuid(contractor.parse().expect("uuid")),
        created_at: OffsetDateTime::now_utc(),
        op: OutboxOp::NewFolder {
            folder: FolderId::new(),
            parent: None,
            name: "Relevés".into(),
        },
        outcome: None,
        detail: String::new(),
    };
    let applied = app
        .apply_edge_op(&EDGE.parse().expect("node id"), &item)
        .await
        .expect("applied");
    assert_eq!(applied.outcome.as_str(), "rejected");
    item.op_id
}

#[tokio::test]
async fn replication_status_shows_edge_contact_lag_and_quarantine_to_managers() {
    let t = with_edge(None).await;
    let alice = t.user("alice").await;
    let bob = t.user("bob").await;
    let space = t.space(&alice, "voirie").await;
    add_member(&t, &alice, &space, "bob", "reader").await;
    let uri = format!("/api/v1/spaces/{space}/replication");

    let r = t.send(get(&uri, &alice)).await.json();
    assert_eq!(r["space"], space.as_str());
    assert_eq!(r["edge"], Value::Null);
    assert_eq!(r["lag_revisions"], Value::Null);

    share(&t, &alice, &space, EDGE).await;
    let issued = invite(&t, &alice, &space, "marie@curie.fr", "reader")
        .await
        .json();
    let contractor = issued["contractor"]["id"].as_str().expect("id");
    let op = rejected_operation(&t.app, &space, contractor).await;
    let contact = OffsetDateTime::now_utc();
    t.app
        .record_edge_status(&EdgeStatus {
            edge: EDGE.parse().expect("node id"),
            last_contact: Some(contact),
            last_error: Some("connection reset".into()),
            cursors: vec![(
                SpaceId::from_uuid(space.parse().expect("uuid")),
                Revision(1),
            )],
            space_errors: vec![],
            updated_at: contact,
        })
        .await
        .expect("status recorded");

    let r = t.send(get(&uri, &alice)).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let r = r.json();
    assert_eq!(r["edge"], EDGE);
    assert!(r["last_contact"].is_string(), "{r}");
    assert_eq!(r["last_error"], "connection reset");
    assert_eq!(r["acknowledged_revision"], 1);
    assert!(r["lag_revisions"].as_i64().is_some_and(|n| n > 0), "{r}");
    let q = &r["quarantine"][0];
    assert_eq!(q["op_id"], op.to_string());
    assert_eq!(q["kind"], "new_folder");
    assert_eq!(q["contractor"], contractor);
    assert_eq!(q["outcome"], "rejected");
    assert_eq!(q["edge"], EDGE);
    assert!(q["at"].is_string());
    assert!(q["detail"].as_str().is_some_and(|d| !d.is_empty()), "{q}");

    t.send(get(&uri, &bob))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let carol = t.user("carol").await;
    t.send(get(&uri, &carol))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn edges_status_is_for_administrators_and_lists_configured_edges() {
    let t = with_edge(Some("https://partenaires.example.fr")).await;
    let bob = t.user("bob").await;
    t.send(get("/api/v1/edges", &bob))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");

    t.agent("root", true).await;
    let root = t.login("root").await;
    let r = t.send(get("/api/v1/edges", &root)).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let edges = r.json();
    assert_eq!(edges.as_array().map(Vec::len), Some(1), "{edges}");
    assert_eq!(edges[0]["edge"], EDGE);
    assert_eq!(edges[0]["public_url"], "https://partenaires.example.fr");
    assert_eq!(edges[0]["last_contact"], Value::Null);
    assert_eq!(edges[0]["spaces"], json!([]));
}

#[tokio::test]
async fn a_space_failing_on_its_edge_says_why_in_its_status_and_the_edges_list() {
    let t = with_edge(None).await;
    t.agent("root", true).await;
    let root = t.login("root").await;
    let space = t.space(&root, "chantier-plein").await;
    let other = t.space(&root, "chantier-sain").await;
    share(&t, &root, &space, EDGE).await;
    share(&t, &root, &other, EDGE).await;
    let (failing, fine) = (
        SpaceId::from_uuid(space.parse().expect("uuid")),
        SpaceId::from_uuid(other.parse().expect("uuid")),
    );
    let why = "edge-1: disk full (ENOSPC) on /var/lib/passerelle/edge";
    let now = OffsetDateTime::now_utc();
    t.app
        .record_edge_status(&EdgeStatus {
            edge: EDGE.parse().expect("node id"),
            last_contact: Some(now),
            last_error: None,
            // The failing space's first send was refused: no cursor yet.
            cursors: vec![(fine, Revision(3))],
            space_errors: vec![(failing, why.into())],
            updated_at: now,
        })
        .await
        .expect("status recorded");

    let r = t
        .send(get(&format!("/api/v1/spaces/{space}/replication"), &root))
        .await
        .json();
    assert_eq!(r["error"], why, "{r}");
    assert_eq!(r["last_error"], Value::Null, "the link is up: {r}");
    let r = t
        .send(get(&format!("/api/v1/spaces/{other}/replication"), &root))
        .await
        .json();
    assert_eq!(r["error"], Value::Null, "{r}");

    let edges = t.send(get("/api/v1/edges", &root)).await.json();
    let spaces = edges[0]["spaces"].as_array().cloned().unwrap_or_default();
    let of = |id: &str| spaces.iter().find(|s| s["space"] == id).cloned();
    assert_eq!(
        of(&space).map(|s| s["error"].clone()),
        Some(json!(why)),
        "{edges}"
    );
    assert_eq!(
        of(&other).map(|s| s["error"].clone()),
        Some(Value::Null),
        "{edges}"
    );
    assert_eq!(
        of(&other).map(|s| s["revision"].clone()),
        Some(json!(3)),
        "{edges}"
    );
}
