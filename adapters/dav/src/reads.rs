//! Reads: listings (PROPFIND Depth 1, directory walks of COPY and DELETE)
//! and the content of documents, streamed from core by byte range so that
//! a seek (Range requests, resumed downloads) never reads what it skips.

use std::io::SeekFrom;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use dav_server::fs::{DavFile, DavMetaData, FsError, FsFuture, FsResult};
use futures::{FutureExt, StreamExt};
use passerelle_core::Actor;
use passerelle_core::blob::ByteStream;
use passerelle_core::ids::{DocumentId, FolderId};
use passerelle_core::model::{Page, Space};
use uuid::Uuid;

use crate::error::fs_error;
use crate::fs::PasserelleFs;
use crate::meta::{Entry, Meta};
use crate::paths::{Doc, Located};

impl PasserelleFs {
    /// The entries of a collection, each with what its path resolves to:
    /// the actor's spaces at the root, the folders then documents of a
    /// space or folder.
    pub(crate) async fn entries(
        &self,
        actor: &Actor,
        at: Located,
    ) -> FsResult<Vec<(Entry, Located)>> {
        match at {
            Located::Root => self.spaces(actor).await,
            Located::Space(s) => self.folder_entries(actor, &s, None).await,
            Located::Folder(s, f) => self.folder_entries(actor, &s, Some(f.id)).await,
            Located::Document(..) | Located::New(..) => Err(FsError::Forbidden),
        }
    }

    async fn spaces(&self, actor: &Actor) -> FsResult<Vec<(Entry, Located)>> {
        let mine = self
            .app
            .my_spaces(actor, Page::all())
            .await
            .map_err(fs_error)?;
        Ok(mine
            .items
            .into_iter()
            .map(|s| {
                let entry = Entry {
                    name: s.space.slug.as_str().to_owned(),
                    meta: Meta::space(&s.space),
                };
                (entry, Located::Space(Arc::new(s.space)))
            })
            .collect())
    }

    /// A collection's content as the actor sees it (their writes waiting
    /// on an edge laid over), each document with its current version
    /// (size, ETag), in one core read.
    async fn folder_entries(
        &self,
        actor: &Actor,
        space: &Arc<Space>,
        folder: Option<FolderId>,
    ) -> FsResult<Vec<(Entry, Located)>> {
        let contents = self
            .app
            .seen_contents(actor, space.id, folder)
            .await
            .map_err(fs_error)?;
        let folders = contents.folders.into_iter().map(|f| {
            let entry = Entry {
                name: f.name.as_str().to_owned(),
                meta: Meta::folder(&f),
            };
            (entry, Located::Folder(space.clone(), Arc::new(f)))
        });
        let authors = contents.authors;
        let documents = contents.documents.into_iter().map(|seen| {
            let author = Some(
                authors
                    .get(&seen.version.author)
                    .cloned()
                    .unwrap_or_default(),
            );
            let doc = Doc {
                document: seen.document,
                version: seen.version,
                author,
                waiting: seen.waiting,
            };
            let entry = Entry {
                name: doc.document.name.as_str().to_owned(),
                meta: doc.meta(),
            };
            (entry, Located::Document(space.clone(), Arc::new(doc)))
        });
        let new = contents.new.into_iter().map(|n| {
            let entry = Entry {
                name: n.name.as_str().to_owned(),
                meta: Meta::waiting(&n.content, n.content.at),
            };
            (entry, Located::New(Arc::new(n)))
        });
        Ok(folders.chain(documents).chain(new).collect())
    }
}

/// Which content a read streams.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Source {
    /// A stored version, pinned when opened (a new version meanwhile does
    /// not mix two contents).
    Version(DocumentId, u32),
    /// The reader's own write waiting for the internal node (edge).
    Waiting(Uuid),
}

/// A document's content opened for reading.
pub(crate) struct ReadFile {
    fs: PasserelleFs,
    actor: Actor,
    source: Source,
    meta: Meta,
    /// Where the next read starts.
    pos: u64,
    /// The content from `pos` on, opened at the first read after a seek.
    /// In a mutex only to be `Sync` (dav-server's files must be): reached
    /// through `&mut self` with `get_mut`, it is never locked.
    stream: Mutex<Option<ByteStream>>,
    /// What the stream gave beyond the last read's count.
    pending: Bytes,
}

impl std::fmt::Debug for ReadFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadFile")
            .field("source", &self.source)
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl ReadFile {
    pub(crate) fn new(fs: PasserelleFs, actor: Actor, source: Source, meta: Meta) -> Self {
        Self {
            fs,
            actor,
            source,
            meta,
            pos: 0,
            stream: Mutex::new(None),
            pending: Bytes::new(),
        }
    }

    async fn read(&mut self, count: usize) -> FsResult<Bytes> {
        let len = self.meta.len();
        if self.pos >= len || count == 0 {
            return Ok(Bytes::new());
        }
        if self.pending.is_empty() {
            let opened = self
                .stream
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .is_some();
            if !opened {
                let content = self.open(self.pos..len).await?;
                *self
                    .stream
                    .get_mut()
                    .unwrap_or_else(PoisonError::into_inner) = Some(content);
            }
            let source = self.source;
            let slot = self
                .stream
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner);
            let Some(stream) = slot.as_mut() else {
                return Err(FsError::GeneralFailure);
            };
            match stream.next().await {
                Some(Ok(chunk)) => self.pending = chunk,
                Some(Err(e)) => {
                    tracing::error!(error = %e, ?source, "dav: reading content failed");
                    return Err(FsError::GeneralFailure);
                }
                None => return Ok(Bytes::new()),
            }
        }
        let n = count.min(self.pending.len());
        let out = self.pending.split_to(n);
        self.pos += n as u64;
        Ok(out)
    }

    /// The content from `range.start` on, as the reader may read it.
    async fn open(&self, range: std::ops::Range<u64>) -> FsResult<ByteStream> {
        let app = &self.fs.app;
        match self.source {
            Source::Version(doc, n) => app
                .open_version(&self.actor, doc, Some(n), Some(range))
                .await
                .map(|v| v.content),
            Source::Waiting(op) => app.open_waiting(&self.actor, op, Some(range)).await,
        }
        .map_err(fs_error)
    }

    fn seek_to(&mut self, to: SeekFrom) -> FsResult<u64> {
        let len = self.meta.len();
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        }
        .ok_or(FsError::GeneralFailure)?;
        if target != self.pos {
            // The next read opens the content at `target`.
            *self
                .stream
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner) = None;
            self.pending = Bytes::new();
            self.pos = target;
        }
        Ok(target)
    }
}

impl DavFile for ReadFile {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta: Box<dyn DavMetaData> = Box::new(self.meta.clone());
        futures::future::ready(Ok(meta)).boxed()
    }

    fn write_buf(&mut self, _buf: Box<dyn bytes::Buf + Send>) -> FsFuture<'_, ()> {
        futures::future::ready(Err(FsError::Forbidden)).boxed()
    }

    fn write_bytes(&mut self, _buf: Bytes) -> FsFuture<'_, ()> {
        futures::future::ready(Err(FsError::Forbidden)).boxed()
    }

    fn read_bytes(&mut self, count: usize) -> FsFuture<'_, Bytes> {
        self.read(count).boxed()
    }

    fn seek(&mut self, pos: SeekFrom) -> FsFuture<'_, u64> {
        futures::future::ready(self.seek_to(pos)).boxed()
    }

    fn flush(&mut self) -> FsFuture<'_, ()> {
        futures::future::ready(Ok(())).boxed()
    }
}
