//! Applying contractors' operations that come up from an edge (internal
//! node): re-authorized against the authoritative state, applied through
//! the ordinary use cases with the contractor as author, exactly once by
//! operation id; conflicts become conflict copies; refusals go to quarantine.

use serde_json::json;

use crate::blob::BlobInfo;
use crate::error::CoreError;
use crate::ids::DocumentId;
use crate::model::{Document, PrincipalKind};
use crate::names::DocumentName;
use crate::ports::Tx;
use crate::replication::{AppliedOp, OpOutcome, OutboxItem, OutboxOp};
use crate::role::Action;

use super::access::{Access, Fail, Outcome};
use super::documents::{NewDocument, check_comment};
use super::{Actor, Passerelle};

/// What applying one operation did, before it is recorded.
struct Effect {
    outcome: OpOutcome,
    detail: String,
    document: Option<DocumentId>,
}

impl Effect {
    fn applied(document: Option<DocumentId>) -> Self {
        Self {
            outcome: OpOutcome::Applied,
            detail: String::new(),
            document,
        }
    }
}

/// `rapport.pdf` → `rapport (conflit jean@btp.fr 2026-11-28).pdf`, made
/// unique in the folder with a counter, and kept within the name limits.
async fn conflict_name(
    tx: &mut Box<dyn Tx>,
    d_space: crate::ids::SpaceId,
    folder: Option<crate::ids::FolderId>,
    original: &DocumentName,
    who: &str,
    date: &str,
) -> Outcome<DocumentName> {
    let (stem, ext) = original.stem_and_extension();
    for n in 1..100 {
        let counter = if n == 1 {
            String::new()
        } else {
            format!(" {n}")
        };
        let suffix = format!(" (conflit {who} {date}{counter})");
        let ext_part = ext.map(|e| format!(".{e}")).unwrap_or_default();
        let room = crate::names::MAX_NAME_BYTES.saturating_sub(suffix.len() + ext_part.len());
        let mut cut = stem.len().min(room);
        while !stem.is_char_boundary(cut) {
            cut -= 1;
        }
        let candidate = format!("{}{suffix}{ext_part}", &stem[..cut]);
        let name = DocumentName::parse(&candidate).map_err(CoreError::name)?;
        if !tx
            .name_taken(d_space, folder, &name.unique_key(), None)
            .await?
        {
            return Ok(name);
        }
    }
    Err(CoreError::conflict("name_taken", "no free conflict name").into())
}

impl Passerelle {
    /// Applies one operation from `edge`'s outbox, exactly once. The blobs it
    /// references must already be in the local store (the replication driver
    /// fetches them first). `Err` means "try again later" (storage failure,
    /// missing blob); a refusal is an `Ok` with `OpOutcome::Rejected`, kept in
    /// quarantine.
    pub async fn apply_edge_op(
        &self,
        edge: &str,
        item: &OutboxItem,
    ) -> Result<AppliedOp, CoreError> {
        if let Some(done) = self.read().await?.applied_op(item.op_id).await? {
            return Ok(done);
        }
        // The edge's own upload limit may be looser than this node's: the
        // content is not fetched, and the operation is refused.
        let limit = self.settings.max_upload_bytes;
        let oversize = item.op.blob().is_some_and(|b| b.size > limit);
        if !oversize
            && let Some(blob) = item.op.blob()
            && self.blobs.size(&blob.hash).await? != Some(blob.size)
        {
            return Err(CoreError::conflict(
                "blob_missing",
                format!("blob {} is not here yet", blob.hash.short()),
            ));
        }
        let mut tx = self.write().await?;
        if let Some(done) = tx.applied_op(item.op_id).await? {
            return Ok(done);
        }
        let result = if oversize {
            Err(Fail::Error(CoreError::TooLarge { limit }))
        } else {
            self.apply_in(&mut tx, edge, item).await
        };
        let effect = match result {
            Ok(effect) => effect,
            Err(Fail::Error(CoreError::Internal(e))) => return Err(CoreError::Internal(e)),
            Err(Fail::Error(e)) => {
                drop(tx);
                tx = self.write().await?;
                Effect {
                    outcome: OpOutcome::Rejected,
                    detail: e.to_string(),
                    document: None,
                }
            }
            Err(Fail::Denied { reason, .. }) => {
                drop(tx);
                tx = self.write().await?;
                Effect {
                    outcome: OpOutcome::Rejected,
                    detail: reason.to_owned(),
                    document: None,
                }
            }
        };
        let record = AppliedOp {
            op_id: item.op_id,
            edge: edge.to_owned(),
            space: item.space,
            contractor: item.contractor,
            at: self.clock.now(),
            outcome: effect.outcome,
            detail: effect.detail,
            document: effect.document,
            op: item.op.clone(),
        };
        tx.save_applied_op(&record).await?;
        if record.outcome != OpOutcome::Applied {
            let actor = Actor::System;
            self.audit(
                &mut tx,
                &actor,
                if record.outcome == OpOutcome::Rejected { "replication.rejected" } else { "replication.conflict" },
                Some(item.space),
                Some(item.op_id.to_string()),
                json!({ "edge": edge, "contractor": item.contractor.to_string(), "detail": record.detail }),
            )
            .await?;
        }
        self.commit(tx).await?;
        tracing::info!(op = %item.op_id, edge, outcome = record.outcome.as_str(), "edge operation applied");
        Ok(record)
    }

