//! @CTES, the transmission of acts to the prefecture: a bundle (`.tar.gz`)
//! of an envelope (`EnveloppeCLMISILL`: who sends), the act's metadata
//! (`Acte`: date, internal number, nature, classification, object, the
//! act's file and its annexes) and those files; later the prefecture's
//! acknowledgement (`ARActe`). Values are attributes (`actes:Date="…"`)
//! and text (`actes:Objet`, `actes:NomFichier`).
//!
//! A bundle is a `.tar.gz` ([`parse_bundle`]) or a directory
//! ([`parse_directory`]), read once, as a stream: each entry must be a plain file
//! with a one-segment name (no `..`, no `/`, no link, no device), within
//! the limits on entries and declared sizes, checked before its content
//! is read. The XML entries are parsed; the others go to the caller's
//! sink, and must be exactly the files the act names.

use std::io::{BufRead, Read, Write};

use crate::xml::{Step, XmlStream};
use crate::{AttachmentSink, FluxError, Limits};

/// XML entries larger than this are taken for files, not metadata.
const MAX_XML: u64 = 1024 * 1024;

/// Who sends (`EnveloppeCLMISILL/Emetteur/IDCL`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Envelope {
    /// `SIREN` (9 digits).
    pub siren: String,
    pub departement: Option<String>,
    pub arrondissement: Option<String>,
}

/// `CodeNatureActe`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nature {
    Deliberation,
    ActeReglementaire,
    ActeIndividuel,
    ContratConvention,
    DocumentBudgetaire,
    Autre,
}

impl Nature {
    fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "1" => Self::Deliberation,
            "2" => Self::ActeReglementaire,
            "3" => Self::ActeIndividuel,
            "4" => Self::ContratConvention,
            "5" => Self::DocumentBudgetaire,
            "6" => Self::Autre,
            _ => return None,
        })
    }

    /// As the catalogue's field shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Deliberation => "délibération",
            Self::ActeReglementaire => "acte réglementaire",
            Self::ActeIndividuel => "acte individuel",
            Self::ContratConvention => "contrat, convention, avenant",
            Self::DocumentBudgetaire => "document budgétaire et financier",
            Self::Autre => "autre",
        }
    }
}

/// `Acte`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acte {
    /// `Date`: of the decision, `AAAA-MM-JJ`.
    pub date: String,
    /// `NumeroInterne`.
    pub numero_interne: String,
    pub nature: Nature,
    /// `CodeMatiere1`…`5` joined: `9.1`.
    pub matiere: String,
    /// `Objet`.
    pub objet: String,
    /// `Document/NomFichier`: the act itself.
    pub document: String,
    /// `Annexes/Annexe/NomFichier`.
    pub annexes: Vec<String>,
}

/// `ARActe`: the prefecture received an act.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArActe {
    /// `IDActe`: the identifier the prefecture gave.
    pub id_acte: String,
    /// `DateReception`.
    pub date_reception: String,
    /// `ActeRecu/@NumeroInterne`: the act it acknowledges.
    pub numero_interne: String,
    /// `ActeRecu/@Date`.
    pub date: Option<String>,
}

/// One of the three @CTES documents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActesXml {
    Envelope(Envelope),
    Acte(Acte),
    Ar(ArActe),
}

/// A file of a bundle, written to the sink under `index`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleFile {
    pub index: usize,
    pub name: String,
    pub size: u64,
    /// Whether it is the act itself (else an annex).
    pub is_act: bool,
}

/// A bundle read whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActesBundle {
    pub envelope: Envelope,
    pub act: Acte,
    pub files: Vec<BundleFile>,
}

/// Reads one @CTES XML document, whichever of the three it is.
pub fn parse_actes_xml(input: impl BufRead, limits: &Limits) -> Result<ActesXml, FluxError> {
    let mut xml = XmlStream::new(input, limits)?;
    let root = match xml.next()? {
        Step::Start(e) => e,
        Step::End(_) | Step::Done => return Err(FluxError::NoRoot),
    };
    match root.name.as_str() {
        "EnveloppeCLMISILL" => envelope(&mut xml).map(ActesXml::Envelope),
        "Acte" => acte(&mut xml, &root).map(ActesXml::Acte),
        "ARActe" => ar_acte(&mut xml, &root).map(ActesXml::Ar),
        _ => Err(FluxError::NotActes { root: root.name }),
    }
}

