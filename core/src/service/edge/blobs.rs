//! The edge's account of its blobs (ADR 0003, "Blob accounting"): a blob
//! is needed by a space held here from the moment it is offered for it (a
//! claim, recorded before its first byte is written), then by the rows of
//! the space that name it (versions, pending operations). The purge of a
//! space and the garbage collection remove what no space held here needs,
//! so the edge keeps nothing of an un-shared space, whatever the point at
//! which its transfer was cut.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use crate::blob::{BlobError, ByteStream, Holding, Resumed};
use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::{Revision, SpaceId};
use crate::ports::Tx;

use super::super::EdgeApp;
use super::super::maintenance::BlobCheck;

/// Why a blob pushed by the internal node was not received (edge).
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// The store refused the bytes or failed (`OutOfPlace`, `Busy`,
    /// `Corrupt`, `TooLarge`…): the sender is told which, to resume or
    /// resend.
    #[error(transparent)]
    Store(#[from] BlobError),
    /// The space the blob is sent for could not be recorded: nothing of
    /// the blob was written.
    #[error("the space of the blob could not be recorded")]
    Unrecorded(#[source] CoreError),
}

/// What a garbage collection of the edge's blobs did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlobCollection {
    /// Blobs found whole in the store.
    pub scanned: u64,
    /// Blobs kept because a space held here needs them.
    pub needed: u64,
    /// Blobs no space needs, spared because stored within the grace period.
    pub recent: u64,
    /// Whole blobs deleted.
    pub deleted: u64,
    /// Partial blobs of cut transfers discarded.
    pub partials: u64,
    /// Bytes freed by both.
    pub bytes_freed: u64,
}

impl EdgeApp {
    /// What the edge holds of the blobs the internal node offers for
    /// `space` (have/want), once they are recorded for it: the space is
    /// held (cursor 0 until a first batch, so the edge's `Hello` names it
    /// and an un-share purges it) and claims every offered blob, in one
    /// transaction, before any byte of them is sent. Blobs held already
    /// are claimed too: the batch will name them, and until it is applied
    /// the claim keeps them from a collection or another space's purge.
    /// `None` (a sender that names no space) only looks.
    pub async fn offered_blobs(
        &self,
        space: Option<SpaceId>,
        hashes: &[ContentHash],
    ) -> Result<Vec<Holding>, CoreError> {
        if let Some(space) = space {
            let mut tx = self.write().await?;
            hold_space(&mut tx, space).await?;
            tx.claim_blobs(space, hashes).await?;
            self.commit(tx).await?;
        }
        Ok(self.blobs.holdings(hashes).await?)
    }

    /// Receives (part of) a blob the internal node pushes for `space`
    /// (`BlobStore::put_resumable`). The claim of the space on the blob is
    /// committed before the first byte is written (usually by the have/want
    /// that preceded: then one lookup), so from the moment the blob exists
    /// here a purge of the space removes it and a collection keeps it.
    /// `None` (a sender older than the push's space field) writes an
    /// unaccounted blob: the grace period of [`EdgeApp::collect_blobs`]
    /// keeps it until its batch names it, and a collection removes it if
    /// none ever does.
    pub async fn receive_blob(
        &self,
        space: Option<SpaceId>,
        hash: &ContentHash,
        size: u64,
        offset: u64,
        content: ByteStream,
    ) -> Result<Resumed, ReceiveError> {
        if let Some(space) = space {
            self.claim_before_writing(space, hash)
                .await
                .map_err(ReceiveError::Unrecorded)?;
        }
        Ok(self
            .blobs
            .put_resumable(hash, size, offset, content)
            .await?)
    }

    async fn claim_before_writing(
        &self,
        space: SpaceId,
        hash: &ContentHash,
    ) -> Result<(), CoreError> {
        if self.read().await?.blob_claimed(space, hash).await? {
            return Ok(());
        }
        let mut tx = self.write().await?;
        hold_space(&mut tx, space).await?;
        tx.claim_blobs(space, &[*hash]).await?;
        self.commit(tx).await
    }

