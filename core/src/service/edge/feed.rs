//! The edge's side of the change feed (edge): batches applied in order,
//! the shared spaces held here and their cursors, the purge of an
//! un-shared space; apart from the contractors' writes, which go the other
//! way, and the digest both nodes compare (`service::digest`).

use std::collections::HashSet;

use serde_json::json;

use crate::blob::Holding;
use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::{DocumentId, Revision, SpaceId};
use crate::replication::ChangeRow;

use super::super::member_ends::end_sessions_without_access;
use super::super::{Actor, EdgeApp};
use super::{blobs, events};

/// What an un-share purge removed from the edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PurgeReport {
    pub rows: u64,
    pub blobs: u64,
    pub bytes: u64,
    /// When the purge committed, by this node's clock (the receipt's time).
    pub at: time::OffsetDateTime,
}

impl EdgeApp {
    /// Applies a batch of the change feed of one space (edge). Idempotent:
    /// a batch at or below the stored cursor is skipped; a batch starting past
    /// it is refused (`cursor_gap`) so nothing is skipped. Every version's
    /// blob must already be here.
    pub async fn apply_changes(
        &self,
        space: SpaceId,
        from: Revision,
        to: Revision,
        rows: Vec<ChangeRow>,
    ) -> Result<Revision, CoreError> {
        let versions: Vec<(ContentHash, u64)> = rows
            .iter()
            .filter_map(|r| match r {
                ChangeRow::Version(v) => Some((v.hash, v.size)),
                _ => None,
            })
            .collect();
        let hashes: Vec<ContentHash> = versions.iter().map(|(h, _)| *h).collect();
        let held = self.blobs.holdings(&hashes).await?;
        for ((hash, size), held) in versions.iter().zip(held) {
            if held != Holding::Stored(*size) {
                return Err(CoreError::conflict(
                    "blob_missing",
                    format!("blob {} of a version is not here", hash.short()),
                ));
            }
        }
        let mut tx = self.write().await?;
        let cursor = tx
            .cursors()
            .await?
            .into_iter()
            .find(|(s, _)| *s == space)
            .map(|(_, r)| r)
            .unwrap_or_default();
        if to <= cursor {
            // Applied already (its acknowledgement was lost): its rows name
            // the blobs its re-send claimed again.
            if !hashes.is_empty() {
                tx.release_blob_claims(space, &hashes).await?;
                self.commit(tx).await?;
            }
            return Ok(cursor);
        }
        if from > cursor {
            return Err(CoreError::conflict(
                "cursor_gap",
                format!("the edge is at {cursor}, the batch starts after {from}"),
            ));
        }
        let mut documents_here: HashSet<DocumentId> = HashSet::new();
        // Parents before children (rows of one revision come in any order);
        // a batch is one transaction of upserts, so reordering is safe.
        let mut rows = rows;
        rows.sort_by_key(|r| match r {
            ChangeRow::Space(_) | ChangeRow::DocumentType(_) => 0,
            ChangeRow::Principal(_) => 1,
            ChangeRow::Membership(_) | ChangeRow::Invitation(_) => 2,
            ChangeRow::Folder(_) => 3,
            ChangeRow::Document(_) => 4,
            ChangeRow::Version(_) => 5,
            ChangeRow::Link(_) => 6,
        });
        // The space's first batch is its history, not news (ADR 0013).
        let first = cursor == Revision::default();
        let mut events = Vec::new();
        for row in rows {
            if !first && let Some(e) = events::told_by(&mut tx, space, &row).await? {
                events.push(e);
            }
            self.apply_row(&mut tx, space, row, &mut documents_here)
                .await?;
        }
        for e in events {
            self.audit_by(
                &mut tx,
                e.actor,
                e.action,
                Some(space),
                Some(e.target),
                e.detail,
            )
            .await?;
        }
        // The versions now account for their blobs: the claims made when
        // they were offered have done their work.
        tx.release_blob_claims(space, &hashes).await?;
        tx.set_cursor(space, to).await?;
        self.commit(tx).await?;
        Ok(to)
    }

