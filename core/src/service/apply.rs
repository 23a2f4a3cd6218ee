//! Applying contractors' operations that come up from an edge (internal
//! node): re-authorized against the authoritative state, applied through
//! the ordinary use cases with the contractor as author, exactly once by
//! operation id; conflicts become conflict copies; refusals go to quarantine;
//! contents are scanned by the antivirus first, when the node has one.

use serde_json::json;

use uuid::Uuid;

use crate::blob::BlobInfo;
use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::DocumentId;
use crate::model::{Document, PrincipalKind};
use crate::names::DocumentName;
use crate::ports::Tx;
use crate::replication::NodeId;
use crate::replication::{OpOutcome, OutboxItem, OutboxOp};
use crate::role::Action;

use super::access::{Access, Fail, Outcome};
use super::documents::{DocumentView, NewDocument, check_comment};
use super::locks::cover::Inside;
use super::{Actor, InternalApp};

mod ledger;
mod ops;
mod scan;
pub use ledger::APPLY_RUN;
use ops::Edit;
pub(super) use scan::AheadVerdicts;

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

/// A refusal, as quarantined.
fn refused(detail: String) -> Effect {
    Effect {
        outcome: OpOutcome::Rejected,
        detail,
        document: None,
    }
}

/// A refusal because of a lock (held on this node, which the edge could
/// not know of) as the reason of a conflict; anything else as it is.
fn locked_reason<T>(r: Outcome<T>) -> Outcome<Result<T, String>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(Fail::Error(CoreError::Locked {
            holder_name, until, ..
        })) => Ok(Err(format!(
            "locked by {holder_name} until {}",
            crate::error::minute(&until)
        ))),
        Err(e) => Err(e),
    }
}

/// The content of an operation is not in the local store yet.
fn blob_missing(blob: &BlobInfo) -> CoreError {
    CoreError::conflict(
        "blob_missing",
        format!("blob {} is not here yet", blob.hash.short()),
    )
}

/// A contractor's new version as it came up from the edge, its comment
/// checked.
struct EdgeVersion {
    /// The document the contractor edited.
    document: DocumentId,
    base_version: u32,
    after_op: Option<Uuid>,
    blob: BlobInfo,
    media_type: String,
    comment: String,
}

/// What a contractor's new version is judged against (ADR 0003,
/// "Successive saves").
#[derive(Clone, Copy)]
enum Follows {
    /// The version the contractor edited: the document's head must still
    /// be this one.
    Base(u32),
    /// The contractor's own earlier save, which landed on `target` (the
    /// edited document, or the conflict copy that save became): `target`'s
    /// head must still be that save, its content by the contractor. Its
    /// number is not known here, and is not the edge's `base_version` once
    /// the chain moved to a copy.
    Save {
        target: DocumentId,
        hash: ContentHash,
    },
}

/// How many rejected saves a chain is followed back through. Each is one
/// ledger read; a hostile edge could make two rejected operations name
/// each other, so the walk is bounded.
const MAX_REJECTED_SAVES: usize = 64;

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

