//! What dav-server reads of a resource (type, size, times, ETag) and of a
//! directory entry, built from core's spaces, folders and versions.

use std::time::SystemTime;

use dav_server::fs::{DavDirEntry, DavMetaData, FsFuture, FsResult};
use futures::FutureExt;
use passerelle_core::hash::ContentHash;
use passerelle_core::model::{Folder, Space, Version};
use passerelle_core::service::Waiting;
use time::OffsetDateTime;

/// Metadata of a collection (the root, a space, a folder) or a document.
#[derive(Clone, Debug)]
pub(crate) struct Meta {
    dir: bool,
    len: u64,
    modified: SystemTime,
    created: SystemTime,
    /// The content hash (hex) of a document's current version: the ETag a
    /// client compares, identical whatever path reads it.
    etag: Option<String>,
}

fn system(t: OffsetDateTime) -> SystemTime {
    SystemTime::from(t)
}

impl Meta {
    /// The root of the tree: no time of its own.
    pub(crate) fn root() -> Self {
        Self {
            dir: true,
            len: 0,
            modified: SystemTime::UNIX_EPOCH,
            created: SystemTime::UNIX_EPOCH,
            etag: None,
        }
    }

    pub(crate) fn space(s: &Space) -> Self {
        Self {
            dir: true,
            len: 0,
            modified: system(s.created_at),
            created: system(s.created_at),
            etag: None,
        }
    }

    pub(crate) fn folder(f: &Folder) -> Self {
        Self {
            dir: true,
            len: 0,
            modified: system(f.created_at),
            created: system(f.created_at),
            etag: None,
        }
    }

    /// A document as of `version` (its current one), created at `created`.
    /// Its ETag is its content hash, cut to 128 bits (below).
    pub(crate) fn document(version: &Version, created: OffsetDateTime) -> Self {
        Self {
            dir: false,
            len: version.size,
            modified: system(version.created_at),
            created: system(created),
            etag: Some(etag(&version.hash)),
        }
    }

    /// A document whose content, written by the reader, waits for the
    /// internal node (edge): as the reader will find it once applied.
    pub(crate) fn waiting(w: &Waiting, created: OffsetDateTime) -> Self {
        Self {
            dir: false,
            len: w.size,
            modified: system(w.at),
            created: system(created),
            etag: Some(etag(&w.hash)),
        }
    }

    /// A file being written, not stored yet.
    pub(crate) fn pending(len: u64) -> Self {
        Self {
            dir: false,
            len,
            modified: SystemTime::now(),
            created: SystemTime::now(),
            etag: None,
        }
    }
}

impl DavMetaData for Meta {
    fn len(&self) -> u64 {
        self.len
    }

    fn modified(&self) -> FsResult<SystemTime> {
        Ok(self.modified)
    }

    fn created(&self) -> FsResult<SystemTime> {
        Ok(self.created)
    }

    fn is_dir(&self) -> bool {
        self.dir
    }

    fn etag(&self) -> Option<String> {
        self.etag.clone()
    }
}

/// One entry of a listing, its metadata read with the listing.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) meta: Meta,
}

impl DavDirEntry for Entry {
    fn name(&self) -> Vec<u8> {
        self.name.as_bytes().to_vec()
    }

    fn metadata(&self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta: Box<dyn DavMetaData> = Box::new(self.meta.clone());
        futures::future::ready(Ok(meta)).boxed()
    }

    fn is_dir(&self) -> FsFuture<'_, bool> {
        futures::future::ready(Ok(self.meta.dir)).boxed()
    }
}

/// A version's ETag: the first 128 bits of its content hash, in hex. As
/// unique as the content for any purpose an ETag serves, and short enough
/// for clients that keep `If:` headers in small buffers (litmus truncates
/// a 64-digit one beside a lock token).
fn etag(hash: &ContentHash) -> String {
    let mut hex = hash.to_hex();
    hex.truncate(32);
    hex
}
