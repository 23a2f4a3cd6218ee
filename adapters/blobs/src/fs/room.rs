//! Room on the disk: the free bytes of the store's filesystem (`statvfs`)
//! against the floor the store keeps, and a full disk (`ENOSPC`, `EDQUOT`)
//! named as such rather than as a storage failure.
//!
//! The floor is room left for what must keep working once blobs have filled
//! the disk: the database beside them (rows of the other spaces, the
//! outbox) and the purge of an un-shared space, which writes to the
//! database's log before it frees anything.

use std::io;
use std::path::{Path, PathBuf};

use passerelle_core::blob::{BlobError, Room};

use super::joined;

/// The directory of a store and the bytes it keeps free there.
#[derive(Debug, Clone)]
pub(super) struct Floor {
    /// The store's root: `statvfs` asks about the filesystem holding it.
    pub(super) root: PathBuf,
    /// New content is refused when it would leave less than this free.
    pub(super) min_free: u64,
}

impl Floor {
    /// The room now; `None` where the platform cannot tell. Blocking.
    pub(super) fn room(&self) -> Result<Option<Room>, BlobError> {
        let free = free_bytes(&self.root).map_err(|e| {
            BlobError::Storage(Box::new(io::Error::new(
                e.kind(),
                format!("cannot read the free space of {}: {e}", self.root.display()),
            )))
        })?;
        Ok(free.map(|free| Room {
            free,
            floor: self.min_free,
            place: self.root.display().to_string(),
        }))
    }

    /// `Full` unless `more` bytes can be written and still leave the floor
    /// free. When the free space cannot be read the write goes ahead: the
    /// floor is a margin, and a disk really full still answers `ENOSPC`.
    pub(super) async fn ensure(&self, more: u64) -> Result<(), BlobError> {
        if self.min_free == 0 {
            return Ok(());
        }
        let floor = self.clone();
        let room = tokio::task::spawn_blocking(move || floor.room())
            .await
            .map_err(joined)?;
        let room = match room {
            Ok(Some(room)) => room,
            Ok(None) => return Ok(()),
            Err(e) => {
                tracing::debug!(error = %e, "free space unknown: writing anyway");
                return Ok(());
            }
        };
        if room.free >= self.min_free.saturating_add(more) {
            return Ok(());
        }
        let cause = if more == 0 {
            format!(
                "disk nearly full on {}: {} free, below the floor of {}",
                room.place,
                mib(room.free),
                mib(self.min_free)
            )
        } else {
            format!(
                "disk nearly full on {}: {} free, {} more would leave less than the floor of {}",
                room.place,
                mib(room.free),
                mib(more),
                mib(self.min_free)
            )
        };
        Err(BlobError::Full {
            cause,
            source: None,
        })
    }

    /// Names the store's directory in the cause of a full disk met while
    /// writing (operators look there; the file being written is in the
    /// source). Other errors pass unchanged.
    pub(super) fn named(&self, e: BlobError) -> BlobError {
        match e {
            BlobError::Full {
                cause,
                source: Some(source),
            } => BlobError::Full {
                cause: format!("{cause} on {}", self.root.display()),
                source: Some(source),
            },
            other => other,
        }
    }
}

/// What a write failure says when the disk or the quota is full; `None`
/// for any other failure.
pub(super) fn full_disk(e: &io::Error) -> Option<&'static str> {
    match e.kind() {
        io::ErrorKind::StorageFull => Some("disk full (ENOSPC)"),
        io::ErrorKind::QuotaExceeded => Some("disk quota exceeded (EDQUOT)"),
        _ => None,
    }
}

/// Bytes this process may still write on the filesystem holding `dir`:
/// `statvfs`'s blocks available to unprivileged users (the node runs as
/// one; blocks reserved for root do not count) × the fragment size.
/// Through rustix, already linked for `O_DIRECT`: no unsafe code here.
/// Blocking.
#[cfg(target_os = "linux")]
fn free_bytes(dir: &Path) -> io::Result<Option<u64>> {
    let s = rustix::fs::statvfs(dir)?;
    Ok(Some(s.f_bavail.saturating_mul(s.f_frsize)))
}

/// Elsewhere the free space is not read: no floor, `ENOSPC` still counts.
#[cfg(not(target_os = "linux"))]
fn free_bytes(_dir: &Path) -> io::Result<Option<u64>> {
    Ok(None)
}

/// Bytes in MiB with one decimal, for causes read by people.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floor(min_free: u64) -> (tempfile::TempDir, Floor) {
        let dir = tempfile::tempdir().expect("temp dir");
        let floor = Floor {
            root: dir.path().to_path_buf(),
            min_free,
        };
        (dir, floor)
    }

    #[test]
    fn enospc_and_edquot_are_a_full_disk_and_other_failures_are_not() {
        let enospc = io::Error::from_raw_os_error(28);
        assert_eq!(full_disk(&enospc), Some("disk full (ENOSPC)"));
        let edquot = io::Error::from_raw_os_error(122);
        assert_eq!(full_disk(&edquot), Some("disk quota exceeded (EDQUOT)"));
        let eio = io::Error::from_raw_os_error(5);
        assert_eq!(full_disk(&eio), None);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_floor_above_the_free_space_refuses_and_says_where_and_how_much() {
        let (dir, floor) = floor(u64::MAX / 2);
        let room = floor.room().expect("statvfs").expect("known on Linux");
        assert!(room.is_short(), "{room:?}");
        match floor.ensure(0).await {
            Err(BlobError::Full {
                cause,
                source: None,
            }) => {
                assert!(cause.contains(&dir.path().display().to_string()), "{cause}");
                assert!(cause.contains("MiB free"), "{cause}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn no_floor_never_refuses() {
        let (_dir, floor) = floor(0);
        floor.ensure(u64::MAX).await.expect("no floor");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn content_that_would_cross_the_floor_is_refused_before_it_is_written() {
        let (_dir, floor) = floor(1);
        let free = floor.room().expect("statvfs").expect("known").free;
        floor.ensure(0).await.expect("above a floor of 1 byte");
        assert!(matches!(
            floor.ensure(free).await,
            Err(BlobError::Full { .. })
        ));
    }

    #[test]
    fn a_full_disk_met_while_writing_names_the_store() {
        let (dir, floor) = floor(0);
        let e = floor.named(BlobError::Full {
            cause: "disk full (ENOSPC)".into(),
            source: Some(Box::new(io::Error::from_raw_os_error(28))),
        });
        let BlobError::Full { cause, .. } = e else {
            panic!("still full")
        };
        assert_eq!(
            cause,
            format!("disk full (ENOSPC) on {}", dir.path().display())
        );
    }
}
