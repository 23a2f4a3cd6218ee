//! Contractors' writes on the edge: each is checked against the replicated
//! rights and the mirror of the internal node's locks (`locks`), then
//! queued in the outbox (content stored first for uploads),
//! pending until the internal node applies it; apart from the application
//! of the feed, which goes the other way.

use serde_json::json;

use crate::blob::{BlobInfo, ByteStream};
use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::{DocumentId, FolderId, SpaceId};
use crate::model::{Page, Paged};
use crate::names::DocumentName;
use crate::replication::{OpOutcome, OutboxItem, OutboxOp};
use crate::role::Action;

use super::super::access::{Access, Fail};
use super::super::documents::{NewDocument, check_comment, media_type};
use super::super::locks::cover::Inside;
use super::super::{Actor, EdgeApp};

/// What a refused contractor is told to wait before writing again when the
/// outbox is full: the internal node drains it in batches as soon as the
/// link is up, so a minute is long enough to matter, short enough to try.
const OUTBOX_RETRY_AFTER_SECS: u64 = 60;

impl EdgeApp {
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
    pub(super) async fn append_op_in(
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
                // A new document lands even in a folder locked with depth
                // infinity (the internal node lets it, ADR 0007 §1): the
                // mirror of its locks is not consulted here.
                let checked = self
                    .check_new_document(&mut tx, actor, &new, Inside::Ignore)
                    .await?;
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
                // Before the content is received: a locked document costs
                // the contractor no transfer and leaves no blob behind.
                self.ensure_not_mirror_locked(&mut tx, actor, &d).await?;
                self.ensure_outbox_room(&mut tx).await?;
                d.space
            };
            let blob = self
                .blobs
                .put(content, Some(self.settings.max_upload_bytes))
                .await?;
            let mut tx = self.write().await?;
            // Again in the append's transaction: a snapshot may have come
            // while the content was received.
            let (_, d) = self.document_access(&mut tx, actor, document).await?;
            self.ensure_not_mirror_locked(&mut tx, actor, &d).await?;
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
                        self.ensure_not_mirror_locked(&mut tx, actor, &d).await?;
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
                        self.ensure_not_mirror_locked(&mut tx, actor, &d).await?;
                        if let Some(f) = folder {
                            self.live_folder(&mut tx, space, *f).await?;
                        }
                        if *folder != d.folder {
                            self.ensure_mirror_open_inside(&mut tx, actor, space, *folder)
                                .await?;
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
                        let d = self.edge_doc(&mut tx, &a, actor, *document, true).await?;
                        self.ensure_not_mirror_locked(&mut tx, actor, &d).await?;
                    }
                    OutboxOp::SetMetadata {
                        document,
                        doc_type,
                        metadata,
                    } => {
                        let d = self.edge_doc(&mut tx, &a, actor, *document, false).await?;
                        self.ensure_not_mirror_locked(&mut tx, actor, &d).await?;
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
