//! "Mes espaces", the space page, folders, hostile input, other spaces.

use axum::http::StatusCode;

use crate::support::*;

#[tokio::test]
async fn an_agent_creates_a_space_and_sees_it_with_its_role() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("marches-2027", "Marchés 2027").await;
    b.get(&format!("/spaces/{id}?ok=space_created"))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("<h1>Marchés 2027 <span class=\"tag\">Gestionnaire</span></h1>")
        .assert_contains("L'espace a été créé.");
    b.get("/spaces")
        .await
        .assert_contains(&format!("href=\"/spaces/{id}\">Marchés 2027</a>"))
        .assert_contains("Aucun document");
    b.upload(&id, "CCTP lot 1.pdf", b"%PDF-1.4", "application/pdf")
        .await;
    b.get("/spaces").await.assert_contains("CCTP lot 1.pdf —");
}

#[tokio::test]
async fn a_refused_space_comes_back_with_the_reason() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    b.space("finances", "Finances").await;
    b.submit(
        "/spaces",
        "/spaces",
        &[("slug", "finances"), ("title", "Encore")],
    )
    .await
    .assert_redirect_to("/spaces?err=");
    let r = b
        .submit(
            "/spaces",
            "/spaces",
            &[("slug", "Pas Un Slug!"), ("title", "X")],
        )
        .await;
    r.assert_redirect_to("/spaces?err=");
    let loc = r.location().to_owned();
    let page = b.get(&loc).await;
    page.assert_contains("role=\"alert\"");
}

#[tokio::test]
async fn hostile_text_is_escaped_everywhere() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "<script>alert(1)</script>").await;
    // Core refuses markup characters in names; metadata text may carry them.
    let doc = b.upload(&id, "note.txt", b"x", "text/plain").await;
    b.submit(
        &format!("/documents/{doc}"),
        &format!("/documents/{doc}/metadata"),
        &[
            ("type", "facture"),
            ("m.numero", "<img src=x onerror=alert(2)>"),
            ("m.fournisseur", "\"><script>alert(3)</script>"),
            ("m.montant_ttc", "1.00"),
            ("m.date_emission", "2026-10-02"),
        ],
    )
    .await
    .assert_redirect_to(&format!("/documents/{doc}?ok="));
    for path in [
        "/spaces".to_owned(),
        format!("/spaces/{id}"),
        format!("/documents/{doc}"),
    ] {
        let r = b.get(&path).await;
        assert!(!r.body.contains("<script>alert"), "{path}");
        assert!(!r.body.contains("<img src=x"), "{path}");
    }
    b.get(&format!("/spaces/{id}"))
        .await
        .assert_contains("&#60;img src=x onerror=alert(2)&#62;")
        .assert_contains("&#60;script&#62;alert(1)&#60;/script&#62;");
    b.upload_refused(&id, "<b>.txt").await;
}

