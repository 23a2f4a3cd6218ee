//! HTTP Basic for `/dav` and `/cmis`, the only scheme WebDAV and CMIS
//! clients all speak. The password travels with every request, so it is accepted only where it
//! cannot be read on the way: over TLS (terminated by a reverse proxy the
//! node trusts, which says so with `X-Forwarded-Proto: https`) or from
//! loopback with no proxy involved. The credentials themselves are core's
//! business (`authenticate_basic`: throttled, audited, remembered a few
//! minutes). A session cookie never authenticates WebDAV: it would make
//! every cross-site request a write.

use std::net::{IpAddr, SocketAddr};

use crate::client::{client_address, client_used_tls};
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use passerelle_core::{Actor, CoreError, Passerelle};

/// The challenge of a 401: UTF-8 logins and passwords (RFC 7617).
pub const CHALLENGE: &str = "Basic realm=\"Passerelle\", charset=\"UTF-8\"";

/// Why a request is refused before dav-server sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Plain HTTP from elsewhere than loopback: 403, "use https".
    NotTls,
    /// No or wrong credentials: 401 with the challenge.
    Challenge,
    /// Too many failures: 429 with `Retry-After`.
    Throttled { retry_after_secs: u64 },
    /// The directory that checks the password did not answer: 503, to
    /// retry (ADR 0009).
    Unavailable,
    /// Core failed (logged where it happened): 500.
    Internal,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let text = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
        match self {
            Refused::NotTls => (
                StatusCode::FORBIDDEN,
                text,
                "WebDAV sends your password with every request: connect with https:// \
                 (this address is not protected by TLS).\n",
            )
                .into_response(),
            Refused::Challenge => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, CHALLENGE)],
                "authentication required\n",
            )
                .into_response(),
            Refused::Throttled { retry_after_secs } => {
                let mut res = (
                    StatusCode::TOO_MANY_REQUESTS,
                    text,
                    "too many failed attempts: try again later\n",
                )
                    .into_response();
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                res
            }
            Refused::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                [
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                    (header::RETRY_AFTER, "30"),
                ],
                "the directory that checks your password cannot be reached: try again later\n",
            )
                .into_response(),
            Refused::Internal => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

/// Whether the request reached the node over a channel where a password
/// may travel.
pub fn check_transport(parts: &Parts, trusted_proxies: &[IpAddr]) -> Result<(), Refused> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let secure = match peer {
        Some(ip) if trusted_proxies.contains(&ip) => client_used_tls(parts, trusted_proxies),
        // A loopback peer with forwarding headers is a proxy the node does
        // not trust: what it says of the client's channel is unknown.
        Some(ip) => ip.is_loopback() && !forwarded(parts),
        None => false,
    };
    if secure { Ok(()) } else { Err(Refused::NotTls) }
}

fn forwarded(parts: &Parts) -> bool {
    ["x-forwarded-for", "x-forwarded-proto", "forwarded"]
        .iter()
        .any(|h| parts.headers.contains_key(*h))
}

/// The login and secret of an `Authorization: Basic` header, if well formed.
pub fn basic_credentials(parts: &Parts) -> Option<(String, String)> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, secret) = text.split_once(':')?;
    Some((login.to_owned(), secret.to_owned()))
}

/// The actor of a request, or why it is refused.
pub async fn authenticate_basic(
    app: &Passerelle,
    parts: &Parts,
    trusted_proxies: &[IpAddr],
) -> Result<Actor, Refused> {
    check_transport(parts, trusted_proxies)?;
    let (login, secret) = basic_credentials(parts).ok_or(Refused::Challenge)?;
    let address = client_address(parts, trusted_proxies);
    match app
        .authenticate_basic(&login, &secret, address.as_deref())
        .await
    {
        Ok(actor) => Ok(actor),
        Err(CoreError::Unauthenticated) => Err(Refused::Challenge),
        Err(CoreError::Throttled { retry_after_secs }) => {
            Err(Refused::Throttled { retry_after_secs })
        }
        Err(CoreError::Unavailable(_)) => Err(Refused::Unavailable),
        Err(e) => {
            tracing::error!(error = %crate::chain(&e), "basic: authentication failed");
            Err(Refused::Internal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, headers: &[(&str, &str)]) -> Parts {
        let mut req = axum::http::Request::builder();
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req = req.body(()).expect("request");
        let ip: IpAddr = peer.parse().expect("address");
        let addr = SocketAddr::new(ip, 40000);
        req.extensions_mut().insert(ConnectInfo(addr));
        req.into_parts().0
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().expect("ip")).collect()
    }

    #[test]
    fn basic_is_accepted_from_loopback_without_a_proxy_or_through_a_trusted_tls_proxy() {
        let proxies = ips(&["10.0.0.5"]);
        assert!(check_transport(&parts("127.0.0.1", &[]), &proxies).is_ok());
        assert!(check_transport(&parts("::1", &[]), &proxies).is_ok());
        let via_tls = parts("10.0.0.5", &[("x-forwarded-proto", "https")]);
        assert!(check_transport(&via_tls, &proxies).is_ok());
    }

    #[test]
    fn basic_is_refused_over_plain_http_or_from_an_untrusted_forwarder() {
        let proxies = ips(&["10.0.0.5"]);
        let refused = |p: Parts| check_transport(&p, &proxies).err();
        let not_tls = Some(Refused::NotTls);
        assert_eq!(refused(parts("192.0.2.7", &[])), not_tls);
        // Its own word does not count: a client may send the header.
        let claims = parts("192.0.2.7", &[("x-forwarded-proto", "https")]);
        assert_eq!(refused(claims), not_tls);
        // The trusted proxy received plain HTTP.
        let plain = parts("10.0.0.5", &[("x-forwarded-proto", "http")]);
        assert_eq!(refused(plain), not_tls);
        // A proxy on loopback the node was not told to trust.
        let local = parts("127.0.0.1", &[("x-forwarded-for", "192.0.2.7")]);
        assert_eq!(refused(local), not_tls);
    }

    #[test]
    fn credentials_are_read_from_a_well_formed_basic_header_only() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let ok = parts(
            "127.0.0.1",
            &[("authorization", &format!("Basic {}", b64("élise:p:w")))],
        );
        assert_eq!(basic_credentials(&ok), Some(("élise".into(), "p:w".into())));
        for bad in [
            "Bearer abc",
            "Basic !!!",
            &format!("Basic {}", b64("nocolon")),
        ] {
            assert_eq!(
                basic_credentials(&parts("127.0.0.1", &[("authorization", bad)])),
                None
            );
        }
    }
}
