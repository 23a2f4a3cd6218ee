//! What a PROPFIND asks for, read before dav-server does, and what its
//! answer needs that dav-server 0.11 leaves out.
//!
//! - `propname` (names only): dav-server asks the file system for every
//!   property *with* its value whatever the request (`get_props(path,
//!   true)`), so without this a `propname` answer would carry values it
//!   must not, and Passerelle's live properties, left out of `allprop`,
//!   could not be listed by name.
//! - `prop` (named properties), two repairs of dav-server's answer
//!   (and, in every PROPFIND answer, `getetag` quoted as RFC 4918 §15.6
//!   asks: dav-server writes it bare):
//!   - it writes `resourcetype` back in the form the client named it; named
//!     with a default namespace (`<resourcetype xmlns="DAV:"/>`, as
//!     LibreOffice does), LibreOffice's parser does not read it back as
//!     DAV's, takes a folder for a document, and refuses to save into it
//!     (`SfxBaseModel::storeSelf: 0x20d`). It is written with the `D:`
//!     prefix, as every other DAV property of the answer.
//!   - it writes only the properties it found, never a 404 `propstat`, so
//!     a resource with none of them gets a `<D:response>` with no
//!     `propstat` at all, which RFC 4918 (§14.24) does not allow. Such
//!     responses get the named properties back as 404, as Apache answers.

use axum::body::{Body, Bytes, to_bytes};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

/// dav-server's own limit on a PROPFIND body.
const MAX_BODY: usize = 64 * 1024;

const DAV: &str = "DAV:";

/// What a PROPFIND asks.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Asked {
    /// `propname`.
    pub(crate) names_only: bool,
    /// `prop`: the properties named, as (namespace, local name).
    pub(crate) named: Vec<(String, String)>,
}

/// The body, read whole and handed back, and what it asks. A body past the
/// limit is refused as dav-server would (413); one that does not parse is
/// left for dav-server to answer (400).
pub(crate) async fn read(body: Body) -> Result<(Body, Asked), Response> {
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response()),
    };
    let asked = asked(&bytes);
    Ok((Body::from(bytes), asked))
}

fn asked(xml: &[u8]) -> Asked {
    if xml.is_empty() {
        return Asked::default();
    }
    let Ok(root) = xmltree::Element::parse(xml) else {
        return Asked::default();
    };
    let dav = |e: &xmltree::Element| e.namespace.as_deref() == Some(DAV);
    if root.name != "propfind" || !dav(&root) {
        return Asked::default();
    }
    let mut out = Asked::default();
    for child in root
        .children
        .iter()
        .filter_map(xmltree::XMLNode::as_element)
    {
        match child.name.as_str() {
            "propname" if dav(child) => out.names_only = true,
            "prop" if dav(child) => {
                out.named = child
                    .children
                    .iter()
                    .filter_map(xmltree::XMLNode::as_element)
                    .map(|p| (p.namespace.clone().unwrap_or_default(), p.name.clone()))
                    .collect();
            }
            _ => {}
        }
    }
    out
}

/// dav-server's answer to a PROPFIND, repaired (see the module's comment):
/// `resourcetype` in DAV's prefix, `getetag` quoted, and each response
/// that found none of `named` given them back as 404.
pub(crate) fn repaired(res: Response, named: &[(String, String)]) -> Response {
    if res.status() != StatusCode::MULTI_STATUS {
        return res;
    }
    let fill = NotFound::new(named);
    let (parts, body) = res.into_parts();
    let state = (body.into_data_stream(), fill, false);
    let chunks = futures::stream::unfold(state, |(mut body, mut fill, done)| async move {
        if done {
            return None;
        }
        match body.next().await {
            Some(Ok(chunk)) => Some((Ok(fill.chunk(&chunk)), (body, fill, false))),
            Some(Err(e)) => Some((Err(e), (body, fill, true))),
            None => Some((Ok(fill.rest()), (body, fill, true))),
        }
    });
    Response::from_parts(parts, Body::from_stream(chunks))
}

/// The rewriting of one answer: responses are closed whole within the
/// chunks dav-server sends (it flushes after each), but a response split
/// across two chunks is joined before it is looked at.
struct NotFound {
    /// The `propstat` to put into an empty response (a `prop` request).
    propstat: Option<String>,
    /// Text after the last complete response of the chunks so far.
    pending: Vec<u8>,
}

const EMPTY: &str = "</D:href></D:response>";
/// `resourcetype` as dav-server echoes it when a client named it with a
/// default namespace (see the module's comment).
const ECHOED_FOLDER: &str =
    "<resourcetype xmlns=\"DAV:\"><D:collection></D:collection></resourcetype>";
const ECHOED_FILE: &str = "<resourcetype xmlns=\"DAV:\"></resourcetype>";
const CLOSE: &[u8] = b"</D:response>";

