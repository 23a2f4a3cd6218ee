//! # passerelle-dav
//!
//! A driving adapter: a node's spaces as a WebDAV tree (ADR 0007 §2, §4),
//! on `dav-server`. `/dav/` lists the spaces the user is a member of (by
//! slug); below, folders and documents by name. Every operation is a core
//! use case run as the authenticated actor, so rights, name rules, locks
//! and the audit log are core's; this crate translates paths to ids and
//! errors to statuses. The node's composition hands in its role's writes
//! (applied on the internal node, queued on an edge) and, on the internal
//! node only, its lock use cases.
//!
//! It depends on core and on `passerelle-http-common` (client address,
//! trusted proxies), never on another adapter; core does not depend on it
//! (nor on dav-server or axum).
//!
//! Modules:
//! - `error`: the one mapping of `CoreError` to dav-server's `FsError`.
//! - `paths`: from a DAV path to a space, folder or document.
//! - `meta`: metadata and directory entries as dav-server reads them.
//! - `reads`: listings and ranged reads of content.
//! - `propfind`: PROPFIND, answered by this crate (not dav-server).
//! - `answer`: what each resource answers to it.
//! - `multistatus`: the XML of its answer.
//! - `live`: the live properties of DAV and Windows, from metadata.
//! - `put`: PUT streamed into core's uploads as it arrives.
//! - `writes`: MKCOL, DELETE (trash), MOVE and COPY.
//! - `props`: Passerelle's live properties and the dead ones (core's
//!   `Properties`).
//! - `fs`: the `GuardedFileSystem` that dispatches to the above.
//! - `locks`: the `DavLockSystem` over core's lock model.
//! - `service`: the handler, its checks before dav-server, the router.

mod answer;
mod error;
mod fs;
mod live;
mod locks;
mod meta;
mod multistatus;
mod paths;
mod propfind;
mod props;
mod put;
mod reads;
mod service;
mod writes;

pub use fs::{DavCredentials, PasserelleFs};
pub use props::NAMESPACE;
pub use service::{DavService, router};
