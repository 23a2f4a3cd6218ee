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
//! read of the listing, its dead properties and its locks.
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
use dav_server::ls::{DavLock, DavLockSystem};

use crate::fs::{DavCredentials, PasserelleFs, meta_of};
use crate::live::{self, DAV_LIVE, MS_LIVE};
use crate::locks::CoreLocks;
use crate::meta::Meta;
use crate::multistatus::{self, DAV, HEAD, MS, PropName, Props, TAIL, escape_into};
use crate::paths::Located;
use crate::props::{LIVE, NAMESPACE};

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
struct Item {
    path: DavPath,
    at: Located,
    meta: Meta,
    /// Its last segment, decoded.
    name: String,
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
    let wanted = match depth(&parts.headers) {
        Ok(deep) => read(body).await.map(|w| (w, deep)),
        Err(refused) => Err(refused),
    };
    let (wanted, deep) = match wanted {
        Ok(w) => w,
        Err(refused) => return refused.into_response(),
    };
    let mut path = match dav_path(parts) {
        Ok(p) => p,
        Err(status) => return status.into_response(),
    };
    let at = match fs.resolve(&c, &path).await {
        Ok(at) => at,
        Err(e) => return status_of(e).into_response(),
    };
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
    let name = String::from_utf8_lossy(path.file_name_bytes()).into_owned();
    let children = if deep && meta.is_dir() {
        match fs.listing(&c, &path, &at).await {
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
    items.push(Item {
        path: path.clone(),
        at,
        meta,
        name,
    });
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

/// What answers for each resource of one PROPFIND.
struct Answering {
    fs: PasserelleFs,
    locks: Option<CoreLocks>,
    c: DavCredentials,
    wanted: Wanted,
    /// Windows' Mini-Redirector: its properties are in `allprop`.
    microsoft: bool,
}

impl Answering {
    async fn props(&self, item: &Item) -> Props {
        let mut out = Props::default();
        match &self.wanted {
            Wanted::All(include) => self.all(item, include, &mut out).await,
            Wanted::Names => self.names(item, &mut out).await,
            Wanted::Named(names) => {
                for name in names {
                    if !self.named(item, name, &mut out).await {
                        out.missing(name.clone());
                    }
                }
            }
        }
        out
    }

    /// The live properties of `allprop`, then `include`'s, then the dead
    /// ones (an included dead property once).
    async fn all(&self, item: &Item, include: &[PropName], out: &mut Props) {
        let r = live::Resource {
            meta: &item.meta,
            name: &item.name,
        };
        for local in DAV_LIVE {
            live::write(&r, &PropName::dav(local), true, out);
        }
        self.lock_props(item, true, out).await;
        if self.microsoft {
            for local in MS_LIVE {
                live::write(&r, &PropName::new(MS, local), true, out);
            }
        }
        let dead = self.dead(item).await;
        for name in include {
            let listed = is_allprop(name, self.microsoft)
                || dead
                    .iter()
                    .any(|p| p.name.namespace() == name.ns && p.name.name() == name.local);
            if !listed && !self.named(item, name, out).await {
                out.missing(name.clone());
            }
        }
        for p in dead.iter() {
            out.element(&p.xml);
        }
    }

    /// Every property's name: the live ones this resource has, Passerelle's
    /// on a document, the dead ones.
    async fn names(&self, item: &Item, out: &mut Props) {
        let r = live::Resource {
            meta: &item.meta,
            name: &item.name,
        };
        for local in DAV_LIVE {
            live::write(&r, &PropName::dav(local), false, out);
        }
        self.lock_props(item, false, out).await;
        for local in MS_LIVE {
            live::write(&r, &PropName::new(MS, local), false, out);
        }
        if matches!(item.at, Located::Document(..)) {
            for local in LIVE {
                out.empty(&PropName::new(NAMESPACE, local));
            }
        }
        for p in self.dead(item).await.iter() {
            out.empty(&PropName::new(p.name.namespace(), p.name.name()));
        }
    }

    /// Writes `name` if the resource has it; `false` if not.
    async fn named(&self, item: &Item, name: &PropName, out: &mut Props) -> bool {
        match name.ns.as_str() {
            DAV => self.dav_prop(item, name, out).await,
            NAMESPACE => self.passerelle_prop(item, name, out).await,
            _ => {
                let r = live::Resource {
                    meta: &item.meta,
                    name: &item.name,
                };
                live::write(&r, name, true, out) || self.dead_prop(item, name, out).await
            }
        }
    }

    async fn dav_prop(&self, item: &Item, name: &PropName, out: &mut Props) -> bool {
        match name.local.as_str() {
            "supportedlock" => self.supported_lock(out),
            "lockdiscovery" => self.lock_discovery(item, out).await,
            _ => {
                let r = live::Resource {
                    meta: &item.meta,
                    name: &item.name,
                };
                live::write(&r, name, true, out) || self.dead_prop(item, name, out).await
            }
        }
    }

    async fn passerelle_prop(&self, item: &Item, name: &PropName, out: &mut Props) -> bool {
        match self
            .fs
            .passerelle_prop(&self.c, &item.at, &name.local)
            .await
        {
            Some(value) => {
                out.text(name, &value);
                true
            }
            None => false,
        }
    }

    async fn dead_prop(&self, item: &Item, name: &PropName, out: &mut Props) -> bool {
        let dead = self.dead(item).await;
        let found = dead
            .iter()
            .find(|p| p.name.namespace() == name.ns && p.name.name() == name.local);
        if let Some(p) = found {
            out.element(&p.xml);
        }
        found.is_some()
    }

    async fn dead(&self, item: &Item) -> Arc<Vec<passerelle_core::properties::DeadProperty>> {
        let Some(resource) = item.at.resource() else {
            return Arc::default();
        };
        match self.fs.dead_props(&self.c, resource).await {
            Ok(props) => props,
            Err(e) => {
                tracing::info!(error = ?e, "dav: dead properties not read");
                Arc::default()
            }
        }
    }

    /// `supportedlock` and `lockdiscovery`, with values or by name: where
    /// the node offers locks only.
    async fn lock_props(&self, item: &Item, values: bool, out: &mut Props) {
        if self.locks.is_none() {
            return;
        }
        if values {
            self.supported_lock(out);
            self.lock_discovery(item, out).await;
        } else {
            out.empty(&PropName::dav("supportedlock"));
            out.empty(&PropName::dav("lockdiscovery"));
        }
    }

    fn supported_lock(&self, out: &mut Props) -> bool {
        if self.locks.is_none() {
            return false;
        }
        out.xml(
            &PropName::dav("supportedlock"),
            "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>\
             <D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>",
        );
        true
    }

    async fn lock_discovery(&self, item: &Item, out: &mut Props) -> bool {
        let Some(ls) = &self.locks else {
            return false;
        };
        let mut xml = String::new();
        for lock in ls.discover(&item.path).await {
            active_lock(&mut xml, &lock);
        }
        out.xml(&PropName::dav("lockdiscovery"), &xml);
        true
    }
}

/// Whether `allprop` lists `name` already.
fn is_allprop(name: &PropName, microsoft: bool) -> bool {
    (name.ns == DAV
        && (DAV_LIVE.contains(&name.local.as_str())
            || name.local == "supportedlock"
            || name.local == "lockdiscovery"))
        || (microsoft && name.ns == MS && MS_LIVE.contains(&name.local.as_str()))
}

/// One `<D:activelock>` (RFC 4918 §14.1).
fn active_lock(out: &mut String, lock: &DavLock) {
    out.push_str("<D:activelock><D:lockscope>");
    out.push_str(if lock.shared {
        "<D:shared/>"
    } else {
        "<D:exclusive/>"
    });
    out.push_str("</D:lockscope><D:locktype><D:write/></D:locktype><D:depth>");
    out.push_str(if lock.deep { "Infinity" } else { "0" });
    out.push_str("</D:depth><D:timeout>");
    match lock.timeout {
        Some(d) => out.push_str(&format!("Second-{}", d.as_secs())),
        None => out.push_str("Infinite"),
    }
    out.push_str("</D:timeout><D:locktoken><D:href>");
    escape_into(out, &lock.token);
    out.push_str("</D:href></D:locktoken><D:lockroot><D:href>");
    escape_into(out, &lock.path.with_prefix().as_url_string());
    out.push_str("</D:href></D:lockroot>");
    if let Some(owner) = lock.owner.as_deref().and_then(crate::locks::owner_text) {
        out.push_str(&owner);
    }
    out.push_str("</D:activelock>");
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
