//! Writes that every driving adapter shares (ADR 0005 §3): one trait per
//! concern, whose answer says whether the write was applied (internal node)
//! or queued as pending in the outbox (edge). The node's composition picks
//! the implementation, so an adapter never asks which node it runs on.

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::blob::ByteStream;
use crate::error::CoreError;
use crate::ids::{DocumentId, FolderId, SpaceId};
use crate::model::{Folder, Page, Paged};
use crate::replication::{OutboxItem, OutboxOp};

use super::documents::{DocumentView, NewDocument, NewVersion};
use super::{Actor, EdgeApp, InternalApp};

mod tree;

pub use tree::TreeWrites;

/// What a write became.
#[derive(Clone, Debug, PartialEq)]
pub enum Written<T> {
    /// Done here and now: what it produced.
    Applied(T),
    /// Checked against this node's rights, then left in the outbox until the
    /// internal node decides (edge).
    Queued(Queued),
}

impl<T> Written<T> {
    /// Whether the write waits for the internal node.
    pub fn is_queued(&self) -> bool {
        matches!(self, Written::Queued(_))
    }

    /// The same outcome with the applied value changed (the queued
    /// operations stay as they are).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Written<U> {
        match self {
            Written::Applied(v) => Written::Applied(f(v)),
            Written::Queued(q) => Written::Queued(q),
        }
    }
}

/// The operations one write left in the edge's outbox, in the order the
/// internal node applies them: never empty (a write that needs no
/// operation is answered `Applied`).
#[derive(Clone, Debug, PartialEq)]
pub struct Queued {
    items: Vec<OutboxItem>,
}

impl Queued {
    fn one(item: OutboxItem) -> Self {
        Self { items: vec![item] }
    }

    /// Every operation queued, first applied first.
    pub fn items(&self) -> &[OutboxItem] {
        &self.items
    }

    /// The operation applied last: the one whose verdict settles the
    /// document's final state (the move after a rename).
    pub fn last(&self) -> &OutboxItem {
        self.items
            .last()
            .expect("a Queued is built with at least one operation")
    }

    /// The space whose outbox holds them (one write touches one space).
    pub fn space(&self) -> SpaceId {
        self.last().space
    }
}

/// Writes on documents and folders that both node roles offer.
///
/// Every method runs core's checks before anything is stored or queued,
/// with the same answers on both roles: a document or space the actor
/// cannot see is `NotFound`, a role that does not allow the write is
/// `Forbidden` (and audited), an archived space is `Conflict`. A queued
/// write may also be refused with `OutboxFull`.
#[async_trait]
pub trait DocumentWrites: Send + Sync + std::fmt::Debug {
    /// Creates a document from streamed content.
    async fn upload(
        &self,
        actor: &Actor,
        new: NewDocument,
        content: ByteStream,
    ) -> Result<Written<DocumentView>, CoreError>;

    /// Adds a version from streamed content.
    async fn new_version(
        &self,
        actor: &Actor,
        id: DocumentId,
        new: NewVersion,
        content: ByteStream,
    ) -> Result<Written<DocumentView>, CoreError>;

    /// Renames (`name`) and/or moves (`folder`; `Some(None)`: to the root) a
    /// document within its space.
    async fn update_document(
        &self,
        actor: &Actor,
        id: DocumentId,
        name: Option<&str>,
        folder: Option<Option<FolderId>>,
    ) -> Result<Written<DocumentView>, CoreError>;

    /// Renames a document in its folder.
    async fn rename_document(
        &self,
        actor: &Actor,
        id: DocumentId,
        name: &str,
    ) -> Result<Written<DocumentView>, CoreError> {
        self.update_document(actor, id, Some(name), None).await
    }

    /// Moves a document to `folder` (`None`: the root) of its space.
    async fn move_document(
        &self,
        actor: &Actor,
        id: DocumentId,
        folder: Option<FolderId>,
    ) -> Result<Written<DocumentView>, CoreError> {
        self.update_document(actor, id, None, Some(folder)).await
    }

