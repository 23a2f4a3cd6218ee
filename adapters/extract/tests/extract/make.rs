//! Test documents, generated here (never copied binaries): PDFs written with
//! pdf-writer, office files with zip's writer, Office 97–2003 files
//! converted from those by LibreOffice, and the byte streams that feed them
//! to the extractor.

use std::io::{Cursor, Write};
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use passerelle_core::blob::ByteStream;
use passerelle_core::search::ExtractInput;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

pub const SENTENCE: &str =
    "Délibération du conseil municipal : rénovation de la piscine de 50 m, coût à l’étude";

/// Bytes as a stream of 64 KiB chunks, like a blob store's.
pub fn stream(bytes: Vec<u8>) -> ByteStream {
    let chunks: Vec<std::io::Result<Bytes>> = bytes
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures::stream::iter(chunks))
}

pub fn input(media_type: &str, name: &str, bytes: Vec<u8>) -> ExtractInput {
    ExtractInput {
        media_type: media_type.into(),
        name: name.into(),
        size: bytes.len() as u64,
        content: stream(bytes),
    }
}

/// A one-page PDF in Helvetica with WinAnsi encoding, so accents survive.
pub fn pdf(lines: &[&str]) -> Vec<u8> {
    let (catalog, tree, page_id, font, content_id) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
    );
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
    page.parent(tree);
    page.contents(content_id);
    page.resources().fonts().pair(Name(b"F1"), font);
    page.finish();
    pdf.type1_font(font)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let mut content = Content::new();
    content.begin_text();
    content.set_font(Name(b"F1"), 11.0);
    content.next_line(40.0, 800.0);
    for line in lines {
        let (winansi, _, _) = encoding_rs::WINDOWS_1252.encode(line);
        content.show(Str(&winansi));
        content.next_line(0.0, -16.0);
    }
    content.end_text();
    pdf.stream(content_id, &content.finish());
    pdf.finish()
}

/// The same PDF claiming standard encryption with a user password that the
/// empty one does not match: pdftotext asks for the password. The trailer
/// is after the cross-reference table, so editing it moves no object.
pub fn encrypted_pdf() -> Vec<u8> {
    let plain = pdf(&["secret"]);
    let at = rfind(&plain, b"trailer").expect("a trailer");
    let after = at + find(&plain[at..], b"<<").expect("a trailer dictionary") + 2;
    let hex32 = "ab".repeat(32);
    let encrypt = format!(
        "\n/Encrypt << /Filter /Standard /V 1 /R 2 /Length 40 /P -4 /O <{hex32}> /U <{hex32}> >>\n/ID [<{hex}> <{hex}>]\n",
        hex = "cd".repeat(16)
    );
    let mut out = plain[..after].to_vec();
    out.extend_from_slice(encrypt.as_bytes());
    out.extend_from_slice(&plain[after..]);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// Builds a zip from (name, content, deflated?) entries.
pub fn zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content, deflated) in entries {
        let method = if *deflated {
            CompressionMethod::Deflated
        } else {
            CompressionMethod::Stored
        };
        let options = SimpleFileOptions::default().compression_method(method);
        zip.start_file(*name, options).expect("start an entry");
        zip.write_all(content).expect("write an entry");
    }
    zip.finish().expect("finish the zip").into_inner()
}

/// Marks every entry encrypted (general purpose flag bit 0) in both the
/// local headers and the central directory: zip's writer cannot make
/// ZipCrypto entries without its `aes-crypto`-era internals.
pub fn mark_encrypted(mut bytes: Vec<u8>) -> Vec<u8> {
    let mut i = 0;
    while i + 4 <= bytes.len() {
        match &bytes[i..i + 4] {
            b"PK\x03\x04" => bytes[i + 6] |= 1,
            b"PK\x01\x02" => bytes[i + 8] |= 1,
            _ => {}
        }
        i += 1;
    }
    bytes
}

const ODF_MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="MIME"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#;

const ODF_NS: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.2""#;

fn odf(mime: &str, body: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODF_NS}><office:body>{body}</office:body></office:document-content>"#
    );
    let manifest = ODF_MANIFEST.replace("MIME", mime);
    zip(&[
        ("mimetype", mime.as_bytes(), false),
        ("META-INF/manifest.xml", manifest.as_bytes(), true),
        ("content.xml", content.as_bytes(), true),
    ])
}

pub fn odt(paragraphs: &[&str]) -> Vec<u8> {
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<text:p>{p}</text:p>"))
        .collect();
    odf(
        "application/vnd.oasis.opendocument.text",
        &format!("<office:text><text:h>Titre</text:h>{body}</office:text>"),
    )
}

