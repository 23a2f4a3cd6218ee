//! PROPFIND (RFC 4918 §9.1), answered here rather than by dav-server,
//! over the same file system and lock system (ADR 0007 §2).
//!
//! dav-server 0.11's answer had to be repaired as it streamed: it echoed
//! `resourcetype` in the client's form (LibreOffice, which names it with a
//! default namespace, then took folders for documents and could not save),
//! wrote no 404 `propstat` (a response with none of the named properties
//! had no `propstat` at all, which §14.24 does not allow), wrote `getetag`
//! bare, added every dead property to a `prop` answer, asked the file
//! system for values on `propname`, and built an XML tree per property per
//! entry, then one response per network write. A listing of 5,000
//! documents took longer than Apache's `mod_dav_fs`. Here the answer is
//! written as text in chunks of about 64 KiB (`multistatus`), from one
//! read of the listing, its dead properties and its locks; what each
//! resource answers is `answer`'s.
//!
//! What it answers: `allprop` (DAV's live properties, Windows' for its
//! client, the dead ones, and any `include`), `propname`, and `prop` (each
//! named property, 404 for those absent); Passerelle's own properties
//! when named or listed by name, never in `allprop` (§9.1 leaves them out
//! of it: they are computed). `Depth` 0 or 1; none is taken as 1 (RFC 4918
//! says infinity, which the service refuses when asked for by name:
//! clients that omit the header still get a bounded listing).

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes, to_bytes};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dav_server::davpath::DavPath;
use dav_server::fs::{DavMetaData, FsError};

use crate::answer::Answering;
use crate::fs::{DavCredentials, PasserelleFs, meta_of};
use crate::locks::CoreLocks;
use crate::meta::Meta;
use crate::multistatus::{self, DAV, HEAD, PropName, TAIL};
use crate::paths::Located;

/// The largest PROPFIND body read (dav-server's own limit).
const MAX_BODY: usize = 64 * 1024;
/// About how much of the answer is sent at a time.
const CHUNK: usize = 64 * 1024;
/// The prefix of the tree's paths.
const PREFIX: &str = "/dav";

/// What a PROPFIND asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// `allprop` (or an empty body), with the names of its `include`.
    All(Vec<PropName>),
    /// `propname`.
    Names,
    /// `prop`: these properties.
    Named(Vec<PropName>),
}

/// A request the service refuses before looking anything up.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Body past [`MAX_BODY`]: 413.
    TooLarge,
    /// Body that is not a DAV `propfind`, or a `Depth` that is neither
    /// 0, 1 nor absent: 400.
    Malformed,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::TooLarge => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
            Refused::Malformed => StatusCode::BAD_REQUEST.into_response(),
        }
    }
}

/// Reads what the body asks for.
pub(crate) async fn read(body: Body) -> Result<Wanted, Refused> {
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| Refused::TooLarge)?;
    wanted(&bytes)
}

fn wanted(xml: &[u8]) -> Result<Wanted, Refused> {
    if xml.iter().all(u8::is_ascii_whitespace) {
        return Ok(Wanted::All(Vec::new()));
    }
    let root = xmltree::Element::parse(xml).map_err(|_| Refused::Malformed)?;
    if root.name != "propfind" || !in_dav(&root) {
        return Err(Refused::Malformed);
    }
    let children = || {
        root.children
            .iter()
            .filter_map(xmltree::XMLNode::as_element)
    };
    let include = children()
        .find(|e| e.name == "include" && in_dav(e))
        .map(names_in)
        .unwrap_or_default();
    let kind = children()
        .find(|e| in_dav(e) && matches!(e.name.as_str(), "allprop" | "propname" | "prop"))
        .ok_or(Refused::Malformed)?;
    Ok(match kind.name.as_str() {
        "allprop" => Wanted::All(include),
        "propname" => Wanted::Names,
        _ => Wanted::Named(names_in(kind)),
    })
}

fn in_dav(e: &xmltree::Element) -> bool {
    e.namespace.as_deref() == Some(DAV)
}

fn names_in(e: &xmltree::Element) -> Vec<PropName> {
    e.children
        .iter()
        .filter_map(xmltree::XMLNode::as_element)
        .map(|p| PropName::new(p.namespace.as_deref().unwrap_or(""), &p.name))
        .collect()
}

/// Whether the children are asked for too (`Depth: 1`, or none).
fn depth(headers: &HeaderMap) -> Result<bool, Refused> {
    match headers.get("depth").map(|v| v.to_str().map(str::trim)) {
        None => Ok(true),
        Some(Ok("1")) => Ok(true),
        Some(Ok("0")) => Ok(false),
        Some(_) => Err(Refused::Malformed),
    }
}

