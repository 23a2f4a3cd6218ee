//! Login, logout, language choice, and (on the edge) accepting an invitation.
//!
//! Before a session exists there is no session-bound CSRF token, so the
//! login and invitation forms use a double-submit cookie
//! (`passerelle_form_csrf`, SameSite=Strict, HttpOnly) whose value is also
//! in the form.

use passerelle_core::EdgeApp;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use passerelle_core::CoreError;
use passerelle_core::service::{LoginOutcome, LoginStep, LoginThrottle};
use passerelle_http_common::AppState;
use serde::Deserialize;

use super::second_factor;
use crate::ctx::{Anonymous, PageCtx, Web, WebError, csrf_eq, local_redirect, render, see_other};
use crate::i18n::{LANG_COOKIE, Lang, cookie};

/// Cookie of the double-submit token of the login and invitation forms.
pub const FORM_CSRF_COOKIE: &str = "passerelle_form_csrf";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    p: PageCtx,
    form_csrf: String,
    next: String,
    login: String,
    error: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    pub(super) next: String,
    /// Why the login page is shown again (`challenge_expired`).
    #[serde(default)]
    err: String,
}

/// A fresh double-submit token and its cookie.
pub(super) fn form_token(secure: bool) -> (String, HeaderValue) {
    let token = uuid::Uuid::new_v4().simple().to_string();
    let secure = if secure { "; Secure" } else { "" };
    let cookie = HeaderValue::from_str(&format!(
        "{FORM_CSRF_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=3600{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""));
    (token, cookie)
}

pub(super) fn form_token_ok(headers: &HeaderMap, given: &str) -> bool {
    cookie(headers, FORM_CSRF_COOKIE).is_some_and(|c| csrf_eq(given, c))
}

fn login_page(
    st: &AppState,
    p: PageCtx,
    next: String,
    login: String,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let (token, cookie) = form_token(st.config.secure_cookies);
    let page = LoginPage {
        p,
        form_csrf: token,
        next: local_redirect(&next).map(str::to_owned).unwrap_or_default(),
        login,
        error,
    };
    (status, [(header::SET_COOKIE, cookie)], render(&page)).into_response()
}

/// `GET /login`.
pub async fn login_form(
    State(st): State<AppState>,
    Anonymous(p): Anonymous,
    Query(q): Query<NextQuery>,
) -> Response {
    let error = (q.err == "challenge_expired").then(|| p.t.s("twofa.expired"));
    login_page(&st, p, q.next, String::new(), error, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    next: String,
    login: String,
    password: String,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// `POST /login`: a fresh session (the previous one ends), then back to
/// `next` or "Mes espaces".
pub async fn login(
    State(st): State<AppState>,
    Anonymous(p): Anonymous,
    parts: Parts,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    if !form_token_ok(&parts.headers, &form.csrf) {
        return Err(WebError::Csrf);
    }
    let address = passerelle_http_common::client_address(&parts, &st.config.trusted_proxies);
    let secure = st.config.secure_cookies;
    let outcome = match st
        .app
        .begin_login(&form.login, &form.password, address.as_deref())
        .await
    {
        Ok(LoginStep::Session(o)) => *o,
        Ok(LoginStep::Code { challenge }) => {
            return Ok(second_factor::to_step(
                "/login/code",
                &challenge,
                &form.next,
                secure,
            ));
        }
        Ok(LoginStep::Enrol { challenge }) => {
            return Ok(second_factor::to_step(
                "/login/enrol",
                &challenge,
                &form.next,
                secure,
            ));
        }
        Err(CoreError::Internal(e)) => return Err(CoreError::Internal(e).into()),
        Err(e) => {
            let (status, code) = passerelle_http_common::classify(&e);
            let msg = if code == "unauthenticated" {
                p.t.s("login.failed")
            } else {
                p.t.error(code)
            };
            return Ok(login_page(&st, p, form.next, form.login, Some(msg), status));
        }
    };
    session_redirect(&st, &parts, outcome, &form.next).await
}

/// A session just opened: its cookie (the browser's previous session
/// ended), then to `next` or "Mes espaces".
pub(super) async fn session_redirect(
    st: &AppState,
    parts: &Parts,
    outcome: LoginOutcome,
    next: &str,
) -> Result<Response, WebError> {
    if let Some(old) = passerelle_http_common::session_token(&parts.headers)
        && let Err(e) = st.app.logout(old).await
    {
        tracing::warn!(error = %e, "could not end the previous session at login");
    }
    let max_age = (outcome.expires_at - time::OffsetDateTime::now_utc()).whole_seconds();
    let cookie =
        passerelle_http_common::session_cookie(&outcome.token, max_age, st.config.secure_cookies)
            .map_err(|_| CoreError::Internal("session cookie".into()))?;
    let mut res = see_other(local_redirect(next).unwrap_or("/spaces"));
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(rename = "_csrf", default)]
    pub csrf: String,
}

/// `POST /logout`: ends the session, clears the cookie.
pub async fn logout(
    State(st): State<AppState>,
    web: Web,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    web.check_csrf(&form.csrf)?;
    if let Some(token) = passerelle_http_common::session_token(&headers) {
        st.app.logout(token).await?;
    }
    let mut res = see_other("/login");
    res.headers_mut().append(
        header::SET_COOKIE,
        passerelle_http_common::cleared_cookie(st.config.secure_cookies),
    );
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub struct LangForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    lang: String,
    #[serde(default)]
    back: String,
}

/// `POST /lang`: remembers the chosen language. With a session and its
/// CSRF token (the footer of every logged-in page), it is saved on the
/// account, so every browser the user logs in from follows it. Without
/// them (the login page, or a forged form) only a cookie (a year)
/// remembers it: nothing but this browser's display preference changes,
/// which needs no token. The cookie is set in both cases, so that pages
/// rendered without the session (error pages) agree.
pub async fn set_lang(
    State(st): State<AppState>,
    parts: Parts,
    Form(form): Form<LangForm>,
) -> Result<Response, WebError> {
    let lang = Lang::parse(&form.lang).unwrap_or_default();
    if let Some(token) = passerelle_http_common::session_token(&parts.headers) {
        match st.app.authenticate_session(token).await {
            Ok(session) if csrf_eq(&form.csrf, &session.csrf) => {
                if let Some(id) = session.actor.id() {
                    st.app
                        .set_preferred_language(&session.actor, id, Some(lang.into()))
                        .await?;
                }
            }
            Err(e @ CoreError::Internal(_)) => return Err(e.into()),
            // No token, or an expired session: this browser's choice only.
            Ok(_) | Err(_) => {}
        }
    }
    let secure = if st.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let mut res = see_other(local_redirect(&form.back).unwrap_or("/spaces"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; SameSite=Lax; Path=/; Max-Age=31536000{secure}",
        lang.code()
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// `GET /`: to "Mes espaces" (which sends to the login page if needed).
pub async fn home() -> Response {
    see_other("/spaces")
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    p: PageCtx,
    form_csrf: String,
    error: Option<&'static str>,
}

fn invitation_page(
    st: &AppState,
    p: PageCtx,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let (token, cookie) = form_token(st.config.secure_cookies);
    let page = InvitationPage {
        p,
        form_csrf: token,
        error,
    };
    (status, [(header::SET_COOKIE, cookie)], render(&page)).into_response()
}

/// `GET /invitation` (edge): the link's fragment fills the code (script),
/// or the contractor pastes it.
pub async fn invitation_form(State(st): State<AppState>, Anonymous(p): Anonymous) -> Response {
    invitation_page(&st, p, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct InvitationForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    secret: String,
    password: String,
    confirm: String,
}

impl std::fmt::Debug for InvitationForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InvitationForm { .. }")
    }
}

/// Failed invitation acceptances by client address, with the login
/// throttle's rules (as the API's `/invitations/accept`): secrets are
/// 256-bit, so this keeps a scanner from using the page as an oracle at
/// full speed rather than stopping guesses.
#[derive(Debug, Default)]
pub struct InvitationThrottle(LoginThrottle);

impl InvitationThrottle {
    fn key(address: Option<&str>) -> String {
        format!("web-invitation@{}", address.unwrap_or("-"))
    }
}

/// `POST /invitation` (edge): sets the contractor's password, then login.
pub async fn accept_invitation(
    State(st): State<AppState>,
    Extension(edge): Extension<EdgeApp>,
    Extension(throttle): Extension<Arc<InvitationThrottle>>,
    Anonymous(p): Anonymous,
    parts: Parts,
    Form(form): Form<InvitationForm>,
) -> Result<Response, WebError> {
    if !form_token_ok(&parts.headers, &form.csrf) {
        return Err(WebError::Csrf);
    }
    let address = passerelle_http_common::client_address(&parts, &st.config.trusted_proxies);
    let key = InvitationThrottle::key(address.as_deref());
    let now = time::OffsetDateTime::now_utc();
    if throttle.0.check(&key, None, now).is_some() {
        let msg = p.t.error("throttled");
        return Ok(invitation_page(
            &st,
            p,
            Some(msg),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    if form.password != form.confirm {
        let msg = p.t.s("invite.mismatch");
        return Ok(invitation_page(
            &st,
            p,
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    match edge
        .accept_invitation(form.secret.trim(), &form.password)
        .await
    {
        Ok(_) => Ok(see_other("/login?ok=invitation_accepted")),
        Err(e @ CoreError::Internal(_)) => Err(e.into()),
        Err(e) => {
            if matches!(e, CoreError::NotFound(_)) {
                throttle.0.record_failure(&key, None, now);
            }
            let (status, code) = passerelle_http_common::classify(&e);
            let msg = if code == "not_found" || code == "unauthenticated" {
                p.t.s("invite.invalid")
            } else {
                p.t.error(code)
            };
            Ok(invitation_page(&st, p, Some(msg), status))
        }
    }
}
