//! From a DAV path to what it names: the root, a space (by slug), a folder
//! or a document (by name, as core compares names: case-insensitively,
//! NFC). Every step is a core read as the actor, so what the actor cannot
//! see is "not found", exactly as what does not exist.
//!
//! dav-server has already decoded the path, resolved `.` and `..` inside
//! `/dav`, and refused encoded NUL and `/` in a segment. A segment that is
//! not UTF-8, or not a valid name, names nothing here; creating under such
//! a name goes to core, which refuses it.

use dav_server::davpath::DavPath;
use dav_server::fs::{FsError, FsResult};
use passerelle_core::Actor;
use passerelle_core::ids::FolderId;
use passerelle_core::model::{Document, Folder, Page, Resource, Space, Version};
use passerelle_core::names::DocumentName;
use passerelle_core::ports::DocumentQuery;
use passerelle_core::service::{NewWaiting, Pending, Waiting};

use crate::error::fs_error;
use crate::fs::PasserelleFs;
use crate::meta::Meta;

/// A document and its current version, as a path names it.
#[derive(Clone, Debug)]
pub(crate) struct Doc {
    pub(crate) document: Document,
    pub(crate) version: Version,
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

/// What a path names, resolved.
#[derive(Clone, Debug)]
pub(crate) enum Located {
    Root,
    Space(Space),
    Folder(Space, Folder),
    Document(Space, Box<Doc>),
    /// A document the reader created on an edge that the internal node
    /// has not yet: readable by them, nothing else until it is applied.
    New(Box<NewWaiting>),
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
            Located::Root | Located::New(..) => None,
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

/// A child found by name in a collection.
pub(crate) enum Child {
    Folder(Folder),
    Document(Document),
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
    /// Resolves `path` as the actor sees it.
    pub(crate) async fn locate(&self, actor: &Actor, path: &DavPath) -> FsResult<Located> {
        let segs = segments(path).ok_or(FsError::NotFound)?;
        let Some((slug, rest)) = segs.split_first() else {
            return Ok(Located::Root);
        };
        let space = self.space(actor, slug).await?;
        let Some((last, dirs)) = rest.split_last() else {
            return Ok(Located::Space(space));
        };
        let parent = self.walk(actor, &space, dirs).await?;
        let pending = self.pending(actor, &space).await?;
        match self.child(actor, &space, parent, last).await? {
            Some(Child::Folder(f)) => Ok(Located::Folder(space, f)),
            Some(Child::Document(d)) => {
                let view = self.app.get_document(actor, d.id).await.map_err(fs_error)?;
                let seen = pending
                    .document(view.document, view.version)
                    .ok_or(FsError::NotFound)?;
                let doc = Doc {
                    document: seen.document,
                    version: seen.version,
                    waiting: seen.waiting,
                };
                Ok(Located::Document(space, Box::new(doc)))
            }
            None => {
                let key = DocumentName::parse(last)
                    .map_err(|_| FsError::NotFound)?
                    .unique_key();
                pending
                    .new_documents(parent)
                    .into_iter()
                    .find(|n| n.name.unique_key() == key)
                    .map(|n| Located::New(Box::new(n)))
                    .ok_or(FsError::NotFound)
            }
        }
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
        let space = self.space(actor, slug).await?;
        let folder = self.walk(actor, &space, dirs).await?;
        Ok((Parent { space, folder }, name.clone()))
    }

    async fn space(&self, actor: &Actor, slug: &str) -> FsResult<Space> {
        Ok(self
            .app
            .space_by_slug(actor, slug)
            .await
            .map_err(fs_error)?
            .space)
    }

    /// Follows folder names from a space's root; each must be a folder.
    async fn walk(
        &self,
        actor: &Actor,
        space: &Space,
        dirs: &[String],
    ) -> FsResult<Option<FolderId>> {
        let mut at = None;
        for name in dirs {
            match self.child(actor, space, at, name).await? {
                Some(Child::Folder(f)) => at = Some(f.id),
                _ => return Err(FsError::NotFound),
            }
        }
        Ok(at)
    }

    /// The live folder or document named `name` in `parent`, compared as
    /// core keeps names unique. The store filters documents by name, so a
    /// large folder is not read whole for one lookup.
    pub(crate) async fn child(
        &self,
        actor: &Actor,
        space: &Space,
        parent: Option<FolderId>,
        name: &str,
    ) -> FsResult<Option<Child>> {
        let Ok(wanted) = DocumentName::parse(name) else {
            return Ok(None);
        };
        let key = wanted.unique_key();
        let query = DocumentQuery::default().name_contains(wanted.as_str());
        let mut offset = 0;
        loop {
            let listing = self
                .app
                .browse_folder(
                    actor,
                    space.id,
                    parent,
                    &query,
                    Page::new(offset, Page::MAX_LIMIT),
                )
                .await
                .map_err(fs_error)?;
            if offset == 0
                && let Some(f) = listing.folders.iter().find(|f| f.name.unique_key() == key)
            {
                return Ok(Some(Child::Folder(f.clone())));
            }
            let seen = listing.documents.items.len() as u64;
            if let Some(d) = listing
                .documents
                .items
                .into_iter()
                .find(|d| d.name.unique_key() == key)
            {
                return Ok(Some(Child::Document(d)));
            }
            // The filter is a substring: in a large folder, other names
            // may hold this one; read on until the exact one or the end.
            offset += seen;
            if seen == 0 || offset >= listing.documents.total {
                return Ok(None);
            }
        }
    }
}
