//! An @CTES bundle (a `.tar.gz`, or a directory dropped whole) as
//! documents (ADR 0008 §5): in a folder named after the bundle, the act typed by its nature (`deliberation` for deliberations,
//! contracts, budget documents and the rest; `arrete` for regulatory and
//! individual acts) with its number, date, object, nature and
//! classification, and each annex (`annexe-acte`). A lone XML file is
//! the prefecture's acknowledgement (`ARActe`): filed as
//! `accuse-reception-acte`, it fills its act's "transmis le" and
//! "identifiant AR" in core, now or when the act arrives.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use passerelle_core::links::LinkKind;
use passerelle_core::service::FlowReference;
use passerelle_flux::Limits;
use passerelle_flux::actes::{
    Acte, ActesBundle, ActesXml, BundleFile, Nature, parse_actes_xml, parse_bundle, parse_directory,
};
use serde_json::{Map, Value, json};

use super::plan::{
    Content, Plan, PlannedDocument, Problem, ScratchSink, media_type, safe_name, stem, to_first,
};

/// Where acknowledgements are filed, below the drop folder's target.
const ACKNOWLEDGEMENTS: &str = "Accusés de réception";

/// Parses the bundle at `path` (the claimed file named `name`), writing
/// its files into `scratch`.
pub fn plan(
    path: &Path,
    name: &str,
    is_dir: bool,
    limits: &Limits,
    scratch: &Path,
) -> Result<Plan, Problem> {
    let mut sink = ScratchSink { dir: scratch };
    let bundle = if is_dir {
        parse_directory(path, limits, &mut sink).map_err(|e| Problem::flux(&e))?
    } else {
        let mut input =
            BufReader::with_capacity(256 * 1024, File::open(path).map_err(Problem::io)?);
        // gzip's magic number: a bundle; anything else is read as XML.
        if input.fill_buf().map_err(Problem::io)?.get(..2) != Some(&[0x1f, 0x8b][..]) {
            return acknowledgement(input, path, name, limits);
        }
        parse_bundle(input, limits, &mut sink).map_err(|e| Problem::flux(&e))?
    };
    let folder = vec![stem(name)];
    let mut documents = Vec::with_capacity(bundle.files.len());
    // The act first: a receipt and a reader find it at the top.
    let mut files: Vec<&BundleFile> = bundle.files.iter().collect();
    files.sort_by_key(|f| !f.is_act);
    for f in files {
        documents.push(PlannedDocument {
            folder: folder.clone(),
            name: safe_name(&f.name, &format!("fichier-{}", f.index + 1)),
            doc_type: Some(
                if f.is_act {
                    act_type(&bundle.act)
                } else {
                    "annexe-acte"
                }
                .into(),
            ),
            metadata: if f.is_act {
                act_metadata(&bundle)
            } else {
                annex_metadata(&bundle.act)
            },
            media_type: Some(media_type(&f.name)),
            content: Content::File(sink.path(f.index)),
        });
    }
    let links = to_first(&documents, |_| LinkKind::AnnexeDe);
    Ok(Plan {
        documents,
        comment: format!(
            "Acte {} transmis par @CTES, classé depuis un dépôt",
            bundle.act.numero_interne
        ),
        reference: Some(FlowReference::Act {
            number: bundle.act.numero_interne.clone(),
        }),
        links,
    })
}

/// A lone @CTES XML file: an acknowledgement is filed; an envelope or an
/// act alone is refused (its files are missing).
fn acknowledgement(
    input: impl BufRead,
    path: &Path,
    name: &str,
    limits: &Limits,
) -> Result<Plan, Problem> {
    let ar = match parse_actes_xml(input, limits).map_err(|e| Problem::flux(&e))? {
        ActesXml::Ar(ar) => ar,
        ActesXml::Acte(_) | ActesXml::Envelope(_) => {
            return Err(Problem::Refused(
                "Ce fichier XML décrit un acte ou une enveloppe sans ses fichiers : déposez \
                 l'archive @CTES complète (.tar.gz) telle que le logiciel des actes la \
                 produit. Seuls les accusés de réception (ARActe) se déposent seuls."
                    .into(),
            ));
        }
    };
    let mut m = Map::new();
    m.insert("numero_acte".into(), json!(ar.numero_interne));
    m.insert("identifiant_ar".into(), json!(ar.id_acte));
    // `DateReception` may carry a time: the field is a date.
    let day = ar.date_reception.get(..10).unwrap_or(&ar.date_reception);
    m.insert("date_reception".into(), json!(day));
    Ok(Plan {
        documents: vec![PlannedDocument {
            folder: vec![ACKNOWLEDGEMENTS.to_owned()],
            name: safe_name(name, "accuse-reception.xml"),
            doc_type: Some("accuse-reception-acte".into()),
            metadata: m,
            media_type: Some("application/xml".into()),
            content: Content::File(path.to_owned()),
        }],
        comment: format!(
            "Accusé de réception de l'acte {} ({})",
            ar.numero_interne, ar.id_acte
        ),
        reference: Some(FlowReference::Acknowledgement {
            number: ar.numero_interne,
        }),
        // Core links it to its act, now or when the act arrives.
        links: Vec::new(),
    })
}

/// The catalogue type of an act by its @CTES nature.
fn act_type(a: &Acte) -> &'static str {
    match a.nature {
        Nature::ActeReglementaire | Nature::ActeIndividuel => "arrete",
        Nature::Deliberation
        | Nature::ContratConvention
        | Nature::DocumentBudgetaire
        | Nature::Autre => "deliberation",
    }
}

/// The value of the type's own `nature` field, and of `nature_actes`.
fn natures(n: Nature) -> (&'static str, &'static str) {
    match n {
        Nature::Deliberation => ("Délibération", "Délibération"),
        Nature::ActeReglementaire => ("Arrêté réglementaire", "Acte réglementaire"),
        Nature::ActeIndividuel => ("Arrêté individuel", "Acte individuel"),
        Nature::ContratConvention => ("Contrat et convention", "Contrat, convention et avenant"),
        // Budgets are voted: deliberations of the assembly.
        Nature::DocumentBudgetaire => ("Délibération", "Document budgétaire et financier"),
        Nature::Autre => ("Décision", "Autre"),
    }
}

fn act_metadata(b: &ActesBundle) -> Map<String, Value> {
    let a = &b.act;
    let (nature, nature_actes) = natures(a.nature);
    let mut m = Map::new();
    m.insert("numero".into(), json!(a.numero_interne));
    m.insert("date_decision".into(), json!(a.date));
    m.insert("objet".into(), json!(a.objet));
    m.insert("nature".into(), json!(nature));
    m.insert("nature_actes".into(), json!(nature_actes));
    if !a.matiere.is_empty() {
        m.insert("matiere".into(), json!(a.matiere));
    }
    m
}

fn annex_metadata(a: &Acte) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("numero_acte".into(), json!(a.numero_interne));
    m.insert("objet_acte".into(), json!(a.objet));
    m
}
