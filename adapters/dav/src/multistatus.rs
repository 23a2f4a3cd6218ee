//! The XML of a PROPFIND answer (RFC 4918 §9.1, §14.16), written as text:
//! one `<D:response>` per resource, what it has under a 200 `propstat`,
//! what was named and is not there under a 404 one, as Apache answers.
//!
//! Written here rather than through an XML tree: a listing of 5,000
//! documents is 5,000 responses of a dozen elements, and building, then
//! serialising, a tree for each was most of the time dav-server spent on
//! such a listing. The text is as safe: names come from parsed XML or
//! from the property store (which only holds parsed names), values are
//! escaped, dead properties are the elements clients sent, kept as parsed
//! and re-serialised XML.

/// DAV's namespace, bound to `D` on the answer's root.
pub(crate) const DAV: &str = "DAV:";
/// Windows' properties (`Win32…`), bound to `Z` where they are written.
pub(crate) const MS: &str = "urn:schemas-microsoft-com:";

/// The start of an answer.
pub(crate) const HEAD: &str =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\">";
/// Its end.
pub(crate) const TAIL: &str = "</D:multistatus>\n";

/// A property's name: its namespace (empty: none) and local name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PropName {
    pub(crate) ns: String,
    pub(crate) local: String,
}

impl PropName {
    pub(crate) fn new(ns: &str, local: &str) -> Self {
        Self {
            ns: ns.to_owned(),
            local: local.to_owned(),
        }
    }

    pub(crate) fn dav(local: &str) -> Self {
        Self::new(DAV, local)
    }

    /// The prefix it is written with, declared on its own element but for
    /// DAV's (declared on the root); `None`: written in a default
    /// namespace (`xmlns="…"`, which also says "no namespace").
    fn prefix(&self) -> Option<&'static str> {
        match self.ns.as_str() {
            DAV => Some("D"),
            crate::props::NAMESPACE => Some("P"),
            MS => Some("Z"),
            _ => None,
        }
    }

    fn open(&self, out: &mut String, empty: bool) {
        out.push('<');
        match self.prefix() {
            Some(p) => {
                out.push_str(p);
                out.push(':');
                out.push_str(&self.local);
                if p != "D" {
                    out.push_str(" xmlns:");
                    out.push_str(p);
                    out.push_str("=\"");
                    escape_attribute(out, &self.ns);
                    out.push('"');
                }
            }
            None => {
                out.push_str(&self.local);
                out.push_str(" xmlns=\"");
                escape_attribute(out, &self.ns);
                out.push('"');
            }
        }
        out.push_str(if empty { "/>" } else { ">" });
    }

    fn close(&self, out: &mut String) {
        out.push_str("</");
        if let Some(p) = self.prefix() {
            out.push_str(p);
            out.push(':');
        }
        out.push_str(&self.local);
        out.push('>');
    }
}

/// What one resource answers: the properties it has (whole elements, in
/// the order found) and the names asked for that it has not.
#[derive(Debug, Default)]
pub(crate) struct Props {
    found: String,
    missing: Vec<PropName>,
}

impl Props {
    /// A property whose value is text (escaped here).
    pub(crate) fn text(&mut self, name: &PropName, value: &str) {
        name.open(&mut self.found, false);
        escape_into(&mut self.found, value);
        name.close(&mut self.found);
    }

    /// A property without a value, or only its name (`propname`).
    pub(crate) fn empty(&mut self, name: &PropName) {
        name.open(&mut self.found, true);
    }

    /// A property whose value is XML written by this crate.
    pub(crate) fn xml(&mut self, name: &PropName, inner: &str) {
        name.open(&mut self.found, false);
        self.found.push_str(inner);
        name.close(&mut self.found);
    }

    /// A dead property: the element as stored, without the XML
    /// declaration its serialisation may begin with.
    pub(crate) fn element(&mut self, xml: &str) {
        self.found.push_str(without_declaration(xml));
    }

    /// A name asked for that the resource does not have.
    pub(crate) fn missing(&mut self, name: PropName) {
        self.missing.push(name);
    }
}

