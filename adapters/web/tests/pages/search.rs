//! The search pages: the header's box on both nodes, results within the
//! reader's rights, escaping, facets and metadata filters as links and
//! forms, malformed parameters, extraction statuses on the document page
//! and the administrators' list of extraction problems.

use axum::http::StatusCode;
use uuid::Uuid;

use crate::support::*;

/// A member's space with a few documents, not indexed yet.
async fn alice_with(t: &TestApp) -> (Browser, String) {
    let mut alice = t.user("alice").await;
    let s = alice.space("compta", "Comptabilité").await;
    (alice, s)
}

/// Saves a facture's metadata through the document page's form.
async fn as_facture(b: &mut Browser, doc: &str, numero: &str, amount: &str) {
    b.submit(
        &format!("/documents/{doc}"),
        &format!("/documents/{doc}/metadata"),
        &[
            ("type", "facture"),
            ("m.numero", numero),
            ("m.fournisseur", "BTP Rhône"),
            ("m.montant_ttc", amount),
            ("m.date_emission", "2026-10-02"),
        ],
    )
    .await
    .assert_redirect_to(&format!("/documents/{doc}"));
}

/// The first `href` after `marker`, as a browser would follow it.
fn href_after(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in {html}"));
    let rest = &html[at..];
    let start = rest.find("href=\"").expect("a link") + 6;
    let end = rest[start..].find('"').expect("end of link");
    // askama writes `&` in attributes as `&#38;`.
    rest[start..start + end].replace("&#38;", "&")
}

