//! The second-factor pages on an edge that requires it (ADR 0012): the
//! password leads to enrolment (QR code inline, the key as text, no
//! script), a wrong code says so on the same page, a right one shows the
//! recovery codes once (not cached) and opens the session; the next login
//! asks a code; a step whose cookie is gone, or a made-up one, goes back
//! to the password, saying why.

use passerelle_core::CoreSettings;
use passerelle_core::second_factor::{SecondFactorPolicy, code_at};

use super::*;

fn key_of(page: &str) -> Vec<u8> {
    let start = page.find("id=\"secret\">").expect("secret") + "id=\"secret\">".len();
    let text: String = page[start..]
        .chars()
        .take_while(|c| *c != '<')
        .filter(|c| !c.is_whitespace())
        .collect();
    passerelle_testing::edge_login::secret_bytes(&text).expect("base32")
}

#[tokio::test]
async fn a_contractor_enrols_on_the_pages_then_gives_a_code() {
    let t = TestApp::edge_with(CoreSettings {
        second_factor: SecondFactorPolicy::Required,
        ..CoreSettings::default()
    });
    seed(&t).await;
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
    b.login(CONTRACTOR, PASSWORD_OF_JEAN)
        .await
        .assert_redirect_to("/login/enrol");
    // No session yet.
    b.get("/spaces")
        .await
        .assert_redirect_to("/login?next=/spaces");

    let enrol = b.get("/login/enrol").await;
    enrol.assert_contains("<svg aria-hidden=\"true\"");
    // The QR code is drawn by the server: no inline script (the page's
    // one script is the site's own file, as on every page).
    assert!(
        enrol
            .body
            .match_indices("<script")
            .all(|(i, _)| enrol.body[i..].starts_with("<script src=")),
        "no inline script"
    );
    let key = key_of(&enrol.body);
    let now = time::OffsetDateTime::now_utc();
    let wrong = if code_at(&key, now) == "000000" {
        "000001"
    } else {
        "000000"
    };
    let refused = b
        .submit(
            "/login/enrol",
            "/login/enrol",
            &[("code", wrong), ("next", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    refused.assert_contains("Code incorrect");
    let done = b
        .submit(
            "/login/enrol",
            "/login/enrol",
            &[("code", &code_at(&key, now)), ("next", "")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.header("cache-control"), "no-store");
    assert_eq!(
        done.body.matches("<li><code>").count(),
        10,
        "ten recovery codes"
    );
    b.get("/spaces").await.assert_contains("Voirie 2027");

    // Logged out, back in: a code is asked; a made-up step is over.
    let mut again = t.browser();
    again
        .login(CONTRACTOR, PASSWORD_OF_JEAN)
        .await
        .assert_redirect_to("/login/code");
    let mut stranger = t.browser();
    stranger
        .submit(
            "/login/code",
            "/login/code",
            &[("code", "123456"), ("next", "")],
        )
        .await
        .assert_redirect_to("/login?err=challenge_expired");
    stranger
        .get("/login?err=challenge_expired")
        .await
        .assert_contains("Cette étape de connexion a expiré");
}