    async fn apply_in(
        &self,
        tx: &mut Box<dyn Tx>,
        edge: &str,
        item: &OutboxItem,
    ) -> Outcome<Effect> {
        let contractor = match tx.principal(item.contractor).await? {
            Some(p) if p.kind == PrincipalKind::Contractor && !p.disabled => p,
            _ => return Err(CoreError::Forbidden("unknown or disabled contractor").into()),
        };
        match tx.space(item.space).await? {
            // A space being un-shared is drained before the purge.
            Some(s) if s.edge.as_deref() == Some(edge) || s.edge.is_none() => {}
            _ => return Err(CoreError::NotFound("space").into()),
        }
        let date = self.clock.now().date().to_string();
        let who = contractor.login.to_string();
        let actor = Actor::Principal(contractor);
        match &item.op {
            OutboxOp::NewDocument {
                folder,
                name,
                hash,
                size,
                media_type,
                doc_type,
                metadata,
                comment,
            } => {
                let blob = BlobInfo {
                    hash: *hash,
                    size: *size,
                };
                let mut new = NewDocument {
                    space: item.space,
                    folder: *folder,
                    name: name.clone(),
                    doc_type: doc_type.clone(),
                    metadata: metadata.clone(),
                    media_type: Some(media_type.clone()),
                    comment: comment.clone(),
                };
                let comment = check_comment(comment)?;
                let parsed = DocumentName::parse(name).map_err(CoreError::name)?;
                if tx
                    .name_taken(item.space, *folder, &parsed.unique_key(), None)
                    .await?
                {
                    // Someone created the same name meanwhile: keep both.
                    new.name = conflict_name(tx, item.space, *folder, &parsed, &who, &date)
                        .await?
                        .to_string();
                    let v = self
                        .create_document_in(tx, &actor, &new, blob, comment)
                        .await?;
                    return Ok(Effect {
                        outcome: OpOutcome::Conflict,
                        detail: format!("name taken: created as \"{}\"", v.document.name),
                        document: Some(v.document.id),
                    });
                }
                let v = self
                    .create_document_in(tx, &actor, &new, blob, comment)
                    .await?;
                Ok(Effect::applied(Some(v.document.id)))
            }
            OutboxOp::NewVersion {
                document,
                base_version,
                hash,
                size,
                media_type,
                comment,
            } => {
                let blob = BlobInfo {
                    hash: *hash,
                    size: *size,
                };
                let comment = check_comment(comment)?;
                let (a, d) = self.document_access(tx, &actor, *document).await?;
                if d.space != item.space {
                    return Err(CoreError::NotFound("document").into());
                }
                if d.current_version != *base_version {
                    // Edited on both sides: the contractor's version becomes a
                    // sibling document, every version kept.
                    a.require(Action::Create, || document.to_string())?;
                    a.require_writable()?;
                    let name = conflict_name(tx, d.space, d.folder, &d.name, &who, &date).await?;
                    let new = NewDocument {
                        space: d.space,
                        folder: d.folder,
                        name: name.to_string(),
                        doc_type: None,
                        metadata: Default::default(),
                        media_type: Some(media_type.clone()),
                        comment,
                    };
                    let v = self
                        .create_document_in(tx, &actor, &new, blob, new.comment.clone())
                        .await?;
                    return Ok(Effect {
                        outcome: OpOutcome::Conflict,
                        detail: format!(
                            "version {base_version} was no longer current (now {}): saved as \"{}\"",
                            d.current_version, v.document.name
                        ),
                        document: Some(v.document.id),
                    });
                }
                a.require(
                    Action::Edit {
                        own: Access::owns(&actor, d.created_by),
                    },
                    || document.to_string(),
                )?;
                a.require_writable()?;
                let v = self
                    .append_version(
                        tx,
                        &actor,
                        a,
                        d,
                        blob,
                        Some(media_type),
                        comment,
                        "document.version",
                    )
                    .await?;
                Ok(Effect::applied(Some(v.document.id)))
            }
            OutboxOp::Rename { document, name } => {
                self.check_doc_space(tx, *document, item.space).await?;
                let v = self
                    .update_document_in(tx, &actor, *document, Some(name.as_str()), None)
                    .await?;
                Ok(Effect::applied(Some(v.document.id)))
            }
            OutboxOp::Move { document, folder } => {
                self.check_doc_space(tx, *document, item.space).await?;
                let v = self
                    .update_document_in(tx, &actor, *document, None, Some(*folder))
                    .await?;
                Ok(Effect::applied(Some(v.document.id)))
            }
            OutboxOp::Delete {
                document,
                base_version,
            } => {
                let d = self.check_doc_space(tx, *document, item.space).await?;
                if d.current_version != *base_version {
                    // Modify beats delete.
                    return Ok(Effect {
                        outcome: OpOutcome::Conflict,
                        detail: format!("modified since version {base_version}: not deleted"),
                        document: Some(*document),
                    });
                }
                self.delete_document_in(tx, &actor, *document).await?;
                Ok(Effect::applied(Some(*document)))
            }
            OutboxOp::SetMetadata {
                document,
                doc_type,
                metadata,
            } => {
                self.check_doc_space(tx, *document, item.space).await?;
                let v = self
                    .update_metadata_in(tx, &actor, *document, doc_type.clone(), metadata.clone())
                    .await?;
                Ok(Effect::applied(Some(v.document.id)))
            }
            OutboxOp::NewFolder {
                folder,
                parent,
                name,
            } => {
                if tx.folder(*folder).await?.is_some() {
                    return Err(CoreError::conflict(
                        "folder_exists",
                        "this folder id is already used",
                    )
                    .into());
                }
                self.create_folder_in(tx, &actor, item.space, *parent, name, *folder)
                    .await?;
                Ok(Effect::applied(None))
            }
            OutboxOp::AcceptInvitation { invitation } => {
                self.record_acceptance(tx, &actor, edge, item, *invitation)
                    .await
            }
        }
    }

