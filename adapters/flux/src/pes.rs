//! Helios PES V2 outbound files (`PES_Aller`), as finance applications
//! send them to the DGFiP: the header (`EnTetePES`: collectivité, budget,
//! poste comptable), each domain present (`PES_DepenseAller`,
//! `PES_RecetteAller`, `PES_PJ`), each `Bordereau` (exercice, numéro,
//! type, pièces, montant) and each attachment of `PES_PJ`, decoded into
//! the caller's sink as it is read. Values are in `V` attributes.
//!
//! A signed file (`ds:Signature` elements) is read as it is: signatures
//! are skipped, and the caller keeps the file whole so that it stays
//! verifiable.

use std::io::BufRead;
use std::str::FromStr;

use rust_decimal::Decimal;

pub use crate::AttachmentSink;
use crate::base64::Decoder;
use crate::xml::{Element, Step, XmlStream};
use crate::{FluxError, Limits};

/// What a PES file holds (its attachments' content went to the sink).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PesFlux {
    pub header: PesHeader,
    /// The domains present, in the file's order.
    pub domains: Vec<PesDomain>,
    pub bordereaux: Vec<Bordereau>,
    pub attachments: Vec<Attachment>,
}

/// `EnTetePES`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PesHeader {
    /// `IdColl`: the collectivité's SIRET (14 digits).
    pub siret: String,
    /// `CodCol`.
    pub code_collectivite: Option<String>,
    /// `CodBud`.
    pub code_budget: Option<String>,
    /// `LibelleColBud`.
    pub libelle: Option<String>,
    /// `IdPost`: the poste comptable.
    pub poste_comptable: Option<String>,
    /// `DteStr`: the file's date, as written (`AAAA-MM-JJ`).
    pub date: Option<String>,
}

/// A domain of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PesDomain {
    /// `PES_DepenseAller`.
    Depense,
    /// `PES_RecetteAller`.
    Recette,
    /// `PES_PJ`.
    PiecesJointes,
}

impl PesDomain {
    fn of(element: &str) -> Option<Self> {
        match element {
            "PES_DepenseAller" => Some(Self::Depense),
            "PES_RecetteAller" => Some(Self::Recette),
            "PES_PJ" => Some(Self::PiecesJointes),
            _ => None,
        }
    }

    /// As the catalogue's field shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Depense => "dépense",
            Self::Recette => "recette",
            Self::PiecesJointes => "pièces justificatives",
        }
    }
}

/// A `Bordereau` of a dépense or recette domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bordereau {
    pub domain: PesDomain,
    /// `Exer`.
    pub exercice: u16,
    /// `IdBord`.
    pub numero: String,
    /// `TypBord`.
    pub type_bordereau: Option<String>,
    /// `NbrPce`, checked against the `Piece` elements.
    pub pieces: u32,
    /// `MtBordHT`: the bordereau's total, exact.
    pub montant: Option<Decimal>,
}

/// An attachment of `PES_PJ` (`PJ`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// Its rank in the file, as given to the sink.
    pub index: usize,
    /// `NomPJ`.
    pub name: String,
    /// `Fichier/@MIMEType`.
    pub media_type: Option<String>,
    /// `IdUnique`.
    pub id_unique: Option<String>,
    /// `TypePJ`.
    pub type_pj: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// Decoded bytes written to the sink.
    pub size: u64,
}

/// Reads a whole PES file; on error nothing of it is to be filed (what the
/// sink received is to be discarded).
pub fn parse_pes(
    input: impl BufRead,
    limits: &Limits,
    sink: &mut dyn AttachmentSink,
) -> Result<PesFlux, FluxError> {
    let mut xml = XmlStream::new(input, limits)?;
    let root = match xml.next()? {
        Step::Start(e) => e,
        Step::End(_) | Step::Done => return Err(FluxError::NoRoot),
    };
    if root.name != "PES_Aller" {
        return Err(FluxError::NotPes { root: root.name });
    }
    let mut p = Parser {
        limits,
        header: PesHeader::default(),
        siret_seen: false,
        domains: Vec::new(),
        bordereaux: Vec::new(),
        bordereau: None,
        attachments: Vec::new(),
        attachment: None,
    };
    loop {
        match xml.next()? {
            Step::Start(e) => p.start(&mut xml, e, sink)?,
            Step::End(name) => p.end(&xml, &name)?,
            Step::Done => return p.finish(),
        }
    }
}

/// A bordereau being read.
struct OpenBordereau {
    domain: PesDomain,
    exercice: Option<String>,
    numero: Option<String>,
    type_bordereau: Option<String>,
    declared: Option<String>,
    montant: Option<String>,
    found: u32,
}

