//! `search reindex`, as both nodes' command lines say it: the index of a
//! stopped node deleted, and what happens next, or why not.

use std::path::Path;

use crate::{ResetError, TantivyIndex};

/// Deletes the search index in `dir`, for the command `binary search
/// reindex`; the message for the operator, or the error that says how to
/// fix the refusal.
pub fn reindex(dir: &Path, binary: &str) -> Result<String, String> {
    match TantivyIndex::reset(dir) {
        Ok(true) => Ok(format!(
            "search index deleted ({}): `{binary} serve` rebuilds it in the background",
            dir.display()
        )),
        Ok(false) => Ok(format!(
            "no search index in {}: `{binary} serve` builds it",
            dir.display()
        )),
        Err(ResetError::InUse(_)) => Err(format!(
            "the node is running and holds the search index in {}: stop it \
             (systemctl stop {binary}), run `{binary} search reindex` again, then start it",
            dir.display()
        )),
        Err(e) => Err(e.to_string()),
    }
}