fn required(
    xml: &XmlStream<'_>,
    value: Option<&str>,
    what: &'static str,
) -> Result<String, FluxError> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| FluxError::Missing {
            path: xml.path(),
            what,
        })
}

fn envelope(xml: &mut XmlStream<'_>) -> Result<Envelope, FluxError> {
    let mut found = None;
    loop {
        match xml.next()? {
            Step::Start(e) if e.name == "IDCL" && xml.parent() == Some("Emetteur") => {
                let siren = required(xml, e.attr("SIREN"), "Le SIREN de l'émetteur (IDCL/@SIREN)")?;
                if siren.len() != 9 || !siren.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(FluxError::Invalid {
                        path: xml.path(),
                        value: siren,
                        expected: "un SIREN de 9 chiffres",
                    });
                }
                found = Some(Envelope {
                    siren,
                    departement: e.attr("Departement").map(str::to_owned),
                    arrondissement: e.attr("Arrondissement").map(str::to_owned),
                });
            }
            Step::Start(_) | Step::End(_) => {}
            Step::Done => break,
        }
    }
    found.ok_or(FluxError::Missing {
        path: "EnveloppeCLMISILL/Emetteur".to_owned(),
        what: "L'identification de l'émetteur (IDCL)",
    })
}

fn acte(xml: &mut XmlStream<'_>, root: &crate::xml::Element) -> Result<Acte, FluxError> {
    let date = required(xml, root.attr("Date"), "La date de l'acte (@Date)")?;
    check_date(xml, &date)?;
    let numero_interne = required(
        xml,
        root.attr("NumeroInterne"),
        "Le numéro interne de l'acte (@NumeroInterne)",
    )?;
    let code = required(
        xml,
        root.attr("CodeNatureActe"),
        "La nature de l'acte (@CodeNatureActe)",
    )?;
    let nature = Nature::from_code(&code).ok_or_else(|| FluxError::Invalid {
        path: xml.path(),
        value: code.clone(),
        expected: "un code de nature de 1 à 6",
    })?;
    let mut matieres: [Option<String>; 5] = Default::default();
    let (mut objet, mut document, mut annexes) = (None, None, Vec::new());
    loop {
        match xml.next()? {
            Step::Start(e) => {
                let parent = xml.parent().unwrap_or_default().to_owned();
                match (parent.as_str(), e.name.as_str()) {
                    (_, name) if name.starts_with("CodeMatiere") => {
                        let rank = name["CodeMatiere".len()..].parse::<usize>().ok();
                        if let Some(slot) = rank
                            .filter(|r| (1..=5).contains(r))
                            .and_then(|r| matieres.get_mut(r - 1))
                        {
                            *slot = e.attr("CodeMatiere").map(str::to_owned);
                        }
                    }
                    ("Acte", "Objet") => objet = Some(xml.text()?),
                    ("Document", "NomFichier") => document = Some(xml.text()?),
                    ("Annexe", "NomFichier") => annexes.push(xml.text()?),
                    _ => {}
                }
            }
            Step::End(_) => {}
            Step::Done => break,
        }
    }
    let matiere: Vec<String> = matieres.into_iter().map_while(|m| m).collect();
    if matiere.is_empty() {
        return Err(FluxError::Missing {
            path: "Acte".to_owned(),
            what: "La classification de l'acte (CodeMatiere1)",
        });
    }
    Ok(Acte {
        date,
        numero_interne,
        nature,
        matiere: matiere.join("."),
        objet: objet.filter(|o| !o.is_empty()).ok_or(FluxError::Missing {
            path: "Acte".to_owned(),
            what: "L'objet de l'acte (Objet)",
        })?,
        document: document
            .filter(|d| !d.is_empty())
            .ok_or(FluxError::Missing {
                path: "Acte/Document".to_owned(),
                what: "Le fichier de l'acte (Document/NomFichier)",
            })?,
        annexes,
    })
}

