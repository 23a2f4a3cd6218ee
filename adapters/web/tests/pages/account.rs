//! The user's own account pages: app passwords for WebDAV clients, and
//! an agent's own second factor (ADR 0012 §7).

use axum::http::StatusCode;

use crate::support::*;

fn secret_in(html: &str) -> String {
    let at = html
        .find("id=\"app-password-secret\">")
        .expect("the new secret is on the page");
    let rest = &html[at + "id=\"app-password-secret\">".len()..];
    rest[..rest.find('<').expect("end of code")].to_owned()
}

#[tokio::test]
async fn an_agent_creates_an_app_password_sees_it_once_and_revokes_it() {
    let t = TestApp::internal().await;
    let mut paul = t.user("paul").await;
    paul.get("/spaces")
        .await
        .assert_contains("href=\"/account/app-passwords\"");
    let created = paul
        .submit(
            "/account/app-passwords",
            "/account/app-passwords",
            &[("name", "LibreOffice, poste 12")],
        )
        .await;
    created
        .assert_status(StatusCode::OK)
        .assert_contains("id=\"app-password-login\">paul<");
    let secret = secret_in(&created.body);
    assert!(secret.starts_with("psr_app_"), "{secret}");
    t.app
        .authenticate_basic("paul", &secret, None)
        .await
        .expect("the secret opens WebDAV");
    // Shown once: the list names the device, never the secret again.
    let list = paul.get("/account/app-passwords").await;
    list.assert_contains("LibreOffice, poste 12");
    assert!(!list.body.contains(&secret));

    // A name with only spaces: the form says what is wrong, nothing made.
    paul.submit(
        "/account/app-passwords",
        "/account/app-passwords",
        &[("name", "   ")],
    )
    .await
    .assert_redirect_to("/account/app-passwords?err=invalid_app_password_name");

    let form = list
        .body
        .split("action=\"/account/app-passwords/")
        .nth(1)
        .expect("a revoke form");
    let id = &form[..form.find('/').expect("id then /revoke")];
    // Another user's revoke form finds nothing.
    let mut anne = t.user("anne").await;
    anne.submit(
        "/account/app-passwords",
        &format!("/account/app-passwords/{id}/revoke"),
        &[],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    paul.submit(
        "/account/app-passwords",
        &format!("/account/app-passwords/{id}/revoke"),
        &[],
    )
    .await
    .assert_redirect_to("/account/app-passwords?ok=app_password_revoked");
    paul.get("/account/app-passwords")
        .await
        .assert_contains("révoqué");
    assert!(
        t.app
            .authenticate_basic("paul", &secret, None)
            .await
            .is_err()
    );
}

/// The WebDAV help page as reached at `host`.
async fn webdav_page(b: &mut Browser, host: &str) -> Reply {
    let req = axum::http::Request::get("/account/webdav")
        .header("host", host)
        .body(axum::body::Body::empty())
        .expect("request");
    b.send(req).await
}

#[tokio::test]
async fn the_webdav_page_gives_an_agent_the_addresses_and_the_app_passwords() {
    let t = TestApp::internal().await;
    let mut paul = t.user("paul").await;
    paul.space("voirie", "Voirie 2027").await;
    paul.get("/spaces")
        .await
        .assert_contains("href=\"/account/webdav\"");
    let page = webdav_page(&mut paul, "127.0.0.1:8080").await;
    page.assert_status(StatusCode::OK)
        .assert_contains("id=\"dav-url\">http://127.0.0.1:8080/dav/<")
        .assert_contains("id=\"dav-login\">paul<")
        .assert_contains("vnd.sun.star.webdav://127.0.0.1:8080/dav/")
        .assert_contains("http://127.0.0.1:8080/dav/voirie/")
        .assert_contains("href=\"/account/app-passwords\"");
    // Loopback: no warning. Reached in clear from elsewhere: one, since
    // clients will not send a password there.
    assert!(!page.body.contains("role=\"alert\""), "{}", page.body);
    webdav_page(&mut paul, "ged.metropole.fr")
        .await
        .assert_contains("http://ged.metropole.fr/dav/")
        .assert_contains("role=\"alert\"");
    // A Host header that is not a host shows no address built from it.
    let odd = webdav_page(&mut paul, "evil\"><script>").await;
    odd.assert_status(StatusCode::OK);
    assert!(!odd.body.contains("<script>"), "{}", odd.body);
}

/// The text of the element `id` on `html`.
fn text_of(html: &str, id: &str) -> String {
    let open = format!("id=\"{id}\">");
    let at = html
        .find(&open)
        .unwrap_or_else(|| panic!("#{id} on {html}"));
    let rest = &html[at + open.len()..];
    rest[..rest.find('<').expect("end of element")].to_owned()
}

#[tokio::test]
async fn an_agent_turns_on_a_second_factor_from_the_account_page_and_off_with_the_password() {
    let settings = passerelle_core::CoreSettings {
        second_factor: passerelle_core::second_factor::SecondFactorPolicy::Optional,
        ..passerelle_core::CoreSettings::default()
    };
    let t = TestApp::with(settings, passerelle_http_common::HttpConfig::default()).await;
    let mut paul = t.user("paul").await;
    const HERE: &str = "/account/second-factor";
    paul.get("/spaces")
        .await
        .assert_contains("href=\"/account/second-factor\"");
    paul.get(HERE).await.assert_contains("id=\"enable\"");
    let shown = paul.submit(HERE, HERE, &[]).await;
    shown
        .assert_status(StatusCode::OK)
        .assert_contains("id=\"qr\"")
        .assert_contains("<svg");
    assert_eq!(shown.header(axum::http::header::CACHE_CONTROL), "no-store");
    let secret = text_of(&shown.body, "secret");
    let code = passerelle_testing::edge_login::totp_code(&secret).expect("code");
    let wrong = if code == "000000" { "000001" } else { "000000" };
    // A wrong code: the same key again, saying why.
    let again = paul
        .submit(HERE, "/account/second-factor/confirm", &[("code", wrong)])
        .await;
    again.assert_status(StatusCode::OK);
    assert_eq!(text_of(&again.body, "secret"), secret);
    assert!(again.body.contains("id=\"code-error\""));
    let done = paul
        .submit(HERE, "/account/second-factor/confirm", &[("code", &code)])
        .await;
    done.assert_status(StatusCode::OK)
        .assert_contains("id=\"recovery-codes\"");
    assert_eq!(done.header(axum::http::header::CACHE_CONTROL), "no-store");
    paul.get(HERE)
        .await
        .assert_contains("id=\"second-factor-on\"");
    // The login now asks for a code.
    let mut other = t.browser();
    other
        .login("paul", PASSWORD)
        .await
        .assert_redirect_to("/login/code");
    // Off with the password; a wrong one is refused.
    paul.submit(
        HERE,
        "/account/second-factor/disable",
        &[("code", ""), ("password", "not it")],
    )
    .await
    .assert_redirect_to("/account/second-factor?err=wrong_proof");
    paul.submit(
        HERE,
        "/account/second-factor/disable",
        &[("code", ""), ("password", PASSWORD)],
    )
    .await
    .assert_redirect_to("/account/second-factor?ok=second_factor_disabled");
    t.browser()
        .login("paul", PASSWORD)
        .await
        .assert_redirect_to("/spaces");
}