/// The request's path in the tree, as dav-server reads it (decoded, `.`
/// and `..` resolved, NUL and `/` refused in a segment).
fn dav_path(parts: &Parts) -> Result<DavPath, StatusCode> {
    let mut path = DavPath::new(parts.uri.path()).map_err(|e| match e {
        dav_server::davpath::ParseError::ForbiddenPath => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    })?;
    path.set_prefix(PREFIX).map_err(|_| StatusCode::NOT_FOUND)?;
    Ok(path)
}

fn status_of(e: FsError) -> StatusCode {
    match e {
        FsError::NotFound => StatusCode::NOT_FOUND,
        FsError::Forbidden => StatusCode::FORBIDDEN,
        FsError::PathTooLong => StatusCode::URI_TOO_LONG,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The path of `name` in the collection `parent` (a collection's path,
/// ending in `/`).
fn child_path(parent: &DavPath, name: &str, dir: bool) -> Option<DavPath> {
    let mut url = parent.with_prefix().as_url_string();
    if !url.ends_with('/') {
        url.push('/');
    }
    url.extend(percent_encoding::utf8_percent_encode(name, SEGMENT));
    if dir {
        url.push('/');
    }
    let mut path = DavPath::new(&url).ok()?;
    path.set_prefix(PREFIX).ok()?;
    Some(path)
}

/// What a path segment keeps unencoded: dav-server's set (so that hrefs
/// are the ones it writes elsewhere, Content-Location, lock roots).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One resource of the answer.
pub(crate) struct Item {
    pub(crate) path: DavPath,
    pub(crate) at: Located,
    pub(crate) meta: Meta,
    /// Its last segment, decoded.
    pub(crate) name: String,
}

impl Item {
    /// What its live properties are computed from.
    pub(crate) fn live(&self) -> crate::live::Resource<'_> {
        crate::live::Resource {
            meta: &self.meta,
            name: &self.name,
        }
    }
}

/// PROPFIND of `parts`' path, as `c`'s actor, with the lock system of
/// the request (`None`: the node offers no locks).
pub(crate) async fn answer(
    fs: PasserelleFs,
    locks: Option<CoreLocks>,
    c: DavCredentials,
    parts: &Parts,
    body: Body,
) -> Response {
    let (wanted, deep) = match request(parts, body).await {
        Ok(asked) => asked,
        Err(refused) => return refused.into_response(),
    };
    let path = match dav_path(parts) {
        Ok(p) => p,
        Err(status) => return status.into_response(),
    };
    let at = match fs.resolve(&c, &path).await {
        Ok(at) => at,
        Err(e) => return status_of(e).into_response(),
    };
    let (items, moved) = items(&fs, &c, path, at, deep).await;
    let microsoft = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.contains("Microsoft"));
    let answering = Arc::new(Answering {
        fs,
        locks,
        c,
        wanted,
        microsoft,
    });
    respond(answering, items, moved)
}

/// What the request asks, and whether for the children too.
async fn request(parts: &Parts, body: Body) -> Result<(Wanted, bool), Refused> {
    let deep = depth(&parts.headers)?;
    Ok((read(body).await?, deep))
}

/// The resources of the answer: `path` (resolved to `at`), then its
/// children when `deep`; and the URL the answer is at when the request
/// named a collection without its slash.
async fn items(
    fs: &PasserelleFs,
    c: &DavCredentials,
    mut path: DavPath,
    at: Located,
    deep: bool,
) -> (Vec<Item>, Option<String>) {
    let meta = meta_of(&at);
    let mut moved = None;
    if meta.is_dir() && !path.is_collection() {
        // Named without its slash: answered at its own name, which the
        // client is told (as dav-server and Apache do).
        let mut url = path.with_prefix().as_url_string();
        url.push('/');
        if let Ok(mut p) = DavPath::new(&url)
            && p.set_prefix(PREFIX).is_ok()
        {
            path = p;
            moved = Some(url);
        }
    }
    let children = if deep && meta.is_dir() {
        match fs.listing(c, &path, &at).await {
            Ok(entries) => entries,
            Err(e) => {
                // As dav-server did: the collection's own answer still stands.
                tracing::info!(error = ?e, "dav: listing not read");
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let mut items = Vec::with_capacity(children.len() + 1);
    for (entry, child) in children {
        let dir = entry.meta.is_dir();
        if let Some(p) = child_path(&path, &entry.name, dir) {
            items.push(Item {
                path: p,
                at: child,
                meta: entry.meta,
                name: entry.name,
            });
        }
    }
    let name = String::from_utf8_lossy(path.file_name_bytes()).into_owned();
    items.insert(
        0,
        Item {
            path,
            at,
            meta,
            name,
        },
    );
    (items, moved)
}

fn respond(answering: Arc<Answering>, items: Vec<Item>, moved: Option<String>) -> Response {
    let state = (answering, items.into_iter(), true, false);
    let chunks = futures::stream::unfold(state, |(a, mut items, first, done)| async move {
        if done {
            return None;
        }
        let mut out = String::with_capacity(CHUNK + 4096);
        if first {
            out.push_str(HEAD);
        }
        let mut finished = false;
        while out.len() < CHUNK {
            let Some(item) = items.next() else {
                out.push_str(TAIL);
                finished = true;
                break;
            };
            let props = a.props(&item).await;
            multistatus::response(&mut out, &item.path.with_prefix().as_url_string(), &props);
        }
        Some((
            Ok::<_, Infallible>(Bytes::from(out)),
            (a, items, false, finished),
        ))
    });
    let mut res = Response::new(Body::from_stream(chunks));
    *res.status_mut() = StatusCode::MULTI_STATUS;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Some(url) = moved.and_then(|u| HeaderValue::from_str(&u).ok()) {
        h.insert(header::CONTENT_LOCATION, url);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_body_is_allprop_and_each_form_is_read() {
        assert_eq!(wanted(b""), Ok(Wanted::All(Vec::new())));
        assert_eq!(wanted(b" \r\n"), Ok(Wanted::All(Vec::new())));
        assert_eq!(
            wanted(br#"<propfind xmlns="DAV:"><propname/></propfind>"#),
            Ok(Wanted::Names)
        );
        assert_eq!(
            wanted(
                br#"<D:propfind xmlns:D="DAV:"><D:allprop/><D:include><Z:x xmlns:Z="urn:z"/></D:include></D:propfind>"#
            ),
            Ok(Wanted::All(vec![PropName::new("urn:z", "x")]))
        );
        assert_eq!(
            wanted(
                br#"<propfind xmlns="DAV:"><prop><resourcetype/><IsReadOnly xmlns="http://ucb.openoffice.org/dav/props/"/><n xmlns=""/></prop></propfind>"#
            ),
            Ok(Wanted::Named(vec![
                PropName::dav("resourcetype"),
                PropName::new("http://ucb.openoffice.org/dav/props/", "IsReadOnly"),
                PropName::new("", "n"),
            ]))
        );
    }

    #[test]
    fn bodies_that_are_not_a_dav_propfind_are_malformed() {
        for bad in [
            &br#"<D:propfind xmlns:D="urn:x"><D:propname/></D:propfind>"#[..],
            br#"<D:propfind xmlns:D="DAV:"><D:propname/>"#,
            br#"<D:propfind xmlns:D="DAV:"></D:propfind>"#,
            br#"<D:propfind xmlns:D="DAV:"><D:other/></D:propfind>"#,
            br#"<propfind><prop/></propfind>"#,
            b"\0",
        ] {
            assert_eq!(
                wanted(bad),
                Err(Refused::Malformed),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn depth_is_zero_one_or_absent() -> Result<(), axum::http::header::InvalidHeaderValue> {
        let mut h = HeaderMap::new();
        assert_eq!(depth(&h), Ok(true));
        for (v, deep) in [
            ("0", Ok(false)),
            (" 1 ", Ok(true)),
            ("2", Err(Refused::Malformed)),
        ] {
            h.insert("depth", HeaderValue::from_str(v)?);
            assert_eq!(depth(&h), deep, "{v}");
        }
        Ok(())
    }

    #[test]
    fn children_paths_are_encoded_as_dav_server_encodes_them() -> Result<(), String> {
        let mut parent = DavPath::new("/dav/plans/").map_err(|e| format!("{e:?}"))?;
        parent.set_prefix(PREFIX).map_err(|e| format!("{e:?}"))?;
        let child = child_path(&parent, "Devis n°2 & co?.odt", false).ok_or("no path")?;
        assert_eq!(
            child.with_prefix().as_url_string(),
            "/dav/plans/Devis%20n%C2%B02%20%26%20co%3F.odt"
        );
        assert_eq!(child.as_bytes(), "/plans/Devis n°2 & co?.odt".as_bytes());
        let dir = child_path(&parent, "lot 1", true).ok_or("no path")?;
        assert_eq!(dir.with_prefix().as_url_string(), "/dav/plans/lot%201/");
        Ok(())
    }
}