#[tokio::test]
async fn folders_are_created_listed_and_opened() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let r = b
        .submit(
            &format!("/spaces/{id}"),
            &format!("/spaces/{id}/folders"),
            &[("name", "Pièces écrites"), ("parent", "")],
        )
        .await;
    r.assert_redirect_to(&format!("/spaces/{id}?folder="));
    let folder_page = r.location().to_owned();
    b.get(&format!("/spaces/{id}"))
        .await
        .assert_contains("Pièces écrites</a>");
    b.get(&folder_page)
        .await
        .assert_contains("<li aria-current=\"page\">Pièces écrites</li>")
        .assert_contains("Ce dossier est vide.");
    // A name core refuses.
    b.submit(
        &format!("/spaces/{id}"),
        &format!("/spaces/{id}/folders"),
        &[("name", "a/b"), ("parent", "")],
    )
    .await
    .assert_redirect_to(&format!("/spaces/{id}?err=invalid_name"));
    // A malformed folder id is "not found", not a crash.
    b.get(&format!("/spaces/{id}?folder=not-a-uuid"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_listing_sorts_and_filters() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    b.upload(&id, "b-rapport.txt", b"b", "text/plain").await;
    b.upload(&id, "a-note.txt", b"a", "text/plain").await;
    let r = b.get(&format!("/spaces/{id}?sort=name")).await;
    assert!(r.body.find("a-note.txt").expect("a") < r.body.find("b-rapport.txt").expect("b"));
    let r = b.get(&format!("/spaces/{id}?sort=-name")).await;
    assert!(r.body.find("a-note.txt").expect("a") > r.body.find("b-rapport.txt").expect("b"));
    let r = b.get(&format!("/spaces/{id}?q=RAPP")).await;
    assert!(r.body.contains("b-rapport.txt") && !r.body.contains("a-note.txt"));
    let r = b.get(&format!("/spaces/{id}?type=facture")).await;
    assert!(!r.body.contains("b-rapport.txt"));
}

#[tokio::test]
async fn another_users_space_and_documents_are_not_found() {
    let t = TestApp::internal().await;
    let mut marie = t.user("marie").await;
    let id = marie.space("secret", "Secret").await;
    let doc = marie.upload(&id, "note.txt", b"secret", "text/plain").await;
    let mut paul = t.user("paul").await;
    for path in [
        format!("/spaces/{id}"),
        format!("/spaces/{id}/members"),
        format!("/spaces/{id}/trash"),
        format!("/documents/{doc}"),
        format!("/documents/{doc}/preview"),
        format!("/embed/spaces/{id}"),
    ] {
        let r = paul.get(&path).await;
        r.assert_status(StatusCode::NOT_FOUND)
            .assert_contains("Page introuvable");
        assert!(
            !r.body.contains("Secret") && !r.body.contains("note.txt"),
            "{path}"
        );
    }
    let csrf = paul.api_csrf().await;
    paul.post(&format!("/documents/{doc}/delete"), &[("_csrf", &csrf)])
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn nested_folders_show_their_path_and_are_renamed_and_trashed() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let root = format!("/spaces/{id}");
    let r = b
        .submit(
            &root,
            &format!("{root}/folders"),
            &[("name", "Lot 1"), ("parent", "")],
        )
        .await;
    let lot1 = r
        .location()
        .split("folder=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .expect("id")
        .to_owned();
    let r = b
        .submit(
            &root,
            &format!("{root}/folders"),
            &[("name", "Plans"), ("parent", &lot1)],
        )
        .await;
    let plans = r
        .location()
        .split("folder=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .expect("id")
        .to_owned();
    let page = format!("{root}?folder={plans}");
    // The tree shows every level from any folder, the shown one marked.
    let tree = b.get(&root).await;
    let tree = &tree.body[tree.body.find(r#"id="folder-tree""#).expect("tree")..];
    let tree = &tree[..tree.find("</details>").expect("end")];
    let lot1_at = tree
        .find(&format!(r#"<a href="{root}?folder={lot1}">Lot 1</a>"#))
        .expect("Lot 1 in the tree");
    let plans_at = tree
        .find(&format!(r#"<a href="{root}?folder={plans}">Plans</a>"#))
        .expect("Plans in the tree");
    assert!(
        lot1_at < plans_at && tree[lot1_at..plans_at].contains("<ul>"),
        "Plans nested under Lot 1: {tree}"
    );
    b.get(&page).await.assert_contains(&format!(
        r#"<a href="{root}?folder={plans}" aria-current="page">Plans</a>"#
    ));
    b.get(&page)
        .await
        .assert_contains(&format!(
            "<li><a href=\"/spaces/{id}?folder={lot1}\">Lot 1</a></li>"
        ))
        .assert_contains("<li aria-current=\"page\">Plans</li>");
    b.submit(
        &page,
        &format!("/folders/{plans}/rename"),
        &[("space", &id), ("name", "Plans DCE")],
    )
    .await
    .assert_redirect_to(&format!("{page}&ok=folder_renamed"));
    b.get(&page)
        .await
        .assert_contains("<li aria-current=\"page\">Plans DCE</li>");
    b.submit(
        &page,
        &format!("/folders/{plans}/rename"),
        &[("space", &id), ("name", "a\\b")],
    )
    .await
    .assert_redirect_to(&format!("{page}&err=invalid_name"));
    b.post(&format!("/folders/{plans}/delete"), &[("space", &id)])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    b.submit(
        &page,
        &format!("/folders/{plans}/delete"),
        &[("space", &id)],
    )
    .await
    .assert_redirect_to(&format!("{root}?ok=folder_deleted"));
    b.get(&page).await.assert_status(StatusCode::NOT_FOUND);
    b.get(&format!("{root}/trash"))
        .await
        .assert_contains("Plans DCE");
}

#[tokio::test]
async fn a_folder_with_more_than_a_page_of_documents_links_the_next_page() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let space = passerelle_core::ids::SpaceId::from_uuid(id.parse().expect("uuid"));
    let marie = passerelle_core::Actor::Principal(
        t.app
            .principal_by_login(&passerelle_core::Actor::System, "marie")
            .await
            .expect("marie"),
    );
    for i in 0..101 {
        let new = passerelle_core::service::NewDocument {
            space,
            folder: None,
            name: format!("doc-{i:04}.txt"),
            doc_type: None,
            metadata: Default::default(),
            media_type: Some("text/plain".into()),
            comment: String::new(),
        };
        let content: passerelle_core::blob::ByteStream = Box::pin(futures::stream::once(async {
            Ok(bytes::Bytes::from_static(b"x"))
        }));
        t.app.upload(&marie, new, content).await.expect("upload");
    }
    let first = b.get(&format!("/spaces/{id}?sort=name")).await;
    first
        .assert_contains("doc-0000.txt")
        .assert_contains("101 document(s) dans ce dossier")
        .assert_contains(&format!(
            "href=\"/spaces/{id}?offset=100&#38;sort=name\" rel=\"next\""
        ));
    assert!(!first.body.contains("doc-0100.txt") && !first.body.contains("rel=\"prev\""));
    let second = b.get(&format!("/spaces/{id}?offset=100&sort=name")).await;
    second
        .assert_contains("doc-0100.txt")
        .assert_contains("rel=\"prev\"");
    assert!(!second.body.contains("doc-0000.txt") && !second.body.contains("rel=\"next\""));
    // Sorting and filtering apply to the whole folder, before the page is
    // cut: the last name comes first, a match on page 2 is found on page 1.
    let reversed = b.get(&format!("/spaces/{id}?sort=-name")).await;
    assert!(reversed.body.contains("doc-0100.txt") && !reversed.body.contains("doc-0000.txt"));
    let found = b.get(&format!("/spaces/{id}?q=0100")).await;
    found
        .assert_contains("doc-0100.txt")
        .assert_contains("1 document(s) dans ce dossier");
    assert!(!found.body.contains("rel=\"next\""));
}

#[tokio::test]
async fn recent_activity_shows_the_latest_document_in_any_folder() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("piscine", "Piscine").await;
    b.upload(&id, "Ancien plan.pdf", b"%PDF-1.4", "application/pdf")
        .await;
    let marie = passerelle_core::Actor::Principal(
        t.app
            .principal_by_login(&passerelle_core::Actor::System, "marie")
            .await
            .expect("marie"),
    );
    let space = id.parse().expect("space id");
    let plans = t
        .app
        .create_folder(&marie, space, None, "Plans")
        .await
        .expect("folder");
    let lot = t
        .app
        .create_folder(&marie, space, Some(plans.id), "Lot 2")
        .await
        .expect("folder");
    t.app
        .upload(
            &marie,
            passerelle_core::service::NewDocument {
                space,
                folder: Some(lot.id),
                name: "Plan lot 2.pdf".into(),
                ..passerelle_core::service::NewDocument::default()
            },
            Box::pin(futures::stream::once(async {
                Ok(bytes::Bytes::from_static(b"%PDF-1.4 lot 2"))
            })),
        )
        .await
        .expect("upload");
    // The root holds only the older one; the latest is two folders down.
    b.get("/spaces").await.assert_contains("Plan lot 2.pdf —");
}
