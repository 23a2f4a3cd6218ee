//! Helios PES V2 outbound files built by the tests, from the published
//! structure (`PES_Aller`: `EnTetePES`, `PES_DepenseAller`/
//! `PES_RecetteAller` with `Bordereau`s and `Piece`s, `PES_PJ` with base64
//! attachments), in UTF-8 or ISO-8859-1, written as a stream so that a
//! file of hundreds of MB costs no memory. Never a copied file.

use std::io::{self, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The encoding a file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PesEncoding {
    Utf8,
    Latin1,
}

/// One bordereau: its domain (`true`: dépense), number and pieces'
/// amounts (the total is their sum).
#[derive(Clone, Debug)]
pub struct PesBordereau {
    pub depense: bool,
    pub numero: String,
    pub exercice: u16,
    pub pieces: Vec<&'static str>,
    /// `NbrPce` as written; `None`: the number of pieces.
    pub declared: Option<u32>,
}

/// One attachment: its name, and its content given by size (generated,
/// deterministic) or as bytes.
#[derive(Clone, Debug)]
pub struct PesAttachment {
    pub name: String,
    pub media_type: String,
    pub content: PesContent,
}

#[derive(Clone, Debug)]
pub enum PesContent {
    Bytes(Vec<u8>),
    /// `len` bytes of [`generated_byte`], never held whole.
    Generated {
        len: u64,
    },
}

/// The `i`-th byte of a generated attachment.
pub fn generated_byte(i: u64) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

/// A PES file to write.
#[derive(Clone, Debug)]
pub struct PesBuilder {
    pub encoding: PesEncoding,
    pub siret: String,
    pub libelle: String,
    pub bordereaux: Vec<PesBordereau>,
    pub attachments: Vec<PesAttachment>,
    /// A `ds:Signature` block, as signed files carry.
    pub signed: bool,
}

impl Default for PesBuilder {
    /// A dépense file of a French metropolis, accents included.
    fn default() -> Self {
        Self {
            encoding: PesEncoding::Latin1,
            siret: "20004697700019".to_owned(),
            libelle: "Métropole — budget principal (équipements)".to_owned(),
            bordereaux: vec![PesBordereau {
                depense: true,
                numero: "1234".to_owned(),
                exercice: 2026,
                pieces: vec!["1200.50", "99.50"],
                declared: None,
            }],
            attachments: vec![PesAttachment {
                name: "facture BTP Rhône n°42.pdf".to_owned(),
                media_type: "application/pdf".to_owned(),
                content: PesContent::Bytes(b"%PDF-1.4 facture".to_vec()),
            }],
            signed: false,
        }
    }
}

/// Escapes text for an attribute value.
fn attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

impl PesBuilder {
    /// The file as bytes.
    pub fn build(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing to a Vec does not fail.
        let _ = self.write_to(&mut out);
        out
    }

    /// Writes the file in its encoding.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut w = Encoded {
            out,
            encoding: self.encoding,
        };
        let label = match self.encoding {
            PesEncoding::Utf8 => "UTF-8",
            PesEncoding::Latin1 => "ISO-8859-1",
        };
        w.text(&format!("<?xml version=\"1.0\" encoding=\"{label}\"?>\n"))?;
        w.text("<n:PES_Aller xmlns:n=\"http://www.minefi.gouv.fr/cp/helios/pes_v2/Rev0/aller\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\n")?;
        w.text(&format!(
            "<EnTetePES><DteStr V=\"2026-01-15\"/><IdPost V=\"069001\"/><IdColl V=\"{}\"/><CodCol V=\"123\"/><CodBud V=\"01\"/><LibelleColBud V=\"{}\"/></EnTetePES>\n",
            attr(&self.siret),
            attr(&self.libelle)
        ))?;
        for depense in [true, false] {
            let mine: Vec<_> = self
                .bordereaux
                .iter()
                .filter(|b| b.depense == depense)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let domain = if depense {
                "PES_DepenseAller"
            } else {
                "PES_RecetteAller"
            };
            w.text(&format!("<{domain}><EnTete><IdVer V=\"2\"/></EnTete>\n"))?;
            for b in mine {
                self.bordereau(&mut w, b)?;
            }
            w.text(&format!("</{domain}>\n"))?;
        }
        if !self.attachments.is_empty() {
            w.text("<PES_PJ><EnTetePES_PJ><IdVer V=\"1\"/></EnTetePES_PJ>\n")?;
            for (i, a) in self.attachments.iter().enumerate() {
                w.text(&format!(
                    "<PJ><Contenu><Fichier MIMEType=\"{}\">",
                    attr(&a.media_type)
                ))?;
                base64_lines(w.out, &a.content)?;
                w.text(&format!(
                    "</Fichier></Contenu><IdUnique V=\"PJ-{i:05}\"/><NomPJ V=\"{}\"/><TypePJ V=\"001\"/><Description V=\"Pièce n°{i}\"/></PJ>\n",
                    attr(&a.name)
                ))?;
            }
            w.text("</PES_PJ>\n")?;
        }
        if self.signed {
            w.text("<ds:Signature><ds:SignedInfo><ds:Reference URI=\"\"><ds:DigestValue>q2Fj</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue></ds:Signature>\n")?;
        }
        w.text("</n:PES_Aller>\n")
    }

    fn bordereau(&self, w: &mut Encoded<'_>, b: &PesBordereau) -> io::Result<()> {
        let total: f64 = b.pieces.iter().filter_map(|p| p.parse::<f64>().ok()).sum();
        let declared = b.declared.unwrap_or(b.pieces.len() as u32);
        w.text(&format!(
            "<Bordereau><BlocBordereau><Exer V=\"{}\"/><IdBord V=\"{}\"/><DteBordEm V=\"2026-01-10\"/><TypBord V=\"01\"/><NbrPce V=\"{declared}\"/><MtBordHT V=\"{total:.2}\"/></BlocBordereau>\n",
            b.exercice,
            attr(&b.numero)
        ))?;
        for (i, amount) in b.pieces.iter().enumerate() {
            w.text(&format!(
                "<Piece><BlocPiece><InfoPce><IdPce V=\"{}\"/><ObjPce V=\"Travaux piscine été\"/></InfoPce></BlocPiece><LigneDePiece><BlocLignePiece><InfoLignePce><MtHT V=\"{amount}\"/></InfoLignePce></BlocLignePiece></LigneDePiece></Piece>\n",
                i + 1
            ))?;
        }
        w.text("</Bordereau>\n")
    }
}