    /// The contractor accepted `invitation` on the edge at the item's time:
    /// recorded here (a new revision, so the feed carries it back down, and
    /// the audit log), if the invitation is theirs, of the item's space, not
    /// revoked and not expired at that time.
    async fn record_acceptance(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        edge: &str,
        item: &OutboxItem,
        invitation: uuid::Uuid,
    ) -> Outcome<Effect> {
        let mut inv = match tx.invitation(invitation).await? {
            // Another space's or another contractor's invitation is none of
            // this operation's business: as if absent.
            Some(i) if i.space == item.space && i.principal == item.contractor => i,
            _ => return Err(CoreError::NotFound("invitation").into()),
        };
        // The first acceptance recorded stands (an edge rebuilt since may
        // report the contractor accepting the same link again).
        if inv.accepted_at.is_some() {
            return Ok(Effect::applied(None));
        }
        if inv.revoked {
            return Err(CoreError::conflict(
                "invitation_revoked",
                "the invitation was revoked before the acceptance arrived",
            )
            .into());
        }
        if item.created_at >= inv.expires_at {
            return Err(CoreError::conflict(
                "invitation_expired",
                "the invitation had expired when it was accepted",
            )
            .into());
        }
        if item.created_at < inv.created_at {
            return Err(CoreError::invalid(
                "accepted_before_invited",
                "the acceptance is older than the invitation",
            )
            .into());
        }
        inv.accepted_at = Some(item.created_at);
        inv.revision = tx.next_revision().await?;
        tx.save_invitation(&inv).await?;
        self.audit(
            tx,
            actor,
            "contractor.accept",
            Some(item.space),
            Some(actor.principal()?.login.to_string()),
            json!({ "invitation": inv.id.to_string(), "edge": edge }),
        )
        .await?;
        Ok(Effect::applied(None))
    }

    /// The document must belong to the operation's space (an edge cannot
    /// reach into another space by naming its ids).
    async fn check_doc_space(
        &self,
        tx: &mut Box<dyn Tx>,
        id: DocumentId,
        space: crate::ids::SpaceId,
    ) -> Outcome<Document> {
        match tx.document(id).await? {
            Some(d) if d.space == space && d.trashed.is_none() && !d.purged => Ok(d),
            _ => Err(CoreError::NotFound("document").into()),
        }
    }
}
