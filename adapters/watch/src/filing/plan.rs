//! What a parser makes of a dropped file: the documents to file, where,
//! typed how, and where their content is; plus what the parsers share (the
//! attachment sink into the scratch directory, names made safe, the hash
//! of a file or a directory).

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use passerelle_core::ContentHash;
use passerelle_core::hash::Hasher;
use passerelle_core::links::LinkKind;
use passerelle_core::names::DocumentName;
use passerelle_core::service::{FlowLink, FlowReference};
use passerelle_flux::{AttachmentSink, FluxError};
use serde_json::{Map, Value};

/// Why a file was not filed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The sender must fix the file: French text for `erreur/`.
    Refused(String),
    /// Passes by itself or by an administrator's fix: the file waits.
    Retry(String),
}

impl Problem {
    /// A file-system failure while reading or staging: it waits.
    pub fn io(e: io::Error) -> Self {
        Problem::Retry(format!("lecture ou écriture impossible : {e}"))
    }

    /// A malformed flow, explained to its sender.
    pub fn flux(e: &FluxError) -> Self {
        Problem::Refused(e.explain())
    }
}

/// Where a document's content is until it is staged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// The dropped file itself, or an attachment decoded into scratch.
    File(PathBuf),
    /// Made by the parser (a bordereau's card): small.
    Bytes(Vec<u8>),
    /// The dropped file itself, staged while it was parsed.
    Dropped,
    /// The flow's attachment of this index, staged as it was decoded.
    Attachment(usize),
}

/// One document to file.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedDocument {
    /// Folders below the drop folder's target.
    pub folder: Vec<String>,
    pub name: String,
    pub doc_type: Option<String>,
    pub metadata: Map<String, Value>,
    pub media_type: Option<String>,
    pub content: Content,
}

/// A dropped file's documents, the flow's own first.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub documents: Vec<PlannedDocument>,
    /// The versions' comment.
    pub comment: String,
    /// What other flows find this one by (an act, an acknowledgement).
    pub reference: Option<FlowReference>,
    /// Links between the documents, by rank.
    pub links: Vec<FlowLink>,
}

/// Links from every document but the first to the first (the flow, the
/// act), as `kind` says for each.
pub fn to_first(
    documents: &[PlannedDocument],
    kind: impl Fn(&PlannedDocument) -> LinkKind,
) -> Vec<FlowLink> {
    documents
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, d)| FlowLink {
            from: i,
            to: 0,
            kind: kind(d),
        })
        .collect()
}

/// Writes attachment `i` to `<scratch>/piece-<i>`.
pub struct ScratchSink<'a> {
    pub dir: &'a Path,
}

impl ScratchSink<'_> {
    pub fn path(&self, index: usize) -> PathBuf {
        self.dir.join(format!("piece-{index}"))
    }
}

impl AttachmentSink for ScratchSink<'_> {
    fn open(&mut self, index: usize) -> io::Result<Box<dyn Write + '_>> {
        Ok(Box::new(BufWriter::with_capacity(
            64 * 1024,
            File::create(self.path(index))?,
        )))
    }
}

/// `raw` if core accepts it as a name, else a name made of its safe
/// characters, else `fallback`. A sender's `NomPJ` may hold a path, a
/// control character or nothing: the document still gets a name, and
/// the original is kept in the metadata.
pub fn safe_name(raw: &str, fallback: &str) -> String {
    if DocumentName::parse(raw).is_ok() {
        return raw.to_owned();
    }
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|'))
        .collect();
    let cleaned = cleaned.trim().trim_matches('.').to_owned();
    if DocumentName::parse(&cleaned).is_ok() {
        cleaned
    } else {
        fallback.to_owned()
    }
}

/// A file's media type by its extension (a label: content is always
/// served as an attachment).
pub fn media_type(name: &str) -> String {
    mime_guess::from_path(name)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
}

/// The stem of a dropped file's name (`PES_2026_0042.xml` →
/// `PES_2026_0042`, `acte.tar.gz` → `acte`): the folder of its documents.
pub fn stem(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let cut = [".tar.gz", ".tgz", ".xml", ".zip"]
        .iter()
        .find(|ext| lower.ends_with(*ext) && lower.len() > ext.len())
        .map_or(name.len(), |ext| name.len() - ext.len());
    safe_name(&name[..cut], "depot")
}

/// The content hash of a file, or of a directory: BLAKE3 over each
/// entry's name and content hash, in name order (so that the same bundle
/// dropped again as a directory is recognised).
pub fn hash_path(path: &Path) -> io::Result<ContentHash> {
    let meta = fs::symlink_metadata(path)?;
    if meta.is_file() {
        return hash_file(path);
    }
    if !meta.is_dir() {
        return Err(io::Error::other("neither a file nor a directory"));
    }
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    for e in fs::read_dir(path)? {
        let e = e?;
        entries.push((e.file_name().to_string_lossy().into_owned(), e.path()));
    }
    entries.sort();
    let mut h = Hasher::new();
    for (name, p) in entries {
        if fs::symlink_metadata(&p)?.is_file() {
            h.update(name.as_bytes());
            h.update(&[0]);
            h.update(hash_file(&p)?.as_bytes());
        }
    }
    Ok(h.finalize())
}

fn hash_file(path: &Path) -> io::Result<ContentHash> {
    let mut f = File::open(path)?;
    let mut h = Hasher::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(h.finalize());
        }
        h.update(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_senders_are_made_safe_or_replaced() {
        assert_eq!(safe_name("facture 12.pdf", "x"), "facture 12.pdf");
        assert_eq!(safe_name("../../etc/passwd", "x"), "passwd");
        assert_eq!(safe_name("C:\\Users\\a\\devis.pdf", "x"), "devis.pdf");
        assert_eq!(safe_name("", "pj-1"), "pj-1");
        assert_eq!(safe_name("..", "pj-1"), "pj-1");
        assert_eq!(safe_name("a\u{0}b.pdf", "x"), "ab.pdf");
    }

    #[test]
    fn stems_drop_known_extensions_only() {
        assert_eq!(stem("PES_2026_0042.xml"), "PES_2026_0042");
        assert_eq!(stem("034-2026-DE.tar.gz"), "034-2026-DE");
        assert_eq!(stem("rapport.pdf"), "rapport.pdf");
        assert_eq!(stem(".xml"), ".xml");
    }

    #[test]
    fn a_directory_hashes_by_names_and_contents() -> io::Result<()> {
        let a = tempfile::tempdir()?;
        let b = tempfile::tempdir()?;
        for d in [a.path(), b.path()] {
            fs::write(d.join("acte.pdf"), b"pdf")?;
            fs::write(d.join("annexe.pdf"), b"annexe")?;
        }
        assert_eq!(hash_path(a.path())?, hash_path(b.path())?);
        fs::write(b.path().join("annexe.pdf"), b"autre")?;
        assert_ne!(hash_path(a.path())?, hash_path(b.path())?);
        fs::rename(b.path().join("annexe.pdf"), b.path().join("annexe2.pdf"))?;
        fs::write(b.path().join("annexe2.pdf"), b"annexe")?;
        assert_ne!(hash_path(a.path())?, hash_path(b.path())?);
        Ok(())
    }
}
