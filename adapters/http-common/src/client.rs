//! The client's address, behind the reverse proxies the node trusts.

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
}
