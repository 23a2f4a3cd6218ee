//! The `/dav` routes: authentication, the checks dav-server does not make
//! (PROPFIND `Depth: infinity`, a `Destination` on another host), then
//! dav-server over [`PasserelleFs`]. Bodies stream both ways: the request
//! body goes to dav-server as it arrives (no size limit of the JSON API
//! applies here), the response body is dav-server's stream.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use dav_server::{DavHandler, DavMethod, DavMethodSet};

use crate::DavLockSystem;
use crate::auth::authenticate;
use crate::fs::{DavCredentials, PasserelleFs};

/// The WebDAV service of the internal node.
#[derive(Clone)]
pub struct DavService {
    handler: DavHandler<DavCredentials>,
    fs: PasserelleFs,
    /// Proxies whose `X-Forwarded-*` headers are believed.
    trusted_proxies: Vec<IpAddr>,
}

impl std::fmt::Debug for DavService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DavService").finish_non_exhaustive()
    }
}

impl DavService {
    /// `locks`: the lock system LOCK, UNLOCK and the `If:` checks use; the
    /// one place where the node passes it. `None` offers no locking (DAV
    /// class 1): better than a lock system that excludes nothing.
    pub fn new(
        fs: PasserelleFs,
        trusted_proxies: Vec<IpAddr>,
        locks: Option<Box<dyn DavLockSystem>>,
    ) -> Self {
        let mut methods = DavMethodSet::WEBDAV_RW;
        if locks.is_none() {
            methods.remove(DavMethod::Lock);
            methods.remove(DavMethod::Unlock);
        }
        let mut config = DavHandler::builder()
            .filesystem(Box::new(fs.clone()))
            .strip_prefix("/dav")
            .methods(methods)
            .autoindex(false);
        if let Some(ls) = locks {
            config = config.locksystem(ls);
        }
        Self {
            handler: config.build_handler(),
            fs,
            trusted_proxies,
        }
    }
}

/// The routes `/dav`, `/dav/` and `/dav/{*path}`, every method.
pub fn router(service: DavService) -> Router {
    Router::new()
        .route("/dav", any(handle))
        .route("/dav/", any(handle))
        .route("/dav/{*path}", any(handle))
        .with_state(Arc::new(service))
}

async fn handle(State(dav): State<Arc<DavService>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let actor = match authenticate(dav.fs.app.shared(), &parts, &dav.trusted_proxies).await {
        Ok(a) => a,
        Err(refused) => return refused.into_response(),
    };
    if let Some(refused) = refuse_unbounded_propfind(&parts.method, &parts.headers) {
        return refused;
    }
    if let Some(refused) = refuse_foreign_destination(&parts.headers, &dav.trusted_proxies, &parts)
    {
        return refused;
    }
    let principal = actor.id().map(|id| id.to_string()).unwrap_or_default();
    let credentials = DavCredentials::new(actor, parts.method == Method::DELETE);
    let req = Request::from_parts(parts, body);
    let res = dav
        .handler
        .handle_guarded(req, principal, credentials)
        .await;
    let mut res = res.map(Body::new);
    harden(&mut res);
    res
}

/// PROPFIND `Depth: infinity` walks a whole space in one request: refused
/// (RFC 4918 §9.1 allows it) with the precondition code clients know.
fn refuse_unbounded_propfind(method: &Method, headers: &axum::http::HeaderMap) -> Option<Response> {
    let propfind = method.as_str().eq_ignore_ascii_case("PROPFIND");
    let infinite = headers
        .get("depth")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|d| d.trim().eq_ignore_ascii_case("infinity"));
    (propfind && infinite).then(|| {
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <D:error xmlns:D=\"DAV:\"><D:propfind-finite-depth/></D:error>\n",
        )
            .into_response()
    })
}

/// A COPY or MOVE whose `Destination` names another server: 502, as RFC
/// 4918 §9.8.5 says (dav-server would ignore the host and write here).
fn refuse_foreign_destination(
    headers: &axum::http::HeaderMap,
    trusted_proxies: &[IpAddr],
    parts: &axum::http::request::Parts,
) -> Option<Response> {
    let dest = headers.get("destination")?.to_str().ok()?;
    let uri: axum::http::Uri = match dest.parse() {
        Ok(u) => u,
        Err(_) => return Some(StatusCode::BAD_REQUEST.into_response()),
    };
    let authority = uri.authority()?;
    let peer_is_proxy = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .is_some_and(|c| trusted_proxies.contains(&c.0.ip()));
    let forwarded = peer_is_proxy
        .then(|| headers.get("x-forwarded-host"))
        .flatten();
    let host = forwarded.or_else(|| headers.get(header::HOST));
    let same = host
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.eq_ignore_ascii_case(authority.as_str()));
    (!same).then(|| {
        (
            StatusCode::BAD_GATEWAY,
            "the destination is on another server\n",
        )
            .into_response()
    })
}

/// Content is served as data, never rendered on the node's origin.
fn harden(res: &mut Response) {
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
}
