//! Writes other than PUT (`put`): MKCOL, DELETE (to the trash, never
//! purged), MOVE and COPY. A MOVE across spaces is a copy then a trash of
//! the source, each under its own rights.

use dav_server::fs::{FsError, FsResult};
use passerelle_core::Actor;
use passerelle_core::ids::DocumentId;
use passerelle_core::model::{Folder, Page, Resource};
use passerelle_core::service::{CopyTarget, Written};

use crate::error::fs_error;
use crate::fs::PasserelleFs;
use crate::paths::{Located, Parent};

/// What a write produced, for the steps that need it (a copied folder's
/// id, to copy into it). A queued write (edge) produced nothing yet: the
/// steps after it cannot go on, and the client is refused (what was
/// queued stays queued, as a failure midway on the internal node leaves
/// what was copied).
fn produced<T>(w: Written<T>) -> FsResult<T> {
    match w {
        Written::Applied(v) => Ok(v),
        Written::Queued(_) => Err(FsError::Forbidden),
    }
}

/// A label for the content from its name's extension; core keeps it only
/// if it looks like a media type, and content is served as an attachment.
pub(crate) fn media_type(name: &str) -> String {
    mime_guess::from_path(name)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
}

impl PasserelleFs {
    /// MKCOL: a folder in a space's root or in a folder.
    pub(crate) async fn make_folder(
        &self,
        actor: &Actor,
        parent: Parent,
        name: &str,
    ) -> FsResult<()> {
        self.writes
            .create_folder(actor, parent.space.id, parent.folder, name)
            .await
            .map_err(fs_error)?;
        Ok(())
    }

    /// DELETE of one item: to the trash.
    pub(crate) async fn trash(&self, actor: &Actor, at: Located) -> FsResult<()> {
        match at {
            Located::Document(_, view) => {
                self.writes
                    .delete_document(actor, view.document.id)
                    .await
                    .map_err(fs_error)?;
                Ok(())
            }
            Located::Folder(_, f) => {
                self.tree
                    .delete_folder(actor, f.id)
                    .await
                    .map_err(fs_error)?;
                Ok(())
            }
            Located::Root | Located::Space(_) | Located::New(..) => Err(FsError::Forbidden),
        }
    }

    /// MOVE: a rename and/or move within the space, or a copy into another
    /// space then the source to the trash.
    pub(crate) async fn relocate(
        &self,
        actor: &Actor,
        from: Located,
        to: Parent,
        name: &str,
    ) -> FsResult<()> {
        match from {
            Located::Document(space, view) if space.id == to.space.id => {
                let d = &view.document;
                let new_name = (d.name.as_str() != name).then_some(name);
                let new_folder = (d.folder != to.folder).then_some(to.folder);
                self.writes
                    .update_document(actor, d.id, new_name, new_folder)
                    .await
                    .map_err(fs_error)?;
                Ok(())
            }
            Located::Folder(space, f) if space.id == to.space.id => {
                let new_name = (f.name.as_str() != name).then_some(name);
                let new_parent = (f.parent != to.folder).then_some(to.folder);
                self.tree
                    .update_folder(actor, f.id, new_name, new_parent)
                    .await
                    .map_err(fs_error)?;
                Ok(())
            }
            Located::Document(space, view) => {
                self.copy_document(actor, view.document.id, &to, name)
                    .await?;
                self.trash(actor, Located::Document(space, view)).await
            }
            Located::Folder(space, f) => {
                self.copy_folder(actor, &space, &f, &to, name).await?;
                self.trash(actor, Located::Folder(space, f)).await
            }
            Located::Root | Located::Space(_) | Located::New(..) => Err(FsError::Forbidden),
        }
    }

    /// COPY of one document (dav-server walks collections itself: MKCOL
    /// then COPY of each file). Its dead properties go along to a copy
    /// made at once (a queued one has no id yet: it is a new document
    /// without them).
    pub(crate) async fn copy_document(
        &self,
        actor: &Actor,
        source: DocumentId,
        to: &Parent,
        name: &str,
    ) -> FsResult<()> {
        let target = CopyTarget {
            space: to.space.id,
            folder: to.folder,
            name: name.to_owned(),
        };
        let copy = self
            .tree
            .copy_document(actor, source, target)
            .await
            .map_err(fs_error)?;
        if let Written::Applied(copy) = copy {
            self.copy_properties(
                actor,
                Resource::Document(source),
                Resource::Document(copy.document.id),
            )
            .await;
        }
        Ok(())
    }

    /// A folder and everything under it, copied into `to` as `name`: for
    /// MOVE across spaces (COPY of collections is walked by dav-server).
    async fn copy_folder(
        &self,
        actor: &Actor,
        space: &passerelle_core::model::Space,
        folder: &Folder,
        to: &Parent,
        name: &str,
    ) -> FsResult<()> {
        let created = self
            .writes
            .create_folder(actor, to.space.id, to.folder, name)
            .await
            .map_err(fs_error)?;
        let created: Folder = produced(created)?;
        let inside = Parent {
            space: to.space.clone(),
            folder: Some(created.id),
        };
        let listing = self
            .app
            .list_folder(actor, space.id, Some(folder.id), Page::all())
            .await
            .map_err(fs_error)?;
        for d in listing.documents.items {
            self.copy_document(actor, d.id, &inside, d.name.as_str())
                .await?;
        }
        for sub in listing.folders {
            Box::pin(self.copy_folder(actor, space, &sub, &inside, sub.name.as_str())).await?;
        }
        Ok(())
    }
}
