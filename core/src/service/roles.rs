//! The two node roles as two types (ADR 0005 §3): [`InternalApp`] holds the
//! use cases only the authoritative node has (writes applied at once,
//! administration, sharing, the ledger of edge operations, the replication
//! link), [`EdgeApp`] those only a DMZ node has (contractors' writes queued
//! in the outbox, batches applied from the internal node, purges, the
//! outbox as the link reads it). Both dereference to [`Passerelle`], the
//! parts they share (reads, logins, sessions, tokens, rights), so calling an
//! edge-only use case on the internal node, or writing a replica's rows
//! directly on an edge, does not compile.
//!
//! `Deref` here is composition, not inheritance: the shared part has no
//! behaviour that depends on which wrapper holds it, except what the role
//! decides inside core (contractors never authenticate on the internal
//! node, ADR 0002 invariant 5).
//!
//! What each role may call, checked by the compiler (these examples are
//! compiled by `cargo test`; the `compile_fail` ones must not compile):
//!
//! ```no_run
//! # async fn roles(internal: passerelle_core::InternalApp, edge: passerelle_core::EdgeApp) {
//! # let actor = passerelle_core::Actor::System;
//! # let space = passerelle_core::ids::SpaceId::new();
//! // Both: reads, through the shared part.
//! let _ = internal.get_space(&actor, space).await;
//! let _ = edge.get_space(&actor, space).await;
//! // The internal node writes at once and shares spaces; an edge lists
//! // its outbox.
//! let _ = internal.create_folder(&actor, space, None, "Plans").await;
//! let _ = internal.share_space(&actor, space, "edge-1").await;
//! let _ = edge.pending_operations(0, 10).await;
//! // Locks (check-out) exist on the internal node only.
//! let doc = passerelle_core::ids::DocumentId::new();
//! let _ = internal.locks().check_out(&actor, doc, None, None).await;
//! // An edge shows the internal node's locks it mirrors.
//! let _ = edge.mirrored_locks_on(&actor, passerelle_core::model::Resource::Document(doc)).await;
//! # }
//! ```
//!
//! An edge takes no lock (it only mirrors the internal node's, ADR 0007
//! "Locks seen on the edge", and the internal node judges a contractor's
//! write against its own when it arrives)…
//!
//! ```compile_fail
//! # async fn roles(edge: passerelle_core::EdgeApp) {
//! let _ = edge.locks();
//! # }
//! ```
//!
//! …nor share a space…
//!
//! ```compile_fail
//! # async fn roles(edge: passerelle_core::EdgeApp) {
//! # let actor = passerelle_core::Actor::System;
//! # let space = passerelle_core::ids::SpaceId::new();
//! let _ = edge.share_space(&actor, space, "edge-1").await;
//! # }
//! ```
//!
//! …nor write a replica's rows at once, outside its outbox…
//!
//! ```compile_fail
//! # async fn roles(edge: passerelle_core::EdgeApp) {
//! # let actor = passerelle_core::Actor::System;
//! # let space = passerelle_core::ids::SpaceId::new();
//! let _ = edge.create_folder(&actor, space, None, "Plans").await;
//! # }
//! ```
//!
//! …nor scan uploads (contractors' uploads are scanned on the internal
//! node, ADR 0010)…
//!
//! ```compile_fail
//! # fn roles(edge: passerelle_core::EdgeApp) {
//! let _ = edge.with_antivirus(std::sync::Arc::new(passerelle_core::fakes::MemAntivirus::new()));
//! # }
//! ```
//!
//! …and the internal node has no outbox.
//!
//! ```compile_fail
//! # async fn roles(internal: passerelle_core::InternalApp) {
//! let _ = internal.pending_operations(0, 10).await;
//! # }
//! ```

use std::ops::Deref;
use std::sync::Arc;

use crate::blob::BlobStore;
use crate::ports::{Clock, PasswordHasher, Repository};

use super::{AppliedWrites, CoreSettings, NodeRole, Passerelle, QueuedWrites};

/// The internal node's use cases: the authoritative repository.
#[derive(Clone, Debug)]
pub struct InternalApp {
    shared: Passerelle,
}

