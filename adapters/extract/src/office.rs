//! Office documents in zip containers: ODF (odt, odp: `content.xml`; ods
//! through calamine) and OOXML (docx: `word/document.xml`; pptx: the slides;
//! xlsx through calamine); and Excel 97–2003 (`.xls`, not a zip: an OLE2
//! compound file) through calamine as well. The container is checked before anything is
//! unpacked (entry count, encrypted entries, declared sizes and ratios), and
//! every entry is then read through a counting `take`, since declared sizes
//! can lie. Only the named XML entries are read: archives nested inside are
//! never opened.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::time::Instant;

use calamine::{Data, Ods, Reader, Xls, XlsError, Xlsx};
use passerelle_core::search::{Extraction, ExtractionStatus};
use tempfile::NamedTempFile;
use zip::ZipArchive;
use zip::result::ZipError;

use crate::limits::{DeadlineReader, Limits, TextSink, failure, human, too_large};
use crate::markup::{XmlStyle, xml_text};

type Archive = ZipArchive<FileReader>;

/// Small entries may compress past any ratio (repetitive XML): below this,
/// the ratio is not held against them.
const RATIO_SLACK: u64 = 1024 * 1024;

const ODF: XmlStyle = XmlStyle {
    breaks: &["p", "h", "line-break", "list-item"],
    spaces: &["s", "tab"],
    attributes: &[],
    separate_elements: false,
};

const DOCX: XmlStyle = XmlStyle {
    breaks: &["p", "br", "cr"],
    spaces: &["tab"],
    attributes: &[],
    separate_elements: false,
};

const PPTX: XmlStyle = XmlStyle {
    breaks: &["p", "br"],
    spaces: &[],
    attributes: &[],
    separate_elements: false,
};

/// What a container holds, from its entries.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    OdfText,
    OdfSheet,
    Docx,
    Pptx,
    Xlsx,
    Other,
}

pub(crate) fn extract(file: &NamedTempFile, limits: &Limits, deadline: Instant) -> Extraction {
    let (mut archive, len) = match open(file, deadline) {
        Ok(opened) => opened,
        Err(done) => return done,
    };
    if let Err(done) = guard(&archive, len, limits) {
        return done;
    }
    let mut reading = Reading::new(limits, deadline);
    let done = match kind(&mut archive, &mut reading) {
        Kind::OdfText => reading.xml_entries(&mut archive, &["content.xml"], &ODF),
        Kind::Docx => reading.xml_entries(&mut archive, &["word/document.xml"], &DOCX),
        Kind::Pptx => {
            let slides = slides(&archive);
            let slides: Vec<&str> = slides.iter().map(String::as_str).collect();
            reading.xml_entries(&mut archive, &slides, &PPTX)
        }
        Kind::OdfSheet => reading.sheets::<Ods<_>>(&mut archive, file),
        Kind::Xlsx => reading.sheets::<Xlsx<_>>(&mut archive, file),
        Kind::Other => Err(Extraction::not(
            ExtractionStatus::Unsupported,
            "a zip archive that is not an office document",
        )),
    };
    done.unwrap_or_else(|e| e)
}

/// Excel 97–2003. calamine reads the whole compound file into memory
/// first, so a file over the in-memory bound is `too_large` unread; a
/// workbook with a password is `encrypted` (calamine stops at its
/// `FILEPASS` record).
pub(crate) fn xls(file: &NamedTempFile, limits: &Limits, deadline: Instant) -> Extraction {
    let read = || -> Result<Extraction, Extraction> {
        let (fresh, len) = reader(file, deadline)?;
        if len > limits.max_in_memory {
            return Err(too_large(format!(
                "{} is over the {} parsed in memory",
                human(len),
                human(limits.max_in_memory)
            )));
        }
        let book = Xls::new(fresh).map_err(|e| match e {
            XlsError::Password => {
                Extraction::not(ExtractionStatus::Encrypted, "the workbook has a password")
            }
            e => failure(deadline, format!("xls: {e}")),
        })?;
        Reading::new(limits, deadline).book(book)
    };
    read().unwrap_or_else(|e| e)
}

type FileReader = BufReader<DeadlineReader<File>>;

