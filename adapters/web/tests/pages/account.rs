//! The user's own account pages: app passwords for WebDAV clients.

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