impl InternalApp {
    pub fn new(
        repo: Arc<dyn Repository>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        passwords: Arc<dyn PasswordHasher>,
        settings: CoreSettings,
    ) -> Self {
        Self {
            shared: Passerelle::new(NodeRole::Internal, repo, blobs, clock, passwords, settings),
        }
    }

    /// The same use cases, agents' passwords checked by the authority's
    /// directory (ADR 0009). Only this role has one: contractors are not
    /// in it.
    #[must_use]
    pub fn with_directory(mut self, directory: Arc<dyn crate::directory::Directory>) -> Self {
        self.shared.directory = Some(directory);
        self
    }

    /// The same use cases, the directory's groups granting the node's
    /// administration and space memberships as `mapping` says (ADR 0009
    /// §6), at each login and each directory sync.
    #[must_use]
    pub fn with_group_mapping(mut self, mapping: crate::directory::GroupMapping) -> Self {
        self.shared.groups = Arc::new(mapping);
        self
    }

    /// The same use cases, contractors' uploads scanned by `antivirus`
    /// before they are applied (ADR 0010). Only this role has one: the
    /// edge does not scan.
    #[must_use]
    pub fn with_antivirus(mut self, antivirus: Arc<dyn crate::antivirus::Antivirus>) -> Self {
        self.shared.antivirus = Some(antivirus);
        self
    }

    /// The use cases both roles offer, for driving adapters that serve both.
    pub fn shared(&self) -> &Passerelle {
        &self.shared
    }

    /// The same use cases, sending notices through `mailer` (ADR 0013).
    #[must_use]
    pub fn with_mailer(mut self, mailer: Arc<dyn crate::notify::mail::Mailer>) -> Self {
        self.shared.mailer = Some(mailer);
        self
    }

    /// The same use cases, reading the relay's delivery reports from
    /// `bounces` (ADR 0013 §7).
    #[must_use]
    pub fn with_bounces(mut self, bounces: Arc<dyn crate::notify::mail::BounceBox>) -> Self {
        self.shared.bounces = Some(bounces);
        self
    }

    /// The writes driving adapters share, applied at once on this node.
    pub fn writes(&self) -> AppliedWrites {
        AppliedWrites::new(self.clone())
    }
}

impl Deref for InternalApp {
    type Target = Passerelle;

    fn deref(&self) -> &Passerelle {
        &self.shared
    }
}

/// An edge's use cases: a replica of the shared spaces, written by the
/// internal node's batches; contractors' writes wait in its outbox.
#[derive(Clone, Debug)]
pub struct EdgeApp {
    shared: Passerelle,
}

impl EdgeApp {
    pub fn new(
        repo: Arc<dyn Repository>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        passwords: Arc<dyn PasswordHasher>,
        settings: CoreSettings,
    ) -> Self {
        Self {
            shared: Passerelle::new(NodeRole::Edge, repo, blobs, clock, passwords, settings),
        }
    }

    /// The use cases both roles offer, for driving adapters that serve both.
    pub fn shared(&self) -> &Passerelle {
        &self.shared
    }

    /// The writes driving adapters share, queued in this edge's outbox.
    pub fn writes(&self) -> QueuedWrites {
        QueuedWrites::new(self.clone())
    }

    /// The same use cases, sending contractors' notices through this
    /// edge's own relay (ADR 0013: the edge never relays through the LAN).
    #[must_use]
    pub fn with_mailer(mut self, mailer: Arc<dyn crate::notify::mail::Mailer>) -> Self {
        self.shared.mailer = Some(mailer);
        self
    }

    /// The same use cases, reading the relay's delivery reports from
    /// `bounces` (ADR 0013 §7).
    #[must_use]
    pub fn with_bounces(mut self, bounces: Arc<dyn crate::notify::mail::BounceBox>) -> Self {
        self.shared.bounces = Some(bounces);
        self
    }
}

impl Deref for EdgeApp {
    type Target = Passerelle;

    fn deref(&self) -> &Passerelle {
        &self.shared
    }
}