fn check_date(xml: &XmlStream<'_>, date: &str) -> Result<(), FluxError> {
    let b = date.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if shape {
        Ok(())
    } else {
        Err(FluxError::Invalid {
            path: xml.path(),
            value: date.to_owned(),
            expected: "une date AAAA-MM-JJ",
        })
    }
}

fn ar_acte(xml: &mut XmlStream<'_>, root: &crate::xml::Element) -> Result<ArActe, FluxError> {
    let id_acte = required(
        xml,
        root.attr("IDActe"),
        "L'identifiant de l'acte (@IDActe)",
    )?;
    let date_reception = required(
        xml,
        root.attr("DateReception"),
        "La date de réception (@DateReception)",
    )?;
    let mut received = None;
    loop {
        match xml.next()? {
            Step::Start(e) if e.name == "ActeRecu" => {
                let numero = required(
                    xml,
                    e.attr("NumeroInterne"),
                    "Le numéro interne de l'acte reçu (ActeRecu/@NumeroInterne)",
                )?;
                received = Some((numero, e.attr("Date").map(str::to_owned)));
            }
            Step::Start(_) | Step::End(_) => {}
            Step::Done => break,
        }
    }
    let (numero_interne, date) = received.ok_or(FluxError::Missing {
        path: "ARActe".to_owned(),
        what: "L'acte reçu (ActeRecu)",
    })?;
    Ok(ArActe {
        id_acte,
        date_reception,
        numero_interne,
        date,
    })
}

/// Whether a bundle entry's name is one plain segment.
fn plain_name(name: &[u8]) -> Option<String> {
    let name = std::str::from_utf8(name).ok()?;
    let bad = name.is_empty()
        || name.len() > 255
        || name == "."
        || name == ".."
        || name.contains(['/', '\\', '\0'])
        || name.chars().any(char::is_control);
    (!bad).then(|| name.to_owned())
}

/// Reads a `.tar.gz` bundle: its envelope and act, and its files into the
/// sink. On error nothing of it is to be filed.
pub fn parse_bundle(
    input: impl Read,
    limits: &Limits,
    sink: &mut dyn AttachmentSink,
) -> Result<ActesBundle, FluxError> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(input));
    let mut bundle = Collector::new(limits, sink);
    for entry in archive.entries()? {
        let entry = entry?;
        let raw_name = entry.path_bytes().into_owned();
        let is_file = entry.header().entry_type().is_file();
        let size = entry.size();
        bundle.take(&raw_name, is_file, size, entry)?;
    }
    bundle.finish()
}

/// Reads a bundle dropped as a directory (its envelope, act and files side
/// by side), under the rules of an archive: plain files with plain names
/// only (a link is refused, never followed), within the same bounds. The
/// entries are read in name order; the files are copied into the sink.
pub fn parse_directory(
    dir: &std::path::Path,
    limits: &Limits,
    sink: &mut dyn AttachmentSink,
) -> Result<ActesBundle, FluxError> {
    let mut entries = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        entries.push((e.file_name(), e.path()));
        if entries.len() > limits.max_bundle_files {
            return Err(FluxError::TooMany {
                what: "fichiers dans le dossier",
                max: limits.max_bundle_files,
            });
        }
    }
    entries.sort();
    let mut bundle = Collector::new(limits, sink);
    for (name, path) in entries {
        // `symlink_metadata`: the entry itself, a link is not followed.
        let meta = std::fs::symlink_metadata(&path)?;
        let raw = name.as_encoded_bytes();
        if meta.is_file() {
            let file = std::fs::File::open(&path)?;
            bundle.take(raw, true, meta.len(), file)?;
        } else {
            bundle.take(raw, false, 0, std::io::empty())?;
        }
    }
    bundle.finish()
}

/// What a bundle's entries have given so far, however they are read.
struct Collector<'a> {
    limits: &'a Limits,
    sink: &'a mut dyn AttachmentSink,
    envelope: Option<Envelope>,
    act: Option<Acte>,
    files: Vec<(usize, String, u64)>,
    count: usize,
    declared_total: u64,
}

impl<'a> Collector<'a> {
    fn new(limits: &'a Limits, sink: &'a mut dyn AttachmentSink) -> Self {
        Self {
            limits,
            sink,
            envelope: None,
            act: None,
            files: Vec::new(),
            count: 0,
            declared_total: 0,
        }
    }