/// Text written in the file's encoding (characters past Latin-1 as `?`).
struct Encoded<'w> {
    out: &'w mut dyn Write,
    encoding: PesEncoding,
}

impl Encoded<'_> {
    fn text(&mut self, s: &str) -> io::Result<()> {
        match self.encoding {
            PesEncoding::Utf8 => self.out.write_all(s.as_bytes()),
            PesEncoding::Latin1 => {
                let bytes: Vec<u8> = s
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                    .collect();
                self.out.write_all(&bytes)
            }
        }
    }
}

/// Base64 of `content` in lines of 76 characters ending in CRLF, as PES
/// encoders write it, produced 57 bytes (one line) at a time.
fn base64_lines(out: &mut dyn Write, content: &PesContent) -> io::Result<()> {
    let mut line = String::with_capacity(80);
    let mut emit = |chunk: &[u8], out: &mut dyn Write| -> io::Result<()> {
        line.clear();
        STANDARD.encode_string(chunk, &mut line);
        line.push_str("\r\n");
        out.write_all(line.as_bytes())
    };
    match content {
        PesContent::Bytes(bytes) => {
            for chunk in bytes.chunks(57) {
                emit(chunk, out)?;
            }
        }
        PesContent::Generated { len } => {
            let mut buf = Vec::with_capacity(57 * 1024);
            let mut at = 0u64;
            while at < *len {
                buf.clear();
                let n = (*len - at).min(57 * 1024);
                buf.extend((at..at + n).map(generated_byte));
                for chunk in buf.chunks(57) {
                    emit(chunk, out)?;
                }
                at += n;
            }
        }
    }
    Ok(())
}
