//! One function per kind of contractor operation the internal node applies
//! (a new document, an edit, a deletion, a new folder), called by
//! `apply_in` once the contractor and the space are checked. New versions
//! and acceptances have their own, beside the rules they need.

use serde_json::{Map, Value};

use crate::blob::BlobInfo;
use crate::ids::{DocumentId, FolderId, SpaceId};
use crate::names::DocumentName;
use crate::ports::Tx;
use crate::replication::OpOutcome;
use crate::role::Action;

use super::super::access::{Access, Outcome};
use super::super::documents::NewDocument;
use super::super::locks::cover::Inside;
use super::super::{Actor, InternalApp};
use super::{Effect, conflict_name, locked_reason};
use crate::error::CoreError;

/// An edit of a document's name, place or metadata, as one operation.
pub(super) enum Edit<'a> {
    Rename(&'a str),
    /// To this folder (`None`: the root).
    Move(Option<FolderId>),
    Metadata(Option<String>, Map<String, Value>),
}

impl InternalApp {
    /// A new document; when another took its name meanwhile, both are kept:
    /// this one as a conflict copy named after `names` (login, day).
    pub(super) async fn apply_new_document(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        mut new: NewDocument,
        blob: BlobInfo,
        names: (&str, &str),
    ) -> Outcome<Effect> {
        let comment = new.comment.clone();
        let parsed = DocumentName::parse(&new.name).map_err(CoreError::name)?;
        if !tx
            .name_taken(new.space, new.folder, &parsed.unique_key(), None)
            .await?
        {
            let v = self
                .create_document_in(tx, actor, &new, blob, comment, Inside::Ignore)
                .await?;
            return Ok(Effect::applied(Some(v.document.id)));
        }
        let (who, date) = names;
        new.name = conflict_name(tx, new.space, new.folder, &parsed, who, date)
            .await?
            .to_string();
        let v = self
            .create_document_in(tx, actor, &new, blob, comment, Inside::Ignore)
            .await?;
        Ok(Effect {
            outcome: OpOutcome::Conflict,
            detail: format!("name taken: created as \"{}\"", v.document.name),
            document: Some(v.document.id),
        })
    }

    /// A rename, a move or new metadata, on a document of the operation's
    /// space, with the contractor's rights as for any write.
    pub(super) async fn apply_edit(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        space: SpaceId,
        document: DocumentId,
        edit: Edit<'_>,
    ) -> Outcome<Effect> {
        self.check_doc_space(tx, document, space).await?;
        let (done, not) = match edit {
            Edit::Rename(name) => (
                self.update_document_in(tx, actor, document, Some(name), None)
                    .await,
                "not renamed",
            ),
            Edit::Move(folder) => (
                self.update_document_in(tx, actor, document, None, Some(folder))
                    .await,
                "not moved",
            ),
            Edit::Metadata(doc_type, metadata) => (
                self.update_metadata_in(tx, actor, document, doc_type, metadata)
                    .await,
                "metadata not changed",
            ),
        };
        // A lock taken on this node meanwhile wins, as a newer version
        // wins over a deletion: the edit is answered as a conflict, the
        // document left as the holder has it.
        match locked_reason(done)? {
            Ok(v) => Ok(Effect::applied(Some(v.document.id))),
            Err(why) => Ok(Effect {
                outcome: OpOutcome::Conflict,
                detail: format!("{why}: {not}"),
                document: Some(document),
            }),
        }
    }

    /// A deletion as of `base_version`: a newer version here wins (modify
    /// beats delete), answered as a conflict.
    pub(super) async fn apply_delete(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        space: SpaceId,
        document: DocumentId,
        base_version: u32,
    ) -> Outcome<Effect> {
        self.check_doc_space(tx, document, space).await?;
        // Rights first: the "modified since" answer would tell an
        // ex-member that the document changed.
        let (a, d) = self.document_access(tx, actor, document).await?;
        let own = Access::owns(actor, d.created_by);
        a.require(Action::Delete { own }, || document.to_string())?;
        a.require_writable()?;
        if d.current_version != base_version {
            return Ok(Effect {
                outcome: OpOutcome::Conflict,
                detail: format!("modified since version {base_version}: not deleted"),
                document: Some(document),
            });
        }
        match locked_reason(self.delete_document_in(tx, actor, document).await)? {
            Ok(()) => Ok(Effect::applied(Some(document))),
            Err(why) => Ok(Effect {
                outcome: OpOutcome::Conflict,
                detail: format!("{why}: not deleted"),
                document: Some(document),
            }),
        }
    }

    /// A folder under the id the edge chose, so that the contractor's later
    /// operations can name it; an id already used is refused.
    pub(super) async fn apply_new_folder(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        space: SpaceId,
        folder: FolderId,
        parent: Option<FolderId>,
        name: &str,
    ) -> Outcome<Effect> {
        if tx.folder(folder).await?.is_some() {
            return Err(
                CoreError::conflict("folder_exists", "this folder id is already used").into(),
            );
        }
        // New content lands even under a lock (see `Inside::Ignore`).
        self.create_folder_in(tx, actor, space, parent, name, folder, Inside::Ignore)
            .await?;
        Ok(Effect::applied(None))
    }
}
