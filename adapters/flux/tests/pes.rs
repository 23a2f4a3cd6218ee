//! PES V2 files the tests build (`passerelle_testing::pes`), realistic and
//! hostile: what is read, what is refused, and that the refusal says why.

use std::collections::BTreeMap;
use std::io::{self, BufReader, Write};

use passerelle_flux::pes::{AttachmentSink, PesDomain, parse_pes};
use passerelle_flux::{FluxError, Limits};
use passerelle_testing::pes::{
    PesAttachment, PesBordereau, PesBuilder, PesContent, PesEncoding, generated_byte,
};

/// Attachments kept in memory, by index.
#[derive(Default)]
struct Kept(BTreeMap<usize, Vec<u8>>);

impl AttachmentSink for Kept {
    fn open(&mut self, index: usize) -> io::Result<Box<dyn Write + '_>> {
        Ok(Box::new(self.0.entry(index).or_default()))
    }
}

/// Attachments checked against the generator as they arrive, never kept.
#[derive(Default)]
struct Checked {
    sizes: Vec<u64>,
}

struct Checking<'a> {
    size: &'a mut u64,
}

impl Write for Checking<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for b in buf {
            if *b != generated_byte(*self.size) {
                return Err(io::Error::other(format!("byte {} differs", self.size)));
            }
            *self.size += 1;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AttachmentSink for Checked {
    fn open(&mut self, index: usize) -> io::Result<Box<dyn Write + '_>> {
        self.sizes.resize(index + 1, 0);
        Ok(Box::new(Checking {
            size: &mut self.sizes[index],
        }))
    }
}

fn parse(bytes: &[u8]) -> Result<(passerelle_flux::pes::PesFlux, Kept), FluxError> {
    let mut kept = Kept::default();
    let flux = parse_pes(bytes, &Limits::default(), &mut kept)?;
    Ok((flux, kept))
}

fn realistic(encoding: PesEncoding) -> PesBuilder {
    PesBuilder {
        encoding,
        bordereaux: vec![
            PesBordereau {
                depense: true,
                numero: "1234".into(),
                exercice: 2026,
                pieces: vec!["1200.50", "99.50"],
                declared: None,
            },
            PesBordereau {
                depense: true,
                numero: "1235".into(),
                exercice: 2026,
                pieces: vec!["15000.00"],
                declared: None,
            },
            PesBordereau {
                depense: false,
                numero: "88".into(),
                exercice: 2026,
                pieces: vec!["10.10", "20.20", "30.30"],
                declared: None,
            },
        ],
        attachments: vec![
            PesAttachment {
                name: "facture BTP Rhône n°42.pdf".into(),
                media_type: "application/pdf".into(),
                content: PesContent::Bytes(b"%PDF-1.4 facture piscine".to_vec()),
            },
            PesAttachment {
                name: "devis été.odt".into(),
                media_type: "application/vnd.oasis.opendocument.text".into(),
                content: PesContent::Generated { len: 100_000 },
            },
        ],
        ..PesBuilder::default()
    }
}

#[test]
fn a_latin1_file_gives_its_header_bordereaux_and_attachments_with_accents() -> anyhow::Result<()> {
    for encoding in [PesEncoding::Latin1, PesEncoding::Utf8] {
        let bytes = realistic(encoding).build();
        let (flux, kept) = parse(&bytes)?;
        assert_eq!(flux.header.siret, "20004697700019");
        assert_eq!(
            flux.header.libelle.as_deref(),
            Some("Métropole ? budget principal (équipements)")
                .filter(|_| encoding == PesEncoding::Latin1)
                .or(Some("Métropole — budget principal (équipements)")),
            "{encoding:?}"
        );
        assert_eq!(flux.header.code_budget.as_deref(), Some("01"));
        assert_eq!(flux.header.poste_comptable.as_deref(), Some("069001"));
        assert_eq!(
            flux.domains,
            vec![
                PesDomain::Depense,
                PesDomain::Recette,
                PesDomain::PiecesJointes
            ]
        );
        let summary: Vec<(PesDomain, &str, u32, String)> = flux
            .bordereaux
            .iter()
            .map(|b| {
                (
                    b.domain,
                    b.numero.as_str(),
                    b.pieces,
                    b.montant.map(|m| m.to_string()).unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (PesDomain::Depense, "1234", 2, "1300.00".to_owned()),
                (PesDomain::Depense, "1235", 1, "15000.00".to_owned()),
                (PesDomain::Recette, "88", 3, "60.60".to_owned()),
            ]
        );
        assert!(flux.bordereaux.iter().all(|b| b.exercice == 2026));
        let names: Vec<&str> = flux.attachments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, vec!["facture BTP Rhône n°42.pdf", "devis été.odt"]);
        assert_eq!(
            flux.attachments[0].media_type.as_deref(),
            Some("application/pdf")
        );
        assert_eq!(flux.attachments[1].id_unique.as_deref(), Some("PJ-00001"));
        assert_eq!(flux.attachments[1].size, 100_000);
        assert_eq!(kept.0[&0], b"%PDF-1.4 facture piscine");
        let expected: Vec<u8> = (0..100_000).map(generated_byte).collect();
        assert_eq!(kept.0[&1], expected);
    }
    Ok(())
}