    /// Sets the document type and metadata (validated against the type).
    async fn update_metadata(
        &self,
        actor: &Actor,
        id: DocumentId,
        doc_type: Option<String>,
        metadata: Map<String, Value>,
    ) -> Result<Written<DocumentView>, CoreError>;

    /// Moves a document to the trash.
    async fn delete_document(
        &self,
        actor: &Actor,
        id: DocumentId,
    ) -> Result<Written<()>, CoreError>;

    /// Creates a folder in `parent` (`None`: the root) of a space.
    async fn create_folder(
        &self,
        actor: &Actor,
        space: SpaceId,
        parent: Option<FolderId>,
        name: &str,
    ) -> Result<Written<Folder>, CoreError>;

    /// One page of the actor's writes in `space` that wait, or waited, for
    /// another node's verdict, newest first, with their total (the "pending
    /// synchronisation" view). Empty where writes apply at once.
    async fn queued_writes(
        &self,
        actor: &Actor,
        space: SpaceId,
        page: Page,
    ) -> Result<Paged<OutboxItem>, CoreError>;
}

/// The internal node's writes: each applied at once by the use case of
/// the same name.
#[derive(Clone, Debug)]
pub struct AppliedWrites {
    app: InternalApp,
}

impl AppliedWrites {
    pub fn new(app: InternalApp) -> Self {
        Self { app }
    }
}

#[async_trait]
impl DocumentWrites for AppliedWrites {
    async fn upload(
        &self,
        actor: &Actor,
        new: NewDocument,
        content: ByteStream,
    ) -> Result<Written<DocumentView>, CoreError> {
        self.app
            .upload(actor, new, content)
            .await
            .map(Written::Applied)
    }

    async fn new_version(
        &self,
        actor: &Actor,
        id: DocumentId,
        new: NewVersion,
        content: ByteStream,
    ) -> Result<Written<DocumentView>, CoreError> {
        self.app
            .new_version(actor, id, new, content)
            .await
            .map(Written::Applied)
    }

    async fn update_document(
        &self,
        actor: &Actor,
        id: DocumentId,
        name: Option<&str>,
        folder: Option<Option<FolderId>>,
    ) -> Result<Written<DocumentView>, CoreError> {
        // One transaction here: the rename and the move land together.
        self.app
            .update_document(actor, id, name, folder)
            .await
            .map(Written::Applied)
    }

    async fn update_metadata(
        &self,
        actor: &Actor,
        id: DocumentId,
        doc_type: Option<String>,
        metadata: Map<String, Value>,
    ) -> Result<Written<DocumentView>, CoreError> {
        self.app
            .update_metadata(actor, id, doc_type, metadata)
            .await
            .map(Written::Applied)
    }

    async fn delete_document(
        &self,
        actor: &Actor,
        id: DocumentId,
    ) -> Result<Written<()>, CoreError> {
        self.app
            .delete_document(actor, id)
            .await
            .map(Written::Applied)
    }

    async fn create_folder(
        &self,
        actor: &Actor,
        space: SpaceId,
        parent: Option<FolderId>,
        name: &str,
    ) -> Result<Written<Folder>, CoreError> {
        self.app
            .create_folder(actor, space, parent, name)
            .await
            .map(Written::Applied)
    }

    /// Nothing waits here: every write was applied or refused at once. A
    /// space the actor cannot see is `NotFound`, as on an edge.
    async fn queued_writes(
        &self,
        actor: &Actor,
        space: SpaceId,
        _page: Page,
    ) -> Result<Paged<OutboxItem>, CoreError> {
        self.app.get_space(actor, space).await?;
        Ok(Paged {
            items: Vec::new(),
            total: 0,
        })
    }
}

/// An edge's writes: each checked against the replicated rights, its
/// content stored, then queued in the outbox for the internal node
/// (ADR 0003). This is the one place that turns a write into operations.
#[derive(Clone, Debug)]
pub struct QueuedWrites {
    app: EdgeApp,
}

impl QueuedWrites {
    pub fn new(app: EdgeApp) -> Self {
        Self { app }
    }

