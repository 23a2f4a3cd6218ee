//! PUT: the body streamed into core as it arrives, as a new document or a
//! new version, through the same use cases as the API's uploads.
//!
//! The store runs beside the request from the first byte: dav-server
//! hands each chunk to [`PutFile`], which passes it through a small
//! bounded channel to core's `upload`/`new_version`, whose blob store
//! hashes and writes it once. Spooling the body to a file first, then
//! copying it into the blob store, wrote every byte twice (the 1 GiB row of
//! the benchmark against Apache). The channel bounds memory, and
//! back-pressure reaches the client through it.
//!
//! Nothing half-sent is stored: the stream core reads ends cleanly only
//! when the body ended with the length the client announced; a dropped
//! request, an error or a short body ends it with an error, and core stores
//! nothing when its stream breaks.

use std::io::{self, SeekFrom};

use bytes::{Buf, Bytes};
use dav_server::fs::{DavFile, DavMetaData, FsError, FsFuture, FsResult};
use futures::FutureExt;
use passerelle_core::blob::ByteStream;
use passerelle_core::ids::DocumentId;
use passerelle_core::service::{DocumentView, NewDocument, NewVersion, Written};
use passerelle_core::{Actor, CoreError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::fs_error;
use crate::fs::PasserelleFs;
use crate::meta::Meta;
use crate::paths::Parent;

/// Chunks in flight between the request and the store: enough to keep
/// both sides busy, small enough that a stalled disk holds little memory.
const IN_FLIGHT: usize = 16;

/// Where a PUT's content goes.
#[derive(Debug)]
pub(crate) enum PutTarget {
    /// A new document named `name` in `parent`.
    New { parent: Box<Parent>, name: String },
    /// A new version of an existing document (none if unchanged: core).
    Existing(DocumentId),
}

/// What the request sends the store.
enum Piece {
    Data(Bytes),
    /// The body arrived whole: the stream may end.
    End,
}

type Stored = Result<Written<DocumentView>, CoreError>;

/// A PUT in progress.
pub(crate) struct PutFile {
    /// Open until the body ends or the PUT fails.
    body: Option<mpsc::Sender<Piece>>,
    /// Core's answer, once the stream ends.
    storing: Option<JoinHandle<Stored>>,
    written: u64,
    limit: u64,
    /// The length the client announced, if it did.
    expected: Option<u64>,
    /// What core answered, once stored.
    stored: Option<Meta>,
}

impl std::fmt::Debug for PutFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PutFile")
            .field("written", &self.written)
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

impl PutFile {
    /// Starts storing into `target`; `expected` is the request's
    /// Content-Length.
    pub(crate) fn start(
        fs: PasserelleFs,
        actor: Actor,
        target: PutTarget,
        expected: Option<u64>,
    ) -> Self {
        let limit = fs.app.settings().max_upload_bytes;
        let (body, pieces) = mpsc::channel(IN_FLIGHT);
        let storing = tokio::spawn(store(fs, actor, target, stream_of(pieces)));
        Self {
            body: Some(body),
            storing: Some(storing),
            written: 0,
            limit,
            expected,
            stored: None,
        }
    }

    async fn write(&mut self, bytes: Bytes) -> FsResult<()> {
        self.written += bytes.len() as u64;
        if self.written > self.limit {
            // Closing the channel without its end breaks core's stream.
            self.body = None;
            return Err(FsError::TooLarge);
        }
        let Some(body) = &self.body else {
            return Err(FsError::GeneralFailure);
        };
        if body.send(Piece::Data(bytes)).await.is_err() {
            // The store stopped before the end: its answer says why.
            self.body = None;
            return Err(match self.outcome().await {
                Err(e) => e,
                Ok(_) => FsError::GeneralFailure,
            });
        }
        Ok(())
    }

    /// Ends the body, then waits for core's answer, once.
    async fn finish(&mut self) -> FsResult<()> {
        if self.stored.is_some() {
            return Ok(());
        }
        let body = self.body.take().ok_or(FsError::GeneralFailure)?;
        if self.expected.is_some_and(|n| n != self.written) {
            // What arrived is not what was sent. dav-server flushes such a
            // body, then answers 400 itself: the store is abandoned (its
            // stream breaks) and the 400 is left to dav-server.
            drop(body);
            let _ = self.outcome().await;
            return Ok(());
        }
        if body.send(Piece::End).await.is_err() {
            return Err(match self.outcome().await {
                Err(e) => e,
                Ok(_) => FsError::GeneralFailure,
            });
        }
        drop(body);
        // Queued (edge): the content waits in the outbox; the client is
        // answered with what it sent.
        self.stored = Some(match self.outcome().await? {
            Written::Applied(v) => Meta::document(&v.version, v.document.created_at),
            Written::Queued(_) => Meta::pending(self.written),
        });
        Ok(())
    }

    /// Core's answer, mapped in the request's task (where a lock's holder
    /// is noted for the 423's text).
    async fn outcome(&mut self) -> FsResult<Written<DocumentView>> {
        let storing = self.storing.take().ok_or(FsError::GeneralFailure)?;
        match storing.await {
            Ok(stored) => stored.map_err(fs_error),
            Err(e) => {
                tracing::error!(error = %e, "dav: the store of a PUT stopped");
                Err(FsError::GeneralFailure)
            }
        }
    }
}

/// The body as core reads it: the chunks, then a clean end only after
/// [`Piece::End`]; a channel closed without it is an error.
fn stream_of(pieces: mpsc::Receiver<Piece>) -> ByteStream {
    Box::pin(futures::stream::unfold(Some(pieces), |pieces| async move {
        let mut pieces = pieces?;
        match pieces.recv().await {
            Some(Piece::Data(bytes)) => Some((Ok(bytes), Some(pieces))),
            Some(Piece::End) => None,
            None => Some((
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the PUT body ended before its end",
                )),
                None,
            )),
        }
    }))
}

/// Stores the streamed content through the node's writes.
async fn store(fs: PasserelleFs, actor: Actor, target: PutTarget, content: ByteStream) -> Stored {
    match target {
        PutTarget::New { parent, name } => {
            let new = NewDocument {
                space: parent.space.id,
                folder: parent.folder,
                media_type: Some(crate::writes::media_type(&name)),
                name,
                ..NewDocument::default()
            };
            fs.writes.upload(&actor, new, content).await
        }
        PutTarget::Existing(id) => {
            fs.writes
                .new_version(&actor, id, NewVersion::default(), content)
                .await
        }
    }
}

impl DavFile for PutFile {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta = self
            .stored
            .clone()
            .unwrap_or_else(|| Meta::pending(self.written));
        let meta: Box<dyn DavMetaData> = Box::new(meta);
        futures::future::ready(Ok(meta)).boxed()
    }

    fn write_buf(&mut self, mut buf: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        async move {
            let bytes = buf.copy_to_bytes(buf.remaining());
            self.write(bytes).await
        }
        .boxed()
    }

    fn write_bytes(&mut self, buf: Bytes) -> FsFuture<'_, ()> {
        self.write(buf).boxed()
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
        self.finish().boxed()
    }
}