#[tokio::test]
async fn a_member_finds_a_document_by_its_content_and_nobody_else_does() {
    let t = TestApp::internal().await;
    let (mut alice, s) = alice_with(&t).await;
    let doc = alice
        .upload(
            &s,
            "rapport.txt",
            b"Rapport sur la piscine municipale",
            "text/plain",
        )
        .await;
    t.index_now().await;
    let r = alice.get("/search?q=piscine").await;
    r.assert_status(StatusCode::OK)
        .assert_contains(&format!(r#"<a href="/documents/{doc}">rapport.txt</a>"#))
        .assert_contains(&format!(r#"<a href="/spaces/{s}">Comptabilité</a>"#))
        .assert_contains("1 document(s) trouvé(s)")
        .assert_contains(r#"name="q" value="piscine""#)
        .assert_contains(r#"aria-current="true">pertinence"#);

    let mut bob = t.user("bob").await;
    let r = bob.get("/search?q=piscine").await;
    r.assert_status(StatusCode::OK)
        .assert_contains("0 document(s) trouvé(s)");
    assert!(!r.body.contains("rapport.txt"), "{}", r.body);
    // Another's space is filtered as an unknown one: the same page.
    let unknown = Uuid::now_v7().to_string();
    let theirs = bob.get(&format!("/search?q=piscine&space={s}")).await;
    let nowhere = bob.get(&format!("/search?q=piscine&space={unknown}")).await;
    assert_eq!(theirs.status, nowhere.status);
    assert_eq!(
        theirs.body.replace(&s, "ID"),
        nowhere.body.replace(&unknown, "ID")
    );
    assert!(!theirs.body.contains("Comptabilité"));
}

#[tokio::test]
async fn the_header_has_a_search_box_on_both_nodes() {
    let t = TestApp::internal().await;
    let mut alice = t.user("alice").await;
    for page in ["/spaces", "/search"] {
        alice
            .get(page)
            .await
            .assert_contains(r#"<form class="inline search-box" method="get" action="/search""#)
            .assert_contains(
                r#"<label for="search-q" class="sr-only">Rechercher dans les documents</label>"#,
            )
            .assert_contains(r#"type="search" name="q""#);
    }
    // An empty search explains what can be asked.
    alice
        .get("/search?q=")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("<code>piscin*</code>")
        .assert_contains("<code>montant_ttc:[10000 TO 20000]</code>");

    let edge = TestApp::edge();
    crate::edge::seed(&edge).await;
    let mut jean = crate::edge::contractor(&edge).await;
    jean.get("/spaces")
        .await
        .assert_contains(r#"action="/search""#)
        .assert_contains("Rechercher dans les documents");
    jean.get("/search?q=voirie")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains(r#"name="q" value="voirie""#);
    // Logged out: no box.
    let login = edge.browser().get("/login").await;
    assert!(!login.body.contains(r#"action="/search""#));
}

#[tokio::test]
async fn names_and_titles_come_out_escaped() {
    let t = TestApp::internal().await;
    let mut alice = t.user("alice").await;
    // Core refuses `<`, `>` and `"` in document names: the markup goes in
    // the space's title and the content, the name keeps `&` and `'`. (The
    // in-memory index gives no snippet: the snippet's own escaping and
    // `<mark>` are checked by the page module's unit test.)
    let s = alice.space("marches", "<script>alert(1)</script>").await;
    alice
        .upload(
            &s,
            "Devis & avenant 'n°2'.txt",
            b"Avenant <b>urgent</b> <script>alert(2)</script> piscine",
            "text/plain",
        )
        .await;
    t.index_now().await;
    let r = alice.get("/search?q=piscine").await;
    r.assert_status(StatusCode::OK)
        .assert_contains("Devis &#38; avenant &#39;n°2&#39;.txt")
        .assert_contains("&#60;script&#62;alert(1)&#60;/script&#62;");
    assert!(!r.body.contains("<script>alert"), "{}", r.body);
    assert!(!r.body.contains("<b>"), "{}", r.body);
}

#[tokio::test]
async fn facets_are_links_that_narrow_the_results() {
    let t = TestApp::internal().await;
    let (mut alice, s) = alice_with(&t).await;
    let f1 = alice
        .upload(&s, "f1.txt", b"marche voirie", "text/plain")
        .await;
    alice
        .upload(&s, "note.txt", b"marche voirie", "text/plain")
        .await;
    as_facture(&mut alice, &f1, "F-1", "12000.00").await;
    t.index_now().await;
    let all = alice.get("/search?q=voirie").await;
    all.assert_contains("2 document(s) trouvé(s)")
        .assert_contains("type=facture");
    let by_type = href_after(&all.body, r#"data-facet="type""#);
    assert!(by_type.contains("q=voirie&type=facture"), "{by_type}");
    let narrowed = alice.get(&by_type).await;
    narrowed
        .assert_status(StatusCode::OK)
        .assert_contains("1 document(s) trouvé(s)")
        .assert_contains("f1.txt")
        .assert_contains(r#"data-remove="type""#)
        .assert_contains(r#"name="min.montant_ttc""#);
    assert!(!narrowed.body.contains("note.txt"));
    // The removal link takes the filter away.
    let back = href_after(&narrowed.body, r#"data-facet="space""#);
    assert!(back.contains("space="), "{back}");
    let removed = href_after(&narrowed.body, "<p class=\"chosen\">");
    assert!(!removed.contains("type="), "{removed}");
    alice
        .get(&removed)
        .await
        .assert_contains("2 document(s) trouvé(s)");
    // The year facet.
    let by_year = href_after(&all.body, r#"data-facet="year""#);
    assert!(by_year.contains("year=20"), "{by_year}");
    alice
        .get(&by_year)
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("2 document(s) trouvé(s)");
}

#[tokio::test]
async fn a_types_metadata_filters_narrow_by_range() {
    let t = TestApp::internal().await;
    let (mut alice, s) = alice_with(&t).await;
    for (name, amount) in [("f1.txt", "12000.00"), ("f2.txt", "25000.00")] {
        let id = alice.upload(&s, name, b"facture", "text/plain").await;
        as_facture(&mut alice, &id, name, amount).await;
    }
    t.index_now().await;
    let names = |html: &str| {
        ["f1.txt", "f2.txt"]
            .into_iter()
            .filter(|n| html.contains(&format!(">{n}</a>")))
            .collect::<Vec<_>>()
    };
    let both = alice.get("/search?type=facture").await;
    assert_eq!(names(&both.body), ["f1.txt", "f2.txt"]);
    both.assert_contains(r#"name="max.montant_ttc""#)
        .assert_contains(r#"name="from.date_emission""#)
        .assert_contains(r#"name="meta.fournisseur""#)
        .assert_contains(r#"<select id="mf-payee" name="meta.payee">"#)
        .assert_contains(r#"<label for="mf-date_emission-min">Du</label>"#);
    let between = alice
        .get("/search?type=facture&min.montant_ttc=10000&max.montant_ttc=20000")
        .await;
    assert_eq!(names(&between.body), ["f1.txt"]);
    between.assert_contains(r#"name="min.montant_ttc" value="10000""#);
    let above = alice
        .get("/search?type=facture&min.montant_ttc=20000&max.montant_ttc=")
        .await;
    assert_eq!(names(&above.body), ["f2.txt"]);
    let below = alice
        .get("/search?type=facture&max.montant_ttc=20000")
        .await;
    assert_eq!(names(&below.body), ["f1.txt"]);
}

#[tokio::test]
async fn malformed_parameters_are_a_400_page_with_an_alert() {
    let t = TestApp::internal().await;
    let mut alice = t.user("alice").await;
    for (query, said) in [
        (
            "q=x&space=nope",
            "Un paramètre de la recherche n'est pas valide",
        ),
        ("q=x&sort=size", "Ce tri n'existe pas"),
        ("q=x&cursor=-1", "Cette page de résultats n'existe pas"),
        (
            "q=x&year=20x6",
            "Un paramètre de la recherche n'est pas valide",
        ),
    ] {
        alice
            .get(&format!("/search?{query}"))
            .await
            .assert_status(StatusCode::BAD_REQUEST)
            .assert_contains(r#"<p class="alert" role="alert">"#)
            .assert_contains(said)
            .assert_contains(r#"name="q" value="x""#);
    }
}

#[tokio::test]
async fn the_document_page_shows_the_extraction_status() {
    let t = TestApp::internal().await;
    let (mut alice, s) = alice_with(&t).await;
    let doc = alice
        .upload(&s, "rapport.txt", b"du texte", "text/plain")
        .await;
    alice
        .get(&format!("/documents/{doc}"))
        .await
        .assert_contains("Indexation en attente");
    t.index_now().await;
    alice
        .get(&format!("/documents/{doc}"))
        .await
        .assert_contains(r#"<dd id="extraction">Texte indexé</dd>"#);
    // In English, for a user who chose it.
    alice
        .submit("/spaces", "/lang", &[("lang", "en"), ("back", "/spaces")])
        .await;
    alice
        .get(&format!("/documents/{doc}"))
        .await
        .assert_contains(r#"<dd id="extraction">Text indexed</dd>"#);
}

#[tokio::test]
async fn extraction_problems_are_for_administrators_who_may_retry_them() {
    let t = TestApp::internal().await;
    let (mut alice, s) = alice_with(&t).await;
    let refused = alice.get("/admin/extractions").await;
    let users = alice.get("/admin/users").await;
    assert_eq!(refused.status, users.status);
    assert!(refused.status.is_client_error(), "{}", refused.status);

    t.agent("root", true).await;
    let mut root = t.browser();
    root.login("root", PASSWORD).await;
    root.get("/spaces")
        .await
        .assert_contains(r#"<a href="/admin/extractions">Extractions</a>"#);
    let empty = root.get("/admin/extractions").await;
    empty
        .assert_status(StatusCode::OK)
        .assert_contains("Aucun problème d'extraction.");
    assert!(!empty.body.contains(r#"id="extractions""#));

    let doc = alice
        .upload(
            &s,
            "photo.bin",
            b"\xff\xfe\x00\x01",
            "application/octet-stream",
        )
        .await;
    t.index_now().await;
    alice
        .get(&format!("/documents/{doc}"))
        .await
        .assert_contains("Format non indexé");
    let list = root.get("/admin/extractions").await;
    list.assert_contains(&format!(r#"<a href="/documents/{doc}">photo.bin</a>"#))
        .assert_contains("Format non indexé");
    let action = href_or_action(&list.body);
    root.submit("/admin/extractions", &action, &[])
        .await
        .assert_redirect_to("/admin/extractions?ok=extraction_retried");
    root.get("/admin/extractions?ok=extraction_retried")
        .await
        .assert_contains("L'extraction sera réessayée");
}

/// The retry form's action on the list.
fn href_or_action(html: &str) -> String {
    let marker = "action=\"/admin/extractions/";
    let at = html.find(marker).expect("a retry form") + "action=\"".len();
    let end = html[at..].find('"').expect("end");
    html[at..at + end].to_owned()
}

#[tokio::test]
async fn the_next_page_link_carries_the_cursor_and_the_chosen_sort() {
    let t = TestApp::internal().await;
    let (mut alice, s) = alice_with(&t).await;
    for name in ["a.txt", "b.txt"] {
        alice.upload(&s, name, b"voirie", "text/plain").await;
    }
    t.index_now().await;
    let first = alice.get("/search?q=voirie&sort=name&limit=1").await;
    first
        .assert_contains(r#"aria-current="true">nom"#)
        .assert_contains(">a.txt</a>");
    let next = href_after(&first.body, r#"id="next-page""#);
    assert!(
        next.contains("cursor=1") && next.contains("sort=name"),
        "{next}"
    );
    let second = alice.get(&next).await;
    second.assert_contains(">b.txt</a>");
    assert!(!second.body.contains(">a.txt</a>"));
    assert!(!second.body.contains(r#"id="next-page""#));
}