/// A fresh reader on the spooled file, and its length.
fn reader(file: &NamedTempFile, deadline: Instant) -> Result<(FileReader, u64), Extraction> {
    let broke = |e: io::Error| failure(deadline, format!("reading the temp file: {e}"));
    let f = file.reopen().map_err(broke)?;
    let len = f.metadata().map_err(broke)?.len();
    Ok((BufReader::new(DeadlineReader::new(f, deadline)), len))
}

fn open(file: &NamedTempFile, deadline: Instant) -> Result<(Archive, u64), Extraction> {
    let (reader, len) = reader(file, deadline)?;
    let archive = ZipArchive::new(reader).map_err(|e| zip_failure(e, deadline))?;
    Ok((archive, len))
}

fn zip_failure(e: ZipError, deadline: Instant) -> Extraction {
    match e {
        ZipError::UnsupportedArchive(ZipError::PASSWORD_REQUIRED) | ZipError::InvalidPassword => {
            Extraction::not(ExtractionStatus::Encrypted, "a zip entry is encrypted")
        }
        e => failure(deadline, format!("zip: {e}")),
    }
}

/// The cheap checks on the central directory, before any inflating.
fn guard(archive: &Archive, file_len: u64, limits: &Limits) -> Result<(), Extraction> {
    if archive.len() > limits.max_zip_entries {
        return Err(too_large(format!(
            "{} zip entries, over the {} allowed",
            archive.len(),
            limits.max_zip_entries
        )));
    }
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_data(i)
            .map_err(|e| crate::limits::failed(format!("zip: {e}")))?;
        let name = String::from_utf8_lossy(entry.name_raw());
        if entry.encrypted() {
            return Err(Extraction::not(
                ExtractionStatus::Encrypted,
                format!("zip entry {name} is encrypted"),
            ));
        }
        if is_bomb(entry.size(), entry.compressed_size(), limits) {
            return Err(bomb(&name, entry.size()));
        }
        total = total.saturating_add(entry.size());
    }
    if total > limits.max_unzipped {
        return Err(too_large(format!(
            "{} unzipped, over the {} allowed",
            human(total),
            human(limits.max_unzipped)
        )));
    }
    if is_bomb(total, file_len, limits) {
        return Err(bomb("(all entries)", total));
    }
    Ok(())
}

fn is_bomb(size: u64, compressed: u64, limits: &Limits) -> bool {
    size > RATIO_SLACK && size / compressed.max(1) > limits.max_ratio
}

fn bomb(name: &str, size: u64) -> Extraction {
    too_large(format!(
        "zip entry {name} expands to {} or more, past the compression ratio allowed: zip bomb?",
        human(size)
    ))
}

fn kind(archive: &mut Archive, reading: &mut Reading<'_>) -> Kind {
    let has = |name: &str| archive.index_for_name(name).is_some();
    if has("word/document.xml") {
        return Kind::Docx;
    }
    if has("xl/workbook.xml") {
        return Kind::Xlsx;
    }
    if has("ppt/presentation.xml") {
        return Kind::Pptx;
    }
    if !has("content.xml") {
        return Kind::Other;
    }
    let mut mimetype = Vec::new();
    if let Ok(entry) = archive.by_name("mimetype") {
        // A well-formed mimetype entry is a few dozen bytes.
        let _ = entry.take(200).read_to_end(&mut mimetype);
        reading.spent += mimetype.len() as u64;
    }
    if mimetype.ends_with(b"opendocument.spreadsheet") {
        Kind::OdfSheet
    } else {
        Kind::OdfText
    }
}

/// `ppt/slides/slideN.xml` in slide order (N numerically, not as text).
fn slides(archive: &Archive) -> Vec<String> {
    let mut slides: Vec<(u32, String)> = archive
        .file_names()
        .filter_map(Result::ok)
        .filter_map(|name| {
            let n = name
                .strip_prefix("ppt/slides/slide")?
                .strip_suffix(".xml")?
                .parse()
                .ok()?;
            Some((n, name.into_owned()))
        })
        .collect();
    slides.sort();
    slides.into_iter().map(|(_, name)| name).collect()
}

/// Counts what is unpacked against the limits, and collects the text.
#[derive(Debug)]
struct Reading<'l> {
    limits: &'l Limits,
    deadline: Instant,
    /// Uncompressed bytes read so far, all entries together.
    spent: u64,
    sink: TextSink,
}

