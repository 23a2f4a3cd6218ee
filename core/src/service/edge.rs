//! Use cases of an edge node: contractors accept invitations and act on the
//! replicated spaces (their writes go to the outbox, pending until the
//! internal node applies them); the replication applies batches, purges
//! un-shared spaces and computes digests.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::blob::{BlobInfo, ByteStream, Holding};
use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::{DocumentId, FolderId, Revision, SpaceId};
use crate::model::{Page, Paged, Principal};
use crate::names::DocumentName;
use crate::replication::{ChangeRow, OpOutcome, OutboxItem, OutboxOp};
use crate::role::Action;

use super::access::{Access, Fail};
use super::documents::{NewDocument, check_comment, media_type};
use super::sharing::invitation_hash;
use super::{Actor, Passerelle};

mod blobs;
mod outbox;

pub use blobs::{BlobCollection, ReceiveError};

/// What a refused contractor is told to wait before writing again when the
/// outbox is full: the internal node drains it in batches as soon as the
/// link is up, so a minute is long enough to matter, short enough to try.
const OUTBOX_RETRY_AFTER_SECS: u64 = 60;

/// What an un-share purge removed from the edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PurgeReport {
    pub rows: u64,
    pub blobs: u64,
    pub bytes: u64,
    /// When the purge committed, by this node's clock (the receipt's time).
    pub at: time::OffsetDateTime,
}

