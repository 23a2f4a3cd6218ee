//! # passerelle-core
//!
//! The centre of the hexagon: domain types, rules and use cases of Passerelle,
//! and the ports (traits) that adapters implement. It depends on no framework:
//! no sea-orm, axum, tonic, rustls, notify, and no tokio runtime — only small
//! pure crates (serde, time, uuid, blake3, futures' traits).
//!
//! Modules:
//! - [`ids`], [`hash`], [`names`]: validated identifiers and names.
//! - [`role`]: roles and the rights table of DESIGN §2.
//! - [`model`]: entities (principals, spaces, folders, documents, versions…).
//! - [`locks`]: locks (check-out, WebDAV LOCK) and their [`locks::LockStore`]
//!   part of the transaction.
//! - [`doctype`]: document types and metadata validation, the default catalogue.
//! - [`audit`]: the BLAKE3 hash chain of the audit log.
//! - [`ports`]: `Repository`/`Tx`, `Clock`, `PasswordHasher`; [`blob`]: `BlobStore`;
//!   [`directory`]: the authority's directory (LDAP), for agents' logins;
//!   [`antivirus`]: the scanner of contractors' uploads (ClamAV).
//! - [`replication`]: invitations, change feed rows, outbox, applied-ops ledger.
//! - [`service`]: the use cases (`Passerelle`), authorization included;
//!   the writes driving adapters share ([`service::DocumentWrites`]: applied
//!   on the internal node, queued on an edge) and an actor's [`service::Rights`].
//! - [`properties`]: dead properties (WebDAV) per resource, their port and limits.
//! - [`search`]: what a search asks for; [`search::parse`], the lenient
//!   parser from what a user types (ADR 0006).
//! - [`signal`]: [`signal::ChangeSignal`], woken by every committed write.
//! - [`fakes`]: in-memory implementations of the ports, for tests.
//! - [`error`]: the `CoreError` of use cases.

pub mod antivirus;
pub mod audit;
pub mod blob;
pub mod directory;
pub mod doctype;
pub mod error;
pub mod fakes;
pub mod flows;
pub mod hash;
pub mod ids;
pub mod links;
pub mod locks;
pub mod model;
pub mod names;
pub mod notify;
pub mod ports;
pub mod properties;
pub mod replication;
pub mod role;
pub mod search;
pub mod second_factor;
pub mod service;
pub mod signal;

pub use error::CoreError;
pub use hash::ContentHash;
pub use service::{Actor, CoreSettings, EdgeApp, InternalApp, Passerelle};
