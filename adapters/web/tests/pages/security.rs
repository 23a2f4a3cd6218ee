//! Sessions, CSRF, headers, redirects and static assets.

use axum::http::StatusCode;

use crate::support::*;

#[tokio::test]
async fn pages_without_a_session_redirect_to_the_login_page_and_back() {
    let t = TestApp::internal().await;
    let mut b = t.browser();
    b.get("/spaces/0190aaaa-0000-7000-8000-000000000000?folder=x")
        .await
        .assert_redirect_to(
            "/login?next=/spaces/0190aaaa-0000-7000-8000-000000000000%3Ffolder%3Dx",
        );
    b.get("/").await.assert_redirect_to("/spaces");
    t.agent("marie", false).await;
    let csrf = b.get("/login?next=/spaces%3Fok%3Dx").await.csrf();
    b.post(
        "/login",
        &[
            ("_csrf", &csrf),
            ("login", "marie"),
            ("password", PASSWORD),
            ("next", "/spaces?ok=x"),
        ],
    )
    .await
    .assert_redirect_to("/spaces?ok=x");
}

#[tokio::test]
async fn login_refuses_a_foreign_next_and_a_missing_form_token() {
    let t = TestApp::internal().await;
    t.agent("marie", false).await;
    let mut b = t.browser();
    // No form token cookie/field pair: a cross-site login attempt.
    b.post("/login", &[("login", "marie"), ("password", PASSWORD)])
        .await
        .assert_status(StatusCode::FORBIDDEN)
        .assert_contains("Le formulaire a expiré");
    let csrf = b.get("/login").await.csrf();
    b.post(
        "/login",
        &[
            ("_csrf", &csrf),
            ("login", "marie"),
            ("password", PASSWORD),
            ("next", "//evil.example/x"),
        ],
    )
    .await
    .assert_redirect_to("/spaces");
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_with_a_message() {
    let t = TestApp::internal().await;
    t.agent("marie", false).await;
    let mut b = t.browser();
    let r = b.login("marie", "not the password").await;
    r.assert_status(StatusCode::UNAUTHORIZED)
        .assert_contains("Identifiant ou mot de passe incorrect")
        .assert_contains("value=\"marie\"");
    assert!(!b.cookies.contains_key("passerelle_session"));
}

#[tokio::test]
async fn login_sets_a_strict_http_only_session_and_logout_ends_it() {
    let t = TestApp::internal().await;
    t.agent("marie", false).await;
    let mut b = t.browser();
    let r = b.login("marie", PASSWORD).await;
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("passerelle_session="))
        .expect("session cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = b.cookies["passerelle_session"].clone();
    // Logout needs the CSRF token.
    b.post("/logout", &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    b.submit("/spaces", "/logout", &[])
        .await
        .assert_redirect_to("/login");
    assert!(!b.cookies.contains_key("passerelle_session"));
    b.cookies.insert("passerelle_session".into(), session);
    b.get("/spaces").await.assert_redirect_to("/login");
    // A form posted with the ended session: to the login page, then to
    // "Mes espaces" (a POST cannot be replayed as a GET).
    b.post("/spaces", &[("_csrf", "x"), ("slug", "xx"), ("title", "X")])
        .await
        .assert_redirect_to("/login?next=/");
}

#[tokio::test]
async fn a_form_without_the_session_token_is_refused_and_changes_nothing() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    b.post("/spaces", &[("slug", "x"), ("title", "X")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    b.post(
        "/spaces",
        &[("_csrf", "forged"), ("slug", "x"), ("title", "X")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    b.get("/spaces")
        .await
        .assert_contains("Vous n'êtes membre d'aucun espace");
    // Another user's token does not work either.
    let mut other = t.user("paul").await;
    let foreign = other.get("/spaces").await.csrf();
    b.post(
        "/spaces",
        &[("_csrf", &foreign), ("slug", "x"), ("title", "X")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn pages_carry_a_strict_policy_and_never_inline_script_or_style() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("finances", "Finances").await;
    for path in [
        "/login".to_owned(),
        "/spaces".to_owned(),
        format!("/spaces/{id}"),
        format!("/spaces/{id}/members"),
    ] {
        let r = b.get(&path).await;
        r.assert_status(StatusCode::OK);
        let csp = r.header("content-security-policy");
        assert!(
            csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"),
            "{path}: {csp}"
        );
        assert_eq!(r.header("x-frame-options"), "DENY");
        assert_eq!(r.header("x-content-type-options"), "nosniff");
        assert_eq!(r.header("cache-control"), "no-store");
        assert!(
            !r.body.contains("<script>")
                && !r.body.contains(" style=")
                && !r.body.contains("<style"),
            "{path}"
        );
        for handler in [
            " onclick=",
            " onload=",
            " onsubmit=",
            " onchange=",
            "javascript:",
        ] {
            assert!(!r.body.contains(handler), "{path} has {handler}");
        }
    }
}

#[tokio::test]
async fn the_embeddable_view_may_be_framed_by_the_configured_portal_only() {
    let t = TestApp::internal().await;
    let mut b = t.user("marie").await;
    let id = b.space("finances", "Finances").await;
    b.upload(&id, "budget.txt", b"budget", "text/plain").await;
    let r = b.get(&format!("/embed/spaces/{id}")).await;
    r.assert_status(StatusCode::OK)
        .assert_contains("budget.txt");
    assert!(
        r.header("content-security-policy")
            .contains("frame-ancestors https://intranet.example.fr")
    );
    assert_eq!(r.header("x-frame-options"), "");
    // Not the rest of the site.
    assert!(
        b.get(&format!("/spaces/{id}"))
            .await
            .header("content-security-policy")
            .contains("frame-ancestors 'none'")
    );
}

#[tokio::test]
async fn assets_are_served_under_hashed_names_with_a_long_cache() {
    let t = TestApp::internal().await;
    let mut b = t.browser();
    let page = b.get("/login").await;
    let at = page.body.find("href=\"/static/app.").expect("css link");
    let rest = &page.body[at + 6..];
    let css = &rest[..rest.find('"').expect("end")];
    let r = b.get(css).await;
    r.assert_status(StatusCode::OK);
    assert!(r.header("content-type").starts_with("text/css"));
    assert!(r.header("cache-control").contains("immutable"));
    assert!(r.body.contains(":focus-visible"));
    b.get("/static/app.000000000000.css")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    b.get("/static/../Cargo.toml")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_edge_serves_contractor_pages_only() {
    let t = TestApp::edge();
    let mut b = t.browser();
    b.get("/login")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Espace partenaires");
    b.get("/invitation")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("data-from-fragment");
    for path in [
        "/admin/users",
        "/spaces/0190aaaa-0000-7000-8000-000000000000/members",
        "/embed/spaces/0190aaaa-0000-7000-8000-000000000000",
    ] {
        let r = b.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn an_invitation_needs_matching_passwords_a_valid_code_and_the_form_token() {
    let t = TestApp::edge();
    let mut b = t.browser();
    b.post(
        "/invitation",
        &[("secret", "x"), ("password", "p"), ("confirm", "p")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    let csrf = b.get("/invitation").await.csrf();
    b.post(
        "/invitation",
        &[
            ("_csrf", &csrf),
            ("secret", "abc"),
            ("password", "un mot de passe long"),
            ("confirm", "autre chose"),
        ],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains("ne sont pas identiques");
    let csrf = b.get("/invitation").await.csrf();
    let r = b
        .post(
            "/invitation",
            &[
                ("_csrf", &csrf),
                ("secret", "no-such-code"),
                ("password", "un mot de passe long"),
                ("confirm", "un mot de passe long"),
            ],
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    r.assert_contains("inconnue, expirée ou déjà utilisée");
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled_with_a_message() {
    let t = TestApp::internal().await;
    t.agent("marie", false).await;
    let mut b = t.browser();
    for _ in 0..5 {
        b.login("marie", "wrong password")
            .await
            .assert_status(StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now.
    b.login("marie", PASSWORD)
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS)
        .assert_contains("Trop de tentatives");
    assert!(!b.cookies.contains_key("passerelle_session"));
}

#[tokio::test]
async fn repeated_unknown_invitation_codes_are_throttled() {
    let t = TestApp::edge();
    let mut b = t.browser();
    let form = |code: &'static str| {
        [
            ("secret", code),
            ("password", "un mot de passe long"),
            ("confirm", "un mot de passe long"),
        ]
    };
    for _ in 0..5 {
        let r = b
            .submit("/invitation", "/invitation", &form("pas-un-code"))
            .await;
        r.assert_status(StatusCode::NOT_FOUND);
    }
    b.submit("/invitation", "/invitation", &form("pas-un-code"))
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS)
        .assert_contains("Trop de tentatives");
}
