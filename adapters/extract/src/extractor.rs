//! The [`Extractor`]: picks a format from the media type, the extension and
//! the first bytes, then hands the content to that format's function, under
//! the overall timeout.

use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use passerelle_core::blob::ByteStream;
use passerelle_core::search::{ExtractInput, Extraction, ExtractionStatus, TextExtractor};
use tempfile::NamedTempFile;
use tokio::sync::OnceCell;

use crate::child::Sandbox;
use crate::limits::{self, Limits, human, too_large};
use crate::{doc, mail, markup, office, pdf, text};

/// Reads text out of documents within [`Limits`]. Cheap to share: the
/// child parsers' sandbox is probed once, on first use.
#[derive(Debug)]
pub struct Extractor {
    limits: Limits,
    sandbox: OnceCell<Sandbox>,
}

/// The formats read, one function each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Text,
    Html,
    Xml,
    Mail,
    Pdf,
    /// Word 97–2003, through catdoc.
    Doc,
    /// Excel 97–2003, through calamine.
    Xls,
    /// A zip container: ODF or OOXML, told apart by its entries.
    Zip,
    Unknown,
}

impl Extractor {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            sandbox: OnceCell::new(),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// How the child parsers (pdftotext, catdoc) run on this machine
    /// (found or not, their own network namespace or not, rlimits or not),
    /// for the node's startup report.
    pub async fn sandbox(&self) -> &Sandbox {
        self.sandbox.get_or_init(Sandbox::probe).await
    }

    async fn run(&self, input: ExtractInput) -> Extraction {
        let mut content = input.content;
        let head = match peek(&mut content, 8).await {
            Ok(head) => head,
            Err(e) => return limits::failed(format!("reading the content: {e}")),
        };
        let format = detect(&input.media_type, &input.name, &head);
        if format != Format::Text && input.size > self.limits.max_input {
            return too_large(format!(
                "{} is over the {} read per document",
                human(input.size),
                human(self.limits.max_input)
            ));
        }
        let content = prepend(head, content);
        match format {
            Format::Text => text::extract(content, &self.limits).await,
            Format::Unknown => unsupported(&input.media_type),
            _ => self.spooled(format, content).await,
        }
    }

    /// Formats read from a file: spooled first, then parsed off the runtime.
    async fn spooled(&self, format: Format, content: ByteStream) -> Extraction {
        let file = match spool(content, self.limits.max_input).await {
            Ok(file) => file,
            Err(done) => return done,
        };
        match format {
            Format::Pdf => {
                return pdf::extract(file.path(), self.sandbox().await, &self.limits).await;
            }
            Format::Doc => {
                return doc::extract(file.path(), self.sandbox().await, &self.limits).await;
            }
            _ => {}
        }
        let limits = self.limits.clone();
        let deadline = Instant::now() + limits.time;
        let work = move || match format {
            Format::Html => markup::html(&file, &limits),
            Format::Xml => markup::xml(&file, &limits, deadline),
            Format::Mail => mail::extract(&file, &limits),
            Format::Xls => office::xls(&file, &limits, deadline),
            _ => office::extract(&file, &limits, deadline),
        };
        match tokio::task::spawn_blocking(work).await {
            Ok(done) => done,
            Err(e) => limits::failed(format!("the extractor broke: {e}")),
        }
    }
}

#[async_trait]
impl TextExtractor for Extractor {
    async fn extract(&self, input: ExtractInput) -> Extraction {
        match tokio::time::timeout(self.limits.time, self.run(input)).await {
            Ok(done) => done,
            Err(_) => limits::timed_out(),
        }
    }
}

fn unsupported(media_type: &str) -> Extraction {
    Extraction::not(
        ExtractionStatus::Unsupported,
        format!("no text read from {media_type}"),
    )
}

