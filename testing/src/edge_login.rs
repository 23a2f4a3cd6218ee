//! A contractor's login on a real edge through its API, second factor
//! included (ADR 0012): the first login enrols (the secret read from the
//! enrolment answer), later ones give a fresh code, or a recovery code
//! when the current code was used already (a code is accepted once).
//! Codes come from Debian's `oathtool --totp`, an implementation
//! independent of the node's; `.ci/run` installs it, and elsewhere
//! totp-rs stands in when it is missing.

use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};

/// What a contractor needs to log in again: their second factor.
#[derive(Clone, Debug, Default)]
pub struct Factor(Arc<Mutex<FactorState>>);

#[derive(Debug, Default)]
struct FactorState {
    /// Base32, no spaces.
    secret: Option<String>,
    recovery: Vec<String>,
    last_code: Option<String>,
}

/// A session on the edge.
#[derive(Clone, Debug)]
pub struct EdgeSession {
    /// `passerelle_session=…`, for a `Cookie` header.
    pub cookie: String,
    pub csrf: String,
    pub user: Value,
}

/// The current code of `secret` (base32), by `oathtool`.
pub fn totp_code(secret: &str) -> anyhow::Result<String> {
    let secret: String = secret.chars().filter(|c| !c.is_whitespace()).collect();
    match Command::new("oathtool")
        .args(["--totp", "-b", &secret])
        .output()
    {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        }
        Ok(out) => bail!("oathtool: {}", String::from_utf8_lossy(&out.stderr)),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "oathtool is missing: apt-get install oathtool (.ci/run does)"
            );
            let bytes = totp_rs::Secret::try_from_base32(&secret)
                .map_err(|e| anyhow::anyhow!("base32: {e:?}"))?
                .as_bytes()
                .to_vec();
            let totp = totp_rs::Builder::new()
                .with_secret(bytes)
                .build_noncompliant();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs();
            Ok(totp.generate(now).to_string())
        }
    }
}

/// The raw bytes of a secret shown as base32 (spaces allowed), for tests
/// that compute codes with the node's own parameters.
pub fn secret_bytes(text: &str) -> anyhow::Result<Vec<u8>> {
    let raw: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    Ok(totp_rs::Secret::try_from_base32(&raw)
        .map_err(|e| anyhow::anyhow!("base32: {e:?}"))?
        .as_bytes()
        .to_vec())
}

impl Factor {
    /// The base32 secret, once enrolled.
    pub fn secret(&self) -> Option<String> {
        self.lock().secret.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FactorState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A code not given yet: the current one, or a recovery code.
    fn next_code(&self) -> anyhow::Result<String> {
        let mut st = self.lock();
        let secret = st.secret.clone().context("not enrolled")?;
        let code = totp_code(&secret)?;
        if st.last_code.as_deref() == Some(code.as_str()) {
            return st.recovery.pop().context("no recovery code left");
        }
        st.last_code = Some(code.clone());
        Ok(code)
    }
}

fn cookie_of(r: &reqwest::Response) -> anyhow::Result<String> {
    Ok(r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("passerelle_session="))
        .and_then(|c| c.split(';').next())
        .context("session cookie")?
        .to_owned())
}

fn session(cookie: String, login: &Value) -> anyhow::Result<EdgeSession> {
    Ok(EdgeSession {
        cookie,
        csrf: login["csrf_token"].as_str().context("csrf")?.to_owned(),
        user: login["user"].clone(),
    })
}

/// Logs `login` in on the edge whose API is `api` (`…/api/v1`): the
/// password, then enrolment (first time, recorded in `factor`) or a code.
pub async fn edge_login(
    http: &reqwest::Client,
    api: &str,
    login: &str,
    password: &str,
    factor: &Factor,
) -> anyhow::Result<EdgeSession> {
    let r = http
        .post(format!("{api}/auth/login"))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await?;
    if r.status() == 200 {
        let cookie = cookie_of(&r)?;
        return session(cookie, &r.json().await?);
    }
    let status = r.status();
    let problem: Value = r.json().await?;
    ensure!(status == 401, "login {login}: {status} {problem}");
    let challenge = problem["challenge"]
        .as_str()
        .with_context(|| format!("login {login}: {problem}"))?;
    match problem["code"].as_str() {
        Some("second_factor_enrolment") => {
            let shown: Value = http
                .post(format!("{api}/auth/login/enrolment"))
                .json(&json!({ "challenge": challenge }))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let secret: String = shown["secret"]
                .as_str()
                .context("secret")?
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let code = totp_code(&secret)?;
            let r = http
                .post(format!("{api}/auth/login/enrolment/confirm"))
                .json(&json!({ "challenge": challenge, "code": code }))
                .send()
                .await?;
            ensure!(r.status() == 200, "enrolment of {login}: {}", r.status());
            let cookie = cookie_of(&r)?;
            let body: Value = r.json().await?;
            let recovery = body["recovery_codes"]
                .as_array()
                .context("recovery codes")?
                .iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect();
            *factor.lock() = FactorState {
                secret: Some(secret),
                recovery,
                last_code: Some(code),
            };
            session(cookie, &body["login"])
        }
        Some("second_factor_required") => {
            let code = factor.next_code()?;
            let r = http
                .post(format!("{api}/auth/login/code"))
                .json(&json!({ "challenge": challenge, "code": code }))
                .send()
                .await?;
            ensure!(r.status() == 200, "code of {login}: {}", r.status());
            let cookie = cookie_of(&r)?;
            session(cookie, &r.json().await?)
        }
        _ => bail!("login {login}: {problem}"),
    }
}

/// An app password of the session's account, named `device`, for WebDAV
/// clients (a contractor with a second factor has no other way in).
pub async fn app_password(
    http: &reqwest::Client,
    api: &str,
    session: &EdgeSession,
    device: &str,
) -> anyhow::Result<String> {
    let r = http
        .post(format!("{api}/app-passwords"))
        .header("Cookie", &session.cookie)
        .header("X-CSRF-Token", &session.csrf)
        .json(&json!({ "name": device }))
        .send()
        .await?;
    ensure!(r.status() == 201, "app password: {}", r.status());
    let v: Value = r.json().await?;
    Ok(v["secret"].as_str().context("secret")?.to_owned())
}
