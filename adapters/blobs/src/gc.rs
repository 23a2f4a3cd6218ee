//! `gc`: removes the blobs that nothing references any more.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use passerelle_core::blob::{BlobError, BlobStore};
use passerelle_core::hash::ContentHash;
use tracing::{info, instrument};

/// What a garbage collection did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GcReport {
    /// Blobs found in the store.
    pub scanned: u64,
    /// Blobs kept because they are referenced.
    pub kept: u64,
    /// Unreferenced blobs kept because they were stored within `min_age`.
    pub recent: u64,
    /// Blobs deleted.
    pub deleted: u64,
    /// Sum of the sizes of the deleted blobs.
    pub bytes_freed: u64,
}

/// Deletes every blob of `store` that is not in `referenced` and was last
/// stored more than `min_age` ago.
///
/// `min_age` is what makes it safe to run beside a live node: a blob that was
/// just `put` (or re-`put` and deduplicated) and whose version is not
/// committed yet is unreferenced for a moment; an hour spares it with a wide
/// margin. `referenced` must be read *after* the listing would be ideal, but
/// reading it before is safe too thanks to the same margin.
///
/// Stops at the first failure; what was deleted before stays deleted, and
/// running it again is safe.
#[instrument(skip_all, fields(referenced = referenced.len()))]
pub async fn gc(
    store: &dyn BlobStore,
    referenced: &HashSet<ContentHash>,
    min_age: Duration,
) -> Result<GcReport, BlobError> {
    let mut report = GcReport::default();
    let cutoff = SystemTime::now()
        .checked_sub(min_age)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    for hash in store.list().await? {
        report.scanned += 1;
        if referenced.contains(&hash) {
            report.kept += 1;
            continue;
        }
        match store.stored_at(&hash).await? {
            Some(at) if at > cutoff => {
                report.recent += 1;
                continue;
            }
            _ => {}
        }
        // Deleted concurrently: nothing to free, and delete is idempotent.
        let size = store.size(&hash).await?.unwrap_or(0);
        store.delete(&hash).await?;
        report.deleted += 1;
        report.bytes_freed += size;
    }
    info!(
        scanned = report.scanned,
        kept = report.kept,
        deleted = report.deleted,
        bytes_freed = report.bytes_freed,
        "blob garbage collection done"
    );
    Ok(report)
}
