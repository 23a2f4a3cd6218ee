//! Writes: PUT (spooled to a temporary file in the node's data directory,
//! then stored through core as a new document or a new version), MKCOL,
//! DELETE (to the trash, never purged), MOVE and COPY. A MOVE across
//! spaces is a copy then a trash of the source, each under its own rights.

use std::io::SeekFrom;

use bytes::{Buf, Bytes};
use dav_server::fs::{DavFile, DavMetaData, FsError, FsFuture, FsResult};
use futures::FutureExt;
use passerelle_core::Actor;
use passerelle_core::blob::ByteStream;
use passerelle_core::ids::DocumentId;
use passerelle_core::model::{Folder, Page, Resource};
use passerelle_core::service::{CopyTarget, NewDocument, NewVersion, Written};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use crate::error::fs_error;
use crate::fs::PasserelleFs;
use crate::meta::Meta;
use crate::paths::{Located, Parent};

/// Chunks read back from the spool file when storing it.
const SPOOL_READ_CHUNK: usize = 256 * 1024;

/// Where a PUT's content goes once it has all arrived.
#[derive(Debug)]
pub(crate) enum PutTarget {
    /// A new document named `name` in `parent`.
    New { parent: Box<Parent>, name: String },
    /// A new version of an existing document (none if unchanged: core).
    Existing(DocumentId),
}

/// A PUT in progress: the body goes to a temporary file (never memory),
/// stored through core at `flush`, when dav-server has read the whole body.
pub(crate) struct SpoolFile {
    fs: PasserelleFs,
    actor: Actor,
    target: PutTarget,
    /// Open for writing until stored.
    file: Option<tokio::fs::File>,
    /// Deleted when this is dropped, stored or not.
    path: TempPath,
    written: u64,
    limit: u64,
    /// What core answered, once stored.
    stored: Option<Meta>,
}

impl std::fmt::Debug for SpoolFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpoolFile")
            .field("target", &self.target)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl SpoolFile {
    pub(crate) fn create(fs: PasserelleFs, actor: Actor, target: PutTarget) -> FsResult<Self> {
        let limit = fs.app.settings().max_upload_bytes;
        let (file, path) = tempfile::Builder::new()
            .prefix("put-")
            .tempfile_in(&fs.spool_dir)
            .map_err(|e| {
                tracing::error!(error = %e, dir = %fs.spool_dir.display(), "dav: cannot create a spool file");
                FsError::InsufficientStorage
            })?
            .into_parts();
        Ok(Self {
            fs,
            actor,
            target,
            file: Some(tokio::fs::File::from_std(file)),
            path,
            written: 0,
            limit,
            stored: None,
        })
    }

    async fn write(&mut self, bytes: &[u8]) -> FsResult<()> {
        self.written += bytes.len() as u64;
        if self.written > self.limit {
            return Err(FsError::TooLarge);
        }
        let file = self.file.as_mut().ok_or(FsError::GeneralFailure)?;
        file.write_all(bytes).await.map_err(|e| {
            tracing::error!(error = %e, "dav: cannot write a spool file");
            FsError::InsufficientStorage
        })
    }

    async fn write_chunks(&mut self, mut buf: Box<dyn Buf + Send>) -> FsResult<()> {
        while buf.has_remaining() {
            let chunk = Bytes::copy_from_slice(buf.chunk());
            buf.advance(chunk.len());
            self.write(&chunk).await?;
        }
        Ok(())
    }

    /// Stores the spooled content through core, once.
    async fn store(&mut self) -> FsResult<()> {
        if self.stored.is_some() {
            return Ok(());
        }
        let Some(mut file) = self.file.take() else {
            return Err(FsError::GeneralFailure);
        };
        file.flush().await.map_err(|_| FsError::GeneralFailure)?;
        drop(file);
        let reader = tokio::fs::File::open(&self.path).await.map_err(|e| {
            tracing::error!(error = %e, "dav: cannot reopen a spool file");
            FsError::GeneralFailure
        })?;
        let content: ByteStream = Box::pin(tokio_util::io::ReaderStream::with_capacity(
            reader,
            SPOOL_READ_CHUNK,
        ));
        let writes = &self.fs.writes;
        let written = match &self.target {
            PutTarget::New { parent, name } => {
                let new = NewDocument {
                    space: parent.space.id,
                    folder: parent.folder,
                    name: name.clone(),
                    media_type: Some(media_type(name)),
                    ..NewDocument::default()
                };
                writes.upload(&self.actor, new, content).await
            }
            PutTarget::Existing(id) => {
                writes
                    .new_version(&self.actor, *id, NewVersion::default(), content)
                    .await
            }
        }
        .map_err(fs_error)?;
        // Queued (edge): the content waits in the outbox; the client is
        // answered with what it sent.
        self.stored = Some(match written {
            Written::Applied(v) => Meta::document(&v.version, v.document.created_at),
            Written::Queued(_) => Meta::pending(self.written),
        });
        Ok(())
    }
}

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

impl DavFile for SpoolFile {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta = self
            .stored
            .clone()
            .unwrap_or_else(|| Meta::pending(self.written));
        let meta: Box<dyn DavMetaData> = Box::new(meta);
        futures::future::ready(Ok(meta)).boxed()
    }

    fn write_buf(&mut self, buf: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        self.write_chunks(buf).boxed()
    }

    fn write_bytes(&mut self, buf: Bytes) -> FsFuture<'_, ()> {
        async move { self.write(&buf).await }.boxed()
    }

    fn read_bytes(&mut self, _count: usize) -> FsFuture<'_, Bytes> {
        futures::future::ready(Err(FsError::Forbidden)).boxed()
    }

    /// Partial writes (Content-Range PUT) are not offered: a version is
    /// whole content. Only "where am I" is answered.
    fn seek(&mut self, pos: SeekFrom) -> FsFuture<'_, u64> {
        let here = self.written;
        let r = match pos {
            SeekFrom::Start(n) if n == here => Ok(here),
            SeekFrom::Current(0) => Ok(here),
            _ => Err(FsError::NotImplemented),
        };
        futures::future::ready(r).boxed()
    }

    fn flush(&mut self) -> FsFuture<'_, ()> {
        self.store().boxed()
    }
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
