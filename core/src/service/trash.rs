//! The trash: soft deletion, restore and purge (managers).

use serde_json::json;

use crate::error::CoreError;
use crate::ids::{DocumentId, FolderId, SpaceId};
use crate::model::{Document, Folder, Resource};
use crate::role::Action;

use super::access::Fail;
use super::locks::cover::Inside;
use super::{Actor, InternalApp, Passerelle};

/// What a manager sees in a space's trash: the items deleted by themselves
/// (content of a deleted folder comes back with it).
#[derive(Clone, Debug, PartialEq)]
pub struct TrashListing {
    pub folders: Vec<Folder>,
    pub documents: Vec<Document>,
}

impl Passerelle {
    pub async fn list_trash(
        &self,
        actor: &Actor,
        space: SpaceId,
    ) -> Result<TrashListing, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.read().await?;
            let a = self.access(&mut tx, actor, space).await?;
            a.require(Action::Manage, || space.to_string())?;
            let (folders, documents) = tx.list_trash(space).await?;
            let top = |t: &Option<crate::model::Trashed>| {
                t.as_ref().is_some_and(|t| t.with_folder.is_none())
            };
            Ok::<_, Fail>(TrashListing {
                folders: folders.into_iter().filter(|f| top(&f.trashed)).collect(),
                documents: documents.into_iter().filter(|d| top(&d.trashed)).collect(),
            })
        })
        .await
    }
}