    /// One entry: checked (count, name, kind, declared size) before its
    /// content is read; an envelope or act parsed, any other file copied
    /// into the sink.
    fn take(
        &mut self,
        raw_name: &[u8],
        is_file: bool,
        size: u64,
        mut content: impl Read,
    ) -> Result<(), FluxError> {
        let limits = self.limits;
        if self.count >= limits.max_bundle_files {
            return Err(FluxError::TooMany {
                what: "fichiers dans l'archive",
                max: limits.max_bundle_files,
            });
        }
        self.count += 1;
        let name = plain_name(raw_name).ok_or_else(|| FluxError::UnsafeEntry {
            name: String::from_utf8_lossy(raw_name).into_owned(),
            why: "un nom de fichier simple (sans dossier, sans « .. »)",
        })?;
        if !is_file {
            return Err(FluxError::UnsafeEntry {
                name,
                why: "un fichier ordinaire (pas un lien, un dossier ou un périphérique)",
            });
        }
        self.declared_total = self.declared_total.saturating_add(size);
        if size > limits.max_attachment_bytes || self.declared_total > limits.max_bundle_bytes {
            return Err(FluxError::BundleTooLarge {
                name,
                max: limits.max_bundle_bytes.min(limits.max_attachment_bytes),
            });
        }
        if name.to_ascii_lowercase().ends_with(".xml") && size <= MAX_XML {
            let mut bytes = Vec::with_capacity(size as usize);
            (&mut content).take(MAX_XML).read_to_end(&mut bytes)?;
            match parse_actes_xml(&bytes[..], limits) {
                // A second envelope or act: which one is meant is unknown.
                Ok(ActesXml::Envelope(_)) if self.envelope.is_some() => {
                    return Err(FluxError::UnexpectedFile { name });
                }
                Ok(ActesXml::Acte(_)) if self.act.is_some() => {
                    return Err(FluxError::UnexpectedFile { name });
                }
                Ok(ActesXml::Envelope(e)) => {
                    self.envelope = Some(e);
                    return Ok(());
                }
                Ok(ActesXml::Acte(a)) => {
                    self.act = Some(a);
                    return Ok(());
                }
                Ok(ActesXml::Ar(_)) | Err(FluxError::NotActes { .. }) => {
                    let index = self.files.len();
                    self.sink.open(index)?.write_all(&bytes)?;
                    self.files.push((index, name, bytes.len() as u64));
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
        let index = self.files.len();
        let mut out = self.sink.open(index)?;
        let copied = std::io::copy(&mut content.take(size), &mut out)?;
        out.flush()?;
        self.files.push((index, name, copied));
        Ok(())
    }

    /// The bundle, once every entry is in: an envelope, an act, and
    /// exactly the files the act names.
    fn finish(self) -> Result<ActesBundle, FluxError> {
        let envelope = self.envelope.ok_or(FluxError::Missing {
            path: "l'archive".to_owned(),
            what: "L'enveloppe (EnveloppeCLMISILL)",
        })?;
        let act = self.act.ok_or(FluxError::Missing {
            path: "l'archive".to_owned(),
            what: "Les métadonnées de l'acte (Acte)",
        })?;
        let files = named_files(&act, self.files)?;
        Ok(ActesBundle {
            envelope,
            act,
            files,
        })
    }
}

/// The bundle's files as the act names them: each named file present,
/// nothing else.
fn named_files(act: &Acte, files: Vec<(usize, String, u64)>) -> Result<Vec<BundleFile>, FluxError> {
    let named = |n: &str| n == act.document || act.annexes.iter().any(|a| a == n);
    if let Some((_, extra, _)) = files.iter().find(|(_, n, _)| !named(n)) {
        return Err(FluxError::UnexpectedFile {
            name: extra.clone(),
        });
    }
    for wanted in std::iter::once(&act.document).chain(&act.annexes) {
        if !files.iter().any(|(_, n, _)| n == wanted) {
            return Err(FluxError::MissingFile {
                name: wanted.clone(),
            });
        }
    }
    Ok(files
        .into_iter()
        .map(|(index, name, size)| BundleFile {
            index,
            is_act: name == act.document,
            name,
            size,
        })
        .collect())
}
