//! Edge node: a contractor accepts an invitation, logs in, reads the
//! replicated space and writes through the outbox. The edge is seeded with
//! `apply_changes`, as the replication does.
//!
//! The seed and the helpers every edge test shares are here, with the check
//! that internal-only routes are absent; the other tests are in
//! `invitations`, `writes` and `outbox`.

use passerelle_core::EdgeApp;
use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use bytes::Bytes;
use passerelle_core::blob::ByteStream;
use passerelle_core::doctype::default_catalogue;
use passerelle_core::hash::ContentHash;
use passerelle_core::ids::{DocumentId, PrincipalId, Revision, SpaceId};
use passerelle_core::model::{
    Document, Membership, Principal, PrincipalKind, Space, Version, Visibility,
};
use passerelle_core::names::{DocumentName, Login, Slug};
use passerelle_core::replication::{ChangeRow, Invitation, OpOutcome};
use passerelle_core::role::Role;
use passerelle_core::service::invitation_hash;
use passerelle_http::{EDGE_ROUTES, ROUTES};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::support::*;

mod invitations;
mod outbox;
mod second_factor;
mod writes;

const WRITER: &str = "marie@curie.fr";
const READER: &str = "paul@curie.fr";
const PLAN: &[u8] = b"plan de recolement, version 1";

/// What the seed put on the edge.
struct Seeded {
    space: String,
    /// A shared space the contractors are not members of.
    other: String,
    document: String,
    writer_secret: String,
    reader_secret: String,
    expired_secret: String,
    revoked_secret: String,
}

fn space(slug: &str, agent: PrincipalId, now: OffsetDateTime) -> Space {
    Space {
        id: SpaceId::new(),
        slug: Slug::parse(slug).expect("slug"),
        title: slug.to_owned(),
        description: String::new(),
        domain: "Voirie".into(),
        visibility: Visibility::Private,
        edge: Some("edge-1".parse().expect("node id")),
        archived: false,
        created_by: agent,
        created_at: now,
        revision: Revision(1),
    }
}

fn contractor(login: &str, now: OffsetDateTime) -> Principal {
    Principal {
        id: PrincipalId::new(),
        login: Login::parse(login).expect("login"),
        display_name: login.to_owned(),
        email: login.to_owned(),
        kind: PrincipalKind::Contractor,
        is_admin: false,
        disabled: false,
        password_hash: None,
        source: passerelle_core::model::AccountSource::Local,
        second_factor_reset: None,
        organisation: Some("Curie".parse().expect("node id")),
        created_at: now,
        revision: Revision(2),
    }
}

/// A contractor with a membership and an invitation, as rows: its id and
/// the invitation's secret.
fn invited(
    rows: &mut Vec<ChangeRow>,
    s: &Space,
    login: &str,
    role: Role,
    shape: impl FnOnce(&mut Invitation),
) -> (PrincipalId, String) {
    let now = OffsetDateTime::now_utc();
    let p = contractor(login, now);
    let secret = format!("{:064x}", Uuid::new_v4().as_u128());
    let mut invitation = Invitation {
        id: Uuid::now_v7(),
        principal: p.id,
        space: s.id,
        secret_hash: invitation_hash(&secret),
        created_by: s.created_by,
        created_at: now,
        expires_at: now + Duration::days(14),
        accepted_at: None,
        revoked: false,
        revision: Revision(4),
    };
    shape(&mut invitation);
    rows.push(ChangeRow::Membership(Membership::granted(
        s.id,
        p.id,
        role,
        Revision(3),
    )));
    let id = p.id;
    rows.push(ChangeRow::Principal(p));
    rows.push(ChangeRow::Invitation(invitation));
    (id, secret)
}

fn stream(content: &'static [u8]) -> ByteStream {
    Box::pin(futures::stream::once(async move {
        Ok(Bytes::from_static(content))
    }))
}

