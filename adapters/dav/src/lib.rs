//! # passerelle-dav
//!
//! A driving adapter: the internal node's spaces as a WebDAV tree (ADR 0007
//! §2), on `dav-server`. `/dav/` lists the spaces the user is a member of
//! (by slug); below, folders and documents by name. Every operation is a
//! core use case run as the authenticated actor, so rights, name rules,
//! locks (once core has them) and the audit log are core's; this crate
//! translates paths to ids and errors to statuses.
//!
//! It depends on core and on `passerelle-http-common` (client address,
//! trusted proxies), never on another adapter; core does not depend on it
//! (nor on dav-server or axum). The edge node does not serve it.
//!
//! Modules:
//! - `auth`: HTTP Basic, accepted over TLS (through a trusted proxy) or
//!   from loopback only; through core's `authenticate_basic`.
//! - `error`: the one mapping of `CoreError` to dav-server's `FsError`.
//! - `paths`: from a DAV path to a space, folder or document.
//! - `meta`: metadata and directory entries as dav-server reads them.
//! - `reads`: listings and ranged reads of content.
//! - `writes`: PUT spooled to a temporary file, MKCOL, DELETE (trash),
//!   MOVE and COPY.
//! - `props`: Passerelle's live properties and the dead ones (core's
//!   `Properties`).
//! - `fs`: the `GuardedFileSystem` that dispatches to the above.
//! - `service`: the handler, its checks before dav-server, the router.

mod auth;
mod error;
mod fs;
mod meta;
mod paths;
mod props;
mod reads;
mod service;
mod writes;

pub use dav_server::ls::DavLockSystem;
pub use fs::{DavCredentials, PasserelleFs};
pub use props::NAMESPACE;
pub use service::{DavService, router};
