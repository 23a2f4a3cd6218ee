//! How a failed file operation becomes a `BlobError`: `Full` when the disk
//! or quota is full, `NotFound` for a missing blob, `Storage` otherwise,
//! keeping the operation and the path as the cause.

use std::io;
use std::path::{Path, PathBuf};

use passerelle_core::blob::BlobError;
use passerelle_core::hash::ContentHash;

/// An I/O failure with what was being done and on which path.
#[derive(Debug, thiserror::Error)]
#[error("cannot {op} {}", path.display())]
struct FsError {
    op: &'static str,
    path: PathBuf,
    #[source]
    source: io::Error,
}

/// A failed file operation: `Full` when the disk or quota is full (the
/// store's entry points add where: [`Floor::named`](super::room::Floor::named)),
/// `Storage` otherwise.
pub(super) fn storage(op: &'static str, path: &Path, source: io::Error) -> BlobError {
    let full = super::room::full_disk(&source);
    let e = Box::new(FsError {
        op,
        path: path.to_path_buf(),
        source,
    });
    match full {
        Some(cause) => BlobError::Full {
            cause: cause.to_owned(),
            source: Some(e),
        },
        None => BlobError::Storage(e),
    }
}

/// `NotFound` when the blob file is missing, `Storage` for anything else.
pub(super) fn missing_or_storage(
    hash: &ContentHash,
    op: &'static str,
    path: &Path,
    e: io::Error,
) -> BlobError {
    if e.kind() == io::ErrorKind::NotFound {
        BlobError::NotFound(*hash)
    } else {
        storage(op, path, e)
    }
}

/// A blocking job panicked or was cancelled by runtime shutdown.
pub(super) fn joined(e: tokio::task::JoinError) -> BlobError {
    BlobError::Storage(Box::new(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_failing_with_enospc_is_full_and_keeps_its_cause() {
        let e = storage(
            "write temporary",
            Path::new("/data/tmp/x.part"),
            io::Error::from_raw_os_error(28),
        );
        let BlobError::Full { cause, source } = e else {
            panic!("{e:?}")
        };
        assert_eq!(cause, "disk full (ENOSPC)");
        let source = source.expect("the io error is kept");
        assert!(source.to_string().contains("/data/tmp/x.part"), "{source}");
    }

    #[test]
    fn other_write_failures_stay_storage_failures() {
        let e = storage(
            "write temporary",
            Path::new("/data/tmp/x.part"),
            io::Error::from_raw_os_error(5),
        );
        assert!(matches!(e, BlobError::Storage(_)), "{e:?}");
    }
}