impl InternalApp {
    /// Restores a trashed document to its folder (or to the root if that
    /// folder is gone). A live item with the same name blocks the restore.
    pub async fn restore_document(
        &self,
        actor: &Actor,
        id: DocumentId,
    ) -> Result<Document, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let mut d = match tx.document(id).await? {
                Some(d) if d.trashed.is_some() && !d.purged => d,
                _ => return Err(CoreError::NotFound("document in the trash").into()),
            };
            let a = self
                .access_as(&mut tx, actor, d.space, "document in the trash")
                .await?;
            a.require(Action::Manage, || id.to_string())?;
            a.require_writable()?;
            if let Some(f) = d.folder
                && self.live_folder(&mut tx, d.space, f).await.is_err()
            {
                d.folder = None;
            }
            self.ensure_open_inside(&mut tx, actor, d.space, d.folder, Inside::Respect)
                .await?;
            self.ensure_name_free(&mut tx, d.space, d.folder, &d.name, Some(id.as_uuid()))
                .await?;
            d.trashed = None;
            d.revision = tx.next_revision().await?;
            tx.save_document(&d).await?;
            self.audit(
                &mut tx,
                actor,
                "trash.restore",
                Some(d.space),
                Some(id.to_string()),
                json!({ "name": d.name.as_str() }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(d)
        })
        .await
    }

    /// Restores a trashed folder and everything deleted with it.
    pub async fn restore_folder(&self, actor: &Actor, id: FolderId) -> Result<Folder, CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let mut f = match tx.folder(id).await? {
                Some(f)
                    if f.trashed.as_ref().is_some_and(|t| t.with_folder.is_none()) && !f.purged =>
                {
                    f
                }
                _ => return Err(CoreError::NotFound("folder in the trash").into()),
            };
            let a = self
                .access_as(&mut tx, actor, f.space, "folder in the trash")
                .await?;
            a.require(Action::Manage, || id.to_string())?;
            a.require_writable()?;
            if let Some(p) = f.parent
                && self.live_folder(&mut tx, f.space, p).await.is_err()
            {
                f.parent = None;
            }
            self.ensure_open_inside(&mut tx, actor, f.space, f.parent, Inside::Respect)
                .await?;
            self.ensure_name_free(&mut tx, f.space, f.parent, &f.name, Some(id.as_uuid()))
                .await?;
            let rev = tx.next_revision().await?;
            f.trashed = None;
            f.revision = rev;
            tx.save_folder(&f).await?;
            let (folders, documents) = tx.list_trash(f.space).await?;
            for mut sub in folders.into_iter().filter(|x| {
                x.trashed
                    .as_ref()
                    .is_some_and(|t| t.with_folder == Some(id))
            }) {
                sub.trashed = None;
                sub.revision = rev;
                tx.save_folder(&sub).await?;
            }
            for mut d in documents.into_iter().filter(|x| {
                x.trashed
                    .as_ref()
                    .is_some_and(|t| t.with_folder == Some(id))
            }) {
                d.trashed = None;
                d.revision = rev;
                tx.save_document(&d).await?;
            }
            self.audit(
                &mut tx,
                actor,
                "trash.restore",
                Some(f.space),
                Some(id.to_string()),
                json!({ "name": f.name.as_str() }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(f)
        })
        .await
    }

    /// Deletes a trashed document for good: its versions go, and their blobs
    /// become collectable by `blobs gc` once nothing else references them.
    pub async fn purge_document(&self, actor: &Actor, id: DocumentId) -> Result<(), CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let mut d = match tx.document(id).await? {
                Some(d) if d.trashed.is_some() && !d.purged => d,
                _ => return Err(CoreError::NotFound("document in the trash").into()),
            };
            let a = self
                .access_as(&mut tx, actor, d.space, "document in the trash")
                .await?;
            a.require(Action::Manage, || id.to_string())?;
            // An archived space keeps everything, its trash included.
            a.require_writable()?;
            d.purged = true;
            d.revision = tx.next_revision().await?;
            tx.delete_versions(id).await?;
            // A lock on what no longer exists would only confuse a listing.
            tx.delete_locks_of(&[Resource::Document(id)]).await?;
            tx.save_document(&d).await?;
            self.audit(
                &mut tx,
                actor,
                "trash.purge",
                Some(d.space),
                Some(id.to_string()),
                json!({ "name": d.name.as_str() }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(())
        })
        .await
    }

    /// Deletes a trashed folder and everything deleted with it for good.
    pub async fn purge_folder(&self, actor: &Actor, id: FolderId) -> Result<(), CoreError> {
        self.guarded(actor, async {
            let mut tx = self.write().await?;
            let mut f = match tx.folder(id).await? {
                Some(f)
                    if f.trashed.as_ref().is_some_and(|t| t.with_folder.is_none()) && !f.purged =>
                {
                    f
                }
                _ => return Err(CoreError::NotFound("folder in the trash").into()),
            };
            let a = self
                .access_as(&mut tx, actor, f.space, "folder in the trash")
                .await?;
            a.require(Action::Manage, || id.to_string())?;
            a.require_writable()?;
            let rev = tx.next_revision().await?;
            let (folders, documents) = tx.list_trash(f.space).await?;
            let mut purged = Vec::new();
            for mut d in documents.into_iter().filter(|x| {
                x.trashed
                    .as_ref()
                    .is_some_and(|t| t.with_folder == Some(id))
            }) {
                tx.delete_versions(d.id).await?;
                purged.push(Resource::Document(d.id));
                d.purged = true;
                d.revision = rev;
                tx.save_document(&d).await?;
            }
            for mut sub in folders.into_iter().filter(|x| {
                x.trashed
                    .as_ref()
                    .is_some_and(|t| t.with_folder == Some(id))
            }) {
                purged.push(Resource::Folder(sub.id));
                sub.purged = true;
                sub.revision = rev;
                tx.save_folder(&sub).await?;
            }
            purged.push(Resource::Folder(id));
            tx.delete_locks_of(&purged).await?;
            f.purged = true;
            f.revision = rev;
            tx.save_folder(&f).await?;
            self.audit(
                &mut tx,
                actor,
                "trash.purge",
                Some(f.space),
                Some(id.to_string()),
                json!({ "name": f.name.as_str() }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, Fail>(())
        })
        .await
    }
}
