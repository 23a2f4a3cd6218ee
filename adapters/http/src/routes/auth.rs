//! `/auth`: login (a fresh session each time), logout, who am I.

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use passerelle_core::service::{LoginOutcome, LoginStep};
use passerelle_core::{Actor, CoreError};
use passerelle_http_common::{
    ApiError, Credentials, authenticate, cleared_cookie, client_address, csrf_matches,
    session_cookie, session_token,
};

use super::Problems;
use crate::AppState;
use crate::dto::{
    ChallengeBody, CodeBody, EnrolledResponse, EnrolmentResponse, LoginBody, LoginResponse,
    MePatch, MeResponse, UserDto,
};
use crate::extract::Json;

/// Opens a session: sets the `passerelle_session` cookie (HttpOnly,
/// SameSite=Strict) and returns the CSRF token to send on writes. Failed
/// attempts are throttled per account and per address (429, Retry-After).
/// An account that logs in with a second factor gets 401
/// `second_factor_required` (or `second_factor_enrolment`) with a
/// `challenge` for the next step instead.
#[utoipa::path(post, path = "/auth/login", tag = "auth", security(()),
    responses((status = 200, body = LoginResponse, description = "Session opened; cookie set"), Problems))]
pub(crate) async fn login(
    State(st): State<AppState>,
    parts: Parts,
    Json(body): Json<LoginBody>,
) -> Result<Response, ApiError> {
    let address = client_address(&parts, &st.config.trusted_proxies);
    let step = st
        .app
        .begin_login(&body.login, &body.password, address.as_deref())
        .await
        .map_err(|e| match e {
            CoreError::Unauthenticated => ApiError::from(e).with_detail("wrong login or password"),
            other => other.into(),
        })?;
    let outcome = match step {
        LoginStep::Session(outcome) => *outcome,
        LoginStep::Code { challenge } => {
            return Err(ApiError::second_step("second_factor_required", challenge));
        }
        LoginStep::Enrol { challenge } => {
            return Err(ApiError::second_step("second_factor_enrolment", challenge));
        }
    };
    session_response(&st, &parts, outcome).await
}

/// The second step of a login: a code of the authenticator app, or a
/// recovery code (spent). Wrong codes are throttled like wrong passwords;
/// five on one challenge and the password is asked again (409
/// `challenge_expired`).
#[utoipa::path(post, path = "/auth/login/code", tag = "auth", security(()),
    responses((status = 200, body = LoginResponse, description = "Session opened; cookie set"), Problems))]
pub(crate) async fn login_code(
    State(st): State<AppState>,
    parts: Parts,
    Json(body): Json<CodeBody>,
) -> Result<Response, ApiError> {
    let address = client_address(&parts, &st.config.trusted_proxies);
    let outcome = st
        .app
        .complete_login(&body.challenge, &body.code, address.as_deref())
        .await
        .map_err(wrong_code)?;
    session_response(&st, &parts, outcome).await
}

/// Enrolment's secret for a `second_factor_enrolment` challenge: the
/// `otpauth://` URI (for a QR code) and the secret as text. The same until
/// confirmed.
#[utoipa::path(post, path = "/auth/login/enrolment", tag = "auth", security(()),
    responses((status = 200, body = EnrolmentResponse), Problems))]
pub(crate) async fn enrolment(
    State(st): State<AppState>,
    Json(body): Json<ChallengeBody>,
) -> Result<Json<EnrolmentResponse>, ApiError> {
    let e = st.app.enrolment(&body.challenge).await?;
    Ok(Json(EnrolmentResponse {
        secret: e.secret,
        uri: e.uri,
    }))
}

/// Confirms enrolment with a first code: opens the session and returns
/// the recovery codes, this once.
#[utoipa::path(post, path = "/auth/login/enrolment/confirm", tag = "auth", security(()),
    responses((status = 200, body = EnrolledResponse, description = "Session opened; cookie set"), Problems))]
