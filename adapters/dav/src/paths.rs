//! From a DAV path to what it names: the root, a space (by slug), a folder
//! or a document (by name, as core compares names: case-insensitively,
//! NFC). Core resolves the whole path in one read as the actor
//! (`resolve_path`), so what the actor cannot see is "not found", exactly
//! as what does not exist. On an edge, the actor's own writes that wait
//! for the internal node are laid over what the replica holds (core's
//! `Pending`): a deleted document is gone, a new one is found, a new
//! version is read back.
//!
//! dav-server has already decoded the path, resolved `.` and `..` inside
//! `/dav`, and refused encoded NUL and `/` in a segment. A segment that is
//! not UTF-8, or not a valid name, names nothing here; creating under such
//! a name goes to core, which refuses it.

use std::sync::Arc;

use dav_server::davpath::DavPath;
use dav_server::fs::{FsError, FsResult};
use passerelle_core::Actor;
use passerelle_core::ids::FolderId;
use passerelle_core::model::{Document, Folder, Resource, Space, Version};
use passerelle_core::names::DocumentName;
use passerelle_core::service::{NewWaiting, PathTarget, Pending, Waiting};

use crate::error::fs_error;
use crate::fs::PasserelleFs;
use crate::meta::Meta;

/// A document and its current version, as a path names it.
#[derive(Clone, Debug)]
pub(crate) struct Doc {
    pub(crate) document: Document,
    pub(crate) version: Version,
    /// The display name of the version's author when the listing that
    /// found the document read it (empty: the account is gone); `None`:
    /// asked of core if a property needs it.
    pub(crate) author: Option<String>,
    /// The reader's newer content, waiting for the internal node (edge):
    /// what they read back.
    pub(crate) waiting: Option<Waiting>,
}

impl Doc {
    /// Its metadata as the reader sees it.
    pub(crate) fn meta(&self) -> Meta {
        match &self.waiting {
            Some(w) => Meta::waiting(w, self.document.created_at),
            None => Meta::document(&self.version, self.document.created_at),
        }
    }
}

/// What a path names, resolved. Shared (`Arc`): a request's caches hand
/// it out for each of the calls dav-server makes per entry of a listing,
/// and a listing's entries share their space.
#[derive(Clone, Debug)]
pub(crate) enum Located {
    Root,
    Space(Arc<Space>),
    Folder(Arc<Space>, Arc<Folder>),
    Document(Arc<Space>, Arc<Doc>),
    /// A document the reader created on an edge that the internal node
    /// has not yet: readable by them, nothing else until it is applied.
    New(Arc<NewWaiting>),
}

/// The key of a path in a request's cache of resolutions: its bytes
/// without a trailing slash (`/plans/` and `/plans` name the same).
pub(crate) fn cache_key(path: &[u8]) -> Vec<u8> {
    let mut k = path.to_vec();
    while k.last() == Some(&b'/') {
        k.pop();
    }
    k
}

impl Located {
    /// The resource that locks and properties attach to (`None`: the root).
    pub(crate) fn resource(&self) -> Option<Resource> {
        match self {
            Located::Root | Located::New(_) => None,
            Located::Space(s) => Some(Resource::Space(s.id)),
            Located::Folder(_, f) => Some(Resource::Folder(f.id)),
            Located::Document(_, d) => Some(Resource::Document(d.document.id)),
        }
    }
}

/// A collection that can hold new items: a space's root or a folder.
#[derive(Clone, Debug)]
pub(crate) struct Parent {
    pub(crate) space: Space,
    pub(crate) folder: Option<FolderId>,
}

/// Whether `path` is `/dav/` itself (the list of spaces).
pub(crate) fn is_root(path: &DavPath) -> bool {
    path.as_bytes().iter().all(|b| *b == b'/')
}

/// The path's segments, decoded; `None` when one is not UTF-8 (no such
/// name can exist: names are Unicode).
fn segments(path: &DavPath) -> Option<Vec<String>> {
    path.as_bytes()
        .split(|b| *b == b'/')
        .filter(|s| !s.is_empty())
        .map(|s| std::str::from_utf8(s).ok().map(str::to_owned))
        .collect()
}

