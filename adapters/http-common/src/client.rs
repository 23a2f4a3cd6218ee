//! The client's address, channel and origin, behind the reverse proxies
//! the node trusts.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

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

/// Whether the client reached the node over TLS: the node serves plain
/// HTTP, so only one of `trusted_proxies` can say so, by the last value of
/// `X-Forwarded-Proto` (each proxy appends), exactly `https`.
pub fn client_used_tls(parts: &Parts, trusted_proxies: &[std::net::IpAddr]) -> bool {
    if !peer_is_trusted(parts, trusted_proxies) {
        return false;
    }
    let last = parts
        .headers
        .get_all("x-forwarded-proto")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back();
    last.is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// The origin (`https://ged.example.fr`) the client addressed, to show
/// it addresses it should use (WebDAV's): the host a trusted proxy
/// forwarded, else `Host`; `None` without a usable host.
pub fn client_origin(parts: &Parts, trusted_proxies: &[std::net::IpAddr]) -> Option<String> {
    let forwarded = peer_is_trusted(parts, trusted_proxies)
        .then(|| parts.headers.get("x-forwarded-host"))
        .flatten();
    let host = forwarded
        .or_else(|| parts.headers.get(axum::http::header::HOST))?
        .to_str()
        .ok()?
        .split(',')
        .next_back()?
        .trim();
    // A host is a name or an address and a port: nothing to escape, and
    // anything else is not shown.
    let plain = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    let scheme = if client_used_tls(parts, trusted_proxies) {
        "https"
    } else {
        "http"
    };
    plain.then(|| format!("{scheme}://{host}"))
}

fn peer_is_trusted(parts: &Parts, trusted_proxies: &[std::net::IpAddr]) -> bool {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(a)| trusted_proxies.contains(&a.ip()))
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

    fn with(peer: &str, headers: &[(&'static str, &'static str)]) -> Parts {
        let mut req = axum::http::Request::builder();
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req = req.body(()).expect("request");
        let addr: SocketAddr = format!("{peer}:40000").parse().expect("address");
        req.extensions_mut().insert(ConnectInfo(addr));
        req.into_parts().0
    }

    #[test]
    fn the_origin_shown_is_the_proxys_only_when_trusted_and_never_odd_text() {
        let proxies = ips(&["10.0.10.5"]);
        let direct = with("127.0.0.1", &[("host", "127.0.0.1:8080")]);
        assert_eq!(
            client_origin(&direct, &proxies).as_deref(),
            Some("http://127.0.0.1:8080")
        );
        let proxied = with(
            "10.0.10.5",
            &[
                ("host", "10.0.10.9:8080"),
                ("x-forwarded-host", "ged.metropole.fr"),
                ("x-forwarded-proto", "https"),
            ],
        );
        assert!(client_used_tls(&proxied, &proxies));
        assert_eq!(
            client_origin(&proxied, &proxies).as_deref(),
            Some("https://ged.metropole.fr")
        );
        // The same headers from anyone else are not believed.
        let forged = with(
            "203.0.113.7",
            &[
                ("host", "ged.metropole.fr"),
                ("x-forwarded-host", "evil.example"),
                ("x-forwarded-proto", "https"),
            ],
        );
        assert!(!client_used_tls(&forged, &proxies));
        assert_eq!(
            client_origin(&forged, &proxies).as_deref(),
            Some("http://ged.metropole.fr")
        );
        for odd in ["a\"<b>", "", "x/y", "h@st"] {
            let p = with("127.0.0.1", &[("host", odd)]);
            assert_eq!(client_origin(&p, &proxies), None, "{odd}");
        }
    }
}
