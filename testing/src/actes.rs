//! @CTES bundles built by the tests from the published structure: an
//! envelope (`EnveloppeCLMISILL`), the act's metadata (`Acte`) and its
//! files in a `.tar.gz`, and the prefecture's `ARActe`; plus the hostile
//! entries a bundle may carry (`..` names, links, directories, a declared
//! size of 10 GB), written as raw headers since `tar::Builder` refuses
//! them. Never a copied file.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

const NS: &str = "http://www.interieur.gouv.fr/ACTES#v1.1-20040216";

/// An entry a bundle carries beyond the act's own files.
#[derive(Clone, Debug)]
pub enum RawEntry {
    File {
        name: String,
        bytes: Vec<u8>,
    },
    Symlink {
        name: String,
        target: String,
    },
    Directory {
        name: String,
    },
    /// A header announcing `size` bytes, and the archive cut after it.
    Declared {
        name: String,
        size: u64,
    },
}

/// An act and its transmission.
#[derive(Clone, Debug)]
pub struct ActesBuilder {
    pub siren: String,
    /// `CodeNatureActe`, `"1"` to `"6"`.
    pub nature: String,
    pub numero: String,
    pub date: String,
    pub objet: String,
    pub matiere: Vec<&'static str>,
    pub document: (String, Vec<u8>),
    pub annexes: Vec<(String, Vec<u8>)>,
    /// The annexes left out of the bundle (the metadata still names them).
    pub omit_annexes: bool,
    pub extra: Vec<RawEntry>,
}

impl Default for ActesBuilder {
    /// A deliberation of a metropolitan council with one annex.
    fn default() -> Self {
        Self {
            siren: "200046977".to_owned(),
            nature: "1".to_owned(),
            numero: "DEL2026_014".to_owned(),
            date: "2026-01-15".to_owned(),
            objet: "Délibération : marché public de rénovation de la piscine & du gymnase"
                .to_owned(),
            matiere: vec!["1", "1"],
            document: (
                "99_DE-069-200046977-20260115-DEL2026_014-DE-1-1_1.pdf".to_owned(),
                b"%PDF-1.4 deliberation".to_vec(),
            ),
            annexes: vec![(
                "99_DE-069-200046977-20260115-DEL2026_014-DE-1-1_2.pdf".to_owned(),
                b"%PDF-1.4 annexe plan".to_vec(),
            )],
            omit_annexes: false,
            extra: Vec::new(),
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

impl ActesBuilder {
    pub fn envelope_xml(&self) -> Vec<u8> {
        format!(
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<actes:EnveloppeCLMISILL xmlns:actes=\"{NS}\"><actes:Emetteur><actes:IDCL actes:SIREN=\"{}\" actes:Departement=\"069\" actes:Arrondissement=\"1\" actes:Nature=\"4\"/><actes:Referent><actes:Nom>Greffe</actes:Nom></actes:Referent></actes:Emetteur><actes:FormulairesEnvoyes><actes:Formulaire><actes:NomFichier>acte.xml</actes:NomFichier></actes:Formulaire></actes:FormulairesEnvoyes></actes:EnveloppeCLMISILL>\n",
            escape(&self.siren)
        )
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
    }

    pub fn acte_xml(&self) -> Vec<u8> {
        let mut matiere = String::new();
        for (i, m) in self.matiere.iter().enumerate() {
            matiere.push_str(&format!(
                "<actes:CodeMatiere{n} actes:CodeMatiere=\"{m}\"/>",
                n = i + 1
            ));
        }
        let annexes: String = self
            .annexes
            .iter()
            .map(|(n, _)| {
                format!(
                    "<actes:Annexe><actes:NomFichier>{}</actes:NomFichier></actes:Annexe>",
                    escape(n)
                )
            })
            .collect();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<actes:Acte xmlns:actes=\"{NS}\" actes:Date=\"{}\" actes:NumeroInterne=\"{}\" actes:CodeNatureActe=\"{}\">{matiere}<actes:Objet>{}</actes:Objet><actes:ClassificationDateVersion>2025-06-01</actes:ClassificationDateVersion><actes:Document><actes:NomFichier>{}</actes:NomFichier></actes:Document><actes:Annexes actes:Nombre=\"{}\">{annexes}</actes:Annexes></actes:Acte>\n",
            escape(&self.date),
            escape(&self.numero),
            escape(&self.nature),
            escape(&self.objet),
            escape(&self.document.0),
            self.annexes.len()
        )
        .into_bytes()
    }

    /// The prefecture's acknowledgement of this act.
    pub fn ar_acte_xml(&self, id: &str) -> Vec<u8> {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<actes:ARActe xmlns:actes=\"{NS}\" actes:IDActe=\"{}\" actes:DateReception=\"2026-01-16\"><actes:ActeRecu actes:Date=\"{}\" actes:NumeroInterne=\"{}\" actes:CodeNatureActe=\"{}\"/></actes:ARActe>\n",
            escape(id),
            escape(&self.date),
            escape(&self.numero),
            escape(&self.nature)
        )
        .into_bytes()
    }

    /// The bundle as a `.tar.gz`: envelope, act, files, then the extra
    /// entries.
    pub fn tar_gz(&self) -> Vec<u8> {
        let mut tar = Vec::new();
        let mut add = |name: &str, kind: u8, bytes: &[u8], size: Option<u64>, link: &str| {
            tar.extend_from_slice(&header(
                name,
                kind,
                size.unwrap_or(bytes.len() as u64),
                link,
            ));
            tar.extend_from_slice(bytes);
            tar.resize(tar.len().div_ceil(512) * 512, 0);
        };
        add("enveloppe.xml", b'0', &self.envelope_xml(), None, "");
        add("acte.xml", b'0', &self.acte_xml(), None, "");
        add(&self.document.0, b'0', &self.document.1, None, "");
        if !self.omit_annexes {
            for (n, b) in &self.annexes {
                add(n, b'0', b, None, "");
            }
        }
        let mut cut = false;
        for e in &self.extra {
            match e {
                RawEntry::File { name, bytes } => add(name, b'0', bytes, None, ""),
                RawEntry::Symlink { name, target } => add(name, b'2', b"", None, target),
                RawEntry::Directory { name } => add(name, b'5', b"", None, ""),
                RawEntry::Declared { name, size } => {
                    add(name, b'0', b"", Some(*size), "");
                    cut = true;
                }
            }
        }
        if !cut {
            tar.extend_from_slice(&[0; 1024]);
        }
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        // Writing to a Vec does not fail.
        let _ = gz.write_all(&tar);
        gz.finish().unwrap_or_default()
    }
}

/// A ustar header, written by hand so that any name passes.
fn header(name: &str, kind: u8, size: u64, link: &str) -> [u8; 512] {
    let mut h = [0u8; 512];
    let put = |h: &mut [u8; 512], at: usize, len: usize, v: &[u8]| {
        let n = v.len().min(len);
        h[at..at + n].copy_from_slice(&v[..n]);
    };
    put(&mut h, 0, 100, name.as_bytes());
    put(&mut h, 100, 8, b"0000644\0");
    put(&mut h, 108, 8, b"0000000\0");
    put(&mut h, 116, 8, b"0000000\0");
    put(&mut h, 124, 12, format!("{size:011o}\0").as_bytes());
    put(&mut h, 136, 12, b"15136163330\0");
    h[156] = kind;
    put(&mut h, 157, 100, link.as_bytes());
    put(&mut h, 257, 6, b"ustar\0");
    put(&mut h, 263, 2, b"00");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    put(&mut h, 148, 8, format!("{sum:06o}\0 ").as_bytes());
    h
}
