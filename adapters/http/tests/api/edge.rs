//! Edge node: a contractor accepts an invitation, logs in, reads the
//! replicated space and writes through the outbox. The edge is seeded with
//! `apply_changes`, as the replication does.

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

mod outbox;

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
    rows.push(ChangeRow::Membership(Membership {
        space: s.id,
        principal: p.id,
        role,
        removed: false,
        revision: Revision(3),
    }));
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
async fn a_contractor_accepts_logs_in_and_reads_only_their_shared_space() {
    let t = TestApp::edge();
    let seeded = seed(&t).await;
    let r = accept(&t, &seeded.writer_secret, PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.json()["login"], WRITER);
    assert_eq!(r.json()["has_password"], true);
    accept(&t, &seeded.writer_secret, PASSWORD)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");

    let s = t.login(WRITER).await;
    let me = t.send(get("/api/v1/auth/me", &s)).await.json();
    assert_eq!(me["user"]["kind"], "contractor");

    let mine = t.send(get("/api/v1/spaces", &s)).await.json();
    assert_eq!(mine["total"], 1, "{mine}");
    assert_eq!(mine["items"][0]["id"], seeded.space.as_str());
    assert_eq!(mine["items"][0]["role"], "contributor");
    t.send(get(&format!("/api/v1/spaces/{}", seeded.other), &s))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");

    let children = t
        .send(get(
            &format!("/api/v1/spaces/{}/children", seeded.space),
            &s,
        ))
        .await
        .json();
    assert_eq!(children["documents"]["items"][0]["name"], "Plan.pdf");
    let doc = &seeded.document;
    let d = t
        .send(get(&format!("/api/v1/documents/{doc}/content"), &s))
        .await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.body, Bytes::from_static(PLAN));
    assert!(
        d.header(header::CONTENT_DISPOSITION)
            .starts_with("attachment;")
    );
    assert_eq!(d.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    let etag = format!("\"{}\"", ContentHash::of(PLAN).to_hex());
    assert_eq!(d.header(header::ETAG), etag);
    let ranged = t
        .send(with_header(
            get(&format!("/api/v1/documents/{doc}/versions/1/content"), &s),
            "range",
            "bytes=0-3",
        ))
        .await;
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.body, Bytes::from_static(&PLAN[..4]));
    let versions = t
        .send(get(&format!("/api/v1/documents/{doc}/versions"), &s))
        .await
        .json();
    assert_eq!(versions.as_array().map(Vec::len), Some(1));
    let types = t.send(get("/api/v1/document-types", &s)).await.json();
    assert!(types.as_array().is_some_and(|a| !a.is_empty()));
}

#[tokio::test]
async fn unknown_used_revoked_and_expired_invitations_are_all_not_found() {
    let t = TestApp::edge();
    let seeded = seed(&t).await;
    let unknown = "0".repeat(64);
    let mut details = BTreeSet::new();
    for secret in [&unknown, &seeded.expired_secret, &seeded.revoked_secret] {
        let p = accept(&t, secret, PASSWORD)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not_found");
        details.insert(p["detail"].to_string());
    }
    assert_eq!(
        details.len(),
        1,
        "the refusals can be told apart: {details:?}"
    );

    accept(&t, &seeded.reader_secret, "short")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "weak_password");
    let r = accept(&t, &seeded.reader_secret, PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a weak password does not use the invitation"
    );
}

#[tokio::test]
async fn accepting_is_throttled_after_repeated_failures() {
    let t = TestApp::edge();
    let seeded = seed(&t).await;
    for _ in 0..5 {
        accept(&t, &"f".repeat(64), PASSWORD)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
    let r = accept(&t, &seeded.writer_secret, PASSWORD).await;
    r.assert_problem(StatusCode::TOO_MANY_REQUESTS, "throttled");
    assert!(r.header(header::RETRY_AFTER).parse::<u64>().is_ok());
}

#[tokio::test]
async fn an_upload_is_accepted_as_a_pending_operation_until_decided() {
    let (t, seeded, writer, _) = with_contractors().await;
    let before = t.blobs.len();
    let r = t
        .upload(&writer, &seeded.space, "Relevé été.txt", b"mesures")
        .await;
    let op = assert_pending(&r, "new_document");
    assert_eq!(op["name"], "Relevé été.txt");
    assert_eq!(t.blobs.len(), before + 1);

    let ops = operations(&t, &writer, &seeded.space).await;
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["op_id"], op["op_id"]);
    assert_eq!(ops[0]["status"], "pending");
    assert_eq!(ops[0]["outcome"], Value::Null);

    let id: Uuid = op["op_id"].as_str().expect("id").parse().expect("uuid");
    t.app
        .acknowledge_operations(&[(id, OpOutcome::Rejected, "rights revoked".into())])
        .await
        .expect("acknowledged");
    let ops = operations(&t, &writer, &seeded.space).await;
    assert_eq!(ops[0]["status"], "decided");
    assert_eq!(ops[0]["outcome"], "rejected");
    assert_eq!(ops[0]["detail"], "rights revoked");

    let cross_site = with_cookie_only(
        Request::builder()
            .method(Method::POST)
            .uri(format!(
                "/api/v1/spaces/{}/documents?name=x.txt",
                seeded.space
            ))
            .body(Body::from("x"))
            .expect("request"),
        &writer,
    );
    t.send(cross_site)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "csrf");
}