#[test]
fn a_signed_file_is_read_as_it_is() -> anyhow::Result<()> {
    let bytes = PesBuilder {
        signed: true,
        ..PesBuilder::default()
    }
    .build();
    let (flux, _) = parse(&bytes)?;
    assert_eq!(flux.bordereaux.len(), 1);
    Ok(())
}

#[test]
fn a_large_attachment_streams_through_small_buffers() -> anyhow::Result<()> {
    let len = 24 * 1024 * 1024 + 7;
    let mut file = tempfile()?;
    PesBuilder {
        attachments: vec![PesAttachment {
            name: "plans.pdf".into(),
            media_type: "application/pdf".into(),
            content: PesContent::Generated { len },
        }],
        ..PesBuilder::default()
    }
    .write_to(&mut file.0)?;
    let reader = BufReader::with_capacity(4096, std::fs::File::open(&file.1)?);
    let mut checked = Checked::default();
    let flux = parse_pes(reader, &Limits::default(), &mut checked)?;
    assert_eq!(flux.attachments[0].size, len);
    assert_eq!(checked.sizes, vec![len]);
    Ok(())
}

/// A file in the system's temp directory, removed on drop.
fn tempfile() -> io::Result<(std::fs::File, std::path::PathBuf, Remove)> {
    let path = std::env::temp_dir().join(format!(
        "passerelle-flux-{}-{:?}.xml",
        std::process::id(),
        std::thread::current().id()
    ));
    Ok((std::fs::File::create(&path)?, path.clone(), Remove(path)))
}

struct Remove(std::path::PathBuf);