impl NotFound {
    fn new(named: &[(String, String)]) -> Self {
        let mut propstat = String::from("<D:propstat><D:prop>");
        for (ns, name) in named {
            if ns == DAV {
                propstat.push_str(&format!("<D:{name}/>"));
            } else {
                propstat.push_str(&format!("<{name} xmlns=\"{}\"/>", escape(ns)));
            }
        }
        propstat.push_str("</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>");
        Self {
            propstat: (!named.is_empty()).then_some(propstat),
            pending: Vec::new(),
        }
    }

    fn chunk(&mut self, chunk: &[u8]) -> Bytes {
        self.pending.extend_from_slice(chunk);
        let Some(at) = rfind(&self.pending, CLOSE) else {
            return Bytes::new();
        };
        let ready: Vec<u8> = self.pending.drain(..at + CLOSE.len()).collect();
        let text = String::from_utf8_lossy(&ready);
        let filled = match &self.propstat {
            Some(propstat) => text.replace(EMPTY, &format!("</D:href>{propstat}</D:response>")),
            None => text.into_owned(),
        };
        let filled = filled
            .replace(
                ECHOED_FOLDER,
                "<D:resourcetype><D:collection></D:collection></D:resourcetype>",
            )
            .replace(ECHOED_FILE, "<D:resourcetype></D:resourcetype>");
        Bytes::from(quote_etags(&filled))
    }

    /// What follows the last response (`</D:multistatus>`), at the end.
    fn rest(&mut self) -> Bytes {
        Bytes::from(std::mem::take(&mut self.pending))
    }
}

/// `getetag` values as entity tags (RFC 4918 §15.6: quoted, as in the
/// `ETag` header): dav-server writes them bare in PROPFIND answers.
fn quote_etags(text: &str) -> String {
    const OPEN: &str = "<D:getetag>";
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(at) = rest.find(OPEN) {
        let (before, after) = rest.split_at(at + OPEN.len());
        out.push_str(before);
        if !after.starts_with('"') && !after.starts_with("W/") && !after.starts_with('<') {
            let end = after.find('<').unwrap_or(after.len());
            out.push('"');
            out.push_str(&after[..end]);
            out.push('"');
            rest = &after[end..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_dav_propname_asks_for_names() {
        assert!(
            asked(br#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>"#)
                .names_only
        );
        assert!(asked(br#"<propfind xmlns="DAV:"><propname/></propfind>"#).names_only);
        for not in [
            &br#"<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>"#[..],
            br#"<D:propfind xmlns:D="DAV:"><D:prop><D:propname/></D:prop></D:propfind>"#,
            br#"<D:propfind xmlns:D="urn:x"><D:propname/></D:propfind>"#,
            br#"<D:propfind xmlns:D="DAV:"><D:propname/>"#,
            b"",
        ] {
            assert!(!asked(not).names_only, "{}", String::from_utf8_lossy(not));
        }
    }

    #[test]
    fn etags_are_quoted_once() {
        assert_eq!(
            quote_etags(
                "<D:getetag>ab12</D:getetag><D:getetag>\"cd\"</D:getetag><D:getetag></D:getetag>x"
            ),
            "<D:getetag>\"ab12\"</D:getetag><D:getetag>\"cd\"</D:getetag><D:getetag></D:getetag>x"
        );
    }

    #[test]
    fn the_named_properties_are_read_with_their_namespaces() {
        let a = asked(
            br#"<propfind xmlns="DAV:"><prop><resourcetype/><IsReadOnly xmlns="http://ucb.openoffice.org/dav/props/"/></prop></propfind>"#,
        );
        assert_eq!(
            a.named,
            vec![
                ("DAV:".to_owned(), "resourcetype".to_owned()),
                (
                    "http://ucb.openoffice.org/dav/props/".to_owned(),
                    "IsReadOnly".to_owned()
                )
            ]
        );
    }

    #[test]
    fn an_empty_response_gets_the_named_properties_as_404_across_chunks()
    -> Result<(), std::string::FromUtf8Error> {
        let named = vec![
            ("urn:x\"".to_owned(), "Creatable".to_owned()),
            ("DAV:".to_owned(), "getetag".to_owned()),
        ];
        let mut fill = NotFound::new(&named);
        let mut out = Vec::new();
        for chunk in [
            &b"<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>/a/</D:hr"[..],
            b"ef></D:response><D:response><D:href>/b</D:href><D:propstat><D:prop><D:getetag>x</D:getetag></D:prop>",
            b"<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>",
            b"</D:multistatus>",
        ] {
            out.extend_from_slice(&fill.chunk(chunk));
        }
        out.extend_from_slice(&fill.rest());
        let text = String::from_utf8(out)?;
        assert_eq!(
            text,
            "<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>/a/</D:href>\
             <D:propstat><D:prop><Creatable xmlns=\"urn:x&quot;\"/><D:getetag/></D:prop>\
             <D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>\
             <D:response><D:href>/b</D:href><D:propstat><D:prop><D:getetag>\"x\"</D:getetag></D:prop>\
             <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>"
        );
        assert!(xmltree::Element::parse(text.as_bytes()).is_ok());
        Ok(())
    }
}
