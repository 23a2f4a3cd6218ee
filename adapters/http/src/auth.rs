//! Authentication of requests: session cookie (+ CSRF on unsafe methods) or
//! bearer API token, and the session cookie itself.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
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

/// What authenticated a request.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
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
pub(crate) async fn authenticate(
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

/// The client's address, for login and invitation throttling: the peer the
/// listener saw (set by `into_make_service_with_connect_info`), or, when
/// that peer is one of `trusted_proxies`, the nearest address in
/// `X-Forwarded-For` that is not itself a trusted proxy. A header that does
/// not parse leaves the proxy's address (throttling then counts per proxy,
/// and per account as always); a header from anyone else is ignored.
pub fn client_address(parts: &Parts, trusted_proxies: &[std::net::IpAddr]) -> Option<String> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())?;
    if !trusted_proxies.contains(&peer) {
        return Some(peer.to_string());
    }
    let mut hops: Vec<&str> = Vec::new();
    for value in parts.headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else {
            return Some(peer.to_string());
        };
        hops.extend(text.split(','));
    }
    // Right to left: each proxy appends the address it received from.
    for hop in hops.iter().rev() {
        match hop.trim().parse::<std::net::IpAddr>() {
            Ok(ip) if trusted_proxies.contains(&ip) => continue,
            Ok(ip) => return Some(ip.to_string()),
            Err(_) => break,
        }
    }
    Some(peer.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(peer: &str, forwarded: &[&'static str]) -> Parts {
        let mut req = axum::http::Request::builder();
        for f in forwarded {
            req = req.header("x-forwarded-for", *f);
        }
        let mut req = req.body(()).expect("request");
        let addr: SocketAddr = format!("{peer}:40000").parse().expect("address");
        req.extensions_mut().insert(ConnectInfo(addr));
        req.into_parts().0
    }

    fn ips(list: &[&str]) -> Vec<std::net::IpAddr> {
        list.iter().map(|s| s.parse().expect("ip")).collect()
    }

    #[test]
    fn the_client_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy() {
        let proxies = ips(&["10.0.10.5", "10.0.10.6"]);
        // No proxy configured, or a peer that is not one: a forged header is ignored.
        let forged = from("203.0.113.7", &["198.51.100.1"]);
        assert_eq!(client_address(&forged, &[]).as_deref(), Some("203.0.113.7"));
        assert_eq!(
            client_address(&forged, &proxies).as_deref(),
            Some("203.0.113.7")
        );
        // Through the proxy: the nearest untrusted hop, whatever the client
        // put further left.
        let proxied = from("10.0.10.5", &["6.6.6.6, 198.51.100.1", "10.0.10.6"]);
        assert_eq!(
            client_address(&proxied, &proxies).as_deref(),
            Some("198.51.100.1")
        );
        let v6 = from("10.0.10.5", &["2001:db8::1"]);
        assert_eq!(
            client_address(&v6, &proxies).as_deref(),
            Some("2001:db8::1")
        );
        // No header, or one that does not parse: the proxy's address.
        for headers in [&[][..], &["not an address"], &["198.51.100.1, junk"]] {
            let p = from("10.0.10.5", headers);
            assert_eq!(client_address(&p, &proxies).as_deref(), Some("10.0.10.5"));
        }
        // No connection info at all (a request built in-process): none.
        let (bare, ()) = axum::http::Request::new(()).into_parts();
        assert_eq!(client_address(&bare, &proxies), None);
    }

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
