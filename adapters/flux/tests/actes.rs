//! @CTES bundles and acknowledgements the tests build
//! (`passerelle_testing::actes`): each nature read, and hostile bundles
//! refused before anything is written where it should not be.

use std::collections::BTreeMap;
use std::io::{self, Write};

use passerelle_flux::actes::{ActesXml, Nature, parse_actes_xml, parse_bundle};
use passerelle_flux::{AttachmentSink, FluxError, Limits};
use passerelle_testing::actes::{ActesBuilder, RawEntry};

#[derive(Default)]
struct Kept(BTreeMap<usize, Vec<u8>>);

impl AttachmentSink for Kept {
    fn open(&mut self, index: usize) -> io::Result<Box<dyn Write + '_>> {
        Ok(Box::new(self.0.entry(index).or_default()))
    }
}

#[test]
fn a_bundle_of_each_nature_gives_its_act_annexes_and_files() -> anyhow::Result<()> {
    let natures = [
        ("1", Nature::Deliberation),
        ("2", Nature::ActeReglementaire),
        ("3", Nature::ActeIndividuel),
        ("4", Nature::ContratConvention),
        ("5", Nature::DocumentBudgetaire),
        ("6", Nature::Autre),
    ];
    for (code, nature) in natures {
        let b = ActesBuilder {
            nature: code.into(),
            ..ActesBuilder::default()
        };
        let mut kept = Kept::default();
        let bundle = parse_bundle(&b.tar_gz()[..], &Limits::default(), &mut kept)?;
        assert_eq!(bundle.envelope.siren, "200046977");
        assert_eq!(bundle.envelope.departement.as_deref(), Some("069"));
        assert_eq!(bundle.act.nature, nature);
        assert_eq!(bundle.act.numero_interne, "DEL2026_014");
        assert_eq!(bundle.act.date, "2026-01-15");
        assert_eq!(bundle.act.matiere, "1.1");
        assert_eq!(
            bundle.act.objet,
            "Délibération : marché public de rénovation de la piscine & du gymnase"
        );
        assert_eq!(bundle.act.annexes, vec![b.annexes[0].0.clone()]);
        let act = bundle
            .files
            .iter()
            .find(|f| f.is_act)
            .ok_or_else(|| anyhow::anyhow!("no act file"))?;
        assert_eq!(act.name, b.document.0);
        assert_eq!(kept.0[&act.index], b.document.1);
        let annex = bundle
            .files
            .iter()
            .find(|f| !f.is_act)
            .ok_or_else(|| anyhow::anyhow!("no annex"))?;
        assert_eq!(kept.0[&annex.index], b.annexes[0].1);
        assert_eq!(annex.size, b.annexes[0].1.len() as u64);
    }
    Ok(())
}

#[test]
fn an_acknowledgement_names_the_act_it_acknowledges() -> anyhow::Result<()> {
    let b = ActesBuilder::default();
    let ar = parse_actes_xml(
        &b.ar_acte_xml("069-200046977-20260115-DEL2026_014-DE")[..],
        &Limits::default(),
    )?;
    let ActesXml::Ar(ar) = ar else {
        anyhow::bail!("not an ARActe: {ar:?}");
    };
    assert_eq!(ar.id_acte, "069-200046977-20260115-DEL2026_014-DE");
    assert_eq!(ar.numero_interne, "DEL2026_014");
    assert_eq!(ar.date_reception, "2026-01-16");
    Ok(())
}

fn refused(b: &ActesBuilder) -> (FluxError, Kept) {
    let mut kept = Kept::default();
    match parse_bundle(&b.tar_gz()[..], &Limits::default(), &mut kept) {
        Ok(bundle) => panic!("accepted: {bundle:?}"),
        Err(e) => {
            assert!(e.explain().len() > 40, "{}", e.explain());
            (e, kept)
        }
    }
}

fn with(extra: RawEntry) -> ActesBuilder {
    ActesBuilder {
        extra: vec![extra],
        ..ActesBuilder::default()
    }
}

#[test]
fn entries_that_leave_the_bundle_or_are_not_plain_files_are_refused() {
    for name in ["../../etc/cron.d/x", "sous/dossier.pdf", "..", "a\\b.pdf"] {
        let (e, _) = refused(&with(RawEntry::File {
            name: name.into(),
            bytes: b"x".to_vec(),
        }));
        assert!(matches!(e, FluxError::UnsafeEntry { .. }), "{name}: {e:?}");
    }
    let (e, _) = refused(&with(RawEntry::Symlink {
        name: "lien.pdf".into(),
        target: "/etc/passwd".into(),
    }));
    assert!(matches!(e, FluxError::UnsafeEntry { .. }), "{e:?}");
    let (e, _) = refused(&with(RawEntry::Directory {
        name: "annexes".into(),
    }));
    assert!(matches!(e, FluxError::UnsafeEntry { .. }), "{e:?}");
}

#[test]
fn a_declared_size_past_the_limit_is_refused_before_reading() {
    let (e, kept) = refused(&with(RawEntry::Declared {
        name: "enorme.pdf".into(),
        size: 10_000_000_000,
    }));
    assert!(matches!(e, FluxError::BundleTooLarge { .. }), "{e:?}");
    assert!(kept.0.values().all(|v| v.len() < 1024));
}

#[test]
fn files_must_be_exactly_those_the_act_names() {
    let (e, _) = refused(&with(RawEntry::File {
        name: "en-trop.pdf".into(),
        bytes: b"x".to_vec(),
    }));
    assert!(matches!(e, FluxError::UnexpectedFile { ref name } if name == "en-trop.pdf"));
    let (e, _) = refused(&ActesBuilder {
        omit_annexes: true,
        ..ActesBuilder::default()
    });
    assert!(
        matches!(e, FluxError::MissingFile { ref name } if name.ends_with("_2.pdf")),
        "{e:?}"
    );
    // A second act in the same bundle: which one is meant is unknown.
    let second = ActesBuilder::default().acte_xml();
    let (e, _) = refused(&with(RawEntry::File {
        name: "acte-bis.xml".into(),
        bytes: second,
    }));
    assert!(matches!(e, FluxError::UnexpectedFile { ref name } if name == "acte-bis.xml"));
}

#[test]
fn bad_metadata_is_refused_with_what_to_fix() {
    let (e, _) = refused(&ActesBuilder {
        nature: "9".into(),
        ..ActesBuilder::default()
    });
    assert!(e.explain().contains("nature de 1 à 6"), "{}", e.explain());
    let (e, _) = refused(&ActesBuilder {
        date: "15/01/2026".into(),
        ..ActesBuilder::default()
    });
    assert!(e.explain().contains("AAAA-MM-JJ"), "{}", e.explain());
    let (e, _) = refused(&ActesBuilder {
        siren: "12345".into(),
        ..ActesBuilder::default()
    });
    assert!(
        e.explain().contains("SIREN de 9 chiffres"),
        "{}",
        e.explain()
    );
    let truncated = ActesBuilder::default().tar_gz();
    let cut = &truncated[..truncated.len() / 2];
    assert!(parse_bundle(cut, &Limits::default(), &mut Kept::default()).is_err());
}
