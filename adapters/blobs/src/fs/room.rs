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
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use passerelle_core::blob::{BlobError, Room};

use super::joined;

/// The directory of a store, the bytes it keeps free there, and what its
/// writes have met.
#[derive(Debug, Clone)]
pub(super) struct Floor {
    /// The store's root: `statvfs` asks about the filesystem holding it.
    pub(super) root: PathBuf,
    /// New content is refused when it would leave less than this free.
    pub(super) min_free: u64,
    /// Shared by the store's clones.
    state: Arc<Mutex<Pressure>>,
}

/// What the writes of a store have met.
#[derive(Debug, Default)]
struct Pressure {
    /// Bytes that resumable writes under way were allowed and may not have
    /// written yet: four pushes checked at once against the same free space
    /// would otherwise all pass, and cross the floor together.
    reserved: u64,
    /// The last content refused for lack of room: its size and when. While
    /// it would still be refused, and was refused recently (the sender
    /// retries it), the store says it is short, even above its floor.
    refused: Option<Refused>,
}

/// Content refused for lack of room.
#[derive(Debug, Clone, Copy)]
struct Refused {
    bytes: u64,
    at: Instant,
}

/// How long a refusal counts when it is not renewed: longer than the
/// replication link's longest wait before it sends a refused space again
/// (60 s), so a blob that keeps being refused keeps the store short.
const REFUSAL_COUNTS: Duration = Duration::from_secs(120);

/// Bytes a write was allowed, given back when it ends, however it ends.
#[derive(Debug)]
pub(super) struct Reserved {
    state: Option<Arc<Mutex<Pressure>>>,
    bytes: u64,
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if let Some(state) = &self.state {
            let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
            s.reserved = s.reserved.saturating_sub(self.bytes);
        }
    }
}

impl Floor {
    pub(super) fn new(root: PathBuf) -> Self {
        Self {
            root,
            min_free: 0,
            state: Arc::default(),
        }
    }

    fn pressure(&self) -> std::sync::MutexGuard<'_, Pressure> {
        // Two integers, each update whole: a panic elsewhere cannot leave
        // them half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The room now; `None` where the platform cannot tell. Blocking.
    pub(super) fn room(&self) -> Result<Option<Room>, BlobError> {
        let free = free_bytes(&self.root).map_err(|e| {
            BlobError::Storage(Box::new(io::Error::new(
                e.kind(),
                format!("cannot read the free space of {}: {e}", self.root.display()),
            )))
        })?;
        Ok(free.map(|free| {
            let mut pressure = self.pressure();
            let unclaimed = free.saturating_sub(pressure.reserved);
            let still = |r: &Refused| {
                r.at.elapsed() < REFUSAL_COUNTS && unclaimed < self.min_free.saturating_add(r.bytes)
            };
            if !pressure.refused.as_ref().is_some_and(still) {
                pressure.refused = None;
            }
            Room {
                free,
                floor: self.min_free,
                place: self.root.display().to_string(),
                refusing: pressure.refused.is_some(),
            }
        }))
    }

    /// `Full` unless `more` bytes can be written, besides those of the
    /// writes under way, and still leave the floor free; else `more` is
    /// reserved until the returned guard drops. When the free space cannot
    /// be read the write goes ahead: the floor is a margin, and a disk
    /// really full still answers `ENOSPC`.
    pub(super) async fn ensure(&self, more: u64) -> Result<Reserved, BlobError> {
        let unreserved = Reserved {
            state: None,
            bytes: 0,
        };
        if self.min_free == 0 {
            return Ok(unreserved);
        }
        let floor = self.clone();
        let room = tokio::task::spawn_blocking(move || floor.room())
            .await
            .map_err(joined)?;
        let room = match room {
            Ok(Some(room)) => room,
            Ok(None) => return Ok(unreserved),
            Err(e) => {
                tracing::debug!(error = %e, "free space unknown: writing anyway");
                return Ok(unreserved);
            }
        };
        {
            let mut pressure = self.pressure();
            let needed = self
                .min_free
                .saturating_add(pressure.reserved)
                .saturating_add(more);
            if room.free >= needed {
                pressure.reserved += more;
                return Ok(Reserved {
                    state: Some(self.state.clone()),
                    bytes: more,
                });
            }
            // The largest free space refused at: a dip below it (a large
            // upload refused midway) does not make it forgotten.
            pressure.refused = Some(Refused {
                bytes: more,
                at: Instant::now(),
            });
        }
        let cause = if more == 0 {
            format!("disk nearly full on {}: {room}", room.place)
        } else {
            format!(
                "disk nearly full on {}: {room}, {} more would cross it",
                room.place,
                mib(more)
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
            } => {
                // The disk was full: short until anything is freed.
                self.pressure().refused = Some(Refused {
                    bytes: 1,
                    at: Instant::now(),
                });
                BlobError::Full {
                    cause: format!("{cause} on {}", self.root.display()),
                    source: Some(source),
                }
            }
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
            min_free,
            ..Floor::new(dir.path().to_path_buf())
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
        let _ = floor.ensure(u64::MAX).await.expect("no floor");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn content_that_would_cross_the_floor_is_refused_before_it_is_written() {
        let (_dir, floor) = floor(1);
        let free = floor.room().expect("statvfs").expect("known").free;
        let _ = floor.ensure(0).await.expect("above a floor of 1 byte");
        assert!(matches!(
            floor.ensure(free).await,
            Err(BlobError::Full { .. })
        ));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn writes_under_way_count_until_they_end() {
        let (_dir, floor) = floor(1);
        let free = floor.room().expect("statvfs").expect("known").free;
        // Other files may come and go on this disk: leave them 64 MiB.
        let half = free.saturating_sub(64 << 20) / 2;
        let first = floor.ensure(half).await.expect("fits");
        let _second = floor.ensure(half).await.expect("fits beside");
        assert!(
            matches!(floor.ensure(half).await, Err(BlobError::Full { .. })),
            "a third would cross the floor with the two under way"
        );
        drop(first);
        let _third = floor.ensure(half).await.expect("fits once the first ended");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_refusal_above_the_floor_leaves_the_store_short_while_it_would_still_refuse() {
        let (_dir, floor) = floor(1);
        let room = floor.room().expect("statvfs").expect("known");
        assert!(!room.is_short(), "{room:?}");
        // A GiB more than the disk: files other processes delete meanwhile
        // must not make it fit (asking for exactly `free` did, once).
        let more = room.free.saturating_add(1 << 30);
        assert!(floor.ensure(more).await.is_err(), "more than the disk");
        let room = floor.room().expect("statvfs").expect("known");
        assert!(room.refusing && room.is_short(), "{room:?}");
        assert!(
            room.to_string()
                .ends_with("content refused for lack of room")
        );
        // As after a purge: what was refused would fit now.
        floor.pressure().refused = Some(Refused {
            bytes: 0,
            at: Instant::now(),
        });
        let room = floor.room().expect("statvfs").expect("known");
        assert!(!room.is_short(), "{room:?}");
        assert!(floor.pressure().refused.is_none(), "forgotten");
        // A refusal not renewed for a while no longer counts.
        floor.pressure().refused = Some(Refused {
            bytes: u64::MAX / 2,
            at: Instant::now() - REFUSAL_COUNTS,
        });
        let room = floor.room().expect("statvfs").expect("known");
        assert!(!room.is_short(), "{room:?}");
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