/// An attachment being read.
struct OpenAttachment {
    name: Option<String>,
    media_type: Option<String>,
    id_unique: Option<String>,
    type_pj: Option<String>,
    description: Option<String>,
    size: Option<u64>,
}

struct Parser<'l> {
    limits: &'l Limits,
    header: PesHeader,
    siret_seen: bool,
    domains: Vec<PesDomain>,
    bordereaux: Vec<Bordereau>,
    bordereau: Option<OpenBordereau>,
    attachments: Vec<Attachment>,
    attachment: Option<OpenAttachment>,
}

fn owned(v: Option<&str>) -> Option<String> {
    v.map(str::to_owned)
}

impl Parser<'_> {
    fn start(
        &mut self,
        xml: &mut XmlStream<'_>,
        e: Element,
        sink: &mut dyn AttachmentSink,
    ) -> Result<(), FluxError> {
        let parent = xml.parent().unwrap_or_default().to_owned();
        match parent.as_str() {
            "PES_Aller" => self.domain(&e),
            "EnTetePES" if xml.depth() == 3 => self.header_value(xml, &e),
            "PES_DepenseAller" | "PES_RecetteAller" if e.name == "Bordereau" => {
                self.open_bordereau(&parent)
            }
            "BlocBordereau" => {
                self.bordereau_value(&e);
                Ok(())
            }
            "Bordereau" if e.name == "Piece" => {
                if let Some(b) = &mut self.bordereau {
                    b.found += 1;
                }
                Ok(())
            }
            "PES_PJ" if e.name == "PJ" => self.open_attachment(),
            "Contenu" if e.name == "Fichier" => self.content(xml, &e, sink),
            "PJ" => {
                self.attachment_value(&e);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn domain(&mut self, e: &Element) -> Result<(), FluxError> {
        if let Some(d) = PesDomain::of(&e.name) {
            self.domains.push(d);
        }
        Ok(())
    }

    fn header_value(&mut self, xml: &XmlStream<'_>, e: &Element) -> Result<(), FluxError> {
        let h = &mut self.header;
        match e.name.as_str() {
            "IdColl" => {
                let siret = e.v().unwrap_or_default();
                if siret.len() != 14 || !siret.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(FluxError::Invalid {
                        path: xml.path(),
                        value: siret.to_owned(),
                        expected: "un SIRET de 14 chiffres",
                    });
                }
                h.siret = siret.to_owned();
                self.siret_seen = true;
            }
            "CodCol" => h.code_collectivite = owned(e.v()),
            "CodBud" => h.code_budget = owned(e.v()),
            "LibelleColBud" => h.libelle = owned(e.v()),
            "IdPost" => h.poste_comptable = owned(e.v()),
            "DteStr" => h.date = owned(e.v()),
            _ => {}
        }
        Ok(())
    }

    fn open_bordereau(&mut self, domain: &str) -> Result<(), FluxError> {
        if self.bordereaux.len() >= self.limits.max_bordereaux {
            return Err(FluxError::TooMany {
                what: "bordereaux",
                max: self.limits.max_bordereaux,
            });
        }
        self.bordereau = PesDomain::of(domain).map(|domain| OpenBordereau {
            domain,
            exercice: None,
            numero: None,
            type_bordereau: None,
            declared: None,
            montant: None,
            found: 0,
        });
        Ok(())
    }

    fn bordereau_value(&mut self, e: &Element) {
        let Some(b) = &mut self.bordereau else {
            return;
        };
        let v = owned(e.v());
        match e.name.as_str() {
            "Exer" => b.exercice = v,
            "IdBord" => b.numero = v,
            "TypBord" => b.type_bordereau = v,
            "NbrPce" => b.declared = v,
            // Spelt both ways by the applications that write PES.
            "MtBordHT" | "MtBordHt" => b.montant = v,
            _ => {}
        }
    }

    fn close_bordereau(&mut self, xml: &XmlStream<'_>) -> Result<(), FluxError> {
        let Some(b) = self.bordereau.take() else {
            return Ok(());
        };
        let path = format!("{}/Bordereau", xml.path());
        let numero = b.numero.ok_or_else(|| FluxError::Missing {
            path: path.clone(),
            what: "Le numéro du bordereau (IdBord)",
        })?;
        let exercice = b.exercice.ok_or_else(|| FluxError::Missing {
            path: path.clone(),
            what: "L'exercice du bordereau (Exer)",
        })?;
        let exercice = exercice
            .parse::<u16>()
            .ok()
            .filter(|y| (1990..=2999).contains(y))
            .ok_or_else(|| FluxError::Invalid {
                path: format!("{path}/Exer"),
                value: exercice.clone(),
                expected: "une année sur 4 chiffres",
            })?;
        let declared = match b.declared {
            None => b.found,
            Some(n) => n.parse::<u32>().map_err(|_| FluxError::Invalid {
                path: format!("{path}/NbrPce"),
                value: n.clone(),
                expected: "un nombre de pièces",
            })?,
        };
        if declared != b.found {
            return Err(FluxError::PieceCount {
                bordereau: numero,
                declared,
                found: b.found,
            });
        }
        let montant = match b.montant {
            None => None,
            Some(m) => Some(Decimal::from_str(&m).map_err(|_| FluxError::Invalid {
                path: format!("{path}/MtBordHT"),
                value: m.clone(),
                expected: "un montant (par exemple 1234.56)",
            })?),
        };
        self.bordereaux.push(Bordereau {
            domain: b.domain,
            exercice,
            numero,
            type_bordereau: b.type_bordereau,
            pieces: declared,
            montant,
        });
        Ok(())
    }

    fn open_attachment(&mut self) -> Result<(), FluxError> {
        if self.attachments.len() >= self.limits.max_attachments {
            return Err(FluxError::TooMany {
                what: "pièces jointes",
                max: self.limits.max_attachments,
            });
        }
        self.attachment = Some(OpenAttachment {
            name: None,
            media_type: None,
            id_unique: None,
            type_pj: None,
            description: None,
            size: None,
        });
        Ok(())
    }

    fn attachment_value(&mut self, e: &Element) {
        let Some(a) = &mut self.attachment else {
            return;
        };
        let v = owned(e.v());
        match e.name.as_str() {
            "NomPJ" => a.name = v,
            "IdUnique" => a.id_unique = v,
            "TypePJ" => a.type_pj = v,
            "Description" => a.description = v,
            _ => {}
        }
    }

    /// `Fichier`: the base64 content, decoded into the sink as it is read.
    fn content(
        &mut self,
        xml: &mut XmlStream<'_>,
        e: &Element,
        sink: &mut dyn AttachmentSink,
    ) -> Result<(), FluxError> {
        let index = self.attachments.len();
        let Some(a) = &mut self.attachment else {
            return Ok(());
        };
        if a.size.is_some() {
            return Err(FluxError::Invalid {
                path: xml.path(),
                value: "Fichier".to_owned(),
                expected: "un seul contenu par pièce jointe",
            });
        }
        a.media_type = owned(e.attr("MIMEType"));
        let mut decoder = Decoder::new(sink.open(index)?, index, self.limits.max_attachment_bytes);
        xml.raw_text(|text| decoder.feed(text))?;
        a.size = Some(decoder.finish()?);
        Ok(())
    }

    fn close_attachment(&mut self, xml: &XmlStream<'_>) -> Result<(), FluxError> {
        let Some(a) = self.attachment.take() else {
            return Ok(());
        };
        let path = format!("{}/PJ", xml.path());
        let name = a.name.ok_or_else(|| FluxError::Missing {
            path: path.clone(),
            what: "Le nom de la pièce jointe (NomPJ)",
        })?;
        let size = a.size.ok_or(FluxError::Missing {
            path,
            what: "Le contenu de la pièce jointe (Contenu/Fichier)",
        })?;
        self.attachments.push(Attachment {
            index: self.attachments.len(),
            name,
            media_type: a.media_type,
            id_unique: a.id_unique,
            type_pj: a.type_pj,
            description: a.description,
            size,
        });
        Ok(())
    }

    fn end(&mut self, xml: &XmlStream<'_>, name: &str) -> Result<(), FluxError> {
        match (name, xml.parent_after_end()) {
            ("Bordereau", Some("PES_DepenseAller" | "PES_RecetteAller")) => {
                self.close_bordereau(xml)
            }
            ("PJ", Some("PES_PJ")) => self.close_attachment(xml),
            _ => Ok(()),
        }
    }

    fn finish(self) -> Result<PesFlux, FluxError> {
        if !self.siret_seen {
            return Err(FluxError::Missing {
                path: "PES_Aller/EnTetePES".to_owned(),
                what: "Le SIRET de la collectivité (IdColl)",
            });
        }
        Ok(PesFlux {
            header: self.header,
            domains: self.domains,
            bordereaux: self.bordereaux,
            attachments: self.attachments,
        })
    }
}
