//! Audit log reading and verification, and DB ↔ blob consistency.

use std::collections::HashSet;

use crate::audit::{ChainError, ChainVerifier};
use crate::blob::Room;
use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::SpaceId;
use crate::model::{AuditEntry, Page, Paged};
use crate::ports::AuditFilter;
use crate::role::Action;

use super::access::Fail;
use super::{Actor, Passerelle};

/// Result of `verify_audit`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainReport {
    /// Entries checked before the end or the first break.
    pub verified: i64,
    pub broken: Option<ChainError>,
}

/// Result of `check_blobs`: references in the database vs blobs on disk.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BlobCheck {
    pub referenced: usize,
    pub stored: usize,
    /// Referenced by a version but absent from the store: data loss.
    pub missing: Vec<ContentHash>,
    /// Present but no longer matching their hash (only when content is verified).
    pub corrupt: Vec<ContentHash>,
    /// Stored but referenced by nothing (collectable by `blobs gc`).
    pub unreferenced: usize,
}

impl BlobCheck {
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.corrupt.is_empty()
    }
}

impl Passerelle {
    /// Room left where the blobs are, and the floor below which uploads and
    /// replicated blobs are refused (`InsufficientStorage`); `None` when
    /// the store cannot tell. For readiness probes and ops' `status`: no
    /// actor, it names no space.
    pub async fn storage_room(&self) -> Result<Option<Room>, CoreError> {
        Ok(self.blobs.room().await?)
    }

    /// The audit log of one space (its managers).
    pub async fn space_audit(
        &self,
        actor: &Actor,
        space: SpaceId,
        page: Page,
    ) -> Result<Paged<AuditEntry>, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            let a = self.access(&mut tx, actor, space).await?;
            a.require(Action::Manage, || space.to_string())?;
            let filter = AuditFilter {
                space: Some(space),
                after_seq: 0,
            };
            Ok::<_, Fail>(tx.list_audit(filter, page).await?)
        })
        .await
    }

    /// The whole audit log (administrators).
    pub async fn global_audit(
        &self,
        actor: &Actor,
        page: Page,
    ) -> Result<Paged<AuditEntry>, CoreError> {
        self.guarded(actor, async {
            self.require_admin(actor, "audit")?;
            Ok::<_, Fail>(
                self.read()
                    .await?
                    .list_audit(AuditFilter::default(), page)
                    .await?,
            )
        })
        .await
    }

    /// Re-computes the whole hash chain, page by page.
    pub async fn verify_audit(&self) -> Result<ChainReport, CoreError> {
        let mut v = ChainVerifier::default();
        let mut tx = self.read().await?;
        loop {
            let filter = AuditFilter {
                space: None,
                after_seq: v.verified(),
            };
            let page = tx.list_audit(filter, Page::new(0, Page::MAX_LIMIT)).await?;
            if page.items.is_empty() {
                return Ok(ChainReport {
                    verified: v.verified(),
                    broken: None,
                });
            }
            for e in &page.items {
                if let Err(broken) = v.push(e) {
                    return Ok(ChainReport {
                        verified: v.verified(),
                        broken: Some(broken),
                    });
                }
            }
        }
    }

    /// Every content hash a version references (administrators; for GC).
    pub async fn referenced_hashes(
        &self,
        actor: &Actor,
    ) -> Result<HashSet<ContentHash>, CoreError> {
        self.guarded(actor, async {
            self.require_admin(actor, "blobs")?;
            Ok::<_, Fail>(self.read().await?.referenced_hashes().await?)
        })
        .await
    }

    /// Compares the versions' references with the blob store; with
    /// `verify_content`, re-hashes every referenced blob.
    pub async fn check_blobs(
        &self,
        actor: &Actor,
        verify_content: bool,
    ) -> Result<BlobCheck, CoreError> {
        let referenced = self.referenced_hashes(actor).await?;
        let stored: HashSet<ContentHash> = self.blobs.list().await?.into_iter().collect();
        let mut report = BlobCheck {
            referenced: referenced.len(),
            stored: stored.len(),
            unreferenced: stored.difference(&referenced).count(),
            ..BlobCheck::default()
        };
        for h in &referenced {
            if !stored.contains(h) {
                report.missing.push(*h);
            } else if verify_content {
                match self.blobs.verify(h).await {
                    Ok(()) => {}
                    Err(crate::blob::BlobError::Corrupt { .. }) => report.corrupt.push(*h),
                    Err(crate::blob::BlobError::NotFound(_)) => report.missing.push(*h),
                    Err(e) => return Err(e.into()),
                }
            }
        }
        report.missing.sort();
        report.corrupt.sort();
        Ok(report)
    }
}
