//! Sessions, CSRF, bearer tokens, throttling.

use axum::http::{Method, StatusCode, header};
use passerelle_core::CoreSettings;
use passerelle_http::HttpConfig;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn login_sets_a_hardened_session_cookie_and_returns_a_csrf_token() {
    let t = TestApp::new().await;
    t.agent("alice", false).await;
    let r = t
        .send(json(
            Method::POST,
            "/api/v1/auth/login",
            &json!({"login": "alice", "password": PASSWORD}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let cookie = r.header(header::SET_COOKIE);
    assert!(cookie.starts_with("passerelle_session="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Secure"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    let body = r.json();
    assert_eq!(body["user"]["login"], "alice");
    assert!(body["csrf_token"].as_str().is_some_and(|c| c.len() >= 16));
    assert!(
        !String::from_utf8_lossy(&r.body).contains("argon2"),
        "no password hash in {body}"
    );
}

#[tokio::test]
async fn cookies_are_not_secure_when_configured_off() {
    let config = HttpConfig {
        secure_cookies: false,
        ..HttpConfig::default()
    };
    let t = TestApp::with(CoreSettings::default(), config).await;
    t.agent("alice", false).await;
    let r = t
        .send(json(
            Method::POST,
            "/api/v1/auth/login",
            &json!({"login": "alice", "password": PASSWORD}),
        ))
        .await;
    assert!(!r.header(header::SET_COOKIE).contains("Secure"));
}

#[tokio::test]
async fn each_login_opens_a_new_session_and_ends_the_one_the_client_held() {
    let t = TestApp::new().await;
    let first = t.user("alice").await;
    let login = json(
        Method::POST,
        "/api/v1/auth/login",
        &json!({"login": "alice", "password": PASSWORD}),
    );
    let r = t.send(with_cookie_only(login, &first)).await;
    let second = session_of(&r);
    assert_ne!(first.cookie, second.cookie);
    assert_ne!(first.csrf, second.csrf);
    let old = t
        .send(with_session(empty(Method::GET, "/api/v1/auth/me"), &first))
        .await;
    old.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let new = t
        .send(with_session(empty(Method::GET, "/api/v1/auth/me"), &second))
        .await;
    assert_eq!(new.status, StatusCode::OK);
    assert_eq!(new.json()["csrf_token"], second.csrf.as_str());
}

#[tokio::test]
async fn logout_ends_the_session_and_clears_the_cookie() {
    let t = TestApp::new().await;
    let s = t.user("alice").await;
    let r = t
        .send(with_session(empty(Method::POST, "/api/v1/auth/logout"), &s))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let cleared = r.header(header::SET_COOKIE);
    assert!(
        cleared.starts_with("passerelle_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let after = t
        .send(with_session(empty(Method::GET, "/api/v1/auth/me"), &s))
        .await;
    after.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn logout_of_a_live_session_needs_its_csrf_token() {
    let t = TestApp::new().await;
    let s = t.user("alice").await;
    let r = t
        .send(with_cookie_only(
            empty(Method::POST, "/api/v1/auth/logout"),
            &s,
        ))
        .await;
    r.assert_problem(StatusCode::FORBIDDEN, "csrf");
    let still = t
        .send(with_session(empty(Method::GET, "/api/v1/auth/me"), &s))
        .await;
    assert_eq!(still.status, StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_password_is_refused_without_saying_why() {
    let t = TestApp::new().await;
    t.agent("alice", false).await;
    let wrong = t
        .send(json(
            Method::POST,
            "/api/v1/auth/login",
            &json!({"login": "alice", "password": "not the password"}),
        ))
        .await;
    let unknown = t
        .send(json(
            Method::POST,
            "/api/v1/auth/login",
            &json!({"login": "nobody", "password": PASSWORD}),
        ))
        .await;
    let a = wrong.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let b = unknown.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(a["detail"], b["detail"]);
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn cookie_writes_without_the_csrf_header_are_refused() {
    let t = TestApp::new().await;
    let s = t.user("alice").await;
    let body = json!({"slug": "travaux", "title": "Travaux"});
    let none = t
        .send(with_cookie_only(
            json(Method::POST, "/api/v1/spaces", &body),
            &s,
        ))
        .await;
    none.assert_problem(StatusCode::FORBIDDEN, "csrf");
    let forged = with_header(
        with_cookie_only(json(Method::POST, "/api/v1/spaces", &body), &s),
        "x-csrf-token",
        "0123456789abcdef0123456789abcdef",
    );
    t.send(forged)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "csrf");
    let good = t
        .send(with_session(
            json(Method::POST, "/api/v1/spaces", &body),
            &s,
        ))
        .await;
    assert_eq!(good.status, StatusCode::CREATED);
}

#[tokio::test]
async fn cookie_reads_need_no_csrf_header() {
    let t = TestApp::new().await;
    let s = t.user("alice").await;
    let r = t
        .send(with_cookie_only(empty(Method::GET, "/api/v1/spaces"), &s))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["total"], 0);
}

#[tokio::test]
async fn bearer_tokens_work_without_csrf_until_revoked() {
    let t = TestApp::new().await;
    let s = t.user("alice").await;
    let r = t
        .send(with_session(
            json(
                Method::POST,
                "/api/v1/tokens",
                &json!({"name": "GED export"}),
            ),
            &s,
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let issued = r.json();
    let secret = issued["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("psr_"));
    let bearer = format!("Bearer {secret}");
    let create = with_header(
        json(
            Method::POST,
            "/api/v1/spaces",
            &json!({"slug": "finances", "title": "Finances"}),
        ),
        "authorization",
        &bearer,
    );
    assert_eq!(t.send(create).await.status, StatusCode::CREATED);
    let listed = t
        .send(with_session(empty(Method::GET, "/api/v1/tokens"), &s))
        .await;
    assert!(
        !String::from_utf8_lossy(&listed.body).contains(&secret),
        "secrets are shown once"
    );
    let id = issued["token"]["id"].as_str().expect("id");
    let revoke = t
        .send(with_session(
            empty(Method::DELETE, &format!("/api/v1/tokens/{id}")),
            &s,
        ))
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    let after = t
        .send(with_header(
            empty(Method::GET, "/api/v1/spaces"),
            "authorization",
            &bearer,
        ))
        .await;
    after.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn requests_without_credentials_are_unauthenticated() {
    let t = TestApp::new().await;
    let r = t.send(empty(Method::GET, "/api/v1/spaces")).await;
    r.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(r.header(header::WWW_AUTHENTICATE), "Bearer");
    let garbage = t
        .send(with_header(
            empty(Method::GET, "/api/v1/spaces"),
            "authorization",
            "Bearer psr_nope",
        ))
        .await;
    garbage.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    let cookie = t
        .send(with_header(
            empty(Method::GET, "/api/v1/spaces"),
            "cookie",
            "passerelle_session=forged",
        ))
        .await;
    cookie.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled_with_retry_after() {
    let t = TestApp::new().await;
    t.agent("alice", false).await;
    for _ in 0..5 {
        let r = t
            .send(json(
                Method::POST,
                "/api/v1/auth/login",
                &json!({"login": "alice", "password": "guess guess guess"}),
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = t
        .send(json(
            Method::POST,
            "/api/v1/auth/login",
            &json!({"login": "alice", "password": PASSWORD}),
        ))
        .await;
    r.assert_problem(StatusCode::TOO_MANY_REQUESTS, "throttled");
    let retry: u64 = r
        .header(header::RETRY_AFTER)
        .parse()
        .expect("Retry-After seconds");
    assert!(retry > 0);
}

#[tokio::test]
async fn the_caller_sets_their_own_language_with_patch_me_and_csrf() {
    let t = TestApp::new().await;
    let s = t.user("alice").await;
    let me = t
        .send(with_session(empty(Method::GET, "/api/v1/auth/me"), &s))
        .await;
    assert_eq!(me.json()["language"], Value::Null);
    let set = t
        .send(with_session(
            json(Method::PATCH, "/api/v1/auth/me", &json!({"language": "en"})),
            &s,
        ))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    assert_eq!(set.json()["language"], "en");
    // Kept on the account: a new session sees it.
    let other = t.login("alice").await;
    let me = t
        .send(with_session(empty(Method::GET, "/api/v1/auth/me"), &other))
        .await;
    assert_eq!(me.json()["language"], "en");
    // An absent field keeps it; an unknown language or field is refused.
    let kept = t
        .send(with_session(
            json(Method::PATCH, "/api/v1/auth/me", &json!({})),
            &s,
        ))
        .await;
    assert_eq!(kept.json()["language"], "en");
    for bad in [json!({"language": "de"}), json!({"lang": "fr"})] {
        let r = t
            .send(with_session(
                json(Method::PATCH, "/api/v1/auth/me", &bad),
                &s,
            ))
            .await;
        assert!(r.status.is_client_error(), "{bad}: {}", r.status);
    }
    // Without the CSRF header: refused, nothing changed.
    let r = t
        .send(with_cookie_only(
            json(Method::PATCH, "/api/v1/auth/me", &json!({"language": "fr"})),
            &s,
        ))
        .await;
    r.assert_problem(StatusCode::FORBIDDEN, "csrf");
    let cleared = t
        .send(with_session(
            json(Method::PATCH, "/api/v1/auth/me", &json!({"language": null})),
            &s,
        ))
        .await;
    assert_eq!(cleared.json()["language"], Value::Null);
}

#[tokio::test]
async fn app_passwords_are_shown_once_listed_apart_from_tokens_and_never_bearers() {
    let t = TestApp::new().await;
    let s = t.user("alice").await;
    let r = t
        .send(with_session(
            json(
                Method::POST,
                "/api/v1/app-passwords",
                &json!({"name": "LibreOffice, poste 12"}),
            ),
            &s,
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let issued = r.json();
    assert_eq!(issued["login"], "alice");
    let secret = issued["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("psr_app_"), "{secret}");
    // Not a bearer token.
    t.send(with_header(
        empty(Method::GET, "/api/v1/spaces"),
        "authorization",
        &format!("Bearer {secret}"),
    ))
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    // Listed without its secret, and not among the API tokens.
    let listed = t
        .send(with_session(
            empty(Method::GET, "/api/v1/app-passwords"),
            &s,
        ))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(!String::from_utf8_lossy(&listed.body).contains(&secret));
    assert_eq!(listed.json()[0]["name"], "LibreOffice, poste 12");
    let tokens = t
        .send(with_session(empty(Method::GET, "/api/v1/tokens"), &s))
        .await;
    assert_eq!(tokens.json(), json!([]));
    // A bad name is a clear 422 with a stable code; another user cannot
    // revoke it; its owner can.
    t.send(with_session(
        json(Method::POST, "/api/v1/app-passwords", &json!({"name": " "})),
        &s,
    ))
    .await
    .assert_problem(StatusCode::BAD_REQUEST, "invalid_app_password_name");
    let id = issued["app_password"]["id"].as_str().expect("id");
    let bob = t.user("bob").await;
    t.send(with_session(
        empty(Method::DELETE, &format!("/api/v1/app-passwords/{id}")),
        &bob,
    ))
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let revoke = t
        .send(with_session(
            empty(Method::DELETE, &format!("/api/v1/app-passwords/{id}")),
            &s,
        ))
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    let after = t
        .send(with_session(
            empty(Method::GET, "/api/v1/app-passwords"),
            &s,
        ))
        .await;
    assert_eq!(after.json()[0]["revoked"], true);
}