/// The format, from the most specific clue to the least: magic bytes that
/// cannot lie cheaply, then the media type, then the extension (media
/// types are often `application/octet-stream`).
pub(crate) fn detect(media_type: &str, name: &str, head: &[u8]) -> Format {
    if head.starts_with(b"%PDF-") {
        return Format::Pdf;
    }
    if head.starts_with(b"PK\x03\x04") {
        return Format::Zip;
    }
    let media = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let by_media = by_media_type(&media);
    if by_media != Format::Unknown {
        return by_media;
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    by_extension(&ext)
}

fn by_media_type(media: &str) -> Format {
    match media {
        "application/pdf" => Format::Pdf,
        "text/html" | "application/xhtml+xml" => Format::Html,
        "text/xml" | "application/xml" => Format::Xml,
        "message/rfc822" => Format::Mail,
        "application/msword" => Format::Doc,
        "application/vnd.ms-excel" => Format::Xls,
        m if m.ends_with("+xml") => Format::Xml,
        m if m.starts_with("application/vnd.oasis.opendocument.")
            || m.starts_with("application/vnd.openxmlformats-officedocument.") =>
        {
            Format::Zip
        }
        m if m.starts_with("text/") => Format::Text,
        _ => Format::Unknown,
    }
}

fn by_extension(ext: &str) -> Format {
    match ext {
        "txt" | "text" | "csv" | "tsv" | "md" | "log" => Format::Text,
        "html" | "htm" | "xhtml" => Format::Html,
        "xml" | "pes" | "actes" => Format::Xml,
        "eml" => Format::Mail,
        "pdf" => Format::Pdf,
        "doc" | "dot" => Format::Doc,
        "xls" | "xlt" => Format::Xls,
        "odt" | "ods" | "odp" | "docx" | "xlsx" | "pptx" => Format::Zip,
        _ => Format::Unknown,
    }
}

/// Reads until at least `n` bytes (or the end) for sniffing.
async fn peek(content: &mut ByteStream, n: usize) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    while head.len() < n {
        match content.next().await {
            Some(chunk) => head.extend_from_slice(&chunk?),
            None => break,
        }
    }
    Ok(head)
}

/// Puts the sniffed bytes back in front of the rest.
fn prepend(head: Vec<u8>, rest: ByteStream) -> ByteStream {
    let first = futures::stream::iter([Ok(Bytes::from(head))]);
    Box::pin(first.chain(rest))
}

/// Copies the stream into a temp file for the formats that need random
/// access (zip, PDF) or a file (pdftotext), stopping past `max` bytes:
/// declared sizes are not trusted.
pub(crate) async fn spool(mut content: ByteStream, max: u64) -> Result<NamedTempFile, Extraction> {
    let broke = |e: std::io::Error| limits::failed(format!("spooling to a temp file: {e}"));
    let file = tempfile::NamedTempFile::new().map_err(broke)?;
    let mut out = tokio::fs::File::from_std(file.reopen().map_err(broke)?);
    let mut written = 0u64;
    while let Some(chunk) = content.next().await {
        let chunk = chunk.map_err(|e| limits::failed(format!("reading the content: {e}")))?;
        written += chunk.len() as u64;
        if written > max {
            return Err(too_large(format!(
                "over the {} read per document",
                human(max)
            )));
        }
        tokio::io::AsyncWriteExt::write_all(&mut out, &chunk)
            .await
            .map_err(broke)?;
    }
    tokio::io::AsyncWriteExt::flush(&mut out)
        .await
        .map_err(broke)?;
    Ok(file)
}

/// Reads a spooled file whole, for the formats parsed in memory.
pub(crate) fn read_whole(file: &NamedTempFile, max: u64) -> Result<Vec<u8>, Extraction> {
    let broke = |e: std::io::Error| limits::failed(format!("reading the temp file: {e}"));
    let len = file.as_file().metadata().map_err(broke)?.len();
    if len > max {
        return Err(too_large(format!(
            "{} is over the {} parsed in memory",
            human(len),
            human(max)
        )));
    }
    std::fs::read(file.path()).map_err(broke)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_win_over_a_generic_media_type() {
        let octets = "application/octet-stream";
        assert_eq!(detect(octets, "x.bin", b"%PDF-1.7"), Format::Pdf);
        assert_eq!(detect(octets, "x", b"PK\x03\x04rest"), Format::Zip);
        assert_eq!(detect(octets, "notes.TXT", b"hello"), Format::Text);
        assert_eq!(detect(octets, "x.bin", b"\x7fELF"), Format::Unknown);
    }

    #[test]
    fn word_and_excel_97_are_told_by_media_type_or_extension() {
        let ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";
        let octets = "application/octet-stream";
        assert_eq!(detect("application/msword", "x", ole), Format::Doc);
        assert_eq!(detect("application/vnd.ms-excel", "x", ole), Format::Xls);
        assert_eq!(detect(octets, "Budget.XLS", ole), Format::Xls);
        assert_eq!(detect(octets, "cctp.doc", ole), Format::Doc);
        // Another compound file (a .msg, a .ppt): nothing reads it.
        assert_eq!(detect(octets, "courrier.msg", ole), Format::Unknown);
    }

    #[test]
    fn media_types_with_parameters_are_read() {
        assert_eq!(detect("text/html; charset=utf-8", "", b"<p>"), Format::Html);
        assert_eq!(detect("application/pes+xml", "", b"<?xml"), Format::Xml);
        assert_eq!(detect("text/csv", "", b"a;b"), Format::Text);
    }
}
