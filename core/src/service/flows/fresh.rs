//! What a filing creates (its folders, documents and links), written with
//! the checks of an upload that its unit of work has not made already.
//! `create_folder_in`, `create_document_in` and `link_in` check each
//! write on its own: the space's access, the parent folder's liveness
//! and locks, the source's right and locks, and read the lock shown on
//! the new document's page; for a PES flow that is some hundred and fifty
//! statements per file where a REST upload runs a couple of dozen. Here
//! the space's access is checked once per filing (`Flows::file_in`), a
//! folder's locks once per unit of work, and links join documents this
//! unit of work has just made; names, types and metadata are checked for
//! every document as before. Keep in step with those three use cases: a
//! rule added there applies to filings only once added here.

use std::collections::HashSet;

use serde_json::json;

use crate::error::CoreError;
use crate::ids::{DocumentId, FolderId, LinkId, SpaceId};
use crate::links::{DocumentLink, LinkKind};
use crate::model::{Document, Folder, Version};
use crate::names::DocumentName;
use crate::ports::Tx;
use crate::role::Action;

use super::super::Actor;
use super::super::access::{Access, Outcome};
use super::super::documents::media_type;
use super::super::locks::cover::Inside;
use super::{FlowDocument, Flows};

/// What a unit of work of filings checked once for all its writes.
#[derive(Debug, Default)]
pub(super) struct Checked {
    /// Folders (`None`: a space's root) that no depth-infinity lock of
    /// another principal covers, so that one may create inside them.
    /// Locks are written by other units of work, which cannot commit in
    /// between: what was open when checked stays open until the commit.
    open: HashSet<(SpaceId, Option<FolderId>)>,
}

impl Flows {
    /// Refuses to create inside `folder` when another principal's
    /// depth-infinity lock covers it, as `create_*_in` do with
    /// `Inside::Respect`; once per folder and unit of work.
    async fn ensure_open(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        space: SpaceId,
        folder: Option<FolderId>,
        checked: &mut Checked,
    ) -> Outcome<()> {
        if checked.open.contains(&(space, folder)) {
            return Ok(());
        }
        self.app
            .ensure_open_inside(tx, actor, space, folder, Inside::Respect)
            .await?;
        checked.open.insert((space, folder));
        Ok(())
    }

    /// A folder of a filing: `create_folder_in` for a `parent` this unit
    /// of work resolved (live: found among the live folders or created),
    /// in a space whose access it checked.
    pub(super) async fn create_folder(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        space: SpaceId,
        parent: Option<FolderId>,
        raw: &str,
        checked: &mut Checked,
    ) -> Outcome<FolderId> {
        let name = DocumentName::parse(raw).map_err(CoreError::name)?;
        self.ensure_open(tx, actor, space, parent, checked).await?;
        self.app
            .ensure_name_free(tx, space, parent, &name, None)
            .await?;
        let f = Folder {
            id: FolderId::new(),
            space,
            parent,
            name,
            created_by: actor.principal()?.id,
            created_at: self.app.now(),
            trashed: None,
            purged: false,
            revision: tx.next_revision().await?,
        };
        tx.save_folder(&f).await?;
        self.app
            .audit(
                tx,
                actor,
                "folder.create",
                Some(space),
                Some(f.id.to_string()),
                json!({ "name": f.name.as_str() }),
            )
            .await?;
        // A folder just made is open: its parent's locks are its own.
        checked.open.insert((space, Some(f.id)));
        Ok(f.id)
    }

    /// A document of a filing: `create_document_in` under `name`, which
    /// `free_name` found free in this unit of work, in a `folder` it
    /// resolved, in a space whose access it checked.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn create_document(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        space: SpaceId,
        folder: Option<FolderId>,
        name: DocumentName,
        doc: &FlowDocument,
        comment: &str,
        checked: &mut Checked,
    ) -> Outcome<Document> {
        self.ensure_open(tx, actor, space, folder, checked).await?;
        let metadata = self
            .app
            .typed_metadata(tx, doc.doc_type.as_deref(), &doc.metadata)
            .await?;
        let author = actor.principal()?.id;
        let now = self.app.now();
        let revision = tx.next_revision().await?;
        let document = Document {
            id: DocumentId::new(),
            space,
            folder,
            name,
            doc_type: doc.doc_type.clone(),
            metadata,
            current_version: 1,
            created_by: author,
            created_at: now,
            updated_at: now,
            trashed: None,
            purged: false,
            revision,
        };
        let (hash, size) = (doc.content.hash(), doc.content.size());
        let version = Version {
            document: document.id,
            number: 1,
            hash,
            size,
            media_type: media_type(doc.media_type.as_deref()),
            author,
            comment: comment.to_owned(),
            created_at: now,
            revision,
        };
        tx.save_document(&document).await?;
        tx.save_version(&version).await?;
        self.app
            .audit(
                tx,
                actor,
                "document.upload",
                Some(space),
                Some(document.id.to_string()),
                json!({ "name": document.name.as_str(), "hash": hash, "size": size }),
            )
            .await?;
        Ok(document)
    }

    /// A link between two documents this unit of work created in the
    /// space of `access`: `link_in` once both are known live and visible,
    /// the source's folder open and no lock on the source itself (it did
    /// not exist before this unit of work), nor a link between them. What
    /// is left to check is the right to edit one's own document.
    pub(super) async fn link_fresh(
        &self,
        tx: &mut Box<dyn Tx>,
        actor: &Actor,
        access: &Access,
        from: DocumentId,
        to: DocumentId,
        kind: LinkKind,
    ) -> Outcome<()> {
        access.require(Action::Edit { own: true }, || from.to_string())?;
        access.require_writable()?;
        if from == to {
            return Err(CoreError::invalid(
                "invalid_link",
                "a document cannot be linked to itself",
            )
            .into());
        }
        let link = DocumentLink {
            id: LinkId::new(),
            space: access.space.id,
            from,
            to,
            kind,
            created_by: actor.principal()?.id,
            created_at: self.app.now(),
            removed: false,
            revision: tx.next_revision().await?,
        };
        tx.save_link(&link).await?;
        self.app
            .audit(
                tx,
                actor,
                "link.create",
                Some(link.space),
                Some(link.id.to_string()),
                json!({ "from": from, "to": to, "kind": kind.as_str() }),
            )
            .await?;
        Ok(())
    }
}
