//! HTML and XML. HTML: the text outside tags, scripts and styles left out,
//! common entities decoded. XML (PES, ACTES and others): text nodes and the
//! values of `V` attributes, since PES keeps its values in `V="…"`; read as a
//! stream (PES files can be hundreds of MB) in the declared encoding, often
//! ISO-8859-1.

use std::io::{BufRead, BufReader};
use std::time::Instant;

use passerelle_core::search::Extraction;
use quick_xml::encoding::DecodingReader;
use quick_xml::events::{BytesRef, Event};
use tempfile::NamedTempFile;

use crate::extractor::read_whole;
use crate::limits::{DeadlineReader, Limits, TextSink, failed, failure};
use crate::text::decode;

/// Text nodes longer than this with no space are base64 (PES attachments):
/// words nobody searches for, and they would fill the text cap.
const BLOB_RUN: usize = 4096;

/// Elements that end a line of text in HTML.
const HTML_BLOCKS: &[&str] = &[
    "p",
    "br",
    "div",
    "li",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "title",
    "section",
    "article",
    "table",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "hr",
];

pub(crate) fn html(file: &NamedTempFile, limits: &Limits) -> Extraction {
    match read_whole(file, limits.max_in_memory) {
        Ok(bytes) => {
            let mut sink = TextSink::new(limits.max_text);
            html_text(&decode(&bytes, false), &mut sink);
            sink.finish()
        }
        Err(done) => done,
    }
}

/// Walks the markup once: tags are skipped (a block tag leaves a line
/// break), `script` and `style` bodies and comments are dropped, entities
/// decoded in the text between.
pub(crate) fn html_text(html: &str, sink: &mut TextSink) {
    let mut rest = html;
    while !rest.is_empty() && !sink.is_full() {
        let Some(lt) = rest.find('<') else {
            push_text(rest, sink);
            return;
        };
        push_text(&rest[..lt], sink);
        rest = skip_tag(&rest[lt..], sink);
    }
}

/// Skips the tag `rest` starts with (and a script or style body), returning
/// what follows.
fn skip_tag<'a>(rest: &'a str, sink: &mut TextSink) -> &'a str {
    if let Some(comment) = rest.strip_prefix("<!--") {
        return comment.find("-->").map_or("", |end| &comment[end + 3..]);
    }
    let end = rest.find('>').map_or(rest.len(), |i| i + 1);
    let name: String = rest[1..end]
        .trim_start_matches('/')
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let after = &rest[end..];
    if HTML_BLOCKS.contains(&name.as_str()) {
        sink.newline();
    } else {
        // Inline tags between words (`a`, `span`) often stand for a space.
        sink.space();
    }
    if (name == "script" || name == "style") && !rest.starts_with("</") {
        let close = format!("</{name}");
        return find_ascii_ci(after, &close).map_or("", |i| &after[i..]);
    }
    after
}

/// Where `needle` (ASCII) starts in `hay`, ignoring case.
fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// Text between tags: whitespace runs folded, entities decoded.
fn push_text(text: &str, sink: &mut TextSink) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        push_folded(&rest[..amp], sink);
        let after = &rest[amp + 1..];
        // Entity names are short: looking further would make a run of
        // bare `&` quadratic.
        match after.bytes().take(12).position(|b| b == b';') {
            Some(semi) => {
                match entity(&after[..semi]) {
                    Some(c) => sink.push(c.encode_utf8(&mut [0; 4])),
                    None => sink.push(&rest[amp..amp + semi + 2]),
                };
                rest = &after[semi + 1..];
            }
            None => {
                sink.push("&");
                rest = after;
            }
        }
    }
    push_folded(rest, sink);
}

fn push_folded(text: &str, sink: &mut TextSink) {
    let mut words = text.split_whitespace().peekable();
    if text.starts_with(char::is_whitespace) {
        sink.space();
    }
    while let Some(word) = words.next() {
        sink.push(word);
        if words.peek().is_some() || text.ends_with(char::is_whitespace) {
            sink.space();
        }
    }
}

/// The common named entities of French text, and numeric ones.
fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|&c| c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" | "rsquo" => '\'',
        "nbsp" => ' ',
        "eacute" => 'é',
        "egrave" => 'è',
        "ecirc" => 'ê',
        "euml" => 'ë',
        "agrave" => 'à',
        "acirc" => 'â',
        "ccedil" => 'ç',
        "icirc" => 'î',
        "iuml" => 'ï',
        "ocirc" => 'ô',
        "ugrave" => 'ù',
        "ucirc" => 'û',
        "Eacute" => 'É',
        "Egrave" => 'È',
        "Agrave" => 'À',
        "Ccedil" => 'Ç',
        "oelig" => 'œ',
        "laquo" => '«',
        "raquo" => '»',
        "lsquo" => '‘',
        "ldquo" => '“',
        "rdquo" => '”',
        "hellip" => '…',
        "ndash" => '–',
        "mdash" => '—',
        "euro" => '€',
        "deg" => '°',
        "copy" => '©',
        _ => return None,
    })
}