impl Drop for Remove {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The refusal of `bytes`, which must be one.
fn refused(bytes: &[u8]) -> FluxError {
    match parse(bytes) {
        Ok(_) => panic!("accepted: {}", String::from_utf8_lossy(bytes)),
        Err(e) => {
            let why = e.explain();
            assert!(
                why.len() > 40 && why.is_char_boundary(0),
                "a French explanation: {why}"
            );
            e
        }
    }
}

#[test]
fn a_truncated_file_is_refused_wherever_it_is_cut() {
    let bytes = realistic(PesEncoding::Latin1).build();
    for cut in [
        10,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() - 20,
        bytes.len() - 3,
    ] {
        let e = refused(&bytes[..cut]);
        assert!(
            matches!(e, FluxError::Truncated { .. } | FluxError::Xml { .. }),
            "cut at {cut}: {e:?}"
        );
    }
    // Cut inside an attachment's base64.
    let at = bytes
        .windows(9)
        .position(|w| w == b"<Fichier ")
        .unwrap_or_default()
        + 60;
    assert!(matches!(refused(&bytes[..at]), FluxError::Truncated { .. }));
}

#[test]
fn entity_bombs_and_doctypes_are_refused_before_any_expansion() {
    let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<PES_Aller><EnTetePES><IdColl V="&lol2;"/></EnTetePES></PES_Aller>"#;
    assert!(matches!(refused(bomb), FluxError::Doctype { .. }));
    let undeclared = br#"<PES_Aller><EnTetePES><IdColl V="&lol;"/></EnTetePES></PES_Aller>"#;
    assert!(matches!(refused(undeclared), FluxError::Xml { .. }));
}

#[test]
fn wrong_structures_and_values_are_refused_with_what_to_fix() {
    let e = refused(br#"<PES_Retour><EnTetePES/></PES_Retour>"#);
    assert!(matches!(e, FluxError::NotPes { ref root } if root == "PES_Retour"));
    let e = refused(
        &PesBuilder {
            siret: "2000469770001".into(),
            ..PesBuilder::default()
        }
        .build(),
    );
    assert!(
        e.explain().contains("SIRET de 14 chiffres"),
        "{}",
        e.explain()
    );
    let e = refused(
        &PesBuilder {
            bordereaux: vec![PesBordereau {
                depense: true,
                numero: "77".into(),
                exercice: 2026,
                pieces: vec!["1.00", "2.00"],
                declared: Some(3),
            }],
            ..PesBuilder::default()
        }
        .build(),
    );
    assert!(matches!(
        e,
        FluxError::PieceCount {
            declared: 3,
            found: 2,
            ..
        }
    ));
    assert!(e.explain().contains("Le bordereau 77 annonce 3"));
    let e = refused(br#"<PES_Aller><PES_DepenseAller><Bordereau><BlocBordereau><Exer V="2026"/><IdBord V="1"/><MtBordHT V="12,50"/></BlocBordereau></Bordereau></PES_DepenseAller><EnTetePES><IdColl V="20004697700019"/></EnTetePES></PES_Aller>"#);
    assert!(e.explain().contains("un montant"), "{}", e.explain());
    let e = refused(br#"<PES_Aller><PES_PJ><PJ><NomPJ V="a.pdf"/></PJ></PES_PJ></PES_Aller>"#);
    assert!(matches!(e, FluxError::Missing { .. }), "{e:?}");
    let e = refused(br#"<PES_Aller><PES_PJ><PJ><Contenu><Fichier>QUJD!A==</Fichier></Contenu><NomPJ V="a.pdf"/></PJ></PES_PJ></PES_Aller>"#);
    assert!(matches!(e, FluxError::Base64 { index: 0, .. }), "{e:?}");
}

#[test]
fn encodings_depth_and_runs_are_bounded() {
    let e = refused(b"<?xml version=\"1.0\" encoding=\"EBCDIC-FR\"?><PES_Aller/>");
    assert!(matches!(e, FluxError::Encoding { ref name } if name == "EBCDIC-FR"));
    assert!(matches!(
        refused(b"\xFF\xFE<\0P\0"),
        FluxError::Encoding { .. }
    ));
    let deep = format!(
        "<PES_Aller>{}{}</PES_Aller>",
        "<a>".repeat(100),
        "</a>".repeat(100)
    );
    assert!(matches!(
        refused(deep.as_bytes()),
        FluxError::TooDeep { max: 64, .. }
    ));
    let long = format!(
        "<PES_Aller><EnTetePES><LibelleColBud V=\"{}\"/></EnTetePES></PES_Aller>",
        "x".repeat(2 * 1024 * 1024)
    );
    assert!(matches!(
        refused(long.as_bytes()),
        FluxError::RunTooLong { .. }
    ));
    let late = b"<PES_Aller><?xml version=\"1.0\"?></PES_Aller>";
    assert!(matches!(
        refused(late),
        FluxError::LateDeclaration { .. } | FluxError::Xml { .. }
    ));
    // A long declaration is read, not a panic.
    let spaced = format!(
        "<?xml version=\"1.0\"{}encoding=\"ISO-8859-1\"?><PES_Aller><EnTetePES><IdColl V=\"20004697700019\"/><LibelleColBud V=\"\u{e9}\"/></EnTetePES></PES_Aller>",
        " ".repeat(300)
    );
    let latin1: Vec<u8> = spaced.chars().map(|c| c as u8).collect();
    let parsed = parse(&latin1).map(|(f, _)| f.header.libelle);
    assert_eq!(parsed.ok().flatten().as_deref(), Some("é"));
}

#[test]
fn limits_on_attachments_stop_the_reading() {
    let bytes = PesBuilder {
        attachments: vec![PesAttachment {
            name: "big.bin".into(),
            media_type: "application/octet-stream".into(),
            content: PesContent::Generated { len: 10_000 },
        }],
        ..PesBuilder::default()
    }
    .build();
    let limits = Limits {
        max_attachment_bytes: 4096,
        ..Limits::default()
    };
    let mut kept = Kept::default();
    let e = parse_pes(&bytes[..], &limits, &mut kept);
    assert!(matches!(
        e,
        Err(FluxError::AttachmentTooLarge {
            index: 0,
            max: 4096
        })
    ));
    assert!(kept.0.get(&0).map_or(0, Vec::len) <= 4096);
    let many = PesBuilder {
        attachments: vec![
            PesAttachment {
                name: "a".into(),
                media_type: "text/plain".into(),
                content: PesContent::Bytes(b"a".to_vec()),
            };
            3
        ],
        ..PesBuilder::default()
    }
    .build();
    let limits = Limits {
        max_attachments: 2,
        ..Limits::default()
    };
    let e = parse_pes(&many[..], &limits, &mut Kept::default());
    assert!(matches!(e, Err(FluxError::TooMany { max: 2, .. })));
}

/// Any bytes give a result or a refusal, never a panic: a valid file
/// mutated thousands of ways (bytes changed, removed, markup inserted),
/// from a fixed seed so that a failure replays.
#[test]
fn mutated_files_never_panic() {
    let mut small = realistic(PesEncoding::Latin1);
    small.attachments[1].content = PesContent::Generated { len: 300 };
    let base = small.build();
    let mut seed: u64 = 0x5eed_cafe;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        seed >> 33
    };
    const INSERTS: [&[u8]; 6] = [b"<", b">", b"&", b"</PJ>", b"<Fichier>", b"=\""];
    for round in 0..3000 {
        let mut bytes = base.clone();
        for _ in 0..(1 + next() % 4) {
            let at = (next() as usize) % bytes.len();
            match next() % 3 {
                0 => bytes[at] = next() as u8,
                1 => {
                    bytes.remove(at);
                }
                _ => {
                    let insert = INSERTS[(next() as usize) % INSERTS.len()];
                    bytes.splice(at..at, insert.iter().copied());
                }
            }
        }
        let outcome = std::panic::catch_unwind(|| {
            let _ = parse_pes(&bytes[..], &Limits::default(), &mut Kept::default());
        });
        assert!(outcome.is_ok(), "round {round} panicked");
    }
}

/// `bytes` with the line ends inside each `Fichier` written as `written`.
fn line_ends_in_attachments(bytes: &[u8], written: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).expect("a UTF-8 file");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(open) = rest.find("<Fichier") {
        let start = open + rest[open..].find('>').expect("tag end") + 1;
        let end = start + rest[start..].find("</Fichier>").expect("end");
        out.push_str(&rest[..start]);
        out.push_str(&rest[start..end].replace("\r\n", written));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out.into_bytes()
}

#[test]
fn line_ends_written_as_references_in_an_attachment_are_dropped_wherever_reads_cut()
-> anyhow::Result<()> {
    let b = PesBuilder {
        encoding: PesEncoding::Utf8,
        attachments: vec![PesAttachment {
            name: "devis.pdf".into(),
            media_type: "application/pdf".into(),
            content: PesContent::Generated { len: 10_000 },
        }],
        ..PesBuilder::default()
    };
    let plain = b.build();
    let (_, expected) = parse(&plain)?;
    let referenced = line_ends_in_attachments(&plain, "&#13;&#xA;");
    assert!(referenced.len() > plain.len(), "references written");
    // Reads of 1, 3 and 7 bytes cut references anywhere.
    for capacity in [1, 3, 7, 4096] {
        let mut kept = Kept::default();
        parse_pes(
            BufReader::with_capacity(capacity, referenced.as_slice()),
            &Limits::default(),
            &mut kept,
        )?;
        assert_eq!(kept.0, expected.0, "reads of {capacity}");
    }
    let other = line_ends_in_attachments(&plain, "&amp;");
    assert!(parse(&other).is_err(), "a reference to another character");
    Ok(())
}
