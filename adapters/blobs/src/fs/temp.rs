//! `TempFile`: a uniquely named file in `tmp/` that removes itself unless the
//! write that owns it reaches its final name.

use std::fs::{File, OpenOptions};
use std::io;
use std::mem;
use std::path::{Path, PathBuf};

use passerelle_core::blob::BlobError;
use tracing::warn;
use uuid::Uuid;

use super::{joined, storage};

/// Suffix of every temporary, so an operator can tell them from blobs.
const SUFFIX: &str = "part";

/// Owns the path of a temporary while a `put` is in progress.
///
/// Dropping it (an error path that forgot to clean up, or the `put` future
/// dropped by a cut connection) removes the file; `disarm` is called once
/// the file has been renamed to its final name.
#[derive(Debug)]
pub(super) struct TempFile {
    /// Where the temporary lives.
    path: PathBuf,
    /// Whether dropping the guard still has to remove the file.
    armed: bool,
}

impl TempFile {
    /// Creates a new empty temporary in `dir` (never reusing a name).
    pub(super) async fn create(dir: &Path) -> Result<(Self, File), BlobError> {
        let path = dir.join(format!("{}.{SUFFIX}", Uuid::new_v4().simple()));
        // Armed before the file exists: a future dropped while the creation
        // runs still removes it (or, at worst, leaves it to the sweep).
        let guard = Self {
            path: path.clone(),
            armed: true,
        };
        let file = tokio::task::spawn_blocking(move || {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| storage("create temporary", &path, e))
        })
        .await
        .map_err(joined)??;
        Ok((guard, file))
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary reached its final name (or was removed): nothing to undo.
    pub(super) fn disarm(mut self) {
        self.armed = false;
    }

    /// Removes the temporary now and waits until it is gone, so that a failed
    /// `put` leaves nothing behind when it returns.
    pub(super) async fn remove(mut self) {
        self.armed = false;
        let path = mem::take(&mut self.path);
        // A join error means the removal panicked: the sweep will catch it.
        let _ = tokio::task::spawn_blocking(move || remove_quietly(&path)).await;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let path = mem::take(&mut self.path);
        // Unlinking a large file can take milliseconds: keep it off the
        // runtime. This task is deliberately detached: Drop cannot await it,
        // and if the runtime shuts down first, `sweep_temporaries` at the next
        // start removes the file (the port documents this).
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(move || remove_quietly(&path));
            }
            Err(_) => remove_quietly(&path),
        }
    }
}

/// Removes a temporary; it may already be gone (swept, or never created).
pub(super) fn remove_quietly(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(error) => warn!(path = %path.display(), %error, "cannot remove temporary blob file"),
    }
}