/// Appends the `<D:response>` of `href` (URL-encoded, with its prefix).
pub(crate) fn response(out: &mut String, href: &str, props: &Props) {
    out.push_str("<D:response><D:href>");
    escape_into(out, href);
    out.push_str("</D:href>");
    if !props.found.is_empty() {
        out.push_str("<D:propstat><D:prop>");
        out.push_str(&props.found);
        out.push_str("</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>");
    }
    if !props.missing.is_empty() {
        out.push_str("<D:propstat><D:prop>");
        for name in &props.missing {
            name.open(out, true);
        }
        out.push_str("</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>");
    }
    out.push_str("</D:response>");
}

/// Text as XML character data: quotes stay as they are (an entity tag is
/// `"…"`, as Apache writes it).
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// Text as a double-quoted attribute's value.
fn escape_attribute(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("&quot;"),
            c => escape_into(out, c.encode_utf8(&mut [0; 4])),
        }
    }
}

fn without_declaration(xml: &str) -> &str {
    let xml = xml.trim_start();
    match xml.strip_prefix("<?xml") {
        Some(rest) => rest
            .find("?>")
            .map_or(xml, |end| rest[end + 2..].trim_start()),
        None => xml,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(props: &Props) -> String {
        let mut out = String::from(HEAD);
        response(&mut out, "/dav/a%20b/c&d", props);
        out.push_str(TAIL);
        out
    }

    #[test]
    fn found_and_missing_properties_parse_back_with_their_namespaces() {
        let mut p = Props::default();
        p.text(&PropName::dav("getetag"), "\"ab\"");
        p.empty(&PropName::dav("resourcetype"));
        p.text(&PropName::new(crate::props::NAMESPACE, "author"), "Zoé <z>");
        p.text(&PropName::new(MS, "Win32FileAttributes"), "00000020");
        p.element(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Z:colour xmlns:Z=\"urn:x\">bleu</Z:colour>",
        );
        p.missing(PropName::new("", "nons"));
        p.missing(PropName::new("urn:\"q\"", "odd"));
        let text = answer(&p);
        let root = xmltree::Element::parse(text.as_bytes()).expect("well-formed");
        let response = root.get_child("response").expect("a response");
        let href = response.get_child("href").and_then(|h| h.get_text());
        assert_eq!(href.as_deref(), Some("/dav/a%20b/c&d"));
        let stats: Vec<_> = response
            .children
            .iter()
            .filter_map(xmltree::XMLNode::as_element)
            .filter(|e| e.name == "propstat")
            .collect();
        assert_eq!(stats.len(), 2);
        let found = stats[0].get_child("prop").expect("prop");
        let names: Vec<(Option<&str>, &str)> = found
            .children
            .iter()
            .filter_map(xmltree::XMLNode::as_element)
            .map(|e| (e.namespace.as_deref(), e.name.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                (Some("DAV:"), "getetag"),
                (Some("DAV:"), "resourcetype"),
                (Some(crate::props::NAMESPACE), "author"),
                (Some(MS), "Win32FileAttributes"),
                (Some("urn:x"), "colour"),
            ]
        );
        let author = found.get_child("author").and_then(|a| a.get_text());
        assert_eq!(author.as_deref(), Some("Zoé <z>"));
        let missing = stats[1].get_child("prop").expect("prop");
        let names: Vec<(Option<&str>, &str)> = missing
            .children
            .iter()
            .filter_map(xmltree::XMLNode::as_element)
            .map(|e| (e.namespace.as_deref(), e.name.as_str()))
            .collect();
        assert_eq!(names, vec![(None, "nons"), (Some("urn:\"q\""), "odd")]);
        assert!(text.contains("HTTP/1.1 404 Not Found"));
    }

    #[test]
    fn a_resource_with_nothing_found_has_no_empty_propstat() {
        let mut p = Props::default();
        p.missing(PropName::dav("getcontentlength"));
        let text = answer(&p);
        assert_eq!(text.matches("<D:propstat>").count(), 1);
        assert!(!text.contains("200 OK"));
    }
}
