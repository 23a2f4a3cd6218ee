//! A dropped file filed as it is (a `generic` drop folder): one untyped
//! document in the target folder, under the file's name (numbered when
//! taken). A dropped directory files each of its plain files, in a folder
//! named after it.

use std::fs;
use std::path::Path;

use serde_json::Map;

use super::plan::{Content, Plan, PlannedDocument, Problem, media_type, safe_name};

/// Most files of one dropped directory.
const MAX_DIRECTORY_FILES: usize = 10_000;

pub fn plan(path: &Path, name: &str, is_dir: bool) -> Result<Plan, Problem> {
    let comment = format!("« {name} » classé depuis un dépôt");
    if !is_dir {
        return Ok(Plan {
            documents: vec![document(Vec::new(), name, path)],
            comment,
            reference: None,
            links: Vec::new(),
        });
    }
    let folder = vec![safe_name(name, "depot")];
    let mut entries = Vec::new();
    for e in fs::read_dir(path).map_err(Problem::io)? {
        let e = e.map_err(Problem::io)?;
        // Plain files only: a link or a device inside a dropped directory
        // is never followed (it could point anywhere on this host).
        if !e.file_type().map_err(Problem::io)?.is_file() {
            return Err(Problem::Refused(format!(
                "« {} » dans le dossier déposé n'est pas un fichier ordinaire (lien, \
                 sous-dossier ou périphérique) : déposez des fichiers seulement.",
                e.file_name().to_string_lossy()
            )));
        }
        entries.push((e.file_name().to_string_lossy().into_owned(), e.path()));
        if entries.len() > MAX_DIRECTORY_FILES {
            return Err(Problem::Refused(format!(
                "Le dossier déposé contient plus de {MAX_DIRECTORY_FILES} fichiers : \
                 déposez-le en plusieurs fois."
            )));
        }
    }
    if entries.is_empty() {
        return Err(Problem::Refused("Le dossier déposé est vide.".into()));
    }
    entries.sort();
    Ok(Plan {
        documents: entries
            .iter()
            .map(|(n, p)| document(folder.clone(), n, p))
            .collect(),
        comment,
        reference: None,
        links: Vec::new(),
    })
}

fn document(folder: Vec<String>, name: &str, path: &Path) -> PlannedDocument {
    PlannedDocument {
        folder,
        name: safe_name(name, "document"),
        doc_type: None,
        metadata: Map::new(),
        media_type: Some(media_type(name)),
        content: Content::File(path.to_owned()),
    }
}
