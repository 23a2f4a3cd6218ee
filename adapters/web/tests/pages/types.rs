//! The document-type editor of the administration pages.

use axum::http::StatusCode;
use passerelle_core::doctype::FieldKind;

use crate::support::{PASSWORD, TestApp};

async fn admin(t: &TestApp) -> crate::support::Browser {
    t.agent("root", true).await;
    let mut b = t.browser();
    b.login("root", PASSWORD).await;
    b
}

#[tokio::test]
async fn an_administrator_creates_a_type_with_its_fields_and_edits_it() {
    let t = TestApp::internal().await;
    let mut b = admin(&t).await;
    b.get("/admin/types")
        .await
        .assert_contains(r#"href="/admin/types/new""#);
    b.get("/admin/types/new")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains(r#"name="f2.key""#)
        .assert_contains("Liste de valeurs");
    b.submit(
        "/admin/types/new",
        "/admin/types",
        &[
            ("key", "marche-public"),
            ("label", "Marché public"),
            ("domain", "Commande publique"),
            ("description", "Pièces d'un marché"),
            ("retention", "10"),
            ("f0.key", "numero"),
            ("f0.label", "Numéro de marché"),
            ("f0.type", "text"),
            ("f0.required", "true"),
            ("f1.key", "procedure"),
            ("f1.label", "Procédure"),
            ("f1.type", "enum"),
            ("f1.values", "MAPA\r\nAppel d'offres ouvert\r\n\r\n"),
            ("f2.key", ""),
            ("f2.label", ""),
            ("f2.type", "text"),
        ],
    )
    .await
    .assert_redirect_to("/admin/types/marche-public/edit?ok=type_saved");
    let ty = t
        .app
        .get_document_type("marche-public")
        .await
        .expect("saved");
    assert_eq!(ty.label, "Marché public");
    assert_eq!(ty.domain, "Commande publique");
    assert_eq!(ty.retention_years, 10);
    assert_eq!(ty.fields.len(), 2, "the blank row adds no field");
    assert!(ty.fields[0].required);
    assert_eq!(
        ty.fields[1].kind,
        FieldKind::Enum {
            values: vec!["MAPA".into(), "Appel d'offres ouvert".into()]
        }
    );
    b.get("/admin/types")
        .await
        .assert_contains("<code>marche-public</code>")
        .assert_contains("Numéro de marché (Texte, *)");

    // Editing: the key stays, a field is removed by emptying its row, a
    // boolean is added, the retention changes.
    let edit = "/admin/types/marche-public/edit";
    b.get(&format!("{edit}?ok=type_saved"))
        .await
        .assert_contains("Le type de document a été enregistré.")
        .assert_contains(r#"value="Numéro de marché""#)
        .assert_contains("Appel d&#39;offres ouvert");
    b.submit(
        edit,
        "/admin/types/marche-public",
        &[
            ("key", "autre-cle"),
            ("label", "Marché public"),
            ("retention", "12"),
            ("f0.key", "numero"),
            ("f0.label", "Numéro de marché"),
            ("f0.type", "text"),
            ("f0.required", "true"),
            ("f1.key", ""),
            ("f1.label", ""),
            ("f1.type", "enum"),
            ("f2.key", "notifie"),
            ("f2.label", "Notifié"),
            ("f2.type", "boolean"),
        ],
    )
    .await
    .assert_redirect_to("/admin/types/marche-public/edit?ok=type_saved");
    let ty = t
        .app
        .get_document_type("marche-public")
        .await
        .expect("kept");
    assert_eq!(ty.retention_years, 12);
    let keys: Vec<_> = ty.fields.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["numero", "notifie"]);
    assert_eq!(ty.fields[1].kind, FieldKind::Boolean);
    assert!(
        t.app.get_document_type("autre-cle").await.is_err(),
        "a posted key does not rename the type"
    );
}

#[tokio::test]
async fn a_bad_definition_is_refused_beside_its_inputs_and_nothing_is_saved() {
    let t = TestApp::internal().await;
    let mut b = admin(&t).await;
    let r = b
        .submit(
            "/admin/types/new",
            "/admin/types",
            &[
                ("key", "Bad Key/.."),
                ("label", ""),
                ("retention", "-3"),
                ("f0.key", "montant"),
                ("f0.label", "Montant"),
                ("f0.type", "decimal"),
                ("f0.values", "1\n2"),
                ("f1.key", "x"),
                ("f1.label", ""),
                ("f1.type", "text"),
                ("f2.key", "choix"),
                ("f2.label", "Choix"),
                ("f2.type", "enum"),
                ("f3.key", "nature"),
                ("f3.label", "Nature"),
                ("f3.type", "json"),
            ],
        )
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains(r#"role="alert""#)
        .assert_contains(r#"aria-invalid="true" aria-describedby="e-label""#)
        .assert_contains(r#"<p class="field-error" id="e-label">Indiquez un libellé.</p>"#)
        .assert_contains(r#"aria-describedby="e-retention""#)
        .assert_contains("Indiquez une durée de conservation")
        .assert_contains("Seule une liste de valeurs a des valeurs permises.")
        .assert_contains("Indiquez le libellé de ce champ.")
        .assert_contains("Choisissez un type de valeur.")
        // What was typed is kept in the form.
        .assert_contains(r#"value="Bad Key/..""#)
        .assert_contains(r#"value="Montant""#);
    assert!(
        t.app
            .list_document_types()
            .await
            .expect("types")
            .iter()
            .all(|ty| ty.key != "Bad Key/.."),
    );

    // The type itself valid, one enum without values: marked on its row.
    b.submit(
        "/admin/types/new",
        "/admin/types",
        &[
            ("key", "note-interne"),
            ("label", "Note interne"),
            ("retention", "5"),
            ("f0.key", "choix"),
            ("f0.label", "Choix"),
            ("f0.type", "enum"),
        ],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains(r#"id="f0-err""#)
    .assert_contains("Une liste de valeurs doit avoir au moins une valeur.");
    // Two fields with one key: the second is marked.
    b.submit(
        "/admin/types/new",
        "/admin/types",
        &[
            ("key", "note-interne"),
            ("label", "Note interne"),
            ("retention", "5"),
            ("f0.key", "objet"),
            ("f0.label", "Objet"),
            ("f0.type", "text"),
            ("f1.key", "objet"),
            ("f1.label", "Objet encore"),
            ("f1.type", "text"),
        ],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains(r#"id="f1-err""#)
    .assert_contains("Ce champ est déclaré deux fois.");
    // A field key outside a-z, 0-9, _.
    b.submit(
        "/admin/types/new",
        "/admin/types",
        &[
            ("key", "note-interne"),
            ("label", "Note interne"),
            ("retention", "5"),
            ("f0.key", "Objet\u{0}"),
            ("f0.label", "Objet"),
            ("f0.type", "text"),
        ],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains("La clé du champ doit faire");
    assert!(t.app.get_document_type("note-interne").await.is_err());
}

#[tokio::test]
async fn creating_a_type_under_a_key_in_use_does_not_overwrite_it() {
    let t = TestApp::internal().await;
    let mut b = admin(&t).await;
    let before = t.app.get_document_type("facture").await.expect("seeded");
    b.submit(
        "/admin/types/new",
        "/admin/types",
        &[
            ("key", "facture"),
            ("label", "Autre chose"),
            ("retention", "1"),
        ],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains("Un type de document porte déjà cette clé.");
    let after = t.app.get_document_type("facture").await.expect("kept");
    assert_eq!(after.label, before.label);
    assert_eq!(after.fields, before.fields);
}

#[tokio::test]
async fn the_editor_exists_for_administrators_only_and_needs_the_form_token() {
    let t = TestApp::internal().await;
    let mut b = admin(&t).await;
    b.get("/admin/types/inconnu/edit")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    b.post(
        "/admin/types",
        &[("key", "sans-jeton"), ("label", "X"), ("retention", "1")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    assert!(t.app.get_document_type("sans-jeton").await.is_err());

    let mut paul = t.user("paul").await;
    for page in ["/admin/types/new", "/admin/types/facture/edit"] {
        paul.get(page).await.assert_status(StatusCode::NOT_FOUND);
    }
    paul.submit(
        "/spaces",
        "/admin/types/facture",
        &[("label", "Piratée"), ("retention", "0")],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    assert_ne!(
        t.app
            .get_document_type("facture")
            .await
            .expect("kept")
            .label,
        "Piratée"
    );
}