pub fn ods(rows: &[&[&str]]) -> Vec<u8> {
    let rows: String = rows
        .iter()
        .map(|row| {
            let cells: String = row
                .iter()
                .map(|c| format!(r#"<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>"#))
                .collect();
            format!("<table:table-row>{cells}</table:table-row>")
        })
        .collect();
    odf(
        "application/vnd.oasis.opendocument.spreadsheet",
        &format!(
            r#"<office:spreadsheet><table:table table:name="Budget">{rows}</table:table></office:spreadsheet>"#
        ),
    )
}

const W_NS: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

pub fn docx(paragraphs: &[&str]) -> Vec<u8> {
    // Words split across runs, as Word does: the runs must not be spaced.
    let body: String = paragraphs
        .iter()
        .map(|p| {
            let middle = p
                .char_indices()
                .nth(p.chars().count() / 2)
                .map_or(0, |(i, _)| i);
            let (a, b) = p.split_at(middle);
            format!("<w:p><w:r><w:t>{a}</w:t></w:r><w:r><w:t>{b}</w:t></w:r></w:p>")
        })
        .collect();
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>"#
    );
    zip(&[
        ("[Content_Types].xml", CONTENT_TYPES_DOCX.as_bytes(), true),
        (
            "_rels/.rels",
            rels("word/document.xml", "officeDocument").as_bytes(),
            true,
        ),
        ("word/document.xml", document.as_bytes(), true),
    ])
}

/// A document entry on its own, for containers built by hand.
pub const DOCX_BODY: &str = r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Visible</w:t></w:r></w:p></w:body></w:document>"#;

const CONTENT_TYPES_DOCX: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

const CONTENT_TYPES_XLSX: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;

fn rels(target: &str, kind: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}" Target="{target}"/></Relationships>"#
    )
}

/// A workbook with one sheet: shared strings in column A, numbers in B.
pub fn xlsx(rows: &[(&str, f64)]) -> Vec<u8> {
    let strings: String = rows
        .iter()
        .map(|(s, _)| format!("<si><t>{s}</t></si>"))
        .collect();
    let shared = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{n}" uniqueCount="{n}">{strings}</sst>"#,
        n = rows.len()
    );
    let cells: String = rows
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            let r = i + 1;
            format!(
                r#"<row r="{r}"><c r="A{r}" t="s"><v>{i}</v></c><c r="B{r}"><v>{v}</v></c></row>"#
            )
        })
        .collect();
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{cells}</sheetData></worksheet>"#
    );
    let workbook = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Budget" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let workbook_rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
    zip(&[
        ("[Content_Types].xml", CONTENT_TYPES_XLSX.as_bytes(), true),
        (
            "_rels/.rels",
            rels("xl/workbook.xml", "officeDocument").as_bytes(),
            true,
        ),
        ("xl/workbook.xml", workbook.as_bytes(), true),
        ("xl/_rels/workbook.xml.rels", workbook_rels.as_bytes(), true),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes(), true),
        ("xl/sharedStrings.xml", shared.as_bytes(), true),
    ])
}

/// A docx whose document entry is `size` zeros deflated, streamed into the
/// writer in 1 MiB pieces: only the compressed bytes are held.
pub fn zip_bomb(size: usize) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file("word/document.xml", options)
        .expect("start an entry");
    let zeros = vec![0u8; 1024 * 1024];
    let mut left = size;
    while left > 0 {
        let n = left.min(zeros.len());
        zip.write_all(&zeros[..n]).expect("write zeros");
        left -= n;
    }
    zip.finish().expect("finish the zip").into_inner()
}

/// `source`, an ODF file the tests made (`name` gives its extension),
/// converted by LibreOffice headless to `format` (`doc`, `xls`): the Office
/// 97–2003 binary formats, which no crate here writes. Each call has its
/// own LibreOffice profile, so that tests convert in parallel.
pub async fn by_libreoffice(name: &str, source: &[u8], format: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join(name);
    std::fs::write(&src, source).expect("write the source");
    let profile = dir.path().join("profile");
    let run = tokio::process::Command::new("soffice")
        .args(["--headless", "--norestore"])
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--convert-to", format, "--outdir"])
        .arg(dir.path())
        .arg(&src)
        .kill_on_drop(true)
        .output();
    // Its first start builds the profile: slow on a loaded machine.
    let out = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("soffice in time")
        .expect("soffice runs");
    let converted = Path::new(&src).with_extension(format);
    std::fs::read(&converted).unwrap_or_else(|e| {
        panic!(
            "soffice made no {}: {e}; {}",
            converted.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