impl InternalApp {
    async fn apply_in(
        &self,
        tx: &mut Box<dyn Tx>,
        edge: &NodeId,
        item: &OutboxItem,
    ) -> Outcome<Effect> {
        let contractor = match tx.principal(item.contractor).await? {
            Some(p) if p.kind == PrincipalKind::Contractor && !p.disabled => p,
            _ => return Err(CoreError::Forbidden("unknown or disabled contractor").into()),
        };
        match tx.space(item.space).await? {
            // A space being un-shared is drained before the purge.
            Some(s) if s.edge.as_ref() == Some(edge) || s.edge.is_none() => {}
            _ => return Err(CoreError::NotFound("space").into()),
        }
        let date = self.clock.now().date().to_string();
        let who = contractor.login.to_string();
        let actor = Actor::Principal(contractor);
        let names = (who.as_str(), date.as_str());
        let space = item.space;
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
                let new = NewDocument {
                    space,
                    folder: *folder,
                    name: name.clone(),
                    doc_type: doc_type.clone(),
                    metadata: metadata.clone(),
                    media_type: Some(media_type.clone()),
                    comment: check_comment(comment)?,
                };
                let blob = BlobInfo {
                    hash: *hash,
                    size: *size,
                };
                self.apply_new_document(tx, &actor, new, blob, names).await
            }
            OutboxOp::NewVersion {
                document,
                base_version,
                hash,
                size,
                media_type,
                comment,
                after_op,
            } => {
                let v = EdgeVersion {
                    document: *document,
                    base_version: *base_version,
                    after_op: *after_op,
                    blob: BlobInfo {
                        hash: *hash,
                        size: *size,
                    },
                    media_type: media_type.clone(),
                    comment: check_comment(comment)?,
                };
                self.apply_new_version(tx, &actor, item, &v, names).await
            }
            OutboxOp::Rename { document, name } => {
                let edit = Edit::Rename(name);
                self.apply_edit(tx, &actor, space, *document, edit).await
            }
            OutboxOp::Move { document, folder } => {
                let edit = Edit::Move(*folder);
                self.apply_edit(tx, &actor, space, *document, edit).await
            }
            OutboxOp::SetMetadata {
                document,
                doc_type,
                metadata,
            } => {
                let edit = Edit::Metadata(doc_type.clone(), metadata.clone());
                self.apply_edit(tx, &actor, space, *document, edit).await
            }
            OutboxOp::Delete {
                document,
                base_version,
            } => {
                self.apply_delete(tx, &actor, space, *document, *base_version)
                    .await
            }
            OutboxOp::NewFolder {
                folder,
                parent,
                name,
            } => {
                self.apply_new_folder(tx, &actor, space, *folder, *parent, name)
                    .await
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
        edge: &NodeId,
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
        // An archived space takes no write, this one included (ADR 0002,
        // invariant 4): the acceptance waits in quarantine for the managers.
        if tx.space(item.space).await?.is_some_and(|s| s.archived) {
            return Err(CoreError::conflict(
                "space_archived",
                "this space is archived: it is read-only",
            )
            .into());
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
        // Accepted with the link the manager handed over while the relay
        // was down: its e-mail would only bring a used link.
        tx.withdraw_notice(super::notices::invitation_notice(invitation))
            .await?;
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

    /// A contractor's new version (`NewVersion`): onto the document it
    /// follows while nobody else's version came in between, else a
    /// conflict copy beside it, every version kept. `names` is the
    /// contractor's login and today's date, for the copy's name.
    async fn apply_new_version(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        item: &OutboxItem,
        v: &EdgeVersion,
        names: (&str, &str),
    ) -> Outcome<Effect> {
        let follows = self.follows(tx, item, v).await?;
        let target = match follows {
            Follows::Base(_) => v.document,
            Follows::Save { target, .. } => target,
        };
        let (a, d) = self.document_access(tx, actor, target).await?;
        if d.space != item.space {
            return Err(CoreError::NotFound("document").into());
        }
        if let Some(why) = self.moved_on(tx, &d, item, follows).await? {
            let (who, date) = names;
            let name = conflict_name(tx, d.space, d.folder, &d.name, who, date).await?;
            let copy = self.conflict_copy(tx, actor, a, &d, v, name).await?;
            return Ok(Effect {
                outcome: OpOutcome::Conflict,
                detail: format!("{why}: saved as \"{}\"", copy.document.name),
                document: Some(copy.document.id),
            });
        }
        a.require(
            Action::Edit {
                own: Access::owns(actor, d.created_by),
            },
            || target.to_string(),
        )?;
        a.require_writable()?;
        let appended = self
            .append_version(
                tx,
                actor,
                a.clone(),
                d.clone(),
                v.blob,
                Some(&v.media_type),
                v.comment.clone(),
                "document.version",
            )
            .await;
        // Locked by someone on this node: the contractor's version is kept
        // beside it, as when another version came in between.
        let saved = match locked_reason(appended)? {
            Ok(saved) => saved,
            Err(why) => {
                let (who, date) = names;
                let name = conflict_name(tx, d.space, d.folder, &d.name, who, date).await?;
                let copy = self.conflict_copy(tx, actor, a, &d, v, name).await?;
                return Ok(Effect {
                    outcome: OpOutcome::Conflict,
                    detail: format!("{why}: saved as \"{}\"", copy.document.name),
                    document: Some(copy.document.id),
                });
            }
        };
        if target == v.document {
            return Ok(Effect::applied(Some(target)));
        }
        // The chain moved to the conflict copy an earlier save became: this
        // version is not on the document the contractor edited either.
        Ok(Effect {
            outcome: OpOutcome::Conflict,
            detail: format!(
                "your previous save became \"{}\": added to it as version {}",
                saved.document.name, saved.version.number
            ),
            document: Some(target),
        })
    }

    /// What `v` is judged against: the contractor's earlier save it follows
    /// when that one was applied (onto the document or as a conflict copy);
    /// for a rejected one, what that one followed; else its own base, as
    /// for a save that follows none (or names one the ledger does not hold
    /// as this contractor's save of this document).
    async fn follows(
        &self,
        tx: &mut Box<dyn Tx>,
        item: &OutboxItem,
        v: &EdgeVersion,
    ) -> Outcome<Follows> {
        let (mut after, mut base) = (v.after_op, v.base_version);
        for _ in 0..MAX_REJECTED_SAVES {
            let Some(id) = after else { break };
            let Some(earlier) = tx.applied_op(id).await? else {
                break;
            };
            if earlier.space != item.space || earlier.contractor != item.contractor {
                break;
            }
            let OutboxOp::NewVersion {
                document,
                base_version,
                hash,
                after_op,
                ..
            } = earlier.op
            else {
                break;
            };
            if document != v.document {
                break;
            }
            match (earlier.outcome, earlier.document) {
                (OpOutcome::Applied | OpOutcome::Conflict, Some(target)) => {
                    return Ok(Follows::Save { target, hash });
                }
                (OpOutcome::Rejected, _) => (after, base) = (after_op, base_version),
                (_, None) => break,
            }
        }
        Ok(Follows::Base(base))
    }

    /// Why `d` is no longer what the new version follows (someone else's
    /// version came in between), or `None` when it still is.
    async fn moved_on(
        &self,
        tx: &mut Box<dyn Tx>,
        d: &Document,
        item: &OutboxItem,
        follows: Follows,
    ) -> Outcome<Option<String>> {
        let now = d.current_version;
        Ok(match follows {
            Follows::Base(base) => {
                (now != base).then(|| format!("version {base} was no longer current (now {now})"))
            }
            Follows::Save { hash, .. } => {
                let head = self.current_version(tx, d).await?;
                (head.author != item.contractor || head.hash != hash)
                    .then(|| format!("another version followed your previous save (now {now})"))
            }
        })
    }

    /// The contractor's version as a new document `name` beside `d`, which
    /// was edited on both sides.
    async fn conflict_copy(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        a: Access,
        d: &Document,
        v: &EdgeVersion,
        name: DocumentName,
    ) -> Outcome<DocumentView> {
        a.require(Action::Create, || d.id.to_string())?;
        a.require_writable()?;
        let new = NewDocument {
            space: d.space,
            folder: d.folder,
            name: name.to_string(),
            doc_type: None,
            metadata: Default::default(),
            media_type: Some(v.media_type.clone()),
            comment: v.comment.clone(),
        };
        // Beside the document even in a folder locked with depth infinity:
        // the copy overwrites nothing, and losing it would lose the work.
        self.create_document_in(tx, actor, &new, v.blob, v.comment.clone(), Inside::Ignore)
            .await
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
