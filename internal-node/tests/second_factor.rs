//! An agent's own second factor on a real internal node (ADR 0012 §7),
//! through its API: a local account enrols (codes from Debian's
//! `oathtool`, an implementation independent of the node's), its next
//! login asks for a code, a recovery code serves once, and turning the
//! factor off takes the password.

mod common;

use common::{ADMIN_PASSWORD, NodeProcess, cli, ok};
use passerelle_testing::edge_login::totp_code;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

/// A session: the cookie pair and its CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

async fn session_of(res: Response) -> anyhow::Result<Session> {
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_owned();
    let body: Value = res.json().await?;
    let csrf = body["csrf_token"].as_str().unwrap_or_default().to_owned();
    Ok(Session { cookie, csrf })
}

fn as_(req: RequestBuilder, s: &Session) -> RequestBuilder {
    req.header(reqwest::header::COOKIE, &s.cookie)
        .header("x-csrf-token", &s.csrf)
}

async fn problem(res: Response, status: StatusCode) -> anyhow::Result<Value> {
    assert_eq!(res.status(), status);
    Ok(res.json().await?)
}

#[tokio::test]
async fn a_local_agent_enrols_from_the_api_then_logs_in_with_a_code_and_turns_it_off()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    ok(&cli(d, &["init"])?);
    let mut node = NodeProcess::start(d, &[])?;
    let http = Client::new();
    let login = || {
        http.post(node.url("/api/v1/auth/login"))
            .json(&json!({ "login": "admin", "password": ADMIN_PASSWORD }))
            .send()
    };
    let admin = session_of(login().await?).await?;
    let state: Value = as_(http.get(node.url("/api/v1/account/second-factor")), &admin)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(state["enrolled"], false, "{state}");
    assert_eq!(state["refused"], Value::Null, "{state}");

    let shown: Value = as_(http.post(node.url("/api/v1/account/second-factor")), &admin)
        .send()
        .await?
        .json()
        .await?;
    let secret = shown["secret"].as_str().unwrap_or_default().to_owned();
    assert!(
        shown["uri"]
            .as_str()
            .is_some_and(|u| u.starts_with("otpauth://totp/")),
        "{shown}"
    );
    let code = totp_code(&secret)?;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let confirm = |code: String| {
        as_(
            http.post(node.url("/api/v1/account/second-factor/confirm")),
            &admin,
        )
        .json(&json!({ "code": code }))
        .send()
    };
    let refused = problem(confirm(wrong.to_owned()).await?, StatusCode::BAD_REQUEST).await?;
    assert_eq!(refused["code"], "wrong_code", "{refused}");
    let confirmed = confirm(code).await?;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let confirmed: Value = confirmed.json().await?;
    let recovery: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(recovery.len(), 10, "{confirmed}");

    // The password alone now leads to the code step.
    let step = problem(login().await?, StatusCode::UNAUTHORIZED).await?;
    assert_eq!(step["code"], "second_factor_required", "{step}");
    let challenge = step["challenge"].as_str().unwrap_or_default().to_owned();
    let with_code = |code: &str| {
        http.post(node.url("/api/v1/auth/login/code"))
            .json(&json!({ "challenge": challenge, "code": code }))
            .send()
    };
    let again = session_of(with_code(&recovery[0]).await?).await?;
    // A recovery code serves once.
    let step = problem(login().await?, StatusCode::UNAUTHORIZED).await?;
    let challenge = step["challenge"].as_str().unwrap_or_default().to_owned();
    let reused = http
        .post(node.url("/api/v1/auth/login/code"))
        .json(&json!({ "challenge": challenge, "code": recovery[0] }))
        .send()
        .await?;
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);

    // Off, on proof: a wrong password is refused, the right one works.
    let disable = |password: &str| {
        as_(
            http.post(node.url("/api/v1/account/second-factor/disable")),
            &again,
        )
        .json(&json!({ "password": password }))
        .send()
    };
    let refused = problem(disable("pas le bon").await?, StatusCode::BAD_REQUEST).await?;
    assert_eq!(refused["code"], "wrong_proof", "{refused}");
    assert_eq!(
        disable(ADMIN_PASSWORD).await?.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(login().await?.status(), StatusCode::OK);
    let audit: Value = as_(http.get(node.url("/api/v1/audit?limit=200")), &again)
        .send()
        .await?
        .json()
        .await?;
    let text = audit.to_string();
    assert!(text.contains("second_factor.enrol"), "{text}");
    assert!(text.contains("second_factor.disable"), "{text}");
    assert!(node.terminate()?.success());
    Ok(())
}
