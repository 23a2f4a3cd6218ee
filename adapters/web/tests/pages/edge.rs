//! The edge's contractor pages: invitation, only the shared spaces the
//! contractor belongs to, uploads pending until the internal node decides.
//! The edge is seeded with `apply_changes`, as the replication does.

use axum::http::StatusCode;
use passerelle_core::EdgeApp;
use passerelle_core::doctype::default_catalogue;
use passerelle_core::ids::{DocumentId, FolderId, PrincipalId, Revision, SpaceId};
use passerelle_core::model::{
    Document, Folder, Membership, Principal, PrincipalKind, Space, Version, Visibility,
};
use passerelle_core::names::{DocumentName, Login, Slug};
use passerelle_core::replication::{ChangeRow, Invitation, OpOutcome, OutboxOp};
use passerelle_core::role::Role;
use passerelle_core::service::invitation_hash;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::support::*;

mod outbox;
mod second_factor;

const CONTRACTOR: &str = "jean@btp.example";
const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const PASSWORD_OF_JEAN: &str = "le mot de passe de Jean";

fn space(slug: &str, title: &str, now: OffsetDateTime) -> Space {
    Space {
        id: SpaceId::new(),
        slug: Slug::parse(slug).expect("slug"),
        title: title.into(),
        description: String::new(),
        domain: "Voirie".into(),
        visibility: Visibility::Private,
        edge: Some(EDGE.parse().expect("node id")),
        archived: false,
        created_by: PrincipalId::new(),
        created_at: now,
        revision: Revision(1),
    }
}

/// A shared space with the invited contractor, and another shared space.
pub(crate) async fn seed(t: &TestApp<EdgeApp>) -> (SpaceId, SpaceId) {
    let now = OffsetDateTime::now_utc();
    let s = space("voirie", "Voirie 2027", now);
    let jean = Principal {
        id: PrincipalId::new(),
        login: Login::parse(CONTRACTOR).expect("login"),
        display_name: "Jean Bâtisseur".into(),
        email: CONTRACTOR.into(),
        kind: PrincipalKind::Contractor,
        is_admin: false,
        disabled: false,
        password_hash: None,
        source: passerelle_core::model::AccountSource::Local,
        second_factor_reset: None,
        organisation: Some("BTP".into()),
        created_at: now,
        revision: Revision(2),
    };
    let mut rows = vec![ChangeRow::Space(s.clone())];
    rows.extend(default_catalogue().into_iter().map(ChangeRow::DocumentType));
    rows.push(ChangeRow::Membership(Membership::granted(
        s.id,
        jean.id,
        Role::Collaborator,
        Revision(3),
    )));
    rows.push(ChangeRow::Invitation(Invitation {
        id: Uuid::now_v7(),
        principal: jean.id,
        space: s.id,
        secret_hash: invitation_hash(SECRET),
        created_by: s.created_by,
        created_at: now,
        expires_at: now + Duration::days(14),
        accepted_at: None,
        revoked: false,
        revision: Revision(4),
    }));
    rows.push(ChangeRow::Principal(jean));
    t.app
        .apply_changes(s.id, Revision::ZERO, Revision(4), rows)
        .await
        .expect("space replicated");
    let other = space("eclairage", "Éclairage public", now);
    t.app
        .apply_changes(
            other.id,
            Revision::ZERO,
            Revision(1),
            vec![ChangeRow::Space(other.clone())],
        )
        .await
        .expect("other space replicated");
    (s.id, other.id)
}

pub(crate) async fn contractor(t: &TestApp<EdgeApp>) -> Browser {
    let mut b = t.browser();
    b.submit(
        "/invitation",
        "/invitation",
        &[
            ("secret", SECRET),
            ("password", PASSWORD_OF_JEAN),
            ("confirm", PASSWORD_OF_JEAN),
        ],
    )
    .await
    .assert_redirect_to("/login?ok=invitation_accepted");
    b.get("/login?ok=invitation_accepted")
        .await
        .assert_contains("Votre compte est activé");
    b.login(CONTRACTOR, PASSWORD_OF_JEAN)
        .await
        .assert_redirect_to("/spaces");
    b
}

/// The contractor's acceptance, waiting in the outbox, applied by the
/// internal node (as the replication would acknowledge it).
async fn acceptance_applied(t: &TestApp<EdgeApp>) {
    let pending = t.app.pending_operations(0, 10).await.expect("outbox");
    assert!(
        matches!(
            pending.as_slice(),
            [item] if matches!(item.op, OutboxOp::AcceptInvitation { .. })
        ),
        "{pending:?}"
    );
    t.app
        .acknowledge_operations(&[(pending[0].op_id, OpOutcome::Applied, String::new())])
        .await
        .expect("ack");
}