impl Passerelle {
    /// A contractor accepts an invitation by choosing a password (edge). The
    /// password hash stays on the edge; the acceptance goes to the outbox in
    /// the same transaction, so the internal node learns it (ADR 0003).
    /// Unknown, used, revoked and expired invitations, and one into a space
    /// the contractor is no longer a member of, are all `NotFound`.
    pub async fn accept_invitation(
        &self,
        secret: &str,
        password: &str,
    ) -> Result<Principal, CoreError> {
        let hash = invitation_hash(secret.trim());
        let now = self.clock.now();
        let usable = |i: &crate::replication::Invitation| {
            !i.revoked && i.expires_at > now && i.accepted_at.is_none()
        };
        let invitee = {
            let mut tx = self.read().await?;
            match tx.invitation_by_hash(&hash).await? {
                Some(i) if usable(&i) => tx.principal(i.principal).await?,
                _ => None,
            }
        };
        let Some(invitee) = invitee else {
            return Err(CoreError::NotFound("invitation"));
        };
        self.check_password_policy(password)?;
        let phc = self.passwords.hash(password).await?;
        self.guarded(&Actor::Principal(invitee), async {
            let mut tx = self.write().await?;
            let mut inv = match tx.invitation_by_hash(&hash).await? {
                Some(i) if usable(&i) => i,
                _ => return Err(CoreError::NotFound("invitation").into()),
            };
            let mut p = tx
                .principal(inv.principal)
                .await?
                .ok_or(CoreError::NotFound("invitation"))?;
            // Edge-local changes keep the replicated revision: the next batch
            // from the internal node must not undo them (see `apply_changes`).
            p.password_hash = Some(phc);
            inv.accepted_at = Some(now);
            tx.save_principal(&p).await?;
            tx.save_invitation(&inv).await?;
            let actor = Actor::Principal(p.clone());
            self.audit(
                &mut tx,
                &actor,
                "contractor.accept",
                Some(inv.space),
                Some(p.login.to_string()),
                json!({}),
            )
            .await?;
            let op = OutboxOp::AcceptInvitation { invitation: inv.id };
            self.append_op_in(&mut tx, &actor, inv.space, op, now)
                .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(p)
        })
        .await
    }

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
        });
        for row in rows {
            self.apply_row(&mut tx, space, row, &mut documents_here)
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
            ChangeRow::Membership(m) if m.space == space => tx.save_membership(&m).await?,
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
                p.password_hash = tx
                    .principal(p.id)
                    .await?
                    .and_then(|local| local.password_hash);
                tx.save_principal(&p).await?
            }
            ChangeRow::DocumentType(t) => tx.save_document_type(&t).await?,
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

    /// BLAKE3 over the canonical current state of a space: the same rows on
    /// both nodes give the same digest (edge-local fields excluded).
    pub async fn space_digest(&self, space: SpaceId) -> Result<ContentHash, CoreError> {
        let rows = self
            .read()
            .await?
            .changes(space, Revision::ZERO, u64::MAX / 2)
            .await?;
        let mut canon: Vec<(String, String)> = rows.rows.iter().map(canonical).collect();
        canon.sort();
        let mut h = blake3::Hasher::new();
        for (key, value) in canon {
            h.update(key.as_bytes());
            h.update(b"\0");
            h.update(value.as_bytes());
            h.update(b"\n");
        }
        Ok(h.finalize().into())
    }

    // --- contractors' writes on the edge --------------------------------

    async fn append_op(
        &self,
        actor: &Actor,
        space: SpaceId,
        op: OutboxOp,
    ) -> Result<OutboxItem, Fail> {
        let mut tx = self.write().await?;
        let item = self
            .append_op_in(&mut tx, actor, space, op, self.clock.now())
            .await?;
        self.commit(tx).await?;
        Ok(item)
    }

    /// Appends a contractor's operation to the outbox inside `tx`, made at
    /// `at`, with its audit entry.
    async fn append_op_in(
        &self,
        tx: &mut Box<dyn crate::ports::Tx>,
        actor: &Actor,
        space: SpaceId,
        op: OutboxOp,
        at: time::OffsetDateTime,
    ) -> Result<OutboxItem, Fail> {
        let contractor = actor.principal()?.id;
        let mut item = OutboxItem {
            seq: 0,
            op_id: uuid::Uuid::now_v7(),
            space,
            contractor,
            created_at: at,
            op,
            outcome: None,
            detail: String::new(),
        };
        // Re-check on the replica inside the transaction: the role may have
        // changed since the caller's checks.
        let a = self.access(tx, actor, space).await?;
        a.require(Action::Read, || space.to_string())?;
        // The acceptance of an invitation is exempt: each invitation is
        // accepted once, so it cannot flood the outbox, and refusing it would
        // lock the contractor out of reading too.
        if !matches!(item.op, OutboxOp::AcceptInvitation { .. }) {
            self.ensure_outbox_room(tx).await?;
        }
        item.seq = tx.append_outbox(&item).await?;
        self.audit(
            tx,
            actor,
            "outbox.append",
            Some(space),
            Some(item.op_id.to_string()),
            json!({ "kind": op_kind(&item.op) }),
        )
        .await?;
        Ok(item)
    }

    /// Refuses a contractor's write (`OutboxFull`) while the outbox holds
    /// `max_pending_operations` pending ones. Inside the write transaction
    /// of the append the count is exact (writers are serialised), so the
    /// bound holds; uploads also ask before receiving their content, so a
    /// full outbox costs no transfer and leaves no blob behind.
    async fn ensure_outbox_room(
        &self,
        tx: &mut Box<dyn crate::ports::Tx>,
    ) -> Result<(), CoreError> {
        let pending = tx.count_pending_outbox().await?;
        if pending >= self.settings.max_pending_operations {
            return Err(CoreError::OutboxFull {
                pending,
                retry_after_secs: OUTBOX_RETRY_AFTER_SECS,
            });
        }
        Ok(())
    }

    /// A contractor uploads a new document on the edge: checked against the
    /// replicated rights, content stored, operation pending.
    pub async fn edge_upload(
        &self,
        actor: &Actor,
        new: NewDocument,
        content: ByteStream,
    ) -> Result<OutboxItem, CoreError> {
        self.guarded(actor, async {
            let comment = check_comment(&new.comment)?;
            let (_, name, metadata) = {
                let mut tx = self.read().await?;
                let checked = self.check_new_document(&mut tx, actor, &new).await?;
                self.ensure_outbox_room(&mut tx).await?;
                checked
            };
            let blob: BlobInfo = self
                .blobs
                .put(content, Some(self.settings.max_upload_bytes))
                .await?;
            let op = OutboxOp::NewDocument {
                folder: new.folder,
                name: name.to_string(),
                hash: blob.hash,
                size: blob.size,
                media_type: media_type(new.media_type.as_deref()),
                doc_type: new.doc_type.clone(),
                metadata,
                comment,
            };
            self.append_op(actor, new.space, op).await
        })
        .await
    }

    /// A contractor uploads a new version of a document on the edge.
    pub async fn edge_new_version(
        &self,
        actor: &Actor,
        document: DocumentId,
        media: Option<&str>,
        comment: &str,
        content: ByteStream,
    ) -> Result<OutboxItem, CoreError> {
        self.guarded(actor, async {
            let comment = check_comment(comment)?;
            let space = {
                let mut tx = self.read().await?;
                let (a, d) = self.document_access(&mut tx, actor, document).await?;
                a.require(
                    Action::Edit {
                        own: Access::owns(actor, d.created_by),
                    },
                    || document.to_string(),
                )?;
                a.require_writable()?;
                self.ensure_outbox_room(&mut tx).await?;
                d.space
            };
            let blob = self
                .blobs
                .put(content, Some(self.settings.max_upload_bytes))
                .await?;
            let mut tx = self.write().await?;
            // Decided in the transaction of the append: two saves in a row
            // always see each other.
            let (base_version, after_op) =
                self.version_base(&mut tx, actor, space, document).await?;
            let op = OutboxOp::NewVersion {
                document,
                base_version,
                hash: blob.hash,
                size: blob.size,
                media_type: media_type(media),
                comment,
                after_op,
            };
            let item = self
                .append_op_in(&mut tx, actor, space, op, self.clock.now())
                .await?;
            self.commit(tx).await?;
            Ok(item)
        })
        .await
    }

    /// What a contractor's new version of `document` is based on (ADR 0003,
    /// "Successive saves"): their own latest save of it that this edge does
    /// not reflect yet — pending, or applied but not back down — as
    /// `(its base + 1, Some(its id))`; else `(the replicated head, None)`.
    /// Rejected saves are passed over (the internal node passes over them
    /// too); one acknowledged as a conflict copy ends the chain: the
    /// contractor was told, and what they save now is judged against the
    /// document as it comes down to them.
    async fn version_base(
        &self,
        tx: &mut Box<dyn crate::ports::Tx>,
        actor: &Actor,
        space: SpaceId,
        document: DocumentId,
    ) -> Result<(u32, Option<uuid::Uuid>), Fail> {
        let d = tx
            .document(document)
            .await?
            .ok_or(CoreError::NotFound("document"))?;
        let me = actor.principal()?.id;
        for item in tx.list_outbox(space).await? {
            let OutboxOp::NewVersion {
                document: of,
                base_version,
                hash,
                ..
            } = item.op
            else {
                continue;
            };
            if item.contractor != me || of != document {
                continue;
            }
            let chained = (base_version.saturating_add(1), Some(item.op_id));
            match item.outcome {
                None => return Ok(chained),
                Some(OpOutcome::Rejected) => continue,
                Some(OpOutcome::Applied) if !self.holds_save(tx, document, me, hash).await? => {
                    return Ok(chained);
                }
                Some(OpOutcome::Applied | OpOutcome::Conflict) => break,
            }
        }
        Ok((d.current_version, None))
    }

    /// Whether the replica holds a version of `document` by `author` with
    /// this content: an applied save has come back down.
    async fn holds_save(
        &self,
        tx: &mut Box<dyn crate::ports::Tx>,
        document: DocumentId,
        author: crate::ids::PrincipalId,
        hash: ContentHash,
    ) -> Result<bool, CoreError> {
        Ok(tx
            .list_versions(document)
            .await?
            .iter()
            .any(|v| v.author == author && v.hash == hash))
    }

    /// A contractor renames, moves, deletes, sets metadata or creates a
    /// folder on the edge: the same checks as on the internal node, then the
    /// operation waits in the outbox.
    pub async fn edge_operation(
        &self,
        actor: &Actor,
        space: SpaceId,
        op: OutboxOp,
    ) -> Result<OutboxItem, CoreError> {
        self.guarded(actor, async {
            {
                let mut tx = self.read().await?;
                let a = self.access(&mut tx, actor, space).await?;
                a.require_writable()?;
                match &op {
                    OutboxOp::Rename { document, name } => {
                        let d = self.edge_doc(&mut tx, &a, actor, *document, false).await?;
                        let name = DocumentName::parse(name).map_err(CoreError::name)?;
                        self.ensure_name_free(
                            &mut tx,
                            space,
                            d.folder,
                            &name,
                            Some(document.as_uuid()),
                        )
                        .await?;
                    }
                    OutboxOp::Move { document, folder } => {
                        let d = self.edge_doc(&mut tx, &a, actor, *document, false).await?;
                        if let Some(f) = folder {
                            self.live_folder(&mut tx, space, *f).await?;
                        }
                        self.ensure_name_free(
                            &mut tx,
                            space,
                            *folder,
                            &d.name,
                            Some(document.as_uuid()),
                        )
                        .await?;
                    }
                    OutboxOp::Delete { document, .. } => {
                        self.edge_doc(&mut tx, &a, actor, *document, true).await?;
                    }
                    OutboxOp::SetMetadata {
                        document,
                        doc_type,
                        metadata,
                    } => {
                        self.edge_doc(&mut tx, &a, actor, *document, false).await?;
                        self.typed_metadata(&mut tx, doc_type.as_deref(), metadata)
                            .await?;
                    }
                    OutboxOp::NewFolder { parent, name, .. } => {
                        a.require(Action::Create, || space.to_string())?;
                        let name = DocumentName::parse(name).map_err(CoreError::name)?;
                        if let Some(p) = parent {
                            self.live_folder(&mut tx, space, *p).await?;
                        }
                        self.ensure_name_free(&mut tx, space, *parent, &name, None)
                            .await?;
                    }
                    OutboxOp::NewDocument { .. } | OutboxOp::NewVersion { .. } => {
                        return Err(CoreError::invalid(
                            "bad_operation",
                            "uploads carry content: use edge_upload",
                        )
                        .into());
                    }
                    OutboxOp::AcceptInvitation { .. } => {
                        return Err(CoreError::invalid(
                            "bad_operation",
                            "an invitation is accepted with its secret: use accept_invitation",
                        )
                        .into());
                    }
                }
            }
            self.append_op(actor, space, op).await
        })
        .await
    }

    /// A live document of `a.space` that the actor may edit (or delete).
    async fn edge_doc(
        &self,
        tx: &mut Box<dyn crate::ports::Tx>,
        a: &Access,
        actor: &Actor,
        id: DocumentId,
        delete: bool,
    ) -> Result<crate::model::Document, Fail> {
        let (_, d) = self.document_access(tx, actor, id).await?;
        if d.space != a.space.id {
            return Err(CoreError::NotFound("document").into());
        }
        let own = Access::owns(actor, d.created_by);
        let action = if delete {
            Action::Delete { own }
        } else {
            Action::Edit { own }
        };
        a.require(action, || id.to_string())?;
        Ok(d)
    }

    /// One page of a contractor's operations in a space, pending and
    /// decided, newest first, with their total (the "pending
    /// synchronisation" view): their writes to the space. The acceptance of
    /// their invitation travels in the same outbox but is not one, so it is
    /// not listed. Decided ones stay `outbox_retention` after their verdict.
    pub async fn my_operations(
        &self,
        actor: &Actor,
        space: SpaceId,
        page: Page,
    ) -> Result<Paged<OutboxItem>, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            self.access(&mut tx, actor, space).await?;
            // The system account writes nothing through the outbox.
            let Some(me) = actor.id() else {
                return Ok(Paged {
                    items: Vec::new(),
                    total: 0,
                });
            };
            Ok::<_, Fail>(tx.list_outbox_of(space, me, page).await?)
        })
        .await
    }

    /// Deletes the decided operations whose verdict came back more than
    /// `outbox_retention` before `now` (edge, periodic housekeeping), and
    /// returns how many. A pending operation is never deleted, however old.
    pub async fn prune_decided_operations(
        &self,
        now: time::OffsetDateTime,
    ) -> Result<u64, CoreError> {
        let mut tx = self.write().await?;
        let pruned = tx
            .prune_outbox(now - self.settings.outbox_retention)
            .await?;
        // Not `self.commit`: nothing the replication waits for changed.
        tx.commit().await?;
        if pruned > 0 {
            tracing::info!(pruned, "decided outbox operations pruned");
        }
        Ok(pruned)
    }

    /// Folder ids a contractor may pick for a new folder (fresh, v7).
    pub fn new_folder_id(&self) -> FolderId {
        FolderId::new()
    }
}

