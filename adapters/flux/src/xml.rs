//! The event stream the parsers read: quick-xml over the file, with the
//! guards a file from outside needs. Decoded from its declared encoding
//! (UTF-8, ISO-8859-1/windows-1252, ISO-8859-15) to UTF-8 before parsing;
//! no DTD (a DOCTYPE is refused: no entity is ever expanded beyond the
//! five predefined ones); nesting bounded; no tag, attribute or text
//! longer than a bound is held in memory; and attachments read raw, in
//! steps, outside quick-xml, which would hold a text node whole.
//!
//! The encoding is read from the declaration here, not by quick-xml's
//! `DecodingReader`: that one can only switch encodings within its first
//! 64 bytes and panics after, which a long declaration would reach.

use std::io::{self, BufRead, BufReader, Cursor, Read};

use encoding_rs::Encoding;
use quick_xml::events::Event;

use crate::{FluxError, Limits};

/// A start (or empty) element: its local name and attributes, decoded.
#[derive(Debug)]
pub(crate) struct Element {
    pub(crate) name: String,
    attrs: Vec<(String, String)>,
}

impl Element {
    pub(crate) fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The `V` attribute, where PES keeps every value (trimmed; an empty
    /// one is absent).
    pub(crate) fn v(&self) -> Option<&str> {
        self.attr("V").map(str::trim).filter(|v| !v.is_empty())
    }
}

/// What the stream gives next.
#[derive(Debug)]
pub(crate) enum Step {
    Start(Element),
    /// The end of the element of this local name (also after an empty one).
    End(String),
    /// The end of the root element: nothing after it is read.
    Done,
}

/// Counts the bytes quick-xml consumes between two `<` or `>`, and fails
/// the next read once a run passes the bound (`consume` cannot fail).
/// Off while an attachment is read raw.
pub(crate) struct Guard<R> {
    inner: R,
    run: usize,
    max: usize,
    over: bool,
    pub(crate) raw: bool,
}

impl<R: BufRead> Read for Guard<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Guard<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.over {
            return Err(io::Error::other(RunTooLong));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if !self.raw
            && let Ok(buf) = self.inner.fill_buf()
        {
            for b in &buf[..amt.min(buf.len())] {
                if *b == b'<' || *b == b'>' {
                    self.run = 0;
                } else {
                    self.run += 1;
                    self.over |= self.run > self.max;
                }
            }
        }
        self.inner.consume(amt);
    }
}

/// The marker of a run past the bound, carried through quick-xml's error.
#[derive(Debug)]
struct RunTooLong;

impl std::fmt::Display for RunTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("run too long")
    }
}

impl std::error::Error for RunTooLong {}

/// The input as UTF-8.
type Utf8<'r> = Box<dyn BufRead + 'r>;

/// How much of the start of a file is searched for its declaration.
const HEAD: usize = 1024;

/// The input, read as UTF-8 from the encoding its declaration names.
fn utf8<'r>(mut input: impl BufRead + 'r) -> Result<Utf8<'r>, FluxError> {
    let mut head = Vec::with_capacity(HEAD);
    (&mut input).take(HEAD as u64).read_to_end(&mut head)?;
    let encoding = declared(&head)?;
    let whole = Cursor::new(head).chain(input);
    if encoding == encoding_rs::UTF_8 {
        return Ok(Box::new(whole));
    }
    Ok(Box::new(BufReader::with_capacity(
        64 * 1024,
        Transcode {
            inner: whole,
            decoder: encoding.new_decoder_without_bom_handling(),
            done: false,
        },
    )))
}

/// The encoding of the declaration at the start of `head` (UTF-8 without
/// one, as XML says).
fn declared(head: &[u8]) -> Result<&'static Encoding, FluxError> {
    let unsupported = |name: &str| FluxError::Encoding {
        name: name.to_owned(),
    };
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(unsupported("UTF-16"));
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let Some(decl) = head.strip_prefix(b"<?xml") else {
        return Ok(encoding_rs::UTF_8);
    };
    let decl = &decl[..decl
        .windows(2)
        .position(|w| w == b"?>")
        .unwrap_or(decl.len())];
    let text = String::from_utf8_lossy(decl);
    let Some(at) = text.find("encoding") else {
        return Ok(encoding_rs::UTF_8);
    };
    let rest = text[at + "encoding".len()..].trim_start();
    let Some(rest) = rest.strip_prefix('=') else {
        return Err(unsupported(&text));
    };
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'');
    let label = quote
        .and_then(|q| rest[1..].split(q).next())
        .ok_or_else(|| unsupported(rest))?;
    match Encoding::for_label(label.as_bytes()) {
        Some(e)
            if e == encoding_rs::UTF_8
                || e == encoding_rs::WINDOWS_1252
                || e == encoding_rs::ISO_8859_15 =>
        {
            Ok(e)
        }
        _ => Err(unsupported(label)),
    }
}