impl PasserelleFs {
    /// Resolves `path` as the actor sees it (one core read, and one of the
    /// actor's pending writes for a document; none wait on the internal
    /// node).
    pub(crate) async fn locate(&self, actor: &Actor, path: &DavPath) -> FsResult<Located> {
        let segs = segments(path).ok_or(FsError::NotFound)?;
        let Some((slug, rest)) = segs.split_first() else {
            return Ok(Located::Root);
        };
        let found = match self.app.resolve_path(actor, slug, rest).await {
            Ok(found) => found,
            Err(passerelle_core::CoreError::NotFound(_)) => {
                return self.locate_waiting(actor, slug, rest).await;
            }
            Err(e) => return Err(fs_error(e)),
        };
        Ok(match found {
            PathTarget::Space(s) => Located::Space(Arc::new(s)),
            PathTarget::Folder(s, f) => Located::Folder(Arc::new(s), Arc::new(f)),
            PathTarget::Document(s, document, version) => {
                let pending = self.pending(actor, &s).await?;
                let seen = pending
                    .document(*document, version)
                    .ok_or(FsError::NotFound)?;
                let doc = Doc {
                    document: seen.document,
                    version: seen.version,
                    author: None,
                    waiting: seen.waiting,
                };
                Located::Document(Arc::new(s), Arc::new(doc))
            }
        })
    }

    /// A path the replica holds nothing at: one of the actor's new
    /// documents waiting in its folder, if any.
    async fn locate_waiting(
        &self,
        actor: &Actor,
        slug: &str,
        rest: &[String],
    ) -> FsResult<Located> {
        let Some((name, dirs)) = rest.split_last() else {
            return Err(FsError::NotFound);
        };
        let key = DocumentName::parse(name)
            .map_err(|_| FsError::NotFound)?
            .unique_key();
        let (space, folder) = match self
            .app
            .resolve_path(actor, slug, dirs)
            .await
            .map_err(fs_error)?
        {
            PathTarget::Space(s) => (s, None),
            PathTarget::Folder(s, f) => (s, Some(f.id)),
            PathTarget::Document(..) => return Err(FsError::NotFound),
        };
        self.pending(actor, &space)
            .await?
            .new_documents(folder)
            .into_iter()
            .find(|n| n.name.unique_key() == key)
            .map(|n| Located::New(Arc::new(n)))
            .ok_or(FsError::NotFound)
    }

    /// The actor's writes in `space` that wait for the internal node:
    /// none on the internal node (one read of its empty outbox).
    async fn pending(&self, actor: &Actor, space: &Space) -> FsResult<Pending> {
        self.app
            .pending_writes(actor, space.id)
            .await
            .map_err(fs_error)
    }

    /// The collection that holds (or would hold) `path`, and the last
    /// segment's name, raw: creating under it lets core validate it. The
    /// root cannot hold anything (spaces are created elsewhere): `Forbidden`.
    pub(crate) async fn locate_parent(
        &self,
        actor: &Actor,
        path: &DavPath,
    ) -> FsResult<(Parent, String)> {
        let segs = segments(path).ok_or(FsError::Forbidden)?;
        let Some((slug, rest)) = segs.split_first() else {
            return Err(FsError::Forbidden);
        };
        let Some((name, dirs)) = rest.split_last() else {
            return Err(FsError::Forbidden);
        };
        let found = self
            .app
            .resolve_path(actor, slug, dirs)
            .await
            .map_err(fs_error)?;
        let parent = match found {
            PathTarget::Space(space) => Parent {
                space,
                folder: None,
            },
            PathTarget::Folder(space, f) => Parent {
                space,
                folder: Some(f.id),
            },
            PathTarget::Document(..) => return Err(FsError::NotFound),
        };
        Ok((parent, name.clone()))
    }
}
