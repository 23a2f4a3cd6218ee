//! Writes on the tree beyond [`DocumentWrites`]: folders' renames, moves
//! and deletions, and copies of documents. A trait of their own (one
//! concern: reshaping the tree, as a file manager or a WebDAV client does)
//! implemented per node role, so a driving adapter serving both roles never
//! asks which one it runs on.
//!
//! On an edge, only what the outbox can carry is offered (ADR 0003): a
//! copy is a new document with the source's content, queued; a folder's
//! rename, move or deletion has no operation and is refused in core, with a
//! message saying where it can be done.
//!
//! [`DocumentWrites`]: super::DocumentWrites

use async_trait::async_trait;

use crate::error::CoreError;
use crate::ids::{DocumentId, FolderId};
use crate::model::Folder;
use crate::service::Actor;
use crate::service::access::Fail;
use crate::service::documents::{CopyTarget, DocumentView, NewDocument};

use super::{AppliedWrites, Queued, QueuedWrites, Written};

/// What an edge answers to a folder's rename, move or deletion.
const EDGE_FOLDER_WRITE: &str =
    "folders are renamed, moved and deleted on the internal node: ask an agent of the space";

/// Reshaping the tree, on both node roles. Each method runs core's checks
/// first, with the answers of [`DocumentWrites`](super::DocumentWrites).
#[async_trait]
pub trait TreeWrites: Send + Sync + std::fmt::Debug {
    /// Renames (`name`) and/or moves (`parent`; `Some(None)`: to the root)
    /// a folder within its space.
    async fn update_folder(
        &self,
        actor: &Actor,
        id: FolderId,
        name: Option<&str>,
        parent: Option<Option<FolderId>>,
    ) -> Result<Written<Folder>, CoreError>;

    /// Moves a folder and everything under it to the trash.
    async fn delete_folder(&self, actor: &Actor, id: FolderId) -> Result<Written<()>, CoreError>;

    /// Copies the current version of `source` (type and metadata with it)
    /// as a new document at `to`.
    async fn copy_document(
        &self,
        actor: &Actor,
        source: DocumentId,
        to: CopyTarget,
    ) -> Result<Written<DocumentView>, CoreError>;
}

#[async_trait]
impl TreeWrites for AppliedWrites {
    async fn update_folder(
        &self,
        actor: &Actor,
        id: FolderId,
        name: Option<&str>,
        parent: Option<Option<FolderId>>,
    ) -> Result<Written<Folder>, CoreError> {
        self.app
            .update_folder(actor, id, name, parent)
            .await
            .map(Written::Applied)
    }

    async fn delete_folder(&self, actor: &Actor, id: FolderId) -> Result<Written<()>, CoreError> {
        self.app
            .delete_folder(actor, id)
            .await
            .map(Written::Applied)
    }

    async fn copy_document(
        &self,
        actor: &Actor,
        source: DocumentId,
        to: CopyTarget,
    ) -> Result<Written<DocumentView>, CoreError> {
        self.app
            .copy_document(actor, source, to)
            .await
            .map(Written::Applied)
    }
}

impl QueuedWrites {
    /// A folder's rename, move or deletion on an edge: `NotFound` for a
    /// folder the actor cannot see (as everywhere), else refused, since
    /// the outbox carries no such operation.
    async fn refuse_folder_write<T>(&self, actor: &Actor, id: FolderId) -> Result<T, CoreError> {
        let app = &self.app;
        app.guarded(actor, async {
            let mut tx = app.read().await?;
            app.folder_access(&mut tx, actor, id).await?;
            Err::<T, Fail>(CoreError::Forbidden(EDGE_FOLDER_WRITE).into())
        })
        .await
    }
}

#[async_trait]
impl TreeWrites for QueuedWrites {
    async fn update_folder(
        &self,
        actor: &Actor,
        id: FolderId,
        _name: Option<&str>,
        _parent: Option<Option<FolderId>>,
    ) -> Result<Written<Folder>, CoreError> {
        self.refuse_folder_write(actor, id).await
    }

    async fn delete_folder(&self, actor: &Actor, id: FolderId) -> Result<Written<()>, CoreError> {
        self.refuse_folder_write(actor, id).await
    }

    /// A new document with the source's current content, type and
    /// metadata, queued as any upload: the source is read as the actor
    /// (it must be visible), the destination checked as an upload.
    async fn copy_document(
        &self,
        actor: &Actor,
        source: DocumentId,
        to: CopyTarget,
    ) -> Result<Written<DocumentView>, CoreError> {
        let opened = self.app.open_version(actor, source, None, None).await?;
        let new = NewDocument {
            space: to.space,
            folder: to.folder,
            name: to.name,
            doc_type: opened.document.doc_type.clone(),
            metadata: opened.document.metadata.clone(),
            media_type: Some(opened.version.media_type.clone()),
            comment: String::new(),
        };
        let item = self.app.edge_upload(actor, new, opened.content).await?;
        Ok(Written::Queued(Queued::one(item)))
    }
}