/// A single-byte encoding read as UTF-8, by `BufReader`'s buffer.
struct Transcode<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    done: bool,
}

impl<R: BufRead> Read for Transcode<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        // A byte of these encodings is at most 3 bytes of UTF-8.
        if out.len() < 3 {
            return Err(io::Error::other("transcoding needs a buffer of 3 bytes"));
        }
        loop {
            let src = self.inner.fill_buf()?;
            let last = src.is_empty();
            let room = out.len() / 3;
            let take = src.len().min(room);
            let (_, read, written, _) = self.decoder.decode_to_utf8(&src[..take], out, last);
            self.inner.consume(read);
            if last {
                self.done = true;
            }
            if written > 0 || last {
                return Ok(written);
            }
        }
    }
}

pub(crate) struct XmlStream<'r> {
    reader: quick_xml::Reader<Guard<Utf8<'r>>>,
    buf: Vec<u8>,
    /// Local names of the open elements, root first.
    path: Vec<String>,
    started: bool,
    limits: Limits,
}

impl<'r> XmlStream<'r> {
    pub(crate) fn new(input: impl BufRead + 'r, limits: &Limits) -> Result<Self, FluxError> {
        let guard = Guard {
            inner: utf8(input)?,
            run: 0,
            max: limits.max_run,
            over: false,
            raw: false,
        };
        let mut reader = quick_xml::Reader::from_reader(guard);
        reader.config_mut().expand_empty_elements = true;
        reader.config_mut().check_end_names = true;
        Ok(Self {
            reader,
            buf: Vec::new(),
            path: Vec::new(),
            started: false,
            limits: limits.clone(),
        })
    }

    /// Where the stream is, for messages: `PES_Aller/PES_PJ/PJ`.
    pub(crate) fn path(&self) -> String {
        if self.path.is_empty() {
            "le document".to_owned()
        } else {
            self.path.join("/")
        }
    }

    /// The local name of the parent of the current element (after a
    /// `Start`), or of the element itself (after an `End`).
    pub(crate) fn parent(&self) -> Option<&str> {
        self.path.iter().rev().nth(1).map(String::as_str)
    }

    /// After an `End`: the local name of the element that held it.
    pub(crate) fn parent_after_end(&self) -> Option<&str> {
        self.path.last().map(String::as_str)
    }

    pub(crate) fn depth(&self) -> usize {
        self.path.len()
    }

    fn at(&self) -> u64 {
        self.reader.buffer_position()
    }

