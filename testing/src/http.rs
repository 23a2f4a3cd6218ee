//! Calling an axum router in-process as a client on the network would: a
//! request with a peer address (`ConnectInfo`, which the adapters read to
//! tell loopback from elsewhere) and HTTP Basic credentials, its answer
//! collected whole. The WebDAV and CMIS suites drive their routers so.

use std::net::{IpAddr, SocketAddr};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine;
use bytes::Bytes;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A router's answer, body collected.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The value of an `Authorization: Basic` header.
pub fn basic(login: &str, password: &str) -> String {
    let creds = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"));
    format!("Basic {creds}")
}

/// The peer a test names with an `x-test-peer` header (taken out of the
/// headers sent), loopback otherwise.
pub fn peer(headers: &[(&str, &str)]) -> anyhow::Result<IpAddr> {
    match headers.iter().find(|(k, _)| *k == "x-test-peer") {
        Some((_, v)) => Ok(v.parse()?),
        None => Ok([127, 0, 0, 1].into()),
    }
}

/// Sends `method uri` to `router` from `x-test-peer` (or loopback), with
/// `headers` (but that one), Basic credentials when given, and `body`.
pub async fn send(
    router: &Router,
    method: &str,
    uri: &str,
    credentials: Option<(&str, &str)>,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> anyhow::Result<Answer> {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some((login, password)) = credentials {
        req = req.header("authorization", basic(login, password));
    }
    for (k, v) in headers.iter().filter(|(k, _)| *k != "x-test-peer") {
        req = req.header(*k, *v);
    }
    let mut req = req.body(body.into())?;
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(peer(headers)?, 50000)));
    let res = router.clone().oneshot(req).await?;
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await?.to_bytes();
    Ok(Answer {
        status,
        headers,
        body,
    })
}