    /// Removes every blob that no space held here needs (edge): neither a
    /// row (version, pending operation) nor a claim names it. Whole blobs
    /// stored within `grace` are spared: a contractor's upload stores its
    /// blob before the transaction that appends its operation (its hash is
    /// known only once it is written), and a push that names no space is
    /// recorded by nothing until its batch lands. Pushes that name their
    /// space need no grace: their claim precedes their first byte. Idle
    /// partial blobs no space needs go too; one being written is kept.
    ///
    /// Safe beside a running node and repeatable; stops at the first
    /// storage failure (what was removed stays removed).
    pub async fn collect_blobs(&self, grace: Duration) -> Result<BlobCollection, CoreError> {
        // Listed before the needed set is read: a blob listed here was
        // written before, so the claim its push committed before writing
        // it is in the set. (A blob that was here unneeded and is offered
        // for a space between the two reads may still go: its batch is
        // then refused as `blob_missing` and the next pass sends it again.)
        let stored = self.blobs.list().await?;
        let partials = self.blobs.partials().await?;
        let needed = needed_in(&mut self.read().await?).await?;
        let cutoff = SystemTime::from(self.clock.now())
            .checked_sub(grace)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut report = BlobCollection::default();
        for hash in stored {
            report.scanned += 1;
            if needed.contains(&hash) {
                report.needed += 1;
                continue;
            }
            if self
                .blobs
                .stored_at(&hash)
                .await?
                .is_some_and(|at| at > cutoff)
            {
                report.recent += 1;
                continue;
            }
            // Deleted concurrently: nothing freed; delete is idempotent.
            let size = self.blobs.size(&hash).await?.unwrap_or(0);
            self.blobs.delete(&hash).await?;
            report.deleted += 1;
            report.bytes_freed += size;
        }
        let (n, bytes) = self.discard_idle_partials(partials, &needed).await?;
        report.partials = n;
        report.bytes_freed += bytes;
        tracing::info!(
            scanned = report.scanned,
            deleted = report.deleted,
            partials = report.partials,
            recent = report.recent,
            bytes_freed = report.bytes_freed,
            "edge blobs collected"
        );
        Ok(report)
    }

    /// The edge's blobs against what its spaces need: `referenced` counts
    /// the blobs needed (rows and claims), `missing` those a row names and
    /// the store lacks (a claimed blob may still be on its way: not
    /// missing), `unreferenced` those no space needs (collectable), and
    /// with `verify_content` every needed blob is re-hashed (`corrupt`).
    pub async fn check_edge_blobs(&self, verify_content: bool) -> Result<BlobCheck, CoreError> {
        let (named, needed) = {
            let mut tx = self.read().await?;
            let named = tx.referenced_hashes().await?;
            let needed = needed_in(&mut tx).await?;
            (named, needed)
        };
        let stored: HashSet<ContentHash> = self.blobs.list().await?.into_iter().collect();
        let mut report = BlobCheck {
            referenced: needed.len(),
            stored: stored.len(),
            unreferenced: stored.difference(&needed).count(),
            missing: named.difference(&stored).copied().collect(),
            ..BlobCheck::default()
        };
        if verify_content {
            for h in needed.intersection(&stored) {
                match self.blobs.verify(h).await {
                    Ok(()) => {}
                    Err(BlobError::Corrupt { .. }) => report.corrupt.push(*h),
                    // Removed meanwhile (a purge): not this check's finding.
                    Err(BlobError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        report.missing.sort();
        report.corrupt.sort();
        Ok(report)
    }

    /// Discards the partial blobs of `partials` that `needed` does not
    /// name; one being written (`Busy`) is kept. Returns how many went and
    /// their bytes.
    pub(super) async fn discard_idle_partials(
        &self,
        partials: Vec<(ContentHash, u64)>,
        needed: &HashSet<ContentHash>,
    ) -> Result<(u64, u64), CoreError> {
        let (mut n, mut bytes) = (0, 0);
        for (h, len) in partials {
            if needed.contains(&h) {
                continue;
            }
            match self.blobs.discard_partial(&h).await {
                Ok(()) => {
                    n += 1;
                    bytes += len;
                }
                Err(BlobError::Busy(_)) => {
                    tracing::debug!(hash = %h.short(), "partial blob in transfer: kept");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok((n, bytes))
    }
}

/// Every blob a space held here needs: named by a row (a version, a
/// pending operation) or claimed by a space.
pub(super) async fn needed_in(tx: &mut Box<dyn Tx>) -> Result<HashSet<ContentHash>, CoreError> {
    let mut needed = tx.referenced_hashes().await?;
    needed.extend(tx.blob_claims().await?.into_iter().map(|(_, h)| h));
    Ok(needed)
}

/// Holds `space` from now on (cursor 0 until a first batch) unless it is
/// held already.
async fn hold_space(tx: &mut Box<dyn Tx>, space: SpaceId) -> Result<(), CoreError> {
    if !tx.cursors().await?.iter().any(|(s, _)| *s == space) {
        tx.set_cursor(space, Revision::ZERO).await?;
    }
    Ok(())
}
