//! A hot folder (a "drop", ADR 0008) as tests and benches watch it from
//! outside: what the node has filed, by the files it moved to
//! `traite/<day>/`.

use std::path::{Path, PathBuf};

/// Files in `traite/<day>/` of the drop at `depot` (their receipts,
/// `*.recu.json`, aside), all days together, sorted.
pub fn filed(depot: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for day in std::fs::read_dir(depot.join("traite"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for f in std::fs::read_dir(day.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if !f.file_name().to_string_lossy().ends_with(".recu.json") {
                out.push(f.path());
            }
        }
    }
    out.sort();
    out
}