#[tokio::test]
async fn the_acceptance_goes_up_through_the_outbox_without_showing_as_a_pending_operation() {
    let t = TestApp::edge();
    let (space, _) = seed(&t).await;
    let mut b = contractor(&t).await;
    let pending = t.app.pending_operations(0, 10).await.expect("outbox");
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert!(matches!(pending[0].op, OutboxOp::AcceptInvitation { .. }));
    let page = b.get(&format!("/spaces/{space}")).await;
    page.assert_status(StatusCode::OK);
    assert!(
        !page.body.contains("id=\"pending\"") && !page.body.contains("Synchronisation en attente"),
        "{}",
        page.body
    );
    acceptance_applied(&t).await;
}

#[tokio::test]
async fn a_contractor_sees_only_the_spaces_shared_with_them() {
    let t = TestApp::edge();
    let (space, other) = seed(&t).await;
    let mut b = contractor(&t).await;
    let page = b.get("/spaces").await;
    page.assert_contains("Voirie 2027")
        .assert_contains("Collaborateur");
    assert!(!page.body.contains("Éclairage") && !page.body.contains("Créer un espace"));
    b.get(&format!("/spaces/{other}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    b.get(&format!("/spaces/{space}"))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("id=\"dropzone\"");
    // The invitation cannot be used twice.
    let mut again = t.browser();
    let r = again
        .submit(
            "/invitation",
            "/invitation",
            &[
                ("secret", SECRET),
                ("password", PASSWORD_OF_JEAN),
                ("confirm", PASSWORD_OF_JEAN),
            ],
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
}

#[tokio::test]
async fn an_upload_shows_pending_until_the_internal_node_decides() {
    let t = TestApp::edge();
    let (space, _) = seed(&t).await;
    let mut b = contractor(&t).await;
    acceptance_applied(&t).await;
    let csrf = b.api_csrf().await;
    let r = b
        .send(
            axum::http::Request::post(format!("/api/v1/spaces/{space}/documents?name=Rapport.txt"))
                .header("content-type", "text/plain")
                .header("x-csrf-token", csrf)
                .body(axum::body::Body::from("rapport"))
                .expect("request"),
        )
        .await;
    r.assert_status(StatusCode::ACCEPTED);
    b.get(&format!("/spaces/{space}"))
        .await
        .assert_contains("id=\"pending\"")
        .assert_contains("Dépôt de « Rapport.txt »")
        .assert_contains("<span class=\"badge pending\">Synchronisation en attente</span>");
    // The internal node refuses it (rights revoked meanwhile, say).
    let pending = t.app.pending_operations(0, 10).await.expect("outbox");
    assert_eq!(pending.len(), 1);
    t.app
        .acknowledge_operations(&[(
            pending[0].op_id,
            OpOutcome::Rejected,
            "droits retirés".into(),
        )])
        .await
        .expect("ack");
    let page = b.get(&format!("/spaces/{space}")).await;
    page.assert_contains("<span class=\"badge rejected\">Refusée</span>")
        .assert_contains("droits retirés");
    assert!(!page.body.contains("Synchronisation en attente"));
}

#[tokio::test]
async fn a_contractor_uploads_by_the_plain_form_through_the_outbox() {
    let t = TestApp::edge();
    let (space, _) = seed(&t).await;
    let mut b = contractor(&t).await;
    acceptance_applied(&t).await;
    let page = format!("/spaces/{space}");
    let csrf = b.get(&page).await.csrf();
    b.post_multipart(
        &format!("/spaces/{space}/upload"),
        &[
            Part::Text("_csrf", &csrf),
            Part::File("file", "Devis.pdf", "application/pdf", b"%PDF-1.4 devis"),
        ],
    )
    .await
    .assert_redirect_to(&format!("{page}?ok=operation_pending"));
    let pending = t.app.pending_operations(0, 10).await.expect("outbox");
    assert_eq!(pending.len(), 1);
    b.get(&page)
        .await
        .assert_contains("Dépôt de « Devis.pdf »")
        .assert_contains("Synchronisation en attente");
}

/// A replicated document of `space`, written by `author`.
async fn document(
    t: &TestApp<EdgeApp>,
    space: SpaceId,
    author: PrincipalId,
    name: &str,
    rev: i64,
) -> DocumentId {
    let now = OffsetDateTime::now_utc();
    let content: passerelle_core::blob::ByteStream = Box::pin(futures::stream::once(async {
        Ok(bytes::Bytes::from_static(b"plan"))
    }));
    // Pushed by the internal node before the batch naming it, as replication does.
    let hash = passerelle_core::ContentHash::of(b"plan");
    t.app
        .receive_blob(None, &hash, 4, 0, content)
        .await
        .expect("blob");
    let blob = passerelle_core::blob::BlobInfo { hash, size: 4 };
    let d = Document {
        id: DocumentId::new(),
        space,
        folder: None,
        name: DocumentName::parse(name).expect("name"),
        doc_type: None,
        metadata: Default::default(),
        current_version: 1,
        created_by: author,
        created_at: now,
        updated_at: now,
        trashed: None,
        purged: false,
        revision: Revision(rev),
    };
    let v = Version {
        document: d.id,
        number: 1,
        hash: blob.hash,
        size: blob.size,
        media_type: "application/pdf".into(),
        author,
        comment: String::new(),
        created_at: now,
        revision: Revision(rev),
    };
    let id = d.id;
    t.app
        .apply_changes(
            space,
            Revision(rev - 1),
            Revision(rev),
            vec![ChangeRow::Document(d), ChangeRow::Version(v)],
        )
        .await
        .expect("document replicated");
    id
}

#[tokio::test]
async fn a_contractor_renames_and_deletes_through_the_outbox() {
    let t = TestApp::edge();
    let (space, _) = seed(&t).await;
    let mut b = contractor(&t).await;
    acceptance_applied(&t).await;
    let jean = t
        .app
        .principal_by_login(&passerelle_core::Actor::System, CONTRACTOR)
        .await
        .expect("jean")
        .id;
    let own = document(&t, space, jean, "Plan.pdf", 5).await;
    let agents = document(&t, space, PrincipalId::new(), "CCTP.pdf", 6).await;
    let page = format!("/documents/{own}");
    let r = b.get(&page).await;
    r.assert_contains("action=\"/documents/")
        .assert_contains("/rename\"");
    r.assert_contains("id=\"move-to\"")
        .assert_contains("id=\"meta-form\"");
    b.post(&format!("{page}/rename"), &[("name", "Plan v2.pdf")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    b.submit(&page, &format!("{page}/rename"), &[("name", "Plan v2.pdf")])
        .await
        .assert_redirect_to(&format!("/spaces/{space}?ok=operation_pending"));
    b.get(&format!("/spaces/{space}?ok=operation_pending"))
        .await
        .assert_contains("Demande enregistrée")
        .assert_contains("Renommage en « Plan v2.pdf »")
        .assert_contains("Synchronisation en attente");
    b.submit(&page, &format!("{page}/delete"), &[])
        .await
        .assert_redirect_to(&format!("/spaces/{space}?ok=operation_pending"));
    // A collaborator may not delete someone else's document.
    let other = format!("/documents/{agents}");
    b.submit(&other, &format!("{other}/delete"), &[])
        .await
        .assert_redirect_to(&format!("{other}?err=forbidden"));
    let ops = t.app.pending_operations(0, 10).await.expect("outbox");
    assert_eq!(ops.len(), 2, "{ops:?}");
}

async fn jean(t: &TestApp<EdgeApp>) -> PrincipalId {
    t.app
        .principal_by_login(&passerelle_core::Actor::System, CONTRACTOR)
        .await
        .expect("jean")
        .id
}

/// A replicated folder at the root of `space`.
async fn folder(t: &TestApp<EdgeApp>, space: SpaceId, name: &str, rev: i64) -> FolderId {
    let f = Folder {
        id: FolderId::new(),
        space,
        parent: None,
        name: DocumentName::parse(name).expect("name"),
        created_by: PrincipalId::new(),
        created_at: OffsetDateTime::now_utc(),
        trashed: None,
        purged: false,
        revision: Revision(rev),
    };
    let id = f.id;
    t.app
        .apply_changes(
            space,
            Revision(rev - 1),
            Revision(rev),
            vec![ChangeRow::Folder(f)],
        )
        .await
        .expect("folder replicated");
    id
}

#[tokio::test]
async fn a_contractor_moves_renames_and_types_a_document_through_the_outbox() {
    let t = TestApp::edge();
    let (space, _) = seed(&t).await;
    let mut b = contractor(&t).await;
    acceptance_applied(&t).await;
    let own = document(&t, space, jean(&t).await, "Facture.pdf", 5).await;
    let lot = folder(&t, space, "Lot 1", 6).await;
    let page = format!("/documents/{own}");
    b.get(&page)
        .await
        .assert_contains(&format!("<option value=\"{lot}\">Lot 1</option>"));

    // Nothing changed: nothing queued.
    b.submit(&page, &format!("{page}/rename"), &[("name", "Facture.pdf")])
        .await
        .assert_redirect_to(&page);
    assert!(
        t.app
            .pending_operations(0, 10)
            .await
            .expect("outbox")
            .is_empty()
    );

    // A new name and a folder: two operations, the rename first.
    let lot_id = lot.to_string();
    b.submit(
        &page,
        &format!("{page}/rename"),
        &[("name", "F-2026-0042.pdf"), ("folder", &lot_id)],
    )
    .await
    .assert_redirect_to(&format!("/spaces/{space}?ok=operation_pending"));
    let ops: Vec<_> = t
        .app
        .pending_operations(0, 10)
        .await
        .expect("outbox")
        .into_iter()
        .map(|i| i.op)
        .collect();
    assert_eq!(
        ops,
        vec![
            OutboxOp::Rename {
                document: own,
                name: "F-2026-0042.pdf".into()
            },
            OutboxOp::Move {
                document: own,
                folder: Some(lot)
            },
        ]
    );
    b.get(&format!("/spaces/{space}"))
        .await
        .assert_contains("Renommage en « F-2026-0042.pdf »")
        .assert_contains("Déplacement");

    // A required field missing: refused beside its input, nothing queued.
    let typed = format!("{page}?type=facture");
    let csrf = b.get(&typed).await.csrf();
    b.post(
        &format!("{page}/metadata"),
        &[
            ("_csrf", &csrf),
            ("type", "facture"),
            ("m.numero", "F-2026-0042"),
            ("m.montant_ttc", "12480.50"),
            ("m.date_emission", "2026-10-02"),
        ],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains("id=\"meta-alert\"")
    .assert_contains("Ce champ est obligatoire.")
    .assert_contains("value=\"F-2026-0042\"");
    assert_eq!(
        t.app.pending_operations(0, 10).await.expect("outbox").len(),
        2
    );

    // Complete: pending until the internal node applies it.
    b.post(
        &format!("{page}/metadata"),
        &[
            ("_csrf", &csrf),
            ("type", "facture"),
            ("m.numero", "F-2026-0042"),
            ("m.fournisseur", "BTP Rhône"),
            ("m.montant_ttc", "12480.50"),
            ("m.date_emission", "2026-10-02"),
        ],
    )
    .await
    .assert_redirect_to(&format!("/spaces/{space}?ok=operation_pending"));
    let last = t
        .app
        .pending_operations(0, 10)
        .await
        .expect("outbox")
        .pop()
        .expect("an operation");
    match last.op {
        OutboxOp::SetMetadata {
            document,
            doc_type,
            metadata,
        } => {
            assert_eq!(document, own);
            assert_eq!(doc_type.as_deref(), Some("facture"));
            assert_eq!(metadata["fournisseur"], "BTP Rhône");
        }
        other => panic!("{other:?}"),
    }
    // The document itself is unchanged on the edge until then.
    let d = t
        .app
        .get_document(&passerelle_core::Actor::System, own)
        .await
        .expect("doc")
        .document;
    assert_eq!(
        (d.name.as_str(), d.folder, d.doc_type),
        ("Facture.pdf", None, None)
    );
}

#[tokio::test]
async fn a_contractor_creates_a_folder_through_the_outbox() {
    let t = TestApp::edge();
    let (space, _) = seed(&t).await;
    let mut b = contractor(&t).await;
    acceptance_applied(&t).await;
    let page = format!("/spaces/{space}");
    b.get(&page)
        .await
        .assert_contains(&format!("action=\"/spaces/{space}/folders\""));
    b.submit(
        &page,
        &format!("{page}/folders"),
        &[("name", "Comptes rendus"), ("parent", "")],
    )
    .await
    .assert_redirect_to(&format!("{page}?ok=operation_pending"));
    b.get(&page)
        .await
        .assert_contains("Synchronisation en attente");
    // A hostile name is refused before anything is queued.
    b.submit(
        &page,
        &format!("{page}/folders"),
        &[("name", "../etc"), ("parent", "")],
    )
    .await
    .assert_redirect_to(&format!("{page}?err=invalid_name"));
    let ops = t.app.pending_operations(0, 10).await.expect("outbox");
    assert!(
        matches!(ops.as_slice(), [i] if matches!(&i.op, OutboxOp::NewFolder { name, parent: None, .. } if name == "Comptes rendus")),
        "{ops:?}"
    );
    // Folder rename and delete stay on the internal node.
    b.post(&format!("/folders/{}/delete", FolderId::new()), &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_webdav_page_tells_a_contractor_their_own_password_and_shared_spaces() {
    let t = TestApp::edge();
    seed(&t).await;
    let mut jean = contractor(&t).await;
    let req = axum::http::Request::get("/account/webdav")
        .header("host", "127.0.0.1:9443")
        .body(axum::body::Body::empty())
        .expect("request");
    let page = jean.send(req).await;
    page.assert_status(StatusCode::OK)
        .assert_contains("id=\"dav-login\">jean@btp.example<")
        .assert_contains("http://127.0.0.1:9443/dav/voirie/")
        .assert_contains("Votre mot de passe de ce portail");
    // No app passwords on an edge, and the edge's limits are said.
    assert!(
        !page.body.contains("/account/app-passwords"),
        "{}",
        page.body
    );
    page.assert_contains("lecture seule");
}