    fn xml_error(&self, e: quick_xml::Error) -> FluxError {
        let run = match &e {
            quick_xml::Error::Io(io) => io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<RunTooLong>().is_some()),
            _ => false,
        };
        if run {
            return FluxError::RunTooLong {
                at: self.at(),
                max: self.limits.max_run,
            };
        }
        FluxError::Xml {
            at: self.at(),
            detail: e.to_string(),
        }
    }

    pub(crate) fn next(&mut self) -> Result<Step, FluxError> {
        loop {
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(e) => e,
                Err(e) => return Err(self.xml_error(e)),
            };
            let first = !self.started;
            self.started = true;
            match event {
                // Its encoding was read before parsing (`utf8`).
                Event::Decl(_) if first => {}
                Event::Decl(_) => return Err(FluxError::LateDeclaration { at: self.at() }),
                Event::DocType(_) => return Err(FluxError::Doctype { at: self.at() }),
                Event::Start(e) => {
                    let name = local(e.local_name().as_ref());
                    let mut attrs = Vec::new();
                    for a in e.attributes() {
                        let a = a.map_err(|e| FluxError::Xml {
                            at: self.reader.buffer_position(),
                            detail: e.to_string(),
                        })?;
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| FluxError::Xml {
                                at: self.reader.buffer_position(),
                                detail: e.to_string(),
                            })?;
                        let key = local(a.key.local_name().as_ref());
                        attrs.push((key, value.into_owned()));
                    }
                    self.path.push(name.clone());
                    if self.path.len() > self.limits.max_depth {
                        return Err(FluxError::TooDeep {
                            path: self.path(),
                            max: self.limits.max_depth,
                        });
                    }
                    return Ok(Step::Start(Element { name, attrs }));
                }
                Event::End(e) => {
                    let name = local(e.local_name().as_ref());
                    self.path.pop();
                    return Ok(if self.path.is_empty() {
                        Step::Done
                    } else {
                        Step::End(name)
                    });
                }
                // Parsers stop at the root's end (`Done`): the end of
                // input outside any element means there was none.
                Event::Eof if self.path.is_empty() => return Err(FluxError::NoRoot),
                Event::Eof => {
                    return Err(FluxError::Truncated { path: self.path() });
                }
                // Text, comments, processing instructions, CDATA and
                // references: no PES value lives there.
                _ => {}
            }
        }
    }

    /// The text of the element just started, up to its end (which is
    /// consumed: the stream continues after it). Predefined and numeric
    /// references are resolved; an element inside is refused.
    pub(crate) fn text(&mut self) -> Result<String, FluxError> {
        let mut out = String::new();
        loop {
            self.buf.clear();
            let at = self.reader.buffer_position();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(e) => e,
                Err(e) => return Err(self.xml_error(e)),
            };
            match event {
                Event::Text(t) => out.push_str(&t.xml10_content()),
                Event::CData(t) => out.push_str(&t),
                Event::GeneralRef(r) => {
                    let name: &str = &r;
                    match reference(name) {
                        Some(c) => out.push(c),
                        None => {
                            return Err(FluxError::Xml {
                                at,
                                detail: format!("unknown entity &{name};"),
                            });
                        }
                    }
                }
                Event::End(_) => {
                    self.path.pop();
                    return Ok(out.trim().to_owned());
                }
                Event::Start(_) => {
                    return Err(FluxError::Invalid {
                        path: self.path(),
                        value: "un élément".to_owned(),
                        expected: "du texte seul",
                    });
                }
                Event::Eof => return Err(FluxError::Truncated { path: self.path() }),
                _ => {}
            }
        }
    }

    /// The text of the element just started, read raw up to the next `<`
    /// in steps handed to `take` (attachments: base64, which holds
    /// neither `<` nor `&`; numeric references to whitespace, which some
    /// encoders write for line ends, are dropped). The element's end is
    /// then read by [`next`](Self::next) as usual.
    pub(crate) fn raw_text(
        &mut self,
        mut take: impl FnMut(&[u8]) -> Result<(), FluxError>,
    ) -> Result<(), FluxError> {
        self.reader.get_mut().raw = true;
        let read = self.raw_steps(&mut take);
        let guard = self.reader.get_mut();
        guard.raw = false;
        guard.run = 0;
        read
    }

    fn raw_steps(
        &mut self,
        take: &mut impl FnMut(&[u8]) -> Result<(), FluxError>,
    ) -> Result<(), FluxError> {
        let mut reference: Option<Vec<u8>> = None;
        loop {
            let mut stream = self.reader.stream();
            let buf = stream.fill_buf()?;
            if buf.is_empty() {
                return Err(FluxError::Truncated { path: self.path() });
            }
            // memchr: these two searches see every byte of a flow's
            // attachments, and a byte-by-byte loop was the parse's cost.
            let end = memchr::memchr(b'<', buf);
            let text = &buf[..end.unwrap_or(buf.len())];
            let mut plain_from = 0;
            let mut i = 0;
            while i < text.len() {
                let Some(r) = &mut reference else {
                    // Plain base64 up to the next reference, if any.
                    let Some(at) = memchr::memchr(b'&', &text[i..]) else {
                        break;
                    };
                    take(&text[plain_from..i + at])?;
                    reference = Some(Vec::new());
                    i += at + 1;
                    continue;
                };
                let b = &text[i];
                i += 1;
                if *b == b';' {
                    if !whitespace_reference(r) {
                        return Err(FluxError::Invalid {
                            path: self.path(),
                            value: format!("&{};", String::from_utf8_lossy(r)),
                            expected: "du base64 (lettres, chiffres, +, / et =)",
                        });
                    }
                    reference = None;
                    plain_from = i;
                } else if r.len() > 8 {
                    return Err(FluxError::Invalid {
                        path: self.path(),
                        value: format!("&{}", String::from_utf8_lossy(r)),
                        expected: "du base64 (lettres, chiffres, +, / et =)",
                    });
                } else {
                    r.push(*b);
                }
            }
            if reference.is_none() && plain_from < text.len() {
                take(&text[plain_from..])?;
            }
            let used = text.len();
            stream.consume(used);
            if end.is_some() {
                if reference.is_some() {
                    return Err(FluxError::Truncated { path: self.path() });
                }
                return Ok(());
            }
        }
    }
}

/// A predefined or numeric reference (no DTD, so no other is known).
fn reference(name: &str) -> Option<char> {
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
        "apos" => '\'',
        _ => return None,
    })
}

fn local(name: &str) -> String {
    name.to_owned()
}

/// `#13`, `#xD`, `#10`, `#xA`, `#9`, `#x9`, `#32`, `#x20`.
fn whitespace_reference(r: &[u8]) -> bool {
    let text = String::from_utf8_lossy(r);
    let code = match text.strip_prefix("#x").or_else(|| text.strip_prefix("#X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.strip_prefix('#').and_then(|d| d.parse().ok()),
    };
    matches!(code, Some(9 | 10 | 13 | 32))
}