pub(crate) async fn confirm_enrolment(
    State(st): State<AppState>,
    parts: Parts,
    Json(body): Json<CodeBody>,
) -> Result<Response, ApiError> {
    let address = client_address(&parts, &st.config.trusted_proxies);
    let enrolled = st
        .app
        .confirm_enrolment(&body.challenge, &body.code, address.as_deref())
        .await
        .map_err(wrong_code)?;
    let (cookie, login) = session_parts(&st, &parts, enrolled.session).await?;
    let body = EnrolledResponse {
        login,
        recovery_codes: enrolled.recovery_codes,
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

fn wrong_code(e: CoreError) -> ApiError {
    match e {
        CoreError::Unauthenticated => ApiError::from(e).with_detail("wrong code"),
        other => other.into(),
    }
}

/// The cookie and body of a session just opened (the client's previous
/// one ended).
async fn session_parts(
    st: &AppState,
    parts: &Parts,
    outcome: LoginOutcome,
) -> Result<(axum::http::HeaderValue, LoginResponse), ApiError> {
    // Rotation: a session the client still held ends here.
    if let Some(old) = session_token(&parts.headers)
        && let Err(e) = st.app.logout(old).await
    {
        tracing::warn!(error = %e, "could not end the previous session at login");
    }
    let now = time::OffsetDateTime::now_utc();
    let max_age = (outcome.expires_at - now).whole_seconds();
    let cookie = session_cookie(&outcome.token, max_age, st.config.secure_cookies)?;
    let body = LoginResponse {
        user: UserDto::from(&outcome.principal),
        csrf_token: outcome.csrf,
        expires_at: outcome.expires_at,
    };
    Ok((cookie, body))
}

async fn session_response(
    st: &AppState,
    parts: &Parts,
    outcome: LoginOutcome,
) -> Result<Response, ApiError> {
    let (cookie, body) = session_parts(st, parts, outcome).await?;
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Ends the session and clears the cookie. Idempotent: without a valid
/// session it only clears the cookie. A live cookie session needs its CSRF
/// token, like every write.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "Session ended; cookie cleared"), Problems))]
pub(crate) async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = session_token(&headers) {
        match st.app.authenticate_session(token).await {
            Ok(session) => {
                if !csrf_matches(&headers, &session.csrf) {
                    return Err(ApiError::csrf());
                }
                st.app.logout(token).await?;
            }
            Err(CoreError::Unauthenticated) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let cleared = cleared_cookie(st.config.secure_cookies);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cleared)]).into_response())
}

/// The caller, and the session's CSRF token (so a reloaded page can find it).
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    responses((status = 200, body = MeResponse), Problems))]
pub(crate) async fn me(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<MeResponse>, ApiError> {
    let Credentials { actor, csrf } = authenticate(&Method::GET, &headers, &st).await?;
    let Actor::Principal(p) = actor.clone() else {
        return Err(ApiError::unauthenticated());
    };
    me_response(&st, &actor, p, csrf).await
}

async fn me_response(
    st: &AppState,
    actor: &Actor,
    p: passerelle_core::model::Principal,
    csrf: Option<String>,
) -> Result<Json<MeResponse>, ApiError> {
    let language = st.app.preferred_language(actor, p.id).await?;
    Ok(Json(MeResponse {
        user: UserDto::from(&p),
        language: language.map(Into::into),
        csrf_token: csrf,
    }))
}

/// Changes the caller's own settings (the interface language: kept on this
/// node's account, used by the pages of every browser the user logs in
/// from). Nobody changes another user's settings here.
#[utoipa::path(patch, path = "/auth/me", tag = "auth", request_body = MePatch,
    responses((status = 200, body = MeResponse), Problems))]
pub(crate) async fn update_me(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<MePatch>,
) -> Result<Json<MeResponse>, ApiError> {
    let Credentials { actor, csrf } = authenticate(&Method::PATCH, &headers, &st).await?;
    let Actor::Principal(p) = actor.clone() else {
        return Err(ApiError::unauthenticated());
    };
    if let Some(language) = body.language {
        st.app
            .set_preferred_language(&actor, p.id, language.map(Into::into))
            .await?;
    }
    me_response(&st, &actor, p, csrf).await
}