fn op_kind(op: &OutboxOp) -> &'static str {
    match op {
        OutboxOp::NewDocument { .. } => "new_document",
        OutboxOp::NewVersion { .. } => "new_version",
        OutboxOp::Rename { .. } => "rename",
        OutboxOp::Move { .. } => "move",
        OutboxOp::Delete { .. } => "delete",
        OutboxOp::SetMetadata { .. } => "set_metadata",
        OutboxOp::NewFolder { .. } => "new_folder",
        OutboxOp::AcceptInvitation { .. } => "accept_invitation",
    }
}

fn opt<T: ToString>(x: &Option<T>) -> Value {
    x.as_ref()
        .map(|v| Value::String(v.to_string()))
        .unwrap_or(Value::Null)
}

fn nanos(t: time::OffsetDateTime) -> String {
    t.unix_timestamp_nanos().to_string()
}

/// (sort key, canonical JSON) of a row: only what replication carries
/// (no edge-local field, nothing the internal node keeps to itself).
fn canonical(row: &ChangeRow) -> (String, String) {
    let trashed = |t: &Option<crate::model::Trashed>| {
        t.as_ref()
            .map(|t| json!([nanos(t.at), t.by.to_string(), opt(&t.with_folder)]))
            .unwrap_or(Value::Null)
    };
    let (key, v) = match row {
        ChangeRow::Space(s) => (
            format!("1:{}", s.id),
            json!([
                s.slug.as_str(),
                s.title,
                s.description,
                s.domain,
                s.archived,
                s.revision.0
            ]),
        ),
        ChangeRow::Principal(p) => (
            format!("2:{}", p.id),
            json!([
                p.login.as_str(),
                p.display_name,
                // Agents' addresses stay on the internal node.
                if p.kind == crate::model::PrincipalKind::Contractor {
                    p.email.as_str()
                } else {
                    ""
                },
                format!("{:?}", p.kind),
                p.disabled,
                opt(&p.organisation),
                p.revision.0
            ]),
        ),
        ChangeRow::Membership(m) => (
            format!("3:{}:{}", m.space, m.principal),
            json!([m.role.as_str(), m.removed, m.revision.0]),
        ),
        ChangeRow::Invitation(i) => (
            format!("4:{}", i.id),
            json!([
                i.principal.to_string(),
                i.secret_hash.to_hex(),
                nanos(i.expires_at),
                i.revoked,
                i.revision.0
            ]),
        ),
        ChangeRow::Folder(f) => (
            format!("5:{}", f.id),
            json!([
                opt(&f.parent),
                f.name.as_str(),
                trashed(&f.trashed),
                f.purged,
                f.revision.0
            ]),
        ),
        ChangeRow::Document(d) => (
            format!("6:{}", d.id),
            json!([
                opt(&d.folder),
                d.name.as_str(),
                opt(&d.doc_type),
                d.metadata,
                d.current_version,
                trashed(&d.trashed),
                d.purged,
                d.revision.0
            ]),
        ),
        ChangeRow::Version(v) => (
            format!("7:{}:{:010}", v.document, v.number),
            json!([
                v.hash.to_hex(),
                v.size,
                v.media_type,
                v.author.to_string(),
                v.comment,
                v.revision.0
            ]),
        ),
        ChangeRow::DocumentType(t) => (format!("8:{}", t.key), json!([t.revision.0])),
    };
    (key, v.to_string())
}

impl Passerelle {
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