    async fn apply_row(
        &self,
        tx: &mut Box<dyn crate::ports::Tx>,
        space: SpaceId,
        row: ChangeRow,
        documents_here: &mut HashSet<DocumentId>,
    ) -> Result<(), CoreError> {
        let foreign = || CoreError::invalid("foreign_row", "a row of another space in this batch");
        match row {
            ChangeRow::Space(s) if s.id == space => tx.save_space(&s).await?,
            ChangeRow::Membership(m) if m.space == space => {
                tx.save_membership(&m).await?;
                // A contractor removed from their last space is logged out.
                let now = self.shared().now();
                if !m.active_at(now) {
                    end_sessions_without_access(tx, m.principal, now).await?;
                }
            }
            ChangeRow::Folder(f) if f.space == space => tx.save_folder(&f).await?,
            ChangeRow::Document(d) if d.space == space => {
                documents_here.insert(d.id);
                tx.save_document(&d).await?
            }
            ChangeRow::Version(v) => {
                let known = documents_here.contains(&v.document)
                    || tx
                        .document(v.document)
                        .await?
                        .is_some_and(|d| d.space == space);
                if !known {
                    return Err(foreign());
                }
                tx.save_version(&v).await?
            }
            ChangeRow::Invitation(mut i) if i.space == space => {
                // Here an invitation is accepted when its password was chosen
                // here: the edge keeps its own acceptance, and does not take
                // the internal node's record of it (which this edge reported),
                // so a rebuilt edge, which lost the password, lets the
                // contractor use the link again while it is valid.
                i.accepted_at = tx
                    .invitation(i.id)
                    .await?
                    .and_then(|local| local.accepted_at);
                tx.save_invitation(&i).await?
            }
            ChangeRow::Principal(mut p) => {
                // Contractors' passwords exist only here.
                let local = tx.principal(p.id).await?;
                // A manager reset their second factor (a lost phone), or
                // the account was disabled (by an administrator, or for
                // inactivity, ADR 0011 §5): the sessions it let in end now.
                if local.as_ref().is_some_and(|l| {
                    l.second_factor_reset != p.second_factor_reset || (p.disabled && !l.disabled)
                }) {
                    tx.delete_sessions_of(p.id).await?;
                }
                p.password_hash = local.and_then(|local| local.password_hash);
                tx.save_principal(&p).await?
            }
            ChangeRow::DocumentType(t) => tx.save_document_type(&t).await?,
            ChangeRow::Link(l) if l.space == space => {
                // Both ends in this space, here already or in this batch.
                for end in [l.from, l.to] {
                    let known = documents_here.contains(&end)
                        || tx.document(end).await?.is_some_and(|d| d.space == space);
                    if !known {
                        return Err(foreign());
                    }
                }
                tx.save_link(&l).await?
            }
            _ => return Err(foreign()),
        }
        Ok(())
    }

    /// Removes an un-shared space from the edge: its rows and claims, and
    /// every blob of the space (named by its rows or sent for it) that no
    /// other space held here needs, partial ones included (fsynced by the
    /// blob store).
    ///
    /// Refused with `pending_operations` while a contractor's operation of
    /// the space waits for the internal node. The check and the purge are one
    /// write transaction (ADR 0002, invariant 7): an operation appended
    /// concurrently lands either before (the purge is refused, the internal
    /// node drains it and asks again) or after (its space is gone and the
    /// contractor is refused) — never deleted after the contractor was told
    /// it was accepted.
    pub async fn purge_shared_space(&self, space: SpaceId) -> Result<PurgeReport, CoreError> {
        let mut tx = self.write().await?;
        let outbox = tx.list_outbox(space).await?;
        if outbox.iter().any(|i| i.outcome.is_none()) {
            return Err(CoreError::conflict(
                "pending_operations",
                "pending operations of this space are not applied yet",
            ));
        }
        // The space's blobs: those its rows name, and those sent for it
        // that no applied batch names yet (claimed when offered, before
        // their first byte: a transfer cut before its batch included).
        let claimed = tx.blob_claims().await?;
        let mine: HashSet<ContentHash> = tx
            .space_hashes(space)
            .await?
            .into_iter()
            .chain(outbox.iter().filter_map(|i| i.op.blob().map(|b| b.hash)))
            .chain(claimed.iter().filter(|(s, _)| *s == space).map(|(_, h)| *h))
            .collect();
        let rows = tx.purge_space(space).await?;
        // What the spaces still held need (rows and claims), read in the
        // purge's transaction. A blob offered for another space after this
        // commit and before its file goes below is refused at its batch
        // (`blob_missing`) and sent again: never lost.
        let still = blobs::needed_in(&mut tx).await?;
        self.audit(
            &mut tx,
            &Actor::System,
            "replication.purge",
            Some(space),
            Some(space.to_string()),
            json!({ "rows": rows }),
        )
        .await?;
        self.commit(tx).await?;
        self.repo.scrub().await?;
        let mut report = PurgeReport {
            rows,
            blobs: 0,
            bytes: 0,
            at: self.clock.now(),
        };
        for h in mine.difference(&still) {
            if let Some(size) = self.blobs.size(h).await? {
                self.blobs.delete(h).await?;
                report.blobs += 1;
                report.bytes += size;
            }
        }
        // Transfers cut before their batch left partial blobs: those of
        // this space go, and any no space claims (sent by an internal node
        // that named no space); those claimed by a space still held stay.
        let partials = self.blobs.partials().await?;
        let (n, bytes) = self.discard_idle_partials(partials, &still).await?;
        report.blobs += n;
        report.bytes += bytes;
        tracing::info!(%space, rows, blobs = report.blobs, "shared space purged");
        Ok(report)
    }
}

impl EdgeApp {
    /// Last revision applied per space held here (edge; sent in `Hello`).
    pub async fn cursors(&self) -> Result<Vec<(SpaceId, Revision)>, CoreError> {
        Ok(self.read().await?.cursors().await?)
    }

    /// Records that the internal node started sending `space` (edge): it
    /// is held from now on, at cursor 0 until a first batch lands, so the
    /// edge's `Hello` names it and an un-share purges it, partial blobs
    /// included, even after the link restarted. Idempotent.
    pub async fn begin_space(&self, space: SpaceId) -> Result<(), CoreError> {
        if self.cursors().await?.iter().any(|(s, _)| *s == space) {
            return Ok(());
        }
        let mut tx = self.write().await?;
        if !tx.cursors().await?.iter().any(|(s, _)| *s == space) {
            tx.set_cursor(space, Revision::ZERO).await?;
        }
        self.commit(tx).await?;
        tracing::debug!(%space, "shared space started");
        Ok(())
    }
}
