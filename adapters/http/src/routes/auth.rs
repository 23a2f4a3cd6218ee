//! `/auth`: login (a fresh session each time), logout, who am I.

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use passerelle_core::{Actor, CoreError};
use passerelle_http_common::{
    ApiError, Credentials, authenticate, cleared_cookie, client_address, csrf_matches,
    session_cookie, session_token,
};

use super::Problems;
use crate::AppState;
use crate::dto::{LoginBody, LoginResponse, MePatch, MeResponse, UserDto};
use crate::extract::Json;

/// Opens a session: sets the `passerelle_session` cookie (HttpOnly,
/// SameSite=Strict) and returns the CSRF token to send on writes. Failed
/// attempts are throttled per account and per address (429, Retry-After).
#[utoipa::path(post, path = "/auth/login", tag = "auth", security(()),
    responses((status = 200, body = LoginResponse, description = "Session opened; cookie set"), Problems))]
pub(crate) async fn login(
    State(st): State<AppState>,
    parts: Parts,
    Json(body): Json<LoginBody>,
) -> Result<Response, ApiError> {
    let address = client_address(&parts, &st.config.trusted_proxies);
    let outcome = st
        .app
        .login(&body.login, &body.password, address.as_deref())
        .await
        .map_err(|e| match e {
            CoreError::Unauthenticated => ApiError::from(e).with_detail("wrong login or password"),
            other => other.into(),
        })?;
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
