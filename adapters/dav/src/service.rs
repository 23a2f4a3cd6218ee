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
use passerelle_core::service::Locks;

use crate::error::noting_locks;
use crate::fs::{DavCredentials, PasserelleFs};
use crate::locks::CoreLocks;
use crate::propfind;
use passerelle_http_common::basic::authenticate_basic as authenticate;

/// The WebDAV service of the internal node.
#[derive(Clone)]
pub struct DavService {
    fs: PasserelleFs,
    /// Core's locks, through which LOCK, UNLOCK and the `If:` checks go;
    /// `None`: no locking offered (DAV class 1), never locks that exclude
    /// nothing.
    locks: Option<Locks>,
    /// Proxies whose `X-Forwarded-*` headers are believed.
    trusted_proxies: Vec<IpAddr>,
}

impl std::fmt::Debug for DavService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DavService").finish_non_exhaustive()
    }
}

impl DavService {
    /// `locks`: the node's lock use cases (`InternalApp::locks`), the one
    /// place where the node passes them.
    pub fn new(fs: PasserelleFs, trusted_proxies: Vec<IpAddr>, locks: Option<Locks>) -> Self {
        Self {
            fs,
            locks,
            trusted_proxies,
        }
    }

    /// dav-server's handler for one request: its lock system resolves
    /// paths as this request's actor, so it is built per request (a few
    /// `Arc` clones).
    fn handler(&self, request: &DavCredentials) -> DavHandler<DavCredentials> {
        let mut methods = DavMethodSet::WEBDAV_RW;
        if self.locks.is_none() {
            methods.remove(DavMethod::Lock);
            methods.remove(DavMethod::Unlock);
        }
        let mut config = DavHandler::builder()
            .filesystem(Box::new(self.fs.clone()))
            .strip_prefix("/dav")
            .methods(methods)
            .autoindex(true);
        if let Some(ls) = self.lock_system(request) {
            config = config.locksystem(Box::new(ls));
        }
        config.build_handler()
    }