impl<'l> Reading<'l> {
    fn new(limits: &'l Limits, deadline: Instant) -> Self {
        Self {
            limits,
            deadline,
            spent: 0,
            sink: TextSink::new(limits.max_text),
        }
    }

    /// Streams the named XML entries into the text, in order; missing
    /// entries are skipped.
    fn xml_entries(
        mut self,
        archive: &mut Archive,
        names: &[&str],
        style: &XmlStyle,
    ) -> Result<Extraction, Extraction> {
        for name in names {
            if self.sink.is_full() {
                break;
            }
            let entry = match archive.by_name(name) {
                Ok(entry) => entry,
                Err(ZipError::FileNotFound) => continue,
                Err(e) => return Err(zip_failure(e, self.deadline)),
            };
            let cap = self.entry_cap(entry.compressed_size());
            let mut counted = Counted::new(entry.take(cap + 1));
            let parsed = xml_text(BufReader::new(&mut counted), style, &mut self.sink);
            self.spend(name, counted.count, cap)?;
            parsed.map_err(|e| failure(self.deadline, format!("{name}: {e}")))?;
            self.sink.newline();
        }
        Ok(self.sink.finish())
    }

    /// What one entry may expand to: its share of the ratio, within what is
    /// left of the total.
    fn entry_cap(&self, compressed: u64) -> u64 {
        let by_ratio = compressed
            .saturating_mul(self.limits.max_ratio)
            .max(RATIO_SLACK);
        by_ratio.min(self.limits.max_unzipped.saturating_sub(self.spent))
    }

    fn spend(&mut self, name: &str, count: u64, cap: u64) -> Result<(), Extraction> {
        self.spent += count;
        if count > cap {
            return Err(bomb(name, count));
        }
        Ok(())
    }

    /// Sheets through calamine, which unpacks entries itself: every entry is
    /// first inflated once through the counting reader, so that calamine
    /// only ever sees a container whose real sizes are within the limits.
    fn sheets<W>(
        mut self,
        archive: &mut Archive,
        file: &NamedTempFile,
    ) -> Result<Extraction, Extraction>
    where
        W: Reader<FileReader>,
        W::Error: std::fmt::Display,
    {
        for i in 0..archive.len() {
            let entry = archive
                .by_index(i)
                .map_err(|e| zip_failure(e, self.deadline))?;
            let name = entry.name().unwrap_or_default().into_owned();
            let cap = self.entry_cap(entry.compressed_size());
            let mut counted = Counted::new(entry.take(cap + 1));
            io::copy(&mut counted, &mut io::sink())
                .map_err(|e| failure(self.deadline, format!("{name}: {e}")))?;
            self.spend(&name, counted.count, cap)?;
        }
        let (fresh, _) = reader(file, self.deadline)?;
        let book = W::new(fresh).map_err(|e| failure(self.deadline, format!("sheet: {e}")))?;
        self.book(book)
    }

    /// Each sheet's name, then its rows, until the text cap.
    fn book<W>(mut self, mut book: W) -> Result<Extraction, Extraction>
    where
        W: Reader<FileReader>,
        W::Error: std::fmt::Display,
    {
        for name in book.sheet_names() {
            let range = book
                .worksheet_range(&name)
                .map_err(|e| failure(self.deadline, format!("sheet {name}: {e}")))?;
            self.sink.push(&name);
            self.sink.newline();
            for row in range.rows() {
                self.row(row);
            }
            if self.sink.is_full() {
                break;
            }
        }
        Ok(self.sink.finish())
    }

    /// A row's non-empty cells, tab separated, on one line.
    fn row(&mut self, row: &[Data]) {
        let mut first = true;
        for cell in row.iter().filter(|c| !matches!(c, Data::Empty)) {
            if !first {
                self.sink.push("\t");
            }
            self.sink.push(&cell.to_string());
            first = false;
        }
        if !first {
            self.sink.newline();
        }
    }
}

/// Counts the bytes that went through, to check real sizes, not declared.
#[derive(Debug)]
struct Counted<R> {
    inner: R,
    count: u64,
}

impl<R> Counted<R> {
    fn new(inner: R) -> Self {
        Self { inner, count: 0 }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}
