//! Languages: French by default, English by Accept-Language or the footer's
//! choice; every key the templates and handlers use is in both catalogues.

use axum::http::StatusCode;
use passerelle_web::i18n::{Lang, Tr, keys};

use crate::support::*;

/// Every `"area.key"` literal passed to the catalogue in templates and code.
fn used_keys() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["templates", "src", "src/pages"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            for marker in ["s(\"", "f(\"", "lookup(\""] {
                for (at, _) in text.match_indices(marker) {
                    let rest = &text[at + marker.len()..];
                    let key = &rest[..rest.find('"').expect("end quote")];
                    if key.contains('.') && !key.contains('{') {
                        out.push(key.to_owned());
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn every_key_used_exists_in_both_catalogues() {
    let used = used_keys();
    assert!(used.len() > 100, "found only {} keys", used.len());
    for lang in [Lang::Fr, Lang::En] {
        let have = keys(lang);
        let missing: Vec<_> = used
            .iter()
            .filter(|k| !have.contains(&k.as_str()))
            .collect();
        assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
    }
    assert_eq!(keys(Lang::Fr), keys(Lang::En));
    // And every role and error code core may give has a message.
    for code in [
        "not_found",
        "forbidden",
        "name_taken",
        "invalid_name",
        "last_manager",
        "csrf",
        "weak_password",
    ] {
        assert_ne!(
            Tr::new(Lang::En).error(code),
            Tr::new(Lang::En).s("error.generic"),
            "{code}"
        );
    }
}

#[tokio::test]
async fn english_follows_accept_language_and_the_footer_choice_sticks() {
    let t = TestApp::internal().await;
    let mut b = t.browser();
    b.get("/login")
        .await
        .assert_contains("<html lang=\"fr\">")
        .assert_contains("Se connecter");
    b.accept_language = Some("en-GB,en;q=0.9,fr;q=0.5");
    b.get("/login")
        .await
        .assert_contains("<html lang=\"en\">")
        .assert_contains(">Log in<");
    b.accept_language = None;
    b.post("/lang", &[("lang", "en"), ("back", "/login")])
        .await
        .assert_redirect_to("/login");
    b.get("/login").await.assert_contains("<html lang=\"en\">");
    // A foreign `back` is not followed.
    b.post(
        "/lang",
        &[("lang", "fr"), ("back", "https://evil.example/")],
    )
    .await
    .assert_redirect_to("/spaces");
    b.get("/login").await.assert_contains("<html lang=\"fr\">");
    // Error pages speak the user's language too.
    b.cookies.remove("passerelle_lang");
    b.accept_language = Some("en");
    t.agent("marie", false).await;
    b.login("marie", PASSWORD).await;
    b.get("/documents/0190aaaa-0000-7000-8000-000000000000")
        .await
        .assert_status(StatusCode::NOT_FOUND)
        .assert_contains("Page not found.");
}

#[tokio::test]
async fn the_footer_choice_is_saved_on_the_account_and_follows_the_user() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    b.accept_language = Some("fr");
    // Without the session's token only this browser's cookie changes.
    b.post("/lang", &[("lang", "en"), ("back", "/spaces")])
        .await
        .assert_redirect_to("/spaces");
    let mut fresh = t.browser();
    fresh.login("marie", PASSWORD).await;
    fresh
        .get("/spaces")
        .await
        .assert_contains("<html lang=\"fr\">");
    // With it, the account keeps the choice: another browser (no cookie,
    // Accept-Language French) gets English after logging in.
    b.submit("/spaces", "/lang", &[("lang", "en"), ("back", "/spaces")])
        .await
        .assert_redirect_to("/spaces");
    let mut other = t.browser();
    other.accept_language = Some("fr-FR,fr;q=0.9");
    other
        .get("/login")
        .await
        .assert_contains("<html lang=\"fr\">");
    other.login("marie", PASSWORD).await;
    other
        .get("/spaces")
        .await
        .assert_contains("<html lang=\"en\">")
        .assert_contains("My spaces");
    // The setting wins over a cookie saying otherwise…
    other.cookies.insert("passerelle_lang".into(), "fr".into());
    other
        .get("/spaces")
        .await
        .assert_contains("<html lang=\"en\">");
    // …and is the user's own: another user still follows Accept-Language.
    let mut paul = t.user("paul").await;
    paul.accept_language = Some("fr");
    paul.get("/spaces")
        .await
        .assert_contains("<html lang=\"fr\">");
    // Back to French from the footer, saved again.
    other
        .submit("/spaces", "/lang", &[("lang", "fr"), ("back", "/spaces")])
        .await;
    let mut third = t.browser();
    third.accept_language = Some("en");
    third.login("marie", PASSWORD).await;
    third
        .get("/spaces")
        .await
        .assert_contains("<html lang=\"fr\">");
}