    /// The lock system of one request, where the node offers locks.
    fn lock_system(&self, request: &DavCredentials) -> Option<CoreLocks> {
        let locks = self.locks.as_ref()?;
        Some(CoreLocks::new(
            self.fs.clone(),
            locks.clone(),
            request.clone(),
        ))
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
    if parts.method == Method::OPTIONS && !parts.headers.contains_key(header::AUTHORIZATION) {
        return anonymous_options(dav.locks.is_some());
    }
    let actor = match authenticate(&dav.fs.app, &parts, &dav.trusted_proxies).await {
        Ok(a) => a,
        Err(refused) => return refused.into_response(),
    };
    if let Some(refused) = refuse_unbounded_propfind(&parts.method, &parts.headers) {
        return refused;
    }
    if let Some(refused) = refuse_unscannable_if(&parts.headers) {
        return refused;
    }
    if let Some(refused) = refuse_foreign_destination(&parts.headers, &dav.trusted_proxies, &parts)
    {
        return refused;
    }
    let principal = actor.id().map(|id| id.to_string()).unwrap_or_default();
    let credentials = DavCredentials::new(actor, parts.method == Method::DELETE);
    let mut res = if parts.method.as_str() == "PROPFIND" {
        let locks = dav.lock_system(&credentials);
        propfind::answer(dav.fs.clone(), locks, credentials, &parts, body).await
    } else {
        dav.through_dav_server(Request::from_parts(parts, body), principal, credentials)
            .await
    };
    harden(&mut res);
    res
}

impl DavService {
    /// Every method but PROPFIND: dav-server's answer, with the holder of a
    /// lock that refused a write, and the classes this node offers.
    async fn through_dav_server(
        &self,
        req: Request,
        principal: String,
        credentials: DavCredentials,
    ) -> Response {
        let handler = self.handler(&credentials);
        let (res, locked) = noting_locks(handler.handle_guarded(req, principal, credentials)).await;
        let mut res = res.map(Body::new);
        if let Some(holder) = locked.filter(|_| res.status() == StatusCode::FORBIDDEN) {
            res = refused_by_lock(&holder);
        }
        advertise_class(&mut res, self.locks.is_some());
        res
    }
}

/// 423 for a write core refused because of another's lock, saying whose
/// and until when (dav-server could only say 403).
fn refused_by_lock(holder: &str) -> Response {
    (
        StatusCode::LOCKED,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{holder}\n"),
    )
        .into_response()
}

/// The DAV compliance classes this node offers: 1 and 3, and 2 (locking)
/// only with a lock system. dav-server advertises 2 even without one, and
/// `sabredav-partialupdate`, which PUT here does not do (a version is
/// whole content).
fn advertise_class(res: &mut Response, locking: bool) {
    if res.headers().contains_key("dav") {
        advertise_class_always(res, locking);
    }
}

fn advertise_class_always(res: &mut Response, locking: bool) {
    let class = if locking { "1,2,3" } else { "1,3" };
    res.headers_mut()
        .insert("dav", HeaderValue::from_static(class));
}

/// OPTIONS without credentials, as clients send it first (LibreOffice,
/// Windows' Mini-Redirector) and give up if it is refused: what any
/// resource of the tree may offer, the same for every path, so nothing of
/// what exists is told before authentication.
fn anonymous_options(locking: bool) -> Response {
    let allow = if locking {
        "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK"
    } else {
        "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE"
    };
    let mut res = (
        StatusCode::OK,
        [
            (header::ALLOW, allow),
            (header::HeaderName::from_static("ms-author-via"), "DAV"),
        ],
    )
        .into_response();
    advertise_class_always(&mut res, locking);
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

/// An `If:` header with a `<…>` or `[…]` left open at its end (a quote
/// never closed, a client's truncated buffer): dav-server 0.11's scanner
/// indexes past the end of such a header and panics, so it is answered
/// 400 here instead of reaching it. Whitespace inside a token stops that
/// scanner cleanly, so it is left to dav-server's own answer.
fn refuse_unscannable_if(headers: &axum::http::HeaderMap) -> Option<Response> {
    let malformed = headers
        .get_all("if")
        .iter()
        .any(|v| !if_header_is_scannable(v.as_bytes()));
    malformed.then(|| {
        (
            StatusCode::BAD_REQUEST,
            "malformed If header: a <…> or […] is not closed\n",
        )
            .into_response()
    })
}

/// Whether every `<` and `[` of an `If:` value is closed before its end,
/// the way dav-server scans them (quotes toggle, whitespace ends a scan).
fn if_header_is_scannable(v: &[u8]) -> bool {
    let mut i = 0;
    while i < v.len() {
        let close = match v[i] {
            b'<' => b'>',
            b'[' => b']',
            _ => {
                i += 1;
                continue;
            }
        };
        let mut j = i + 1;
        let mut quote = false;
        loop {
            let Some(&c) = v.get(j) else { return false };
            if !quote && c == close {
                break;
            }
            if c.is_ascii_whitespace() {
                break;
            }
            if c == b'"' {
                quote = !quote;
            }
            j += 1;
        }
        i = j + 1;
    }
    true
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

#[cfg(test)]
mod tests {
    use super::if_header_is_scannable;

    #[test]
    fn if_headers_left_open_are_caught_before_dav_server_scans_them() {
        for ok in [
            "(<opaquelocktoken:a> [\"e\"]) (Not <DAV:no-lock> [\"e\"])",
            "<http://h/dav/x> (<opaquelocktoken:a>)",
            "(<a b>)",
            "",
        ] {
            assert!(if_header_is_scannable(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "(<opaquelocktoken:a> [\"e",
            "<",
            "[",
            "(<a",
            "[\"e]\"",
            "(Not <DAV:no-lock> [\"5c1a",
        ] {
            assert!(!if_header_is_scannable(bad.as_bytes()), "{bad}");
        }
    }
}