/// How an XML vocabulary lays out its text.
#[derive(Debug)]
pub(crate) struct XmlStyle {
    /// Local names of elements that end a line (`p` in ODF, `w:p`).
    pub breaks: &'static [&'static str],
    /// Local names of elements that stand for a tab or a space.
    pub spaces: &'static [&'static str],
    /// Local names of attributes whose values are text.
    pub attributes: &'static [&'static str],
    /// Whether every element boundary separates words (data XML), or only
    /// `breaks` and `spaces` do (office XML splits words across runs).
    pub separate_elements: bool,
}

/// Data XML: PES, ACTES, anything else.
const DATA_XML: XmlStyle = XmlStyle {
    breaks: &[],
    spaces: &[],
    attributes: &["V"],
    separate_elements: true,
};

pub(crate) fn xml(file: &NamedTempFile, limits: &Limits, deadline: Instant) -> Extraction {
    let reader = match file.reopen() {
        Ok(f) => BufReader::new(DeadlineReader::new(f, deadline)),
        Err(e) => return failed(format!("reading the temp file: {e}")),
    };
    let mut sink = TextSink::new(limits.max_text);
    match xml_text(reader, &DATA_XML, &mut sink) {
        Ok(()) => sink.finish(),
        Err(e) => failure(deadline, format!("XML: {e}")),
    }
}

/// Streams XML events into the sink, stopping once it is full.
pub(crate) fn xml_text<R: BufRead>(
    input: R,
    style: &XmlStyle,
    sink: &mut TextSink,
) -> Result<(), quick_xml::Error> {
    // DecodingReader turns the declared encoding (ISO-8859-1 in many PES
    // files) into the UTF-8 the parser expects, once told by the `Decl`.
    let mut reader = quick_xml::Reader::from_reader(DecodingReader::new(input));
    let mut buf = Vec::new();
    while !sink.is_full() {
        match reader.read_event_into(&mut buf)? {
            Event::Decl(e) => {
                if let Some(encoding) = e.encoder() {
                    reader.get_mut().set_encoding(encoding);
                }
            }
            Event::Start(e) | Event::Empty(e) => {
                let local = e.local_name();
                let name: &str = local.as_ref();
                if style.separate_elements {
                    sink.space();
                } else if style.spaces.contains(&name) {
                    sink.push(" ");
                }
                if style.breaks.contains(&name) {
                    sink.newline();
                }
                for attr in e.attributes().flatten() {
                    if style.attributes.contains(&attr.key.local_name().as_ref()) {
                        let value = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)?;
                        push_xml_text(&value, sink);
                        sink.space();
                    }
                }
            }
            Event::End(e) => {
                if style.breaks.contains(&e.local_name().as_ref()) {
                    sink.newline();
                } else if style.separate_elements {
                    sink.space();
                }
            }
            Event::Text(e) => push_xml_text(&e.xml10_content(), sink),
            Event::CData(e) => push_xml_text(&e, sink),
            Event::GeneralRef(e) => push_reference(&e, sink),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(())
}

fn push_xml_text(text: &str, sink: &mut TextSink) {
    if text.len() > BLOB_RUN && !text.trim().contains(char::is_whitespace) {
        return;
    }
    sink.push(text);
}

/// `&amp;` and friends arrive as their own events; only the predefined and
/// numeric ones are known without a DTD.
fn push_reference(e: &BytesRef<'_>, sink: &mut TextSink) {
    if let Some(c) = entity(e) {
        sink.push(c.encode_utf8(&mut [0; 4]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html_of(s: &str) -> String {
        let mut sink = TextSink::new(1000);
        html_text(s, &mut sink);
        sink.finish().text
    }

    #[test]
    fn scripts_styles_and_comments_are_left_out() {
        let text = html_of(
            "<html><head><style>p{}</style><SCRIPT>var secret=1;</script></head>\
             <body><!-- hidden --><p>Conseil&nbsp;municipal &amp; d&eacute;lib&#233;ration</p></body>",
        );
        assert_eq!(text, "Conseil municipal & délibération");
    }

    #[test]
    fn blocks_end_lines_and_inline_tags_do_not_glue_words() {
        assert_eq!(
            html_of("<p>un</p><p>deux <b>trois</b></p>"),
            "un\ndeux trois"
        );
    }

    #[test]
    fn bare_ampersands_stay_as_they_are() {
        assert_eq!(html_of("<p>Dupont & fils; R&D</p>"), "Dupont & fils; R&D");
    }

    #[test]
    fn data_xml_gives_text_nodes_and_v_values() {
        let xml = r#"<?xml version="1.0"?><PES><Libelle V="Piscine &amp; stade"/><Obj>Travaux</Obj></PES>"#;
        let mut sink = TextSink::new(1000);
        xml_text(xml.as_bytes(), &DATA_XML, &mut sink).expect("valid XML");
        assert_eq!(sink.finish().text, "Piscine & stade Travaux");
    }
}
