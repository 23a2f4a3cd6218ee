//! A PES V2 file as documents (ADR 0008 §5): in a folder named after the
//! file, the flow itself kept whole (`flux-pes`: its signature stays
//! verifiable), a card per bordereau (`bordereau`: exercice, numéro,
//! domaine, pièces, montant) and each `PES_PJ` attachment decoded
//! (`piece-justificative`, named by `NomPJ`).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use passerelle_flux::pes::{Attachment, Bordereau, PesDomain, PesFlux, parse_pes};
use passerelle_flux::{AttachmentSink, Limits};
use serde_json::{Map, Value, json};

use passerelle_core::links::LinkKind;

use super::plan::{Content, Plan, PlannedDocument, Problem, safe_name, stem, to_first};

/// Sub-folders of a flow's folder.
const BORDEREAUX: &str = "Bordereaux";
const PIECES: &str = "Pièces justificatives";

/// Parses `path` (the claimed file named `name`), decoding attachments
/// into `sink`: the flow's document is the dropped file itself
/// ([`Content::Dropped`]), each attachment's is what `sink` received
/// ([`Content::Attachment`]).
pub fn plan(
    path: &Path,
    name: &str,
    is_dir: bool,
    limits: &Limits,
    sink: &mut dyn AttachmentSink,
) -> Result<Plan, Problem> {
    if is_dir {
        return Err(Problem::Refused(
            "Ce dépôt attend des fichiers PES (XML), pas un dossier : déposez le fichier \
             PES_Aller lui-même."
                .into(),
        ));
    }
    let input = BufReader::with_capacity(256 * 1024, File::open(path).map_err(Problem::io)?);
    let flux = parse_pes(input, limits, sink).map_err(|e| Problem::flux(&e))?;
    let folder = vec![stem(name)];
    let mut documents = vec![PlannedDocument {
        folder: folder.clone(),
        name: safe_name(name, "flux.xml"),
        doc_type: Some("flux-pes".into()),
        metadata: flux_metadata(&flux),
        media_type: Some("application/xml".into()),
        content: Content::Dropped,
    }];
    for b in &flux.bordereaux {
        documents.push(bordereau(&flux, b, &folder, name));
    }
    for a in &flux.attachments {
        documents.push(attachment(&flux, a, &folder, name));
    }
    // A bordereau's card is drawn from the flow; an attachment supports it.
    let links = to_first(&documents, |d| match d.doc_type.as_deref() {
        Some("piece-justificative") => LinkKind::PieceJustificativeDe,
        _ => LinkKind::AnnexeDe,
    });
    Ok(Plan {
        documents,
        comment: format!("Flux PES « {name} » classé depuis un dépôt"),
        reference: None,
        links,
    })
}

fn flux_metadata(f: &PesFlux) -> Map<String, Value> {
    let h = &f.header;
    let mut m = Map::new();
    m.insert("siret".into(), json!(h.siret));
    put(&mut m, "collectivite", h.libelle.as_deref());
    put(&mut m, "code_collectivite", h.code_collectivite.as_deref());
    put(&mut m, "code_budget", h.code_budget.as_deref());
    put(&mut m, "poste_comptable", h.poste_comptable.as_deref());
    put(
        &mut m,
        "date_flux",
        h.date.as_deref().filter(|d| is_date(d)),
    );
    let domains: Vec<&str> = f.domains.iter().map(|d| d.label()).collect();
    if !domains.is_empty() {
        m.insert("domaines".into(), json!(domains.join(", ")));
    }
    if let Some(b) = f.bordereaux.first() {
        m.insert("exercice".into(), json!(b.exercice));
    }
    m.insert("nombre_bordereaux".into(), json!(f.bordereaux.len()));
    m.insert("nombre_pj".into(), json!(f.attachments.len()));
    m
}

fn bordereau(f: &PesFlux, b: &Bordereau, folder: &[String], flux_name: &str) -> PlannedDocument {
    let domaine = match b.domain {
        PesDomain::Recette => "recette",
        PesDomain::Depense | PesDomain::PiecesJointes => "dépense",
    };
    let mut m = Map::new();
    m.insert("exercice".into(), json!(b.exercice));
    m.insert("numero".into(), json!(b.numero));
    m.insert("domaine".into(), json!(domaine));
    put(&mut m, "type_bordereau", b.type_bordereau.as_deref());
    m.insert("nombre_pieces".into(), json!(b.pieces));
    if let Some(total) = b.montant {
        m.insert("montant_total".into(), json!(total.to_string()));
    }
    m.insert("siret".into(), json!(f.header.siret));
    m.insert("flux".into(), json!(flux_name));
    let montant = b
        .montant
        .map_or_else(|| "non indiqué".to_owned(), |t| format!("{t} €"));
    // The card is the document's content: what a person opening it reads,
    // and what the index finds.
    let card = format!(
        "Bordereau n° {numero}\nExercice : {exercice}\nDomaine : {domaine}\n\
         Type : {typ}\nNombre de pièces : {pieces}\nMontant total : {montant}\n\
         Collectivité : {libelle} (SIRET {siret})\nFlux d'origine : {flux_name}\n",
        numero = b.numero,
        exercice = b.exercice,
        typ = b.type_bordereau.as_deref().unwrap_or("non indiqué"),
        pieces = b.pieces,
        libelle = f.header.libelle.as_deref().unwrap_or("—"),
        siret = f.header.siret,
    );
    let fallback = format!("Bordereau {}.txt", b.exercice);
    PlannedDocument {
        folder: with(folder, BORDEREAUX),
        name: safe_name(
            &format!("Bordereau {} {} ({}).txt", b.numero, b.exercice, domaine),
            &fallback,
        ),
        doc_type: Some("bordereau".into()),
        metadata: m,
        media_type: Some("text/plain; charset=utf-8".into()),
        content: Content::Bytes(card.into_bytes()),
    }
}

fn attachment(f: &PesFlux, a: &Attachment, folder: &[String], flux_name: &str) -> PlannedDocument {
    let mut m = Map::new();
    m.insert("nom".into(), json!(a.name));
    put(&mut m, "type_pj", a.type_pj.as_deref());
    put(&mut m, "identifiant_unique", a.id_unique.as_deref());
    put(&mut m, "description", a.description.as_deref());
    m.insert("siret".into(), json!(f.header.siret));
    m.insert("flux".into(), json!(flux_name));
    PlannedDocument {
        folder: with(folder, PIECES),
        name: safe_name(&a.name, &format!("piece-{}", a.index + 1)),
        doc_type: Some("piece-justificative".into()),
        metadata: m,
        media_type: a.media_type.clone(),
        content: Content::Attachment(a.index),
    }
}

fn with(folder: &[String], sub: &str) -> Vec<String> {
    let mut v = folder.to_vec();
    v.push(sub.to_owned());
    v
}

fn put(m: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
        m.insert(key.to_owned(), json!(v));
    }
}

/// `AAAA-MM-JJ`, as the catalogue's date fields take it (a PES date
/// written otherwise is left out rather than refusing the flow).
fn is_date(s: &str) -> bool {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).is_ok()
}