#[tokio::test]
async fn a_reader_cannot_upload_and_a_space_without_membership_is_not_found() {
    let (t, seeded, writer, reader) = with_contractors().await;
    let before = t.blobs.len();
    t.upload(&reader, &seeded.space, "x.txt", b"x")
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    t.upload(&writer, &seeded.other, "x.txt", b"x")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    t.send(get(
        &format!("/api/v1/spaces/{}/operations", seeded.other),
        &writer,
    ))
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let delete = empty(
        Method::DELETE,
        &format!("/api/v1/documents/{}", seeded.document),
    );
    t.send(with_session(delete, &reader))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(t.blobs.len(), before);
    assert!(operations(&t, &reader, &seeded.space).await.is_empty());
}

#[tokio::test]
async fn hostile_names_are_refused_before_anything_is_stored() {
    let (t, seeded, writer, _) = with_contractors().await;
    let before = t.blobs.len();
    for name in [
        "../../etc/passwd",
        "a/b.txt",
        "a\\b.txt",
        "CON.txt",
        "..",
        "x\u{0}y",
    ] {
        t.upload(&writer, &seeded.space, name, b"evil")
            .await
            .assert_problem(StatusCode::BAD_REQUEST, "invalid_name");
    }
    let folder = json(
        Method::POST,
        &format!("/api/v1/spaces/{}/folders", seeded.space),
        &json!({ "name": "../up", "parent": null }),
    );
    t.send(with_session(folder, &writer))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_name");
    let rename = json(
        Method::PATCH,
        &format!("/api/v1/documents/{}", seeded.document),
        &json!({ "name": "..\\boot.ini" }),
    );
    t.send(with_session(rename, &writer))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_name");
    assert_eq!(t.blobs.len(), before);
    assert!(operations(&t, &writer, &seeded.space).await.is_empty());
}

#[tokio::test]
async fn every_write_becomes_a_pending_operation() {
    let (t, seeded, writer, _) = with_contractors().await;
    let (space, doc) = (&seeded.space, &seeded.document);
    let send = |req: Request<Body>| t.send(with_session(req, &writer));
    let doc_uri = format!("/api/v1/documents/{doc}");

    let folder = send(json(
        Method::POST,
        &format!("/api/v1/spaces/{space}/folders"),
        &json!({ "name": "Relevés", "parent": null }),
    ))
    .await;
    let folder = assert_pending(&folder, "new_folder");
    assert!(
        folder["folder"]
            .as_str()
            .is_some_and(|f| f.parse::<Uuid>().is_ok())
    );

    let rename = send(json(
        Method::PATCH,
        &doc_uri,
        &json!({ "name": "Plan v2.pdf" }),
    ))
    .await;
    assert_eq!(assert_pending(&rename, "rename")["document"], doc.as_str());
    let moved = send(json(Method::PATCH, &doc_uri, &json!({ "folder": null }))).await;
    assert_pending(&moved, "move");
    // Both at once: two operations, the rename first; the answer is the move.
    let both = send(json(
        Method::PATCH,
        &doc_uri,
        &json!({ "name": "a.pdf", "folder": null }),
    ))
    .await;
    assert_pending(&both, "move");

    let meta = send(json(
        Method::PUT,
        &format!("{doc_uri}/metadata"),
        &json!({ "type": null, "metadata": {} }),
    ))
    .await;
    assert_pending(&meta, "set_metadata");

    let version = Request::builder()
        .method(Method::POST)
        .uri(format!("{doc_uri}/versions?comment=relu"))
        .header(header::CONTENT_TYPE, "application/pdf")
        .body(Body::from("plan v2"))
        .expect("request");
    assert_pending(&send(version).await, "new_version");

    let deleted = send(empty(Method::DELETE, &doc_uri)).await;
    assert_pending(&deleted, "delete");

    let kinds: Vec<Value> = operations(&t, &writer, space)
        .await
        .into_iter()
        .map(|o| o["kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        json!([
            "delete",
            "new_version",
            "set_metadata",
            "move",
            "rename",
            "move",
            "rename",
            "new_folder"
        ])
        .as_array()
        .cloned()
        .expect("array"),
        "newest first"
    );
    let children = t
        .send(get(&format!("/api/v1/spaces/{space}/children"), &writer))
        .await
        .json();
    assert_eq!(
        children["documents"]["items"][0]["name"], "Plan.pdf",
        "nothing changes here before the internal node decides"
    );
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
