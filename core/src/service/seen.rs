//! What a reader sees of a space while their own writes wait for the
//! internal node (issue 15 §4, ADR 0007 "WebDAV on the edge"): the node's
//! rows with the reader's pending operations laid over them. A client that
//! saves then reads again (LibreOffice, rclone) finds what it saved: a new
//! document appears in its folder, a new version's content replaces the
//! current one, a deleted document is gone.
//!
//! On the internal node nothing waits (its outbox stays empty) and what is
//! seen is the rows, so a driving adapter serving both roles asks the same
//! question on both. Only *pending* operations are laid over: once the
//! internal node has decided, the replica shows the outcome when it comes
//! back down (seconds on a live link). A folder created, a document
//! renamed or moved shows once applied: an upload into a folder the
//! internal node has not created yet could not be checked here.

use std::collections::HashMap;
use std::ops::Range;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::blob::ByteStream;
use crate::error::CoreError;
use crate::hash::ContentHash;
use crate::ids::{DocumentId, FolderId, PrincipalId, SpaceId};
use crate::model::{Document, Folder, Version};
use crate::names::DocumentName;
use crate::replication::{OutboxItem, OutboxOp};

use super::access::Fail;
use super::{Actor, FolderContents, Passerelle};

/// Content a reader wrote that waits for the internal node.
#[derive(Clone, Debug, PartialEq)]
pub struct Waiting {
    /// The operation that carries it (to read the content back).
    pub op: Uuid,
    pub hash: ContentHash,
    pub size: u64,
    pub media_type: String,
    /// When it was queued: the content's modification time as seen.
    pub at: OffsetDateTime,
}

/// A stored document as its reader sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct SeenDocument {
    pub document: Document,
    pub version: Version,
    /// The reader's newer content of it, waiting (their latest save).
    pub waiting: Option<Waiting>,
}

/// A document the reader created that the internal node has not yet.
#[derive(Clone, Debug, PartialEq)]
pub struct NewWaiting {
    pub folder: Option<FolderId>,
    pub name: DocumentName,
    pub content: Waiting,
}

/// A folder's content as its reader sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct SeenContents {
    pub folders: Vec<Folder>,
    pub documents: Vec<SeenDocument>,
    /// Names no stored document of the folder holds.
    pub new: Vec<NewWaiting>,
    /// The display names of the stored versions' authors (as
    /// [`FolderContents::authors`](super::FolderContents)).
    pub authors: HashMap<PrincipalId, String>,
}

/// A reader's pending operations in one space, oldest first: the rule of
/// what they change in what the reader sees.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pending {
    items: Vec<OutboxItem>,
}

impl Pending {
    /// Keeps the undecided items, oldest first.
    pub fn new(mut items: Vec<OutboxItem>) -> Self {
        items.retain(|i| i.outcome.is_none());
        items.sort_by_key(|i| i.seq);
        Self { items }
    }