    /// Queues one operation on the document `id`, built from what this
    /// edge holds of it (its space, its current version).
    async fn on_document(
        &self,
        actor: &Actor,
        id: DocumentId,
        op: impl FnOnce(&DocumentView) -> OutboxOp,
    ) -> Result<Queued, CoreError> {
        let view = self.app.get_document(actor, id).await?;
        let item = self
            .app
            .edge_operation(actor, view.document.space, op(&view))
            .await?;
        Ok(Queued::one(item))
    }
}

#[async_trait]
impl DocumentWrites for QueuedWrites {
    async fn upload(
        &self,
        actor: &Actor,
        new: NewDocument,
        content: ByteStream,
    ) -> Result<Written<DocumentView>, CoreError> {
        let item = self.app.edge_upload(actor, new, content).await?;
        Ok(Written::Queued(Queued::one(item)))
    }

    async fn new_version(
        &self,
        actor: &Actor,
        id: DocumentId,
        new: NewVersion,
        content: ByteStream,
    ) -> Result<Written<DocumentView>, CoreError> {
        let item = self
            .app
            .edge_new_version(actor, id, new.media_type.as_deref(), &new.comment, content)
            .await?;
        Ok(Written::Queued(Queued::one(item)))
    }

    /// A rename and a move are two operations, the rename first (so a
    /// refused name leaves the document where it is, and the internal node
    /// decides each on its own). With neither part, nothing is queued and
    /// the document is answered as this edge holds it.
    async fn update_document(
        &self,
        actor: &Actor,
        id: DocumentId,
        name: Option<&str>,
        folder: Option<Option<FolderId>>,
    ) -> Result<Written<DocumentView>, CoreError> {
        let view = self.app.get_document(actor, id).await?;
        let space = view.document.space;
        let mut ops = Vec::new();
        if let Some(name) = name {
            ops.push(OutboxOp::Rename {
                document: id,
                name: name.to_owned(),
            });
        }
        if let Some(folder) = folder {
            ops.push(OutboxOp::Move {
                document: id,
                folder,
            });
        }
        if ops.is_empty() {
            return Ok(Written::Applied(view));
        }
        let mut items = Vec::with_capacity(ops.len());
        for op in ops {
            // A refusal stops here: what was queued before it stays queued
            // (each operation stands on its own on the internal node).
            items.push(self.app.edge_operation(actor, space, op).await?);
        }
        Ok(Written::Queued(Queued { items }))
    }

    async fn update_metadata(
        &self,
        actor: &Actor,
        id: DocumentId,
        doc_type: Option<String>,
        metadata: Map<String, Value>,
    ) -> Result<Written<DocumentView>, CoreError> {
        let queued = self
            .on_document(actor, id, |_| OutboxOp::SetMetadata {
                document: id,
                doc_type,
                metadata,
            })
            .await?;
        Ok(Written::Queued(queued))
    }

    /// Deletes as of the version this edge holds: a newer version on the
    /// internal node wins (modify beats delete).
    async fn delete_document(
        &self,
        actor: &Actor,
        id: DocumentId,
    ) -> Result<Written<()>, CoreError> {
        let queued = self
            .on_document(actor, id, |view| OutboxOp::Delete {
                document: id,
                base_version: view.document.current_version,
            })
            .await?;
        Ok(Written::Queued(queued))
    }

    /// The folder's id is chosen here and kept by the internal node, so
    /// later operations of the contractor can name it.
    async fn create_folder(
        &self,
        actor: &Actor,
        space: SpaceId,
        parent: Option<FolderId>,
        name: &str,
    ) -> Result<Written<Folder>, CoreError> {
        let op = OutboxOp::NewFolder {
            folder: FolderId::new(),
            parent,
            name: name.to_owned(),
        };
        let item = self.app.edge_operation(actor, space, op).await?;
        Ok(Written::Queued(Queued::one(item)))
    }

    async fn queued_writes(
        &self,
        actor: &Actor,
        space: SpaceId,
        page: Page,
    ) -> Result<Paged<OutboxItem>, CoreError> {
        self.app.my_operations(actor, space, page).await
    }
}
