//! Authentication of requests: session cookie (+ CSRF on unsafe methods) or
//! bearer API token, and the session cookie itself.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use passerelle_core::{Actor, CoreError};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::problem::ApiError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "passerelle_session";
/// Header carrying the session's anti-CSRF token on unsafe methods.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The caller, authenticated by a bearer token (`Authorization: Bearer
/// psr_…`) or a session cookie. Cookie-authenticated POST/PUT/PATCH/DELETE
/// also need `X-CSRF-Token` equal to the session's token (403 `csrf`):
/// browsers attach cookies to cross-site requests, never that header.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Actor);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = authenticate(&parts.method, &parts.headers, state).await?;
        Ok(Authenticated(auth.actor))
    }
}

/// What authenticated a request, for handlers that also need the
/// session's CSRF token (the API's `/auth/me` hands it back).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub actor: Actor,
    /// The session's CSRF token; `None` for bearer tokens.
    pub csrf: Option<String>,
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Resolves the caller and enforces CSRF on cookie-authenticated writes.
pub async fn authenticate(
    method: &Method,
    headers: &HeaderMap,
    state: &AppState,
) -> Result<Credentials, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let secret = bearer(value).ok_or_else(ApiError::unauthenticated)?;
        let actor = state
            .app
            .authenticate_token(secret)
            .await
            .map_err(unauthenticated)?;
        return Ok(Credentials { actor, csrf: None });
    }
    let token = session_token(headers).ok_or_else(ApiError::unauthenticated)?;
    let session = state
        .app
        .authenticate_session(token)
        .await
        .map_err(unauthenticated)?;
    if !is_safe(method) && !csrf_matches(headers, &session.csrf) {
        return Err(ApiError::csrf());
    }
    Ok(Credentials {
        actor: session.actor,
        csrf: Some(session.csrf),
    })
}

/// Storage failures stay 500; every other failure to authenticate is 401.
fn unauthenticated(e: CoreError) -> ApiError {
    match e {
        CoreError::Internal(_) => e.into(),
        _ => ApiError::unauthenticated(),
    }
}

fn bearer(value: &HeaderValue) -> Option<&str> {
    let v = value.to_str().ok()?;
    let (scheme, secret) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| secret.trim())
}

/// Whether the request's `X-CSRF-Token` is the session's token (compared
/// in constant time; an empty expected token never matches).
pub fn csrf_matches(headers: &HeaderMap, expected: &str) -> bool {
    let Some(given) = headers.get(CSRF_HEADER) else {
        return false;
    };
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// The session token from the `Cookie` header(s), if any.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for a new session. HttpOnly (scripts never see it),
/// SameSite=Strict (no cross-site sending), Secure unless configured off.
pub fn session_cookie(
    token: &str,
    max_age_secs: i64,
    secure: bool,
) -> Result<HeaderValue, ApiError> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        max_age_secs.max(0)
    ))
    .map_err(|e| CoreError::Internal(Box::new(e)).into())
}

/// `Set-Cookie` that makes the browser forget the session.
pub fn cleared_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static(
            "passerelle_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure",
        )
    } else {
        HeaderValue::from_static(
            "passerelle_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let h = headers(&[("cookie", "theme=dark; passerelle_session=abc123; lang=fr")]);
        assert_eq!(session_token(&h), Some("abc123"));
        assert_eq!(
            session_token(&headers(&[("cookie", "passerelle_session=")])),
            None
        );
        assert_eq!(session_token(&headers(&[("cookie", "other=1")])), None);
    }

    #[test]
    fn reads_bearer_tokens_case_insensitively() {
        assert_eq!(
            bearer(&HeaderValue::from_static("Bearer psr_x")),
            Some("psr_x")
        );
        assert_eq!(
            bearer(&HeaderValue::from_static("bearer psr_x")),
            Some("psr_x")
        );
        assert_eq!(bearer(&HeaderValue::from_static("Basic dXNlcg==")), None);
    }

    #[test]
    fn csrf_needs_the_exact_token() {
        assert!(csrf_matches(&headers(&[("x-csrf-token", "t0k")]), "t0k"));
        assert!(!csrf_matches(&headers(&[("x-csrf-token", "t0")]), "t0k"));
        assert!(!csrf_matches(&headers(&[]), "t0k"));
        assert!(!csrf_matches(&headers(&[("x-csrf-token", "")]), ""));
    }

    #[test]
    fn cookies_carry_the_security_flags() {
        let c = session_cookie("tok", 60, true).expect("valid");
        let c = c.to_str().expect("ascii");
        for flag in [
            "HttpOnly",
            "SameSite=Strict",
            "Path=/",
            "Secure",
            "Max-Age=60",
        ] {
            assert!(c.contains(flag), "{c} lacks {flag}");
        }
        let c = session_cookie("tok", 60, false).expect("valid");
        assert!(!c.to_str().expect("ascii").contains("Secure"));
    }
}