async fn seed(t: &TestApp<EdgeApp>) -> Seeded {
    let now = OffsetDateTime::now_utc();
    let agent = PrincipalId::new();
    let s = space("voirie", agent, now);
    let mut rows = vec![ChangeRow::Space(s.clone())];
    rows.extend(default_catalogue().into_iter().map(ChangeRow::DocumentType));
    let (writer, writer_secret) = invited(&mut rows, &s, WRITER, Role::Contributor, |_| {});
    let (_, reader_secret) = invited(&mut rows, &s, READER, Role::Reader, |_| {});
    let (_, expired_secret) = invited(&mut rows, &s, "late@curie.fr", Role::Reader, |i| {
        i.expires_at = now - Duration::minutes(1);
    });
    let (_, revoked_secret) = invited(&mut rows, &s, "gone@curie.fr", Role::Reader, |i| {
        i.revoked = true;
    });

    // The writer's own document (an earlier upload of theirs, applied by
    // the internal node): a contributor may rename, edit and delete it.
    // Pushed by the internal node before the batch naming it, as replication does.
    let blob = passerelle_core::blob::BlobInfo {
        hash: ContentHash::of(PLAN),
        size: PLAN.len() as u64,
    };
    t.app
        .receive_blob(None, &blob.hash, blob.size, 0, stream(PLAN))
        .await
        .expect("blob");
    assert_eq!(blob.hash, ContentHash::of(PLAN));
    let document = Document {
        id: DocumentId::new(),
        space: s.id,
        folder: None,
        name: DocumentName::parse("Plan.pdf").expect("name"),
        doc_type: None,
        metadata: Default::default(),
        current_version: 1,
        created_by: writer,
        created_at: now,
        updated_at: now,
        trashed: None,
        purged: false,
        revision: Revision(5),
    };
    rows.push(ChangeRow::Document(document.clone()));
    rows.push(ChangeRow::Version(Version {
        document: document.id,
        number: 1,
        hash: blob.hash,
        size: blob.size,
        media_type: "application/pdf".into(),
        author: writer,
        comment: String::new(),
        created_at: now,
        revision: Revision(5),
    }));
    t.app
        .apply_changes(s.id, Revision::ZERO, Revision(5), rows)
        .await
        .expect("space replicated");

    let other = space("eclairage", agent, now);
    t.app
        .apply_changes(
            other.id,
            Revision::ZERO,
            Revision(1),
            vec![ChangeRow::Space(other.clone())],
        )
        .await
        .expect("other space replicated");

    Seeded {
        space: s.id.to_string(),
        other: other.id.to_string(),
        document: document.id.to_string(),
        writer_secret,
        reader_secret,
        expired_secret,
        revoked_secret,
    }
}

async fn accept(t: &TestApp<EdgeApp>, secret: &str, password: &str) -> Reply {
    t.send(json(
        Method::POST,
        "/api/v1/invitations/accept",
        &json!({ "secret": secret, "password": password }),
    ))
    .await
}

/// A seeded edge where the writer and the reader have accepted and logged in.
async fn with_contractors() -> (TestApp<EdgeApp>, Seeded, Session, Session) {
    with_contractors_on(TestApp::edge()).await
}

/// As [`with_contractors`], on this edge.
async fn with_contractors_on(t: TestApp<EdgeApp>) -> (TestApp<EdgeApp>, Seeded, Session, Session) {
    let seeded = seed(&t).await;
    for secret in [&seeded.writer_secret, &seeded.reader_secret] {
        let r = accept(&t, secret, PASSWORD).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }
    let writer = t.login(WRITER).await;
    let reader = t.login(READER).await;
    (t, seeded, writer, reader)
}

fn get(uri: &str, s: &Session) -> Request<Body> {
    with_session(empty(Method::GET, uri), s)
}

/// The first page of the caller's operations (up to 100, the default).
async fn operations(t: &TestApp<EdgeApp>, s: &Session, space: &str) -> Vec<Value> {
    operations_page(t, s, space, "").await["items"]
        .as_array()
        .cloned()
        .expect("array")
}

/// A page of the caller's operations (`query`: `offset=…&limit=…`).
async fn operations_page(t: &TestApp<EdgeApp>, s: &Session, space: &str, query: &str) -> Value {
    let r = t
        .send(get(
            &format!("/api/v1/spaces/{space}/operations?{query}"),
            s,
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

#[track_caller]
fn assert_pending(r: &Reply, kind: &str) -> Value {
    assert_eq!(
        r.status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let op = r.json();
    assert_eq!(op["kind"], kind, "{op}");
    assert_eq!(op["status"], "pending");
    assert!(
        op["op_id"]
            .as_str()
            .is_some_and(|id| id.parse::<Uuid>().is_ok())
    );
    assert!(op["created_at"].is_string());
    op
}

#[tokio::test]
async fn internal_only_routes_do_not_exist_on_the_edge() {
    let (t, _, writer, _) = with_contractors().await;
    let edge: BTreeSet<_> = EDGE_ROUTES.iter().collect();
    let internal_only: Vec<_> = ROUTES.iter().filter(|r| !edge.contains(r)).collect();
    assert!(internal_only.len() > 20, "{internal_only:?}");
    for (method, path) in internal_only {
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        let r = t
            .send(with_session(empty(m, &concrete(path)), &writer))
            .await;
        let absent = r.status == StatusCode::METHOD_NOT_ALLOWED
            || (r.status == StatusCode::NOT_FOUND && r.json()["detail"] == "no such route");
        assert!(absent, "{method} {path} answers {} on the edge", r.status);
    }
    for (method, path) in [
        (Method::GET, "/api/v1/users"),
        (Method::GET, "/api/v1/audit"),
        (Method::POST, "/api/v1/tokens"),
        (Method::GET, "/api/v1/edges"),
    ] {
        t.send(with_session(empty(method, path), &writer))
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
    t.send(with_session(empty(Method::POST, "/api/v1/spaces"), &writer))
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}