    /// Nothing waits: what is seen is the rows.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn ops(&self) -> impl DoubleEndedIterator<Item = (&OutboxItem, &OutboxOp)> {
        self.items.iter().map(|i| (i, &i.op))
    }

    /// Whether the reader's deletion of `doc` waits.
    pub fn deletes(&self, doc: DocumentId) -> bool {
        self.ops()
            .any(|(_, op)| matches!(op, OutboxOp::Delete { document, .. } if *document == doc))
    }

    /// The reader's latest new version of `doc` that waits.
    pub fn newest_version(&self, doc: DocumentId) -> Option<Waiting> {
        self.ops().rev().find_map(|(item, op)| match op {
            OutboxOp::NewVersion {
                document,
                hash,
                size,
                media_type,
                ..
            } if *document == doc => Some(Waiting {
                op: item.op_id,
                hash: *hash,
                size: *size,
                media_type: media_type.clone(),
                at: item.created_at,
            }),
            _ => None,
        })
    }

    /// The reader's new documents waiting in `folder`, by name (the latest
    /// when two carry the same name: the internal node decides both).
    pub fn new_documents(&self, folder: Option<FolderId>) -> Vec<NewWaiting> {
        let mut out: Vec<NewWaiting> = Vec::new();
        for (item, op) in self.ops() {
            let OutboxOp::NewDocument {
                folder: f,
                name,
                hash,
                size,
                media_type,
                ..
            } = op
            else {
                continue;
            };
            // Validated when queued; one that no longer parses names nothing.
            let Ok(name) = DocumentName::parse(name) else {
                continue;
            };
            if *f != folder {
                continue;
            }
            let key = name.unique_key();
            out.retain(|n| n.name.unique_key() != key);
            out.push(NewWaiting {
                folder,
                name,
                content: Waiting {
                    op: item.op_id,
                    hash: *hash,
                    size: *size,
                    media_type: media_type.clone(),
                    at: item.created_at,
                },
            });
        }
        out
    }

    /// `doc` as the reader sees it: `None` when their deletion waits.
    pub fn document(&self, document: Document, version: Version) -> Option<SeenDocument> {
        if self.deletes(document.id) {
            return None;
        }
        let waiting = self.newest_version(document.id);
        Some(SeenDocument {
            document,
            version,
            waiting,
        })
    }

    /// A folder's stored content with the reader's pending writes laid
    /// over it. A new document whose name a stored one holds is not shown
    /// (the internal node will refuse it or keep it as a copy).
    pub fn overlay(&self, folder: Option<FolderId>, contents: FolderContents) -> SeenContents {
        let FolderContents {
            folders,
            documents,
            authors,
        } = contents;
        let documents: Vec<SeenDocument> = documents
            .into_iter()
            .filter_map(|(d, v)| self.document(d, v))
            .collect();
        let taken = |n: &NewWaiting| {
            let key = n.name.unique_key();
            documents
                .iter()
                .any(|d| d.document.name.unique_key() == key)
                || folders.iter().any(|f| f.name.unique_key() == key)
        };
        let new = self
            .new_documents(folder)
            .into_iter()
            .filter(|n| !taken(n))
            .collect();
        SeenContents {
            folders,
            documents,
            new,
            authors,
        }
    }
}

impl Passerelle {
    /// The actor's pending writes in `space` (none on the internal node,
    /// none for the system account). `NotFound` for a space the actor
    /// cannot see.
    pub async fn pending_writes(
        &self,
        actor: &Actor,
        space: SpaceId,
    ) -> Result<Pending, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            self.access(&mut tx, actor, space).await?;
            let Some(me) = actor.id() else {
                return Ok(Pending::default());
            };
            let items = tx
                .list_outbox(space)
                .await?
                .into_iter()
                .filter(|i| i.contractor == me)
                .collect();
            Ok::<_, Fail>(Pending::new(items))
        })
        .await
    }

    /// A folder's content (the root with `folder: None`) as the actor sees
    /// it: [`Passerelle::folder_contents`] with their pending writes laid
    /// over it.
    pub async fn seen_contents(
        &self,
        actor: &Actor,
        space: SpaceId,
        folder: Option<FolderId>,
    ) -> Result<SeenContents, CoreError> {
        let pending = self.pending_writes(actor, space).await?;
        let contents = self.folder_contents(actor, space, folder).await?;
        Ok(pending.overlay(folder, contents))
    }

    /// The content (or its `range`) of one of the actor's own writes that
    /// waits: a new document or a new version queued on an edge. Another's
    /// operation, a decided one, or one of a space the actor no longer sees
    /// is `NotFound`, as anything absent.
    pub async fn open_waiting(
        &self,
        actor: &Actor,
        op: Uuid,
        range: Option<Range<u64>>,
    ) -> Result<ByteStream, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            let me = actor.id().ok_or(CoreError::NotFound("operation"))?;
            let item = tx
                .outbox_item(op)
                .await?
                .filter(|i| i.contractor == me && i.outcome.is_none())
                .ok_or(CoreError::NotFound("operation"))?;
            self.access(&mut tx, actor, item.space).await?;
            let hash = match &item.op {
                OutboxOp::NewDocument { hash, .. } | OutboxOp::NewVersion { hash, .. } => *hash,
                _ => return Err(CoreError::NotFound("operation").into()),
            };
            drop(tx);
            Ok::<_, Fail>(self.blobs.get(&hash, range).await?)
        })
        .await
    }
}
