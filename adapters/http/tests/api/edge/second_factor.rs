//! The second factor through the edge's API (ADR 0012): the password
//! answers 401 with a challenge, enrolment gives the secret and the URI,
//! a first code opens the session and returns the recovery codes once;
//! later logins take a code; bad challenges and wrong codes are refused
//! with stable codes; app passwords for WebDAV, which the password alone
//! no longer opens.

use passerelle_core::CoreSettings;
use passerelle_core::second_factor::{SecondFactorPolicy, code_at};

use super::*;

fn strict() -> TestApp<EdgeApp> {
    TestApp::edge_with(CoreSettings {
        second_factor: SecondFactorPolicy::Required,
        ..CoreSettings::default()
    })
}

async fn post(t: &TestApp<EdgeApp>, uri: &str, body: Value) -> Reply {
    t.send(json(Method::POST, uri, &body)).await
}

fn secret_of(text: &str) -> Vec<u8> {
    passerelle_testing::edge_login::secret_bytes(text).expect("base32")
}

#[tokio::test]
async fn a_contractor_enrols_then_logs_in_with_a_code_through_the_api() {
    let t = strict();
    let seeded = seed(&t).await;
    assert_eq!(
        accept(&t, &seeded.writer_secret, PASSWORD).await.status,
        StatusCode::OK
    );

    let first = post(
        &t,
        "/api/v1/auth/login",
        json!({ "login": WRITER, "password": PASSWORD }),
    )
    .await;
    first.assert_problem(StatusCode::UNAUTHORIZED, "second_factor_enrolment");
    assert!(
        first.header(header::SET_COOKIE).is_empty(),
        "no session yet"
    );
    let challenge = first.json()["challenge"]
        .as_str()
        .expect("challenge")
        .to_owned();

    // A made-up challenge, or the wrong step: the password again.
    post(
        &t,
        "/api/v1/auth/login/enrolment",
        json!({ "challenge": "0".repeat(64) }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "challenge_expired");
    post(
        &t,
        "/api/v1/auth/login/code",
        json!({ "challenge": challenge, "code": "123456" }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "challenge_expired");

    let shown = post(
        &t,
        "/api/v1/auth/login/enrolment",
        json!({ "challenge": challenge }),
    )
    .await;
    assert_eq!(shown.status, StatusCode::OK);
    let uri = shown.json()["uri"].as_str().expect("uri").to_owned();
    assert!(uri.starts_with("otpauth://totp/Passerelle:"), "{uri}");
    let secret = secret_of(shown.json()["secret"].as_str().expect("secret"));
    assert!(uri.contains(&format!(
        "secret={}",
        shown.json()["secret"].as_str().expect("s").replace(' ', "")
    )));
    let now = time::OffsetDateTime::now_utc();
    let wrong = if code_at(&secret, now) == "000000" {
        "000001"
    } else {
        "000000"
    };
    post(
        &t,
        "/api/v1/auth/login/enrolment/confirm",
        json!({ "challenge": challenge, "code": wrong }),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let enrolled = post(
        &t,
        "/api/v1/auth/login/enrolment/confirm",
        json!({ "challenge": challenge, "code": code_at(&secret, now) }),
    )
    .await;
    assert_eq!(
        enrolled.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&enrolled.body)
    );
    assert!(
        enrolled
            .header(header::SET_COOKIE)
            .starts_with("passerelle_session=")
    );
    let body = enrolled.json();
    assert_eq!(body["recovery_codes"].as_array().map(Vec::len), Some(10));
    assert_eq!(body["login"]["user"]["login"], WRITER);
    let cookie = enrolled
        .header(header::SET_COOKIE)
        .split(';')
        .next()
        .expect("cookie")
        .to_owned();
    let s = Session {
        cookie,
        csrf: body["login"]["csrf_token"]
            .as_str()
            .expect("csrf")
            .to_owned(),
    };
    let me = t.send(get("/api/v1/auth/me", &s)).await;
    assert_eq!(me.status, StatusCode::OK);

    // An app password for WebDAV clients, which cannot give a code.
    let made = t
        .send(with_session(
            json(
                Method::POST,
                "/api/v1/app-passwords",
                &json!({ "name": "LibreOffice" }),
            ),
            &s,
        ))
        .await;
    assert_eq!(
        made.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&made.body)
    );

    // The next login asks for a code; a recovery code works once.
    let again = post(
        &t,
        "/api/v1/auth/login",
        json!({ "login": WRITER, "password": PASSWORD }),
    )
    .await;
    again.assert_problem(StatusCode::UNAUTHORIZED, "second_factor_required");
    let c = again.json()["challenge"]
        .as_str()
        .expect("challenge")
        .to_owned();
    let recovery = body["recovery_codes"][0].as_str().expect("code").to_owned();
    let in_again = post(
        &t,
        "/api/v1/auth/login/code",
        json!({ "challenge": c, "code": recovery }),
    )
    .await;
    assert_eq!(in_again.status, StatusCode::OK);
    let once_more = post(
        &t,
        "/api/v1/auth/login",
        json!({ "login": WRITER, "password": PASSWORD }),
    )
    .await;
    let c = once_more.json()["challenge"]
        .as_str()
        .expect("challenge")
        .to_owned();
    post(
        &t,
        "/api/v1/auth/login/code",
        json!({ "challenge": c, "code": recovery }),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
}
