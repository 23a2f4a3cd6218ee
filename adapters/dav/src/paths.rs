//! From a DAV path to what it names: the root, a space (by slug), a folder
//! or a document (by name, as core compares names: case-insensitively,
//! NFC). Core resolves the whole path in one read as the actor
//! (`resolve_path`), so what the actor cannot see is "not found", exactly
//! as what does not exist.
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
use passerelle_core::service::PathTarget;

use crate::error::fs_error;
use crate::fs::PasserelleFs;

/// A document and its current version, as a path names it.
#[derive(Clone, Debug)]
pub(crate) struct Doc {
    pub(crate) document: Document,
    pub(crate) version: Version,
    /// The display name of the version's author when the listing that
    /// found the document read it (empty: the account is gone); `None`:
    /// asked of core if a property needs it.
    pub(crate) author: Option<String>,
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
            Located::Root => None,
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
    /// Resolves `path` as the actor sees it (one core read).
    pub(crate) async fn locate(&self, actor: &Actor, path: &DavPath) -> FsResult<Located> {
        let segs = segments(path).ok_or(FsError::NotFound)?;
        let Some((slug, rest)) = segs.split_first() else {
            return Ok(Located::Root);
        };
        let found = self
            .app
            .resolve_path(actor, slug, rest)
            .await
            .map_err(fs_error)?;
        Ok(match found {
            PathTarget::Space(s) => Located::Space(Arc::new(s)),
            PathTarget::Folder(s, f) => Located::Folder(Arc::new(s), Arc::new(f)),
            PathTarget::Document(s, document, version) => {
                let doc = Doc {
                    document: *document,
                    version,
                    author: None,
                };
                Located::Document(Arc::new(s), Arc::new(doc))
            }
        })
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
