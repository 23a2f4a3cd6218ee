//! The document page: preview, metadata form, versions, rename, delete.

use axum::http::StatusCode;

use crate::support::*;

#[tokio::test]
async fn a_missing_required_field_is_refused_inline_and_nothing_is_saved() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let doc = b
        .upload(&id, "F-2026-0042.pdf", b"%PDF-1.4", "application/pdf")
        .await;
    let page = format!("/documents/{doc}?type=facture");
    let form = b.get(&page).await;
    form.assert_contains("id=\"m-numero\"")
        .assert_contains("novalidate");
    let csrf = form.csrf();
    // No supplier, a bad amount.
    let r = b
        .post(
            &format!("/documents/{doc}/metadata"),
            &[
                ("_csrf", &csrf),
                ("type", "facture"),
                ("m.numero", "F-2026-0042"),
                ("m.montant_ttc", "douze"),
                ("m.date_emission", "2026-10-02"),
            ],
        )
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("id=\"meta-alert\"")
        .assert_contains("Ce champ est obligatoire.")
        .assert_contains("aria-invalid=\"true\"")
        .assert_contains("value=\"F-2026-0042\"");
    let dv = t
        .app
        .get_document(
            &passerelle_core::Actor::System,
            passerelle_core::ids::DocumentId::from_uuid(doc.parse().expect("uuid")),
        )
        .await
        .expect("doc");
    assert_eq!(dv.document.doc_type, None);
    // Fixed: saved, and shown in the listing.
    b.post(
        &format!("/documents/{doc}/metadata"),
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
    .assert_redirect_to(&format!("/documents/{doc}?ok=metadata_saved"));
    b.get(&format!("/documents/{doc}"))
        .await
        .assert_contains("value=\"BTP Rhône\"");
    b.get(&format!("/spaces/{id}"))
        .await
        .assert_contains("Facture")
        .assert_contains("F-2026-0042");
}

#[tokio::test]
async fn an_unknown_type_in_the_metadata_form_is_refused() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let doc = b.upload(&id, "a.txt", b"a", "text/plain").await;
    b.submit(
        &format!("/documents/{doc}"),
        &format!("/documents/{doc}/metadata"),
        &[("type", "pas-un-type")],
    )
    .await
    .assert_status(StatusCode::BAD_REQUEST)
    .assert_contains("Ce type de document est inconnu.");
}

#[tokio::test]
async fn text_is_previewed_inline_and_images_through_the_preview_route() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let txt = b
        .upload(
            &id,
            "lisez-moi.txt",
            b"Bonjour <b>le monde</b>",
            "text/plain",
        )
        .await;
    b.get(&format!("/documents/{txt}")).await.assert_contains(
        "<pre class=\"preview\" tabindex=\"0\">Bonjour &#60;b&#62;le monde&#60;/b&#62;</pre>",
    );
    b.get(&format!("/documents/{txt}/preview"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let png = b
        .upload(&id, "plan.png", b"\x89PNG\r\n\x1a\n", "image/png")
        .await;
    b.get(&format!("/documents/{png}"))
        .await
        .assert_contains(&format!(
            "<img class=\"preview\" src=\"/documents/{png}/preview\""
        ));
    let r = b.get(&format!("/documents/{png}/preview")).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.header("content-type"), "image/png");
    assert_eq!(r.header("content-disposition"), "inline");
    assert!(
        r.header("content-security-policy")
            .starts_with("default-src 'none'")
    );
    let pdf = b
        .upload(&id, "plan.pdf", b"%PDF-1.4\n%%EOF", "application/pdf")
        .await;
    b.get(&format!("/documents/{pdf}"))
        .await
        .assert_contains(&format!(
            "<iframe class=\"preview\" src=\"/documents/{pdf}/preview\""
        ));
    let r = b.get(&format!("/documents/{pdf}/preview")).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.header("content-type"), "application/pdf");
    assert_eq!(
        r.header("content-security-policy"),
        "frame-ancestors 'self'"
    );
    assert_eq!(r.header("x-frame-options"), "SAMEORIGIN");
    // HTML never renders inline on this origin.
    let html = b
        .upload(&id, "page.html", b"<script>alert(1)</script>", "text/html")
        .await;
    b.get(&format!("/documents/{html}/preview"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_older_version_is_restored_as_a_new_current_version() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let doc = b
        .upload(&id, "note.txt", b"version une", "text/plain")
        .await;
    let csrf = b.api_csrf().await;
    let r = b
        .send(
            axum::http::Request::post(format!("/api/v1/documents/{doc}/versions"))
                .header("content-type", "text/plain")
                .header("x-csrf-token", csrf)
                .body(axum::body::Body::from("version deux"))
                .expect("request"),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let page = b.get(&format!("/documents/{doc}")).await;
    page.assert_contains("version deux")
        .assert_contains("data-restore=\"1\"");
    assert!(!page.body.contains("data-restore=\"2\""));
    // Without the token: refused.
    b.post(&format!("/documents/{doc}/versions/1/restore"), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    b.submit(
        &format!("/documents/{doc}"),
        &format!("/documents/{doc}/versions/1/restore"),
        &[],
    )
    .await
    .assert_redirect_to(&format!("/documents/{doc}?ok=restored"));
    b.get(&format!("/documents/{doc}"))
        .await
        .assert_contains("id=\"current-version\">v3<")
        .assert_contains("version une");
    b.submit(
        &format!("/documents/{doc}"),
        &format!("/documents/{doc}/versions/9/restore"),
        &[],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_document_is_renamed_moved_and_put_in_the_trash_then_restored() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("xx", "X").await;
    let doc = b.upload(&id, "brouillon.txt", b"x", "text/plain").await;
    let other = b.upload(&id, "existant.txt", b"y", "text/plain").await;
    let _ = other;
    let page = format!("/documents/{doc}");
    b.submit(
        &page,
        &format!("/documents/{doc}/rename"),
        &[("name", "existant.txt"), ("folder", "")],
    )
    .await
    .assert_redirect_to(&format!("{page}?err=name_taken"));
    b.get(&format!("{page}?err=name_taken"))
        .await
        .assert_contains("Ce nom est déjà pris.");
    b.submit(
        &page,
        &format!("/documents/{doc}/rename"),
        &[("name", "final.txt"), ("folder", "")],
    )
    .await
    .assert_redirect_to(&format!("{page}?ok=renamed"));
    b.get(&page).await.assert_contains("<h1>final.txt</h1>");
    b.submit(&page, &format!("/documents/{doc}/delete"), &[])
        .await
        .assert_redirect_to(&format!("/spaces/{id}?ok=deleted"));
    b.get(&page).await.assert_status(StatusCode::NOT_FOUND);
    let trash = b.get(&format!("/spaces/{id}/trash")).await;
    trash.assert_contains("final.txt");
    b.submit(
        &format!("/spaces/{id}/trash"),
        &format!("/trash/documents/{doc}/restore"),
        &[("space", &id)],
    )
    .await
    .assert_redirect_to(&format!("/spaces/{id}/trash?ok=restored"));
    b.get(&page).await.assert_status(StatusCode::OK);
    b.submit(
        &format!("/spaces/{id}/trash"),
        &format!("/trash/things/{doc}/restore"),
        &[],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
}
