//! The live properties a resource's metadata answers, the same on both
//! roles: DAV's (RFC 4918 §15) and the `Win32…` ones Windows' Mini-
//! Redirector reads. Lock properties are the lock system's and
//! Passerelle's own are core's (both in `propfind`).

use std::time::SystemTime;

use dav_server::fs::DavMetaData;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::multistatus::{DAV, MS, PropName, Props};
use crate::writes::media_type;

/// DAV's live properties read from metadata, in the order an `allprop`
/// answer lists them (`displayname` and `getcontentlanguage` are dead
/// properties here: set by clients, or absent).
pub(crate) const DAV_LIVE: [&str; 6] = [
    "creationdate",
    "getcontentlength",
    "getcontenttype",
    "getetag",
    "getlastmodified",
    "resourcetype",
];

/// Windows' live properties, listed in `allprop` for Windows' client only
/// (as dav-server and IIS do).
pub(crate) const MS_LIVE: [&str; 3] = [
    "Win32CreationTime",
    "Win32FileAttributes",
    "Win32LastModifiedTime",
];

/// One resource as its live properties need it.
pub(crate) struct Resource<'a> {
    pub(crate) meta: &'a dyn DavMetaData,
    /// Its last path segment (the root's is empty).
    pub(crate) name: &'a str,
}

/// Writes `prop` into `out` if the metadata answers it (with its value
/// when `values`, else its name only); `false` if it does not.
pub(crate) fn write(r: &Resource<'_>, prop: &PropName, values: bool, out: &mut Props) -> bool {
    let value = match prop.ns.as_str() {
        DAV => dav(r, &prop.local),
        MS => windows(r, &prop.local),
        _ => None,
    };
    match value {
        Some(_) if !values => out.empty(prop),
        Some(Value::Text(text)) => out.text(prop, &text),
        Some(Value::Xml(xml)) => out.xml(prop, xml),
        None => return false,
    }
    true
}

enum Value {
    Text(String),
    Xml(&'static str),
}

fn dav(r: &Resource<'_>, local: &str) -> Option<Value> {
    let m = r.meta;
    match local {
        "creationdate" => m.created().ok().map(|t| Value::Text(rfc3339(t))),
        "getcontentlength" => (!m.is_dir()).then(|| Value::Text(m.len().to_string())),
        "getcontenttype" => Some(Value::Text(if m.is_dir() {
            "httpd/unix-directory".to_owned()
        } else {
            media_type(r.name)
        })),
        // An entity tag, quoted as in the `ETag` header (§15.6).
        "getetag" => m.etag().map(|e| Value::Text(format!("\"{e}\""))),
        "getlastmodified" => m
            .modified()
            .ok()
            .map(|t| Value::Text(httpdate::fmt_http_date(t))),
        "resourcetype" => Some(Value::Xml(if m.is_dir() { "<D:collection/>" } else { "" })),
        _ => None,
    }
}

fn windows(r: &Resource<'_>, local: &str) -> Option<Value> {
    let m = r.meta;
    match local {
        "Win32CreationTime" => m
            .created()
            .ok()
            .map(|t| Value::Text(httpdate::fmt_http_date(t))),
        "Win32LastModifiedTime" => m
            .modified()
            .ok()
            .map(|t| Value::Text(httpdate::fmt_http_date(t))),
        "Win32FileAttributes" => Some(Value::Text(format!("{:08x}", attributes(r)))),
        _ => None,
    }
}

/// FILE_ATTRIBUTE_HIDDEN for a dot name, then DIRECTORY, or ARCHIVE (set
/// on every file Windows creates or changes).
fn attributes(r: &Resource<'_>) -> u32 {
    let hidden = if r.name.starts_with('.') { 0x02 } else { 0 };
    hidden | if r.meta.is_dir() { 0x10 } else { 0x20 }
}

/// `1996-12-19T16:39:57Z`, to the second (RFC 4918 §15.1 takes RFC 3339).
fn rfc3339(t: SystemTime) -> String {
    let t = OffsetDateTime::from(t);
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::Meta;

    fn answered(meta: &Meta, name: &str, prop: PropName) -> Option<String> {
        let mut out = Props::default();
        let r = Resource { meta, name };
        write(&r, &prop, true, &mut out).then(|| format!("{out:?}"))
    }

    #[test]
    fn a_folder_has_no_length_and_is_a_collection() {
        let folder = Meta::root();
        assert!(answered(&folder, "", PropName::dav("getcontentlength")).is_none());
        let rt = answered(&folder, "", PropName::dav("resourcetype")).unwrap_or_default();
        assert!(rt.contains("<D:resourcetype><D:collection/></D:resourcetype>"));
        let attrs = answered(&folder, ".cache", PropName::new(MS, "Win32FileAttributes"));
        assert!(attrs.unwrap_or_default().contains(">00000012<"));
    }

    #[test]
    fn dates_are_rfc3339_to_the_second_and_http_dates() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_765_000_000_123);
        assert_eq!(rfc3339(t), "2025-12-06T05:46:40Z");
        assert_eq!(httpdate::fmt_http_date(t), "Sat, 06 Dec 2025 05:46:40 GMT");
    }

    #[test]
    fn names_outside_dav_and_windows_are_not_answered_here() {
        let m = Meta::root();
        assert!(answered(&m, "", PropName::new("urn:x", "getetag")).is_none());
        assert!(answered(&m, "", PropName::dav("displayname")).is_none());
        assert!(answered(&m, "", PropName::dav("lockdiscovery")).is_none());
    }
}
