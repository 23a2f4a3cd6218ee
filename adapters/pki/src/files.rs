//! Files of the PKI: private keys are created with mode 0600 by the `open`
//! call itself (never written first and chmod-ed after, which would leave a
//! window where another user could read them), replaced through a temporary
//! file and a rename, and checked before use.
//!
//! Unix only: the internal node runs on Linux, and the permission model is the
//! point of this module.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::PkiError;

/// Who may read a file we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Private keys: owner only.
    Private,
    /// Certificates: anyone on the machine.
    Public,
}

impl Access {
    fn mode(self) -> u32 {
        match self {
            Access::Private => 0o600,
            Access::Public => 0o644,
        }
    }
}

/// Creates `dir` and its missing parents, owner-only (existing ones keep their mode).
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), PkiError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| PkiError::io(dir, e))
}

/// Writes a file that must not exist yet; fails with `AlreadyExists` otherwise,
/// so two concurrent writers cannot both succeed.
pub(crate) fn write_new(path: &Path, contents: &[u8], access: Access) -> Result<(), PkiError> {
    write_new_io(path, contents, access).map_err(|e| PkiError::io(path, e))
}

fn write_new_io(path: &Path, contents: &[u8], access: Access) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(access.mode())
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Replaces `path` (or creates it) atomically: readers see the old file or the
/// new one, never half of it.
pub(crate) fn replace(path: &Path, contents: &[u8], access: Access) -> Result<(), PkiError> {
    let tmp = sibling(path, ".tmp");
    // A crash may have left one behind; it was never in use.
    remove_if_exists(&tmp)?;
    write_new(&tmp, contents, access)?;
    rename(&tmp, path)
}

pub(crate) fn rename(from: &Path, to: &Path) -> Result<(), PkiError> {
    fs::rename(from, to).map_err(|e| PkiError::io(from, e))
}

pub(crate) fn remove_if_exists(path: &Path) -> Result<(), PkiError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(PkiError::io(path, e)),
        _ => Ok(()),
    }
}

/// `path` with `suffix` appended to its file name: `cert.pem` → `cert.pem.previous`.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Makes the renames and creations in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), PkiError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| PkiError::io(dir, e))
}

pub(crate) fn read_to_string(path: &Path) -> Result<String, PkiError> {
    fs::read_to_string(path).map_err(|e| PkiError::io(path, e))
}

pub(crate) fn exists(path: &Path) -> Result<bool, PkiError> {
    path.try_exists().map_err(|e| PkiError::io(path, e))
}

/// Refuses a private key that group or others may read (or write).
pub(crate) fn check_private(path: &Path) -> Result<(), PkiError> {
    let mode = fs::metadata(path)
        .map_err(|e| PkiError::io(path, e))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(PkiError::InsecureKeyFile {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn private_files_are_created_owner_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key.pem");
        write_new(&path, b"secret", Access::Private).expect("write");
        assert_eq!(mode_of(&path), 0o600);
        check_private(&path).expect("0600 is private");
    }

    #[test]
    fn write_new_never_overwrites() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ca.key");
        write_new(&path, b"first", Access::Private).expect("write");
        let err = write_new(&path, b"second", Access::Private).expect_err("must refuse");
        assert!(
            matches!(&err, PkiError::Io { source, .. } if source.kind() == io::ErrorKind::AlreadyExists)
        );
        assert_eq!(fs::read(&path).expect("read"), b"first");
    }

    #[test]
    fn replace_keeps_private_mode_and_swaps_contents() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key.pem");
        replace(&path, b"one", Access::Private).expect("create");
        replace(&path, b"two", Access::Private).expect("replace");
        assert_eq!(fs::read(&path).expect("read"), b"two");
        assert_eq!(mode_of(&path), 0o600);
        assert!(!sibling(&path, ".tmp").exists());
    }

    #[test]
    fn check_private_refuses_group_or_world_access() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ca.key");
        write_new(&path, b"secret", Access::Private).expect("write");
        for mode in [0o644, 0o640, 0o604, 0o620] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
            assert!(
                matches!(check_private(&path), Err(PkiError::InsecureKeyFile { mode: m, .. }) if m == mode),
                "mode {mode:o} accepted"
            );
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).expect("chmod");
        check_private(&path).expect("0400 is private");
    }

    #[test]
    fn sibling_appends_to_the_file_name() {
        assert_eq!(
            sibling(Path::new("/x/issued/e/cert.pem"), ".previous"),
            Path::new("/x/issued/e/cert.pem.previous")
        );
    }
}
