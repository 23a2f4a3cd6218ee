//! Redirect targets taken from forms and queries (`back` of the language
//! switch, `next` of the login) stay on this site and never fail (issue 11).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::support::*;

/// Targets that browsers would resolve to another site (they drop TAB, CR
/// and LF, read `\` as `/`), or that are no valid header value (DEL).
const FOREIGN: &[&str] = &[
    "/\t/evil.example/",
    "/\\evil.example",
    "//evil.example",
    "https://evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    "/\x7f",
];

/// The same attacks as a raw form body or query would carry them.
const FOREIGN_ENCODED: &[&str] = &[
    "/%09/evil.example/",
    "/%5Cevil.example",
    "%2F%2Fevil.example",
    "https%3A%2F%2Fevil.example",
    "/%7F",
];

/// Posts `body` as is (already URL-encoded), as a hand-made form would.
async fn post_raw(b: &mut Browser, uri: &str, body: String) -> Reply {
    b.send(
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request"),
    )
    .await
}

#[track_caller]
fn assert_sent_to(r: &Reply, expected: &str, sent: &str) {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{sent:?}: {}", r.body);
    assert_eq!(r.location(), expected, "{sent:?}");
}

#[tokio::test]
async fn the_language_switch_without_a_session_never_sends_to_another_site() {
    let t = TestApp::internal().await;
    let mut b = t.browser();
    for back in FOREIGN {
        let r = b.post("/lang", &[("lang", "en"), ("back", back)]).await;
        assert_sent_to(&r, "/spaces", back);
    }
    for back in FOREIGN_ENCODED {
        let r = post_raw(&mut b, "/lang", format!("lang=en&back={back}")).await;
        assert_sent_to(&r, "/spaces", back);
    }
    // A percent escape is not decoded when the browser resolves the
    // target: `/%09/evil.example` is a path on this site.
    let r = b
        .post("/lang", &[("lang", "en"), ("back", "/%09/evil.example")])
        .await;
    assert_sent_to(&r, "/%09/evil.example", "/%2509/evil.example");
    let r = b
        .post("/lang", &[("lang", "en"), ("back", "/spaces?ok=x")])
        .await;
    assert_sent_to(&r, "/spaces?ok=x", "/spaces?ok=x");
}

#[tokio::test]
async fn the_language_switch_of_a_session_never_sends_to_another_site() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    for back in FOREIGN {
        let r = b
            .submit("/spaces", "/lang", &[("lang", "en"), ("back", back)])
            .await;
        assert_sent_to(&r, "/spaces", back);
    }
}

#[tokio::test]
async fn login_never_sends_to_another_site_whatever_its_next() {
    let t = TestApp::internal().await;
    t.agent("marie", false).await;
    for next in FOREIGN {
        let mut b = t.browser();
        let r = b
            .submit(
                "/login",
                "/login",
                &[("login", "marie"), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_sent_to(&r, "/spaces", next);
    }
    for next in FOREIGN_ENCODED {
        let mut b = t.browser();
        let csrf = b.get("/login").await.csrf();
        let body = format!(
            "_csrf={csrf}&login=marie&password={}&next={next}",
            enc(PASSWORD)
        );
        let r = post_raw(&mut b, "/login", body).await;
        assert_sent_to(&r, "/spaces", next);
    }
}

#[tokio::test]
async fn the_login_page_drops_a_foreign_next_from_its_query() {
    let t = TestApp::internal().await;
    t.agent("marie", false).await;
    for next in FOREIGN_ENCODED
        .iter()
        .chain(&["//evil.example", "/%5C%5Cevil.example"])
    {
        let mut b = t.browser();
        let page = b.get(&format!("/login?next={next}")).await;
        page.assert_status(StatusCode::OK);
        assert_eq!(
            field_value(&page.body, "next").as_deref(),
            Some(""),
            "{next}"
        );
        // The form as the page gives it: to "Mes espaces".
        let r = b
            .submit(
                &format!("/login?next={next}"),
                "/login",
                &[("login", "marie"), ("password", PASSWORD), ("next", "")],
            )
            .await;
        assert_sent_to(&r, "/spaces", next);
    }
    let page = t.browser().get("/login?next=/spaces%3Fok%3Dx").await;
    assert_eq!(
        field_value(&page.body, "next").as_deref(),
        Some("/spaces?ok=x")
    );
}
